/*
 * The decision core (SPEC §4, §6): every row of the decision table, the
 * merge by field, the policies, moves and renames, hostile database values,
 * and a seeded property test over random histories: after a pass, the next
 * pass plans nothing (SPEC 4.8) and no edit is lost (SPEC 4.2, 4.3, 4.5).
 */
#include "es-test.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "execsync/doc.h"
#include "execsync/entity.h"
#include "execsync/layout.h"
#include "execsync/plan.h"
#include "execsync/xmalloc.h"

#define T0	1762646400000LL		/* 2025-11-09T00:00:00Z */
#define HOUR	3600000LL
#define NOW	(T0 + HOUR)
#define OID	"65f0c0ffee0000000000beef"

#define PROJECT_REL	"10k-projects/active/learning/learn-rust.md"
#define GOAL_REL	"30k-goals/active/run-a-marathon.md"

static const char body[] =
    "# Learn Rust\n"
    "\n"
    "- read the book\n"
    "- write a parser\n"
    "\n"
    "notes\n"
    "\n"
    "end\n";

static void
set_str(char **field, const char *v)
{
	free(*field);
	*field = v ? es_xstrdup(v) : NULL;
}

static void
set_body(struct es_entity *e, const char *s)
{
	es_entity_set_content(e, s, strlen(s));
}

static es_date_t
ymd(int y, int m, int d)
{
	return es_date_from_ymd(y, m, d);
}

struct fx {
	enum es_kind		 kind;
	struct es_entity	 base, file, db;
	struct es_plan_input	 in;
	struct es_plan		 plan;
	struct es_error		 err;
};

static void
entity_fill(struct es_entity *e, enum es_kind kind)
{
	es_entity_init(e, kind);
	if (kind == ES_KIND_PROJECT) {
		set_str(&e->title, "Learn Rust");
		set_str(&e->slug, "learn-rust");
		set_str(&e->area, "Learning");
		e->type = ES_PTYPE_STANDARD;
		e->started = ymd(2025, 11, 1);
	} else {
		set_str(&e->title, "Run a Marathon");
		set_str(&e->slug, "run-a-marathon");
	}
	e->folder = ES_FOLDER_ACTIVE;
	e->created = ymd(2025, 11, 1);
	set_body(e, body);
}

/* Baseline, file and document all equal: a synced entity. */
static void
fx_init(struct fx *x, enum es_kind kind)
{
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	entity_fill(&x->base, kind);
	entity_fill(&x->file, kind);
	entity_fill(&x->db, kind);
	x->db.meta.has_id = true;
	bson_oid_init_from_string(&x->db.meta.id, OID);
	x->db.meta.updated_at = T0;
	x->base.meta = x->db.meta;
	x->in.kind = kind;
	x->in.base = &x->base;
	x->in.base_rel = kind == ES_KIND_PROJECT ? PROJECT_REL : GOAL_REL;
	x->in.base_doc_updated_at = T0;
	x->in.file = &x->file;
	x->in.file_rel = x->in.base_rel;
	x->in.file_mtime_ms = T0 - 5000;
	x->in.db = &x->db;
	x->in.db_updated_at = T0;
	es_plan_init(&x->plan);
}

static void
fx_release(struct fx *x)
{
	es_entity_release(&x->base);
	es_entity_release(&x->file);
	es_entity_release(&x->db);
	es_plan_release(&x->plan);
}

static int
fx_plan(struct fx *x, enum es_policy policy)
{
	es_plan_release(&x->plan);
	es_error_clear(&x->err);
	return es_plan_entity(&x->in, policy, NOW, &x->plan, &x->err);
}

/* "update,baseline": the op names in order. */
static const char *
ops_str(const struct es_plan *p, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n && off < size; i++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s",
		    i ? "," : "", es_op_kind_name(p->ops[i].op));
	return buf;
}

#define assert_ops(x, want) do {					\
	char b_[512];							\
	assert_string_equal(ops_str(&(x)->plan, b_, sizeof(b_)), (want)); \
} while (0)

static const struct es_op *
find_op(const struct es_plan *p, enum es_op_kind k)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->ops[i].op == k)
			return &p->ops[i];
	return NULL;
}

static const struct es_op *
must_find(const struct es_plan *p, enum es_op_kind k)
{
	const struct es_op *op = find_op(p, k);

	if (op == NULL)
		fail_msg("no '%s' op", es_op_kind_name(k));
	return op;
}

/* ------------------------------------------------------------------ */
/* SPEC §6, the decision table, row by row.                            */

enum fside { F_NONE, F_SAME, F_EDIT };
enum dside { D_NONE, D_SAME, D_EDIT, D_SOFTDEL, D_SOFTDEL_EDIT };

static void
test_plan_section6_table(void **state)
{
	static const struct {
		const char	*row;
		bool		 base;
		enum fside	 f;
		enum dside	 d;
		const char	*ops;
	} rows[] = {
		{ "none/present/absent", false, F_SAME, D_NONE,
		    "insert,baseline" },
		{ "none/absent/present", false, F_NONE, D_SAME,
		    "write,baseline" },
		{ "none/present/present equal", false, F_SAME, D_SAME,
		    "baseline" },
		{ "none/present/present differ", false, F_SAME, D_EDIT,
		    "keep-file-version,report,write,baseline" },
		{ "none/present/soft-deleted", false, F_SAME, D_SOFTDEL,
		    "undelete,baseline" },
		{ "none/present/soft-deleted differ", false, F_SAME,
		    D_SOFTDEL_EDIT, "keep-doc-version,undelete,baseline" },
		{ "none/absent/soft-deleted", false, F_NONE, D_SOFTDEL, "" },
		{ "none/absent/absent", false, F_NONE, D_NONE, "" },
		{ "yes/unchanged/unchanged", true, F_SAME, D_SAME, "" },
		{ "yes/changed/unchanged", true, F_EDIT, D_SAME,
		    "update,baseline" },
		{ "yes/unchanged/changed", true, F_SAME, D_EDIT,
		    "write,baseline" },
		{ "yes/changed/changed", true, F_EDIT, D_EDIT,
		    "update,write,baseline" },
		{ "yes/deleted/unchanged", true, F_NONE, D_SAME,
		    "delete,forget" },
		{ "yes/unchanged/soft-deleted", true, F_SAME, D_SOFTDEL,
		    "trash,forget" },
		{ "yes/unchanged/vanished", true, F_SAME, D_NONE,
		    "trash,forget" },
		{ "yes/deleted/changed", true, F_NONE, D_EDIT,
		    "write,baseline" },
		{ "yes/changed/soft-deleted", true, F_EDIT, D_SOFTDEL,
		    "undelete,baseline" },
		{ "yes/changed/soft-deleted after a change", true, F_EDIT,
		    D_SOFTDEL_EDIT, "keep-doc-version,undelete,baseline" },
		{ "yes/changed/vanished", true, F_EDIT, D_NONE,
		    "insert,forget,baseline" },
		{ "yes/deleted/soft-deleted", true, F_NONE, D_SOFTDEL,
		    "forget" },
		{ "yes/deleted/vanished", true, F_NONE, D_NONE, "forget" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fx x;
		char got[512];

		fx_init(&x, ES_KIND_PROJECT);
		if (!rows[i].base)
			x.in.base = NULL;
		if (rows[i].f == F_NONE)
			x.in.file = NULL;
		if (rows[i].f == F_EDIT)
			x.file.due = ymd(2025, 12, 31);
		if (rows[i].d == D_NONE)
			x.in.db = NULL;
		if (rows[i].d == D_EDIT || rows[i].d == D_SOFTDEL_EDIT)
			set_str(&x.db.title, "Learn Rust Properly");
		if (rows[i].d == D_SOFTDEL || rows[i].d == D_SOFTDEL_EDIT)
			x.db.meta.deleted = true;
		assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
		if (strcmp(ops_str(&x.plan, got, sizeof(got)),
		    rows[i].ops) != 0)
			fail_msg("%s: ops '%s', want '%s'", rows[i].row, got,
			    rows[i].ops);
		fx_release(&x);
	}
}

/* ------------------------------------------------------------------ */
/* SPEC 4.4: created on either side.                                   */

static void
test_plan_rule4_4_new_file_inserts(void **state)
{
	struct fx x;
	const struct es_op *op;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.in.base = NULL;
	x.in.db = NULL;
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "insert,baseline");
	op = &x.plan.ops[0];
	assert_int_equal(op->dir, ES_DIR_TO_DB);
	assert_int_equal(op->kind, ES_KIND_PROJECT);
	assert_int_equal(op->fields, ES_PLAN_F_ALL);
	assert_int_equal(es_entity_diff(op->value, &x.file), 0);
	assert_string_equal(op->value->slug, "learn-rust");
	assert_false(op->value->meta.has_id);
	assert_int_equal(op->value->meta.created_at, NOW);
	assert_int_equal(op->value->meta.updated_at, NOW);
	op = &x.plan.ops[1];
	assert_string_equal(op->rel, PROJECT_REL);
	assert_int_equal(es_entity_diff(op->value, &x.file), 0);
	fx_release(&x);
}

