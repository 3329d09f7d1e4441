/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * berthd's shared state and the internal APIs its parts call each other through.
 *
 * Locking (DAEMON-DESIGN.md): one mutex, d->lock, guards every table of shared state -- today the
 * counts /info reports, the reloadable part of the configuration and the event ring; later the
 * containers, names, images, networks and volumes.  It is held only for short state changes,
 * never across I/O to a client, a shim, a registry or the disk beyond a small atomic record
 * write.  Long operations run on the request's own thread without it, waiting on condition
 * variables (tied to d->lock) where they wait for state.  /_ping never takes it.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "base/base.h"

/* ---- logging (log.c) -------------------------------------------------------------------- */

enum daemon_log_level { DLOG_DEBUG, DLOG_INFO, DLOG_WARN, DLOG_ERROR, DLOG_FATAL };

/* "debug" ... "fatal" -> level; -EINVAL when unknown. */
int daemon_log_level_parse(const char *s);
const char *daemon_log_level_name(int level);
/* The level in force (atomic; SIGHUP may change it). */
void daemon_log_set_level(int level);
int daemon_log_get_level(void);
/* One line on stderr in logrus's text form: time="..." level=info msg="...". Any thread. */
void daemon_log(int level, const char *fmt, ...) BERTH_PRINTF(2, 3);
#define log_debug(...) daemon_log(DLOG_DEBUG, __VA_ARGS__)
#define log_info(...)  daemon_log(DLOG_INFO, __VA_ARGS__)
#define log_warn(...)  daemon_log(DLOG_WARN, __VA_ARGS__)
#define log_error(...) daemon_log(DLOG_ERROR, __VA_ARGS__)

/* ---- configuration (config.c) ----------------------------------------------------------- */

struct daemon_config {
	char **hosts;	 /* unix://PATH, fd://, fd://N */
	char *data_root; /* /var/lib/berth */
	char *exec_root; /* /run/berth */
	char *pidfile;	 /* exec_root/berthd.pid */
	int log_level;	 /* enum daemon_log_level */
	char *config_file;
	bool config_file_given; /* --config-file on the command line: it must exist */

	/* daemon.json keys berth serves (docker's names); see docs/daemon.md */
	char *log_driver;	       /* json-file | none */
	json_t *log_opts;	       /* object of strings */
	json_t *default_ulimits;       /* {"nofile": {"Name":..,"Hard":..,"Soft":..}} */
	bool live_restore;	       /* default true */
	json_t *default_address_pools; /* [{"base": CIDR, "size": N}] */
	char *bip;
	char **dns;
	char **insecure_registries;
	char **registry_mirrors;
	char *storage_driver; /* overlay2 */
	/* which of the above came from a flag (for docker's flag/file conflict rule) */
	char **from_flags;
};

/*
 * Parse berthd's command line into *c (defaults first).  Returns 0, 1 when --help/--version
 * was answered (exit 0), or -EINVAL with the message in *err.
 */
int daemon_config_parse_args(int argc, char **argv, struct daemon_config *c,
			     struct berth_error **err);
/*
 * Read the configuration file (c->config_file) over *c: unknown keys, bad values and keys also
 * given as flags are refused (dockerd's wording).  A missing default file is fine.
 */
int daemon_config_load_file(struct daemon_config *c, struct berth_error **err);
void daemon_config_release(struct daemon_config *c);

/* ---- events (events.c) ------------------------------------------------------------------ */

#define DAEMON_EVENTS_RING 1024

struct daemon_event {
	uint64_t seq; /* 1, 2, ... in emission order */
	char *type;   /* container, image, network, volume, daemon, ... */
	char *action; /* create, start, die, reload, ... */
	char *actor_id;
	struct berth_key_value *attrs;
	size_t n_attrs;
	char *scope; /* "local" */
	int64_t time_ns;
};

struct daemon_events {
	struct daemon_event ring[DAEMON_EVENTS_RING];
	uint64_t next_seq;   /* seq of the next event; ring[(seq - 1) % N] holds seq */
	pthread_cond_t cond; /* with d->lock: broadcast on every event and at shutdown */
	unsigned listeners;  /* /events followers now (Info.NEventsListener) */
};

/* ---- the daemon ------------------------------------------------------------------------- */

/* What /info counts.  Whoever changes the container and image tables keeps these (d->lock). */
struct daemon_counts {
	unsigned containers, running, paused, stopped;
	unsigned images;
};

struct berthd {
	pthread_mutex_t lock;	     /* d->lock */
	struct daemon_config config; /* reloadable fields change under d->lock */
	char *id;		     /* engine id (data_root/engine-id) */
	int cgroup_version;	     /* 1 or 2, from statfs("/sys/fs/cgroup") */
	int64_t started_ns;
	struct daemon_counts counts;
	struct daemon_events events;
	bool stopping; /* under d->lock: followers end */

	struct berth_http_server *server;
	struct berth_api_router *router;
};

/* Initialise the state (lock, event ring); config is moved in. */
int daemon_state_init(struct berthd *d, struct daemon_config *config, struct berth_error **err);
void daemon_state_release(struct berthd *d);

/*
 * Emit an event: Docker's Message{Type, Action, Actor{ID, Attributes}, scope "local", time,
 * timeNano}.  attrs: n key/value pairs (copied).  The _locked form is for a caller that holds
 * d->lock (inside a state change); the other takes it.  Never fails the caller: an event that
 * cannot be allocated is dropped with a log line.
 */
void daemon_event_emit(struct berthd *d, const char *type, const char *action, const char *actor_id,
		       const struct berth_key_value *attrs, size_t n_attrs);
void daemon_event_emit_locked(struct berthd *d, const char *type, const char *action,
			      const char *actor_id, const struct berth_key_value *attrs,
			      size_t n_attrs);

/* Wake every /events follower so it sees d->stopping (shutdown). */
void daemon_events_shutdown(struct berthd *d);

/* Docker's event filter (daemon/events/filter.go): does ev pass f? */
bool daemon_event_matches(const struct daemon_event *ev, const struct berth_filters *f);

/* The event as Docker's JSON (with the legacy status/id/from fields for container and image). */
json_t *daemon_event_json(const struct daemon_event *ev);

/* ---- routes (one file per resource) ----------------------------------------------------- */

/* system.c: /_ping, /version, /info, /events */
int daemon_routes_system(struct berthd *d, struct berth_error **err);
