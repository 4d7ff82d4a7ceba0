/*
 * A whole folder, loaded: scan + read + parse of every synced file into
 * entities and action lists, with every problem collected as a `path:line:
 * reason` error instead of stopping (SPEC 4.10). Used where everything is
 * needed at once (execsync-migrate, execsync-scan, benchmarks); the sync
 * engine reads only the files whose stat data changed, with the same
 * per-file function es_tree_load_file().
 *
 * Blocks on the file system: not for the loop thread.
 */
#ifndef EXECSYNC_TREE_H
#define EXECSYNC_TREE_H

#include <stddef.h>

#include "execsync/action-list.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/scan.h"

enum es_tree_status {
	ES_TREE_OK = 0,		/* parsed: entity or list is valid */
	ES_TREE_NOT_SYNCED,	/* a goal candidate that is not a goal */
	ES_TREE_FAILED,		/* unreadable or malformed: see the errors */
};

struct es_tree_file {
	char			*rel;
	struct es_path_info	 info;
	struct es_stat		 st;
	es_fp_t			 raw_fp;	/* of the bytes read */
	enum es_tree_status	 status;
	struct es_entity	 entity;	/* projects and goals, when OK */
	struct es_action_list	*list;		/* action lists, when OK */
};

struct es_tree {
	struct es_tree_file	*files;		/* sorted by rel */
	size_t			 nfiles;
	struct es_error		*errors;	/* file and line problems */
	size_t			 nerrors;
	struct es_scan_skip	*skipped;	/* symlinks, unreadable folders */
	size_t			 nskipped;
	size_t			 nprojects, ngoals, nlists, nactions;
	size_t			 bytes;
};

struct es_tree_opts {
	const char *const	*ignore;	/* glob patterns, NULL-terminated; may be NULL */
	size_t			 max_file_size;
};

/*
 * Load everything under root_fd. Returns -1 (err) only when the root cannot be
 * scanned; problems with single files or lines land in t->errors.
 */
int	es_tree_load(int root_fd, const struct es_tree_opts *opts,
	    struct es_tree *t, struct es_error *err);
/*
 * The same, calling each (when not NULL) after every file is loaded with
 * its index in t->files and the count of t->errors before it, so a caller
 * can show progress and count each file's problems.
 */
int	es_tree_load_each(int root_fd, const struct es_tree_opts *opts,
	    void (*each)(const struct es_tree *t, size_t i,
	    size_t errors_before, void *ud), void *ud,
	    struct es_tree *t, struct es_error *err);
/*
 * Read and parse one scanned file into f (f->rel and f->info must be set;
 * the rest is filled). Problems are appended to t's error list when t is not
 * NULL. buf is scratch space reused between calls.
 */
void	es_tree_load_file(int root_fd, const struct es_tree_opts *opts,
	    struct es_tree_file *f, struct es_buf *buf, struct es_tree *t);
/*
 * The parse half of es_tree_load_file(), for bytes already read and
 * checked (es_scan_read(), or a simulated folder's read): f as
 * es_tree_load_file() leaves it after a successful read (f->status,
 * f->list and f->entity initialised as it does, f->st set), then raw_fp,
 * status, entity or list filled. Pure.
 */
void	es_tree_file_parse(struct es_tree_file *f, const char *data,
	    size_t len, struct es_tree *t);
void	es_tree_release(struct es_tree *t);

/*
 * The problems of a loaded folder, as every program judges them (an exit
 * status of 1 when not 0): bad files and lines, and places the scan could
 * not take (a symbolic link or an unreadable folder where a synced file or
 * folder belongs), which execsync-migrate reports as problems too.
 */
size_t	es_tree_nproblems(const struct es_tree *t);

#endif
