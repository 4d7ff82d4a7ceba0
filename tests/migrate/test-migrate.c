/*
 * execsync-migrate against a real server (issue 4): the real binary on
 * generated and hand-written folders, the database read back through the
 * API peer (the official Node.js driver) and through es_store.
 *
 * Each case has its own database (es_itest_begin) and its own folder.
 */
#include "es-itest.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <mongoc/mongoc.h>

#include "execsync/baseline.h"
#include "execsync/doc.h"
#include "execsync/entity-file.h"
#include "execsync/fingerprint.h"
#include "execsync/migrate.h"
#include "execsync/slug.h"
#include "execsync/tree.h"
#include "execsync/xmalloc.h"

#ifndef ES_MIGRATE_BIN
#error "ES_MIGRATE_BIN (the path of execsync-migrate) is not defined"
#endif

extern char **environ;

static const char *const kind_keys[3] = { "projects", "goals", "actions" };

/* ---- helpers ---- */

/* contrib/make-sample-tree into <tmp>/tree; args NULL-terminated. */
static char *
gen_tree(const char *tag, const char *const *args, struct es_buf *gen_err)
{
	const char *src = getenv("ES_SOURCE_DIR");
	char *dir = es_itest_tmpdir(tag), *tree, *gen;
	char *argv[32];
	int n = 0, rc;

	if (src == NULL)
		fail_msg("ES_SOURCE_DIR is not set (run through ctest)");
	tree = es_xasprintf("%s/tree", dir);
	gen = es_xasprintf("%s/contrib/make-sample-tree", src);
	argv[n++] = (char *)"node";
	argv[n++] = gen;
	argv[n++] = tree;
	for (size_t i = 0; args != NULL && args[i] != NULL && n < 31; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	rc = es_itest_run(argv, NULL, gen_err, 120);
	if (rc != 0)
		fail_msg("make-sample-tree: exit %d", rc);
	free(gen);
	free(dir);
	return tree;
}

/* Removes the mkdtemp folder holding tree (tree is "<tmp>/tree"). */
static void
rm_tree(char *tree)
{
	char *slash = strrchr(tree, '/');

	*slash = '\0';
	es_itest_rm_rf(tree);
	free(tree);
}

/* Writes rel under root, making its folders. */
static void
put_file(const char *root, const char *rel, const char *data, size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0755) == -1 && errno != EEXIST)
				fail_msg("mkdir %s: %s", path, strerror(errno));
			*p = '/';
		}
	if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, len, f) != len)
		fail_msg("write %s: %s", path, strerror(errno));
	fclose(f);
}

static void
put_str(const char *root, const char *rel, const char *s)
{
	put_file(root, rel, s, strlen(s));
}

/* Removes root's .execsync/: the folder as a fresh clone has it. */
static void
forget_baseline(const char *root)
{
	char *dir = es_xasprintf("%s/%s", root, ES_BASELINE_DIR);

	es_itest_rm_rf(dir);
	free(dir);
}

/* Runs execsync-migrate with --source, --mongodb-uri, --user-id and
 * --database from t, then extra (NULL-terminated). */
static int
migrate(const struct es_itest *t, const char *src, const char *const *extra,
    struct es_buf *out, struct es_buf *err)
{
	char *argv[32];
	int n = 0;

	argv[n++] = (char *)ES_MIGRATE_BIN;
	argv[n++] = (char *)"--source";
	argv[n++] = (char *)src;
	argv[n++] = (char *)"--mongodb-uri";
	argv[n++] = t->uri;
	argv[n++] = (char *)"--user-id";
	argv[n++] = (char *)t->user;
	argv[n++] = (char *)"--database";
	argv[n++] = t->db;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 31; i++)
		argv[n++] = (char *)extra[i];
	argv[n] = NULL;
	return es_itest_run(argv, out, err, 240);
}

/* Runs it with --json (plus extra) and parses the summary. */
static json_t *
migrate_json(const struct es_itest *t, const char *src,
    const char *const *extra, int *status, struct es_buf *err)
{
	const char *args[16] = { "--json" };
	struct es_buf out = ES_BUF_INIT;
	json_error_t je;
	json_t *j;
	size_t n = 1;

	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	*status = migrate(t, src, args, &out, err);
	j = json_loads(out.buf, 0, &je);
	if (j == NULL)
		fail_msg("exit %d, stdout is not JSON (%s): '%s' stderr: %s",
		    *status, je.text, out.buf, err ? err->buf : "");
	es_buf_release(&out);
	return j;
}

/* What the folder holds, by the library's own reading. */
struct expect {
	size_t	 projects[5];	/* by enum es_folder */
	size_t	 nprojects, ngoals, nactions;
	size_t	 states[6];	/* by enum es_state */
	size_t	 files_ok;	/* synced files without problems */
};

static void
expect_tree(const char *root, struct expect *x)
{
	struct es_tree_opts opts = { NULL, 8u << 20 };
	struct es_tree t;
	struct es_error err;
	int fd = open(root, O_RDONLY | O_DIRECTORY);

	memset(x, 0, sizeof(*x));
	if (fd < 0 || es_tree_load(fd, &opts, &t, &err) < 0)
		fail_msg("load %s", root);
	for (size_t i = 0; i < t.nfiles; i++) {
		const struct es_tree_file *f = &t.files[i];

		if (f->status != ES_TREE_OK)
			continue;
		if (f->info.kind == ES_KIND_PROJECT) {
			x->projects[f->entity.folder]++;
			x->nprojects++;
		} else if (f->info.kind == ES_KIND_GOAL)
			x->ngoals++;
		else
			for (size_t j = 0; j < es_action_list_count(f->list);
			    j++) {
				x->states[es_action_list_get(f->list,
				    j)->state]++;
				x->nactions++;
			}
	}
	es_tree_release(&t);
	close(fd);
}

/* What the database holds for t's user, through es_store. */
struct counts {
	size_t	 projects[5];
	size_t	 nprojects, ngoals, nactions;
	size_t	 states[6];
	size_t	 deleted;
};

static int
count_doc(const bson_t *doc, void *ud)
{
	struct counts *c = ud;
	bson_iter_t it;
	enum es_folder f;
	enum es_state s;

	if (bson_iter_init_find(&it, doc, "deleted") && bson_iter_as_bool(&it))
		c->deleted++;
	if (bson_iter_init_find(&it, doc, "state")) {
		const char *v = bson_iter_utf8(&it, NULL);

		c->nactions++;
		if (v != NULL && es_state_parse(v, strlen(v), &s))
			c->states[s]++;
		return 0;
	}
	if (bson_iter_init_find(&it, doc, "type")) {
		c->nprojects++;
		if (bson_iter_init_find(&it, doc, "folder")) {
			const char *v = bson_iter_utf8(&it, NULL);

			if (v != NULL && es_folder_parse(v, strlen(v), &f))
				c->projects[f]++;
		}
		return 0;
	}
	c->ngoals++;
	return 0;
}

static void
db_counts(const struct es_itest *t, struct counts *c)
{
	struct es_error err;

	memset(c, 0, sizeof(*c));
	for (int k = 0; k < 3; k++)
		if (es_store_find(t->store, (enum es_kind)k, t->user, -1,
		    count_doc, c, &err) < 0)
			fail_msg("find: %s", err.msg);
}

static int64_t
count_coll(mongoc_client_t *c, const char *db, const char *coll)
{
	mongoc_collection_t *col = mongoc_client_get_collection(c, db, coll);
	bson_t filter = BSON_INITIALIZER;
	bson_error_t be;
	int64_t n;

	n = mongoc_collection_count_documents(col, &filter, NULL, NULL, NULL,
	    &be);
	bson_destroy(&filter);
	mongoc_collection_destroy(col);
	return n;
}

