/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth cp, berth container cp: docker's copy rules (cli/command/container/cp.go and moby's
 * pkg/archive copy.go) over GET/HEAD/PUT /containers/{id}/archive.
 *
 * Out of a container: the path is stat'ed (-L follows a last symlink, the archive renamed to the
 * name asked for), its tar fetched and unpacked here -- into the destination directory, or its
 * parent with the top entry renamed to the destination's name -- through libarchive's secure
 * extraction (no "..", no absolute names, nothing written through a symlink), owners not kept
 * (docker's NoLchown) unless -a, a directory never replaced by a non-directory or the reverse.
 * "-" writes the tar itself to stdout.
 *
 * Into a container: the local path (-L: a last symlink followed) is archived under the name the
 * destination asks for, written to a temporary file, and sent to the directory berthd should
 * unpack it in (noOverwriteDirNonDir, copyUIDGID with -a).  "-" sends a tar read from stdin to a
 * destination directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-dl.h"
#include "cli.h"
#include "commands.h"
#include "units.h"
#include "base/banned.h"

/* Go's os.FileMode bits */
#define GO_MODE_DIR	(1u << 31)
#define GO_MODE_SYMLINK (1u << 27)
#define GO_MODE_DEVICE	(1u << 26)
#define GO_MODE_IRREG	(1u << 19)

struct path_stat {
	bool ok;
	uint32_t mode;
	char *link_target;
};

static void path_stat_release(struct path_stat *s)
{
	free(s->link_target);
	s->link_target = NULL;
}

/* ---- paths as Go's filepath does them ---------------------------------------------------- */

/* filepath.Clean */
static char *cp_clean(const char *path)
{
	char *c = berth_path_clean(path);
	if (!c)
		cli_oom();
	return c;
}

static bool has_trailing_sep(const char *p)
{
	size_t n = strlen(p);
	return n > 0 && p[n - 1] == '/';
}

static bool specifies_current_dir(const char *p)
{
	size_t n = strlen(p);
	return (n == 1 && p[0] == '.') || (n >= 2 && p[n - 1] == '.' && p[n - 2] == '/');
}

static char *go_base(const char *path)
{
	_cleanup_free_ char *c = cp_clean(path);
	const char *s = strrchr(c, '/');

	if (!strcmp(c, "/"))
		return xstrdup("/");
	return xstrdup(s ? s + 1 : c);
}

static char *go_join(const char *a, const char *b)
{
	_cleanup_free_ char *j = xasprintf("%s/%s", a, b);
	return cp_clean(j);
}

/* archive.SplitPathDirEntry */
static void split_dir_entry(const char *path, char **dir, char **base)
{
	_cleanup_free_ char *c = cp_clean(path);
	_cleanup_free_ char *full = specifies_current_dir(path) ? xasprintf("%s/.", c) : xstrdup(c);
	char *s = strrchr(full, '/');

	if (!s) {
		*dir = xstrdup(".");
		*base = xstrdup(full);
	} else {
		*base = xstrdup(s + 1);
		*dir = s == full ? xstrdup("/") : xstrndup(full, (size_t)(s - full));
	}
}

/* Where the symlink at path points: target itself when absolute, else joined to path's dir. */
static char *link_target_of(const char *path, const char *target)
{
	_cleanup_free_ char *pd = NULL, *pb = NULL;

	if (*target == '/')
		return xstrdup(target);
	split_dir_entry(path, &pd, &pb);
	return go_join(pd, target);
}

/* archive.PreserveTrailingDotOrSeparator */
static char *preserve_trailing(const char *cleaned, const char *original)
{
	if (specifies_current_dir(original) && !specifies_current_dir(cleaned))
		return xasprintf("%s%s.", cleaned, has_trailing_sep(cleaned) ? "" : "/");
	if (has_trailing_sep(original) && !has_trailing_sep(cleaned))
		return xasprintf("%s/", cleaned);
	return xstrdup(cleaned);
}

/* resolveLocalPath: filepath.Abs, keeping a trailing "/" or "/." */
static char *local_abs(const char *path)
{
	_cleanup_free_ char *joined = NULL, *clean = NULL;
	char cwd[PATH_MAX];

	if (*path == '/') {
		joined = xstrdup(path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		joined = xasprintf("%s/%s", cwd, path);
	}
	clean = cp_clean(joined);
	return preserve_trailing(clean, path);
}

/* archive.GetRebaseName */
static char *rebase_name(const char *path, char **resolved)
{
	char *r = *resolved;
	if (specifies_current_dir(path) && !specifies_current_dir(r)) {
		*resolved = xasprintf("%s/.", r);
		free(r);
		r = *resolved;
	}
	if (has_trailing_sep(path) && !has_trailing_sep(r)) {
		*resolved = xasprintf("%s/", r);
		free(r);
		r = *resolved;
	}
	_cleanup_free_ char *a = go_base(path), *b = go_base(r);
	return strcmp(a, b) != 0 ? xstrdup(a) : NULL;
}

/*
 * archive.PrepareArchiveCopy's choice for a copy to dst (exists, is_dir: what is there; src_dir:
 * the source is a directory): 0 into dst itself, 1 into dst's parent under dst's base name, -1
 * after docker's error.
 */
static int archive_copy_target(const char *dst, bool exists, bool is_dir, bool src_dir)
{
	if (exists && is_dir)
		return 0;
	if (exists && src_dir) {
		err_printf("cannot copy directory\n");
		return -1;
	}
	if (!exists && !src_dir && has_trailing_sep(dst)) {
		err_printf("no such directory\n");
		return -1;
	}
	return 1;
}

/* ---- the stat header --------------------------------------------------------------------- */

static int b64_value(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+' || ch == '-')
		return 62;
	if (ch == '/' || ch == '_')
		return 63;
	return -1;
}

static char *b64_decode(const char *s)
{
	size_t n = strlen(s);
	char *out = xmalloc(n + 1), *o = out;
	unsigned acc = 0;
	int bits = 0;

	for (; *s && *s != '='; s++) {
		int v = b64_value(*s);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)((acc >> bits) & 0xff);
		}
	}
	*o = '\0';
	return out;
}

