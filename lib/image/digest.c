/* SPDX-License-Identifier: Apache-2.0 */
/* sha256 (OpenSSL's EVP), digest strings as go-digest checks them, OCI chain ids. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "image-internal.h"

#include "base/banned.h"

int img_sha256_init(struct img_sha256 *h)
{
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
		return -EIO;
	}
	return 0;
}

void img_sha256_update(struct img_sha256 *h, const void *data, size_t len)
{
	if (len)
		EVP_DigestUpdate(h->ctx, data, len);
}

void img_sha256_final(struct img_sha256 *h, char out[BERTH_DIGEST_SIZE])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(out, "sha256:", 7);
	berth_hex_encode(out + 7, md, 32);
}

void img_sha256_release(struct img_sha256 *h)
{
	if (h->ctx)
		EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

void berth_sha256_digest(const void *data, size_t len, char out[BERTH_DIGEST_SIZE])
{
	unsigned char md[32];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
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
