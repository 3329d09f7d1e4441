/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/net's pure parts: IPv4 and IPv6 prefixes, the address pools, the firewall's rendered program and
 * the DNS wire format.  The parts that talk to the kernel are tested in tests/system/test_net.py
 * inside network namespaces the test makes.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "tap.h"

static const char *msg(struct berth_error *e)
{
	return e && e->msg ? e->msg : "";
}

static uint32_t ip(const char *s)
{
	uint32_t a = 0;

	if (berth_net_addr_parse(s, &a) < 0)
		abort();
	return a;
}

static void test_prefix(void)
{
	struct berth_net_prefix p, q;
	struct berth_error *e = NULL;
	char buf[19];

	is(berth_net_prefix_parse("10.88.0.0/16", &p, &e), 0, "parse 10.88.0.0/16");
	is(p.addr, 0x0a580000, "  its address");
	is(p.len, 16, "  its length");
	berth_net_prefix_format(&p, buf);
	is_str(buf, "10.88.0.0/16", "format gives it back");

	is(berth_net_prefix_parse("10.88.0.1/16", &p, &e), -EINVAL, "host bits set: refused");
	is_str(msg(e), "invalid subnet 10.88.0.1/16 : it should be 10.88.0.0/16",
	       "  with docker's words and the fixed form");
	berth_error_free(e), e = NULL;

	const char *bad[] = {"",
			     "10.0.0.0",
			     "10.0.0.0/33",
			     "10.0.0/8",
			     "10.0.0.0/-1",
			     "10.0.0.0/8x",
			     "256.0.0.0/8",
			     "10.0.0.0//8",
			     "a.b.c.d/8",
			     "10.0.0.0/ 8",
			     "0x0a.0.0.0/8",
			     "10.0.0.0.0/8",
			     "10.0.0.0/080000000000000000000000000000000008",
			     "11.1.0.0/030",
			     "10.0.0.0/+8",
			     "10.0.0.0/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int r = berth_net_prefix_parse(bad[i], &p, &e);

		ok(r == -EINVAL && strstr(msg(e), bad[i]), "'%s' refused, naming it (%s)", bad[i],
		   msg(e));
		berth_error_free(e), e = NULL;
	}
	is(berth_net_prefix_parse(NULL, &p, &e), -EINVAL, "NULL refused");
	berth_error_free(e), e = NULL;

	is(berth_net_prefix_parse("0.0.0.0/0", &p, NULL), 0, "0.0.0.0/0 parses");
	ok(berth_net_prefix_contains(&p, ip("1.2.3.4")), "  and contains everything");

	berth_net_prefix_parse("10.88.0.0/16", &p, NULL);
	ok(berth_net_prefix_contains(&p, ip("10.88.255.255")), "10.88.255.255 in 10.88/16");
	ok(!berth_net_prefix_contains(&p, ip("10.89.0.0")), "10.89.0.0 not in 10.88/16");
	berth_net_prefix_parse("10.88.128.0/17", &q, NULL);
	ok(berth_net_prefix_overlaps(&p, &q) && berth_net_prefix_overlaps(&q, &p),
	   "10.88/16 and 10.88.128/17 overlap, both ways");
	berth_net_prefix_parse("10.89.0.0/16", &q, NULL);
	ok(!berth_net_prefix_overlaps(&p, &q), "10.88/16 and 10.89/16 do not");
	berth_net_addr_format(ip("192.168.1.254"), buf);
	is_str(buf, "192.168.1.254", "address format");
}

