/* SPDX-License-Identifier: Apache-2.0 */
/*
 * image-tool: a thin command line over lib/image for tests/system/test_image_store.py.  Built
 * only for the tests, never installed.  Results go to stdout as JSON (or a tar stream), errors to
 * stderr as "image-tool: <ERRNO NAME>: <message>" with exit status 1.
 *
 *   image-tool [LIMITS] COMMAND ARGS...
 *   LIMITS: --max-entries N --max-layers N --max-json N --max-layer-size N --max-archive-size N
 *           --max-path N --max-images N
 *
 *   load ROOT < archive            progress lines {"progress": {...}}, then {"loaded": [...]}
 *   save ROOT NAME... > archive
 *   import ROOT [REF] < rootfs.tar  (a fixed linux config with Cmd ["sh"])
 *   list ROOT | inspect ROOT REF | resolve ROOT REF | history ROOT REF
 *   tag ROOT SOURCE TARGET | untag ROOT REF
 *   rmi ROOT REF [--force] [--no-prune] [--running IMAGE-ID:CTR] [--stopped IMAGE-ID:CTR]
 *       [--held CHAIN-ID]
 *   prune ROOT [--all] [--running IMAGE-ID:CTR] [--stopped IMAGE-ID:CTR] [--held CHAIN-ID]
 *   gc ROOT [CHAIN-ID...]           (chain ids held by containers)
 *   mount ROOT REF DIR [--legacy] | paths ROOT REF DIR | umount DIR | rootfs-rm DIR
 *   apply DIR [--whiteouts] [--no-owners] [--user-xattr] [--walk] < tar
 *   diff DIR > tar | export DIR > tar
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/image.h"
#include "image/image-internal.h"

#include "base/banned.h"

static struct berth_image_store_options opts;

static int fail(struct berth_error *e, const char *fallback)
{
	int code = e ? e->code : EIO;
	fprintf(stderr, "image-tool: %s: %s\n", strerrorname_np(code) ?: "E?",
		e && e->msg ? e->msg : fallback);
	berth_error_free(e);
	return 1;
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(j);
}

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *info_json(const struct berth_image_info *i)
{
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:s?, s:I, s:I, s:s?, s:s?}", "id",
			 i->id, "parent", i->parent ? json_string(i->parent) : json_null(),
			 "repo_tags", strv_json(i->repo_tags), "repo_digests",
			 strv_json(i->repo_digests), "diff_ids", strv_json(i->diff_ids), "layers",
			 strv_json(i->layers), "top_layer",
			 i->top_layer ? json_string(i->top_layer) : json_null(), "created",
			 i->created, "created_unix", (json_int_t)i->created_unix, "size",
			 (json_int_t)i->size, "architecture", i->architecture, "os", i->os);
}

static int open_store(const char *root, struct berth_image_store **s)
{
	struct berth_error *e = NULL;
	if (berth_image_store_open(root, &opts, s, &e) < 0)
		return fail(e, "open");
	return 0;
}

static void progress(void *ud, const struct berth_image_progress *p)
{
	json_t *j =
		json_pack("{s:{s:s, s:s, s:I, s:I}}", "progress", "action", p->action, "id", p->id,
			  "current", (json_int_t)p->current, "total", (json_int_t)p->total);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	(void)ud;
	printf("%s\n", s);
	free(s);
	json_decref(j);
}

/* "--running ID:CTR" / "--stopped ID:CTR": who uses what, as berthd would know it */
struct users {
	char **running, **stopped, **held;
};

static int find_user(void *ud, const char *image_id, enum berth_image_use which, char **ret)
{
	struct users *u = ud;
	char **lists[2] = {which != BERTH_IMAGE_USED_BY_STOPPED ? u->running : NULL,
			   which != BERTH_IMAGE_USED_BY_RUNNING ? u->stopped : NULL};
	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			const char *colon = strrchr(lists[l][i], ':');
			if (colon &&
			    strncmp(lists[l][i], image_id, (size_t)(colon - lists[l][i])) == 0 &&
			    strlen(image_id) == (size_t)(colon - lists[l][i])) {
				*ret = strdup(colon + 1);
				return 1;
			}
		}
	}
	return 0;
}

static json_t *deleted_json(struct berth_image_deleted *d, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			a, json_pack("{s:s}",
				     d[i].kind == BERTH_IMAGE_UNTAGGED ? "Untagged" : "Deleted",
				     d[i].value));
	return a;
}

