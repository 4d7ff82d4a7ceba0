/*
 * Issue 16 item 2: a pass with a quiet database (es_trigger.db_quiet: the
 * daemon's change source watches it) costs what it changes. Passes run in
 * this process through the real world (the fixture's FerretDB, a real
 * folder) whose database table a spy wraps to count the calls:
 *  - a saved project file or action line: no find at all, one
 *    compare-and-swap update;
 *  - a change event with the source's copy of the document: no find; one
 *    without: the document by _id (find_one alone, find_ids for several);
 *    a deleted one: the file to the trash (SPEC 4.5);
 *  - a lost race (an API write the pass was not told of): read by _id,
 *    decided again (SPEC 4.2, 4.3, 4.12), never overwritten;
 *  - right after a pass, a quiet pass changes nothing (SPEC 4.8); the
 *    watermarks and last_full_pass_ms stay where they were.
 */
#include "db-spy.h"
#include "sync-world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "execsync/baseline.h"
#include "execsync/engine.h"
#include "execsync/store.h"
#include "execsync/world.h"

#define ALPHA	"10k-projects/active/work/alpha.md"
#define BETA	"10k-projects/active/work/beta.md"
#define PHONE	"00k-next-actions/contexts/@phone.md"

static const char alpha_text[] =
    "---\narea: Work\ntitle: Alpha\ntype: standard\ncreated: 2025-01-02\n"
    "---\n# Alpha\n\nline one\n";
static const char beta_text[] =
    "---\narea: Work\ntitle: Beta\ntype: standard\ncreated: 2025-01-02\n"
    "---\n# Beta\n\nbeta body\n";

static void
wrap(struct es_world *ew, void *ud)
{
	db_spy_wrap(ew, ud);
}

/* The next passes' ES_TRIGGER hold list (test_quiet_hold_delete). */
static const char *const *hold;
static size_t nhold;

/*
 * One pass of trigger kind k over paths or changes, quiet or not, at the
 * clock s->now (0: the system's); status 0 or the test fails.
 */
static void
pass_at(struct world *w, struct db_spy *s, enum es_trigger_kind k,
    bool quiet, const char *const *paths, size_t npaths, const struct es_change *ch,
    size_t nch, struct es_engine_result *r)
{
	struct es_trigger t;
	int64_t now = s->now;
	int rc;

	memset(&t, 0, sizeof(t));
	t.kind = k;
	t.paths = paths;
	t.npaths = npaths;
	t.changes = ch;
	t.nchanges = nch;
	t.db_quiet = quiet;
	t.hold = hold;
	t.nhold = nhold;
	memset(s, 0, sizeof(*s));
	s->now = now;
	s->fixed_clock = now != 0;
	rc = engine_pass_world(w, wrap, s, &t, r);
	db_spy_done();
	if (rc != 0) {
		for (size_t i = 0; i < r->nerrors; i++)
			print_message("%s: %s\n", r->errors[i].path,
			    r->errors[i].msg);
		fail_msg("pass: status %d %s", rc, w->err.buf ?
		    w->err.buf : "");
	}
}

/* A quiet pass at the system's clock. */
static void
quiet_pass(struct world *w, struct db_spy *s, enum es_trigger_kind k,
    const char *const *paths, size_t npaths, const struct es_change *ch,
    size_t nch, struct es_engine_result *r)
{
	s->now = 0;
	pass_at(w, s, k, true, paths, npaths, ch, nch, r);
}

/* Baseline meta key, malloc'd ("" when absent). */
static char *
meta(const struct world *w, const char *key)
{
	struct es_baseline *b;
	struct es_error err;
	char *v = NULL;

	b = es_baseline_open_root(w->root, &err);
	assert_non_null(b);
	assert_int_equal(es_baseline_get_meta(b, key, &v, &err), 0);
	es_baseline_free(b);
	return v != NULL ? v : strdup("");
}

/* The bookkeeping a quiet pass must leave as it was. */
struct marks {
	char	*wm[3], *last_full;
};

static void
marks_get(const struct world *w, struct marks *m)
{
	m->wm[0] = meta(w, "watermark.projects");
	m->wm[1] = meta(w, "watermark.goals");
	m->wm[2] = meta(w, "watermark.actions");
	m->last_full = meta(w, "last_full_pass_ms");
	assert_true(m->wm[0][0] != '\0' && m->last_full[0] != '\0');
}

