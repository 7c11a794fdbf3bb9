/*
 * cmd_table.c: the one list of htracrctl's commands, in the order
 * 'htracrctl help' shows them. A new command is one line here plus its
 * cmd_<name>.c. Runs in htracrctl with the invoking user's privileges.
 */
#include <stddef.h>

#include "cmd.h"

const struct cmd_entry	*cmd_table[] = {
	&cmd_analyze_entry,
	&cmd_load_entry,
	&cmd_sessions_entry,
	&cmd_show_entry,
	&cmd_explain_entry,
	&cmd_diff_entry,
	&cmd_watch_entry,
	&cmd_replay_entry,
	&cmd_dump_entry,
	&cmd_export_entry,
	&cmd_keys_entry,
	&cmd_delete_entry,
	&cmd_start_entry,
	&cmd_ports_entry,
	&cmd_status_entry,
	&cmd_stop_entry,
	NULL
};
