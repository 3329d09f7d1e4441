/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/base, its core (the berth-base-core library): errors, scope cleanup, string vectors, files
 * written whole or not at all, processes and their exit status, fd passing over unix sockets,
 * signals and the log callback.  It needs no other library -- no jansson -- so a small program
 * (the shim) can link it alone; base.h adds the JSON helpers (json.h) and the event loop
 * (loop.h) on top.  base uses nothing else of berth.
 */

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cleanup.h"
#include "error.h"
#include "inroot.h"
#include "reference.h"

#define BERTH_EXPORT __attribute__((visibility("default")))

/* "absent" for optional integers in parsed documents */
#define BERTH_UNSET INT64_MIN

struct berth_key_value {
	char *key;
	char *value;
};

/* ---- strings ---------------------------------------------------------------------------- */

/* A NULL-terminated vector of malloc'd strings. */
size_t berth_strv_length(char *const *v);
void berth_strv_free(char **v);
static inline void berth_strv_freep(char ***v)
{
	berth_strv_free(*v);
	*v = NULL;
}
#define _cleanup_strv_ _cleanup_(berth_strv_freep)

/* Append a copy of s to *v; returns 0 or -ENOMEM. */
int berth_strv_push(char ***v, const char *s);

/* Does v contain s? */
bool berth_strv_contains(char *const *v, const char *s);

static inline bool berth_str_has_prefix(const char *s, const char *prefix)
{
	return __builtin_strncmp(s, prefix, __builtin_strlen(prefix)) == 0;
}

static inline bool berth_streq(const char *a, const char *b)
{
	return a && b && __builtin_strcmp(a, b) == 0;
}

/*
 * Go's path.Clean (filepath.Clean on Linux): slashes collapsed, "." dropped, ".." taking back the
 * component before it ("/.." is "/"; a relative path keeps its leading ".."), no trailing slash,
 * "." for an empty result.  berth_path_clean_abs is path.Clean("/" + path).  malloc'd; NULL
 * when out of memory.
 */
char *berth_path_clean(const char *path);
char *berth_path_clean_abs(const char *path);

/* n bytes of in as 2n lowercase hex digits and a NUL in out (2n + 1 bytes). */
void berth_hex_encode(char *out, const void *in, size_t n);

/*
 * Parse a whole decimal integer within [min, max].  Returns 0, -EINVAL (not a number, or
 * trailing text) or -ERANGE.
 */
int berth_parse_int64(const char *s, int64_t min, int64_t max, int64_t *ret);
int berth_parse_uint64(const char *s, uint64_t *ret);

/*
 * Parse a size with an optional unit as runc and docker do: "512", "64k", "64KB", "1.5m", "2g",
 * "1GiB" (binary multiples).  Returns 0 or -EINVAL/-ERANGE.
 */
int berth_parse_size(const char *s, int64_t *ret);

/* "now" as RFC 3339 in UTC with nanoseconds ("2026-11-23T17:40:12.123456789Z"); caller frees. */
char *berth_rfc3339_now(void);

/* ---- files ------------------------------------------------------------------------------ */

/*
 * Read a whole file of at most max_size bytes (relative paths resolve against dirfd, which may be
 * AT_FDCWD).  *ret_data is NUL-terminated and owned by the caller.  -EFBIG when larger.
 */
int berth_read_file_at(int dirfd, const char *path, size_t max_size, char **ret_data,
		       size_t *ret_len, struct berth_error **err);

/*
 * As berth_read_file_at, for a file that must be a regular one (a config a caller hands us): a
 * FIFO, a device or a directory is refused at once (EINVAL, nothing read, no waiting for a
 * writer), and so is one whose size is above max_size (EFBIG).
 */
int berth_read_regular_file_at(int dirfd, const char *path, size_t max_size, char **ret_data,
			       size_t *ret_len, struct berth_error **err);

