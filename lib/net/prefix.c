/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4 addresses and prefixes as docker's users write them. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/net.h"
#include "base/banned.h"

int berth_net_addr_parse(const char *s, uint32_t *ret)
{
	struct in_addr a;

	/* inet_pton takes exactly four decimal parts, no leading zeros tricks, no trailing bytes */
	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ret = ntohl(a.s_addr);
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int berth_net_mac_parse(const char *s, uint8_t ret[6])
{
	uint8_t mac[6];

	if (!s)
		return -EINVAL;
	if (strlen(s) == 17 && (s[2] == ':' || s[2] == '-')) {
		for (int i = 0; i < 6; i++) {
			const char *p = s + 3 * i;
			int hi = hexval(p[0]), lo = hexval(p[1]);
			if (hi < 0 || lo < 0 || (i < 5 && p[2] != s[2]))
				return -EINVAL;
			mac[i] = (uint8_t)(hi << 4 | lo);
		}
	} else if (strlen(s) == 14 && s[4] == '.' && s[9] == '.') {
		for (int i = 0; i < 6; i++) {
			const char *p = s + 5 * (i / 2) + 2 * (i % 2);
			int hi = hexval(p[0]), lo = hexval(p[1]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			mac[i] = (uint8_t)(hi << 4 | lo);
		}
	} else {
		return -EINVAL;
	}
	memcpy(ret, mac, sizeof(mac));
	return 0;
}

void berth_net_addr_format(uint32_t addr, char buf[static 16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
}

void berth_net_prefix_format(const struct berth_net_prefix *p, char buf[static 19])
{
	uint32_t a = p->addr;

	snprintf(buf, 19, "%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff,
		 p->len & 63u);
}

int berth_net_prefix_parse(const char *s, struct berth_net_prefix *ret, struct berth_error **err)
{
	char addr[16];
	const char *slash = s ? strchr(s, '/') : NULL;
	int64_t len;
	uint32_t a;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return berth_error_set(err, EINVAL, "invalid CIDR address: %s", s ? s : "");
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	/* one or two digits, no sign, no leading zero: the text formats back to itself */
	if (berth_net_addr_parse(addr, &a) < 0 ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
	    (slash[1] == '0' && slash[2] != '\0') || berth_parse_int64(slash + 1, 0, 32, &len) < 0)
		return berth_error_set(err, EINVAL, "invalid CIDR address: %s", s);
	if ((a & ~berth_net_prefix_mask((uint8_t)len)) != 0) {
		char want[19];
		struct berth_net_prefix p = {a & berth_net_prefix_mask((uint8_t)len), (uint8_t)len};

		berth_net_prefix_format(&p, want);
		return berth_error_set(err, EINVAL, "invalid subnet %s : it should be %s", s, want);
	}
	ret->addr = a;
	ret->len = (uint8_t)len;
	return 0;
}

bool berth_net_prefix_contains(const struct berth_net_prefix *p, uint32_t addr)
{
	return (addr & berth_net_prefix_mask(p->len)) == p->addr;
}

bool berth_net_prefix_overlaps(const struct berth_net_prefix *a, const struct berth_net_prefix *b)
{
	uint8_t len = a->len < b->len ? a->len : b->len;
	uint32_t m = berth_net_prefix_mask(len);

	return (a->addr & m) == (b->addr & m);
}
