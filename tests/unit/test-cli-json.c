/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli/json-load.c against jansson's json_loadb(): the same values (equal, keys in the same
 * order) for what both take, NULL for what jansson refuses, on hand-picked cases (escapes,
 * surrogates, UTF-8 edges, numbers, duplicate keys, depth) and on thousands of documents made by
 * damaging valid ones byte by byte.  Then the arena the CLI parses answers into (cli/arena.c):
 * blocks aligned and apart, malloc outside the parse window and past the region's end, frees
 * of both kinds, and jansson working on values that live there.
 */
#include <stdlib.h>
#include <string.h>

#include <pthread.h>
#include <stdint.h>

#include "cli/arena.h"
#include "cli/json-load.h"
#include "tap.h"

static char *dump(const json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
}

/* 1: both took it, equal; 0: both refused; -1: they differ */
static int compare(const char *buf, size_t len)
{
	json_t *a = cli_json_load(buf, len), *b = json_loadb(buf, len, JSON_DECODE_ANY, NULL);
	char *da = dump(a), *db = dump(b);
	int r = (!a && !b) ? 0 : a && b && json_equal(a, b) && strcmp(da, db) == 0 ? 1 : -1;

	free(da);
	free(db);
	json_decref(a);
	json_decref(b);
	return r;
}

static const char *const taken[] = {
	"{}",
	"[]",
	" \t\r\n[ 1 , 2 ]\n",
	"\"top\"",
	"42",
	"-0",
	"true",
	"null",
	"{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
	"{\"z\":1,\"a\":2,\"m\":3}",
	"{\"dup\":1,\"x\":2,\"dup\":3}",
	"[0.5,-1.25e3,1E+2,1e-2,3.0,-0.0,9223372036854775807,-9223372036854775808]",
	"[1.7976931348623157e308,4.9e-324,1e-400]",
	"\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t end\"",
	"\"\\u00e9\\u20AC\\ud83d\\ude00 \\u0001\"",
	"\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \x7f\"",
	"{\"k\\u00e9y\":\"v\\n\",\"k\\\"2\":{\"inner\\t\":[\"a\\\\b\"]}}",
	"{\"Labels\":{\"com.example\":\"x\"},\"Names\":[\"/bench-1\"],\"Created\":1733300000}",
	"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	"\"\"",
	"{\"\":\"\"}",
};

static const char *const refused[] = {
	"",
	"   ",
	"{",
	"[1,]",
	"{\"a\":1,}",
	"{\"a\" 1}",
	"{1:2}",
	"[01]",
	"[1.]",
	"[.5]",
	"[1e]",
	"[-]",
	"[+1]",
	"[1]x",
	"[1] [2]",
	"[9223372036854775808]",
	"[1e400]",
	"[NaN]",
	"[tru]",
	"\"unterminated",
	"\"bad escape \\x\"",
	"\"\\u12\"",
	"\"\\u0000\"",
	"\"\\udc00\"",
	"\"\\ud800\"",
	"\"\\ud800\\u0041\"",
	"\"raw\ttab\"",
	"\"\xc0\xaf\"",
	"\"\xed\xa0\x80\"",
	"\"\xf4\x90\x80\x80\"",
	"\"\xe2\x82\"",
	"\"\x80\"",
	"'single'",
};

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(taken) / sizeof(*taken); i++) {
		json_t *a = cli_json_load(taken[i], strlen(taken[i]));
		ok(a != NULL, "taken by the fast loader: case %zu", i);
		json_decref(a);
		is(compare(taken[i], strlen(taken[i])), 1, "same as jansson: case %zu", i);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++)
		is(compare(refused[i], strlen(refused[i])), 0, "refused by both: case %zu", i);
	/* a NUL byte inside the buffer */
	is(compare("[1,\0 2]", 6), 0, "a NUL byte is refused");
	/* past the fast loader's depth: jansson's to read (and it does) */
	char deep[2 * 600 + 2];
	memset(deep, '[', 600);
	memset(deep + 600, ']', 600);
	deep[1200] = '\0';
	json_t *a = cli_json_load(deep, 1200), *b = json_loadb(deep, 1200, 0, NULL);
	ok(!a && b, "600 levels: left to jansson, which takes them");
	json_decref(b);
}

