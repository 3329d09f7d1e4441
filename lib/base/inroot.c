/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resolving a path inside a directory tree as if it were "/" (inroot.h): for the runtime's
 * mounts and devices in a container's root, and for unpacking image layers.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core.h"

#include "banned.h"

/* A stack of directory fds from the root down; entry 0 is the root itself, not owned. */
struct walk_stack {
	int *fds;
	size_t n, cap;
};

static void walk_stack_release(struct walk_stack *s)
{
	for (size_t i = 1; i < s->n; i++)
		close(s->fds[i]);
	free(s->fds);
}

static int walk_push(struct walk_stack *s, int fd)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		int *fds = realloc(s->fds, cap * sizeof(*fds));
		if (!fds)
			return -ENOMEM;
		s->fds = fds;
		s->cap = cap;
	}
	s->fds[s->n++] = fd;
	return 0;
}

static void walk_pop_to(struct walk_stack *s, size_t n)
{
	while (s->n > n)
		close(s->fds[--s->n]);
}

static int create_component(int dirfd, const char *name, bool file)
{
	if (file) {
		int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
				0644);
		if (fd < 0)
			return errno == EEXIST ? 0 : -errno;
		close(fd);
		return 0;
	}
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * berth_root_open_walk, or with open_file the object itself opened with flags at the end: the
 * last component by name from its parent with O_NOFOLLOW, so that a symlink swapped in since it
 * was looked at is refused rather than followed.
 */
static int walk(int rootfd, const char *path, int flags, bool create, bool create_file,
		bool open_file, int *ret_fd)
{
	struct walk_stack st = {0};
	_cleanup_free_ char *rest = NULL;
	char comp[NAME_MAX + 1];
	unsigned links = 0;
	int r;

	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	rest = strdup(path);
	if (!rest)
		return -ENOMEM;
	r = walk_push(&st, rootfd);
	if (r < 0)
		goto out;

	for (char *p = rest;;) {
		struct stat sb;
		size_t len;
		bool last;
		int fd;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		len = strcspn(p, "/");
		if (len > NAME_MAX) {
			r = -ENAMETOOLONG;
			goto out;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		while (*p == '/')
			p++;
		last = *p == '\0';

		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			/* ".." at the root stays at the root, as RESOLVE_IN_ROOT does */
			if (st.n > 1)
				walk_pop_to(&st, st.n - 1);
			continue;
		}

		fd = openat(st.fds[st.n - 1], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT && create) {
			r = create_component(st.fds[st.n - 1], comp, last && create_file);
			if (r < 0)
				goto out;
			fd = openat(st.fds[st.n - 1], comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0) {
			r = -errno;
			goto out;
		}
		if (fstatat(fd, "", &sb, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			close(fd);
			goto out;
		}

		if (S_ISLNK(sb.st_mode) && !(last && (flags & O_NOFOLLOW))) {
			/*
			 * Read the link as text and walk its target ourselves: the kernel never
			 * follows it, so a magic link cannot jump out and an absolute target
			 * starts again at our root.
			 */
			char target[PATH_MAX];
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			char *spliced;
			size_t tail;

			close(fd);
			if (n < 0) {
				r = -errno;
				goto out;
			}
			target[n] = '\0';
			if (++links > BERTH_ROOT_MAX_SYMLINKS) {
				r = -ELOOP;
				goto out;
			}
			tail = strlen(p);
			if ((size_t)n + 1 + tail >= PATH_MAX) {
				r = -ENAMETOOLONG;
				goto out;
			}
			spliced = malloc((size_t)n + 2 + tail);
			if (!spliced) {
				r = -ENOMEM;
				goto out;
			}
			memcpy(spliced, target, (size_t)n);
			spliced[n] = '/';
			memcpy(spliced + n + 1, p, tail + 1);
			free(rest);
			rest = spliced;
			p = rest;
			if (target[0] == '/')
				walk_pop_to(&st, 1);
			continue;
		}
		if (last && open_file) {
			close(fd);
			fd = openat(st.fds[st.n - 1], comp, flags | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				r = -errno;
				goto out;
			}
			*ret_fd = fd;
			r = 0;
			goto out;
		}
		if (!last && !S_ISDIR(sb.st_mode)) {
			close(fd);
			r = -ENOTDIR;
			goto out;
		}
		r = walk_push(&st, fd);
		if (r < 0) {
			close(fd);
			goto out;
		}
	}

	{
		int top = st.fds[st.n - 1];
		struct stat sb;
		int fd;

		if (open_file) {
			/* the path ended at a directory: "/", "d/.", "d/.." */
			fd = openat(top, ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC);
			if (fd < 0) {
				r = -errno;
				goto out;
			}
		} else if (st.n == 1) {
			fd = openat(rootfd, ".", O_PATH | O_CLOEXEC);
			if (fd < 0) {
				r = -errno;
				goto out;
			}
		} else {
			fd = top;
			st.n--;
		}
		if ((flags & O_DIRECTORY) && (fstat(fd, &sb) < 0 || !S_ISDIR(sb.st_mode))) {
			close(fd);
			r = -ENOTDIR;
			goto out;
		}
		*ret_fd = fd;
		r = 0;
	}
out:
	walk_stack_release(&st);
	return r;
}

int berth_root_open_walk(int rootfd, const char *path, int flags, bool create, bool create_file,
			 int *ret_fd)
{
	return walk(rootfd, path, flags, create, create_file, false, ret_fd);
}

/* kernel < 5.6 has no openat2: remember that once and walk by hand from then on */
static bool have_openat2 = true;
bool berth_root_force_walk;

bool berth_root_uses_openat2(void)
{
	return have_openat2 && !berth_root_force_walk;
}

/* openat2 with how_flags, else the walk (open_file as walk's) */
static int root_open(int rootfd, const char *path, uint64_t how_flags, int flags, bool open_file,
		     int *ret_fd)
{
	struct open_how how = {
		.flags = how_flags,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	if (strnlen(path, PATH_MAX) >= PATH_MAX)
		return -ENAMETOOLONG;
	for (int tries = 0; berth_root_uses_openat2() && tries < 16; tries++) {
		long fd = syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
		if (fd >= 0) {
			*ret_fd = (int)fd;
			return 0;
		}
		/* EAGAIN: a rename raced the walk; the kernel asks us to try again */
		if (errno == EAGAIN)
			continue;
		/* EPERM: a seccomp filter of an older engine refusing openat2 */
		if (errno == ENOSYS || errno == E2BIG || errno == EPERM) {
			have_openat2 = false;
			break;
		}
		return -errno;
	}
	return walk(rootfd, path, flags, false, false, open_file, ret_fd);
}

int berth_root_open(int rootfd, const char *path, int flags, int *ret_fd)
{
	return root_open(rootfd, path,
			 (uint64_t)(O_PATH | O_CLOEXEC | (flags & (O_NOFOLLOW | O_DIRECTORY))),
			 flags, false, ret_fd);
}

int berth_root_open_file(int rootfd, const char *path, int flags, int *ret_fd)
{
	return root_open(rootfd, path, (uint64_t)(flags | O_CLOEXEC), flags, true, ret_fd);
}

int berth_root_mkpath(int rootfd, const char *path, int flags, bool file, int *ret_fd)
{
	int r = berth_root_open(rootfd, path, flags, ret_fd);
	if (r != -ENOENT)
		return r;
	return berth_root_open_walk(rootfd, path, flags, true, file, ret_fd);
}
