/*
 * The decision core for actions (plan-action.h, SPEC §4, §6): every row of
 * the table, the merge by field, the policies, hostile contexts, the inbox
 * settling, and a seeded property over random histories: after a pass the
 * next one decides nothing (SPEC 4.8) and no edit is lost.
 */
#include "es-test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "execsync/entity.h"
#include "execsync/plan-action.h"
#include "execsync/xmalloc.h"

#define MACBOOK	"00k-next-actions/contexts/@macbook.md"
#define WAITING	"00k-next-actions/@waiting.md"
#define DONE	"00k-next-actions/completed.md"
#define INBOX	"00k-next-actions/contexts/@inbox.md"

/* A compact action: absent when text is NULL. */
struct spec {
	const char	*text;
	const char	*ctx;
	enum es_state	 state;
	int		 due;		/* day of Nov 2025, 0: none */
	char		 prio;
	bool		 deleted;
};

#define NONE_	{ NULL, NULL, ES_STATE_NONE, 0, 0, false }
#define A(t, c, s, d, p)	{ t, c, s, d, p, false }
#define DEL(t, c, s, d, p)	{ t, c, s, d, p, true }

static void
build(struct es_action *a, const struct spec *s)
{
	es_action_init(a);
	a->text = es_xstrdup(s->text);
	a->context = s->ctx ? es_xstrdup(s->ctx) : NULL;
	a->state = s->state;
	a->due = s->due ? es_date_from_ymd(2025, 11, s->due) : ES_DATE_NONE;
	a->priority = s->prio;
	a->meta.deleted = s->deleted;
	if (s->deleted)
		a->meta.deleted_at = 1;
	a->meta.has_id = true;
	bson_oid_init_from_string(&a->meta.id, "65f0c0ffee0000000000beef");
}

struct row {
	const char		*name;
	struct spec		 base, file, db;
	const char		*file_rel;
	enum es_policy		 policy;
	int64_t			 mtime, ua;
	int			 rc;
	enum es_act_doc		 doc;
	unsigned		 doc_fields;
	enum es_act_file	 fop;
	enum es_act_keep	 keep;
	unsigned		 conflicts;
	bool			 forget;
	const char		*want_text, *want_ctx;
	enum es_state		 want_state;
	int			 want_due;
};

#define N	ES_STATE_NEXT
#define W	ES_STATE_WAITING
#define C	ES_STATE_COMPLETED

static void
run_rows(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		struct es_action base, file, db;
		struct es_action_plan_input in;
		struct es_action_decision d;
		struct es_error err;
		int rc;

		memset(&in, 0, sizeof(in));
		if (r->base.text) {
			build(&base, &r->base);
			in.base = &base;
		}
		if (r->file.text) {
			build(&file, &r->file);
			in.file = &file;
			in.file_rel = r->file_rel;
		}
		if (r->db.text) {
			build(&db, &r->db);
			in.db = &db;
		}
		in.file_mtime_ms = r->mtime;
		in.db_updated_at = r->ua;
		es_error_clear(&err);
		rc = es_plan_action(&in, r->policy, &d, &err);
		if (rc != r->rc)
			fail_msg("%s: rc %d, want %d (%s)", r->name, rc, r->rc,
			    err.msg);
		if (rc == 0) {
			if (d.doc != r->doc)
				fail_msg("%s: doc %s, want %s", r->name,
				    es_act_doc_name(d.doc),
				    es_act_doc_name(r->doc));
			if (r->doc_fields && d.doc_fields != r->doc_fields)
				fail_msg("%s: doc fields %#x, want %#x",
				    r->name, d.doc_fields, r->doc_fields);
			if (d.file != r->fop)
				fail_msg("%s: file %s, want %s", r->name,
				    es_act_file_name(d.file),
				    es_act_file_name(r->fop));
			if (d.keep != r->keep || d.conflicts != r->conflicts)
				fail_msg("%s: keep %d conflicts %#x", r->name,
				    d.keep, d.conflicts);
			if (d.forget != r->forget)
				fail_msg("%s: forget %d", r->name, d.forget);
			if (r->want_text && (d.value.text == NULL ||
			    strcmp(d.value.text, r->want_text) != 0))
				fail_msg("%s: text '%s'", r->name,
				    d.value.text ? d.value.text : "(null)");
			if (r->want_ctx && (d.value.context == NULL ||
			    strcmp(d.value.context, r->want_ctx) != 0))
				fail_msg("%s: context '%s'", r->name,
				    d.value.context ? d.value.context :
				    "(null)");
			if (r->want_state && d.value.state != r->want_state)
				fail_msg("%s: state %d", r->name,
				    d.value.state);
			if (r->want_due && d.value.due !=
			    es_date_from_ymd(2025, 11, r->want_due))
				fail_msg("%s: due", r->name);
			es_action_decision_release(&d);
		} else if (err.msg[0] == '\0')
			fail_msg("%s: an error without a message", r->name);
		if (in.base)
			es_action_release(&base);
		if (in.file)
			es_action_release(&file);
		if (in.db)
			es_action_release(&db);
	}
}

