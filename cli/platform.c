/* SPDX-License-Identifier: Apache-2.0 */
/*
 * containerd's platforms.Parse ("linux", "arm64", "linux/arm/v7") and docker's client encoding of
 * the result (an OCI platform as JSON), for the --platform flags of history, save, load, rmi and
 * image inspect.  berthd serves API 1.44, older than those flags (1.48 to 1.50): berth refuses them
 * there as docker does, and sends them to a daemon that speaks the version.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "platform.h"
#include "base/banned.h"

static const char *const known_os[] = {
	"aix",	 "android", "darwin", "dragonfly", "freebsd", "hurd",	 "illumos", "ios", "js",
	"linux", "nacl",    "netbsd", "openbsd",   "plan9",   "solaris", "windows", "zos", NULL,
};
static const char *const known_arch[] = {
	"386",	     "amd64",	    "amd64p32", "arm",	 "armbe",   "arm64",  "arm64be",
	"ppc64",     "ppc64le",	    "loong64",	"mips",	 "mipsle",  "mips64", "mips64le",
	"mips64p32", "mips64p32le", "ppc",	"riscv", "riscv64", "s390",   "s390x",
	"sparc",     "sparc64",	    "wasm",	NULL,
};

static bool in(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static char *normalize_os(const char *s)
{
	char *os = xstrdup(s);

	lower(os);
	if (strcmp(os, "macos") == 0) {
		free(os);
		os = xstrdup("darwin");
	}
	return os;
}

/* normalizeArch: the Go name of an architecture and its variant ("" for none) */
static void normalize_arch(const char *a, const char *v, char **ret_arch, char **ret_variant)
{
	char *arch = xstrdup(a), *variant = xstrdup(v);

	lower(arch);
	lower(variant);
	if (strcmp(arch, "i386") == 0) {
		free(arch);
		arch = xstrdup("386");
		variant[0] = '\0';
	} else if (!strcmp(arch, "x86_64") || !strcmp(arch, "x86-64") || !strcmp(arch, "amd64")) {
		free(arch);
		arch = xstrdup("amd64");
		if (strcmp(variant, "v1") == 0)
			variant[0] = '\0';
	} else if (!strcmp(arch, "aarch64") || !strcmp(arch, "arm64")) {
		free(arch);
		arch = xstrdup("arm64");
		if (!strcmp(variant, "8") || !strcmp(variant, "v8") || !strcmp(variant, "v8.0")) {
			variant[0] = '\0';
		} else if (!strcmp(variant, "9") || !strcmp(variant, "9.0") ||
			   !strcmp(variant, "v9.0")) {
			free(variant);
			variant = xstrdup("v9");
		}
	} else if (!strcmp(arch, "armhf")) {
		free(arch);
		free(variant);
		arch = xstrdup("arm");
		variant = xstrdup("v7");
	} else if (!strcmp(arch, "armel")) {
		free(arch);
		free(variant);
		arch = xstrdup("arm");
		variant = xstrdup("v6");
	} else if (!strcmp(arch, "arm")) {
		if (!variant[0] || !strcmp(variant, "7")) {
			free(variant);
			variant = xstrdup("v7");
		} else if (!strcmp(variant, "5") || !strcmp(variant, "6") ||
			   !strcmp(variant, "8")) {
			char *x = xasprintf("v%s", variant);
			free(variant);
			variant = x;
		}
	}
	*ret_arch = arch;
	*ret_variant = variant;
}

