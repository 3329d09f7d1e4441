/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/image: the image store.  Content-addressed blobs, layers unpacked once and shared, the
 * names -> image ids index, docker image references, `docker save` archives in and out, import
 * of a root filesystem tar, and the overlayfs root filesystem of a container.  Uses lib/base
 * only.  docs/image-store.md describes the on-disk format and how the pieces fit.
 *
 * Errors: every function that can fail returns 0 (or a count) on success and a negative errno on
 * failure, with *err filled (see base/error.h).  The codes callers branch on:
 *   EINVAL  bad input (a malformed reference, archive, manifest, config, layer);
 *   ENOENT  no such image / layer / blob;
 *   EBUSY   a conflict (an image in use, a reference that cannot be removed without force);
 *   EFBIG   a size limit (struct berth_image_limits) was exceeded;
 *   anything else: the system call that failed.
 * Messages of EINVAL from the reference parser, and of ENOENT/EBUSY from resolve, tag and delete,
 * are Docker's own wording ("invalid reference format", "No such image: busybox:latest",
 * "conflict: unable to delete ...") so the API can pass them through unchanged.
 *
 * Threads: a store may be used from many threads at once.  One internal mutex guards the index
 * and is held only for short steps; unpacking, hashing and streaming run outside it.  Callbacks
 * (progress, users, filters) are called from the calling thread, some with that mutex held: they
 * must not call back into the store.
 *
 * Garbage: a layer or blob that no image in the index uses, that no lease holds and that is not
 * below a layer the caller says is held (struct berth_image_users.held_layers: the containers'
 * root filesystems) may be removed by any gc, delete or prune.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/*
 * libarchive is loaded on first use (base/dl.h), not when the program starts.  Load it now: 0, or
 * -ELIBACC with err naming the library ("cannot load 'libarchive.so.13': ...").  For a caller
 * that calls libarchive itself and wants that message before its first archive_read_new().
 */
int berth_image_archive_load(struct berth_error **err);

/* ---- digests ---------------------------------------------------------------------------- */

/* "sha256:" + 64 hex digits + NUL */
#define BERTH_DIGEST_SIZE 72

/*
 * Check a digest as go-digest does: "<algorithm>:<lowercase hex>" with sha256, sha384 or sha512
 * and the length that algorithm gives.  Errors (EINVAL) carry Docker's messages: "invalid
 * checksum digest format", "invalid checksum digest length", "unsupported digest algorithm".
 */
int berth_digest_validate(const char *digest, struct berth_error **err);

/* Is s "sha256:<64 lowercase hex>"? */
bool berth_digest_is_sha256(const char *s);

/* "sha256:<hex>" of data into out. */
void berth_sha256_digest(const void *data, size_t len, char out[BERTH_DIGEST_SIZE]);

/*
 * The OCI image spec's chain ids of a list of diff ids: chain[0] = diff[0],
 * chain[i] = sha256(chain[i-1] + " " + diff[i]).  *ret is a NULL-terminated vector of n strings
 * the caller frees (berth_strv_free).  EINVAL when a diff id is not a sha256 digest.
 */
int berth_chain_ids(char *const *diff_ids, size_t n, char ***ret, struct berth_error **err);

/* ---- references ------------------------------------------------------------------------- */

/*
 * A docker image reference, normalised as docker does: "busybox" is domain "docker.io", path
 * "library/busybox", no tag, no digest.
 */
struct berth_reference {
	char *domain; /* "docker.io", "localhost:5000", "[::1]:5000"; "" only for odd names */
	char *path;   /* "library/busybox", "foo/bar" */
	char *tag;    /* NULL when none */
	char *digest; /* "sha256:..." or NULL */
};

/*
 * Parse s with the distribution reference grammar and docker's normalisation
 * (reference.ParseNormalizedNamed): domain[:port]/path[:tag][@digest], lowercase repository
 * names, at most 255 characters of name, a 64-hex string refused as a name.  Errors (EINVAL) are
 * Docker's: "invalid reference format", "invalid reference format: repository name
 * (library/Busybox) must be lowercase", "repository name must not be more than 255 characters",
 * "invalid repository name (...), cannot specify 64-byte hexadecimal strings", and the digest
 * messages above.  *ret is freed with berth_reference_free().
 */
