/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A network's endpoints on disk.  An endpoint lives only while its container runs, and no
 * container outlives the machine, so endpoints are runtime state: one small file each under
 * exec-root/endpoints (/run/berth by default, a tmpfs), replaced atomically but without fsync.
 * The network's definition stays in data-root/networks/<id>.json, fsynced, and is written only
 * when the definition changes.  A berthd restarted after a crash reads the files back, so the
 * addresses and ports of the containers still running stay taken; the endpoints of containers
 * that died meanwhile are dropped by daemon_networks_drop_stale.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "networks-internal.h"
#include "base/banned.h"

#define ENDPOINTS_DIR	    "endpoints"
#define MAX_ENDPOINT_RECORD (256 << 10)

static json_t *endpoint_json(const struct daemon_network *n, const struct daemon_endpoint *ep)
{
	char ip[16], mac[18], ip6[BERTH_NET6_ADDR_MAX];
	json_t *aliases = json_array(), *ports = json_array();

	berth_net_addr_format(ep->ip, ip);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ep->mac[0], ep->mac[1],
		 ep->mac[2], ep->mac[3], ep->mac[4], ep->mac[5]);
	if (ep->has_ip6)
		berth_net6_addr_format(ep->ip6, ip6);
	for (char **a = ep->aliases; aliases && a && *a; a++)
		json_array_append_new(aliases, json_string(*a));
	for (size_t k = 0; ports && k < ep->n_ports; k++) {
		char hip[16];

		berth_net_addr_format(ep->ports[k].host_ip, hip);
		json_array_append_new(ports,
				      json_pack("{s:s, s:s, s:i, s:i}", "Proto",
						ep->ports[k].proto == IPPROTO_UDP ? "udp" : "tcp",
						"HostIP", hip, "HostPort", ep->ports[k].host_port,
						"ContainerPort", ep->ports[k].container_port));
	}
	if (!aliases || !ports) {
		json_decref(aliases);
		json_decref(ports);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s, s:o, s:s?, s:o}", "NetworkID", n->id,
			 "ContainerID", ep->container_id, "Name", ep->container_name, "EndpointID",
			 ep->endpoint_id, "IP", ip, "IP6", ep->has_ip6 ? ip6 : NULL, "MAC", mac,
			 "Aliases", aliases, "HostVeth", ep->host_veth, "Ports", ports);
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			 &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static bool has_endpoint(const struct daemon_network *n, const char *container_id)
{
	for (size_t i = 0; i < n->n_endpoints; i++)
		if (berth_streq(n->endpoints[i].container_id, container_id))
			return true;
	return false;
}

/* The published ports of a record; a damaged entry is left out. */
static int ports_from_json(const json_t *ports, struct daemon_endpoint *ep)
{
	size_t k;
	json_t *a;

	ep->ports = calloc(json_array_size(ports) + 1, sizeof(*ep->ports));
	if (!ep->ports)
		return -ENOMEM;
	json_array_foreach (ports, k, a) {
		const char *proto = NULL, *hip = NULL;
		int hp = 0, cp = 0;
		struct daemon_port_binding b = {0};

		if (json_unpack(a, "{s:s, s:s, s:i, s:i}", "Proto", &proto, "HostIP", &hip,
				"HostPort", &hp, "ContainerPort", &cp) != 0 ||
		    berth_net_addr_parse(hip, &b.host_ip) < 0 || hp < 1 || hp > 65535 || cp < 1 ||
		    cp > 65535)
			continue;
		b.proto = berth_streq(proto, "udp") ? IPPROTO_UDP : IPPROTO_TCP;
		b.host_port = (uint16_t)hp;
		b.container_port = (uint16_t)cp;
		ep->ports[ep->n_ports++] = b;
	}
	return 0;
}

int daemon_endpoint_add_json(struct daemon_network *n, const json_t *j)
{
	const char *cid = NULL, *cname = NULL, *eid = NULL, *ip = NULL, *mac = NULL, *veth = NULL;
	json_t *aliases = NULL, *ports = NULL;
	struct daemon_endpoint ep = {0};

	if (json_unpack((json_t *)j, "{s:s, s:s, s:s, s:s, s:s, s?o, s?s, s?o}", "ContainerID",
			&cid, "Name", &cname, "EndpointID", &eid, "IP", &ip, "MAC", &mac, "Aliases",
			&aliases, "HostVeth", &veth, "Ports", &ports) != 0 ||
	    !n->has_pool || berth_net_addr_parse(ip, &ep.ip) < 0 || parse_mac(mac, ep.mac) < 0)
		return -EINVAL;
	if (has_endpoint(n, cid))
		return -EEXIST;
	const char *ip6 = json_string_value(json_object_get(j, "IP6"));
	if (n->ipv6 && ip6 && berth_net6_addr_parse(ip6, ep.ip6) < 0)
		return -EINVAL;
	ep.has_ip6 = n->ipv6 && ip6;
	/* an address taken twice means one of the two records is wrong: keep the first */
	if (berth_ipam_claim(&n->pool, ep.ip, NULL) < 0)
		return -EADDRINUSE;
	if (ep.has_ip6 && berth_ipam6_claim(&n->pool6, ep.ip6, NULL) < 0) {
		berth_ipam_free(&n->pool, ep.ip);
		return -EADDRINUSE;
	}
	ep.container_id = strdup(cid);
	ep.container_name = strdup(cname);
	ep.endpoint_id = strdup(eid);
	ep.host_veth = veth ? strdup(veth) : NULL;
	size_t k;
	json_t *a;
	json_array_foreach (aliases, k, a)
		if (json_is_string(a))
			berth_strv_push(&ep.aliases, json_string_value(a));
	struct daemon_endpoint *v = NULL;
	if (ports_from_json(ports, &ep) == 0 && ep.container_id && ep.container_name &&
	    ep.endpoint_id && (!veth || ep.host_veth))
		v = realloc(n->endpoints, (n->n_endpoints + 1) * sizeof(*v));
	if (!v) {
		if (ep.has_ip6)
			berth_ipam6_free(&n->pool6, ep.ip6);
		berth_ipam_free(&n->pool, ep.ip);
		daemon_endpoint_release(&ep);
		return -ENOMEM;
	}
	n->endpoints = v;
	n->endpoints[n->n_endpoints++] = ep;
	return 0;
}

