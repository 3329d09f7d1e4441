/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "base/banned.h"

/* ---- resources -------------------------------------------------------------------------- */

struct berth_resources *berth_resources_new(void)
{
	struct berth_resources *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->memory_limit = r->memory_reservation = r->memory_swap = BERTH_UNSET;
	r->memory_kernel = r->memory_kernel_tcp = r->memory_swappiness = BERTH_UNSET;
	r->disable_oom_killer = -1;
	r->use_hierarchy = -1;
	r->cpu_shares = r->cpu_quota = r->cpu_period = r->cpu_burst = BERTH_UNSET;
	r->cpu_realtime_runtime = r->cpu_realtime_period = r->cpu_idle = BERTH_UNSET;
	r->pids_limit = BERTH_UNSET;
	r->blkio_weight = r->blkio_leaf_weight = BERTH_UNSET;
	r->net_class_id = BERTH_UNSET;
	return r;
}

static void free_kv(struct berth_key_value *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void berth_resources_free(struct berth_resources *r)
{
	if (!r)
		return;
	free(r->cpu_cpus);
	free(r->cpu_mems);
	free(r->blkio_weight_device);
	free(r->throttle_read_bps);
	free(r->throttle_write_bps);
	free(r->throttle_read_iops);
	free(r->throttle_write_iops);
	for (size_t i = 0; r->hugepage_limits && i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	free(r->devices);
	free_kv(r->net_priorities, r->n_net_priorities);
	free_kv(r->rdma, r->n_rdma);
	free_kv(r->unified, r->n_unified);
	free(r);
}

/* ---- file helpers ----------------------------------------------------------------------- */

/*
 * While berth_cgroup_update runs, cg_write notes each file's value before its first write, so a
 * failed update can put back what was in force and leaves no half-applied limits.  A file-scope
 * pointer rather than a parameter of every writer: berth runs no threads.
 */
struct cg_undo_entry {
	char *path, *old;
	bool restored;
};
struct cg_undo {
	struct cg_undo_entry *v;
	size_t n;
};
static struct cg_undo *undo_log;

static void undo_note(const char *path)
{
	_cleanup_free_ char *data = NULL, *p = NULL;
	struct cg_undo_entry *v;
	size_t len = 0;

	for (size_t i = 0; i < undo_log->n; i++)
		if (strcmp(undo_log->v[i].path, path) == 0)
			return;
	/* write-only files (devices.allow) are not read back */
	if (berth_read_file_at(AT_FDCWD, path, CG_FILE_MAX, &data, &len, NULL) < 0)
		return;
	while (len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	/* lists (throttle rules, io.max) and empty values do not write back as they read */
	if (len == 0 || strchr(data, '\n'))
		return;
	v = reallocarray(undo_log->v, undo_log->n + 1, sizeof(*v));
	if (!v)
		return;
	undo_log->v = v;
	p = strdup(path);
	if (!p)
		return;
	v[undo_log->n++] = (struct cg_undo_entry){TAKE_PTR(p), TAKE_PTR(data), false};
}

static int write_path(const char *p, const char *value, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	size_t len = strlen(value);
	ssize_t n;

	/* O_TRUNC: harmless on cgroupfs, and keeps a fake tree's files exact */
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return berth_error_sys(err, errno, "open '%s'", p);
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berth_error_sys(err, errno, "write '%.*s' to '%s'",
				       (int)(len > 64 ? 64 : len), value, p);
	if ((size_t)n != len)
		return berth_error_set(err, EIO, "short write to '%s'", p);
	return 0;
}

/*
 * Put the noted values back, last written first.  A value the kernel refuses for now (memory
 * bound to memory+swap) gets a second pass once the others are back.
 */
static void undo_replay(struct cg_undo *u)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = u->n; i-- > 0;)
			if (!u->v[i].restored && write_path(u->v[i].path, u->v[i].old, NULL) == 0)
				u->v[i].restored = true;
}

static void undo_free(struct cg_undo *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free(u->v[i].path);
		free(u->v[i].old);
	}
	free(u->v);
}

int cg_write(const char *dir, const char *file, const char *value, struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, file) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (undo_log)
		undo_note(p);
	return write_path(p, value, err);
}

