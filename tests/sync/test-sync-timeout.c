/*
 * A pass whose writes outlast one socket timeout (issue 19 item 8). A
 * large edit once went to the server as one bulk command: past the
 * driver's socketTimeoutMS the pass took its own writes, which the server
 * went on applying, for "the document changed while syncing" and exited 1.
 * Rather than a huge batch, a small timeout: the URI's socketTimeoutMS.
 * Against the real execsyncd and the fixture's FerretDB.
 */
#include "sync-world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <mongoc/mongoc.h>

#include "execsync/xmalloc.h"

#define LIST		"00k-next-actions/contexts/@macbook.md"
/*
 * Short enough that the old single bulk outlasts it, long enough that a
 * full read or one chunk on a loaded CI machine (two test processes, the
 * sanitizer build) never does.
 */
#define SHORT_MS	1500

/*
 * uri with the option key=v added to its query string, or a query string
 * made for it (mongoc_uri_get_string() would give back the string parsed,
 * not the option set); libmongoc must then read v. uri must not set key.
 */
static char *
uri_with(const char *uri, const char *key, int32_t v)
{
	const char *hosts = strstr(uri, "://");
	mongoc_uri_t *u;
	bson_error_t be;
	char *s;

	if (hosts == NULL)
		fail_msg("%s: not a mongodb uri", uri);
	if (strchr(uri, '?') != NULL)
		s = es_xasprintf("%s%s%s=%d", uri, uri[strlen(uri) - 1] ==
		    '?' || uri[strlen(uri) - 1] == '&' ? "" : "&", key, v);
	else if (strchr(hosts + 3, '/') != NULL)
		s = es_xasprintf("%s?%s=%d", uri, key, v);
	else
		s = es_xasprintf("%s/?%s=%d", uri, key, v);
	if ((u = mongoc_uri_new_with_error(s, &be)) == NULL)
		fail_msg("%s: %s", s, be.message);
	if (mongoc_uri_get_option_as_int32(u, key, 0) != v)
		fail_msg("%s: %s is not %d", s, key, v);
	mongoc_uri_destroy(u);
	return s;
}

/* execsyncd --once --json on w with uri instead of w's own. */
static int
syncd_uri(struct world *w, const char *uri)
{
	char *own = w->t.uri;
	int rc;

	w->t.uri = (char *)uri;
	rc = syncd1(w, "--json");
	w->t.uri = own;
	return rc;
}

static json_t *
out_json(const struct world *w)
{
	json_error_t je;
	json_t *j = json_loads(w->out.buf ? w->out.buf : "", 0, &je);

	if (j == NULL)
		fail_msg("not JSON: %s\nstderr: %s", w->out.buf ? w->out.buf :
		    "", w->err.buf ? w->err.buf : "");
	return j;
}

static int64_t
jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/*
 * LIST with nlines action lines, the first nprio of them with prio before
 * the text; nprojects project files, due their due line (or "").
 */
static void
write_tree(const struct world *w, int nlines, int nprio, const char *prio,
    int nprojects, const char *due)
{
	struct es_buf b = ES_BUF_INIT;

	es_buf_addstr(&b, "# @macbook\n\nnotes stay where they are\n\n");
	for (int i = 0; i < nlines; i++)
		es_buf_addf(&b, "- [ ] %sTask number %d\n", i < nprio ? prio :
		    "", i);
	put(w, LIST, b.buf);
	for (int i = 0; i < nprojects; i++) {
		char rel[64];

		es_buf_reset(&b);
		es_buf_addf(&b, "---\narea: Work\ntitle: Project %d\n"
		    "type: standard\n%s---\n# Project %d\n", i, due, i);
		snprintf(rel, sizeof(rel), "10k-projects/active/work/"
		    "project-%d.md", i);
		put(w, rel, b.buf);
	}
	es_buf_release(&b);
}

static bool
priority_b(const bson_t *doc)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, doc, "priority") &&
	    BSON_ITER_HOLDS_UTF8(&it) &&
	    strcmp(bson_iter_utf8(&it, NULL), "B") == 0;
}

static bool
due_set(const bson_t *doc)
{
	return es_itest_date(doc, "due") == es_itest_day_ms("2027-01-31");
}

/*
 * Of the documents of coll, exactly n pass ok, and those share one
 * updated_at later than after (each written once, by one pass), while the
 * others kept theirs (not later than after).
 */
