#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "execsync/entity.h"
#include "execsync/fingerprint.h"
#include "execsync/xmalloc.h"

static void
meta_init(struct es_meta *m)
{
	memset(m, 0, sizeof(*m));
}

void
es_entity_init(struct es_entity *e, enum es_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	meta_init(&e->meta);
	e->created = e->started = e->last_reviewed = ES_DATE_NONE;
	e->due = e->completed = e->descoped = ES_DATE_NONE;
	e->content = es_xstrdup("");
	e->extra = bson_new();
}

void
es_entity_release(struct es_entity *e)
{
	free(e->title);
	free(e->slug);
	free(e->area);
	free(e->content);
	if (e->extra)
		bson_destroy(e->extra);
	memset(e, 0, sizeof(*e));
}

static char *
dup_or_null(const char *s)
{
	return s ? es_xstrdup(s) : NULL;
}

void
es_entity_copy(struct es_entity *dst, const struct es_entity *src)
{
	*dst = *src;
	dst->title = dup_or_null(src->title);
	dst->slug = dup_or_null(src->slug);
	dst->area = dup_or_null(src->area);
	dst->content = es_xmemdup(src->content, src->content_len);
	dst->extra = bson_copy(src->extra);
}

void
es_entity_set_content(struct es_entity *e, const char *p, size_t len)
{
	free(e->content);
	e->content = es_xmemdup(p, len);
	e->content_len = len;
}

bool
es_str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
bson_eq(const bson_t *a, const bson_t *b)
{
	return a->len == b->len &&
	    memcmp(bson_get_data(a), bson_get_data(b), a->len) == 0;
}

unsigned
es_entity_diff(const struct es_entity *a, const struct es_entity *b)
{
	unsigned d = 0;

	if (!es_str_eq(a->title, b->title))
		d |= ES_F_TITLE;
	if (!es_str_eq(a->slug, b->slug))
		d |= ES_F_SLUG;
	if (!es_str_eq(a->area, b->area))
		d |= ES_F_AREA;
	if (a->folder != b->folder)
		d |= ES_F_FOLDER;
	if (a->type != b->type)
		d |= ES_F_TYPE;
	if (a->created != b->created)
		d |= ES_F_CREATED;
	if (a->started != b->started)
		d |= ES_F_STARTED;
	if (a->last_reviewed != b->last_reviewed)
		d |= ES_F_LAST_REVIEWED;
	if (a->due != b->due)
		d |= ES_F_DUE;
	if (a->completed != b->completed)
		d |= ES_F_COMPLETED;
	if (a->descoped != b->descoped)
		d |= ES_F_DESCOPED;
	if (a->content_len != b->content_len ||
	    memcmp(a->content, b->content, a->content_len) != 0)
		d |= ES_F_CONTENT;
	if (!bson_eq(a->extra, b->extra))
		d |= ES_F_EXTRA;
	return d;
}

void
es_action_init(struct es_action *a)
{
	memset(a, 0, sizeof(*a));
	meta_init(&a->meta);
	a->due = a->defer = a->action_date = a->completed = ES_DATE_NONE;
}

void
es_action_release(struct es_action *a)
{
	free(a->text);
	free(a->context);
	free(a->project_slug);
	memset(a, 0, sizeof(*a));
}

void
es_action_copy(struct es_action *dst, const struct es_action *src)
{
	*dst = *src;
	dst->text = dup_or_null(src->text);
	dst->context = dup_or_null(src->context);
	dst->project_slug = dup_or_null(src->project_slug);
}

unsigned
es_action_diff(const struct es_action *a, const struct es_action *b)
{
	unsigned d = 0;

	if (!es_str_eq(a->text, b->text))
		d |= ES_F_TEXT;
	if (!es_str_eq(a->context, b->context))
		d |= ES_F_CONTEXT;
	if (!es_str_eq(a->project_slug, b->project_slug))
		d |= ES_F_PROJECT;
	if (a->state != b->state)
		d |= ES_F_STATE;
	if (a->due != b->due)
		d |= ES_F_DUE;
	if (a->defer != b->defer)
		d |= ES_F_DEFER;
	if (a->action_date != b->action_date)
		d |= ES_F_ACTION_DATE;
	if (a->completed != b->completed)
		d |= ES_F_COMPLETED;
	if (a->priority != b->priority)
		d |= ES_F_PRIORITY;
	return d;
}

static const char *const collections[] = { "projects", "goals", "actions" };
static const char *const folders[] = { NULL, "active", "incubator",
    "completed", "descoped" };
static const char *const ptypes[] = { NULL, "standard", "coordination",
    "habit", "goal" };
