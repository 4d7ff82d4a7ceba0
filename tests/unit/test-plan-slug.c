/*
 * SPEC §2, 4.4, 4.9: a document write whose slug another document holds
 * (the unique index counts live and soft-deleted ones) takes the first
 * free slug-N in the plan, and the file is renamed to it: es_slug_claims
 * (rules.h) by table, then es_plan_entity() with es_plan_input.slugs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es-test.h"

#include "execsync/date.h"
#include "execsync/entity.h"
#include "execsync/plan.h"
#include "execsync/rules.h"
#include "execsync/xmalloc.h"

#define P	ES_KIND_PROJECT
#define G	ES_KIND_GOAL

/* Documents and files as a pass would know them; then takes in order. */
static void
test_claims_table(void **state)
{
	static const struct {
		enum es_kind	 kind;
		const char	*slug;
		size_t		 owner;
	} docs[] = {
		{ P, "roof", 1 },	/* live or deleted: the index counts both */
		{ P, "barn", 2 },
		{ P, "barn-2", 3 },
		{ G, "roof", 4 },
		{ P, "shared", 5 },	/* two documents, one slug (SPEC 4.10) */
		{ P, "shared", 6 },
	};
	static const struct {
		enum es_kind	 kind;
		const char	*slug;
	} files[] = {
		{ P, "barn-3" },	/* a name in the folder: never fresh */
		{ P, "roof" },
	};
	static const struct {
		enum es_kind	 kind;
		const char	*want;
		size_t		 owner;
		const char	*got;
		const char	*why;
	} takes[] = {
		{ P, "roof", 1, "roof", "its own document's slug" },
		{ P, "roof", 7, "roof-2", "another document holds it" },
		{ G, "roof", 4, "roof", "kinds are apart" },
		{ G, "roof", 8, "roof-2", "the goal's own collection" },
		{ P, "barn", 9, "barn-4", "skips held barn-2, the file barn-3" },
		{ P, "barn", 2, "barn", "the holder itself" },
		{ P, "new", 10, "new", "nobody has it" },
		{ P, "new", 11, "new-2", "taken earlier in the pass" },
		{ P, "new", 10, "new", "taken again by its taker" },
		{ P, "new", 11, "new-2", "a re-plan gets the same" },
		{ P, "roof", 12, "roof-3", "roof-2 was taken by 7" },
		{ P, "shared", 5, "shared-2", "held by another too" },
	};
	struct es_slug_claims c = ES_SLUG_CLAIMS_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		es_slug_claims_doc(&c, docs[i].kind, docs[i].slug,
		    docs[i].owner);
	es_slug_claims_doc(&c, P, NULL, 99);	/* no slug: nothing */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		es_slug_claims_file(&c, files[i].kind, files[i].slug);
	for (size_t i = 0; i < sizeof(takes) / sizeof(takes[0]); i++) {
		const char *got = es_slug_claims_take(&c, takes[i].kind,
		    takes[i].want, takes[i].owner);

		if (strcmp(got, takes[i].got) != 0)
			fail_msg("take %zu (%s): '%s' for %zu gave '%s', want "
			    "'%s'", i, takes[i].why, takes[i].want,
			    takes[i].owner, got, takes[i].got);
	}
	es_slug_claims_release(&c);
	es_slug_claims_release(&c);	/* released twice: harmless */
}

/* Many takes of one slug: each its own, linear in what is there. */
static void
test_claims_many(void **state)
{
	struct es_slug_claims c = ES_SLUG_CLAIMS_INIT;
	char want[32], second[40];

	(void)state;
	for (size_t i = 0; i < 5000; i++) {
		snprintf(want, sizeof(want), "p%zu", i);
		es_slug_claims_doc(&c, P, want, i);
	}
	for (size_t i = 0; i < 5000; i++) {
		snprintf(want, sizeof(want), "p%zu", i);
		snprintf(second, sizeof(second), "p%zu-2", i);
		assert_string_equal(es_slug_claims_take(&c, P, want, i), want);
		assert_string_equal(es_slug_claims_take(&c, P, want, 5000 + i),
		    second);
	}
	es_slug_claims_release(&c);
}

/* ---- the planner ---- */

#define T0	INT64_C(1767225600000)
#define NOW	(T0 + 3600000)

struct fx {
	struct es_entity	 base, file, db;
	struct es_plan_input	 in;
	struct es_plan		 plan;
	struct es_error		 err;
	struct es_slug_claims	 slugs;
};

static void
fill(struct es_entity *e, const char *slug)
{
	es_entity_init(e, P);
	e->title = es_xstrdup("Reading");
	e->slug = es_xstrdup(slug);
	e->area = es_xstrdup("Work");
	e->folder = ES_FOLDER_ACTIVE;
	e->created = es_date_from_ymd(2025, 11, 1);
	es_entity_set_content(e, "notes\n", 6);
}

static void
fx_init(struct fx *x, const char *file_slug, const char *rel)
{
	memset(x, 0, sizeof(*x));
	fill(&x->file, file_slug);
	x->in.kind = P;
	x->in.file = &x->file;
	x->in.file_rel = rel;
	x->in.file_mtime_ms = T0;
	x->in.slugs = &x->slugs;
	x->in.slug_owner = 1;
	es_plan_init(&x->plan);
}

static void
fx_release(struct fx *x)
{
	es_entity_release(&x->base);
	es_entity_release(&x->file);
	es_entity_release(&x->db);
	es_plan_release(&x->plan);
	es_slug_claims_release(&x->slugs);
}

