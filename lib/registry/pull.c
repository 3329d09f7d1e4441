/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pull: manifest (or index, then the platform's manifest), config, layers.
 *
 * The layers the store lacks are fetched by up to max_parallel threads, each blob streamed into a
 * lib/image blob writer that checks its size and digest as it goes and makes it visible only
 * when whole and right; the same thread then unpacks it into a staging directory (a layer's
 * content does not depend on its parent's), so downloads and unpacking of different layers run
 * side by side.  The pull's own thread stacks the staged layers in order (commit: chain id,
 * sync, rename) as each is ready.  Everything is created under one lease; any error cancels the
 * transfers and rolls the lease back, so a failed pull leaves the store as it found it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry-internal.h"

#include "base/banned.h"

static const char *const accept_headers[] = {
	"Accept: " MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST,
	NULL,
};

void berth_registry_pull_result_release(struct berth_registry_pull_result *r)
{
	free(r->id);
	free(r->digest);
	free(r->name);
	memset(r, 0, sizeof(*r));
}

/* ---- the registry's answers in Docker's words ---------------------------------------------- */

/*
 * dockerd's translatePullError: DENIED, UNAUTHORIZED (and a 401/403 without a body) read "pull
 * access denied"; MANIFEST_UNKNOWN "manifest for x:tag not found"; NAME_UNKNOWN "repository x not
 * found".
 */
static int pull_http_error(const struct reg_response *resp, const char *what, const char *familiar,
			   const char *familiar_ref, struct berth_error **err)
{
	_cleanup_free_ char *code = NULL;
	_cleanup_free_ char *text = reg_error_text(resp, &code);
	const char *t = text ? text : "error";

	if ((code && (strcmp(code, "DENIED") == 0 || strcmp(code, "UNAUTHORIZED") == 0)) ||
	    (!code && (resp->status == 401 || resp->status == 403)))
		return berth_error_set(
			err, EACCES,
			"pull access denied for %s, repository does not exist or may "
			"require 'docker login': %s",
			familiar, t);
	if ((code && strcmp(code, "MANIFEST_UNKNOWN") == 0) || (!code && resp->status == 404))
		return berth_error_set(err, ENOENT, "manifest for %s not found: %s", familiar_ref,
				       t);
	if (code && strcmp(code, "NAME_UNKNOWN") == 0)
		return berth_error_set(err, ENOENT, "repository %s not found: %s", familiar, t);
	return berth_error_set(err, EIO, "%s: %s", what, t);
}

/* ---- documents ---------------------------------------------------------------------------- */

struct descriptor {
	char *media_type;
	char *digest;
	uint64_t size;
};

static void descriptor_release(struct descriptor *d)
{
	free(d->media_type);
	free(d->digest);
}

static int descriptor_parse(const json_t *j, const char *where, struct descriptor *ret,
			    struct berth_error **err)
{
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	const char *digest = json_string_value(json_object_get(j, "digest"));
	json_t *size = json_object_get(j, "size");

	if (!json_is_object(j))
		return berth_error_set(err, EINVAL, "%s: not an object", where);
	if (!digest || !berth_digest_is_sha256(digest))
		return berth_error_set(err, EINVAL, "%s: digest '%s' is not a sha256 digest", where,
				       digest ? digest : "");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return berth_error_set(err, EINVAL, "%s: size missing or negative", where);
	ret->media_type = strdup(mt ? mt : "");
	ret->digest = strdup(digest);
	ret->size = (uint64_t)json_integer_value(size);
	if (!ret->media_type || !ret->digest) {
		descriptor_release(ret);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static bool layer_type_known(const char *mt)
{
	static const char *const known[] = {
		MT_DOCKER_LAYER_GZ, MT_DOCKER_FOREIGN, MT_DOCKER_LAYER, MT_OCI_LAYER,
		MT_OCI_LAYER_GZ,    MT_OCI_LAYER_ZSTD, MT_OCI_ND_LAYER, MT_OCI_ND_LAYER_GZ,
	};
	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (strcmp(mt, known[i]) == 0)
			return true;
	return false;
}

enum doc_kind { DOC_MANIFEST, DOC_INDEX };

/* The kind of a manifest document: its mediaType field, else the Content-Type. */
static int doc_kind(json_t *j, const char *content_type, enum doc_kind *ret,
		    struct berth_error **err)
{
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	_cleanup_free_ char *ct =
		content_type ? strndup(content_type, strcspn(content_type, ";")) : NULL;

	if (!mt || !*mt) {
		/* an OCI document may leave mediaType out: the Content-Type, else its shape */
		if (ct && (!strcmp(ct, MT_OCI_INDEX) || !strcmp(ct, MT_DOCKER_LIST) ||
			   !strcmp(ct, MT_OCI_MANIFEST) || !strcmp(ct, MT_DOCKER_MANIFEST)))
			mt = ct;
		else if (json_is_array(json_object_get(j, "manifests")))
			mt = MT_OCI_INDEX;
		else if (json_is_object(json_object_get(j, "config")) &&
			 json_is_array(json_object_get(j, "layers")))
			mt = MT_OCI_MANIFEST;
	}
	if (mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST))) {
		*ret = DOC_INDEX;
		return 0;
	}
	if (mt && (!strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST))) {
		*ret = DOC_MANIFEST;
		return 0;
	}
	if (mt && (!strcmp(mt, MT_SCHEMA1) || !strcmp(mt, MT_SCHEMA1_SIGNED)))
		return berth_error_set(
			err, EINVAL,
			"Docker Image manifest version 2, schema 1 is not supported; "
			"the image must be pushed again in the schema 2 or OCI format");
	return berth_error_set(err, EINVAL,
			       "unsupported manifest media type and no default available: %s",
			       mt   ? mt
			       : ct ? ct
				    : "(none)");
}

