/*
 * Projects and goals as files (see entity-file.h): the known keys of SPEC
 * §2 on top of the generic frontmatter module, unknown keys through
 * yaml-value into e->extra.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bson/bson.h>

#include "execsync/buf.h"
#include "execsync/date.h"
#include "execsync/entity-file.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/frontmatter.h"
#include "execsync/xmalloc.h"
#include "execsync/yaml-value.h"

/* The known keys, in the canonical order of SPEC §2. */
enum kk {
	K_AREA,
	K_TITLE,
	K_TYPE,
	K_CREATED,
	K_STARTED,
	K_LAST_REVIEWED,
	K_DUE,
	K_COMPLETED,
	K_DESCOPED,
	K_NONE,
};

static const char *const knames[] = {
	"area", "title", "type", "created", "started", "last_reviewed", "due",
	"completed", "descoped",
};

static const enum kk project_keys[] = {
	K_AREA, K_TITLE, K_TYPE, K_CREATED, K_STARTED, K_LAST_REVIEWED, K_DUE,
	K_COMPLETED, K_DESCOPED,
};
static const enum kk goal_keys[] = {
	K_AREA, K_TITLE, K_CREATED, K_LAST_REVIEWED,
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static const enum kk *
keys_of(enum es_kind kind, size_t *n)
{
	if (kind == ES_KIND_GOAL) {
		*n = NELEM(goal_keys);
		return goal_keys;
	}
	*n = NELEM(project_keys);
	return project_keys;
}

/* The known key spelt name for this kind, or K_NONE. */
static enum kk
known(enum es_kind kind, const char *name, size_t len)
{
	size_t n;
	const enum kk *keys = keys_of(kind, &n);

	for (size_t i = 0; i < n; i++)
		if (strlen(knames[keys[i]]) == len &&
		    memcmp(knames[keys[i]], name, len) == 0)
			return keys[i];
	return K_NONE;
}

static es_date_t *
date_field(struct es_entity *e, enum kk k)
{
	switch (k) {
	case K_CREATED:		return &e->created;
	case K_STARTED:		return &e->started;
	case K_LAST_REVIEWED:	return &e->last_reviewed;
	case K_DUE:		return &e->due;
	case K_COMPLETED:	return &e->completed;
	case K_DESCOPED:	return &e->descoped;
	default:		return NULL;
	}
}

static es_date_t
date_of(const struct es_entity *e, enum kk k)
{
	es_date_t *d = date_field((struct es_entity *)e, k);

	return d ? *d : ES_DATE_NONE;
}

/* A known key's value as the file says it. */
enum kstate {
	KV_ABSENT,
	KV_OK,
	KV_BAD,
};

struct kval {
	enum kstate	 st;
	const char	*s;		/* title, area */
	size_t		 len;
	es_date_t	 d;		/* dates */
	enum es_ptype	 t;		/* type */
};

/* Reads known key k; KV_BAD fills err (which may be NULL). */
static enum kstate
read_known(const struct es_frontmatter_key *fk, enum kk k, struct kval *v,
    const char *rel, struct es_error *err)
{
	const struct es_yaml_value *n = &fk->value;
	enum es_yaml_type t;
	char buf[80];

	memset(v, 0, sizeof(*v));
	v->d = ES_DATE_NONE;
	v->st = KV_BAD;
	if (n->kind != ES_YAML_SCALAR) {
		es_problem_set(err, ES_PROB_BAD_VALUE, rel, n->line ? n->line : fk->line,
		    "'%s' must be a single value, not a list or mapping",
		    knames[k]);
		return v->st;
	}
	t = es_yaml_value_type(n->str, n->len, n->plain, NULL);
	if (t == ES_YAML_NULL) {
		v->st = KV_ABSENT;
		return v->st;
	}
	switch (k) {
	case K_AREA:
	case K_TITLE:
		v->s = n->str;
		v->len = n->len;
		break;
	case K_TYPE:
		if (n->len == 0) {
			v->st = KV_ABSENT;
			return v->st;
		}
		if (!es_ptype_parse(n->str, n->len, &v->t)) {
			es_error_shown(n->str, n->len, buf, sizeof(buf));
			es_problem_set(err, ES_PROB_UNKNOWN_VALUE, rel, n->line,
			    "unknown type '%s' (want standard, coordination, "
			    "habit or goal)", buf);
			return v->st;
		}
		break;
	default:
		if (n->len == 0) {
			v->st = KV_ABSENT;
			return v->st;
		}
		if (!es_date_parse(n->str, n->len, &v->d)) {
			es_error_shown(n->str, n->len, buf, sizeof(buf));
			es_problem_set(err, ES_PROB_BAD_DATE, rel, n->line,
			    "bad date '%s' for '%s'", buf, knames[k]);
			return v->st;
		}
		break;
	}
	v->st = KV_OK;
	return v->st;
}

/* A goal's `type`, where present, must be the string "goal" (SPEC §2). */
static bool
goal_type_ok(const struct es_frontmatter *fm)
{
	const struct es_frontmatter_key *k;
	size_t i;

	if (!es_frontmatter_find(fm, "type", 4, &i))
		return true;
	k = es_frontmatter_key(fm, i);
	return k->value.kind == ES_YAML_SCALAR &&
	    es_yaml_value_type(k->value.str, k->value.len, k->value.plain,
	    NULL) == ES_YAML_STRING &&
	    k->value.len == 4 && memcmp(k->value.str, "goal", 4) == 0;
}

int
es_entity_file_parse(const char *data, size_t len, const char *rel,
    enum es_kind kind, enum es_folder folder, const char *slug,
    const char *area_dir, struct es_entity *out, struct es_error *err)
{
	struct es_frontmatter *fm;
	struct es_entity e;
	const char *body;
	size_t nkeys, blen;
	int rc = -1;

	es_entity_init(&e, kind);
	fm = es_frontmatter_parse(data, len, rel, err);
	if (fm == NULL) {
		/* A note under 30k-goals/ opening with a thematic break is
		 * no frontmatter: not a goal. */
		if (kind == ES_KIND_GOAL &&
		    es_frontmatter_shape(data, len) == ES_FM_UNCLOSED)
			rc = 1;
		goto out;
	}
	if (!es_frontmatter_present(fm)) {
		if (kind == ES_KIND_GOAL)
			rc = 1;
		else
			es_problem_set(err, ES_PROB_MISSING_FIELD, rel, 0,
			    "missing 'title'");
		goto out;
	}
	if (kind == ES_KIND_GOAL && !goal_type_ok(fm)) {
		rc = 1;
		goto out;
	}
	nkeys = es_frontmatter_nkeys(fm);
	for (size_t i = 0; i < nkeys; i++) {
		const struct es_frontmatter_key *fk = es_frontmatter_key(fm, i);
		enum kk k = known(kind, fk->name, fk->name_len);
		struct kval v;

		if (k == K_NONE) {
			if (es_yaml_value_to_bson(&fk->value, e.extra, fk->name,
			    fk->name_len, rel, err) == -1)
				goto out;
			continue;
		}
		if (read_known(fk, k, &v, rel, err) == KV_BAD)
			goto out;
		switch (k) {
		case K_TITLE:
			if (v.st == KV_ABSENT) {
				es_problem_set(err, ES_PROB_MISSING_FIELD, rel, fk->line,
				    "missing 'title'");
				goto out;
			}
			e.title = es_xmemdup(v.s, v.len);
			break;
		case K_AREA:
			if (v.st == KV_OK)
				e.area = es_xmemdup(v.s, v.len);
			break;
		case K_TYPE:
			if (v.st == KV_OK)
				e.type = v.t;
			break;
		default:
			*date_field(&e, k) = v.d;
			break;
		}
	}
	if (e.title == NULL) {
		es_problem_set(err, ES_PROB_MISSING_FIELD, rel, 0, "missing 'title'");
		goto out;
	}
	if (kind == ES_KIND_PROJECT && e.area == NULL && area_dir != NULL)
		e.area = es_xstrdup(area_dir);
	e.slug = slug ? es_xstrdup(slug) : NULL;
	e.folder = folder;
	body = es_frontmatter_body(fm, &blen);
	es_entity_set_content(&e, body, blen);
	e.meta = out->meta;
	es_entity_release(out);
	*out = e;
	memset(&e, 0, sizeof(e));	/* moved: releasing it is a no-op */
	rc = 0;
out:
	es_entity_release(&e);
	es_frontmatter_free(fm);
	return rc;
}

/* Appends the value of known key k of e; false (nothing added) if absent. */
static bool
render_known(const struct es_entity *e, enum kk k, struct es_buf *out)
{
	const char *s = NULL;
	char d[ES_DATE_BUFSZ];
	es_date_t date;

	switch (k) {
	case K_AREA:
		s = e->area;
		break;
	case K_TITLE:
		s = e->title;
		break;
	case K_TYPE:
		if (e->type == ES_PTYPE_NONE || es_ptype_name(e->type) == NULL)
			return false;
		es_buf_addstr(out, es_ptype_name(e->type));
		return true;
	default:
		date = date_of(e, k);
		if (date == ES_DATE_NONE)
			return false;
		es_date_format(date, d);
		es_buf_addstr(out, d);
		return true;
	}
	if (s == NULL)
		return false;
	es_yaml_value_render_string(s, strlen(s), ES_YAML_BLOCK, out);
	return true;
}

/* "extra.<key>", for messages. */
static void
where_of(const char *key, size_t klen, char *out, size_t outsz)
{
	char buf[80];

	es_error_shown(key, klen, buf, sizeof(buf));
	snprintf(out, outsz, "extra.%s", buf);
}

/*
 * The value at it, for a "key: value" line. What YAML cannot hold becomes
 * the string of its extended JSON rather than vanishing: the file then
 * still says what the database held (es_entity_file_check() reports it).
 */
static void
render_extra_value(const bson_iter_t *it, struct es_buf *out)
{
	size_t mark = out->len;
	bson_t tmp = BSON_INITIALIZER;
	char *json;
	size_t jlen;

	if (es_yaml_value_render_bson(it, ES_YAML_BLOCK, "extra", out,
	    NULL) == 0)
		return;
	es_buf_setlen(out, mark);
	bson_append_iter(&tmp, "v", 1, it);
	json = bson_as_relaxed_extended_json(&tmp, &jlen);
	if (json) {
		es_yaml_value_render_string(json, jlen, ES_YAML_BLOCK, out);
		bson_free(json);
	} else
		es_buf_addstr(out, "null");
	bson_destroy(&tmp);
}

void
es_entity_file_render(const struct es_entity *e, struct es_buf *out)
{
	const enum kk *keys;
	bson_iter_t it;
	size_t n;

	keys = keys_of(e->kind, &n);
	es_buf_addstr(out, "---\n");
	for (size_t i = 0; i < n; i++) {
		size_t mark = out->len;

		es_buf_addstr(out, knames[keys[i]]);
		es_buf_addstr(out, ": ");
		if (render_known(e, keys[i], out))
			es_buf_addch(out, '\n');
		else
			es_buf_setlen(out, mark);
	}
	if (e->extra && bson_iter_init(&it, e->extra)) {
		while (bson_iter_next(&it)) {
			const char *k = bson_iter_key(&it);
			size_t klen = bson_iter_key_len(&it);

			/* Two lines with one key would not parse. */
			if (known(e->kind, k, klen) != K_NONE)
				continue;
			es_yaml_value_render_string(k, klen, ES_YAML_BLOCK,
			    out);
			es_buf_addstr(out, ": ");
			render_extra_value(&it, out);
			es_buf_addch(out, '\n');
		}
	}
	es_buf_addstr(out, "---\n");
	es_buf_add(out, e->content, e->content_len);
}

/* Whether a string's bytes read back from YAML as themselves. */
static int
check_string(const char *s, uint32_t len, const char *where,
    struct es_error *err)
{
	if (memchr(s, '\0', len) != NULL)
		return es_problem_set(err, ES_PROB_NUL_BYTE, NULL, 0,
		    "NUL byte in %s", where);
	if (!bson_utf8_validate(s, len, false))
		return es_problem_set(err, ES_PROB_BAD_UTF8, NULL, 0,
		    "invalid UTF-8 in %s", where);
	return 0;
}

static int
check_value(const bson_iter_t *it, bool in_array, struct es_buf *where,
    int depth, struct es_error *err)
{
	bson_iter_t child;
	struct es_buf scratch;
	const char *s, *why;
	uint32_t len;
	size_t wlen = where->len;
	int rc = -1;

	es_buf_init(&scratch, 0);
	switch (bson_iter_type(it)) {
	case BSON_TYPE_UTF8:
		s = bson_iter_utf8(it, &len);
		if (check_string(s, len, where->buf, err) == -1)
			goto out;
		break;
	case BSON_TYPE_ARRAY:
	case BSON_TYPE_DOCUMENT:
		if (in_array && BSON_ITER_HOLDS_ARRAY(it)) {
			es_problem_set(err, ES_PROB_BAD_YAML, NULL, 0,
			    "nested lists are not supported in %s",
			    where->buf);
			goto out;
		}
		if (es_yaml_value_recurse(it, depth, where->buf, &child,
		    err) == -1)
			goto out;
		while (bson_iter_next(&child)) {
			const char *k = bson_iter_key(&child);
			size_t klen = bson_iter_key_len(&child);

			es_buf_setlen(where, wlen);
			es_buf_addch(where, '.');
			es_buf_add(where, k, klen);
			if (BSON_ITER_HOLDS_DOCUMENT(it) &&
			    !es_yaml_value_key_ok(k, klen, &why)) {
				es_problem_set(err, ES_PROB_BAD_VALUE, NULL, 0,
				    "key %s %s", where->buf, why);
				goto out;
			}
			if (check_string(k, (uint32_t)klen, where->buf,
			    err) == -1)
				goto out;
			if (check_value(&child, BSON_ITER_HOLDS_ARRAY(it),
			    where, depth + 1, err) == -1)
				goto out;
		}
		break;
	default:
		/* The renderer knows what it can write. */
		if (es_yaml_value_render_bson(it, ES_YAML_BLOCK, where->buf,
		    &scratch, err) == -1)
			goto out;
		break;
	}
	rc = 0;
out:
	es_buf_setlen(where, wlen);
	es_buf_release(&scratch);
	return rc;
}

int
es_entity_file_check(const struct es_entity *e, struct es_error *err)
{
	struct es_buf where;
	bson_iter_t it;
	const char *why;
	int rc = -1;

	es_buf_init(&where, 64);
	if (e->title == NULL) {
		es_problem_set(err, ES_PROB_MISSING_FIELD, NULL, 0, "missing 'title'");
		goto out;
	}
	if (check_string(e->title, (uint32_t)strlen(e->title), "title",
	    err) == -1 || (e->area && check_string(e->area,
	    (uint32_t)strlen(e->area), "area", err) == -1))
		goto out;
	if (e->extra == NULL || !bson_iter_init(&it, e->extra)) {
		rc = 0;
		goto out;
	}
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		size_t klen = bson_iter_key_len(&it);
		char w[128];

		where_of(k, klen, w, sizeof(w));
		if (!es_yaml_value_key_ok(k, klen, &why)) {
			es_problem_set(err, ES_PROB_BAD_VALUE, NULL, 0, "key %s %s", w,
			    why);
			goto out;
		}
		if (check_string(k, (uint32_t)klen, w, err) == -1)
			goto out;
		if (known(e->kind, k, klen) != K_NONE) {
			es_problem_set(err, ES_PROB_BAD_VALUE, NULL, 0,
			    "key %s has the name of a field", w);
			goto out;
		}
		es_buf_reset(&where);
		es_buf_addstr(&where, w);
		if (check_value(&it, false, &where, 0, err) == -1)
			goto out;
	}
	rc = 0;
out:
	es_buf_release(&where);
	return rc;
}