int berth_reference_parse(const char *s, struct berth_reference **ret, struct berth_error **err);

void berth_reference_free(struct berth_reference *ref);
static inline void berth_reference_freep(struct berth_reference **r)
{
	berth_reference_free(*r);
	*r = NULL;
}
#define _cleanup_reference_ _cleanup_(berth_reference_freep)

/* Add the tag "latest" when the reference has neither tag nor digest; 0 or -ENOMEM. */
int berth_reference_default_tag(struct berth_reference *ref);

/* "docker.io/library/busybox"; caller frees; NULL on ENOMEM. */
char *berth_reference_name(const struct berth_reference *ref);

/* "docker.io/library/busybox:latest@sha256:..." (the parts present); caller frees. */
char *berth_reference_string(const struct berth_reference *ref);

/* Docker's short forms: "busybox", "busybox:latest", "foo/bar@sha256:..."; caller frees. */
char *berth_reference_familiar_name(const struct berth_reference *ref);
char *berth_reference_familiar(const struct berth_reference *ref);

/*
 * Parse, add "latest" when there is neither tag nor digest, and give the full string:
 * "busybox" -> "docker.io/library/busybox:latest".
 */
int berth_reference_normalize(const char *s, char **ret, struct berth_error **err);

/* ---- the store -------------------------------------------------------------------------- */

struct berth_image_store;

/*
 * Caps on what an archive, a layer or an image can make the store do.  A zero field takes the
 * default in brackets.  Exceeding one is EFBIG with the limit named.
 */
struct berth_image_limits {
	uint64_t max_json_size;	   /* a manifest, index, config, manifest.json [8 MiB] */
	uint64_t max_layer_size;   /* uncompressed bytes of one layer tar [64 GiB] */
	uint64_t max_archive_size; /* bytes of a load archive, after decompression [256 GiB] */
	uint32_t max_layers;	   /* layers of one image [500: overlayfs stacks at most 500] */
	uint32_t max_entries;	   /* entries of one layer tar, members of one archive [1000000] */
	uint32_t max_images;	   /* images in one archive [1000] */
	uint32_t max_path;	   /* bytes of an entry's path or link target [4096] */
};

struct berth_image_store_options {
	struct berth_image_limits limits;
};

/*
 * Open (creating it when missing) the store under data_root: blobs/, layers/, images.json,
 * tmp/.  Takes an exclusive lock on data_root/.lock (EBUSY when another store holds it), removes
 * what an interrupted operation left (staging and trash directories, temporary files) and reads
 * the index.  opts may be NULL.  Free with berth_image_store_free().
 */
int berth_image_store_open(const char *data_root, const struct berth_image_store_options *opts,
			   struct berth_image_store **ret, struct berth_error **err);

void berth_image_store_free(struct berth_image_store *s);

/* The absolute data root the store was opened on. */
const char *berth_image_store_root(const struct berth_image_store *s);

/* The limits in force (defaults filled in). */
const struct berth_image_limits *berth_image_store_limits(const struct berth_image_store *s);

/* ---- leases: content kept while an operation builds on it ------------------------------- */

/*
 * A lease holds blobs and layers against gc while an operation that will reference them (a
 * pull, a commit) is under way, and remembers what was created under it.  Releasing with
 * rollback removes what it created that nothing else uses; without, the content stays (and is
 * garbage unless an image now uses it).
 */
struct berth_image_lease;

int berth_image_lease_new(struct berth_image_store *s, struct berth_image_lease **ret,
			  struct berth_error **err);

/* Hold a blob digest or a layer chain id; 0 or -ENOMEM. */
int berth_image_lease_add(struct berth_image_lease *l, const char *digest_or_chain_id);

void berth_image_lease_release(struct berth_image_lease *l, bool rollback);

/* ---- blobs: <data-root>/blobs/sha256/<hex> ---------------------------------------------- */

bool berth_blob_exists(struct berth_image_store *s, const char *digest);

/* Open a blob for reading (O_RDONLY|O_CLOEXEC); the caller closes *ret_fd.  ENOENT if absent. */
int berth_blob_open(struct berth_image_store *s, const char *digest, int *ret_fd,
		    uint64_t *ret_size, struct berth_error **err);

