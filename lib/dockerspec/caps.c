/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dockerspec-internal.h"
#include "base/banned.h"

/* docker's default set (oci/caps/defaults.go), in its order */
const char *const berth_dockerspec_default_caps[] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FSETID",
	"CAP_FOWNER",
	"CAP_MKNOD",
	"CAP_NET_RAW",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETFCAP",
	"CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT",
	"CAP_KILL",
	"CAP_AUDIT_WRITE",
	NULL,
};

json_t *berth_dockerspec_all_caps(const struct berth_dockerspec_host *host)
{
	json_t *a = json_array();

	for (int n = 0; a && n <= berth_cap_last(); n++)
		if (berth_dockerspec_cap_available(host, n) &&
		    json_array_append_new(a, json_string(berth_cap_name(n))) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

bool berth_dockerspec_cap_available(const struct berth_dockerspec_host *host, int n)
{
	if (n < 0 || n > berth_cap_last())
		return false;
	if (!host)
		return true;
	if (host->cap_last_cap >= 0 && n > host->cap_last_cap)
		return false;
	return host->cap_effective == 0 || (host->cap_effective & (1ULL << n));
}

char *berth_dockerspec_cap_normalize(const char *name, const struct berth_dockerspec_host *host,
				     struct berth_error **err)
{
	_cleanup_free_ char *up = NULL;
	char *out;
	size_t len = strlen(name);
	int n;

	/* docker upper-cases, then adds CAP_ unless it is there or the name is ALL */
	up = malloc(len + 5);
	if (!up) {
		berth_error_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i <= len; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	if (strcmp(up, "ALL") == 0)
		return TAKE_PTR(up);
	if (!berth_str_has_prefix(up, "CAP_")) {
		memmove(up + 4, up, len + 1);
		memcpy(up, "CAP_", 4);
	}
	n = berth_cap_from_name(up);
	if (n < 0) {
		berth_error_set(err, EINVAL, "unknown capability: \"%s\"", up);
		return NULL;
	}
	if (!berth_dockerspec_cap_available(host, n)) {
		berth_error_set(err, EINVAL,
				"capability not supported by your kernel or not available in the "
				"current environment: \"%s\"",
				up);
		return NULL;
	}
	out = TAKE_PTR(up);
	return out;
}
