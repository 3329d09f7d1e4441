/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Go's text/tabwriter as docker's fork uses it: text in tab-terminated cells, columns of
 * adjacent lines aligned to the widest cell plus padding (at least minwidth), widths counted in
 * terminal columns (East Asian wide runes count 2).  A line without a tab ends the block of lines
 * aligned together, as in Go.  Only the flags docker uses are supported (none).
 */

#include <stddef.h>

#include "sbuf.h"

struct tw_cell {
	size_t size;  /* bytes */
	size_t width; /* columns */
	int htab;     /* terminated by a tab */
};

struct tw_line {
	struct tw_cell *cells;
	size_t n, cap;
};

struct tabwriter {
	int minwidth, tabwidth, padding;
	char padchar;
	struct sbuf buf;       /* the text of the cells, without tabs and newlines */
	struct tw_cell cell;   /* the cell being written */
	struct tw_line *lines; /* lines[n_lines-1] is the current one */
	size_t n_lines, cap_lines;
	size_t *widths;
	size_t n_widths, cap_widths;
	struct sbuf *out;
};

void tw_init(struct tabwriter *tw, struct sbuf *out, int minwidth, int tabwidth, int padding,
	     char padchar);
void tw_write(struct tabwriter *tw, const char *data, size_t len);
/* Write out everything buffered (the cell being written ends the last line). */
void tw_flush(struct tabwriter *tw);
void tw_release(struct tabwriter *tw);

/* Terminal columns of a UTF-8 string (go-runewidth's StringWidth, for the ranges that matter). */
size_t display_width(const char *s, size_t len);
