/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/registry: a client of the OCI distribution protocol (Docker's registry API v2): pull into
 * lib/image's store, push from it, and a login check.  Uses lib/base, lib/image and libcurl only.
 * docs/registry.md describes the protocol as berth speaks it.
 *
 * Errors: 0 on success, a negative errno with *err filled otherwise.  Codes callers branch on:
 *   EINVAL  bad input (a reference, a platform, a manifest or config the registry sent);
 *   ENOENT  the registry has no such repository, tag or manifest (the message is Docker's:
 *           "manifest for x:latest not found: manifest unknown: manifest unknown");
 *   EACCES  access denied ("pull access denied for x, repository does not exist or may require
 *           'docker login': ...");
 *   EKEYREJECTED  the credentials were refused (login; "unauthorized: ...");
 *   EFBIG   a manifest or config past its cap;
 *   EIO     the transfer failed (connection, TLS, truncated body, digest mismatch).
 * Nothing partial stays in the store on any error: what a pull created is rolled back.
 *
 * Threads: a struct berth_registry may be used by many threads at once (its token cache has a
 * lock).  A pull fetches blobs on up to max_parallel threads of its own.
 */

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "image/image.h"

struct berth_registry_options {
	/* registries spoken to over plain HTTP (after HTTPS without verification failed):
	 * "host:port", "host" or a CIDR ("10.0.0.0/8").  127.0.0.0/8 and ::1 always are. */
	char *const *insecure;
	/* mirrors of docker.io, tried in order before it: "http://127.0.0.1:5001" */
	char *const *mirrors;
	/* per-registry TLS files, as dockerd's /etc/docker/certs.d: <certs_dir>/<host[:port]>/
	 * with *.crt (CAs added to the system's), *.cert + *.key (a client certificate); read for
	 * registries that are not insecure.  NULL: none. */
	const char *certs_dir;
	unsigned max_parallel; /* blobs fetched at once [3, as dockerd] */
	uint64_t max_manifest; /* bytes of a manifest or index [4 MiB] */
	uint64_t max_config;   /* bytes of an image config [8 MiB] */
};

struct berth_registry;

/* A client with opts copied (may be NULL: defaults).  Free with berth_registry_free(). */
int berth_registry_new(const struct berth_registry_options *opts, struct berth_registry **ret,
		       struct berth_error **err);
void berth_registry_free(struct berth_registry *r);

/* Credentials, as Docker's AuthConfig carries them (any field may be NULL). */
struct berth_registry_auth {
	const char *username;
	const char *password;
	const char *identity_token; /* an OAuth refresh token, sent as the token endpoint asks */
	const char *registry_token; /* a bearer token used as it is */
};

/*
 * Decode Docker's X-Registry-Auth header (base64url or base64 of an AuthConfig JSON, padding
 * optional) into *ret (strings owned by *ret_json, a new object).  An empty header is anonymous
 * (all NULL, *ret_json NULL).  EINVAL for a header that is not base64 of a JSON object.
 */
int berth_registry_auth_decode(const char *header, struct berth_registry_auth *ret,
			       json_t **ret_json, struct berth_error **err);

/*
 * Progress, Docker's words: status "Pulling fs layer", "Waiting", "Downloading", "Verifying
 * Checksum", "Download complete", "Extracting", "Pull complete", "Already exists", "Preparing",
 * "Pushing", "Pushed", "Layer already exists", "Mounted from <repo>"; id the 12 hex digits Docker
 * shows (the blob's for a pull, the diff id's for a push).  current/total are set for
 * "Downloading", "Extracting" and "Pushing" (else 0).  Called from any of the operation's
 * threads, one call at a time.
 */
struct berth_registry_progress {
	const char *status;
	const char *id;
	uint64_t current, total;
};

struct berth_registry_progress_cb {
	void (*fn)(void *userdata, const struct berth_registry_progress *p);
	void *userdata;
};

/* Is host ("127.0.0.1:5000", "registry.local") insecure under r's options? */
bool berth_registry_is_insecure(struct berth_registry *r, const char *host);

/*
 * The OCI platform "os/arch[/variant]" (containerd's normalisation: x86_64 -> amd64, aarch64 ->
 * arm64 ...) into its parts (caller frees; *ret_variant may be NULL).  NULL or "" is this
 * machine's linux/<arch>.  EINVAL with the value named when it is not one.
 */
int berth_registry_platform_parse(const char *s, char **ret_os, char **ret_arch, char **ret_variant,
				  struct berth_error **err);

struct berth_registry_pull_result {
	char *id;     /* image id, "sha256:..." */
	char *digest; /* the manifest's digest (of the platform's manifest) */
	char *name;   /* the reference pulled, full form ("docker.io/library/busybox:latest") */
	bool newer;   /* the name did not point at this image before */
};

void berth_registry_pull_result_release(struct berth_registry_pull_result *r);

/*
 * Pull ref (a docker reference; ":latest" added when it has neither tag nor digest) for platform
 * (NULL: linux/<this machine>) into s: the manifest (by tag or digest; an index gives the
 * platform's manifest), its config, and every layer the store does not have (by chain id),
 * fetched max_parallel at a time, each blob's size and digest verified as it streams, unpacked in
 * order as soon as it and those below it are there.  The image is then added and tagged
 * (name:tag and name@digest).  auth may be NULL (anonymous).  All or nothing.
 */
/*
 * The tags of ref's repository (a tag or digest in ref is ignored) as the registry lists them
 * (GET /v2/<name>/tags/list, page after page with n= and last=), in its order, into *ret (a
 * NULL-terminated vector, at most 10000).  Errors as a pull's (ENOENT "repository x not found",
 * EACCES "pull access denied"), EINVAL for a list that is not the registry's JSON.
 */
int berth_registry_tags(struct berth_registry *r, const char *ref,
			const struct berth_registry_auth *auth, char ***ret,
			struct berth_error **err);

/*
 * Docker's search (the v1 index API): term "[index/]name" (the index when the first part has a
 * '.' or ':' or is "localhost", else docker.io's index.docker.io), its /v1/_ping over HTTPS (and
 * HTTP for an insecure index), then GET /v1/search?q=<name>&n=<limit> with basic credentials
 * when auth has them.  *ret: the index's "results" array as it sent it (each an object).
 * EINVAL: a term with a scheme ("invalid repository name: repository name (x) should not have a
 * scheme"), a limit outside [1, 100]; EIO: the transfer, "unexpected status code N", a body that
 * is not the index's JSON.
 */
int berth_registry_search(struct berth_registry *r, const char *term, int limit,
			  const struct berth_registry_auth *auth, json_t **ret,
			  struct berth_error **err);

int berth_registry_pull(struct berth_registry *r, struct berth_image_store *s, const char *ref,
			const char *platform, const struct berth_registry_auth *auth,
			const struct berth_registry_progress_cb *progress,
			struct berth_registry_pull_result *ret, struct berth_error **err);

struct berth_registry_push_result {
	char *tag;     /* the tag pushed */
	char *digest;  /* the manifest's digest */
	uint64_t size; /* its size */
};

/*
 * Push the image that ref (name:tag; ":latest" added) names in s: each layer's blob and the
 * config unless the registry has them (HEAD), mounted from another repository of the same
 * registry the image came from when one is known, else uploaded whole (POST, then PUT
 * ?digest=); then the manifest (Docker schema 2 when every layer is gzip, OCI otherwise) under
 * the tag.  ENOENT "An image does not exist locally with the tag: x" when s has no such name.
 */
int berth_registry_push(struct berth_registry *r, struct berth_image_store *s, const char *ref,
			const struct berth_registry_auth *auth,
			const struct berth_registry_progress_cb *progress,
			struct berth_registry_push_result *ret, struct berth_error **err);

void berth_registry_push_result_release(struct berth_registry_push_result *r);

/*
 * docker login: GET /v2/ on server ("127.0.0.1:5000", "https://host/", "" or docker.io's
 * "https://index.docker.io/v1/") with auth, following a bearer challenge to its token endpoint.
 * 0 when the credentials are accepted; EKEYREJECTED with Docker's message when refused.
 */
int berth_registry_login(struct berth_registry *r, const char *server,
			 const struct berth_registry_auth *auth, struct berth_error **err);

/* ---- pieces with unit tests ------------------------------------------------------------- */

/*
 * A WWW-Authenticate header: scheme ("Bearer", "Basic") and its parameters (realm, service,
 * scope, error ...), quoted strings unescaped.  EINVAL for a malformed header.
 */
struct berth_registry_challenge {
	char *scheme;
	struct berth_key_value *params;
	size_t n_params;
};

int berth_registry_challenge_parse(const char *header, struct berth_registry_challenge *ret,
				   struct berth_error **err);
void berth_registry_challenge_release(struct berth_registry_challenge *c);
/* A parameter's value (case-insensitive name), or NULL. */
const char *berth_registry_challenge_param(const struct berth_registry_challenge *c,
					   const char *name);
