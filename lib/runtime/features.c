/* SPDX-License-Identifier: Apache-2.0 */
/* The `features` document of runtime-spec features.md: what this build and this host support. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "container-internal.h"
#include "base/banned.h"

static bool file_says_yes(const char *path)
{
	char c = 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd >= 0 && read(fd, &c, 1) == 1 && (c == 'Y' || c == 'y' || c == '1');
}

json_t *berth_runtime_features(const struct berth_runtime_opts *o)
{
	json_t *j = json_object(), *linux_ = json_object(), *a;
	json_t *cgroup = NULL;

	if (!j || !linux_) {
		if (j)
			json_decref(j);
		if (linux_)
			json_decref(linux_);
		return NULL;
	}
	json_object_set_new(j, "ociVersionMin", json_string("1.0.0"));
	json_object_set_new(j, "ociVersionMax", json_string("1.2.0"));
	a = json_array();
	for (const char *const *h =
		     (const char *const[]){"prestart", "createRuntime", "createContainer",
					   "startContainer", "poststart", "poststop", NULL};
	     *h; h++)
		json_array_append_new(a, json_string(*h));
	json_object_set_new(j, "hooks", a);
	a = json_array();
	for (const char *const *m = berth_mount_known_options(); m && *m; m++)
		json_array_append_new(a, json_string(*m));
	json_object_set_new(j, "mountOptions", a);

	a = json_array();
	for (int t = 0; t < BERTH_NS_COUNT; t++)
		json_array_append_new(a, json_string(berth_ns_name((enum berth_ns_type)t)));
	json_object_set_new(linux_, "namespaces", a);
	a = json_array();
	for (int cap = 0; cap <= berth_cap_last(); cap++)
		if (berth_cap_name(cap))
			json_array_append_new(a, json_string(berth_cap_name(cap)));
	json_object_set_new(linux_, "capabilities", a);
	if (berth_cgroup_features(o->cgroup_root, &cgroup, NULL) == 0)
		json_object_set_new(linux_, "cgroup", cgroup);
	json_object_set_new(linux_, "seccomp", berth_seccomp_features());
	json_object_set_new(linux_, "apparmor",
			    json_pack("{s:b}", "enabled",
				      file_says_yes("/sys/module/apparmor/parameters/enabled")));
	json_object_set_new(
		linux_, "selinux",
		json_pack("{s:b}", "enabled", access("/sys/fs/selinux/enforce", F_OK) == 0));
	json_object_set_new(linux_, "intelRdt", json_pack("{s:b}", "enabled", 0));
	json_object_set_new(linux_, "mountExtensions",
			    json_pack("{s:{s:b}}", "idmap", "enabled", 1));
	json_object_set_new(j, "linux", linux_);
	json_object_set_new(j, "annotations",
			    json_pack("{s:s}", "io.github.berth.version", BERTH_VERSION));
	return j;
}