/*
 * Read a whole blob of at most max bytes and check its sha256 again (a blob changed on disk is
 * EIO).  *ret is NUL-terminated; the caller frees it.
 */
int berth_blob_read(struct berth_image_store *s, const char *digest, size_t max, char **ret,
		    size_t *ret_len, struct berth_error **err);

/*
 * Write a blob as a stream: bytes go to a temporary file under tmp/ and are hashed as they come;
 * commit checks the digest (and the size, when one was expected), fsyncs, and renames the file
 * to blobs/sha256/<hex> (an existing blob of that digest is kept).  A writer freed without commit
 * leaves nothing.  expected_digest may be NULL (any content), expected_size -1 (any size); a
 * write beyond the expected size fails at once.
 */
struct berth_blob_writer;

int berth_blob_writer_new(struct berth_image_store *s, const char *expected_digest,
			  int64_t expected_size, struct berth_blob_writer **ret,
			  struct berth_error **err);
int berth_blob_writer_write(struct berth_blob_writer *w, const void *data, size_t len,
			    struct berth_error **err);
/* lease (may be NULL) holds the blob from before it becomes visible; *ret_digest may be NULL. */
int berth_blob_writer_commit(struct berth_blob_writer *w, struct berth_image_lease *lease,
			     char **ret_digest, struct berth_error **err);
void berth_blob_writer_free(struct berth_blob_writer *w);

/* One-shot form of the writer. */
int berth_blob_write(struct berth_image_store *s, const void *data, size_t len,
		     const char *expected_digest, struct berth_image_lease *lease,
		     char **ret_digest, struct berth_error **err);

/* Remove a blob; a missing one is not an error.  The caller makes sure nothing uses it. */
int berth_blob_delete(struct berth_image_store *s, const char *digest, struct berth_error **err);

/* ---- progress --------------------------------------------------------------------------- */

struct berth_image_progress {
	const char *action; /* "Loading layer", "Importing" */
	const char *id;	  /* 12 hex digits of the layer's diff id (docker's short id); "" unknown */
	uint64_t current; /* bytes of the layer's blob read so far */
	uint64_t total;	  /* its size; 0 when unknown */
};

/*
 * Called when a layer starts (current 0), every 512 KiB or 1/100 of it, whichever is more, and
 * when it ends (current: all the bytes read).
 */
struct berth_image_progress_cb {
	void (*fn)(void *userdata, const struct berth_image_progress *p);
	void *userdata;
};

/* ---- layers: <data-root>/layers/<chain-id hex>/{diff/, layer.json} ----------------------- */

struct berth_layer_info {
	char *chain_id;	   /* "sha256:..." */
	char *diff_id;	   /* sha256 of the uncompressed tar */
	char *parent;	   /* chain id of the layer below; NULL for a bottom layer */
	char *blob;	   /* digest of the blob it was unpacked from (kept for save) */
	uint64_t size;	   /* bytes of its files (hard links once), as docker's layer size */
	uint64_t tar_size; /* bytes of its uncompressed tar */
};

void berth_layer_info_free(struct berth_layer_info *i);

/*
 * Make a layer from a tar stream (plain, gzip or zstd; detected) read from fd to its end, on top
 * of the layer parent (NULL: a bottom layer): the raw bytes become a blob, the tar is unpacked
 * into a staging directory (whiteouts and opaque directories converted to overlayfs' form,
 * nothing written outside it) and renamed into place.  With expected_diff_id, a stream whose
 * uncompressed sha256 differs is refused (EINVAL) and leaves nothing.  The blob and the layer are
 * added to lease (required: they are garbage until an image uses them).  When the layer exists
 * already, the stream is still read and checked and the existing layer is kept.  *ret may be NULL.
 */
int berth_layer_create(struct berth_image_store *s, int fd, const char *parent,
		       const char *expected_diff_id, struct berth_image_lease *lease,
		       const struct berth_image_progress_cb *progress,
		       struct berth_layer_info **ret, struct berth_error **err);

