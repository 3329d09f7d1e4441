/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Talking to berthd: where (-H, --context, BERTH_HOST, DOCKER_HOST, DOCKER_CONTEXT, the config's
 * current context, the default socket), which API version, and docker's error wording.  One
 * keep-alive connection per run, made on the first request.
 *
 * The version: DOCKER_API_VERSION, else what docker's negotiation gives, /_ping's API-Version
 * capped at berth's newest.  A daemon that knows berth's newest version negotiates it, and one
 * that does not refuses it (400 "client version X is too new"), so the first request goes out at
 * berth's newest version without the ping: only a refusal costs the ping and the request again.
 * The answer is the same as after a ping, one round-trip sooner.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sha256.h"
#include "arena.h"
#include "json-load.h"
#include "base/banned.h"

#define DEFAULT_HOST "unix:///run/berth/berth.sock"
#define MAX_BODY     (256u << 20)

int cli_errorf(struct cli *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		cli_oom();
	va_end(ap);
	free(c->err);
	c->err = s;
	return -1;
}

int cli_fail(struct cli *c, int code)
{
	if (c->err)
		err_printf("%s\n", c->err);
	return code;
}

static bool debug_on(const struct cli *c)
{
	return c->debug || (c->log_level && strcasecmp(c->log_level, "debug") == 0);
}

