/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * docker's pkg/jsonmessage: the JSON message streams of load, import (and pull, push, build when
 * berthd serves them) rendered as the docker CLI renders them.
 *
 * On a terminal, a message with an id and progress gets a line of its own: the first message of
 * an id opens a new line, later ones move the cursor up to it (ESC[nA), erase it (ESC[2K),
 * rewrite it with a progress bar, and move back down (ESC[nB).  A message without progress
 * forgets the lines (the next progress opens new ones).  Elsewhere, progress is left out and the
 * other messages are printed as lines.  A message with errorDetail ends the stream: its message
 * is the error (docker prints it and exits 1).  "aux" messages go to a callback.
 *
 *     struct jsonmsg m;
 *     jsonmsg_init(&m, is_terminal(1), write_fn, NULL);
 *     while ((n = read(...)) > 0)
 *             if (jsonmsg_feed(&m, buf, n) < 0)
 *                     break;              // m.error: the message to print
 *     r = jsonmsg_end(&m);
 *     jsonmsg_release(&m);
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "sbuf.h"

struct jsonmsg_id {
	char *id;
	unsigned line;
};

struct jsonmsg {
	bool terminal;
	int width; /* columns for the progress bar: 0 asks stdout's terminal (200 when it is none) */
	int64_t (*now)(void); /* unix seconds now (tests fix it); NULL: the clock */
	void (*write)(void *data, const char *s, size_t n);
	void *data;
	void (*aux)(void *data, json_t *aux); /* NULL: aux messages are dropped */

	struct jsonmsg_id *ids; /* the terminal lines of ids with progress, in order */
	size_t n_ids;
	struct sbuf in; /* bytes not parsed yet */
	char *error;	/* the stream's error, once there is one (malloc'd) */
	int error_code; /* its errorDetail.code (a build's RUN exit code); 0: none */
};

/* Set up m: terminal rendering or lines, out through write(data, ...). */
void jsonmsg_init(struct jsonmsg *m, bool terminal,
		  void (*write)(void *data, const char *s, size_t n), void *data);
void jsonmsg_release(struct jsonmsg *m);

/*
 * Feed n bytes of the stream (any split).  Every whole message is rendered.  Returns 0, or -1
 * with m->error set: a message carried errorDetail (its message), or the stream is not JSON (Go's
 * decoder's wording: "invalid character 'x' looking for beginning of value").
 */
int jsonmsg_feed(struct jsonmsg *m, const char *buf, size_t n);

/* The stream ended: 0, or -1 with m->error (a message cut short: "unexpected EOF"). */
int jsonmsg_end(struct jsonmsg *m);

/* Render one message (a JSON object) as DisplayJSONMessagesStream does; -1 with m->error on an
 * errorDetail. */
int jsonmsg_render(struct jsonmsg *m, json_t *msg);

/* JSONProgress.String() for a terminal width (units.HumanSize numbers, a 50-column bar past 110
 * columns, the time left past 50), appended to out. */
void jsonmsg_progress_string(struct sbuf *out, int width, int64_t current, int64_t total,
			     int64_t start, bool hide_counts, const char *units, int64_t now);
