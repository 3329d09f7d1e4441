/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/dockerspec: the create request's checks with dockerd's exact messages, the image merge,
 * the OCI spec's conversions, user resolution against fake (and hostile) root trees, and the
 * Docker-format seccomp converter.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "dockerspec/dockerspec.h"

static struct berth_dockerspec_host host_v1(void)
{
	return (struct berth_dockerspec_host){
		.ncpu = 2,
		.cpus = (char *)"0-1",
		.mems = (char *)"0",
		.memory_limit = true,
		.swap_limit = true,
		.memory_swappiness = true,
		.memory_reservation = true,
		.kernel_memory = false,
		.oom_kill_disable = true,
		.cpu_cfs = true,
		.cpu_shares = true,
		.cpuset = true,
		.pids_limit = true,
		.blkio_weight = true,
		.seccomp = true,
		.ping_group_range = true,
		.unprivileged_port_start = true,
		.kernel_major = 6,
		.kernel_minor = 1,
		.cap_last_cap = 40,
		.arch = (char *)"amd64",
		.hostname = (char *)"thehost",
	};
}

/* normalise a create body given as JSON text; returns the error message or NULL */
static char *create(const char *body, const char *api, struct berth_dockerspec_create *ret)
{
	struct berth_dockerspec_host h = host_v1();
	struct berth_error *err = NULL;
	json_error_t je;
	json_t *j = json_loads(body, 0, &je);
	char *msg = NULL;

	if (!j)
		return strdup("test body is not JSON");
	if (berth_dockerspec_create_normalize(j, api, &h, NULL, ret, &err) < 0) {
		msg = strdup(err->msg);
		berth_error_free(err);
	}
	json_decref(j);
	return msg;
}

static void refused(const char *body, const char *want, const char *what)
{
	struct berth_dockerspec_create c = {0};
	char *msg = create(body, NULL, &c);
	is_str(msg, want, "refused: %s", what);
	free(msg);
	berth_dockerspec_create_release(&c);
}

static void accepted(const char *body, const char *what)
{
	struct berth_dockerspec_create c = {0};
	char *msg = create(body, NULL, &c);
	ok(!msg, "accepted: %s%s%s", what, msg ? ": " : "", msg ? msg : "");
	free(msg);
	berth_dockerspec_create_release(&c);
}

