// SPDX-License-Identifier: Apache-2.0
/*
 * Watching a container: GET /containers/{id}/stats (docker's StatsResponse from the cgroup's
 * v1 or v2 files through lib/cgroup, the host's /proc/stat and the init's /proc/<pid>/net/dev:
 * no process is forked for it) and GET /containers/{id}/top (dockerd runs `ps` on the host and
 * keeps the lines of the container's pids; so does berthd).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "containers-internal.h"
#include "cgroup/cgroup.h"
#include "base/banned.h"

#define STATS_INTERVAL_MS 1000
#define PS_OUTPUT_MAX	  (16 << 20)

extern char **environ;

/*
 * c's cgroup as lib/runtime recorded it at create (the runtime state, a host file), cached on c
 * for the life of its init.  NULL with *err when it does not run or has no state.
 */
static struct berth_cgroup *ctr_cgroup(struct berthd *d, struct daemon_container *c, pid_t pid,
				       struct berth_error **err)
{
	_cleanup_free_ char *path = NULL, *state = NULL;
	struct berth_cgroup *cg = NULL;

	pthread_mutex_lock(&d->lock);
	if (c->cgroup_path && c->cgroup_pid == pid)
		path = strdup(c->cgroup_path);
	pthread_mutex_unlock(&d->lock);
	if (!path) {
		_cleanup_json_ json_t *j = NULL;
		const char *p;
		if (asprintf(&state, "%s/runtime/%s/state.json", d->config.exec_root, c->id) < 0) {
			berth_error_set(err, ENOMEM, "out of memory");
			return NULL;
		}
		if (berth_json_load_file(state, 8 << 20, &j, err) < 0)
			return NULL;
		p = json_string_value(json_object_get(j, "cgroup_path"));
		if (!p || p[0] != '/') {
			berth_error_set(err, EINVAL, "container %s: no cgroup in its state", c->id);
			return NULL;
		}
		path = strdup(p);
		if (!path) {
			berth_error_set(err, ENOMEM, "out of memory");
			return NULL;
		}
		pthread_mutex_lock(&d->lock);
		if (c->pid == pid) {
			free(c->cgroup_path);
			c->cgroup_path = strdup(path);
			c->cgroup_pid = pid;
		}
		pthread_mutex_unlock(&d->lock);
	}
	if (berth_cgroup_new(NULL, path, &cg, err) < 0)
		return NULL;
	return cg;
}

static void cgroup_freep(struct berth_cgroup **cg)
{
	berth_cgroup_free(*cg);
}

static void stats_freep(struct berth_cgroup_stats **s)
{
	berth_cgroup_stats_free(*s);
}

/* ---- stats --------------------------------------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* dockerd's getSystemCPUUsage: the first 7 fields of /proc/stat's "cpu" line, and the cpuN. */
static void system_cpu(uint64_t *ret_usage, uint32_t *ret_ncpu)
{
	_cleanup_free_ char *data = NULL;
	uint64_t ticks = 0;
	uint32_t n = 0;

	*ret_usage = 0;
	*ret_ncpu = 0;
	if (berth_read_file_at(AT_FDCWD, "/proc/stat", 1 << 20, &data, NULL, NULL) < 0)
		return;
	for (char *line = data; line && strncmp(line, "cpu", 3) == 0;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[3] == ' ') {
			char *p = line + 3;
			for (int i = 0; i < 7; i++) {
				char *end;
				unsigned long long v = strtoull(p, &end, 10);
				if (end == p)
					break;
				ticks += v;
				p = end;
			}
		} else if (line[3] >= '0' && line[3] <= '9') {
			n++;
		}
		line = next;
	}
	*ret_usage = ticks * (1000000000ULL / 100); /* USER_HZ is 100 on Linux */
	*ret_ncpu = n;
}

static json_t *cpu_usage_zero(void)
{
	return json_pack("{s:{s:i,s:i,s:i},s:{s:i,s:i,s:i}}", "cpu_usage", "total_usage", 0,
			 "usage_in_kernelmode", 0, "usage_in_usermode", 0, "throttling_data",
			 "periods", 0, "throttled_periods", 0, "throttled_time", 0);
}

static json_t *blkio_null(void)
{
	return json_pack("{s:n,s:n,s:n,s:n,s:n,s:n,s:n,s:n}", "io_service_bytes_recursive",
			 "io_serviced_recursive", "io_queue_recursive", "io_service_time_recursive",
			 "io_wait_time_recursive", "io_merged_recursive", "io_time_recursive",
			 "sectors_recursive");
}

