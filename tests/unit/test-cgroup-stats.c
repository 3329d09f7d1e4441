/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/cgroup's statistics and OOM watch against fake v1 and v2 trees in a temp dir: every field
 * of struct berth_cgroup_stats from the files the kernel would write, malformed lines skipped,
 * missing files read as 0; the v2 watch through inotify on memory.events, the v1 watch through
 * its eventfd (signalled here by hand, as the kernel would) with a kill counted after the signal,
 * malformed counters and the removal of the cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "tap.h"
#include "base/banned.h"

static char tmp[256];

static void put(const char *dir, const char *file, const char *content)
{
	char p[1024];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || berth_write_all(fd, content, strlen(content)) < 0)
		exit(2);
	close(fd);
}

static char *path(const char *a, const char *b)
{
	char *s = NULL;

	if (asprintf(&s, "%s%s", a, b) < 0)
		exit(2);
	return s;
}

/* a path for one use, in a rotating static buffer */
static const char *tpath(const char *a, const char *b)
{
	static char buf[4][1024];
	static int slot;
	char *s = buf[slot++ % 4];

	snprintf(s, 1024, "%s%s", a, b);
	return s;
}

static void mkdirs(const char *p)
{
	if (berth_mkdir_p(p, 0755, NULL) < 0)
		exit(2);
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 200) > 0;
}

static const struct berth_cgroup_io_entry *io(const struct berth_cgroup_io_entry *v, size_t n,
					      unsigned major, unsigned minor, const char *op)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].major == major && v[i].minor == minor && strcmp(v[i].op, op) == 0)
			return &v[i];
	return NULL;
}

static const struct berth_cgroup_hugetlb_stats *huge(const struct berth_cgroup_stats *st,
						     const char *size)
{
	for (size_t i = 0; i < st->n_hugetlb; i++)
		if (strcmp(st->hugetlb[i].page_size, size) == 0)
			return &st->hugetlb[i];
	return NULL;
}

/* ---- v2 --------------------------------------------------------------------------------- */

