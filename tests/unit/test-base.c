/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/base: errors and their context, the cleanup attributes, strings and number parsing (bounds
 * and bad input), files (reads with caps, atomic writes, mkdir -p, rm -rf), fd passing, signals
 * (checked against glibc's own table), exit statuses (against real children), JSON errors, the
 * sealed copy of our own binary, the log callback.  The pidfd handles and the loop are
 * test-loop.c's.
 */
#include <elf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "tap.h"

static char tmpdir[] = "/tmp/berth-test-base.XXXXXX";

static char *cat(const char *a, const char *b)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s", a, b) < 0)
		abort();
	return s;
}

static void test_sealed_copy(void)
{
	struct berth_error *err = NULL;
	int fd = -1;
	char *self = NULL, *copy = NULL;
	size_t self_len = 0, copy_len = 0;

	is(berth_sealed_memfd_of_self(&fd, &err), 0, "sealed memfd of /proc/self/exe: %s",
	   err ? err->msg : "ok");
	ok(fd >= 0 && berth_fd_is_sealed_copy(fd), "it carries all four seals");
	ok((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "close-on-exec");
	/* the seals hold: no write, no growing, no shrinking, no more seals off */
	ok(write(fd, "x", 1) < 0 && errno == EPERM, "write refused");
	ok(ftruncate(fd, 1) < 0 && errno == EPERM, "shrink refused");
	ok(fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0 && errno == EPERM, "sealed for good");
	/* a reopen through /proc/self/fd for writing is refused too */
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int w = open(path, O_WRONLY);
	ok(w < 0 || write(w, "x", 1) < 0, "reopened for writing, it still cannot be written");
	if (w >= 0)
		close(w);

	/* its bytes are the binary's, up to the end of its last segment */
	berth_read_file_at(AT_FDCWD, "/proc/self/exe", 64 << 20, &self, &self_len, NULL);
	lseek(fd, 0, SEEK_SET);
	berth_read_fd(fd, 64 << 20, &copy, &copy_len, NULL);
	ok(self && copy && copy_len > sizeof(Elf64_Ehdr) && copy_len <= self_len &&
		   memcmp(self, copy, copy_len) == 0,
	   "the copy is a prefix of the binary (%zu of %zu bytes)", copy_len, self_len);
	const Elf64_Ehdr *eh = (const void *)copy;
	size_t end = 0;
	for (unsigned i = 0; copy && i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(copy + eh->e_phoff + i * sizeof(*ph));
		if (ph->p_offset + ph->p_filesz > end)
			end = ph->p_offset + ph->p_filesz;
	}
	ok(end > 0 && end <= copy_len, "every segment is in the copy (%zu <= %zu)", end, copy_len);
	free(self);
	free(copy);

	/* what the copy runs as: executing it must work (a child runs `--version`-less, exits 3) */
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {"berth-test-base", "--exit-3", NULL};
		char *envp[] = {NULL};
		syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
		_exit(99);
	}
	int st = 0;
	berth_waitpid(pid, 0, &st);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 3, "the copy executes (exit %d)",
	   WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	close(fd);
	berth_error_free(err);
}

static void test_regular_file(void)
{
	struct berth_error *err = NULL;
	char *data = NULL, *fifo = cat(tmpdir, "/fifo"), *big = cat(tmpdir, "/big"),
	     *good = cat(tmpdir, "/good");
	size_t len = 0;

	mkfifo(fifo, 0600);
	is(berth_read_regular_file_at(AT_FDCWD, fifo, 1024, &data, &len, &err), -EINVAL,
	   "a FIFO is refused without waiting for a writer");
	ok(err && strstr(err->msg, "is not a regular file"), "and said so: %s",
	   err ? err->msg : "");
	berth_error_freep(&err);
	is(berth_read_regular_file_at(AT_FDCWD, tmpdir, 1024, &data, &len, NULL), -EINVAL,
	   "a directory is refused");
	int fd = open(big, O_WRONLY | O_CREAT, 0600);
	ftruncate(fd, 4096);
	close(fd);
	is(berth_read_regular_file_at(AT_FDCWD, big, 1024, &data, &len, &err), -EFBIG,
	   "a file above the cap is refused by its size");
	berth_error_freep(&err);
	berth_write_file_replace_at(AT_FDCWD, good, "hello", 5, 0600, NULL);
	is(berth_read_regular_file_at(AT_FDCWD, good, 1024, &data, &len, NULL), 0,
	   "a regular file is read");
	is_str(data ? data : "", "hello", "replace wrote it whole");
	free(data);
	data = NULL;
	is(berth_write_file_replace_at(AT_FDCWD, good, "bye", 3, 0600, NULL), 0,
	   "replace over an existing file");
	berth_read_regular_file_at(AT_FDCWD, good, 1024, &data, &len, NULL);
	is_str(data ? data : "", "bye", "and it holds the new text only");
	free(data);
	unlink(fifo);
	unlink(big);
	unlink(good);
	free(fifo);
	free(big);
	free(good);
}

