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
extern const struct cli_cmd cmd_build, cmd_image_build, cmd_builder;
extern const struct cli_cmd cmd_image, cmd_system_df, cmd_system_prune;

/* Render the JSON message stream of the answer being read (load, import): docker's jsonmessage
 * display on stdout, progress on a terminal; an errorDetail is printed and is exit 1. */
int render_json_stream(struct cli *c);
/*
 * Feeds the JSON message stream of the answer being read through m (set up by the caller) to its
 * end: 0; 1 after printing why reading or the end failed; -1 when a message ended it with an
 * error (m->error, m->error_code), left to the caller to print.
 */
struct jsonmsg;
int read_json_stream(struct cli *c, struct jsonmsg *m);
/* Go's *PathError of open(2) on stderr ("open NAME: no such file or directory"); returns 1. */
int open_error(const char *name, int e);
/* The same for another operation op ("lstat", "chdir") on name. */
int path_error(const char *op, const char *name, int e);
extern const struct cli_cmd cmd_info, cmd_system_info;
extern const struct cli_cmd cmd_container, cmd_ps, cmd_container_ls, cmd_container_inspect;
extern const struct cli_cmd cmd_start, cmd_container_start, cmd_stop, cmd_container_stop;
extern const struct cli_cmd cmd_restart, cmd_container_restart, cmd_kill, cmd_container_kill;
extern const struct cli_cmd cmd_rm, cmd_container_rm, cmd_wait, cmd_container_wait;
extern const struct cli_cmd cmd_pause, cmd_container_pause, cmd_unpause, cmd_container_unpause;
extern const struct cli_cmd cmd_top, cmd_container_top, cmd_stats, cmd_container_stats;
extern const struct cli_cmd cmd_update, cmd_container_update;
extern const struct cli_cmd cmd_rename, cmd_container_rename, cmd_logs, cmd_container_logs;
extern const struct cli_cmd cmd_port, cmd_container_port, cmd_container_prune;
extern const struct cli_cmd cmd_run, cmd_container_run, cmd_create, cmd_container_create;
extern const struct cli_cmd cmd_cp, cmd_container_cp, cmd_diff, cmd_container_diff;
extern const struct cli_cmd cmd_commit, cmd_container_commit, cmd_export, cmd_container_export;

/* docker's prompt.Confirm: the question and " [y/N] " on stdout, a line from stdin. */
bool confirm(const char *question);
/* ---- attach.c: attached sessions (run, start -a, attach, exec) ---- */

struct stream_opts {
	const char *method,
		*target;       /* the hijacked request ("POST", "/containers/ID/attach?...") */
	const json_t *body;    /* its body (exec start's), or NULL */
	const char *resize;    /* "/containers/ID" or "/exec/ID": where SIGWINCH sizes go */
	const char *signal_to; /* container id that gets the signals (--sig-proxy); NULL */
	bool in, tty;
	bool nudge;		 /* attach: size +1 first, then the real one (docker's resizeTTY) */
	const char *detach_keys; /* docker's "ctrl-p,ctrl-q" form; NULL: that default */
};

/*
 * One attached session: the request hijacked, the terminal raw (with tty and stdin a terminal,
 * restored at the end), then(c, data) called once the stream is up (the start of run and
 * start -a), the size sent and followed (SIGWINCH), signals passed on, stdin copied in (through
 * docker's escape proxy with a tty) and the output out (raw with a tty, else docker's frames to
 * stdout and stderr) until it ends.  Returns 0, 1 with the error printed, or 2 when the user
 * typed the detach keys.
 */
int stream_session(struct cli *c, const struct stream_opts *o,
		   int (*then)(struct cli *c, void *data), void *data);

/* docker's term.ToBytes ("ctrl-p,ctrl-q", "a,ctrl-@"): -1 on a bad key. */
int detach_keys_parse(const char *s, unsigned char *out, size_t cap, size_t *ret_n);

/*
 * Attach to container id for run and start -a: stream_session with /containers/id/attach
 * (stdout, stderr, and stdin when in), then(c, id, data) called once it is up.
 */
