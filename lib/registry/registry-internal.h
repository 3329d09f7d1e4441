/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the files of lib/registry share. */

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

#include "registry.h"

/*
 * Load libcurl (dlopen'ed on first use, curl-dl.c): 0, or -ELIBACC with err naming the library.
 * Every path into libcurl starts at berth_registry_new, which calls this first.
 */
int reg_curl_load(struct berth_error **err);

#define REG_DEFAULT_PARALLEL	 3
#define REG_DEFAULT_MAX_MANIFEST (4u << 20)
#define REG_DEFAULT_MAX_CONFIG	 (8u << 20)
#define REG_MAX_ERROR_BODY	 (64u << 10)
#define REG_MAX_REDIRECTS	 10
#define REG_PUSH_CHUNK		 (16u << 20) /* larger blobs go up in PATCH chunks of this */
#define REG_RETRIES		 2	     /* more tries of a blob transfer that broke off */
#define REG_USER_AGENT		 "berth/" BERTH_VERSION

/* Media types. */
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST	   "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER_GZ "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_DOCKER_FOREIGN  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define MT_DOCKER_LAYER	   "application/vnd.docker.image.rootfs.diff.tar"
#define MT_OCI_MANIFEST	   "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX	   "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG	   "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER	   "application/vnd.oci.image.layer.v1.tar"
#define MT_OCI_LAYER_GZ	   "application/vnd.oci.image.layer.v1.tar+gzip"
#define MT_OCI_LAYER_ZSTD  "application/vnd.oci.image.layer.v1.tar+zstd"
#define MT_OCI_ND_LAYER	   "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define MT_OCI_ND_LAYER_GZ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define MT_SCHEMA1	   "application/vnd.docker.distribution.manifest.v1+json"
#define MT_SCHEMA1_SIGNED  "application/vnd.docker.distribution.manifest.v1+prettyjws"

struct berth_registry {
	struct berth_registry_options opts; /* vectors copied below */
	char **insecure, **mirrors;
	char *certs_dir;
	pthread_mutex_t lock; /* guards tokens */
	json_t *tokens;	      /* cache key -> {"token": s, "expires": unix seconds} */
};

/* One registry, one repository, one set of credentials: what a pull or push talks to. */
struct reg_session {
	struct berth_registry *r;
	char *host;    /* "127.0.0.1:5000", "registry-1.docker.io" */
	char *base;    /* "http://127.0.0.1:5000" (after the ping chose the scheme) */
	char *repo;    /* "library/busybox" */
	char **scopes; /* "repository:library/busybox:pull", ... */
	bool insecure; /* TLS unverified, plain HTTP allowed */
	/* from certs.d/<host>: the CAs (the system's bundle and the *.crt, PEM) and a client
	 * certificate with its key (paths); NULL when the directory has none */
	char *ca_pem;
	size_t ca_pem_len;
	char *client_cert, *client_key;
	const struct berth_registry_auth *auth;

	pthread_mutex_t lock;			   /* guards authz (blob threads read it) */
	char *authz;				   /* "Bearer ..." / "Basic ..." or NULL */
	struct berth_registry_challenge challenge; /* from the ping; scheme NULL when none */
	atomic_bool cancel;			   /* set to stop every transfer of the session */
};

/* The answer to a request.  body holds non-2xx bodies (capped) and 2xx ones without a sink. */
struct reg_response {
	long status;
	char *content_type;
	char *location;
	char *docker_digest;
	char *www_authenticate;
	char *range;
	int64_t content_length; /* -1 when not given */
	char *body;
	size_t body_len;
	char *url; /* the last URL (after redirects) */
};

void reg_response_release(struct reg_response *r);

/* A sink for a 2xx body: return 0 to go on, negative to abort (with *err set by the sink). */
typedef int (*reg_sink_fn)(void *userdata, const void *data, size_t len);

struct reg_request {
	const char *method;	    /* GET HEAD PUT POST PATCH DELETE */
	const char *url;	    /* absolute, or a path below session->base ("/v2/...") */
	const char *const *headers; /* NULL-terminated "Name: value" */
	/* a body: from memory, or from fd (pread from offset 0, size bytes) */
	const void *body;
	size_t body_len;
	int body_fd;
	uint64_t body_fd_offset; /* where in body_fd the body starts */
	uint64_t body_fd_size;
	void (*upload_progress)(void *userdata, uint64_t sent);
	void *upload_userdata;
	/* a 2xx body goes to sink when given, else into response->body up to max_body */
	reg_sink_fn sink;
	void *sink_userdata;
	size_t max_body;
	bool no_auth; /* send no Authorization (a token endpoint with its own) */
	const char *basic_user, *basic_password; /* Authorization: Basic for this request only */
	bool follow;				 /* follow redirects (GET/HEAD) */
};

/*
 * Send one request on the session's credentials; a 401 with a bearer challenge gets a token (for
 * the session's scopes) and one retry.  Returns 0 with *resp filled for any HTTP answer (the
 * caller judges the status), or -EIO for a transport failure (connection, TLS, too many
 * redirects, a body cut short, a sink's abort: its error).
 */
int reg_send(struct reg_session *s, const struct reg_request *q, struct reg_response *resp,
	     struct berth_error **err);

/* A raw request without the auth retry (the ping, token endpoints). */
int reg_perform(struct reg_session *s, const struct reg_request *q, struct reg_response *resp,
		struct berth_error **err);

/*
 * Open a session on host (no scheme: "127.0.0.1:5000") for repo with scopes: GET /v2/ over HTTPS
 * (and, for an insecure registry, then HTTP), remembering the challenge; with a bearer challenge
 * the token is fetched now (with auth when given).  base_url (may be NULL) replaces the scheme
 * and host (a mirror).
 */
int reg_session_open(struct berth_registry *r, const char *host, const char *base_url,
		     const char *repo, char *const *scopes, const struct berth_registry_auth *auth,
		     struct reg_session **ret, struct berth_error **err);
void reg_session_free(struct reg_session *s);

/* Fetch a token for the session's challenge (again: after a 401 on a held token). */
int reg_session_authorize(struct reg_session *s, struct berth_error **err);

/*
 * The registry's error in Docker's words: for a JSON body {"errors":[{"code","message"}]} the
 * first as "<code in lowercase words>: <message>" ("manifest unknown: manifest unknown"),
 * else "<status> <reason>" with the body's start.  *ret_code (may be NULL) gets the code
 * ("MANIFEST_UNKNOWN") or NULL.  Caller frees.
 */
char *reg_error_text(const struct reg_response *resp, char **ret_code);

/* "Docker's" name of a host: "docker.io" -> "registry-1.docker.io". */
const char *reg_api_host(const char *domain);

/* Base64 (standard alphabet, padded). Caller frees; NULL on ENOMEM. */
char *reg_base64(const void *data, size_t len);
/* Decode base64 or base64url, padding optional; -EINVAL on a bad character. */
int reg_base64_decode(const char *s, char **ret, size_t *ret_len);

/* The 12 hex digits Docker shows for a digest. */
void reg_short_id(const char *digest, char out[13]);

/* Report progress (serialised by the caller's lock when called from several threads). */
void reg_progress(const struct berth_registry_progress_cb *cb, const char *status, const char *id,
		  uint64_t current, uint64_t total);
