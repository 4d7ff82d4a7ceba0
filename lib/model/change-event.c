/*
 * The pure half of the change sources (changes.h): OpLog entries and
 * change-stream events into es_change_event, the batch, the adaptive poll
 * interval. libbson only; the sources themselves are in lib/io/changes*.c.
 *
 * FerretDB 1.24.2's OpLog, as seen on the test fixture's server (a capped
 * local.oplog.rs, written through the official Node driver):
 *
 *	{_id: ObjectId, op: "i", ns: "db.coll", ts: Timestamp(t, i),
 *	    o: <the inserted document>, t: 1, v: 2, wall: Date}
 *	{_id, op: "u", ns, ts, o: {$v: 1, $set: <the whole new document>},
 *	    o2: {_id: <its _id>}, t, v, wall}
 *	{_id, op: "d", ns, ts, o: {_id: <its _id>}, t, v, wall}
 *
 * One entry per document (insertMany gives one each), an upsert that
 * inserts is an "i", replaceOne and findOneAndUpdate are "u" with the whole
 * document. No entry for creating or dropping collections or databases.
 *
 * A change-stream event (MongoDB 4.0+, resumable):
 *
 *	{_id: <resume token>, operationType: "insert" | "update" | "replace"
 *	    | "delete" | "drop" | "rename" | "dropDatabase" | "invalidate",
 *	    ns: {db, coll}, documentKey: {_id}, fullDocument: <document> or
 *	    null (updateLookup: null when deleted since), ...}
 */
#include <stdlib.h>
#include <string.h>

#include "execsync/changes.h"
#include "execsync/xmalloc.h"

#define OPLOG_PATH	"local.oplog.rs"
#define STREAM_PATH	"change stream"

static const enum es_kind kinds[] = { ES_KIND_PROJECT, ES_KIND_GOAL,
    ES_KIND_ACTION };

const char *
es_source_kind_name(enum es_source_kind k)
{
	switch (k) {
	case ES_SOURCE_STREAM:	return "change_stream";
	case ES_SOURCE_OPLOG:	return "oplog";
	case ES_SOURCE_POLL:	return "poll";
	}
	return "unknown";
}

void
es_change_batch_init(struct es_change_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void
es_change_batch_reset(struct es_change_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->ev[i].doc != NULL)
			bson_destroy(b->ev[i].doc);
	b->n = 0;
	b->gap = false;
}

void
es_change_batch_release(struct es_change_batch *b)
{
	es_change_batch_reset(b);
	free(b->ev);
	es_change_batch_init(b);
}

void
es_change_batch_push(struct es_change_batch *b,
    const struct es_change_event *ev)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->ev = es_xreallocarray(b->ev, b->cap, sizeof(*b->ev));
	}
	b->ev[b->n++] = *ev;
}

uint64_t
es_poll_interval_ms(unsigned poll_ms, double cost_ms)
{
	double d;
	uint64_t v;

	/* NaN and negative costs (a clock step) count as free. */
	if (!(cost_ms > 0))
		return poll_ms;
	d = cost_ms * 9;
	if (d >= 18446744073709549568.0)	/* the last double below 2^64 */
		return UINT64_MAX;
	v = (uint64_t)d;
	if ((double)v < d)	/* rounded up: 1.01 ms costs 10 ms */
		v++;
	return v > poll_ms ? v : poll_ms;
}

/* The kind of collection coll, false when it is none of the three. */
static bool
kind_of(const char *coll, size_t len, enum es_kind *out)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *name = es_kind_collection(kinds[i]);

		if (strlen(name) == len && memcmp(name, coll, len) == 0) {
			*out = kinds[i];
			return true;
		}
	}
	return false;
}

static int
bad(struct es_error *err, const char *path, const char *field,
    const char *what)
{
	return es_problem_set(err, ES_PROB_BAD_DOCUMENT, path, 0, "field '%s': %s", field,
	    what);
}