static void
test_plan_rule4_4_new_document_writes_file(void **state)
{
	static const struct {
		enum es_kind	 kind;
		const char	*area;
		enum es_folder	 folder;
		const char	*want;
	} cases[] = {
		{ ES_KIND_PROJECT, "Learning", ES_FOLDER_ACTIVE, PROJECT_REL },
		{ ES_KIND_PROJECT, "Personal Growth Systems",
		    ES_FOLDER_INCUBATOR,
		    "10k-projects/incubator/personal-growth-systems/"
		    "learn-rust.md" },
		{ ES_KIND_GOAL, NULL, ES_FOLDER_ACTIVE, GOAL_REL },
		{ ES_KIND_GOAL, NULL, ES_FOLDER_INCUBATOR,
		    "30k-goals/incubator/run-a-marathon.md" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx x;
		const struct es_op *op;

		fx_init(&x, cases[i].kind);
		x.in.base = NULL;
		x.in.file = NULL;
		x.in.file_rel = NULL;
		set_str(&x.db.area, cases[i].area);
		x.db.folder = cases[i].folder;
		assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
		assert_ops(&x, "write,baseline");
		op = &x.plan.ops[0];
		assert_int_equal(op->dir, ES_DIR_TO_FILE);
		assert_string_equal(op->rel, cases[i].want);
		assert_int_equal(op->fields, ES_PLAN_F_ALL);
		assert_int_equal(es_entity_diff(op->value, &x.db), 0);
		assert_string_equal(x.plan.ops[1].rel, cases[i].want);
		assert_int_equal(x.plan.ops[1].value->meta.updated_at, T0);
		fx_release(&x);
	}
}

/* ------------------------------------------------------------------ */
/* SPEC 4.11: hostile database values never become a path.            */

static void
test_plan_rule4_11_hostile_values(void **state)
{
	static const struct {
		const char	*name;
		bool		 base;
		enum es_kind	 kind;
		const char	*slug, *area;
		enum es_folder	 folder;
		enum es_errcode	 code;
		const char	*msg;
	} cases[] = {
		{ "new doc, slug ../../x", false, ES_KIND_PROJECT,
		    "../../x", "Learning", ES_FOLDER_ACTIVE, ES_EUNSAFE,
		    "unsafe slug '../../x'" },
		{ "new doc, area /etc", false, ES_KIND_PROJECT, "learn-rust",
		    "/etc", ES_FOLDER_ACTIVE, ES_EUNSAFE,
		    "unsafe area '/etc'" },
		{ "new doc, hidden slug", false, ES_KIND_GOAL, ".bashrc",
		    NULL, ES_FOLDER_ACTIVE, ES_EUNSAFE,
		    "unsafe slug '.bashrc'" },
		{ "new goal, folder completed", false, ES_KIND_GOAL,
		    "run-a-marathon", NULL, ES_FOLDER_COMPLETED, ES_EPARSE,
		    "bad folder 'completed'" },
		{ "renamed to ../../.bashrc", true, ES_KIND_PROJECT,
		    "../../.bashrc", "Learning", ES_FOLDER_ACTIVE, ES_EUNSAFE,
		    "unsafe slug '../../.bashrc'" },
		{ "area changed to /etc", true, ES_KIND_PROJECT, "learn-rust",
		    "/etc", ES_FOLDER_ACTIVE, ES_EUNSAFE,
		    "unsafe area '/etc'" },
		{ "area changed to a/b", true, ES_KIND_PROJECT, "learn-rust",
		    "a/b", ES_FOLDER_ACTIVE, ES_EUNSAFE, "unsafe area 'a/b'" },
		{ "slug with a slash", true, ES_KIND_GOAL, "a/b", NULL,
		    ES_FOLDER_ACTIVE, ES_EUNSAFE, "unsafe slug 'a/b'" },
		{ "goal moved to completed", true, ES_KIND_GOAL,
		    "run-a-marathon", NULL, ES_FOLDER_COMPLETED, ES_EPARSE,
		    "bad folder 'completed' for goal" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx x;
		char line[1024];

		fx_init(&x, cases[i].kind);
		if (!cases[i].base) {
			x.in.base = NULL;
			x.in.file = NULL;
			x.in.file_rel = NULL;
		}
		set_str(&x.db.slug, cases[i].slug);
		set_str(&x.db.area, cases[i].area);
		x.db.folder = cases[i].folder;
		/* A plan that already holds another entity's ops must come
		 * back exactly as it was. */
		{
			struct fx y;

			fx_init(&y, ES_KIND_PROJECT);
			y.in.base = NULL;
			y.in.db = NULL;
			assert_int_equal(es_plan_entity(&y.in,
			    ES_POLICY_NEWEST, NOW, &x.plan, &x.err), 0);
			fx_release(&y);
		}
		es_error_clear(&x.err);
		if (es_plan_entity(&x.in, ES_POLICY_NEWEST, NOW, &x.plan,
		    &x.err) != -1)
			fail_msg("%s: planned a hostile value", cases[i].name);
		assert_int_equal(x.plan.n, 2);
		assert_int_equal(x.plan.ops[0].op, ES_OP_DOC_INSERT);
		assert_int_equal(x.err.code, cases[i].code);
		if (strstr(x.err.msg, cases[i].msg) == NULL)
			fail_msg("%s: message '%s'", cases[i].name,
			    x.err.msg);
		es_error_format(&x.err, line, sizeof(line));
		if (strstr(line, OID) == NULL || strncmp(line,
		    cases[i].kind == ES_KIND_PROJECT ? "projects/" : "goals/",
		    cases[i].kind == ES_KIND_PROJECT ? 9 : 6) != 0)
			fail_msg("%s: place '%s'", cases[i].name, line);
		fx_release(&x);
	}
}

/* The area of a file written by the user is not re-validated when the
 * database changes something else: only values that build a path are. */
static void
test_plan_rule4_11_only_new_components_checked(void **state)
{
	struct fx x;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	set_str(&x.base.area, "C/C++");
	set_str(&x.file.area, "C/C++");
	set_str(&x.db.area, "C/C++");
	x.db.due = ymd(2026, 1, 31);
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "write,baseline");
	assert_string_equal(x.plan.ops[0].rel, PROJECT_REL);
	assert_int_equal(x.plan.ops[0].fields, ES_F_DUE);
	fx_release(&x);
}

/* ------------------------------------------------------------------ */
/* SPEC 4.1: one side changed reaches the other, whatever the clocks.  */

static void
test_plan_rule4_1_file_change_any_clock(void **state)
{
	static const int64_t mtimes[] = { 0, T0 - 365 * 24 * HOUR, T0,
	    T0 + 365 * 24 * HOUR, INT64_MAX };

	(void)state;
	for (size_t i = 0; i < sizeof(mtimes) / sizeof(mtimes[0]); i++) {
		struct fx x;
		const struct es_op *op;

		fx_init(&x, ES_KIND_PROJECT);
		x.file.due = ymd(2025, 12, 31);
		x.in.file_mtime_ms = mtimes[i];
		assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
		assert_ops(&x, "update,baseline");
		op = &x.plan.ops[0];
		assert_int_equal(op->dir, ES_DIR_TO_DB);
		assert_int_equal(op->fields, ES_F_DUE);
		assert_int_equal(op->expect_updated_at, T0);
		assert_int_equal(op->value->due, ymd(2025, 12, 31));
		assert_true(op->value->meta.has_id);
		assert_int_equal(op->value->meta.updated_at, NOW);
		assert_string_equal(op->reason, "file changed: due");
		assert_int_equal(x.plan.ops[1].value->meta.updated_at, NOW);
		assert_int_equal(x.plan.ops[1].value->due, ymd(2025, 12, 31));
		fx_release(&x);
	}
}

static void
test_plan_rule4_1_db_change_any_clock(void **state)
{
	static const int64_t versions[] = { 1, T0 - 365 * 24 * HOUR,
	    T0 + 365 * 24 * HOUR };

	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct fx x;
		const struct es_op *op;

		fx_init(&x, ES_KIND_PROJECT);
		set_str(&x.db.title, "Learn Rust Properly");
		x.in.db_updated_at = versions[i];
		x.in.file_mtime_ms = T0 + 1000 * HOUR;	/* file "newer" */
		assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
		assert_ops(&x, "write,baseline");
		op = &x.plan.ops[0];
		assert_int_equal(op->dir, ES_DIR_TO_FILE);
		assert_string_equal(op->rel, PROJECT_REL);
		assert_int_equal(op->fields, ES_F_TITLE);
		assert_string_equal(op->value->title, "Learn Rust Properly");
		assert_string_equal(op->reason, "database changed: title");
		/* The baseline records the version seen, not a new one. */
		assert_int_equal(x.plan.ops[1].value->meta.updated_at,
		    versions[i]);
		fx_release(&x);
	}
}

/* SPEC 4.8: equal meaning on both sides: nothing, whatever the clocks. */
static void
test_plan_rule4_8_unchanged_is_nothing(void **state)
{
	static const enum es_policy policies[] = { ES_POLICY_NEWEST,
	    ES_POLICY_FILE, ES_POLICY_DATABASE };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct fx x;

		fx_init(&x, ES_KIND_GOAL);
		x.in.file_mtime_ms = T0 + 99 * HOUR;	/* touched, same */
		x.in.db_updated_at = T0 + 7;		/* rewritten */
		x.db.meta.updated_at = T0 + 7;
		assert_int_equal(fx_plan(&x, policies[i]), 0);
		assert_int_equal(x.plan.n, 0);
		fx_release(&x);
	}
}

/* ------------------------------------------------------------------ */
/* SPEC 4.6: moves between folders and areas, renames.                 */