/* xorshift: the same documents on every run */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned next(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void test_damaged(void)
{
	static const char seed[] =
		"[{\"Id\":\"5f3c0a\",\"Names\":[\"/"
		"b-1\"],\"Image\":\"busybox\",\"Command\":\"sleep "
		"600\",\"Created\":1733300000,\"Ports\":[{\"PrivatePort\":80,\"Type\":\"tcp\"}],"
		"\"Labels\":{\"a\":\"\\u00e9\\n\"},\"State\":\"running\",\"Status\":\"Up 2 "
		"minutes\",\"HostConfig\":{\"NetworkMode\":\"bridge\"},\"Size\":-1.5e2,"
		"\"Mounts\":[],\"X\":[true,false,null,0,\"caf\xc3\xa9\",\"\\ud83d\\ude00\"]}]";
	static const char alphabet[] = "{}[]\":,\\/ tfn0123456789.-+eEu\x80\xc3\xa9\xed\xf0";
	size_t n = strlen(seed), same = 0, both_refused = 0, differ = 0;
	char buf[sizeof(seed) + 8];

	for (int iter = 0; iter < 20000; iter++) {
		memcpy(buf, seed, n + 1);
		size_t len = n;
		for (unsigned k = 0, edits = 1 + next(3); k < edits && len; k++) {
			size_t at = next((unsigned)len);
			switch (next(3)) {
			case 0: /* replace */
				buf[at] = alphabet[next(sizeof(alphabet) - 1)];
				break;
			case 1: /* delete */
				memmove(buf + at, buf + at + 1, len - at);
				len--;
				break;
			default: /* cut */
				len = at;
				break;
			}
		}
		int r = compare(buf, len);
		same += r == 1;
		both_refused += r == 0;
		if (r < 0 && differ++ < 5)
			printf("# differs: %.*s\n", (int)len, buf);
	}
	is(differ, 0,
	   "20000 damaged documents: the same answer as jansson (%zu taken, %zu refused)", same,
	   both_refused);
	ok(same > 100 && both_refused > 100, "both kinds were tried");
}

static void test_arena_blocks(void)
{
	enum { N = 64 };
	unsigned char *p[N];
	bool aligned = true, owned = true, intact = true;

	cli_arena_open();
	for (int i = 0; i < N; i++) {
		size_t n = (size_t)i * 7 + (i == 0 ? 0 : 1);

		p[i] = cli_arena_alloc(n);
		aligned &= ((uintptr_t)p[i] % 16) == 0;
		owned &= cli_arena_owns(p[i]);
		memset(p[i], i, n);
	}
	cli_arena_close();
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < (size_t)i * 7 + (i == 0 ? 0 : 1); k++)
			intact &= p[i][k] == (unsigned char)i;
	ok(aligned, "arena: blocks are 16-byte aligned");
	ok(owned, "arena: blocks inside the parse window come from the region");
	ok(intact, "arena: blocks do not overlap");

	void *m = cli_arena_alloc(100);

	ok(m && !cli_arena_owns(m), "arena: outside the window, malloc");
	cli_arena_free(m);
	for (int i = 0; i < N; i++)
		cli_arena_free(p[i]);
}

static void test_arena_jansson(void)
{
	static const char doc[] = "{\"Names\":[\"/a\"],\"Labels\":{\"x\":\"1\"},\"N\":{}}";

	cli_arena_install();
	cli_arena_open();
	json_t *j = cli_json_load(doc, sizeof(doc) - 1);
	cli_arena_close();
	ok(j != NULL, "arena: a document loads into it");
	/* grow a parsed object past its first table: jansson frees the old buckets */
	json_t *n = json_object_get(j, "N");
	char key[16];

	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		json_object_set_new(n, key, json_integer(i));
	}
	char *text = json_dumps(j, JSON_COMPACT); /* outside the window: malloc, freed by free() */

	ok(text && strstr(text, "\"k39\":39") && strncmp(text, "{\"Names\":[\"/a\"]", 15) == 0,
	   "arena: parsed values are modified and dumped");
	free(text);
	json_decref(j);
}

enum { THREADS = 4, BLOCKS = 1000, BLOCK = 64 };
static unsigned char *blocks[THREADS][BLOCKS];

static void *take_blocks(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int i = 0; i < BLOCKS; i++) {
		blocks[id][i] = cli_arena_take(BLOCK);
		memset(blocks[id][i], id + 1, BLOCK);
	}
	return NULL;
}

/* compose's threads take blocks at the same time: none is handed out twice */
static void test_arena_threads(void)
{
	pthread_t t[THREADS];
	bool intact = true;

	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, take_blocks, (void *)(intptr_t)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int id = 0; id < THREADS; id++)
		for (int i = 0; i < BLOCKS; i++)
			for (int k = 0; k < BLOCK; k++)
				intact &= blocks[id][i][k] == id + 1;
	ok(intact, "arena: blocks taken by %d threads at once do not overlap", THREADS);
}

static void test_arena_full(void)
{
	size_t total = 0;
	void *last = NULL;

	cli_arena_open();
	while (total < ((size_t)3 << 20)) {
		last = cli_arena_alloc(4096);
		if (!last || !cli_arena_owns(last))
			break;
		total += 4096;
	}
	cli_arena_close();
	ok(last && !cli_arena_owns(last) && total >= ((size_t)1 << 20) &&
		   total <= ((size_t)2 << 20),
	   "arena: past the region's end, malloc (region %zu KiB)", total >> 10);
	cli_arena_free(last);
}

int main(void)
{
	test_cases();
	test_damaged();
	test_arena_blocks();
	test_arena_jansson();
	test_arena_threads();
	test_arena_full();
	return done_testing();
}
