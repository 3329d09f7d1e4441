/* SPDX-License-Identifier: Apache-2.0 */
/* The builder's pure parts: path cleaning, .dockerignore matching, the cache key, the
 * Dockerfile parser's line numbers and its line length limit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/build-internal.h"
#include "../../daemon/dockerfile.h"
#include "tap.h"

static void test_path_clean(void)
{
	static const char *const cases[][2] = {
		{"", "."},	    {".", "."},	      {"a/./b/../c/", "a/c"},
		{"/../x", "/x"},    {"../x", "../x"}, {"a/../../b", "../b"},
		{"//a//b", "/a/b"}, {"/", "/"},	      {"a/..", "."},
		{"./a", "a"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *c = berth_path_clean(cases[i][0]);
		is_str(c, cases[i][1], "clean(\"%s\")", cases[i][0]);
		free(c);
	}
}

static bool ignored(const char *text, const char *path)
{
	struct berth_ignore ig;
	bool m;

	if (berth_ignore_parse(text, &ig, NULL) < 0)
		return false;
	m = berth_ignore_match(&ig, path);
	berth_ignore_release(&ig);
	return m;
}

static void test_dockerignore(void)
{
	/* moby/patternmatcher's rules */
	ok(ignored("*.log\n", "a.log"), "* matches a name");
	ok(!ignored("*.log\n", "d/a.log"), "* does not cross /");
	ok(ignored("**/*.log\n", "d/e/a.log"), "**/ spans directories");
	ok(ignored("**/*.log\n", "a.log"), "**/ matches zero directories");
	ok(ignored("build\n", "build/x/y"), "a directory's pattern takes what is in it");
	ok(ignored("/build/\n", "build/x"), "a leading / and a trailing / are cleaned away");
	ok(!ignored("*.md\n!README.md\n", "README.md"), "an exception brings a file back");
	ok(ignored("*.md\n!README.md\n", "CHANGES.md"), "the others stay out");
	ok(ignored("!a\na\n", "a"), "the last matching pattern wins");
	ok(!ignored("# a comment\n", "# a comment"), "comments are not patterns");
	ok(ignored("  spaced  \n", "spaced"), "blanks are trimmed");
	ok(ignored("f?o\n", "foo") && !ignored("f?o\n", "f/o"), "? is one character, never /");
	ok(ignored("[a-c]x\n", "bx") && !ignored("[a-c]x\n", "dx"), "a character class");
	ok(ignored("[!a]x\n", "bx") && !ignored("[^a]x\n", "ax"), "a negated class");
	ok(ignored("a\\*b\n", "a*b") && !ignored("a\\*b\n", "axb"), "\\ escapes");
	ok(ignored("**\n", "any/thing"), "** alone is everything");
	ok(ignored("d/**/x\n", "d/x") && ignored("d/**/x\n", "d/1/2/x"), "/**/ in the middle");
	ok(!ignored("\n\n", "x"), "an empty file ignores nothing");
	/* a hostile pattern ends */
	ok(!berth_ignore_pattern_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
				       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	   "backtracking is bounded");
}

static void test_cache_key(void)
{
	json_t *a = json_pack("{s:[s,s],s:s}", "Cmd", "/bin/sh", "-c", "WorkingDir", "/x");
	json_t *b = json_pack("{s:s,s:[s,s]}", "WorkingDir", "/x", "Cmd", "/bin/sh", "-c");
	json_t *c = json_pack("{s:[s,s],s:s}", "Cmd", "/bin/sh", "-c", "WorkingDir", "/y");
	char *ka = build_cache_key("sha256:1", a, NULL), *kb = build_cache_key("sha256:1", b, NULL);
	char *kc = build_cache_key("sha256:1", c, NULL), *kp = build_cache_key("sha256:2", a, NULL);
	char *ke = build_cache_key("sha256:1", a, "chown=1"), *kn = build_cache_key(NULL, a, NULL);

	ok(ka && strlen(ka) == 64, "a key is 64 hex digits");
	is_str(ka, kb, "the order of the config's keys does not matter");
	ok(strcmp(ka, kc) != 0, "another config is another key");
	ok(strcmp(ka, kp) != 0, "another parent is another key");
	ok(strcmp(ka, ke) != 0, "the flags the config does not show count");
	ok(strcmp(ka, kn) != 0, "no parent (scratch) is a parent of its own");
	free(ka), free(kb), free(kc), free(kp), free(ke), free(kn);
	json_decref(a), json_decref(b), json_decref(c);
}

