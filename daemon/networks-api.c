/* SPDX-License-Identifier: Apache-2.0 */
/* /networks: list, inspect, create, delete, prune, in Docker's shapes and with its statuses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "networks-internal.h"
#include "base/banned.h"

#define MAX_CREATE_BODY (1 << 20)

/* Go's time.RFC3339Nano in UTC, as dockerd writes Created. */
static void rfc3339nano(int64_t ns, char buf[40])
{
	time_t sec = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	struct tm tm;
	char base[24], fr[12];
	int len;

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac == 0) {
		snprintf(buf, 40, "%sZ", base);
		return;
	}
	len = snprintf(fr, sizeof(fr), "%09ld", frac);
	while (len > 0 && fr[len - 1] == '0')
		fr[--len] = '\0';
	snprintf(buf, 40, "%s.%sZ", base, fr);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A copy with its keys in sorted order, as Go's encoding/json writes a map. */
static json_t *sorted_copy(const json_t *obj)
{
	size_t n = json_object_size(obj), i = 0;
	_cleanup_free_ const char **keys = calloc(n + 1, sizeof(*keys));
	json_t *out = json_object();
	const char *k;
	json_t *v;

	if (!keys || !out)
		return out;
	json_object_foreach ((json_t *)obj, k, v)
		keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		json_object_set(out, keys[i], json_object_get(obj, keys[i]));
	return out;
}

json_t *daemon_network_json_locked(struct berthd *d, const struct daemon_network *n, unsigned api,
				   bool with_containers)
{
	char created[40];
	json_t *ipam_config = json_array(), *containers = json_object();

	rfc3339nano(n->created_ns, created);
	if (n->has_pool && ipam_config) {
		char sub[19], gw[16], range[19];
		json_t *c;

		berth_net_prefix_format(&n->pool.subnet, sub);
		berth_net_addr_format(n->pool.gateway, gw);
		c = json_pack("{s:s, s:s}", "Subnet", sub, "Gateway", gw);
		if (c && n->has_range) {
			berth_net_prefix_format(&n->range, range);
			json_object_set_new(c, "IPRange", json_string(range));
		}
		json_array_append_new(ipam_config, c);
	}
	if (n->ipv6 && ipam_config) {
		char sub[BERTH_NET6_PREFIX_MAX], gw[BERTH_NET6_ADDR_MAX],
			range[BERTH_NET6_PREFIX_MAX];
		json_t *c;

		berth_net6_prefix_format(&n->pool6.subnet, sub);
		berth_net6_addr_format(n->pool6.gateway, gw);
		c = json_pack("{s:s, s:s}", "Subnet", sub, "Gateway", gw);
		if (c && n->has_range6) {
			berth_net6_prefix_format(&n->range6, range);
			json_object_set_new(c, "IPRange", json_string(range));
		}
		json_array_append_new(ipam_config, c);
	}
	for (size_t i = 0; with_containers && containers && i < n->n_endpoints; i++) {
		const struct daemon_endpoint *ep = &n->endpoints[i];
		char ip[16], cidr[24], mac[18], ip6[BERTH_NET6_ADDR_MAX],
			cidr6[BERTH_NET6_PREFIX_MAX];

		cidr6[0] = '\0';
		if (ep->has_ip6) {
			berth_net6_addr_format(ep->ip6, ip6);
			snprintf(cidr6, sizeof(cidr6), "%s/%u", ip6, n->pool6.subnet.len);
		}
		berth_net_addr_format(ep->ip, ip);
		snprintf(cidr, sizeof(cidr), "%s/%u", ip, n->pool.subnet.len);
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ep->mac[0], ep->mac[1],
			 ep->mac[2], ep->mac[3], ep->mac[4], ep->mac[5]);
		json_object_set_new(containers, ep->container_id,
				    json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name",
					      ep->container_name, "EndpointID", ep->endpoint_id,
					      "MacAddress", mac, "IPv4Address", cidr, "IPv6Address",
					      cidr6));
	}
	(void)d;
	(void)api;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:O?, s:o}, s:b, s:b, s:b, "
			 "s:{s:s}, s:b, s:o, s:o, s:o}",
			 "Name", n->name, "Id", n->id, "Created", created, "Scope", "local",
			 "Driver", n->driver, "EnableIPv6", (int)n->ipv6, "IPAM", "Driver",
			 "default", "Options", n->ipam_options, "Config",
			 ipam_config ? ipam_config : json_array(), "Internal", n->internal,
			 "Attachable", n->attachable, "Ingress", 0, "ConfigFrom", "Network", "",
			 "ConfigOnly", 0, "Containers", containers ? containers : json_object(),
			 "Options", sorted_copy(n->options), "Labels", sorted_copy(n->labels));
}