/* Read all of fd (at most max_size bytes) into a NUL-terminated buffer. */
int berth_read_fd(int fd, size_t max_size, char **ret_data, size_t *ret_len,
		  struct berth_error **err);

/*
 * Write data to an existing file (cgroup, proc and sys files): open O_WRONLY, one write.  The
 * error names the file and the value.
 */
int berth_write_file_at(int dirfd, const char *path, const char *data, size_t len,
			struct berth_error **err);

/*
 * Replace path (relative to dirfd) with data whole or not at all: write a temporary file beside
 * it, fsync, rename over it.
 */
int berth_write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len,
			       mode_t mode, struct berth_error **err);

/*
 * As berth_write_file_atomic_at, without the fsync: readers never see a half-written file, but
 * after a power loss the file may be empty or old.  For files that describe live processes and
 * mean nothing after a reboot (a runtime's state under /run, pid files), where an fsync would
 * only cost time (milliseconds per call on a disk).
 */
int berth_write_file_replace_at(int dirfd, const char *path, const void *data, size_t len,
				mode_t mode, struct berth_error **err);

/* mkdir -p; existing directories are fine. */
int berth_mkdir_p(const char *path, mode_t mode, struct berth_error **err);

/*
 * Remove a directory tree without crossing into other filesystems or mounts (a bind mount
 * inside stays, with what it shows) or following symlinks.
 * A missing path is not an error.
 */
int berth_rm_rf(const char *path, struct berth_error **err);
/*
 * The same for name in dirfd, max_depth levels down at most (-ELOOP below): 0 or -errno; on an
 * error it still removes what it can.
 */
int berth_rm_rf_at(int dirfd, const char *name, int max_depth);

/*
 * Mark every fd from `first` up close-on-exec: close_range(CLOSE_RANGE_CLOEXEC) (Linux 5.11;
 * 5.9 has close_range without the flag), else each fd listed in /proc/self/fd, else each fd
 * below RLIMIT_NOFILE.  Returns 0 or -errno.
 */
int berth_fds_cloexec_from(int first);

/* write(2) all of buf, retrying short writes and EINTR; returns 0 or -errno. */
int berth_write_all(int fd, const void *buf, size_t len);

/* ---- .dockerignore (ignore.c) ------------------------------------------------- */

/*
 * A .dockerignore as docker reads it (moby/patternmatcher): one pattern a line, '#' lines are
 * comments, blanks trimmed, "!" makes an exception, each pattern cleaned (path.Clean) with a
 * leading "/" dropped.  Matching (berth_ignore_match) takes a cleaned path relative to the
 * context ("a/b"): the last pattern that matches it or one of its parent directories wins.
 * In a pattern, "*" and "?" stop at "/", "[...]" is a class, "\\" escapes, "**" spans
 * directories (followed by "/": zero or more of them).
 */
struct berth_ignore {
	char **patterns; /* NULL-terminated */
	bool *exclusion; /* patterns[i] began with "!" */
	size_t n;
	bool has_exclusions;
};

int berth_ignore_parse(const char *text, struct berth_ignore *ret, struct berth_error **err);
bool berth_ignore_match(const struct berth_ignore *ig, const char *path);
/* One pattern against one path (no parent rule). */
bool berth_ignore_pattern_match(const char *pattern, const char *path);
void berth_ignore_release(struct berth_ignore *ig);

/* ---- processes -------------------------------------------------------------------------- */

/* Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat); 0 if gone. */
uint64_t berth_proc_start_time(pid_t pid);

/* waitpid() retrying EINTR; returns the raw status or -errno. */
int berth_waitpid(pid_t pid, int flags, int *ret_status);

/* Exit code in shell convention: the code, or 128 + the signal. */
int berth_exit_code(int status);

/* ---- running from a sealed copy of our binary (selfexe.c, docs/security.md) --------------- */

/* Is fd a memfd carrying every seal of a sealed copy (seal, shrink, grow, write)? */
bool berth_fd_is_sealed_copy(int fd);

