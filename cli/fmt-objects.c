/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker's formatter contexts for containers, volumes and build cache records
 * (cli/command/formatter/container.go, volume.go, buildcache.go): the rows of `system df -v`
 * today, of ps and volume ls when those commands come.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "reference.h"
#include "units.h"
#include "base/banned.h"

const char *const container_header_pairs[] = {
	"ID",		"CONTAINER ID",	 "Names",     "NAMES",	    "Image",	  "IMAGE",
	"Command",	"COMMAND",	 "CreatedAt", "CREATED AT", "RunningFor", "CREATED",
	"Ports",	"PORTS",	 "State",     "STATE",	    "Status",	  "STATUS",
	"Size",		"SIZE",		 "Labels",    "LABELS",	    "Mounts",	  "MOUNTS",
	"LocalVolumes", "LOCAL VOLUMES", "Networks",  "NETWORKS",   "Platform",	  "PLATFORM",
	NULL,
};

const char *const volume_header_pairs[] = {
	"ID",	      "ID",	    "Name",   "VOLUME NAME", "Group",	     "GROUP",
	"Driver",     "DRIVER",	    "Scope",  "SCOPE",	     "Availability", "AVAILABILITY",
	"Mountpoint", "MOUNTPOINT", "Labels", "LABELS",	     "Links",	     "LINKS",
	"Size",	      "SIZE",	    "Status", "STATUS",	     NULL,
};

const char *const build_cache_header_pairs[] = {
	"ID",	 "CACHE ID",	 "Parent",  "PARENT",	     "CacheType",   "CACHE TYPE",  "Size",
	"SIZE",	 "CreatedSince", "CREATED", "LastUsedSince", "LAST USED",   "UsageCount",  "USAGE",
	"InUse", "IN USE",	 "Shared",  "SHARED",	     "Description", "DESCRIPTION", NULL,
};

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "k=v,k=v" of a labels object, sorted or in the object's order */
static void join_labels(struct sbuf *out, json_t *labels, bool sorted)
{
	size_t n = json_object_size(labels), k = 0;
	char **items = xcalloc(n ? n : 1, sizeof(*items));
	const char *key;
	json_t *v;

	json_object_foreach (labels, key, v)
		items[k++] =
			xasprintf("%s=%s", key, json_string_value(v) ? json_string_value(v) : "");
	if (sorted)
		qsort(items, n, sizeof(*items), cmp_str);
	for (size_t i = 0; i < n; i++) {
		sbuf_printf(out, "%s%s", i ? "," : "", items[i]);
		free(items[i]);
	}
	free(items);
}

/* Label "name": the value of that label of the object (its "Labels") */
static int label_method(const struct ctx_obj *c, const char *name, json_t *const *args, size_t n,
			json_t **ret, char **err)
{
	json_t *labels = json_object_get(c->src, "Labels");

	if (strcmp(name, "Label") != 0)
		return -ENOENT;
	if (n != 1) {
		*err = xasprintf("wrong number of args for Label: want 1 got %zu", n);
		return -EINVAL;
	}
	if (!json_is_string(args[0])) {
		*err = xstrdup("wrong type for value; expected string");
		return -EINVAL;
	}
	const char *v = json_string_value(json_object_get(labels, json_string_value(args[0])));
	*ret = json_string(v ? v : "");
	return 0;
}

/* ---- containers ---------------------------------------------------------------------------------- */

struct port {
	const char *ip, *type;
	int64_t private_port, public_port;
};

static int cmp_port(const void *a, const void *b)
{
	const struct port *i = a, *j = b;
	int c;

	if (i->private_port != j->private_port)
		return i->private_port < j->private_port ? -1 : 1;
	if ((c = strcmp(i->ip, j->ip)))
		return c;
	if (i->public_port != j->public_port)
		return i->public_port < j->public_port ? -1 : 1;
	return strcmp(i->type, j->type);
}

static void host_port(struct sbuf *out, const char *ip, const char *port)
{
	/* net.JoinHostPort: IPv6 addresses in brackets */
	if (strchr(ip, ':'))
		sbuf_printf(out, "[%s]:%s", ip, port);
	else
		sbuf_printf(out, "%s:%s", ip, port);
}

static void form_group(struct sbuf *out, const char *key, int64_t first, int64_t last)
{
	/* the key is "type" or "ip/type" */
	const char *slash = strchr(key, '/');
	_cleanup_free_ char *ip = slash ? xstrndup(key, (size_t)(slash - key)) : NULL;
	const char *type = slash ? slash + 1 : key;
	_cleanup_sbuf_ struct sbuf group = SBUF_INIT;

	sbuf_printf(&group, "%" PRId64, first);
	if (first != last)
		sbuf_printf(&group, "-%" PRId64, last);
	if (ip && *ip) {
		host_port(out, ip, sbuf_str(&group));
		sbuf_adds(out, "->");
	}
	sbuf_printf(out, "%s/%s", sbuf_str(&group), type);
}

