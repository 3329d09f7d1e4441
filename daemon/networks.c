/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berthd's networks: the table, its records on disk, the predefined bridge, host and none
 * networks, user-defined bridge networks with their address pools, and making the kernel match
 * (bridges through lib/net's rtnetlink, berth's nftables table rendered from the whole table).
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "networks-internal.h"
#include "events-internal.h"
#include "base/banned.h"

#define NETWORKS_DIR	   "networks"
#define DEFAULT_BIP	   "10.210.0.1/16"
#define DEFAULT_POOL_BASE  "10.211.0.0/16"
#define DEFAULT_POOL_SIZE  24
#define DEFAULT_BRIDGE	   "berth0"
#define MAX_NETWORK_RECORD (4 << 20)

/* ---- records ------------------------------------------------------------------------------- */

void daemon_endpoint_release(struct daemon_endpoint *ep)
{
	free(ep->container_id);
	free(ep->container_name);
	free(ep->endpoint_id);
	berth_strv_free(ep->aliases);
	free(ep->host_veth);
	free(ep->ports);
}

static void network_free(struct daemon_network *n)
{
	if (!n)
		return;
	free(n->id);
	free(n->name);
	free(n->driver);
	free(n->bridge);
	if (n->has_pool)
		berth_ipam_pool_release(&n->pool);
	if (n->ipv6)
		berth_ipam6_pool_release(&n->pool6);
	json_decref(n->labels);
	json_decref(n->options);
	json_decref(n->ipam_options);
	json_decref(n->legacy_endpoints);
	for (size_t i = 0; i < n->n_endpoints; i++)
		daemon_endpoint_release(&n->endpoints[i]);
	free(n->endpoints);
	free(n);
}

static int random_hex(char *buf, size_t nbytes)
{
	uint8_t rnd[32];

	if (nbytes > sizeof(rnd) || getrandom(rnd, nbytes, 0) != (ssize_t)nbytes)
		return -EIO;
	for (size_t i = 0; i < nbytes; i++)
		snprintf(buf + 2 * i, 3, "%02x", rnd[i]);
	return 0;
}

static char *new_id(void)
{
	char id[65];

	if (random_hex(id, 32) < 0)
		return NULL;
	return strdup(id);
}

/*
 * The record as written to data-root/networks/<id>.json: the definition only.  The endpoints
 * are runtime state, in files of their own (networks-endpoints.c).
 */
static json_t *network_record(const struct daemon_network *n)
{
	json_t *j;

	j = json_pack("{s:s, s:s, s:s, s:I, s:b, s:b, s:b, s:b, s:b, s:i, s:s?, s:O, s:O}", "Id",
		      n->id, "Name", n->name, "Driver", n->driver, "Created",
		      (json_int_t)n->created_ns, "Predefined", n->predefined, "Internal",
		      n->internal, "Attachable", n->attachable, "ICC", n->icc, "Masquerade",
		      n->masquerade, "MTU", (int)n->mtu, "Bridge", n->bridge, "Labels", n->labels,
		      "Options", n->options);
	if (j && n->bridge_external)
		json_object_set_new(j, "BridgeExternal", json_true());
	if (j && n->subnet_auto)
		json_object_set_new(j, "SubnetAuto", json_true());
	if (j && n->subnet6_auto)
		json_object_set_new(j, "Subnet6Auto", json_true());
	if (j && n->ipam_options)
		json_object_set(j, "IPAMOptions", n->ipam_options);
	if (j && n->has_pool) {
		char sub[19], gw[16];

		berth_net_prefix_format(&n->pool.subnet, sub);
		berth_net_addr_format(n->pool.gateway, gw);
		json_object_set_new(j, "Subnet", json_string(sub));
		json_object_set_new(j, "Gateway", json_string(gw));
	}
	if (j && n->has_range) {
		char r[19];

		berth_net_prefix_format(&n->range, r);
		json_object_set_new(j, "IPRange", json_string(r));
	}
	if (j && n->ipv6) {
		char sub[BERTH_NET6_PREFIX_MAX], gw[BERTH_NET6_ADDR_MAX];

		berth_net6_prefix_format(&n->pool6.subnet, sub);
		berth_net6_addr_format(n->pool6.gateway, gw);
		json_object_set_new(j, "EnableIPv6", json_true());
		json_object_set_new(j, "Subnet6", json_string(sub));
		json_object_set_new(j, "Gateway6", json_string(gw));
	}
	if (j && n->has_range6) {
		char r[BERTH_NET6_PREFIX_MAX];

		berth_net6_prefix_format(&n->range6, r);
		json_object_set_new(j, "IPRange6", json_string(r));
	}
	return j;
}

int daemon_network_save_locked(struct berthd *d, const struct daemon_network *n,
			       struct berth_error **err)
{
	_cleanup_json_ json_t *j = network_record(n);
	_cleanup_free_ char *text = NULL, *path = NULL;

	if (!j || !(text = berth_json_dump(j)) ||
	    asprintf(&path, "%s/%s/%s.json", d->config.data_root, NETWORKS_DIR, n->id) < 0)
		return berth_error_set(err, ENOMEM, "save network '%s': out of memory", n->name);
	return berth_write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0600, err);
}

static int network_unlink(struct berthd *d, const struct daemon_network *n,
			  struct berth_error **err)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "%s/%s/%s.json", d->config.data_root, NETWORKS_DIR, n->id) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (unlink(path) < 0 && errno != ENOENT)
		return berth_error_sys(err, errno, "remove '%s'", path);
	return 0;
}

static int pool_from(struct daemon_network *n, const char *subnet, const char *gateway,
		     const char *range, struct berth_error **err)
{
	struct berth_net_prefix s, r;
	uint32_t gw = 0;
	int ret;

	ret = berth_net_prefix_parse(subnet, &s, err);
	if (ret < 0)
		return ret;
	if (gateway && *gateway && berth_net_addr_parse(gateway, &gw) < 0)
		return berth_error_set(err, EINVAL, "invalid gateway address %s", gateway);
	if (range && *range) {
		ret = berth_net_prefix_parse(range, &r, err);
		if (ret < 0)
			return ret;
		n->has_range = true;
		n->range = r;
	}
	ret = berth_ipam_pool_init(&n->pool, &s, n->has_range ? &n->range : NULL, gw, err);
	if (ret < 0)
		return ret;
	n->has_pool = true;
	return 0;
}