static void test_errors(void)
{
	struct berth_error *err = NULL;

	is(berth_error_set(&err, ENOENT, "no such container '%s'", "x"), -ENOENT,
	   "set returns -errnum");
	ok(err && err->code == ENOENT, "and stores the code");
	is_str(err ? err->msg : NULL, "no such container 'x'", "and the formatted message");
	is(berth_error_wrap(&err, "start '%s'", "x"), -ENOENT, "wrap returns the inner code");
	is(berth_error_wrap(&err, "run"), -ENOENT, "wrapped twice");
	is_str(err ? err->msg : NULL, "run: start 'x': no such container 'x'",
	       "context chains outermost first");
	/* set over an existing error replaces it (ASan would report the old one leaking) */
	berth_error_set(&err, EINVAL, "second");
	ok(err && err->code == EINVAL && strcmp(err->msg, "second") == 0, "set replaces an error");
	berth_error_freep(&err);
	ok(err == NULL, "freep empties the pointer");

	is(berth_error_sys(&err, EACCES, "open '%s'", "/x"), -EACCES, "sys returns -errnum");
	is_str(err ? err->msg : NULL, "open '/x': Permission denied", "sys appends strerror");
	berth_error_freep(&err);

	is(berth_error_set(&err, 0, "no errno"), -EIO, "errnum 0 becomes EIO");
	ok(err && err->code == EIO, "and is stored as EIO");
	berth_error_freep(&err);
	is(berth_error_set(NULL, EPERM, "nobody asked"), -EPERM,
	   "a NULL err still returns -errnum");
	is(berth_error_wrap(NULL, "x"), -EIO, "wrap of nothing, nowhere: -EIO");
	/* a callee that failed without saying why: the caller's context is not lost */
	is(berth_error_wrap(&err, "mount '%s'", "/proc"), -EIO, "wrap of a NULL error: EIO");
	ok(err && err->code == EIO && strstr(err->msg, "mount '/proc'") == err->msg,
	   "and the message starts with the context: %s", err ? err->msg : "(none)");
	berth_error_freep(&err);
	berth_error_free(NULL);
	ok(1, "free accepts NULL");
}

static void test_syscall_errors(void)
{
	struct berth_error *err = NULL;

	is(berth_error_syscall(&err, ENOSYS, "mount_setattr", "set attributes of '%s'", "/x"),
	   -ENOSYS, "a missing call: -ENOSYS");
	is_str(err ? err->msg : NULL,
	       "set attributes of '/x': mount_setattr: not supported by this kernel (Linux 5.12 or "
	       "later)",
	       "names the call and the kernel it needs");
	berth_error_freep(&err);
	berth_error_syscall(&err, EPERM, "open_tree", "idmapped mount of '%s'", "/y");
	is_str(err ? err->msg : NULL, "idmapped mount of '/y': open_tree: Operation not permitted",
	       "another errno: the call and strerror");
	berth_error_freep(&err);
	berth_error_syscall(&err, ENOSYS, "frobnicate", "x");
	is_str(err ? err->msg : NULL, "x: frobnicate: not supported by this kernel",
	       "a call without a known version");
	berth_error_freep(&err);
	/* the table is the docs' table; spot-check it against the kernel's history */
	is_str(berth_syscall_since("pidfd_open"), "5.3", "pidfd_open 5.3");
	is_str(berth_syscall_since("openat2"), "5.6", "openat2 5.6");
	is_str(berth_syscall_since("close_range"), "5.9", "close_range 5.9");
	ok(berth_syscall_since("read") == NULL, "old calls are not listed");
}