/* docker's DisplayablePorts: consecutive ports of one kind as ranges, then host mappings */
void displayable_ports(struct sbuf *out, json_t *ports)
{
	size_t n = json_array_size(ports), ng = 0;
	struct port *p = xcalloc(n ? n : 1, sizeof(*p));
	struct {
		char *key;
		int64_t first, last;
	} *groups = xcalloc(n ? n : 1, sizeof(*groups));
	_cleanup_sbuf_ struct sbuf result = SBUF_INIT, mappings = SBUF_INIT;
	size_t i;
	json_t *e;

	json_array_foreach (ports, i, e) {
		p[i].ip = jstr(e, "IP");
		p[i].type = jstr(e, "Type");
		p[i].private_port = json_integer_value(json_object_get(e, "PrivatePort"));
		p[i].public_port = json_integer_value(json_object_get(e, "PublicPort"));
	}
	qsort(p, n, sizeof(*p), cmp_port);
	for (i = 0; i < n; i++) {
		_cleanup_free_ char *key = NULL;
		if (*p[i].ip) {
			if (p[i].public_port != p[i].private_port) {
				char pub[32];
				snprintf(pub, sizeof(pub), "%" PRId64, p[i].public_port);
				if (mappings.len)
					sbuf_adds(&mappings, ", ");
				host_port(&mappings, p[i].ip, pub);
				sbuf_printf(&mappings, "->%" PRId64 "/%s", p[i].private_port,
					    p[i].type);
				continue;
			}
			key = xasprintf("%s/%s", p[i].ip, p[i].type);
		} else {
			key = xstrdup(p[i].type);
		}
		size_t g = ng;
		for (size_t k = 0; k < ng; k++)
			if (strcmp(groups[k].key, key) == 0)
				g = k;
		if (g == ng) {
			groups[ng].key = TAKE_PTR(key);
			groups[ng].first = groups[ng].last = p[i].private_port;
			ng++;
			continue;
		}
		if (p[i].private_port == groups[g].last + 1) {
			groups[g].last = p[i].private_port;
			continue;
		}
		if (result.len)
			sbuf_adds(&result, ", ");
		form_group(&result, groups[g].key, groups[g].first, groups[g].last);
		groups[g].first = groups[g].last = p[i].private_port;
	}
	for (size_t k = 0; k < ng; k++) {
		if (result.len)
			sbuf_adds(&result, ", ");
		form_group(&result, groups[k].key, groups[k].first, groups[k].last);
		free(groups[k].key);
	}
	sbuf_adds(out, sbuf_str(&result));
	if (mappings.len) {
		if (result.len)
			sbuf_adds(out, ", ");
		sbuf_adds(out, sbuf_str(&mappings));
	}
	free(groups);
	free(p);
}

static int container_call(const struct ctx_obj *c, const char *name, json_t *const *args, size_t n,
			  json_t **ret, char **err)
{
	if (strcmp(name, "Platform") == 0 && n == 0) {
		/* *formatter.Platform prints through its String(): "linux/amd64" */
		json_t *p = json_object_get(c->values, "Platform");
		if (!json_is_object(p)) {
			*ret = NULL;
			return 0;
		}
		_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
		sbuf_printf(&b, "%s/%s", jstr(p, "os"), jstr(p, "architecture"));
		if (*jstr(p, "variant"))
			sbuf_printf(&b, "/%s", jstr(p, "variant"));
		*ret = json_string(sbuf_str(&b));
		return 0;
	}
	return label_method(c, name, args, n, ret, err);
}