static int respond_err(struct berth_http_request *req, struct berth_error *e)
{
	return berth_http_respond_berror(req, e);
}

static const char *const list_filter_keys[] = {"dangling", "driver", "id",   "label",
					       "name",	   "scope",  "type", NULL};

static bool list_selects(const struct daemon_network *n, const struct berth_filters *f,
			 bool dangling_set, bool dangling)
{
	if (!berth_filters_exact_match(f, "driver", n->driver))
		return false;
	/* docker's filters.Match: each value a regular expression searched in the id, the name */
	if (!berth_filters_match(f, "id", n->id) || !berth_filters_match(f, "name", n->name))
		return false;
	if (!berth_filters_exact_match(f, "scope", "local"))
		return false;
	if (berth_filters_contains(f, "type") &&
	    !berth_filters_exact_match(f, "type", n->predefined ? "builtin" : "custom"))
		return false;
	if (dangling_set && dangling != (!n->predefined && n->n_endpoints == 0))
		return false;
	return daemon_labels_match(f, n->labels);
}

static void networks_list(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *out = json_array();
	bool dangling = false, dangling_set;

	if (berth_http_query_filters(req, &f, &e) < 0 ||
	    berth_filters_validate(f, list_filter_keys, &e) < 0) {
		berth_http_respond_error(req, 400, "%s", e ? e->msg : "invalid filters");
		return;
	}
	const char *const *types = berth_filters_values(f, "type");
	for (; types && *types; types++)
		if (!berth_streq(*types, "custom") && !berth_streq(*types, "builtin")) {
			berth_http_respond_error(req, 400, "invalid filter: 'type'='%s'", *types);
			return;
		}
	/* dockerd's FilterNetworks: one value, 1/true or 0/false, in its words */
	const char *const *dv = berth_filters_values(f, "dangling");
	dangling_set = dv && dv[0];
	if (dangling_set && dv[1]) {
		berth_http_respond_error(req, 400,
					 "got more than one value for filter key \"dangling\"");
		return;
	}
	if (dangling_set && berth_filters_bool(f, "dangling", false, &dangling, &e) < 0) {
		berth_http_respond_error(
			req, 400,
			"invalid value for filter 'dangling', must be \"true\" (or "
			"\"1\"), or \"false\" (or \"0\")");
		return;
	}
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; out && i < d->networks.n; i++)
		if (list_selects(d->networks.v[i], f, dangling_set, dangling))
			json_array_append_new(out, daemon_network_json_locked(
							   d, d->networks.v[i],
							   berth_http_api_version(req), false));
	pthread_mutex_unlock(&d->lock);
	if (!out) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	berth_http_respond_json(req, 200, out);
}

static void network_inspect(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *out = NULL;
	const char *scope = berth_http_query(req, "scope");

	if (scope && *scope && !berth_streq(scope, "local")) {
		/* dockerd looks in the asked scope only: a local network is not in swarm's */
		berth_http_respond_error(req, 404, "network %s not found",
					 berth_http_param(req, "id"));
		return;
	}
	pthread_mutex_lock(&d->lock);
	struct daemon_network *n = daemon_network_find_locked(d, berth_http_param(req, "id"), &e);
	if (n)
		out = daemon_network_json_locked(d, n, berth_http_api_version(req), true);
	pthread_mutex_unlock(&d->lock);
	if (!n) {
		respond_err(req, e);
		return;
	}
	berth_http_respond_json(req, 200, out);
}

/* ---- dockerd's ValidateIPAM (api/types/network/ipam.go), before anything is made ---------- */

/* A prefix of either family as netip.Prefix holds it: the address as given, host bits too. */
struct any_prefix {
	bool v6;
	uint8_t a[16];
	unsigned len;
};

static int parse_any_addr(const char *s, bool *ret_v6, uint8_t a[16])
{
	uint32_t v4;

	memset(a, 0, 16);
	*ret_v6 = strchr(s, ':') != NULL;
	if (*ret_v6)
		return berth_net6_addr_parse(s, a);
	if (berth_net_addr_parse(s, &v4) < 0)
		return -EINVAL;
	a[0] = (uint8_t)(v4 >> 24), a[1] = (uint8_t)(v4 >> 16);
	a[2] = (uint8_t)(v4 >> 8), a[3] = (uint8_t)v4;
	return 0;
}