static void debugf(const struct cli *c, const char *fmt, ...) BERTH_PRINTF(2, 3);
static void debugf(const struct cli *c, const char *fmt, ...)
{
	va_list ap;

	if (!debug_on(c))
		return;
	fflush(stdout);
	fputs("DEBU ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- where --------------------------------------------------------------------------------------- */

static char *config_dir(const struct cli *c)
{
	const char *env = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

	if (c->config_opt && *c->config_opt)
		return xstrdup(c->config_opt);
	if (env && *env)
		return xstrdup(env);
	return xasprintf("%s/.docker", home && *home ? home : "/root");
}

const char *cli_config_dir(struct cli *c)
{
	if (!c->config_dir)
		c->config_dir = config_dir(c);
	return c->config_dir;
}

const char *cli_default_host(void)
{
	return DEFAULT_HOST;
}

/*
 * The docker endpoint of context name, from <config>/contexts/meta/<sha256 hex of name>/meta.json
 * (docker's store), with docker's messages.
 */
static int context_host(struct cli *c, const char *name, char **ret)
{
	char id[SHA256_HEX_LEN + 1];
	_cleanup_json_ json_t *meta = NULL;

	sha256_hex(name, strlen(name), id);
	_cleanup_free_ char *path = xasprintf("%s/contexts/meta/%s/meta.json", c->config_dir, id);
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return cli_errorf(c,
				  "context \"%s\": context not found: open %s: no such file or "
				  "directory",
				  name, path);
	_cleanup_error_ struct berth_error *e = NULL;
	if (berth_json_load_file(path, 1 << 20, &meta, &e) < 0)
		return cli_errorf(c, "context \"%s\": failed to read metadata: parsing %s: %s",
				  name, path, e && e->msg ? e->msg : "unreadable");
	json_t *ep = json_object_get(json_object_get(meta, "Endpoints"), "docker");
	if (!json_is_object(ep))
		return cli_errorf(c, "cannot find docker endpoint in context");
	/* a docker endpoint without a host is the default socket (docker's ParseHost of "") */
	const char *host = json_string_value(json_object_get(ep, "Host"));
	*ret = xstrdup(host && *host ? host : "unix://");
	return 0;
}

static char *current_context(const struct cli *c)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", c->config_dir);
	_cleanup_json_ json_t *cfg = NULL;
	const char *s;

	if (access(path, F_OK) < 0 || berth_json_load_file(path, 1 << 20, &cfg, NULL) < 0)
		return NULL;
	s = json_string_value(json_object_get(cfg, "currentContext"));
	return s && *s ? xstrdup(s) : NULL;
}

static int resolve(struct cli *c)
{
	const char *env;
	_cleanup_free_ char *ctx = NULL;

	if (c->resolved)
		return 0;
	cli_config_dir(c);
	if (c->n_hosts > 1)
		return cli_errorf(c, "Failed to initialize: unable to resolve docker endpoint: "
				     "Specify only one -H");
	const char *env_host = getenv("BERTH_HOST");
	if (!env_host || !*env_host)
		env_host = getenv("DOCKER_HOST");
	if (c->n_hosts == 1)
		c->host = xstrdup(c->hosts[0]);
	else if (c->context_opt && *c->context_opt)
		ctx = xstrdup(c->context_opt);
	else if (env_host && *env_host)
		ctx = NULL; /* the default context, at that host */
	else if ((env = getenv("DOCKER_CONTEXT")) && *env)
		ctx = xstrdup(env);
	else
		ctx = current_context(c);
	/* the default context's endpoint: BERTH_HOST, DOCKER_HOST, or berthd's socket */
	if (!c->host && (!ctx || strcmp(ctx, "default") == 0) && env_host && *env_host)
		c->host = xstrdup(env_host);
	if (ctx && strcmp(ctx, "default") != 0) {
		if (context_host(c, ctx, &c->host) < 0) {
			char *e = c->err;
			c->err = NULL;
			cli_errorf(c, "Failed to initialize: unable to resolve docker endpoint: %s",
				   e);
			free(e);
			return -1;
		}
		c->context_name = TAKE_PTR(ctx);
	} else {
		c->context_name = xstrdup("default");
	}
	if (!c->host || strcmp(c->host, "unix://") == 0) {
		/* docker's ParseHost: "unix://" alone is the default socket */
		free(c->host);
		c->host = xstrdup(DEFAULT_HOST);
	}
	if (!berth_str_has_prefix(c->host, "unix://") || !c->host[7])
		return cli_errorf(c,
				  "berth talks to berthd over unix sockets only: '%s' is not a "
				  "unix:// address",
				  c->host);
	c->resolved = true;
	return 0;
}

/* ---- connection and version ------------------------------------------------------------------ */

static void drop_connection(struct cli *c)
{
	berth_http_client_free(c->http);
	c->http = NULL;
}

static int connect_daemon(struct cli *c)
{
	struct berth_error *e = NULL;

	/* the daemon answered "Connection: close": the next request needs a new connection */
	if (c->http && !berth_http_client_reusable(c->http)) {
		debugf(c, "the daemon closed the connection: reconnecting");
		drop_connection(c);
	}
	if (c->http)
		return 0;
	if (resolve(c) < 0)
		return -1;
	debugf(c, "connecting to %s", c->host);
	if (berth_http_client_connect(c->host, &c->http, &e) < 0) {
		int code = e ? e->code : EIO;
		berth_error_free(e);
		if (code == EACCES || code == EPERM)
			return cli_errorf(c,
					  "permission denied while trying to connect to the Docker "
					  "daemon socket at %s: connect: %s",
					  c->host, strerror(code));
		return cli_errorf(c,
				  "Cannot connect to the Docker daemon at %s. Is the docker daemon "
				  "(berthd) running?",
				  c->host);
	}
	return 0;
}

static int connection_lost(struct cli *c, struct berth_error *e)
{
	int r = cli_errorf(c, "error during connect to %s: %s", c->host,
			   e && e->msg ? e->msg : "connection lost");

	berth_error_free(e);
	drop_connection(c);
	return r;
}

const char *cli_api_version(struct cli *c)
{
	struct berth_error *e = NULL;
	const char *env = getenv("DOCKER_API_VERSION");

	if (c->version_known)
		return c->api_version;
	if (env && *env) {
		snprintf(c->api_version, sizeof(c->api_version), "%s", env);
		c->version_known = c->version_from_env = true;
		return c->api_version;
	}
	if (connect_daemon(c) < 0)
		return NULL;
	if (berth_http_client_request(c->http, "GET", "/_ping", NULL, NULL, 0, &e) < 0) {
		connection_lost(c, e);
		return NULL;
	}
	const char *v = berth_http_client_header(c->http, "API-Version");
	/* a daemon without the header predates negotiation: 1.24 */
	if (!v || !*v)
		v = "1.24";
	if (berth_api_version_compare(v, BERTH_API_VERSION_MAX_STRING) > 0)
		v = BERTH_API_VERSION_MAX_STRING;
	snprintf(c->api_version, sizeof(c->api_version), "%s", v);
	/* the ping's body is read off by the next request */
	c->version_known = true;
	debugf(c, "API version %s", c->api_version);
	return c->api_version;
}

/* ---- requests ---------------------------------------------------------------------------------- */

void cli_response_release(struct cli_response *r)
{
	cli_arena_free(r->body);
	r->body = NULL;
	if (r->json)
		json_decref(r->json);
	r->json = NULL;
}

/* The version of the next request: the negotiated one, else berth's newest as a guess. */
static const char *request_version(struct cli *c)
{
	const char *env = getenv("DOCKER_API_VERSION");

	if (c->version_known || (env && *env))
		return cli_api_version(c);
	snprintf(c->api_version, sizeof(c->api_version), "%s", BERTH_API_VERSION_MAX_STRING);
	return c->api_version;
}

/*
 * A 400 to a guessed version: is it the daemon's refusal of the version?  The body is read; when
 * it is another error it is kept for daemon_error().  Returns 1 (refused), 0, or -1 (connection).
 */
static int version_refused(struct cli *c)
{
	struct berth_error *e = NULL;
	char *body = NULL;
	size_t len = 0;

	if (berth_http_client_read_all(c->http, 1 << 20, &body, &len, &e) < 0)
		return connection_lost(c, e);
	/* dockerd since 1.13 (and berthd): "client version 1.47 is too new. Maximum supported API
	 * version is 1.41"; before: "client is newer than server (client API version: ...)" */
	if (body && (strstr(body, "is too new. Maximum supported API version") ||
		     strstr(body, "client is newer than server"))) {
		free(body);
		return 1;
	}
	free(c->refused_body);
	c->refused_body = body;
	c->refused_len = len;
	return 0;
}

/*
 * docker's client library refuses an empty container, network or volume name before it
 * connects ("invalid container name or ID: value is empty"); so does berth, by the request's
 * path: /containers/<id>..., /networks/<id>..., /volumes/<id>... with an id that is empty or
 * only (escaped) blanks once trimmed, as Go's strings.TrimSpace trims it.
 */
static int empty_object_id(struct cli *c, const char *target)
{
	static const char *const kinds[][2] = {
		{"/containers/", "container"}, {"/networks/", "network"}, {"/volumes/", "volume"}};

	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
		if (!berth_str_has_prefix(target, kinds[k][0]))
			continue;
		const char *p = target + strlen(kinds[k][0]);
		while (*p && *p != '/' && *p != '?') {
			if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\v' ||
			    *p == '\f')
				p++;
			else if (p[0] == '%' && p[1] == '2' && p[2] == '0')
				p += 3;
			else if (p[0] == '%' && p[1] == '0' && strchr("9aAbBcCdD", p[2]) && p[2])
				p += 3;
			else
				return 0;
		}
		return cli_errorf(c, "invalid %s name or ID: value is empty", kinds[k][1]);
	}
	return 0;
}

