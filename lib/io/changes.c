/*
 * The change sources (changes.h): a change stream, FerretDB's OpLog or
 * nothing (poll), chosen at open. Everything here blocks: a source runs on
 * a thread of its own with a client of its own (an es_store: its URI
 * handling, timeouts, error API and error classification are the store's).
 * The parsing of entries and events is pure, in lib/model/change-event.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mongoc/mongoc.h>

#include "execsync/changes.h"
#include "execsync/log.h"
#include "execsync/xmalloc.h"

#include "store-internal.h"

#define SUB		"changes"
#define OPLOG_DB	"local"
#define OPLOG_COLL	"oplog.rs"
#define OPLOG_PATH	"local/oplog.rs"
#define OPLOG_TICK_MS	500
/* One command's bound for the source's client (connect, select, socket). */
#define CHANGES_TIMEOUT_MS	10000
/* A stream's getMore waits at most this long for an event. */
#define STREAM_AWAIT_MS	1000

/* Server codes (mongo/base/error_codes.yml). */
#define CODE_FAILED_TO_PARSE	9	/* FerretDB, aggregate: 1 */
#define CODE_NOT_IMPLEMENTED	238	/* FerretDB, on a collection */
#define CODE_NOT_REPLSET	40573	/* a standalone mongod */
#define CODE_HISTORY_LOST	286	/* ChangeStreamHistoryLost */
#define CODE_STREAM_FATAL	280	/* ChangeStreamFatalError */
#define CODE_BAD_TOKEN		260	/* InvalidResumeToken */

struct es_changes {
	enum es_source_kind	 kind;
	struct es_store		*st;
	char			*user;
	double			 cost_ms;

	/* OpLog: the last entry seen, the cap, the next read's time. */
	bool			 have_last;
	uint32_t		 last_t, last_i;
	int64_t			 max;
	int64_t			 next_read_ms;

	/* Stream: the cursor, the latest resume token, a gap to report. */
	mongoc_change_stream_t	*cs;
	/* On the heap: a bson_t wants a 128-byte alignment. */
	bson_t			*token;
	bool			 lost;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double
mono_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
	    .tv_nsec = (ms % 1000) * 1000000 };

	while (ms > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static void
drop_from(struct es_change_batch *out, size_t n0)
{
	for (size_t i = n0; i < out->n; i++)
		if (out->ev[i].doc != NULL)
			bson_destroy(out->ev[i].doc);
	out->n = n0;
}

/*
 * The OpLog.
 */

/* Whether local.oplog.rs exists and is capped; its cap (max) into c. */
static bool
oplog_exists(struct es_changes *c)
{
	mongoc_database_t *db;
	mongoc_cursor_t *cur;
	bson_t opts = BSON_INITIALIZER, filter;
	const bson_t *doc;
	bson_iter_t it;
	bson_error_t be;
	bool capped = false;

	BSON_APPEND_DOCUMENT_BEGIN(&opts, "filter", &filter);
	BSON_APPEND_UTF8(&filter, "name", OPLOG_COLL);
	bson_append_document_end(&opts, &filter);
	db = mongoc_client_get_database(c->st->client, OPLOG_DB);
	cur = mongoc_database_find_collections_with_opts(db, &opts);
	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t v;

		if (bson_iter_init(&it, doc) &&
		    bson_iter_find_descendant(&it, "options.capped", &v))
			capped = bson_iter_as_bool(&v);
		if (bson_iter_init(&it, doc) &&
		    bson_iter_find_descendant(&it, "options.max", &v))
			c->max = bson_iter_as_int64(&v);
	}
	/* Not allowed to list local (a managed server): no OpLog for us. */
	if (mongoc_cursor_error(cur, &be))
		es_log(ES_LOG_DEBUG, SUB, "listing %s: %s", OPLOG_DB,
		    be.message);
	mongoc_cursor_destroy(cur);
	mongoc_database_destroy(db);
	bson_destroy(&opts);
	return capped;
}

static int
oplog_error(struct es_changes *c, struct es_error *err, const char *what,
    const bson_error_t *be)
{
	return es__db_error(err, es__store_errcode(be), c->st->uri,
	    OPLOG_PATH, what, be->message);
}

/* Entries of local.oplog.rs by filter and opts; destroys neither. */
static mongoc_cursor_t *
oplog_find(struct es_changes *c, const bson_t *filter, const bson_t *opts,
    mongoc_collection_t **coll)
{
	*coll = mongoc_client_get_collection(c->st->client, OPLOG_DB,
	    OPLOG_COLL);
	return mongoc_collection_find_with_opts(*coll, filter, opts, NULL);
}

