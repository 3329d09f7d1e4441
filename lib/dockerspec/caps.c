/* SPDX-License-Identifier: Apache-2.0 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dockerspec-internal.h"
#include "base/banned.h"

/* capability(7) numbers; the names are the kernel's */
static const char *const cap_names[] = {
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_SETGID",
	"CAP_SETUID",
	"CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",
	"CAP_NET_RAW",
	"CAP_IPC_LOCK",
	"CAP_IPC_OWNER",
	"CAP_SYS_MODULE",
	"CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE",
	"CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",
	"CAP_SYS_BOOT",
	"CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",
	"CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",
	"CAP_LEASE",
	"CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",
	"CAP_SETFCAP",
	"CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",
	"CAP_SYSLOG",
	"CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",
	"CAP_AUDIT_READ",
	"CAP_PERFMON",
	"CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

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

int dockerspec_cap_number(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
		if (strcmp(cap_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *dockerspec_cap_name(int n)
{
	if (n < 0 || (size_t)n >= ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[n];
}

int dockerspec_cap_max(void)
{
	return (int)ARRAY_SIZE(cap_names) - 1;
}

json_t *berth_dockerspec_all_caps(const struct berth_dockerspec_host *host)
{
	json_t *a = json_array();

	for (int n = 0; a && n <= dockerspec_cap_max(); n++)
		if (berth_dockerspec_cap_available(host, n) &&
		    json_array_append_new(a, json_string(dockerspec_cap_name(n))) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

bool berth_dockerspec_cap_available(const struct berth_dockerspec_host *host, int n)
{
	if (n < 0 || n > dockerspec_cap_max())
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
	n = dockerspec_cap_number(up);
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
