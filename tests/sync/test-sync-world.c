/*
 * The pass's seams and its trigger (issue 15 item 4, world.h): passes run
 * in this process through the real world (the fixture's FerretDB, a real
 * folder) whose tables a spy wraps, to show that the engine goes through
 * them (calls counted; a chosen clock; a failed insert), and that a pass
 * does what its trigger asks:
 *  - ES_TRIGGER_PATHS reads a file whose stat data look unchanged;
 *  - ES_TRIGGER_CHANGES reads by _id a document the since-query misses;
 *  - ES_TRIGGER_FULL reads every file and every document.
 */
#include "db-spy.h"
#include "sync-world.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execsync/baseline.h"
#include "execsync/engine.h"
#include "execsync/rules.h"
#include "execsync/scan.h"
#include "execsync/store.h"
#include "execsync/world.h"

#define ALPHA	"10k-projects/active/work/alpha.md"
#define BETA	"10k-projects/active/work/beta.md"
#define GOAL	"30k-goals/active/run-far.md"
#define PHONE	"00k-next-actions/contexts/@phone.md"

static const char alpha_text[] =
    "---\narea: Work\ntitle: Alpha\ntype: standard\ncreated: 2025-01-02\n"
    "---\n# Alpha\n\nline one\n";

/*
 * The real tables, and what went through the spy's. The spy wraps a few
 * functions and leaves the contexts alone (each wrapper passes its ctx,
 * the real one, on), so the functions it does not wrap stay the real
 * ones; the wrappers find the spy in S (one pass at a time).
 */
struct spy {
	struct es_world	 real;
	struct db_spy	 db;		/* the database and the clock */
	size_t		 scans, loads, writes, commits;
	const char	*pin_rel;	/* scan reports pin_st for it */
	struct es_stat	 pin_st;
};

static struct spy *S;

static int
spy_scan(void *ctx, const char *const *ignore, struct es_scan_result *out,
    struct es_error *err)
{
	struct spy *s = S;
	int rc = s->real.fs.scan(ctx, ignore, out, err);

	s->scans++;
	for (size_t i = 0; rc == 0 && s->pin_rel != NULL && i < out->n; i++)
		if (strcmp(out->entries[i].rel, s->pin_rel) == 0)
			out->entries[i].st = s->pin_st;
	return rc;
}

static void
spy_load_file(void *ctx, size_t max, struct es_tree_file *f,
    struct es_buf *scratch, struct es_tree *errs)
{
	struct spy *s = S;

	s->loads++;
	s->real.fs.load_file(ctx, max, f, scratch, errs);
}

static int
spy_write(void *ctx, const char *rel, const void *buf, size_t len,
    mode_t mode, const struct es_stat *expect, const es_fp_t *fp,
    struct es_stat *st_out, struct es_error *err)
{
	struct spy *s = S;

	s->writes++;
	return s->real.fs.write(ctx, rel, buf, len, mode, expect,
	    fp, st_out, err);
}

static int
spy_commit(void *ctx, struct es_error *err)
{
	struct spy *s = S;

	s->commits++;
	return s->real.fs.base.commit(ctx, err);
}

static void
wrap(struct es_world *ew, void *ud)
{
	struct spy *s = ud;

	S = s;
	s->real = *ew;
	db_spy_wrap(ew, &s->db);
	ew->fs.scan = spy_scan;
	ew->fs.load_file = spy_load_file;
	ew->fs.write = spy_write;
	ew->fs.base.commit = spy_commit;
}


static int
pass_spied(struct world *w, struct spy *s, const struct es_trigger *t,
    struct es_engine_result *r)
{
	int rc = engine_pass_world(w, wrap, s, t, r);

	S = NULL;
	db_spy_done();
	return rc;
}

static bool
has_error(const struct es_engine_result *r, const char *needle)
{
	for (size_t i = 0; i < r->nerrors; i++)
		if (strstr(r->errors[i].msg, needle) != NULL)
			return true;
	return false;
}

/*
 * The engine reaches the folder, the baseline, the database and the clock
 * through the world: the spy sees the scan, the reads, the finds, the
 * insert and the commit, and the clock it sets (an hour ahead) is the
 * version the new document gets and what the watermark follows.
 */
