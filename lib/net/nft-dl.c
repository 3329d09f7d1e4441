/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libnftables, loaded when a network first needs rules (base/dl.h says why and how): with it
 * come libxtables and libgmp, which berthd without published ports or bridges never uses.
 */
#include <errno.h>
#include <stdint.h>

#include <nftables/libnftables.h>

#include "net/net-internal.h"
#include "base/dl.h"

#include "base/banned.h"

/* clang-format off */
#define NFT_FUNCS(X)                                                                               \
	X(BERTH_DL_NEW, struct nft_ctx *, nft_ctx_new, (uint32_t flags), (flags))                  \
	X(BERTH_DL_VOID, void, nft_ctx_free, (struct nft_ctx *c), (c))                             \
	X(BERTH_DL_FN, int, nft_ctx_buffer_output, (struct nft_ctx *c), (c))                       \
	X(BERTH_DL_FN, int, nft_ctx_buffer_error, (struct nft_ctx *c), (c))                        \
	X(BERTH_DL_FN, const char *, nft_ctx_get_error_buffer, (struct nft_ctx *c), (c))           \
	X(BERTH_DL_FN, int, nft_run_cmd_from_buffer, (struct nft_ctx *c, const char *buf),         \
	  (c, buf))
/* clang-format on */

enum { NFT_FUNCS(BERTH_DL_INDEX) NFT_COUNT };

static const char *const names[] = {NFT_FUNCS(BERTH_DL_NAMES)};
static void *ptrs[NFT_COUNT];

static struct berth_dl berth_dl_self = {
	.soname = "libnftables.so.1",
	.names = names,
	.n = NFT_COUNT,
	.ptrs = ptrs,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

NFT_FUNCS(BERTH_DL_DEFINE)

int net_nft_load(struct berth_error **err)
{
	return berth_dl_load(&berth_dl_self, err);
}
