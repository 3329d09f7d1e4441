/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Name tables of the OCI spec: namespaces, capabilities, rlimits.  Capabilities come from a table
 * of our own rather than libcap so that a name means the same number whatever libcap the host has.
 */
#include <sched.h>
#include <string.h>
#include <sys/resource.h>

#include "runtime/spec.h"
#include "base/banned.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080 /* glibc < 2.36 lacks it; the kernel has had it since 5.6 */
#endif

static const struct {
	const char *name;      /* as config.json writes it */
	const char *proc_name; /* as /proc/PID/ns/ names it */
	int clone_flag;
} ns_table[BERTH_NS_COUNT] = {
	[BERTH_NS_PID] = {"pid", "pid", CLONE_NEWPID},
	[BERTH_NS_NETWORK] = {"network", "net", CLONE_NEWNET},
	[BERTH_NS_MOUNT] = {"mount", "mnt", CLONE_NEWNS},
	[BERTH_NS_IPC] = {"ipc", "ipc", CLONE_NEWIPC},
	[BERTH_NS_UTS] = {"uts", "uts", CLONE_NEWUTS},
	[BERTH_NS_USER] = {"user", "user", CLONE_NEWUSER},
	[BERTH_NS_CGROUP] = {"cgroup", "cgroup", CLONE_NEWCGROUP},
	[BERTH_NS_TIME] = {"time", "time", CLONE_NEWTIME},
};

const char *berth_ns_name(enum berth_ns_type t)
{
	if ((unsigned)t >= BERTH_NS_COUNT)
		return NULL;
	return ns_table[t].name;
}

int berth_ns_clone_flag(enum berth_ns_type t)
{
	if ((unsigned)t >= BERTH_NS_COUNT)
		return 0;
	return ns_table[t].clone_flag;
}

const char *berth_ns_proc_name(enum berth_ns_type t)
{
	if ((unsigned)t >= BERTH_NS_COUNT)
		return NULL;
	return ns_table[t].proc_name;
}

int berth_ns_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < BERTH_NS_COUNT; i++)
		if (strcmp(ns_table[i].name, name) == 0)
			return i;
	return -1;
}

static const struct {
	const char *name;
	int resource;
} rlimit_table[] = {
	{"RLIMIT_AS", RLIMIT_AS},
	{"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},
	{"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},
	{"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
	{"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},
	{"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},
	{"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
	{"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_STACK", RLIMIT_STACK},
};

int berth_rlimit_from_name(const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_table); i++)
		if (strcmp(rlimit_table[i].name, name) == 0)
			return rlimit_table[i].resource;
	return -1;
}
