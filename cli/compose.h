/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * berth compose: the Compose Specification as docker compose v2 reads it, and its commands over
 * the Engine API.
 *
 * compose-load.c turns the files (-f, several merged in order) into one canonical model, a JSON
 * object shaped as `docker compose config` prints it:
 *   {"name": P, "services": {S: {...}}, "networks": {N: {...}}, "volumes": {V: {...}},
 *    "secrets": {...}, "configs": {...}}
 * every service in one form: command/entrypoint as lists, environment and labels as maps of
 * strings, ports as {target, published, host_ip, protocol}, volumes as {type, source, target,
 * read_only}, networks as a map, depends_on as {S: {condition, restart, required}}, healthcheck
 * durations in nanoseconds, sizes in bytes.  Variables are interpolated from the environment and
 * the project's .env.  Every error names the file, the line and the key:
 *   "compose.yml:12: services.web.ports[0]: invalid port \"x\""
 * compose-cmd.c runs the commands on that model.
 */

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"

/* docker compose v2's exit codes (its metrics' failure categories) */
#define COMPOSE_EXIT_FILE_NOT_FOUND 14
#define COMPOSE_EXIT_PARSE	    15

struct compose_opts {
	const char *const *files; /* -f, in order; none: compose.yaml & co in the working dir */
	size_t n_files;
	const char *project_name;      /* -p */
	const char *project_directory; /* --project-directory */
	const char *env_file;	       /* --env-file */
	const char *const *profiles;   /* --profile */
	size_t n_profiles;
	char **environ; /* the process environment (NULL: environ) */
};

struct compose_project {
	char *name;
	char *workdir;	    /* absolute */
	char *config_files; /* absolute paths, comma-separated (the label's value) */
	json_t *model;	    /* the canonical model (services disabled by profiles left out) */
	json_t *env;	    /* the interpolation environment: .env, then the process's */
	json_t *locs;	    /* "services.web.image" -> "file:line" */
};

/*
 * Load the project.  Returns 0, or the exit code (COMPOSE_EXIT_*, 1) with the message in *err
 * (malloc'd).  Nothing is asked of the daemon.
 */
int compose_load(const struct compose_opts *o, struct compose_project *p, char **err);
void compose_project_release(struct compose_project *p);

/*
 * compose-go's template.Substitute: $VAR ${VAR} ${VAR:-def} ${VAR-def} ${VAR:?msg} ${VAR?msg}
 * ${VAR:+alt} ${VAR+alt}, defaults interpolated in turn, "$$" for "$".  env: name -> string.
 * Unset variables without a default become "" and are added to *unset (when not NULL) for the
 * warning.  Returns the result (malloc'd), or NULL with *err.
 */
char *compose_interpolate(const char *s, const json_t *env, json_t *unset, char **err);

/*
 * compose's merge of an override service into a base one (both canonical): scalars replaced,
 * maps merged key by key, ports/expose/dns... appended without duplicates, volumes merged by
 * target, command/entrypoint/healthcheck.test replaced.  Modifies base.
 */
void compose_merge_service(json_t *base, const json_t *over);

/* shellwords.Parse as compose-go splits a string command: quotes and backslashes. NULL with *err
 * on an unterminated quote. */
json_t *compose_shell_split(const char *s, char **err);

/* The service's config hash (sha256 hex of its canonical JSON, replicas left out). */
char *compose_config_hash(const json_t *service);

/* The services in depends_on order (dependencies first), names of the model. */
char **compose_order(const json_t *model);

/* Parse a dotenv file (.env, env_file): into out (name -> string); env resolves bare names.
 * Returns 0, or -1 with *err. */
int compose_dotenv_parse(const char *path, const json_t *env, json_t *out, char **err);

/* The YAML text of a JSON value (block style), for `config`; malloc'd. */
char *compose_to_yaml(const json_t *j);
