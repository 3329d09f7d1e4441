/* SPDX-License-Identifier: Apache-2.0 */
/*
 * linux.seccomp -> a libseccomp filter.  Compiling happens early (before the container waits
 * for `start`) so that a bad profile fails `create`; loading happens just before exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux.h"
#include "base/banned.h"

/* kernel headers older than 6.0 lack it; the value is ABI */
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* libseccomp learnt the wait-killable attribute in 2.6 */
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
#define HAVE_SCMP_WAITKILL 1
#endif

#define MAX_SYSCALL_ARGS 6
#define ACTION_MASK	 0xffff0000U /* the action without its errno/trace data */

struct berth_seccomp_filter {
	scmp_filter_ctx ctx;
	bool notify;		/* some action is SCMP_ACT_NOTIFY: load hands back the listener */
	unsigned long kflags;	/* the kernel's SECCOMP_FILTER_FLAG_* the spec asked for */
	struct sock_fprog prog; /* the program, once berth_seccomp_prepare() made it */
};

struct flag_info {
	const char *name;
	unsigned long kernel_flag;
	int attr; /* SCMP_FLTATR_*; -1 when this libseccomp cannot set it */
};

static const struct flag_info flag_table[] = {
	{"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC, SCMP_FLTATR_CTL_TSYNC},
	{"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG, SCMP_FLTATR_CTL_LOG},
	{"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW, SCMP_FLTATR_CTL_SSB},
#ifdef HAVE_SCMP_WAITKILL
	{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
	 SCMP_FLTATR_CTL_WAITKILL},
#else
	{"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, -1},
#endif
};

static const char *const action_names[] = {
	"SCMP_ACT_ALLOW",	 "SCMP_ACT_ERRNO",	 "SCMP_ACT_KILL",
	"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
	"SCMP_ACT_NOTIFY",	 "SCMP_ACT_TRACE",	 "SCMP_ACT_TRAP",
};

static const char *const operator_names[] = {
	"SCMP_CMP_EQ", "SCMP_CMP_GE",	     "SCMP_CMP_GT", "SCMP_CMP_LE",
	"SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
};

/* The spec's names; each maps to libseccomp's by lowercasing what follows "SCMP_ARCH_". */
static const char *const arch_names[] = {
	"SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",	    "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",	   "SCMP_ARCH_MIPS64",	    "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",	    "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
};

/* "SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64's token; 0 when unknown. */
static uint32_t resolve_arch(const char *name)
{
	char lower[32];
	size_t i, n;

	if (!berth_str_has_prefix(name, "SCMP_ARCH_"))
		return 0;
	name += strlen("SCMP_ARCH_");
	n = strlen(name);
	if (n == 0 || n >= sizeof(lower))
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	lower[n] = '\0';
	return seccomp_arch_resolve_name(lower);
}

/*
 * The spec's action plus its errnoRet -> the libseccomp action.  EINVAL for an action this
 * build does not know or an errno that does not fit.
 */
static int make_action(uint32_t action, int64_t errno_ret, uint32_t *ret, const char *what,
		       struct berth_error **err)
{
	uint32_t base = action & ACTION_MASK;

	if (base == (SCMP_ACT_ERRNO(0) & ACTION_MASK) ||
	    base == (SCMP_ACT_TRACE(0) & ACTION_MASK)) {
		bool is_errno = base == (SCMP_ACT_ERRNO(0) & ACTION_MASK);
		int64_t v = errno_ret;

		if (v == BERTH_UNSET)
			v = is_errno ? EPERM : 0;
		/* the kernel keeps 16 bits of data; an errno above that would silently wrap */
		if (v < 0 || v > 0xffff)
			return berth_error_set(err, EINVAL, "%s: errnoRet %" PRId64 " out of range",
					       what, errno_ret);
		*ret = is_errno ? SCMP_ACT_ERRNO((uint32_t)v) : SCMP_ACT_TRACE((uint32_t)v);
		return 0;
	}
	switch (action) {
	case SCMP_ACT_ALLOW:
	case SCMP_ACT_KILL_THREAD:
	case SCMP_ACT_KILL_PROCESS:
	case SCMP_ACT_TRAP:
	case SCMP_ACT_LOG:
	case SCMP_ACT_NOTIFY:
		*ret = action;
		return 0;
	default:
		return berth_error_set(err, EINVAL, "%s: unknown action 0x%08x", what, action);
	}
}

static int make_condition(const struct berth_seccomp_arg *a, struct scmp_arg_cmp *c,
			  const char *name, struct berth_error **err)
{
	if (a->index >= MAX_SYSCALL_ARGS)
		return berth_error_set(err, EINVAL, "syscall '%s': argument index %u out of range",
				       name, a->index);
	if (a->op < SCMP_CMP_NE || a->op > SCMP_CMP_MASKED_EQ)
		return berth_error_set(err, EINVAL, "syscall '%s': unknown operator %d", name,
				       a->op);
	/* for MASKED_EQ, as runc passes them: (arg & value) == valueTwo */
	*c = (struct scmp_arg_cmp){
		.arg = a->index,
		.op = (enum scmp_compare)a->op,
		.datum_a = a->value,
		.datum_b = a->value_two,
	};
	return 0;
}

static int add_rule(struct berth_seccomp_filter *f, const struct berth_seccomp_rule *r,
		    uint32_t default_action, struct berth_error **err)
{
	struct scmp_arg_cmp conds[MAX_SYSCALL_ARGS];
	unsigned per_index[MAX_SYSCALL_ARGS] = {0};
	bool separate = false;
	uint32_t action;
	size_t i, j;
	int rc;

	if (!r->names || !r->names[0])
		return berth_error_set(err, EINVAL, "seccomp rule without syscall names");
	rc = make_action(r->action, r->errno_ret, &action, r->names[0], err);
	if (rc < 0)
		return rc;
	if (r->n_args > MAX_SYSCALL_ARGS * 16)
		return berth_error_set(err, EINVAL, "syscall '%s': too many arguments (%zu)",
				       r->names[0], r->n_args);
	for (i = 0; i < r->n_args; i++) {
		if (r->args[i].index >= MAX_SYSCALL_ARGS)
			return berth_error_set(err, EINVAL,
					       "syscall '%s': argument index %u out of range",
					       r->names[0], r->args[i].index);
		if (++per_index[r->args[i].index] > 1)
			separate = true;
	}
	if (action == SCMP_ACT_NOTIFY)
		f->notify = true;
	/* libseccomp refuses a rule that repeats the default action; it would change nothing */
	if (action == default_action)
		return 0;

	for (i = 0; r->names[i]; i++) {
		const char *name = r->names[i];
		int nr = seccomp_syscall_resolve_name(name);

		/* a syscall this kernel/libseccomp does not know: runc skips it, so do we */
		if (nr == __NR_SCMP_ERROR)
			continue;

		if (separate) {
			/*
			 * Two conditions on one argument can never both hold in one rule (and
			 * libseccomp rejects them): as runc does, each becomes a rule of its own.
			 */
			for (j = 0; j < r->n_args; j++) {
				rc = make_condition(&r->args[j], &conds[0], name, err);
				if (rc < 0)
					return rc;
				rc = seccomp_rule_add_array(f->ctx, action, nr, 1, conds);
				if (rc < 0)
					return berth_error_sys(err, -rc,
							       "add seccomp rule for '%s'", name);
			}
			continue;
		}
		for (j = 0; j < r->n_args; j++) {
			rc = make_condition(&r->args[j], &conds[j], name, err);
			if (rc < 0)
				return rc;
		}
		rc = seccomp_rule_add_array(f->ctx, action, nr, (unsigned)r->n_args, conds);
		if (rc < 0)
			return berth_error_sys(err, -rc, "add seccomp rule for '%s'", name);
	}
	return 0;
}

static int set_flag(struct berth_seccomp_filter *f, const char *name, struct berth_error **err)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_table); i++) {
		int rc;

		if (strcmp(flag_table[i].name, name) != 0)
			continue;
		if (flag_table[i].attr < 0)
			return berth_error_set(
				err, EOPNOTSUPP,
				"seccomp flag '%s': not supported by this libseccomp", name);
		rc = seccomp_attr_set(f->ctx, (enum scmp_filter_attr)flag_table[i].attr, 1);
		if (rc < 0)
			return berth_error_sys(err, -rc, "seccomp flag '%s'", name);
		f->kflags |= flag_table[i].kernel_flag;
		return 0;
	}
	return berth_error_set(err, EINVAL, "unknown seccomp flag '%s'", name);
}

void berth_seccomp_filter_free(struct berth_seccomp_filter *f)
{
	if (!f)
		return;
	free(f->prog.filter);
	if (f->ctx)
		seccomp_release(f->ctx);
	free(f);
}

static void filter_freep(struct berth_seccomp_filter **f)
{
	berth_seccomp_filter_free(*f);
}

int berth_seccomp_compile(const struct berth_seccomp *s, struct berth_seccomp_filter **ret,
			  struct berth_error **err)
{
	_cleanup_(filter_freep) struct berth_seccomp_filter *f = NULL;
	uint32_t default_action;
	size_t i;
	int rc;

	rc = make_action(s->default_action, s->default_errno_ret, &default_action,
			 "seccomp defaultAction", err);
	if (rc < 0)
		return rc;
	/* the kernel would have nothing to notify about: every syscall would wait forever */
	if (default_action == SCMP_ACT_NOTIFY)
		return berth_error_set(err, EINVAL,
				       "seccomp defaultAction: SCMP_ACT_NOTIFY is not allowed");

	f = calloc(1, sizeof(*f));
	if (!f)
		return berth_error_set(err, ENOMEM, "out of memory");
	f->ctx = seccomp_init(default_action);
	if (!f->ctx)
		return berth_error_set(err, EINVAL,
				       "seccomp_init: cannot use default action 0x%08x",
				       default_action);
	/*
	 * libseccomp sets no_new_privs on load by default.  The spec keeps that to
	 * noNewPrivileges, which apply_identity handles; without it the filter is loaded while
	 * the process still holds CAP_SYS_ADMIN.
	 */
	rc = seccomp_attr_set(f->ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0)
		return berth_error_sys(err, -rc, "seccomp: clear no_new_privs attribute");

	for (i = 0; s->architectures && s->architectures[i]; i++) {
		uint32_t arch = resolve_arch(s->architectures[i]);

		if (arch == 0)
			return berth_error_set(err, EINVAL, "unknown seccomp architecture '%s'",
					       s->architectures[i]);
		rc = seccomp_arch_add(f->ctx, arch);
		if (rc < 0 && rc != -EEXIST)
			return berth_error_sys(err, -rc, "add seccomp architecture '%s'",
					       s->architectures[i]);
	}
	for (i = 0; s->flags && s->flags[i]; i++) {
		rc = set_flag(f, s->flags[i], err);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < s->n_syscalls; i++) {
		rc = add_rule(f, &s->syscalls[i], default_action, err);
		if (rc < 0)
			return rc;
	}
	/* without a listener nobody could answer: the notified syscalls would only fail */
	if (f->notify && !s->listener_path)
		return berth_error_set(err, EINVAL,
				       "seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
	*ret = TAKE_PTR(f);
	return 0;
}

int berth_seccomp_prepare(struct berth_seccomp_filter *f, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int rc;

	if (f->prog.filter || f->notify)
		return 0;
	fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
	if (fd < 0)
		return berth_error_sys(err, errno, "memfd_create");
	rc = seccomp_export_bpf(f->ctx, fd);
	if (rc < 0)
		return berth_error_sys(err, -rc, "export seccomp filter");
	if (lseek(fd, 0, SEEK_SET) < 0 || berth_read_fd(fd, 1 << 20, &data, &len, err) < 0)
		return berth_error_sys(err, errno, "read seccomp filter");
	if (len == 0 || len % sizeof(struct sock_filter) ||
	    len / sizeof(struct sock_filter) > 65535)
		return berth_error_set(err, EINVAL, "seccomp filter of %zu bytes", len);
	f->prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	f->prog.filter = (struct sock_filter *)TAKE_PTR(data);
	return 0;
}

int berth_seccomp_load(struct berth_seccomp_filter *f, int *ret_listener_fd,
		       struct berth_error **err)
{
	int rc;

	if (f->prog.filter && !f->notify) {
		/* the program made once: no libseccomp generation in the child */
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->kflags, &f->prog) < 0)
			return berth_error_sys(err, errno, "load seccomp filter");
		if (ret_listener_fd)
			*ret_listener_fd = -EBADF;
		return 0;
	}
	rc = seccomp_load(f->ctx);
	if (rc < 0)
		return berth_error_sys(err, -rc, "load seccomp filter");
	if (!ret_listener_fd)
		return 0;
	*ret_listener_fd = -EBADF;
	if (f->notify) {
		/* the kernel made it O_CLOEXEC; ownership passes to the caller */
		int fd = seccomp_notify_fd(f->ctx);
		if (fd < 0)
			return berth_error_sys(err, -fd, "seccomp notification fd");
		*ret_listener_fd = fd;
	}
	return 0;
}

