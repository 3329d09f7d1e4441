/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * berth-shim: one small process per container (conmon's role).  It creates the container
 * in-process through lib/runtime, holds its stdio (pipes or a pty), writes its json-file log,
 * serves attach clients whose sockets berthd hands over, runs exec'd processes, reaps the init,
 * records its exit (exit.json), deletes the runtime container and unmounts its root.  One
 * thread, one event loop (lib/base/loop.h).  It outlives berthd.  The protocol is in
 * docs/daemon.md ("The shim").
 */

#include <stdbool.h>
#include <stdint.h>

#include "runtime/runtime.h"

/* docker's copier splits a line longer than this into partial messages */
#define SHIM_LINE_MAX (16 * 1024)
/* past this much unsent output for one attach client, reading the container's output pauses */
#define SHIM_CLIENT_BUF_MAX (1024 * 1024)
/* a request on shim.sock (one SOCK_SEQPACKET message) */
#define SHIM_MSG_MAX (64 * 1024)

/* ---- the json-file log (log.c) ---------------------------------------------------------- */

struct shim_log {
	int fd; /* -EBADF: no log (driver none) */
	char *path;
	int64_t max_size; /* <= 0: never rotated */
	int max_file;	  /* files kept, the live one included (>= 1) */
	int64_t size;
	char *line[3]; /* per stream (1 stdout, 2 stderr): an incomplete line */
	size_t len[3];
	bool failed; /* a write failed: said once in the shim's own log */
};

/* Open (append) the log at path; max_size <= 0 never rotates. */
int shim_log_open(struct shim_log *l, const char *path, int64_t max_size, int max_file,
		  struct berth_error **err);
/* Output of stream 1 or 2: whole lines become records, a line longer than SHIM_LINE_MAX is
 * split (docker's partial messages), the rest waits for more. */
void shim_log_write(struct shim_log *l, int stream, const char *data, size_t len);
/* Write out what waits (end of output) and close. */
void shim_log_close(struct shim_log *l);

/* Go's time.RFC3339Nano of now in UTC (trailing zeros of the fraction dropped). */
void shim_time_rfc3339nano(char *buf, size_t len);

/* Append s as a JSON string (quotes included) the way docker's json-file writer escapes it. */
int shim_json_quote(char **buf, size_t *len, size_t *cap, const char *s, size_t n);

/* ---- the stdio of one process (io.c) ---------------------------------------------------- */

struct shim;
struct pio;

struct client {
	struct pio *p;
	int fd;
	bool want_in, want_out, want_err;
	bool in_eof;
	struct berth_loop_source *src;
	char *out; /* unsent output */
	size_t out_len, out_off, out_cap;
	char keys[16]; /* detach keys (tty only) */
	size_t n_keys, matched;
	struct client *next;
};

struct pio {
	struct shim *s;
	bool tty;
	bool stdin_once;
	int in_fd; /* the process's stdin (pipe write end, or the pty master); -EBADF: none */
	struct berth_loop_source *in_src; /* waits for in_fd to take inbuf */
	char *inbuf;
	size_t in_len;
	bool close_in_when_flushed;
	int out_fd[2]; /* stdout (the pty master with a tty), stderr */
	struct berth_loop_source *out_src[2];
	struct shim_log *log; /* the init's; NULL for exec'd processes */
	struct client *clients;
	bool paused;
	void (*on_eof)(struct pio *p);	  /* every output has ended */
	void (*on_detach)(struct pio *p); /* a client typed the detach keys (may be NULL) */
};

/* Watch the process's outputs. */
int pio_start(struct pio *p, struct berth_error **err);
/* An attach client on fd (taken); pending: input the client already sent. */
int pio_attach(struct pio *p, int fd, bool in, bool out, bool err_, const char *detach_keys,
	       const char *pending, size_t pending_len, struct berth_error **err);
bool pio_outputs_done(const struct pio *p);
/* Stop reading outputs now (the drain deadline passed). */
void pio_close_outputs(struct pio *p);
/* Close the process's stdin (after what waits was written). */
void pio_close_stdin(struct pio *p);
/* Send what clients still have buffered (blocking, bounded), then close them. */
void pio_close_clients(struct pio *p);
void pio_release(struct pio *p);

/* ---- the shim --------------------------------------------------------------------------- */

struct conn;

struct exec_proc {
	struct shim *s;
	char *id;
	struct berth_pidfd *pidfd;
	struct pio io;
	struct conn *conn; /* gets {"pid"} then the exit */
	struct berth_loop_source *child_src;
	bool exited, eof;
	struct exec_proc *next;
};

struct shim {
	struct berth_loop *loop;
	char *id, *dir, *state_root, *rootfs, *exit_file;
	bool tty, open_stdin, stdin_once;
	struct berth_runtime_opts ro;
	struct berth_container *c;
	struct berth_pidfd *init;
	uint64_t init_start; /* its start time: with init->pid, who it is (berthd checks donors) */
	struct pio io;
	struct shim_log log;
	int listen_fd;
	struct berth_loop_source *listen_src, *drain_timer, *oom_src;
	struct berth_cgroup_events *oom;
	struct conn *conns;
	struct exec_proc *execs;
	bool started, exited, finished, oom_killed;
	struct berth_exit_status status;
	int log_fd; /* the shim's own log (shim.log) */
	bool debug;
};

/* The shim's own log (shim.log in its directory): one line per message. */
void shim_logf(struct shim *s, const char *level, const char *fmt, ...) BERTH_PRINTF(3, 4);

/* server.c: shim.sock */
int shim_server_start(struct shim *s, struct berth_error **err);
/* Tell every wait connection (and exec connection) what happened; closes wait connections
 * on exit. */
void shim_server_broadcast(struct shim *s, const char *json_line, bool final);
void shim_server_close(struct shim *s);
void shim_exec_output_done(struct exec_proc *e);
void shim_exec_release(struct exec_proc *e);
int shim_send_json(int fd, json_t *j);

/* main.c */
void shim_check_finish(struct shim *s);
