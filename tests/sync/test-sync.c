/*
 * `execsyncd --once` against a real server (issue 5, SPEC §4): the real
 * binary on real temporary folders; database changes only through the API
 * peer, as the API makes them. Each case: its own database and folder.
 * Projects and goals here; actions in test-sync-actions.c.
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

/* The baseline's row counts and pass bookkeeping, as one string. */
static char *
baseline_state(const struct world *w)
{
	char *path = es_xasprintf("%s/%s", w->root, ES_BASELINE_FILE);
	struct es_error err;
	struct es_baseline *b = es_baseline_open(path, &err);
	size_t nf = 0, ne = 0;
	char *full = NULL, *wm = NULL, *out;

	if (b == NULL || es_baseline_count(b, &nf, &ne, &err) < 0 ||
	    es_baseline_get_meta(b, "last_full_pass_ms", &full, &err) < 0 ||
	    es_baseline_get_meta(b, "watermark.projects", &wm, &err) < 0)
		fail_msg("baseline: %s", err.msg);
	out = es_xasprintf("%zu files, %zu entities, full %s, wm %s", nf, ne,
	    full ? full : "-", wm ? wm : "-");
	free(full);
	free(wm);
	es_baseline_free(b);
	free(path);
	return out;
}

#define ALPHA	"10k-projects/active/work/alpha.md"
#define BETA	"10k-projects/active/work/beta.md"
#define GOAL	"30k-goals/active/run-far.md"

static const char alpha_text[] =
    "---\n"
    "area: Work\n"
    "title: Alpha\n"
    "type: standard\n"
    "created: 2025-01-02\n"
    "---\n"
    "# Alpha\n"
    "\n"
    "line one\n"
    "line two\n"
    "line three\n"
    "line four\n"
    "line five\n";

/* Alpha, Beta and a goal on disk, synced once. */
static void
seed(struct world *w)
{
	put(w, ALPHA, alpha_text);
	put(w, BETA, "---\narea: Work\ntitle: Beta\n---\nbeta body\n");
	put(w, GOAL, "---\ntitle: Run Far\ntype: goal\n---\nkeep going\n");
	assert_int_equal(syncd(w, NULL), 0);
}

/* ---- SPEC 4.4: creates both ways ---- */

static void
test_first_pass_creates_both_ways(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "s_create");
	put(&w, ALPHA, alpha_text);
	put(&w, GOAL, "---\ntitle: Run Far\ntype: goal\n---\nkeep going\n");
	peer(&w, "create-project", "{\"title\":\"From The API\","
	    "\"area\":\"Side Gig\",\"content\":\"api body\\n\","
	    "\"due\":\"2026-05-01\"}");
	peer(&w, "create-goal", "{\"title\":\"Api Goal\",\"content\":\"g\\n\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Alpha");
	assert_string_equal(es_itest_str(&doc, "area"), "Work");
	assert_string_equal(es_itest_str(&doc, "folder"), "active");
	assert_true(contains(es_itest_str(&doc, "content"), "line three"));
	bson_destroy(&doc);
	assert_true(doc_get(&w, "goals", "run-far", &doc));
	bson_destroy(&doc);
	assert_file_has(&w, "10k-projects/active/side-gig/from-the-api.md",
	    "title: From The API");
	assert_file_has(&w, "10k-projects/active/side-gig/from-the-api.md",
	    "due: 2026-05-01");
	assert_file_has(&w, "30k-goals/active/api-goal.md", "title: Api Goal");
	assert_int_equal(count_docs(&w, "projects"), 2);
	assert_int_equal(count_docs(&w, "goals"), 2);
	w_end(&w);
}

/* ---- SPEC 4.8: a second pass changes nothing and rewrites nothing ---- */

static void
test_second_pass_changes_nothing(void **state)
{
	struct world w;
	int64_t m1, m2;
	char *d1, *d2;
	json_t *j;
	json_error_t je;

	(void)state;
	w_begin(&w, "s_idem");
	seed(&w);
	peer(&w, "create-project", "{\"title\":\"Gamma\",\"area\":\"Work\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	m1 = mtime_ns(&w, ALPHA);
	m2 = mtime_ns(&w, "10k-projects/active/work/gamma.md");
	d1 = dump(&w);
	assert_int_equal(syncd1(&w, "--json"), 0);
	j = json_loads(w.out.buf, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "plan")), 0);
	json_decref(j);
	assert_int_equal(syncd1(&w, "--full"), 0);
	d2 = dump(&w);
	assert_string_equal(d1, d2);
	assert_true(mtime_ns(&w, ALPHA) == m1);
	assert_true(mtime_ns(&w, "10k-projects/active/work/gamma.md") == m2);
	free(d1);
	free(d2);
	w_end(&w);
}

/* ---- one side changed ---- */

static void
test_file_edit_reaches_db(void **state)
{
	struct world w;
	bson_t doc;
	char *s;

	(void)state;
	w_begin(&w, "s_fedit");
	seed(&w);
	s = get(&w, BETA);
	put(&w, BETA, "---\narea: Work\ntitle: Beta Two\ndue: 2026-07-01\n"
	    "---\nbeta body\n");
	free(s);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Beta Two");
	assert_true(es_itest_date(&doc, "due") ==
	    es_itest_day_ms("2026-07-01"));
	bson_destroy(&doc);
	w_end(&w);
}

static void
test_db_edit_reaches_file(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "s_dedit");
	seed(&w);
	peer(&w, "update-project", "{\"slug\":\"alpha\",\"set\":{\"due\":"
	    "\"2026-09-09\"}}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, ALPHA, "due: 2026-09-09");
	/* The minimal edit keeps everything else byte for byte. */
	assert_file_has(&w, ALPHA, "created: 2025-01-02\ndue: 2026-09-09\n");
	assert_file_has(&w, ALPHA, "# Alpha\n\nline one\n");
	w_end(&w);
}

