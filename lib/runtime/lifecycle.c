/* SPDX-License-Identifier: Apache-2.0 */
/* start, kill, delete, pause, resume, update: commands on a container that exists. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "container-internal.h"
#include "base/banned.h"

int berth_container_start(struct berth_container *c, struct berth_error **err)
{
	_cleanup_free_ char *fifo = NULL, *state = NULL;
	_cleanup_close_ int fd = -EBADF;
	enum berth_status st = berth_container_status(c);
	int r;

	switch (st) {
	case BERTH_STATUS_CREATED:
		break;
	case BERTH_STATUS_STOPPED:
		return berth_error_set(err, EINVAL, "cannot start a container that has stopped");
	case BERTH_STATUS_RUNNING:
		return berth_error_set(err, EINVAL, "cannot start an already running container");
	default:
		return berth_error_set(err, EINVAL, "cannot start a container that is %s",
				       berth_status_name(st));
	}
	if (asprintf(&fifo, "%s/" BERTH_EXEC_FIFO, c->state_dir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	/*
	 * Non-blocking open for reading succeeds at once and lets init's blocking open for writing
	 * through; then wait for its byte, watching that init is still there.
	 */
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return berth_error_sys(err, errno, "open '%s'", fifo);
	/*
	 * First the byte (startContainer hooks passed), then EOF (execve closed the fifo); text
	 * between them is why the process could not be started.
	 */
	bool got_byte = false;
	char why[1024];
	size_t why_len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int n = poll(&p, 1, 100);
		if (n < 0 && errno != EINTR)
			return berth_error_sys(err, errno, "poll exec fifo");
		if (n > 0) {
			char buf[256];
			ssize_t k = read(fd, buf, sizeof(buf));
			if (k < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (k <= 0)
				break; /* EOF: exec happened, or init died */
			size_t off = 0;
			if (!got_byte) {
				got_byte = true;
				off = 1;
			}
			size_t take = (size_t)k - off;
			if (take > sizeof(why) - 1 - why_len)
				take = sizeof(why) - 1 - why_len;
			memcpy(why + why_len, buf + off, take);
			why_len += take;
			continue;
		}
		if (!berth_container_alive(c))
			break;
	}
	unlink(fifo);
	why[why_len] = '\0';
	if (!got_byte)
		return berth_error_set(err, EIO, "container init exited before start%s%s",
				       why_len ? ": " : "", why);
	if (why_len)
		return berth_error_set(err, EIO, "start the container process: %s", why);
	berth_log(&c->log, BERTH_LOG_DEBUG, "container '%s' started: pid %d", c->id, (int)c->pid);

	if (c->spec->hooks.poststart.n) {
		state = berth_hook_state(c, c->pid, "running");
		/* the spec: a failing poststart hook is a warning; the rest still run */
		r = berth_hooks_run_all(&c->spec->hooks.poststart, "poststart",
					state ? state : "{}", err);
		if (r < 0)
			return 1;
	}
	return 0;
}

int berth_container_kill(struct berth_container *c, int sig, bool all, struct berth_error **err)
{
	enum berth_status st = berth_container_status(c);
	int r;

	if (st == BERTH_STATUS_CREATING || (st == BERTH_STATUS_STOPPED && !all))
		return berth_error_set(err, ESRCH, "container not running");
	if (all) {
		/*
		 * Without a pid namespace the init can be gone while processes it started are
		 * not: --all signals what is left in the cgroup, as runc does (nothing left, or
		 * no cgroup any more, is not an error).
		 */
		if (st == BERTH_STATUS_STOPPED) {
			_cleanup_free_ pid_t *pids = NULL;
			size_t n = 0;
			if (berth_cgroup_pids(c->cgroup, &pids, &n, NULL) < 0 || n == 0)
				return 0;
		}
		r = berth_cgroup_kill_all(c->cgroup, sig, err);
		if (r < 0)
			return berth_error_wrap(err, "kill all processes");
		return 0;
	}
	if (kill(c->pid, sig) < 0)
		return berth_error_sys(err, errno, "kill %d with signal %d", (int)c->pid, sig);
	/* a frozen process dies only once thawed; runc thaws for SIGKILL too */
	if (st == BERTH_STATUS_PAUSED && sig == SIGKILL)
		berth_cgroup_freeze(c->cgroup, false, NULL);
	return 0;
}

/* Wait up to timeout_ms for init to be gone; true if it is. */
static bool wait_gone(struct berth_container *c, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (!berth_container_alive(c))
			return true;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return !berth_container_alive(c);
}

