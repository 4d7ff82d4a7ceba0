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

#include "store-internal.h"

/* libmongoc's socketTimeoutMS when the URI says 0 ("unset"). */
#define MONGOC_SOCKET_TIMEOUT_DEFAULT	300000

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
int
es__db_error(struct es_error *err, enum es_errcode code, const char *uri,
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
	return be->code == ES_STORE_DUP_KEY ||
	    strstr(be->message, "UNIQUE constraint failed") != NULL;
}

/*
 * The one mapping of a libmongoc error to an es_errcode (SPEC §1):
 * ES_ECONFLICT a duplicate key; ES_ECONFIG a refused login (libmongoc's
 * own authentication error, MONGOC_ERROR_CLIENT /
 * MONGOC_ERROR_CLIENT_AUTHENTICATE, or the server's AuthenticationFailed,
 * 18): a configuration error, exit 2, that retrying cannot fix; else
 * ES_EDB (unreachable or refused by the server: exit 75).
 */
enum es_errcode
es__store_errcode(const bson_error_t *be)
{
	if (is_dup_key(be))
		return ES_ECONFLICT;
	if ((be->domain == MONGOC_ERROR_CLIENT &&
	    be->code == MONGOC_ERROR_CLIENT_AUTHENTICATE) ||
	    (be->domain == MONGOC_ERROR_SERVER &&
	    be->code == ES_STORE_AUTH_FAILED))
		return ES_ECONFIG;
	return ES_EDB;
}