static int cmd_load(int argc, char **argv)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	struct berth_image_load_result res;
	struct berth_image_progress_cb cb = {progress, NULL};
	json_t *out;

	if (argc != 2 || open_store(argv[1], &s))
		return 1;
	if (berth_image_load(s, 0, &cb, &res, &e) < 0) {
		berth_image_store_free(s);
		return fail(e, "load");
	}
	out = json_array();
	for (size_t i = 0; i < res.n_images; i++) {
		json_t *prev = json_array();
		for (size_t k = 0; k < res.images[i].n_tags; k++)
			json_array_append_new(prev,
					      res.images[i].previous_ids[k]
						      ? json_string(res.images[i].previous_ids[k])
						      : json_null());
		json_array_append_new(out,
				      json_pack("{s:s, s:o, s:o}", "id", res.images[i].id, "tags",
						strv_json(res.images[i].tags), "previous", prev));
	}
	json_t *res_j = json_pack("{s:o}", "loaded", out);
	char *line = json_dumps(res_j, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", line);
	free(line);
	json_decref(res_j);
	berth_image_load_result_release(&res);
	berth_image_store_free(s);
	return 0;
}

static int cmd_save(int argc, char **argv)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	int r;

	if (argc < 3 || open_store(argv[1], &s))
		return 1;
	r = berth_image_save(s, argv + 2, 1, &e);
	berth_image_store_free(s);
	return r < 0 ? fail(e, "save") : 0;
}

static int cmd_import(int argc, char **argv)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	char *id = NULL;
	json_t *config;
	int r;

	if ((argc != 2 && argc != 3) || open_store(argv[1], &s))
		return 1;
	config = json_pack("{s:s, s:s, s:s, s:{s:[s], s:[s]}, s:[{s:s, s:s}]}", "architecture",
			   img_host_arch(), "os", "linux", "created", "2024-01-02T03:04:05Z",
			   "config", "Env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "Cmd", "sh",
			   "history", "created", "2024-01-02T03:04:05Z", "comment",
			   "Imported from -");
	r = berth_image_import(s, 0, config, argc == 3 ? argv[2] : NULL, NULL, &id, &e);
	json_decref(config);
	berth_image_store_free(s);
	if (r < 0)
		return fail(e, "import");
	printf("%s\n", id);
	free(id);
	return 0;
}

static int cmd_list(int argc, char **argv)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	struct berth_image_info **v;
	size_t n;
	json_t *a;

	if (argc != 2 || open_store(argv[1], &s))
		return 1;
	if (berth_image_list(s, &v, &n, &e) < 0) {
		berth_image_store_free(s);
		return fail(e, "list");
	}
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, info_json(v[i]));
	print_json(a);
	berth_image_info_list_free(v, n);
	berth_image_store_free(s);
	return 0;
}

static int cmd_inspect(int argc, char **argv)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	struct berth_image_info *i;
	json_t *config = NULL;

	if (argc != 3 || open_store(argv[1], &s))
		return 1;
	if (berth_image_inspect(s, argv[2], &i, &e) < 0 ||
	    berth_image_config(s, i->id, &config, &e) < 0) {
		berth_image_store_free(s);
		return fail(e, "inspect");
	}
	json_t *j = info_json(i);
	json_object_set_new(j, "config", config);
	print_json(j);
	berth_image_info_free(i);
	berth_image_store_free(s);
	return 0;
}

static int cmd_resolve(int argc, char **argv)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	char *id;

	if (argc != 3 || open_store(argv[1], &s))
		return 1;
	if (berth_image_resolve(s, argv[2], &id, &e) < 0) {
		berth_image_store_free(s);
		return fail(e, "resolve");
	}
	printf("%s\n", id);
	free(id);
	berth_image_store_free(s);
	return 0;
}

static int cmd_history(int argc, char **argv)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	struct berth_image_history *h;
	size_t n;
	json_t *a;

	if (argc != 3 || open_store(argv[1], &s))
		return 1;
	if (berth_image_history(s, argv[2], &h, &n, &e) < 0) {
		berth_image_store_free(s);
		return fail(e, "history");
	}
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:s, s:s, s:o, s:I}", "id", h[i].id,
						   "created", (json_int_t)h[i].created,
						   "created_by", h[i].created_by, "comment",
						   h[i].comment, "tags", strv_json(h[i].tags),
						   "size", (json_int_t)h[i].size));
	print_json(a);
	berth_image_history_free(h, n);
	berth_image_store_free(s);
	return 0;
}

static int cmd_tag(int argc, char **argv, bool untag)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	int r;

	if (argc != (untag ? 3 : 4) || open_store(argv[1], &s))
		return 1;
	r = untag ? berth_image_untag(s, argv[2], &e) : berth_image_tag(s, argv[2], argv[3], &e);
	berth_image_store_free(s);
	return r < 0 ? fail(e, "tag") : 0;
}

