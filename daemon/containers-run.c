/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running containers: start (the root mounted, the OCI spec from lib/dockerspec written as the
 * shim's bundle, the shim spawned, its attach clients handed over, "start"), stop and kill, the
 * monitor thread (one "wait" connection and one pidfd per shim in an epoll), what an exit does
 * (state, the "die" event, docker's restart manager, AutoRemove), and live restore at berthd's
 * start.  Exits are handled on a thread of their own each, so a slow removal or a restart's
 * backoff never holds up the monitor.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "containers-internal.h"
#include "base/banned.h"

#define SHIM_TIMEOUT_MS	       (30 * 1000)
#define DEFAULT_STOP_TIMEOUT_S 10
#define DEFAULT_LOG_MAX_SIZE   (10 * 1024 * 1024)
#define DEFAULT_LOG_MAX_FILE   3
#define LOCAL_LOG_MAX_SIZE     (20 * 1024 * 1024)
#define LOCAL_LOG_MAX_FILE     5

static void register_shim(struct berthd *d, struct daemon_container *c, struct shim_handle *h);

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void set_str(char **field, const char *v)
{
	free(*field);
	*field = v ? strdup(v) : NULL;
}

static void save_or_log(struct berthd *d, struct daemon_container *c)
{
	_cleanup_error_ struct berth_error *e = NULL;

	if (ctr_save_locked(d, c, &e) < 0)
		log_error("container %s: save its record: %s", c->id, e ? e->msg : "?");
}

/* ---- the OCI spec and the shim's config -------------------------------------------------- */

/* Has the process behind pidfd exited?  (It polls readable then.) */
static bool pidfd_exited(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};

	return poll(&p, 1, 0) != 0;
}

int ctr_open_donor_ns(pid_t pid, uint64_t start, const char *kind, int *ret_fd,
		      struct berth_error **err)
{
	_cleanup_close_ int pidfd = -EBADF, fd = -EBADF;
	char path[64];

	/* a pidfd first, then the namespace, then the start time, then the pidfd still alive: the
	 * pid was that one process from before the open to after the check, and it is the init */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 && errno != ESRCH)
		return berth_error_sys(err, errno, "pidfd_open %d", (int)pid);
	if (pidfd >= 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, kind);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno != ENOENT && errno != ESRCH)
			return berth_error_sys(err, errno, "open '%s'", path);
	}
	if (fd < 0 || start == 0 || berth_proc_start_time(pid) != start || pidfd_exited(pidfd))
		return -ESRCH;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/*
 * IpcMode or PidMode "container:X", at each start (docker's getIPCContainer, getPIDContainer):
 * X must exist, run and not be restarting, and for IPC have a /dev/shm to share (shareable, or
 * the host's).  Gives X's namespace, open (*ret_fd), and, for IPC, its /dev/shm.
 */
static int join_donor(struct berthd *d, const char *mode, const char *kind, int *ret_fd,
		      char **ret_shm, struct berth_error **err)
{
	const char *ref = mode + strlen("container:");
	struct daemon_container *x;
	bool ambiguous = false;
	pid_t pid = 0;
	uint64_t start = 0;
	int r = 0;

	pthread_mutex_lock(&d->lock);
	x = ctr_find_locked(d, ref, &ambiguous);
	if (!x)
		r = berth_error_set(err, EIO, "No such container: %s", ref);
	else if (!x->running || !x->pid || !x->shim)
		r = berth_error_set(err, EIO, "container %s is not running", ref);
	else if (x->restarting)
		r = berth_error_set(err, EIO,
				    "Container %s is restarting, wait until the container is "
				    "running",
				    ref);
	else if (ret_shm) {
		const char *ipc = json_string_value(json_object_get(x->host_config, "IpcMode"));
		if (berth_streq(ipc, "host"))
			*ret_shm = strdup("/dev/shm");
		else if (berth_streq(ipc, "shareable") && asprintf(ret_shm, "%s/shm", x->dir) < 0)
			*ret_shm = NULL;
		if (!*ret_shm)
			r = berth_error_set(err, EIO,
					    "container %s: non-shareable IPC (hint: use "
					    "IpcMode:shareable for the donor container)",
					    ref);
	}
	if (r == 0) {
		pid = x->pid;
		start = x->shim->init_start;
	}
	pthread_mutex_unlock(&d->lock);
	if (ambiguous && r < 0) {
		berth_error_freep(err);
		r = berth_error_set(err, EINVAL, "multiple IDs found with provided prefix: %s",
				    ref);
	}
	if (r == 0) {
		r = ctr_open_donor_ns(pid, start, kind, ret_fd, err);
		if (r == -ESRCH)
			r = berth_error_set(err, EIO, "container %s is not running", ref);
	}
	return r;
}

/* *ret_plain: the error is the daemon's own (a donor container), not the runtime's: docker
 * answers it as is (500), without "failed to create task".  ns_fds: the donors' namespaces
 * (SHIM_FD_IPC_NS, SHIM_FD_PID_NS), open, for the shim; the caller closes them. */
