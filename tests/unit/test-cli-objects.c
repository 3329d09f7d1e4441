/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pure parts of berth's network, volume and registry commands: network create's IPAM
 * pairing and its messages (docker 28's, checked against its CLI), the natural order of names,
 * Go-map flags as JSON, and the X-Registry-Auth header made from a config file.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "tap.h"

static struct flag_value fv(const char **v)
{
	struct flag_value f = {0};

	f.v = v;
	while (v && v[f.n])
		f.n++;
	f.set = f.n > 0;
	return f;
}

/* the configs as compact JSON, or "error: <message>" */
static char *ipam(const char **subnets, const char **ranges, const char **gateways,
		  const char **aux)
{
	struct flag_value s = fv(subnets), r = fv(ranges), g = fv(gateways), a = fv(aux);
	char *err = NULL, *out;
	json_t *j = ipam_configs(&s, &r, &g, &a, &err);

	if (!j) {
		out = xasprintf("error: %s", err);
		free(err);
		return out;
	}
	out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return out;
}

#define L(...) ((const char *[]){__VA_ARGS__, NULL})

static void test_ipam(void)
{
	struct {
		const char **s, **r, **g, **a;
		const char *want;
	} cases[] = {
		{NULL, NULL, NULL, NULL, "[]"},
		{L("10.1.0.0/24"), L("10.1.0.128/25"), L("10.1.0.1"), NULL,
		 "[{\"Subnet\":\"10.1.0.0/24\",\"AuxiliaryAddresses\":{},\"IPRange\":\"10.1.0.128/"
		 "25\",\"Gateway\":\"10.1.0.1\"}]"},
		{L("10.1.0.0/24", "fd00::/64"), NULL, L("fd00::1"), L("h=10.1.0.9"),
		 "[{\"Subnet\":\"10.1.0.0/24\",\"AuxiliaryAddresses\":{\"h\":\"10.1.0.9\"}},"
		 "{\"Subnet\":\"fd00::/64\",\"AuxiliaryAddresses\":{},\"Gateway\":\"fd00::1\"}]"},
		/* one bad subnet alone is the daemon's to refuse */
		{L("bad"), NULL, NULL, NULL, "[{\"Subnet\":\"bad\",\"AuxiliaryAddresses\":{}}]"},
		{NULL, NULL, L("10.1.0.1"), NULL,
		 "error: every ip-range or gateway must have a corresponding subnet"},
		{L("10.1.0.0/24", "10.1.0.0/25"), NULL, NULL, NULL,
		 "error: multiple overlapping subnet configuration is not supported"},
		{L("10.1.0.0/24", "bad"), NULL, NULL, NULL,
		 "error: invalid subnet: invalid CIDR address: bad"},
		{L("10.1.0.0/24"), L("10.2.0.0/25"), NULL, NULL,
		 "error: no matching subnet for range 10.2.0.0/25"},
		{L("10.1.0.0/24"), L("10.1.0.5"), NULL, NULL,
		 "error: invalid CIDR address: 10.1.0.5"},
		{L("10.1.0.0/24"), NULL, L("bad"), NULL,
		 "error: no matching subnet for gateway bad"},
		{L("10.1.0.0/24", "10.2.0.0/24"), L("10.1.0.0/25", "10.1.0.128/25"), NULL, NULL,
		 "error: cannot configure multiple ranges (10.1.0.128/25, 10.1.0.0/25) on the same "
		 "subnet (10.1.0.0/24)"},
		{L("10.1.0.0/24", "10.2.0.0/24"), NULL, L("10.1.0.1", "10.1.0.2"), NULL,
		 "error: cannot configure multiple gateways (10.1.0.2, 10.1.0.1) for the same "
		 "subnet "
		 "(10.1.0.0/24)"},
		{L("10.1.0.0/24"), NULL, NULL, L("a=10.9.0.1"),
		 "error: no matching subnet for aux-address 10.9.0.1"},
		{L("10.1.0.0/33"), L("10.1.0.0/25"), NULL, NULL,
		 "error: invalid subnet: invalid CIDR address: 10.1.0.0/33"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = ipam(cases[i].s, cases[i].r, cases[i].g, cases[i].a);
		is_str(got, cases[i].want, "ipam case %zu", i);
		free(got);
	}
}

static void test_natural(void)
{
	ok(natural_cmp("a2", "a10") < 0, "a2 before a10");
	ok(natural_cmp("a10", "a2") > 0, "a10 after a2");
	ok(natural_cmp("bridge", "host") < 0, "letters byte-wise");
	ok(natural_cmp("v01", "v1") > 0, "equal numbers: fewer zeros first");
	ok(natural_cmp("n", "n1") < 0, "a prefix first");
	is(natural_cmp("x9y", "x9y"), 0, "equal");
}

static void test_kv(void)
{
	const char *v[] = {"b=2", "a=1", "c", "b=3=x", NULL};
	struct flag_value f = fv(v);
	json_t *o = kv_object(&f);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	is_str(s, "{\"a\":\"1\",\"b\":\"3=x\",\"c\":\"\"}", "maps: sorted keys, last wins");
	free(s);
	json_decref(o);
}

static char *auth_json(const char *config, const char *domain)
{
	struct cli c = {0};
	char *h, *out = NULL;

	c.config = json_loads(config, 0, NULL);
	c.config_read = true;
	h = registry_auth_header(&c, domain);
	if (strncmp(h, "X-Registry-Auth: ", 17) == 0) {
		/* base64url back to JSON */
		const char *tab =
			"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		struct sbuf b = SBUF_INIT;
		unsigned v = 0;
		int bits = 0;
		for (const char *p = h + 17; *p && *p != '='; p++) {
			v = (v << 6) | (unsigned)(strchr(tab, *p) - tab);
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				sbuf_addc(&b, (char)((v >> bits) & 0xff));
			}
		}
		out = xstrdup(sbuf_str(&b));
		sbuf_release(&b);
	}
	free(h);
	json_decref(c.config);
	return out;
}

static void test_auth_header(void)
{
	char *s;

	s = auth_json("{}", "docker.io");
	is_str(s, "{}", "no config entry: {}");
	free(s);
	s = auth_json("{\"auths\":{\"r:5000\":{\"auth\":\"YWxpY2U6czNjOnJldA==\"}}}", "r:5000");
	is_str(s, "{\"username\":\"alice\",\"password\":\"s3c:ret\",\"serveraddress\":\"r:5000\"}",
	       "user:password decoded (the password may hold ':')");
	free(s);
	s = auth_json("{\"auths\":{\"https://r:5000/v2/\":{\"auth\":\"dTpw\"}}}", "r:5000");
	is_str(s,
	       "{\"username\":\"u\",\"password\":\"p\",\"serveraddress\":\"https://r:5000/v2/\"}",
	       "a legacy key found by its host");
	free(s);
	s = auth_json("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dTpw\"}}}",
		      "docker.io");
	is_str(s,
	       "{\"username\":\"u\",\"password\":\"p\",\"serveraddress\":\"https://index.docker.io/"
	       "v1/\"}",
	       "Docker Hub's key");
	free(s);
	s = auth_json("{\"auths\":{\"r\":{\"auth\":\"dTpw\",\"identitytoken\":\"t\"}}}", "other");
	is_str(s, "{}", "another registry's credentials are not sent");
	free(s);
}

int main(void)
{
	test_ipam();
	test_natural();
	test_kv();
	test_auth_header();
	return done_testing();
}