static void test_mac(void)
{
	uint8_t m[6] = {0}, keep[6] = {1, 2, 3, 4, 5, 6};
	static const uint8_t want[6] = {0x92, 0xd0, 0xc6, 0x0a, 0x29, 0x33};
	static const char *const good[] = {"92:d0:c6:0a:29:33", "92-D0-C6-0A-29-33",
					   "92d0.c60a.2933"};
	static const char *const bad[] = {"",
					  "zz",
					  "92:d0:c6:0a:29",
					  "92:d0:c6:0a:29:33:",
					  "92:d0:c6:0a:29:3g",
					  "92:d0-c6:0a:29:33",
					  "92:d0:c6:0a:29:33:44:55",
					  "2:d0:c6:0a:29:33",
					  "92d0c60a2933",
					  "92d0.c60a.2933.0000",
					  " 92:d0:c6:0a:29:33"};

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		memset(m, 0, sizeof(m));
		is(berth_net_mac_parse(good[i], m), 0, "mac %s parses", good[i]);
		ok(memcmp(m, want, 6) == 0, "  to its six bytes");
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		memcpy(m, keep, 6);
		is(berth_net_mac_parse(bad[i], m), -EINVAL, "mac '%s' refused", bad[i]);
		ok(memcmp(m, keep, 6) == 0, "  and nothing written");
	}
	is(berth_net_mac_parse(NULL, m), -EINVAL, "NULL refused");
}

static void test_ipam(void)
{
	struct berth_ipam_pool pool;
	struct berth_net_prefix s, r;
	struct berth_error *e = NULL;
	uint32_t a, b;

	berth_net_prefix_parse("10.1.0.0/29", &s, NULL);
	is(berth_ipam_pool_init(&pool, &s, NULL, 0, &e), 0, "pool over a /29");
	is(pool.gateway, ip("10.1.0.1"), "  gateway defaults to the first address");
	uint32_t got[8];
	size_t n = 0;
	while (berth_ipam_alloc(&pool, &got[n], NULL) == 0)
		n++;
	is(n, 5, "a /29 gives 5 addresses (8 - network, broadcast, gateway)");
	is(got[0], ip("10.1.0.2"), "  the first is .2");
	is(got[4], ip("10.1.0.6"), "  the last is .6");
	is(berth_ipam_alloc(&pool, &a, &e), -ENOSPC, "then the pool is exhausted");
	ok(strstr(msg(e), "10.1.0.0/29") != NULL, "  the message names the pool: %s", msg(e));
	berth_error_free(e), e = NULL;

	berth_ipam_free(&pool, ip("10.1.0.3"));
	ok(!berth_ipam_is_used(&pool, ip("10.1.0.3")), "freed .3 is free");
	is(berth_ipam_alloc(&pool, &a, NULL), 0, "  allocation finds it");
	is(a, ip("10.1.0.3"), "  and it is .3");
	berth_ipam_free(&pool, ip("10.1.0.1"));
	ok(berth_ipam_is_used(&pool, ip("10.1.0.1")), "the gateway cannot be freed");
	berth_ipam_free(&pool, ip("10.9.0.1"));
	ok(true, "freeing an address outside the subnet is ignored");
	berth_ipam_pool_release(&pool);

	/* round-robin: an address just released is not the next one given */
	berth_net_prefix_parse("10.2.0.0/24", &s, NULL);
	berth_ipam_pool_init(&pool, &s, NULL, 0, NULL);
	berth_ipam_alloc(&pool, &a, NULL);
	berth_ipam_free(&pool, a);
	berth_ipam_alloc(&pool, &b, NULL);
	ok(a != b, "a released address is not handed out again at once (%x then %x)", a, b);

	is(berth_ipam_claim(&pool, ip("10.2.0.50"), &e), 0, "claim .50");
	is(berth_ipam_claim(&pool, ip("10.2.0.50"), &e), -EEXIST, "claim .50 again: in use");
	is_str(msg(e), "Address already in use: 10.2.0.50", "  docker's words");
	berth_error_free(e), e = NULL;
	is(berth_ipam_claim(&pool, ip("10.3.0.5"), &e), -EINVAL, "claim outside the subnet");
	ok(strstr(msg(e), "10.3.0.5") && strstr(msg(e), "10.2.0.0/24"), "  names both: %s", msg(e));
	berth_error_free(e), e = NULL;
	is(berth_ipam_claim(&pool, ip("10.2.0.255"), &e), -EINVAL, "claim the broadcast address");
	berth_error_free(e), e = NULL;
	is(berth_ipam_claim(&pool, ip("10.2.0.1"), &e), -EEXIST, "claim the gateway: in use");
	berth_error_free(e), e = NULL;
	berth_ipam_pool_release(&pool);

	/* a range narrows automatic allocation only */
	berth_net_prefix_parse("10.4.0.0/16", &s, NULL);
	berth_net_prefix_parse("10.4.5.0/30", &r, NULL);
	is(berth_ipam_pool_init(&pool, &s, &r, ip("10.4.0.254"), &e), 0, "pool with a range");
	n = 0;
	while (berth_ipam_alloc(&pool, &a, NULL) == 0) {
		ok(berth_net_prefix_contains(&r, a), "  %x inside the range", a);
		if (n == 0)
			is(a, ip("10.4.5.0"),
			   "  the first is the range's first address, as dockerd's");
		n++;
	}
	is(n, 4, "  the /30 range gives its 4 addresses");
	is(berth_ipam_claim(&pool, ip("10.4.9.9"), NULL), 0,
	   "  --ip outside the range, in the subnet");
	berth_ipam_pool_release(&pool);

	/* refusals */
	berth_net_prefix_parse("10.5.0.0/24", &s, NULL);
	is(berth_ipam_pool_init(&pool, &s, NULL, ip("10.6.0.1"), &e), -EINVAL,
	   "gateway outside the subnet");
	ok(strstr(msg(e), "10.6.0.1") != NULL, "  names the gateway: %s", msg(e));
	berth_error_free(e), e = NULL;
	is(berth_ipam_pool_init(&pool, &s, NULL, ip("10.5.0.255"), &e), -EINVAL,
	   "gateway at the broadcast address");
	berth_error_free(e), e = NULL;
	berth_net_prefix_parse("10.7.0.0/24", &r, NULL);
	is(berth_ipam_pool_init(&pool, &s, &r, 0, &e), -EINVAL, "range outside the subnet");
	ok(strstr(msg(e), "10.7.0.0/24") != NULL, "  names the range: %s", msg(e));
	berth_error_free(e), e = NULL;
	berth_net_prefix_parse("10.0.0.0/31", &s, NULL);
	is(berth_ipam_pool_init(&pool, &s, NULL, 0, &e), -EINVAL, "a /31 is too small");
	berth_error_free(e), e = NULL;
	berth_net_prefix_parse("10.0.0.0/7", &s, NULL);
	is(berth_ipam_pool_init(&pool, &s, NULL, 0, &e), -EINVAL, "a /7 is too large");
	berth_error_free(e), e = NULL;
}

