/*
 * Walking and reading the root: the file side's only I/O besides atomic
 * writes (fsio). Everything works relative to a descriptor of the root with
 * openat()/fstatat(), and never follows a symbolic link (SPEC 4.11:
 * "symlinks are never followed out of the root"); a symlink where a synced
 * file or folder would be is reported, not read.
 *
 * Blocking calls: use from a worker or a one-shot pass, not the loop thread.
 * No global state: calls on different roots or threads are independent.
 */
#ifndef EXECSYNC_SCAN_H
#define EXECSYNC_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/layout.h"

/* What the planner compares to tell whether a file may have changed. */
struct es_stat {
	uint64_t	 dev, ino, size;
	int64_t		 mtime_ns, ctime_ns;	/* ns since the epoch */
	uint32_t	 mode;			/* st_mode, type bits included */
};

struct es_scan_entry {
	char			*rel;	/* relative to the root */
	struct es_path_info	 info;	/* es_layout_classify() of rel */
	struct es_stat		 st;
};

/* A place the scanner did not take, and why ("symbolic link, not followed"). */
struct es_scan_skip {
	char	*rel;
	char	*reason;
};

/* Owns every string in it; es_scan_result_release() frees them. */
struct es_scan_result {
	struct es_scan_entry	*entries;	/* sorted by rel (strcmp) */
	size_t			 n;
	struct es_scan_skip	*skipped;	/* sorted by rel (strcmp) */
	size_t			 nskipped;
};

struct es_scan_opts {
	const char *const	*ignore;	/* NULL or NULL-terminated globs */
};

/*
 * Walk the root (root_fd: an O_DIRECTORY descriptor, borrowed, its offset
 * untouched) and fill *out (which need not be initialised) with every synced
 * file (es_layout_classify() == 1) and its stat data. Only folders that
 * es_layout_descend() accepts are read. Symbolic links (to files or folders,
 * inside or outside the root) are never followed and are listed in skipped
 * when they sit where a synced file or folder could be, as are non-regular
 * files with synced names, badly named (non-UTF-8, control characters)
 * files and folders inside the synced trees, and folders that cannot be
 * read ("cannot read folder: Permission denied").
 * Returns 0, or -1 with err (out then empty) only when the root itself
 * cannot be read. A root without any of the three synced folders is not an
 * error here: the caller decides (SPEC 4.15: a missing root is an error,
 * never "everything was deleted"). opts may be NULL.
 */
int	es_scan(int root_fd, const struct es_scan_opts *opts,
	    struct es_scan_result *out, struct es_error *err);
/* Frees everything in r and zeroes it; r may be NULL or already released. */
void	es_scan_result_release(struct es_scan_result *r);

/*
 * Read rel (relative, beneath root_fd) into out (old content replaced) and
 * its stat data into st (may be NULL). The path is resolved without
 * following any symbolic link, on the way or at the end
 * (openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), or a component-by-component
 * O_NOFOLLOW walk where openat2 is missing). A file over max_size is refused
 * after fstat, without reading it. The bytes then pass es_content_check().
 * Returns 0, or -1 with err (path = rel; out reset):
 *	ES_EUNSAFE	a symbolic link on the way ("symbolic link, not
 *			followed"), an absolute path, "..", "." or empty
 *			components ("unsafe path")
 *	ES_ELIMIT	over max_size ("file is N bytes, over the M-byte limit")
 *	ES_EIO		open/read failures (err->sys: ENOENT when absent),
 *			not a regular file
 *	ES_EPARSE	es_content_check() faults (NUL, UTF-8, conflict markers)
 */
int	es_scan_read(int root_fd, const char *rel, size_t max_size,
	    struct es_buf *out, struct es_stat *st, struct es_error *err);

/*
 * Stat rel beneath root_fd without following symbolic links (on the way
 * or at the end). Returns 1 when it is a regular file (st filled), 0 when it
 * is absent (or a folder on the way is), -1 with err otherwise: a symbolic
 * link (ES_EUNSAFE "symbolic link, not followed"; st filled when it is the
 * last component), something other than a regular file (ES_EIO "not a
 * regular file"; st filled), an unsafe rel, or a failed call.
 */
int	es_scan_stat(int root_fd, const char *rel, struct es_stat *st,
	    struct es_error *err);

/*
 * Test seam (never set outside tests): when true, es_scan_read() and
 * es_scan_stat() skip openat2() and use the O_NOFOLLOW walk, as on kernels
 * before 5.6.
 */
extern bool es__scan_no_openat2;

#endif
