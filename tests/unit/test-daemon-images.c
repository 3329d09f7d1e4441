/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berthd's image side, the parts that need no server: docker import's --change (dockerd's
 * BuildFromConfig), the container config shape, Go's time and JSON renderings, path.Match,
 * the progress bar, the tag rules, and the container-table snapshot (daemon_image_users) driving
 * lib/image's delete rules on a real store in a temp dir.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../daemon/images-internal.h"
#include "tap.h"

/* ---- --change ----------------------------------------------------------------------------- */

/* Apply the changes (a NULL-terminated list); the config as compact JSON with sorted keys. */
static char *changes(const char *const *v, char **ret_err)
{
	json_t *cfg = NULL;
	struct berth_error *err = NULL;
	size_t n = 0;
	char *out;

	while (v[n])
		n++;
	*ret_err = NULL;
	if (daemon_image_changes((char *const *)v, n, &cfg, &err) < 0) {
		*ret_err = strdup(err ? err->msg : "?");
		berth_error_free(err);
		return NULL;
	}
	/* only the fields a change sets, as the docker CLI shows a config */
	json_t *brief = json_object();
	const char *k;
	json_t *val;
	json_object_foreach (cfg, k, val) {
		if (json_is_null(val) || (json_is_string(val) && !*json_string_value(val)) ||
		    json_is_false(val))
			continue;
		json_object_set(brief, k, val);
	}
	out = json_dumps(brief, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(brief);
	json_decref(cfg);
	return out;
}

#define CHANGE_OK(want, ...)                                                                       \
	do {                                                                                       \
		const char *const v_[] = {__VA_ARGS__, NULL};                                      \
		char *e_ = NULL, *got_ = changes(v_, &e_);                                         \
		is_str(got_ ? got_ : e_, want, "change %s", v_[0]);                                \
		free(got_);                                                                        \
		free(e_);                                                                          \
	} while (0)

#define CHANGE_ERR(want, ...)                                                                      \
	do {                                                                                       \
		const char *const v_[] = {__VA_ARGS__, NULL};                                      \
		char *e_ = NULL, *got_ = changes(v_, &e_);                                         \
		is_str(e_ ? e_ : got_, want, "change %s refused", v_[0]);                          \
		free(got_);                                                                        \
		free(e_);                                                                          \
	} while (0)

static void test_changes(void)
{
	/* CMD and ENTRYPOINT: exec form, shell form, the CMD an ENTRYPOINT resets */
	CHANGE_OK("{\"Cmd\":[\"echo\",\"hi\"]}", "CMD [\"echo\",\"hi\"]");
	CHANGE_OK("{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"]}", "CMD echo hi");
	CHANGE_OK("{\"Cmd\":[\"/bin/sh\",\"-c\"]}", "CMD");
	CHANGE_OK("{\"Cmd\":[]}", "CMD []");
	CHANGE_OK("{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo lower\"]}", "cmd echo lower");
	CHANGE_OK("{\"Cmd\":[\"b\"],\"Entrypoint\":[\"a\"]}", "ENTRYPOINT [\"a\"]", "CMD [\"b\"]");
	CHANGE_OK("{\"Cmd\":[\"b\"],\"Entrypoint\":[\"a\"]}", "CMD [\"b\"]", "ENTRYPOINT [\"a\"]");
	CHANGE_OK("{\"Entrypoint\":[\"/bin/sh\",\"-c\",\"a b\"]}", "ENTRYPOINT a b");
	CHANGE_OK("{}", "ENTRYPOINT []");
	CHANGE_OK("{\"Cmd\":[\"a\"]}", "CMD [\"a\"] trailing");
	CHANGE_OK("{\"Cmd\":[\"/bin/sh\",\"-c\",\"[bad json\"]}", "CMD [bad json");
	CHANGE_ERR("when using JSON array syntax, arrays must be comprised of strings only",
		   "CMD [\"a\", 1]");

	/* ENV: both forms, quotes, escapes, expansion with the values set before */
	CHANGE_OK("{\"Env\":[\"A=1\",\"B=1\",\"C=1\",\"D=def\",\"E=alt\",\"F=quoted value\","
		  "\"G=single $A\"]}",
		  "ENV A=1",
		  "ENV B=$A C=${A:-x} D=${Z:-def} E=${A:+alt} F=\"quoted value\" G='single $A'");
	CHANGE_OK("{\"Env\":[\"A=1\",\"B=\"]}", "ENV A=1 B=$A");
	CHANGE_OK("{\"Env\":[\"A=1 2 3\"]}", "ENV A 1 2 3");
	CHANGE_OK("{\"Env\":[\"A=2\"]}", "ENV A=1", "ENV A=2");
	CHANGE_OK("{\"Env\":[\"A=a b\",\"C=c\\\"d\"]}", "ENV A=a\\ b C=c\\\"d");
	CHANGE_OK("{\"Env\":[\"A=1\",\"B=2\"]}", "ENV A=1 \\", " B=2");
	CHANGE_OK("{\"Env\":[\"X=1\"],\"WorkingDir\":\"/1/1\"}", "ENV X=1", "WORKDIR /$X/${X}");
	CHANGE_ERR("ENV must have two arguments", "ENV A");
	CHANGE_ERR("ENV names can not be blank", "ENV =x");
	CHANGE_ERR("Syntax error - can't find = in \"B\". Must be of the form: name=value",
		   "ENV A=1 B");
	CHANGE_ERR("failed to process \"\\\"unterminated\": unexpected end of statement while "
		   "looking for matching double-quote",
		   "ENV A=\"unterminated");
	CHANGE_ERR("failed to process \"${:x}\": syntax error: bad substitution", "ENV A=${:x}");
	CHANGE_ERR("failed to process \"${A:?must_be_set}\": A: must_be_set",
		   "ENV A=${A:?must_be_set}");

	/* LABEL, EXPOSE, USER, WORKDIR, STOPSIGNAL, VOLUME, ONBUILD */
	CHANGE_OK("{\"Labels\":{\"a\":\"b\",\"c d\":\"e f\",\"x\":\"y z\"}}",
		  "LABEL a=b \"c d\"=\"e f\"", "LABEL x y z");
	CHANGE_OK("{\"ExposedPorts\":{\"443/udp\":{},\"80/tcp\":{},\"8000/tcp\":{},\"8001/tcp\":{},"
		  "\"8002/tcp\":{}}}",
		  "EXPOSE 80 443/udp 8000-8002/tcp");
	CHANGE_OK("{\"Env\":[\"P=8080\"],\"ExposedPorts\":{\"8080/tcp\":{}}}", "ENV P=8080",
		  "EXPOSE $P");
	CHANGE_ERR("invalid proto: xyz", "EXPOSE 80/xyz");
	CHANGE_ERR("invalid containerPort: abc", "EXPOSE abc");
	CHANGE_ERR("EXPOSE requires at least one argument", "EXPOSE");
	CHANGE_OK("{\"User\":\"nobody\"}", "USER nobody");
	CHANGE_OK("{\"User\":\"a b\"}", "USER a b");
	CHANGE_ERR("USER requires exactly one argument", "USER");
	CHANGE_ERR("unknown flag: foo", "USER --foo=bar x");
	CHANGE_OK("{\"WorkingDir\":\"/a/c/d\"}", "WORKDIR /a", "WORKDIR b", "WORKDIR ../c/./d");
	CHANGE_OK("{\"WorkingDir\":\"/rel\"}", "WORKDIR rel");
	CHANGE_OK("{\"StopSignal\":\"SIGKILL\"}", "STOPSIGNAL SIGKILL");
	CHANGE_ERR("invalid signal: FOO", "STOPSIGNAL FOO");
	CHANGE_OK("{\"Volumes\":{\"/data\":{},\"/logs\":{}}}", "VOLUME /data /logs");
	CHANGE_OK("{\"Volumes\":{\"/a\":{},\"/b\":{}}}", "VOLUME [\"/a\",\"/b\"]");
	CHANGE_ERR("VOLUME requires at least one argument", "VOLUME");
	CHANGE_OK("{\"OnBuild\":[\"RUN echo hi\"]}", "ONBUILD RUN echo hi");
	CHANGE_ERR("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", "ONBUILD ONBUILD RUN x");
	CHANGE_ERR("FROM isn't allowed as an ONBUILD trigger", "ONBUILD FROM x");
	CHANGE_ERR("ONBUILD requires at least one argument", "ONBUILD");

	/* HEALTHCHECK */
	CHANGE_OK("{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"curl -f http://x\"]}}",
		  "HEALTHCHECK CMD curl -f http://x");
	CHANGE_OK("{\"Healthcheck\":{\"Interval\":5000000000,\"Retries\":3,\"Test\":[\"CMD\","
		  "\"true\"],\"Timeout\":1500000000}}",
		  "HEALTHCHECK --interval=5s --timeout=1.5s --retries=3 CMD [\"true\"]");
	CHANGE_OK("{\"Healthcheck\":{\"Test\":[\"NONE\"]}}", "HEALTHCHECK NONE");
	CHANGE_ERR("Interval \"interval\" cannot be less than 1ms",
		   "HEALTHCHECK --interval=1us CMD x");
	CHANGE_ERR("unknown flag: bogus", "HEALTHCHECK --bogus=1 CMD x");
	CHANGE_ERR("Unknown type \"FOO\" in HEALTHCHECK (try CMD)", "HEALTHCHECK FOO x");
	CHANGE_ERR("Missing command after HEALTHCHECK CMD", "HEALTHCHECK CMD");
	CHANGE_ERR("--retries cannot be negative (-1)", "HEALTHCHECK --retries=-1 CMD x");
	CHANGE_ERR("time: invalid duration \"abc\"", "HEALTHCHECK --interval=abc CMD x");
	CHANGE_ERR("time: unknown unit \"x\" in duration \"5x\"", "HEALTHCHECK --timeout=5x CMD x");

	/* what is not a change, and what is no instruction at all */
	CHANGE_ERR("RUN is not a valid change command", "RUN echo");
	CHANGE_ERR("from is not a valid change command", "from x");
	CHANGE_ERR("SHELL is not a valid change command", "SHELL [\"/bin/bash\"]");
	CHANGE_ERR("file with no instructions", "");
	CHANGE_ERR("file with no instructions", "# only a comment");
	CHANGE_OK("{\"Cmd\":[\"/bin/sh\",\"-c\",\"x\"]}", "# comment", "CMD x");
	CHANGE_OK("{\"Env\":[\"A=`\"]}", "# escape=`", "ENV A=``");

	json_t *empty = NULL;
	ok(daemon_image_changes(NULL, 0, &empty, NULL) == 0 && json_is_object(empty) &&
		   json_is_null(json_object_get(empty, "Cmd")) && json_object_size(empty) == 17,
	   "no changes: the zero config, every field (%zu)", json_object_size(empty));
	json_decref(empty);
}

