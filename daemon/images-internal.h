/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What images.c, images-io.c and the unit tests share. */

#include "daemon.h"

/* ---- requests under way (shutdown waits for them before closing the store) ---------------- */

struct berthd *images_op_enter(struct berthd *d);
void images_op_leavep(struct berthd **d);
#define images_op_scope(d)                                                                         \
	_cleanup_(images_op_leavep) struct berthd *images_op_ = images_op_enter(d)

/* ---- images with what the endpoints need of each ------------------------------------------ */

struct images_entry {
	struct berth_image_info *info;
	json_t *config;	    /* the config blob, parsed; NULL when unreadable */
	int64_t created_ns; /* 0 when absent or unparsable */
	size_t children;    /* images whose parent this is */
	json_t *summary;    /* borrowed while a listing is built */
};

int images_entries_load(struct berthd *d, struct images_entry **ret, size_t *ret_n,
			struct berth_error **err);
void images_entries_free(struct images_entry *v, size_t n);

/* The config's "config"."Labels" object, borrowed; NULL when there is none. */
const json_t *images_labels(const json_t *config);

/* An RFC 3339 "created" in nanoseconds since the epoch; 0 when absent or unparsable. */
int64_t images_created_ns(const char *created);

/* A snapshot of the container table (daemon_image_users), taking and letting go d->lock. */
int images_users_snapshot(struct berthd *d, struct daemon_image_users *u);

/* ---- JSON as dockerd writes it ------------------------------------------------------------ */

/* A copy of in with its keys sorted (Go's maps); strings_only: string members, else {} each. */
json_t *images_sorted_object(const json_t *in, bool strings_only);

/* A list of strings; empty_as_null: null when v is empty (RepoTags before API 1.43). */
json_t *images_strv_json(char *const *v, bool empty_as_null);

/* ---- small rules ---------------------------------------------------------------------------- */

int images_cmp_str(const void *a, const void *b);

/* Go's RFC3339Nano rendering of an RFC 3339 time (trailing zeros dropped, "Z"); caller frees. */
char *images_go_time(const char *s);

/* distribution's tag grammar [\w][\w.-]{0,127}. */
bool images_valid_tag(const char *t);

/*
 * dockerd's RepoTagReference(repo, tag): the full "name:tag" to write (":latest" added), or
 * *ret NULL with 0 when repo is empty.  -EINVAL with docker's message for a bad name or tag, a
 * digest reference.
 */
int images_repo_tag(const char *repo, const char *tag, char **ret, struct berth_error **err);

/*
 * Go's path.Match (docker's reference filter): '*' and '?' stop at '/', classes with '^',
 * backslash escapes.  1 a match, 0 none, -EINVAL a malformed pattern (Go's ErrBadPattern).
 */
int images_go_match(const char *pattern, const char *s);

/* jsonmessage.JSONProgress.String() without a terminal (width 200, so with the bar). */
void images_progress_bar(uint64_t current, uint64_t total, char *buf, size_t len);

/* "docker.io/library/busybox:latest" -> "busybox:latest"; caller frees. */
char *images_familiar(const char *full);

/* ---- answers and events --------------------------------------------------------------------- */

/* e's status and message (lib/api's table); 500 without e. */
void images_respond_error(struct berth_http_request *req, struct berth_error *e);

/* An image event: Actor.ID id, attributes labels (may be NULL) and "name". */
void images_event(struct berthd *d, const char *action, const char *id, const char *name,
		  const json_t *labels);

/* ---- images-io.c: the endpoints that stream a body in or out -------------------------------- */

void daemon_images_load(struct berth_http_request *req, void *userdata);
/* images-list.c: GET /images/json */
void daemon_images_list(struct berth_http_request *req, void *userdata);
void daemon_images_save(struct berth_http_request *req, void *userdata);
/* POST /images/create: fromSrc (import) and fromImage (pull, through lib/registry). */
void daemon_images_create(struct berth_http_request *req, void *userdata);

/*
 * Go's encoding/json text of j (compact, '<' '>' '&' U+2028 U+2029 escaped as \uXXXX), for the
 * JSON lines of progress streams; caller frees.
 */
char *images_go_json(const json_t *j);

/* POST /images/{name}/push (images-io.c). */
void images_push(struct berth_http_request *req, void *userdata);