/* SPEC §6 rows without a baseline, and 4.17 identity. */
static void
test_plan_action_spec6_no_baseline(void **state)
{
	static const struct row rows[] = {
		{ "new line", NONE_, A("Call", "@macbook", N, 0, 0), NONE_,
		    MACBOOK, ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_INSERT,
		    0, ES_ACT_FILE_NONE, 0, 0, false, "Call", "@macbook",
		    N, 0 },
		{ "new document", NONE_, NONE_, A("Call", "@phone", N, 0, 0),
		    NULL, ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_ADD, 0, 0, false, "Call", "@phone", N, 0 },
		{ "new document, no context: @inbox both sides", NONE_,
		    NONE_, A("Call", NULL, N, 0, 0), NULL, ES_POLICY_NEWEST,
		    0, 0, 0, ES_ACT_DOC_UPDATE, ES_F_CONTEXT,
		    ES_ACT_FILE_ADD, 0, 0, false, "Call", "@inbox", N, 0 },
		{ "identity, equal", NONE_, A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 0, 0), MACBOOK, ES_POLICY_NEWEST,
		    0, 0, 0, ES_ACT_DOC_NONE, 0, ES_ACT_FILE_NONE, 0, 0,
		    false, "Call", NULL, N, 0 },
		{ "identity, different due, database newer", NONE_,
		    A("Call", "@macbook", N, 3, 0),
		    A("Call", "@macbook", N, 4, 0), MACBOOK,
		    ES_POLICY_NEWEST, 10, 20, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_SET, ES_ACT_KEEP_FILE, ES_F_DUE, false,
		    NULL, NULL, N, 4 },
		{ "identity, different due, file policy", NONE_,
		    A("Call", "@macbook", N, 3, 0),
		    A("Call", "@macbook", N, 4, 0), MACBOOK,
		    ES_POLICY_FILE, 10, 20, 0, ES_ACT_DOC_UPDATE, ES_F_DUE,
		    ES_ACT_FILE_NONE, ES_ACT_KEEP_DOC, ES_F_DUE, false,
		    NULL, NULL, N, 3 },
		{ "line, document soft-deleted: undelete", NONE_,
		    A("Call", "@macbook", N, 0, 0),
		    DEL("Call", "@macbook", N, 0, 0), MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_UNDELETE, 0,
		    ES_ACT_FILE_NONE, 0, 0, false, NULL, NULL, 0, 0 },
		{ "deleted document, no line: nothing", NONE_, NONE_,
		    DEL("Call", "@macbook", N, 0, 0), NULL, ES_POLICY_NEWEST,
		    0, 0, 0, ES_ACT_DOC_NONE, 0, ES_ACT_FILE_NONE, 0, 0,
		    false, NULL, NULL, 0, 0 },
		{ "hostile context", NONE_, NONE_, A("Call", "@a/b", N, 0, 0),
		    NULL, ES_POLICY_NEWEST, 0, 0, -1, 0, 0, 0, 0, 0, false,
		    NULL, NULL, 0, 0 },
	};
	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* SPEC §6 rows with a baseline, rules 1, 5, 7. */
