/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "net/net.h"

/*
 * Enter the network namespace netns_fd in the calling thread only (-1: stay), keeping a handle
 * on the thread's own in *ret_self for net_leave.  A netns is per thread, so berthd's other
 * threads are not affected.
 */
int net_enter(int netns_fd, int *ret_self, struct berth_error **err);

/* Go back; aborts if that fails, since the thread would serve its next request elsewhere. */
void net_leave(int self);