/* ---- the program cache ------------------------------------------------------------------- */

/*
 * The text a cached program is kept under: everything of the profile that makes the program,
 * and libseccomp's version (which knows the syscall numbers).  NULL when out of memory.
 */
static char *cache_key(const struct berth_seccomp *s)
{
	const struct scmp_version *v = seccomp_version();
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f, "berth seccomp 1\nlibseccomp %u.%u.%u\ndefault %" PRIu32 " %" PRId64 "\n",
		v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0, s->default_action,
		s->default_errno_ret);
	for (size_t i = 0; s->architectures && s->architectures[i]; i++)
		fprintf(f, "arch %s\n", s->architectures[i]);
	for (size_t i = 0; s->flags && s->flags[i]; i++)
		fprintf(f, "flag %s\n", s->flags[i]);
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct berth_seccomp_rule *r = &s->syscalls[i];
		fprintf(f, "rule %" PRIu32 " %" PRId64, r->action, r->errno_ret);
		for (size_t k = 0; r->names && r->names[k]; k++)
			fprintf(f, " %s", r->names[k]);
		for (size_t k = 0; k < r->n_args; k++)
			fprintf(f, " arg %u %" PRIu64 " %" PRIu64 " %d", r->args[k].index,
				r->args[k].value, r->args[k].value_two, r->args[k].op);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* A cached file: the key text, a NUL, the kernel flags (8 bytes), the program. */
