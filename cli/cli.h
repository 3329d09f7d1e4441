/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * berth, the CLI: docker's command line over the Engine API.  This header is shared by the
 * command files (cmd-*.c) and the core: the command tree and flag parser (cobra and pflag's rules:
 * command.c, flags.c), the connection to berthd (client.c), docker's formatter (format.c).
 *
 * Start-up cost is the budget: nothing is read, connected or allocated until a command needs it.
 * The command tree is static data; the connection is made on the first request.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api/api.h"
#include "base/base.h"
#include "sbuf.h"
#include "template.h"

#define CLI_NAME "berth"

/* docker's exit codes */
#define EXIT_DAEMON_ERROR  125 /* a daemon error in run/create, a bad flag */
#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND	   127

/* ---- flags ----------------------------------------------------------------------------------- */

enum flag_kind {
	FK_BOOL,
	FK_STRING,
	FK_INT,	   /* strconv.ParseInt(s, 0, 64) */
	FK_UINT,   /* strconv.ParseUint(s, 0, 64) */
	FK_LIST,   /* repeated: every value kept, in order */
	FK_FLOAT,  /* strconv.ParseFloat */
	FK_CUSTOM, /* a string checked by ->check (docker's opts types) */
};

#define FLAG_HIDDEN 1u
/*
 * pflag's MarkDeprecated: out of help and completion (give FLAG_HIDDEN too), and when given,
 * "Flag --NAME has been deprecated, USAGE" on stdout, usage being the advice ("use --timeout
 * instead").
 */
#define FLAG_DEPRECATED 2u

struct cli_flag {
	const char *name;
	char shorthand; /* 0: none */
	enum flag_kind kind;
	const char *type;  /* the value's word in help ("string", "list", "filter", "bytes"...) */
	const char *def;   /* the default as help shows it; NULL: the zero value */
	const char *usage; /* may hold '\n' (pflag indents the lines) */
	unsigned flags;
	/* docker's Value.Set() for FK_CUSTOM and FK_LIST: 0, or -1 with *err (malloc'd) */
	int (*check)(const char *value, char **err);
	/*
	 * docker's "version" annotation: the API version the flag needs ("1.48").  Given while the
	 * daemon speaks an older one, the command is refused before it runs, with docker's message;
	 * past the newest version berth speaks, the flag is left out of help (docker hides it when
	 * its daemon is older).
	 */
	const char *min_api;
};

struct flag_value {
	bool set;
	bool b;
	int64_t i;
	uint64_t u;
	double f;
	const char *s;	/* the last value given */
	const char **v; /* FK_LIST: every value */
	size_t n;
};

/* ---- commands -------------------------------------------------------------------------------- */

struct cli;
struct cli_args;

enum args_rule {
	ARGS_ANY,
	ARGS_NONE,  /* cli.NoArgs */
	ARGS_EXACT, /* cli.ExactArgs(min) */
	ARGS_MIN,   /* cli.RequiresMinArgs(min) */
	ARGS_MAX,   /* cli.RequiresMaxArgs(max) */
	ARGS_RANGE, /* cli.RequiresRangeArgs(min, max) */
};

/* what the arguments name, for shell completion */
enum complete_kind {
	COMPLETE_NONE,
	COMPLETE_CONTAINERS,	     /* any container */
	COMPLETE_CONTAINERS_RUNNING, /* running ones */
	COMPLETE_CONTAINERS_STOPPED,
	COMPLETE_IMAGES,
	COMPLETE_IMAGE_THEN_ANY, /* run/create: an image, then the command */
	COMPLETE_COMMANDS,	 /* help */
	COMPLETE_FILES,
	COMPLETE_NETWORKS,
	COMPLETE_VOLUMES,
	COMPLETE_NETWORK_THEN_CONTAINER, /* network connect/disconnect */
	COMPLETE_CONTEXTS,		 /* the context store's names */
};