static void
marks_same(const struct world *w, struct marks *m)
{
	struct marks now;

	marks_get(w, &now);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(now.wm[i], m->wm[i]);
		free(now.wm[i]);
		free(m->wm[i]);
	}
	assert_string_equal(now.last_full, m->last_full);
	free(now.last_full);
	free(m->last_full);
}

static void
project_id(const struct world *w, const char *slug, bson_oid_t *id)
{
	bson_t doc;

	assert_true(doc_get(w, "projects", slug, &doc));
	es_itest_oid(&doc, "_id", id);
	bson_destroy(&doc);
}

static void
replace_in(const struct world *w, const char *rel, const char *from,
    const char *to)
{
	char *c = get(w, rel), *p, *n;

	p = strstr(c, from);
	assert_non_null(p);
	n = calloc(1, strlen(c) - strlen(from) + strlen(to) + 1);
	assert_non_null(n);
	memcpy(n, c, (size_t)(p - c));
	strcat(n, to);
	strcat(n, p + strlen(from));
	put(w, rel, n);
	free(n);
	free(c);
}

struct by_text {
	const char	*text;
	bool		 found;
	int64_t		 ua;
};

static int
on_action(const bson_t *doc, void *ud)
{
	struct by_text *f = ud;

	if (strcmp(es_itest_str(doc, "text"), f->text) == 0) {
		f->found = true;
		f->ua = es_itest_date(doc, "updated_at");
	}
	return 0;
}

/* Whether w's user has an action with this text (its version in *ua). */
static bool
action_has(const struct world *w, const char *text, int64_t *ua)
{
	struct by_text f = { text, false, 0 };
	struct es_error err;

	assert_int_equal(es_store_find(w->t.store, ES_KIND_ACTION, w->t.user,
	    -1, on_action, &f, &err), 0);
	if (ua != NULL)
		*ua = f.ua;
	return f.found;
}

/*
 * One project file saved: exactly one compare-and-swap update of its
 * document and no find of any kind (no since-query, no read by _id).
 */
static void
test_quiet_paths_project(void **state)
{
	struct world w;
	struct db_spy s;
	struct es_engine_result r;
	struct marks m;
	const char *paths[] = { ALPHA };
	char *c;

	(void)state;
	w_begin(&w, "q_paths");
	put(&w, ALPHA, alpha_text);
	put(&w, BETA, beta_text);
	put(&w, PHONE, "# @phone\n\n- [ ] Call mom\n");
	assert_int_equal(engine_pass(&w), 0);
	marks_get(&w, &m);
	replace_in(&w, ALPHA, "line one", "line ONE");
	quiet_pass(&w, &s, ES_TRIGGER_PATHS, paths, 1, NULL, 0, &r);
	assert_int_equal(db_spy_finds(&s), 0);
	assert_int_equal(db_spy_updates(&s), 1);
	assert_int_equal(s.update_cas, 1);
	assert_int_equal(s.inserts, 0);
	assert_false(r.full_read);
	assert_int_equal(r.docs_read, 0);
	assert_int_equal(r.files_read, 1);
	assert_int_equal(r.to_db, 1);
	es_engine_result_release(&r);
	c = doc_content(&w, "alpha");
	assert_non_null(strstr(c, "line ONE"));
	free(c);
	marks_same(&w, &m);
	w_end(&w);
}

/* One action line edited: its document updated, no find. */
static void
test_quiet_paths_action(void **state)
{
	struct world w;
	struct db_spy s;
	struct es_engine_result r;
	const char *paths[] = { PHONE };

	(void)state;
	w_begin(&w, "q_action");
	put(&w, ALPHA, alpha_text);
	put(&w, PHONE, "# @phone\n\n- [ ] Call mom\n- [ ] Fix the bike\n");
	assert_int_equal(engine_pass(&w), 0);
	assert_true(action_has(&w, "Call mom", NULL));
	replace_in(&w, PHONE, "Call mom", "Call mum");
	quiet_pass(&w, &s, ES_TRIGGER_PATHS, paths, 1, NULL, 0, &r);
	assert_int_equal(db_spy_finds(&s), 0);
	assert_int_equal(db_spy_updates(&s), 1);
	assert_int_equal(s.inserts, 0);
	assert_int_equal(r.to_db, 1);
	es_engine_result_release(&r);
	assert_true(action_has(&w, "Call mum", NULL));
	assert_false(action_has(&w, "Call mom", NULL));
	assert_true(action_has(&w, "Fix the bike", NULL));
	w_end(&w);
}