int cg_writef(const char *dir, const char *file, struct berth_error **err, const char *fmt, ...)
{
	_cleanup_free_ char *v = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&v, fmt, ap);
	va_end(ap);
	if (r < 0) {
		v = NULL;
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	return cg_write(dir, file, v, err);
}

int cg_read(const char *dir, const char *file, char **ret, struct berth_error **err)
{
	_cleanup_free_ char *p = NULL;
	char *data = NULL;
	size_t len = 0;
	int r;

	if (asprintf(&p, "%s/%s", dir, file) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = berth_read_file_at(AT_FDCWD, p,
			       strcmp(file, "cgroup.procs") == 0 ? CG_PROCS_MAX : CG_FILE_MAX,
			       &data, &len, err);
	if (r < 0)
		return r;
	while (len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	*ret = data;
	return 0;
}

int cg_read_u64(const char *dir, const char *file, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = cg_read(dir, file, &s, NULL);

	if (r < 0)
		return r;
	if (strcmp(s, "max") == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	return berth_parse_uint64(s, ret);
}

bool cg_file_exists(const char *dir, const char *file)
{
	_cleanup_free_ char *p = NULL;

	if (asprintf(&p, "%s/%s", dir, file) < 0)
		return false;
	return access(p, F_OK) == 0;
}

void cg_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cg_mkdir_path(struct berth_cgroup *cg, const char *base, char ***made, struct berth_error **err)
{
	_cleanup_free_ char *full = NULL;
	size_t blen = strlen(base);
	unsigned tries = 0;

	if (asprintf(&full, "%s%s", base, cg->path) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
again:
	for (char *s = full + blen + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(full, 0755) == 0) {
			if (berth_strv_push(made, full) < 0) {
				rmdir(full);
				return berth_error_set(err, ENOMEM, "out of memory");
			}
			/* the shallowest directory made, in any hierarchy: delete removes up to it */
			const char *rel = full + blen;
			if (!cg->made_from || strlen(rel) < strlen(cg->made_from)) {
				char *m = strdup(rel);
				if (!m) {
					*s = c;
					return berth_error_set(err, ENOMEM, "out of memory");
				}
				free(cg->made_from);
				cg->made_from = m;
			}
		} else if (errno == ENOENT && tries++ < 10) {
			/*
			 * A parent we found was removed under us: the delete of the last
			 * container below it took it.  Start again from the top.
			 */
			*s = c;
			goto again;
		} else if (errno != EEXIST) {
			return berth_error_sys(err, errno, "mkdir '%s'", full);
		}
		if (c == '\0')
			break;
		*s = c;
	}
	return 0;
}

void cg_rmdir_parents(const struct berth_cgroup *cg, const char *base)
{
	_cleanup_free_ char *p = NULL;
	size_t top;

	if (!cg->made_from || !berth_str_has_prefix(cg->path, cg->made_from) ||
	    (cg->path[strlen(cg->made_from)] != '/'))
		return;
	if (asprintf(&p, "%s%s", base, cg->path) < 0)
		return;
	top = strlen(base) + strlen(cg->made_from);
	/* from the leaf's parent up to made_from; a parent still in use stops us (ENOTEMPTY) */
	for (char *slash = strrchr(p, '/'); slash && (size_t)(slash - p) >= top;
	     slash = strrchr(p, '/')) {
		*slash = '\0';
		if (rmdir(p) < 0)
			return;
	}
}

void cg_rmdir_made(char **made)
{
	for (size_t n = berth_strv_length(made); n > 0; n--)
		rmdir(made[n - 1]);
}

static int push_pid(pid_t **pids, size_t *n, pid_t pid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*pids)[i] == pid)
			return 0;
	pid_t *np = realloc(*pids, (*n + 1) * sizeof(pid_t));
	if (!np)
		return -ENOMEM;
	np[(*n)++] = pid;
	*pids = np;
	return 0;
}

static int collect_pids(const char *dir, pid_t **pids, size_t *n, int depth,
			struct berth_error **err)
{
	_cleanup_free_ char *procs = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	if (depth > 64)
		return berth_error_set(err, ELOOP, "cgroup '%s' nests too deep", dir);
	r = cg_read(dir, "cgroup.procs", &procs, err);
	if (r == -ENOENT && depth > 0)
		return 0; /* removed while we walked */
	if (r < 0)
		return r;
	for (char *line = procs, *next; line && *line; line = next) {
		int64_t v;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (berth_parse_int64(line, 1, INT32_MAX, &v) < 0)
			continue;
		if (push_pid(pids, n, (pid_t)v) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : berth_error_sys(err, errno, "open '%s'", dir);
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		r = collect_pids(sub, pids, n, depth + 1, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cg_collect_pids(const char *dir, pid_t **pids, size_t *n, struct berth_error **err)
{
	return collect_pids(dir, pids, n, 0, err);
}

static int rmdir_tree(const char *dir, int depth, struct berth_error **err)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	if (depth > 64)
		return berth_error_set(err, ELOOP, "cgroup '%s' nests too deep", dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : berth_error_sys(err, errno, "open '%s'", dir);
	while ((de = readdir(d))) {
		_cleanup_free_ char *sub = NULL;
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (asprintf(&sub, "%s/%s", dir, de->d_name) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		r = rmdir_tree(sub, depth + 1, err);
		if (r < 0)
			return r;
	}
	/* processes just killed take a moment to leave: retry EBUSY for about two seconds */
	for (unsigned i = 0;; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY || i >= 200)
			return berth_error_sys(err, errno, "remove cgroup '%s'", dir);
		cg_sleep_ms(10);
	}
}

int cg_rmdir_tree(const char *dir, struct berth_error **err)
{
	return rmdir_tree(dir, 0, err);
}

int cg_check_unified(const struct berth_resources *res, struct berth_error **err)
{
	for (size_t i = 0; i < res->n_unified; i++) {
		const char *k = res->unified[i].key;
		if (!k || !*k || strchr(k, '/') || strstr(k, "..") || k[0] == '.' ||
		    strlen(k) > NAME_MAX)
			return berth_error_set(err, EINVAL, "invalid unified cgroup file name '%s'",
					       k ? k : "");
		if (!res->unified[i].value)
			return berth_error_set(err, EINVAL, "unified cgroup file '%s' has no value",
					       k);
	}
	return 0;
}

int cg_read_keyed(const char *dir, const char *file, const char *const *keys, uint64_t *vals,
		  struct berth_error **err)
{
	_cleanup_free_ char *s = NULL;
	size_t n = 0;
	int r = cg_read(dir, file, &s, err);

	if (r < 0)
		return r;
	while (keys[n])
		vals[n++] = 0;
	for (const char *line = s; *line;) {
		const char *end = strchrnul(line, '\n');
		const char *sp = memchr(line, ' ', (size_t)(end - line));
		for (size_t i = 0; sp && i < n; i++) {
			if (strlen(keys[i]) != (size_t)(sp - line) ||
			    memcmp(line, keys[i], (size_t)(sp - line)) != 0)
				continue;
			_cleanup_free_ char *v = strndup(sp + 1, (size_t)(end - sp - 1));
			if (!v)
				return berth_error_set(err, ENOMEM, "out of memory");
			if (berth_parse_uint64(v, &vals[i]) < 0)
				return berth_error_set(err, EINVAL,
						       "'%s/%s': bad value '%s' for '%s'", dir,
						       file, v, keys[i]);
		}
		line = *end ? end + 1 : end;
	}
	return 0;
}

static int push_stat(struct berth_cgroup_stat_value **v, size_t *n, const char *key, size_t klen,
		     uint64_t value)
{
	struct berth_cgroup_stat_value *nv;
	char *k = strndup(key, klen);

	if (!k)
		return -ENOMEM;
	nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv) {
		free(k);
		return -ENOMEM;
	}
	nv[*n] = (struct berth_cgroup_stat_value){k, value};
	*v = nv;
	(*n)++;
	return 0;
}

int cg_read_flat_keyed(const char *dir, const char *file, struct berth_cgroup_stat_value **v,
		       size_t *n)
{
	_cleanup_free_ char *text = NULL;

	if (!dir || cg_read(dir, file, &text, NULL) < 0)
		return 0;
	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		const char *sp = memchr(line, ' ', (size_t)(end - line));
		if (sp && sp > line) {
			_cleanup_free_ char *val = strndup(sp + 1, (size_t)(end - sp - 1));
			uint64_t value;
			if (!val)
				return -ENOMEM;
			if (berth_parse_uint64(val, &value) == 0 &&
			    push_stat(v, n, line, (size_t)(sp - line), value) < 0)
				return -ENOMEM;
		}
		line = *end ? end + 1 : end;
	}
	return 0;
}

uint64_t cg_keyed(const struct berth_cgroup_stat_value *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].key, key) == 0)
			return v[i].value;
	return 0;
}

