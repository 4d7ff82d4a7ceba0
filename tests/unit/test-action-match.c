/*
 * The line matcher of the sync engine (SPEC §2 "Action list files": lines
 * carry no identifiers, an edited line is the same document, a line moved
 * between lists is one document changing state; §4 rules 5, 7, 17).
 *
 * Scenarios are written as "<list letter>:<line>" (m: contexts/@macbook.md,
 * p: contexts/@phone.md, w: @waiting.md, d: @deferred.md, c: completed.md)
 * and the expected result as one word per current line, in order, with the
 * baseline line it came from ("same b0", "moved b2", "new"), then
 * "removed bN" for each baseline line left over. Every scenario is also run
 * with both inputs reversed and must give the same pairs (determinism).
 */
#include "es-test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "execsync/action-line.h"
#include "execsync/action-list.h"
#include "execsync/action-match.h"
#include "execsync/buf.h"
#include "execsync/xmalloc.h"

static const struct {
	char		 letter;
	const char	*rel;
	enum es_list_kind kind;
	const char	*context;
} lists[] = {
	{ 'm', "00k-next-actions/contexts/@macbook.md", ES_LIST_CONTEXT,
	    "@macbook" },
	{ 'p', "00k-next-actions/contexts/@phone.md", ES_LIST_CONTEXT,
	    "@phone" },
	{ 'w', "00k-next-actions/@waiting.md", ES_LIST_WAITING, NULL },
	{ 'd', "00k-next-actions/@deferred.md", ES_LIST_DEFERRED, NULL },
	{ 'c', "00k-next-actions/completed.md", ES_LIST_COMPLETED, NULL },
};
#define NLISTS	(sizeof(lists) / sizeof(lists[0]))

static size_t
list_of(char letter)
{
	for (size_t i = 0; i < NLISTS; i++) {
		if (lists[i].letter == letter)
			return i;
	}
	fail_msg("unknown list letter '%c'", letter);
	return 0;
}

/* Both sides of one run; lines and actions owned. */
struct fx {
	struct es_match_base *base;
	struct es_match_line *now;
	struct es_action *bact, *nact;
	size_t		 nbase, nnow, abase, anow;
	struct es_match	*out;
	size_t		 nout;
};

static void
fx_add(struct fx *f, bool is_base, size_t list, const char *line,
    size_t len, uint32_t pos)
{
	struct es_action a;
	struct es_error err;
	char *copy = es_xmemdup(line, len);
	int rc;

	es_action_init(&a);
	rc = es_action_line_parse(copy, len, lists[list].kind,
	    lists[list].context, &a, NULL, &err);
	if (rc != 1)
		fail_msg("not an action line: '%.*s' (%s)", (int)len, line,
		    rc < 0 ? err.msg : "note");
	if (is_base) {
		struct es_match_base *b;

		if (f->nbase == f->abase) {
			f->abase = f->abase ? f->abase * 2 : 16;
			f->base = es_xreallocarray(f->base, f->abase,
			    sizeof(*f->base));
			f->bact = es_xreallocarray(f->bact, f->abase,
			    sizeof(*f->bact));
		}
		b = &f->base[f->nbase];
		memset(b, 0, sizeof(*b));
		b->rel = lists[list].rel;
		b->pos = pos;
		b->line = copy;
		b->line_len = len;
		f->bact[f->nbase++] = a;
	} else {
		struct es_match_line *n;

		if (f->nnow == f->anow) {
			f->anow = f->anow ? f->anow * 2 : 16;
			f->now = es_xreallocarray(f->now, f->anow,
			    sizeof(*f->now));
			f->nact = es_xreallocarray(f->nact, f->anow,
			    sizeof(*f->nact));
		}
		n = &f->now[f->nnow];
		memset(n, 0, sizeof(*n));
		n->rel = lists[list].rel;
		n->pos = pos;
		n->line = copy;
		n->line_len = len;
		f->nact[f->nnow++] = a;
	}
}

static void
fx_release(struct fx *f)
{
	for (size_t i = 0; i < f->nbase; i++) {
		free((char *)f->base[i].line);
		es_action_release(&f->bact[i]);
	}
	for (size_t i = 0; i < f->nnow; i++) {
		free((char *)f->now[i].line);
		es_action_release(&f->nact[i]);
	}
	free(f->base);
	free(f->now);
	free(f->bact);
	free(f->nact);
	free(f->out);
	memset(f, 0, sizeof(*f));
}