static void
fx_plan(struct fx *x)
{
	es_error_clear(&x->err);
	assert_int_equal(es_plan_entity(&x->in, ES_POLICY_NEWEST, NOW,
	    &x->plan, &x->err), 0);
}

/* "insert,move,baseline" and each op's rel. */
static void
assert_plan(const struct fx *x, const char *ops, const char *const *rels)
{
	char got[256];
	size_t off = 0;

	got[0] = '\0';
	for (size_t i = 0; i < x->plan.n; i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s",
		    i ? "," : "", es_op_kind_name(x->plan.ops[i].op));
	assert_string_equal(got, ops);
	for (size_t i = 0; rels != NULL && i < x->plan.n; i++)
		if (rels[i] != NULL)
			assert_string_equal(x->plan.ops[i].rel, rels[i]);
}

#define WORK(n)	"10k-projects/active/work/" n ".md"

/* SPEC 4.4: a new file whose name another document holds. */
static void
test_plan_new_file_slug_taken(void **state)
{
	static const char *const rels[] = {
		WORK("reading"), WORK("reading-2"), WORK("reading-2"),
	};
	struct fx x;

	(void)state;
	fx_init(&x, "reading", WORK("reading"));
	es_slug_claims_doc(&x.slugs, P, "reading", 7);	/* a trashed one */
	fx_plan(&x);
	assert_plan(&x, "insert,move,baseline", rels);
	assert_string_equal(x.plan.ops[0].value->slug, "reading-2");
	assert_string_equal(x.plan.ops[1].rel_from, WORK("reading"));
	assert_non_null(strstr(x.plan.ops[1].reason,
	    "slug 'reading' is taken"));
	assert_string_equal(x.plan.ops[2].value->slug, "reading-2");
	fx_release(&x);

	/* Free, or held by the entity itself: as before, no move. */
	fx_init(&x, "reading", WORK("reading"));
	es_slug_claims_doc(&x.slugs, P, "reading", 1);
	fx_plan(&x);
	assert_plan(&x, "insert,baseline", NULL);
	assert_string_equal(x.plan.ops[0].value->slug, "reading");
	fx_release(&x);

	/* No claims (a caller that knows none): as before. */
	fx_init(&x, "reading", WORK("reading"));
	x.in.slugs = NULL;
	fx_plan(&x);
	assert_plan(&x, "insert,baseline", NULL);
	fx_release(&x);
}

/*
 * SPEC 4.5 with §2: the file, at its baseline path, was edited; the API
 * retitled and deleted the document, and another document took the old
 * slug since. Edit wins over delete, under a free slug (issue 17, seed
 * 169031: the plan said the old name, the server refused it).
 */
static void
test_plan_undelete_slug_taken(void **state)
{
	static const char *const rels[] = {
		WORK("plan"), WORK("plan"), WORK("plan-2"), WORK("plan-2"),
	};
	struct fx x;

	(void)state;
	fx_init(&x, "plan", WORK("plan"));
	fill(&x.base, "plan");
	fill(&x.db, "retitled");
	x.db.meta.deleted = true;
	x.db.meta.deleted_at = T0;
	x.db.meta.has_id = true;
	x.db.meta.updated_at = T0;
	x.base.meta = x.db.meta;
	x.base.meta.deleted = false;
	es_entity_set_content(&x.file, "edited\n", 7);
	x.in.base = &x.base;
	x.in.base_rel = WORK("plan");
	x.in.db = &x.db;
	x.in.db_updated_at = T0;
	es_slug_claims_doc(&x.slugs, P, "retitled", 1);
	es_slug_claims_doc(&x.slugs, P, "plan", 2);	/* the newcomer */
	fx_plan(&x);
	assert_plan(&x, "keep-doc-version,undelete,move,baseline", rels);
	assert_string_equal(x.plan.ops[1].value->slug, "plan-2");
	assert_true(x.plan.ops[1].fields & ES_F_SLUG);
	fx_release(&x);
}

/* A write that changes no slug takes none: nothing to check. */
static void
test_plan_no_slug_write_no_take(void **state)
{
	struct fx x;

	(void)state;
	fx_init(&x, "plan", WORK("plan"));
	fill(&x.base, "plan");
	fill(&x.db, "plan");
	x.db.meta.has_id = true;
	x.db.meta.updated_at = T0;
	x.base.meta = x.db.meta;
	es_entity_set_content(&x.file, "edited\n", 7);
	x.in.base = &x.base;
	x.in.base_rel = WORK("plan");
	x.in.db = &x.db;
	x.in.db_updated_at = T0;
	es_slug_claims_doc(&x.slugs, P, "plan", 1);
	es_slug_claims_doc(&x.slugs, P, "plan", 2);	/* shared: 4.10 */
	fx_plan(&x);
	assert_plan(&x, "update,baseline", NULL);
	assert_false(x.plan.ops[0].fields & ES_F_SLUG);
	/* Nothing was taken: another owner still gets "fresh". */
	assert_string_equal(es_slug_claims_take(&x.slugs, P, "fresh", 3),
	    "fresh");
	fx_release(&x);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_claims_table),
	cmocka_unit_test(test_claims_many),
	cmocka_unit_test(test_plan_new_file_slug_taken),
	cmocka_unit_test(test_plan_undelete_slug_taken),
	cmocka_unit_test(test_plan_no_slug_write_no_take),
};

ES_TEST_MAIN(tests)
