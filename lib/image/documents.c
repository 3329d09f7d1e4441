/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON documents of images and archives: docker-archive manifest.json, OCI index and
 * manifest, image config.  Each parser checks the shape and the limits and says which field is
 * wrong; nothing here touches the disk.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "image-internal.h"

#include "base/banned.h"

#define MAX_TAGS_PER_IMAGE 10000

static int parse_json(const char *what, const char *data, size_t len,
		      const struct berth_image_limits *lim, json_t **ret, struct berth_error **err)
{
	if (len > lim->max_json_size)
		return berth_error_set(err, EFBIG, "%s: larger than %llu bytes", what,
				       (unsigned long long)lim->max_json_size);
	if (berth_json_parse(data, len, ret, err) < 0)
		return berth_error_wrap(err, "%s", what);
	return 0;
}

static int strv_from_array(json_t *a, size_t max, const char *what, char ***ret,
			   struct berth_error **err)
{
	_cleanup_strv_ char **v = NULL;
	size_t i;
	json_t *x;

	if (json_array_size(a) > max)
		return berth_error_set(err, EFBIG, "%s: more than %zu entries", what, max);
	v = calloc(json_array_size(a) + 1, sizeof(char *));
	if (!v)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_array_foreach (a, i, x) {
		if (!json_is_string(x))
			return berth_error_set(err, EINVAL, "%s[%zu]: not a string", what, i);
		if (!(v[i] = strdup(json_string_value(x))))
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	*ret = TAKE_PTR(v);
	return 0;
}

/* ---- docker-archive manifest.json ------------------------------------------------------- */

void img_archive_items_free(struct img_archive_item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++) {
		free(items[i].config);
		berth_strv_free(items[i].repo_tags);
		berth_strv_free(items[i].layers);
		free(items[i].parent);
	}
	free(items);
}

int img_parse_docker_manifest(const char *data, size_t len, const struct berth_image_limits *lim,
			      struct img_archive_item **ret, size_t *ret_n,
			      struct berth_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	struct img_archive_item *items = NULL;
	size_t n, i;
	json_t *it;
	int r;

	r = parse_json("manifest.json", data, len, lim, &j, err);
	if (r < 0)
		return r;
	if (!json_is_array(j))
		return berth_error_set(err, EINVAL, "manifest.json: not an array");
	n = json_array_size(j);
	if (n > lim->max_images)
		return berth_error_set(err, EFBIG, "manifest.json: more than %u images",
				       lim->max_images);
	items = calloc(n ? n : 1, sizeof(*items));
	if (!items)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_array_foreach (j, i, it) {
		json_t *config = json_object_get(it, "Config");
		json_t *tags = json_object_get(it, "RepoTags");
		json_t *layers = json_object_get(it, "Layers");
		json_t *parent = json_object_get(it, "Parent");
		char what[64];

		if (!json_is_object(it)) {
			r = berth_error_set(err, EINVAL, "manifest.json[%zu]: not an object", i);
			goto fail;
		}
		if (!json_is_string(config) || !*json_string_value(config)) {
			r = berth_error_set(err, EINVAL, "manifest.json[%zu]: Config: not a path",
					    i);
			goto fail;
		}
		if (!(items[i].config = strdup(json_string_value(config)))) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto fail;
		}
		snprintf(what, sizeof(what), "manifest.json[%zu].RepoTags", i);
		if (!json_is_null(tags) && tags && !json_is_array(tags)) {
			r = berth_error_set(err, EINVAL, "%s: not an array", what);
			goto fail;
		}
		r = strv_from_array(tags, MAX_TAGS_PER_IMAGE, what, &items[i].repo_tags, err);
		if (r < 0)
			goto fail;
		snprintf(what, sizeof(what), "manifest.json[%zu].Layers", i);
		if (!json_is_array(layers)) {
			r = berth_error_set(err, EINVAL, "%s: not an array", what);
			goto fail;
		}
		r = strv_from_array(layers, lim->max_layers, what, &items[i].layers, err);
		if (r < 0)
			goto fail;
		if (parent && !json_is_null(parent)) {
			const char *p = json_string_value(parent);
			if (!p || (*p && !berth_digest_is_sha256(p))) {
				r = berth_error_set(err, EINVAL,
						    "manifest.json[%zu].Parent: not an image id",
						    i);
				goto fail;
			}
			if (*p && !(items[i].parent = strdup(p))) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto fail;
			}
		}
	}
	*ret = items;
	*ret_n = n;
	return 0;
fail:
	img_archive_items_free(items, n);
	return r;
}

/* ---- OCI descriptors, index, manifest --------------------------------------------------- */

void img_descriptor_release(struct img_descriptor *d)
{
	free(d->media_type);
	free(d->digest);
	free(d->name);
	free(d->platform_os);
	free(d->platform_arch);
	free(d->platform_variant);
	memset(d, 0, sizeof(*d));
}