/* Does this process run from a sealed copy (/proc/self/exe is one)? */
bool berth_self_is_sealed_copy(void);

/*
 * A memfd holding a copy of /proc/self/exe (of an ELF file: what execution needs of it, up to the
 * end of its last segment; debug information stays out), sealed against every change
 * (F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_WRITE), close-on-exec.  The caller owns *ret_fd; executing it
 * (execveat(fd, "", ..., AT_EMPTY_PATH)) runs the copy.  A daemon makes one at start and starts
 * its helpers from it.
 */
int berth_sealed_memfd_of_self(int *ret_fd, struct berth_error **err);

/*
 * The same for another program (a daemon's helper, which it starts from the copy with
 * execveat(fd, "", ..., AT_EMPTY_PATH)): path must be a regular file.
 */
int berth_sealed_memfd_of_file(const char *path, int *ret_fd, struct berth_error **err);

/*
 * Make this process run from a sealed copy of its binary: when it does already, set its name
 * (comm, which exec took from the memfd) back to argv[0]'s and return 0; otherwise make the copy
 * and execute it with argv and envp (the same program starts again from main).  Returns only on
 * failure, with *err saying why.
 */
int berth_reexec_sealed_copy(char **argv, char **envp, struct berth_error **err);

/* ---- exit statuses and wait handles ------------------------------------------------------- */

/* How a process ended. */
struct berth_exit_status {
	int code;   /* its exit code (0..255) when it exited; 0 when a signal killed it */
	int signal; /* the signal that killed it; 0 when it exited */
	bool core_dumped;
};

/* From a wait status (waitpid) or a waitid siginfo (si_code CLD_EXITED/KILLED/DUMPED). */
void berth_exit_status_from_wait(int status, struct berth_exit_status *ret);
void berth_exit_status_from_siginfo(const siginfo_t *si, struct berth_exit_status *ret);

/* Shell convention: the exit code, or 128 + the signal. */
int berth_exit_status_code(const struct berth_exit_status *s);

/*
 * A process we wait for without blocking: its pidfd (Linux 5.3+; waitid P_PIDFD 5.4+), which
 * polls readable (POLLIN/EPOLLIN) once the process has exited.  The exit status is only ours to
 * collect when we are its parent (or its subreaper, once it was reparented to us); for any other
 * process the pidfd still says *that* it exited, not how.
 *
 * Ownership: the handle owns fd (close-on-exec) and closes it in berth_pidfd_free, which neither
 * kills nor reaps the process.
 */
struct berth_pidfd {
	pid_t pid;
	int fd;
	bool exited;	 /* it has exited (and, when has_status, been reaped by us) */
	bool has_status; /* status is valid: we reaped it */
	struct berth_exit_status status; /* how it ended, when has_status */
};

/*
 * Open a handle for pid with pidfd_open(2).  ENOSYS on kernels before 5.3, with a message that
 * says so; ESRCH when there is no such process.
 */
int berth_pidfd_open(pid_t pid, struct berth_pidfd **ret, struct berth_error **err);

/* Wrap a pidfd we already hold (clone's CLONE_PIDFD, one received over a socket); takes fd. */
int berth_pidfd_adopt(pid_t pid, int fd, struct berth_pidfd **ret, struct berth_error **err);

/*
 * Has it exited?  Never blocks.  Returns 0 while it runs, 1 once it has exited: then p->exited
 * is set and, when it was our child, it is reaped (waitid P_PIDFD) and p->status holds how it
 * ended (p->has_status).  For a process that is not our child, 1 comes when the pidfd polls
 * readable, with has_status false.  Negative errno on failure.
 */
int berth_pidfd_try_wait(struct berth_pidfd *p, struct berth_error **err);

/*
 * Record a status reaped elsewhere (by a reaper's waitid(P_ALL)) for this process, so that
 * try_wait reports it.
 */
void berth_pidfd_set_status(struct berth_pidfd *p, const struct berth_exit_status *st);

