/* SPDX-License-Identifier: Apache-2.0 */
/*
 * COPY and ADD of the classic builder: the sources found in a tree (the build context, a
 * stage's or an image's root) with docker's rules -- wildcards, a directory's contents, a path
 * that leaves the context refused -- hashed by content (names, types, modes, sizes, link
 * targets and bytes; never times or owners), then copied into the step's root, every path
 * there resolved inside it (openat2 RESOLVE_IN_ROOT through berth_open_in_root): a symlink in
 * the image never leads a copy out of its root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "build-internal.h"

#include "base/banned.h"

#define COPY_MAX_ENTRIES (1u << 20)

void build_copy_release(struct build_copy *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].src);
		free(c->v[i].name);
		free(c->v[i].link);
	}
	free(c->v);
	free(c->hash);
	memset(c, 0, sizeof(*c));
}

static int oom(struct berth_error **err)
{
	return berth_error_set(err, ENOMEM, "out of memory");
}

static char *join(const char *a, const char *b)
{
	char *s = NULL;

	if (!*a)
		return strdup(b);
	if (!*b)
		return strdup(a);
	return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

static int add_entry(struct build_copy *c, const char *src, const char *name, const struct stat *st,
		     const char *link, bool top, struct berth_error **err)
{
	struct build_copy_entry *e;

	if (c->n >= COPY_MAX_ENTRIES)
		return berth_error_set(err, EFBIG, "more than %u files to copy", COPY_MAX_ENTRIES);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		e = realloc(c->v, cap * sizeof(*e));
		if (!e)
			return oom(err);
		c->v = e;
		c->cap = cap;
	}
	e = &c->v[c->n];
	memset(e, 0, sizeof(*e));
	e->src = strdup(src);
	e->name = strdup(name);
	e->link = link ? strdup(link) : NULL;
	e->st = *st;
	e->top = top;
	if (!e->src || !e->name || (link && !e->link)) {
		free(e->src);
		free(e->name);
		free(e->link);
		return oom(err);
	}
	c->n++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory fd (not . and ..), sorted; *ret NULL-terminated. */
static int list_dir(int fd, char ***ret, struct berth_error **err)
{
	_cleanup_strv_ char **v = calloc(1, sizeof(char *));
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;
	struct dirent *de;

	if (dfd < 0)
		return berth_error_sys(err, errno, "open directory");
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return berth_error_sys(err, errno, "open directory");
	}
	while (v && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (berth_strv_push(&v, de->d_name) < 0) {
			closedir(dir);
			return oom(err);
		}
	}
	closedir(dir);
	if (!v)
		return oom(err);
	qsort(v, berth_strv_length(v), sizeof(char *), cmp_names);
	*ret = TAKE_PTR(v);
	return 0;
}

static void hash_entry(EVP_MD_CTX *h, const struct build_copy_entry *e)
{
	char head[128];
	int n = snprintf(head, sizeof(head), "%c %o %lld ",
			 S_ISDIR(e->st.st_mode)	  ? 'd'
			 : S_ISLNK(e->st.st_mode) ? 'l'
			 : S_ISREG(e->st.st_mode) ? 'f'
						  : 'o',
			 (unsigned)(e->st.st_mode & 07777),
			 S_ISREG(e->st.st_mode) ? (long long)e->st.st_size : 0LL);
	EVP_DigestUpdate(h, e->name, strlen(e->name) + 1);
	EVP_DigestUpdate(h, head, (size_t)n);
	if (e->link)
		EVP_DigestUpdate(h, e->link, strlen(e->link) + 1);
}

static int hash_file(EVP_MD_CTX *h, int fd, struct berth_error **err)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return berth_error_sys(err, errno, "read");
		}
		EVP_DigestUpdate(h, buf, (size_t)n);
	}
	return 0;
}

