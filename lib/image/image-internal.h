/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Shared by the files of lib/image (and by tests/unit/test-image.c and the fuzz targets): the
 * store's insides, sha256 streaming, the tar reading pipeline, whiteout names, and the parsers
 * of archive documents.  Nothing here is part of the public API.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "image.h"

struct archive;

/* ---- defaults --------------------------------------------------------------------------- */

#define IMG_DEFAULT_MAX_JSON	(8ull << 20)
#define IMG_DEFAULT_MAX_LAYER	(64ull << 30)
#define IMG_DEFAULT_MAX_ARCHIVE (256ull << 30)
#define IMG_DEFAULT_MAX_LAYERS	500
#define IMG_DEFAULT_MAX_ENTRIES 1000000
#define IMG_DEFAULT_MAX_IMAGES	1000
#define IMG_DEFAULT_MAX_PATH	4096
#define IMG_MAX_XATTR_BYTES	(1u << 20) /* all xattrs of one entry */
#define IMG_MAX_INDEX_SIZE	(256ull << 20)

/* limits with every zero field replaced by its default */
void img_limits_fill(struct berth_image_limits *out, const struct berth_image_limits *in);

/*
 * The error for a libarchive constructor (archive_read_new ...) that returned NULL: "cannot
 * load 'libarchive.so.13': ..." when the library is not there (archive-dl.c), else out of
 * memory.  Returns the negative errno.
 */
int img_archive_new_failed(struct berth_error **err);

/* ---- sha256 ----------------------------------------------------------------------------- */

struct img_sha256 {
	void *ctx; /* SHA256_CTX */
};

int img_sha256_init(struct img_sha256 *h);
void img_sha256_update(struct img_sha256 *h, const void *data, size_t len);
void img_sha256_final(struct img_sha256 *h, char out[BERTH_DIGEST_SIZE]);
void img_sha256_release(struct img_sha256 *h);

bool img_is_hex64(const char *s);

/* The names in directory dirfd but "." and "..", sorted by bytes: *ret (n of them, each and the
 * array malloc'd); -errno. */
int img_dir_names(int dirfd, char ***ret, size_t *ret_n);

/* A 64-hex string: docker's anchoredIdentifierRegexp (refused as a repository name). */
bool img_is_identifier(const char *s);

/* "docker.io/library/busybox:latest" -> "busybox:latest" (the input copied when unparsable). */
char *img_familiar_string(const char *full);

/* ---- the store -------------------------------------------------------------------------- */

struct berth_image_store {
	char *root;
	int rootfd;
	int lockfd;
	struct berth_image_limits limits;
	pthread_mutex_t lock;
	/*
	 * The index as on disk (images.json): {"version":1, "images": {id: {"layers": [...],
	 * "parent": id, "last_tag_time": ...}}, "references": {full ref: id}}.  Replaced whole,
	 * under lock, only after the new file is written.
	 */
	json_t *index;
	/* chain id -> {"diff_id","parent","blob","size","tar_size"}: the layers on disk */
	json_t *layers;
	/* digest or chain id -> number of leases holding it */
	json_t *leases;
	uint64_t seq; /* for unique temporary names, under lock */
};

struct berth_image_lease {
	struct berth_image_store *store;
	json_t *held;	 /* key -> true */
	json_t *created; /* key -> "blob" | "layer": made under this lease */
};

/* Mark key as created under the lease (and hold it); 0 or -ENOMEM.  Takes the store lock. */
int img_lease_add_created(struct berth_image_lease *l, const char *key, const char *kind);
/* The same two with s->lock already held. */
int img_lease_hold_locked(struct berth_image_lease *l, const char *key);
int img_lease_created_locked(struct berth_image_lease *l, const char *key, const char *kind);

/*
 * berth_layer_create with the progress action and total given (load: "Loading layer" and the
 * blob's size).  With blob_digest, fd reads that blob, already in the store (and held): it is
 * not copied again, only checked.
 */
int img_layer_create(struct berth_image_store *s, int fd, const char *blob_digest,
		     const char *parent, const char *expected_diff_id,
		     struct berth_image_lease *lease,
		     const struct berth_image_progress_cb *progress, const char *action,
		     uint64_t total, struct berth_layer_info **ret, struct berth_error **err);

/* images.c, for load and import: add an image to a working copy of the index (s->lock held). */
int img_image_add_to(struct berth_image_store *s, json_t *idx, const char *id, char **chains,
		     char **diff_ids, const char *parent, struct berth_error **err);
