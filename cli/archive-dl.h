/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * libarchive, loaded when a command needs it (cp) rather than at every start of berth: linked
 * in, it and what it pulls in (libxml2, ICU, libstdc++, the compressors) took three times the
 * CLI's own start-up on every command.  The functions are called as la.archive_xxx(...); the
 * prototypes are libarchive's own (its headers, typeof), so a mismatch does not compile.
 */

#include <archive.h>
#include <archive_entry.h>

#define LA_FUNCS(X)                                                                                \
	X(archive_entry_copy_stat)                                                                 \
	X(archive_entry_filetype)                                                                  \
	X(archive_entry_free)                                                                      \
	X(archive_entry_hardlink)                                                                  \
	X(archive_entry_new)                                                                       \
	X(archive_entry_pathname)                                                                  \
	X(archive_entry_set_filetype)                                                              \
	X(archive_entry_set_gname)                                                                 \
	X(archive_entry_set_hardlink)                                                              \
	X(archive_entry_set_mtime)                                                                 \
	X(archive_entry_set_pathname)                                                              \
	X(archive_entry_set_perm)                                                                  \
	X(archive_entry_set_size)                                                                  \
	X(archive_entry_set_symlink)                                                               \
	X(archive_entry_set_uname)                                                                 \
	X(archive_entry_size)                                                                      \
	X(archive_entry_sourcepath)                                                                \
	X(archive_entry_unset_atime)                                                               \
	X(archive_entry_unset_birthtime)                                                           \
	X(archive_entry_unset_ctime)                                                               \
	X(archive_error_string)                                                                    \
	X(archive_read_close)                                                                      \
	X(archive_read_data_block)                                                                 \
	X(archive_read_disk_descend)                                                               \
	X(archive_read_disk_new)                                                                   \
	X(archive_read_disk_open)                                                                  \
	X(archive_read_disk_set_behavior)                                                          \
	X(archive_read_disk_set_symlink_physical)                                                  \
	X(archive_read_free)                                                                       \
	X(archive_read_new)                                                                        \
	X(archive_read_next_header)                                                                \
	X(archive_read_next_header2)                                                               \
	X(archive_read_open)                                                                       \
	X(archive_read_open_memory)                                                                \
	X(archive_read_support_filter_all)                                                         \
	X(archive_read_support_format_gnutar)                                                      \
	X(archive_read_support_format_tar)                                                         \
	X(archive_set_error)                                                                       \
	X(archive_write_add_filter_none)                                                           \
	X(archive_write_close)                                                                     \
	X(archive_write_data)                                                                      \
	X(archive_write_data_block)                                                                \
	X(archive_write_disk_new)                                                                  \
	X(archive_write_disk_set_options)                                                          \
	X(archive_write_finish_entry)                                                              \
	X(archive_write_free)                                                                      \
	X(archive_write_header)                                                                    \
	X(archive_write_new)                                                                       \
	X(archive_write_open)                                                                      \
	X(archive_write_open_fd)                                                                   \
	X(archive_write_set_bytes_in_last_block)                                                   \
	X(archive_write_set_format_pax_restricted)

struct la_funcs {
#define LA_FIELD(f) __typeof__(f) *f;
	LA_FUNCS(LA_FIELD)
#undef LA_FIELD
};

extern struct la_funcs la;

/* Load libarchive once (dlopen of its soname); 0, or -1 with docker-style words in *err. */
int la_load(char **err);