/* the tree under directory dfd (src: its path in the source tree, name: under the dest) */
static int walk(struct build_copy *c, EVP_MD_CTX *h, int dfd, const char *src, const char *name,
		unsigned depth, struct berth_error **err)
{
	_cleanup_strv_ char **names = NULL;
	int r;

	if (depth > 256)
		return berth_error_set(err, ELOOP, "'%s': directories nested too deep", src);
	r = list_dir(dfd, &names, err);
	for (size_t i = 0; r == 0 && names[i]; i++) {
		_cleanup_free_ char *s = join(src, names[i]), *nm = join(name, names[i]);
		char link[4096];
		struct stat st;
		ssize_t ln = 0;

		if (!s || !nm)
			return oom(err);
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			return berth_error_sys(err, errno, "stat '%s'", s);
		if (S_ISLNK(st.st_mode)) {
			ln = readlinkat(dfd, names[i], link, sizeof(link) - 1);
			if (ln < 0)
				return berth_error_sys(err, errno, "readlink '%s'", s);
			link[ln] = '\0';
		}
		r = add_entry(c, s, nm, &st, S_ISLNK(st.st_mode) ? link : NULL, false, err);
		if (r < 0)
			return r;
		hash_entry(h, &c->v[c->n - 1]);
		if (S_ISREG(st.st_mode)) {
			_cleanup_close_ int fd = openat(
				dfd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
			if (fd < 0)
				return berth_error_sys(err, errno, "open '%s'", s);
			r = hash_file(h, fd, err);
		} else if (S_ISDIR(st.st_mode)) {
			_cleanup_close_ int fd = openat(
				dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				return berth_error_sys(err, errno, "open '%s'", s);
			r = walk(c, h, fd, s, nm, depth + 1, err);
		}
	}
	return r;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* one source path (cleaned, relative to the tree; "" is its root) */
static int add_source(struct build_copy *c, EVP_MD_CTX *h, int src_fd, const char *path,
		      const char *shown, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_error_ struct berth_error *e = NULL;
	struct stat st;
	int r;

	if (!*path)
		fd = fcntl(src_fd, F_DUPFD_CLOEXEC, 3);
	else if (berth_open_in_root(src_fd, path, O_RDONLY | O_NONBLOCK, &fd, &e) < 0) {
		if (e && (e->code == ENOENT || e->code == ENOTDIR))
			return berth_error_set(err, ENOENT,
					       "file not found in build context or excluded by "
					       ".dockerignore: stat %s: file does not exist",
					       shown);
		return berth_error_set(err, e ? e->code : EIO, "%s", e ? e->msg : "open");
	}
	if (fd < 0)
		return berth_error_sys(err, errno, "open '%s'", shown);
	if (fstat(fd, &st) < 0)
		return berth_error_sys(err, errno, "stat '%s'", shown);
	c->n_sources++;
	r = add_entry(c, path, S_ISDIR(st.st_mode) ? "" : base_name(path), &st, NULL, true, err);
	if (r < 0)
		return r;
	hash_entry(h, &c->v[c->n - 1]);
	if (S_ISDIR(st.st_mode))
		return walk(c, h, fd, path, "", 0, err);
	if (S_ISREG(st.st_mode))
		return hash_file(h, fd, err);
	return 0;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* wildcards, one component at a time: dir (a path in the tree) + the rest of the pattern */
static int glob_expand(int src_fd, const char *dir, const char *pat, char ***out, unsigned depth,
		       struct berth_error **err)
{
	const char *slash = strchr(pat, '/');
	_cleanup_free_ char *comp = slash ? strndup(pat, (size_t)(slash - pat)) : strdup(pat);
	const char *rest = slash ? slash + 1 : NULL;
	_cleanup_close_ int dfd = -EBADF;
	_cleanup_strv_ char **names = NULL;
	_cleanup_error_ struct berth_error *e = NULL;

	if (!comp)
		return oom(err);
	if (depth > 256)
		return 0;
	if (!has_glob(comp)) {
		_cleanup_free_ char *p = join(dir, comp);
		if (!p)
			return oom(err);
		if (!rest)
			return berth_strv_push(out, p) < 0 ? oom(err) : 0;
		return glob_expand(src_fd, p, rest, out, depth + 1, err);
	}
	if (!*dir)
		dfd = fcntl(src_fd, F_DUPFD_CLOEXEC, 3);
	else if (berth_open_in_root(src_fd, dir, O_RDONLY | O_DIRECTORY, &dfd, &e) < 0)
		return 0; /* no such directory: no match */
	if (dfd < 0)
		return berth_error_sys(err, errno, "open '%s'", dir);
	if (list_dir(dfd, &names, err) < 0)
		return -EIO;
	for (size_t i = 0; names[i]; i++) {
		if (!berth_ignore_pattern_match(comp, names[i]))
			continue;
		_cleanup_free_ char *p = join(dir, names[i]);
		if (!p)
			return oom(err);
		int r = rest ? glob_expand(src_fd, p, rest, out, depth + 1, err)
			     : (berth_strv_push(out, p) < 0 ? oom(err) : 0);
		if (r < 0)
			return r;
	}
	return 0;
}

int build_copy_collect(int src_fd, char *const *srcs, bool in_context, const char *cmd,
		       struct build_copy *ret, struct berth_error **err)
{
	struct build_copy c = {0};
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	unsigned char md[32];
	char hex[65];
	int r = 0;

	(void)cmd;
	if (!h || !EVP_DigestInit_ex(h, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(h);
		return oom(err);
	}
	for (size_t i = 0; r == 0 && srcs[i]; i++) {
		_cleanup_free_ char *clean = berth_path_clean(srcs[i]);
		const char *p;
		if (!clean) {
			r = oom(err);
			break;
		}
		if (in_context && (!strcmp(clean, "..") || berth_str_has_prefix(clean, "../"))) {
			r = berth_error_set(err, EINVAL,
					    "forbidden path outside the build context: %s ()",
					    srcs[i]);
			break;
		}
		/* "/x" in a tree is its x; "/../x" was cleaned to "/x" already */
		_cleanup_free_ char *rel = berth_path_clean(clean[0] == '/' ? clean + 1 : clean);
		if (!rel) {
			r = oom(err);
			break;
		}
		p = strcmp(rel, ".") == 0 || strcmp(rel, "..") == 0 ||
				    berth_str_has_prefix(rel, "../")
			    ? ""
			    : rel;
		if (has_glob(p)) {
			_cleanup_strv_ char **m = calloc(1, sizeof(char *));
			if (!m) {
				r = oom(err);
				break;
			}
			r = glob_expand(src_fd, "", p, &m, 0, err);
			for (size_t k = 0; r == 0 && m[k]; k++) {
				struct berth_error *ignored = NULL;
				r = add_source(&c, h, src_fd, m[k], m[k], &ignored);
				if (r == -ENOENT) /* a dangling link matched: not a source */
					r = 0;
				if (r < 0)
					*err = ignored;
				else
					berth_error_free(ignored);
			}
		} else {
			r = add_source(&c, h, src_fd, p, srcs[i], err);
		}
	}
	if (r == 0 && c.n_sources == 0)
		r = berth_error_set(err, ENOENT, "no source files were specified");
	if (r == 0 && !EVP_DigestFinal_ex(h, md, NULL))
		r = oom(err);
	EVP_MD_CTX_free(h);
	if (r < 0) {
		build_copy_release(&c);
		return r;
	}
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	c.single_file = c.n_sources == 1 && !S_ISDIR(c.v[0].st.st_mode);
	if (asprintf(&c.hash, "%s:%s", c.n_sources > 1 ? "multi" : (c.single_file ? "file" : "dir"),
		     hex) < 0) {
		build_copy_release(&c);
		return oom(err);
	}
	*ret = c;
	return 0;
}

/* ---- into the root -------------------------------------------------------------------------- */

int build_mkdir_in_root(int root_fd, const char *path, uid_t uid, gid_t gid,
			struct berth_error **err)
{
	_cleanup_free_ char *clean = berth_path_clean(path);
	char *p, *slash;

	if (!clean)
		return oom(err);
	p = clean[0] == '/' ? clean + 1 : clean;
	if (!*p || !strcmp(p, "."))
		return 0;
	for (slash = p;; slash++) {
		if (*slash != '/' && *slash != '\0')
			continue;
		char save = *slash;
		*slash = '\0';
		_cleanup_close_ int fd = -EBADF, parent = -EBADF;
		_cleanup_error_ struct berth_error *e = NULL;
		if (berth_open_in_root(root_fd, p, O_RDONLY | O_DIRECTORY, &fd, &e) < 0) {
			char *last = strrchr(p, '/');
			const char *leaf = last ? last + 1 : p;
			berth_error_freep(&e);
			if (last) {
				*last = '\0';
				if (berth_open_in_root(root_fd, p, O_RDONLY | O_DIRECTORY, &parent,
						       err) < 0)
					return -ENOTDIR;
				*last = '/';
			} else {
				parent = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
			}
			if (parent < 0)
				return berth_error_sys(err, errno, "open '/'");
			if (mkdirat(parent, leaf, 0755) < 0 && errno != EEXIST)
				return berth_error_sys(err, errno, "mkdir '/%s'", p);
			if (fchownat(parent, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
				return berth_error_sys(err, errno, "chown '/%s'", p);
			/* it must be a directory now (a file there is an error) */
			if (berth_open_in_root(root_fd, p, O_RDONLY | O_DIRECTORY, &fd, err) < 0)
				return -ENOTDIR;
		}
		*slash = save;
		if (!save)
			break;
	}
	return 0;
}

/* remove what is at name in dfd unless it is a directory and keep_dir */
static int clear_slot(int dfd, const char *name, bool keep_dir)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 1;
		/* a directory in the image where a file goes: docker replaces it too */
		int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		_cleanup_strv_ char **names = NULL;
		if (list_dir(fd, &names, NULL) == 0)
			for (size_t i = 0; names[i]; i++)
				clear_slot(fd, names[i], false);
		close(fd);
		return unlinkat(dfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
	}
	return unlinkat(dfd, name, 0) < 0 ? -errno : 0;
}

static int copy_bytes(int from, int to, const char *shown, struct berth_error **err)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(from, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return berth_error_sys(err, errno, "read '%s'", shown);
		}
		if (berth_write_all(to, buf, (size_t)n) < 0)
			return berth_error_sys(err, errno, "write '%s'", shown);
	}
	return 0;
}

/* One entry: src (in the source tree) to name in the directory dfd. */
static int copy_one(int src_fd, const struct build_copy_entry *e, int dfd, const char *name,
		    uid_t uid, gid_t gid, int chmod, struct berth_error **err)
{
	mode_t mode = chmod >= 0 ? (mode_t)chmod : (e->st.st_mode & 07777);
	struct timespec ts[2] = {e->st.st_atim, e->st.st_mtim};
	int r;

	r = clear_slot(dfd, name, S_ISDIR(e->st.st_mode));
	if (r < 0)
		return berth_error_sys(err, -r, "replace '%s'", name);
	if (S_ISDIR(e->st.st_mode)) {
		if (r == 0 && mkdirat(dfd, name, 0700) < 0)
			return berth_error_sys(err, errno, "mkdir '%s'", name);
	} else if (S_ISLNK(e->st.st_mode)) {
		if (symlinkat(e->link, dfd, name) < 0)
			return berth_error_sys(err, errno, "symlink '%s'", name);
	} else if (S_ISREG(e->st.st_mode)) {
		_cleanup_close_ int in = -EBADF, out = -EBADF;
		if (berth_open_in_root(src_fd, e->src, O_RDONLY | (e->top ? 0 : O_NOFOLLOW), &in,
				       err) < 0)
			return -EIO;
		out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0)
			return berth_error_sys(err, errno, "create '%s'", name);
		r = copy_bytes(in, out, e->src, err);
		if (r < 0)
			return r;
	} else if (S_ISFIFO(e->st.st_mode)) {
		if (mkfifoat(dfd, name, 0600) < 0)
			return berth_error_sys(err, errno, "mkfifo '%s'", name);
	} else {
		return 0; /* sockets and devices are not copied */
	}
	if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return berth_error_sys(err, errno, "chown '%s'", name);
	if (!S_ISLNK(e->st.st_mode) && fchmodat(dfd, name, mode, 0) < 0)
		return berth_error_sys(err, errno, "chmod '%s'", name);
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return berth_error_sys(err, errno, "utimes '%s'", name);
	return 0;
}

/* Is the file a tar archive libarchive reads (plain, gzip, bzip2, xz, zstd)? */
static bool is_archive(int fd)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	bool yes = false;

	if (!a)
		return false;
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_fd(a, fd, 65536) == ARCHIVE_OK &&
	    archive_read_next_header(a, &ae) == ARCHIVE_OK)
		yes = true;
	archive_read_free(a);
	lseek(fd, 0, SEEK_SET);
	return yes;
}

int build_copy_apply(const struct build_copy *c, int src_fd, int root_fd, const char *dest,
		     bool dest_dir, uid_t uid, gid_t gid, int chmod, bool add, const char *cmd,
		     struct berth_error **err)
{
	_cleanup_close_ int base = -EBADF;
	int r;

	(void)cmd;
	if (c->n_sources > 1 && !dest_dir)
		return berth_error_set(err, EINVAL,
				       "When using %s with more than one source file, the "
				       "destination must be a directory and end with a /",
				       cmd);
	/* a single file goes to dest itself unless dest is (or must be) a directory */
	if (c->single_file && !dest_dir) {
		_cleanup_close_ int probe = -EBADF;
		_cleanup_error_ struct berth_error *e = NULL;
		if (berth_open_in_root(root_fd, dest, O_RDONLY | O_DIRECTORY, &probe, &e) == 0)
			dest_dir = true;
	}
	_cleanup_free_ char *dir = NULL;
	const char *file_name = NULL;
	if (c->single_file && !dest_dir) {
		const char *slash = strrchr(dest, '/');
		dir = slash && slash != dest ? strndup(dest, (size_t)(slash - dest)) : strdup("/");
		file_name = slash ? slash + 1 : dest;
	} else {
		dir = strdup(dest);
	}
	if (!dir)
		return oom(err);
	r = build_mkdir_in_root(root_fd, dir, uid, gid, err);
	if (r < 0)
		return r;
	r = berth_open_in_root(root_fd, dir, O_RDONLY | O_DIRECTORY, &base, err);
	if (r < 0)
		return r;

	for (size_t i = 0; i < c->n; i++) {
		const struct build_copy_entry *e = &c->v[i];
		_cleanup_close_ int parent = -EBADF;
		_cleanup_free_ char *pdir = NULL;
		const char *leaf;

		if (e->top && S_ISDIR(e->st.st_mode)) {
			/* a directory's own times and mode go to the destination directory */
			continue;
		}
		if (e->top && add && S_ISREG(e->st.st_mode) &&
		    !berth_str_has_prefix(e->src, BUILD_URL_DIR)) {
			_cleanup_close_ int in = -EBADF;
			if (berth_open_in_root(src_fd, e->src, O_RDONLY, &in, err) < 0)
				return -EIO;
			/* without libarchive ADD cannot tell a tar: an error, never a plain copy */
			if (berth_image_archive_load(err) < 0)
				return -EIO;
			if (is_archive(in)) {
				struct berth_tar_apply_opts o = {.dest_name = dest};
				struct berth_tar_stats st;
				r = build_mkdir_in_root(root_fd, dest, uid, gid, err);
				if (r < 0)
					return r;
				_cleanup_close_ int dfd = -EBADF;
				r = berth_open_in_root(root_fd, dest, O_RDONLY | O_DIRECTORY, &dfd,
						       err);
				if (r == 0)
					r = berth_tar_apply_into(dfd, in, &o, &st, err);
				if (r < 0)
					return r;
				continue;
			}
		}
		const char *nm = e->top ? (file_name ? file_name : e->name) : e->name;
		const char *slash = strrchr(nm, '/');
		if (slash) {
			pdir = strndup(nm, (size_t)(slash - nm));
			if (!pdir)
				return oom(err);
			parent =
				openat(base, pdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (parent < 0)
				return berth_error_sys(err, errno, "open '%s'", pdir);
			leaf = slash + 1;
		} else {
			parent = fcntl(base, F_DUPFD_CLOEXEC, 3);
			leaf = nm;
		}
		r = copy_one(src_fd, e, parent, leaf, uid, gid, chmod, err);
		if (r < 0)
			return r;
	}
	/* directories last: their times after what was written into them, deepest first */
	for (size_t i = c->n; i-- > 0;) {
		const struct build_copy_entry *e = &c->v[i];
		struct timespec ts[2] = {e->st.st_atim, e->st.st_mtim};
		if (!S_ISDIR(e->st.st_mode) || e->top)
			continue;
		if (chmod < 0)
			fchmodat(base, e->name, e->st.st_mode & 07777, 0);
		utimensat(base, e->name, ts, AT_SYMLINK_NOFOLLOW);
	}
	return 0;
}

/* ---- --chown ---------------------------------------------------------------------------------- */

/* the id of name in an /etc/passwd or /etc/group text; -1 when absent */
static long lookup_id(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		if (!strncmp(p, name, n) && p[n] == ':') {
			const char *f = strchr(p + n + 1, ':');
			if (f) {
				char *end;
				long v = strtol(f + 1, &end, 10);
				if (end != f + 1 && *end == ':')
					return v;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return -1;
}

static int parse_id(const char *s, long *ret)
{
	char *end;
	long v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || errno || v < 0 || v > 0x7fffffffL)
		return -1;
	*ret = v;
	return 0;
}

int build_chown_parse(int root_fd, const char *spec, uid_t *ret_uid, gid_t *ret_gid,
		      struct berth_error **err)
{
	_cleanup_free_ char *user = strdup(spec), *passwd = NULL, *group = NULL;
	char *grp;
	long uid, gid;

	if (!user)
		return oom(err);
	grp = strchr(user, ':');
	if (grp)
		*grp++ = '\0';
	_cleanup_free_ char *user_only = strdup(user);
	if (!user_only)
		return oom(err);
	if (parse_id(user, &uid) < 0) {
		_cleanup_close_ int fd = -EBADF;
		_cleanup_error_ struct berth_error *e = NULL;
		if (berth_open_in_root(root_fd, "/etc/passwd", O_RDONLY, &fd, &e) < 0 ||
		    berth_read_fd(fd, 16 << 20, &passwd, NULL, &e) < 0)
			return berth_error_set(
				err, ENOENT,
				"unable to convert uid/gid chown string to host "
				"mapping: can't find uid for user %s: no such user: %s",
				user, user);
		uid = lookup_id(passwd, user);
		if (uid < 0)
			return berth_error_set(
				err, ENOENT,
				"unable to convert uid/gid chown string to host "
				"mapping: can't find uid for user %s: no such user: %s",
				user, user);
	}
	if (!grp)
		grp = user_only; /* docker: a lone user names the group too */
	if (parse_id(grp, &gid) < 0) {
		_cleanup_close_ int fd = -EBADF;
		_cleanup_error_ struct berth_error *e = NULL;
		if (berth_open_in_root(root_fd, "/etc/group", O_RDONLY, &fd, &e) < 0 ||
		    berth_read_fd(fd, 16 << 20, &group, NULL, &e) < 0 ||
		    (gid = lookup_id(group, grp)) < 0)
			return berth_error_set(
				err, ENOENT,
				"unable to convert uid/gid chown string to host "
				"mapping: can't find gid for group %s: no such group: %s",
				grp, grp);
	}
	*ret_uid = (uid_t)uid;
	*ret_gid = (gid_t)gid;
	return 0;
}