/*
 * A layer in two steps, so that layers can be unpacked in parallel and stacked in order: unpack
 * a blob already in the store (a pull downloads the compressed layer as a blob first, verified
 * against its digest) into a staging directory, needing no parent -- the blob is read, hashed
 * again, and its uncompressed sha256 must be expected_diff_id (EINVAL otherwise) -- then commit
 * it on top of parent (NULL: a bottom layer), which must exist by then: its chain id is computed,
 * the tree synced and renamed into place (a layer of that chain id made meanwhile is kept
 * instead).  The blob, and the layer once committed, are held by lease.  Progress reports
 * "Extracting" with the blob's size as total.  A staged layer freed without commit leaves
 * nothing.
 */
struct berth_layer_staged;

int berth_layer_unpack_blob(struct berth_image_store *s, const char *blob_digest,
			    const char *expected_diff_id, struct berth_image_lease *lease,
			    const struct berth_image_progress_cb *progress,
			    struct berth_layer_staged **ret, struct berth_error **err);
int berth_layer_commit(struct berth_image_store *s, struct berth_layer_staged *st,
		       const char *parent, struct berth_image_lease *lease,
		       struct berth_layer_info **ret, struct berth_error **err);
void berth_layer_staged_free(struct berth_layer_staged *st);

/* Both steps at once. */
int berth_layer_create_from_blob(struct berth_image_store *s, const char *blob_digest,
				 const char *parent, const char *expected_diff_id,
				 struct berth_image_lease *lease,
				 const struct berth_image_progress_cb *progress,
				 struct berth_layer_info **ret, struct berth_error **err);

/* The metadata of a layer; ENOENT when there is no such layer. */
int berth_layer_inspect(struct berth_image_store *s, const char *chain_id,
			struct berth_layer_info **ret, struct berth_error **err);

/* ---- images ----------------------------------------------------------------------------- */

/*
 * Add an image whose config blob (digest config_digest = the image id) and layers are in the
 * store: the config is parsed (rootfs.diff_ids; os must be linux), every layer of its chain must
 * exist with the diff id the config names.  parent (NULL: none) is an image id recorded for
 * docker's parent/child rules (ignored when it is not in the store).  Adding an image that exists
 * is not an error.  *ret_id may be NULL.
 */
int berth_image_add(struct berth_image_store *s, const char *config_digest, const char *parent,
		    char **ret_id, struct berth_error **err);

/*
 * Find an image as docker does (GetImage): a full reference or a short name ("busybox" ->
 * docker.io/library/busybox:latest), name@digest, "sha256:<id>", or a unique prefix of an id.
 * *ret_id is "sha256:<hex>".  ENOENT "No such image: busybox:latest" when nothing matches,
 * EINVAL for a malformed reference.
 */
int berth_image_resolve(struct berth_image_store *s, const char *ref_or_id, char **ret_id,
			struct berth_error **err);

/*
 * Tag: target (a name, ":latest" added when untagged) names the image source resolves to, moving
 * the name when it named another image.  Docker's refusals: a digest reference as target, the
 * name "sha256".
 */
int berth_image_tag(struct berth_image_store *s, const char *source, const char *target,
		    struct berth_error **err);

/*
 * Record name@digest for an image, as a pull by digest does (the digest of the manifest the image
 * came from): resolve, inspect's repo_digests and docker's delete rules use it.  name may carry a
 * tag, which is dropped; digest must be sha256; id must be in the store.
 */
int berth_image_set_digest_ref(struct berth_image_store *s, const char *name, const char *digest,
			       const char *id, struct berth_error **err);

/* Remove one reference (name:tag or name@digest); ENOENT when it names nothing. */
int berth_image_untag(struct berth_image_store *s, const char *ref, struct berth_error **err);

struct berth_image_info {
	char *id;	     /* "sha256:<hex>" */
	char *parent;	     /* image id, or NULL */
	char **repo_tags;    /* familiar names ("busybox:latest"), sorted, NULL-terminated */
	char **repo_digests; /* familiar name@digest, sorted, NULL-terminated */
	char **diff_ids;     /* the config's rootfs.diff_ids, bottom first */
	char **layers;	     /* their chain ids, bottom first */
	char *top_layer; /* the last chain id (what a container's root stands on); NULL if none */
	char *created;	 /* the config's "created" as written, or NULL */
	int64_t created_unix; /* the same in seconds since the epoch; 0 when absent or unparsable */
	char *last_tag_time;  /* RFC 3339; NULL when never tagged in this store */
	char *architecture, *os;
	uint64_t size;	      /* sum of the layers' sizes */
	uint64_t config_size; /* bytes of the config blob */
};