void container_ctx_init(struct ctx_obj *c, json_t *s, bool trunc)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	const char *id = jstr(s, "Id"), *image = jstr(s, "Image");
	int64_t created = json_integer_value(json_object_get(s, "Created"));
	size_t i;
	json_t *e;

	ctx_obj_init(c, "*formatter.ContainerContext", NULL);
	c->call_args = container_call;
	c->src = json_incref(s);
	if (trunc)
		truncate_id(&b, id);
	else
		sbuf_adds(&b, id);
	ctx_set(c, "ID", sbuf_str(&b));

	/* Names: without the leading '/'; truncated, the first one that is not a link */
	sbuf_reset(&b);
	json_t *names = json_object_get(s, "Names");
	const char *only = NULL;
	if (trunc)
		json_array_foreach (names, i, e) {
			const char *nm = json_string_value(e);
			if (nm && *nm && !strchr(nm + 1, '/')) {
				only = nm + 1;
				break;
			}
		}
	if (only) {
		sbuf_adds(&b, only);
	} else {
		json_array_foreach (names, i, e) {
			const char *nm = json_string_value(e);
			sbuf_printf(&b, "%s%s", i ? "," : "", nm && *nm ? nm + 1 : "");
		}
	}
	ctx_set(c, "Names", sbuf_str(&b));

	/* Image: <no image>; truncated, the short ID or the familiar name (without digest) */
	sbuf_reset(&b);
	if (!*image) {
		sbuf_adds(&b, "<no image>");
	} else if (trunc) {
		_cleanup_sbuf_ struct sbuf t1 = SBUF_INIT, t2 = SBUF_INIT;
		struct ref r;
		char *err = NULL;
		truncate_id(&t1, jstr(s, "ImageID"));
		truncate_id(&t2, image);
		if (strcmp(sbuf_str(&t1), sbuf_str(&t2)) == 0) {
			sbuf_adds(&b, sbuf_str(&t1));
		} else if (ref_parse_normalized(image, &r, &err) == 0) {
			_cleanup_free_ char *fam = ref_familiar_name(&r);
			sbuf_adds(&b, fam);
			if (r.tag)
				sbuf_printf(&b, ":%s", r.tag);
			ref_release(&r);
		} else {
			free(err);
			sbuf_adds(&b, image);
		}
	} else {
		sbuf_adds(&b, image);
	}
	ctx_set(c, "Image", sbuf_str(&b));

	sbuf_reset(&b);
	{
		_cleanup_sbuf_ struct sbuf cmd = SBUF_INIT;
		if (trunc)
			ellipsis(&cmd, jstr(s, "Command"), 20);
		else
			sbuf_adds(&cmd, jstr(s, "Command"));
		go_quote(&b, cmd.p ? cmd.p : "", cmd.len);
	}
	ctx_set(c, "Command", sbuf_str(&b));
	sbuf_reset(&b);
	go_time_string(&b, created, 0);
	ctx_set(c, "CreatedAt", sbuf_str(&b));
	sbuf_reset(&b);
	human_duration(&b, now_ns() - created * 1000000000);
	sbuf_adds(&b, " ago");
	ctx_set(c, "RunningFor", sbuf_str(&b));
	sbuf_reset(&b);
	displayable_ports(&b, json_object_get(s, "Ports"));
	ctx_set(c, "Ports", sbuf_str(&b));
	ctx_set(c, "State", jstr(s, "State"));
	ctx_set(c, "Status", jstr(s, "Status"));

	sbuf_reset(&b);
	int64_t rw = json_integer_value(json_object_get(s, "SizeRw"));
	int64_t rootfs = json_integer_value(json_object_get(s, "SizeRootFs"));
	human_size(&b, (double)rw, 3);
	if (rootfs > 0) {
		sbuf_adds(&b, " (virtual ");
		human_size(&b, (double)rootfs, 3);
		sbuf_addc(&b, ')');
	}
	ctx_set(c, "Size", sbuf_str(&b));
	sbuf_reset(&b);
	join_labels(&b, json_object_get(s, "Labels"), true);
	ctx_set(c, "Labels", sbuf_str(&b));

	sbuf_reset(&b);
	int local = 0;
	json_array_foreach (json_object_get(s, "Mounts"), i, e) {
		const char *name = jstr(e, "Name");
		if (!*name)
			name = jstr(e, "Source");
		if (i)
			sbuf_addc(&b, ',');
		if (trunc)
			ellipsis(&b, name, 15);
		else
			sbuf_adds(&b, name);
		local += strcmp(jstr(e, "Driver"), "local") == 0;
	}
	ctx_set(c, "Mounts", sbuf_str(&b));
	sbuf_reset(&b);
	sbuf_printf(&b, "%d", local);
	ctx_set(c, "LocalVolumes", sbuf_str(&b));

	sbuf_reset(&b);
	const char *key;
	bool first = true;
	json_object_foreach (json_object_get(json_object_get(s, "NetworkSettings"), "Networks"),
			     key, e) {
		sbuf_printf(&b, "%s%s", first ? "" : ",", key);
		first = false;
	}
	ctx_set(c, "Networks", sbuf_str(&b));
	json_t *platform =
		json_object_get(json_object_get(s, "ImageManifestDescriptor"), "platform");
	json_object_set(c->values, "Platform", json_is_object(platform) ? platform : json_null());
}

/* ---- volumes --------------------------------------------------------------------------------------- */