static void test_validation(void)
{
	refused("{}", "config cannot be empty in order to create a container", "empty body");
	refused("{\"HostConfig\":{}}", "config cannot be empty in order to create a container",
		"only a HostConfig");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Memory\":\"64m\"}}",
		"invalid JSON: json: cannot unmarshal string into Go struct field "
		"CreateRequest.HostConfig.Memory of type int64",
		"Memory as a string");
	refused("{\"Image\":\"bb\",\"Env\":[1]}",
		"invalid JSON: json: cannot unmarshal number into Go struct field "
		"CreateRequest.Env "
		"of type string",
		"Env with a number");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"NanoCpus\":1.5}}",
		"invalid JSON: json: cannot unmarshal number 1.5 into Go struct field "
		"CreateRequest.HostConfig.NanoCpus of type int64",
		"a fractional integer");
	refused("{\"Image\":\"bb\",\"Tty\":\"yes\"}",
		"invalid JSON: json: cannot unmarshal string into Go struct field "
		"CreateRequest.Tty "
		"of type bool",
		"Tty as a string");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Memory\":4194304}}",
		"Minimum memory limit allowed is 6MB", "-m 4m");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Memory\":67108864,\"MemorySwap\":33554432}}",
		"Minimum memoryswap limit should be larger than memory limit, see usage",
		"swap below memory");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"MemorySwap\":67108864}}",
		"You should always set the Memory limit when using Memoryswap limit, see usage",
		"swap without memory");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"MemoryReservation\":1000}}",
		"Minimum memory reservation allowed is 6MB", "tiny reservation");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Memory\":10000000,\"MemoryReservation\":"
		"20000000}}",
		"Minimum memory limit can not be less than memory reservation limit, see usage",
		"reservation above the limit");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"MemorySwappiness\":101}}",
		"Invalid value: 101, valid memory swappiness range is 0-100", "swappiness 101");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"NanoCpus\":3000000000}}",
		"range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available",
		"--cpus 3 on 2 CPUs");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"NanoCpus\":500000000,\"CpuPeriod\":100000}}",
		"Conflicting options: Nano CPUs and CPU Period cannot both be set",
		"--cpus with --cpu-period");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"NanoCpus\":500000000,\"CpuQuota\":50000}}",
		"Conflicting options: Nano CPUs and CPU Quota cannot both be set",
		"--cpus with --cpu-quota");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"CpuPeriod\":500}}",
		"CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. "
		"1000000)",
		"period 500");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"CpuQuota\":500}}",
		"CPU cfs quota can not be less than 1ms (i.e. 1000)", "quota 500");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"CpuShares\":-2}}",
		"invalid CPU shares (-2): value must be a positive integer", "negative shares");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"CpusetCpus\":\"0-3\"}}",
		"Requested CPUs are not available - requested 0-3, available: 0-1",
		"cpuset beyond the host");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"CpusetCpus\":\"a\"}}",
		"Invalid value a for cpuset cpus: invalid format: a", "cpuset not a list");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"BlkioWeight\":5}}",
		"Range of blkio weight is from 10 to 1000", "blkio weight 5");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"sometimes\"}}}",
		"invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', "
		"'on-failure', or 'unless-stopped'",
		"unknown restart policy");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"always\","
		"\"MaximumRetryCount\":3}}}",
		"invalid restart policy: maximum retry count can only be used with 'on-failure'",
		"always:3");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"no\","
		"\"MaximumRetryCount\":-1}}}",
		"invalid restart policy: maximum retry count can only be used with 'on-failure' "
		"and "
		"cannot be negative",
		"no:-1");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"on-failure\","
		"\"MaximumRetryCount\":-1}}}",
		"invalid restart policy: maximum retry count cannot be negative", "on-failure:-1");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"AutoRemove\":true,\"RestartPolicy\":{"
		"\"Name\":\"always\"}}}",
		"can't create 'AutoRemove' container with restart policy", "--rm --restart always");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"CapAdd\":[\"foo\"]}}",
		"invalid CapAdd: unknown capability: \"CAP_FOO\"", "unknown capability");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"CapDrop\":\"bar\"}}",
		"invalid CapDrop: unknown capability: \"CAP_BAR\"", "CapDrop as one string");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"SecurityOpt\":[\"foo\"]}}",
		"invalid --security-opt 1: \"foo\"", "security-opt without =");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"SecurityOpt\":[\"foo=bar\"]}}",
		"invalid --security-opt 2: \"foo=bar\"", "unknown security-opt");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"SecurityOpt\":[\"no-new-privileges=maybe\"]}}",
		"invalid --security-opt 2: \"no-new-privileges=maybe\"", "nnp not a bool");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"SecurityOpt\":[\"apparmor=myprofile\"]}}",
		"AppArmor is not enabled on this host: cannot apply security option "
		"'apparmor=myprofile'",
		"apparmor profile on a host without AppArmor");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"SecurityOpt\":[\"label=level:s0\"]}}",
		"SELinux is not enabled on this host: cannot apply security option "
		"'label=level:s0'",
		"SELinux label on a host without SELinux");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"SecurityOpt\":[\"seccomp={not json\"]}}",
		"Decoding seccomp profile failed: invalid JSON at line 1 column 4: string or '}' "
		"expected near 'not'",
		"seccomp profile that is not JSON");
	accepted("{\"Image\":\"bb\",\"HostConfig\":{\"SecurityOpt\":[\"seccomp=unconfined\","
		 "\"no-new-privileges\",\"no-new-privileges:false\",\"apparmor=unconfined\","
		 "\"label=disable\"]}}",
		 "the security options that apply everywhere");
	refused("{\"Image\":\"bb\",\"WorkingDir\":\"tmp\"}",
		"the working directory 'tmp' is invalid, it needs to be an absolute path",
		"relative -w");
	refused("{\"Image\":\"bb\",\"StopSignal\":\"SIGNOPE\"}", "Invalid signal: SIGNOPE",
		"unknown stop signal");
	refused("{\"Image\":\"bb\",\"StopSignal\":\"0\"}", "Invalid signal: 0", "stop signal 0");
	accepted("{\"Image\":\"bb\",\"StopSignal\":\"usr1\"}", "stop signal usr1");
	refused("{\"Image\":\"bb\",\"Env\":[\"=x\"]}", "invalid environment variable: =x",
		"env without a name");
	refused("{\"Image\":\"bb\",\"Healthcheck\":{\"Interval\":1000}}",
		"Interval in Healthcheck cannot be less than 1ms", "1 µs health interval");
	refused("{\"Image\":\"bb\",\"Healthcheck\":{\"Retries\":-1}}",
		"Retries in Healthcheck cannot be negative", "negative retries");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"IpcMode\":\"bogus\"}}",
		"invalid IPC mode: bogus", "--ipc bogus");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"PidMode\":\"bogus\"}}",
		"invalid PID mode: bogus", "--pid bogus");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"UTSMode\":\"bogus\"}}",
		"invalid UTS mode: bogus", "--uts bogus");
	refused("{\"Image\":\"bb\",\"Hostname\":\"x\",\"HostConfig\":{\"UTSMode\":\"host\"}}",
		"conflicting options: hostname and the UTS mode", "--uts host with -h");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"ShmSize\":-1}}",
		"SHM size can not be less than 0", "negative shm");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"OomScoreAdj\":1001}}",
		"Invalid value 1001, range for oom score adj is [-1000, 1000]", "oom score 1001");
	/* a user network's name passes: berthd checks that the network exists */
	accepted("{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"mynet\"}}",
		 "a user network's name");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"my net!\"}}",
		"network my net! not found", "a name no network can have");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"container:\"}}",
		"invalid network mode: invalid container format container:<name|id>",
		"container: without a name");
	accepted("{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"container:web\"}}",
		 "container:<name>: berthd joins it at start");
	refused("{\"Image\":\"bb\",\"Hostname\":\"h\",\"HostConfig\":{\"NetworkMode\":"
		"\"container:web\"}}",
		"conflicting options: hostname and the network mode", "container: with a hostname");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"container:web\","
		"\"Dns\":[\"10.0.0.1\"]}}",
		"conflicting options: dns and the network mode", "container: with dns");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"container:web\","
		"\"ExtraHosts\":[\"a:10.0.0.1\"]}}",
		"conflicting options: custom host-to-IP mapping and the network mode",
		"container: with extra hosts");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"container:web\","
		"\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"80\"}]}}}",
		"conflicting options: port publishing and the container type network mode",
		"container: with published ports");
	refused("{\"Image\":\"bb\",\"ExposedPorts\":{\"80/tcp\":{}},\"HostConfig\":{"
		"\"NetworkMode\":\"container:web\"}}",
		"conflicting options: port exposing and the container type network mode",
		"container: with exposed ports");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"NetworkMode\":\"container:web\","
		"\"Links\":[\"a:b\"]}}",
		"conflicting options: container type network can't be used with links. This would "
		"result in undefined behavior",
		"container: with links");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Tmpfs\":{\"/\":\"\"}}}",
		"invalid specification: destination can't be '/'", "tmpfs on /");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Tmpfs\":{\"run\":\"\"}}}",
		"invalid mount path: 'run' mount path must be absolute", "tmpfs relative");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Tmpfs\":{\"/run\":\"foo=1\"}}}",
		"invalid tmpfs option [\"foo\" \"1\"]", "tmpfs bad option");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Ulimits\":[{\"Name\":\"nofiles\",\"Soft\":1,"
		"\"Hard\":1}]}}",
		"invalid ulimit type: nofiles", "unknown ulimit");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":2,"
		"\"Hard\":1}]}}",
		"ulimit soft limit must be less than or equal to hard limit: 2 > 1", "soft > hard");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"DeviceCgroupRules\":[\"c 1:2\"]}}",
		"invalid device cgroup rule format: 'c 1:2'", "device rule without access");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Devices\":[{\"PathOnHost\":\"/dev/null\","
		"\"CgroupPermissions\":\"rwx\"}]}}",
		"invalid device '/dev/null': bad mode specified: rwx", "device mode rwx");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Sysctls\":{\"kernel.shmmax\":\"1\"},"
		"\"IpcMode\":\"host\"}}",
		"sysctl \"kernel.shmmax\" is not allowed in the hosts ipc namespace",
		"ipc sysctl with host IPC");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"},"
		"\"NetworkMode\":\"host\"}}",
		"sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace",
		"net sysctl with host network");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Sysctls\":{\"kernel.hostname\":\"x\"}}}",
		"sysctl \"kernel.hostname\" is not allowed as it conflicts with the OCI "
		"\"hostname\" "
		"field",
		"kernel.hostname");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Sysctls\":{\"vm.swappiness\":\"1\"}}}",
		"sysctl \"vm.swappiness\" is not in a separate kernel namespace", "vm sysctl");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Sysctls\":{\"kernel.domainname\":\"x\"},"
		"\"UTSMode\":\"host\"}}",
		"sysctl \"kernel.domainname\" is not in a separate kernel namespace",
		"domainname with host UTS");
	accepted("{\"Image\":\"bb\",\"HostConfig\":{\"Sysctls\":{\"kernel.msgmax\":\"1\","
		 "\"fs.mqueue.msg_max\":\"1\",\"net.core.somaxconn\":\"1\",\"kernel.domainname\":"
		 "\"x\"}}}",
		 "the namespaced sysctls");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"CgroupnsMode\":\"bogus\"}}",
		"invalid cgroup namespace mode: bogus", "cgroupns bogus");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Runtime\":\"kata\"}}",
		"unknown or invalid runtime name: kata", "unknown runtime");
	refused("{\"Image\":\"bb\",\"HostConfig\":{\"Isolation\":\"hyperv\"}}",
		"invalid isolation (hyperv): linux only supports 'default'", "isolation hyperv");
	refused("[1]",
		"invalid JSON: json: cannot unmarshal array into Go value of type "
		"container.CreateRequest",
		"a body that is not an object");
}

