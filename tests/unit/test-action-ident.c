/*
 * Actions by list and text (SPEC 4.17): the identity a line and a document
 * meet by when there is no baseline (execsyncd's first pass on a fresh
 * clone, execsync-migrate on a database that holds documents already).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es-test.h"

#include "execsync/action-ident.h"
#include "execsync/action-list.h"
#include "execsync/buf.h"
#include "execsync/entity.h"

static struct es_action
act(enum es_state state, const char *context, const char *text)
{
	struct es_action a;

	es_action_init(&a);
	a.state = state;
	a.context = (char *)context;
	a.text = (char *)text;
	return a;
}

/* The list is the one es_layout_action_path() names: state and context. */
static void
test_ident_list_table(void **state)
{
	static const struct {
		enum es_state	 state;
		const char	*context, *text, *want;
	} cases[] = {
		{ ES_STATE_NEXT, "@phone", "Ring Bob",
		    "00k-next-actions/contexts/@phone.md" },
		{ ES_STATE_NEXT, NULL, "Ring Bob",
		    "00k-next-actions/contexts/@inbox.md" },
		{ ES_STATE_WAITING, "@home", "Quote",
		    "00k-next-actions/@waiting.md" },
		{ ES_STATE_DEFERRED, NULL, "Flight",
		    "00k-next-actions/@deferred.md" },
		{ ES_STATE_INCUBATING, NULL, "Banjo",
		    "00k-next-actions/@incubating.md" },
		{ ES_STATE_COMPLETED, "@phone", "Ring Bob",
		    "00k-next-actions/completed.md" },
		/* None: no state, no text, a context that would leave. */
		{ ES_STATE_NONE, NULL, "x", NULL },
		{ ES_STATE_NEXT, "@phone", NULL, NULL },
		{ ES_STATE_NEXT, "@a/../../x", "x", NULL },
	};
	struct es_buf b = ES_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_action a = act(cases[i].state, cases[i].context,
		    cases[i].text);
		bool ok;

		es_buf_reset(&b);
		es_buf_addstr(&b, "kept");
		ok = es_action_ident_list(&a, &b);
		if (cases[i].want == NULL) {
			if (ok)
				fail_msg("case %zu: got '%s', want none", i,
				    b.buf);
			assert_string_equal(b.buf, "kept");
			continue;
		}
		if (!ok)
			fail_msg("case %zu: no list", i);
		assert_string_equal(b.buf, cases[i].want);
	}
	es_buf_release(&b);
}

/*
 * Documents as the database holds them; lines as a list file holds them
 * (parsed): a line checked off in a context list meets the completed
 * document, a second identical line the second document, and a line whose
 * list or text differs meets none.
 */
static void
test_ident_index_pairs_lines_and_docs(void **state)
{
	static const char phone[] =
	    "# @phone\n\n"
	    "- [x] Ring Bob\n"		/* completed: completed.md */
	    "- [ ] Ring Ann\n"
	    "- [ ] Ring Ann\n"
	    "- [ ] Ring Carl @calls\n"	/* its own context */
	    "- [ ] Ring Dan\n";		/* no document */
	struct es_action docs[] = {
		act(ES_STATE_NEXT, "@phone", "Ring Ann"),	/* 0 */
		act(ES_STATE_COMPLETED, "@phone", "Ring Bob"),	/* 1 */
		act(ES_STATE_NEXT, "@calls", "Ring Carl"),	/* 2 */
		act(ES_STATE_NEXT, "@phone", "Ring Ann"),	/* 3 */
		act(ES_STATE_NEXT, "@phone", "Ring Bob"),	/* 4 */
		act(ES_STATE_WAITING, NULL, "Ring Dan"),	/* 5 */
		act(ES_STATE_NONE, NULL, "Ring Dan"),		/* 6: none */
	};
	/* Per line: how many documents share its identity, the first. */
	static const struct {
		size_t	 n, first_ref;
	} want[] = { { 1, 1 }, { 2, 0 }, { 2, 0 }, { 1, 2 }, { 0, 0 } };
	struct es_action_ident_index ix = ES_ACTION_IDENT_INDEX_INIT;
	struct es_action_list *l;
	size_t ndocs = sizeof(docs) / sizeof(docs[0]);

	(void)state;
	for (size_t i = 0; i < ndocs; i++)
		assert_int_equal(es_action_ident_add(&ix, &docs[i], i),
		    i != 6);
	es_action_ident_sort(&ix);
	l = es_action_list_parse(phone, sizeof(phone) - 1,
	    "00k-next-actions/contexts/@phone.md", ES_LIST_CONTEXT, "@phone");
	assert_non_null(l);
	assert_int_equal(es_action_list_count(l), 5);
	for (size_t j = 0; j < 5; j++) {
		size_t first, n = es_action_ident_find(&ix,
		    es_action_list_get(l, j), &first);

		if (n != want[j].n)
			fail_msg("line %zu: %zu documents, want %zu", j, n,
			    want[j].n);
		if (n == 0)
			continue;
		assert_int_equal(ix.v[first].ref, want[j].first_ref);
		/* The rest follow in ref order. */
		for (size_t k = 1; k < n; k++)
			assert_true(ix.v[first + k].ref >
			    ix.v[first + k - 1].ref);
	}
	/* "Ring Ann" twice: documents 0 and 3, in that order. */
	{
		size_t first, n = es_action_ident_find(&ix,
		    es_action_list_get(l, 1), &first);

		assert_int_equal(n, 2);
		assert_int_equal(ix.v[first].ref, 0);
		assert_int_equal(ix.v[first + 1].ref, 3);
	}
	es_action_list_free(l);
	es_action_ident_release(&ix);
	assert_null(ix.v);
	assert_int_equal(ix.n, 0);
}

