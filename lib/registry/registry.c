/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client object, which registries are insecure, platforms, and Docker's X-Registry-Auth.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "registry-internal.h"

#include "base/banned.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_ALL);
}

static int copy_strv(char *const *in, char ***ret)
{
	char **v = calloc(1, sizeof(char *));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; in && in[i]; i++)
		if (berth_strv_push(&v, in[i]) < 0) {
			berth_strv_free(v);
			return -ENOMEM;
		}
	*ret = v;
	return 0;
}

int berth_registry_new(const struct berth_registry_options *opts, struct berth_registry **ret,
		       struct berth_error **err)
{
	struct berth_registry *r;

	if (reg_curl_load(err) < 0)
		return -ELIBACC;
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK)
		return berth_error_set(err, EIO, "curl_global_init: %s",
				       curl_easy_strerror(curl_init_result));
	r = calloc(1, sizeof(*r));
	if (!r)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (opts)
		r->opts = *opts;
	if (!r->opts.max_parallel)
		r->opts.max_parallel = REG_DEFAULT_PARALLEL;
	if (!r->opts.max_manifest)
		r->opts.max_manifest = REG_DEFAULT_MAX_MANIFEST;
	if (!r->opts.max_config)
		r->opts.max_config = REG_DEFAULT_MAX_CONFIG;
	pthread_mutex_init(&r->lock, NULL);
	r->tokens = json_object();
	if (!r->tokens || copy_strv(opts ? opts->insecure : NULL, &r->insecure) < 0 ||
	    copy_strv(opts ? opts->mirrors : NULL, &r->mirrors) < 0) {
		berth_registry_free(r);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	if (opts && opts->certs_dir && !(r->certs_dir = strdup(opts->certs_dir))) {
		berth_registry_free(r);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	r->opts.insecure = r->insecure;
	r->opts.mirrors = r->mirrors;
	r->opts.certs_dir = r->certs_dir;
	*ret = r;
	return 0;
}

void berth_registry_free(struct berth_registry *r)
{
	if (!r)
		return;
	berth_strv_free(r->insecure);
	berth_strv_free(r->mirrors);
	free(r->certs_dir);
	json_decref(r->tokens);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

const char *reg_api_host(const char *domain)
{
	if (strcmp(domain, "docker.io") == 0 || strcmp(domain, "index.docker.io") == 0)
		return "registry-1.docker.io";
	return domain;
}

/* ---- insecure registries ------------------------------------------------------------------ */

/* Does the address (16 bytes for v6, 4 for v4) fall in cidr ("10.0.0.0/8", "::1/128")? */
static bool in_cidr(int family, const unsigned char *addr, const char *cidr)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned char net[16];
	const char *slash = strchr(cidr, '/');
	int64_t bits;
	size_t len;

	if (!slash || (size_t)(slash - cidr) >= sizeof(buf))
		return false;
	memcpy(buf, cidr, (size_t)(slash - cidr));
	buf[slash - cidr] = '\0';
	if (inet_pton(family, buf, net) != 1)
		return false;
	len = family == AF_INET ? 4 : 16;
	if (berth_parse_int64(slash + 1, 0, (int64_t)len * 8, &bits) < 0)
		return false;
	for (size_t i = 0; i < len && bits > 0; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
		if ((addr[i] & mask) != (net[i] & mask))
			return false;
	}
	return true;
}

static bool addr_insecure(struct berth_registry *r, int family, const unsigned char *addr)
{
	/* dockerd: 127.0.0.0/8 is always insecure (and so is ::1 for us) */
	if (in_cidr(family, addr, family == AF_INET ? "127.0.0.0/8" : "::1/128"))
		return true;
	for (size_t i = 0; r->insecure[i]; i++)
		if (strchr(r->insecure[i], '/') && in_cidr(family, addr, r->insecure[i]))
			return true;
	return false;
}

bool berth_registry_is_insecure(struct berth_registry *r, const char *host)
{
	_cleanup_free_ char *name = NULL;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	unsigned char addr[16];
	bool found = false;
	const char *colon;

	for (size_t i = 0; r->insecure[i]; i++)
		if (strcmp(r->insecure[i], host) == 0)
			return true;
	/* the host without its port: "[::1]:5000" -> "::1", "a:5000" -> "a" */
	if (host[0] == '[') {
		const char *end = strchr(host, ']');
		name = end ? strndup(host + 1, (size_t)(end - host - 1)) : strdup(host);
	} else {
		colon = strrchr(host, ':');
		name = colon ? strndup(host, (size_t)(colon - host)) : strdup(host);
	}
	if (!name)
		return false;
	for (size_t i = 0; r->insecure[i]; i++)
		if (strcmp(r->insecure[i], name) == 0)
			return true;
	if (inet_pton(AF_INET, name, addr) == 1)
		return addr_insecure(r, AF_INET, addr);
	if (inet_pton(AF_INET6, name, addr) == 1)
		return addr_insecure(r, AF_INET6, addr);
	/* a name: as dockerd, every address it resolves to is checked */
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return false;
	for (struct addrinfo *a = res; a && !found; a = a->ai_next) {
		if (a->ai_family == AF_INET)
			found = addr_insecure(
				r, AF_INET,
				(const unsigned char *)&((struct sockaddr_in *)a->ai_addr)
					->sin_addr);
		else if (a->ai_family == AF_INET6)
			found = addr_insecure(
				r, AF_INET6,
				(const unsigned char *)&((struct sockaddr_in6 *)a->ai_addr)
					->sin6_addr);
	}
	freeaddrinfo(res);
	return found;
}

/* ---- platforms ---------------------------------------------------------------------------- */

static const char *go_arch(const char *machine)
{
	static const struct {
		const char *in, *out;
	} m[] = {{"x86_64", "amd64"},  {"x86-64", "amd64"},    {"amd64", "amd64"},
		 {"aarch64", "arm64"}, {"arm64", "arm64"},     {"i386", "386"},
		 {"i686", "386"},      {"386", "386"},	       {"armv7l", "arm"},
		 {"armhf", "arm"},     {"arm", "arm"},	       {"ppc64le", "ppc64le"},
		 {"s390x", "s390x"},   {"riscv64", "riscv64"}, {"mips64le", "mips64le"}};

	for (size_t i = 0; i < ARRAY_SIZE(m); i++)
		if (strcmp(machine, m[i].in) == 0)
			return m[i].out;
	return NULL;
}

int berth_registry_platform_parse(const char *s, char **ret_os, char **ret_arch, char **ret_variant,
				  struct berth_error **err)
{
	_cleanup_free_ char *copy = NULL;
	char *parts[4] = {NULL};
	const char *arch, *variant = NULL;
	size_t n = 0;

	if (!s || !*s) {
		struct utsname u;
		uname(&u);
		arch = go_arch(u.machine);
		*ret_os = strdup("linux");
		*ret_arch = strdup(arch ? arch : u.machine);
		*ret_variant = NULL;
		if (!*ret_os || !*ret_arch) {
			free(*ret_os);
			free(*ret_arch);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		return 0;
	}
	copy = strdup(s);
	if (!copy)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (char *c = copy; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	for (char *p = copy, *slash; p && n < 4; p = slash ? slash + 1 : NULL) {
		slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		parts[n++] = p;
	}
	if (n < 2 || n > 3 || !*parts[0] || !*parts[1] || (n == 3 && !*parts[2]))
		return berth_error_set(err, EINVAL, "\"%s\": invalid platform specifier", s);
	arch = go_arch(parts[1]);
	if (!arch)
		return berth_error_set(err, EINVAL,
				       "\"%s\": unknown operating system or architecture: invalid "
				       "argument",
				       s);
	if (strcmp(parts[1], "armhf") == 0)
		variant = "v7";
	if (n == 3)
		variant = parts[2];
	/* containerd's Normalize: arm64/v8 and amd64/v1 are no variant */
	if (variant &&
	    ((!strcmp(arch, "arm64") && (!strcmp(variant, "v8") || !strcmp(variant, "8"))) ||
	     (!strcmp(arch, "amd64") && !strcmp(variant, "v1"))))
		variant = NULL;
	*ret_os = strdup(parts[0]);
	*ret_arch = strdup(arch);
	*ret_variant = variant ? strdup(variant) : NULL;
	if (!*ret_os || !*ret_arch || (variant && !*ret_variant)) {
		free(*ret_os);
		free(*ret_arch);
		free(*ret_variant);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* ---- X-Registry-Auth ---------------------------------------------------------------------- */

int berth_registry_auth_decode(const char *header, struct berth_registry_auth *ret,
			       json_t **ret_json, struct berth_error **err)
{
	_cleanup_free_ char *raw = NULL;
	json_t *j = NULL;
	size_t len;

	memset(ret, 0, sizeof(*ret));
	*ret_json = NULL;
	if (!header || !*header)
		return 0;
	if (strlen(header) > 64 * 1024)
		return berth_error_set(err, EINVAL, "X-Registry-Auth: too long");
	if (reg_base64_decode(header, &raw, &len) < 0 || berth_json_parse(raw, len, &j, NULL) < 0 ||
	    !json_is_object(j)) {
		json_decref(j);
		return berth_error_set(err, EINVAL,
				       "invalid X-Registry-Auth header: not base64 "
				       "of a JSON object");
	}
	ret->username = json_string_value(json_object_get(j, "username"));
	ret->password = json_string_value(json_object_get(j, "password"));
	ret->identity_token = json_string_value(json_object_get(j, "identitytoken"));
	ret->registry_token = json_string_value(json_object_get(j, "registrytoken"));
	/* "auth": base64 of user:password, as config.json stores it */
	if ((!ret->username || !*ret->username) && json_string_value(json_object_get(j, "auth"))) {
		_cleanup_free_ char *pair = NULL;
		size_t plen;
		char *colon;
		if (reg_base64_decode(json_string_value(json_object_get(j, "auth")), &pair,
				      &plen) == 0 &&
		    (colon = strchr(pair, ':'))) {
			*colon = '\0';
			json_object_set_new(j, "username", json_string(pair));
			json_object_set_new(j, "password", json_string(colon + 1));
			ret->username = json_string_value(json_object_get(j, "username"));
			ret->password = json_string_value(json_object_get(j, "password"));
		}
	}
	*ret_json = j;
	return 0;
}
