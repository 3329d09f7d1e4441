/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/registry's pure parts: WWW-Authenticate challenges, X-Registry-Auth, platforms, which
 * registries are insecure, base64 and the registry's error bodies in Docker's words.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry-internal.h"
#include "registry/registry.h"

#include "tap.h"

static void test_challenge(void)
{
	struct berth_registry_challenge c = {0};
	struct berth_error *e = NULL;

	is(berth_registry_challenge_parse(
		   "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		   "scope=\"repository:library/busybox:pull\"",
		   &c, &e),
	   0, "a bearer challenge parses");
	is_str(c.scheme, "Bearer", "scheme");
	is_str(berth_registry_challenge_param(&c, "realm"), "https://auth.docker.io/token",
	       "realm");
	is_str(berth_registry_challenge_param(&c, "SERVICE"), "registry.docker.io",
	       "names are case-insensitive");
	is_str(berth_registry_challenge_param(&c, "scope"), "repository:library/busybox:pull",
	       "scope with colons");
	ok(!berth_registry_challenge_param(&c, "error"), "absent parameter");
	berth_registry_challenge_release(&c);

	is(berth_registry_challenge_parse("Basic realm=\"a \\\"q\\\" b\", charset=UTF-8", &c, &e),
	   0, "basic with an escaped quote and a bare token");
	is_str(berth_registry_challenge_param(&c, "realm"), "a \"q\" b", "unescaped");
	is_str(berth_registry_challenge_param(&c, "charset"), "UTF-8", "token value");
	berth_registry_challenge_release(&c);

	is(berth_registry_challenge_parse("Basic", &c, &e), 0, "a scheme alone");
	is((int)c.n_params, 0, "no parameters");
	berth_registry_challenge_release(&c);

	static const char *const bad[] = {
		"",	     "   ",	     "Bearer realm=\"unterminated",
		"Bearer =x", "Bearer realm", "Be@rer realm=x"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		is(berth_registry_challenge_parse(bad[i], &c, &e), -EINVAL, "refused: '%s'",
		   bad[i]);
		ok(e && strstr(e->msg, "WWW-Authenticate"), "the message names the header");
		berth_error_free(e);
		e = NULL;
	}
	{
		char *big = malloc(9000);
		memset(big, 'a', 8999);
		big[8999] = '\0';
		memcpy(big, "Bearer x=", 9);
		is(berth_registry_challenge_parse(big, &c, &e), -EINVAL, "over 8 KiB refused");
		berth_error_free(e);
		e = NULL;
		free(big);
	}
}

static void test_base64(void)
{
	char *out = NULL, *enc;
	size_t len = 0;

	enc = reg_base64("alice:s3cret", 12);
	is_str(enc, "YWxpY2U6czNjcmV0", "encode");
	free(enc);
	enc = reg_base64("ab", 2);
	is_str(enc, "YWI=", "encode with padding");
	free(enc);
	is(reg_base64_decode("YWI=", &out, &len), 0, "decode padded");
	ok(len == 2 && memcmp(out, "ab", 2) == 0, "decoded");
	free(out);
	is(reg_base64_decode("YWI", &out, &len), 0, "decode unpadded");
	free(out);
	is(reg_base64_decode("-_8", &out, &len), 0, "url alphabet");
	ok(len == 2 && (unsigned char)out[0] == 0xfb && (unsigned char)out[1] == 0xff, "url bytes");
	free(out);
	is(reg_base64_decode("a b", &out, &len), -EINVAL, "a space is refused");
}

static void test_auth_decode(void)
{
	struct berth_registry_auth a;
	struct berth_error *e = NULL;
	json_t *j = NULL;
	/* {"username":"alice","password":"s3cret","serveraddress":"h"} in base64url */
	const char *hdr =
		"eyJ1c2VybmFtZSI6ImFsaWNlIiwicGFzc3dvcmQiOiJzM2NyZXQiLCJzZXJ2ZXJhZGRyZXNzIjoiaCJ9";

	is(berth_registry_auth_decode(hdr, &a, &j, &e), 0, "X-Registry-Auth decodes");
	is_str(a.username, "alice", "username");
	is_str(a.password, "s3cret", "password");
	json_decref(j);
	is(berth_registry_auth_decode("", &a, &j, &e), 0, "empty: anonymous");
	ok(!a.username && !j, "nothing set");
	/* {"auth":"YWxpY2U6czNjcmV0"}: config.json's form */
	is(berth_registry_auth_decode("eyJhdXRoIjoiWVd4cFkyVTZjek5qY21WMCJ9", &a, &j, &e), 0,
	   "an auth field");
	is_str(a.username, "alice", "username from auth");
	is_str(a.password, "s3cret", "password from auth");
	json_decref(j);
	is(berth_registry_auth_decode("bm90IGpzb24", &a, &j, &e), -EINVAL, "not JSON");
	ok(e && strstr(e->msg, "X-Registry-Auth"), "named");
	berth_error_free(e);
	e = NULL;
	is(berth_registry_auth_decode("W10", &a, &j, &e), -EINVAL, "a list, not an object");
	berth_error_free(e);
}

