/* SPDX-License-Identifier: Apache-2.0 */
/* Capability names and numbers, for the runtime (OCI process.capabilities) and dockerspec. */
#include <string.h>

#include "core.h"
#include "banned.h"

/* Index = capability number, as in linux/capability.h. */
static const char *const cap_table[] = {
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

_Static_assert(ARRAY_SIZE(cap_table) <= 64, "capability masks are 64 bits wide");

int berth_cap_from_name(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(cap_table); i++)
		if (strcmp(cap_table[i], name) == 0)
			return (int)i;
	return -1;
}

const char *berth_cap_name(int cap)
{
	if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_table))
		return NULL;
	return cap_table[cap];
}

int berth_cap_last(void)
{
	return (int)ARRAY_SIZE(cap_table) - 1;
}
