/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Events: a ring of the last DAEMON_EVENTS_RING events under d->lock, a condition variable
 * followers wait on, Docker's filter rules and JSON shape, and GET /events.
 *
 * A follower never holds d->lock while it writes to its client: it copies what is new (as JSON
 * text) under the lock, lets go, then writes.  With nothing new it sleeps on the condition
 * variable for at most FOLLOW_TICK_MS, then checks whether its client went away, the daemon is
 * stopping, or `until` has passed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "events-internal.h"
#include "base/banned.h"

#define FOLLOW_TICK_MS 250

int64_t daemon_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void event_release(struct daemon_event *ev)
{
	free(ev->type);
	free(ev->action);
	free(ev->actor_id);
	for (size_t i = 0; i < ev->n_attrs; i++) {
		free(ev->attrs[i].key);
		free(ev->attrs[i].value);
	}
	free(ev->attrs);
	free(ev->scope);
	memset(ev, 0, sizeof(*ev));
}

int daemon_events_init(struct daemon_events *e)
{
	pthread_condattr_t a;

	memset(e, 0, sizeof(*e));
	e->next_seq = 1;
	/* followers wait with deadlines on the monotonic clock: a clock step must not stall them */
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	int r = pthread_cond_init(&e->cond, &a);
	pthread_condattr_destroy(&a);
	return -r;
}

void daemon_events_release(struct daemon_events *e)
{
	for (size_t i = 0; i < DAEMON_EVENTS_RING; i++)
		event_release(&e->ring[i]);
	pthread_cond_destroy(&e->cond);
}

void daemon_events_record(struct daemon_events *e, const char *type, const char *action,
			  const char *actor_id, const struct berth_key_value *attrs, size_t n_attrs,
			  int64_t time_ns)
{
	struct daemon_event ev = {0};
	bool ok;

	ev.type = strdup(type);
	ev.action = strdup(action);
	ev.actor_id = strdup(actor_id ? actor_id : "");
	ev.scope = strdup("local");
	ev.attrs = n_attrs ? calloc(n_attrs, sizeof(*ev.attrs)) : NULL;
	ok = ev.type && ev.action && ev.actor_id && ev.scope && (ev.attrs || !n_attrs);
	for (size_t i = 0; ok && i < n_attrs; i++) {
		ev.attrs[i].key = strdup(attrs[i].key);
		ev.attrs[i].value = strdup(attrs[i].value ? attrs[i].value : "");
		ev.n_attrs = i + 1;
		ok = ev.attrs[i].key && ev.attrs[i].value;
	}
	if (!ok) {
		event_release(&ev);
		log_error("event %s %s dropped: out of memory", type, action);
		return;
	}
	ev.time_ns = time_ns;
	ev.seq = e->next_seq++;
	struct daemon_event *slot = &e->ring[(ev.seq - 1) % DAEMON_EVENTS_RING];
	event_release(slot);
	*slot = ev;
	pthread_cond_broadcast(&e->cond);
}

void daemon_event_emit_locked(struct berthd *d, const char *type, const char *action,
			      const char *actor_id, const struct berth_key_value *attrs,
			      size_t n_attrs)
{
	daemon_events_record(&d->events, type, action, actor_id, attrs, n_attrs, daemon_now_ns());
	log_debug("event: %s %s %s", type, action, actor_id ? actor_id : "");
}

void daemon_event_emit(struct berthd *d, const char *type, const char *action, const char *actor_id,
		       const struct berth_key_value *attrs, size_t n_attrs)
{
	pthread_mutex_lock(&d->lock);
	daemon_event_emit_locked(d, type, action, actor_id, attrs, n_attrs);
	pthread_mutex_unlock(&d->lock);
}

void daemon_events_shutdown(struct berthd *d)
{
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_cond_broadcast(&d->events.cond);
	pthread_mutex_unlock(&d->lock);
}

static const char *attr(const struct daemon_event *ev, const char *key)
{
	for (size_t i = 0; i < ev->n_attrs; i++)
		if (strcmp(ev->attrs[i].key, key) == 0)
			return ev->attrs[i].value;
	return NULL;
}

