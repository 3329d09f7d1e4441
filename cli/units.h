/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * docker's human units (go-units) and the Go time formats docker's CLI prints and parses.
 */

#include <stdbool.h>
#include <stdint.h>

#include "sbuf.h"

/* units.HumanDuration: "Less than a second", "3 seconds", "About a minute", "2 hours"... */
void human_duration(struct sbuf *out, int64_t ns);

/* units.HumanSizeWithPrecision: decimal units (B kB MB GB TB PB EB ZB YB), %.<precision>g */
void human_size(struct sbuf *out, double size, int precision);

/* Go's time.Duration.String(): "1h2m3s", "1.5s", "250ms", "0s" */
void go_duration_string(struct sbuf *out, int64_t ns);

/* units.BytesSize: binary units (B KiB MiB GiB ...), %.4g */
void bytes_size(struct sbuf *out, double size);

/* time.Time.String() in local time: "2006-01-02 15:04:05.999999999 -0700 MST" */
void go_time_string(struct sbuf *out, int64_t sec, int64_t nsec);

/* "2006-01-02T15:04:05.000000000Z07:00" in local time (docker events' timestamps) */
void go_time_rfc3339nano_fixed(struct sbuf *out, int64_t ns);

/* time.RFC3339 in local time: "2006-01-02T15:04:05Z07:00" */
void go_time_rfc3339(struct sbuf *out, int64_t sec);

/*
 * Parse RFC 3339 with optional fractional seconds ("2026-11-23T10:00:00.123Z",
 * "...+01:00"): seconds, nanoseconds and the zone offset in seconds.  false when malformed.
 */
bool parse_rfc3339(const char *s, int64_t *ret_sec, int64_t *ret_nsec, int *ret_offset);

/*
 * Go's Time.String() of an RFC 3339 time as time.Parse leaves it: "Z" is UTC ("+0000 UTC"), an
 * offset the local zone has at that moment takes the local zone's name, another offset is a
 * nameless zone ("+0100 +0100").  s as it is when it does not parse.
 */
void go_time_string_rfc3339(struct sbuf *out, const char *s);

/*
 * docker's reformatDate: an RFC 3339 time as time.ANSIC ("Mon Jan _2 15:04:05 2006") in its own
 * zone; s unchanged when it does not parse.
 */
void ansic_date(struct sbuf *out, const char *s);

/* time.ParseDuration; -EINVAL with Go's message ("time: invalid duration \"x\"") in *err. */
int go_parse_duration(const char *s, int64_t *ret_ns, char **err);

/*
 * docker's GetTimestamp (--since/--until): a Go duration back from now, an RFC 3339-like time
 * (local when it has no zone), or a unix timestamp; returns the string to send ("1700000000" or
 * "1700000000.000000000").  -EINVAL with docker's message in *err.
 */
int docker_timestamp(const char *value, int64_t now_ns, char **ret, char **err);

/* Nanoseconds since the epoch, now. */
int64_t now_ns(void);
