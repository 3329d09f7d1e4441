/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running from a sealed copy of our own binary (the CVE-2019-5736 defence).  A process of ours
 * that a container can see (its /proc/PID) exposes /proc/PID/exe: if that is the host's file, the
 * container can open it (O_PATH is enough) and reopen it for writing once nothing executes it,
 * and the next runtime started on the host runs the container's code.  A memfd holding a copy of
 * the binary, sealed against every change, is what /proc/PID/exe then names: the host's file is
 * out of reach and the copy cannot be written.  See docs/security.md.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "banned.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool berth_fd_is_sealed_copy(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	return seals >= 0 && (seals & SEALS) == SEALS;
}

bool berth_self_is_sealed_copy(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	return fd >= 0 && berth_fd_is_sealed_copy(fd);
}

static int make_memfd(const char *name)
{
	/*
	 * Kernels from 6.3 with vm.memfd_noexec=1 make memfds non-executable unless asked:
	 * MFD_EXEC.  Older kernels refuse the unknown flag with EINVAL; retry without it.
	 */
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd;
}

static int copy_all(int out, int in, size_t size)
{
	off_t off = 0;

	while ((size_t)off < size) {
		ssize_t n = sendfile(out, in, &off, size - (size_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EINVAL || errno == ENOSYS) && off == 0)
			break; /* no sendfile between these: copy by hand */
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* the file shrank under us */
	}
	if ((size_t)off == size)
		return 0;
	char buf[65536];
	if (lseek(in, 0, SEEK_SET) < 0)
		return -errno;
	for (size_t done = 0; done < size;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		int r = berth_write_all(out, buf, (size_t)n);
		if (r < 0)
			return r;
		done += (size_t)n;
	}
	return 0;
}

/*
 * How much of the ELF file at fd execution needs: up to the end of the last program header's
 * file contents (and of the header table itself).  What follows -- debug information, the
 * symbol and section tables, often three quarters of an unstripped build -- is never read by the
 * kernel or the dynamic loader, so the copy leaves it out.  Anything that is not a well-formed
 * ELF64 file is copied whole.
 */
static size_t image_size(int fd, size_t file_size)
{
	Elf64_Ehdr eh;
	size_t end;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256 ||
	    eh.e_phoff > file_size)
		return file_size;
	end = eh.e_phoff + (size_t)eh.e_phnum * sizeof(Elf64_Phdr);
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) !=
			    (ssize_t)sizeof(ph) ||
		    ph.p_offset > file_size || ph.p_filesz > file_size - ph.p_offset)
			return file_size;
		if (ph.p_offset + ph.p_filesz > end)
			end = ph.p_offset + ph.p_filesz;
	}
	return end < file_size ? end : file_size;
}

/*
 * F_SEAL_WRITE fails with EBUSY while a page of the memfd still has a reference beyond its
 * mappings: the kernel drains only this CPU's LRU batches before it looks, and the copy may have
 * run on another CPU (seen in CI under load, once in a few thousand copies).  The references go
 * within milliseconds: try again a few times before giving up.
 */
static int seal(int fd)
{
	for (int attempt = 0;; attempt++) {
		if (fcntl(fd, F_ADD_SEALS, SEALS) == 0)
			return 0;
		if (errno != EBUSY || attempt == 20)
			return -errno;
		struct timespec pause = {.tv_nsec = 1000000L * (attempt < 5 ? 1 : 10)};
		nanosleep(&pause, NULL);
	}
}

int berth_sealed_memfd_of_file(const char *path, int *ret_fd, struct berth_error **err)
{
	_cleanup_close_ int src = -EBADF, mfd = -EBADF;
	struct stat st;
	int r;

	src = open(path, O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return berth_error_sys(err, errno, "open '%s'", path);
	if (fstat(src, &st) < 0)
		return berth_error_sys(err, errno, "stat '%s'", path);
	if (!S_ISREG(st.st_mode) || st.st_size <= 0)
		return berth_error_set(err, EINVAL, "'%s' is not a regular file", path);
	mfd = make_memfd("berth-sealed-exe");
	if (mfd < 0)
		return berth_error_sys(err, errno, "memfd_create");
	r = copy_all(mfd, src, image_size(src, (size_t)st.st_size));
	if (r < 0)
		return berth_error_sys(err, -r, "copy '%s' into a memfd", path);
	r = seal(mfd);
	if (r < 0)
		return berth_error_sys(err, -r, "seal the copy of '%s'", path);
	*ret_fd = TAKE_FD(mfd);
	return 0;
}

int berth_sealed_memfd_of_self(int *ret_fd, struct berth_error **err)
{
	return berth_sealed_memfd_of_file("/proc/self/exe", ret_fd, err);
}

int berth_reexec_sealed_copy(char **argv, char **envp, struct berth_error **err)
{
	_cleanup_close_ int fd = -EBADF;
	int r;

	if (berth_self_is_sealed_copy()) {
		/* exec named us after the memfd ("memfd:berth-seal"): take our own name back */
		const char *slash = argv && argv[0] ? strrchr(argv[0], '/') : NULL;
		const char *name = slash ? slash + 1 : argv && argv[0] ? argv[0] : NULL;
		if (name && *name)
			prctl(PR_SET_NAME, name, 0, 0, 0);
		return 0;
	}
	r = berth_sealed_memfd_of_self(&fd, err);
	if (r < 0)
		return r;
	/* the memfd is close-on-exec: the kernel has the file open before it closes our fds */
	syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH);
	return berth_error_sys(err, errno, "re-execute from a sealed copy of '/proc/self/exe'");
}