static int build_spec(struct berthd *d, struct daemon_container *c, json_t **ret, bool *ret_plain,
		      int ns_fds[SHIM_N_NS_FDS], struct berth_error **err)
{
	struct daemon_containers *t = &d->containers;
	struct berth_dockerspec_device *devices = NULL;
	size_t n_devices = 0;
	_cleanup_free_ char *rootfs = NULL, *hostname = NULL, *hosts = NULL, *resolv = NULL;
	const json_t *devs = json_object_get(c->host_config, "Devices");
	size_t i;
	json_t *dev;
	int r = 0;

	/* --network container:<x> shares x's files */
	const char *files = c->net_files_dir ?: c->dir;

	if (asprintf(&rootfs, "%s/merged", c->dir) < 0 ||
	    asprintf(&hostname, "%s/hostname", files) < 0 ||
	    asprintf(&hosts, "%s/hosts", files) < 0 ||
	    asprintf(&resolv, "%s/resolv.conf", files) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (json_is_true(json_object_get(c->host_config, "Privileged")))
		r = berth_dockerspec_host_devices("/dev", &devices, &n_devices, err);
	json_array_foreach (devs, i, dev) {
		if (r < 0)
			break;
		r = berth_dockerspec_devices_from_host(
			json_string_value(json_object_get(dev, "PathOnHost")) ?: "",
			json_string_value(json_object_get(dev, "PathInContainer")) ?: "",
			json_string_value(json_object_get(dev, "CgroupPermissions")) ?: "rwm",
			&devices, &n_devices, err);
	}
	struct berth_dockerspec_mount *mounts = NULL;
	size_t n_mounts = 0;
	if (r == 0) {
		r = ctr_mounts_for_spec(c, &mounts, &n_mounts);
		if (r < 0)
			r = berth_error_set(err, -r,
					    r == -ENOMEM ? "out of memory"
							 : "a subpath is not pinned");
	}
	const char *ipc = json_string_value(json_object_get(c->host_config, "IpcMode")) ?: "";
	const char *pid = json_string_value(json_object_get(c->host_config, "PidMode")) ?: "";
	_cleanup_free_ char *shm = NULL;
	char ipc_ns[32], pid_ns[32];
	snprintf(ipc_ns, sizeof(ipc_ns), "/proc/self/fd/%d", SHIM_FD_IPC_NS);
	snprintf(pid_ns, sizeof(pid_ns), "/proc/self/fd/%d", SHIM_FD_PID_NS);
	if (r == 0 && strcmp(ipc, "shareable") == 0)
		r = ctr_shm_mount(c, &shm, err);
	else if (r == 0 && berth_str_has_prefix(ipc, "container:"))
		*ret_plain = (r = join_donor(d, ipc, "ipc", &ns_fds[0], &shm, err)) < 0;
	if (r == 0 && berth_str_has_prefix(pid, "container:"))
		*ret_plain = (r = join_donor(d, pid, "pid", &ns_fds[1], NULL, err)) < 0;
	if (r == 0) {
		struct berth_dockerspec_container sc = {
			.id = c->id,
			.config = c->config,
			.host_config = c->host_config,
			.rootfs = rootfs,
			.hostname_path = hostname,
			.hosts_path = hosts,
			.resolv_conf_path = resolv,
			.devices = devices,
			.n_devices = n_devices,
			.mounts = mounts,
			.n_mounts = n_mounts,
			.shm_path = shm,
			.ipc_ns_path = ns_fds[0] >= 0 ? ipc_ns : NULL,
			.pid_ns_path = ns_fds[1] >= 0 ? pid_ns : NULL,
		};
		r = berth_dockerspec_oci_spec(&sc, &t->spec, &t->host, ret, err);
	}
	free(mounts);
	berth_dockerspec_devices_free(devices, n_devices);
	return r;
}

static void ns_fds_close(int (*fds)[SHIM_N_NS_FDS])
{
	for (int i = 0; i < SHIM_N_NS_FDS; i++)
		if ((*fds)[i] >= 0)
			close((*fds)[i]);
}

static json_t *shim_config(struct berthd *d, struct daemon_container *c, const char *sdir,
			   const int ns_fds[SHIM_N_NS_FDS])
{
	const json_t *lc = json_object_get(c->host_config, "LogConfig");
	const json_t *opts = json_object_get(lc, "Config");
	const char *type = json_string_value(json_object_get(lc, "Type")) ?: "json-file";
	const char *ms = json_string_value(json_object_get(opts, "max-size"));
	const char *mf = json_string_value(json_object_get(opts, "max-file"));
	const json_t *console = json_object_get(c->host_config, "ConsoleSize");
	int64_t max_size = DEFAULT_LOG_MAX_SIZE, max_file = DEFAULT_LOG_MAX_FILE;
	_cleanup_free_ char *state = NULL, *rootfs = NULL;

	bool local = strcmp(type, "local") == 0;

	/* local (docker's defaults: 20m, 5 files) is written in json-file's format */
	if (local) {
		max_size = LOCAL_LOG_MAX_SIZE;
		max_file = LOCAL_LOG_MAX_FILE;
		type = "json-file";
	}
	if (ms && berth_parse_size(ms, &max_size) < 0)
		max_size = local ? LOCAL_LOG_MAX_SIZE : DEFAULT_LOG_MAX_SIZE;
	if (mf && berth_parse_int64(mf, 1, 1 << 20, &max_file) < 0)
		max_file = local ? LOCAL_LOG_MAX_FILE : DEFAULT_LOG_MAX_FILE;
	if (asprintf(&state, "%s/runtime", d->config.exec_root) < 0 ||
	    asprintf(&rootfs, "%s/merged", c->dir) < 0)
		return NULL;
	json_t *cfg = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:b,s:{s:s,s:s?,s:I,s:I}}", "id",
				c->id, "dir", sdir, "state_root", state, "rootfs", rootfs, "tty",
				json_is_true(json_object_get(c->config, "Tty")), "open_stdin",
				json_is_true(json_object_get(c->config, "OpenStdin")), "stdin_once",
				json_is_true(json_object_get(c->config, "StdinOnce")), "debug",
				daemon_log_get_level() == DLOG_DEBUG, "log", "driver", type, "path",
				c->log_path, "max_size", (json_int_t)max_size, "max_file",
				(json_int_t)max_file);
	/* a network namespace of its own (none, and the default until networking lands) gets its
	 * loopback up, as docker's none network has it */
	const char *nm = json_string_value(json_object_get(c->host_config, "NetworkMode")) ?: "";
	if (cfg && strcmp(nm, "host") != 0 && !berth_str_has_prefix(nm, "container:"))
		json_object_set_new(cfg, "loopback", json_true());
	/* compiled seccomp programs, kept by profile for every container's shim (lib/runtime) */
	if (cfg)
		json_object_set_new(cfg, "seccomp_cache",
				    json_sprintf("%s/seccomp", d->config.exec_root));
	/* the shim closes the namespaces it was given once the container has joined them */
	for (int i = 0; cfg && i < SHIM_N_NS_FDS; i++)
		if (ns_fds[i] >= 0) {
			json_t *a = json_object_get(cfg, "ns_fds");
			if (!a)
				json_object_set_new(cfg, "ns_fds", a = json_array());
			json_array_append_new(a, json_integer(SHIM_FD_IPC_NS + i));
		}
	if (cfg && json_array_size(console) == 2 && json_integer_value(json_array_get(console, 0)))
		json_object_set_new(cfg, "console",
				    json_pack("{s:O,s:O}", "height", json_array_get(console, 0),
					      "width", json_array_get(console, 1)));
	return cfg;
}

/* docker's exit codes for a start that failed (daemon/start.go) */
static int start_error_code(const char *msg)
{
	if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory"))
		return 127;
	if (strstr(msg, "permission denied"))
		return 126;
	return 128;
}

/* ---- start ----------------------------------------------------------------------------------- */