/* The answer for a container that does not run: dockerd's empty StatsResponse. */
static json_t *stats_empty(const char *id, const char *name)
{
	return json_pack("{s:s,s:s,s:{},s:o,s:i,s:{},s:o,s:o,s:{},s:s,s:s}", "read",
			 "0001-01-01T00:00:00Z", "preread", "0001-01-01T00:00:00Z", "pids_stats",
			 "blkio_stats", blkio_null(), "num_procs", 0, "storage_stats", "cpu_stats",
			 cpu_usage_zero(), "precpu_stats", cpu_usage_zero(), "memory_stats", "name",
			 name, "id", id);
}

static json_t *io_entries(const struct berth_cgroup_io_entry *v, size_t n, bool lower)
{
	json_t *a;

	if (!n)
		return json_null();
	a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		char op[8];
		snprintf(op, sizeof(op), "%s", v[i].op);
		if (lower)
			for (char *p = op; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		json_array_append_new(a, json_pack("{s:I,s:I,s:s,s:I}", "major",
						   (json_int_t)v[i].major, "minor",
						   (json_int_t)v[i].minor, "op", op, "value",
						   (json_int_t)v[i].value));
	}
	return a;
}

static void set_u64(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

/* memory_stats as dockerd fills it from containerd's v1 or v2 metrics */
static json_t *memory_json(const struct berth_cgroup_stats *s, bool v2)
{
	static const char *const v1_keys[] = {
		"cache",
		"rss",
		"rss_huge",
		"mapped_file",
		"dirty",
		"writeback",
		"pgpgin",
		"pgpgout",
		"pgfault",
		"pgmajfault",
		"inactive_anon",
		"active_anon",
		"inactive_file",
		"active_file",
		"unevictable",
		"hierarchical_memory_limit",
		"hierarchical_memsw_limit",
		"total_cache",
		"total_rss",
		"total_rss_huge",
		"total_mapped_file",
		"total_dirty",
		"total_writeback",
		"total_pgpgin",
		"total_pgpgout",
		"total_pgfault",
		"total_pgmajfault",
		"total_inactive_anon",
		"total_active_anon",
		"total_inactive_file",
		"total_active_file",
		"total_unevictable",
	};
	static const char *const v2_keys[] = {
		"anon",
		"file",
		"kernel_stack",
		"slab",
		"sock",
		"shmem",
		"file_mapped",
		"file_dirty",
		"file_writeback",
		"anon_thp",
		"inactive_anon",
		"active_anon",
		"inactive_file",
		"active_file",
		"unevictable",
		"slab_reclaimable",
		"slab_unreclaimable",
		"pgfault",
		"pgmajfault",
		"workingset_refault",
		"workingset_activate",
		"workingset_nodereclaim",
		"pgrefill",
		"pgscan",
		"pgsteal",
		"pgactivate",
		"pgdeactivate",
		"pglazyfree",
		"pglazyfreed",
		"thp_fault_alloc",
		"thp_collapse_alloc",
	};
	json_t *m = json_object(), *st = json_object();
	struct sysinfo si;
	uint64_t machine = 0, limit = s->memory.usage.limit;

	if (!m || !st) {
		json_decref(m);
		json_decref(st);
		return NULL;
	}
	if (sysinfo(&si) == 0)
		machine = (uint64_t)si.totalram * si.mem_unit;
	/* no limit: the machine's memory, as dockerd */
	if (machine && limit > machine)
		limit = machine;
	if (s->memory.usage.usage)
		set_u64(m, "usage", s->memory.usage.usage);
	if (!v2 && s->memory.usage.max_usage)
		set_u64(m, "max_usage", s->memory.usage.max_usage);
	if (v2)
		for (size_t i = 0; i < ARRAY_SIZE(v2_keys); i++)
			set_u64(st, v2_keys[i], berth_cgroup_stats_memory_stat(s, v2_keys[i]));
	else
		for (size_t i = 0; i < ARRAY_SIZE(v1_keys); i++)
			set_u64(st, v1_keys[i], berth_cgroup_stats_memory_stat(s, v1_keys[i]));
	json_object_set_new(m, "stats", st);
	/* v2: dockerd's failcnt is memory.events' "oom" */
	uint64_t failcnt = v2 ? s->memory.oom : s->memory.usage.failcnt;
	if (failcnt)
		set_u64(m, "failcnt", failcnt);
	if (limit)
		set_u64(m, "limit", limit);
	return m;
}

/* networks: the interfaces of the init's network namespace but lo, from /proc/<pid>/net/dev */
static json_t *networks_json(pid_t pid)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	json_t *nets;

	if (asprintf(&path, "/proc/%d/net/dev", (int)pid) < 0 ||
	    berth_read_file_at(AT_FDCWD, path, 1 << 20, &data, NULL, NULL) < 0)
		return NULL;
	nets = json_object();
	for (char *line = data; nets && line && *line;) {
		char *next = strchr(line, '\n'), *colon, *name;
		unsigned long long v[16];
		if (next)
			*next++ = '\0';
		colon = strchr(line, ':');
		if (colon) {
			*colon = '\0';
			name = line + strspn(line, " ");
			if (strcmp(name, "lo") != 0 &&
			    sscanf(colon + 1,
				   "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
				   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
				   &v[9], &v[10], &v[11]) == 12)
				json_object_set_new(
					nets, name,
					json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "rx_bytes",
						  (json_int_t)v[0], "rx_packets", (json_int_t)v[1],
						  "rx_errors", (json_int_t)v[2], "rx_dropped",
						  (json_int_t)v[3], "tx_bytes", (json_int_t)v[8],
						  "tx_packets", (json_int_t)v[9], "tx_errors",
						  (json_int_t)v[10], "tx_dropped",
						  (json_int_t)v[11]));
		}
		line = next;
	}
	if (nets && json_object_size(nets) == 0) {
		json_decref(nets);
		return NULL;
	}
	return nets;
}

