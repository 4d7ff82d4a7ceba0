/*
 * SPEC 4.17, 4.18: the one predicate for "the duplicate document is ours",
 * es_ours_judge() (rules.h): execsyncd's insert refused as a duplicate and
 * execsync-migrate's recognition ask it alike.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "es-test.h"

#include "execsync/doc.h"
#include "execsync/entity.h"
#include "execsync/fingerprint.h"
#include "execsync/rules.h"
#include "execsync/xmalloc.h"

#define NOW	INT64_C(1800000000000)

enum variant { SAME, DELETED, RETITLED, OTHER_USER, BROKEN };

static void
project(struct es_entity *e)
{
	es_entity_init(e, ES_KIND_PROJECT);
	e->title = es_xstrdup("Fix the roof");
	e->slug = es_xstrdup("fix-the-roof");
	e->area = es_xstrdup("Home");
	e->folder = ES_FOLDER_ACTIVE;
	free(e->content);
	e->content = es_xstrdup("Call the roofer.\n");
	e->content_len = 17;
	bson_oid_init_from_string(&e->meta.id, "5f0000000000000000000001");
	e->meta.has_id = true;
	e->meta.created_at = NOW - 5;
	e->meta.updated_at = NOW;
}

static void
action(struct es_action *a)
{
	es_action_init(a);
	a->text = es_xstrdup("Ring Bob");
	a->context = es_xstrdup("@phone");
	a->state = ES_STATE_NEXT;
	bson_oid_init_from_string(&a->meta.id, "5f0000000000000000000002");
	a->meta.has_id = true;
	a->meta.created_at = NOW - 5;
	a->meta.updated_at = NOW;
}

/* The document the database holds, as variant v of what we would write. */
static void
doc_of(enum es_kind kind, enum variant v, bson_t *out)
{
	const char *user = v == OTHER_USER ? "someone-else" : "u1";

	bson_init(out);
	if (v == BROKEN) {
		/* No title, no text: decodes as neither. */
		bson_oid_t id;

		bson_oid_init_from_string(&id, "5f0000000000000000000003");
		BSON_APPEND_OID(out, "_id", &id);
		BSON_APPEND_UTF8(out, "user_id", user);
		return;
	}
	if (kind == ES_KIND_ACTION) {
		struct es_action a;

		action(&a);
		a.meta.deleted = v == DELETED;
		if (v == RETITLED) {
			free(a.text);
			a.text = es_xstrdup("Ring Bob today");
		}
		es_action_encode(&a, user, out);
		es_action_release(&a);
		return;
	}
	struct es_entity e;

	project(&e);
	e.meta.deleted = v == DELETED;
	if (v == DELETED)
		e.meta.deleted_at = NOW;
	if (v == RETITLED) {
		free(e.title);
		e.title = es_xstrdup("Fix the barn roof");
	}
	es_entity_encode(&e, user, out);
	es_entity_release(&e);
}

/* Ours when the user's, live and meaning what we would write. */
static void
test_4_17_ours_table(void **state)
{
	static const struct {
		enum es_kind	 kind;
		enum variant	 v;
		enum es_ours	 want;
	} cases[] = {
		{ ES_KIND_PROJECT, SAME, ES_OURS_SAME },
		{ ES_KIND_PROJECT, DELETED, ES_OURS_DIFFERS },
		{ ES_KIND_PROJECT, RETITLED, ES_OURS_DIFFERS },
		{ ES_KIND_PROJECT, OTHER_USER, ES_OURS_NO },
		{ ES_KIND_PROJECT, BROKEN, ES_OURS_NO },
		{ ES_KIND_ACTION, SAME, ES_OURS_SAME },
		{ ES_KIND_ACTION, DELETED, ES_OURS_DIFFERS },
		{ ES_KIND_ACTION, RETITLED, ES_OURS_DIFFERS },
		{ ES_KIND_ACTION, OTHER_USER, ES_OURS_NO },
		{ ES_KIND_ACTION, BROKEN, ES_OURS_NO },
	};
	struct es_entity e;
	struct es_action a;
	es_fp_t want[2];

	(void)state;
	project(&e);
	action(&a);
	want[0] = es_entity_fingerprint(&e);
	want[1] = es_action_fingerprint(&a);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool act = cases[i].kind == ES_KIND_ACTION;
		struct es_meta m;
		enum es_ours got;
		bson_t doc;

		doc_of(cases[i].kind, cases[i].v, &doc);
		got = es_ours_judge(&doc, cases[i].kind, "u1", want[act], &m);
		bson_destroy(&doc);
		if (got != cases[i].want)
			fail_msg("case %zu: %d, want %d", i, got,
			    cases[i].want);
	}
	es_entity_release(&e);
	es_action_release(&a);
}

/* The document's id and versions come back for the baseline. */
static void
test_4_17_ours_gives_the_documents_meta(void **state)
{
	struct es_entity e;
	struct es_meta m;
	bson_t doc;

	(void)state;
	project(&e);
	doc_of(ES_KIND_PROJECT, DELETED, &doc);
	assert_int_equal(es_ours_judge(&doc, ES_KIND_PROJECT, "u1",
	    es_entity_fingerprint(&e), &m), ES_OURS_DIFFERS);
	assert_true(bson_oid_equal(&m.id, &e.meta.id));
	assert_int_equal(m.created_at, NOW - 5);
	assert_int_equal(m.updated_at, NOW);
	assert_true(m.deleted);
	assert_int_equal(es_ours_judge(&doc, ES_KIND_PROJECT, "u1",
	    es_entity_fingerprint(&e), NULL), ES_OURS_DIFFERS);
	bson_destroy(&doc);
	/* A goal's document is judged as a goal: a project is not one. */
	doc_of(ES_KIND_PROJECT, SAME, &doc);
	assert_int_not_equal(es_ours_judge(&doc, ES_KIND_GOAL, "u1",
	    es_entity_fingerprint(&e), NULL), ES_OURS_SAME);
	bson_destroy(&doc);
	es_entity_release(&e);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_4_17_ours_table),
	cmocka_unit_test(test_4_17_ours_gives_the_documents_meta),
};

ES_TEST_MAIN(tests)