static char *cache_file_name(const char *dir, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a: a name only, the file holds the whole key */
	char *path;

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return asprintf(&path, "%s/%016" PRIx64 ".bpf", dir, h) < 0 ? NULL : path;
}

static int cache_read(const char *path, const char *key, struct berth_seccomp_filter **ret)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0, klen = strlen(key) + 1, plen;
	struct berth_seccomp_filter *f;
	uint64_t kflags;

	if (berth_read_regular_file_at(AT_FDCWD, path, 1 << 20, &data, &len, NULL) < 0)
		return -1;
	if (len < klen + sizeof(kflags) || memcmp(data, key, klen) != 0)
		return -1; /* another profile under the same name, or a torn file: a miss */
	plen = len - klen - sizeof(kflags);
	if (plen == 0 || plen % sizeof(struct sock_filter) ||
	    plen / sizeof(struct sock_filter) > 65535)
		return -1;
	f = calloc(1, sizeof(*f));
	if (!f || !(f->prog.filter = malloc(plen))) {
		free(f);
		return -1;
	}
	memcpy(&kflags, data + klen, sizeof(kflags));
	f->kflags = (unsigned long)kflags;
	memcpy(f->prog.filter, data + klen + sizeof(kflags), plen);
	f->prog.len = (unsigned short)(plen / sizeof(struct sock_filter));
	*ret = f;
	return 0;
}

