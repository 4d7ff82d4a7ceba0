/*
 * Is a git operation running in the root? (SPEC 4.16: while one runs, file
 * changes are held and synced as the operation's end state, so a rebase or
 * a checkout half done is never mistaken for edits.)
 *
 * Busy means one of these exists in the repository's git folder, checked in
 * this order:
 *	index.lock		any command writing the index: commit,
 *				checkout, merge, stash, add, ...
 *	rebase-merge		a rebase (interactive or merge backend)
 *	rebase-apply		a rebase (apply backend) or git am
 *	MERGE_HEAD		a merge stopped on conflicts
 *	CHERRY_PICK_HEAD	a cherry-pick stopped on conflicts
 *	REVERT_HEAD		a revert stopped on conflicts
 *	sequencer		a cherry-pick or revert of several commits
 *	BISECT_LOG		a bisect: until "git bisect reset" the files
 *				show old commits, which synced would push
 *				old versions into the database as if they
 *				were edits. Holding only delays syncing, so
 *				when unsure, hold.
 * The first four are SPEC 4.16's list; the others stop the working tree
 * mid-operation in the same way.
 *
 * The repository is found as git finds it: the first .git in the root or,
 * when the root is a folder inside a repository, in one of its parents (up
 * to 64 levels, not across a mount point, as git's default). Its git folder
 * is .git when that is a folder (a symbolic link to one is followed: only
 * names are looked up there, nothing is read or written), or, when .git is
 * a file (linked worktrees, submodules), the folder its "gitdir: <path>"
 * line names, relative to the folder holding the .git file unless
 * absolute. That folder is usually outside the root (a worktree's lives in
 * the main repository's .git/worktrees/<name>/, where git keeps that
 * worktree's index.lock, rebase and merge state), so it is followed
 * wherever it is.
 *
 * Not busy: no repository, an unreadable or malformed .git file, a gitdir
 * that does not open (the search stops at that .git, as git's does): then
 * there is no operation this tool could wait for.
 * Blocking (a few fstatat() calls): fine on a worker or a one-shot pass.
 * No global state.
 */
#ifndef EXECSYNC_GITSTATE_H
#define EXECSYNC_GITSTATE_H

#include <stdbool.h>

/*
 * True when a git operation runs in the repository whose work tree is the
 * root open on root_fd (an O_DIRECTORY descriptor, borrowed). what (may be
 * NULL) gets the marker found, a static string from the list above
 * ("index.lock", "MERGE_HEAD", ...), or NULL when not busy.
 */
bool	es_git_busy(int root_fd, const char **what);

#endif