/* doc's ts, a Timestamp; false when it has none. */
static bool
entry_ts(const bson_t *doc, uint32_t *t, uint32_t *i)
{
	bson_iter_t it;

	if (!bson_iter_init_find(&it, doc, "ts") ||
	    !BSON_ITER_HOLDS_TIMESTAMP(&it))
		return false;
	bson_iter_timestamp(&it, t, i);
	return true;
}

static int
ts_cmp(uint32_t t1, uint32_t i1, uint32_t t2, uint32_t i2)
{
	if (t1 != t2)
		return t1 < t2 ? -1 : 1;
	return i1 < i2 ? -1 : i1 > i2;
}

/* Starts after the newest entry (none in an empty OpLog). */
static int
oplog_open(struct es_changes *c, struct es_error *err)
{
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
	const bson_t *doc;
	bson_error_t be;
	int rc = 0;

	/* $natural: FerretDB reads a capped collection in insertion order. */
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "$natural", -1);
	bson_append_document_end(&opts, &sort);
	BSON_APPEND_INT64(&opts, "limit", 1);
	cur = oplog_find(c, &filter, &opts, &coll);
	if (mongoc_cursor_next(cur, &doc))
		c->have_last = entry_ts(doc, &c->last_t, &c->last_i);
	if (mongoc_cursor_error(cur, &be))
		rc = oplog_error(c, err, "find", &be);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return rc;
}

/*
 * One read: the entries from the last one seen on, by ts. The last one
 * seen comes first unless it was pushed out of the capped collection: a
 * gap. FerretDB trims a capped collection lazily (every minute by default,
 * --test-capped-cleanup-interval, down to its max), so the OpLog may hold
 * more than 100 entries for a while and a burst is a gap only once the
 * trim took entries we had not read. With none seen yet (an OpLog empty
 * at open) nothing tells what a trim took: as many entries as the cap, or
 * more, count as a gap (at worst one full pass too many).
 */
static enum es_changes_status
oplog_read(struct es_changes *c, struct es_change_batch *out,
    struct es_error *err)
{
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sub;
	const bson_t *doc;
	bson_error_t be;
	struct es_error perr;
	struct es_change_event ev;
	struct timespec t0;
	uint32_t t, i, last_t = c->last_t, last_i = c->last_i;
	bool have_last = c->have_last, gap = false, first = true;
	size_t n0 = out->n, seen = 0;
	enum es_changes_status st;

	if (have_last) {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "ts", &sub);
		BSON_APPEND_TIMESTAMP(&sub, "$gte", last_t, last_i);
		bson_append_document_end(&filter, &sub);
	}
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sub);
	BSON_APPEND_INT32(&sub, "ts", 1);
	bson_append_document_end(&opts, &sub);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cur = oplog_find(c, &filter, &opts, &coll);
	while (mongoc_cursor_next(cur, &doc)) {
		seen++;
		if (!entry_ts(doc, &t, &i)) {
			es_log(ES_LOG_DEBUG, SUB, "%s: an entry without a "
			    "timestamp 'ts': skipped", OPLOG_PATH);
			continue;
		}
		if (have_last && ts_cmp(t, i, last_t, last_i) <= 0) {
			first = false;	/* the last one seen is there */
			continue;
		}
		if (have_last && first)
			gap = true;
		first = false;
		last_t = t;
		last_i = i;
		have_last = true;
		switch (es_change_from_oplog(doc, c->st->db, c->user, &ev,
		    &perr)) {
		case 1:
			es_change_batch_push(out, &ev);
			break;
		case -1:
			es_log_error(&perr, ES_LOG_DEBUG, SUB);
			break;
		}
	}
	c->cost_ms = mono_since(&t0);
	es_log(c->cost_ms > 1000 ? ES_LOG_INFO : ES_LOG_DEBUG, SUB, "%s: read "
	    "%zu entries in %.0f ms", OPLOG_PATH, seen, c->cost_ms);
	if (mongoc_cursor_error(cur, &be)) {
		oplog_error(c, err, "find", &be);
		drop_from(out, n0);
		st = ES_CHANGES_ERROR;
		goto out;
	}
	if (c->have_last && seen == 0) {
		/* Not even the last one seen: dropped, or emptied. */
		es_error_set(err, ES_EDB, OPLOG_PATH, 0, "the OpLog lost "
		    "every entry, the last one seen included (dropped?)");
		st = ES_CHANGES_ERROR;
		goto out;
	}
	if (!c->have_last && c->max > 0 && (int64_t)seen >= c->max)
		gap = true;
	c->have_last = have_last;
	c->last_t = last_t;
	c->last_i = last_i;
	if (gap) {
		es_log(ES_LOG_INFO, SUB, "%s: entries were dropped from it "
		    "before they were read: a full pass", OPLOG_PATH);
		out->gap = true;
	}
	st = out->n > n0 || gap ? ES_CHANGES_EVENTS : ES_CHANGES_NONE;