static void test_platform(void)
{
	char *os = NULL, *arch = NULL, *variant = NULL;
	struct berth_error *e = NULL;

	is(berth_registry_platform_parse("linux/x86_64", &os, &arch, &variant, &e), 0,
	   "linux/x86_64");
	ok(!strcmp(os, "linux") && !strcmp(arch, "amd64") && !variant, "normalised to amd64");
	free(os);
	free(arch);
	is(berth_registry_platform_parse("linux/arm64/v8", &os, &arch, &variant, &e), 0,
	   "arm64/v8");
	ok(!strcmp(arch, "arm64") && !variant, "v8 is no variant for arm64");
	free(os);
	free(arch);
	is(berth_registry_platform_parse("Linux/ARM/v7", &os, &arch, &variant, &e), 0,
	   "case folded");
	ok(!strcmp(arch, "arm") && variant && !strcmp(variant, "v7"), "arm v7");
	free(os);
	free(arch);
	free(variant);
	variant = NULL;
	is(berth_registry_platform_parse(NULL, &os, &arch, &variant, &e), 0, "default");
	ok(!strcmp(os, "linux") && arch && *arch, "this machine's linux");
	free(os);
	free(arch);
	is(berth_registry_platform_parse("linux", &os, &arch, &variant, &e), -EINVAL,
	   "os alone refused");
	berth_error_free(e);
	e = NULL;
	is(berth_registry_platform_parse("linux/vax", &os, &arch, &variant, &e), -EINVAL,
	   "unknown arch");
	ok(e && strstr(e->msg, "linux/vax"), "value named");
	berth_error_free(e);
}

static void test_insecure(void)
{
	struct berth_registry *r = NULL;
	char *insecure[] = {"10.1.0.0/16", "registry.local:5000", "plain.example", NULL};
	struct berth_registry_options o = {.insecure = insecure};

	is(berth_registry_new(&o, &r, NULL), 0, "client");
	ok(berth_registry_is_insecure(r, "127.0.0.1:5000"), "127.0.0.1 always");
	ok(berth_registry_is_insecure(r, "127.8.9.10"), "127.0.0.0/8");
	ok(berth_registry_is_insecure(r, "[::1]:5000"), "::1");
	ok(berth_registry_is_insecure(r, "10.1.200.3:443"), "a CIDR of the list");
	ok(!berth_registry_is_insecure(r, "10.2.0.1:443"), "outside it");
	ok(berth_registry_is_insecure(r, "registry.local:5000"), "host:port of the list");
	ok(berth_registry_is_insecure(r, "plain.example:8443"), "a host of the list, any port");
	ok(!berth_registry_is_insecure(r, "192.0.2.1:5000"), "others are secure");
	berth_registry_free(r);
}

static void test_error_text(void)
{
	struct reg_response resp = {.status = 404};
	char *code = NULL, *t;

	resp.body = strdup("{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
			   "unknown\",\"detail\":{}}]}");
	resp.body_len = strlen(resp.body);
	t = reg_error_text(&resp, &code);
	is_str(t, "manifest unknown: manifest unknown", "Docker's errcode wording");
	is_str(code, "MANIFEST_UNKNOWN", "the code");
	free(t);
	free(code);
	free(resp.body);
	resp.status = 502;
	resp.body = strdup("<html>bad\ngateway</html>");
	resp.body_len = strlen(resp.body);
	t = reg_error_text(&resp, &code);
	is_str(t, "unexpected status 502: <html>bad gateway</html>", "a non-JSON body");
	ok(!code, "no code");
	free(t);
	free(resp.body);
}

int main(void)
{
	test_challenge();
	test_base64();
	test_auth_decode();
	test_platform();
	test_insecure();
	test_error_text();
	return done_testing();
}
