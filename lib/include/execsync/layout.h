/*
 * The folder layout of SPEC §2: which paths under the root are synced and
 * what they hold, and where an entity or action from the database goes.
 * Pure string logic, no I/O. Paths are relative to the root,
 * "/"-separated, without a leading "/".
 */
#ifndef EXECSYNC_LAYOUT_H
#define EXECSYNC_LAYOUT_H

#include <stdbool.h>

#include "execsync/buf.h"
#include "execsync/entity.h"
#include "execsync/error.h"

/* The three synced trees (SPEC §2). */
#define ES_DIR_ACTIONS	"00k-next-actions"
#define ES_DIR_PROJECTS	"10k-projects"
#define ES_DIR_GOALS	"30k-goals"

/* What a synced path holds; the fields a kind does not use are zero. */
struct es_path_info {
	enum es_kind	 kind;		/* PROJECT, GOAL, or ACTION (a list) */
	enum es_folder	 folder;	/* projects and goals */
	enum es_list_kind list;		/* action lists */
	char		 area_dir[256];	/* projects: the <area-kebab> folder */
	char		 slug[256];	/* projects, goals: name without .md */
	char		 context[256];	/* context lists: "@macbook" */
};

/*
 * Classify rel. Returns 1 (synced; *out filled) for:
 *	10k-projects/{active,incubator,completed,descoped}/<area>/<slug>.md
 *	    (exactly that depth)
 *	30k-goals/{active,incubator}/[<folders>/]<name>.md, name not
 *	    starting with '_' (a goal *candidate*: its content decides
 *	    whether it is a goal, SPEC §2; slug = name without .md)
 *	00k-next-actions/contexts/@<ctx>.md (context "@<ctx>", which must
 *	    pass es_context_is_valid())
 *	00k-next-actions/{@waiting,@deferred,@incubating}.md
 *	00k-next-actions/completed.md
 * Returns 0 (not synced; *out zeroed) for anything else: other paths, wrong
 * depth, an empty slug (".md"), hidden files and folders at any level (which
 * covers .git/, .execsync/, ".*.swp" and ".#*"), names ending in '~', vim's
 * "4913" probe, a component that is not valid UTF-8 or holds control
 * characters, "." and "..", empty components, over-long components (> 255
 * bytes), and paths matching ignore.
 * ignore: NULL or a NULL-terminated list of fnmatch(3) patterns relative to
 * the root, matched with FNM_PATHNAME against rel and against each folder
 * above it (so "10k-projects/active/old" also ignores everything in it); a
 * pattern ending in '/' matches folders only. out may be NULL.
 */
int	es_layout_classify(const char *rel, const char *const *ignore,
	    struct es_path_info *out);

/*
 * True when the scanner should look into the folder rel_dir ("" is the
 * root): false for hidden or ignored folders, badly named ones, and
 * everything that cannot hold a synced file (outside the three trees,
 * 00k-next-actions/ below contexts/, 10k-projects/ below the area level,
 * 30k-goals/ outside active/ and incubator/).
 */
bool	es_layout_descend(const char *rel_dir, const char *const *ignore);

/*
 * Where a database entity's file goes (SPEC §2):
 *	projects: 10k-projects/<folder>/<es_area_dirname(area)>/<slug>.md
 *	goals:    30k-goals/<folder>/<slug>.md
 * Every component is validated before anything is built (SPEC 4.11):
 * -1 with ES_EUNSAFE naming the value for a slug that is not
 * es_slug_is_safe() ("unsafe slug '../../.bashrc'") or a bad area
 * ("unsafe area '/etc'"); -1 with ES_EPARSE for a folder the kind cannot
 * have ("bad folder 'completed' for goal 'run-a-marathon'") or an
 * ES_KIND_ACTION entity. On success out holds the path (its old content
 * replaced); on error out is unchanged.
 */
int	es_layout_entity_path(const struct es_entity *e, struct es_buf *out,
	    struct es_error *err);

/*
 * The list file of an action from the database, under 00k-next-actions/:
 * next -> contexts/@<ctx>.md (contexts/@inbox.md when context is NULL),
 * waiting -> @waiting.md, deferred -> @deferred.md, incubating ->
 * @incubating.md, completed -> completed.md. -1 with ES_EUNSAFE for a next
 * action whose context fails es_context_is_valid() ("unsafe context
 * '@a/b'"), ES_EPARSE for ES_STATE_NONE. On success out holds the path (old
 * content replaced); on error out is unchanged.
 */
int	es_layout_action_path(const struct es_action *a, struct es_buf *out,
	    struct es_error *err);

/*
 * The list file of a list kind (and, for ES_LIST_CONTEXT, its context, NULL
 * meaning "@inbox"), as es_layout_action_path() names it.
 */
int	es_layout_list_path(enum es_list_kind list, const char *context,
	    struct es_buf *out, struct es_error *err);

/*
 * A relative path made of plain names only: not empty or absolute, no
 * empty, "." or ".." components, shorter than PATH_MAX. Checked before any
 * system call (fsio, scan), so that neither the kernel's RESOLVE_BENEATH
 * nor a fallback walk is the only guard; the simulated folder
 * (tests/sim) holds the engine's paths to the same rule.
 */
bool	es_rel_is_plain(const char *rel);

#endif
