/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net-tool: a thin command line over lib/net for tests/system/test_net.py, which runs it inside
 * network namespaces the test made (never in the host's).  Built for the tests, never installed.
 * Errors go to stderr as "net-tool: <message>" with exit status 1.
 *
 *   net-tool bridge NAME [MTU]
 *   net-tool veth HOST PEER PEER-NETNS-PATH [MTU [PEER-MAC]]
 *   net-tool del NAME | up NAME | master NAME BRIDGE|- | index NAME
 *   net-tool rename NAME NEW [MAC]
 *   net-tool addr NAME A.B.C.D/LEN
 *   net-tool route GATEWAY
 *   net-tool sysctl KEY VALUE
 *   net-tool fw [net:BRIDGE:SUBNET[:internal][:noicc][:nomasq]]... [port:PROTO:HOSTIP:HPORT:CIP:CPORT:BRIDGE]...
 *   net-tool fw-render ... (same arguments; prints the program)
 *   net-tool fw-flush
 *   net-tool dns-serve A.B.C.D PORT NAME=A.B.C.D[,A.B.C.D]...   (answers until killed)
 *
 * Every command but veth works in the caller's namespace, given with --netns PATH first or by
 * running the tool under `ip netns exec`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/net.h"

#include "base/banned.h"

static int netns_fd = -1;

static int fail(struct berth_error *e)
{
	fprintf(stderr, "net-tool: %s\n", e && e->msg ? e->msg : "failed");
	berth_error_free(e);
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "net-tool: bad usage (see the comment at the top of net-tool.c)\n");
	return 2;
}

static uint32_t addr_or_die(const char *s)
{
	uint32_t a;

	if (berth_net_addr_parse(s, &a) < 0) {
		fprintf(stderr, "net-tool: bad address '%s'\n", s);
		exit(2);
	}
	return a;
}

static int parse_state(int argc, char **argv, struct berth_fw_state *st)
{
	struct berth_fw_network *nets = calloc((size_t)argc + 1, sizeof(*nets));
	struct berth_fw_port *ports = calloc((size_t)argc + 1, sizeof(*ports));

	if (!nets || !ports)
		return -1;
	*st = (struct berth_fw_state){nets, 0, ports, 0};
	for (int i = 0; i < argc; i++) {
		char *f[8] = {0};
		int n = 0;

		for (char *p = argv[i], *save = NULL; n < 8 && (p = strtok_r(p, ":", &save));
		     p = NULL)
			f[n++] = p;
		if (n >= 3 && strcmp(f[0], "net") == 0) {
			struct berth_fw_network *w = &nets[st->n_networks++];
			struct berth_error *e = NULL;

			w->bridge = f[1];
			if (berth_net_prefix_parse(f[2], &w->subnet, &e) < 0)
				return fail(e), -1;
			w->icc = true;
			w->masquerade = true;
			for (int k = 3; k < n; k++) {
				if (strcmp(f[k], "internal") == 0)
					w->internal = true;
				else if (strcmp(f[k], "noicc") == 0)
					w->icc = false;
				else if (strcmp(f[k], "nomasq") == 0)
					w->masquerade = false;
			}
		} else if (n == 7 && strcmp(f[0], "port") == 0) {
			struct berth_fw_port *p = &ports[st->n_ports++];

			p->proto = strcmp(f[1], "tcp") == 0   ? IPPROTO_TCP
				   : strcmp(f[1], "udp") == 0 ? IPPROTO_UDP
							      : (uint8_t)strtoul(f[1], NULL, 10);
			p->host_ip = strcmp(f[2], "0") == 0 ? 0 : addr_or_die(f[2]);
			p->host_port = (uint16_t)strtoul(f[3], NULL, 10);
			p->container_ip = addr_or_die(f[4]);
			p->container_port = (uint16_t)strtoul(f[5], NULL, 10);
			p->bridge = f[6];
		} else {
			return usage(), -1;
		}
	}
	return 0;
}

static int dns_serve(const char *ip, const char *port, int argc, char **argv)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)strtoul(port, NULL, 10))};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(addr_or_die(ip));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("net-tool: dns-serve");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		uint8_t pkt[512], out[512];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fl);
		struct berth_dns_query q;
		uint32_t addrs[BERTH_DNS_MAX_ANSWERS];
		size_t na = 0;
		int rcode = BERTH_DNS_RCODE_NXDOMAIN;

		if (n < 0)
			continue;
		int r = berth_dns_parse_query(pkt, (size_t)n, &q);
		if (r < 0)
			continue; /* berthd answers FORMERR where it can; the test only needs silence */
		for (int i = 0; i < argc; i++) {
			size_t l = strcspn(argv[i], "=");

			if (strlen(q.name) != l || strncmp(q.name, argv[i], l) != 0)
				continue;
			rcode = BERTH_DNS_RCODE_OK;
			if (q.qtype != BERTH_DNS_TYPE_A)
				break; /* the name exists, with no record of that type */
			char buf[256];
			snprintf(buf, sizeof(buf), "%s", argv[i] + l + 1);
			for (char *p = buf, *save = NULL;
			     na < BERTH_DNS_MAX_ANSWERS && (p = strtok_r(p, ",", &save)); p = NULL)
				addrs[na++] = addr_or_die(p);
		}
		ssize_t m =
			berth_dns_build_answer(&q, pkt, rcode, addrs, na, 600, out, sizeof(out));
		if (m > 0)
			sendto(fd, out, (size_t)m, 0, (struct sockaddr *)&from, fl);
	}
}