static int write_bundle(const char *sdir, json_t *spec, struct berth_error **err)
{
	_cleanup_free_ char *text = json_dumps(spec, JSON_COMPACT), *path = NULL;

	if (!text || asprintf(&path, "%s/config.json", sdir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	berth_rm_rf(sdir, NULL); /* what a previous run left */
	if (berth_mkdir_p(sdir, 0700, err) < 0)
		return -EIO;
	return berth_write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0600, err);
}

/* The shim failed to start the process: wait (bounded) for it to finish, then tidy up. */
static void reap_failed_shim(struct berthd *d, struct daemon_container *c, struct shim_handle *h)
{
	_cleanup_free_ char *sdir = shim_dir(d, c->id);

	if (h && h->wait_fd >= 0) {
		struct timeval tv = {10, 0};
		setsockopt(h->wait_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		for (;;) {
			_cleanup_json_ json_t *m = NULL;
			if (shim_recv(h->wait_fd, &m, NULL) <= 0 ||
			    berth_streq(json_string_value(json_object_get(m, "event")), "exit"))
				break;
		}
	}
	if (h && h->pidfd >= 0 && shim_alive(h->pid, h->start_time)) {
		syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0);
		shim_cleanup(d, c, NULL);
	}
	if (sdir)
		berth_rm_rf(sdir, NULL);
	ctr_root_unmount(c, NULL);
	shim_handle_free(h);
}

static int start_locked_out(struct berthd *d, struct daemon_container *c, bool user,
			    struct berth_error **err)
{
	_cleanup_free_ char *sdir = NULL, *hpath = NULL;
	_cleanup_json_ json_t *spec = NULL, *cfg = NULL, *req = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	struct shim_handle *h = NULL;
	struct stat st;
	bool plain_error = false, keep_code = false, net_error = false;
	char host_gw[16];
	_cleanup_(ns_fds_close) int ns_fds[SHIM_N_NS_FDS] = {-EBADF, -EBADF, -EBADF};
	int r;

	pthread_mutex_lock(&d->lock);
	if (c->running && !c->restarting) {
		pthread_mutex_unlock(&d->lock);
		return berth_error_set(err, EALREADY, "container is already running");
	}
	if (c->removing || c->dead) {
		pthread_mutex_unlock(&d->lock);
		return berth_error_set(err, EBUSY,
				       "container is marked for removal and cannot be started");
	}
	if (user) {
		/* docker resets the restart manager on a start the user asked for */
		c->manually_stopped = false;
		c->restart_cancel = false;
		c->restart_timeout_ms = 0;
	}
	pthread_mutex_unlock(&d->lock);

	sdir = shim_dir(d, c->id);
	if (!sdir || asprintf(&hpath, "%s/hostname", c->dir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = berth_rootfs_mount(d->images.store, c->top_layer, c->dir, 0, &e);
	if (r < 0 && r != -EBUSY) {
		r = berth_error_set(err, -r, "mount the container's root: %s", e ? e->msg : "?");
		goto fail_early;
	}
	berth_error_freep(&e);
	if (stat(hpath, &st) < 0 && ctr_write_etc_files(c->dir, c->config, c->host_config,
							ctr_host_gateway(d, host_gw), err) < 0) {
		r = -EIO;
		goto fail_early;
	}
	/* the local driver's option volumes (tmpfs, binds, devices) first: copy-up fills them */
	r = daemon_volumes_mount(d, c->id, c->mount_points, err);
	if (r < 0) {
		plain_error = true; /* dockerd's own error, before any task: exit code 255 */
		goto fail_early;
	}
	ctr_mounts_copy_up(d, c);
	r = ctr_subpaths_pin(d, c, err);
	if (r < 0) {
		/* dockerd's own error, with its status: 400 for a link out, 404 for a missing path */
		plain_error = keep_code = true;
		goto fail_early;
	}
	r = ctr_network_setup(d, c, &ns_fds[2], err);
	if (r < 0) {
		/* libnetwork's error, before any task: dockerd says it in its own words */
		net_error = true;
		goto fail_early;
	}
	r = build_spec(d, c, &spec, &plain_error, ns_fds, err);
	if (r == 0 && ctr_network_patch_spec(c, spec) < 0)
		r = berth_error_set(err, EINVAL, "the spec has no network namespace to place");
	if (r == 0)
		r = write_bundle(sdir, spec, err);
	if (r == 0) {
		cfg = shim_config(d, c, sdir, ns_fds);
		r = cfg ? 0 : berth_error_set(err, ENOMEM, "out of memory");
	}
	if (r == 0)
		r = shim_spawn(d, c, cfg, ns_fds, &h, err);
	if (r < 0)
		goto fail_early;
	req = json_pack("{s:s}", "op", "wait");
	r = shim_request(d, c->id, req, -1, NULL, &h->wait_fd, SHIM_TIMEOUT_MS, err);
	if (r < 0)
		goto fail;
	ctr_attach_flush(d, c);
	json_decref(req);
	req = json_pack("{s:s}", "op", "start");
	r = shim_request(d, c->id, req, -1, NULL, NULL, SHIM_TIMEOUT_MS, err);
	if (r < 0)
		goto fail;
	ctr_subpaths_unpin(d, c,
			   false); /* the container's mounts are made: it holds its own copies */

	pthread_mutex_lock(&d->lock);
	c->running = true;
	c->restarting = false;
	c->paused = false;
	c->pid = h->init_pid;
	c->started_ns = wall_ns();
	free(c->started_at);
	c->started_at = ctr_time_string(c->started_ns);
	c->exit_code = 0;
	set_str(&c->error, NULL);
	c->oom_killed = false;
	c->shim = h;
	ctr_recount_locked(d);
	save_or_log(d, c);
	ctr_event_locked(d, c, "start", NULL, 0);
	register_shim(d, c, h);
	ctr_health_start_locked(d, c, false);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&d->lock);
	return 0;

fail:
	reap_failed_shim(d, c, h);
	h = NULL;
fail_early : {
	/* Go's words are lowercase: the docker CLI picks its exit code (127, 126) by them */
	static const char *const go_words[] = {"No such file or directory", "Permission denied"};
	_cleanup_free_ char *text = NULL;
	int code;

	if (!*err)
		berth_error_set(err, EIO, "start failed");
	for (size_t k = 0; (*err)->msg && k < 2; k++) {
		char *w = strstr((*err)->msg, go_words[k]);
		if (w)
			*w = (char)(*w - 'A' + 'a');
	}
	code = plain_error ? 255 : start_error_code((*err)->msg ?: "");
	if (!plain_error && !net_error &&
	    asprintf(&text, "failed to create task for container: %s", (*err)->msg ?: "?") > 0) {
		free((*err)->msg);
		(*err)->msg = strdup(text);
	}
	if (!h)
		ctr_root_unmount(c, NULL);
	ctr_network_teardown(d, c);
	ctr_subpaths_unpin(d, c, false);
	daemon_volumes_unmount(d, c->id);
	pthread_mutex_lock(&d->lock);
	set_str(&c->error, (*err)->msg ?: "start failed");
	if (c->restarting) {
		c->running = false;
		c->restarting = false;
	}
	c->exit_code = code;
	ctr_recount_locked(d);
	save_or_log(d, c);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&d->lock);
	if (!keep_code && ((*err)->code == EALREADY || (*err)->code == ENOENT ||
			   (*err)->code == EEXIST || (*err)->code == EBUSY))
		(*err)->code = EIO; /* a runtime failure is a 500, never a 304/404/409 */
	return r < 0 ? r : -EIO;
}
}

int ctr_start(struct berthd *d, struct daemon_container *c, struct berth_error **err)
{
	_cleanup_error_ struct berth_error *e = NULL;
	int r = start_locked_out(d, c, true, err);
	bool go;

	if (r >= 0 || !json_is_true(json_object_get(c->host_config, "AutoRemove")))
		return r;
	/* docker removes an AutoRemove container whose start failed: `run --rm` waits for that */
	pthread_mutex_lock(&d->lock);
	go = !c->running && !c->removed && !c->removing;
	pthread_mutex_unlock(&d->lock);
	if (go && ctr_remove(d, c, true, &e) < 0)
		log_error("auto-remove %s: %s", c->id, e ? e->msg : "?");
	return r;
}

/* ---- signals ---------------------------------------------------------------------------------- */

static int stop_signal_of(const struct daemon_container *c)
{
	const char *s = json_string_value(json_object_get(c->config, "StopSignal"));
	int sig = s && *s ? berth_signal_parse(s) : SIGTERM;

	return sig > 0 ? sig : SIGTERM;
}

/* docker's ExitOnNext: which kills cancel the restart policy (daemon/kill.go) */
static bool cancels_restart(const struct daemon_container *c, int sig)
{
	const char *s = json_string_value(json_object_get(c->config, "StopSignal"));

	if (s && *s && sig != SIGKILL)
		return berth_signal_parse(s) == sig;
	return true;
}

static int send_signal(struct berthd *d, struct daemon_container *c, int sig, bool all,
		       struct berth_error **err)
{
	_cleanup_json_ json_t *req =
		json_pack("{s:s,s:i,s:b}", "op", "kill", "signal", sig, "all", all);

	return shim_request(d, c->id, req, -1, NULL, NULL, SHIM_TIMEOUT_MS, err);
}

static void kill_event_locked(struct berthd *d, struct daemon_container *c, int sig)
{
	char num[16];
	struct berth_key_value kv = {"signal", num};

	snprintf(num, sizeof(num), "%d", sig);
	ctr_event_locked(d, c, "kill", &kv, 1);
}

/* Wait (d->lock held) until c is not running, or the deadline (0: none); true if it stopped. */
static bool wait_stopped_locked(struct berthd *d, struct daemon_container *c, int64_t deadline)
{
	while (c->running && !c->removed) {
		if (deadline && ctr_mono_ns() >= deadline)
			return false;
		ctr_cond_wait_until(d, c, deadline);
	}
	return true;
}

int ctr_kill(struct berthd *d, struct daemon_container *c, int sig, struct berth_error **err)
{
	_cleanup_error_ struct berth_error *e = NULL;
	int r;

	pthread_mutex_lock(&d->lock);
	if (!c->running) {
		pthread_mutex_unlock(&d->lock);
		return berth_error_set(err, EBUSY, "container %s is not running", c->id);
	}
	c->manually_stopped = true;
	if (cancels_restart(c, sig)) {
		c->restart_cancel = true;
		pthread_cond_broadcast(&c->cond);
	}
	save_or_log(d, c);
	if (c->restarting) {
		/* nothing runs: cancelling the restart is the kill */
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	pthread_mutex_unlock(&d->lock);
	r = send_signal(d, c, sig, false, &e);
	pthread_mutex_lock(&d->lock);
	if (r == 0)
		kill_event_locked(d, c, sig);
	pthread_mutex_unlock(&d->lock);
	/* a paused container gets the signal that ends it once thawed (dockerd's killWithSignal) */
	if (r == 0 && (sig == SIGKILL || cancels_restart(c, sig)))
		ctr_thaw_for_kill(d, c);
	pthread_mutex_lock(&d->lock);
	if (sig == SIGKILL)
		wait_stopped_locked(d, c, ctr_mono_ns() + 10LL * 1000000000);
	pthread_mutex_unlock(&d->lock);
	/* a process that is gone already: its exit is on its way */
	if (r < 0 && e && e->code != ESRCH && e->code != ECONNREFUSED && e->code != ENOENT)
		return berth_error_set(err, e->code, "%s", e->msg);
	return 0;
}

/*
 * Stop c: its stop signal (or signal), timeout_s seconds (INT32_MIN: its StopTimeout), then
 * SIGKILL.  by_user: a stop asked for through the API, which marks c manually stopped and, for
 * its stop signal, cancels the restart policy; berthd's own stops (live-restore false) do
 * neither, as docker's killWithSignal while the daemon shuts down.
 */
static int stop_container(struct berthd *d, struct daemon_container *c, const char *signal,
			  int timeout_s, bool by_user, struct berth_error **err)
{
	_cleanup_error_ struct berth_error *e = NULL;
	int sig, r;

	pthread_mutex_lock(&d->lock);
	if (!c->running) {
		pthread_mutex_unlock(&d->lock);
		return berth_error_set(err, EALREADY, "container is already stopped");
	}
	sig = stop_signal_of(c);
	if (signal && *signal) {
		sig = berth_signal_parse(signal);
		if (sig <= 0) {
			pthread_mutex_unlock(&d->lock);
			return berth_error_set(err, EINVAL, "Invalid signal: %s", signal);
		}
	}
	if (timeout_s == INT32_MIN) {
		const json_t *st = json_object_get(c->config, "StopTimeout");
		timeout_s =
			json_is_integer(st) ? (int)json_integer_value(st) : DEFAULT_STOP_TIMEOUT_S;
	}
	if (by_user) {
		c->manually_stopped = true;
		if (cancels_restart(c, sig))
			c->restart_cancel = true;
		save_or_log(d, c);
	}
	pthread_cond_broadcast(&c->cond);
	if (c->restarting) {
		c->restart_cancel = true;
		wait_stopped_locked(d, c, 0);
		ctr_event_locked(d, c, "stop", NULL, 0);
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	pthread_mutex_unlock(&d->lock);

	r = send_signal(d, c, sig, false, &e);
	pthread_mutex_lock(&d->lock);
	if (r == 0)
		kill_event_locked(d, c, sig);
	pthread_mutex_unlock(&d->lock);
	if (r == 0)
		ctr_thaw_for_kill(d, c);
	pthread_mutex_lock(&d->lock);
	int64_t wait_ns = r < 0 ? 2LL * 1000000000 : (int64_t)timeout_s * 1000000000;
	bool stopped =
		wait_stopped_locked(d, c, timeout_s < 0 && r == 0 ? 0 : ctr_mono_ns() + wait_ns);
	pthread_mutex_unlock(&d->lock);
	if (!stopped) {
		log_info("container %s failed to exit within %d seconds of signal %d - using the "
			 "force",
			 c->id, timeout_s, sig);
		berth_error_freep(&e);
		r = send_signal(d, c, SIGKILL, true, &e);
		pthread_mutex_lock(&d->lock);
		if (r == 0)
			kill_event_locked(d, c, SIGKILL);
		pthread_mutex_unlock(&d->lock);
		ctr_thaw_for_kill(d, c);
		pthread_mutex_lock(&d->lock);
		stopped = wait_stopped_locked(d, c, ctr_mono_ns() + 12LL * 1000000000);
		pthread_mutex_unlock(&d->lock);
		if (!stopped)
			return berth_error_set(
				err, EIO,
				"cannot stop container: %s: tried to kill container, "
				"but did not receive an exit event",
				c->id);
	}
	pthread_mutex_lock(&d->lock);
	ctr_event_locked(d, c, "stop", NULL, 0);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int ctr_stop(struct berthd *d, struct daemon_container *c, const char *signal, int timeout_s,
	     struct berth_error **err)
{
	return stop_container(d, c, signal, timeout_s, true, err);
}

/* ---- exits ---------------------------------------------------------------------------------- */

struct exit_job {
	struct berthd *d;
	struct daemon_container *c;
	struct shim_handle *h;
	json_t *exit; /* the shim's exit message, or NULL: find out */
};

static json_t *read_exit_file(struct berthd *d, const char *id)
{
	_cleanup_free_ char *sdir = shim_dir(d, id), *path = NULL;
	json_t *j = NULL;

	if (!sdir || asprintf(&path, "%s/exit.json", sdir) < 0)
		return NULL;
	if (berth_json_load_file(path, 1 << 16, &j, NULL) < 0)
		return NULL;
	return j;
}

/* docker's restart manager (restartmanager.go), d->lock held: restart, and after how long? */
static bool should_restart_locked(struct daemon_container *c, int code, int64_t ran_ns)
{
	const json_t *rp = json_object_get(c->host_config, "RestartPolicy");
	const char *name = json_string_value(json_object_get(rp, "Name")) ?: "no";
	int64_t max = json_integer_value(json_object_get(rp, "MaximumRetryCount"));
	bool restart = false;

	if (strcmp(name, "no") == 0 || !*name || c->restart_cancel)
		return false;
	if (ran_ns >= CTR_RESTART_RESET_NS)
		c->restart_timeout_ms = 0;
	if (c->restart_timeout_ms == 0)
		c->restart_timeout_ms = CTR_RESTART_FIRST_MS;
	else if (c->restart_timeout_ms < CTR_RESTART_MAX_MS)
		c->restart_timeout_ms *= 2;
	if (c->restart_timeout_ms > CTR_RESTART_MAX_MS)
		c->restart_timeout_ms = CTR_RESTART_MAX_MS;
	if (strcmp(name, "always") == 0)
		restart = true;
	else if (strcmp(name, "unless-stopped") == 0)
		restart = !c->manually_stopped;
	else if (strcmp(name, "on-failure") == 0)
		restart = (max == 0 || c->restart_count < max) && code != 0;
	return restart;
}

static void autoremove(struct berthd *d, struct daemon_container *c)
{
	_cleanup_error_ struct berth_error *e = NULL;

	if (!json_is_true(json_object_get(c->host_config, "AutoRemove")))
		return;
	if (ctr_gate_enter(d, c) < 0)
		return;
	pthread_mutex_lock(&d->lock);
	bool go = !c->running && !c->removed && !c->removing;
	pthread_mutex_unlock(&d->lock);
	if (go && ctr_remove(d, c, true, &e) < 0)
		log_error("auto-remove %s: %s", c->id, e ? e->msg : "?");
	ctr_gate_leave(d, c);
}

/* The restart policy's wait, then the start (on the exit's thread). */
static void restart_after_backoff(struct berthd *d, struct daemon_container *c)
{
	_cleanup_error_ struct berth_error *e = NULL;
	int64_t deadline;
	bool go;

	pthread_mutex_lock(&d->lock);
	deadline = ctr_mono_ns() + c->restart_timeout_ms * 1000000LL;
	while (!c->restart_cancel && !c->removed && ctr_mono_ns() < deadline && !d->stopping)
		ctr_cond_wait_until(d, c, deadline);
	go = !c->restart_cancel && !c->removed && !d->stopping && c->restarting;
	pthread_mutex_unlock(&d->lock);
	if (go && ctr_gate_enter(d, c) == 0) {
		pthread_mutex_lock(&d->lock);
		go = !c->restart_cancel && c->restarting && !d->stopping;
		pthread_mutex_unlock(&d->lock);
		if (go && start_locked_out(d, c, false, &e) < 0)
			log_warn("restart %s: %s", c->id, e ? e->msg : "?");
		ctr_gate_leave(d, c);
		if (go && !e)
			return;
	}
	/* cancelled, or the start failed: it is stopped now */
	pthread_mutex_lock(&d->lock);
	if (c->restarting) {
		c->running = false;
		c->restarting = false;
		ctr_recount_locked(d);
		save_or_log(d, c);
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&d->lock);
	autoremove(d, c);
}

/* The exit in c's state, its "die" event; true when the restart policy restarts it. */
static bool record_exit(struct berthd *d, struct daemon_container *c, const json_t *ex)
{
	int code = (int)json_integer_value(json_object_get(ex, "exit_code"));
	bool oom = json_is_true(json_object_get(ex, "oom_killed"));
	const char *fin = json_string_value(json_object_get(ex, "finished_at"));
	char num[16], dur[32];
	bool restart;

	pthread_mutex_lock(&d->lock);
	int64_t ran = wall_ns() - c->started_ns;
	c->pid = 0;
	c->paused = false; /* docker's SetStopped */
	c->exit_code = code;
	if (oom)
		c->oom_killed = true;
	free(c->finished_at);
	c->finished_at = fin ? strdup(fin) : ctr_time_string(wall_ns());
	c->exits++;
	daemon_exec_drop_locked(d, c);
	restart = !d->stopping && should_restart_locked(c, code, ran);
	if (restart) {
		c->restart_count++;
		c->restarting = true;
		c->running = true;
	} else {
		c->running = false;
		c->restarting = false;
	}
	ctr_recount_locked(d);
	save_or_log(d, c);
	snprintf(num, sizeof(num), "%d", code);
	snprintf(dur, sizeof(dur), "%lld", (long long)(ran > 0 ? ran / 1000000000LL : 0));
	struct berth_key_value kv[2] = {{"exitCode", num}, {"execDuration", dur}};
	ctr_event_locked(d, c, "die", kv, 2);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&d->lock);
	return restart;
}

/*
 * What a shim's end leaves to berthd: wait (bounded) for the shim to be gone, find the exit
 * (its message, exit.json, or none: a shim killed, cleaned up after, 137), remove its directory
 * and the root mount, and record the exit.  True when the restart policy restarts c.
 */
static bool finish_exit(struct berthd *d, struct daemon_container *c, struct shim_handle *h,
			json_t *ex)
{
	_cleanup_free_ char *sdir = shim_dir(d, c->id);
	_cleanup_error_ struct berth_error *e = NULL;
	bool restart = false;

	/* the shim exits right after it told the exit: wait (bounded) until it is gone, so a
	 * container reported exited or removed has no process of ours left */
	if (h && h->pidfd >= 0) {
		struct pollfd pfd = {.fd = h->pidfd, .events = POLLIN};
		while (poll(&pfd, 1, 5000) < 0 && errno == EINTR)
			;
	}
	if (!ex)
		ex = read_exit_file(d, c->id);
	if (!ex) {
		/* the shim died without telling: what it left goes, the exit is a kill's */
		if (h && h->pidfd >= 0 && shim_alive(h->pid, h->start_time))
			syscall(SYS_pidfd_send_signal, h->pidfd, SIGKILL, NULL, 0);
		if (shim_cleanup(d, c, &e) < 0)
			log_error("container %s: clean up after its shim: %s", c->id,
				  e ? e->msg : "?");
		log_warn("container %s: its shim is gone without an exit status; recorded as "
			 "killed (137)",
			 c->id);
		_cleanup_free_ char *now = ctr_time_string(wall_ns());
		ex = json_pack("{s:i,s:i,s:s}", "exit_code", 137, "signal", SIGKILL, "finished_at",
			       now);
	}
	if (sdir) {
		_cleanup_free_ char *log = NULL, *text = NULL;
		/* the shim's own complaints go to berthd's log before its directory goes */
		if (asprintf(&log, "%s/shim.log", sdir) > 0 &&
		    berth_read_file_at(AT_FDCWD, log, 1 << 16, &text, NULL, NULL) == 0 && text) {
			for (char *l = text, *next; l && *l; l = next) {
				next = strchr(l, '\n');
				if (next)
					*next++ = '\0';
				if (strstr(l, "level=error") || strstr(l, "level=warning"))
					log_warn("shim of %.12s: %s", c->id, l);
			}
		}
		berth_rm_rf(sdir, NULL);
	}
	ctr_root_unmount(c, NULL);
	ctr_network_teardown(d, c);
	daemon_volumes_unmount(d, c->id);
	shim_handle_free(h);
	if (ex)
		restart = record_exit(d, c, ex);
	json_decref(ex);
	return restart;
}

static void *exit_main(void *arg)
{
	struct exit_job *job = arg;
	struct berthd *d = job->d;
	struct daemon_container *c = job->c;

	if (finish_exit(d, c, job->h, job->exit))
		restart_after_backoff(d, c);
	else
		autoremove(d, c);
	ctr_unref(d, c);
	free(job);
	atomic_fetch_sub(&d->containers.threads, 1);
	return NULL;
}

/* Hand an exit to a thread of its own (takes h and ex; c gets a reference). */
static void spawn_exit(struct berthd *d, struct daemon_container *c, struct shim_handle *h,
		       json_t *ex)
{
	struct exit_job *job = calloc(1, sizeof(*job));
	pthread_attr_t attr;
	pthread_t th;

	if (!job) {
		log_error("container %s: out of memory handling its exit", c->id);
		return;
	}
	pthread_mutex_lock(&d->lock);
	job->c = ctr_ref(c);
	pthread_mutex_unlock(&d->lock);
	job->d = d;
	job->h = h;
	job->exit = ex;
	atomic_fetch_add(&d->containers.threads, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&th, &attr, exit_main, job) != 0) {
		/* no thread: do it here */
		exit_main(job);
	}
	pthread_attr_destroy(&attr);
}

/* ---- the monitor ------------------------------------------------------------------------------ */

#define TAG_PIDFD 1u

/* Watch h's wait connection and pidfd (d->lock held: see monitor_done). */
static void register_shim(struct berthd *d, struct daemon_container *c, struct shim_handle *h)
{
	struct epoll_event ev = {.events = EPOLLIN};

	ctr_ref(c);
	h->c = c;
	ev.data.u64 = (uint64_t)(uintptr_t)h;
	if (epoll_ctl(d->containers.epfd, EPOLL_CTL_ADD, h->wait_fd, &ev) < 0)
		log_error("container %s: monitor: %s", c->id, strerror(errno));
	if (h->pidfd >= 0) {
		ev.data.u64 = (uint64_t)(uintptr_t)h | TAG_PIDFD;
		epoll_ctl(d->containers.epfd, EPOLL_CTL_ADD, h->pidfd, &ev);
	}
	h->in_epoll = true;
}

static void monitor_done(struct berthd *d, struct shim_handle *h, json_t *ex)
{
	struct daemon_container *c = h->c;

	/*
	 * Under d->lock, which register_shim holds across its two ADDs: an exit seen on the first
	 * fd before the second was added would otherwise leave the second registered, and its
	 * event would end this handle a second time (a double free on a short container).
	 */
	pthread_mutex_lock(&d->lock);
	epoll_ctl(d->containers.epfd, EPOLL_CTL_DEL, h->wait_fd, NULL);
	if (h->pidfd >= 0)
		epoll_ctl(d->containers.epfd, EPOLL_CTL_DEL, h->pidfd, NULL);
	h->in_epoll = false;
	if (c->shim == h)
		c->shim = NULL;
	pthread_mutex_unlock(&d->lock);
	spawn_exit(d, c, h, ex);
	ctr_unref(d, c);
}

/* What the wait connection has; true when the shim is done (ex: its exit, or NULL). */
static bool monitor_read(struct berthd *d, struct shim_handle *h, json_t **ex)
{
	for (;;) {
		char buf[4096];
		ssize_t n = recv(h->wait_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return false;
		if (n <= 0)
			return true;
		json_t *m = json_loadb(buf, (size_t)n, 0, NULL);
		const char *event = json_string_value(json_object_get(m, "event"));
		if (berth_streq(event, "oom")) {
			pthread_mutex_lock(&d->lock);
			h->c->oom_killed = true;
			save_or_log(d, h->c);
			ctr_event_locked(d, h->c, "oom", NULL, 0);
			pthread_mutex_unlock(&d->lock);
		} else if (berth_streq(event, "detach")) {
			pthread_mutex_lock(&d->lock);
			ctr_event_locked(d, h->c, "detach", NULL, 0);
			pthread_mutex_unlock(&d->lock);
		} else if (berth_streq(event, "exit")) {
			json_decref(*ex);
			*ex = m;
			return true;
		}
		json_decref(m);
	}
}

static void *monitor_main(void *arg)
{
	struct berthd *d = arg;
	struct epoll_event evs[64];

	for (;;) {
		int n = epoll_wait(d->containers.epfd, evs, 64, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			uint64_t v = evs[i].data.u64;
			if (v == 2)
				continue; /* a handle already done in this batch */
			if (v == 0) {
				uint64_t x;
				if (read(d->containers.wake_fd, &x, sizeof(x)) < 0)
					(void)0;
				return NULL;
			}
			struct shim_handle *h =
				(struct shim_handle *)(uintptr_t)(v & ~(uint64_t)TAG_PIDFD);
			json_t *ex = NULL;
			bool done = monitor_read(d, h, &ex);
			if (!done && (v & TAG_PIDFD))
				/* the shim is gone: whatever it sent is read by now */
				done = true;
			if (done) {
				/* one handle may show in this batch twice: the rest of it is stale */
				for (int k = i + 1; k < n; k++)
					if ((evs[k].data.u64 & ~(uint64_t)TAG_PIDFD) ==
					    (v & ~(uint64_t)TAG_PIDFD))
						evs[k].data.u64 = 2; /* skip */
				monitor_done(d, h, ex);
			}
		}
	}
	return NULL;
}

int ctr_monitor_start(struct berthd *d, struct berth_error **err)
{
	struct daemon_containers *t = &d->containers;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
	int r;

	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->epfd < 0 || t->wake_fd < 0)
		return berth_error_sys(err, errno, "monitor: epoll");
	epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wake_fd, &ev);
	r = pthread_create(&t->monitor, NULL, monitor_main, d);
	if (r != 0)
		return berth_error_sys(err, r, "start the monitor thread");
	t->monitor_running = true;
	return 0;
}

void ctr_monitor_stop(struct berthd *d)
{
	struct daemon_containers *t = &d->containers;
	uint64_t one = 1;

	if (!t->monitor_running)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	for (size_t i = 0; i < t->n; i++)
		pthread_cond_broadcast(&t->v[i]->cond);
	pthread_mutex_unlock(&d->lock);
	if (write(t->wake_fd, &one, sizeof(one)) < 0)
		log_warn("monitor: wake: %s", strerror(errno));
	pthread_join(t->monitor, NULL);
	t->monitor_running = false;
	/* the handles still in epoll belong to containers that keep running */
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < t->n; i++) {
		struct daemon_container *c = t->v[i];
		if (c->shim && c->shim->in_epoll) {
			c->shim->in_epoll = false;
			ctr_unref_locked(d, c);
		}
	}
	pthread_mutex_unlock(&d->lock);
	close(t->epfd);
	close(t->wake_fd);
	t->epfd = t->wake_fd = -EBADF;
}

