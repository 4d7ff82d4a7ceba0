/*
 * `execsyncd --once` for actions (issue 5, SPEC §2 "Action list files",
 * §4 rules 2, 3, 5, 7, 8, 10, 15, 17): the real binary on real temporary
 * folders against the real server; database changes only through the API
 * peer. Each case: its own database and folder.
 */
#include "sync-world.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mongoc/mongoc.h>

#include "execsync/baseline.h"
#include "execsync/xmalloc.h"

#ifndef ES_SYNCD_BIN
#error "ES_SYNCD_BIN (the path of execsyncd) is not defined"
#endif

#define MACBOOK		"00k-next-actions/contexts/@macbook.md"
#define PHONE		"00k-next-actions/contexts/@phone.md"
#define INBOX		"00k-next-actions/contexts/@inbox.md"
#define WAITING		"00k-next-actions/@waiting.md"
#define COMPLETED	"00k-next-actions/completed.md"
#define TRASH		".execsync/trash/actions.md"
#define KEPT		".execsync/conflicts/actions.md"

/* Headings, notes, blank lines and frontmatter around the actions. */
static const char macbook_text[] =
    "---\n"
    "owner: me\n"
    "---\n"
    "# @macbook\n"
    "\n"
    "- [ ] (A) Write the report due:2025-11-15\n"
    "  a note under it\n"
    "- [ ] Call mom +family\n"
    "\n"
    "## later\n"
    "notes at the end\n";

/* The newest document of this user with this text; false if none. */
static bool
action_get(const struct world *w, const char *text, bson_t *out)
{
	mongoc_client_t *c = mongoc_client_new(w->t.uri);
	mongoc_collection_t *col;
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
	const bson_t *doc;
	bool found = false;

	if (c == NULL)
		fail_msg("mongoc_client_new");
	col = mongoc_client_get_collection(c, w->t.db, "actions");
	BSON_APPEND_UTF8(&filter, "user_id", w->t.user);
	BSON_APPEND_UTF8(&filter, "text", text);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "sort", &sort);
	BSON_APPEND_INT32(&sort, "updated_at", -1);
	bson_append_document_end(&opts, &sort);
	cur = mongoc_collection_find_with_opts(col, &filter, &opts, NULL);
	if (mongoc_cursor_next(cur, &doc)) {
		bson_copy_to(doc, out);
		found = true;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	bson_destroy(&opts);
	mongoc_collection_destroy(col);
	mongoc_client_destroy(c);
	return found;
}

static void
oid_str(const bson_t *doc, char hex[25])
{
	bson_oid_t id;

	es_itest_oid(doc, "_id", &id);
	bson_oid_to_string(&id, hex);
}

/* The number of ops of the last --json run. */
static size_t
plan_size(const struct world *w)
{
	json_error_t je;
	json_t *j = json_loads(w->out.buf, 0, &je);
	size_t n;

	if (j == NULL)
		fail_msg("not JSON: %s", w->out.buf ? w->out.buf : "");
	n = json_array_size(json_object_get(j, "plan"));
	json_decref(j);
	return n;
}

static int64_t
json_int(const struct world *w, const char *key)
{
	json_error_t je;
	json_t *j = json_loads(w->out.buf, 0, &je);
	int64_t n;

	if (j == NULL)
		fail_msg("not JSON: %s", w->out.buf ? w->out.buf : "");
	n = json_integer_value(json_object_get(j, key));
	json_decref(j);
	return n;
}

