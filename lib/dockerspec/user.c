/* SPDX-License-Identifier: Apache-2.0 */
/*
 * "--user name|uid[:group|gid]" resolved in the container's own /etc/passwd and /etc/group, as
 * moby/sys/user's GetExecUser and GetAdditionalGroups do.  The files are opened inside the
 * container's root: an image is an attacker, and /etc/passwd -> /etc/../../../host/etc/shadow
 * or an absolute symlink must resolve against the container's root, never the host's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dockerspec-internal.h"
#include "base/banned.h"

#define MAX_ID 2147483647

/*
 * The regular file path names inside rootfd, opened for reading.  O_PATH first: a device node or
 * fifo planted at /etc/passwd is never opened for real; the file checked is then reopened
 * through /proc, so it cannot be swapped in between.
 */
static int open_in_root(int rootfd, const char *path, int *ret_fd)
{
	_cleanup_close_ int pfd = -EBADF;
	char proc[64];
	struct stat st;
	int r, fd;

	r = berth_root_open(rootfd, path, 0, &pfd);
	if (r < 0)
		return r;
	if (fstat(pfd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	/* no /proc here: open it by name again (read_in_root checks what it got) */
	return berth_root_open_file(rootfd, path, O_RDONLY | O_NONBLOCK, ret_fd);
}

/* the file as text, or NULL (with *ret_len 0) when it does not exist */
static int read_in_root(int rootfd, const char *path, char **ret, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r;

	*ret = NULL;
	r = open_in_root(rootfd, path, &fd);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r == -EINVAL || r == -EISDIR)
		return berth_error_set(err, EINVAL, "'/%s' in the container is not a regular file",
				       path);
	if (r < 0)
		return berth_error_set(err, -r, "open '/%s' in the container: %s", path,
				       strerror(-r));
	if (fstat(fd, &st) < 0)
		return berth_error_sys(err, errno, "stat '/%s' in the container", path);
	if (!S_ISREG(st.st_mode))
		return berth_error_set(err, EINVAL, "'/%s' in the container is not a regular file",
				       path);
	return berth_read_fd(fd, DOCKERSPEC_ETC_MAX, ret, NULL, err) < 0
		       ? berth_error_wrap(err, "read '/%s' in the container", path)
		       : 0;
}

/* ---- the databases ----------------------------------------------------------------------- */

/* Go's strconv.Atoi for ids: a whole decimal int; errors leave ret untouched */
static bool parse_id(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	if (!*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end || errno)
		return false;
	*ret = v;
	return true;
}

/* split one line into at most n fields at ':' (in place); missing fields are "" */
static void split_fields(char *line, char **f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		f[i] = line;
		if (line) {
			char *c = strchr(line, ':');
			if (c) {
				*c = '\0';
				line = c + 1;
			} else {
				line = NULL;
			}
		} else {
			f[i] = (char *)"";
		}
	}
}

