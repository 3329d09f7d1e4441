/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A bump arena for the JSON the CLI reads (arena.h).
 *
 * `berth ps` with 50 containers builds ~4,200 jansson blocks (300 KB with malloc's headers and
 * rounding) that all live until exit: a third of its instructions were malloc and free, and
 * most of its page faults were the heap growing.  Here a block costs an add and a compare, and
 * is freed by exiting.  The region is one 2 MiB-aligned transparent huge page where the kernel
 * allows it (MADV_HUGEPAGE): on the VMs we measured, a first touch of a 4 KiB page cost 15 to
 * 60 us, so 75 heap pages cost more than the whole rest of the command, while one huge page
 * costs about 0.15 ms.  Where THP is off it is a plain mapping whose pages fault one by one,
 * but fewer of them, as the blocks are packed without headers.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <jansson.h>

#include "arena.h"
#include "base/banned.h"

#define ARENA_SIZE  ((size_t)2 << 20)
#define ARENA_ALIGN ((size_t)16) /* malloc's: jansson's structs hold pointers, sizes, doubles */

/* compose runs services' requests in threads: the bump is a compare-and-swap, the region is
 * mapped once, and each thread has its own parse window */
static char *_Atomic base, *_Atomic next;
static char *end;
static pthread_once_t map_once = PTHREAD_ONCE_INIT;
static _Thread_local bool open_window;

/* reserve the region at the first use: commands that read no JSON never pay for it */
static void arena_map(void)
{
	/* twice the size, then trim to an aligned window: a huge page needs 2 MiB alignment */
	size_t span = 2 * ARENA_SIZE;
	char *p = mmap(NULL, span, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return; /* base stays NULL: everything comes from malloc */
	char *a = (char *)(((uintptr_t)p + ARENA_SIZE - 1) & ~(uintptr_t)(ARENA_SIZE - 1));

	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + span > a + ARENA_SIZE)
		munmap(a + ARENA_SIZE, (size_t)(p + span - (a + ARENA_SIZE)));
	/* advice only: without THP the region still works, in small pages */
	madvise(a, ARENA_SIZE, MADV_HUGEPAGE);
	end = a + ARENA_SIZE;
	atomic_store(&next, a);
	atomic_store(&base, a); /* last: a thread that sees base sees end */
}

bool cli_arena_owns(const void *p)
{
	const char *b = atomic_load(&base);

	return b && (const char *)p >= b && (const char *)p < b + ARENA_SIZE;
}

void *cli_arena_take(size_t n)
{
	size_t size = n ? (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1) : ARENA_ALIGN;

	pthread_once(&map_once, arena_map);
	if (atomic_load(&base) && size >= n) {
		char *p = atomic_load_explicit(&next, memory_order_relaxed);

		while (size <= (size_t)(end - p))
			if (atomic_compare_exchange_weak_explicit(&next, &p, p + size,
								  memory_order_relaxed,
								  memory_order_relaxed))
				return p; /* never handed out before: the zeros of a fresh mapping */
	}
	return calloc(1, n ? n : 1);
}

void *cli_arena_alloc(size_t n)
{
	return open_window ? cli_arena_take(n) : malloc(n);
}

void cli_arena_free(void *p)
{
	if (!cli_arena_owns(p))
		free(p);
}

void cli_arena_open(void)
{
	open_window = true;
}

void cli_arena_close(void)
{
	open_window = false;
}

void cli_arena_install(void)
{
#ifndef __SANITIZE_ADDRESS__
	json_set_alloc_funcs(cli_arena_alloc, cli_arena_free);
#endif
}
