/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docker's parsers for run/create's options: see runopts.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "platform.h"
#include "runopts.h"
#include "base/banned.h"

/* strconv.ParseUint(s, 10, 16)-like for ports: 0 or -1 */
static int parse_port_num(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > 65535)
			return -1;
	}
	*ret = v;
	return 0;
}

/* nat.ParsePortRange: "80" or "80-90"; start <= end */
static int parse_range(const char *s, uint64_t *start, uint64_t *end)
{
	const char *dash = strchr(s, '-');

	if (!dash)
		return parse_port_num(s, strlen(s), start) < 0 ? -1 : (*end = *start, 0);
	if (parse_port_num(s, (size_t)(dash - s), start) < 0 ||
	    parse_port_num(dash + 1, strlen(dash + 1), end) < 0 || *end < *start)
		return -1;
	return 0;
}

static bool valid_proto(const char *p)
{
	return strcasecmp(p, "tcp") == 0 || strcasecmp(p, "udp") == 0 || strcasecmp(p, "sctp") == 0;
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s + 32);
}

int port_spec_parse(const char *spec, json_t *exposed, json_t *bindings, char **err)
{
	_cleanup_free_ char *raw = xstrdup(spec), *ip = NULL;
	char *proto = strrchr(raw, '/'), *host_port = NULL, *ctr_port;

	/* nat.SplitProtoPort */
	if (proto) {
		*proto++ = '\0';
		if (!*proto) {
			*err = xasprintf("invalid proto: %s", proto);
			return -1;
		}
	}
	if (!proto)
		proto = "tcp";
	/* splitParts: the container port is the last ':' part; an IPv6 host in brackets */
	char *last = strrchr(raw, ':');
	if (!last) {
		ctr_port = raw;
	} else {
		*last = '\0';
		ctr_port = last + 1;
		char *hp = strrchr(raw, ':');
		if (!hp) {
			host_port = raw;
		} else {
			*hp = '\0';
			host_port = hp + 1;
			ip = xstrdup(raw);
		}
	}
	if (ip) {
		size_t il = strlen(ip);
		char *addr = ip;
		unsigned char buf[16];
		if (il >= 2 && ip[0] == '[' && ip[il - 1] == ']') {
			ip[il - 1] = '\0';
			addr = ip + 1;
		}
		if (*addr && inet_pton(AF_INET, addr, buf) != 1 &&
		    inet_pton(AF_INET6, addr, buf) != 1) {
			*err = xasprintf("invalid IP address: %s", ip);
			return -1;
		}
		if (addr != ip)
			memmove(ip, addr, strlen(addr) + 1);
	}
	uint64_t cs, ce, hs = 0, he = 0;
	if (!*ctr_port) {
		*err = xasprintf("no port specified: %s<empty>", spec);
		return -1;
	}
	if (parse_range(ctr_port, &cs, &ce) < 0) {
		*err = xasprintf("invalid containerPort: %s", ctr_port);
		return -1;
	}
	if (host_port && *host_port && parse_range(host_port, &hs, &he) < 0) {
		*err = xasprintf("invalid hostPort: %s", host_port);
		return -1;
	}
	if (host_port && *host_port && ce - cs != he - hs && ce != cs) {
		*err = xasprintf("invalid ranges specified for container and host Ports: %s and %s",
				 ctr_port, host_port);
		return -1;
	}
	if (!valid_proto(proto)) {
		*err = xasprintf("invalid proto: %s", proto);
		return -1;
	}
	_cleanup_free_ char *pr = xstrdup(proto);
	lower(pr);
	for (uint64_t i = 0; i <= ce - cs; i++) {
		_cleanup_free_ char *key = xasprintf("%llu/%s", (unsigned long long)(cs + i), pr);
		_cleanup_free_ char *hpv = NULL;
		if (!host_port || !*host_port)
			hpv = xstrdup("");
		else if (he != hs && ce == cs)
			hpv = xasprintf("%llu-%llu", (unsigned long long)hs,
					(unsigned long long)he);
		else
			hpv = xasprintf("%llu", (unsigned long long)(hs + i));
		json_object_set_new(exposed, key, json_object());
		json_t *list = json_object_get(bindings, key);
		if (!list) {
			list = json_array();
			json_object_set_new(bindings, key, list);
		}
		json_array_append_new(
			list, json_pack("{s:s,s:s}", "HostIp", ip ? ip : "", "HostPort", hpv));
	}
	return 0;
}

