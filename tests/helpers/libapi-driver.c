/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libapi-driver: lib/runtime used in-process, as the shim will use it, for
 * tests/system/test_libapi.py.  One event loop, no threads; it
 *   - creates a container from a config held in memory (config.json of --bundle, with
 *     process.args replaced by --args), the init's stdio on pipes (or stderr inherited),
 *   - starts it, execs --exec (its own stdio pipes) and collects that one's output and exit,
 *   - then feeds --stdin to the init, collects its output and exit status through its pidfd,
 *   - with --oom, counts the cgroup's OOM events (lib/cgroup's watch) until the init exits,
 *   - deletes the container, and prints what happened as one JSON object on stdout.
 * Library log lines go to stderr as "log <level>: <msg>".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "runtime/runtime.h"
#include "base/banned.h"

#define OUT_MAX 65536

struct driver;

struct sink {
	struct driver *d;
	char buf[OUT_MAX];
	size_t len;
	int fd;
	struct berth_loop_source *src;
};

struct proc {
	struct berth_pidfd *p;
	struct sink out, err;
	bool done;
};

struct driver {
	struct berth_loop *loop;
	struct berth_container *c;
	struct proc init, exec;
	const char *stdin_text;
	char **exec_args;
	struct berth_cgroup_events *oom;
	struct berth_loop_source *oom_src;
	uint64_t ooms, oom_kills;
	bool exec_failed;
	char exec_error[512];
};

static void lib_log(void *data, enum berth_log_level level, const char *msg)
{
	fprintf(stderr, "log %s: %s\n", berth_log_level_name(level), msg);
}

static int die(const char *what, struct berth_error *err)
{
	fprintf(stderr, "libapi-driver: %s: %s\n", what, err && err->msg ? err->msg : "?");
	return 1;
}

/* Read what a pipe has; at EOF stop watching it. */
static void check_quit(struct driver *d);

static int on_output(struct berth_loop_source *s, int fd, uint32_t revents, void *data,
		     struct berth_error **err)
{
	struct sink *k = data;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		berth_loop_source_freep(&k->src);
		close(k->fd);
		k->fd = -EBADF;
		check_quit(k->d);
		return 0;
	}
	size_t take =
		(size_t)n < sizeof(k->buf) - 1 - k->len ? (size_t)n : sizeof(k->buf) - 1 - k->len;
	memcpy(k->buf + k->len, buf, take);
	k->len += take;
	k->buf[k->len] = '\0';
	return 0;
}

static int watch(struct driver *d, struct sink *k, int fd, struct berth_error **err)
{
	k->d = d;
	k->fd = fd;
	if (fd < 0)
		return 0;
	return berth_loop_add_io(d->loop, fd, EPOLLIN, on_output, k, &k->src, err);
}

static bool drained(const struct proc *p)
{
	return p->done && !p->out.src && !p->err.src;
}

static void check_quit(struct driver *d)
{
	if (drained(&d->init) && (!d->exec_args || drained(&d->exec)))
		berth_loop_quit(d->loop, 0);
}

static int on_oom(struct berth_loop_source *s, int fd, uint32_t revents, void *data,
		  struct berth_error **err)
{
	struct driver *d = data;
	struct berth_cgroup_event_counts n;
	int r = berth_cgroup_events_read(d->oom, &n, err);

	if (r < 0)
		return r;
	d->ooms += n.oom;
	d->oom_kills += n.oom_kill;
	if (n.gone)
		berth_loop_source_freep(&d->oom_src);
	return 0;
}

static int on_init_exit(struct berth_loop_source *s, struct berth_pidfd *p, void *data,
			struct berth_error **err)
{
	struct driver *d = data;

	d->init.done = true;
	if (d->oom_src)
		on_oom(d->oom_src, -1, 0, d, err);
	check_quit(d);
	return 0;
}

/* Once the exec'd process is done, the init gets its input (and may then end). */
static int feed_init(struct driver *d, int in_w)
{
	if (d->stdin_text)
		berth_write_all(in_w, d->stdin_text, strlen(d->stdin_text));
	close(in_w);
	return 0;
}

static int in_w_fd = -EBADF;

