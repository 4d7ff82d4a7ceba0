/*
 * The oracle (issue 17 item 3): every token a user wrote, the step that
 * wrote it, and whether a later user write removed it knowingly (it
 * read the content holding it and wrote content without it, or deleted
 * the entity). The user's steps that feed it are in sim-user.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/xmalloc.h"

#include "sim-hist.h"

void
sim_oracle_init(struct sim_oracle *o)
{
	memset(o, 0, sizeof(*o));
}

void
sim_oracle_release(struct sim_oracle *o)
{
	free(o->t);
	free(o->ids);
	memset(o, 0, sizeof(*o));
}

uint32_t
sim_oracle_new(struct sim_oracle *o, size_t step, enum es_kind kind,
    unsigned flags, const char *where, char tok[SIM_TOKEN_LEN + 1])
{
	struct sim_token *t;
	uint32_t id;

	if (o->n == o->alloc) {
		o->alloc = o->alloc ? o->alloc * 2 : 64;
		o->t = es_xreallocarray(o->t, o->alloc, sizeof(*o->t));
	}
	id = (uint32_t)o->n;
	t = &o->t[o->n++];
	memset(t, 0, sizeof(*t));
	t->step = (uint32_t)step;
	t->kind = (uint8_t)kind;
	t->flags = (uint8_t)flags;
	snprintf(t->where, sizeof(t->where), "%s", where);
	snprintf(tok, SIM_TOKEN_LEN + 1, "w%06uw", (unsigned)(id % 1000000));
	return id;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

void
sim_oracle_tokens(struct sim_oracle *o, const char *p, size_t len)
{
	const char *end = p + len, *q = p;

	o->nids = 0;
	while (q + SIM_TOKEN_LEN <= end) {
		const char *w = memchr(q, 'w', (size_t)(end - q) -
		    (SIM_TOKEN_LEN - 1));
		uint32_t id = 0;
		int k;

		if (w == NULL)
			break;
		for (k = 1; k <= 6 && is_digit(w[k]); k++)
			id = id * 10 + (uint32_t)(w[k] - '0');
		/* "-w000123w" is a slug's (proj-w000123w): not a token */
		if (k == 7 && w[7] == 'w' && (w == p || w[-1] != '-')) {
			if (o->nids == o->idsalloc) {
				o->idsalloc = o->idsalloc ? o->idsalloc * 2 :
				    64;
				o->ids = es_xreallocarray(o->ids, o->idsalloc,
				    sizeof(*o->ids));
			}
			o->ids[o->nids++] = id;
			q = w + SIM_TOKEN_LEN;
		} else
			q = w + 1;
	}
}

/*
 * A user wrote new over old, having read old: a token with fewer copies
 * in new than in old was replaced knowingly. By copies, not presence: a
 * crash can leave an action's line twice (never nowhere), and the users
 * who then edit each copy, one at a time while the other still stands,
 * replace the token knowingly as well (seed 659679).
 */
/* The i-th token found, its copies counted afresh in epoch e; NULL: none. */
static struct sim_token *
token_in(struct sim_oracle *o, size_t i, uint32_t e)
{
	struct sim_token *t;

	if (o->ids[i] >= o->n)
		return NULL;
	t = &o->t[o->ids[i]];
	if (t->mark != e) {
		t->mark = e;
		t->copies = 0;
	}
	return t;
}

void
sim_oracle_replace(struct sim_oracle *o, const char *old, size_t oldlen,
    const char *new, size_t newlen)
{
	uint32_t e = ++o->epoch;
	struct sim_token *t;

	if (new != NULL) {
		sim_oracle_tokens(o, new, newlen);
		for (size_t i = 0; i < o->nids; i++)
			if ((t = token_in(o, i, e)) != NULL)
				t->copies++;
	}
	if (old == NULL)
		return;
	sim_oracle_tokens(o, old, oldlen);
	for (size_t i = 0; i < o->nids; i++) {
		if ((t = token_in(o, i, e)) == NULL)
			continue;
		if (t->copies == 0)
			t->flags |= SIM_TOK_SUPERSEDED;
		else
			t->copies--;
	}
}

void
sim_oracle_delete(struct sim_oracle *o, size_t step, enum es_kind kind,
    const char *old, size_t oldlen)
{
	o->deleted_at[kind] = (uint32_t)step + 1;
	sim_oracle_replace(o, old, oldlen, NULL, 0);
}

void
sim_oracle_scan(struct sim_oracle *o, const char *p, size_t len,
    unsigned flag)
{
	sim_oracle_tokens(o, p, len);
	for (size_t i = 0; i < o->nids; i++)
		if (o->ids[i] < o->n)
			o->t[o->ids[i]].flags |= (uint8_t)flag;
}

/* Every string of doc but its slug (derived from a title, kept stale). */
static void
scan_iter(struct sim_oracle *o, bson_iter_t *it, unsigned flag, bool top)
{
	while (bson_iter_next(it)) {
		bson_iter_t child;

		if (top && strcmp(bson_iter_key(it), "slug") == 0)
			continue;
		if (BSON_ITER_HOLDS_UTF8(it)) {
			uint32_t len;
			const char *s = bson_iter_utf8(it, &len);

			sim_oracle_scan(o, s, len, flag);
		} else if ((BSON_ITER_HOLDS_DOCUMENT(it) ||
		    BSON_ITER_HOLDS_ARRAY(it)) && bson_iter_recurse(it, &child))
			scan_iter(o, &child, flag, false);
	}
}

void
sim_oracle_scan_doc(struct sim_oracle *o, const bson_t *doc, unsigned flag)
{
	bson_iter_t it;

	if (bson_iter_init(&it, doc))
		scan_iter(o, &it, flag, true);
}

size_t
sim_oracle_verdict(const struct sim_oracle *o, bool cas_ferretdb,
    size_t *ferretdb, char *why, size_t whysize)
{
	size_t lost = 0;

	*ferretdb = 0;
	for (size_t i = 0; i < o->n; i++) {
		const struct sim_token *t = &o->t[i];

		if (t->flags & (SIM_TOK_SUPERSEDED | SIM_TOK_FOUND))
			continue;
		/* In the trash: fine when a user deleted such an entity. */
		if ((t->flags & SIM_TOK_FOUND_TRASH) &&
		    o->deleted_at[t->kind] > t->step)
			continue;
		if (cas_ferretdb && (t->flags & SIM_TOK_RACE)) {
			(*ferretdb)++;
			continue;
		}
		if (lost++ == 0)
			snprintf(why, whysize, "lost edit: token w%06zuw "
			    "(%s, step %u) is nowhere: not in a synced file "
			    "or document, not in .execsync/conflicts/ nor "
			    "sync_conflicts%s", i % 1000000, t->where,
			    (unsigned)t->step, (t->flags &
			    SIM_TOK_FOUND_TRASH) ? " (only in the trash, and "
			    "no user deleted it)" : ", nor the trash");
	}
	return lost;
}