void berth_image_info_free(struct berth_image_info *i);
void berth_image_info_list_free(struct berth_image_info **v, size_t n);

int berth_image_inspect(struct berth_image_store *s, const char *ref_or_id,
			struct berth_image_info **ret, struct berth_error **err);

/* Every image, sorted by id. */
int berth_image_list(struct berth_image_store *s, struct berth_image_info ***ret, size_t *ret_n,
		     struct berth_error **err);

/* The number of images in the index (docker info's Images). */
size_t berth_image_count(struct berth_image_store *s);

/* The parsed config blob of an image id (a new reference; json_decref it). */
int berth_image_config(struct berth_image_store *s, const char *id, json_t **ret,
		       struct berth_error **err);

struct berth_image_history {
	char *id; /* the image id for this image and its recorded parents, else "<missing>" */
	int64_t created;
	char *created_by;
	char *comment;
	char **tags; /* familiar name:tag of id, NULL-terminated (empty for "<missing>") */
	uint64_t size;
};

/* The config's history, newest first, with layer sizes, as docker's /images/{name}/history. */
int berth_image_history(struct berth_image_store *s, const char *ref_or_id,
			struct berth_image_history **ret, size_t *ret_n, struct berth_error **err);
void berth_image_history_free(struct berth_image_history *h, size_t n);

/* What the containers use, as the caller knows it. */
enum berth_image_use {
	BERTH_IMAGE_USED_BY_ANY,
	BERTH_IMAGE_USED_BY_RUNNING,
	BERTH_IMAGE_USED_BY_STOPPED,
};

struct berth_image_users {
	/*
	 * Does a container (in the state `which`) use image_id?  Return 1 and a malloc'd container
	 * id in *ret_container_id, 0 for none, or a negative errno.  NULL: no container uses any.
	 */
	int (*find)(void *userdata, const char *image_id, enum berth_image_use which,
		    char **ret_container_id);
	void *userdata;
	/* top chain ids (berth_image_info.top_layer) of every container's root; NULL-terminated */
	const char *const *held_layers;
};

enum berth_image_deleted_kind {
	BERTH_IMAGE_UNTAGGED, /* value: a familiar reference ("busybox:latest") */
	BERTH_IMAGE_DELETED,  /* value: an image id, or a layer's chain id */
};

struct berth_image_deleted {
	enum berth_image_deleted_kind kind;
	char *value;
};

void berth_image_deleted_free(struct berth_image_deleted *d, size_t n);

#define BERTH_IMAGE_DELETE_FORCE    (1u << 0) /* docker's force=1 */
#define BERTH_IMAGE_DELETE_NO_PRUNE (1u << 1) /* docker's noprune=1: keep untagged parents */

/*
 * docker rmi: a name untags (and deletes the image when that was its last reference and no
 * container uses it); an id deletes the image with its references.  Conflicts are EBUSY with
 * Docker's message: a container (even stopped) uses the image and force was not given; a
 * running container uses it (even with force); it has child images; an id given for an image
 * that several repositories reference, without force.  Removed layers and blobs go with the
 * image (those still used by other images or held layers stay).  *ret lists what happened in
 * docker's order (Untagged..., Deleted: id, Deleted: layer chain ids).
 */
int berth_image_delete(struct berth_image_store *s, const char *ref_or_id, unsigned flags,
		       const struct berth_image_users *users, struct berth_image_deleted **ret,
		       size_t *ret_n, struct berth_error **err);

/*
 * docker image prune: dangling images (no tag), or with all every image no container uses;
 * filter (may be NULL) keeps an image out when it returns false (until=, label=).  Images with
 * children are left to their children's turn.  *ret_reclaimed is the bytes of the layers removed.
 */