static char *endpoint_path(struct berthd *d, const char *network_id, const char *container_id)
{
	char *path = NULL;

	if (asprintf(&path, "%s/%s/%s-%s.json", d->config.exec_root, ENDPOINTS_DIR, network_id,
		     container_id) < 0)
		return NULL;
	return path;
}

int daemon_endpoint_save_locked(struct berthd *d, const struct daemon_network *n,
				const struct daemon_endpoint *ep, struct berth_error **err)
{
	_cleanup_json_ json_t *j = endpoint_json(n, ep);
	_cleanup_free_ char *text = NULL, *path = endpoint_path(d, n->id, ep->container_id);

	if (!j || !path || !(text = berth_json_dump(j)))
		return berth_error_set(err, ENOMEM,
				       "save endpoint of %.12s on network '%s': "
				       "out of memory",
				       ep->container_id, n->name);
	return berth_write_file_replace_at(AT_FDCWD, path, text, strlen(text), 0600, err);
}

void daemon_endpoint_forget_locked(struct berthd *d, const struct daemon_network *n,
				   const struct daemon_endpoint *ep)
{
	_cleanup_free_ char *path = endpoint_path(d, n->id, ep->container_id);

	if (path && unlink(path) < 0 && errno != ENOENT)
		log_warn("remove '%s': %s", path, strerror(errno));
}

static struct daemon_network *network_by_id(struct berthd *d, const char *id)
{
	for (size_t i = 0; id && i < d->networks.n; i++)
		if (berth_streq(d->networks.v[i]->id, id))
			return d->networks.v[i];
	return NULL;
}

/* One endpoint file: into its network, or removed when it is damaged or names no network. */
static void load_one(struct berthd *d, const char *dir, const char *name)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_json_ json_t *j = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_network *n;
	int r;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return;
	if (berth_json_load_file(path, MAX_ENDPOINT_RECORD, &j, &e) < 0) {
		log_warn("endpoint record '%s': %s; removed", path, e->msg);
		unlink(path);
		return;
	}
	n = network_by_id(d, json_string_value(json_object_get(j, "NetworkID")));
	r = n ? daemon_endpoint_add_json(n, j) : -ENOENT;
	if (r == -EEXIST)
		return;
	if (r < 0) {
		log_warn("endpoint record '%s': %s; removed", path,
			 r == -ENOENT	    ? "no such network"
			 : r == -EADDRINUSE ? "its address is taken"
					    : "damaged");
		unlink(path);
	}
}

/*
 * A record of an older berth kept its endpoints: each goes to a file of its own and the record
 * is written again without them.  The files first, so a crash in between loses nothing.
 */
static int migrate_legacy(struct berthd *d, struct daemon_network *n, struct berth_error **err)
{
	size_t i;
	json_t *e;

	json_array_foreach (n->legacy_endpoints, i, e) {
		const char *cid = json_string_value(json_object_get(e, "ContainerID"));

		if (daemon_endpoint_add_json(n, e) < 0 && !has_endpoint(n, cid))
			continue; /* a damaged endpoint is dropped; its container reconnects */
		for (size_t k = 0; k < n->n_endpoints; k++)
			if (berth_streq(n->endpoints[k].container_id, cid) &&
			    daemon_endpoint_save_locked(d, n, &n->endpoints[k], err) < 0)
				return -EIO;
	}
	json_decref(n->legacy_endpoints);
	n->legacy_endpoints = NULL;
	return daemon_network_save_locked(d, n, err);
}

int daemon_endpoints_load(struct berthd *d, struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_closedir_ DIR *dp = NULL;
	struct dirent *de;

	if (asprintf(&dir, "%s/%s", d->config.exec_root, ENDPOINTS_DIR) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (berth_mkdir_p(dir, 0700, err) < 0)
		return -EIO;
	dp = opendir(dir);
	if (!dp)
		return berth_error_sys(err, errno, "open '%s'", dir);
	while ((de = readdir(dp))) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
			load_one(d, dir, de->d_name);
		else if (strstr(de->d_name, ".json.tmp-"))
			unlinkat(dirfd(dp), de->d_name, 0); /* a write a crash interrupted */
	}
	for (size_t i = 0; i < d->networks.n; i++)
		if (d->networks.v[i]->legacy_endpoints &&
		    migrate_legacy(d, d->networks.v[i], err) < 0)
			return berth_error_wrap(err, "network '%s'", d->networks.v[i]->name);
	return 0;
}

void daemon_endpoints_close(struct berthd *d)
{
	_cleanup_free_ char *dir = NULL;

	/* empty once nothing runs: a berthd without containers leaves an empty exec root */
	if (asprintf(&dir, "%s/%s", d->config.exec_root, ENDPOINTS_DIR) > 0)
		rmdir(dir);
}
