/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container's networking: the checks at create (the network exists, the port bindings parse),
 * and at each start on a bridge network the network namespace berthd makes, the endpoints on
 * its networks, the published ports, /etc/hosts and /etc/resolv.conf, and the spec's netns
 * path; at its exit all of it goes again.  The result is kept in the container (NetworkSettings
 * as inspect shows it) and in its record, so a live-restored container still has it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containers-internal.h"
#include "networks-internal.h"
#include "base/banned.h"

#define MAX_PORTS 1024

/* A port number at the start of s ("80/tcp", "8080"); 0 when there is none. */
static int atoi_safe(const char *s)
{
	char *end;
	long v = s ? strtol(s, &end, 10) : 0;

	return s && end != s && v > 0 && v <= 65535 ? (int)v : 0;
}

static const char *mode_of(const json_t *hc)
{
	const char *m = json_string_value(json_object_get(hc, "NetworkMode"));

	return m && *m && strcmp(m, "default") != 0 ? m : "bridge";
}

/* Does the container sit on a bridge network (its own namespace with a veth)? */
static bool on_bridge(const json_t *hc)
{
	const char *m = mode_of(hc);

	return strcmp(m, "host") != 0 && strcmp(m, "none") != 0 &&
	       !berth_str_has_prefix(m, "container:");
}

/* "80/tcp" -> proto and port; docker's message for anything else. */
static int parse_port_key(const char *key, struct daemon_port_binding *b, struct berth_error **err)
{
	char num[8];
	const char *slash = strchr(key, '/');
	size_t len = slash ? (size_t)(slash - key) : strlen(key);
	const char *proto = slash ? slash + 1 : "tcp";
	int64_t port;

	if (len == 0 || len >= sizeof(num))
		return berth_error_set(err, EINVAL, "invalid port specification: \"%s\"", key);
	memcpy(num, key, len);
	num[len] = '\0';
	if (berth_parse_int64(num, 1, 65535, &port) < 0)
		return berth_error_set(err, EINVAL, "invalid port specification: \"%s\"", key);
	if (strcmp(proto, "tcp") == 0)
		b->proto = IPPROTO_TCP;
	else if (strcmp(proto, "udp") == 0)
		b->proto = IPPROTO_UDP;
	else if (strcmp(proto, "sctp") == 0)
		return berth_error_set(err, EINVAL,
				       "port %s: berth publishes tcp and udp, not sctp", key);
	else
		return berth_error_set(err, EINVAL, "invalid proto: %s", proto);
	b->container_port = (uint16_t)port;
	return 0;
}

/*
 * HostConfig.PortBindings (+ PublishAllPorts over Config.ExposedPorts) as a list of bindings.
 * *ret may be NULL with *n 0.
 */
static int port_bindings(const json_t *hc, const json_t *cfg, struct daemon_port_binding **ret,
			 size_t *n, struct berth_error **err)
{
	const json_t *pb = json_object_get(hc, "PortBindings");
	const json_t *exposed = json_object_get(cfg, "ExposedPorts");
	bool all = json_is_true(json_object_get(hc, "PublishAllPorts"));
	struct daemon_port_binding *v = NULL;
	size_t cnt = 0;
	const char *key;
	json_t *val;
	int r = 0;

	*ret = NULL;
	*n = 0;
	if (pb && !json_is_object(pb) && !json_is_null(pb))
		return berth_error_set(err, EINVAL, "invalid JSON: PortBindings must be an object");
	v = calloc(MAX_PORTS + 1, sizeof(*v));
	if (!v)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_object_foreach ((json_t *)pb, key, val) {
		struct daemon_port_binding base = {0};
		size_t i;
		json_t *one;

		r = parse_port_key(key, &base, err);
		if (r < 0)
			goto fail;
		if (!json_is_array(val) && !json_is_null(val)) {
			r = berth_error_set(err, EINVAL,
					    "invalid JSON: PortBindings[%s] must be a list", key);
			goto fail;
		}
		json_array_foreach (val, i, one) {
			const char *hip = json_string_value(json_object_get(one, "HostIp")) ?: "";
			const char *hport =
				json_string_value(json_object_get(one, "HostPort")) ?: "";
			struct daemon_port_binding b = base;
			int64_t p = 0;

			if (cnt >= MAX_PORTS) {
				r = berth_error_set(err, EINVAL,
						    "too many published ports (at most %d)",
						    MAX_PORTS);
				goto fail;
			}
			if (*hip && strcmp(hip, "0.0.0.0") != 0 &&
			    berth_net_addr_parse(hip, &b.host_ip) < 0) {
				if (strchr(hip, ':')) {
					if (strcmp(hip, "::") == 0)
						continue; /* docker's IPv6 half of a 0.0.0.0 binding */
					r = berth_error_set(
						err, EINVAL,
						"invalid host IP %s: berth publishes a port "
						"on one IPv4 address, or on every address "
						"(IPv6 too on a network with IPv6)",
						hip);
				} else {
					r = berth_error_set(err, EINVAL, "invalid IP address: %s",
							    hip);
				}
				goto fail;
			}
			/* "8000-8010": the first free one of them, as dockerd's allocator */
			const char *dash = strchr(hport, '-');
			_cleanup_free_ char *first =
				dash ? strndup(hport, (size_t)(dash - hport)) : NULL;
			int64_t last = 0;
			if (*hport && ((dash && !first) ||
				       berth_parse_int64(dash ? first : hport, 1, 65535, &p) < 0 ||
				       (dash && (berth_parse_int64(dash + 1, 1, 65535, &last) < 0 ||
						 last < p)))) {
				/* dockerd's validateHostConfig (the CLI says invalid hostPort first) */
				r = berth_error_set(err, EINVAL,
						    "invalid port specification: \"%s\"", hport);
				goto fail;
			}
			b.host_port = (uint16_t)p;
			b.host_port_last = last > p ? (uint16_t)last : 0;
			v[cnt++] = b;
		}
	}
	if (all) {
		json_object_foreach ((json_t *)exposed, key, val) {
			struct daemon_port_binding b = {0};
			bool bound = false;

			r = parse_port_key(key, &b, err);
			if (r < 0)
				goto fail;
			for (size_t i = 0; i < cnt; i++)
				bound = bound || (v[i].proto == b.proto &&
						  v[i].container_port == b.container_port);
			if (!bound && cnt < MAX_PORTS)
				v[cnt++] = b;
		}
	}
	*ret = v;
	*n = cnt;
	return 0;
fail:
	free(v);
	return r;
}

