/* SPDX-License-Identifier: Apache-2.0 */
/*
 * berth compose's pure parts: interpolation (compose-go's template rules), the merge of an
 * override service into a base one, shell words, dotenv files, depends_on order, the config
 * hash, and whole projects loaded from files written here (several -f, extends, profiles,
 * normalized forms, errors with file, line and key, exit codes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/compose.h"
#include "tap.h"

static json_t *env;

/* got equals want (want is consumed) */
static bool eq(const json_t *got, json_t *want)
{
	bool r = json_equal(got, want);
	json_decref(want);
	return r;
}

static void interp_is(const char *in, const char *want, const char *what)
{
	char *err = NULL;
	char *got = compose_interpolate(in, env, NULL, &err);
	is_str(got, want, "%s: %s", what, in);
	if (!got)
		printf("# error: %s\n", err);
	free(got);
	free(err);
}

static void interp_fails(const char *in, const char *want_err)
{
	char *err = NULL;
	char *got = compose_interpolate(in, env, NULL, &err);
	ok(!got && err && strstr(err, want_err), "%s fails: %s", in, err ? err : "(none)");
	free(got);
	free(err);
}

static void test_interpolation(void)
{
	env = json_pack("{s:s, s:s, s:s}", "SET", "v", "EMPTY", "", "OTHER", "o");
	interp_is("plain", "plain", "no variable");
	interp_is("$SET-$OTHER", "v-o", "bare names");
	interp_is("${SET}x", "vx", "braced");
	interp_is("${UNSET}", "", "unset is empty");
	interp_is("${UNSET:-d}", "d", ":- unset");
	interp_is("${EMPTY:-d}", "d", ":- empty");
	interp_is("${EMPTY-d}", "", "- empty stays empty");
	interp_is("${UNSET-d}", "d", "- unset");
	interp_is("${SET:-d}", "v", ":- set");
	interp_is("${SET:+alt}", "alt", ":+ set");
	interp_is("${EMPTY:+alt}", "", ":+ empty");
	interp_is("${EMPTY+alt}", "alt", "+ empty but set");
	interp_is("${UNSET:-${OTHER}}", "o", "nested default");
	interp_is("${UNSET:-a ${UNSET2:-b} c}", "a b c", "nested default with text");
	interp_is("$$SET $${SET}", "$SET ${SET}", "$$ escapes");
	interp_is("${SET:?never}", "v", ":? set");
	interp_fails("${UNSET:?need it}", "required variable UNSET is missing a value: need it");
	interp_fails("${EMPTY:?}", "required variable EMPTY is missing a value");
	interp_fails("${UNSET?x}", "required variable UNSET");
	interp_is("${EMPTY?x}", "", "? empty but set");
	interp_fails("${SET", "unclosed");
	interp_fails("${1X}", "invalid interpolation format");
	interp_fails("${SET:x}", "invalid interpolation format");
	interp_fails("cost $5", "a lone \"$\"");

	json_t *unset = json_object();
	char *err = NULL;
	char *got = compose_interpolate("$A ${B} ${C:-x}", env, unset, &err);
	ok(json_object_get(unset, "A") && json_object_get(unset, "B") &&
		   !json_object_get(unset, "C"),
	   "unset variables without a default are reported");
	free(got);
	json_decref(unset);
	json_decref(env);
}

static void test_shell_split(void)
{
	char *err = NULL;
	json_t *j = compose_shell_split("sh -c 'echo a  b' \"x \\\"y\\\"\" z\\ w", &err);
	json_t *want = json_pack("[s,s,s,s,s]", "sh", "-c", "echo a  b", "x \"y\"", "z w");
	ok(j && json_equal(j, want), "quotes and backslashes as a shell reads them");
	json_decref(j);
	json_decref(want);
	j = compose_shell_split("echo 'open", &err);
	ok(!j && err && strstr(err, "unterminated"), "an unterminated quote is an error");
	free(err);
}