out:
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return st;
}

static enum es_changes_status
oplog_next(struct es_changes *c, int timeout_ms, struct es_change_batch *out,
    struct es_error *err)
{
	int64_t wait = c->next_read_ms - mono_ms();

	if (wait > 0) {
		if (wait > timeout_ms) {
			sleep_ms(timeout_ms);
			return ES_CHANGES_NONE;
		}
		sleep_ms(wait);
	}
	c->next_read_ms = mono_ms() + OPLOG_TICK_MS;
	return oplog_read(c, out, err);
}

/*
 * The change stream.
 */

static bool
is_lost(int32_t code)
{
	return code == CODE_HISTORY_LOST || code == CODE_STREAM_FATAL ||
	    code == CODE_BAD_TOKEN;
}

static void
keep_token(struct es_changes *c)
{
	const bson_t *tok = mongoc_change_stream_get_resume_token(c->cs);

	if (tok == NULL)
		return;
	if (c->token != NULL)
		bson_destroy(c->token);
	c->token = bson_copy(tok);
}

/*
 * The database-level stream: documents of the three collections that are
 * the user's (updateLookup's whole document), deletes (only an _id: kept),
 * and the events that end a stream.
 */
static void
stream_pipeline(const char *user, bson_t *pipeline)
{
	static const char *const lost[] = { "drop", "rename", "dropDatabase",
	    "invalidate" };
	static const enum es_kind kinds[] = { ES_KIND_PROJECT, ES_KIND_GOAL,
	    ES_KIND_ACTION };
	bson_t arr, stage, match, or, a, b, in, list, or2, c, d;
	char key[16];

	bson_init(pipeline);
	BSON_APPEND_ARRAY_BEGIN(pipeline, "pipeline", &arr);
	BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &stage);
	BSON_APPEND_DOCUMENT_BEGIN(&stage, "$match", &match);
	BSON_APPEND_ARRAY_BEGIN(&match, "$or", &or);

	BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &a);
	BSON_APPEND_DOCUMENT_BEGIN(&a, "ns.coll", &in);
	BSON_APPEND_ARRAY_BEGIN(&in, "$in", &list);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(key, sizeof(key), "%zu", i);
		BSON_APPEND_UTF8(&list, key, es_kind_collection(kinds[i]));
	}
	bson_append_array_end(&in, &list);
	bson_append_document_end(&a, &in);
	BSON_APPEND_ARRAY_BEGIN(&a, "$or", &or2);
	BSON_APPEND_DOCUMENT_BEGIN(&or2, "0", &c);
	BSON_APPEND_UTF8(&c, "fullDocument.user_id", user);
	bson_append_document_end(&or2, &c);
	BSON_APPEND_DOCUMENT_BEGIN(&or2, "1", &d);
	BSON_APPEND_UTF8(&d, "operationType", "delete");
	bson_append_document_end(&or2, &d);
	bson_append_array_end(&a, &or2);
	bson_append_document_end(&or, &a);

	BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &b);
	BSON_APPEND_DOCUMENT_BEGIN(&b, "operationType", &in);
	BSON_APPEND_ARRAY_BEGIN(&in, "$in", &list);
	for (size_t i = 0; i < sizeof(lost) / sizeof(lost[0]); i++) {
		snprintf(key, sizeof(key), "%zu", i);
		BSON_APPEND_UTF8(&list, key, lost[i]);
	}
	bson_append_array_end(&in, &list);
	bson_append_document_end(&b, &in);
	bson_append_document_end(&or, &b);

	bson_append_array_end(&match, &or);
	bson_append_document_end(&stage, &match);
	bson_append_document_end(&arr, &stage);
	bson_append_array_end(pipeline, &arr);
}

/*
 * Opens the stream, resumed after token (NULL: from now). 1 open, 0 the
 * server has no change streams, -1 err; *code the server's code.
 */
static int
stream_open(struct es_changes *c, const bson_t *token, int32_t *code,
    struct es_error *err)
{
	mongoc_database_t *db;
	bson_t pipeline, opts = BSON_INITIALIZER;
	const bson_t *reply;
	bson_error_t be;
	unsigned await = STREAM_AWAIT_MS;