/* The IPv6 pool of n from its subnet, gateway and range texts (the gateway may be NULL). */
static int pool6_from(struct daemon_network *n, const char *subnet, const char *gateway,
		      const char *range, struct berth_error **err)
{
	struct berth_net6_prefix s, r;
	uint8_t gw[16];
	bool has_gw = gateway && *gateway;
	int ret;

	ret = berth_net6_prefix_parse(subnet, &s, err);
	if (ret < 0)
		return ret;
	if (has_gw && berth_net6_addr_parse(gateway, gw) < 0)
		return berth_error_set(err, EINVAL, "invalid gateway address %s", gateway);
	if (range && *range) {
		ret = berth_net6_prefix_parse(range, &r, err);
		if (ret < 0)
			return ret;
		n->has_range6 = true;
		n->range6 = r;
	}
	ret = berth_ipam6_pool_init(&n->pool6, &s, n->has_range6 ? &n->range6 : NULL,
				    has_gw ? gw : NULL, err);
	if (ret < 0)
		return ret;
	n->ipv6 = true;
	return 0;
}

static int network_from_record(const json_t *j, struct daemon_network **ret,
			       struct berth_error **err)
{
	struct daemon_network *n = calloc(1, sizeof(*n));
	const char *id = NULL, *name = NULL, *driver = NULL, *bridge = NULL, *subnet = NULL,
		   *gateway = NULL, *range = NULL;
	json_int_t created = 0;
	int predefined = 0, internal = 0, attachable = 0, icc = 1, masq = 1, mtu = 0;
	json_t *labels = NULL, *options = NULL, *eps = NULL;
	int r;

