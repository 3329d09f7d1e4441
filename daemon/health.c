/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Healthchecks, as dockerd's health monitor runs them (daemon/health.go): Config.Healthcheck
 * (the image's HEALTHCHECK merged at create, or --health-*) names a probe -- ["CMD", argv...] or
 * ["CMD-SHELL", "text"] run by the container's shell; ["NONE"] is none.  At each start the
 * status is "starting" and a thread of the container's own probes it: every Interval (30 s by
 * default; StartInterval, 5 s, while still starting inside StartPeriod), each probe an exec
 * through the shim (exec.c) killed after Timeout (30 s).  Exit 0 is healthy and clears the
 * failing streak; anything else adds to the streak (not inside StartPeriod while starting) and
 * Retries (3) failures in a row make it unhealthy.  The last 5 results are kept; a change of
 * status is a "health_status: S" event.  The thread ends when the container stops, starts again
 * (a new thread then), or berthd stops; State.Health is kept in the container's record.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "containers-internal.h"
#include "base/banned.h"

#define DEFAULT_INTERVAL_NS	  (30LL * 1000000000)
#define DEFAULT_TIMEOUT_NS	  (30LL * 1000000000)
#define DEFAULT_START_INTERVAL_NS (5LL * 1000000000)
#define DEFAULT_RETRIES		  3
#define MAX_LOG_ENTRIES		  5

struct ctr_health {
	char status[16];
	int failing_streak;
	json_t *log;  /* the last results: {Start, End, ExitCode, Output} */
	uint64_t gen; /* bumped at each start: an older thread ends */
};

static int64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t dur(const json_t *hc, const char *key, int64_t def)
{
	json_int_t v = json_integer_value(json_object_get(hc, key));
	return v > 0 ? (int64_t)v : def;
}

/* Go's time.Duration.String() for the timeout message ("30s", "1m30s", "500ms"). */
static void go_duration(int64_t ns, char *buf, size_t n)
{
	if (ns < 1000000000LL) {
		if (ns % 1000000 == 0)
			snprintf(buf, n, "%lldms", (long long)(ns / 1000000));
		else
			snprintf(buf, n, "%gms", (double)ns / 1e6);
		return;
	}
	long long h = ns / 3600000000000LL, m = ns / 60000000000LL % 60;
	double s = (double)(ns % 60000000000LL) / 1e9;
	char sec[32];
	snprintf(sec, sizeof(sec), "%.9f", s);
	/* trailing zeros (and a bare point) go, as Go prints them */
	char *e = sec + strlen(sec) - 1;
	while (*e == '0')
		*e-- = '\0';
	if (*e == '.')
		*e = '\0';
	if (h)
		snprintf(buf, n, "%lldh%lldm%ss", h, m, sec);
	else if (m)
		snprintf(buf, n, "%lldm%ss", m, sec);
	else
		snprintf(buf, n, "%ss", sec);
}

/* The probe's argv: NULL when the check is none (no Test, NONE, an unknown kind). */
static json_t *probe_argv(const json_t *config)
{
	const json_t *test = json_object_get(json_object_get(config, "Healthcheck"), "Test");
	const char *kind = json_string_value(json_array_get(test, 0));
	json_t *argv;

	if (!kind || json_array_size(test) < 2)
		return NULL;
	if (strcmp(kind, "CMD") == 0) {
		argv = json_array();
		for (size_t i = 1; i < json_array_size(test); i++)
			json_array_append(argv, json_array_get(test, i));
		return argv;
	}
	if (strcmp(kind, "CMD-SHELL") == 0) {
		const json_t *shell = json_object_get(config, "Shell");
		argv = json_array_size(shell) ? json_deep_copy(shell)
					      : json_pack("[s,s]", "/bin/sh", "-c");
		for (size_t i = 1; argv && i < json_array_size(test); i++)
			json_array_append(argv, json_array_get(test, i));
		return argv;
	}
	return NULL;
}

struct health_job {
	struct berthd *d;
	struct daemon_container *c;
	uint64_t gen;
};

static bool ended_locked(struct berthd *d, struct daemon_container *c, uint64_t gen)
{
	return d->stopping || !c->running || c->removed || !c->health || c->health->gen != gen;
}

/* dockerd's handleProbeResult (d->lock held) */
static void record_result_locked(struct berthd *d, struct daemon_container *c, const json_t *hc,
				 json_t *entry, int code, int64_t start_ns)
{
	struct ctr_health *h = c->health;
	char old[16];
	json_int_t retries = json_integer_value(json_object_get(hc, "Retries"));

	snprintf(old, sizeof(old), "%s", h->status);
	if (retries <= 0)
		retries = DEFAULT_RETRIES;
	json_array_append_new(h->log, entry);
	while (json_array_size(h->log) > MAX_LOG_ENTRIES)
		json_array_remove(h->log, 0);
	if (code == 0) {
		h->failing_streak = 0;
		snprintf(h->status, sizeof(h->status), "healthy");
	} else {
		bool count = true;
		if (strcmp(h->status, "starting") == 0 &&
		    start_ns - c->started_ns < dur(hc, "StartPeriod", 0))
			count = false; /* still inside the start period */
		if (count && ++h->failing_streak >= retries)
			snprintf(h->status, sizeof(h->status), "unhealthy");
	}
	if (strcmp(old, h->status) != 0) {
		char action[48];
		snprintf(action, sizeof(action), "health_status: %s", h->status);
		ctr_event_locked(d, c, action, NULL, 0);
		_cleanup_error_ struct berth_error *e = NULL;
		if (ctr_save_locked(d, c, &e) < 0)
			log_warn("container %s: save health: %s", c->id, e ? e->msg : "?");
	}
}

