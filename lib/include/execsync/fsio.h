/*
 * Safe writes in the user's folder: the file side's only writer (SPEC 4.11:
 * "every file write is atomic (temporary file in the same folder, fsync,
 * rename, fsync of the folder) and keeps the file's mode"; 4.5: a file is
 * never unlinked, it goes to the trash; 4.2: the losing version of a
 * conflict is kept).
 *
 * Paths: every function works beneath root_fd, an O_DIRECTORY descriptor of
 * the sync root (borrowed, never closed, its offset untouched). rel, from
 * and to are relative, "/"-separated paths of plain names: an empty or
 * absolute path, an empty, "." or ".." component, or a path into ".git/"
 * (SPEC §2: never touched) is refused with ES_EUNSAFE "unsafe path" before
 * any system call. No symbolic link is ever followed, on the way or at the
 * end: folders are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)
 * where the kernel has it, else one component at a time with O_NOFOLLOW; a
 * link is ES_EUNSAFE "'<where>' is a symbolic link, not followed", and
 * nothing is created beyond it.
 *
 * Errors: -1 with err (may be NULL) filled, err->path = the rel named by the
 * call (the target for moves), err->sys = the errno of the call that failed.
 * A failure leaves every file it touched either as it was or as requested,
 * never half written, and leaves no temporary file behind; folders created
 * on the way may stay (folders are never removed).
 *
 * Temporary files are ".<basename>.execsync-XXXXXX" beside the target:
 * hidden, so the scanner and the watcher ignore them (SPEC §2).
 *
 * Ownership, ACLs and extended attributes of a replaced file are not copied:
 * the new file belongs to the writer, as every editor that saves by rename
 * does. Only the permission bits (st_mode & 07777) are kept.
 *
 * Blocking calls (fsync): use from a worker or a one-shot pass, never from
 * the loop thread. No global state: calls on different roots or threads are
 * independent (two calls writing the same rel at once race as two editors
 * would; the engine never does that).
 */
#ifndef EXECSYNC_FSIO_H
#define EXECSYNC_FSIO_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/scan.h"	/* struct es_stat */

/*
 * Mode of a file the tool creates, before the umask (or the folder's
 * default ACL), as for any program's new file; SPEC 4.11 keeps the mode of
 * a file the tool replaces.
 */
#define ES_FSIO_MODE_NEW	0644

/* Where kept versions go, relative to the root (SPEC 4.2, 4.5). */
#define ES_FSIO_TRASH_DIR	".execsync/trash"
#define ES_FSIO_CONFLICT_DIR	".execsync/conflicts"
/* The soft-deleted action lines of SPEC 4.5. */
#define ES_FSIO_TRASH_ACTIONS	".execsync/trash/actions.md"

/*
 * Replace (or create) rel with the len bytes at buf (buf may be NULL when
 * len is 0; bytes are written as they are, NULs included).
 *
 * Steps: missing parent folders are created (mode 0755, umask applies) and
 * synced; a temporary file is created beside rel (O_CREAT | O_EXCL), written
 * in full, given rel's current permission bits (or, when rel does not
 * exist, created with mode_if_new & 07777 through the umask: pass
 * ES_FSIO_MODE_NEW) and fsynced; then renamed over rel and the folder is
 * fsynced.
 *
 * expect, when not NULL, is a compare-and-swap on the file: rel must still
 * be the file the caller read, in dev, ino, size and mtime_ns (ctime is
 * left out: a chmod or a hard link is no edit; a rename, even ours, changes
 * it) and, with fp, in content: es_fp_bytes() of its bytes must equal *fp
 * (this catches a same-size edit within one tick of the file system's
 * clock, or one whose mtime was set back). This holds up to the commit:
 * ours is swapped in (renameat2 RENAME_EXCHANGE) and the file swapped out
 * is checked right after the swap and again after the folder fsync; a
 * change found there swaps the user's file back. Otherwise, or when rel
 * was gone or changed already: -1 with ES_ECONFLICT "changed on disk while
 * syncing", rel left to the user; the engine leaves its baseline as it was
 * and the next pass reads the file again. When the refusal comes after the
 * swap, this write's bytes, which were at rel for a moment, are kept as a
 * conflict copy (side "database", see es_fsio_conflict_copy()), and so is,
 * side "file", a version of the user's that got in the way (an editor's
 * save over ours before the swap-back): never dropped (should even the
 * move fail, it stays under its temporary name). The message says where.
 * Refused before the swap, ours was never more than a hidden temporary
 * file and nothing is kept. On file systems without
 * RENAME_EXCHANGE (EINVAL: NFS, most FUSE ones) the last check is right
 * before a plain rename, and an edit landing between the two is lost
 * (POSIX has no compare-and-rename). ARCHITECTURE.md, "Safety of file
 * writes", has the window that remains.
 *
 * An expect with dev and ino 0 (a zeroed struct, as the baseline has for
 * an entity without a file) means "rel must not exist": the rename then
 * uses RENAME_NOREPLACE, so a file that appears at the last moment is
 * never replaced (ES_ECONFLICT "already exists"); fp is not used.
 *
 * st_out (may be NULL) gets the new file's stat data on success, taken from
 * the written file itself, so an edit right after the rename cannot be
 * mistaken for ours. Errors: ES_EUNSAFE (path, symbolic link), ES_EIO
 * "not a regular file" (a folder or FIFO at rel) and failed calls,
 * ES_ECONFLICT as above. After a failed folder fsync (the last step) rel
 * already holds the new bytes; -1 says their durability is not known.
 */