/*
 * es_action_ident_pair(): the line's identity first, then the list file it
 * is in; a taken document is skipped for the next of the same identity.
 */
static bool
taken_in(size_t ref, void *ud)
{
	const bool *taken = ud;

	return taken[ref];
}

static void
test_ident_pair_identity_then_file(void **state)
{
	static const char phone[] = "# @phone\n\n- [x] Ring Bob\n";
	static const char *const rel = "00k-next-actions/contexts/@phone.md";
	struct es_action next_bob = act(ES_STATE_NEXT, "@phone", "Ring Bob");
	struct es_action done_bob = act(ES_STATE_COMPLETED, "@phone",
	    "Ring Bob");
	struct es_action wait_bob = act(ES_STATE_WAITING, NULL, "Ring Bob");
	struct es_action_ident_index ix = ES_ACTION_IDENT_INDEX_INIT;
	struct es_action_list *l;
	const struct es_action *line;
	bool taken[3] = { false, false, false };
	ssize_t j;

	(void)state;
	l = es_action_list_parse(phone, sizeof(phone) - 1, rel,
	    ES_LIST_CONTEXT, "@phone");
	assert_non_null(l);
	line = es_action_list_get(l, 0);
	assert_int_equal(line->state, ES_STATE_COMPLETED);

	/* Only the next document (the check not synced yet): by the file. */
	es_action_ident_add(&ix, &wait_bob, 0);
	es_action_ident_add(&ix, &next_bob, 1);
	es_action_ident_sort(&ix);
	j = es_action_ident_pair(&ix, line, rel, taken_in, taken);
	assert_true(j >= 0);
	assert_int_equal(ix.v[j].ref, 1);
	/* Not without the file's list, never the waiting one. */
	assert_int_equal(es_action_ident_pair(&ix, line, NULL, NULL, NULL),
	    -1);
	taken[1] = true;
	assert_int_equal(es_action_ident_pair(&ix, line, rel, taken_in,
	    taken), -1);
	es_action_ident_release(&ix);

	/* The completed one too: it comes first. */
	taken[1] = false;
	es_action_ident_add(&ix, &next_bob, 1);
	es_action_ident_add(&ix, &done_bob, 2);
	es_action_ident_sort(&ix);
	j = es_action_ident_pair(&ix, line, rel, taken_in, taken);
	assert_true(j >= 0);
	assert_int_equal(ix.v[j].ref, 2);
	taken[2] = true;
	j = es_action_ident_pair(&ix, line, rel, taken_in, taken);
	assert_true(j >= 0);
	assert_int_equal(ix.v[j].ref, 1);
	es_action_ident_release(&ix);
	es_action_list_free(l);
}

/* An empty index finds nothing (and needs no sort). */
static void
test_ident_empty_index(void **state)
{
	struct es_action_ident_index ix = ES_ACTION_IDENT_INDEX_INIT;
	struct es_action a = act(ES_STATE_NEXT, "@phone", "x");
	size_t first = 7;

	(void)state;
	es_action_ident_sort(&ix);
	assert_int_equal(es_action_ident_find(&ix, &a, &first), 0);
	assert_int_equal(first, 0);
	assert_int_equal(es_action_ident_pair(&ix, &a,
	    "00k-next-actions/contexts/@phone.md", NULL, NULL), -1);
	es_action_ident_release(&ix);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_ident_list_table),
	cmocka_unit_test(test_ident_index_pairs_lines_and_docs),
	cmocka_unit_test(test_ident_pair_identity_then_file),
	cmocka_unit_test(test_ident_empty_index),
};

ES_TEST_MAIN(tests)
