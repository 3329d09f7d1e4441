/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth network: create, ls, inspect, rm, prune, connect, disconnect over berthd's /networks, with
 * docker 28's flags, request bodies, output and messages (cli/command/network).  create checks
 * what docker's client checks before sending (the --subnet/--ip-range/--gateway pairing); the
 * rest is the daemon's to refuse.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "format.h"
#include "inspect.h"
#include "units.h"
#include "base/banned.h"

/* ---- shared helpers ---------------------------------------------------------------------------- */

int cli_call_filtered(struct cli *c, const char *method, const char *path, const char *fj,
		      struct cli_response *resp)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;

	sbuf_adds(&t, path);
	if (fj) {
		sbuf_adds(&t, strchr(path, '?') ? "&filters=" : "?filters=");
		url_escape(&t, fj);
	}
	return cli_call(c, method, sbuf_str(&t), NULL, resp);
}

/* sortorder.NaturalLess: runs of digits compare as numbers, the rest byte by byte */
int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		bool da = *a >= '0' && *a <= '9', db = *b >= '0' && *b <= '9';
		if (da != db)
			return (unsigned char)*a - (unsigned char)*b;
		if (!da) {
			if (*a != *b)
				return (unsigned char)*a - (unsigned char)*b;
			a++, b++;
			continue;
		}
		const char *sa = a, *sb = b;
		while (*sa == '0')
			sa++;
		while (*sb == '0')
			sb++;
		const char *ea = sa, *eb = sb;
		while (*ea >= '0' && *ea <= '9')
			ea++;
		while (*eb >= '0' && *eb <= '9')
			eb++;
		if (ea - sa != eb - sb)
			return (int)((ea - sa) - (eb - sb));
		int r = strncmp(sa, sb, (size_t)(ea - sa));
		if (r)
			return r;
		/* equal values: fewer leading zeros first */
		if (ea - a != eb - b)
			return (int)((ea - a) - (eb - b));
		a = ea, b = eb;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

/* "k=v" values of a map/list flag into an object (a value without "=" maps to "") */
static int cmp_key(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* a Go map: the last value of a key wins, and json.Marshal writes the keys sorted */
json_t *kv_object(const struct flag_value *v)
{
	_cleanup_json_ json_t *m = json_object();
	json_t *o = json_object(), *val;
	_cleanup_free_ const char **keys = xcalloc(v->n + 1, sizeof(*keys));
	size_t n = 0;
	const char *key;

	for (size_t i = 0; i < v->n; i++) {
		const char *eq = strchr(v->v[i], '=');
		_cleanup_free_ char *k =
			eq ? xstrndup(v->v[i], (size_t)(eq - v->v[i])) : xstrdup(v->v[i]);
		json_object_set_new(m, k, json_string(eq ? eq + 1 : ""));
	}
	json_object_foreach (m, key, val)
		keys[n++] = key;
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (size_t i = 0; i < n; i++)
		json_object_set(o, keys[i], json_object_get(m, keys[i]));
	return o;
}

/* A list of rows sorted by name, rendered through a formatter context per row. */
struct name_sort {
	const char *name;
	json_t *obj;
};

static int cmp_name(const void *x, const void *y)
{
	const struct name_sort *a = x, *b = y;

	return natural_cmp(a->name, b->name);
}

int list_rows(json_t *list, const char *format, const char *const *header_pairs,
	      void (*ctx_init)(struct ctx_obj *c, json_t *obj, bool trunc), bool trunc)
{
	size_t n = json_array_size(list);
	_cleanup_free_ struct name_sort *rows = xcalloc(n ? n : 1, sizeof(*rows));
	struct fmt_list f;
	char *err = NULL;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		rows[i].obj = json_array_get(list, i);
		const char *name = json_string_value(json_object_get(rows[i].obj, "Name"));
		rows[i].name = name ? name : "";
	}
	qsort(rows, n, sizeof(*rows), cmp_name);
	if (fmt_list_begin(&f, format, NULL, &err) < 0) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		struct ctx_obj c;
		ctx_init(&c, rows[i].obj, trunc);
		if (fmt_list_row(&f, tval_obj(&c.obj), &err) < 0) {
			err_printf("%s\n", err);
			free(err);
			ret = 1;
		}
		ctx_obj_release(&c);
	}
	if (!ret) {
		struct header_obj h;
		header_init(&h, header_pairs);
		fmt_list_end(&f, &h.obj);
	}
	fmt_list_release(&f);
	return ret;
}

