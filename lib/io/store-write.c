/*
 * The store's bulk writes (see store.h): unordered inserts and
 * compare-and-swap updates, cut into chunks that each take about a quarter
 * of the socket timeout, so no command of a large pass outlives it; a chunk
 * that gets no answer is sent again, smaller, and our own writes that did
 * land are recognised by the version they set, never taken for somebody
 * else's change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "execsync/doc.h"
#include "execsync/log.h"
#include "execsync/store.h"
#include "execsync/uri.h"
#include "execsync/xmalloc.h"

#include "store-internal.h"

#define DEFAULT_BATCH	1000
/* A chunk grows at most this much over the last one (es_store_chunk_next). */
#define CHUNK_GROWTH	4

unsigned es__store_lose_replies;

size_t
es_store_chunk_next(size_t n, uint64_t elapsed_ms, uint64_t target_ms,
    size_t max)
{
	uint64_t want;

	if (n == 0)
		n = 1;
	if (max == 0)
		max = 1;
	if (elapsed_ms == 0)
		elapsed_ms = 1;
	/* n and target_ms are far below 2^32 in practice; saturate anyway. */
	if (target_ms > UINT64_MAX / n)
		want = UINT64_MAX / elapsed_ms;
	else
		want = (uint64_t)n * target_ms / elapsed_ms;
	if (n <= UINT64_MAX / CHUNK_GROWTH && want > (uint64_t)n * CHUNK_GROWTH)
		want = (uint64_t)n * CHUNK_GROWTH;
	if (want < 1)
		want = 1;
	if (want > max)
		want = max;
	return (size_t)want;
}

/* What a chunk should take: a quarter of the socket timeout. */
static uint64_t
chunk_target(const struct es_store *s)
{
	return s->socket_timeout_ms / 4 > 0 ? s->socket_timeout_ms / 4 : 1;
}

/*
 * Whether a failed command never got an answer from the server: server
 * selection failed, or the connection broke or timed out. Anything else (a
 * command error, a bad document) is the server's or the documents' fault.
 */
static bool
unreachable(const bson_error_t *be)
{
	return be->domain == MONGOC_ERROR_SERVER_SELECTION ||
	    be->domain == MONGOC_ERROR_STREAM;
}

/* Tests (es__store_lose_replies): the write was done, its answer is lost. */
static bool
lose_reply(bson_error_t *be)
{
	if (es__store_lose_replies == 0)
		return false;
	es__store_lose_replies--;
	bson_set_error(be, MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET,
	    "Failed to read 4 bytes: socket error or timeout (test: the "
	    "answer was dropped)");
	return true;
}

/* A chunk without an answer: said once, since it is sent again. */
static void
no_answer(struct es_store *s, const char *coll, const char *what, size_t n,
    size_t next, const bson_error_t *be)
{
	char *safe = es_uri_redact_message(be->message, s->uri);

	es_log(ES_LOG_WARN, "store", "%s/%s: no answer to %s of %zu "
	    "documents (%s; socketTimeoutMS %u); sending again, %zu at a time",
	    s->db, coll, what, n, safe ? safe : "", s->socket_timeout_ms,
	    next);
	free(safe);
}

/*
 * Maps writeErrors of a bulk reply onto status: each element's index is a
 * position in the bulk, map[] turns it into a position in docs.
 */
static void
apply_write_errors(const bson_t *reply, const size_t *map, size_t nmap,
    int *status)
{
	bson_iter_t it, arr, el;

	if (!bson_iter_init_find(&it, reply, "writeErrors") ||
	    !BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr))
		return;
	while (bson_iter_next(&arr)) {
		int64_t idx = -1, code = 0;

		if (!BSON_ITER_HOLDS_DOCUMENT(&arr) ||
		    !bson_iter_recurse(&arr, &el))
			continue;
		while (bson_iter_next(&el)) {
			if (strcmp(bson_iter_key(&el), "index") == 0 &&
			    BSON_ITER_HOLDS_NUMBER(&el))
				idx = bson_iter_as_int64(&el);
			else if (strcmp(bson_iter_key(&el), "code") == 0 &&
			    BSON_ITER_HOLDS_NUMBER(&el))
				code = bson_iter_as_int64(&el);
		}
		if (idx >= 0 && (uint64_t)idx < nmap)
			status[map[idx]] = code == ES_STORE_DUP_KEY ? 1 : -1;
	}
}