static int parse_users(int argc, char **argv, int first, struct users *u, unsigned *flags,
		       bool *all)
{
	for (int i = first; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0 && flags)
			*flags |= BERTH_IMAGE_DELETE_FORCE;
		else if (strcmp(argv[i], "--no-prune") == 0 && flags)
			*flags |= BERTH_IMAGE_DELETE_NO_PRUNE;
		else if (strcmp(argv[i], "--all") == 0 && all)
			*all = true;
		else if (strcmp(argv[i], "--running") == 0 && i + 1 < argc)
			berth_strv_push(&u->running, argv[++i]);
		else if (strcmp(argv[i], "--stopped") == 0 && i + 1 < argc)
			berth_strv_push(&u->stopped, argv[++i]);
		else if (strcmp(argv[i], "--held") == 0 && i + 1 < argc)
			berth_strv_push(&u->held, argv[++i]);
		else
			return -1;
	}
	return 0;
}

static int cmd_rmi(int argc, char **argv)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	struct users u = {0};
	struct berth_image_users users = {find_user, &u, NULL};
	struct berth_image_deleted *d;
	unsigned flags = 0;
	size_t n;
	int r;

	if (argc < 3 || parse_users(argc, argv, 3, &u, &flags, NULL) < 0 || open_store(argv[1], &s))
		return 1;
	users.held_layers = (const char *const *)u.held;
	r = berth_image_delete(s, argv[2], flags, &users, &d, &n, &e);
	berth_image_store_free(s);
	berth_strv_free(u.running);
	berth_strv_free(u.stopped);
	berth_strv_free(u.held);
	if (r < 0)
		return fail(e, "rmi");
	print_json(deleted_json(d, n));
	berth_image_deleted_free(d, n);
	return 0;
}

static int cmd_prune(int argc, char **argv)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	struct users u = {0};
	struct berth_image_users users = {find_user, &u, NULL};
	struct berth_image_deleted *d;
	uint64_t reclaimed = 0;
	bool all = false;
	size_t n;
	int r;

	if (argc < 2 || parse_users(argc, argv, 2, &u, NULL, &all) < 0 || open_store(argv[1], &s))
		return 1;
	users.held_layers = (const char *const *)u.held;
	r = berth_image_prune(s, all, NULL, NULL, &users, &d, &n, &reclaimed, &e);
	berth_image_store_free(s);
	berth_strv_free(u.running);
	berth_strv_free(u.stopped);
	berth_strv_free(u.held);
	if (r < 0)
		return fail(e, "prune");
	print_json(json_pack("{s:o, s:I}", "deleted", deleted_json(d, n), "reclaimed",
			     (json_int_t)reclaimed));
	berth_image_deleted_free(d, n);
	return 0;
}

static int cmd_gc(int argc, char **argv)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	struct berth_image_users users = {NULL, NULL, (const char *const *)argv + 2};
	size_t removed = 0;
	int r;

	if (argc < 2 || open_store(argv[1], &s))
		return 1;
	r = berth_image_gc(s, &users, &removed, &e);
	berth_image_store_free(s);
	if (r < 0)
		return fail(e, "gc");
	printf("%zu\n", removed);
	return 0;
}

static int cmd_mount(int argc, char **argv, bool paths_only)
{
	struct berth_image_store *s;
	struct berth_error *e = NULL;
	struct berth_image_info *i = NULL;
	struct berth_rootfs_paths p;
	unsigned flags = 0;
	int r;

	if (argc == 5 && strcmp(argv[4], "--legacy") == 0 && !paths_only)
		flags |= BERTH_ROOTFS_LEGACY_MOUNT;
	else if (argc != 4)
		return 1;
	if (open_store(argv[1], &s))
		return 1;
	r = berth_image_inspect(s, argv[2], &i, &e);
	if (r == 0 && paths_only) {
		r = berth_rootfs_paths(s, i->top_layer, argv[3], &p, &e);
		if (r == 0) {
			print_json(json_pack("{s:s?, s:s, s:s, s:s}", "LowerDir", p.lower_dir,
					     "UpperDir", p.upper_dir, "WorkDir", p.work_dir,
					     "MergedDir", p.merged_dir));
			berth_rootfs_paths_release(&p);
		}
	} else if (r == 0) {
		r = berth_rootfs_mount(s, i->top_layer, argv[3], flags, &e);
	}
	berth_image_info_free(i);
	berth_image_store_free(s);
	return r < 0 ? fail(e, "mount") : 0;
}

static int cmd_umount(int argc, char **argv, bool remove)
{
	struct berth_error *e = NULL;
	int r;

	if (argc != 2)
		return 1;
	r = remove ? berth_rootfs_remove(argv[1], &e) : berth_rootfs_unmount(argv[1], &e);
	return r < 0 ? fail(e, "umount") : 0;
}

