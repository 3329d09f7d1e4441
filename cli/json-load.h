/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

#include <jansson.h>

/*
 * The JSON value in buf[0..len) (any value at the top, as json_loadb() with JSON_DECODE_ANY),
 * built with jansson's types, or NULL when buf is not JSON that json_loadb() would take whole
 * (then json_loadb() tells why).  For a value it returns, json_loadb() would have returned an
 * equal one, its object keys in the same order.  The caller owns the value.
 */
json_t *cli_json_load(const char *buf, size_t len);