/* ---- live restore --------------------------------------------------------------------------- */

static int read_shim_pid(struct berthd *d, const char *id, pid_t *pid, uint64_t *start,
			 pid_t *init_pid, uint64_t *init_start)
{
	_cleanup_free_ char *sdir = shim_dir(d, id), *path = NULL;
	_cleanup_json_ json_t *j = NULL;

	if (!sdir || asprintf(&path, "%s/shim.pid", sdir) < 0)
		return -ENOMEM;
	if (berth_json_load_file(path, 4096, &j, NULL) < 0)
		return -ENOENT;
	*pid = (pid_t)json_integer_value(json_object_get(j, "pid"));
	*start = (uint64_t)json_integer_value(json_object_get(j, "start_time"));
	*init_pid = (pid_t)json_integer_value(json_object_get(j, "init_pid"));
	*init_start = (uint64_t)json_integer_value(json_object_get(j, "init_start"));
	return 0;
}

/* A handle for a live shim: its pidfd and a new wait connection.  NULL when it is not there. */
static struct shim_handle *reconnect(struct berthd *d, struct daemon_container *c)
{
	_cleanup_json_ json_t *req = json_pack("{s:s}", "op", "wait");
	struct shim_handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->pidfd = h->wait_fd = -EBADF;
	if (read_shim_pid(d, c->id, &h->pid, &h->start_time, &h->init_pid, &h->init_start) < 0 ||
	    !shim_alive(h->pid, h->start_time))
		goto fail;
	h->pidfd = (int)syscall(SYS_pidfd_open, h->pid, 0);
	if (h->pidfd < 0 || !shim_alive(h->pid, h->start_time))
		goto fail;
	/* a shim from before init_start was recorded: its live init is the best we know */
	if (!h->init_start && h->init_pid > 0)
		h->init_start = berth_proc_start_time(h->init_pid);
	if (shim_request(d, c->id, req, -1, NULL, &h->wait_fd, SHIM_TIMEOUT_MS, NULL) < 0)
		goto fail;
	return h;
fail:
	shim_handle_free(h);
	return NULL;
}

