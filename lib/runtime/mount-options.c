/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mounts[].options -> the fields of struct berth_mount.  Options fall in four groups: flags for
 * mount(2) (ro, nosuid ...), propagation (rshared ...), recursive attributes for
 * mount_setattr(2) (rro, rnosuid ...), and options of the runtime itself (bind, idmap,
 * tmpcopyup).  Anything else belongs to the filesystem and is passed on as mount(2) data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "runtime/linux.h"
#include "base/banned.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256 /* glibc < 2.34 lacks it; the kernel has had it since 5.10 */
#endif

/* Legacy mount(2) copies at most one page of data; longer would be cut, so refuse it. */
#define MAX_MOUNT_DATA 4095

enum kind {
	K_FLAG,	       /* set value in flags (and take it out of clear_flags) */
	K_CLEAR,       /* the opposite: clear value */
	K_NOP,	       /* "defaults": changes nothing from mount(2)'s defaults */
	K_BIND,	       /* bind, rbind */
	K_PROPAGATION, /* value is MS_SHARED ... [|MS_REC] */
	K_ATTR_SET,    /* mount_setattr attr_set (an atime mode also clears the atime mask) */
	K_ATTR_CLR,    /* mount_setattr attr_clr */
	K_IDMAP,
	K_RIDMAP,
	K_TMPCOPYUP,
	K_NOTMPCOPYUP,
};

struct option {
	const char *name;
	enum kind kind;
	unsigned long value;
};

static const struct option options[] = {
	{"defaults", K_NOP, 0},
	{"ro", K_FLAG, MS_RDONLY},
	{"rw", K_CLEAR, MS_RDONLY},
	{"nosuid", K_FLAG, MS_NOSUID},
	{"suid", K_CLEAR, MS_NOSUID},
	{"nodev", K_FLAG, MS_NODEV},
	{"dev", K_CLEAR, MS_NODEV},
	{"noexec", K_FLAG, MS_NOEXEC},
	{"exec", K_CLEAR, MS_NOEXEC},
	{"sync", K_FLAG, MS_SYNCHRONOUS},
	{"async", K_CLEAR, MS_SYNCHRONOUS},
	{"dirsync", K_FLAG, MS_DIRSYNC},
	{"remount", K_FLAG, MS_REMOUNT},
	{"mand", K_FLAG, MS_MANDLOCK},
	{"nomand", K_CLEAR, MS_MANDLOCK},
	{"noatime", K_FLAG, MS_NOATIME},
	{"atime", K_CLEAR, MS_NOATIME},
	{"nodiratime", K_FLAG, MS_NODIRATIME},
	{"diratime", K_CLEAR, MS_NODIRATIME},
	{"relatime", K_FLAG, MS_RELATIME},
	{"norelatime", K_CLEAR, MS_RELATIME},
	{"strictatime", K_FLAG, MS_STRICTATIME},
	{"nostrictatime", K_CLEAR, MS_STRICTATIME},
	{"lazytime", K_FLAG, MS_LAZYTIME},
	{"nolazytime", K_CLEAR, MS_LAZYTIME},
	{"silent", K_FLAG, MS_SILENT},
	{"loud", K_CLEAR, MS_SILENT},
	{"iversion", K_FLAG, MS_I_VERSION},
	{"noiversion", K_CLEAR, MS_I_VERSION},
	{"nosymfollow", K_FLAG, MS_NOSYMFOLLOW},
	{"symfollow", K_CLEAR, MS_NOSYMFOLLOW},
	{"bind", K_BIND, MS_BIND},
	{"rbind", K_BIND, MS_BIND | MS_REC},
	{"shared", K_PROPAGATION, MS_SHARED},
	{"rshared", K_PROPAGATION, MS_SHARED | MS_REC},
	{"slave", K_PROPAGATION, MS_SLAVE},
	{"rslave", K_PROPAGATION, MS_SLAVE | MS_REC},
	{"private", K_PROPAGATION, MS_PRIVATE},
	{"rprivate", K_PROPAGATION, MS_PRIVATE | MS_REC},
	{"unbindable", K_PROPAGATION, MS_UNBINDABLE},
	{"runbindable", K_PROPAGATION, MS_UNBINDABLE | MS_REC},
	{"rro", K_ATTR_SET, MOUNT_ATTR_RDONLY},
	{"rrw", K_ATTR_CLR, MOUNT_ATTR_RDONLY},
	{"rnosuid", K_ATTR_SET, MOUNT_ATTR_NOSUID},
	{"rsuid", K_ATTR_CLR, MOUNT_ATTR_NOSUID},
	{"rnodev", K_ATTR_SET, MOUNT_ATTR_NODEV},
	{"rdev", K_ATTR_CLR, MOUNT_ATTR_NODEV},
	{"rnoexec", K_ATTR_SET, MOUNT_ATTR_NOEXEC},
	{"rexec", K_ATTR_CLR, MOUNT_ATTR_NOEXEC},
	{"rnodiratime", K_ATTR_SET, MOUNT_ATTR_NODIRATIME},
	{"rdiratime", K_ATTR_CLR, MOUNT_ATTR_NODIRATIME},
	{"rnosymfollow", K_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW},
	{"rsymfollow", K_ATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW},
	/*
	 * The atime modes are one field of three values (MOUNT_ATTR__ATIME), and the kernel only
	 * accepts clearing it whole; so each mode sets its value and clears the field, and each
	 * "no" form falls back to the kernel's default, relatime -- except norelatime, which means
	 * "update atime always", i.e. strictatime.
	 */
	{"rrelatime", K_ATTR_SET, MOUNT_ATTR_RELATIME},
	{"rnoatime", K_ATTR_SET, MOUNT_ATTR_NOATIME},
	{"rstrictatime", K_ATTR_SET, MOUNT_ATTR_STRICTATIME},
	{"rnorelatime", K_ATTR_SET, MOUNT_ATTR_STRICTATIME},
	{"ratime", K_ATTR_SET, MOUNT_ATTR_RELATIME},
	{"rnostrictatime", K_ATTR_SET, MOUNT_ATTR_RELATIME},
	{"idmap", K_IDMAP, 0},
	{"ridmap", K_RIDMAP, 0},
	{"tmpcopyup", K_TMPCOPYUP, 0},
	{"notmpcopyup", K_NOTMPCOPYUP, 0},
};