void cg_stat_values_free(struct berth_cgroup_stat_value *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].key);
	free(v);
}

int cg_push_io(struct berth_cgroup_io_entry **v, size_t *n, uint32_t major, uint32_t minor,
	       const char *op, uint64_t value)
{
	struct berth_cgroup_io_entry *nv = realloc(*v, (*n + 1) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	nv[*n] = (struct berth_cgroup_io_entry){.major = major, .minor = minor, .value = value};
	snprintf(nv[*n].op, sizeof(nv[*n].op), "%s", op);
	*v = nv;
	(*n)++;
	return 0;
}

/* ---- mountinfo -------------------------------------------------------------------------- */

void cg_hierarchies_free(struct cg_hierarchy *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].mount);
		free(h[i].name);
		berth_strv_free(h[i].controllers);
	}
	free(h);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static char *unescape(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			*o++ = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
				      (s[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* Super options of a cgroup v1 mount that are not controllers. */
static bool is_mount_option(const char *o)
{
	static const char *const opts[] = {"rw",
					   "ro",
					   "noprefix",
					   "clone_children",
					   "xattr",
					   "none",
					   "cpuset_v2_mode",
					   "favordynmods",
					   "all",
					   "nsdelegate",
					   "memory_recursiveprot"};
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (strcmp(o, opts[i]) == 0)
			return true;
	return berth_str_has_prefix(o, "release_agent=");
}

#define MI_MAX_FIELDS 64

int cg_parse_mountinfo(const char *text, const char *root, struct cg_hierarchy **ret, size_t *ret_n,
		       struct berth_error **err)
{
	struct cg_hierarchy *h = NULL;
	size_t n = 0, rlen = strlen(root);
	char **devs = NULL;
	int r = 0;

	while (rlen > 1 && root[rlen - 1] == '/')
		rlen--;
	for (const char *line = text; line && *line;) {
		const char *end = strchrnul(line, '\n');
		const char *f[MI_MAX_FIELDS];
		size_t fl[MI_MAX_FIELDS], nf = 0, dash = 0;

		for (const char *p = line; p < end && nf < MI_MAX_FIELDS;) {
			while (p < end && *p == ' ')
				p++;
			if (p >= end)
				break;
			const char *q = p;
			while (q < end && *q != ' ')
				q++;
			f[nf] = p;
			fl[nf] = (size_t)(q - p);
			if (!dash && nf >= 6 && fl[nf] == 1 && *p == '-')
				dash = nf;
			nf++;
			p = q;
		}
		line = *end ? end + 1 : end;
		if (!dash || nf < dash + 4)
			continue;
		const char *fstype = f[dash + 1];
		size_t ftl = fl[dash + 1];
		bool v1 = ftl == 6 && memcmp(fstype, "cgroup", 6) == 0;
		bool v2 = ftl == 7 && memcmp(fstype, "cgroup2", 7) == 0;
		if (!v1 && !v2)
			continue;

		_cleanup_free_ char *mnt = unescape(f[4], fl[4]);
		_cleanup_free_ char *dev = strndup(f[2], fl[2]);
		if (!mnt || !dev) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto fail;
		}
		/* only mounts directly below root: root/<name> */
		if (strncmp(mnt, root, rlen) != 0 || mnt[rlen] != '/' || !mnt[rlen + 1] ||
		    strchr(mnt + rlen + 1, '/'))
			continue;
		/* a later mount over the same point hides the earlier one */
		for (size_t i = 0; i < n; i++) {
			if (strcmp(h[i].mount, mnt) == 0) {
				free(h[i].mount);
				free(h[i].name);
				berth_strv_free(h[i].controllers);
				memmove(&h[i], &h[i + 1], (n - i - 1) * sizeof(*h));
				free(devs[i]);
				memmove(&devs[i], &devs[i + 1],
					(n - i) * sizeof(*devs)); /* with the NULL */
				n--;
				break;
			}
		}
		/* the same hierarchy mounted twice is one hierarchy */
		if (berth_strv_contains(devs, dev))
			continue;

		struct cg_hierarchy *nh = realloc(h, (n + 1) * sizeof(*h));
		if (!nh) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto fail;
		}
		h = nh;
		memset(&h[n], 0, sizeof(h[n]));
		h[n].unified = v2;
		h[n].name = strdup(mnt + rlen + 1);
		h[n].controllers = calloc(1, sizeof(char *));
		if (!h[n].name || !h[n].controllers || berth_strv_push(&devs, dev) < 0) {
			h[n].mount = NULL;
			n++;
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto fail;
		}
		h[n].mount = TAKE_PTR(mnt);
		n++;
		if (v1) {
			_cleanup_free_ char *opts = strndup(f[dash + 3], fl[dash + 3]);
			if (!opts) {
				r = berth_error_set(err, ENOMEM, "out of memory");
				goto fail;
			}
			for (char *o = opts, *next; o; o = next) {
				next = strchr(o, ',');
				if (next)
					*next++ = '\0';
				if (!*o || is_mount_option(o))
					continue;
				if (berth_strv_push(&h[n - 1].controllers, o) < 0) {
					r = berth_error_set(err, ENOMEM, "out of memory");
					goto fail;
				}
			}
		}
	}
	berth_strv_free(devs);
	*ret = h;
	*ret_n = n;
	return 0;
fail:
	berth_strv_free(devs);
	cg_hierarchies_free(h, n);
	return r;
}

static int load_hierarchies(const char *root, const char *mountinfo, struct cg_hierarchy **ret,
			    size_t *ret_n, struct berth_error **err)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = berth_read_file_at(AT_FDCWD, mountinfo ? mountinfo : "/proc/self/mountinfo",
			       4 * 1024 * 1024, &text, NULL, err);
	if (r < 0)
		return r;
	return cg_parse_mountinfo(text, root, ret, ret_n, err);
}

