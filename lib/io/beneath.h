/*
 * Lib-internal: the pieces of "open a path beneath the root without ever
 * following a symbolic link" (SPEC 4.11) that scan.c (reading) and fsio.c
 * (writing) share, so the two keep one rule, and the one reading of the
 * stat data they both keep.
 */
#ifndef EXECSYNC_BENEATH_H
#define EXECSYNC_BENEATH_H

#include <sys/stat.h>

#include <stdbool.h>

#include "execsync/scan.h"


/*
 * The errno to report for a failed O_NOFOLLOW open of name in dfd: with
 * O_DIRECTORY a symlink says ENOTDIR, not ELOOP; say ELOOP for every
 * symlink, as openat2() does, so both ways give the same error.
 */
int	es__nofollow_errno(int dfd, const char *name, int e);

/*
 * openat2(root_fd, rel, flags | O_CLOEXEC, RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS); O_NOFOLLOW is added unless
 * flags has O_PATH (which would open a final symlink itself; the resolve
 * flags refuse it with ELOOP either way). Returns the descriptor or -1
 * with errno set: ENOSYS (a kernel before 5.6) or EPERM (a seccomp filter
 * that does not know the call) mean "walk instead".
 */
int	es__openat2_beneath(int root_fd, const char *rel, int flags);

/* The stat data kept of a file (struct es_stat) from lstat/fstat's. */
void	es__stat_fill(struct es_stat *st, const struct stat *sb);

#endif
