/*
 * libmongoc edge: everything here blocks. One mongoc_client_t per store,
 * single-threaded mode (NOTES-deps §1a, §1f), error API v2 so server errors
 * carry the server's codes (11000 for a duplicate key).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "execsync/log.h"
#include "execsync/store.h"
#include "execsync/uri.h"
#include "execsync/xmalloc.h"

#define DUP_KEY		11000
#define DEFAULT_BATCH	1000

struct es_store {
	mongoc_client_t	*client;
	char		*uri;		/* as given: for redaction only */
	char		*db;
	uint64_t	 round_trips;
	uint32_t	 batch_size;	/* finds' batchSize; 0 = the server's */
};

void
es_store_global_init(void)
{
	/* Before mongoc_init(): its DEBUG/TRACE chatter goes to es_log's
	 * debug level, errors and warnings to the log (NOTES-deps §1h). */
	es_log_mongoc_handler_install();
	mongoc_init();
}

void
es_store_global_cleanup(void)
{
	mongoc_cleanup();
}

const char *
es_store_collection_name(enum es_kind kind)
{
	switch (kind) {
	case ES_KIND_PROJECT:	return "projects";
	case ES_KIND_GOAL:	return "goals";
	case ES_KIND_ACTION:	return "actions";
	}
	return NULL;
}

/*
 * Fills err from a libmongoc error. The message goes through the redactor:
 * libmongoc may echo the URI, or parts of it, in its messages (SPEC 4.11).
 */
