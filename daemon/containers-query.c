/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What reads the container table: GET /containers/json (docker's list with its filters, newest
 * first), GET /containers/{id}/json (inspect in docker 28's shape for API 1.44), and the
 * container part of GET /system/df.  Snapshots are taken under d->lock; sizes (a walk of the
 * upper directory) are measured without it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "containers-internal.h"
#include "base/banned.h"

/* ---- sizes --------------------------------------------------------------------------------- */

static int64_t dir_size(int dirfd, int depth)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int64_t total = 0;

	if (depth > 256)
		return 0;
	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, de->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				total += dir_size(fd, depth + 1);
		} else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
			/* a hard link counts once per name here; docker counts inodes once */
			if (st.st_nlink <= 1 || S_ISLNK(st.st_mode))
				total += st.st_size;
			else
				total += st.st_size / (int64_t)st.st_nlink;
		}
	}
	return total;
}

int64_t ctr_size_rw(const struct daemon_container *c)
{
	_cleanup_free_ char *upper = NULL;
	int fd;

	if (asprintf(&upper, "%s/upper", c->dir) < 0)
		return 0;
	fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	return dir_size(fd, 0);
}

static int64_t image_size(struct berthd *d, const char *image_id)
{
	struct berth_image_info *info = NULL;
	int64_t n = 0;

	if (berth_image_inspect(d->images.store, image_id, &info, NULL) == 0)
		n = (int64_t)info->size;
	berth_image_info_free(info);
	return n;
}

/* ---- shared shapes ------------------------------------------------------------------------- */

/* go-units' HumanDuration */
static void human_duration(int64_t ns, char *buf, size_t len)
{
	int64_t s = ns / 1000000000LL;
	double hours_f = (double)ns / 3.6e12;
	int64_t minutes = s / 60, hours = (int64_t)(hours_f + 0.5);

	if (s < 1)
		snprintf(buf, len, "Less than a second");
	else if (s == 1)
		snprintf(buf, len, "1 second");
	else if (s < 60)
		snprintf(buf, len, "%lld seconds", (long long)s);
	else if (minutes == 1)
		snprintf(buf, len, "About a minute");
	else if (minutes < 60)
		snprintf(buf, len, "%lld minutes", (long long)minutes);
	else if (hours == 1)
		snprintf(buf, len, "About an hour");
	else if (hours < 48)
		snprintf(buf, len, "%lld hours", (long long)hours);
	else if (hours < 24 * 7 * 2)
		snprintf(buf, len, "%lld days", (long long)(hours / 24));
	else if (hours < 24 * 30 * 2)
		snprintf(buf, len, "%lld weeks", (long long)(hours / 24 / 7));
	else if (hours < 24 * 365 * 2)
		snprintf(buf, len, "%lld months", (long long)(hours / 24 / 30));
	else
		snprintf(buf, len, "%lld years", (long long)((int64_t)hours_f / 24 / 365));
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* docker's State.String() (container/state.go) */
static char *status_text_locked(const struct daemon_container *c)
{
	char dur[64], *out = NULL;
	int64_t now = now_ns();

	if (c->running) {
		if (c->paused) {
			human_duration(now - c->started_ns, dur, sizeof(dur));
			return asprintf(&out, "Up %s (Paused)", dur) < 0 ? NULL : out;
		}
		if (c->restarting) {
			human_duration(now - ctr_parse_time(c->finished_at), dur, sizeof(dur));
			return asprintf(&out, "Restarting (%d) %s ago", c->exit_code, dur) < 0
				       ? NULL
				       : out;
		}
		human_duration(now - c->started_ns, dur, sizeof(dur));
		const char *hs = ctr_health_status_locked(c);
		if (strcmp(hs, "none") != 0)
			return asprintf(&out, "Up %s (%s)", dur,
					strcmp(hs, "starting") == 0 ? "health: starting" : hs) < 0
				       ? NULL
				       : out;
		return asprintf(&out, "Up %s", dur) < 0 ? NULL : out;
	}
	if (c->removing)
		return strdup("Removal In Progress");
	if (c->dead)
		return strdup("Dead");
	if (!c->started_at)
		return strdup("Created");
	if (!c->finished_at)
		return strdup("");
	human_duration(now - ctr_parse_time(c->finished_at), dur, sizeof(dur));
	return asprintf(&out, "Exited (%d) %s ago", c->exit_code, dur) < 0 ? NULL : out;
}

static const char *network_mode(const struct daemon_container *c)
{
	return json_string_value(json_object_get(c->host_config, "NetworkMode")) ?: "bridge";
}

/* One endpoint's settings, as docker shows them for a network berthd has no address on (yet). */
static json_t *endpoint_json(void)
{
	return json_pack("{s:n,s:n,s:n,s:s,s:n,s:i,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:i,s:n}",
			 "IPAMConfig", "Links", "Aliases", "MacAddress", "", "DriverOpts",
			 "GwPriority", 0, "NetworkID", "", "EndpointID", "", "Gateway", "",
			 "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "", "GlobalIPv6Address",
			 "", "GlobalIPv6PrefixLen", 0, "DNSNames");
}

static json_t *networks_json(const struct daemon_container *c)
{
	json_t *n;

	if (c->net_settings)
		return json_deep_copy(c->net_settings);
	n = json_object();
	json_t *ep = endpoint_json();
	/* the endpoint's IPAMConfig as asked (--ip, --ip6, --link-local-ip), as docker shows it */
	const json_t *eps = json_object_get(c->networking_config, "EndpointsConfig");
	const json_t *ec = json_object_get(eps, network_mode(c));
	if (!ec && !strcmp(network_mode(c), "bridge")) /* the clients' "default" */
		ec = json_object_get(eps, "default");
	const json_t *ipam = json_object_get(ec, "IPAMConfig");
	if (json_object_size(ipam))
		json_object_set_new(ep, "IPAMConfig", json_deep_copy(ipam));
	json_object_set_new(n, network_mode(c), ep);
	return n;
}

/* Path and Args joined by spaces */
static char *command_of(const struct daemon_container *c)
{
	const char *path = c->path ? c->path : "";
	size_t len = strlen(path) + 1, i;
	json_t *a;
	char *out, *p;

	json_array_foreach (c->args, i, a)
		len += 1 + strlen(json_string_value(a) ?: "");
	out = malloc(len);
	if (!out)
		return NULL;
	p = stpcpy(out, path);
	json_array_foreach (c->args, i, a) {
		*p++ = ' ';
		p = stpcpy(p, json_string_value(a) ?: "");
	}
	return out;
}

/* s as jansson dumps a string: UTF-8 as is; '"', '\' and control characters escaped */
static void put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (;;) {
		const unsigned char *run = p;
		while (*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		fwrite(run, 1, (size_t)(p - run), f);
		if (!*p)
			break;
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			fprintf(f, "\\u%04X", *p);
			break;
		}
		p++;
	}
	fputc('"', f);
}

