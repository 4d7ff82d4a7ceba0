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

#include "execsync/action-line.h"
#include "execsync/buf.h"
#include "execsync/doc.h"
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

/*
 * Completed in the file (state and completion date), moved to waiting in
 * the database: the state is a conflict, and the completion date goes with
 * the winning state, whichever side wins; never "waiting with a completion
 * date", which no list can hold (found by the simulation, issue 17).
 */
static void
test_plan_action_state_conflict_brings_completion_date(void **state)
{
	(void)state;
	for (int file_later = 0; file_later < 2; file_later++) {
		struct spec sb = A("Call", "@home", N, 0, 0);
		struct spec sf = A("Call", "@home", C, 0, 0);
		struct spec sd = A("Call", "@home", W, 0, 0);
		struct es_action base, file, db;
		struct es_action_plan_input in;
		struct es_action_decision d;
		struct es_error err;
		struct es_buf line = ES_BUF_INIT;

		build(&base, &sb);
		build(&file, &sf);
		build(&db, &sd);
		file.completed = es_date_from_ymd(2025, 11, 20);
		memset(&in, 0, sizeof(in));
		in.base = &base;
		in.file = &file;
		in.file_rel = DONE;
		in.db = &db;
		in.file_mtime_ms = file_later ? 300 : 100;
		in.db_updated_at = 200;
		assert_int_equal(es_plan_action(&in, ES_POLICY_NEWEST, &d,
		    &err), 0);
		assert_true(d.conflicts & ES_F_STATE);
		if (file_later) {
			assert_int_equal(d.value.state, C);
			assert_int_equal(d.value.completed,
			    es_date_from_ymd(2025, 11, 20));
			assert_int_equal(d.keep, ES_ACT_KEEP_DOC);
		} else {
			assert_int_equal(d.value.state, W);
			assert_int_equal(d.value.completed, ES_DATE_NONE);
			assert_int_equal(d.keep, ES_ACT_KEEP_FILE);
		}
		/* and the result can be written in its list */
		assert_int_equal(es_action_line_render(&d.value, file_later ?
		    ES_LIST_COMPLETED : ES_LIST_WAITING, NULL,
		    ES_LINE_CHECKLIST, &line, &err), 0);
		es_buf_release(&line);
		es_action_decision_release(&d);
		es_action_release(&base);
		es_action_release(&file);
		es_action_release(&db);
	}
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

/* ---- es_plan_action_ops(): the decision as the ops apply executes ---- */

#define PHONE	"00k-next-actions/contexts/@phone.md"
#define T_NOW	INT64_C(1763000000000)
#define T_UA	INT64_C(1762000000000)

struct ops_row {
	const char		*name;
	struct spec		 base, file, db;
	enum es_policy		 policy;
	int64_t			 mtime, ua;
	const char		*want;	/* "op dir path[<from]", " | " between */
};

/* The ops of plan from index first, as a row's want string. */
static void
ops_string(const struct es_plan *p, size_t first, struct es_buf *out)
{
	for (size_t i = first; i < p->n; i++) {
		const struct es_op *op = &p->ops[i];

		if (i > first)
			es_buf_addstr(out, " | ");
		es_buf_addf(out, "%s %s %s", es_op_kind_name(op->op),
		    es_direction_name(op->dir), op->rel ? op->rel : "(null)");
		if (op->rel_from != NULL)
			es_buf_addf(out, "<%s", op->rel_from);
	}
	es_buf_addstr(out, "");
}

/*
 * Every row of plan-action.h's table gives the ops es_plan_action_ops()
 * documents, in its order (SPEC 4.9: these are what apply executes), each
 * of kind action, carrying the action with the input's id, never a value.
 */
static void
test_plan_action_ops_rows(void **state)
{
	static const struct ops_row rows[] = {
		{ "new line", NONE_, A("Write", "@macbook", N, 0, 0), NONE_,
		    ES_POLICY_NEWEST, 0, 0, "insert file->db " MACBOOK },
		{ "new document", NONE_, NONE_, A("Buy", "@phone", N, 0, 0),
		    ES_POLICY_NEWEST, 0, T_UA, "write db->file " PHONE },
		{ "line edited", A("Write", "@macbook", N, 15, 0),
		    A("Write", "@macbook", N, 20, 0),
		    A("Write", "@macbook", N, 15, 0), ES_POLICY_NEWEST, 0,
		    T_UA, "update file->db " MACBOOK },
		{ "document edited", A("Write", "@macbook", N, 15, 0),
		    A("Write", "@macbook", N, 15, 0),
		    A("Write more", "@macbook", N, 15, 0), ES_POLICY_NEWEST,
		    0, T_UA, "write db->file " MACBOOK },
		{ "context changed by the API",
		    A("Write", "@macbook", N, 0, 0),
		    A("Write", "@macbook", N, 0, 0),
		    A("Write", "@phone", N, 0, 0), ES_POLICY_NEWEST, 0, T_UA,
		    "move db->file " PHONE "<" MACBOOK },
		{ "completed by the API", A("Write", "@macbook", N, 0, 0),
		    A("Write", "@macbook", N, 0, 0),
		    A("Write", "@macbook", C, 0, 0), ES_POLICY_NEWEST, 0, T_UA,
		    "move db->file " DONE "<" MACBOOK },
		{ "line removed", A("Write", "@macbook", N, 0, 0), NONE_,
		    A("Write", "@macbook", N, 0, 0), ES_POLICY_NEWEST, 0, T_UA,
		    "delete file->db " MACBOOK " | forget - " MACBOOK },
		{ "document deleted", A("Write", "@macbook", N, 0, 0),
		    A("Write", "@macbook", N, 0, 0),
		    DEL("Write", "@macbook", N, 0, 0), ES_POLICY_NEWEST, 0,
		    T_UA, "trash db->file " MACBOOK " | forget - " MACBOOK },
		{ "deleted on both sides", A("Write", "@macbook", N, 0, 0),
		    NONE_, DEL("Write", "@macbook", N, 0, 0),
		    ES_POLICY_NEWEST, 0, T_UA, "forget - " MACBOOK },
		{ "line edited, document deleted: undeleted",
		    A("Write", "@macbook", N, 0, 0),
		    A("Write", "@macbook", N, 20, 0),
		    DEL("Write", "@macbook", N, 0, 0), ES_POLICY_NEWEST, 0,
		    T_UA, "undelete file->db " MACBOOK },
		{ "conflict, the database newer",
		    A("Write", "@macbook", N, 15, 0),
		    A("Write", "@macbook", N, 20, 0),
		    A("Write", "@macbook", N, 25, 0), ES_POLICY_NEWEST, 1000,
		    T_UA, "keep-file-version - " MACBOOK " | report - "
		    MACBOOK " | write db->file " MACBOOK },
		{ "conflict, the file's policy",
		    A("Write", "@macbook", N, 15, 0),
		    A("Write", "@macbook", N, 20, 0),
		    A("Write", "@macbook", N, 25, 0), ES_POLICY_FILE, 1000,
		    T_UA, "keep-doc-version - " MACBOOK " | report - "
		    MACBOOK " | update file->db " MACBOOK },
		{ "unchanged", A("Write", "@macbook", N, 0, 0),
		    A("Write", "@macbook", N, 0, 0),
		    A("Write", "@macbook", N, 0, 0), ES_POLICY_NEWEST, 0, T_UA,
		    "" },
	};
	struct es_plan plan = ES_PLAN_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct ops_row *r = &rows[i];
		struct es_action base, file, db;
		struct es_action_plan_input in;
		struct es_buf got = ES_BUF_INIT;
		struct es_error err;
		size_t first = plan.n;

		memset(&in, 0, sizeof(in));
		if (r->base.text) {
			build(&base, &r->base);
			in.base = &base;
			in.base_rel = MACBOOK;
		}
		if (r->file.text) {
			build(&file, &r->file);
			in.file = &file;
			in.file_rel = MACBOOK;
		}
		if (r->db.text) {
			build(&db, &r->db);
			in.db = &db;
		}
		in.file_mtime_ms = r->mtime;
		in.db_updated_at = r->ua;
		bson_oid_init_from_string(&in.id, "65f0c0ffee0000000000cafe");
		in.has_id = true;
		if (es_plan_action_ops(&in, r->policy, T_NOW, &plan, &err) < 0)
			fail_msg("%s: %s", r->name, err.msg);
		ops_string(&plan, first, &got);
		if (strcmp(got.buf, r->want) != 0)
			fail_msg("%s: ops '%s', want '%s'", r->name, got.buf,
			    r->want);
		for (size_t k = first; k < plan.n; k++) {
			const struct es_op *op = &plan.ops[k];

			assert_int_equal(op->kind, ES_KIND_ACTION);
			assert_null(op->value);
			assert_non_null(op->action);
			assert_true(op->action->meta.has_id);
			assert_true(bson_oid_equal(&op->action->meta.id,
			    &in.id));
		}
		es_buf_release(&got);
		if (in.base)
			es_action_release(&base);
		if (in.file)
			es_action_release(&file);
		if (in.db)
			es_action_release(&db);
	}
	es_plan_release(&plan);
}

