/* SPDX-License-Identifier: Apache-2.0 */
/* Docker's stream framing: multiplexed stdout/stderr frames and json-lines progress messages. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "server-internal.h"
#include "base/banned.h"

#define FRAME_MAX (1024 * 1024)

void berth_frame_header(uint8_t hdr[BERTH_FRAME_HEADER_SIZE], enum berth_stream_id stream,
			uint32_t len)
{
	hdr[0] = (uint8_t)stream;
	hdr[1] = hdr[2] = hdr[3] = 0;
	hdr[4] = (uint8_t)(len >> 24);
	hdr[5] = (uint8_t)(len >> 16);
	hdr[6] = (uint8_t)(len >> 8);
	hdr[7] = (uint8_t)len;
}

int berth_frame_header_parse(const uint8_t hdr[BERTH_FRAME_HEADER_SIZE],
			     enum berth_stream_id *ret_stream, uint32_t *ret_len)
{
	if (hdr[0] > 2 || hdr[1] || hdr[2] || hdr[3])
		return -EINVAL;
	*ret_stream = (enum berth_stream_id)hdr[0];
	*ret_len = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 |
		   (uint32_t)hdr[7];
	return 0;
}

/* data cut into frames of FRAME_MAX at most (one empty frame for no data), each written by put */
static int write_frames(int (*put)(void *to, const void *p, size_t n), void *to,
			enum berth_stream_id stream, const void *data, size_t len)
{
	const char *p = data;

	do {
		uint8_t hdr[BERTH_FRAME_HEADER_SIZE];
		size_t n = len > FRAME_MAX ? FRAME_MAX : len;
		int r;

		berth_frame_header(hdr, stream, (uint32_t)n);
		r = put(to, hdr, sizeof(hdr));
		if (r == 0 && n)
			r = put(to, p, n);
		if (r < 0)
			return r;
		p += n;
		len -= n;
	} while (len);
	return 0;
}

static int put_request(void *req, const void *p, size_t n)
{
	return berth_http_stream_write(req, p, n);
}

int berth_http_stream_frame(struct berth_http_request *req, enum berth_stream_id stream,
			    const void *data, size_t len)
{
	return write_frames(put_request, req, stream, data, len);
}

static int put_fd(void *fd, const void *p, size_t n)
{
	return send_all(*(int *)fd, p, n);
}

int berth_frame_write_fd(int fd, enum berth_stream_id stream, const void *data, size_t len)
{
	return write_frames(put_fd, &fd, stream, data, len);
}

static int stream_json_crlf(struct berth_http_request *req, json_t *j)
{
	_cleanup_free_ char *text = NULL;

	if (!j)
		return -ENOMEM;
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	int r = berth_http_stream_printf(req, "%s\r\n", text);
	return r < 0 ? r : berth_http_stream_flush(req);
}

int berth_http_stream_progress(struct berth_http_request *req, const char *id, const char *status,
			       const char *progress, int64_t current, int64_t total)
{
	json_t *j = json_object();

	if (!j)
		return -ENOMEM;
	if (status)
		json_object_set_new(j, "status", json_string(status));
	if (current >= 0 || total >= 0) {
		json_t *d = json_object();
		if (current >= 0)
			json_object_set_new(d, "current", json_integer(current));
		if (total >= 0)
			json_object_set_new(d, "total", json_integer(total));
		json_object_set_new(j, "progressDetail", d);
	}
	if (progress)
		json_object_set_new(j, "progress", json_string(progress));
	if (id)
		json_object_set_new(j, "id", json_string(id));
	return stream_json_crlf(req, j);
}

int berth_http_stream_progress_error(struct berth_http_request *req, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return -ENOMEM;
	return stream_json_crlf(
		req, json_pack("{s:{s:s},s:s}", "errorDetail", "message", msg, "error", msg));
}