static bool is_atime_option(const struct option *o)
{
	return o->kind == K_ATTR_SET &&
	       (berth_streq(o->name, "rrelatime") || berth_streq(o->name, "rnoatime") ||
		berth_streq(o->name, "rstrictatime") || berth_streq(o->name, "rnorelatime") ||
		berth_streq(o->name, "ratime") || berth_streq(o->name, "rnostrictatime"));
}

const char *const *berth_mount_known_options(void)
{
	static const char *names[ARRAY_SIZE(options) + 1];

	/* filled once; the table is constant so a racing second fill writes the same values */
	if (!names[0])
		for (size_t i = 0; i < ARRAY_SIZE(options); i++)
			names[i] = options[i].name;
	return names;
}

static const struct option *find_option(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

static void apply(struct berth_mount *m, const struct option *o)
{
	switch (o->kind) {
	case K_FLAG:
		m->flags |= o->value;
		m->clear_flags &= ~o->value;
		break;
	case K_CLEAR:
		m->flags &= ~o->value;
		m->clear_flags |= o->value;
		break;
	case K_NOP:
		break;
	case K_BIND:
		m->flags |= o->value;
		m->bind = true;
		if (o->value & MS_REC)
			m->recursive = true;
		break;
	case K_PROPAGATION:
		m->propagation = o->value;
		break;
	case K_ATTR_SET:
		if (is_atime_option(o)) {
			m->attr_set = (m->attr_set & ~(unsigned long)MOUNT_ATTR__ATIME) | o->value;
			m->attr_clr |= MOUNT_ATTR__ATIME;
		} else {
			m->attr_set |= o->value;
			m->attr_clr &= ~o->value;
		}
		break;
	case K_ATTR_CLR:
		m->attr_set &= ~o->value;
		m->attr_clr |= o->value;
		break;
	case K_IDMAP:
		m->idmap = true;
		m->idmap_recursive = false;
		break;
	case K_RIDMAP:
		m->idmap = true;
		m->idmap_recursive = true;
		break;
	case K_TMPCOPYUP:
		m->tmpcopyup = true;
		break;
	case K_NOTMPCOPYUP:
		m->tmpcopyup = false;
		break;
	}
}

int berth_mount_parse_options(struct berth_mount *m, struct berth_error **err)
{
	_cleanup_free_ char *data = NULL;
	size_t data_len = 0;

	m->flags = m->clear_flags = m->propagation = m->attr_set = m->attr_clr = 0;
	m->bind = m->recursive = m->idmap = m->idmap_recursive = m->tmpcopyup = false;
	free(m->data);
	m->data = NULL;

	for (size_t i = 0; m->options && m->options[i]; i++) {
		const char *opt = m->options[i];
		const struct option *o;
		size_t len;
		char *nd;

		if (!*opt)
			continue;
		o = find_option(opt);
		if (o) {
			apply(m, o);
			continue;
		}
		len = strlen(opt);
		if (len > MAX_MOUNT_DATA || data_len + 1 + len > MAX_MOUNT_DATA)
			return berth_error_set(
				err, EINVAL,
				"mount '%s': filesystem options too long (max %d bytes)",
				m->destination ? m->destination : "", MAX_MOUNT_DATA);
		nd = realloc(data, data_len + 1 + len + 1);
		if (!nd)
			return -ENOMEM;
		data = nd;
		if (data_len)
			data[data_len++] = ',';
		memcpy(data + data_len, opt, len + 1);
		data_len += len;
	}
	m->data = TAKE_PTR(data);
	return 0;
}