/* a NULL value leaves the key out, as json_object_set_new() of json_string(NULL) did */
static void put_field(FILE *f, const char *key, const char *value)
{
	if (!value)
		return;
	fprintf(f, ",\"%s\":", key);
	put_string(f, value);
}

/* v as compact JSON (if_bad when it cannot be): through a buffer on the stack, as jansson's
 * dump to a FILE writes every token with an fwrite of its own */
static void put_value(FILE *f, const json_t *v, const char *if_bad)
{
	char buf[4096];
	size_t n = json_dumpb(v, buf, sizeof(buf), JSON_COMPACT | JSON_ENCODE_ANY);

	if (n == 0)
		fputs(if_bad, f);
	else if (n <= sizeof(buf))
		fwrite(buf, 1, n, f);
	else if (json_dumpf(v, f, JSON_COMPACT | JSON_ENCODE_ANY) < 0)
		fputs(if_bad, f);
}

static void put_json(FILE *f, const char *key, const json_t *v)
{
	fprintf(f, ",\"%s\":", key);
	put_value(f, v, "null");
}

/*
 * docker's Summary for the list and /system/df at API version api, written to f as JSON text
 * (d->lock held).  The container's own objects (labels, networks) are written where they are,
 * not copied into a tree first: the list of 50 containers was mostly copies and frees.
 */