/* SPEC 4.8: the next pass plans nothing and rewrites no list. */
static void
assert_settled(struct world *w)
{
	char *before = snapshot(w);
	char *after;

	assert_int_equal(syncd1(w, "--json"), 0);
	if (plan_size(w) != 0)
		fail_msg("second pass planned: %s", w->out.buf);
	after = snapshot(w);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void
seed_macbook(struct world *w)
{
	put(w, MACBOOK, macbook_text);
	assert_int_equal(syncd(w, NULL), 0);
}

/* ---- file -> database ---- */

static void
test_act_file_new_lines_create_docs(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "a_fnew");
	seed_macbook(&w);
	assert_int_equal(count_docs(&w, "actions"), 2);
	assert_true(action_get(&w, "Write the report", &doc));
	assert_string_equal(es_itest_str(&doc, "context"), "@macbook");
	assert_string_equal(es_itest_str(&doc, "state"), "next");
	assert_string_equal(es_itest_str(&doc, "priority"), "A");
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2025-11-15"));
	bson_destroy(&doc);
	assert_true(action_get(&w, "Call mom", &doc));
	assert_string_equal(es_itest_str(&doc, "project_slug"), "family");
	bson_destroy(&doc);
	/* The file is ours, unchanged. */
	{
		char *s = get(&w, MACBOOK);

		assert_string_equal(s, macbook_text);
		free(s);
	}
	assert_settled(&w);
	w_end(&w);
}

static void
test_act_file_edit_move_checkoff_remove(void **state)
{
	struct world w;
	bson_t doc;
	char id1[25], id2[25], hex[25];

	(void)state;
	w_begin(&w, "a_fedit");
	seed_macbook(&w);
	assert_true(action_get(&w, "Write the report", &doc));
	oid_str(&doc, id1);
	bson_destroy(&doc);
	assert_true(action_get(&w, "Call mom", &doc));
	oid_str(&doc, id2);
	bson_destroy(&doc);
	/* Edited in place: the due date; moved: Call mom to @waiting. */
	put(&w, MACBOOK,
	    "---\nowner: me\n---\n# @macbook\n\n"
	    "- [ ] (A) Write the report due:2025-11-20\n"
	    "  a note under it\n"
	    "\n## later\nnotes at the end\n");
	put(&w, WAITING, "# Waiting\n\n- [ ] Call mom +family\n");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_int_equal(count_docs(&w, "actions"), 2);
	assert_true(action_get(&w, "Write the report", &doc));
	oid_str(&doc, hex);
	assert_string_equal(hex, id1);
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2025-11-20"));
	bson_destroy(&doc);
	assert_true(action_get(&w, "Call mom", &doc));
	oid_str(&doc, hex);
	assert_string_equal(hex, id2);
	assert_string_equal(es_itest_str(&doc, "state"), "waiting");
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	assert_settled(&w);
	/* Checked off into completed.md, then removed from @waiting. */
	put(&w, WAITING, "# Waiting\n\n");
	put(&w, COMPLETED, "# Completed\n\n"
	    "- [x] 2025-11-10 Call mom +family\n");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(action_get(&w, "Call mom", &doc));
	oid_str(&doc, hex);
	assert_string_equal(hex, id2);
	assert_string_equal(es_itest_str(&doc, "state"), "completed");
	assert_true(es_itest_date(&doc, "completed") ==
	    es_itest_day_ms("2025-11-10"));
	bson_destroy(&doc);
	/* Removed: soft delete. */
	put(&w, COMPLETED, "# Completed\n\n");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(action_get(&w, "Call mom", &doc));
	assert_true(doc_deleted(&doc));
	bson_destroy(&doc);
	assert_int_equal(count_docs(&w, "actions"), 2);
	assert_settled(&w);
	w_end(&w);
}

/*
 * SPEC 4.12 for actions, whose writes go in one bulk: the API's lagging
 * edit of one action is missed by the recent-changes query, so that write
 * of the bulk is refused ("left for the next pass") while the other
 * action's applies; the next full read merges both sides of the first.
 */
