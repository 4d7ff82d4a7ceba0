/*
 * Change sources (issue 16 item 3): how the daemon learns that documents
 * changed, by the cheapest means the server has, behind one interface.
 * Chosen at open (and again on every reopen after a failure):
 *
 *	ES_SOURCE_STREAM  a change stream (MongoDB replica sets, Atlas):
 *			  one per daemon, database level, $match on the
 *			  three collections and the user's documents,
 *			  fullDocument: updateLookup, resumed from the
 *			  token the daemon stored (es_changes_token()).
 *			  Tick 0: next blocks until an event or timeout.
 *	ES_SOURCE_OPLOG	  FerretDB's basic OpLog, when a capped
 *			  local.oplog.rs exists: read every 500 ms, the
 *			  entries after the last one seen (by ts). The
 *			  oldest entry newer than the last one seen is a
 *			  gap (FerretDB trims the capped collection
 *			  lazily, every minute by default: a burst is a
 *			  gap once a trim took unread entries; with none
 *			  seen yet, as many entries as the cap are one).
 *			  Tick 500 ms.
 *	ES_SOURCE_POLL	  neither: the daemon polls with the since-query
 *			  (an ordinary pass), its interval from
 *			  es_poll_interval_ms(). es_changes_next() returns
 *			  ES_CHANGES_POLL at once.
 *
 * A source holds its own mongoc client and blocks: it runs on a thread
 * of its own, never on the loop. Events of documents of other users, of
 * other collections or that cannot be read are dropped (logged at debug).
 */
#ifndef EXECSYNC_CHANGES_H
#define EXECSYNC_CHANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/entity.h"
#include "execsync/error.h"

enum es_source_kind {
	ES_SOURCE_STREAM,
	ES_SOURCE_OPLOG,
	ES_SOURCE_POLL
};

/* "change_stream", "oplog", "poll" (for /status, /metrics, the log). */
const char	*es_source_kind_name(enum es_source_kind k);

/* One changed document. */
struct es_change_event {
	enum es_kind	 kind;		/* its collection */
	bson_oid_t	 id;
	bool		 deleted;	/* removed from the collection */
	bson_t		*doc;		/* the new document (owned), or NULL:
					   read it by _id */
};

struct es_change_batch {
	struct es_change_event	*ev;
	size_t			 n, cap;
	bool			 gap;	/* history lost: run a full pass */
};

void	es_change_batch_init(struct es_change_batch *b);
void	es_change_batch_reset(struct es_change_batch *b);	/* frees docs */
void	es_change_batch_release(struct es_change_batch *b);
/*
 * Appends ev, taking its doc (added: the sources and the tests fill
 * batches one event at a time).
 */
void	es_change_batch_push(struct es_change_batch *b,
	    const struct es_change_event *ev);

enum es_changes_status {
	ES_CHANGES_NONE,	/* timeout, nothing new */
	ES_CHANGES_EVENTS,	/* out->n events, or out->gap */
	ES_CHANGES_POLL,	/* a poll source: the caller polls */
	ES_CHANGES_ERROR = -1	/* err says why: reopen with backoff */
};

struct es_changes;

/*
 * Connects (a client of its own on uri) and chooses the source: a change
 * stream when the server opens one (resumed after token, a stored
 * resume token's canonical extended JSON, or NULL: from now; an expired
 * token is a gap), else the OpLog when local.oplog.rs exists and is
 * capped (starting after its newest entry), else poll. NULL with err
 * when the server cannot be reached (ES_EDB) or refuses us (ES_ECONFIG
 * for a refused password). A token the server cannot resume from (or
 * not JSON) opens a stream from now and the first next() is a gap. Logs
 * the source chosen at info.
 */
struct es_changes *es_changes_open(const char *uri, const char *database,
		    const char *user_id, const char *token,
		    struct es_error *err);

enum es_source_kind es_changes_kind(const struct es_changes *c);

/*
 * Waits at most timeout_ms for changes and appends them to out (which
 * the caller resets). An OpLog source reads at most every 500 ms (it
 * sleeps out the rest of its tick, bounded by timeout_ms); an OpLog that
 * lost every entry, the last one seen included (dropped), is an error. A
 * stream returns after each event of ours (the next ones of its batch
 * come at once); its getMore waits up to 1 s for the server, which may
 * overrun timeout_ms by as much. On ES_CHANGES_ERROR, out holds nothing
 * new.
 */
enum es_changes_status es_changes_next(struct es_changes *c, int timeout_ms,
		    struct es_change_batch *out, struct es_error *err);

/* The resume token to store (stream), malloc'd, or NULL. */
char		*es_changes_token(const struct es_changes *c);

/* Milliseconds the last read of the source took (for /status). */
double		 es_changes_last_cost_ms(const struct es_changes *c);

/* c may be NULL. */
void		 es_changes_free(struct es_changes *c);

/*
 * Pure parsing, table-tested: one OpLog entry ({op, ns, ts, o, o2}) or
 * one change-stream event into ev. database: the synced database's
 * name. Returns 1 an event of ours (ev filled, ev->doc owned), 0 one to
 * drop (another collection or user, a no-op), -1 malformed (err names
 * the field), and, from a change stream only, ES_CHANGE_LOST for an event
 * after which the stream cannot go on: a drop, a rename, dropDatabase or
 * invalidate (a gap: a full pass and a new stream).
 *
 * A delete carries only the _id (both sources): it is kept whatever the
 * user, deleted true and doc NULL; the caller knows its own ids. An
 * update whose new document is not in the entry or the event (an OpLog
 * $set without user_id, a stream's fullDocument missing) is kept with doc
 * NULL: the caller reads it by _id and checks its user.
 */
#define ES_CHANGE_LOST	2

int	es_change_from_oplog(const bson_t *entry, const char *database,
	    const char *user_id, struct es_change_event *ev,
	    struct es_error *err);
int	es_change_from_stream(const bson_t *event, const char *database,
	    const char *user_id, struct es_change_event *ev,
	    struct es_error *err);

/*
 * The adaptive poll (pure): the next interval after a since-query that
 * cost cost_ms: max(poll_ms, cost_ms * 9), so polling takes at most about
 * 10% of the server's time.
 */
uint64_t	es_poll_interval_ms(unsigned poll_ms, double cost_ms);

#endif
