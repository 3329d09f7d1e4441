/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shim.sock: a SOCK_SEQPACKET socket in the shim's directory.  Every message is one JSON object;
 * a request may carry one fd (SCM_RIGHTS): the client socket of an attach or an exec.  Each
 * request gets one answer ({"ok":true}, {"pid":N}, or {"error":"...","code":errno}); "wait" and
 * "exec" connections then stay open for what comes later (events, the exit).  docs/daemon.md
 * has the whole protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim.h"
#include "base/banned.h"

struct conn {
	struct shim *s;
	int fd;
	struct berth_loop_source *src;
	bool waiting;		/* a "wait" connection: gets events and the exit */
	struct exec_proc *exec; /* an "exec" connection: gets that process's exit */
	struct conn *next;
};

int shim_send_json(int fd, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int r;

	json_decref(j);
	if (!s)
		return -ENOMEM;
	r = send(fd, s, strlen(s), MSG_NOSIGNAL) < 0 ? -errno : 0;
	free(s);
	return r;
}

static int reply_error(int fd, int code, const char *msg)
{
	return shim_send_json(fd, json_pack("{s:s,s:i}", "error", msg ? msg : "?", "code",
					    code > 0 ? code : EIO));
}

static int reply_berror(int fd, const struct berth_error *e)
{
	return reply_error(fd, e ? e->code : EIO, e ? e->msg : "?");
}

static int reply_ok(int fd)
{
	return shim_send_json(fd, json_pack("{s:b}", "ok", 1));
}

static void conn_free(struct conn *c)
{
	struct shim *s = c->s;

	for (struct conn **pp = &s->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	if (c->exec)
		c->exec->conn = NULL;
	berth_loop_source_freep(&c->src);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "pending": input the client had sent before berthd handed its socket over, as hex */
static char *unhex(const char *s, size_t *ret_len)
{
	size_t n = s ? strlen(s) / 2 : 0;
	char *out = malloc(n + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (char)(hi << 4 | lo);
	}
	*ret_len = n;
	return out;
}

static bool jbool(const json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));
	return v;
}