/* ---- the object ------------------------------------------------------------------------- */

/* "/a//b/" -> "/a/b"; "." and ".." components are refused */
static int normalize_path(const char *path, char **ret, struct berth_error **err)
{
	size_t len = strlen(path);
	_cleanup_free_ char *out = NULL;
	char *o;

	if (len == 0 || len > PATH_MAX)
		return berth_error_set(err, EINVAL, "invalid cgroup path '%.64s'", path);
	out = malloc(len + 2);
	if (!out)
		return berth_error_set(err, ENOMEM, "out of memory");
	o = out;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *e = strchrnul(p, '/');
		size_t cl = (size_t)(e - p);
		if ((cl == 1 && p[0] == '.') || (cl == 2 && p[0] == '.' && p[1] == '.'))
			return berth_error_set(err, EINVAL, "invalid cgroup path '%s'", path);
		*o++ = '/';
		memcpy(o, p, cl);
		o += cl;
		p = e;
	}
	*o = '\0';
	if (o == out)
		return berth_error_set(err, EINVAL, "cgroup path '%s' names the root", path);
	*ret = TAKE_PTR(out);
	return 0;
}

int berth_cgroup_new_with_driver(const char *root, const char *path, enum cg_driver driver,
				 const char *mountinfo, struct berth_cgroup **ret,
				 struct berth_error **err)
{
	struct berth_cgroup *cg;
	struct statfs sfs;
	int r;

