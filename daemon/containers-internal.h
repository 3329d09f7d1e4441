/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The container manager's parts (containers*.c, shim-client.c) and what they share.  The API the
 * rest of berthd (and the exec, network and volume issues) builds on is in daemon.h
 * ("containers"); docs/daemon.md is the long form.
 *
 * Locking.  Every field of struct daemon_container below "state" is guarded by d->lock; the
 * identity fields (id, dir, the JSON documents after create) never change but under d->lock
 * too (rename changes name).  An operation that changes what a container is -- start, stop,
 * restart, rm, rename, the follow-up of an exit (restart policy, AutoRemove) -- first passes
 * the container's gate (ctr_gate_enter: one at a time, waiting on c->cond), then works without
 * d->lock, taking it only for the state change itself.  kill, attach, logs, wait and inspect
 * never take the gate: a kill lands while a stop waits out its timeout.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"

struct berth_container; /* lib/runtime */

#define CTR_ID_LEN 64

/* docker's restart manager */
#define CTR_RESTART_FIRST_MS 100
#define CTR_RESTART_MAX_MS   60000
#define CTR_RESTART_RESET_NS (10LL * 1000 * 1000 * 1000)

struct shim_handle; /* shim-client.c */

/* An attach client whose socket waits for the container's next start. */
struct ctr_attach {
	int fd;
	bool in, out, err;
	char keys[16];
	size_t n_keys;
	char *pending; /* input the server had read ahead */
	size_t pending_len;
	struct ctr_attach *next;
};

struct daemon_container {
	/* ---- identity (set at create; name changes with rename) ---- */
	char *id;      /* 64 hex digits */
	char *name;    /* "/name" */
	char *created; /* RFC 3339 with nanoseconds */
	int64_t created_ns;
	char *dir;		   /* <data-root>/containers/<id> */
	char *log_path;		   /* dir/<id>-json.log; NULL with log driver none */
	json_t *config;		   /* Config as inspect shows it (image merged) */
	json_t *host_config;	   /* HostConfig as given, with docker's defaults */
	json_t *networking_config; /* as given */
	char *path;		   /* Path */
	json_t *args;		   /* Args */
	char *image_id;		   /* "sha256:..." */
	char *netns_path;	   /* the network namespace berthd made for it (while running) */
	json_t *mount_points;	   /* docker's MountPoints (containers-mounts.c) */
	json_t *net_settings;	   /* NetworkSettings.Networks while it runs on a bridge */
	/* net_settings as the container list writes it, made by the first list after a change
	 * (ctr_net_settings_changed); NULL: to be made.  Under d->lock. */
	char *net_settings_text;
	char *top_layer; /* the chain id its root stands on; NULL for no layers */
	/* --network container:<x> while running: the namespace joined (x's) and the directory
	 * whose hostname, hosts and resolv.conf it shares (x's), as docker shares them */
	char *joined_netns;
	char *net_files_dir;
	json_t *link_env;  /* legacy links on the default bridge: their variables, set at start */
	char *cgroup_path; /* its cgroup, from the runtime state (containers-stats.c) */
	pid_t cgroup_pid;  /* the init cgroup_path was read for (d->lock) */
	/* the primary network it was disconnected from while stopped (NetworkMode is "none"
	 * until a connect gives it a network again, as docker-compose 1.29 does after create) */
	char *detached_mode;

	/* ---- state (d->lock) ---- */
	bool running, paused, restarting, oom_killed, dead, removing;
	pid_t pid;
	int exit_code;
	char *error;
	char *started_at, *finished_at; /* RFC 3339; NULL: the zero time */
	int64_t started_ns;
	int restart_count;
	bool manually_stopped; /* docker's HasBeenManuallyStopped */
	bool removed;	       /* out of the table: waiters for "removed" wake */
	uint64_t exits;	       /* exits seen: a next-exit waiter waits for this to move */
	struct shim_handle *shim;
	struct ctr_attach *attaches; /* clients waiting for the next start */
	struct ctr_health *health;   /* State.Health (health.c); NULL without a healthcheck */
	/* restart policy */
	int64_t restart_timeout_ms; /* the restart manager's backoff, 0: next is the first */
	bool restart_cancel;	    /* stop/rm/kill: the pending restart must not happen */

	/* ---- the gate and waiters ---- */
	bool busy;	     /* an operation holds the gate */
	pthread_cond_t cond; /* with d->lock: gate, state changes, removal */
	unsigned refs;	     /* the table holds one; each user one */
};

