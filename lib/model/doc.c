/*
 * Entities <-> BSON (SPEC §3). Encoding is total; decoding trusts nothing:
 * every field is looked up by name, its type checked before it is read, and
 * every failure becomes an ES_EPARSE naming the collection, the _id and the
 * field (SPEC 4.10: a bad document is one skipped item, never a crash).
 */
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/doc.h"
#include "execsync/xmalloc.h"

/* ---- encoding ---- */

static void
put_str(bson_t *out, const char *key, const char *s)
{
	if (s == NULL)
		BSON_APPEND_NULL(out, key);
	else
		BSON_APPEND_UTF8(out, key, s);
}

static void
put_date(bson_t *out, const char *key, es_date_t d)
{
	if (d == ES_DATE_NONE)
		BSON_APPEND_NULL(out, key);
	else
		BSON_APPEND_DATE_TIME(out, key, es_date_to_ms(d));
}

static void
put_extra(bson_t *out, const bson_t *extra)
{
	bson_t empty = BSON_INITIALIZER;

	BSON_APPEND_DOCUMENT(out, "extra", extra ? extra : &empty);
	bson_destroy(&empty);
}

static void
put_deleted(bson_t *out, const struct es_meta *m)
{
	BSON_APPEND_BOOL(out, "deleted", m->deleted);
	if (m->deleted_at == 0)
		BSON_APPEND_NULL(out, "deleted_at");
	else
		BSON_APPEND_DATE_TIME(out, "deleted_at", m->deleted_at);
}

static void
put_priority(bson_t *out, char p)
{
	char s[2];

	if (p == 0) {
		BSON_APPEND_NULL(out, "priority");
		return;
	}
	s[0] = p;
	s[1] = '\0';
	BSON_APPEND_UTF8(out, "priority", s);
}

static void
put_head(bson_t *out, const struct es_meta *m, const char *user_id)
{
	/* The caller chooses the id, so it knows it without a round trip. */
	BSON_ASSERT(m->has_id);
	BSON_APPEND_OID(out, "_id", &m->id);
	put_str(out, "user_id", user_id);
}

static void
put_tail(bson_t *out, const struct es_meta *m)
{
	put_deleted(out, m);
	BSON_APPEND_DATE_TIME(out, "created_at", m->created_at);
	BSON_APPEND_DATE_TIME(out, "updated_at", m->updated_at);
}

/* The fields of mask, in SPEC §3 order; shared by encode and encode_set. */
static void
put_entity_fields(bson_t *out, const struct es_entity *e, unsigned mask)
{
	bool project = e->kind == ES_KIND_PROJECT;

	if (mask & ES_F_TITLE)
		put_str(out, "title", e->title);
	if (mask & ES_F_SLUG)
		put_str(out, "slug", e->slug);
	if (mask & ES_F_AREA)
		put_str(out, "area", e->area);
	if (mask & ES_F_FOLDER)
		put_str(out, "folder", es_folder_name(e->folder));
	if (project && (mask & ES_F_TYPE))
		put_str(out, "type", es_ptype_name(e->type));
	if (mask & ES_F_CONTENT)
		bson_append_utf8(out, "content", -1, e->content ? e->content : "",
		    e->content ? (int)e->content_len : 0);
	if (mask & ES_F_CREATED)
		put_date(out, "created", e->created);
	if (project && (mask & ES_F_STARTED))
		put_date(out, "started", e->started);
	if (mask & ES_F_LAST_REVIEWED)
		put_date(out, "last_reviewed", e->last_reviewed);
	if (project && (mask & ES_F_DUE))
		put_date(out, "due", e->due);
	if (project && (mask & ES_F_COMPLETED))
		put_date(out, "completed", e->completed);
	if (project && (mask & ES_F_DESCOPED))
		put_date(out, "descoped", e->descoped);
	if (mask & ES_F_EXTRA)
		put_extra(out, e->extra);
}

