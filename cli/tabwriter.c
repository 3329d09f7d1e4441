/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Elastic tabstops as Go's text/tabwriter computes them: a column's width is decided over the
 * block of consecutive lines that have a cell in that column, recursively for the columns to its
 * right.  The last cell of a line is not part of any column.
 */
#include <stdlib.h>
#include <string.h>

#include "tabwriter.h"
#include "base/banned.h"

static bool rune_wide(unsigned r)
{
	return (r >= 0x1100 && r <= 0x115f) || r == 0x2329 || r == 0x232a ||
	       (r >= 0x2e80 && r <= 0x303e) || (r >= 0x3041 && r <= 0x33ff) ||
	       (r >= 0x3400 && r <= 0x4dbf) || (r >= 0x4e00 && r <= 0x9fff) ||
	       (r >= 0xa000 && r <= 0xa4cf) || (r >= 0xac00 && r <= 0xd7a3) ||
	       (r >= 0xf900 && r <= 0xfaff) || (r >= 0xfe30 && r <= 0xfe4f) ||
	       (r >= 0xff00 && r <= 0xff60) || (r >= 0xffe0 && r <= 0xffe6) ||
	       (r >= 0x1f300 && r <= 0x1f64f) || (r >= 0x1f900 && r <= 0x1f9ff) ||
	       (r >= 0x20000 && r <= 0x3fffd);
}

static bool rune_zero_width(unsigned r)
{
	return (r >= 0x300 && r <= 0x36f) || (r >= 0x200b && r <= 0x200f) ||
	       (r >= 0xfe00 && r <= 0xfe0f) || (r >= 0x20d0 && r <= 0x20ff) || r == 0xfeff;
}

size_t display_width(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t w = 0;

	for (size_t i = 0; i < len;) {
		unsigned r = u[i];
		size_t n = 1;
		if (r >= 0xf0 && i + 4 <= len) {
			r = ((u[i] & 7u) << 18) | ((u[i + 1] & 63u) << 12) |
			    ((u[i + 2] & 63u) << 6) | (u[i + 3] & 63u);
			n = 4;
		} else if (r >= 0xe0 && r < 0xf0 && i + 3 <= len) {
			r = ((u[i] & 15u) << 12) | ((u[i + 1] & 63u) << 6) | (u[i + 2] & 63u);
			n = 3;
		} else if (r >= 0xc0 && r < 0xe0 && i + 2 <= len) {
			r = ((u[i] & 31u) << 6) | (u[i + 1] & 63u);
			n = 2;
		}
		i += n;
		if (r < 0x20 || (r >= 0x7f && r < 0xa0) || rune_zero_width(r))
			continue;
		w += rune_wide(r) ? 2 : 1;
	}
	return w;
}

void tw_init(struct tabwriter *tw, struct sbuf *out, int minwidth, int tabwidth, int padding,
	     char padchar)
{
	memset(tw, 0, sizeof(*tw));
	tw->out = out;
	tw->minwidth = minwidth;
	tw->tabwidth = tabwidth;
	tw->padding = padding;
	tw->padchar = padchar;
	tw->lines = xcalloc(1, sizeof(*tw->lines));
	tw->cap_lines = tw->n_lines = 1;
}

static void add_line(struct tabwriter *tw)
{
	if (tw->n_lines == tw->cap_lines) {
		tw->cap_lines *= 2;
		tw->lines = xrealloc(tw->lines, tw->cap_lines * sizeof(*tw->lines));
	}
	memset(&tw->lines[tw->n_lines], 0, sizeof(*tw->lines));
	tw->n_lines++;
}

static size_t terminate_cell(struct tabwriter *tw, int htab)
{
	struct tw_line *l = &tw->lines[tw->n_lines - 1];

	/* widths over the whole cell: a rune may arrive in two writes */
	tw->cell.width = display_width(tw->buf.p + (tw->buf.len - tw->cell.size), tw->cell.size);
	tw->cell.htab = htab;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->cells = xrealloc(l->cells, l->cap * sizeof(*l->cells));
	}
	l->cells[l->n++] = tw->cell;
	memset(&tw->cell, 0, sizeof(tw->cell));
	return l->n;
}