static void
test_plan_action_spec6_with_baseline(void **state)
{
	static const struct row rows[] = {
		{ "unchanged", A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 0, 0), MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_NONE, 0, 0, false, NULL, NULL, 0, 0 },
		{ "line edited", A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 5, 'A'),
		    A("Call", "@macbook", N, 0, 0), MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_UPDATE,
		    ES_F_DUE | ES_F_PRIORITY, ES_ACT_FILE_NONE, 0, 0, false,
		    NULL, NULL, N, 5 },
		{ "line moved to @waiting: state", A("Call", "@macbook", N, 0,
		    0), A("Call", "@macbook", W, 0, 0),
		    A("Call", "@macbook", N, 0, 0), WAITING,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_UPDATE, ES_F_STATE,
		    ES_ACT_FILE_NONE, 0, 0, false, NULL, NULL, W, 0 },
		{ "database due: set in place", A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 7, 0), MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_SET, 0, 0, false, NULL, NULL, N, 7 },
		{ "completed by the API: to completed.md",
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", C, 0, 0), MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_MOVE, 0, 0, false, NULL, NULL, C, 0 },
		{ "context changed by the API: other list",
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@phone", N, 0, 0), MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_MOVE, 0, 0, false, NULL, "@phone", N, 0 },
		{ "context changed in @waiting: stays",
		    A("Call", "@macbook", W, 0, 0),
		    A("Call", "@macbook", W, 0, 0),
		    A("Call", "@phone", W, 0, 0), WAITING,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_SET, 0, 0, false, NULL, "@phone", W, 0 },
		{ "line removed: soft delete", A("Call", "@macbook", N, 0, 0),
		    NONE_, A("Call", "@macbook", N, 0, 0), NULL,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_DELETE, 0,
		    ES_ACT_FILE_NONE, 0, 0, true, NULL, NULL, 0, 0 },
		{ "document deleted: trash", A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 0, 0),
		    DEL("Call", "@macbook", N, 0, 0), MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_TRASH, 0, 0, true, NULL, NULL, 0, 0 },
		{ "document vanished: trash", A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 0, 0), NONE_, MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_TRASH, 0, 0, true, NULL, NULL, 0, 0 },
		{ "both deleted: forget", A("Call", "@macbook", N, 0, 0),
		    NONE_, DEL("Call", "@macbook", N, 0, 0), NULL,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_NONE, 0, 0, true, NULL, NULL, 0, 0 },
	};
	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* SPEC 4.2, 4.3, 4.5: merges, conflicts per policy, delete vs edit. */
static void
test_plan_action_rule4_3_merge_and_conflicts(void **state)
{
	static const struct row rows[] = {
		{ "different fields merged", A("Call", "@macbook", N, 0, 0),
		    A("Call mom", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 9, 0), MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_UPDATE, ES_F_TEXT,
		    ES_ACT_FILE_SET, 0, 0, false, "Call mom", NULL, N, 9 },
		{ "same field, same value: no conflict",
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 9, 0),
		    A("Call", "@macbook", N, 9, 0), MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_NONE, 0, 0, false, NULL, NULL, N, 9 },
		{ "same field, newest: database later",
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 8, 0),
		    A("Call", "@macbook", N, 9, 0), MACBOOK,
		    ES_POLICY_NEWEST, 100, 200, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_SET, ES_ACT_KEEP_FILE, ES_F_DUE, false, NULL,
		    NULL, N, 9 },
		{ "same field, newest: file later",
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 8, 0),
		    A("Call", "@macbook", N, 9, 0), MACBOOK,
		    ES_POLICY_NEWEST, 300, 200, 0, ES_ACT_DOC_UPDATE,
		    ES_F_DUE, ES_ACT_FILE_NONE, ES_ACT_KEEP_DOC, ES_F_DUE,
		    false, NULL, NULL, N, 8 },
		{ "same field, newest: a tie goes to the database",
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 8, 0),
		    A("Call", "@macbook", N, 9, 0), MACBOOK,
		    ES_POLICY_NEWEST, 200, 200, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_SET, ES_ACT_KEEP_FILE, ES_F_DUE, false, NULL,
		    NULL, N, 9 },
		{ "same field, database policy",
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 8, 0),
		    A("Call", "@macbook", N, 9, 0), MACBOOK,
		    ES_POLICY_DATABASE, 900, 200, 0, ES_ACT_DOC_NONE, 0,
		    ES_ACT_FILE_SET, ES_ACT_KEEP_FILE, ES_F_DUE, false, NULL,
		    NULL, N, 9 },
		{ "line removed, document edited: line comes back",
		    A("Call", "@macbook", N, 0, 0), NONE_,
		    A("Call", "@macbook", N, 9, 0), NULL, ES_POLICY_NEWEST,
		    0, 0, 0, ES_ACT_DOC_NONE, 0, ES_ACT_FILE_ADD, 0, 0, false,
		    NULL, NULL, N, 9 },
		{ "document deleted, line edited: undelete",
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 9, 0),
		    DEL("Call", "@macbook", N, 0, 0), MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_UNDELETE, ES_F_DUE,
		    ES_ACT_FILE_NONE, 0, 0, false, NULL, NULL, N, 9 },
		{ "document vanished, line edited: insert",
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", N, 9, 0), NONE_, MACBOOK,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_INSERT, 0,
		    ES_ACT_FILE_NONE, 0, 0, false, NULL, NULL, N, 9 },
		{ "moved in the file, due in the database: merged",
		    A("Call", "@macbook", N, 0, 0),
		    A("Call", "@macbook", W, 0, 0),
		    A("Call", "@macbook", N, 9, 0), WAITING,
		    ES_POLICY_NEWEST, 0, 0, 0, ES_ACT_DOC_UPDATE, ES_F_STATE,
		    ES_ACT_FILE_SET, 0, 0, false, NULL, NULL, W, 9 },
	};
	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