/* The config file's format for a list ("networksFormat"), when --format is not given. */
const char *list_format(struct cli *c, const char *flag, bool quiet, const char *config_key,
			const char *quiet_format)
{
	if (quiet)
		return quiet_format;
	if (flag && *flag)
		return flag;
	const char *cfg = json_string_value(json_object_get(cli_config_file(c), config_key));
	return cfg && *cfg ? cfg : "table";
}

/* docker's prune report: "Deleted <what>:" and the names, then a blank line */
static void print_deleted(const char *title, json_t *names)
{
	size_t i;
	json_t *e;

	if (!json_array_size(names))
		return;
	out_printf("%s:\n", title);
	json_array_foreach (names, i, e)
		out_printf("%s\n", json_string_value(e) ? json_string_value(e) : "");
	out_puts("\n");
}

/* ---- create ------------------------------------------------------------------------------------ */

struct cidr {
	int family;
	unsigned char addr[16];
	int bits;
};

/* net.ParseCIDR: "invalid CIDR address: s" */
static int parse_cidr(const char *s, struct cidr *ret, char **err)
{
	const char *slash = strchr(s, '/');
	_cleanup_free_ char *ip = slash ? xstrndup(s, (size_t)(slash - s)) : NULL;
	char *end;

	if (!slash || !slash[1] || slash[1] == '+' || slash[1] == '-')
		goto bad;
	long bits = strtol(slash + 1, &end, 10);
	if (*end)
		goto bad;
	if (inet_pton(AF_INET, ip, ret->addr) == 1)
		ret->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, ret->addr) == 1)
		ret->family = AF_INET6;
	else
		goto bad;
	if (bits < 0 || bits > (ret->family == AF_INET ? 32 : 128))
		goto bad;
	ret->bits = (int)bits;
	return 0;
bad:
	*err = xasprintf("invalid CIDR address: %s", s);
	return -1;
}

static bool cidr_contains(const struct cidr *net, int family, const unsigned char *addr)
{
	if (family != net->family)
		return false;
	for (int i = 0; i < net->bits; i++) {
		unsigned mask = 0x80u >> (i % 8);
		if ((net->addr[i / 8] & mask) != (addr[i / 8] & mask))
			return false;
	}
	return true;
}

/* docker's subnetMatches(subnet, data): is data (an address or a CIDR's address; always a CIDR
 * when cidr) in subnet? */
static int subnet_matches(const char *subnet, const char *data, bool cidr, bool *ret, char **err)
{
	struct cidr s, d;
	char *e = NULL;

	if (parse_cidr(subnet, &s, &e) < 0) {
		*err = xasprintf("invalid subnet: %s", e);
		free(e);
		return -1;
	}
	if (cidr || strchr(data, '/')) {
		if (parse_cidr(data, &d, err) < 0)
			return -1;
	} else if (inet_pton(AF_INET, data, d.addr) == 1) {
		d.family = AF_INET;
	} else if (inet_pton(AF_INET6, data, d.addr) == 1) {
		d.family = AF_INET6;
	} else {
		*ret = false; /* net.ParseIP's nil is in no subnet */
		return 0;
	}
	*ret = cidr_contains(&s, d.family, d.addr);
	return 0;
}