static void
test_plan_rule4_6_api_moves(void **state)
{
	static const struct {
		const char	*name;
		enum es_folder	 folder;
		const char	*title, *slug, *area;
		int		 set_completed, set_descoped, set_started;
		const char	*ops;
		const char	*to;
		unsigned	 move_fields, write_fields;
	} cases[] = {
		{ "complete", ES_FOLDER_COMPLETED, NULL, NULL, NULL, 1, 0, 0,
		    "move,write,baseline",
		    "10k-projects/completed/learning/learn-rust.md",
		    ES_F_FOLDER, ES_F_COMPLETED },
		{ "descope", ES_FOLDER_DESCOPED, NULL, NULL, NULL, 0, 1, 0,
		    "move,write,baseline",
		    "10k-projects/descoped/learning/learn-rust.md",
		    ES_F_FOLDER, ES_F_DESCOPED },
		{ "incubate, no other field", ES_FOLDER_INCUBATOR, NULL, NULL,
		    NULL, 0, 0, 0, "move,baseline",
		    "10k-projects/incubator/learning/learn-rust.md",
		    ES_F_FOLDER, 0 },
		{ "retitle with new slug", ES_FOLDER_ACTIVE, "Learn Zig",
		    "learn-zig", NULL, 0, 0, 0, "move,write,baseline",
		    "10k-projects/active/learning/learn-zig.md", ES_F_SLUG,
		    ES_F_TITLE },
		{ "new area", ES_FOLDER_ACTIVE, NULL, NULL, "Deep Work", 0, 0,
		    0, "move,write,baseline",
		    "10k-projects/active/deep-work/learn-rust.md", ES_F_AREA,
		    ES_F_AREA },
		{ "area, same folder name", ES_FOLDER_ACTIVE, NULL, NULL,
		    "learning", 0, 0, 0, "write,baseline", PROJECT_REL, 0,
		    ES_F_AREA },
		{ "complete and retitle", ES_FOLDER_COMPLETED, "Rust",
		    "rust", NULL, 1, 0, 0, "move,write,baseline",
		    "10k-projects/completed/learning/rust.md",
		    ES_F_FOLDER | ES_F_SLUG, ES_F_TITLE | ES_F_COMPLETED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx x;
		char got[512];
		const struct es_op *op;

		fx_init(&x, ES_KIND_PROJECT);
		x.db.folder = cases[i].folder;
		if (cases[i].title)
			set_str(&x.db.title, cases[i].title);
		if (cases[i].slug)
			set_str(&x.db.slug, cases[i].slug);
		if (cases[i].area)
			set_str(&x.db.area, cases[i].area);
		if (cases[i].set_completed)
			x.db.completed = ymd(2025, 11, 20);
		if (cases[i].set_descoped)
			x.db.descoped = ymd(2025, 11, 20);
		assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
		if (strcmp(ops_str(&x.plan, got, sizeof(got)),
		    cases[i].ops) != 0)
			fail_msg("%s: ops '%s'", cases[i].name, got);
		if ((op = find_op(&x.plan, ES_OP_FILE_MOVE)) != NULL) {
			assert_string_equal(op->rel_from, PROJECT_REL);
			assert_string_equal(op->rel, cases[i].to);
			assert_int_equal(op->fields, cases[i].move_fields);
			assert_int_equal(op->dir, ES_DIR_TO_FILE);
		}
		if ((op = find_op(&x.plan, ES_OP_FILE_WRITE)) != NULL) {
			assert_string_equal(op->rel, cases[i].to);
			if (op->fields != cases[i].write_fields)
				fail_msg("%s: write fields %#x", cases[i].name,
				    op->fields);
		}
		op = must_find(&x.plan, ES_OP_BASELINE_PUT);
		assert_string_equal(op->rel, cases[i].to);
		assert_int_equal(es_entity_diff(op->value, &x.db), 0);
		fx_release(&x);
	}
}

/* Activate (SPEC §3: folder active, started set if empty). */
static void
test_plan_rule4_6_activate(void **state)
{
	struct fx x;
	const struct es_op *op;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.base.folder = x.file.folder = ES_FOLDER_INCUBATOR;
	x.base.started = x.file.started = ES_DATE_NONE;
	x.in.base_rel = x.in.file_rel =
	    "10k-projects/incubator/learning/learn-rust.md";
	x.db.started = ymd(2025, 11, 9);
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "move,write,baseline");
	op = &x.plan.ops[0];
	assert_string_equal(op->rel_from,
	    "10k-projects/incubator/learning/learn-rust.md");
	assert_string_equal(op->rel, PROJECT_REL);
	assert_int_equal(x.plan.ops[1].fields, ES_F_STARTED);
	assert_string_equal(x.plan.ops[1].rel, PROJECT_REL);
	fx_release(&x);
}

/* A goal keeps its subfolder when it moves between active and incubator,
 * and when it is renamed. */
static void
test_plan_rule4_6_goal_subfolder(void **state)
{
	struct fx x;

	(void)state;
	fx_init(&x, ES_KIND_GOAL);
	x.in.base_rel = x.in.file_rel = "30k-goals/active/health/marathon.md";
	set_str(&x.base.slug, "marathon");
	set_str(&x.file.slug, "marathon");
	set_str(&x.db.slug, "marathon-2026");
	x.db.folder = ES_FOLDER_INCUBATOR;
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "move,baseline");
	assert_string_equal(x.plan.ops[0].rel,
	    "30k-goals/incubator/health/marathon-2026.md");
	assert_string_equal(x.plan.ops[0].rel_from,
	    "30k-goals/active/health/marathon.md");
	assert_string_equal(x.plan.ops[1].rel,
	    "30k-goals/incubator/health/marathon-2026.md");
	fx_release(&x);
}

/* The user moved or renamed the file: the document follows, no file op. */
static void
test_plan_rule4_6_user_moved_file(void **state)
{
	static const struct {
		const char	*name;
		enum es_folder	 folder;
		const char	*slug;
		const char	*rel;
		unsigned	 fields;
	} cases[] = {
		{ "to completed", ES_FOLDER_COMPLETED, "learn-rust",
		    "10k-projects/completed/learning/learn-rust.md",
		    ES_F_FOLDER },
		{ "renamed", ES_FOLDER_ACTIVE, "rust-book",
		    "10k-projects/active/learning/rust-book.md", ES_F_SLUG },
		{ "both", ES_FOLDER_DESCOPED, "rust-book",
		    "10k-projects/descoped/learning/rust-book.md",
		    ES_F_FOLDER | ES_F_SLUG },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx x;
		const struct es_op *op;

		fx_init(&x, ES_KIND_PROJECT);
		x.file.folder = cases[i].folder;
		set_str(&x.file.slug, cases[i].slug);
		x.in.file_rel = cases[i].rel;
		assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
		assert_ops(&x, "update,baseline");
		op = &x.plan.ops[0];
		assert_int_equal(op->fields, cases[i].fields);
		assert_string_equal(op->rel, cases[i].rel);
		assert_string_equal(x.plan.ops[1].rel, cases[i].rel);
		fx_release(&x);
	}
}

/* Moved without a change of meaning: only the baseline learns the path. */
static void
test_plan_moved_same_meaning(void **state)
{
	struct fx x;

	(void)state;
	fx_init(&x, ES_KIND_GOAL);
	x.in.file_rel = "30k-goals/active/sport/run-a-marathon.md";
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "baseline");
	assert_string_equal(x.plan.ops[0].rel,
	    "30k-goals/active/sport/run-a-marathon.md");
	assert_int_equal(x.plan.ops[0].dir, ES_DIR_NONE);
	fx_release(&x);
}

/*
 * SPEC §2 "after a pass every project and goal file is named by its
 * document's slug": a file at its baseline path whose name is not its
 * slug (an import gave it slug-2 for a clash) is renamed to it, whatever
 * else the pass does; its name, unchanged since the last sync, is no slug
 * edit. A file the user renamed is a slug edit (rule 4.6), never undone.
 */
static void
test_plan_spec2_name_follows_slug(void **state)
{
	static const struct {
		const char	*name;
		bool		 file_edit;	/* due changed in the file */
		bool		 db_edit;	/* title changed in the db */
		const char	*file_slug;	/* as read from the name */
		const char	*db_slug;	/* NULL: the base's */
		const char	*ops;
		const char	*to;		/* the move's target */
	} cases[] = {
		{ "unchanged, not read", false, false, "reading-2", NULL,
		    "move,baseline",
		    "10k-projects/active/learning/reading-2.md" },
		{ "unchanged, read", false, false, "reading", NULL,
		    "move,baseline",
		    "10k-projects/active/learning/reading-2.md" },
		{ "file edited in place", true, false, "reading", NULL,
		    "update,move,baseline",
		    "10k-projects/active/learning/reading-2.md" },
		{ "database retitled", false, true, "reading", "reading-list",
		    "move,write,baseline",
		    "10k-projects/active/learning/reading-list.md" },
		{ "both edited", true, true, "reading", NULL,
		    "update,move,write,baseline",
		    "10k-projects/active/learning/reading-2.md" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx x;
		const struct es_op *op;

		fx_init(&x, ES_KIND_PROJECT);
		x.in.base_rel = x.in.file_rel =
		    "10k-projects/active/learning/reading.md";
		set_str(&x.base.slug, "reading-2");
		set_str(&x.file.slug, cases[i].file_slug);
		set_str(&x.db.slug, cases[i].db_slug ? cases[i].db_slug :
		    "reading-2");
		if (cases[i].file_edit)
			x.file.due = ymd(2025, 12, 31);
		if (cases[i].db_edit)
			set_str(&x.db.title, "Reading List");
		assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
		print_message("case %s\n", cases[i].name);
		assert_ops(&x, cases[i].ops);
		op = must_find(&x.plan, ES_OP_FILE_MOVE);
		assert_string_equal(op->rel, cases[i].to);
		assert_string_equal(op->rel_from,
		    "10k-projects/active/learning/reading.md");
		op = must_find(&x.plan, ES_OP_BASELINE_PUT);
		assert_string_equal(op->rel, cases[i].to);
		assert_string_equal(op->value->slug, cases[i].db_slug ?
		    cases[i].db_slug : "reading-2");
		/* The document never takes the file's name as its slug. */
		op = find_op(&x.plan, ES_OP_DOC_UPDATE);
		assert_true(op == NULL || (op->fields & ES_F_SLUG) == 0);
		fx_release(&x);
	}
}

/* A file the user renamed keeps its new name: the slug follows it. */
static void
test_plan_spec2_user_rename_not_undone(void **state)
{
	struct fx x;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.in.file_rel = "10k-projects/active/learning/rust-book.md";
	set_str(&x.file.slug, "rust-book");
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "update,baseline");
	assert_int_equal(x.plan.ops[0].fields, ES_F_SLUG);
	assert_null(find_op(&x.plan, ES_OP_FILE_MOVE));
	fx_release(&x);
}

