/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Exec instances: POST /containers/{id}/exec, POST /exec/{id}/start, GET /exec/{id}/json,
 * POST /exec/{id}/resize -- dockerd 28's parameters, statuses and words.
 *
 * An exec is a record in berthd's memory (d->containers.execs, under d->lock), as dockerd keeps
 * them; the records of a container go when it stops or is removed.  Its start asks the shim
 * ("exec" op) to run the process: the process of the container's own spec (so its
 * capabilities, seccomp filter, no_new_privileges, rlimits, and through the runtime its
 * namespaces and cgroup) with the exec's command, environment, working directory, user and
 * terminal; --privileged gives it every capability.  The client's socket goes to the shim with
 * the request (SCM_RIGHTS): no byte of an attached exec passes through berthd.
 *
 * The shim's connection of an exec stays open and carries its exit ({"event":"exit"}), sent
 * before the shim closes the client's socket.  Whoever needs the exit first reads it -- the
 * waiter thread of the exec, or an inspect that comes in before that thread ran (a client that
 * saw its stream end asks at once) -- with a non-blocking read under d->lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "containers-internal.h"
#include "base/banned.h"

#define EXEC_BODY_MAX	   (1 << 20)
#define EXEC_SHIM_TIMEOUT  30000
#define EXEC_READY_WAIT_MS 10000
#define PROBE_OUTPUT_MAX   4096 /* dockerd's maxOutputLen */

struct daemon_exec {
	char id[CTR_ID_LEN + 1];
	struct daemon_container *c; /* a reference */
	char *entrypoint;
	json_t *args, *env; /* arrays of strings */
	char *user, *workdir;
	bool tty, in, out, errs, privileged;
	char keys[16]; /* detach keys as bytes */
	size_t n_keys;
	bool keys_given;
	unsigned console_h, console_w; /* 0: none */

	/* ---- state (d->lock) ---- */
	bool running, started, has_exit, in_table;
	int exit_code;
	pid_t pid;
	int conn; /* the shim's connection of the running exec */
	unsigned refs;
	struct daemon_exec *next;
};

/* A field of a request body as Go's encoding/json finds it: the exact key, else any case. */
static json_t *field(const json_t *body, const char *key)
{
	json_t *v = json_object_get(body, key);
	const char *k;

	if (v || !json_is_object(body))
		return v;
	json_object_foreach ((json_t *)body, k, v)
		if (strcasecmp(k, key) == 0)
			return v;
	return NULL;
}

/* The strings of a JSON array joined by spaces (NULL: ENOMEM). */
static char *join_args(const json_t *a)
{
	size_t len = 1, i;
	json_t *e;
	char *out, *p;

	json_array_foreach (a, i, e)
		len += json_string_length(e) + 1;
	out = p = malloc(len);
	if (!out)
		return NULL;
	*p = '\0';
	json_array_foreach (a, i, e) {
		if (i)
			*p++ = ' ';
		memcpy(p, json_string_value(e), json_string_length(e));
		p += json_string_length(e);
		*p = '\0';
	}
	return out;
}

/* ---- the table ------------------------------------------------------------------------------ */

static struct daemon_exec *exec_find_locked(struct berthd *d, const char *id)
{
	for (struct daemon_exec *x = d->containers.execs; id && x; x = x->next)
		if (strcmp(x->id, id) == 0)
			return x;
	return NULL;
}

static void exec_unref_locked(struct berthd *d, struct daemon_exec *x)
{
	if (!x || --x->refs)
		return;
	if (x->conn >= 0)
		close(x->conn);
	free(x->entrypoint);
	json_decref(x->args);
	json_decref(x->env);
	free(x->user);
	free(x->workdir);
	ctr_unref_locked(d, x->c);
	free(x);
}

static void exec_unref(struct berthd *d, struct daemon_exec *x)
{
	pthread_mutex_lock(&d->lock);
	exec_unref_locked(d, x);
	pthread_mutex_unlock(&d->lock);
}

void daemon_exec_drop_locked(struct berthd *d, struct daemon_container *c)
{
	for (struct daemon_exec **pp = &d->containers.execs; *pp;) {
		struct daemon_exec *x = *pp;
		if (x->c != c) {
			pp = &x->next;
			continue;
		}
		*pp = x->next;
		x->in_table = false;
		exec_unref_locked(d, x);
	}
}

void daemon_exec_drop_all(struct berthd *d)
{
	pthread_mutex_lock(&d->lock);
	while (d->containers.execs) {
		struct daemon_exec *x = d->containers.execs;
		d->containers.execs = x->next;
		x->in_table = false;
		exec_unref_locked(d, x);
	}
	pthread_mutex_unlock(&d->lock);
}

/* ---- the exit --------------------------------------------------------------------------- */