json_t *ipam_configs(const struct flag_value *subnets, const struct flag_value *ranges,
		     const struct flag_value *gateways, const struct flag_value *aux, char **err)
{
	_cleanup_json_ json_t *list = json_array();
	bool m1, m2;

	if (subnets->n < ranges->n || subnets->n < gateways->n) {
		*err = xstrdup("every ip-range or gateway must have a corresponding subnet");
		return NULL;
	}
	for (size_t i = 0; i < subnets->n; i++) {
		for (size_t k = 0; k < i; k++) {
			if (subnet_matches(subnets->v[i], subnets->v[k], false, &m1, err) < 0 ||
			    subnet_matches(subnets->v[k], subnets->v[i], false, &m2, err) < 0)
				return NULL;
			if (m1 || m2) {
				*err = xstrdup("multiple overlapping subnet configuration is not "
					       "supported");
				return NULL;
			}
		}
		json_array_append_new(list, json_pack("{s:s,s:{}}", "Subnet", subnets->v[i],
						      "AuxiliaryAddresses"));
	}
	for (int pass = 0; pass < 2; pass++) {
		const struct flag_value *vals = pass == 0 ? ranges : gateways;
		const char *key = pass == 0 ? "IPRange" : "Gateway";
		for (size_t i = 0; i < vals->n; i++) {
			bool match = false;
			for (size_t k = 0; k < subnets->n; k++) {
				if (subnet_matches(subnets->v[k], vals->v[i], pass == 0, &m1, err) <
				    0)
					return NULL;
				if (!m1)
					continue;
				json_t *cfg = json_array_get(list, k);
				const char *have = json_string_value(json_object_get(cfg, key));
				if (have) {
					*err = pass == 0
						       ? xasprintf(
								 "cannot configure multiple ranges "
								 "(%s, %s) on the same subnet "
								 "(%s)",
								 vals->v[i], have, subnets->v[k])
						       : xasprintf("cannot configure multiple "
								   "gateways (%s, %s) for the same "
								   "subnet (%s)",
								   vals->v[i], have, subnets->v[k]);
					return NULL;
				}
				json_object_set_new(cfg, key, json_string(vals->v[i]));
				match = true;
			}
			if (!match) {
				*err = xasprintf("no matching subnet for %s %s",
						 pass == 0 ? "range" : "gateway", vals->v[i]);
				return NULL;
			}
		}
	}
	for (size_t i = 0; i < aux->n; i++) {
		const char *eq = strchr(aux->v[i], '=');
		const char *ip = eq ? eq + 1 : "";
		_cleanup_free_ char *host = xstrndup(aux->v[i], eq ? (size_t)(eq - aux->v[i]) : 0);
		bool match = false;
		for (size_t k = 0; k < subnets->n; k++) {
			if (subnet_matches(subnets->v[k], ip, false, &m1, err) < 0)
				return NULL;
			if (!m1)
				continue;
			json_object_set_new(
				json_object_get(json_array_get(list, k), "AuxiliaryAddresses"),
				host, json_string(ip));
			match = true;
		}
		if (!match) {
			*err = xasprintf("no matching subnet for aux-address %s", ip);
			return NULL;
		}
	}
	return TAKE_PTR(list);
}

static int run_network_create(struct cli *c, struct cli_args *a)
{
	_cleanup_json_ json_t *body = NULL, *ipam = NULL;
	struct cli_response r;
	char *err = NULL;

	json_t *configs = ipam_configs(flag_get(a, "subnet"), flag_get(a, "ip-range"),
				       flag_get(a, "gateway"), flag_get(a, "aux-address"), &err);
	if (!configs) {
		err_printf("%s\n", err);
		free(err);
		return 1;
	}
	ipam = json_pack("{s:s,s:o,s:o}", "Driver", flag_str(a, "ipam-driver") ?: "default",
			 "Options", kv_object(flag_get(a, "ipam-opt")), "Config", configs);
	body = json_pack("{s:s,s:s,s:s}", "Name", a->argv[0], "Driver",
			 flag_str(a, "driver") ?: "bridge", "Scope",
			 flag_str(a, "scope") ? flag_str(a, "scope") : "");
	/* docker sends EnableIPv4/EnableIPv6 only when the flag is given */
	if (flag_set(a, "ipv4"))
		json_object_set_new(body, "EnableIPv4", json_boolean(flag_bool(a, "ipv4")));
	if (flag_set(a, "ipv6"))
		json_object_set_new(body, "EnableIPv6", json_boolean(flag_bool(a, "ipv6")));
	json_object_set(body, "IPAM", ipam);
	json_object_set_new(body, "Internal", json_boolean(flag_bool(a, "internal")));
	json_object_set_new(body, "Attachable", json_boolean(flag_bool(a, "attachable")));
	json_object_set_new(body, "Ingress", json_boolean(flag_bool(a, "ingress")));
	json_object_set_new(body, "ConfigOnly", json_boolean(flag_bool(a, "config-only")));
	if (flag_str(a, "config-from") && *flag_str(a, "config-from"))
		json_object_set_new(body, "ConfigFrom",
				    json_pack("{s:s}", "Network", flag_str(a, "config-from")));
	json_object_set_new(body, "Options", kv_object(flag_get(a, "opt")));
	json_object_set_new(body, "Labels", kv_object(flag_get(a, "label")));
	if (cli_call(c, "POST", "/networks/create", body, &r) < 0)
		return cli_fail(c, 1);
	out_printf("%s\n", json_string_value(json_object_get(r.json, "Id"))
				   ?: json_string_value(json_object_get(r.json, "ID")) ?: "");
	cli_response_release(&r);
	return 0;
}