int expose_parse(const char *spec, json_t *exposed, char **err)
{
	_cleanup_free_ char *raw = xstrdup(spec);
	char *proto = strrchr(raw, '/');
	uint64_t s, e;

	if (proto)
		*proto++ = '\0';
	if (!proto || !*proto)
		proto = "tcp";
	if (strchr(raw, ':')) {
		*err = xasprintf("invalid port format for --expose: %s", spec);
		return -1;
	}
	if (parse_range(raw, &s, &e) < 0) {
		const char *dash = strchr(raw, '-');
		const char *bad = raw;
		if (dash) {
			uint64_t x;
			bad = parse_port_num(raw, (size_t)(dash - raw), &x) < 0 ? raw : dash + 1;
			if (bad == raw)
				*strchr(raw, '-') = '\0';
		}
		*err = xasprintf("invalid range format for --expose: %s, error: strconv.ParseUint: "
				 "parsing \"%s\": invalid syntax",
				 spec, bad);
		return -1;
	}
	for (uint64_t p = s; p <= e; p++) {
		_cleanup_free_ char *key = xasprintf("%llu/%s", (unsigned long long)p, proto);
		json_object_set_new(exposed, key, json_object());
	}
	return 0;
}

void env_value_add(const char *value, json_t *out)
{
	if (strchr(value, '=')) {
		json_array_append_new(out, json_string(value));
		return;
	}
	const char *v = getenv(value);
	if (v) {
		_cleanup_free_ char *kv = xasprintf("%s=%s", value, v);
		json_array_append_new(out, json_string(kv));
	}
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t k = c < 0x80	    ? 1
			   : (c >> 5) == 6  ? 2
			   : (c >> 4) == 14 ? 3
			   : (c >> 3) == 30 ? 4
					    : 0;
		if (!k || i + k > n)
			return false;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
		i += k;
	}
	return true;
}

int env_file_parse(const char *path, json_t *out, char **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_sbuf_ struct sbuf data = SBUF_INIT, e = SBUF_INIT;
	char buf[8192];
	ssize_t n;

	if (fd < 0) {
		sbuf_printf(&e, "open %s: ", path);
		go_errno(&e, errno);
		*err = xstrdup(sbuf_str(&e));
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		sbuf_add(&data, buf, (size_t)n);
		if (data.len > (64u << 20)) {
			*err = xasprintf("invalid env file (%s): larger than 64 MiB", path);
			return -1;
		}
	}
	if (n < 0) {
		sbuf_printf(&e, "invalid env file (%s): read %s: ", path, path);
		go_errno(&e, errno);
		*err = xstrdup(sbuf_str(&e));
		return -1;
	}
	const char *p = sbuf_str(&data), *end = p + data.len;
	int line_no = 0;
	/* a UTF-8 byte order mark at the start goes */
	if (data.len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		line_no++;
		if (!valid_utf8((const unsigned char *)p, len)) {
			*err = xasprintf("env file %s contains invalid utf8 bytes at line %d", path,
					 line_no);
			return -1;
		}
		/* strings.TrimLeftFunc(line, unicode.IsSpace) */
		const char *l = p;
		size_t ll = len;
		while (ll && strchr(" \t\r\n\v\f", *l))
			l++, ll--;
		_cleanup_free_ char *line = xstrndup(l, ll);
		size_t lz = strlen(line);
		if (lz && line[lz - 1] == '\r')
			line[--lz] = '\0';
		p = nl ? nl + 1 : end;
		if (!lz || line[0] == '#')
			continue;
		char *eq = strchr(line, '=');
		char *var = line;
		if (eq)
			*eq = '\0';
		if (!*var) {
			*err = xasprintf("no variable name on line '%s'", l);
			return -1;
		}
		for (char *c = var; *c; c++)
			if (strchr(" \t\r\n\v\f", *c)) {
				*err = xasprintf("variable '%s' contains whitespaces", var);
				return -1;
			}
		if (eq) {
			*eq = '=';
			json_array_append_new(out, json_string(line));
		} else {
			const char *v = getenv(var);
			if (v) {
				_cleanup_free_ char *kv = xasprintf("%s=%s", var, v);
				json_array_append_new(out, json_string(kv));
			}
		}
	}
	return 0;
}

/* strconv.ParseInt(s, 10, 64) with Go's message */
static int parse_int64(const char *s, int64_t *ret, char **err)
{
	char *end;

	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || s[0] == ' ' || s[0] == '\t' || s[0] == '\n') {
		*err = xasprintf("strconv.ParseInt: parsing \"%s\": invalid syntax", s);
		return -1;
	}
	if (errno == ERANGE) {
		*err = xasprintf("strconv.ParseInt: parsing \"%s\": value out of range", s);
		return -1;
	}
	*ret = v;
	return 0;
}