struct cli_cmd {
	const char *name;
	const char *use; /* what follows the name in "Usage:": "[OPTIONS] CONTAINER..." */
	const char *short_desc;
	const char *long_desc;	    /* NULL: short_desc */
	const char *aliases_line;   /* the "Aliases:" section ("berth container ls, berth ps") */
	const char *const *aliases; /* other names under the same parent ("list", "ps") */
	const char *example;
	const struct cli_flag *flags;
	size_t n_flags;
	enum args_rule args;
	int min_args, max_args;
	int (*run)(struct cli *c, struct cli_args *a); /* returns the exit code */
	const struct cli_cmd *const *subs;	       /* a group: its commands (NULL-terminated) */
	int top;				       /* root help's "Common Commands" order */
	bool hidden;
	bool no_interspersed; /* flags end at the first argument (run, create, tag...) */
	bool raw_args;	      /* no flags at all: every word is an argument (__complete) */
	enum complete_kind complete;
	int complete_max;    /* complete names for this many arguments at most (0: any number) */
	const char *min_api; /* docker's "version" annotation of the command (as cli_flag's) */
};

/* "/containers/<escaped name><suffix>" (cmd-containers.c) */
void ctr_path(struct sbuf *b, const char *name, const char *suffix);
/*
 * method path?query for each container named in a's arguments, as docker's stop, kill, rm,
 * pause do: the names that worked printed, the errors joined on stderr after; 0 or 1.
 */
int each_container(struct cli *c, struct cli_args *a, const char *method, const char *suffix,
		   const char *query);
/* The same for objects under COLLECTION ("/volumes/"): COLLECTION<name>SUFFIX?QUERY. */
int each_named(struct cli *c, struct cli_args *a, const char *method, const char *collection,
	       const char *suffix, const char *query);

/*
 * TWIN names the same command object as CMD: a command listed both at the top and in a group
 * ("berth pull" and "berth image pull") is one object; .top only matters in the root's help.
 */
#define CLI_CMD_TWIN(twin, cmd) extern const struct cli_cmd twin __attribute__((alias(#cmd)))

/* a command and its twin under "berth container" */
#define CTR_CMD(var, cvar, nm, usage, desc, aliasline, fl, rule, mn, mx, fn, comp)                 \
	const struct cli_cmd var = {                                                               \
		.name = nm,                                                                        \
		.use = usage,                                                                      \
		.short_desc = desc,                                                                \
		.aliases_line = aliasline,                                                         \
		.flags = fl,                                                                       \
		.n_flags = sizeof(fl) / sizeof(struct cli_flag),                                   \
		.args = rule,                                                                      \
		.min_args = mn,                                                                    \
		.max_args = mx,                                                                    \
		.run = fn,                                                                         \
		.complete = comp,                                                                  \
	};                                                                                         \
	CLI_CMD_TWIN(cvar, var)

struct cli_args {
	const struct cli_cmd *cmd;
	const struct cli_cmd *parent; /* NULL for top-level commands */
	char path[64];		      /* "berth container ls" */
	struct flag_value *v;	      /* parallel to cmd->flags */
	char **argv;		      /* the arguments left after the flags */
	int argc;
	int dash_at; /* how many arguments came before "--" (-1: no "--") */
};

/* The parsed value of the command's flag called name (the flag must exist: checked). */
const struct flag_value *flag_get(const struct cli_args *a, const char *name);
static inline bool flag_bool(const struct cli_args *a, const char *name)
{
	return flag_get(a, name)->b;
}
static inline const char *flag_str(const struct cli_args *a, const char *name)
{
	const struct flag_value *v = flag_get(a, name);
	return v->s;
}
static inline bool flag_set(const struct cli_args *a, const char *name)
{
	return flag_get(a, name)->set;
}

/* ---- the program's state ------------------------------------------------------------------------- */

struct cli {
	/* global options */
	const char *config_opt; /* --config */
	const char *context_opt;
	const char **hosts;
	size_t n_hosts;
	bool debug;
	const char *log_level;

	/* resolved on first use */
	char *config_dir;
	char *host;	    /* "unix:///run/berth/berth.sock" */
	char *context_name; /* "default" or the context used */
	bool resolved;