/* fds 50, 60, 70 without close-on-exec; mark from 60; 0 when 60 and 70 have it and 50 not */
static int cloexec_case(void)
{
	int fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 50) < 0 || dup2(fd, 60) < 0 || dup2(fd, 70) < 0)
		return 2;
	close(fd);
	int r = berth_fds_cloexec_from(60);
	int ok_ = r == 0 && (fcntl(60, F_GETFD) & FD_CLOEXEC) &&
		  (fcntl(70, F_GETFD) & FD_CLOEXEC) && !(fcntl(50, F_GETFD) & FD_CLOEXEC);
	close(50);
	close(60);
	close(70);
	return ok_ ? 0 : 1;
}

static void test_fds_cloexec(void)
{
	is(cloexec_case(), 0, "close_range marks fds from 60 up, not 50");
	/* the kernels without it, played by a seccomp filter in a child */
	static const struct {
		int errnum;
		const char *what;
	} kernels[] = {{ENOSYS, "no close_range (< 5.9)"},
		       {EINVAL, "no CLOSE_RANGE_CLOEXEC (5.9, 5.10)"}};
	for (size_t i = 0; i < ARRAY_SIZE(kernels); i++) {
		pid_t pid = fork();
		if (pid == 0) {
			scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
			if (!ctx ||
			    seccomp_rule_add(ctx, SCMP_ACT_ERRNO((uint32_t)kernels[i].errnum),
					     SCMP_SYS(close_range), 0) < 0 ||
			    seccomp_load(ctx) < 0)
				_exit(3);
			/* the filter holds: the call itself fails */
			if (syscall(SYS_close_range, 60U, ~0U, 4U) == 0 ||
			    errno != kernels[i].errnum)
				_exit(4);
			_exit(cloexec_case());
		}
		int st = 0;
		waitpid(pid, &st, 0);
		is(WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st), 0,
		   "%s: the fallback marks the same fds", kernels[i].what);
	}
}

static int cleanup_fd = -1;
static char *cleanup_ptr_seen;

static int scope_with_cleanups(bool take)
{
	_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *p = strdup("owned");
	_cleanup_close_ int empty = -EBADF;
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_closedir_ DIR *d = NULL;

	(void)empty;
	(void)f;
	(void)d;
	cleanup_fd = fd;
	cleanup_ptr_seen = p;
	if (take) {
		free(TAKE_PTR(p));
		return TAKE_FD(fd);
	}
	errno = ENOTTY;
	return -1;
}

static void test_cleanup(void)
{
	int r = scope_with_cleanups(false);
	ok(r == -1 && errno == ENOTTY, "a cleanup's close() keeps errno (%s)", strerror(errno));
	ok(cleanup_fd >= 0 && fcntl(cleanup_fd, F_GETFD) < 0 && errno == EBADF,
	   "_cleanup_close_ closed fd %d at the end of its scope", cleanup_fd);
	r = scope_with_cleanups(true);
	ok(r == cleanup_fd && fcntl(r, F_GETFD) >= 0, "TAKE_FD handed the fd on, still open");
	close(r);

	int fd = 7;
	int taken = TAKE_FD(fd);
	ok(taken == 7 && fd == -EBADF, "TAKE_FD leaves -EBADF behind");
	char buf[] = "x", *ptr = buf;
	char *got = TAKE_PTR(ptr);
	ok(got == buf && ptr == NULL, "TAKE_PTR leaves NULL behind");
	/* the pointer of a scope whose _cleanup_free_ ran was freed: under ASan a double free or
	 * leak of it aborts this binary, which is the check */
	ok(cleanup_ptr_seen != NULL, "_cleanup_free_ ran (ASan checks no leak, no double free)");
}