/* reference.FamiliarName without the tag or digest: "docker.io/library/busybox:1" -> "busybox" */
static char *strip_tag(const char *image)
{
	char *s = strdup(image ? image : ""), *p;

	if (!s)
		return NULL;
	if ((p = strchr(s, '@')))
		*p = '\0';
	p = strrchr(s, '/');
	char *colon = strrchr(p ? p : s, ':');
	if (colon)
		*colon = '\0';
	const char *out = s;
	if (berth_str_has_prefix(out, "docker.io/library/"))
		out += strlen("docker.io/library/");
	else if (berth_str_has_prefix(out, "docker.io/"))
		out += strlen("docker.io/");
	else if (berth_str_has_prefix(out, "index.docker.io/library/"))
		out += strlen("index.docker.io/library/");
	char *r = strdup(out);
	free(s);
	return r;
}

static bool fuzzy_name(const struct daemon_event *ev, const struct berth_filters *f,
		       const char *key)
{
	return berth_filters_fuzzy_match(f, key, ev->actor_id) ||
	       berth_filters_fuzzy_match(f, key, attr(ev, "name"));
}

bool daemon_event_matches(const struct daemon_event *ev, const struct berth_filters *f)
{
	static const char *const fuzzy_actions[] = {"health_status", "exec_create", "exec_start",
						    NULL};
	static const char *const named[] = {"daemon",  "container", "plugin", "volume", "network",
					    "service", "node",	    "secret", "config", NULL};
	bool fuzzy = false;

	if (!f || berth_filters_count(f) == 0)
		return true;
	for (const char *const *v = berth_filters_values(f, "event"); *v; v++)
		if (berth_strv_contains((char *const *)fuzzy_actions, *v))
			fuzzy = true;
	if (fuzzy ? !berth_filters_fuzzy_match(f, "event", ev->action)
		  : !berth_filters_exact_match(f, "event", ev->action))
		return false;
	if (!berth_filters_exact_match(f, "type", ev->type))
		return false;
	if (berth_filters_contains(f, "scope") && !berth_filters_exact_match(f, "scope", ev->scope))
		return false;
	for (size_t i = 0; named[i]; i++)
		if (!fuzzy_name(ev, f, named[i]))
			return false;

	const char *name = attr(ev, berth_streq(ev->type, "image") ? "name" : "image");
	_cleanup_free_ char *sid = strip_tag(ev->actor_id), *sname = strip_tag(name);
	if (!(berth_filters_exact_match(f, "image", ev->actor_id) ||
	      berth_filters_exact_match(f, "image", name ? name : "") ||
	      berth_filters_exact_match(f, "image", sid) ||
	      berth_filters_exact_match(f, "image", sname)))
		return false;
	if (berth_filters_contains(f, "label") &&
	    !berth_filters_match_kv(f, "label", ev->attrs, ev->n_attrs))
		return false;
	return true;
}

json_t *daemon_event_json(const struct daemon_event *ev)
{
	json_t *attrs = json_object(), *j;

	if (!attrs)
		return NULL;
	for (size_t i = 0; i < ev->n_attrs; i++)
		json_object_set_new(attrs, ev->attrs[i].key, json_string(ev->attrs[i].value));
	j = json_pack("{s:s,s:s,s:{s:s,s:o},s:s,s:I,s:I}", "Type", ev->type, "Action", ev->action,
		      "Actor", "ID", ev->actor_id, "Attributes", attrs, "scope", ev->scope, "time",
		      (json_int_t)(ev->time_ns / 1000000000), "timeNano", (json_int_t)ev->time_ns);
	if (!j)
		return NULL;
	/* docker CLIs before 25 (and compose) read these legacy fields, API < 1.52 has them */
	if (berth_streq(ev->type, "container") || berth_streq(ev->type, "image")) {
		json_object_set_new(j, "status", json_string(ev->action));
		/* omitempty in Go: an image prune event has no actor */
		if (ev->actor_id && *ev->actor_id)
			json_object_set_new(j, "id", json_string(ev->actor_id));
		if (berth_streq(ev->type, "container")) {
			const char *from = attr(ev, "image");
			json_object_set_new(j, "from", json_string(from ? from : ""));
		}
	}
	return j;
}

