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
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "base/base.h"
#include "dockerspec/dockerspec.h"
#include "image/image.h"
#include "registry/registry.h"

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
	bool ipv6;	     /* --ipv6, "ipv6": IPv6 on the default bridge */
	char *fixed_cidr_v6; /* --fixed-cidr-v6, "fixed-cidr-v6": its IPv6 subnet */
	char *bridge;	     /* "none": no default bridge network; NULL: berth0 */
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

/* The image side (images.c): the store and what its handlers share. */
struct daemon_images {
	struct berth_image_store *store; /* NULL until daemon_images_open() */
	atomic_uint ops;		 /* image requests under way (shutdown waits for them) */
	atomic_bool pruning;		 /* one POST /images/prune at a time, as dockerd */
};

/* The container side (containers*.c, shim-client.c): the table and what runs it. */
struct daemon_container;
struct daemon_containers {
	struct daemon_container **v; /* the table (d->lock) */
	size_t n, cap;
	char **reserved;		     /* names of containers being created (d->lock) */
	struct berth_dockerspec_host host;   /* probed once at start */
	struct berth_dockerspec_daemon spec; /* the daemon's options that shape containers */
	int shim_fd;			     /* sealed memfd copy of berth-shim */
	char *shim_path;		     /* where it was copied from */
	char *init_path;		     /* berth-init, bound at /sbin/docker-init for --init */
	struct berth_dockerspec_ulimit
		*ulimits;  /* daemon.json's default-ulimits (names borrowed) */
	int epfd, wake_fd; /* the monitor thread's epoll and its eventfd */
	pthread_t monitor;
	bool monitor_running;
	atomic_uint threads; /* exit, restart, exec and health threads at work (shutdown waits) */
	struct daemon_exec *execs; /* exec instances (exec.c; d->lock) */
};

/* The networks (networks.c): the table under d->lock; see networks-internal.h. */
struct daemon_network;
struct daemon_dns;
struct daemon_networks {
	struct daemon_network **v;
	size_t n;
	pthread_mutex_t kernel; /* held while bridges and the firewall are changed */
	bool forwarding;	/* net.ipv4.ip_forward set (under kernel) */
	bool forwarding6;	/* net.ipv6.conf.all.forwarding set (under kernel) */
	bool lo_gso;		/* lo's GSO limit raised for published ports (under kernel) */
	bool firewall_applied;	/* berth's table is in place (under kernel) */
	bool firewall6_absent;	/* berth's ip6 table is known not to exist (under kernel) */
	struct daemon_dns *dns; /* the name server of user networks (dns.c) */
};

/* The volumes (volumes.c): the table under d->lock; see volumes-internal.h. */
struct daemon_volume;
struct daemon_volumes {
	struct daemon_volume **v;
	size_t n;
};

