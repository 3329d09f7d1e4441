/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth volume: create, ls, inspect, rm, prune over berthd's /volumes, with docker 28's flags,
 * request bodies, output and messages (cli/command/volume).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "inspect.h"
#include "units.h"
#include "base/banned.h"

/* ---- create ------------------------------------------------------------------------------------ */

static int run_volume_create(struct cli *c, struct cli_args *a)
{
	const char *name = flag_str(a, "name");
	_cleanup_json_ json_t *body = NULL;
	struct cli_response r;

	if (a->argc == 1) {
		if (name && *name) {
			err_printf("conflicting options: cannot specify a volume-name through both "
				   "--name and as a positional arg\n");
			return 1;
		}
		name = a->argv[0];
	}
	body = json_pack("{s:s,s:o,s:s,s:o}", "Driver", flag_str(a, "driver") ?: "local",
			 "DriverOpts", kv_object(flag_get(a, "opt")), "Name", name ? name : "",
			 "Labels", kv_object(flag_get(a, "label")));
	if (cli_call(c, "POST", "/volumes/create", body, &r) < 0)
		return cli_fail(c, 1);
	out_printf("%s\n", json_string_value(json_object_get(r.json, "Name")) ?: "");
	cli_response_release(&r);
	return 0;
}

static const struct cli_flag create_flags[] = {
	{"driver", 'd', FK_STRING, "string", "local", "The volume's driver"},
	{"label", 0, FK_LIST, "list", NULL, "Set metadata on the volume", 0, check_label},
	{"name", 0, FK_STRING, "string", NULL, "The volume's name", FLAG_HIDDEN},
	{"opt", 'o', FK_LIST, "map", "map[]", "Options of the driver"},
};

const struct cli_cmd cmd_volume_create = {
	.name = "create",
	.use = "[OPTIONS] [VOLUME]",
	.short_desc = "Create a volume",
	.flags = create_flags,
	.n_flags = ARRAY_SIZE(create_flags),
	.args = ARGS_MAX,
	.max_args = 1,
	.run = run_volume_create,
};

/* ---- ls ---------------------------------------------------------------------------------------- */

static void volume_row(struct ctx_obj *c, json_t *v, bool trunc)
{
	(void)trunc;
	volume_ctx_init(c, v);
}

static int run_volume_ls(struct cli *c, struct cli_args *a)
{
	_cleanup_free_ char *fj = filters_json(flag_get(a, "filter"));
	struct cli_response r;
	bool quiet = flag_bool(a, "quiet");
	const char *format =
		list_format(c, flag_str(a, "format"), quiet, "volumesFormat", "{{.Name}}");

	if (cli_call_filtered(c, "GET", "/volumes", fj, &r) < 0)
		return cli_fail(c, 1);
	if (strcmp(format, "table") == 0)
		format = "table {{.Driver}}\t{{.Name}}";
	int ret = list_rows(json_object_get(r.json, "Volumes"), format, volume_header_pairs,
			    volume_row, true);
	cli_response_release(&r);
	return ret;
}

static const struct cli_flag ls_flags[] = {
	{"filter", 'f', FK_LIST, "filter", NULL,
	 "Show only the volumes that match (e.g. 'dangling=true')", 0, check_filter},
	{"format", 0, FK_STRING, "string", NULL, FORMAT_HELP_LIST},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "Show volume names only"},
};

static const char *const ls_aliases[] = {"list", NULL};

const struct cli_cmd cmd_volume_ls = {
	.name = "ls",
	.use = "[OPTIONS]",
	.short_desc = "List volumes",
	.aliases_line = "berth volume ls, berth volume list",
	.aliases = ls_aliases,
	.flags = ls_flags,
	.n_flags = ARRAY_SIZE(ls_flags),
	.args = ARGS_NONE,
	.run = run_volume_ls,
};

/* ---- inspect ----------------------------------------------------------------------------------- */

static int get_volume(struct cli *c, const char *ref, void *data, struct inspect_obj *ret,
		      char **ret_err)
{
	bool not_found;

	(void)data;
	if (inspect_fetch(c, inspect_type_find("volume"), ref, false, ret, ret_err, &not_found) < 0)
		return -1;
	/* docker's volume inspect has the typed volume.Volume only (the generic inspect has the
	 * raw JSON too) */
	ret->typed_only = true;
	return 0;
}

static int run_volume_inspect(struct cli *c, struct cli_args *a)
{
	return inspect_run(c, a->argv, a->argc, flag_str(a, "format"), get_volume, NULL);
}

static const struct cli_flag inspect_flags[] = {
	{"format", 'f', FK_STRING, "string", NULL, FORMAT_HELP_INSPECT},
};