/* doc's key, or false (*it undefined). */
static bool
find(const bson_t *doc, const char *key, bson_iter_t *it)
{
	return bson_iter_init_find(it, doc, key);
}

/* The subdocument at it into out (borrowed), or -1 naming field. */
static int
sub_doc(bson_iter_t *it, bson_t *out, const char *path, const char *field,
    struct es_error *err)
{
	const uint8_t *data;
	uint32_t len;

	if (!BSON_ITER_HOLDS_DOCUMENT(it))
		return bad(err, path, field, "not a document");
	bson_iter_document(it, &len, &data);
	if (!bson_init_static(out, data, len))
		return bad(err, path, field, "corrupt document");
	return 0;
}

/* doc._id, an ObjectId, into id; -1 naming field when it is not one. */
static int
doc_id(const bson_t *doc, bson_oid_t *id, const char *path,
    const char *field, struct es_error *err)
{
	bson_iter_t it;

	if (!find(doc, "_id", &it))
		return bad(err, path, field, "missing");
	if (!BSON_ITER_HOLDS_OID(&it))
		return bad(err, path, field, "not an objectid");
	bson_oid_copy(bson_iter_oid(&it), id);
	return 0;
}

/*
 * Whether doc is user_id's: 1 yes, 0 another user's, -1 unknown (no
 * user_id string: the caller reads it by _id).
 */
static int
is_users(const bson_t *doc, const char *user_id)
{
	bson_iter_t it;
	const char *u;
	uint32_t len;

	if (!find(doc, "user_id", &it) || !BSON_ITER_HOLDS_UTF8(&it))
		return -1;
	u = bson_iter_utf8(&it, &len);
	return strlen(user_id) == len && memcmp(u, user_id, len) == 0;
}

/*
 * Fills ev from a whole new document (or none) of id: dropped (0) when it
 * is another user's, else kept (1), doc copied when it is known ours.
 */
static int
keep_doc(struct es_change_event *ev, const bson_t *doc, const char *user_id)
{
	int mine = doc != NULL ? is_users(doc, user_id) : -1;

	if (mine == 0)
		return 0;
	ev->doc = mine == 1 ? bson_copy(doc) : NULL;
	return 1;
}

int
es_change_from_oplog(const bson_t *entry, const char *database,
    const char *user_id, struct es_change_event *ev, struct es_error *err)
{
	const char *P = OPLOG_PATH;
	bson_iter_t it;
	bson_t o, o2, set;
	const char *op, *ns, *dot;
	uint32_t oplen, nslen;
	size_t dblen = strlen(database);
	bool has_set = false;

	memset(ev, 0, sizeof(*ev));
	if (!find(entry, "op", &it))
		return bad(err, P, "op", "missing");
	if (!BSON_ITER_HOLDS_UTF8(&it))
		return bad(err, P, "op", "not a string");
	op = bson_iter_utf8(&it, &oplen);
	/* "n" no-ops, "c" commands: nothing of a document. */
	if (oplen != 1 || (op[0] != 'i' && op[0] != 'u' && op[0] != 'd'))
		return 0;
	if (!find(entry, "ns", &it))
		return bad(err, P, "ns", "missing");
	if (!BSON_ITER_HOLDS_UTF8(&it))
		return bad(err, P, "ns", "not a string");
	ns = bson_iter_utf8(&it, &nslen);
	/* "<db>.<coll>": database names hold no '.', collection names may. */
	if ((dot = memchr(ns, '.', nslen)) == NULL)
		return bad(err, P, "ns", "not '<database>.<collection>'");
	if ((size_t)(dot - ns) != dblen || memcmp(ns, database, dblen) != 0)
		return 0;
	if (!kind_of(dot + 1, nslen - (size_t)(dot - ns) - 1, &ev->kind))
		return 0;
	if (!find(entry, "o", &it))
		return bad(err, P, "o", "missing");
	if (sub_doc(&it, &o, P, "o", err) < 0)
		return -1;

	switch (op[0]) {
	case 'i':
		if (doc_id(&o, &ev->id, P, "o._id", err) < 0)
			return -1;
		return keep_doc(ev, &o, user_id);
	case 'd':
		if (doc_id(&o, &ev->id, P, "o._id", err) < 0)
			return -1;
		ev->deleted = true;
		return 1;
	default:	/* 'u' */
		break;
	}
	if (!find(entry, "o2", &it))
		return bad(err, P, "o2", "missing");
	if (sub_doc(&it, &o2, P, "o2", err) < 0)
		return -1;
	if (doc_id(&o2, &ev->id, P, "o2._id", err) < 0)
		return -1;
	if (find(&o, "$set", &it)) {
		if (sub_doc(&it, &set, P, "o.$set", err) < 0)
			return -1;
		has_set = true;
	}
	/*
	 * FerretDB's $set is the whole new document, its _id included; a
	 * $set without the _id (or another _id) is a partial update: read
	 * the document by _id.
	 */
	if (has_set) {
		bson_oid_t sid;

		if (find(&set, "_id", &it) && BSON_ITER_HOLDS_OID(&it)) {
			bson_oid_copy(bson_iter_oid(&it), &sid);
			if (bson_oid_equal(&sid, &ev->id))
				return keep_doc(ev, &set, user_id);
		}
	}
	return keep_doc(ev, NULL, user_id);
}

