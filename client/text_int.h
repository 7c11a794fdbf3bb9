/*
 * text_int.h: what text.c (the session's tables) shares with
 * text_replies.c (the sessions list and the status): colours and the
 * port list. Private to those two files of htracrctl.
 */
#ifndef HTRACR_TEXT_INT_H
#define HTRACR_TEXT_INT_H

#include <stddef.h>

#include <msgpack.h>

#define TEXT_BOLD	"\033[1m"
#define TEXT_DIM	"\033[2m"
#define TEXT_RED	"\033[31m"
#define TEXT_GREEN	"\033[32m"
#define TEXT_YELLOW	"\033[33m"
#define TEXT_CYAN	"\033[36m"
#define TEXT_RESET	"\033[0m"

/* The port list of a session or status as "80,8080"; "any" if none. */
char	*text_ports(const msgpack_object *, char *, size_t);

#endif
