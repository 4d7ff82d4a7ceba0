/*
 * sim-db's document rules (sim-db.h): the checks libmongoc and the server
 * make on a document, the update operators the engine sends ($set, and
 * $unset for completeness), and the unique index on (user_id, slug).
 * Pure; n is small everywhere (a document's fields, an update's paths).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/xmalloc.h"

#include "sim-db.h"

#define DOC_MAX		(16 * 1024 * 1024)	/* the server's limit */

/* FerretDB's limits below the client's (NOTES-deps §2); depth: of doc. */
static int
ferret_walk(const bson_t *doc, bool array, char *why, size_t whysz)
{
	bson_iter_t it, jt;

	if (!bson_iter_init(&it, doc))
		return snprintf(why, whysz, "corrupt document"), 1;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		bson_t sub;
		uint32_t len;
		const uint8_t *data;

		if (!array && (strchr(k, '.') != NULL || k[0] == '$'))
			return snprintf(why, whysz, "invalid key: '%s' (key "
			    "must not contain '.' sign or start with '$')", k),
			    1;
		/* No key twice in one document (the earlier ones). */
		for (bool ok = !array && bson_iter_init(&jt, doc); ok &&
		    bson_iter_next(&jt) &&
		    bson_iter_offset(&jt) < bson_iter_offset(&it);)
			if (strcmp(bson_iter_key(&jt), k) == 0)
				return snprintf(why, whysz, "duplicate key "
				    "'%s'", k), 1;
		switch (bson_iter_type(&it)) {
		case BSON_TYPE_UTF8: {
			uint32_t n;
			const char *s = bson_iter_utf8(&it, &n);

			if (memchr(s, '\0', n) != NULL)
				return snprintf(why, whysz, "field '%s': a "
				    "string with a NUL byte", k), 1;
			break;
		}
		case BSON_TYPE_DOUBLE:
			if (!isfinite(bson_iter_double(&it)))
				return snprintf(why, whysz, "field '%s': "
				    "NaN or infinity", k), 1;
			break;
		case BSON_TYPE_ARRAY:
			if (array)
				return snprintf(why, whysz, "nested arrays are "
				    "not supported"), 1;
			/* FALLTHROUGH */
		case BSON_TYPE_DOCUMENT:
			if (BSON_ITER_HOLDS_ARRAY(&it))
				bson_iter_array(&it, &len, &data);
			else
				bson_iter_document(&it, &len, &data);
			if (!bson_init_static(&sub, data, len))
				return snprintf(why, whysz, "corrupt document"),
				    1;
			if (ferret_walk(&sub, BSON_ITER_HOLDS_ARRAY(&it), why,
			    whysz) != 0)
				return 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

int
sim_db_doc_check(const bson_t *doc, bool ferretdb, char *why, size_t whysz)
{
	bson_error_t be;

	/* libmongoc 1.23's _mongoc_default_insert_vflags. */
	if (!bson_validate_with_error(doc, BSON_VALIDATE_UTF8 |
	    BSON_VALIDATE_UTF8_ALLOW_NULL | BSON_VALIDATE_EMPTY_KEYS, &be))
		return snprintf(why, whysz, "invalid document: %s",
		    be.message), 1;
	if (doc->len > DOC_MAX)
		return snprintf(why, whysz, "document of %u bytes is over "
		    "16 MiB", doc->len), 1;
	return ferretdb ? ferret_walk(doc, false, why, whysz) : 0;
}

int
sim_db_update_check(const bson_t *update, char *why, size_t whysz)
{
	bson_iter_t it;
	bson_error_t be;

	if (bson_empty(update))
		return snprintf(why, whysz, "Empty update document"), -1;
	if (!bson_validate_with_error(update, BSON_VALIDATE_UTF8 |
	    BSON_VALIDATE_UTF8_ALLOW_NULL | BSON_VALIDATE_EMPTY_KEYS, &be))
		return snprintf(why, whysz, "invalid update: %s", be.message),
		    -1;
	if (!bson_iter_init(&it, update))
		return snprintf(why, whysz, "corrupt update document"), -1;
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);

		if (k[0] != '$')
			return snprintf(why, whysz, "Invalid key '%s': update "
			    "only works with $ operators", k), -1;
		if (strcmp(k, "$set") != 0 && strcmp(k, "$unset") != 0)
			return snprintf(why, whysz, "sim-db: unsupported "
			    "update operator %s", k), -1;
	}
	return 0;
}