/*
 * An API change handed over as a change source does, with its copy of
 * the document: the file is rewritten, nothing read from the database.
 * Without the copy: read by _id, a lone one by find_one, several by one
 * find_ids.
 */
static void
test_quiet_changes(void **state)
{
	struct world w;
	struct db_spy s;
	struct es_engine_result r;
	struct es_change ch[2];
	bson_t doc;

	(void)state;
	w_begin(&w, "q_changes");
	put(&w, ALPHA, alpha_text);
	put(&w, BETA, beta_text);
	assert_int_equal(engine_pass(&w), 0);

	peer(&w, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha API\"}}");
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	memset(ch, 0, sizeof(ch));
	ch[0].kind = ES_KIND_PROJECT;
	es_itest_oid(&doc, "_id", &ch[0].id);
	ch[0].doc = &doc;
	quiet_pass(&w, &s, ES_TRIGGER_CHANGES, NULL, 0, ch, 1, &r);
	bson_destroy(&doc);
	assert_int_equal(db_spy_finds(&s), 0);
	assert_int_equal(db_spy_updates(&s), 0);
	assert_int_equal(r.docs_read, 1);	/* the source's copy */
	assert_int_equal(r.to_file, 1);
	es_engine_result_release(&r);
	assert_file_has(&w, ALPHA, "title: Alpha API");

	/* No copy: the lone _id read. */
	peer(&w, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha Two\"}}");
	ch[0].doc = NULL;
	quiet_pass(&w, &s, ES_TRIGGER_CHANGES, NULL, 0, ch, 1, &r);
	assert_int_equal(s.find_one, 1);
	assert_int_equal(db_spy_finds(&s), 1);
	assert_int_equal(r.to_file, 1);
	es_engine_result_release(&r);
	assert_file_has(&w, ALPHA, "title: Alpha Two");

	/* Two: one find by _id ($in) for both. */
	peer(&w, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha Three\"}}");
	peer(&w, "update-project", "{\"slug\":\"beta\","
	    "\"set\":{\"title\":\"Beta Two\"}}");
	ch[1].kind = ES_KIND_PROJECT;
	project_id(&w, "beta", &ch[1].id);
	quiet_pass(&w, &s, ES_TRIGGER_CHANGES, NULL, 0, ch, 2, &r);
	assert_int_equal(s.find_ids, 1);
	assert_int_equal(db_spy_finds(&s), 1);
	assert_int_equal(r.to_file, 2);
	es_engine_result_release(&r);
	assert_file_has(&w, ALPHA, "title: Alpha Three");
	assert_file_has(&w, BETA, "title: Beta Two");
	w_end(&w);
}

/* The _id of w's document of coll deleted from the collection itself. */
static void
hard_delete(const struct world *w, const char *coll, const bson_oid_t *id)
{
	mongoc_client_t *c = mongoc_client_new(w->t.uri);
	mongoc_collection_t *k;
	bson_t filter = BSON_INITIALIZER, reply;
	bson_error_t be;

	assert_non_null(c);
	k = mongoc_client_get_collection(c, w->t.db, coll);
	BSON_APPEND_OID(&filter, "_id", id);
	if (!mongoc_collection_delete_one(k, &filter, NULL, &reply, &be))
		fail_msg("delete: %s", be.message);
	bson_destroy(&reply);
	bson_destroy(&filter);
	mongoc_collection_destroy(k);
	mongoc_client_destroy(c);
}

/*
 * A hard delete the source reports (deleted, no document): the file goes
 * to the trash as for a vanished document (SPEC 4.5), nothing read. A
 * since pass cannot see a hard delete; it takes the document as
 * unchanged.
 */