/* ---- the pull's state --------------------------------------------------------------------- */

struct layer_job {
	struct descriptor d;
	char short_id[13];
	char *chain;
	const char *diff_id;
	bool exists;   /* the store has the layer: nothing to do */
	bool work;     /* a worker unpacks it (and fetches its blob first when download) */
	bool download; /* the blob must be fetched */
	struct berth_layer_staged *staged; /* unpacked, waiting for its turn */
	size_t wait_for; /* the job whose download brings this blob (itself, or an earlier twin) */
	int state;	 /* 0 pending, 1 running, 2 done, 3 failed */
	struct berth_error *err;
};

struct pull {
	struct berth_registry *r;
	struct berth_image_store *store;
	struct reg_session *sess;
	struct berth_image_lease *lease;
	const struct berth_registry_progress_cb *progress;

	pthread_mutex_t lock; /* jobs' states, next, failed, and every progress call */
	pthread_cond_t cond;
	struct layer_job *jobs;
	size_t n_jobs, next;
	bool failed;
	struct berth_error *first_err; /* the failure that cancelled the others */
};

static void say(struct pull *p, const char *status, const char *id, uint64_t cur, uint64_t total)
{
	pthread_mutex_lock(&p->lock);
	reg_progress(p->progress, status, id, cur, total);
	pthread_mutex_unlock(&p->lock);
}

/* ---- fetching one blob --------------------------------------------------------------------- */

struct blob_sink {
	struct pull *p;
	const struct descriptor *d;
	struct berth_blob_writer *w;
	const char *id; /* progress id, or NULL for none */
	uint64_t got, total, reported;
	const struct reg_response *resp; /* of the attempt under way */
	bool fresh;			 /* no byte of this attempt seen yet */
	struct berth_error *err;
};

static int blob_sink(void *userdata, const void *data, size_t len)
{
	struct blob_sink *b = userdata;
	int r;

	if (b->fresh) {
		b->fresh = false;
		/* a resumed transfer the registry answered whole (200, not 206): start over */
		if (b->got && b->resp->status != 206) {
			berth_blob_writer_free(b->w);
			b->w = NULL;
			b->got = b->reported = 0;
			r = berth_blob_writer_new(b->p->store, b->d->digest, (int64_t)b->d->size,
						  &b->w, &b->err);
			if (r < 0)
				return r;
		}
	}
	r = berth_blob_writer_write(b->w, data, len, &b->err);
	if (r < 0)
		return r;
	b->got += len;
	if (b->id && (b->got - b->reported >= (512u << 10) || b->got == b->total)) {
		b->reported = b->got;
		say(b->p, "Downloading", b->id, b->got, b->total);
	}
	return 0;
}