int berth_image_prune(struct berth_image_store *s, bool all,
		      bool (*filter)(void *userdata, const struct berth_image_info *info,
				     json_t *config),
		      void *filter_userdata, const struct berth_image_users *users,
		      struct berth_image_deleted **ret, size_t *ret_n, uint64_t *ret_reclaimed,
		      struct berth_error **err);

/*
 * Remove every layer and blob nothing uses (see "Garbage" at the top).  berthd calls this once
 * at start, after it knows its containers.  *ret_removed (may be NULL) counts what went.
 */
int berth_image_gc(struct berth_image_store *s, const struct berth_image_users *users,
		   size_t *ret_removed, struct berth_error **err);

/* ---- load, save, import ----------------------------------------------------------------- */

struct berth_image_loaded {
	char *id;
	size_t n_tags;
	char **tags;	     /* full references ("docker.io/library/busybox:latest") */
	char **previous_ids; /* n_tags entries: the image a tag named before, or NULL */
};

struct berth_image_load_result {
	struct berth_image_loaded *images;
	size_t n_images;
};

void berth_image_load_result_release(struct berth_image_load_result *r);

/*
 * docker load: read an archive from fd (a stream; plain, gzip or zstd) to its end.  Accepted:
 * a docker-archive (manifest.json, with its config and layer files in any order; docker's
 * `<id>/layer.tar` links included), the docker 25+ form (the same plus index.json, oci-layout,
 * blobs/), and a plain OCI image layout (index.json + blobs/, nested indexes by platform).  Every
 * blob named by digest is checked, every layer's uncompressed sha256 against the config's
 * rootfs.diff_ids.  progress (may be NULL) reports each layer unpacked (a layer the store has
 * already is only checked, and reported not at all, as docker does).  All or nothing: on any
 * error the store is as before (EINVAL for a malformed, truncated or mismatching archive, with
 * context: "load: layer 'sha256:...': diff id mismatch: ...").  *ret is released with
 * berth_image_load_result_release().
 */
int berth_image_load(struct berth_image_store *s, int fd,
		     const struct berth_image_progress_cb *progress,
		     struct berth_image_load_result *ret, struct berth_error **err);

/*
 * docker save: write a docker-archive of the named images (names as docker's: a name without a
 * tag takes every tag of that repository, an id saves the image untagged) to out_fd as a stream:
 * blobs/sha256/ (configs, uncompressed layer tars, OCI manifests), index.json, manifest.json,
 * oci-layout, repositories, in that order.  The same images give the same bytes.  Errors before
 * the first byte leave out_fd untouched (names are resolved first); an error while streaming
 * leaves a truncated archive, which the caller must discard.
 */
int berth_image_save(struct berth_image_store *s, char *const *names, int out_fd,
		     struct berth_error **err);

/*
 * docker import: a root filesystem tar (plain, gzip or zstd) read from fd becomes a one-layer
 * image.  config is the image config the caller made (architecture, os, config, history ...; not
 * modified); its rootfs is set to the new layer.  ref (NULL: none) tags the result.  All or
 * nothing.  *ret_id may be NULL.
 */
int berth_image_import(struct berth_image_store *s, int fd, const json_t *config, const char *ref,
		       const struct berth_image_progress_cb *progress, char **ret_id,
		       struct berth_error **err);

/* ---- a container's root filesystem ------------------------------------------------------ */

/*
 * Paths of the overlay for a container whose directory is container_dir, standing on the layer
 * top_layer (a chain id; NULL for an image without layers): lower_dir is the layers' diff
 * directories joined with ':' topmost first (docker's GraphDriver.Data.LowerDir); upper_dir,
 * work_dir, merged_dir are container_dir/upper, /work, /merged.
 */
struct berth_rootfs_paths {
	char *lower_dir;
	char *upper_dir;
	char *work_dir;
	char *merged_dir;
};

int berth_rootfs_paths(struct berth_image_store *s, const char *top_layer,
		       const char *container_dir, struct berth_rootfs_paths *ret,
		       struct berth_error **err);
void berth_rootfs_paths_release(struct berth_rootfs_paths *p);

/* Use the mount(2) path (short links, relative lowerdir list) even where lowerdir+ exists. */
#define BERTH_ROOTFS_LEGACY_MOUNT (1u << 0)