static void exec_record_exit_locked(struct berthd *d, struct daemon_exec *x, int code)
{
	char num[16];

	x->running = false;
	x->has_exit = true;
	x->exit_code = code;
	if (x->conn >= 0) {
		close(x->conn);
		x->conn = -EBADF;
	}
	snprintf(num, sizeof(num), "%d", code);
	struct berth_key_value kv[2] = {{"execID", x->id}, {"exitCode", num}};
	if (!x->c->removed)
		ctr_event_locked(d, x->c, "exec_die", kv, 2);
	pthread_cond_broadcast(&x->c->cond);
}

/* Read the exit if the shim has sent it (never blocks); true once x has exited. */
static bool exec_collect_locked(struct berthd *d, struct daemon_exec *x)
{
	char buf[4096];

	while (!x->has_exit && x->conn >= 0) {
		ssize_t n = recv(x->conn, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return false;
		if (n <= 0) {
			/* the shim went away without telling: its container died under it */
			exec_record_exit_locked(d, x, 137);
			return true;
		}
		buf[n] = '\0';
		_cleanup_json_ json_t *j = json_loads(buf, 0, NULL);
		const char *ev = json_string_value(json_object_get(j, "event"));
		if (berth_streq(ev, "detach") && !x->c->removed) {
			struct berth_key_value kv = {"execID", x->id};
			ctr_event_locked(d, x->c, "exec_detach", &kv, 1);
		} else if (berth_streq(ev, "exit")) {
			exec_record_exit_locked(
				d, x, (int)json_integer_value(json_object_get(j, "exit_code")));
		}
	}
	return x->has_exit;
}

/* Block (in 250 ms steps, so a stopping berthd is seen) until x exits. */
static void exec_wait_exit(struct berthd *d, struct daemon_exec *x, int64_t deadline_ns)
{
	for (;;) {
		pthread_mutex_lock(&d->lock);
		bool done = exec_collect_locked(d, x) || d->stopping;
		int fd = x->conn;
		pthread_mutex_unlock(&d->lock);
		if (done || fd < 0 || (deadline_ns && ctr_mono_ns() > deadline_ns))
			return;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		poll(&p, 1, 250);
	}
}

struct waiter {
	struct berthd *d;
	struct daemon_exec *x;
};

static void *exec_waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct berthd *d = w->d;

	exec_wait_exit(d, w->x, 0);
	exec_unref(d, w->x);
	free(w);
	atomic_fetch_sub(&d->containers.threads, 1);
	return NULL;
}