static const struct cli_flag create_flags[] = {
	{"attachable", 0, FK_BOOL, NULL, NULL, "Let containers join it by hand (connect)"},
	{"aux-address", 0, FK_LIST, "map", "map[]",
	 "Addresses the IPAM driver must not give out (host=ip)"},
	{"config-from", 0, FK_STRING, "string", NULL, "Copy the configuration of this network"},
	{"config-only", 0, FK_BOOL, NULL, NULL, "Make a configuration-only network"},
	{"driver", 'd', FK_STRING, "string", "bridge", "The network's driver"},
	{"gateway", 0, FK_LIST, "strings", NULL, "The gateway of a subnet (IPv4 or IPv6)"},
	{"ingress", 0, FK_BOOL, NULL, NULL, "Make the swarm routing-mesh network"},
	{"internal", 0, FK_BOOL, NULL, NULL, "No way out of the network"},
	{"ip-range", 0, FK_LIST, "strings", NULL, "Give container addresses from this sub-range"},
	{"ipam-driver", 0, FK_STRING, "string", "default", "The IP address management driver"},
	{"ipam-opt", 0, FK_LIST, "map", "map[]", "Options of the IPAM driver"},
	{"ipv4", 0, FK_BOOL, NULL, "true", "Give the network IPv4 addresses", .min_api = "1.48"},
	{"ipv6", 0, FK_BOOL, NULL, NULL, "Give the network IPv6 addresses"},
	{"label", 0, FK_LIST, "list", NULL, "Set metadata on the network", 0, check_label},
	{"opt", 'o', FK_LIST, "map", "map[]", "Options of the driver"},
	{"scope", 0, FK_STRING, "string", NULL, "The network's scope"},
	{"subnet", 0, FK_LIST, "strings", NULL, "A subnet in CIDR form"},
};

const struct cli_cmd cmd_network_create = {
	.name = "create",
	.use = "[OPTIONS] NETWORK",
	.short_desc = "Create a network",
	.flags = create_flags,
	.n_flags = ARRAY_SIZE(create_flags),
	.args = ARGS_EXACT,
	.min_args = 1,
	.run = run_network_create,
};

/* ---- ls ---------------------------------------------------------------------------------------- */

static const char *const network_header_pairs[] = {
	"ID",	  "NETWORK ID", "Name",	     "NAME",	   "Driver", "DRIVER",	 "Scope",
	"SCOPE",  "IPv4",	"IPV4",	     "IPv6",	   "IPV6",   "Internal", "INTERNAL",
	"Labels", "LABELS",	"CreatedAt", "CREATED AT", NULL,
};

