/*
 * Private to the line matcher (action-match.c: records, rounds 1-5 and 8,
 * the entry point; action-match-diff.c: round 0; action-match-similar.c:
 * rounds 6-7): the matcher's state and the small helpers every round uses.
 */
#ifndef EXECSYNC_ACTION_MATCH_INTERNAL_H
#define EXECSYNC_ACTION_MATCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "execsync/fingerprint.h"
#include "execsync/xmalloc.h"

#include "hmap.h"

#define NONE		SIZE_MAX
/* Words of a line compared for similarity: bounds the word LCS table. */
#define MAXWORDS	256
/*
 * The diff's bisection gives up beyond this many steps from each end (about
 * twice as many edits in one region). Bounds the cost of a list reordered
 * wholesale; rounds 1 and 3 still pair the moved lines.
 */
#define LCS_MAXD	1024
/* Hunks up to this many line pairs compare every pair in round 6... */
#define HUNK_ALL	4096
/* ...larger ones only pairs this far from their relative place. */
#define HUNK_WINDOW	16

struct word {
	const char	*p;
	size_t		 len;
	uint64_t	 h;
};

struct rec {
	const char	*line;
	size_t		 len;
	const char	*text;		/* the action's text, else the line */
	size_t		 tlen;
	size_t		 list;		/* rank of its path among all paths */
	uint32_t	 pos;
	size_t		 in;		/* index in the caller's array */
	size_t		 mate;		/* index in the other side, or NONE */
	size_t		 hunk;		/* 0 when round 0 paired it */
	uint64_t	 hline, htext;
	bool		 has_hline, has_htext, split;
	size_t		 w0, nw;	/* words[w0 .. w0 + nw) once split */
};

struct range {
	size_t		 b0, b1;	/* in ctx.b */
	size_t		 n0, n1;	/* in ctx.n */
};

struct ctx {
	struct rec	*b, *n;
	size_t		 nb, nn;
	struct range	*lists;
	size_t		 nlists;
	struct range	*hunks;		/* hunks[0] unused: 0 means none */
	size_t		 nhunks, ahunks;
	size_t		*cb, *cn;	/* candidates: unpaired after round 0 */
	size_t		 ncb, ncn;
	struct word	*words;
	size_t		 nwords, awords;
};

/* splitmix64's finaliser: spreads small integer keys over the table. */
static inline uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static inline bool
bytes_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static inline bool
line_eq(const struct rec *a, const struct rec *b)
{
	if (a->has_hline && b->has_hline && a->hline != b->hline)
		return false;
	return bytes_eq(a->line, a->len, b->line, b->len);
}

static inline bool
text_eq(const struct rec *a, const struct rec *b)
{
	return bytes_eq(a->text, a->tlen, b->text, b->tlen);
}

static inline uint64_t
rec_hline(struct rec *r)
{
	if (!r->has_hline) {
		r->hline = es_fp_bytes(r->line, r->len);
		r->has_hline = true;
	}
	return r->hline;
}

static inline uint64_t
rec_htext(struct rec *r)
{
	if (!r->has_htext) {
		r->htext = es_fp_bytes(r->text, r->tlen);
		r->has_htext = true;
	}
	return r->htext;
}

static inline void
pair(struct ctx *c, size_t bi, size_t ni)
{
	c->b[bi].mate = ni;
	c->n[ni].mate = bi;
}

static inline size_t
hunk_new(struct ctx *c)
{
	if (c->nhunks == c->ahunks) {
		c->ahunks = c->ahunks ? c->ahunks * 2 : 16;
		c->hunks = es_xreallocarray(c->hunks, c->ahunks,
		    sizeof(*c->hunks));
	}
	return c->nhunks++;
}

/*
 * Round 0 on one list: the common head and tail, then Myers' diff of the
 * middle; what it leaves unpaired becomes hunks (c->hunks).
 */
void	es__am_diff_list(struct ctx *c, const struct range *l);
/* Round 6: similar texts within each hunk. */
void	es__am_pair_similar_in_hunks(struct ctx *c);
/* Round 7: similar texts anywhere among the candidates. */
void	es__am_pair_similar_anywhere(struct ctx *c);

#endif
