/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's shared state: d->lock, the event ring, the engine id. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "daemon.h"
#include "events-internal.h"
#include "base/banned.h"

/* dockerd keeps a UUID in data-root/engine-id: Info.ID, the daemon events' actor. */
static int engine_id(const char *data_root, char **ret, struct berth_error **err)
{
	_cleanup_free_ char *path = NULL, *data = NULL;
	size_t len;
	int r;

	if (asprintf(&path, "%s/engine-id", data_root) < 0)
		return berth_error_set(err, ENOMEM, "out of memory");
	r = berth_read_file_at(AT_FDCWD, path, 256, &data, &len, NULL);
	if (r == 0) {
		while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
			data[--len] = '\0';
		if (len >= 8) {
			*ret = TAKE_PTR(data);
			return 0;
		}
	}
	free(data);
	data = NULL;
	r = berth_read_file_at(AT_FDCWD, "/proc/sys/kernel/random/uuid", 64, &data, &len, err);
	if (r < 0)
		return r;
	while (len && data[len - 1] == '\n')
		data[--len] = '\0';
	r = berth_write_file_atomic_at(AT_FDCWD, path, data, len, 0600, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(data);
	return 0;
}

int daemon_state_init(struct berthd *d, struct daemon_config *config, struct berth_error **err)
{
	struct statfs sf;
	int r;

	memset(d, 0, sizeof(*d));
	d->config = *config;
	memset(config, 0, sizeof(*config));
	pthread_mutex_init(&d->lock, NULL);
	r = daemon_events_init(&d->events);
	if (r < 0)
		return berth_error_sys(err, -r, "events");
	d->started_ns = daemon_now_ns();
	d->cgroup_version = statfs("/sys/fs/cgroup", &sf) == 0 &&
					    sf.f_type == (typeof(sf.f_type))CGROUP2_SUPER_MAGIC
				    ? 2
				    : 1;
	r = engine_id(d->config.data_root, &d->id, err);
	if (r < 0)
		return berth_error_wrap(err, "engine id");
	return 0;
}

void daemon_state_release(struct berthd *d)
{
	daemon_events_release(&d->events);
	pthread_mutex_destroy(&d->lock);
	daemon_config_release(&d->config);
	free(d->id);
}