static void summary_write_locked(FILE *f, struct berthd *d, struct daemon_container *c,
				 unsigned api)
{
	_cleanup_free_ char *cmd = command_of(c), *status = status_text_locked(c);
	_cleanup_json_ json_t *ports = ctr_network_port_summary_locked(d, c);
	_cleanup_json_ json_t *mounts = ctr_mounts_inspect(c);
	_cleanup_json_ json_t *nets = c->net_settings ? NULL : networks_json(c);
	_cleanup_json_ json_t *no_labels = json_object();
	const char *image = json_string_value(json_object_get(c->config, "Image"));
	const json_t *labels = json_object_get(c->config, "Labels");
	const json_t *ann = json_object_get(c->host_config, "Annotations");

	fputs("{\"Id\":", f);
	put_string(f, c->id);
	fputs(",\"Names\":[", f);
	put_string(f, c->name);
	fputc(']', f);
	put_field(f, "Image", image && *image ? image : c->image_id);
	put_field(f, "ImageID", c->image_id);
	put_field(f, "Command", cmd ? cmd : "");
	fprintf(f, ",\"Created\":%lld", (long long)(c->created_ns / 1000000000LL));
	put_json(f, "Ports", ports);
	put_json(f, "Labels", json_is_object(labels) ? labels : no_labels);
	put_field(f, "State", ctr_status_locked(c));
	put_field(f, "Status", status ? status : "");
	fputs(",\"HostConfig\":{\"NetworkMode\":", f);
	put_string(f, network_mode(c));
	/* 1.46: the summary's HostConfig carries the annotations (omitted when there are none) */
	if (api >= BERTH_API_VERSION(1, 46) && json_object_size(ann) > 0)
		put_json(f, "Annotations", ann);
	fputs("},\"NetworkSettings\":{\"Networks\":", f);
	/* a running container's networks change at start, stop, connect and disconnect only:
	 * their text is kept from one list to the next (dumping them was most of a list) */
	if (c->net_settings && !c->net_settings_text)
		c->net_settings_text = json_dumps(c->net_settings, JSON_COMPACT);
	if (c->net_settings && c->net_settings_text)
		fputs(c->net_settings_text, f);
	else
		put_value(f, c->net_settings ? c->net_settings : nets, "{}");
	fputc('}', f);
	put_json(f, "Mounts", mounts);
	fputc('}', f);
}

/* The same summary as a value (the sizes are added to it, /system/df). */
static json_t *summary_locked(struct berthd *d, struct daemon_container *c, unsigned api)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	__fsetlocking(f, FSETLOCKING_BYCALLER); /* this thread's alone: no lock per write */
	summary_write_locked(f, d, c, api);
	if (fclose(f) != 0)
		return NULL;
	return json_loadb(text, len, 0, NULL);
}

/* ---- the list ---------------------------------------------------------------------------------- */

static int by_created_desc(const void *a, const void *b)
{
	const struct daemon_container *x = *(struct daemon_container *const *)a;
	const struct daemon_container *y = *(struct daemon_container *const *)b;

	return x->created_ns < y->created_ns ? 1 : x->created_ns > y->created_ns ? -1 : 0;
}

static const char *const ps_filters[] = {
	"ancestor", "before", "exited", "id",	   "isolation", "label",   "name",   "status",
	"health",   "since",  "volume", "network", "is-task",	"publish", "expose", NULL};

static bool valid_state(const char *s)
{
	static const char *const states[] = {"created",	 "running", "paused", "restarting",
					     "removing", "exited",  "dead"};
	for (size_t i = 0; i < ARRAY_SIZE(states); i++)
		if (strcmp(s, states[i]) == 0)
			return true;
	return false;
}

static bool kv_labels_match(const struct berth_filters *f, const struct daemon_container *c)
{
	const json_t *l = json_object_get(c->config, "Labels");
	size_t n = json_object_size(l), k = 0;
	struct berth_key_value *kv = calloc(n + 1, sizeof(*kv));
	const char *key;
	json_t *v;
	bool ok;

	if (!kv)
		return false;
	json_object_foreach ((json_t *)l, key, v)
		kv[k++] =
			(struct berth_key_value){(char *)key, (char *)(json_string_value(v) ?: "")};
	ok = berth_filters_match_kv(f, "label", kv, k);
	free(kv);
	return ok;
}