	*code = 0;
	/* The socket must outlast a getMore's wait. */
	if (await > c->st->socket_timeout_ms / 2)
		await = c->st->socket_timeout_ms / 2;
	stream_pipeline(c->user, &pipeline);
	BSON_APPEND_UTF8(&opts, "fullDocument", "updateLookup");
	BSON_APPEND_INT64(&opts, "maxAwaitTimeMS", await);
	if (token != NULL)
		BSON_APPEND_DOCUMENT(&opts, "resumeAfter", token);
	db = mongoc_client_get_database(c->st->client, c->st->db);
	c->cs = mongoc_database_watch(db, &pipeline, &opts);
	mongoc_database_destroy(db);
	bson_destroy(&pipeline);
	bson_destroy(&opts);
	if (!mongoc_change_stream_error_document(c->cs, &be, &reply)) {
		keep_token(c);
		return 1;
	}
	mongoc_change_stream_destroy(c->cs);
	c->cs = NULL;
	/*
	 * The server answered: no stream here (FerretDB 1.24.2 refuses the
	 * database-level aggregate with FailedToParse, 9, "the 'aggregate'
	 * field must specify a collection name", and a collection's stream
	 * with 238; a standalone mongod says 40573; anything else, say a
	 * role without changeStream, is said at info) or, for the caller, a
	 * history it no longer has.
	 */
	if (be.domain == MONGOC_ERROR_SERVER) {
		*code = (int32_t)be.code;
		if (!is_lost(*code))
			es_log(*code == CODE_FAILED_TO_PARSE ||
			    *code == CODE_NOT_IMPLEMENTED ||
			    *code == CODE_NOT_REPLSET ? ES_LOG_DEBUG :
			    ES_LOG_INFO, SUB, "no change stream (%d): %s",
			    (int)be.code, be.message);
		return 0;
	}
	return es__store_error(c->st, err, NULL, "watch", &be);
}

/*
 * Tries a stream: resumed after token, and when the server no longer has
 * that history (or the token is not one), from now with a gap to report.
 */
static int
stream_try(struct es_changes *c, const char *token, struct es_error *err)
{
	bson_t tok;
	bson_error_t be;
	int32_t code;
	int rc;

	if (token != NULL && token[0] != '\0') {
		if (!bson_init_from_json(&tok, token, -1, &be)) {
			es_log(ES_LOG_WARN, SUB, "stored resume token is not "
			    "JSON (%s): a full pass and a new stream",
			    be.message);
			c->lost = true;
		} else {
			rc = stream_open(c, &tok, &code, err);
			bson_destroy(&tok);
			if (rc != 0 || !is_lost(code))
				return rc;
			es_log(ES_LOG_INFO, SUB, "the change stream cannot "
			    "resume (%d): a full pass and a new stream",
			    (int)code);
			c->lost = true;
		}
	}
	rc = stream_open(c, NULL, &code, err);
	if (rc == 0)
		c->lost = false;
	return rc;
}

/* After an event that ends the stream or lost history: a new one. */
static enum es_changes_status
stream_renew(struct es_changes *c, struct es_change_batch *out,
    struct es_error *err)
{
	int32_t code;

	mongoc_change_stream_destroy(c->cs);
	c->cs = NULL;
	if (c->token != NULL) {
		bson_destroy(c->token);
		c->token = NULL;
	}
	if (stream_open(c, NULL, &code, err) == 1) {
		out->gap = true;
		return ES_CHANGES_EVENTS;
	}
	if (code != 0)
		es_error_set(err, ES_EDB, c->st->db, 0, "the change stream "
		    "could not be opened again (%d)", (int)code);
	return ES_CHANGES_ERROR;
}

static enum es_changes_status
stream_next(struct es_changes *c, int timeout_ms, struct es_change_batch *out,
    struct es_error *err)
{
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	const bson_t *doc, *reply;
	bson_error_t be;
	struct es_error perr;
	struct es_change_event ev;
	struct timespec t0;