/* Update ---------------------------------------------------------------- */

/* The area folder of a project file: rel's parent directory name. */
static char *
area_dir_of(const char *rel)
{
	const char *slash, *start;

	if (rel == NULL || (slash = strrchr(rel, '/')) == NULL)
		return NULL;
	start = slash;
	while (start > rel && start[-1] != '/')
		start--;
	if (start == slash)
		return NULL;
	return es_xstrndup(start, (size_t)(slash - start));
}

static bool
str_same(const char *a, size_t alen, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strlen(b) == alen && memcmp(a, b, alen) == 0;
}

/* Whether the old value v of known key k already means e's value. */
static bool
known_same(const struct kval *v, const struct es_entity *e, enum kk k,
    const char *area_dir)
{
	const char *s = NULL;
	size_t len = 0;

	if (v->st == KV_BAD)
		return false;
	if (v->st == KV_OK) {
		s = v->s;
		len = v->len;
	} else if (k == K_AREA && e->kind == ES_KIND_PROJECT && area_dir) {
		s = area_dir;
		len = strlen(area_dir);
	}
	switch (k) {
	case K_AREA:
		return str_same(s, len, e->area);
	case K_TITLE:
		return str_same(s, len, e->title);
	case K_TYPE:
		return (v->st == KV_OK ? v->t : ES_PTYPE_NONE) == e->type;
	default:
		return (v->st == KV_OK ? v->d : ES_DATE_NONE) == date_of(e, k);
	}
}