static void
test_act_lost_race_in_bulk(void **state)
{
	struct world w;
	bson_t doc;
	char id[25], json[256], *s;
	int64_t day = (int64_t)86400 * 1000;

	(void)state;
	w_begin(&w, "a_race");
	seed_macbook(&w);
	assert_true(action_get(&w, "Call mom", &doc));
	oid_str(&doc, id);
	bson_destroy(&doc);
	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"set\":{\"priority\":"
	    "\"C\"}}", id);
	peer_clock(&w, -day, "update-action", json);
	put(&w, MACBOOK,
	    "---\nowner: me\n---\n# @macbook\n\n"
	    "- [ ] (A) Write the report due:2025-11-20\n"
	    "  a note under it\n"
	    "- [ ] Call mom +family due:2025-12-01\n"
	    "\n## later\nnotes at the end\n");
	(void)syncd(&w, NULL);
	assert_true(contains(w.err.buf, "left for the next pass"));
	assert_true(action_get(&w, "Write the report", &doc));
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2025-11-20"));
	bson_destroy(&doc);
	assert_true(action_get(&w, "Call mom", &doc));
	assert_string_equal(es_itest_str(&doc, "priority"), "C");
	bson_destroy(&doc);
	/* The full read sees the API's edit: merged by field. */
	assert_int_equal(syncd1(&w, "--full"), 0);
	assert_true(action_get(&w, "Call mom", &doc));
	assert_string_equal(es_itest_str(&doc, "priority"), "C");
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2025-12-01"));
	bson_destroy(&doc);
	s = get(&w, MACBOOK);
	assert_true(contains(s, "(C) Call mom +family due:2025-12-01"));
	assert_true(contains(s, "  a note under it\n"));
	free(s);
	assert_settled(&w);
	w_end(&w);
}

/* ---- database -> file ---- */

static void
test_act_db_new_appended_and_list_created(void **state)
{
	struct world w;
	char *s;

	(void)state;
	w_begin(&w, "a_dnew");
	seed_macbook(&w);
	peer(&w, "create-action", "{\"text\":\"Buy cable\",\"context\":"
	    "\"@macbook\",\"due\":\"2025-12-01\"}");
	peer(&w, "create-action", "{\"text\":\"Ring Bob\",\"context\":"
	    "\"@phone\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	s = get(&w, MACBOOK);
	assert_string_equal(s,
	    "---\nowner: me\n---\n# @macbook\n\n"
	    "- [ ] (A) Write the report due:2025-11-15\n"
	    "  a note under it\n"
	    "- [ ] Call mom +family\n"
	    "- [ ] Buy cable due:2025-12-01\n"
	    "\n## later\nnotes at the end\n");
	free(s);
	s = get(&w, PHONE);
	assert_string_equal(s, "# @phone\n\n- [ ] Ring Bob\n");
	free(s);
	assert_int_equal(count_docs(&w, "actions"), 4);
	assert_settled(&w);
	w_end(&w);
}

static void
test_act_db_update_rewrites_only_its_line(void **state)
{
	struct world w;
	bson_t doc;
	char id[25], json[256], *s;

	(void)state;
	w_begin(&w, "a_dupd");
	seed_macbook(&w);
	assert_true(action_get(&w, "Call mom", &doc));
	oid_str(&doc, id);
	bson_destroy(&doc);
	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"set\":{\"due\":"
	    "\"2025-11-30\",\"priority\":\"B\"}}", id);
	peer(&w, "update-action", json);
	assert_int_equal(syncd(&w, NULL), 0);
	s = get(&w, MACBOOK);
	assert_string_equal(s,
	    "---\nowner: me\n---\n# @macbook\n\n"
	    "- [ ] (A) Write the report due:2025-11-15\n"
	    "  a note under it\n"
	    "- [ ] (B) Call mom +family due:2025-11-30\n"
	    "\n## later\nnotes at the end\n");
	free(s);
	assert_settled(&w);
	/* A state change: the line leaves its list for @waiting.md. */
	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"set\":{\"state\":"
	    "\"waiting\"}}", id);
	peer(&w, "update-action", json);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, WAITING, "Call mom");
	s = get(&w, MACBOOK);
	assert_false(contains(s, "Call mom"));
	assert_true(contains(s, "  a note under it\n\n## later\n"));
	free(s);
	assert_true(action_get(&w, "Call mom", &doc));
	assert_string_equal(es_itest_str(&doc, "state"), "waiting");
	bson_destroy(&doc);
	assert_settled(&w);
	w_end(&w);
}

