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
#include "execsync/rules.h"
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

/* What a read by _id says of one op's document. */
struct seen {
	int64_t	 ua;	/* updated_at; -1: absent, another user's, no date */
	bool	 ours;	/* carries what the op writes, at its new version */
	bool	 same;	/* means what the op expects (when it asks) */
};

/*
 * The documents of ops[0..m) now, by one find ({_id} when m is 1, else
 * {_id: {$in}}), into sn[0..m): a version alone can be another writer's,
 * so ours also needs what the op writes (es_doc_has_update()) and same
 * the meaning it expects (es_doc_meaning()). false with be when the read
 * failed.
 */
static bool
read_versions(mongoc_collection_t *coll, enum es_kind kind,
    const char *user_id, const struct es_store_cas *ops, size_t m,
    struct seen *sn, bson_error_t *be)
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
		sn[i].ua = -1;
		sn[i].ours = sn[i].same = false;
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
		for (size_t i = 0; i < m; i++) {
			es_fp_t fp;

			if (!bson_oid_equal(id, &ops[i].id))
				continue;
			sn[i].ua = v;
			sn[i].ours = v == ops[i].new_updated_at_ms &&
			    es_doc_has_update(doc, ops[i].update);
			sn[i].same = !ops[i].check_meaning ||
			    (es_doc_meaning(doc, kind, &fp) &&
			    fp == ops[i].expect_fp);
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
cas_read(mongoc_collection_t *coll, enum es_kind kind, const char *user_id,
    const struct es_store_cas *ops, size_t m, bool lone, struct seen *sn,
    bson_error_t *be)
{
	if (!lone)
		return read_versions(coll, kind, user_id, ops, m, sn, be);
	for (size_t i = 0; i < m; i++)
		if (!read_versions(coll, kind, user_id, ops + i, 1, sn + i, be))
			return false;
	return true;
}

/*
 * Which of ops[0..m) carry their write (DONE) and which do not (LOST):
 * read by _id (cas_read()). false with be when the read failed (all
 * UNKNOWN).
 */
static bool
cas_confirm(mongoc_collection_t *coll, enum es_kind kind,
    const char *user_id, const struct es_store_cas *ops, size_t m, bool lone,
    enum es_store_cas_status *status, bson_error_t *be)
{
	struct seen *sn = es_xcalloc(m ? m : 1, sizeof(*sn));
	bool ok = cas_read(coll, kind, user_id, ops, m, lone, sn, be);

	for (size_t i = 0; i < m; i++)
		status[i] = !ok ? ES_STORE_CAS_UNKNOWN :
		    sn[i].ours ? ES_STORE_CAS_DONE : ES_STORE_CAS_LOST;
	free(sn);
	return ok;
}

/*
 * One chunk of compare-and-swap updates, ops[0..m).
 *
 * MongoDB: one unordered bulk of update_one filtered on {_id, user_id,
 * updated_at: expected}, atomic per document; then, unless all matched,
 * the read that sorts ours from lost ones. When an op asks for its
 * meaning, a read by _id comes first, and a document at the expected
 * version that means something else is LOST, never sent.
 *
 * FerretDB: its compare-and-swap filter scans the whole collection, and
 * its updates are read-then-write anyway (a concurrent writer can fall
 * between its own read and write, NOTES-deps §2), so nothing atomic is
 * lost by doing the same here at a tenth of the cost: always that read
 * first, by lone _id, the comparison here, then an update by lone _id of
 * the documents still as expected.
 *
 * Either way a document already at new_updated_at_ms carrying our write
 * is an earlier write of ours that landed (DONE); one elsewhere, gone or
 * another user's is LOST. CHUNK_NO_ANSWER: nothing known, be says why.
 * *refused gets the server's error when it answered with one (a unique
 * index, say), else stays as it was.
 */
static int
cas_chunk(struct es_store *s, mongoc_collection_t *coll, const char *cname,
    enum es_kind kind, const char *user_id, const struct es_store_cas *ops,
    size_t m, enum es_store_cas_status *status, bson_error_t *refused,
    bson_error_t *be, struct es_error *err)
{
	bool lone = s->flavor == ES_STORE_FERRETDB, first = lone;
	mongoc_bulk_operation_t *bulk;
	bson_t bopts = BSON_INITIALIZER, reply;
	bson_iter_t it;
	int64_t nmatched = -1;
	size_t *sent = es_xcalloc(m ? m : 1, sizeof(*sent)), nsent = 0;
	struct seen *sn = NULL;
	struct es_store_cas *sub = NULL;
	enum es_store_cas_status *substat = NULL;
	int rc = CHUNK_OK;
	bool ok;

	for (size_t i = 0; i < m; i++)
		first |= ops[i].check_meaning;
	if (first) {
		sn = es_xcalloc(m ? m : 1, sizeof(*sn));
		if (!cas_read(coll, kind, user_id, ops, m,
		    lone && m <= CAS_LONE_MAX, sn, be)) {
			if (unreachable(be))
				rc = CHUNK_NO_ANSWER;
			else {
				es__store_error(s, err, cname, "find", be);
				rc = CHUNK_FAIL;
			}
			goto out;
		}
	}
	for (size_t i = 0; i < m; i++) {
		if (sn == NULL || (sn[i].ua == ops[i].expected_updated_at_ms &&
		    sn[i].ua != ops[i].new_updated_at_ms && sn[i].same))
			sent[nsent++] = i;
		else
			status[i] = sn[i].ours ? ES_STORE_CAS_DONE :
			    ES_STORE_CAS_LOST;
	}
	if (nsent == 0)
		goto out;
	BSON_APPEND_BOOL(&bopts, "ordered", false);
	bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &bopts);
	bson_destroy(&bopts);
	for (size_t k = 0; k < nsent; k++) {
		const struct es_store_cas *op = &ops[sent[k]];
		bson_t sel = BSON_INITIALIZER;

		BSON_APPEND_OID(&sel, "_id", &op->id);
		if (!lone) {
			/* SPEC 4.12: each write applies only to the version
			 * read. (FerretDB's: compared above, a lone _id.) */
			BSON_APPEND_UTF8(&sel, "user_id", user_id);
			BSON_APPEND_DATE_TIME(&sel, "updated_at",
			    op->expected_updated_at_ms);
		}
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, &sel,
		    op->update, NULL, be);
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
	/* Some did not match (changed, gone, refused): the winners carry
	 * our write. */
	sub = es_xcalloc(nsent, sizeof(*sub));
	substat = es_xcalloc(nsent, sizeof(*substat));
	for (size_t k = 0; k < nsent; k++)
		sub[k] = ops[sent[k]];
	ok = cas_confirm(coll, kind, user_id, sub, nsent,
	    lone && nsent <= CAS_LONE_MAX, substat, be);
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
	free(sn);
	free(sent);
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

		r = cas_chunk(s, coll, cname, kind, user_id, ops + i, m,
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

	memset(&op, 0, sizeof(op));
	bson_oid_copy(id, &op.id);
	op.expected_updated_at_ms = expected_updated_at_ms;
	op.new_updated_at_ms = new_updated_at_ms;
	op.update = update;
	return es_store_update_cas_op(s, kind, user_id, &op, matched, err);
}

int
es_store_update_cas_op(struct es_store *s, enum es_kind kind,
    const char *user_id, const struct es_store_cas *op, bool *matched,
    struct es_error *err)
{
	enum es_store_cas_status st;
	bson_error_t refused;

	*matched = false;
	memset(&refused, 0, sizeof(refused));
	if (cas_run(s, kind, user_id, op, 1, &st, &refused, err) < 0)
		return -1;
	/* Refused rather than lost: the caller needs the server's reason
	 * (a slug a unique index already holds). */
	if (st == ES_STORE_CAS_LOST && refused.domain != 0)
		return es__store_error(s, err, es_store_collection_name(kind),
		    "update", &refused);
	*matched = st == ES_STORE_CAS_DONE;
	return 0;
}
