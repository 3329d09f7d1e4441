/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One mounts[] entry at a time, inside the rootfs.  The destination is resolved inside the root
 * and opened O_PATH; the mount then goes onto /proc/self/fd/N, so the directory that was checked
 * is the one mounted on, whatever a symlink in the image says.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux.h"
#include "rootfs-internal.h"

#include "base/banned.h"

#define PROPAGATION_MASK (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)
/* what a remount of a bind can change */
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256 /* glibc < 2.34 */
#endif
#define BIND_REMOUNT_MASK                                                                          \
	(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
	 MS_STRICTATIME | MS_NOSYMFOLLOW)
#define TMPCOPYUP_MAX_DEPTH 128

/* What a message calls the mount's source: the source, else its type. */
static const char *mount_name(const struct berth_mount *m)
{
	if (m->source)
		return m->source;
	return m->type ? m->type : "none";
}

static bool is_bind(const struct berth_mount *m)
{
	return m->bind || berth_streq(m->type, "bind") || berth_streq(m->type, "rbind");
}

/* A bind's source: relative paths are relative to the bundle, as the spec says. */
static int bind_source(const struct berth_rootfs_ctx *ctx, const struct berth_mount *m, char **ret,
		       struct berth_error **err)
{
	char *s;

	if (!m->source || !*m->source)
		return berth_error_set(err, EINVAL, "mount on '%s': a bind mount needs a source",
				       m->destination);
	if (m->source[0] == '/' || !ctx->bundle)
		s = strdup(m->source);
	else if (asprintf(&s, "%s/%s", ctx->bundle, m->source) < 0)
		s = NULL;
	if (!s)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = s;
	return 0;
}

/* Re-open the destination after mounting: the old fd still points at the covered directory. */
static int reopen_top(int rootfd, const struct berth_mount *m, int *fd, struct berth_error **err)
{
	int nfd, r;

	r = berth_root_open(rootfd, m->destination, 0, &nfd);
	if (r < 0)
		return berth_error_sys(err, -r, "open mount '%s' on '%s'", mount_name(m),
				       m->destination);
	if (*fd >= 0)
		close(*fd);
	*fd = nfd;
	return 0;
}

/* After the mount itself: remount flags of a bind, recursive attributes, propagation. */
static int finish_mount(int rootfd, const struct berth_mount *m, bool bind, int *fd,
			struct berth_error **err)
{
	unsigned long flags = m->flags & BIND_REMOUNT_MASK;
	char p[32];
	int r;

	r = reopen_top(rootfd, m, fd, err);
	if (r < 0)
		return r;
	/* a bind ignores ro/nosuid/nodev/noexec at first: they need a remount */
	if (bind && (flags || (m->clear_flags & BIND_REMOUNT_MASK))) {
		r = berth_remount_bind(*fd, flags);
		if (r < 0)
			return berth_error_sys(err, -r, "remount '%s' on '%s'", mount_name(m),
					       m->destination);
	}
	if (m->attr_set || m->attr_clr) {
		struct mount_attr a = {.attr_set = m->attr_set, .attr_clr = m->attr_clr};
		if (mount_setattr(*fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
			return berth_error_syscall(err, errno, "mount_setattr",
						   "set attributes of '%s' on '%s'", mount_name(m),
						   m->destination);
	}
	if (m->propagation &&
	    mount(NULL, berth_fd_path(*fd, p, sizeof(p)), NULL, m->propagation, NULL) < 0)
		return berth_error_sys(err, errno, "set propagation of '%s'", m->destination);
	return 0;
}

/* ---- idmapped mounts --------------------------------------------------------------------- */

static int write_id_map(pid_t pid, const char *file, const struct berth_id_mapping *maps, size_t n)
{
	char path[64], buf[4096];
	size_t len = 0;
	int fd, r = 0;

	if (n == 0 || n > 340)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n", maps[i].container_id,
				 maps[i].host_id, maps[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - len)
			return -E2BIG;
		len += (size_t)w;
	}
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, buf, len) != (ssize_t)len)
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