/* ---- legacy links (--link name[:alias] off user networks) ---------------------------------- */

/* opts.ParseLink: "name" or "name:alias"; both malloc'd */
static int link_split(const char *l, char **ret_name, char **ret_alias)
{
	const char *c = strchr(l, ':');

	if (!*l || (c && (c == l || !c[1] || strchr(c + 1, ':'))))
		return -EINVAL;
	*ret_name = c ? strndup(l, (size_t)(c - l)) : strdup(l);
	*ret_alias = strdup(c ? c + 1 : l);
	return *ret_name && *ret_alias ? 0 : -ENOMEM;
}

static const char *bare_name(const struct daemon_container *x)
{
	return x->name && x->name[0] == '/' ? x->name + 1 : x->name ?: "";
}

/* The container a link names, through container:<x> network modes (d->lock held). */
static struct daemon_container *link_child_locked(struct berthd *d, const char *name)
{
	struct daemon_container *x = ctr_find_locked(d, name, NULL);

	for (int hops = 0; x && hops < 16; hops++) {
		const char *m = mode_of(x->host_config);
		if (!berth_str_has_prefix(m, "container:"))
			break;
		x = ctr_find_locked(d, m + strlen("container:"), NULL);
	}
	return x;
}

static bool user_network(const json_t *hc)
{
	const char *m = mode_of(hc);

	return on_bridge(hc) && strcmp(m, "bridge") != 0;
}

/* docker's registerLinks at create: every child exists, none is on the host's network */
static int check_links(struct berthd *d, const json_t *hc, struct berth_error **err)
{
	const json_t *links = json_object_get(hc, "Links");
	size_t i;
	json_t *l;
	int r = 0;

	if (user_network(hc))
		return 0; /* a user network's links are its endpoints' (aliases) */
	json_array_foreach (links, i, l) {
		_cleanup_free_ char *name = NULL, *alias = NULL;
		const char *spec = json_string_value(l) ?: "";
		if (link_split(spec, &name, &alias) < 0)
			return berth_error_set(err, EINVAL, "invalid link format: %s", spec);
		pthread_mutex_lock(&d->lock);
		struct daemon_container *x = link_child_locked(d, name);
		if (!x)
			r = berth_error_set(err, EINVAL,
					    "could not get container for %s: No such container: %s",
					    name, name);
		else if (strcmp(mode_of(x->host_config), "host") == 0)
			r = berth_error_set(
				err, EINVAL,
				"conflicting options: host type networking can't be used "
				"with links. This would result in undefined behavior");
		pthread_mutex_unlock(&d->lock);
		if (r < 0)
			return r;
	}
	return 0;
}