static bool
has_write_errors(const bson_t *reply)
{
	bson_iter_t it, arr;

	return bson_iter_init_find(&it, reply, "writeErrors") &&
	    BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &arr) &&
	    bson_iter_next(&arr);
}

enum { CHUNK_OK, CHUNK_NO_ANSWER, CHUNK_FAIL };

/*
 * How long a chunk took, for es_store_chunk_next(): a chunk without an
 * answer counts as the whole socket timeout (what a timeout takes; a
 * server that refused at once is not hurried by the smaller chunk).
 */
static uint64_t
chunk_took(const struct es_store *s, int64_t t0_us, int r)
{
	int64_t d = bson_get_monotonic_time() - t0_us;
	uint64_t ms = d > 0 ? (uint64_t)d / 1000 : 0;

	if (r == CHUNK_NO_ANSWER && ms < s->socket_timeout_ms)
		ms = s->socket_timeout_ms;
	return ms;
}

/*
 * One insert command for docs[start..end): status per document as
 * es_store_insert_many() says. CHUNK_NO_ANSWER (be says why): the chunk's
 * documents that were sent are -2.
 */
static int
insert_chunk(struct es_store *s, mongoc_collection_t *coll, const char *cname,
    const bson_t *const *docs, size_t start, size_t end, size_t *map,
    int *status, bool *first_error, bson_error_t *be, struct es_error *err)
{
	mongoc_bulk_operation_t *bulk;
	bson_t opts = BSON_INITIALIZER, reply;
	size_t i, nmap = 0;
	bool ok;

	BSON_APPEND_BOOL(&opts, "ordered", false);
	bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
	bson_destroy(&opts);
	for (i = start; i < end; i++) {
		/* libmongoc checks keys and UTF-8 before sending. */
		if (!mongoc_bulk_operation_insert_with_opts(bulk, docs[i], NULL,
		    be)) {
			status[i] = -1;
			if (*first_error) {
				es__store_error(s, err, cname, "insert", be);
				*first_error = false;
			}
			continue;
		}
		status[i] = 0;
		map[nmap++] = i;
	}
	if (nmap == 0) {
		mongoc_bulk_operation_destroy(bulk);
		return CHUNK_OK;
	}
	ok = mongoc_bulk_operation_execute(bulk, &reply, be) != 0;
	mongoc_bulk_operation_destroy(bulk);
	if ((!ok && !has_write_errors(&reply) && unreachable(be)) ||
	    lose_reply(be)) {
		/* Not sent, or cut off midway: unknown. */
		for (i = 0; i < nmap; i++)
			status[map[i]] = -2;
		bson_destroy(&reply);
		return CHUNK_NO_ANSWER;
	}
	if (!ok) {
		if (has_write_errors(&reply))
			apply_write_errors(&reply, map, nmap, status);
		else
			for (i = 0; i < nmap; i++)
				status[map[i]] = -1;
		/*
		 * err holds a refusal, never a duplicate (status 1, no
		 * failure), though the server's error may start with one.
		 */
		for (i = 0; *first_error && i < nmap; i++)
			if (status[map[i]] == -1) {
				es__store_error(s, err, cname, "insert", be);
				if (err != NULL)
					err->code = ES_EDB;
				*first_error = false;
			}
	}
	bson_destroy(&reply);
	return CHUNK_OK;
}

int
es_store_insert_many(struct es_store *s, enum es_kind kind,
    const bson_t *const *docs, size_t n, size_t batch, int *status,
    struct es_error *err)
{
	const char *cname = es_store_collection_name(kind);
	mongoc_collection_t *coll;
	size_t *map = NULL, i, start = 0, size;
	bool first_error = true;
	unsigned tries = 0;
	int rc = 0;