struct berthd {
	pthread_mutex_t lock;	     /* d->lock */
	struct daemon_config config; /* reloadable fields change under d->lock */
	char *id;		     /* engine id (data_root/engine-id) */
	int cgroup_version;	     /* 1 or 2, from statfs("/sys/fs/cgroup") */
	int64_t started_ns;
	struct daemon_counts counts;
	struct daemon_events events;
	struct daemon_images images;
	struct daemon_containers containers;
	struct daemon_networks networks;
	struct daemon_volumes volumes;
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

/* system.c: /_ping, /version, /info, /system/df, /events */
int daemon_routes_system(struct berthd *d, struct berth_error **err);

/* Go's GOARCH for a uname machine ("x86_64" -> "amd64"); unknown ones as they are. */
const char *daemon_go_arch(const char *machine);

/* images.c: /images/... and the image part of /system/df */
int daemon_routes_images(struct berthd *d, struct berth_error **err);

/* build.c: POST /build (the classic builder) and POST /build/prune */
int daemon_routes_build(struct berthd *d, struct berth_error **err);

/* registry.c: POST /auth */
int daemon_routes_registry(struct berthd *d, struct berth_error **err);

/* ---- registries (registry.c) ------------------------------------------------------------ */

/*
 * A registry client made from the configuration in force (insecure-registries,
 * registry-mirrors; copied under d->lock).  One per operation: a SIGHUP between two pulls takes
 * effect on the next.  Free with berth_registry_free().
 */
int daemon_registry_client(struct berthd *d, struct berth_registry **ret, struct berth_error **err);

/*
 * The request's X-Registry-Auth (none: anonymous).  The strings of *ret live in *ret_json
 * (json_decref it).  -EINVAL for a header that is not base64 of a JSON object.
 */
int daemon_registry_auth(struct berth_http_request *req, struct berth_registry_auth *ret,
			 json_t **ret_json, struct berth_error **err);

/* ---- containers (containers*.c, shim-client.c; docs/daemon.md) ----------------------------- */

/*
 * Open the container side: probe the host (lib/dockerspec), copy berth-shim into a sealed memfd
 * (found beside berthd, in the build tree's shim/, or at $BERTHD_SHIM), remove what a create or
 * rm cut short left in containers/ (.tmp-*, .trash-*), and load every record into the table.
 * Call once at start, after daemon_images_open (records name their layers) and before serving.
 */
int daemon_containers_open(struct berthd *d, struct berth_error **err);

/*
 * Live restore, then the monitor thread: reconnect to running containers' shims; a shim gone
 * without exit.json has its container's processes killed, runtime state deleted and root
 * unmounted, and is recorded as exited 137; restart policies (and AutoRemove) are applied to
 * what exited while berthd was away.  Call once, after daemon_containers_open.
 */
int daemon_containers_restore(struct berthd *d, struct berth_error **err);

/* Stop the monitor and wait (bounded) for exit/restart threads; containers keep running. */
void daemon_containers_close(struct berthd *d);
/*
 * live-restore false, at shutdown (after the API stopped and d->stopping is set): stop every
 * running container at once, each with its stop signal and timeout, then SIGKILL; returns when
 * all have stopped.  Not a manual stop: the restart policies apply at the next start.
 */
void daemon_containers_shutdown(struct berthd *d);

/* Add every container of the table to u (daemon_image_users_add); d->lock held. */
struct daemon_image_users;
int daemon_containers_image_users_locked(struct berthd *d, struct daemon_image_users *u);

/* containers.c, containers-run.c, containers-logs.c, containers-query.c: /containers/... */
int daemon_routes_containers(struct berthd *d, struct berth_error **err);

/* POST /containers/{id}/exec, /exec/{id}/start, /exec/{id}/json, /exec/{id}/resize (exec.c) */
int daemon_routes_exec(struct berthd *d, struct berth_error **err);

/* The container part of GET /system/df: a new array of container summaries with SizeRw. */
json_t *daemon_containers_disk_usage(struct berthd *d, unsigned api);
/*
 * Attaching containers to networks (networks-attach.c).  A container on a bridge network gets a
 * network namespace made by berthd before its start (a bind-mounted nsfs file under
 * exec-root/netns, given to the runtime by path), so the veth, address and route are in place
 * when its first process runs.
 */
struct daemon_port_binding {
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t host_ip;
	uint16_t host_port; /* 0: berthd picks a free one */
	uint16_t container_port;
	/* above host_port: pick the first free one of host_port..host_port_last (-p 8000-8010:80);
	 * 0 once picked, never stored */
	uint16_t host_port_last;
};

struct daemon_net_attach {
	const char *network; /* name, id or id prefix */
	const char *container_id;
	const char *container_name;
	const char *netns_path;
	const char *ifname; /* eth0, eth1, ... */
	const char *ipv4;   /* an address asked for (--ip), or NULL */
	const char *ipv6;   /* an IPv6 address asked for (--ip6), or NULL */
	char *const *aliases;
	const struct daemon_port_binding *ports;
	size_t n_ports;
	bool default_route;
	const uint8_t *mac; /* 6 bytes asked for (--mac-address), or NULL for docker's 02:42+ip */
	const json_t *link_local; /* IPAMConfig.LinkLocalIPs (checked), extra addresses, or NULL */
};

/*
 * IPAMConfig.LinkLocalIPs as dockerd checks them: each an IPv4 or IPv6 address, not the
 * unspecified one ("invalid link-local IP address: X", EINVAL).  The attach adds each to the
 * container's interface with libnetwork's masks, /16 for IPv4 and /64 for IPv6.
 */
int daemon_link_local_check(const json_t *ipam, struct berth_error **err);

/*
 * Attach a container: an address from the network's pool, a veth pair with ifname inside the
 * netns (MAC 02:42 + the address, as docker), the default route through the gateway when asked,
 * the published ports in berth's table.  *ret_settings is Docker's EndpointSettings.  Errors:
 * ENOENT unknown network, EINVAL a bad address, EEXIST already attached or address in use,
 * EBUSY a host port taken; nothing is left half-made.
 */
int daemon_network_attach(struct berthd *d, const struct daemon_net_attach *a,
			  json_t **ret_settings, struct berth_error **err);

/* Detach a container from one network (its veth, address and ports go); ENOENT if not on it. */
int daemon_network_detach(struct berthd *d, const char *network, const char *container_id,
			  struct berth_error **err);

/*
 * Detach a container from every network it is on (on stop, exit and removal); logs failures.
 * del_veths false: the caller is about to drop the container's network namespace's last
 * reference, and the kernel deletes the veth pairs with it.
 */
void daemon_networks_detach_all(struct berthd *d, const char *container_id, bool del_veths);

/* At start, after live restore: detach the containers keep() says are not running. */
void daemon_networks_drop_stale(struct berthd *d,
				bool (*keep)(struct berthd *d, const char *container_id));

/* Make exec-root/netns/<id>, a new network namespace bind-mounted there; *ret_path. */
int daemon_netns_create(struct berthd *d, const char *container_id, char **ret_path,
			struct berth_error **err);

/* Unmount and remove a namespace file made by daemon_netns_create; a missing one is fine. */
void daemon_netns_remove(const char *path);

/*
 * Volumes (volumes.c).  Load the table at start; free it at the end.  daemon_volume_create
 * makes a named volume (name NULL or "": an anonymous one with a random name) or finds an
 * existing one of that name (docker's rule); *ret_name is its name.  daemon_volume_remove
 * refuses a volume in use (EBUSY, docker's "volume is in use - [id]"); force only makes a
 * missing one fine.  Containers hold volumes with ref/unref (d->lock held; ENOENT unknown).
 */
int daemon_volumes_open(struct berthd *d, struct berth_error **err);
void daemon_volumes_close(struct berthd *d);
int daemon_volume_create(struct berthd *d, const char *name, const json_t *labels,
			 const json_t *options, bool anonymous, char **ret_name,
			 struct berth_error **err);
int daemon_volume_remove(struct berthd *d, const char *name, bool force, struct berth_error **err);
int daemon_volume_ref_locked(struct berthd *d, const char *name, const char *container_id);
void daemon_volume_unref_locked(struct berthd *d, const char *name, const char *container_id);

/*
 * The local driver's mounts: daemon_volumes_mount mounts (type, device, o) on the _data of each
 * option volume among points (a container's MountPoints) that no running container has mounted
 * yet, and counts container_id as a user of it; docker's "error while mounting volume" when the
 * kernel refuses, with nothing left mounted for it.  daemon_volumes_unmount drops container_id
 * and unmounts what it was the last user of (idempotent).  daemon_volumes_unmount_unused: after
 * a restart's live restore, the mounts no running container uses any more.
 */
int daemon_volumes_mount(struct berthd *d, const char *container_id, const json_t *points,
			 struct berth_error **err);
void daemon_volumes_unmount(struct berthd *d, const char *container_id);
void daemon_volumes_unmount_unused(struct berthd *d);

/* volumes-api.c: /volumes/...; the Volumes part of /system/df (with UsageData) */
int daemon_routes_volumes(struct berthd *d, struct berth_error **err);
json_t *daemon_volumes_disk_usage(struct berthd *d);

/* networks-api.c: /networks/... */
int daemon_routes_networks(struct berthd *d, struct berth_error **err);

/*
 * Load the network records, make the predefined networks (bridge from --bip unless --bridge
 * none, host, none), make every bridge network's bridge and rebuild berth's firewall table.
 * Call once at start, before serving.  daemon_networks_close frees the table (the bridges and
 * the rules stay: containers keep running without berthd).
 */
int daemon_networks_open(struct berthd *d, struct berth_error **err);
void daemon_networks_close(struct berthd *d);

/* ---- images (images.c, images-io.c, image-changes.c) ------------------------------------ */

/*
 * Open the image store at the data root (lib/image: blobs/, layers/, images.json, tmp/, which it
 * empties) and count its images for /info.  Call once at start, before serving.
 */
int daemon_images_open(struct berthd *d, struct berth_error **err);

/*
 * Remove the layers and blobs no image and no container uses.  Call once at start, after the
 * container table is loaded (its containers' layers are held through daemon_image_users).
 * Failing to collect is logged, never fatal.
 */
void daemon_images_gc(struct berthd *d);

/* Wait (up to 10 s) for image requests under way to end, then close the store. */
void daemon_images_close(struct berthd *d);

/* Count the store's images into d->counts.images (takes d->lock, then the store's lock). */
void daemon_images_update_count(struct berthd *d);

/*
 * Who uses which image, for lib/image's delete, prune and gc (struct berth_image_users): a
 * snapshot of the container table taken under d->lock, used after it is let go (lib/image calls
 * `find` with its own lock held, and must not wait for d->lock).
 *
 * A container created while an rmi runs is not in the snapshot: the container manager resolves
 * its image and holds its top layer with a store lease (berth_image_lease_add) before it puts the
 * container in the table, and lets the lease go once the container is in; the layer then stays
 * held by the next snapshot.  An image deleted in between makes that create fail with "No such
 * image", as if the rmi had come first.
 */
struct daemon_image_user {
	char *container_id;
	char *image_id;	 /* "sha256:..." (the container's Image) */
	char *top_layer; /* the chain id its root stands on; NULL for an image without layers */
	bool running;
};

struct daemon_image_users {
	struct berth_image_users
		users; /* give &u->users to lib/image; points into u: never copy u */
	struct daemon_image_user *v;
	size_t n;
	char **held_layers; /* every top_layer, NULL-terminated */
};

/*
 * Fill *ret from the container table (the caller holds d->lock).  Each container of the table
 * goes in with daemon_image_users_add(); while berthd has no container table the snapshot is
 * empty, which is the truth: no container uses an image.  Release with
 * daemon_image_users_release().
 */
int daemon_image_users_collect_locked(struct berthd *d, struct daemon_image_users *ret);

/* An empty snapshot (what _collect_locked starts from). */
void daemon_image_users_init(struct daemon_image_users *u);

/* Add one container (strings copied); 0 or -ENOMEM. */
int daemon_image_users_add(struct daemon_image_users *u, const char *container_id,
			   const char *image_id, const char *top_layer, bool running);

/* How many containers of the snapshot use image_id (docker system df's Containers). */
size_t daemon_image_users_count(const struct daemon_image_users *u, const char *image_id);

void daemon_image_users_release(struct daemon_image_users *u);

/*
 * The image part of GET /system/df for API version api: {"LayersSize": N, "Images": [...]} with
 * Docker's image summaries (Containers and SharedSize filled in).  *ret is a new object.
 */
int daemon_images_disk_usage(struct berthd *d, unsigned api, json_t **ret,
			     struct berth_error **err);

/*
 * Docker's container config (container.Config) as dockerd marshals it: every field in its order,
 * zero values where the input has none (or the wrong type), maps with sorted keys, Cmd and
 * Entrypoint given as a string made a one-element list.  in may be NULL (all zero values).
 * Returns a new object, or NULL on ENOMEM.
 */
json_t *daemon_container_config_json(const json_t *in);

/*
 * docker import --change / docker commit --change: Dockerfile instructions (CMD, ENTRYPOINT,
 * ENV, EXPOSE, HEALTHCHECK, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR) applied in order
 * to an empty container config, as dockerd's BuildFromConfig does: the instructions joined with
 * newlines and parsed as a Dockerfile (quotes, escapes, line continuations, JSON or shell form),
 * $VAR and ${VAR...} expanded from the ENV set before.  Another instruction is refused with
 * dockerd's "<INSTRUCTION> is not a valid change command".  On success *ret is the config
 * (daemon_container_config_json's shape); errors are -EINVAL with dockerd's message.
 */
int daemon_image_changes(char *const *changes, size_t n, json_t **ret, struct berth_error **err);
/* The same applied on top of base (docker commit's BuildFromConfig: the container's config). */
int daemon_image_changes_on(const json_t *base, char *const *changes, size_t n, json_t **ret,
			    struct berth_error **err);
