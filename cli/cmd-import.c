/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth import, berth image import: a root filesystem tar (a file, or "-" for stdin) as the body
 * of POST /images/create?fromSrc=-, with --change, --message, --platform and the name to give;
 * a URL is passed to berthd as fromSrc (berthd refuses to download, and says so).  The answer
 * is a JSON message stream: the new image's ID.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "reference.h"
#include "base/banned.h"

static int run_import(struct cli *c, struct cli_args *a)
{
	const char *source = a->argv[0], *repo = a->argc > 1 ? a->argv[1] : NULL;
	const char *message = flag_str(a, "message"), *platform = flag_str(a, "platform");
	const struct flag_value *changes = flag_get(a, "change");
	_cleanup_close_ int fd = -EBADF;
	_cleanup_sbuf_ struct sbuf target = SBUF_INIT, lower = SBUF_INIT;
	bool url =
		berth_str_has_prefix(source, "https://") || berth_str_has_prefix(source, "http://");
	const char *from = "-";
	char sep = '?';

	if (!flag_set(a, "platform"))
		platform = getenv("DOCKER_DEFAULT_PLATFORM");
	if (url) {
		from = source;
	} else if (strcmp(source, "-") != 0) {
		fd = open(source, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return open_error(source, errno);
	}
	if (repo && *repo) {
		struct ref r;
		char *err = NULL;
		if (ref_parse_normalized(repo, &r, &err) < 0) {
			err_printf("%s\n", err);
			free(err);
			return 1;
		}
		ref_release(&r);
	}
	/* url.Values.Encode(): changes, fromSrc, message, platform, repo */
	sbuf_adds(&target, "/images/create");
	for (size_t i = 0; i < changes->n; i++) {
		sbuf_printf(&target, "%cchanges=", sep);
		url_escape(&target, changes->v[i]);
		sep = '&';
	}
	sbuf_printf(&target, "%cfromSrc=", sep);
	url_escape(&target, from);
	sep = '&';
	if (message && *message) {
		sbuf_adds(&target, "&message=");
		url_escape(&target, message);
	}
	if (platform && *platform) {
		for (const char *p = platform; *p; p++)
			sbuf_addc(&lower, (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p));
		sbuf_adds(&target, "&platform=");
		url_escape(&target, sbuf_str(&lower));
	}
	if (repo && *repo) {
		sbuf_adds(&target, "&repo=");
		url_escape(&target, repo);
	}
	int r;
	if (url) {
		/* nothing to send: berthd fetches (or refuses to) */
		r = cli_call_stream(c, "POST", sbuf_str(&target), NULL);
	} else {
		r = cli_call_upload(c, "POST", sbuf_str(&target), "text/plain",
				    fd >= 0 ? fd : STDIN_FILENO, fd >= 0 ? source : "/dev/stdin");
	}
	if (r < 0)
		return cli_fail(c, 1);
	return render_json_stream(c);
}

static const struct cli_flag import_flags[] = {
	{"change", 'c', FK_LIST, "list", NULL, "A Dockerfile instruction to apply to the image"},
	{"message", 'm', FK_STRING, "string", NULL, "The image's commit message"},
	{"platform", 0, FK_STRING, "string", NULL,
	 "The platform to record, when the daemon knows several", .min_api = "1.32"},
};

const struct cli_cmd cmd_import = {
	.name = "import",
	.use = "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
	.short_desc = "Make an image of a root filesystem tar archive",
	.aliases_line = "berth image import, berth import",
	.flags = import_flags,
	.n_flags = ARRAY_SIZE(import_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_import,
	.complete = COMPLETE_FILES,
};
CLI_CMD_TWIN(cmd_image_import, cmd_import);