int
es_change_from_stream(const bson_t *event, const char *database,
    const char *user_id, struct es_change_event *ev, struct es_error *err)
{
	static const char *const lost[] = { "drop", "rename", "dropDatabase",
	    "invalidate" };
	const char *P = STREAM_PATH;
	bson_iter_t it;
	bson_t ns, key, full;
	const char *op, *s;
	uint32_t len;
	bool has_full = false;

	memset(ev, 0, sizeof(*ev));
	if (!find(event, "operationType", &it))
		return bad(err, P, "operationType", "missing");
	if (!BSON_ITER_HOLDS_UTF8(&it))
		return bad(err, P, "operationType", "not a string");
	op = bson_iter_utf8(&it, NULL);
	for (size_t i = 0; i < sizeof(lost) / sizeof(lost[0]); i++)
		if (strcmp(op, lost[i]) == 0)
			return ES_CHANGE_LOST;
	if (strcmp(op, "insert") != 0 && strcmp(op, "update") != 0 &&
	    strcmp(op, "replace") != 0 && strcmp(op, "delete") != 0)
		return 0;	/* createIndexes, create, ...: no document */
	if (!find(event, "ns", &it))
		return bad(err, P, "ns", "missing");
	if (sub_doc(&it, &ns, P, "ns", err) < 0)
		return -1;
	if (!find(&ns, "db", &it) || !BSON_ITER_HOLDS_UTF8(&it))
		return bad(err, P, "ns.db", "missing or not a string");
	s = bson_iter_utf8(&it, &len);
	if (strlen(database) != len || memcmp(s, database, len) != 0)
		return 0;
	if (!find(&ns, "coll", &it) || !BSON_ITER_HOLDS_UTF8(&it))
		return bad(err, P, "ns.coll", "missing or not a string");
	s = bson_iter_utf8(&it, &len);
	if (!kind_of(s, len, &ev->kind))
		return 0;
	if (!find(event, "documentKey", &it))
		return bad(err, P, "documentKey", "missing");
	if (sub_doc(&it, &key, P, "documentKey", err) < 0)
		return -1;
	if (doc_id(&key, &ev->id, P, "documentKey._id", err) < 0)
		return -1;
	if (strcmp(op, "delete") == 0) {
		ev->deleted = true;
		return 1;
	}
	/* Absent or null: updateLookup found it gone; read it by _id. */
	if (find(event, "fullDocument", &it) && !BSON_ITER_HOLDS_NULL(&it)) {
		if (sub_doc(&it, &full, P, "fullDocument", err) < 0)
			return -1;
		has_full = true;
	}
	return keep_doc(ev, has_full ? &full : NULL, user_id);
}
