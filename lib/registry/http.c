/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP with libcurl: one easy handle per request (the blob threads each have their own), bodies
 * into a sink or a capped buffer, the headers a registry answers with, redirects followed up to
 * REG_MAX_REDIRECTS over http/https only, and the session: the ping that picks the scheme and
 * learns the challenge, bearer tokens from the token endpoint (cached in the client by realm,
 * service, scopes and user until they expire), basic credentials.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "registry-internal.h"

#include "base/banned.h"

void reg_response_release(struct reg_response *r)
{
	free(r->content_type);
	free(r->location);
	free(r->docker_digest);
	free(r->www_authenticate);
	free(r->range);
	free(r->body);
	free(r->url);
	memset(r, 0, sizeof(*r));
}

void reg_short_id(const char *digest, char out[13])
{
	const char *colon = digest ? strchr(digest, ':') : NULL;

	snprintf(out, 13, "%.12s", colon ? colon + 1 : digest ? digest : "");
}

void reg_progress(const struct berth_registry_progress_cb *cb, const char *status, const char *id,
		  uint64_t current, uint64_t total)
{
	struct berth_registry_progress p = {status, id, current, total};

	if (cb && cb->fn)
		cb->fn(cb->userdata, &p);
}

/* ---- base64 ------------------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *reg_base64(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int reg_base64_decode(const char *s, char **ret, size_t *ret_len)
{
	size_t n = strlen(s);
	char *out = malloc(n / 4 * 3 + 4);
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	if (!out)
		return -ENOMEM;
	while (n && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);
		if (v < 0) {
			free(out);
			return -EINVAL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return 0;
}

/* ---- the error a registry sent ------------------------------------------------------------ */

char *reg_error_text(const struct reg_response *resp, char **ret_code)
{
	_cleanup_json_ json_t *j = NULL;
	char *out = NULL;

	if (ret_code)
		*ret_code = NULL;
	if (resp->body && resp->body_len &&
	    berth_json_parse(resp->body, resp->body_len, &j, NULL) == 0) {
		json_t *e = json_array_get(json_object_get(j, "errors"), 0);
		const char *code = json_string_value(json_object_get(e, "code"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		if (code) {
			_cleanup_free_ char *words = strdup(code);
			if (!words)
				return NULL;
			for (char *c = words; *c; c++)
				*c = *c == '_' ? ' ' : (char)tolower((unsigned char)*c);
			if (asprintf(&out, "%s: %s", words, msg ? msg : "") < 0)
				return NULL;
			if (ret_code)
				*ret_code = strdup(code);
			return out;
		}
	}
	if (resp->status == 401 && asprintf(&out, "unauthorized: authentication required") >= 0)
		return out;
	{
		char snippet[128] = "";
		if (resp->body && resp->body_len) {
			size_t k = 0;
			for (size_t i = 0; i < resp->body_len && k < sizeof(snippet) - 1; i++)
				snippet[k++] =
					isprint((unsigned char)resp->body[i]) ? resp->body[i] : ' ';
			snippet[k] = '\0';
		}
		if (asprintf(&out, "unexpected status %ld%s%s", resp->status, *snippet ? ": " : "",
			     snippet) < 0)
			return NULL;
	}
	return out;
}

/* ---- one request ------------------------------------------------------------------------- */

struct xfer {
	const struct reg_request *q;
	struct reg_response *resp;
	struct reg_session *s;
	uint64_t upload_off;
	int sink_r;
	bool too_big;
};

static char *header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);
	const char *v;
	size_t vl;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	v = line + n + 1;
	vl = len - n - 1;
	while (vl && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	return strndup(v, vl);
}

static void set_header(char **slot, char *value)
{
	if (!value)
		return;
	free(*slot);
	*slot = value;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	struct reg_response *r = x->resp;
	size_t len = size * nmemb;
	char *v;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after a redirect or a 100): forget the last one's headers */
		free(r->content_type);
		free(r->location);
		free(r->docker_digest);
		free(r->www_authenticate);
		free(r->range);
		r->content_type = r->location = r->docker_digest = r->www_authenticate = NULL;
		r->range = NULL;
		r->content_length = -1;
		return len;
	}
	set_header(&r->content_type, header_value(data, len, "Content-Type"));
	set_header(&r->location, header_value(data, len, "Location"));
	set_header(&r->docker_digest, header_value(data, len, "Docker-Content-Digest"));
	set_header(&r->range, header_value(data, len, "Range"));
	/* several challenges: keep the first (Bearer and Basic are never both sent by a registry) */
	if (!r->www_authenticate)
		r->www_authenticate = header_value(data, len, "WWW-Authenticate");
	v = header_value(data, len, "Content-Length");
	if (v) {
		uint64_t cl;
		if (berth_parse_uint64(v, &cl) == 0 && cl <= INT64_MAX)
			r->content_length = (int64_t)cl;
		free(v);
	}
	return len;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t len = size * nmemb;
	bool ok;

	if (atomic_load(&x->s->cancel))
		return 0;
	ok = x->resp->status >= 200 && x->resp->status < 300;
	if (ok && x->q->sink) {
		x->sink_r = x->q->sink(x->q->sink_userdata, data, len);
		return x->sink_r < 0 ? 0 : len;
	}
	{
		size_t cap = ok ? x->q->max_body : REG_MAX_ERROR_BODY;
		char *b;
		if (x->resp->body_len + len > cap) {
			if (!ok) /* an error body: keep its start, read no more */
				return 0;
			x->too_big = true;
			return 0;
		}
		b = realloc(x->resp->body, x->resp->body_len + len + 1);
		if (!b)
			return 0;
		memcpy(b + x->resp->body_len, data, len);
		x->resp->body = b;
		x->resp->body_len += len;
		b[x->resp->body_len] = '\0';
	}
	return len;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *userdata)
{
	struct xfer *x = userdata;
	const struct reg_request *q = x->q;
	size_t want = size * nitems;
	ssize_t n;

	if (atomic_load(&x->s->cancel))
		return CURL_READFUNC_ABORT;
	if (q->body) {
		size_t left = q->body_len - x->upload_off;
		if (want > left)
			want = left;
		memcpy(buf, (const char *)q->body + x->upload_off, want);
		x->upload_off += want;
		return want;
	}
	if (x->upload_off >= q->body_fd_size)
		return 0;
	if (want > q->body_fd_size - x->upload_off)
		want = q->body_fd_size - x->upload_off;
	do
		n = pread(q->body_fd, buf, want, (off_t)(q->body_fd_offset + x->upload_off));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return CURL_READFUNC_ABORT;
	x->upload_off += (uint64_t)n;
	if (q->upload_progress)
		q->upload_progress(q->upload_userdata, x->upload_off);
	return (size_t)n;
}

