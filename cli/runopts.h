/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * docker's parsers for run/create's options (cli/opts, go-connections/nat, runconfig): each one
 * turns a flag's value into the Engine API's JSON as the docker CLI 28 sends it, or fails with
 * docker's message in *err (malloc'd).  Pure: no I/O but the env/label files' reading.
 */

#include <stdbool.h>

#include "base/base.h"

/*
 * nat.ParsePortSpecs for one -p value: "[ip:][hostPort:]containerPort[/proto]", ranges
 * ("8000-8001:80-81"), IPv6 in brackets.  Adds "80/tcp" keys to exposed ({}) and bindings
 * ([{"HostIp","HostPort"}]).
 */
int port_spec_parse(const char *spec, json_t *exposed, json_t *bindings, char **err);
/* --expose: "80", "80/udp", "7000-7010/tcp" into exposed. */
int expose_parse(const char *spec, json_t *exposed, char **err);

/*
 * opts.ParseEnvFile (also --label-file): the lines of path, "K=V" as they are, a bare "K" taken
 * from the environment (left out when unset), blank and '#' lines skipped.  Appends to out.
 */
int env_file_parse(const char *path, json_t *out, char **err);
/* An -e value: "K=V" as it is, a bare "K" from the environment (nothing when unset). */
void env_value_add(const char *value, json_t *out);

/* units.ParseUlimit: "nofile=1024[:2048]" as {"Name","Hard","Soft"}. */
json_t *ulimit_parse(const char *value, char **err);

/* opts.MountOpt.Set: "type=bind,source=/a,target=/b,readonly" as a mount.Mount. */
json_t *mount_parse(const char *value, char **err);

/* opts.ParseRestartPolicy: "NAME[:COUNT]"; the name and count are berthd's to check. */
json_t *restart_parse(const char *value, char **err);

/* runconfig's parseDevice: "/dev/x[:/dev/y][:rwm]" as a container.DeviceMapping. */
json_t *device_parse(const char *value, char **err);

/* --tmpfs "/run[:opts]" into the map out. */
int tmpfs_parse(const char *value, json_t *out, char **err);

/* parseSecurityOpts: "seccomp=<file>" becomes the file's compacted JSON; others unchanged. */
char *security_opt_parse(const char *value, char **err);

/* opts.ValidateExtraHost: "name:ip" / "name=ip" (host-gateway allowed); returns 0 or -1. */
int extra_host_check(const char *value, char **err);
/* opts.ValidateIPAddress: an IP address (returned canonical, malloc'd) or NULL with *err. */
char *ip_check(const char *value, char **err);

/* opts.NanoCPUs: "1.5" as 1500000000. */
int nano_cpus_parse(const char *value, int64_t *ret, char **err);

/* opts.ValidateAttach (-a): stdin, stdout or stderr, in any case. */
int attach_check(const char *value, char **err);
/* opts.ValidateLink (--link): "name" or "name:alias". */
int link_check(const char *value, char **err);
/* opts.ValidateSysctl (--sysctl): "k=v" of the namespaced sysctls docker's CLI lets through. */
int sysctl_check(const char *value, char **err);
/*
 * --platform as containerd's platforms.Parse and Format: "os[/arch[/variant]]", or an
 * architecture alone (for linux); aliases normalized (x86_64 -> amd64).  *ret malloc'd, NULL
 * for an empty spec.
 */
int run_platform_parse(const char *spec, char **ret, char **err);

/* opts.ValidateWeightDevice (--blkio-weight-device): "/dev/x:weight" as {"Path","Weight"}. */
json_t *weight_device_parse(const char *value, char **err);
/* opts.ValidateThrottle{Bps,IOps}Device: "/dev/x:rate" as {"Path","Rate"} (bps takes units). */
json_t *throttle_device_parse(const char *value, bool iops, char **err);
int weight_device_check(const char *value, char **err);
int throttle_bps_check(const char *value, char **err);
int throttle_iops_check(const char *value, char **err);
/* opts.ValidateDeviceCgroupRule: "^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$". */
int device_cgroup_rule_check(const char *value, char **err);
/* opts.GpuOpts.Set (--gpus): "all", "2", "device=0,capabilities=compute" as a DeviceRequest. */
json_t *gpus_parse(const char *value, char **err);
int gpus_check(const char *value, char **err);