static void
test_act_db_complete_and_delete(void **state)
{
	struct world w;
	bson_t doc;
	char id1[25], id2[25], json[256], *s;

	(void)state;
	w_begin(&w, "a_dcomp");
	seed_macbook(&w);
	assert_true(action_get(&w, "Call mom", &doc));
	oid_str(&doc, id1);
	bson_destroy(&doc);
	assert_true(action_get(&w, "Write the report", &doc));
	oid_str(&doc, id2);
	bson_destroy(&doc);
	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"date\":"
	    "\"2025-11-13\"}", id1);
	peer(&w, "complete-action", json);
	snprintf(json, sizeof(json), "{\"id\":\"%s\"}", id2);
	peer(&w, "delete-action", json);
	assert_int_equal(syncd(&w, NULL), 0);
	s = get(&w, MACBOOK);
	assert_string_equal(s, "---\nowner: me\n---\n# @macbook\n\n"
	    "  a note under it\n\n## later\nnotes at the end\n");
	free(s);
	assert_file_has(&w, COMPLETED, "- [x] 2025-11-13 Call mom");
	assert_file_has(&w, TRASH, MACBOOK);
	assert_file_has(&w, TRASH, "Write the report");
	assert_settled(&w);
	w_end(&w);
}

/* ---- both sides (SPEC 4.2, 4.3, 4.5) ---- */

static void
test_act_both_sides_merge_and_conflict(void **state)
{
	struct world w;
	bson_t doc;
	char id[25], json[256];

	(void)state;
	w_begin(&w, "a_both");
	seed_macbook(&w);
	assert_true(action_get(&w, "Call mom", &doc));
	oid_str(&doc, id);
	bson_destroy(&doc);
	/* Different fields: the file sets a due date, the API a priority. */
	put(&w, MACBOOK,
	    "---\nowner: me\n---\n# @macbook\n\n"
	    "- [ ] (A) Write the report due:2025-11-15\n"
	    "  a note under it\n"
	    "- [ ] Call mom +family due:2025-11-21\n"
	    "\n## later\nnotes at the end\n");
	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"set\":{\"priority\":"
	    "\"C\"}}", id);
	peer(&w, "update-action", json);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(action_get(&w, "Call mom", &doc));
	assert_string_equal(es_itest_str(&doc, "priority"), "C");
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2025-11-21"));
	bson_destroy(&doc);
	assert_file_has(&w, MACBOOK, "- [ ] (C) Call mom +family "
	    "due:2025-11-21\n");
	assert_false(exists(&w, KEPT));
	assert_settled(&w);
	/* The same field: the API (clock a day ahead) wins, the line kept. */
	put(&w, MACBOOK,
	    "---\nowner: me\n---\n# @macbook\n\n"
	    "- [ ] (A) Write the report due:2025-11-15\n"
	    "  a note under it\n"
	    "- [ ] (C) Call mom +family due:2025-11-22\n"
	    "\n## later\nnotes at the end\n");
	set_mtime(&w, MACBOOK, -3600);
	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"set\":{\"due\":"
	    "\"2025-11-25\"}}", id);
	peer_clock(&w, DAY_S * 1000LL, "update-action", json);
	assert_int_equal(syncd(&w, NULL), 1);
	assert_file_has(&w, MACBOOK, "Call mom +family due:2025-11-25\n");
	assert_file_has(&w, KEPT, "due:2025-11-22");
	assert_true(action_get(&w, "Call mom", &doc));
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2025-11-25"));
	bson_destroy(&doc);
	assert_settled(&w);
	w_end(&w);
}

