/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The image endpoints that stream: POST /images/load (docker load), GET /images/{name}/get and
 * GET /images/get?names= (docker save), POST /images/create?fromSrc=- (docker import),
 * POST /images/create?fromImage= (docker pull) and POST /images/{name}/push (docker push), the
 * last two through lib/registry.
 *
 * lib/image reads archives from an fd and writes them to one; the request belongs to its
 * connection's thread.  So each of these runs the store's side on a worker thread of its own,
 * connected to the handler by a socket pair (load, import: the handler feeds it the body) or a
 * pipe (save: the handler sends what it writes), and the worker hands the lines it has for the
 * client (load's progress) to the handler through a queue.  Only the handler touches the
 * request.
 *
 * A body that breaks off half-way (client gone, timeout, bad chunking) must fail the operation
 * even if what came so far is a well-formed shorter archive: the handler's end of the socket
 * pair holds one unread byte, so closing it makes the kernel reset the worker's end (its next
 * read is ECONNRESET) instead of giving it a clean end of file.  A body that ends as it should
 * is ended with shutdown(SHUT_WR) -- a clean end of file -- and the handler closes its end only
 * after the worker is done.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "daemon.h"
#include "images-internal.h"
#include "base/banned.h"

#define IO_CHUNK (64 * 1024)

/* ---- Go's JSON lines ------------------------------------------------------------------------ */

char *images_go_json(const json_t *j)
{
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);
	size_t n = 0;
	char *out, *o;

	if (!text)
		return NULL;
	/* '<', '>', '&' only occur inside strings in compact JSON: replacing them is safe */
	for (const char *p = text; *p; p++)
		n += (*p == '<' || *p == '>' || *p == '&') ? 6 : 1;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	o = out;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '<' || *p == '>' || *p == '&') {
			o += snprintf(o, 7, "\\u%04x", *p);
		} else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			/* U+2028, U+2029: six bytes for three, always room (n counted three) */
			size_t used = (size_t)(o - out);
			char *bigger = realloc(out, n + 4);
			if (!bigger) {
				free(out);
				return NULL;
			}
			out = bigger;
			o = out + used;
			n += 3;
			o += snprintf(o, 7, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
			p += 2;
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return out;
}

/* A stream message line: the JSON and "\r\n", as dockerd's streamformatter writes it. */
static char *stream_line(json_t *j)
{
	_cleanup_free_ char *text = NULL;
	char *line;

	if (!j)
		return NULL;
	text = images_go_json(j);
	json_decref(j);
	if (!text || asprintf(&line, "%s\r\n", text) < 0)
		return NULL;
	return line;
}

static char *error_line(const char *msg)
{
	return stream_line(json_pack("{s:{s:s},s:s}", "errorDetail", "message", msg, "error", msg));
}

static char *stdout_line(const char *text)
{
	return stream_line(json_pack("{s:s}", "stream", text));
}

/* docker/go-units HumanSize: four significant digits, decimal units. */
static void human_size(double size, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
	size_t i = 0;

	while (size >= 1000.0 && i < ARRAY_SIZE(units) - 1) {
		size /= 1000.0;
		i++;
	}
	snprintf(buf, len, "%.4g%s", size, units[i]);
}

void images_progress_bar(uint64_t current, uint64_t total, char *buf, size_t len)
{
	char cur[32], tot[32], bar[64];
	int pct;

	human_size((double)current, cur, sizeof(cur));
	if (!total) {
		snprintf(buf, len, "%8s", cur);
		return;
	}
	human_size((double)total, tot, sizeof(tot));
	pct = (int)((double)current / (double)total * 100) / 2;
	if (pct > 50)
		pct = 50;
	memset(bar, '=', (size_t)pct);
	bar[pct] = '>';
	memset(bar + pct + 1, ' ', (size_t)(50 - pct));
	bar[51] = '\0';
	if (current > total)
		snprintf(buf, len, "[%s] %8s", bar, cur);
	else
		snprintf(buf, len, "[%s] %8s/%s", bar, cur, tot);
}

/* ---- the worker ----------------------------------------------------------------------------- */

struct io_job {
	struct berthd *d;
	int fd; /* the worker's end of the pair or pipe; the worker closes it when done */
	int (*run)(struct io_job *j, struct berth_error **err);
	int r;
	struct berth_error *err;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	char **lines; /* for the client, in order; taken by the handler from head on */
	size_t n_lines, head;
	bool done;

	/* load */
	bool quiet;
	struct berth_image_load_result loaded;
	/* import */
	json_t *config;
	char *ref, *id;
	/* save; push: the full name:tag references to push */
	char **names;
	/* pull, push */
	char *remote; /* pull: the full reference */
	char *platform;
	json_t *auth_json;
	struct berth_registry_auth auth;
	struct berth_registry_pull_result pulled;
	bool all_tags;	     /* pull: every tag of remote (a name without tag) */
	char **pulled_names; /* pull -a: the full name:tag of each tag pulled */
};

static void job_init(struct io_job *j, struct berthd *d,
		     int (*run)(struct io_job *j, struct berth_error **err))
{
	memset(j, 0, sizeof(*j));
	j->d = d;
	j->fd = -EBADF;
	j->run = run;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
}