static void test_defaults(void)
{
	struct berth_dockerspec_create c = {0};
	char *msg;

	msg = create("{\"Image\":\"bb\",\"Cmd\":\"sh\",\"HostConfig\":{\"Memory\":33554432,"
		     "\"PidsLimit\":0,\"KernelMemory\":4096}}",
		     NULL, &c);
	ok(!msg, "create with defaults");
	free(msg);
	is(json_integer_value(json_object_get(c.host_config, "MemorySwap")), 67108864,
	   "MemorySwap defaults to twice Memory");
	is(json_integer_value(json_object_get(c.host_config, "ShmSize")), 64 << 20,
	   "ShmSize defaults to 64 MiB");
	is_str(json_string_value(json_object_get(c.host_config, "IpcMode")), "private",
	       "IpcMode private");
	is_str(json_string_value(json_object_get(c.host_config, "NetworkMode")), "bridge",
	       "NetworkMode default -> bridge");
	is_str(json_string_value(json_object_get(c.host_config, "CgroupnsMode")), "host",
	       "cgroupns host on cgroup v1");
	is_str(json_string_value(
		       json_object_get(json_object_get(c.host_config, "RestartPolicy"), "Name")),
	       "no", "restart policy no");
	ok(json_is_null(json_object_get(c.host_config, "PidsLimit")), "PidsLimit 0 -> null");
	ok(!json_object_get(c.host_config, "KernelMemory"), "KernelMemory dropped on API 1.44");
	ok(json_is_false(json_object_get(c.host_config, "OomKillDisable")), "OomKillDisable false");
	ok(json_is_array(json_object_get(c.config, "Cmd")), "Cmd given as a string -> array");
	berth_dockerspec_create_release(&c);

	/* API 1.41: KernelMemory checked and, without kernel memory accounting, dropped */
	msg = create("{\"Image\":\"bb\",\"HostConfig\":{\"KernelMemory\":33554432}}", "1.41", &c);
	ok(!msg, "KernelMemory on API 1.41");
	free(msg);
	is(json_integer_value(json_object_get(c.host_config, "KernelMemory")), 0,
	   "KernelMemory discarded");
	is_str(json_string_value(json_array_get(c.warnings, 0)),
	       "Your kernel does not support kernel memory limit capabilities or the cgroup is not "
	       "mounted. Limitation discarded.",
	       "with docker's warning");
	berth_dockerspec_create_release(&c);
	msg = create("{\"Image\":\"bb\",\"HostConfig\":{\"IpcMode\":\"\"}}", "1.39", &c);
	is_str(json_string_value(json_object_get(c.host_config, "IpcMode")), "shareable",
	       "API < 1.40: IpcMode shareable");
	free(msg);
	berth_dockerspec_create_release(&c);
	msg = create(
		"{\"Image\":\"bb\",\"HostConfig\":{\"Privileged\":true,\"OomKillDisable\":true}}",
		NULL, &c);
	is_str(json_string_value(json_array_get(c.warnings, 0)),
	       "OOM killer is disabled for the container, but no memory limit is set, this can "
	       "result in the system running out of resources.",
	       "oom-kill-disable without -m warns");
	free(msg);
	berth_dockerspec_create_release(&c);
}

static json_t *J(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	if (!j)
		printf("# bad test JSON: %s\n", je.text);
	return j;
}

