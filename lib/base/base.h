/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * lib/base: what every other layer shares.  Two libraries:
 *   berth-base-core  core.h (errors, cleanup, strings, files, processes and pidfds, unix sockets,
 *                    signals, the log callback) and loop.h (the event loop and the I/O pieces
 *                    over it); no dependency at all;
 *   berth-base       json.h (jansson helpers), on top of the core.
 * This header is both; a program that must not load jansson includes core.h and loop.h only and
 * links base_core_dep.
 */

#include "core.h"
#include "json.h"
#include "loop.h"
