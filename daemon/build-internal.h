/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The classic builder's parts (build.c: POST /build, the stages and steps, the cache;
 * build-copy.c: COPY and ADD).  docs/build.md is the long form.
 */

#include <stdbool.h>
#include <sys/stat.h>

#include "daemon.h"
#include "image/image.h"

/* Where ADD puts what it downloads, in the context, for the one step (never unpacked there). */
#define BUILD_URL_DIR ".berth-add-"

/* One file, directory or link a COPY takes from its source tree. */
struct build_copy_entry {
	char *src;  /* path in the source tree ("a/b"), resolved */
	char *name; /* its name under the destination ("b", "b/c"; "" for the top of a dir) */
	struct stat st;
	char *link; /* a symlink's target */
	bool top;   /* the top of a source (a file, or the directory whose contents are copied) */
};

/* The sources of one COPY/ADD, resolved and hashed before the step runs (the cache key). */
struct build_copy {
	struct build_copy_entry *v;
	size_t n, cap;
	size_t n_sources; /* after wildcards */
	bool single_file; /* exactly one source, a file */
	char *hash;	  /* "file:<hex>", "dir:<hex>", "multi:<hex>" */
};

/*
 * Resolve srcs (already expanded) inside the tree src_fd (the build context, or the root of a
 * stage or an image for --from): wildcards (path.Match per component), each path resolved in
 * the tree, a directory walked (its contents are what is copied).  in_context: a path leaving
 * the tree ("../x") is docker's "forbidden path outside the build context" instead of clamped.
 * Docker's messages for a missing file and an empty wildcard.  The content hash ignores times
 * and owners: touching a file keeps the cache.
 */
int build_copy_collect(int src_fd, char *const *srcs, bool in_context, const char *cmd,
		       struct build_copy *ret, struct berth_error **err);

/*
 * Copy what build_copy_collect found into the root root_fd (the step's mounted overlay) at
 * dest (absolute, cleaned; dest_dir: it ended with "/" or names several sources): files keep
 * their modes and times, owners become uid:gid, chmod (>= 0) replaces every mode.  add: a
 * local tar archive (plain or compressed) is unpacked at dest instead of copied.
 */
int build_copy_apply(const struct build_copy *c, int src_fd, int root_fd, const char *dest,
		     bool dest_dir, uid_t uid, gid_t gid, int chmod, bool add, const char *cmd,
		     struct berth_error **err);

void build_copy_release(struct build_copy *c);

/* Make path (absolute) and its missing parents inside root_fd, new ones owned by uid:gid. */
int build_mkdir_in_root(int root_fd, const char *path, uid_t uid, gid_t gid,
			struct berth_error **err);

/*
 * --chown's "user[:group]" in the root root_fd: numbers as they are, names looked up in its
 * /etc/passwd and /etc/group (docker's messages when absent).
 */
int build_chown_parse(int root_fd, const char *spec, uid_t *ret_uid, gid_t *ret_gid,
		      struct berth_error **err);

/*
 * A step's cache key: the hex sha256 of the parent image id ("" for none), the container
 * config the step commits with (keys sorted: the same config gives the same key whatever
 * order it was built in) and extra (what the config does not show: COPY's --from, --chown,
 * --chmod).  NULL on ENOMEM.
 */
char *build_cache_key(const char *parent, const json_t *cc, const char *extra);

/* ---- a build (build.c, build-steps.c) ------------------------------------------------------- */

#include "dockerfile.h"

struct build_arg {
	char *name;
	char *value; /* NULL: declared without a value */
};

struct stage {
	char *name; /* "AS name", lowercased; NULL */
	size_t index;
	const struct df_instr *from;
	const struct df_instr *v; /* the instructions after FROM */
	size_t n;
	bool needed;

	/* while it builds */
	char *image_id;	 /* NULL: scratch with nothing yet */
	char *top_layer; /* chain id; NULL: no layers */
	json_t *img;	 /* the image config blob (NULL: scratch) */
	json_t *cfg;	 /* the run config */
	bool cmd_set;
	struct build_arg *args;
	size_t n_args;
	char *maintainer;
};

struct build_opts {
	char **tags; /* full references */
	const char *dockerfile;
	json_t *buildargs; /* name -> string or null */
	json_t *labels;
	bool nocache, quiet, rm, forcerm, pull;
	const char *target, *networkmode;
	json_t *resources; /* HostConfig limits of RUN containers */
	json_t *cachefrom; /* the cachefrom names (strings) */
};