static char *dumps(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static void merged(const char *req, const char *img, const char *field, const char *want,
		   const char *what)
{
	json_t *c = J(req), *i = J(img);
	struct berth_error *err = NULL;
	char *got;

	if (berth_dockerspec_merge_image(c, i, &err) < 0) {
		got = strdup(err->msg);
		berth_error_free(err);
	} else {
		got = dumps(json_object_get(c, field) ?: json_null());
	}
	is_str(got, want, "merge: %s", what);
	free(got);
	json_decref(c);
	json_decref(i);
}

static void test_merge(void)
{
	const char *img = "{\"Env\":[\"PATH=/bin\",\"A=1\"],\"Cmd\":[\"sh\"],\"Entrypoint\":"
			  "[\"/init\"],\"User\":\"nobody\",\"WorkingDir\":\"/w\",\"Labels\":{\"a\":"
			  "\"img\",\"b\":\"img\"},\"StopSignal\":\"SIGQUIT\",\"ExposedPorts\":"
			  "{\"80/tcp\":{}},\"Volumes\":{\"/data\":{}}}";

	merged("{\"Env\":[\"A=2\",\"B=3\"]}", img, "Env", "[\"A=2\",\"B=3\",\"PATH=/bin\"]",
	       "request env first, image keys not set by it after");
	merged("{}", img, "Env", "[\"PATH=/bin\",\"A=1\"]", "no request env: the image's");
	merged("{}", img, "Cmd", "[\"sh\"]", "image CMD");
	merged("{}", img, "Entrypoint", "[\"/init\"]", "image ENTRYPOINT");
	merged("{\"Cmd\":[\"ls\"]}", img, "Entrypoint", "[\"/init\"]",
	       "arguments replace CMD, keep ENTRYPOINT");
	merged("{\"Cmd\":[\"ls\"]}", img, "Cmd", "[\"ls\"]", "arguments replace CMD");
	merged("{\"Entrypoint\":[\"/bin/echo\"]}", img, "Cmd", "null",
	       "--entrypoint drops the image's CMD");
	merged("{\"Entrypoint\":[\"\"],\"Cmd\":[\"ls\"]}", img, "Entrypoint", "null",
	       "--entrypoint \"\" resets ENTRYPOINT");
	merged("{\"Entrypoint\":[\"\"]}", img, "Entrypoint", "no command specified",
	       "--entrypoint \"\" and no arguments: no command");
	merged("{\"Entrypoint\":[]}", img, "Cmd", "[\"sh\"]",
	       "an empty Entrypoint array keeps the image's CMD");
	merged("{\"Entrypoint\":[]}", img, "Entrypoint", "[]",
	       "an empty Entrypoint array drops the image's ENTRYPOINT");
	merged("{}", "{}", "Cmd", "no command specified", "nothing to run");
	merged("{\"User\":\"\"}", img, "User", "\"nobody\"", "image USER");
	merged("{\"User\":\"1:1\"}", img, "User", "\"1:1\"", "request user wins");
	merged("{}", img, "WorkingDir", "\"/w\"", "image WORKDIR");
	merged("{\"Labels\":{\"a\":\"req\"}}", img, "Labels", "{\"a\":\"req\",\"b\":\"img\"}",
	       "labels: union, request wins");
	merged("{\"ExposedPorts\":{\"53/udp\":{}}}", img, "ExposedPorts",
	       "{\"53/udp\":{},\"80/tcp\":{}}", "exposed ports: union");
	merged("{\"Volumes\":{\"/x\":{}}}", img, "Volumes", "{\"/data\":{},\"/x\":{}}",
	       "volumes: union");
	merged("{}", img, "StopSignal", "\"SIGQUIT\"", "image STOPSIGNAL");
	merged("{\"Healthcheck\":{\"Interval\":5}}",
	       "{\"Cmd\":[\"sh\"],\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Interval\":1,"
	       "\"Retries\":3}}",
	       "Healthcheck", "{\"Interval\":5,\"Retries\":3,\"Test\":[\"CMD\",\"true\"]}",
	       "healthcheck: zero fields from the image");

	{
		json_t *c = J("{\"Entrypoint\":[\"/init\",\"-v\"],\"Cmd\":[\"a\",\"b\"]}");
		char *path = NULL, **args = NULL;
		ok(berth_dockerspec_path_args(c, &path, &args, NULL) == 0 &&
			   strcmp(path, "/init") == 0 && berth_strv_length(args) == 3 &&
			   strcmp(args[0], "-v") == 0 && strcmp(args[2], "b") == 0,
		   "Path = Entrypoint[0], Args = Entrypoint[1:] + Cmd");
		free(path);
		berth_strv_free(args);
		json_decref(c);
	}
	{
		json_t *c = J("{\"Hostname\":\"h\",\"Tty\":true,\"Env\":[\"PATH=/x\",\"TERM\","
			      "\"A=1\"]}");
		json_t *e = berth_dockerspec_process_env(c);
		char *s = dumps(e);
		is_str(s, "[\"PATH=/x\",\"HOSTNAME=h\",\"A=1\"]",
		       "process env: PATH replaced in place, TERM removed by a bare name");
		free(s);
		json_decref(e);
		json_decref(c);
	}
}

/* ---- the OCI spec ------------------------------------------------------------------------ */

static char root_template[] = "/tmp/berth-dockerspec-XXXXXX";
static const char *root;

static void write_file(const char *rel, const char *text)
{
	char path[512];
	int fd;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		printf("# cannot write %s\n", path);
	if (fd >= 0)
		close(fd);
}

static json_t *spec_for(const char *body, const struct berth_dockerspec_daemon *d, char **ret_err)
{
	struct berth_dockerspec_host h = host_v1();
	struct berth_dockerspec_create c = {0};
	struct berth_error *err = NULL;
	json_t *b = J(body), *spec = NULL;

	*ret_err = NULL;
	if (berth_dockerspec_create_normalize(b, NULL, &h, d, &c, &err) < 0 ||
	    berth_dockerspec_merge_image(c.config, NULL, &err) < 0) {
		*ret_err = strdup(err->msg);
		goto out;
	}
	json_object_set_new(c.config, "Hostname", json_string("0123456789ab"));
	{
		struct berth_dockerspec_container ct = {
			.id = "0123456789abcdef",
			.config = c.config,
			.host_config = c.host_config,
			.rootfs = root,
		};
		if (berth_dockerspec_oci_spec(&ct, d, &h, &spec, &err) < 0)
			*ret_err = strdup(err->msg);
	}
out:
	berth_error_free(err);
	berth_dockerspec_create_release(&c);
	json_decref(b);
	return spec;
}

static char *at(const json_t *spec, const char *path)
{
	const json_t *v = spec;
	char buf[256], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save)) {
		if (json_is_array(v))
			v = json_array_get(v, (size_t)strtoul(k, NULL, 10));
		else
			v = json_object_get(v, k);
	}
	return v ? dumps(v) : strdup("(absent)");
}

static void spec_is(const char *body, const char *path, const char *want, const char *what)
{
	char *err = NULL;
	json_t *spec = spec_for(body, NULL, &err);
	char *got = spec ? at(spec, path) : err;
	is_str(got, want, "spec: %s", what);
	free(got);
	if (spec)
		free(err);
	json_decref(spec);
}

static bool has_cap(const json_t *spec, const char *cap)
{
	const json_t *b = json_object_get(
		json_object_get(json_object_get(spec, "process"), "capabilities"), "bounding");
	size_t i;
	json_t *e;
	json_array_foreach (b, i, e)
		if (strcmp(json_string_value(e), cap) == 0)
			return true;
	return false;
}