void volume_ctx_init(struct ctx_obj *c, json_t *v)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	json_t *usage = json_object_get(v, "UsageData");
	json_t *cluster = json_object_get(v, "ClusterVolume");

	ctx_obj_init(c, "*formatter.volumeContext", NULL);
	c->call_args = label_method;
	c->src = json_incref(v);
	ctx_set(c, "Name", jstr(v, "Name"));
	ctx_set(c, "Driver", jstr(v, "Driver"));
	ctx_set(c, "Scope", jstr(v, "Scope"));
	ctx_set(c, "Mountpoint", jstr(v, "Mountpoint"));
	join_labels(&b, json_object_get(v, "Labels"), false);
	ctx_set(c, "Labels", sbuf_str(&b));
	sbuf_reset(&b);
	if (!json_is_object(usage)) {
		ctx_set(c, "Links", "N/A");
		ctx_set(c, "Size", "N/A");
	} else {
		sbuf_printf(&b, "%" JSON_INTEGER_FORMAT,
			    json_integer_value(json_object_get(usage, "RefCount")));
		ctx_set(c, "Links", sbuf_str(&b));
		sbuf_reset(&b);
		human_size(&b, (double)json_integer_value(json_object_get(usage, "Size")), 4);
		ctx_set(c, "Size", sbuf_str(&b));
	}
	if (!json_is_object(cluster)) {
		ctx_set(c, "Group", "N/A");
		ctx_set(c, "Availability", "N/A");
		ctx_set(c, "Status", "N/A");
		return;
	}
	json_t *spec = json_object_get(cluster, "Spec");
	ctx_set(c, "Group", jstr(spec, "Group"));
	ctx_set(c, "Availability", jstr(spec, "Availability"));
	json_t *info = json_object_get(cluster, "Info");
	size_t published = json_array_size(json_object_get(cluster, "PublishStatus"));
	sbuf_reset(&b);
	if (!json_is_object(info) || !*jstr(info, "VolumeID"))
		sbuf_adds(&b, "pending creation");
	else if (published == 0)
		sbuf_adds(&b, "created");
	else if (published == 1)
		sbuf_adds(&b, "in use (1 node)");
	else
		sbuf_printf(&b, "in use (%zu nodes)", published);
	ctx_set(c, "Status", sbuf_str(&b));
}

/* ---- build cache ------------------------------------------------------------------------------------ */

void build_cache_ctx_init(struct ctx_obj *c, json_t *r, bool trunc)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	bool in_use = json_is_true(json_object_get(r, "InUse"));
	const char *created = jstr(r, "CreatedAt");
	json_t *last = json_object_get(r, "LastUsedAt");
	int64_t sec, nsec;
	int off;

	ctx_obj_init(c, "*formatter.buildCacheContext", NULL);
	if (trunc)
		truncate_id(&b, jstr(r, "ID"));
	else
		sbuf_adds(&b, jstr(r, "ID"));
	if (in_use)
		sbuf_addc(&b, '*');
	ctx_set(c, "ID", sbuf_str(&b));
	sbuf_reset(&b);
	/* docker 28's CLI reads the deprecated "Parent", not "Parents" (later CLIs join those) */
	if (trunc)
		truncate_id(&b, jstr(r, "Parent"));
	else
		sbuf_adds(&b, jstr(r, "Parent"));
	ctx_set(c, "Parent", sbuf_str(&b));
	ctx_set(c, "CacheType", jstr(r, "Type"));
	ctx_set(c, "Description", jstr(r, "Description"));
	sbuf_reset(&b);
	human_size(&b, (double)json_integer_value(json_object_get(r, "Size")), 3);
	ctx_set(c, "Size", sbuf_str(&b));
	sbuf_reset(&b);
	go_time_string_rfc3339(&b, created);
	ctx_set(c, "CreatedAt", sbuf_str(&b));
	sbuf_reset(&b);
	if (parse_rfc3339(created, &sec, &nsec, &off))
		human_duration(&b, now_ns() - (sec * 1000000000 + nsec));
	else
		human_duration(&b, now_ns());
	sbuf_adds(&b, " ago");
	ctx_set(c, "CreatedSince", sbuf_str(&b));
	if (!json_is_string(last)) {
		ctx_set(c, "LastUsedAt", "");
		ctx_set(c, "LastUsedSince", "");
	} else {
		sbuf_reset(&b);
		go_time_string_rfc3339(&b, json_string_value(last));
		ctx_set(c, "LastUsedAt", sbuf_str(&b));
		sbuf_reset(&b);
		if (parse_rfc3339(json_string_value(last), &sec, &nsec, &off))
			human_duration(&b, now_ns() - (sec * 1000000000 + nsec));
		sbuf_adds(&b, " ago");
		ctx_set(c, "LastUsedSince", sbuf_str(&b));
	}
	sbuf_reset(&b);
	sbuf_printf(&b, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(r, "UsageCount")));
	ctx_set(c, "UsageCount", sbuf_str(&b));
	ctx_set(c, "InUse", in_use ? "true" : "false");
	ctx_set(c, "Shared", json_is_true(json_object_get(r, "Shared")) ? "true" : "false");
}
