/*
 * keyfile.c: a TLS key log sent to the daemon. The file is read here,
 * with the invoking user's privileges, in pieces of at most
 * PROTO_KEYS_BATCH bytes, each a keys request (op 203) whose reply is
 * read before the next. A file that shrank was started again (a new
 * browser run): it is then read from its start. Runs in htracrctl.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "keyfile.h"
#include "log.h"
#include "proto.h"

int
keyfile_open(struct keyfile *kf, const char *path)
{
	memset(kf, 0, sizeof(*kf));
	kf->path = path;
	if ((kf->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("cannot read the key log %s", path);
		return (-1);
	}
	return (0);
}

void
keyfile_close(struct keyfile *kf)
{
	if (kf->fd != -1)
		close(kf->fd);
	kf->fd = -1;
}

static int
keyfile_piece(struct client *c, uint64_t session, const u_char *p,
    size_t len, int end, msgpack_object *res)
{
	msgpack_sbuffer	 sb;
	msgpack_packer	 pk;
	uint64_t	 id;

	id = client_begin(c, &sb, &pk, PROTO_OP_KEYS, 3);
	proto_pack_key(&pk, "session");
	msgpack_pack_uint64(&pk, session);
	proto_pack_key(&pk, "end");
	proto_pack_bool(&pk, end);
	proto_pack_key(&pk, "keys");
	msgpack_pack_bin(&pk, len);
	if (client_send(c, &sb, p, len) == -1)
		return (-1);
	return (client_read(c, id, NULL, res) == CLIENT_RESULT ? 0 : -1);
}

int
keyfile_send(struct client *c, struct keyfile *kf, uint64_t session,
    int end, msgpack_object *res)
{
	u_char		 buf[PROTO_KEYS_BATCH];
	struct stat	 st;
	ssize_t		 n;
	int		 rc = -1, last;

	if (fstat(kf->fd, &st) == 0 && st.st_size < kf->off)
		kf->off = 0;
	for (;;) {
		n = pread(kf->fd, buf, sizeof(buf), kf->off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_warn("cannot read the key log %s", kf->path);
			break;
		}
		kf->off += n;
		last = (size_t)n < sizeof(buf);
		rc = keyfile_piece(c, session, buf, (size_t)n, end && last, res);
		if (rc == -1 || last)
			break;
	}
	explicit_bzero(buf, sizeof(buf));
	return (rc);
}

void
keyfile_report(const struct keyfile *kf, const msgpack_object *res)
{
	const msgpack_object	*kl = proto_get(res, "keylog");
	uint64_t		 secrets = 0, malformed = 0, dropped = 0;

	if (kl == NULL)
		return;
	(void)proto_get_u64(kl, "secrets", &secrets);
	(void)proto_get_u64(kl, "malformed", &malformed);
	(void)proto_get_u64(kl, "dropped", &dropped);
	if (secrets == 0)
		log_warnx("the key log %s holds no TLS secrets", kf->path);
	if (malformed > 0)
		log_warnx("the key log %s has %llu malformed lines", kf->path,
		    (unsigned long long)malformed);
	if (dropped > 0)
		log_warnx("%llu secrets of the key log %s were dropped: too "
		    "many TLS sessions", (unsigned long long)dropped, kf->path);
}