/* docker's ShouldRestart at daemon start (restart manager fresh: no cancel) */
static bool restart_at_boot_locked(struct daemon_container *c)
{
	const json_t *rp = json_object_get(c->host_config, "RestartPolicy");
	const char *name = json_string_value(json_object_get(rp, "Name")) ?: "no";
	int64_t max = json_integer_value(json_object_get(rp, "MaximumRetryCount"));

	if (!c->started_at)
		return false;
	if (strcmp(name, "always") == 0)
		return true;
	if (strcmp(name, "unless-stopped") == 0)
		return !c->manually_stopped;
	if (strcmp(name, "on-failure") == 0)
		return c->exit_code != 0 && (max == 0 || c->restart_count < max);
	return false;
}

/*
 * live-restore false, at start, behind c's gate: stop what outlived the last berthd (docker's
 * restore shuts such a container down), then apply its restart policy as at any start -- not
 * the exit's own restart with its backoff, which the stop holds off.
 */
static void boot_stop(struct berthd *d, struct daemon_container *c)
{
	_cleanup_error_ struct berth_error *e = NULL;
	bool again;

	pthread_mutex_lock(&d->lock);
	c->restart_cancel = true;
	pthread_mutex_unlock(&d->lock);
	if (stop_container(d, c, NULL, INT32_MIN, false, &e) < 0 && e->code != EALREADY)
		log_warn("stop %s at start (live-restore is off): %s", c->id, e->msg);
	berth_error_freep(&e);
	pthread_mutex_lock(&d->lock);
	c->restart_cancel = false;
	again = !c->running && restart_at_boot_locked(c);
	pthread_mutex_unlock(&d->lock);
	if (again && start_locked_out(d, c, false, &e) < 0)
		log_warn("restart %s at start: %s", c->id, e ? e->msg : "?");
}