/* ---- shapes ------------------------------------------------------------------------------- */

static void test_config_shape(void)
{
	json_t *in = json_loads("{\"Cmd\":\"sh\",\"Entrypoint\":null,\"Env\":[\"A=1\",3],"
				"\"Labels\":{\"b\":\"2\",\"a\":\"1\",\"n\":5},\"Volumes\":{},"
				"\"ExposedPorts\":{},\"User\":7,\"StopTimeout\":0,\"Extra\":true}",
				0, NULL);
	json_t *c = daemon_container_config_json(in);
	char *s = json_dumps(c, JSON_COMPACT);

	is_str(s,
	       "{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,"
	       "\"AttachStdout\":false,\"AttachStderr\":false,\"Tty\":false,\"OpenStdin\":false,"
	       "\"StdinOnce\":false,\"Env\":[\"A=1\"],\"Cmd\":[\"sh\"],\"Image\":\"\","
	       "\"Volumes\":{},\"WorkingDir\":\"\",\"Entrypoint\":null,\"OnBuild\":null,"
	       "\"Labels\":{\"a\":\"1\",\"b\":\"2\"},\"StopTimeout\":0}",
	       "container.Config: Go's field order, a string Cmd made a list, maps sorted, "
	       "wrong types dropped, empty ExposedPorts left out, StopTimeout 0 kept");
	free(s);
	json_decref(c);
	json_decref(in);
}

