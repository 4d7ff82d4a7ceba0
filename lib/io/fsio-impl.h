/*
 * Shared by fsio's two files, and by nothing else: fsio.c (paths, the
 * temporary file, the write, the move) and fsio-keep.c (the versions kept
 * aside: trash, conflict copies, the append). Contracts as in fsio.h:
 * paths relative to root_fd, -1 with err (may be NULL) on failure.
 */
#ifndef EXECSYNC_FSIO_IMPL_H
#define EXECSYNC_FSIO_IMPL_H

#include <sys/stat.h>
#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/scan.h"

#define ES__FSIO_SYMLINK_FMT	"'%s' is a symbolic link, not followed"
/* es__fsio_tmp_fill(): leave the mode the file was created with. */
#define ES__FSIO_AS_CREATED	((mode_t)-1)

/* A temporary file beside its target. */
struct es__fsio_tmp {
	int	 dfd;			/* borrowed */
	int	 fd;
	char	 name[NAME_MAX + 1];	/* "": none to remove */
};

/* Plain names only, nothing under .git/ (see fsio.h "Paths"). */
bool	es__fsio_safe(const char *rel);
/* ES_EUNSAFE "unsafe path". */
int	es__fsio_unsafe(struct es_error *err, const char *rel);
/*
 * The folder holding rel's last name, opened without following links
 * (created when create); *base points at that name in rel.
 */
int	es__fsio_open_parent(int root_fd, const char *rel, bool create,
	    const char **base, struct es_error *err);
/* The same for a regular file that must exist (a move's source). */
int	es__fsio_open_source(int root_fd, const char *rel, const char **base,
	    struct es_error *err);
/* Rename, with noreplace never over an existing b (errno EEXIST). */
int	es__fsio_rename(int fdf, const char *a, int fdt, const char *b,
	    bool noreplace);
/* fsync the folders of a move (once when they are the same). */
int	es__fsio_sync_both(int fdf, int fdt, const char *rel,
	    struct es_error *err);

/* Created with mode (through the umask), written, given mode, fsynced. */
int	es__fsio_tmp_open(struct es__fsio_tmp *t, int dfd, const char *base,
	    mode_t mode, const char *rel, struct es_error *err);
int	es__fsio_tmp_fill(struct es__fsio_tmp *t, const void *buf,
	    size_t len, mode_t mode, const char *rel, struct es_error *err);
/* Removes the file (unless its name was cleared) and closes it. */
void	es__fsio_tmp_discard(struct es__fsio_tmp *t);

/*
 * es_fsio_write() once rel's folder is open on dfd and base is its name;
 * with keep, a refused write keeps its bytes as a conflict copy.
 */
int	es__fsio_write_at(int root_fd, int dfd, const char *rel,
	    const char *base, const void *buf, size_t len, mode_t mode_if_new,
	    const struct es_stat *expect, const es_fp_t *fp, bool keep,
	    struct es_stat *st_out, struct es_error *err);

/*
 * es_fsio_conflict_copy() of the file from in fdf (moved there, never
 * copied) or, when fdf is -1, of the len bytes at buf. fsio-keep.c.
 */
int	es__fsio_keep(int root_fd, const char *rel, const char *side,
	    int64_t now_ms, int fdf, const char *from, const void *buf,
	    size_t len, struct es_buf *out_rel, struct es_error *err);

#endif