struct build {
	struct berthd *d;
	struct berth_http_request *req;
	struct build_opts o;
	char *dir; /* tmp/build-XXXXXX */
	int ctx_fd;
	bool ctx_tmpfs; /* <dir>/context is a tmpfs of the build's (build-context.c) */
	char escape;
	struct df_instr *ins;
	size_t n_ins;
	struct build_arg *meta;
	size_t n_meta;
	json_t *used_args; /* names of build args some ARG consumed */
	struct stage *stages;
	size_t n_stages;
	bool streaming;
	struct sbuf quiet;
	unsigned step, total, seq;
	int fail_code;	 /* the jsonmessage error code (a RUN's exit code) */
	json_t *sources; /* --cache-from: [{"id", "img"}] of the images found; NULL: not looked up */
	int pinned;	 /* the source a restored step came from (-1: none yet) */
};

/* an overlay of a layer's chain: root_fd is its merged directory */
struct fs_mount {
	char *dir;
	int root_fd;
};

/* ---- RUN --mount= (build-mounts.c) ----------------------------------------------------------- */

enum build_mount_type { BUILD_MOUNT_BIND, BUILD_MOUNT_CACHE, BUILD_MOUNT_TMPFS };
enum build_sharing { BUILD_SHARING_SHARED, BUILD_SHARING_PRIVATE, BUILD_SHARING_LOCKED };

struct build_mount {
	enum build_mount_type type;
	char *target; /* absolute, cleaned */
	char *source, *from, *id;
	enum build_sharing sharing;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	uint64_t size; /* tmpfs */
	bool rw;
	/* resolved */
	char *from_id, *from_layer;
	/* while the RUN runs */
	struct fs_mount from_root;
	bool from_mounted;
	char *scratch; /* a directory of the build's for it (private cache, rw copy or overlay) */
	char *overlay; /* the rw overlay's merged directory, unmounted after */
	int lock_fd; /* a cache's directory, flock'd (locked, private: exclusive; shared: shared) */
};

struct build_mounts {
	struct build_mount *v;
	size_t n;
};

/*
 * The --mount= values of a RUN (expanded with env) into ret; *ret_key is what they add to the
 * step's cache key (their options, and a context bind's content hash or a from='s image id).
 * BuildKit's messages for bad options; secret and ssh are ENOTSUP naming BuildKit.
 */
int build_mounts_parse(struct build *b, struct stage *s, char *const *specs, const json_t *env,
		       struct build_mounts *ret, char **ret_key, struct berth_error **err);

/* The host side (cache directories, locks, overlays); *ret is HostConfig.Mounts. */
int build_mounts_prepare(struct build *b, struct build_mounts *ms, json_t **ret,
			 struct berth_error **err);

/*
 * After the RUN: the mount points it needed leave its upper directory upper_fd (-EBADF: none),
 * then unmount, unlock, and remove what prepare made for this RUN.
 */
void build_mounts_finish(struct build *b, struct build_mounts *ms, int upper_fd);
void build_mounts_release(struct build_mounts *ms);

/*
 * builder prune: every cache mount directory no RUN holds (and, with until_ns, unused since):
 * removed, "cache-mount:<hex>" appended to deleted, its bytes added to *reclaimed.
 */
int build_mounts_prune(struct berthd *d, int64_t until_ns, json_t *deleted, uint64_t *reclaimed,
		       struct berth_error **err);

/* output (build.c): the JSON stream, or the -q buffer */
void bld_emit(struct build *b, json_t *msg);
void bld_say_n(struct build *b, const char *s, size_t n);
void bld_say(struct build *b, const char *fmt, ...) BERTH_PRINTF(2, 3);
const char *bld_short_id(const char *id); /* 12 hex digits (thread-local buffer) */
int bld_oom(struct berth_error **err);

/* strings and configs (build.c) */
char *bld_lower(const char *s);
void bld_go_strv(struct sbuf *sb, const json_t *a);    /* Go's %q of a []string */
void bld_go_duration(int64_t ns, char *out, size_t n); /* time.Duration.String() */
char *bld_join_json(const json_t *a, const char *sep); /* strings.Join */
char *bld_join_strv(char *const *v, const char *sep);
bool bld_env_has(const json_t *env, const char *name);
const struct build_arg *bld_find_arg(const struct build_arg *v, size_t n, const char *name);
json_t *bld_allowed_args(const struct stage *s); /* FilterAllowed: sorted "K=V" */
json_t *bld_expand_env(const struct stage *s);	 /* Env + the allowed args */
json_t *bld_shell_of(const json_t *cfg);	 /* SHELL, or ["/bin/sh", "-c"] */
void bld_set_default_path(json_t *cfg);