/* netip.ParsePrefix: "addr/bits", bits in decimal without a sign or a leading zero. */
static int parse_any_prefix(const char *s, struct any_prefix *p)
{
	const char *slash = strchr(s, '/');
	char addr[BERTH_NET6_ADDR_MAX];
	int64_t len;

	if (!slash || (size_t)(slash - s) >= sizeof(addr) || !slash[1] ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) || (slash[1] == '0' && slash[2]))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (parse_any_addr(addr, &p->v6, p->a) < 0 ||
	    berth_parse_int64(slash + 1, 0, p->v6 ? 128 : 32, &len) < 0)
		return -EINVAL;
	p->len = (unsigned)len;
	return 0;
}

static struct any_prefix masked(const struct any_prefix *p)
{
	struct any_prefix m = *p;

	for (unsigned bit = p->len; bit < 128; bit++)
		m.a[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return m;
}

static bool same_prefix(const struct any_prefix *x, const struct any_prefix *y)
{
	return x->v6 == y->v6 && x->len == y->len && memcmp(x->a, y->a, 16) == 0;
}

/* Are the first len bits of a those of p? */
static bool prefix_has(const struct any_prefix *p, const uint8_t a[16])
{
	struct any_prefix q = {.v6 = p->v6, .len = p->len};

	memcpy(q.a, a, 16);
	q = masked(&q);
	struct any_prefix m = masked(p);
	return memcmp(q.a, m.a, 16) == 0;
}

static void format_prefix(const struct any_prefix *p, char buf[BERTH_NET6_PREFIX_MAX])
{
	char a[BERTH_NET6_ADDR_MAX];

	if (p->v6)
		berth_net6_addr_format(p->a, a);
	else
		snprintf(a, sizeof(a), "%u.%u.%u.%u", p->a[0], p->a[1], p->a[2], p->a[3]);
	snprintf(buf, BERTH_NET6_PREFIX_MAX, "%s/%u", a, p->len);
}

static const char *family(bool v6)
{
	return v6 ? "IPv6" : "IPv4";
}

static void check_range(FILE *f, const char *range, const struct any_prefix *sub, const char *sub_s)
{
	struct any_prefix r;
	char r_s[BERTH_NET6_PREFIX_MAX], want[BERTH_NET6_PREFIX_MAX];

	if (!range || !*range)
		return;
	if (parse_any_prefix(range, &r) < 0) {
		fprintf(f, "\ninvalid ip-range %s: invalid CIDR block notation", range);
		return;
	}
	if (r.v6 != sub->v6) {
		fprintf(f, "\ninvalid ip-range %s: parent subnet is an %s block", range,
			family(sub->v6));
		return;
	}
	if (r.len < sub->len)
		fprintf(f, "\ninvalid ip-range %s: CIDR block is bigger than its parent subnet %s",
			range, sub_s);
	struct any_prefix rm = masked(&r);
	if (!same_prefix(&r, &rm)) {
		format_prefix(&r, r_s);
		format_prefix(&rm, want);
		fprintf(f, "\ninvalid ip-range %s: it should be %s", r_s, want);
	}
	/* netip's Overlaps: one holds the other's masked address */
	if (!prefix_has(sub, rm.a) && !prefix_has(&rm, masked(sub).a))
		fprintf(f, "\ninvalid ip-range %s: parent subnet %s doesn't contain ip-range",
			range, sub_s);
}

static void check_gateway(FILE *f, const char *gw, const struct any_prefix *sub, const char *sub_s)
{
	uint8_t a[16];
	bool v6;

	if (!gw || !*gw)
		return;
	if (parse_any_addr(gw, &v6, a) < 0)
		fprintf(f, "\ninvalid gateway %s: invalid address", gw);
	else if (v6 != sub->v6)
		fprintf(f, "\ninvalid gateway %s: parent subnet is an %s block", gw,
			family(sub->v6));
	else if (!prefix_has(sub, a))
		fprintf(f, "\ninvalid gateway %s: parent subnet %s doesn't contain this address",
			gw, sub_s);
}

/*
 * The IPAM configs of a create body as dockerd checks them (an IPv6 one only with IPv6 on): 400
 * "invalid network config:" and every problem on a line of its own.  A body of another shape,
 * or another driver, is left to daemon_network_create's own words.
 */
static int validate_ipam(const json_t *body, struct berth_error **err)
{
	const json_t *configs = json_object_get(json_object_get(body, "IPAM"), "Config");
	const char *driver = json_string_value(json_object_get(body, "Driver"));
	const char *opt6 = json_string_value(json_object_get(json_object_get(body, "Options"),
							     "com.docker.network.enable_ipv6"));
	bool ipv6 = json_is_true(json_object_get(body, "EnableIPv6")) ||
		    (!json_object_get(body, "EnableIPv6") && opt6 && berth_api_parse_bool(opt6));
	_cleanup_free_ char *text = NULL;
	size_t len = 0, i;
	const json_t *c;
	FILE *f;

	if (!json_is_array(configs) || (driver && *driver && !berth_streq(driver, "bridge")) ||
	    !*(json_string_value(json_object_get(body, "Name")) ?: ""))
		return 0;
	f = open_memstream(&text, &len);
	if (!f)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_array_foreach (configs, i, c) {
		const char *sub_s = json_string_value(json_object_get(c, "Subnet"));
		char canon[BERTH_NET6_PREFIX_MAX], want[BERTH_NET6_PREFIX_MAX];
		struct any_prefix sub;

		if (!sub_s || !*sub_s)
			continue;
		if (parse_any_prefix(sub_s, &sub) < 0) {
			fprintf(f, "\ninvalid subnet %s: invalid CIDR block notation", sub_s);
			continue;
		}
		if (sub.v6 && !ipv6)
			continue;
		format_prefix(&sub, canon);
		struct any_prefix m = masked(&sub);
		if (!same_prefix(&sub, &m)) {
			format_prefix(&m, want);
			fprintf(f, "\ninvalid subnet %s: it should be %s", canon, want);
		}
		check_range(f, json_string_value(json_object_get(c, "IPRange")), &sub, canon);
		check_gateway(f, json_string_value(json_object_get(c, "Gateway")), &sub, canon);
	}
	fclose(f);
	if (text && *text)
		return berth_error_set(err, EINVAL, "invalid network config:%s", text);
	return 0;
}

static void network_create(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_json_ json_t *body = NULL, *out = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *id = NULL;
	int r;

	r = berth_http_read_json(req, MAX_CREATE_BODY, &body);
	if (r < 0 || !json_is_object(body)) {
		if (!berth_http_responded(req))
			berth_http_respond_error(req, r == -EFBIG ? 413 : 400,
						 r == -EFBIG ? "request body too large"
							     : "invalid JSON: the body must be an "
							       "object");
		return;
	}
	r = validate_ipam(body, &e);
	if (r == 0)
		r = daemon_network_create(d, body, &id, &e);
	if (r < 0) {
		respond_err(req, e);
		return;
	}
	out = json_pack("{s:s, s:s}", "Id", id, "Warning", "");
	berth_http_respond_json(req, 201, out);
}

static void network_delete(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;

	if (daemon_network_remove(d, berth_http_param(req, "id"), &e) < 0) {
		respond_err(req, e);
		return;
	}
	berth_http_respond_status(req, 204);
}

static const char *const prune_filter_keys[] = {"until", "label", "label!", NULL};

static void networks_prune(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_json_ json_t *names = NULL, *out = NULL;

	if (berth_http_query_filters(req, &f, &e) < 0 ||
	    berth_filters_validate(f, prune_filter_keys, &e) < 0 ||
	    daemon_networks_prune(d, f, &names, &e) < 0) {
		berth_http_respond_error(req, e && e->code == ENOMEM ? 500 : 400, "%s",
					 e ? e->msg : "invalid filters");
		return;
	}
	out = json_pack("{s:O}", "NetworksDeleted", names);
	berth_http_respond_json(req, 200, out);
}

int daemon_routes_networks(struct berthd *d, struct berth_error **err)
{
	struct berth_api_router *rt = d->router;
	int r = 0;

	r = r ?: berth_api_router_add(rt, "GET", "/networks", networks_list, d, err);
	r = r ?: berth_api_router_add(rt, "POST", "/networks/create", network_create, d, err);
	r = r ?: berth_api_router_add(rt, "POST", "/networks/prune", networks_prune, d, err);
	r = r ?: berth_api_router_add(rt, "GET", "/networks/{id}", network_inspect, d, err);
	r = r ?: berth_api_router_add(rt, "DELETE", "/networks/{id}", network_delete, d, err);
	return r;
}