static int cmd_apply(int argc, char **argv)
{
	struct berth_error *e = NULL;
	struct berth_tar_stats st;
	unsigned flags = 0;
	int fd, r;

	if (argc < 2)
		return 1;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--whiteouts") == 0)
			flags |= BERTH_TAR_WHITEOUTS;
		else if (strcmp(argv[i], "--no-owners") == 0)
			flags |= BERTH_TAR_NO_OWNERS;
		else if (strcmp(argv[i], "--user-xattr") == 0)
			flags |= BERTH_TAR_USER_XATTR;
		else if (strcmp(argv[i], "--walk") == 0)
			berth_root_force_walk = true;
		else
			return 1;
	}
	fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	r = berth_tar_apply(fd, 0, flags, &opts.limits, &st, &e);
	close(fd);
	if (r < 0)
		return fail(e, "apply");
	print_json(json_pack("{s:I, s:I, s:I, s:s}", "entries", (json_int_t)st.entries, "size",
			     (json_int_t)st.size, "tar_size", (json_int_t)st.tar_size, "diff_id",
			     st.diff_id));
	return 0;
}

static int cmd_write(int argc, char **argv, bool diff)
{
	struct berth_error *e = NULL;
	int fd, r;

	if (argc != 2)
		return 1;
	fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	r = diff ? berth_tar_write_diff(fd, 1, 0, &e) : berth_tar_write_dir(fd, 1, &e);
	close(fd);
	return r < 0 ? fail(e, "write") : 0;
}

static int limit(const char *flag, const char *value)
{
	uint64_t v;
	if (berth_parse_uint64(value, &v) < 0)
		return -1;
	if (!strcmp(flag, "--max-entries"))
		opts.limits.max_entries = (uint32_t)v;
	else if (!strcmp(flag, "--max-layers"))
		opts.limits.max_layers = (uint32_t)v;
	else if (!strcmp(flag, "--max-json"))
		opts.limits.max_json_size = v;
	else if (!strcmp(flag, "--max-layer-size"))
		opts.limits.max_layer_size = v;
	else if (!strcmp(flag, "--max-archive-size"))
		opts.limits.max_archive_size = v;
	else if (!strcmp(flag, "--max-path"))
		opts.limits.max_path = (uint32_t)v;
	else if (!strcmp(flag, "--max-images"))
		opts.limits.max_images = (uint32_t)v;
	else
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1, r = -1;

	while (i + 1 < argc && berth_str_has_prefix(argv[i], "--max-")) {
		if (limit(argv[i], argv[i + 1]) < 0)
			break;
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: image-tool [LIMITS] COMMAND ARGS... (see the source)\n");
		return 2;
	}
	const char *cmd = argv[i];
	argc -= i;
	argv += i;
	if (!strcmp(cmd, "load"))
		r = cmd_load(argc, argv);
	else if (!strcmp(cmd, "save"))
		r = cmd_save(argc, argv);
	else if (!strcmp(cmd, "import"))
		r = cmd_import(argc, argv);
	else if (!strcmp(cmd, "list"))
		r = cmd_list(argc, argv);
	else if (!strcmp(cmd, "inspect"))
		r = cmd_inspect(argc, argv);
	else if (!strcmp(cmd, "resolve"))
		r = cmd_resolve(argc, argv);
	else if (!strcmp(cmd, "history"))
		r = cmd_history(argc, argv);
	else if (!strcmp(cmd, "tag"))
		r = cmd_tag(argc, argv, false);
	else if (!strcmp(cmd, "untag"))
		r = cmd_tag(argc, argv, true);
	else if (!strcmp(cmd, "rmi"))
		r = cmd_rmi(argc, argv);
	else if (!strcmp(cmd, "prune"))
		r = cmd_prune(argc, argv);
	else if (!strcmp(cmd, "gc"))
		r = cmd_gc(argc, argv);
	else if (!strcmp(cmd, "mount"))
		r = cmd_mount(argc, argv, false);
	else if (!strcmp(cmd, "paths"))
		r = cmd_mount(argc, argv, true);
	else if (!strcmp(cmd, "umount"))
		r = cmd_umount(argc, argv, false);
	else if (!strcmp(cmd, "rootfs-rm"))
		r = cmd_umount(argc, argv, true);
	else if (!strcmp(cmd, "apply"))
		r = cmd_apply(argc, argv);
	else if (!strcmp(cmd, "diff"))
		r = cmd_write(argc, argv, true);
	else if (!strcmp(cmd, "export"))
		r = cmd_write(argc, argv, false);
	if (r < 0) {
		fprintf(stderr, "image-tool: unknown command '%s'\n", cmd);
		return 2;
	}
	return r;
}