static void parse_stat_header(struct cli *c, struct path_stat *st)
{
	const char *h = cli_response_header(c, "X-Docker-Container-Path-Stat");
	_cleanup_free_ char *text = h ? b64_decode(h) : NULL;
	_cleanup_json_ json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	st->ok = j != NULL;
	st->mode = (uint32_t)json_integer_value(json_object_get(j, "mode"));
	st->link_target = xstrdup(json_string_value(json_object_get(j, "linkTarget")) ?: "");
}

static void archive_target(struct sbuf *t, const char *ctr, const char *path, const char *extra)
{
	sbuf_adds(t, "/containers/");
	url_path_escape(t, ctr);
	sbuf_adds(t, "/archive?");
	if (extra)
		sbuf_adds(t, extra);
	sbuf_adds(t, "path=");
	url_escape(t, path);
}

/* HEAD archive: 0 with *st, -1 with c->err (404 when missing) */
static int stat_container_path(struct cli *c, const char *ctr, const char *path,
			       struct path_stat *st)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response resp = {0};

	archive_target(&t, ctr, path, NULL);
	if (cli_call(c, "HEAD", sbuf_str(&t), NULL, &resp) < 0)
		return -1;
	parse_stat_header(c, st);
	cli_response_release(&resp);
	return 0;
}

static void print_copied(bool quiet, uint64_t bytes, const char *where)
{
	_cleanup_sbuf_ struct sbuf s = SBUF_INIT;

	if (quiet || !is_terminal(STDERR_FILENO))
		return;
	human_size(&s, (double)bytes, 3);
	err_printf("Successfully copied %s to %s\n", sbuf_str(&s), where);
}

/* ---- out of a container ------------------------------------------------------------------ */

struct reader {
	struct cli *c;
	char buf[64 * 1024];
	uint64_t total;
	bool failed;
};