/* Every document of the three collections, all users. */
static int64_t
db_total(const struct es_itest *t)
{
	mongoc_client_t *c = mongoc_client_new(t->uri);
	int64_t n = 0;

	mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
	for (int k = 0; k < 3; k++) {
		int64_t m = count_coll(c, t->db, kind_keys[k]);

		if (m > 0)
			n += m;
	}
	mongoc_client_destroy(c);
	return n;
}

/* The peer's dump; with strip, created_at and updated_at are removed from
 * every document (they are the run's clock). */
static void
dump(const struct es_itest *t, bool strip, bson_t *out)
{
	bson_t raw;
	bson_iter_t top, arr, it;

	es_itest_peer(t, "dump", NULL, &raw);
	bson_init(out);
	if (!strip) {
		bson_concat(out, &raw);
		bson_destroy(&raw);
		return;
	}
	assert_true(bson_iter_init(&top, &raw));
	while (bson_iter_next(&top)) {
		bson_t a;
		int i = 0;

		assert_true(BSON_ITER_HOLDS_ARRAY(&top));
		bson_append_array_begin(out, bson_iter_key(&top), -1, &a);
		assert_true(bson_iter_recurse(&top, &arr));
		while (bson_iter_next(&arr)) {
			bson_t d;
			char k[16];

			snprintf(k, sizeof(k), "%d", i++);
			bson_append_document_begin(&a, k, -1, &d);
			assert_true(bson_iter_recurse(&arr, &it));
			while (bson_iter_next(&it))
				if (strcmp(bson_iter_key(&it), "created_at") &&
				    strcmp(bson_iter_key(&it), "updated_at"))
					bson_append_iter(&d, NULL, 0, &it);
			bson_append_document_end(&a, &d);
		}
		bson_append_array_end(out, &a);
	}
	bson_destroy(&raw);
}

static void
assert_bson_equal(const bson_t *a, const bson_t *b)
{
	if (a->len != b->len ||
	    memcmp(bson_get_data(a), bson_get_data(b), a->len) != 0) {
		char *ja = bson_as_canonical_extended_json(a, NULL);
		char *jb = bson_as_canonical_extended_json(b, NULL);

		print_error("documents differ:\n%.2000s\n---\n%.2000s\n", ja,
		    jb);
		bson_free(ja);
		bson_free(jb);
		fail();
	}
}

/* The document of a dump array whose key equals value (a string). */
static bool
find_in_dump(const bson_t *d, const char *coll, const char *key,
    const char *value, bson_t *out)
{
	bson_iter_t top, arr;

	if (!bson_iter_init_find(&top, d, coll) ||
	    !bson_iter_recurse(&top, &arr))
		fail_msg("dump has no %s", coll);
	while (bson_iter_next(&arr)) {
		const uint8_t *data;
		uint32_t len;
		bson_t doc;
		bson_iter_t it;

		bson_iter_document(&arr, &len, &data);
		if (!bson_init_static(&doc, data, len))
			continue;
		if (bson_iter_init_find(&it, &doc, key) &&
		    BSON_ITER_HOLDS_UTF8(&it) &&
		    strcmp(bson_iter_utf8(&it, NULL), value) == 0) {
			bson_copy_to(&doc, out);
			return true;
		}
	}
	return false;
}

static void
want_str(const bson_t *doc, const char *key, const char *want)
{
	const char *got = es_itest_str(doc, key);

	if (strcmp(got, want) != 0)
		fail_msg("%s: got '%s', want '%s'", key, got, want);
}

static void
want_null(const bson_t *doc, const char *key)
{
	if (es_itest_type(doc, key) != BSON_TYPE_NULL)
		fail_msg("%s: type 0x%02x, want null", key,
		    (unsigned)es_itest_type(doc, key));
}

static void
want_day(const bson_t *doc, const char *key, const char *ymd)
{
	if (es_itest_date(doc, key) != es_itest_day_ms(ymd))
		fail_msg("%s: not %s at 00:00 UTC", key, ymd);
}

static void
want_int32(const bson_t *doc, const char *key, int32_t want)
{
	bson_iter_t top, it;

	if (!bson_iter_init(&top, doc) ||
	    !bson_iter_find_descendant(&top, key, &it) ||
	    !BSON_ITER_HOLDS_INT32(&it) || bson_iter_int32(&it) != want)
		fail_msg("%s: want int32 %d", key, want);
}

static void
want_bool(const bson_t *doc, const char *key, bool want)
{
	bson_iter_t top, it;

	if (!bson_iter_init(&top, doc) ||
	    !bson_iter_find_descendant(&top, key, &it) ||
	    !BSON_ITER_HOLDS_BOOL(&it) || bson_iter_bool(&it) != want)
		fail_msg("%s: want bool %d", key, want);
}

/* The meta every imported document carries (SPEC §3). */
static void
want_meta(const struct es_itest *t, const bson_t *doc)
{
	assert_int_equal(es_itest_type(doc, "_id"), BSON_TYPE_OID);
	want_str(doc, "user_id", t->user);
	want_bool(doc, "deleted", false);
	want_null(doc, "deleted_at");
	assert_true(es_itest_date(doc, "created_at") > 0);
	assert_true(es_itest_date(doc, "updated_at") ==
	    es_itest_date(doc, "created_at"));
}

/* ---- a hand-written folder: every field of every kind ---- */

static const char learn_rust[] =
    "---\n"
    "area: Learning\n"
    "title: Learn Rust\n"
    "type: standard\n"
    "created: 2025-11-01\n"
    "started: 2025-11-02\n"
    "last_reviewed: 2025-11-09\n"
    "due: 2025-12-31\n"
    "priority: 3\n"
    "tags: [a, home]\n"
    "owner: \"Ana\"\n"
    "reviewed: true\n"
    "---\n"
    "# Learn Rust\n\nChapters 1-3 first. Café, naïve.\n";
/* CRLF and a byte order mark: the body is kept byte for byte. */
static const char fence[] =
    "\xef\xbb\xbf---\r\n"
    "area: Home\r\n"
    "title: \"yes\"\r\n"
    "type: habit\r\n"
    "created: 2024-03-01\r\n"
    "completed: 2024-04-15\r\n"
    "---\r\n"
    "# Fix the fence\r\n\r\nDone.\r\n";
static const char dropped[] =
    "---\n"
    "area: Career\n"
    "title: Old idea\n"
    "type: coordination\n"
    "created: 2023-01-10\n"
    "descoped: 2023-02-01\n"
    "---\n";
/* Same file name as learn-rust.md, later in path order: learn-rust-2. */
static const char learn_rust_again[] =
    "---\n"
    "area: Learning\n"
    "title: Learn Rust again\n"
    "type: goal\n"
    "---\n"
    "Someday.\n";
static const char marathon[] =
    "---\n"
    "area: Health\n"
    "title: Run a marathon\n"
    "type: goal\n"
    "created: 2025-01-05\n"
    "last_reviewed: 2025-06-01\n"
    "---\n"
    "# Run a marathon\n";
/* Same name one level up: later in path order, so run-a-marathon-2. */
static const char marathon_top[] =
    "---\n"
    "title: Run a marathon (top)\n"
    "---\n"
    "Notes.\n";
static const char phone[] =
    "---\n"
    "last_reviewed: 2025-11-01\n"
    "---\n"
    "# @phone\n"
    "\n"
    "- [ ] 2025-11-09 Call Bob about the budget +learn-rust "
    "due:2025-11-15 defer:2025-11-12\n"
    "Note: batch calls.\n"
    "(A) 2025-11-08 Call the dentist @calls\n"
    "- [ ] Text Ana\n"
    "- [ ] Text Ana\n";
static const char waiting[] = "# Waiting\n\n- [ ] Quote from the plumber "
    "@home\n";
static const char deferred[] = "# Deferred\n\n- [ ] Book the flight "
    "defer:2026-01-10\n";
static const char incubating[] = "# Incubating\n\n- [ ] (B) Learn the "
    "banjo\n";