/* One op of the plan for one input, released by the caller. */
static const struct es_op *
only_op(struct es_plan *plan, const struct es_action_plan_input *in,
    enum es_op_kind k)
{
	struct es_error err;

	es_plan_release(plan);
	assert_int_equal(es_plan_action_ops(in, ES_POLICY_NEWEST, T_NOW, plan,
	    &err), 0);
	for (size_t i = 0; i < plan->n; i++)
		if (plan->ops[i].op == k)
			return &plan->ops[i];
	fail_msg("no %s op", es_op_kind_name(k));
	return NULL;
}

/*
 * SPEC 4.12 in the ops: a write carries the version it was planned on and
 * the one it sets, never going back behind the database's clock; a delete
 * only the deleted flag and its time; an insert its creation time.
 */
static void
test_plan_action_ops_versions(void **state)
{
	static const struct spec s_base = A("Write", "@macbook", N, 15, 0);
	static const struct spec s_edit = A("Write", "@macbook", N, 20, 0);
	struct es_action base, file;
	struct es_action_plan_input in;
	struct es_plan plan = ES_PLAN_INIT;
	const struct es_op *op;

	(void)state;
	build(&base, &s_base);
	build(&file, &s_edit);
	memset(&in, 0, sizeof(in));
	in.base = &base;
	in.base_rel = MACBOOK;
	in.file = &file;
	in.file_rel = MACBOOK;
	in.db = &base;
	in.db_updated_at = T_UA;
	in.id = base.meta.id;
	in.has_id = true;
	op = only_op(&plan, &in, ES_OP_DOC_UPDATE);
	assert_int_equal(op->expect_updated_at, T_UA);
	assert_int_equal(op->action->meta.updated_at, T_NOW);
	assert_int_equal(op->fields, ES_F_DUE);
	assert_string_equal(op->rel, MACBOOK);
	/* The database's clock ahead of ours: one past its version. */
	in.db_updated_at = T_NOW + 5000;
	op = only_op(&plan, &in, ES_OP_DOC_UPDATE);
	assert_int_equal(op->action->meta.updated_at, T_NOW + 5001);
	/* The line removed: a soft delete of the flag only. */
	in.file = NULL;
	in.db_updated_at = T_UA;
	op = only_op(&plan, &in, ES_OP_DOC_DELETE);
	assert_true(op->action->meta.deleted);
	assert_int_equal(op->action->meta.deleted_at, T_NOW);
	assert_int_equal(op->fields, ES_DOC_F_DELETED);
	assert_int_equal(op->expect_updated_at, T_UA);
	/* A new line: inserted under the id given, created now. */
	in.base = NULL;
	in.base_rel = NULL;
	in.file = &file;
	in.db = NULL;
	in.db_updated_at = 0;
	op = only_op(&plan, &in, ES_OP_DOC_INSERT);
	assert_true(op->action->meta.has_id);
	assert_int_equal(op->action->meta.created_at, T_NOW);
	assert_int_equal(op->action->meta.updated_at, T_NOW);
	assert_false(op->action->meta.deleted);
	assert_null(op->rel_from);
	es_plan_release(&plan);
	es_action_release(&base);
	es_action_release(&file);
}