static struct exec_proc *find_exec(struct shim *s, const char *id)
{
	for (struct exec_proc *e = s->execs; id && e; e = e->next)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

/* ---- requests --------------------------------------------------------------------------- */

static int op_start(struct shim *s, struct conn *c)
{
	_cleanup_error_ struct berth_error *e = NULL;
	int r;

	if (s->started)
		return reply_error(c->fd, EALREADY, "container already started");
	if (s->exited)
		return reply_error(c->fd, ESRCH, "container has exited");
	r = berth_container_start(s->c, &e);
	if (r < 0) {
		shim_logf(s, "warning", "start: %s", e ? e->msg : "?");
		return reply_berror(c->fd, e);
	}
	s->started = true;
	if (r == 1)
		shim_logf(s, "warning", "start: %s", e ? e->msg : "?");
	return reply_ok(c->fd);
}

static int op_attach(struct shim *s, struct conn *c, json_t *req, int fd)
{
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *pending = NULL;
	struct pio *p = &s->io;
	size_t pending_len = 0;
	int r;

	if (fd < 0)
		return reply_error(c->fd, EINVAL, "attach: no socket passed");
	if (jstr(req, "exec")) {
		struct exec_proc *x = find_exec(s, jstr(req, "exec"));
		if (!x) {
			close(fd);
			return reply_error(c->fd, ENOENT, "no such exec");
		}
		p = &x->io;
	}
	if (s->finished) {
		close(fd);
		return reply_error(c->fd, ESRCH, "container has exited");
	}
	if (jstr(req, "pending")) {
		pending = unhex(jstr(req, "pending"), &pending_len);
		if (!pending) {
			close(fd);
			return reply_error(c->fd, EINVAL, "attach: bad pending input");
		}
	}
	r = pio_attach(p, fd, jbool(req, "stdin"), jbool(req, "stdout"), jbool(req, "stderr"),
		       jstr(req, "detach_keys"), pending, pending_len, &e);
	if (r < 0)
		return reply_berror(c->fd, e);
	return reply_ok(c->fd);
}

static int op_kill(struct shim *s, struct conn *c, json_t *req)
{
	_cleanup_error_ struct berth_error *e = NULL;
	int sig = (int)json_integer_value(json_object_get(req, "signal"));
	int r;

	if (sig <= 0 || sig > 64)
		return reply_error(c->fd, EINVAL, "kill: bad signal");
	if (s->exited)
		return reply_error(c->fd, ESRCH, "container not running");
	if (jbool(req, "all"))
		r = berth_container_kill(s->c, sig, true, &e);
	else
		r = berth_pidfd_signal(s->init, sig, &e);
	if (r < 0)
		return reply_berror(c->fd, e);
	return reply_ok(c->fd);
}

static int op_resize(struct shim *s, struct conn *c, json_t *req)
{
	_cleanup_error_ struct berth_error *e = NULL;
	json_int_t h = json_integer_value(json_object_get(req, "height"));
	json_int_t w = json_integer_value(json_object_get(req, "width"));
	struct pio *p = &s->io;

	if (jstr(req, "exec")) {
		struct exec_proc *x = find_exec(s, jstr(req, "exec"));
		if (!x)
			return reply_error(c->fd, ENOENT, "no such exec");
		p = &x->io;
	}
	if (!p->tty || p->out_fd[0] < 0)
		return reply_error(c->fd, ENOTTY, "the process has no terminal");
	if (h < 0 || w < 0 || h > 65535 || w > 65535)
		return reply_error(c->fd, EINVAL, "resize: bad size");
	if (berth_pty_set_size(p->out_fd[0], (unsigned)h, (unsigned)w, &e) < 0)
		return reply_berror(c->fd, e);
	return reply_ok(c->fd);
}

static int op_state(struct shim *s, struct conn *c)
{
	return shim_send_json(c->fd,
			      json_pack("{s:i,s:b,s:b,s:s}", "pid", s->init ? (int)s->init->pid : 0,
					"started", s->started, "exited", s->exited, "status",
					s->exited    ? "stopped"
					: s->started ? "running"
						     : "created"));
}

/* ---- exec ------------------------------------------------------------------------------- */

static void exec_maybe_done(struct exec_proc *x)
{
	struct shim *s = x->s;

	if (!x->exited || !pio_outputs_done(&x->io))
		return;
	/* the exit first: a client that sees its stream end asks berthd for it at once */
	if (x->conn) {
		json_t *j = json_pack(
			"{s:s,s:s,s:i,s:i}", "event", "exit", "exec", x->id, "exit_code",
			x->pidfd->has_status ? berth_exit_status_code(&x->pidfd->status) : 137,
			"signal", x->pidfd->has_status ? x->pidfd->status.signal : 0);
		shim_send_json(x->conn->fd, j);
		conn_free(x->conn);
	}
	pio_close_clients(&x->io);
	for (struct exec_proc **pp = &s->execs; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	shim_exec_release(x);
	shim_check_finish(s);
}

/* docker's "exec_detach": told on the exec's connection, before its exit */
static void exec_on_detach(struct pio *p)
{
	struct exec_proc *x = (struct exec_proc *)((char *)p - offsetof(struct exec_proc, io));

	if (x->conn)
		shim_send_json(x->conn->fd,
			       json_pack("{s:s,s:s}", "event", "detach", "exec", x->id));
}

static void exec_on_eof(struct pio *p)
{
	exec_maybe_done((struct exec_proc *)((char *)p - offsetof(struct exec_proc, io)));
}

static int on_exec_exit(struct berth_loop_source *src, struct berth_pidfd *p, void *data,
			struct berth_error **err)
{
	struct exec_proc *x = data;

	x->exited = true;
	pio_close_stdin(&x->io);
	exec_maybe_done(x);
	return 0;
}

void shim_exec_release(struct exec_proc *x)
{
	pio_release(&x->io);
	berth_loop_source_freep(&x->child_src);
	berth_pidfd_free(x->pidfd);
	free(x->id);
	free(x);
}

static int open_null(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

static int op_exec(struct shim *s, struct conn *c, json_t *req, int fd)
{
	_cleanup_error_ struct berth_error *e = NULL;
	struct berth_process *proc = NULL;
	struct berth_exec_opts eo = {0};
	json_t *pj = json_object_get(req, "process");
	bool tty = jbool(req, "tty"), want_in = jbool(req, "stdin");
	int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1}, stdio[3], pty = -EBADF;
	struct exec_proc *x;
	pid_t pid;
	int r;

	if (!s->started || s->exited) {
		if (fd >= 0)
			close(fd);
		return reply_error(c->fd, EBUSY, "container is not running");
	}
	if (!jstr(req, "id") || find_exec(s, jstr(req, "id"))) {
		if (fd >= 0)
			close(fd);
		return reply_error(c->fd, EINVAL, "exec: a new id is needed");
	}
	json_t *pcopy = json_deep_copy(pj);
	if (pcopy)
		json_object_set_new(pcopy, "terminal", json_boolean(tty));
	r = pcopy ? berth_process_parse(pcopy, &proc, &e)
		  : berth_error_set(&e, EINVAL, "exec: no process");
	json_decref(pcopy);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return reply_berror(c->fd, e);
	}
	x = calloc(1, sizeof(*x));
	if (!x || !(x->id = strdup(jstr(req, "id")))) {
		free(x);
		berth_process_free(proc);
		if (fd >= 0)
			close(fd);
		return reply_error(c->fd, ENOMEM, "out of memory");
	}
	x->s = s;
	x->io.s = s;
	x->io.tty = tty;
	x->io.stdin_once = true;
	x->io.in_fd = x->io.out_fd[0] = x->io.out_fd[1] = -EBADF;
	x->io.on_eof = exec_on_eof;
	x->io.on_detach = exec_on_detach;
	eo.ret_pidfd = &x->pidfd;
	if (tty) {
		eo.ret_pty_master = &pty;
	} else {
		/* only what a client will read is a pipe: the rest is /dev/null (docker exec -d) */
		bool attached = fd >= 0;
		if ((want_in && attached && pipe2(in, O_CLOEXEC) < 0) ||
		    (attached && jbool(req, "stdout") && pipe2(out, O_CLOEXEC) < 0) ||
		    (attached && jbool(req, "stderr") && pipe2(errp, O_CLOEXEC) < 0)) {
			r = berth_error_sys(&e, errno, "pipe");
			goto fail;
		}
		stdio[0] = in[0] >= 0 ? in[0] : open_null(O_RDONLY);
		stdio[1] = out[1] >= 0 ? out[1] : open_null(O_WRONLY);
		stdio[2] = errp[1] >= 0 ? errp[1] : open_null(O_WRONLY);
		eo.stdio = stdio;
	}
	r = berth_container_exec(s->c, proc, &eo, &pid, &e);
	if (!tty) {
		for (int i = 0; i < 3; i++)
			close(stdio[i]);
		in[0] = out[1] = errp[1] = -1;
	}
	if (r < 0)
		goto fail;
	r = berth_loop_add_child(s->loop, x->pidfd, on_exec_exit, x, &x->child_src, &e);
	if (r < 0)
		goto fail;
	if (tty) {
		x->io.out_fd[0] = pty;
		x->io.in_fd = want_in ? fcntl(pty, F_DUPFD_CLOEXEC, 3) : -EBADF;
		pty = -EBADF;
	} else {
		x->io.in_fd = in[1];
		x->io.out_fd[0] = out[0];
		x->io.out_fd[1] = errp[0];
		in[1] = out[0] = errp[0] = -1;
	}
	r = pio_start(&x->io, &e);
	if (r < 0)
		goto fail;
	if (fd >= 0) {
		_cleanup_free_ char *pending = NULL;
		size_t pending_len = 0;
		if (jstr(req, "pending") && !(pending = unhex(jstr(req, "pending"), &pending_len)))
			pending_len = 0;
		r = pio_attach(&x->io, fd, want_in, jbool(req, "stdout"), jbool(req, "stderr"),
			       jstr(req, "detach_keys"), pending, pending_len, &e);
		fd = -EBADF;
		if (r < 0)
			goto fail;
	}
	berth_process_free(proc);
	x->conn = c;
	c->exec = x;
	x->next = s->execs;
	s->execs = x;
	shim_logf(s, "debug", "exec %s: pid %d", x->id, (int)pid);
	return shim_send_json(c->fd, json_pack("{s:i}", "pid", (int)pid));

fail:
	berth_process_free(proc);
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
	if (fd >= 0)
		close(fd);
	if (x->pidfd && !x->pidfd->exited)
		berth_pidfd_signal(x->pidfd, SIGKILL, NULL);
	shim_exec_release(x);
	return reply_berror(c->fd, e);
}

/* ---- connections ------------------------------------------------------------------------ */

static int on_conn(struct berth_loop_source *src, int fd, uint32_t revents, void *data,
		   struct berth_error **err)
{
	static char buf[SHIM_MSG_MAX + 1];
	struct conn *c = data;
	struct shim *s = c->s;
	_cleanup_json_ json_t *req = NULL;
	int passed = -EBADF;
	ssize_t n;