/* Send sig through the pidfd (pidfd_send_signal: no pid reuse race).  ESRCH once it is gone. */
int berth_pidfd_signal(struct berth_pidfd *p, int sig, struct berth_error **err);

void berth_pidfd_free(struct berth_pidfd *p);
static inline void berth_pidfd_freep(struct berth_pidfd **p)
{
	berth_pidfd_free(*p);
	*p = NULL;
}
#define _cleanup_pidfd_ _cleanup_(berth_pidfd_freep)

/* ---- unix sockets: messages with file descriptors --------------------------------------- */

/*
 * Send len bytes and, when fd >= 0, that file descriptor (SCM_RIGHTS) as one message.
 * Returns 0 or -errno.
 */
int berth_send_fd(int sock, const void *data, size_t len, int fd);

/*
 * Receive one message of at most len bytes; when ret_fd is not NULL a passed descriptor is stored
 * there (with O_CLOEXEC) or -EBADF when none came.  Returns the byte count or -errno; 0 is EOF.
 */
ssize_t berth_recv_fd(int sock, void *data, size_t len, int *ret_fd);

/* ---- signals ---------------------------------------------------------------------------- */

/* "KILL", "SIGKILL", "9", "sigterm", "RTMIN+3" -> number; -EINVAL when unknown. */
int berth_signal_parse(const char *s);

/* 9 -> "KILL" (no SIG prefix); NULL when unknown. */
const char *berth_signal_name(int sig);

/*
 * The signals a foreground runtime passes on to its container (runc's rule): every one but the
 * unblockable (KILL, STOP), those the kernel raises for our own faults (SEGV, BUS, FPE, ILL, TRAP,
 * ABRT, SYS), SIGCHLD (ours: children to reap) and SIGWINCH (ours: a window size to copy).
 * Real-time signals are not included.
 */
void berth_signal_forwardable(sigset_t *ret);

/* ---- log ---------------------------------------------------------------------------------- */

/*
 * The library never prints.  What it has to say that is not an error -- a debug trace, a note
 * about a choice made quietly (a capability dropped, a fallback taken), a server's warning --
 * goes to the log callback of its context object, which the program wires to its own log
 * (berth-runtime: --log; berthd: its log; the shim: its log file).  One type for every context:
 * struct berth_runtime_opts.log (copied into each struct berth_container), struct
 * berth_http_server_config.log.  Code below a context (a function that gets no container or
 * options) takes a `const struct berth_log *` parameter from its caller; there is no
 * process-wide sink.  A zeroed struct berth_log, or a NULL pointer, drops everything.
 */
enum berth_log_level {
	BERTH_LOG_ERROR,
	BERTH_LOG_WARNING,
	BERTH_LOG_INFO,
	BERTH_LOG_DEBUG,
};

/*
 * fn runs in the calling process only (never in a container's children), on whichever thread
 * logged (lib/api's server logs from its connection threads), and must not call back into the
 * library.
 */
struct berth_log {
	void (*fn)(void *data, enum berth_log_level level, const char *msg);
	void *data;
	bool debug; /* pass debug lines too; without it they are not even formatted */
};

/* Format and pass one line to log->fn (log may be NULL, or have no fn: then nothing). */
void berth_log(const struct berth_log *log, enum berth_log_level level, const char *fmt, ...)
	BERTH_PRINTF(3, 4);
void berth_logv(const struct berth_log *log, enum berth_log_level level, const char *fmt,
		va_list ap) BERTH_PRINTF(3, 0);

/* "error", "warning", "info", "debug" */
const char *berth_log_level_name(enum berth_log_level level);

/* Capability name ("CAP_SYS_ADMIN") -> number; -1 when unknown to this build. */
int berth_cap_from_name(const char *name);
/* Capability number -> "CAP_SYS_ADMIN"; NULL when unknown. */
const char *berth_cap_name(int cap);
/* Highest capability number this build knows. */
int berth_cap_last(void);