static int
db_error(struct es_error *err, enum es_errcode code, const char *uri,
    const char *path, const char *what, const char *msg)
{
	char *safe = es_uri_redact_message(msg, uri);

	/* One line: servers put newlines in messages (FerretDB's "\nSee"). */
	for (char *p = safe; p != NULL && *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	es_error_set(err, code, path, 0, "%s: %s", what, safe ? safe : "");
	free(safe);
	return -1;
}

/*
 * A write or an index refused by a unique index: MongoDB says 11000;
 * FerretDB 1.24 says so for inserts, but an update or a createIndexes that
 * meets a duplicate comes back as InternalError (1) carrying SQLite's
 * message (NOTES-deps §2).
 */
static bool
is_dup_key(const bson_error_t *be)
{
	return be->code == DUP_KEY ||
	    strstr(be->message, "UNIQUE constraint failed") != NULL;
}

/* ES_ECONFLICT for a duplicate key, else ES_EDB. */
static int
store_error(struct es_store *s, struct es_error *err, const char *coll,
    const char *what, const bson_error_t *be)
{
	char path[256];

	if (coll != NULL)
		snprintf(path, sizeof(path), "%s/%s", s->db, coll);
	else
		snprintf(path, sizeof(path), "%s", s->db);
	return db_error(err, is_dup_key(be) ? ES_ECONFLICT : ES_EDB, s->uri,
	    path, what, be->message);
}

static void
on_command_started(const mongoc_apm_command_started_t *ev)
{
	struct es_store *s = mongoc_apm_command_started_get_context(ev);

	s->round_trips++;
}

static void
set_default_timeout(mongoc_uri_t *uri, const char *key, unsigned ms)
{
	if (!mongoc_uri_has_option(uri, key))
		mongoc_uri_set_option_as_int32(uri, key,
		    ms > INT32_MAX ? INT32_MAX : (int32_t)ms);
}

struct es_store *
es_store_open(const char *uri_str, const char *database, unsigned timeout_ms,
    struct es_error *err)
{
	struct es_store *s = NULL;
	mongoc_uri_t *uri = NULL;
	mongoc_apm_callbacks_t *cbs;
	bson_error_t be;

	if (uri_str == NULL || database == NULL || database[0] == '\0') {
		es_error_set(err, ES_ECONFIG, NULL, 0,
		    "mongodb uri and database name are required");
		goto out;
	}
	uri = mongoc_uri_new_with_error(uri_str, &be);
	if (uri == NULL) {
		db_error(err, ES_ECONFIG, uri_str, NULL, "bad mongodb uri",
		    be.message);
		goto out;
	}
	set_default_timeout(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
	    timeout_ms);
	set_default_timeout(uri, MONGOC_URI_CONNECTTIMEOUTMS, timeout_ms);
	set_default_timeout(uri, MONGOC_URI_SOCKETTIMEOUTMS, timeout_ms);
	if (mongoc_uri_get_appname(uri) == NULL)
		mongoc_uri_set_appname(uri, "execsync");

	s = es_xcalloc(1, sizeof(*s));
	s->uri = es_xstrdup(uri_str);
	s->db = es_xstrdup(database);
	s->client = mongoc_client_new_from_uri_with_error(uri, &be);
	if (s->client == NULL) {
		db_error(err, ES_ECONFIG, uri_str, NULL, "bad mongodb uri",
		    be.message);
		es_store_free(s);
		s = NULL;
		goto out;
	}
	mongoc_client_set_error_api(s->client, MONGOC_ERROR_API_VERSION_2);
	/* Counting round trips: one "command started" event per command. */
	cbs = mongoc_apm_callbacks_new();
	mongoc_apm_set_command_started_cb(cbs, on_command_started);
	mongoc_client_set_apm_callbacks(s->client, cbs, s);
	mongoc_apm_callbacks_destroy(cbs);
out:
	mongoc_uri_destroy(uri);
	return s;
}

void
es_store_free(struct es_store *s)
{
	if (s == NULL)
		return;
	if (s->client)
		mongoc_client_destroy(s->client);
	free(s->uri);
	free(s->db);
	free(s);
}

uint64_t
es_store_round_trips(const struct es_store *s)
{
	return s->round_trips;
}

static mongoc_collection_t *
collection(struct es_store *s, enum es_kind kind)
{
	return mongoc_client_get_collection(s->client, s->db,
	    es_store_collection_name(kind));
}

int
es_store_ping(struct es_store *s, struct es_error *err)
{
	bson_t cmd = BSON_INITIALIZER, reply;
	bson_error_t be;
	int rc = 0;

	BSON_APPEND_INT32(&cmd, "ping", 1);
	if (!mongoc_client_command_simple(s->client, s->db, &cmd, NULL, &reply,
	    &be))
		rc = store_error(s, err, NULL, "ping", &be);
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return rc;
}

/* One index spec {key: {...}, name: "...", unique?} appended to arr. */
static void
add_index(bson_t *arr, int i, const char *second, bool unique)
{
	bson_t idx, key;
	char k[16], *name;

	snprintf(k, sizeof(k), "%d", i);
	BSON_APPEND_DOCUMENT_BEGIN(arr, k, &idx);
	BSON_APPEND_DOCUMENT_BEGIN(&idx, "key", &key);
	BSON_APPEND_INT32(&key, "user_id", 1);
	BSON_APPEND_INT32(&key, second, 1);
	bson_append_document_end(&idx, &key);
	/* The name libmongoc and the shell would give: "user_id_1_slug_1". */
	name = es_xasprintf("user_id_1_%s_1", second);
	BSON_APPEND_UTF8(&idx, "name", name);
	free(name);
	if (unique)
		BSON_APPEND_BOOL(&idx, "unique", true);
	bson_append_document_end(arr, &idx);
}

/* One createIndexes command for one index on coll. */
static int
create_index(struct es_store *s, mongoc_database_t *db, const char *coll,
    const char *second, bool unique, struct es_error *err)
{
	bson_t cmd = BSON_INITIALIZER, arr, reply;
	bson_error_t be;
	int rc = 0;

	BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
	BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &arr);
	add_index(&arr, 0, second, unique);
	bson_append_array_end(&cmd, &arr);
	if (mongoc_database_write_command_with_opts(db, &cmd, NULL, &reply,
	    &be))
		rc = 0;
	else if (unique && is_dup_key(&be))
		/*
		 * Documents that already share a slug (this user's, left by
		 * the replaced script, or another user's): no unique index
		 * until they are resolved, and never a stopped pass for it
		 * (SPEC 4.10). The engine reports this user's duplicates.
		 */
		es_log(ES_LOG_WARN, "store", "%s/%s: documents share a slug: "
		    "the unique index on (user_id, %s) waits until they are "
		    "resolved", s->db, coll, second);
	else
		rc = store_error(s, err, coll, "createIndexes", &be);
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return rc;
}

int
es_store_ensure_indexes(struct es_store *s, struct es_error *err)
{
	static const enum es_kind kinds[] = { ES_KIND_PROJECT, ES_KIND_GOAL,
	    ES_KIND_ACTION };
	mongoc_database_t *db;
	int rc = 0;

	/*
	 * One index per command: FerretDB 1.24 panics (and drops the
	 * connection) on a createIndexes listing several indexes of which
	 * some already exist, i.e. on every run after the first.
	 */
	db = mongoc_client_get_database(s->client, s->db);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		const char *coll = es_store_collection_name(kinds[i]);

		/* SPEC §2: a slug is unique within one user and collection. */
		if (kinds[i] != ES_KIND_ACTION &&
		    (rc = create_index(s, db, coll, "slug", true, err)) != 0)
			break;
		/* The changed-since query of every pass. */
		if ((rc = create_index(s, db, coll, "updated_at", false,
		    err)) != 0)
			break;
	}
	mongoc_database_destroy(db);
	return rc;
}