static void
test_seams_clock_and_calls(void **state)
{
	struct world w;
	struct spy s;
	struct es_engine_result r;
	struct es_baseline *b;
	struct es_error err;
	char *wm = NULL;
	char want[32];
	bson_t doc;

	(void)state;
	w_begin(&w, "w_seams");
	put(&w, ALPHA, alpha_text);
	memset(&s, 0, sizeof(s));
	s.db.fixed_clock = true;
	s.db.now = es_itest_now_ms() + 3600 * 1000;
	assert_int_equal(pass_spied(&w, &s, NULL, &r), 0);
	assert_int_equal(s.scans, 1);
	assert_int_equal(s.loads, 1);
	assert_int_equal(s.db.find, 3);		/* a full read: 3 collections */
	assert_int_equal(s.db.find_ids, 0);
	assert_int_equal(s.db.inserts, 1);
	assert_int_equal(s.commits, 1);
	assert_int_equal(s.db.clock_reads, 1);	/* read once a pass */
	assert_true(r.full_read);
	assert_true(r.round_trips > 0);
	es_engine_result_release(&r);
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_true(es_itest_date(&doc, "updated_at") == s.db.now);
	bson_destroy(&doc);
	b = es_baseline_open_root(w.root, &err);
	assert_non_null(b);
	assert_int_equal(es_baseline_get_meta(b, "watermark.projects", &wm,
	    &err), 0);
	assert_non_null(wm);
	snprintf(want, sizeof(want), "%lld",
	    (long long)es_watermark_next(s.db.now, s.db.now));
	assert_string_equal(wm, want);
	free(wm);
	es_baseline_free(b);
	w_end(&w);
}

/* A database insert that fails is that item's failure; the next pass
 * finishes it. */
