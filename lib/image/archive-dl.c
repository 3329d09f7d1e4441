/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libarchive, loaded on the first tar berthd reads or writes (base/dl.h says why and how).
 * Every libarchive function berth calls -- here, in lib/registry and in the daemon -- is in the
 * table below; one that is not is a link error ("undefined reference to archive_xxx").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "image-internal.h"
#include "base/dl.h"

#include "base/banned.h"

#define E struct archive_entry *e
#define A struct archive *a

/* clang-format off */
#define LA_FUNCS(X)                                                                                \
	X(BERTH_DL_NEW, struct archive *, archive_read_new, (void), ())                            \
	X(BERTH_DL_NEW, struct archive *, archive_write_new, (void), ())                           \
	X(BERTH_DL_NEW, struct archive_entry *, archive_entry_new, (void), ())                     \
	X(BERTH_DL_FN, int, archive_errno, (A), (a))                                               \
	X(BERTH_DL_FN, const char *, archive_error_string, (A), (a))                               \
	X(BERTH_DL_BYHAND, void, archive_set_error, (), ())                                        \
	X(BERTH_DL_FN, int, archive_read_free, (A), (a))                                           \
	X(BERTH_DL_FN, int, archive_read_support_filter_all, (A), (a))                             \
	X(BERTH_DL_FN, int, archive_read_support_filter_gzip, (A), (a))                            \
	X(BERTH_DL_FN, int, archive_read_support_filter_zstd, (A), (a))                            \
	X(BERTH_DL_FN, int, archive_read_support_format_empty, (A), (a))                           \
	X(BERTH_DL_FN, int, archive_read_support_format_gnutar, (A), (a))                          \
	X(BERTH_DL_FN, int, archive_read_support_format_raw, (A), (a))                             \
	X(BERTH_DL_FN, int, archive_read_support_format_tar, (A), (a))                             \
	X(BERTH_DL_FN, int, archive_read_open,                                                     \
	  (A, void *data, archive_open_callback *o, archive_read_callback *r,                      \
	   archive_close_callback *c),                                                             \
	  (a, data, o, r, c))                                                                      \
	X(BERTH_DL_FN, int, archive_read_open_fd, (A, int fd, size_t block), (a, fd, block))       \
	X(BERTH_DL_FN, int, archive_read_open_memory, (A, const void *buf, size_t size),           \
	  (a, buf, size))                                                                          \
	X(BERTH_DL_FN, int, archive_read_next_header, (A, struct archive_entry **e), (a, e))       \
	X(BERTH_DL_FN, la_ssize_t, archive_read_data, (A, void *buf, size_t size), (a, buf, size)) \
	X(BERTH_DL_FN, int, archive_read_data_block,                                               \
	  (A, const void **buf, size_t *size, la_int64_t *off), (a, buf, size, off))               \
	X(BERTH_DL_FN, int, archive_read_data_skip, (A), (a))                                      \
	X(BERTH_DL_FN, int, archive_write_free, (A), (a))                                          \
	X(BERTH_DL_FN, int, archive_write_close, (A), (a))                                         \
	X(BERTH_DL_FN, int, archive_write_add_filter_none, (A), (a))                               \
	X(BERTH_DL_FN, int, archive_write_add_filter_gzip, (A), (a))                               \
	X(BERTH_DL_FN, int, archive_write_add_filter_zstd, (A), (a))                               \
	X(BERTH_DL_FN, int, archive_write_set_format_pax_restricted, (A), (a))                     \
	X(BERTH_DL_FN, int, archive_write_set_format_gnutar, (A), (a))                             \
	X(BERTH_DL_FN, int, archive_write_set_format_ustar, (A), (a))                              \
	X(BERTH_DL_FN, int, archive_write_set_bytes_per_block, (A, int n), (a, n))                 \
	X(BERTH_DL_FN, int, archive_write_set_bytes_in_last_block, (A, int n), (a, n))             \
	X(BERTH_DL_FN, int, archive_write_open,                                                    \
	  (A, void *data, archive_open_callback *o, archive_write_callback *w,                     \
	   archive_close_callback *c),                                                             \
	  (a, data, o, w, c))                                                                      \
	X(BERTH_DL_FN, int, archive_write_header, (A, E), (a, e))                                  \
	X(BERTH_DL_FN, la_ssize_t, archive_write_data, (A, const void *buf, size_t size),          \
	  (a, buf, size))                                                                          \
	X(BERTH_DL_FN, int, archive_write_finish_entry, (A), (a))                                  \
	X(BERTH_DL_VOID, void, archive_entry_free, (E), (e))                                       \
	X(BERTH_DL_FN, time_t, archive_entry_atime, (E), (e))                                      \
	X(BERTH_DL_FN, int, archive_entry_atime_is_set, (E), (e))                                  \
	X(BERTH_DL_FN, long, archive_entry_atime_nsec, (E), (e))                                   \
	X(BERTH_DL_FN, time_t, archive_entry_mtime, (E), (e))                                      \
	X(BERTH_DL_FN, int, archive_entry_mtime_is_set, (E), (e))                                  \
	X(BERTH_DL_FN, long, archive_entry_mtime_nsec, (E), (e))                                   \
	X(BERTH_DL_FN, __LA_MODE_T, archive_entry_filetype, (E), (e))                              \
	X(BERTH_DL_FN, __LA_MODE_T, archive_entry_perm, (E), (e))                                  \
	X(BERTH_DL_FN, __LA_MODE_T, archive_entry_mode, (E), (e))                                  \
	X(BERTH_DL_FN, la_int64_t, archive_entry_uid, (E), (e))                                    \
	X(BERTH_DL_FN, la_int64_t, archive_entry_gid, (E), (e))                                    \
	X(BERTH_DL_FN, const char *, archive_entry_uname, (E), (e))                                \
	X(BERTH_DL_FN, const char *, archive_entry_gname, (E), (e))                                \
	X(BERTH_DL_FN, dev_t, archive_entry_rdev, (E), (e))                                        \
	X(BERTH_DL_FN, la_int64_t, archive_entry_size, (E), (e))                                   \
	X(BERTH_DL_FN, int, archive_entry_size_is_set, (E), (e))                                   \
	X(BERTH_DL_FN, const char *, archive_entry_pathname, (E), (e))                             \
	X(BERTH_DL_FN, const char *, archive_entry_hardlink, (E), (e))                             \
	X(BERTH_DL_FN, const char *, archive_entry_symlink, (E), (e))                              \
	X(BERTH_DL_VOID, void, archive_entry_set_filetype, (E, unsigned int t), (e, t))            \
	X(BERTH_DL_VOID, void, archive_entry_set_perm, (E, __LA_MODE_T m), (e, m))                 \
	X(BERTH_DL_VOID, void, archive_entry_set_mode, (E, __LA_MODE_T m), (e, m))                 \
	X(BERTH_DL_VOID, void, archive_entry_set_uid, (E, la_int64_t id), (e, id))                 \
	X(BERTH_DL_VOID, void, archive_entry_set_gid, (E, la_int64_t id), (e, id))                 \
	X(BERTH_DL_VOID, void, archive_entry_set_uname, (E, const char *s), (e, s))                \
	X(BERTH_DL_VOID, void, archive_entry_set_gname, (E, const char *s), (e, s))                \
	X(BERTH_DL_VOID, void, archive_entry_set_mtime, (E, time_t t, long ns), (e, t, ns))        \
	X(BERTH_DL_VOID, void, archive_entry_set_size, (E, la_int64_t n), (e, n))                  \
	X(BERTH_DL_VOID, void, archive_entry_set_pathname, (E, const char *s), (e, s))             \
	X(BERTH_DL_VOID, void, archive_entry_set_hardlink, (E, const char *s), (e, s))             \
	X(BERTH_DL_VOID, void, archive_entry_set_symlink, (E, const char *s), (e, s))              \
	X(BERTH_DL_VOID, void, archive_entry_set_rdevmajor, (E, dev_t d), (e, d))                  \
	X(BERTH_DL_VOID, void, archive_entry_set_rdevminor, (E, dev_t d), (e, d))                  \
	X(BERTH_DL_VOID, void, archive_entry_copy_stat, (E, const struct stat *st), (e, st))       \
	X(BERTH_DL_FN, int, archive_entry_xattr_reset, (E), (e))                                   \
	X(BERTH_DL_FN, int, archive_entry_xattr_next,                                              \
	  (E, const char **name, const void **value, size_t *size), (e, name, value, size))        \
	X(BERTH_DL_VOID, void, archive_entry_xattr_add_entry,                                      \
	  (E, const char *name, const void *value, size_t size), (e, name, value, size))
/* clang-format on */

enum { LA_FUNCS(BERTH_DL_INDEX) LA_COUNT };

static const char *const names[] = {LA_FUNCS(BERTH_DL_NAMES)};
static void *ptrs[LA_COUNT];

static struct berth_dl berth_dl_self = {
	.soname = "libarchive.so.13",
	.names = names,
	.n = LA_COUNT,
	.ptrs = ptrs,
	.lock = PTHREAD_MUTEX_INITIALIZER,
};

LA_FUNCS(BERTH_DL_DEFINE)

/* variadic: the message is formatted here and handed on whole */
void archive_set_error(struct archive *a, int code, const char *fmt, ...)
{
	__typeof__(archive_set_error) *f =
		berth_dl_need(&berth_dl_self, BERTH_DL_I_archive_set_error);
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f(a, code, "%s", msg);
}

int berth_image_archive_load(struct berth_error **err)
{
	return berth_dl_load(&berth_dl_self, err);
}

int img_archive_new_failed(struct berth_error **err)
{
	if (berth_dl_load(&berth_dl_self, err) < 0)
		return -ELIBACC;
	return berth_error_set(err, ENOMEM, "out of memory");
}