static const char completed[] =
    "# Completed\n"
    "\n"
    "- [x] 2025-11-10 2025-11-09 Pay the bill @errands\n"
    "x 2025-11-11 2025-11-01 Renew the passport\n";

static char *
hand_tree(const char *tag)
{
	char *dir = es_itest_tmpdir(tag), *tree = es_xasprintf("%s/tree", dir);

	free(dir);
	if (mkdir(tree, 0755) == -1)
		fail_msg("mkdir %s: %s", tree, strerror(errno));
	put_str(tree, "10k-projects/active/learning/learn-rust.md", learn_rust);
	put_file(tree, "10k-projects/completed/home/fix-the-fence.md", fence,
	    sizeof(fence) - 1);
	put_str(tree, "10k-projects/descoped/career/old-idea.md", dropped);
	put_str(tree, "10k-projects/incubator/learning/learn-rust.md",
	    learn_rust_again);
	put_str(tree, "30k-goals/active/health/run-a-marathon.md", marathon);
	put_str(tree, "30k-goals/active/run-a-marathon.md", marathon_top);
	put_str(tree, "30k-goals/active/_goals-summary.md", "---\ntitle: x\n"
	    "---\n");
	put_str(tree, "00k-next-actions/contexts/@phone.md", phone);
	put_str(tree, "00k-next-actions/@waiting.md", waiting);
	put_str(tree, "00k-next-actions/@deferred.md", deferred);
	put_str(tree, "00k-next-actions/@incubating.md", incubating);
	put_str(tree, "00k-next-actions/completed.md", completed);
	put_str(tree, "README.md", "# not synced\n");
	return tree;
}

/*
 * Every field of every kind, with its BSON type, as the API reads it
 * (SPEC §3); slugs made unique as SPEC §2 says.
 */
static void
test_migrate_fields(void **state)
{
	struct es_itest t;
	struct es_buf err = ES_BUF_INIT;
	char *tree;
	json_t *j;
	bson_t d, p;
	int status;

	(void)state;
	es_itest_begin(&t, "mfields");
	tree = hand_tree("mfields");
	j = migrate_json(&t, tree, NULL, &status, &err);
	if (status != 0)
		fail_msg("exit %d: %s", status, err.buf);
	assert_int_equal(jcount(j, "projects", "inserted"), 4);
	assert_int_equal(jcount(j, "goals", "inserted"), 2);
	assert_int_equal(jcount(j, "actions", "inserted"), 9);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "renamed_slugs")), 2);
	json_decref(j);
	dump(&t, false, &d);

	/* A project with every date and unknown keys. */
	assert_true(find_in_dump(&d, "projects", "slug", "learn-rust", &p));
	want_meta(&t, &p);
	want_str(&p, "title", "Learn Rust");
	want_str(&p, "area", "Learning");
	want_str(&p, "folder", "active");
	want_str(&p, "type", "standard");
	want_day(&p, "created", "2025-11-01");
	want_day(&p, "started", "2025-11-02");
	want_day(&p, "last_reviewed", "2025-11-09");
	want_day(&p, "due", "2025-12-31");
	want_null(&p, "completed");
	want_null(&p, "descoped");
	want_str(&p, "content", "# Learn Rust\n\nChapters 1-3 first. Café, "
	    "naïve.\n");
	assert_int_equal(es_itest_type(&p, "extra"), BSON_TYPE_DOCUMENT);
	want_int32(&p, "extra.priority", 3);
	assert_int_equal(es_itest_type(&p, "extra.tags"), BSON_TYPE_ARRAY);
	want_str(&p, "extra.tags.0", "a");
	want_str(&p, "extra.tags.1", "home");
	want_str(&p, "extra.owner", "Ana");
	want_bool(&p, "extra.reviewed", true);
	/* The id is the entity's: its time is the created date. */
	{
		bson_oid_t oid;

		es_itest_oid(&p, "_id", &oid);
		assert_int_equal((int64_t)bson_oid_get_time_t(&oid) * 1000,
		    es_itest_day_ms("2025-11-01"));
	}
	bson_destroy(&p);

	/* Completed, CRLF and BOM: the body byte for byte, quoted title. */
	assert_true(find_in_dump(&d, "projects", "slug", "fix-the-fence", &p));
	want_meta(&t, &p);
	want_str(&p, "title", "yes");
	want_str(&p, "area", "Home");
	want_str(&p, "folder", "completed");
	want_str(&p, "type", "habit");
	want_day(&p, "completed", "2024-04-15");
	want_null(&p, "started");
	want_str(&p, "content", "# Fix the fence\r\n\r\nDone.\r\n");
	bson_destroy(&p);

	/* Descoped, empty body. */
	assert_true(find_in_dump(&d, "projects", "slug", "old-idea", &p));
	want_str(&p, "folder", "descoped");
	want_str(&p, "type", "coordination");
	want_day(&p, "descoped", "2023-02-01");
	want_str(&p, "content", "");
	bson_destroy(&p);

	/* The same file name in another folder: -2 (SPEC §2). */
	assert_true(find_in_dump(&d, "projects", "slug", "learn-rust-2", &p));
	want_str(&p, "title", "Learn Rust again");
	want_str(&p, "folder", "incubator");
	want_str(&p, "type", "goal");
	want_null(&p, "created");
	bson_destroy(&p);

	/* Goals: area optional, `type: goal` kept in extra. */
	assert_true(find_in_dump(&d, "goals", "slug", "run-a-marathon", &p));
	want_meta(&t, &p);
	want_str(&p, "title", "Run a marathon");
	want_str(&p, "area", "Health");
	want_str(&p, "folder", "active");
	want_day(&p, "created", "2025-01-05");
	want_day(&p, "last_reviewed", "2025-06-01");
	want_str(&p, "extra.type", "goal");
	want_str(&p, "content", "# Run a marathon\n");
	assert_int_equal(es_itest_type(&p, "type"), BSON_TYPE_EOD);
	bson_destroy(&p);
	assert_true(find_in_dump(&d, "goals", "slug", "run-a-marathon-2",
	    &p));
	want_str(&p, "title", "Run a marathon (top)");
	want_null(&p, "area");
	want_null(&p, "created");
	bson_destroy(&p);
	assert_false(find_in_dump(&d, "goals", "title", "x", &p));

	/* Actions: tokens, dates, priority, state from the list. */
	assert_true(find_in_dump(&d, "actions", "text",
	    "Call Bob about the budget", &p));
	want_meta(&t, &p);
	want_str(&p, "context", "@phone");
	want_str(&p, "project_slug", "learn-rust");
	want_str(&p, "state", "next");
	want_day(&p, "due", "2025-11-15");
	want_day(&p, "defer", "2025-11-12");
	want_day(&p, "action_date", "2025-11-09");
	want_null(&p, "completed");
	want_null(&p, "priority");
	bson_destroy(&p);
	assert_true(find_in_dump(&d, "actions", "text", "Call the dentist",
	    &p));
	want_str(&p, "context", "@calls");
	want_str(&p, "priority", "A");
	want_day(&p, "action_date", "2025-11-08");
	want_null(&p, "project_slug");
	want_null(&p, "due");
	bson_destroy(&p);
	assert_true(find_in_dump(&d, "actions", "text",
	    "Quote from the plumber", &p));
	want_str(&p, "state", "waiting");
	want_str(&p, "context", "@home");
	bson_destroy(&p);
	assert_true(find_in_dump(&d, "actions", "text", "Book the flight",
	    &p));
	want_str(&p, "state", "deferred");
	want_null(&p, "context");
	want_day(&p, "defer", "2026-01-10");
	bson_destroy(&p);
	assert_true(find_in_dump(&d, "actions", "text", "Learn the banjo",
	    &p));
	want_str(&p, "state", "incubating");
	want_str(&p, "priority", "B");
	bson_destroy(&p);
	assert_true(find_in_dump(&d, "actions", "text", "Pay the bill", &p));
	want_str(&p, "state", "completed");
	want_day(&p, "completed", "2025-11-10");
	want_day(&p, "action_date", "2025-11-09");
	want_str(&p, "context", "@errands");
	bson_destroy(&p);
	assert_true(find_in_dump(&d, "actions", "text", "Renew the passport",
	    &p));
	want_str(&p, "state", "completed");
	want_day(&p, "completed", "2025-11-11");
	want_day(&p, "action_date", "2025-11-01");
	bson_destroy(&p);
	/* "- [ ] Text Ana" twice: two actions (occurrence 1 and 2). */
	{
		struct counts c;

		db_counts(&t, &c);
		assert_int_equal(c.nactions, 9);
		assert_int_equal(c.states[ES_STATE_NEXT], 4);
		assert_int_equal(c.states[ES_STATE_COMPLETED], 2);
	}
	bson_destroy(&d);
	es_buf_release(&err);
	rm_tree(tree);
	es_itest_end(&t);
}