/* c->net_settings was replaced or changed (d->lock held): the list writes it again */
static inline void ctr_net_settings_changed(struct daemon_container *c)
{
	free(c->net_settings_text);
	c->net_settings_text = NULL;
}

/* ---- the table (containers.c) ------------------------------------------------------------ */

/* Take a reference (d->lock held). */
struct daemon_container *ctr_ref(struct daemon_container *c);
/* Drop one (takes d->lock); frees the container once it is out of the table and unused. */
void ctr_unref(struct berthd *d, struct daemon_container *c);
void ctr_unref_locked(struct berthd *d, struct daemon_container *c);

/*
 * Docker's GetContainer: a full id, a name ("x" or "/x"), or a unique id prefix.  The caller
 * holds d->lock; the result is borrowed (take a reference to keep it).  NULL: none, with
 * *ret_ambiguous set when a prefix named several.
 */
struct daemon_container *ctr_find_locked(struct berthd *d, const char *ref, bool *ret_ambiguous);

/* ctr_find_locked with a reference taken, or the error Docker gives (404 No such container). */
int ctr_get(struct berthd *d, const char *ref, struct daemon_container **ret,
	    struct berth_error **err);

/* Pass the gate (see above).  -ENOENT when the container was removed while waiting. */
int ctr_gate_enter(struct berthd *d, struct daemon_container *c);
void ctr_gate_leave(struct berthd *d, struct daemon_container *c);

/* Write c's record (containers/<id>/config.json) whole: tmp + fsync + rename.  d->lock held. */
int ctr_save_locked(struct berthd *d, struct daemon_container *c, struct berth_error **err);

/* docker's State.Status word for c ("created", "running", ...) (d->lock held). */
const char *ctr_status_locked(const struct daemon_container *c);

/* Recount d->counts.containers/running/paused/stopped (d->lock held). */
void ctr_recount_locked(struct berthd *d);

/* A container event with docker's attributes (image, name, labels, + extra) (d->lock held). */
void ctr_event_locked(struct berthd *d, struct daemon_container *c, const char *action,
		      const struct berth_key_value *extra, size_t n_extra);

/*
 * Create a container from the body of POST /containers/create (api: the version string): docker's
 * checks and defaults (lib/dockerspec), the image resolved and merged, a name (given or random)
 * reserved, the record and the etc files made in containers/.tmp-<id> and renamed into place,
 * the "create" event.  *ret_id and *ret_warnings are the caller's.
 */
int ctr_create(struct berthd *d, const json_t *body, const char *name, const char *api,
	       char **ret_id, json_t **ret_warnings, struct berth_error **err);

/* Rename (gate held): docker's rules and messages, the "rename" event. */
int ctr_rename(struct berthd *d, struct daemon_container *c, const char *new_name,
	       struct berth_error **err);

/* The texts of /etc/hosts and /etc/resolv.conf docker derives from HostConfig (NULL: ENOMEM). */
/* Does an ExtraHosts entry ask for host-gateway? */
bool ctr_wants_host_gateway(const json_t *hc);
/* /etc/hosts: docker's defaults (the host's with host_net), then ExtraHosts, with host-gateway
 * as host_gw (the caller checks it is there when asked for). */
char *ctr_make_hosts(const json_t *hc, bool host_net, const char *host_gw);
char *ctr_make_resolv_conf(const json_t *hc, bool host_net);
/* Write dir/name (replacing it atomically). */
int ctr_write_small(const char *dir, const char *name, const char *text, struct berth_error **err);

/*
 * Networking (containers-net.c).  check: at create, the network exists and the port bindings
 * parse (docker's messages).  setup: at start on a bridge network, the network namespace, the
 * endpoint with its published ports, /etc/hosts and /etc/resolv.conf; patch_spec points the
 * spec's network namespace at it.  teardown: at exit (and when a start fails), all of it goes.
 * ports/port_summary: NetworkSettings.Ports and the list's Ports (d->lock held).
 */
int ctr_network_check(struct berthd *d, const json_t *hc, const json_t *cfg, const json_t *nc,
		      struct berth_error **err);
/* *ret_net_fd: for container:<x> whose namespace only x's init holds, that namespace opened
 * (ctr_open_donor_ns), for the shim as SHIM_FD_NET_NS; the caller closes it */
int ctr_network_setup(struct berthd *d, struct daemon_container *c, int *ret_net_fd,
		      struct berth_error **err);
