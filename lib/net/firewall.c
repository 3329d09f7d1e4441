/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth's firewall: nftables tables named "berth" in families ip and ip6 (the latter for the
 * networks with an IPv6 subnet), rendered whole from the daemon's state and swapped in one
 * transaction.  No other table is read or written, so
 * docker, firewalld or the admin's rules are never flushed.
 *
 *   nat prerouting/output  local destination -> jump publish: one DNAT per published port
 *   nat postrouting        masquerade what leaves a bridge's subnet through another interface;
 *                          masquerade DNATed traffic going back into a bridge (hairpin, and
 *                          127.0.0.1 sources, which the bridge allows with route_localnet)
 *   filter forward         published ports pass; a bridge may not reach another berth bridge;
 *                          internal networks reach nothing; icc off drops bridge-to-itself
 */
#include <errno.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net-internal.h"
#include "base/banned.h"

/* Interface names go between quotes in nft's language: allow only what link names use. */
static bool plain_ifname(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= 16)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return true;
}

static const char *proto_name(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : NULL;
}

static int check(const struct berth_fw_state *st, struct berth_error **err)
{
	for (size_t i = 0; i < st->n_networks; i++)
		if (!plain_ifname(st->networks[i].bridge))
			return berth_error_set(err, EINVAL, "firewall: invalid bridge name '%s'",
					       st->networks[i].bridge ? st->networks[i].bridge
								      : "");
	for (size_t i = 0; i < st->n_ports; i++) {
		const struct berth_fw_port *p = &st->ports[i];

		if (!proto_name(p->proto))
			return berth_error_set(err, EINVAL, "firewall: invalid protocol %u",
					       p->proto);
		if (p->host_port == 0 || p->container_port == 0 || (!p->v6 && p->container_ip == 0))
			return berth_error_set(
				err, EINVAL,
				"firewall: port mapping %u to %u needs both ports and "
				"an address",
				p->host_port, p->container_port);
		if (!plain_ifname(p->bridge))
			return berth_error_set(err, EINVAL, "firewall: invalid bridge name '%s'",
					       p->bridge ? p->bridge : "");
	}
	return 0;
}

static void render_publish(FILE *f, const struct berth_fw_state *st, bool v6)
{
	fprintf(f, "\tchain publish {\n");
	for (size_t i = 0; i < st->n_ports; i++) {
		const struct berth_fw_port *p = &st->ports[i];

		if (p->v6 != v6)
			continue;
		fprintf(f, "\t\t");
		if (v6) {
			char hip[BERTH_NET6_ADDR_MAX], cip[BERTH_NET6_ADDR_MAX];

			berth_net6_addr_format(p->container_ip6, cip);
			if (p->host_ip6_set) {
				berth_net6_addr_format(p->host_ip6, hip);
				fprintf(f, "ip6 daddr %s ", hip);
			}
			fprintf(f, "%s dport %u dnat to [%s]:%u\n", proto_name(p->proto),
				p->host_port, cip, p->container_port);
		} else {
			char hip[16], cip[16];

			berth_net_addr_format(p->container_ip, cip);
			if (p->host_ip) {
				berth_net_addr_format(p->host_ip, hip);
				fprintf(f, "ip daddr %s ", hip);
			}
			fprintf(f, "%s dport %u dnat to %s:%u\n", proto_name(p->proto),
				p->host_port, cip, p->container_port);
		}
	}
	fprintf(f, "\t}\n");
}

/* Is network n in the table of this family? */
static bool in_family(const struct berth_fw_network *n, bool v6)
{
	return !v6 || n->has_v6;
}

static void render_nat(FILE *f, const struct berth_fw_state *st, bool v6)
{
	fprintf(f, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy "
		   "accept;\n\t\tfib daddr type local jump publish\n\t}\n");
	fprintf(f, "\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n"
		   "\t\tfib daddr type local jump publish\n\t}\n");
	fprintf(f, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy "
		   "accept;\n");
	for (size_t i = 0; i < st->n_networks; i++) {
		const struct berth_fw_network *n = &st->networks[i];
		char s[BERTH_NET6_PREFIX_MAX];
		const char *fam = v6 ? "ip6" : "ip", *lo = v6 ? "::1" : "127.0.0.0/8";

		if (!in_family(n, v6))
			continue;
		if (v6)
			berth_net6_prefix_format(&n->subnet6, s);
		else
			berth_net_prefix_format(&n->subnet, s);
		if (n->masquerade && !n->internal)
			fprintf(f, "\t\t%s saddr %s oifname != \"%s\" masquerade\n", fam, s,
				n->bridge);
		/* a published port reached from the bridge itself or from the host's loopback */
		fprintf(f, "\t\toifname \"%s\" ct status dnat %s saddr { %s, %s } masquerade\n",
			n->bridge, fam, s, lo);
	}
	fprintf(f, "\t}\n");
}