static void *health_main(void *arg)
{
	struct health_job *job = arg;
	struct berthd *d = job->d;
	struct daemon_container *c = job->c;

	pthread_mutex_lock(&d->lock);
	_cleanup_json_ json_t *hc = json_deep_copy(json_object_get(c->config, "Healthcheck"));
	_cleanup_json_ json_t *argv = probe_argv(c->config);
	int64_t interval = dur(hc, "Interval", DEFAULT_INTERVAL_NS);
	int64_t start_interval = dur(hc, "StartInterval", DEFAULT_START_INTERVAL_NS);
	int64_t start_period = dur(hc, "StartPeriod", 0);
	int64_t timeout = dur(hc, "Timeout", DEFAULT_TIMEOUT_NS);
	while (argv && !ended_locked(d, c, job->gen)) {
		int64_t next = interval;
		if (wall_ns() - c->started_ns < start_period &&
		    strcmp(c->health->status, "starting") == 0)
			next = start_interval;
		int64_t deadline = ctr_mono_ns() + next;
		while (!ended_locked(d, c, job->gen) && ctr_mono_ns() < deadline)
			ctr_cond_wait_until(d, c, deadline);
		if (ended_locked(d, c, job->gen))
			break;
		if (c->paused || c->restarting)
			continue;
		pthread_mutex_unlock(&d->lock);

		_cleanup_error_ struct berth_error *e = NULL;
		_cleanup_free_ char *out = NULL, *text = NULL;
		int code = -1;
		bool timed_out = false;
		int64_t start_ns = wall_ns();
		if (daemon_exec_probe(d, c, argv, timeout, &code, &out, &timed_out, &e) < 0) {
			log_warn("Health check for container %s error: %s", c->id,
				 e && e->msg ? e->msg : "?");
			code = -1;
			text = strdup(e && e->msg ? e->msg : "health check failed");
		} else if (timed_out) {
			char d_s[32];
			go_duration(timeout, d_s, sizeof(d_s));
			code = -1;
			if (asprintf(&text,
				     *out ? "Health check exceeded timeout (%s): %s"
					  : "Health check exceeded timeout (%s)%s",
				     d_s, out) < 0)
				text = NULL;
		} else {
			text = TAKE_PTR(out);
		}
		_cleanup_free_ char *st = ctr_time_string(start_ns),
				    *en = ctr_time_string(wall_ns());
		json_t *entry =
			json_pack("{s:s,s:s,s:i,s:s}", "Start", st ? st : "", "End", en ? en : "",
				  "ExitCode", code, "Output", text ? text : "");

		pthread_mutex_lock(&d->lock);
		if (ended_locked(d, c, job->gen) || !entry) {
			json_decref(entry);
			break;
		}
		record_result_locked(d, c, hc, entry, code, start_ns);
	}
	pthread_mutex_unlock(&d->lock);
	ctr_unref(d, c);
	free(job);
	atomic_fetch_sub(&d->containers.threads, 1);
	return NULL;
}

void ctr_health_start_locked(struct berthd *d, struct daemon_container *c, bool restored)
{
	_cleanup_json_ json_t *argv = probe_argv(c->config);
	struct health_job *job;
	pthread_attr_t attr;
	pthread_t th;

	if (!argv)
		return;
	if (!c->health) {
		c->health = calloc(1, sizeof(*c->health));
		if (!c->health)
			return;
		c->health->log = json_array();
		restored = false;
	}
	c->health->gen++;
	if (!restored || !c->health->status[0]) {
		snprintf(c->health->status, sizeof(c->health->status), "starting");
		c->health->failing_streak = 0;
	}
	job = calloc(1, sizeof(*job));
	if (!job)
		return;
	job->d = d;
	job->c = ctr_ref(c);
	job->gen = c->health->gen;
	atomic_fetch_add(&d->containers.threads, 1);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&th, &attr, health_main, job) != 0) {
		log_warn("container %s: no healthcheck thread", c->id);
		ctr_unref_locked(d, c);
		free(job);
		atomic_fetch_sub(&d->containers.threads, 1);
	}
	pthread_attr_destroy(&attr);
}

json_t *ctr_health_json_locked(const struct daemon_container *c)
{
	if (!c->health)
		return NULL;
	return json_pack("{s:s,s:i,s:O}", "Status", c->health->status, "FailingStreak",
			 c->health->failing_streak, "Log", c->health->log);
}

const char *ctr_health_status_locked(const struct daemon_container *c)
{
	return c->health && c->health->status[0] ? c->health->status : "none";
}

void ctr_health_load(struct daemon_container *c, const json_t *state)
{
	const json_t *h = json_object_get(state, "Health");
	const char *st = json_string_value(json_object_get(h, "Status"));

	if (!st || c->health)
		return;
	c->health = calloc(1, sizeof(*c->health));
	if (!c->health)
		return;
	snprintf(c->health->status, sizeof(c->health->status), "%s", st);
	c->health->failing_streak = (int)json_integer_value(json_object_get(h, "FailingStreak"));
	const json_t *log = json_object_get(h, "Log");
	c->health->log = json_is_array(log) ? json_deep_copy(log) : json_array();
}

void ctr_health_free(struct daemon_container *c)
{
	if (!c->health)
		return;
	json_decref(c->health->log);
	free(c->health);
	c->health = NULL;
}