static int on_seek(void *userdata, curl_off_t offset, int origin)
{
	struct xfer *x = userdata;

	if (origin != SEEK_SET || offset < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	x->upload_off = (uint64_t)offset;
	return CURL_SEEKFUNC_OK;
}

static int on_xferinfo(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = userdata;

	return atomic_load(&x->s->cancel) ? 1 : 0;
}

/* The header callback sees the status only as a line; take it from curl when the body starts. */
struct easy_ctx {
	CURL *h;
	struct xfer x;
};

static size_t on_body_first(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct easy_ctx *c = userdata;
	long status = 0;

	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	c->x.resp->status = status;
	return on_body(data, size, nmemb, &c->x);
}

static char *full_url(struct reg_session *s, const char *url)
{
	char *out;

	if (strstr(url, "://"))
		return strdup(url);
	if (asprintf(&out, "%s%s", s->base, url) < 0)
		return NULL;
	return out;
}

int reg_perform(struct reg_session *s, const struct reg_request *q, struct reg_response *resp,
		struct berth_error **err)
{
	_cleanup_free_ char *url = full_url(s, q->url), *authz = NULL;
	struct curl_slist *hdrs = NULL, *tmp;
	struct easy_ctx c = {0};
	char errbuf[CURL_ERROR_SIZE] = "";
	const char *method = q->method;
	bool upload = q->body || q->body_fd >= 0;
	CURLcode cc;
	int r = 0;

	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
	if (!url)
		return berth_error_set(err, ENOMEM, "out of memory");
	c.h = curl_easy_init();
	if (!c.h)
		return berth_error_set(err, ENOMEM, "curl_easy_init failed");
	c.x.q = q;
	c.x.resp = resp;
	c.x.s = s;

	for (size_t i = 0; q->headers && q->headers[i]; i++) {
		tmp = curl_slist_append(hdrs, q->headers[i]);
		if (!tmp) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		hdrs = tmp;
	}
	if (q->basic_user) {
		_cleanup_free_ char *pair = NULL, *enc = NULL;
		if (asprintf(&pair, "%s:%s", q->basic_user,
			     q->basic_password ? q->basic_password : "") < 0 ||
		    !(enc = reg_base64(pair, strlen(pair))) ||
		    asprintf(&authz, "Authorization: Basic %s", enc) < 0) {
			authz = NULL;
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
	} else if (!q->no_auth) {
		pthread_mutex_lock(&s->lock);
		if (s->authz && asprintf(&authz, "Authorization: %s", s->authz) < 0)
			authz = NULL;
		pthread_mutex_unlock(&s->lock);
	}
	if (authz) {
		tmp = curl_slist_append(hdrs, authz);
		if (!tmp) {
			r = berth_error_set(err, ENOMEM, "out of memory");
			goto out;
		}
		hdrs = tmp;
	}
	if (upload) {
		bool has_ct = false;
		for (size_t i = 0; q->headers && q->headers[i]; i++)
			has_ct |= strncasecmp(q->headers[i], "Content-Type:", 13) == 0;
		if (!has_ct &&
		    (tmp = curl_slist_append(hdrs, "Content-Type: application/octet-stream")))
			hdrs = tmp;
	}
	/* curl's "Expect: 100-continue" costs a round trip per upload */
	if ((tmp = curl_slist_append(hdrs, "Expect:")))
		hdrs = tmp;

	curl_easy_setopt(c.h, CURLOPT_URL, url);
	curl_easy_setopt(c.h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c.h, CURLOPT_USERAGENT, REG_USER_AGENT);
	curl_easy_setopt(c.h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c.h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c.h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c.h, CURLOPT_FOLLOWLOCATION, q->follow ? 1L : 0L);
	curl_easy_setopt(c.h, CURLOPT_MAXREDIRS, (long)REG_MAX_REDIRECTS);
	curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a registry that stops sending: 30 s below 1 byte/s ends the transfer */
	curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c.h, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c.h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c.h, CURLOPT_HEADERDATA, &c.x);
	curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, on_body_first);
	curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(c.h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c.h, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
	curl_easy_setopt(c.h, CURLOPT_XFERINFODATA, &c.x);
	curl_easy_setopt(c.h, CURLOPT_ACCEPT_ENCODING, NULL);
	if (s->insecure) {
		curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (s->ca_pem) {
		struct curl_blob ca = {s->ca_pem, s->ca_pem_len, CURL_BLOB_NOCOPY};
		curl_easy_setopt(c.h, CURLOPT_CAINFO_BLOB, &ca);
	}
	if (s->client_cert) {
		curl_easy_setopt(c.h, CURLOPT_SSLCERT, s->client_cert);
		curl_easy_setopt(c.h, CURLOPT_SSLKEY, s->client_key);
	}
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c.h, CURLOPT_NOBODY, 1L);
	} else if (upload) {
		curl_off_t size = q->body ? (curl_off_t)q->body_len : (curl_off_t)q->body_fd_size;
		curl_easy_setopt(c.h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c.h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c.h, CURLOPT_READDATA, &c.x);
		curl_easy_setopt(c.h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c.h, CURLOPT_SEEKDATA, &c.x);
		curl_easy_setopt(c.h, CURLOPT_INFILESIZE_LARGE, size);
		curl_easy_setopt(c.h, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(c.h, CURLOPT_CUSTOMREQUEST, method);
		if (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
			curl_easy_setopt(c.h, CURLOPT_POSTFIELDS, "");
			curl_easy_setopt(c.h, CURLOPT_POSTFIELDSIZE, 0L);
		}
	}

	cc = curl_easy_perform(c.h);
	{
		long status = 0;
		char *eff = NULL;
		curl_easy_getinfo(c.h, CURLINFO_RESPONSE_CODE, &status);
		if (status)
			resp->status = status;
		curl_easy_getinfo(c.h, CURLINFO_EFFECTIVE_URL, &eff);
		resp->url = strdup(eff ? eff : url);
	}
	if (cc != CURLE_OK) {
		if (c.x.sink_r < 0) {
			r = c.x.sink_r; /* the sink said why in its own error */
		} else if (c.x.too_big) {
			r = berth_error_set(err, EFBIG, "%s \"%s\": answer larger than %zu bytes",
					    method, url, q->max_body);
		} else if (atomic_load(&s->cancel)) {
			r = berth_error_set(err, ECANCELED, "%s \"%s\": cancelled", method, url);
		} else if (cc == CURLE_WRITE_ERROR && resp->status >= 300) {
			r = 0; /* an error body past its cap: the status says enough */
		} else if (cc == CURLE_PEER_FAILED_VERIFICATION &&
			   (strstr(errbuf, "self-signed") || strstr(errbuf, "local issuer") ||
			    strstr(errbuf, "verify the first"))) {
			/* Go's words, as dockerd reports it */
			r = berth_error_set(err, EIO,
					    "%s \"%s\": tls: failed to verify certificate: x509: "
					    "certificate signed by unknown authority",
					    method, url);
		} else {
			r = berth_error_set(err, EIO, "%s \"%s\": %s", method, url,
					    *errbuf ? errbuf : curl_easy_strerror(cc));
		}
	}
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c.h);
	if (r < 0)
		reg_response_release(resp);
	return r;
}

