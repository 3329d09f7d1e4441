/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berthd's side of the shim protocol (docs/daemon.md, "The shim"): the sealed copy of berth-shim
 * made once at start, spawning a shim (posix_spawn of the copy: berthd has threads, so no bare
 * fork), its sync answer, requests on shim.sock (SOCK_SEQPACKET, one JSON message each way, an fd
 * passed with attach and exec), and the cleanup helper for a shim that died.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers-internal.h"
#include "base/banned.h"

#define SYNC_TIMEOUT_MS (120 * 1000)
#define MSG_MAX		(64 * 1024)

extern char **environ;

/* An fd at 10 or above, so the child's dup2s onto 3 and 4 cannot collide with it. */
static int high_fd(int fd)
{
	int n = fcntl(fd, F_DUPFD_CLOEXEC, 10);

	close(fd);
	return n;
}

int shim_binary_open(struct berthd *d, struct berth_error **err)
{
	int r = berth_sealed_memfd_of_file(d->containers.shim_path, &d->containers.shim_fd, err);

	if (r < 0)
		return berth_error_wrap(err, "berth-shim (set BERTHD_SHIM to its path)");
	/* the spawn execs /proc/self/fd/N after its dup2s onto 3..7: N must be none of those */
	d->containers.shim_fd = high_fd(d->containers.shim_fd);
	if (d->containers.shim_fd < 0)
		return berth_error_sys(err, errno, "dup berth-shim's copy");
	return 0;
}

char *shim_dir(struct berthd *d, const char *id)
{
	char *p = NULL;

	if (asprintf(&p, "%s/shims/%s", d->config.exec_root, id) < 0)
		return NULL;
	return p;
}

bool shim_alive(pid_t pid, uint64_t start_time)
{
	return pid > 0 && start_time != 0 && berth_proc_start_time(pid) == start_time;
}

void shim_handle_free(struct shim_handle *h)
{
	if (!h)
		return;
	if (h->pidfd >= 0)
		close(h->pidfd);
	if (h->wait_fd >= 0)
		close(h->wait_fd);
	free(h);
}

/*
 * Run the shim's copy with cfg on fd 3 (and the write end of sync on fd 4 when sync_w >= 0, and
 * ns_fds[i] >= 0 on SHIM_FD_IPC_NS + i); the rest of berthd's fds close (they are close-on-exec).
 * *ret_pid is the spawned process.
 */
