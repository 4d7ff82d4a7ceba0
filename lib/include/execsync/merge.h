/*
 * Three-way line merge of project and goal bodies (SPEC 4.3: "both sides
 * changed the body: a clean line-level three-way merge is taken; overlapping
 * edits are a conflict"). Pure: bytes in, bytes out, no I/O.
 *
 * The merge is libgit2's git_merge_file() (xdiff, the algorithm git itself
 * uses for `git merge-file`), with no favour, so what git calls a conflict is
 * a conflict here. Measured with libgit2 1.5.1 (and pinned by the tests in
 * tests/unit/test-merge.c):
 *  - edits separated by at least one unchanged line merge cleanly;
 *  - edits on adjacent lines (one side changes line 2, the other line 3)
 *    are a conflict, as in git: xdiff joins hunks that touch;
 *  - both sides making the same change, or one side not changing at all,
 *    is clean (answered here without calling libgit2, byte for byte);
 *  - both sides inserting different lines at the same place (both
 *    appending at the end, say) is a conflict;
 *  - CRLF line endings are kept; a missing final newline is kept when the
 *    last line is not touched by both sides;
 *  - libgit2 treats a body holding a NUL byte as binary: any two-sided
 *    change of such a body is a conflict (scan rejects NUL bytes anyway).
 *
 * Thread-safe: libgit2 is initialised once (pthread_once) and then only
 * used through reentrant calls.
 */
#ifndef EXECSYNC_MERGE_H
#define EXECSYNC_MERGE_H

#include <stddef.h>

#include "execsync/buf.h"

/*
 * Three-way line merge of bodies: base (the last synced body), ours (the
 * file's) and theirs (the database's). Pointers are borrowed for the call;
 * a NULL pointer with length 0 is an empty body.
 *
 * Returns 0 with the merged bytes appended to out when the edits do not
 * overlap (or one side did not change, or both made the same change); 1 when
 * they overlap, a conflict: out untouched; -1 on an internal error of
 * libgit2 (out untouched; callers treat it as a conflict, so nothing is
 * lost). Bytes are bytes: CRLF and a missing final newline are kept, no
 * normalisation.
 */
int	es_merge3(const char *base, size_t base_len, const char *ours,
	    size_t ours_len, const char *theirs, size_t theirs_len,
	    struct es_buf *out);

#endif