	if (batch == 0)
		batch = DEFAULT_BATCH;
	for (i = 0; i < n; i++)
		status[i] = -2;
	if (n == 0)
		return 0;
	/* Inserts are cheap: the first chunk is a whole batch. */
	size = batch;
	map = es_xreallocarray(NULL, batch < n ? batch : n, sizeof(*map));
	coll = es__store_collection(s, kind);
	while (start < n) {
		size_t end = start + size < n ? start + size : n;
		int64_t t0 = bson_get_monotonic_time();
		bson_error_t be;
		int r;

		r = insert_chunk(s, coll, cname, docs, start, end, map, status,
		    &first_error, &be, err);
		size = es_store_chunk_next(end - start, chunk_took(s, t0, r),
		    chunk_target(s), batch);
		if (r == CHUNK_OK) {
			start = end;
			tries = 0;
			continue;
		}
		if (++tries == ES_STORE_WRITE_TRIES) {
			rc = es__store_error(s, err, cname, "insert", &be);
			break;
		}
		no_answer(s, cname, "an insert", end - start, size, &be);
	}
	mongoc_collection_destroy(coll);
	free(map);
	return rc;
}

/*
 * The versions of ops[0..m) now, by one find ({_id} when m is 1, else
 * {_id: {$in}}): ua[i] the document's updated_at, -1 when it is not there
 * or not user_id's; ours[i] whether it also holds what ops[i] writes
 * (es_doc_has_update()): a version alone can be another writer's. false
 * with be when the read failed.
 */
static bool
read_versions(mongoc_collection_t *coll, const char *user_id,
    const struct es_store_cas *ops, size_t m, int64_t *ua, bool *ours,
    bson_error_t *be)
{
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sub, in;
	const bson_t *doc;
	bson_iter_t it;
	char key[16];
	bool ok;

	if (m == 1)
		BSON_APPEND_OID(&filter, "_id", &ops[0].id);
	else {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &sub);
		BSON_APPEND_ARRAY_BEGIN(&sub, "$in", &in);
		for (size_t i = 0; i < m; i++) {
			const char *k;

			bson_uint32_to_string((uint32_t)i, &k, key,
			    sizeof(key));
			BSON_APPEND_OID(&in, k, &ops[i].id);
		}
		bson_append_array_end(&sub, &in);
		bson_append_document_end(&filter, &sub);
	}
	for (size_t i = 0; i < m; i++) {
		ua[i] = -1;
		ours[i] = false;
	}
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		const bson_oid_t *id;
		int64_t v;

		if (!bson_iter_init_find(&it, doc, "user_id") ||
		    !BSON_ITER_HOLDS_UTF8(&it) ||
		    strcmp(bson_iter_utf8(&it, NULL), user_id) != 0)
			continue;
		if (!bson_iter_init_find(&it, doc, "_id") ||
		    !BSON_ITER_HOLDS_OID(&it))
			continue;
		id = bson_iter_oid(&it);
		if (!bson_iter_init_find(&it, doc, "updated_at") ||
		    !BSON_ITER_HOLDS_DATE_TIME(&it))
			continue;
		v = bson_iter_date_time(&it);
		for (size_t i = 0; i < m; i++)
			if (bson_oid_equal(id, &ops[i].id)) {
				ua[i] = v;
				ours[i] = v == ops[i].new_updated_at_ms &&
				    es_doc_has_update(doc, ops[i].update);
			}
	}
	ok = !mongoc_cursor_error(cur, be);
	mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return ok;
}

/*
 * FerretDB looks up a lone _id without a scan and scans its collection
 * for anything else, {$in} included: up to this many documents are read
 * one lone _id at a time (each about a tenth of a scan's cost).
 */
#define CAS_LONE_MAX	8