/* the image ids an ancestor filter names (the image and its children, docker's rule) */
static bool ancestor_match(struct berthd *d, const struct berth_filters *f,
			   const struct daemon_container *c)
{
	const char *const *v = berth_filters_values(f, "ancestor");

	if (!v || !v[0])
		return true;
	for (size_t i = 0; v[i]; i++) {
		_cleanup_free_ char *id = NULL;
		if (berth_image_resolve(d->images.store, v[i], &id, NULL) == 0 &&
		    strcmp(id, c->image_id) == 0)
			return true;
	}
	return false;
}

static void containers_list(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_json_ json_t *out = json_array();
	_cleanup_free_ char *text = NULL;
	size_t text_len = 0;
	FILE *w = NULL;
	bool all = berth_http_query_bool(req, "all"), size = berth_http_query_bool(req, "size");
	int64_t limit = -1;
	struct daemon_container **v = NULL, *before = NULL, *since = NULL;
	size_t n = 0, taken = 0;
	const char *const *vals;

	if (berth_http_query_int64(req, "limit", -1, INT32_MIN, INT32_MAX, &limit, &e) < 0 ||
	    berth_http_query_filters(req, &f, &e) < 0 ||
	    berth_filters_validate(f, ps_filters, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	/* the legacy before=/since= parameters are the filters of the same name */
	vals = berth_filters_values(f, "exited");
	for (size_t i = 0; vals && vals[i]; i++) {
		int64_t x;
		if (berth_parse_int64(vals[i], INT32_MIN, INT32_MAX, &x) < 0) {
			berth_http_respond_error(
				req, 400,
				"invalid filter 'exited=%s': strconv.Atoi: parsing "
				"\"%s\": invalid syntax",
				vals[i], vals[i]);
			return;
		}
	}
	vals = berth_filters_values(f, "status");
	for (size_t i = 0; vals && vals[i]; i++) {
		if (!valid_state(vals[i])) {
			berth_http_respond_error(
				req, 400,
				"invalid filter 'status=%s': invalid value for state "
				"(%s): must be one of created, running, paused, "
				"restarting, removing, exited, dead",
				vals[i], vals[i]);
			return;
		}
		all = true;
	}
	vals = berth_filters_values(f, "health");
	for (size_t i = 0; vals && vals[i]; i++) {
		if (strcmp(vals[i], "starting") != 0 && strcmp(vals[i], "healthy") != 0 &&
		    strcmp(vals[i], "unhealthy") != 0 && strcmp(vals[i], "none") != 0) {
			berth_http_respond_error(
				req, 400,
				"invalid filter 'health=%s': invalid value for health "
				"(%s): must be one of none, starting, healthy, "
				"unhealthy",
				vals[i], vals[i]);
			return;
		}
	}

	pthread_mutex_lock(&d->lock);
	for (int pass = 0; pass < 2; pass++) {
		const char *key = pass ? "since" : "before";
		const char *const *bv = berth_filters_values(f, key);
		const char *legacy = berth_http_query(req, key);
		const char *ref = bv && bv[0] ? bv[0] : legacy;
		if (!ref || !*ref)
			continue;
		struct daemon_container *x = ctr_find_locked(d, ref, NULL);
		if (!x) {
			pthread_mutex_unlock(&d->lock);
			berth_http_respond_error(req, 404, "No such container: %s", ref);
			return;
		}
		if (pass)
			since = x;
		else
			before = x;
	}
	v = calloc(d->containers.n + 1, sizeof(*v));
	/* without sizes the answer is written as text under the lock, all of it at once */
	if (v && !size)
		w = open_memstream(&text, &text_len);
	if (!v || (!size && !w)) {
		pthread_mutex_unlock(&d->lock);
		free(v);
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	if (w)
		__fsetlocking(w, FSETLOCKING_BYCALLER); /* this thread's alone: no lock per write */
	for (size_t i = 0; i < d->containers.n; i++)
		v[n++] = d->containers.v[i];
	qsort(v, n, sizeof(*v), by_created_desc);
	for (size_t i = 0; i < n; i++) {
		struct daemon_container *c = v[i];
		if (before) {
			if (c == before)
				before = NULL;
			continue;
		}
		if (since && c == since)
			break;
		if (!c->running && !all && limit <= 0)
			continue;
		if (!berth_filters_match(f, "name", c->name) &&
		    !berth_filters_match(f, "name", c->name + 1))
			continue;
		vals = berth_filters_values(f, "id");
		if (vals && vals[0]) {
			bool ok = false;
			for (size_t k = 0; vals[k]; k++)
				ok = ok || berth_str_has_prefix(c->id, vals[k]);
			if (!ok && !berth_filters_match(f, "id", c->id))
				continue;
		}
		if (!kv_labels_match(f, c))
			continue;
		if (limit > 0 && (int64_t)taken == limit)
			break;
		vals = berth_filters_values(f, "exited");
		if (vals && vals[0]) {
			bool ok = false;
			for (size_t k = 0; vals[k]; k++)
				ok = ok || (atoll(vals[k]) == c->exit_code && !c->running &&
					    c->started_at);
			if (!ok)
				continue;
		}
		if (!berth_filters_match(f, "status", ctr_status_locked(c)))
			continue;
		if (!berth_filters_exact_match(f, "health", ctr_health_status_locked(c)))
			continue;
		if (berth_filters_contains(f, "volume") || berth_filters_contains(f, "publish") ||
		    berth_filters_contains(f, "expose"))
			continue; /* no container has volumes or ports yet */
		if (berth_filters_contains(f, "network") &&
		    !berth_filters_exact_match(f, "network", network_mode(c)))
			continue;
		if (!berth_filters_exact_match(f, "isolation", "default") &&
		    !berth_filters_exact_match(f, "isolation", ""))
			continue;
		if (!ancestor_match(d, f, c))
			continue;
		if (!size) {
			fputc(taken ? ',' : '[', w);
			summary_write_locked(w, d, c, berth_http_api_version(req));
			taken++;
			continue;
		}
		json_t *s = summary_locked(d, c, berth_http_api_version(req));
		if (!s)
			continue;
		if (size)
			json_object_set_new(s, "Ref", json_string(c->dir));
		json_array_append_new(out, s);
		taken++;
	}
	pthread_mutex_unlock(&d->lock);
	free(v);
	if (!size) {
		fputs(taken ? "]\n" : "[]\n", w);
		if (fclose(w) != 0) {
			berth_http_respond_error(req, 500, "out of memory");
			return;
		}
		berth_http_respond(req, 200, "application/json", text, text_len);
		return;
	}
	/* the sizes, measured without the lock */
	size_t i;
	json_t *s;
	json_array_foreach (out, i, s) {
		struct daemon_container tmp = {
			.dir = (char *)json_string_value(json_object_get(s, "Ref"))};
		int64_t rw = ctr_size_rw(&tmp);
		int64_t img = image_size(d, json_string_value(json_object_get(s, "ImageID")));
		if (rw)
			json_object_set_new(s, "SizeRw", json_integer(rw));
		if (rw + img)
			json_object_set_new(s, "SizeRootFs", json_integer(rw + img));
		json_object_del(s, "Ref");
	}
	berth_http_respond_json(req, 200, out);
}

/* ---- inspect ---------------------------------------------------------------------------------- */

enum hk { H_STRV, H_STR, H_INT, H_BOOL, H_OBJ, H_ANY, H_OMIT, H_OMIT_INT };

static const struct {
	const char *name;
	enum hk kind;
} host_fields[] = {
	{"Binds", H_STRV},
	{"ContainerIDFile", H_STR},
	{"LogConfig", H_ANY},
	{"NetworkMode", H_STR},
	{"PortBindings", H_ANY},
	{"RestartPolicy", H_ANY},
	{"AutoRemove", H_BOOL},
	{"VolumeDriver", H_STR},
	{"VolumesFrom", H_STRV},
	{"ConsoleSize", H_ANY},
	{"Annotations", H_OMIT},
	{"CapAdd", H_STRV},
	{"CapDrop", H_STRV},
	{"CgroupnsMode", H_STR},
	{"Dns", H_STRV},
	{"DnsOptions", H_STRV},
	{"DnsSearch", H_STRV},
	{"ExtraHosts", H_STRV},
	{"GroupAdd", H_STRV},
	{"IpcMode", H_STR},
	{"Cgroup", H_STR},
	{"Links", H_STRV},
	{"OomScoreAdj", H_INT},
	{"PidMode", H_STR},
	{"Privileged", H_BOOL},
	{"PublishAllPorts", H_BOOL},
	{"ReadonlyRootfs", H_BOOL},
	{"SecurityOpt", H_STRV},
	{"StorageOpt", H_OMIT},
	{"Tmpfs", H_OMIT},
	{"UTSMode", H_STR},
	{"UsernsMode", H_STR},
	{"ShmSize", H_INT},
	{"Sysctls", H_OMIT},
	{"Runtime", H_OMIT},
	{"Isolation", H_STR},
	{"CpuShares", H_INT},
	{"Memory", H_INT},
	{"NanoCpus", H_INT},
	{"CgroupParent", H_STR},
	{"BlkioWeight", H_INT},
	{"BlkioWeightDevice", H_STRV},
	{"BlkioDeviceReadBps", H_STRV},
	{"BlkioDeviceWriteBps", H_STRV},
	{"BlkioDeviceReadIOps", H_STRV},
	{"BlkioDeviceWriteIOps", H_STRV},
	{"CpuPeriod", H_INT},
	{"CpuQuota", H_INT},
	{"CpuRealtimePeriod", H_INT},
	{"CpuRealtimeRuntime", H_INT},
	{"CpusetCpus", H_STR},
	{"CpusetMems", H_STR},
	{"Devices", H_STRV},
	{"DeviceCgroupRules", H_STRV},
	{"DeviceRequests", H_STRV},
	{"KernelMemory", H_OMIT_INT},
	{"KernelMemoryTCP", H_OMIT_INT},
	{"MemoryReservation", H_INT},
	{"MemorySwap", H_INT},
	{"MemorySwappiness", H_ANY},
	{"OomKillDisable", H_ANY},
	{"PidsLimit", H_ANY},
	{"Ulimits", H_STRV},
	{"CpuCount", H_INT},
	{"CpuPercent", H_INT},
	{"IOMaximumIOps", H_INT},
	{"IOMaximumBandwidth", H_INT},
	{"Mounts", H_OMIT},
	{"MaskedPaths", H_STRV},
	{"ReadonlyPaths", H_STRV},
	{"Init", H_OMIT},
};

/* HostConfig as dockerd marshals it: every field in its order, zero values where unset */
static json_t *host_config_json(const json_t *in)
{
	json_t *out = json_object();

	for (size_t i = 0; out && i < ARRAY_SIZE(host_fields); i++) {
		const char *k = host_fields[i].name;
		json_t *v = json_object_get(in, k);
		switch (host_fields[i].kind) {
		case H_STRV:
			json_object_set_new(out, k,
					    json_is_array(v) ? json_deep_copy(v) : json_null());
			break;
		case H_STR:
			json_object_set_new(out, k, json_string(json_string_value(v) ?: ""));
			break;
		case H_INT:
			json_object_set_new(out, k, json_integer(json_integer_value(v)));
			break;
		case H_BOOL:
			json_object_set_new(out, k, json_boolean(json_is_true(v)));
			break;
		case H_OBJ:
			json_object_set_new(out, k,
					    json_is_object(v) ? json_deep_copy(v) : json_object());
			break;
		case H_ANY:
			json_object_set_new(out, k, v ? json_deep_copy(v) : json_null());
			break;
		case H_OMIT:
			if (v && !json_is_null(v) &&
			    !(json_is_object(v) && json_object_size(v) == 0) &&
			    !(json_is_array(v) && json_array_size(v) == 0) &&
			    !(json_is_string(v) && !*json_string_value(v)))
				json_object_set_new(out, k, json_deep_copy(v));
			break;
		case H_OMIT_INT:
			if (json_integer_value(v))
				json_object_set_new(out, k, json_integer(json_integer_value(v)));
			break;
		}
	}
	if (out && json_is_null(json_object_get(out, "ConsoleSize")))
		json_object_set_new(out, "ConsoleSize", json_pack("[i,i]", 0, 0));
	return out;
}

/* HostConfig.Links as docker's inspect shows them, from its link graph: "/child:/parent/alias" */
static void links_as_docker_locked(struct berthd *d, struct daemon_container *c, json_t *hc)
{
	json_t *links = json_object_get(hc, "Links");
	const char *parent = c->name && c->name[0] == '/' ? c->name + 1 : c->name ?: "";
	size_t i;
	json_t *l;

	json_array_foreach (links, i, l) {
		const char *spec = json_string_value(l) ?: "", *colon = strchr(spec, ':');
		_cleanup_free_ char *name =
			colon ? strndup(spec, (size_t)(colon - spec)) : strdup(spec);
		const char *alias = colon ? colon + 1 : spec;
		if (!name || *spec == '/')
			continue;
		struct daemon_container *x = ctr_find_locked(d, name, NULL);
		const char *child =
			x && x->name ? (x->name[0] == '/' ? x->name + 1 : x->name) : name;
		json_array_set_new(links, i, json_sprintf("/%s:/%s/%s", child, parent, alias));
	}
}

json_t *ctr_inspect_json_locked(struct berthd *d, struct daemon_container *c, unsigned api,
				bool size)
{
	struct berth_rootfs_paths p = {0};
	json_t *j = json_object(), *gd, *ns;
	char path[4096];

	if (!j)
		return NULL;
	json_object_set_new(j, "Id", json_string(c->id));
	json_object_set_new(j, "Created", json_string(c->created));
	json_object_set_new(j, "Path", json_string(c->path ? c->path : ""));
	json_object_set_new(j, "Args", json_deep_copy(c->args));
	json_object_set_new(
		j, "State",
		json_pack("{s:s,s:b,s:b,s:b,s:b,s:b,s:i,s:i,s:s,s:s,s:s}", "Status",
			  ctr_status_locked(c), "Running", c->running, "Paused", c->paused,
			  "Restarting", c->restarting, "OOMKilled", c->oom_killed, "Dead", c->dead,
			  "Pid", (int)c->pid, "ExitCode", c->exit_code, "Error",
			  c->error ? c->error : "", "StartedAt",
			  c->started_at ? c->started_at : "0001-01-01T00:00:00Z", "FinishedAt",
			  c->finished_at ? c->finished_at : "0001-01-01T00:00:00Z"));
	json_t *health = ctr_health_json_locked(c);
	if (health)
		json_object_set_new(json_object_get(j, "State"), "Health", health);
	json_object_set_new(j, "Image", json_string(c->image_id));
	snprintf(path, sizeof(path), "%s/resolv.conf", c->dir);
	json_object_set_new(j, "ResolvConfPath", json_string(path));
	snprintf(path, sizeof(path), "%s/hostname", c->dir);
	json_object_set_new(j, "HostnamePath", json_string(path));
	snprintf(path, sizeof(path), "%s/hosts", c->dir);
	json_object_set_new(j, "HostsPath", json_string(path));
	/* docker's local driver names no file */
	const char *ltype = json_string_value(
		json_object_get(json_object_get(c->host_config, "LogConfig"), "Type"));
	json_object_set_new(
		j, "LogPath",
		json_string(c->log_path && !berth_streq(ltype, "local") ? c->log_path : ""));
	json_object_set_new(j, "Name", json_string(c->name));
	json_object_set_new(j, "RestartCount", json_integer(c->restart_count));
	json_object_set_new(j, "Driver", json_string("overlay2"));
	json_object_set_new(j, "Platform", json_string("linux"));
	json_object_set_new(j, "MountLabel", json_string(""));
	json_object_set_new(j, "ProcessLabel", json_string(""));
	json_object_set_new(j, "AppArmorProfile", json_string(""));
	json_object_set_new(j, "ExecIDs", json_null());
	json_object_set_new(j, "HostConfig", host_config_json(c->host_config));
	links_as_docker_locked(d, c, json_object_get(j, "HostConfig"));
	gd = json_object();
	if (berth_rootfs_paths(d->images.store, c->top_layer, c->dir, &p, NULL) == 0) {
		json_t *data = json_object();
		if (p.lower_dir && *p.lower_dir)
			json_object_set_new(data, "LowerDir", json_string(p.lower_dir));
		json_object_set_new(data, "MergedDir", json_string(p.merged_dir));
		json_object_set_new(data, "UpperDir", json_string(p.upper_dir));
		json_object_set_new(data, "WorkDir", json_string(p.work_dir));
		json_object_set_new(gd, "Data", data);
		berth_rootfs_paths_release(&p);
	} else {
		json_object_set_new(gd, "Data", json_null());
	}
	json_object_set_new(gd, "Name", json_string("overlay2"));
	json_object_set_new(j, "GraphDriver", gd);
	if (size) {
		/* placeholders, measured by the caller without the lock */
		json_object_set_new(j, "SizeRw", json_integer(0));
		json_object_set_new(j, "SizeRootFs", json_integer(0));
	}
	json_object_set_new(j, "Mounts", ctr_mounts_inspect(c));
	json_object_set_new(j, "Config", daemon_container_config_json(c->config));
	ns = json_object();
	json_object_set_new(ns, "Bridge", json_string(""));
	json_object_set_new(ns, "SandboxID", json_string(""));
	json_object_set_new(ns, "SandboxKey", json_string(c->netns_path ? c->netns_path : ""));
	json_object_set_new(ns, "Ports", ctr_network_ports_locked(d, c));
	if (api < BERTH_API_VERSION(1, 44)) {
		json_object_set_new(ns, "HairpinMode", json_false());
		json_object_set_new(ns, "LinkLocalIPv6Address", json_string(""));
		json_object_set_new(ns, "LinkLocalIPv6PrefixLen", json_integer(0));
		json_object_set_new(ns, "SecondaryIPAddresses", json_null());
		json_object_set_new(ns, "SecondaryIPv6Addresses", json_null());
	}
	/* the top-level fields are the default bridge network's endpoint, as docker has them */
	const json_t *b = json_object_get(c->net_settings, "bridge");
	static const char *const str_fields[] = {"EndpointID", "Gateway",     "GlobalIPv6Address",
						 "IPAddress",  "IPv6Gateway", "MacAddress"};
	for (size_t k = 0; k < sizeof(str_fields) / sizeof(*str_fields); k++)
		json_object_set_new(
			ns, str_fields[k],
			json_string(json_string_value(json_object_get(b, str_fields[k])) ?: ""));
	json_object_set_new(
		ns, "GlobalIPv6PrefixLen",
		json_integer(json_integer_value(json_object_get(b, "GlobalIPv6PrefixLen"))));
	json_object_set_new(ns, "IPPrefixLen",
			    json_integer(json_integer_value(json_object_get(b, "IPPrefixLen"))));
	json_object_set_new(ns, "Networks", networks_json(c));
	json_object_set_new(j, "NetworkSettings", ns);
	return j;
}

static void container_inspect(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *j = NULL;
	struct daemon_container *c;
	bool size = berth_http_query_bool(req, "size");

	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	pthread_mutex_lock(&d->lock);
	j = ctr_inspect_json_locked(d, c, berth_http_api_version(req), size);
	pthread_mutex_unlock(&d->lock);
	if (j && size) {
		int64_t rw = ctr_size_rw(c);
		json_object_set_new(j, "SizeRw", json_integer(rw));
		json_object_set_new(j, "SizeRootFs", json_integer(rw + image_size(d, c->image_id)));
	}
	ctr_unref(d, c);
	if (!j) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	berth_http_respond_json(req, 200, j);
}

/* ---- /system/df --------------------------------------------------------------------------------- */

json_t *daemon_containers_disk_usage(struct berthd *d, unsigned api)
{
	json_t *out = json_array();
	struct daemon_container **v;
	size_t n, i;
	json_t *s;

	pthread_mutex_lock(&d->lock);
	n = d->containers.n;
	v = calloc(n + 1, sizeof(*v));
	for (i = 0; v && i < n; i++)
		v[i] = ctr_ref(d->containers.v[i]);
	if (v)
		qsort(v, n, sizeof(*v), by_created_desc);
	for (i = 0; v && i < n; i++) {
		s = summary_locked(d, v[i], api);
		if (s)
			json_array_append_new(out, s);
	}
	pthread_mutex_unlock(&d->lock);
	for (i = 0; v && i < n; i++) {
		int64_t rw = ctr_size_rw(v[i]);
		s = json_array_get(out, i);
		json_object_set_new(s, "SizeRw", json_integer(rw));
		json_object_set_new(s, "SizeRootFs",
				    json_integer(rw + image_size(d, v[i]->image_id)));
		ctr_unref(d, v[i]);
	}
	free(v);
	return out;
}

int ctr_routes_query(struct berthd *d, struct berth_error **err)
{
	int r = 0;

	r = r
		    ?: berth_api_router_add(d->router, "GET", "/containers/json", containers_list,
					    d, err);
	r = r
		    ?: berth_api_router_add(d->router, "GET", "/containers/{name}/json",
					    container_inspect, d, err);
	return r;
}