/* the Label method: a label's value */
static int net_label(const struct ctx_obj *c, const char *name, json_t *const *args, size_t n,
		     json_t **ret, char **err)
{
	if (strcmp(name, "Label") != 0)
		return -ENOENT;
	if (n != 1) {
		*err = xasprintf("wrong number of args for Label: want 1 got %zu", n);
		return -EINVAL;
	}
	const char *v = json_string_value(
		json_object_get(json_object_get(c->src, "Labels"), json_string_value(args[0])));
	*ret = json_string(v ? v : "");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* formatter.networkContext */
static void network_ctx_init(struct ctx_obj *c, json_t *n, bool trunc)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	const char *id = json_string_value(json_object_get(n, "Id")) ?: "";
	json_t *labels = json_object_get(n, "Labels");
	const char *created = json_string_value(json_object_get(n, "Created"));

	ctx_obj_init(c, "*network.networkContext", NULL);
	c->call_args = net_label;
	c->src = json_incref(n);
	if (trunc)
		sbuf_add(&b, id, strnlen(id, 12));
	else
		sbuf_adds(&b, id);
	ctx_set(c, "ID", sbuf_str(&b));
	ctx_set(c, "Name", json_string_value(json_object_get(n, "Name")) ?: "");
	ctx_set(c, "Driver", json_string_value(json_object_get(n, "Driver")) ?: "");
	ctx_set(c, "Scope", json_string_value(json_object_get(n, "Scope")) ?: "");
	ctx_set(c, "IPv4", json_is_true(json_object_get(n, "EnableIPv4")) ? "true" : "false");
	ctx_set(c, "IPv6", json_is_true(json_object_get(n, "EnableIPv6")) ? "true" : "false");
	ctx_set(c, "Internal", json_is_true(json_object_get(n, "Internal")) ? "true" : "false");
	/* Go ranges a map in random order; docker joins "k=v" with "," */
	size_t nl = json_object_size(labels), k = 0;
	_cleanup_free_ char **items = xcalloc(nl ? nl : 1, sizeof(*items));
	const char *key;
	json_t *val;
	json_object_foreach (labels, key, val)
		items[k++] = xasprintf("%s=%s", key, json_string_value(val) ?: "");
	qsort(items, nl, sizeof(*items), cmp_str);
	sbuf_reset(&b);
	for (size_t i = 0; i < nl; i++) {
		sbuf_printf(&b, "%s%s", i ? "," : "", items[i]);
		free(items[i]);
	}
	ctx_set(c, "Labels", sbuf_str(&b));
	sbuf_reset(&b);
	if (created)
		go_time_string_rfc3339(&b, created);
	else
		sbuf_adds(&b, "0001-01-01 00:00:00 +0000 UTC");
	ctx_set(c, "CreatedAt", sbuf_str(&b));
}

static int run_network_ls(struct cli *c, struct cli_args *a)
{
	_cleanup_free_ char *fj = filters_json(flag_get(a, "filter"));
	struct cli_response r;
	bool quiet = flag_bool(a, "quiet");
	const char *format =
		list_format(c, flag_str(a, "format"), quiet, "networksFormat", "{{.ID}}");

	if (cli_call_filtered(c, "GET", "/networks", fj, &r) < 0)
		return cli_fail(c, 1);
	if (strcmp(format, "table") == 0)
		format = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
	int ret = list_rows(r.json, format, network_header_pairs, network_ctx_init,
			    !flag_bool(a, "no-trunc"));
	cli_response_release(&r);
	return ret;
}

static const struct cli_flag ls_flags[] = {
	{"filter", 'f', FK_LIST, "filter", NULL,
	 "Show only the networks that match (e.g. 'driver=bridge')", 0, check_filter},
	{"format", 0, FK_STRING, "string", NULL, FORMAT_HELP_LIST},
	{"no-trunc", 0, FK_BOOL, NULL, NULL, "Show network IDs in full"},
	{"quiet", 'q', FK_BOOL, NULL, NULL, "Show network IDs only"},
};

static const char *const ls_aliases[] = {"list", NULL};

const struct cli_cmd cmd_network_ls = {
	.name = "ls",
	.use = "[OPTIONS]",
	.short_desc = "List networks",
	.aliases_line = "berth network ls, berth network list",
	.aliases = ls_aliases,
	.flags = ls_flags,
	.n_flags = ARRAY_SIZE(ls_flags),
	.args = ARGS_NONE,
	.run = run_network_ls,
};

/* ---- inspect ----------------------------------------------------------------------------------- */

static int get_network(struct cli *c, const char *ref, void *data, struct inspect_obj *ret,
		       char **ret_err)
{
	const struct inspect_type *t = inspect_type_find("network");
	bool not_found;

	(void)data;
	return inspect_fetch(c, t, ref, false, ret, ret_err, &not_found);
}

static int run_network_inspect(struct cli *c, struct cli_args *a)
{
	return inspect_run(c, a->argv, a->argc, flag_str(a, "format"), get_network, NULL);
}

static const struct cli_flag inspect_flags[] = {
	{"format", 'f', FK_STRING, "string", NULL, FORMAT_HELP_INSPECT},
	{"verbose", 'v', FK_BOOL, NULL, NULL, "Verbose output for diagnostics"},
};

