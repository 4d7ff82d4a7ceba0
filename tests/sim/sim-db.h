/*
 * sim-db's document rules (sim-db-doc.c), private to sim-db.c: what
 * libmongoc and the server (MongoDB, or FerretDB 1.24 when ferretdb is
 * true) do to one document. Pure: no state, no clock.
 */
#ifndef EXECSYNC_SIM_DB_H
#define EXECSYNC_SIM_DB_H

#include <stdbool.h>
#include <stddef.h>

#include <bson/bson.h>

/*
 * What a stored document may not be (the insert's client check, then the
 * server's): 0 fine, 1 refused with why filled. MongoDB: valid UTF-8 (NUL
 * allowed), no empty key, at most 16 MiB. FerretDB adds its limits
 * (NOTES-deps §2): no NUL in strings, no key with '.' or a leading '$',
 * no nested arrays, no NaN or infinity, no duplicate keys.
 */
int	sim_db_doc_check(const bson_t *doc, bool ferretdb, char *why,
	    size_t whysz);

/*
 * The client's check of an update document (libmongoc refuses it before
 * sending: the whole bulk fails): non-empty, every key an operator, valid
 * UTF-8. And the simulation's own: an operator it does not implement
 * ($set and $unset are) is refused loudly, "sim-db: unsupported update
 * operator $x", so an engine that starts sending one cannot pass
 * unnoticed. 0 fine, -1 with why filled.
 */
int	sim_db_update_check(const bson_t *update, char *why, size_t whysz);

/*
 * update (checked by sim_db_update_check()) applied to src as MongoDB 5+
 * applies it, into out (initialised by the caller): $set replaces a field
 * where it stands and appends a new one (new ones in lexicographic order
 * of their paths), $unset drops one; dotted paths walk into (and $set
 * creates) sub-documents. 0 applied; 1 refused by the server (why
 * filled): a changed _id, two paths in conflict, a path through a
 * scalar, an empty field name, an operand that is not a document. A path
 * through an array is not implemented: -1 with why "sim-db: ...".
 */
int	sim_db_update_apply(const bson_t *src, const bson_t *update,
	    bson_t *out, char *why, size_t whysz);

/*
 * Whether a and b collide in the unique index {user_id: 1, slug: 1}: on
 * MongoDB a missing field indexes as null, so two documents of one user
 * without a slug collide; on FerretDB (a SQLite unique index over
 * json_extract) a missing or null key never collides.
 */
bool	sim_db_unique_clash(const bson_t *a, const bson_t *b, bool ferretdb);

#endif