static void
put_action_fields(bson_t *out, const struct es_action *a, unsigned mask)
{
	if (mask & ES_F_TEXT)
		put_str(out, "text", a->text);
	if (mask & ES_F_CONTEXT)
		put_str(out, "context", a->context);
	if (mask & ES_F_PROJECT)
		put_str(out, "project_slug", a->project_slug);
	if (mask & ES_F_STATE)
		put_str(out, "state", es_state_name(a->state));
	if (mask & ES_F_DUE)
		put_date(out, "due", a->due);
	if (mask & ES_F_DEFER)
		put_date(out, "defer", a->defer);
	if (mask & ES_F_ACTION_DATE)
		put_date(out, "action_date", a->action_date);
	if (mask & ES_F_COMPLETED)
		put_date(out, "completed", a->completed);
	if (mask & ES_F_PRIORITY)
		put_priority(out, a->priority);
}

#define ALL_FIELDS	(~0u & ~ES_DOC_F_DELETED)

void
es_entity_encode(const struct es_entity *e, const char *user_id, bson_t *out)
{
	put_head(out, &e->meta, user_id);
	put_entity_fields(out, e, ALL_FIELDS);
	put_tail(out, &e->meta);
}

void
es_action_encode(const struct es_action *a, const char *user_id, bson_t *out)
{
	put_head(out, &a->meta, user_id);
	put_action_fields(out, a, ALL_FIELDS);
	put_tail(out, &a->meta);
}

void
es_entity_encode_set(const struct es_entity *e, unsigned mask,
    int64_t updated_at_ms, bson_t *out)
{
	put_entity_fields(out, e, mask);
	if (mask & ES_DOC_F_DELETED)
		put_deleted(out, &e->meta);
	BSON_APPEND_DATE_TIME(out, "updated_at", updated_at_ms);
}

void
es_action_encode_set(const struct es_action *a, unsigned mask,
    int64_t updated_at_ms, bson_t *out)
{
	put_action_fields(out, a, mask);
	if (mask & ES_DOC_F_DELETED)
		put_deleted(out, &a->meta);
	BSON_APPEND_DATE_TIME(out, "updated_at", updated_at_ms);
}

/* ---- decoding ---- */

/*
 * The fields of SPEC §3 a decoder reads. dec_head() walks the document's
 * keys once and keeps an iterator on each known one (the first of a
 * repeated key, as bson_iter_find() would), so a field is found in one
 * step instead of a walk over the keys per field.
 */
enum field {
	F_ID, F_USER_ID, F_TITLE, F_SLUG, F_AREA, F_FOLDER, F_TYPE, F_CONTENT,
	F_CREATED, F_STARTED, F_LAST_REVIEWED, F_DUE, F_COMPLETED, F_DESCOPED,
	F_EXTRA, F_DELETED, F_DELETED_AT, F_CREATED_AT, F_UPDATED_AT, F_TEXT,
	F_CONTEXT, F_PROJECT_SLUG, F_STATE, F_DEFER, F_ACTION_DATE, F_PRIORITY,
	F_COUNT
};

static const char *const field_name[F_COUNT] = {
	[F_ID] = "_id", [F_USER_ID] = "user_id", [F_TITLE] = "title",
	[F_SLUG] = "slug", [F_AREA] = "area", [F_FOLDER] = "folder",
	[F_TYPE] = "type", [F_CONTENT] = "content", [F_CREATED] = "created",
	[F_STARTED] = "started", [F_LAST_REVIEWED] = "last_reviewed",
	[F_DUE] = "due", [F_COMPLETED] = "completed",
	[F_DESCOPED] = "descoped", [F_EXTRA] = "extra",
	[F_DELETED] = "deleted", [F_DELETED_AT] = "deleted_at",
	[F_CREATED_AT] = "created_at", [F_UPDATED_AT] = "updated_at",
	[F_TEXT] = "text", [F_CONTEXT] = "context",
	[F_PROJECT_SLUG] = "project_slug", [F_STATE] = "state",
	[F_DEFER] = "defer", [F_ACTION_DATE] = "action_date",
	[F_PRIORITY] = "priority",
};

struct dec {
	const bson_t	*doc;
	char		 path[64];	/* "<collection>/<hex id>" */
	struct es_error	*err;
	uint32_t	 seen;		/* bit per enum field: f[] is set */
	struct {
		bson_iter_t	 it;	/* aligned wider than its size */
	}		 f[F_COUNT];
};

