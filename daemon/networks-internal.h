/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * berthd's networks (networks.c, networks-api.c): the table of networks, their address pools,
 * their bridges and berth's firewall table.  Each network's definition is persisted in
 * data-root/networks/<id>.json; its endpoints, which live only while their containers run,
 * in exec-root/endpoints (networks-endpoints.c).
 *
 * Locking: the table lives under d->lock like every other table.  Kernel work (a bridge, an
 * nftables transaction) is done with d->networks.kernel held instead, a mutex of its own taken
 * after d->lock is let go, so /_ping and the other tables never wait for netlink.  Order:
 * d->lock may be taken while kernel is held, never the other way round.
 */

#include "daemon.h"
#include "net/net.h"

struct daemon_endpoint {
	char *container_id;
	char *container_name;
	char *endpoint_id;
	uint32_t ip;
	bool has_ip6; /* on a network with IPv6 */
	uint8_t ip6[16];
	uint8_t mac[6];
	char **aliases;
	char *host_veth; /* the host end of its veth pair */
	struct daemon_port_binding *ports;
	size_t n_ports;
};

void daemon_endpoint_release(struct daemon_endpoint *ep);

/* Save n's record, its definition without endpoints, with fsync (d->lock held). */
int daemon_network_save_locked(struct berthd *d, const struct daemon_network *n,
			       struct berth_error **err);

/*
 * networks-endpoints.c: each endpoint in exec-root/endpoints/<network id>-<container id>.json,
 * runtime state written without fsync.  Save (replace) ep's file, or forget (remove) it; d->lock
 * held.
 */
int daemon_endpoint_save_locked(struct berthd *d, const struct daemon_network *n,
				const struct daemon_endpoint *ep, struct berth_error **err);
void daemon_endpoint_forget_locked(struct berthd *d, const struct daemon_network *n,
				   const struct daemon_endpoint *ep);

/*
 * Add the endpoint of record j to n, its addresses claimed in n's pools: 0, -EINVAL for a
 * damaged record, -EEXIST when n has the container already, -EADDRINUSE when its address is
 * taken, -ENOMEM (nothing added but on success).
 */
int daemon_endpoint_add_json(struct daemon_network *n, const json_t *j);

/*
 * At start, once the network records are loaded: the endpoint files into their networks (a
 * damaged one or one of a missing network is removed), and the endpoints a record of an older
 * berth held moved to files, the record rewritten without them.  At close, the directory goes
 * when empty.
 */
int daemon_endpoints_load(struct berthd *d, struct berth_error **err);
void daemon_endpoints_close(struct berthd *d);

/*
 * exec-root/netns, where daemon_netns_create puts its files: made at open, removed (when empty)
 * at close.
 */
int daemon_netns_dir_make(struct berthd *d, struct berth_error **err);
void daemon_netns_dir_remove(struct berthd *d);

/*
 * Make berth's nftables table match the table of networks and their endpoints' published
 * ports.  Called with d->networks.kernel held and d->lock not held.
 */
int daemon_networks_firewall_sync(struct berthd *d, struct berth_error **err);

/* dockerd's refusal of --ip on a network whose subnet it picked itself */
#define NO_USER_SUBNET                                                                             \
	"invalid endpoint settings:\nuser specified IP address is supported only when "            \
	"connecting to networks with user configured subnets"

struct daemon_network {
	char *id;
	char *name;
	char *driver; /* bridge, host, null */
	char *bridge; /* the bridge's link name; NULL for host and null */
	/* the bridge existed before the network (com.docker.network.bridge.name of a bridge made by
	 * someone else, say docker0): used, never deleted, as libnetwork's ifaceCreatedByUser */
	bool bridge_external;
	/* berthd picked the subnet (no IPAM config): no --ip on it, as dockerd's
	 * validateEndpointIPAddress for subnets that are not static */
	bool subnet_auto, subnet6_auto;
	json_t *ipam_options; /* IPAM.Options as created (--ipam-opt); NULL: none sent */
	bool predefined;
	bool internal, attachable, icc, masquerade;
	unsigned mtu;
	int64_t created_ns;
	bool has_pool;
	struct berth_ipam_pool pool; /* subnet, gateway and the addresses given out */
	bool has_range;
	struct berth_net_prefix range;
	bool ipv6; /* EnableIPv6: pool6 is set up */
	struct berth_ipam6_pool pool6;
	bool has_range6;
	struct berth_net6_prefix range6;
	json_t *labels;	 /* object of strings */
	json_t *options; /* object of strings, as given (plus the defaults docker reports) */
	struct daemon_endpoint *endpoints;
	size_t n_endpoints;
	bool gso_raised;	  /* BERTH_NL_GSO_MAX set on the bridge (once it had a port) */
	json_t *legacy_endpoints; /* a record of an older berth: its endpoints, until moved */
};

/* Find a network by full id, name, or unique id prefix (docker's order); NULL if none.  d->lock. */
struct daemon_network *daemon_network_find_locked(struct berthd *d, const char *ref,
						  struct berth_error **err);

/* Docker's NetworkResource for n (API version api); verbose adds nothing berth has.  d->lock. */
json_t *daemon_network_json_locked(struct berthd *d, const struct daemon_network *n, unsigned api,
				   bool with_containers);

/*
 * Create a network from Docker's create request (already checked for shape by the caller):
 * name, driver, options, labels, IPAM config; makes its bridge and applies the firewall.
 * Errors carry Docker's wording; codes: EEXIST name taken (409), EINVAL bad input (400),
 * EACCES overlap with another pool (403), ENOENT unknown driver (404).
 */
int daemon_network_create(struct berthd *d, const json_t *req, char **ret_id,
			  struct berth_error **err);

/* Remove a network: EACCES (403) for a predefined one or one with endpoints. */
int daemon_network_remove(struct berthd *d, const char *ref, struct berth_error **err);

/* Remove the user networks without endpoints that f (until, label) selects; names in *ret. */
int daemon_networks_prune(struct berthd *d, const struct berth_filters *f, json_t **ret,
			  struct berth_error **err);

/* Docker's "label" filter (k or k=v, every one must hold) over a labels object. */
bool daemon_labels_match(const struct berth_filters *f, const json_t *labels);

/*
 * dns.c: the name server thread, told when the table of networks changed (with
 * d->networks.kernel held: that serialises the thread's start); it starts with the first user
 * network.
 */
int daemon_dns_start(struct berthd *d, struct berth_error **err);
void daemon_dns_networks_changed(struct berthd *d);
void daemon_dns_stop(struct berthd *d);
