/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers on networks: the network namespace berthd makes for a container, its endpoints
 * (address, veth pair, default route) and its published ports.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "networks-internal.h"
#include "base/banned.h"

/* Where docker's port allocator looks when no host port is given and the kernel's range of
 * local ports cannot be read. */
#define EPHEMERAL_FIRST 49153
#define EPHEMERAL_LAST	65535

/* The kernel's ephemeral ports in berthd's network namespace, as docker's getDynamicPortRange. */
static void ephemeral_range(unsigned *ret_first, unsigned *ret_last)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	unsigned first, last;

	*ret_first = EPHEMERAL_FIRST;
	*ret_last = EPHEMERAL_LAST;
	if (f && fscanf(f, "%u %u", &first, &last) == 2 && first >= 1 && first <= last &&
	    last <= 65535) {
		*ret_first = first;
		*ret_last = last;
	}
}

/* ---- namespace files ------------------------------------------------------------------------ */

int daemon_netns_create(struct berthd *d, const char *container_id, char **ret_path,
			struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	_cleanup_close_ int self = -EBADF, fd = -EBADF;
	int r = 0;

	if (asprintf(&dir, "%s/netns", d->config.exec_root) < 0 ||
	    asprintf(&path, "%s/%s", dir, container_id) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	/* what a crash left */
	umount2(path, MNT_DETACH);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	/* the directory is made at start (daemon_netns_dir_make); someone removed it since */
	if (fd < 0 && errno == ENOENT) {
		if (berth_mkdir_p(dir, 0700, err) < 0)
			return -EIO;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return berth_error_sys(err, errno, "create '%s'", path);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return berth_error_sys(err, errno, "open '/proc/thread-self/ns/net'");
	/* this thread only: a new namespace, pinned by a bind mount, then back */
	if (unshare(CLONE_NEWNET) < 0) {
		r = berth_error_sys(err, errno, "new network namespace");
	} else {
		if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
			r = berth_error_sys(err, errno, "bind network namespace to '%s'", path);
		if (setns(self, CLONE_NEWNET) < 0)
			abort(); /* the thread would serve its next request in the container's */
	}
	if (r < 0) {
		unlink(path);
		return r;
	}
	*ret_path = TAKE_PTR(path);
	return 0;
}

void daemon_netns_remove(const char *path)
{
	if (!path)
		return;
	umount2(path, MNT_DETACH);
	unlink(path);
}

/*
 * The directory of the namespace files lives as long as berthd, not as its last namespace: a
 * mkdir at each start and an rmdir at each exit were two more metadata writes on every run
 * (milliseconds each where the exec root is on a busy disk rather than a tmpfs).
 */
int daemon_netns_dir_make(struct berthd *d, struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL;

	if (asprintf(&dir, "%s/netns", d->config.exec_root) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	return berth_mkdir_p(dir, 0700, err);
}

void daemon_netns_dir_remove(struct berthd *d)
{
	_cleanup_free_ char *dir = NULL;

	/* empty once nothing runs: a berthd without containers leaves an empty exec root */
	if (asprintf(&dir, "%s/netns", d->config.exec_root) > 0)
		rmdir(dir);
}

/* ---- endpoints ------------------------------------------------------------------------------ */

static struct daemon_endpoint *endpoint_of(struct daemon_network *n, const char *container_id)
{
	for (size_t i = 0; i < n->n_endpoints; i++)
		if (berth_streq(n->endpoints[i].container_id, container_id))
			return &n->endpoints[i];
	return NULL;
}

static bool same_host_port(const struct daemon_port_binding *a, const struct daemon_port_binding *b)
{
	return a->proto == b->proto && a->host_port == b->host_port &&
	       (a->host_ip == 0 || b->host_ip == 0 || a->host_ip == b->host_ip);
}

/* Is the host port taken by one of berth's endpoints?  (d->lock held) */
static bool port_taken_locked(struct berthd *d, const struct daemon_port_binding *p)
{
	for (size_t i = 0; i < d->networks.n; i++) {
		const struct daemon_network *n = d->networks.v[i];

		for (size_t k = 0; k < n->n_endpoints; k++)
			for (size_t j = 0; j < n->endpoints[k].n_ports; j++)
				if (same_host_port(&n->endpoints[k].ports[j], p))
					return true;
	}
	return false;
}

/* Can a host socket have the port?  A program listening there would be shadowed by the DNAT. */
static bool port_free_on_host(const struct daemon_port_binding *p)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(p->host_port)};
	int fd = socket(AF_INET,
			(p->proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return true;
	sa.sin_addr.s_addr = htonl(p->host_ip);
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != EADDRINUSE;
	close(fd);
	return ok;
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

/* Fill in host ports and check them against berth's and the host's (d->lock held). */
static int ports_choose_locked(struct berthd *d, struct daemon_port_binding *ports, size_t n,
			       struct berth_error **err)
{
	unsigned first, last;

	ephemeral_range(&first, &last);
	for (size_t i = 0; i < n; i++) {
		struct daemon_port_binding *p = &ports[i];
		char hip[16];

		berth_net_addr_format(p->host_ip, hip);
		if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
			return berth_error_set(err, EINVAL, "invalid protocol %u for port %u",
					       p->proto, p->container_port);
		if (p->host_port == 0 || p->host_port_last) {
			/* no host port: the kernel's ephemeral range; a range: that one */
			unsigned from = p->host_port ? p->host_port : first;
			unsigned to = p->host_port ? p->host_port_last : last;

			p->host_port = 0;
			p->host_port_last = 0;
			for (unsigned port = from; port <= to; port++) {
				p->host_port = (uint16_t)port;
				bool clash = port_taken_locked(d, p);
				for (size_t k = 0; k < i && !clash; k++)
					clash = same_host_port(&ports[k], p);
				if (!clash && port_free_on_host(p))
					break;
				p->host_port = 0;
			}
			if (p->host_port == 0)
				return berth_error_set(err, EBUSY, "all ports are allocated");
			continue;
		}
		bool clash = port_taken_locked(d, p);
		for (size_t k = 0; k < i && !clash; k++)
			clash = same_host_port(&ports[k], p);
		if (clash)
			return berth_error_set(err, EBUSY,
					       "Bind for %s:%u failed: port is already allocated",
					       hip, p->host_port);
		/* dockerd without its userland proxy binds the port itself, and says so */
		if (!port_free_on_host(p))
			return berth_error_set(
				err, EBUSY,
				"failed to bind port %s:%u/%s: listen %s4 %s:%u: bind: "
				"address already in use",
				hip, p->host_port, proto_name(p->proto), proto_name(p->proto), hip,
				p->host_port);
	}
	return 0;
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

/* Docker's EndpointSettings for ep on n. */
static json_t *endpoint_settings(const struct daemon_network *n, const struct daemon_endpoint *ep)
{
	char ip[16], gw[16], mac[18], ip6[BERTH_NET6_ADDR_MAX] = "", gw6[BERTH_NET6_ADDR_MAX] = "";
	json_t *aliases = json_array(), *dns = json_array();

	if (ep->has_ip6) {
		berth_net6_addr_format(ep->ip6, ip6);
		berth_net6_addr_format(n->pool6.gateway, gw6);
	}
	berth_net_addr_format(ep->ip, ip);
	berth_net_addr_format(n->pool.gateway, gw);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ep->mac[0], ep->mac[1],
		 ep->mac[2], ep->mac[3], ep->mac[4], ep->mac[5]);
	for (char **a = ep->aliases; aliases && a && *a; a++)
		json_array_append_new(aliases, json_string(*a));
	if (dns && !n->predefined) {
		json_array_append_new(dns, json_string(ep->container_name));
		json_array_append_new(dns, json_string(ep->container_id));
		for (char **a = ep->aliases; a && *a; a++)
			json_array_append_new(dns, json_string(*a));
	}
	return json_pack("{s:n, s:n, s:o, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:n, s:o}",
			 "IPAMConfig", "Links", "Aliases",
			 json_array_size(aliases) ? aliases : (json_decref(aliases), json_null()),
			 "MacAddress", mac, "NetworkID", n->id, "EndpointID", ep->endpoint_id,
			 "Gateway", gw, "IPAddress", ip, "IPPrefixLen", n->pool.subnet.len,
			 "IPv6Gateway", gw6, "GlobalIPv6Address", ip6, "GlobalIPv6PrefixLen",
			 ep->has_ip6 ? n->pool6.subnet.len : 0, "DriverOpts", "DNSNames",
			 json_array_size(dns) ? dns : (json_decref(dns), json_null()));
}

/* Take ep's address, veth and ports out of n (d->lock held); *ret_veth gets the veth name. */
static void endpoint_drop_locked(struct berthd *d, struct daemon_network *n,
				 struct daemon_endpoint *ep, char **ret_veth)
{
	*ret_veth = TAKE_PTR(ep->host_veth);
	berth_ipam_free(&n->pool, ep->ip);
	if (ep->has_ip6)
		berth_ipam6_free(&n->pool6, ep->ip6);
	daemon_endpoint_forget_locked(d, n, ep);
	daemon_endpoint_release(ep);
	size_t i = (size_t)(ep - n->endpoints);
	memmove(&n->endpoints[i], &n->endpoints[i + 1],
		(n->n_endpoints - i - 1) * sizeof(*n->endpoints));
	n->n_endpoints--;
}

/*
 * The bridge's GSO limit, raised once its first veth made that possible (kernel lock held):
 * traffic from the host to its containers then moves in packets as large as theirs.  A kernel
 * without BIG TCP ignores the attribute; a refusal costs only speed, so it is not an error.
 */
static void raise_bridge_gso(struct berthd *d, struct berth_nl *nl, const char *network,
			     const char *bridge)
{
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_network *n;

	if (berth_nl_link_raise_gso(nl, bridge, &e) < 0)
		log_debug("network %s: %s", network, e->msg);
	pthread_mutex_lock(&d->lock);
	n = daemon_network_find_locked(d, network, NULL);
	if (n)
		n->gso_raised = true;
	pthread_mutex_unlock(&d->lock);
}

int daemon_link_local_check(const json_t *ipam, struct berth_error **err)
{
	const json_t *ll = json_object_get(ipam, "LinkLocalIPs");
	const json_t *v;
	size_t i;

	if (ll && !json_is_array(ll) && !json_is_null(ll))
		return berth_error_set(err, EINVAL, "invalid JSON: LinkLocalIPs must be a list");
	json_array_foreach (ll, i, v) {
		const char *s = json_string_value(v);
		uint8_t a6[16], zero[16] = {0};
		uint32_t a4;

		if (!s || (berth_net_addr_parse(s, &a4) == 0
				   ? a4 == 0
				   : berth_net6_addr_parse(s, a6) < 0 || !memcmp(a6, zero, 16)))
			return berth_error_set(err, EINVAL, "invalid link-local IP address: %s",
					       s ? s : "");
	}
	return 0;
}

/* --link-local-ip: the extra addresses on the container's side, with libnetwork's masks. */
static int add_link_local(struct berth_nl *inside, const struct daemon_net_attach *a,
			  struct berth_error **err)
{
	const json_t *v;
	size_t i;
	int r = 0;

	json_array_foreach (a->link_local, i, v) {
		const char *s = json_string_value(v);
		uint8_t a6[16];
		uint32_t a4;

		if (!s)
			continue;
		if (berth_net_addr_parse(s, &a4) == 0)
			r = berth_nl_addr_add(inside, a->ifname, a4, 16, err);
		else if (berth_net6_addr_parse(s, a6) == 0)
			r = berth_nl_addr6_add(inside, a->ifname, a6, 64, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The kernel side of an attach (kernel lock held, d->lock not). */
static int plumb(struct berthd *d, const struct daemon_net_attach *a, const char *bridge,
		 const char *veth, const struct daemon_endpoint *ep, uint8_t prefix,
		 uint32_t gateway, uint8_t prefix6, const uint8_t gateway6[16], unsigned mtu,
		 bool gso_raised, struct berth_error **err)
{
	_cleanup_close_ int nsfd = open(a->netns_path, O_RDONLY | O_CLOEXEC);
	_cleanup_nl_ struct berth_nl *host = NULL, *inside = NULL;
	int r;

	if (nsfd < 0)
		return berth_error_sys(err, errno, "open network namespace '%s'", a->netns_path);
	struct berth_nl_veth pair = {.host_name = veth,
				     .peer_name = a->ifname,
				     .peer_netns_fd = nsfd,
				     .mtu = mtu,
				     .peer_mac = ep->mac,
				     .master = bridge,
				     .up = true};

	r = berth_nl_open(-1, &host, err);
	r = r ?: berth_nl_veth_add(host, &pair, err);
	if (r < 0)
		return r;
	if (!gso_raised)
		raise_bridge_gso(d, host, a->network, bridge);
	r = berth_nl_open(nsfd, &inside, err);
	r = r ?: berth_nl_addr_add(inside, a->ifname, ep->ip, prefix, err);
	if (ep->has_ip6)
		r = r ?: berth_nl_addr6_add(inside, a->ifname, ep->ip6, prefix6, err);
	r = r ?: add_link_local(inside, a, err);
	r = r ?: berth_nl_link_up(inside, a->ifname, err);
	r = r ?: berth_nl_link_up(inside, "lo", err);
	if (r == 0 && a->default_route)
		r = berth_nl_route_add_default(inside, gateway, err);
	if (r == 0 && a->default_route && ep->has_ip6)
		r = berth_nl_route6_add_default(inside, gateway6, err);
	if (r < 0) {
		_cleanup_error_ struct berth_error *e2 = NULL;

		berth_nl_link_del(host, veth, &e2); /* its peer goes with it */
		return r;
	}
	return 0;
}

/* The endpoint's IPv6 address: --ip6 or the next free one on a network with IPv6 (d->lock). */
static int endpoint_ip6_locked(struct daemon_network *n, const struct daemon_net_attach *a,
			       struct daemon_endpoint *ep, struct berth_error **err)
{
	bool asked = a->ipv6 && *a->ipv6;
	int r;

	if (asked && n->predefined && !n->ipv6)
		return berth_error_set(err, EINVAL,
				       "user specified IP address is supported on user defined "
				       "networks only");
	if (asked && (!n->ipv6 || n->subnet6_auto))
		return berth_error_set(err, EINVAL, "%s", NO_USER_SUBNET);
	if (!n->ipv6)
		return 0;
	if (asked) {
		if (n->predefined)
			return berth_error_set(
				err, EINVAL,
				"user specified IP address is supported on user defined "
				"networks only");
		if (berth_net6_addr_parse(a->ipv6, ep->ip6) < 0)
			return berth_error_set(err, EINVAL, "invalid IPv6 address: %s", a->ipv6);
		if (!berth_net6_prefix_contains(&n->pool6.subnet, ep->ip6))
			return berth_error_set(
				err, EINVAL,
				"invalid endpoint settings:\nno configured subnet or "
				"ip-range contain the IP address %s",
				a->ipv6);
		r = berth_ipam6_claim(&n->pool6, ep->ip6, err);
	} else {
		r = berth_ipam6_alloc(&n->pool6, ep->ip6, err);
	}
	if (r < 0)
		return r;
	ep->has_ip6 = true;
	return 0;
}

int daemon_network_attach(struct berthd *d, const struct daemon_net_attach *a,
			  json_t **ret_settings, struct berth_error **err)
{
	struct daemon_endpoint ep = {0};
	struct daemon_network *n;
	char veth[16] = "veth", eid[65];
	char bridge[16];
	uint32_t gateway = 0;
	uint8_t prefix = 0, prefix6 = 0, gateway6[16] = {0};
	unsigned mtu = 0;
	int r;

	if (!a->netns_path || !a->ifname || !a->container_id || !a->container_name)
		return berth_error_set(err, EINVAL, "attach: missing container details");
	if (random_hex(veth + 4, 3) < 0 || random_hex(eid, 32) < 0)
		return berth_error_set(err, EIO, "attach: no randomness");
	veth[10] = "0123456789abcdef"[eid[0] % 16]; /* veth + 7 hex digits, as docker */
	veth[11] = '\0';

	pthread_mutex_lock(&d->networks.kernel);
	pthread_mutex_lock(&d->lock);
	n = daemon_network_find_locked(d, a->network, err);
	if (!n) {
		r = -ENOENT;
		goto unlock;
	}
	if (!n->bridge || !n->has_pool) {
		r = berth_error_set(err, EINVAL, "network %s (driver %s) takes no endpoints",
				    n->name, n->driver);
		goto unlock;
	}
	if (endpoint_of(n, a->container_id)) {
		r = berth_error_set(err, EEXIST,
				    "endpoint with name %s already exists in network %s",
				    a->container_name, n->name);
		goto unlock;
	}
	if (a->ipv4 && *a->ipv4) {
		if (n->predefined) {
			r = berth_error_set(
				err, EINVAL,
				"user specified IP address is supported on user defined "
				"networks only");
			goto unlock;
		}
		if (n->subnet_auto) {
			r = berth_error_set(err, EINVAL, "%s", NO_USER_SUBNET);
			goto unlock;
		}
		if (berth_net_addr_parse(a->ipv4, &ep.ip) < 0) {
			r = berth_error_set(err, EINVAL, "invalid IPv4 address: %s", a->ipv4);
			goto unlock;
		}
		r = berth_ipam_claim(&n->pool, ep.ip, err);
	} else {
		r = berth_ipam_alloc(&n->pool, &ep.ip, err);
	}
	if (r < 0)
		goto unlock;
	r = endpoint_ip6_locked(n, a, &ep, err);
	if (r < 0) {
		berth_ipam_free(&n->pool, ep.ip);
		goto unlock;
	}
	ep.ports = calloc(a->n_ports + 1, sizeof(*ep.ports));
	if (!ep.ports) {
		if (ep.has_ip6)
			berth_ipam6_free(&n->pool6, ep.ip6);
		berth_ipam_free(&n->pool, ep.ip);
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto unlock;
	}
	if (a->n_ports > 0) /* a->ports may be NULL then: memcpy's arguments may not */
		memcpy(ep.ports, a->ports, a->n_ports * sizeof(*ep.ports));
	ep.n_ports = a->n_ports;
	r = ports_choose_locked(d, ep.ports, ep.n_ports, err);
	if (r < 0)
		berth_error_wrap(
			err, "driver failed programming external connectivity on endpoint %s (%s)",
			a->container_name, eid);
	if (r < 0) {
		if (ep.has_ip6)
			berth_ipam6_free(&n->pool6, ep.ip6);
		berth_ipam_free(&n->pool, ep.ip);
		free(ep.ports);
		goto unlock;
	}
	if (a->mac) {
		memcpy(ep.mac, a->mac, sizeof(ep.mac));
	} else {
		ep.mac[0] = 0x02;
		ep.mac[1] = 0x42;
		ep.mac[2] = (uint8_t)(ep.ip >> 24);
		ep.mac[3] = (uint8_t)(ep.ip >> 16);
		ep.mac[4] = (uint8_t)(ep.ip >> 8);
		ep.mac[5] = (uint8_t)ep.ip;
	}
	ep.container_id = strdup(a->container_id);
	ep.container_name = strdup(a->container_name);
	ep.endpoint_id = strdup(eid);
	ep.host_veth = strdup(veth);
	for (char *const *al = a->aliases; al && *al; al++)
		berth_strv_push(&ep.aliases, *al);
	struct daemon_endpoint *v = realloc(n->endpoints, (n->n_endpoints + 1) * sizeof(*v));
	if (!v || !ep.container_id || !ep.container_name || !ep.endpoint_id || !ep.host_veth) {
		if (v)
			n->endpoints = v;
		if (ep.has_ip6)
			berth_ipam6_free(&n->pool6, ep.ip6);
		berth_ipam_free(&n->pool, ep.ip);
		daemon_endpoint_release(&ep);
		r = berth_error_set(err, ENOMEM, "out of memory");
		goto unlock;
	}
	n->endpoints = v;
	n->endpoints[n->n_endpoints++] = ep;
	r = daemon_endpoint_save_locked(d, n, &n->endpoints[n->n_endpoints - 1], err);
	if (r < 0) {
		char *gone = NULL;
		endpoint_drop_locked(d, n, &n->endpoints[n->n_endpoints - 1], &gone);
		free(gone);
		goto unlock;
	}
	snprintf(bridge, sizeof(bridge), "%s", n->bridge);
	gateway = n->pool.gateway;
	prefix = n->pool.subnet.len;
	prefix6 = n->pool6.subnet.len;
	memcpy(gateway6, n->pool6.gateway, 16);
	mtu = n->mtu;
	bool gso_raised = n->gso_raised;
	/* the endpoint is in the table (its address and ports are held): now the kernel */
	pthread_mutex_unlock(&d->lock);

	r = plumb(d, a, bridge, veth, &ep, prefix, gateway, prefix6, gateway6, mtu, gso_raised,
		  err);
	/* berth's tables hold the networks and the published ports only: an endpoint without
	 * ports changes nothing in them, and an nftables transaction is the dearest step here */
	if (ep.n_ports > 0)
		r = r ?: daemon_networks_firewall_sync(d, err);

	pthread_mutex_lock(&d->lock);
	n = daemon_network_find_locked(d, a->network, NULL);
	struct daemon_endpoint *mine = n ? endpoint_of(n, a->container_id) : NULL;
	if (r < 0) {
		if (mine) {
			char *gone = NULL;
			endpoint_drop_locked(d, n, mine, &gone);
			free(gone);
		}
		pthread_mutex_unlock(&d->lock);
		_cleanup_error_ struct berth_error *e2 = NULL;
		if (ep.n_ports > 0)
			daemon_networks_firewall_sync(d, &e2);
		pthread_mutex_unlock(&d->networks.kernel);
		return berth_error_wrap(err, "attach to network %s", a->network);
	}
	if (ret_settings)
		*ret_settings = mine ? endpoint_settings(n, mine) : NULL;
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->networks.kernel);
	struct berth_key_value attrs[] = {{"container", (char *)a->container_id},
					  {"name", (char *)a->network},
					  {"type", "bridge"}};
	daemon_event_emit(d, "network", "connect", n ? n->id : "", attrs, 3);
	return 0;

unlock:
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->networks.kernel);
	return r;
}

static void unplumb(const char *veth)
{
	_cleanup_nl_ struct berth_nl *nl = NULL;
	_cleanup_error_ struct berth_error *e = NULL;

	if (!veth || berth_nl_open(-1, &nl, &e) < 0)
		return;
	/* gone already when the namespace died with the container: ENODEV is fine */
	berth_nl_link_del(nl, veth, NULL);
}

static int detach(struct berthd *d, const char *network, const char *container_id, bool del_veth,
		  struct berth_error **err)
{
	_cleanup_free_ char *veth = NULL, *id = NULL;
	struct daemon_network *n;
	struct daemon_endpoint *ep;
	bool had_ports = false;

	pthread_mutex_lock(&d->networks.kernel);
	pthread_mutex_lock(&d->lock);
	n = daemon_network_find_locked(d, network, err);
	ep = n ? endpoint_of(n, container_id) : NULL;
	if (n && !ep)
		berth_error_set(err, ENOENT, "container %s is not connected to network %s",
				container_id, n->name);
	if (ep) {
		had_ports = ep->n_ports > 0;
		id = strdup(n->id);
		endpoint_drop_locked(d, n, ep, &veth);
	}
	pthread_mutex_unlock(&d->lock);
	if (!ep) {
		pthread_mutex_unlock(&d->networks.kernel);
		return -ENOENT;
	}
	if (del_veth)
		unplumb(veth);
	_cleanup_error_ struct berth_error *e = NULL;
	/* as at attach: without published ports berth's tables do not change */
	if (had_ports && daemon_networks_firewall_sync(d, &e) < 0)
		log_warn("detach %s: %s", container_id, e->msg);
	pthread_mutex_unlock(&d->networks.kernel);
	struct berth_key_value attrs[] = {
		{"container", (char *)container_id}, {"name", (char *)network}, {"type", "bridge"}};
	daemon_event_emit(d, "network", "disconnect", id ? id : "", attrs, 3);
	return 0;
}

int daemon_network_detach(struct berthd *d, const char *network, const char *container_id,
			  struct berth_error **err)
{
	return detach(d, network, container_id, true, err);
}

void daemon_networks_detach_all(struct berthd *d, const char *container_id, bool del_veths)
{
	for (;;) {
		_cleanup_free_ char *id = NULL;

		pthread_mutex_lock(&d->lock);
		for (size_t i = 0; !id && i < d->networks.n; i++)
			if (endpoint_of(d->networks.v[i], container_id))
				id = strdup(d->networks.v[i]->id);
		pthread_mutex_unlock(&d->lock);
		if (!id)
			return;
		_cleanup_error_ struct berth_error *e = NULL;
		if (detach(d, id, container_id, del_veths, &e) < 0 && e && e->code != ENOENT) {
			log_warn("detach %s from %s: %s", container_id, id, e->msg);
			return;
		}
	}
}

void daemon_networks_drop_stale(struct berthd *d,
				bool (*keep)(struct berthd *d, const char *container_id))
{
	char **ids = NULL;

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->networks.n; i++)
		for (size_t k = 0; k < d->networks.v[i]->n_endpoints; k++) {
			const char *id = d->networks.v[i]->endpoints[k].container_id;
			if (!berth_strv_contains(ids, id))
				berth_strv_push(&ids, id);
		}
	pthread_mutex_unlock(&d->lock);
	for (char **id = ids; id && *id; id++)
		if (!keep(d, *id)) {
			log_info("network endpoint of %.12s: its container is not running; removed",
				 *id);
			daemon_networks_detach_all(d, *id, true);
		}
	berth_strv_free(ids);
}