/*
 * Create container_dir/{upper,work,merged} (when missing) and mount overlayfs on merged with the
 * layers of top_layer read-only below and upper as the writable layer (index=off,
 * redirect_dir=off, metacopy=off, so upper/ is always a faithful diff).  Any number of layers up
 * to overlayfs' own 500: kernels >= 6.8 get one fsconfig("lowerdir+") per layer; older ones (and
 * those before 6.5, whose overlayfs is behind the VFS's legacy wrapper of the new mount API)
 * mount from a child process that changed to container_dir, with short links
 * container_dir/l/<n> so the option string fits one page.  EBUSY when merged is already a mount point.
 */
int berth_rootfs_mount(struct berth_image_store *s, const char *top_layer,
		       const char *container_dir, unsigned flags, struct berth_error **err);

/* Unmount container_dir/merged (lazily); not mounted is not an error. */
int berth_rootfs_unmount(const char *container_dir, struct berth_error **err);

/* Unmount, then remove upper, work, merged and l (and empty) from container_dir. */
int berth_rootfs_remove(const char *container_dir, struct berth_error **err);

/* ---- tar streams ------------------------------------------------------------------------ */

/* Convert .wh.<name> to a 0:0 character device and .wh..wh..opq to the opaque xattr. */
#define BERTH_TAR_WHITEOUTS (1u << 0)
/* Do not restore owners (an unprivileged caller): files belong to the caller. */
#define BERTH_TAR_NO_OWNERS (1u << 1)
/* The opaque xattr is user.overlay.opaque (overlayfs' userxattr mode), not trusted.overlay.opaque */
#define BERTH_TAR_USER_XATTR (1u << 2)
/* No sha256 of the stream (a tree unpacked to be read and thrown away): stats' diff_id is "" */
#define BERTH_TAR_NO_DIGEST (1u << 3)

struct berth_tar_stats {
	uint64_t entries;  /* tar entries applied */
	uint64_t size;	   /* bytes of files (hard links once), as docker's layer size */
	uint64_t tar_size; /* bytes of the uncompressed tar */
	char diff_id[BERTH_DIGEST_SIZE]; /* sha256 of the uncompressed tar */
};

/*
 * Unpack a tar stream (plain, gzip or zstd) read from fd into the directory dirfd, which is
 * treated as "/": names are cleaned ("./a", "/a" -> "a"), a name that climbs above the root
 * ("../x") is refused, and every path is resolved inside dirfd (openat2 RESOLVE_IN_ROOT, or a
 * component walk on kernels without it), so symlinks in the tree (an entry "a -> /etc", then
 * "a/passwd") never lead out of it; hard links must name an entry inside.  An existing entry of
 * another type is replaced; directories keep their contents.  Whiteouts need
 * BERTH_TAR_WHITEOUTS; without it they are ordinary files.  Owners, modes (setuid too), times
 * and xattrs (not overlayfs' own) are restored.  limits may be NULL (defaults).  On error what
 * was written so far stays: unpack into a directory you can throw away.
 */
int berth_tar_apply(int dirfd, int fd, unsigned flags, const struct berth_image_limits *limits,
		    struct berth_tar_stats *ret, struct berth_error **err);

/*
 * Write an uncompressed tar of the overlay upper directory dirfd to out_fd: 0:0 character
 * devices become .wh.<name>, directories with the opaque xattr get a .wh..wh..opq entry after
 * them.  Entries in byte order of their names, depth first, hard links as links to the first
 * name, times in whole seconds, owners numeric, security.capability kept: the same tree gives
 * the same bytes.  Sockets are skipped (tar has no type for them).
 */
int berth_tar_write_diff(int dirfd, int out_fd, unsigned flags, struct berth_error **err);

/* The same walk without whiteout conversion: a plain tar of a whole tree (docker export). */
int berth_tar_write_dir(int dirfd, int out_fd, struct berth_error **err);

