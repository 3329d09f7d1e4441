/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GET /containers/{id}/logs and POST /containers/{id}/attach.
 *
 * logs reads the json-file log the shim writes (<id>-json.log and its rotated .1, .2 ...) as
 * docker's json-file reader does: stdout/stderr, since/until, tail, timestamps; with follow it
 * keeps reading the live file (inotify on the container's directory, following a rotation by
 * its inode) until the container stops or the client goes.  Docker's multiplexed frames without
 * a tty, raw with one.
 *
 * attach hijacks the connection and hands the client's socket to the shim (SCM_RIGHTS): from
 * then on no byte of the session passes through berthd.  A container that is not running keeps
 * the socket until its next start, which hands it over before the process runs (docker run's
 * attach, then start: the output from its first byte).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "containers-internal.h"
#include "base/banned.h"

#define LOG_LINE_MAX (1 << 20)

/* ---- detach keys ---------------------------------------------------------------------------- */

int ctr_detach_keys(const char *s, char *buf, size_t *n)
{
	size_t k = 0;

	for (const char *p = s; *p;) {
		const char *comma = strchrnul(p, ',');
		size_t len = (size_t)(comma - p);
		int byte = -1;

		if (len == 1) {
			byte = (unsigned char)p[0];
		} else if (len == 6 && strncmp(p, "ctrl-", 5) == 0) {
			char c = p[5];
			if (c >= 'a' && c <= 'z')
				byte = c - 'a' + 1;
			else if (c == '@')
				byte = 0;
			else if (c >= '[' && c <= '_')
				byte = c - '[' + 27;
		}
		if (byte < 0 || k >= 16)
			return -EINVAL;
		buf[k++] = (char)byte;
		p = *comma ? comma + 1 : comma;
	}
	*n = k;
	return 0;
}

/* ---- attach ----------------------------------------------------------------------------------- */