	if (!root)
		root = BERTH_CGROUP_ROOT;
	if (driver == CG_DRIVER_AUTO) {
		if (statfs(root, &sfs) < 0)
			return berth_error_sys(err, errno, "statfs '%s'", root);
		if (sfs.f_type == CGROUP2_SUPER_MAGIC)
			driver = CG_DRIVER_V2;
		else if (sfs.f_type == TMPFS_MAGIC)
			driver = CG_DRIVER_V1;
		else
			return berth_error_set(err, ENOTSUP,
					       "'%s' is neither a cgroup2 mount nor a tmpfs of "
					       "cgroup v1 mounts",
					       root);
	}
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return berth_error_set(err, ENOMEM, "out of memory");
	cg->ops = driver == CG_DRIVER_V2 ? &cg_v2_ops : &cg_v1_ops;
	cg->root = strdup(root);
	if (!cg->root) {
		berth_cgroup_free(cg);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	r = normalize_path(path ? path : "", &cg->path, err);
	if (r < 0) {
		berth_cgroup_free(cg);
		return r;
	}
	if (driver == CG_DRIVER_V1) {
		r = load_hierarchies(root, mountinfo, &cg->hier, &cg->n_hier, err);
		if (r == 0 && cg->n_hier == 0)
			r = berth_error_set(err, ENOENT,
					    "no cgroup hierarchies are mounted under '%s'", root);
		if (r < 0) {
			berth_cgroup_free(cg);
			return r;
		}
	}
	*ret = cg;
	return 0;
}

int berth_cgroup_new(const char *root, const char *path, struct berth_cgroup **ret,
		     struct berth_error **err)
{
	return berth_cgroup_new_with_driver(root, path, CG_DRIVER_AUTO, NULL, ret, err);
}

void berth_cgroup_free(struct berth_cgroup *cg)
{
	if (!cg)
		return;
	free(cg->root);
	free(cg->path);
	free(cg->made_from);
	cg_hierarchies_free(cg->hier, cg->n_hier);
	berth_cgroup_procs_close(cg);
	free(cg);
}

const char *berth_cgroup_driver(const struct berth_cgroup *cg)
{
	return cg->ops->name;
}

const char *berth_cgroup_path(const struct berth_cgroup *cg)
{
	return cg->path;
}

const char *berth_cgroup_made_from(const struct berth_cgroup *cg)
{
	return cg->made_from;
}

int berth_cgroup_set_made_from(struct berth_cgroup *cg, const char *path, struct berth_error **err)
{
	char *m = NULL;

	if (path) {
		size_t n = strlen(path);
		/* the cgroup itself or one of its parents, and nothing else */
		if (path[0] != '/' || !berth_str_has_prefix(cg->path, path) ||
		    (cg->path[n] != '/' && cg->path[n] != '\0') || strstr(path, "/../") ||
		    strstr(path, "//"))
			return berth_error_set(err, EINVAL,
					       "cgroup '%s' is not '%s' or one of its parents",
					       path, cg->path);
		m = strdup(path);
		if (!m)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	free(cg->made_from);
	cg->made_from = m;
	return 0;
}

int berth_cgroup_create(struct berth_cgroup *cg, const struct berth_resources *res, pid_t pid,
			struct berth_error **err)
{
	int r = cg->ops->create(cg, res, pid, err);
	return r < 0 ? berth_error_wrap(err, "create cgroup '%s'", cg->path) : 0;
}

int berth_cgroup_enter(struct berth_cgroup *cg, pid_t pid, struct berth_error **err)
{
	int r = cg->ops->enter(cg, pid, err);
	return r < 0 ? berth_error_wrap(err, "join cgroup '%s'", cg->path) : 0;
}

int berth_cgroup_update(struct berth_cgroup *cg, const struct berth_resources *res,
			struct berth_error **err)
{
	struct cg_undo u = {};
	int r;

	undo_log = &u;
	r = cg->ops->update(cg, res, err);
	undo_log = NULL;
	if (r < 0)
		undo_replay(&u);
	undo_free(&u);
	return r < 0 ? berth_error_wrap(err, "update cgroup '%s'", cg->path) : 0;
}

int berth_cgroup_freeze(struct berth_cgroup *cg, bool frozen, struct berth_error **err)
{
	int r = cg->ops->freeze(cg, frozen, err);
	return r < 0 ? berth_error_wrap(err, "%s cgroup '%s'", frozen ? "freeze" : "thaw", cg->path)
		     : 0;
}

int berth_cgroup_is_frozen(struct berth_cgroup *cg, bool *ret, struct berth_error **err)
{
	return cg->ops->is_frozen(cg, ret, err);
}

int berth_cgroup_pids(struct berth_cgroup *cg, pid_t **ret, size_t *ret_n, struct berth_error **err)
{
	return cg->ops->pids(cg, ret, ret_n, err);
}

int berth_cgroup_kill_all(struct berth_cgroup *cg, int sig, struct berth_error **err)
{
	int r = cg->ops->kill_all(cg, sig, err);
	return r < 0 ? berth_error_wrap(err, "signal cgroup '%s'", cg->path) : 0;
}

int berth_cgroup_stats(struct berth_cgroup *cg, struct berth_cgroup_stats **ret,
		       struct berth_error **err)
{
	struct berth_cgroup_stats *st = calloc(1, sizeof(*st));
	int r;

	if (!st)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = cg->ops->stats(cg, st, err);
	if (r < 0) {
		berth_cgroup_stats_free(st);
		return berth_error_wrap(err, "statistics of cgroup '%s'", cg->path);
	}
	*ret = st;
	return 0;
}

void berth_cgroup_stats_free(struct berth_cgroup_stats *s)
{
	if (!s)
		return;
	free(s->cpu.percpu);
	cg_stat_values_free(s->memory.stat, s->memory.n_stat);
	free(s->io_bytes);
	free(s->io_ops);
	free(s->hugetlb);
	free(s);
}

uint64_t berth_cgroup_stats_memory_stat(const struct berth_cgroup_stats *s, const char *key)
{
	return cg_keyed(s->memory.stat, s->memory.n_stat, key);
}

/* ---- events ------------------------------------------------------------------------------- */

int berth_cgroup_events_open(struct berth_cgroup *cg, struct berth_cgroup_events **ret,
			     struct berth_error **err)
{
	int r = cg->ops->events_open(cg, ret, err);
	return r < 0 ? berth_error_wrap(err, "watch cgroup '%s' for OOM events", cg->path) : 0;
}

int berth_cgroup_events_fd(const struct berth_cgroup_events *ev)
{
	return ev->fd;
}

int cg_events_new(const char *dir, struct berth_cgroup_events **ret, struct berth_error **err)
{
	struct berth_cgroup_events *ev = calloc(1, sizeof(*ev));

	if (!ev || !(ev->dir = strdup(dir))) {
		free(ev);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	ev->fd = ev->event_fd = ev->control_fd = ev->timer_fd = -EBADF;
	*ret = ev;
	return 0;
}

int berth_cgroup_events_read(struct berth_cgroup_events *ev, struct berth_cgroup_event_counts *ret,
			     struct berth_error **err)
{
	struct berth_cgroup_event_counts n = {0};
	int r = ev->gone ? 0 : ev->read(ev, &n, err);

	if (r < 0)
		return berth_error_wrap(err, "OOM events of '%s'", ev->dir);
	n.gone = ev->gone;
	*ret = n;
	return 0;
}

void berth_cgroup_events_free(struct berth_cgroup_events *ev)
{
	if (!ev)
		return;
	if (ev->fd >= 0)
		close(ev->fd);
	if (ev->event_fd >= 0)
		close(ev->event_fd);
	if (ev->control_fd >= 0)
		close(ev->control_fd);
	if (ev->timer_fd >= 0)
		close(ev->timer_fd);
	free(ev->dir);
	free(ev);
}

int berth_cgroup_destroy(struct berth_cgroup *cg, struct berth_error **err)
{
	int r = cg->ops->destroy(cg, err);
	return r < 0 ? berth_error_wrap(err, "destroy cgroup '%s'", cg->path) : 0;
}

int berth_cgroup_hierarchies(const struct berth_cgroup *cg, char ***ret, struct berth_error **err)
{
	return cg->ops->hierarchies(cg, ret, err);
}

int berth_cgroup_features(const char *root, json_t **ret, struct berth_error **err)
{
	struct cg_hierarchy *h = NULL;
	size_t n = 0;
	bool v1 = false, v2 = false, rdma = false;
	struct statfs sfs;
	_cleanup_json_ json_t *o = NULL;

	if (!root)
		root = BERTH_CGROUP_ROOT;
	if (statfs(root, &sfs) < 0)
		return berth_error_sys(err, errno, "statfs '%s'", root);
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		_cleanup_free_ char *ctl = NULL;
		v2 = true;
		if (cg_read(root, "cgroup.controllers", &ctl, NULL) == 0)
			for (char *t = ctl, *save = NULL; (t = strtok_r(t, " \n", &save)); t = NULL)
				rdma |= strcmp(t, "rdma") == 0;
	} else {
		int r = load_hierarchies(root, NULL, &h, &n, err);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (h[i].unified) {
				v2 = true;
				continue;
			}
			v1 = true;
			rdma |= berth_strv_contains(h[i].controllers, "rdma");
		}
		cg_hierarchies_free(h, n);
	}
	o = json_pack("{s:b,s:b,s:b,s:b,s:b}", "v1", v1, "v2", v2, "systemd", false, "systemdUser",
		      false, "rdma", rdma);
	if (!o)
		return berth_error_set(err, ENOMEM, "out of memory");
	*ret = TAKE_PTR(o);
	return 0;
}