/* ------------------------------------------------------------------ */
/* SPEC 4.3: both sides changed: merge by field.                       */

static void
test_plan_rule4_3_different_fields(void **state)
{
	struct fx x;
	const struct es_op *op;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.file.due = ymd(2025, 12, 31);
	set_str(&x.db.title, "Learn Rust Properly");
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "update,write,baseline");
	op = &x.plan.ops[0];
	assert_int_equal(op->fields, ES_F_DUE);
	assert_int_equal(op->expect_updated_at, T0);
	op = &x.plan.ops[1];
	assert_int_equal(op->fields, ES_F_TITLE);
	assert_string_equal(op->rel, PROJECT_REL);
	op = &x.plan.ops[2];
	assert_int_equal(op->value->due, ymd(2025, 12, 31));
	assert_string_equal(op->value->title, "Learn Rust Properly");
	assert_string_equal(op->reason,
	    "both changed, merged: title (database), due (file)");
	assert_null(find_op(&x.plan, ES_OP_KEEP_FILE_VERSION));
	assert_null(find_op(&x.plan, ES_OP_KEEP_DOC_VERSION));
	fx_release(&x);
}

static void
test_plan_rule4_3_same_change(void **state)
{
	struct fx x;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.file.due = x.db.due = ymd(2025, 12, 31);
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "baseline");
	assert_int_equal(x.plan.ops[0].value->due, ymd(2025, 12, 31));
	assert_string_equal(x.plan.ops[0].reason,
	    "both made the same change: due (both)");
	fx_release(&x);
}

static void
test_plan_rule4_3_body_merged(void **state)
{
	static const char file_body[] =
	    "# Learn Rust\n\n- read the book twice\n- write a parser\n"
	    "\nnotes\n\nend\n";
	static const char db_body[] =
	    "# Learn Rust\n\n- read the book\n- write a parser\n"
	    "\nnotes\n\nthe end\n";
	static const char want[] =
	    "# Learn Rust\n\n- read the book twice\n- write a parser\n"
	    "\nnotes\n\nthe end\n";
	struct fx x;
	const struct es_op *op;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	set_body(&x.file, file_body);
	set_body(&x.db, db_body);
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "update,write,baseline");
	for (size_t i = 0; i < 3; i++) {
		op = &x.plan.ops[i];
		if (op->op != ES_OP_BASELINE_PUT)
			assert_int_equal(op->fields, ES_F_CONTENT);
		assert_bytes_equal(op->value->content, op->value->content_len,
		    want, strlen(want));
	}
	assert_string_equal(x.plan.ops[2].reason,
	    "both changed, merged: content (merged)");
	fx_release(&x);
}

/* SPEC 4.2 + 4.3: overlapping body edits are a conflict, loser kept. */
static void
test_plan_rule4_2_body_conflict(void **state)
{
	static const char file_body[] = "# Learn Rust\n\nfile edit\n";
	static const char db_body[] = "# Learn Rust\n\ndb edit\n";
	struct fx x;
	const struct es_op *op;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	set_body(&x.file, file_body);
	set_body(&x.db, db_body);
	x.in.file_mtime_ms = T0 - 1;		/* database newer */
	x.in.db_updated_at = T0 + 10;
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "keep-file-version,report,write,baseline");
	op = &x.plan.ops[0];
	assert_string_equal(op->rel, PROJECT_REL);
	assert_bytes_equal(op->value->content, op->value->content_len,
	    file_body, strlen(file_body));
	assert_string_equal(op->reason,
	    "conflict on 'content': newest wins (database), file version "
	    "kept");
	assert_string_equal(x.plan.ops[1].reason, op->reason);
	op = &x.plan.ops[2];
	assert_int_equal(op->fields, ES_F_CONTENT);
	assert_bytes_equal(op->value->content, op->value->content_len,
	    db_body, strlen(db_body));
	op = &x.plan.ops[3];
	assert_bytes_equal(op->value->content, op->value->content_len,
	    db_body, strlen(db_body));
	fx_release(&x);
}

/* SPEC 4.2: the policy picks the side of a field changed on both sides. */
static void
test_plan_rule4_2_policy_table(void **state)
{
	static const struct {
		const char	*name;
		enum es_policy	 policy;
		int64_t		 mtime, version;
		bool		 file_wins;
		const char	*reason;
	} cases[] = {
		{ "newest, file later", ES_POLICY_NEWEST, T0 + 2, T0 + 1,
		    true, "conflict on 'due': newest wins (file), database "
		    "version kept" },
		{ "newest, database later", ES_POLICY_NEWEST, T0 + 1, T0 + 2,
		    false, "conflict on 'due': newest wins (database), file "
		    "version kept" },
		{ "newest, tie goes to the database", ES_POLICY_NEWEST, T0,
		    T0, false, "conflict on 'due': newest wins (database), "
		    "file version kept" },
		{ "file (also --force), database later", ES_POLICY_FILE, 0,
		    T0 + HOUR, true, "conflict on 'due': policy file (file), "
		    "database version kept" },
		{ "database, file later", ES_POLICY_DATABASE, T0 + HOUR, 0,
		    false, "conflict on 'due': policy database (database), "
		    "file version kept" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx x;
		const struct es_op *keep, *put;
		char got[512];

		fx_init(&x, ES_KIND_PROJECT);
		x.file.due = ymd(2025, 12, 1);
		x.db.due = ymd(2025, 12, 24);
		x.in.file_mtime_ms = cases[i].mtime;
		x.in.db_updated_at = cases[i].version;
		assert_int_equal(fx_plan(&x, cases[i].policy), 0);
		ops_str(&x.plan, got, sizeof(got));
		if (strcmp(got, cases[i].file_wins ?
		    "keep-doc-version,report,update,baseline" :
		    "keep-file-version,report,write,baseline") != 0)
			fail_msg("%s: ops '%s'", cases[i].name, got);
		keep = &x.plan.ops[0];
		assert_string_equal(keep->reason, cases[i].reason);
		assert_int_equal(keep->value->due, cases[i].file_wins ?
		    ymd(2025, 12, 24) : ymd(2025, 12, 1));
		put = must_find(&x.plan, ES_OP_BASELINE_PUT);
		assert_int_equal(put->value->due, cases[i].file_wins ?
		    ymd(2025, 12, 1) : ymd(2025, 12, 24));
		assert_int_equal(x.plan.ops[2].fields, ES_F_DUE);
		fx_release(&x);
	}
}

/* One conflicting field does not stop the others from merging. */
static void
test_plan_rule4_3_conflict_beside_merge(void **state)
{
	struct fx x;
	const struct es_op *op;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.file.due = ymd(2025, 12, 1);
	set_str(&x.file.title, "Learn Rust Now");
	x.db.due = ymd(2025, 12, 24);
	x.db.last_reviewed = ymd(2025, 11, 9);
	x.in.file_mtime_ms = T0 + 5;		/* file newer: wins due */
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "keep-doc-version,report,update,write,baseline");
	op = &x.plan.ops[2];
	assert_int_equal(op->fields, ES_F_TITLE | ES_F_DUE);
	op = &x.plan.ops[3];
	assert_int_equal(op->fields, ES_F_LAST_REVIEWED);
	op = &x.plan.ops[4];
	assert_string_equal(op->value->title, "Learn Rust Now");
	assert_int_equal(op->value->due, ymd(2025, 12, 1));
	assert_int_equal(op->value->last_reviewed, ymd(2025, 11, 9));
	assert_string_equal(op->reason, "both changed, merged: title (file), "
	    "last_reviewed (database), due (conflict: file)");
	fx_release(&x);
}

/* extra is one field: different changes on both sides are a conflict. */
static void
test_plan_rule4_3_extra_conflict(void **state)
{
	struct fx x;

	(void)state;
	fx_init(&x, ES_KIND_GOAL);
	BSON_APPEND_UTF8(x.file.extra, "owner", "me");
	BSON_APPEND_UTF8(x.db.extra, "owner", "you");
	assert_int_equal(fx_plan(&x, ES_POLICY_DATABASE), 0);
	assert_ops(&x, "keep-file-version,report,write,baseline");
	assert_int_equal(x.plan.ops[2].fields, ES_F_EXTRA);
	assert_string_equal(x.plan.ops[1].reason, "conflict on 'extra': "
	    "policy database (database), file version kept");
	fx_release(&x);
}