/* ---- generated folders ---- */

static void
assert_counts_match(const struct es_itest *t, const struct expect *x)
{
	struct counts c;

	db_counts(t, &c);
	for (int f = ES_FOLDER_ACTIVE; f <= ES_FOLDER_DESCOPED; f++)
		if (c.projects[f] != x->projects[f])
			fail_msg("projects in %s: %zu in the database, %zu in "
			    "the folder", es_folder_name((enum es_folder)f),
			    c.projects[f], x->projects[f]);
	assert_int_equal(c.nprojects, x->nprojects);
	assert_int_equal(c.ngoals, x->ngoals);
	assert_int_equal(c.nactions, x->nactions);
	for (int s = ES_STATE_NEXT; s <= ES_STATE_COMPLETED; s++)
		if (c.states[s] != x->states[s])
			fail_msg("actions %s: %zu in the database, %zu in the "
			    "folder", es_state_name((enum es_state)s),
			    c.states[s], x->states[s]);
	assert_int_equal(c.deleted, 0);
}

/*
 * Counts per entity equal what is in the files: projects per folder
 * (all four: the old script read active/ only), goals, actions per state
 * (the three state lists and completed.md too).
 */
static void
test_migrate_counts(void **state)
{
	static const char *const args[] = { "--projects", "120", "--actions",
	    "1200", "--goals", "30", "--seed", "7", NULL };
	struct es_itest t;
	struct es_buf err = ES_BUF_INIT;
	struct expect x;
	char *tree;
	json_t *j;
	int status;

	(void)state;
	es_itest_begin(&t, "mcounts");
	tree = gen_tree("mcounts", args, NULL);
	expect_tree(tree, &x);
	/* The generator's own numbers. */
	assert_int_equal(x.nprojects, 120);
	assert_int_equal(x.ngoals, 30);
	assert_int_equal(x.nactions, 1200);
	for (int f = ES_FOLDER_ACTIVE; f <= ES_FOLDER_DESCOPED; f++)
		assert_true(x.projects[f] > 0);
	for (int s = ES_STATE_NEXT; s <= ES_STATE_COMPLETED; s++)
		assert_true(x.states[s] > 0);

	j = migrate_json(&t, tree, NULL, &status, &err);
	if (status != 0)
		fail_msg("exit %d: %s", status, err.buf);
	assert_int_equal(jcount(j, "projects", "found"), 120);
	assert_int_equal(jcount(j, "projects", "inserted"), 120);
	assert_int_equal(jcount(j, "goals", "inserted"), 30);
	assert_int_equal(jcount(j, "actions", "inserted"), 1200);
	assert_int_equal(jcount(j, "total", "failed"), 0);
	assert_int_equal(jcount(j, "total", "already_present"), 0);
	assert_int_equal(json_array_size(json_object_get(j, "problems")), 0);
	/* The round-trip budget: ceil(1350 / 1000) + 20. */
	assert_true(json_integer_value(json_object_get(j, "round_trips")) <=
	    2 + 20);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "round_trips_limit")), 22);
	json_decref(j);
	assert_counts_match(&t, &x);
	es_buf_release(&err);
	rm_tree(tree);
	es_itest_end(&t);
}

/*
 * A second run on the synced folder is refused: exit 2, nothing written
 * (SPEC 4.18). Without its baseline (a fresh clone) it inserts nothing:
 * all "already present", exit 0, the database byte for byte unchanged
 * (updated_at included).
 */
static void
test_migrate_second_run(void **state)
{
	static const char *const args[] = { "--projects", "60", "--actions",
	    "500", "--goals", "12", NULL };
	struct es_itest t;
	struct es_buf err = ES_BUF_INIT, out = ES_BUF_INIT;
	char *tree;
	json_t *j;
	bson_t before, after;
	int status;

	(void)state;
	es_itest_begin(&t, "msecond");
	tree = gen_tree("msecond", args, NULL);
	j = migrate_json(&t, tree, NULL, &status, &err);
	assert_int_equal(status, 0);
	assert_int_equal(jcount(j, "total", "inserted"), 572);
	json_decref(j);
	dump(&t, false, &before);

	es_buf_reset(&err);
	j = migrate_json(&t, tree, NULL, &status, &err);
	assert_int_equal(status, 2);
	assert_non_null(strstr(err.buf, "already synced with"));
	assert_non_null(strstr(err.buf, "(572 entities in " ES_BASELINE_FILE
	    "): nothing imported; run execsyncd --once to sync changes"));
	assert_int_equal(jcount(j, "total", "inserted"), 0);
	assert_int_equal(json_integer_value(json_object_get(j,
	    "round_trips")), 0);
	json_decref(j);
	dump(&t, false, &after);
	assert_bson_equal(&before, &after);
	bson_destroy(&after);

	forget_baseline(tree);
	j = migrate_json(&t, tree, NULL, &status, &err);
	if (status != 0)
		fail_msg("second run: exit %d: %s", status, err.buf);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(jcount(j, kind_keys[k], "inserted"), 0);
		assert_int_equal(jcount(j, kind_keys[k], "failed"), 0);
		assert_int_equal(jcount(j, kind_keys[k], "differs"), 0);
		assert_int_equal(jcount(j, kind_keys[k], "already_present"),
		    jcount(j, kind_keys[k], "found"));
	}
	assert_int_equal(jcount(j, "total", "already_present"), 572);
	/* Reading what is there: still within the budget. */
	assert_true(json_integer_value(json_object_get(j, "round_trips")) <=
	    json_integer_value(json_object_get(j, "round_trips_limit")));
	/* Every entity got its baseline row back. */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "baseline"), "entities")), 572);
	json_decref(j);
	dump(&t, false, &after);
	assert_bson_equal(&before, &after);

	/* The table for people says the same. */
	forget_baseline(tree);
	status = migrate(&t, tree, NULL, &out, &err);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out.buf, "already present"));
	assert_non_null(strstr(out.buf, "total           572            0"));
	bson_destroy(&before);
	bson_destroy(&after);
	es_buf_release(&out);
	es_buf_release(&err);
	rm_tree(tree);
	es_itest_end(&t);
}

/*
 * Killed half-way (SIGKILL mid-run, the database neither empty nor full),
 * then rerun: the baseline the killed run left has no entity rows, so the
 * rerun is no "synced folder"; it ends in the same state as one clean run
 * into another database (created_at/updated_at aside), exit 0, nothing
 * duplicated.
 */