/* SPEC 4.1: the API's clock a year ahead; edits both ways still flow. */
static void
test_clock_far_future(void **state)
{
	struct world w;
	bson_t doc;
	int64_t year = (int64_t)365 * DAY_S * 1000;

	(void)state;
	w_begin(&w, "s_future");
	seed(&w);
	peer_clock(&w, year, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha Future\"}}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, ALPHA, "title: Alpha Future");
	/* Now the file side: our version must beat the future one. */
	put(&w, ALPHA, "---\narea: Work\ntitle: Alpha Back\ntype: standard\n"
	    "created: 2025-01-02\n---\nnew body\n");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Alpha Back");
	assert_true(es_itest_date(&doc, "updated_at") > es_itest_now_ms() +
	    year / 2);
	bson_destroy(&doc);
	/* And the API again, still ahead. */
	peer_clock(&w, year, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha Again\"}}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, ALPHA, "title: Alpha Again");
	w_end(&w);
}

/* Makes the next pass a full read, as full_pass_s does over time. */
static void
age_full_pass(const struct world *w)
{
	char *path = es_xasprintf("%s/%s", w->root, ES_BASELINE_FILE);
	struct es_error err;
	struct es_baseline *b = es_baseline_open(path, &err);

	if (b == NULL)
		fail_msg("baseline: %s", err.msg);
	if (es_baseline_set_meta(b, "last_full_pass_ms", "1", &err) < 0)
		fail_msg("baseline: %s", err.msg);
	es_baseline_free(b);
	free(path);
}

/*
 * SPEC 4.1: the API's clock a day behind. Its updated_at is older than
 * the lookback: the recent-changes query cannot see it, the next full
 * read does (and a clock merely minutes behind is seen at once).
 */
static void
test_clock_far_past(void **state)
{
	struct world w;
	int64_t day = (int64_t)DAY_S * 1000;

	(void)state;
	w_begin(&w, "s_past");
	seed(&w);
	/* Make the watermark recent: a document written now. */
	peer(&w, "create-project", "{\"title\":\"Fresh\",\"area\":\"Work\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	peer_clock(&w, -3 * 60 * 1000, "update-project", "{\"slug\":"
	    "\"beta\",\"set\":{\"title\":\"Beta Minutes\"}}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, BETA, "title: Beta Minutes");
	peer_clock(&w, -day, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha Yesterday\"}}");
	assert_int_equal(syncd(&w, NULL), 0);
	age_full_pass(&w);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, ALPHA, "title: Alpha Yesterday");
	w_end(&w);
}

/*
 * SPEC 4.12: the recent-changes query missed an API edit made with a
 * lagging clock, so the pass plans against the baseline's version; the
 * compare-and-swap of the file's edit then fails, the document is read
 * again and the entity decided again: both edits survive.
 */
static void
test_lost_race_replans(void **state)
{
	struct world w;
	bson_t doc;
	int64_t day = (int64_t)DAY_S * 1000;

	(void)state;
	w_begin(&w, "s_race");
	seed(&w);
	peer_clock(&w, -day, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha Lagging\"}}");
	put(&w, ALPHA, "---\narea: Work\ntitle: Alpha\ntype: standard\n"
	    "created: 2025-01-02\ndue: 2026-08-08\n---\n# Alpha\n\nline one\n"
	    "line two\nline three\nline four\nline five\n");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(contains(w.err.buf, "deciding again"));
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Alpha Lagging");
	assert_true(es_itest_date(&doc, "due") == es_itest_day_ms("2026-08-08"));
	bson_destroy(&doc);
	assert_file_has(&w, ALPHA, "title: Alpha Lagging");
	assert_file_has(&w, ALPHA, "due: 2026-08-08");
	assert_int_equal(syncd1(&w, "--full"), 0);
	w_end(&w);
}

/*
 * SPEC 4.12 with the pass's writes batched (one bulk compare-and-swap for
 * all edited documents): the API's lagging edit of one of them is missed by
 * the recent-changes query, that one write of the batch is refused, the
 * entity is read and decided again, and the other edit applies as is.
 */
static void
test_lost_race_in_batch_replans(void **state)
{
	struct world w;
	bson_t doc;
	int64_t day = (int64_t)DAY_S * 1000;

	(void)state;
	w_begin(&w, "s_race_batch");
	seed(&w);
	peer_clock(&w, -day, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha Lagging\"}}");
	put(&w, ALPHA, "---\narea: Work\ntitle: Alpha\ntype: standard\n"
	    "created: 2025-01-02\ndue: 2026-08-08\n---\n# Alpha\n\nline one\n"
	    "line two\nline three\nline four\nline five\n");
	put(&w, BETA, "---\narea: Work\ntitle: Beta\ndue: 2026-09-09\n---\n"
	    "beta body\n");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(contains(w.err.buf, "deciding again"));
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Alpha Lagging");
	assert_true(es_itest_date(&doc, "due") == es_itest_day_ms("2026-08-08"));
	bson_destroy(&doc);
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_true(es_itest_date(&doc, "due") == es_itest_day_ms("2026-09-09"));
	bson_destroy(&doc);
	assert_file_has(&w, ALPHA, "title: Alpha Lagging");
	assert_int_equal(syncd1(&w, "--full"), 0);
	w_end(&w);
}

/* ---- SPEC 4.3: both sides, different fields: merged ---- */

static void
test_both_sides_different_fields_merged(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "s_merge");
	seed(&w);
	put(&w, ALPHA, "---\narea: Work\ntitle: Alpha\ntype: standard\n"
	    "created: 2025-01-02\ndue: 2026-01-15\n---\n# Alpha\n\nline one\n"
	    "line two\nline three\nline four\nline five\n");
	peer(&w, "update-project", "{\"slug\":\"alpha\",\"set\":{\"last_reviewed\":"
	    "\"2025-12-01\"}}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, ALPHA, "due: 2026-01-15");
	assert_file_has(&w, ALPHA, "last_reviewed: 2025-12-01");
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_true(es_itest_date(&doc, "due") == es_itest_day_ms("2026-01-15"));
	assert_true(es_itest_date(&doc, "last_reviewed") ==
	    es_itest_day_ms("2025-12-01"));
	bson_destroy(&doc);
	w_end(&w);
}

static void
test_body_different_places_merged(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "s_bodym");
	seed(&w);
	put(&w, ALPHA, "---\narea: Work\ntitle: Alpha\ntype: standard\n"
	    "created: 2025-01-02\n---\n# Alpha\n\nline one FILE\nline two\n"
	    "line three\nline four\nline five\n");
	peer(&w, "update-project", "{\"slug\":\"alpha\",\"set\":{\"content\":"
	    "\"# Alpha\\n\\nline one\\nline two\\nline three\\nline four\\n"
	    "line five DB\\n\"}}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, ALPHA, "line one FILE\n");
	assert_file_has(&w, ALPHA, "line five DB\n");
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_true(contains(es_itest_str(&doc, "content"), "line one FILE"));
	assert_true(contains(es_itest_str(&doc, "content"), "line five DB"));
	bson_destroy(&doc);
	w_end(&w);
}

/* Files kept under .execsync/conflicts/ (SPEC 4.2). */
static size_t
conflict_copies(const struct world *w)
{
	struct es_buf out = ES_BUF_INIT;
	char *dir = es_xasprintf("%s/.execsync/conflicts", w->root);
	char *argv[] = { (char *)"find", dir, (char *)"-type", (char *)"f",
	    NULL };
	size_t n = 0;

	es_itest_run(argv, &out, NULL, 10);
	for (size_t i = 0; i < out.len; i++)
		n += out.buf[i] == '\n';
	es_buf_release(&out);
	free(dir);
	return n;
}

/* SPEC 4.2: same field, newest wins, the file's version is kept. */
static void
test_same_field_newest_db_wins_file_kept(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "s_confl");
	seed(&w);
	put(&w, BETA, "---\narea: Work\ntitle: Beta File\n---\nbeta body\n");
	set_mtime(&w, BETA, -3600);	/* the file edit is older */
	peer(&w, "update-project", "{\"slug\":\"beta\",\"set\":{\"title\":"
	    "\"Beta Db\"}}");
	assert_int_equal(syncd(&w, NULL), 1);	/* a conflict happened */
	assert_file_has(&w, BETA, "title: Beta Db");
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Beta Db");
	bson_destroy(&doc);
	assert_int_equal(conflict_copies(&w), 1);
	assert_true(contains(w.err.buf, "title"));
	/* Settled: the next pass is clean. */
	assert_int_equal(syncd(&w, NULL), 0);
	w_end(&w);
}

/* SPEC 4.2 with conflict: file: the document's version is kept. */
static void
test_same_field_policy_file_doc_kept(void **state)
{
	struct world w;
	bson_t doc;
	const char *extra[] = { "--conflict", "file", NULL };

	(void)state;
	w_begin(&w, "s_conflf");
	seed(&w);
	put(&w, BETA, "---\narea: Work\ntitle: Beta File\n---\nbeta body\n");
	set_mtime(&w, BETA, -3600);
	peer(&w, "update-project", "{\"slug\":\"beta\",\"set\":{\"title\":"
	    "\"Beta Db\"}}");
	assert_int_equal(syncd(&w, extra), 1);
	assert_file_has(&w, BETA, "title: Beta File");
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Beta File");
	bson_destroy(&doc);
	assert_int_equal(count_docs(&w, "sync_conflicts"), 1);
	assert_int_equal(conflict_copies(&w), 0);
	w_end(&w);
}

static void
test_body_same_place_conflict(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "s_bodyc");
	seed(&w);
	put(&w, ALPHA, "---\narea: Work\ntitle: Alpha\ntype: standard\n"
	    "created: 2025-01-02\n---\n# Alpha\n\nline one\nline two\n"
	    "line three FILE\nline four\nline five\n");
	set_mtime(&w, ALPHA, -3600);
	peer(&w, "update-project", "{\"slug\":\"alpha\",\"set\":{\"content\":"
	    "\"# Alpha\\n\\nline one\\nline two\\nline three DB\\nline four\\n"
	    "line five\\n\"}}");
	assert_int_equal(syncd(&w, NULL), 1);
	assert_file_has(&w, ALPHA, "line three DB\n");
	assert_int_equal(conflict_copies(&w), 1);
	w_end(&w);
}

/* SPEC §2: the same file name in two area folders: two documents, the
 * second file renamed to its unique slug. */
static void
test_slug_clash_renames_file(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "s_clash");
	put(&w, "10k-projects/active/home/plan.md",
	    "---\narea: Home\ntitle: Plan\n---\nhome\n");
	put(&w, "10k-projects/active/work/plan.md",
	    "---\narea: Work\ntitle: Plan\n---\nwork\n");
	/* SPEC 4.9: the dry run plans the rename the real pass makes. */
	assert_int_equal(syncd1(&w, "--dry-run"), 0);
	assert_true(contains(w.out.buf, "10k-projects/active/work/plan-2.md "
	    "from 10k-projects/active/work/plan.md"));
	assert_int_equal(count_docs(&w, "projects"), 0);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_int_equal(count_docs(&w, "projects"), 2);
	assert_true(exists(&w, "10k-projects/active/home/plan.md"));
	assert_false(exists(&w, "10k-projects/active/work/plan.md"));
	assert_file_has(&w, "10k-projects/active/work/plan-2.md", "work\n");
	assert_true(doc_get(&w, "projects", "plan-2", &doc));
	assert_string_equal(es_itest_str(&doc, "area"), "Work");
	bson_destroy(&doc);
	assert_int_equal(syncd1(&w, "--full"), 0);
	assert_int_equal(count_docs(&w, "projects"), 2);
	w_end(&w);
}