/* ---- the challenge ---------------------------------------------------------------------- */

void berth_registry_challenge_release(struct berth_registry_challenge *c)
{
	free(c->scheme);
	for (size_t i = 0; i < c->n_params; i++) {
		free(c->params[i].key);
		free(c->params[i].value);
	}
	free(c->params);
	memset(c, 0, sizeof(*c));
}

const char *berth_registry_challenge_param(const struct berth_registry_challenge *c,
					   const char *name)
{
	for (size_t i = 0; i < c->n_params; i++)
		if (strcasecmp(c->params[i].key, name) == 0)
			return c->params[i].value;
	return NULL;
}

#define MAX_CHALLENGE 8192

int berth_registry_challenge_parse(const char *header, struct berth_registry_challenge *ret,
				   struct berth_error **err)
{
	struct berth_registry_challenge c = {0};
	const char *p = header;
	size_t n;

	if (!header || strlen(header) > MAX_CHALLENGE)
		return berth_error_set(err, EINVAL, "WWW-Authenticate: missing or too long");
	while (*p == ' ' || *p == '\t')
		p++;
	n = strcspn(p, " \t");
	if (n == 0 || n > 64)
		return berth_error_set(err, EINVAL, "WWW-Authenticate '%.64s': no scheme", header);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
			return berth_error_set(err, EINVAL, "WWW-Authenticate '%.64s': bad scheme",
					       header);
	c.scheme = strndup(p, n);
	if (!c.scheme)
		return berth_error_set(err, ENOMEM, "out of memory");
	p += n;
	for (;;) {
		_cleanup_free_ char *key = NULL, *value = NULL;
		struct berth_key_value *v;
		size_t k, o = 0;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		k = strcspn(p, "= \t,");
		if (k == 0 || p[k] != '=') {
			berth_registry_challenge_release(&c);
			return berth_error_set(err, EINVAL,
					       "WWW-Authenticate '%.64s': expected name=value",
					       header);
		}
		key = strndup(p, k);
		p += k + 1;
		value = malloc(strlen(p) + 1);
		if (!key || !value) {
			berth_registry_challenge_release(&c);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				value[o++] = *p++;
			}
			if (*p != '"') {
				berth_registry_challenge_release(&c);
				return berth_error_set(err, EINVAL,
						       "WWW-Authenticate '%.64s': unterminated "
						       "quoted string",
						       header);
			}
			p++;
		} else {
			while (*p && *p != ',' && *p != ' ' && *p != '\t')
				value[o++] = *p++;
		}
		value[o] = '\0';
		if (c.n_params >= 32) {
			berth_registry_challenge_release(&c);
			return berth_error_set(err, EINVAL,
					       "WWW-Authenticate '%.64s': too many parameters",
					       header);
		}
		v = realloc(c.params, (c.n_params + 1) * sizeof(*v));
		if (!v) {
			berth_registry_challenge_release(&c);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		c.params = v;
		c.params[c.n_params].key = TAKE_PTR(key);
		c.params[c.n_params].value = TAKE_PTR(value);
		c.n_params++;
	}
	*ret = c;
	return 0;
}