int main(int argc, char **argv)
{
	struct berth_error *e = NULL;
	_cleanup_nl_ struct berth_nl *nl = NULL;
	const char *cmd;

	if (argc >= 3 && strcmp(argv[1], "--netns") == 0) {
		netns_fd = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (netns_fd < 0) {
			perror("net-tool: open netns");
			return 1;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc < 2)
		return usage();
	cmd = argv[1];
	argv += 2;
	argc -= 2;

	if (strcmp(cmd, "fw") == 0 || strcmp(cmd, "fw-render") == 0) {
		struct berth_fw_state st;
		char *text = NULL;

		if (parse_state(argc, argv, &st) < 0)
			return 1;
		if (strcmp(cmd, "fw-render") == 0) {
			if (berth_fw_render(&st, &text, &e) < 0)
				return fail(e);
			fputs(text, stdout);
			free(text);
			return 0;
		}
		return berth_fw_apply(&st, netns_fd, &e) < 0 ? fail(e) : 0;
	}
	if (strcmp(cmd, "fw-flush") == 0)
		return berth_fw_flush(netns_fd, &e) < 0 ? fail(e) : 0;
	if (strcmp(cmd, "sysctl") == 0 && argc == 2)
		return berth_net_sysctl_write(netns_fd, argv[0], argv[1], &e) < 0 ? fail(e) : 0;
	if (strcmp(cmd, "dns-serve") == 0 && argc >= 2)
		return dns_serve(argv[0], argv[1], argc - 2, argv + 2);

	if (berth_nl_open(netns_fd, &nl, &e) < 0)
		return fail(e);
	int r = -EINVAL;
	if (strcmp(cmd, "bridge") == 0 && argc >= 1) {
		r = berth_nl_bridge_add(nl, argv[0],
					argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 0, &e);
	} else if (strcmp(cmd, "veth") == 0 && argc >= 3) {
		_cleanup_close_ int peer = open(argv[2], O_RDONLY | O_CLOEXEC);
		if (peer < 0) {
			perror("net-tool: open peer netns");
			return 1;
		}
		uint8_t mac[6];
		if (argc > 4 && sscanf(argv[4], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
				       &mac[2], &mac[3], &mac[4], &mac[5]) != 6)
			return usage();
		struct berth_nl_veth v = {
			.host_name = argv[0],
			.peer_name = argv[1],
			.peer_netns_fd = peer,
			.mtu = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 0,
			.peer_mac = argc > 4 ? mac : NULL,
		};
		r = berth_nl_veth_add(nl, &v, &e);
	} else if (strcmp(cmd, "del") == 0 && argc == 1) {
		r = berth_nl_link_del(nl, argv[0], &e);
	} else if (strcmp(cmd, "up") == 0 && argc == 1) {
		r = berth_nl_link_up(nl, argv[0], &e);
	} else if (strcmp(cmd, "index") == 0 && argc == 1) {
		int index;
		r = berth_nl_link_index(nl, argv[0], &index, &e);
		if (r == 0)
			printf("%d\n", index);
	} else if (strcmp(cmd, "master") == 0 && argc == 2) {
		r = berth_nl_link_set_master(nl, argv[0], strcmp(argv[1], "-") ? argv[1] : NULL,
					     &e);
	} else if (strcmp(cmd, "rename") == 0 && (argc == 2 || argc == 3)) {
		uint8_t mac[6];
		if (argc == 3 && sscanf(argv[2], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
					&mac[2], &mac[3], &mac[4], &mac[5]) != 6)
			return usage();
		r = berth_nl_link_rename(nl, argv[0], argv[1], argc == 3 ? mac : NULL, &e);
	} else if (strcmp(cmd, "addr") == 0 && argc == 2) {
		struct berth_net_prefix p;
		char *slash = strchr(argv[1], '/');
		if (!slash)
			return usage();
		*slash = '\0';
		p.addr = addr_or_die(argv[1]);
		p.len = (uint8_t)strtoul(slash + 1, NULL, 10);
		r = berth_nl_addr_add(nl, argv[0], p.addr, p.len, &e);
	} else if (strcmp(cmd, "route") == 0 && argc == 1) {
		r = berth_nl_route_add_default(nl, addr_or_die(argv[0]), &e);
	} else {
		return usage();
	}
	return r < 0 ? fail(e) : 0;
}