int ctr_network_patch_spec(struct daemon_container *c, json_t *spec);
void ctr_network_teardown(struct berthd *d, struct daemon_container *c);
json_t *ctr_network_ports_locked(struct berthd *d, const struct daemon_container *c);
json_t *ctr_network_port_summary_locked(struct berthd *d, const struct daemon_container *c);
/*
 * Mounts (containers-mounts.c).  prepare: at create, Binds, Mounts, VolumesFrom and the
 * Config.Volumes left over, resolved into mount points (*ret), volumes made and held for id;
 * --mount tmpfs entries join hc's Tmpfs.  hold: the volumes of a loaded container held again
 * (d->lock).  release: at removal, let go of the volumes, removing the anonymous ones when
 * asked (rm -v, --rm).  for_spec: lib/dockerspec mounts (strings borrowed from c).  copy_up: at
 * a start, fill each new volume from the image's directory at its destination, once.
 */
/*
 * Set by the builder on its thread around ctr_create: a RUN's --mount binds may name its own
 * directories of the data root (build-mounts/, tmp/build-*); every other create refuses them.
 */
extern _Thread_local bool ctr_mounts_for_build;

int ctr_mounts_prepare(struct berthd *d, const char *id, json_t *hc, const json_t *cfg,
		       json_t **ret, struct berth_error **err);
void ctr_mounts_hold_locked(struct berthd *d, struct daemon_container *c);
void ctr_mounts_release(struct berthd *d, struct daemon_container *c, bool remove_anonymous);
int ctr_mounts_for_spec(const struct daemon_container *c, struct berth_dockerspec_mount **ret,
			size_t *ret_n);
void ctr_mounts_copy_up(struct berthd *d, struct daemon_container *c);

/* Volume subpaths (containers-subpath.c).  A subpath cleaned as docker joins it, or NULL when
 * its text alone leaves the volume (create's check); the subpath of a point opened beneath its volume (O_PATH, 0 or
 * -errno with err: EINVAL when a link leaves the volume, ENOENT when it cannot be reached);
 * pinning every subpath of c for a start (bind mounts under c->dir, named by the points'
 * "SubpathPin"), and taking the pins down again, also ones a crash left. */
char *ctr_subpath_clean(const char *path);
int ctr_subpath_open(const json_t *point, int *ret_fd, struct berth_error **err);
int ctr_subpaths_pin(struct berthd *d, struct daemon_container *c, struct berth_error **err);
/* leftovers: also when c has no subpath now (a crash's pins, before c's directory goes) */
void ctr_subpaths_unpin(struct berthd *d, struct daemon_container *c, bool leftovers);
json_t *ctr_mounts_inspect(const struct daemon_container *c);

/* POST /networks/{id}/connect and /disconnect */
int ctr_routes_network(struct berthd *d, struct berth_error **err);

/* hostname, hosts and resolv.conf in dir, from Config and HostConfig; host_gw as
 * ctr_host_gateway gives it (NULL: an --add-host NAME:host-gateway is refused, as dockerd's). */
int ctr_write_etc_files(const char *dir, const json_t *config, const json_t *hc,
			const char *host_gw, struct berth_error **err);
/* The address --add-host NAME:host-gateway stands for: the default bridge's gateway, written
 * into buf (NULL when berthd runs without the default bridge). */
const char *ctr_host_gateway(struct berthd *d, char buf[16]);

/* IpcMode shareable: a tmpfs of ShmSize at <dir>/shm (made anew at each start), for the
 * container's /dev/shm and its IPC joiners'. */
int ctr_shm_mount(const struct daemon_container *c, char **ret_path, struct berth_error **err);
/* Unmount the container's root and its shareable /dev/shm, if any. */
int ctr_root_unmount(const struct daemon_container *c, struct berth_error **err);

/* Remove c (gate held): unmount, files, table, name, "destroy" event. */
int ctr_remove(struct berthd *d, struct daemon_container *c, bool remove_volumes,
	       struct berth_error **err);

/* RFC 3339 in UTC with nanoseconds (Go's RFC3339Nano: trailing zeros dropped). */
char *ctr_time_string(int64_t ns);
int64_t ctr_parse_time(const char *s);

/* ---- names (names.c) ------------------------------------------------------------------------ */

/* docker's rule for a name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (after an optional "/"). */
bool ctr_name_valid(const char *name);
/* A random "adjective_surname" (a digit appended on retries). */
char *ctr_name_random(unsigned retry);