/* ---- tokens ------------------------------------------------------------------------------ */

static char *url_escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *out;

	if (!e)
		return NULL;
	out = strdup(e);
	curl_free(e);
	return out;
}

static bool has_credentials(const struct berth_registry_auth *a)
{
	return a && ((a->username && *a->username) || (a->identity_token && *a->identity_token));
}

/*
 * GET realm?service=&scope=... (with basic credentials when given; an identity token goes as
 * POST grant_type=refresh_token, as the OAuth form of the spec asks), answer {"token"} or
 * {"access_token"}, "expires_in" (60 s when absent).
 */
static int fetch_token(struct reg_session *s, bool login, char **ret_token,
		       struct berth_error **err)
{
	const char *realm = berth_registry_challenge_param(&s->challenge, "realm");
	const char *service = berth_registry_challenge_param(&s->challenge, "service");
	const struct berth_registry_auth *a = s->auth;
	_cleanup_free_ char *url = NULL, *key = NULL, *form = NULL;
	_cleanup_json_ json_t *j = NULL;
	struct reg_response resp = {0};
	struct reg_request q = {.method = "GET",
				.body_fd = -1,
				.max_body = 1 << 20,
				.no_auth = true,
				.follow = true};
	const char *tok;
	int64_t expires;
	int r;

