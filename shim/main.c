/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth-shim: the per-container monitor (shim.h; the protocol in docs/daemon.md).
 *
 *   berth-shim --id ID --dir DIR      config JSON on fd 3, sync pipe on fd 4
 *   berth-shim cleanup --id ID ...    the same config on fd 3: remove what a shim that died
 *                                     left (processes, cgroup, runtime state, the root mount)
 *
 * berthd starts it from a sealed memfd copy (execveat), so /proc/PID/exe of this process and of
 * the container's init before its exec is never a host file a container could reopen.  The
 * flags are there for `ps` and the tests' leak checks; what counts is the config on fd 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"
#include "base/banned.h"

#define CONFIG_MAX (1 << 20)
#define DRAIN_USEC (2 * 1000 * 1000)

static struct shim *the_shim;

void shim_logf(struct shim *s, const char *level, const char *fmt, ...)
{
	char ts[48], msg[2048];
	va_list ap;

	if (s && strcmp(level, "debug") == 0 && !s->debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	shim_time_rfc3339nano(ts, sizeof(ts));
	dprintf(2, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
}

static void lib_log(void *data, enum berth_log_level level, const char *msg)
{
	shim_logf(data, berth_log_level_name(level), "%s", msg);
}

static const char *cfg_str(const json_t *cfg, const char *key)
{
	return json_string_value(json_object_get(cfg, key));
}

static int read_config(json_t **ret, struct berth_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	r = berth_read_fd(3, CONFIG_MAX, &data, &len, err);
	close(3);
	if (r < 0)
		return berth_error_wrap(err, "read the config on fd 3");
	r = berth_json_parse(data, len, ret, err);
	if (r < 0)
		return berth_error_wrap(err, "the config on fd 3");
	if (!cfg_str(*ret, "id") || !cfg_str(*ret, "dir") || !cfg_str(*ret, "state_root"))
		return berth_error_set(err, EINVAL,
				       "the config on fd 3 lacks id, dir or state_root");
	return 0;
}

/* ---- the end ---------------------------------------------------------------------------- */

static void read_oom(struct shim *s)
{
	struct berth_cgroup_event_counts n;

	if (!s->oom || berth_cgroup_events_read(s->oom, &n, NULL) < 0)
		return;
	/* one event per process the OOM killer killed (oom alone rises several times per kill on
	 * v1, and without a kill when the OOM killer is disabled) */
	if (n.oom_kill && !s->finished) {
		if (!s->oom_killed)
			shim_logf(s, "info", "the container ran out of memory");
		s->oom_killed = true;
		shim_server_broadcast(s, "{\"event\":\"oom\"}", false);
	}
	if (n.gone) {
		berth_loop_source_freep(&s->oom_src);
		berth_cgroup_events_free(s->oom);
		s->oom = NULL;
	}
}

static int on_oom(struct berth_loop_source *src, int fd, uint32_t revents, void *data,
		  struct berth_error **err)
{
	read_oom(data);
	return 0;
}

static void finish(struct shim *s)
{
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *exit_json = NULL;
	char ts[48];

	s->finished = true;
	berth_loop_source_freep(&s->drain_timer);
	/* nobody new may connect: the directory is berthd's again once the exit is told */
	berth_loop_source_freep(&s->listen_src);
	if (s->listen_fd >= 0) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/shim.sock", s->dir);
		unlink(path);
		close(s->listen_fd);
		s->listen_fd = -EBADF;
	}
	pio_close_outputs(&s->io);
	shim_log_close(&s->log);
	read_oom(s);
	berth_loop_source_freep(&s->oom_src);
	berth_cgroup_events_free(s->oom);
	s->oom = NULL;

	/* exit.json means: the container is gone, its cgroup and state too, its root unmounted */
	if (berth_container_delete(s->c, true, &e) < 0) {
		shim_logf(s, "error", "delete: %s", e ? e->msg : "?");
		berth_error_freep(&e);
	}
	if (s->rootfs && umount2(s->rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		shim_logf(s, "warning", "unmount '%s': %s", s->rootfs, strerror(errno));

	shim_time_rfc3339nano(ts, sizeof(ts));
	json_t *j = json_pack("{s:s,s:i,s:i,s:b,s:s}", "event", "exit", "exit_code",
			      berth_exit_status_code(&s->status), "signal", s->status.signal,
			      "oom_killed", s->oom_killed, "finished_at", ts);
	exit_json = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!exit_json || berth_write_file_replace_at(AT_FDCWD, s->exit_file, exit_json,
						      strlen(exit_json), 0600, &e) < 0)
		shim_logf(s, "error", "write '%s': %s", s->exit_file, e ? e->msg : "out of memory");
	shim_logf(s, "debug", "exited: %s", exit_json ? exit_json : "?");
	if (exit_json)
		shim_server_broadcast(s, exit_json, true);
	pio_close_clients(&s->io);
	shim_server_close(s);
	berth_loop_quit(s->loop, 0);
}

void shim_check_finish(struct shim *s)
{
	if (s->exited && !s->finished && pio_outputs_done(&s->io))
		finish(s);
}

/* docker's "detach" event: told on the wait connections */
static void init_on_detach(struct pio *p)
{
	shim_server_broadcast(p->s, "{\"event\":\"detach\"}", false);
}

static void init_on_eof(struct pio *p)
{
	shim_check_finish(p->s);
}

static int on_drain_deadline(struct berth_loop_source *src, void *data, struct berth_error **err)
{
	struct shim *s = data;

	/* a process outside the container's pid namespace may hold its pipes: stop waiting */
	pio_close_outputs(&s->io);
	shim_check_finish(s);
	return 0;
}

static int on_init_exit(struct berth_loop_source *src, struct berth_pidfd *p, void *data,
			struct berth_error **err)
{
	struct shim *s = data;

	s->exited = true;
	if (p->has_status)
		s->status = p->status;
	else
		s->status = (struct berth_exit_status){.code = 0, .signal = SIGKILL};
	read_oom(s);
	pio_close_stdin(&s->io);
	if (!pio_outputs_done(&s->io))
		berth_loop_add_timer(s->loop, DRAIN_USEC, 0, on_drain_deadline, s, &s->drain_timer,
				     NULL);
	shim_check_finish(s);
	return 0;
}

/* ---- start ------------------------------------------------------------------------------ */

static int setup_log(struct shim *s, const json_t *cfg, struct berth_error **err)
{
	const json_t *lc = json_object_get(cfg, "log");
	const char *driver = cfg_str(lc, "driver");
	const char *path = cfg_str(lc, "path");

	s->log.fd = -EBADF;
	if (!driver || strcmp(driver, "none") == 0 || !path)
		return 0;
	if (strcmp(driver, "json-file") != 0)
		return berth_error_set(err, EINVAL, "log driver '%s' is not supported", driver);
	/* local's log sits in a directory of its own (local-logs/container.log) */
	{
		_cleanup_free_ char *parent = strdup(path);
		char *slash = parent ? strrchr(parent, '/') : NULL;
		if (slash && slash != parent) {
			*slash = '\0';
			if (mkdir(parent, 0700) < 0 && errno != EEXIST)
				return berth_error_sys(err, errno, "mkdir '%s'", parent);
		}
	}
	return shim_log_open(&s->log, path, json_integer_value(json_object_get(lc, "max_size")),
			     (int)json_integer_value(json_object_get(lc, "max_file")), err);
}

/*
 * The namespaces of other containers berthd opened for us (cfg "ns_fds"; the bundle names them
 * /proc/self/fd/N): close-on-exec until the create has joined them, closed after it.
 */
static bool ns_fd_ok(const json_t *v)
{
	json_int_t fd = json_integer_value(v);

	return fd > 4 && fd < 16; /* above the config and the sync pipe, nothing of our own */
}

static void keep_ns_fds(const json_t *cfg)
{
	size_t i;
	json_t *v;

	json_array_foreach (json_object_get(cfg, "ns_fds"), i, v)
		if (ns_fd_ok(v))
			fcntl((int)json_integer_value(v), F_SETFD, FD_CLOEXEC);
}

static void close_ns_fds(const json_t *cfg)
{
	size_t i;
	json_t *v;

	json_array_foreach (json_object_get(cfg, "ns_fds"), i, v)
		if (ns_fd_ok(v))
			close((int)json_integer_value(v));
}

static int create(struct shim *s, const json_t *cfg, struct berth_error **err)
{
	struct berth_create_opts co = {0};
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, stdio[3], pty = -EBADF;
	int r;

	co.bundle = s->dir;
	co.ret_pidfd = &s->init;
	if (s->tty) {
		co.ret_pty_master = &pty;
	} else {
		if ((s->open_stdin && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
		    pipe2(errp, O_CLOEXEC) < 0) {
			r = berth_error_sys(err, errno, "pipe");
			goto out;
		}
		stdio[0] = s->open_stdin ? in[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
		stdio[1] = out[1];
		stdio[2] = errp[1];
		co.stdio = stdio;
	}
	r = berth_container_create(&s->ro, s->id, &co, &s->c, err);
	close_ns_fds(cfg);
	if (!s->tty) {
		close(stdio[0]);
		close(out[1]);
		close(errp[1]);
		in[0] = out[1] = errp[1] = -1;
	}
	if (r < 0)
		goto out;
	/* the init waits on its exec fifo, our child: it cannot be gone, nor its pid reused */
	s->init_start = berth_proc_start_time(s->init->pid);
	s->io.s = s;
	s->io.tty = s->tty;
	s->io.stdin_once = s->stdin_once;
	s->io.log = &s->log;
	s->io.on_eof = init_on_eof;
	s->io.on_detach = init_on_detach;
	if (s->tty) {
		const json_t *console = json_object_get(cfg, "console");
		json_int_t h = json_integer_value(json_object_get(console, "height"));
		json_int_t w = json_integer_value(json_object_get(console, "width"));
		if (h > 0 && w > 0 && h < 65536 && w < 65536)
			berth_pty_set_size(pty, (unsigned)h, (unsigned)w, NULL);
		s->io.out_fd[0] = pty;
		s->io.out_fd[1] = -EBADF;
		s->io.in_fd = s->open_stdin ? fcntl(pty, F_DUPFD_CLOEXEC, 3) : -EBADF;
		pty = -EBADF;
	} else {
		s->io.in_fd = in[1];
		s->io.out_fd[0] = out[0];
		s->io.out_fd[1] = errp[0];
		in[1] = out[0] = errp[0] = -1;
	}
	r = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (pty >= 0)
		close(pty);
	return r;
}

/*
 * Bring up lo in the init's new network namespace.  A child of ours joins that namespace alone
 * (no other one: it never sees the container's files or processes) and sets IFF_UP; the init
 * waits on its exec fifo meanwhile.  We are single-threaded, so a bare fork is fine.
 */
static int loopback_up(struct shim *s, struct berth_error **err)
{
	char path[64];
	int status = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)s->init->pid);
	pid = fork();
	if (pid < 0)
		return berth_error_sys(err, errno, "fork");
	if (pid == 0) {
		struct ifreq ifr = {0};
		int ns = open(path, O_RDONLY | O_CLOEXEC), sk;
		if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
			_exit(2);
		sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		if (sk < 0 || ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
			_exit(3);
		ifr.ifr_flags |= IFF_UP;
		_exit(ioctl(sk, SIOCSIFFLAGS, &ifr) < 0 ? 4 : 0);
	}
	if (berth_waitpid(pid, 0, &status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return berth_error_set(err, EIO,
				       "bring up lo in the container's network namespace "
				       "(step %d failed)",
				       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

static int write_pid_file(struct shim *s, struct berth_error **err)
{
	_cleanup_free_ char *path = NULL, *text = NULL;

	if (asprintf(&path, "%s/shim.pid", s->dir) < 0 ||
	    asprintf(&text,
		     "{\"pid\":%d,\"start_time\":%llu,\"init_pid\":%d,\"init_start\":%llu}\n",
		     (int)getpid(), (unsigned long long)berth_proc_start_time(getpid()),
		     (int)s->init->pid, (unsigned long long)s->init_start) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	return berth_write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0600, err);
}

static void sync_error(int sync_fd, const struct berth_error *e)
{
	json_t *j = json_pack("{s:s,s:i}", "error", e && e->msg ? e->msg : "?", "code",
			      e && e->code ? e->code : EIO);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;

	/* one line: berthd reads up to the newline, since the container's init holds a copy of
	 * this pipe until its exec and EOF would come only then */
	if (s) {
		berth_write_all(sync_fd, s, strlen(s));
		berth_write_all(sync_fd, "\n", 1);
	}
	free(s);
	json_decref(j);
	close(sync_fd);
}

static int shim_main(json_t *cfg, int sync_fd)
{
	_cleanup_error_ struct berth_error *e = NULL;
	struct shim s = {.listen_fd = -EBADF, .log_fd = 2};
	char text[128];
	sigset_t block;
	int r;

	the_shim = &s;
	s.id = (char *)cfg_str(cfg, "id");
	s.dir = (char *)cfg_str(cfg, "dir");
	s.state_root = (char *)cfg_str(cfg, "state_root");
	s.rootfs = (char *)cfg_str(cfg, "rootfs");
	s.tty = json_is_true(json_object_get(cfg, "tty"));
	s.open_stdin = json_is_true(json_object_get(cfg, "open_stdin"));
	s.stdin_once = json_is_true(json_object_get(cfg, "stdin_once"));
	s.debug = json_is_true(json_object_get(cfg, "debug"));
	s.io.in_fd = s.io.out_fd[0] = s.io.out_fd[1] = -EBADF;
	s.log.fd = -EBADF;
	if (asprintf(&s.exit_file, "%s/exit.json", s.dir) < 0)
		return 1;
	s.ro.state_root = s.state_root;
	s.ro.seccomp_cache = cfg_str(cfg, "seccomp_cache");
	s.ro.log = (struct berth_log){.fn = lib_log, .data = &s, .debug = s.debug};

	/* the container's init is our child (or, forked, our orphan): we reap it */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGPIPE);
	sigprocmask(SIG_BLOCK, &block, NULL);

	r = berth_loop_new(&s.loop, &e);
	if (r == 0)
		r = setup_log(&s, cfg, &e);
	if (r == 0)
		r = create(&s, cfg, &e);
	if (r < 0) {
		shim_logf(&s, "error", "create: %s", e ? e->msg : "?");
		sync_error(sync_fd, e);
		shim_log_close(&s.log);
		return 1;
	}
	if (json_is_true(json_object_get(cfg, "loopback")) && loopback_up(&s, &e) < 0) {
		shim_logf(&s, "error", "create: %s", e->msg);
		sync_error(sync_fd, e);
		berth_pidfd_signal(s.init, SIGKILL, NULL);
		berth_container_delete(s.c, true, NULL);
		shim_log_close(&s.log);
		return 1;
	}
	r = berth_loop_add_reaper(s.loop, NULL, &e);
	if (r == 0)
		r = berth_loop_add_child(s.loop, s.init, on_init_exit, &s, NULL, &e);
	if (r == 0)
		r = pio_start(&s.io, &e);
	if (r == 0)
		r = shim_server_start(&s, &e);
	if (r == 0)
		r = write_pid_file(&s, &e);
	if (r == 0 && berth_cgroup_events_open(s.c->cgroup, &s.oom, NULL) == 0)
		r = berth_loop_add_io(s.loop, berth_cgroup_events_fd(s.oom), EPOLLIN, on_oom, &s,
				      &s.oom_src, &e);
	if (r < 0)
		goto fail;
	snprintf(text, sizeof(text),
		 "{\"pid\":%d,\"init_start\":%llu,\"shim_pid\":%d,\"shim_start\":%llu}\n",
		 (int)s.init->pid, (unsigned long long)s.init_start, (int)getpid(),
		 (unsigned long long)berth_proc_start_time(getpid()));
	if (berth_write_all(sync_fd, text, strlen(text)) < 0) {
		/* berthd is gone before it knew of us: nobody will ever start this container */
		berth_error_set(&e, EPIPE, "berthd went away during create");
		close(sync_fd);
		sync_fd = -EBADF;
		goto fail;
	}
	close(sync_fd);
	sync_fd = -EBADF;
	shim_logf(&s, "debug", "created, init pid %d", (int)s.init->pid);
	malloc_trim(0);

	r = berth_loop_run(s.loop, &e);
	if (r < 0)
		shim_logf(&s, "error", "%s", e ? e->msg : "?");
	if (!s.finished) {
		/* the loop failed: never leave the container behind */
		berth_pidfd_signal(s.init, SIGKILL, NULL);
		s.exited = true;
		s.status = (struct berth_exit_status){.signal = SIGKILL};
		finish(&s);
	}
	pio_release(&s.io);
	berth_loop_free(s.loop);
	berth_pidfd_free(s.init);
	berth_container_free(s.c);
	free(s.exit_file);
	return 0;

fail:
	shim_logf(&s, "error", "%s", e ? e->msg : "?");
	if (sync_fd >= 0)
		sync_error(sync_fd, e);
	berth_pidfd_signal(s.init, SIGKILL, NULL);
	berth_container_delete(s.c, true, NULL);
	shim_server_close(&s);
	pio_release(&s.io);
	shim_log_close(&s.log);
	return 1;
}

/* ---- cleanup: what a dead shim left --------------------------------------------------------- */

static int cleanup_main(json_t *cfg)
{
	_cleanup_error_ struct berth_error *e = NULL;
	struct berth_runtime_opts ro = {.state_root = cfg_str(cfg, "state_root")};
	struct berth_container *c = NULL;
	const char *rootfs = cfg_str(cfg, "rootfs");
	int r, ret = 0;

	r = berth_container_load(&ro, cfg_str(cfg, "id"), &c, &e);
	if (r == 0) {
		r = berth_container_delete(c, true, &e);
		berth_container_free(c);
		if (r < 0) {
			fprintf(stderr, "berth-shim cleanup: %s\n", e ? e->msg : "?");
			ret = 1;
		}
	} else {
		/* no state (a create that died half way, a delete cut short): the cgroup by name */
		_cleanup_free_ char *bundle_cfg = NULL;
		_cleanup_json_ json_t *spec = NULL;
		const char *path;
		berth_error_freep(&e);
		if (asprintf(&bundle_cfg, "%s/config.json", cfg_str(cfg, "dir")) > 0 &&
		    berth_json_load_file(bundle_cfg, 8 << 20, &spec, NULL) == 0 &&
		    (path = json_string_value(
			     json_object_get(json_object_get(spec, "linux"), "cgroupsPath"))) &&
		    path[0] == '/') {
			struct berth_cgroup *cg = NULL;
			if (berth_cgroup_new(NULL, path, &cg, &e) == 0 &&
			    berth_cgroup_destroy(cg, &e) < 0) {
				fprintf(stderr, "berth-shim cleanup: %s\n", e ? e->msg : "?");
				ret = 1;
			}
			berth_cgroup_free(cg);
		}
	}
	if (rootfs && umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
		fprintf(stderr, "berth-shim cleanup: unmount '%s': %s\n", rootfs, strerror(errno));
		ret = 1;
	}
	return ret;
}

int main(int argc, char **argv)
{
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *cfg = NULL;
	bool cleanup = argc > 1 && strcmp(argv[1], "cleanup") == 0;
	int sync_fd = 4;
	pid_t pid;

	sigset_t pipe_set;

	/* exec named us after the memfd: take our own name back for ps */
	prctl(PR_SET_NAME, "berth-shim", 0, 0, 0);
	/* blocked, not ignored: an ignored SIGPIPE would be inherited by the container's processes */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, NULL);
	if (read_config(&cfg, &e) < 0) {
		fprintf(stderr, "berth-shim: %s\n", e->msg);
		if (!cleanup)
			sync_error(sync_fd, e);
		return 1;
	}
	if (cleanup)
		return cleanup_main(cfg);
	keep_ns_fds(cfg);

	/* our own log beside the bundle; stdin/stdout go nowhere */
	{
		_cleanup_free_ char *log_path = NULL;
		int fd;
		if (asprintf(&log_path, "%s/shim.log", cfg_str(cfg, "dir")) < 0)
			return 1;
		fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			close(fd);
		}
	}
	/* no child of berthd: the first process exits at once, berthd reaps it */
	pid = fork();
	if (pid < 0) {
		berth_error_sys(&e, errno, "fork");
		sync_error(sync_fd, e);
		return 1;
	}
	if (pid > 0)
		_exit(0);
	setsid();
	if (chdir("/") < 0)
		return 1;
	return shim_main(cfg, sync_fd);
}