static char *trim(char *s)
{
	size_t n;
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

struct pw {
	bool found;
	char *name;
	int64_t uid, gid;
	char *home;
};

static int find_passwd(char *data, bool by_uid, int64_t uid, const char *name, struct pw *ret)
{
	for (char *save = NULL, *line = data ? strtok_r(data, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[7];
		int64_t u = 0, g = 0;

		line = trim(line);
		if (!*line)
			continue;
		split_fields(line, f, 7);
		(void)parse_id(f[2], &u);
		(void)parse_id(f[3], &g);
		if (by_uid ? u != uid : strcmp(f[0], name) != 0)
			continue;
		ret->found = true;
		ret->name = strdup(f[0]);
		ret->home = strdup(f[5]);
		if (!ret->name || !ret->home)
			return -ENOMEM;
		ret->uid = u;
		ret->gid = g;
		return 0;
	}
	return 0;
}

static int push_gid(struct berth_dockerspec_user *u, int64_t gid)
{
	uint32_t *n = realloc(u->additional_gids, (u->n_additional_gids + 1) * sizeof(uint32_t));
	if (!n)
		return -ENOMEM;
	u->additional_gids = n;
	n[u->n_additional_gids++] = (uint32_t)gid;
	return 0;
}

static bool has_gid(const struct berth_dockerspec_user *u, int64_t gid, size_t from)
{
	for (size_t i = from; i < u->n_additional_gids; i++)
		if (u->additional_gids[i] == gid)
			return true;
	return false;
}

/*
 * Walk /etc/group: with want_name/want_gid find the first group so named (by_gid: with that
 * gid); with member, every group listing member (its gids appended to u).
 */
static int scan_group(const char *data, const char *want_name, bool by_gid, int64_t want_gid,
		      const char *member, bool *found, int64_t *found_gid,
		      struct berth_dockerspec_user *u)
{
	_cleanup_free_ char *copy = NULL;

	if (!data)
		return 0;
	copy = strdup(data);
	if (!copy)
		return -ENOMEM;
	for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[4];
		int64_t g = 0;

		line = trim(line);
		if (!*line || line[0] == '#')
			continue;
		split_fields(line, f, 4);
		(void)parse_id(f[2], &g);
		if (member) {
			for (char *s2 = NULL, *m = strtok_r(f[3], ",", &s2); m;
			     m = strtok_r(NULL, ",", &s2))
				if (strcmp(trim(m), member) == 0) {
					if (push_gid(u, g) < 0)
						return -ENOMEM;
					break;
				}
			continue;
		}
		if (by_gid ? g == want_gid : strcmp(f[0], want_name) == 0) {
			*found = true;
			*found_gid = g;
			return 0;
		}
	}
	return 0;
}

void berth_dockerspec_user_release(struct berth_dockerspec_user *u)
{
	if (!u)
		return;
	free(u->additional_gids);
	free(u->home);
	*u = (struct berth_dockerspec_user){0};
}

int berth_dockerspec_resolve_user(int rootfd, const char *spec, const json_t *group_add,
				  struct berth_dockerspec_user *ret, struct berth_error **err)
{
	_cleanup_free_ char *passwd = NULL, *group = NULL, *user_arg = NULL, *pw_name = NULL,
			    *pw_home = NULL;
	struct berth_dockerspec_user u = {0};
	const char *group_arg = NULL;
	int64_t uid_arg = 0, gid_arg = 0;
	bool uid_numeric, gid_numeric = false;
	struct pw pw = {0};
	size_t sg_from;
	int r;

	user_arg = strdup(spec ? spec : "");
	if (!user_arg)
		return berth_error_set(err, ENOMEM, "out of memory");
	{
		char *colon = strchr(user_arg, ':');
		if (colon) {
			*colon = '\0';
			group_arg = colon + 1;
		}
	}
	uid_numeric = parse_id(user_arg, &uid_arg);
	if (group_arg && *group_arg)
		gid_numeric = parse_id(group_arg, &gid_arg);

	r = read_in_root(rootfd, "etc/passwd", &passwd, err);
	if (r < 0)
		return r;
	r = read_in_root(rootfd, "etc/group", &group, err);
	if (r < 0)
		return r;

	/* defaults: root, home "/" */
	if (!*user_arg)
		r = find_passwd(passwd, true, 0, NULL, &pw);
	else if (uid_numeric)
		r = find_passwd(passwd, true, uid_arg, NULL, &pw);
	else
		r = find_passwd(passwd, false, 0, user_arg, &pw);
	pw_name = pw.name;
	pw_home = pw.home;
	if (r < 0)
		goto enomem;
	if (pw.found) {
		u.uid = (uint32_t)pw.uid;
		u.gid = (uint32_t)pw.gid;
		u.home = TAKE_PTR(pw_home);
	} else if (*user_arg) {
		if (!uid_numeric)
			return berth_error_set(
				err, EINVAL,
				"unable to find user %s: no matching entries in passwd "
				"file",
				user_arg);
		if (uid_arg < 0 || uid_arg > MAX_ID)
			return berth_error_set(err, EINVAL, "uids and gids must be in range 0-%d",
					       MAX_ID);
		u.uid = (uint32_t)uid_arg;
	}
	if (!u.home && !(u.home = strdup("/")))
		goto enomem;

	/* docker puts the primary gid first in additionalGids */
	if (push_gid(&u, 0) < 0)
		goto enomem;
	sg_from = 1;
	if (group_arg && *group_arg) {
		bool found = false;
		int64_t g = 0;
		if (scan_group(group, group_arg, gid_numeric, gid_arg, NULL, &found, &g, &u) < 0)
			goto enomem;
		if (found) {
			u.gid = (uint32_t)g;
		} else {
			if (!gid_numeric) {
				berth_dockerspec_user_release(&u);
				return berth_error_set(
					err, EINVAL,
					"unable to find group %s: no matching entries in "
					"group file",
					group_arg);
			}
			if (gid_arg < 0 || gid_arg > MAX_ID) {
				berth_dockerspec_user_release(&u);
				return berth_error_set(
					err, EINVAL, "uids and gids must be in range 0-%d", MAX_ID);
			}
			u.gid = (uint32_t)gid_arg;
		}
	} else if (pw.found) {
		/* supplementary groups only in the implicit form */
		if (scan_group(group, NULL, false, 0, pw_name, NULL, NULL, &u) < 0)
			goto enomem;
	}
	u.additional_gids[0] = u.gid;

	/* --group-add: names or numbers */
	{
		size_t i;
		json_t *e;
		json_array_foreach (group_add, i, e) {
			const char *ag = json_string_value(e);
			bool found = false;
			int64_t g = 0;

			if (!ag)
				continue;
			if (scan_group(group, ag, false, 0, NULL, &found, &g, &u) < 0)
				goto enomem;
			if (!found && parse_id(ag, &g)) {
				bool by_gid = false;
				if (scan_group(group, NULL, true, g, NULL, &by_gid, &g, &u) < 0)
					goto enomem;
				found = true;
			}
			if (!found) {
				berth_dockerspec_user_release(&u);
				return berth_error_set(
					err, EINVAL,
					"Unable to find group %s: no matching entries in "
					"group file",
					ag);
			}
			if (g < 0 || g > MAX_ID) {
				berth_dockerspec_user_release(&u);
				return berth_error_set(
					err, EINVAL, "uids and gids must be in range 0-%d", MAX_ID);
			}
			if (!has_gid(&u, g, sg_from) && push_gid(&u, g) < 0)
				goto enomem;
		}
	}
	*ret = u;
	return 0;
enomem:
	berth_dockerspec_user_release(&u);
	return berth_error_set(err, ENOMEM, "out of memory");
}
