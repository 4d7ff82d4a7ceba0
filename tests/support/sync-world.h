/*
 * The harness of the execsyncd --once integration tests (label sync): a
 * "world" is one temporary folder and one database of the fixture's
 * FerretDB; the real execsyncd binary runs on them, and the database is
 * changed only through the API peer. Shared by tests/sync/test-*.c.
 */
#ifndef ES_SYNC_WORLD_H
#define ES_SYNC_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>

#include "es-itest.h"
#include "execsync/buf.h"

#define DAY_S	(24 * 60 * 60)

struct world {
	struct es_itest	 t;
	char		*tmp;
	char		*root;
	struct es_buf	 out, err;
};

void	w_begin(struct world *w, const char *tag);
void	w_end(struct world *w);
int	syncd(struct world *w, const char *const *extra);
/* The same, run through the command pre (NULL-terminated): "setpriv". */
int	syncd_via(struct world *w, const char *const *pre,
	    const char *const *extra);
int	syncd1(struct world *w, const char *a);
char *	path_of(const struct world *w, const char *rel);
void	put(const struct world *w, const char *rel, const char *s);
char *	get(const struct world *w, const char *rel);
bool	exists(const struct world *w, const char *rel);
void	set_mtime(const struct world *w, const char *rel, int64_t off_s);
int64_t	mtime_ns(const struct world *w, const char *rel);
bool	contains(const char *hay, const char *needle);
void	assert_file_has(const struct world *w, const char *rel,
	    const char *needle);
bool	doc_get(const struct world *w, const char *coll, const char *slug,
	    bson_t *doc);
/* The content of the project with this slug (malloc'd); fails if none. */
char	*doc_content(const struct world *w, const char *slug);
void	peer(const struct world *w, const char *cmd, const char *json);
void	peer_clock(const struct world *w, int64_t off_ms, const char *cmd,
	    const char *json);
bool	doc_deleted(const bson_t *doc);
size_t	count_docs(const struct world *w, const char *coll);
/* The documents of w's user in coll that also match extra (may be NULL). */
size_t	count_where(const struct world *w, const char *coll,
	    const bson_t *extra);
/*
 * One pass of the engine in this process, as execsyncd --once runs it
 * (without its lock), so a test can act at a chosen point of it through
 * fsio's test seam. Returns the exit status execsyncd would: 2 (the
 * message in w->err) when the pass could not run or commit.
 */
int	engine_pass(struct world *w);
/*
 * The same pass through the real world (world.h) that wrap (may be NULL)
 * may change first (wrap tables, count calls, inject faults; ud is its
 * own), started by t (NULL: ordinary). *out (may be NULL) gets the
 * pass's result (es_engine_result_release() it).
 */
struct es_world;
struct es_trigger;
struct es_engine_result;
int	engine_pass_world(struct world *w,
	    void (*wrap)(struct es_world *ew, void *ud), void *ud,
	    const struct es_trigger *t, struct es_engine_result *out);
/* The peer's dump of the world's database; malloc'd. */
char	*dump(const struct world *w);
/* Every path, mtime and content hash under the root but .execsync/. */
char	*snapshot(const struct world *w);

#endif