	n = berth_recv_fd(fd, buf, SHIM_MSG_MAX, &passed);
	if (n == -EAGAIN || n == -EINTR)
		return 0;
	if (n <= 0) {
		if (passed >= 0)
			close(passed);
		if (c->exec) {
			/* berthd went away: the exec goes on, its exit is just not told */
			c->exec->conn = NULL;
			c->exec = NULL;
		}
		conn_free(c);
		return 0;
	}
	buf[n] = '\0';
	if (c->waiting || c->exec) {
		/* nothing more is expected here */
		if (passed >= 0)
			close(passed);
		return 0;
	}
	req = json_loadb(buf, (size_t)n, 0, NULL);
	const char *op = jstr(req, "op");
	if (!op) {
		if (passed >= 0)
			close(passed);
		reply_error(fd, EINVAL, "bad request");
		return 0;
	}
	if (strcmp(op, "attach") == 0) {
		op_attach(s, c, req, passed);
		return 0;
	}
	if (strcmp(op, "exec") == 0) {
		op_exec(s, c, req, passed);
		return 0;
	}
	if (passed >= 0)
		close(passed);
	if (strcmp(op, "start") == 0)
		op_start(s, c);
	else if (strcmp(op, "kill") == 0)
		op_kill(s, c, req);
	else if (strcmp(op, "resize") == 0)
		op_resize(s, c, req);
	else if (strcmp(op, "state") == 0)
		op_state(s, c);
	else if (strcmp(op, "wait") == 0) {
		c->waiting = true;
		reply_ok(fd);
		if (s->oom_killed)
			shim_send_json(fd, json_pack("{s:s}", "event", "oom"));
	} else
		reply_error(fd, EINVAL, "unknown request");
	return 0;
}

static int on_accept(struct berth_loop_source *src, int fd, uint32_t revents, void *data,
		     struct berth_error **err)
{
	struct shim *s = data;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	struct conn *c;