static void job_release(struct io_job *j)
{
	for (size_t i = j->head; i < j->n_lines; i++)
		free(j->lines[i]);
	free(j->lines);
	berth_error_free(j->err);
	berth_image_load_result_release(&j->loaded);
	json_decref(j->config);
	free(j->ref);
	free(j->id);
	berth_strv_free(j->names);
	free(j->remote);
	free(j->platform);
	json_decref(j->auth_json);
	berth_registry_pull_result_release(&j->pulled);
	berth_strv_free(j->pulled_names);
	if (j->fd >= 0)
		close(j->fd);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->cond);
}

/* Queue a line for the client (taken over; NULL: out of memory, dropped). */
static void job_say(struct io_job *j, char *line)
{
	char **v;

	if (!line)
		return;
	pthread_mutex_lock(&j->lock);
	v = realloc(j->lines, (j->n_lines + 1) * sizeof(*v));
	if (v) {
		j->lines = v;
		j->lines[j->n_lines++] = line;
		pthread_cond_signal(&j->cond);
	} else {
		free(line);
	}
	pthread_mutex_unlock(&j->lock);
}

static void *job_main(void *arg)
{
	struct io_job *j = arg;

	j->r = j->run(j, &j->err);
	close(j->fd); /* save: the reader's end of file; load/import: the pump's EPIPE */
	j->fd = -EBADF;
	pthread_mutex_lock(&j->lock);
	j->done = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

static int job_start(struct io_job *j, pthread_t *ret, struct berth_error **err)
{
	int r = pthread_create(ret, NULL, job_main, j);

	if (r != 0)
		return berth_error_sys(err, r, "start a worker thread");
	return 0;
}

/*
 * Wait for the worker, writing the lines it queues as they come (begin: called before the first
 * one, to start the response).  A client that went away stops the writing, not the wait.
 */
static void job_wait(struct io_job *j, pthread_t thread, struct berth_http_request *req,
		     bool *began, const char *content_type)
{
	bool done = false, writable = true;

	while (!done) {
		char **take = NULL;
		size_t n = 0;
		bool starved = false;

		pthread_mutex_lock(&j->lock);
		while (!j->done && j->head == j->n_lines)
			pthread_cond_wait(&j->cond, &j->lock);
		if (j->head < j->n_lines) {
			n = j->n_lines - j->head;
			take = malloc(n * sizeof(*take));
			if (take) {
				memcpy(take, j->lines + j->head, n * sizeof(*take));
				j->head = j->n_lines;
			} else {
				n = 0;
				starved = true;
			}
		}
		done = j->done && j->head == j->n_lines;
		pthread_mutex_unlock(&j->lock);

		for (size_t i = 0; i < n; i++) {
			if (writable && !*began) {
				writable = berth_http_stream_begin(req, 200, content_type) == 0;
				*began = true;
			}
			if (writable)
				writable = berth_http_stream_write(req, take[i], strlen(take[i])) ==
						   0 &&
					   berth_http_stream_flush(req) == 0;
			free(take[i]);
		}
		free(take);
		if (starved) /* out of memory for the copy: let the worker go on, try again */
			usleep(10000);
	}
	pthread_join(thread, NULL);
}

/* ---- feeding the body to the worker --------------------------------------------------------- */

/*
 * Make the socket pair: sv[0] the handler's, sv[1] the worker's, with the unread byte in sv[0]
 * that turns its close into a reset of sv[1] (see the top of the file).
 */
static int body_pair(int sv[2], struct berth_error **err)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return berth_error_sys(err, errno, "socketpair");
	if (write(sv[1], "x", 1) != 1) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return berth_error_sys(err, e, "socketpair");
	}
	return 0;
}

/*
 * Send the request body into sock until it ends (then shut sock down for writing: a clean end
 * of file for the worker), the worker stops reading (EPIPE: it is done, probably with an error),
 * or the body breaks off (then sock is closed: the worker's read fails).  Returns 0, or -errno
 * of the body with *err set (the body's fault, not the worker's).
 */
