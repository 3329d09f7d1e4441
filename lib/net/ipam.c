/* SPDX-License-Identifier: Apache-2.0 */
/* One address pool per network: a bitmap over the subnet, round-robin allocation in the range. */
#include <errno.h>
#include <stdlib.h>

#include "net/net.h"
#include "base/banned.h"

static uint64_t pool_size(const struct berth_ipam_pool *pool)
{
	return (uint64_t)1 << (32 - pool->subnet.len);
}

static bool bit_get(const struct berth_ipam_pool *pool, uint32_t addr)
{
	uint64_t i = addr - pool->subnet.addr;

	return pool->used[i / 64] & ((uint64_t)1 << (i % 64));
}

static void bit_set(struct berth_ipam_pool *pool, uint32_t addr, bool on)
{
	uint64_t i = addr - pool->subnet.addr;

	if (on)
		pool->used[i / 64] |= (uint64_t)1 << (i % 64);
	else
		pool->used[i / 64] &= ~((uint64_t)1 << (i % 64));
}

static uint32_t broadcast(const struct berth_net_prefix *p)
{
	return p->addr | ~berth_net_prefix_mask(p->len);
}

int berth_ipam_pool_init(struct berth_ipam_pool *pool, const struct berth_net_prefix *subnet,
			 const struct berth_net_prefix *range, uint32_t gateway,
			 struct berth_error **err)
{
	char s[19], g[16];

	*pool = (struct berth_ipam_pool){.subnet = *subnet};
	berth_net_prefix_format(subnet, s);
	/* /8 is the largest pool docker's users make; it is a 2 MiB bitmap */
	if (subnet->len < 8 || subnet->len > 30)
		return berth_error_set(
			err, EINVAL,
			"invalid subnet %s: the prefix length must be between 8 and 30", s);
	if (gateway == 0)
		gateway = subnet->addr + 1;
	berth_net_addr_format(gateway, g);
	if (!berth_net_prefix_contains(subnet, gateway) || gateway == subnet->addr ||
	    gateway == broadcast(subnet))
		return berth_error_set(err, EINVAL, "no matching subnet for gateway %s in %s", g,
				       s);
	if (range) {
		char r[19];

		berth_net_prefix_format(range, r);
		if (range->len < subnet->len || !berth_net_prefix_contains(subnet, range->addr))
			return berth_error_set(err, EINVAL,
					       "invalid ip-range %s: it must be inside subnet %s",
					       r, s);
	}
	pool->range = range ? *range : *subnet;
	pool->gateway = gateway;
	pool->used = calloc((pool_size(pool) + 63) / 64, sizeof(uint64_t));
	if (!pool->used)
		return berth_error_set(err, ENOMEM, "ipam %s: out of memory", s);
	/* as if the range's last address had just been given: allocation starts at its first,
	 * which dockerd hands out too (10.0.0.128 of --ip-range 10.0.0.128/25); a range that is
	 * the subnet starts at the network address, reserved below */
	pool->last = pool->range.addr + (uint32_t)(((uint64_t)1 << (32 - pool->range.len)) - 1);
	bit_set(pool, subnet->addr, true);
	bit_set(pool, broadcast(subnet), true);
	bit_set(pool, gateway, true);
	return 0;
}

void berth_ipam_pool_release(struct berth_ipam_pool *pool)
{
	free(pool->used);
	pool->used = NULL;
}

bool berth_ipam_is_used(const struct berth_ipam_pool *pool, uint32_t addr)
{
	return berth_net_prefix_contains(&pool->subnet, addr) && bit_get(pool, addr);
}

int berth_ipam_alloc(struct berth_ipam_pool *pool, uint32_t *ret, struct berth_error **err)
{
	uint64_t n = (uint64_t)1 << (32 - pool->range.len);
	uint64_t start = pool->last - pool->range.addr;

	for (uint64_t k = 1; k <= n; k++) {
		uint32_t a = pool->range.addr + (uint32_t)((start + k) % n);

		if (!bit_get(pool, a)) {
			bit_set(pool, a, true);
			pool->last = a;
			*ret = a;
			return 0;
		}
	}
	char s[19];

	berth_net_prefix_format(&pool->range, s);
	return berth_error_set(err, ENOSPC,
			       "no available IPv4 addresses on this network's address "
			       "pools: %s",
			       s);
}

int berth_ipam_claim(struct berth_ipam_pool *pool, uint32_t addr, struct berth_error **err)
{
	char a[16], s[19];

	berth_net_addr_format(addr, a);
	berth_net_prefix_format(&pool->subnet, s);
	if (!berth_net_prefix_contains(&pool->subnet, addr))
		return berth_error_set(err, EINVAL,
				       "no available IPv4 address %s: not in subnet %s", a, s);
	if (addr == pool->subnet.addr || addr == broadcast(&pool->subnet))
		return berth_error_set(err, EINVAL, "invalid address %s: reserved in subnet %s", a,
				       s);
	if (bit_get(pool, addr))
		return berth_error_set(err, EEXIST, "Address already in use: %s", a);
	bit_set(pool, addr, true);
	return 0;
}

void berth_ipam_free(struct berth_ipam_pool *pool, uint32_t addr)
{
	if (!berth_net_prefix_contains(&pool->subnet, addr) || addr == pool->gateway ||
	    addr == pool->subnet.addr || addr == broadcast(&pool->subnet))
		return;
	bit_set(pool, addr, false);
}
