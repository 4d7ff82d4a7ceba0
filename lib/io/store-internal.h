/*
 * Shared by the store's two files: store.c (the client, finds, indexes,
 * single inserts) and store-write.c (the bulk writes). Not public.
 */
#ifndef ES_STORE_INTERNAL_H
#define ES_STORE_INTERNAL_H

#include <stdint.h>

#include <mongoc/mongoc.h>

#include "execsync/error.h"
#include "execsync/store.h"

/* The server's code for a write a unique index refused. */
#define ES_STORE_DUP_KEY	11000
/* The server's code for a refused login. */
#define ES_STORE_AUTH_FAILED	18

struct es_store {
	mongoc_client_t	*client;
	char		*uri;	/* as given: for redaction only */
	char		*db;
	uint64_t	 round_trips;
	uint32_t	 batch_size;	/* finds' batchSize, 0: default */
	unsigned	 socket_timeout_ms;	/* one command's limit */
	enum es_store_flavor flavor;	/* set, detected, or AUTO */
};

/*
 * Asks the server what it is (one buildInfo command) and keeps the
 * answer in s->flavor. -1 with *be when the command failed (s->flavor
 * stays as it was).
 */
int	es__store_detect(struct es_store *s, bson_error_t *be);

/* Fills err from be, path "<db>/<coll>", code es__store_errcode(be)
 * (a refused login says so); the message redacted. Returns -1. */
int	es__store_error(struct es_store *s, struct es_error *err,
	    const char *coll, const char *what, const bson_error_t *be);
/* The one mapping of a libmongoc error to an errcode: ES_ECONFLICT a
 * duplicate key, ES_ECONFIG a refused login, else ES_EDB. */
enum es_errcode es__store_errcode(const bson_error_t *be);
/* Fills err with code, path, "what: msg", msg redacted of uri and made
 * one line. Returns -1. */
int	es__db_error(struct es_error *err, enum es_errcode code,
	    const char *uri, const char *path, const char *what,
	    const char *msg);
/* kind's collection of the store's database (destroy it). */
mongoc_collection_t *es__store_collection(struct es_store *s,
	    enum es_kind kind);

#endif
