/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup v2 has no devices.allow: the device list becomes a BPF_PROG_TYPE_CGROUP_DEVICE program
 * attached to the cgroup.  We emit the instructions ourselves (no libbpf) and load them with the
 * bpf(2) system call.
 *
 * The program sees struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; } where
 * access_type is (access << 16) | type.  Rules are tried last to first and the first that matches
 * decides -- the same outcome as writing them in order to v1's devices.allow/deny, where a later
 * rule overrides an earlier one.  A device no rule matches is denied.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "base/banned.h"

#define PROG_NAME "berth_dev"
#define MAX_RULES 4096

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
	return r < 0 ? -errno : (int)r;
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
	return i;
}

static int parse_access(const char *s, int *ret)
{
	int a = 0;

	if (!s[0]) {
		*ret = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
		return 0;
	}
	for (size_t i = 0; s[i] && i < sizeof(((struct berth_device_rule *)0)->access); i++) {
		switch (s[i]) {
		case 'r':
			a |= BPF_DEVCG_ACC_READ;
			break;
		case 'w':
			a |= BPF_DEVCG_ACC_WRITE;
			break;
		case 'm':
			a |= BPF_DEVCG_ACC_MKNOD;
			break;
		default:
			return -EINVAL;
		}
	}
	*ret = a;
	return 0;
}

int cg_bpf_device_program(const struct berth_device_rule *rules, size_t n, void **ret,
			  size_t *ret_n, struct berth_error **err)
{
	const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
	_cleanup_free_ struct bpf_insn *p = NULL;
	size_t k = 0;
	bool decided = false;

	if (n > MAX_RULES)
		return berth_error_set(err, E2BIG, "too many device rules (%zu, at most %d)", n,
				       MAX_RULES);
	/* 6 to load the context, at most 9 a rule, 2 to deny at the end */
	p = calloc(6 + 9 * n + 2, sizeof(*p));
	if (!p)
		return berth_error_set(err, ENOMEM, "out of memory");

	/* r2 = type, r3 = access, r4 = major, r5 = minor */
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1, 0, 0);
	p[k++] = insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_3, BPF_REG_1, 0, 0);
	p[k++] = insn(BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_4, BPF_REG_1, 4, 0);
	p[k++] = insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_5, BPF_REG_1, 8, 0);

	for (size_t i = n; i-- > 0;) {
		const struct berth_device_rule *r = &rules[i];
		struct bpf_insn b[9];
		size_t nb = 0, jumps[5], nj = 0;
		int type, access;

		switch (r->type) {
		case 'a':
			type = 0;
			break;
		case 'c':
			type = BPF_DEVCG_DEV_CHAR;
			break;
		case 'b':
			type = BPF_DEVCG_DEV_BLOCK;
			break;
		default:
			return berth_error_set(err, EINVAL, "invalid device rule type '%c'",
					       r->type ? r->type : '?');
		}
		if (parse_access(r->access, &access) < 0)
			return berth_error_set(err, EINVAL, "invalid device access '%.4s'",
					       r->access);
		if (r->major > UINT32_MAX || r->minor > UINT32_MAX || r->major < -1 ||
		    r->minor < -1)
			return berth_error_set(err, EINVAL, "invalid device number %lld:%lld",
					       (long long)r->major, (long long)r->minor);
		/* 'a' is every device, as "a" in v1's devices.allow/deny */
		if (type) {
			jumps[nj++] = nb;
			b[nb++] = insn(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_2, 0, 0, type);
			if (r->major >= 0) {
				jumps[nj++] = nb;
				b[nb++] = insn(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 0,
					       (int32_t)(uint32_t)r->major);
			}
			if (r->minor >= 0) {
				jumps[nj++] = nb;
				b[nb++] = insn(BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, 0,
					       (int32_t)(uint32_t)r->minor);
			}
		}
		if (access != all) {
			/*
			 * allow: every requested bit must be granted (request & ~access == 0);
			 * deny: any requested bit that the rule names is refused.
			 */
			b[nb++] = insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
			b[nb++] = insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0,
				       r->allow ? (all & ~access) : access);
			jumps[nj++] = nb;
			b[nb++] = insn(BPF_JMP32 | (r->allow ? BPF_JNE : BPF_JEQ) | BPF_K,
				       BPF_REG_1, 0, 0, 0);
		}
		b[nb++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0);
		b[nb++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		/* a failed check jumps past this rule */
		for (size_t j = 0; j < nj; j++)
			b[jumps[j]].off = (int16_t)(nb - jumps[j] - 1);
		memcpy(p + k, b, nb * sizeof(*b));
		k += nb;
		/* a rule that matches everything decides alone; the verifier refuses dead code */
		if (nj == 0) {
			decided = true;
			break;
		}
	}
	if (!decided) {
		/* no rule matched: deny */
		p[k++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
		p[k++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	}
	*ret = TAKE_PTR(p);
	*ret_n = k;
	return 0;
}

static int load(const struct bpf_insn *prog, size_t n, struct berth_error **err)
{
	char log[8192];
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t) "Apache-2.0";
	memcpy(attr.prog_name, PROG_NAME, sizeof(PROG_NAME));
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	if (fd == -EPERM || fd == -ENOSYS)
		return berth_error_sys(err, -fd, "load the device filter");
	/* ask the verifier why, once */
	log[0] = '\0';
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = sizeof(log);
	attr.log_level = 1;
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	log[sizeof(log) - 1] = '\0';
	return berth_error_set(err, -fd, "load the device filter: %s: %.200s", strerror(-fd), log);
}