static int on_exec_exit(struct berth_loop_source *s, struct berth_pidfd *p, void *data,
			struct berth_error **err)
{
	struct driver *d = data;

	d->exec.done = true;
	feed_init(d, in_w_fd);
	in_w_fd = -EBADF;
	check_quit(d);
	return 0;
}

static int pipe_pair(int p[2])
{
	return pipe2(p, O_CLOEXEC);
}

static int run_exec(struct driver *d, struct berth_error **err)
{
	_cleanup_json_ json_t *pj = NULL;
	struct berth_process *proc = NULL;
	struct berth_exec_opts eo = {0};
	int out[2], errp[2], stdio[3];
	pid_t pid;
	int r;

	pj = json_deep_copy(json_object_get(d->c->spec->json, "process"));
	json_t *args = json_array();
	for (char **a = d->exec_args; *a; a++)
		json_array_append_new(args, json_string(*a));
	json_object_set_new(pj, "args", args);
	r = berth_process_parse(pj, &proc, err);
	if (r < 0)
		return r;
	if (pipe_pair(out) < 0 || pipe_pair(errp) < 0) {
		berth_process_free(proc);
		return berth_error_sys(err, errno, "pipe");
	}
	stdio[0] = -1; /* inherited: our stdin, /dev/null in the test */
	stdio[1] = out[1];
	stdio[2] = errp[1];
	eo.stdio = stdio;
	eo.ret_pidfd = &d->exec.p;
	r = berth_container_exec(d->c, proc, &eo, &pid, err);
	berth_process_free(proc);
	/* the library dup'd them into the process; our copies go, so EOF comes when it exits */
	close(out[1]);
	close(errp[1]);
	if (r < 0) {
		close(out[0]);
		close(errp[0]);
		return r;
	}
	r = watch(d, &d->exec.out, out[0], err);
	if (r == 0)
		r = watch(d, &d->exec.err, errp[0], err);
	if (r == 0)
		r = berth_loop_add_child(d->loop, d->exec.p, on_exec_exit, d, NULL, err);
	return r;
}