	struct berth_http_client *http;
	char api_version[16]; /* "1.44" */
	bool version_known;   /* negotiated, from DOCKER_API_VERSION, or taken by the daemon */
	bool version_from_env;
	char *refused_body; /* a guessed version's 400 answer, read: not the version's refusal */
	size_t refused_len;

	json_t *config; /* <config dir>/config.json, once read (cli_config_file) */
	bool config_read;

	char *err;	/* the last error's message (printed by cli_fail) */
	int err_status; /* its HTTP status (0: not a daemon error) */
	int term_width;
};

/* ---- the command tree (commands.c) --------------------------------------------------------------- */

extern const struct cli_cmd cmd_root;
extern const struct cli_flag root_flags[];
extern const size_t n_root_flags;

/* Run the command line: parses, dispatches, returns the exit code. */
int cli_main(struct cli *c, int argc, char **argv);

/* ---- flags.c ----------------------------------------------------------------------------------- */

/*
 * pflag's parser over args (not including the command name), for flags (globals: more flags,
 * persistent ones, may be NULL).  interspersed: flags may follow arguments.  Values go to vals
 * (parallel to flags) and gvals (parallel to globals).  The arguments left are in *ret_args.
 * Returns 0; on error -1 with pflag's message ("unknown flag: --foo") in *err.  --help/-h set
 * *ret_help (-h also prints pflag's deprecation line).
 */
int flags_parse(const struct cli_flag *flags, size_t n, struct flag_value *vals,
		const struct cli_flag *globals, size_t ng, struct flag_value *gvals,
		bool interspersed, int argc, char **argv, char ***ret_args, int *ret_argc,
		int *ret_dash_at, bool *ret_help, char **err);

/* Left out of help and completion: FLAG_HIDDEN, or needs an API version newer than berth's. */
bool flag_hidden(const struct cli_flag *f);

/* pflag's FlagUsagesWrapped(cols) for a help page, appended to out. */
void flags_usage(struct sbuf *out, const struct cli_flag *flags, size_t n, int cols,
		 const char *config_default);

/* docker's opts: checks usable as cli_flag.check */
int check_filter(const char *value, char **err);	     /* "key=value" */
int check_bytes(const char *value, char **err);		     /* MemBytes: "32m", "1g" */
int check_bytes_or_unlimited(const char *value, char **err); /* -1 too */
int check_decimal(const char *value, char **err);	     /* NanoCPUs: "1.5" */
int check_duration(const char *value, char **err);	     /* Go durations */
int check_env(const char *value, char **err);		     /* "K=V" or "K" */
int check_label(const char *value, char **err);
int check_ulimit(const char *value, char **err);
int check_key_value(const char *value, char **err); /* "k=v" */
/* go-units RAMInBytes ("32m", "1.5g"): 0, or -1 when s is not a size. */
int ram_in_bytes(const char *s, int64_t *ret);

/* ---- command.c: help and argument checks ------------------------------------------------------ */

/* The help page of a command (cobra's usage template, docker's layout), to out. */
void cmd_help(struct cli *c, struct sbuf *out, const struct cli_cmd *cmd,
	      const struct cli_cmd *parent, const char *path);
/* "Usage:  berth ps [OPTIONS]" line's tail: the command path and its use. */
void cmd_use_line(struct sbuf *out, const struct cli_cmd *cmd, const char *path);

/* ---- client.c: talking to berthd --------------------------------------------------------------- */

/* Set c->err (and return -1): the message cli_fail() will print. */
int cli_errorf(struct cli *c, const char *fmt, ...) BERTH_PRINTF(2, 3);
/* Print c->err to stderr and return code. */
int cli_fail(struct cli *c, int code);
/*
 * The daemon's version as negotiated (connects and pings when no request has settled it yet);
 * NULL with c->err.  Requests need not ask first: they go out at berth's newest version and
 * negotiate only when the daemon refuses it (client.c).
 */
const char *cli_api_version(struct cli *c);

struct cli_response {
	int status;
	char *body; /* NUL-terminated; NULL when streamed */
	size_t len;
	json_t *json; /* the body parsed, for 2xx JSON answers */
};
void cli_response_release(struct cli_response *r);