static void test_v2_stats(void)
{
	_cleanup_free_ char *root = path(tmp, "/v2"), *leaf = path(root, "/berth/c1");
	struct berth_cgroup *cg = NULL;
	struct berth_cgroup_stats *st = NULL;
	struct berth_error *err = NULL;
	const struct berth_cgroup_io_entry *e;

	mkdirs(leaf);
	put(leaf, "cpu.stat",
	    "usage_usec 7\nuser_usec 3\nsystem_usec 4\nnr_periods 2\nnr_throttled 1\n"
	    "throttled_usec 5\n");
	put(leaf, "memory.current", "4096\n");
	put(leaf, "memory.peak", "8192\n");
	put(leaf, "memory.max", "max\n");
	put(leaf, "memory.events", "low 0\nhigh 0\nmax 6\noom 1\noom_kill 1\n");
	put(leaf, "memory.swap.current", "10\n");
	put(leaf, "memory.swap.max", "1000\n");
	put(leaf, "memory.stat", "anon 1\nfile 2\ngarbage\nbad x\nalso 12x\n\nslab 3\n");
	put(leaf, "pids.current", "3\n");
	put(leaf, "pids.max", "50\n");
	put(leaf, "io.stat",
	    "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n"
	    "253:1 rbytes=10 wbytes=20 rios=30 wios=40\n"
	    "not a device line\n");
	put(leaf, "hugetlb.2MB.current", "0\n");
	put(leaf, "hugetlb.2MB.events", "max 2\n");
	put(leaf, "hugetlb.2MB.rsvd.current", "99\n");
	put(leaf, "hugetlb.1GB.current", "1073741824\n");

	is(berth_cgroup_new_with_driver(root, "/berth/c1", CG_DRIVER_V2, NULL, &cg, &err), 0,
	   "v2: new");
	is(berth_cgroup_stats(cg, &st, &err), 0, "v2: stats %s", err ? err->msg : "");
	if (!st)
		return;
	is(st->cpu.total, 7000, "v2: cpu total (usec -> ns)");
	is(st->cpu.user, 3000, "v2: cpu user");
	is(st->cpu.system, 4000, "v2: cpu system");
	is(st->cpu.n_percpu, 0, "v2: no per-cpu usage");
	is(st->cpu.periods, 2, "v2: periods");
	is(st->cpu.throttled_periods, 1, "v2: throttled periods");
	is(st->cpu.throttled_time, 5000, "v2: throttled time in ns");
	is(st->memory.usage.usage, 4096, "v2: memory.current");
	is(st->memory.usage.max_usage, 8192, "v2: memory.peak");
	ok(st->memory.usage.limit == UINT64_MAX, "v2: memory.max 'max' is UINT64_MAX");
	is(st->memory.usage.failcnt, 6, "v2: failcnt from memory.events max");
	is(st->memory.oom, 1, "v2: oom from memory.events oom (docker's failcnt)");
	is(st->memory.swap.usage, 10, "v2: swap usage");
	is(st->memory.swap.limit, 1000, "v2: swap limit");
	is(st->memory.cache, 2, "v2: cache is memory.stat file");
	is(st->memory.n_stat, 3, "v2: memory.stat: three good keys, malformed lines skipped");
	is(berth_cgroup_stats_memory_stat(st, "slab"), 3, "v2: memory.stat slab");
	is(berth_cgroup_stats_memory_stat(st, "nope"), 0, "v2: absent key reads 0");
	is(st->memory.kernel.usage, 0, "v2: no kmem counters");
	is(st->pids.current, 3, "v2: pids.current");
	is(st->pids.limit, 50, "v2: pids.max");
	is(st->n_io_bytes, 4, "v2: io bytes: read and write for two devices");
	is(st->n_io_ops, 4, "v2: io ops: read and write for two devices");
	e = io(st->io_bytes, st->n_io_bytes, 253, 1, "Write");
	ok(e && e->value == 20, "v2: 253:1 wbytes");
	e = io(st->io_ops, st->n_io_ops, 8, 0, "Read");
	ok(e && e->value == 3, "v2: 8:0 rios");
	is(st->n_hugetlb, 2, "v2: two page sizes (rsvd skipped)");
	ok(huge(st, "2MB") && huge(st, "2MB")->failcnt == 2 && huge(st, "2MB")->usage == 0,
	   "v2: hugetlb 2MB failcnt from events");
	ok(huge(st, "1GB") && huge(st, "1GB")->usage == 1073741824, "v2: hugetlb 1GB usage");
	berth_cgroup_stats_free(st);

	/* limits other than "max"; most files missing: zeros, not errors */
	put(leaf, "pids.max", "max\n");
	put(leaf, "memory.max", "1048576\n");
	unlink(tpath(leaf, "/io.stat"));
	unlink(tpath(leaf, "/cpu.stat"));
	unlink(tpath(leaf, "/memory.stat"));
	st = NULL;
	is(berth_cgroup_stats(cg, &st, &err), 0, "v2: stats with files missing");
	ok(st && st->pids.limit == 0, "v2: pids.max 'max' reads as limit 0 (none)");
	ok(st && st->memory.usage.limit == 1048576, "v2: memory.max as a number");
	ok(st && st->cpu.total == 0 && st->n_io_bytes == 0 && st->memory.n_stat == 0,
	   "v2: missing files read as 0");
	berth_cgroup_stats_free(st);
	berth_cgroup_free(cg);

	/* a cgroup that is not there: an error naming it */
	cg = NULL;
	berth_cgroup_new_with_driver(root, "/berth/gone", CG_DRIVER_V2, NULL, &cg, NULL);
	st = NULL;
	is(berth_cgroup_stats(cg, &st, &err), -ENOENT, "v2: stats of a missing cgroup: ENOENT");
	ok(err && strstr(err->msg, "/berth/gone"), "v2: the error names it: %s",
	   err ? err->msg : "");
	berth_error_free(err);
	berth_cgroup_free(cg);
}