/* ---- SPEC 4.8: random histories ---- */

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64*: small, seeded, the same sequence everywhere. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static void
mutate(struct es_action *a)
{
	static const char *const texts[] = { "Call", "Call mom", "Buy milk" };
	static const char *const ctxs[] = { "@macbook", "@phone", NULL };
	static const enum es_state states[] = { ES_STATE_NEXT,
	    ES_STATE_WAITING, ES_STATE_COMPLETED };

	switch (rng() % 5) {
	case 0:
		free(a->text);
		a->text = es_xstrdup(texts[rng() % 3]);
		break;
	case 1: {
		const char *c = ctxs[rng() % 3];

		free(a->context);
		a->context = c ? es_xstrdup(c) : NULL;
		break;
	}
	case 2:
		a->state = states[rng() % 3];
		break;
	case 3:
		a->due = rng() % 2 ? ES_DATE_NONE :
		    es_date_from_ymd(2025, 11, 1 + (int)(rng() % 28));
		break;
	default:
		a->priority = rng() % 2 ? 0 : (char)('A' + rng() % 3);
		break;
	}
	if (a->state == ES_STATE_NEXT && a->context == NULL)
		a->context = es_xstrdup("@macbook");	/* a line has one */
}

static void
test_plan_action_rule4_8_idempotent_random_histories(void **state)
{
	(void)state;
	rng_state = UINT64_C(0x5eed5eed1234);
	for (int iter = 0; iter < 2000; iter++) {
		struct spec s = A("Call", "@macbook", N, 0, 0);
		struct es_action base, file, db;
		struct es_action_plan_input in;
		struct es_action_decision d, d2;
		struct es_error err;
		int rc;

		build(&base, &s);
		build(&file, &s);
		build(&db, &s);
		for (int k = (int)(rng() % 3); k > 0; k--)
			mutate(&file);
		for (int k = (int)(rng() % 3); k > 0; k--)
			mutate(&db);
		memset(&in, 0, sizeof(in));
		in.base = &base;
		in.file = &file;
		in.file_rel = MACBOOK;
		in.db = &db;
		in.file_mtime_ms = (int64_t)(rng() % 3);
		in.db_updated_at = (int64_t)(rng() % 3);
		rc = es_plan_action(&in, (enum es_policy)(rng() % 3), &d,
		    &err);
		assert_int_equal(rc, 0);
		/* No edit lost: a field changed on one side only is kept. */
		{
			unsigned f = es_action_diff(&base, &file);
			unsigned g = es_action_diff(&base, &db);
			unsigned only_f = f & ~g, only_d = g & ~f;
			/* "@inbox" is the settled form of none. */
			unsigned inbox = d.value.context != NULL &&
			    strcmp(d.value.context, "@inbox") == 0 ?
			    ES_F_CONTEXT : 0;
			unsigned lost_f = es_action_diff(&d.value, &file) &
			    only_f & ~inbox;
			unsigned lost_d = es_action_diff(&d.value, &db) &
			    only_d & ~inbox;

			if (lost_f || lost_d)
				fail_msg("iter %d: lost %#x %#x", iter,
				    lost_f, lost_d);
		}
		/* The next pass: everything is the result. */
		memset(&in, 0, sizeof(in));
		in.base = &d.value;
		in.file = &d.value;
		in.file_rel = d.list_rel;
		in.db = &d.value;
		rc = es_plan_action(&in, ES_POLICY_NEWEST, &d2, &err);
		assert_int_equal(rc, 0);
		if (d2.doc != ES_ACT_DOC_NONE || d2.file != ES_ACT_FILE_NONE ||
		    d2.conflicts != 0 || d2.forget)
			fail_msg("iter %d: second pass %s/%s", iter,
			    es_act_doc_name(d2.doc),
			    es_act_file_name(d2.file));
		es_action_decision_release(&d2);
		es_action_decision_release(&d);
		es_action_release(&base);
		es_action_release(&file);
		es_action_release(&db);
	}
}

static void
test_plan_action_names(void **state)
{
	(void)state;
	assert_string_equal(es_act_doc_name(ES_ACT_DOC_UNDELETE),
	    "undelete");
	assert_string_equal(es_act_file_name(ES_ACT_FILE_TRASH), "trash");
	assert_string_equal(es_act_file_name((enum es_act_file)99),
	    "unknown");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_plan_action_spec6_no_baseline),
	cmocka_unit_test(test_plan_action_spec6_with_baseline),
	cmocka_unit_test(test_plan_action_rule4_3_merge_and_conflicts),
	cmocka_unit_test(test_plan_action_rule4_8_idempotent_random_histories),
	cmocka_unit_test(test_plan_action_names),
};

ES_TEST_MAIN(tests)