/*
 * One sample of c: the stats of its cgroup now (dockerd's GetContainerStats), or the empty
 * response when it does not run (or stopped under us).
 */
static json_t *stats_sample(struct berthd *d, struct daemon_container *c)
{
	_cleanup_free_ char *id = NULL, *name = NULL, *read_at = NULL;
	_cleanup_(cgroup_freep) struct berth_cgroup *cg = NULL;
	_cleanup_(stats_freep) struct berth_cgroup_stats *s = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	bool running, own_net;
	pid_t pid;
	uint64_t sys;
	uint32_t ncpu;

	pthread_mutex_lock(&d->lock);
	running = c->running && !c->restarting && c->pid > 0;
	pid = c->pid;
	id = strdup(c->id);
	name = strdup(c->name);
	const char *nm = json_string_value(json_object_get(c->host_config, "NetworkMode")) ?: "";
	own_net = strcmp(nm, "host") != 0 && strcmp(nm, "none") != 0 &&
		  !berth_str_has_prefix(nm, "container:") &&
		  !json_is_true(json_object_get(c->config, "NetworkDisabled"));
	pthread_mutex_unlock(&d->lock);
	if (!id || !name)
		return NULL;
	if (!running)
		return stats_empty(id, name);
	cg = ctr_cgroup(d, c, pid, &e);
	if (!cg || berth_cgroup_stats(cg, &s, &e) < 0) {
		log_debug("stats of %s: %s", id, e ? e->msg : "?");
		return stats_empty(id, name);
	}
	read_at = ctr_time_string(now_ns());
	system_cpu(&sys, &ncpu);
	bool v2 = strcmp(berth_cgroup_driver(cg), "v2") == 0;

	json_t *usage = json_pack("{s:I,s:I,s:I}", "total_usage", (json_int_t)s->cpu.total,
				  "usage_in_kernelmode", (json_int_t)s->cpu.system,
				  "usage_in_usermode", (json_int_t)s->cpu.user);
	if (usage && !v2 && s->cpu.n_percpu) {
		json_t *pc = json_array();
		for (size_t i = 0; pc && i < s->cpu.n_percpu; i++)
			json_array_append_new(pc, json_integer((json_int_t)s->cpu.percpu[i]));
		json_object_set_new(usage, "percpu_usage", pc);
	}
	json_t *cpu = json_pack("{s:o}", "cpu_usage", usage);
	if (cpu && sys)
		set_u64(cpu, "system_cpu_usage", sys);
	if (cpu && ncpu)
		set_u64(cpu, "online_cpus", ncpu);
	if (cpu)
		json_object_set_new(cpu, "throttling_data",
				    json_pack("{s:I,s:I,s:I}", "periods",
					      (json_int_t)s->cpu.periods, "throttled_periods",
					      (json_int_t)s->cpu.throttled_periods,
					      "throttled_time", (json_int_t)s->cpu.throttled_time));
	json_t *pids = json_object();
	if (pids && s->pids.current)
		set_u64(pids, "current", s->pids.current);
	if (pids && s->pids.limit)
		set_u64(pids, "limit", s->pids.limit);
	json_t *blkio = blkio_null();
	if (blkio) {
		json_object_set_new(blkio, "io_service_bytes_recursive",
				    io_entries(s->io_bytes, s->n_io_bytes, v2));
		if (!v2)
			json_object_set_new(blkio, "io_serviced_recursive",
					    io_entries(s->io_ops, s->n_io_ops, false));
	}
	json_t *j = json_pack("{s:s,s:s,s:o,s:o,s:i,s:{},s:o,s:o,s:o,s:s,s:s}", "read", read_at,
			      "preread", "0001-01-01T00:00:00Z", "pids_stats", pids, "blkio_stats",
			      blkio, "num_procs", 0, "storage_stats", "cpu_stats", cpu,
			      "precpu_stats", cpu_usage_zero(), "memory_stats", memory_json(s, v2),
			      "name", name, "id", id);
	if (j && own_net) {
		json_t *nets = networks_json(pid);
		if (nets)
			json_object_set_new(j, "networks", nets);
	}
	return j;
}