/* read_versions() of each op alone when lone, else of all at once. */
static bool
cas_read(mongoc_collection_t *coll, const char *user_id,
    const struct es_store_cas *ops, size_t m, bool lone, int64_t *ua,
    bool *ours, bson_error_t *be)
{
	if (!lone)
		return read_versions(coll, user_id, ops, m, ua, ours, be);
	for (size_t i = 0; i < m; i++)
		if (!read_versions(coll, user_id, ops + i, 1, ua + i, ours + i,
		    be))
			return false;
	return true;
}

/*
 * Which of ops[0..m) carry the updated_at their write set (DONE) and which
 * do not (LOST): read by _id (cas_read()). false with be when the read
 * failed (all UNKNOWN).
 */
static bool
cas_confirm(mongoc_collection_t *coll, const char *user_id,
    const struct es_store_cas *ops, size_t m, bool lone,
    enum es_store_cas_status *status, bson_error_t *be)
{
	int64_t *ua = es_xcalloc(m ? m : 1, sizeof(*ua));
	bool *ours = es_xcalloc(m ? m : 1, sizeof(*ours));
	bool ok = cas_read(coll, user_id, ops, m, lone, ua, ours, be);

	for (size_t i = 0; i < m; i++)
		status[i] = !ok ? ES_STORE_CAS_UNKNOWN :
		    ours[i] ? ES_STORE_CAS_DONE : ES_STORE_CAS_LOST;
	free(ua);
	free(ours);
	return ok;
}

/*
 * One update command for ops[0..m), then, unless all matched, the read
 * that sorts ours from lost ones. CHUNK_NO_ANSWER: nothing known, be says
 * why. *refused gets the server's error when it answered with one (a
 * unique index, say), else stays as it was.
 */
static int
cas_chunk(struct es_store *s, mongoc_collection_t *coll, const char *cname,
    const char *user_id, const struct es_store_cas *ops, size_t m,
    enum es_store_cas_status *status, bson_error_t *refused,
    bson_error_t *be, struct es_error *err)
{
	mongoc_bulk_operation_t *bulk;
	bson_t bopts = BSON_INITIALIZER, reply;
	bson_iter_t it;
	int64_t nmatched = -1;
	bool ok;

	BSON_APPEND_BOOL(&bopts, "ordered", false);
	bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &bopts);
	bson_destroy(&bopts);
	for (size_t i = 0; i < m; i++) {
		bson_t sel = BSON_INITIALIZER;

		/* SPEC 4.12: each write applies only to the version read. */
		BSON_APPEND_OID(&sel, "_id", &ops[i].id);
		BSON_APPEND_UTF8(&sel, "user_id", user_id);
		BSON_APPEND_DATE_TIME(&sel, "updated_at",
		    ops[i].expected_updated_at_ms);
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, &sel,
		    ops[i].update, NULL, be);
		bson_destroy(&sel);
		if (!ok) {
			mongoc_bulk_operation_destroy(bulk);
			es__store_error(s, err, cname, "update", be);
			return CHUNK_FAIL;
		}
	}
	ok = mongoc_bulk_operation_execute(bulk, &reply, be) != 0;
	mongoc_bulk_operation_destroy(bulk);
	if ((!ok && unreachable(be)) || lose_reply(be)) {
		bson_destroy(&reply);
		return CHUNK_NO_ANSWER;
	}
	if (!ok)
		*refused = *be;
	else if (bson_iter_init_find(&it, &reply, "nMatched") &&
	    BSON_ITER_HOLDS_NUMBER(&it))
		nmatched = bson_iter_as_int64(&it);
	bson_destroy(&reply);
	if (nmatched == (int64_t)m) {
		for (size_t i = 0; i < m; i++)
			status[i] = ES_STORE_CAS_DONE;
		return CHUNK_OK;
	}
	/* Some did not match (or an error): the winners carry our version. */
	if (cas_confirm(coll, user_id, ops, m, false, status, be))
		return CHUNK_OK;
	if (unreachable(be))
		return CHUNK_NO_ANSWER;
	es__store_error(s, err, cname, "find", be);
	return CHUNK_FAIL;
}

