/*
 * htracrctl.c: main for htracrctl, the command-line client of htracrd.
 * Parses the global options, finds the command in cmd_table and runs
 * it. Runs with the invoking user's privileges only: it never needs
 * more, and every file it writes is opened as that user.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "cmd.h"
#include "log.h"

#define HTRACRCTL_SOCKET	"/run/htracr/htracr.sock"
#define HTRACRCTL_STDOUT_BUF	(1024 * 1024)

static void
usage(FILE *fp)
{
	const struct cmd_entry	**e;

	fprintf(fp, "usage: htracrctl [--socket PATH] [--json] [--no-color] "
	    "COMMAND [ARGS]\n\ncommands:\n");
	for (e = cmd_table; *e != NULL; e++)
		fprintf(fp, "  %s %s\n", (*e)->name, (*e)->usage);
	fprintf(fp, "\n'htracrctl COMMAND --help' shows one command's usage. "
	    "HTRACR_SOCKET sets the socket\n(default %s); --socket "
	    "overrides it.\n", HTRACRCTL_SOCKET);
}

/* Exact name, else a prefix matching exactly one command. */
static const struct cmd_entry *
find_cmd(const char *name)
{
	const struct cmd_entry	**e, *found = NULL;
	size_t			 len = strlen(name);

	for (e = cmd_table; *e != NULL; e++) {
		if (strcmp((*e)->name, name) == 0)
			return (*e);
		if (strncmp((*e)->name, name, len) == 0) {
			if (found != NULL) {
				log_warnx("ambiguous command '%s'; 'htracrctl "
				    "help' lists them", name);
				return (NULL);
			}
			found = *e;
		}
	}
	if (found == NULL)
		log_warnx("unknown command '%s'; 'htracrctl help' lists them",
		    name);
	return (found);
}

static int
help(int argc, char **argv)
{
	const struct cmd_entry	*e;

	if (argc < 2) {
		usage(stdout);
		return (CMD_OK);
	}
	if ((e = find_cmd(argv[1])) == NULL)
		return (CMD_USAGE);
	printf("usage: htracrctl %s %s\n", e->name, e->usage);
	return (CMD_OK);
}

/* "-h" or "--help" anywhere among a command's options. */
static int
wants_help(int argc, char **argv)
{
	int	 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return (1);
	}
	return (0);
}

/* Signals only set the flag; blocking I/O sees it and unwinds. */
static void
on_signal(int sig)
{
	client_interrupted = 1;
}

static void
signals(void)
{
	static const int	 sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction	 sa, old;
	size_t			 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* Ignored by whoever started us (nohup, &): keep it so. */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
	/*
	 * A reader that goes away ("| head") must not kill us before
	 * analyze has stopped its private daemon: writes fail instead.
	 */
	signal(SIGPIPE, SIG_IGN);
}

/* Consumes the global options; returns the index of the command. */
static int
global_options(int argc, char **argv, struct cmd_ctx *ctx, int *nocolor)
{
	int	 i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0)
			return (i + 1);
		if (strcmp(argv[i], "--json") == 0)
			ctx->json = 1;
		else if (strcmp(argv[i], "--no-color") == 0)
			*nocolor = 1;
		else if (strncmp(argv[i], "--socket=", 9) == 0)
			ctx->socket = argv[i] + 9;
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			ctx->socket = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			exit(CMD_OK);
		} else {
			log_warnx("unknown option '%s'", argv[i]);
			usage(stderr);
			exit(CMD_USAGE);
		}
	}
	return (i);
}

int
main(int argc, char **argv)
{
	struct cmd_ctx	 ctx;
	const char	*env;
	int		 i, rc, nocolor = 0;

	log_init("htracrctl", 0, 1);
	memset(&ctx, 0, sizeof(ctx));
	if ((env = getenv("HTRACR_SOCKET")) != NULL && *env != '\0')
		ctx.socket = env;
	else
		ctx.socket = HTRACRCTL_SOCKET;
	i = global_options(argc, argv, &ctx, &nocolor);
	if (i >= argc) {
		usage(stderr);
		return (CMD_USAGE);
	}
	if (strcmp(argv[i], "help") == 0)
		return (help(argc - i, argv + i));
	if ((ctx.entry = find_cmd(argv[i])) == NULL)
		return (CMD_USAGE);
	if (wants_help(argc - i, argv + i)) {
		printf("usage: htracrctl %s %s\n", ctx.entry->name,
		    ctx.entry->usage);
		return (CMD_OK);
	}
	if (ctx.json && !(ctx.entry->flags & CMD_JSON)) {
		log_warnx("%s has no JSON output", ctx.entry->name);
		return (cmd_usage(ctx.entry));
	}
	env = getenv("NO_COLOR");
	ctx.color = !nocolor && isatty(STDOUT_FILENO) &&
	    (env == NULL || *env == '\0');
	/* Sessions can fill megabytes of text: write it in large pieces. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, HTRACRCTL_STDOUT_BUF);
	/* One thread: no lock around each of those pieces (outfile.c). */
	__fsetlocking(stdout, FSETLOCKING_BYCALLER);
	signals();

	rc = ctx.entry->exec(&ctx, argc - i, argv + i);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		/* A reader that stopped reading knows why. */
		if (errno != EPIPE)
			log_warn("cannot write the output");
		if (rc == CMD_OK)
			rc = CMD_ERROR;
	}
	return (rc);
}