/* The previous sample's read time and cpu_stats become this one's preread and precpu_stats. */
static void stats_chain(json_t *cur, const json_t *prev)
{
	if (!prev)
		return;
	json_object_set(cur, "preread", json_object_get(prev, "read"));
	json_object_set(cur, "precpu_stats", json_object_get(prev, "cpu_stats"));
}

static bool parse_bool_query(struct berth_http_request *req, const char *key, bool dflt, bool *ret)
{
	const char *v = berth_http_query(req, key);

	if (!v || !*v) {
		*ret = dflt;
		return true;
	}
	/* Go's strconv.ParseBool */
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (strcmp(v, t[i]) == 0) {
			*ret = true;
			return true;
		}
		if (strcmp(v, f[i]) == 0) {
			*ret = false;
			return true;
		}
	}
	berth_http_respond_error(req, 400, "strconv.ParseBool: parsing \"%s\": invalid syntax", v);
	return false;
}

static void container_stats(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c = NULL;
	bool stream, one_shot;
	json_t *prev = NULL;

	if (!parse_bool_query(req, "stream", true, &stream) ||
	    !parse_bool_query(req, "one-shot", false, &one_shot))
		return;
	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	if (!stream) {
		_cleanup_json_ json_t *j = stats_sample(d, c);
		/* two samples a collector interval apart fill precpu_stats, unless one-shot */
		if (j && !one_shot && json_object_get(j, "cpu_stats") &&
		    strcmp(json_string_value(json_object_get(j, "read")) ?: "",
			   "0001-01-01T00:00:00Z") != 0) {
			berth_http_wait_client_gone(req, STATS_INTERVAL_MS);
			json_t *next = stats_sample(d, c);
			if (next) {
				stats_chain(next, j);
				json_decref(j);
				j = next;
			}
		}
		ctr_unref(d, c);
		if (!j) {
			berth_http_respond_error(req, 500, "out of memory");
			return;
		}
		berth_http_respond_json(req, 200, j);
		return;
	}
	if (berth_http_stream_begin(req, 200, "application/json") < 0) {
		ctr_unref(d, c);
		return;
	}
	for (;;) {
		json_t *j = stats_sample(d, c);
		if (!j)
			break;
		stats_chain(j, prev);
		int r = berth_http_stream_json(req, j);
		r = r < 0 ? r : berth_http_stream_flush(req);
		json_decref(prev);
		prev = j;
		if (r < 0)
			break;
		if (berth_http_wait_client_gone(req, STATS_INTERVAL_MS))
			break;
		pthread_mutex_lock(&d->lock);
		bool end = c->removed || d->stopping;
		pthread_mutex_unlock(&d->lock);
		if (end || berth_http_server_stopping(berth_http_request_server(req)))
			break;
	}
	json_decref(prev);
	ctr_unref(d, c);
	berth_http_stream_end(req);
}

/* ---- top ----------------------------------------------------------------------------------- */