/*
 * cas_chunk() on FerretDB: its compare-and-swap filter scans the whole
 * collection, and its updates are read-then-write anyway (a concurrent
 * writer can fall between its own read and write, NOTES-deps §2), so
 * nothing atomic is lost by doing the same here at a tenth of the cost:
 * read the versions by lone _id, compare them here, update by lone _id
 * the documents still at the expected version. A document already at
 * new_updated_at_ms is an earlier write of ours that landed (DONE); one
 * elsewhere, gone or another user's is LOST. The same outcomes as
 * cas_chunk().
 */
static int
cas_chunk_lone(struct es_store *s, mongoc_collection_t *coll,
    const char *cname, const char *user_id, const struct es_store_cas *ops,
    size_t m, enum es_store_cas_status *status, bson_error_t *refused,
    bson_error_t *be, struct es_error *err)
{
	mongoc_bulk_operation_t *bulk;
	bson_t bopts = BSON_INITIALIZER, reply;
	bson_iter_t it;
	int64_t *ua = es_xcalloc(m, sizeof(*ua)), nmatched = -1;
	bool *ours = es_xcalloc(m, sizeof(*ours));
	size_t *sent = es_xcalloc(m, sizeof(*sent)), nsent = 0;
	struct es_store_cas *sub = NULL;
	enum es_store_cas_status *substat = NULL;
	int rc = CHUNK_OK;
	bool ok;

	if (!cas_read(coll, user_id, ops, m, m <= CAS_LONE_MAX, ua, ours,
	    be)) {
		if (unreachable(be))
			rc = CHUNK_NO_ANSWER;
		else {
			es__store_error(s, err, cname, "find", be);
			rc = CHUNK_FAIL;
		}
		goto out;
	}
	for (size_t i = 0; i < m; i++) {
		if (ua[i] == ops[i].expected_updated_at_ms &&
		    ua[i] != ops[i].new_updated_at_ms)
			sent[nsent++] = i;
		else
			status[i] = ours[i] ? ES_STORE_CAS_DONE :
			    ES_STORE_CAS_LOST;
	}
	if (nsent == 0)
		goto out;
	BSON_APPEND_BOOL(&bopts, "ordered", false);
	bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &bopts);
	bson_destroy(&bopts);
	for (size_t k = 0; k < nsent; k++) {
		bson_t sel = BSON_INITIALIZER;

		/* The version was compared above: a lone _id, no scan. */
		BSON_APPEND_OID(&sel, "_id", &ops[sent[k]].id);
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, &sel,
		    ops[sent[k]].update, NULL, be);
		bson_destroy(&sel);
		if (!ok) {
			mongoc_bulk_operation_destroy(bulk);
			es__store_error(s, err, cname, "update", be);
			rc = CHUNK_FAIL;
			goto out;
		}
	}
	ok = mongoc_bulk_operation_execute(bulk, &reply, be) != 0;
	mongoc_bulk_operation_destroy(bulk);
	if ((!ok && unreachable(be)) || lose_reply(be)) {
		bson_destroy(&reply);
		rc = CHUNK_NO_ANSWER;	/* sent again: read again */
		goto out;
	}
	if (!ok)
		*refused = *be;
	else if (bson_iter_init_find(&it, &reply, "nMatched") &&
	    BSON_ITER_HOLDS_NUMBER(&it))
		nmatched = bson_iter_as_int64(&it);
	bson_destroy(&reply);
	if (nmatched == (int64_t)nsent) {
		for (size_t k = 0; k < nsent; k++)
			status[sent[k]] = ES_STORE_CAS_DONE;
		goto out;
	}
	/* Some did not land (gone meanwhile, refused): read them again. */
	sub = es_xcalloc(nsent, sizeof(*sub));
	substat = es_xcalloc(nsent, sizeof(*substat));
	for (size_t k = 0; k < nsent; k++)
		sub[k] = ops[sent[k]];
	ok = cas_confirm(coll, user_id, sub, nsent, nsent <= CAS_LONE_MAX,
	    substat, be);
	for (size_t k = 0; k < nsent; k++)
		status[sent[k]] = substat[k];
	if (!ok && unreachable(be))
		rc = CHUNK_NO_ANSWER;
	else if (!ok) {
		es__store_error(s, err, cname, "find", be);
		rc = CHUNK_FAIL;
	}