static int send_request_h(struct cli *c, const char *method, const char *target, const json_t *body,
			  bool upgrade, const char *extra)
{
	struct berth_error *e = NULL;
	_cleanup_free_ char *data = NULL;
	const char *headers[6] = {"User-Agent: berth/" BERTH_VERSION, NULL, NULL, NULL, NULL, NULL};
	size_t nh = 1;

	if (empty_object_id(c, target) < 0)
		return -1;
	c->err_status = 0;
	free(c->refused_body);
	c->refused_body = NULL;
	if (body) {
		data = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!data)
			cli_oom();
		headers[nh++] = "Content-Type: application/json";
	}
	if (upgrade) {
		headers[nh++] = "Connection: Upgrade";
		headers[nh++] = "Upgrade: tcp";
	}
	if (extra)
		headers[nh++] = extra;
	for (;;) {
		const char *version = request_version(c);
		if (!version || connect_daemon(c) < 0)
			return -1;
		_cleanup_free_ char *url = xasprintf("/v%s%s", version, target);
		debugf(c, "%s %s", method, url);
		if (berth_http_client_request(c->http, method, url, headers, data,
					      data ? strlen(data) : 0, &e) < 0)
			return connection_lost(c, e);
		int status = berth_http_client_status(c->http);
		debugf(c, "%s %s: %d", method, url, status);
		if (c->version_known)
			return 0;
		int refused = status == 400 ? version_refused(c) : 0;
		if (refused < 0)
			return -1;
		if (!refused) {
			/* the daemon took berth's newest version: negotiation would have given it */
			c->version_known = true;
			return 0;
		}
		debugf(c, "API version %s refused: negotiating", version);
		if (!cli_api_version(c))
			return -1;
	}
}