/* dockerd's validatePSArgs: a column may be renamed to PID... only when it is the pid column */
static int check_ps_args(const char *a, struct berth_error **err)
{
	for (size_t i = 1; a[i]; i++) {
		if (a[i] != '=')
			continue;
		size_t j = i + 1;
		while (a[j] && strchr(" \t\n\v\f\r", a[j]))
			j++;
		if (strncmp(a + j, "PID", 3) != 0)
			continue;
		size_t k = i;
		while (k > 0 && !strchr(" \t\n\v\f\r", a[k - 1]))
			k--;
		if (k == 0)
			continue; /* \s+ before the name */
		size_t vend = j;
		while (a[vend] && !strchr(" \t\n\v\f\r", a[vend]))
			vend++;
		if (i - k != 3 || strncmp(a + k, "pid", 3) != 0)
			return berth_error_set(err, EIO, "specifying \"%.*s=%.*s\" is not allowed",
					       (int)(i - k), a + k, (int)(vend - j), a + j);
	}
	return 0;
}

/* Run ps with args; its stdout in *ret.  On failure the first line of its stderr. */
static int run_ps(char **argv, char **ret, struct berth_error **err)
{
	int out[2] = {-1, -1}, errp[2] = {-1, -1};
	posix_spawn_file_actions_t fa;
	_cleanup_free_ char *o = NULL, *eo = NULL;
	pid_t pid;
	int status = 0, r;

	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	r = -posix_spawnp(&pid, "ps", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	if (r < 0)
		goto fail;
	/* ps writes its error text only when it fails: stdout first cannot deadlock on stderr */
	r = berth_read_fd(out[0], PS_OUTPUT_MAX, &o, NULL, NULL);
	berth_read_fd(errp[0], 64 << 10, &eo, NULL, NULL);
	berth_waitpid(pid, 0, &status);
	close(out[0]);
	close(errp[0]);
	if (r < 0)
		return berth_error_set(err, -r, "ps: %s", strerror(-r));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *nl = eo ? strchr(eo, '\n') : NULL;
		if (nl)
			*nl = '\0';
		if (eo && *eo)
			return berth_error_set(err, EIO, "ps: %s", eo);
		return berth_error_set(err, EIO, "ps: exit status %d", berth_exit_code(status));
	}
	*ret = TAKE_PTR(o);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return berth_error_set(err, -r, "ps: %s", strerror(-r));
}

static char **fields_ascii(const char *line)
{
	char **v = NULL;

	for (const char *p = line; *p;) {
		while (*p && strchr("\t\n\f\r ", *p))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && !strchr("\t\n\f\r ", *p))
			p++;
		_cleanup_free_ char *f = strndup(s, (size_t)(p - s));
		if (!f || berth_strv_push(&v, f) < 0) {
			berth_strv_free(v);
			return NULL;
		}
	}
	if (!v)
		v = calloc(1, sizeof(*v));
	return v;
}

static bool has_pid(const pid_t *pids, size_t n, long p)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == p)
			return true;
	return false;
}

/* Append s to the string *buf (of *len bytes); -ENOMEM. */
static int append(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);
	char *b = realloc(*buf, *len + n + 1);

	if (!b)
		return -ENOMEM;
	memcpy(b + *len, s, n + 1);
	*buf = b;
	*len += n;
	return 0;
}

/* the overhanging fields of a line merged into the last title's column (a CMD with spaces) */
static json_t *process_row(char **fields, size_t n_titles)
{
	size_t n = berth_strv_length(fields), len = 0;
	json_t *row = json_array();
	_cleanup_free_ char *last = NULL;
	int r = 0;

	for (size_t i = 0; row && i + 1 < n_titles && i < n; i++)
		json_array_append_new(row, json_string(fields[i]));
	r |= append(&last, &len, "");
	for (size_t i = n_titles - 1; i < n; i++) {
		if (i > n_titles - 1)
			r |= append(&last, &len, " ");
		r |= append(&last, &len, fields[i]);
	}
	if (row)
		json_array_append_new(row, json_string(r == 0 && last ? last : ""));
	return row;
}

