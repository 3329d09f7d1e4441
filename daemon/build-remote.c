/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /build?remote=: a context berthd fetches itself, as dockerd's remotecontext does.
 *
 *   git     "git://...", "git@host:path", "github.com/...", or an http(s) URL whose path ends in
 *           ".git"; "#ref:subdir" picks a branch, tag or commit and a directory of it.  Cloned
 *           by the git program (a shallow clone of the ref when the server allows it, else a
 *           whole one and a checkout), with no terminal prompt, no system or user config, and
 *           only the git, http, https and ssh transports (never ext:: or file://).  The subdir
 *           is resolved inside the clone: one that leaves it is refused.
 *   http(s) anything else: downloaded; a tar (plain or compressed) is the context, any other
 *           content is the Dockerfile, alone in the context.
 *
 * Every word given to git comes after "--" or is checked not to start with "-": a URL or ref
 * like "--upload-pack=..." is refused, never an option.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "build-internal.h"

#include "base/banned.h"

#define GIT_OUTPUT_KEPT 4096
#define GIT_TIMEOUT_MS	(10 * 60 * 1000)

static bool is_git_url(const char *s)
{
	if (berth_str_has_prefix(s, "git://") || berth_str_has_prefix(s, "git@") ||
	    berth_str_has_prefix(s, "github.com/"))
		return true;
	if (!berth_str_has_prefix(s, "http://") && !berth_str_has_prefix(s, "https://"))
		return false;
	size_t n = strcspn(s, "#?");
	return n >= 4 && !strncmp(s + n - 4, ".git", 4);
}

/*
 * Run git with argv (argv[0] "git") in dir, stdin /dev/null, its output kept (the last
 * GIT_OUTPUT_KEPT bytes) for the error.  Killed when the client goes or after the timeout.
 */
static int run_git(struct build *b, char *const *argv, struct berth_error **err)
{
	static char *const envp[] = {
		"GIT_TERMINAL_PROMPT=0",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_ALLOW_PROTOCOL=git:http:https:ssh",
		"GIT_SSH_COMMAND=ssh -o BatchMode=yes",
		"HOME=/nonexistent",
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"LC_ALL=C",
		NULL};
	posix_spawn_file_actions_t fa;
	char out[GIT_OUTPUT_KEPT + 1];
	size_t have = 0;
	int pipefd[2], status = 0, waited = 0;
	pid_t pid;
	int r;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return berth_error_sys(err, errno, "pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	r = -posix_spawnp(&pid, "git", &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r < 0) {
		close(pipefd[0]);
		return berth_error_sys(err, -r, "run git (is it installed?)");
	}
	for (;;) {
		struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
		int n = poll(&p, 1, 500);
		if (n == 0) {
			waited += 500;
			if (berth_http_client_gone(b->req) || waited > GIT_TIMEOUT_MS) {
				kill(pid, SIGKILL);
				break;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		char buf[1024];
		ssize_t got = read(pipefd[0], buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		/* keep the tail (buf is smaller than out): git's last words are the reason */
		if (have + (size_t)got > GIT_OUTPUT_KEPT) {
			size_t drop = have + (size_t)got - GIT_OUTPUT_KEPT;
			memmove(out, out + drop, have - drop);
			have -= drop;
		}
		memcpy(out + have, buf, (size_t)got);
		have += (size_t)got;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	out[have] = '\0';
	while (have && (out[have - 1] == '\n' || out[have - 1] == '\r'))
		out[--have] = '\0';
	if (berth_http_client_gone(b->req))
		return berth_error_set(err, ECANCELED, "the build was cancelled");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return berth_error_set(
			err, EIO, "error fetching: %s: exit status %d", have ? out : "git failed",
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}

static int clone_git(struct build *b, const char *remote, struct berth_error **err)
{
	_cleanup_free_ char *url = strdup(remote), *repo = NULL, *ctx = NULL, *sub = NULL;
	char *frag, *ref = NULL, *subdir = NULL;
	int r;

	if (!url)
		return bld_oom(err);
	frag = strchr(url, '#');
	if (frag) {
		*frag++ = '\0';
		char *colon = strchr(frag, ':');
		if (colon) {
			*colon = '\0';
			subdir = colon + 1;
		}
		ref = *frag ? frag : NULL;
	}
	_cleanup_free_ char *gh = NULL;
	if (berth_str_has_prefix(url, "github.com/") && asprintf(&gh, "https://%s", url) < 0)
		return bld_oom(err);
	const char *from = gh ?: url;
	if (ref && (ref[0] == '-' || strspn(ref, "\t\n\r ") || strstr(ref, "..")))
		return berth_error_set(err, EINVAL, "invalid git ref: '%s'", ref);
	if (subdir && *subdir) {
		sub = berth_path_clean(subdir);
		if (!sub)
			return bld_oom(err);
		if (sub[0] == '/' || !strcmp(sub, "..") || berth_str_has_prefix(sub, "../"))
			return berth_error_set(err, EINVAL,
					       "invalid git subdirectory '%s': it leaves the "
					       "repository",
					       subdir);
	}
	if (asprintf(&repo, "%s/git", b->dir) < 0 || asprintf(&ctx, "%s/context", b->dir) < 0)
		return bld_oom(err);

	/* a shallow clone of the ref; a server or a ref (a commit) that cannot: all, then checkout */
	char *shallow[] = {"git",
			   "clone",
			   "-q",
			   "--depth",
			   "1",
			   ref ? "--branch" : "--",
			   ref ?: (char *)from,
			   ref ? "--" : repo,
			   ref ? (char *)from : NULL,
			   ref ? repo : NULL,
			   NULL};
	_cleanup_error_ struct berth_error *first = NULL;
	r = run_git(b, shallow, &first);
	if (r == -ECANCELED) {
		*err = TAKE_PTR(first);
		return r;
	}
	if (r < 0) {
		berth_rm_rf(repo, NULL);
		char *full[] = {"git", "clone", "-q", "--", (char *)from, repo, NULL};
		r = run_git(b, full, err);
		if (r == 0 && ref) {
			/* a branch is origin/<ref> in the clone (a bare name would make a local
			 * branch, which --detach refuses); a tag or a commit is the name itself */
			_cleanup_free_ char *branch = NULL;
			if (asprintf(&branch, "origin/%s", ref) < 0)
				return bld_oom(err);
			char *checkout[] = {"git",	"-C",	repo, "checkout", "-q",
					    "--detach", branch, "--", NULL};
			_cleanup_error_ struct berth_error *e = NULL;
			r = run_git(b, checkout, &e);
			if (r < 0 && r != -ECANCELED) {
				checkout[6] = ref;
				r = run_git(b, checkout, err);
			} else if (r < 0) {
				*err = TAKE_PTR(e);
			}
		}
		if (r < 0)
			return r;
	}
	/* the subdir, resolved in the clone (a symlink in it stays in it) */
	_cleanup_close_ int root = open(repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC), dfd = -EBADF;
	if (root < 0)
		return berth_error_sys(err, errno, "open '%s'", repo);
	r = berth_open_in_root(root, sub ?: ".", O_RDONLY | O_DIRECTORY, &dfd, err);
	if (r < 0)
		return berth_error_set(err, ENOENT, "subdirectory '%s' of %s: %s", sub ?: ".",
				       remote, strerror(-r));
	char link[64], path[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dfd);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return berth_error_sys(err, errno, "readlink '%s'", link);
	path[n] = '\0';
	if (strncmp(path, repo, strlen(repo)) || (path[strlen(repo)] && path[strlen(repo)] != '/'))
		return berth_error_set(err, EINVAL, "invalid git subdirectory '%s'", subdir);
	/* the context directory (empty, made by the caller) becomes the clone's directory */
	if (rmdir(ctx) < 0 || rename(path, ctx) < 0)
		return berth_error_sys(err, errno, "move '%s' to '%s'", path, ctx);
	return 0;
}

static bool is_archive(int fd)
{
	unsigned char m[512 + 8] = {0};
	ssize_t n = pread(fd, m, sizeof(m), 0);

	if (n < 6)
		return false;
	return (m[0] == 0x1f && m[1] == 0x8b) || !memcmp(m, "BZh", 3) ||
	       !memcmp(m,
		       "\xfd"
		       "7zXZ",
		       5) ||
	       !memcmp(m, "\x28\xb5\x2f\xfd", 4) || (n >= 262 && !memcmp(m + 257, "ustar", 5));
}

static int fetch_http(struct build *b, const char *url, const char *dockerfile,
		      struct berth_error **err)
{
	_cleanup_free_ char *tmp = NULL, *data = NULL, *name = NULL;
	_cleanup_close_ int fd = -EBADF;
	size_t len = 0;
	int r;

	if (asprintf(&tmp, "%s/remote", b->dir) < 0)
		return bld_oom(err);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_sys(err, errno, "create '%s'", tmp);
	r = bld_download(b, url, fd, NULL, err);
	if (r < 0)
		return r;
	if (is_archive(fd)) {
		r = bld_apply_context_tar(b, fd, err);
		unlink(tmp);
		return r;
	}
	/* a Dockerfile: the only file of the context, under the name the build reads */
	name = berth_path_clean(dockerfile && *dockerfile ? dockerfile : "Dockerfile");
	if (!name)
		return bld_oom(err);
	if (strchr(name, '/') || !strcmp(name, ".."))
		return berth_error_set(err, EINVAL,
				       "the Dockerfile of a remote URL is named in the context's "
				       "top directory, not '%s'",
				       dockerfile);
	r = berth_read_file_at(AT_FDCWD, tmp, 64u << 20, &data, &len, err);
	if (r == 0)
		r = berth_write_file_replace_at(b->ctx_fd, name, data, len, 0644, err);
	unlink(tmp);
	return r;
}

int build_remote_context(struct build *b, const char *remote, const char *dockerfile,
			 struct berth_error **err)
{
	if (remote[0] == '-')
		return berth_error_set(err, EINVAL, "invalid remote URL '%s'", remote);
	if (is_git_url(remote)) {
		int r = clone_git(b, remote, err);
		if (r < 0)
			return r;
		/* the context directory was replaced: open it again */
		if (b->ctx_fd >= 0)
			close(b->ctx_fd);
		_cleanup_free_ char *ctx = NULL;
		if (asprintf(&ctx, "%s/context", b->dir) < 0)
			return bld_oom(err);
		b->ctx_fd = open(ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return b->ctx_fd < 0 ? berth_error_sys(err, errno, "open '%s'", ctx) : 0;
	}
	if (berth_str_has_prefix(remote, "http://") || berth_str_has_prefix(remote, "https://"))
		return fetch_http(b, remote, dockerfile, err);
	return berth_error_set(err, EINVAL, "remoteURL (%s) could not be recognized as URL",
			       remote);
}