json_t *ulimit_parse(const char *value, char **err)
{
	static const char *const names[] = {
		"core",	  "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
		"nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",	 NULL};
	const char *eq = strchr(value, '=');
	bool known = false;

	if (!eq || strchr(eq + 1, '=')) {
		*err = xasprintf("invalid ulimit argument: %s", value);
		return NULL;
	}
	_cleanup_free_ char *name = xstrndup(value, (size_t)(eq - value));
	for (size_t i = 0; names[i]; i++)
		if (strcmp(names[i], name) == 0)
			known = true;
	if (!known) {
		*err = xasprintf("invalid ulimit type: %s", name);
		return NULL;
	}
	_cleanup_free_ char *lim = xstrdup(eq + 1);
	char *colon = strchr(lim, ':');
	int64_t soft, hard;
	if (colon) {
		*colon = '\0';
		if (strchr(colon + 1, ':')) {
			*err = xasprintf(
				"too many limit value arguments - %s, can only have up to two, "
				"`soft[:hard]`",
				eq + 1);
			return NULL;
		}
	}
	if (parse_int64(lim, &soft, err) < 0)
		return NULL;
	hard = soft;
	if (colon && parse_int64(colon + 1, &hard, err) < 0)
		return NULL;
	if (soft > hard) {
		*err = xasprintf(
			"ulimit soft limit must be less than or equal to hard limit: %lld > "
			"%lld",
			(long long)soft, (long long)hard);
		return NULL;
	}
	return json_pack("{s:s,s:I,s:I}", "Name", name, "Hard", (json_int_t)hard, "Soft",
			 (json_int_t)soft);
}

/* strconv.ParseBool */
static int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False", NULL};

	for (size_t i = 0; yes[i]; i++)
		if (strcmp(s, yes[i]) == 0)
			return *ret = true, 0;
	for (size_t i = 0; no[i]; i++)
		if (strcmp(s, no[i]) == 0)
			return *ret = false, 0;
	return -1;
}

static json_t *sub(json_t *o, const char *key)
{
	json_t *s = json_object_get(o, key);

	if (!s) {
		s = json_object();
		json_object_set_new(o, key, s);
	}
	return s;
}