/* One path of an update: value NULL for $unset. */
struct upath {
	const char		*path;
	bool			 set;
	bson_value_t		 value;	/* pointing into the update */
};

static int
upath_cmp(const void *a, const void *b)
{
	return strcmp(((const struct upath *)a)->path,
	    ((const struct upath *)b)->path);
}

/* Whether p is q or q's ancestor ("a" of "a.b"). */
static bool
path_covers(const char *p, const char *q)
{
	size_t n = strlen(p);

	return strncmp(p, q, n) == 0 && (q[n] == '\0' || q[n] == '.');
}

/* A path that names no field: "", "a..b", ".a", "a.". */
static bool
path_empty_part(const char *p)
{
	size_t n = strlen(p);

	return n == 0 || p[0] == '.' || p[n - 1] == '.' ||
	    strstr(p, "..") != NULL;
}

/* Appends the path's fields down to value, creating sub-documents. */
static void
create_path(bson_t *out, const char *path, const bson_value_t *value)
{
	const char *dot = strchr(path, '.');
	bson_t child;

	if (dot == NULL) {
		bson_append_value(out, path, -1, value);
		return;
	}
	bson_append_document_begin(out, path, (int)(dot - path), &child);
	create_path(&child, dot + 1, value);
	bson_append_document_end(out, &child);
}

/* One path applied to src into out; sim_db_update_apply()'s results. */
static int
apply_path(const bson_t *src, const char *path, const bson_value_t *value,
    bson_t *out, char *why, size_t whysz)
{
	const char *dot = strchr(path, '.');
	size_t clen = dot != NULL ? (size_t)(dot - path) : strlen(path);
	bool found = false;
	bson_iter_t it;
	int rc = 0;

	if (!bson_iter_init(&it, src))
		return snprintf(why, whysz, "corrupt document"), 1;
	while (rc == 0 && bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		bson_t sub, child;
		uint32_t len;
		const uint8_t *data;

		if (found || strlen(k) != clen || memcmp(k, path, clen) != 0) {
			bson_append_iter(out, NULL, 0, &it);
			continue;
		}
		found = true;
		if (dot == NULL) {
			/* $set in place; $unset drops it. */
			if (value != NULL)
				bson_append_value(out, k, -1, value);
			continue;
		}
		if (BSON_ITER_HOLDS_DOCUMENT(&it)) {
			bson_iter_document(&it, &len, &data);
			if (!bson_init_static(&sub, data, len))
				return snprintf(why, whysz, "corrupt document"),
				    1;
			bson_append_document_begin(out, k, -1, &child);
			rc = apply_path(&sub, dot + 1, value, &child, why,
			    whysz);
			bson_append_document_end(out, &child);
			continue;
		}
		if (BSON_ITER_HOLDS_ARRAY(&it))
			return snprintf(why, whysz, "sim-db: update path '%s' "
			    "through an array is not implemented", path), -1;
		if (value == NULL) {
			/* $unset below a scalar: nothing there to drop. */
			bson_append_iter(out, NULL, 0, &it);
			continue;
		}
		return snprintf(why, whysz, "Cannot create field '%s' in "
		    "element {%s: ...}", dot + 1, k), 1;
	}
	if (rc == 0 && !found && value != NULL) {
		char *head = es_xstrndup(path, clen);
		bson_t child;

		if (dot == NULL)
			bson_append_value(out, head, -1, value);
		else {
			bson_append_document_begin(out, head, -1, &child);
			create_path(&child, dot + 1, value);
			bson_append_document_end(out, &child);
		}
		free(head);
	}
	return rc;
}

