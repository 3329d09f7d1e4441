/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth save, berth image save: GET /images/get?names=... streamed to stdout (never to a
 * terminal) or, with -o, to a temporary file beside the destination renamed over it once the
 * archive is whole (docker's atomic writer, mode 0600).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "platform.h"
#include "base/banned.h"

/* moby/sys/atomicwriter's validateDestination: "" when fine, else docker's message */
static char *check_destination(const char *path)
{
	_cleanup_free_ char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	struct stat st;
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;

	if (!*path)
		return xstrdup("file name is empty");
	if (strcmp(dir, ".") != 0 && strcmp(dir, "..") != 0) {
		if (stat(dir, &st) < 0) {
			sbuf_printf(&b, "invalid output path: stat %s: ", dir);
			go_errno(&b, errno);
			return sbuf_detach(&b);
		}
		if (!S_ISDIR(st.st_mode))
			return xasprintf("invalid output path: stat %s: not a directory", dir);
	}
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return NULL;
		sbuf_printf(&b, "failed to stat output path: lstat %s: ", path);
		go_errno(&b, errno);
		return sbuf_detach(&b);
	}
	if (S_ISREG(st.st_mode)) {
		if (st.st_mode & S_ISUID)
			return xstrdup("cannot write to a setuid file");
		if (st.st_mode & S_ISGID)
			return xstrdup("cannot write to a setgid file");
		if (st.st_mode & S_ISVTX)
			return xstrdup("cannot write to a sticky bit file");
		return NULL;
	}
	if (S_ISDIR(st.st_mode))
		return xstrdup("cannot write to a directory");
	if (S_ISLNK(st.st_mode))
		return xstrdup("cannot write to a symbolic link directly");
	if (S_ISFIFO(st.st_mode))
		return xstrdup("cannot write to a named pipe (FIFO)");
	if (S_ISSOCK(st.st_mode))
		return xstrdup("cannot write to a socket");
	if (S_ISCHR(st.st_mode))
		return xstrdup("cannot write to a character device file");
	return xstrdup("cannot write to a block device file");
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int run_save(struct cli *c, struct cli_args *a)
{
	const char *output = flag_str(a, "output"), *platform = flag_str(a, "platform");
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT;
	_cleanup_free_ char *tmp = NULL, *pjson = NULL;
	_cleanup_close_ int fd = -EBADF;
	static char buf[1 << 17];
	int ret = 0;

	if (platform_flag_query(platform, &pjson))
		return 1;
	if (!output || !*output) {
		if (is_terminal(STDOUT_FILENO)) {
			err_printf("cowardly refusing to save to a terminal. Use the -o flag or "
				   "redirect\n");
			return 1;
		}
	} else {
		_cleanup_free_ char *bad = check_destination(output);
		if (bad) {
			err_printf("failed to save image: %s\n", bad);
			return 1;
		}
		_cleanup_free_ char *copy = xstrdup(output), *copy2 = xstrdup(output);
		tmp = xasprintf("%s/.tmp-%sXXXXXX", dirname(copy), basename(copy2));
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			int e = errno;
			free(tmp);
			tmp = NULL;
			sbuf_printf(&b, "failed to save image: open %s/.tmp-%s: ", dirname(copy),
				    basename(copy2));
			go_errno(&b, e);
			err_printf("%s\n", sbuf_str(&b));
			return 1;
		}
	}

	sbuf_adds(&target, "/images/get?");
	for (int i = 0; i < a->argc; i++) {
		sbuf_adds(&target, i ? "&names=" : "names=");
		url_escape(&target, a->argv[i]);
	}
	if (pjson) {
		sbuf_adds(&target, "&platform=");
		url_escape(&target, pjson);
	}
	if (cli_call_stream(c, "GET", sbuf_str(&target), NULL) < 0) {
		ret = cli_fail(c, 1);
		goto out;
	}
	out_flush();
	for (;;) {
		ssize_t n = cli_stream_read(c, buf, sizeof(buf));
		if (n < 0) {
			/* the archive broke off (berthd cuts a failed save short) */
			err_printf("unexpected EOF\n");
			ret = 1;
			break;
		}
		if (n == 0)
			break;
		int w = write_all(fd >= 0 ? fd : STDOUT_FILENO, buf, (size_t)n);
		if (w < 0) {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			sbuf_printf(&b, "write %s: ", fd >= 0 ? tmp : "/dev/stdout");
			go_errno(&b, -w);
			err_printf("%s\n", sbuf_str(&b));
			ret = 1;
			break;
		}
	}
	if (fd >= 0 && ret == 0) {
		if (fsync(fd) < 0 || fchmod(fd, 0600) < 0 || close(TAKE_FD(fd)) < 0 ||
		    rename(tmp, output) < 0) {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			sbuf_printf(&b, "rename %s %s: ", tmp, output);
			go_errno(&b, errno);
			err_printf("%s\n", sbuf_str(&b));
			ret = 1;
		} else {
			free(tmp);
			tmp = NULL;
		}
	}
out:
	/* nothing half-written is left: the destination appears whole or not at all */
	if (tmp)
		unlink(tmp);
	return ret;
}

static const struct cli_flag save_flags[] = {
	{"output", 'o', FK_STRING, "string", NULL, "Write the archive to this file, not to stdout"},
	{"platform", 0, FK_STRING, "string", NULL,
	 "Save only this platform's image ('os[/arch[/variant]]')", .min_api = "1.48"},
};

const struct cli_cmd cmd_save = {
	.name = "save",
	.use = "[OPTIONS] IMAGE [IMAGE...]",
	.short_desc = "Write images to a tar archive (on stdout unless -o)",
	.aliases_line = "berth image save, berth save",
	.flags = save_flags,
	.n_flags = ARRAY_SIZE(save_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_save,
	.complete = COMPLETE_IMAGES,
};
CLI_CMD_TWIN(cmd_image_save, cmd_save);
