/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Push: every layer's blob (as the store keeps it: the compressed blob a pull brought, or the
 * tar a load or commit made) and the config, unless the registry has it; a blob the image's
 * other repository on the same registry has is mounted from there; the rest is uploaded whole
 * (POST, then PUT ?digest=) or, past REG_PUSH_CHUNK bytes, in PATCH chunks (Content-Range, each
 * to the Location the last answer gave) closed by an empty PUT ?digest=.  Then the manifest
 * under the tag.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry-internal.h"

#include "base/banned.h"

void berth_registry_push_result_release(struct berth_registry_push_result *r)
{
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

struct push {
	struct berth_registry *r;
	struct berth_image_store *store;
	struct reg_session *sess;
	const struct berth_registry_progress_cb *progress;
	const char *mount_from; /* another repository of the same registry, or NULL */
};

enum compression { COMP_NONE, COMP_GZIP, COMP_ZSTD };

static enum compression sniff(int fd)
{
	unsigned char m[4] = {0};

	if (pread(fd, m, sizeof(m), 0) != (ssize_t)sizeof(m))
		return COMP_NONE;
	if (m[0] == 0x1f && m[1] == 0x8b)
		return COMP_GZIP;
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return COMP_ZSTD;
	return COMP_NONE;
}

static char *absolute(struct push *p, const char *location)
{
	char *out;

	if (strstr(location, "://"))
		return strdup(location);
	if (asprintf(&out, "%s%s%s", p->sess->base, location[0] == '/' ? "" : "/", location) < 0)
		return NULL;
	return out;
}

static int push_error(const struct reg_response *resp, const char *what, struct berth_error **err)
{
	_cleanup_free_ char *code = NULL;
	_cleanup_free_ char *t = reg_error_text(resp, &code);

	if ((code && (!strcmp(code, "DENIED") || !strcmp(code, "UNAUTHORIZED"))) ||
	    (!code && (resp->status == 401 || resp->status == 403)))
		return berth_error_set(err, EACCES, "%s", t ? t : "denied");
	return berth_error_set(err, EIO, "%s: %s", what, t ? t : "error");
}

struct up_progress {
	struct push *p;
	const char *id;
	uint64_t total, reported;
	uint64_t base; /* bytes sent by the chunks before this request */
};

static void on_upload(void *userdata, uint64_t sent)
{
	struct up_progress *u = userdata;

	sent += u->base;
	if (!u->id || (sent - u->reported < (512u << 10) && sent != u->total))
		return;
	u->reported = sent;
	reg_progress(u->p->progress, "Pushing", u->id, sent, u->total);
}

/*
 * A large blob in chunks: PATCH each REG_PUSH_CHUNK bytes with its Content-Range to the upload's
 * latest Location (the registry's Range must then cover all sent so far); *loc becomes the
 * Location the final PUT goes to.
 */
static int push_chunks(struct push *p, char **loc, int fd, uint64_t size, struct up_progress *up,
		       struct berth_error **err)
{
	for (uint64_t off = 0; off < size;) {
		uint64_t n = size - off < REG_PUSH_CHUNK ? size - off : REG_PUSH_CHUNK;
		char range[64], want[64];
		const char *headers[] = {range, "Content-Type: application/octet-stream", NULL};
		struct reg_request q = {.method = "PATCH",
					.url = *loc,
					.headers = headers,
					.body_fd = fd,
					.body_fd_offset = off,
					.body_fd_size = n,
					.max_body = 64 << 10,
					.upload_progress = on_upload,
					.upload_userdata = up};
		struct reg_response resp = {0};
		int r;

		snprintf(range, sizeof(range), "Content-Range: %" PRIu64 "-%" PRIu64, off,
			 off + n - 1);
		up->base = off;
		r = reg_send(p->sess, &q, &resp, err);
		if (r < 0)
			return r;
		snprintf(want, sizeof(want), "0-%" PRIu64, off + n - 1);
		if (resp.status != 202 || !resp.location) {
			r = push_error(&resp, "upload a chunk", err);
			reg_response_release(&resp);
			return r;
		}
		if (resp.range && strcmp(resp.range, want) != 0) {
			r = berth_error_set(err, EIO,
					    "upload a chunk: the registry has bytes %s, not %s",
					    resp.range, want);
			reg_response_release(&resp);
			return r;
		}
		char *next = absolute(p, resp.location);
		reg_response_release(&resp);
		if (!next)
			return berth_error_set(err, ENOMEM, "out of memory");
		free(*loc);
		*loc = next;
		off += n;
	}
	up->base = 0;
	return 0;
}

/*
 * Make sure the registry has the blob: 1 when it had it ("Layer already exists"), 2 when it was
 * mounted, 0 when uploaded.
 */
static int push_blob(struct push *p, const char *digest, int fd, uint64_t size, const char *id,
		     struct berth_error **err)
{
	_cleanup_free_ char *url = NULL, *put = NULL, *loc = NULL;
	struct reg_response resp = {0};
	struct reg_request q = {.method = "HEAD", .body_fd = -1, .follow = true};
	struct up_progress up = {p, id, size, 0};
	int r;

	if (asprintf(&url, "/v2/%s/blobs/%s", p->sess->repo, digest) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	q.url = url;
	r = reg_send(p->sess, &q, &resp, err);
	if (r < 0)
		return r;
	if (resp.status == 200) {
		reg_response_release(&resp);
		return 1;
	}
	reg_response_release(&resp);

	free(url);
	url = NULL;
	if (p->mount_from) {
		if (asprintf(&url, "/v2/%s/blobs/uploads/?mount=%s&from=%s", p->sess->repo, digest,
			     p->mount_from) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	} else if (asprintf(&url, "/v2/%s/blobs/uploads/", p->sess->repo) < 0) {
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.url = url;
	q.body_fd = -1;
	q.max_body = 64 << 10;
	r = reg_send(p->sess, &q, &resp, err);
	if (r < 0)
		return r;
	if (resp.status == 201 && p->mount_from) {
		reg_response_release(&resp);
		return 2;
	}
	if (resp.status != 202 || !resp.location) {
		r = push_error(&resp, "start an upload", err);
		reg_response_release(&resp);
		return r;
	}
	loc = absolute(p, resp.location);
	reg_response_release(&resp);
	if (!loc)
		return berth_error_set(err, ENOMEM, "out of memory");
	bool chunked = size > REG_PUSH_CHUNK;
	if (chunked) {
		r = push_chunks(p, &loc, fd, size, &up, err);
		if (r < 0)
			return r;
	}
	if (asprintf(&put, "%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', digest) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");

	/* monolithic: the whole blob with the PUT; chunked: the PUT only closes the upload */
	memset(&q, 0, sizeof(q));
	q.method = "PUT";
	q.url = put;
	q.body_fd = chunked ? -1 : fd;
	q.body_fd_size = chunked ? 0 : size;
	q.max_body = 64 << 10;
	q.upload_progress = on_upload;
	q.upload_userdata = &up;
	r = reg_send(p->sess, &q, &resp, err);
	if (r < 0)
		return r;
	if (resp.status != 201) {
		r = push_error(&resp, "upload", err);
		reg_response_release(&resp);
		return r;
	}
	reg_response_release(&resp);
	return 0;
}

/* Another repository of the same registry this image has a name in. */
static char *mount_source(const struct berth_image_info *info, const struct berth_reference *to)
{
	char *const *lists[2] = {info->repo_digests, info->repo_tags};

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			_cleanup_reference_ struct berth_reference *rf = NULL;
			if (berth_reference_parse(lists[l][i], &rf, NULL) < 0)
				continue;
			if (strcmp(rf->domain, to->domain) == 0 && strcmp(rf->path, to->path) != 0)
				return strdup(rf->path);
		}
	return NULL;
}

int berth_registry_push(struct berth_registry *r, struct berth_image_store *s, const char *ref,
			const struct berth_registry_auth *auth,
			const struct berth_registry_progress_cb *progress,
			struct berth_registry_push_result *ret, struct berth_error **err)
{
	_cleanup_reference_ struct berth_reference *rf = NULL;
	_cleanup_free_ char *name = NULL, *full = NULL, *scope = NULL, *mscope = NULL;
	_cleanup_free_ char *from = NULL, *manifest_text = NULL, *murl = NULL;
	_cleanup_json_ json_t *layers = NULL, *manifest = NULL;
	struct berth_image_info *info = NULL;
	struct push p = {.r = r, .store = s, .progress = progress};
	struct reg_response resp = {0};
	char *scopes[3] = {NULL, NULL, NULL};
	char digest[BERTH_DIGEST_SIZE];
	bool all_gzip = true;
	int rc;

	memset(ret, 0, sizeof(*ret));
	rc = berth_reference_parse(ref, &rf, err);
	if (rc < 0)
		return rc;
	if (rf->digest)
		return berth_error_set(err, EINVAL, "cannot push a digest reference");
	if (berth_reference_default_tag(rf) < 0 || !(name = berth_reference_name(rf)) ||
	    asprintf(&full, "%s:%s", name, rf->tag) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (berth_image_inspect(s, full, &info, NULL) < 0) {
		_cleanup_free_ char *fam = berth_reference_familiar(rf);
		return berth_error_set(err, ENOENT,
				       "An image does not exist locally with the tag: %s",
				       fam ? fam : full);
	}
	from = mount_source(info, rf);
	if (asprintf(&scope, "repository:%s:pull,push", rf->path) < 0 ||
	    (from && asprintf(&mscope, "repository:%s:pull", from) < 0)) {
		berth_image_info_free(info);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	scopes[0] = scope;
	scopes[1] = mscope;
	p.mount_from = from;
	rc = reg_session_open(r, reg_api_host(rf->domain), NULL, rf->path, scopes, auth, &p.sess,
			      err);
	if (rc < 0) {
		berth_image_info_free(info);
		return rc;
	}
	layers = json_array();
	if (!layers) {
		rc = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}

	/* Preparing, top layer first as dockerd shows them */
	for (size_t i = berth_strv_length(info->diff_ids); i-- > 0;) {
		char id[13];
		reg_short_id(info->diff_ids[i], id);
		reg_progress(progress, "Preparing", id, 0, 0);
	}
	for (size_t i = 0; info->layers && info->layers[i]; i++) {
		struct berth_layer_info *li = NULL;
		_cleanup_close_ int fd = -EBADF;
		uint64_t size = 0;
		enum compression c;
		const char *mt;
		char id[13];

		rc = berth_layer_inspect(s, info->layers[i], &li, err);
		if (rc < 0)
			goto out;
		reg_short_id(li->diff_id, id);
		rc = berth_blob_open(s, li->blob, &fd, &size, err);
		if (rc < 0) {
			berth_layer_info_free(li);
			goto out;
		}
		c = sniff(fd);
		all_gzip &= c == COMP_GZIP;
		mt = c == COMP_GZIP   ? MT_OCI_LAYER_GZ
		     : c == COMP_ZSTD ? MT_OCI_LAYER_ZSTD
				      : MT_OCI_LAYER;
		rc = push_blob(&p, li->blob, fd, size, id, err);
		if (rc < 0) {
			berth_error_wrap(err, "layer %s", li->blob);
			berth_layer_info_free(li);
			goto out;
		}
		if (rc == 1) {
			reg_progress(progress, "Layer already exists", id, 0, 0);
		} else if (rc == 2) {
			_cleanup_free_ char *m = NULL;
			if (asprintf(&m, "Mounted from %s", from) >= 0)
				reg_progress(progress, m, id, 0, 0);
		} else {
			reg_progress(progress, "Pushed", id, 0, 0);
		}
		json_array_append_new(layers, json_pack("{s:s,s:I,s:s}", "mediaType", mt, "size",
							(json_int_t)size, "digest", li->blob));
		berth_layer_info_free(li);
	}
	/* the config */
	{
		_cleanup_close_ int fd = -EBADF;
		uint64_t size = 0;
		rc = berth_blob_open(s, info->id, &fd, &size, err);
		if (rc == 0)
			rc = push_blob(&p, info->id, fd, size, NULL, err);
		if (rc < 0) {
			berth_error_wrap(err, "config %s", info->id);
			goto out;
		}
		/* Docker schema 2 when every layer is gzip (what dockerd pushes), OCI otherwise */
		if (all_gzip) {
			json_t *e;
			size_t k;
			json_array_foreach (layers, k, e)
				json_object_set_new(e, "mediaType",
						    json_string(MT_DOCKER_LAYER_GZ));
		}
		manifest =
			json_pack("{s:i,s:s,s:{s:s,s:I,s:s},s:O}", "schemaVersion", 2, "mediaType",
				  all_gzip ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST, "config",
				  "mediaType", all_gzip ? MT_DOCKER_CONFIG : MT_OCI_CONFIG, "size",
				  (json_int_t)size, "digest", info->id, "layers", layers);
	}
	manifest_text =
		manifest ? json_dumps(manifest, JSON_PRESERVE_ORDER | JSON_INDENT(3)) : NULL;
	if (!manifest_text || asprintf(&murl, "/v2/%s/manifests/%s", rf->path, rf->tag) < 0) {
		rc = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	{
		_cleanup_free_ char *ct = NULL;
		const char *hdrs[2] = {NULL, NULL};
		struct reg_request q = {
			.method = "PUT", .url = murl, .body_fd = -1, .max_body = 64 << 10};
		if (asprintf(&ct, "Content-Type: %s",
			     all_gzip ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST) < 0) {
			rc = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		hdrs[0] = ct;
		q.headers = hdrs;
		q.body = manifest_text;
		q.body_len = strlen(manifest_text);
		rc = reg_send(p.sess, &q, &resp, err);
		if (rc < 0)
			goto out;
		if (resp.status != 201 && resp.status != 200) {
			rc = push_error(&resp, "put manifest", err);
			reg_response_release(&resp);
			goto out;
		}
		reg_response_release(&resp);
	}
	berth_sha256_digest(manifest_text, strlen(manifest_text), digest);
	ret->tag = strdup(rf->tag);
	ret->digest = strdup(digest);
	ret->size = strlen(manifest_text);
	if (!ret->tag || !ret->digest) {
		berth_registry_push_result_release(ret);
		rc = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* the name@digest the registry now has, as dockerd records it */
	berth_image_set_digest_ref(s, name, digest, info->id, NULL);
	rc = 0;
out:
	berth_image_info_free(info);
	reg_session_free(p.sess);
	return rc;
}