static const char *const states[] = { NULL, "next", "waiting", "deferred",
    "incubating", "completed" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *
es_kind_collection(enum es_kind k)
{
	return (size_t)k < NELEM(collections) ? collections[k] : NULL;
}

const char *
es_folder_name(enum es_folder f)
{
	return (size_t)f < NELEM(folders) ? folders[f] : NULL;
}

const char *
es_ptype_name(enum es_ptype t)
{
	return (size_t)t < NELEM(ptypes) ? ptypes[t] : NULL;
}

const char *
es_state_name(enum es_state s)
{
	return (size_t)s < NELEM(states) ? states[s] : NULL;
}

static int
lookup(const char *const *names, size_t n, const char *s, size_t len)
{
	for (size_t i = 1; i < n; i++)
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return (int)i;
	return -1;
}

bool
es_folder_parse(const char *s, size_t len, enum es_folder *out)
{
	int i = lookup(folders, NELEM(folders), s, len);

	if (i < 0)
		return false;
	*out = (enum es_folder)i;
	return true;
}

bool
es_ptype_parse(const char *s, size_t len, enum es_ptype *out)
{
	int i = lookup(ptypes, NELEM(ptypes), s, len);

	if (i < 0)
		return false;
	*out = (enum es_ptype)i;
	return true;
}

bool
es_state_parse(const char *s, size_t len, enum es_state *out)
{
	int i = lookup(states, NELEM(states), s, len);

	if (i < 0)
		return false;
	*out = (enum es_state)i;
	return true;
}

/*
 * Fingerprints of meaning: every field in a fixed order, each with a tag and
 * a length, so no two different entities serialise alike. The small fields
 * are serialised into one stack buffer and hashed in one call (XXH3's
 * streaming API costs more than the hashing for inputs this small); a body
 * and the extra document are chained in with the previous hash as the seed.
 */
struct fpbuf {
	unsigned char	 b[1024];
	size_t		 len;
	XXH64_hash_t	 seed;
};

static void
fp_flush(struct fpbuf *f)
{
	f->seed = XXH3_64bits_withSeed(f->b, f->len, f->seed);
	f->len = 0;
}

static void
fp_put(struct fpbuf *f, const void *p, size_t len)
{
	if (len > sizeof(f->b) - f->len) {
		fp_flush(f);
		if (len > sizeof(f->b)) {
			f->seed = XXH3_64bits_withSeed(p, len, f->seed);
			return;
		}
	}
	memcpy(f->b + f->len, p, len);
	f->len += len;
}

static void
fp_str(struct fpbuf *f, char tag, const char *s, size_t len)
{
	uint64_t n = s ? (uint64_t)len : UINT64_MAX;

	fp_put(f, &tag, 1);
	fp_put(f, &n, sizeof(n));
	if (s && len)
		fp_put(f, s, len);
}

static void
fp_cstr(struct fpbuf *f, char tag, const char *s)
{
	fp_str(f, tag, s, s ? strlen(s) : 0);
}

static void
fp_int(struct fpbuf *f, char tag, int64_t v)
{
	fp_put(f, &tag, 1);
	fp_put(f, &v, sizeof(v));
}

es_fp_t
es_fp_bytes(const void *p, size_t len)
{
	return XXH3_64bits(p, len);
}

es_fp_t
es_entity_fingerprint(const struct es_entity *e)
{
	struct fpbuf f = { .len = 0, .seed = 0 };

	fp_int(&f, 'k', e->kind);
	fp_cstr(&f, 't', e->title);
	fp_cstr(&f, 's', e->slug);
	fp_cstr(&f, 'a', e->area);
	fp_int(&f, 'f', e->folder);
	fp_int(&f, 'y', e->type);
	fp_int(&f, '1', e->created);
	fp_int(&f, '2', e->started);
	fp_int(&f, '3', e->last_reviewed);
	fp_int(&f, '4', e->due);
	fp_int(&f, '5', e->completed);
	fp_int(&f, '6', e->descoped);
	fp_str(&f, 'c', e->content, e->content_len);
	fp_str(&f, 'x', (const char *)bson_get_data(e->extra), e->extra->len);
	fp_flush(&f);
	return f.seed;
}

es_fp_t
es_action_fingerprint(const struct es_action *a)
{
	struct fpbuf f = { .len = 0, .seed = 0 };

	fp_int(&f, 'k', ES_KIND_ACTION);
	fp_cstr(&f, 't', a->text);
	fp_cstr(&f, 'c', a->context);
	fp_cstr(&f, 'p', a->project_slug);
	fp_int(&f, 's', a->state);
	fp_int(&f, '4', a->due);
	fp_int(&f, '7', a->defer);
	fp_int(&f, '8', a->action_date);
	fp_int(&f, '5', a->completed);
	fp_int(&f, 'r', a->priority);
	fp_flush(&f);
	return f.seed;
}

void
es_fp_hex(es_fp_t fp, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)fp);
}

enum es_state
es_list_state(enum es_list_kind k)
{
	switch (k) {
	case ES_LIST_CONTEXT:		return ES_STATE_NEXT;
	case ES_LIST_WAITING:		return ES_STATE_WAITING;
	case ES_LIST_DEFERRED:		return ES_STATE_DEFERRED;
	case ES_LIST_INCUBATING:	return ES_STATE_INCUBATING;
	case ES_LIST_COMPLETED:		return ES_STATE_COMPLETED;
	case ES_LIST_NONE:		break;
	}
	return ES_STATE_NONE;
}