/* ---- running (containers-run.c) ----------------------------------------------------------- */

/* Start c (gate held).  EALREADY (304) when it runs. */
int ctr_start(struct berthd *d, struct daemon_container *c, struct berth_error **err);
/* Stop c (gate held): signal (NULL: its StopSignal), wait timeout_s (-1: for ever), then kill. */
int ctr_stop(struct berthd *d, struct daemon_container *c, const char *signal, int timeout_s,
	     struct berth_error **err);
/* Send a signal (no gate): 409 when it does not run; SIGKILL waits for the exit (10 s). */
int ctr_kill(struct berthd *d, struct daemon_container *c, int sig, struct berth_error **err);

/* The monitor thread and live restore (at start, after the table is loaded). */
int ctr_monitor_start(struct berthd *d, struct berth_error **err);
void ctr_monitor_stop(struct berthd *d);
void ctr_restore(struct berthd *d);

/* Wait (d->lock held, on c->cond) until pred or the absolute CLOCK_MONOTONIC deadline (0: none). */
int ctr_cond_wait_until(struct berthd *d, struct daemon_container *c, int64_t deadline_ns);
int64_t ctr_mono_ns(void);

/* ---- the shim (shim-client.c) --------------------------------------------------------------- */

struct shim_handle {
	struct daemon_container *c; /* a reference while the handle lives */
	pid_t pid;
	uint64_t start_time;
	int pidfd;
	int wait_fd; /* the monitor's "wait" connection */
	pid_t init_pid;
	uint64_t init_start; /* the init's start time (berth_proc_start_time): who init_pid is */
	bool in_epoll;
};

/* The shim binary, copied into a sealed memfd once (berthd's start). */
int shim_binary_open(struct berthd *d, struct berth_error **err);

/* exec-root/shims/<id> */
char *shim_dir(struct berthd *d, const char *id);

/*
 * Namespaces of another container (IpcMode, PidMode container:X) reach the shim as open fds at
 * these numbers, and the bundle names them /proc/self/fd/N: the shim joins the namespace berthd
 * opened and checked, never whatever a pid names by the time the runtime gets to it.
 */
enum { SHIM_FD_IPC_NS = 5, SHIM_FD_PID_NS = 6, SHIM_FD_NET_NS = 7, SHIM_N_NS_FDS = 3 };

/*
 * A running container's namespace of kind ("ipc", "pid", "net") through its init, pid and start
 * time (its shim's init_start), opened by berthd itself.  A pid alone names nothing for good:
 * were the init to die and its pid be reused before the runtime opened /proc/PID/ns/..., a new
 * container would join a stranger's namespace.  0 and *ret_fd (O_CLOEXEC), -ESRCH (no error
 * set) when that init is gone, else -errno with err.
 */
int ctr_open_donor_ns(pid_t pid, uint64_t start, const char *kind, int *ret_fd,
		      struct berth_error **err);

/*
 * Spawn a shim for c (its bundle written in shim_dir): the config on fd 3, wait for its sync.
 * ns_fds[i] (or -1) is given to the shim as fd SHIM_FD_IPC_NS + i; the caller keeps its own.
 * On success *ret has pid, pidfd, init pid; no connection yet.
 */
int shim_spawn(struct berthd *d, struct daemon_container *c, json_t *cfg,
	       const int ns_fds[SHIM_N_NS_FDS], struct shim_handle **ret, struct berth_error **err);

/* Connect to shims/<id>/shim.sock (SOCK_SEQPACKET); timeout_ms bounds each later wait. */
int shim_connect(struct berthd *d, const char *id, int timeout_ms, int *ret_fd,
		 struct berth_error **err);

/*
 * One request on a new connection: send req (and fd, when >= 0, which is then closed here),
 * read the one answer into *ret (NULL: not wanted).  An {"error"} answer becomes the error with
 * its code.  ret_fd (may be NULL): the connection is kept open for the caller.
 */
int shim_request(struct berthd *d, const char *id, json_t *req, int fd, json_t **ret, int *ret_fd,
		 int timeout_ms, struct berth_error **err);

/* Read one message of the connection into *ret; 0 at EOF (*ret NULL). */
int shim_recv(int fd, json_t **ret, struct berth_error **err);

/* Remove what a dead shim left (berth-shim cleanup, waited for). */
int shim_cleanup(struct berthd *d, struct daemon_container *c, struct berth_error **err);