/* ------------------------------------------------------------------ */
/* SPEC 4.5: deletes, and edits that win over them.                    */

static void
test_plan_rule4_5_file_deleted(void **state)
{
	struct fx x;
	const struct es_op *op;
	char hex[25];

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.in.file = NULL;
	x.in.file_rel = NULL;
	assert_int_equal(fx_plan(&x, ES_POLICY_FILE), 0);
	assert_ops(&x, "delete,forget");
	op = &x.plan.ops[0];
	assert_int_equal(op->dir, ES_DIR_TO_DB);
	assert_int_equal(op->fields, ES_DOC_F_DELETED);
	assert_int_equal(op->expect_updated_at, T0);
	assert_true(op->value->meta.deleted);
	assert_int_equal(op->value->meta.deleted_at, NOW);
	assert_int_equal(op->value->meta.updated_at, NOW);
	assert_string_equal(op->rel, PROJECT_REL);
	assert_string_equal(op->reason, "deleted in the folder (SPEC 4.5)");
	op = &x.plan.ops[1];
	bson_oid_to_string(&op->value->meta.id, hex);
	assert_string_equal(hex, OID);
	fx_release(&x);
}

static void
test_plan_rule4_5_doc_deleted_trashes(void **state)
{
	static const bool soft[] = { true, false };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct fx x;
		const struct es_op *op;

		fx_init(&x, ES_KIND_PROJECT);
		if (soft[i])
			x.db.meta.deleted = true;
		else
			x.in.db = NULL;
		assert_int_equal(fx_plan(&x, ES_POLICY_FILE), 0);
		assert_ops(&x, "trash,forget");
		op = &x.plan.ops[0];
		assert_int_equal(op->dir, ES_DIR_TO_FILE);
		assert_string_equal(op->rel, PROJECT_REL);
		assert_string_equal(op->reason, soft[i] ?
		    "deleted in the database (SPEC 4.5)" :
		    "vanished in the database (SPEC 4.5)");
		fx_release(&x);
	}
}

static void
test_plan_rule4_5_edit_wins_file_back(void **state)
{
	struct fx x;
	const struct es_op *op;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.in.file = NULL;
	x.in.file_rel = NULL;
	set_str(&x.db.title, "Learn Zig");
	set_str(&x.db.slug, "learn-zig");
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "write,baseline");
	op = &x.plan.ops[0];
	assert_int_equal(op->fields, ES_PLAN_F_ALL);
	assert_string_equal(op->rel,
	    "10k-projects/active/learning/learn-zig.md");
	assert_non_null(strstr(op->reason, "edit wins over delete (SPEC 4.5)"));
	assert_non_null(strstr(op->reason, "file comes back"));
	assert_null(find_op(&x.plan, ES_OP_DOC_DELETE));
	fx_release(&x);
}

static void
test_plan_rule4_5_edit_wins_undelete(void **state)
{
	struct fx x;
	const struct es_op *op;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.file.due = ymd(2026, 3, 1);
	x.db.meta.deleted = true;
	x.db.meta.deleted_at = T0;
	assert_int_equal(fx_plan(&x, ES_POLICY_DATABASE), 0);
	assert_ops(&x, "undelete,baseline");
	op = &x.plan.ops[0];
	assert_int_equal(op->fields, ES_F_DUE | ES_DOC_F_DELETED);
	assert_false(op->value->meta.deleted);
	assert_int_equal(op->value->meta.deleted_at, 0);
	assert_int_equal(op->expect_updated_at, T0);
	assert_int_equal(op->value->due, ymd(2026, 3, 1));
	assert_non_null(strstr(op->reason, "edit wins over delete"));
	fx_release(&x);

	/* The document vanished: a new one with the file's content. */
	fx_init(&x, ES_KIND_PROJECT);
	x.file.due = ymd(2026, 3, 1);
	x.in.db = NULL;
	assert_int_equal(fx_plan(&x, ES_POLICY_DATABASE), 0);
	assert_ops(&x, "insert,forget,baseline");
	op = &x.plan.ops[0];
	assert_int_equal(op->fields, ES_PLAN_F_ALL);
	assert_int_equal(op->value->due, ymd(2026, 3, 1));
	assert_false(op->value->meta.has_id);
	assert_true(x.plan.ops[1].value->meta.has_id);	/* the old row */
	assert_false(x.plan.ops[2].value->meta.has_id);	/* applier's */
	fx_release(&x);
}

/* ------------------------------------------------------------------ */
/* SPEC 4.17: no baseline: identity match, never a delete.             */

static void
test_plan_rule4_17_identity_equal(void **state)
{
	struct fx x;
	char hex[25];

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.in.base = NULL;
	x.in.base_rel = NULL;
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "baseline");
	assert_string_equal(x.plan.ops[0].rel, PROJECT_REL);
	bson_oid_to_string(&x.plan.ops[0].value->meta.id, hex);
	assert_string_equal(hex, OID);
	assert_int_equal(x.plan.ops[0].value->meta.updated_at, T0);
	fx_release(&x);
}

/* --force is ES_POLICY_FILE: the file side wins the identity match. */
static void
test_plan_rule4_17_identity_force(void **state)
{
	struct fx x;
	const struct es_op *op;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.in.base = NULL;
	x.file.due = ymd(2025, 12, 31);
	set_body(&x.db, "other body\n");
	x.in.db_updated_at = T0 + 1000 * HOUR;	/* newer, still loses */
	assert_int_equal(fx_plan(&x, ES_POLICY_FILE), 0);
	assert_ops(&x, "keep-doc-version,report,update,baseline");
	op = &x.plan.ops[0];
	assert_bytes_equal(op->value->content, op->value->content_len,
	    "other body\n", 11);
	assert_string_equal(op->reason, "no baseline, sides differ on "
	    "'due', 'content': policy file (file), database version kept");
	op = &x.plan.ops[2];
	assert_int_equal(op->fields, ES_F_DUE | ES_F_CONTENT);
	assert_int_equal(op->expect_updated_at, T0 + 1000 * HOUR);
	assert_int_equal(op->value->meta.updated_at, T0 + 1000 * HOUR + 1);
	fx_release(&x);
}

/* Whatever the two sides hold and whatever the policy: no baseline, no
 * delete and no trash (SPEC 4.17 "deletes nothing"). */
static void
test_plan_rule4_17_never_deletes(void **state)
{
	static const enum es_policy policies[] = { ES_POLICY_NEWEST,
	    ES_POLICY_FILE, ES_POLICY_DATABASE };

	(void)state;
	for (int f = 0; f < 3; f++)
		for (int d = 0; d < 5; d++)
			for (int p = 0; p < 3; p++) {
				struct fx x;
				size_t del = 9, tr = 9;

				fx_init(&x, ES_KIND_PROJECT);
				x.in.base = NULL;
				if (f == 0)
					x.in.file = NULL;
				if (f == 2)
					x.file.due = ymd(2025, 12, 1);
				if (d == 0)
					x.in.db = NULL;
				if (d == 2 || d == 4)
					x.db.due = ymd(2025, 12, 2);
				if (d >= 3)
					x.db.meta.deleted = true;
				assert_int_equal(fx_plan(&x, policies[p]), 0);
				es_plan_count(&x.plan, ES_KIND_PROJECT, &del,
				    &tr);
				assert_int_equal(del, 0);
				assert_int_equal(tr, 0);
				assert_null(find_op(&x.plan,
				    ES_OP_BASELINE_FORGET));
				fx_release(&x);
			}
}

/* ------------------------------------------------------------------ */
/* SPEC 4.10: an unreadable side is left alone.                        */

static void
test_plan_rule4_10_broken_side(void **state)
{
	static const struct {
		bool		 file_broken, db_broken, drop_file;
		const char	*reason;
	} cases[] = {
		{ true, false, false,
		    "the file cannot be read or does not parse, entity left "
		    "alone" },
		{ false, true, false,
		    "the document does not decode, entity left alone" },
		{ true, true, false, "neither the file parses nor the "
		    "document decodes, entity left alone" },
		{ false, true, true,
		    "the document does not decode, entity left alone" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx x;

		fx_init(&x, ES_KIND_PROJECT);
		x.in.file_broken = cases[i].file_broken;
		x.in.db_broken = cases[i].db_broken;
		if (cases[i].file_broken)
			x.in.file = NULL;
		if (cases[i].db_broken)
			x.in.db = NULL;
		if (cases[i].drop_file)
			x.in.file = NULL;
		assert_int_equal(fx_plan(&x, ES_POLICY_FILE), 0);
		assert_ops(&x, "report");
		assert_string_equal(x.plan.ops[0].reason, cases[i].reason);
		assert_string_equal(x.plan.ops[0].rel, PROJECT_REL);
		assert_null(x.plan.ops[0].value);
		fx_release(&x);
	}
}

static void
test_plan_rejects_actions(void **state)
{
	struct fx x;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.in.kind = ES_KIND_ACTION;
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), -1);
	assert_int_equal(x.err.code, ES_EPARSE);
	assert_int_equal(x.plan.n, 0);
	fx_release(&x);
}

/* ------------------------------------------------------------------ */
/* SPEC 4.12: versions for compare-and-swap.                           */

