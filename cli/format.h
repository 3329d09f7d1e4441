/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * docker's formatter.Context: --format "table", "table TEMPLATE", "json", "TEMPLATE" for lists
 * (ps, images, history, df): rows rendered one by one into a buffer, then for tables a header
 * row (the same template run with the header functions on the column names) and everything
 * aligned by a tabwriter (minwidth 10, padding 3), as docker prints.
 */

#include "cli.h"
#include "tabwriter.h"
#include "template.h"

struct fmt_list {
	const char *format; /* as given by the user, or the command's default */
	bool table;
	struct tmpl *tmpl;
	struct sbuf rows;
	const struct tobj *header; /* the column names (a header object); NULL: none */
	bool any_row;
};

/*
 * Parse format (docker's preFormat: "table" prefix, "json", "\t" and "\n" escapes).  On a bad
 * template returns -1 with "template parsing error: ..." in *err.
 */
int fmt_list_begin(struct fmt_list *f, const char *format, const struct tmpl_func *extra,
		   char **err);
/* Render one row ("\n" after it). */
int fmt_list_row(struct fmt_list *f, struct tval row, char **err);
/* Write it all out (the header for tables). */
void fmt_list_end(struct fmt_list *f, const struct tobj *header);
void fmt_list_release(struct fmt_list *f);

/* A header object: field name -> column title; .Label "a.b-c" gives "c" as docker's. */
struct header_obj {
	struct tobj obj;
	const char *const *pairs; /* "ID", "CONTAINER ID", ..., NULL */
};
void header_init(struct header_obj *h, const char *const *pairs);

/*
 * A docker formatter context whose methods take no arguments (ID, Size, CreatedSince...): their
 * values are computed when the row is made and kept in values (method name -> JSON value), so a
 * template calls them by name and {{json .}} is every one of them, keys sorted (docker's
 * MarshalJSON).  A method given arguments fails as Go's call does ("wrong number of args for ID:
 * want 0 got 1").  call_args: the methods that take arguments (Label), or NULL.
 */
struct ctx_obj {
	struct tobj obj;
	json_t *values;
	int (*call_args)(const struct ctx_obj *c, const char *name, json_t *const *args, size_t n,
			 json_t **ret, char **err);
	json_t *src; /* what call_args reads (a reference held; NULL: none) */
};
/* Make c an object of Go type type_name ("*formatter.imageContext"); takes values. */
void ctx_obj_init(struct ctx_obj *c, const char *type_name, json_t *values);
void ctx_obj_release(struct ctx_obj *c);
/* Set a string method's value. */
void ctx_set(struct ctx_obj *c, const char *method, const char *value);

/* ---- images (formatter/image.go), shared by images and system df -v ----------------------- */

/* docker's default images table and its form with the DIGEST column */
#define IMAGE_TABLE_FORMAT                                                                         \
	"table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince "                            \
	"}}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
#define IMAGE_TABLE_FORMAT_DIGEST                                                                  \
	"table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince "               \
	"}}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
extern const char *const image_header_pairs[];

/* An image.Summary's imageContext for one row: repo, tag, digest as the row shows them. */
void image_ctx_init(struct ctx_obj *c, json_t *summary, const char *repo, const char *tag,
		    const char *digest, bool trunc);

/* Is the image.Summary dangling (no names, or docker's "<none>" placeholders)? */
bool image_dangling(json_t *summary);

/* stringid.TruncateID: the hex after "algo:", 12 characters of it. */
void truncate_id(struct sbuf *out, const char *id);

/* ---- containers, volumes, build cache (formatter/container.go, volume.go, buildcache.go) ---- */

extern const char *const container_header_pairs[];
extern const char *const volume_header_pairs[];
extern const char *const build_cache_header_pairs[];

/* A container.Summary's ContainerContext (ps, system df -v). */
void container_ctx_init(struct ctx_obj *c, json_t *summary, bool trunc);
/*
 * ps's check of a --format as written, before any request: parsed, then run on an empty
 * container, as docker does.  Returns 0 with whether the run read .Size, or -1 with docker's
 * message in *err ("failed to parse template: ...", "failed to execute template: ...").
 */
int ps_template_check(const char *format, bool *ret_size_used, char **err);
/* A volume.Volume's volumeContext. */
void volume_ctx_init(struct ctx_obj *c, json_t *volume);
/* A build.CacheRecord's buildCacheContext. */
void build_cache_ctx_init(struct ctx_obj *c, json_t *record, bool trunc);
/* docker's DisplayablePorts: "80/tcp, 0.0.0.0:8080->80/tcp", appended. */
void displayable_ports(struct sbuf *out, json_t *ports);

/* docker's formatter.Ellipsis: shorten to max display columns with a trailing "…". */
void ellipsis(struct sbuf *out, const char *s, size_t max);