static void test_parser_lines(void)
{
	struct df_instr *v = NULL;
	size_t n = 0;
	char esc;
	struct berth_error *e = NULL;

	ok(df_parse("FROM x\n\n# c\nRUN a \\\n  b\nFOO bar\n", &v, &n, &esc, &e) == 0 && n == 3,
	   "three instructions");
	if (n == 3) {
		is(v[0].line, 1, "FROM on line 1");
		is(v[1].line, 4, "RUN starts on line 4");
		is(v[2].line, 6, "FOO on line 6");
	}
	for (size_t i = 0; i < n; i++)
		df_instr_release(&v[i]);
	free(v);

	char *big = malloc(70000 + 16);
	strcpy(big, "FROM x\nRUN ");
	memset(big + 11, 'a', 70000);
	big[70011] = '\0';
	ok(df_parse(big, &v, &n, &esc, &e) == -EINVAL && e &&
		   !strcmp(e->msg, "dockerfile line greater than max allowed size of 65535"),
	   "a line past 64 KiB is refused in BuildKit's words");
	berth_error_freep(&e);
	ok(df_parse(big + 7, &v, &n, &esc, &e) == -EINVAL && e &&
		   !strcmp(e->msg, "file with no instructions"),
	   "a first line past 64 KiB leaves no instructions");
	berth_error_freep(&e);
	free(big);
}

static void test_copy_heredocs(void)
{
	const char *text = "FROM x\n"
			   "COPY --chmod=644 <<A <<-\"B\" /d/\n"
			   "a $X\n"
			   "A\n"
			   "\t\tb\n"
			   "\tB\n"
			   "ADD <<'E' /e\n"
			   "<<E\n"
			   "E\n"
			   "COPY <<<not /x\n"
			   "RUN true\n";
	struct df_instr *v = NULL;
	size_t n = 0;
	char esc, *out = NULL;
	struct berth_error *e = NULL;
	json_t *env = json_pack("[s]", "X=1 2");

	ok(df_parse(text, &v, &n, &esc, &e) == 0 && n == 5,
	   "the heredoc bodies are no instructions");
	if (n == 5) {
		is(v[1].n_heredocs, 2, "COPY takes two heredocs");
		ok(v[1].n_heredocs == 2 && !strcmp(v[1].heredocs[0].name, "A") &&
			   !strcmp(v[1].heredocs[0].content, "a $X\n") && v[1].heredocs[0].expand,
		   "an unquoted word: its content, expanded later");
		ok(v[1].n_heredocs == 2 && !strcmp(v[1].heredocs[1].name, "B") &&
			   !strcmp(v[1].heredocs[1].content, "b\n") && !v[1].heredocs[1].expand,
		   "<<-\"B\": tabs stripped, quoted");
		ok(v[2].n_heredocs == 1 && !strcmp(v[2].heredocs[0].content, "<<E\n"),
		   "ADD takes one; a line that only looks like a marker is content");
		is(v[3].n_heredocs, 0, "<<< is no heredoc");
		is(v[4].line, 11, "RUN after them on line 11");
	}
	for (size_t i = 0; i < n; i++)
		df_instr_release(&v[i]);
	free(v);

	ok(df_expand_heredoc("$X ${X} ${Y:-d} \"$X\" '\\$X' $ 5$\n", '\\', env, &out, &e) == 0 &&
		   !strcmp(out, "1 2 1 2 d \"1 2\" '\\$X' $ 5$\n"),
	   "expansion keeps quotes and escapes, expands names");
	free(out);
	ok(df_expand_heredoc("${X", '\\', env, &out, &e) == -EINVAL && e, "an open ${ is refused");
	berth_error_freep(&e);
	ok(df_parse("FROM x\nCOPY <<A <<B /d/\na\nA\n", &v, &n, &esc, &e) == -EINVAL && e &&
		   !strcmp(e->msg, "unterminated heredoc B on line 2"),
	   "the second heredoc unterminated");
	berth_error_freep(&e);
	json_decref(env);
}

int main(void)
{
	test_path_clean();
	test_dockerignore();
	test_cache_key();
	test_parser_lines();
	test_copy_heredocs();
	return done_testing();
}
