/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/linux.h"
#include "tap.h"

#include "base/banned.h"

/* JSON written with ' for " so that the documents below stay readable. */
static char *q(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static const char *full_config =
	"{'ociVersion': '1.2.0',"
	" 'root': {'path': 'rootfs', 'readonly': true},"
	" 'mounts': ["
	"  {'destination': '/proc', 'type': 'proc', 'source': 'proc'},"
	"  {'destination': 'data', 'type': 'none', 'source': '/srv/data',"
	"   'options': ['rbind', 'ro', 'nosuid', 'rslave', 'rnoexec', 'idmap'],"
	"   'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],"
	"   'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 65536}]},"
	"  {'destination': '/dev/shm', 'type': 'tmpfs', 'source': 'shm',"
	"   'options': ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k']}"
	" ],"
	" 'process': {"
	"  'terminal': true, 'consoleSize': {'height': 24, 'width': 80},"
	"  'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 6, 7]},"
	"  'args': ['sh', '-c', 'echo hi'],"
	"  'env': ['PATH=/bin', 'TERM=xterm'],"
	"  'cwd': '/home',"
	"  'capabilities': {'bounding': ['CAP_KILL', 'CAP_SYS_ADMIN'], 'effective': ['CAP_KILL'],"
	"   'inheritable': [], 'permitted': ['CAP_KILL', 'CAP_CHECKPOINT_RESTORE'],"
	"   'ambient': ['CAP_NET_BIND_SERVICE']},"
	"  'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1024, 'hard': 4096},"
	"              {'type': 'RLIMIT_CORE', 'soft': 18446744073709551615,"
	"               'hard': 18446744073709551615}],"
	"  'noNewPrivileges': true, 'oomScoreAdj': -500,"
	"  'apparmorProfile': 'berth-default', 'selinuxLabel': 'system_u:system_r:container_t:s0',"
	"  'ioPriority': {'class': 'IOPRIO_CLASS_BE', 'priority': 4},"
	"  'scheduler': {'policy': 'SCHED_BATCH', 'nice': 5, 'priority': 0,"
	"   'flags': ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_KEEP_PARAMS'],"
	"   'runtime': 100, 'deadline': 200, 'period': 300},"
	"  'execCPUAffinity': {'initial': '0-1', 'final': '1'}"
	" },"
	" 'hostname': 'box', 'domainname': 'example.org',"
	" 'hooks': {"
	"  'prestart': [{'path': '/bin/pre', 'args': ['pre', 'x'], 'env': ['A=1'], 'timeout': 5}],"
	"  'createRuntime': [{'path': '/bin/cr'}, {'path': '/bin/cr2'}],"
	"  'createContainer': [{'path': '/bin/cc'}],"
	"  'startContainer': [{'path': '/bin/sc'}],"
	"  'poststart': [{'path': '/bin/ps'}],"
	"  'poststop': [{'path': '/bin/pst', 'timeout': 1}]"
	" },"
	" 'annotations': {'org.example.a': '1', 'org.example.b': 'two'},"
	" 'someFutureField': {'ignored': true},"
	" 'linux': {"
	"  'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1},"
	"                  {'containerID': 1, 'hostID': 100000, 'size': 65535}],"
	"  'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}],"
	"  'sysctl': {'net.ipv4.ip_forward': '1', 'kernel.msgmax': '8192'},"
	"  'resources': {"
	"   'devices': [{'allow': false, 'access': 'rwm'},"
	"               {'allow': true, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'rw'}],"
	"   'memory': {'limit': 536870912, 'reservation': 268435456, 'swap': 1073741824,"
	"              'kernel': -1, 'kernelTCP': 1048576, 'swappiness': 60,"
	"              'disableOOMKiller': true, 'useHierarchy': false},"
	"   'cpu': {'shares': 512, 'quota': 50000, 'burst': 1000, 'period': 100000,"
	"           'realtimeRuntime': 950000, 'realtimePeriod': 1000000, 'cpus': '0-1',"
	"           'mems': '0', 'idle': 1},"
	"   'pids': {'limit': 100},"
	"   'blockIO': {'weight': 500, 'leafWeight': 300,"
	"    'weightDevice': [{'major': 8, 'minor': 0, 'weight': 600}],"
	"    'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 1048576}],"
	"    'throttleWriteBpsDevice': [{'major': 8, 'minor': 16, 'rate': 2097152}],"
	"    'throttleReadIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 100}],"
	"    'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 200},"
	"                                {'major': 8, 'minor': 32, 'rate': 300}]},"
	"   'hugepageLimits': [{'pageSize': '2MB', 'limit': 209715200}],"
	"   'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 5}]},"
	"   'rdma': {'mlx5_1': {'hcaHandles': 3, 'hcaObjects': 10000}, 'mlx4_0': {'hcaHandles': "
	"2}},"
	"   'unified': {'memory.high': '400000000', 'io.weight': 'default 50'}"
	"  },"
	"  'cgroupsPath': '/berth/test',"
	"  'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/var/run/netns/x'},"
	"                 {'type': 'mount'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'user'},"
	"                 {'type': 'cgroup'}, {'type': 'time'}],"
	"  'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229,"
	"               'fileMode': 438, 'uid': 0, 'gid': 0},"
	"              {'path': '/dev/fifo', 'type': 'p'}],"
	"  'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38,"
	"   'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],"
	"   'flags': ['SECCOMP_FILTER_FLAG_LOG'],"
	"   'listenerPath': '/run/agent.sock', 'listenerMetadata': 'meta',"
	"   'syscalls': ["
	"    {'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},"
	"    {'names': ['mkdir'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1},"
	"    {'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',"
	"     'args': [{'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'},"
	"              {'index': 5, 'value': 18446744073709551615, 'valueTwo': 4,"
	"               'op': 'SCMP_CMP_MASKED_EQ'}]},"
	"    {'names': ['kill'], 'action': 'SCMP_ACT_KILL_PROCESS'},"
	"    {'names': ['ptrace'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 7},"
	"    {'names': ['uname'], 'action': 'SCMP_ACT_NOTIFY'}"
	"   ]},"
	"  'rootfsPropagation': 'rslave',"
	"  'maskedPaths': ['/proc/kcore', '/sys/firmware'],"
	"  'readonlyPaths': ['/proc/sys'],"
	"  'mountLabel': 'system_u:object_r:container_file_t:s0',"
	"  'personality': {'domain': 'LINUX32', 'flags': ['ADDR_NO_RANDOMIZE']},"
	"  'timeOffsets': {'monotonic': {'secs': -10, 'nanosecs': 5},"
	"                  'boottime': {'secs': 3600}}"
	" }"
	"}";

static const char *minimal_config = "{'ociVersion': '1.0.0', 'root': {'path': '/abs/rootfs'},"
				    " 'process': {'args': ['true'], 'cwd': '/'}}";

static struct berth_spec *parse_q(const char *text, int *ret, struct berth_error **err)
{
	char *doc = q(text);
	struct berth_spec *s = NULL;

	*ret = berth_spec_parse(doc, strlen(doc), &s, err);
	free(doc);
	return s;
}

static void test_full(void)
{
	struct berth_error *err = NULL;
	struct berth_spec *s;
	int r;

	s = parse_q(full_config, &r, &err);
	if (!ok(r == 0, "full config parses") || !s) {
		printf("#   %s\n", err ? err->msg : "(no error)");
		berth_error_free(err);
		return;
	}
	ok(s->json && json_is_object(s->json), "document kept");
	is_str(s->oci_version, "1.2.0", "ociVersion");
	is_str(s->root_path, "rootfs", "root.path");
	ok(s->root_readonly, "root.readonly");

	/* mounts */
	is(s->n_mounts, 3, "three mounts");
	is_str(s->mounts[0].destination, "/proc", "mount 0 destination");
	is_str(s->mounts[0].type, "proc", "mount 0 type");
	ok(s->mounts[0].options == NULL && s->mounts[0].data == NULL, "mount 0 has no options");
	is_str(s->mounts[1].destination, "/data", "relative destination joined to /");
	is_str(s->mounts[1].source, "/srv/data", "mount 1 source");
	ok(s->mounts[1].bind && s->mounts[1].recursive, "rbind decoded");
	is(s->mounts[1].flags, MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID, "mount 1 flags");
	is(s->mounts[1].propagation, MS_SLAVE | MS_REC, "mount 1 propagation");
	is(s->mounts[1].attr_set, MOUNT_ATTR_NOEXEC, "mount 1 recursive attrs");
	ok(s->mounts[1].idmap && !s->mounts[1].idmap_recursive, "mount 1 idmap");
	is(s->mounts[1].n_uid_mappings, 1, "mount 1 uid mappings");
	is(s->mounts[1].uid_mappings[0].host_id, 100000, "mount 1 uid host id");
	is(s->mounts[1].gid_mappings[0].host_id, 200000, "mount 1 gid host id");
	is(s->mounts[1].gid_mappings[0].size, 65536, "mount 1 gid size");
	is_str(s->mounts[2].data, "mode=1777,size=65536k", "mount 2 filesystem data");
	is(s->mounts[2].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV, "mount 2 flags");

	/* process */
	struct berth_process *p = s->process;
	ok(p != NULL, "process present");
	ok(p->terminal, "terminal");
	is(p->console_height, 24, "consoleSize.height");
	is(p->console_width, 80, "consoleSize.width");
	is(p->uid, 1000, "uid");
	is(p->gid, 1001, "gid");
	is(p->umask, 022, "umask");
	is(p->n_additional_gids, 3, "additionalGids count");
	is(p->additional_gids[2], 7, "additionalGids[2]");
	is(berth_strv_length(p->args), 3, "args count");
	is_str(p->args[2], "echo hi", "args[2]");
	is_str(p->env[1], "TERM=xterm", "env[1]");
	is_str(p->cwd, "/home", "cwd");
	ok(p->caps.present, "capabilities present");
	is(p->caps.bounding, (1ULL << 5) | (1ULL << 21), "bounding = KILL|SYS_ADMIN");
	is(p->caps.effective, 1ULL << 5, "effective = KILL");
	is(p->caps.inheritable, 0, "inheritable empty");
	is(p->caps.permitted, (1ULL << 5) | (1ULL << 40), "permitted = KILL|CHECKPOINT_RESTORE");
	is(p->caps.ambient, 1ULL << 10, "ambient = NET_BIND_SERVICE");
	is(p->n_rlimits, 2, "two rlimits");
	is(p->rlimits[0].resource, RLIMIT_NOFILE, "rlimit 0 type");
	is(p->rlimits[0].soft, 1024, "rlimit 0 soft");
	is(p->rlimits[0].hard, 4096, "rlimit 0 hard");
	is(p->rlimits[1].resource, RLIMIT_CORE, "rlimit 1 type");
	ok(p->rlimits[1].soft == UINT64_MAX && p->rlimits[1].hard == UINT64_MAX,
	   "2^64-1 (RLIM_INFINITY) survives jansson");
	ok(p->no_new_privileges, "noNewPrivileges");
	is(p->oom_score_adj, -500, "oomScoreAdj");
	is_str(p->apparmor_profile, "berth-default", "apparmorProfile");
	is_str(p->selinux_label, "system_u:system_r:container_t:s0", "selinuxLabel");
	is(p->io_priority_class, 2, "ioPriority.class BE");
	is(p->io_priority, 4, "ioPriority.priority");
	ok(p->has_scheduler, "scheduler present");
	is(p->sched_policy, SCHED_BATCH, "scheduler.policy");
	is(p->sched_nice, 5, "scheduler.nice");
	is(p->sched_flags, 0x11, "scheduler.flags");
	ok(p->sched_runtime == 100 && p->sched_deadline == 200 && p->sched_period == 300,
	   "scheduler runtime/deadline/period");
	is_str(p->exec_cpu_affinity_initial, "0-1", "execCPUAffinity.initial");
	is_str(p->exec_cpu_affinity_final, "1", "execCPUAffinity.final");

	is_str(s->hostname, "box", "hostname");
	is_str(s->domainname, "example.org", "domainname");

	/* hooks */
	is(s->hooks.prestart.n, 1, "one prestart hook");
	is_str(s->hooks.prestart.hooks[0].path, "/bin/pre", "prestart path");
	is_str(s->hooks.prestart.hooks[0].args[1], "x", "prestart args");
	is_str(s->hooks.prestart.hooks[0].env[0], "A=1", "prestart env");
	is(s->hooks.prestart.hooks[0].timeout, 5, "prestart timeout");
	is(s->hooks.create_runtime.n, 2, "two createRuntime hooks");
	is_str(s->hooks.create_runtime.hooks[1].path, "/bin/cr2", "createRuntime[1]");
	is(s->hooks.create_runtime.hooks[1].timeout, 0, "no timeout = 0");
	is_str(s->hooks.create_container.hooks[0].path, "/bin/cc", "createContainer");
	is_str(s->hooks.start_container.hooks[0].path, "/bin/sc", "startContainer");
	is_str(s->hooks.poststart.hooks[0].path, "/bin/ps", "poststart");
	is(s->hooks.poststop.hooks[0].timeout, 1, "poststop timeout");

	is(s->n_annotations, 2, "two annotations");
	is_str(s->annotations[1].key, "org.example.b", "annotation key in order");
	is_str(s->annotations[1].value, "two", "annotation value");

	/* linux */
	struct berth_linux *l = &s->linux_;
	is(l->n_uid_mappings, 2, "uidMappings");
	is(l->uid_mappings[1].container_id, 1, "uidMappings[1].containerID");
	is(l->uid_mappings[1].size, 65535, "uidMappings[1].size");
	is(l->n_gid_mappings, 1, "gidMappings");
	is(l->n_sysctl, 2, "sysctl");
	is_str(l->sysctl[0].key, "net.ipv4.ip_forward", "sysctl key");
	is_str(l->sysctl[1].value, "8192", "sysctl value");
	is_str(l->cgroups_path, "/berth/test", "cgroupsPath");

	struct berth_resources *res = l->resources;
	ok(res != NULL, "resources present");
	is(res->n_devices, 2, "resources.devices");
	ok(!res->devices[0].allow && res->devices[0].type == 'a' && res->devices[0].major == -1 &&
		   res->devices[0].minor == -1,
	   "deny-all rule defaults to type a, any major/minor");
	is_str(res->devices[0].access, "rwm", "deny-all access");
	ok(res->devices[1].allow && res->devices[1].type == 'c' && res->devices[1].major == 1 &&
		   res->devices[1].minor == 3,
	   "allow rule c 1:3");
	is_str(res->devices[1].access, "rw", "allow rule access");
	is(res->memory_limit, 536870912, "memory.limit");
	is(res->memory_reservation, 268435456, "memory.reservation");
	is(res->memory_swap, 1073741824, "memory.swap");
	is(res->memory_kernel, -1, "memory.kernel");
	is(res->memory_kernel_tcp, 1048576, "memory.kernelTCP");
	is(res->memory_swappiness, 60, "memory.swappiness");
	is(res->disable_oom_killer, 1, "memory.disableOOMKiller");
	is(res->use_hierarchy, 0, "memory.useHierarchy");
	is(res->cpu_shares, 512, "cpu.shares");
	is(res->cpu_quota, 50000, "cpu.quota");
	is(res->cpu_burst, 1000, "cpu.burst");
	is(res->cpu_period, 100000, "cpu.period");
	is(res->cpu_realtime_runtime, 950000, "cpu.realtimeRuntime");
	is(res->cpu_realtime_period, 1000000, "cpu.realtimePeriod");
	is(res->cpu_idle, 1, "cpu.idle");
	is_str(res->cpu_cpus, "0-1", "cpu.cpus");
	is_str(res->cpu_mems, "0", "cpu.mems");
	is(res->pids_limit, 100, "pids.limit");
	is(res->blkio_weight, 500, "blockIO.weight");
	is(res->blkio_leaf_weight, 300, "blockIO.leafWeight");
	is(res->n_blkio_weight_device, 1, "weightDevice");
	ok(res->blkio_weight_device[0].major == 8 && res->blkio_weight_device[0].weight == 600 &&
		   res->blkio_weight_device[0].leaf_weight == BERTH_UNSET,
	   "weightDevice entry");
	is(res->throttle_read_bps[0].rate, 1048576, "throttleReadBpsDevice");
	is(res->throttle_write_bps[0].minor, 16, "throttleWriteBpsDevice");
	is(res->throttle_read_iops[0].rate, 100, "throttleReadIOPSDevice");
	is(res->n_throttle_write_iops, 2, "throttleWriteIOPSDevice count");
	is(res->throttle_write_iops[1].rate, 300, "throttleWriteIOPSDevice[1]");
	is_str(res->hugepage_limits[0].page_size, "2MB", "hugepageLimits pageSize");
	is(res->hugepage_limits[0].limit, 209715200, "hugepageLimits limit");
	is(res->net_class_id, 1048577, "network.classID");
	is_str(res->net_priorities[0].key, "eth0", "network priority name");
	is_str(res->net_priorities[0].value, "5", "network priority value");
	is(res->n_rdma, 2, "rdma");
	is_str(res->rdma[0].key, "mlx5_1", "rdma device");
	is_str(res->rdma[0].value, "hca_handle=3 hca_object=10000", "rdma value");
	is_str(res->rdma[1].value, "hca_handle=2", "rdma value with one limit");
	is(res->n_unified, 2, "unified");
	is_str(res->unified[1].value, "default 50", "unified value");

	ok(l->namespaces[BERTH_NS_PID].present && !l->namespaces[BERTH_NS_PID].path, "pid ns new");
	is_str(l->namespaces[BERTH_NS_NETWORK].path, "/var/run/netns/x", "network ns path");
	ok(l->namespaces[BERTH_NS_TIME].present && l->namespaces[BERTH_NS_USER].present &&
		   l->namespaces[BERTH_NS_CGROUP].present,
	   "all eight namespaces");
	is(l->n_devices, 2, "devices");
	ok(l->devices[0].type == 'c' && l->devices[0].major == 10 && l->devices[0].minor == 229,
	   "device c 10:229");
	is(l->devices[0].file_mode, 0666, "device fileMode");
	is(l->devices[0].uid, 0, "device uid");
	ok(l->devices[1].type == 'p' && l->devices[1].file_mode == BERTH_UNSET &&
		   l->devices[1].uid == BERTH_UNSET,
	   "fifo without numbers, unset mode");

	struct berth_seccomp *sc = l->seccomp;
	ok(sc != NULL, "seccomp present");
	is(sc->default_action, SCMP_ACT_ERRNO(0), "seccomp.defaultAction");
	is(sc->default_errno_ret, 38, "seccomp.defaultErrnoRet");
	is_str(sc->architectures[1], "SCMP_ARCH_X86", "seccomp.architectures");
	is_str(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG", "seccomp.flags");
	is_str(sc->listener_path, "/run/agent.sock", "seccomp.listenerPath");
	is_str(sc->listener_metadata, "meta", "seccomp.listenerMetadata");
	is(sc->n_syscalls, 6, "seccomp.syscalls");
	is_str(sc->syscalls[0].names[1], "write", "rule 0 names");
	is(sc->syscalls[0].action, SCMP_ACT_ALLOW, "rule 0 action");
	is(sc->syscalls[0].errno_ret, BERTH_UNSET, "rule 0 no errnoRet");
	is(sc->syscalls[1].action, SCMP_ACT_ERRNO(0), "rule 1 ERRNO");
	is(sc->syscalls[1].errno_ret, 1, "rule 1 errnoRet");
	is(sc->syscalls[2].n_args, 2, "rule 2 args");
	ok(sc->syscalls[2].args[0].index == 0 && sc->syscalls[2].args[0].value == 8 &&
		   sc->syscalls[2].args[0].op == SCMP_CMP_EQ,
	   "rule 2 arg 0");
	ok(sc->syscalls[2].args[1].index == 5 && sc->syscalls[2].args[1].value == UINT64_MAX &&
		   sc->syscalls[2].args[1].value_two == 4 &&
		   sc->syscalls[2].args[1].op == SCMP_CMP_MASKED_EQ,
	   "rule 2 arg 1 (uint64 value, valueTwo, MASKED_EQ)");
	is(sc->syscalls[3].action, SCMP_ACT_KILL_PROCESS, "rule 3 KILL_PROCESS");
	is(sc->syscalls[4].action, SCMP_ACT_TRACE(0), "rule 4 TRACE");
	is(sc->syscalls[4].errno_ret, 7, "rule 4 errnoRet");
	is(sc->syscalls[5].action, SCMP_ACT_NOTIFY, "rule 5 NOTIFY");

	is(l->rootfs_propagation, MS_SLAVE | MS_REC, "rootfsPropagation");
	is(berth_strv_length(l->masked_paths), 2, "maskedPaths");
	is_str(l->readonly_paths[0], "/proc/sys", "readonlyPaths");
	is_str(l->mount_label, "system_u:object_r:container_file_t:s0", "mountLabel");
	ok(l->has_personality, "personality present");
	is(l->personality, PER_LINUX32 | ADDR_NO_RANDOMIZE, "personality");
	ok(l->time_monotonic.present && l->time_monotonic.secs == -10 &&
		   l->time_monotonic.nanosecs == 5,
	   "timeOffsets.monotonic");
	ok(l->time_boottime.present && l->time_boottime.secs == 3600 &&
		   l->time_boottime.nanosecs == 0,
	   "timeOffsets.boottime");
	berth_spec_free(s);
}

static void test_minimal(void)
{
	struct berth_error *err = NULL;
	struct berth_spec *s;
	int r;

	s = parse_q(minimal_config, &r, &err);
	if (!ok(r == 0 && s, "minimal config parses")) {
		printf("#   %s\n", err ? err->msg : "");
		berth_error_free(err);
		return;
	}
	ok(!s->root_readonly && s->n_mounts == 0 && !s->hostname, "defaults: rw root, no mounts");
	is(s->process->umask, BERTH_UNSET, "umask unset");
	is(s->process->oom_score_adj, BERTH_UNSET, "oomScoreAdj unset");
	is(s->process->io_priority_class, -1, "ioPriority absent");
	ok(!s->process->caps.present && !s->process->has_scheduler, "no caps, no scheduler");
	ok(!s->linux_.resources && !s->linux_.seccomp && !s->linux_.has_personality,
	   "no resources, seccomp, personality");
	for (int i = 0; i < BERTH_NS_COUNT; i++)
		if (s->linux_.namespaces[i].present)
			ok(0, "namespace %d unexpectedly present", i);
	berth_spec_free(s);

	/* no process at all is allowed (create without start) */
	s = parse_q("{'ociVersion': '1.2.0', 'root': {'path': 'r'}, 'process': null}", &r, &err);
	ok(r == 0 && s && !s->process, "process may be absent");
	berth_spec_free(s);
}

/* Set a dotted path ("process.user.uid", "mounts.1.destination") in doc to v; NULL deletes. */
static void set_path(json_t *doc, const char *path, json_t *v)
{
	char *copy = strdup(path), *save = NULL, *part, *next;
	json_t *cur = doc;

	part = strtok_r(copy, ".", &save);
	while (part) {
		next = strtok_r(NULL, ".", &save);
		bool idx = json_is_array(cur);
		size_t i = idx ? strtoul(part, NULL, 10) : 0;
		if (!next) {
			if (v == NULL)
				idx ? json_array_remove(cur, i) : json_object_del(cur, part);
			else if (idx)
				json_array_set_new(cur, i, v);
			else
				json_object_set_new(cur, part, v);
			break;
		}
		json_t *child = idx ? json_array_get(cur, i) : json_object_get(cur, part);
		if (!child) {
			child = json_object();
			json_object_set_new(cur, part, child);
		}
		cur = child;
		part = next;
	}
	free(copy);
}

struct bad_case {
	const char *path;  /* field to change */
	const char *value; /* its new JSON value (' for "), NULL: delete it */
	const char *want;  /* the error message must contain this */
};

static const struct bad_case bad_cases[] = {
	{"ociVersion", NULL, "ociVersion: required"},
	{"ociVersion", "5", "ociVersion: expected a string"},
	{"root", NULL, "root: required"},
	{"root.path", "''", "root.path: must not be empty"},
	{"root.readonly", "'yes'", "root.readonly: expected a boolean"},
	{"mounts", "{}", "mounts: expected an array"},
	{"mounts.0", "'x'", "mounts[0]: expected an object"},
	{"mounts.0.destination", NULL, "mounts[0].destination: required"},
	{"mounts.1.options", "['ro', 5]", "mounts[1].options: expected an array of strings"},
	{"mounts.1.uidMappings", "[{'containerID': 0, 'hostID': 1, 'size': 0}]",
	 "mounts[1].uidMappings[0].size: 0 out of range"},
	{"mounts.1.gidMappings", NULL, "mounts[1]: uidMappings and gidMappings must be given"},
	{"mounts.2.options", "['mode=1777', 'size=1k', 'x=' ]", NULL /* valid: skipped below */},
	{"process", "[]", "process: expected an object"},
	{"process.args", "'sh'", "process.args: expected an array of strings"},
	{"process.args", "[]", "process.args: at least one argument is required"},
	{"process.args", NULL, "process.args: at least one argument is required"},
	{"process.env", "[1]", "process.env: expected an array of strings"},
	{"process.cwd", "'home'", "process.cwd: 'home' is not an absolute path"},
	{"process.cwd", NULL, "process.cwd: required"},
	{"process.terminal", "1", "process.terminal: expected a boolean"},
	{"process.consoleSize.height", "70000", "process.consoleSize.height: 70000 out of range"},
	{"process.user.uid", "-1", "process.user.uid: -1 out of range"},
	{"process.user.gid", "4294967295", "process.user.gid: 4294967295 out of range"},
	{"process.user.uid", "1.5", "process.user.uid: expected an integer"},
	{"process.user.umask", "512", "process.user.umask: 512 out of range"},
	{"process.user.additionalGids", "[1, 'a']",
	 "process.user.additionalGids: expected an array"},
	{"process.capabilities.bounding", "['CAP_FOO']",
	 "process.capabilities.bounding: unknown capability 'CAP_FOO'"},
	{"process.capabilities.ambient", "'CAP_KILL'",
	 "process.capabilities.ambient: expected an array"},
	{"process.rlimits.0.type", "'RLIMIT_FOO'", "process.rlimits[0].type: unknown rlimit"},
	{"process.rlimits.1.type", "'RLIMIT_NOFILE'",
	 "process.rlimits[1].type: duplicate rlimit 'RLIMIT_NOFILE'"},
	{"process.rlimits.0.soft", NULL, "process.rlimits[0].soft: required"},
	{"process.oomScoreAdj", "1001", "process.oomScoreAdj: 1001 out of range -1000..1000"},
	{"process.ioPriority.class", "'IOPRIO_CLASS_NONE'",
	 "process.ioPriority.class: unknown class"},
	{"process.ioPriority.priority", "8", "process.ioPriority.priority: 8 out of range"},
	{"process.scheduler.policy", "'SCHED_FAST'", "process.scheduler.policy: unknown policy"},
	{"process.scheduler.nice", "20", "process.scheduler.nice: 20 out of range"},
	{"process.scheduler.flags", "['SCHED_FLAG_X']", "process.scheduler.flags: unknown flag"},
	{"process.execCPUAffinity.initial", "'0-a'",
	 "process.execCPUAffinity.initial: invalid CPU list"},
	{"hostname", "[]", "hostname: expected a string"},
	{"hooks.prestart.0.path", "'rel/hook'", "hooks.prestart[0].path: 'rel/hook' is not an"},
	{"hooks.poststop.0.timeout", "0", "hooks.poststop[0].timeout: 0 out of range"},
	{"hooks.createRuntime", "{}", "hooks.createRuntime: expected an array"},
	{"annotations", "{'a': 1}", "annotations: expected an object of strings"},
	{"annotations", "{'': 'x'}", "annotations: empty key"},
	{"linux", "[]", "linux: expected an object"},
	{"linux.uidMappings.0.hostID", "-3", "linux.uidMappings[0].hostID: -3 out of range"},
	{"linux.uidMappings.0.containerID", NULL, "linux.uidMappings[0].containerID: required"},
	{"linux.sysctl", "{'net.ipv4.ip_forward': 1}", "linux.sysctl: expected an object of str"},
	{"linux.sysctl", "{'../../etc/x': '1'}", "linux.sysctl: invalid key '../../etc/x'"},
	{"linux.namespaces.0.type", "'pidx'", "linux.namespaces[0].type: unknown namespace type"},
	{"linux.namespaces.1.type", "'pid'",
	 "linux.namespaces[1].type: duplicate namespace type 'pid'"},
	{"linux.namespaces.2.type", NULL, "linux.namespaces[2].type: required"},
	{"linux.devices.0.type", "'x'", "linux.devices[0].type: unknown device type 'x'"},
	{"linux.devices.0.type", "'cc'", "linux.devices[0].type: unknown device type 'cc'"},
	{"linux.devices.0.major", NULL, "linux.devices[0].major: required"},
	{"linux.devices.0.path", "'dev/x'", "linux.devices[0].path: 'dev/x' is not an absolute"},
	{"linux.devices.0.fileMode", "65536", "linux.devices[0].fileMode: 65536 out of range"},
	{"linux.resources.memory.limit", "'1g'",
	 "linux.resources.memory.limit: expected an integer"},
	{"linux.resources.memory.swappiness", "101",
	 "linux.resources.memory.swappiness: 101 out of range"},
	{"linux.resources.cpu.cpus", "'0-1;rm'", "linux.resources.cpu.cpus: invalid CPU list"},
	{"linux.resources.cpu.shares", "-2", "linux.resources.cpu.shares: -2 out of range"},
	{"linux.resources.pids.limit", "true", "linux.resources.pids.limit: expected an integer"},
	{"linux.resources.devices.1.access", "'rwx'",
	 "linux.resources.devices[1].access: invalid access 'rwx'"},
	{"linux.resources.devices.1.type", "'p'",
	 "linux.resources.devices[1].type: unknown device type 'p'"},
	{"linux.resources.blockIO.weight", "70000",
	 "linux.resources.blockIO.weight: 70000 out of range"},
	{"linux.resources.blockIO.throttleReadBpsDevice.0.rate", NULL,
	 "linux.resources.blockIO.throttleReadBpsDevice[0].rate: required"},
	{"linux.resources.hugepageLimits.0.pageSize", "'../2MB'",
	 "linux.resources.hugepageLimits[0].pageSize: invalid page size"},
	{"linux.resources.unified", "{'../cgroup.procs': '1'}",
	 "linux.resources.unified: invalid cgroup file name '../cgroup.procs'"},
	{"linux.resources.rdma", "{'mlx': {}}", "linux.resources.rdma.mlx: neither hcaHandles"},
	{"linux.resources.network.priorities.0.name", "'a b'",
	 "linux.resources.network.priorities[0].name: invalid interface name"},
	{"linux.seccomp.defaultAction", "'SCMP_ACT_EXPLODE'",
	 "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_EXPLODE'"},
	{"linux.seccomp.defaultAction", NULL, "linux.seccomp.defaultAction: required"},
	{"linux.seccomp.defaultErrnoRet", "70000",
	 "linux.seccomp.defaultErrnoRet: 70000 out of range"},
	{"linux.seccomp.syscalls.0.errnoRet", "1",
	 "linux.seccomp.syscalls[0].errnoRet: not allowed with action 'SCMP_ACT_ALLOW'"},
	{"linux.seccomp.syscalls.0.names", "[]",
	 "linux.seccomp.syscalls[0].names: at least one name is required"},
	{"linux.seccomp.syscalls.2.args.0.op", "'SCMP_CMP_ABOUT'",
	 "linux.seccomp.syscalls[2].args[0].op: unknown operator 'SCMP_CMP_ABOUT'"},
	{"linux.seccomp.syscalls.2.args.0.index", "6",
	 "linux.seccomp.syscalls[2].args[0].index: 6 out of range 0..5"},
	{"linux.seccomp.syscalls.2.args",
	 "[{'index':0,'value':0,'op':'SCMP_CMP_EQ'},{'index':0,'value':0,'op':'SCMP_CMP_EQ'},"
	 "{'index':0,'value':0,'op':'SCMP_CMP_EQ'},{'index':0,'value':0,'op':'SCMP_CMP_EQ'},"
	 "{'index':0,'value':0,'op':'SCMP_CMP_EQ'},{'index':0,'value':0,'op':'SCMP_CMP_EQ'},"
	 "{'index':0,'value':0,'op':'SCMP_CMP_EQ'}]",
	 "linux.seccomp.syscalls[2].args: too many entries (7, at most 6)"},
	{"linux.seccomp.syscalls.2.args.1.value", "'big'",
	 "linux.seccomp.syscalls[2].args[1].value: expected an integer"},
	{"linux.rootfsPropagation", "'sideways'",
	 "linux.rootfsPropagation: unknown propagation 'sideways'"},
	{"linux.maskedPaths", "'/proc'", "linux.maskedPaths: expected an array of strings"},
	{"linux.personality.domain", "'LINUX64'", "linux.personality.domain: unknown domain"},
	{"linux.personality.flags", "['NOPE']", "linux.personality.flags: unknown flag 'NOPE'"},
	{"linux.timeOffsets.realtime", "{'secs': 1}",
	 "linux.timeOffsets: unknown clock 'realtime'"},
	{"linux.timeOffsets.boottime.nanosecs", "1000000000",
	 "linux.timeOffsets.boottime.nanosecs: 1000000000 out of range"},
};

static void test_bad(void)
{
	struct berth_error *perr = NULL;
	struct berth_spec *full;
	json_error_t je;
	json_t *base;
	int pr;

	/* jansson alone cannot load the 2^64-1 literals; the parser's copy of the document can */
	full = parse_q(full_config, &pr, &perr);
	if (!ok(pr == 0 && full, "full config parses for the error cases"))
		return;
	base = json_deep_copy(full->json);
	berth_spec_free(full);
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		json_t *doc = json_deep_copy(base);
		struct berth_error *err = NULL;
		struct berth_spec *s = NULL;
		char *text;
		int r;

		if (c->value) {
			_cleanup_free_ char *v = q(c->value);
			json_t *jv = json_loads(v, JSON_DECODE_ANY, &je);
			if (!jv) {
				ok(0, "case %zu: value %s parses", i, c->value);
				json_decref(doc);
				continue;
			}
			set_path(doc, c->path, jv);
		} else {
			set_path(doc, c->path, NULL);
		}
		text = json_dumps(doc, 0);
		r = berth_spec_parse(text, strlen(text), &s, &err);
		if (!c->want) {
			ok(r == 0, "%s = %s is valid", c->path, c->value);
		} else {
			ok(r == -EINVAL && err && err->code == EINVAL && strstr(err->msg, c->want),
			   "%s = %s refused: %s", c->path, c->value ? c->value : "(deleted)",
			   err ? err->msg : "(accepted)");
			if (err && !strstr(err->msg, c->want))
				printf("#   want '%s'\n", c->want);
		}
		berth_spec_free(s);
		berth_error_free(err);
		free(text);
		json_decref(doc);
	}
	json_decref(base);
}

static void expect_refused(const char *what, const char *text, size_t len, int code,
			   const char *want)
{
	struct berth_error *err = NULL;
	struct berth_spec *s = NULL;
	int r = berth_spec_parse(text, len, &s, &err);

	ok(r == -code && !s && err && err->code == code && (!want || strstr(err->msg, want)),
	   "%s refused: %s", what, err ? err->msg : "(accepted)");
	berth_spec_free(s);
	berth_error_free(err);
}

static void test_hostile(void)
{
	size_t n = 100000, len;
	char *deep = malloc(2 * n + 1), *huge;

	/* nesting deeper than jansson's limit */
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	expect_refused("100000-deep nesting", deep, 2 * n, EINVAL, "invalid JSON");
	free(deep);

	expect_refused("empty input", "", 0, EINVAL, "invalid JSON");
	expect_refused("not an object", "[1]", 3, EINVAL, "expected an object");
	expect_refused("truncated", "{\"ociVersion\": \"1.", 18, EINVAL, "invalid JSON");
	expect_refused("duplicate key", "{\"ociVersion\": \"1\", \"ociVersion\": \"2\"}", 38,
		       EINVAL, "invalid JSON");
	expect_refused("embedded NUL", "{\"ociVersion\": \"1\\u0000\"}", 25, EINVAL,
		       "invalid JSON");
	expect_refused("integer above 2^64", "{\"a\": 18446744073709551616}", 27, EINVAL,
		       "invalid JSON");

	/* one million env entries: parsed by jansson, refused by the cap */
	n = 1000000;
	huge = malloc(n * 4 + 256);
	len = (size_t)snprintf(huge, 256,
			       "{\"ociVersion\": \"1\", \"root\": {\"path\": \"r\"}, \"process\": "
			       "{\"cwd\": \"/\", \"args\": [\"sh\"], \"env\": [");
	for (size_t i = 0; i < n; i++) {
		memcpy(huge + len, i ? ",\"\"" : "\"\"", i ? 3 : 2);
		len += i ? 3 : 2;
	}
	memcpy(huge + len, "]}}", 4);
	len += 3;
	expect_refused("a million env entries", huge, len, EINVAL,
		       "process.env: too many entries (1000000, at most 100000)");
	free(huge);

	/* 10001 mounts */
	n = 10001;
	huge = malloc(n * 24 + 256);
	len = (size_t)snprintf(
		huge, 256, "{\"ociVersion\": \"1\", \"root\": {\"path\": \"r\"}, \"mounts\": [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(huge + len, 32, "%s{\"destination\":\"/m\"}", i ? "," : "");
	memcpy(huge + len, "]}", 3);
	len += 2;
	expect_refused("10001 mounts", huge, len, EINVAL, "mounts: too many entries");
	free(huge);

	/* larger than BERTH_SPEC_MAX_SIZE */
	huge = malloc(BERTH_SPEC_MAX_SIZE + 2);
	memset(huge, ' ', BERTH_SPEC_MAX_SIZE + 1);
	huge[BERTH_SPEC_MAX_SIZE + 1] = '\0';
	expect_refused("oversized document", huge, BERTH_SPEC_MAX_SIZE + 1, EFBIG, "larger than");
	free(huge);

	/* big literals inside strings are left alone; negative ones too */
	struct berth_error *err = NULL;
	struct berth_spec *s = NULL;
	char *doc = q("{'ociVersion': '18446744073709551615', 'root': {'path': 'r'},"
		      " 'annotations': {'n': '99999999999999999999'},"
		      " 'process': {'args': ['x'], 'cwd': '/', 'rlimits':"
		      "  [{'type': 'RLIMIT_AS', 'soft': 9223372036854775808, 'hard': 1e3}]}}");
	int r = berth_spec_parse(doc, strlen(doc), &s, &err);
	ok(r == -EINVAL && err && strstr(err->msg, "process.rlimits[0].hard: expected an integer"),
	   "a real where an integer belongs is refused: %s", err ? err->msg : "(accepted)");
	berth_error_free(err);
	err = NULL;
	free(doc);
	doc = q("{'ociVersion': '18446744073709551615', 'root': {'path': 'r'},"
		" 'annotations': {'n': '99999999999999999999'},"
		" 'process': {'args': ['x'], 'cwd': '/', 'rlimits':"
		"  [{'type': 'RLIMIT_AS', 'soft': 9223372036854775808, 'hard': "
		"18446744073709551614}]}}");
	r = berth_spec_parse(doc, strlen(doc), &s, &err);
	if (ok(r == 0, "big integers parse: %s", err ? err->msg : "")) {
		is_str(s->oci_version, "18446744073709551615", "digits inside a string untouched");
		is_str(s->annotations[0].value, "99999999999999999999", "annotation untouched");
		ok(s->process->rlimits[0].soft == 9223372036854775808ULL, "2^63 exact");
		ok(s->process->rlimits[0].hard == 18446744073709551614ULL, "2^64-2 exact");
	}
	berth_spec_free(s);
	berth_error_free(err);
	free(doc);
}

struct option_case {
	const char *options; /* comma-separated, as a test shorthand */
	unsigned long flags, clear, propagation, attr_set, attr_clr;
	bool bind, recursive, idmap, idmap_rec, copyup;
	const char *data;
};

static const struct option_case option_cases[] = {
	{"ro,nosuid,nodev,noexec", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, 0, 0, 0},
	{"rw,suid,dev,exec", 0, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, 0, 0, 0},
	{"ro,rw", 0, MS_RDONLY, 0, 0, 0},
	{"rw,ro", MS_RDONLY, 0, 0, 0, 0},
	{"sync,dirsync,remount,mand", MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK, 0, 0,
	 0, 0},
	{"async,nomand", 0, MS_SYNCHRONOUS | MS_MANDLOCK, 0, 0, 0},
	{"noatime,nodiratime,relatime,strictatime,lazytime,silent,iversion,nosymfollow",
	 MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_LAZYTIME | MS_SILENT |
		 MS_I_VERSION | 256,
	 0, 0, 0, 0},
	{"atime,diratime,norelatime,nostrictatime,nolazytime,loud,noiversion,symfollow", 0,
	 MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_LAZYTIME | MS_SILENT |
		 MS_I_VERSION | 256,
	 0, 0, 0},
	{"bind", MS_BIND, 0, 0, 0, 0, true, false},
	{"rbind,ro", MS_BIND | MS_REC | MS_RDONLY, 0, 0, 0, 0, true, true},
	{"defaults", 0, 0, 0, 0, 0},
	{"shared", 0, 0, MS_SHARED, 0, 0},
	{"rshared", 0, 0, MS_SHARED | MS_REC, 0, 0},
	{"slave", 0, 0, MS_SLAVE, 0, 0},
	{"rslave", 0, 0, MS_SLAVE | MS_REC, 0, 0},
	{"private", 0, 0, MS_PRIVATE, 0, 0},
	{"rprivate", 0, 0, MS_PRIVATE | MS_REC, 0, 0},
	{"unbindable", 0, 0, MS_UNBINDABLE, 0, 0},
	{"shared,runbindable", 0, 0, MS_UNBINDABLE | MS_REC, 0, 0},
	{"rro,rnosuid,rnodev,rnoexec,rnodiratime,rnosymfollow", 0, 0, 0,
	 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
		 MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW,
	 0},
	{"rrw,rsuid,rdev,rexec,rdiratime,rsymfollow", 0, 0, 0, 0,
	 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
		 MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW},
	{"rro,rrw", 0, 0, 0, 0, MOUNT_ATTR_RDONLY},
	{"rnoatime", 0, 0, 0, MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME},
	{"rstrictatime", 0, 0, 0, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
	{"rnoatime,rrelatime", 0, 0, 0, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME},
	{"rnoatime,ratime", 0, 0, 0, 0, MOUNT_ATTR__ATIME},
	{"rnorelatime", 0, 0, 0, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME},
	{"idmap", 0, 0, 0, 0, 0, false, false, true, false},
	{"rbind,ridmap", MS_BIND | MS_REC, 0, 0, 0, 0, true, true, true, true},
	{"tmpcopyup,mode=755", 0, 0, 0, 0, 0, false, false, false, false, true, "mode=755"},
	{"tmpcopyup,notmpcopyup", 0, 0, 0, 0, 0},
	{"nosuid,mode=0620,gid=5,newinstance,ptmxmode=0666", MS_NOSUID, 0, 0, 0, 0, false, false,
	 false, false, false, "mode=0620,gid=5,newinstance,ptmxmode=0666"},
	{"size=65536k", 0, 0, 0, 0, 0, false, false, false, false, false, "size=65536k"},
	{"", 0, 0, 0, 0, 0},
};

static void test_mount_options(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(option_cases); i++) {
		const struct option_case *c = &option_cases[i];
		struct berth_mount m = {.destination = "/x"};
		struct berth_error *err = NULL;
		char *copy = strdup(c->options), *save = NULL;
		char **opts = NULL;

		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			berth_strv_push(&opts, t);
		free(copy);
		m.options = opts;
		int r = berth_mount_parse_options(&m, &err);
		ok(r == 0 && m.flags == c->flags && m.clear_flags == c->clear &&
			   m.propagation == c->propagation && m.attr_set == c->attr_set &&
			   m.attr_clr == c->attr_clr && m.bind == c->bind &&
			   m.recursive == c->recursive && m.idmap == c->idmap &&
			   m.idmap_recursive == c->idmap_rec && m.tmpcopyup == c->copyup &&
			   ((!m.data && !c->data) ||
			    (m.data && c->data && !strcmp(m.data, c->data))),
		   "options '%s'", c->options);
		if (r < 0 || m.flags != c->flags || m.clear_flags != c->clear ||
		    m.attr_set != c->attr_set || m.attr_clr != c->attr_clr)
			printf("#   flags %#lx clear %#lx prop %#lx set %#lx clr %#lx data %s\n",
			       m.flags, m.clear_flags, m.propagation, m.attr_set, m.attr_clr,
			       m.data ? m.data : "(null)");
		berth_strv_free(opts);
		free(m.data);
		berth_error_free(err);
	}

	/* decoding twice gives the same answer (fields are reset first) */
	struct berth_mount m = {.destination = "/x"};
	struct berth_error *err = NULL;
	char **opts = NULL;
	berth_strv_push(&opts, "ro");
	berth_strv_push(&opts, "size=1");
	m.options = opts;
	berth_mount_parse_options(&m, &err);
	berth_mount_parse_options(&m, &err);
	ok(m.flags == MS_RDONLY && berth_streq(m.data, "size=1"), "decoding is idempotent");
	free(m.data);
	m.data = NULL;

	/* too much filesystem data for one page */
	char big[5000];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	berth_strv_push(&opts, big);
	m.options = opts;
	int r = berth_mount_parse_options(&m, &err);
	ok(r == -EINVAL && err && strstr(err->msg, "mount '/x': filesystem options too long"),
	   "over-long data refused: %s", err ? err->msg : "(accepted)");
	berth_strv_free(opts);
	free(m.data);
	berth_error_free(err);

	const char *const *known = berth_mount_known_options();
	bool has_ro = false, has_rbind = false, has_ridmap = false, has_size = false;
	size_t n = 0;
	for (; known[n]; n++) {
		has_ro |= !strcmp(known[n], "ro");
		has_rbind |= !strcmp(known[n], "rbind");
		has_ridmap |= !strcmp(known[n], "ridmap");
		has_size |= !strncmp(known[n], "size", 4);
	}
	ok(n > 50 && has_ro && has_rbind && has_ridmap && !has_size,
	   "known options list (%zu entries) names ours, not filesystem data", n);
}

/*
 * The rlimit names, checked against facts that do not come from our table: the kernel's ABI
 * numbers (include/uapi/asm-generic/resource.h, the same on every architecture Linux has for
 * these), the row the kernel prints for each resource in /proc/PID/limits (fs/proc/base.c prints
 * them in resource order), and a live child whose limits were set through our names.
 */
static void test_rlimit_names(void)
{
	static const struct {
		const char *name;
		int abi;	 /* the kernel's number */
		const char *row; /* its row in /proc/PID/limits */
	} facts[] = {
		{"RLIMIT_CPU", 0, "Max cpu time"},
		{"RLIMIT_FSIZE", 1, "Max file size"},
		{"RLIMIT_DATA", 2, "Max data size"},
		{"RLIMIT_STACK", 3, "Max stack size"},
		{"RLIMIT_CORE", 4, "Max core file size"},
		{"RLIMIT_RSS", 5, "Max resident set"},
		{"RLIMIT_NPROC", 6, "Max processes"},
		{"RLIMIT_NOFILE", 7, "Max open files"},
		{"RLIMIT_MEMLOCK", 8, "Max locked memory"},
		{"RLIMIT_AS", 9, "Max address space"},
		{"RLIMIT_LOCKS", 10, "Max file locks"},
		{"RLIMIT_SIGPENDING", 11, "Max pending signals"},
		{"RLIMIT_MSGQUEUE", 12, "Max msgqueue size"},
		{"RLIMIT_NICE", 13, "Max nice priority"},
		{"RLIMIT_RTPRIO", 14, "Max realtime priority"},
		{"RLIMIT_RTTIME", 15, "Max realtime timeout"},
	};
	is(ARRAY_SIZE(facts), RLIM_NLIMITS, "the kernel has %d resources, each named below",
	   RLIM_NLIMITS);
	for (size_t i = 0; i < ARRAY_SIZE(facts); i++)
		is(berth_rlimit_from_name(facts[i].name), facts[i].abi, "%s is resource %d",
		   facts[i].name, facts[i].abi);
	is(berth_rlimit_from_name("RLIMIT_OFILE"), -1, "RLIMIT_OFILE (BSD's alias) is no OCI name");
	is(berth_rlimit_from_name("rlimit_nofile"), -1, "names are exact");
	is(berth_rlimit_from_name("NOFILE"), -1, "the prefix is part of the name");
	is(berth_rlimit_from_name(NULL), -1, "NULL");

	/* the kernel's rows, in its order */
	char *limits = NULL;
	size_t len = 0;
	berth_read_file_at(AT_FDCWD, "/proc/self/limits", 1 << 16, &limits, &len, NULL);
	const char *line = limits ? strchr(limits, '\n') : NULL; /* past the header */
	int rows_ok = 0;
	for (size_t i = 0; line && i < ARRAY_SIZE(facts); i++, line = strchr(line + 1, '\n')) {
		int res = berth_rlimit_from_name(facts[i].name);
		if (res >= 0 && res < (int)ARRAY_SIZE(facts) &&
		    strncmp(line + 1, facts[res].row, strlen(facts[res].row)) == 0 &&
		    strncmp(line + 1, facts[i].row, strlen(facts[i].row)) == 0)
			rows_ok++;
	}
	is(rows_ok, ARRAY_SIZE(facts), "row N of /proc/self/limits is the resource our name gives");
	free(limits);

	/* live: a child lowers each resource whose hard limit is unlimited to a value of its own,
	 * through our name; the kernel's row for that name shows that value */
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(facts); i++) {
			struct rlimit r;
			int res = berth_rlimit_from_name(facts[i].name);
			if (res < 0 || getrlimit(res, &r) < 0 || r.rlim_max != RLIM_INFINITY)
				continue;
			r.rlim_cur = 1000000 + 4096 * i;
			setrlimit(res, &r);
		}
		(void)!write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	close(p[1]);
	char c;
	(void)!read(p[0], &c, 1);
	close(p[0]);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	berth_read_file_at(AT_FDCWD, path, 1 << 16, &limits, &len, NULL);
	int lowered = 0, seen = 0;
	for (size_t i = 0; limits && i < ARRAY_SIZE(facts); i++) {
		char want[64];
		const char *row = strstr(limits, facts[i].row);
		if (!row)
			continue;
		snprintf(want, sizeof(want), "%zu ", (size_t)1000000 + 4096 * i);
		const char *v = row + strlen(facts[i].row);
		v += strspn(v, " ");
		if (strncmp(v, want, strlen(want)) == 0)
			lowered++;
		if (strncmp(v, "unlimited", 9) != 0 || strncmp(v, want, strlen(want)) == 0)
			seen++;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	free(limits);
	ok(lowered >= 4, "%d limits set through our names show in the kernel's rows", lowered);
	is(seen, ARRAY_SIZE(facts), "no resource with an unlimited hard limit was left unlimited");
}

static void test_names(void)
{
	static const struct {
		enum berth_ns_type t;
		const char *name, *proc;
		int flag;
	} ns[] = {
		{BERTH_NS_PID, "pid", "pid", CLONE_NEWPID},
		{BERTH_NS_NETWORK, "network", "net", CLONE_NEWNET},
		{BERTH_NS_MOUNT, "mount", "mnt", CLONE_NEWNS},
		{BERTH_NS_IPC, "ipc", "ipc", CLONE_NEWIPC},
		{BERTH_NS_UTS, "uts", "uts", CLONE_NEWUTS},
		{BERTH_NS_USER, "user", "user", CLONE_NEWUSER},
		{BERTH_NS_CGROUP, "cgroup", "cgroup", CLONE_NEWCGROUP},
		{BERTH_NS_TIME, "time", "time", 0x80},
	};

	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		is_str(berth_ns_name(ns[i].t), ns[i].name, "ns name %s", ns[i].name);
		is_str(berth_ns_proc_name(ns[i].t), ns[i].proc, "ns proc name %s", ns[i].proc);
		is(berth_ns_clone_flag(ns[i].t), ns[i].flag, "ns clone flag %s", ns[i].name);
		is(berth_ns_from_name(ns[i].name), ns[i].t, "ns from name %s", ns[i].name);
	}
	is(berth_ns_from_name("net"), -1, "'net' is not a spec name");
	is(berth_ns_from_name(""), -1, "empty ns name");
	ok(berth_ns_name(BERTH_NS_COUNT) == NULL, "ns name out of range");

	is(berth_cap_last(), 40, "last capability is CAP_CHECKPOINT_RESTORE");
	is(berth_cap_from_name("CAP_CHOWN"), 0, "CAP_CHOWN");
	is(berth_cap_from_name("CAP_NET_RAW"), 13, "CAP_NET_RAW");
	is(berth_cap_from_name("CAP_SYS_ADMIN"), 21, "CAP_SYS_ADMIN");
	is(berth_cap_from_name("CAP_AUDIT_READ"), 37, "CAP_AUDIT_READ");
	is(berth_cap_from_name("CAP_PERFMON"), 38, "CAP_PERFMON");
	is(berth_cap_from_name("CAP_BPF"), 39, "CAP_BPF");
	is(berth_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40, "CAP_CHECKPOINT_RESTORE");
	is(berth_cap_from_name("cap_chown"), -1, "names are exact");
	is(berth_cap_from_name("CAP_FOO"), -1, "unknown capability");
	is_str(berth_cap_name(29), "CAP_AUDIT_WRITE", "cap 29 name");
	ok(berth_cap_name(41) == NULL && berth_cap_name(-1) == NULL, "cap name out of range");
	bool round = true;
	for (int c = 0; c <= berth_cap_last(); c++)
		round &= berth_cap_from_name(berth_cap_name(c)) == c;
	ok(round, "every capability round-trips");

	test_rlimit_names();
	is(berth_rlimit_from_name("RLIMIT_OFILE"), -1, "unknown rlimit");
}

static void test_default(bool rootless)
{
	const char *mode = rootless ? "rootless" : "rootful";
	json_t *j = berth_spec_default(rootless);
	struct berth_error *err = NULL;
	struct berth_spec *s = NULL;
	char *text;
	int r;

	if (!ok(j != NULL, "%s default spec built", mode))
		return;
	text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	r = berth_spec_parse(text, strlen(text), &s, &err);
	free(text);
	if (!ok(r == 0, "%s default spec parses: %s", mode, err ? err->msg : "")) {
		berth_error_free(err);
		return;
	}
	is_str(s->oci_version, "1.2.0", "%s ociVersion", mode);
	ok(s->root_readonly && berth_streq(s->root_path, "rootfs"), "%s root", mode);
	is_str(s->hostname, "berth", "%s hostname", mode);
	ok(s->process->terminal && berth_streq(s->process->args[0], "sh") && !s->process->args[1] &&
		   berth_streq(s->process->cwd, "/"),
	   "%s process: terminal sh in /", mode);
	ok(berth_strv_contains(s->process->env, "TERM=xterm"), "%s TERM", mode);
	uint64_t caps = (1ULL << 29) | (1ULL << 5) | (1ULL << 10);
	ok(s->process->caps.bounding == caps && s->process->caps.effective == caps &&
		   s->process->caps.permitted == caps && s->process->caps.inheritable == 0 &&
		   s->process->caps.ambient == 0,
	   "%s capabilities", mode);
	ok(s->process->n_rlimits == 1 && s->process->rlimits[0].resource == RLIMIT_NOFILE &&
		   s->process->rlimits[0].soft == 1024 && s->process->rlimits[0].hard == 1024,
	   "%s rlimits", mode);
	ok(s->process->no_new_privileges, "%s noNewPrivileges", mode);
	is(s->n_mounts, 7, "%s seven mounts", mode);
	is_str(s->mounts[1].destination, "/dev", "%s /dev", mode);
	is_str(s->mounts[1].type, "tmpfs", "%s /dev is a tmpfs", mode);
	is(s->mounts[1].flags, MS_NOSUID | MS_STRICTATIME, "%s /dev flags", mode);
	is_str(s->mounts[1].data, "mode=755,size=65536k", "%s /dev data", mode);
	is_str(s->mounts[2].data,
	       rootless ? "newinstance,ptmxmode=0666,mode=0620"
			: "newinstance,ptmxmode=0666,mode=0620,gid=5",
	       "%s /dev/pts data", mode);
	is_str(s->mounts[3].destination, "/dev/shm", "%s /dev/shm", mode);
	is_str(s->mounts[4].type, "mqueue", "%s /dev/mqueue", mode);
	is_str(s->mounts[5].destination, "/sys", "%s /sys", mode);
	if (rootless)
		ok(s->mounts[5].bind && s->mounts[5].recursive &&
			   berth_streq(s->mounts[5].source, "/sys"),
		   "rootless /sys is an rbind of the host's");
	else
		ok(!s->mounts[5].bind && berth_streq(s->mounts[5].type, "sysfs") &&
			   (s->mounts[5].flags & MS_RDONLY),
		   "rootful /sys is a read-only sysfs");
	is_str(s->mounts[6].destination, "/sys/fs/cgroup", "%s /sys/fs/cgroup", mode);
	ok(s->mounts[6].flags & MS_RDONLY, "%s cgroup mount read-only", mode);

	struct berth_linux *l = &s->linux_;
	ok(l->namespaces[BERTH_NS_PID].present && l->namespaces[BERTH_NS_IPC].present &&
		   l->namespaces[BERTH_NS_UTS].present && l->namespaces[BERTH_NS_MOUNT].present &&
		   l->namespaces[BERTH_NS_CGROUP].present && !l->namespaces[BERTH_NS_TIME].present,
	   "%s namespaces", mode);
	is(l->namespaces[BERTH_NS_NETWORK].present, !rootless, "%s network namespace", mode);
	is(l->namespaces[BERTH_NS_USER].present, rootless, "%s user namespace", mode);
	if (rootless) {
		ok(l->n_uid_mappings == 1 && l->uid_mappings[0].container_id == 0 &&
			   l->uid_mappings[0].host_id == getuid() && l->uid_mappings[0].size == 1,
		   "rootless maps our uid to 0");
		ok(l->n_gid_mappings == 1 && l->gid_mappings[0].host_id == getgid(),
		   "rootless maps our gid to 0");
		ok(l->resources == NULL, "rootless has no resources");
	} else {
		ok(l->resources && l->resources->n_devices == 1 &&
			   !l->resources->devices[0].allow &&
			   l->resources->devices[0].type == 'a' &&
			   !strcmp(l->resources->devices[0].access, "rwm"),
		   "rootful denies all devices");
		ok(l->n_uid_mappings == 0, "rootful has no mappings");
	}
	ok(berth_strv_contains(l->masked_paths, "/proc/kcore") &&
		   berth_strv_contains(l->masked_paths, "/sys/firmware") &&
		   berth_strv_length(l->masked_paths) == 11,
	   "%s maskedPaths", mode);
	ok(berth_strv_contains(l->readonly_paths, "/proc/sysrq-trigger") &&
		   berth_strv_length(l->readonly_paths) == 5,
	   "%s readonlyPaths", mode);
	berth_spec_free(s);
}

static void test_standalone(void)
{
	struct berth_error *err = NULL;
	struct berth_process *p = NULL;
	struct berth_resources *res = NULL;
	_cleanup_free_ char *t1 =
		q("{'args': ['ls', '-l'], 'cwd': '/tmp', 'env': ['A=b'],"
		  " 'user': {'uid': 5}, 'rlimits': [{'type': 'RLIMIT_CORE',"
		  " 'soft': 18446744073709551615, 'hard': 18446744073709551615}]}");
	_cleanup_free_ char *t2 = q("{'args': ['ls'], 'cwd': 'tmp'}");
	_cleanup_free_ char *t3 = q("{'memory': {'limit': 1048576, 'swappiness': -1},"
				    " 'cpu': {'quota': -1}, 'pids': {'limit': -1}}");
	_cleanup_free_ char *t4 = q("{'cpu': {'period': 'x'}}");
	json_error_t je;
	json_t *j;
	int r;

	/* a process.json as podman writes it for exec, rlimits of 2^64-1 included */
	r = berth_spec_json_parse(t1, strlen(t1), &j, &err);
	ok(r == 0, "process JSON with a uint64 literal loads");
	r = berth_process_parse(j, &p, &err);
	ok(r == 0 && p && p->uid == 5 && berth_streq(p->args[1], "-l") &&
		   berth_streq(p->cwd, "/tmp"),
	   "process parses alone");
	berth_process_free(p);
	json_decref(j);

	j = json_loads(t2, 0, &je);
	p = NULL;
	r = berth_process_parse(j, &p, &err);
	ok(r == -EINVAL && !p && err && strstr(err->msg, "process.cwd: 'tmp' is not an absolute"),
	   "process alone: relative cwd refused: %s", err ? err->msg : "");
	json_decref(j);

	j = json_loads(t3, 0, &je);
	r = berth_resources_parse(j, &res, &err);
	ok(r == 0 && res && res->memory_limit == 1048576 && res->memory_swappiness == BERTH_UNSET &&
		   res->cpu_quota == -1 && res->pids_limit == -1 && res->cpu_period == BERTH_UNSET,
	   "resources parse alone (swappiness -1 = unset)");
	berth_resources_free(res);
	json_decref(j);

	j = json_loads(t4, 0, &je);
	res = NULL;
	r = berth_resources_parse(j, &res, &err);
	ok(r == -EINVAL && !res && err && !strcmp(err->msg, "cpu.period: expected an integer"),
	   "resources alone: error path starts at the object: %s", err ? err->msg : "");
	json_decref(j);
	berth_error_free(err);
}

static void test_bundle(void)
{
	char dir[] = "/tmp/berth-test-spec-XXXXXX";
	struct berth_error *err = NULL;
	struct berth_spec *s = NULL;
	char path[64];
	int fd, r;

	if (!ok(mkdtemp(dir) != NULL, "temp bundle"))
		return;
	r = berth_spec_load_bundle(dir, &s, &err);
	ok(r == -ENOENT && err && strstr(err->msg, "config.json"), "missing config.json: %s",
	   err ? err->msg : "");

	snprintf(path, sizeof(path), "%s/config.json", dir);
	char *text = q(minimal_config);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write config");
	close(fd);
	free(text);
	r = berth_spec_load_bundle(dir, &s, &err);
	ok(r == 0 && s && berth_streq(s->root_path, "/abs/rootfs"), "bundle loads");
	berth_spec_free(s);
	s = NULL;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ok(fd >= 0 && write(fd, "{\"ociVersion\": 1}", 17) == 17, "write bad config");
	close(fd);
	r = berth_spec_load_bundle(dir, &s, &err);
	ok(r == -EINVAL && err && strstr(err->msg, "config.json': ociVersion: expected a string"),
	   "bad bundle names file and field: %s", err ? err->msg : "");

	/* larger than the cap: refused without reading it all */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ok(fd >= 0 && ftruncate(fd, BERTH_SPEC_MAX_SIZE + 1) == 0, "sparse oversized config");
	close(fd);
	r = berth_spec_load_bundle(dir, &s, &err);
	ok(r == -EFBIG && err, "oversized config.json refused: %s", err ? err->msg : "");

	unlink(path);
	rmdir(dir);
	berth_error_free(err);
}

int main(void)
{
	test_full();
	test_minimal();
	test_bad();
	test_hostile();
	test_mount_options();
	test_names();
	test_default(false);
	test_default(true);
	test_standalone();
	test_bundle();
	return done_testing();
}
