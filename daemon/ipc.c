/*
 * ipc.c: message framing and a bounded output queue for the private
 * capture<->analyzer socketpair. Runs in both htracrd processes; needs
 * no privilege and opens nothing.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipc.h"
#include "xmalloc.h"

#define IPC_NONE	SIZE_MAX

void
ipc_buf_init(struct ipc_buf *b, size_t size)
{
	b->data = xmalloc(size);
	b->size = size;
	b->off = b->used = 0;
	b->open = IPC_NONE;
}

void
ipc_buf_free(struct ipc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->size = b->off = b->used = 0;
}

/* Moves unsent bytes to the front; never while a message is open. */
static void
ipc_buf_compact(struct ipc_buf *b)
{
	if (b->off == 0 || b->open != IPC_NONE)
		return;
	memmove(b->data, b->data + b->off, b->used - b->off);
	b->used -= b->off;
	b->off = 0;
}

/*
 * Bytes that can be appended. Unsent bytes move to the front only when
 * the tail runs short, so a backlog is not copied at every append.
 */
size_t
ipc_buf_room(struct ipc_buf *b)
{
	if (b->size - b->used < b->size / 4)
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
	if (ipc_buf_begin(b, type) == -1)
		return (-1);
	if (len > 0 && ipc_buf_append(b, p, len) == -1) {
		b->used = b->open;
		b->open = IPC_NONE;
		return (-1);
	}
	ipc_buf_end(b);
	return (0);
}

/* Starts a message whose payload is added piecewise by ipc_buf_append. */
int
ipc_buf_begin(struct ipc_buf *b, uint32_t type)
{
	struct ipc_hdr	 h = { type, 0 };

	if (b->open != IPC_NONE || ipc_buf_room(b) < sizeof(h))
		return (-1);
	b->open = b->used;
	memcpy(b->data + b->used, &h, sizeof(h));
	b->used += sizeof(h);
	return (0);
}

int
ipc_buf_append(struct ipc_buf *b, const void *p, size_t len)
{
	if (b->open == IPC_NONE || len > b->size - b->used ||
	    ipc_buf_msglen(b) + len > IPC_MAX_PAYLOAD)
		return (-1);
	memcpy(b->data + b->used, p, len);
	b->used += len;
	return (0);
}

/* Whether a message begun by ipc_buf_begin is still open. */
int
ipc_buf_building(const struct ipc_buf *b)
{
	return (b->open != IPC_NONE);
}

size_t
ipc_buf_msglen(const struct ipc_buf *b)
{
	if (b->open == IPC_NONE)
		return (0);
	return (b->used - b->open - sizeof(struct ipc_hdr));
}

void
ipc_buf_end(struct ipc_buf *b)
{
	struct ipc_hdr	 h;

	if (b->open == IPC_NONE)
		return;
	memcpy(&h, b->data + b->open, sizeof(h));
	h.len = (uint32_t)ipc_buf_msglen(b);
	memcpy(b->data + b->open, &h, sizeof(h));
	b->open = IPC_NONE;
}

/*
 * Writes what the non-blocking fd takes now (only whole messages:
 * an open one stays queued). -1 if the peer is gone.
 */
int
ipc_buf_flush(struct ipc_buf *b, int fd)
{
	size_t	 end = b->open == IPC_NONE ? b->used : b->open;
	ssize_t	 n;

	while (b->off < end) {
		n = write(fd, b->data + b->off, end - b->off);
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
