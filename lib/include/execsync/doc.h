/*
 * Entities and actions <-> the BSON documents of SPEC §3, the ones the
 * execution-service HTTP API reads and writes. Pure: no I/O, no clock (every
 * timestamp comes from the caller).
 *
 * Spelling in the database (SPEC §3):
 *  - _id ObjectId, user_id string, deleted bool, deleted_at/created_at/
 *    updated_at BSON datetimes (ms since the epoch, UTC);
 *  - dates without time (created, due, ...) are BSON datetimes at 00:00 UTC;
 *  - enums (folder, type, state) are their names ("active", "standard",
 *    "next", ...), context keeps its '@', priority is a one-letter string;
 *  - an unset optional value is written as BSON null; projects and goals
 *    carry `extra`, a sub-document holding the frontmatter keys the tool does
 *    not know, in file order; `content` is the body after the frontmatter.
 *
 * Field order of what we write: _id, user_id, then the fields in SPEC §3
 * order, then extra, deleted, deleted_at, created_at, updated_at.
 */
#ifndef EXECSYNC_DOC_H
#define EXECSYNC_DOC_H

#include <stdbool.h>
#include <stdint.h>

#include <bson/bson.h>

#include "execsync/entity.h"
#include "execsync/error.h"

/*
 * An extra mask bit for the _encode_set() functions, beside enum es_field:
 * writes `deleted` and `deleted_at` from meta (soft delete, or undelete when
 * the edit wins, SPEC §6).
 */
#define ES_DOC_F_DELETED	(1u << 24)

/*
 * The whole document for an insert, appended to out (an initialised
 * document, normally empty: bson_init() or BSON_INITIALIZER; the caller
 * destroys it). e->meta.has_id must be true (the caller picks the ObjectId
 * with bson_oid_init() first, so it knows the id without a round trip);
 * calling without one is a programming error and aborts. Fields not used by
 * the entity's kind (goals: type, started, due, completed, descoped) are not
 * written. NULL strings and ES_DATE_NONE dates are written as null;
 * meta.deleted_at 0 is written as null, created_at/updated_at always as
 * datetimes.
 */
void	es_entity_encode(const struct es_entity *e, const char *user_id,
	    bson_t *out);
void	es_action_encode(const struct es_action *a, const char *user_id,
	    bson_t *out);

/*
 * The body of a `$set` for the fields in mask (enum es_field bits, plus
 * ES_DOC_F_DELETED), followed by updated_at = updated_at_ms, appended to out
 * (an initialised document). The caller wraps it:
 *	bson_append_document(&update, "$set", 4, &body);
 * Bits that do not apply to the kind are ignored.
 */
void	es_entity_encode_set(const struct es_entity *e, unsigned mask,
	    int64_t updated_at_ms, bson_t *out);
void	es_action_encode_set(const struct es_action *a, unsigned mask,
	    int64_t updated_at_ms, bson_t *out);

/*
 * Decode a document written by the API or by us into out (which need not be
 * initialised: the call initialises it; on success the caller releases it).
 *
 * Tolerant of what the API may legitimately do: a missing optional field
 * and null both mean absent; a date whose time is not 00:00 UTC is floored
 * to its UTC day; timestamps (created_at, updated_at, deleted_at) may be
 * datetimes or whole numbers of ms (int32, int64, or a double with no
 * fraction); an empty string for context, project_slug or priority means
 * none; a context without its '@' gets one. Fields the tool does not know
 * (`sync`, whatever the API adds) are ignored.
 *
 * Strict about the rest (SPEC 4.10): a missing or mistyped required field
 * (_id ObjectId, user_id string, title string, slug non-empty string, folder
 * one of the kind's folders; actions: text string, state), a mistyped
 * optional field (due as a string, extra not a document), an unknown enum
 * value, a string that is not UTF-8 or holds a NUL byte, a date outside
 * years 1-9999, a corrupt document: -1, out left initialised and empty
 * (releasing it is harmless), err filled with code ES_EPARSE, path
 * "<collection>/<hex id>" ("<collection>/?" without a usable _id), line 0,
 * and a message naming the field and what was found:
 *	field 'due': expected a date, got string
 * Whatever the document holds, this never crashes or aborts.
 */
int	es_entity_decode(const bson_t *doc, enum es_kind kind,
	    struct es_entity *out, struct es_error *err);
int	es_action_decode(const bson_t *doc, struct es_action *out,
	    struct es_error *err);

/*
 * Whether doc's user_id is the string user_id: the tool only touches the
 * configured user's documents (SPEC §3), and lookups by _id alone do not
 * filter on it.
 */
bool	es_doc_user_is(const bson_t *doc, const char *user_id);

/*
 * Whether doc holds what update ({"$set": {...}}) writes: every field of
 * its $set (dotted paths followed) with the same type and bytes, and no
 * field of its $unset. A compare-and-swap tells "our write landed" from
 * "another writer's version" by this and the version together: two
 * writers that both start from one version can pick the same next one
 * (clocks behind the API's), and the version alone took the other's
 * write for ours, dropping ours (issue 17, seed 20466).
 */
bool	es_doc_has_update(const bson_t *doc, const bson_t *update);

#endif
