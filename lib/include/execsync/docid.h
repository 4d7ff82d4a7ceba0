/*
 * Deterministic document ids for the one-time import (execsync-migrate):
 * the same entity of the same user always gets the same ObjectId. A run
 * after a crash half-way then finds the documents the first one wrote by
 * their _ids and sends only the rest; a copy sent anyway (a document
 * written meanwhile) is refused by the server as a duplicate key (code
 * 11000), never stored twice.
 *
 * The 12 bytes are a valid ObjectId as every driver and the API see it:
 *
 *	bytes 0..3	time_s, big-endian, clamped to 0 .. 2^32 - 1: the
 *			entity's date, so getTimestamp() means something and
 *			ids sort roughly by creation, as the API's own do
 *	bytes 4..11	XXH3-64 (seed 0) of
 *			    user_id NUL collection-name NUL key
 *			big-endian; the NULs cannot occur in a user id or a
 *			collection name, so no two inputs share a preimage
 *
 * Keys (SPEC §2 identity: collection, user, slug; actions by list, text and
 * position):
 *	projects, goals	the slug the import assigned (unique per collection)
 *	actions		es_docid_action_key(): the list file, which
 *			occurrence of this exact line in the list (1, 2, ...),
 *			and the raw line
 *
 * These values are stored in users' databases: the scheme must never change
 * (tests/unit/test-docid.c pins golden values). Pure: no I/O, no clock.
 */
#ifndef EXECSYNC_DOCID_H
#define EXECSYNC_DOCID_H

#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/buf.h"
#include "execsync/date.h"
#include "execsync/entity.h"

/* 2020-01-01T00:00:00Z: the time bytes of an entity without any date. */
#define ES_DOCID_TIME_DEFAULT	INT64_C(1577836800)

/*
 * The id of key (key_len bytes, may hold any byte) of kind for user_id
 * (a NUL-terminated string; NULL is taken as ""). An unknown kind hashes
 * with an empty collection name. Never fails.
 */
bson_oid_t es_docid(const char *user_id, enum es_kind kind, const char *key,
	    size_t key_len, int64_t time_s);

/*
 * Seconds since the epoch at 00:00 UTC of the first of d1, d2 that is not
 * ES_DATE_NONE, else ES_DOCID_TIME_DEFAULT.
 */
int64_t	es_docid_time(es_date_t d1, es_date_t d2);

/*
 * A project's or goal's id: key e->slug (NULL is taken as ""), time its
 * created date.
 */
bson_oid_t es_docid_entity(const char *user_id, const struct es_entity *e);

/*
 * Appends an action's key to out:
 *	<list_rel> LF <occurrence, decimal> LF <raw line>
 * list_rel is the list file relative to the root ("00k-next-actions/
 * @waiting.md"), occurrence the 1-based count of lines byte-identical to
 * this one up to and including it in that list, raw the line as in the file
 * without its end of line (es_action_list_raw()).
 */
void	es_docid_action_key(struct es_buf *out, const char *list_rel,
	    unsigned occurrence, const char *raw, size_t raw_len);

/*
 * An action's id: the key above, time its action_date, else its completed
 * date.
 */
bson_oid_t es_docid_action(const char *user_id, const char *list_rel,
	    unsigned occurrence, const char *raw, size_t raw_len,
	    const struct es_action *a);

#endif