static void
test_act_delete_vs_edit_edit_wins(void **state)
{
	struct world w;
	bson_t doc;
	char id[25], json[256];

	(void)state;
	w_begin(&w, "a_delx");
	seed_macbook(&w);
	assert_true(action_get(&w, "Call mom", &doc));
	oid_str(&doc, id);
	bson_destroy(&doc);
	/* The line removed, the document edited: the line comes back. */
	put(&w, MACBOOK,
	    "---\nowner: me\n---\n# @macbook\n\n"
	    "- [ ] (A) Write the report due:2025-11-15\n"
	    "  a note under it\n"
	    "\n## later\nnotes at the end\n");
	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"set\":{\"due\":"
	    "\"2025-12-24\"}}", id);
	peer(&w, "update-action", json);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, MACBOOK, "Call mom +family due:2025-12-24");
	assert_true(action_get(&w, "Call mom", &doc));
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	assert_settled(&w);
	/* The document deleted, the line edited: the document comes back. */
	snprintf(json, sizeof(json), "{\"id\":\"%s\"}", id);
	peer(&w, "delete-action", json);
	put(&w, MACBOOK,
	    "---\nowner: me\n---\n# @macbook\n\n"
	    "- [ ] (A) Write the report due:2025-11-15\n"
	    "  a note under it\n"
	    "- [ ] Call mom +family due:2025-12-25\n"
	    "\n## later\nnotes at the end\n");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(action_get(&w, "Call mom", &doc));
	assert_false(doc_deleted(&doc));
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2025-12-25"));
	bson_destroy(&doc);
	assert_int_equal(count_docs(&w, "actions"), 2);
	assert_settled(&w);
	w_end(&w);
}

/* ---- SPEC 4.8: values the folder spells otherwise ---- */

static void
test_act_inbox_settles(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "a_inbox");
	seed_macbook(&w);
	peer(&w, "create-action", "{\"text\":\"Sort the mail\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, INBOX, "- [ ] Sort the mail\n");
	assert_true(action_get(&w, "Sort the mail", &doc));
	assert_string_equal(es_itest_str(&doc, "context"), "@inbox");
	bson_destroy(&doc);
	assert_settled(&w);
	w_end(&w);
}

/* A no-op pass reads no list whose stat data match the baseline. */
static void
test_act_noop_reads_no_list(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "a_noop");
	seed_macbook(&w);
	put(&w, WAITING, "# Waiting\n\n- [ ] Hear from Ann\n");
	assert_int_equal(syncd1(&w, "--json"), 0);
	assert_int_equal(json_int(&w, "files_read"), 1);
	assert_int_equal(syncd1(&w, "--json"), 0);
	assert_int_equal(json_int(&w, "files_read"), 0);
	assert_int_equal(plan_size(&w), 0);
	/* Only actions in the baseline: still a recent-changes query. */
	{
		json_error_t je;
		json_t *j = json_loads(w.out.buf, 0, &je);

		assert_non_null(j);
		assert_false(json_is_true(json_object_get(j, "full_read")));
		json_decref(j);
	}
	w_end(&w);
}

/* ---- SPEC 4.17: no baseline ---- */

static void
test_act_resync_and_migrate_no_duplicates(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "a_resync");
	put(&w, MACBOOK, macbook_text);
	put(&w, WAITING, "# Waiting\n\n- [ ] Hear from Ann\n"
	    "- [ ] Hear from Ann\n");
	{
		char *argv[] = { (char *)ES_MIGRATE_BIN, (char *)"--source",
		    w.root, (char *)"--mongodb-uri", w.t.uri,
		    (char *)"--user-id", (char *)w.t.user, (char *)"--database",
		    w.t.db, NULL };

		assert_int_equal(es_itest_run(argv, NULL, NULL, 60), 0);
	}
	assert_int_equal(count_docs(&w, "actions"), 4);
	assert_int_equal(syncd1(&w, "--json"), 0);
	if (plan_size(&w) != 0)
		fail_msg("after migrate: %s", w.out.buf);
	/* --resync: matched by id and identity, nothing created. */
	assert_int_equal(syncd1(&w, "--resync"), 0);
	assert_int_equal(count_docs(&w, "actions"), 4);
	/* A fresh clone: no baseline at all. */
	{
		char *p = es_xasprintf("%s/.execsync", w.root);

		es_itest_rm_rf(p);
		free(p);
	}
	assert_int_equal(syncd(&w, NULL), 0);
	assert_int_equal(count_docs(&w, "actions"), 4);
	assert_settled(&w);
	w_end(&w);
}