void img_descriptors_free(struct img_descriptor *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		img_descriptor_release(&d[i]);
	free(d);
}

static char *dup_or_null(json_t *s)
{
	return json_is_string(s) ? strdup(json_string_value(s)) : NULL;
}

static int parse_descriptor(json_t *j, const char *what, struct img_descriptor *d,
			    struct berth_error **err)
{
	json_t *mt = json_object_get(j, "mediaType"), *dg = json_object_get(j, "digest");
	json_t *size = json_object_get(j, "size"), *ann = json_object_get(j, "annotations");
	json_t *plat = json_object_get(j, "platform");
	int r;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(j))
		return berth_error_set(err, EINVAL, "%s: not an object", what);
	if (mt && !json_is_string(mt))
		return berth_error_set(err, EINVAL, "%s.mediaType: not a string", what);
	if (!json_is_string(dg))
		return berth_error_set(err, EINVAL, "%s.digest: missing", what);
	r = berth_digest_validate(json_string_value(dg), err);
	if (r < 0)
		return berth_error_wrap(err, "%s.digest '%s'", what, json_string_value(dg));
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return berth_error_set(err, EINVAL, "%s.size: not a size", what);
	if (ann && !json_is_object(ann))
		return berth_error_set(err, EINVAL, "%s.annotations: not an object", what);
	if (plat && !json_is_object(plat))
		return berth_error_set(err, EINVAL, "%s.platform: not an object", what);
	d->media_type = mt ? strdup(json_string_value(mt)) : strdup("");
	d->digest = strdup(json_string_value(dg));
	d->size = json_integer_value(size);
	if (!d->media_type || !d->digest)
		goto oom;
	if (ann) {
		json_t *name = json_object_get(ann, "io.containerd.image.name");
		json_t *ref = json_object_get(ann, "org.opencontainers.image.ref.name");
		const char *nm = NULL;
		if (json_is_string(name))
			nm = json_string_value(name);
		else if (json_is_string(ref) && strpbrk(json_string_value(ref), "/:"))
			nm = json_string_value(
				ref); /* a whole reference ("localhost/a:1"), not a tag */
		if (nm && !(d->name = strdup(nm)))
			goto oom;
	}
	if (plat) {
		d->platform_os = dup_or_null(json_object_get(plat, "os"));
		d->platform_arch = dup_or_null(json_object_get(plat, "architecture"));
		d->platform_variant = dup_or_null(json_object_get(plat, "variant"));
	}
	return 0;
oom:
	img_descriptor_release(d);
	return berth_error_set(err, ENOMEM, "out of memory");
}

static int parse_descriptors(json_t *a, const char *what, size_t max, struct img_descriptor **ret,
			     size_t *ret_n, struct berth_error **err)
{
	struct img_descriptor *d;
	size_t n = json_array_size(a), i;
	json_t *x;

	if (!json_is_array(a))
		return berth_error_set(err, EINVAL, "%s: not an array", what);
	if (n > max)
		return berth_error_set(err, EFBIG, "%s: more than %zu entries", what, max);
	d = calloc(n ? n : 1, sizeof(*d));
	if (!d)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_array_foreach (a, i, x) {
		char w[64];
		snprintf(w, sizeof(w), "%s[%zu]", what, i);
		int r = parse_descriptor(x, w, &d[i], err);
		if (r < 0) {
			img_descriptors_free(d, n);
			return r;
		}
	}
	*ret = d;
	*ret_n = n;
	return 0;
}

static int check_schema(json_t *j, const char *what, struct berth_error **err)
{
	if (!json_is_object(j))
		return berth_error_set(err, EINVAL, "%s: not an object", what);
	if (json_integer_value(json_object_get(j, "schemaVersion")) != 2)
		return berth_error_set(err, EINVAL, "%s: schemaVersion is not 2", what);
	return 0;
}

int img_parse_oci_index(const char *data, size_t len, const struct berth_image_limits *lim,
			struct img_descriptor **ret, size_t *ret_n, struct berth_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	int r;

	r = parse_json("index", data, len, lim, &j, err);
	if (r == 0)
		r = check_schema(j, "index", err);
	if (r == 0)
		r = parse_descriptors(json_object_get(j, "manifests"), "index.manifests",
				      lim->max_images, ret, ret_n, err);
	return r;
}

