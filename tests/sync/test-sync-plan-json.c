/*
 * SPEC 4.9 and §1 (issue 15 item 2): `execsyncd --once --dry-run --json`
 * prints the operations the real pass then does, line for line. Each case
 * makes changes of one kind on one or both sides, runs the dry run, checks
 * it changed nothing, runs the real pass with --json, and checks that
 *  - the two `plan` arrays are equal, op for op;
 *  - every op has direction, op, kind, id and path (from for a move);
 *  - every file the real pass changed (created, rewritten, moved away,
 *    trashed) is the path or the from of an op, and every document it
 *    changed (inserted, updated, deleted) is the id of an op of its kind.
 * The real binary, the fixture's FerretDB, the API peer for the database.
 */
#include "sync-world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "execsync/xmalloc.h"

#define ALPHA		"10k-projects/active/work/alpha.md"
#define BETA		"10k-projects/active/work/beta.md"
#define BETA_MOVED	"10k-projects/incubator/home/beta-two.md"
#define GOAL		"30k-goals/active/run-far.md"
#define MACBOOK		"00k-next-actions/contexts/@macbook.md"
#define PHONE		"00k-next-actions/contexts/@phone.md"
#define WAITING		"00k-next-actions/@waiting.md"
#define COMPLETED	"00k-next-actions/completed.md"

static const char alpha_text[] =
    "---\narea: Work\ntitle: Alpha\ntype: standard\ncreated: 2025-01-02\n"
    "---\n# Alpha\n\nline one\nline two\nline three\n";

static const char macbook_text[] =
    "# @macbook\n"
    "\n"
    "- [ ] (A) Write the report due:2025-11-15\n"
    "  a note under it\n"
    "- [ ] Call mom +family\n"
    "- [ ] Fix the bike\n"
    "- [ ] Water the plants\n";

static json_t *
out_json(const struct world *w)
{
	json_error_t je;
	json_t *j = json_loads(w->out.buf ? w->out.buf : "", 0, &je);

	if (j == NULL)
		fail_msg("not one JSON object: %s (stderr %s)",
		    w->out.buf ? w->out.buf : "", w->err.buf ? w->err.buf :
		    "");
	return j;
}

static const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Each op has the keys SPEC §1 names, of the values it allows. */
static void
check_shape(const json_t *plan)
{
	size_t i;
	json_t *op;

	json_array_foreach(plan, i, op) {
		const char *dir = jstr(op, "direction");
		const char *kind = jstr(op, "kind");
		const char *id = jstr(op, "id");
		char *s = json_dumps(op, JSON_COMPACT);

		if (dir == NULL || jstr(op, "op") == NULL || kind == NULL ||
		    id == NULL || jstr(op, "path") == NULL)
			fail_msg("op without direction, op, kind, id or "
			    "path: %s", s);
		if (strcmp(dir, "file->db") != 0 &&
		    strcmp(dir, "db->file") != 0 && strcmp(dir, "-") != 0)
			fail_msg("bad direction: %s", s);
		if (strcmp(kind, "project") != 0 && strcmp(kind, "goal") != 0 &&
		    strcmp(kind, "action") != 0)
			fail_msg("bad kind: %s", s);
		if (id[0] != '\0' && strlen(id) != 24)
			fail_msg("bad id: %s", s);
		if (strcmp(jstr(op, "op"), "move") == 0 &&
		    jstr(op, "from") == NULL)
			fail_msg("a move without from: %s", s);
		free(s);
	}
}

/* Whether an op of plan has this path (as path or from). */
static bool
plan_has_path(const json_t *plan, const char *rel)
{
	size_t i;
	json_t *op;

	json_array_foreach(plan, i, op) {
		const char *p = jstr(op, "path"), *f = jstr(op, "from");

		if ((p != NULL && strcmp(p, rel) == 0) ||
		    (f != NULL && strcmp(f, rel) == 0))
			return true;
	}
	return false;
}

/* Whether an op of plan writes the document id of this kind. */
static bool
plan_has_doc(const json_t *plan, const char *kind, const char *id)
{
	size_t i;
	json_t *op;

	json_array_foreach(plan, i, op)
		if (strcmp(jstr(op, "kind"), kind) == 0 &&
		    strcmp(jstr(op, "id"), id) == 0 &&
		    strcmp(jstr(op, "direction"), "file->db") == 0)
			return true;
	return false;
}