/* No baseline, no shared ids: a line and a document meet by list and text. */
static void
test_act_identity_first_pass(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "a_ident");
	peer(&w, "create-action", "{\"text\":\"Ring Bob\",\"context\":"
	    "\"@phone\"}");
	peer(&w, "create-action", "{\"text\":\"Ring Ann\",\"context\":"
	    "\"@phone\",\"due\":\"2025-11-30\"}");
	put(&w, PHONE, "# @phone\n\n- [ ] Ring Bob\n- [ ] Ring Ann\n");
	set_mtime(&w, PHONE, -7200);
	/* Ring Ann differs (due): a conflict, the database newer wins. */
	assert_int_equal(syncd(&w, NULL), 1);
	assert_int_equal(count_docs(&w, "actions"), 2);
	assert_int_equal(count_docs(&w, "sync_conflicts"), 0);
	assert_file_has(&w, PHONE, "- [ ] Ring Ann due:2025-11-30\n");
	assert_file_has(&w, KEPT, "- [ ] Ring Ann");
	assert_true(action_get(&w, "Ring Bob", &doc));
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	assert_settled(&w);
	w_end(&w);
}

/* ---- SPEC 4.15, 4.10 ---- */

static void
test_act_deletion_guard(void **state)
{
	struct world w;
	struct es_buf b = ES_BUF_INIT;
	bson_t doc;

	(void)state;
	w_begin(&w, "a_guard");
	es_buf_addstr(&b, "# @macbook\n\n");
	for (int i = 0; i < 12; i++)
		es_buf_addf(&b, "- [ ] Task number %d\n", i);
	put(&w, MACBOOK, b.buf);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_int_equal(count_docs(&w, "actions"), 12);
	put(&w, MACBOOK, "# @macbook\n\n");
	assert_int_equal(syncd(&w, NULL), 3);	/* the guard (SPEC §1) */
	assert_true(action_get(&w, "Task number 3", &doc));
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	/* Let through on purpose. */
	{
		const char *extra[] = { "--max-delete", "100", NULL };

		assert_int_equal(syncd(&w, extra), 0);
	}
	assert_true(action_get(&w, "Task number 3", &doc));
	assert_true(doc_deleted(&doc));
	bson_destroy(&doc);
	es_buf_release(&b);
	w_end(&w);
}

static void
test_act_bad_lines_skipped(void **state)
{
	struct world w;
	bson_t doc;
	char *s;

	(void)state;
	w_begin(&w, "a_bad");
	put(&w, MACBOOK, "# @macbook\n\n"
	    "- [ ] Fix the date due:2025-13-01\n"
	    "- [ ] Good one\n");
	put(&w, WAITING, "- [ ] Ask @a/b for it\n- [ ] Fine too\n");
	assert_int_equal(syncd(&w, NULL), 1);
	if (!contains(w.err.buf, MACBOOK ":3: ") ||
	    !contains(w.err.buf, "2025-13-01"))
		fail_msg("no path:line: reason in: %s", w.err.buf);
	assert_true(contains(w.err.buf, WAITING ":1: "));
	assert_true(action_get(&w, "Good one", &doc));
	bson_destroy(&doc);
	assert_true(action_get(&w, "Fine too", &doc));
	bson_destroy(&doc);
	assert_int_equal(count_docs(&w, "actions"), 2);
	s = get(&w, MACBOOK);
	assert_true(contains(s, "- [ ] Fix the date due:2025-13-01\n"));
	free(s);
	/* The next pass says it again and changes nothing. */
	assert_int_equal(syncd(&w, NULL), 1);
	assert_int_equal(count_docs(&w, "actions"), 2);
	/* A synced line broken afterwards: reported, never a delete. */
	put(&w, WAITING, "- [ ] Ask @a/b for it\n"
	    "- [ ] Fine too due:2025-02-30\n");
	assert_int_equal(syncd(&w, NULL), 1);
	assert_true(contains(w.err.buf, WAITING ":2: "));
	assert_true(action_get(&w, "Fine too", &doc));
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	/* Mended: synced again, the same document. */
	put(&w, WAITING, "- [ ] Ask @a/b for it\n"
	    "- [ ] Fine too due:2025-02-28\n");
	assert_int_equal(syncd(&w, NULL), 1);
	assert_true(action_get(&w, "Fine too", &doc));
	assert_false(doc_deleted(&doc));
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2025-02-28"));
	bson_destroy(&doc);
	assert_int_equal(count_docs(&w, "actions"), 2);
	w_end(&w);
}