/* links.Link's variables for a child at ip: ports (one set each), the name, its environment */
static void link_vars(json_t *env, const char *alias, const char *full_name, const char *ip,
		      const json_t *exposed, const json_t *child_env)
{
	_cleanup_free_ char *up = strdup(alias);
	const char *key, *best = NULL;
	long best_port = 0;
	json_t *v;
	size_t i;

	if (!up)
		return;
	for (char *p = up; *p; p++)
		*p = *p == '-' ? '_' : (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
	/* the lowest port, tcp before others at the same number: ALIAS_PORT */
	json_object_foreach ((json_t *)exposed, key, v) {
		long port = strtol(key, NULL, 10);
		const char *proto = strchr(key, '/') ? strchr(key, '/') + 1 : "tcp";
		if (!best || port < best_port || (port == best_port && strcmp(proto, "tcp") == 0)) {
			best = key;
			best_port = port;
		}
	}
	if (best) {
		const char *proto = strchr(best, '/') ? strchr(best, '/') + 1 : "tcp";
		json_array_append_new(
			env, json_sprintf("%s_PORT=%s://%s:%ld", up, proto, ip, best_port));
	}
	json_object_foreach ((json_t *)exposed, key, v) {
		long port = strtol(key, NULL, 10);
		const char *proto = strchr(key, '/') ? strchr(key, '/') + 1 : "tcp";
		char uproto[16];
		snprintf(uproto, sizeof(uproto), "%s", proto);
		for (char *p = uproto; *p; p++)
			*p = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
		json_array_append_new(env, json_sprintf("%s_PORT_%ld_%s=%s://%s:%ld", up, port,
							uproto, proto, ip, port));
		json_array_append_new(env,
				      json_sprintf("%s_PORT_%ld_%s_ADDR=%s", up, port, uproto, ip));
		json_array_append_new(
			env, json_sprintf("%s_PORT_%ld_%s_PORT=%ld", up, port, uproto, port));
		json_array_append_new(
			env, json_sprintf("%s_PORT_%ld_%s_PROTO=%s", up, port, uproto, proto));
	}
	json_array_append_new(env, json_sprintf("%s_NAME=%s", up, full_name));
	json_array_foreach (child_env, i, v) {
		const char *kv = json_string_value(v) ?: "", *eq = strchr(kv, '=');
		if (!eq ||
		    (eq - kv == 4 && (strncmp(kv, "HOME", 4) == 0 || strncmp(kv, "PATH", 4) == 0)))
			continue;
		json_array_append_new(env, json_sprintf("%s_ENV_%s", up, kv));
	}
}

/*
 * At start on the default bridge (docker's setupLinkedContainers): each child runs and has an
 * address there; its /etc/hosts lines ("IP alias hostname name") and variables.
 */
static int links_for_start(struct berthd *d, struct daemon_container *c, char **ret_hosts,
			   json_t **ret_env, struct berth_error **err)
{
	const json_t *links = json_object_get(c->host_config, "Links");
	_cleanup_json_ json_t *env = json_array();
	char *out = NULL;
	size_t len = 0, i;
	json_t *l;
	int r = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f || !env) {
		if (f)
			fclose(f);
		free(out);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	json_array_foreach (links, i, l) {
		_cleanup_free_ char *name = NULL, *alias = NULL, *full = NULL;
		if (link_split(json_string_value(l) ?: "", &name, &alias) < 0)
			continue; /* refused at create */
		pthread_mutex_lock(&d->lock);
		struct daemon_container *x = link_child_locked(d, name);
		const char *ip =
			x ? json_string_value(json_object_get(
				    json_object_get(x->net_settings, "bridge"), "IPAddress"))
			  : NULL;
		if (asprintf(&full, "/%s/%s", bare_name(c), alias) < 0)
			full = NULL;
		if (!x)
			r = berth_error_set(err, EINVAL,
					    "could not get container for %s: No such container: %s",
					    name, name);
		else if (!x->running)
			r = berth_error_set(err, EINVAL,
					    "Cannot link to a non running container: /%s AS %s",
					    bare_name(x), full ?: alias);
		else if (!ip || !*ip)
			r = berth_error_set(err, EINVAL,
					    "container %s not attached to default bridge network",
					    x->id);
		if (r == 0) {
			const char *hn = json_string_value(json_object_get(x->config, "Hostname"));
			fprintf(f, "%s	%s %s", ip, alias, hn ?: "");
			if (strcmp(alias, bare_name(x)) != 0)
				fprintf(f, " %s", bare_name(x));
			fputc('\n', f);
			link_vars(env, alias, full ?: alias, ip,
				  json_object_get(x->config, "ExposedPorts"),
				  json_object_get(x->config, "Env"));
		}
		pthread_mutex_unlock(&d->lock);
		if (r < 0)
			break;
	}
	fclose(f);
	if (r < 0) {
		free(out);
		return r;
	}
	*ret_hosts = out;
	*ret_env = TAKE_PTR(env);
	return 0;
}

#define MAC_DRIVER_OPT "com.docker.network.endpoint.macaddress"

/*
 * The MAC address an endpoint asks for: EndpointSettings.MacAddress, the driver option docker's
 * bridge driver also reads, and for the primary network the container-wide Config.MacAddress of
 * older clients.  1 with mac set, 0 when none is asked for, -EINVAL with docker's message.
 */
static int endpoint_mac(const json_t *ec, const json_t *cfg, bool primary, uint8_t mac[6],
			struct berth_error **err)
{
	const char *s = json_string_value(json_object_get(ec, "MacAddress"));

	if (!s || !*s)
		s = json_string_value(
			json_object_get(json_object_get(ec, "DriverOpts"), MAC_DRIVER_OPT));
	if ((!s || !*s) && primary)
		s = json_string_value(json_object_get(cfg, "MacAddress"));
	if (!s || !*s)
		return 0;
	if (berth_net_mac_parse(s, mac) < 0)
		return berth_error_set(err, EINVAL, "invalid MAC address %s", s);
	return 1;
}

/*
 * --ip6 (IPAMConfig.IPv6Address) on network ref, docker's checks: an IPv6 address, a user
 * network with an IPv6 subnet that contains it.  Taken or not is seen when it attaches.
 */
static int check_ip6(struct berthd *d, const char *ref, const char *ip6, struct berth_error **err)
{
	static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};
	uint8_t a[16];

	/* docker: an IPv4-mapped address is not an IPv6 one */
	if (berth_net6_addr_parse(ip6, a) < 0 || memcmp(a, v4mapped, sizeof(v4mapped)) == 0)
		return berth_error_set(err, EINVAL, "invalid IPv6 address: %s", ip6);
	pthread_mutex_lock(&d->lock);
	struct daemon_network *net = daemon_network_find_locked(d, ref, NULL);
	bool predefined = net && net->predefined, v6 = net && net->ipv6;
	bool inside = v6 && berth_net6_prefix_contains(&net->pool6.subnet, a);
	bool auto6 = v6 && net->subnet6_auto;
	pthread_mutex_unlock(&d->lock);
	if (!net)
		return 0; /* a missing network is reported with docker's words elsewhere */
	if (predefined)
		return berth_error_set(err, EINVAL,
				       "user specified IP address is supported on user defined "
				       "networks only");
	if (!v6 || auto6)
		return berth_error_set(err, EINVAL, "%s", NO_USER_SUBNET);
	if (!inside)
		return berth_error_set(err, EINVAL,
				       "invalid endpoint settings:\nno configured subnet or "
				       "ip-range contain the IP address %s",
				       ip6);
	return 0;
}

/* dockerd's validateEndpointSettings: a --ip on a user network is inside its subnet, which
 * the user configured. */
static int check_ip4_inside(struct berthd *d, const char *ref, uint32_t a, const char *ip,
			    struct berth_error **err)
{
	pthread_mutex_lock(&d->lock);
	const struct daemon_network *n = daemon_network_find_locked(d, ref, NULL);
	bool user = n && n->has_pool && !n->predefined;
	bool picked = user && n->subnet_auto;
	bool outside = user && !picked && !berth_net_prefix_contains(&n->pool.subnet, a);
	pthread_mutex_unlock(&d->lock);
	if (picked)
		return berth_error_set(err, EINVAL, "%s", NO_USER_SUBNET);
	if (outside)
		return berth_error_set(
			err, EINVAL,
			"invalid endpoint settings:\nno configured subnet or ip-range "
			"contain the IP address %s",
			ip);
	return 0;
}

int ctr_network_check(struct berthd *d, const json_t *hc, const json_t *cfg, const json_t *nc,
		      struct berth_error **err)
{
	_cleanup_free_ struct daemon_port_binding *ports = NULL;
	size_t n;
	int r;