int img_parse_oci_manifest(const char *data, size_t len, const struct berth_image_limits *lim,
			   struct img_descriptor *ret_config, struct img_descriptor **ret_layers,
			   size_t *ret_n, struct berth_error **err)
{
	_cleanup_json_ json_t *j = NULL;
	int r;

	r = parse_json("manifest", data, len, lim, &j, err);
	if (r == 0)
		r = check_schema(j, "manifest", err);
	if (r < 0)
		return r;
	r = parse_descriptor(json_object_get(j, "config"), "manifest.config", ret_config, err);
	if (r < 0)
		return r;
	r = parse_descriptors(json_object_get(j, "layers"), "manifest.layers", lim->max_layers,
			      ret_layers, ret_n, err);
	if (r < 0)
		img_descriptor_release(ret_config);
	return r;
}

/* ---- image config ----------------------------------------------------------------------- */

void img_config_release(struct img_config *c)
{
	json_decref(c->json);
	berth_strv_free(c->diff_ids);
	memset(c, 0, sizeof(*c));
}

int img_parse_config(const char *data, size_t len, const struct berth_image_limits *lim,
		     struct img_config *ret, struct berth_error **err)
{
	struct img_config c = {0};
	json_t *rootfs, *ids, *os, *hist;
	size_t i;
	json_t *x;
	int r;

	r = parse_json("config", data, len, lim, &c.json, err);
	if (r < 0)
		return r;
	if (!json_is_object(c.json)) {
		r = berth_error_set(err, EINVAL, "config: not an object");
		goto fail;
	}
	rootfs = json_object_get(c.json, "rootfs");
	ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_object(rootfs) ||
	    !berth_streq(json_string_value(json_object_get(rootfs, "type")), "layers")) {
		r = berth_error_set(err, EINVAL, "config: rootfs.type is not \"layers\"");
		goto fail;
	}
	if (ids && !json_is_array(ids) && !json_is_null(ids)) {
		r = berth_error_set(err, EINVAL, "config: rootfs.diff_ids: not an array");
		goto fail;
	}
	r = strv_from_array(ids, lim->max_layers, "config: rootfs.diff_ids", &c.diff_ids, err);
	if (r < 0)
		goto fail;
	c.n_diff_ids = berth_strv_length(c.diff_ids);
	for (i = 0; i < c.n_diff_ids; i++) {
		if (!berth_digest_is_sha256(c.diff_ids[i])) {
			r = berth_error_set(
				err, EINVAL,
				"config: rootfs.diff_ids[%zu]: '%s' is not a sha256 digest", i,
				c.diff_ids[i]);
			goto fail;
		}
	}
	os = json_object_get(c.json, "os");
	if (os && !json_is_string(os)) {
		r = berth_error_set(err, EINVAL, "config: os: not a string");
		goto fail;
	}
	c.os = os ? json_string_value(os) : "linux";
	if (*c.os && strcmp(c.os, "linux") != 0) {
		r = berth_error_set(err, EINVAL, "cannot load %s image on linux", c.os);
		goto fail;
	}
	c.architecture = json_string_value(json_object_get(c.json, "architecture"));
	c.created = json_string_value(json_object_get(c.json, "created"));
	hist = json_object_get(c.json, "history");
	if (hist && !json_is_array(hist) && !json_is_null(hist)) {
		r = berth_error_set(err, EINVAL, "config: history: not an array");
		goto fail;
	}
	json_array_foreach (hist, i, x) {
		if (!json_is_object(x)) {
			r = berth_error_set(err, EINVAL, "config: history[%zu]: not an object", i);
			goto fail;
		}
	}
	*ret = c;
	return 0;
fail:
	img_config_release(&c);
	return r;
}

/* ---- small things ----------------------------------------------------------------------- */

static int digits(const char *s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

int img_parse_rfc3339(const char *s, int64_t *ret)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, off = 0;
	const char *p;

	if (!s || strlen(s) < 20 || digits(s, 4, &y) < 0 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) < 0 || s[7] != '-' || digits(s + 8, 2, &d) < 0 ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) < 0 ||
	    s[13] != ':' || digits(s + 14, 2, &mi) < 0 || s[16] != ':' ||
	    digits(s + 17, 2, &sec) < 0)
		return -EINVAL;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (digits(p + 1, 2, &oh) < 0 || p[3] != ':' || digits(p + 4, 2, &om) < 0)
			return -EINVAL;
		off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ret = (int64_t)timegm(&tm) - off;
	return 0;
}

const char *img_host_arch(void)
{
	static const struct {
		const char *machine, *goarch;
	} map[] = {
		{"x86_64", "amd64"},	{"aarch64", "arm64"}, {"armv7l", "arm"},
		{"armv6l", "arm"},	{"i686", "386"},      {"i386", "386"},
		{"ppc64le", "ppc64le"}, {"s390x", "s390x"},   {"riscv64", "riscv64"},
	};
	static __thread char buf[65];
	struct utsname u;

	if (uname(&u) < 0)
		return "amd64";
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (strcmp(u.machine, map[i].machine) == 0)
			return map[i].goarch;
	snprintf(buf, sizeof(buf), "%s", u.machine);
	return buf;
}