/* A hostile context from the database is refused (SPEC 4.11). */
static void
test_act_hostile_context(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "a_host");
	seed_macbook(&w);
	peer(&w, "create-action", "{\"text\":\"Escape\",\"context\":"
	    "\"@../../x\"}");
	assert_int_equal(syncd(&w, NULL), 1);
	assert_true(contains(w.err.buf, "unsafe context"));
	assert_false(exists(&w, "x.md"));
	assert_false(exists(&w, "00k-next-actions/x.md"));
	w_end(&w);
}

/* --dry-run: every byte, mtime and document unchanged (SPEC 4.9). */
static void
test_act_dry_run(void **state)
{
	struct world w;
	char *before, *after, *d1, *d2;

	(void)state;
	w_begin(&w, "a_dry");
	seed_macbook(&w);
	peer(&w, "create-action", "{\"text\":\"Buy cable\",\"context\":"
	    "\"@macbook\"}");
	put(&w, WAITING, "- [ ] Hear from Ann\n");
	before = snapshot(&w);
	d1 = dump(&w);
	assert_int_equal(syncd1(&w, "--dry-run"), 0);
	assert_true(contains(w.out.buf, "Buy cable"));
	assert_true(contains(w.out.buf, "Hear from Ann"));
	after = snapshot(&w);
	d2 = dump(&w);
	assert_string_equal(before, after);
	assert_string_equal(d1, d2);
	free(before);
	free(after);
	free(d1);
	free(d2);
	w_end(&w);
}

/*
 * A change that kept the document's version (updated_at: an API whose
 * clock gave the same millisecond again, SPEC 3). A since-pass takes the
 * version's word, as it does for every document its query does not
 * return (peer-actions.c doc_is_base(): neither is decoded); the full
 * read compares every document with its base and brings the change
 * (SPEC 4.1, 4.12).
 */
static void
test_act_full_read_sees_change_at_same_version(void **state)
{
	struct world w;
	bson_t doc;
	char id[25], json[256], *s;

	(void)state;
	w_begin(&w, "a_samev");
	seed_macbook(&w);
	assert_true(action_get(&w, "Call mom", &doc));
	oid_str(&doc, id);
	bson_destroy(&doc);
	snprintf(json, sizeof(json), "{\"collection\":\"actions\",\"id\":"
	    "\"%s\",\"set\":{\"text\":\"Call dad\"}}", id);
	peer(&w, "update-raw", json);
	assert_int_equal(syncd(&w, NULL), 0);
	s = get(&w, MACBOOK);
	assert_true(contains(s, "- [ ] Call mom +family\n"));
	free(s);
	assert_int_equal(syncd1(&w, "--full"), 0);
	s = get(&w, MACBOOK);
	assert_true(contains(s, "- [ ] Call dad +family\n"));
	assert_false(contains(s, "Call mom"));
	free(s);
	assert_settled(&w);
	w_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_act_file_new_lines_create_docs),
	cmocka_unit_test(test_act_file_edit_move_checkoff_remove),
	cmocka_unit_test(test_act_lost_race_in_bulk),
	cmocka_unit_test(test_act_db_new_appended_and_list_created),
	cmocka_unit_test(test_act_db_update_rewrites_only_its_line),
	cmocka_unit_test(test_act_db_complete_and_delete),
	cmocka_unit_test(test_act_both_sides_merge_and_conflict),
	cmocka_unit_test(test_act_delete_vs_edit_edit_wins),
	cmocka_unit_test(test_act_inbox_settles),
	cmocka_unit_test(test_act_noop_reads_no_list),
	cmocka_unit_test(test_act_resync_and_migrate_no_duplicates),
	cmocka_unit_test(test_act_identity_first_pass),
	cmocka_unit_test(test_act_deletion_guard),
	cmocka_unit_test(test_act_bad_lines_skipped),
	cmocka_unit_test(test_act_hostile_context),
	cmocka_unit_test(test_act_dry_run),
	cmocka_unit_test(test_act_full_read_sees_change_at_same_version),
};

ES_ITEST_MAIN(tests)