/* ---- GET /events ------------------------------------------------------------------------- */

/* Append the JSON lines of events with seq > *last that pass, up to until_ns (0: none). */
static int collect(struct berthd *d, uint64_t *last, int64_t since_ns, int64_t until_ns,
		   const struct berth_filters *f, char **out, size_t *out_len)
{
	struct daemon_events *e = &d->events;
	uint64_t newest = e->next_seq - 1;
	uint64_t oldest = newest > DAEMON_EVENTS_RING ? newest - DAEMON_EVENTS_RING + 1 : 1;
	FILE *m = open_memstream(out, out_len);

	if (!m)
		return -ENOMEM;
	for (uint64_t s = *last + 1 > oldest ? *last + 1 : oldest; s <= newest; s++) {
		const struct daemon_event *ev = &e->ring[(s - 1) % DAEMON_EVENTS_RING];
		if (ev->time_ns < since_ns || (until_ns && ev->time_ns > until_ns))
			continue;
		if (!daemon_event_matches(ev, f))
			continue;
		_cleanup_json_ json_t *j = daemon_event_json(ev);
		_cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (text)
			fprintf(m, "%s\n", text);
	}
	*last = newest;
	return fclose(m) == 0 ? 0 : -ENOMEM;
}

static void events_handler(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_filters_ struct berth_filters *f = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	const char *since_s = berth_http_query(req, "since"),
		   *until_s = berth_http_query(req, "until");
	int64_t now = daemon_now_ns(), since = 0, until = 0;
	uint64_t last = 0;
	bool replay;

	if (since_s && *since_s && berth_api_parse_time(since_s, now, &since, &e) < 0) {
		berth_http_respond_error(req, 400, "invalid value for 'since': %s", e->msg);
		return;
	}
	if (until_s && *until_s && berth_api_parse_time(until_s, now, &until, &e) < 0) {
		berth_http_respond_error(req, 400, "invalid value for 'until': %s", e->msg);
		return;
	}
	if (until && until < since) {
		berth_http_respond_error(req, 400,
					 "`since` time (%s) cannot be after `until` time (%s)",
					 since_s, until_s);
		return;
	}
	if (berth_http_query_filters(req, &f, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	replay = since || until;

	if (berth_http_stream_begin(req, 200, "application/json") < 0 ||
	    berth_http_stream_flush(req) < 0)
		return;

	pthread_mutex_lock(&d->lock);
	d->events.listeners++;
	if (!replay)
		last = d->events.next_seq - 1; /* only what comes from now on */
	for (;;) {
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		int r = collect(d, &last, since, until, f, &text, &len);
		bool stopping = d->stopping;
		pthread_mutex_unlock(&d->lock);

		if (r < 0 || (len && (berth_http_stream_write(req, text, len) < 0 ||
				      berth_http_stream_flush(req) < 0))) {
			pthread_mutex_lock(&d->lock);
			break;
		}
		now = daemon_now_ns();
		if (stopping || (until && now >= until) || berth_http_client_gone(req) ||
		    berth_http_server_stopping(berth_http_request_server(req))) {
			pthread_mutex_lock(&d->lock);
			break;
		}

		pthread_mutex_lock(&d->lock);
		if (d->events.next_seq - 1 == last && !d->stopping) {
			struct timespec ts;
			int64_t wait_ms = FOLLOW_TICK_MS;
			if (until && (until - now) / 1000000 + 1 < wait_ms)
				wait_ms = (until - now) / 1000000 + 1;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += wait_ms / 1000;
			ts.tv_nsec += (wait_ms % 1000) * 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&d->events.cond, &d->lock, &ts);
		}
	}
	d->events.listeners--;
	pthread_mutex_unlock(&d->lock);
	berth_http_stream_end(req);
}

int daemon_routes_events(struct berthd *d, struct berth_error **err)
{
	return berth_api_router_add(d->router, "GET", "/events", events_handler, d, err);
}