static void write_padding(struct tabwriter *tw, size_t textw, size_t cellw)
{
	if (tw->padchar == '\t') {
		if (tw->tabwidth == 0)
			return;
		cellw = (cellw + (size_t)tw->tabwidth - 1) / (size_t)tw->tabwidth *
			(size_t)tw->tabwidth;
		size_t n = cellw - textw;
		sbuf_addn(tw->out, '\t', (n + (size_t)tw->tabwidth - 1) / (size_t)tw->tabwidth);
		return;
	}
	sbuf_addn(tw->out, tw->padchar, cellw - textw);
}

static size_t write_lines(struct tabwriter *tw, size_t pos, size_t line0, size_t line1)
{
	for (size_t i = line0; i < line1; i++) {
		struct tw_line *l = &tw->lines[i];
		for (size_t j = 0; j < l->n; j++) {
			struct tw_cell *c = &l->cells[j];
			if (c->size > 0) {
				sbuf_add(tw->out, tw->buf.p + pos, c->size);
				pos += c->size;
			}
			if (j < tw->n_widths)
				write_padding(tw, c->width, tw->widths[j]);
		}
		if (i + 1 == tw->n_lines) {
			/* the last, incomplete line: its pending cell */
			if (tw->cell.size)
				sbuf_add(tw->out, tw->buf.p + pos, tw->cell.size);
			pos += tw->cell.size;
		} else {
			sbuf_addc(tw->out, '\n');
		}
	}
	return pos;
}

static size_t format(struct tabwriter *tw, size_t pos, size_t line0, size_t line1)
{
	size_t column = tw->n_widths;

	for (size_t this = line0; this < line1; this ++) {
		struct tw_line *l = &tw->lines[this];
		if (column + 1 >= l->n)
			continue;
		/* a cell in this column: the block of lines from here with such a cell */
		pos = write_lines(tw, pos, line0, this);
		line0 = this;
		size_t width = (size_t)tw->minwidth;
		for (; this < line1; this ++) {
			l = &tw->lines[this];
			if (column + 1 >= l->n)
				break;
			size_t w = l->cells[column].width + (size_t)tw->padding;
			if (w > width)
				width = w;
		}
		if (tw->n_widths == tw->cap_widths) {
			tw->cap_widths = tw->cap_widths ? tw->cap_widths * 2 : 16;
			tw->widths = xrealloc(tw->widths, tw->cap_widths * sizeof(*tw->widths));
		}
		tw->widths[tw->n_widths++] = width;
		pos = format(tw, pos, line0, this);
		tw->n_widths--;
		line0 = this;
	}
	return write_lines(tw, pos, line0, line1);
}

static void reset(struct tabwriter *tw)
{
	sbuf_reset(&tw->buf);
	memset(&tw->cell, 0, sizeof(tw->cell));
	for (size_t i = 0; i < tw->n_lines; i++)
		free(tw->lines[i].cells);
	tw->n_lines = 1;
	memset(&tw->lines[0], 0, sizeof(tw->lines[0]));
	tw->n_widths = 0;
}

static void flush_internal(struct tabwriter *tw)
{
	if (tw->cell.size > 0)
		terminate_cell(tw, 0);
	format(tw, 0, 0, tw->n_lines);
	reset(tw);
}

void tw_write(struct tabwriter *tw, const char *data, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = data[i];
		if (ch != '\t' && ch != '\v' && ch != '\n' && ch != '\f')
			continue;
		sbuf_add(&tw->buf, data + n, i - n);
		tw->cell.size += i - n;
		n = i + 1;
		size_t ncells = terminate_cell(tw, ch == '\t');
		if (ch == '\n' || ch == '\f') {
			add_line(tw);
			if (ch == '\f' || ncells == 1)
				flush_internal(tw);
		}
	}
	sbuf_add(&tw->buf, data + n, len - n);
	tw->cell.size += len - n;
}

void tw_flush(struct tabwriter *tw)
{
	flush_internal(tw);
}

void tw_release(struct tabwriter *tw)
{
	for (size_t i = 0; i < tw->n_lines; i++)
		free(tw->lines[i].cells);
	free(tw->lines);
	free(tw->widths);
	sbuf_release(&tw->buf);
	memset(tw, 0, sizeof(*tw));
}
