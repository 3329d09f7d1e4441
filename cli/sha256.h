/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * SHA-256 (FIPS 180-4) for the CLI's context store, whose directories are named by the hex digest
 * of a context's name as docker names them.  Small and self-contained: loading nettle at start
 * would cost every command its dlopen.
 */

#include <stddef.h>

#define SHA256_HEX_LEN 64

/* The lowercase hex digest of data[0..len) into out (SHA256_HEX_LEN + 1 bytes, NUL-ended). */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
