/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* events.c's parts that state.c, system.c and the unit tests use. */

#include "daemon.h"

/* CLOCK_REALTIME in nanoseconds. */
int64_t daemon_now_ns(void);

/* The ring and its condition variable (CLOCK_MONOTONIC deadlines). 0 or -errno. */
int daemon_events_init(struct daemon_events *e);
void daemon_events_release(struct daemon_events *e);

/* Put one event in the ring (the caller holds the lock that guards e) and wake followers. */
void daemon_events_record(struct daemon_events *e, const char *type, const char *action,
			  const char *actor_id, const struct berth_key_value *attrs, size_t n_attrs,
			  int64_t time_ns);

/* GET /events */
int daemon_routes_events(struct berthd *d, struct berth_error **err);
