/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berthd's flags and /etc/berth/daemon.json.  The file uses dockerd's key names where the two
 * overlap; a key berth does not serve is refused with its name (dockerd: "the following
 * directives don't match any configuration option"), and a setting given both as a flag and
 * in the file is refused as dockerd refuses it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"
#include "net/net.h"
#include "base/banned.h"

#define DEFAULT_CONFIG_FILE "/etc/berth/daemon.json"
#define DEFAULT_HOST	    "unix:///run/berth/berth.sock"

static void usage(void)
{
	printf("Usage: berthd [OPTIONS]\n"
	       "\n"
	       "berth's daemon: serves the Docker Engine API on unix sockets.\n"
	       "\n"
	       "Options:\n"
	       "  -b, --bridge string        Attach containers to a network bridge (\"none\": no "
	       "default\n"
	       "                             bridge network)\n"
	       "      --bip string           Specify network bridge IP (default "
	       "\"10.210.0.1/16\")\n"
	       "      --config-file string   Daemon configuration file (default \"%s\")\n"
	       "      --data-root string     Root directory of persistent state (default "
	       "\"/var/lib/berth\")\n"
	       "  -D, --debug                Enable debug mode (--log-level debug)\n"
	       "      --exec-root string     Root directory for execution state files (default "
	       "\"/run/berth\")\n"
	       "      --fixed-cidr-v6 string IPv6 subnet of the default bridge (with --ipv6; "
	       "default: a\n"
	       "                             random unique local /64)\n"
	       "  -h, --help                 Print usage\n"
	       "      --ipv6                 Enable IPv6 on the default bridge network\n"
	       "  -H, --host list            Daemon socket(s) to connect to: unix://PATH, fd:// "
	       "(all sockets\n"
	       "                             systemd passed), fd://N (default \"%s\")\n"
	       "  -l, --log-level string     Set the logging level (\"debug\"|\"info\"|\"warn\"|"
	       "\"error\"|\"fatal\")\n"
	       "                             (default \"info\")\n"
	       "  -p, --pidfile string       Path to use for daemon PID file (default "
	       "\"EXEC-ROOT/berthd.pid\")\n"
	       "  -v, --version              Print version information and quit\n",
	       DEFAULT_CONFIG_FILE, DEFAULT_HOST);
}

static bool valid_cidr(const char *s, bool v4_only);

static int set_str(char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static int note_flag(struct daemon_config *c, const char *key)
{
	if (berth_strv_contains(c->from_flags, key))
		return 0;
	return berth_strv_push(&c->from_flags, key);
}

int daemon_config_parse_args(int argc, char **argv, struct daemon_config *c,
			     struct berth_error **err)
{
	static const struct option opts[] = {
		{"bridge", required_argument, NULL, 'b'},
		{"bip", required_argument, NULL, 'B'},
		{"config-file", required_argument, NULL, 'c'},
		{"data-root", required_argument, NULL, 'd'},
		{"debug", no_argument, NULL, 'D'},
		{"exec-root", required_argument, NULL, 'e'},
		{"fixed-cidr-v6", required_argument, NULL, 'F'},
		{"ipv6", no_argument, NULL, '6'},
		{"help", no_argument, NULL, 'h'},
		{"host", required_argument, NULL, 'H'},
		{"log-level", required_argument, NULL, 'l'},
		{"pidfile", required_argument, NULL, 'p'},
		{"version", no_argument, NULL, 'v'},
		{},
	};
	bool debug = false;
	int opt, r = 0;

	memset(c, 0, sizeof(*c));
	c->log_level = DLOG_INFO;
	c->live_restore = true;
	if (set_str(&c->data_root, "/var/lib/berth") < 0 ||
	    set_str(&c->exec_root, "/run/berth") < 0 ||
	    set_str(&c->config_file, DEFAULT_CONFIG_FILE) < 0 ||
	    set_str(&c->log_driver, "json-file") < 0 || set_str(&c->storage_driver, "overlay2") < 0)
		return berth_error_set(err, ENOMEM, "out of memory");

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":b:DhH:l:p:v", opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			/* berth makes and names its default bridge itself: only "none" is a choice */
			if (!berth_streq(optarg, "none"))
				return berth_error_set(err, EINVAL,
						       "--bridge '%s': berth's default bridge is "
						       "berth0; only \"none\" (no default bridge "
						       "network) can be given",
						       optarg);
			r = set_str(&c->bridge, optarg);
			if (r == 0)
				r = note_flag(c, "bridge");
			break;
		case 'B':
			if (!valid_cidr(optarg, true))
				return berth_error_set(
					err, EINVAL,
					"invalid bip '%s': want an IPv4 address with "
					"a prefix length",
					optarg);
			r = set_str(&c->bip, optarg);
			if (r == 0)
				r = note_flag(c, "bip");
			break;
		case 'F': {
			struct berth_net6_prefix p6;
			if (berth_net6_prefix_parse(optarg, &p6, err) < 0)
				return berth_error_wrap(err, "invalid fixed-cidr-v6");
			r = set_str(&c->fixed_cidr_v6, optarg);
			if (r == 0)
				r = note_flag(c, "fixed-cidr-v6");
			break;
		}
		case '6':
			c->ipv6 = true;
			r = note_flag(c, "ipv6");
			break;
		case 'c':
			r = set_str(&c->config_file, optarg);
			c->config_file_given = true;
			break;
		case 'd':
			if (optarg[0] != '/')
				return berth_error_set(err, EINVAL,
						       "--data-root '%s': must be an absolute path",
						       optarg);
			r = set_str(&c->data_root, optarg);
			if (r == 0)
				r = note_flag(c, "data-root");
			break;
		case 'D':
			debug = true;
			r = note_flag(c, "debug");
			break;
		case 'e':
			if (optarg[0] != '/')
				return berth_error_set(err, EINVAL,
						       "--exec-root '%s': must be an absolute path",
						       optarg);
			r = set_str(&c->exec_root, optarg);
			if (r == 0)
				r = note_flag(c, "exec-root");
			break;
		case 'h':
			usage();
			return 1;
		case 'H':
			r = berth_strv_push(&c->hosts, optarg);
			if (r == 0)
				r = note_flag(c, "hosts");
			break;
		case 'l': {
			int l = daemon_log_level_parse(optarg);
			if (l < 0)
				return berth_error_set(err, EINVAL,
						       "unable to parse logging level: %s", optarg);
			c->log_level = l;
			r = note_flag(c, "log-level");
			break;
		}
		case 'p':
			r = set_str(&c->pidfile, optarg);
			if (r == 0)
				r = note_flag(c, "pidfile");
			break;
		case 'v':
			printf("berthd version %s\n", BERTH_VERSION);
			return 1;
		case ':':
			return berth_error_set(err, EINVAL, "flag needs an argument: %s",
					       argv[optind - 1]);
		default:
			return berth_error_set(err, EINVAL, "unknown flag: %s", argv[optind - 1]);
		}
		if (r < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	if (optind < argc)
		return berth_error_set(err, EINVAL, "berthd takes no arguments, got \"%s\"",
				       argv[optind]);
	if (debug)
		c->log_level = DLOG_DEBUG;
	return 0;
}

/* ---- the file ---------------------------------------------------------------------------- */

static int want_string(const char *key, json_t *v, struct berth_error **err)
{
	if (!json_is_string(v))
		return berth_error_set(err, EINVAL, "invalid value for \"%s\": must be a string",
				       key);
	return 0;
}

static int want_strings(const char *key, json_t *v, char ***ret, struct berth_error **err)
{
	size_t i;
	json_t *s;
	_cleanup_strv_ char **out = calloc(1, sizeof(char *));

	if (!json_is_array(v))
		return berth_error_set(
			err, EINVAL, "invalid value for \"%s\": must be an array of strings", key);
	if (!out)
		return berth_error_set(err, ENOMEM, "out of memory");
	json_array_foreach (v, i, s) {
		if (!json_is_string(s))
			return berth_error_set(
				err, EINVAL,
				"invalid value for \"%s\": must be an array of strings", key);
		if (berth_strv_push(&out, json_string_value(s)) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	berth_strv_free(*ret);
	*ret = TAKE_PTR(out);
	return 0;
}

static bool valid_cidr(const char *s, bool v4_only)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	unsigned char buf[16];
	int64_t bits;

	if (!slash || (size_t)(slash - s) >= sizeof(addr))
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, buf) == 1)
		return berth_parse_int64(slash + 1, 0, 32, &bits) == 0;
	if (!v4_only && inet_pton(AF_INET6, addr, buf) == 1)
		return berth_parse_int64(slash + 1, 0, 128, &bits) == 0;
	return false;
}

static bool valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* docker's log-opts for json-file: max-size, max-file, labels, env, env-regex, compress, tag */
static int check_log_opts(const char *driver, json_t *opts, struct berth_error **err)
{
	static const char *const json_file[] = {"max-size",	"max-file", "labels",
						"labels-regex", "env",	    "env-regex",
						"compress",	"tag",	    NULL};
	const char *k;
	json_t *v;

	if (!json_is_object(opts))
		return berth_error_set(
			err, EINVAL,
			"invalid value for \"log-opts\": must be an object of strings");
	json_object_foreach (opts, k, v) {
		if (!json_is_string(v))
			return berth_error_set(
				err, EINVAL, "invalid value for log-opt '%s': must be a string", k);
		const char *s = json_string_value(v);
		if (berth_streq(driver, "none"))
			return berth_error_set(err, EINVAL,
					       "unknown log opt '%s' for none log driver", k);
		if (!berth_strv_contains((char *const *)json_file, k))
			return berth_error_set(err, EINVAL,
					       "unknown log opt '%s' for json-file log driver", k);
		int64_t n;
		if (berth_streq(k, "max-size") && (berth_parse_size(s, &n) < 0 || n <= 0) &&
		    !berth_streq(s, "-1"))
			return berth_error_set(err, EINVAL, "invalid max-size: \"%s\"", s);
		if (berth_streq(k, "max-file") && berth_parse_int64(s, 1, 1 << 20, &n) < 0)
			return berth_error_set(err, EINVAL,
					       "invalid max-file: \"%s\" (a number of files, at "
					       "least 1)",
					       s);
		if (berth_streq(k, "compress") && !berth_streq(s, "true") &&
		    !berth_streq(s, "false"))
			return berth_error_set(err, EINVAL, "invalid compress: \"%s\"", s);
	}
	return 0;
}

static int check_ulimits(json_t *v, struct berth_error **err)
{
	const char *name;
	json_t *u;

	if (!json_is_object(v))
		return berth_error_set(err, EINVAL,
				       "invalid value for \"default-ulimits\": must be an object");
	json_object_foreach (v, name, u) {
		json_t *hard = json_object_get(u, "Hard"), *soft = json_object_get(u, "Soft");
		if (!json_is_object(u) || !json_is_integer(hard) || !json_is_integer(soft))
			return berth_error_set(err, EINVAL,
					       "invalid default-ulimits '%s': want "
					       "{\"Name\": ..., \"Hard\": N, \"Soft\": N}",
					       name);
		static const char *const names[] = {
			"core",	    "cpu",	  "data",   "fsize", "locks", "memlock",
			"msgqueue", "nice",	  "nofile", "nproc", "rss",   "rtprio",
			"rttime",   "sigpending", "stack",  "as",    NULL};
		if (!berth_strv_contains((char *const *)names, name))
			return berth_error_set(err, EINVAL, "invalid ulimit type: %s", name);
		if (json_integer_value(soft) > json_integer_value(hard))
			return berth_error_set(
				err, EINVAL,
				"ulimit soft limit must be less than or equal to hard "
				"limit: %lld > %lld",
				(long long)json_integer_value(soft),
				(long long)json_integer_value(hard));
	}
	return 0;
}

static int check_pools(json_t *v, struct berth_error **err)
{
	size_t i;
	json_t *p;

	if (!json_is_array(v))
		return berth_error_set(
			err, EINVAL,
			"invalid value for \"default-address-pools\": must be an array");
	json_array_foreach (v, i, p) {
		json_t *base = json_object_get(p, "base"), *size = json_object_get(p, "size");
		if (!json_is_string(base) || !valid_cidr(json_string_value(base), false) ||
		    !json_is_integer(size) || json_integer_value(size) < 1 ||
		    json_integer_value(size) > 128)
			return berth_error_set(err, EINVAL,
					       "invalid default-address-pools entry %zu: want "
					       "{\"base\": CIDR, \"size\": N}",
					       i);
	}
	return 0;
}

/* Go's %v of the flag value: "[a b]" for lists, the value otherwise. */
static char *flag_value(const struct daemon_config *c, const char *key)
{
	char *s = NULL;

	if (berth_streq(key, "hosts")) {
		size_t len = 3;
		for (size_t i = 0; c->hosts && c->hosts[i]; i++)
			len += strlen(c->hosts[i]) + 1;
		s = malloc(len);
		if (!s)
			return NULL;
		size_t off = (size_t)snprintf(s, len, "[");
		for (size_t i = 0; c->hosts && c->hosts[i]; i++)
			off += (size_t)snprintf(s + off, len - off, "%s%s", i ? " " : "",
						c->hosts[i]);
		snprintf(s + off, len - off, "]");
		return s;
	}
	const char *v = berth_streq(key, "data-root")	? c->data_root
			: berth_streq(key, "exec-root") ? c->exec_root
			: berth_streq(key, "pidfile")	? c->pidfile
			: berth_streq(key, "log-level") ? daemon_log_level_name(c->log_level)
			: berth_streq(key, "debug")	? "true"
							: "";
	return strdup(v ? v : "");
}

static char *file_value(json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_array(v)) {
		size_t i, len = 3;
		json_t *e;
		json_array_foreach (v, i, e)
			len += (json_is_string(e) ? strlen(json_string_value(e)) : 4) + 1;
		char *s = malloc(len);
		if (!s)
			return NULL;
		size_t off = (size_t)snprintf(s, len, "[");
		json_array_foreach (v, i, e)
			off += (size_t)snprintf(s + off, len - off, "%s%s", i ? " " : "",
						json_is_string(e) ? json_string_value(e) : "?");
		snprintf(s + off, len - off, "]");
		return s;
	}
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int daemon_config_load_file(struct daemon_config *c, struct berth_error **err)
{
	static const char *const known[] = {
		"data-root",
		"exec-root",
		"hosts",
		"log-level",
		"debug",
		"pidfile",
		"log-driver",
		"log-opts",
		"default-ulimits",
		"live-restore",
		"default-address-pools",
		"bip",
		"ipv6",
		"fixed-cidr-v6",
		"bridge",
		"dns",
		"insecure-registries",
		"registry-mirrors",
		"storage-driver",
		NULL,
	};
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *unknown = NULL, *conflicts = NULL;
	struct stat st;
	const char *key;
	json_t *v;
	int r;

	if (stat(c->config_file, &st) < 0) {
		if (errno == ENOENT && !c->config_file_given)
			return 0;
		return berth_error_sys(err, errno, "unable to configure the daemon with file %s",
				       c->config_file);
	}
	r = berth_json_load_file(c->config_file, 1 << 20, &j, err);
	if (r < 0)
		return berth_error_wrap(err, "unable to configure the daemon with file %s",
					c->config_file);
	if (!json_is_object(j))
		return berth_error_set(
			err, EINVAL,
			"unable to configure the daemon with file %s: not a JSON object",
			c->config_file);

	/* unknown keys first, all of them, as dockerd lists them */
	json_object_foreach (j, key, v) {
		if (berth_strv_contains((char *const *)known, key))
			continue;
		char *n = NULL;
		if (asprintf(&n, "%s%s%s", unknown ? unknown : "", unknown ? ", " : "", key) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		free(unknown);
		unknown = n;
	}
	if (unknown)
		return berth_error_set(err, EINVAL,
				       "the following directives don't match any configuration "
				       "option: %s",
				       unknown);

	/* then flag/file conflicts */
	json_object_foreach (j, key, v) {
		if (!berth_strv_contains(c->from_flags, key))
			continue;
		/* -D and "log-level" are different directives for dockerd too */
		_cleanup_free_ char *fv = flag_value(c, key), *xv = file_value(v);
		char *n = NULL;
		if (asprintf(&n, "%s%s%s: (from flag: %s, from file: %s)",
			     conflicts ? conflicts : "", conflicts ? ", " : "", key, fv ? fv : "",
			     xv ? xv : "") < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		free(conflicts);
		conflicts = n;
	}
	if (conflicts)
		return berth_error_set(err, EINVAL,
				       "the following directives are specified both as a flag and "
				       "in the configuration file: %s",
				       conflicts);

	/* values: check everything before changing anything */
	const char *log_driver = c->log_driver;
	json_t *ld = json_object_get(j, "log-driver");
	if (ld) {
		if ((r = want_string("log-driver", ld, err)) < 0)
			return r;
		log_driver = json_string_value(ld);
		if (!berth_streq(log_driver, "json-file") && !berth_streq(log_driver, "none"))
			return berth_error_set(err, EINVAL,
					       "logger: no log driver named '%s' is registered "
					       "(berth has json-file and none)",
					       log_driver);
	}
	json_object_foreach (j, key, v) {
		if (berth_streq(key, "data-root") || berth_streq(key, "exec-root") ||
		    berth_streq(key, "pidfile")) {
			if ((r = want_string(key, v, err)) < 0)
				return r;
			if (json_string_value(v)[0] != '/')
				return berth_error_set(err, EINVAL,
						       "invalid value for \"%s\": '%s' is not an "
						       "absolute path",
						       key, json_string_value(v));
		} else if (berth_streq(key, "log-level")) {
			if ((r = want_string(key, v, err)) < 0)
				return r;
			if (daemon_log_level_parse(json_string_value(v)) < 0)
				return berth_error_set(err, EINVAL,
						       "unable to parse logging level: %s",
						       json_string_value(v));
		} else if (berth_streq(key, "debug") || berth_streq(key, "live-restore")) {
			if (!json_is_boolean(v))
				return berth_error_set(err, EINVAL,
						       "invalid value for \"%s\": must be true or "
						       "false",
						       key);
		} else if (berth_streq(key, "hosts") || berth_streq(key, "dns") ||
			   berth_streq(key, "insecure-registries") ||
			   berth_streq(key, "registry-mirrors")) {
			_cleanup_strv_ char **list = NULL;
			if ((r = want_strings(key, v, &list, err)) < 0)
				return r;
			for (size_t i = 0; list[i]; i++) {
				const char *s = list[i];
				if (berth_streq(key, "hosts") &&
				    !berth_str_has_prefix(s, "unix://") &&
				    !berth_str_has_prefix(s, "fd://"))
					return berth_error_set(
						err, EINVAL,
						"invalid host '%s': berthd listens on "
						"unix:// and fd:// only",
						s);
				if (berth_streq(key, "dns") && !valid_ip(s))
					return berth_error_set(err, EINVAL,
							       "%s is not an ip address", s);
				if (berth_streq(key, "registry-mirrors") &&
				    !berth_str_has_prefix(s, "http://") &&
				    !berth_str_has_prefix(s, "https://"))
					return berth_error_set(err, EINVAL,
							       "invalid mirror: unsupported scheme "
							       "in %s",
							       s);
				if (berth_streq(key, "insecure-registries") &&
				    (berth_str_has_prefix(s, "http://") ||
				     berth_str_has_prefix(s, "https://")))
					return berth_error_set(err, EINVAL,
							       "insecure registry %s should not "
							       "contain '://'",
							       s);
			}
		} else if (berth_streq(key, "log-driver")) {
			/* checked above */
		} else if (berth_streq(key, "log-opts")) {
			if ((r = check_log_opts(log_driver, v, err)) < 0)
				return r;
		} else if (berth_streq(key, "default-ulimits")) {
			if ((r = check_ulimits(v, err)) < 0)
				return r;
		} else if (berth_streq(key, "default-address-pools")) {
			if ((r = check_pools(v, err)) < 0)
				return r;
		} else if (berth_streq(key, "bip")) {
			if ((r = want_string(key, v, err)) < 0)
				return r;
			if (!valid_cidr(json_string_value(v), true))
				return berth_error_set(
					err, EINVAL,
					"invalid bip '%s': want an IPv4 address with "
					"a prefix length",
					json_string_value(v));
		} else if (berth_streq(key, "ipv6")) {
			if (!json_is_boolean(v))
				return berth_error_set(err, EINVAL,
						       "invalid ipv6 in the configuration file: "
						       "want true or false");
		} else if (berth_streq(key, "fixed-cidr-v6")) {
			struct berth_net6_prefix p6;
			if ((r = want_string(key, v, err)) < 0)
				return r;
			if (berth_net6_prefix_parse(json_string_value(v), &p6, err) < 0)
				return berth_error_wrap(err, "invalid fixed-cidr-v6");
		} else if (berth_streq(key, "bridge")) {
			if ((r = want_string(key, v, err)) < 0)
				return r;
			if (!berth_streq(json_string_value(v), "none"))
				return berth_error_set(
					err, EINVAL,
					"bridge '%s': berth's default bridge is berth0; "
					"only \"none\" can be given",
					json_string_value(v));
		} else if (berth_streq(key, "storage-driver")) {
			if ((r = want_string(key, v, err)) < 0)
				return r;
			if (!berth_streq(json_string_value(v), "overlay2"))
				return berth_error_set(
					err, EINVAL,
					"storage driver '%s' is not supported: berth "
					"has overlay2",
					json_string_value(v));
		}
	}

	/* apply */
	json_object_foreach (j, key, v) {
		r = 0;
		if (berth_streq(key, "data-root"))
			r = set_str(&c->data_root, json_string_value(v));
		else if (berth_streq(key, "exec-root"))
			r = set_str(&c->exec_root, json_string_value(v));
		else if (berth_streq(key, "pidfile"))
			r = set_str(&c->pidfile, json_string_value(v));
		else if (berth_streq(key, "log-level"))
			c->log_level = daemon_log_level_parse(json_string_value(v));
		else if (berth_streq(key, "debug") && json_is_true(v))
			c->log_level = DLOG_DEBUG;
		else if (berth_streq(key, "live-restore"))
			c->live_restore = json_is_true(v);
		else if (berth_streq(key, "hosts"))
			r = want_strings(key, v, &c->hosts, err);
		else if (berth_streq(key, "dns"))
			r = want_strings(key, v, &c->dns, err);
		else if (berth_streq(key, "insecure-registries"))
			r = want_strings(key, v, &c->insecure_registries, err);
		else if (berth_streq(key, "registry-mirrors"))
			r = want_strings(key, v, &c->registry_mirrors, err);
		else if (berth_streq(key, "log-driver"))
			r = set_str(&c->log_driver, json_string_value(v));
		else if (berth_streq(key, "bip"))
			r = set_str(&c->bip, json_string_value(v));
		else if (berth_streq(key, "ipv6"))
			c->ipv6 = json_is_true(v);
		else if (berth_streq(key, "fixed-cidr-v6"))
			r = set_str(&c->fixed_cidr_v6, json_string_value(v));
		else if (berth_streq(key, "bridge"))
			r = set_str(&c->bridge, json_string_value(v));
		else if (berth_streq(key, "storage-driver"))
			r = set_str(&c->storage_driver, json_string_value(v));
		else if (berth_streq(key, "log-opts")) {
			if (c->log_opts)
				json_decref(c->log_opts);
			c->log_opts = json_incref(v);
		} else if (berth_streq(key, "default-ulimits")) {
			if (c->default_ulimits)
				json_decref(c->default_ulimits);
			c->default_ulimits = json_incref(v);
		} else if (berth_streq(key, "default-address-pools")) {
			if (c->default_address_pools)
				json_decref(c->default_address_pools);
			c->default_address_pools = json_incref(v);
		}
		if (r < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

void daemon_config_release(struct daemon_config *c)
{
	berth_strv_free(c->hosts);
	free(c->data_root);
	free(c->exec_root);
	free(c->pidfile);
	free(c->config_file);
	free(c->log_driver);
	if (c->log_opts)
		json_decref(c->log_opts);
	if (c->default_ulimits)
		json_decref(c->default_ulimits);
	if (c->default_address_pools)
		json_decref(c->default_address_pools);
	free(c->bip);
	free(c->fixed_cidr_v6);
	free(c->bridge);
	berth_strv_free(c->dns);
	berth_strv_free(c->insecure_registries);
	berth_strv_free(c->registry_mirrors);
	free(c->storage_driver);
	berth_strv_free(c->from_flags);
	memset(c, 0, sizeof(*c));
}