static json_t *proc_json(const struct proc *p, bool with_stderr)
{
	json_t *j = json_pack("{s:I,s:b,s:s}", "pid", (json_int_t)(p->p ? p->p->pid : 0),
			      "has_status", p->p && p->p->has_status, "stdout", p->out.buf);

	if (p->p && p->p->has_status) {
		json_object_set_new(j, "exit", json_integer(p->p->status.code));
		json_object_set_new(j, "signal", json_integer(p->p->status.signal));
	}
	if (with_stderr)
		json_object_set_new(j, "stderr", json_string(p->err.buf));
	return j;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"root", required_argument, NULL, 'r'},
		{"bundle", required_argument, NULL, 'b'},
		{"id", required_argument, NULL, 'i'},
		{"args", required_argument, NULL, 'a'},
		{"stdin", required_argument, NULL, 's'},
		{"inherit-stderr", no_argument, NULL, 'e'},
		{"oom", no_argument, NULL, 'o'},
		{"debug", no_argument, NULL, 'd'},
		{},
	};
	_cleanup_error_ struct berth_error *err = NULL;
	_cleanup_json_ json_t *config = NULL, *args = NULL, *result = NULL;
	_cleanup_free_ char *config_path = NULL;
	struct berth_runtime_opts o = {.log = {.fn = lib_log}};
	struct berth_create_opts co = {0};
	struct driver d = {.init.out.fd = -EBADF, .init.err.fd = -EBADF};
	const char *id = NULL, *args_json = NULL;
	bool inherit_stderr = false, oom = false;
	int in[2], out[2], errp[2] = {-1, -1}, stdio[3];
	sigset_t block;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			o.state_root = optarg;
			break;
		case 'b':
			co.bundle = optarg;
			break;
		case 'i':
			id = optarg;
			break;
		case 'a':
			args_json = optarg;
			break;
		case 's':
			d.stdin_text = optarg;
			break;
		case 'e':
			inherit_stderr = true;
			break;
		case 'o':
			oom = true;
			break;
		case 'd':
			o.log.debug = true;
			break;
		default:
			return 2;
		}
	}
	if (!o.state_root || !co.bundle || !id)
		return 2;
	if (optind < argc && strcmp(argv[optind], "--") == 0)
		optind++;
	if (optind < argc)
		d.exec_args = argv + optind;

	/* a shim is the subreaper of its container, with SIGCHLD for its loop's reaper */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGPIPE);
	sigprocmask(SIG_BLOCK, &block, NULL);

	/* the config in memory: the bundle's, with process.args replaced */
	if (asprintf(&config_path, "%s/config.json", co.bundle) < 0 ||
	    berth_json_load_file(config_path, 1 << 20, &config, &err) < 0)
		return die("load config", err);
	if (args_json) {
		if (berth_json_parse(args_json, strlen(args_json), &args, &err) < 0)
			return die("--args", err);
		json_object_set(json_object_get(config, "process"), "args", args);
	}
	co.config = config;

	if (pipe_pair(in) < 0 || pipe_pair(out) < 0 || (!inherit_stderr && pipe_pair(errp) < 0))
		return die("pipe", NULL);
	stdio[0] = in[0];
	stdio[1] = out[1];
	stdio[2] = inherit_stderr ? -1 : errp[1];
	co.stdio = stdio;
	co.ret_pidfd = &d.init.p;
	if (berth_loop_new(&d.loop, &err) < 0)
		return die("loop", err);
	r = berth_container_create(&o, id, &co, &d.c, &err);
	close(in[0]);
	close(out[1]);
	if (errp[1] >= 0)
		close(errp[1]);
	if (r < 0) {
		berth_loop_free(d.loop); /* ASan's leak check runs in the system tests too */
		return die("create", err);
	}
	in_w_fd = in[1];
	if (berth_loop_add_reaper(d.loop, NULL, &err) < 0 ||
	    berth_loop_add_child(d.loop, d.init.p, on_init_exit, &d, NULL, &err) < 0 ||
	    watch(&d, &d.init.out, out[0], &err) < 0 || watch(&d, &d.init.err, errp[0], &err) < 0)
		return die("watch", err);
	if (oom) {
		if (berth_cgroup_events_open(d.c->cgroup, &d.oom, &err) < 0 ||
		    berth_loop_add_io(d.loop, berth_cgroup_events_fd(d.oom), EPOLLIN, on_oom, &d,
				      &d.oom_src, &err) < 0)
			return die("oom watch", err);
	}
	r = berth_container_start(d.c, &err);
	if (r < 0)
		return die("start", err);
	if (d.exec_args) {
		if (run_exec(&d, &err) < 0) {
			/* reported in the result; the init still gets its input */
			d.exec_failed = true;
			snprintf(d.exec_error, sizeof(d.exec_error), "%s", err ? err->msg : "?");
			berth_error_freep(&err);
			d.exec_args = NULL;
			feed_init(&d, in_w_fd);
			in_w_fd = -EBADF;
		}
	} else {
		feed_init(&d, in_w_fd);
		in_w_fd = -EBADF;
	}
	if (berth_loop_run(d.loop, &err) < 0)
		return die("loop", err);

	r = berth_container_delete(d.c, false, &err);
	result = json_pack("{s:s,s:o,s:b}", "id", id, "init", proc_json(&d.init, !inherit_stderr),
			   "deleted", r >= 0);
	if (d.exec_args)
		json_object_set_new(result, "exec", proc_json(&d.exec, true));
	if (d.exec_failed)
		json_object_set_new(result, "exec_error", json_string(d.exec_error));
	if (oom)
		json_object_set_new(result, "oom",
				    json_pack("{s:I,s:I}", "oom", (json_int_t)d.ooms, "oom_kill",
					      (json_int_t)d.oom_kills));
	if (r < 0)
		json_object_set_new(result, "delete_error", json_string(err->msg));
	json_dumpf(result, stdout, JSON_COMPACT);
	putchar('\n');
	berth_loop_source_freep(&d.oom_src);
	berth_cgroup_events_free(d.oom);
	berth_loop_free(d.loop);
	berth_pidfd_free(d.init.p);
	berth_pidfd_free(d.exec.p);
	berth_container_free(d.c);
	return r < 0 ? 1 : 0;
}