/* The number of ops of plan with this kind and op name. */
static size_t
plan_count(const json_t *plan, const char *kind, const char *opname)
{
	size_t i, n = 0;
	json_t *op;

	json_array_foreach(plan, i, op)
		n += strcmp(jstr(op, "kind"), kind) == 0 &&
		    strcmp(jstr(op, "op"), opname) == 0;
	return n;
}

/*
 * snapshot() as an object: path -> its line and hash, for files only
 * (the folders' mtimes change with what is in them).
 */
static json_t *
files_of(const char *snap)
{
	json_t *o = json_object();
	const char *p = snap;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = es_xstrndup(p, len), *sp;

		if (len > 66 && line[64] == ' ' && line[65] == ' ' &&
		    strncmp(line + 66, "./", 2) == 0) {
			/* sha256sum: "<hash>  ./<path>" */
			const char *rel = line + 68;
			json_t *had = json_object_get(o, rel);
			char *v = es_xasprintf("%s %.64s", had ?
			    json_string_value(had) : "", line);

			json_object_set_new(o, rel, json_string(v));
			free(v);
		} else if ((sp = strchr(line, ' ')) != NULL &&
		    sp[1] == 'f' && sp != line) {
			*sp = '\0';
			json_object_set_new(o, line, json_string(sp + 2));
		}
		free(line);
		p += len + (nl != NULL);
	}
	return o;
}

/* Every file changed between the two snapshots is in the plan. */
static void
check_files(const char *before, const char *after, const json_t *plan)
{
	json_t *b = files_of(before), *a = files_of(after), *v;
	const char *rel;
	size_t nchanged = 0;

	json_object_foreach(a, rel, v) {
		if (json_equal(v, json_object_get(b, rel)))
			continue;
		nchanged++;
		print_message("changed: %s\n", rel);
		if (!plan_has_path(plan, rel))
			fail_msg("%s changed but is in no op of the plan", rel);
	}
	json_object_foreach(b, rel, v) {
		if (json_object_get(a, rel) != NULL)
			continue;
		nchanged++;
		if (!plan_has_path(plan, rel))
			fail_msg("%s went away but is in no op of the plan",
			    rel);
	}
	print_message("%zu files changed, all in the plan\n", nchanged);
	json_decref(a);
	json_decref(b);
}

/* A dump's collection as an object: hex id -> the document. */
static json_t *
docs_of(const json_t *dumped, const char *coll)
{
	json_t *o = json_object(), *d;
	size_t i;

	json_array_foreach(json_object_get(dumped, coll), i, d) {
		const char *id = json_string_value(json_object_get(
		    json_object_get(d, "_id"), "$oid"));

		if (id != NULL)
			json_object_set(o, id, d);
	}
	return o;
}

/* Every document changed between the two dumps is in the plan. */
static void
check_docs(const char *before, const char *after, const json_t *plan)
{
	static const char *const colls[3][2] = { { "projects", "project" },
	    { "goals", "goal" }, { "actions", "action" } };
	json_error_t je;
	json_t *db = json_loads(before, 0, &je), *da = json_loads(after, 0,
	    &je);
	size_t nchanged = 0;

	if (db == NULL || da == NULL)
		fail_msg("peer dump is not JSON");
	for (int k = 0; k < 3; k++) {
		json_t *b = docs_of(db, colls[k][0]), *a = docs_of(da,
		    colls[k][0]), *v;
		const char *id;

		json_object_foreach(a, id, v) {
			if (json_equal(v, json_object_get(b, id)))
				continue;
			nchanged++;
			if (!plan_has_doc(plan, colls[k][1], id))
				fail_msg("%s %s changed but is in no op of "
				    "the plan", colls[k][0], id);
		}
		json_object_foreach(b, id, v)
			if (json_object_get(a, id) == NULL)
				fail_msg("%s %s vanished", colls[k][0], id);
		json_decref(a);
		json_decref(b);
	}
	print_message("%zu documents changed, all in the plan\n", nchanged);
	json_decref(db);
	json_decref(da);
}

/*
 * The dry run, then the real pass, on the world as it is; checks what the
 * file comment says. Returns the plan (the caller json_decref()s it).
 */