	if (cfd < 0)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->s = s;
	c->fd = cfd;
	if (berth_loop_add_io(s->loop, cfd, EPOLLIN, on_conn, c, &c->src, NULL) < 0) {
		close(cfd);
		free(c);
		return 0;
	}
	c->next = s->conns;
	s->conns = c;
	return 0;
}

int shim_server_start(struct shim *s, struct berth_error **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int dirfd, r;

	s->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0)
		return berth_error_sys(err, errno, "socket");
	/* bound relative to our directory: its full path may be longer than sun_path */
	dirfd = open(s->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return berth_error_sys(err, errno, "open '%s'", s->dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/shim.sock", dirfd);
	unlinkat(dirfd, "shim.sock", 0);
	mode_t old = umask(077);
	r = bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	close(dirfd);
	if (r < 0)
		return berth_error_sys(err, errno, "bind '%s/shim.sock'", s->dir);
	if (listen(s->listen_fd, 64) < 0)
		return berth_error_sys(err, errno, "listen");
	return berth_loop_add_io(s->loop, s->listen_fd, EPOLLIN, on_accept, s, &s->listen_src, err);
}

void shim_server_broadcast(struct shim *s, const char *line, bool final)
{
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (!c->waiting)
			continue;
		send(c->fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (final)
			conn_free(c);
	}
}

void shim_server_close(struct shim *s)
{
	while (s->execs) {
		struct exec_proc *x = s->execs;
		s->execs = x->next;
		if (x->conn) {
			shim_send_json(x->conn->fd,
				       json_pack("{s:s,s:s,s:i,s:i}", "event", "exit", "exec",
						 x->id, "exit_code",
						 x->pidfd->has_status
							 ? berth_exit_status_code(&x->pidfd->status)
							 : 137,
						 "signal", 0));
			conn_free(x->conn);
		}
		shim_exec_release(x);
	}
	while (s->conns)
		conn_free(s->conns);
	berth_loop_source_freep(&s->listen_src);
	if (s->listen_fd >= 0) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/shim.sock", s->dir);
		unlink(path);
		close(s->listen_fd);
	}
	s->listen_fd = -EBADF;
}