/* The field a key names, or -1; by length first, then the few of it. */
static int
field_of(const char *k, uint32_t len)
{
	static const signed char by_len[14][7] = {
		[3] = { F_ID, F_DUE, -1 },
		[4] = { F_SLUG, F_AREA, F_TYPE, F_TEXT, -1 },
		[5] = { F_TITLE, F_EXTRA, F_STATE, F_DEFER, -1 },
		[6] = { F_FOLDER, -1 },
		[7] = { F_USER_ID, F_CONTENT, F_CREATED, F_STARTED, F_DELETED,
		    F_CONTEXT, -1 },
		[8] = { F_DESCOPED, F_PRIORITY, -1 },
		[9] = { F_COMPLETED, -1 },
		[10] = { F_DELETED_AT, F_CREATED_AT, F_UPDATED_AT, -1 },
		[11] = { F_ACTION_DATE, -1 },
		[12] = { F_PROJECT_SLUG, -1 },
		[13] = { F_LAST_REVIEWED, -1 },
	};
	const signed char *c;

	if (len < 3 || len > 13)
		return -1;
	for (c = by_len[len]; *c >= 0; c++)
		if (field_name[*c][0] == k[0] &&
		    memcmp(field_name[*c], k, len) == 0)
			return *c;
	return -1;
}

static const char *
type_name(bson_type_t t)
{
	switch (t) {
	case BSON_TYPE_EOD:		return "nothing";
	case BSON_TYPE_DOUBLE:		return "double";
	case BSON_TYPE_UTF8:		return "string";
	case BSON_TYPE_DOCUMENT:	return "document";
	case BSON_TYPE_ARRAY:		return "array";
	case BSON_TYPE_BINARY:		return "binary";
	case BSON_TYPE_UNDEFINED:	return "undefined";
	case BSON_TYPE_OID:		return "objectid";
	case BSON_TYPE_BOOL:		return "bool";
	case BSON_TYPE_DATE_TIME:	return "date";
	case BSON_TYPE_NULL:		return "null";
	case BSON_TYPE_REGEX:		return "regex";
	case BSON_TYPE_DBPOINTER:	return "dbpointer";
	case BSON_TYPE_CODE:		return "code";
	case BSON_TYPE_SYMBOL:		return "symbol";
	case BSON_TYPE_CODEWSCOPE:	return "code with scope";
	case BSON_TYPE_INT32:		return "int32";
	case BSON_TYPE_TIMESTAMP:	return "timestamp";
	case BSON_TYPE_INT64:		return "int64";
	case BSON_TYPE_DECIMAL128:	return "decimal128";
	case BSON_TYPE_MAXKEY:		return "maxkey";
	case BSON_TYPE_MINKEY:		return "minkey";
	}
	return "unknown type";
}

/*
 * A value from the document, fit to quote in a one-line message: at most
 * 40 bytes, control characters and quotes escaped, so a hostile value can
 * neither forge a log line nor flood it.
 */