static bool
find_str(const struct es_frontmatter *fm, const char *name, size_t *i)
{
	return es_frontmatter_find(fm, name, strlen(name), i);
}

/* Known key k is missing from fm: insert it at its canonical place. */
static void
insert_known(struct es_frontmatter *fm, const struct es_entity *e, enum kk k,
    const char *value, size_t vlen)
{
	const enum kk *keys;
	size_t n, pos = 0, i;
	bson_iter_t it;

	keys = keys_of(e->kind, &n);
	while (pos < n && keys[pos] != k)
		pos++;
	for (size_t j = pos; j-- > 0; )
		if (find_str(fm, knames[keys[j]], &i)) {
			es_frontmatter_insert(fm, ES_FM_AFTER, i, knames[k],
			    strlen(knames[k]), value, vlen);
			return;
		}
	for (size_t j = pos + 1; j < n; j++)
		if (find_str(fm, knames[keys[j]], &i)) {
			es_frontmatter_insert(fm, ES_FM_BEFORE, i, knames[k],
			    strlen(knames[k]), value, vlen);
			return;
		}
	if (e->extra && bson_iter_init(&it, e->extra))
		while (bson_iter_next(&it))
			if (es_frontmatter_find(fm, bson_iter_key(&it),
			    bson_iter_key_len(&it), &i)) {
				es_frontmatter_insert(fm, ES_FM_BEFORE, i,
				    knames[k], strlen(knames[k]), value, vlen);
				return;
			}
	es_frontmatter_insert(fm, ES_FM_END, 0, knames[k], strlen(knames[k]),
	    value, vlen);
}