/*
 * Point ref at id in idx; 0 or -ENOMEM.  stamp: set the image's last tag time (docker tag and
 * import with a name do, docker load does not).
 */
int img_set_ref(json_t *idx, const char *ref, const char *id, bool stamp);
/* A tag target checked as docker does, normalised with ":latest" added. */
int img_tag_target(const char *target, char **ret, struct berth_error **err);

/* The tar flags the store unpacks layers with: owners restored only as root. */
unsigned img_layer_apply_flags(void);

/* A unique name for a temporary file or directory: prefix + pid + counter + random. */
char *img_temp_name(struct berth_image_store *s, const char *prefix);

/* Write the index whole (tmp + fsync + rename) and swap it in; call with s->lock held. */
int img_index_commit(struct berth_image_store *s, json_t *new_index, struct berth_error **err);

/* The record of an image id, borrowed, or NULL; call with s->lock held. */
json_t *img_index_image(struct berth_image_store *s, const char *id);

/*
 * Remove unused layers and blobs; call with s->lock held.  removed (may be NULL) gets a key
 * "layer:<chain id>" or "blob:<digest>" for each.  Trash dirs are removed after, unlocked.
 */
int img_gc_locked(struct berth_image_store *s, const char *const *held_layers, json_t *removed,
		  struct berth_error **err);
void img_empty_trash(struct berth_image_store *s);

/* A layer.json record. */
json_t *img_layer_record(const char *chain_id, const char *diff_id, const char *parent,
			 const char *blob, uint64_t size, uint64_t tar_size);

/* The layers of chain id top, bottom first, as a new array of chain ids; -ENOENT if absent. */
int img_layer_chain_locked(struct berth_image_store *s, const char *top, json_t **ret);

/* A blob's path relative to the data root: "blobs/sha256/<hex>". */
int img_blob_relpath(const char *digest, char *buf, size_t size);

/* Move an existing file (same filesystem) in as the blob digest, fsync'd; kept if present. */
int img_blob_adopt(struct berth_image_store *s, int dirfd, const char *name, const char *digest,
		   struct berth_image_lease *lease, struct berth_error **err);

/* ---- reading tar streams ---------------------------------------------------------------- */

/*
 * The pipeline that reads a layer: raw bytes from fd (hashed: the blob digest; optionally copied
 * to a blob writer) -> decompression (gzip, zstd or none, detected by libarchive) -> tar bytes
 * (hashed: the diff id; counted against max_layer_size) -> the tar reader.
 */
struct img_tar_stream {
	int fd;
	struct img_sha256 raw_hash;
	struct img_sha256 tar_hash;
	uint64_t raw_bytes;
	uint64_t tar_bytes;
	uint64_t max_tar_bytes;
	struct berth_blob_writer *tee; /* may be NULL */
	struct archive *decomp;
	struct archive *tar;
	const struct berth_image_progress_cb *progress;
	struct berth_image_progress prog;
	uint64_t prog_last;
	char prog_id[16];
	int io_error; /* a -errno from read(2) or the tee */
	bool too_big;
	bool no_hash; /* set before open: no digests wanted (docker cp's tars), saves two sha256 */
	char *buf;    /* two halves: raw bytes in, uncompressed bytes out */
	char raw_digest[BERTH_DIGEST_SIZE]; /* after drain */
	char tar_digest[BERTH_DIGEST_SIZE];
};

/*
 * Open the pipeline on fd; with tar, ts->tar reads entries, else img_tar_stream_read() gives the
 * uncompressed bytes.  Set tee, progress and prog before; they are kept.
 */
int img_tar_stream_open(struct img_tar_stream *ts, int fd, uint64_t max_tar_bytes, bool tar,
			struct berth_error **err);
/* Up to size uncompressed bytes (hashed, counted); 0 at the end, -1 on error (see _error). */
ssize_t img_tar_stream_read(struct img_tar_stream *ts, void *out, size_t size);
/*
 * Read to the end of both streams, hashing what the tar reader left (padding, trailing data),
 * and fill raw_digest and tar_digest.
 */
int img_tar_stream_drain(struct img_tar_stream *ts, struct berth_error **err);
void img_tar_stream_close(struct img_tar_stream *ts);
/* The libarchive error of the stream as an error (wrapped with what), honouring io errors. */
int img_tar_stream_error(struct img_tar_stream *ts, struct archive *a, const char *what,
			 struct berth_error **err);