/* ---- SPEC 4.5: deletes ---- */

static void
test_file_delete_soft_deletes_doc(void **state)
{
	struct world w;
	bson_t doc;
	char *path;

	(void)state;
	w_begin(&w, "s_fdel");
	seed(&w);
	path = path_of(&w, BETA);
	assert_int_equal(unlink(path), 0);
	free(path);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_true(doc_deleted(&doc));
	assert_int_equal(es_itest_type(&doc, "deleted_at"),
	    BSON_TYPE_DATE_TIME);
	bson_destroy(&doc);
	assert_int_equal(count_docs(&w, "projects"), 2);	/* not removed */
	assert_int_equal(syncd(&w, NULL), 0);
	assert_false(exists(&w, BETA));
	w_end(&w);
}

static void
test_api_delete_trashes_file(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "s_adel");
	seed(&w);
	peer(&w, "delete-project", "{\"slug\":\"beta\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_false(exists(&w, BETA));
	assert_file_has(&w, ".execsync/trash/" BETA, "title: Beta");
	w_end(&w);
}

/* ---- SPEC 4.6: moves and renames ---- */

static void
test_api_complete_moves_file(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "s_compl");
	seed(&w);
	peer(&w, "complete-project", "{\"slug\":\"alpha\",\"date\":"
	    "\"2026-02-03\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_false(exists(&w, ALPHA));
	assert_file_has(&w, "10k-projects/completed/work/alpha.md",
	    "completed: 2026-02-03");
	assert_file_has(&w, "10k-projects/completed/work/alpha.md",
	    "line five\n");
	assert_int_equal(syncd(&w, NULL), 0);
	w_end(&w);
}