static json_t *
dry_then_real(struct world *w)
{
	const char *dry[] = { "--dry-run", "--json", NULL };
	char *s0 = snapshot(w), *d0 = dump(w), *s1, *d1, *p1, *p2;
	json_t *j1, *j2, *plan;
	int rc;

	rc = syncd(w, dry);
	j1 = out_json(w);
	if (rc != 0 && rc != 1)
		fail_msg("dry run exit %d: %s", rc, w->err.buf);
	s1 = snapshot(w);
	d1 = dump(w);
	assert_string_equal(s0, s1);	/* SPEC 4.9: nothing changed */
	assert_string_equal(d0, d1);
	free(s1);
	free(d1);
	/* A conflict counts when it is kept: exit 1 then, 0 in a dry run. */
	rc = syncd1(w, "--json");
	j2 = out_json(w);
	if (rc != 0 && rc != 1)
		fail_msg("real run exit %d: %s", rc, w->err.buf);
	p1 = json_dumps(json_object_get(j1, "plan"), JSON_COMPACT);
	p2 = json_dumps(json_object_get(j2, "plan"), JSON_COMPACT);
	if (!json_equal(json_object_get(j1, "plan"), json_object_get(j2,
	    "plan")))
		fail_msg("the dry run's plan\n%s\nis not the real run's\n%s",
		    p1, p2);
	print_message("plan: %s\n", p2);
	free(p1);
	free(p2);
	/* A dry run counts what it would do: the real run's counts. */
	if (!json_equal(json_object_get(j1, "applied"), json_object_get(j2,
	    "applied")) || json_integer_value(json_object_get(j1, "to_db")) !=
	    json_integer_value(json_object_get(j2, "to_db")) ||
	    json_integer_value(json_object_get(j1, "to_file")) !=
	    json_integer_value(json_object_get(j2, "to_file")))
		fail_msg("the dry run's counts are not the real run's:\n%s\n%s",
		    w->out.buf, json_dumps(j1, JSON_COMPACT));
	plan = json_incref(json_object_get(j2, "plan"));
	check_shape(plan);
	s1 = snapshot(w);
	d1 = dump(w);
	check_files(s0, s1, plan);
	check_docs(d0, d1, plan);
	free(s0);
	free(s1);
	free(d0);
	free(d1);
	json_decref(j1);
	json_decref(j2);
	return plan;
}

static char *
action_id(const struct world *w, const char *text)
{
	char *all = dump(w), *hex = NULL;
	json_error_t je;
	json_t *j = json_loads(all, 0, &je), *d;
	size_t i;

	json_array_foreach(json_object_get(j, "actions"), i, d)
		if (hex == NULL && strcmp(jstr(d, "text"), text) == 0)
			hex = es_xstrdup(json_string_value(json_object_get(
			    json_object_get(d, "_id"), "$oid")));
	if (hex == NULL)
		fail_msg("no action '%s'", text);
	json_decref(j);
	free(all);
	return hex;
}

/* The API's cmd on the action with this text; set: its "set", or NULL. */
static void
action_cmd(const struct world *w, const char *cmd, const char *text,
    const char *set)
{
	char *id = action_id(w, text), *json;

	json = set != NULL ? es_xasprintf("{\"id\":\"%s\",\"set\":%s}", id,
	    set) : es_xasprintf("{\"id\":\"%s\"}", id);
	peer(w, cmd, json);
	free(json);
	free(id);
}

static void
seed(struct world *w)
{
	put(w, ALPHA, alpha_text);
	put(w, BETA, "---\narea: Work\ntitle: Beta\n---\nbeta body\nmore\n");
	put(w, GOAL, "---\ntitle: Run Far\ntype: goal\n---\nkeep going\n");
	put(w, MACBOOK, macbook_text);
	assert_int_equal(syncd(w, NULL), 0);
}

/* ---- the cases ---- */

/* The first pass: everything new on both sides, inserts by the dozen. */
static void
test_plan_json_first_pass(void **state)
{
	struct world w;
	json_t *plan;

	(void)state;
	w_begin(&w, "pj_first");
	put(&w, ALPHA, alpha_text);
	put(&w, GOAL, "---\ntitle: Run Far\ntype: goal\n---\nkeep going\n");
	put(&w, MACBOOK, macbook_text);
	peer(&w, "create-project", "{\"title\":\"From The API\","
	    "\"area\":\"Side\",\"content\":\"api body\\n\"}");
	peer(&w, "create-action", "{\"text\":\"Buy milk\","
	    "\"context\":\"@phone\"}");
	plan = dry_then_real(&w);
	assert_int_equal(plan_count(plan, "project", "insert"), 1);
	assert_int_equal(plan_count(plan, "goal", "insert"), 1);
	assert_int_equal(plan_count(plan, "action", "insert"), 4);
	assert_int_equal(plan_count(plan, "action", "write"), 1);
	json_decref(plan);
	w_end(&w);
}

