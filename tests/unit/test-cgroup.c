/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/cgroup against fake trees in a temp dir (both drivers forced, so the exact values written
 * can be read back), then, as root, against the real kernel: the v2 driver on the host's cgroup2
 * mount (/sys/fs/cgroup/unified) and the v1 driver on /sys/fs/cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup-internal.h"
#include "tap.h"
#include "base/banned.h"

static char tmp[256];

static void skip(const char *why)
{
	printf("ok %d # skip %s\n", ++tap_n, why);
}

static void put(const char *dir, const char *file, const char *content)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		perror(p);
		exit(2);
	}
	if (berth_write_all(fd, content, strlen(content)) < 0)
		exit(2);
	close(fd);
}

/* the file's text without its trailing newline; "(missing)" when it is not there */
static const char *get(const char *dir, const char *file)
{
	static char buf[8][4096];
	static int slot;
	char p[1024], *data = NULL;
	char *b = buf[slot++ % 8];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	if (berth_read_file_at(AT_FDCWD, p, 4000, &data, NULL, NULL) < 0)
		return "(missing)";
	snprintf(b, 4096, "%s", data);
	free(data);
	size_t l = strlen(b);
	while (l && b[l - 1] == '\n')
		b[--l] = '\0';
	return b;
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static void mkdirs(const char *p)
{
	if (berth_mkdir_p(p, 0755, NULL) < 0)
		exit(2);
}

static char *cat(const char *a, const char *b)
{
	static char buf[8][1024];
	static int slot;
	char *s = buf[slot++ % 8];
	if (snprintf(s, 1024, "%s%s", a, b) >= 1024)
		abort(); /* test paths are short; a long one is a bug in the test */
	return s;
}

static struct berth_key_value *kv1(const char *k, const char *v)
{
	struct berth_key_value *kv = calloc(1, sizeof(*kv));
	kv->key = strdup(k);
	kv->value = strdup(v);
	return kv;
}

static struct berth_resources *full_resources(void)
{
	struct berth_resources *r = berth_resources_new();

	r->memory_limit = 256 << 20;
	r->memory_reservation = 128 << 20;
	r->memory_swap = 512 << 20;
	r->cpu_shares = 1024;
	r->cpu_quota = 50000;
	r->cpu_period = 100000;
	r->cpu_burst = 1000;
	r->cpu_idle = 0;
	r->cpu_cpus = strdup("0-1");
	r->cpu_mems = strdup("0");
	r->pids_limit = 100;
	r->blkio_weight = 500;
	r->throttle_read_bps = calloc(1, sizeof(*r->throttle_read_bps));
	r->throttle_read_bps[0] = (struct berth_throttle_device){8, 0, 1048576};
	r->n_throttle_read_bps = 1;
	r->hugepage_limits = calloc(1, sizeof(*r->hugepage_limits));
	r->hugepage_limits[0].page_size = strdup("2MB");
	r->hugepage_limits[0].limit = 4194304;
	r->n_hugepage_limits = 1;
	r->rdma = kv1("mlx5_0", "hca_handle=2 hca_object=100");
	r->n_rdma = 1;
	r->unified = kv1("memory.high", "300000000");
	r->n_unified = 1;
	return r;
}

/* ---- v2, fake tree ---------------------------------------------------------------------- */

static const char *const v2_files[] = {
	"memory.max",	 "memory.low",	    "memory.swap.max",	  "memory.high",
	"cpu.weight",	 "cpu.max",	    "cpu.max.burst",	  "cpu.idle",
	"cpuset.cpus",	 "cpuset.mems",	    "pids.max",		  "io.weight",
	"io.max",	 "hugetlb.2MB.max", "rdma.max",		  "cgroup.procs",
	"cgroup.freeze", "cgroup.events",   "cgroup.controllers", "cgroup.subtree_control"};

static void fake_v2_dir(const char *d, const char *controllers, bool leaf)
{
	mkdirs(d);
	put(d, "cgroup.controllers", controllers);
	put(d, "cgroup.subtree_control", "");
	if (leaf)
		for (size_t i = 0; i < ARRAY_SIZE(v2_files); i++)
			if (strncmp(v2_files[i], "cgroup.", 7) != 0)
				put(d, v2_files[i], "");
	if (leaf) {
		put(d, "cgroup.procs", "");
		put(d, "cgroup.freeze", "0");
		put(d, "cgroup.events", "populated 0\nfrozen 0\n");
	}
}

static void test_v2_fake(void)
{
	const char *all = "cpuset cpu io memory hugetlb pids rdma";
	char *root = strdup(cat(tmp, "/v2"));
	char *leaf = strdup(cat(root, "/berth/c1"));
	struct berth_cgroup *cg = NULL;
	struct berth_error *err = NULL;
	struct berth_resources *r = full_resources();
	int q;

	fake_v2_dir(root, all, false);
	fake_v2_dir(cat(root, "/berth"), all, false);
	fake_v2_dir(leaf, all, true);

	q = berth_cgroup_new_with_driver(root, "berth//c1/", CG_DRIVER_V2, NULL, &cg, &err);
	is(q, 0, "v2: new (forced)");
	is_str(berth_cgroup_driver(cg), "v2", "v2: driver name");
	is_str(berth_cgroup_path(cg), "/berth/c1", "v2: path normalized");

	q = berth_cgroup_create(cg, r, 4242, &err);
	is(q, 0, "v2: create with full resources (%s)", err ? err->msg : "");
	is_str(get(root, "cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids +rdma",
	       "v2: root enables the needed controllers");
	is_str(get(cat(root, "/berth"), "cgroup.subtree_control"),
	       "+cpuset +cpu +io +memory +hugetlb +pids +rdma", "v2: each ancestor too");
	is_str(get(leaf, "cgroup.subtree_control"), "", "v2: the leaf's own subtree untouched");
	is_str(get(leaf, "memory.max"), "268435456", "v2: memory.max");
	is_str(get(leaf, "memory.low"), "134217728", "v2: memory.low from reservation");
	is_str(get(leaf, "memory.swap.max"), "268435456", "v2: memory.swap.max = swap - limit");
	is_str(get(leaf, "cpu.weight"), "39", "v2: cpu.weight from 1024 shares");
	is_str(get(leaf, "cpu.max"), "50000 100000", "v2: cpu.max quota period");
	is_str(get(leaf, "cpu.max.burst"), "1000", "v2: cpu.max.burst");
	is_str(get(leaf, "cpu.idle"), "0", "v2: cpu.idle");
	is_str(get(leaf, "cpuset.cpus"), "0-1", "v2: cpuset.cpus");
	is_str(get(leaf, "cpuset.mems"), "0", "v2: cpuset.mems");
	is_str(get(leaf, "pids.max"), "100", "v2: pids.max");
	is_str(get(leaf, "io.weight"), "4950", "v2: io.weight from blkio weight 500");
	is_str(get(leaf, "io.max"), "8:0 rbps=1048576", "v2: io.max");
	is_str(get(leaf, "hugetlb.2MB.max"), "4194304", "v2: hugetlb.2MB.max");
	is_str(get(leaf, "rdma.max"), "mlx5_0 hca_handle=2 hca_object=100", "v2: rdma.max");
	is_str(get(leaf, "memory.high"), "300000000", "v2: unified written verbatim");
	is_str(get(leaf, "cgroup.procs"), "4242", "v2: pid moved in");
	berth_resources_free(r);

	/* a process joining itself: "0" to the one cgroup.procs */
	is(berth_cgroup_procs_open(cg, &err), 0, "v2: procs_open %s", err ? err->msg : "");
	put(leaf, "cgroup.procs", "");
	is(berth_cgroup_join_self(cg, NULL), 0, "v2: join_self");
	is_str(get(leaf, "cgroup.procs"), "0", "v2: join_self wrote 0 to the one cgroup.procs");
	berth_cgroup_procs_close(cg);

	/* update: only what is given changes */
	r = berth_resources_new();
	r->pids_limit = -1;
	r->cpu_quota = 20000;
	q = berth_cgroup_update(cg, r, &err);
	is(q, 0, "v2: update pids and quota");
	is_str(get(leaf, "pids.max"), "max", "v2: pids -1 -> max");
	is_str(get(leaf, "cpu.max"), "20000", "v2: quota alone keeps the period");
	is_str(get(leaf, "memory.max"), "268435456", "v2: memory.max untouched by update");
	is_str(get(leaf, "cpu.weight"), "39", "v2: cpu.weight untouched by update");
	berth_resources_free(r);

	r = berth_resources_new();
	r->cpu_period = 200000;
	r->memory_swap = 1 << 30;
	q = berth_cgroup_update(cg, r, &err);
	is(q, 0, "v2: update period and swap alone");
	is_str(get(leaf, "cpu.max"), "20000 200000", "v2: period alone keeps the quota in force");
	is_str(get(leaf, "memory.swap.max"), "805306368",
	       "v2: swap alone measured against memory.max in force");
	berth_resources_free(r);

	/* conversions at their edges */
	static const struct {
		int64_t shares, weight;
	} sh[] = {{2, 1}, {262144, 10000}, {1, 1}, {1000000, 10000}, {512, 20}};
	for (size_t i = 0; i < ARRAY_SIZE(sh); i++) {
		char want[32];
		r = berth_resources_new();
		r->cpu_shares = sh[i].shares;
		berth_cgroup_update(cg, r, NULL);
		snprintf(want, sizeof(want), "%lld", (long long)sh[i].weight);
		is_str(get(leaf, "cpu.weight"), want, "v2: shares %lld -> weight %s",
		       (long long)sh[i].shares, want);
		berth_resources_free(r);
	}
	static const struct {
		int64_t blkio, io;
	} bw[] = {{10, 1}, {1000, 10000}, {100, 910}};
	for (size_t i = 0; i < ARRAY_SIZE(bw); i++) {
		char want[32];
		r = berth_resources_new();
		r->blkio_weight = bw[i].blkio;
		berth_cgroup_update(cg, r, NULL);
		snprintf(want, sizeof(want), "%lld", (long long)bw[i].io);
		is_str(get(leaf, "io.weight"), want, "v2: blkio weight %lld -> io.weight %s",
		       (long long)bw[i].blkio, want);
		berth_resources_free(r);
	}
	r = berth_resources_new();
	r->blkio_weight = 5;
	q = berth_cgroup_update(cg, r, &err);
	is(q, -EINVAL, "v2: blkio weight 5 refused");
	berth_error_free(err);
	err = NULL;
	r->blkio_weight = BERTH_UNSET;
	r->memory_limit = -1;
	r->memory_swap = -1;
	q = berth_cgroup_update(cg, r, &err);
	is(q, 0, "v2: unlimited memory and swap");
	is_str(get(leaf, "memory.max"), "max", "v2: memory -1 -> max");
	is_str(get(leaf, "memory.swap.max"), "max", "v2: swap -1 -> max");
	r->memory_limit = 100 << 20;
	r->memory_swap = 50 << 20;
	q = berth_cgroup_update(cg, r, &err);
	is(q, -EINVAL, "v2: swap below memory refused");
	berth_error_free(err);
	err = NULL;
	is_str(get(leaf, "memory.swap.max"), "max", "v2: refused swap wrote nothing");
	berth_resources_free(r);

	/* unified map: names only */
	static const char *const bad[] = {"../memory.max", "a/b",	 "..", "",
					  ".hidden",	   "memory..max"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		r = berth_resources_new();
		r->unified = kv1(bad[i], "1");
		r->n_unified = 1;
		q = berth_cgroup_update(cg, r, &err);
		is(q, -EINVAL, "v2: unified name '%s' refused", bad[i]);
		ok(err && strstr(err->msg, "invalid unified cgroup file name"), "v2: says why: %s",
		   err ? err->msg : "");
		berth_error_free(err);
		err = NULL;
		berth_resources_free(r);
	}
	ok(!exists(cat(root, "/berth/memory.max")), "v2: nothing written outside the cgroup");

	/* freeze reads cgroup.events back */
	put(leaf, "cgroup.events", "populated 1\nfrozen 1\n");
	q = berth_cgroup_freeze(cg, true, &err);
	is(q, 0, "v2: freeze");
	is_str(get(leaf, "cgroup.freeze"), "1", "v2: cgroup.freeze = 1");
	bool fr = false;
	berth_cgroup_is_frozen(cg, &fr, NULL);
	ok(fr, "v2: is_frozen");
	put(leaf, "cgroup.events", "populated 1\nfrozen 0\n");
	is(berth_cgroup_freeze(cg, false, NULL), 0, "v2: thaw");
	is_str(get(leaf, "cgroup.freeze"), "0", "v2: cgroup.freeze = 0");

	char **h = NULL;
	is(berth_cgroup_hierarchies(cg, &h, NULL), 0, "v2: hierarchies");
	ok(h && h[0] && !h[0][0] && !h[1], "v2: one hierarchy \"\"");
	berth_strv_free(h);

	/* pids, recursively */
	put(leaf, "cgroup.procs", "11\n12\n");
	fake_v2_dir(cat(leaf, "/sub"), all, true);
	put(cat(leaf, "/sub"), "cgroup.procs", "13\n12\n");
	pid_t *pids = NULL;
	size_t np = 0;
	is(berth_cgroup_pids(cg, &pids, &np, NULL), 0, "v2: pids");
	ok(np == 3 && pids[0] == 11 && pids[1] == 12 && pids[2] == 13,
	   "v2: pids of the cgroup and its child, once each");
	free(pids);

	struct berth_cgroup_stats *st = NULL;
	put(leaf, "memory.current", "4096");
	put(leaf, "cpu.stat", "usage_usec 7\nuser_usec 3\nsystem_usec 4\nnr_periods 2\n");
	is(berth_cgroup_stats(cg, &st, NULL), 0, "v2: stats");
	ok(st && st->memory.usage.usage == 4096, "v2: stats memory usage");
	ok(st && st->cpu.total == 7000, "v2: stats cpu total in ns");
	berth_cgroup_stats_free(st);
	berth_cgroup_free(cg);

	/* a controller the tree does not offer: clear error, nothing made */
	fake_v2_dir(cat(tmp, "/v2b"), "cpu memory pids", false);
	fake_v2_dir(cat(tmp, "/v2b/berth"), "cpu memory pids", false);
	cg = NULL;
	berth_cgroup_new_with_driver(cat(tmp, "/v2b"), "/berth/c2", CG_DRIVER_V2, NULL, &cg, NULL);
	r = berth_resources_new();
	r->rdma = kv1("mlx5_0", "hca_handle=1");
	r->n_rdma = 1;
	q = berth_cgroup_create(cg, r, 0, &err);
	is(q, -ENOTSUP, "v2: missing controller fails");
	ok(err && strstr(err->msg, "cgroup controller 'rdma' is not available"),
	   "v2: error names the controller: %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	ok(!exists(cat(tmp, "/v2b/berth/c2")), "v2: failed create removed its directory");
	berth_resources_free(r);

	/* a write that fails after mkdir: the directories made go again */
	r = berth_resources_new();
	r->memory_limit = 1 << 20;
	berth_cgroup_free(cg);
	berth_cgroup_new_with_driver(cat(tmp, "/v2b"), "/berth/new/c3", CG_DRIVER_V2, NULL, &cg,
				     NULL);
	q = berth_cgroup_create(cg, r, 0, &err);
	ok(q < 0, "v2: create fails when a file cannot be written");
	berth_error_free(err);
	err = NULL;
	ok(!exists(cat(tmp, "/v2b/berth/new")), "v2: and leaves no directory behind");
	ok(exists(cat(tmp, "/v2b/berth")), "v2: but keeps the ones that were there");
	ok(berth_cgroup_made_from(cg) == NULL, "v2: a failed create made nothing to remember");
	berth_resources_free(r);
	berth_cgroup_free(cg);

	/* the parents a create made are removed by destroy, up to the first one it made */
	cg = NULL;
	berth_cgroup_new_with_driver(cat(tmp, "/v2b"), "/berth/p1/p2/c4", CG_DRIVER_V2, NULL, &cg,
				     NULL);
	is(berth_cgroup_create(cg, NULL, 0, NULL), 0, "v2: create with two new parents");
	is_str(berth_cgroup_made_from(cg), "/berth/p1", "v2: the first directory made");
	/* another process's view: the made_from recorded in a state comes back */
	struct berth_cgroup *again = NULL;
	berth_cgroup_new_with_driver(cat(tmp, "/v2b"), "/berth/p1/p2/c4", CG_DRIVER_V2, NULL,
				     &again, NULL);
	is(berth_cgroup_set_made_from(again, "/etc", &err), -EINVAL,
	   "v2: made_from outside the cgroup's path refused");
	berth_error_free(err);
	err = NULL;
	is(berth_cgroup_set_made_from(again, "/berth/p", NULL), -EINVAL,
	   "v2: made_from must end at a path component");
	is(berth_cgroup_set_made_from(again, berth_cgroup_made_from(cg), NULL), 0,
	   "v2: made_from handed back");
	fake_v2_dir(cat(tmp, "/v2b/berth/p1/other"), "cpu memory pids", false);
	is(berth_cgroup_destroy(again, NULL), 0, "v2: destroy");
	ok(!exists(cat(tmp, "/v2b/berth/p1/p2")), "v2: the empty parent made by create is gone");
	ok(exists(cat(tmp, "/v2b/berth/p1")), "v2: a parent still holding a cgroup stays");
	rmdir(cat(tmp, "/v2b/berth/p1/other"));
	berth_cgroup_free(again);
	berth_cgroup_free(cg);

	/* no limits asked for: every available controller is still enabled, for the accounting */
	fake_v2_dir(cat(tmp, "/v2c"), "cpu memory pids", false);
	fake_v2_dir(cat(tmp, "/v2c/berth"), "cpu memory pids", false);
	put(cat(tmp, "/v2c/berth"), "cgroup.subtree_control", "memory");
	cg = NULL;
	berth_cgroup_new_with_driver(cat(tmp, "/v2c"), "/berth/c4", CG_DRIVER_V2, NULL, &cg, NULL);
	q = berth_cgroup_create(cg, NULL, 0, &err);
	is(q, 0, "v2: create without resources %s", err ? err->msg : "");
	is_str(get(cat(tmp, "/v2c"), "cgroup.subtree_control"), "+cpu +memory +pids",
	       "v2: the root enables every available controller");
	is_str(get(cat(tmp, "/v2c/berth"), "cgroup.subtree_control"), "+cpu +pids",
	       "v2: an ancestor enables those not enabled yet");
	berth_cgroup_free(cg);

	/* paths that climb out */
	cg = NULL;
	q = berth_cgroup_new_with_driver(root, "/berth/../../etc", CG_DRIVER_V2, NULL, &cg, &err);
	is(q, -EINVAL, "v2: path with '..' refused");
	berth_error_free(err);
	err = NULL;
	q = berth_cgroup_new_with_driver(root, "//", CG_DRIVER_V2, NULL, &cg, &err);
	is(q, -EINVAL, "v2: the root itself refused");
	berth_error_free(err);
	err = NULL;
	free(root);
	free(leaf);
}

/* ---- v1, fake tree ---------------------------------------------------------------------- */

static const char *const v1_hier[][2] = {
	{"memory", "rw,memory"},
	{"cpu,cpuacct", "rw,cpu,cpuacct"},
	{"cpuset", "rw,cpuset,clone_children"},
	{"pids", "rw,pids"},
	{"blkio", "rw,blkio"},
	{"devices", "rw,devices"},
	{"freezer", "rw,freezer"},
	{"net_cls,net_prio", "rw,net_cls,net_prio"},
	{"hugetlb", "rw,hugetlb"},
	{"systemd", "rw,xattr,release_agent=/lib/systemd/x,name=systemd"},
};

static const char *const v1_files[] = {"memory.limit_in_bytes",
				       "memory.soft_limit_in_bytes",
				       "memory.memsw.limit_in_bytes",
				       "memory.kmem.limit_in_bytes",
				       "memory.swappiness",
				       "memory.oom_control",
				       "cpu.shares",
				       "cpu.cfs_quota_us",
				       "cpu.cfs_period_us",
				       "cpu.rt_runtime_us",
				       "cpu.rt_period_us",
				       "cpu.idle",
				       "cpu.cfs_burst_us",
				       "pids.max",
				       "blkio.weight",
				       "blkio.throttle.read_bps_device",
				       "devices.allow",
				       "devices.deny",
				       "freezer.state",
				       "net_cls.classid",
				       "net_prio.ifpriomap",
				       "hugetlb.2MB.limit_in_bytes",
				       "memory.high",
				       "hugetlb.2MB.max",
				       "cgroup.procs",
				       "cpuset.cpus",
				       "cpuset.mems"};

static char *fake_v1(const char *root, bool with_hugetlb)
{
	char *mi = NULL;
	FILE *f;
	size_t len = 0;
	int id = 30;

	f = open_memstream(&mi, &len);
	fprintf(f, "22 1 0:21 / /proc rw,nosuid - proc proc rw\n");
	fprintf(f, "23 1 0:22 / %s rw - tmpfs tmpfs rw,mode=755\n", root);
	for (size_t i = 0; i < ARRAY_SIZE(v1_hier); i++) {
		if (!with_hugetlb && strcmp(v1_hier[i][0], "hugetlb") == 0)
			continue;
		fprintf(f, "%d 23 0:%d / %s/%s rw,relatime shared:%d - cgroup cgroup %s\n", id, id,
			root, v1_hier[i][0], id, v1_hier[i][1]);
		id++;
	}
	fprintf(f, "%d 23 0:%d / %s/unified rw - cgroup2 cgroup2 rw,nsdelegate\n", id, id, root);
	/* the memory hierarchy bound again elsewhere, and a cgroup mount outside root */
	fprintf(f, "90 23 0:30 /x %s/memory-again rw - cgroup cgroup rw,memory\n", root);
	fprintf(f, "91 1 0:77 / /elsewhere/cpu rw - cgroup cgroup rw,cpu\n");
	fclose(f);

	for (size_t i = 0; i < ARRAY_SIZE(v1_hier); i++) {
		char *base = cat(root, "/");
		char d[1024];
		snprintf(d, sizeof(d), "%s%s", base, v1_hier[i][0]);
		mkdirs(d);
		put(d, "cgroup.procs", "");
		if (strcmp(v1_hier[i][0], "cpuset") == 0) {
			put(d, "cpuset.cpus", "0-3");
			put(d, "cpuset.mems", "0");
			mkdirs(cat(d, "/berth"));
			put(cat(d, "/berth"), "cpuset.cpus", "");
			put(cat(d, "/berth"), "cpuset.mems", "");
		}
		char leaf[1100];
		snprintf(leaf, sizeof(leaf), "%s/berth/c1", d);
		mkdirs(leaf);
		for (size_t j = 0; j < ARRAY_SIZE(v1_files); j++)
			put(leaf, v1_files[j], "");
		put(leaf, "memory.limit_in_bytes", "9223372036854771712");
	}
	mkdirs(cat(root, "/unified/berth/c1"));
	put(cat(root, "/unified"), "cgroup.controllers", "hugetlb memory");
	put(cat(root, "/unified"), "cgroup.subtree_control", "");
	put(cat(root, "/unified/berth"), "cgroup.controllers", "hugetlb memory");
	put(cat(root, "/unified/berth"), "cgroup.subtree_control", "");
	put(cat(root, "/unified/berth/c1"), "cgroup.procs", "");
	put(cat(root, "/unified/berth/c1"), "memory.high", "");
	put(cat(root, "/unified/berth/c1"), "hugetlb.2MB.max", "");
	return mi;
}

static void test_mountinfo(void)
{
	struct cg_hierarchy *h = NULL;
	size_t n = 0;
	const char *mi =
		"1 0 0:1 / /c rw - tmpfs t rw\n"
		"2 1 0:2 / /c/a\\040b rw - cgroup cgroup rw,cpu\n"
		"3 1 0:3 / /c/deep/x rw - cgroup cgroup rw,memory\n"
		"4 1 0:4 / /c/m rw shared:1 master:2 - cgroup cgroup rw,memory,nsdelegate\n"
		"garbage line without fields\n"
		"5 1 0:5 / /c/short rw -\n"
		"6 1 0:6 / /cx rw - cgroup cgroup rw,pids\n";

	is(cg_parse_mountinfo(mi, "/c/", &h, &n, NULL), 0, "mountinfo: parses");
	is(n, 2, "mountinfo: two hierarchies directly below root");
	if (n == 2) {
		is_str(h[0].name, "a b", "mountinfo: \\040 unescaped");
		is_str(h[0].controllers[0], "cpu", "mountinfo: controllers from super options");
		ok(berth_strv_length(h[1].controllers) == 1 &&
			   berth_streq(h[1].controllers[0], "memory"),
		   "mountinfo: mount options are not controllers");
	}
	cg_hierarchies_free(h, n);
	is(cg_parse_mountinfo("", "/c", &h, &n, NULL), 0, "mountinfo: empty text");
	is(n, 0, "mountinfo: no hierarchies");
	cg_hierarchies_free(h, n);
}

static void test_v1_fake(void)
{
	char *root = strdup(cat(tmp, "/v1"));
	char *mi = fake_v1(root, true);
	char *mipath = strdup(cat(tmp, "/mountinfo"));
	struct berth_cgroup *cg = NULL;
	struct berth_error *err = NULL;
	struct berth_resources *r;
	char d[1024];
	int q;

	put(tmp, "mountinfo", mi);
	free(mi);
	q = berth_cgroup_new_with_driver(root, "/berth/c1", CG_DRIVER_V1, mipath, &cg, &err);
	is(q, 0, "v1: new (forced, fake mountinfo) %s", err ? err->msg : "");
	is_str(berth_cgroup_driver(cg), "v1", "v1: driver name");

	char **h = NULL;
	berth_cgroup_hierarchies(cg, &h, NULL);
	is(berth_strv_length(h), ARRAY_SIZE(v1_hier) + 1, "v1: every hierarchy, once");
	ok(berth_strv_contains(h, "cpu,cpuacct") && berth_strv_contains(h, "systemd") &&
		   berth_strv_contains(h, "unified") && !berth_strv_contains(h, "memory-again"),
	   "v1: hierarchies named by directory");
	berth_strv_free(h);

	r = full_resources();
	r->cpu_cpus[0] = '1';
	r->cpu_cpus[1] = '\0';
	r->memory_kernel = 1 << 20;
	r->memory_swappiness = 10;
	r->disable_oom_killer = 1;
	r->cpu_realtime_period = 1000000;
	r->cpu_realtime_runtime = 0;
	/* rdma is not mounted in this tree: tested separately below */
	free(r->rdma[0].key);
	free(r->rdma[0].value);
	free(r->rdma);
	r->rdma = NULL;
	r->n_rdma = 0;
	r->net_class_id = 0x100001;
	r->net_priorities = kv1("eth0", "5");
	r->n_net_priorities = 1;
	r->devices = calloc(4, sizeof(*r->devices));
	r->devices[0] = (struct berth_device_rule){false, 'a', -1, -1, "rwm"};
	r->devices[1] = (struct berth_device_rule){true, 'c', 1, 3, "rwm"};
	r->devices[2] = (struct berth_device_rule){true, 'c', -1, -1, "m"};
	r->devices[3] = (struct berth_device_rule){false, 'b', 8, 0, "w"};
	r->n_devices = 4;
	q = berth_cgroup_create(cg, r, getpid(), &err);
	is(q, 0, "v1: create with full resources %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;

#define L(h) (snprintf(d, sizeof(d), "%s/%s/berth/c1", root, h), d)
	is_str(get(L("memory"), "memory.limit_in_bytes"), "268435456", "v1: memory limit");
	is_str(get(L("memory"), "memory.memsw.limit_in_bytes"), "536870912", "v1: memsw = swap");
	is_str(get(L("memory"), "memory.soft_limit_in_bytes"), "134217728", "v1: soft limit");
	is_str(get(L("memory"), "memory.kmem.limit_in_bytes"), "1048576", "v1: kmem limit");
	is_str(get(L("memory"), "memory.swappiness"), "10", "v1: swappiness");
	is_str(get(L("memory"), "memory.oom_control"), "1", "v1: oom killer disabled");
	is_str(get(L("cpu,cpuacct"), "cpu.shares"), "1024", "v1: cpu.shares as given");
	is_str(get(L("cpu,cpuacct"), "cpu.cfs_quota_us"), "50000", "v1: quota");
	is_str(get(L("cpu,cpuacct"), "cpu.cfs_period_us"), "100000", "v1: period");
	is_str(get(L("cpu,cpuacct"), "cpu.cfs_burst_us"), "1000", "v1: burst");
	is_str(get(L("cpu,cpuacct"), "cpu.rt_period_us"), "1000000", "v1: rt period");
	is_str(get(L("cpu,cpuacct"), "cpu.rt_runtime_us"), "0", "v1: rt runtime");
	is_str(get(L("cpu,cpuacct"), "cpu.idle"), "0", "v1: cpu.idle");
	is_str(get(L("cpuset"), "cpuset.cpus"), "1", "v1: cpuset.cpus");
	is_str(get(L("cpuset"), "cpuset.mems"), "0", "v1: cpuset.mems");
	is_str(get(cat(root, "/cpuset/berth"), "cpuset.cpus"), "0-3",
	       "v1: intermediate cpuset inherits cpus from its parent");
	is_str(get(cat(root, "/cpuset/berth"), "cpuset.mems"), "0", "v1: and mems");
	is_str(get(L("pids"), "pids.max"), "100", "v1: pids.max");
	is_str(get(L("blkio"), "blkio.weight"), "500", "v1: blkio.weight as given");
	is_str(get(L("blkio"), "blkio.throttle.read_bps_device"), "8:0 1048576", "v1: throttle");
	is_str(get(L("hugetlb"), "hugetlb.2MB.limit_in_bytes"), "4194304", "v1: hugetlb limit");
	is_str(get(L("unified"), "hugetlb.2MB.max"), "",
	       "v1: hugetlb not in unified when v1 has it");
	is_str(get(L("unified"), "memory.high"), "300000000", "v1 hybrid: unified file written");
	is_str(get(cat(root, "/unified"), "cgroup.subtree_control"), "+memory",
	       "v1 hybrid: unified controllers enabled");
	is_str(get(L("devices"), "devices.deny"), "b 8:0 w", "v1: last deny rule");
	is_str(get(L("devices"), "devices.allow"), "c *:* m", "v1: last allow rule, wildcards");
	is_str(get(L("net_cls,net_prio"), "net_cls.classid"), "1048577", "v1: classid");
	is_str(get(L("net_cls,net_prio"), "net_prio.ifpriomap"), "eth0 5", "v1: ifpriomap");
	char pidtxt[32];
	snprintf(pidtxt, sizeof(pidtxt), "%d", (int)getpid());
	is_str(get(L("systemd"), "cgroup.procs"), pidtxt, "v1: joined name=systemd");
	is_str(get(L("unified"), "cgroup.procs"), pidtxt, "v1 hybrid: joined unified");
	berth_resources_free(r);

	/* update: memory unlimited lifts memsw too; nothing else moves */
	r = berth_resources_new();
	r->memory_limit = -1;
	r->pids_limit = 0;
	q = berth_cgroup_update(cg, r, &err);
	is(q, 0, "v1: update");
	is_str(get(L("memory"), "memory.limit_in_bytes"), "-1", "v1: memory unlimited");
	is_str(get(L("memory"), "memory.memsw.limit_in_bytes"), "-1", "v1: memsw lifted with it");
	is_str(get(L("pids"), "pids.max"), "max", "v1: pids 0 -> max");
	is_str(get(L("cpu,cpuacct"), "cpu.shares"), "1024", "v1: shares untouched");
	berth_resources_free(r);

	/* freezer */
	put(L("freezer"), "freezer.state", "THAWED");
	is(berth_cgroup_freeze(cg, true, &err), 0, "v1: freeze");
	is_str(get(L("freezer"), "freezer.state"), "FROZEN", "v1: freezer.state FROZEN");
	bool fr = false;
	berth_cgroup_is_frozen(cg, &fr, NULL);
	ok(fr, "v1: is_frozen");

	/* joining itself: "0" through the files opened once, in every hierarchy */
	ok(berth_cgroup_join_self(cg, NULL) == -EBADF, "v1: join_self before procs_open: EBADF");
	is(berth_cgroup_procs_open(cg, &err), 0, "v1: procs_open %s", err ? err->msg : "");
	for (size_t i = 0; i < ARRAY_SIZE(v1_hier); i++)
		put(L(v1_hier[i][0]), "cgroup.procs", "");
	put(L("unified"), "cgroup.procs", "");
	is(berth_cgroup_join_self(cg, &err), 0, "v1: join_self %s", err ? err->msg : "");
	bool all = true;
	for (size_t i = 0; i < ARRAY_SIZE(v1_hier); i++)
		all = all && berth_streq(get(L(v1_hier[i][0]), "cgroup.procs"), "0");
	ok(all && berth_streq(get(L("unified"), "cgroup.procs"), "0"),
	   "v1: join_self wrote 0 to cgroup.procs of every hierarchy");
	berth_cgroup_procs_close(cg);
	ok(berth_cgroup_join_self(cg, NULL) == -EBADF, "v1: closed again");
	unlink(cat(L("pids"), "/cgroup.procs"));
	q = berth_cgroup_procs_open(cg, &err);
	ok(q == -ENOENT && err && strstr(err->msg, "pids/berth/c1/cgroup.procs"),
	   "v1: procs_open names the file it cannot open: %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	put(L("pids"), "cgroup.procs", "");
	berth_cgroup_free(cg);

	/* missing controller: checked before anything is made */
	cg = NULL;
	berth_cgroup_new_with_driver(root, "/berth/c9", CG_DRIVER_V1, mipath, &cg, NULL);
	r = berth_resources_new();
	r->rdma = kv1("mlx5_0", "hca_handle=1");
	r->n_rdma = 1;
	q = berth_cgroup_create(cg, r, 0, &err);
	is(q, -ENOTSUP, "v1: missing controller fails");
	ok(err && strstr(err->msg, "cgroup controller 'rdma' is not available"),
	   "v1: error names it: %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	ok(!exists(cat(root, "/memory/berth/c9")), "v1: nothing made");
	berth_resources_free(r);

	/* a failing write removes what was made in every hierarchy */
	r = berth_resources_new();
	r->memory_limit = 1 << 20;
	q = berth_cgroup_create(cg, r, 0, &err);
	ok(q < 0, "v1: create fails on an unwritable file");
	berth_error_free(err);
	err = NULL;
	ok(!exists(cat(root, "/memory/berth/c9")) && !exists(cat(root, "/pids/berth/c9")) &&
		   !exists(cat(root, "/unified/berth/c9")),
	   "v1: no directory left in any hierarchy");
	berth_resources_free(r);
	berth_cgroup_free(cg);

	/* hybrid without a v1 hugetlb hierarchy: limits go to unified as hugetlb.<size>.max */
	char *root2 = strdup(cat(tmp, "/v1b"));
	mi = fake_v1(root2, false);
	put(tmp, "mountinfo2", mi);
	free(mi);
	cg = NULL;
	q = berth_cgroup_new_with_driver(root2, "/berth/c1", CG_DRIVER_V1, cat(tmp, "/mountinfo2"),
					 &cg, NULL);
	r = berth_resources_new();
	r->hugepage_limits = calloc(1, sizeof(*r->hugepage_limits));
	r->hugepage_limits[0].page_size = strdup("2MB");
	r->hugepage_limits[0].limit = 2097152;
	r->n_hugepage_limits = 1;
	q = berth_cgroup_create(cg, r, 0, &err);
	is(q, 0, "v1 hybrid: hugepage limit without a v1 hugetlb hierarchy %s",
	   err ? err->msg : "");
	is_str(get(cat(root2, "/unified/berth/c1"), "hugetlb.2MB.max"), "2097152",
	       "v1 hybrid: hugetlb.2MB.max in unified");
	is_str(get(cat(root2, "/unified"), "cgroup.subtree_control"), "+hugetlb",
	       "v1 hybrid: hugetlb enabled in unified");
	free(r->hugepage_limits[0].page_size);
	r->hugepage_limits[0].page_size = strdup("../2MB");
	q = berth_cgroup_update(cg, r, &err);
	is(q, -EINVAL, "v1: hostile page size refused");
	berth_error_free(err);
	err = NULL;
	berth_resources_free(r);
	berth_cgroup_free(cg);
	free(root2);
	free(root);
	free(mipath);
#undef L
}

/* ---- BPF program shape ------------------------------------------------------------------ */

static void test_bpf_program(void)
{
	struct berth_device_rule rules[] = {
		{false, 'a', -1, -1, "rwm"},
		{true, 'c', 1, 3, "rw"},
		{true, 'c', 136, -1, "rwm"},
	};
	void *p = NULL;
	size_t n = 0;
	struct berth_error *err = NULL;

	is(cg_bpf_device_program(rules, 3, &p, &n, &err), 0, "bpf: program built");
	/* 6 loads; c 136:* : 2 + 2; c 1:3 rw: 3 checks + 3 access + 2; "deny a" decides: 2 */
	is(n, 6 + 4 + 8 + 2, "bpf: instruction count");
	struct bpf_insn *ins = p;
	ok(n && ins[n - 1].code == (BPF_JMP | BPF_EXIT) && ins[n - 2].imm == 0,
	   "bpf: ends denying");
	free(p);
	/* without a catch-all rule the program ends with its own deny */
	is(cg_bpf_device_program(rules + 1, 2, &p, &n, &err), 0, "bpf: program without 'a'");
	is(n, 6 + 4 + 8 + 2, "bpf: instruction count with the final deny");
	ins = p;
	ok(n && ins[n - 1].code == (BPF_JMP | BPF_EXIT) && ins[n - 2].imm == 0,
	   "bpf: ends denying");
	free(p);
	rules[1].type = 'x';
	is(cg_bpf_device_program(rules, 3, &p, &n, &err), -EINVAL, "bpf: bad type refused");
	berth_error_free(err);
	err = NULL;
	rules[1].type = 'c';
	memcpy(rules[1].access, "rz", 3);
	is(cg_bpf_device_program(rules, 3, &p, &n, &err), -EINVAL, "bpf: bad access refused");
	berth_error_free(err);
}

/* ---- live, as root ---------------------------------------------------------------------- */

/* A child that waits for a byte on fd, then runs fn and exits with its result. */
static pid_t spawn(int *go, int (*fn)(void))
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		_exit(fn());
	}
	close(p[0]);
	*go = p[1];
	return pid;
}

static int sleeper(void)
{
	for (;;)
		pause();
	return 0;
}

/* exit 0: /dev/null refused with EPERM and /dev/zero opened; 1: /dev/null opened */
static int try_devices(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return 1;
	if (errno != EPERM)
		return 2;
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? 0 : 3;
}

static int wait_dead(pid_t pid);

static int wait_code(pid_t pid)
{
	int st = wait_dead(pid);
	return st < 0 ? -1 : berth_exit_code(st);
}

/* wait for pid to die (2 s at most); kill it if it does not, so a failure cannot hang us */
static int wait_dead(pid_t pid)
{
	int st = 0;
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		cg_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	berth_waitpid(pid, 0, &st);
	return -1;
}

static int count_device_progs(const char *dir)
{
	uint32_t ids[16];
	union bpf_attr a;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = 16;
	long r = syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a));
	close(fd);
	return r < 0 ? -1 : (int)a.query.prog_cnt;
}

/* leave the host's cgroup2 root as it was (unless another cgroup uses hugetlb below it now) */
static bool pure_v2(void)
{
	struct statfs sfs;
	return statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/*
 * The host's cgroup2 mount: /sys/fs/cgroup itself on a pure v2 host (or inside
 * scripts/in-cgroup2-ns.sh), else the hybrid host's "unified" mount.
 */
static const char *cgroup2_root(void)
{
	return pure_v2() ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
}

static void restore_hugetlb(const char *before)
{
	const char *uroot = cgroup2_root();
	if (!strstr(before, "hugetlb") && strstr(get(uroot, "cgroup.subtree_control"), "hugetlb"))
		cg_write(uroot, "cgroup.subtree_control", "-hugetlb", NULL);
}

static void test_live_v2(void)
{
	const char *uroot = cgroup2_root();
	char path[64], dir[256];
	struct berth_cgroup *cg = NULL;
	struct berth_error *err = NULL;
	int go = -1, q;

	if (geteuid() != 0) {
		skip("live v2: not root");
		return;
	}
	if (!exists(cat(uroot, "/cgroup.controllers"))) {
		skip("live v2: no cgroup2 mount");
		return;
	}
	char *before = strdup(get(uroot, "cgroup.subtree_control"));
	snprintf(path, sizeof(path), "/berth-test-%d", (int)getpid());
	snprintf(dir, sizeof(dir), "%s%s", uroot, path);

	/* NULL root: the default, detected by statfs, when /sys/fs/cgroup is the cgroup2 mount */
	q = berth_cgroup_new_with_driver(pure_v2() ? NULL : uroot, path, CG_DRIVER_AUTO, NULL, &cg,
					 &err);
	is(q, 0, "live v2: new");
	is_str(cg ? berth_cgroup_driver(cg) : NULL, "v2", "live v2: statfs picks v2");

	struct berth_resources *r = berth_resources_new();
	r->devices = calloc(3, sizeof(*r->devices));
	r->devices[0] = (struct berth_device_rule){false, 'a', -1, -1, "rwm"};
	r->devices[1] = (struct berth_device_rule){true, 'c', 1, 5, "rwm"};
	r->devices[2] = (struct berth_device_rule){true, 'c', 1, 3, "r"};
	r->n_devices = 3;
	r->hugepage_limits = calloc(1, sizeof(*r->hugepage_limits));
	r->hugepage_limits[0].page_size = strdup("2MB");
	r->hugepage_limits[0].limit = 4194304;
	r->n_hugepage_limits = 1;

	pid_t dev = spawn(&go, try_devices);
	q = berth_cgroup_create(cg, r, dev, &err);
	is(q, 0, "live v2: create with a device filter %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	(void)!write(go, "x", 1);
	close(go);
	is(wait_code(dev), 0, "live v2: /dev/null (open rw) refused, /dev/zero allowed");
	is_str(get(dir, "hugetlb.2MB.max"), "4194304", "live v2: hugetlb.2MB.max");
	is(count_device_progs(dir), 1, "live v2: one device program attached");

	/* a child that moves itself in (exec's way) is under the device filter as well */
	is(berth_cgroup_procs_open(cg, NULL), 0, "live v2: procs_open");
	dev = fork();
	if (dev == 0)
		_exit(berth_cgroup_join_self(cg, NULL) < 0 ? 9 : try_devices());
	is(wait_code(dev), 0, "live v2: a child that joined itself: /dev/null refused");
	berth_cgroup_procs_close(cg);

	/* update replaces our program, it does not stack a second one */
	r->devices[2].access[1] = 'w';
	r->devices[2].access[2] = '\0';
	q = berth_cgroup_update(cg, r, &err);
	is(q, 0, "live v2: update the device list %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	is(count_device_progs(dir), 1, "live v2: still one device program");
	dev = spawn(&go, try_devices);
	is(berth_cgroup_enter(cg, dev, NULL), 0, "live v2: enter");
	(void)!write(go, "x", 1);
	close(go);
	is(wait_code(dev), 1, "live v2: /dev/null opens after the update");
	berth_resources_free(r);

	pid_t s = spawn(&go, sleeper);
	is(berth_cgroup_enter(cg, s, NULL), 0, "live v2: move a sleeper in");
	pid_t *pids = NULL;
	size_t np = 0;
	berth_cgroup_pids(cg, &pids, &np, NULL);
	ok(np == 1 && pids[0] == s, "live v2: pids lists it");
	free(pids);
	is(berth_cgroup_freeze(cg, true, &err), 0, "live v2: freeze %s", err ? err->msg : "");
	ok(strstr(get(dir, "cgroup.events"), "frozen 1") != NULL,
	   "live v2: cgroup.events frozen 1");
	bool fr = false;
	berth_cgroup_is_frozen(cg, &fr, NULL);
	ok(fr, "live v2: is_frozen");
	is(berth_cgroup_freeze(cg, false, NULL), 0, "live v2: thaw");
	ok(strstr(get(dir, "cgroup.events"), "frozen 0") != NULL, "live v2: frozen 0");
	is(berth_cgroup_freeze(cg, true, NULL), 0, "live v2: freeze again before kill");
	is(berth_cgroup_kill_all(cg, SIGKILL, NULL), 0, "live v2: kill_all");
	int st = wait_dead(s);
	ok(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	   "live v2: the frozen sleeper died of SIGKILL");
	close(go);
	struct berth_cgroup_stats *stats = NULL;
	is(berth_cgroup_stats(cg, &stats, NULL), 0, "live v2: stats");
	bool has_2mb = false;
	for (size_t i = 0; stats && i < stats->n_hugetlb; i++)
		has_2mb |= strcmp(stats->hugetlb[i].page_size, "2MB") == 0;
	ok(has_2mb, "live v2: stats has hugetlb 2MB");
	berth_cgroup_stats_free(stats);
	is(berth_cgroup_destroy(cg, &err), 0, "live v2: destroy %s", err ? err->msg : "");
	ok(!exists(dir), "live v2: directory gone");
	is(berth_cgroup_destroy(cg, NULL), 0, "live v2: destroy again is fine");
	berth_cgroup_free(cg);

	restore_hugetlb(before);
	free(before);
}

static void test_live_v1(void)
{
	char path[64];
	struct berth_cgroup *cg = NULL;
	struct berth_error *err = NULL;
	int go = -1, q;

	if (geteuid() != 0) {
		skip("live v1: not root");
		return;
	}
	if (pure_v2() || !exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") ||
	    !exists("/sys/fs/cgroup/freezer/cgroup.procs")) {
		skip("live v1: no v1 memory/freezer hierarchies");
		return;
	}
	snprintf(path, sizeof(path), "/berth-test-%d/c", (int)getpid());
	q = berth_cgroup_new(NULL, path, &cg, &err);
	is(q, 0, "live v1: new");
	is_str(cg ? berth_cgroup_driver(cg) : NULL, "v1", "live v1: statfs picks v1 on the tmpfs");
	if (q < 0)
		return;
	char mem[256], pidsd[256], frz[256], cpuset[256], top[256];
	snprintf(mem, sizeof(mem), "/sys/fs/cgroup/memory%s", path);
	snprintf(pidsd, sizeof(pidsd), "/sys/fs/cgroup/pids%s", path);
	snprintf(frz, sizeof(frz), "/sys/fs/cgroup/freezer%s", path);
	snprintf(cpuset, sizeof(cpuset), "/sys/fs/cgroup/cpuset%s", path);

	struct berth_resources *r = berth_resources_new();
	r->memory_limit = 256 << 20;
	r->memory_swap = 512 << 20;
	r->pids_limit = 50;
	r->cpu_cpus = strdup("0");
	char *before = strdup(get("/sys/fs/cgroup/unified", "cgroup.subtree_control"));
	bool hybrid_huge = exists("/sys/fs/cgroup/unified/cgroup.controllers") &&
			   !exists("/sys/fs/cgroup/hugetlb");
	if (hybrid_huge) {
		r->hugepage_limits = calloc(1, sizeof(*r->hugepage_limits));
		r->hugepage_limits[0].page_size = strdup("2MB");
		r->hugepage_limits[0].limit = 2097152;
		r->n_hugepage_limits = 1;
	}
	pid_t s = spawn(&go, sleeper);
	q = berth_cgroup_create(cg, r, s, &err);
	is(q, 0, "live v1: create %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	berth_resources_free(r);
	is_str(get(mem, "memory.limit_in_bytes"), "268435456", "live v1: memory.limit_in_bytes");
	if (exists(cat(mem, "/memory.memsw.limit_in_bytes")))
		is_str(get(mem, "memory.memsw.limit_in_bytes"), "536870912", "live v1: memsw");
	is_str(get(pidsd, "pids.max"), "50", "live v1: pids.max");
	is_str(get(cpuset, "cpuset.cpus"), "0", "live v1: cpuset.cpus (parent inherited first)");
	char pidtxt[32];
	snprintf(pidtxt, sizeof(pidtxt), "%d", (int)s);
	is_str(get(mem, "cgroup.procs"), pidtxt, "live v1: the process is in the memory cgroup");
	if (hybrid_huge) {
		char u[256];
		snprintf(u, sizeof(u), "/sys/fs/cgroup/unified%s", path);
		is_str(get(u, "hugetlb.2MB.max"), "2097152",
		       "live v1 hybrid: hugepage limit in the unified mount");
		is_str(get(u, "cgroup.procs"), pidtxt, "live v1 hybrid: joined the unified mount");
	} else {
		skip("live v1 hybrid: no unified mount with hugetlb");
		skip("live v1 hybrid: no unified mount with hugetlb");
	}

	/* a child that moves itself in (exec's way): in the cgroup in every hierarchy */
	is(berth_cgroup_procs_open(cg, &err), 0, "live v1: procs_open %s", err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	int jp[2];
	if (pipe2(jp, O_CLOEXEC) == 0) {
		pid_t j = fork();
		if (j == 0) {
			int jr = berth_cgroup_join_self(cg, NULL);
			berth_cgroup_procs_close(cg);
			if (write(jp[1], jr == 0 ? "y" : "n", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		close(jp[1]);
		char c = 0;
		ok(read(jp[0], &c, 1) == 1 && c == 'y', "live v1: join_self in a child");
		close(jp[0]);
		char procf[64];
		snprintf(procf, sizeof(procf), "/proc/%d", (int)j);
		char *lines = strdup(get(procf, "cgroup")), *save = NULL;
		size_t n = 0, in = 0;
		for (char *l = strtok_r(lines, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
			char *colon = strchr(l, ':');
			colon = colon ? strchr(colon + 1, ':') : NULL;
			n++;
			in += colon && strcmp(colon + 1, path) == 0;
		}
		free(lines);
		ok(n > 1 && in == n, "live v1: the child is in '%s' in all %zu hierarchies (%zu)",
		   path, n, in);
		kill(j, SIGKILL);
		waitpid(j, NULL, 0);
	}
	berth_cgroup_procs_close(cg);

	/* raising both needs memsw first, lowering needs memory first */
	r = berth_resources_new();
	r->memory_limit = 1 << 30;
	r->memory_swap = 2LL << 30;
	is(berth_cgroup_update(cg, r, &err), 0, "live v1: raise memory and swap %s",
	   err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	is_str(get(mem, "memory.limit_in_bytes"), "1073741824", "live v1: raised");
	r->memory_limit = 64 << 20;
	r->memory_swap = 128 << 20;
	is(berth_cgroup_update(cg, r, &err), 0, "live v1: lower memory and swap %s",
	   err ? err->msg : "");
	berth_error_free(err);
	err = NULL;
	is_str(get(mem, "memory.limit_in_bytes"), "67108864", "live v1: lowered");
	berth_resources_free(r);

	is(berth_cgroup_freeze(cg, true, &err), 0, "live v1: freeze %s", err ? err->msg : "");
	is_str(get(frz, "freezer.state"), "FROZEN", "live v1: freezer.state FROZEN");
	is(berth_cgroup_freeze(cg, false, NULL), 0, "live v1: thaw");
	is_str(get(frz, "freezer.state"), "THAWED", "live v1: THAWED");

	struct berth_cgroup_stats *stats = NULL;
	is(berth_cgroup_stats(cg, &stats, NULL), 0, "live v1: stats");
	ok(stats && stats->memory.usage.limit == 64 << 20, "live v1: stats memory limit");
	ok(stats && stats->pids.current == 1, "live v1: stats pids.current");
	berth_cgroup_stats_free(stats);

	berth_cgroup_freeze(cg, true, NULL);
	is(berth_cgroup_kill_all(cg, SIGKILL, NULL), 0, "live v1: kill_all on a frozen cgroup");
	int st = wait_dead(s);
	ok(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "live v1: it died of SIGKILL");
	close(go);
	is(berth_cgroup_destroy(cg, &err), 0, "live v1: destroy %s", err ? err->msg : "");
	ok(!exists(mem) && !exists(pidsd) && !exists(frz), "live v1: gone in every hierarchy");
	berth_cgroup_free(cg);

	/* the parent the create made: the test removes it */
	char **h = NULL;
	snprintf(top, sizeof(top), "/berth-test-%d", (int)getpid());
	if (berth_cgroup_new(NULL, top, &cg, NULL) == 0) {
		berth_cgroup_hierarchies(cg, &h, NULL);
		ok(berth_strv_contains(h, "memory") && berth_strv_contains(h, "systemd") &&
			   berth_strv_contains(h, "unified"),
		   "live v1: hierarchies include memory, systemd, unified");
		berth_strv_free(h);
		is(berth_cgroup_destroy(cg, NULL), 0, "live v1: remove the parent too");
		berth_cgroup_free(cg);
		char m[512];
		snprintf(m, sizeof(m), "/sys/fs/cgroup/memory%s", top);
		ok(!exists(m), "live v1: the parent create made is gone");
	}
	restore_hugetlb(before);
	free(before);
}

static void test_features(void)
{
	json_t *f = NULL;
	bool v2only = pure_v2();

	is(berth_cgroup_features(NULL, &f, NULL), 0, "features");
	ok(f && json_is_boolean(json_object_get(f, "v1")) == 1 &&
		   json_is_true(json_object_get(f, "v1")) == !v2only &&
		   json_is_true(json_object_get(f, "v2")) &&
		   json_is_false(json_object_get(f, "systemd")) &&
		   json_is_false(json_object_get(f, "systemdUser")) &&
		   json_is_boolean(json_object_get(f, "rdma")),
	   "features: %s", v2only ? "pure v2: v2 only" : "hybrid: v1 and v2");
	json_decref(f);
}

int main(void)
{
	/* line by line: children are forked, and a hang should show where */
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct berth_resources *r = berth_resources_new();
	ok(r && r->memory_limit == BERTH_UNSET && r->pids_limit == BERTH_UNSET &&
		   r->disable_oom_killer == -1 && !r->devices,
	   "resources_new: everything absent");
	berth_resources_free(r);
	berth_resources_free(NULL);

	snprintf(tmp, sizeof(tmp), "/tmp/berth-test-cgroup-XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 2;
	}
	test_mountinfo();
	test_v2_fake();
	test_v1_fake();
	test_bpf_program();
	test_live_v2();
	test_live_v1();
	test_features();
	berth_rm_rf(tmp, NULL);
	return done_testing();
}
