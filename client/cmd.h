/*
 * cmd.h: htracrctl's commands. Each command lives in client/cmd_<name>.c
 * and exports one struct cmd_entry; client/cmd_table.c lists them all.
 * The output formats of dump and analyze are one table too (cmd_dump.c).
 * Runs in htracrctl with the invoking user's privileges.
 */
#ifndef HTRACR_CMD_H
#define HTRACR_CMD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <msgpack.h>

struct client;
struct doc;

/* Exit statuses of every command. */
#define CMD_OK		0
#define CMD_ERROR	1
#define CMD_USAGE	2

/* What main parsed before the command name. */
struct cmd_ctx {
	const char		*socket;	/* daemon socket path */
	int			 json;		/* --json given globally */
	int			 color;		/* stdout is a colour terminal */
	const struct cmd_entry	*entry;		/* the command running */
};

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* arguments after the name */
	int		 flags;
#define CMD_JSON	0x1		/* accepts the global --json */
	int		(*exec)(struct cmd_ctx *, int, char **);
};

extern const struct cmd_entry	*cmd_table[];

extern const struct cmd_entry	 cmd_analyze_entry;
extern const struct cmd_entry	 cmd_delete_entry;
extern const struct cmd_entry	 cmd_diff_entry;
extern const struct cmd_entry	 cmd_dump_entry;
extern const struct cmd_entry	 cmd_explain_entry;
extern const struct cmd_entry	 cmd_export_entry;
extern const struct cmd_entry	 cmd_keys_entry;
extern const struct cmd_entry	 cmd_load_entry;
extern const struct cmd_entry	 cmd_ports_entry;
extern const struct cmd_entry	 cmd_replay_entry;
extern const struct cmd_entry	 cmd_sessions_entry;
extern const struct cmd_entry	 cmd_show_entry;
extern const struct cmd_entry	 cmd_start_entry;
extern const struct cmd_entry	 cmd_status_entry;
extern const struct cmd_entry	 cmd_stop_entry;
extern const struct cmd_entry	 cmd_watch_entry;

/* Options every renderer of a session document understands. */
struct render_opts {
	int		 color;		/* ANSI colour allowed */
	int		 packets;	/* the document holds packets: show them */
	int		 with_keys;	/* pcapng: the session's TLS key log in it */
};

/*
 * An output format of dump and analyze: a renderer of the session
 * document (doc, or doc_opts when it needs the options; stream, when
 * set, is used instead to print the detail as it arrives), or, with
 * none of them, the raw frames as a pcap file. One line each in
 * cmd_dump.c.
 */
struct cmd_format {
	const char	*name;
	int		 binary;	/* never written to a terminal */
	int		 headers;	/* shows messages' header lists */
	int		(*doc)(FILE *, const struct doc *);
	int		(*doc_opts)(FILE *, const struct doc *,
			    const struct render_opts *);
	int		(*stream)(FILE *, struct client *, uint64_t,
			    const struct render_opts *);
};

const struct cmd_format	*cmd_dump_find(const char *);
const char		*cmd_dump_names(void);
/* Writes session (0: the newest) in fmt to fp; -1 after reporting why. */
int	 cmd_dump_write(struct client *, const struct cmd_format *, uint64_t,
	    FILE *, const struct render_opts *);

struct pcapfile;
struct keyfile;
/*
 * Streams an opened capture file to the daemon as a new session (load
 * and analyze), keeping in the daemon what keep says (below), with the
 * TLS key log kf (NULL: none) sent before the frames; *summary is the
 * session summary, valid until the next reply is read.
 */
int	 cmd_load_stream(struct client *, struct pcapfile *, const char *,
	    const uint16_t *, size_t, int, struct keyfile *,
	    msgpack_object *);
#define CMD_KEEP_FRAMES		0x1	/* raw frames and body bytes */
#define CMD_KEEP_PACKETS	0x2	/* each connection's packet records */
#define CMD_KEEP_HEADERS	0x4	/* every header of every message */
/* Not kept: the file itself handed over (a daemon with --take-files). */
#define CMD_LOAD_HANDED		0x8

/* Helpers shared by the commands (cmd.c). */
int	 cmd_usage(const struct cmd_entry *);
int	 cmd_parse_ports(const char *, uint16_t *, size_t *);
int	 cmd_parse_session(const char *, uint64_t *);
int	 cmd_connect(struct cmd_ctx *, struct client *);
/* Parses a command that takes no option but --json; -1 on a usage error. */
int	 cmd_json_only(struct cmd_ctx *, int, char **);
/* Packs "ports": [...] into a request map. */
void	 cmd_pack_ports(msgpack_packer *, const uint16_t *, size_t);
const char	*cmd_user_name(uint64_t, char *, size_t);

#endif