static void cache_write(const char *dir, const char *path, const char *key,
			const struct berth_seccomp_filter *f)
{
	size_t klen = strlen(key) + 1, plen = f->prog.len * sizeof(struct sock_filter);
	uint64_t kflags = f->kflags;
	_cleanup_free_ char *data = malloc(klen + sizeof(kflags) + plen);

	if (!data || berth_mkdir_p(dir, 0700, NULL) < 0)
		return;
	memcpy(data, key, klen);
	memcpy(data + klen, &kflags, sizeof(kflags));
	memcpy(data + klen + sizeof(kflags), f->prog.filter, plen);
	berth_write_file_replace_at(AT_FDCWD, path, data, klen + sizeof(kflags) + plen, 0600, NULL);
}

int berth_seccomp_compile_cached(const struct berth_seccomp *s, const char *cache_dir,
				 struct berth_seccomp_filter **ret, struct berth_error **err)
{
	_cleanup_free_ char *key = NULL, *path = NULL;
	int r;

	if (!cache_dir || s->listener_path || !(key = cache_key(s)) ||
	    !(path = cache_file_name(cache_dir, key)))
		return berth_seccomp_compile(s, ret, err);
	if (cache_read(path, key, ret) == 0)
		return 0;
	r = berth_seccomp_compile(s, ret, err);
	if (r < 0)
		return r;
	/* a notifying filter has no program to keep; any failure here only costs speed */
	if (!(*ret)->notify && berth_seccomp_prepare(*ret, NULL) == 0)
		cache_write(cache_dir, path, key, *ret);
	return 0;
}

/* Does this kernel take the flag?  A filter pointer of NULL makes a supported call EFAULT. */
static bool kernel_has_flag(unsigned long flag)
{
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flag, NULL);

	return r < 0 && errno == EFAULT;
}

static json_t *strv_json(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *berth_seccomp_features(void)
{
	json_t *j = json_object(), *archs = json_array(), *known = json_array(),
	       *supported = json_array();

	if (!j || !archs || !known || !supported) {
		json_decref(j);
		json_decref(archs);
		json_decref(known);
		json_decref(supported);
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(arch_names); i++)
		if (resolve_arch(arch_names[i]) != 0)
			json_array_append_new(archs, json_string(arch_names[i]));
	for (size_t i = 0; i < ARRAY_SIZE(flag_table); i++) {
		json_array_append_new(known, json_string(flag_table[i].name));
		if (flag_table[i].attr >= 0 && kernel_has_flag(flag_table[i].kernel_flag))
			json_array_append_new(supported, json_string(flag_table[i].name));
	}
	json_object_set_new(j, "enabled", json_true());
	json_object_set_new(j, "actions", strv_json(action_names, ARRAY_SIZE(action_names)));
	json_object_set_new(j, "operators", strv_json(operator_names, ARRAY_SIZE(operator_names)));
	json_object_set_new(j, "archs", archs);
	json_object_set_new(j, "knownFlags", known);
	json_object_set_new(j, "supportedFlags", supported);
	return j;
}