static void
test_quiet_deleted(void **state)
{
	struct world w;
	struct db_spy s;
	struct es_engine_result r;
	struct es_change ch;

	(void)state;
	w_begin(&w, "q_deleted");
	put(&w, ALPHA, alpha_text);
	put(&w, BETA, beta_text);
	assert_int_equal(engine_pass(&w), 0);
	memset(&ch, 0, sizeof(ch));
	ch.kind = ES_KIND_PROJECT;
	project_id(&w, "alpha", &ch.id);
	hard_delete(&w, "projects", &ch.id);
	assert_int_equal(engine_pass(&w), 0);	/* since: not seen */
	assert_true(exists(&w, ALPHA));

	ch.deleted = true;
	quiet_pass(&w, &s, ES_TRIGGER_CHANGES, NULL, 0, &ch, 1, &r);
	assert_int_equal(db_spy_finds(&s), 0);
	assert_int_equal(db_spy_updates(&s), 0);
	assert_int_equal(r.applied[ES_OP_FILE_TRASH], 1);
	es_engine_result_release(&r);
	assert_false(exists(&w, ALPHA));
	assert_true(exists(&w, ".execsync/trash/" ALPHA));
	assert_true(exists(&w, BETA));
	assert_int_equal(count_docs(&w, "projects"), 1);
	w_end(&w);
}

/*
 * A lost race: the API changed the title after the baseline and the pass
 * was not told; the file's body was edited. The compare-and-swap loses,
 * the document is read by _id and both changes are kept (SPEC 4.3).
 */
static void
test_quiet_lost_race(void **state)
{
	struct world w;
	struct db_spy s;
	struct es_engine_result r;
	const char *paths[] = { ALPHA };
	bson_t doc;

	(void)state;
	w_begin(&w, "q_race");
	put(&w, ALPHA, alpha_text);
	assert_int_equal(engine_pass(&w), 0);
	peer(&w, "update-project", "{\"slug\":\"alpha\","
	    "\"set\":{\"title\":\"Alpha API\"}}");
	replace_in(&w, ALPHA, "line one", "line ONE");
	quiet_pass(&w, &s, ES_TRIGGER_PATHS, paths, 1, NULL, 0, &r);
	assert_int_equal(s.find, 0);		/* never the collection */
	assert_int_equal(s.find_ids, 0);
	assert_int_equal(s.find_one, 1);	/* the lost race's read */
	assert_int_equal(s.update_cas, 2);	/* lost, then the merge */
	assert_int_equal(r.lost_races, 0);
	assert_int_equal(r.conflicts, 0);
	es_engine_result_release(&r);
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Alpha API");
	assert_non_null(strstr(es_itest_str(&doc, "content"), "line ONE"));
	bson_destroy(&doc);
	assert_file_has(&w, ALPHA, "title: Alpha API");
	assert_file_has(&w, ALPHA, "line ONE");
	/* Settled: an ordinary pass finds nothing to do. */
	assert_int_equal(engine_pass_world(&w, NULL, NULL, NULL, &r), 0);
	assert_int_equal(r.plan.n, 0);
	es_engine_result_release(&r);
	w_end(&w);
}

/*
 * SPEC 4.8: right after a pass, a quiet pass changes nothing, the files
 * named read or not, and touches the database not at all.
 */
static void
test_quiet_idempotent(void **state)
{
	struct world w;
	struct db_spy s;
	struct es_engine_result r;
	const char *paths[] = { ALPHA, PHONE };
	char *snap0, *dump0, *snap1, *dump1;

	(void)state;
	w_begin(&w, "q_idem");
	put(&w, ALPHA, alpha_text);
	put(&w, PHONE, "# @phone\n\n- [ ] Call mom\n- [ ] Fix the bike\n");
	assert_int_equal(engine_pass(&w), 0);
	snap0 = snapshot(&w);
	dump0 = dump(&w);
	quiet_pass(&w, &s, ES_TRIGGER_PATHS, paths, 2, NULL, 0, &r);
	assert_int_equal(db_spy_finds(&s) + db_spy_updates(&s) + s.inserts, 0);
	assert_int_equal(r.files_read, 2);
	assert_int_equal(r.plan.n, 0);
	es_engine_result_release(&r);
	quiet_pass(&w, &s, ES_TRIGGER_ORDINARY, NULL, 0, NULL, 0, &r);
	assert_int_equal(db_spy_finds(&s) + db_spy_updates(&s) + s.inserts, 0);
	assert_int_equal(r.plan.n, 0);
	assert_int_equal(r.round_trips, 0);
	es_engine_result_release(&r);
	snap1 = snapshot(&w);
	dump1 = dump(&w);
	assert_string_equal(snap0, snap1);
	assert_string_equal(dump0, dump1);
	free(snap0);
	free(snap1);
	free(dump0);
	free(dump1);
	w_end(&w);
}