/*
 * An idmapped mount needs a user namespace holding the mapping: make one in a short-lived
 * child, write its maps, and keep only an fd to the namespace.
 *
 * The child's pid as fork() returns it is the one in our (maybe new) pid namespace, while the
 * /proc mounted now may be the host's, where that number is another process.  The child reads
 * its own number from /proc/self and sends it: that is the one to use under this /proc.
 */
struct userns_ready {
	char ok;
	int proc_pid;
};

static int make_userns(const struct berth_id_mapping *uids, size_t n_uids,
		       const struct berth_id_mapping *gids, size_t n_gids, int *ret_fd)
{
	int ready[2] = {-1, -1}, hold[2] = {-1, -1};
	struct userns_ready msg = {0};
	char path[64], c = 0;
	pid_t pid;
	int r = 0, fd = -1, status;

	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(hold, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0) {
		char self[32];
		ssize_t n = readlink("/proc/self", self, sizeof(self) - 1);
		int64_t v = 0;

		close(hold[1]);
		if (n > 0) {
			self[n] = '\0';
			if (berth_parse_int64(self, 1, INT_MAX, &v) == 0)
				msg.proc_pid = (int)v;
		}
		msg.ok = msg.proc_pid > 0 && unshare(CLONE_NEWUSER) == 0;
		if (write(ready[1], &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
			_exit(1);
		/* wait until the parent has opened our namespace and closes its end */
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	ready[1] = -1;
	close(hold[0]);
	hold[0] = -1;
	if (read(ready[0], &msg, sizeof(msg)) != (ssize_t)sizeof(msg) || !msg.ok) {
		r = -EPERM;
		goto reap;
	}
	r = write_id_map(msg.proc_pid, "uid_map", uids, n_uids);
	if (r == 0)
		r = write_id_map(msg.proc_pid, "gid_map", gids, n_gids);
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", msg.proc_pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			r = -errno;
	}
reap:
	close(hold[1]);
	hold[1] = -1;
	berth_waitpid(pid, 0, &status);
	if (r == 0)
		*ret_fd = fd;
out:
	for (int i = 0; i < 2; i++) {
		if (ready[i] >= 0)
			close(ready[i]);
		if (hold[i] >= 0)
			close(hold[i]);
	}
	return r;
}

static int mount_idmapped(const struct berth_rootfs_ctx *ctx, int rootfd,
			  const struct berth_mount *m, const char *src, int *fd,
			  struct berth_error **err)
{
	const struct berth_linux *l = &ctx->spec->linux_;
	const struct berth_id_mapping *uids = m->uid_mappings, *gids = m->gid_mappings;
	size_t n_uids = m->n_uid_mappings, n_gids = m->n_gid_mappings;
	_cleanup_close_ int tree = -EBADF, userns = -EBADF;
	unsigned rec = m->recursive ? AT_RECURSIVE : 0;
	unsigned idrec = m->idmap_recursive ? AT_RECURSIVE : 0;
	int r;

	/* no mapping on the mount: the container's own user namespace mapping */
	if (!n_uids) {
		uids = l->uid_mappings;
		n_uids = l->n_uid_mappings;
	}
	if (!n_gids) {
		gids = l->gid_mappings;
		n_gids = l->n_gid_mappings;
	}
	if (!n_uids || !n_gids)
		return berth_error_set(err, EINVAL,
				       "idmapped mount of '%s' on '%s': no uid or gid mappings",
				       mount_name(m), m->destination);

	tree = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | rec);
	if (tree < 0)
		return berth_error_syscall(err, errno, "open_tree",
					   "idmapped mount of '%s' on '%s'", mount_name(m),
					   m->destination);
	r = make_userns(uids, n_uids, gids, n_gids, &userns);
	if (r < 0)
		return berth_error_sys(err, -r,
				       "idmapped mount of '%s' on '%s': make user namespace",
				       mount_name(m), m->destination);
	struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
	if (mount_setattr(tree, "", AT_EMPTY_PATH | idrec, &a, sizeof(a)) < 0) {
		int e = errno;
		if (e == ENOSYS)
			return berth_error_syscall(err, e, "mount_setattr",
						   "idmapped mount of '%s' on '%s'", mount_name(m),
						   m->destination);
		if (e == EINVAL || e == EOPNOTSUPP)
			return berth_error_set(err, e,
					       "idmapped mount of '%s' on '%s': the filesystem or "
					       "kernel does not support idmapped mounts",
					       mount_name(m), m->destination);
		return berth_error_sys(err, e, "idmapped mount of '%s' on '%s'", mount_name(m),
				       m->destination);
	}
	if (move_mount(tree, "", *fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return berth_error_syscall(err, errno, "move_mount", "mount '%s' on '%s'",
					   mount_name(m), m->destination);
	return finish_mount(rootfd, m, true, fd, err);
}

/* ---- cgroup ------------------------------------------------------------------------------ */

/*
 * The hierarchies under /sys/fs/cgroup when the container has no cgroup object: "" for a
 * cgroup2 host, else each directory there that is a cgroup mount (symlinks such as
 * cpu -> cpu,cpuacct are left out; the co-mounted directory brings them back).
 */
static int host_hierarchies(char ***ret)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_ char **v = NULL;
	struct statfs sfs;
	struct dirent *de;
	int r;

	if (statfs(BERTH_CGROUP_ROOT, &sfs) < 0)
		return -errno;
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		r = berth_strv_push(&v, "");
		if (r < 0)
			return r;
		*ret = TAKE_PTR(v);
		return 0;
	}
	d = opendir(BERTH_CGROUP_ROOT);
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		struct stat sb;
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		r = berth_strv_push(&v, de->d_name);
		if (r < 0)
			return r;
	}
	if (errno)
		return -errno;
	*ret = TAKE_PTR(v);
	return 0;
}

