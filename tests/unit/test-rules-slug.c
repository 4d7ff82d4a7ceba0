/*
 * SPEC 4.17, 4.10: projects and goals meet files by (kind, slug) without
 * a baseline; documents sharing a slug are left alone: es_slug_index_*(),
 * es_slug_shared() (rules.h).
 */
#include <stdbool.h>
#include <stdio.h>

#include "es-test.h"

#include "execsync/rules.h"

static void
fill(struct es_slug_index *ix, const struct es_slug_cand *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		es_slug_index_add(ix, &v[i]);
	es_slug_index_sort(ix);
}

static bool
taken_set(size_t ref, void *ud)
{
	const bool *taken = ud;

	return taken[ref];
}

/* A file meets the live document of its kind and slug first. */
static void
test_4_17_slug_pairs_live_before_deleted(void **state)
{
	static const struct es_slug_cand docs[] = {
		{ ES_KIND_PROJECT, "roof", true, false, 0 },
		{ ES_KIND_PROJECT, "roof", false, false, 1 },
		{ ES_KIND_GOAL, "roof", false, false, 2 },
		{ ES_KIND_PROJECT, "barn", true, false, 3 },
		{ ES_KIND_PROJECT, "roof", false, false, 4 },
		{ ES_KIND_GOAL, "health", false, false, 5 },
	};
	static const struct {
		enum es_kind	 kind;
		const char	*slug;
		long		 want;	/* ref, or -1 */
	} cases[] = {
		{ ES_KIND_PROJECT, "roof", 1 },		/* live, first ref */
		{ ES_KIND_GOAL, "roof", 2 },		/* by kind */
		{ ES_KIND_PROJECT, "barn", 3 },		/* only a deleted */
		{ ES_KIND_PROJECT, "health", -1 },	/* other kind */
		{ ES_KIND_GOAL, "nothing", -1 },
		{ ES_KIND_PROJECT, "roo", -1 },		/* no prefixes */
		{ ES_KIND_PROJECT, NULL, -1 },
	};
	struct es_slug_index ix = ES_SLUG_INDEX_INIT;

	(void)state;
	fill(&ix, docs, sizeof(docs) / sizeof(docs[0]));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ssize_t j = es_slug_index_pair(&ix, cases[i].kind,
		    cases[i].slug, NULL, NULL);
		long got = j < 0 ? -1 : (long)ix.v[j].ref;

		if (got != cases[i].want)
			fail_msg("case %zu: %ld, want %ld", i, got,
			    cases[i].want);
	}
	es_slug_index_release(&ix);
}

/* Each document pairs with one file: the taken ones are passed over. */
static void
test_4_17_slug_pair_skips_taken(void **state)
{
	static const struct es_slug_cand docs[] = {
		{ ES_KIND_PROJECT, "roof", false, false, 0 },
		{ ES_KIND_PROJECT, "roof", true, false, 1 },
		{ ES_KIND_PROJECT, "roof", false, false, 2 },
	};
	static const long want[] = { 0, 2, 1, -1 };
	bool taken[3] = { false, false, false };
	struct es_slug_index ix = ES_SLUG_INDEX_INIT;

	(void)state;
	fill(&ix, docs, 3);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ssize_t j = es_slug_index_pair(&ix, ES_KIND_PROJECT, "roof",
		    taken_set, taken);
		long got = j < 0 ? -1 : (long)ix.v[j].ref;

		if (got != want[i])
			fail_msg("file %zu: %ld, want %ld", i, got, want[i]);
		if (j >= 0)
			taken[ix.v[j].ref] = true;
	}
	es_slug_index_release(&ix);
}

/* Live documents sharing a slug: all left alone but the one synced. */
static void
test_4_10_shared_slug_left_alone(void **state)
{
	static const struct es_slug_cand docs[] = {
		/* two, none synced: both alone */
		{ ES_KIND_PROJECT, "a", false, false, 0 },
		{ ES_KIND_PROJECT, "a", false, false, 1 },
		/* three, one synced: the other two alone */
		{ ES_KIND_PROJECT, "b", false, false, 2 },
		{ ES_KIND_PROJECT, "b", false, true, 3 },
		{ ES_KIND_PROJECT, "b", false, false, 4 },
		/* two, both synced: both alone */
		{ ES_KIND_GOAL, "c", false, true, 5 },
		{ ES_KIND_GOAL, "c", false, true, 6 },
		/* alone in its slug; same slug, other kind */
		{ ES_KIND_PROJECT, "c", false, false, 7 },
		{ ES_KIND_GOAL, "d", false, true, 8 },
	};
	static const struct {
		bool	 alone;
		size_t	 shared_by;
	} want[] = {
		{ true, 2 }, { true, 2 },
		{ true, 3 }, { false, 3 }, { true, 3 },
		{ true, 2 }, { true, 2 },
		{ false, 1 }, { false, 1 },
	};
	struct es_slug_index ix = ES_SLUG_INDEX_INIT;
	bool alone[9];
	size_t by[9];

	(void)state;
	fill(&ix, docs, 9);
	es_slug_shared(&ix, alone, by);
	for (size_t i = 0; i < ix.n; i++) {
		size_t ref = ix.v[i].ref;

		if (alone[i] != want[ref].alone ||
		    by[i] != want[ref].shared_by)
			fail_msg("document %zu: alone %d by %zu, want %d by "
			    "%zu", ref, alone[i], by[i], want[ref].alone,
			    want[ref].shared_by);
	}
	es_slug_index_release(&ix);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_4_17_slug_pairs_live_before_deleted),
	cmocka_unit_test(test_4_17_slug_pair_skips_taken),
	cmocka_unit_test(test_4_10_shared_slug_left_alone),
};

ES_TEST_MAIN(tests)