out:
	free(substat);
	free(sub);
	free(sent);
	free(ua);
	free(ours);
	return rc;
}

/*
 * ops[0..n) in chunks, each chunk without an answer sent again (smaller)
 * up to ES_STORE_WRITE_TRIES times in a row; see es_store_update_cas_many().
 */
static int
cas_run(struct es_store *s, enum es_kind kind, const char *user_id,
    const struct es_store_cas *ops, size_t n,
    enum es_store_cas_status *status, bson_error_t *refused,
    struct es_error *err)
{
	const char *cname = es_store_collection_name(kind);
	mongoc_collection_t *coll;
	size_t i = 0, size = ES_STORE_CAS_CHUNK_START;
	unsigned tries = 0;
	int rc = 0;

	for (size_t k = 0; k < n; k++)
		status[k] = ES_STORE_CAS_UNKNOWN;
	if (n > 0 && s->flavor == ES_STORE_AUTO) {
		bson_error_t be;

		/* Unknown (no ping yet): asked once; a server that does not
		 * answer gets the true filter, right on both. */
		(void)es__store_detect(s, &be);
	}
	coll = es__store_collection(s, kind);
	while (i < n) {
		size_t m = n - i < size ? n - i : size;
		int64_t t0 = bson_get_monotonic_time();
		bson_error_t be;
		int r;

		r = (s->flavor == ES_STORE_FERRETDB ? cas_chunk_lone :
		    cas_chunk)(s, coll, cname, user_id, ops + i, m,
		    status + i, refused, &be, err);
		size = es_store_chunk_next(m, chunk_took(s, t0, r),
		    chunk_target(s), ES_STORE_CAS_CHUNK_MAX);
		if (r == CHUNK_FAIL) {
			rc = -1;
			break;
		}
		if (r == CHUNK_OK) {
			i += m;
			tries = 0;
			continue;
		}
		if (++tries == ES_STORE_WRITE_TRIES) {
			rc = es__store_error(s, err, cname, "update", &be);
			break;
		}
		no_answer(s, cname, "an update", m, size, &be);
	}
	mongoc_collection_destroy(coll);
	return rc;
}

int
es_store_update_cas_many(struct es_store *s, enum es_kind kind,
    const char *user_id, const struct es_store_cas *ops, size_t n,
    enum es_store_cas_status *status, struct es_error *err)
{
	bson_error_t refused;

	memset(&refused, 0, sizeof(refused));
	return cas_run(s, kind, user_id, ops, n, status, &refused, err);
}

int
es_store_update_cas(struct es_store *s, enum es_kind kind,
    const bson_oid_t *id, const char *user_id, int64_t expected_updated_at_ms,
    int64_t new_updated_at_ms, const bson_t *update, bool *matched,
    struct es_error *err)
{
	struct es_store_cas op;
	enum es_store_cas_status st;
	bson_error_t refused;

	*matched = false;
	memset(&refused, 0, sizeof(refused));
	bson_oid_copy(id, &op.id);
	op.expected_updated_at_ms = expected_updated_at_ms;
	op.new_updated_at_ms = new_updated_at_ms;
	op.update = update;
	if (cas_run(s, kind, user_id, &op, 1, &st, &refused, err) < 0)
		return -1;
	/* Refused rather than lost: the caller needs the server's reason
	 * (a slug a unique index already holds). */
	if (st == ES_STORE_CAS_LOST && refused.domain != 0)
		return es__store_error(s, err, es_store_collection_name(kind),
		    "update", &refused);
	*matched = st == ES_STORE_CAS_DONE;
	return 0;
}
