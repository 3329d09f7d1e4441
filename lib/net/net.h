/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/net: the pieces berthd's bridge networking is made of, each usable alone.
 *
 *   - IPv4 prefixes (parse, format, contain, overlap) and an address pool (IPAM) per network;
 *   - links, addresses and routes over rtnetlink, in any network namespace given by fd;
 *   - berth's own nftables table, rendered whole from a description of the networks and
 *     published ports and swapped in one transaction (never touching other programs' tables);
 *   - the DNS wire format for the name server berthd runs on each user network's gateway.
 *
 * Nothing here keeps global state or prints; the daemon owns the state and persists it.
 * Depends on lib/base only.
 */

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/core.h"

/* ---- IPv4 prefixes ------------------------------------------------------------------------ */

/* An IPv4 network: addr in host byte order, masked to len bits (0..32). */
struct berth_net_prefix {
	uint32_t addr;
	uint8_t len;
};

/*
 * Parse "a.b.c.d/len".  Host bits set below the mask are refused (docker refuses
 * "172.20.0.1/16" as a subnet: "invalid subnet ... : it should be 172.20.0.0/16").
 * -EINVAL with the text in the message on bad input.
 */
int berth_net_prefix_parse(const char *s, struct berth_net_prefix *ret, struct berth_error **err);

/* Parse a dotted IPv4 address into host byte order; -EINVAL on anything else. */
int berth_net_addr_parse(const char *s, uint32_t *ret);

/*
 * Parse a 48-bit MAC address in the forms Go's net.ParseMAC takes for 6 bytes (docker's check):
 * 00:1a:2b:3c:4d:5e, 00-1a-2b-3c-4d-5e, 001a.2b3c.4d5e; hex digits in either case.  -EINVAL on
 * anything else (other lengths, mixed separators, a trailing byte).
 */
int berth_net_mac_parse(const char *s, uint8_t ret[6]);

/* Write "a.b.c.d" (at least 16 bytes) / "a.b.c.d/len" (at least 19 bytes) into buf. */
void berth_net_addr_format(uint32_t addr, char buf[static 16]);
void berth_net_prefix_format(const struct berth_net_prefix *p, char buf[static 19]);

static inline uint32_t berth_net_prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

bool berth_net_prefix_contains(const struct berth_net_prefix *p, uint32_t addr);
bool berth_net_prefix_overlaps(const struct berth_net_prefix *a, const struct berth_net_prefix *b);

/* ---- IPAM: one pool per network ----------------------------------------------------------- */

/*
 * The addresses of one subnet handed to containers.  The network address, the broadcast address
 * and the gateway are never handed out.  range (optional, docker's --ip-range) narrows where
 * automatic allocation looks; explicit requests may use the whole subnet as docker allows.
 * Allocation goes round the range from after the last address given, so an address just
 * released is not reused at once (a stale ARP or DNS entry then points nowhere, not at a
 * stranger).
 */
struct berth_ipam_pool {
	struct berth_net_prefix subnet;
	struct berth_net_prefix range;
	uint32_t gateway;
	uint32_t last;
	uint64_t *used; /* one bit per address of subnet */
};

/*
 * Make a pool.  gateway 0 means the first usable address.  range NULL means the whole subnet.
 * Refused (-EINVAL, docker's wording): a prefix longer than /30 or shorter than /8, a gateway
 * outside the subnet or equal to its network or broadcast address, a range outside the subnet.
 */
int berth_ipam_pool_init(struct berth_ipam_pool *pool, const struct berth_net_prefix *subnet,
			 const struct berth_net_prefix *range, uint32_t gateway,
			 struct berth_error **err);
void berth_ipam_pool_release(struct berth_ipam_pool *pool);

/* Take the next free address of the range: -ENOSPC when none is left. */
int berth_ipam_alloc(struct berth_ipam_pool *pool, uint32_t *ret, struct berth_error **err);

/*
 * Take a given address: -EINVAL outside the subnet or a reserved address, -EEXIST when taken
 * (docker: "Address already in use").  Used for --ip and to restore state on start.
 */
int berth_ipam_claim(struct berth_ipam_pool *pool, uint32_t addr, struct berth_error **err);

/* Give an address back; one that was not taken is ignored. */
void berth_ipam_free(struct berth_ipam_pool *pool, uint32_t addr);

bool berth_ipam_is_used(const struct berth_ipam_pool *pool, uint32_t addr);

/* ---- IPv6 prefixes and pools ---------------------------------------------------------------- */

#define BERTH_NET6_ADDR_MAX   46 /* INET6_ADDRSTRLEN */
#define BERTH_NET6_PREFIX_MAX 50

/* An IPv6 network: addr in network byte order, masked to len bits (0..128). */
struct berth_net6_prefix {
	uint8_t addr[16];
	uint8_t len;
};

/* Parse an IPv6 address (it must have a colon: no IPv4 text); -EINVAL on anything else. */
int berth_net6_addr_parse(const char *s, uint8_t ret[16]);
/* Write an address in RFC 5952 form (as Go's net.IP.String). */
void berth_net6_addr_format(const uint8_t a[16], char buf[static BERTH_NET6_ADDR_MAX]);

/* Parse "addr/len" as berth_net_prefix_parse does for IPv4 (host bits set are refused). */
int berth_net6_prefix_parse(const char *s, struct berth_net6_prefix *ret, struct berth_error **err);
void berth_net6_prefix_format(const struct berth_net6_prefix *p,
			      char buf[static BERTH_NET6_PREFIX_MAX]);
bool berth_net6_prefix_contains(const struct berth_net6_prefix *p, const uint8_t a[16]);
bool berth_net6_prefix_overlaps(const struct berth_net6_prefix *a,
				const struct berth_net6_prefix *b);

/*
 * The IPv6 addresses of one subnet handed to containers: a list of the addresses taken (a /64
 * has too many for a bitmap).  The subnet-router anycast address (the subnet's own) and the
 * gateway are never handed out.  Allocation goes round the range (at most its first 2^64
 * addresses) from after the last one given, as the IPv4 pool does.
 */
struct berth_ipam6_pool {
	struct berth_net6_prefix subnet;
	struct berth_net6_prefix range;
	uint8_t gateway[16];
	uint64_t last; /* offset in range of the last address given */
	uint8_t (*used)[16];
	size_t n_used, cap;
};

/*
 * Make a pool.  gateway NULL means the first address after the subnet's.  range NULL means the
 * whole subnet.  Refused (-EINVAL): a prefix shorter than /48 or longer than /126, a gateway
 * outside the subnet or equal to its address, a range outside the subnet.
 */
int berth_ipam6_pool_init(struct berth_ipam6_pool *pool, const struct berth_net6_prefix *subnet,
			  const struct berth_net6_prefix *range, const uint8_t *gateway,
			  struct berth_error **err);
void berth_ipam6_pool_release(struct berth_ipam6_pool *pool);
/* As berth_ipam_alloc, berth_ipam_claim, berth_ipam_free, berth_ipam_is_used. */
int berth_ipam6_alloc(struct berth_ipam6_pool *pool, uint8_t ret[16], struct berth_error **err);
int berth_ipam6_claim(struct berth_ipam6_pool *pool, const uint8_t addr[16],
		      struct berth_error **err);
void berth_ipam6_free(struct berth_ipam6_pool *pool, const uint8_t addr[16]);
bool berth_ipam6_is_used(const struct berth_ipam6_pool *pool, const uint8_t a[16]);

/*
 * Write a sysctl under net. (dotted key, e.g. "net.ipv4.ip_forward") in the network namespace
 * netns_fd (-1: the caller's).  Interface names with dots cannot be written this way.
 */
int berth_net_sysctl_write(int netns_fd, const char *key, const char *value,
			   struct berth_error **err);

/* ---- rtnetlink ---------------------------------------------------------------------------- */

struct berth_nl;

/*
 * Open an rtnetlink socket in the network namespace netns_fd (-1: the caller's).  The socket
 * keeps that namespace for its whole life; only the calling thread enters the namespace, and
 * only while the socket is made.  A handle is for one short task: it remembers the index of the
 * link it looked up last (until it deletes or renames a link itself), and `lo` is index 1.
 */
int berth_nl_open(int netns_fd, struct berth_nl **ret, struct berth_error **err);
void berth_nl_close(struct berth_nl *nl);
static inline void berth_nl_closep(struct berth_nl **nl)
{
	if (*nl)
		berth_nl_close(*nl);
}
#define _cleanup_nl_ _cleanup_(berth_nl_closep)

/* The index of a link by name: -ENODEV when there is none. */
int berth_nl_link_index(struct berth_nl *nl, const char *name, int *ret_index,
			struct berth_error **err);

/*
 * The largest IPv4 GSO/GRO packet berth's bridges and veths take ("BIG TCP"; on Linux >= 6.12
 * only, see netlink.c): TCP between a bridge and its containers moves in
 * 192 KiB packets instead of 64 KiB ones, with the MTU on the wire unchanged.  Packets that
 * leave through a device with a smaller limit are segmented by the kernel as before.
 */
#define BERTH_NL_GSO_MAX 196608

/* Create a bridge (mtu 0: the kernel's default).  -EEXIST when the name is taken. */
int berth_nl_bridge_add(struct berth_nl *nl, const char *name, unsigned mtu,
			struct berth_error **err);

/* A veth pair as berth_nl_veth_add makes it. */
struct berth_nl_veth {
	const char *host_name;	 /* stays in nl's namespace */
	const char *peer_name;	 /* created directly inside peer_netns_fd */
	int peer_netns_fd;	 /* -1: nl's namespace too */
	unsigned mtu;		 /* both ends; 0: the kernel's default */
	const uint8_t *peer_mac; /* 6 bytes; NULL: the kernel's random one */
	const char *master;	 /* the host end's bridge; NULL: none */
	bool up;		 /* the host end up at once (the peer cannot be: see netlink.c) */
};

/*
 * Create a veth pair in one request (nothing is left half-made or half-moved if it fails),
 * with BERTH_NL_GSO_MAX on both ends.
 */
int berth_nl_veth_add(struct berth_nl *nl, const struct berth_nl_veth *v, struct berth_error **err);

/*
 * BERTH_NL_GSO_MAX on an existing link whose limit is still the kernel's default (64 KiB): a
 * value someone chose is left alone, and so is a kernel before 6.12 (nothing done).  The kernel
 * refuses it (EINVAL) above the link's TSO limit: a bridge has the 64 KiB one until its first
 * port joins, then its ports' smallest.
 */
int berth_nl_link_raise_gso(struct berth_nl *nl, const char *name, struct berth_error **err);

/* Is the link a bridge (its IFLA_INFO_KIND)?  -ENODEV when there is no such link. */
int berth_nl_link_is_bridge(struct berth_nl *nl, const char *name, bool *ret,
			    struct berth_error **err);

/* Delete a link; -ENODEV when it does not exist. */
int berth_nl_link_del(struct berth_nl *nl, const char *name, struct berth_error **err);

/* Set a link up, or attach it to a bridge (master NULL: detach). */
int berth_nl_link_up(struct berth_nl *nl, const char *name, struct berth_error **err);
int berth_nl_link_set_master(struct berth_nl *nl, const char *name, const char *master,
			     struct berth_error **err);

/* Rename a link (it must be down) and optionally set its MAC address (mac NULL: keep). */
int berth_nl_link_rename(struct berth_nl *nl, const char *name, const char *new_name,
			 const uint8_t mac[6], struct berth_error **err);

/* Add an IPv4 address with its prefix length to a link; an existing equal address is fine. */
int berth_nl_addr_add(struct berth_nl *nl, const char *name, uint32_t addr, uint8_t len,
		      struct berth_error **err);

/* Add the default IPv4 route through gateway. */
int berth_nl_route_add_default(struct berth_nl *nl, uint32_t gateway, struct berth_error **err);

/*
 * Add an IPv6 address with its prefix length to a link, without duplicate address detection
 * (IFA_F_NODAD: usable at once; berth's IPAM gives each address once).
 */
int berth_nl_addr6_add(struct berth_nl *nl, const char *name, const uint8_t addr[16], uint8_t len,
		       struct berth_error **err);

/* Add the default IPv6 route through gateway. */
int berth_nl_route6_add_default(struct berth_nl *nl, const uint8_t gateway[16],
				struct berth_error **err);

/* ---- the firewall: berth's own nftables table ----------------------------------------------- */

struct berth_fw_network {
	const char *bridge; /* the bridge's link name */
	struct berth_net_prefix subnet;
	bool internal;	 /* no way out and no published ports */
	bool masquerade; /* SNAT traffic leaving through other interfaces */
	bool icc;	 /* containers on this bridge may talk to each other */
	bool has_v6;	 /* the network has an IPv6 subnet too: rules in the ip6 table */
	struct berth_net6_prefix subnet6;
};

struct berth_fw_port {
	uint8_t proto;	  /* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t host_ip; /* 0: every host address */
	uint16_t host_port;
	uint32_t container_ip;
	uint16_t container_port;
	const char *bridge; /* the container's bridge, for the hairpin rule */
	bool v6;	    /* an IPv6 mapping (in the ip6 table), with the two addresses below */
	bool host_ip6_set;  /* false: every host address */
	uint8_t host_ip6[16];
	uint8_t container_ip6[16];
};

struct berth_fw_state {
	const struct berth_fw_network *networks;
	size_t n_networks;
	const struct berth_fw_port *ports;
	size_t n_ports;
	bool remove_v6; /* no network has IPv6 but the ip6 table may exist: remove it */
};

/* The tables berth owns, in families ip and ip6; nothing outside them is ever changed. */
#define BERTH_FW_TABLE "berth"

/*
 * Render the whole of berth's tables for state as nft's input language: one transaction that
 * creates each table if needed, deletes it and writes it anew, so applying it is atomic and
 * idempotent.  The ip6 table is written only when a network has an IPv6 subnet; else it is
 * removed when remove_v6 says it may exist, and left alone otherwise.  Names are checked to be plain interface names (-EINVAL otherwise: they are
 * pasted into a program).  The caller frees *ret.
 */
int berth_fw_render(const struct berth_fw_state *state, char **ret, struct berth_error **err);

/*
 * Apply state in the network namespace netns_fd (-1: the caller's).  On failure nft's own
 * message is in the error and the previous ruleset is untouched.
 */
int berth_fw_apply(const struct berth_fw_state *state, int netns_fd, struct berth_error **err);

/* Remove berth's tables (nothing to do when it does not exist). */
int berth_fw_flush(int netns_fd, struct berth_error **err);

/* ---- DNS wire format ---------------------------------------------------------------------- */

#define BERTH_DNS_MAX_NAME    255
#define BERTH_DNS_MAX_ANSWERS 16

#define BERTH_DNS_TYPE_A    1
#define BERTH_DNS_TYPE_AAAA 28
#define BERTH_DNS_CLASS_IN  1

#define BERTH_DNS_RCODE_OK	 0
#define BERTH_DNS_RCODE_FORMERR	 1
#define BERTH_DNS_RCODE_SERVFAIL 2
#define BERTH_DNS_RCODE_NXDOMAIN 3
#define BERTH_DNS_RCODE_NOTIMP	 4
#define BERTH_DNS_RCODE_REFUSED	 5

/* One question of a standard query; name is lowercase, dotted, without the final dot. */
struct berth_dns_query {
	uint16_t id;
	uint16_t flags;
	uint16_t qtype;
	uint16_t qclass;
	char name[BERTH_DNS_MAX_NAME + 1];
	size_t question_end; /* offset just past the question in the packet */
};

/*
 * Parse a query with exactly one question (what resolvers send).  -EINVAL for a response, a
 * truncated or malformed packet, compression in a query name, a label or name over the limits,
 * or not exactly one question; -ENOTSUP for an opcode other than QUERY.
 */
int berth_dns_parse_query(const uint8_t *pkt, size_t len, struct berth_dns_query *ret);

/*
 * Build the answer to q into buf (at most size bytes, 512 fits a plain UDP answer): the
 * question echoed, then one A record per address (host byte order) with ttl, or rcode with no
 * answers.  Returns the length, or -ENOSPC when it does not fit.
 */
ssize_t berth_dns_build_answer(const struct berth_dns_query *q, const uint8_t *pkt, int rcode,
			       const uint32_t *addrs, size_t n_addrs, uint32_t ttl, uint8_t *buf,
			       size_t size);

/* The same with one AAAA record per IPv6 address. */
ssize_t berth_dns_build_answer6(const struct berth_dns_query *q, const uint8_t *pkt, int rcode,
				const uint8_t (*addrs)[16], size_t n_addrs, uint32_t ttl,
				uint8_t *buf, size_t size);