int attach_and(struct cli *c, const char *id, bool in, bool tty, bool sig_proxy,
	       const char *detach_keys, int (*then)(struct cli *c, const char *id, void *data),
	       void *data);
/* The same with stdout and stderr each asked for or not (run -a). */
int attach_streams_and(struct cli *c, const char *id, bool in, bool out, bool err, bool tty,
		       bool sig_proxy, const char *detach_keys,
		       int (*then)(struct cli *c, const char *id, void *data), void *data);
/* The answer of a container's wait on connection w: its status code, or 125 with the error. */
int read_wait(struct cli *c, struct berth_http_client *w);
extern const struct cli_cmd cmd_exec, cmd_container_exec, cmd_attach, cmd_container_attach;

extern const struct cli_cmd cmd_system;
extern const struct cli_cmd cmd_network, cmd_network_create, cmd_network_ls, cmd_network_inspect;
extern const struct cli_cmd cmd_network_rm, cmd_network_prune, cmd_network_connect;
extern const struct cli_cmd cmd_network_disconnect;
extern const struct cli_cmd cmd_volume, cmd_volume_create, cmd_volume_ls, cmd_volume_inspect;
extern const struct cli_cmd cmd_volume_rm, cmd_volume_prune;
extern const struct cli_cmd cmd_pull, cmd_image_pull, cmd_push, cmd_image_push;
extern const struct cli_cmd cmd_search;
extern const struct cli_cmd cmd_login, cmd_logout;
/* "X-Registry-Auth: ..." for a registry (a reference's domain, "docker.io" for Docker Hub): the
 * config file's credentials for it, base64url of docker's AuthConfig JSON ("e30=" for none). */
char *registry_auth_header(struct cli *c, const char *domain);

/*
 * docker's consolidateIpam: the IPAM Config list of network create from --subnet, --ip-range,
 * --gateway and --aux-address values (one entry per subnet, in order, with its range, gateway and
 * auxiliary addresses).  NULL with docker's message in *err (malloc'd) when they do not pair up.
 */
json_t *ipam_configs(const struct flag_value *subnets, const struct flag_value *ranges,
		     const struct flag_value *gateways, const struct flag_value *aux, char **err);
/* sortorder.NaturalLess as a comparison (network and volume lists are sorted by name) */
int natural_cmp(const char *a, const char *b);
/* "k=v" values of a map or list flag as a JSON object ("k" alone maps to "") */
json_t *kv_object(const struct flag_value *v);
/*
 * A list command's output: the objects of list sorted by "Name", each made a row by ctx_init,
 * through format (a table gets header_pairs' titles).  Returns the exit code.
 */
struct ctx_obj;
int list_rows(json_t *list, const char *format, const char *const *header_pairs,
	      void (*ctx_init)(struct ctx_obj *c, json_t *obj, bool trunc), bool trunc);
/* --format, else the config file's config_key, else "table"; quiet_format with -q */
const char *list_format(struct cli *c, const char *flag, bool quiet, const char *config_key,
			const char *quiet_format);
/*
 * cli_call of method on path with the filters= query of filters_json fj (path alone when fj is
 * NULL; "&filters=" when path has a query already), as list and prune commands send it.
 */
int cli_call_filtered(struct cli *c, const char *method, const char *path, const char *fj,
		      struct cli_response *resp);
extern const struct cli_cmd cmd_compose;
extern const struct cli_cmd cmd_context;
extern const struct cli_cmd cmd_version;
/*
 * The fields of docker's system.clientVersion after Platform, as version's Client and info's
 * ClientInfo (which embeds it) show them to templates.
 */
/* clang-format off */
#define CLIENT_VERSION_FIELDS					\
	{"Version", NULL, 's', true, NULL},			\
	{"APIVersion", "ApiVersion", 's', true, NULL},		\
	{"DefaultAPIVersion", NULL, 's', true, NULL},		\
	{"GitCommit", NULL, 's', true, NULL},			\
	{"GoVersion", NULL, 's', true, NULL},			\
	{"Os", NULL, 's', true, NULL},				\
	{"Arch", NULL, 's', true, NULL},			\
	{"BuildTime", NULL, 's', true, NULL}
/* clang-format on */

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