/* Is the program with this id one of ours (by its name)? Returns an fd to it, or -1. */
static int ours(uint32_t id)
{
	struct bpf_prog_info info;
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd < 0)
		return -1;
	memset(&info, 0, sizeof(info));
	memset(&attr, 0, sizeof(attr));
	attr.info.bpf_fd = (uint32_t)fd;
	attr.info.info_len = sizeof(info);
	attr.info.info = (uint64_t)(uintptr_t)&info;
	if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr) < 0 || strcmp(info.name, PROG_NAME) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int cg_bpf_apply_devices(const char *dir, const struct berth_device_rule *rules, size_t n,
			 struct berth_error **err)
{
	_cleanup_free_ void *prog = NULL;
	_cleanup_close_ int cgfd = -EBADF, pfd = -EBADF;
	uint32_t ids[64];
	uint32_t n_ids = ARRAY_SIZE(ids);
	union bpf_attr attr;
	size_t ni;
	int r;

	r = cg_bpf_device_program(rules, n, &prog, &ni, err);
	if (r < 0)
		return r;
	cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return berth_error_sys(err, errno, "open '%s'", dir);

	/* what is attached now, so that our earlier filter can go once the new one is in */
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)cgfd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
	attr.query.prog_cnt = n_ids;
	r = sys_bpf(BPF_PROG_QUERY, &attr);
	if (r < 0) {
		if (r != -ENOTDIR && r != -EINVAL && r != -EBADF)
			return berth_error_sys(err, -r, "query device filters of '%s'", dir);
		/* not a cgroup2 directory: the attach below says so */
		n_ids = 0;
	} else {
		n_ids = attr.query.prog_cnt < ARRAY_SIZE(ids) ? attr.query.prog_cnt
							      : (uint32_t)ARRAY_SIZE(ids);
	}

	pfd = load(prog, ni, err);
	if (pfd < 0)
		return pfd;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)cgfd;
	attr.attach_bpf_fd = (uint32_t)pfd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	r = sys_bpf(BPF_PROG_ATTACH, &attr);
	if (r < 0)
		return berth_error_sys(err, -r, "attach the device filter to '%s'", dir);

	for (uint32_t i = 0; i < n_ids; i++) {
		_cleanup_close_ int old = ours(ids[i]);
		if (old < 0)
			continue;
		memset(&attr, 0, sizeof(attr));
		attr.target_fd = (uint32_t)cgfd;
		attr.attach_bpf_fd = (uint32_t)old;
		attr.attach_type = BPF_CGROUP_DEVICE;
		r = sys_bpf(BPF_PROG_DETACH, &attr);
		if (r < 0)
			return berth_error_sys(err, -r, "detach the old device filter from '%s'",
					       dir);
	}
	return 0;
}
