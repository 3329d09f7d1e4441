/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtnetlink over libmnl: the few link, address and route requests bridge networking needs.
 * Every request asks for an ACK, so each call returns the kernel's answer for that request.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "net/net-internal.h"
#include "base/banned.h"

/* Linux 6.3's uapi; Debian 12's headers (6.1) do not have them yet */
#ifndef IFLA_GSO_IPV4_MAX_SIZE
#define IFLA_GSO_IPV4_MAX_SIZE 63
#define IFLA_GRO_IPV4_MAX_SIZE 64
#endif

struct berth_nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	char *buf; /* MNL_SOCKET_BUFFER_SIZE bytes, for requests and answers */
	/* the link looked up last: an attach asks for its interface's index for the address,
	 * then again to set it up; each RTM_GETLINK is a round trip that may wait for the rtnl
	 * lock.  Forgotten when a request through this handle deletes or renames a link. */
	char last_name[IFNAMSIZ];
	int last_index;
};

static int open_socket(int netns_fd, struct mnl_socket **ret, struct berth_error **err)
{
	int self, r = net_enter(netns_fd, &self, err);

	if (r < 0)
		return r;
	*ret = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!*ret)
		r = berth_error_sys(err, errno, "open rtnetlink socket");
	net_leave(self);
	return r;
}

int berth_nl_open(int netns_fd, struct berth_nl **ret, struct berth_error **err)
{
	struct berth_nl *nl = calloc(1, sizeof(*nl));
	int r;

	if (!nl)
		return berth_error_set(err, ENOMEM, "rtnetlink: out of memory");
	nl->buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!nl->buf) {
		free(nl);
		return berth_error_set(err, ENOMEM, "rtnetlink: out of memory");
	}
	r = open_socket(netns_fd, &nl->sock, err);
	if (r < 0) {
		berth_nl_close(nl);
		return r;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = berth_error_sys(err, errno, "bind rtnetlink socket");
		berth_nl_close(nl);
		return r;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	*ret = nl;
	return 0;
}

void berth_nl_close(struct berth_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	free(nl);
}

static struct nlmsghdr *msg_new(struct berth_nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);

	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	h->nlmsg_seq = ++nl->seq;
	return h;
}

/* Send h and read until the kernel's ACK or error for it; returns 0 or -errno. */
static int talk(struct berth_nl *nl, struct nlmsghdr *h, mnl_cb_t cb, void *data)
{
	unsigned seq = h->nlmsg_seq;
	int r;

	if (mnl_socket_sendto(nl->sock, h, h->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, MNL_SOCKET_BUFFER_SIZE);

		if (n < 0)
			return -errno;
		r = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, data);
		if (r <= MNL_CB_STOP)
			return r < 0 ? -errno : 0;
	}
}

static int got_link(const struct nlmsghdr *h, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);

	if (h->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	*(int *)data = ifi->ifi_index;
	return MNL_CB_STOP;
}

/* RTM_GETLINK of one link by name: cb sees the one RTM_NEWLINK it answers (or an error). */
static int get_link(struct berth_nl *nl, const char *name, mnl_cb_t cb, void *data)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(nl->buf);
	struct ifinfomsg *ifi;

	h->nlmsg_type = RTM_GETLINK;
	h->nlmsg_flags = NLM_F_REQUEST;
	h->nlmsg_seq = ++nl->seq;
	ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	return talk(nl, h, cb, data);
}

/* The index of a link by name. */
static int index_of(struct berth_nl *nl, const char *name, int *ret)
{
	size_t len = name ? strlen(name) : 0;
	int index = 0, r;

	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;
	/* every network namespace's loopback has index 1 (LOOPBACK_IFINDEX, Linux >= 3.7) */
	if (strcmp(name, "lo") == 0) {
		*ret = 1;
		return 0;
	}
	if (strcmp(name, nl->last_name) == 0) {
		*ret = nl->last_index;
		return 0;
	}
	r = get_link(nl, name, got_link, &index);
	if (r < 0)
		return r;
	if (index <= 0)
		return -ENODEV;
	memcpy(nl->last_name, name, len + 1);
	nl->last_index = index;
	*ret = index;
	return 0;
}

int berth_nl_link_index(struct berth_nl *nl, const char *name, int *ret_index,
			struct berth_error **err)
{
	int r = index_of(nl, name, ret_index);

	if (r == -EINVAL)
		return berth_error_set(err, EINVAL, "invalid interface name '%s'",
				       name ? name : "");
	if (r < 0)
		return berth_error_set(err, -r, "link '%s': %s", name,
				       r == -ENODEV ? "no such device" : strerror(-r));
	return 0;
}

struct link_kind {
	bool found;
	char kind[32];
};