/*
 * A plain tar of one entry of dirfd (never followed) and, for a directory, its tree, the entry
 * named `as` in the tar ("b" -> "b/", "b/x"; "." -> "./", "./x"), as docker's archive of a
 * container path (TarResourceRebase).  The walk stays on the entry's filesystem.  A file that is
 * swapped for something else while it is read (a running container) is an error (EAGAIN), never
 * read through: no FIFO blocks the walk and no device node is read from the host's side.
 */
int berth_tar_write_path(int dirfd, const char *name, const char *as, int out_fd,
			 struct berth_error **err);

/*
 * Unpacking into a tree that someone else may change at the same time (docker cp into a
 * container's root).  The tar is read twice from fd (a file: seekable): first every entry is
 * checked -- names and hard link targets that leave the root, types that cannot be written --
 * so a hostile archive is refused before anything is written; then it is applied as
 * berth_tar_apply does (parents resolved inside dirfd with openat2, made with mkdirat on a
 * parent resolved the same way, the last component never followed), without whiteouts, the
 * entry "." (the extraction point) left alone.
 */
struct berth_tar_apply_opts {
	unsigned flags; /* BERTH_TAR_NO_OWNERS */
	const struct berth_image_limits *limits;
	bool no_overwrite_dir_non_dir; /* docker's NoOverwriteDirNonDir: refuse to replace a
					  directory by a non-directory or the reverse */
	bool chown;		       /* every entry owned by uid:gid (docker cp -a, ChownOpts) */
	/* non-NULL: a name leaving the root is refused in docker's words, "\"../x\" is outside of
	   \"<dest_name>\"" */
	const char *dest_name;
	uid_t uid;
	gid_t gid;
};

int berth_tar_apply_into(int dirfd, int fd, const struct berth_tar_apply_opts *opts,
			 struct berth_tar_stats *ret, struct berth_error **err);

/*
 * Open path inside the directory rootfd as if rootfd were "/": openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS), so ".." and symlinks (absolute or relative, swapped in at any moment)
 * never lead out; flags as openat's (O_NOFOLLOW: the last component not followed, O_PATH).
 * Kernels without openat2 (< 5.6) get a walk of one component at a time, which is not
 * race-free against a concurrent writer.  Errors are the errno of the lookup ("open 'x': No such
 * file or directory").
 */
int berth_open_in_root(int rootfd, const char *path, int flags, int *ret_fd,
		       struct berth_error **err);

/* ---- a container's writable layer (docs/image-store.md, "Changes") ---------------------- */

/* docker's archive.ChangeType values, as /containers/{id}/changes sends them */
enum berth_change_kind {
	BERTH_CHANGE_MODIFY = 0,
	BERTH_CHANGE_ADD = 1,
	BERTH_CHANGE_DELETE = 2,
};

struct berth_change {
	char *path; /* "/etc/passwd" */
	enum berth_change_kind kind;
};

/*
 * The changes an overlay upper directory (upper_fd) makes to the layers of top_layer (NULL: no
 * layers), as docker's /changes lists them (archive.OverlayChanges): depth first in byte order
 * of names; a 0:0 character device is a deletion, so is an opaque directory that exists below;
 * a path that exists in a layer below is modified, else added; a directory equal to the one
 * below in size, mode and mtime is left out, and the parent of an added or deleted path is
 * listed as modified before it when nothing listed it yet.  Free with berth_changes_free().
 */
int berth_changes_list(struct berth_image_store *s, const char *top_layer, int upper_fd,
		       struct berth_change **ret, size_t *ret_n, struct berth_error **err);
void berth_changes_free(struct berth_change *v, size_t n);

/*
 * The upper directory upper_fd written as a layer on top of parent (a chain id; NULL: a bottom
 * layer): its tar in the OCI form (berth_tar_write_diff: .wh.<name>, .wh..wh..opq), written
 * whole into the store's tmp/ first, then stored as a blob and unpacked as berth_layer_create
 * does, held by lease.  An upper directory with no changes makes no layer: *ret is NULL (docker
 * then records an empty_layer history row).  Stop writers to the directory first (pause the
 * container): a file changed mid-way gives a layer of a mixed state.
 */
int berth_layer_create_from_diff(struct berth_image_store *s, int upper_fd, const char *parent,
				 struct berth_image_lease *lease, struct berth_layer_info **ret,
				 struct berth_error **err);