/*
 * Without --json a dry run prints its plan a line an op, the baseline's
 * bookkeeping only with --verbose, and ends with a summary per direction,
 * op and kind; its log line counts what it would do (issue 18).
 */
static void
test_plan_text_summary(void **state)
{
	const char *dry[] = { "--dry-run", NULL };
	const char *verbose[] = { "--dry-run", "--verbose", NULL };
	struct world w;
	char *quiet;

	(void)state;
	w_begin(&w, "pj_text");
	put(&w, ALPHA, alpha_text);
	put(&w, GOAL, "---\ntitle: Run Far\ntype: goal\n---\nkeep going\n");
	put(&w, MACBOOK, macbook_text);
	peer(&w, "create-project", "{\"title\":\"From The API\","
	    "\"area\":\"Side\",\"content\":\"api body\\n\"}");
	assert_int_equal(syncd(&w, dry), 0);
	quiet = es_xstrdup(w.out.buf);
	print_message("%s", quiet);
	if (strstr(quiet, "file->db insert project " ALPHA) == NULL ||
	    strstr(quiet, "would change: 7 operations\n") == NULL ||
	    strstr(quiet, "  file->db insert            1 project, 1 goal, "
	    "4 actions\n") == NULL ||
	    strstr(quiet, "  db->file write             1 project\n") ==
	    NULL)
		fail_msg("no plan or summary:\n%s", quiet);
	assert_null(strstr(quiet, "\n- baseline"));
	assert_null(strstr(quiet, "\n- forget"));
	/* The log says what it would do, not "0 to the database". */
	if (strstr(w.err.buf, "dry run: ") == NULL ||
	    strstr(w.err.buf, " 6 to the database, 1 to files, 6 inserted")
	    == NULL)
		fail_msg("log: %s", w.err.buf);
	assert_int_equal(syncd(&w, verbose), 0);
	if (strstr(quiet, "bookkeeping") != NULL &&
	    strstr(w.out.buf, "\n- baseline") == NULL)
		fail_msg("--verbose: no bookkeeping lines:\n%s", w.out.buf);
	free(quiet);
	w_end(&w);
}

/* Projects and goals changed in the folder: create, edit, move, delete. */
static void
test_plan_json_entities_file_side(void **state)
{
	struct world w;
	json_t *plan;
	char *s;

	(void)state;
	w_begin(&w, "pj_efile");
	seed(&w);
	put(&w, "10k-projects/active/work/gamma.md",
	    "---\narea: Work\ntitle: Gamma\n---\nnew\n");
	put(&w, "30k-goals/incubator/swim.md",
	    "---\ntitle: Swim\ntype: goal\n---\nlaps\n");
	s = es_xasprintf("%sline four\n", alpha_text);
	put(&w, ALPHA, s);
	free(s);
	{
		char *from = path_of(&w, BETA), *to = path_of(&w, BETA_MOVED);
		char *dir = path_of(&w, "10k-projects/incubator/home");
		char *cmd = es_xasprintf("mkdir -p '%s' && mv '%s' '%s'",
		    dir, from, to);

		assert_int_equal(system(cmd), 0);
		free(cmd);
		free(dir);
		free(from);
		free(to);
	}
	{
		char *g = path_of(&w, GOAL);

		assert_int_equal(remove(g), 0);
		free(g);
	}
	plan = dry_then_real(&w);
	assert_int_equal(plan_count(plan, "project", "insert"), 1);
	assert_int_equal(plan_count(plan, "goal", "insert"), 1);
	assert_int_equal(plan_count(plan, "project", "update"), 2);
	assert_int_equal(plan_count(plan, "goal", "delete"), 1);
	json_decref(plan);
	w_end(&w);
}

/* Projects and goals changed in the database: the files follow. */
static void
test_plan_json_entities_db_side(void **state)
{
	struct world w;
	json_t *plan;

	(void)state;
	w_begin(&w, "pj_edb");
	seed(&w);
	peer(&w, "create-project", "{\"title\":\"Api Made\",\"area\":\"Work\","
	    "\"content\":\"x\\n\"}");
	peer(&w, "update-project", "{\"slug\":\"alpha\",\"set\":{\"due\":"
	    "\"2026-05-01\"}}");
	peer(&w, "complete-project", "{\"slug\":\"beta\"}");
	peer(&w, "delete-goal", "{\"slug\":\"run-far\"}");
	plan = dry_then_real(&w);
	assert_int_equal(plan_count(plan, "project", "write"), 3);
	assert_int_equal(plan_count(plan, "project", "move"), 1);
	assert_int_equal(plan_count(plan, "goal", "trash"), 1);
	json_decref(plan);
	w_end(&w);
}

