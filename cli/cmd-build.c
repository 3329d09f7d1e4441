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
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive-dl.h"
#include "build-context.h"
#include "cli.h"
#include "commands.h"
#include "reference.h"
#include "units.h"
#include "base/banned.h"

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

static int run_build(struct cli *c, struct cli_args *a)
{
	const char *path = a->argv[0], *file = flag_str(a, "file"),
		   *iidfile = flag_str(a, "iidfile");
	const struct flag_value *tags = flag_get(a, "tag"), *args = flag_get(a, "build-arg"),
				*labels = flag_get(a, "label");
	bool quiet = flag_bool(a, "quiet");
	bool rm = !flag_set(a, "rm") || flag_bool(a, "rm");
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT;
	_cleanup_free_ char *extra = NULL, *extra_name = NULL, *dockerfile = NULL;
	_cleanup_json_ json_t *argj = json_object(), *labj = json_object();
	_cleanup_close_ int tar = -EBADF;
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
	const char *remote = NULL;
	if (berth_str_has_prefix(path, "http://") || berth_str_has_prefix(path, "https://") ||
	    berth_str_has_prefix(path, "git@") || berth_str_has_prefix(path, "git://") ||
	    berth_str_has_prefix(path, "github.com/")) {
		/* berthd fetches it (remote=): no body */
		remote = path;
		tar = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (tar < 0) {
			err_printf("open /dev/null: %s\n", strerror(errno));
			return 1;
		}
		if (file && *file)
			dockerfile = xstrdup(file);
	} else if (!strcmp(path, "-")) {
		if (file && !strcmp(file, "-")) {
			err_printf("invalid argument: can't use stdin for both build context and "
				   "dockerfile\n");
			return 1;
		}
		size_t len = 0;
		_cleanup_free_ char *in = build_read_all_fd(STDIN_FILENO, &len);
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
			if (build_context_tar(NULL, NULL, NULL, extra, extra_len, extra_name, &tar,
					      &size) < 0)
				return 1;
		}
	} else if (build_context_dir(path, file, &tar, &size, &dockerfile) < 0) {
		return 1;
	}
	if (!quiet && !remote) {
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
	const struct flag_value *cache_from = flag_get(a, "cache-from");
	_cleanup_json_ json_t *cfj = json_array();
	for (size_t i = 0; cfj && i < cache_from->n; i++)
		json_array_append_new(cfj, json_string(cache_from->v[i]));
	_cleanup_free_ char *cftext = cache_from->n && cfj ? json_dumps(cfj, JSON_COMPACT) : NULL;
	_cleanup_free_ char *argtext = json_dumps(argj, JSON_COMPACT | JSON_SORT_KEYS);
	_cleanup_free_ char *labtext = json_dumps(labj, JSON_COMPACT | JSON_SORT_KEYS);
	sbuf_adds(&target, "/build?buildargs=");
	url_escape(&target, argtext ?: "{}");
	if (cftext) {
		sbuf_adds(&target, "&cachefrom=");
		url_escape(&target, cftext);
	}
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
	if (remote) {
		sbuf_adds(&target, "&remote=");
		url_escape(&target, remote);
	}
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

	_cleanup_free_ char *id = NULL;
	ret = build_post(c, sbuf_str(&target), tar, quiet ? BUILD_OUT_QUIET : BUILD_OUT_STREAM,
			 &id);
	if (ret == 0 && iidfile && *iidfile && id) {
		int fd = open(iidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0 || berth_write_all(fd, id, strlen(id)) < 0) {
			err_printf("Writing image ID file: open %s: %s\n", iidfile,
				   strerror(errno));
			ret = 1;
		}
		if (fd >= 0)
			close(fd);
	}
	return ret;
}

static const struct cli_flag build_flags[] = {
	{"build-arg", 0, FK_LIST, "list", NULL, "Set build-time variables"},
	{"cache-from", 0, FK_LIST, "strings", NULL, "Images to consider as cache sources"},
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
