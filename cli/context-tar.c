/* SPDX-License-Identifier: Apache-2.0 */
/* docker's context archive: written as Go's archive/tar writes it, read as docker reads it. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "context-tar.h"
#include "base/base.h"
#include "base/banned.h"

#define TAR_BLOCK 512

/* One USTAR header: octal fields, mtime 0, uid and gid 0, no user or group names. */
static void tar_header(struct sbuf *out, const char *name, char type, unsigned mode, size_t size)
{
	unsigned char h[TAR_BLOCK] = {0};
	unsigned sum = 0;
	char field[16];

	memcpy(h, name, strlen(name));
	snprintf(field, sizeof(field), "%07o", mode);
	memcpy(h + 100, field, 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	snprintf(field, sizeof(field), "%011zo", size);
	memcpy(h + 124, field, 12);
	memcpy(h + 136, "00000000000", 12);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6); /* the magic "ustar\0", then the version "00" */
	memcpy(h + 263, "00", 2);
	memcpy(h + 329, "0000000", 8);
	memcpy(h + 337, "0000000", 8);
	memset(h + 148, ' ', 8);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	snprintf(field, sizeof(field), "%06o", sum);
	memcpy(h + 148, field, 7); /* six digits and a NUL; the space after them stays */
	sbuf_add(out, h, sizeof(h));
}

void context_tar_write(struct sbuf *out, const char *meta, size_t len)
{
	tar_header(out, "meta.json", '0', 0644, len);
	sbuf_add(out, meta, len);
	sbuf_addn(out, '\0', (TAR_BLOCK - len % TAR_BLOCK) % TAR_BLOCK);
	tar_header(out, "tls", '5', 0700, 0);
}

/* an octal field, ended by NUL or space */
static size_t tar_octal(const unsigned char *f, size_t n)
{
	size_t v = 0;

	for (size_t i = 0; i < n && f[i] >= '0' && f[i] <= '7' && v < ((size_t)1 << 40); i++)
		v = v * 8 + (size_t)(f[i] - '0');
	return v;
}

int context_tar_meta(const void *data, size_t len, json_t **ret, char **ret_err)
{
	const unsigned char *p = data;
	size_t off = 0;

	while (off + TAR_BLOCK <= len) {
		const unsigned char *h = p + off;
		unsigned sum = 0;
		bool zero = true;
		for (size_t i = 0; i < TAR_BLOCK; i++) {
			sum += (i >= 148 && i < 156) ? ' ' : h[i];
			zero = zero && !h[i];
		}
		if (zero)
			break; /* the end blocks */
		if (sum != tar_octal(h + 148, 8)) {
			*ret_err = xstrdup("archive/tar: invalid tar header");
			return -1;
		}
		size_t size = tar_octal(h + 124, 12);
		char name[101] = {0};
		memcpy(name, h, 100);
		off += TAR_BLOCK;
		if (size > len - off) {
			*ret_err = xstrdup("unexpected EOF");
			return -1;
		}
		if (strcmp(name, "meta.json") == 0 && (h[156] == '0' || h[156] == '\0')) {
			_cleanup_error_ struct berth_error *e = NULL;
			json_t *j = NULL;
			if (berth_json_parse((const char *)p + off, size, &j, &e) < 0 ||
			    !json_is_object(j)) {
				json_decref(j);
				*ret_err = xasprintf("invalid context: meta.json: %s",
						     e && e->msg ? e->msg : "not an object");
				return -1;
			}
			*ret = j;
			return 0;
		}
		if (berth_str_has_prefix(name, "tls/") && h[156] != '5') {
			*ret_err =
				xasprintf("invalid context: %s: berth contexts take no TLS "
					  "material (berth reaches berthd over unix sockets only)",
					  name);
			return -1;
		}
		off += (size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
	}
	if (off < len && len - off < TAR_BLOCK) {
		*ret_err = xstrdup("unexpected EOF");
		return -1;
	}
	*ret_err = xstrdup("invalid context: no metadata found");
	return -1;
}