static la_ssize_t read_cb(struct archive *a, void *ud, const void **buf)
{
	struct reader *r = ud;
	ssize_t n = cli_stream_read(r->c, r->buf, sizeof(r->buf));

	(void)a;
	if (n < 0) {
		r->failed = true;
		la.archive_set_error(a, EIO, "%s", r->c->err ? r->c->err : "read error");
		return -1;
	}
	r->total += (uint64_t)n;
	*buf = r->buf;
	return n;
}

/* RebaseArchiveEntries: old or old/... becomes new or new/... */
static char *rebase(const char *name, const char *old, const char *new)
{
	size_t n;

	if (!old || !new)
		return NULL;
	if (!strcmp(old, "/")) /* the root's entries: "/" and "/x" */
		return name[0] == '/' ? xasprintf("%s%s", new, strcmp(name, "/") ? name : "")
				      : NULL;
	n = strlen(old);
	if (!strncmp(name, old, n) && (name[n] == '\0' || name[n] == '/'))
		return xasprintf("%s%s", new, name + n);
	return NULL;
}

static int extract(struct cli *c, const char *dst_dir, const char *old, const char *new,
		   bool owners, uint64_t *ret_total)
{
	struct reader *r = xcalloc(1, sizeof(*r));
	struct archive *in = la.archive_read_new(), *out = la.archive_write_disk_new();
	struct archive_entry *e;
	int flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
		    ARCHIVE_EXTRACT_UNLINK;
	int ret = 0;
	char cwd[PATH_MAX];

	r->c = c;
	if (owners)
		flags |= ARCHIVE_EXTRACT_OWNER;
	la.archive_read_support_format_tar(in);
	la.archive_write_disk_set_options(out, flags);
	if (!getcwd(cwd, sizeof(cwd)) || chdir(dst_dir) < 0) {
		path_error("chdir", dst_dir, errno);
		ret = 1;
		goto out;
	}
	if (la.archive_read_open(in, r, NULL, read_cb, NULL) != ARCHIVE_OK) {
		err_printf("%s\n", la.archive_error_string(in));
		ret = 1;
		goto back;
	}
	for (;;) {
		int a = la.archive_read_next_header(in, &e);
		if (a == ARCHIVE_EOF)
			break;
		if (a < ARCHIVE_WARN) {
			err_printf("%s\n",
				   r->failed && c->err ? c->err : la.archive_error_string(in));
			ret = 1;
			break;
		}
		_cleanup_free_ char *name = rebase(la.archive_entry_pathname(e), old, new);
		if (name)
			la.archive_entry_set_pathname(e, name);
		/* an archive of "/" names its entries "/", "/bin/": relative to the destination, as
		   Go's untar takes them (an absolute name would be refused below) */
		const char *pn = la.archive_entry_pathname(e);
		if (pn && *pn == '/') {
			while (*pn == '/')
				pn++;
			_cleanup_free_ char *rel = xstrdup(*pn ? pn : ".");
			la.archive_entry_set_pathname(e, rel);
		}
		const char *hl = la.archive_entry_hardlink(e);
		_cleanup_free_ char *hname = hl ? rebase(hl, old, new) : NULL;
		if (hname)
			la.archive_entry_set_hardlink(e, hname);
		/* NoOverwriteDirNonDir */
		struct stat st;
		const char *p = la.archive_entry_pathname(e);
		_cleanup_free_ char *clean = cp_clean(p);
		bool is_dir = la.archive_entry_filetype(e) == AE_IFDIR && !hl;
		if (strcmp(clean, ".") != 0 && lstat(clean, &st) == 0) {
			if (S_ISDIR(st.st_mode) && !is_dir) {
				err_printf(
					"cannot overwrite directory \"%s/%s\" with non-directory "
					"\"%s\"\n",
					dst_dir, clean, dst_dir);
				ret = 1;
				break;
			}
			if (!S_ISDIR(st.st_mode) && is_dir) {
				err_printf(
					"cannot overwrite non-directory \"%s/%s\" with directory "
					"\"%s\"\n",
					dst_dir, clean, dst_dir);
				ret = 1;
				break;
			}
		}
		if (la.archive_write_header(out, e) < ARCHIVE_WARN) {
			err_printf("%s\n", la.archive_error_string(out));
			ret = 1;
			break;
		}
		const void *buf;
		size_t len;
		la_int64_t off;
		while ((a = la.archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK)
			if (la.archive_write_data_block(out, buf, len, off) < ARCHIVE_WARN)
				break;
		if (a < ARCHIVE_WARN) {
			err_printf("%s\n",
				   r->failed && c->err ? c->err : la.archive_error_string(in));
			ret = 1;
			break;
		}
		if (la.archive_write_finish_entry(out) < ARCHIVE_WARN) {
			err_printf("%s\n", la.archive_error_string(out));
			ret = 1;
			break;
		}
	}
	/* the rest of the body, so the connection ends cleanly */
	while (ret == 0 && cli_stream_read(c, r->buf, sizeof(r->buf)) > 0)
		;
back:
	if (chdir(cwd) < 0)
		ret = 1;
out:
	la.archive_read_free(in);
	la.archive_write_close(out);
	la.archive_write_free(out);
	*ret_total = r->total;
	free(r);
	return ret;
}

static int copy_from(struct cli *c, const char *ctr, const char *src_in, const char *dst_in,
		     bool follow, bool quiet, bool owners)
{
	_cleanup_free_ char *src = xstrdup(src_in), *rebase_to = NULL, *dst = NULL;
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct path_stat st = {0};
	static char buf[1 << 17];
	uint64_t total = 0;

	if (strcmp(dst_in, "-") != 0) {
		dst = local_abs(dst_in);
		if (!dst) {
			err_printf("getwd: cannot read the working directory\n");
			return 1;
		}
	}
	if (follow) {
		if (stat_container_path(c, ctr, src, &st) == 0 && (st.mode & GO_MODE_SYMLINK)) {
			char *target = link_target_of(src, st.link_target);
			rebase_to = rebase_name(src, &target);
			free(src);
			src = target;
		}
		path_stat_release(&st);
		free(c->err);
		c->err = NULL;
	}
	archive_target(&t, ctr, src, NULL);
	if (cli_call_stream(c, "GET", sbuf_str(&t), NULL) < 0)
		return cli_fail(c, 1);
	parse_stat_header(c, &st);
	bool src_dir = st.mode & GO_MODE_DIR;
	path_stat_release(&st);

	if (!dst) {
		for (;;) {
			ssize_t n = cli_stream_read(c, buf, sizeof(buf));
			if (n < 0)
				return cli_fail(c, 1);
			if (n == 0)
				break;
			out_write(buf, (size_t)n);
		}
		out_flush();
		return 0;
	}

	/* CopyInfoDestinationPath: follow the destination's symlinks */
	_cleanup_free_ char *path = xstrdup(dst);
	struct stat ds;
	bool exists = false, is_dir = false;
	for (int i = 0; i < 63; i++) {
		if (lstat(path, &ds) < 0) {
			if (errno != ENOENT)
				return path_error("lstat", path, errno);
			_cleanup_free_ char *pd = NULL, *pb = NULL;
			split_dir_entry(path, &pd, &pb);
			struct stat ps;
			if (stat(pd, &ps) < 0)
				return path_error("stat", pd, errno);
			if (!S_ISDIR(ps.st_mode)) {
				err_printf("not a directory\n");
				return 1;
			}
			break;
		}
		if (!S_ISLNK(ds.st_mode)) {
			exists = true;
			is_dir = S_ISDIR(ds.st_mode);
			break;
		}
		char lt[PATH_MAX];
		ssize_t n = readlink(path, lt, sizeof(lt) - 1);
		if (n < 0)
			break;
		lt[n] = '\0';
		char *np = link_target_of(path, lt);
		free(path);
		path = np;
	}

	/* PrepareArchiveCopy */
	_cleanup_free_ char *dst_dir = NULL, *dst_base = NULL, *src_d = NULL, *src_base = NULL;
	split_dir_entry(path, &dst_dir, &dst_base);
	split_dir_entry(src, &src_d, &src_base);
	const char *old = NULL, *new = NULL;
	const char *into;
	/* the tar names its top entry src_base; -L renamed it to the link's name first */
	int choice = archive_copy_target(path, exists, is_dir, src_dir);
	if (choice < 0)
		return 1;
	if (choice == 0) {
		into = path;
		old = rebase_to ? src_base : NULL;
		new = rebase_to;
	} else {
		old = src_base;
		new = dst_base;
		into = dst_dir;
	}
	int r = extract(c, into, old, new, owners, &total);
	if (r == 0)
		print_copied(quiet, total, dst_in);
	return r;
}

/* ---- into a container -------------------------------------------------------------------- */

/* The tar of local path (its dir + base) with the top entry named as, into fd. */
static int write_local_tar(const char *dir, const char *base, const char *as, int fd)
{
	struct archive *disk = la.archive_read_disk_new(), *out = la.archive_write_new();
	struct archive_entry *e;
	char cwd[PATH_MAX];
	int ret = 0;
	static char buf[1 << 16];

	la.archive_read_disk_set_symlink_physical(disk);
	la.archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	la.archive_write_set_format_pax_restricted(out);
	la.archive_write_add_filter_none(out);
	if (la.archive_write_open_fd(out, fd) != ARCHIVE_OK || !getcwd(cwd, sizeof(cwd)) ||
	    chdir(dir) < 0) {
		path_error("chdir", dir, errno);
		ret = 1;
		goto out;
	}
	if (la.archive_read_disk_open(disk, base) != ARCHIVE_OK) {
		err_printf("%s\n", la.archive_error_string(disk));
		ret = 1;
		goto back;
	}
	for (;;) {
		e = la.archive_entry_new();
		int a = la.archive_read_next_header2(disk, e);
		if (a == ARCHIVE_EOF) {
			la.archive_entry_free(e);
			break;
		}
		if (a < ARCHIVE_WARN) {
			err_printf("%s\n", la.archive_error_string(disk));
			la.archive_entry_free(e);
			ret = 1;
			break;
		}
		la.archive_read_disk_descend(disk);
		_cleanup_free_ char *name = rebase(la.archive_entry_pathname(e), base, as);
		if (name)
			la.archive_entry_set_pathname(e, name);
		la.archive_entry_set_uname(e, NULL);
		la.archive_entry_set_gname(e, NULL);
		la.archive_entry_unset_atime(e);
		la.archive_entry_unset_ctime(e);
		la.archive_entry_unset_birthtime(e);
		if (la.archive_write_header(out, e) < ARCHIVE_WARN) {
			err_printf("%s\n", la.archive_error_string(out));
			la.archive_entry_free(e);
			ret = 1;
			break;
		}
		if (la.archive_entry_filetype(e) == AE_IFREG && la.archive_entry_size(e) > 0) {
			_cleanup_close_ int f = open(la.archive_entry_sourcepath(e),
						     O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			ssize_t n;
			while (f >= 0 && (n = read(f, buf, sizeof(buf))) > 0)
				la.archive_write_data(out, buf, (size_t)n);
		}
		la.archive_entry_free(e);
	}
back:
	if (chdir(cwd) < 0)
		ret = 1;
out:
	la.archive_read_close(disk);
	la.archive_read_free(disk);
	if (la.archive_write_close(out) != ARCHIVE_OK && !ret) {
		err_printf("%s\n", la.archive_error_string(out));
		ret = 1;
	}
	la.archive_write_free(out);
	return ret;
}

static int eval_symlinks(const char *path, char **ret)
{
	char buf[PATH_MAX];

	if (!realpath(path, buf)) {
		path_error("lstat", path, errno);
		return -1;
	}
	*ret = xstrdup(buf);
	return 0;
}

static int copy_to(struct cli *c, const char *src_in, const char *ctr, const char *dst_in,
		   bool follow, bool quiet, bool owners)
{
	_cleanup_free_ char *src = NULL, *dst_path = xstrdup(dst_in), *resolved = NULL;
	_cleanup_free_ char *rebase_to = NULL, *where = NULL;
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	_cleanup_close_ int fd = -EBADF;
	struct path_stat st = {0};
	bool exists = false, is_dir = false, from_stdin = strcmp(src_in, "-") == 0;
	const char *extra = owners ? "copyUIDGID=true&noOverwriteDirNonDir=true&"
				   : "noOverwriteDirNonDir=true&";
	const char *into;

	if (!from_stdin && !(src = local_abs(src_in))) {
		err_printf("getwd: cannot read the working directory\n");
		return 1;
	}
	if (stat_container_path(c, ctr, dst_path, &st) == 0) {
		if (st.mode & GO_MODE_SYMLINK) {
			char *target = link_target_of(dst_path, st.link_target);
			free(dst_path);
			dst_path = target;
			path_stat_release(&st);
			st = (struct path_stat){0};
			if (stat_container_path(c, ctr, dst_path, &st) < 0)
				st.ok = false;
		}
		if (st.ok && (st.mode & (GO_MODE_DEVICE | GO_MODE_IRREG))) {
			err_printf(
				"destination \"%s:%s\" must be a directory or a regular file: %s\n",
				ctr, dst_in,
				st.mode & GO_MODE_DEVICE ? "got a device"
							 : "got an irregular file");
			path_stat_release(&st);
			return 1;
		}
		if (st.ok) {
			exists = true;
			is_dir = st.mode & GO_MODE_DIR;
		}
	}
	path_stat_release(&st);
	free(c->err);
	c->err = NULL;

	if (from_stdin) {
		if (!is_dir) {
			err_printf("destination \"%s:%s\" must be a directory\n", ctr, dst_in);
			return 1;
		}
		archive_target(&t, ctr, dst_path, extra);
		if (cli_call_upload(c, "PUT", sbuf_str(&t), "application/x-tar", STDIN_FILENO,
				    "/dev/stdin") < 0)
			return cli_fail(c, 1);
		return 0;
	}

	/* CopyInfoSourcePath */
	if (follow) {
		if (eval_symlinks(src, &resolved) < 0)
			return 1;
		rebase_to = rebase_name(src, &resolved);
	} else {
		_cleanup_free_ char *dir = NULL, *rdir = NULL;
		const char *slash = strrchr(src, '/');
		dir = xstrndup(src, (size_t)(slash - src + 1));
		if (eval_symlinks(dir, &rdir) < 0)
			return 1;
		resolved = xasprintf("%s/%s", strcmp(rdir, "/") ? rdir : "", slash + 1);
		_cleanup_free_ char *b1 = go_base(src), *b2 = go_base(resolved);
		if (has_trailing_sep(src) && strcmp(b1, b2) != 0)
			rebase_to = xstrdup(b1);
	}
	struct stat ls;
	if (lstat(resolved, &ls) < 0)
		return path_error("lstat", resolved, errno);
	bool src_dir = S_ISDIR(ls.st_mode);

	/* PrepareArchiveCopy: where berthd unpacks, and the top entry's name */
	_cleanup_free_ char *sdir = NULL, *sbase = NULL, *ddir = NULL, *dbase = NULL;
	split_dir_entry(resolved, &sdir, &sbase);
	split_dir_entry(dst_path, &ddir, &dbase);
	const char *as = rebase_to ? rebase_to : sbase;
	int choice = archive_copy_target(dst_path, exists, is_dir, src_dir);
	if (choice < 0)
		return 1;
	if (choice == 0) {
		into = dst_path;
	} else {
		into = ddir;
		as = dbase;
	}
	/* TarResource rebases sbase to `as` ("." stays the directory's contents) */
	fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
		sbuf_adds(&b, "create a temporary file in /tmp: ");
		go_errno(&b, errno);
		err_printf("%s\n", sbuf_str(&b));
		return 1;
	}
	if (write_local_tar(sdir, sbase, as, fd) != 0)
		return 1;
	off_t size = lseek(fd, 0, SEEK_END);
	if (size < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		err_printf("seek: %s\n", strerror(errno));
		return 1;
	}
	archive_target(&t, ctr, into, extra);
	if (cli_call_upload(c, "PUT", sbuf_str(&t), "application/x-tar", fd, src) < 0)
		return cli_fail(c, 1);
	where = xasprintf("%s:%s", ctr, dst_in);
	print_copied(quiet, (uint64_t)size, where);
	return 0;
}

/* ---- the command ------------------------------------------------------------------------- */

/* splitCpArg: "container:path", or a local path (absolute, or starting with ".") */
static void split_arg(const char *arg, char **ctr, const char **path)
{
	const char *colon = strchr(arg, ':');

	*ctr = NULL;
	*path = arg;
	if (*arg == '/' || !colon || *arg == '.')
		return;
	/* ":/x" names no container, as docker splits it: the local path after the colon */
	*ctr = colon > arg ? xstrndup(arg, (size_t)(colon - arg)) : NULL;
	*path = colon + 1;
}

static int run_cp(struct cli *c, struct cli_args *a)
{
	_cleanup_free_ char *sc = NULL, *dc = NULL;
	const char *sp, *dp;
	bool follow = flag_bool(a, "follow-link"), quiet = flag_bool(a, "quiet");
	bool owners = flag_bool(a, "archive");

	split_arg(a->argv[0], &sc, &sp);
	split_arg(a->argv[1], &dc, &dp);
	if (!*a->argv[0] || !*a->argv[1]) {
		err_printf("%s\n", !*a->argv[0] ? "source can not be empty"
						: "destination can not be empty");
		return 1;
	}
	if (sc && dc) {
		err_printf("copying between containers is not supported\n");
		return 1;
	}
	if (!sc && !dc) {
		err_printf("must specify at least one container source\n");
		return 1;
	}
	_cleanup_free_ char *lerr = NULL;
	if (la_load(&lerr) < 0) {
		err_printf("%s\n", lerr);
		return 1;
	}
	if (sc)
		return copy_from(c, sc, sp, dp, follow, quiet, owners);
	return copy_to(c, sp, dc, dp, follow, quiet, owners);
}

static const struct cli_flag cp_flags[] = {
	{"archive", 'a', FK_BOOL, NULL, NULL, "Archive mode (copy all uid/gid information)"},
	{"follow-link", 'L', FK_BOOL, NULL, NULL, "Always follow symbol link in SRC_PATH"},
	{"quiet", 'q', FK_BOOL, NULL, NULL,
	 "Suppress progress output during copy. Progress output is automatically suppressed if "
	 "no terminal is attached"},
};

#define CP_USE                                                                                     \
	"[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- "               \
	"CONTAINER:DEST_PATH"
#define CP_CMD(var)                                                                                \
	const struct cli_cmd var = {                                                               \
		.name = "cp",                                                                      \
		.use = CP_USE,                                                                     \
		.short_desc = "Copy files/folders between a container and the local filesystem",   \
		.long_desc = "Copy files/folders between a container and the local filesystem\n\n" \
			     "Use '-' as the source to read a tar archive from stdin\n"            \
			     "and extract it to a directory destination in a container.\n"         \
			     "Use '-' as the destination to stream a tar archive of a\n"           \
			     "container source to stdout.",                                        \
		.aliases_line = "berth container cp, berth cp",                                    \
		.flags = cp_flags,                                                                 \
		.n_flags = ARRAY_SIZE(cp_flags),                                                   \
		.args = ARGS_EXACT,                                                                \
		.min_args = 2,                                                                     \
		.run = run_cp,                                                                     \
		.complete = COMPLETE_FILES,                                                        \
	}

CP_CMD(cmd_cp);
CP_CMD(cmd_container_cp);