static int spawn_copy(struct berthd *d, char *const argv[], const char *cfg_text, int sync_w,
		      const int *ns_fds, pid_t *ret_pid, struct berth_error **err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	int cfgp[2], high[SHIM_N_NS_FDS];
	char exe[64];
	int r;

	/* the dup2s below go in order onto 3..7: sources at 10 and above cannot be overwritten */
	for (int i = 0; i < SHIM_N_NS_FDS; i++) {
		high[i] = ns_fds && ns_fds[i] >= 0 ? fcntl(ns_fds[i], F_DUPFD_CLOEXEC, 10) : -EBADF;
		if (ns_fds && ns_fds[i] >= 0 && high[i] < 0) {
			r = errno;
			for (int k = 0; k < i; k++)
				if (high[k] >= 0)
					close(high[k]);
			return berth_error_sys(err, r, "dup");
		}
	}

	if (pipe2(cfgp, O_CLOEXEC) < 0) {
		r = berth_error_sys(err, errno, "pipe");
		goto out_high;
	}
	cfgp[0] = high_fd(cfgp[0]);
	/* the config is small: it fits in the pipe, and the shim reads it first thing */
	r = berth_write_all(cfgp[1], cfg_text, strlen(cfg_text));
	close(cfgp[1]);
	if (r < 0 || cfgp[0] < 0) {
		if (cfgp[0] >= 0)
			close(cfgp[0]);
		r = berth_error_sys(err, r < 0 ? -r : errno, "write the shim's config");
		goto out_high;
	}
	snprintf(exe, sizeof(exe), "/proc/self/fd/%d", d->containers.shim_fd);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, cfgp[0], 3);
	if (sync_w >= 0)
		posix_spawn_file_actions_adddup2(&fa, sync_w, 4);
	for (int i = 0; i < SHIM_N_NS_FDS; i++)
		if (high[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, high[i], SHIM_FD_IPC_NS + i);
	posix_spawnattr_init(&attr);
	/* berthd blocks its signals in every thread and ignores SIGPIPE: the shim starts clean */
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	/* the memfd is close-on-exec: the kernel has the file open before it closes our fds */
	r = posix_spawn(ret_pid, exe, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(cfgp[0]);
	if (r != 0)
		r = berth_error_sys(err, r, "spawn berth-shim");
out_high:
	for (int i = 0; i < SHIM_N_NS_FDS; i++)
		if (high[i] >= 0)
			close(high[i]);
	return r;
}

static json_t *read_sync(int fd, struct berth_error **err)
{
	char buf[4096];
	size_t len = 0;
	int64_t deadline = ctr_mono_ns() + (int64_t)SYNC_TIMEOUT_MS * 1000000;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = (deadline - ctr_mono_ns()) / 1000000;
		if (left <= 0) {
			berth_error_set(err, ETIMEDOUT, "berth-shim did not answer within %d s",
					SYNC_TIMEOUT_MS / 1000);
			return NULL;
		}
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			berth_error_sys(err, errno, "poll");
			return NULL;
		}
		if (r == 0)
			continue;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			berth_error_sys(err, errno, "read the shim's answer");
			return NULL;
		}
		len += (size_t)n;
		/* the answer is one line; EOF may come late (the init holds the pipe until exec) */
		if (n == 0 || memchr(buf, '\n', len) || len >= sizeof(buf) - 1)
			break;
	}
	buf[len] = '\0';
	if (len == 0) {
		berth_error_set(err, EIO, "berth-shim exited without an answer (see its shim.log)");
		return NULL;
	}
	json_t *j = json_loadb(buf, len, 0, NULL);
	if (!j)
		berth_error_set(err, EIO, "berth-shim answered something else than JSON: %.200s",
				buf);
	return j;
}