static void ip6(const char *s, uint8_t a[16])
{
	if (berth_net6_addr_parse(s, a) < 0)
		abort();
}

static void test_prefix6(void)
{
	struct berth_net6_prefix p, q;
	struct berth_error *e = NULL;
	char buf[BERTH_NET6_PREFIX_MAX];
	uint8_t a[16];

	is(berth_net6_prefix_parse("fd00:1:2::/64", &p, &e), 0, "parse fd00:1:2::/64");
	is(p.len, 64, "  length 64");
	berth_net6_prefix_format(&p, buf);
	is_str(buf, "fd00:1:2::/64", "  formats back");
	is(berth_net6_prefix_parse("FD00:0001:0002:0000::/64", &p, NULL), 0, "upper case, zeros");
	berth_net6_prefix_format(&p, buf);
	is_str(buf, "fd00:1:2::/64", "  canonical form (RFC 5952)");
	is(berth_net6_prefix_parse("fd00:1:2::1/64", &p, &e), -EINVAL, "host bits set: refused");
	is_str(msg(e), "invalid subnet fd00:1:2::1/64 : it should be fd00:1:2::/64",
	       "  docker's words");
	berth_error_free(e), e = NULL;
	static const char *const bad[] = {
		"fd00::",     "fd00::/129", "fd00::/-1",	   "fd00::/064", "fd00::/",
		"fd00:::/64", "10.0.0.0/8", "fd00::/6 4",	   "fd00::/64x", "g::/64",
		"/64",	      "",	    "1:2:3:4:5:6:7:8:9/64"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int r = berth_net6_prefix_parse(bad[i], &p, &e);
		is(r, -EINVAL, "'%s' refused", bad[i]);
		ok(strstr(msg(e), "invalid CIDR address") != NULL, "  invalid CIDR: %s", msg(e));
		berth_error_free(e), e = NULL;
	}
	is(berth_net6_prefix_parse(NULL, &p, &e), -EINVAL, "NULL refused");
	berth_error_free(e), e = NULL;
	is(berth_net6_addr_parse("10.0.0.1", a), -EINVAL, "an IPv4 address is not an IPv6 one");

	berth_net6_prefix_parse("fd00:1::/48", &p, NULL);
	ip6("fd00:1:0:ffff::5", a);
	ok(berth_net6_prefix_contains(&p, a), "fd00:1:0:ffff::5 in fd00:1::/48");
	ip6("fd00:2::5", a);
	ok(!berth_net6_prefix_contains(&p, a), "fd00:2::5 not in fd00:1::/48");
	berth_net6_prefix_parse("fd00:1:0:8000::/65", &q, NULL);
	ok(berth_net6_prefix_overlaps(&p, &q) && berth_net6_prefix_overlaps(&q, &p),
	   "a /65 inside a /48 overlaps it both ways");
	berth_net6_prefix_parse("fd00:2::/48", &q, NULL);
	ok(!berth_net6_prefix_overlaps(&p, &q), "fd00:1::/48 and fd00:2::/48 do not");
	is(berth_net6_prefix_parse("::/0", &q, NULL), 0, "::/0 parses");
	ok(berth_net6_prefix_overlaps(&p, &q), "  and overlaps everything");
}