static void test_spec(void)
{
	char *err = NULL;
	json_t *s;

	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"NanoCpus\":1500000000}}",
		"linux.resources.cpu", "{\"period\":100000,\"quota\":150000}",
		"--cpus 1.5 -> quota 150000 per 100000");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"CpuShares\":512,"
		"\"CpusetCpus\":\"1\",\"CpuPeriod\":50000,\"CpuQuota\":20000}}",
		"linux.resources.cpu",
		"{\"cpus\":\"1\",\"period\":50000,\"quota\":20000,\"shares\":512}",
		"shares, cpuset, period/quota");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"Memory\":67108864,"
		"\"MemoryReservation\":33554432,\"MemorySwappiness\":10}}",
		"linux.resources.memory",
		"{\"disableOOMKiller\":false,\"limit\":67108864,\"reservation\":33554432,\"swap\":"
		"134217728,\"swappiness\":10}",
		"memory, default swap, reservation, swappiness");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"Memory\":67108864,"
		"\"MemorySwap\":-1}}",
		"linux.resources.memory.swap", "(absent)", "--memory-swap -1: no swap limit");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"PidsLimit\":100}}",
		"linux.resources.pids", "{\"limit\":100}", "--pids-limit 100");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"PidsLimit\":-1}}",
		"linux.resources.pids", "(absent)", "--pids-limit -1: no limit");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"Ulimits\":[{\"Name\":"
		"\"nofile\",\"Soft\":1024,\"Hard\":2048}]}}",
		"process.rlimits", "[{\"hard\":2048,\"soft\":1024,\"type\":\"RLIMIT_NOFILE\"}]",
		"--ulimit nofile=1024:2048");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"OomScoreAdj\":500}}",
		"process.oomScoreAdj", "500", "--oom-score-adj");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"SecurityOpt\":"
		"[\"no-new-privileges\"]}}",
		"process.noNewPrivileges", "true", "no-new-privileges");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"SecurityOpt\":"
		"[\"no-new-privileges=false\"]}}",
		"process.noNewPrivileges", "(absent)", "no-new-privileges=false");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"Tmpfs\":{\"/data\":"
		"\"rw,exec,size=1m\"}}}",
		"mounts.7",
		"{\"destination\":\"/data\",\"options\":[\"nosuid\",\"nodev\",\"rprivate\",\"rw\","
		"\"exec\",\"size=1m\"],\"source\":\"tmpfs\",\"type\":\"tmpfs\"}",
		"--tmpfs with docker's defaults merged, the user's last");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"ShmSize\":1048576}}",
		"mounts.6.options.4", "\"size=1048576\"", "--shm-size");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"IpcMode\":\"none\"}}",
		"mounts.6", "(absent)", "--ipc none: no /dev/shm");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"ReadonlyRootfs\":true}}",
		"root.readonly", "true", "--read-only");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"NetworkMode\":\"host\","
		"\"PidMode\":\"host\",\"IpcMode\":\"host\"}}",
		"linux.namespaces", "[{\"type\":\"mount\"},{\"type\":\"uts\"}]",
		"host network, pid and ipc: no namespaces for them");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"NetworkMode\":\"host\"}}",
		"linux.sysctl", "{}", "host network: no default network sysctls");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"NetworkMode\":\"none\"}}",
		"linux.sysctl",
		"{\"net.ipv4.ip_unprivileged_port_start\":\"0\",\"net.ipv4.ping_group_range\":\"0 "
		"2147483647\"}",
		"none network: docker's default sysctls");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"Domainname\":\"example.org\","
		"\"HostConfig\":{\"NetworkMode\":\"host\"}}",
		"linux.sysctl", "{\"kernel.domainname\":\"example.org\"}",
		"--domainname through kernel.domainname");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"DeviceCgroupRules\":"
		"[\"c 42:* rmw\"]}}",
		"linux.resources.devices.8",
		"{\"access\":\"rmw\",\"allow\":true,\"major\":42,\"minor\":-1,\"type\":\"c\"}",
		"--device-cgroup-rule");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"Privileged\":true}}",
		"linux.resources.devices", "[{\"access\":\"rwm\",\"allow\":true}]",
		"--privileged: every device");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"Privileged\":true}}",
		"linux.maskedPaths", "(absent)", "--privileged: nothing masked");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"Privileged\":true}}",
		"linux.seccomp", "(absent)", "--privileged: no seccomp");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"Privileged\":true}}",
		"mounts.3.options", "[\"nosuid\",\"noexec\",\"nodev\"]", "--privileged: /sys rw");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"SecurityOpt\":"
		"[\"seccomp=unconfined\"]}}",
		"linux.seccomp", "(absent)", "seccomp=unconfined");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"Init\":true}}",
		"process.args", "--init: the daemon has no init binary configured",
		"--init without an init binary");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"WorkingDir\":\"/a/../b/./c/\"}",
		"process.cwd", "\"/b/c\"", "-w cleaned");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"]}", "linux.cgroupsPath",
		"\"/berth/0123456789abcdef\"", "cgroupsPath /berth/<id>");
	spec_is("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"CgroupParent\":\"/ci/\"}}",
		"linux.cgroupsPath", "\"/ci/0123456789abcdef\"", "--cgroup-parent");

	{
		struct berth_dockerspec_daemon d = {.init_path = "/usr/libexec/berth-init",
						    .systemd_cgroup = true};
		s = spec_for("{\"Image\":\"bb\",\"Cmd\":[\"sh\",\"-c\",\"x\"],\"HostConfig\":"
			     "{\"Init\":true}}",
			     &d, &err);
		char *a = s ? at(s, "process.args") : err;
		is_str(a, "[\"/sbin/docker-init\",\"--\",\"sh\",\"-c\",\"x\"]", "--init args");
		free(a);
		a = s ? at(s, "mounts.7") : NULL;
		is_str(a,
		       "{\"destination\":\"/sbin/docker-init\",\"options\":[\"bind\",\"ro\"],"
		       "\"source\":\"/usr/libexec/berth-init\",\"type\":\"bind\"}",
		       "--init binds the init read-only");
		free(a);
		a = s ? at(s, "linux.cgroupsPath") : NULL;
		is_str(a, "\"system.slice:berth:0123456789abcdef\"", "systemd cgroupsPath");
		free(a);
		json_decref(s);
	}

	s = spec_for("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"CapAdd\":[\"net_admin\","
		     "\"CAP_SYS_ptrace\"],\"CapDrop\":[\"chown\"]}}",
		     NULL, &err);
	ok(s && has_cap(s, "CAP_NET_ADMIN") && has_cap(s, "CAP_SYS_PTRACE") &&
		   !has_cap(s, "CAP_CHOWN") && has_cap(s, "CAP_KILL"),
	   "cap-add/cap-drop: any case, with or without CAP_");
	{
		char *sc = s ? at(s, "linux.seccomp") : NULL;
		ok(sc && strstr(sc, "\"ptrace\"") && strstr(sc, "\"kcmp\""),
		   "CAP_SYS_PTRACE adds ptrace and kcmp to the profile");
		ok(sc && !strstr(sc, "\"mount\""), "no CAP_SYS_ADMIN: no mount");
		free(sc);
	}
	json_decref(s);
	s = spec_for("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"CapDrop\":[\"ALL\"],"
		     "\"CapAdd\":[\"kill\"]}}",
		     NULL, &err);
	{
		char *b = s ? at(s, "process.capabilities.bounding") : err;
		is_str(b, "[\"CAP_KILL\"]", "--cap-drop ALL --cap-add kill");
		free(b);
	}
	json_decref(s);
	s = spec_for("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"HostConfig\":{\"CapAdd\":[\"ALL\"],"
		     "\"CapDrop\":[\"sys_admin\"]}}",
		     NULL, &err);
	ok(s && has_cap(s, "CAP_BPF") && !has_cap(s, "CAP_SYS_ADMIN"),
	   "--cap-add ALL --cap-drop sys_admin");
	json_decref(s);

	s = spec_for("{\"Image\":\"bb\",\"Cmd\":[\"sh\"],\"Tty\":true}", NULL, &err);
	{
		char *e = s ? at(s, "process.env") : err;
		is_str(e,
		       "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
		       "\"HOSTNAME=0123456789ab\",\"TERM=xterm\",\"HOME=/root\"]",
		       "env: PATH default, HOSTNAME, TERM with a tty, HOME from passwd");
		free(e);
	}
	json_decref(s);
}