static void test_strings(void)
{
	_cleanup_strv_ char **v = NULL;
	int64_t i = 0;
	uint64_t u = 0;

	is(berth_strv_length(NULL), 0, "an empty vector is NULL");
	ok(!berth_strv_contains(NULL, "a"), "NULL contains nothing");
	is(berth_strv_push(&v, "a"), 0, "push");
	berth_strv_push(&v, "b");
	is(berth_strv_length(v), 2, "two strings");
	ok(v && v[2] == NULL, "NULL-terminated");
	ok(berth_strv_contains(v, "b") && !berth_strv_contains(v, "c") &&
		   !berth_strv_contains(v, "A"),
	   "contains: exact matches only");
	ok(berth_str_has_prefix("sha256:ab", "sha256:") && !berth_str_has_prefix("sha2", "sha256:"),
	   "has_prefix, also with a shorter string");
	ok(berth_streq("a", "a") && !berth_streq("a", NULL) && !berth_streq(NULL, NULL),
	   "streq: NULL equals nothing");

	/* int64: whole decimal numbers within the bounds */
	ok(berth_parse_int64("-42", -100, 100, &i) == 0 && i == -42, "int64 -42");
	ok(berth_parse_int64("9223372036854775807", INT64_MIN, INT64_MAX, &i) == 0 &&
		   i == INT64_MAX,
	   "int64 max");
	is(berth_parse_int64("9223372036854775808", INT64_MIN, INT64_MAX, &i), -ERANGE,
	   "int64 overflow: ERANGE");
	is(berth_parse_int64("101", -100, 100, &i), -ERANGE, "above max: ERANGE");
	is(berth_parse_int64("-101", -100, 100, &i), -ERANGE, "below min: ERANGE");
	i = 5;
	const char *bad_int[] = {"", " 1", "1 ", "1x", "0x10", "1.0", "--1", "x", NULL};
	for (size_t k = 0; bad_int[k]; k++)
		is(berth_parse_int64(bad_int[k], INT64_MIN, INT64_MAX, &i), -EINVAL,
		   "int64 '%s': EINVAL", bad_int[k]);
	is(berth_parse_int64(NULL, 0, 1, &i), -EINVAL, "int64 NULL: EINVAL");
	is(i, 5, "a failed parse leaves the result alone");

	ok(berth_parse_uint64("18446744073709551615", &u) == 0 && u == UINT64_MAX, "uint64 max");
	is(berth_parse_uint64("18446744073709551616", &u), -ERANGE, "uint64 overflow: ERANGE");
	const char *bad_uint[] = {"-1", "+1", "", " 1", "1k", NULL};
	for (size_t k = 0; bad_uint[k]; k++)
		is(berth_parse_uint64(bad_uint[k], &u), -EINVAL, "uint64 '%s': EINVAL",
		   bad_uint[k]);

	/* sizes, docker's rules (go-units RAMInBytes): binary multiples, b and i optional */
	static const struct {
		const char *s;
		int64_t want;
	} sizes[] = {
		{"512", 512},	     {"0", 0},		{"64k", 64 << 10}, {"64KB", 64 << 10},
		{"64KiB", 64 << 10}, {"1.5m", 3 << 19}, {"2g", 2LL << 30}, {"1GiB", 1LL << 30},
		{"1 g", 1LL << 30},  {"3t", 3LL << 40}, {"1p", 1LL << 50}, {"10b", 10},
	};
	for (size_t k = 0; k < ARRAY_SIZE(sizes); k++) {
		int64_t got = -1;
		int rc = berth_parse_size(sizes[k].s, &got);
		ok(rc == 0 && got == sizes[k].want, "size '%s' = %lld (got %lld, rc %d)",
		   sizes[k].s, (long long)sizes[k].want, (long long)got, rc);
	}
	const char *bad_size[] = {"",	 "-1",	"k",  "1x",  "1kk", "1.2.3m", "0x10", "1e3",
				  "inf", "nan", " 1", "1p3", "1.m", ".5m",    NULL};
	for (size_t k = 0; bad_size[k]; k++) {
		int64_t got = 77;
		ok(berth_parse_size(bad_size[k], &got) < 0 && got == 77, "size '%s' refused",
		   bad_size[k]);
	}
	int64_t big = 0;
	is(berth_parse_size("8192p", &big), -ERANGE, "size past int64: ERANGE");

	/* rfc3339_now: its shape, and the time it names is now (by the clock, not by itself) */
	char *now = berth_rfc3339_now();
	struct tm tm = {0};
	const char *rest = now ? strptime(now, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	ok(rest && rest[0] == '.' && strlen(rest) == 11 && rest[10] == 'Z',
	   "rfc3339 with nanoseconds and Z: %s", now ? now : "(null)");
	time_t t = timegm(&tm);
	ok(rest && llabs((long long)(t - time(NULL))) <= 2, "and it is now, in UTC");
	free(now);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_files(void)
{
	struct berth_error *err = NULL;
	char *dir = cat(tmpdir, "/files"), *deep = cat(tmpdir, "/files/a/b/c"),
	     *f = cat(tmpdir, "/files/f"), *data = NULL;
	size_t len = 0;
	struct stat st;

	is(berth_mkdir_p(deep, 0700, &err), 0, "mkdir -p of three levels");
	ok(stat(deep, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700,
	   "they exist, mode 0700");
	is(berth_mkdir_p(deep, 0700, NULL), 0, "again: existing directories are fine");

	is(berth_write_file_atomic_at(AT_FDCWD, f, "12345", 5, 0640, &err), 0, "atomic write");
	ok(stat(f, &st) == 0 && (st.st_mode & 07777) == 0640 && st.st_size == 5,
	   "the file has its mode and size");
	is(count_entries(dir), 2, "no temporary file left beside it (a/ and f)");
	char *inpath = cat(f, "/sub");
	ok(berth_mkdir_p(inpath, 0700, &err) < 0 && err, "mkdir -p through a file fails");
	ok(err && strstr(err->msg, "/files/f"), "naming the path: %s", err ? err->msg : "");
	berth_error_freep(&err);
	free(inpath);

	/* the size cap: exactly max is fine, one byte more is EFBIG */
	is(berth_read_file_at(AT_FDCWD, f, 5, &data, &len, NULL), 0, "a file of max bytes");
	ok(data && len == 5 && data[5] == '\0', "read whole and NUL-terminated");
	free(data);
	data = NULL;
	is(berth_read_file_at(AT_FDCWD, f, 4, &data, &len, &err), -EFBIG, "one byte past max");
	ok(data == NULL, "nothing handed out");
	berth_error_freep(&err);
	is(berth_read_file_at(AT_FDCWD, "/nonexistent/berth", 5, &data, &len, &err), -ENOENT,
	   "a missing file: ENOENT");
	ok(err && strstr(err->msg, "/nonexistent/berth"), "naming it: %s", err ? err->msg : "");
	berth_error_freep(&err);

	/* write to an existing file only (the way cgroup files are written) */
	char *missing = cat(dir, "/missing");
	ok(berth_write_file_at(AT_FDCWD, missing, "max", 3, &err) < 0 && access(missing, F_OK) < 0,
	   "write_file_at does not create");
	ok(err && strstr(err->msg, "missing"), "the error names the file: %s", err ? err->msg : "");
	berth_error_freep(&err);
	/* a value the kernel refuses: the error names the file and the value */
	ok(berth_write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", "lots", 4, &err) == -EINVAL,
	   "a refused value: EINVAL");
	ok(err && strstr(err->msg, "oom_score_adj") && strstr(err->msg, "'lots'"),
	   "the error names the file and the value: %s", err ? err->msg : "");
	berth_error_freep(&err);
	free(missing);

	/* rm -rf removes the tree without following a symlink out of it */
	char *outside = cat(tmpdir, "/outside"), *keep = cat(tmpdir, "/outside/keep"),
	     *link = cat(tmpdir, "/files/a/link");
	mkdir(outside, 0700);
	berth_write_file_atomic_at(AT_FDCWD, keep, "k", 1, 0600, NULL);
	symlink(outside, link);
	is(berth_rm_rf(dir, &err), 0, "rm -rf");
	ok(access(dir, F_OK) < 0 && errno == ENOENT, "the tree is gone");
	ok(access(keep, F_OK) == 0, "what its symlink pointed at is still there");
	is(berth_rm_rf(dir, NULL), 0, "rm -rf of a missing path is fine");
	berth_rm_rf(outside, NULL);
	free(outside);
	free(keep);
	free(link);

	/* rm_rf_at: a tree named in a directory fd, max_depth levels down at most */
	char *at_z = cat(tmpdir, "/at/x/y/z");
	int atfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	is(berth_mkdir_p(at_z, 0700, NULL), 0, "a tree of four levels");
	is(berth_rm_rf_at(atfd, "at", 1), -ELOOP, "rm_rf_at deeper than max_depth: -ELOOP");
	ok(access(at_z, F_OK) == 0, "what is below the limit is still there");
	is(berth_rm_rf_at(atfd, "at", 3), 0, "rm_rf_at within max_depth");
	ok(faccessat(atfd, "at", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT,
	   "the tree is gone");
	is(berth_rm_rf_at(atfd, "at", 3), 0, "rm_rf_at of a missing name is fine");
	close(atfd);
	free(at_z);

	/* write_all through a pipe much larger than its buffer, read back by a child */
	int p[2];
	if (pipe2(p, O_CLOEXEC) == 0) {
		size_t n = 1 << 20;
		char *buf = malloc(n);
		for (size_t k = 0; k < n; k++)
			buf[k] = (char)(k * 7);
		pid_t pid = fork();
		if (pid == 0) {
			close(p[1]);
			size_t got = 0, bad = 0;
			char c[4096];
			ssize_t r;
			while ((r = read(p[0], c, sizeof(c))) > 0) {
				for (ssize_t k = 0; k < r; k++)
					bad += c[k] != (char)((got + (size_t)k) * 7);
				got += (size_t)r;
			}
			_exit(got == n && bad == 0 ? 0 : 1);
		}
		close(p[0]);
		is(berth_write_all(p[1], buf, n), 0, "write_all of 1 MiB into a pipe");
		close(p[1]);
		int wst = 0;
		waitpid(pid, &wst, 0);
		ok(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "the reader got every byte in order");
		free(buf);
	}
	is(berth_write_all(-1, "x", 1), -EBADF, "write_all to a bad fd: -EBADF");
	free(dir);
	free(deep);
	free(f);
}

static void test_fd_passing(void)
{
	int sv[2], p[2];
	char msg[16] = {0};
	int got = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(p, O_CLOEXEC) < 0) {
		ok(0, "socketpair/pipe: %s", strerror(errno));
		return;
	}
	is(berth_send_fd(sv[0], "pty", 3, p[1]), 0, "send a message with an fd");
	is(berth_recv_fd(sv[1], msg, sizeof(msg), &got), 3, "receive its 3 bytes");
	is_str(msg, "pty", "the bytes");
	ok(got >= 0 && got != p[1], "and a new descriptor (%d)", got);
	ok(got >= 0 && (fcntl(got, F_GETFD) & FD_CLOEXEC), "received close-on-exec");
	/* it is the same pipe: what goes into the received fd comes out of the pipe */
	char c = 0;
	ok(got >= 0 && write(got, "z", 1) == 1 && read(p[0], &c, 1) == 1 && c == 'z',
	   "it is the pipe's write end");
	close(got);
	is(berth_send_fd(sv[0], "no", 2, -1), 0, "send without an fd");
	got = 42;
	is(berth_recv_fd(sv[1], msg, sizeof(msg), &got), 2, "receive it");
	is(got, -EBADF, "no fd came: -EBADF");
	close(sv[0]);
	is(berth_recv_fd(sv[1], msg, sizeof(msg), &got), 0, "the peer closed: 0");
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

static void test_signals(void)
{
	/* glibc's own table of abbreviations is the independent fact */
	int checked = 0, wrong = 0;
	for (int sig = 1; sig < SIGRTMIN; sig++) {
		const char *abbrev = sigabbrev_np(sig);
		if (!abbrev)
			continue;
		const char *name = berth_signal_name(sig);
		char with_sig[32];
		snprintf(with_sig, sizeof(with_sig), "sig%s", abbrev);
		/* glibc's abbreviation for 29 is its alias POLL; berth names it IO, as signal(7),
		 * runc and docker do (both parse) */
		const char *want = sig == SIGIO ? "IO" : abbrev;
		if (!name || strcmp(name, want) != 0 || berth_signal_parse(abbrev) != sig ||
		    berth_signal_parse(with_sig) != sig) {
			wrong++;
			printf("# signal %d: glibc %s, berth %s, parse %d\n", sig, abbrev,
			       name ? name : "(null)", berth_signal_parse(abbrev));
		}
		checked++;
	}
	ok(checked >= 30 && wrong == 0, "%d signals named and parsed as glibc names them", checked);
	is(berth_signal_parse("9"), SIGKILL, "a number");
	is(berth_signal_parse("IOT"), SIGABRT, "IOT is ABRT");
	is(berth_signal_parse("CLD"), SIGCHLD, "CLD is CHLD");
	is(berth_signal_parse("POLL"), SIGIO, "POLL is IO");
	is(berth_signal_parse("RTMIN"), SIGRTMIN, "RTMIN");
	is(berth_signal_parse("RTMIN+3"), SIGRTMIN + 3, "RTMIN+3");
	is(berth_signal_parse("SIGRTMAX-1"), SIGRTMAX - 1, "SIGRTMAX-1");
	is(berth_signal_parse(""), -EINVAL, "empty");
	const char *bad[] = {"0",	 "65",	    "-9",      "9x",	 "SIG",	     "FOO",
			     "SIGKILLX", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMIN+99", NULL};
	for (size_t k = 0; bad[k]; k++)
		is(berth_signal_parse(bad[k]), -EINVAL, "'%s' is no signal", bad[k]);
	ok(berth_signal_name(0) == NULL && berth_signal_name(1000) == NULL,
	   "no name for 0 or 1000");

	sigset_t fw;
	berth_signal_forwardable(&fw);
	ok(sigismember(&fw, SIGTERM) && sigismember(&fw, SIGINT) && sigismember(&fw, SIGHUP) &&
		   sigismember(&fw, SIGUSR1),
	   "TERM INT HUP USR1 are forwarded");
	ok(!sigismember(&fw, SIGKILL) && !sigismember(&fw, SIGSTOP) && !sigismember(&fw, SIGCHLD) &&
		   !sigismember(&fw, SIGWINCH) && !sigismember(&fw, SIGSEGV) &&
		   !sigismember(&fw, SIGRTMIN),
	   "KILL STOP CHLD WINCH SEGV and real-time ones are not");
}

static void test_exit_status(void)
{
	struct berth_exit_status es;
	int st = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(3);
	waitpid(pid, &st, 0);
	berth_exit_status_from_wait(st, &es);
	ok(es.code == 3 && es.signal == 0 && !es.core_dumped, "exit 3 from a wait status");
	is(berth_exit_status_code(&es), 3, "shell code 3");
	is(berth_exit_code(st), 3, "berth_exit_code agrees");

	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	berth_exit_status_from_wait(st, &es);
	ok(es.code == 0 && es.signal == SIGTERM, "killed by TERM from a wait status");
	is(berth_exit_status_code(&es), 128 + SIGTERM, "shell code 143");
	is(berth_exit_code(st), 128 + SIGTERM, "berth_exit_code agrees");

	pid = fork();
	if (pid == 0)
		_exit(255);
	siginfo_t si = {0};
	waitid(P_PID, (id_t)pid, &si, WEXITED);
	berth_exit_status_from_siginfo(&si, &es);
	ok(es.code == 255 && es.signal == 0, "exit 255 from a siginfo");
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	kill(pid, SIGKILL);
	memset(&si, 0, sizeof(si));
	waitid(P_PID, (id_t)pid, &si, WEXITED);
	berth_exit_status_from_siginfo(&si, &es);
	ok(es.signal == SIGKILL && es.code == 0, "KILL from a siginfo");
	is(berth_exit_status_code(&es), 137, "shell code 137");

	ok(berth_proc_start_time(getpid()) > 0, "our own start time");
	pid = fork();
	if (pid == 0)
		_exit(0);
	uint64_t child = berth_proc_start_time(pid);
	ok(child >= berth_proc_start_time(getpid()), "a child started no earlier than us");
	waitpid(pid, &st, 0);
	is(berth_proc_start_time(pid), 0, "a reaped pid has none");
}

static void test_json(void)
{
	struct berth_error *err = NULL;
	json_t *j = NULL;

	is(berth_json_parse("{\"a\": [1, 2]}", 13, &j, &err), 0, "parse");
	char *s = j ? berth_json_dump(j) : NULL;
	is_str(s, "{\"a\":[1,2]}", "dump is compact");
	free(s);
	json_decref(j);
	j = NULL;
	is(berth_json_parse("{\n  \"a\": ,\n}", 12, &j, &err), -EINVAL, "malformed: EINVAL");
	ok(j == NULL && err && strstr(err->msg, "line 2"), "the error gives the line: %s",
	   err ? err->msg : "");
	berth_error_freep(&err);
	/* a NUL inside is not a way to hide a second document */
	ok(berth_json_parse("{}\0{}", 5, &j, &err) < 0, "an embedded NUL is refused");
	berth_error_freep(&err);
	json_decref(j);
	j = NULL;

	char *f = cat(tmpdir, "/doc.json");
	berth_write_file_atomic_at(AT_FDCWD, f, "[1,2,3]", 7, 0600, NULL);
	is(berth_json_load_file(f, 6, &j, &err), -EFBIG, "a file past the cap is refused");
	berth_error_freep(&err);
	is(berth_json_load_file(f, 7, &j, &err), 0, "at the cap it is read");
	ok(j && json_array_size(j) == 3, "three elements");
	json_decref(j);
	unlink(f);
	free(f);
}

static char notes[256];

static void note(void *data, enum berth_log_level level, const char *msg)
{
	snprintf(notes, sizeof(notes), "%s:%s:%s", (const char *)data, berth_log_level_name(level),
		 msg);
}

static void test_log(void)
{
	struct berth_log log = {.fn = note, .data = "ud", .debug = true};

	berth_log(NULL, BERTH_LOG_DEBUG, "nobody listens %d", 1);
	ok(notes[0] == '\0', "no log: the line is dropped");
	berth_log(&log, BERTH_LOG_DEBUG, "dropped %s", "CAP_KILL");
	is_str(notes, "ud:debug:dropped CAP_KILL",
	       "the callback gets the line, its level and data");
}

static void test_path_clean(void)
{
	static const char *const cases[][2] = {
		{"", "."},
		{".", "."},
		{"/", "/"},
		{"//", "/"},
		{"a/b/", "a/b"},
		{"a//b/./c", "a/b/c"},
		{"a/..", "."},
		{"a/../..", ".."},
		{"../../x", "../../x"},
		{"a/b/../../..", ".."},
		{"../a/..", ".."},
		{"/..", "/"},
		{"/a/../..", "/"},
		{"/../a/b/..", "/a"},
		{"x/../../y", "../y"},
		{"..a/.b", "..a/.b"},
		{"/a/b/c/../d/", "/a/b/d"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *c = berth_path_clean(cases[i][0]);
		is_str(c, cases[i][1], "path clean '%s'", cases[i][0]);
	}
	_cleanup_free_ char *a = berth_path_clean_abs("a/../../b/.");
	is_str(a, "/b", "path clean abs of a relative path is rooted");
	_cleanup_free_ char *r = berth_path_clean_abs("/x/y/..");
	is_str(r, "/x", "path clean abs of an absolute path");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--exit-3") == 0)
		return 3;
	if (!mkdtemp(tmpdir))
		return 1;
	test_errors();
	test_syscall_errors();
	test_fds_cloexec();
	test_cleanup();
	test_strings();
	test_files();
	test_fd_passing();
	test_signals();
	test_exit_status();
	test_json();
	test_sealed_copy();
	test_regular_file();
	test_path_clean();
	test_log();
	rmdir(tmpdir);
	return done_testing();
}