/* What a thread of its own does for one container at berthd's start (or shutdown). */
enum boot_what {
	BOOT_START,  /* its restart policy's start */
	BOOT_REMOVE, /* AutoRemove after an exit berthd did not see */
	BOOT_STOP,   /* live-restore false: berthd's own stop */
};

struct boot_job {
	struct berthd *d;
	struct daemon_container *c;
	enum boot_what what;
};

static void *boot_main(void *arg)
{
	struct boot_job *job = arg;
	_cleanup_error_ struct berth_error *e = NULL;

	if (job->what == BOOT_REMOVE) {
		autoremove(job->d, job->c);
	} else if (job->what == BOOT_STOP) {
		if (ctr_gate_enter(job->d, job->c) == 0) {
			boot_stop(job->d, job->c);
			ctr_gate_leave(job->d, job->c);
		}
	} else if (ctr_gate_enter(job->d, job->c) == 0) {
		if (start_locked_out(job->d, job->c, false, &e) < 0)
			log_warn("restart %s at start: %s", job->c->id, e ? e->msg : "?");
		ctr_gate_leave(job->d, job->c);
	}
	ctr_unref(job->d, job->c);
	atomic_fetch_sub(&job->d->containers.threads, 1);
	free(job);
	return NULL;
}

static void spawn_boot(struct berthd *d, struct daemon_container *c, enum boot_what what)
{
	struct boot_job *job = calloc(1, sizeof(*job));
	pthread_attr_t attr;
	pthread_t th;

	if (!job)
		return;
	job->d = d;
	job->what = what;
	pthread_mutex_lock(&d->lock);
	job->c = ctr_ref(c);
	pthread_mutex_unlock(&d->lock);
	atomic_fetch_add(&d->containers.threads, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, boot_main, job) != 0)
		boot_main(job);
	pthread_attr_destroy(&attr);
}