static int bind_ro_flags(const struct berth_mount *m, int fd)
{
	return berth_remount_bind(fd, (m->flags & BIND_REMOUNT_MASK) | MS_NOSUID | MS_NODEV |
					      MS_NOEXEC);
}

/*
 * cgroup v2: mount cgroup2 (a new cgroup namespace shows its own root).  Where that is refused
 * (a user namespace that does not own the cgroup namespace) bind the container's own cgroup.
 * cgroup v1: a tmpfs with one bind per hierarchy of the container's own directory in it, which
 * is also what a new cgroup namespace would show.
 */
static int mount_cgroup(const struct berth_rootfs_ctx *ctx, int rootfd, const struct berth_mount *m,
			int *fd, struct berth_error **err)
{
	_cleanup_strv_ char **hier = NULL;
	unsigned long flags = m->flags & ~(PROPAGATION_MASK | MS_BIND | MS_REC);
	const char *cgpath = "";
	char p[32];
	int r;

	if (ctx->cgroup) {
		r = berth_cgroup_hierarchies(ctx->cgroup, &hier, err);
		if (r < 0)
			return berth_error_wrap(err, "mount 'cgroup' on '%s'", m->destination);
		cgpath = berth_cgroup_path(ctx->cgroup);
	} else {
		/* no cgroup of its own: show the hierarchies' roots */
		r = host_hierarchies(&hier);
		if (r < 0)
			return berth_error_sys(err, -r, "mount 'cgroup' on '%s': list '%s'",
					       m->destination, BERTH_CGROUP_ROOT);
	}
	if (!cgpath || strcmp(cgpath, "/") == 0)
		cgpath = "";

	if (hier && hier[0] && !hier[1] && hier[0][0] == '\0') {
		_cleanup_free_ char *dir = NULL;
		bool mounted = mount("cgroup2", berth_fd_path(*fd, p, sizeof(p)), "cgroup2", flags,
				     NULL) == 0;
		if (mounted) {
			/* *fd is the directory under the new mount: propagation is the mount's */
			r = reopen_top(rootfd, m, fd, err);
			if (r < 0)
				goto out;
			goto done;
		}
		if (errno != EPERM && errno != EBUSY) {
			r = berth_error_sys(err, errno, "mount 'cgroup2' on '%s'", m->destination);
			goto out;
		}
		if (asprintf(&dir, "%s%s", BERTH_CGROUP_ROOT, cgpath) < 0) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		if (mount(dir, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			r = berth_error_sys(err, errno, "mount '%s' on '%s'", dir, m->destination);
			goto out;
		}
		r = reopen_top(rootfd, m, fd, err);
		if (r < 0)
			goto out;
		r = bind_ro_flags(m, *fd);
		if (r < 0) {
			r = berth_error_sys(err, -r, "remount '%s' on '%s'", dir, m->destination);
			goto out;
		}
		goto done;
	}

	/* v1: writable while the binds go in, made read-only at the end when asked */
	if (mount("tmpfs", berth_fd_path(*fd, p, sizeof(p)), "tmpfs",
		  MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0) {
		r = berth_error_sys(err, errno, "mount 'tmpfs' on '%s'", m->destination);
		goto out;
	}
	r = reopen_top(rootfd, m, fd, err);
	if (r < 0)
		goto out;
	for (char **h = hier; h && *h; h++) {
		_cleanup_free_ char *src = NULL;
		_cleanup_close_ int sub = -EBADF, top = -EBADF;
		struct stat sb;
		char q[32];

		if (strchr(*h, '/') || strcmp(*h, "..") == 0 || strcmp(*h, ".") == 0 || !**h)
			continue;
		if (asprintf(&src, "%s/%s%s", BERTH_CGROUP_ROOT, *h, cgpath) < 0) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		/* a hierarchy the container's cgroup was not made in is left out */
		if (stat(src, &sb) < 0 || !S_ISDIR(sb.st_mode))
			continue;
		if (mkdirat(*fd, *h, 0755) < 0 && errno != EEXIST) {
			r = berth_error_sys(err, errno, "mkdir '%s/%s'", m->destination, *h);
			goto out;
		}
		sub = openat(*fd, *h, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		if (sub < 0) {
			r = berth_error_sys(err, errno, "open '%s/%s'", m->destination, *h);
			goto out;
		}
		if (mount(src, berth_fd_path(sub, q, sizeof(q)), NULL, MS_BIND | MS_REC, NULL) <
		    0) {
			r = berth_error_sys(err, errno, "mount '%s' on '%s/%s'", src,
					    m->destination, *h);
			goto out;
		}
		top = openat(*fd, *h, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
		if (top < 0) {
			r = berth_error_sys(err, errno, "open '%s/%s'", m->destination, *h);
			goto out;
		}
		r = bind_ro_flags(m, top);
		if (r < 0) {
			r = berth_error_sys(err, -r, "remount '%s' on '%s/%s'", src, m->destination,
					    *h);
			goto out;
		}
		/* co-mounted controllers: "cpu" and "cpuacct" lead to "cpu,cpuacct" */
		if (strchr(*h, ',')) {
			_cleanup_free_ char *names = strdup(*h);
			char *save = NULL;
			if (!names) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto out;
			}
			for (char *c = strtok_r(names, ",", &save); c;
			     c = strtok_r(NULL, ",", &save))
				if (symlinkat(*h, *fd, c) < 0 && errno != EEXIST) {
					r = berth_error_sys(err, errno, "symlink '%s/%s'",
							    m->destination, c);
					goto out;
				}
		}
	}
	if (flags & MS_RDONLY) {
		if (mount(NULL, berth_fd_path(*fd, p, sizeof(p)), NULL,
			  MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=755") < 0) {
			r = berth_error_sys(err, errno, "remount 'tmpfs' on '%s' read-only",
					    m->destination);
			goto out;
		}
	}
done:
	r = 0;
	if (m->propagation &&
	    mount(NULL, berth_fd_path(*fd, p, sizeof(p)), NULL, m->propagation, NULL) < 0)
		r = berth_error_sys(err, errno, "set propagation of '%s'", m->destination);
out:
	return r;
}

/* ---- tmpcopyup ----------------------------------------------------------------------------- */

static int copy_file(int src, int dst, const char *name, const struct stat *sb)
{
	_cleanup_close_ int in = -EBADF, out = -EBADF;
	char buf[65536];
	ssize_t n;

	in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     sb->st_mode & 07777);
	if (out < 0)
		return -errno;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		int r = berth_write_all(out, buf, (size_t)n);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Copy the tree under src into dst, keeping modes and owners; nothing is followed. */
static int copy_tree(int src, int dst, unsigned depth)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd, r;

	if (depth > TMPCOPYUP_MAX_DEPTH)
		return -ELOOP;
	fd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		struct stat sb;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (fstatat(src, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (S_ISDIR(sb.st_mode)) {
			_cleanup_close_ int s = -EBADF, t = -EBADF;
			if (mkdirat(dst, name, sb.st_mode & 07777) < 0)
				return -errno;
			s = openat(src, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			t = openat(dst, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (s < 0 || t < 0)
				return -errno;
			r = copy_tree(s, t, depth + 1);
		} else if (S_ISREG(sb.st_mode)) {
			r = copy_file(src, dst, name, &sb);
		} else if (S_ISLNK(sb.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
			if (n < 0)
				return -errno;
			target[n] = '\0';
			r = symlinkat(target, dst, name) < 0 ? -errno : 0;
		} else {
			r = mknodat(dst, name, sb.st_mode, sb.st_rdev) < 0 ? -errno : 0;
		}
		if (r < 0)
			return r;
		if (fchownat(dst, name, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
		if (!S_ISLNK(sb.st_mode) && fchmodat(dst, name, sb.st_mode & 07777, 0) < 0)
			return -errno;
	}
	return errno ? -errno : 0;
}

/* ---- one entry --------------------------------------------------------------------------- */

int berth_mount_one(const struct berth_rootfs_ctx *ctx, int rootfd, const struct berth_mount *m,
		    struct berth_error **err)
{
	_cleanup_free_ char *src = NULL;
	_cleanup_close_ int fd = -EBADF;
	bool bind = is_bind(m), file = false;
	unsigned long flags;
	char p[32];
	int r;

	if (!m->destination || !*m->destination)
		return berth_error_set(err, EINVAL, "mount '%s': no destination", mount_name(m));
	if (!bind && (!m->type || !*m->type))
		return berth_error_set(err, EINVAL, "mount '%s' on '%s': no type", mount_name(m),
				       m->destination);

	if (bind) {
		struct stat sb;
		r = bind_source(ctx, m, &src, err);
		if (r < 0)
			return r;
		if (stat(src, &sb) < 0)
			return berth_error_sys(err, errno, "mount '%s' on '%s'", m->source,
					       m->destination);
		/* a file is bound onto a file, anything else onto a directory */
		file = !S_ISDIR(sb.st_mode);
	}
	if (m->flags & MS_REMOUNT) {
		/* "remount": change what is already mounted at the destination */
		r = berth_root_open(rootfd, m->destination, 0, &fd);
		if (r < 0)
			return berth_error_sys(err, -r, "remount '%s' on '%s'", mount_name(m),
					       m->destination);
		if (bind) {
			r = berth_remount_bind(fd, m->flags);
			if (r < 0)
				return berth_error_sys(err, -r, "remount '%s' on '%s'",
						       mount_name(m), m->destination);
		} else if (mount(NULL, berth_fd_path(fd, p, sizeof(p)), NULL,
				 m->flags & ~(PROPAGATION_MASK | MS_BIND | MS_REC), m->data) < 0) {
			return berth_error_sys(err, errno, "remount '%s' on '%s'", mount_name(m),
					       m->destination);
		}
		return finish_mount(rootfd, m, false, &fd, err);
	}
	r = berth_root_mkpath(rootfd, m->destination, 0, file, &fd);
	if (r < 0)
		return berth_error_sys(err, -r, "mount '%s' on '%s': create mount point",
				       mount_name(m), m->destination);

	if (berth_streq(m->type, "cgroup"))
		return mount_cgroup(ctx, rootfd, m, &fd, err);
	if (m->idmap) {
		if (!bind)
			return berth_error_set(err, EINVAL,
					       "mount '%s' on '%s': idmap needs a bind mount",
					       mount_name(m), m->destination);
		return mount_idmapped(ctx, rootfd, m, src, &fd, err);
	}

	berth_fd_path(fd, p, sizeof(p));
	if (bind) {
		if (mount(src, p, NULL, MS_BIND | (m->recursive ? MS_REC : 0), NULL) < 0)
			return berth_error_sys(err, errno, "mount '%s' on '%s'", m->source,
					       m->destination);
		return finish_mount(rootfd, m, true, &fd, err);
	}

	flags = m->flags & ~(PROPAGATION_MASK | MS_BIND | MS_REC | MS_REMOUNT);
	if (m->tmpcopyup && berth_streq(m->type, "tmpfs")) {
		/* the directory the tmpfs will cover stays reachable through this fd */
		_cleanup_close_ int under = openat(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (under < 0)
			return berth_error_sys(err, errno, "mount '%s' on '%s'", mount_name(m),
					       m->destination);
		/* ro is applied after the copy */
		if (mount(m->source ? m->source : m->type, p, m->type, flags & ~MS_RDONLY,
			  m->data) < 0)
			return berth_error_sys(err, errno, "mount '%s' on '%s'", mount_name(m),
					       m->destination);
		r = reopen_top(rootfd, m, &fd, err);
		if (r < 0)
			return r;
		r = copy_tree(under, fd, 0);
		if (r < 0)
			return berth_error_sys(err, -r, "mount '%s' on '%s': tmpcopyup",
					       mount_name(m), m->destination);
		if ((flags & MS_RDONLY) && mount(NULL, berth_fd_path(fd, p, sizeof(p)), NULL,
						 MS_REMOUNT | flags, m->data) < 0)
			return berth_error_sys(err, errno, "remount '%s' on '%s' read-only",
					       mount_name(m), m->destination);
		return finish_mount(rootfd, m, false, &fd, err);
	}
	if (mount(m->source ? m->source : m->type, p, m->type, flags, m->data) == 0)
		return finish_mount(rootfd, m, false, &fd, err);

	/*
	 * In a user namespace that owns no network (or ipc) namespace, sysfs (or mqueue) cannot
	 * be mounted: bind the host's instead, as runc does.
	 */
	if (errno == EPERM && ctx->new_userns &&
	    (berth_streq(m->type, "sysfs") || berth_streq(m->type, "mqueue"))) {
		const char *host = berth_streq(m->type, "sysfs") ? "/sys" : "/dev/mqueue";
		struct mount_attr a = {0};
		if (mount(host, p, NULL, MS_BIND | MS_REC, NULL) < 0)
			return berth_error_sys(err, errno, "mount '%s' on '%s'", host,
					       m->destination);
		r = finish_mount(rootfd, m, true, &fd, err);
		if (r < 0)
			return r;
		/*
		 * The host's tree comes with its submounts (/sys/fs/cgroup ...): what the spec
		 * asked of the filesystem (ro ...) must hold for all of them, not just the top.
		 */
		if (m->flags & MS_RDONLY)
			a.attr_set |= MOUNT_ATTR_RDONLY;
		if (m->flags & MS_NOSUID)
			a.attr_set |= MOUNT_ATTR_NOSUID;
		if (m->flags & MS_NODEV)
			a.attr_set |= MOUNT_ATTR_NODEV;
		if (m->flags & MS_NOEXEC)
			a.attr_set |= MOUNT_ATTR_NOEXEC;
		if (a.attr_set &&
		    mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
			return berth_error_syscall(err, errno, "mount_setattr",
						   "set attributes of '%s' on '%s'", host,
						   m->destination);
		return 0;
	}
	return berth_error_sys(err, errno, "mount '%s' on '%s'", mount_name(m), m->destination);
}
