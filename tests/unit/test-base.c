/* SPDX-License-Identifier: Apache-2.0 */
/* lib/base: the sealed copy of our own binary, regular-file reads, replace without fsync. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--exit-3") == 0)
		return 3;
	if (!mkdtemp(tmpdir))
		return 1;
	test_sealed_copy();
	test_regular_file();
	test_log();
	rmdir(tmpdir);
	return done_testing();
}