static void
test_seams_failed_insert(void **state)
{
	struct world w;
	struct spy s;
	struct es_engine_result r;

	(void)state;
	w_begin(&w, "w_fault");
	put(&w, ALPHA, alpha_text);
	memset(&s, 0, sizeof(s));
	s.db.fail_inserts = 1;
	assert_int_equal(pass_spied(&w, &s, NULL, &r), 1);
	assert_int_equal(s.db.inserts, 1);
	assert_int_equal(r.failed, 1);
	assert_true(has_error(&r, "injected fault"));
	es_engine_result_release(&r);
	assert_int_equal(count_docs(&w, "projects"), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(pass_spied(&w, &s, NULL, &r), 0);
	assert_int_equal(s.db.inserts, 1);
	assert_int_equal(r.failed, 0);
	es_engine_result_release(&r);
	assert_int_equal(count_docs(&w, "projects"), 1);
	assert_int_equal(pass_spied(&w, &s, NULL, &r), 0);
	assert_int_equal(r.plan.n, 0);		/* settled */
	es_engine_result_release(&r);
	w_end(&w);
}

/*
 * ES_TRIGGER_PATHS: a file rewritten with the same size and its old mtime
 * put back. Linux moves the ctime all the same, so the spy's scan reports
 * the stat data the baseline has, as a file system whose timestamps are
 * too coarse to show the write would: the ordinary pass does not read the
 * file, a pass given its path does.
 */
static void
test_trigger_paths(void **state)
{
	struct world w;
	struct spy s;
	struct es_engine_result r;
	struct es_trigger t;
	const char *paths[] = { ALPHA };
	struct es_stat st0;
	struct es_error err;
	char *c, *p;
	int fd;

	(void)state;
	w_begin(&w, "w_paths");
	put(&w, ALPHA, alpha_text);
	assert_int_equal(engine_pass(&w), 0);
	fd = open(w.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(es_scan_stat(fd, ALPHA, &st0, &err), 1);
	c = get(&w, ALPHA);
	p = strstr(c, "line one");
	assert_non_null(p);
	memcpy(p, "line ONE", 8);
	put(&w, ALPHA, c);
	free(c);
	{
		struct timespec ts[2] = {
			{ .tv_sec = st0.mtime_ns / 1000000000,
			  .tv_nsec = st0.mtime_ns % 1000000000 },
			{ .tv_sec = st0.mtime_ns / 1000000000,
			  .tv_nsec = st0.mtime_ns % 1000000000 } };

		assert_int_equal(utimensat(fd, ALPHA, ts, 0), 0);
	}
	close(fd);
	memset(&s, 0, sizeof(s));
	s.pin_rel = ALPHA;
	s.pin_st = st0;
	assert_int_equal(pass_spied(&w, &s, NULL, &r), 0);
	assert_int_equal(r.files_read, 0);
	es_engine_result_release(&r);
	c = doc_content(&w, "alpha");
	assert_non_null(strstr(c, "line one"));
	free(c);

	memset(&t, 0, sizeof(t));
	t.kind = ES_TRIGGER_PATHS;
	t.paths = paths;
	t.npaths = 1;
	assert_int_equal(pass_spied(&w, &s, &t, &r), 0);
	assert_int_equal(r.files_read, 1);
	assert_false(r.full_read);
	es_engine_result_release(&r);
	c = doc_content(&w, "alpha");
	assert_non_null(strstr(c, "line ONE"));
	free(c);
	w_end(&w);
}

/* The _id of w's action with this text. */
struct find_text {
	const char	*text;
	bson_oid_t	 id;
	bool		 found;
};

static int
on_action(const bson_t *doc, void *ud)
{
	struct find_text *f = ud;

	if (strcmp(es_itest_str(doc, "text"), f->text) != 0)
		return 0;
	es_itest_oid(doc, "_id", &f->id);
	f->found = true;
	return 1;
}

static void
action_id(const struct world *w, const char *text, bson_oid_t *id)
{
	struct find_text f = { text, { { 0 } }, false };
	struct es_error err;

	assert_int_equal(es_store_find(w->t.store, ES_KIND_ACTION, w->t.user,
	    -1, on_action, &f, &err), 0);
	assert_true(f.found);
	bson_oid_copy(&f.id, id);
}

/*
 * ES_TRIGGER_CHANGES: an API write whose updated_at is a day old, far
 * behind the watermark's lookback, is missed by the since-query of an
 * ordinary pass; a pass given its _id as a change event reads it (one
 * find by _id) and writes the file.
 */
static void
test_trigger_changes(void **state)
{
	struct world w;
	struct spy s;
	struct es_engine_result r;
	struct es_trigger t;
	struct es_change ch[3];
	int64_t day = (int64_t)DAY_S * 1000;
	bson_t doc;
	char json[256], hex[25], *c;

	(void)state;
	w_begin(&w, "w_changes");
	put(&w, ALPHA, alpha_text);
	put(&w, BETA, "---\narea: Work\ntitle: Beta\ntype: standard\n---\n");
	put(&w, PHONE, "# @phone\n\n- [ ] Call mom\n");
	assert_int_equal(engine_pass(&w), 0);
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	memset(ch, 0, sizeof(ch));
	ch[0].kind = ES_KIND_PROJECT;
	es_itest_oid(&doc, "_id", &ch[0].id);
	bson_destroy(&doc);
	ch[1] = ch[0];			/* twice: read once */
	ch[2].kind = ES_KIND_ACTION;
	action_id(&w, "Call mom", &ch[2].id);
	peer_clock(&w, -day, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha API\"}}");
	bson_oid_to_string(&ch[2].id, hex);
	snprintf(json, sizeof(json), "{\"id\":\"%s\",\"set\":{\"priority\":"
	    "\"C\"}}", hex);
	peer_clock(&w, -day, "update-action", json);

	memset(&s, 0, sizeof(s));
	assert_int_equal(pass_spied(&w, &s, NULL, &r), 0);
	assert_false(r.full_read);
	assert_int_equal(r.docs_read, 1);	/* beta, in the lookback */
	es_engine_result_release(&r);
	c = get(&w, ALPHA);
	assert_null(strstr(c, "Alpha API"));
	free(c);
	c = get(&w, PHONE);
	assert_null(strstr(c, "(C)"));
	free(c);

	memset(&t, 0, sizeof(t));
	t.kind = ES_TRIGGER_CHANGES;
	t.changes = ch;
	t.nchanges = 3;
	memset(&s, 0, sizeof(s));
	assert_int_equal(pass_spied(&w, &s, &t, &r), 0);
	assert_false(r.full_read);
	/* beta in the lookback; alpha and the action by _id */
	assert_int_equal(r.docs_read, 3);
	/* one lone _id per collection: find_one, never $in (FerretDB) */
	assert_int_equal(s.db.find_ids, 0);
	es_engine_result_release(&r);
	assert_file_has(&w, ALPHA, "title: Alpha API");
	assert_file_has(&w, PHONE, "- [ ] (C) Call mom");
	w_end(&w);
}

/* ES_TRIGGER_FULL: every file and every document read, stat or not. */
static void
test_trigger_full(void **state)
{
	struct world w;
	struct es_engine_result r;
	struct es_trigger t;

	(void)state;
	w_begin(&w, "w_full");
	put(&w, ALPHA, alpha_text);
	put(&w, BETA, "---\narea: Work\ntitle: Beta\ntype: standard\n---\n");
	put(&w, PHONE, "# @phone\n\n- [ ] Call mom\n- [ ] Fix the bike\n");
	assert_int_equal(engine_pass(&w), 0);
	assert_int_equal(count_docs(&w, "actions"), 2);

	assert_int_equal(engine_pass_world(&w, NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.files_read, 0);	/* the stat fast path */
	assert_false(r.full_read);
	es_engine_result_release(&r);

	memset(&t, 0, sizeof(t));
	t.kind = ES_TRIGGER_FULL;
	assert_int_equal(engine_pass_world(&w, NULL, NULL, &t, &r), 0);
	assert_int_equal(r.files_read, 3);
	assert_int_equal(r.docs_read, 4);
	assert_true(r.full_read);
	assert_int_equal(r.plan.n, 0);		/* nothing changed */
	es_engine_result_release(&r);
	w_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_seams_clock_and_calls),
	cmocka_unit_test(test_seams_failed_insert),
	cmocka_unit_test(test_trigger_paths),
	cmocka_unit_test(test_trigger_changes),
	cmocka_unit_test(test_trigger_full),
};

ES_ITEST_MAIN(tests)