static void
test_plan_rule4_12_versions_increase(void **state)
{
	static const struct {
		int64_t	 seen, want;
	} cases[] = {
		{ T0, NOW },			/* our clock ahead */
		{ NOW, NOW + 1 },		/* same ms */
		{ NOW + 10 * HOUR, NOW + 10 * HOUR + 1 }, /* theirs ahead */
		{ INT64_MAX, INT64_MAX },	/* saturates, no overflow */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx x;

		fx_init(&x, ES_KIND_GOAL);
		x.file.last_reviewed = ymd(2025, 11, 9);
		x.in.db_updated_at = cases[i].seen;
		assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
		assert_ops(&x, "update,baseline");
		assert_int_equal(x.plan.ops[0].expect_updated_at,
		    cases[i].seen);
		assert_int_equal(x.plan.ops[0].value->meta.updated_at,
		    cases[i].want);
		assert_int_equal(x.plan.ops[1].value->meta.updated_at,
		    cases[i].want);
		fx_release(&x);
	}
}

/* ------------------------------------------------------------------ */
/* SPEC 4.15 (counting for the caller's guard), 4.9 (describe), JSON.  */

static void
test_plan_rule4_15_count(void **state)
{
	struct es_plan plan = ES_PLAN_INIT;
	size_t del, tr;

	(void)state;
	for (int i = 0; i < 7; i++) {
		struct fx x;
		enum es_kind k = i < 5 ? ES_KIND_PROJECT : ES_KIND_GOAL;

		fx_init(&x, k);
		if (i % 2 == 0)
			x.in.file = NULL;	/* delete the document */
		else
			x.in.db = NULL;		/* trash the file */
		assert_int_equal(es_plan_entity(&x.in, ES_POLICY_NEWEST, NOW,
		    &plan, &x.err), 0);
		fx_release(&x);
	}
	assert_int_equal(plan.n, 14);
	es_plan_count(&plan, ES_KIND_PROJECT, &del, &tr);
	assert_int_equal(del, 3);
	assert_int_equal(tr, 2);
	es_plan_count(&plan, ES_KIND_GOAL, &del, &tr);
	assert_int_equal(del, 1);
	assert_int_equal(tr, 1);
	es_plan_count(&plan, ES_KIND_ACTION, &del, NULL);
	assert_int_equal(del, 0);
	es_plan_release(&plan);
	assert_int_equal(plan.n, 0);
	es_plan_release(&plan);		/* twice is harmless */
}

static void
test_plan_rule4_9_describe(void **state)
{
	struct fx x;
	struct es_buf out = ES_BUF_INIT;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.db.folder = ES_FOLDER_COMPLETED;
	x.db.completed = ymd(2025, 11, 20);
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	assert_ops(&x, "move,write,baseline");
	es_op_describe(&x.plan.ops[0], &out);
	assert_string_equal(out.buf, "db->file move project "
	    "10k-projects/completed/learning/learn-rust.md from "
	    PROJECT_REL " id " OID " fields folder: database changed: "
	    "folder, completed");
	es_buf_reset(&out);
	es_op_describe(&x.plan.ops[1], &out);
	assert_string_equal(out.buf, "db->file write project "
	    "10k-projects/completed/learning/learn-rust.md id " OID
	    " fields completed: database changed: folder, completed");
	es_buf_reset(&out);
	es_op_describe(&x.plan.ops[2], &out);
	assert_string_equal(out.buf, "- baseline project "
	    "10k-projects/completed/learning/learn-rust.md id " OID
	    ": database changed: folder, completed");
	fx_release(&x);

	/* A control character in a path cannot start a new line. */
	fx_init(&x, ES_KIND_PROJECT);
	x.in.file_rel = "10k-projects/active/learning/a\nb.md";
	x.file.due = ymd(2025, 12, 1);
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	es_buf_reset(&out);
	es_op_describe(&x.plan.ops[0], &out);
	assert_null(strchr(out.buf, '\n'));
	assert_non_null(strstr(out.buf, "a\\x0ab.md"));
	fx_release(&x);
	es_buf_release(&out);
}

static void
test_plan_json(void **state)
{
	struct fx x;
	json_t *a, *o;
	char *s;

	(void)state;
	fx_init(&x, ES_KIND_PROJECT);
	x.file.due = ymd(2025, 12, 31);
	x.in.file_rel = "10k-projects/active/caf\xc3\xa9/learn-rust.md";
	assert_int_equal(fx_plan(&x, ES_POLICY_NEWEST), 0);
	a = es_plan_json(&x.plan);
	assert_non_null(a);
	assert_int_equal(json_array_size(a), 2);
	o = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(o, "op")),
	    "update");
	assert_string_equal(json_string_value(json_object_get(o,
	    "direction")), "file->db");
	assert_string_equal(json_string_value(json_object_get(o, "kind")),
	    "project");
	assert_string_equal(json_string_value(json_object_get(o, "path")),
	    "10k-projects/active/caf\xc3\xa9/learn-rust.md");
	assert_string_equal(json_string_value(json_object_get(o, "id")), OID);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(o, "fields"), 0)), "due");
	assert_int_equal(json_integer_value(json_object_get(o,
	    "expect_updated_at")), T0);
	assert_string_equal(json_string_value(json_object_get(o, "reason")),
	    "file changed: due");
	assert_null(json_object_get(o, "from"));
	o = json_array_get(a, 1);
	assert_null(json_object_get(o, "expect_updated_at"));
	json_decref(a);

	/* Not UTF-8: still JSON, the bad byte spelt out. */
	x.plan.ops[0].rel[strlen(x.plan.ops[0].rel) - 5] = '\xff';
	o = es_op_json(&x.plan.ops[0]);
	assert_non_null(o);
	s = json_dumps(o, JSON_COMPACT);
	assert_non_null(s);
	assert_non_null(strstr(s, "\\\\xff"));
	free(s);
	json_decref(o);
	fx_release(&x);
}

/* ------------------------------------------------------------------ */
/* SPEC 4.8 and "never lose their data": random histories.             */

struct rng {
	uint64_t	 s;
};

static uint64_t
rng_next(struct rng *r)
{
	/* xorshift64*: small, seeded, the same sequence everywhere. */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static unsigned
rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

struct world {
	enum es_kind	 kind;
	bool		 has_base, has_file, has_db;
	struct es_entity base, file, db;
	char		 base_rel[512], file_rel[512];
	int64_t		 base_ver, db_ver, file_mtime;
	int		 next_oid;
};

static const char *const titles[] = { "Learn Rust", "Learn Go", "Book" };
static const char *const slugs[] = { "learn-rust", "learn-go", "book" };
static const char *const areas[] = { "Learning", "Work",
    "Personal Growth Systems" };

static es_date_t
rnd_date(struct rng *r)
{
	static const es_date_t none = ES_DATE_NONE;

	switch (rng_below(r, 4)) {
	case 0:
		return none;
	case 1:
		return ymd(2025, 11, 1);
	case 2:
		return ymd(2025, 12, 1);
	default:
		return ymd(2026, 1, 1);
	}
}

static enum es_folder
rnd_folder(struct rng *r, enum es_kind k)
{
	if (k == ES_KIND_GOAL)
		return rng_below(r, 2) ? ES_FOLDER_ACTIVE : ES_FOLDER_INCUBATOR;
	return (enum es_folder)(1 + rng_below(r, 4));
}

/* A body of eight lines, some taken from a small set, so that random edits
 * by both sides sometimes touch the same line and sometimes not. */
static void
rnd_body_edit(struct rng *r, struct es_entity *e)
{
	struct es_buf out = ES_BUF_INIT;
	size_t line = 0, target = rng_below(r, 8);
	unsigned how = rng_below(r, 3);
	const char *p = e->content, *end = e->content + e->content_len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		if (line == target && how == 0)
			es_buf_addf(&out, "edit %u\n", rng_below(r, 3));
		else if (line == target && how == 1)
			;	/* deleted */
		else {
			if (line == target)
				es_buf_addf(&out, "new %u\n",
				    rng_below(r, 3));
			es_buf_add(&out, p, len);
		}
		p += len;
		line++;
	}
	if (line <= target)
		es_buf_addf(&out, "tail %u\n", rng_below(r, 3));
	es_entity_set_content(e, out.buf, out.len);
	es_buf_release(&out);
}

static void
rnd_entity(struct rng *r, struct es_entity *e, enum es_kind k)
{
	es_entity_init(e, k);
	set_str(&e->title, titles[rng_below(r, 3)]);
	set_str(&e->slug, slugs[0]);
	if (k == ES_KIND_PROJECT) {
		set_str(&e->area, areas[rng_below(r, 3)]);
		e->type = (enum es_ptype)rng_below(r, 5);
		e->started = rnd_date(r);
		e->due = rnd_date(r);
	}
	e->folder = rnd_folder(r, k);
	e->created = rnd_date(r);
	set_body(e, "l0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\n");
}

/* The path of a file for its folder and slug, keeping the area folder of
 * the old path (a user renames or moves files, the frontmatter's area
 * does not move them). */
static void
file_path(struct world *w, const struct es_entity *e, const char *old)
{
	if (w->kind == ES_KIND_GOAL) {
		snprintf(w->file_rel, sizeof(w->file_rel), "30k-goals/%s/%s.md",
		    es_folder_name(e->folder), e->slug);
		return;
	}
	{
		char area[256] = "learning";
		const char *a, *b;

		if (old != NULL && (a = strchr(old, '/')) != NULL &&
		    (a = strchr(a + 1, '/')) != NULL &&
		    (b = strchr(a + 1, '/')) != NULL &&
		    (size_t)(b - a - 1) < sizeof(area))
			snprintf(area, sizeof(area), "%.*s", (int)(b - a - 1),
			    a + 1);
		snprintf(w->file_rel, sizeof(w->file_rel),
		    "10k-projects/%s/%s/%s.md", es_folder_name(e->folder),
		    area, e->slug);
	}
}