int
es__store_error(struct es_store *s, struct es_error *err, const char *coll,
    const char *what, const bson_error_t *be)
{
	char path[256], why[300];
	enum es_errcode code = es__store_errcode(be);

	if (coll != NULL)
		snprintf(path, sizeof(path), "%s/%s", s->db, coll);
	else
		snprintf(path, sizeof(path), "%s", s->db);
	if (code == ES_ECONFIG) {
		/* Not "cannot reach the server": it answered, and said no. */
		snprintf(why, sizeof(why), "%s: the server refused the user "
		    "name or password of mongodb_uri%s", what,
		    es_uri_userinfo_has_at(s->uri) ? " (an '@' in the "
		    "password must be percent-encoded as %40)" : "");
		what = why;
	}
	return es__db_error(err, code, s->uri, path, what, be->message);
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

/*
 * A URI libmongoc would not take. A mongodb+srv host whose SRV or TXT
 * record cannot be looked up is a DNS failure (maybe no network yet:
 * temporary), not a bad URI; an '@' in the password gets a hint.
 */
static void
open_error(struct es_error *err, const char *uri_str, const bson_error_t *be)
{
	if (be->domain == MONGOC_ERROR_STREAM &&
	    be->code == MONGOC_ERROR_STREAM_NAME_RESOLUTION) {
		es__db_error(err, ES_EDB, uri_str, NULL, "cannot look up the "
		    "mongodb+srv host in DNS", be->message);
		return;
	}
	es__db_error(err, ES_ECONFIG, uri_str, NULL,
	    es_uri_userinfo_has_at(uri_str) ? "bad mongodb uri (an '@' in "
	    "the user name or password must be percent-encoded as %40)" :
	    "bad mongodb uri", be->message);
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
		open_error(err, uri_str, &be);
		goto out;
	}
	set_default_timeout(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
	    timeout_ms);
	set_default_timeout(uri, MONGOC_URI_CONNECTTIMEOUTMS, timeout_ms);
	set_default_timeout(uri, MONGOC_URI_SOCKETTIMEOUTMS, timeout_ms);
	if (mongoc_uri_get_appname(uri) == NULL)
		mongoc_uri_set_appname(uri, "execsync");

	s = es_xcalloc(1, sizeof(*s));
	s->socket_timeout_ms = (unsigned)mongoc_uri_get_option_as_int32(uri,
	    MONGOC_URI_SOCKETTIMEOUTMS, MONGOC_SOCKET_TIMEOUT_DEFAULT);
	if (s->socket_timeout_ms == 0 || s->socket_timeout_ms > INT32_MAX)
		s->socket_timeout_ms = MONGOC_SOCKET_TIMEOUT_DEFAULT;
	s->uri = es_xstrdup(uri_str);
	s->db = es_xstrdup(database);
	s->client = mongoc_client_new_from_uri_with_error(uri, &be);
	if (s->client == NULL) {
		open_error(err, uri_str, &be);
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

unsigned
es_store_socket_timeout(const struct es_store *s)
{
	return s->socket_timeout_ms;
}

mongoc_collection_t *
es__store_collection(struct es_store *s, enum es_kind kind)
{
	return mongoc_client_get_collection(s->client, s->db,
	    es_store_collection_name(kind));
}

void
es_store_set_flavor(struct es_store *s, enum es_store_flavor f)
{
	s->flavor = f;
}

enum es_store_flavor
es_store_flavor(const struct es_store *s)
{
	return s->flavor;
}

int
es__store_detect(struct es_store *s, bson_error_t *be)
{
	bson_t cmd = BSON_INITIALIZER, reply;
	bson_iter_t it;
	int rc = -1;

	BSON_APPEND_INT32(&cmd, "buildInfo", 1);
	if (mongoc_client_command_simple(s->client, "admin", &cmd, NULL,
	    &reply, be)) {
		/* FerretDB 1.24: buildInfo.ferretdbVersion ("v1.24.2"). */
		s->flavor = bson_iter_init_find(&it, &reply,
		    "ferretdbVersion") ? ES_STORE_FERRETDB : ES_STORE_MONGODB;
		es_log(ES_LOG_DEBUG, "store", "%s: %s", s->db, s->flavor ==
		    ES_STORE_FERRETDB ? "FerretDB: compare-and-swap by lone "
		    "_id" : "MongoDB: compare-and-swap filter");
		rc = 0;
	}
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return rc;
}

int
es_store_ping(struct es_store *s, struct es_error *err)
{
	bson_t cmd = BSON_INITIALIZER, reply;
	bson_error_t be;
	int rc = 0;

	/* Still unknown: buildInfo answers as a ping does and says which
	 * server this is, in the same one round trip. */
	if (s->flavor == ES_STORE_AUTO) {
		bson_destroy(&cmd);
		if (es__store_detect(s, &be) < 0)
			return es__store_error(s, err, NULL, "ping", &be);
		return 0;
	}
	BSON_APPEND_INT32(&cmd, "ping", 1);
	if (!mongoc_client_command_simple(s->client, s->db, &cmd, NULL, &reply,
	    &be))
		rc = es__store_error(s, err, NULL, "ping", &be);
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return rc;
}

/*
 * One index spec {key: {user_id: 1, second: 1[, third: 1]}, name: "...",
 * unique?} appended to arr.
 */
static void
add_index(bson_t *arr, int i, const char *second, const char *third,
    bool unique)
{
	bson_t idx, key;
	char k[16], *name;

	snprintf(k, sizeof(k), "%d", i);
	BSON_APPEND_DOCUMENT_BEGIN(arr, k, &idx);
	BSON_APPEND_DOCUMENT_BEGIN(&idx, "key", &key);
	BSON_APPEND_INT32(&key, "user_id", 1);
	BSON_APPEND_INT32(&key, second, 1);
	if (third != NULL)
		BSON_APPEND_INT32(&key, third, 1);
	bson_append_document_end(&idx, &key);
	/* The name libmongoc and the shell would give: "user_id_1_slug_1". */
	name = third == NULL ? es_xasprintf("user_id_1_%s_1", second) :
	    es_xasprintf("user_id_1_%s_1_%s_1", second, third);
	BSON_APPEND_UTF8(&idx, "name", name);
	free(name);
	if (unique)
		BSON_APPEND_BOOL(&idx, "unique", true);
	bson_append_document_end(arr, &idx);
}

/* One createIndexes command for one index on coll. */
static int
create_index(struct es_store *s, mongoc_database_t *db, const char *coll,
    const char *second, const char *third, bool unique, struct es_error *err)
{
	bson_t cmd = BSON_INITIALIZER, arr, reply;
	bson_error_t be;
	int rc = 0;

	BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
	BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &arr);
	add_index(&arr, 0, second, third, unique);
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
		rc = es__store_error(s, err, coll, "createIndexes", &be);
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
		    (rc = create_index(s, db, coll, "slug", NULL, true,
		    err)) != 0)
			break;
		/*
		 * The since-query (an ordinary pass, the daemon's poll):
		 * user_id and updated_at past the watermark, in (updated_at,
		 * _id) order: served by the index alone on MongoDB.
		 */
		if ((rc = create_index(s, db, coll, "updated_at", "_id", false,
		    err)) != 0)
			break;
	}
	mongoc_database_destroy(db);
	return rc;
}

