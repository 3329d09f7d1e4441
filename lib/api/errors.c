/* SPDX-License-Identifier: Apache-2.0 */
/* The one table from berth_error codes to HTTP statuses (Docker's errdefs classes). */
#include <errno.h>
#include <stddef.h>

#include "api.h"
#include "base/banned.h"

int berth_api_error_status(int code)
{
	switch (code) {
	case EINVAL:
	case ERANGE:
	case EDOM:
	case EBADMSG:
	case ENAMETOOLONG:
	case EILSEQ:
		return 400; /* errdefs.InvalidParameter */
	case EKEYREJECTED:
		return 401; /* Unauthorized */
	case EACCES:
		return 403; /* Forbidden */
	case ENOENT:
	case ESRCH:
	case ENXIO:
		return 404; /* NotFound */
	case EEXIST:
	case EBUSY:
	case ENOTEMPTY:
		return 409; /* Conflict */
	case EALREADY:
		return 304; /* NotModified: already started, already stopped */
	case EFBIG:
	case E2BIG:
	case EMSGSIZE:
		return 413;
	case ENOSYS:
	case EOPNOTSUPP:
		return 501; /* NotImplemented */
	case EAGAIN:
		return 503; /* Unavailable */
	case ETIMEDOUT:
		return 504; /* Deadline */
	default:
		return 500; /* System */
	}
}

const char *berth_http_status_text(int status)
{
	static const struct {
		int status;
		const char *text;
	} table[] = {
		{100, "Continue"},
		{101, "Switching Protocols"},
		{200, "OK"},
		{201, "Created"},
		{204, "No Content"},
		{304, "Not Modified"},
		{400, "Bad Request"},
		{401, "Unauthorized"},
		{403, "Forbidden"},
		{404, "Not Found"},
		{405, "Method Not Allowed"},
		{408, "Request Timeout"},
		{409, "Conflict"},
		{411, "Length Required"},
		{413, "Request Entity Too Large"},
		{414, "Request URI Too Long"},
		{417, "Expectation Failed"},
		{431, "Request Header Fields Too Large"},
		{500, "Internal Server Error"},
		{501, "Not Implemented"},
		{503, "Service Unavailable"},
		{504, "Gateway Timeout"},
		{505, "HTTP Version Not Supported"},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].status == status)
			return table[i].text;
	return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
}