int	es_fsio_write(int root_fd, const char *rel, const void *buf, size_t len,
	    mode_t mode_if_new, const struct es_stat *expect,
	    const es_fp_t *fp, struct es_stat *st_out, struct es_error *err);

/*
 * Move the regular file from to to (SPEC 4.6: a project that changed
 * folder, area or slug), creating to's missing parent folders. An existing
 * to is never replaced (renameat2 RENAME_NOREPLACE, or link + unlink where
 * the file system lacks it): ES_ECONFLICT "already exists" (err->path = to).
 * Both folders are fsynced. The folder from leaves behind is kept even when
 * empty: folders are never removed. from == to is "already exists".
 * Errors: ES_EUNSAFE (either path, or from is a symbolic link), ES_EIO
 * (from absent: err->sys ENOENT; not a regular file; failed calls).
 */
int	es_fsio_move(int root_fd, const char *from, const char *to,
	    struct es_error *err);

/*
 * SPEC 4.5: a file is never unlinked. Move rel to ES_FSIO_TRASH_DIR "/" rel,
 * or, when that exists, to the same path with ".1", ".2", ... appended (the
 * first free one; never replacing). trash_rel (may be NULL) gets the path
 * chosen, relative to the root (old content replaced). Errors as
 * es_fsio_move(), with err->path = rel, and ES_ELIMIT past ".9999".
 */
int	es_fsio_trash(int root_fd, const char *rel, struct es_buf *trash_rel,
	    struct es_error *err);

/*
 * The "<YYYYMMDDTHHMMSSZ>" of a conflict copy's name (now_ms floored to
 * its second, UTC) into stamp, side checked ("file" or "database"): 0,
 * or -1 with err (ES_EUSAGE). The one place the name is made; the
 * simulation (tests/sim) names its copies with it too.
 */
int	es_fsio_conflict_stamp(const char *rel, const char *side,
	    int64_t now_ms, char *stamp, size_t size, struct es_error *err);

/*
 * SPEC 4.2: keep the losing version of a conflict. Writes the len bytes at
 * buf, atomically as es_fsio_write() and never replacing a file, to
 *	ES_FSIO_CONFLICT_DIR "/" rel "." YYYYMMDDTHHMMSSZ "." side [".N"]
 * where the time is now_ms (ms since the epoch, UTC; a parameter so that the
 * name is reproducible) and side is "file" or "database" (anything else is
 * ES_EUSAGE). ".1", ".2", ... are tried when the name is taken. The copy is
 * created with ES_FSIO_MODE_NEW (umask applies). out_rel (may be NULL)
 * gets the path chosen, relative to the root (old content replaced).
 */
int	es_fsio_conflict_copy(int root_fd, const char *rel, const char *side,
	    int64_t now_ms, const void *buf, size_t len, struct es_buf *out_rel,
	    struct es_error *err);

/*
 * Append the len bytes at buf to rel (created, ES_FSIO_MODE_NEW, when
 * absent), atomically: the old content is read and old + new is written as
 * es_fsio_write() with the old file's stat data and fingerprint as expect,
 * so a concurrent change is re-read rather than lost (up to three tries,
 * then ES_ECONFLICT; a refused try keeps no conflict copy of its own).
 * No separator is added: the caller ends its lines. Meant for
 * ES_FSIO_TRASH_ACTIONS (SPEC 4.5). An existing rel over 64 MiB is
 * ES_ELIMIT; other errors as es_fsio_write().
 */
int	es_fsio_append(int root_fd, const char *rel, const void *buf,
	    size_t len, struct es_error *err);

#endif
