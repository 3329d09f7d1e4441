/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth export, berth container export: GET /containers/{id}/export streamed to stdout (never to
 * a terminal) or, with -o, to a temporary file beside the destination renamed over it once the
 * tar is whole (docker's CopyToFile).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "base/banned.h"

static int run_export(struct cli *c, struct cli_args *a)
{
	const char *output = flag_str(a, "output");
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT;
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -EBADF;
	static char buf[1 << 17];
	int out = STDOUT_FILENO;

	if (!output || !*output) {
		if (is_terminal(STDOUT_FILENO)) {
			err_printf("cowardly refusing to save to a terminal. Use the -o flag or "
				   "redirect\n");
			return 1;
		}
	} else {
		_cleanup_free_ char *copy = xstrdup(output);
		tmp = xasprintf("%s/.docker_temp_XXXXXX", dirname(copy));
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			sbuf_printf(&b, "failed to export container: open %s: ", tmp);
			go_errno(&b, errno);
			err_printf("%s\n", sbuf_str(&b));
			free(tmp);
			tmp = NULL;
			return 1;
		}
		out = fd;
	}
	sbuf_adds(&target, "/containers/");
	url_path_escape(&target, a->argv[0]);
	sbuf_adds(&target, "/export");
	if (cli_call_stream(c, "GET", sbuf_str(&target), NULL) < 0) {
		if (tmp)
			unlink(tmp);
		return cli_fail(c, 1);
	}
	for (;;) {
		ssize_t n = cli_stream_read(c, buf, sizeof(buf));
		if (n < 0) {
			if (tmp)
				unlink(tmp);
			return cli_fail(c, 1);
		}
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
				sbuf_adds(&b, "failed to export container: write: ");
				go_errno(&b, errno);
				err_printf("%s\n", sbuf_str(&b));
				if (tmp)
					unlink(tmp);
				return 1;
			}
			off += w;
		}
	}
	if (tmp) {
		if (fsync(fd) < 0 || rename(tmp, output) < 0) {
			_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
			sbuf_printf(&b, "failed to export container: rename %s %s: ", tmp, output);
			go_errno(&b, errno);
			err_printf("%s\n", sbuf_str(&b));
			unlink(tmp);
			return 1;
		}
	}
	return 0;
}

static const struct cli_flag export_flags[] = {
	{"output", 'o', FK_STRING, "string", NULL, "Write to a file, instead of STDOUT"},
};

#define EXPORT_CMD(var)                                                                            \
	const struct cli_cmd var = {                                                               \
		.name = "export",                                                                  \
		.use = "[OPTIONS] CONTAINER",                                                      \
		.short_desc = "Export a container's filesystem as a tar archive",                  \
		.aliases_line = "berth container export, berth export",                            \
		.flags = export_flags,                                                             \
		.n_flags = ARRAY_SIZE(export_flags),                                               \
		.args = ARGS_EXACT,                                                                \
		.min_args = 1,                                                                     \
		.run = run_export,                                                                 \
		.complete = COMPLETE_CONTAINERS,                                                   \
		.complete_max = 1,                                                                 \
	}

EXPORT_CMD(cmd_export);
EXPORT_CMD(cmd_container_export);
