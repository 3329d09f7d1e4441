/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command tree: docker's top-level commands and aliases, its management groups, and the
 * global options.  Each command is defined in its cmd-*.c file.
 */
#include "cli.h"
#include "commands.h"
#include "base/banned.h"

/* The global options, before the command's name.  After it only --help (cobra's own flag, kept
 * first here) is taken, as docker 28's, whose root flags are not persistent. */
const struct cli_flag root_flags[] = {
	{"help", 'h', FK_BOOL, NULL, NULL, "Print usage", FLAG_HIDDEN},
	{"config", 0, FK_STRING, "string", NULL, "Location of the client's configuration files"},
	{"context", 'c', FK_STRING, "string", NULL,
	 "Name of the context to use to connect to the daemon (overrides BERTH_HOST and "
	 "DOCKER_HOST env vars and the current context of the configuration)"},
	{"debug", 'D', FK_BOOL, NULL, NULL, "Enable debug mode"},
	{"host", 'H', FK_LIST, "list", NULL, "Daemon socket to connect to"},
	{"log-level", 'l', FK_STRING, "string", "info",
	 "Set the logging level (\"debug\", \"info\", \"warn\", \"error\", \"fatal\")"},
	{"version", 'v', FK_BOOL, NULL, NULL, "Print version information and quit"},
};
const size_t n_root_flags = ARRAY_SIZE(root_flags);

static const struct cli_cmd *const system_subs[] = {
	&cmd_system_df, &cmd_system_events, &cmd_system_info, &cmd_system_prune, NULL,
};

const struct cli_cmd cmd_system = {
	.name = "system",
	.short_desc = "Manage berth",
	.subs = system_subs,
};

static const struct cli_cmd *const image_subs[] = {
	&cmd_image_build,
	&cmd_image_history,
	&cmd_image_import,
	&cmd_image_inspect,
	&cmd_image_load,
	&cmd_image_ls,
	&cmd_image_prune,
	&cmd_image_pull,
	&cmd_image_push,
	&cmd_image_rm,
	&cmd_image_save,
	&cmd_image_tag,
	NULL,
};

const struct cli_cmd cmd_image = {
	.name = "image",
	.short_desc = "Manage images",
	.subs = image_subs,
};

static const struct cli_cmd *const container_subs[] = {
	&cmd_container_attach,	&cmd_container_commit,
	&cmd_container_cp,	&cmd_container_create,
	&cmd_container_diff,	&cmd_container_exec,
	&cmd_container_export,	&cmd_container_inspect,
	&cmd_container_kill,	&cmd_container_logs,
	&cmd_container_ls,	&cmd_container_pause,
	&cmd_container_port,	&cmd_container_prune,
	&cmd_container_rename,	&cmd_container_restart,
	&cmd_container_rm,	&cmd_container_run,
	&cmd_container_start,	&cmd_container_stats,
	&cmd_container_stop,	&cmd_container_top,
	&cmd_container_unpause, &cmd_container_update,
	&cmd_container_wait,	NULL,
};

const struct cli_cmd cmd_container = {
	.name = "container",
	.short_desc = "Manage containers",
	.subs = container_subs,
};

static const struct cli_cmd *const root_subs[] = {
	&cmd_attach,  &cmd_build,     &cmd_builder, &cmd_commit,  &cmd_complete, &cmd_completion,
	&cmd_compose, &cmd_container, &cmd_context, &cmd_cp,	  &cmd_create,	 &cmd_diff,
	&cmd_events,  &cmd_exec,      &cmd_export,  &cmd_history, &cmd_image,	 &cmd_images,
	&cmd_import,  &cmd_info,      &cmd_inspect, &cmd_kill,	  &cmd_load,	 &cmd_login,
	&cmd_logout,  &cmd_logs,      &cmd_network, &cmd_pause,	  &cmd_port,	 &cmd_ps,
	&cmd_pull,    &cmd_push,      &cmd_rename,  &cmd_restart, &cmd_rm,	 &cmd_rmi,
	&cmd_run,     &cmd_save,      &cmd_search,  &cmd_start,	  &cmd_stats,	 &cmd_stop,
	&cmd_system,  &cmd_tag,	      &cmd_top,	    &cmd_unpause, &cmd_update,	 &cmd_version,
	&cmd_volume,  &cmd_wait,      NULL,
};

const struct cli_cmd cmd_root = {
	.name = CLI_NAME,
	.use = "[OPTIONS] COMMAND [ARG...]",
	.short_desc = "A container engine that speaks docker's command line",
	.subs = root_subs,
};
