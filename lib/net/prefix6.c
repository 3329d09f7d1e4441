/* SPDX-License-Identifier: Apache-2.0 */
/* IPv6 addresses and prefixes, and the address pool of a network's IPv6 subnet. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "base/banned.h"

int berth_net6_addr_parse(const char *s, uint8_t ret[16])
{
	struct in6_addr a;

	if (!s || !strchr(s, ':') || inet_pton(AF_INET6, s, &a) != 1)
		return -EINVAL;
	memcpy(ret, a.s6_addr, 16);
	return 0;
}

void berth_net6_addr_format(const uint8_t a[16], char buf[static BERTH_NET6_ADDR_MAX])
{
	if (!inet_ntop(AF_INET6, a, buf, BERTH_NET6_ADDR_MAX))
		snprintf(buf, BERTH_NET6_ADDR_MAX, "::");
}

void berth_net6_prefix_format(const struct berth_net6_prefix *p,
			      char buf[static BERTH_NET6_PREFIX_MAX])
{
	char a[BERTH_NET6_ADDR_MAX];

	berth_net6_addr_format(p->addr, a);
	snprintf(buf, BERTH_NET6_PREFIX_MAX, "%s/%u", a, p->len & 255u);
}

static void mask6(uint8_t a[16], uint8_t len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = len > 8 * i ? len - 8 * i : 0;

		if (bits < 8)
			a[i] &= (uint8_t)(0xff00u >> bits);
	}
}

int berth_net6_prefix_parse(const char *s, struct berth_net6_prefix *ret, struct berth_error **err)
{
	char addr[BERTH_NET6_ADDR_MAX];
	const char *slash = s ? strchr(s, '/') : NULL;
	uint8_t a[16], m[16];
	int64_t len;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return berth_error_set(err, EINVAL, "invalid CIDR address: %s", s ? s : "");
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (berth_net6_addr_parse(addr, a) < 0 || slash[1] == '\0' ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
	    (slash[1] == '0' && slash[2] != '\0') || berth_parse_int64(slash + 1, 0, 128, &len) < 0)
		return berth_error_set(err, EINVAL, "invalid CIDR address: %s", s);
	memcpy(m, a, 16);
	mask6(m, (uint8_t)len);
	if (memcmp(m, a, 16) != 0) {
		char want[BERTH_NET6_PREFIX_MAX];
		struct berth_net6_prefix p = {.len = (uint8_t)len};

		memcpy(p.addr, m, 16);
		berth_net6_prefix_format(&p, want);
		return berth_error_set(err, EINVAL, "invalid subnet %s : it should be %s", s, want);
	}
	memcpy(ret->addr, a, 16);
	ret->len = (uint8_t)len;
	return 0;
}

bool berth_net6_prefix_contains(const struct berth_net6_prefix *p, const uint8_t a[16])
{
	uint8_t m[16];

	memcpy(m, a, 16);
	mask6(m, p->len);
	return memcmp(m, p->addr, 16) == 0;
}

bool berth_net6_prefix_overlaps(const struct berth_net6_prefix *a,
				const struct berth_net6_prefix *b)
{
	return a->len <= b->len ? berth_net6_prefix_contains(a, b->addr)
				: berth_net6_prefix_contains(b, a->addr);
}

/* ---- the pool ---------------------------------------------------------------------------- */

static uint64_t low64(const uint8_t a[16])
{
	uint64_t v = 0;

	for (int i = 8; i < 16; i++)
		v = v << 8 | a[i];
	return v;
}

