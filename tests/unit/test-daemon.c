/* SPDX-License-Identifier: Apache-2.0 */
/* berthd's pure parts: the event ring, Docker's event filters and JSON, flags and daemon.json. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mount.h>

#include "../../daemon/containers-internal.h"
#include "../../daemon/events-internal.h"
#include "../../daemon/volumes-internal.h"
#include "tap.h"

static struct daemon_event ev(const char *type, const char *action, const char *id,
			      struct berth_key_value *attrs, size_t n)
{
	struct daemon_event e = {.type = (char *)type,
				 .action = (char *)action,
				 .actor_id = (char *)id,
				 .attrs = attrs,
				 .n_attrs = n,
				 .scope = "local",
				 .time_ns = 1700000000123456789LL};
	return e;
}

static bool match(const struct daemon_event *e, const char *filters)
{
	struct berth_filters *f = NULL;
	bool m;

	if (berth_filters_parse(filters, &f, NULL) < 0)
		return false;
	m = daemon_event_matches(e, f);
	berth_filters_free(f);
	return m;
}

static void test_filters(void)
{
	struct berth_key_value cattrs[] = {{"name", "web-1"},
					   {"image", "docker.io/library/busybox:1.36"},
					   {"com.example.tier", "front"}};
	struct daemon_event c = ev("container", "start", "0123456789abcdef", cattrs, 3);
	struct berth_key_value iattrs[] = {{"name", "busybox:latest"}};
	struct daemon_event i = ev("image", "tag", "sha256:feed", iattrs, 1);
	struct berth_key_value dattrs[] = {{"name", "host"}};
	struct daemon_event d = ev("daemon", "reload", "engine-id-1", dattrs, 1);
	struct daemon_event h = ev("container", "health_status: healthy", "0123", cattrs, 3);

	ok(match(&c, "") && match(&c, "{}"), "no filters: everything");
	ok(match(&c, "{\"type\":[\"container\"]}") && !match(&i, "{\"type\":[\"container\"]}"),
	   "type");
	ok(match(&c, "{\"event\":{\"start\":true}}") && !match(&c, "{\"event\":[\"stop\"]}"),
	   "event, both forms");
	ok(match(&h, "{\"event\":[\"health_status\"]}"), "health_status matches by prefix");
	ok(!match(&c, "{\"event\":[\"sta\"]}"), "other actions match exactly");
	ok(match(&c, "{\"container\":[\"web-1\"]}") && match(&c, "{\"container\":[\"0123\"]}") &&
		   match(&c, "{\"container\":[\"web\"]}") && !match(&c, "{\"container\":[\"db\"]}"),
	   "container by name or id, by prefix");
	ok(!match(&d, "{\"container\":[\"web\"]}"), "a container filter drops daemon events");
	ok(match(&d, "{\"daemon\":[\"engine\"]}"), "daemon by id prefix");
	ok(match(&c, "{\"image\":[\"busybox\"]}") &&
		   match(&c, "{\"image\":[\"docker.io/library/busybox:1.36\"]}") &&
		   !match(&c, "{\"image\":[\"alpine\"]}"),
	   "container events by their image, as given or without tag and registry");
	ok(match(&i, "{\"image\":[\"busybox\"]}") && match(&i, "{\"image\":[\"sha256:feed\"]}") &&
		   !match(&i, "{\"image\":[\"alpine\"]}"),
	   "image events by name or id");
	ok(match(&c, "{\"label\":[\"com.example.tier\"]}") &&
		   match(&c, "{\"label\":[\"com.example.tier=front\"]}") &&
		   !match(&c, "{\"label\":[\"com.example.tier=back\"]}") &&
		   !match(&c, "{\"label\":[\"other\"]}"),
	   "labels among the attributes");
	ok(match(&c, "{\"scope\":[\"local\"]}") && !match(&c, "{\"scope\":[\"swarm\"]}"), "scope");
	ok(match(&c, "{\"type\":[\"container\",\"image\"],\"event\":[\"start\",\"die\"]}"),
	   "several values: any");

	json_t *j = daemon_event_json(&c);
	ok(j && berth_streq(json_string_value(json_object_get(j, "Type")), "container") &&
		   berth_streq(json_string_value(json_object_get(j, "status")), "start") &&
		   berth_streq(json_string_value(json_object_get(j, "id")), "0123456789abcdef") &&
		   berth_streq(json_string_value(json_object_get(j, "from")),
			       "docker.io/library/busybox:1.36") &&
		   json_integer_value(json_object_get(j, "time")) == 1700000000 &&
		   json_integer_value(json_object_get(j, "timeNano")) == 1700000000123456789LL &&
		   berth_streq(json_string_value(json_object_get(j, "scope")), "local") &&
		   berth_streq(json_string_value(json_object_get(
				       json_object_get(json_object_get(j, "Actor"), "Attributes"),
				       "com.example.tier")),
			       "front"),
	   "container event JSON with the legacy fields");
	json_decref(j);
	j = daemon_event_json(&d);
	ok(j && !json_object_get(j, "status") && !json_object_get(j, "from") &&
		   berth_streq(
			   json_string_value(json_object_get(json_object_get(j, "Actor"), "ID")),
			   "engine-id-1"),
	   "daemon event JSON without legacy fields");
	json_decref(j);
}

static void test_ring(void)
{
	struct daemon_events e;
	struct berth_key_value a[] = {{"k", "v"}};
	char id[32];

	is(daemon_events_init(&e), 0, "ring made");
	for (int n = 1; n <= DAEMON_EVENTS_RING + 10; n++) {
		snprintf(id, sizeof(id), "c%d", n);
		daemon_events_record(&e, "container", "create", id, a, 1, n);
	}
	is(e.next_seq, DAEMON_EVENTS_RING + 11, "sequence numbers count every event");
	const struct daemon_event *oldest = &e.ring[10 % DAEMON_EVENTS_RING];
	ok(oldest->seq == 11 && berth_streq(oldest->actor_id, "c11"),
	   "the ring keeps the last %d: oldest is #11", DAEMON_EVENTS_RING);
	const struct daemon_event *newest = &e.ring[(DAEMON_EVENTS_RING + 9) % DAEMON_EVENTS_RING];
	ok(newest->seq == DAEMON_EVENTS_RING + 10 && newest->n_attrs == 1 &&
		   berth_streq(newest->attrs[0].value, "v") &&
		   newest->time_ns == DAEMON_EVENTS_RING + 10,
	   "newest in place, attributes copied");
	daemon_events_release(&e);
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/berth-test-daemon-XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

static int load(const char *text, char **argv_extra, struct daemon_config *c, char **ret_msg)
{
	char *path = write_tmp(text);
	char *argv[16] = {"berthd", "--config-file", path};
	int argc = 3;
	struct berth_error *e = NULL;
	int r;

	for (size_t i = 0; argv_extra && argv_extra[i]; i++)
		argv[argc++] = argv_extra[i];
	r = daemon_config_parse_args(argc, argv, c, &e);
	if (r == 0)
		r = daemon_config_load_file(c, &e);
	*ret_msg = e ? strdup(e->msg) : NULL;
	berth_error_free(e);
	unlink(path);
	free(path);
	return r;
}

static void test_config(void)
{
	struct daemon_config c;
	char *msg = NULL;

	is(load("{}", NULL, &c, &msg), 0, "an empty file");
	ok(berth_streq(c.data_root, "/var/lib/berth") && berth_streq(c.exec_root, "/run/berth") &&
		   c.log_level == DLOG_INFO && c.live_restore &&
		   berth_streq(c.log_driver, "json-file") && !c.hosts,
	   "defaults");
	daemon_config_release(&c);
	free(msg);

	is(load("{\"data-root\":\"/srv/b\",\"hosts\":[\"unix:///a.sock\",\"fd://\"],"
		"\"log-level\":\"warn\",\"live-restore\":false,\"log-driver\":\"none\","
		"\"log-opts\":{},\"dns\":[\"10.0.0.2\",\"::1\"],\"bip\":\"172.30.0.1/16\","
		"\"default-ulimits\":{\"nofile\":{\"Name\":\"nofile\",\"Hard\":2048,\"Soft\":1024}}"
		","
		"\"default-address-pools\":[{\"base\":\"10.10.0.0/16\",\"size\":24}],"
		"\"storage-driver\":\"overlay2\",\"registry-mirrors\":[\"https://m\"],"
		"\"insecure-registries\":[\"r:5000\"]}",
		NULL, &c, &msg),
	   0, "every key berth serves: %s", msg ? msg : "");
	ok(berth_streq(c.data_root, "/srv/b") && berth_strv_length(c.hosts) == 2 &&
		   c.log_level == DLOG_WARN && !c.live_restore &&
		   berth_streq(c.log_driver, "none") && berth_strv_length(c.dns) == 2 &&
		   berth_streq(c.bip, "172.30.0.1/16"),
	   "applied");
	daemon_config_release(&c);
	free(msg);

	char *flags[] = {"-H", "unix:///x.sock", "--log-level", "debug", NULL};
	is(load("{\"hosts\":[\"unix:///y.sock\"],\"log-level\":\"info\"}", flags, &c, &msg),
	   -EINVAL, "flag and file conflict");
	is_str(msg,
	       "the following directives are specified both as a flag and in the configuration "
	       "file: hosts: (from flag: [unix:///x.sock], from file: [unix:///y.sock]), "
	       "log-level: "
	       "(from flag: debug, from file: info)",
	       "dockerd's wording, every conflict named");
	daemon_config_release(&c);
	free(msg);

	is(load("{\"zzz\":1,\"log-level\":\"info\",\"aaa\":2}", NULL, &c, &msg), -EINVAL,
	   "unknown keys");
	is_str(msg, "the following directives don't match any configuration option: zzz, aaa",
	       "every unknown key named");
	daemon_config_release(&c);
	free(msg);

	const char *bad[][2] = {
		{"{\"log-opts\":{\"max-file\":\"0\"}}", "invalid max-file"},
		{"{\"log-driver\":\"none\",\"log-opts\":{\"max-size\":\"1m\"}}",
		 "unknown log opt 'max-size' for none log driver"},
		{"{\"default-ulimits\":{\"bogus\":{\"Hard\":1,\"Soft\":1}}}",
		 "invalid ulimit type"},
		{"{\"default-address-pools\":[{\"base\":\"10.0.0.0\",\"size\":24}]}",
		 "invalid default-address-pools entry 0"},
		{"{\"insecure-registries\":[\"http://r\"]}", "should not contain '://'"},
		{"{\"hosts\":\"unix:///a\"}", "must be an array of strings"},
		{"{\"debug\":1}", "must be true or false"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ok(load(bad[i][0], NULL, &c, &msg) == -EINVAL && msg && strstr(msg, bad[i][1]),
		   "refused: %s (%s)", bad[i][0], msg ? msg : "");
		daemon_config_release(&c);
		free(msg);
	}
}

static void test_volume_mount_opts(void)
{
	static const struct {
		const char *o;
		unsigned long flags;
		const char *data;
	} cases[] = {
		{"size=10m", 0, "size=10m"},
		{"bind", MS_BIND, ""},
		{"bind,ro", MS_BIND | MS_RDONLY, ""},
		{"rbind,rw", MS_BIND | MS_REC, ""},
		{"ro,rw", 0, ""},
		{"size=1m,noexec,mode=0750,nosuid", MS_NOEXEC | MS_NOSUID, "size=1m,mode=0750"},
		{"uid=1,defaults,gid=2", 0, "uid=1,gid=2"},
		{",,size=1m,", 0, "size=1m"},
		{"", 0, ""},
		{NULL, 0, ""},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		unsigned long flags = 99;
		char *data = NULL;

		is(daemon_volume_parse_mount_opts(cases[i].o, &flags, &data), 0, "o=%s",
		   cases[i].o ? cases[i].o : "(none)");
		is(flags, cases[i].flags, "  flags");
		is_str(data, cases[i].data, "  data");
		free(data);
	}
}

/* a volume subpath as docker cleans and checks it (filepath.IsLocal, filepath.Clean) */
static void test_subpath_clean(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"subdir", "subdir"},
		{"a/b/c", "a/b/c"},
		{"x/../subdir", "subdir"},
		{"./a//b/./", "a/b"},
		{".", "."},
		{"a/..", "."},
		{"a/b/../../c", "c"},
		{"..", NULL},
		{"../x", NULL},
		{"a/../../b", NULL},
		{"../../../../../../etc/passwd", NULL},
		{"/etc", NULL},
		{"", NULL},
		{"...", "..."},
		{"..a/b", "..a/b"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *got = ctr_subpath_clean(cases[i].in);

		if (cases[i].want)
			is_str(got, cases[i].want, "subpath '%s'", cases[i].in);
		else
			ok(got == NULL, "subpath '%s' leaves the volume", cases[i].in);
		free(got);
	}
	ok(ctr_subpath_clean(NULL) == NULL, "no subpath");
}

int main(void)
{
	test_subpath_clean();
	test_volume_mount_opts();
	test_filters();
	test_ring();
	test_config();
	return done_testing();
}
