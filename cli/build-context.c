/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The build context (build-context.h): a directory walked in name order into a tar, what
 * .dockerignore excludes left out, and POST /build with the builder's JSON stream rendered.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive-dl.h"
#include "build-context.h"
#include "cli.h"
#include "commands.h"
#include "jsonmessage.h"
#include "base/banned.h"

/* ---- the context tar ------------------------------------------------------------------------- */

struct ctx_writer {
	struct archive *a;
	int dirfd;
	const struct berth_ignore *ig;
	const char *keep[3]; /* sent even when excluded: the Dockerfile, .dockerignore */
	char *error;
};

static bool kept(const struct ctx_writer *w, const char *rel)
{
	for (size_t i = 0; i < 3 && w->keep[i]; i++)
		if (!strcmp(w->keep[i], rel))
			return true;
	return false;
}

static int put_entry(struct ctx_writer *w, int dfd, const char *name, const char *rel,
		     const struct stat *st)
{
	struct archive_entry *e = la.archive_entry_new();
	char link[4096];
	int r = 0;

	la.archive_entry_copy_stat(e, st);
	la.archive_entry_set_pathname(e, rel);
	la.archive_entry_set_uname(e, "");
	la.archive_entry_set_gname(e, "");
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlinkat(dfd, name, link, sizeof(link) - 1);
		if (n < 0) {
			la.archive_entry_free(e);
			w->error = xasprintf("readlink %s: %s", rel, strerror(errno));
			return -1;
		}
		link[n] = '\0';
		la.archive_entry_set_symlink(e, link);
		la.archive_entry_set_size(e, 0);
	} else if (!S_ISREG(st->st_mode)) {
		la.archive_entry_set_size(e, 0);
	}
	if (la.archive_write_header(w->a, e) != ARCHIVE_OK) {
		w->error = xasprintf("%s", la.archive_error_string(w->a));
		la.archive_entry_free(e);
		return -1;
	}
	if (S_ISREG(st->st_mode)) {
		int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		char buf[65536];
		ssize_t n;
		if (fd < 0) {
			w->error = xasprintf("open %s: %s", rel, strerror(errno));
			la.archive_entry_free(e);
			return -1;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (la.archive_write_data(w->a, buf, (size_t)n) < 0) {
				w->error = xasprintf("%s", la.archive_error_string(w->a));
				r = -1;
				break;
			}
		if (n < 0 && !r) {
			w->error = xasprintf("read %s: %s", rel, strerror(errno));
			r = -1;
		}
		close(fd);
	}
	la.archive_entry_free(e);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dfd: the directory rel ("" for the context's root) */
static int walk(struct ctx_writer *w, int dfd, const char *rel, unsigned depth)
{
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	int r = 0;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (depth > 512)
		return 0;
	if (fd < 0 || !(dir = fdopendir(fd))) {
		w->error = xasprintf("open %s: %s", *rel ? rel : ".", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(char *));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(dir);
	if (n)
		qsort(names, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_free_ char *child =
			*rel ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
		struct stat st;
		bool excluded = w->ig && berth_ignore_match(w->ig, child) && !kept(w, child);

		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			w->error = xasprintf("lstat %s: %s", child, strerror(errno));
			r = -1;
			break;
		}
		if (S_ISSOCK(st.st_mode))
			continue;
		if (S_ISDIR(st.st_mode)) {
			/* an excluded directory is walked only when an exception may bring back
			   something in it */
			if (excluded && !w->ig->has_exclusions)
				continue;
			if (!excluded)
				r = put_entry(w, dfd, names[i], child, &st);
			if (r == 0) {
				int sub = openat(dfd, names[i],
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (sub < 0) {
					w->error = xasprintf("open %s: %s", child, strerror(errno));
					r = -1;
				} else {
					r = walk(w, sub, child, depth + 1);
					close(sub);
				}
			}
		} else if (!excluded) {
			r = put_entry(w, dfd, names[i], child, &st);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static ssize_t to_fd(struct archive *a, void *data, const void *buf, size_t len)
{
	int fd = *(int *)data;
	(void)a;
	return berth_write_all(fd, buf, len) < 0 ? -1 : (ssize_t)len;
}

static int open_cb(struct archive *a, void *data)
{
	(void)a;
	(void)data;
	return ARCHIVE_OK;
}

static int close_cb(struct archive *a, void *data)
{
	(void)a;
	(void)data;
	return ARCHIVE_OK;
}

/*
 * The context as a tar in an unlinked temporary file (rewound), with extra (a Dockerfile from
 * elsewhere) added under extra_name.  *ret_size: its bytes.
 */
int build_context_tar(const char *dir, const struct berth_ignore *ig, const char *dockerfile,
		      const char *extra, size_t extra_len, const char *extra_name, int *ret_fd,
		      off_t *ret_size)
{
	struct ctx_writer w = {.ig = ig, .keep = {dockerfile, ".dockerignore", NULL}};
	_cleanup_free_ char *tmpl = xasprintf("%s/berth-build-XXXXXX", getenv("TMPDIR") ?: "/tmp");
	int fd = mkostemp(tmpl, O_CLOEXEC), r = 0;

	if (fd < 0) {
		err_printf("create a temporary file: %s\n", strerror(errno));
		return -1;
	}
	unlink(tmpl);
	w.a = la.archive_write_new();
	la.archive_write_set_format_pax_restricted(w.a);
	la.archive_write_set_bytes_in_last_block(w.a, 1);
	la.archive_write_open(w.a, &fd, open_cb, to_fd, close_cb);
	if (dir) {
		w.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (w.dirfd < 0) {
			err_printf("unable to prepare context: path \"%s\" not found\n", dir);
			r = -1;
		} else {
			r = walk(&w, w.dirfd, "", 0);
			close(w.dirfd);
			if (r < 0)
				err_printf("%s\n", w.error);
		}
	}
	if (r == 0 && extra) {
		struct archive_entry *e = la.archive_entry_new();
		la.archive_entry_set_pathname(e, extra_name);
		la.archive_entry_set_filetype(e, AE_IFREG);
		la.archive_entry_set_perm(e, 0600);
		la.archive_entry_set_size(e, (la_int64_t)extra_len);
		la.archive_entry_set_mtime(e, time(NULL), 0);
		if (la.archive_write_header(w.a, e) != ARCHIVE_OK ||
		    la.archive_write_data(w.a, extra, extra_len) < 0) {
			err_printf("%s\n", la.archive_error_string(w.a));
			r = -1;
		}
		la.archive_entry_free(e);
	}
	if (la.archive_write_close(w.a) != ARCHIVE_OK && r == 0) {
		err_printf("%s\n", la.archive_error_string(w.a));
		r = -1;
	}
	la.archive_write_free(w.a);
	free(w.error);
	if (r < 0) {
		close(fd);
		return -1;
	}
	*ret_size = lseek(fd, 0, SEEK_END);
	lseek(fd, 0, SEEK_SET);
	*ret_fd = fd;
	return 0;
}

static char *random_name(void)
{
	unsigned char r[10];
	char hex[21];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		memset(r, 7, sizeof(r));
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(hex + 2 * i, 3, "%02x", r[i]);
	return xasprintf(".dockerfile.%s", hex);
}

char *build_read_all_fd(int fd, size_t *len)
{
	struct sbuf b = SBUF_INIT;
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sbuf_release(&b);
			return NULL;
		}
		sbuf_add(&b, buf, (size_t)n);
	}
	*len = b.len;
	return sbuf_detach(&b);
}

int build_context_dir(const char *path, const char *file, int *ret_fd, off_t *ret_size,
		      char **ret_dockerfile)
{
	_cleanup_free_ char *extra = NULL, *extra_name = NULL, *dockerfile = NULL, *ig_text = NULL;
	struct berth_ignore ig = {0};
	bool have_ig = false;
	size_t extra_len = 0;
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err_printf("unable to prepare context: path \"%s\" not found\n", path);
		return -1;
	}
	_cleanup_free_ char *ctx_real = realpath(path, NULL);
	if (!ctx_real) {
		err_printf("unable to prepare context: %s\n", strerror(errno));
		return -1;
	}
	if (file && !strcmp(file, "-")) {
		extra = build_read_all_fd(STDIN_FILENO, &extra_len);
		if (!extra) {
			err_printf("read stdin: %s\n", strerror(errno));
			return -1;
		}
		extra_name = random_name();
		dockerfile = xstrdup(extra_name);
	} else {
		_cleanup_free_ char *df_path =
			file && *file ? xstrdup(file) : xasprintf("%s/Dockerfile", ctx_real);
		_cleanup_free_ char *df_real = realpath(df_path, NULL);
		if (!df_real) {
			err_printf("unable to prepare context: unable to evaluate symlinks "
				   "in Dockerfile path: lstat %s: no such file or directory\n",
				   df_path);
			return -1;
		}
		size_t cl = strlen(ctx_real);
		if (!strncmp(df_real, ctx_real, cl) && df_real[cl] == '/') {
			dockerfile = xstrdup(df_real + cl + 1);
		} else {
			/* outside the context: sent under a name of its own */
			int fd = open(df_real, O_RDONLY | O_CLOEXEC);
			if (fd < 0) {
				open_error(df_real, errno);
				return -1;
			}
			extra = build_read_all_fd(fd, &extra_len);
			close(fd);
			if (!extra) {
				err_printf("read %s: %s\n", df_real, strerror(errno));
				return -1;
			}
			extra_name = random_name();
			dockerfile = xstrdup(extra_name);
		}
	}
	int dfd = open(ctx_real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (berth_read_file_at(dfd, ".dockerignore", 16 << 20, &ig_text, NULL, NULL) == 0 &&
		    berth_ignore_parse(ig_text, &ig, NULL) == 0)
			have_ig = true;
		close(dfd);
	}
	int r = build_context_tar(ctx_real, have_ig ? &ig : NULL, dockerfile, extra, extra_len,
				  extra_name, ret_fd, ret_size);
	if (have_ig)
		berth_ignore_release(&ig);
	if (r < 0)
		return -1;
	*ret_dockerfile = TAKE_PTR(dockerfile);
	return 0;
}

/* ---- the stream ----------------------------------------------------------------------------- */

struct build_out {
	bool quiet;
	struct sbuf buf; /* -q: what the daemon said */
	char *id;
};

static void write_out(void *data, const char *s, size_t n)
{
	struct build_out *o = data;

	if (o->quiet)
		sbuf_add(&o->buf, s, n);
	else
		out_write(s, n);
}

static void aux_cb(void *data, json_t *aux)
{
	struct build_out *o = data;
	const char *id = json_string_value(json_object_get(aux, "ID"));

	if (id) {
		free(o->id);
		o->id = xstrdup(id);
	}
}

int build_post(struct cli *c, const char *target, int tar, enum build_output out, char **ret_id)
{
	bool quiet = out != BUILD_OUT_STREAM;
	struct build_out o = {.quiet = quiet, .buf = SBUF_INIT};
	struct jsonmsg m;
	int ret;

	*ret_id = NULL;
	if (cli_call_upload(c, "POST", target, "application/x-tar", tar, "context") < 0)
		return cli_fail(c, 1);
	jsonmsg_init(&m, !quiet && is_terminal(STDOUT_FILENO), write_out, &o);
	m.aux = aux_cb;
	ret = read_json_stream(c, &m);
	if (ret < 0) {
		if (quiet && o.buf.len)
			err_printf("%s", sbuf_str(&o.buf));
		if (*m.error)
			err_printf("%s\n", m.error);
		ret = m.error_code ? m.error_code : 1;
	}
	jsonmsg_release(&m);
	if (ret == 0 && out == BUILD_OUT_QUIET)
		out_write(o.buf.p ?: "", o.buf.len);
	out_flush();
	sbuf_release(&o.buf);
	if (ret == 0)
		*ret_id = o.id;
	else
		free(o.id);
	return ret;
}