int
es_store_find(struct es_store *s, enum es_kind kind, const char *user_id,
    int64_t since_ms, es_store_doc_cb cb, void *ud, struct es_error *err)
{
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sub;
	const bson_t *doc;
	bson_error_t be;
	int rc = 0;

	BSON_APPEND_UTF8(&filter, "user_id", user_id);
	if (since_ms >= 0) {
		BSON_APPEND_DOCUMENT_BEGIN(&filter, "updated_at", &sub);
		BSON_APPEND_DATE_TIME(&sub, "$gt", since_ms);
		bson_append_document_end(&filter, &sub);
	}
	/*
	 * A since-query comes in order, _id breaking ties, so a caller can
	 * page on (updated_at, _id). A full read needs no order, and sorting
	 * every document of a collection costs the server (FerretDB sorts in
	 * memory) more than the read itself on large collections.
	 */
	if (since_ms >= 0) {
		BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sub);
		BSON_APPEND_INT32(&sub, "updated_at", 1);
		BSON_APPEND_INT32(&sub, "_id", 1);
		bson_append_document_end(&opts, &sub);
	}
	if (s->batch_size > 0)
		BSON_APPEND_INT32(&opts, "batchSize", (int32_t)s->batch_size);

	coll = collection(s, kind);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	while (mongoc_cursor_next(cur, &doc))
		if (cb(doc, ud) != 0)
			goto out;
	if (mongoc_cursor_error(cur, &be))
		rc = store_error(s, err, es_store_collection_name(kind), "find",
		    &be);
out:
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return rc;
}

int
es_store_find_fields(struct es_store *s, enum es_kind kind,
    const char *user_id, const char *const *fields, es_store_doc_cb cb,
    void *ud, struct es_error *err)
{
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
	const bson_t *doc;
	bson_error_t be;
	int rc = 0;

	BSON_APPEND_UTF8(&filter, "user_id", user_id);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "_id", 1);
	for (size_t i = 0; fields != NULL && fields[i] != NULL; i++)
		if (strcmp(fields[i], "_id") != 0)
			BSON_APPEND_INT32(&proj, fields[i], 1);
	bson_append_document_end(&opts, &proj);
	if (s->batch_size > 0)
		BSON_APPEND_INT32(&opts, "batchSize", (int32_t)s->batch_size);

	coll = collection(s, kind);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	while (mongoc_cursor_next(cur, &doc))
		if (cb(doc, ud) != 0)
			goto out;
	if (mongoc_cursor_error(cur, &be))
		rc = store_error(s, err, es_store_collection_name(kind), "find",
		    &be);
out:
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return rc;
}

void
es_store_set_batch_size(struct es_store *s, uint32_t n)
{
	/* The server takes an int32. */
	s->batch_size = n > INT32_MAX ? INT32_MAX : n;
}

int
es_store_find_one(struct es_store *s, enum es_kind kind, const bson_oid_t *id,
    bson_t *out, bool *found, struct es_error *err)
{
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	const bson_t *doc;
	bson_error_t be;
	int rc = 0;

	*found = false;
	/* A lone _id: the one filter FerretDB looks up without a scan. */
	BSON_APPEND_OID(&filter, "_id", id);
	BSON_APPEND_INT64(&opts, "limit", 1);
	coll = collection(s, kind);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		*found = true;
	} else if (mongoc_cursor_error(cur, &be))
		rc = store_error(s, err, es_store_collection_name(kind),
		    "find", &be);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return rc;
}

int
es_store_insert(struct es_store *s, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	mongoc_collection_t *coll;
	bson_error_t be;
	int rc = 0;

	coll = collection(s, kind);
	if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &be)) {
		rc = store_error(s, err, es_store_collection_name(kind),
		    "insert", &be);
	}
	mongoc_collection_destroy(coll);
	return rc;
}

/*
 * The losing document of a conflict (SPEC 4.2), into sync_conflicts: the
 * engine builds {user_id, collection, doc_id, kept_at, reason, doc}.
 */
int
es_store_insert_conflict(struct es_store *s, const bson_t *doc,
    struct es_error *err)
{
	mongoc_collection_t *coll;
	bson_error_t be;
	int rc = 0;