const struct cli_cmd cmd_network_inspect = {
	.name = "inspect",
	.use = "[OPTIONS] NETWORK [NETWORK...]",
	.short_desc = "Display detailed information on one or more networks",
	.flags = inspect_flags,
	.n_flags = ARRAY_SIZE(inspect_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_network_inspect,
	.complete = COMPLETE_NETWORKS,
};

/* ---- rm ---------------------------------------------------------------------------------------- */

static int run_network_rm(struct cli *c, struct cli_args *a)
{
	bool force = flag_bool(a, "force");
	int status = 0;

	for (int i = 0; i < a->argc; i++) {
		_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
		struct cli_response r;

		sbuf_adds(&t, "/networks/");
		url_escape(&t, a->argv[i]);
		if (cli_call(c, "DELETE", sbuf_str(&t), NULL, &r) < 0) {
			if (force && c->err_status == 404)
				continue;
			cli_fail(c, 1);
			status = 1;
			continue;
		}
		cli_response_release(&r);
		out_printf("%s\n", a->argv[i]);
	}
	/* docker's cli.StatusError without a message prints its Error() */
	if (status)
		err_printf("exit status %d\n", status);
	return status;
}

static const struct cli_flag rm_flags[] = {
	{"force", 'f', FK_BOOL, NULL, NULL, "Say nothing of networks that do not exist"},
};

static const char *const rm_aliases[] = {"remove", NULL};

const struct cli_cmd cmd_network_rm = {
	.name = "rm",
	.use = "NETWORK [NETWORK...]",
	.short_desc = "Remove one or more networks",
	.aliases_line = "berth network rm, berth network remove",
	.aliases = rm_aliases,
	.flags = rm_flags,
	.n_flags = ARRAY_SIZE(rm_flags),
	.args = ARGS_MIN,
	.min_args = 1,
	.run = run_network_rm,
	.complete = COMPLETE_NETWORKS,
};

/* ---- prune ------------------------------------------------------------------------------------- */

static int run_network_prune(struct cli *c, struct cli_args *a)
{
	_cleanup_free_ char *fj = filters_json(flag_get(a, "filter"));
	struct cli_response r;

	if (!flag_bool(a, "force") &&
	    !confirm("WARNING! This will remove all custom networks not used by at least one "
		     "container.\nAre you sure you want to continue?"))
		return 0;
	if (cli_call_filtered(c, "POST", "/networks/prune", fj, &r) < 0)
		return cli_fail(c, 1);
	print_deleted("Deleted Networks", json_object_get(r.json, "NetworksDeleted"));
	cli_response_release(&r);
	return 0;
}

static const struct cli_flag prune_flags[] = {
	{"filter", 0, FK_LIST, "filter", NULL,
	 "Which networks to consider (\"until=<timestamp>\", \"label=k=v\")", 0, check_filter},
	{"force", 'f', FK_BOOL, NULL, NULL, "Do not ask first"},
};

const struct cli_cmd cmd_network_prune = {
	.name = "prune",
	.use = "[OPTIONS]",
	.short_desc = "Remove all unused networks",
	.flags = prune_flags,
	.n_flags = ARRAY_SIZE(prune_flags),
	.args = ARGS_NONE,
	.run = run_network_prune,
	.min_api = "1.25",
};

/* ---- connect, disconnect ----------------------------------------------------------------------- */

static int network_post(struct cli *c, const char *network, const char *verb, json_t *body)
{
	_cleanup_sbuf_ struct sbuf t = SBUF_INIT;
	struct cli_response r;

	sbuf_adds(&t, "/networks/");
	url_escape(&t, network);
	sbuf_printf(&t, "/%s", verb);
	if (cli_call(c, "POST", sbuf_str(&t), body, &r) < 0)
		return cli_fail(c, 1);
	cli_response_release(&r);
	return 0;
}

static json_t *str_array(const struct flag_value *v)
{
	json_t *a = json_array();

	for (size_t i = 0; i < v->n; i++) {
		/* a string slice: comma-separated values too */
		_cleanup_free_ char *copy = xstrdup(v->v[i]);
		for (char *save = NULL, *p = strtok_r(copy, ",", &save); p;
		     p = strtok_r(NULL, ",", &save))
			json_array_append_new(a, json_string(p));
	}
	return a;
}

static int run_network_connect(struct cli *c, struct cli_args *a)
{
	_cleanup_json_ json_t *body = NULL;
	json_t *ep = json_object(), *ipam = json_object();
	const char *ip = flag_str(a, "ip"), *ip6 = flag_str(a, "ip6");
	const struct flag_value *lla = flag_get(a, "link-local-ip"), *links = flag_get(a, "link");
	const struct flag_value *aliases = flag_get(a, "alias"), *dopts = flag_get(a, "driver-opt");

	/* omitempty: only what was given */
	if (ip && *ip)
		json_object_set_new(ipam, "IPv4Address", json_string(ip));
	if (ip6 && *ip6)
		json_object_set_new(ipam, "IPv6Address", json_string(ip6));
	if (lla->n)
		json_object_set_new(ipam, "LinkLocalIPs", str_array(lla));
	json_object_set_new(ep, "IPAMConfig", ipam);
	json_object_set_new(ep, "Links", links->n ? str_array(links) : json_null());
	json_object_set_new(ep, "Aliases", aliases->n ? str_array(aliases) : json_null());
	if (dopts->n) {
		json_t *arr = str_array(dopts), *o = json_object(), *e;
		size_t i;
		json_array_foreach (arr, i, e) {
			const char *s = json_string_value(e), *eq = strchr(s, '=');
			_cleanup_free_ char *k = eq ? xstrndup(s, (size_t)(eq - s)) : xstrdup(s);
			json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
		}
		json_decref(arr);
		json_object_set_new(ep, "DriverOpts", o);
	}
	if (flag_set(a, "gw-priority"))
		json_object_set_new(ep, "GwPriority", json_integer(flag_get(a, "gw-priority")->i));
	body = json_pack("{s:s,s:o}", "Container", a->argv[1], "EndpointConfig", ep);
	return network_post(c, a->argv[0], "connect", body);
}

static const struct cli_flag connect_flags[] = {
	{"alias", 0, FK_LIST, "strings", NULL, "Another name of the container on this network"},
	{"driver-opt", 0, FK_LIST, "strings", NULL, "Options of the network's driver"},
	{"gw-priority", 0, FK_INT, "int", NULL,
	 "Which network gives the default gateway (the highest priority wins)", .min_api = "1.48"},
	{"ip", 0, FK_STRING, "string", NULL, "The container's IPv4 address (e.g. 172.30.100.104)"},
	{"ip6", 0, FK_STRING, "string", NULL, "The container's IPv6 address (e.g. 2001:db8::33)"},
	{"link", 0, FK_LIST, "list", NULL, "A link to another container"},
	{"link-local-ip", 0, FK_LIST, "strings", NULL, "The container's link-local addresses"},
};

const struct cli_cmd cmd_network_connect = {
	.name = "connect",
	.use = "[OPTIONS] NETWORK CONTAINER",
	.short_desc = "Connect a container to a network",
	.flags = connect_flags,
	.n_flags = ARRAY_SIZE(connect_flags),
	.args = ARGS_EXACT,
	.min_args = 2,
	.run = run_network_connect,
	.complete = COMPLETE_NETWORK_THEN_CONTAINER,
	.complete_max = 2,
};

static int run_network_disconnect(struct cli *c, struct cli_args *a)
{
	_cleanup_json_ json_t *body =
		json_pack("{s:s,s:b}", "Container", a->argv[1], "Force", flag_bool(a, "force"));

	return network_post(c, a->argv[0], "disconnect", body);
}

static const struct cli_flag disconnect_flags[] = {
	{"force", 'f', FK_BOOL, NULL, NULL, "Disconnect it even when the container is not running"},
};

const struct cli_cmd cmd_network_disconnect = {
	.name = "disconnect",
	.use = "[OPTIONS] NETWORK CONTAINER",
	.short_desc = "Disconnect a container from a network",
	.flags = disconnect_flags,
	.n_flags = ARRAY_SIZE(disconnect_flags),
	.args = ARGS_EXACT,
	.min_args = 2,
	.run = run_network_disconnect,
	.complete = COMPLETE_NETWORK_THEN_CONTAINER,
	.complete_max = 2,
};

static const struct cli_cmd *const network_subs[] = {
	&cmd_network_connect, &cmd_network_create, &cmd_network_disconnect, &cmd_network_inspect,
	&cmd_network_ls,      &cmd_network_prune,  &cmd_network_rm,	    NULL,
};

const struct cli_cmd cmd_network = {
	.name = "network",
	.short_desc = "Manage networks",
	.subs = network_subs,
	.min_api = "1.21",
};