/* Action lines changed in the folder: add, edit, check off, move, remove. */
static void
test_plan_json_actions_file_side(void **state)
{
	struct world w;
	json_t *plan;

	(void)state;
	w_begin(&w, "pj_afile");
	seed(&w);
	put(&w, MACBOOK,
	    "# @macbook\n"
	    "\n"
	    "- [ ] (A) Write the report due:2025-11-20\n"
	    "  a note under it\n"
	    "- [x] 2025-11-10 Fix the bike\n"
	    "- [ ] A new line\n");
	put(&w, WAITING, "# Waiting\n\n- [ ] Call mom +family\n");
	plan = dry_then_real(&w);
	assert_int_equal(plan_count(plan, "action", "insert"), 1);
	assert_true(plan_count(plan, "action", "update") >= 3);
	assert_int_equal(plan_count(plan, "action", "delete"), 1);
	json_decref(plan);
	w_end(&w);
}

/* Actions changed by the API: create, edit, complete, move, delete. */
static void
test_plan_json_actions_db_side(void **state)
{
	struct world w;
	json_t *plan;

	(void)state;
	w_begin(&w, "pj_adb");
	seed(&w);
	peer(&w, "create-action", "{\"text\":\"Buy milk\","
	    "\"context\":\"@phone\"}");
	action_cmd(&w, "update-action", "Write the report",
	    "{\"text\":\"Write the long report\"}");
	action_cmd(&w, "complete-action", "Call mom", NULL);
	action_cmd(&w, "update-action", "Fix the bike",
	    "{\"context\":\"@phone\"}");
	action_cmd(&w, "delete-action", "Water the plants", NULL);
	plan = dry_then_real(&w);
	assert_int_equal(plan_count(plan, "action", "write"), 2);
	assert_int_equal(plan_count(plan, "action", "move"), 2);
	assert_int_equal(plan_count(plan, "action", "trash"), 1);
	assert_true(plan_has_path(plan, COMPLETED));
	assert_true(plan_has_path(plan, PHONE));
	json_decref(plan);
	w_end(&w);
}

/* Both sides changed one field of a project and of an action. */
static void
test_plan_json_conflicts(void **state)
{
	struct world w;
	json_t *plan;

	(void)state;
	w_begin(&w, "pj_conflict");
	seed(&w);
	put(&w, BETA, "---\narea: Work\ntitle: Beta\ndue: 2026-01-01\n---\n"
	    "beta body\nmore\n");
	set_mtime(&w, BETA, -3600);
	peer(&w, "update-project", "{\"slug\":\"beta\",\"set\":{\"due\":"
	    "\"2026-02-02\"}}");
	put(&w, MACBOOK,
	    "# @macbook\n"
	    "\n"
	    "- [ ] (A) Write the report due:2025-11-20\n"
	    "  a note under it\n"
	    "- [ ] Call mom +family\n"
	    "- [ ] Fix the bike\n"
	    "- [ ] Water the plants\n");
	set_mtime(&w, MACBOOK, -3600);
	action_cmd(&w, "update-action", "Write the report",
	    "{\"due\":\"2025-12-24\"}");
	plan = dry_then_real(&w);
	assert_int_equal(plan_count(plan, "project", "keep-file-version"), 1);
	assert_int_equal(plan_count(plan, "action", "keep-file-version"), 1);
	assert_int_equal(plan_count(plan, "project", "report"), 1);
	assert_int_equal(plan_count(plan, "action", "report"), 1);
	json_decref(plan);
	w_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_plan_json_first_pass),
	cmocka_unit_test(test_plan_text_summary),
	cmocka_unit_test(test_plan_json_entities_file_side),
	cmocka_unit_test(test_plan_json_entities_db_side),
	cmocka_unit_test(test_plan_json_actions_file_side),
	cmocka_unit_test(test_plan_json_actions_db_side),
	cmocka_unit_test(test_plan_json_conflicts),
};

ES_TEST_MAIN(tests)