	coll = mongoc_client_get_collection(s->client, s->db,
	    ES_STORE_CONFLICTS);
	if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &be))
		rc = store_error(s, err, ES_STORE_CONFLICTS, "insert", &be);
	mongoc_collection_destroy(coll);
	return rc;
}

/*
 * Whether a failed bulk never got an answer from the server: server
 * selection failed, or the connection broke. Anything else (a command
 * error, a bad document) is the server's or the documents' fault.
 */
static bool
unreachable(const bson_error_t *be)
{
	return be->domain == MONGOC_ERROR_SERVER_SELECTION ||
	    be->domain == MONGOC_ERROR_STREAM;
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
			status[map[idx]] = code == DUP_KEY ? 1 : -1;
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

int
es_store_insert_many(struct es_store *s, enum es_kind kind,
    const bson_t *const *docs, size_t n, size_t batch, int *status,
    struct es_error *err)
{
	const char *cname = es_store_collection_name(kind);
	mongoc_collection_t *coll;
	bson_t opts = BSON_INITIALIZER;
	size_t *map = NULL, i, start;
	bool first_error = true;
	int rc = 0;

	if (batch == 0)
		batch = DEFAULT_BATCH;
	for (i = 0; i < n; i++)
		status[i] = -2;
	if (n == 0)
		return 0;
	map = es_xreallocarray(NULL, batch < n ? batch : n, sizeof(*map));
	BSON_APPEND_BOOL(&opts, "ordered", false);
	coll = collection(s, kind);
	for (start = 0; start < n; start += batch) {
		size_t end = start + batch < n ? start + batch : n, nmap = 0;
		mongoc_bulk_operation_t *bulk;
		bson_t reply;
		bson_error_t be;

		bulk = mongoc_collection_create_bulk_operation_with_opts(coll,
		    &opts);
		for (i = start; i < end; i++) {
			/* libmongoc checks keys and UTF-8 before sending. */
			if (!mongoc_bulk_operation_insert_with_opts(bulk,
			    docs[i], NULL, &be)) {
				status[i] = -1;
				if (first_error) {
					store_error(s, err, cname, "insert",
					    &be);
					first_error = false;
				}
				continue;
			}
			status[i] = 0;
			map[nmap++] = i;
		}
		if (nmap == 0) {
			mongoc_bulk_operation_destroy(bulk);
			continue;
		}
		if (mongoc_bulk_operation_execute(bulk, &reply, &be) == 0) {
			if (has_write_errors(&reply))
				apply_write_errors(&reply, map, nmap, status);
			else if (unreachable(&be)) {
				/* Not sent, or cut off midway: unknown. */
				for (i = 0; i < nmap; i++)
					status[map[i]] = -2;
				store_error(s, err, cname, "insert", &be);
				bson_destroy(&reply);
				mongoc_bulk_operation_destroy(bulk);
				rc = -1;
				goto out;
			} else {
				for (i = 0; i < nmap; i++)
					status[map[i]] = -1;
			}
			/*
			 * err holds a refusal, never a duplicate (status 1,
			 * no failure), though the server's error may start
			 * with one.
			 */
			for (i = 0; first_error && i < nmap; i++)
				if (status[map[i]] == -1) {
					store_error(s, err, cname, "insert",
					    &be);
					if (err != NULL)
						err->code = ES_EDB;
					first_error = false;
				}
		}
		bson_destroy(&reply);
		mongoc_bulk_operation_destroy(bulk);
	}
out:
	mongoc_collection_destroy(coll);
	bson_destroy(&opts);
	free(map);
	return rc;
}

/* Which of the documents now carry the updated_at their write set. */
static int
cas_confirm(struct es_store *s, enum es_kind kind, const char *user_id,
    const struct es_store_cas *ops, size_t n, bool *matched,
    struct es_error *err)
{
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sub, in;
	const bson_t *doc;
	bson_iter_t it;
	bson_error_t be;
	char key[16];
	int rc = 0;

	BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &sub);
	BSON_APPEND_ARRAY_BEGIN(&sub, "$in", &in);
	for (size_t i = 0; i < n; i++) {
		const char *k;

		bson_uint32_to_string((uint32_t)i, &k, key, sizeof(key));
		BSON_APPEND_OID(&in, k, &ops[i].id);
	}
	bson_append_array_end(&sub, &in);
	bson_append_document_end(&filter, &sub);
	BSON_APPEND_UTF8(&filter, "user_id", user_id);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &sub);
	BSON_APPEND_INT32(&sub, "updated_at", 1);
	bson_append_document_end(&opts, &sub);
	coll = collection(s, kind);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		const bson_oid_t *id;
		int64_t ua;

		if (!bson_iter_init_find(&it, doc, "_id") ||
		    !BSON_ITER_HOLDS_OID(&it))
			continue;
		id = bson_iter_oid(&it);
		if (!bson_iter_init_find(&it, doc, "updated_at") ||
		    !BSON_ITER_HOLDS_DATE_TIME(&it))
			continue;
		ua = bson_iter_date_time(&it);
		for (size_t i = 0; i < n; i++)
			if (bson_oid_equal(id, &ops[i].id) &&
			    ua == ops[i].new_updated_at_ms)
				matched[i] = true;
	}
	if (mongoc_cursor_error(cur, &be))
		rc = store_error(s, err, es_store_collection_name(kind),
		    "find", &be);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return rc;
}

