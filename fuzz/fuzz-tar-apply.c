/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unpacking a layer, unprivileged: the input is a tar (plain, gzip or zstd) applied with
 * whiteout conversion into box/root beside an empty box/outside.  Besides not crashing, nothing
 * may ever appear outside root: an escape aborts, so it is a finding like a crash.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t entries(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	size_t n = 0;

	if (!d)
		abort();
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* rm -rf that first makes directories writable (a layer may leave them read-only) */
static void wipe(int parent, const char *name)
{
	struct stat st;
	int fd;
	DIR *d;
	struct dirent *de;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(parent, name, 0);
		return;
	}
	fchmodat(parent, name, 0700, 0);
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			wipe(dirfd(d), de->d_name);
	closedir(d);
	unlinkat(parent, name, AT_REMOVEDIR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_image_limits lim = {
		.max_layer_size = 8 << 20, .max_entries = 4096, .max_path = 1024};
	char box[] = "/tmp/berth-fuzz-tar.XXXXXX";
	struct berth_error *err = NULL;
	int boxfd, rootfd, outfd, in;

	if (!mkdtemp(box))
		abort();
	boxfd = open(box, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (boxfd < 0 || mkdirat(boxfd, "root", 0755) < 0 || mkdirat(boxfd, "outside", 0755) < 0)
		abort();
	rootfd = openat(boxfd, "root", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	outfd = openat(boxfd, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	in = memfd_create("tar", MFD_CLOEXEC);
	if (rootfd < 0 || outfd < 0 || in < 0 || berth_write_all(in, data, size) < 0)
		abort();
	lseek(in, 0, SEEK_SET);

	berth_tar_apply(rootfd, in,
			BERTH_TAR_WHITEOUTS | BERTH_TAR_NO_OWNERS | BERTH_TAR_USER_XATTR, &lim,
			NULL, &err);
	berth_error_free(err);

	if (entries(outfd) != 0 || entries(boxfd) != 2)
		abort(); /* something was written outside the root */
	close(in);
	close(outfd);
	close(rootfd);
	wipe(boxfd, "root");
	wipe(boxfd, "outside");
	close(boxfd);
	rmdir(box);
	return 0;
}