	if (!n)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (json_unpack((json_t *)j,
			"{s:s, s:s, s:s, s?I, s?b, s?b, s?b, s?b, s?b, s?i, s?s, s?s, s?s, "
			"s?o, s?o, s?o}",
			"Id", &id, "Name", &name, "Driver", &driver, "Created", &created,
			"Predefined", &predefined, "Internal", &internal, "Attachable", &attachable,
			"ICC", &icc, "Masquerade", &masq, "MTU", &mtu, "Subnet", &subnet, "Gateway",
			&gateway, "IPRange", &range, "Labels", &labels, "Options", &options,
			"Endpoints", &eps) != 0) {
		free(n);
		return berth_error_set(err, EINVAL, "malformed network record");
	}
	/* null for the networks without a bridge (host, none) */
	bridge = json_string_value(json_object_get(j, "Bridge"));
	if (!bridge && json_object_get(j, "Bridge") &&
	    !json_is_null(json_object_get(j, "Bridge"))) {
		free(n);
		return berth_error_set(err, EINVAL, "malformed network record: Bridge");
	}
	n->id = strdup(id);
	n->name = strdup(name);
	n->driver = strdup(driver);
	n->bridge = bridge ? strdup(bridge) : NULL;
	n->created_ns = created;
	n->predefined = predefined;
	n->internal = internal;
	n->attachable = attachable;
	n->icc = icc;
	n->masquerade = masq;
	/* absent in records of berth before 2026-12: their bridges were all berth's */
	n->bridge_external = json_is_true(json_object_get(j, "BridgeExternal"));
	/* the same: older records' subnets all count as the user's */
	n->subnet_auto = json_is_true(json_object_get(j, "SubnetAuto"));
	n->subnet6_auto = json_is_true(json_object_get(j, "Subnet6Auto"));
	json_t *ipam_opts = json_object_get(j, "IPAMOptions");
	n->ipam_options = json_is_object(ipam_opts) ? json_incref(ipam_opts) : NULL;
	n->mtu = mtu > 0 ? (unsigned)mtu : 0;
	n->labels = json_is_object(labels) ? json_incref(labels) : json_object();
	n->options = json_is_object(options) ? json_incref(options) : json_object();
	if (!n->id || !n->name || !n->driver || (bridge && !n->bridge)) {
		network_free(n);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	if (subnet) {
		r = pool_from(n, subnet, gateway, range, err);
		if (r < 0) {
			network_free(n);
			return berth_error_wrap(err, "network '%s'", name);
		}
	}
	const char *subnet6 = json_string_value(json_object_get(j, "Subnet6"));
	if (subnet6) {
		r = pool6_from(n, subnet6, json_string_value(json_object_get(j, "Gateway6")),
			       json_string_value(json_object_get(j, "IPRange6")), err);
		if (r < 0) {
			network_free(n);
			return berth_error_wrap(err, "network '%s'", name);
		}
	}
	/* an older berth kept the endpoints here: daemon_endpoints_load moves them out */
	if (json_array_size(eps) > 0)
		n->legacy_endpoints = json_incref(eps);
	*ret = n;
	return 0;
}

static int table_add(struct berthd *d, struct daemon_network *n)
{
	struct daemon_network **v = realloc(d->networks.v, (d->networks.n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	d->networks.v = v;
	v[d->networks.n++] = n;
	return 0;
}

static void table_del(struct berthd *d, struct daemon_network *n)
{
	for (size_t i = 0; i < d->networks.n; i++)
		if (d->networks.v[i] == n) {
			memmove(&d->networks.v[i], &d->networks.v[i + 1],
				(d->networks.n - i - 1) * sizeof(*d->networks.v));
			d->networks.n--;
			return;
		}
}

struct daemon_network *daemon_network_find_locked(struct berthd *d, const char *ref,
						  struct berth_error **err)
{
	struct daemon_network *found = NULL;
	size_t len = ref ? strlen(ref) : 0;

	if (len == 0) {
		berth_error_set(err, ENOENT, "network %s not found", ref ? ref : "");
		return NULL;
	}
	for (size_t i = 0; i < d->networks.n; i++)
		if (berth_streq(d->networks.v[i]->id, ref))
			return d->networks.v[i];
	for (size_t i = 0; i < d->networks.n; i++)
		if (berth_streq(d->networks.v[i]->name, ref))
			return d->networks.v[i];
	for (size_t i = 0; i < d->networks.n; i++)
		if (strncmp(d->networks.v[i]->id, ref, len) == 0) {
			if (found) {
				berth_error_set(err, EINVAL,
						"network %s is ambiguous (%zu matches found based "
						"on ID prefix)",
						ref, (size_t)2);
				return NULL;
			}
			found = d->networks.v[i];
		}
	if (!found)
		berth_error_set(err, ENOENT, "network %s not found", ref);
	return found;
}

/* ---- the kernel side ------------------------------------------------------------------------ */

/*
 * Make the kernel match the table: every bridge network's bridge (with its gateway address,
 * up, route_localnet for published ports on 127.0.0.1) and berth's nftables table.  Called with
 * d->networks.kernel held and d->lock NOT held; it takes d->lock briefly to copy the state.
 */
struct fw_copy {
	struct berth_fw_network *nets;
	char **names;
	size_t n;
	struct berth_fw_port *ports;
	size_t n_ports;
};

static void fw_copy_release(struct fw_copy *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	free(c->nets);
	free(c->ports);
}

static int fw_copy_take(struct berthd *d, struct fw_copy *c)
{
	*c = (struct fw_copy){0};
	pthread_mutex_lock(&d->lock);
	c->nets = calloc(d->networks.n + 1, sizeof(*c->nets));
	c->names = calloc(d->networks.n + 1, sizeof(*c->names));
	if (!c->nets || !c->names) {
		pthread_mutex_unlock(&d->lock);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->networks.n; i++) {
		const struct daemon_network *n = d->networks.v[i];

		if (!n->bridge || !n->has_pool)
			continue;
		c->names[c->n] = strdup(n->bridge);
		if (!c->names[c->n]) {
			pthread_mutex_unlock(&d->lock);
			return -ENOMEM;
		}
		c->nets[c->n] = (struct berth_fw_network){
			.bridge = c->names[c->n],
			.subnet = n->pool.subnet,
			.internal = n->internal,
			.masquerade = n->masquerade,
			.icc = n->icc,
			.has_v6 = n->ipv6,
			.subnet6 = n->pool6.subnet,
		};
		c->n++;
		for (size_t k = 0; k < n->n_endpoints; k++) {
			const struct daemon_endpoint *ep = &n->endpoints[k];

			if (ep->n_ports == 0 || n->internal)
				continue;
			struct berth_fw_port *v =
				realloc(c->ports, (c->n_ports + 2 * ep->n_ports) * sizeof(*v));
			if (!v) {
				pthread_mutex_unlock(&d->lock);
				return -ENOMEM;
			}
			c->ports = v;
			for (size_t p = 0; p < ep->n_ports; p++)
				c->ports[c->n_ports++] = (struct berth_fw_port){
					.proto = ep->ports[p].proto,
					.host_ip = ep->ports[p].host_ip,
					.host_port = ep->ports[p].host_port,
					.container_ip = ep->ip,
					.container_port = ep->ports[p].container_port,
					.bridge = c->names[c->n - 1],
				};
			/* docker's ip6tables DNAT: a port published on every address is reached on
			 * the host's IPv6 addresses too, at the container's IPv6 address */
			for (size_t p = 0; ep->has_ip6 && p < ep->n_ports; p++) {
				if (ep->ports[p].host_ip != 0)
					continue;
				struct berth_fw_port fp = {
					.proto = ep->ports[p].proto,
					.host_port = ep->ports[p].host_port,
					.container_port = ep->ports[p].container_port,
					.bridge = c->names[c->n - 1],
					.v6 = true,
				};
				memcpy(fp.container_ip6, ep->ip6, 16);
				c->ports[c->n_ports++] = fp;
			}
		}
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static int bridge_ensure(struct berthd *d, const struct daemon_network *n, struct berth_error **err)
{
	_cleanup_nl_ struct berth_nl *nl = NULL;
	_cleanup_free_ char *key = NULL;
	const char *name = n->bridge;
	int r;

	(void)d;
	r = berth_nl_open(-1, &nl, err);
	if (r < 0)
		return r;
	r = berth_nl_bridge_add(nl, name, n->mtu, err);
	if (r == -EEXIST) {
		bool bridge = false;

		berth_error_free(*err);
		*err = NULL;
		/* a bridge of that name is taken over, as dockerd does; any other link is
		 * someone else's and keeps its addresses (libnetwork's words) */
		r = berth_nl_link_is_bridge(nl, name, &bridge, err);
		if (r == 0 && !bridge)
			r = berth_error_set(err, ENOTUNIQ, "existing interface %s is not a bridge",
					    name);
	}
	r = r ?: berth_nl_addr_add(nl, name, n->pool.gateway, n->pool.subnet.len, err);
	if (n->ipv6)
		r = r ?: berth_nl_addr6_add(nl, name, n->pool6.gateway, n->pool6.subnet.len, err);
	r = r ?: berth_nl_link_up(nl, name, err);
	if (r < 0)
		return r;
	if (asprintf(&key, "net.ipv4.conf.%s.route_localnet", name) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* a bridge name with a dot cannot be spelled as a dotted key: published ports on
	 * 127.0.0.1 then do not reach its containers, everything else works */
	if (!strchr(name, '.'))
		r = berth_net_sysctl_write(-1, key, "1", err);
	return r;
}

/* Is there a link of that name?  (An error to ask counts as no: the create then makes it.) */
static bool link_exists(const char *name)
{
	_cleanup_nl_ struct berth_nl *nl = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	bool bridge = false;

	return berth_nl_open(-1, &nl, &e) == 0 &&
	       berth_nl_link_is_bridge(nl, name, &bridge, &e) == 0;
}

/* Delete the bridge name; a link of that name that is not a bridge was never berth's. */
static int bridge_remove(const char *name, struct berth_error **err)
{
	_cleanup_nl_ struct berth_nl *nl = NULL;
	bool bridge = false;
	int r = berth_nl_open(-1, &nl, err);

	r = r ?: berth_nl_link_is_bridge(nl, name, &bridge, err);
	if (r == 0 && !bridge)
		return 0;
	r = r ?: berth_nl_link_del(nl, name, err);
	if (r == -ENODEV) {
		berth_error_free(*err);
		*err = NULL;
		r = 0;
	}
	return r;
}

/*
 * A published port reached from the host itself (127.0.0.1, or any of the host's addresses) is
 * a connection routed through lo: its sending socket takes lo's GSO limit, not the bridge's,
 * even though the DNAT sends every packet on to the bridge.  With lo at the kernel's 64 KiB
 * default that path moves a third of what the bridge can (bench/README.md, net.sh), so lo gets
 * BERTH_NL_GSO_MAX too, once, as ip_forward is set once; a limit someone chose is kept.
 * Best effort: a refusal costs only speed.  Kernel lock held.
 */
static void raise_lo_gso(struct berthd *d)
{
	_cleanup_nl_ struct berth_nl *nl = NULL;
	_cleanup_error_ struct berth_error *e = NULL;

	if (berth_nl_open(-1, &nl, &e) < 0 || berth_nl_link_raise_gso(nl, "lo", &e) < 0)
		log_debug("published ports: %s", e ? e->msg : "?");
	d->networks.lo_gso = true;
}

/* Apply berth's firewall table for the whole table (kernel lock held). */
int daemon_networks_firewall_sync(struct berthd *d, struct berth_error **err)
{
	struct fw_copy c;
	int r = fw_copy_take(d, &c);

	if (r < 0) {
		fw_copy_release(&c);
		return berth_error_set(err, ENOMEM, "firewall: out of memory");
	}
	if (c.n == 0 && c.n_ports == 0) {
		/* nothing of berth's to filter: no table, not an empty one.  A berthd that never
		 * had a bridge network leaves nftables alone altogether. */
		if (d->networks.firewall_applied)
			r = berth_fw_flush(-1, err);
		if (r == 0) {
			d->networks.firewall_applied = false;
			d->networks.firewall6_absent = true;
		}
	} else {
		struct berth_fw_state st = {c.nets, c.n, c.ports, c.n_ports,
					    !d->networks.firewall6_absent};

		bool any_v6 = false;

		for (size_t i = 0; i < c.n; i++)
			any_v6 = any_v6 || c.nets[i].has_v6;
		if (!d->networks.forwarding) {
			r = berth_net_sysctl_write(-1, "net.ipv4.ip_forward", "1", err);
			if (r == 0)
				d->networks.forwarding = true;
		}
		if (r == 0 && any_v6 && !d->networks.forwarding6) {
			r = berth_net_sysctl_write(-1, "net.ipv6.conf.all.forwarding", "1", err);
			if (r == 0)
				d->networks.forwarding6 = true;
		}
		r = r ?: berth_fw_apply(&st, -1, err);
		if (r == 0 && c.n_ports > 0 && !d->networks.lo_gso)
			raise_lo_gso(d);
		if (r == 0) {
			d->networks.firewall_applied = true;
			d->networks.firewall6_absent = !any_v6;
		}
	}
	fw_copy_release(&c);
	return r;
}

/* ---- opening: records and the predefined networks ------------------------------------------- */

static int predefined(struct berthd *d, const char *name, const char *driver,
		      struct daemon_network **ret, struct berth_error **err)
{
	struct daemon_network *n;

	for (size_t i = 0; i < d->networks.n; i++)
		if (d->networks.v[i]->predefined && berth_streq(d->networks.v[i]->name, name)) {
			*ret = d->networks.v[i];
			return 0;
		}
	n = calloc(1, sizeof(*n));
	if (!n || !(n->id = new_id()) || !(n->name = strdup(name)) ||
	    !(n->driver = strdup(driver)) || !(n->labels = json_object()) ||
	    !(n->options = json_object()) || table_add(d, n) < 0) {
		network_free(n);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	n->predefined = true;
	n->icc = n->masquerade = true;
	n->created_ns = daemon_now_ns();
	*ret = n;
	return 1;
}

static int auto_subnet6_locked(struct berthd *d, char ret[BERTH_NET6_PREFIX_MAX],
			       struct berth_error **err);

/* The default bridge network from --bip (daemon.json "bip"), made anew when bip changed. */
static int default_bridge(struct berthd *d, struct berth_error **err)
{
	const char *bip = d->config.bip ? d->config.bip : DEFAULT_BIP;
	struct berth_net_prefix p;
	char addr[16], subnet[19];
	const char *slash = strchr(bip, '/');
	struct daemon_network *n;
	uint32_t gw;
	int r;

	if (!slash || (size_t)(slash - bip) >= sizeof(addr))
		return berth_error_set(err, EINVAL, "invalid bip '%s'", bip);
	memcpy(addr, bip, (size_t)(slash - bip));
	addr[slash - bip] = '\0';
	int64_t len;
	if (berth_net_addr_parse(addr, &gw) < 0 || berth_parse_int64(slash + 1, 8, 30, &len) < 0)
		return berth_error_set(err, EINVAL, "invalid bip '%s'", bip);
	p.len = (uint8_t)len;
	p.addr = gw & berth_net_prefix_mask(p.len);
	berth_net_prefix_format(&p, subnet);

	r = predefined(d, "bridge", "bridge", &n, err);
	if (r < 0)
		return r;
	/* IPv6 (--ipv6, --fixed-cidr-v6): the subnet given, else the one it had, else a new one */
	char subnet6[BERTH_NET6_PREFIX_MAX] = "";
	struct berth_net6_prefix p6 = {0};
	if (d->config.ipv6 && d->config.fixed_cidr_v6) {
		if (berth_net6_prefix_parse(d->config.fixed_cidr_v6, &p6, err) < 0)
			return berth_error_wrap(err, "invalid fixed-cidr-v6");
		berth_net6_prefix_format(&p6, subnet6);
	} else if (d->config.ipv6 && r == 0 && n->ipv6) {
		p6 = n->pool6.subnet;
		berth_net6_prefix_format(&p6, subnet6);
	} else if (d->config.ipv6) {
		if (auto_subnet6_locked(d, subnet6, err) < 0)
			return berth_error_wrap(err, "default bridge network");
		berth_net6_prefix_parse(subnet6, &p6, NULL);
	}
	bool same6 = d->config.ipv6 ? n->ipv6 && n->pool6.subnet.len == p6.len &&
					      !memcmp(n->pool6.subnet.addr, p6.addr, 16)
				    : !n->ipv6;
	if (r == 0 && n->has_pool && n->pool.subnet.addr == p.addr && n->pool.subnet.len == p.len &&
	    n->pool.gateway == gw && same6)
		return daemon_network_save_locked(d, n, err);
	/* new, or bip changed: the endpoints of the old subnet are gone with their containers */
	if (n->has_pool)
		berth_ipam_pool_release(&n->pool);
	n->has_pool = false;
	if (n->ipv6)
		berth_ipam6_pool_release(&n->pool6);
	n->ipv6 = false;
	for (size_t i = 0; i < n->n_endpoints; i++) {
		daemon_endpoint_forget_locked(d, n, &n->endpoints[i]);
		daemon_endpoint_release(&n->endpoints[i]);
	}
	n->n_endpoints = 0;
	free(n->bridge);
	n->bridge = strdup(DEFAULT_BRIDGE);
	r = pool_from(n, subnet, addr, NULL, err);
	if (r < 0)
		return berth_error_wrap(err, "bip '%s'", bip);
	if (d->config.ipv6 && (r = pool6_from(n, subnet6, NULL, NULL, err)) < 0)
		return berth_error_wrap(err, "fixed-cidr-v6 '%s'", subnet6);
	json_object_clear(n->options);
	json_object_set_new(n->options, "com.docker.network.bridge.default_bridge",
			    json_string("true"));
	json_object_set_new(n->options, "com.docker.network.bridge.enable_icc",
			    json_string("true"));
	json_object_set_new(n->options, "com.docker.network.bridge.enable_ip_masquerade",
			    json_string("true"));
	json_object_set_new(n->options, "com.docker.network.bridge.host_binding_ipv4",
			    json_string("0.0.0.0"));
	json_object_set_new(n->options, "com.docker.network.bridge.name",
			    json_string(DEFAULT_BRIDGE));
	json_object_set_new(n->options, "com.docker.network.driver.mtu", json_string("1500"));
	return daemon_network_save_locked(d, n, err);
}

static int load_records(struct berthd *d, const char *dir, struct berth_error **err)
{
	_cleanup_closedir_ DIR *dp = opendir(dir);
	struct dirent *de;

	if (!dp)
		return berth_error_sys(err, errno, "open '%s'", dir);
	while ((de = readdir(dp))) {
		_cleanup_free_ char *path = NULL;
		_cleanup_json_ json_t *j = NULL;
		_cleanup_error_ struct berth_error *e = NULL;
		struct daemon_network *n = NULL;
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue; /* tmp files of an interrupted atomic write too */
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		if (berth_json_load_file(path, MAX_NETWORK_RECORD, &j, &e) < 0 ||
		    network_from_record(j, &n, &e) < 0) {
			log_warn("skipping network record '%s': %s", path,
				 e ? e->msg : "unreadable");
			continue;
		}
		if (table_add(d, n) < 0) {
			network_free(n);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
	}
	return 0;
}

int daemon_networks_open(struct berthd *d, struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL;
	struct daemon_network *n;
	int r;

	pthread_mutex_init(&d->networks.kernel, NULL);
	if (asprintf(&dir, "%s/%s", d->config.data_root, NETWORKS_DIR) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = berth_mkdir_p(dir, 0700, err);
	r = r ?: load_records(d, dir, err);
	r = r ?: daemon_endpoints_load(d, err);
	r = r ?: daemon_netns_dir_make(d, err);
	if (r < 0)
		return berth_error_wrap(err, "networks");

	if (d->config.bridge && berth_streq(d->config.bridge, "none")) {
		/* --bridge none: no default bridge network (docker's rule) */
		for (size_t i = 0; i < d->networks.n; i++)
			if (d->networks.v[i]->predefined &&
			    berth_streq(d->networks.v[i]->name, "bridge")) {
				n = d->networks.v[i];
				for (size_t k = 0; k < n->n_endpoints; k++)
					daemon_endpoint_forget_locked(d, n, &n->endpoints[k]);
				network_unlink(d, n, NULL);
				table_del(d, n);
				network_free(n);
				break;
			}
	} else if ((r = default_bridge(d, err)) < 0) {
		return berth_error_wrap(err, "default bridge network");
	}
	if ((r = predefined(d, "host", "host", &n, err)) < 0 ||
	    (r = daemon_network_save_locked(d, n, err)) < 0 ||
	    (r = predefined(d, "none", "null", &n, err)) < 0 ||
	    (r = daemon_network_save_locked(d, n, err)) < 0)
		return berth_error_wrap(err, "networks");

	/* the kernel: every bridge, then the firewall table rebuilt from the records */
	pthread_mutex_lock(&d->networks.kernel);
	for (size_t i = 0; r == 0 && i < d->networks.n; i++) {
		n = d->networks.v[i];
		if (n->bridge && n->has_pool)
			r = bridge_ensure(d, n, err);
		if (r == -ENOTUNIQ) {
			/* another program's link has the name now (or an older berthd took a
			 * link that was no bridge): that network is left without one */
			log_warn("network %s: %s", n->name, (*err)->msg);
			berth_error_free(*err);
			*err = NULL;
			r = 0;
		}
	}
	r = r ?: daemon_networks_firewall_sync(d, err);
	if (r == 0)
		daemon_dns_networks_changed(d);
	pthread_mutex_unlock(&d->networks.kernel);
	if (r < 0)
		return berth_error_wrap(err, "networks");
	return 0;
}

void daemon_networks_close(struct berthd *d)
{
	daemon_dns_stop(d);
	daemon_endpoints_close(d);
	daemon_netns_dir_remove(d);
	for (size_t i = 0; i < d->networks.n; i++)
		network_free(d->networks.v[i]);
	free(d->networks.v);
	d->networks.v = NULL;
	d->networks.n = 0;
	pthread_mutex_destroy(&d->networks.kernel);
}

/* ---- create, remove, prune ------------------------------------------------------------------ */

/* Does p overlap a network of the table or an address of the host's interfaces? */
static bool overlaps_locked(struct berthd *d, const struct berth_net_prefix *p, struct ifaddrs *ifa)
{
	for (size_t i = 0; i < d->networks.n; i++)
		if (d->networks.v[i]->has_pool &&
		    berth_net_prefix_overlaps(&d->networks.v[i]->pool.subnet, p))
			return true;
	for (struct ifaddrs *a = ifa; a; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !a->ifa_netmask)
			continue;
		uint32_t addr = ntohl(((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr);
		uint32_t mask = ntohl(((struct sockaddr_in *)a->ifa_netmask)->sin_addr.s_addr);
		struct berth_net_prefix q = {addr & mask, (uint8_t)__builtin_popcount(mask)};

		if ((addr >> 24) == 127)
			continue;
		if (berth_net_prefix_overlaps(&q, p))
			return true;
	}
	return false;
}

/* The first subnet of the default address pools that overlaps nothing. */
static int auto_subnet_locked(struct berthd *d, struct ifaddrs *ifa, char ret[19],
			      struct berth_error **err)
{
	const json_t *pools = d->config.default_address_pools;
	size_t n = json_is_array(pools) ? json_array_size(pools) : 0;

	for (size_t i = 0; i < (n ? n : 1); i++) {
		const char *base = DEFAULT_POOL_BASE;
		json_int_t size = DEFAULT_POOL_SIZE;
		struct berth_net_prefix b;

		if (n)
			json_unpack(json_array_get(pools, i), "{s:s, s:I}", "base", &base, "size",
				    &size);
		if (berth_net_prefix_parse(base, &b, NULL) < 0 || size < b.len || size > 30)
			continue;
		uint64_t count = (uint64_t)1 << (size - b.len);
		for (uint64_t k = 0; k < count; k++) {
			struct berth_net_prefix p = {
				b.addr + (uint32_t)(k << (32 - size)),
				(uint8_t)size,
			};
			if (!overlaps_locked(d, &p, ifa)) {
				berth_net_prefix_format(&p, ret);
				return 0;
			}
		}
	}
	return berth_error_set(err, ENOSPC,
			       "could not find an available, non-overlapping IPv4 address pool "
			       "among the defaults to assign to the network");
}

/*
 * An IPv6 subnet for a network created with IPv6 and no subnet: a /64 of a unique local
 * /48 (fdxx:xxxx:xxxx::/48, random as RFC 4193 asks) that no network has.
 */
static int auto_subnet6_locked(struct berthd *d, char ret[BERTH_NET6_PREFIX_MAX],
			       struct berth_error **err)
{
	for (int tries = 0; tries < 16; tries++) {
		struct berth_net6_prefix p = {.len = 64};
		bool clash = false;

		p.addr[0] = 0xfd;
		if (getrandom(p.addr + 1, 7, 0) != 7)
			return berth_error_set(err, EIO, "no randomness for an IPv6 subnet");
		for (size_t i = 0; i < d->networks.n && !clash; i++)
			clash = d->networks.v[i]->ipv6 &&
				berth_net6_prefix_overlaps(&d->networks.v[i]->pool6.subnet, &p);
		if (!clash) {
			berth_net6_prefix_format(&p, ret);
			return 0;
		}
	}
	return berth_error_set(err, ENOSPC,
			       "could not find an available, non-overlapping IPv6 address pool");
}

/* Docker's network names: [a-zA-Z0-9][a-zA-Z0-9_.-]* (the container name rule). */
static bool valid_name(const char *s)
{
	if (!s || !*s || strlen(s) > 128)
		return false;
	for (const char *p = s; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');
		if (!alnum && (p == s || !strchr("_.-", *p)))
			return false;
	}
	return true;
}

static bool option_true(const json_t *options, const char *key, bool def)
{
	const char *v = json_string_value(json_object_get(options, key));

	return v ? berth_api_parse_bool(v) : def;
}

int daemon_network_create(struct berthd *d, const json_t *req, char **ret_id,
			  struct berth_error **err)
{
	const char *name = NULL, *driver = "bridge", *ipam_driver = NULL;
	int internal = 0, attachable = 0, ipv6 = 0, ingress = 0, config_only = 0;
	json_t *options = NULL, *labels = NULL, *ipam = NULL, *configs = NULL, *ipam_opts = NULL;
	const char *subnet = NULL, *gateway = NULL, *range = NULL;
	const char *subnet6 = NULL, *gateway6 = NULL, *range6 = NULL;
	struct daemon_network *n = NULL;
	struct ifaddrs *ifa = NULL;
	char auto_net[19];
	int r;

	if (json_unpack((json_t *)req, "{s?s, s?s, s?b, s?b, s?b, s?b, s?b, s?o, s?o, s?o !}",
			"Name", &name, "Driver", &driver, "Internal", &internal, "Attachable",
			&attachable, "EnableIPv6", &ipv6, "Ingress", &ingress, "ConfigOnly",
			&config_only, "Options", &options, "Labels", &labels, "IPAM", &ipam) != 0) {
		/* a field berth does not take: tell which, as a JSON decoder would */
		const char *key;
		json_t *v;
		static const char *const known[] = {
			"Name",	   "Driver",	 "Internal",   "Attachable", "EnableIPv6",
			"Ingress", "Options",	 "Labels",     "IPAM",	     "CheckDuplicate",
			"Scope",   "ConfigOnly", "ConfigFrom", NULL};
		json_object_foreach ((json_t *)req, key, v) {
			bool ok = false;
			for (const char *const *k = known; *k; k++)
				ok = ok || berth_streq(*k, key);
			if (!ok)
				return berth_error_set(err, EINVAL, "unknown field \"%s\"", key);
		}
		if (json_unpack((json_t *)req, "{s?s, s?s, s?b, s?b, s?b, s?b, s?b, s?o, s?o, s?o}",
				"Name", &name, "Driver", &driver, "Internal", &internal,
				"Attachable", &attachable, "EnableIPv6", &ipv6, "Ingress", &ingress,
				"ConfigOnly", &config_only, "Options", &options, "Labels", &labels,
				"IPAM", &ipam) != 0)
			return berth_error_set(err, EINVAL,
					       "invalid JSON: a field has the wrong type");
	}
	if (!name || !*name)
		return berth_error_set(err, EINVAL, "network name cannot be empty");
	if (!valid_name(name))
		return berth_error_set(
			err, EINVAL,
			"invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] "
			"are allowed",
			name);
	if (!driver || !*driver)
		driver = "bridge";
	if (berth_streq(driver, "host") || berth_streq(driver, "null"))
		return berth_error_set(err, EACCES,
				       "only one instance of \"%s\" network is allowed", driver);
	if (!berth_streq(driver, "bridge"))
		return berth_error_set(err, ENOENT, "plugin \"%s\" not found", driver);
	if (ingress)
		return berth_error_set(err, EACCES,
				       "ingress networks need swarm mode, which berth "
				       "does not have");
	if (options && !json_is_object(options))
		return berth_error_set(err, EINVAL, "invalid JSON: Options must be an object");
	if (labels && !json_is_object(labels))
		return berth_error_set(err, EINVAL, "invalid JSON: Labels must be an object");
	const char *key;
	json_t *v;
	json_object_foreach (options, key, v)
		if (!json_is_string(v))
			return berth_error_set(err, EINVAL, "invalid option %s: want a string",
					       key);
	json_object_foreach (labels, key, v)
		if (!json_is_string(v))
			return berth_error_set(err, EINVAL, "invalid label %s: want a string", key);
	if (ipam) {
		if (!json_is_object(ipam) ||
		    json_unpack(ipam, "{s?s, s?o, s?o}", "Driver", &ipam_driver, "Config", &configs,
				"Options", &ipam_opts) != 0 ||
		    (configs && !json_is_array(configs) && !json_is_null(configs)))
			return berth_error_set(err, EINVAL, "invalid JSON: malformed IPAM");
		if (ipam_opts && !json_is_object(ipam_opts) && !json_is_null(ipam_opts))
			return berth_error_set(err, EINVAL,
					       "invalid JSON: IPAM Options must be an object");
		json_object_foreach (ipam_opts, key, v)
			if (!json_is_string(v))
				return berth_error_set(
					err, EINVAL, "invalid IPAM option %s: want a string", key);
		if (ipam_driver && *ipam_driver && !berth_streq(ipam_driver, "default"))
			return berth_error_set(err, ENOENT, "plugin \"%s\" not found", ipam_driver);
		size_t ci;
		json_t *c;
		json_array_foreach (configs, ci, c) {
			const char *cs = NULL, *cr = NULL, *cg = NULL;
			json_t *aux = NULL;

			if (json_unpack(c, "{s?s, s?s, s?s, s?o}", "Subnet", &cs, "IPRange", &cr,
					"Gateway", &cg, "AuxiliaryAddresses", &aux) != 0)
				return berth_error_set(err, EINVAL,
						       "invalid JSON: malformed IPAM Config");
			if (json_object_size(aux) > 0)
				return berth_error_set(
					err, EINVAL,
					"auxiliary addresses are not supported by berth");
			if (cs && !*cs)
				cs = NULL;
			if (!cs && ((cr && *cr) || (cg && *cg)))
				return berth_error_set(err, EINVAL,
						       "an ip-range or gateway needs a subnet");
			/* docker tells the families apart by the subnet's text */
			bool is6 = cs && strchr(cs, ':');
			if (is6 ? subnet6 != NULL : subnet != NULL)
				return berth_error_set(
					err, EACCES,
					"bridge driver doesn't support multiple subnets");
			if (!cs)
				continue;
			if (is6) {
				subnet6 = cs, range6 = cr, gateway6 = cg;
			} else {
				subnet = cs, range = cr, gateway = cg;
			}
		}
		if (subnet6 && !ipv6)
			return berth_error_set(
				err, EINVAL,
				"an IPv6 subnet %s needs IPv6 enabled on the network "
				"(--ipv6, EnableIPv6)",
				subnet6);
	}
	const char *mtu_s =
		json_string_value(json_object_get(options, "com.docker.network.driver.mtu"));
	int64_t mtu = 0;
	if (mtu_s && berth_parse_int64(mtu_s, 68, 65535, &mtu) < 0)
		return berth_error_set(err, EINVAL,
				       "invalid MTU %s: want a number from 68 to 65535", mtu_s);
	const char *brname =
		json_string_value(json_object_get(options, "com.docker.network.bridge.name"));

	n = calloc(1, sizeof(*n));
	if (!n || !(n->id = new_id()) || !(n->name = strdup(name)) || !(n->driver = strdup(driver)))
		goto nomem;
	n->internal = internal;
	n->attachable = attachable;
	n->mtu = (unsigned)mtu;
	n->icc = option_true(options, "com.docker.network.bridge.enable_icc", true);
	n->masquerade =
		option_true(options, "com.docker.network.bridge.enable_ip_masquerade", true);
	n->labels = labels ? json_deep_copy(labels) : json_object();
	n->options = options ? json_deep_copy(options) : json_object();
	if (json_is_object(ipam_opts) && !(n->ipam_options = json_deep_copy(ipam_opts)))
		goto nomem;
	if (brname) {
		n->bridge = strdup(brname);
	} else if (asprintf(&n->bridge, "br-%.12s", n->id) < 0) {
		n->bridge = NULL;
	}
	if (!n->labels || !n->options || !n->bridge)
		goto nomem;
	n->created_ns = daemon_now_ns();

	getifaddrs(&ifa);
	pthread_mutex_lock(&d->networks.kernel);
	/* a named bridge that is already there stays its owner's (the kernel lock keeps berth's
	 * own creations and removals out of the way meanwhile) */
	if (brname)
		n->bridge_external = link_exists(brname);
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->networks.n; i++) {
		if (berth_streq(d->networks.v[i]->name, name)) {
			r = berth_error_set(err, EEXIST, "network with name %s already exists",
					    name);
			goto unlock;
		}
		if (d->networks.v[i]->bridge && berth_streq(d->networks.v[i]->bridge, n->bridge)) {
			r = berth_error_set(err, EEXIST, "bridge name %s is used by network %s",
					    n->bridge, d->networks.v[i]->name);
			goto unlock;
		}
	}
	if (!subnet) {
		r = auto_subnet_locked(d, ifa, auto_net, err);
		if (r < 0)
			goto unlock;
		subnet = auto_net;
		n->subnet_auto = true;
	}
	r = pool_from(n, subnet, gateway, range, err);
	if (r < 0)
		goto unlock;
	if (ipv6) {
		char auto6[BERTH_NET6_PREFIX_MAX];

		if (!subnet6) {
			r = auto_subnet6_locked(d, auto6, err);
			if (r < 0)
				goto unlock;
			subnet6 = auto6;
			n->subnet6_auto = true;
		}
		r = pool6_from(n, subnet6, gateway6, range6, err);
		if (r < 0)
			goto unlock;
	}
	for (size_t i = 0; i < d->networks.n; i++)
		if ((d->networks.v[i]->has_pool &&
		     berth_net_prefix_overlaps(&d->networks.v[i]->pool.subnet, &n->pool.subnet)) ||
		    (n->ipv6 && d->networks.v[i]->ipv6 &&
		     berth_net6_prefix_overlaps(&d->networks.v[i]->pool6.subnet,
						&n->pool6.subnet))) {
			r = berth_error_set(err, EACCES,
					    "Pool overlaps with other one on this address space");
			goto unlock;
		}
	r = daemon_network_save_locked(d, n, err);
	if (r == 0 && (r = table_add(d, n)) < 0)
		berth_error_set(err, ENOMEM, "out of memory");
unlock:
	pthread_mutex_unlock(&d->lock);
	freeifaddrs(ifa);
	if (r < 0) {
		pthread_mutex_unlock(&d->networks.kernel);
		network_free(n);
		return r;
	}
	/* in the table and on disk; now the kernel.  A failure takes it all back. */
	r = bridge_ensure(d, n, err);
	r = r ?: daemon_networks_firewall_sync(d, err);
	if (r < 0) {
		_cleanup_error_ struct berth_error *e2 = NULL;

		pthread_mutex_lock(&d->lock);
		table_del(d, n);
		network_unlink(d, n, NULL);
		pthread_mutex_unlock(&d->lock);
		if (!n->bridge_external)
			bridge_remove(n->bridge, &e2);
		daemon_networks_firewall_sync(d, &e2);
		pthread_mutex_unlock(&d->networks.kernel);
		network_free(n);
		return berth_error_wrap(err, "create network %s", name);
	}
	daemon_dns_networks_changed(d);
	pthread_mutex_unlock(&d->networks.kernel);
	*ret_id = strdup(n->id);
	struct berth_key_value attrs[] = {{"name", (char *)name}, {"type", (char *)driver}};
	daemon_event_emit(d, "network", "create", *ret_id, attrs, 2);
	return *ret_id ? 0 : berth_error_set(err, ENOMEM, "out of memory");
nomem:
	network_free(n);
	return berth_error_set(err, ENOMEM, "out of memory");
}

/* Take n out of the table (d->lock held): EPERM when predefined or in use. */
static int detach_for_removal_locked(struct berthd *d, struct daemon_network *n,
				     struct berth_error **err)
{
	if (n->predefined)
		return berth_error_set(
			err, EACCES, "%s is a pre-defined network and cannot be removed", n->name);
	if (n->n_endpoints > 0)
		return berth_error_set(err, EACCES,
				       "error while removing network: network %s id %s has active "
				       "endpoints",
				       n->name, n->id);
	int r = network_unlink(d, n, err);
	if (r < 0)
		return r;
	table_del(d, n);
	return 0;
}

/* After n left the table: its bridge, the firewall, the event (kernel lock held). */
static void finish_removal(struct berthd *d, struct daemon_network *n)
{
	_cleanup_error_ struct berth_error *e = NULL;
	struct berth_key_value attrs[] = {{"name", n->name}, {"type", n->driver}};

	if (n->bridge && !n->bridge_external && bridge_remove(n->bridge, &e) < 0)
		log_warn("network %s: %s", n->name, e->msg);
	berth_error_free(e);
	e = NULL;
	if (daemon_networks_firewall_sync(d, &e) < 0)
		log_warn("network %s: %s", n->name, e->msg);
	daemon_event_emit(d, "network", "destroy", n->id, attrs, 2);
	daemon_dns_networks_changed(d);
	network_free(n);
}

int daemon_network_remove(struct berthd *d, const char *ref, struct berth_error **err)
{
	struct daemon_network *n;
	int r;

	pthread_mutex_lock(&d->networks.kernel);
	pthread_mutex_lock(&d->lock);
	n = daemon_network_find_locked(d, ref, err);
	r = n ? detach_for_removal_locked(d, n, err) : -ENOENT;
	pthread_mutex_unlock(&d->lock);
	if (r == 0)
		finish_removal(d, n);
	pthread_mutex_unlock(&d->networks.kernel);
	return r;
}

/* Docker's label filter over a labels object. */
static bool labels_match_key(const struct berth_filters *f, const char *key, const json_t *labels)
{
	size_t n = json_object_size(labels), i = 0;
	_cleanup_free_ struct berth_key_value *kv = calloc(n + 1, sizeof(*kv));
	const char *k;
	json_t *v;

	if (!kv)
		return false;
	json_object_foreach ((json_t *)labels, k, v) {
		kv[i].key = (char *)k;
		kv[i].value = (char *)(json_string_value(v) ?: "");
		i++;
	}
	return berth_filters_match_kv(f, key, kv, i);
}

bool daemon_labels_match(const struct berth_filters *f, const json_t *labels)
{
	return labels_match_key(f, "label", labels);
}

static bool prune_selects(const struct daemon_network *n, const struct berth_filters *f,
			  int64_t until_ns)
{
	if (n->predefined || n->n_endpoints > 0)
		return false;
	if (until_ns && n->created_ns >= until_ns)
		return false;
	/* dockerd's matchLabels: label! leaves out a network that has every one of its labels */
	if (berth_filters_contains(f, "label!") && labels_match_key(f, "label!", n->labels))
		return false;
	return daemon_labels_match(f, n->labels);
}

int daemon_networks_prune(struct berthd *d, const struct berth_filters *f, json_t **ret,
			  struct berth_error **err)
{
	_cleanup_json_ json_t *names = json_array();
	const char *const *until = berth_filters_values(f, "until");
	int64_t until_ns = 0;
	struct daemon_network **gone = NULL;
	size_t n_gone = 0;

	if (!names)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (until && until[0]) {
		int r = berth_api_parse_time(until[0], daemon_now_ns(), &until_ns, err);
		if (r < 0)
			return r;
	}
	pthread_mutex_lock(&d->networks.kernel);
	pthread_mutex_lock(&d->lock);
	gone = calloc(d->networks.n + 1, sizeof(*gone));
	for (size_t i = 0; gone && i < d->networks.n;) {
		struct daemon_network *n = d->networks.v[i];

		if (prune_selects(n, f, until_ns) && detach_for_removal_locked(d, n, NULL) == 0) {
			gone[n_gone++] = n;
			continue; /* table_del moved the next one here */
		}
		i++;
	}
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 0; i < n_gone; i++) {
		json_array_append_new(names, json_string(gone[i]->name));
		finish_removal(d, gone[i]);
	}
	pthread_mutex_unlock(&d->networks.kernel);
	free(gone);
	if (!gone)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = TAKE_PTR(names);
	return 0;
}