/* Split a CSV record in place into fields (the array malloc'd); NULL with Go's message. */
static char **csv_fields(char *s, size_t *ret_n, char **err)
{
	char **f = xcalloc(strlen(s) + 2, sizeof(*f));
	size_t n = 0;
	char *w = s, *base = s;

	for (;;) {
		char *start = w;
		if (*s == '"') {
			s++;
			for (;;) {
				if (!*s) {
					free(f);
					*err = xasprintf(
						"parse error on line 1, column %zu: extraneous or "
						"missing \" in quoted-field",
						(size_t)(s - base) + 1);
					return NULL;
				}
				if (*s == '"' && s[1] == '"') {
					*w++ = '"';
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else {
					*w++ = *s++;
				}
			}
			if (*s && *s != ',') {
				free(f);
				*err = xasprintf("parse error on line 1, column %zu: extraneous or "
						 "missing \" in quoted-field",
						 (size_t)(s - base));
				return NULL;
			}
		} else {
			while (*s && *s != ',')
				*w++ = *s++;
		}
		bool more = *s == ',';
		if (more)
			s++;
		*w++ = '\0';
		f[n++] = start;
		if (!more)
			break;
	}
	*ret_n = n;
	return f;
}

json_t *mount_parse(const char *value, char **err)
{
	_cleanup_json_ json_t *m = json_object();
	_cleanup_free_ char *copy = xstrdup(value);
	const char *type = NULL;
	bool any_volume = false, any_bind = false, any_tmpfs = false;
	json_t *vol = json_object(), *bind = json_object(), *tmpfs = json_object();
	char **fields = NULL;

	/* one record of Go's encoding/csv: fields split at commas, "quoted" ones may hold commas
	 * and doubled quotes */
	size_t nf = 0;
	fields = csv_fields(copy, &nf, err);
	if (!fields)
		goto fail;
	for (size_t fi = 0; fi < nf; fi++) {
		char *f = fields[fi];
		char *eq = strchr(f, '=');
		const char *key = f, *val = eq ? eq + 1 : NULL;
		if (eq)
			*eq = '\0';
		_cleanup_free_ char *lkey = xstrdup(key);
		lower(lkey);
		if (!val) {
			if (strcmp(lkey, "readonly") == 0 || strcmp(lkey, "ro") == 0) {
				json_object_set_new(m, "ReadOnly", json_true());
				continue;
			}
			if (strcmp(lkey, "volume-nocopy") == 0) {
				json_object_set_new(vol, "NoCopy", json_true());
				any_volume = true;
				continue;
			}
			*err = xasprintf("invalid field '%s' must be a key=value pair", f);
			goto fail;
		}
		if (strcmp(lkey, "type") == 0) {
			type = val;
			json_object_set_new(m, "Type", json_string(val));
		} else if (strcmp(lkey, "source") == 0 || strcmp(lkey, "src") == 0) {
			json_object_set_new(m, "Source", json_string(val));
		} else if (strcmp(lkey, "target") == 0 || strcmp(lkey, "dst") == 0 ||
			   strcmp(lkey, "destination") == 0) {
			json_object_set_new(m, "Target", json_string(val));
		} else if (strcmp(lkey, "readonly") == 0 || strcmp(lkey, "ro") == 0) {
			bool b;
			if (parse_bool(val, &b) < 0) {
				*err = xasprintf("invalid value for %s: %s", key, val);
				goto fail;
			}
			json_object_set_new(m, "ReadOnly", json_boolean(b));
		} else if (strcmp(lkey, "bind-propagation") == 0) {
			static const char *const props[] = {"private", "rprivate", "shared",
							    "rshared", "slave",	   "rslave",
							    NULL};
			bool ok = false;
			for (size_t i = 0; props[i]; i++)
				ok = ok || strcasecmp(val, props[i]) == 0;
			if (!ok) {
				*err = xasprintf("invalid propagation mode: %s", val);
				goto fail;
			}
			_cleanup_free_ char *lv = xstrdup(val);
			lower(lv);
			json_object_set_new(bind, "Propagation", json_string(lv));
			any_bind = true;
		} else if (strcmp(lkey, "volume-nocopy") == 0) {
			bool b;
			if (parse_bool(val, &b) < 0) {
				*err = xasprintf("invalid value for volume-nocopy: %s", val);
				goto fail;
			}
			json_object_set_new(vol, "NoCopy", json_boolean(b));
			any_volume = true;
		} else if (strcmp(lkey, "volume-label") == 0) {
			const char *e2 = strchr(val, '=');
			_cleanup_free_ char *k =
				e2 ? xstrndup(val, (size_t)(e2 - val)) : xstrdup(val);
			json_object_set_new(sub(vol, "Labels"), k, json_string(e2 ? e2 + 1 : ""));
			any_volume = true;
		} else if (strcmp(lkey, "volume-driver") == 0) {
			json_object_set_new(sub(vol, "DriverConfig"), "Name", json_string(val));
			any_volume = true;
		} else if (strcmp(lkey, "volume-opt") == 0) {
			const char *e2 = strchr(val, '=');
			if (!e2) {
				*err = xasprintf("invalid value for %s: %s", key, val);
				goto fail;
			}
			_cleanup_free_ char *k = xstrndup(val, (size_t)(e2 - val));
			json_object_set_new(sub(sub(vol, "DriverConfig"), "Options"), k,
					    json_string(e2 + 1));
			any_volume = true;
		} else if (strcmp(lkey, "volume-subpath") == 0) {
			json_object_set_new(vol, "Subpath", json_string(val));
			any_volume = true;
		} else if (strcmp(lkey, "tmpfs-size") == 0) {
			int64_t sz;
			if (ram_in_bytes(val, &sz) < 0) {
				*err = xasprintf("invalid value for %s: %s", key, val);
				goto fail;
			}
			json_object_set_new(tmpfs, "SizeBytes", json_integer(sz));
			any_tmpfs = true;
		} else if (strcmp(lkey, "tmpfs-mode") == 0) {
			char *end;
			errno = 0;
			unsigned long mode = strtoul(val, &end, 8);
			if (!*val || *end || errno || mode > 0xffffffffUL) {
				*err = xasprintf("invalid value for %s: %s", key, val);
				goto fail;
			}
			json_object_set_new(tmpfs, "Mode", json_integer((json_int_t)mode));
			any_tmpfs = true;
		} else {
			*err = xasprintf("unexpected key '%s' in '%s=%s'", key, key, val);
			goto fail;
		}
	}
	free(fields);
	fields = NULL;
	if (!type) {
		type = "volume";
		json_object_set_new(m, "Type", json_string("volume"));
	}
	if (!json_object_get(m, "Target")) {
		*err = xstrdup("target is required");
		goto fail;
	}
	if (any_volume && strcmp(type, "volume") != 0) {
		*err = xasprintf("cannot mix 'volume-*' options with mount type '%s'", type);
		goto fail;
	}
	if (any_bind && strcmp(type, "bind") != 0) {
		*err = xasprintf("cannot mix 'bind-*' options with mount type '%s'", type);
		goto fail;
	}
	if (any_tmpfs && strcmp(type, "tmpfs") != 0) {
		*err = xasprintf("cannot mix 'tmpfs-*' options with mount type '%s'", type);
		goto fail;
	}
	if (any_volume)
		json_object_set(m, "VolumeOptions", vol);
	if (any_bind)
		json_object_set(m, "BindOptions", bind);
	if (any_tmpfs)
		json_object_set(m, "TmpfsOptions", tmpfs);
	json_decref(vol);
	json_decref(bind);
	json_decref(tmpfs);
	return json_incref(m);
fail:
	free(fields);
	json_decref(vol);
	json_decref(bind);
	json_decref(tmpfs);
	return NULL;
}

json_t *restart_parse(const char *value, char **err)
{
	const char *colon = strchr(value, ':');
	_cleanup_free_ char *name =
		colon ? xstrndup(value, (size_t)(colon - value)) : xstrdup(value);
	int64_t count = 0;

	if (colon && !*name) {
		*err = xstrdup("invalid restart policy format: no policy provided before colon");
		return NULL;
	}
	/* strconv.Atoi of a count that is there ("on-failure:" has none) */
	if (colon && colon[1] && berth_parse_int64(colon + 1, INT64_MIN, INT64_MAX, &count) < 0) {
		*err = xstrdup("invalid restart policy format: maximum retry count must be an "
			       "integer");
		return NULL;
	}
	/* the policy's name and its count's use are the daemon's to check, as docker leaves them */
	return json_pack("{s:s,s:I}", "Name", name, "MaximumRetryCount", (json_int_t)count);
}

static bool valid_perms(const char *p)
{
	if (!*p || strlen(p) > 3)
		return false;
	for (; *p; p++)
		if (!strchr("rwm", *p))
			return false;
	return true;
}

json_t *device_parse(const char *value, char **err)
{
	_cleanup_free_ char *copy = xstrdup(value);
	char *parts[4] = {0};
	size_t n = 0;
	const char *src, *dst, *perms = "rwm";

	if (strchr(value, '=') && !strchr(value, ':')) {
		*err = xasprintf("berth: CDI device names (%s) are not supported", value);
		return NULL;
	}
	for (char *save = NULL, *p = strtok_r(copy, ":", &save); p;
	     p = strtok_r(NULL, ":", &save)) {
		if (n == 4) {
			*err = xasprintf("invalid device specification: %s", value);
			return NULL;
		}
		parts[n++] = p;
	}
	if (n == 0 || n > 3) {
		*err = xasprintf("invalid device specification: %s", value);
		return NULL;
	}
	src = parts[0];
	dst = src;
	if (n == 3) {
		if (!valid_perms(parts[2])) {
			*err = xasprintf("invalid device mode: %s", parts[2]);
			return NULL;
		}
		dst = parts[1];
		perms = parts[2];
	} else if (n == 2) {
		if (valid_perms(parts[1]))
			perms = parts[1];
		else
			dst = parts[1];
	}
	if (dst[0] != '/') {
		*err = xasprintf("%s is not an absolute path", dst);
		return NULL;
	}
	return json_pack("{s:s,s:s,s:s}", "PathOnHost", src, "PathInContainer", dst,
			 "CgroupPermissions", perms);
}

int tmpfs_parse(const char *value, json_t *out, char **err)
{
	const char *colon = strchr(value, ':');
	_cleanup_free_ char *path =
		colon ? xstrndup(value, (size_t)(colon - value)) : xstrdup(value);

	if (path[0] != '/') {
		*err = xasprintf("invalid tmpfs path: %s: must be absolute", path);
		return -1;
	}
	json_object_set_new(out, path, json_string(colon ? colon + 1 : ""));
	return 0;
}

char *security_opt_parse(const char *value, char **err)
{
	if (strcmp(value, "no-new-privileges") == 0)
		return xstrdup(value);
	const char *sep = strchr(value, '=');
	if (!sep)
		sep = strchr(value, ':');
	if (!sep) {
		_cleanup_sbuf_ struct sbuf q = SBUF_INIT;
		go_quote(&q, value, strlen(value));
		*err = xasprintf("Invalid --security-opt: %s", sbuf_str(&q));
		return NULL;
	}
	if ((size_t)(sep - value) == 7 && memcmp(value, "seccomp", 7) == 0 &&
	    strcmp(sep + 1, "unconfined") != 0) {
		json_error_t je;
		_cleanup_json_ json_t *j = json_load_file(sep + 1, JSON_DECODE_ANY, &je);
		if (!j) {
			_cleanup_close_ int fd = open(sep + 1, O_RDONLY | O_CLOEXEC);
			_cleanup_sbuf_ struct sbuf e = SBUF_INIT;
			if (fd < 0) {
				sbuf_printf(&e, "opening seccomp profile (%s) failed: open %s: ",
					    sep + 1, sep + 1);
				go_errno(&e, errno);
				*err = xstrdup(sbuf_str(&e));
			} else {
				*err = xasprintf(
					"compacting json for seccomp profile (%s) failed: %s",
					sep + 1, je.text);
			}
			return NULL;
		}
		_cleanup_free_ char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		return xasprintf("seccomp=%s", s ? s : "");
	}
	return xstrdup(value);
}

char *ip_check(const char *value, char **err)
{
	unsigned char buf[16];
	char out[INET6_ADDRSTRLEN];
	_cleanup_free_ char *v = xstrdup(value);
	char *s = v;
	size_t l = strlen(s);

	/* strings.TrimSpace */
	while (*s && strchr(" \t\r\n\v\f", *s))
		s++, l--;
	while (l && strchr(" \t\r\n\v\f", s[l - 1]))
		s[--l] = '\0';
	if (inet_pton(AF_INET, s, buf) == 1)
		return xstrdup(inet_ntop(AF_INET, buf, out, sizeof(out)));
	if (inet_pton(AF_INET6, s, buf) == 1)
		return xstrdup(inet_ntop(AF_INET6, buf, out, sizeof(out)));
	*err = xasprintf("IP address is not correctly formatted: %s", value);
	return NULL;
}

int extra_host_check(const char *value, char **err)
{
	const char *sep = strchr(value, '=');

	if (!sep)
		sep = strchr(value, ':');
	if (!sep || sep == value) {
		_cleanup_sbuf_ struct sbuf q = SBUF_INIT;
		go_quote(&q, value, strlen(value));
		*err = xasprintf("bad format for add-host: %s", sbuf_str(&q));
		return -1;
	}
	const char *ip = sep + 1;
	if (strcmp(ip, "host-gateway") == 0)
		return 0;
	_cleanup_free_ char *bracket = NULL;
	size_t il = strlen(ip);
	if (il >= 2 && ip[0] == '[' && ip[il - 1] == ']') {
		bracket = xstrndup(ip + 1, il - 2);
		ip = bracket;
	}
	char *e2 = NULL;
	_cleanup_free_ char *ok = ip_check(ip, &e2);
	if (!ok) {
		free(e2);
		*err = xasprintf("invalid IP address in add-host: %s", ip);
		return -1;
	}
	return 0;
}

int nano_cpus_parse(const char *value, int64_t *ret, char **err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(value, &end);
	if (!*value || *end || errno || isnan(v) || isinf(v)) {
		*err = xasprintf("failed to parse %s as a rational number", value);
		return -1;
	}
	double n = v * 1e9;
	if (n != floor(n) || fabs(n) > 9.2e18) {
		*err = xstrdup("value is too precise");
		return -1;
	}
	*ret = (int64_t)n;
	return 0;
}

/* opts.ValidateAttach: stdin, stdout or stderr, any case */
int attach_check(const char *v, char **err)
{
	if (strcasecmp(v, "stdin") == 0 || strcasecmp(v, "stdout") == 0 ||
	    strcasecmp(v, "stderr") == 0)
		return 0;
	*err = xstrdup("valid streams are STDIN, STDOUT and STDERR");
	return -1;
}

/* opts.ValidateLink: "name" or "name:alias" */
int link_check(const char *v, char **err)
{
	const char *c = strchr(v, ':');

	if (!*v || (c && (c == v || !c[1] || strchr(c + 1, ':')))) {
		*err = xasprintf("bad format for links: %s", v);
		return -1;
	}
	return 0;
}

/* opts.ValidateSysctl: the namespaced ones docker's CLI lets through */
int sysctl_check(const char *v, char **err)
{
	static const char *const names[] = {
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
	const char *eq = strchr(v, '=');
	size_t n = eq ? (size_t)(eq - v) : 0;

	for (size_t i = 0; eq && i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && memcmp(names[i], v, n) == 0)
			return 0;
	if (eq && (berth_str_has_prefix(v, "net.") || berth_str_has_prefix(v, "fs.mqueue.")))
		return 0;
	*err = xasprintf("sysctl '%s' is not allowed", v);
	return -1;
}

/* --platform: containerd's platforms.Parse (platform.c), then Format */
int run_platform_parse(const char *spec, char **ret, char **err)
{
	_cleanup_json_ json_t *p = NULL;
	char *perr = NULL;

	if (!spec || !*spec)
		return 0;
	if (platform_parse(spec, &p, &perr) < 0) {
		*err = xasprintf("error parsing specified platform: %s", perr);
		free(perr);
		return -1;
	}
	const char *os = json_string_value(json_object_get(p, "os")) ?: "";
	const char *arch = json_string_value(json_object_get(p, "architecture")) ?: "";
	const char *variant = json_string_value(json_object_get(p, "variant"));
	*ret = variant && *variant ? xasprintf("%s/%s/%s", os, arch, variant)
				   : xasprintf("%s/%s", os, arch);
	return 0;
}

/* ---- block IO, device cgroup rules, GPUs --------------------------------------------------- */

/* "/dev/x:value": the path (malloc'd) and the value's start, or NULL with docker's message */
static char *blkio_split(const char *value, const char **ret_v, char **err)
{
	const char *colon = strchr(value, ':');

	if (!colon || colon == value) {
		*err = xasprintf("bad format: %s", value);
		return NULL;
	}
	if (!berth_str_has_prefix(value, "/dev/")) {
		*err = xasprintf("bad format for device path: %s", value);
		return NULL;
	}
	*ret_v = colon + 1;
	return xstrndup(value, (size_t)(colon - value));
}

/* strconv.ParseUint(s, 10, 64) */
static bool parse_u64_dec(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return true;
}

json_t *weight_device_parse(const char *value, char **err)
{
	const char *v;
	_cleanup_free_ char *path = blkio_split(value, &v, err);
	uint64_t w;

	if (!path)
		return NULL;
	if (!parse_u64_dec(v, &w) || w > UINT16_MAX || (w > 0 && (w < 10 || w > 1000))) {
		*err = xasprintf("invalid weight for device: %s", value);
		return NULL;
	}
	return json_pack("{s:s,s:I}", "Path", path, "Weight", (json_int_t)w);
}

json_t *throttle_device_parse(const char *value, bool iops, char **err)
{
	const char *v;
	_cleanup_free_ char *path = blkio_split(value, &v, err);
	int64_t rate = 0;
	uint64_t u = 0;

	if (!path)
		return NULL;
	if (iops) {
		if (!parse_u64_dec(v, &u) || u > INT64_MAX) {
			*err = xasprintf(
				"invalid rate for device: %s. The correct format is "
				"<device-path>:<number>. Number must be a positive integer",
				value);
			return NULL;
		}
		rate = (int64_t)u;
	} else if (ram_in_bytes(v, &rate) < 0 || rate < 0) {
		*err = xasprintf(
			"invalid rate for device: %s. The correct format is "
			"<device-path>:<number>[<unit>]. Number must be a positive integer. "
			"Unit is optional and can be kb, mb, or gb",
			value);
		return NULL;
	}
	return json_pack("{s:s,s:I}", "Path", path, "Rate", (json_int_t)rate);
}

int weight_device_check(const char *value, char **err)
{
	json_t *j = weight_device_parse(value, err);

	json_decref(j);
	return j ? 0 : -1;
}

int throttle_bps_check(const char *value, char **err)
{
	json_t *j = throttle_device_parse(value, false, err);

	json_decref(j);
	return j ? 0 : -1;
}

int throttle_iops_check(const char *value, char **err)
{
	json_t *j = throttle_device_parse(value, true, err);

	json_decref(j);
	return j ? 0 : -1;
}

/* "[0-9]+|\*" */
static const char *major_minor(const char *s)
{
	if (*s == '*')
		return s + 1;
	if (*s < '0' || *s > '9')
		return NULL;
	while (*s >= '0' && *s <= '9')
		s++;
	return s;
}

int device_cgroup_rule_check(const char *value, char **err)
{
	const char *s = value;
	size_t n = 0;

	/* ^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$ */
	bool ok = (*s == 'a' || *s == 'c' || *s == 'b') && s[1] == ' ';
	if (ok) {
		s = major_minor(s + 2);
		ok = s && *s == ':';
	}
	if (ok) {
		s = major_minor(s + 1);
		ok = s && *s == ' ';
	}
	if (ok) {
		for (s++; *s == 'r' || *s == 'w' || *s == 'm'; s++)
			n++;
		ok = !*s && n >= 1 && n <= 3;
	}
	if (!ok) {
		*err = xasprintf("invalid device cgroup format '%s'", value);
		return -1;
	}
	return 0;
}

/* One field of a CSV record (encoding/csv): quoted or not; *s moves past its comma. */
static char *csv_field(const char **s, bool *ret_bad)
{
	_cleanup_sbuf_ struct sbuf b = SBUF_INIT;
	const char *p = *s;

	if (*p == '"') {
		for (p++;; p++) {
			if (!*p) {
				*ret_bad = true;
				return NULL;
			}
			if (*p == '"') {
				if (p[1] == '"') {
					sbuf_addc(&b, '"');
					p++;
					continue;
				}
				p++;
				break;
			}
			sbuf_addc(&b, *p);
		}
		if (*p && *p != ',') {
			*ret_bad = true;
			return NULL;
		}
	} else {
		for (; *p && *p != ','; p++) {
			if (*p == '"') {
				*ret_bad = true;
				return NULL;
			}
			sbuf_addc(&b, *p);
		}
	}
	*s = *p == ',' ? p + 1 : p;
	return xstrdup(sbuf_str(&b));
}

/* strconv.Atoi for a count, "all" as -1 */
static int gpu_count(const char *s, int64_t *ret, char **err)
{
	char *end;

	if (strcmp(s, "all") == 0) {
		*ret = -1;
		return 0;
	}
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || *s == ' ') {
		*err = xasprintf(
			"invalid count (%s): value must be either \"all\" or an integer: %s", s,
			errno == ERANGE ? "value out of range" : "invalid syntax");
		return -1;
	}
	*ret = v;
	return 0;
}

static json_t *split_comma(const char *v)
{
	json_t *a = json_array();
	const char *p = v;

	for (;;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		_cleanup_free_ char *one = xstrndup(p, n);
		json_array_append_new(a, json_string(one));
		if (!c)
			break;
		p = c + 1;
	}
	return a;
}

json_t *gpus_parse(const char *value, char **err)
{
	_cleanup_json_ json_t *req =
		json_pack("{s:s,s:I,s:n,s:n,s:n}", "Driver", "", "Count", (json_int_t)0,
			  "DeviceIDs", "Capabilities", "Options");
	_cleanup_json_ json_t *seen = json_object();
	const char *s = value;
	bool bad = false;

	do {
		_cleanup_free_ char *field = csv_field(&s, &bad);
		if (!field) {
			*err = xstrdup("parse error: bare \" in non-quoted-field");
			return NULL;
		}
		char *eq = strchr(field, '=');
		const char *key = field, *val = eq ? eq + 1 : NULL;
		int64_t count;
		if (eq)
			*eq = '\0';
		if (json_object_get(seen, key)) {
			*err = xasprintf("gpu request key '%s' can be specified only once", key);
			return NULL;
		}
		json_object_set_new(seen, key, json_true());
		if (!val) {
			json_object_set_new(seen, "count", json_true());
			if (gpu_count(key, &count, err) < 0)
				return NULL;
			json_object_set_new(req, "Count", json_integer(count));
		} else if (strcmp(key, "driver") == 0) {
			json_object_set_new(req, "Driver", json_string(val));
		} else if (strcmp(key, "count") == 0) {
			if (gpu_count(val, &count, err) < 0)
				return NULL;
			json_object_set_new(req, "Count", json_integer(count));
		} else if (strcmp(key, "device") == 0) {
			json_object_set_new(req, "DeviceIDs", split_comma(val));
		} else if (strcmp(key, "capabilities") == 0) {
			json_t *caps = split_comma(val);
			json_array_append_new(caps, json_string("gpu"));
			json_object_set_new(req, "Capabilities", json_pack("[o]", caps));
		} else if (strcmp(key, "options") == 0) {
			json_t *o = json_object();
			const char *q = val;
			json_object_set_new(req, "Options", o);
			do {
				_cleanup_free_ char *kv = csv_field(&q, &bad);
				if (!kv) {
					*err = xstrdup(
						"failed to read gpu options: parse error: bare "
						"\" in non-quoted-field");
					return NULL;
				}
				char *e2 = strchr(kv, '=');
				if (e2)
					*e2 = '\0';
				json_object_set_new(o, kv, json_string(e2 ? e2 + 1 : ""));
			} while (*q);
		} else {
			*err = xasprintf("unexpected key '%s' in '%s=%s'", key, key, val);
			return NULL;
		}
	} while (*s);
	if (!json_object_get(seen, "count") && json_is_null(json_object_get(req, "DeviceIDs")))
		json_object_set_new(req, "Count", json_integer(1));
	if (json_is_null(json_object_get(req, "Options")))
		json_object_set_new(req, "Options", json_object());
	if (json_is_null(json_object_get(req, "Capabilities")))
		json_object_set_new(req, "Capabilities", json_pack("[[s]]", "gpu"));
	return TAKE_PTR(req);
}

int gpus_check(const char *value, char **err)
{
	json_t *j = gpus_parse(value, err);

	json_decref(j);
	return j ? 0 : -1;
}
