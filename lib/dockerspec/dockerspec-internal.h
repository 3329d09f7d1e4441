/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the files of lib/dockerspec; not part of its public face. */

#include "dockerspec.h"

#define DOCKERSPEC_PROFILE_MAX (4u << 20)  /* a seccomp profile larger than this is refused */
#define DOCKERSPEC_ETC_MAX     (16u << 20) /* /etc/passwd or /etc/group larger than this */

/* create.c helpers also used by spec.c */
const char *dockerspec_str(const json_t *obj, const char *key); /* "" when absent or null */
int64_t dockerspec_int(const json_t *obj, const char *key);	/* 0 when absent or null */
bool dockerspec_bool(const json_t *obj, const char *key);
/* RLIMIT_* number of docker's ulimit name ("nofile"), -1 when unknown */
int dockerspec_rlimit(const char *name);
/* "host", "private", ... of a namespace mode, "" when absent */
bool dockerspec_network_is_private(const json_t *hc);
bool dockerspec_network_is_host(const json_t *hc);

/* seccomp.c: the profile as data (parsed JSON or the built-in tables) */
struct dockerspec_filter {
	char **caps;
	char **arches;
	bool has_min_kernel;
	unsigned min_major, min_minor;
};

struct dockerspec_arg {
	unsigned index;
	uint64_t value, value_two;
	const char *op; /* "SCMP_CMP_EQ" ... (static) */
};

struct dockerspec_rule {
	char **names;
	const char *action; /* "SCMP_ACT_ALLOW" ... (static) */
	int64_t errno_ret;  /* BERTH_UNSET when absent */
	struct dockerspec_arg *args;
	size_t n_args;
	struct dockerspec_filter includes, excludes;
};

struct dockerspec_arch_map {
	char *arch;
	char **sub_arches;
};

struct dockerspec_profile {
	const char *default_action;
	int64_t default_errno_ret; /* BERTH_UNSET when absent */
	char **architectures;
	struct dockerspec_arch_map *arch_map;
	size_t n_arch_map;
	char **flags;
	char *listener_path;
	char *listener_metadata;
	struct dockerspec_rule *rules;
	size_t n_rules;
};

void dockerspec_profile_release(struct dockerspec_profile *p);
int dockerspec_profile_to_oci(const struct dockerspec_profile *p,
			      const struct berth_dockerspec_seccomp_target *t, json_t **ret,
			      struct berth_error **err);
/* seccomp-default.c: docker's default profile, built from our tables */
int dockerspec_default_profile(struct dockerspec_profile *ret);
/* seccomp.c: the libseccomp-facing names we accept */
const char *dockerspec_seccomp_action(const char *s);
const char *dockerspec_seccomp_op(const char *s);
