/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth pull and berth push (and image pull / image push): docker 28's reference checks
 * ("Using default tag: latest"), POST /images/create?fromImage=&tag= or POST
 * /images/{name}/push?tag= with the config file's credentials for the registry in
 * X-Registry-Auth, berthd's JSON message stream shown as docker shows it (progress bars on a
 * terminal, plain lines otherwise, nothing with -q), then the full reference.
 * --all-tags (-a): a name without tag, every tag the registry lists (no tag= in the query).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "jsonmessage.h"
#include "reference.h"
#include "base/banned.h"

static void discard(void *data, const char *s, size_t n)
{
	(void)data;
	(void)s;
	(void)n;
}

/* the message stream: shown, or only read for its errors (quiet) */
static int show_stream(struct cli *c, bool quiet)
{
	struct jsonmsg m;
	int ret;

	if (!quiet)
		return render_json_stream(c);
	jsonmsg_init(&m, false, discard, NULL);
	ret = read_json_stream(c, &m);
	if (ret < 0) {
		if (*m.error)
			err_printf("%s\n", m.error);
		ret = 1;
	}
	jsonmsg_release(&m);
	return ret;
}

/* Named.String() */
static void ref_string(struct sbuf *out, const struct ref *r)
{
	_cleanup_free_ char *name = ref_name(r);

	sbuf_adds(out, name);
	if (r->tag)
		sbuf_printf(out, ":%s", r->tag);
	if (r->digest)
		sbuf_printf(out, "@%s", r->digest);
}

/* docker's content trust (Notary) is not in berth: asking for it is an error, not ignored */
static int no_content_trust(const struct cli_args *a)
{
	if (flag_set(a, "disable-content-trust") && !flag_bool(a, "disable-content-trust")) {
		err_printf("--disable-content-trust=false: berth has no content trust (signed "
			   "images): not supported\n");
		return -1;
	}
	return 0;
}

/* parse, refuse, and give a name without a tag docker's default tag (not with all_tags) */
static int prepare_ref(const char *s, bool quiet, bool all_tags, struct ref *r)
{
	char *err = NULL;

	if (ref_parse_normalized(s, r, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return -1;
	}
	if (all_tags) {
		if (!r->tag && !r->digest)
			return 0;
		ref_release(r);
		err_printf("tag can't be used with --all-tags/-a\n");
		return -1;
	}
	if (!r->tag && !r->digest) {
		r->tag = xstrdup("latest");
		if (!quiet)
			out_printf("Using default tag: latest\n");
	}
	return 0;
}

static int run_pull(struct cli *c, struct cli_args *a)
{
	bool quiet = flag_bool(a, "quiet");
	const char *platform = flag_str(a, "platform");
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT, full = SBUF_INIT;
	_cleanup_free_ char *name = NULL, *auth = NULL;
	struct ref r = {0};
	int ret;

	if (!platform || !*platform)
		platform = getenv("DOCKER_DEFAULT_PLATFORM");
	bool all = flag_bool(a, "all-tags");

	if (no_content_trust(a) < 0 || prepare_ref(a->argv[0], quiet, all, &r) < 0)
		return 1;
	name = ref_name(&r);
	auth = registry_auth_header(c, r.domain);
	/* url.Values.Encode: fromImage, platform, tag */
	sbuf_adds(&t, "/images/create?fromImage=");
	url_escape(&t, name);
	if (platform && *platform) {
		_cleanup_free_ char *lower = xstrdup(platform);
		for (char *p = lower; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		sbuf_adds(&t, "&platform=");
		url_escape(&t, lower);
	}
	if (!all) {
		sbuf_adds(&t, "&tag=");
		url_escape(&t, r.digest ? r.digest : r.tag);
	}
	ref_string(&full, &r);
	ref_release(&r);
	if (cli_call_stream_h(c, "POST", sbuf_str(&t), NULL, auth) < 0)
		return cli_fail(c, 1);
	ret = show_stream(c, quiet);
	out_flush();
	if (ret == 0)
		out_printf("%s\n", sbuf_str(&full));
	return ret;
}

static const struct cli_flag pull_flags[] = {
	{"all-tags", 'a', FK_BOOL, NULL, NULL, "Download all tagged images in the repository"},
	{"disable-content-trust", 0, FK_BOOL, NULL, "true",
	 "Skip image verification (berth has no content trust: false is refused)"},
	{"platform", 0, FK_STRING, "string", NULL,
	 "Pull this platform's image ('os[/arch[/variant]]'; default $DOCKER_DEFAULT_PLATFORM)",
	 .min_api = "1.32"},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "No progress, only the image's name"},
};

const struct cli_cmd cmd_pull = {
	.name = "pull",
	.use = "[OPTIONS] NAME[:TAG|@DIGEST]",
	.short_desc = "Download an image from a registry",
	.aliases_line = "berth image pull, berth pull",
	.flags = pull_flags,
	.n_flags = ARRAY_SIZE(pull_flags),
	.args = ARGS_EXACT,
	.min_args = 1,
	.run = run_pull,
	.top = 5,
};
CLI_CMD_TWIN(cmd_image_pull, cmd_pull);

static int run_push(struct cli *c, struct cli_args *a)
{
	bool quiet = flag_bool(a, "quiet");
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT, full = SBUF_INIT;
	_cleanup_free_ char *fam = NULL, *auth = NULL;
	struct ref r = {0};
	int ret;

	if (no_content_trust(a) < 0 || prepare_ref(a->argv[0], quiet, false, &r) < 0)
		return 1;
	if (r.digest) {
		err_printf("cannot push a digest reference\n");
		ref_release(&r);
		return 1;
	}
	fam = ref_familiar_name(&r);
	auth = registry_auth_header(c, r.domain);
	sbuf_adds(&t, "/images/");
	url_path_escape(&t, fam);
	sbuf_adds(&t, "/push?tag=");
	url_escape(&t, r.tag);
	ref_string(&full, &r);
	ref_release(&r);
	if (cli_call_stream_h(c, "POST", sbuf_str(&t), NULL, auth) < 0)
		return cli_fail(c, 1);
	ret = show_stream(c, quiet);
	out_flush();
	if (ret == 0 && quiet)
		out_printf("%s\n", sbuf_str(&full));
	return ret;
}

static const struct cli_flag push_flags[] = {
	{"disable-content-trust", 0, FK_BOOL, NULL, "true",
	 "Skip image signing (berth has no content trust: false is refused)"},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "No progress, only the image's name"},
};

const struct cli_cmd cmd_push = {
	.name = "push",
	.use = "[OPTIONS] NAME[:TAG]",
	.short_desc = "Upload an image to a registry",
	.aliases_line = "berth image push, berth push",
	.flags = push_flags,
	.n_flags = ARRAY_SIZE(push_flags),
	.args = ARGS_EXACT,
	.min_args = 1,
	.run = run_push,
	.top = 6,
};
CLI_CMD_TWIN(cmd_image_push, cmd_push);