static void
test_api_descope_and_activate_move_file(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "s_desc");
	seed(&w);
	peer(&w, "descope-project", "{\"slug\":\"beta\",\"date\":"
	    "\"2026-02-04\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_false(exists(&w, BETA));
	assert_file_has(&w, "10k-projects/descoped/work/beta.md",
	    "descoped: 2026-02-04");
	peer(&w, "activate-project", "{\"slug\":\"beta\",\"date\":"
	    "\"2026-02-05\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_false(exists(&w, "10k-projects/descoped/work/beta.md"));
	assert_file_has(&w, BETA, "title: Beta");
	assert_int_equal(count_docs(&w, "projects"), 2);
	w_end(&w);
}

/* Goals both ways, and a goal moved into a subfolder by the user. */
static void
test_goal_edits_both_ways(void **state)
{
	struct world w;
	bson_t doc;
	char *from, *to;

	(void)state;
	w_begin(&w, "s_goal");
	seed(&w);
	peer(&w, "update-goal", "{\"slug\":\"run-far\",\"set\":{"
	    "\"last_reviewed\":\"2026-01-01\"}}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, GOAL, "last_reviewed: 2026-01-01");
	from = path_of(&w, GOAL);
	to = path_of(&w, "30k-goals/active/health/run-far.md");
	put(&w, "30k-goals/active/health/.keep", "");
	assert_int_equal(rename(from, to), 0);
	put(&w, "30k-goals/active/health/run-far.md", "---\ntitle: Run Farther"
	    "\ntype: goal\nlast_reviewed: 2026-01-01\n---\nkeep going\n");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(doc_get(&w, "goals", "run-far", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Run Farther");
	assert_false(doc_deleted(&doc));
	bson_destroy(&doc);
	assert_int_equal(count_docs(&w, "goals"), 1);
	free(from);
	free(to);
	w_end(&w);
}

/* SPEC §6: a file whose stat data did not change is not even read. */
static void
test_unchanged_files_not_read(void **state)
{
	struct world w;
	json_t *j;
	json_error_t je;

	(void)state;
	w_begin(&w, "s_stat");
	seed(&w);
	put(&w, BETA, "---\narea: Work\ntitle: Beta\n---\nbeta body 2\n");
	assert_int_equal(syncd1(&w, "--json"), 0);
	j = json_loads(w.out.buf, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "files_read")),
	    1);
	json_decref(j);
	assert_int_equal(syncd1(&w, "--json"), 0);
	j = json_loads(w.out.buf, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "files_read")),
	    0);
	assert_false(json_is_true(json_object_get(j, "full_read")));
	json_decref(j);
	w_end(&w);
}

/* --force: the file side wins a conflict whatever the clocks say. */
static void
test_force_file_wins(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "s_force");
	seed(&w);
	put(&w, BETA, "---\narea: Work\ntitle: Beta Forced\n---\nbeta body\n");
	set_mtime(&w, BETA, -7200);
	peer(&w, "update-project", "{\"slug\":\"beta\",\"set\":{\"title\":"
	    "\"Beta Db\"}}");
	assert_int_equal(syncd1(&w, "--force"), 1);
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Beta Forced");
	bson_destroy(&doc);
	assert_file_has(&w, BETA, "title: Beta Forced");
	assert_int_equal(count_docs(&w, "sync_conflicts"), 1);
	w_end(&w);
}