static int send_request(struct cli *c, const char *method, const char *target, const json_t *body)
{
	return send_request_h(c, method, target, body, false, NULL);
}

/* docker's checkResponseErr: 2xx and 3xx are answers (304: start of a running container, stop of
 * a stopped one), the rest errors */
static bool answer_ok(int status)
{
	return status >= 200 && status < 400;
}

/* A failed answer: docker's "Error response from daemon: <message>". */
static int daemon_error(struct cli *c, const char *target)
{
	_cleanup_free_ char *body = NULL;
	size_t len = 0;
	int status = berth_http_client_status(c->http);
	struct berth_error *e = NULL;

	c->err_status = status;
	if (c->refused_body) {
		/* already read: a guessed version's 400 that was not about the version */
		body = TAKE_PTR(c->refused_body);
		len = c->refused_len;
	} else if (berth_http_client_read_all(c->http, 1 << 20, &body, &len, &e) < 0) {
		berth_error_free(e);
		drop_connection(c);
	}
	if (body && len) {
		_cleanup_json_ json_t *j = json_loadb(body, len, 0, NULL);
		const char *msg = json_string_value(json_object_get(j, "message"));
		if (msg)
			return cli_errorf(c, "Error response from daemon: %s", msg);
		while (len &&
		       (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
			body[--len] = '\0';
		return cli_errorf(c, "Error response from daemon: %s", body);
	}
	return cli_errorf(c,
			  "Error response from daemon: request returned %s for API route and "
			  "version /v%s%s, check if the server supports the requested API version",
			  berth_http_status_text(status), c->api_version, target);
}

/* The whole body: one of known length goes to the arena (next to the values parsed from it, in
 * pages the command touches anyway), others to malloc'd memory as it comes. */
static int read_body(struct cli *c, struct cli_response *resp, struct berth_error **err)
{
	const char *cl = berth_http_client_header(c->http, "Content-Length");
	char *end;
	unsigned long long want = cl ? strtoull(cl, &end, 10) : 0;

	if (!cl || *end || !*cl || want == 0 || want > MAX_BODY)
		return berth_http_client_read_all(c->http, MAX_BODY, &resp->body, &resp->len, err);
	/* one byte more than announced, to see a body that runs past its length */
	char *b = cli_arena_take((size_t)want + 2);
	size_t len = 0;

	if (!b)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (;;) {
		ssize_t n = berth_http_client_read(c->http, b + len, (size_t)want + 1 - len, err);

		if (n < 0) {
			cli_arena_free(b);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > want) {
			cli_arena_free(b);
			return berth_error_set(err, EPROTO,
					       "response body longer than its length %llu", want);
		}
	}
	b[len] = '\0';
	resp->body = b;
	resp->len = len;
	return 0;
}

int cli_call(struct cli *c, const char *method, const char *target, const json_t *body,
	     struct cli_response *resp)
{
	struct berth_error *e = NULL;
	int status;

	memset(resp, 0, sizeof(*resp));
	if (send_request(c, method, target, body) < 0)
		return -1;
	status = berth_http_client_status(c->http);
	if (!answer_ok(status))
		return daemon_error(c, target);
	resp->status = status;
	if (read_body(c, resp, &e) < 0)
		return connection_lost(c, e);
	const char *ct = berth_http_client_header(c->http, "Content-Type");
	if (resp->len && ct && berth_str_has_prefix(ct, "application/json")) {
		/* jansson's loader only for what the fast one does not take (it says why) */
		cli_arena_open();
		resp->json = cli_json_load(resp->body, resp->len);
		if (!resp->json)
			resp->json = json_loadb(resp->body, resp->len, JSON_DECODE_ANY, NULL);
		cli_arena_close();
	}
	return 0;
}

int cli_call_stream(struct cli *c, const char *method, const char *target, const json_t *body)
{
	return cli_call_stream_h(c, method, target, body, NULL);
}

int cli_call_stream_h(struct cli *c, const char *method, const char *target, const json_t *body,
		      const char *header)
{
	int status;

	if (send_request_h(c, method, target, body, false, header) < 0)
		return -1;
	status = berth_http_client_status(c->http);
	if (!answer_ok(status))
		return daemon_error(c, target);
	return 0;
}

ssize_t cli_stream_read(struct cli *c, void *buf, size_t len)
{
	struct berth_error *e = NULL;
	ssize_t n = berth_http_client_read(c->http, buf, len, &e);

	if (n < 0)
		return connection_lost(c, e);
	return n;
}

void go_errno(struct sbuf *b, int e)
{
	const char *s = strerror(e);

	sbuf_addc(b, (char)(s[0] >= 'A' && s[0] <= 'Z' ? s[0] + 32 : s[0]));
	sbuf_adds(b, s + 1);
}

/* docker's name for the daemon in transport errors: "http://%2Frun%2Fberth%2Fberth.sock" */
static void daemon_url(struct cli *c, struct sbuf *out)
{
	const char *path = c->host && berth_str_has_prefix(c->host, "unix://") ? c->host + 7 : "";

	sbuf_adds(out, "http://");
	url_escape(out, path);
}

int cli_call_upload(struct cli *c, const char *method, const char *target, const char *content_type,
		    int fd, const char *name)
{
	struct berth_error *e = NULL;
	_cleanup_free_ char *url = NULL, *ct = NULL;
	const char *headers[3] = {"User-Agent: berth/" BERTH_VERSION, NULL, NULL};
	if (empty_object_id(c, target) < 0)
		return -1;
	/* a body read from fd cannot be sent twice: the version is negotiated first */
	const char *version = cli_api_version(c);
	static char buf[1 << 17];
	int status, read_errno = 0;

	c->err_status = 0;
	free(c->refused_body);
	c->refused_body = NULL;
	if (!version || connect_daemon(c) < 0)
		return -1;
	url = xasprintf("/v%s%s", version, target);
	if (content_type) {
		ct = xasprintf("Content-Type: %s", content_type);
		headers[1] = ct;
	}
	debugf(c, "%s %s (body from fd %d)", method, url, fd);
	if (berth_http_client_begin(c->http, method, url, headers, BERTH_HTTP_CHUNKED, &e) < 0)
		return connection_lost(c, e);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			read_errno = errno;
			break;
		}
		if (n == 0)
			break;
		if (berth_http_client_write(c->http, buf, (size_t)n, &e) < 0) {
			/* the daemon may have answered and closed: its answer is the news */
			berth_error_free(e);
			e = NULL;
			break;
		}
	}
	if (read_errno) {
		/* Go's transport gives up the request; the connection cannot carry another */
		_cleanup_sbuf_ struct sbuf u = SBUF_INIT, why = SBUF_INIT, m = SBUF_INIT;
		drop_connection(c);
		daemon_url(c, &u);
		go_errno(&why, read_errno);
		/* Go's url.Error names the method "Post" */
		for (const char *p = method; *p; p++)
			sbuf_addc(&m, (char)(p == method || *p < 'A' || *p > 'Z' ? *p : *p + 32));
		return cli_errorf(c, "error during connect: %s \"%s/v%s%s\": read %s: %s",
				  sbuf_str(&m), sbuf_str(&u), version, target, name,
				  sbuf_str(&why));
	}
	if (berth_http_client_finish(c->http, &e) < 0)
		return connection_lost(c, e);
	debugf(c, "%s %s: %d", method, url, berth_http_client_status(c->http));
	status = berth_http_client_status(c->http);
	if (!answer_ok(status))
		return daemon_error(c, target);
	return 0;
}

