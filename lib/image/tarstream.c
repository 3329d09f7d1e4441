/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a tar that may be compressed, hashing it twice on the way: the raw bytes (the blob's
 * digest) and the uncompressed bytes (the layer's diff id).  Two libarchive readers in a row: the
 * first, "raw" format with the gzip and zstd filters, turns the input into the uncompressed byte
 * stream; the second reads tar entries from that stream through a callback that hashes and counts
 * every byte it passes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image-internal.h"

#include "base/banned.h"

#define RAW_BUF (64 * 1024)

static uint64_t progress_step(const struct berth_image_progress *p)
{
	/* docker's progress reader reports every 512 KiB; bound big layers to ~100 reports */
	uint64_t step = p->total / 100;
	return step < (512 * 1024) ? 512 * 1024 : step;
}

void img_progress(struct img_tar_stream *ts, bool force)
{
	if (!ts->progress || !ts->progress->fn)
		return;
	ts->prog.current = ts->raw_bytes;
	if (!force && ts->prog.current - ts->prog_last < progress_step(&ts->prog))
		return;
	ts->prog_last = ts->prog.current;
	ts->progress->fn(ts->progress->userdata, &ts->prog);
}

static ssize_t read_raw(struct img_tar_stream *ts, void *buf, size_t size)
{
	ssize_t n;
	struct berth_error *e = NULL;

	do
		n = read(ts->fd, buf, size);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		ts->io_error = -errno;
		return -1;
	}
	if (!ts->no_hash)
		img_sha256_update(&ts->raw_hash, buf, (size_t)n);
	ts->raw_bytes += (uint64_t)n;
	if (ts->tee && n > 0 && berth_blob_writer_write(ts->tee, buf, (size_t)n, &e) < 0) {
		ts->io_error = -(e ? e->code : EIO);
		berth_error_free(e);
		return -1;
	}
	img_progress(ts, false);
	return n;
}

static la_ssize_t raw_read_cb(struct archive *a, void *ud, const void **buf)
{
	struct img_tar_stream *ts = ud;
	char *raw = ts->buf; /* the first half feeds the decompressor */
	ssize_t n = read_raw(ts, raw, RAW_BUF / 2);

	if (n < 0) {
		archive_set_error(a, -ts->io_error, "read: %s", strerror(-ts->io_error));
		return -1;
	}
	*buf = raw;
	return n;
}

ssize_t img_tar_stream_read(struct img_tar_stream *ts, void *out, size_t size)
{
	ssize_t n = archive_read_data(ts->decomp, out, size);

	if (n < 0)
		return -1;
	if ((uint64_t)n > ts->max_tar_bytes - ts->tar_bytes) {
		ts->too_big = true;
		return -1;
	}
	if (!ts->no_hash)
		img_sha256_update(&ts->tar_hash, out, (size_t)n);
	ts->tar_bytes += (uint64_t)n;
	return n;
}

static la_ssize_t tar_read_cb(struct archive *a, void *ud, const void **buf)
{
	struct img_tar_stream *ts = ud;
	char *out = ts->buf + RAW_BUF / 2; /* the second half feeds the tar reader */
	ssize_t n = img_tar_stream_read(ts, out, RAW_BUF / 2);

	if (n < 0) {
		const char *msg = archive_error_string(ts->decomp);
		if (ts->too_big)
			archive_set_error(a, EFBIG, "larger than %llu bytes",
					  (unsigned long long)ts->max_tar_bytes);
		else
			archive_set_error(a, archive_errno(ts->decomp), "%s",
					  msg ? msg : "decompress");
		return -1;
	}
	*buf = out;
	return n;
}

int img_tar_stream_error(struct img_tar_stream *ts, struct archive *a, const char *what,
			 struct berth_error **err)
{
	const char *msg = a ? archive_error_string(a) : NULL;

	if (ts->io_error)
		return berth_error_sys(err, -ts->io_error, "%s", what);
	if (ts->too_big)
		return berth_error_set(err, EFBIG, "%s: larger than %llu bytes uncompressed", what,
				       (unsigned long long)ts->max_tar_bytes);
	return berth_error_set(err, EINVAL, "%s: %s", what, msg ? msg : "malformed tar stream");
}

int img_tar_stream_open(struct img_tar_stream *ts, int fd, uint64_t max_tar_bytes, bool tar,
			struct berth_error **err)
{
	struct archive_entry *e;
	int r;

	/* callers set tee, progress and prog before opening; keep them */
	ts->fd = fd;
	ts->max_tar_bytes = max_tar_bytes;
	ts->buf = malloc(RAW_BUF);
	if (!ts->buf || img_sha256_init(&ts->raw_hash) < 0 || img_sha256_init(&ts->tar_hash) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");

	ts->decomp = archive_read_new();
	if (!ts->decomp)
		return img_archive_new_failed(err);
	archive_read_support_filter_gzip(ts->decomp);
	archive_read_support_filter_zstd(ts->decomp);
	archive_read_support_format_raw(ts->decomp);
	if (archive_read_open(ts->decomp, ts, NULL, raw_read_cb, NULL) != ARCHIVE_OK)
		return img_tar_stream_error(ts, ts->decomp, "read stream", err);
	r = archive_read_next_header(ts->decomp, &e);
	if (r == ARCHIVE_EOF)
		return berth_error_set(err, EINVAL, "read stream: empty");
	if (r < ARCHIVE_WARN)
		return img_tar_stream_error(ts, ts->decomp, "read stream", err);
	if (!tar)
		return 0;

	ts->tar = archive_read_new();
	if (!ts->tar)
		return img_archive_new_failed(err);
	archive_read_support_format_tar(ts->tar);
	archive_read_support_format_empty(ts->tar);
	if (archive_read_open(ts->tar, ts, NULL, tar_read_cb, NULL) != ARCHIVE_OK)
		return img_tar_stream_error(ts, ts->tar, "read tar", err);
	return 0;
}

int img_tar_stream_drain(struct img_tar_stream *ts, struct berth_error **err)
{
	for (;;) {
		ssize_t n = img_tar_stream_read(ts, ts->buf + RAW_BUF / 2, RAW_BUF / 2);
		if (n < 0)
			return img_tar_stream_error(ts, ts->decomp, "read stream", err);
		if (n == 0)
			break;
	}
	for (;;) {
		ssize_t n = read_raw(ts, ts->buf, RAW_BUF / 2);
		if (n < 0)
			return berth_error_sys(err, -ts->io_error, "read");
		if (n == 0)
			break;
	}
	img_sha256_final(&ts->raw_hash, ts->raw_digest);
	img_sha256_final(&ts->tar_hash, ts->tar_digest);
	img_progress(ts, true);
	return 0;
}

void img_tar_stream_close(struct img_tar_stream *ts)
{
	if (ts->tar)
		archive_read_free(ts->tar);
	if (ts->decomp)
		archive_read_free(ts->decomp);
	ts->tar = ts->decomp = NULL;
	img_sha256_release(&ts->raw_hash);
	img_sha256_release(&ts->tar_hash);
	free(ts->buf);
	ts->buf = NULL;
}