static int pump_body(struct berth_http_request *req, int *sock, struct berth_error **err)
{
	_cleanup_free_ char *buf = malloc(IO_CHUNK);

	if (!buf) {
		close(*sock);
		*sock = -EBADF;
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	for (;;) {
		ssize_t n = berth_http_read_body(req, buf, IO_CHUNK, err);
		if (n == 0) {
			shutdown(*sock, SHUT_WR);
			return 0;
		}
		if (n < 0) {
			close(*sock);
			*sock = -EBADF;
			return (int)n;
		}
		if (berth_write_all(*sock, buf, (size_t)n) < 0)
			return 0; /* the worker has stopped reading: its result says why */
	}
}

/* ---- POST /images/load ---------------------------------------------------------------------- */

static void load_progress(void *userdata, const struct berth_image_progress *p)
{
	struct io_job *j = userdata;
	char bar[192];

	/* dockerd's progress reader reports after reading, never at 0 */
	if (p->current == 0)
		return;
	images_progress_bar(p->current, p->total, bar, sizeof(bar));
	job_say(j,
		stream_line(json_pack("{s:s,s:{s:I,s:I},s:s,s:s}", "status", p->action,
				      "progressDetail", "current", (json_int_t)p->current, "total",
				      (json_int_t)p->total, "progress", bar, "id", p->id)));
}

static int run_load(struct io_job *j, struct berth_error **err)
{
	struct berth_image_progress_cb cb = {load_progress, j};

	return berth_image_load(j->d->images.store, j->fd, j->quiet ? NULL : &cb, &j->loaded, err);
}

/* What dockerd writes after a load: tag lines per image, then the ids when the last had none. */
static void load_report(struct io_job *j)
{
	_cleanup_free_ char *ids = strdup("");
	size_t last_refs = 0;

	for (size_t i = 0; i < j->loaded.n_images; i++) {
		const struct berth_image_loaded *img = &j->loaded.images[i];
		char *more;

		for (size_t k = 0; k < img->n_tags; k++) {
			_cleanup_free_ char *fam = images_familiar(img->tags[k]), *text = NULL;
			if (!fam)
				continue;
			if (img->previous_ids[k] &&
			    asprintf(&text,
				     "The image %s already exists, renaming the old one with ID %s "
				     "to empty string\n",
				     fam, img->previous_ids[k]) >= 0) {
				job_say(j, stdout_line(text));
				free(text);
				text = NULL;
			}
			if (asprintf(&text, "Loaded image: %s\n", fam) >= 0)
				job_say(j, stdout_line(text));
		}
		if (ids && asprintf(&more, "%sLoaded image ID: %s\n", ids, img->id) >= 0) {
			free(ids);
			ids = more;
		}
		last_refs = img->n_tags;
	}
	/* dockerd's own rule: the ids only when the archive's last image had no tag */
	if (last_refs == 0 && ids && *ids)
		job_say(j, stdout_line(ids));
}

void daemon_images_load(struct berth_http_request *req, void *userdata)
{
	images_op_scope(userdata);
	struct berthd *d = userdata;
	_cleanup_error_ struct berth_error *body_err = NULL, *e = NULL;
	struct io_job j;
	pthread_t thread;
	bool began = false;
	int sv[2], r;

	job_init(&j, d, run_load);
	j.quiet = berth_http_query_bool_or_default(req, "quiet", true);
	r = body_pair(sv, &e);
	if (r == 0) {
		j.fd = sv[1];
		r = job_start(&j, &thread, &e);
		if (r < 0) {
			close(sv[0]);
			j.fd = -EBADF;
			close(sv[1]);
		}
	}
	if (r < 0) {
		/* dockerd answers load errors in the stream, even the first */
		berth_http_stream_begin(req, 200, "application/json");
		_cleanup_free_ char *line = error_line(e ? e->msg : "load failed");
		if (line)
			berth_http_stream_write(req, line, strlen(line));
		job_release(&j);
		return;
	}
	r = pump_body(req, &sv[0], &body_err);
	job_wait(&j, thread, req, &began, "application/json");
	if (sv[0] >= 0)
		close(sv[0]);
	if (j.r == 0) {
		/* the events, then the lines after the load */
		load_report(&j);
		for (size_t i = 0; i < j.loaded.n_images; i++) {
			_cleanup_json_ json_t *config = NULL;
			const char *id = j.loaded.images[i].id;
			if (berth_image_config(d->images.store, id, &config, NULL) < 0)
				config = NULL;
			images_event(d, "load", id, id, images_labels(config));
		}
		daemon_images_update_count(d);
	} else {
		const char *msg = body_err ? body_err->msg : j.err ? j.err->msg : "load failed";
		_cleanup_free_ char *text = NULL;
		if (body_err && asprintf(&text, "load: reading the request body: %s", msg) >= 0)
			msg = text;
		job_say(&j, error_line(msg));
	}
	/* the report lines went to the queue after the wait: write them the same way */
	pthread_mutex_lock(&j.lock);
	size_t from = j.head, to = j.n_lines;
	j.head = to;
	pthread_mutex_unlock(&j.lock);
	bool ok = true;
	if (!began && from < to) {
		ok = berth_http_stream_begin(req, 200, "application/json") == 0;
		began = true;
	}
	for (size_t i = from; i < to; i++) {
		if (ok)
			ok = berth_http_stream_write(req, j.lines[i], strlen(j.lines[i])) == 0;
		free(j.lines[i]);
	}
	if (!began)
		berth_http_stream_begin(req, 200, "application/json");
	job_release(&j);
}

/* ---- GET /images/{name}/get, GET /images/get?names= ----------------------------------------- */

static int run_save(struct io_job *j, struct berth_error **err)
{
	return berth_image_save(j->d->images.store, j->names, j->fd, err);
}

/* The image ids docker save took for names, as its events name them (after the save). */
static void save_events(struct berthd *d, char *const *names)
{
	_cleanup_json_ json_t *ids = json_object();
	struct berth_image_info **infos = NULL;
	size_t n_infos = 0;
	bool listed = false;
	const char *id;
	json_t *v;

	if (!ids)
		return;
	for (size_t i = 0; names[i]; i++) {
		_cleanup_reference_ struct berth_reference *ref = NULL;
		_cleanup_free_ char *found = NULL, *fam = NULL;
		bool any = false;

		/* a name without tag or digest is every tag of that repository */
		if (berth_reference_parse(names[i], &ref, NULL) == 0 && !ref->tag && !ref->digest &&
		    (fam = berth_reference_familiar_name(ref))) {
			if (!listed &&
			    berth_image_list(d->images.store, &infos, &n_infos, NULL) == 0)
				listed = true;
			for (size_t k = 0; k < n_infos; k++)
				for (size_t t = 0; infos[k]->repo_tags[t]; t++) {
					_cleanup_free_ char *nm = strdup(infos[k]->repo_tags[t]);
					char *colon = nm ? strrchr(nm, ':') : NULL;
					if (colon && !strchr(colon, '/'))
						*colon = '\0';
					if (berth_streq(nm, fam)) {
						json_object_set_new(ids, infos[k]->id, json_true());
						any = true;
					}
				}
		}
		if (!any && berth_image_resolve(d->images.store, names[i], &found, NULL) == 0)
			json_object_set_new(ids, found, json_true());
	}
	berth_image_info_list_free(infos, n_infos);
	json_object_foreach (ids, id, v) {
		_cleanup_json_ json_t *config = NULL;
		if (berth_image_config(d->images.store, id, &config, NULL) < 0)
			config = NULL;
		images_event(d, "save", id, id, images_labels(config));
	}
}

void daemon_images_save(struct berth_http_request *req, void *userdata)
{
	images_op_scope(userdata);
	struct berthd *d = userdata;
	const char *name = berth_http_param(req, "name");
	_cleanup_error_ struct berth_error *e = NULL;
	struct io_job j;
	pthread_t thread;
	bool began = false, client_gone = false;
	int p[2] = {-EBADF, -EBADF}, r;

	job_init(&j, d, run_save);
	if (name) {
		r = berth_strv_push(&j.names, name);
	} else {
		const char *const *v = berth_http_query_all(req, "names");
		j.names = calloc(1, sizeof(char *));
		r = j.names ? 0 : -ENOMEM;
		for (size_t i = 0; r == 0 && v && v[i]; i++)
			r = berth_strv_push(&j.names, v[i]);
	}
	if (r < 0) {
		berth_http_respond_error(req, 500, "out of memory");
		job_release(&j);
		return;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		berth_http_respond_error(req, 500, "pipe: %s", strerror(errno));
		job_release(&j);
		return;
	}
	j.fd = p[1];
	r = job_start(&j, &thread, &e);
	if (r < 0) {
		close(p[0]);
		images_respond_error(req, e);
		job_release(&j);
		return;
	}
	client_gone = berth_http_stream_from_fd(req, p[0], "application/x-tar", &began) < 0;
	/* a client that went away: the worker's next write fails and it stops */
	close(p[0]);
	job_wait(&j, thread, req, &began, "application/x-tar");
	if (j.r < 0) {
		if (!began)
			images_respond_error(req, j.err);
		else if (!client_gone)
			berth_http_stream_abort(req);
		if (j.err && !client_gone)
			log_warn("save: %s", j.err->msg);
	} else {
		if (!began)
			berth_http_stream_begin(req, 200, "application/x-tar");
		save_events(d, j.names);
	}
	job_release(&j);
}

/* ---- POST /images/create ------------------------------------------------------------------- */

static const char *host_arch(void)
{
	static struct utsname u;

	uname(&u);
	return daemon_go_arch(u.machine);
}

/*
 * containerd's platforms.Parse, as far as import needs it: "os", "arch", "os/arch" or
 * "os/arch/variant", normalised ("x86_64" amd64, "aarch64" arm64, ...).  The os must be linux.
 */
static int parse_platform(const char *s, char **ret_arch, char **ret_variant,
			  struct berth_error **err)
{
	static const struct {
		const char *in, *arch, *variant;
	} archs[] = {
		{"amd64", "amd64", NULL},     {"x86_64", "amd64", NULL},
		{"x86-64", "amd64", NULL},    {"aarch64", "arm64", NULL},
		{"arm64", "arm64", NULL},     {"armhf", "arm", "v7"},
		{"armel", "arm", "v6"},	      {"arm", "arm", NULL},
		{"i386", "386", NULL},	      {"386", "386", NULL},
		{"ppc64le", "ppc64le", NULL}, {"s390x", "s390x", NULL},
		{"riscv64", "riscv64", NULL}, {"mips64le", "mips64le", NULL},
	};
	static const char *const oses[] = {"linux",   "windows", "darwin",  "freebsd", "netbsd",
					   "openbsd", "solaris", "illumos", "aix",     "android",
					   "ios",     "plan9",	 "js",	    "wasip1"};
	_cleanup_free_ char *copy = strdup(s);
	char *parts[4] = {NULL};
	size_t n = 0;
	const char *os = "linux", *arch = NULL, *variant = NULL;

	if (!copy)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (char *p = copy, *slash; p && n < 4; p = slash ? slash + 1 : NULL) {
		slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		parts[n++] = p;
	}
	if (n == 0 || n > 3 || !*parts[0] || (n > 1 && !*parts[1]))
		return berth_error_set(err, EINVAL, "\"%s\": invalid platform specifier", s);
	for (char *c = copy; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	bool is_os = false;
	for (size_t i = 0; i < ARRAY_SIZE(oses); i++)
		is_os |= strcmp(parts[0], oses[i]) == 0;
	if (n == 1 && is_os) {
		os = parts[0];
	} else {
		const char *a = n == 1 ? parts[0] : parts[1];
		if (n > 1) {
			if (!is_os)
				return berth_error_set(err, EINVAL,
						       "\"%s\": unknown operating system or "
						       "architecture: invalid argument",
						       s);
			os = parts[0];
		}
		for (size_t i = 0; i < ARRAY_SIZE(archs) && !arch; i++)
			if (strcmp(a, archs[i].in) == 0) {
				arch = archs[i].arch;
				variant = archs[i].variant;
			}
		if (!arch)
			return berth_error_set(err, EINVAL,
					       "\"%s\": unknown operating system or architecture: "
					       "invalid argument",
					       s);
		if (n == 3)
			variant = parts[2];
		/* containerd's Normalize: arm64's v8 and amd64's v1 are no variant, arm's "7" v7 */
		if (variant && ((!strcmp(arch, "arm64") &&
				 (!strcmp(variant, "v8") || !strcmp(variant, "8"))) ||
				(!strcmp(arch, "amd64") && !strcmp(variant, "v1"))))
			variant = NULL;
		if (variant && !strcmp(arch, "arm") && variant[0] >= '5' && variant[0] <= '8' &&
		    !variant[1]) {
			static const char *const v[] = {"v5", "v6", "v7", "v8"};
			variant = v[variant[0] - '5'];
		}
	}
	if (strcmp(os, "linux") != 0)
		return berth_error_set(err, EINVAL, "operating system is not supported");
	*ret_arch = strdup(arch ? arch : host_arch());
	*ret_variant = variant ? strdup(variant) : NULL;
	if (!*ret_arch || (variant && !*ret_variant)) {
		free(*ret_arch);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* The image config an import writes (dockerd's ImportImage; rootfs is lib/image's to set). */
static json_t *import_config(const char *arch, const char *variant, const char *comment,
			     json_t *config)
{
	_cleanup_free_ char *now_raw = berth_rfc3339_now();
	_cleanup_free_ char *now = now_raw ? images_go_time(now_raw) : NULL;
	json_t *c;

	if (!now || !config)
		return NULL;
	c = json_pack("{s:s,s:s,s:o,s:o,s:s,s:s,s:[{s:s,s:s}],s:s}", "architecture", arch,
		      "comment", comment, "config", json_incref(config), "container_config",
		      daemon_container_config_json(NULL), "created", now, "docker_version",
		      BERTH_VERSION, "history", "created", now, "comment", comment, "os", "linux");
	if (c && variant)
		json_object_set_new(c, "variant", json_string(variant));
	return c;
}

static int run_import(struct io_job *j, struct berth_error **err)
{
	return berth_image_import(j->d->images.store, j->fd, j->config, j->ref, NULL, &j->id, err);
}

/* ---- docker pull, docker push ------------------------------------------------------------- */

/* Write the lines queued after job_wait returned (the report after the operation). */
static void job_flush_rest(struct io_job *j, struct berth_http_request *req, bool *began)
{
	size_t from, to;
	bool ok = true;

	pthread_mutex_lock(&j->lock);
	from = j->head;
	to = j->n_lines;
	j->head = to;
	pthread_mutex_unlock(&j->lock);
	if (!*began && from < to) {
		ok = berth_http_stream_begin(req, 200, "application/json") == 0;
		*began = true;
	}
	for (size_t i = from; i < to; i++) {
		if (ok)
			ok = berth_http_stream_write(req, j->lines[i], strlen(j->lines[i])) == 0;
		free(j->lines[i]);
	}
	if (!*began) {
		berth_http_stream_begin(req, 200, "application/json");
		*began = true;
	}
}

/* lib/registry's progress as dockerd's JSON messages. */
static void registry_progress(void *userdata, const struct berth_registry_progress *p)
{
	struct io_job *j = userdata;
	char bar[192];

	if (!p->id) {
		job_say(j, stream_line(json_pack("{s:s}", "status", p->status)));
	} else if (berth_str_has_prefix(p->status, "Pulling from")) {
		job_say(j, stream_line(json_pack("{s:s,s:s}", "status", p->status, "id", p->id)));
	} else if (p->total || p->current) {
		images_progress_bar(p->current, p->total, bar, sizeof(bar));
		job_say(j, stream_line(json_pack(
				   "{s:s,s:{s:I,s:I},s:s,s:s}", "status", p->status,
				   "progressDetail", "current", (json_int_t)p->current, "total",
				   (json_int_t)p->total, "progress", bar, "id", p->id)));
	} else {
		job_say(j, stream_line(json_pack("{s:s,s:{},s:s}", "status", p->status,
						 "progressDetail", "id", p->id)));
	}
}

static int run_pull(struct io_job *j, struct berth_error **err)
{
	struct berth_registry_progress_cb cb = {registry_progress, j};
	struct berth_registry *reg = NULL;
	int r = daemon_registry_client(j->d, &reg, err);

	if (r == 0 && !j->all_tags)
		r = berth_registry_pull(reg, j->d->images.store, j->remote, j->platform, &j->auth,
					&cb, &j->pulled, err);
	if (r == 0 && j->all_tags) {
		/* dockerd's pull of a bare name: each tag the registry lists, in its order, each
		 * with its "Digest:" line; one status line for all of them at the end */
		_cleanup_strv_ char **tags = NULL;
		r = berth_registry_tags(reg, j->remote, &j->auth, &tags, err);
		for (size_t i = 0; r == 0 && tags[i]; i++) {
			struct berth_registry_pull_result res = {0};
			_cleanup_free_ char *one = NULL, *text = NULL;

			if (asprintf(&one, "%s:%s", j->remote, tags[i]) < 0)
				r = berth_error_set(err, ENOMEM, "out of memory");
			if (r == 0)
				r = berth_registry_pull(reg, j->d->images.store, one, j->platform,
							&j->auth, &cb, &res, err);
			if (r == 0) {
				j->pulled.newer = j->pulled.newer || res.newer;
				berth_strv_push(&j->pulled_names, res.name);
				if (asprintf(&text, "Digest: %s", res.digest) >= 0)
					job_say(j, stream_line(json_pack("{s:s}", "status", text)));
			}
			berth_registry_pull_result_release(&res);
		}
	}
	berth_registry_free(reg);
	return r;
}

/* dockerd's status for a pull that failed before its first line: not found for what the
 * registry does not have (or will not say it has), bad request for bad input. */
static int pull_status(const struct berth_error *e)
{
	if (!e)
		return 500;
	switch (e->code) {
	case ENOENT:
	case EACCES:
		return 404;
	case EINVAL:
		return 400;
	case EKEYREJECTED:
		return 401;
	default:
		return berth_api_error_status(e->code) == 500 ? 500
							      : berth_api_error_status(e->code);
	}
}

/* fromImage: dockerd's checks of the reference, then the pull. */
static void pull(struct berth_http_request *req, struct berthd *d, const char *image)
{
	_cleanup_reference_ struct berth_reference *ref = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *trimmed = strdup(image), *name = NULL, *fam = NULL;
	const char *tag = berth_http_query(req, "tag");
	const char *platform = berth_http_query(req, "platform");
	struct io_job j;
	pthread_t thread;
	bool began = false;
	size_t n;
	int r;

	if (!trimmed) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	/* "pull -a" may send the name with a trailing ':' */
	n = strlen(trimmed);
	if (n && trimmed[n - 1] == ':')
		trimmed[n - 1] = '\0';
	if (berth_reference_parse(trimmed, &ref, &e) < 0) {
		images_respond_error(req, e);
		return;
	}
	if (tag && *tag) {
		/* the "tag" may be a digest; anything else must be a tag */
		if (berth_digest_validate(tag, NULL) == 0) {
			free(ref->tag);
			ref->tag = NULL;
			free(ref->digest);
			ref->digest = strdup(tag);
		} else if (!images_valid_tag(tag)) {
			berth_http_respond_error(req, 400, "invalid tag format");
			return;
		} else {
			free(ref->tag);
			ref->tag = strdup(tag);
		}
	}
	name = berth_reference_familiar_name(ref);
	if (!name) {
		berth_http_respond_error(req, 500, "out of memory");
		return;
	}
	if (strcmp(name, "scratch") == 0) {
		berth_http_respond_error(req, 403, "'scratch' is a reserved name");
		return;
	}
	job_init(&j, d, run_pull);
	/* no tag and no digest: dockerd pulls every tag of the repository (docker pull -a) */
	j.all_tags = !ref->tag && !ref->digest;
	j.remote = j.all_tags ? berth_reference_name(ref) : berth_reference_string(ref);
	fam = berth_reference_familiar(ref);
	r = j.remote && fam ? 0 : berth_error_set(&e, ENOMEM, "out of memory");
	if (r == 0 && platform && *platform &&
	    berth_http_api_version(req) >= BERTH_API_VERSION(1, 32) &&
	    !(j.platform = strdup(platform)))
		r = berth_error_set(&e, ENOMEM, "out of memory");
	if (r == 0)
		r = daemon_registry_auth(req, &j.auth, &j.auth_json, &e);
	if (r == 0) {
		/* a platform dockerd would refuse is refused before the network */
		_cleanup_free_ char *os = NULL, *arch = NULL, *variant = NULL;
		r = berth_registry_platform_parse(j.platform, &os, &arch, &variant, &e);
	}
	if (r == 0)
		r = job_start(&j, &thread, &e);
	if (r < 0) {
		images_respond_error(req, e);
		job_release(&j);
		return;
	}
	job_wait(&j, thread, req, &began, "application/json");
	if (j.r < 0) {
		if (!began) {
			berth_http_respond_error(req, pull_status(j.err), "%s",
						 j.err ? j.err->msg : "pull failed");
			job_release(&j);
			return;
		}
		job_say(&j, error_line(j.err ? j.err->msg : "pull failed"));
		job_flush_rest(&j, req, &began);
		job_release(&j);
		return;
	}
	if (j.all_tags) {
		_cleanup_free_ char *text = NULL;
		if (asprintf(&text, "Status: %s for %s",
			     j.pulled.newer ? "Downloaded newer image" : "Image is up to date",
			     fam) >= 0)
			job_say(&j, stream_line(json_pack("{s:s}", "status", text)));
		for (size_t i = 0; j.pulled_names && j.pulled_names[i]; i++) {
			_cleanup_free_ char *shown = images_familiar(j.pulled_names[i]), *id = NULL;
			_cleanup_json_ json_t *config = NULL;
			if (berth_image_resolve(d->images.store, j.pulled_names[i], &id, NULL) <
				    0 ||
			    berth_image_config(d->images.store, id, &config, NULL) < 0)
				config = NULL;
			images_event(d, "pull", shown ? shown : j.pulled_names[i],
				     shown ? shown : j.pulled_names[i], images_labels(config));
		}
		daemon_images_update_count(d);
	} else {
		_cleanup_free_ char *shown = images_familiar(j.pulled.name), *text = NULL;
		_cleanup_json_ json_t *config = NULL;
		if (asprintf(&text, "Digest: %s", j.pulled.digest) >= 0)
			job_say(&j, stream_line(json_pack("{s:s}", "status", text)));
		free(text);
		text = NULL;
		if (asprintf(&text, "Status: %s for %s",
			     j.pulled.newer ? "Downloaded newer image" : "Image is up to date",
			     shown ? shown : j.pulled.name) >= 0)
			job_say(&j, stream_line(json_pack("{s:s}", "status", text)));
		if (berth_image_config(d->images.store, j.pulled.id, &config, NULL) < 0)
			config = NULL;
		images_event(d, "pull", shown ? shown : j.pulled.name,
			     shown ? shown : j.pulled.name, images_labels(config));
		daemon_images_update_count(d);
	}
	job_flush_rest(&j, req, &began);
	job_release(&j);
}

static int run_push(struct io_job *j, struct berth_error **err)
{
	struct berth_registry_progress_cb cb = {registry_progress, j};
	struct berth_registry *reg = NULL;
	int r = daemon_registry_client(j->d, &reg, err);

	for (size_t i = 0; r == 0 && j->names[i]; i++) {
		struct berth_registry_push_result res = {0};
		_cleanup_free_ char *text = NULL, *fam = images_familiar(j->names[i]);
		_cleanup_json_ json_t *config = NULL;
		r = berth_registry_push(reg, j->d->images.store, j->names[i], &j->auth, &cb, &res,
					err);
		if (r < 0)
			break;
		if (asprintf(&text, "%s: digest: %s size: %" PRIu64, res.tag, res.digest,
			     res.size) >= 0)
			job_say(j, stream_line(json_pack("{s:s}", "status", text)));
		job_say(j, stream_line(json_pack("{s:{},s:{s:s,s:s,s:I}}", "progressDetail", "aux",
						 "Tag", res.tag, "Digest", res.digest, "Size",
						 (json_int_t)res.size)));
		if (fam) {
			_cleanup_free_ char *id = NULL;
			if (berth_image_resolve(j->d->images.store, j->names[i], &id, NULL) == 0 &&
			    berth_image_config(j->d->images.store, id, &config, NULL) < 0)
				config = NULL;
			images_event(j->d, "push", fam, fam, images_labels(config));
		}
		berth_registry_push_result_release(&res);
	}
	berth_registry_free(reg);
	return r;
}

/* The full name:tag references of repository name (familiar "x" or full) in the store. */
static int tags_of(struct berthd *d, const char *name, char ***ret, struct berth_error **err)
{
	_cleanup_free_ char *want = images_familiar(name);
	struct berth_image_info **infos = NULL;
	size_t n = 0;
	int r;

	if (!want)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = berth_image_list(d->images.store, &infos, &n, err);
	for (size_t i = 0; r == 0 && i < n; i++)
		for (size_t t = 0; r == 0 && infos[i]->repo_tags[t]; t++) {
			const char *rt = infos[i]->repo_tags[t];
			const char *colon = strrchr(rt, ':');
			if (!colon || strchr(colon, '/') || strlen(want) != (size_t)(colon - rt) ||
			    strncmp(rt, want, (size_t)(colon - rt)) != 0)
				continue;
			_cleanup_free_ char *full = NULL;
			if (berth_reference_normalize(rt, &full, err) < 0 ||
			    berth_strv_push(ret, full) < 0)
				r = -ENOMEM;
		}
	berth_image_info_list_free(infos, n);
	if (r == 0 && *ret)
		qsort(*ret, berth_strv_length(*ret), sizeof(char *), images_cmp_str);
	return r;
}

void images_push(struct berth_http_request *req, void *userdata)
{
	images_op_scope(userdata);
	struct berthd *d = userdata;
	const char *name = berth_http_param(req, "name");
	const char *tag = berth_http_query(req, "tag");
	_cleanup_reference_ struct berth_reference *ref = NULL;
	_cleanup_error_ struct berth_error *e = NULL;
	_cleanup_free_ char *repo = NULL, *text = NULL, *fam = NULL;
	struct io_job j;
	pthread_t thread;
	bool began = false;
	int r;

	if (berth_reference_parse(name, &ref, &e) < 0) {
		images_respond_error(req, e);
		return;
	}
	if (tag && *tag) {
		if (!images_valid_tag(tag)) {
			berth_http_respond_error(req, 400, "invalid tag format");
			return;
		}
		free(ref->tag);
		ref->tag = strdup(tag);
	}
	job_init(&j, d, run_push);
	repo = berth_reference_name(ref);
	fam = berth_reference_familiar(ref);
	r = repo && fam ? 0 : berth_error_set(&e, ENOMEM, "out of memory");
	if (r == 0)
		r = daemon_registry_auth(req, &j.auth, &j.auth_json, &e);
	if (r < 0) {
		images_respond_error(req, e);
		job_release(&j);
		return;
	}
	/* dockerd says where it pushes first; every later failure goes in the stream */
	if (asprintf(&text, "The push refers to repository [%s]", repo) >= 0)
		job_say(&j, stream_line(json_pack("{s:s}", "status", text)));
	j.names = calloc(1, sizeof(char *));
	if (!j.names) {
		r = berth_error_set(&e, ENOMEM, "out of memory");
	} else if (ref->tag) {
		_cleanup_free_ char *full = berth_reference_string(ref);
		r = full ? berth_strv_push(&j.names, full) : -ENOMEM;
		if (r < 0)
			berth_error_set(&e, ENOMEM, "out of memory");
	} else {
		r = tags_of(d, repo, &j.names, &e);
		if (r == 0 && !j.names[0])
			r = berth_error_set(&e, ENOENT,
					    "An image does not exist locally with the tag: %s",
					    fam);
	}
	if (r == 0)
		r = job_start(&j, &thread, &e);
	if (r < 0) {
		job_say(&j, error_line(e ? e->msg : "push failed"));
		job_flush_rest(&j, req, &began);
		job_release(&j);
		return;
	}
	job_wait(&j, thread, req, &began, "application/json");
	if (j.r < 0)
		job_say(&j, error_line(j.err ? j.err->msg : "push failed"));
	job_flush_rest(&j, req, &began);
	job_release(&j);
}

void daemon_images_create(struct berth_http_request *req, void *userdata)
{
	images_op_scope(userdata);
	struct berthd *d = userdata;
	const char *from_image = berth_http_query(req, "fromImage");
	const char *src = berth_http_query(req, "fromSrc");
	const char *message = berth_http_query(req, "message");
	const char *platform = berth_http_query(req, "platform");
	const char *const *changes = berth_http_query_all(req, "changes");
	_cleanup_error_ struct berth_error *e = NULL, *body_err = NULL;
	_cleanup_free_ char *comment = NULL, *arch = NULL, *variant = NULL, *fam = NULL;
	_cleanup_json_ json_t *config = NULL;
	struct io_job j;
	pthread_t thread;
	bool began = false;
	int sv[2], r;

	if (from_image && *from_image) {
		pull(req, d, from_image);
		return;
	}
	job_init(&j, d, run_import);
	if (!src)
		src = "";
	r = images_repo_tag(berth_http_query(req, "repo"), berth_http_query(req, "tag"), &j.ref,
			    &e);
	if (r == 0 && berth_http_api_version(req) >= BERTH_API_VERSION(1, 32) && platform &&
	    *platform)
		r = parse_platform(platform, &arch, &variant, &e);
	if (r == 0 && !arch && !(arch = strdup(host_arch())))
		r = berth_error_set(&e, ENOMEM, "out of memory");
	if (r == 0)
		r = daemon_image_changes((char *const *)changes,
					 changes ? berth_strv_length((char *const *)changes) : 0,
					 &config, &e);
	if (r == 0 && strcmp(src, "-") != 0) {
		job_release(&j);
		berth_http_respond_error(req, 501,
					 "import from '%s': not supported yet: berthd does not "
					 "download archives (send the archive as the request body "
					 "with fromSrc=-)",
					 src);
		return;
	}
	if (r == 0 && asprintf(&comment, "Imported from %s", src) < 0)
		r = berth_error_set(&e, ENOMEM, "out of memory");
	if (r == 0) {
		j.config = import_config(arch, variant, message && *message ? message : comment,
					 config);
		if (!j.config)
			r = berth_error_set(&e, ENOMEM, "out of memory");
	}
	if (r == 0)
		r = body_pair(sv, &e);
	if (r == 0) {
		j.fd = sv[1];
		r = job_start(&j, &thread, &e);
		if (r < 0) {
			close(sv[0]);
			j.fd = -EBADF;
			close(sv[1]);
		}
	}
	if (r < 0) {
		images_respond_error(req, e);
		job_release(&j);
		return;
	}
	pump_body(req, &sv[0], &body_err);
	job_wait(&j, thread, req, &began, "application/json");
	if (sv[0] >= 0)
		close(sv[0]);
	if (j.r < 0) {
		/* nothing was written: the error is the answer */
		if (body_err)
			berth_error_wrap(&body_err, "import: reading the request body");
		images_respond_error(req, body_err ? body_err : j.err);
		job_release(&j);
		return;
	}
	/* dockerd: the tag (when a repository was given), then the import, then the answer */
	if (j.ref && (fam = images_familiar(j.ref)))
		images_event(d, "tag", j.id, fam, images_labels(j.config));
	images_event(d, "import", j.id, j.id, images_labels(j.config));
	daemon_images_update_count(d);
	_cleanup_free_ char *line = stream_line(json_pack("{s:s}", "status", j.id));
	if (berth_http_stream_begin(req, 200, "application/json") == 0 && line)
		berth_http_stream_write(req, line, strlen(line));
	job_release(&j);
}