int cli_call_on(struct cli *c, struct berth_http_client **h, const char *method, const char *target,
		const json_t *body, bool upgrade)
{
	struct berth_http_client *saved;
	int r = 0, status;

	if (empty_object_id(c, target) < 0 || resolve(c) < 0)
		return -1;
	if (!*h) {
		struct berth_error *e = NULL;
		if (berth_http_client_connect(c->host, h, &e) < 0) {
			berth_error_free(e);
			return cli_errorf(
				c,
				"Cannot connect to the Docker daemon at %s. Is the docker "
				"daemon (berthd) running?",
				c->host);
		}
	}
	saved = c->http;
	c->http = *h;
	if (send_request_h(c, method, target, body, upgrade, NULL) < 0) {
		r = -1;
	} else {
		status = berth_http_client_status(c->http);
		if (status != 101 && !answer_ok(status))
			r = daemon_error(c, target);
	}
	*h = c->http;
	c->http = saved;
	return r;
}

const char *cli_response_header(struct cli *c, const char *name)
{
	return c->http ? berth_http_client_header(c->http, name) : NULL;
}

json_t *cli_config_file(struct cli *c)
{
	if (!c->config_read) {
		_cleanup_free_ char *dir = c->config_dir ? NULL : config_dir(c);
		_cleanup_free_ char *path =
			xasprintf("%s/config.json", c->config_dir ? c->config_dir : dir);
		c->config_read = true;
		if (access(path, F_OK) == 0 &&
		    berth_json_load_file(path, 1 << 20, &c->config, NULL) < 0)
			c->config = NULL;
		if (c->config && !json_is_object(c->config)) {
			json_decref(c->config);
			c->config = NULL;
		}
	}
	return c->config;
}