static void test_v2_oom_watch(void)
{
	_cleanup_free_ char *root = path(tmp, "/v2o"), *leaf = path(root, "/berth/c1");
	struct berth_cgroup *cg = NULL;
	struct berth_cgroup_events *ev = NULL;
	struct berth_cgroup_event_counts n;
	struct berth_error *err = NULL;

	mkdirs(leaf);
	berth_cgroup_new_with_driver(root, "/berth/c1", CG_DRIVER_V2, NULL, &cg, NULL);
	is(berth_cgroup_events_open(cg, &ev, &err), -ENOTSUP, "v2 oom: no memory.events: ENOTSUP");
	ok(err && strstr(err->msg, "memory"), "v2 oom: says why: %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;

	/* counters already above 0 when the watch starts are the baseline, not events */
	put(leaf, "memory.events", "low 0\nhigh 0\nmax 0\noom 2\noom_kill 1\n");
	is(berth_cgroup_events_open(cg, &ev, &err), 0, "v2 oom: open %s", err ? err->msg : "");
	if (!ev)
		return;
	ok(!readable(berth_cgroup_events_fd(ev)), "v2 oom: quiet at first");
	put(leaf, "memory.events", "low 0\nhigh 3\nmax 4\noom 3\noom_kill 3\n");
	ok(readable(berth_cgroup_events_fd(ev)), "v2 oom: memory.events changed: readable");
	is(berth_cgroup_events_read(ev, &n, &err), 0, "v2 oom: read");
	ok(n.oom == 1 && n.oom_kill == 2 && !n.gone, "v2 oom: one oom, two kills since the start");
	ok(!readable(berth_cgroup_events_fd(ev)), "v2 oom: drained");
	is(berth_cgroup_events_read(ev, &n, &err), 0, "v2 oom: read again");
	ok(n.oom == 0 && n.oom_kill == 0 && !n.gone, "v2 oom: nothing new");
	put(leaf, "memory.events", "low 0\nhigh 3\nmax 4\noom 3\noom_kill 3\n");
	berth_cgroup_events_read(ev, &n, &err);
	ok(n.oom == 0 && n.oom_kill == 0, "v2 oom: a write without a new kill is no event");
	/* oom_kill is its own key: oom_group_kill, and other keys ending in it, are not kills */
	put(leaf, "memory.events",
	    "low 0\nhigh 3\nmax 4\noom 3\noom_kill 3\noom_group_kill 2\nxoom_kill 9\n");
	berth_cgroup_events_read(ev, &n, &err);
	ok(n.oom == 0 && n.oom_kill == 0, "v2 oom: oom_group_kill is not oom_kill");
	/* a count that is not a number: an error naming the key, and the watch goes on */
	put(leaf, "memory.events", "low 0\nhigh 3\nmax 4\noom 3\noom_kill x\n");
	is(berth_cgroup_events_read(ev, &n, &err), -EINVAL, "v2 oom: a bad count is an error");
	ok(err && strstr(err->msg, "'oom_kill'") && strstr(err->msg, "memory.events"),
	   "v2 oom: naming the key and the file: %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	put(leaf, "memory.events", "low 0\nhigh 3\nmax 4\noom 4\noom_kill 4\n");
	is(berth_cgroup_events_read(ev, &n, &err), 0, "v2 oom: read after the bad count");
	ok(n.oom == 1 && n.oom_kill == 1, "v2 oom: the next kill counts from the last good read");
	/* the cgroup goes: the watch says so */
	unlink(tpath(leaf, "/memory.events"));
	ok(readable(berth_cgroup_events_fd(ev)), "v2 oom: removal wakes the watch");
	is(berth_cgroup_events_read(ev, &n, &err), 0, "v2 oom: read after removal");
	ok(n.gone, "v2 oom: gone");
	berth_cgroup_events_read(ev, &n, &err);
	ok(n.gone && n.oom == 0, "v2 oom: stays gone");
	berth_cgroup_events_free(ev);
	berth_cgroup_events_free(NULL);
	berth_cgroup_free(cg);
}

/* ---- v1 --------------------------------------------------------------------------------- */

static const char *const hier[][2] = {
	{"memory", "rw,memory"}, {"cpu,cpuacct", "rw,cpu,cpuacct"}, {"pids", "rw,pids"},
	{"blkio", "rw,blkio"},	 {"hugetlb", "rw,hugetlb"},
};

/* The tree and its mountinfo; returns the mountinfo's path. */
static char *fake_v1(const char *root)
{
	char *mi = path(root, "-mountinfo");
	FILE *f = fopen(mi, "we");

	if (!f)
		exit(2);
	fprintf(f, "23 1 0:22 / %s rw - tmpfs tmpfs rw\n", root);
	for (size_t i = 0; i < ARRAY_SIZE(hier); i++) {
		_cleanup_free_ char *d = NULL;
		fprintf(f, "%zu 23 0:%zu / %s/%s rw - cgroup cgroup %s\n", 30 + i, 30 + i, root,
			hier[i][0], hier[i][1]);
		if (asprintf(&d, "%s/%s/berth/c1", root, hier[i][0]) < 0)
			exit(2);
		mkdirs(d);
	}
	fclose(f);
	return mi;
}

static void test_v1_stats(void)
{
	_cleanup_free_ char *root = path(tmp, "/v1"), *mi = fake_v1(root);
	_cleanup_free_ char *mem = path(root, "/memory/berth/c1"),
			    *cpu = path(root, "/cpu,cpuacct/berth/c1"),
			    *pids = path(root, "/pids/berth/c1"),
			    *blk = path(root, "/blkio/berth/c1"),
			    *hug = path(root, "/hugetlb/berth/c1");
	struct berth_cgroup *cg = NULL;
	struct berth_cgroup_stats *st = NULL;
	struct berth_error *err = NULL;
	const struct berth_cgroup_io_entry *e;
	long hz = sysconf(_SC_CLK_TCK);

	put(cpu, "cpuacct.usage", "123456789\n");
	put(cpu, "cpuacct.usage_percpu", "100 200 300 \n");
	put(cpu, "cpuacct.stat", "user 10\nsystem 5\n");
	put(cpu, "cpu.stat", "nr_periods 7\nnr_throttled 2\nthrottled_time 999\n");
	put(mem, "memory.usage_in_bytes", "4096\n");
	put(mem, "memory.max_usage_in_bytes", "8192\n");
	put(mem, "memory.limit_in_bytes", "16777216\n");
	put(mem, "memory.failcnt", "3\n");
	put(mem, "memory.memsw.usage_in_bytes", "5000\n");
	put(mem, "memory.memsw.limit_in_bytes", "9223372036854771712\n");
	put(mem, "memory.kmem.usage_in_bytes", "77\n");
	put(mem, "memory.kmem.tcp.max_usage_in_bytes", "88\n");
	put(mem, "memory.stat", "cache 11\nrss 22\ntotal_cache 11\nbroken line here\n");
	put(pids, "pids.current", "4\n");
	put(pids, "pids.max", "max\n");
	put(blk, "blkio.throttle.io_service_bytes_recursive",
	    "8:0 Read 100\n8:0 Write 200\n8:0 Sync 300\n8:0 Async 0\n8:0 Discard 0\n"
	    "8:0 Total 300\nTotal 300\n");
	put(blk, "blkio.throttle.io_serviced_recursive", "8:0 Read 1\n8:0 Write 2\nTotal 3\n");
	put(hug, "hugetlb.2MB.usage_in_bytes", "2097152\n");
	put(hug, "hugetlb.2MB.max_usage_in_bytes", "4194304\n");
	put(hug, "hugetlb.2MB.failcnt", "1\n");
	put(hug, "hugetlb.2MB.rsvd.usage_in_bytes", "5\n");

	is(berth_cgroup_new_with_driver(root, "/berth/c1", CG_DRIVER_V1, mi, &cg, &err), 0,
	   "v1: new %s", err ? err->msg : "");
	is(berth_cgroup_stats(cg, &st, &err), 0, "v1: stats %s", err ? err->msg : "");
	if (!st)
		return;
	is(st->cpu.total, 123456789, "v1: cpuacct.usage");
	ok(st->cpu.n_percpu == 3 && st->cpu.percpu[0] == 100 && st->cpu.percpu[2] == 300,
	   "v1: per-cpu usage");
	is(st->cpu.user, 10 * (1000000000 / hz), "v1: user ticks -> ns");
	is(st->cpu.system, 5 * (1000000000 / hz), "v1: system ticks -> ns");
	ok(st->cpu.periods == 7 && st->cpu.throttled_periods == 2 && st->cpu.throttled_time == 999,
	   "v1: throttling");
	ok(st->memory.usage.usage == 4096 && st->memory.usage.max_usage == 8192 &&
		   st->memory.usage.limit == 16777216 && st->memory.usage.failcnt == 3,
	   "v1: memory usage counter");
	ok(st->memory.swap.usage == 5000 && st->memory.swap.limit == 9223372036854771712ULL,
	   "v1: memsw counter, the kernel's no-limit value as is");
	ok(st->memory.kernel.usage == 77 && st->memory.kernel_tcp.max_usage == 88,
	   "v1: kmem and kmem.tcp counters");
	is(st->memory.cache, 11, "v1: cache from memory.stat");
	is(st->memory.n_stat, 3, "v1: memory.stat keys, the broken line skipped");
	is(berth_cgroup_stats_memory_stat(st, "rss"), 22, "v1: memory.stat rss");
	ok(st->pids.current == 4 && st->pids.limit == 0, "v1: pids, 'max' as limit 0");
	is(st->n_io_bytes, 6,
	   "v1: io bytes: six ops of 8:0 (its Total too), the bare Total left out");
	e = io(st->io_bytes, st->n_io_bytes, 8, 0, "Sync");
	ok(e && e->value == 300, "v1: 8:0 Sync bytes");
	is(st->n_io_ops, 2, "v1: io ops");
	e = io(st->io_ops, st->n_io_ops, 8, 0, "Write");
	ok(e && e->value == 2, "v1: 8:0 Write ops");
	ok(st->n_hugetlb == 1 && huge(st, "2MB") && huge(st, "2MB")->usage == 2097152 &&
		   huge(st, "2MB")->max_usage == 4194304 && huge(st, "2MB")->failcnt == 1,
	   "v1: hugetlb 2MB, rsvd skipped");
	berth_cgroup_stats_free(st);
	berth_cgroup_free(cg);
}

static void test_v1_oom_watch(void)
{
	_cleanup_free_ char *root = path(tmp, "/v1o"), *mi = fake_v1(root);
	_cleanup_free_ char *mem = path(root, "/memory/berth/c1");
	struct berth_cgroup *cg = NULL;
	struct berth_cgroup_events *ev = NULL;
	struct berth_cgroup_event_counts n;
	struct berth_error *err = NULL;
	char *reg = NULL;
	int fd;

	put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
	put(mem, "cgroup.event_control", "");
	berth_cgroup_new_with_driver(root, "/berth/c1", CG_DRIVER_V1, mi, &cg, NULL);
	is(berth_cgroup_events_open(cg, &ev, &err), 0, "v1 oom: open %s", err ? err->msg : "");
	if (!ev)
		return;
	fd = berth_cgroup_events_fd(ev);
	/* what the kernel was told: "<eventfd> <fd of memory.oom_control>" */
	berth_read_file_at(AT_FDCWD, tpath(mem, "/cgroup.event_control"), 64, &reg, NULL, NULL);
	int efd = -1, cfd = -1;
	char link[256] = "";
	ok(reg && sscanf(reg, "%d %d", &efd, &cfd) == 2, "v1 oom: registered '%s'", reg ? reg : "");
	free(reg);
	char fdpath[64];
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", efd);
	ssize_t l = readlink(fdpath, link, sizeof(link) - 1);
	link[l > 0 ? l : 0] = '\0';
	is_str(link, "anon_inode:[eventfd]", "v1 oom: the first is an eventfd");
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", cfd);
	l = readlink(fdpath, link, sizeof(link) - 1);
	link[l > 0 ? l : 0] = '\0';
	is_str(link, tpath(mem, "/memory.oom_control"), "v1 oom: the second memory.oom_control");
	ok(!readable(fd), "v1 oom: quiet at first");
	/* the kernel signals the eventfd once per OOM; oom_kill counts the kills */
	ok(eventfd_write(efd, 2) == 0, "v1 oom: (signal the eventfd as the kernel would)");
	put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	ok(readable(fd), "v1 oom: readable");
	is(berth_cgroup_events_read(ev, &n, &err), 0, "v1 oom: read");
	ok(n.oom == 2 && n.oom_kill == 1 && !n.gone, "v1 oom: two notifications, one new kill");
	is(berth_cgroup_events_read(ev, &n, &err), 0, "v1 oom: read with nothing new");
	ok(n.oom == 0 && n.oom_kill == 0 && !n.gone, "v1 oom: nothing new");
	ok(!readable(fd), "v1 oom: quiet after a notification with its kill");
	/*
	 * The kernel signals before it has counted the kill: the notification alone, then the
	 * count raised later, with no signal of its own.  The watch wakes up again to report it.
	 */
	eventfd_write(efd, 1);
	is(berth_cgroup_events_read(ev, &n, &err), 0, "v1 oom: read the notification");
	ok(n.oom == 1 && n.oom_kill == 0, "v1 oom: an OOM, its kill not counted yet");
	put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
	ok(readable(fd), "v1 oom: the watch wakes up again");
	is(berth_cgroup_events_read(ev, &n, &err), 0, "v1 oom: read the late count");
	ok(n.oom == 0 && n.oom_kill == 1, "v1 oom: the kill, counted late, reported");
	ok(!readable(fd), "v1 oom: quiet once the kill is reported");
	/* a bad count: an error naming the key */
	put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill -1\n");
	eventfd_write(efd, 1);
	is(berth_cgroup_events_read(ev, &n, &err), -EINVAL, "v1 oom: a bad count is an error");
	ok(err && strstr(err->msg, "'oom_kill'"), "v1 oom: naming the key: %s",
	   err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	/* removal of the cgroup also signals the eventfd */
	unlink(tpath(mem, "/cgroup.event_control"));
	eventfd_write(efd, 1);
	is(berth_cgroup_events_read(ev, &n, &err), 0, "v1 oom: read after removal");
	ok(n.gone && n.oom == 0, "v1 oom: gone, not an OOM");
	berth_cgroup_events_free(ev);

	/* a kernel before 4.13 has no oom_kill line: no kills counted, the OOMs still are */
	put(mem, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
	put(mem, "cgroup.event_control", "");
	ev = NULL;
	is(berth_cgroup_events_open(cg, &ev, &err), 0, "v1 oom: open without oom_kill");
	reg = NULL;
	berth_read_file_at(AT_FDCWD, tpath(mem, "/cgroup.event_control"), 64, &reg, NULL, NULL);
	efd = -1;
	if (reg)
		sscanf(reg, "%d", &efd);
	free(reg);
	eventfd_write(efd, 1);
	n.oom = 0;
	is(ev ? berth_cgroup_events_read(ev, &n, &err) : -1, 0, "v1 oom: read without oom_kill");
	ok(n.oom == 1 && n.oom_kill == 0, "v1 oom: no oom_kill line reads as no kills");
	berth_cgroup_events_free(ev);
	berth_cgroup_free(cg);

	/* no memory hierarchy: ENOTSUP */
	_cleanup_free_ char *mi2 = path(tmp, "/nomem-mountinfo");
	FILE *f = fopen(mi2, "we");
	fprintf(f, "30 1 0:30 / %s/pids rw - cgroup cgroup rw,pids\n", root);
	fclose(f);
	cg = NULL;
	berth_cgroup_new_with_driver(root, "/berth/c1", CG_DRIVER_V1, mi2, &cg, NULL);
	is(berth_cgroup_events_open(cg, &ev, &err), -ENOTSUP, "v1 oom: no memory controller");
	ok(err && strstr(err->msg, "memory"), "v1 oom: says so: %s", err ? err->msg : "");
	berth_error_free(err);
	berth_cgroup_free(cg);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/berth-test-cgstats-XXXXXX");
	if (!mkdtemp(tmp))
		return 2;
	test_v2_stats();
	test_v2_oom_watch();
	test_v1_stats();
	test_v1_oom_watch();
	berth_rm_rf(tmp, NULL);
	return done_testing();
}