const struct cli_cmd cmd_volume_inspect = {
	.name = "inspect",
	.use = "[OPTIONS] VOLUME [VOLUME...]",
	.short_desc = "Display detailed information on one or more volumes",
	.flags = inspect_flags,
	.n_flags = ARRAY_SIZE(inspect_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_volume_inspect,
	.complete = COMPLETE_VOLUMES,
};

/* ---- rm ---------------------------------------------------------------------------------------- */

static int run_volume_rm(struct cli *c, struct cli_args *a)
{
	return each_named(c, a, "DELETE", "/volumes/", "",
			  flag_bool(a, "force") ? "force=1" : NULL);
}

static const struct cli_flag rm_flags[] = {
	{"force", 'f', FK_BOOL, NULL, NULL, "Remove them even when in use", .min_api = "1.25"},
};

static const char *const rm_aliases[] = {"remove", NULL};

const struct cli_cmd cmd_volume_rm = {
	.name = "rm",
	.use = "[OPTIONS] VOLUME [VOLUME...]",
	.short_desc = "Remove one or more volumes",
	.long_desc = "Remove one or more volumes. You cannot remove a volume that is in use by a "
		     "container.",
	.aliases_line = "berth volume rm, berth volume remove",
	.aliases = rm_aliases,
	.flags = rm_flags,
	.n_flags = ARRAY_SIZE(rm_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_volume_rm,
	.complete = COMPLETE_VOLUMES,
};

/* ---- prune ------------------------------------------------------------------------------------- */

static int run_volume_prune(struct cli *c, struct cli_args *a)
{
	bool all = flag_bool(a, "all");
	const struct flag_value *fv = flag_get(a, "filter");
	_cleanup_free_ char *fj = NULL;
	_cleanup_sbuf_ struct sbuf size = SBUF_INIT;
	struct cli_response r;
	const char *extra[] = {"all", "true", NULL};

	if (all) {
		for (size_t i = 0; i < fv->n; i++) {
			const char *eq = strchr(fv->v[i], '=');
			if (eq && eq - fv->v[i] == 3 && strncasecmp(fv->v[i], "all", 3) == 0) {
				err_printf("conflicting options: cannot specify both --all and "
					   "--filter all=1\n");
				return 1;
			}
		}
	}
	fj = filters_json_with(fv, all ? extra : NULL);
	if (!flag_bool(a, "force") &&
	    !confirm(all ? "WARNING! This will remove all local volumes not used by at least one "
			   "container.\nAre you sure you want to continue?"
			 : "WARNING! This will remove anonymous local volumes not used by at least "
			   "one container.\nAre you sure you want to continue?"))
		return 0;
	if (cli_call_filtered(c, "POST", "/volumes/prune", fj, &r) < 0)
		return cli_fail(c, 1);
	json_t *deleted = json_object_get(r.json, "VolumesDeleted");
	if (json_array_size(deleted)) {
		size_t i;
		json_t *e;
		out_puts("Deleted Volumes:\n");
		json_array_foreach (deleted, i, e)
			out_printf("%s\n", json_string_value(e) ?: "");
		out_puts("\n");
	}
	human_size(&size,
		   (double)(uint64_t)json_integer_value(json_object_get(r.json, "SpaceReclaimed")),
		   4);
	out_printf("Total reclaimed space: %s\n", sbuf_str(&size));
	cli_response_release(&r);
	return 0;
}

static const struct cli_flag prune_flags[] = {
	{"all", 'a', FK_BOOL, NULL, NULL, "Remove every unused volume, not only anonymous ones",
	 .min_api = "1.42"},
	{"filter", 0, FK_LIST, "filter", NULL, "Which volumes to consider (e.g. \"label=<label>\")",
	 0, check_filter},
	{"force", 'f', FK_BOOL, NULL, NULL, "Do not ask first"},
};

const struct cli_cmd cmd_volume_prune = {
	.name = "prune",
	.use = "[OPTIONS]",
	.short_desc = "Remove unused local volumes",
	.flags = prune_flags,
	.n_flags = ARRAY_SIZE(prune_flags),
	.args = ARGS_NONE,
	.run = run_volume_prune,
	.min_api = "1.25",
};

static const struct cli_cmd *const volume_subs[] = {
	&cmd_volume_create, &cmd_volume_inspect, &cmd_volume_ls,
	&cmd_volume_prune,  &cmd_volume_rm,	 NULL,
};

const struct cli_cmd cmd_volume = {
	.name = "volume",
	.use = "COMMAND", /* docker's Use for this group, seen in its unknown-command error */
	.short_desc = "Manage volumes",
	.subs = volume_subs,
	.min_api = "1.21",
};