/* ---- users ------------------------------------------------------------------------------- */

static void user_is(const char *spec, const char *group_add, const char *want, const char *what)
{
	struct berth_dockerspec_user u = {0};
	struct berth_error *err = NULL;
	json_t *ga = group_add ? J(group_add) : NULL;
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	char got[512];

	if (berth_dockerspec_resolve_user(fd, spec, ga, &u, &err) < 0) {
		snprintf(got, sizeof(got), "%s", err->msg);
		berth_error_free(err);
	} else {
		int n = snprintf(got, sizeof(got), "%u:%u %s [", u.uid, u.gid, u.home);
		for (size_t i = 0; i < u.n_additional_gids && n < (int)sizeof(got) - 16; i++)
			n += snprintf(got + n, sizeof(got) - (size_t)n, "%s%u", i ? " " : "",
				      u.additional_gids[i]);
		snprintf(got + n, sizeof(got) - (size_t)n, "]");
	}
	is_str(got, want, "user %s%s: %s", spec, berth_root_force_walk ? " (walk)" : "", what);
	berth_dockerspec_user_release(&u);
	json_decref(ga);
	close(fd);
}

static void test_users(void)
{
	char path[512];

	write_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
				 "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
				 "app:x:1000:1000::/home/app:/bin/sh\n");
	write_file("etc/group", "root:x:0:\nwheel:x:10:app,other\nstaff:x:50:app\n"
				"app:x:1000:\nnogroup:x:65534:\n");
	for (int pass = 0; pass < 2; pass++) {
		berth_root_force_walk = pass == 1;
		user_is("", NULL, "0:0 /root [0]", "default: root");
		user_is("app", NULL, "1000:1000 /home/app [1000 10 50]",
			"name: its gid, home and groups");
		user_is("1000", NULL, "1000:1000 /home/app [1000 10 50]", "uid found in passwd");
		user_is("4242", NULL, "4242:0 / [0]", "uid not in passwd: gid 0, home /");
		user_is("app:staff", NULL, "1000:50 /home/app [50]",
			"explicit group: no supplementary groups");
		user_is("app:77", NULL, "1000:77 /home/app [77]", "numeric group not in the file");
		user_is("nobody", "[\"wheel\",\"123\"]", "65534:65534 /nonexistent [65534 10 123]",
			"--group-add by name and number");
		user_is("ghost", NULL,
			"unable to find user ghost: no matching entries in passwd file",
			"unknown name");
		user_is("app:ghosts", NULL,
			"unable to find group ghosts: no matching entries in group file",
			"unknown group");
		user_is("root", "[\"ghosts\"]",
			"Unable to find group ghosts: no matching entries in group file",
			"unknown --group-add");
		user_is("9999999999", NULL, "uids and gids must be in range 0-2147483647",
			"uid out of range");
	}

	/* hostile trees: symlinks that would leave the root resolve inside it */
	snprintf(path, sizeof(path), "%s/host-secret", root);
	write_file("host-secret", "evil:x:0:0::/:/bin/sh\n");
	snprintf(path, sizeof(path), "%s/etc/passwd", root);
	unlink(path);
	{
		/* absolute symlink to a host file: inside the root there is no such file */
		char target[600];
		snprintf(target, sizeof(target), "%s/host-secret", root);
		if (symlink(target, path) < 0)
			printf("# symlink failed\n");
	}
	for (int pass = 0; pass < 2; pass++) {
		berth_root_force_walk = pass == 1;
		user_is("evil", NULL,
			"unable to find user evil: no matching entries in passwd file",
			"/etc/passwd -> the host's file by absolute path is not read");
	}
	unlink(path);
	if (symlink("../../../../../../host-secret", path) < 0)
		printf("# symlink failed\n");
	for (int pass = 0; pass < 2; pass++) {
		berth_root_force_walk = pass == 1;
		user_is("evil", NULL, "0:0 / [0]",
			"../ past the root stops at the root (the root's own /host-secret)");
	}
	unlink(path);
	if (symlink("/proc/self/root/etc/passwd", path) < 0)
		printf("# symlink failed\n");
	for (int pass = 0; pass < 2; pass++) {
		berth_root_force_walk = pass == 1;
		user_is("daemon", NULL,
			"unable to find user daemon: no matching entries in passwd file",
			"a /proc magic link is not followed to the host");
	}
	unlink(path);
	/* a fifo planted as /etc/passwd: refused, never opened (an open would block) */
	if (mkfifo(path, 0644) < 0)
		printf("# mkfifo failed\n");
	for (int pass = 0; pass < 2; pass++) {
		berth_root_force_walk = pass == 1;
		user_is("root", NULL, "'/etc/passwd' in the container is not a regular file",
			"a fifo at /etc/passwd");
	}
	unlink(path);
	{
		char etc[512];
		snprintf(etc, sizeof(etc), "%s/etc", root);
		unlink(etc); /* not a link: fails harmlessly */
	}
	berth_root_force_walk = false;
	user_is("", NULL, "0:0 / [0]", "no /etc/passwd at all: root, home /");
	user_is("app", NULL, "unable to find user app: no matching entries in passwd file",
		"no /etc/passwd: names are unknown");
}

