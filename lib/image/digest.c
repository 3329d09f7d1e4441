/* SPDX-License-Identifier: Apache-2.0 */
/* sha256 (OpenSSL's), digest strings as go-digest checks them, OCI chain ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * OpenSSL's own SHA256_* functions rather than EVP: the same code (SHA-NI or AVX2 where the CPU
 * has them, 1.2 GB/s here either way), but EVP's first digest initialises the provider machinery,
 * which left about 1.8 MiB more of libcrypto resident in berthd for the rest of its life
 * (bench/memory.sh).  OpenSSL 3 marks them deprecated, not removed.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "image-internal.h"

#include "base/banned.h"

int img_sha256_init(struct img_sha256 *h)
{
	SHA256_CTX *c = malloc(sizeof(*c));

	h->ctx = NULL;
	if (!c)
		return -ENOMEM;
	if (SHA256_Init(c) != 1) {
		free(c);
		return -EIO;
	}
	h->ctx = c;
	return 0;
}

void img_sha256_update(struct img_sha256 *h, const void *data, size_t len)
{
	if (len)
		SHA256_Update(h->ctx, data, len);
}

void img_sha256_final(struct img_sha256 *h, char out[BERTH_DIGEST_SIZE])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256_Final(md, h->ctx);
	memcpy(out, "sha256:", 7);
	berth_hex_encode(out + 7, md, 32);
}

void img_sha256_release(struct img_sha256 *h)
{
	free(h->ctx);
	h->ctx = NULL;
}

void berth_sha256_digest(const void *data, size_t len, char out[BERTH_DIGEST_SIZE])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;

	/* not SHA256(): in OpenSSL 3 that one goes through EVP (EVP_Q_digest) */
	SHA256_Init(&c);
	SHA256_Update(&c, data, len);
	SHA256_Final(md, &c);
	memcpy(out, "sha256:", 7);
	berth_hex_encode(out + 7, md, 32);
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool berth_digest_is_sha256(const char *s)
{
	return s && strncmp(s, "sha256:", 7) == 0 && strlen(s) == 71 && is_lower_hex(s + 7, 64);
}

bool img_is_hex64(const char *s)
{
	return s && strlen(s) == 64 && is_lower_hex(s, 64);
}

/* go-digest's DigestRegexp: [a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+ */
static bool digest_shape(const char *s)
{
	const char *colon = strchr(s, ':');
	bool need_alnum = true;

	if (!colon || colon == s || !colon[1])
		return false;
	for (const char *p = s; p < colon; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9');
		if (alnum) {
			need_alnum = false;
		} else if (strchr(".+_-", *p) && !need_alnum) {
			need_alnum = true;
		} else {
			return false;
		}
	}
	if (need_alnum)
		return false;
	for (const char *p = colon + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("=_-", *p)))
			return false;
	return true;
}

int berth_digest_validate(const char *d, struct berth_error **err)
{
	static const struct {
		const char *name;
		size_t hexlen;
	} algs[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
	const char *colon;

	if (!d)
		return berth_error_set(err, EINVAL, "invalid checksum digest format");
	colon = strchr(d, ':');
	if (!colon || colon == d || !colon[1])
		return berth_error_set(err, EINVAL, "invalid checksum digest format");
	for (size_t i = 0; i < ARRAY_SIZE(algs); i++) {
		size_t n = strlen(algs[i].name);
		if ((size_t)(colon - d) != n || strncmp(d, algs[i].name, n) != 0)
			continue;
		if (strlen(colon + 1) != algs[i].hexlen)
			return berth_error_set(err, EINVAL, "invalid checksum digest length");
		if (!is_lower_hex(colon + 1, algs[i].hexlen))
			return berth_error_set(err, EINVAL, "invalid checksum digest format");
		return 0;
	}
	if (!digest_shape(d))
		return berth_error_set(err, EINVAL, "invalid checksum digest format");
	return berth_error_set(err, EINVAL, "unsupported digest algorithm");
}

int berth_chain_ids(char *const *diff_ids, size_t n, char ***ret, struct berth_error **err)
{
	_cleanup_strv_ char **v = calloc(n + 1, sizeof(char *));
	char prev[BERTH_DIGEST_SIZE] = "";

	if (!v)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char cur[BERTH_DIGEST_SIZE];

		if (!berth_digest_is_sha256(diff_ids[i]))
			return berth_error_set(err, EINVAL, "diff id '%s' is not a sha256 digest",
					       diff_ids[i] ? diff_ids[i] : "(null)");
		if (i == 0) {
			memcpy(cur, diff_ids[0], BERTH_DIGEST_SIZE);
		} else {
			char buf[2 * BERTH_DIGEST_SIZE];
			int len = snprintf(buf, sizeof(buf), "%s %s", prev, diff_ids[i]);
			berth_sha256_digest(buf, (size_t)len, cur);
		}
		v[i] = strdup(cur);
		if (!v[i])
			return berth_error_set(err, ENOMEM, "out of memory");
		memcpy(prev, cur, BERTH_DIGEST_SIZE);
	}
	*ret = TAKE_PTR(v);
	return 0;
}