/* ---- query helpers ------------------------------------------------------------------------------ */

void url_escape(struct sbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			sbuf_addc(out, (char)ch);
		} else {
			sbuf_addc(out, '%');
			sbuf_addc(out, hex[ch >> 4]);
			sbuf_addc(out, hex[ch & 15]);
		}
	}
}

void url_path_escape(struct sbuf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	/* Go's shouldEscape(c, encodePath) */
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-_.~$&+,/:;=@", ch)) {
			sbuf_addc(out, (char)ch);
		} else {
			sbuf_addc(out, '%');
			sbuf_addc(out, hex[ch >> 4]);
			sbuf_addc(out, hex[ch & 15]);
		}
	}
}

static void trim_into(struct sbuf *b, const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t')) {
		s++;
		n--;
	}
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	sbuf_add(b, s, n);
}

static void filter_add(json_t *j, const char *key, const char *val)
{
	json_t *m = json_object_get(j, key);

	if (!m) {
		m = json_object();
		json_object_set_new(j, key, m);
	}
	json_object_set_new(m, val, json_true());
}

char *filters_json(const struct flag_value *filters)
{
	return filters_json_with(filters, NULL);
}

char *filters_json_with(const struct flag_value *filters, const char *const *extra)
{
	_cleanup_json_ json_t *j = json_object();
	char *s;

	for (size_t i = 0; extra && extra[i]; i += 2)
		filter_add(j, extra[i], extra[i + 1]);
	for (size_t i = 0; filters && i < filters->n; i++) {
		const char *v = filters->v[i], *eq = strchr(v, '=');
		if (!eq)
			continue;
		_cleanup_sbuf_ struct sbuf key = SBUF_INIT, val = SBUF_INIT;
		trim_into(&key, v, (size_t)(eq - v));
		for (size_t k = 0; k < key.len; k++)
			key.p[k] = (char)(key.p[k] >= 'A' && key.p[k] <= 'Z' ? key.p[k] + 32
									     : key.p[k]);
		trim_into(&val, eq + 1, strlen(eq + 1));
		filter_add(j, sbuf_str(&key), sbuf_str(&val));
	}
	if (json_object_size(j) == 0)
		return NULL;
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		cli_oom();
	return s;
}