int
es_store_update_cas_many(struct es_store *s, enum es_kind kind,
    const char *user_id, const struct es_store_cas *ops, size_t n,
    bool *matched, struct es_error *err)
{
	mongoc_collection_t *coll;
	mongoc_bulk_operation_t *bulk;
	bson_t bopts = BSON_INITIALIZER, reply;
	bson_iter_t it;
	bson_error_t be;
	int64_t nmatched = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		matched[i] = false;
	if (n == 0)
		return 0;
	BSON_APPEND_BOOL(&bopts, "ordered", false);
	coll = collection(s, kind);
	bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &bopts);
	for (size_t i = 0; i < n; i++) {
		bson_t sel = BSON_INITIALIZER;

		/* SPEC 4.12: each write applies only to the version read. */
		BSON_APPEND_OID(&sel, "_id", &ops[i].id);
		BSON_APPEND_UTF8(&sel, "user_id", user_id);
		BSON_APPEND_DATE_TIME(&sel, "updated_at",
		    ops[i].expected_updated_at_ms);
		if (!mongoc_bulk_operation_update_one_with_opts(bulk, &sel,
		    ops[i].update, NULL, &be)) {
			bson_destroy(&sel);
			rc = store_error(s, err, es_store_collection_name(kind),
			    "update", &be);
			goto out;
		}
		bson_destroy(&sel);
	}
	if (!mongoc_bulk_operation_execute(bulk, &reply, &be)) {
		/* Write errors of single documents are lost races to the
		 * caller only when the server answered: confirm below. */
		if (!bson_iter_init_find(&it, &reply, "nMatched")) {
			bson_destroy(&reply);
			rc = store_error(s, err,
			    es_store_collection_name(kind), "update", &be);
			goto out;
		}
	}
	if (bson_iter_init_find(&it, &reply, "nMatched") &&
	    BSON_ITER_HOLDS_NUMBER(&it))
		nmatched = bson_iter_as_int64(&it);
	bson_destroy(&reply);
	if (nmatched == (int64_t)n) {
		for (size_t i = 0; i < n; i++)
			matched[i] = true;
		goto out;
	}
	/* Some lost: one read says which (the winners carry our version). */
	rc = cas_confirm(s, kind, user_id, ops, n, matched, err);
out:
	mongoc_bulk_operation_destroy(bulk);
	mongoc_collection_destroy(coll);
	bson_destroy(&bopts);
	return rc;
}

int
es_store_update_cas(struct es_store *s, enum es_kind kind,
    const bson_oid_t *id, const char *user_id, int64_t expected_updated_at_ms,
    const bson_t *update, bool *matched, struct es_error *err)
{
	mongoc_collection_t *coll;
	bson_t sel = BSON_INITIALIZER, reply;
	bson_iter_t it;
	bson_error_t be;
	int rc = 0;

	*matched = false;
	/* SPEC 4.12: the write applies only to the version we read. */
	BSON_APPEND_OID(&sel, "_id", id);
	BSON_APPEND_UTF8(&sel, "user_id", user_id);
	BSON_APPEND_DATE_TIME(&sel, "updated_at", expected_updated_at_ms);
	coll = collection(s, kind);
	if (!mongoc_collection_update_one(coll, &sel, update, NULL, &reply,
	    &be))
		rc = store_error(s, err, es_store_collection_name(kind),
		    "update", &be);
	else if (bson_iter_init_find(&it, &reply, "matchedCount") &&
	    BSON_ITER_HOLDS_NUMBER(&it))
		*matched = bson_iter_as_int64(&it) > 0;
	bson_destroy(&reply);
	mongoc_collection_destroy(coll);
	bson_destroy(&sel);
	return rc;
}