/*
 * The watermark a quiet pass leaves is what a later ordinary pass reads
 * from (SPEC 4.1): an API change the quiet pass was not told of is found
 * by the next since-query, even an hour of our clock later (had the
 * quiet pass moved the watermark to its now, the since-query would start
 * 50 minutes after the change and skip it).
 */
static void
test_quiet_watermark_later_pass(void **state)
{
	struct world w;
	struct db_spy s;
	struct es_engine_result r;
	const char *paths[] = { ALPHA };
	char *c;

	(void)state;
	w_begin(&w, "q_wm");
	put(&w, ALPHA, alpha_text);
	put(&w, BETA, beta_text);
	assert_int_equal(engine_pass(&w), 0);
	peer(&w, "update-project", "{\"slug\":\"beta\","
	    "\"set\":{\"title\":\"Beta API\"}}");
	replace_in(&w, ALPHA, "line one", "line ONE");
	memset(&s, 0, sizeof(s));
	s.now = es_itest_now_ms() + 3600 * 1000;
	pass_at(&w, &s, ES_TRIGGER_PATHS, true, paths, 1, NULL, 0, &r);
	assert_int_equal(db_spy_finds(&s), 0);
	es_engine_result_release(&r);
	assert_file_has(&w, ALPHA, "line ONE");
	c = get(&w, BETA);
	assert_null(strstr(c, "Beta API"));
	free(c);
	pass_at(&w, &s, ES_TRIGGER_ORDINARY, false, NULL, 0, NULL, 0, &r);
	assert_false(r.full_read);
	assert_int_equal(s.find, 3);		/* the since-queries */
	es_engine_result_release(&r);
	assert_file_has(&w, BETA, "title: Beta API");
	w_end(&w);
}

/*
 * A delete the daemon holds (world.h, es_trigger.hold: an editor's delete
 * then create slower than the debounce) is left alone: no soft delete, no
 * trash; the file written again is an edit of the same document, never a
 * new "alpha-2".
 */
static void
test_quiet_hold_delete(void **state)
{
	struct world w;
	struct db_spy s;
	struct es_engine_result r;
	const char *paths[] = { ALPHA };
	char *path, *c;
	bson_t doc;

	(void)state;
	w_begin(&w, "q_hold");
	put(&w, ALPHA, alpha_text);
	put(&w, BETA, beta_text);
	assert_int_equal(engine_pass(&w), 0);
	assert_true(asprintf(&path, "%s/%s", w.root, ALPHA) > 0);
	assert_int_equal(unlink(path), 0);
	free(path);

	hold = paths;
	nhold = 1;
	quiet_pass(&w, &s, ES_TRIGGER_PATHS, paths, 1, NULL, 0, &r);
	hold = NULL;
	nhold = 0;
	assert_int_equal(db_spy_updates(&s), 0);
	assert_int_equal(r.to_db, 0);
	es_engine_result_release(&r);
	assert_true(doc_get(&w, "projects", "alpha", &doc));
	assert_int_equal(es_itest_type(&doc, "deleted_at"), BSON_TYPE_NULL);
	bson_destroy(&doc);

	put(&w, ALPHA, alpha_text);
	replace_in(&w, ALPHA, "line one", "line ONE");
	quiet_pass(&w, &s, ES_TRIGGER_PATHS, paths, 1, NULL, 0, &r);
	assert_int_equal(s.update_cas, 1);
	assert_int_equal(s.inserts, 0);
	es_engine_result_release(&r);
	c = doc_content(&w, "alpha");
	assert_non_null(strstr(c, "line ONE"));
	free(c);
	assert_int_equal(count_docs(&w, "projects"), 2);
	w_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_quiet_hold_delete),
	cmocka_unit_test(test_quiet_paths_project),
	cmocka_unit_test(test_quiet_paths_action),
	cmocka_unit_test(test_quiet_changes),
	cmocka_unit_test(test_quiet_deleted),
	cmocka_unit_test(test_quiet_lost_race),
	cmocka_unit_test(test_quiet_idempotent),
	cmocka_unit_test(test_quiet_watermark_later_pass),
};

ES_ITEST_MAIN(tests)
