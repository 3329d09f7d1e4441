/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "net/net.h"

/* Load libnftables (dlopen'ed on first use, nft-dl.c): 0, or -ELIBACC with err naming it. */
int net_nft_load(struct berth_error **err);

/*
 * Enter the network namespace netns_fd in the calling thread only (-1: stay), keeping a handle
 * on the thread's own in *ret_self for net_leave.  A netns is per thread, so berthd's other
 * threads are not affected.
 */
int net_enter(int netns_fd, int *ret_self, struct berth_error **err);

/* Go back; aborts if that fails, since the thread would serve its next request elsewhere. */
void net_leave(int self);