static void
all_docs_have(const struct world *w, const char *coll,
    bool (*ok)(const bson_t *), size_t n, int64_t after)
{
	mongoc_client_t *c = mongoc_client_new(w->t.uri);
	mongoc_collection_t *col;
	mongoc_cursor_t *cur;
	bson_t filter = BSON_INITIALIZER;
	const bson_t *doc;
	size_t seen = 0;
	int64_t ua = -1;

	if (c == NULL)
		fail_msg("mongoc_client_new");
	col = mongoc_client_get_collection(c, w->t.db, coll);
	BSON_APPEND_UTF8(&filter, "user_id", w->t.user);
	cur = mongoc_collection_find_with_opts(col, &filter, NULL, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		int64_t v = es_itest_date(doc, "updated_at");

		if (!ok(doc)) {
			if (v > after)
				fail_msg("%s: an unedited document written",
				    coll);
			continue;
		}
		if (v <= after || (ua >= 0 && v != ua))
			fail_msg("%s: updated_at %lld (after %lld, others "
			    "%lld)", coll, (long long)v, (long long)after,
			    (long long)ua);
		ua = v;
		seen++;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	mongoc_collection_destroy(col);
	mongoc_client_destroy(c);
	assert_int_equal(seen, n);
}

/*
 * One pass of nedit edited action lines out of nlines and nprojects edited
 * projects, under a SHORT_MS socket timeout: exit 0, every edited document
 * written once, no lost race, no error; the next pass has nothing to do.
 */
static void
edit_pass(const char *tag, int nlines, int nedit, int nprojects)
{
	struct world w;
	char *shortu, *before, *after;
	json_t *j, *applied;
	int64_t t0, took, seeded;
	int rc;

	w_begin(&w, tag);
	shortu = uri_with(w.t.uri, MONGOC_URI_SOCKETTIMEOUTMS, SHORT_MS);
	write_tree(&w, nlines, 0, "", nprojects, "");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_int_equal(count_docs(&w, "actions"), nlines);
	assert_int_equal(count_docs(&w, "projects"), nprojects);
	seeded = es_itest_now_ms();

	/* Lines get a priority, every project a due date. */
	write_tree(&w, nlines, nedit, "(B) ", nprojects, "due: 2027-01-31\n");
	t0 = es_itest_mono_ms();
	rc = syncd_uri(&w, shortu);
	took = es_itest_mono_ms() - t0;
	if (rc != 0)
		fail_msg("exit %d: %s", rc, w.err.buf);
	print_message("the pass took %lld ms under a %d ms socket timeout\n",
	    (long long)took, SHORT_MS);
	j = out_json(&w);
	applied = json_object_get(j, "applied");
	if (jint(applied, "update") != nedit + nprojects ||
	    jint(j, "failed") != 0 || jint(j, "lost_races") != 0 ||
	    json_array_size(json_object_get(j, "errors")) != 0)
		fail_msg("%s\nstderr: %s", w.out.buf, w.err.buf);
	json_decref(j);
	assert_false(contains(w.err.buf, "changed while syncing"));
	all_docs_have(&w, "actions", priority_b, (size_t)nedit, seeded);
	if (nprojects > 0)
		all_docs_have(&w, "projects", due_set, (size_t)nprojects,
		    seeded);
	assert_int_equal(count_docs(&w, "actions"), nlines);
	assert_int_equal(count_docs(&w, "projects"), nprojects);

	/* SPEC 4.8: settled; the next pass plans nothing, writes nothing. */
	before = snapshot(&w);
	assert_int_equal(syncd_uri(&w, shortu), 0);
	j = out_json(&w);
	if (json_array_size(json_object_get(j, "plan")) != 0)
		fail_msg("second pass planned: %s", w.out.buf);
	json_decref(j);
	after = snapshot(&w);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(shortu);
	w_end(&w);
}

/*
 * 95 of 3,000 lines: each compare-and-swap scans the collection here
 * (FerretDB), about 27 ms, so one bulk of them takes about 2.6 s, well past
 * the timeout (and under the 100 updates that wedge FerretDB). It used to
 * be cut off at the timeout while the server went on writing: the writes it
 * had not reached yet were "changed while syncing", exit 1, and the next
 * pass not a no-op.
 */
static void
test_edit_outlasting_socket_timeout(void **state)
{
	(void)state;
	edit_pass("t_outlast", 3000, 95, 0);
}

/*
 * 300 lines and 120 projects, all edited: more than FerretDB 1.24 can
 * take in one update command (100 matching updates wedge its database,
 * see ES_STORE_CAS_CHUNK_MAX), and more than one timeout's worth.
 */
static void
test_large_edit_within_short_socket_timeout(void **state)
{
	(void)state;
	edit_pass("t_large", 300, 300, 120);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_edit_outlasting_socket_timeout),
	cmocka_unit_test(test_large_edit_within_short_socket_timeout),
};

ES_ITEST_MAIN(tests)