static void
test_migrate_killed_and_rerun(void **state)
{
	static const char *const args[] = { "--projects", "300", "--actions",
	    "3000", "--goals", "30", NULL };
	const size_t total = 3330;
	struct es_itest t, clean;
	struct es_buf err = ES_BUF_INIT;
	char *tree;
	char *argv[16];
	json_t *j;
	bson_t a, b;
	pid_t pid;
	int status, n = 0, devnull;
	int64_t count = 0, deadline;
	posix_spawn_file_actions_t fa;

	(void)state;
	es_itest_begin(&t, "mkilled");
	es_itest_begin(&clean, "mclean");
	tree = gen_tree("mkilled", args, NULL);

	argv[n++] = (char *)ES_MIGRATE_BIN;
	argv[n++] = (char *)"--source";
	argv[n++] = tree;
	argv[n++] = (char *)"--mongodb-uri";
	argv[n++] = t.uri;
	argv[n++] = (char *)"--user-id";
	argv[n++] = (char *)t.user;
	argv[n++] = (char *)"--database";
	argv[n++] = t.db;
	argv[n++] = (char *)"--batch-size";
	argv[n++] = (char *)"5";
	argv[n] = NULL;
	devnull = open("/dev/null", O_RDWR);
	assert_true(devnull >= 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_adddup2(&fa, devnull, 1);
	posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		fail_msg("spawn %s: %s", argv[0], strerror(errno));
	posix_spawn_file_actions_destroy(&fa);
	close(devnull);
	/* Poll (bounded) until some, not all, documents are in. */
	deadline = es_itest_mono_ms() + 60000;
	while (es_itest_mono_ms() < deadline) {
		count = db_total(&t);
		if (count > 0)
			break;
		if (waitpid(pid, &status, WNOHANG) == pid)
			fail_msg("execsync-migrate ended before any document "
			    "was seen");
		usleep(2000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg("execsync-migrate was not killed mid-run (status "
		    "0x%x)", (unsigned)status);
	/* The server may still finish the batch that was in flight when the
	 * client died: wait (bounded) until the count holds still. */
	count = db_total(&t);
	for (int i = 0; i < 50; i++) {
		int64_t again;

		usleep(100000);
		if ((again = db_total(&t)) == count)
			break;
		count = again;
	}
	if (count <= 0 || count >= (int64_t)total)
		fail_msg("killed with %lld of %zu documents in: not half-way",
		    (long long)count, total);

	/* The rerun finishes the job. */
	j = migrate_json(&t, tree, NULL, &status, &err);
	if (status != 0)
		fail_msg("rerun: exit %d: %s", status, err.buf);
	assert_int_equal(jcount(j, "total", "found"), total);
	assert_int_equal(jcount(j, "total", "inserted") +
	    jcount(j, "total", "already_present"), total);
	assert_int_equal(jcount(j, "total", "already_present"),
	    (size_t)count);
	assert_int_equal(jcount(j, "total", "failed"), 0);
	assert_int_equal(jcount(j, "total", "differs"), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "baseline"), "entities")), total);
	json_decref(j);
	assert_int_equal(db_total(&t), (int64_t)total);

	/* One clean run elsewhere (the folder as a fresh clone has it): the
	 * same documents. */
	forget_baseline(tree);
	j = migrate_json(&clean, tree, NULL, &status, &err);
	assert_int_equal(status, 0);
	assert_int_equal(jcount(j, "total", "inserted"), total);
	json_decref(j);
	dump(&t, true, &a);
	dump(&clean, true, &b);
	assert_bson_equal(&a, &b);
	bson_destroy(&a);
	bson_destroy(&b);
	es_buf_release(&err);
	rm_tree(tree);
	es_itest_end(&clean);
	es_itest_end(&t);
}

/* --dry-run reads everything, says what would be inserted, writes
 * nothing: no document, no index, no baseline; on a synced folder it is
 * refused as the real run is. */
static void
test_migrate_dry_run(void **state)
{
	static const char *const args[] = { "--projects", "40", "--actions",
	    "300", "--goals", "8", NULL };
	static const char *const dry[] = { "--dry-run", NULL };
	struct es_itest t;
	struct es_buf err = ES_BUF_INIT, out = ES_BUF_INIT;
	struct stat st;
	char *tree, *base;
	json_t *j;
	int status;

	(void)state;
	es_itest_begin(&t, "mdry");
	tree = gen_tree("mdry", args, NULL);
	base = es_xasprintf("%s/%s", tree, ES_BASELINE_FILE);

	j = migrate_json(&t, tree, dry, &status, &err);
	if (status != 0)
		fail_msg("exit %d: %s", status, err.buf);
	assert_true(json_is_true(json_object_get(j, "dry_run")));
	assert_int_equal(jcount(j, "projects", "would_insert"), 40);
	assert_int_equal(jcount(j, "goals", "would_insert"), 8);
	assert_int_equal(jcount(j, "actions", "would_insert"), 300);
	assert_int_equal(jcount(j, "total", "already_present"), 0);
	assert_true(json_is_null(json_object_get(j, "baseline")));
	json_decref(j);
	assert_int_equal(db_total(&t), 0);
	assert_int_equal(stat(base, &st), -1);

	/* For people: the would-insert column and the promise. */
	status = migrate(&t, tree, dry, &out, &err);
	assert_int_equal(status, 0);
	assert_non_null(strstr(out.buf, "would insert"));
	assert_non_null(strstr(out.buf, "dry run:     nothing was written"));
	assert_int_equal(db_total(&t), 0);

	/* After the real run, a dry run is refused as a rerun would be. */
	j = migrate_json(&t, tree, NULL, &status, &err);
	assert_int_equal(status, 0);
	json_decref(j);
	es_buf_reset(&err);
	j = migrate_json(&t, tree, dry, &status, &err);
	assert_int_equal(status, 2);
	assert_non_null(strstr(err.buf, "already synced with"));
	json_decref(j);
	/* Without the baseline, it sees everything present. */
	forget_baseline(tree);
	j = migrate_json(&t, tree, dry, &status, &err);
	assert_int_equal(status, 0);
	assert_int_equal(jcount(j, "total", "would_insert"), 0);
	assert_int_equal(jcount(j, "total", "already_present"), 348);
	json_decref(j);
	free(base);
	es_buf_release(&out);
	es_buf_release(&err);
	rm_tree(tree);
	es_itest_end(&t);
}

/*
 * Bad files and lines (--bad 5: a bad date, an unknown type, malformed
 * YAML, a NUL byte, invalid UTF-8) are reported as path:line: reason and
 * skipped; the rest is imported; exit 1.
 */