static void test_ipam6(void)
{
	struct berth_ipam6_pool pool;
	struct berth_net6_prefix s, r;
	struct berth_error *e = NULL;
	uint8_t a[16], b[16], x[16];
	char buf[BERTH_NET6_ADDR_MAX];

	berth_net6_prefix_parse("fd00:9::/64", &s, NULL);
	is(berth_ipam6_pool_init(&pool, &s, NULL, NULL, &e), 0, "v6 pool over a /64");
	berth_net6_addr_format(pool.gateway, buf);
	is_str(buf, "fd00:9::1", "  gateway defaults to the first address");
	is(berth_ipam6_alloc(&pool, a, NULL), 0, "allocate");
	berth_net6_addr_format(a, buf);
	is_str(buf, "fd00:9::2", "  the first is ::2");
	is(berth_ipam6_alloc(&pool, b, NULL), 0, "allocate again");
	berth_net6_addr_format(b, buf);
	is_str(buf, "fd00:9::3", "  then ::3");
	berth_ipam6_free(&pool, a);
	ok(!berth_ipam6_is_used(&pool, a), "freed ::2 is free");
	is(berth_ipam6_alloc(&pool, x, NULL), 0, "allocate after a release");
	ok(memcmp(x, a, 16) != 0, "  a released address is not handed out again at once");
	ip6("fd00:9::50", x);
	is(berth_ipam6_claim(&pool, x, &e), 0, "claim ::50");
	is(berth_ipam6_claim(&pool, x, &e), -EEXIST, "claim ::50 again: in use");
	is_str(msg(e), "Address already in use: fd00:9::50", "  docker's words");
	berth_error_free(e), e = NULL;
	ip6("fd00:8::50", x);
	is(berth_ipam6_claim(&pool, x, &e), -EINVAL, "claim outside the subnet");
	ok(strstr(msg(e), "fd00:8::50") && strstr(msg(e), "fd00:9::/64"), "  names both: %s",
	   msg(e));
	berth_error_free(e), e = NULL;
	is(berth_ipam6_claim(&pool, pool.gateway, &e), -EEXIST, "claim the gateway: in use");
	berth_error_free(e), e = NULL;
	is(berth_ipam6_claim(&pool, s.addr, &e), -EINVAL, "claim the subnet-router address");
	berth_error_free(e), e = NULL;
	berth_ipam6_free(&pool, pool.gateway);
	ok(berth_ipam6_is_used(&pool, pool.gateway), "the gateway cannot be freed");
	berth_ipam6_pool_release(&pool);

	/* a small range: every address once, then ENOSPC naming it */
	berth_net6_prefix_parse("fd00:a::/64", &s, NULL);
	berth_net6_prefix_parse("fd00:a::10/126", &r, NULL);
	ip6("fd00:a::ff", x);
	is(berth_ipam6_pool_init(&pool, &s, &r, x, &e), 0, "v6 pool with a /126 range");
	size_t n = 0;
	bool inside = true;
	while (berth_ipam6_alloc(&pool, a, NULL) == 0) {
		inside = inside && berth_net6_prefix_contains(&r, a);
		if (n == 0) {
			berth_net6_addr_format(a, buf);
			is_str(buf, "fd00:a::10", "  the first is the range's first address");
		}
		n++;
	}
	is(n, 4, "  the /126 range gives its 4 addresses");
	ok(inside, "  all inside the range");
	is(berth_ipam6_alloc(&pool, a, &e), -ENOSPC, "then the range is exhausted");
	ok(strstr(msg(e), "fd00:a::10/126") != NULL, "  the message names it: %s", msg(e));
	berth_error_free(e), e = NULL;
	berth_ipam6_pool_release(&pool);

	/* refusals */
	berth_net6_prefix_parse("fd00:b::/64", &s, NULL);
	ip6("fd00:c::1", x);
	is(berth_ipam6_pool_init(&pool, &s, NULL, x, &e), -EINVAL, "gateway outside the subnet");
	ok(strstr(msg(e), "no matching subnet for gateway fd00:c::1") != NULL, "  %s", msg(e));
	berth_error_free(e), e = NULL;
	is(berth_ipam6_pool_init(&pool, &s, NULL, s.addr, &e), -EINVAL,
	   "gateway at the subnet's own address");
	berth_error_free(e), e = NULL;
	berth_net6_prefix_parse("fd00:d::/80", &r, NULL);
	is(berth_ipam6_pool_init(&pool, &s, &r, NULL, &e), -EINVAL, "range outside the subnet");
	berth_error_free(e), e = NULL;
	berth_net6_prefix_parse("fd00::/32", &s, NULL);
	is(berth_ipam6_pool_init(&pool, &s, NULL, NULL, &e), -EINVAL, "a /32 is too large");
	berth_error_free(e), e = NULL;
	berth_net6_prefix_parse("fd00::/127", &s, NULL);
	is(berth_ipam6_pool_init(&pool, &s, NULL, NULL, &e), -EINVAL, "a /127 is too small");
	berth_error_free(e), e = NULL;
}

