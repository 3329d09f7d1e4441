/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* berthd's volumes (volumes.c, volumes-api.c); the table lives under d->lock. */

#include "daemon.h"

struct daemon_volume {
	char *name;
	bool anonymous; /* made for a container (an image's VOLUME, -v /path): prune's default */
	int64_t created_ns;
	json_t *labels;	   /* object of strings */
	json_t *options;   /* object of strings: the local driver's type, device, o */
	char **users;	   /* ids of the containers that use it (in memory; the containers' records
			  * make it again at start) */
	char **mounted_by; /* the running ones among them while its options are mounted on _data */
};

/* data-root/volumes/<name>[/leaf]; NULL on ENOMEM. */
char *daemon_volume_path(struct berthd *d, const char *name, const char *leaf);

struct daemon_volume *daemon_volume_find_locked(struct berthd *d, const char *name);

/* The bytes of files under the volume's _data (-1 when it cannot be read). */
int64_t daemon_volume_size(struct berthd *d, const char *name);

/* Docker's label filter over a labels object (networks.c). */
bool daemon_labels_match(const struct berth_filters *f, const json_t *labels);
#define daemon_volume_labels_match daemon_labels_match

/*
 * Remove the unused volumes f (label) selects: only anonymous ones unless all (API >= 1.42's
 * all=true; before 1.42 every unused volume).  *ret: the names; *ret_reclaimed: the bytes.
 */
int daemon_volumes_prune(struct berthd *d, const struct berth_filters *f, bool all, json_t **ret,
			 int64_t *ret_reclaimed, struct berth_error **err);

/*
 * o= of the local driver as mount(8) reads it: flag words (ro, bind, noexec, ...) into
 * *ret_flags, the rest (in order, comma-joined) into *ret_data (malloc'd).  -ENOMEM only.
 */
int daemon_volume_parse_mount_opts(const char *o, unsigned long *ret_flags, char **ret_data);