/* ---- seccomp ----------------------------------------------------------------------------- */

static json_t *convert(const char *profile, const char *arch, const char *const *caps,
		       unsigned kmaj, unsigned kmin, char **ret_err)
{
	struct berth_dockerspec_seccomp_target t = {
		.arch = arch,
		.caps = (char *const *)caps,
		.kernel_major = kmaj,
		.kernel_minor = kmin,
	};
	struct berth_error *err = NULL;
	json_t *out = NULL;

	*ret_err = NULL;
	if (berth_dockerspec_seccomp_convert(profile, strlen(profile), &t, &out, &err) < 0) {
		*ret_err = strdup(err->msg);
		berth_error_free(err);
	}
	return out;
}

static char *names_of(const json_t *s)
{
	char buf[4096] = "";
	size_t i, n = 0;
	json_t *g;
	json_array_foreach (json_object_get(s, "syscalls"), i, g) {
		size_t k;
		json_t *nm;
		json_array_foreach (json_object_get(g, "names"), k, nm)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "",
					      json_string_value(nm));
	}
	return strdup(buf);
}

static void test_seccomp(void)
{
	static const char *const none[] = {NULL};
	static const char *const admin[] = {"CAP_SYS_ADMIN", NULL};
	const char *profile =
		"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,\"archMap\":["
		"{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\","
		"\"SCMP_ARCH_X32\"]},{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":"
		"[\"SCMP_ARCH_ARM\"]}],\"syscalls\":["
		"{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		"{\"name\":\"mount\",\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":"
		"[\"CAP_SYS_ADMIN\"]}},"
		"{\"names\":[\"clone\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
		"\"value\":2114060288,\"op\":\"SCMP_CMP_MASKED_EQ\"}],\"excludes\":{\"caps\":"
		"[\"CAP_SYS_ADMIN\"],\"arches\":[\"s390x\"]}},"
		"{\"names\":[\"arch_prctl\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{"
		"\"arches\":"
		"[\"amd64\"]}},"
		"{\"names\":[\"newcall\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{"
		"\"minKernel\":"
		"\"6.5\"}},"
		"{\"names\":[\"clone3\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,"
		"\"excludes\":"
		"{\"caps\":[\"CAP_SYS_ADMIN\"]}}]}";
	char *err = NULL, *n;
	json_t *s;

	s = convert(profile, "amd64", none, 6, 1, &err);
	n = s ? names_of(s) : err;
	is_str(n, "read write clone arch_prctl clone3",
	       "no caps, amd64, kernel 6.1: caps- and kernel-gated rules dropped");
	free(n);
	n = s ? dumps(json_object_get(s, "architectures")) : NULL;
	is_str(n, "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]",
	       "archMap: native x86_64 with i386 and x32");
	free(n);
	n = s ? dumps(json_array_get(json_object_get(s, "syscalls"), 3)) : NULL;
	is_str(n, "{\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,\"names\":[\"clone3\"]}",
	       "clone3 -> ENOSYS kept with its errno");
	free(n);
	n = s ? dumps(json_object_get(json_array_get(json_object_get(s, "syscalls"), 1), "args"))
	      : NULL;
	is_str(n,
	       "[{\"index\":0,\"op\":\"SCMP_CMP_MASKED_EQ\",\"value\":2114060288,\"valueTwo\":0}]",
	       "argument filters kept");
	free(n);
	json_decref(s);

	s = convert(profile, "amd64", admin, 6, 5, &err);
	n = s ? names_of(s) : err;
	is_str(n, "read write mount arch_prctl newcall",
	       "CAP_SYS_ADMIN, kernel 6.5: mount in, clone filter and clone3 ENOSYS out");
	free(n);
	json_decref(s);

	s = convert(profile, "arm64", none, 6, 1, &err);
	n = s ? dumps(json_object_get(s, "architectures")) : err;
	is_str(n, "[\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\"]", "archMap on arm64");
	free(n);
	n = s ? names_of(s) : NULL;
	is_str(n, "read write clone clone3", "arches include/exclude on arm64");
	free(n);
	json_decref(s);

	s = convert("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86\"],"
		    "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\"}]}",
		    "amd64", none, 6, 1, &err);
	is_str(err,
	       "both 'architectures' and 'archMap' are specified in the seccomp profile, use "
	       "either 'architectures' or 'archMap'",
	       "architectures and archMap together");
	free(err);
	json_decref(s);
	s = convert("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"name\":\"read\","
		    "\"names\":[\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
		    "amd64", none, 6, 1, &err);
	is_str(err,
	       "both 'name' and 'names' are specified in the seccomp profile, use either 'name' "
	       "or 'names'",
	       "name and names together");
	free(err);
	json_decref(s);
	s = convert("{\"defaultAction\":\"SCMP_ACT_MAYBE\"}", "amd64", none, 6, 1, &err);
	is_str(err, "invalid seccomp default action 'SCMP_ACT_MAYBE' in the profile",
	       "unknown default action");
	free(err);
	json_decref(s);
	s = convert("{\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\","
		    "\"includes\":{\"minKernel\":\"6\"}}]}",
		    "amd64", none, 6, 1, &err);
	is_str(err,
	       "Decoding seccomp profile failed: invalid kernel version: \"6\", expected "
	       "\"<kernel>.<major>\"",
	       "bad minKernel");
	free(err);
	json_decref(s);
	s = convert("{}", "amd64", none, 6, 1, &err);
	ok(!s && !err, "an empty profile: no seccomp at all");
	json_decref(s);

	/* docker's default profile */
	{
		struct berth_dockerspec_seccomp_target t = {.arch = "amd64",
							    .caps = (char *const *)none,
							    .kernel_major = 6,
							    .kernel_minor = 1};
		struct berth_error *e = NULL;
		json_t *def = NULL;
		ok(berth_dockerspec_seccomp_default(&t, &def, &e) == 0 && def,
		   "the default profile builds");
		n = def ? dumps(def) : NULL;
		ok(n && strstr(n, "\"defaultAction\":\"SCMP_ACT_ERRNO\"") &&
			   strstr(n, "\"defaultErrnoRet\":1"),
		   "default: ERRNO EPERM");
		ok(n && strstr(n, "{\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,\"names\":"
				  "[\"clone3\"]}"),
		   "default: clone3 ENOSYS without CAP_SYS_ADMIN");
		ok(n && strstr(n, "\"value\":40,\"valueTwo\":0,\"op\":\"SCMP_CMP_NE\"") == NULL &&
			   strstr(n, "\"op\":\"SCMP_CMP_NE\",\"value\":40"),
		   "default: socket() without AF_VSOCK");
		ok(n && strstr(n, "4294967295"), "default: personality(0xffffffff) query allowed");
		ok(n && !strstr(n, "\"unshare\"") && !strstr(n, "\"reboot\"") &&
			   !strstr(n, "\"init_module\""),
		   "default: unshare, reboot, init_module denied");
		free(n);
		json_decref(def);
		berth_error_free(e);
	}
}

/* normalise an update body; the error message, or NULL with *ret and *warn set */
static char *update(const char *body, const char *api, bool blkio, json_t **ret, json_t **warn)
{
	struct berth_dockerspec_host h = host_v1();
	struct berth_error *err = NULL;
	json_error_t je;
	json_t *j = json_loads(body, JSON_DECODE_ANY, &je);
	char *msg = NULL;

	h.blkio_weight = blkio;
	*ret = *warn = NULL;
	if (!j)
		return strdup("test body is not JSON");
	if (berth_dockerspec_update_normalize(j, api, &h, ret, warn, &err) < 0) {
		msg = strdup(err->msg);
		berth_error_free(err);
	}
	json_decref(j);
	return msg;
}

static void update_refused(const char *body, const char *want, const char *what)
{
	json_t *u, *w;
	char *msg = update(body, NULL, true, &u, &w);
	is_str(msg, want, "update refused: %s", what);
	free(msg);
	json_decref(u);
	json_decref(w);
}

static void test_update(void)
{
	json_t *u, *w;
	char *msg;

	update_refused("{\"Memory\":\"big\"}",
		       "invalid JSON: json: cannot unmarshal string into Go struct field "
		       "UpdateConfig.Memory of type int64",
		       "Memory as a string");
	update_refused("{\"PidsLimit\":true}",
		       "invalid JSON: json: cannot unmarshal bool into Go struct field "
		       "UpdateConfig.PidsLimit of type int64",
		       "PidsLimit as a bool");
	update_refused("{\"RestartPolicy\":{\"Name\":7}}",
		       "invalid JSON: json: cannot unmarshal number into Go struct field "
		       "UpdateConfig.RestartPolicy.Name of type string",
		       "a restart policy name as a number");
	update_refused("[1]",
		       "invalid JSON: json: cannot unmarshal array into Go value of type "
		       "container.UpdateConfig",
		       "an array");
	update_refused("{\"Memory\":1048576}", "Minimum memory limit allowed is 6MB", "-m 1m");
	update_refused("{\"Memory\":-5}", "Minimum memory limit allowed is 6MB", "-m -5");
	update_refused("{\"NanoCpus\":-1}",
		       "range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available",
		       "--cpus -1");
	update_refused("{\"CpuPeriod\":100}",
		       "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s "
		       "(i.e. 1000000)",
		       "--cpu-period 100");
	update_refused("{\"BlkioWeight\":5}", "Range of blkio weight is from 10 to 1000",
		       "--blkio-weight 5");
	update_refused("{\"RestartPolicy\":{\"Name\":\"sometimes\"}}",
		       "invalid restart policy: unknown policy 'sometimes'; use one of 'no', "
		       "'always', 'on-failure', or 'unless-stopped'",
		       "an unknown restart policy");
	update_refused("{\"CpusetCpus\":\"7\"}",
		       "Requested CPUs are not available - requested 7, available: 0-1",
		       "a cpuset the host lacks");

	/* swap alone is fine for an update (dockerd checks it against the record, later) */
	msg = update("{\"MemorySwap\":67108864,\"Foo\":1,\"Memory\":null}", NULL, true, &u, &w);
	ok(!msg && json_integer_value(json_object_get(u, "MemorySwap")) == 67108864 &&
		   !json_object_get(u, "Foo") && !json_object_get(u, "Memory") &&
		   json_array_size(w) == 0,
	   "update: swap alone accepted, other keys and nulls dropped");
	free(msg);
	json_decref(u);
	json_decref(w);
	msg = update("{\"PidsLimit\":-5}", NULL, true, &u, &w);
	ok(!msg && json_integer_value(json_object_get(u, "PidsLimit")) == 0,
	   "update: a negative PidsLimit is 0 (unlimited)");
	free(msg);
	json_decref(u);
	json_decref(w);
	msg = update("{\"PidsLimit\":50}", "1.39", true, &u, &w);
	ok(!msg && !json_object_get(u, "PidsLimit"), "update: PidsLimit dropped before API 1.40");
	free(msg);
	json_decref(u);
	json_decref(w);
	msg = update("{\"BlkioWeight\":5}", NULL, false, &u, &w);
	ok(!msg && json_integer_value(json_object_get(u, "BlkioWeight")) == 0 &&
		   json_array_size(w) == 1 &&
		   strstr(json_string_value(json_array_get(w, 0)) ?: "", "Block I/O weight"),
	   "update: a blkio weight without the controller is a warning, as dockerd");
	free(msg);
	json_decref(u);
	json_decref(w);
	msg = update("{\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}}", NULL,
		     true, &u, &w);
	ok(!msg, "update: on-failure:3 accepted");
	free(msg);
	json_decref(u);
	json_decref(w);
}

int main(void)
{
	root = mkdtemp(root_template);
	if (!root) {
		printf("1..0 # SKIP no temp dir\n");
		return 0;
	}
	{
		char etc[512];
		snprintf(etc, sizeof(etc), "%s/etc", root);
		mkdir(etc, 0755);
	}
	test_validation();
	test_update();
	test_defaults();
	test_merge();
	write_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	test_spec();
	test_users();
	{
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "%s/etc/passwd", root);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/etc/group", root);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/host-secret", root);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/etc", root);
		rmdir(cmd);
		rmdir(root);
	}
	test_seccomp();
	return done_testing();
}