static void test_firewall6(void)
{
	struct berth_fw_network nets[2] = {
		{.bridge = "br-v6", .masquerade = true, .icc = true, .has_v6 = true},
		{.bridge = "berth0", .masquerade = true, .icc = true},
	};
	struct berth_fw_port ports[2] = {
		{.proto = IPPROTO_TCP, .host_port = 8080, .container_port = 80, .bridge = "br-v6"},
		{.proto = IPPROTO_TCP,
		 .host_port = 8080,
		 .container_port = 80,
		 .bridge = "br-v6",
		 .v6 = true},
	};
	struct berth_fw_state st = {nets, 2, ports, 2};
	char *text = NULL;

	berth_net_prefix_parse("10.90.0.0/24", &nets[0].subnet, NULL);
	berth_net6_prefix_parse("fd00:5::/64", &nets[0].subnet6, NULL);
	berth_net_prefix_parse("10.91.0.0/24", &nets[1].subnet, NULL);
	ports[0].container_ip = ip("10.90.0.2");
	ip6("fd00:5::2", ports[1].container_ip6);
	is(berth_fw_render(&st, &text, NULL), 0, "render a dual-stack network");
	const char *t6 = text ? strstr(text, "table ip6 berth {") : NULL;
	ok(t6 != NULL, "  an ip6 table");
	ok(text && strstr(text, "add table ip6 berth\ndelete table ip6 berth\n"),
	   "  replaced in the same transaction");
	ok(t6 && strstr(t6, "tcp dport 8080 dnat to [fd00:5::2]:80\n"), "  the port's v6 DNAT");
	ok(t6 && strstr(t6, "ip6 saddr fd00:5::/64 oifname != \"br-v6\" masquerade"),
	   "  v6 masquerade");
	ok(t6 && strstr(t6, "iifname \"br-v6\" oifname \"berth0\" drop"),
	   "  isolated from the other bridge");
	ok(t6 && !strstr(t6, "10.90.0.2") && !strstr(t6, "10.91.0.0"), "  no IPv4 in it");
	ok(text && t6 && !memmem(text, (size_t)(t6 - text), "fd00:5", 6),
	   "  no IPv6 in the ip table");
	free(text);
	text = NULL;
	nets[0].has_v6 = false;
	st.n_ports = 1;
	st.remove_v6 = true;
	is(berth_fw_render(&st, &text, NULL), 0, "render without IPv6, the ip6 table maybe there");
	ok(text && !strstr(text, "table ip6 berth {") &&
		   strstr(text, "add table ip6 berth\ndelete table ip6 berth\n"),
	   "  a stale ip6 table is removed, none written");
	free(text);
	text = NULL;
	st.remove_v6 = false;
	is(berth_fw_render(&st, &text, NULL), 0, "render without IPv6, no ip6 table");
	ok(text && !strstr(text, "ip6"), "  the ip6 family is not touched");
	free(text);
}

