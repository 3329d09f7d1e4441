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

/* docker's formatter.Ellipsis: shorten to max display columns with a trailing "…". */
void ellipsis(struct sbuf *out, const char *s, size_t max);
