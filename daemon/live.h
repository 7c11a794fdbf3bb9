/*
 * live.h: live capture requests and the capture process's replies, in
 * the analyzer (live.c).
 */
#ifndef HTRACR_LIVE_H
#define HTRACR_LIVE_H

#include <sys/types.h>

#include <stdint.h>

#include <msgpack.h>

struct client;

void	live_start(struct client *, uint64_t, const msgpack_object *);
void	live_stop(struct client *, uint64_t, const msgpack_object *);
void	live_ports(struct client *, uint64_t, const msgpack_object *);
void	live_watch(struct client *, uint64_t, const msgpack_object *);
void	live_reply(uint32_t, const u_char *, size_t);
void	live_client_gone(struct client *);

#endif