/* Give one client socket to the running container's shim (takes fd). */
static int attach_to_shim(struct berthd *d, struct daemon_container *c, int fd, bool in, bool out,
			  bool errs, const char *keys, size_t n_keys, const char *pending,
			  size_t pending_len, struct berth_error **err)
{
	_cleanup_json_ json_t *req = json_pack("{s:s,s:b,s:b,s:b}", "op", "attach", "stdin", in,
					       "stdout", out, "stderr", errs);
	_cleanup_free_ char *p = NULL;
	char k[17];

	if (!req) {
		close(fd);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	if (n_keys) {
		memcpy(k, keys, n_keys);
		k[n_keys] = '\0';
		json_object_set_new(req, "detach_keys", json_stringn(k, n_keys));
	}
	if (pending_len) {
		p = malloc(pending_len * 2 + 1);
		if (!p) {
			close(fd);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		berth_hex_encode(p, pending, pending_len);
		json_object_set_new(req, "pending", json_string(p));
	}
	return shim_request(d, c->id, req, fd, NULL, NULL, 30000, err);
}

void ctr_attach_flush(struct berthd *d, struct daemon_container *c)
{
	struct ctr_attach *list;

	pthread_mutex_lock(&d->lock);
	list = c->attaches;
	c->attaches = NULL;
	pthread_mutex_unlock(&d->lock);
	while (list) {
		_cleanup_error_ struct berth_error *e = NULL;
		struct ctr_attach *a = list;
		list = a->next;
		if (attach_to_shim(d, c, a->fd, a->in, a->out, a->err, a->keys, a->n_keys,
				   a->pending, a->pending_len, &e) < 0)
			log_warn("container %s: attach: %s", c->id, e ? e->msg : "?");
		free(a->pending);
		free(a);
	}
}

void ctr_attach_drop_locked(struct daemon_container *c)
{
	while (c->attaches) {
		struct ctr_attach *a = c->attaches;
		c->attaches = a->next;
		close(a->fd);
		free(a->pending);
		free(a);
	}
}

/* ---- reading the json-file log ------------------------------------------------------------ */

struct log_entry {
	int stream; /* 1, 2 */
	int64_t ns;
	char *text;
	size_t len;
};

struct log_reader {
	struct berth_http_request *req;
	bool out, err, timestamps, tty;
	int64_t since, until;
	bool done; /* past until */
	/* tail: the last n entries, in a ring */
	int64_t tail;
	struct log_entry *ring;
	size_t ring_n, ring_head;
	int write_error;
};

static int emit(struct log_reader *lr, const struct log_entry *e)
{
	int r;

	if (lr->write_error)
		return lr->write_error;
	if (lr->timestamps) {
		time_t sec = (time_t)(e->ns / 1000000000LL);
		struct tm tm;
		char ts[64];
		gmtime_r(&sec, &tm);
		int n = snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ ",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				 tm.tm_min, tm.tm_sec, (long long)(e->ns % 1000000000LL));
		_cleanup_free_ char *buf = malloc((size_t)n + e->len);
		if (!buf)
			return lr->write_error = -ENOMEM;
		memcpy(buf, ts, (size_t)n);
		memcpy(buf + n, e->text, e->len);
		r = lr->tty ? berth_http_stream_write(lr->req, buf, (size_t)n + e->len)
			    : berth_http_stream_frame(lr->req, e->stream, buf, (size_t)n + e->len);
	} else {
		r = lr->tty ? berth_http_stream_write(lr->req, e->text, e->len)
			    : berth_http_stream_frame(lr->req, e->stream, e->text, e->len);
	}
	if (r < 0)
		lr->write_error = r;
	return r;
}

/* One line of the file: filtered, then sent or kept for the tail. */
static void take_line(struct log_reader *lr, const char *line, size_t n)
{
	_cleanup_json_ json_t *j = json_loadb(line, n, 0, NULL);
	const char *stream = json_string_value(json_object_get(j, "stream"));
	const json_t *log = json_object_get(j, "log");
	struct log_entry e;

	if (!j || !json_is_string(log) || lr->done)
		return;
	e.stream = berth_streq(stream, "stderr") ? 2 : 1;
	if ((e.stream == 1 && !lr->out) || (e.stream == 2 && !lr->err))
		return;
	e.ns = ctr_parse_time(json_string_value(json_object_get(j, "time")));
	if (lr->since && e.ns < lr->since)
		return;
	if (lr->until && e.ns > lr->until) {
		lr->done = true;
		return;
	}
	e.text = (char *)json_string_value(log);
	e.len = json_string_length(log);
	if (lr->tail < 0) {
		emit(lr, &e);
		return;
	}
	if (lr->tail == 0)
		return;
	struct log_entry *slot = &lr->ring[(lr->ring_head + lr->ring_n) % (size_t)lr->tail];
	if (lr->ring_n == (size_t)lr->tail) {
		slot = &lr->ring[lr->ring_head];
		free(slot->text);
		lr->ring_head = (lr->ring_head + 1) % (size_t)lr->tail;
	} else {
		lr->ring_n++;
	}
	*slot = e;
	slot->text = malloc(e.len ? e.len : 1);
	if (slot->text)
		memcpy(slot->text, e.text, e.len);
	else
		slot->len = 0;
}

static void flush_tail(struct log_reader *lr)
{
	for (size_t i = 0; lr->tail > 0 && i < lr->ring_n; i++) {
		struct log_entry *e = &lr->ring[(lr->ring_head + i) % (size_t)lr->tail];
		if (e->text)
			emit(lr, e);
		free(e->text);
		e->text = NULL;
	}
	lr->ring_n = lr->ring_head = 0;
	lr->tail = -1; /* from here on, everything goes out */
}

struct line_buf {
	char *buf;
	size_t len, cap;
};

/* Read what fd has now; whole lines go to take_line.  Returns bytes read, -errno. */
static ssize_t read_lines(struct log_reader *lr, int fd, struct line_buf *lb)
{
	ssize_t total = 0;

	for (;;) {
		if (lb->cap - lb->len < 65536) {
			size_t cap = lb->cap ? lb->cap * 2 : 131072;
			char *b = realloc(lb->buf, cap);
			if (!b)
				return -ENOMEM;
			lb->buf = b;
			lb->cap = cap;
		}
		ssize_t n = read(fd, lb->buf + lb->len, lb->cap - lb->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		total += n;
		lb->len += (size_t)n;
		size_t start = 0;
		for (char *nl; (nl = memchr(lb->buf + start, '\n', lb->len - start));) {
			take_line(lr, lb->buf + start, (size_t)(nl - (lb->buf + start)));
			start = (size_t)(nl - lb->buf) + 1;
		}
		memmove(lb->buf, lb->buf + start, lb->len - start);
		lb->len -= start;
		if (lb->len > LOG_LINE_MAX)
			lb->len = 0; /* not a log of ours */
		if (lr->write_error)
			return lr->write_error;
	}
	return total;
}

static void reader_release(struct log_reader *lr)
{
	for (size_t i = 0; lr->ring && i < lr->ring_n; i++)
		free(lr->ring[(lr->ring_head + i) % (size_t)lr->tail].text);
	free(lr->ring);
}

static void container_logs(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	struct daemon_container *c = NULL;
	struct log_reader lr = {.req = req, .tail = -1};
	struct line_buf lb = {0};
	_cleanup_free_ char *path = NULL;
	bool follow = berth_http_query_bool(req, "follow");
	int fd = -EBADF, ino = -EBADF;
	const char *s;

	lr.out = berth_http_query_bool(req, "stdout");
	lr.err = berth_http_query_bool(req, "stderr");
	lr.timestamps = berth_http_query_bool(req, "timestamps");
	if (!lr.out && !lr.err) {
		berth_http_respond_error(req, 400,
					 "Bad parameters: you must choose at least one stream");
		return;
	}
	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	int64_t now = 0;
	{
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	}
	if ((s = berth_http_query(req, "since")) && *s && strcmp(s, "0") != 0 &&
	    berth_api_parse_time(s, now, &lr.since, &e) < 0) {
		berth_http_respond_error(req, 400, "invalid value for \"since\": %s",
					 e ? e->msg : s);
		goto out;
	}
	if ((s = berth_http_query(req, "until")) && *s && strcmp(s, "0") != 0 &&
	    berth_api_parse_time(s, now, &lr.until, &e) < 0) {
		berth_http_respond_error(req, 400, "invalid value for \"until\": %s",
					 e ? e->msg : s);
		goto out;
	}
	if ((s = berth_http_query(req, "tail")) && *s && strcmp(s, "all") != 0) {
		int64_t t;
		if (berth_parse_int64(s, 0, INT32_MAX, &t) == 0)
			lr.tail = t;
	}
	pthread_mutex_lock(&d->lock);
	lr.tty = json_is_true(json_object_get(c->config, "Tty"));
	path = c->log_path ? strdup(c->log_path) : NULL;
	bool dead = c->removing || c->dead;
	pthread_mutex_unlock(&d->lock);
	if (dead) {
		berth_http_respond_error(
			req, 409,
			"can not get logs from container which is dead or marked for removal");
		goto out;
	}
	if (!path) {
		berth_http_respond_error(req, 501,
					 "configured logging driver does not support reading");
		goto out;
	}
	if (lr.tail > 0) {
		lr.ring = calloc((size_t)lr.tail, sizeof(*lr.ring));
		if (!lr.ring) {
			berth_http_respond_error(req, 500, "out of memory");
			goto out;
		}
	}
	berth_http_stream_begin(req, 200,
				lr.tty || berth_http_api_version(req) < BERTH_API_VERSION(1, 42)
					? BERTH_MEDIA_RAW_STREAM
					: BERTH_MEDIA_MULTIPLEXED_STREAM);
	berth_http_stream_flush(req);

	/* the rotated files, oldest first, then the live one (kept open to follow it) */
	for (int i = 64; i >= 1; i--) {
		_cleanup_free_ char *rp = NULL;
		_cleanup_close_ int rfd = -EBADF;
		if (asprintf(&rp, "%s.%d", path, i) < 0)
			break;
		rfd = open(rp, O_RDONLY | O_CLOEXEC);
		if (rfd < 0)
			continue;
		lb.len = 0;
		read_lines(&lr, rfd, &lb);
	}
	if (follow) {
		/* watch before the last read, so nothing written in between is missed */
		_cleanup_free_ char *dir = strdup(path);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		if (slash) {
			*slash = '\0';
			ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
			if (ino >= 0 &&
			    inotify_add_watch(ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0) {
				close(ino);
				ino = -EBADF;
			}
		}
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	lb.len = 0;
	if (fd >= 0)
		read_lines(&lr, fd, &lb);
	flush_tail(&lr);
	berth_http_stream_flush(req);

	while (follow && !lr.done && !lr.write_error) {
		pthread_mutex_lock(&d->lock);
		bool running = c->running && !c->removed;
		pthread_mutex_unlock(&d->lock);
		struct stat a, b;
		/* a rotation: the rest of the old file, then the new one from its start */
		if (stat(path, &a) == 0 &&
		    (fd < 0 || (fstat(fd, &b) == 0 && a.st_ino != b.st_ino))) {
			if (fd >= 0) {
				read_lines(&lr, fd, &lb);
				close(fd);
			}
			fd = open(path, O_RDONLY | O_CLOEXEC);
			lb.len = 0;
		}
		ssize_t n = fd >= 0 ? read_lines(&lr, fd, &lb) : 0;
		if (n > 0)
			berth_http_stream_flush(req);
		if (n != 0)
			continue;
		if (!running) {
			/* stopped: what the shim wrote last is in; one more read, then the end */
			if (fd >= 0 && read_lines(&lr, fd, &lb) > 0)
				continue;
			break;
		}
		if (lr.until) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			if ((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec > lr.until)
				break;
		}
		if (berth_http_client_gone(req))
			break;
		struct pollfd p = {.fd = ino, .events = POLLIN};
		if (ino >= 0 && poll(&p, 1, 200) > 0) {
			char ev[4096];
			while (read(ino, ev, sizeof(ev)) > 0)
				;
		} else if (ino < 0) {
			usleep(100000);
		}
	}
	berth_http_stream_end(req);
out:
	if (fd >= 0)
		close(fd);
	if (ino >= 0)
		close(ino);
	free(lb.buf);
	reader_release(&lr);
	ctr_unref(d, c);
}

/* ---- POST /containers/{id}/attach ------------------------------------------------------------ */

/* The whole log so far (attach's logs=1) onto the hijacked socket. */
static void attach_logs(struct daemon_container *c, const char *path, bool tty, int fd, bool out,
			bool errs)
{
	_cleanup_close_ int lfd = -EBADF;
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (!path)
		return;
	lfd = open(path, O_RDONLY | O_CLOEXEC);
	if (lfd < 0 || berth_read_fd(lfd, 64 << 20, &data, &len, NULL) < 0)
		return;
	for (char *l = data, *nl;
	     l < data + len && (nl = memchr(l, '\n', len - (size_t)(l - data))); l = nl + 1) {
		_cleanup_json_ json_t *j = json_loadb(l, (size_t)(nl - l), 0, NULL);
		const json_t *log = json_object_get(j, "log");
		int stream = berth_streq(json_string_value(json_object_get(j, "stream")), "stderr")
				     ? 2
				     : 1;
		if (!json_is_string(log) || (stream == 1 && !out) || (stream == 2 && !errs))
			continue;
		if (tty)
			berth_write_all(fd, json_string_value(log), json_string_length(log));
		else
			berth_frame_write_fd(fd, stream, json_string_value(log),
					     json_string_length(log));
	}
	(void)c;
}

static void container_attach(struct berth_http_request *req, void *userdata)
{
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *pending = NULL, *log_path = NULL;
	struct daemon_container *c = NULL;
	bool in = berth_http_query_bool(req, "stdin"), out = berth_http_query_bool(req, "stdout"),
	     errs = berth_http_query_bool(req, "stderr");
	bool stream = berth_http_query_bool(req, "stream"),
	     logs = berth_http_query_bool(req, "logs");
	const char *keys_s = berth_http_query(req, "detachKeys");
	char keys[16] = {0x10, 0x11};
	size_t n_keys = 2, pending_len = 0;
	int fd = -EBADF;

	if (keys_s && *keys_s && ctr_detach_keys(keys_s, keys, &n_keys) < 0) {
		berth_http_respond_error(req, 400, "Invalid detach keys (%s) provided", keys_s);
		return;
	}
	if (ctr_get(d, berth_http_param(req, "name"), &c, &e) < 0) {
		berth_http_respond_berror(req, e);
		return;
	}
	pthread_mutex_lock(&d->lock);
	bool tty = json_is_true(json_object_get(c->config, "Tty"));
	bool paused = c->paused, restarting = c->restarting, gone = c->removing || c->dead;
	log_path = c->log_path ? strdup(c->log_path) : NULL;
	pthread_mutex_unlock(&d->lock);
	if (paused || restarting || gone) {
		berth_http_respond_error(req, 409,
					 paused ? "container %s is paused, unpause the container "
						  "before attach"
					 : restarting
						 ? "container %s is restarting, wait until the "
						   "container is running"
						 : "container %s is marked for removal",
					 berth_http_param(req, "name"));
		goto out;
	}
	if (berth_http_hijack(req,
			      tty || berth_http_api_version(req) < BERTH_API_VERSION(1, 42)
				      ? BERTH_MEDIA_RAW_STREAM
				      : BERTH_MEDIA_MULTIPLEXED_STREAM,
			      &fd, &pending, &pending_len, &e) < 0) {
		log_warn("attach %s: %s", c->id, e ? e->msg : "?");
		goto out;
	}
	if (logs)
		attach_logs(c, log_path, tty, fd, out, errs);
	if (!stream) {
		close(fd);
		goto out;
	}
	pthread_mutex_lock(&d->lock);
	ctr_event_locked(d, c, "attach", NULL, 0);
	if (c->running && c->shim && !c->restarting) {
		pthread_mutex_unlock(&d->lock);
		if (attach_to_shim(d, c, fd, in, out, errs, keys, n_keys, pending, pending_len,
				   &e) < 0)
			log_debug("attach %s: %s", c->id, e ? e->msg : "?");
		goto out;
	}
	/* not running: the socket waits for the next start */
	struct ctr_attach *a = calloc(1, sizeof(*a));
	if (!a || c->removed) {
		pthread_mutex_unlock(&d->lock);
		free(a);
		close(fd);
		goto out;
	}
	a->fd = fd;
	a->in = in;
	a->out = out;
	a->err = errs;
	memcpy(a->keys, keys, n_keys);
	a->n_keys = n_keys;
	a->pending = TAKE_PTR(pending);
	a->pending_len = pending_len;
	a->next = NULL;
	struct ctr_attach **tail = &c->attaches;
	while (*tail)
		tail = &(*tail)->next;
	*tail = a;
	pthread_mutex_unlock(&d->lock);
out:
	ctr_unref(d, c);
}

int ctr_routes_logs(struct berthd *d, struct berth_error **err)
{
	int r = 0;

	r = r
		    ?: berth_api_router_add(d->router, "GET", "/containers/{name}/logs",
					    container_logs, d, err);
	r = r
		    ?: berth_api_router_add(d->router, "POST", "/containers/{name}/attach",
					    container_attach, d, err);
	return r;
}
