/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DNS wire format (RFC 1035) for the one thing berthd's name server does: answer a single
 * A question for a container name.  The parser is strict: a query arrives from a container,
 * whose root is an attacker.
 */
#include <errno.h>
#include <string.h>

#include "net/net.h"
#include "base/banned.h"

#define HEADER_LEN 12
#define FLAG_QR	   0x8000
#define FLAG_AA	   0x0400
#define FLAG_RD	   0x0100
#define FLAG_RA	   0x0080
#define OPCODE(f)  (((f) >> 11) & 0xf)

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

int berth_dns_parse_query(const uint8_t *pkt, size_t len, struct berth_dns_query *ret)
{
	size_t off = HEADER_LEN, out = 0;

	if (!pkt || len < HEADER_LEN)
		return -EINVAL;
	ret->id = get16(pkt);
	ret->flags = get16(pkt + 2);
	if (ret->flags & FLAG_QR)
		return -EINVAL;
	if (get16(pkt + 4) != 1 || get16(pkt + 6) != 0 || get16(pkt + 8) != 0)
		return -EINVAL; /* exactly one question, no answers or authorities in a query */
	if (OPCODE(ret->flags) != 0)
		return -ENOTSUP;
	for (;;) {
		uint8_t l;

		if (off >= len)
			return -EINVAL;
		l = pkt[off++];
		if (l == 0)
			break;
		if (l > 63 || off + l > len)
			return -EINVAL; /* 0xc0 (a pointer) lands here too: never in a query's name */
		/* 255 octets on the wire are 253 characters dotted */
		if (out + (out ? 1 : 0) + l > BERTH_DNS_MAX_NAME - 2)
			return -EINVAL;
		if (out)
			ret->name[out++] = '.';
		for (uint8_t i = 0; i < l; i++) {
			uint8_t c = pkt[off + i];

			if (c == '.' || c == '\0')
				return -EINVAL;
			ret->name[out++] = (char)((c >= 'A' && c <= 'Z') ? c + 32 : c);
		}
		off += l;
	}
	ret->name[out] = '\0';
	if (off + 4 > len)
		return -EINVAL;
	ret->qtype = get16(pkt + off);
	ret->qclass = get16(pkt + off + 2);
	ret->question_end = off + 4;
	return 0;
}

/* The answer with n records of type with rdlen bytes each at rdata (rdlen apart). */
static ssize_t build(const struct berth_dns_query *q, const uint8_t *pkt, int rcode, uint16_t type,
		     const uint8_t *rdata, uint16_t rdlen, size_t n_addrs, uint32_t ttl,
		     uint8_t *buf, size_t size)
{
	size_t qlen = q->question_end - HEADER_LEN, off;
	uint16_t flags;

	if (n_addrs > BERTH_DNS_MAX_ANSWERS)
		n_addrs = BERTH_DNS_MAX_ANSWERS;
	if (rcode != BERTH_DNS_RCODE_OK)
		n_addrs = 0;
	if (HEADER_LEN + qlen + n_addrs * (12u + rdlen) > size)
		return -ENOSPC;
	flags = FLAG_QR | FLAG_AA | FLAG_RA | (q->flags & FLAG_RD) | (uint16_t)(rcode & 0xf);
	put16(buf, q->id);
	put16(buf + 2, flags);
	put16(buf + 4, 1);
	put16(buf + 6, (uint16_t)n_addrs);
	put16(buf + 8, 0);
	put16(buf + 10, 0);
	memcpy(buf + HEADER_LEN, pkt + HEADER_LEN, qlen);
	off = HEADER_LEN + qlen;
	for (size_t i = 0; i < n_addrs; i++) {
		put16(buf + off, 0xc000 | HEADER_LEN); /* the name: a pointer to the question's */
		put16(buf + off + 2, type);
		put16(buf + off + 4, BERTH_DNS_CLASS_IN);
		put32(buf + off + 6, ttl);
		put16(buf + off + 10, rdlen);
		memcpy(buf + off + 12, rdata + i * rdlen, rdlen);
		off += 12u + rdlen;
	}
	return (ssize_t)off;
}

ssize_t berth_dns_build_answer(const struct berth_dns_query *q, const uint8_t *pkt, int rcode,
			       const uint32_t *addrs, size_t n_addrs, uint32_t ttl, uint8_t *buf,
			       size_t size)
{
	uint8_t rdata[BERTH_DNS_MAX_ANSWERS * 4];

	if (n_addrs > BERTH_DNS_MAX_ANSWERS)
		n_addrs = BERTH_DNS_MAX_ANSWERS;
	for (size_t i = 0; i < n_addrs; i++)
		put32(rdata + 4 * i, addrs[i]);
	return build(q, pkt, rcode, BERTH_DNS_TYPE_A, rdata, 4, n_addrs, ttl, buf, size);
}

ssize_t berth_dns_build_answer6(const struct berth_dns_query *q, const uint8_t *pkt, int rcode,
				const uint8_t (*addrs)[16], size_t n_addrs, uint32_t ttl,
				uint8_t *buf, size_t size)
{
	if (n_addrs > BERTH_DNS_MAX_ANSWERS)
		n_addrs = BERTH_DNS_MAX_ANSWERS;
	return build(q, pkt, rcode, BERTH_DNS_TYPE_AAAA, n_addrs ? addrs[0] : NULL, 16, n_addrs,
		     ttl, buf, size);
}