static void test_firewall(void)
{
	struct berth_fw_network nets[2] = {
		{.bridge = "berth0", .masquerade = true, .icc = true},
		{.bridge = "br-app", .internal = true, .icc = false},
	};
	struct berth_fw_port ports[1] = {
		{.proto = IPPROTO_TCP,
		 .host_ip = 0,
		 .host_port = 8080,
		 .container_port = 80,
		 .bridge = "berth0"},
	};
	struct berth_fw_state st = {nets, 2, ports, 1};
	struct berth_error *e = NULL;
	char *text = NULL;

	berth_net_prefix_parse("10.88.0.0/16", &nets[0].subnet, NULL);
	berth_net_prefix_parse("10.89.0.0/16", &nets[1].subnet, NULL);
	ports[0].container_ip = ip("10.88.0.2");
	is(berth_fw_render(&st, &text, &e), 0, "render two networks and a port");
	ok(text && strncmp(text, "add table ip berth\ndelete table ip berth\ntable ip berth {",
			   52) == 0,
	   "one transaction replacing berth's table only");
	ok(text && strstr(text, "tcp dport 8080 dnat to 10.88.0.2:80\n"), "the port's DNAT");
	ok(text && strstr(text, "ip saddr 10.88.0.0/16 oifname != \"berth0\" masquerade"),
	   "the default bridge masquerades");
	ok(text && !strstr(text, "ip saddr 10.89.0.0/16 oifname != \"br-app\" masquerade"),
	   "the internal network does not");
	ok(text && strstr(text, "iifname \"br-app\" oifname != \"br-app\" drop"),
	   "the internal network reaches nothing");
	ok(text && strstr(text, "iifname \"br-app\" oifname \"br-app\" drop"), "icc off");
	ok(text && strstr(text, "iifname \"berth0\" oifname \"br-app\" drop") &&
		   strstr(text, "iifname \"br-app\" oifname \"berth0\" drop"),
	   "the two networks are isolated both ways");
	ok(text && !strstr(text, "flush ruleset") && !strstr(text, "table inet") &&
		   !strstr(text, "table ip filter") && !strstr(text, "table ip nat"),
	   "no other table is named");
	free(text), text = NULL;

	ports[0].host_ip = ip("127.0.0.1");
	ports[0].proto = IPPROTO_UDP;
	is(berth_fw_render(&st, &text, NULL), 0, "render a udp port on 127.0.0.1");
	ok(text && strstr(text, "ip daddr 127.0.0.1 udp dport 8080 dnat to 10.88.0.2:80\n"),
	   "  bound to the host address");
	free(text), text = NULL;

	const char *hostile[] = {"x\" ; flush ruleset ; \"", "",      "a b",
				 "waytoolongbridgename0",    "br\n0", NULL};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		nets[1].bridge = hostile[i];
		int r = berth_fw_render(&st, &text, &e);
		ok(r == -EINVAL && text == NULL && strstr(msg(e), "invalid bridge name"),
		   "bridge name '%s' refused (%s)", hostile[i] ? hostile[i] : "(null)", msg(e));
		berth_error_free(e), e = NULL;
	}
	nets[1].bridge = "br-app";
	ports[0].proto = 1; /* icmp */
	is(berth_fw_render(&st, &text, &e), -EINVAL, "a port with protocol icmp refused");
	berth_error_free(e), e = NULL;
	ports[0].proto = IPPROTO_TCP;
	ports[0].host_port = 0;
	is(berth_fw_render(&st, &text, &e), -EINVAL, "a port with host port 0 refused");
	berth_error_free(e), e = NULL;

	struct berth_fw_state empty = {0};
	is(berth_fw_render(&empty, &text, NULL), 0, "an empty state renders");
	ok(text && strstr(text, "chain publish {\n\t}"), "  with an empty publish chain");
	free(text);
}