/* Is the process of shim.pid alive (same start time)? */
bool shim_alive(pid_t pid, uint64_t start_time);

void shim_handle_free(struct shim_handle *h);

/* ---- logs and attach (containers-logs.c) ----------------------------------------------------- */

/* Hand the client sockets that waited for this start to the shim (after create, before start). */
void ctr_attach_flush(struct berthd *d, struct daemon_container *c);
/* Close the sockets that wait (the container went away). */
void ctr_attach_drop_locked(struct daemon_container *c);

/* Parse docker's detach keys ("ctrl-p,ctrl-q"); -EINVAL on a bad one. */
int ctr_detach_keys(const char *s, char *buf, size_t *n);

/* ---- pause, update, stats, top (containers-update.c, containers-stats.c) --------------------- */

/* Load c's lib/runtime container (exec-root/runtime/<id>): its cgroup as recorded at create. */
int ctr_runtime_load(struct berthd *d, const char *id, struct berth_container **ret,
		     struct berth_error **err);
/* Freeze or thaw the container's cgroup. */
int ctr_freeze(struct berthd *d, const char *id, bool frozen, struct berth_error **err);
/* Live restore: c->paused from the freezer of a running container. */
void ctr_paused_restore(struct berthd *d, struct daemon_container *c);
/*
 * After the signal that ends a paused container (stop, kill), thaw it so the signal lands, as
 * dockerd does (State.Paused false, an "unpause" event).  0 when it was not paused.
 */
int ctr_thaw_for_kill(struct berthd *d, struct daemon_container *c);
/* ---- exec (exec.c) and healthchecks (health.c) ----------------------------------------------- */

/* Forget the exec instances of c (it stopped or went), as dockerd does (d->lock held). */
void daemon_exec_drop_locked(struct berthd *d, struct daemon_container *c);
/* Forget every exec instance (shutdown). */
void daemon_exec_drop_all(struct berthd *d);

/*
 * Run argv in c as dockerd's health probe does (an exec with stdout and stderr in one buffer of
 * at most 4 KiB, the container's user, working dir and environment, its exec events): *ret_code
 * its exit code, *ret_output (the caller's) what it wrote; past timeout_ns it is killed and
 * *ret_timeout set.  Negative when it could not be started (*err says why).
 */
int daemon_exec_probe(struct berthd *d, struct daemon_container *c, const json_t *argv,
		      int64_t timeout_ns, int *ret_code, char **ret_output, bool *ret_timeout,
		      struct berth_error **err);

/* h and w of a resize request, as httputils.Uint32Value reads them; -EINVAL: answered (400). */
int daemon_parse_resize(struct berth_http_request *req, uint32_t *ret_h, uint32_t *ret_w);

/*
 * Healthchecks.  start: c has just started (or was restored running): State.Health "starting"
 * (kept from the record when restored) and a thread that probes it on its timer, until c stops
 * or berthd does (d->lock held).  json: State.Health for inspect, NULL without a healthcheck.
 * status: "starting", "healthy", "unhealthy", or "none".
 */
void ctr_health_start_locked(struct berthd *d, struct daemon_container *c, bool restored);
json_t *ctr_health_json_locked(const struct daemon_container *c);
const char *ctr_health_status_locked(const struct daemon_container *c);
/* Read State.Health of a record (load) */
void ctr_health_load(struct daemon_container *c, const json_t *state);
void ctr_health_free(struct daemon_container *c);

/* ---- routes ------------------------------------------------------------------------------ */

int ctr_routes_update(struct berthd *d, struct berth_error **err); /* pause, unpause, update */
int ctr_routes_stats(struct berthd *d, struct berth_error **err);  /* stats, top */

int ctr_routes_logs(struct berthd *d, struct berth_error **err);
int ctr_routes_query(struct berthd *d, struct berth_error **err); /* list, inspect, df */
/* containers-archive.c: changes, export, archive (docker diff, export, cp) */
int ctr_routes_archive(struct berthd *d, struct berth_error **err);
/* containers-commit.c: POST /commit */
int ctr_routes_commit(struct berthd *d, struct berth_error **err);

/* inspect's JSON of c (d->lock held) */
json_t *ctr_inspect_json_locked(struct berthd *d, struct daemon_container *c, unsigned api,
				bool size);
/* Bytes of the container's upper dir (SizeRw) */
int64_t ctr_size_rw(const struct daemon_container *c);