static void
test_api_retitle_renames_file(void **state)
{
	struct world w;

	(void)state;
	w_begin(&w, "s_retit");
	seed(&w);
	peer(&w, "retitle-project", "{\"slug\":\"beta\",\"title\":"
	    "\"Beta Renamed\"}");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_false(exists(&w, BETA));
	assert_file_has(&w, "10k-projects/active/work/beta-renamed.md",
	    "title: Beta Renamed");
	assert_int_equal(count_docs(&w, "projects"), 2);
	w_end(&w);
}

static void
test_user_rename_updates_same_doc(void **state)
{
	struct world w;
	bson_t before, after;
	bson_oid_t a, b;
	char *from, *to;

	(void)state;
	w_begin(&w, "s_urename");
	seed(&w);
	assert_true(doc_get(&w, "projects", "beta", &before));
	es_itest_oid(&before, "_id", &a);
	from = path_of(&w, BETA);
	to = path_of(&w, "10k-projects/incubator/work/beta-later.md");
	put(&w, "10k-projects/incubator/work/.keep", "");
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(doc_get(&w, "projects", "beta-later", &after));
	es_itest_oid(&after, "_id", &b);
	assert_true(bson_oid_equal(&a, &b));
	assert_string_equal(es_itest_str(&after, "folder"), "incubator");
	assert_false(doc_deleted(&after));
	assert_int_equal(count_docs(&w, "projects"), 2);
	bson_destroy(&before);
	bson_destroy(&after);
	free(from);
	free(to);
	w_end(&w);
}

/* ---- SPEC 4.9: --dry-run changes nothing ---- */

/*
 * SPEC 4.9 on a folder never synced: the dry run prints the plan and
 * creates nothing, not even .execsync/ or a line in .git/info/exclude.
 */
static void
test_dry_run_first_time_creates_nothing(void **state)
{
	struct world w;
	char *s;

	(void)state;
	w_begin(&w, "s_dry0");
	put(&w, ALPHA, alpha_text);
	put(&w, ".git/info/exclude", "# mine\n");
	assert_int_equal(syncd1(&w, "--dry-run"), 0);
	assert_true(contains(w.out.buf, "alpha.md"));
	assert_false(exists(&w, ".execsync"));
	s = get(&w, ".git/info/exclude");
	assert_string_equal(s, "# mine\n");
	free(s);
	assert_int_equal(count_docs(&w, "projects"), 0);
	/* The real run then creates the baseline and the exclude line. */
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(exists(&w, ".execsync/baseline.sqlite"));
	assert_file_has(&w, ".git/info/exclude", ".execsync/");
	w_end(&w);
}

static void
test_dry_run_changes_nothing(void **state)
{
	struct world w;
	char *d1, *d2, *a1, *a2, *b1, *b2;
	int64_t m1;
	char *path;

	(void)state;
	w_begin(&w, "s_dry");
	seed(&w);
	put(&w, BETA, "---\narea: Work\ntitle: Beta Edited\n---\nbeta body\n");
	path = path_of(&w, GOAL);
	assert_int_equal(unlink(path), 0);
	free(path);
	peer(&w, "update-project", "{\"slug\":\"alpha\",\"set\":{\"due\":"
	    "\"2026-04-04\"}}");
	peer(&w, "create-project", "{\"title\":\"Newcomer\",\"area\":\"Work\"}");
	m1 = mtime_ns(&w, ALPHA);
	a1 = snapshot(&w);
	d1 = dump(&w);
	b1 = baseline_state(&w);
	assert_int_equal(syncd1(&w, "--dry-run"), 0);
	d2 = dump(&w);
	a2 = snapshot(&w);
	b2 = baseline_state(&w);
	assert_string_equal(d1, d2);
	assert_string_equal(a1, a2);
	assert_string_equal(b1, b2);
	free(b1);
	free(b2);
	assert_true(mtime_ns(&w, ALPHA) == m1);
	assert_false(exists(&w, "10k-projects/active/work/newcomer.md"));
	/* One line per op: the four changes are there. */
	assert_true(contains(w.out.buf, "file->db update project " BETA));
	assert_true(contains(w.out.buf, "file->db delete goal " GOAL));
	assert_true(contains(w.out.buf, "db->file write project " ALPHA));
	assert_true(contains(w.out.buf,
	    "db->file write project 10k-projects/active/work/newcomer.md"));
	/* And the real run does what the dry run said. */
	assert_int_equal(syncd(&w, NULL), 0);
	assert_file_has(&w, ALPHA, "due: 2026-04-04");
	assert_true(exists(&w, "10k-projects/active/work/newcomer.md"));
	free(d1);
	free(d2);
	free(a1);
	free(a2);
	w_end(&w);
}

/* ---- SPEC 4.10, 4.11: bad input ---- */

static void
test_malformed_file_skipped(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "s_bad");
	put(&w, ALPHA, alpha_text);
	put(&w, BETA, "---\narea: Work\ntitle: Beta\ndue: 2025-13-01\n---\n");
	assert_int_equal(syncd(&w, NULL), 1);
	assert_true(contains(w.err.buf, BETA ":4: "));
	assert_true(contains(w.err.buf, "2025-13-01"));
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	bson_destroy(&doc);
	assert_int_equal(count_docs(&w, "projects"), 1);
	w_end(&w);
}

/* SPEC 4.10 with a baseline: a file broken after a sync is left alone,
 * never taken as deleted; a document that no longer decodes too. */