/* Report progress: throttled, or now when force (a layer's start and end). */
void img_progress(struct img_tar_stream *ts, bool force);

/* Apply the entries of an opened stream into dirfd (berth_tar_apply without the stream set-up). */
int img_tar_apply_stream(int dirfd, struct img_tar_stream *ts, unsigned flags,
			 const struct berth_image_limits *limits, struct berth_tar_stats *ret,
			 struct berth_error **err);

/* An archive writer to an fd (pax restricted, no padding of the last block), for save and tars. */
struct img_tar_writer {
	struct archive *a;
	int fd;
	int io_error;
	uint64_t bytes;
};

int img_tar_writer_open(struct img_tar_writer *w, int fd, struct berth_error **err);
int img_tar_writer_error(struct img_tar_writer *w, const char *what, struct berth_error **err);
/* Write the end of the archive; then release. */
int img_tar_writer_close(struct img_tar_writer *w, struct berth_error **err);
void img_tar_writer_release(struct img_tar_writer *w);

/* ---- whiteouts -------------------------------------------------------------------------- */

enum img_whiteout {
	IMG_WH_NONE,	/* an ordinary name */
	IMG_WH_FILE,	/* .wh.<name>: *ret_target is <name> */
	IMG_WH_OPAQUE,	/* .wh..wh..opq */
	IMG_WH_META,	/* another .wh..wh.* (aufs bookkeeping): skipped */
	IMG_WH_INVALID, /* ".wh." alone, ".wh..", ".wh..." */
};

/* Classify the last component of a tar name. */
enum img_whiteout img_whiteout_classify(const char *base, const char **ret_target);

/*
 * Clean a tar entry name into a relative path without "." or empty components: leading '/'
 * dropped, ".." applied.  -EINVAL when ".." climbs above the root.  "" is the root itself.
 */
int img_clean_path(const char *name, char **ret);

/* ---- archive documents ------------------------------------------------------------------ */

/* One entry of a docker-archive manifest.json. */
struct img_archive_item {
	char *config;	  /* path inside the archive */
	char **repo_tags; /* as written ("busybox:latest"), NULL-terminated */
	char **layers;	  /* paths inside the archive */
	char *parent;	  /* "sha256:..." or NULL */
};

void img_archive_items_free(struct img_archive_item *items, size_t n);

/* Parse manifest.json; EINVAL with the field at fault. */
int img_parse_docker_manifest(const char *data, size_t len, const struct berth_image_limits *lim,
			      struct img_archive_item **ret, size_t *ret_n,
			      struct berth_error **err);

struct img_descriptor {
	char *media_type;
	char *digest;
	int64_t size;
	char *name; /* io.containerd.image.name, or a full org.opencontainers.image.ref.name */
	char *platform_os, *platform_arch, *platform_variant;
};

void img_descriptor_release(struct img_descriptor *d);
void img_descriptors_free(struct img_descriptor *d, size_t n);

/* An OCI index (index.json or a nested one): its manifests. */
int img_parse_oci_index(const char *data, size_t len, const struct berth_image_limits *lim,
			struct img_descriptor **ret, size_t *ret_n, struct berth_error **err);

/* An OCI or docker v2 image manifest: config and layers. */
int img_parse_oci_manifest(const char *data, size_t len, const struct berth_image_limits *lim,
			   struct img_descriptor *ret_config, struct img_descriptor **ret_layers,
			   size_t *ret_n, struct berth_error **err);

/* What the store needs of an image config. */
struct img_config {
	json_t *json;
	char **diff_ids; /* NULL-terminated */
	size_t n_diff_ids;
	const char *os, *architecture, *created; /* borrowed from json */
};

void img_config_release(struct img_config *c);

/* Parse a config: an object, rootfs.type "layers", rootfs.diff_ids sha256 digests, os linux. */
int img_parse_config(const char *data, size_t len, const struct berth_image_limits *lim,
		     struct img_config *ret, struct berth_error **err);

/* "2024-01-02T03:04:05.123Z" and offsets -> seconds; -EINVAL when it is not RFC 3339. */
int img_parse_rfc3339(const char *s, int64_t *ret);

/* The platform this machine runs images of: "amd64", "arm64", ... */
const char *img_host_arch(void);