/*
 * SPEC 4.8, 4.10: a result its list cannot hold as a line (a text with a
 * line break, from the database) is an error naming the list and no op at
 * all, so the dry run and the real run skip it alike.
 */
static void
test_plan_action_ops_unwritable_is_no_op(void **state)
{
	static const struct spec s_db = A("two\nlines", "@phone", N, 0, 0);
	struct es_action db;
	struct es_action_plan_input in;
	struct es_plan plan = ES_PLAN_INIT;
	struct es_error err;

	(void)state;
	build(&db, &s_db);
	memset(&in, 0, sizeof(in));
	in.db = &db;
	in.db_updated_at = T_UA;
	in.id = db.meta.id;
	in.has_id = true;
	es_error_clear(&err);
	assert_int_equal(es_plan_action_ops(&in, ES_POLICY_NEWEST, T_NOW,
	    &plan, &err), -1);
	assert_int_equal(plan.n, 0);
	assert_true(err.msg[0] != '\0');
	assert_true(err.path[0] != '\0');
	es_plan_release(&plan);
	es_action_release(&db);
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
	cmocka_unit_test(test_plan_action_state_conflict_brings_completion_date),
	cmocka_unit_test(test_plan_action_rule4_8_idempotent_random_histories),
	cmocka_unit_test(test_plan_action_ops_rows),
	cmocka_unit_test(test_plan_action_ops_versions),
	cmocka_unit_test(test_plan_action_ops_unwritable_is_no_op),
	cmocka_unit_test(test_plan_action_names),
};

ES_TEST_MAIN(tests)