/*
 * Runs a find on kind's collection and calls cb on each document until it
 * returns nonzero; destroys filter and opts.
 */
static int
find_each(struct es_store *s, enum es_kind kind, bson_t *filter,
    bson_t *opts, es_store_doc_cb cb, void *ud, struct es_error *err)
{
	mongoc_collection_t *coll = es__store_collection(s, kind);
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t be;
	int rc = 0;

	cur = mongoc_collection_find_with_opts(coll, filter, opts, NULL);
	while (mongoc_cursor_next(cur, &doc))
		if (cb(doc, ud) != 0)
			goto out;
	if (mongoc_cursor_error(cur, &be))
		rc = es__store_error(s, err, es_store_collection_name(kind),
		    "find", &be);
out:
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(filter);
	bson_destroy(opts);
	return rc;
}

int
es_store_find(struct es_store *s, enum es_kind kind, const char *user_id,
    int64_t since_ms, es_store_doc_cb cb, void *ud, struct es_error *err)
{
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sub;

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

	return find_each(s, kind, &filter, &opts, cb, ud, err);
}

int
es_store_find_ids(struct es_store *s, enum es_kind kind, const char *user_id,
    const bson_oid_t *ids, size_t n, es_store_doc_cb cb, void *ud,
    struct es_error *err)
{
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sub, arr;
	char key[24];

	if (n == 0) {
		bson_destroy(&filter);
		bson_destroy(&opts);
		return 0;
	}
	BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &sub);
	BSON_APPEND_ARRAY_BEGIN(&sub, "$in", &arr);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%zu", i);
		BSON_APPEND_OID(&arr, key, &ids[i]);
	}
	bson_append_array_end(&sub, &arr);
	bson_append_document_end(&filter, &sub);
	BSON_APPEND_UTF8(&filter, "user_id", user_id);
	if (s->batch_size > 0)
		BSON_APPEND_INT32(&opts, "batchSize", (int32_t)s->batch_size);
	return find_each(s, kind, &filter, &opts, cb, ud, err);
}

int
es_store_find_fields(struct es_store *s, enum es_kind kind,
    const char *user_id, const char *const *fields, es_store_doc_cb cb,
    void *ud, struct es_error *err)
{
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;

	BSON_APPEND_UTF8(&filter, "user_id", user_id);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "_id", 1);
	for (size_t i = 0; fields != NULL && fields[i] != NULL; i++)
		if (strcmp(fields[i], "_id") != 0)
			BSON_APPEND_INT32(&proj, fields[i], 1);
	bson_append_document_end(&opts, &proj);
	if (s->batch_size > 0)
		BSON_APPEND_INT32(&opts, "batchSize", (int32_t)s->batch_size);

	return find_each(s, kind, &filter, &opts, cb, ud, err);
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
	coll = es__store_collection(s, kind);
	cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		*found = true;
	} else if (mongoc_cursor_error(cur, &be))
		rc = es__store_error(s, err, es_store_collection_name(kind),
		    "find", &be);
	mongoc_cursor_destroy(cur);
	mongoc_collection_destroy(coll);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return rc;
}

/* One document into collection name. */
static int
insert_into(struct es_store *s, const char *name, const bson_t *doc,
    struct es_error *err)
{
	mongoc_collection_t *coll;
	bson_error_t be;
	int rc = 0;

	coll = mongoc_client_get_collection(s->client, s->db, name);
	if (!mongoc_collection_insert_one(coll, doc, NULL, NULL, &be))
		rc = es__store_error(s, err, name, "insert", &be);
	mongoc_collection_destroy(coll);
	return rc;
}

int
es_store_insert(struct es_store *s, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	return insert_into(s, es_store_collection_name(kind), doc, err);
}

/*
 * The losing document of a conflict (SPEC 4.2), into sync_conflicts: the
 * engine builds {user_id, collection, doc_id, kept_at, reason, doc}.
 */
int
es_store_insert_conflict(struct es_store *s, const bson_t *doc,
    struct es_error *err)
{
	return insert_into(s, ES_STORE_CONFLICTS, doc, err);
}