/* Random edits of one side: each field with probability 1/4. */
static void
rnd_edit(struct rng *r, struct es_entity *e, bool from_db)
{
	if (rng_below(r, 4) == 0)
		set_str(&e->title, titles[rng_below(r, 3)]);
	if (rng_below(r, 6) == 0)
		set_str(&e->slug, slugs[rng_below(r, 3)]);
	if (e->kind == ES_KIND_PROJECT && rng_below(r, 5) == 0)
		set_str(&e->area, areas[rng_below(r, 3)]);
	if (rng_below(r, 5) == 0)
		e->folder = rnd_folder(r, e->kind);
	if (e->kind == ES_KIND_PROJECT && rng_below(r, 5) == 0)
		e->type = (enum es_ptype)rng_below(r, 5);
	if (rng_below(r, 4) == 0)
		e->created = rnd_date(r);
	if (e->kind == ES_KIND_PROJECT && rng_below(r, 4) == 0)
		e->due = rnd_date(r);
	if (e->kind == ES_KIND_PROJECT && rng_below(r, 6) == 0)
		e->completed = rnd_date(r);
	if (rng_below(r, 5) == 0)
		e->last_reviewed = rnd_date(r);
	if (rng_below(r, 3) == 0)
		rnd_body_edit(r, e);
	if (rng_below(r, 8) == 0) {
		/* One draw: BSON_APPEND_UTF8 evaluates its value twice. */
		const char *v = titles[rng_below(r, 3)];

		bson_reinit(e->extra);
		BSON_APPEND_UTF8(e->extra, "k", v);
	}
	/* Rarely, a hostile value from the database (SPEC 4.11). */
	if (from_db && rng_below(r, 60) == 0) {
		if (e->kind == ES_KIND_PROJECT && rng_below(r, 2))
			set_str(&e->area, "/etc");
		else
			set_str(&e->slug, "../../.bashrc");
	}
}

static void
take_fields(struct es_entity *dst, const struct es_entity *src,
    unsigned fields)
{
	/* The model applies exactly `fields`, so a wrong mask shows up as a
	 * non-empty second plan. */
	if (fields & ES_F_TITLE)
		set_str(&dst->title, src->title);
	if (fields & ES_F_SLUG)
		set_str(&dst->slug, src->slug);
	if (fields & ES_F_AREA)
		set_str(&dst->area, src->area);
	if (fields & ES_F_FOLDER)
		dst->folder = src->folder;
	if (fields & ES_F_TYPE)
		dst->type = src->type;
	if (fields & ES_F_CREATED)
		dst->created = src->created;
	if (fields & ES_F_STARTED)
		dst->started = src->started;
	if (fields & ES_F_LAST_REVIEWED)
		dst->last_reviewed = src->last_reviewed;
	if (fields & ES_F_DUE)
		dst->due = src->due;
	if (fields & ES_F_COMPLETED)
		dst->completed = src->completed;
	if (fields & ES_F_DESCOPED)
		dst->descoped = src->descoped;
	if (fields & ES_F_CONTENT)
		es_entity_set_content(dst, src->content, src->content_len);
	if (fields & ES_F_EXTRA) {
		bson_destroy(dst->extra);
		dst->extra = bson_copy(src->extra);
	}
}

static void
replace(struct es_entity *dst, bool *has, const struct es_entity *src)
{
	if (*has)
		es_entity_release(dst);
	es_entity_copy(dst, src);
	*has = true;
}

static void
drop(struct es_entity *e, bool *has)
{
	if (*has)
		es_entity_release(e);
	*has = false;
}

static void
world_input(struct world *w, struct es_plan_input *in)
{
	memset(in, 0, sizeof(*in));
	in->kind = w->kind;
	in->base = w->has_base ? &w->base : NULL;
	in->base_rel = w->has_base ? w->base_rel : NULL;
	in->base_doc_updated_at = w->base_ver;
	in->file = w->has_file ? &w->file : NULL;
	in->file_rel = w->has_file ? w->file_rel : NULL;
	in->file_mtime_ms = w->file_mtime;
	in->db = w->has_db ? &w->db : NULL;
	in->db_updated_at = w->db_ver;
}

/* Applies a plan to the model world, checking each op against it. */
static void
world_apply(struct world *w, const struct es_plan *p, int64_t now)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct es_op *op = &p->ops[i];

		switch (op->op) {
		case ES_OP_DOC_INSERT:
			replace(&w->db, &w->has_db, op->value);
			w->db.meta.has_id = true;
			bson_oid_init_from_string(&w->db.meta.id, OID);
			w->db.meta.id.bytes[11] = (uint8_t)++w->next_oid;
			w->db_ver = op->value->meta.updated_at;
			break;
		case ES_OP_DOC_UPDATE:
		case ES_OP_DOC_DELETE:
		case ES_OP_DOC_UNDELETE:
			assert_true(w->has_db);
			assert_int_equal(op->expect_updated_at, w->db_ver);
			assert_true(op->value->meta.updated_at > w->db_ver);
			assert_true(op->op == ES_OP_DOC_UNDELETE ?
			    w->db.meta.deleted : !w->db.meta.deleted);
			take_fields(&w->db, op->value, op->fields);
			w->db.meta.deleted = op->op == ES_OP_DOC_DELETE;
			w->db_ver = op->value->meta.updated_at;
			break;
		case ES_OP_FILE_WRITE:
			if (op->fields == ES_PLAN_F_ALL) {
				assert_false(w->has_file);
				replace(&w->file, &w->has_file, op->value);
			} else {
				assert_true(w->has_file);
				assert_string_equal(op->rel, w->file_rel);
				take_fields(&w->file, op->value, op->fields);
			}
			snprintf(w->file_rel, sizeof(w->file_rel), "%s",
			    op->rel);
			w->file_mtime = now;
			break;
		case ES_OP_FILE_MOVE:
			assert_true(w->has_file);
			assert_string_equal(op->rel_from, w->file_rel);
			take_fields(&w->file, op->value, op->fields);
			snprintf(w->file_rel, sizeof(w->file_rel), "%s",
			    op->rel);
			break;
		case ES_OP_FILE_TRASH:
			assert_true(w->has_file);
			assert_string_equal(op->rel, w->file_rel);
			drop(&w->file, &w->has_file);
			break;
		case ES_OP_BASELINE_PUT:
			if (w->has_file)
				assert_string_equal(op->rel, w->file_rel);
			replace(&w->base, &w->has_base, op->value);
			snprintf(w->base_rel, sizeof(w->base_rel), "%s",
			    op->rel);
			w->base_ver = op->value->meta.has_id ?
			    op->value->meta.updated_at : w->db_ver;
			break;
		case ES_OP_BASELINE_FORGET:
			assert_true(w->has_base);
			drop(&w->base, &w->has_base);
			break;
		case ES_OP_KEEP_FILE_VERSION:
		case ES_OP_KEEP_DOC_VERSION:
		case ES_OP_REPORT:
			break;
		}
	}
}

/* The file's folder and slug are its path (SPEC §2). */
static void
check_path_matches(const struct world *w)
{
	char want[512];

	if (!w->has_file)
		return;
	if (w->kind == ES_KIND_GOAL) {
		snprintf(want, sizeof(want), "30k-goals/%s/%s.md",
		    es_folder_name(w->file.folder), w->file.slug);
		assert_string_equal(w->file_rel, want);
	} else {
		snprintf(want, sizeof(want), "10k-projects/%s/",
		    es_folder_name(w->file.folder));
		assert_true(strncmp(w->file_rel, want, strlen(want)) == 0);
		snprintf(want, sizeof(want), "/%s.md", w->file.slug);
		assert_true(strlen(w->file_rel) > strlen(want));
		assert_string_equal(w->file_rel + strlen(w->file_rel) -
		    strlen(want), want);
	}
}

static const struct es_op *
keep_op(const struct es_plan *p)
{
	const struct es_op *op = find_op(p, ES_OP_KEEP_FILE_VERSION);

	return op ? op : find_op(p, ES_OP_KEEP_DOC_VERSION);
}