static void set_low64(uint8_t a[16], uint64_t v)
{
	for (int i = 15; i >= 8; i--) {
		a[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* How many addresses allocation goes round: the range, at most 2^64 - 1 of them. */
static uint64_t range_count(const struct berth_ipam6_pool *pool)
{
	return pool->range.len > 64 ? (uint64_t)1 << (128 - pool->range.len) : UINT64_MAX;
}

static ssize_t used_index(const struct berth_ipam6_pool *pool, const uint8_t a[16])
{
	for (size_t i = 0; i < pool->n_used; i++)
		if (memcmp(pool->used[i], a, 16) == 0)
			return (ssize_t)i;
	return -1;
}

static int used_add(struct berth_ipam6_pool *pool, const uint8_t a[16])
{
	if (pool->n_used == pool->cap) {
		size_t cap = pool->cap ? 2 * pool->cap : 16;
		uint8_t(*v)[16] = realloc(pool->used, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pool->used = v;
		pool->cap = cap;
	}
	memcpy(pool->used[pool->n_used++], a, 16);
	return 0;
}

int berth_ipam6_pool_init(struct berth_ipam6_pool *pool, const struct berth_net6_prefix *subnet,
			  const struct berth_net6_prefix *range, const uint8_t *gateway,
			  struct berth_error **err)
{
	char s[BERTH_NET6_PREFIX_MAX], g[BERTH_NET6_ADDR_MAX];

	*pool = (struct berth_ipam6_pool){.subnet = *subnet};
	berth_net6_prefix_format(subnet, s);
	if (subnet->len < 48 || subnet->len > 126)
		return berth_error_set(
			err, EINVAL,
			"invalid subnet %s: the prefix length must be between 48 and 126", s);
	if (gateway) {
		memcpy(pool->gateway, gateway, 16);
	} else {
		memcpy(pool->gateway, subnet->addr, 16);
		set_low64(pool->gateway, low64(subnet->addr) + 1);
	}
	berth_net6_addr_format(pool->gateway, g);
	if (!berth_net6_prefix_contains(subnet, pool->gateway) ||
	    memcmp(pool->gateway, subnet->addr, 16) == 0)
		return berth_error_set(err, EINVAL, "no matching subnet for gateway %s in %s", g,
				       s);
	if (range) {
		char r[BERTH_NET6_PREFIX_MAX];

		berth_net6_prefix_format(range, r);
		if (range->len < subnet->len || !berth_net6_prefix_contains(subnet, range->addr))
			return berth_error_set(err, EINVAL,
					       "invalid ip-range %s: it must be inside subnet %s",
					       r, s);
	}
	pool->range = range ? *range : *subnet;
	/* the first address tried is the range's own (the subnet's is taken just below) */
	pool->last = range_count(pool) - 1;
	/* the subnet-router anycast address and the gateway are never handed out */
	if (used_add(pool, subnet->addr) < 0 || used_add(pool, pool->gateway) < 0) {
		berth_ipam6_pool_release(pool);
		return berth_error_set(err, ENOMEM, "ipam %s: out of memory", s);
	}
	return 0;
}

void berth_ipam6_pool_release(struct berth_ipam6_pool *pool)
{
	free(pool->used);
	pool->used = NULL;
	pool->n_used = pool->cap = 0;
}

bool berth_ipam6_is_used(const struct berth_ipam6_pool *pool, const uint8_t a[16])
{
	return used_index(pool, a) >= 0;
}

int berth_ipam6_alloc(struct berth_ipam6_pool *pool, uint8_t ret[16], struct berth_error **err)
{
	uint64_t n = range_count(pool);
	/* at most n_used addresses are taken: among n_used + 1 candidates one is free */
	uint64_t tries = pool->n_used + 1 < n ? pool->n_used + 1 : n;

	for (uint64_t k = 1; k <= tries; k++) {
		/* (last + k) mod n without overflowing 64 bits (n may be 2^64 - 1) */
		uint64_t off = k <= n - 1 - pool->last ? pool->last + k : k - (n - pool->last);
		uint8_t a[16];

		memcpy(a, pool->range.addr, 16);
		set_low64(a, low64(a) + off);
		if (used_index(pool, a) >= 0)
			continue;
		if (used_add(pool, a) < 0)
			return berth_error_set(err, ENOMEM, "ipam: out of memory");
		pool->last = off;
		memcpy(ret, a, 16);
		return 0;
	}
	char s[BERTH_NET6_PREFIX_MAX];

	berth_net6_prefix_format(&pool->range, s);
	return berth_error_set(
		err, ENOSPC, "no available IPv6 addresses on this network's address pools: %s", s);
}

int berth_ipam6_claim(struct berth_ipam6_pool *pool, const uint8_t addr[16],
		      struct berth_error **err)
{
	char a[BERTH_NET6_ADDR_MAX], s[BERTH_NET6_PREFIX_MAX];

	berth_net6_addr_format(addr, a);
	berth_net6_prefix_format(&pool->subnet, s);
	if (!berth_net6_prefix_contains(&pool->subnet, addr))
		return berth_error_set(err, EINVAL,
				       "no available IPv6 address %s: not in subnet %s", a, s);
	if (memcmp(addr, pool->subnet.addr, 16) == 0)
		return berth_error_set(err, EINVAL, "invalid address %s: reserved in subnet %s", a,
				       s);
	if (used_index(pool, addr) >= 0)
		return berth_error_set(err, EEXIST, "Address already in use: %s", a);
	if (used_add(pool, addr) < 0)
		return berth_error_set(err, ENOMEM, "ipam: out of memory");
	return 0;
}

void berth_ipam6_free(struct berth_ipam6_pool *pool, const uint8_t addr[16])
{
	ssize_t i = used_index(pool, addr);

	if (i < 0 || memcmp(addr, pool->gateway, 16) == 0 ||
	    memcmp(addr, pool->subnet.addr, 16) == 0)
		return;
	memmove(pool->used[i], pool->used[i + 1], (pool->n_used - (size_t)i - 1) * 16);
	pool->n_used--;
}