int berth_container_delete(struct berth_container *c, bool force, struct berth_error **err)
{
	enum berth_status st = berth_container_status(c);
	_cleanup_error_ struct berth_error *hook_err = NULL;
	_cleanup_free_ char *state = NULL;
	int r;

	if (st == BERTH_STATUS_CREATING && !force)
		return berth_error_set(err, EBUSY,
				       "cannot delete container '%s' that is being created", c->id);
	/*
	 * The spec: deleting a container that is not stopped MUST fail and change nothing.  runc
	 * deletes a created one anyway; callers that mean it pass --force (podman does).
	 */
	if ((st == BERTH_STATUS_RUNNING || st == BERTH_STATUS_PAUSED ||
	     st == BERTH_STATUS_CREATED) &&
	    !force)
		return berth_error_set(err, EBUSY,
				       "cannot delete container '%s' that is not stopped: %s",
				       c->id, berth_status_name(st));
	if (st != BERTH_STATUS_STOPPED) {
		berth_cgroup_kill_all(c->cgroup, SIGKILL, NULL);
		if (c->pid > 0 && berth_container_alive(c))
			kill(c->pid, SIGKILL);
		if (!wait_gone(c, 10000))
			return berth_error_set(err, EBUSY,
					       "container '%s' did not die after SIGKILL", c->id);
	}
	/* no mount namespace: its mounts are in ours, and outlive it unless we take them */
	berth_unmount_all(c->host_mounts);
	r = berth_cgroup_destroy(c->cgroup, err);
	if (r < 0)
		return berth_error_wrap(err, "delete container '%s'", c->id);
	r = berth_rm_rf(c->state_dir, err);
	if (r < 0)
		return berth_error_wrap(err, "delete container '%s'", c->id);
	berth_log(&c->log, BERTH_LOG_DEBUG, "container '%s' deleted (it was %s)", c->id,
		  berth_status_name(st));
	if (c->spec->hooks.poststop.n && c->pid > 0) {
		state = berth_hook_state(c, 0, "stopped");
		if (berth_hooks_run_all(&c->spec->hooks.poststop, "poststop", state ? state : "{}",
					&hook_err) < 0) {
			/* the container is gone; a poststop failure is only a warning */
			berth_error_set(err, hook_err->code, "%s", hook_err->msg);
			return 1;
		}
	}
	return 0;
}

int berth_container_remove_stale(const struct berth_runtime_opts *o, const char *id,
				 struct berth_error **err)
{
	_cleanup_free_ char *dir = NULL, *state = NULL;
	int r;

	r = berth_container_validate_id(id, err);
	if (r < 0)
		return r;
	if (asprintf(&dir, "%s/%s", o->state_root, id) < 0 ||
	    asprintf(&state, "%s/" BERTH_STATE_FILE, dir) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	if (access(dir, F_OK) < 0)
		return berth_error_set(err, ENOENT, "container '%s' does not exist", id);
	if (access(state, F_OK) == 0)
		return berth_error_set(err, EBUSY, "container '%s' has a state: delete it", id);
	return berth_rm_rf(dir, err);
}

int berth_container_pause(struct berth_container *c, struct berth_error **err)
{
	enum berth_status st = berth_container_status(c);

	if (st != BERTH_STATUS_RUNNING && st != BERTH_STATUS_CREATED)
		return berth_error_set(err, EINVAL, "container not running");
	return berth_cgroup_freeze(c->cgroup, true, err);
}

int berth_container_resume(struct berth_container *c, struct berth_error **err)
{
	if (berth_container_status(c) != BERTH_STATUS_PAUSED)
		return berth_error_set(err, EINVAL, "container not paused");
	return berth_cgroup_freeze(c->cgroup, false, err);
}

/*
 * What an update leaves alone (runc's rule: 0 for these, "" for cpus/mems) must not overwrite
 * the value on record either.  Returns a copy of resources without those members.
 */
static json_t *without_unset(json_t *resources)
{
	static const struct {
		const char *group, *key;
	} zero_unset[] = {
		{"memory", "limit"},	   {"memory", "reservation"}, {"memory", "swap"},
		{"memory", "kernel"},	   {"memory", "kernelTCP"},   {"cpu", "shares"},
		{"cpu", "quota"},	   {"cpu", "period"},	      {"cpu", "realtimeRuntime"},
		{"cpu", "realtimePeriod"}, {"pids", "limit"},	      {"blockIO", "weight"},
		{"blockIO", "leafWeight"},
	};
	json_t *copy = json_deep_copy(resources), *g, *v;

	if (!copy)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(zero_unset); i++) {
		g = json_object_get(copy, zero_unset[i].group);
		v = json_object_get(g, zero_unset[i].key);
		if (json_is_integer(v) && json_integer_value(v) == 0)
			json_object_del(g, zero_unset[i].key);
	}
	g = json_object_get(copy, "cpu");
	for (int i = 0; i < 2; i++) {
		const char *k = i ? "mems" : "cpus";
		v = json_object_get(g, k);
		if (json_is_string(v) && !*json_string_value(v))
			json_object_del(g, k);
	}
	return copy;
}

int berth_container_update(struct berth_container *c, json_t *resources, struct berth_error **err)
{
	struct berth_resources *res = NULL;
	_cleanup_json_ json_t *given = NULL;
	json_t *linux_, *cur;
	int r;

	if (berth_container_status(c) == BERTH_STATUS_STOPPED)
		return berth_error_set(err, EINVAL, "container not running");
	/*
	 * The device list in force is the spec's rules plus the default devices, put together at
	 * create; applied alone, an update's rules would take /dev/null and the rest away from the
	 * running container.  runc's update does not change devices either.
	 */
	json_t *devices = json_object_get(resources, "devices");
	if (devices && !(json_is_array(devices) && json_array_size(devices) == 0))
		return berth_error_set(err, EINVAL,
				       "resources: devices cannot be updated, only set at create");
	r = berth_resources_parse(resources, &res, err);
	if (r < 0)
		return berth_error_wrap(err, "resources");
	r = berth_cgroup_update(c->cgroup, res, err);
	berth_resources_free(res);
	if (r < 0)
		return r;
	/* record what is now in force */
	given = without_unset(resources);
	if (!given)
		return berth_error_set(err, ENOMEM, "out of memory");
	linux_ = json_object_get(c->spec->json, "linux");
	if (!linux_) {
		linux_ = json_object();
		json_object_set_new(c->spec->json, "linux", linux_);
	}
	cur = json_object_get(linux_, "resources");
	if (json_is_object(cur))
		json_object_update_recursive(cur, given);
	else
		json_object_set(linux_, "resources", given);
	return berth_state_save(c, err);
}