static void
quote(char *out, size_t size, const char *s, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && o + 8 < size && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\')
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (i < len && o + 4 < size) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int
dec_fail(struct dec *d, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
dec_fail(struct dec *d, const char *field, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return es_problem_set(d->err, ES_PROB_BAD_DOCUMENT, d->path, 0, "field '%s': %s",
	    field, what);
}

static int
dec_fail_type(struct dec *d, const char *field, const char *want,
    const bson_iter_t *it)
{
	return dec_fail(d, field, "expected %s, got %s", want,
	    type_name(bson_iter_type(it)));
}

/*
 * Finds key. 1: present and not null, *it on it; 0: missing or null (absent
 * for optional fields). *was_null tells the two apart when not NULL.
 */
static int
dec_find(struct dec *d, enum field f, bson_iter_t *it, bool *was_null)
{
	if (was_null)
		*was_null = false;
	if (!(d->seen & (UINT32_C(1) << f)))
		return 0;
	*it = d->f[f].it;
	if (BSON_ITER_HOLDS_NULL(it)) {
		if (was_null)
			*was_null = true;
		return 0;
	}
	return 1;
}

/*
 * True when s is valid UTF-8 without NUL, checked fast: ASCII eight bytes
 * a step, and each run of bytes >= 0x80 by bson_utf8_validate() alone (a
 * sequence is such bytes only, so the string is valid when every run is).
 * False sends the caller to the byte-wise checks, which name the fault.
 */
static bool
utf8_clean(const char *s, size_t len)
{
	const uint64_t lo = UINT64_C(0x0101010101010101);
	const uint64_t hi = UINT64_C(0x8080808080808080);
	uint64_t v;
	size_t i = 0, j;

	while (i < len) {
		if (i + 8 <= len) {
			memcpy(&v, s + i, 8);
			/* No byte >= 0x80, no zero byte (v - lo borrows). */
			if ((v & hi) == 0 && ((v - lo) & ~v & hi) == 0) {
				i += 8;
				continue;
			}
		}
		if (s[i] == '\0')
			return false;
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		for (j = i; j < len && (unsigned char)s[j] >= 0x80; j++)
			;
		if (!bson_utf8_validate(s + i, j - i, false))
			return false;
		i = j;
	}
	return true;
}

/*
 * A string field. Required: missing or null is an error. Optional: missing
 * or null leaves *out NULL, and so does "" when empty_is_none.
 */
static int
dec_str(struct dec *d, enum field f, bool required, bool empty_is_none,
    char **out, size_t *len_out)
{
	const char *key = field_name[f];
	bson_iter_t it;
	bool was_null;
	const char *s;
	uint32_t len;

	*out = NULL;
	if (len_out)
		*len_out = 0;
	if (!dec_find(d, f, &it, &was_null)) {
		if (!required)
			return 0;
		if (was_null)
			return dec_fail(d, key, "expected a string, got null");
		return dec_fail(d, key, "missing");
	}
	if (!BSON_ITER_HOLDS_UTF8(&it))
		return dec_fail_type(d, key, "a string", &it);
	s = bson_iter_utf8(&it, &len);
	if (!utf8_clean(s, len)) {
		if (memchr(s, '\0', len) != NULL)
			return dec_fail(d, key, "contains a NUL byte");
		if (!bson_utf8_validate(s, len, false))
			return dec_fail(d, key, "invalid UTF-8");
	}
	if (len == 0 && empty_is_none)
		return 0;
	*out = es_xmemdup(s, len);
	if (len_out)
		*len_out = len;
	return 0;
}

/* The day range es_date_t spells as YYYY-MM-DD: years 0001-9999. */
static bool
date_ms_in_range(int64_t ms)
{
	int64_t lo = es_date_to_ms(es_date_from_ymd(1, 1, 1));
	int64_t hi = es_date_to_ms(es_date_from_ymd(9999, 12, 31)) +
	    ES_MS_PER_DAY;

	return ms >= lo && ms < hi;
}

/*
 * A date without time: a BSON datetime, floored to its UTC day (the API
 * writes midnight UTC; anything else is read as that day, not rejected).
 */
static int
dec_date(struct dec *d, enum field f, es_date_t *out)
{
	const char *key = field_name[f];
	bson_iter_t it;
	int64_t ms;

	*out = ES_DATE_NONE;
	if (!dec_find(d, f, &it, NULL))
		return 0;
	if (!BSON_ITER_HOLDS_DATE_TIME(&it))
		return dec_fail_type(d, key, "a date", &it);
	ms = bson_iter_date_time(&it);
	if (!date_ms_in_range(ms))
		return dec_fail(d, key, "date out of range (%lld ms)",
		    (long long)ms);
	*out = es_date_from_ms(ms);
	return 0;
}

/*
 * A timestamp in ms: a datetime, or a whole number where a client stored
 * the epoch milliseconds as a number. Missing or null: 0.
 */
static int
dec_ts(struct dec *d, enum field f, int64_t *out)
{
	const char *key = field_name[f];
	bson_iter_t it;
	double v;

	*out = 0;
	if (!dec_find(d, f, &it, NULL))
		return 0;
	switch (bson_iter_type(&it)) {
	case BSON_TYPE_DATE_TIME:
		*out = bson_iter_date_time(&it);
		return 0;
	case BSON_TYPE_INT32:
		*out = bson_iter_int32(&it);
		return 0;
	case BSON_TYPE_INT64:
		*out = bson_iter_int64(&it);
		return 0;
	case BSON_TYPE_DOUBLE:
		v = bson_iter_double(&it);
		/* 2^63 bounds the cast; NaN fails every comparison. */
		if (!(v >= -9223372036854775808.0 && v < 9223372036854775808.0) ||
		    (double)(int64_t)v != v)
			return dec_fail(d, key,
			    "expected a timestamp, got double %g", v);
		*out = (int64_t)v;
		return 0;
	default:
		return dec_fail_type(d, key, "a timestamp", &it);
	}
}

static int
dec_bool(struct dec *d, enum field f, bool *out)
{
	const char *key = field_name[f];
	bson_iter_t it;

	*out = false;
	if (!dec_find(d, f, &it, NULL))
		return 0;
	if (!BSON_ITER_HOLDS_BOOL(&it))
		return dec_fail_type(d, key, "a bool", &it);
	*out = bson_iter_bool(&it);
	return 0;
}

/*
 * An enum spelled as a name. parse is es_folder_parse & co (via the int
 * adaptor below); allowed lists the names for the message.
 */
typedef bool (*parse_fn)(const char *, size_t, int *);

static int
dec_enum(struct dec *d, enum field f, bool required, parse_fn parse,
    const char *allowed, int *out)
{
	const char *key = field_name[f];
	bson_iter_t it;
	bool was_null;
	const char *s;
	uint32_t len;
	char q[192];

	*out = 0;
	if (!dec_find(d, f, &it, &was_null)) {
		if (!required)
			return 0;
		if (was_null)
			return dec_fail(d, key, "expected %s, got null",
			    allowed);
		return dec_fail(d, key, "missing");
	}
	if (!BSON_ITER_HOLDS_UTF8(&it))
		return dec_fail_type(d, key, "a string", &it);
	s = bson_iter_utf8(&it, &len);
	if (!parse(s, len, out)) {
		quote(q, sizeof(q), s, len);
		return dec_fail(d, key, "expected %s, got '%s'", allowed, q);
	}
	return 0;
}

static bool
parse_folder(const char *s, size_t len, int *out)
{
	enum es_folder f;

	if (!es_folder_parse(s, len, &f))
		return false;
	*out = (int)f;
	return true;
}

static bool
parse_goal_folder(const char *s, size_t len, int *out)
{
	enum es_folder f;

	/* SPEC §3: goals live in active or incubator only. */
	if (!es_folder_parse(s, len, &f) ||
	    (f != ES_FOLDER_ACTIVE && f != ES_FOLDER_INCUBATOR))
		return false;
	*out = (int)f;
	return true;
}

static bool
parse_ptype(const char *s, size_t len, int *out)
{
	enum es_ptype t;

	if (!es_ptype_parse(s, len, &t))
		return false;
	*out = (int)t;
	return true;
}

static bool
parse_state(const char *s, size_t len, int *out)
{
	enum es_state st;

	if (!es_state_parse(s, len, &st))
		return false;
	*out = (int)st;
	return true;
}

/*
 * Checks the document as a whole and reads _id and user_id, which every
 * collection shares. The path names the document from here on.
 */
static int
dec_head(struct dec *d, const bson_t *doc, const char *coll,
    struct es_meta *m, struct es_error *err)
{
	bson_iter_t it;
	char *user = NULL;
	size_t off;
	char hex[25];

	d->doc = doc;
	d->err = err;
	snprintf(d->path, sizeof(d->path), "%s/?", coll);
	if (!bson_validate(doc, BSON_VALIDATE_NONE, &off))
		return es_problem_set(err, ES_PROB_BAD_DOCUMENT, d->path, 0,
		    "corrupt document (at byte %zu)", off);
	d->seen = 0;
	if (!bson_iter_init(&it, doc))
		return es_problem_set(err, ES_PROB_BAD_DOCUMENT, d->path, 0,
		    "corrupt document");
	while (bson_iter_next(&it)) {
		int f = field_of(bson_iter_key(&it), bson_iter_key_len(&it));

		if (f >= 0 && !(d->seen & (UINT32_C(1) << f))) {
			d->seen |= UINT32_C(1) << f;
			d->f[f].it = it;
		}
	}
	if (!(d->seen & (UINT32_C(1) << F_ID)))
		return dec_fail(d, "_id", "missing");
	it = d->f[F_ID].it;
	if (!BSON_ITER_HOLDS_OID(&it)) {
		/* Named by what it has, so a person can find it. */
		if (BSON_ITER_HOLDS_UTF8(&it))
			snprintf(d->path, sizeof(d->path), "%s/'%.32s'", coll,
			    bson_iter_utf8(&it, NULL));
		else if (BSON_ITER_HOLDS_INT(&it))
			snprintf(d->path, sizeof(d->path), "%s/%" PRId64, coll,
			    bson_iter_as_int64(&it));
		return dec_fail_type(d, "_id", "an objectid", &it);
	}
	bson_oid_copy(bson_iter_oid(&it), &m->id);
	m->has_id = true;
	bson_oid_to_string(&m->id, hex);
	snprintf(d->path, sizeof(d->path), "%s/%s", coll, hex);
	if (dec_str(d, F_USER_ID, true, false, &user, NULL) == -1)
		return -1;
	free(user);
	return 0;
}

static int
dec_tail(struct dec *d, struct es_meta *m)
{
	if (dec_bool(d, F_DELETED, &m->deleted) == -1 ||
	    dec_ts(d, F_DELETED_AT, &m->deleted_at) == -1 ||
	    dec_ts(d, F_CREATED_AT, &m->created_at) == -1 ||
	    dec_ts(d, F_UPDATED_AT, &m->updated_at) == -1)
		return -1;
	return 0;
}

static int
dec_extra(struct dec *d, bson_t **out)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;
	size_t off;
	bson_t *x;

	if (!dec_find(d, F_EXTRA, &it, NULL))
		return 0;	/* *out stays the empty document */
	if (!BSON_ITER_HOLDS_DOCUMENT(&it))
		return dec_fail_type(d, "extra", "a document", &it);
	bson_iter_document(&it, &len, &data);
	x = bson_new_from_data(data, len);
	if (x == NULL)
		return dec_fail(d, "extra", "corrupt document");
	/* Its keys and strings go back into YAML: they must be UTF-8. */
	if (!bson_validate(x, BSON_VALIDATE_UTF8, &off)) {
		bson_destroy(x);
		return dec_fail(d, "extra", "invalid UTF-8 (at byte %zu)",
		    off);
	}
	bson_destroy(*out);
	*out = x;
	return 0;
}

int
es_entity_decode(const bson_t *doc, enum es_kind kind, struct es_entity *out,
    struct es_error *err)
{
	struct dec d;
	bool project = kind == ES_KIND_PROJECT;
	int folder = 0, type = 0;
	char *content = NULL;
	size_t content_len = 0;

	es_entity_init(out, kind);
	if (kind != ES_KIND_PROJECT && kind != ES_KIND_GOAL) {
		es_error_set(err, ES_EPARSE, NULL, 0,
		    "es_entity_decode: kind %d is not a project or goal",
		    (int)kind);
		goto fail;
	}
	if (dec_head(&d, doc, es_kind_collection(kind), &out->meta,
	    err) == -1)
		goto fail;
	if (dec_str(&d, F_TITLE, true, false, &out->title, NULL) == -1 ||
	    dec_str(&d, F_SLUG, true, false, &out->slug, NULL) == -1)
		goto fail;
	if (out->slug[0] == '\0') {
		dec_fail(&d, "slug", "empty");
		goto fail;
	}
	if (dec_str(&d, F_AREA, false, false, &out->area, NULL) == -1)
		goto fail;
	if (project) {
		if (dec_enum(&d, F_FOLDER, true, parse_folder,
		    "active, incubator, completed or descoped",
		    &folder) == -1 ||
		    dec_enum(&d, F_TYPE, false, parse_ptype,
		    "standard, coordination, habit or goal", &type) == -1)
			goto fail;
	} else if (dec_enum(&d, F_FOLDER, true, parse_goal_folder,
	    "active or incubator", &folder) == -1)
		goto fail;
	out->folder = (enum es_folder)folder;
	out->type = (enum es_ptype)type;
	if (dec_str(&d, F_CONTENT, false, false, &content, &content_len) == -1)
		goto fail;
	if (content != NULL) {
		free(out->content);
		out->content = content;
		out->content_len = content_len;
	}
	if (dec_date(&d, F_CREATED, &out->created) == -1 ||
	    dec_date(&d, F_LAST_REVIEWED, &out->last_reviewed) == -1)
		goto fail;
	/* Goals have none of these; whatever a goal holds there is ignored. */
	if (project &&
	    (dec_date(&d, F_STARTED, &out->started) == -1 ||
	    dec_date(&d, F_DUE, &out->due) == -1 ||
	    dec_date(&d, F_COMPLETED, &out->completed) == -1 ||
	    dec_date(&d, F_DESCOPED, &out->descoped) == -1))
		goto fail;
	if (dec_extra(&d, &out->extra) == -1 || dec_tail(&d, &out->meta) == -1)
		goto fail;
	return 0;
fail:
	es_entity_release(out);
	es_entity_init(out, kind);
	return -1;
}

static int
dec_priority(struct dec *d, char *out)
{
	char *s = NULL;
	size_t len;
	char q[192];
	int rc = 0;

	*out = 0;
	if (dec_str(d, F_PRIORITY, false, true, &s, &len) == -1)
		return -1;
	if (s == NULL)
		return 0;
	if (len == 1 && s[0] >= 'A' && s[0] <= 'Z')
		*out = s[0];
	else {
		quote(q, sizeof(q), s, len);
		rc = dec_fail(d, "priority", "expected a letter A-Z, got '%s'",
		    q);
	}
	free(s);
	return rc;
}

int
es_action_decode(const bson_t *doc, struct es_action *out,
    struct es_error *err)
{
	struct dec d;
	int state = 0;
	char *ctx;

	es_action_init(out);
	if (dec_head(&d, doc, es_kind_collection(ES_KIND_ACTION), &out->meta,
	    err) == -1)
		goto fail;
	if (dec_str(&d, F_TEXT, true, false, &out->text, NULL) == -1 ||
	    dec_str(&d, F_CONTEXT, false, true, &out->context, NULL) == -1 ||
	    dec_str(&d, F_PROJECT_SLUG, false, true, &out->project_slug,
	    NULL) == -1)
		goto fail;
	/* The struct (and the folder) spell a context with its '@'. */
	if (out->context != NULL && out->context[0] != '@') {
		ctx = es_xasprintf("@%s", out->context);
		free(out->context);
		out->context = ctx;
	}
	if (dec_enum(&d, F_STATE, true, parse_state,
	    "next, waiting, deferred, incubating or completed", &state) == -1)
		goto fail;
	out->state = (enum es_state)state;
	if (dec_date(&d, F_DUE, &out->due) == -1 ||
	    dec_date(&d, F_DEFER, &out->defer) == -1 ||
	    dec_date(&d, F_ACTION_DATE, &out->action_date) == -1 ||
	    dec_date(&d, F_COMPLETED, &out->completed) == -1 ||
	    dec_priority(&d, &out->priority) == -1 ||
	    dec_tail(&d, &out->meta) == -1)
		goto fail;
	return 0;
fail:
	es_action_release(out);
	es_action_init(out);
	return -1;
}

bool
es_doc_user_is(const bson_t *doc, const char *user_id)
{
	bson_iter_t it;
	const char *s;
	uint32_t len;

	if (user_id == NULL || !bson_iter_init_find(&it, doc, "user_id") ||
	    !BSON_ITER_HOLDS_UTF8(&it))
		return false;
	s = bson_iter_utf8(&it, &len);
	return strlen(user_id) == len && memcmp(s, user_id, len) == 0;
}

/* One value's bytes, as a one-field document: equal bytes, equal value. */
static bool
same_value(const bson_iter_t *a, const bson_iter_t *b)
{
	bson_t x = BSON_INITIALIZER, y = BSON_INITIALIZER;
	bool same;

	if (bson_iter_type(a) != bson_iter_type(b))
		return false;
	bson_append_iter(&x, "v", 1, a);
	bson_append_iter(&y, "v", 1, b);
	same = x.len == y.len &&
	    memcmp(bson_get_data(&x), bson_get_data(&y), x.len) == 0;
	bson_destroy(&x);
	bson_destroy(&y);
	return same;
}

bool
es_doc_has_update(const bson_t *doc, const bson_t *update)
{
	bson_iter_t op, f, root, d;

	if (!bson_iter_init(&op, update))
		return false;
	while (bson_iter_next(&op)) {
		const char *name = bson_iter_key(&op);
		bool set = strcmp(name, "$set") == 0;

		if ((!set && strcmp(name, "$unset") != 0) ||
		    !BSON_ITER_HOLDS_DOCUMENT(&op) ||
		    !bson_iter_recurse(&op, &f))
			return false;
		while (bson_iter_next(&f)) {
			bool found = bson_iter_init(&root, doc) &&
			    bson_iter_find_descendant(&root, bson_iter_key(&f),
			    &d);

			if (set ? !found || !same_value(&f, &d) : found)
				return false;
		}
	}
	return true;
}