/* Running per its record: a live shim is reconnected; a gone one is an exit. */
static void restore_running(struct berthd *d, struct daemon_container *c)
{
	struct shim_handle *h = reconnect(d, c);

	if (h) {
		pthread_mutex_lock(&d->lock);
		c->shim = h;
		c->restarting = false;
		register_shim(d, c, h);
		ctr_health_start_locked(d, c, true);
		pthread_mutex_unlock(&d->lock);
		ctr_paused_restore(d, c);
		log_info("container %s: reconnected to its shim (pid %d)", c->id, (int)h->pid);
		/* live-restore false: what outlived the last berthd is stopped (docker's restore);
		 * its exit then goes through the restart policy as any other */
		if (!d->config.live_restore)
			spawn_boot(d, c, BOOT_STOP);
		return;
	}
	/* before berthd serves: a container whose shim is gone is never listed as running */
	bool restart = finish_exit(d, c, NULL, read_exit_file(d, c->id));
	if (restart || json_is_true(json_object_get(c->host_config, "AutoRemove")))
		spawn_boot(d, c, restart ? BOOT_START : BOOT_REMOVE);
}

/* Not running per its record, but a shim directory: a start berthd did not see through. */
static void restore_stray_shim(struct berthd *d, struct daemon_container *c, const char *sdir)
{
	_cleanup_json_ json_t *req = json_pack("{s:s}", "op", "state"), *st = NULL;
	struct shim_handle *h = NULL;
	pid_t pid = 0, init = 0;
	uint64_t start = 0, init_start = 0;

	if (read_shim_pid(d, c->id, &pid, &start, &init, &init_start) == 0 &&
	    shim_alive(pid, start) &&
	    shim_request(d, c->id, req, -1, &st, NULL, SHIM_TIMEOUT_MS, NULL) == 0 &&
	    berth_streq(json_string_value(json_object_get(st, "status")), "running") &&
	    (h = reconnect(d, c))) {
		/* it did start: adopt it */
		pthread_mutex_lock(&d->lock);
		c->running = true;
		c->restarting = false;
		c->pid = h->init_pid;
		c->started_ns = wall_ns();
		free(c->started_at);
		c->started_at = ctr_time_string(c->started_ns);
		c->shim = h;
		register_shim(d, c, h);
		ctr_health_start_locked(d, c, false);
		ctr_recount_locked(d);
		save_or_log(d, c);
		pthread_mutex_unlock(&d->lock);
		log_info("container %s: adopted its running shim (pid %d)", c->id, (int)pid);
		return;
	}
	if (pid > 0 && shim_alive(pid, start)) {
		int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pfd >= 0) {
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
			close(pfd);
		}
	}
	shim_cleanup(d, c, NULL);
	berth_rm_rf(sdir, NULL);
	log_info("container %s: removed what an unfinished start left", c->id);
}