/* The update's paths into *pv (malloc'd); 1 refused (why), 0 fine. */
static int
collect_paths(const bson_t *src, const bson_t *update, struct upath **pv,
    size_t *pn, char *why, size_t whysz)
{
	struct upath *v = NULL;
	size_t n = 0, cap = 0;
	bson_iter_t it, op, cur;

	*pv = NULL;
	*pn = 0;
	if (!bson_iter_init(&it, update))
		return snprintf(why, whysz, "corrupt update"), 1;
	while (bson_iter_next(&it)) {
		bool set = strcmp(bson_iter_key(&it), "$set") == 0;

		if (!BSON_ITER_HOLDS_DOCUMENT(&it) ||
		    !bson_iter_recurse(&it, &op)) {
			free(v);
			return snprintf(why, whysz, "Modifiers operate on "
			    "fields but we found another type instead (%s)",
			    bson_iter_key(&it)), 1;
		}
		while (bson_iter_next(&op)) {
			const char *p = bson_iter_key(&op);

			if (path_empty_part(p)) {
				free(v);
				return snprintf(why, whysz, "The update path "
				    "'%s' contains an empty field name", p), 1;
			}
			if (path_covers("_id", p) && !(set &&
			    strcmp(p, "_id") == 0 &&
			    bson_iter_init_find(&cur, src, "_id") &&
			    bson_iter_type(&cur) == bson_iter_type(&op) &&
			    BSON_ITER_HOLDS_OID(&cur) &&
			    bson_oid_equal(bson_iter_oid(&cur),
			    bson_iter_oid(&op)))) {
				free(v);
				return snprintf(why, whysz, "Performing an "
				    "update on the path '_id' would modify the "
				    "immutable field '_id'"), 1;
			}
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				v = es_xreallocarray(v, cap, sizeof(*v));
			}
			v[n].path = p;
			v[n].set = set;
			if (set)
				v[n].value = *bson_iter_value(&op);
			n++;
		}
	}
	*pv = v;
	*pn = n;
	return 0;
}

int
sim_db_update_apply(const bson_t *src, const bson_t *update, bson_t *out,
    char *why, size_t whysz)
{
	struct upath *v;
	bson_t *cur, *next;
	size_t n;
	int rc;

	if (collect_paths(src, update, &v, &n, why, whysz) != 0)
		return 1;
	/* MongoDB 5+ takes the paths in lexicographic order. */
	if (n > 1)
		qsort(v, n, sizeof(*v), upath_cmp);
	for (size_t i = 0; i + 1 < n; i++)
		/* Sorted: a conflict is between neighbours. */
		if (path_covers(v[i].path, v[i + 1].path)) {
			snprintf(why, whysz, "Updating the path '%s' would "
			    "create a conflict at '%s'", v[i + 1].path,
			    v[i].path);
			free(v);
			return 1;
		}
	cur = bson_copy(src);
	rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		next = bson_new();
		rc = apply_path(cur, v[i].path, v[i].set ? &v[i].value : NULL,
		    next, why, whysz);
		bson_destroy(cur);
		cur = next;
	}
	if (rc == 0)
		bson_concat(out, cur);
	bson_destroy(cur);
	free(v);
	return rc;
}

/* k's value in doc, or a null value when absent. */
static void
key_value(const bson_t *doc, const char *k, bson_value_t *v)
{
	bson_iter_t it;

	if (bson_iter_init_find(&it, doc, k))
		*v = *bson_iter_value(&it);
	else
		v->value_type = BSON_TYPE_NULL;
}

static bool
is_number(bson_type_t t)
{
	return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 ||
	    t == BSON_TYPE_DOUBLE;
}

static double
number_of(const bson_value_t *v)
{
	return v->value_type == BSON_TYPE_INT32 ? v->value.v_int32 :
	    v->value_type == BSON_TYPE_INT64 ? (double)v->value.v_int64 :
	    v->value.v_double;
}

/* Index equality of two values (numbers across types, the rest by bytes). */
static bool
value_equal(const bson_value_t *a, const bson_value_t *b)
{
	bson_t x = BSON_INITIALIZER, y = BSON_INITIALIZER;
	bool eq;

	if (is_number(a->value_type) && is_number(b->value_type))
		return number_of(a) == number_of(b);
	if (a->value_type != b->value_type)
		return false;
	switch (a->value_type) {
	case BSON_TYPE_NULL:
		return true;
	case BSON_TYPE_UTF8:
		return a->value.v_utf8.len == b->value.v_utf8.len &&
		    memcmp(a->value.v_utf8.str, b->value.v_utf8.str,
		    a->value.v_utf8.len) == 0;
	default:
		bson_append_value(&x, "", 0, a);
		bson_append_value(&y, "", 0, b);
		eq = x.len == y.len && memcmp(bson_get_data(&x),
		    bson_get_data(&y), x.len) == 0;
		bson_destroy(&x);
		bson_destroy(&y);
		return eq;
	}
}

bool
sim_db_unique_clash(const bson_t *a, const bson_t *b, bool ferretdb)
{
	static const char *const keys[] = { "user_id", "slug" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		bson_value_t x, y;

		key_value(a, keys[i], &x);
		key_value(b, keys[i], &y);
		if (ferretdb && (x.value_type == BSON_TYPE_NULL ||
		    y.value_type == BSON_TYPE_NULL))
			return false;
		if (!value_equal(&x, &y))
			return false;
	}
	return true;
}
