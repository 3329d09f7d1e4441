/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A cgroup's cgroup.procs files held open, for processes that move themselves in.  An exec's
 * child joins the container's cgroup before it joins any namespace: with the files opened once
 * (by the shim, for every exec of its container) that is one write per hierarchy, no path
 * lookups, and no round trip to a parent that would write the child's pid for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "base/banned.h"

int berth_cgroup_procs_open(struct berth_cgroup *cg, struct berth_error **err)
{
	_cleanup_strv_ char **dirs = NULL, **paths = NULL;
	_cleanup_free_ int *fds = NULL;
	size_t n, i;
	int r;

	if (cg->n_procs)
		return 0;
	r = cg->ops->dirs(cg, &dirs, err);
	if (r < 0)
		return r;
	n = berth_strv_length(dirs);
	if (n == 0)
		return berth_error_set(err, ENOENT, "cgroup '%s': no hierarchy", cg->path);
	fds = malloc(n * sizeof(*fds));
	paths = calloc(n + 1, sizeof(*paths));
	if (!fds || !paths)
		return berth_error_set(err, ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (asprintf(&paths[i], "%s/cgroup.procs", dirs[i]) < 0) {
			paths[i] = NULL;
			r = berth_error_set(err, ENOMEM, "out of memory");
			break;
		}
		fds[i] = open(paths[i], O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
		if (fds[i] < 0) {
			r = berth_error_sys(err, errno, "open '%s'", paths[i]);
			break;
		}
	}
	if (r < 0) {
		while (i-- > 0)
			close(fds[i]);
		return r;
	}
	cg->procs_fds = TAKE_PTR(fds);
	cg->procs_paths = TAKE_PTR(paths);
	cg->n_procs = n;
	return 0;
}

int berth_cgroup_join_self(const struct berth_cgroup *cg, struct berth_error **err)
{
	if (!cg->n_procs)
		return berth_error_set(err, EBADF, "cgroup '%s': cgroup.procs not open", cg->path);
	for (size_t i = 0; i < cg->n_procs; i++) {
		ssize_t n;
		/* "0": the writer itself, whatever pid namespace it is in */
		do
			n = write(cg->procs_fds[i], "0", 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			return berth_error_sys(err, n < 0 ? errno : EIO, "write '0' to '%s'",
					       cg->procs_paths[i]);
	}
	return 0;
}

void berth_cgroup_procs_close(struct berth_cgroup *cg)
{
	for (size_t i = 0; i < cg->n_procs; i++)
		close(cg->procs_fds[i]);
	free(cg->procs_fds);
	cg->procs_fds = NULL;
	berth_strv_free(cg->procs_paths);
	cg->procs_paths = NULL;
	cg->n_procs = 0;
}
