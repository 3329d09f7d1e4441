/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Where jansson's values come from while the CLI reads an answer (arena.c).
 *
 * cli_arena_install() makes jansson allocate through the arena; between cli_arena_open() and
 * cli_arena_close() its allocations are carved from one 2 MiB region, outside that window
 * (and once the region is used up) they come from malloc as before.  Memory of the region is
 * never reused: a one-shot command keeps what it parsed to its exit, and a long-running one
 * wastes at most the region.  Freeing works for both kinds of pointer, through jansson.
 * Builds with AddressSanitizer leave jansson on malloc, so ASan keeps watching its values.
 */
void cli_arena_install(void);
void cli_arena_open(void);
void cli_arena_close(void);

/* n zeroed bytes from the region whenever it has room (the window aside), else from calloc;
 * NULL when out of memory; freed with cli_arena_free() */
void *cli_arena_take(size_t n);

/* the allocator itself (jansson's hooks; tests call them directly) */
void *cli_arena_alloc(size_t n);
void cli_arena_free(void *p);
bool cli_arena_owns(const void *p);
