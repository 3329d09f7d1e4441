/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth build, berth image build: the docker CLI's classic (non-BuildKit) build.  The context
 * (a directory, or "-": a tar or a lone Dockerfile on stdin) is sent as a tar to POST /build,
 * without what .dockerignore excludes (the Dockerfile and .dockerignore are always sent: berthd
 * drops them again when they are excluded, as dockerd does); a Dockerfile named with -f outside
 * the context goes into the tar under a name of its own.  The answer is the builder's JSON
 * stream, rendered as docker renders it; -q prints only the image id; a failed RUN's exit code
 * is the command's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-dl.h"
#include "cli.h"
#include "commands.h"
#include "jsonmessage.h"
#include "reference.h"
#include "units.h"
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
static int context_tar(const char *dir, const struct berth_ignore *ig, const char *dockerfile,
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

/* Is the data a tar archive (possibly compressed)? */
static bool is_archive(const char *data, size_t len)
{
	struct archive *a = la.archive_read_new();
	struct archive_entry *e;
	bool yes;

	la.archive_read_support_filter_all(a);
	la.archive_read_support_format_tar(a);
	la.archive_read_support_format_gnutar(a);
	yes = la.archive_read_open_memory(a, data, len) == ARCHIVE_OK &&
	      la.archive_read_next_header(a, &e) == ARCHIVE_OK;
	la.archive_read_free(a);
	return yes;
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

static char *read_all_fd(int fd, size_t *len)
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

static int run_build(struct cli *c, struct cli_args *a)
{
	const char *path = a->argv[0], *file = flag_str(a, "file"),
		   *iidfile = flag_str(a, "iidfile");
	const struct flag_value *tags = flag_get(a, "tag"), *args = flag_get(a, "build-arg"),
				*labels = flag_get(a, "label");
	bool quiet = flag_bool(a, "quiet");
	bool rm = !flag_set(a, "rm") || flag_bool(a, "rm");
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT;
	_cleanup_free_ char *extra = NULL, *extra_name = NULL, *dockerfile = NULL, *ig_text = NULL;
	_cleanup_json_ json_t *argj = json_object(), *labj = json_object();
	_cleanup_close_ int tar = -EBADF;
	struct berth_ignore ig = {0};
	bool have_ig = false;
	size_t extra_len = 0;
	off_t size = 0;
	int ret;

	char *la_err = NULL;
	if (la_load(&la_err) < 0) {
		err_printf("%s\n", la_err);
		free(la_err);
		return 1;
	}
	if (iidfile && *iidfile && unlink(iidfile) < 0 && errno != ENOENT) {
		err_printf("Removing image ID file: %s\n", strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < tags->n; i++) {
		struct ref r;
		char *err = NULL;
		if (ref_parse_normalized(tags->v[i], &r, &err) < 0) {
			err_printf("invalid argument \"%s\" for \"-t, --tag\" flag: %s\n",
				   tags->v[i], err);
			free(err);
			return 1;
		}
		ref_release(&r);
	}
	if (berth_str_has_prefix(path, "http://") || berth_str_has_prefix(path, "https://") ||
	    berth_str_has_prefix(path, "git@") || berth_str_has_prefix(path, "git://")) {
		err_printf("unable to prepare context: remote contexts (%s) are not supported by "
			   "berth: clone or download it and build the directory\n",
			   path);
		return 1;
	}
	if (!strcmp(path, "-")) {
		if (file && !strcmp(file, "-")) {
			err_printf("invalid argument: can't use stdin for both build context and "
				   "dockerfile\n");
			return 1;
		}
		size_t len = 0;
		_cleanup_free_ char *in = read_all_fd(STDIN_FILENO, &len);
		if (!in) {
			err_printf("read stdin: %s\n", strerror(errno));
			return 1;
		}
		if (len && is_archive(in, len)) {
			/* a tar on stdin is the context as it is */
			_cleanup_free_ char *tmpl =
				xasprintf("%s/berth-build-XXXXXX", getenv("TMPDIR") ?: "/tmp");
			tar = mkostemp(tmpl, O_CLOEXEC);
			if (tar < 0 || (unlink(tmpl), berth_write_all(tar, in, len)) < 0) {
				err_printf("write a temporary file: %s\n", strerror(errno));
				return 1;
			}
			size = (off_t)len;
			lseek(tar, 0, SEEK_SET);
			if (file && *file)
				dockerfile = xstrdup(file);
		} else {
			/* a Dockerfile on stdin, no context: docker names it Dockerfile */
			extra = TAKE_PTR(in);
			extra_len = len;
			extra_name = xstrdup(file && *file ? file : "Dockerfile");
			dockerfile = xstrdup(extra_name);
			if (context_tar(NULL, NULL, NULL, extra, extra_len, extra_name, &tar,
					&size) < 0)
				return 1;
		}
	} else {
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
			err_printf("unable to prepare context: path \"%s\" not found\n", path);
			return 1;
		}
		_cleanup_free_ char *ctx_real = realpath(path, NULL);
		if (!ctx_real) {
			err_printf("unable to prepare context: %s\n", strerror(errno));
			return 1;
		}
		if (file && !strcmp(file, "-")) {
			extra = read_all_fd(STDIN_FILENO, &extra_len);
			if (!extra) {
				err_printf("read stdin: %s\n", strerror(errno));
				return 1;
			}
			extra_name = random_name();
			dockerfile = xstrdup(extra_name);
		} else {
			_cleanup_free_ char *df_path =
				file && *file ? xstrdup(file)
					      : xasprintf("%s/Dockerfile", ctx_real);
			_cleanup_free_ char *df_real = realpath(df_path, NULL);
			if (!df_real) {
				err_printf(
					"unable to prepare context: unable to evaluate symlinks "
					"in Dockerfile path: lstat %s: no such file or directory\n",
					df_path);
				return 1;
			}
			size_t cl = strlen(ctx_real);
			if (!strncmp(df_real, ctx_real, cl) && df_real[cl] == '/') {
				dockerfile = xstrdup(df_real + cl + 1);
			} else {
				/* outside the context: sent under a name of its own */
				int fd = open(df_real, O_RDONLY | O_CLOEXEC);
				if (fd < 0)
					return open_error(df_real, errno);
				extra = read_all_fd(fd, &extra_len);
				close(fd);
				if (!extra) {
					err_printf("read %s: %s\n", df_real, strerror(errno));
					return 1;
				}
				extra_name = random_name();
				dockerfile = xstrdup(extra_name);
			}
		}
		int dfd = open(ctx_real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			if (berth_read_file_at(dfd, ".dockerignore", 16 << 20, &ig_text, NULL,
					       NULL) == 0 &&
			    berth_ignore_parse(ig_text, &ig, NULL) == 0)
				have_ig = true;
			close(dfd);
		}
		int r = context_tar(ctx_real, have_ig ? &ig : NULL, dockerfile, extra, extra_len,
				    extra_name, &tar, &size);
		if (have_ig)
			berth_ignore_release(&ig);
		if (r < 0)
			return 1;
	}
	if (!quiet) {
		_cleanup_sbuf_ struct sbuf hs = SBUF_INIT;
		human_size(&hs, (double)size, 4);
		out_printf("Sending build context to Docker daemon  %s\n", sbuf_str(&hs));
		out_flush();
	}

	/* the query, in url.Values.Encode()'s order (sorted keys) */
	for (size_t i = 0; i < args->n; i++) {
		const char *eq = strchr(args->v[i], '=');
		if (eq) {
			_cleanup_free_ char *k = xstrndup(args->v[i], (size_t)(eq - args->v[i]));
			json_object_set_new(argj, k, json_string(eq + 1));
		} else {
			/* docker: the value of the variable in the client's environment */
			const char *v = getenv(args->v[i]);
			json_object_set_new(argj, args->v[i], v ? json_string(v) : json_null());
		}
	}
	for (size_t i = 0; i < labels->n; i++) {
		const char *eq = strchr(labels->v[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(labels->v[i], (size_t)(eq - labels->v[i]))
					    : xstrdup(labels->v[i]);
		json_object_set_new(labj, k, json_string(eq ? eq + 1 : ""));
	}
	_cleanup_free_ char *argtext = json_dumps(argj, JSON_COMPACT | JSON_SORT_KEYS);
	_cleanup_free_ char *labtext = json_dumps(labj, JSON_COMPACT | JSON_SORT_KEYS);
	sbuf_adds(&target, "/build?buildargs=");
	url_escape(&target, argtext ?: "{}");
	if (dockerfile) {
		sbuf_adds(&target, "&dockerfile=");
		url_escape(&target, dockerfile);
	}
	if (flag_set(a, "cpu-period"))
		sbuf_printf(&target, "&cpuperiod=%lld", (long long)flag_get(a, "cpu-period")->i);
	if (flag_set(a, "cpu-quota"))
		sbuf_printf(&target, "&cpuquota=%lld", (long long)flag_get(a, "cpu-quota")->i);
	if (flag_set(a, "cpu-shares"))
		sbuf_printf(&target, "&cpushares=%lld", (long long)flag_get(a, "cpu-shares")->i);
	if (flag_set(a, "cpuset-cpus")) {
		sbuf_adds(&target, "&cpusetcpus=");
		url_escape(&target, flag_str(a, "cpuset-cpus"));
	}
	if (flag_set(a, "cpuset-mems")) {
		sbuf_adds(&target, "&cpusetmems=");
		url_escape(&target, flag_str(a, "cpuset-mems"));
	}
	if (flag_bool(a, "force-rm"))
		sbuf_adds(&target, "&forcerm=1");
	sbuf_adds(&target, "&labels=");
	url_escape(&target, labtext ?: "{}");
	int64_t bytes;
	if (flag_set(a, "memory") && ram_in_bytes(flag_str(a, "memory"), &bytes) == 0)
		sbuf_printf(&target, "&memory=%lld", (long long)bytes);
	if (flag_set(a, "memory-swap")) {
		const char *ms = flag_str(a, "memory-swap");
		if (!strcmp(ms, "-1"))
			sbuf_adds(&target, "&memswap=-1");
		else if (ram_in_bytes(ms, &bytes) == 0)
			sbuf_printf(&target, "&memswap=%lld", (long long)bytes);
	}
	if (flag_set(a, "network") && *flag_str(a, "network")) {
		sbuf_adds(&target, "&networkmode=");
		url_escape(&target, flag_str(a, "network"));
	}
	if (flag_bool(a, "no-cache"))
		sbuf_adds(&target, "&nocache=1");
	if (flag_bool(a, "pull"))
		sbuf_adds(&target, "&pull=1");
	if (quiet)
		sbuf_adds(&target, "&q=1");
	sbuf_adds(&target, rm ? "&rm=1" : "&rm=0");
	if (flag_set(a, "shm-size") && ram_in_bytes(flag_str(a, "shm-size"), &bytes) == 0)
		sbuf_printf(&target, "&shmsize=%lld", (long long)bytes);
	for (size_t i = 0; i < tags->n; i++) {
		sbuf_adds(&target, "&t=");
		url_escape(&target, tags->v[i]);
	}
	if (flag_set(a, "target") && *flag_str(a, "target")) {
		sbuf_adds(&target, "&target=");
		url_escape(&target, flag_str(a, "target"));
	}
	sbuf_adds(&target, "&version=1");

	if (cli_call_upload(c, "POST", sbuf_str(&target), "application/x-tar", tar, "context") < 0)
		return cli_fail(c, 1);

	struct build_out o = {.quiet = quiet, .buf = SBUF_INIT};
	struct jsonmsg m;
	char buf[16384];
	jsonmsg_init(&m, !quiet && is_terminal(STDOUT_FILENO), write_out, &o);
	m.aux = aux_cb;
	ret = 0;
	for (;;) {
		ssize_t n = cli_stream_read(c, buf, sizeof(buf));
		if (n < 0) {
			out_flush();
			ret = cli_fail(c, 1);
			break;
		}
		if (n == 0) {
			if (jsonmsg_end(&m) < 0) {
				err_printf("%s\n", m.error);
				ret = 1;
			}
			break;
		}
		int r = jsonmsg_feed(&m, buf, (size_t)n);
		out_flush();
		if (r < 0) {
			if (quiet && o.buf.len)
				err_printf("%s", sbuf_str(&o.buf));
			if (*m.error)
				err_printf("%s\n", m.error);
			ret = m.error_code ? m.error_code : 1;
			break;
		}
	}
	jsonmsg_release(&m);
	if (ret == 0 && quiet)
		out_write(o.buf.p ?: "", o.buf.len);
	out_flush();
	if (ret == 0 && iidfile && *iidfile && o.id) {
		int fd = open(iidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0 || berth_write_all(fd, o.id, strlen(o.id)) < 0) {
			err_printf("Writing image ID file: open %s: %s\n", iidfile,
				   strerror(errno));
			ret = 1;
		}
		if (fd >= 0)
			close(fd);
	}
	sbuf_release(&o.buf);
	free(o.id);
	return ret;
}

static const struct cli_flag build_flags[] = {
	{"build-arg", 0, FK_LIST, "list", NULL, "Set build-time variables"},
	{"cpu-period", 0, FK_INT, "int", NULL,
	 "Limit the CPU CFS (Completely Fair Scheduler) period"},
	{"cpu-quota", 0, FK_INT, "int", NULL,
	 "Limit the CPU CFS (Completely Fair Scheduler) quota"},
	{"cpu-shares", 'c', FK_INT, "int", NULL, "CPU shares (relative weight)"},
	{"cpuset-cpus", 0, FK_STRING, "string", NULL,
	 "CPUs in which to allow execution (0-3, 0,1)"},
	{"cpuset-mems", 0, FK_STRING, "string", NULL,
	 "MEMs in which to allow execution (0-3, 0,1)"},
	{"file", 'f', FK_STRING, "string", NULL,
	 "Name of the Dockerfile (Default is 'PATH/Dockerfile')"},
	{"force-rm", 0, FK_BOOL, NULL, NULL, "Always remove intermediate containers"},
	{"iidfile", 0, FK_STRING, "string", NULL, "Write the image ID to the file"},
	{"label", 0, FK_LIST, "list", NULL, "Set metadata for an image"},
	{"memory", 'm', FK_CUSTOM, "bytes", NULL, "Memory limit", 0, check_bytes},
	{"memory-swap", 0, FK_CUSTOM, "bytes", NULL,
	 "Swap limit equal to memory plus swap: -1 to enable unlimited swap", 0,
	 check_bytes_or_unlimited},
	{"network", 0, FK_STRING, "string", "default",
	 "Set the networking mode for the RUN instructions during build"},
	{"no-cache", 0, FK_BOOL, NULL, NULL, "Do not use cache when building the image"},
	{"pull", 0, FK_BOOL, NULL, NULL, "Always attempt to pull a newer version of the image"},
	{"quiet", 'q', FK_BOOL, NULL, NULL,
	 "Suppress the build output and print image ID on success"},
	{"rm", 0, FK_BOOL, NULL, "true", "Remove intermediate containers after a successful build"},
	{"shm-size", 0, FK_CUSTOM, "bytes", NULL, "Size of \"/dev/shm\"", 0, check_bytes},
	{"tag", 't', FK_LIST, "list", NULL, "Name and optionally a tag in the \"name:tag\" format"},
	{"target", 0, FK_STRING, "string", NULL, "Set the target build stage to build."},
};

const struct cli_cmd cmd_build = {
	.name = "build",
	.use = "[OPTIONS] PATH | URL | -",
	.short_desc = "Build an image from a Dockerfile",
	.aliases_line = "berth image build, berth build, berth builder build",
	.flags = build_flags,
	.n_flags = ARRAY_SIZE(build_flags),
	.args = ARGS_EXACT,
	.min_args = 1,
	.run = run_build,
	.complete = COMPLETE_FILES,
};

const struct cli_cmd cmd_image_build = {
	.name = "build",
	.use = "[OPTIONS] PATH | URL | -",
	.short_desc = "Build an image from a Dockerfile",
	.aliases_line = "berth image build, berth build, berth builder build",
	.flags = build_flags,
	.n_flags = ARRAY_SIZE(build_flags),
	.args = ARGS_EXACT,
	.min_args = 1,
	.run = run_build,
	.complete = COMPLETE_FILES,
};