	r = check_links(d, hc, err);
	if (r < 0)
		return r;
	if (!on_bridge(hc))
		return 0;
	r = port_bindings(hc, cfg, &ports, &n, err);
	if (r < 0)
		return r;
	const char *mode = mode_of(hc);
	pthread_mutex_lock(&d->lock);
	struct daemon_network *net = daemon_network_find_locked(d, mode, NULL);
	bool bridge_ok = net && net->bridge;
	pthread_mutex_unlock(&d->lock);
	if (!net && strcmp(mode, "bridge") == 0)
		return 0; /* berthd --bridge none: the container gets loopback only, as none */
	if (!net)
		return berth_error_set(err, ENOENT, "network %s not found", mode);
	if (!bridge_ok)
		return berth_error_set(err, EINVAL, "network %s is not a bridge network", mode);
	const char *key;
	json_t *ec;
	uint8_t wide_mac[6];
	/* an older client's container-wide MAC goes to the primary network's endpoint */
	if (endpoint_mac(NULL, cfg, true, wide_mac, err) < 0)
		return berth_error_wrap(err, "invalid config for network %s",
					strcmp(mode, "default") == 0 ? "bridge" : mode);
	json_object_foreach (json_object_get(nc, "EndpointsConfig"), key, ec) {
		const char *ip = json_string_value(
			json_object_get(json_object_get(ec, "IPAMConfig"), "IPv4Address"));
		uint32_t a;

		uint8_t mac[6];
		const char *emac = json_string_value(json_object_get(ec, "MacAddress"));
		const char *cmac = json_string_value(json_object_get(cfg, "MacAddress"));

		if (endpoint_mac(ec, cfg, strcmp(key, mode) == 0 || strcmp(key, "default") == 0,
				 mac, err) < 0)
			return berth_error_wrap(err, "invalid config for network %s", key);
		if (emac && *emac && cmac && *cmac && strcasecmp(emac, cmac) != 0)
			return berth_error_set(
				err, EINVAL,
				"the container-wide MAC address must match the "
				"endpoint-specific MAC address for the main network, "
				"or be left empty");
		if (daemon_link_local_check(json_object_get(ec, "IPAMConfig"), err) < 0)
			return -EINVAL;
		const char *ip6 = json_string_value(
			json_object_get(json_object_get(ec, "IPAMConfig"), "IPv6Address"));
		if (ip6 && *ip6) {
			r = check_ip6(d, strcmp(key, "default") == 0 ? mode : key, ip6, err);
			if (r < 0)
				return r;
		}
		if (!ip || !*ip)
			continue;
		if (berth_net_addr_parse(ip, &a) < 0)
			return berth_error_set(err, EINVAL, "invalid IPv4 address: %s", ip);
		if (strcmp(mode, "bridge") == 0)
			return berth_error_set(err, EINVAL,
					       "user specified IP address is supported on user "
					       "defined networks only");
		r = check_ip4_inside(d, strcmp(key, "default") == 0 ? mode : key, a, ip, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- start and exit ------------------------------------------------------------------------- */

/*
 * The endpoint settings of the network the container asked for (NetworkingConfig), if any; the
 * docker CLI files them under the network mode it sent, "default" for the default bridge.
 */
static const json_t *endpoint_config(const struct daemon_container *c, const char *network)
{
	const json_t *all = json_object_get(c->networking_config, "EndpointsConfig");
	const json_t *ec = json_object_get(all, network);

	return ec ? ec : json_object_get(all, "default");
}

const char *ctr_host_gateway(struct berthd *d, char buf[16])
{
	pthread_mutex_lock(&d->lock);
	const struct daemon_network *n = daemon_network_find_locked(d, "bridge", NULL);
	bool ok = n && n->predefined && n->bridge && n->has_pool;
	if (ok)
		berth_net_addr_format(n->pool.gateway, buf);
	pthread_mutex_unlock(&d->lock);
	return ok ? buf : NULL;
}

/*
 * The names of the container's own line in /etc/hosts, as libnetwork's updateHostsFile: the
 * FQDN (Hostname, with "."Domainname when there is one), then the bare name when it has a dot.
 */
static char *hosts_names(const json_t *config)
{
	const char *hn = json_string_value(json_object_get(config, "Hostname")) ?: "";
	const char *dn = json_string_value(json_object_get(config, "Domainname")) ?: "";
	char *out = NULL;
	const char *dot;
	int r;

	r = *dn ? asprintf(&out, "%s.%s", hn, dn) : asprintf(&out, "%s", hn);
	if (r < 0)
		return NULL;
	dot = strchr(out, '.');
	if (dot) {
		char *both = NULL;
		r = asprintf(&both, "%s %.*s", out, (int)(dot - out), out);
		free(out);
		out = r < 0 ? NULL : both;
	}
	return out;
}

static int write_net_files(struct berthd *d, struct daemon_container *c, const json_t *settings,
			   bool user_net, const char *link_hosts, struct berth_error **err)
{
	const char *ip = json_string_value(json_object_get(settings, "IPAddress"));
	const char *gw = json_string_value(json_object_get(settings, "Gateway"));
	char host_gw[16];
	const char *hgw = ctr_host_gateway(d, host_gw);
	_cleanup_free_ char *hn = hosts_names(c->config);
	_cleanup_free_ char *hosts = ctr_make_hosts(c->host_config, false, hgw);
	_cleanup_free_ char *resolv = ctr_make_resolv_conf(c->host_config, false);
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (!hgw && ctr_wants_host_gateway(c->host_config))
		return berth_error_set(err, EINVAL,
				       "unable to derive the IP value for host-gateway");
	/* docker's /etc/hosts of a bridge container ends with its address and hostname */
	f = hosts && hn ? open_memstream(&out, &len) : NULL;
	if (!f)
		return berth_error_set(err, ENOMEM, "out of memory");
	fprintf(f, "%s%s%s\t%s\n", hosts, link_hosts ?: "", ip ? ip : "", hn);
	/* and, on a network with IPv6, the IPv6 address under the same name */
	const char *ip6 = json_string_value(json_object_get(settings, "GlobalIPv6Address"));
	if (ip6 && *ip6)
		fprintf(f, "%s\t%s\n", ip6, hn);
	fclose(f);
	r = ctr_write_small(c->dir, "hosts", out, err);
	free(out);
	if (r < 0 || !user_net)
		return r;
	/* a user network's containers ask berthd's name server on its gateway */
	out = NULL;
	f = resolv ? open_memstream(&out, &len) : NULL;
	if (!f)
		return berth_error_set(err, ENOMEM, "out of memory");
	fprintf(f, "nameserver %s\n", gw ? gw : "");
	for (char *l = resolv, *next; l && *l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		if (!berth_str_has_prefix(l, "nameserver"))
			fprintf(f, "%s\n", l);
	}
	fclose(f);
	r = ctr_write_small(c->dir, "resolv.conf", out, err);
	free(out);
	return r;
}

/* Is the network (name or id) an --internal one?  False when there is none by that name. */
static bool network_internal(struct berthd *d, const char *network)
{
	pthread_mutex_lock(&d->lock);
	const struct daemon_network *n = daemon_network_find_locked(d, network, NULL);
	bool internal = n && n->internal;
	pthread_mutex_unlock(&d->lock);
	return internal;
}

static void push_unique(json_t *list, const char *s)
{
	size_t i;
	json_t *v;

	if (!s || !*s)
		return;
	json_array_foreach (list, i, v)
		if (strcmp(json_string_value(v) ?: "", s) == 0)
			return;
	json_array_append_new(list, json_string(s));
}

/* The names the endpoint answers to, as dockerd lists them: the container's name, its aliases,
 * its short id, its hostname, each once. */
static json_t *dns_names(const struct daemon_container *c, char *const *aliases)
{
	json_t *out = json_array();
	char short_id[13];

	if (!out)
		return json_null();
	snprintf(short_id, sizeof(short_id), "%s", c->id);
	push_unique(out, c->name && c->name[0] == '/' ? c->name + 1 : c->name);
	for (char *const *a = aliases; a && *a; a++)
		push_unique(out, *a);
	push_unique(out, short_id);
	push_unique(out, json_string_value(json_object_get(c->config, "Hostname")));
	return out;
}

/* Is the running container c on a network that is not --internal (its ports are there)? */
static bool on_outside_network(struct berthd *d, struct daemon_container *c)
{
	_cleanup_(berth_strv_freep) char **names = NULL;
	const char *key;
	json_t *v;

	pthread_mutex_lock(&d->lock);
	json_object_foreach (c->net_settings, key, v)
		berth_strv_push(&names, key);
	pthread_mutex_unlock(&d->lock);
	for (char **n = names; n && *n; n++)
		if (!network_internal(d, *n))
			return true;
	return false;
}

/* Attach c to one network with the endpoint config ec (aliases, IPAMConfig). */
static int attach_one(struct berthd *d, struct daemon_container *c, const char *network,
		      const json_t *ec, const char *netns_path, const char *ifname, bool primary,
		      const struct daemon_port_binding *ports, size_t n_ports, json_t **ret,
		      struct berth_error **err)
{
	const json_t *ipam = json_object_get(ec, "IPAMConfig");
	const json_t *al = json_object_get(ec, "Aliases");
	_cleanup_(berth_strv_freep) char **aliases = NULL;
	uint8_t mac[6];
	size_t i;
	json_t *a;
	int has_mac = endpoint_mac(ec, c->config, primary, mac, err);

	if (has_mac < 0)
		return has_mac;

	json_array_foreach (al, i, a)
		if (json_is_string(a))
			berth_strv_push(&aliases, json_string_value(a));
	struct daemon_net_attach at = {
		.network = network,
		.container_id = c->id,
		.container_name = c->name && c->name[0] == '/' ? c->name + 1 : c->name,
		.netns_path = netns_path,
		.ifname = ifname,
		.ipv4 = json_string_value(json_object_get(ipam, "IPv4Address")),
		.ipv6 = json_string_value(json_object_get(ipam, "IPv6Address")),
		.aliases = aliases,
		.ports = ports,
		.n_ports = n_ports,
		.default_route = primary,
		.mac = has_mac ? mac : NULL,
		.link_local = json_object_get(ipam, "LinkLocalIPs"),
	};
	int r = daemon_network_attach(d, &at, ret, err);
	/* DNSNames on a user network: dockerd's buildEndpointDNSNames */
	if (r == 0 && *ret && json_is_array(json_object_get(*ret, "DNSNames")))
		json_object_set_new(*ret, "DNSNames", dns_names(c, aliases));
	/* the endpoint's IPAMConfig as asked, as dockerd shows it (null when nothing was) */
	if (r == 0 && *ret && json_object_size(ipam))
		json_object_set_new(*ret, "IPAMConfig", json_deep_copy(ipam));
	return r;
}

/*
 * --network container:<ref>: join the namespace of a running container (docker's
 * getNetworkedContainer), with its hostname and its /etc files.  The namespace is the one berthd
 * made for it (a bind mount that outlives its processes' restarts), else its init's, which
 * berthd opens itself (*ret_fd, given to the shim as SHIM_FD_NET_NS): never a /proc/PID path
 * that a reused pid could turn into another process's.
 */
static int join_container(struct berthd *d, struct daemon_container *c, const char *ref,
			  int *ret_fd, struct berth_error **err)
{
	struct daemon_container *nc = NULL;
	_cleanup_free_ char *path = NULL, *dir = NULL, *name = NULL;
	pid_t pid = 0;
	uint64_t start = 0;
	int r = ctr_get(d, ref, &nc, err);

	if (r < 0)
		return r;
	pthread_mutex_lock(&d->lock);
	if (nc == c) {
		r = berth_error_set(err, EINVAL, "cannot join own network");
	} else if (!nc->running || nc->pid <= 0 || !nc->shim) {
		r = berth_error_set(err, EBUSY,
				    "cannot join network namespace of a non running container: "
				    "container %s is %s",
				    nc->name && nc->name[0] == '/' ? nc->name + 1 : nc->name,
				    ctr_status_locked(nc));
	} else if (nc->restarting) {
		r = berth_error_set(err, EBUSY,
				    "Container %s is restarting, wait until the container is "
				    "running",
				    ref);
	} else {
		if (nc->netns_path) {
			path = strdup(nc->netns_path);
		} else {
			pid = nc->pid;
			start = nc->shim->init_start;
			if (asprintf(&path, "/proc/self/fd/%d", SHIM_FD_NET_NS) < 0)
				path = NULL;
		}
		dir = strdup(nc->net_files_dir ?: nc->dir);
		name = strdup(nc->name && nc->name[0] == '/' ? nc->name + 1 : nc->name ?: ref);
		const char *hn = json_string_value(json_object_get(nc->config, "Hostname"));
		const char *dn = json_string_value(json_object_get(nc->config, "Domainname"));
		if (!path || !dir || !name ||
		    json_object_set_new(c->config, "Hostname", json_string(hn ?: "")) < 0 ||
		    json_object_set_new(c->config, "Domainname", json_string(dn ?: "")) < 0)
			r = berth_error_set(err, ENOMEM, "out of memory");
	}
	pthread_mutex_unlock(&d->lock);
	ctr_unref(d, nc);
	if (r == 0 && pid > 0) {
		r = ctr_open_donor_ns(pid, start, "net", ret_fd, err);
		if (r == -ESRCH)
			r = berth_error_set(err, EBUSY,
					    "cannot join network namespace of a non running "
					    "container: container %s is exited",
					    name);
	}
	if (r < 0)
		return r;
	pthread_mutex_lock(&d->lock);
	free(c->joined_netns);
	c->joined_netns = TAKE_PTR(path);
	free(c->net_files_dir);
	c->net_files_dir = TAKE_PTR(dir);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int ctr_network_setup(struct berthd *d, struct daemon_container *c, int *ret_net_fd,
		      struct berth_error **err)
{
	_cleanup_free_ struct daemon_port_binding *ports = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_t *networks = json_object(), *settings = NULL;
	const char *mode = mode_of(c->host_config);
	size_t n_ports;
	int r;

	if (berth_str_has_prefix(mode, "container:"))
		return join_container(d, c, mode + strlen("container:"), ret_net_fd, err);
	if (!on_bridge(c->host_config))
		return 0;
	if (!networks)
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_lock(&d->lock);
	struct daemon_network *net = daemon_network_find_locked(d, mode, NULL);
	bool user_net = net && !net->predefined;
	pthread_mutex_unlock(&d->lock);
	if (!net && strcmp(mode, "bridge") == 0 &&
	    json_array_size(json_object_get(c->host_config, "Links")))
		return berth_error_set(err, EINVAL,
				       "links need the default bridge network, and berthd runs "
				       "with --bridge none");
	if (!net && strcmp(mode, "bridge") == 0)
		return 0; /* berthd --bridge none: a namespace with loopback only, as none */
	r = port_bindings(c->host_config, c->config, &ports, &n_ports, err);
	r = r ?: daemon_netns_create(d, c->id, &path, err);
	if (r < 0)
		return r;
	/* the ports go with the first endpoint on a network that is not internal (docker's
	 * buildCreateEndpointOptions): an internal primary network passes them on */
	bool ports_here = !network_internal(d, mode);
	r = attach_one(d, c, mode, endpoint_config(c, mode), path, "eth0", true,
		       ports_here ? ports : NULL, ports_here ? n_ports : 0, &settings, err);
	if (r < 0) {
		daemon_netns_remove(path);
		return r;
	}
	json_object_set(networks, mode, settings);
	/* the other networks it was connected to (network connect, or several at create) */
	const char *other;
	json_t *oc;
	unsigned k = 1;
	json_object_foreach (json_object_get(c->networking_config, "EndpointsConfig"), other, oc) {
		if (strcmp(other, mode) == 0 || strcmp(other, "default") == 0)
			continue;
		char ifname[16];
		json_t *more = NULL;

		snprintf(ifname, sizeof(ifname), "eth%u", k++);
		bool take = !ports_here && !network_internal(d, other);
		r = attach_one(d, c, other, oc, path, ifname, false, take ? ports : NULL,
			       take ? n_ports : 0, &more, err);
		ports_here = ports_here || take;
		if (r < 0)
			break;
		json_object_set_new(networks, other, more);
	}
	/* legacy links: on the default bridge only, as docker has them */
	_cleanup_free_ char *link_hosts = NULL;
	_cleanup_json_ json_t *link_env = NULL;
	if (r == 0 && !user_net && json_array_size(json_object_get(c->host_config, "Links")))
		r = links_for_start(d, c, &link_hosts, &link_env, err);
	if (r == 0)
		r = write_net_files(d, c, settings, user_net, link_hosts, err);
	if (r < 0) {
		daemon_networks_detach_all(d, c->id, true);
		daemon_netns_remove(path);
		return r;
	}

	pthread_mutex_lock(&d->lock);
	free(c->netns_path);
	c->netns_path = TAKE_PTR(path);
	json_decref(c->net_settings);
	c->net_settings = TAKE_PTR(networks);
	ctr_net_settings_changed(c);
	json_decref(c->link_env);
	c->link_env = TAKE_PTR(link_env);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int ctr_network_patch_spec(struct daemon_container *c, json_t *spec)
{
	json_t *ns = json_object_get(json_object_get(spec, "linux"), "namespaces");
	size_t i;
	json_t *e;

	const char *path = c->netns_path ?: c->joined_netns;
	json_t *env = json_object_get(json_object_get(spec, "process"), "env");
	size_t k;
	json_t *v;

	/* the links' variables, where the container's own do not set them (docker puts those
	 * after, overriding) */
	json_array_foreach (c->link_env, k, v) {
		const char *kv = json_string_value(v), *eq = strchr(kv, '=');
		bool have = false;
		size_t j;
		json_t *ev;
		json_array_foreach (env, j, ev) {
			const char *s = json_string_value(ev);
			have = have || (s && strncmp(s, kv, (size_t)(eq - kv) + 1) == 0);
		}
		if (!have && json_is_array(env))
			json_array_append(env, v);
	}
	if (!path)
		return 0;
	json_array_foreach (ns, i, e)
		if (berth_streq(json_string_value(json_object_get(e, "type")), "network"))
			return json_object_set_new(e, "path", json_string(path)) ? -ENOMEM : 0;
	return -EINVAL;
}

/*
 * Does c's network namespace end with this teardown (d->lock held)?  Every teardown comes after
 * c's init died (exit, failed start, removal after the kill); with a PID namespace of its own
 * nothing of c lives on then.  If the namespace is berth's own and no running container joined
 * it (--network container:c), unmounting it drops its last reference.
 */
static bool netns_ends_locked(struct berthd *d, const struct daemon_container *c)
{
	const char *pid_mode = json_string_value(json_object_get(c->host_config, "PidMode"));

	if (!c->netns_path || (pid_mode && (strcmp(pid_mode, "host") == 0 ||
					    berth_str_has_prefix(pid_mode, "container:"))))
		return false;
	for (size_t i = 0; i < d->containers.n; i++) {
		const struct daemon_container *x = d->containers.v[i];

		if (x != c && x->running && berth_streq(x->joined_netns, c->netns_path))
			return false;
	}
	return true;
}

void ctr_network_teardown(struct berthd *d, struct daemon_container *c)
{
	char *path;

	pthread_mutex_lock(&d->lock);
	bool ends = netns_ends_locked(d, c);
	pthread_mutex_unlock(&d->lock);
	/* a namespace that ends takes its veth pairs with it (the kernel deletes them in its
	 * namespace cleanup, off this path); deleting them here would wait for the kernel's RCU
	 * grace period, tens of milliseconds of every `run --rm` on a loaded machine */
	daemon_networks_detach_all(d, c->id, !ends);
	pthread_mutex_lock(&d->lock);
	path = TAKE_PTR(c->netns_path);
	free(TAKE_PTR(c->joined_netns));
	free(TAKE_PTR(c->net_files_dir));
	json_decref(c->net_settings);
	c->net_settings = NULL;
	ctr_net_settings_changed(c);
	pthread_mutex_unlock(&d->lock);
	daemon_netns_remove(path);
	free(path);
}

/* ---- what inspect and the list show --------------------------------------------------------- */

/* NetworkSettings.Ports: "80/tcp" -> [{"HostIp", "HostPort"}], exposed ports with null. */
json_t *ctr_network_ports_locked(struct berthd *d, const struct daemon_container *c)
{
	json_t *out = json_object();
	const json_t *exposed = json_object_get(c->config, "ExposedPorts");
	const char *key;
	json_t *v;

	if (!out)
		return NULL;
	json_object_foreach ((json_t *)exposed, key, v)
		json_object_set_new(out, key, json_null());
	for (size_t i = 0; c->net_settings && i < d->networks.n; i++) {
		struct daemon_network *n = d->networks.v[i];

		for (size_t k = 0; k < n->n_endpoints; k++) {
			const struct daemon_endpoint *ep = &n->endpoints[k];

			if (!berth_streq(ep->container_id, c->id))
				continue;
			for (size_t p = 0; p < ep->n_ports; p++) {
				char pk[16], hip[16], hport[8];
				json_t *list;

				snprintf(pk, sizeof(pk), "%u/%s", ep->ports[p].container_port,
					 ep->ports[p].proto == IPPROTO_UDP ? "udp" : "tcp");
				berth_net_addr_format(ep->ports[p].host_ip, hip);
				snprintf(hport, sizeof(hport), "%u", ep->ports[p].host_port);
				list = json_object_get(out, pk);
				if (!json_is_array(list)) {
					list = json_array();
					json_object_set_new(out, pk, list);
				}
				json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", hip,
								      "HostPort", hport));
			}
		}
	}
	return out;
}

/* The list's Ports: [{"IP", "PrivatePort", "PublicPort", "Type"}] (exposed ones without IP). */
json_t *ctr_network_port_summary_locked(struct berthd *d, const struct daemon_container *c)
{
	_cleanup_json_ json_t *ports = ctr_network_ports_locked(d, c);
	json_t *out = json_array();
	const char *key;
	json_t *v;

	json_object_foreach (ports, key, v) {
		int priv = atoi_safe(key);
		const char *type = strchr(key, '/') ? strchr(key, '/') + 1 : "tcp";
		size_t i;
		json_t *b;

		if (!json_is_array(v)) {
			json_array_append_new(
				out, json_pack("{s:i, s:s}", "PrivatePort", priv, "Type", type));
			continue;
		}
		json_array_foreach (v, i, b) {
			const char *hp = json_string_value(json_object_get(b, "HostPort"));
			json_array_append_new(
				out, json_pack("{s:s, s:i, s:i, s:s}", "IP",
					       json_string_value(json_object_get(b, "HostIp")),
					       "PrivatePort", priv, "PublicPort", atoi_safe(hp),
					       "Type", type));
		}
	}
	return out;
}

/* ---- network connect and disconnect ---------------------------------------------------------- */

static int read_body(struct berth_http_request *req, json_t **ret)
{
	int r = berth_http_read_json(req, 1 << 20, ret);

	if (r < 0)
		return r;
	if (!json_is_object(*ret)) {
		berth_http_respond_error(req, 400, "invalid JSON: the body must be an object");
		return -EINVAL;
	}
	return 0;
}

static const char *json_kind(const json_t *v)
{
	return json_is_number(v)    ? "number"
	       : json_is_string(v)  ? "string"
	       : json_is_boolean(v) ? "bool"
	       : json_is_array(v)   ? "array"
				    : "object";
}

/*
 * dockerd decodes connect's and disconnect's bodies into ConnectOptions / DisconnectOptions:
 * a field of the wrong type is a 400 with Go's words (unknown fields are ignored there too).
 * On failure this has answered.
 */
static int check_body_types(struct berth_http_request *req, const json_t *body, bool connect)
{
	static const struct {
		const char *field, *go_type;
		int json_type;
		bool in_connect, in_disconnect;
	} fields[] = {
		{"Container", "string", JSON_STRING, true, true},
		{"Force", "bool", JSON_TRUE, false, true},
		{"EndpointConfig", "network.EndpointSettings", JSON_OBJECT, true, false},
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const json_t *v = json_object_get(body, fields[i].field);
		int t = v ? json_typeof(v) : JSON_NULL;

		if (t == JSON_FALSE)
			t = JSON_TRUE;
		if (t == JSON_NULL || t == fields[i].json_type)
			continue;
		if (!(connect ? fields[i].in_connect : fields[i].in_disconnect))
			continue; /* not a field of this body: ignored */
		berth_http_respond_error(req, 400,
					 "invalid JSON: json: cannot unmarshal %s into Go struct "
					 "field %s.%s of type %s",
					 json_kind(v),
					 connect ? "ConnectOptions" : "DisconnectOptions",
					 fields[i].field, fields[i].go_type);
		return -1;
	}
	return 0;
}

/* The network's name (for EndpointsConfig keys) and whether it takes endpoints. */
static int network_name(struct berthd *d, const char *ref, char **ret, struct berth_error **err)
{
	pthread_mutex_lock(&d->lock);
	struct daemon_network *n = daemon_network_find_locked(d, ref, err);
	bool bridge = n && n->bridge && n->has_pool;
	*ret = n ? strdup(n->name) : NULL;
	pthread_mutex_unlock(&d->lock);
	if (!n)
		return -ENOENT;
	if (!bridge) {
		free(*ret);
		*ret = NULL;
		return berth_error_set(err, EACCES,
				       "container cannot be disconnected from host network or "
				       "connected to host network");
	}
	return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

/*
 * What connect and disconnect both begin with: the body, the network's name, the container with
 * its gate held.  On failure this has answered and returns -1.
 */
static int network_op_begin(struct berth_http_request *req, struct berthd *d, bool connect,
			    json_t **ret_body, char **ret_net, struct daemon_container **ret_c)
{
	_cleanup_error_ struct berth_error *e = NULL;
	const char *who;
	int r;

	if (read_body(req, ret_body) < 0 || check_body_types(req, *ret_body, connect) < 0)
		return -1;
	who = json_string_value(json_object_get(*ret_body, "Container"));
	r = network_name(d, berth_http_param(req, "id"), ret_net, &e);
	if (r == 0)
		r = ctr_get(d, who ? who : "", ret_c, &e);
	if (r < 0) {
		berth_http_respond_berror(req, e);
		return -1;
	}
	if (ctr_gate_enter(d, *ret_c) < 0) {
		ctr_unref(d, *ret_c);
		berth_http_respond_error(req, 404, "No such container: %s", who);
		return -1;
	}
	return 0;
}

/* connect's IPAMConfig.IPv4Address: an address, inside the network's subnet. */
static int connect_ip4_check(struct berthd *d, const char *net, const json_t *ec,
			     struct berth_error **err)
{
	const char *ip = json_string_value(
		json_object_get(json_object_get(ec, "IPAMConfig"), "IPv4Address"));
	uint32_t a;

	if (!ip || !*ip)
		return 0;
	if (berth_net_addr_parse(ip, &a) < 0)
		return berth_error_set(err, EINVAL, "invalid IPv4 address: %s", ip);
	return check_ip4_inside(d, net, a, ip, err);
}

static void network_connect(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_json_ json_t *body = NULL, *settings = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *net = NULL, *path = NULL;
	struct daemon_container *c = NULL;
	json_t *ec;
	int r;

	if (network_op_begin(req, d, true, &body, &net, &c) < 0)
		return;
	ec = json_object_get(body, "EndpointConfig");
	const char *mode = mode_of(c->host_config);
	json_t *eps = json_object_get(c->networking_config, "EndpointsConfig");
	if (ec && !json_is_object(ec) && !json_is_null(ec)) {
		r = berth_error_set(&e, EINVAL, "invalid JSON: EndpointConfig must be an object");
	} else if (!on_bridge(c->host_config) && !(c->detached_mode && !c->running)) {
		r = berth_error_set(&e, EINVAL,
				    strcmp(mode, "none") == 0
					    ? "container cannot be connected to multiple networks "
					      "with one of the networks in private (none) mode"
					    : "container sharing network namespace with another "
					      "container or host cannot be connected to any other "
					      "network");
	} else if (endpoint_mac(ec, NULL, false, (uint8_t[6]){0}, &e) < 0 ||
		   daemon_link_local_check(json_object_get(ec, "IPAMConfig"), &e) < 0 ||
		   connect_ip4_check(d, net, ec, &e) < 0) {
		r = -EINVAL;
	} else if (strcmp(mode, net) == 0 || json_object_get(eps, net) ||
		   json_object_get(c->net_settings, net)) {
		r = berth_error_set(&e, EACCES,
				    "endpoint with name %s already exists in network %s",
				    c->name + 1, net);
	} else {
		r = 0;
	}
	pthread_mutex_lock(&d->lock);
	path = r == 0 && c->running && c->netns_path ? strdup(c->netns_path) : NULL;
	unsigned k = (unsigned)json_object_size(c->net_settings);
	pthread_mutex_unlock(&d->lock);
	if (r == 0 && path) {
		_cleanup_free_ struct daemon_port_binding *ports = NULL;
		size_t n_ports = 0;
		char ifname[16];

		/* its ports were held back while all its networks were internal: they go with
		 * the first one that is not (dockerd's buildCreateEndpointOptions) */
		if (!network_internal(d, net) && !on_outside_network(d, c))
			r = port_bindings(c->host_config, c->config, &ports, &n_ports, &e);
		snprintf(ifname, sizeof(ifname), "eth%u", k);
		if (r == 0)
			r = attach_one(d, c, net, ec, path, ifname, false, ports, n_ports,
				       &settings, &e);
	}
	if (r == 0) {
		pthread_mutex_lock(&d->lock);
		if (!json_is_object(eps)) {
			eps = json_object();
			json_object_set_new(c->networking_config, "EndpointsConfig", eps);
		}
		json_object_set_new(eps, net, ec ? json_deep_copy(ec) : json_object());
		if (c->detached_mode && !c->running) {
			/* back on a network after its primary was taken away: this one is primary */
			json_object_set_new(c->host_config, "NetworkMode", json_string(net));
			free(c->detached_mode);
			c->detached_mode = NULL;
		}
		if (settings && c->net_settings)
			json_object_set(c->net_settings, net, settings);
		ctr_net_settings_changed(c);
		ctr_save_locked(d, c, NULL);
		pthread_mutex_unlock(&d->lock);
	}
	ctr_gate_leave(d, c);
	ctr_unref(d, c);
	if (r < 0)
		berth_http_respond_berror(req, e);
	else
		berth_http_respond_status(req, 200);
}

static void network_disconnect(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_json_ json_t *body = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *net = NULL;
	struct daemon_container *c = NULL;
	int r = 0;

	if (network_op_begin(req, d, false, &body, &net, &c) < 0)
		return;
	const char *mode = mode_of(c->host_config);
	json_t *eps = json_object_get(c->networking_config, "EndpointsConfig");
	bool connected = strcmp(mode, net) == 0 || json_object_get(eps, net) ||
			 json_object_get(c->net_settings, net);
	if (!connected) {
		r = berth_error_set(&e, EINVAL, "container %s is not connected to network %s",
				    c->id, net);
	} else {
		if (c->running && json_object_get(c->net_settings, net)) {
			r = daemon_network_detach(d, net, c->id, &e);
			if (r == -ENOENT) {
				berth_error_freep(&e);
				r = 0;
			}
		}
		if (r == 0) {
			pthread_mutex_lock(&d->lock);
			json_object_del(eps, net);
			json_object_del(c->net_settings, net);
			ctr_net_settings_changed(c);
			if (strcmp(mode, net) == 0) {
				/* off its primary network: it runs on none until connected again */
				if (!c->running) {
					free(c->detached_mode);
					c->detached_mode = strdup(net);
				}
				json_object_set_new(c->host_config, "NetworkMode",
						    json_string("none"));
			}
			ctr_save_locked(d, c, NULL);
			pthread_mutex_unlock(&d->lock);
		}
	}
	ctr_gate_leave(d, c);
	ctr_unref(d, c);
	if (r < 0)
		berth_http_respond_berror(req, e);
	else
		berth_http_respond_status(req, 200);
}

int ctr_routes_network(struct berthd *d, struct berth_error **err)
{
	int r = 0;

	r = r
		    ?: berth_api_router_add(d->router, "POST", "/networks/{id}/connect",
					    network_connect, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/networks/{id}/disconnect",
					    network_disconnect, d, err);
	return r;
}