/* Whether fm's key i holds the value at it. */
static bool
extra_same(const struct es_frontmatter *fm, size_t i, const bson_iter_t *it)
{
	const struct es_frontmatter_key *fk = es_frontmatter_key(fm, i);
	bson_t tmp = BSON_INITIALIZER;
	bson_iter_t ot;
	bool same = false;

	if (es_yaml_value_to_bson(&fk->value, &tmp, fk->name, fk->name_len,
	    NULL, NULL) == 0 &&
	    bson_iter_init_find_w_len(&ot, &tmp, fk->name, (int)fk->name_len))
		same = es_yaml_value_bson_equal(&ot, it);
	bson_destroy(&tmp);
	return same;
}

static void
update_known(struct es_frontmatter *fm, const struct es_entity *e,
    const char *area_dir, struct es_buf *val)
{
	const enum kk *keys;
	size_t n, i;

	keys = keys_of(e->kind, &n);
	for (size_t j = 0; j < n; j++) {
		enum kk k = keys[j];
		bool has_new;
		struct kval v;

		es_buf_reset(val);
		has_new = render_known(e, k, val);
		if (find_str(fm, knames[k], &i)) {
			read_known(es_frontmatter_key(fm, i), k, &v, NULL,
			    NULL);
			if (known_same(&v, e, k, area_dir))
				continue;
			if (has_new)
				es_frontmatter_replace(fm, i, val->buf,
				    val->len);
			else
				es_frontmatter_remove(fm, i);
		} else {
			memset(&v, 0, sizeof(v));
			v.st = KV_ABSENT;
			if (known_same(&v, e, k, area_dir) || !has_new)
				continue;
			insert_known(fm, e, k, val->buf, val->len);
		}
	}
}