/* images, the cache, commits (build.c) */
int bld_load_image(struct build *b, struct stage *s, const char *id, struct berth_error **err);
/*
 * Is the step cached?  Its key in the cache, else (cachefrom) a source image whose history
 * continues the stage's with cc's Cmd, as the classic builder's imageCache matches it.  On a
 * hit, the stage moves to the cached image.
 */
bool bld_probe(struct build *b, struct stage *s, const char *key, const json_t *cc);
int bld_commit_step(struct build *b, struct stage *s, const json_t *cc, const char *ctr_id,
		    int upper_fd, const char *key, struct berth_error **err);
json_t *bld_with_cmd(const struct stage *s, json_t *cmd, bool entrypoint_null);
json_t *bld_comment_cmd(const struct stage *s, const char *comment);
int bld_meta_commit(struct build *b, struct stage *s, const char *comment,
		    struct berth_error **err);
int bld_fs_mount(struct build *b, const char *top_layer, struct fs_mount *m,
		 struct berth_error **err);
void bld_fs_unmount(struct fs_mount *m, bool remove);
int bld_fs_commit(struct build *b, struct stage *s, struct fs_mount *m, const json_t *cc,
		  const char *key, struct berth_error **err);

/*
 * GET url (http, https; redirects followed; at most 8 GiB) into fd; *ret_filetime (may be NULL)
 * its Last-Modified as a unix time, or -1.  Errors name the URL ("failed to GET ...").
 */
int bld_download(struct build *b, const char *url, int fd, long *ret_filetime,
		 struct berth_error **err);

/*
 * POST /build's remote= (build-remote.c): a git repository ("git://", "git@", "github.com/",
 * an http(s) URL ending in ".git", each with "#ref:subdir") cloned with git, or an http(s) URL
 * of a tar (plain or compressed: the context) or of a Dockerfile (the only file of the context,
 * named dockerfile).  Leaves the context in <b->dir>/context.  Refused: a URL or ref starting
 * with "-", a subdir leaving the repository, other schemes.
 */
int build_remote_context(struct build *b, const char *remote, const char *dockerfile,
			 struct berth_error **err);

/* ---- the context (build-context.c) ------------------------------------------------------------ */

/* A tar (plain or compressed) of fd into the context directory. */
int bld_apply_context_tar(struct build *b, int fd, struct berth_error **err);

/*
 * The request's context into <b->dir>/context (made here; b->ctx_fd opened on it): the body,
 * a tmpfs of the build's when it is small (b->ctx_tmpfs), else on disk; or remote=.
 */
int bld_context_receive(struct build *b, struct berth_error **err);

/* The context's tmpfs unmounted (with what is bound on it) and b->ctx_fd closed; else nothing. */
void bld_context_unmount(struct build *b);

/*
 * A new directory <BUILD_URL_DIR>N of the context for one step's own files (a heredoc, an ADD
 * download): *ret_rel its path in the context, *ret_dir on the host.  on_disk (a download, up to
 * 8 GiB): a tmpfs context gets a directory of the build's on disk bound there.
 */
int bld_context_add_dir(struct build *b, bool on_disk, char **ret_rel, char **ret_dir,
			struct berth_error **err);

/* Remove what bld_context_add_dir made for rel (the first component of a path it returned). */
void bld_context_drop(struct build *b, const char *rel);

/*
 * At berthd's start: the mounts an interrupted build left under <data-root>/tmp/build-* (its
 * context's tmpfs, its steps' overlays) unmounted, and those directories removed.
 */
void bld_context_sweep(struct berthd *d);

/* the steps (build-steps.c) */
/* a local image by name, pulled when missing (docker's rule for FROM and --from) */
int bld_image_for(struct build *b, const char *ref, char **ret_id, struct berth_error **err);
struct stage *bld_stage_named(struct build *b, const char *name, size_t before);
int bld_from_step(struct build *b, struct stage *s, struct berth_error **err);
/* s NULL: a global ARG (before the first FROM) */
int bld_arg_step(struct build *b, struct stage *s, const struct df_instr *in,
		 struct berth_error **err);
int bld_dispatch(struct build *b, struct stage *s, const struct df_instr *in,
		 struct berth_error **err);