static void
test_migrate_bad_files(void **state)
{
	static const char *const args[] = { "--projects", "40", "--actions",
	    "300", "--goals", "8", "--bad", "10", NULL };
	struct es_itest t;
	struct es_buf gen = ES_BUF_INIT, err = ES_BUF_INIT, out = ES_BUF_INIT;
	struct expect x;
	char *tree, *line, *save = NULL;
	json_t *j, *probs;
	size_t nbad = 0;
	int status;

	(void)state;
	es_itest_begin(&t, "mbad");
	tree = gen_tree("mbad", args, &gen);
	expect_tree(tree, &x);

	status = migrate(&t, tree, NULL, &out, &err);
	if (status != 1)
		fail_msg("exit %d, want 1: %s", status, err.buf);
	/* Every bad item the generator made is named with its path and a
	 * line on stderr. */
	for (line = strtok_r(gen.buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *colon = strstr(line, ".md:");
		char want[PATH_MAX];

		if (colon == NULL)
			continue;
		nbad++;
		snprintf(want, sizeof(want), "%.*s:", (int)(colon + 3 - line),
		    line);
		if (strstr(err.buf, want) == NULL)
			fail_msg("'%s' not reported; stderr:\n%s", want,
			    err.buf);
	}
	assert_int_equal(nbad, 10);
	/* The generator's lines where both name the same one. */
	assert_non_null(strstr(err.buf, "broken-1.md:6: bad date "
	    "'2025-13-01'"));
	assert_non_null(strstr(err.buf, "broken-2.md:4: unknown type 'epic'"));
	assert_non_null(strstr(err.buf, "broken-4.md:9: NUL byte"));
	assert_non_null(strstr(err.buf, "broken-5.md:3: invalid UTF-8"));
	assert_non_null(strstr(err.buf, "broken-6.md:3: unresolved git "
	    "conflict marker"));
	assert_non_null(strstr(out.buf, "problems:    10"));
	/* The rest is in. */
	assert_counts_match(&t, &x);
	assert_int_equal(x.nprojects, 40);
	assert_int_equal(x.nactions, 300);

	/* JSON (the baseline gone, or the run is refused): each problem
	 * with path and line, counted failed. */
	forget_baseline(tree);
	j = migrate_json(&t, tree, NULL, &status, &err);
	assert_int_equal(status, 1);
	probs = json_object_get(j, "problems");
	assert_int_equal(json_array_size(probs), 10);
	for (size_t i = 0; i < json_array_size(probs); i++) {
		json_t *p = json_array_get(probs, i);
		const char *why = json_string_value(json_object_get(p,
		    "reason"));

		/* A line wherever one applies: not to a file's size. */
		if (strstr(why, "-byte limit") == NULL)
			assert_true(json_integer_value(json_object_get(p,
			    "line")) > 0);
		assert_true(strlen(json_string_value(json_object_get(p,
		    "path"))) > 0);
	}
	assert_int_equal(jcount(j, "total", "failed"), 10);
	assert_int_equal(jcount(j, "total", "found"), 40 + 8 + 300 + 10);
	assert_int_equal(jcount(j, "total", "already_present"), 348);
	json_decref(j);
	es_buf_release(&gen);
	es_buf_release(&out);
	es_buf_release(&err);
	rm_tree(tree);
	es_itest_end(&t);
}

/*
 * file -> document -> file gives the same bytes (SPEC 4.8): every project
 * and goal document, read from the database and rendered canonically,
 * equals its input file whenever that file is canonical (equal to its own
 * canonical render).
 */
struct render_ctx {
	const char	*root;
	enum es_kind	 kind;
	size_t		 docs, canonical, checked;
};

static void
read_all(const char *path, struct es_buf *b)
{
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	es_buf_reset(b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		es_buf_add(b, chunk, n);
	fclose(f);
}

static int
render_doc(const bson_t *doc, void *ud)
{
	struct render_ctx *c = ud;
	struct es_entity e, own;
	struct es_error err;
	struct es_buf path = ES_BUF_INIT, file = ES_BUF_INIT,
	    from_doc = ES_BUF_INIT, from_file = ES_BUF_INIT;
	char *area = NULL;

	if (es_entity_decode(doc, c->kind, &e, &err) < 0)
		fail_msg("decode: %s: %s", err.path, err.msg);
	c->docs++;
	/* Where its file is: generated slugs are unique, areas kebab. */
	if (c->kind == ES_KIND_PROJECT) {
		area = es_slugify(e.area, strlen(e.area));
		es_buf_addf(&path, "%s/10k-projects/%s/%s/%s.md", c->root,
		    es_folder_name(e.folder), area, e.slug);
	} else {
		/* Goals may sit in sub-folders: find it. */
		char cmd[PATH_MAX * 2];
		FILE *p;

		snprintf(cmd, sizeof(cmd), "find '%s/30k-goals/%s' -name "
		    "'%s.md'", c->root, es_folder_name(e.folder), e.slug);
		p = popen(cmd, "r");
		assert_non_null(p);
		es_buf_grow(&path, PATH_MAX);
		if (fgets(path.buf, PATH_MAX, p) == NULL)
			fail_msg("no file for goal '%s'", e.slug);
		path.len = strcspn(path.buf, "\n");
		path.buf[path.len] = '\0';
		pclose(p);
	}
	read_all(path.buf, &file);
	es_entity_file_render(&e, &from_doc);
	/* Canonical input: the file is its own canonical render. */
	{
		char *rel = path.buf + strlen(c->root) + 1;
		char *slash = strrchr(rel, '/'), *dir;

		es_entity_init(&own, c->kind);
		dir = es_xstrndup(rel, (size_t)(slash - rel));
		if (es_entity_file_parse(file.buf, file.len, rel, c->kind,
		    e.folder, e.slug, c->kind == ES_KIND_PROJECT ?
		    strrchr(dir, '/') + 1 : NULL, &own, &err) != 0)
			fail_msg("%s: does not parse", rel);
		free(dir);
		es_entity_file_render(&own, &from_file);
		es_entity_release(&own);
	}
	if (from_file.len == file.len &&
	    memcmp(from_file.buf, file.buf, file.len) == 0) {
		c->canonical++;
		assert_bytes_equal(from_doc.buf, from_doc.len, file.buf,
		    file.len);
		c->checked++;
	}
	free(area);
	es_buf_release(&path);
	es_buf_release(&file);
	es_buf_release(&from_doc);
	es_buf_release(&from_file);
	es_entity_release(&e);
	return 0;
}

static void
test_migrate_render_round_trip(void **state)
{
	static const char *const args[] = { "--projects", "200", "--actions",
	    "50", "--goals", "40", "--seed", "3", NULL };
	struct es_itest t;
	struct es_buf err = ES_BUF_INIT;
	struct es_error e;
	char *tree;
	int status;

	(void)state;
	es_itest_begin(&t, "mrender");
	tree = gen_tree("mrender", args, NULL);
	status = migrate(&t, tree, NULL, NULL, &err);
	if (status != 0)
		fail_msg("exit %d: %s", status, err.buf);
	for (int k = 0; k < 2; k++) {
		struct render_ctx c = { tree, (enum es_kind)k, 0, 0, 0 };

		if (es_store_find(t.store, (enum es_kind)k, t.user, -1,
		    render_doc, &c, &e) < 0)
			fail_msg("find: %s", e.msg);
		assert_int_equal(c.docs, k == 0 ? 200 : 40);
		/* Many generated files are canonical: the check is real. */
		fprintf(stderr, "%s: %zu of %zu files canonical\n",
		    kind_keys[k], c.canonical, c.docs);
		if (c.canonical * 3 < c.docs)
			fail_msg("%s: only %zu of %zu files canonical",
			    kind_keys[k], c.canonical, c.docs);
		assert_int_equal(c.checked, c.canonical);
	}
	es_buf_release(&err);
	rm_tree(tree);
	es_itest_end(&t);
}

/*
 * The baseline after a migration: an entity row per entity (its document's
 * id, version and meaning) and a file row per file with its stat data, so
 * the first sync pass has nothing to do; identity recorded.
 */
struct base_ctx {
	const char		*root;
	const struct es_itest	*t;
	size_t			 files, entities;
	size_t			 by_kind[3];
};

static int
check_file_row(const struct es_base_file *f, void *ud)
{
	struct base_ctx *c = ud;
	char path[PATH_MAX];
	struct stat st;
	struct es_buf b = ES_BUF_INIT;

	snprintf(path, sizeof(path), "%s/%s", c->root, f->rel);
	if (lstat(path, &st) < 0)
		fail_msg("%s: %s", f->rel, strerror(errno));
	assert_int_equal(f->st.size, (uint64_t)st.st_size);
	assert_int_equal(f->st.ino, (uint64_t)st.st_ino);
	assert_int_equal(f->st.mtime_ns, (int64_t)st.st_mtim.tv_sec *
	    1000000000 + st.st_mtim.tv_nsec);
	read_all(path, &b);
	assert_true(f->raw_fp == es_fp_bytes(b.buf, b.len));
	es_buf_release(&b);
	c->files++;
	return 0;
}

static int
check_entity_row(const struct es_base_entity *e, void *ud)
{
	struct base_ctx *c = ud;
	struct es_error err;
	bson_t doc, base;
	bool found;

	if (es_store_find_one(c->t->store, e->kind, &e->id, &doc, &found,
	    &err) < 0)
		fail_msg("find_one: %s", err.msg);
	if (!found)
		fail_msg("baseline row for %s: no document", e->rel);
	assert_true(es_doc_user_is(&doc, c->t->user));
	assert_int_equal(e->doc_updated_at, es_itest_date(&doc,
	    "updated_at"));
	/* The base is the document as stored. */
	assert_true(bson_init_static(&base, e->base, e->base_len));
	assert_bson_equal(&base, &doc);
	if (e->kind == ES_KIND_ACTION) {
		assert_non_null(e->line);
		assert_true(e->line_len > 0);
	}
	bson_destroy(&doc);
	c->entities++;
	c->by_kind[e->kind]++;
	return 0;
}

static void
test_migrate_baseline(void **state)
{
	static const char *const args[] = { "--projects", "50", "--actions",
	    "400", "--goals", "10", NULL };
	struct es_itest t;
	struct es_buf err = ES_BUF_INIT;
	struct es_error e;
	struct base_ctx c;
	struct es_baseline *b;
	struct expect x;
	char *tree, *path, *ident = NULL, *want;
	json_t *j;
	int status;

	(void)state;
	es_itest_begin(&t, "mbase");
	tree = gen_tree("mbase", args, NULL);
	expect_tree(tree, &x);
	j = migrate_json(&t, tree, NULL, &status, &err);
	if (status != 0)
		fail_msg("exit %d: %s", status, err.buf);
	path = es_xasprintf("%s/%s", tree, ES_BASELINE_FILE);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    j, "baseline"), "path")), path);

	b = es_baseline_open(path, &e);
	if (b == NULL)
		fail_msg("open baseline: %s", e.msg);
	memset(&c, 0, sizeof(c));
	c.root = tree;
	c.t = &t;
	assert_int_equal(es_baseline_each_file(b, check_file_row, &c, &e), 0);
	assert_int_equal(es_baseline_each_entity(b, check_entity_row, &c, &e),
	    0);
	assert_int_equal(c.by_kind[ES_KIND_PROJECT], x.nprojects);
	assert_int_equal(c.by_kind[ES_KIND_GOAL], x.ngoals);
	assert_int_equal(c.by_kind[ES_KIND_ACTION], x.nactions);
	assert_int_equal(c.entities, 460);
	assert_int_equal(jcount(j, "total", "found"), 460);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j,
	    "baseline"), "files")), c.files);
	/* Every synced file: projects, goals and the 16 lists. */
	assert_int_equal(c.files, 50 + 10 + 16);
	assert_int_equal(es_baseline_get_meta(b, "identity", &ident, &e), 0);
	want = es_migrate_identity(t.uri, t.db, t.user);
	assert_string_equal(ident, want);
	assert_null(strstr(ident, "?"));
	free(want);
	free(ident);
	es_baseline_free(b);
	json_decref(j);
	free(path);
	es_buf_release(&err);
	rm_tree(tree);
	es_itest_end(&t);
}