/*
 * Extra keys: old ones e lacks go, changed ones are rewritten, missing ones
 * are inserted after the previous extra key, and keys out of e's order are
 * moved (verbatim) after the previous one, so the file's order, which is
 * extra's order (SPEC §2), matches e.
 */
static void
update_extra(struct es_frontmatter *fm, const struct es_entity *e,
    struct es_buf *val)
{
	const enum kk *keys;
	bson_t empty = BSON_INITIALIZER;
	const bson_t *extra = e->extra ? e->extra : &empty;
	bson_iter_t it;
	size_t n, i, cur = 0;
	bool have_cur = false, *kept;

	/* The keys of fm that extra has: each of extra's keys looked up in
	 * fm (O(log n)), not each of fm's in extra (a walk of extra). */
	n = es_frontmatter_nkeys(fm);
	kept = es_xcalloc(n ? n : 1, sizeof(*kept));
	if (bson_iter_init(&it, extra))
		while (bson_iter_next(&it))
			if (es_frontmatter_find(fm, bson_iter_key(&it),
			    bson_iter_key_len(&it), &i))
				kept[i] = true;
	for (i = n; i-- > 0; ) {
		const struct es_frontmatter_key *fk = es_frontmatter_key(fm, i);

		if (known(e->kind, fk->name, fk->name_len) == K_NONE &&
		    !kept[i])
			es_frontmatter_remove(fm, i);
	}
	free(kept);
	if (!bson_iter_init(&it, extra))
		return;
	keys = keys_of(e->kind, &n);
	while (bson_iter_next(&it)) {
		const char *k = bson_iter_key(&it);
		size_t klen = bson_iter_key_len(&it);

		if (known(e->kind, k, klen) != K_NONE)
			continue;
		es_buf_reset(val);
		render_extra_value(&it, val);
		if (es_frontmatter_find(fm, k, klen, &i)) {
			if (!extra_same(fm, i, &it))
				es_frontmatter_replace(fm, i, val->buf,
				    val->len);
			if (have_cur && i < cur)
				es_frontmatter_move(fm, i, ES_FM_AFTER, cur);
		} else if (have_cur) {
			es_frontmatter_insert(fm, ES_FM_AFTER, cur, k, klen,
			    val->buf, val->len);
		} else {
			/* The first extra key: after the known keys. */
			size_t j = n, a = 0;
			bool found = false;

			while (j-- > 0 && !found)
				found = find_str(fm, knames[keys[j]], &a);
			if (found)
				es_frontmatter_insert(fm, ES_FM_AFTER, a, k,
				    klen, val->buf, val->len);
			else if (es_frontmatter_nkeys(fm) > 0)
				es_frontmatter_insert(fm, ES_FM_BEFORE, 0, k,
				    klen, val->buf, val->len);
			else
				es_frontmatter_insert(fm, ES_FM_END, 0, k,
				    klen, val->buf, val->len);
		}
		es_frontmatter_find(fm, k, klen, &cur);
		have_cur = true;
	}
}