static void test_go_renderings(void)
{
	static const struct {
		const char *in, *want;
	} times[] = {
		{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"},
		{"2024-01-02T03:04:05.000000000Z", "2024-01-02T03:04:05Z"},
		{"2024-01-02T03:04:05.120Z", "2024-01-02T03:04:05.12Z"},
		{"2024-01-02T03:04:05.123456789123Z", "2024-01-02T03:04:05.123456789Z"},
		{"2024-01-02T03:04:05+00:00", "2024-01-02T03:04:05Z"},
		{"2024-01-02T03:04:05.5+02:00", "2024-01-02T03:04:05.5+02:00"},
		{"yesterday", "yesterday"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(times); i++) {
		char *got = images_go_time(times[i].in);
		is_str(got, times[i].want, "Go's RFC3339Nano of %s", times[i].in);
		free(got);
	}

	json_t *j = json_pack("{s:s}", "progress", "[=>  ] <a&b> \xe2\x80\xa8");
	char *s = images_go_json(j);
	is_str(s, "{\"progress\":\"[=\\u003e  ] \\u003ca\\u0026b\\u003e \\u2028\"}",
	       "JSON escaped as Go's encoder does");
	free(s);
	json_decref(j);

	char bar[192];
	images_progress_bar(32768, 2140160, bar, sizeof(bar));
	is_str(bar, "[>                                                  ]  32.77kB/2.14MB",
	       "the progress bar at 1%%");
	images_progress_bar(10240, 10240, bar, sizeof(bar));
	is_str(bar, "[==================================================>]  10.24kB/10.24kB",
	       "the progress bar at 100%%");
	images_progress_bar(999, 0, bar, sizeof(bar));
	is_str(bar, "    999B", "no total: the count alone");
}

static void test_match(void)
{
	static const struct {
		const char *pattern, *name;
		int want;
	} cases[] = {
		{"busybox", "busybox", 1},
		{"busy*", "busybox", 1},
		{"*", "busybox", 1},
		{"*", "foo/bar", 0},
		{"*/*", "foo/bar", 1},
		{"b?sybox", "busybox", 1},
		{"?", "/", 0},
		{"[a-c]usybox", "busybox", 1},
		{"[^a-c]usybox", "busybox", 0},
		{"busybox:[0-9]*", "busybox:1.36", 1},
		{"\\*", "*", 1},
		{"a*b*c*d*e*f*g*h*i*j*k*z",
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0},
		{"[", "x", -EINVAL},
		{"[]a]", "a", -EINVAL},
		{"x\\", "x", -EINVAL},
		{"nomatch[", "busybox", -EINVAL},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		is(images_go_match(cases[i].pattern, cases[i].name), cases[i].want,
		   "path.Match(%s, %s)", cases[i].pattern, cases[i].name);
}

static void test_tags(void)
{
	struct berth_error *err = NULL;
	char *full = NULL;

	ok(images_valid_tag("latest") && images_valid_tag("1.36_x-y") && !images_valid_tag(".x") &&
		   !images_valid_tag("a:b") && !images_valid_tag(""),
	   "the tag grammar");
	ok(images_repo_tag("busybox", NULL, &full, NULL) == 0 &&
		   berth_streq(full, "docker.io/library/busybox:latest"),
	   "repo without tag: latest");
	free(full);
	ok(images_repo_tag("a:b", "c", &full, NULL) == 0 &&
		   berth_streq(full, "docker.io/library/a:c"),
	   "the tag parameter replaces the repo's tag");
	free(full);
	ok(images_repo_tag("", "x", &full, NULL) == 0 && !full, "no repo: nothing");
	ok(images_repo_tag("BB", NULL, &full, &err) == -EINVAL &&
		   berth_str_has_prefix(err->msg, "invalid reference format"),
	   "uppercase: invalid reference format (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	ok(images_repo_tag("bb", "x:y", &full, &err) == -EINVAL &&
		   berth_streq(err->msg, "invalid tag format"),
	   "a bad tag");
	berth_error_freep(&err);
	ok(images_repo_tag("bb@sha256:"
			   "0191191c9bdff94377c1e47ae10124f833244f45ccd400dddc24bae0740c903a",
			   NULL, &full, &err) == -EINVAL &&
		   berth_streq(err->msg, "refusing to create a tag with a digest reference"),
	   "a digest reference");
	berth_error_freep(&err);
}

/* ---- the container-table snapshot with a real store ----------------------------------------- */

/* A one-file ustar archive in a memfd (seeked to 0). */
static int tiny_tar(const char *name, const char *content)
{
	char hdr[512] = {0}, pad[1024] = {0};
	size_t len = strlen(content);
	unsigned sum = 0;
	int fd = memfd_create("tar", MFD_CLOEXEC);

	snprintf(hdr, 100, "%s", name);
	snprintf(hdr + 100, 8, "%07o", 0644);
	snprintf(hdr + 108, 8, "%07o", 0);
	snprintf(hdr + 116, 8, "%07o", 0);
	snprintf(hdr + 124, 12, "%011zo", len);
	snprintf(hdr + 136, 12, "%011o", 0);
	hdr[156] = '0';
	memcpy(hdr + 257, "ustar", 6);
	memcpy(hdr + 263, "00", 2);
	memset(hdr + 148, ' ', 8);
	for (size_t i = 0; i < 512; i++)
		sum += (unsigned char)hdr[i];
	snprintf(hdr + 148, 8, "%06o", sum);
	if (write(fd, hdr, 512) != 512 || write(fd, content, len) != (ssize_t)len ||
	    write(fd, pad, 512 - len % 512) < 0 || write(fd, pad, 1024) != 1024)
		return -1;
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static void test_users(void)
{
	char dir[] = "/tmp/berth-test-images-XXXXXX";
	struct berth_image_store *s = NULL;
	struct berth_error *err = NULL;
	struct berth_image_deleted *items = NULL;
	struct berth_image_info *info = NULL;
	struct daemon_image_users u;
	json_t *config =
		json_pack("{s:s,s:s,s:{}}", "architecture", "amd64", "os", "linux", "config");
	char *id = NULL, *found = NULL;
	size_t n = 0;
	int fd;

	ok(mkdtemp(dir) != NULL, "a temp dir");
	ok(berth_image_store_open(dir, NULL, &s, &err) == 0, "a store (%s)", err ? err->msg : "");
	berth_error_freep(&err);
	fd = tiny_tar("hello", "hi\n");
	ok(berth_image_import(s, fd, config, "one:1", NULL, &id, &err) == 0, "an image (%s)",
	   err ? err->msg : "");
	berth_error_freep(&err);
	close(fd);
	ok(berth_image_tag(s, "one:1", "two:1", NULL) == 0, "a second name");
	ok(berth_image_inspect(s, id, &info, NULL) == 0 && info->top_layer, "its top layer");

	daemon_image_users_init(&u);
	ok(u.n == 0 && u.users.find && !u.users.held_layers, "an empty snapshot");
	ok(u.users.find(u.users.userdata, id, BERTH_IMAGE_USED_BY_ANY, &found) == 0,
	   "an empty snapshot: nobody uses it");
	ok(daemon_image_users_add(&u, "c0ffee00000000000000", id, info->top_layer, false) == 0 &&
		   daemon_image_users_add(&u, "beef0000000000000000", "sha256:other", NULL, true) ==
			   0,
	   "two containers");
	is(daemon_image_users_count(&u, id), 1, "one container uses the image");
	ok(u.users.held_layers && berth_streq(u.users.held_layers[0], info->top_layer) &&
		   !u.users.held_layers[1],
	   "its top layer is held");
	ok(u.users.find(u.users.userdata, id, BERTH_IMAGE_USED_BY_STOPPED, &found) == 1 &&
		   berth_streq(found, "c0ffee00000000000000"),
	   "found as used by a stopped container");
	free(found);
	found = NULL;
	ok(u.users.find(u.users.userdata, id, BERTH_IMAGE_USED_BY_RUNNING, &found) == 0,
	   "not by a running one");

	/* dockerd's conflicts, through lib/image */
	ok(berth_image_delete(s, "one:1", 0, &u.users, &items, &n, &err) == 0 && n == 1 &&
		   items[0].kind == BERTH_IMAGE_UNTAGGED,
	   "rmi of one of two names untags (%s)", err ? err->msg : "");
	berth_image_deleted_free(items, n);
	berth_error_freep(&err);
	ok(berth_image_delete(s, "two:1", 0, &u.users, &items, &n, &err) == -EBUSY &&
		   berth_str_has_prefix(err->msg,
					"conflict: unable to remove repository reference \"two:1\" "
					"(must force) - container c0ffee000000 is using its "
					"referenced image "),
	   "the last name of an image a container uses: %s", err ? err->msg : "");
	berth_error_freep(&err);
	ok(berth_image_delete(s, id, 0, &u.users, &items, &n, &err) == -EBUSY &&
		   strstr(err->msg, "(must be forced) - image is being used by stopped container "
				    "c0ffee000000"),
	   "by id: %s", err ? err->msg : "");
	berth_error_freep(&err);
	daemon_image_users_release(&u);

	daemon_image_users_init(&u);
	daemon_image_users_add(&u, "c0ffee00000000000000", id, info->top_layer, true);
	ok(berth_image_delete(s, id, BERTH_IMAGE_DELETE_FORCE, &u.users, &items, &n, &err) ==
			   -EBUSY &&
		   strstr(err->msg, "(cannot be forced) - image is being used by running container "
				    "c0ffee000000"),
	   "a running container: even force is refused: %s", err ? err->msg : "");
	berth_error_freep(&err);
	daemon_image_users_release(&u);

	/* forced past a stopped container: the image goes, its layer stays held */
	daemon_image_users_init(&u);
	daemon_image_users_add(&u, "c0ffee00000000000000", id, info->top_layer, false);
	ok(berth_image_delete(s, id, BERTH_IMAGE_DELETE_FORCE, &u.users, &items, &n, &err) == 0,
	   "rmi -f past a stopped container (%s)", err ? err->msg : "");
	berth_image_deleted_free(items, n);
	berth_error_freep(&err);
	struct berth_layer_info *layer = NULL;
	ok(berth_image_gc(s, &u.users, NULL, NULL) == 0 &&
		   berth_layer_inspect(s, info->top_layer, &layer, NULL) == 0,
	   "the held layer survives gc");
	berth_layer_info_free(layer);
	daemon_image_users_release(&u);
	daemon_image_users_init(&u);
	ok(berth_image_gc(s, &u.users, NULL, NULL) == 0 &&
		   berth_layer_inspect(s, info->top_layer, &layer, NULL) == -ENOENT,
	   "and goes once no container holds it");
	daemon_image_users_release(&u);

	berth_image_info_free(info);
	free(id);
	json_decref(config);
	berth_image_store_free(s);
	berth_rm_rf(dir, NULL);
}

int main(void)
{
	test_changes();
	test_config_shape();
	test_go_renderings();
	test_match();
	test_tags();
	test_users();
	return done_testing();
}