static void render_forward(FILE *f, const struct berth_fw_state *st, bool v6)
{
	size_t n_fam = 0;

	for (size_t i = 0; i < st->n_networks; i++)
		n_fam += in_family(&st->networks[i], v6);
	fprintf(f, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy "
		   "accept;\n\t\tct status dnat accept\n");
	if (n_fam > 0) {
		fprintf(f, "\t\tct state established,related accept\n");
		for (size_t i = 0; i < st->n_networks; i++) {
			const struct berth_fw_network *n = &st->networks[i];

			if (!in_family(n, v6))
				continue;
			if (n->internal)
				fprintf(f,
					"\t\tiifname \"%s\" oifname != \"%s\" drop\n"
					"\t\toifname \"%s\" iifname != \"%s\" drop\n",
					n->bridge, n->bridge, n->bridge, n->bridge);
			if (!n->icc)
				fprintf(f, "\t\tiifname \"%s\" oifname \"%s\" drop\n", n->bridge,
					n->bridge);
			/* every other berth bridge, v6 or not: no way across */
			for (size_t j = 0; j < st->n_networks; j++)
				if (j != i)
					fprintf(f, "\t\tiifname \"%s\" oifname \"%s\" drop\n",
						n->bridge, st->networks[j].bridge);
		}
	}
	fprintf(f, "\t}\n");
}

static void render_table(FILE *f, const struct berth_fw_state *st, bool v6)
{
	const char *fam = v6 ? "ip6" : "ip";

	fprintf(f, "table %s %s {\n", fam, BERTH_FW_TABLE);
	render_publish(f, st, v6);
	render_nat(f, st, v6);
	render_forward(f, st, v6);
	fprintf(f, "}\n");
}

int berth_fw_render(const struct berth_fw_state *st, char **ret, struct berth_error **err)
{
	char *text = NULL;
	size_t len = 0;
	bool any_v6 = false;
	FILE *f;
	int r = check(st, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < st->n_networks; i++)
		any_v6 = any_v6 || st->networks[i].has_v6;
	f = open_memstream(&text, &len);
	if (!f)
		return berth_error_sys(err, errno, "firewall: render");
	/* add + delete + define: one transaction that works whether or not the table exists */
	fprintf(f, "add table ip %s\ndelete table ip %s\n", BERTH_FW_TABLE, BERTH_FW_TABLE);
	render_table(f, st, false);
	if (any_v6 || st->remove_v6)
		fprintf(f, "add table ip6 %s\ndelete table ip6 %s\n", BERTH_FW_TABLE,
			BERTH_FW_TABLE);
	if (any_v6)
		render_table(f, st, true);
	if (fclose(f) != 0) {
		free(text);
		return berth_error_set(err, ENOMEM, "firewall: render: out of memory");
	}
	*ret = text;
	return 0;
}

/* Run nft's program text in netns_fd (this thread only); nft's error text in the message. */
static int run_nft(const char *text, int netns_fd, const char *what, struct berth_error **err)
{
	struct nft_ctx *ctx;
	int self, r;

	/* loaded here, in the host's namespaces, before this thread enters netns_fd */
	r = net_nft_load(err);
	if (r < 0)
		return berth_error_wrap(err, "%s", what);
	r = net_enter(netns_fd, &self, err);
	if (r < 0)
		return berth_error_wrap(err, "%s", what);
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx) {
		r = berth_error_set(err, ENOMEM, "%s: nftables context", what);
	} else {
		nft_ctx_buffer_output(ctx);
		nft_ctx_buffer_error(ctx);
		if (nft_run_cmd_from_buffer(ctx, text) != 0) {
			const char *e = nft_ctx_get_error_buffer(ctx);
			size_t n = e ? strlen(e) : 0;

			while (n > 0 && (e[n - 1] == '\n' || e[n - 1] == ' '))
				n--;
			r = berth_error_set(err, EINVAL, "%s: nftables: %.*s", what, (int)n,
					    n ? e : "failed");
		}
		nft_ctx_free(ctx);
	}
	net_leave(self);
	return r;
}

int berth_fw_apply(const struct berth_fw_state *state, int netns_fd, struct berth_error **err)
{
	_cleanup_free_ char *text = NULL;
	int r = berth_fw_render(state, &text, err);

	if (r < 0)
		return r;
	return run_nft(text, netns_fd, "apply firewall rules", err);
}

int berth_fw_flush(int netns_fd, struct berth_error **err)
{
	return run_nft("add table ip " BERTH_FW_TABLE "\ndelete table ip " BERTH_FW_TABLE "\n"
		       "add table ip6 " BERTH_FW_TABLE "\ndelete table ip6 " BERTH_FW_TABLE "\n",
		       netns_fd, "remove firewall rules", err);
}