static void exec_spawn_waiter(struct berthd *d, struct daemon_exec *x)
{
	struct waiter *w = malloc(sizeof(*w));
	pthread_attr_t attr;
	pthread_t th;

	if (!w)
		return; /* the exit is read by the next inspect */
	w->d = d;
	w->x = x;
	pthread_mutex_lock(&d->lock);
	x->refs++;
	pthread_mutex_unlock(&d->lock);
	atomic_fetch_add(&d->containers.threads, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	if (pthread_create(&th, &attr, exec_waiter_main, w) != 0) {
		exec_unref(d, x);
		free(w);
		atomic_fetch_sub(&d->containers.threads, 1);
	}
	pthread_attr_destroy(&attr);
}

/* ---- checks shared by the routes ------------------------------------------------------------- */

/* A container someone froze behind berthd's back (its freezer) cannot take a process either. */
static bool cgroup_frozen(pid_t pid)
{
	_cleanup_free_ char *data = NULL, *path = NULL, *state = NULL;
	size_t len;
	char proc[64];

	if (pid <= 0)
		return false;
	snprintf(proc, sizeof(proc), "/proc/%d/cgroup", (int)pid);
	if (berth_read_file_at(AT_FDCWD, proc, 1 << 16, &data, &len, NULL) < 0)
		return false;
	for (char *l = data, *nl; l && *l; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		char *a = strchr(l, ':'), *b = a ? strchr(a + 1, ':') : NULL;
		if (!b)
			continue;
		if (berth_str_has_prefix(a + 1, "freezer:")) {
			if (asprintf(&path, "/sys/fs/cgroup/freezer%s/freezer.state", b + 1) < 0)
				return false;
			break;
		}
		if (a == l + 1 && l[0] == '0' && b == a + 1) {
			if (asprintf(&path, "/sys/fs/cgroup%s/cgroup.freeze", b + 1) < 0)
				return false;
		}
	}
	if (!path || berth_read_file_at(AT_FDCWD, path, 64, &state, &len, NULL) < 0)
		return false;
	return berth_str_has_prefix(state, "FROZEN") || berth_str_has_prefix(state, "FREEZING") ||
	       state[0] == '1';
}

/*
 * dockerd's getActiveContainer / getExecConfig checks (d->lock held): 0, or the status with
 * its message in *msg (malloc'd).  name: the words dockerd puts in the paused message.
 */
static int check_active_locked(struct daemon_container *c, const char *name, char **msg)
{
	int r = 0;

	if (!c->running || c->removed)
		r = asprintf(msg, "container %s is not running", c->id) < 0 ? 500 : 409;
	else if (c->paused || cgroup_frozen(c->pid))
		r = asprintf(msg, "Container %s is paused, unpause the container before exec",
			     name) < 0
			    ? 500
			    : 409;
	else if (c->restarting)
		r = asprintf(msg, "Container %s is restarting, wait until the container is running",
			     c->id) < 0
			    ? 500
			    : 409;
	return r;
}

/* dockerd's getExecConfig: the exec (a reference), or an answer sent. */
static struct daemon_exec *get_exec(struct berthd *d, struct berth_http_request *req)
{
	const char *id = berth_http_param(req, "name");
	_cleanup_free_ char *msg = NULL;
	struct daemon_exec *x;
	int st;

	pthread_mutex_lock(&d->lock);
	x = exec_find_locked(d, id);
	if (!x) {
		pthread_mutex_unlock(&d->lock);
		berth_http_respond_error(req, 404, "No such exec instance: %s", id);
		return NULL;
	}
	st = check_active_locked(x->c, x->c->id, &msg);
	if (st) {
		pthread_mutex_unlock(&d->lock);
		berth_http_respond_error(req, st, "%s", msg ? msg : "out of memory");
		return NULL;
	}
	x->refs++;
	pthread_mutex_unlock(&d->lock);
	return x;
}

/* ---- the process --------------------------------------------------------------------------- */

/* The container's own process (its spec in the shim's directory), made the exec's. */
static int build_process(struct berthd *d, struct daemon_exec *x, json_t **ret,
			 struct berth_error **err)
{
	_cleanup_free_ char *sdir = shim_dir(d, x->c->id), *path = NULL, *root = NULL;
	_cleanup_json_ json_t *spec = NULL;
	json_error_t je;
	json_t *p;

	if (!sdir || asprintf(&path, "%s/config.json", sdir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	spec = json_load_file(path, 0, &je);
	p = json_object_get(spec, "process");
	if (!json_is_object(p))
		return berth_error_set(err, EIO, "read '%s': %s", path, je.text);
	p = json_deep_copy(p);
	if (!p)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_t *args = json_array();
	json_array_append_new(args, json_string(x->entrypoint));
	json_array_extend(args, x->args);
	json_object_set_new(p, "args", args);
	json_object_set(p, "env", x->env);
	json_object_set_new(p, "cwd", json_string(x->workdir && *x->workdir ? x->workdir : "/"));
	json_object_set_new(p, "terminal", json_boolean(x->tty));
	if (x->tty && x->console_h && x->console_w)
		json_object_set_new(p, "consoleSize",
				    json_pack("{s:i,s:i}", "height", (int)x->console_h, "width",
					      (int)x->console_w));
	else
		json_object_del(p, "consoleSize");
	if (x->user && *x->user) {
		struct berth_dockerspec_user u = {0};
		_cleanup_close_ int rootfd = -EBADF;
		pthread_mutex_lock(&d->lock);
		_cleanup_json_ json_t *groups =
			json_incref(json_object_get(x->c->host_config, "GroupAdd"));
		pthread_mutex_unlock(&d->lock);
		if (asprintf(&root, "%s/merged", x->c->dir) < 0) {
			json_decref(p);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0 ||
		    berth_dockerspec_resolve_user(rootfd, x->user, groups, &u, err) < 0) {
			json_decref(p);
			return rootfd < 0 ? berth_error_sys(err, errno, "open '%s'", root)
					  : -EINVAL;
		}
		json_t *gids = json_array();
		for (size_t i = 0; i < u.n_additional_gids; i++)
			json_array_append_new(gids, json_integer(u.additional_gids[i]));
		json_object_set_new(p, "user",
				    json_pack("{s:I,s:I,s:o}", "uid", (json_int_t)u.uid, "gid",
					      (json_int_t)u.gid, "additionalGids", gids));
		berth_dockerspec_user_release(&u);
	}
	if (x->privileged) {
		json_t *caps = json_object_get(p, "capabilities");
		if (!json_is_object(caps)) {
			caps = json_object();
			json_object_set_new(p, "capabilities", caps);
		}
		json_t *all = berth_dockerspec_all_caps(&d->containers.host);
		json_object_set(caps, "bounding", all);
		json_object_set(caps, "permitted", all);
		json_object_set_new(caps, "effective", all);
	}
	*ret = p;
	return 0;
}

/* dockerd's translateContainerdStartErr: 127 for a missing program, 126 otherwise */
static int start_failure_code(const char *msg)
{
	if (msg &&
	    (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory") ||
	     strstr(msg, "No such file or directory")))
		return 127;
	return 126;
}

/*
 * dockerd's ContainerExecStart: the process started in the shim, client_fd (-1: detached; taken
 * in any case) handed over with it.  On failure the exec has exited (126/127) and *err says why
 * in dockerd's words.  On success x->conn carries the exit.
 */
static int exec_start(struct berthd *d, struct daemon_exec *x, int client_fd, const char *pending,
		      size_t pending_len, struct berth_error **err)
{
	_cleanup_json_ json_t *proc = NULL, *req = NULL, *ans = NULL;
	_cleanup_free_ char *phex = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	int conn = -EBADF, r;
	char action[512];

	pthread_mutex_lock(&d->lock);
	exec_collect_locked(d, x);
	if (x->has_exit || x->running) {
		pthread_mutex_unlock(&d->lock);
		if (client_fd >= 0)
			close(client_fd);
		return berth_error_set(err, EBUSY,
				       x->has_exit ? "exec command %s has already run"
						   : "exec command %s is already running",
				       x->id);
	}
	x->running = true;
	_cleanup_free_ char *joined = join_args(x->args);
	snprintf(action, sizeof(action), "exec_start: %s %s", x->entrypoint, joined ? joined : "");
	struct berth_key_value kv = {"execID", x->id};
	ctr_event_locked(d, x->c, action, &kv, 1);
	pthread_mutex_unlock(&d->lock);

	r = build_process(d, x, &proc, &e);
	if (r >= 0) {
		req = json_pack("{s:s,s:s,s:O,s:b,s:b,s:b,s:b}", "op", "exec", "id", x->id,
				"process", proc, "tty", x->tty, "stdin", x->in && client_fd >= 0,
				"stdout", x->out, "stderr", x->errs);
		if (!req)
			r = berth_error_set(&e, ENOMEM, "out of memory");
	}
	if (r >= 0 && x->n_keys) {
		char k[17];
		memcpy(k, x->keys, x->n_keys);
		json_object_set_new(req, "detach_keys", json_stringn(k, x->n_keys));
	}
	if (r >= 0 && pending_len && x->in) {
		phex = malloc(pending_len * 2 + 1);
		if (!phex)
			r = berth_error_set(&e, ENOMEM, "out of memory");
		else {
			berth_hex_encode(phex, pending, pending_len);
			json_object_set_new(req, "pending", json_string(phex));
		}
	}
	if (r >= 0)
		r = shim_request(d, x->c->id, req, client_fd, &ans, &conn, EXEC_SHIM_TIMEOUT, &e);
	else if (client_fd >= 0)
		close(client_fd);
	pthread_mutex_lock(&d->lock);
	x->started = true;
	if (r < 0) {
		if (conn >= 0)
			close(conn);
		exec_record_exit_locked(d, x, start_failure_code(e ? e->msg : NULL));
		pthread_mutex_unlock(&d->lock);
		return berth_error_set(err, e ? e->code : EIO,
				       "OCI runtime exec failed: exec failed: unable to start "
				       "container process: %s: unknown",
				       e && e->msg ? e->msg : "?");
	}
	x->pid = (pid_t)json_integer_value(json_object_get(ans, "pid"));
	x->conn = conn;
	pthread_cond_broadcast(&x->c->cond);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ---- POST /containers/{id}/exec -------------------------------------------------------------- */

static int strv_field(const json_t *body, const char *key, json_t **ret, char **msg)
{
	const json_t *v = field(body, key);
	size_t i;
	json_t *e;

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v) && strcmp(key, "Cmd") == 0) {
		*ret = json_pack("[O]", v);
		return 0;
	}
	if (!json_is_array(v))
		goto bad;
	json_array_foreach (v, i, e)
		if (!json_is_string(e))
			goto bad;
	*ret = json_deep_copy(v);
	return 0;
bad:
	return asprintf(msg,
			"invalid JSON: json: cannot unmarshal %s into Go struct field "
			"ExecOptions.%s of type %s",
			json_is_object(v)   ? "object"
			: json_is_number(v) ? "number"
					    : "value",
			key, strcmp(key, "Cmd") == 0 ? "strslice.StrSlice" : "[]string") < 0
		       ? -ENOMEM
		       : -EINVAL;
}

static void exec_create(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *body = NULL, *cmd = NULL, *env = NULL, *penv = NULL;
	_cleanup_free_ char *msg = NULL, *user = NULL, *wd = NULL, *joined = NULL;
	_cleanup_json_ json_t *ans = NULL;
	const char *name = berth_http_param(req, "name");
	struct daemon_container *c = NULL;
	struct daemon_exec *x = NULL;
	int st;

	if (berth_http_read_json(req, EXEC_BODY_MAX, &body) < 0)
		return;
	if (body && !json_is_object(body)) {
		berth_http_respond_error(req, 400,
					 "invalid JSON: json: cannot unmarshal %s into Go value of "
					 "type container.ExecOptions",
					 json_is_array(body) ? "array" : "value");
		return;
	}
	if (strv_field(body, "Cmd", &cmd, &msg) < 0 || strv_field(body, "Env", &env, &msg) < 0) {
		berth_http_respond_error(req, 400, "%s", msg ? msg : "out of memory");
		return;
	}
	if (!cmd || json_array_size(cmd) == 0) {
		berth_http_respond_error(req, 400, "No exec command specified");
		return;
	}
	if (ctr_get(d, name, &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	pthread_mutex_lock(&d->lock);
	st = check_active_locked(c, name, &msg);
	json_t *cfg = c->config;
	const char *u = json_string_value(field(body, "User"));
	const char *w = json_string_value(field(body, "WorkingDir"));
	user = strdup(u && *u ? u : json_string_value(json_object_get(cfg, "User")) ?: "");
	wd = strdup(w && *w ? w : json_string_value(json_object_get(cfg, "WorkingDir")) ?: "");
	bool tty = json_is_true(field(body, "Tty"));
	/* dockerd: CreateDaemonEnvironment(Tty) with the exec's Env replacing or appending */
	_cleanup_json_ json_t *ecfg = json_deep_copy(cfg);
	pthread_mutex_unlock(&d->lock);
	if (st) {
		berth_http_respond_error(req, st, "%s", msg ? msg : "out of memory");
		goto out;
	}
	if (!user || !wd || !ecfg) {
		berth_http_respond_error(req, 500, "out of memory");
		goto out;
	}
	if (u && *u) {
		/* dockerd looks the user up at create already, for an early error */
		_cleanup_free_ char *root = NULL;
		_cleanup_close_ int rootfd = -EBADF;
		struct berth_dockerspec_user pu = {0};
		if (asprintf(&root, "%s/merged", c->dir) > 0)
			rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd >= 0 && berth_dockerspec_resolve_user(rootfd, u, NULL, &pu, &e) < 0) {
			berth_http_respond_error(req, 400, "%s", e && e->msg ? e->msg : "bad user");
			goto out;
		}
		berth_dockerspec_user_release(&pu);
	}
	json_object_set_new(ecfg, "Tty", json_boolean(tty));
	if (env) {
		json_t *ce = json_object_get(ecfg, "Env");
		if (!json_is_array(ce)) {
			ce = json_array();
			json_object_set_new(ecfg, "Env", ce);
		}
		json_array_extend(ce, env);
	}
	penv = berth_dockerspec_process_env(ecfg);
	const char *keys_s = json_string_value(field(body, "DetachKeys"));
	x = calloc(1, sizeof(*x));
	if (!x || !penv) {
		berth_http_respond_error(req, 500, "out of memory");
		goto out;
	}
	x->conn = -EBADF;
	x->refs = 1;
	/* dockerd's copyEscapable: ctrl-p ctrl-q unless the exec names its own */
	x->keys[0] = 0x10;
	x->keys[1] = 0x11;
	x->n_keys = 2;
	if (keys_s && *keys_s) {
		if (ctr_detach_keys(keys_s, x->keys, &x->n_keys) < 0) {
			berth_http_respond_error(req, 500, "Invalid escape keys (%s) provided",
						 keys_s);
			goto out;
		}
		x->keys_given = true;
	}
	unsigned char rnd[32];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		berth_http_respond_error(req, 500, "random id: %s", strerror(errno));
		goto out;
	}
	berth_hex_encode(x->id, rnd, sizeof(rnd));
	x->entrypoint = strdup(json_string_value(json_array_get(cmd, 0)));
	x->args = json_array();
	for (size_t i = 1; i < json_array_size(cmd); i++)
		json_array_append(x->args, json_array_get(cmd, i));
	x->env = TAKE_PTR(penv);
	x->user = TAKE_PTR(user);
	x->workdir = TAKE_PTR(wd);
	x->tty = tty;
	x->in = json_is_true(field(body, "AttachStdin"));
	x->out = json_is_true(field(body, "AttachStdout"));
	x->errs = json_is_true(field(body, "AttachStderr"));
	x->privileged = json_is_true(field(body, "Privileged"));
	const json_t *cs = field(body, "ConsoleSize");
	if (json_array_size(cs) == 2 && berth_http_api_version(req) >= BERTH_API_VERSION(1, 42)) {
		x->console_h = (unsigned)json_integer_value(json_array_get(cs, 0));
		x->console_w = (unsigned)json_integer_value(json_array_get(cs, 1));
	}

	pthread_mutex_lock(&d->lock);
	if (!c->running || c->removed) {
		pthread_mutex_unlock(&d->lock);
		berth_http_respond_error(req, 409, "container %s is not running", c->id);
		goto out;
	}
	x->c = ctr_ref(c);
	x->in_table = true;
	x->next = d->containers.execs;
	d->containers.execs = x;
	char action[512];
	joined = join_args(x->args);
	snprintf(action, sizeof(action), "exec_create: %s %s", x->entrypoint, joined ? joined : "");
	struct berth_key_value kv = {"execID", x->id};
	ctr_event_locked(d, c, action, &kv, 1);
	pthread_mutex_unlock(&d->lock);
	ans = json_pack("{s:s}", "Id", x->id);
	x = NULL;
	berth_http_respond_json(req, 201, ans);
out:
	if (x) {
		free(x->entrypoint);
		json_decref(x->args);
		json_decref(x->env);
		free(x->user);
		free(x->workdir);
		free(x);
	}
	ctr_unref(d, c);
}

/* ---- POST /exec/{id}/start ----------------------------------------------------------------- */

static void exec_start_route(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *body = NULL;
	_cleanup_free_ char *pending = NULL;
	size_t pending_len = 0;
	struct daemon_exec *x;
	int fd = -EBADF;

	if (berth_http_read_json(req, EXEC_BODY_MAX, &body) < 0)
		return;
	bool detach = json_is_true(field(body, "Detach"));
	bool tty = json_is_true(field(body, "Tty"));
	x = get_exec(d, req);
	if (!x)
		return;
	const json_t *cs = field(body, "ConsoleSize");
	if (tty && json_array_size(cs) == 2 &&
	    berth_http_api_version(req) >= BERTH_API_VERSION(1, 42)) {
		pthread_mutex_lock(&d->lock);
		x->console_h = (unsigned)json_integer_value(json_array_get(cs, 0));
		x->console_w = (unsigned)json_integer_value(json_array_get(cs, 1));
		pthread_mutex_unlock(&d->lock);
	}
	if (detach) {
		if (exec_start(d, x, -EBADF, NULL, 0, &e) < 0)
			berth_http_respond_error(req, e->code == EBUSY ? 409 : 500, "%s", e->msg);
		else {
			exec_spawn_waiter(d, x);
			berth_http_respond(req, 200, NULL, NULL, 0);
		}
		exec_unref(d, x);
		return;
	}
	if (berth_http_hijack(req,
			      !tty && berth_http_api_version(req) >= BERTH_API_VERSION(1, 42)
				      ? BERTH_MEDIA_MULTIPLEXED_STREAM
				      : BERTH_MEDIA_RAW_STREAM,
			      &fd, &pending, &pending_len, &e) < 0) {
		log_warn("exec %s: %s", x->id, e ? e->msg : "?");
		exec_unref(d, x);
		return;
	}
	/* the shim gets a copy: ours is for an error message, closed once the shim has it */
	int theirs = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (exec_start(d, x, theirs, pending, pending_len, &e) < 0) {
		_cleanup_free_ char *line = NULL;
		if (asprintf(&line, "%s\r\n", e->msg) > 0) {
			if (tty)
				berth_write_all(fd, line, strlen(line));
			else
				berth_frame_write_fd(fd, BERTH_STREAM_STDOUT, line, strlen(line));
		}
		log_error("Error running exec %s in container: %s", x->id, e->msg);
		close(fd);
		exec_unref(d, x);
		return;
	}
	close(fd);
	/* this thread has nothing else to do: it waits for the exit itself */
	exec_wait_exit(d, x, 0);
	exec_unref(d, x);
}

/* ---- GET /exec/{id}/json --------------------------------------------------------------------- */

static char *base64(const char *in, size_t n)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		*o++ = t[v >> 18 & 63];
		*o++ = t[v >> 12 & 63];
		*o++ = i + 1 < n ? t[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? t[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static void exec_inspect(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	const char *id = berth_http_param(req, "name");
	struct daemon_exec *x;

	pthread_mutex_lock(&d->lock);
	x = exec_find_locked(d, id);
	if (!x || x->c->removed) {
		pthread_mutex_unlock(&d->lock);
		berth_http_respond_error(req, 404, "No such exec instance: %s", id);
		return;
	}
	exec_collect_locked(d, x);
	_cleanup_free_ char *keys = base64(x->keys, x->keys_given ? x->n_keys : 0);
	json_t *pc = json_pack("{s:b,s:s,s:O,s:b}", "tty", x->tty, "entrypoint", x->entrypoint,
			       "arguments", x->args, "privileged", x->privileged);
	if (x->user && *x->user)
		json_object_set_new(pc, "user", json_string(x->user));
	_cleanup_json_ json_t *j = json_pack(
		"{s:s,s:b,s:o,s:o,s:b,s:b,s:b,s:b,s:s,s:s,s:i}", "ID", x->id, "Running", x->running,
		"ExitCode", x->has_exit ? json_integer(x->exit_code) : json_null(), "ProcessConfig",
		pc, "OpenStdin", x->in, "OpenStdout", x->out, "OpenStderr", x->errs, "CanRemove",
		false, "ContainerID", x->c->id, "DetachKeys", keys ? keys : "", "Pid", (int)x->pid);
	pthread_mutex_unlock(&d->lock);
	berth_http_respond_json(req, 200, j);
}

/* ---- resize --------------------------------------------------------------------------------- */

/* httputils.Uint32Value: Go's words for one of h and w */
static int parse_uint32(const char *v, uint32_t *ret, const char **why)
{
	bool neg = v && v[0] == '-';
	const char *s = neg ? v + 1 : v;
	uint64_t n = 0;

	if (!s || !*s || *s == '+') {
		*why = "invalid syntax";
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9') {
			*why = "invalid syntax";
			return -EINVAL;
		}
		if (n <= UINT32_MAX)
			n = n * 10 + (uint64_t)(*p - '0');
	}
	if (n > UINT32_MAX || neg) {
		*why = "value out of range";
		return -ERANGE;
	}
	*ret = (uint32_t)n;
	return 0;
}

int daemon_parse_resize(struct berth_http_request *req, uint32_t *ret_h, uint32_t *ret_w)
{
	const char *hs = berth_http_query(req, "h"), *ws = berth_http_query(req, "w"), *why;

	if (parse_uint32(hs, ret_h, &why) < 0) {
		berth_http_respond_error(req, 400, "invalid resize height \"%s\": %s", hs ? hs : "",
					 why);
		return -EINVAL;
	}
	if (parse_uint32(ws, ret_w, &why) < 0) {
		berth_http_respond_error(req, 400, "invalid resize width \"%s\": %s", ws ? ws : "",
					 why);
		return -EINVAL;
	}
	return 0;
}

static void exec_resize(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *rq = NULL;
	struct daemon_exec *x;
	uint32_t h, w;

	if (daemon_parse_resize(req, &h, &w) < 0)
		return;
	x = get_exec(d, req);
	if (!x)
		return;
	/* dockerd waits (10 s) for the exec to have started: a client resizes right after start */
	int64_t deadline = ctr_mono_ns() + (int64_t)EXEC_READY_WAIT_MS * 1000000;
	pthread_mutex_lock(&d->lock);
	while (!x->started && ctr_mono_ns() < deadline && !d->stopping)
		ctr_cond_wait_until(d, x->c, deadline);
	bool started = x->started, has_pid = x->pid > 0, exited = x->has_exit;
	pthread_mutex_unlock(&d->lock);
	if (!started) {
		berth_http_respond_error(req, 500, "timeout waiting for exec session ready");
		goto out;
	}
	if (!has_pid) {
		berth_http_respond_error(req, 400, "exec process is not started");
		goto out;
	}
	if (exited) {
		berth_http_respond_error(req, 404, "process %s not found: not found", x->id);
		goto out;
	}
	/* the kernel's winsize holds 16 bits: the runtime truncates, as runc's console does */
	rq = json_pack("{s:s,s:s,s:I,s:I}", "op", "resize", "exec", x->id, "height",
		       (json_int_t)(h & 0xffff), "width", (json_int_t)(w & 0xffff));
	if (shim_request(d, x->c->id, rq, -1, NULL, NULL, 10000, &e) < 0 && e->code != ENOTTY) {
		berth_http_respond_error(req, e->code == ENOENT ? 404 : 500,
					 e->code == ENOENT ? "process %s not found: not found"
							   : "%s",
					 e->code == ENOENT ? x->id : e->msg);
		goto out;
	}
	berth_http_respond(req, 200, NULL, NULL, 0);
out:
	exec_unref(d, x);
}

/* ---- the probe of a healthcheck ------------------------------------------------------------ */

int daemon_exec_probe(struct berthd *d, struct daemon_container *c, const json_t *argv,
		      int64_t timeout_ns, int *ret_code, char **ret_output, bool *ret_timeout,
		      struct berth_error **err)
{
	_cleanup_free_ char *out = NULL;
	size_t out_len = 0;
	int sp[2];
	struct daemon_exec *x = calloc(1, sizeof(*x));
	int r;

	*ret_timeout = false;
	if (!x || !(out = calloc(1, PROBE_OUTPUT_MAX + 1))) {
		free(x);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	unsigned char rnd[32];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		free(x);
		return berth_error_sys(err, errno, "getrandom");
	}
	berth_hex_encode(x->id, rnd, sizeof(rnd));
	x->conn = -EBADF;
	x->refs = 1;
	x->out = x->errs = true;
	x->entrypoint = strdup(json_string_value(json_array_get(argv, 0)) ?: "");
	x->args = json_array();
	for (size_t i = 1; i < json_array_size(argv); i++)
		json_array_append(x->args, json_array_get(argv, i));
	pthread_mutex_lock(&d->lock);
	_cleanup_json_ json_t *ecfg = json_deep_copy(c->config);
	json_object_set_new(ecfg, "Tty", json_false());
	x->env = berth_dockerspec_process_env(ecfg);
	x->user = strdup(json_string_value(json_object_get(c->config, "User")) ?: "");
	x->workdir = strdup(json_string_value(json_object_get(c->config, "WorkingDir")) ?: "");
	x->c = ctr_ref(c);
	x->in_table = true;
	x->next = d->containers.execs;
	d->containers.execs = x;
	x->refs++; /* ours */
	char action[512];
	_cleanup_free_ char *joined = join_args(x->args);
	snprintf(action, sizeof(action), "exec_create: %s %s", x->entrypoint, joined ? joined : "");
	struct berth_key_value kv = {"execID", x->id};
	ctr_event_locked(d, c, action, &kv, 1);
	pthread_mutex_unlock(&d->lock);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		r = berth_error_sys(err, errno, "socketpair");
		goto out;
	}
	r = exec_start(d, x, sp[1], NULL, 0, err);
	if (r < 0) {
		close(sp[0]);
		goto out;
	}
	/* the output (frames: stdout and stderr alike), until EOF or the timeout */
	int64_t deadline = ctr_mono_ns() + timeout_ns;
	uint8_t buf[8192];
	size_t have = 0;
	for (;;) {
		int64_t left = deadline - ctr_mono_ns();
		if (left <= 0) {
			*ret_timeout = true;
			break;
		}
		struct pollfd p = {.fd = sp[0], .events = POLLIN};
		int n = poll(&p, 1, left > 250000000 ? 250 : (int)(left / 1000000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			/* berthd stopping: the probe is left to the shim, its result to nobody */
			pthread_mutex_lock(&d->lock);
			bool stopping = d->stopping;
			pthread_mutex_unlock(&d->lock);
			if (stopping)
				break;
		}
		if (n <= 0)
			continue;
		ssize_t k = read(sp[0], buf + have, sizeof(buf) - have);
		if (k <= 0)
			break;
		have += (size_t)k;
		size_t used = 0;
		while (have - used >= 8) {
			uint32_t len = (uint32_t)buf[used + 4] << 24 |
				       (uint32_t)buf[used + 5] << 16 |
				       (uint32_t)buf[used + 6] << 8 | buf[used + 7];
			size_t take = len < have - used - 8 ? len : have - used - 8;
			size_t room = PROBE_OUTPUT_MAX - out_len;
			memcpy(out + out_len, buf + used + 8, take < room ? take : room);
			out_len += take < room ? take : room;
			if (take < len) {
				/* the rest of this frame comes later: keep its header */
				buf[used + 4] = (uint8_t)((len - take) >> 24);
				buf[used + 5] = (uint8_t)((len - take) >> 16);
				buf[used + 6] = (uint8_t)((len - take) >> 8);
				buf[used + 7] = (uint8_t)(len - take);
				memmove(buf + used + 8, buf + used + 8 + take,
					have - used - 8 - take);
				have -= take;
				break;
			}
			used += 8 + len;
		}
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	close(sp[0]);
	if (*ret_timeout) {
		pthread_mutex_lock(&d->lock);
		pid_t pid = x->has_exit ? 0 : x->pid;
		pthread_mutex_unlock(&d->lock);
		int pfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
		if (pfd >= 0) {
			syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
			close(pfd);
		}
	}
	exec_wait_exit(d, x, ctr_mono_ns() + 5000000000LL);
	pthread_mutex_lock(&d->lock);
	*ret_code = x->has_exit ? x->exit_code : -1;
	pthread_mutex_unlock(&d->lock);
	out[out_len] = '\0';
	*ret_output = TAKE_PTR(out);
	r = 0;
out:
	pthread_mutex_lock(&d->lock);
	if (x->in_table) {
		/* a probe's record goes with its result: nobody inspects it */
		for (struct daemon_exec **pp = &d->containers.execs; *pp; pp = &(*pp)->next)
			if (*pp == x) {
				*pp = x->next;
				break;
			}
		x->in_table = false;
		exec_unref_locked(d, x);
	}
	exec_unref_locked(d, x);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* ---- routes ---------------------------------------------------------------------------------- */

int daemon_routes_exec(struct berthd *d, struct berth_error **err)
{
	int r = 0;

	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/exec",
					    exec_create, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/exec/{name}/start",
					    exec_start_route, d, err);
	r = r ?: berth_api_router_add(d->router, "GET", "/exec/{name}/json", exec_inspect, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/exec/{name}/resize", exec_resize,
					    d, err);
	return r;
}