static void test_merge(void)
{
	json_t *base = json_loads(
		"{\"image\":\"a\",\"command\":[\"x\",\"y\"],\"environment\":{\"A\":\"1\",\"B\":"
		"\"2\"},"
		"\"ports\":[{\"target\":80}],\"volumes\":[{\"type\":\"volume\",\"source\":\"v\","
		"\"target\":\"/data\"},{\"type\":\"bind\",\"source\":\"/h\",\"target\":\"/h\"}],"
		"\"healthcheck\":{\"test\":[\"CMD\",\"a\"],\"interval\":1}}",
		0, NULL);
	json_t *over = json_loads(
		"{\"image\":\"b\",\"command\":[\"z\"],\"environment\":{\"B\":\"3\",\"C\":\"4\"},"
		"\"ports\":[{\"target\":80},{\"target\":443}],\"volumes\":[{\"type\":\"bind\","
		"\"source\":\"/o\",\"target\":\"/"
		"data\"}],\"healthcheck\":{\"test\":[\"CMD\",\"b\"]}}",
		0, NULL);
	compose_merge_service(base, over);
	json_t *want = json_loads(
		"{\"image\":\"b\",\"command\":[\"z\"],\"environment\":{\"A\":\"1\",\"B\":\"3\","
		"\"C\":"
		"\"4\"},\"ports\":[{\"target\":80},{\"target\":443}],\"volumes\":[{\"type\":"
		"\"bind\","
		"\"source\":\"/o\",\"target\":\"/data\"},{\"type\":\"bind\",\"source\":\"/h\","
		"\"target\":\"/h\"}],\"healthcheck\":{\"test\":[\"CMD\",\"b\"],\"interval\":1}}",
		0, NULL);
	ok(json_equal(base, want), "scalars replaced, maps merged, lists appended once, volumes "
				   "by target, command replaced");
	if (!json_equal(base, want)) {
		char *s = json_dumps(base, JSON_COMPACT | JSON_SORT_KEYS);
		printf("# got %s\n", s);
		free(s);
	}
	json_decref(base);
	json_decref(over);
	json_decref(want);
}

static void test_yaml_out(void)
{
	json_t *j = json_loads("{\"name\":\"p\",\"s\":{\"list\":[\"-x\",\"true\",1,\"b: c\","
			       "\"plain text\",\"\",{\"k\":\"v\",\"l\":[]}],\"e\":{}}}",
			       0, NULL);
	char *y = compose_to_yaml(j);
	is_str(y,
	       "name: p\n"
	       "s:\n"
	       "  list:\n"
	       "    - \"-x\"\n"
	       "    - \"true\"\n"
	       "    - 1\n"
	       "    - \"b: c\"\n"
	       "    - plain text\n"
	       "    - \"\"\n"
	       "    - k: v\n"
	       "      l: []\n"
	       "  e: {}\n",
	       "config's YAML: plain where a reader gets the same string back, quoted elsewhere");
	free(y);
	json_decref(j);
}

static char dir[] = "/tmp/test-compose-XXXXXX";