/* "web" A? with id 0x1234, recursion desired */
static const uint8_t query_web[] = {0x12, 0x34, 0x01, 0x00, 0,	 1, 0, 0, 0, 0, 0,
				    0,	  3,	'W',  'e',  'B', 0, 0, 1, 0, 1};

static void test_dns(void)
{
	struct berth_dns_query q;
	uint8_t out[512], pkt[600];
	uint32_t addrs[2] = {ip("10.88.0.2"), ip("10.88.0.3")};
	ssize_t n;

	is(berth_dns_parse_query(query_web, sizeof(query_web), &q), 0, "parse a query");
	is_str(q.name, "web", "  name lowercased");
	is(q.id, 0x1234, "  id");
	is(q.qtype, BERTH_DNS_TYPE_A, "  type A");
	is(q.question_end, sizeof(query_web), "  question end");

	n = berth_dns_build_answer(&q, query_web, 0, addrs, 2, 600, out, sizeof(out));
	is(n, (ssize_t)sizeof(query_web) + 32, "answer with two A records");
	is(out[0] << 8 | out[1], 0x1234, "  same id");
	ok(out[2] & 0x80, "  QR set");
	ok(out[2] & 0x01, "  RD echoed");
	is(out[3] & 0xf, 0, "  rcode 0");
	is(out[6] << 8 | out[7], 2, "  ancount 2");
	ok(memcmp(out + 12, query_web + 12, sizeof(query_web) - 12) == 0, "  question echoed");
	const uint8_t *rr = out + sizeof(query_web);
	ok(rr[0] == 0xc0 && rr[1] == 12, "  name points at the question");
	ok(rr[12] == 10 && rr[13] == 88 && rr[14] == 0 && rr[15] == 2, "  first address");
	ok(rr[16 + 15] == 3, "  second address");
	ok(rr[6] == 0 && rr[7] == 0 && rr[8] == 0x02 && rr[9] == 0x58, "  ttl 600");

	n = berth_dns_build_answer(&q, query_web, BERTH_DNS_RCODE_NXDOMAIN, addrs, 2, 600, out,
				   sizeof(out));
	is(n, (ssize_t)sizeof(query_web), "NXDOMAIN has no answers");
	is(out[3] & 0xf, 3, "  rcode 3");
	is(berth_dns_build_answer(&q, query_web, 0, addrs, 2, 600, out, 30), -ENOSPC,
	   "a buffer too small: ENOSPC");

	uint8_t six[2][16];
	ip6("fd00:5::2", six[0]);
	ip6("fd00:5::3", six[1]);
	n = berth_dns_build_answer6(&q, query_web, 0, (const uint8_t(*)[16])six, 2, 600, out,
				    sizeof(out));
	is(n, (ssize_t)sizeof(query_web) + 2 * 28, "answer with two AAAA records");
	rr = out + sizeof(query_web);
	ok(rr[2] == 0 && rr[3] == BERTH_DNS_TYPE_AAAA, "  type AAAA");
	ok(rr[10] == 0 && rr[11] == 16, "  rdlength 16");
	ok(memcmp(rr + 12, six[0], 16) == 0 && memcmp(rr + 28 + 12, six[1], 16) == 0,
	   "  both addresses");
	n = berth_dns_build_answer6(&q, query_web, 0, NULL, 0, 600, out, sizeof(out));
	is(n, (ssize_t)sizeof(query_web), "no IPv6 address: an empty answer");

	/* hostile and malformed queries */
	memcpy(pkt, query_web, sizeof(query_web));
	is(berth_dns_parse_query(pkt, 11, &q), -EINVAL, "shorter than a header");
	is(berth_dns_parse_query(pkt, sizeof(query_web) - 1, &q), -EINVAL, "truncated question");
	is(berth_dns_parse_query(pkt, 16, &q), -EINVAL, "truncated label");
	pkt[2] |= 0x80;
	is(berth_dns_parse_query(pkt, sizeof(query_web), &q), -EINVAL, "a response, not a query");
	pkt[2] = 0x01 | (2 << 3);
	is(berth_dns_parse_query(pkt, sizeof(query_web), &q), -ENOTSUP, "opcode STATUS");
	memcpy(pkt, query_web, sizeof(query_web));
	pkt[5] = 2;
	is(berth_dns_parse_query(pkt, sizeof(query_web), &q), -EINVAL, "two questions");
	pkt[5] = 0;
	is(berth_dns_parse_query(pkt, sizeof(query_web), &q), -EINVAL, "no question");
	memcpy(pkt, query_web, sizeof(query_web));
	pkt[12] = 0xc0;
	is(berth_dns_parse_query(pkt, sizeof(query_web), &q), -EINVAL, "a compression pointer");
	memcpy(pkt, query_web, sizeof(query_web));
	pkt[13] = '.';
	is(berth_dns_parse_query(pkt, sizeof(query_web), &q), -EINVAL, "a dot inside a label");
	pkt[13] = 0;
	is(berth_dns_parse_query(pkt, sizeof(query_web), &q), -EINVAL, "a NUL inside a label");

	/* a name of 5 labels of 63: 319 characters, over 253 */
	size_t off = 12;
	memcpy(pkt, query_web, 12);
	for (int l = 0; l < 5; l++) {
		pkt[off++] = 63;
		memset(pkt + off, 'a', 63);
		off += 63;
	}
	pkt[off++] = 0;
	memcpy(pkt + off, "\0\1\0\1", 4);
	off += 4;
	is(berth_dns_parse_query(pkt, off, &q), -EINVAL, "a name over 253 characters");
	/* 3 labels of 63 + one of 61: 253 characters exactly */
	off = 12;
	for (int l = 0; l < 4; l++) {
		int len = l < 3 ? 63 : 61;
		pkt[off++] = (uint8_t)len;
		memset(pkt + off, 'b', (size_t)len);
		off += (size_t)len;
	}
	pkt[off++] = 0;
	memcpy(pkt + off, "\0\1\0\1", 4);
	off += 4;
	is(berth_dns_parse_query(pkt, off, &q), 0, "a name of exactly 253 characters parses");
	is(strlen(q.name), 253, "  all of it");
	pkt[12] = 64;
	is(berth_dns_parse_query(pkt, off, &q), -EINVAL, "a label of 64");
	is(berth_dns_parse_query(NULL, 0, &q), -EINVAL, "NULL");
}

int main(void)
{
	test_prefix();
	test_mac();
	test_ipam();
	test_prefix6();
	test_ipam6();
	test_firewall6();
	test_firewall();
	test_dns();
	return done_testing();
}