int
es_entity_file_update(const char *old, size_t old_len, const char *rel,
    const struct es_entity *e, struct es_buf *out, struct es_error *err)
{
	struct es_frontmatter *fm = NULL;
	struct es_buf val;
	char *area_dir = NULL;
	const char *body;
	size_t blen;
	int rc = -1;

	es_buf_init(&val, 64);
	if (es_entity_file_check(e, err) == -1) {
		if (err)
			snprintf(err->path, sizeof(err->path), "%s",
			    rel ? rel : "");
		goto out;
	}
	fm = es_frontmatter_parse(old, old_len, rel, err);
	if (fm == NULL)
		goto out;
	if (e->kind == ES_KIND_PROJECT)
		area_dir = area_dir_of(rel);
	update_known(fm, e, area_dir, &val);
	update_extra(fm, e, &val);
	body = es_frontmatter_body(fm, &blen);
	if (blen != e->content_len || memcmp(body, e->content, blen) != 0)
		es_frontmatter_set_body(fm, e->content, e->content_len);
	if (es_frontmatter_edited(fm))
		es_frontmatter_render(fm, out);
	else
		es_buf_add(out, old, old_len);
	rc = 0;
out:
	free(area_dir);
	es_buf_release(&val);
	es_frontmatter_free(fm);
	return rc;
}
