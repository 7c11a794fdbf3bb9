/*
 * ipc.c: message framing and a bounded output queue for the private
 * capture<->analyzer socketpair. Runs in both htracrd processes; needs
 * no privilege and opens nothing.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipc.h"
#include "xmalloc.h"

void
ipc_buf_init(struct ipc_buf *b, size_t size)
{
	b->data = xmalloc(size);
	b->size = size;
	b->off = b->used = 0;
}

void
ipc_buf_free(struct ipc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->size = b->off = b->used = 0;
}

/* Moves unsent bytes to the front. */
static void
ipc_buf_compact(struct ipc_buf *b)
{
	if (b->off == 0)
		return;
	memmove(b->data, b->data + b->off, b->used - b->off);
	b->used -= b->off;
	b->off = 0;
}

/*
 * Bytes that can be appended. Unsent bytes move to the front only when
 * the tail runs short and no more of them are left than were sent, so
 * no byte is moved more than once on average. Moving them whenever the
 * tail ran short moved a backlog of 6 MiB for every 200 KiB the analyzer
 * took, and a capture process behind it spent its time copying instead
 * of emptying the kernel's ring.
 */
size_t
ipc_buf_room(struct ipc_buf *b)
{
	if (b->size - b->used < b->size / 4 && b->off >= b->used - b->off)
		ipc_buf_compact(b);
	return (b->size - b->used);
}

size_t
ipc_buf_pending(const struct ipc_buf *b)
{
	return (b->used - b->off);
}

/* Queues one whole message; -1 (nothing queued) if it does not fit. */
int
ipc_buf_put(struct ipc_buf *b, uint32_t type, const void *p, size_t len)
{
	struct ipc_hdr	 h = { type, (uint32_t)len };

	if (len > IPC_MAX_PAYLOAD || ipc_buf_room(b) < sizeof(h) + len)
		return (-1);
	memcpy(b->data + b->used, &h, sizeof(h));
	if (len > 0)
		memcpy(b->data + b->used + sizeof(h), p, len);
	b->used += sizeof(h) + len;
	return (0);
}

/* Writes what the non-blocking fd takes now. -1 if the peer is gone. */
int
ipc_buf_flush(struct ipc_buf *b, int fd)
{
	ssize_t	 n;

	while (b->off < b->used) {
		n = write(fd, b->data + b->off, b->used - b->off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return (0);
			return (-1);
		}
		b->off += (size_t)n;
	}
	if (b->off == b->used)
		b->off = b->used = 0;
	return (0);
}

/* Ports as the capture process accepts them: 1..64 ports, none zero. */
int
ipc_ports_valid(const struct ipc_ports *p)
{
	uint32_t	 i;

	if (p->nports == 0 || p->nports > PROTO_MAX_PORTS)
		return (0);
	for (i = 0; i < p->nports; i++)
		if (p->ports[i] == 0)
			return (0);
	return (1);
}

/* An interface name: 1..15 bytes of [A-Za-z0-9._:-]. */
int
ipc_ifname_valid(const char *name, size_t len)
{
	size_t	 i;

	if (len == 0 || len > PROTO_MAX_IFNAME)
		return (0);
	for (i = 0; i < len; i++) {
		char	 c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == '-' || c == ':'))
			return (0);
	}
	return (1);
}

/*
 * A start command: a NUL-terminated interface name, valid ports and a
 * DNS switch that is 0 or 1.
 */
int
ipc_start_valid(const struct ipc_start *st)
{
	if (memchr(st->ifname, '\0', sizeof(st->ifname)) == NULL ||
	    st->dns > 1)
		return (0);
	return (ipc_ifname_valid(st->ifname, strlen(st->ifname)) &&
	    ipc_ports_valid(&st->ports));
}

/*
 * "tcp and (port 80 or port 8080)", from ports ipc_ports_valid
 * accepted; with dns, "(that) or ((udp or tcp) and port 53)". With
 * len IPC_FILTER_MAX it is never cut.
 */
void
ipc_filter_string(const struct ipc_ports *p, int dns, char *buf, size_t len)
{
	size_t	 off;
	uint32_t i;

	off = (size_t)snprintf(buf, len, "%stcp and (", dns ? "(" : "");
	for (i = 0; i < p->nports && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%sport %u",
		    i > 0 ? " or " : "", (unsigned)p->ports[i]);
	if (off < len)
		snprintf(buf + off, len - off, "%s", dns ?
		    ")) or ((udp or tcp) and port 53)" : ")");
}

/*
 * Whether buf (len bytes read so far) starts with a whole message: 1
 * and its header in h, 0 if more bytes are needed, -1 if the header
 * declares more than IPC_MAX_PAYLOAD.
 */
int
ipc_msg_next(const u_char *buf, size_t len, struct ipc_hdr *h)
{
	if (len < sizeof(*h))
		return (0);
	memcpy(h, buf, sizeof(*h));
	if (h->len > IPC_MAX_PAYLOAD)
		return (-1);
	return (len - sizeof(*h) >= h->len);
}

/* The payload size of a command (analyzer -> capture); -1 if unknown. */
ssize_t
ipc_command_size(uint32_t type)
{
	switch (type) {
	case IPC_CMD_START:
		return (sizeof(struct ipc_start));
	case IPC_CMD_PORTS:
		return (sizeof(struct ipc_ports));
	case IPC_CMD_STOP:
	case IPC_CMD_STATS:
		return (0);
	}
	return (-1);
}

/* The payload size of a message to the analyzer; -1 if unknown. */
ssize_t
ipc_reply_size(uint32_t type)
{
	switch (type) {
	case IPC_STARTED:
		return (sizeof(struct ipc_started));
	case IPC_FAILED:
		return (sizeof(struct ipc_failed));
	case IPC_STOPPED:
	case IPC_STATS:
		return (sizeof(struct ipc_stats));
	case IPC_SPAN:
		return (sizeof(struct ipc_span));
	case IPC_PORTS_SET:
	case IPC_QUIT:
		return (0);
	}
	return (-1);
}

/*
 * The next frame of a frames batch p (len bytes) at *off: 1 with its
 * header in f and its bytes in *data, *off moved past them; 0 at the
 * end; -1 for a cut header or a frame longer than the snap length or
 * than what is left of the batch.
 */
int
ipc_frames_next(const u_char *p, size_t len, size_t *off,
    struct proto_frame *f, const u_char **data)
{
	if (*off >= len)
		return (0);
	if (len - *off < sizeof(*f))
		return (-1);
	memcpy(f, p + *off, sizeof(*f));
	if (f->caplen > PROTO_MAX_SNAPLEN ||
	    f->caplen > len - *off - sizeof(*f))
		return (-1);
	*data = p + *off + sizeof(*f);
	*off += sizeof(*f) + f->caplen;
	return (1);
}