/*
 * GET the blob into the store, verified; committed under the pull's lease.  A transfer that
 * breaks off (connection reset or closed early) is tried again up to REG_RETRIES times, asking
 * for the rest with Range (a registry that answers 200 instead of 206 sends it whole again).
 */
static int fetch_blob(struct pull *p, const struct descriptor *d, const char *id, uint64_t max,
		      struct berth_error **err)
{
	_cleanup_free_ char *url = NULL;
	struct blob_sink b = {.p = p, .d = d, .id = id, .total = d->size};
	struct reg_request q = {.method = "GET",
				.body_fd = -1,
				.follow = true,
				.sink = blob_sink,
				.sink_userdata = &b};
	struct reg_response resp = {0};
	int r;

	if (max && d->size > max)
		return berth_error_set(err, EFBIG, "blob %s: %" PRIu64 " bytes, more than %" PRIu64,
				       d->digest, d->size, max);
	if (asprintf(&url, "/v2/%s/blobs/%s", p->sess->repo, d->digest) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	q.url = url;
	r = berth_blob_writer_new(p->store, d->digest, (int64_t)d->size, &b.w, err);
	if (r < 0)
		return r;
	for (unsigned attempt = 0;; attempt++) {
		char range[64];
		const char *hdrs[2] = {range, NULL};

		snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-", b.got);
		q.headers = b.got ? hdrs : NULL;
		b.fresh = true;
		b.resp = &resp;
		r = reg_send(p->sess, &q, &resp, err);
		if (r < 0 && b.err) {
			/* the sink stopped the transfer: its reason (too many bytes) */
			berth_error_free(*err);
			*err = b.err;
			b.err = NULL;
			break;
		}
		if (r == 0 && (resp.status < 200 || resp.status >= 300)) {
			_cleanup_free_ char *t = reg_error_text(&resp, NULL);
			reg_response_release(&resp);
			r = berth_error_set(err, EIO, "%s", t ? t : "error");
			break; /* the registry's answer, not a broken transfer */
		}
		reg_response_release(&resp);
		if (r != -EIO || attempt >= REG_RETRIES || atomic_load(&p->sess->cancel) || !b.w)
			break;
		berth_error_free(*err);
		*err = NULL;
		usleep(200000u << attempt);
	}
	if (r == 0 && id)
		say(p, "Verifying Checksum", id, 0, 0);
	if (r == 0) {
		r = berth_blob_writer_commit(b.w, p->lease, NULL, err);
		if (r < 0) {
			/* dockerd's words for a blob that is not what its digest says */
			berth_error_free(*err);
			*err = NULL;
			r = berth_error_set(err, EIO,
					    "filesystem layer verification failed for digest %s",
					    d->digest);
		}
	}
	berth_blob_writer_free(b.w);
	berth_error_free(b.err);
	if (r < 0)
		return berth_error_wrap(err, "fetch blob %s", d->digest);
	return 0;
}

struct extract_ctx {
	struct pull *p;
	const char *id;
};

static void on_extract(void *userdata, const struct berth_image_progress *ip)
{
	struct extract_ctx *c = userdata;

	if (ip->current == 0)
		return;
	say(c->p, "Extracting", c->id, ip->current, ip->total);
}

static void *download_main(void *arg)
{
	struct pull *p = arg;

	for (;;) {
		struct layer_job *j = NULL;
		struct berth_error *e = NULL;
		int r = 0;

		pthread_mutex_lock(&p->lock);
		while (p->next < p->n_jobs && !p->jobs[p->next].work)
			p->next++;
		if (!p->failed && p->next < p->n_jobs) {
			j = &p->jobs[p->next++];
			j->state = 1;
		}
		pthread_mutex_unlock(&p->lock);
		if (!j)
			return NULL;
		if (j->download) {
			r = fetch_blob(p, &j->d, j->short_id, 0, &e);
			if (r == 0)
				say(p, "Download complete", j->short_id, 0, 0);
		}
		if (r == 0) {
			struct extract_ctx ec = {p, j->short_id};
			struct berth_image_progress_cb cb = {on_extract, &ec};
			r = berth_layer_unpack_blob(p->store, j->d.digest, j->diff_id, p->lease,
						    &cb, &j->staged, &e);
		}
		pthread_mutex_lock(&p->lock);
		j->state = r < 0 ? 3 : 2;
		if (r < 0 && r != -ECANCELED && !p->first_err)
			p->first_err = e;
		else
			j->err = e;
		if (r < 0)
			p->failed = true;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		if (r < 0)
			atomic_store(&p->sess->cancel, true);
	}
}

/* ---- choosing a manifest ------------------------------------------------------------------ */

static int get_manifest(struct pull *p, const char *reference, const char *expect_digest,
			const char *familiar, const char *familiar_ref, json_t **ret,
			char **ret_digest, char **ret_content_type, struct berth_error **err)
{
	_cleanup_free_ char *url = NULL;
	struct reg_request q = {.method = "GET",
				.body_fd = -1,
				.follow = true,
				.headers = accept_headers,
				.max_body = p->r->opts.max_manifest};
	struct reg_response resp = {0};
	char digest[BERTH_DIGEST_SIZE];
	int r;

	if (asprintf(&url, "/v2/%s/manifests/%s", p->sess->repo, reference) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	q.url = url;
	r = reg_send(p->sess, &q, &resp, err);
	if (r == -EFBIG) {
		berth_error_free(*err);
		*err = NULL;
		return berth_error_set(err, EFBIG, "manifest %s: larger than %" PRIu64 " bytes",
				       reference, p->r->opts.max_manifest);
	}
	if (r < 0)
		return r;
	if (resp.status != 200) {
		r = pull_http_error(&resp, "fetch manifest", familiar, familiar_ref, err);
		reg_response_release(&resp);
		return r;
	}
	berth_sha256_digest(resp.body ? resp.body : "", resp.body_len, digest);
	if (expect_digest && strcmp(digest, expect_digest) != 0) {
		reg_response_release(&resp);
		return berth_error_set(err, EINVAL, "manifest verification failed for digest %s",
				       expect_digest);
	}
	r = berth_json_parse(resp.body ? resp.body : "", resp.body_len, ret, err);
	if (r == 0 && !json_is_object(*ret)) {
		json_decref(*ret);
		r = berth_error_set(err, EINVAL, "not a JSON object");
	}
	if (r < 0) {
		reg_response_release(&resp);
		return berth_error_wrap(err, "manifest %s", reference);
	}
	*ret_digest = strdup(digest);
	*ret_content_type = resp.content_type ? strdup(resp.content_type) : NULL;
	reg_response_release(&resp);
	if (!*ret_digest) {
		json_decref(*ret);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

static int pick_platform(json_t *index, const char *os, const char *arch, const char *variant,
			 char **ret_digest, struct berth_error **err)
{
	json_t *m = json_object_get(index, "manifests"), *e;
	const char *best = NULL;
	int best_score = -1;
	size_t i;

	if (!json_is_array(m))
		return berth_error_set(err, EINVAL, "index: \"manifests\" is not a list");
	json_array_foreach (m, i, e) {
		json_t *pl = json_object_get(e, "platform");
		const char *mt = json_string_value(json_object_get(e, "mediaType"));
		const char *d = json_string_value(json_object_get(e, "digest"));
		const char *eos = json_string_value(json_object_get(pl, "os"));
		const char *earch = json_string_value(json_object_get(pl, "architecture"));
		const char *evar = json_string_value(json_object_get(pl, "variant"));
		int score;

		if (!d || !eos || !earch || strcmp(eos, os) != 0 || strcmp(earch, arch) != 0)
			continue;
		if (mt && strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0)
			continue;
		if (variant && evar && strcmp(variant, evar) != 0)
			continue;
		/* an exact variant first, then one without */
		score = variant && evar ? 2 : !evar ? 1 : 0;
		if (score > best_score) {
			best_score = score;
			best = d;
		}
	}
	if (!best)
		return berth_error_set(err, ENOENT,
				       "no matching manifest for %s/%s%s%s in the manifest list "
				       "entries",
				       os, arch, variant ? "/" : "", variant ? variant : "");
	if (!berth_digest_is_sha256(best))
		return berth_error_set(err, EINVAL, "index: digest '%s' is not a sha256 digest",
				       best);
	*ret_digest = strdup(best);
	return *ret_digest ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

/* ---- the pull ----------------------------------------------------------------------------- */

static int pull_from(struct pull *p, const struct berth_reference *ref, const char *os,
		     const char *arch, const char *variant, bool platform_given,
		     struct berth_registry_pull_result *ret, struct berth_error **err)
{
	struct berth_image_store *s = p->store;
	_cleanup_free_ char *familiar = berth_reference_familiar_name(ref);
	_cleanup_free_ char *familiar_ref = berth_reference_familiar(ref);
	_cleanup_free_ char *name = berth_reference_name(ref);
	_cleanup_free_ char *digest = NULL, *ct = NULL, *config_text = NULL, *id = NULL;
	_cleanup_free_ char *tagged = NULL, *before = NULL;
	_cleanup_json_ json_t *doc = NULL, *config = NULL;
	_cleanup_strv_ char **chains = NULL;
	struct descriptor cfg = {0};
	pthread_t threads[16];
	size_t n_threads = 0, n_layers, config_len;
	json_t *layers, *diff_ids;
	enum doc_kind kind;
	int r;

	if (!familiar || !familiar_ref || !name)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = get_manifest(p, ref->digest ? ref->digest : ref->tag, ref->digest, familiar,
			 familiar_ref, &doc, &digest, &ct, err);
	if (r < 0)
		return r;
	r = doc_kind(doc, ct, &kind, err);
	if (r == 0 && kind == DOC_INDEX) {
		_cleanup_free_ char *pick = NULL;
		r = pick_platform(doc, os, arch, variant, &pick, err);
		json_decref(doc);
		doc = NULL;
		free(digest);
		digest = NULL;
		free(ct);
		ct = NULL;
		if (r == 0)
			r = get_manifest(p, pick, pick, familiar, familiar_ref, &doc, &digest, &ct,
					 err);
		if (r == 0)
			r = doc_kind(doc, ct, &kind, err);
		if (r == 0 && kind != DOC_MANIFEST)
			r = berth_error_set(err, EINVAL, "manifest %s: an index inside an index",
					    pick);
	}
	if (r < 0)
		return r;

	/* the manifest */
	if (json_integer_value(json_object_get(doc, "schemaVersion")) != 2)
		return berth_error_set(err, EINVAL, "manifest %s: schemaVersion is not 2", digest);
	r = descriptor_parse(json_object_get(doc, "config"), "manifest: config", &cfg, err);
	if (r < 0)
		return r;
	layers = json_object_get(doc, "layers");
	if (!json_is_array(layers)) {
		descriptor_release(&cfg);
		return berth_error_set(err, EINVAL, "manifest %s: \"layers\" is not a list",
				       digest);
	}
	n_layers = json_array_size(layers);
	if (n_layers > berth_image_store_limits(s)->max_layers) {
		descriptor_release(&cfg);
		return berth_error_set(err, EFBIG, "manifest %s: %zu layers, more than %u", digest,
				       n_layers, berth_image_store_limits(s)->max_layers);
	}
	p->jobs = calloc(n_layers ? n_layers : 1, sizeof(*p->jobs));
	if (!p->jobs) {
		descriptor_release(&cfg);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	p->n_jobs = n_layers;
	for (size_t i = 0; i < n_layers; i++) {
		char where[64];
		snprintf(where, sizeof(where), "manifest: layers[%zu]", i);
		r = descriptor_parse(json_array_get(layers, i), where, &p->jobs[i].d, err);
		if (r < 0)
			goto out;
		if (!layer_type_known(p->jobs[i].d.media_type)) {
			r = berth_error_set(err, EINVAL, "%s: unsupported media type '%s'", where,
					    p->jobs[i].d.media_type);
			goto out;
		}
		reg_short_id(p->jobs[i].d.digest, p->jobs[i].short_id);
	}

	/* "Pulling from" first, as dockerd */
	{
		_cleanup_free_ char *from = NULL;
		/* dockerd shows the path: "library/busybox", "x" for 127.0.0.1:5000/x */
		if (asprintf(&from, "Pulling from %s", ref->path) >= 0)
			say(p, from, ref->digest ? ref->digest : ref->tag, 0, 0);
	}

	/* the config: it names the layers' diff ids */
	r = berth_image_lease_add(p->lease, cfg.digest);
	if (r < 0) {
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (!berth_blob_exists(s, cfg.digest)) {
		r = fetch_blob(p, &cfg, NULL, p->r->opts.max_config, err);
		if (r < 0)
			goto out;
	}
	r = berth_blob_read(s, cfg.digest, p->r->opts.max_config, &config_text, &config_len, err);
	if (r == 0)
		r = berth_json_parse(config_text, config_len, &config, err);
	if (r < 0) {
		berth_error_wrap(err, "config %s", cfg.digest);
		goto out;
	}
	diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	if (!json_is_array(diff_ids) || json_array_size(diff_ids) != n_layers) {
		r = berth_error_set(err, EINVAL,
				    "config %s: rootfs.diff_ids does not list the manifest's %zu "
				    "layers",
				    cfg.digest, n_layers);
		goto out;
	}
	{
		const char *cos = json_string_value(json_object_get(config, "os"));
		const char *carch = json_string_value(json_object_get(config, "architecture"));
		if (platform_given && (!cos || !carch || strcmp(cos, os) || strcmp(carch, arch))) {
			r = berth_error_set(err, EINVAL,
					    "image with reference %s was found but its platform "
					    "(%s/%s) does not match the specified platform (%s/%s)",
					    familiar_ref, cos ? cos : "", carch ? carch : "", os,
					    arch);
			goto out;
		}
	}
	{
		_cleanup_strv_ char **diffs = calloc(n_layers + 1, sizeof(char *));
		if (!diffs) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n_layers; i++) {
			const char *d = json_string_value(json_array_get(diff_ids, i));
			if (!d || !(diffs[i] = strdup(d))) {
				r = d ? berth_error_set(err, ENOMEM, "out of memory")
				      : berth_error_set(
						err, EINVAL,
						"config: rootfs.diff_ids[%zu] is not a string", i);
				goto out;
			}
		}
		r = berth_chain_ids(diffs, n_layers, &chains, err);
		if (r < 0)
			goto out;
	}

	/* what the store has */
	for (size_t i = 0; i < n_layers; i++) {
		struct layer_job *j = &p->jobs[i];
		struct berth_layer_info *li = NULL;

		j->chain = chains[i];
		j->diff_id = json_string_value(json_array_get(diff_ids, i));
		j->wait_for = i;
		if (berth_layer_inspect(s, chains[i], &li, NULL) == 0) {
			berth_layer_info_free(li);
			j->exists = true;
			if (berth_image_lease_add(p->lease, chains[i]) < 0) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto out;
			}
			say(p, "Already exists", j->short_id, 0, 0);
			continue;
		}
		for (size_t k = 0; k < i; k++)
			if (!p->jobs[k].exists && strcmp(p->jobs[k].d.digest, j->d.digest) == 0) {
				j->wait_for = p->jobs[k].wait_for;
				break;
			}
		if (j->wait_for != i)
			continue;
		if (berth_image_lease_add(p->lease, j->d.digest) < 0) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		j->work = true;
		if (berth_blob_exists(s, j->d.digest))
			continue;
		j->download = true;
		say(p, "Pulling fs layer", j->short_id, 0, 0);
	}
	{
		size_t queued = 0;
		for (size_t i = 0; i < n_layers; i++)
			if (p->jobs[i].work && queued++ >= p->r->opts.max_parallel &&
			    p->jobs[i].download)
				say(p, "Waiting", p->jobs[i].short_id, 0, 0);
		for (size_t i = 0;
		     i < queued && i < p->r->opts.max_parallel && n_threads < ARRAY_SIZE(threads);
		     i++) {
			if (pthread_create(&threads[n_threads], NULL, download_main, p) != 0)
				break;
			n_threads++;
		}
		if (queued && !n_threads) {
			r = berth_error_set(err, EAGAIN, "cannot start a download thread");
			goto out;
		}
	}

	/* stack the layers in order, each as soon as it is unpacked */
	for (size_t i = 0; i < n_layers; i++) {
		struct layer_job *j = &p->jobs[i];
		const char *parent = i ? chains[i - 1] : NULL;

		if (j->exists)
			continue;
		if (j->wait_for != i) {
			/* the same blob as an earlier layer: unpacked again on this parent */
			struct extract_ctx ec = {p, j->short_id};
			struct berth_image_progress_cb cb = {on_extract, &ec};
			r = berth_layer_create_from_blob(s, j->d.digest, parent, j->diff_id,
							 p->lease, &cb, NULL, err);
			if (r < 0)
				goto out;
			say(p, "Pull complete", j->short_id, 0, 0);
			continue;
		}
		pthread_mutex_lock(&p->lock);
		while (j->state < 2)
			pthread_cond_wait(&p->cond, &p->lock);
		if (j->state == 3) {
			/* the failure itself, not a transfer it cancelled */
			*err = p->first_err ? p->first_err : j->err;
			if (p->first_err)
				p->first_err = NULL;
			else
				j->err = NULL;
			r = -(*err ? (*err)->code : EIO);
		}
		pthread_mutex_unlock(&p->lock);
		if (r < 0)
			goto out;
		r = berth_layer_commit(s, j->staged, parent, p->lease, NULL, err);
		berth_layer_staged_free(j->staged);
		j->staged = NULL;
		if (r < 0)
			goto out;
		say(p, "Pull complete", j->short_id, 0, 0);
	}

	/* the image and its names */
	/* tagged: name:tag for a pull by tag, name@digest for one by digest */
	if ((ref->tag && !ref->digest && asprintf(&tagged, "%s:%s", name, ref->tag) < 0) ||
	    (ref->digest && asprintf(&tagged, "%s@%s", name, ref->digest) < 0)) {
		tagged = NULL;
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (berth_image_resolve(s, tagged, &before, NULL) < 0)
		before = NULL;
	r = berth_image_add(s, cfg.digest, NULL, &id, err);
	if (r == 0 && !ref->digest)
		r = berth_image_tag(s, id, tagged, err);
	if (r == 0)
		r = berth_image_set_digest_ref(s, name, digest, id, err);
	if (r < 0)
		goto out;
	ret->id = TAKE_PTR(id);
	ret->digest = TAKE_PTR(digest);
	ret->name = TAKE_PTR(tagged);
	ret->newer = !before || strcmp(before, ret->id) != 0;
out:
	if (r < 0) {
		atomic_store(&p->sess->cancel, true);
		pthread_mutex_lock(&p->lock);
		p->failed = true;
		pthread_mutex_unlock(&p->lock);
	}
	for (size_t i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	for (size_t i = 0; i < p->n_jobs; i++) {
		berth_layer_staged_free(p->jobs[i].staged);
		descriptor_release(&p->jobs[i].d);
		berth_error_free(p->jobs[i].err);
	}
	free(p->jobs);
	p->jobs = NULL;
	berth_error_free(p->first_err);
	p->first_err = NULL;
	p->n_jobs = 0;
	descriptor_release(&cfg);
	return r;
}

int berth_registry_pull(struct berth_registry *r, struct berth_image_store *s, const char *ref,
			const char *platform, const struct berth_registry_auth *auth,
			const struct berth_registry_progress_cb *progress,
			struct berth_registry_pull_result *ret, struct berth_error **err)
{
	_cleanup_reference_ struct berth_reference *rf = NULL;
	_cleanup_free_ char *os = NULL, *arch = NULL, *variant = NULL, *scope = NULL;
	struct berth_error *last = NULL;
	char *scopes[2] = {NULL, NULL};
	int rc = 0;

	memset(ret, 0, sizeof(*ret));
	rc = berth_reference_parse(ref, &rf, err);
	if (rc < 0)
		return rc;
	if (berth_reference_default_tag(rf) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	rc = berth_registry_platform_parse(platform, &os, &arch, &variant, err);
	if (rc < 0)
		return rc;
	if (asprintf(&scope, "repository:%s:pull", rf->path) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	scopes[0] = scope;

	/* docker.io: the mirrors first, in order, then docker.io itself */
	size_t n_mirrors = strcmp(rf->domain, "docker.io") == 0 ? berth_strv_length(r->mirrors) : 0;
	for (size_t e = 0; e <= n_mirrors; e++) {
		struct pull p = {.r = r, .store = s, .progress = progress};
		struct berth_error *e_err = NULL;

		pthread_mutex_init(&p.lock, NULL);
		pthread_cond_init(&p.cond, NULL);
		rc = reg_session_open(r, reg_api_host(rf->domain),
				      e < n_mirrors ? r->mirrors[e] : NULL, rf->path, scopes, auth,
				      &p.sess, &e_err);
		if (rc == 0)
			rc = berth_image_lease_new(s, &p.lease, &e_err);
		if (rc == 0) {
			rc = pull_from(&p, rf, os, arch, variant, platform && *platform, ret,
				       &e_err);
			berth_image_lease_release(p.lease, rc < 0);
		}
		reg_session_free(p.sess);
		pthread_mutex_destroy(&p.lock);
		pthread_cond_destroy(&p.cond);
		berth_error_free(last);
		last = e_err;
		if (rc == 0)
			return 0;
		/* a mirror that failed: the next endpoint; the last one's failure is the answer */
	}
	if (err)
		*err = last;
	else
		berth_error_free(last);
	return rc;
}

/* ---- the tags of a repository (docker pull --all-tags) ----------------------------------------- */

#define TAGS_PAGE 1000
#define TAGS_MAX  10000

static int tags_page(struct reg_session *sess, const char *familiar, const char *last, char ***tags,
		     size_t *got, struct berth_error **err)
{
	_cleanup_free_ char *url = NULL, *esc = NULL;
	static const char *const accept[] = {"Accept: application/json", NULL};
	struct reg_request q = {.method = "GET",
				.body_fd = -1,
				.follow = true,
				.headers = accept,
				.max_body = 4u << 20};
	struct reg_response resp = {0};
	_cleanup_json_ json_t *doc = NULL;
	json_t *list, *t;
	size_t i;
	int r;

	if (last) {
		/* a tag is [A-Za-z0-9_.-]: nothing in it needs escaping in a query */
		for (const char *c = last; *c; c++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "_.-",
				    *c))
				return berth_error_set(err, EINVAL, "tag list: invalid tag '%s'",
						       last);
	}
	if (asprintf(&url, "/v2/%s/tags/list?n=%d%s%s", sess->repo, TAGS_PAGE, last ? "&last=" : "",
		     last ? last : "") < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	q.url = url;
	r = reg_send(sess, &q, &resp, err);
	if (r < 0)
		return r;
	if (resp.status != 200) {
		r = pull_http_error(&resp, "fetch tag list", familiar, familiar, err);
		reg_response_release(&resp);
		return r;
	}
	r = berth_json_parse(resp.body ? resp.body : "", resp.body_len, &doc, err);
	reg_response_release(&resp);
	if (r < 0)
		return berth_error_wrap(err, "tag list of %s", familiar);
	list = json_object_get(doc, "tags");
	if (!json_is_array(list) && !json_is_null(list))
		return berth_error_set(err, EINVAL, "tag list of %s: no \"tags\" list", familiar);
	*got = 0;
	json_array_foreach (list, i, t) {
		const char *tag = json_string_value(t);
		if (!tag || !*tag)
			return berth_error_set(err, EINVAL,
					       "tag list of %s: a tag that is no string", familiar);
		if (berth_strv_length(*tags) >= TAGS_MAX)
			return berth_error_set(err, EFBIG, "tag list of %s: more than %d tags",
					       familiar, TAGS_MAX);
		if (berth_strv_contains(*tags, tag))
			return berth_error_set(err, EINVAL, "tag list of %s: '%s' twice", familiar,
					       tag);
		if (berth_strv_push(tags, tag) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		(*got)++;
	}
	return 0;
}

int berth_registry_tags(struct berth_registry *r, const char *ref,
			const struct berth_registry_auth *auth, char ***ret,
			struct berth_error **err)
{
	_cleanup_reference_ struct berth_reference *rf = NULL;
	_cleanup_free_ char *scope = NULL, *familiar = NULL;
	struct reg_session *sess = NULL;
	char *scopes[2] = {NULL, NULL};
	char **tags = NULL;
	size_t got = 0;
	int rc;

	*ret = NULL;
	rc = berth_reference_parse(ref, &rf, err);
	if (rc < 0)
		return rc;
	familiar = berth_reference_familiar_name(rf);
	if (!familiar || asprintf(&scope, "repository:%s:pull", rf->path) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	scopes[0] = scope;
	rc = reg_session_open(r, reg_api_host(rf->domain), NULL, rf->path, scopes, auth, &sess,
			      err);
	if (rc < 0)
		return rc;
	do {
		size_t n = berth_strv_length(tags);
		rc = tags_page(sess, familiar, n ? tags[n - 1] : NULL, &tags, &got, err);
	} while (rc == 0 && got == TAGS_PAGE);
	reg_session_free(sess);
	if (rc < 0) {
		berth_strv_free(tags);
		return rc;
	}
	*ret = tags ? tags : calloc(1, sizeof(char *));
	return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}