int shim_spawn(struct berthd *d, struct daemon_container *c, json_t *cfg,
	       const int ns_fds[SHIM_N_NS_FDS], struct shim_handle **ret, struct berth_error **err)
{
	_cleanup_free_ char *text = json_dumps(cfg, JSON_COMPACT);
	_cleanup_json_ json_t *ans = NULL;
	const char *dir = json_string_value(json_object_get(cfg, "dir"));
	char *const argv[] = {"berth-shim", "--id", c->id, "--dir", (char *)dir, NULL};
	struct shim_handle *h;
	int syncp[2];
	pid_t pid;
	int status, r;

	if (!text)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (pipe2(syncp, O_CLOEXEC) < 0)
		return berth_error_sys(err, errno, "pipe");
	syncp[1] = high_fd(syncp[1]);
	r = syncp[1] < 0 ? berth_error_sys(err, errno, "dup") : 0;
	if (r == 0)
		r = spawn_copy(d, argv, text, syncp[1], ns_fds, &pid, err);
	if (syncp[1] >= 0)
		close(syncp[1]);
	if (r < 0) {
		close(syncp[0]);
		return r;
	}
	/* the first process forks the shim and exits at once */
	berth_waitpid(pid, 0, &status);
	ans = read_sync(syncp[0], err);
	close(syncp[0]);
	if (!ans)
		return -EIO;
	if (json_object_get(ans, "error")) {
		int code = (int)json_integer_value(json_object_get(ans, "code"));
		return berth_error_set(err, code > 0 ? code : EIO, "%s",
				       json_string_value(json_object_get(ans, "error")) ?: "?");
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return berth_error_set(err, ENOMEM, "out of memory");
	h->pidfd = h->wait_fd = -EBADF;
	h->pid = (pid_t)json_integer_value(json_object_get(ans, "shim_pid"));
	h->start_time = (uint64_t)json_integer_value(json_object_get(ans, "shim_start"));
	h->init_pid = (pid_t)json_integer_value(json_object_get(ans, "pid"));
	h->init_start = (uint64_t)json_integer_value(json_object_get(ans, "init_start"));
	h->pidfd = (int)syscall(SYS_pidfd_open, h->pid, 0);
	if (h->pidfd < 0 || !shim_alive(h->pid, h->start_time)) {
		/* it died already: the monitor finds exit.json or cleans up as for a dead shim */
		if (h->pidfd >= 0)
			close(h->pidfd);
		h->pidfd = -EBADF;
	}
	*ret = h;
	return 0;
}

int shim_connect(struct berthd *d, const char *id, int timeout_ms, int *ret_fd,
		 struct berth_error **err)
{
	_cleanup_free_ char *dir = shim_dir(d, id);
	_cleanup_close_ int fd = -EBADF, dirfd = -EBADF;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	if (!dir)
		return berth_error_set(err, ENOMEM, "out of memory");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berth_error_sys(err, errno, "socket");
	if (strlen(dir) + strlen("/shim.sock") < sizeof(sa.sun_path)) {
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/shim.sock", dir);
	} else {
		/* a deep exec root: reach the socket through the directory's fd */
		dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return berth_error_sys(err, errno, "open '%s'", dir);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/shim.sock", dirfd);
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return berth_error_sys(err, errno, "connect to the shim of %s", id);
	if (timeout_ms > 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int shim_recv(int fd, json_t **ret, struct berth_error **err)
{
	_cleanup_free_ char *buf = malloc(MSG_MAX + 1);
	ssize_t n;

	*ret = NULL;
	if (!buf)
		return berth_error_set(err, ENOMEM, "out of memory");
	do
		n = recv(fd, buf, MSG_MAX, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berth_error_sys(err, errno == EAGAIN ? ETIMEDOUT : errno,
				       "read from the shim");
	if (n == 0)
		return 0;
	*ret = json_loadb(buf, (size_t)n, 0, NULL);
	if (!*ret)
		return berth_error_set(err, EIO, "the shim sent something else than JSON");
	return 1;
}

int shim_request(struct berthd *d, const char *id, json_t *req, int fd, json_t **ret, int *ret_fd,
		 int timeout_ms, struct berth_error **err)
{
	_cleanup_free_ char *text = json_dumps(req, JSON_COMPACT);
	_cleanup_close_ int conn = -EBADF;
	_cleanup_json_ json_t *ans = NULL;
	int r;

	if (!text) {
		if (fd >= 0)
			close(fd);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	r = shim_connect(d, id, timeout_ms, &conn, err);
	if (r == 0) {
		r = berth_send_fd(conn, text, strlen(text), fd);
		if (r < 0)
			r = berth_error_sys(err, -r, "send to the shim of %s", id);
	}
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return r;
	r = shim_recv(conn, &ans, err);
	if (r < 0)
		return r;
	if (r == 0)
		return berth_error_set(err, ESRCH, "the shim of %s closed the connection", id);
	if (json_object_get(ans, "error")) {
		int code = (int)json_integer_value(json_object_get(ans, "code"));
		return berth_error_set(err, code > 0 ? code : EIO, "%s",
				       json_string_value(json_object_get(ans, "error")) ?: "?");
	}
	if (ret)
		*ret = TAKE_PTR(ans);
	if (ret_fd) {
		struct timeval tv = {0, 0};
		setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		*ret_fd = TAKE_FD(conn);
	}
	return 0;
}

int shim_cleanup(struct berthd *d, struct daemon_container *c, struct berth_error **err)
{
	_cleanup_free_ char *dir = shim_dir(d, c->id), *state = NULL, *rootfs = NULL, *text = NULL;
	_cleanup_json_ json_t *cfg = NULL;
	char *const argv[] = {"berth-shim", "cleanup", "--id", c->id, "--dir", dir, NULL};
	pid_t pid;
	int status, r;

	if (!dir || asprintf(&state, "%s/runtime", d->config.exec_root) < 0 ||
	    asprintf(&rootfs, "%s/merged", c->dir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	cfg = json_pack("{s:s,s:s,s:s,s:s}", "id", c->id, "dir", dir, "state_root", state, "rootfs",
			rootfs);
	text = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
	if (!text)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = spawn_copy(d, argv, text, -1, NULL, &pid, err);
	if (r < 0)
		return r;
	r = berth_waitpid(pid, 0, &status);
	if (r < 0)
		return berth_error_sys(err, -r, "wait for berth-shim cleanup");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return berth_error_set(err, EIO, "berth-shim cleanup of %s failed (status %d)",
				       c->id, status);
	return 0;
}