/* dockerd's parsePSOutput */
static int parse_ps(char *out, const pid_t *pids, size_t n, json_t **ret, struct berth_error **err)
{
	char *nl = strchr(out, '\n');
	_cleanup_strv_ char **titles = NULL;
	_cleanup_json_ json_t *procs = json_array(), *tj = json_array();
	ssize_t pid_index = -1;
	bool prev_contained = false;

	if (nl)
		*nl = '\0';
	titles = fields_ascii(out);
	if (!titles || !procs || !tj)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; titles[i]; i++) {
		json_array_append_new(tj, json_string(titles[i]));
		if (pid_index < 0 && strcmp(titles[i], "PID") == 0)
			pid_index = (ssize_t)i;
	}
	if (pid_index < 0)
		return berth_error_set(err, EIO, "Couldn't find PID field in ps output");
	size_t n_titles = berth_strv_length(titles);
	for (char *line = nl ? nl + 1 : NULL; line && *line;) {
		char *next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		_cleanup_strv_ char **f = fields_ascii(line);
		if (!f)
			return berth_error_set(err, ENOMEM, "out of memory");
		if (!*line || berth_strv_length(f) <= (size_t)pid_index) {
			line = next;
			continue;
		}
		const char *ps = f[pid_index];
		if (strcmp(ps, "-") == 0) {
			if (prev_contained)
				json_array_append_new(procs, process_row(f, n_titles));
			line = next;
			continue;
		}
		char *end;
		errno = 0;
		long p = strtol(ps, &end, 10);
		if (errno || *end || end == ps)
			return berth_error_set(err, EIO,
					       "Unexpected pid '%s': strconv.Atoi: parsing \"%s\": "
					       "invalid syntax",
					       ps, ps);
		prev_contained = has_pid(pids, n, p);
		if (prev_contained)
			json_array_append_new(procs, process_row(f, n_titles));
		line = next;
	}
	*ret = json_pack("{s:O,s:O}", "Processes", json_array_size(procs) ? procs : json_null(),
			 "Titles", tj);
	return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}

static void container_top(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_(cgroup_freep) struct berth_cgroup *cg = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ char *args = NULL, *out = NULL, *qarg = NULL;
	_cleanup_strv_ char **argv = NULL;
	_cleanup_json_ json_t *ans = NULL;
	struct daemon_container *c = NULL;
	const char *pa = berth_http_query(req, "ps_args");
	size_t n = 0;
	int r;

	args = strdup(pa && *pa ? pa : "-ef");
	if (!args || check_ps_args(args, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	pthread_mutex_lock(&d->lock);
	bool running = c->running && c->pid > 0, restarting = c->restarting;
	pid_t pid = c->pid;
	pthread_mutex_unlock(&d->lock);
	if (!running || restarting) {
		if (!running)
			berth_http_respond_error(req, 409, "container %s is not running", c->id);
		else
			berth_http_respond_error(
				req, 409,
				"Container %s is restarting, wait until the container is running",
				c->id);
		ctr_unref(d, c);
		return;
	}
	cg = ctr_cgroup(d, c, pid, &e);
	ctr_unref(d, c);
	if (!cg || berth_cgroup_pids(cg, &pids, &n, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	/* strings.Split(psArgs, " "), then "-q" and the pids */
	size_t qlen = 0;
	r = append(&qarg, &qlen, "-q");
	for (size_t i = 0; r == 0 && i < n; i++) {
		char num[16];
		snprintf(num, sizeof(num), "%s%d", i ? "," : "", (int)pids[i]);
		r = append(&qarg, &qlen, num);
	}
	if (r < 0 || berth_strv_push(&argv, "ps") < 0) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	for (char *s = args;;) {
		char *sp = strchr(s, ' ');
		if (sp)
			*sp = '\0';
		if (berth_strv_push(&argv, s) < 0) {
			berth_http_respond_error(req, 500, "out of memory");
			return;
		}
		if (!sp)
			break;
		s = sp + 1;
	}
	size_t argc = berth_strv_length(argv);
	if (berth_strv_push(&argv, qarg) < 0) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	r = run_ps(argv, &out, NULL);
	if (r < 0) {
		/* some options (f) do not go with -q: again without it */
		free(argv[argc]);
		argv[argc] = NULL;
		r = run_ps(argv, &out, &e);
	}
	if (r < 0 || parse_ps(out, pids, n, &ans, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	berth_http_respond_json(req, 200, ans);
}

int ctr_routes_stats(struct berthd *d, struct berth_error **err)
{
	int r = 0;

	r = r
		    ?: berth_api_router_add(d->router, "GET", "/containers/{name}/stats",
					    container_stats, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "GET", "/containers/{name}/top",
					    container_top, d, err);
	return r;
}