static void
test_broken_sides_left_alone(void **state)
{
	struct world w;
	bson_t doc;
	char *before;

	(void)state;
	w_begin(&w, "s_broken");
	seed(&w);
	put(&w, BETA, "---\narea: Work\ntitle: Beta\ndue: 2025-02-30\n---\n");
	peer(&w, "update-raw", "{\"collection\":\"projects\",\"slug\":"
	    "\"alpha\",\"set\":{\"due\":\"tomorrow\"}}");
	before = get(&w, ALPHA);
	put(&w, GOAL, "---\ntitle: Run Farther\ntype: goal\n---\nkeep going\n");
	assert_int_equal(syncd1(&w, "--full"), 1);
	assert_true(contains(w.err.buf, BETA ":4: "));
	assert_true(contains(w.err.buf, "field 'due'"));
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_false(doc_deleted(&doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Beta");
	bson_destroy(&doc);
	{
		char *after = get(&w, ALPHA);

		assert_string_equal(before, after);
		free(after);
	}
	/* The rest synced. */
	assert_true(doc_get(&w, "goals", "run-far", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Run Farther");
	bson_destroy(&doc);
	free(before);
	w_end(&w);
}

static void
test_hostile_slug_rejected(void **state)
{
	struct world w;
	struct stat st;
	char *outside;

	(void)state;
	w_begin(&w, "s_host");
	seed(&w);
	peer(&w, "insert-raw", "{\"collection\":\"projects\",\"doc\":{"
	    "\"title\":\"Evil\",\"slug\":\"../../x\",\"area\":\"Work\","
	    "\"folder\":\"active\",\"deleted\":false,\"content\":\"\","
	    "\"extra\":{},\"created_at\":{\"$date\":\"2025-01-01T00:00:00Z\"},"
	    "\"updated_at\":{\"$date\":\"2025-01-01T00:00:00Z\"}}}");
	peer(&w, "insert-raw", "{\"collection\":\"projects\",\"doc\":{"
	    "\"title\":\"Evil2\",\"slug\":\"evil2\",\"area\":\"/etc\","
	    "\"folder\":\"active\",\"deleted\":false,\"content\":\"\","
	    "\"extra\":{},\"created_at\":{\"$date\":\"2025-01-01T00:00:00Z\"},"
	    "\"updated_at\":{\"$date\":\"2025-01-01T00:00:00Z\"}}}");
	assert_int_equal(syncd1(&w, "--full"), 1);
	assert_true(contains(w.err.buf, "unsafe slug '../../x'"));
	assert_true(contains(w.err.buf, "unsafe area '/etc'"));
	outside = es_xasprintf("%s/x.md", w.tmp);
	assert_true(lstat(outside, &st) < 0);
	free(outside);
	assert_true(exists(&w, ALPHA));
	w_end(&w);
}

static void
test_symlink_not_followed(void **state)
{
	struct world w;
	char *target, *link;

	(void)state;
	w_begin(&w, "s_link");
	seed(&w);
	target = es_xasprintf("%s/outside.md", w.tmp);
	link = path_of(&w, "10k-projects/active/work/linked.md");
	{
		FILE *f = fopen(target, "w");

		assert_non_null(f);
		fputs("---\narea: Work\ntitle: Outside\n---\n", f);
		fclose(f);
	}
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(syncd(&w, NULL), 1);
	assert_true(contains(w.err.buf, "symbolic link"));
	assert_int_equal(count_docs(&w, "projects"), 2);
	free(target);
	free(link);
	w_end(&w);
}

/* ---- SPEC 4.15: the mass-deletion guard ---- */

static void
test_deletion_guard(void **state)
{
	struct world w;
	char rel[128], *path;
	char *d1, *d2;
	const char *extra[] = { "--max-delete", "100", NULL };
	size_t deleted = 0;
	json_t *j, *p;
	json_error_t je;

	(void)state;
	w_begin(&w, "s_guard");
	for (int i = 0; i < 20; i++) {
		snprintf(rel, sizeof(rel), "10k-projects/active/work/p%02d.md",
		    i);
		char text[128];

		snprintf(text, sizeof(text), "---\narea: Work\ntitle: P%02d\n"
		    "---\n", i);
		put(&w, rel, text);
	}
	assert_int_equal(syncd(&w, NULL), 0);
	for (int i = 0; i < 12; i++) {
		snprintf(rel, sizeof(rel), "10k-projects/active/work/p%02d.md",
		    i);
		path = path_of(&w, rel);
		assert_int_equal(unlink(path), 0);
		free(path);
	}
	d1 = dump(&w);
	assert_int_equal(syncd(&w, NULL), 3);	/* SPEC 4.15 */
	assert_true(contains(w.err.buf, "deletion guard"));
	d2 = dump(&w);
	assert_string_equal(d1, d2);
	assert_int_equal(syncd(&w, extra), 0);
	assert_int_equal(syncd1(&w, "--json"), 0);
	j = json_loads(w.out.buf, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "plan")), 0);
	json_decref(j);
	free(d2);
	d2 = dump(&w);
	j = json_loads(d2, 0, &je);
	assert_non_null(j);
	p = json_object_get(j, "projects");
	for (size_t i = 0; i < json_array_size(p); i++)
		deleted += json_is_true(json_object_get(json_array_get(p, i),
		    "deleted"));
	assert_int_equal(deleted, 12);
	json_decref(j);
	free(d1);
	free(d2);
	w_end(&w);
}

/* SPEC 4.15: a folder that is not there is never "everything deleted". */
static void
test_missing_folders_refused(void **state)
{
	struct world w;
	char *d1, *d2, *dir;

	(void)state;
	w_begin(&w, "s_mount");
	seed(&w);
	dir = path_of(&w, "10k-projects");
	{
		char *argv[] = { (char *)"rm", (char *)"-rf", dir, NULL };

		assert_int_equal(es_itest_run(argv, NULL, NULL, 10), 0);
	}
	free(dir);
	dir = path_of(&w, "30k-goals");
	{
		char *argv[] = { (char *)"rm", (char *)"-rf", dir, NULL };

		assert_int_equal(es_itest_run(argv, NULL, NULL, 10), 0);
	}
	free(dir);
	d1 = dump(&w);
	assert_int_equal(syncd(&w, NULL), 2);
	assert_true(contains(w.err.buf, "is the folder mounted?"));
	d2 = dump(&w);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	w_end(&w);
}

/* ---- SPEC 4.16: a git operation holds the pass ---- */

static void
test_git_lock_holds(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "s_git");
	seed(&w);
	put(&w, ".git/index.lock", "");
	put(&w, ".git/HEAD", "ref: refs/heads/main\n");
	put(&w, BETA, "---\narea: Work\ntitle: Beta Mid Checkout\n---\n");
	assert_int_equal(syncd(&w, NULL), 75);	/* SPEC 4.16 */
	assert_true(contains(w.err.buf, "held: git operation in progress "
	    "(index.lock), nothing synced"));
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Beta");
	bson_destroy(&doc);
	{
		char *lock = path_of(&w, ".git/index.lock");

		assert_int_equal(unlink(lock), 0);
		free(lock);
	}
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(doc_get(&w, "projects", "beta", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Beta Mid Checkout");
	bson_destroy(&doc);
	w_end(&w);
}

/* ---- SPEC 4.17: --resync ---- */

static void
test_resync_no_duplicates(void **state)
{
	struct world w;
	bson_t doc;

	(void)state;
	w_begin(&w, "s_resync");
	/* Filled independently: the same project on both sides, one more
	 * on each. */
	put(&w, BETA, "---\narea: Work\ntitle: Beta\ntype: standard\n"
	    "created: 2025-03-03\n---\nsame body\n");
	put(&w, ALPHA, alpha_text);
	peer(&w, "create-project", "{\"title\":\"Beta\",\"area\":\"Work\","
	    "\"created\":\"2025-03-03\",\"content\":\"same body\\n\"}");
	peer(&w, "create-project", "{\"title\":\"Only Db\",\"area\":\"Work\"}");
	assert_int_equal(syncd1(&w, "--resync"), 0);
	assert_int_equal(count_docs(&w, "projects"), 3);
	assert_true(exists(&w, "10k-projects/active/work/only-db.md"));
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	bson_destroy(&doc);
	/* Again, with a baseline now: still nothing duplicated or deleted. */
	assert_int_equal(syncd1(&w, "--resync"), 0);
	assert_int_equal(count_docs(&w, "projects"), 3);
	assert_true(exists(&w, BETA));
	assert_true(exists(&w, ALPHA));
	w_end(&w);
}

/* Two machines, one database: edits on both converge (SPEC 4.12). */
static void
test_two_roots_converge(void **state)
{
	struct world w;
	char *root_a, *root_b, *a, *b;

	(void)state;
	w_begin(&w, "s_two");
	seed(&w);
	root_a = w.root;
	root_b = es_xasprintf("%s/tree-b", w.tmp);
	assert_int_equal(mkdir(root_b, 0755), 0);
	w.root = root_b;
	put(&w, "10k-projects/.keep", "");
	assert_int_equal(syncd(&w, NULL), 0);		/* B gets everything */
	assert_file_has(&w, ALPHA, "line five\n");
	put(&w, BETA, "---\narea: Work\ntitle: Beta From B\n---\nbeta body\n");
	assert_int_equal(syncd(&w, NULL), 0);
	w.root = root_a;
	put(&w, GOAL, "---\ntitle: Run Far From A\ntype: goal\n---\nkeep "
	    "going\n");
	assert_int_equal(syncd(&w, NULL), 0);		/* A: its edit, B's */
	assert_file_has(&w, BETA, "title: Beta From B");
	w.root = root_b;
	assert_int_equal(syncd(&w, NULL), 0);		/* B: A's edit */
	assert_file_has(&w, GOAL, "title: Run Far From A");
	a = get(&w, GOAL);
	w.root = root_a;
	b = get(&w, GOAL);
	assert_string_equal(a, b);
	free(a);
	free(b);
	a = get(&w, BETA);
	w.root = root_b;
	b = get(&w, BETA);
	assert_string_equal(a, b);
	free(a);
	free(b);
	assert_int_equal(count_docs(&w, "projects"), 2);
	assert_int_equal(count_docs(&w, "goals"), 1);
	w.root = root_a;
	free(root_b);
	w_end(&w);
}

/* A generated folder: every file becomes a document, the pass repeats
 * clean, and the next pass reads no unchanged file. */
static void
test_sample_tree_round_trip(void **state)
{
	struct world w;
	char *gen, *src = getenv("ES_SOURCE_DIR");
	json_t *j;
	json_error_t je;

	(void)state;
	w_begin(&w, "s_sample");
	assert_non_null(src);
	gen = es_xasprintf("%s/contrib/make-sample-tree", src);
	es_itest_rm_rf(w.root);
	{
		char *argv[] = { (char *)"node", gen, w.root,
		    (char *)"--projects", (char *)"20", (char *)"--actions",
		    (char *)"0", (char *)"--goals", (char *)"5", NULL };

		assert_int_equal(es_itest_run(argv, NULL, NULL, 60), 0);
	}
	assert_int_equal(syncd(&w, NULL), 0);
	assert_int_equal(count_docs(&w, "projects"), 20);
	assert_int_equal(count_docs(&w, "goals"), 5);
	assert_int_equal(syncd1(&w, "--json"), 0);
	j = json_loads(w.out.buf, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "plan")), 0);
	/* Not even the notes beside the goals are read again. */
	assert_int_equal(json_integer_value(json_object_get(j, "files_read")),
	    0);
	json_decref(j);
	free(gen);
	w_end(&w);
}

/* Exit status 2 for usage and configuration errors, 75 for an
 * unreachable server (SPEC §1), the URI's password never shown (4.11). */
static void
test_usage_and_connection_errors(void **state)
{
	struct world w;
	char *argv[12];
	int n = 0;

	(void)state;
	w_begin(&w, "s_usage");
	seed(&w);
	assert_int_equal(syncd1(&w, "--bogus"), 2);
	assert_true(contains(w.err.buf, "unknown option '--bogus'"));
	{
		const char *extra[] = { "--conflict", "whoever", NULL };

		assert_int_equal(syncd(&w, extra), 2);
		assert_true(contains(w.err.buf, "whoever"));
	}
	argv[n++] = (char *)ES_SYNCD_BIN;
	argv[n++] = (char *)"--once";
	argv[n++] = (char *)"--source";
	argv[n++] = w.root;
	argv[n++] = (char *)"--mongodb-uri";
	argv[n++] = (char *)"mongodb://ana:s3cretpw@127.0.0.1:1/"
	    "?serverSelectionTimeoutMS=300";
	argv[n++] = (char *)"--user-id";
	argv[n++] = (char *)"ana";
	argv[n] = NULL;
	es_buf_reset(&w.err);
	/* An unreachable server is temporary (SPEC §1). */
	assert_int_equal(es_itest_run(argv, NULL, &w.err, 30), 75);
	assert_true(w.err.len > 0);
	assert_false(contains(w.err.buf, "s3cretpw"));
	w_end(&w);
}

/* After execsync-migrate, the first pass has nothing to do. */
static void
test_after_migrate_nothing_to_do(void **state)
{
	struct world w;
	char *gen, *src = getenv("ES_SOURCE_DIR");
	json_t *j;
	json_error_t je;

	(void)state;
	w_begin(&w, "s_mig");
	assert_non_null(src);
	gen = es_xasprintf("%s/contrib/make-sample-tree", src);
	es_itest_rm_rf(w.root);
	{
		char *argv[] = { (char *)"node", gen, w.root,
		    (char *)"--projects", (char *)"30", (char *)"--actions",
		    (char *)"0", (char *)"--goals", (char *)"6", NULL };

		assert_int_equal(es_itest_run(argv, NULL, NULL, 60), 0);
	}
	{
		char *argv[] = { (char *)ES_MIGRATE_BIN, (char *)"--source",
		    w.root, (char *)"--mongodb-uri", w.t.uri,
		    (char *)"--user-id", (char *)w.t.user, (char *)"--database",
		    w.t.db, NULL };

		assert_int_equal(es_itest_run(argv, NULL, NULL, 60), 0);
	}
	assert_int_equal(syncd1(&w, "--json"), 0);
	j = json_loads(w.out.buf, 0, &je);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "plan")), 0);
	json_decref(j);
	assert_int_equal(count_docs(&w, "projects"), 30);
	assert_int_equal(count_docs(&w, "goals"), 6);
	free(gen);
	w_end(&w);
}