static const char *host_arch(void)
{
	static struct utsname u;
	static const struct {
		const char *machine, *go;
	} map[] = {{"x86_64", "amd64"},	   {"aarch64", "arm64"}, {"armv7l", "arm"},
		   {"ppc64le", "ppc64le"}, {"s390x", "s390x"},	 {"riscv64", "riscv64"},
		   {"i686", "386"}};

	if (uname(&u) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (strcmp(u.machine, map[i].machine) == 0)
				return map[i].go;
	return "amd64";
}

/* specifierRe: ^[A-Za-z0-9_.-]+$ */
static bool specifier_ok(const char *p)
{
	if (!*p)
		return false;
	for (; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return false;
	return true;
}

/*
 * osAndVersionRe: ^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?$ -- the OS and, in parentheses,
 * its version ("windows(10.0.17763)").  The parts are malloc'd.
 */
static bool os_and_version(const char *p, char **ret_os, char **ret_version)
{
	size_t n = 0;

	while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '-')
		n++;
	if (n == 0)
		return false;
	if (p[n] == '\0') {
		*ret_os = xstrndup(p, n);
		*ret_version = xstrdup("");
		return true;
	}
	if (p[n] != '(')
		return false;
	size_t v = n + 1, e = v;
	while (isalnum((unsigned char)p[e]) || p[e] == '_' || p[e] == '.' || p[e] == '-')
		e++;
	if (p[e] != ')' || p[e + 1] != '\0')
		return false;
	*ret_os = xstrndup(p, n);
	*ret_version = xstrndup(p + v, e - v);
	return true;
}

int platform_parse(const char *spec, json_t **ret, char **err)
{
	_cleanup_free_ char *copy = xstrdup(spec);
	char *parts[4];
	size_t n = 0;
	_cleanup_free_ char *os = NULL, *os_version = NULL, *arch = NULL, *variant = NULL;

	if (strchr(spec, '*')) {
		*err = xasprintf("\"%s\": wildcards not yet supported: invalid argument", spec);
		return -1;
	}
	/* strings.SplitN(spec, "/", 4): the fourth part keeps any further slashes */
	for (char *p = copy;;) {
		char *slash = n < ARRAY_SIZE(parts) - 1 ? strchr(p, '/') : NULL;
		parts[n++] = p;
		if (!slash)
			break;
		*slash = '\0';
		p = slash + 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (i == 0) {
			_cleanup_free_ char *raw_os = NULL;
			if (!os_and_version(parts[0], &raw_os, &os_version)) {
				*err = xasprintf(
					"\"%s\" is an invalid OS component of \"%s\": OSAndVersion "
					"specifier component must match "
					"\"^([A-Za-z0-9_-]+)(?:\\\\(([A-Za-z0-9_.-]*)\\\\))?$\": "
					"invalid "
					"argument",
					parts[0], spec);
				return -1;
			}
			os = normalize_os(raw_os);
		} else if (!specifier_ok(parts[i])) {
			*err = xasprintf("\"%s\" is an invalid component of \"%s\": platform "
					 "specifier component must match \"^[A-Za-z0-9_.-]+$\": "
					 "invalid argument",
					 parts[i], spec);
			return -1;
		}
	}
	switch (n) {
	case 1:
		if (in(known_os, os)) {
			arch = xstrdup(host_arch());
			variant = xstrdup("");
			break;
		}
		normalize_arch(parts[0], "", &arch, &variant);
		if (!strcmp(arch, "arm") && !strcmp(variant, "v7"))
			variant[0] = '\0';
		if (!in(known_arch, arch)) {
			*err = xasprintf("\"%s\": unknown operating system or architecture: "
					 "invalid argument",
					 spec);
			return -1;
		}
		free(os);
		os = xstrdup("linux");
		break;
	case 2:
		normalize_arch(parts[1], "", &arch, &variant);
		if (!strcmp(arch, "arm") && !strcmp(variant, "v7"))
			variant[0] = '\0';
		break;
	case 3:
		normalize_arch(parts[1], parts[2], &arch, &variant);
		if (!strcmp(arch, "arm64") && !variant[0]) {
			free(variant);
			variant = xstrdup("v8");
		}
		break;
	default:
		*err = xasprintf("\"%s\": cannot parse platform specifier: invalid argument", spec);
		return -1;
	}
	/* ocispec.Platform's JSON: architecture, os, os.version, variant (the last two if set) */
	json_t *j = json_object();
	json_object_set_new(j, "architecture", json_string(arch));
	json_object_set_new(j, "os", json_string(os));
	if (*os_version)
		json_object_set_new(j, "os.version", json_string(os_version));
	if (*variant)
		json_object_set_new(j, "variant", json_string(variant));
	*ret = j;
	return 0;
}

int platform_flag_query(const char *flag, char **ret)
{
	char *err = NULL;

	*ret = NULL;
	if (!flag || !*flag)
		return 0;
	*ret = platform_query(flag, &err);
	if (!*ret) {
		err_printf("invalid platform: %s\n", err);
		free(err);
		return 1;
	}
	return 0;
}

char *platform_query(const char *spec, char **err)
{
	json_t *p = NULL;
	char *s;

	if (platform_parse(spec, &p, err) < 0)
		return NULL;
	s = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(p);
	if (!s)
		cli_oom();
	return s;
}