	if (!realm || !berth_str_has_prefix(realm, "http"))
		return berth_error_set(err, EINVAL, "%s: bearer challenge without an http(s) realm",
				       s->host);
	if (!(url = strdup(realm)))
		return berth_error_set(err, ENOMEM, "out of memory");
	{
		char sep = strchr(url, '?') ? '&' : '?';
		char *more;
		if (service) {
			_cleanup_free_ char *e = url_escape(service);
			if (!e || asprintf(&more, "%s%cservice=%s", url, sep, e) < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
			free(url);
			url = more;
			sep = '&';
		}
		for (size_t i = 0; !login && s->scopes && s->scopes[i]; i++) {
			_cleanup_free_ char *e = url_escape(s->scopes[i]);
			if (!e || asprintf(&more, "%s%cscope=%s", url, sep, e) < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
			free(url);
			url = more;
			sep = '&';
		}
		if (login) {
			if (asprintf(&more, "%s%caccount=%s&client_id=docker&offline_token=true",
				     url, sep, a && a->username ? a->username : "") < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
			free(url);
			url = more;
		}
	}
	if (asprintf(&key, "%s|%s", url, a && a->username ? a->username : "") < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (!login) {
		pthread_mutex_lock(&s->r->lock);
		json_t *c = json_object_get(s->r->tokens, key);
		if (c && json_integer_value(json_object_get(c, "expires")) > time(NULL) + 5 &&
		    (*ret_token = strdup(json_string_value(json_object_get(c, "token"))))) {
			pthread_mutex_unlock(&s->r->lock);
			return 0;
		}
		pthread_mutex_unlock(&s->r->lock);
	}

	q.url = url;
	if (a && a->identity_token && *a->identity_token) {
		_cleanup_free_ char *es = url_escape(service ? service : ""), *et = NULL;
		et = url_escape(a->identity_token);
		if (!es || !et ||
		    asprintf(
			    &form,
			    "grant_type=refresh_token&client_id=docker&service=%s&refresh_token=%s",
			    es, et) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
		static const char *const ct[] = {"Content-Type: application/x-www-form-urlencoded",
						 NULL};
		q.method = "POST";
		q.body = form;
		q.body_len = strlen(form);
		q.headers = ct;
		{
			char *plain = strdup(realm);
			if (!plain)
				return berth_error_set(err, ENOMEM, "out of memory");
			free(url);
			url = plain;
			q.url = url;
		}
	} else if (has_credentials(a)) {
		q.basic_user = a->username;
		q.basic_password = a->password;
	}
	r = reg_perform(s, &q, &resp, err);
	if (r < 0)
		return berth_error_wrap(err, "get a token from %s", realm);
	if (resp.status == 401 || resp.status == 403) {
		_cleanup_free_ char *t = reg_error_text(&resp, NULL);
		reg_response_release(&resp);
		return berth_error_set(err, EKEYREJECTED, "%s", t ? t : "unauthorized");
	}
	if (resp.status != 200) {
		_cleanup_free_ char *t = reg_error_text(&resp, NULL);
		reg_response_release(&resp);
		return berth_error_set(err, EIO, "get a token from %s: %s", realm, t ? t : "");
	}
	r = berth_json_parse(resp.body ? resp.body : "", resp.body_len, &j, err);
	reg_response_release(&resp);
	if (r < 0)
		return berth_error_wrap(err, "token from %s", realm);
	tok = json_string_value(json_object_get(j, "token"));
	if (!tok || !*tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || !*tok)
		return berth_error_set(err, EINVAL, "token from %s: no token in the answer", realm);
	expires = json_integer_value(json_object_get(j, "expires_in"));
	if (expires < 60)
		expires = 60;
	*ret_token = strdup(tok);
	if (!*ret_token)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (!login) {
		pthread_mutex_lock(&s->r->lock);
		json_object_set_new(s->r->tokens, key,
				    json_pack("{s:s,s:I}", "token", tok, "expires",
					      (json_int_t)(time(NULL) + expires)));
		pthread_mutex_unlock(&s->r->lock);
	}
	return 0;
}

static int session_set_authz(struct reg_session *s, const char *scheme, const char *value)
{
	char *a;

	if (asprintf(&a, "%s %s", scheme, value) < 0)
		return -ENOMEM;
	pthread_mutex_lock(&s->lock);
	free(s->authz);
	s->authz = a;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static int authorize(struct reg_session *s, bool login, struct berth_error **err)
{
	const struct berth_registry_auth *a = s->auth;

	if (a && a->registry_token && *a->registry_token)
		return session_set_authz(s, "Bearer", a->registry_token) < 0
			       ? berth_error_set(err, ENOMEM, "out of memory")
			       : 0;
	if (!s->challenge.scheme)
		return 0;
	if (strcasecmp(s->challenge.scheme, "Bearer") == 0) {
		_cleanup_free_ char *tok = NULL;
		int r = fetch_token(s, login, &tok, err);
		if (r < 0)
			return r;
		return session_set_authz(s, "Bearer", tok) < 0
			       ? berth_error_set(err, ENOMEM, "out of memory")
			       : 0;
	}
	if (strcasecmp(s->challenge.scheme, "Basic") == 0 && has_credentials(a)) {
		_cleanup_free_ char *pair = NULL, *enc = NULL;
		if (asprintf(&pair, "%s:%s", a->username ? a->username : "",
			     a->password ? a->password : "") < 0 ||
		    !(enc = reg_base64(pair, strlen(pair))) ||
		    session_set_authz(s, "Basic", enc) < 0)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	return 0;
}

int reg_session_authorize(struct reg_session *s, struct berth_error **err)
{
	return authorize(s, false, err);
}

int reg_send(struct reg_session *s, const struct reg_request *q, struct reg_response *resp,
	     struct berth_error **err)
{
	int r = reg_perform(s, q, resp, err);

	if (r < 0 || resp->status != 401 || !resp->www_authenticate)
		return r;
	/* a token that expired or lacks a scope: one more token, one more try */
	{
		struct berth_registry_challenge c = {0};
		if (berth_registry_challenge_parse(resp->www_authenticate, &c, NULL) < 0 ||
		    strcasecmp(c.scheme, "Bearer") != 0) {
			berth_registry_challenge_release(&c);
			return 0;
		}
		berth_registry_challenge_release(&s->challenge);
		s->challenge = c;
	}
	r = authorize(s, false, err);
	if (r < 0) {
		reg_response_release(resp);
		return r;
	}
	reg_response_release(resp);
	return reg_perform(s, q, resp, err);
}

/* ---- the session ------------------------------------------------------------------------- */

void reg_session_free(struct reg_session *s)
{
	if (!s)
		return;
	free(s->host);
	free(s->base);
	free(s->repo);
	berth_strv_free(s->scopes);
	free(s->authz);
	free(s->ca_pem);
	free(s->client_cert);
	free(s->client_key);
	berth_registry_challenge_release(&s->challenge);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

#define MAX_CA_FILE    (1u << 20)
#define SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/*
 * dockerd's ReadCertsDirectory for certs_dir/<host>: every *.crt a CA on top of the system's,
 * every *.cert a client certificate that needs its *.key (and the other way round), in
 * dockerd's words when one is missing.  No directory: nothing to do.
 */
static int read_certs_dir(struct reg_session *s, struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL, *pem = NULL;
	_cleanup_closedir_ DIR *dp = NULL;
	size_t len = 0;
	bool any_ca = false;
	struct dirent *de;

	if (!s->r->certs_dir || strchr(s->host, '/') || s->host[0] == '.')
		return 0;
	if (asprintf(&dir, "%s/%s", s->r->certs_dir, s->host) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	dp = opendir(dir);
	if (!dp)
		return errno == ENOENT || errno == ENOTDIR
			       ? 0
			       : berth_error_sys(err, errno, "open certificates directory '%s'",
						 dir);
	while ((de = readdir(dp))) {
		const char *f = de->d_name;
		_cleanup_free_ char *path = NULL, *other = NULL, *text = NULL;
		size_t n = strlen(f);
		struct stat st;

		if (f[0] == '.' || asprintf(&path, "%s/%s", dir, f) < 0)
			continue;
		if (has_suffix(f, ".crt")) {
			if (!any_ca) {
				/* the system's CAs stay trusted, as Go's SystemCertPool + append */
				_cleanup_free_ char *sys = NULL;
				if (berth_read_file_at(AT_FDCWD, SYSTEM_CA_FILE, 16u << 20, &sys,
						       NULL, NULL) == 0 &&
				    sys) {
					free(pem);
					pem = TAKE_PTR(sys);
					len = strlen(pem);
				}
				any_ca = true;
			}
			if (berth_read_file_at(AT_FDCWD, path, MAX_CA_FILE, &text, NULL, err) < 0)
				return berth_error_wrap(err, "certificates for %s", s->host);
			char *grown = realloc(pem, len + strlen(text) + 2);
			if (!grown)
				return berth_error_set(err, ENOMEM, "out of memory");
			pem = grown;
			len += (size_t)snprintf(pem + len, strlen(text) + 2, "\n%s", text);
		} else if (has_suffix(f, ".cert")) {
			if (asprintf(&other, "%s/%.*s.key", dir, (int)(n - 5), f) < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
			if (stat(other, &st) < 0)
				return berth_error_set(
					err, EINVAL,
					"missing key %.*s.key for client certificate "
					"%s. CA certificates must use the extension .crt",
					(int)(n - 5), f, f);
			free(s->client_cert);
			free(s->client_key);
			s->client_cert = TAKE_PTR(path);
			s->client_key = TAKE_PTR(other);
		} else if (has_suffix(f, ".key")) {
			if (asprintf(&other, "%s/%.*s.cert", dir, (int)(n - 4), f) < 0)
				return berth_error_set(err, ENOMEM, "out of memory");
			if (stat(other, &st) < 0)
				return berth_error_set(
					err, EINVAL,
					"missing client certificate %.*s.cert for key %s",
					(int)(n - 4), f, f);
		}
	}
	if (any_ca) {
		s->ca_pem = TAKE_PTR(pem);
		s->ca_pem_len = len;
	}
	return 0;
}

static int ping(struct reg_session *s, const char *base, struct reg_response *resp,
		struct berth_error **err)
{
	struct reg_request q = {.method = "GET",
				.url = "/v2/",
				.body_fd = -1,
				.max_body = 64 << 10,
				.no_auth = true,
				.follow = true};

	free(s->base);
	s->base = strdup(base);
	if (!s->base)
		return berth_error_set(err, ENOMEM, "out of memory");
	return reg_perform(s, &q, resp, err);
}

int reg_session_open(struct berth_registry *r, const char *host, const char *base_url,
		     const char *repo, char *const *scopes, const struct berth_registry_auth *auth,
		     struct reg_session **ret, struct berth_error **err)
{
	struct reg_session *s = calloc(1, sizeof(*s));
	struct reg_response resp = {0};
	_cleanup_free_ char *https = NULL, *http = NULL;
	int rc;

	if (!s)
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	s->r = r;
	s->auth = auth;
	s->host = strdup(host);
	s->repo = strdup(repo ? repo : "");
	s->scopes = calloc(1, sizeof(char *));
	if (!s->host || !s->repo || !s->scopes) {
		reg_session_free(s);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; scopes && scopes[i]; i++)
		if (berth_strv_push(&s->scopes, scopes[i]) < 0) {
			reg_session_free(s);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
	s->insecure = berth_registry_is_insecure(r, host);
	/* dockerd reads certs.d only for registries it verifies */
	if (!s->insecure && read_certs_dir(s, err) < 0) {
		reg_session_free(s);
		return -EINVAL;
	}

	if (base_url) {
		_cleanup_free_ char *b = strdup(base_url);
		size_t n;
		if (!b) {
			reg_session_free(s);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		n = strlen(b);
		while (n && b[n - 1] == '/')
			b[--n] = '\0';
		rc = ping(s, b, &resp, err);
	} else {
		if (asprintf(&https, "https://%s", host) < 0 ||
		    asprintf(&http, "http://%s", host) < 0) {
			reg_session_free(s);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		rc = ping(s, https, &resp, err);
		if (rc < 0 && s->insecure) {
			/* dockerd's order for an insecure registry: HTTPS unverified, then HTTP */
			berth_error_free(*err);
			*err = NULL;
			rc = ping(s, http, &resp, err);
		}
	}
	if (rc < 0) {
		reg_session_free(s);
		return rc;
	}
	if (resp.status == 401 && resp.www_authenticate) {
		rc = berth_registry_challenge_parse(resp.www_authenticate, &s->challenge, err);
		if (rc < 0) {
			reg_response_release(&resp);
			reg_session_free(s);
			return berth_error_wrap(err, "%s", host);
		}
	} else if (resp.status != 200 && resp.status != 401) {
		/* dockerd goes on after a ping that is not 200/401; so do we, without a challenge */
	}
	reg_response_release(&resp);
	rc = authorize(s, false, err);
	if (rc < 0) {
		reg_session_free(s);
		return rc;
	}
	*ret = s;
	return 0;
}

/* ---- login ------------------------------------------------------------------------------- */

int berth_registry_login(struct berth_registry *r, const char *server,
			 const struct berth_registry_auth *auth, struct berth_error **err)
{
	_cleanup_free_ char *host = NULL;
	struct reg_session *s = NULL;
	struct reg_response resp = {0};
	struct reg_request q = {.method = "GET",
				.url = "/v2/",
				.body_fd = -1,
				.max_body = 64 << 10,
				.follow = true};
	const char *h = server ? server : "";
	int rc;

	if (berth_str_has_prefix(h, "https://"))
		h += 8;
	else if (berth_str_has_prefix(h, "http://"))
		h += 7;
	host = strndup(h, strcspn(h, "/"));
	if (!host)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (!*host || strcmp(host, "index.docker.io") == 0 || strcmp(host, "docker.io") == 0) {
		free(host);
		host = strdup("registry-1.docker.io");
		if (!host)
			return berth_error_set(err, ENOMEM, "out of memory");
	}
	/* the ping without credentials; then the credentials the challenge asks for */
	rc = reg_session_open(r, host, NULL, NULL, NULL, NULL, &s, err);
	if (rc < 0)
		return rc;
	s->auth = auth;
	if (!s->challenge.scheme) {
		/* a registry that asks for nothing accepts any login, as with dockerd */
		reg_session_free(s);
		return 0;
	}
	if (strcasecmp(s->challenge.scheme, "Bearer") == 0) {
		rc = authorize(s, true, err);
		if (rc < 0) {
			if (rc == -EKEYREJECTED) {
				berth_error_free(*err);
				*err = NULL;
				rc = berth_error_set(err, EKEYREJECTED,
						     "login attempt to %s/v2/ failed with status: "
						     "401 Unauthorized",
						     s->base);
			}
			reg_session_free(s);
			return rc;
		}
	} else {
		rc = authorize(s, true, err);
		if (rc < 0) {
			reg_session_free(s);
			return rc;
		}
	}
	rc = reg_perform(s, &q, &resp, err);
	if (rc == 0 && resp.status != 200)
		rc = berth_error_set(err, resp.status == 401 ? EKEYREJECTED : EIO,
				     "login attempt to %s/v2/ failed with status: %ld %s", s->base,
				     resp.status, resp.status == 401 ? "Unauthorized" : "");
	reg_response_release(&resp);
	reg_session_free(s);
	return rc;
}

/* ---- search (the v1 index API) -------------------------------------------------------------- */

static int query_escape(const char *in, char **ret)
{
	size_t n = strlen(in);
	char *out = malloc(3 * n + 1), *o = out;

	if (!out)
		return -ENOMEM;
	for (const unsigned char *c = (const unsigned char *)in; *c; c++) {
		if (isalnum(*c) || strchr("-_.~", *c))
			*o++ = (char)*c;
		else if (*c == ' ')
			*o++ = '+';
		else
			o += snprintf(o, 4, "%%%02X", *c);
	}
	*o = '\0';
	*ret = out;
	return 0;
}

int berth_registry_search(struct berth_registry *r, const char *term, int limit,
			  const struct berth_registry_auth *auth, json_t **ret,
			  struct berth_error **err)
{
	_cleanup_free_ char *index = NULL, *q = NULL, *url = NULL;
	const char *remote = term, *slash = strchr(term, '/');
	struct reg_session *s = NULL;
	struct reg_response resp = {0};
	_cleanup_json_ json_t *doc = NULL;
	int rc;

	*ret = NULL;
	if (strstr(term, "://"))
		return berth_error_set(err, EINVAL,
				       "invalid repository name: repository name (%s) should not "
				       "have a scheme",
				       term);
	if (limit == 0)
		limit = 25;
	if (limit < 1 || limit > 100)
		return berth_error_set(err, EINVAL, "limit %d is outside the range of [1, 100]",
				       limit);
	if (slash) {
		_cleanup_free_ char *first = strndup(term, (size_t)(slash - term));
		if (!first)
			return berth_error_set(err, ENOMEM, "out of memory");
		if (strchr(first, '.') || strchr(first, ':') || strcmp(first, "localhost") == 0) {
			index = TAKE_PTR(first);
			remote = slash + 1;
		}
	}
	if (!index || strcmp(index, "docker.io") == 0 || strcmp(index, "index.docker.io") == 0) {
		free(index);
		index = strdup("index.docker.io");
		/* "library/foo" is searched as "foo" on docker.io */
		if (strncmp(remote, "library/", 8) == 0)
			remote += 8;
	}
	if (!index || query_escape(remote, &q) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");

	s = calloc(1, sizeof(*s));
	if (!s)
		return berth_error_set(err, ENOMEM, "out of memory");
	pthread_mutex_init(&s->lock, NULL);
	s->r = r;
	s->auth = auth;
	s->host = strdup(index);
	s->repo = strdup("");
	s->scopes = calloc(1, sizeof(char *));
	if (!s->host || !s->repo || !s->scopes) {
		reg_session_free(s);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	s->insecure = berth_registry_is_insecure(r, index);
	if (!s->insecure && read_certs_dir(s, err) < 0) {
		reg_session_free(s);
		return -EINVAL;
	}
	/* the v1 ping: HTTPS, then (insecure) HTTP, as dockerd's newV1Endpoint */
	struct reg_request ping_q = {.method = "GET",
				     .url = "/v1/_ping",
				     .body_fd = -1,
				     .max_body = 64 << 10,
				     .no_auth = true,
				     .follow = true};
	for (int scheme = 0; scheme < 2; scheme++) {
		free(s->base);
		if (asprintf(&s->base, "%s://%s", scheme ? "http" : "https", index) < 0) {
			s->base = NULL;
			reg_session_free(s);
			return berth_error_set(err, ENOMEM, "out of memory");
		}
		if (scheme && err) {
			berth_error_free(*err);
			*err = NULL;
		}
		rc = reg_perform(s, &ping_q, &resp, err);
		reg_response_release(&resp);
		if (rc == 0 || !s->insecure)
			break;
	}
	if (rc < 0) {
		reg_session_free(s);
		return rc;
	}
	if (asprintf(&url, "/v1/search?q=%s&n=%d", q, limit) < 0) {
		reg_session_free(s);
		return berth_error_set(err, ENOMEM, "out of memory");
	}
	static const char *const hdrs[] = {"X-Docker-Token: true", NULL};
	struct reg_request sq = {.method = "GET",
				 .url = url,
				 .headers = hdrs,
				 .body_fd = -1,
				 .max_body = 8u << 20,
				 .no_auth = true,
				 .follow = true};
	if (auth && auth->username && *auth->username) {
		sq.basic_user = auth->username;
		sq.basic_password = auth->password;
	}
	rc = reg_perform(s, &sq, &resp, err);
	reg_session_free(s);
	if (rc < 0)
		return rc;
	if (resp.status != 200) {
		rc = berth_error_set(err, EIO, "unexpected status code %ld", resp.status);
		reg_response_release(&resp);
		return rc;
	}
	rc = berth_json_parse(resp.body ? resp.body : "", resp.body_len, &doc, err);
	reg_response_release(&resp);
	json_t *results = json_object_get(doc, "results");
	if (rc < 0 || !json_is_object(doc) || (!json_is_array(results) && !json_is_null(results))) {
		bool have = rc < 0 && err && *err && (*err)->msg;
		_cleanup_free_ char *why = strdup(have ? (*err)->msg : "not the index's JSON");
		if (err) {
			berth_error_free(*err);
			*err = NULL;
		}
		return berth_error_set(err, EIO, "error decoding registry search results: %s",
				       why ? why : "?");
	}
	*ret = json_is_array(results) ? json_incref(results) : json_array();
	return *ret ? 0 : berth_error_set(err, ENOMEM, "out of memory");
}