static void
test_plan_rule4_8_idempotent_random_histories(void **state)
{
	struct rng r = { 0x9E3779B97F4A7C15ULL };
	size_t plans = 0, conflicts = 0, merges = 0, hostile = 0;

	(void)state;
	for (int h = 0; h < 1500; h++) {
		struct world w;
		int64_t now = T0;

		memset(&w, 0, sizeof(w));
		w.kind = rng_below(&r, 3) ? ES_KIND_PROJECT : ES_KIND_GOAL;
		/* Start synced (or, one time in five, with no baseline). */
		rnd_entity(&r, &w.file, w.kind);
		w.has_file = true;
		file_path(&w, &w.file, NULL);
		es_entity_copy(&w.db, &w.file);
		w.has_db = true;
		w.db.meta.has_id = true;
		bson_oid_init_from_string(&w.db.meta.id, OID);
		w.db_ver = w.file_mtime = now;
		if (rng_below(&r, 5) != 0) {
			es_entity_copy(&w.base, &w.file);
			w.base.meta = w.db.meta;
			w.has_base = true;
			snprintf(w.base_rel, sizeof(w.base_rel), "%s",
			    w.file_rel);
			w.base_ver = w.db_ver;
		} else {
			rnd_edit(&r, &w.db, false);
		}

		for (int round = 0; round < 8; round++) {
			struct es_entity f0, d0;
			bool had_file, had_db, had_base;
			unsigned fb = 0, dbb = 0;
			struct es_plan_input in;
			struct es_plan plan = ES_PLAN_INIT;
			struct es_plan again = ES_PLAN_INIT;
			struct es_buf d1 = ES_BUF_INIT, d2 = ES_BUF_INIT;
			struct es_error err;
			enum es_policy pol = (enum es_policy)rng_below(&r, 3);
			int rc;

			now += HOUR;
			/* The file side. */
			if (w.has_file) {
				unsigned u = rng_below(&r, 10);

				if (u == 0) {
					drop(&w.file, &w.has_file);
				} else if (u < 6) {
					char old[512];

					snprintf(old, sizeof(old), "%s",
					    w.file_rel);
					rnd_edit(&r, &w.file, false);
					file_path(&w, &w.file, old);
					w.file_mtime = now -
					    (int64_t)rng_below(&r, 3) * 1000;
				}
			} else if (rng_below(&r, 6) == 0) {
				rnd_entity(&r, &w.file, w.kind);
				w.has_file = true;
				file_path(&w, &w.file, NULL);
				w.file_mtime = now;
			}
			/* The database side, as the API would. */
			if (w.has_db && !w.db.meta.deleted) {
				unsigned u = rng_below(&r, 12);

				if (u == 0) {
					w.db.meta.deleted = true;
					w.db_ver = now - 500;
				} else if (u == 1) {
					drop(&w.db, &w.has_db);
				} else if (u < 7) {
					rnd_edit(&r, &w.db, true);
					/* The API's clock may lag or lead. */
					w.db_ver = now - 2000 +
					    (int64_t)rng_below(&r, 5) * 1000;
				}
			}

			f0.content = d0.content = NULL;
			if (w.has_file)
				es_entity_copy(&f0, &w.file);
			if (w.has_db)
				es_entity_copy(&d0, &w.db);
			if (w.has_base && w.has_file)
				fb = es_entity_diff(&w.base, &w.file);
			if (w.has_base && w.has_db && !w.db.meta.deleted)
				dbb = es_entity_diff(&w.base, &w.db);
			had_file = w.has_file;
			had_db = w.has_db && !w.db.meta.deleted;
			had_base = w.has_base;

			world_input(&w, &in);
			rc = es_plan_entity(&in, pol, now, &plan, &err);
			plans++;
			/* Deterministic: the same input, the same plan. */
			{
				struct es_plan p2 = ES_PLAN_INIT;

				assert_int_equal(es_plan_entity(&in, pol, now,
				    &p2, &err), rc);
				for (size_t i = 0; i < plan.n; i++)
					es_op_describe(&plan.ops[i], &d1);
				for (size_t i = 0; i < p2.n; i++)
					es_op_describe(&p2.ops[i], &d2);
				assert_string_equal(d1.buf, d2.buf);
				es_plan_release(&p2);
			}
			if (rc == -1) {
				/* A hostile value: nothing planned, the
				 * history ends here. */
				assert_int_equal(plan.n, 0);
				assert_int_equal(err.code == ES_EUNSAFE ||
				    err.code == ES_EPARSE, 1);
				hostile++;
				if (f0.content)
					es_entity_release(&f0);
				if (d0.content)
					es_entity_release(&d0);
				es_buf_release(&d1);
				es_buf_release(&d2);
				break;
			}
			if (!had_base) {
				size_t del, tr;

				es_plan_count(&plan, w.kind, &del, &tr);
				assert_int_equal(del + tr, 0);
			}
			if (keep_op(&plan) != NULL)
				conflicts++;
			if (had_base && had_file && had_db && fb && dbb)
				merges++;

			world_apply(&w, &plan, now);
			check_path_matches(&w);

			/* No edit lost. */
			if (had_base && had_file && had_db) {
				const struct es_op *k = keep_op(&plan);

				assert_true(w.has_file && w.has_db &&
				    !w.db.meta.deleted);
				assert_int_equal(es_entity_diff(&w.file,
				    &w.db), 0);
				for (unsigned bit = 1; bit <= ES_F_EXTRA;
				    bit <<= 1) {
					if ((fb & bit) && !(dbb & bit))
						assert_int_equal(es_entity_diff(
						    &w.file, &f0) & bit, 0);
					if ((dbb & bit) && !(fb & bit))
						assert_int_equal(es_entity_diff(
						    &w.file, &d0) & bit, 0);
				}
				if (fb & dbb & es_entity_diff(&f0, &d0) &
				    ~ES_F_CONTENT)
					assert_non_null(k);
				if (k != NULL)
					assert_int_equal(es_entity_diff(
					    k->value, k->op ==
					    ES_OP_KEEP_FILE_VERSION ? &f0 :
					    &d0), 0);
			}
			if (had_base && !had_file && had_db && dbb) {
				assert_true(w.has_file);
				assert_int_equal(es_entity_diff(&w.file, &d0),
				    0);
			}
			if (had_base && had_file && fb && !had_db) {
				assert_true(w.has_db && !w.db.meta.deleted);
				assert_int_equal(es_entity_diff(&w.db, &f0),
				    0);
			}
			if (w.has_base && w.has_file)
				assert_int_equal(es_entity_diff(&w.base,
				    &w.file), 0);

			/* SPEC 4.8: the next pass plans nothing. */
			world_input(&w, &in);
			assert_int_equal(es_plan_entity(&in, pol, now + 1,
			    &again, &err), 0);
			if (again.n != 0) {
				struct es_buf b = ES_BUF_INIT;

				for (size_t i = 0; i < plan.n; i++) {
					es_op_describe(&plan.ops[i], &b);
					es_buf_addch(&b, '\n');
				}
				es_buf_addstr(&b, "then:\n");
				es_op_describe(&again.ops[0], &b);
				fail_msg("history %d round %d: not idempotent:"
				    "\n%s", h, round, b.buf);
			}
			es_plan_release(&plan);
			es_plan_release(&again);
			es_buf_release(&d1);
			es_buf_release(&d2);
			if (f0.content)
				es_entity_release(&f0);
			if (d0.content)
				es_entity_release(&d0);
		}
		drop(&w.base, &w.has_base);
		drop(&w.file, &w.has_file);
		drop(&w.db, &w.has_db);
	}
	/* The generator reaches the interesting cases. */
	print_message("plans %zu, conflicts %zu, merges %zu, hostile %zu\n",
	    plans, conflicts, merges, hostile);
	assert_true(conflicts > 100);
	assert_true(merges > 300);
	assert_true(hostile > 10);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_plan_section6_table),
	cmocka_unit_test(test_plan_rule4_4_new_file_inserts),
	cmocka_unit_test(test_plan_rule4_4_new_document_writes_file),
	cmocka_unit_test(test_plan_rule4_11_hostile_values),
	cmocka_unit_test(test_plan_rule4_11_only_new_components_checked),
	cmocka_unit_test(test_plan_rule4_1_file_change_any_clock),
	cmocka_unit_test(test_plan_rule4_1_db_change_any_clock),
	cmocka_unit_test(test_plan_rule4_8_unchanged_is_nothing),
	cmocka_unit_test(test_plan_rule4_6_api_moves),
	cmocka_unit_test(test_plan_rule4_6_activate),
	cmocka_unit_test(test_plan_rule4_6_goal_subfolder),
	cmocka_unit_test(test_plan_rule4_6_user_moved_file),
	cmocka_unit_test(test_plan_moved_same_meaning),
	cmocka_unit_test(test_plan_rule4_3_different_fields),
	cmocka_unit_test(test_plan_rule4_3_same_change),
	cmocka_unit_test(test_plan_rule4_3_body_merged),
	cmocka_unit_test(test_plan_rule4_2_body_conflict),
	cmocka_unit_test(test_plan_rule4_2_policy_table),
	cmocka_unit_test(test_plan_rule4_3_conflict_beside_merge),
	cmocka_unit_test(test_plan_rule4_3_extra_conflict),
	cmocka_unit_test(test_plan_rule4_5_file_deleted),
	cmocka_unit_test(test_plan_rule4_5_doc_deleted_trashes),
	cmocka_unit_test(test_plan_rule4_5_edit_wins_file_back),
	cmocka_unit_test(test_plan_rule4_5_edit_wins_undelete),
	cmocka_unit_test(test_plan_rule4_17_identity_equal),
	cmocka_unit_test(test_plan_rule4_17_identity_force),
	cmocka_unit_test(test_plan_rule4_17_never_deletes),
	cmocka_unit_test(test_plan_rule4_10_broken_side),
	cmocka_unit_test(test_plan_rejects_actions),
	cmocka_unit_test(test_plan_rule4_12_versions_increase),
	cmocka_unit_test(test_plan_rule4_15_count),
	cmocka_unit_test(test_plan_rule4_9_describe),
	cmocka_unit_test(test_plan_json),
	cmocka_unit_test(test_plan_spec2_name_follows_slug),
	cmocka_unit_test(test_plan_spec2_user_rename_not_undone),
	cmocka_unit_test(test_plan_rule4_8_idempotent_random_histories),
};

ES_TEST_MAIN(tests)