static void put(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static int load(const char *const *files, size_t n, struct compose_project *p, char **err)
{
	char *paths[8];
	char *envv[] = {"FROM_SHELL=shell", "COMPOSE_PROJECT_NAME=", NULL};
	for (size_t i = 0; i < n; i++) {
		paths[i] = malloc(256);
		snprintf(paths[i], 256, "%s/%s", dir, files[i]);
	}
	struct compose_opts o = {
		.files = (const char *const *)paths, .n_files = n, .environ = envv};
	int r = compose_load(&o, p, err);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	return r;
}

static json_t *svc(struct compose_project *p, const char *name)
{
	return json_object_get(json_object_get(p->model, "services"), name);
}

static void test_project(void)
{
	struct compose_project p;
	char *err = NULL;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	put(".env", "# comment\nFROM_DOTENV=dot\nexport QUOTED=\"a b\\n\"\nFROM_SHELL=not-this\n");
	put("vars.env", "FILE_VAR=f\nA=from-file\n");
	put("compose.yml",
	    "name: Demo_Proj\n"
	    "x-common: &common\n"
	    "  restart: always\n"
	    "services:\n"
	    "  web:\n"
	    "    <<: *common\n"
	    "    image: busybox:${FROM_DOTENV}\n"
	    "    command: echo ${FROM_SHELL} \"$QUOTED\"\n"
	    "    env_file: vars.env\n"
	    "    environment:\n"
	    "      - A=from-environment\n"
	    "      - FROM_SHELL\n"
	    "      - NOT_SET_ANYWHERE\n"
	    "    ports: [\"127.0.0.1:8080-8081:80-81/udp\", 9000]\n"
	    "    volumes: [\"data:/data:ro\", \"./site:/site\", {type: tmpfs, target: /t}]\n"
	    "    depends_on: [db]\n"
	    "    healthcheck: {test: curl -f x, interval: 1m30s, retries: 3}\n"
	    "    deploy: {replicas: 2, resources: {limits: {cpus: '0.5', memory: 64m}}}\n"
	    "  db:\n"
	    "    extends: base\n"
	    "    environment: {B: 2}\n"
	    "  base:\n"
	    "    image: busybox\n"
	    "    environment: {A: 1}\n"
	    "  tool:\n"
	    "    image: busybox\n"
	    "    profiles: [debug]\n"
	    "volumes:\n"
	    "  data:\n");
	put("override.yml", "services:\n  db:\n    labels: [\"k=v\"]\n    ports: [5432]\n");

	const char *files[] = {"compose.yml", "override.yml"};
	int r = load(files, 2, &p, &err);
	is(r, 0, "the project loads (%s)", err ? err : "");
	if (r) {
		free(err);
		return;
	}
	is_str(p.name, "demo_proj", "the name: the file's, normalized");
	is_str(p.workdir, dir, "the working dir: the first file's");
	json_t *web = svc(&p, "web");
	is_str(json_string_value(json_object_get(web, "image")), "busybox:dot",
	       ".env interpolates");
	json_t *cmd = json_object_get(web, "command");
	ok(eq(cmd, json_pack("[s,s,s]", "echo", "shell", "a b\n")),
	   "the shell's environment wins over .env; a string command is split");
	json_t *e = json_object_get(web, "environment");
	is_str(json_string_value(json_object_get(e, "A")), "from-environment",
	       "environment wins over env_file");
	is_str(json_string_value(json_object_get(e, "FILE_VAR")), "f", "env_file read");
	is_str(json_string_value(json_object_get(e, "FROM_SHELL")), "shell",
	       "a bare name takes the environment's value");
	ok(!json_object_get(e, "NOT_SET_ANYWHERE"), "a bare name unset is left out");
	is_str(json_string_value(json_object_get(web, "restart")), "always",
	       "a YAML merge key from an extension field");
	json_t *ports = json_object_get(web, "ports");
	is((int)json_array_size(ports), 3, "a port range is two ports, a number one");
	is_str(json_string_value(json_object_get(json_array_get(ports, 1), "published")), "8081",
	       "the range's second host port");
	is_str(json_string_value(json_object_get(json_array_get(ports, 0), "protocol")), "udp",
	       "the protocol");
	json_t *vols = json_object_get(web, "volumes");
	is_str(json_string_value(json_object_get(json_array_get(vols, 0), "type")), "volume",
	       "a named volume");
	ok(json_is_true(json_object_get(json_array_get(vols, 0), "read_only")), ":ro");
	char site[300];
	snprintf(site, sizeof(site), "%s/site", dir);
	is_str(json_string_value(json_object_get(json_array_get(vols, 1), "source")), site,
	       "a relative bind is the project directory's");
	is_str(json_string_value(json_object_get(json_array_get(vols, 2), "type")), "tmpfs",
	       "the long form");
	json_t *hc = json_object_get(web, "healthcheck");
	ok(eq(json_object_get(hc, "test"), json_pack("[s,s]", "CMD-SHELL", "curl -f x")),
	   "a string test is CMD-SHELL");
	ok(json_integer_value(json_object_get(hc, "interval")) == 90000000000LL,
	   "durations in nanoseconds");
	json_t *lim = json_object_get(json_object_get(json_object_get(web, "deploy"), "resources"),
				      "limits");
	ok(json_integer_value(json_object_get(lim, "memory")) == 64 << 20, "sizes in bytes");
	is_str(json_string_value(json_object_get(
		       json_object_get(json_object_get(web, "depends_on"), "db"), "condition")),
	       "service_started", "a depends_on list is service_started");
	json_t *db = svc(&p, "db");
	is_str(json_string_value(json_object_get(db, "image")), "busybox", "extends: the image");
	e = json_object_get(db, "environment");
	ok(eq(e, json_pack("{s:s,s:s}", "A", "1", "B", "2")), "extends: environments merged");
	is_str(json_string_value(json_object_get(json_object_get(db, "labels"), "k")), "v",
	       "the second file merged in");
	ok(json_object_get(json_object_get(db, "networks"), "default"),
	   "a service is on the default network");
	ok(!svc(&p, "tool"), "a service of a profile not enabled is left out");
	char *h1 = compose_config_hash(web);
	json_t *copy = json_deep_copy(web);
	json_object_set_new(json_object_get(copy, "deploy"), "replicas", json_integer(5));
	char *h2 = compose_config_hash(copy);
	json_object_set_new(copy, "image", json_string("other"));
	char *h3 = compose_config_hash(copy);
	ok(strlen(h1) == 64 && !strcmp(h1, h2) && strcmp(h1, h3),
	   "the config hash ignores replicas, follows the image");
	free(h1);
	free(h2);
	free(h3);
	json_decref(copy);
	char **order = compose_order(p.model);
	size_t iw = 0, id = 0;
	for (size_t i = 0; order[i]; i++) {
		if (!strcmp(order[i], "web"))
			iw = i;
		if (!strcmp(order[i], "db"))
			id = i;
	}
	ok(id < iw, "depends_on order: db before web");
	berth_strv_free(order);
	compose_project_release(&p);

	/* build: a string or a mapping; args a list or a map, a bare name from the environment */
	put("compose.yml", "services:\n"
			   "  a:\n"
			   "    build: sub\n"
			   "  b:\n"
			   "    build:\n"
			   "      context: ctx\n"
			   "      dockerfile: Other\n"
			   "      args:\n"
			   "        - X=${FROM_SHELL}\n"
			   "        - FROM_SHELL\n"
			   "        - UNSET_ONE\n"
			   "      labels: {l: v}\n"
			   "      target: t\n"
			   "      no_cache: true\n"
			   "      shm_size: 1m\n");
	const char *bf[] = {"compose.yml"};
	err = NULL;
	r = load(bf, 1, &p, &err);
	ok(r == 0, "build forms load (%s)", err ? err : "");
	free(err);
	if (r == 0) {
		char *want = NULL;
		json_t *ba = json_object_get(svc(&p, "a"), "build");
		json_t *bb = json_object_get(svc(&p, "b"), "build");
		if (asprintf(&want, "%s/sub", dir) < 0)
			want = NULL;
		is_str(json_string_value(json_object_get(ba, "context")), want,
		       "build: a string is the context, made absolute");
		free(want);
		ok(eq(json_object_get(bb, "args"),
		      json_pack("{s:s,s:s,s:n}", "X", "shell", "FROM_SHELL", "shell", "UNSET_ONE")),
		   "build.args: interpolated, a bare name from the environment, null when unset");
		is_str(json_string_value(json_object_get(bb, "dockerfile")), "Other",
		       "build.dockerfile kept relative to the context");
		ok(json_is_true(json_object_get(bb, "no_cache")) &&
			   json_integer_value(json_object_get(bb, "shm_size")) == 1048576,
		   "build.no_cache a boolean, shm_size in bytes");
		compose_project_release(&p);
	}

	/* errors: file, line, key; exit codes */
	static const struct {
		const char *text, *want;
		int code;
	} bad[] = {
		{"services:\n  a:\n    image: x\n    bogus: 1\n",
		 "compose.yml:4: services.a.bogus: additional property bogus is not allowed", 15},
		{"services:\n  a:\n    image: x\n    privileged: maybe\n",
		 "compose.yml:4: services.a.privileged: must be a boolean", 15},
		{"services:\n  a:\n    image: x\n    depends_on:\n      b: {condition: soon}\n  "
		 "b:\n"
		 "    image: x\n",
		 "compose.yml:5: services.a.depends_on.b.condition: must be one of", 15},
		{"services:\n  a:\n    image: x\n    extends: nope\n",
		 "compose.yml:4: services.a.extends: cannot extend service \"nope\"", 15},
		{"services:\n  a:\n    build: .\n    image: x\n    volumes: [relative:dir]\n",
		 "compose.yml:5: services.a.volumes[0]: invalid volume specification", 15},
		{"services:\n  a:\n    command: x\n", "services.a: has neither an image", 15},
		{"services:\n  a: [1]\n", "compose.yml:2: services.a: must be a mapping", 15},
		{"services:\n  a:\n    image: x\n  a:\n    image: y\n", "invalid YAML", 15},
		{"top: 1\n", "compose.yml:1: top: additional property top is not allowed", 15},
		{"services:\n  a:\n    build: {context: ., bogus: 1}\n",
		 "compose.yml:3: services.a.build.bogus: additional property bogus", 15},
		{"services:\n  a:\n    build:\n      no_cache: maybe\n",
		 "compose.yml:4: services.a.build.no_cache: must be a boolean", 15},
		{"services:\n  a:\n    build: [1]\n",
		 "compose.yml:3: services.a.build: must be a string or a mapping", 15},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put("compose.yml", bad[i].text);
		const char *one[] = {"compose.yml"};
		err = NULL;
		r = load(one, 1, &p, &err);
		ok(r == bad[i].code && err && strstr(err, bad[i].want), "bad input %zu: %s", i,
		   err ? err : "(no error)");
		free(err);
	}
	const char *none[] = {"absent.yml"};
	err = NULL;
	r = load(none, 1, &p, &err);
	is(r, COMPOSE_EXIT_FILE_NOT_FOUND, "a missing file: exit 14 (%s)", err);
	free(err);

	char cmdline[300];
	snprintf(cmdline, sizeof(cmdline), "rm -rf '%s'", dir);
	if (system(cmdline) != 0)
		printf("# could not remove %s\n", dir);
}

int main(void)
{
	test_interpolation();
	test_shell_split();
	test_merge();
	test_yaml_out();
	test_project();
	return done_testing();
}