/*
 * One request to berthd: method, path with its query ("/containers/json?all=1"; the version
 * prefix is added), an optional JSON body.  A 2xx answer fills *resp (the whole body, and its
 * JSON when it is JSON).  Returns 0; -1 with c->err set ("Error response from daemon: ...",
 * "Cannot connect to the Docker daemon at ...") and c->err_status.
 */
int cli_call(struct cli *c, const char *method, const char *target, const json_t *body,
	     struct cli_response *resp);

/*
 * Begin a request whose answer is read as a stream (events, logs): on a 2xx answer returns 0 and
 * the body is then read with cli_stream_read(); otherwise as cli_call.
 */
int cli_call_stream(struct cli *c, const char *method, const char *target, const json_t *body);
/* The same with one more header ("X-Registry-Auth: ...", NULL: none). */
int cli_call_stream_h(struct cli *c, const char *method, const char *target, const json_t *body,
		      const char *header);
ssize_t cli_stream_read(struct cli *c, void *buf, size_t len);

/*
 * Send a request whose body is read from fd until its end, in chunks (load's and import's
 * archives).  The answer is then as cli_call_stream's: 0 on a 2xx answer, to be read with
 * cli_stream_read(); -1 with c->err otherwise.  A daemon that answers before it has the whole
 * body (a refused archive) is heard: what it said is the error.  When reading fd fails, the error
 * is docker's: 'error during connect: Post "http://...": read NAME: is a directory' (name: what
 * to call fd in it).
 */
int cli_call_upload(struct cli *c, const char *method, const char *target, const char *content_type,
		    int fd, const char *name);
/*
 * A request on a connection of its own (run's attach and wait, which stay open while the next
 * requests go on the main one): *h is connected when NULL.  upgrade: docker's hijack headers
 * (Connection: Upgrade, Upgrade: tcp).  On a 2xx or 101 answer returns 0 with the head read;
 * -1 with c->err otherwise.
 */
int cli_call_on(struct cli *c, struct berth_http_client **h, const char *method, const char *target,
		const json_t *body, bool upgrade);
/* The answer's Content-Type (valid until the next request); NULL when none. */
const char *cli_response_header(struct cli *c, const char *name);

/* <config dir>/config.json ($DOCKER_CONFIG, --config, ~/.docker), read once; NULL when absent
 * or unreadable (docker then goes on with the defaults). Borrowed. */
json_t *cli_config_file(struct cli *c);

/* The config directory (--config, DOCKER_CONFIG, ~/.docker), found once; owned by c. */
const char *cli_config_dir(struct cli *c);
/* berthd's socket, the default context's endpoint when no -H, BERTH_HOST or DOCKER_HOST says. */
const char *cli_default_host(void);

/* Go's text of an errno ("no such file or directory": strerror's, in lower case), appended. */
void go_errno(struct sbuf *b, int e);

/* Escape s for a URL query value (appended). */
void url_escape(struct sbuf *out, const char *s);
/* Escape s for a URL path as Go's url.URL does (image names: "/" ":" "@" stay). */
void url_path_escape(struct sbuf *out, const char *s);
/* docker's filters= JSON from "k=v" flag values: {"k":{"v":true}}; NULL when there are none. */
char *filters_json(const struct flag_value *filters);
/* The same with more filters: extra is "key", "value", ..., NULL (may be NULL). */
char *filters_json_with(const struct flag_value *filters, const char *const *extra);

/* ---- output ---------------------------------------------------------------------------------- */

/* The terminal's width (fd 0), 80 when not a terminal. */
int term_width(void);
/* Is fd a terminal (docker's streams' IsTerminal)? */
bool is_terminal(int fd);
void out_write(const char *s, size_t len);
void out_puts(const char *s);
void out_printf(const char *fmt, ...) BERTH_PRINTF(1, 2);
void out_flush(void);
void err_printf(const char *fmt, ...) BERTH_PRINTF(1, 2);

/* the client's version information (version, info) */
extern const char cli_git_commit[];
extern const char cli_build_time[];
