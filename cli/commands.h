/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Every command of the tree, defined in its cmd-*.c file. */

#include "cli.h"

extern const struct cli_cmd cmd_completion, cmd_complete;
extern const struct cli_cmd cmd_events, cmd_system_events;
extern const struct cli_cmd cmd_images, cmd_image_ls, cmd_image_inspect, cmd_inspect;
extern const struct cli_cmd cmd_history, cmd_image_history, cmd_tag, cmd_image_tag;
extern const struct cli_cmd cmd_rmi, cmd_image_rm, cmd_image_prune;
extern const struct cli_cmd cmd_save, cmd_image_save, cmd_load, cmd_image_load;
extern const struct cli_cmd cmd_import, cmd_image_import;
extern const struct cli_cmd cmd_image, cmd_system_df;

/* Render the JSON message stream of the answer being read (load, import): docker's jsonmessage
 * display on stdout, progress on a terminal; an errorDetail is printed and is exit 1. */
int render_json_stream(struct cli *c);
/* Go's *PathError of open(2) on stderr ("open NAME: no such file or directory"); returns 1. */
int open_error(const char *name, int e);
extern const struct cli_cmd cmd_info, cmd_system_info;
extern const struct cli_cmd cmd_system;
extern const struct cli_cmd cmd_version;

/* the --format flag's help texts: for lists, and for one object (inspect, version, info) */
#define FORMAT_HELP_LIST                                                                           \
	"Format the output:\n"                                                                     \
	"'table':            a table with column headings (the default)\n"                         \
	"'table TEMPLATE':   a table of the columns a Go template gives\n"                         \
	"'json':             each item as one line of JSON\n"                                      \
	"'TEMPLATE':         a Go template's output for each item (docker's --format templates)"
#define FORMAT_HELP_INSPECT                                                                        \
	"Format the output:\n"                                                                     \
	"'json':             as one line of JSON\n"                                                \
	"'TEMPLATE':         a Go template's output (docker's --format templates)"

/* client facts for version and info */
const char *client_arch(void);
/* The client section of version/info as docker's clientVersion (new reference). */
json_t *client_version_json(struct cli *c, const char *api_version);

/* the Go types docker's templates see (shared with the unit tests) */
extern const struct tschema version_schema; /* system.versionInfo */
extern const struct tschema info_schema;    /* system.dockerInfo */
extern const struct tschema message_schema; /* events.Message */
extern const struct tmpl_func version_funcs[];