/*
 * A database that already holds some of it (another machine, or the API):
 * an entity is recognised by its identity (collection, user, slug) and
 * counted already present; one that differs gets no baseline row (the
 * first sync resolves it, SPEC 4.17); nothing is duplicated.
 */
static void
test_migrate_existing_database(void **state)
{
	struct es_itest t;
	struct es_buf err = ES_BUF_INIT;
	struct es_error e;
	struct es_baseline *b;
	struct es_base_file bf;
	char *tree, *path;
	json_t *j;
	bson_t doc;
	bool found;
	int status;

	(void)state;
	es_itest_begin(&t, "mexist");
	tree = hand_tree("mexist");
	/* The API made "Learn Rust" already, with another body. */
	es_itest_peer(&t, "create-project", "{\"title\":\"Learn Rust\","
	    "\"area\":\"Learning\",\"content\":\"other\"}", &doc);
	want_str(&doc, "slug", "learn-rust");
	bson_destroy(&doc);

	j = migrate_json(&t, tree, NULL, &status, &err);
	if (status != 0)
		fail_msg("exit %d: %s", status, err.buf);
	assert_int_equal(jcount(j, "projects", "found"), 4);
	assert_int_equal(jcount(j, "projects", "inserted"), 3);
	assert_int_equal(jcount(j, "projects", "already_present"), 1);
	assert_int_equal(jcount(j, "projects", "differs"), 1);
	assert_int_equal(jcount(j, "projects", "failed"), 0);
	json_decref(j);
	/* Still one learn-rust, the API's. */
	{
		struct counts c;

		db_counts(&t, &c);
		assert_int_equal(c.nprojects, 4);
	}
	assert_true(es_itest_peer(&t, "get", "{\"collection\":\"projects\","
	    "\"slug\":\"learn-rust\"}", &doc));
	want_str(&doc, "content", "other");
	bson_destroy(&doc);
	/* No file row for the file whose entity differs; one for the rest. */
	path = es_xasprintf("%s/%s", tree, ES_BASELINE_FILE);
	b = es_baseline_open(path, &e);
	assert_non_null(b);
	assert_int_equal(es_baseline_get_file(b,
	    "10k-projects/active/learning/learn-rust.md", &bf, &found, &e), 0);
	assert_false(found);
	assert_int_equal(es_baseline_get_file(b,
	    "10k-projects/descoped/career/old-idea.md", &bf, &found, &e), 0);
	assert_true(found);
	es_baseline_free(b);
	free(path);

	/* The text for people says how many differ and what happens. */
	{
		struct es_buf out = ES_BUF_INIT;

		forget_baseline(tree);
		status = migrate(&t, tree, NULL, &out, &err);
		assert_int_equal(status, 0);
		assert_non_null(strstr(out.buf, "differs:     1 already in "
		    "the database"));
		es_buf_release(&out);
	}
	es_buf_release(&err);
	rm_tree(tree);
	es_itest_end(&t);
}

/*
 * Exit 2 with one clear line: bad flags (naming the flag), a folder that
 * is not an execution system, a server that cannot be reached; the
 * password never shows.
 */
static void
test_migrate_usage_and_connection_errors(void **state)
{
	struct es_itest t;
	struct es_buf out = ES_BUF_INIT, err = ES_BUF_INIT;
	char *tree, *empty;
	int status;

	(void)state;
	es_itest_begin(&t, "musage");
	tree = hand_tree("musage");

	{
		char *argv[] = { (char *)ES_MIGRATE_BIN, (char *)"--frobnicate",
		    NULL };

		status = es_itest_run(argv, &out, &err, 30);
		assert_int_equal(status, 2);
		assert_non_null(strstr(err.buf, "unknown option "
		    "'--frobnicate'"));
	}
	{
		static const char *const bad[] = { "--batch-size", "0", NULL };

		es_buf_reset(&err);
		status = migrate(&t, tree, bad, &out, &err);
		assert_int_equal(status, 2);
		assert_non_null(strstr(err.buf, "--batch-size: bad value "
		    "'0'"));
	}
	{
		char *argv[] = { (char *)ES_MIGRATE_BIN, (char *)"--source",
		    tree, (char *)"--user-id", (char *)"ana", NULL };

		es_buf_reset(&err);
		status = es_itest_run(argv, &out, &err, 30);
		assert_int_equal(status, 2);
		assert_non_null(strstr(err.buf, "mongodb_uri"));
	}
	{
		char *argv[] = { (char *)ES_MIGRATE_BIN, (char *)"--help",
		    NULL };

		es_buf_reset(&out);
		status = es_itest_run(argv, &out, &err, 30);
		assert_int_equal(status, 0);
		assert_non_null(strstr(out.buf, "--dry-run"));
	}
	/* Not an execution-system folder: missing, or none of the three. */
	empty = es_itest_tmpdir("musage-empty");
	{
		char *missing = es_xasprintf("%s/nope", empty);

		es_buf_reset(&err);
		status = migrate(&t, missing, NULL, &out, &err);
		assert_int_equal(status, 2);
		assert_non_null(strstr(err.buf, "nope: not an execution-system "
		    "folder (none of 00k-next-actions, 10k-projects, "
		    "30k-goals)"));
		es_buf_reset(&err);
		status = migrate(&t, empty, NULL, &out, &err);
		assert_int_equal(status, 2);
		assert_non_null(strstr(err.buf, "not an execution-system "
		    "folder"));
		free(missing);
	}
	/* A closed port, credentials in the URI: one line, redacted. */
	{
		char *argv[] = { (char *)ES_MIGRATE_BIN, (char *)"--source",
		    tree, (char *)"--user-id", (char *)"ana",
		    (char *)"--mongodb-uri", (char *)"mongodb://ana:"
		    "s3cretPW@127.0.0.1:1/?serverSelectionTimeoutMS=2000",
		    NULL };
		const char *nl;

		es_buf_reset(&err);
		es_buf_reset(&out);
		status = es_itest_run(argv, &out, &err, 60);
		assert_int_equal(status, 75);	/* temporary (SPEC §1) */
		assert_null(strstr(err.buf, "s3cretPW"));
		assert_null(strstr(out.buf, "s3cretPW"));
		assert_non_null(strstr(err.buf, "execsync-migrate: "));
		nl = strchr(err.buf, '\n');
		assert_non_null(nl);
		assert_int_equal(nl[1], '\0');	/* one line */
		assert_int_equal(out.len, 0);
	}
	assert_int_equal(db_total(&t), 0);
	es_itest_rm_rf(empty);
	free(empty);
	es_buf_release(&out);
	es_buf_release(&err);
	rm_tree(tree);
	es_itest_end(&t);
}