	if (c->lost) {
		c->lost = false;
		out->gap = true;
		return ES_CHANGES_EVENTS;
	}
	if (c->cs == NULL) {	/* a failed renewal: the caller reopens */
		es_error_set(err, ES_EDB, c->st->db, 0, "the change stream "
		    "is closed");
		return ES_CHANGES_ERROR;
	}
	do {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		while (mongoc_change_stream_next(c->cs, &doc)) {
			c->cost_ms = mono_since(&t0);
			keep_token(c);
			switch (es_change_from_stream(doc, c->st->db, c->user,
			    &ev, &perr)) {
			case 1:
				es_change_batch_push(out, &ev);
				return ES_CHANGES_EVENTS;
			case ES_CHANGE_LOST:
				es_log(ES_LOG_INFO, SUB, "the change stream "
				    "ended (a drop, a rename or invalidate): "
				    "a full pass and a new stream");
				return stream_renew(c, out, err);
			case -1:
				es_log_error(&perr, ES_LOG_DEBUG, SUB);
				break;
			}
			clock_gettime(CLOCK_MONOTONIC, &t0);
		}
		c->cost_ms = mono_since(&t0);
		if (mongoc_change_stream_error_document(c->cs, &be, &reply)) {
			if (be.domain == MONGOC_ERROR_SERVER &&
			    is_lost((int32_t)be.code)) {
				es_log(ES_LOG_INFO, SUB, "the change stream "
				    "lost its history (%d): a full pass and a "
				    "new stream", (int)be.code);
				return stream_renew(c, out, err);
			}
			es__store_error(c->st, err, NULL, "change stream",
			    &be);
			return ES_CHANGES_ERROR;
		}
		keep_token(c);	/* the post-batch token moves on */
	} while (mono_ms() < deadline);
	return ES_CHANGES_NONE;
}

/*
 * The interface.
 */

/* Unreachable: ES_EDB; a refused login: ES_ECONFIG (SPEC §1, exit 2). */
static int
ping(struct es_changes *c, struct es_error *err)
{
	bson_t cmd = BSON_INITIALIZER, reply;
	bson_error_t be;
	int rc = 0;

	BSON_APPEND_INT32(&cmd, "ping", 1);
	if (!mongoc_client_command_simple(c->st->client, c->st->db, &cmd,
	    NULL, &reply, &be))
		rc = es__db_error(err, es__store_errcode(&be), c->st->uri,
		    c->st->db, "ping", be.message);
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return rc;
}

struct es_changes *
es_changes_open(const char *uri, const char *database, const char *user_id,
    const char *token, struct es_error *err)
{
	struct es_changes *c;
	int rc;

	if (user_id == NULL || user_id[0] == '\0') {
		es_error_set(err, ES_ECONFIG, NULL, 0, "a user id is required");
		return NULL;
	}
	c = es_xcalloc(1, sizeof(*c));
	c->user = es_xstrdup(user_id);
	if ((c->st = es_store_open(uri, database, CHANGES_TIMEOUT_MS,
	    err)) == NULL)
		goto fail;
	if (ping(c, err) < 0)
		goto fail;
	if ((rc = stream_try(c, token, err)) < 0)
		goto fail;
	if (rc == 1)
		c->kind = ES_SOURCE_STREAM;
	else if (oplog_exists(c)) {
		if (oplog_open(c, err) < 0)
			goto fail;
		c->kind = ES_SOURCE_OPLOG;
	} else
		c->kind = ES_SOURCE_POLL;
	es_log(ES_LOG_INFO, SUB, "change source: %s",
	    es_source_kind_name(c->kind));
	return c;
fail:
	es_changes_free(c);
	return NULL;
}

enum es_source_kind
es_changes_kind(const struct es_changes *c)
{
	return c->kind;
}

enum es_changes_status
es_changes_next(struct es_changes *c, int timeout_ms,
    struct es_change_batch *out, struct es_error *err)
{
	switch (c->kind) {
	case ES_SOURCE_STREAM:
		return stream_next(c, timeout_ms, out, err);
	case ES_SOURCE_OPLOG:
		return oplog_next(c, timeout_ms, out, err);
	case ES_SOURCE_POLL:
		break;
	}
	return ES_CHANGES_POLL;
}

char *
es_changes_token(const struct es_changes *c)
{
	char *json, *s;

	if (c->kind != ES_SOURCE_STREAM || c->token == NULL)
		return NULL;
	json = bson_as_canonical_extended_json(c->token, NULL);
	if (json == NULL)
		return NULL;
	s = es_xstrdup(json);
	bson_free(json);
	return s;
}

double
es_changes_last_cost_ms(const struct es_changes *c)
{
	return c->cost_ms;
}

void
es_changes_free(struct es_changes *c)
{
	if (c == NULL)
		return;
	if (c->cs != NULL)
		mongoc_change_stream_destroy(c->cs);
	if (c->token != NULL)
		bson_destroy(c->token);
	es_store_free(c->st);
	free(c->user);
	free(c);
}