static void
test_pass_flags_without_once_exit_2(void **state)
{
	/* Without --once it is the daemon: a one-pass flag is a mistake. */
	char *argv[] = { (char *)ES_SYNCD_BIN, (char *)"--dry-run", NULL };
	struct es_buf err = ES_BUF_INIT;

	(void)state;
	assert_int_equal(es_itest_run(argv, NULL, &err, 10), 2);
	assert_true(contains(err.buf, "--dry-run, --force, --resync and "
	    "--full go with --once"));
	es_buf_release(&err);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_first_pass_creates_both_ways),
	cmocka_unit_test(test_second_pass_changes_nothing),
	cmocka_unit_test(test_file_edit_reaches_db),
	cmocka_unit_test(test_db_edit_reaches_file),
	cmocka_unit_test(test_clock_far_future),
	cmocka_unit_test(test_clock_far_past),
	cmocka_unit_test(test_lost_race_in_batch_replans),
	cmocka_unit_test(test_lost_race_replans),
	cmocka_unit_test(test_both_sides_different_fields_merged),
	cmocka_unit_test(test_body_different_places_merged),
	cmocka_unit_test(test_same_field_newest_db_wins_file_kept),
	cmocka_unit_test(test_same_field_policy_file_doc_kept),
	cmocka_unit_test(test_body_same_place_conflict),
	cmocka_unit_test(test_slug_clash_renames_file),
	cmocka_unit_test(test_file_delete_soft_deletes_doc),
	cmocka_unit_test(test_api_delete_trashes_file),
	cmocka_unit_test(test_api_complete_moves_file),
	cmocka_unit_test(test_api_descope_and_activate_move_file),
	cmocka_unit_test(test_goal_edits_both_ways),
	cmocka_unit_test(test_unchanged_files_not_read),
	cmocka_unit_test(test_force_file_wins),
	cmocka_unit_test(test_api_retitle_renames_file),
	cmocka_unit_test(test_user_rename_updates_same_doc),
	cmocka_unit_test(test_dry_run_changes_nothing),
	cmocka_unit_test(test_dry_run_first_time_creates_nothing),
	cmocka_unit_test(test_malformed_file_skipped),
	cmocka_unit_test(test_broken_sides_left_alone),
	cmocka_unit_test(test_hostile_slug_rejected),
	cmocka_unit_test(test_symlink_not_followed),
	cmocka_unit_test(test_deletion_guard),
	cmocka_unit_test(test_missing_folders_refused),
	cmocka_unit_test(test_git_lock_holds),
	cmocka_unit_test(test_resync_no_duplicates),
	cmocka_unit_test(test_two_roots_converge),
	cmocka_unit_test(test_sample_tree_round_trip),
	cmocka_unit_test(test_usage_and_connection_errors),
	cmocka_unit_test(test_after_migrate_nothing_to_do),
	cmocka_unit_test(test_pass_flags_without_once_exit_2),
};

ES_ITEST_MAIN(tests)