/* Reads a whole file into a new buffer (caller releases). */
static void
slurp(const char *path, struct es_buf *b)
{
	es_buf_init(b, 0);
	read_all(path, b);
}

/*
 * The connection lost mid-run (the server killed): exit 75, the documents
 * not written counted failed, a message saying that rerunning finishes the
 * job, no baseline. Needs a server of its own to kill.
 */
static void
test_migrate_connection_lost(void **state)
{
	static const char *const args[] = { "--projects", "300", "--actions",
	    "3000", "--goals", "30", NULL };
	const char *src_dir = getenv("ES_SOURCE_DIR");
	struct es_itest t;
	struct es_buf out, pidb;
	struct stat st;
	char *tree, *state_dir, *fixture, *uri_file, *pid_file, *out_file,
	    *base;
	char *argv[16];
	json_error_t je;
	json_t *j;
	pid_t pid, server;
	int status, n = 0, devnull;
	int64_t deadline;
	posix_spawn_file_actions_t fa;

	(void)state;
	if (getenv("EXECSYNC_TEST_MONGODB_URI") != NULL &&
	    getenv("EXECSYNC_TEST_MONGODB_URI")[0] != '\0')
		skip();		/* a shared server is not ours to kill */
	assert_non_null(src_dir);
	state_dir = es_itest_tmpdir("mlost-db");
	fixture = es_xasprintf("%s/tests/ferretdb-fixture", src_dir);
	{
		char *start[] = { fixture, (char *)"start", state_dir, NULL };
		struct es_buf why = ES_BUF_INIT;
		int rc = -1;

		for (int i = 0; i < 3 && rc != 0; i++) {
			es_buf_reset(&why);
			rc = es_itest_run(start, NULL, &why, 60);
		}
		if (rc != 0)
			fail_msg("cannot start a FerretDB of its own: %s",
			    why.buf);
		es_buf_release(&why);
	}
	es_itest_begin(&t, "mlost");
	free(t.uri);
	uri_file = es_xasprintf("%s/uri", state_dir);
	pid_file = es_xasprintf("%s/pid", state_dir);
	slurp(uri_file, &out);
	out.buf[strcspn(out.buf, "\n")] = '\0';
	t.uri = es_xstrdup(out.buf);
	es_buf_release(&out);
	slurp(pid_file, &pidb);
	server = (pid_t)atol(pidb.buf);
	es_buf_release(&pidb);
	assert_true(server > 0);
	tree = gen_tree("mlost", args, NULL);
	base = es_xasprintf("%s/%s", tree, ES_BASELINE_FILE);
	out_file = es_xasprintf("%s/out.json", state_dir);

	argv[n++] = (char *)ES_MIGRATE_BIN;
	argv[n++] = (char *)"--source";
	argv[n++] = tree;
	argv[n++] = (char *)"--mongodb-uri";
	argv[n++] = t.uri;
	argv[n++] = (char *)"--user-id";
	argv[n++] = (char *)t.user;
	argv[n++] = (char *)"--database";
	argv[n++] = t.db;
	argv[n++] = (char *)"--batch-size";
	argv[n++] = (char *)"5";
	argv[n++] = (char *)"--json";
	argv[n] = NULL;
	devnull = open("/dev/null", O_RDWR);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, devnull, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out_file,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, devnull, 2);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0)
		fail_msg("spawn: %s", strerror(errno));
	posix_spawn_file_actions_destroy(&fa);
	close(devnull);
	deadline = es_itest_mono_ms() + 60000;
	while (db_total(&t) == 0 && es_itest_mono_ms() < deadline) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			fail_msg("execsync-migrate ended before any document "
			    "was seen");
		usleep(2000);
	}
	kill(server, SIGKILL);
	/* It notices within its timeouts (the URI's 5 s) and exits. */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 75);	/* temporary */

	slurp(out_file, &out);
	j = json_loads(out.buf, 0, &je);
	if (j == NULL)
		fail_msg("not JSON: %s", out.buf);
	assert_non_null(strstr(json_string_value(json_object_get(j, "error")),
	    "rerunning execsync-migrate finishes the job"));
	assert_int_equal(json_integer_value(json_object_get(j, "exit_status")),
	    75);
	assert_true(jcount(j, "total", "failed") > 0);
	assert_int_equal(jcount(j, "total", "inserted") +
	    jcount(j, "total", "failed"), 3330);
	assert_true(json_is_null(json_object_get(j, "baseline")));
	/* The baseline transaction was rolled back: no rows (the file may
	 * exist, empty, which means the same as none: SPEC 4.17). */
	if (stat(base, &st) == 0) {
		struct es_error e;
		struct es_baseline *b = es_baseline_open(base, &e);
		size_t nf = 1, ne = 1;
		char *ident = NULL;

		assert_non_null(b);
		assert_int_equal(es_baseline_count(b, &nf, &ne, &e), 0);
		assert_int_equal(nf, 0);
		assert_int_equal(ne, 0);
		assert_int_equal(es_baseline_get_meta(b, "identity", &ident,
		    &e), 0);
		assert_null(ident);
		es_baseline_free(b);
	}
	json_decref(j);
	es_buf_release(&out);

	{
		char *stop[] = { fixture, (char *)"stop", state_dir, NULL };

		es_itest_run(stop, NULL, NULL, 60);
	}
	/* The database went with its server: nothing to drop. */
	es_store_free(t.store);
	free(t.uri);
	free(t.db);
	es_itest_rm_rf(state_dir);
	free(state_dir);
	free(fixture);
	free(uri_file);
	free(pid_file);
	free(out_file);
	free(base);
	rm_tree(tree);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_migrate_fields),
	cmocka_unit_test(test_migrate_counts),
	cmocka_unit_test(test_migrate_second_run),
	cmocka_unit_test(test_migrate_killed_and_rerun),
	cmocka_unit_test(test_migrate_dry_run),
	cmocka_unit_test(test_migrate_bad_files),
	cmocka_unit_test(test_migrate_render_round_trip),
	cmocka_unit_test(test_migrate_baseline),
	cmocka_unit_test(test_migrate_existing_database),
	cmocka_unit_test(test_migrate_usage_and_connection_errors),
	cmocka_unit_test(test_migrate_connection_lost),
};

ES_ITEST_MAIN(tests)
