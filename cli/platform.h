/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "cli.h"

/*
 * containerd's platforms.Parse (as docker 28 vendors it): "os", "arch", "os/arch",
 * "os/arch/variant", the OS optionally with a version in parentheses ("windows(10.0.17763)"),
 * normalized ("x86_64" is amd64, "aarch64" arm64, "armhf" arm v7...), as an OCI platform JSON
 * object {"architecture", "os", "os.version", "variant"}.  -1 with containerd's message
 * ("\"x\": unknown operating system or architecture: invalid argument") in *err.
 */
int platform_parse(const char *spec, json_t **ret, char **err);

/* The platform as docker's client sends it in a query: compact JSON (malloc'd), or NULL with
 * *err. */
char *platform_query(const char *spec, char **err);
/*
 * A --platform flag's value (load, save, history) as that query value in *ret (NULL when the
 * flag is empty or not given): 0, or 1 after docker's "invalid platform: ..." on stderr.
 */
int platform_flag_query(const char *flag, char **ret);