static int kind_attr(const struct nlattr *a, void *data)
{
	struct link_kind *k = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		snprintf(k->kind, sizeof(k->kind), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_LINKINFO && mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
		mnl_attr_parse_nested(a, kind_attr, data);
	return MNL_CB_OK;
}

static int got_kind(const struct nlmsghdr *h, void *data)
{
	struct link_kind *k = data;

	if (h->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	k->found = true;
	mnl_attr_parse(h, sizeof(struct ifinfomsg), link_attr, data);
	return MNL_CB_STOP;
}

int berth_nl_link_is_bridge(struct berth_nl *nl, const char *name, bool *ret,
			    struct berth_error **err)
{
	struct link_kind k = {0};
	size_t len = name ? strlen(name) : 0;
	int r;

	if (len == 0 || len >= IFNAMSIZ)
		return berth_error_set(err, EINVAL, "invalid interface name '%s'",
				       name ? name : "");
	r = get_link(nl, name, got_kind, &k);
	if (r == 0 && !k.found)
		r = -ENODEV;
	if (r < 0)
		return berth_error_set(err, -r, "link '%s': %s", name,
				       r == -ENODEV ? "no such device" : strerror(-r));
	*ret = strcmp(k.kind, "bridge") == 0;
	return 0;
}

static bool name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	return len > 0 && len < IFNAMSIZ && !strchr(name, '/') && !strpbrk(name, " \t\n:") &&
	       strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

static struct ifinfomsg *link_msg(struct berth_nl *nl, struct nlmsghdr **ret_h, uint16_t type,
				  uint16_t flags, int index)
{
	struct nlmsghdr *h = msg_new(nl, type, flags);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(h, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = index;
	*ret_h = h;
	return ifi;
}

/* Look the link up and fail with its name in the message. */
static int need_index(struct berth_nl *nl, const char *what, const char *name, int *ret,
		      struct berth_error **err)
{
	int r = index_of(nl, name, ret);

	if (r == -EINVAL)
		return berth_error_set(err, EINVAL, "%s: invalid interface name '%s'", what,
				       name ? name : "");
	if (r < 0)
		return berth_error_set(err, -r, "%s '%s': %s", what, name,
				       r == -ENODEV ? "no such device" : strerror(-r));
	return 0;
}

/*
 * Linux < 6.12 has no BIG TCP for berth: 6.3 brought the IPv4 limits, but from 6.8 (commit
 * 24ab059d2ebd) to 6.11 a device's transmit path compared every packet with the IPv6/legacy
 * limit (gso_max_size, 64 KiB here) and cut larger IPv4 packets in software, segment by segment,
 * which is slower than never making them (fixed by "net: Fix gso_features_check to check for
 * both dev->gso_{ipv4_,}max_size", 6.12).  Older kernels would ignore the attributes anyway.
 */
static bool big_tcp_works(void)
{
	static int works = -1;
	struct utsname u;
	unsigned major = 0, minor = 0;

	if (works < 0) {
		works = uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
			(major > 6 || (major == 6 && minor >= 12));
	}
	return works;
}

/* BERTH_NL_GSO_MAX on the link h makes (or, nested, on a veth's peer), where it helps. */
static void put_gso(struct nlmsghdr *h)
{
	if (!big_tcp_works())
		return;
	mnl_attr_put_u32(h, IFLA_GSO_IPV4_MAX_SIZE, BERTH_NL_GSO_MAX);
	mnl_attr_put_u32(h, IFLA_GRO_IPV4_MAX_SIZE, BERTH_NL_GSO_MAX);
}

int berth_nl_bridge_add(struct berth_nl *nl, const char *name, unsigned mtu,
			struct berth_error **err)
{
	struct nlmsghdr *h;
	struct nlattr *info;
	int r;

	if (!name_ok(name))
		return berth_error_set(err, EINVAL, "invalid bridge name '%s'", name ? name : "");
	link_msg(nl, &h, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	mnl_attr_put_strz(h, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(h, info);
	r = talk(nl, h, NULL, NULL);
	if (r < 0)
		return berth_error_set(err, -r, "create bridge '%s': %s", name, strerror(-r));
	return 0;
}

int berth_nl_veth_add(struct berth_nl *nl, const struct berth_nl_veth *v, struct berth_error **err)
{
	struct nlmsghdr *h;
	struct nlattr *info, *data, *peer;
	struct ifinfomsg *ifi, *pifi;
	int master = 0, r;

	if (!name_ok(v->host_name) || !name_ok(v->peer_name))
		return berth_error_set(err, EINVAL, "invalid veth names '%s' and '%s'",
				       v->host_name ?: "", v->peer_name ?: "");
	if (v->master) {
		r = need_index(nl, "attach to bridge", v->master, &master, err);
		if (r < 0)
			return r;
	}
	ifi = link_msg(nl, &h, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	/* the flags and the master are applied as the pair is registered: one request instead of
	 * three, each of which would take the kernel's rtnl lock again.  Not the peer's IFF_UP:
	 * the kernel opens the peer before the two are linked, and a veth without its peer
	 * refuses to open (ENOTCONN). */
	if (v->up)
		ifi->ifi_change = ifi->ifi_flags = IFF_UP;
	mnl_attr_put_strz(h, IFLA_IFNAME, v->host_name);
	if (v->mtu)
		mnl_attr_put_u32(h, IFLA_MTU, v->mtu);
	if (master)
		mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)master);
	put_gso(h);
	info = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(h, VETH_INFO_PEER);
	/* the peer's attributes follow its own ifinfomsg, inside the nest */
	pifi = mnl_nlmsg_put_extra_header(h, sizeof(*pifi));
	pifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(h, IFLA_IFNAME, v->peer_name);
	if (v->mtu)
		mnl_attr_put_u32(h, IFLA_MTU, v->mtu);
	if (v->peer_mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, v->peer_mac);
	if (v->peer_netns_fd >= 0)
		mnl_attr_put_u32(h, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd);
	put_gso(h);
	mnl_attr_nest_end(h, peer);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, info);
	r = talk(nl, h, NULL, NULL);
	if (r < 0)
		return berth_error_set(err, -r, "create veth pair '%s' and '%s': %s", v->host_name,
				       v->peer_name, strerror(-r));
	return 0;
}

struct gso_now {
	int index;
	uint32_t gso; /* 0: the kernel does not report it (no BIG TCP) */
};

static int got_gso(const struct nlmsghdr *h, void *data)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	struct gso_now *now = data;
	const struct nlattr *a;

	if (h->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	now->index = ifi->ifi_index;
	mnl_attr_for_each (a, h, sizeof(*ifi)) {
		if (mnl_attr_get_type(a) == IFLA_GSO_IPV4_MAX_SIZE &&
		    mnl_attr_get_payload_len(a) == sizeof(uint32_t))
			now->gso = mnl_attr_get_u32(a);
	}
	return MNL_CB_STOP;
}

int berth_nl_link_raise_gso(struct berth_nl *nl, const char *name, struct berth_error **err)
{
	struct gso_now now = {0};
	struct nlmsghdr *h;
	int r;

	if (!name_ok(name))
		return berth_error_set(err, EINVAL, "set GSO size: invalid interface name '%s'",
				       name ? name : "");
	if (!big_tcp_works())
		return 0;
	r = get_link(nl, name, got_gso, &now);
	if (r == 0 && now.index <= 0)
		r = -ENODEV;
	if (r < 0)
		return berth_error_set(err, -r, "set GSO size of '%s': %s", name, strerror(-r));
	/* the kernel's default is 64 KiB: anything else was chosen by someone */
	if (now.gso != 65536)
		return 0;
	link_msg(nl, &h, RTM_NEWLINK, 0, now.index);
	put_gso(h);
	r = talk(nl, h, NULL, NULL);
	if (r < 0)
		return berth_error_set(err, -r, "set GSO size of '%s': %s", name, strerror(-r));
	return 0;
}

int berth_nl_link_del(struct berth_nl *nl, const char *name, struct berth_error **err)
{
	struct nlmsghdr *h;
	int index, r;

	r = need_index(nl, "delete link", name, &index, err);
	if (r < 0)
		return r;
	nl->last_name[0] = '\0';
	link_msg(nl, &h, RTM_DELLINK, 0, index);
	r = talk(nl, h, NULL, NULL);
	if (r < 0)
		return berth_error_set(err, -r, "delete link '%s': %s", name, strerror(-r));
	return 0;
}

int berth_nl_link_up(struct berth_nl *nl, const char *name, struct berth_error **err)
{
	struct nlmsghdr *h;
	struct ifinfomsg *ifi;
	int index, r;

	r = need_index(nl, "set link up", name, &index, err);
	if (r < 0)
		return r;
	ifi = link_msg(nl, &h, RTM_NEWLINK, 0, index);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = IFF_UP;
	r = talk(nl, h, NULL, NULL);
	if (r < 0)
		return berth_error_set(err, -r, "set link '%s' up: %s", name, strerror(-r));
	return 0;
}

int berth_nl_link_set_master(struct berth_nl *nl, const char *name, const char *master,
			     struct berth_error **err)
{
	struct nlmsghdr *h;
	int index, mindex = 0, r;

	r = need_index(nl, "attach link", name, &index, err);
	if (r == 0 && master)
		r = need_index(nl, "attach to bridge", master, &mindex, err);
	if (r < 0)
		return r;
	link_msg(nl, &h, RTM_NEWLINK, 0, index);
	mnl_attr_put_u32(h, IFLA_MASTER, (uint32_t)mindex);
	r = talk(nl, h, NULL, NULL);
	if (r < 0)
		return berth_error_set(err, -r, "attach link '%s' to '%s': %s", name,
				       master ? master : "(none)", strerror(-r));
	return 0;
}

int berth_nl_link_rename(struct berth_nl *nl, const char *name, const char *new_name,
			 const uint8_t mac[6], struct berth_error **err)
{
	struct nlmsghdr *h;
	int index, r;

	if (!name_ok(new_name))
		return berth_error_set(err, EINVAL, "rename link '%s': invalid name '%s'", name,
				       new_name ? new_name : "");
	r = need_index(nl, "rename link", name, &index, err);
	if (r < 0)
		return r;
	nl->last_name[0] = '\0';
	link_msg(nl, &h, RTM_NEWLINK, 0, index);
	mnl_attr_put_strz(h, IFLA_IFNAME, new_name);
	if (mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, mac);
	r = talk(nl, h, NULL, NULL);
	if (r < 0)
		return berth_error_set(err, -r, "rename link '%s' to '%s': %s", name, new_name,
				       strerror(-r));
	return 0;
}

int berth_nl_addr_add(struct berth_nl *nl, const char *name, uint32_t addr, uint8_t len,
		      struct berth_error **err)
{
	struct nlmsghdr *h;
	struct ifaddrmsg *ifa;
	int index, r;
	char a[16];

	berth_net_addr_format(addr, a);
	if (len > 32)
		return berth_error_set(err, EINVAL, "add address %s/%u: invalid prefix length", a,
				       len);
	r = need_index(nl, "add address to link", name, &index, err);
	if (r < 0)
		return r;
	h = msg_new(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put_u32(h, IFA_LOCAL, htonl(addr));
	mnl_attr_put_u32(h, IFA_ADDRESS, htonl(addr));
	if (len < 31)
		mnl_attr_put_u32(h, IFA_BROADCAST, htonl(addr | ~berth_net_prefix_mask(len)));
	r = talk(nl, h, NULL, NULL);
	if (r < 0)
		return berth_error_set(err, -r, "add address %s/%u to '%s': %s", a, len, name,
				       strerror(-r));
	return 0;
}

int berth_nl_route_add_default(struct berth_nl *nl, uint32_t gateway, struct berth_error **err)
{
	struct nlmsghdr *h;
	struct rtmsg *rtm;
	char g[16];
	int r;

	h = msg_new(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_put_extra_header(h, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(h, RTA_GATEWAY, htonl(gateway));
	r = talk(nl, h, NULL, NULL);
	if (r < 0) {
		berth_net_addr_format(gateway, g);
		return berth_error_set(err, -r, "add default route via %s: %s", g, strerror(-r));
	}
	return 0;
}

int berth_nl_addr6_add(struct berth_nl *nl, const char *name, const uint8_t addr[16], uint8_t len,
		       struct berth_error **err)
{
	char a[BERTH_NET6_ADDR_MAX];
	struct nlmsghdr *h;
	struct ifaddrmsg *ifa;
	int index, r;

	berth_net6_addr_format(addr, a);
	if (len > 128)
		return berth_error_set(err, EINVAL, "add address %s/%u: invalid prefix length", a,
				       len);
	r = need_index(nl, "add address to link", name, &index, err);
	if (r < 0)
		return r;
	h = msg_new(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = len;
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)index;
	mnl_attr_put(h, IFA_LOCAL, 16, addr);
	mnl_attr_put(h, IFA_ADDRESS, 16, addr);
	mnl_attr_put_u32(h, IFA_FLAGS, IFA_F_NODAD);
	r = talk(nl, h, NULL, NULL);
	if (r < 0)
		return berth_error_set(err, -r, "add address %s/%u to '%s': %s", a, len, name,
				       strerror(-r));
	return 0;
}

int berth_nl_route6_add_default(struct berth_nl *nl, const uint8_t gateway[16],
				struct berth_error **err)
{
	struct nlmsghdr *h;
	struct rtmsg *rtm;
	int r;

	h = msg_new(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
	rtm = mnl_nlmsg_put_extra_header(h, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(h, RTA_GATEWAY, 16, gateway);
	r = talk(nl, h, NULL, NULL);
	if (r < 0) {
		char g[BERTH_NET6_ADDR_MAX];

		berth_net6_addr_format(gateway, g);
		return berth_error_set(err, -r, "add default IPv6 route via %s: %s", g,
				       strerror(-r));
	}
	return 0;
}
