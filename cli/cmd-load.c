/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth load, berth image load: the archive (stdin or -i FILE) as the body of POST /images/load,
 * the answer rendered as docker renders its JSON messages: progress bars per layer on a terminal
 * (quiet=0), the plain lines elsewhere (quiet=1, as docker asks when stdout is no terminal).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "jsonmessage.h"
#include "platform.h"
#include "base/banned.h"

static void to_stdout(void *data, const char *s, size_t n)
{
	(void)data;
	out_write(s, n);
}

int read_json_stream(struct cli *c, struct jsonmsg *m)
{
	char buf[16384];

	for (;;) {
		ssize_t n = cli_stream_read(c, buf, sizeof(buf));
		if (n < 0) {
			out_flush();
			return cli_fail(c, 1);
		}
		if (n == 0) {
			if (jsonmsg_end(m) < 0) {
				err_printf("%s\n", m->error);
				return 1;
			}
			return 0;
		}
		int r = jsonmsg_feed(m, buf, (size_t)n);
		/* a terminal sees each message as it comes */
		out_flush();
		if (r < 0)
			return -1;
	}
}

int render_json_stream(struct cli *c)
{
	struct jsonmsg m;

	jsonmsg_init(&m, is_terminal(STDOUT_FILENO), to_stdout, NULL);
	int ret = read_json_stream(c, &m);
	if (ret < 0) {
		if (*m.error)
			err_printf("%s\n", m.error);
		ret = 1;
	}
	jsonmsg_release(&m);
	return ret;
}

/* Go's *PathError: "lstat NAME: no such file or directory" */
int path_error(const char *op, const char *name, int e)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;

	go_errno(&b, e);
	err_printf("%s %s: %s\n", op, name, sbuf_str(&b));
	return 1;
}

int open_error(const char *name, int e)
{
	return path_error("open", name, e);
}

static int run_load(struct cli *c, struct cli_args *a)
{
	const char *input = flag_str(a, "input"), *platform = flag_str(a, "platform");
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *pjson = NULL;
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT;

	if (!input || !*input) {
		if (is_terminal(STDIN_FILENO)) {
			err_printf("requested load from stdin, but stdin is empty\n");
			return 1;
		}
	} else {
		fd = open(input, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return open_error(input, errno);
	}
	bool quiet = flag_bool(a, "quiet") || !is_terminal(STDOUT_FILENO);
	sbuf_printf(&target, "/images/load?quiet=%d", quiet ? 1 : 0);
	if (platform_flag_query(platform, &pjson))
		return 1;
	if (pjson) {
		sbuf_adds(&target, "&platform=");
		url_escape(&target, pjson);
	}
	if (cli_call_upload(c, "POST", sbuf_str(&target), "application/x-tar",
			    fd >= 0 ? fd : STDIN_FILENO, fd >= 0 ? input : "/dev/stdin") < 0)
		return cli_fail(c, 1);
	const char *ct = cli_response_header(c, "Content-Type");
	if (ct && strcmp(ct, "application/json") == 0)
		return render_json_stream(c);
	/* not JSON: the body as it is */
	char buf[16384];
	for (;;) {
		ssize_t n = cli_stream_read(c, buf, sizeof(buf));
		if (n < 0)
			return cli_fail(c, 1);
		if (n == 0)
			break;
		out_write(buf, (size_t)n);
	}
	return 0;
}

static const struct cli_flag load_flags[] = {
	{"input", 'i', FK_STRING, "string", NULL,
	 "Read the archive from this file, not from stdin"},
	{"platform", 0, FK_STRING, "string", NULL,
	 "Load only this platform's image ('os[/arch[/variant]]')", .min_api = "1.48"},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "No progress, only the loaded names"},
};

const struct cli_cmd cmd_load = {
	.name = "load",
	.use = "[OPTIONS]",
	.short_desc = "Load images from a tar archive (stdin unless -i)",
	.aliases_line = "berth image load, berth load",
	.flags = load_flags,
	.n_flags = ARRAY_SIZE(load_flags),
	.args = ARGS_NONE,
	.run = run_load,
};
CLI_CMD_TWIN(cmd_image_load, cmd_load);