static bool
same_bytes(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

/*
 * What must hold for any input: one entry per current line in order, then
 * the REMOVED ones; every baseline line exactly once; the kind agrees with
 * the pair.
 */
static void
check_invariants(const struct es_match_base *base, size_t nbase,
    const struct es_match_line *now, size_t nnow,
    const struct es_match *out, size_t nout)
{
	bool *seen = es_xcalloc(nbase + 1, sizeof(*seen));
	size_t nremoved = 0;

	assert_non_null(out);
	assert_true(nout >= nnow);
	for (size_t i = 0; i < nout; i++) {
		const struct es_match *m = &out[i];
		const char *br, *nr;

		if (i < nnow) {
			assert_ptr_equal(m->now, &now[i]);
		} else {
			assert_int_equal(m->kind, ES_MATCH_REMOVED);
			assert_null(m->now);
			nremoved++;
		}
		if (m->base == NULL) {
			assert_int_equal(m->kind, ES_MATCH_NEW);
			continue;
		}
		assert_true(m->base >= base && m->base < base + nbase);
		assert_false(seen[m->base - base]);
		seen[m->base - base] = true;
		if (m->kind == ES_MATCH_REMOVED)
			continue;
		br = m->base->rel ? m->base->rel : "";
		nr = m->now->rel ? m->now->rel : "";
		if (strcmp(br, nr) != 0)
			assert_int_equal(m->kind, ES_MATCH_MOVED);
		else if (same_bytes(m->base->line ? m->base->line : "",
		    m->base->line ? m->base->line_len : 0,
		    m->now->line ? m->now->line : "",
		    m->now->line ? m->now->line_len : 0))
			assert_int_equal(m->kind, ES_MATCH_SAME);
		else
			assert_int_equal(m->kind, ES_MATCH_EDITED);
	}
	for (size_t i = 0; i < nbase; i++)
		assert_true(seen[i]);
	assert_int_equal(nout, nnow + nremoved);
	free(seen);
}

static void
fx_run(struct fx *f)
{
	/* Actions by index: the arrays are final now. */
	for (size_t i = 0; i < f->nbase; i++)
		f->base[i].action = &f->bact[i];
	for (size_t i = 0; i < f->nnow; i++)
		f->now[i].action = &f->nact[i];
	free(f->out);
	es_action_match(f->base, f->nbase, f->now, f->nnow, &f->out, &f->nout);
	check_invariants(f->base, f->nbase, f->now, f->nnow, f->out, f->nout);
}

/* "same b0, new, removed b2" */
static char *
fx_result(const struct fx *f)
{
	struct es_buf b;

	es_buf_init(&b, 64);
	for (size_t i = 0; i < f->nout; i++) {
		const struct es_match *m = &f->out[i];

		if (i > 0)
			es_buf_addstr(&b, ", ");
		es_buf_addstr(&b, es_match_kind_name(m->kind));
		if (m->base != NULL)
			es_buf_addf(&b, " b%zu", (size_t)(m->base - f->base));
	}
	return es_buf_detach(&b, NULL);
}

static int
str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The pairs by (list, position), sorted: comparable across input orders. */
static char *
fx_pairs(const struct fx *f)
{
	char **v = es_xreallocarray(NULL, f->nout + 1, sizeof(*v));
	struct es_buf b;

	for (size_t i = 0; i < f->nout; i++) {
		const struct es_match *m = &f->out[i];

		if (m->now == NULL)
			v[i] = es_xasprintf("removed %s:%u", m->base->rel,
			    m->base->pos);
		else if (m->base == NULL)
			v[i] = es_xasprintf("%s:%u new", m->now->rel,
			    m->now->pos);
		else
			v[i] = es_xasprintf("%s:%u %s %s:%u", m->now->rel,
			    m->now->pos, es_match_kind_name(m->kind),
			    m->base->rel, m->base->pos);
	}
	qsort(v, f->nout, sizeof(*v), str_ptr_cmp);
	es_buf_init(&b, 256);
	for (size_t i = 0; i < f->nout; i++) {
		es_buf_addstr(&b, v[i]);
		es_buf_addch(&b, '\n');
		free(v[i]);
	}
	free(v);
	return es_buf_detach(&b, NULL);
}

#define MAXSC	16

struct scenario {
	const char	*base[MAXSC];
	const char	*now[MAXSC];
	const char	*want;
};

/* Adds "<letter>:<line>" entries, positions counted per list. */
static void
fx_add_all(struct fx *f, bool is_base, const char *const *lines,
    bool reversed)
{
	uint32_t count[NLISTS] = { 0 }, pos[MAXSC];
	size_t idx[MAXSC], n = 0;

	for (n = 0; n < MAXSC && lines[n] != NULL; n++) {
		size_t l = list_of(lines[n][0]);

		assert_int_equal(lines[n][1], ':');
		idx[n] = l;
		pos[n] = count[l]++;
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = reversed ? n - 1 - k : k;

		fx_add(f, is_base, idx[i], lines[i] + 2, strlen(lines[i] + 2),
		    pos[i]);
	}
}

static void
run_scenario(const struct scenario *s)
{
	struct fx f, r;
	char *got, *pf, *pr;

	memset(&f, 0, sizeof(f));
	memset(&r, 0, sizeof(r));
	fx_add_all(&f, true, s->base, false);
	fx_add_all(&f, false, s->now, false);
	fx_run(&f);
	got = fx_result(&f);
	if (strcmp(got, s->want) != 0)
		fail_msg("want \"%s\"\n got \"%s\"", s->want, got);
	free(got);

	/* Determinism: the input's order must not matter. */
	fx_add_all(&r, true, s->base, true);
	fx_add_all(&r, false, s->now, true);
	fx_run(&r);
	pf = fx_pairs(&f);
	pr = fx_pairs(&r);
	if (strcmp(pf, pr) != 0)
		fail_msg("reversed input pairs differently:\n%s---\n%s", pf, pr);
	free(pf);
	free(pr);
	fx_release(&f);
	fx_release(&r);
}

#define SCENARIO(name, ...)						\
static void								\
name(void **state)							\
{									\
	static const struct scenario s = __VA_ARGS__;			\
	(void)state;							\
	run_scenario(&s);						\
}

/* SPEC §4 rule 8: nothing changed, nothing to do. */
SCENARIO(test_identical_lists_are_same, {
	{ "m:- [ ] Refactor the auth module +api-redesign",
	  "m:- [ ] Buy milk", "w:- [ ] Reply from the bank",
	  "c:- [x] 2025-11-01 Old thing", NULL },
	{ "m:- [ ] Refactor the auth module +api-redesign",
	  "m:- [ ] Buy milk", "w:- [ ] Reply from the bank",
	  "c:- [x] 2025-11-01 Old thing", NULL },
	"same b0, same b1, same b2, same b3" })

/* SPEC §2: an edited line is an update of the same document. */
SCENARIO(test_due_added_in_place_is_edited, {
	{ "m:- [ ] Call mom", "m:- [ ] Buy milk", NULL },
	{ "m:- [ ] Call mom due:2025-11-15", "m:- [ ] Buy milk", NULL },
	"edited b0, same b1" })

/* SPEC §2: moved between lists is one document changing state. */
SCENARIO(test_line_moved_to_waiting_is_moved, {
	{ "m:- [ ] Call mom", "m:- [ ] Buy milk", "w:- [ ] Reply from Bob",
	  NULL },
	{ "m:- [ ] Buy milk", "w:- [ ] Reply from Bob", "w:- [ ] Call mom",
	  NULL },
	"same b1, same b2, moved b0" })

SCENARIO(test_line_moved_and_edited_is_moved, {
	{ "m:- [ ] Call mom", "m:- [ ] Buy milk", NULL },
	{ "m:- [ ] Buy milk", "w:- [ ] Call mom due:2025-11-20 +family", NULL },
	"same b1, moved b0" })

/* SPEC §2: completed.md holds "- [x] <date> <the original line>". */
SCENARIO(test_line_checked_off_into_completed_is_moved, {
	{ "m:- [ ] 2025-11-09 Refactor the auth module +api-redesign",
	  "m:- [ ] Buy milk", "c:- [x] 2025-11-01 Old thing", NULL },
	{ "m:- [ ] Buy milk", "c:- [x] 2025-11-01 Old thing",
	  "c:- [x] 2025-11-10 2025-11-09 Refactor the auth module @macbook "
	  "+api-redesign", NULL },
	"same b1, same b2, moved b0" })

/* SPEC §4 rule 5: a deleted line is a deleted document. */
SCENARIO(test_deleted_line_is_removed, {
	{ "m:- [ ] Call mom", "m:- [ ] Buy milk", "m:- [ ] Water plants",
	  NULL },
	{ "m:- [ ] Call mom", "m:- [ ] Water plants", NULL },
	"same b0, same b2, removed b1" })

SCENARIO(test_new_line_in_the_middle_is_new, {
	{ "m:- [ ] Call mom", "m:- [ ] Water plants", NULL },
	{ "m:- [ ] Call mom", "m:- [ ] Book the dentist", "m:- [ ] Water plants",
	  NULL },
	"same b0, new, same b1" })

SCENARIO(test_new_line_at_the_end_is_new, {
	{ "m:- [ ] Call mom", "m:- [ ] Water plants", NULL },
	{ "m:- [ ] Call mom", "m:- [ ] Water plants", "m:- [ ] Book the dentist",
	  NULL },
	"same b0, same b1, new" })

/*
 * Two identical lines, one removed: the diff keeps the pair that leaves the
 * rest in order, the same answer every time.
 */
SCENARIO(test_duplicate_lines_last_removed, {
	{ "m:- [ ] Call mom", "m:- [ ] Buy milk", "m:- [ ] Call mom", NULL },
	{ "m:- [ ] Call mom", "m:- [ ] Buy milk", NULL },
	"same b0, same b1, removed b2" })

SCENARIO(test_duplicate_lines_first_removed, {
	{ "m:- [ ] Call mom", "m:- [ ] Buy milk", "m:- [ ] Call mom", NULL },
	{ "m:- [ ] Buy milk", "m:- [ ] Call mom", NULL },
	"same b1, same b2, removed b0" })

SCENARIO(test_duplicate_lines_both_kept_in_order, {
	{ "m:- [ ] Call mom", "m:- [ ] Call mom", NULL },
	{ "m:- [ ] Call mom", "m:- [ ] Call mom", "m:- [ ] Call mom", NULL },
	"same b0, same b1, new" })

/*
 * A line moved within its list (decision, action-match.h round 1): the same
 * action at a new position, SAME; the engine records the new position.
 */
SCENARIO(test_reordered_line_is_same, {
	{ "m:- [ ] Alpha task", "m:- [ ] Bravo task", "m:- [ ] Charlie task",
	  "m:- [ ] Delta task", NULL },
	{ "m:- [ ] Delta task", "m:- [ ] Alpha task", "m:- [ ] Bravo task",
	  "m:- [ ] Charlie task", NULL },
	"same b3, same b0, same b1, same b2" })

/* Round 3: moved within the list and edited. */
SCENARIO(test_reordered_and_edited_line_is_edited, {
	{ "m:- [ ] Alpha task", "m:- [ ] Bravo task", "m:- [ ] Charlie task",
	  "m:- [ ] Delta task", NULL },
	{ "m:- [ ] Delta task due:2025-12-01", "m:- [ ] Alpha task",
	  "m:- [ ] Bravo task", "m:- [ ] Charlie task", NULL },
	"edited b3, same b0, same b1, same b2" })

/* One hunk, two lines edited: each pairs with its own ancestor. */
SCENARIO(test_hunk_with_two_edits, {
	{ "m:- [ ] Alpha task", "m:- [ ] Plan the trip to Rome",
	  "m:- [ ] Buy oat milk", "m:- [ ] Delta task", NULL },
	{ "m:- [ ] Alpha task", "m:- [ ] Buy milk",
	  "m:- [ ] Plan the trip to Lisbon due:2025-12-24",
	  "m:- [ ] Delta task", NULL },
	"same b0, edited b2, edited b1, same b3" })

SCENARIO(test_whole_list_replaced, {
	{ "m:- [ ] Alpha task", "m:- [ ] Bravo task", "m:- [ ] Charlie task",
	  "w:- [ ] Reply from Bob", NULL },
	{ "m:- [ ] Fix bike", "m:- [ ] Sell the sofa", "m:- [ ] Renew passport",
	  "w:- [ ] Reply from Bob", NULL },
	"new, new, new, same b3, removed b0, removed b1, removed b2" })

/* Exact bytes found in another list beat a place in this one (round 4). */
SCENARIO(test_lines_swapped_between_lists, {
	{ "m:- [ ] Alpha task", "m:- [ ] Bravo task", "p:- [ ] Call mom",
	  "p:- [ ] Call dad", NULL },
	{ "m:- [ ] Alpha task", "m:- [ ] Call dad", "p:- [ ] Call mom",
	  "p:- [ ] Bravo task", NULL },
	"same b0, moved b3, same b2, moved b1" })

/*
 * "Call mom" went to @waiting and "Call dad" took its place in @phone: the
 * same text elsewhere beats both the 1/2 resemblance and the one-for-one
 * place (rounds 5 before 6 and 8).
 */
SCENARIO(test_exact_text_elsewhere_beats_resemblance, {
	{ "p:- [ ] Call mom", "p:- [ ] Pay rent", NULL },
	{ "p:- [ ] Call dad", "p:- [ ] Pay rent", "w:- [ ] Call mom @phone",
	  NULL },
	"new, same b1, moved b0" })

/* Round 8: one line rewritten in place, however different. */
SCENARIO(test_one_for_one_rewrite_is_edited, {
	{ "m:- [ ] Alpha task", "m:- [ ] Buy milk", "m:- [ ] Charlie task",
	  NULL },
	{ "m:- [ ] Alpha task", "m:- [ ] Email the landlord about the heating",
	  "m:- [ ] Charlie task", NULL },
	"same b0, edited b1, same b2" })

/* ... but two unrelated lines for two are deletes and creates. */
SCENARIO(test_two_for_two_unrelated_are_new_and_removed, {
	{ "m:- [ ] Alpha task", "m:- [ ] Buy milk", "m:- [ ] Water plants",
	  "m:- [ ] Charlie task", NULL },
	{ "m:- [ ] Alpha task", "m:- [ ] Email the landlord",
	  "m:- [ ] Renew passport", "m:- [ ] Charlie task", NULL },
	"same b0, new, new, same b3, removed b1, removed b2" })

/* Round 7: 6 of 7 words in common across lists is a move with an edit. */
SCENARIO(test_similar_line_in_another_list_is_moved, {
	{ "m:- [ ] Write the quarterly report for the board",
	  "m:- [ ] Buy milk", NULL },
	{ "m:- [ ] Buy milk",
	  "w:- [ ] Write the quarterly report for the team", NULL },
	"same b1, moved b0" })

/* 4 of 6 words is below 4/5: not the same action. */
SCENARIO(test_dissimilar_line_in_another_list_is_not_moved, {
	{ "m:- [ ] Write the report for the board", "m:- [ ] Buy milk", NULL },
	{ "m:- [ ] Buy milk", "w:- [ ] Write the summary for the team", NULL },
	"same b1, new, removed b0" })

/* A moved line is found before it could be taken for an in-place edit. */
SCENARIO(test_moved_line_with_a_new_one_in_its_place, {
	{ "m:- [ ] Alpha task", "m:- [ ] Send the invoice to Acme",
	  "m:- [ ] Charlie task", NULL },
	{ "m:- [ ] Alpha task", "m:- [ ] Order printer toner",
	  "m:- [ ] Charlie task", "d:- [ ] Send the invoice to Acme defer:2025-12-01",
	  NULL },
	"same b0, new, same b2, moved b1" })

/* First pass with no baseline: everything is new. */
SCENARIO(test_empty_base_all_new, {
	{ NULL },
	{ "m:- [ ] Call mom", "w:- [ ] Reply from Bob", NULL },
	"new, new" })

SCENARIO(test_empty_now_all_removed, {
	{ "m:- [ ] Call mom", "w:- [ ] Reply from Bob", NULL },
	{ NULL },
	"removed b0, removed b1" })

SCENARIO(test_both_empty, {
	{ NULL },
	{ NULL },
	"" })

/*
 * Round 6 thresholds, in a hunk of one baseline line and two current lines
 * (so round 8 does not apply): similarity >= 1/2 of the longer word count
 * is an edit, below it a delete and a create.
 */
static void
test_similarity_in_hunk_table(void **state)
{
	static const struct {
		const char	*old, *new;
		bool		 edited;
	} cases[] = {
		{ "Buy milk", "Buy oat milk", true },		/* 2/3 */
		{ "Buy milk", "Buy bread", true },		/* 1/2 */
		{ "Plan the trip to Rome", "Plan the trip to Lisbon", true },
		{ "Email Bob re taxes", "Email Bob re taxes due:2025-12-01",
		    true },					/* same text */
		{ "Call the bank about the loan", "Call bank", false }, /* 2/6 */
		{ "Fix bike", "Repair bicycle", false },	/* 0 */
		{ "one two three four", "four three two one", false }, /* 1/4 */
		{ "Ask Ann", "ask ann", false },		/* case counts */
		{ "Review draft", "Review  draft", true },	/* spacing */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char old[128], new[128];
		struct scenario s = {
			{ "m:- [ ] Alpha task", old, "m:- [ ] Zulu task", NULL },
			{ "m:- [ ] Alpha task", new,
			  "m:- [ ] Inspect zebra crossing", "m:- [ ] Zulu task",
			  NULL },
			NULL,
		};

		snprintf(old, sizeof(old), "m:- [ ] %s", cases[i].old);
		snprintf(new, sizeof(new), "m:- [ ] %s", cases[i].new);
		s.want = cases[i].edited ? "same b0, edited b1, new, same b2" :
		    "same b0, new, new, same b2, removed b1";
		print_message("'%s' -> '%s'\n", cases[i].old, cases[i].new);
		run_scenario(&s);
	}
}

/*
 * The input holds action lines only (SPEC §2: notes, headings, blank lines
 * and frontmatter stay where they are): lines taken from parsed list files,
 * positions counting actions, so notes added around them change nothing.
 */
static void
add_list_file(struct fx *f, bool is_base, size_t list, const char *text)
{
	struct es_action_list *l = es_action_list_parse(text, strlen(text),
	    lists[list].rel, lists[list].kind, lists[list].context);

	assert_int_equal(es_action_list_nerrors(l), 0);
	for (size_t i = 0; i < es_action_list_count(l); i++) {
		size_t len;
		const char *raw = es_action_list_raw(l, i, &len);

		fx_add(f, is_base, list, raw, len, (uint32_t)i);
	}
	es_action_list_free(l);
}

static void
test_notes_and_headings_are_not_input(void **state)
{
	struct fx f;
	char *got;

	(void)state;
	memset(&f, 0, sizeof(f));
	add_list_file(&f, true, list_of('m'),
	    "---\nlast_reviewed: 2025-11-01\n---\n# @macbook\n\n"
	    "- [ ] Call mom\nA note about mom\n- [ ] Buy milk\n");
	add_list_file(&f, false, list_of('m'),
	    "---\nlast_reviewed: 2025-11-09\n---\n# @macbook\n\n"
	    "## Calls\n- [ ] Call mom\n\n  - [ ] an indented note\n"
	    "## Errands\n- [ ] Buy milk\n- [ ] Water plants\n\nThe end.\n");
	assert_int_equal(f.nbase, 2);
	assert_int_equal(f.nnow, 3);
	fx_run(&f);
	got = fx_result(&f);
	assert_string_equal(got, "same b0, same b1, new");
	free(got);
	fx_release(&f);
}

/*
 * action-match.h, fast path: a list whose file did not change may be left
 * out (both sides) and every other line pairs as before.
 */
static void
test_unchanged_list_left_out_same_result(void **state)
{
	static const char *const base[] = {
		"m:- [ ] Call mom", "m:- [ ] Buy milk", "w:- [ ] Reply from Bob",
		"w:- [ ] Call mom", "d:- [ ] Renew passport",
		"p:- [ ] Call the plumber", NULL,
	};
	static const char *const now[] = {
		"m:- [ ] Buy milk due:2025-11-30", "w:- [ ] Reply from Bob",
		"w:- [ ] Call mom", "p:- [ ] Call the plumber",
		"d:- [ ] Renew passport", "d:- [ ] Call mom", NULL,
	};
	struct fx all, part;
	char *pa, *pp;
	size_t w = list_of('w');

	(void)state;
	memset(&all, 0, sizeof(all));
	memset(&part, 0, sizeof(part));
	fx_add_all(&all, true, base, false);
	fx_add_all(&all, false, now, false);
	fx_run(&all);
	/* The same without @waiting.md, which did not change. */
	for (size_t i = 0; i < all.nbase; i++) {
		if (strcmp(all.base[i].rel, lists[w].rel) != 0)
			fx_add(&part, true, list_of(base[i][0]),
			    all.base[i].line, all.base[i].line_len,
			    all.base[i].pos);
	}
	for (size_t i = 0; i < all.nnow; i++) {
		if (strcmp(all.now[i].rel, lists[w].rel) != 0)
			fx_add(&part, false, list_of(now[i][0]),
			    all.now[i].line, all.now[i].line_len,
			    all.now[i].pos);
	}
	fx_run(&part);
	pa = fx_pairs(&all);
	pp = fx_pairs(&part);
	/* all's pairs minus @waiting.md's two SAME lines. */
	assert_string_equal(pp,
	    "00k-next-actions/@deferred.md:0 same 00k-next-actions/@deferred.md:0\n"
	    "00k-next-actions/@deferred.md:1 moved 00k-next-actions/contexts/@macbook.md:0\n"
	    "00k-next-actions/contexts/@macbook.md:0 edited 00k-next-actions/contexts/@macbook.md:1\n"
	    "00k-next-actions/contexts/@phone.md:0 same 00k-next-actions/contexts/@phone.md:0\n");
	assert_string_equal(pa,
	    "00k-next-actions/@deferred.md:0 same 00k-next-actions/@deferred.md:0\n"
	    "00k-next-actions/@deferred.md:1 moved 00k-next-actions/contexts/@macbook.md:0\n"
	    "00k-next-actions/@waiting.md:0 same 00k-next-actions/@waiting.md:0\n"
	    "00k-next-actions/@waiting.md:1 same 00k-next-actions/@waiting.md:1\n"
	    "00k-next-actions/contexts/@macbook.md:0 edited 00k-next-actions/contexts/@macbook.md:1\n"
	    "00k-next-actions/contexts/@phone.md:0 same 00k-next-actions/contexts/@phone.md:0\n");
	free(pa);
	free(pp);
	fx_release(&all);
	fx_release(&part);
}

/* Total: any input gives a well-formed answer, never a crash. */
static void
test_odd_input_is_total(void **state)
{
	static const char nul_line[] = { '-', ' ', 'a', '\0', 'b' };
	struct es_action act;
	struct es_match_base base[6];
	struct es_match_line now[6];
	struct es_match *out;
	size_t nout;
	bool seen[6] = { false };

	(void)state;
	es_action_init(&act);
	memset(base, 0, sizeof(base));
	memset(now, 0, sizeof(now));
	/* NULL rel, NULL line, NULL action, empty line, repeated positions. */
	base[0] = (struct es_match_base){ .rel = NULL, .pos = 0, .line = NULL,
	    .line_len = 5 };
	base[1] = (struct es_match_base){ .rel = "a.md", .pos = 7,
	    .line = nul_line, .line_len = sizeof(nul_line) };
	base[2] = (struct es_match_base){ .rel = "a.md", .pos = 7, .line = "x",
	    .line_len = 1, .action = &act };	/* text NULL */
	base[3] = (struct es_match_base){ .rel = "", .pos = UINT32_MAX,
	    .line = "", .line_len = 0 };
	base[4] = (struct es_match_base){ .rel = "b.md", .pos = 1,
	    .line = "same", .line_len = 4 };
	base[5] = base[4];
	now[0] = (struct es_match_line){ .rel = "a.md", .pos = 7,
	    .line = nul_line, .line_len = sizeof(nul_line) };
	now[1] = (struct es_match_line){ .rel = NULL, .pos = 0, .line = "",
	    .line_len = 0 };
	now[2] = (struct es_match_line){ .rel = "b.md", .pos = 1,
	    .line = "same", .line_len = 4 };
	now[3] = now[2];
	now[4] = now[2];
	now[5] = (struct es_match_line){ .rel = "c.md", .pos = 0,
	    .line = "x", .line_len = 1, .action = &act };
	es_action_match(base, 6, now, 6, &out, &nout);
	assert_true(nout >= 6);
	for (size_t i = 0; i < nout; i++) {
		if (i < 6)
			assert_ptr_equal(out[i].now, &now[i]);
		if (out[i].base != NULL) {
			size_t b = (size_t)(out[i].base - base);

			assert_true(b < 6);
			assert_false(seen[b]);
			seen[b] = true;
		}
	}
	for (size_t i = 0; i < 6; i++)
		assert_true(seen[i]);
	/* The NUL-holding line is compared by its bytes, not as a string. */
	assert_int_equal(out[0].kind, ES_MATCH_SAME);
	assert_ptr_equal(out[0].base, &base[1]);
	/* NULL rel is "", NULL line is empty: the same line. */
	assert_int_equal(out[1].kind, ES_MATCH_SAME);
	assert_true(out[1].base == &base[0] || out[1].base == &base[3]);
	/* Copies pair in order; the third is new. */
	assert_ptr_equal(out[2].base, &base[4]);
	assert_ptr_equal(out[3].base, &base[5]);
	assert_int_equal(out[4].kind, ES_MATCH_NEW);
	free(out);

	/* NULL arrays with zero counts. */
	es_action_match(NULL, 0, NULL, 0, &out, &nout);
	assert_non_null(out);
	assert_int_equal(nout, 0);
	free(out);
	es_action_release(&act);
}

static void
test_kind_names(void **state)
{
	(void)state;
	assert_string_equal(es_match_kind_name(ES_MATCH_SAME), "same");
	assert_string_equal(es_match_kind_name(ES_MATCH_EDITED), "edited");
	assert_string_equal(es_match_kind_name(ES_MATCH_MOVED), "moved");
	assert_string_equal(es_match_kind_name(ES_MATCH_NEW), "new");
	assert_string_equal(es_match_kind_name(ES_MATCH_REMOVED), "removed");
	assert_string_equal(es_match_kind_name((enum es_match_kind)42),
	    "unknown");
}

/* --- A seeded PRNG (splitmix64): the same histories on every run. */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
rnd(size_t n)
{
	return n == 0 ? 0 : (size_t)(rng() % n);
}

/* Round 0 must find a longest common subsequence: check against DP. */
static size_t
dp_lcs(const size_t *a, size_t na, const size_t *b, size_t nb)
{
	size_t *row = es_xcalloc(nb + 1, sizeof(*row)), r;

	for (size_t i = 0; i < na; i++) {
		size_t diag = 0;

		for (size_t j = 0; j < nb; j++) {
			size_t up = row[j + 1];

			row[j + 1] = a[i] == b[j] ? diag + 1 :
			    (up > row[j] ? up : row[j]);
			diag = up;
		}
	}
	r = row[nb];
	free(row);
	return r;
}

static void
check_lcs(const size_t *a, size_t na, const size_t *b, size_t nb,
    size_t want)
{
	size_t *mate = es_xreallocarray(NULL, na + 1, sizeof(*mate));
	size_t n = es__action_match_lcs(a, na, b, nb, mate), cnt = 0, last = 0;
	bool any = false;

	for (size_t i = 0; i < na; i++) {
		if (mate[i] == SIZE_MAX)
			continue;
		assert_true(mate[i] < nb);
		assert_int_equal(a[i], b[mate[i]]);
		if (any)
			assert_true(mate[i] > last);
		last = mate[i];
		any = true;
		cnt++;
	}
	assert_int_equal(cnt, n);
	if (want != SIZE_MAX && n != want)
		fail_msg("lcs %zu, want %zu (na %zu nb %zu)", n, want, na, nb);
	free(mate);
}

static void
test_lcs_is_longest(void **state)
{
	size_t a[400], b[400];

	(void)state;
	rng_state = 20251109;
	for (int t = 0; t < 20000; t++) {
		size_t na = rnd(t < 15000 ? 24 : 400), nb = rnd(t < 15000 ? 24 :
		    400), alpha = 1 + rnd(t % 3 == 0 ? 3 : 12);

		for (size_t i = 0; i < na; i++)
			a[i] = rnd(alpha);
		if (t % 2 == 0) {
			/* b an edit of a, as lists usually are. */
			nb = 0;
			for (size_t i = 0; i < na && nb < 400; i++) {
				size_t op = rnd(10);

				if (op == 0)
					continue;
				if (op == 1 && nb < 399)
					b[nb++] = rnd(alpha);
				b[nb++] = a[i];
			}
		} else {
			for (size_t j = 0; j < nb; j++)
				b[j] = rnd(alpha);
		}
		check_lcs(a, na, b, nb, dp_lcs(a, na, b, nb));
	}
}

/*
 * A list reversed wholesale goes past the diff's cost bound: the answer is
 * still well-formed (increasing pairs of equal lines), and quick.
 */
static void
test_lcs_bounded_on_reversal(void **state)
{
	size_t n = 6000, *a, *b;

	(void)state;
	a = es_xreallocarray(NULL, n, sizeof(*a));
	b = es_xreallocarray(NULL, n, sizeof(*b));
	for (size_t i = 0; i < n; i++) {
		a[i] = i;
		b[i] = n - 1 - i;
	}
	check_lcs(a, n, b, n, SIZE_MAX);
	/* A block of 500 moved to the end: 1,000 edits, within the bound. */
	for (size_t i = 0; i < n; i++)
		b[i] = i < 1000 ? i : i < n - 500 ? i + 500 : i - (n - 1500);
	check_lcs(a, n, b, n, n - 500);
	/* Interleaved halves: 6,000 edits, past it; well-formed anyway. */
	for (size_t i = 0; i < n; i++)
		b[i] = i < n / 2 ? 2 * i : 2 * (i - n / 2) + 1;
	check_lcs(a, n, b, n, SIZE_MAX);
	free(a);
	free(b);
}

/*
 * Random histories (seeded): lists of unique actions, random edits whose
 * truth is remembered, then the matcher must recognise every line that
 * kept its text: untouched lines SAME with their ancestor, lines moved
 * unedited MOVED with theirs, token edits (text kept, same list or not)
 * EDITED or MOVED with theirs, one-word text edits (at least 4/5 of the
 * words kept) with theirs; a new line may only pair with a baseline line
 * that has no descendant; no baseline line twice (fx_run).
 */
enum truth {
	T_UNTOUCHED,
	T_MOVED_SAME,
	T_TOKEN_EDIT,
	T_TEXT_EDIT,
	T_NEW,
};

struct gitem {
	size_t		 list;
	unsigned	 serial;
	char		 words[8][8];
	size_t		 nwords;
	unsigned	 due;		/* day of November, 0: none */
	unsigned	 proj;		/* 0: none */
	size_t		 origin;	/* base index, SIZE_MAX: new */
	bool		 text_edited;
};

struct glists {
	struct gitem	*v[NLISTS];
	size_t		 n[NLISTS], a[NLISTS];
};

static void
gl_insert(struct glists *g, size_t list, size_t at, const struct gitem *it)
{
	if (g->n[list] == g->a[list]) {
		g->a[list] = g->a[list] ? g->a[list] * 2 : 16;
		g->v[list] = es_xreallocarray(g->v[list], g->a[list],
		    sizeof(*g->v[list]));
	}
	memmove(&g->v[list][at + 1], &g->v[list][at],
	    (g->n[list] - at) * sizeof(*g->v[list]));
	g->v[list][at] = *it;
	g->v[list][at].list = list;
	g->n[list]++;
}

static struct gitem
gl_take(struct glists *g, size_t list, size_t at)
{
	struct gitem it = g->v[list][at];

	memmove(&g->v[list][at], &g->v[list][at + 1],
	    (g->n[list] - at - 1) * sizeof(*g->v[list]));
	g->n[list]--;
	return it;
}

static void
random_word(char w[8])
{
	size_t n = 3 + rnd(4);

	for (size_t i = 0; i < n; i++)
		w[i] = (char)('a' + rnd(26));
	w[n] = '\0';
}

static struct gitem
gen_item(unsigned serial)
{
	struct gitem it;

	memset(&it, 0, sizeof(it));
	it.serial = serial;
	it.nwords = 4 + rnd(3);
	for (size_t i = 0; i < it.nwords; i++)
		random_word(it.words[i]);
	it.due = rnd(3) == 0 ? 1 + (unsigned)rnd(28) : 0;
	it.proj = rnd(4) == 0 ? 1 + (unsigned)rnd(5) : 0;
	it.origin = SIZE_MAX;
	return it;
}

static void
render_item(const struct gitem *it, struct es_buf *b)
{
	es_buf_reset(b);
	if (lists[it->list].kind == ES_LIST_COMPLETED)
		es_buf_addstr(b, "- [x] 2025-11-10 ");
	else
		es_buf_addstr(b, "- [ ] ");
	es_buf_addf(b, "t%u", it->serial);
	for (size_t i = 0; i < it->nwords; i++)
		es_buf_addf(b, " %s", it->words[i]);
	if (it->proj)
		es_buf_addf(b, " +proj%u", it->proj);
	if (it->due)
		es_buf_addf(b, " due:2025-11-%02u", it->due);
}

static void
gl_to_fx(const struct glists *g, struct fx *f, bool is_base,
    struct es_buf *b)
{
	for (size_t l = 0; l < NLISTS; l++) {
		for (size_t i = 0; i < g->n[l]; i++) {
			render_item(&g->v[l][i], b);
			fx_add(f, is_base, l, b->buf, b->len, (uint32_t)i);
		}
	}
}

static void
gl_release(struct glists *g)
{
	for (size_t l = 0; l < NLISTS; l++)
		free(g->v[l]);
	memset(g, 0, sizeof(*g));
}

static size_t
gl_pick(const struct glists *g, size_t *list)
{
	size_t total = 0, k;

	for (size_t l = 0; l < NLISTS; l++)
		total += g->n[l];
	if (total == 0)
		return SIZE_MAX;
	k = rnd(total);
	for (size_t l = 0; l < NLISTS; l++) {
		if (k < g->n[l]) {
			*list = l;
			return k;
		}
		k -= g->n[l];
	}
	return SIZE_MAX;
}

static void
run_history(uint64_t seed, size_t maxlen, size_t maxops, size_t *stats)
{
	struct glists base, now;
	struct fx f;
	struct es_buf b, b2;
	struct gitem *flat;
	bool *has_desc;
	size_t nops, nflat = 0;
	unsigned serial = 0;

	rng_state = seed;
	memset(&base, 0, sizeof(base));
	memset(&now, 0, sizeof(now));
	memset(&f, 0, sizeof(f));
	es_buf_init(&b, 128);
	es_buf_init(&b2, 128);
	for (size_t l = 0; l < NLISTS; l++) {
		size_t n = rnd(maxlen + 1);

		for (size_t i = 0; i < n; i++) {
			struct gitem it = gen_item(serial++);

			gl_insert(&base, l, base.n[l], &it);
		}
	}
	/* Origins are base indices in fx order (list by list). */
	for (size_t l = 0, k = 0; l < NLISTS; l++) {
		for (size_t i = 0; i < base.n[l]; i++)
			base.v[l][i].origin = k++;
		for (size_t i = 0; i < base.n[l]; i++)
			gl_insert(&now, l, i, &base.v[l][i]);
	}

	nops = rnd(maxops + 1);
	for (size_t op = 0; op < nops; op++) {
		size_t l = 0, i, to;
		struct gitem it;

		switch (rnd(7)) {
		case 0:		/* token edit in place */
			if ((i = gl_pick(&now, &l)) == SIZE_MAX)
				break;
			if (rnd(2))
				now.v[l][i].due = now.v[l][i].due ? 0 :
				    1 + (unsigned)rnd(28);
			else
				now.v[l][i].proj = now.v[l][i].proj + 1;
			break;
		case 1:		/* move to another list */
			if ((i = gl_pick(&now, &l)) == SIZE_MAX)
				break;
			it = gl_take(&now, l, i);
			to = (l + 1 + rnd(NLISTS - 1)) % NLISTS;
			gl_insert(&now, to, rnd(now.n[to] + 1), &it);
			break;
		case 2:		/* move within its list */
			if ((i = gl_pick(&now, &l)) == SIZE_MAX)
				break;
			it = gl_take(&now, l, i);
			gl_insert(&now, l, rnd(now.n[l] + 1), &it);
			break;
		case 3:		/* delete */
			if ((i = gl_pick(&now, &l)) == SIZE_MAX)
				break;
			(void)gl_take(&now, l, i);
			break;
		case 4:
		case 5:		/* insert a new action */
			it = gen_item(serial++);
			to = rnd(NLISTS);
			gl_insert(&now, to, rnd(now.n[to] + 1), &it);
			break;
		case 6:		/* change one word of the text, once */
			if ((i = gl_pick(&now, &l)) == SIZE_MAX ||
			    now.v[l][i].text_edited)
				break;
			random_word(now.v[l][i].words[rnd(now.v[l][i].nwords)]);
			now.v[l][i].text_edited = true;
			break;
		}
	}

	gl_to_fx(&base, &f, true, &b);
	gl_to_fx(&now, &f, false, &b);
	fx_run(&f);

	/* Base items in fx order, and which of them live on. */
	flat = es_xreallocarray(NULL, f.nbase + 1, sizeof(*flat));
	has_desc = es_xcalloc(f.nbase + 1, sizeof(*has_desc));
	for (size_t l = 0; l < NLISTS; l++) {
		for (size_t i = 0; i < base.n[l]; i++)
			flat[nflat++] = base.v[l][i];
	}
	for (size_t l = 0; l < NLISTS; l++) {
		for (size_t i = 0; i < now.n[l]; i++) {
			if (now.v[l][i].origin != SIZE_MAX)
				has_desc[now.v[l][i].origin] = true;
		}
	}
	for (size_t l = 0, k = 0; l < NLISTS; l++) {
		for (size_t i = 0; i < now.n[l]; i++, k++) {
			const struct gitem *it = &now.v[l][i];
			const struct es_match *m = &f.out[k];
			enum truth t;
			size_t got = m->base ? (size_t)(m->base - f.base) :
			    SIZE_MAX;

			if (it->origin == SIZE_MAX) {
				t = T_NEW;
			} else {
				const struct gitem *o = &flat[it->origin];

				render_item(it, &b);
				render_item(o, &b2);
				if (it->text_edited)
					t = T_TEXT_EDIT;
				else if (!same_bytes(b.buf, b.len, b2.buf,
				    b2.len))
					t = T_TOKEN_EDIT;
				else
					t = it->list == o->list ? T_UNTOUCHED :
					    T_MOVED_SAME;
			}
			stats[t]++;
			if (t == T_NEW) {
				if (got != SIZE_MAX && has_desc[got])
					fail_msg("seed %llu: new line %zu took "
					    "base %zu, which lives on",
					    (unsigned long long)seed, k, got);
				continue;
			}
			if (got != it->origin)
				fail_msg("seed %llu: line %zu (truth %d) "
				    "paired with base %zu, want %zu (%s)",
				    (unsigned long long)seed, k, (int)t, got,
				    it->origin, es_match_kind_name(m->kind));
			if (t == T_UNTOUCHED)
				assert_int_equal(m->kind, ES_MATCH_SAME);
			else if (t == T_MOVED_SAME)
				assert_int_equal(m->kind, ES_MATCH_MOVED);
			else if (it->list == flat[it->origin].list)
				assert_true(m->kind == ES_MATCH_EDITED ||
				    m->kind == ES_MATCH_SAME);
			else
				assert_int_equal(m->kind, ES_MATCH_MOVED);
		}
	}
	free(flat);
	free(has_desc);
	es_buf_release(&b);
	es_buf_release(&b2);
	gl_release(&base);
	gl_release(&now);
	fx_release(&f);
}

static void
test_random_histories_small(void **state)
{
	size_t stats[5] = { 0 };

	(void)state;
	for (uint64_t s = 1; s <= 4000; s++)
		run_history(s, 8, 10, stats);
	print_message("untouched %zu moved %zu token-edited %zu "
	    "text-edited %zu new %zu\n", stats[0], stats[1], stats[2],
	    stats[3], stats[4]);
	/* The generator exercises every kind. */
	for (int t = 0; t < 5; t++)
		assert_true(stats[t] > 100);
}

static void
test_random_histories_large(void **state)
{
	size_t stats[5] = { 0 };

	(void)state;
	for (uint64_t s = 1; s <= 60; s++)
		run_history(1000000 + s, 300, 120, stats);
	for (int t = 0; t < 5; t++)
		assert_true(stats[t] > 100);
}

/*
 * Total on garbage: lines of a tiny alphabet (many copies, near misses,
 * empty lines, tabs), few lists, NULL rels and lines, colliding positions,
 * no actions. Only the invariants can be asserted; the sanitizer build
 * checks the rest.
 */
static void
test_random_garbage_is_total(void **state)
{
	static const char *const rels[] = { "a.md", "b.md", "", "c.md" };
	static const char *const words[] = { "a", "b", "a b", "b a", "",
	    "a\tb", "a a b", "x y z w", "x y z v" };
	struct es_match_base base[40];
	struct es_match_line now[40];

	(void)state;
	rng_state = 7;
	for (int t = 0; t < 20000; t++) {
		size_t nb = rnd(40), nn = rnd(40), nout;
		struct es_match *out;

		for (size_t i = 0; i < nb; i++) {
			const char *w = words[rnd(9)];

			memset(&base[i], 0, sizeof(base[i]));
			base[i].rel = rnd(8) == 0 ? NULL : rels[rnd(4)];
			base[i].pos = (uint32_t)rnd(6);
			base[i].line = rnd(16) == 0 ? NULL : w;
			base[i].line_len = strlen(w);
		}
		for (size_t i = 0; i < nn; i++) {
			const char *w = words[rnd(9)];

			memset(&now[i], 0, sizeof(now[i]));
			now[i].rel = rnd(8) == 0 ? NULL : rels[rnd(4)];
			now[i].pos = (uint32_t)rnd(6);
			now[i].line = rnd(16) == 0 ? NULL : w;
			now[i].line_len = strlen(w);
		}
		es_action_match(base, nb, now, nn, &out, &nout);
		check_invariants(base, nb, now, nn, out, nout);
		free(out);
	}
}

/*
 * 20,000 lines in 16 lists: a no-op must take a few ms, and ten edited
 * lines little more (issue 5: noop and ten-edit passes).
 */
static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double
time_match(const struct fx *f, size_t *counts)
{
	double best = 1e9;

	for (int rep = 0; rep < 50; rep++) {
		struct es_match *out;
		size_t nout;
		double t0 = now_ms(), t;

		es_action_match(f->base, f->nbase, f->now, f->nnow, &out,
		    &nout);
		t = now_ms() - t0;
		if (t < best)
			best = t;
		memset(counts, 0, 5 * sizeof(*counts));
		for (size_t i = 0; i < nout; i++)
			counts[out[i].kind]++;
		free(out);
	}
	return best;
}

static void
test_perf_noop_and_ten_edits(void **state)
{
	static char rels[16][64];
	struct es_match_base *base;
	struct es_match_line *now;
	char **bl, **nl;
	size_t n = 20000, counts[5];
	struct fx f;
	double noop, ten;

	(void)state;
	rng_state = 42;
	base = es_xcalloc(n, sizeof(*base));
	now = es_xcalloc(n, sizeof(*now));
	bl = es_xcalloc(n, sizeof(*bl));
	nl = es_xcalloc(n, sizeof(*nl));
	for (size_t l = 0; l < 16; l++)
		snprintf(rels[l], sizeof(rels[l]),
		    "00k-next-actions/contexts/@ctx%zu.md", l);
	for (size_t i = 0; i < n; i++) {
		char w[4][8];

		for (int k = 0; k < 4; k++)
			random_word(w[k]);
		bl[i] = es_xasprintf("- [ ] 2025-11-%02zu t%zu %s %s %s %s",
		    1 + i % 28, i, w[0], w[1], w[2], w[3]);
		nl[i] = es_xstrdup(bl[i]);
		base[i].rel = rels[i * 16 / n];
		base[i].pos = (uint32_t)(i % (n / 16));
		base[i].line = bl[i];
		base[i].line_len = strlen(bl[i]);
		now[i].rel = rels[i * 16 / n];
		now[i].pos = base[i].pos;
		now[i].line = nl[i];
		now[i].line_len = base[i].line_len;
	}
	memset(&f, 0, sizeof(f));
	f.base = base;
	f.now = now;
	f.nbase = f.nnow = n;
	noop = time_match(&f, counts);
	assert_int_equal(counts[ES_MATCH_SAME], n);

	/* Ten lines edited (a due date added), spread over the lists. */
	for (size_t k = 0; k < 10;) {
		size_t i = rnd(n);
		char *e;

		if (strstr(nl[i], "due:") != NULL)
			continue;		/* already edited */
		e = es_xasprintf("%s due:2025-12-01", nl[i]);
		free(nl[i]);
		nl[i] = e;
		now[i].line = e;
		now[i].line_len = strlen(e);
		k++;
	}
	ten = time_match(&f, counts);
	assert_int_equal(counts[ES_MATCH_SAME], n - 10);
	assert_int_equal(counts[ES_MATCH_EDITED], 10);
	print_message("20000 lines: noop %.2f ms, ten edits %.2f ms\n", noop,
	    ten);
	/* Generous for sanitizer builds and a busy machine. */
	assert_true(noop < 100.0);
	assert_true(ten < 3 * noop + 50.0);

	for (size_t i = 0; i < n; i++) {
		free(bl[i]);
		free(nl[i]);
	}
	free(bl);
	free(nl);
	free(base);
	free(now);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_identical_lists_are_same),
	cmocka_unit_test(test_due_added_in_place_is_edited),
	cmocka_unit_test(test_line_moved_to_waiting_is_moved),
	cmocka_unit_test(test_line_moved_and_edited_is_moved),
	cmocka_unit_test(test_line_checked_off_into_completed_is_moved),
	cmocka_unit_test(test_deleted_line_is_removed),
	cmocka_unit_test(test_new_line_in_the_middle_is_new),
	cmocka_unit_test(test_new_line_at_the_end_is_new),
	cmocka_unit_test(test_duplicate_lines_last_removed),
	cmocka_unit_test(test_duplicate_lines_first_removed),
	cmocka_unit_test(test_duplicate_lines_both_kept_in_order),
	cmocka_unit_test(test_reordered_line_is_same),
	cmocka_unit_test(test_reordered_and_edited_line_is_edited),
	cmocka_unit_test(test_hunk_with_two_edits),
	cmocka_unit_test(test_whole_list_replaced),
	cmocka_unit_test(test_lines_swapped_between_lists),
	cmocka_unit_test(test_exact_text_elsewhere_beats_resemblance),
	cmocka_unit_test(test_one_for_one_rewrite_is_edited),
	cmocka_unit_test(test_two_for_two_unrelated_are_new_and_removed),
	cmocka_unit_test(test_similar_line_in_another_list_is_moved),
	cmocka_unit_test(test_dissimilar_line_in_another_list_is_not_moved),
	cmocka_unit_test(test_moved_line_with_a_new_one_in_its_place),
	cmocka_unit_test(test_empty_base_all_new),
	cmocka_unit_test(test_empty_now_all_removed),
	cmocka_unit_test(test_both_empty),
	cmocka_unit_test(test_similarity_in_hunk_table),
	cmocka_unit_test(test_notes_and_headings_are_not_input),
	cmocka_unit_test(test_unchanged_list_left_out_same_result),
	cmocka_unit_test(test_odd_input_is_total),
	cmocka_unit_test(test_kind_names),
	cmocka_unit_test(test_lcs_is_longest),
	cmocka_unit_test(test_lcs_bounded_on_reversal),
	cmocka_unit_test(test_random_histories_small),
	cmocka_unit_test(test_random_histories_large),
	cmocka_unit_test(test_random_garbage_is_total),
	cmocka_unit_test(test_perf_noop_and_ten_edits),
};

ES_TEST_MAIN(tests)