/* Is the container in the table and running (or about to run again)? */
static bool running_container(struct berthd *d, const char *id)
{
	pthread_mutex_lock(&d->lock);
	struct daemon_container *c = ctr_find_locked(d, id, NULL);
	bool keep = c && c->running;
	pthread_mutex_unlock(&d->lock);
	return keep;
}

int daemon_containers_restore(struct berthd *d, struct berth_error **err)
{
	struct daemon_containers *t = &d->containers;
	struct daemon_container **v;
	size_t n;
	int r;

	r = ctr_monitor_start(d, err);
	if (r < 0)
		return r;
	pthread_mutex_lock(&d->lock);
	/* the volumes are loaded by now: each container holds its own again */
	for (size_t i = 0; i < t->n; i++)
		ctr_mounts_hold_locked(d, t->v[i]);
	n = t->n;
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		v[i] = ctr_ref(t->v[i]);
	pthread_mutex_unlock(&d->lock);
	if (!v)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct daemon_container *c = v[i];
		_cleanup_free_ char *sdir = shim_dir(d, c->id);
		struct stat st;

		if (c->running && c->restarting) {
			/* berthd stopped during a restart's backoff: the restart is due */
			spawn_boot(d, c, BOOT_START);
		} else if (c->running) {
			/* its option volumes are still mounted: counted, not mounted again */
			_cleanup_error_ struct berth_error *ve = NULL;
			if (daemon_volumes_mount(d, c->id, c->mount_points, &ve) < 0)
				log_warn("container %s: %s", c->id, ve ? ve->msg : "?");
			restore_running(d, c);
		} else {
			if (sdir && stat(sdir, &st) == 0)
				restore_stray_shim(d, c, sdir);
			pthread_mutex_lock(&d->lock);
			bool running = c->running;
			bool boot = !running && restart_at_boot_locked(c);
			bool remove = !running && !boot && c->started_at &&
				      json_is_true(json_object_get(c->host_config, "AutoRemove"));
			pthread_mutex_unlock(&d->lock);
			if (!running) {
				ctr_root_unmount(c, NULL);
				ctr_network_teardown(d, c);
				daemon_volumes_unmount(d, c->id);
			}
			if (boot || remove)
				spawn_boot(d, c, remove ? BOOT_REMOVE : BOOT_START);
		}
		ctr_unref(d, c);
	}
	free(v);
	daemon_networks_drop_stale(d, running_container);
	daemon_volumes_unmount_unused(d);
	return 0;
}

/* ---- live-restore false: stopped with berthd ------------------------------------------------ */

static void *shutdown_main(void *arg)
{
	struct boot_job *job = arg;
	_cleanup_error_ struct berth_error *e = NULL;

	if (stop_container(job->d, job->c, NULL, INT32_MIN, false, &e) < 0 && e->code != EALREADY)
		log_warn("stop %s at shutdown: %s", job->c->id, e->msg);
	return NULL;
}

void daemon_containers_shutdown(struct berthd *d)
{
	struct daemon_containers *t = &d->containers;
	struct boot_job *jobs;
	pthread_t *threads;
	size_t n = 0;

	pthread_mutex_lock(&d->lock);
	jobs = calloc(t->n + 1, sizeof(*jobs));
	threads = calloc(t->n + 1, sizeof(*threads));
	for (size_t i = 0; jobs && threads && i < t->n; i++) {
		struct daemon_container *c = t->v[i];
		if (c->running && !c->restarting && !c->removed)
			jobs[n++] = (struct boot_job){.d = d, .c = ctr_ref(c), .what = BOOT_STOP};
	}
	pthread_mutex_unlock(&d->lock);
	if (!jobs || !threads) {
		free(jobs);
		free(threads);
		log_error("stop the containers at shutdown: out of memory");
		return;
	}
	if (n)
		log_info("live-restore is off: stopping %zu running container(s)", n);
	for (size_t i = 0; i < n; i++)
		if (pthread_create(&threads[i], NULL, shutdown_main, &jobs[i]) != 0) {
			shutdown_main(&jobs[i]);
			threads[i] = 0;
		}
	for (size_t i = 0; i < n; i++) {
		if (threads[i])
			pthread_join(threads[i], NULL);
		ctr_unref(d, jobs[i].c);
	}
	free(jobs);
	free(threads);
}
