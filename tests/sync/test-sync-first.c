/*
 * First-pass safety and identity (issue 14, SPEC 4.17, 4.18, §2 slugs):
 * the mistakes a new user makes on the first run of execsyncd --once, each
 * against the real server, each checking that nothing was written where it
 * must not be.
 */
#include "sync-world.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "execsync/xmalloc.h"

#define ALPHA	"10k-projects/active/work/alpha.md"
#define GOAL	"30k-goals/active/run-far.md"

/* Two projects and a goal on disk, synced once. */
static void
seed(struct world *w)
{
	put(w, ALPHA, "---\narea: Work\ntitle: Alpha\n---\nalpha body\n");
	put(w, "10k-projects/incubator/home/beta.md",
	    "---\narea: Home\ntitle: Beta\n---\nbeta body\n");
	put(w, GOAL, "---\ntitle: Run Far\ntype: goal\n---\nkeep going\n");
	assert_int_equal(syncd(w, NULL), 0);
}

static void
run_ok(char *const argv[])
{
	struct es_buf err = ES_BUF_INIT;

	if (es_itest_run(argv, NULL, &err, 60) != 0)
		fail_msg("%s failed: %s", argv[0], err.buf ? err.buf : "");
	es_buf_release(&err);
}

/* A copy of w's folder at root/../name without .execsync/: a clone. */
static char *
clone_root(const struct world *w, const char *name)
{
	char *dst = es_xasprintf("%s/%s", w->tmp, name);
	char *src = es_xasprintf("%s/.", w->root);
	char *bl = es_xasprintf("%s/.execsync", dst);
	char *cp[] = { (char *)"cp", (char *)"-a", src, dst, NULL };
	char *rm[] = { (char *)"rm", (char *)"-rf", bl, NULL };

	assert_int_equal(mkdir(dst, 0755), 0);
	run_ok(cp);
	run_ok(rm);
	free(src);
	free(bl);
	return dst;
}

/*
 * snapshot() without the root's own line: a first pass creates .execsync/
 * in the root, which changes the root's mtime and nothing else.
 */
static char *
snapshot_below(const struct world *w)
{
	char *s = snapshot(w), *nl;

	if (strncmp(s, " d ", 3) == 0 && (nl = strchr(s, '\n')) != NULL)
		memmove(s, nl + 1, strlen(nl + 1) + 1);
	return s;
}

/* The JSON result's plan, as "op path" lines without baseline ops. */
static char *
changes_of(const char *json)
{
	json_error_t je;
	json_t *j = json_loads(json, 0, &je), *plan, *op;
	struct es_buf b = ES_BUF_INIT;
	size_t i;

	if (j == NULL)
		fail_msg("not JSON (%s): %s", je.text, json);
	plan = json_object_get(j, "plan");
	es_buf_addstr(&b, "");
	json_array_foreach(plan, i, op) {
		const char *name = json_string_value(json_object_get(op,
		    "op"));

		if (strcmp(name, "baseline") == 0)
			continue;
		es_buf_addf(&b, "%s %s\n", name, json_string_value(
		    json_object_get(op, "path")));
	}
	json_decref(j);
	return es_buf_detach(&b, NULL);
}

/* ---- SPEC 4.18: the wrong folder is refused, --init fills it ---- */

static void
test_wrong_folder_refused_init_fills(void **state)
{
	struct world w;
	char *home, *snap1, *snap2, *d1, *d2;

	(void)state;
	w_begin(&w, "f_wrong");
	seed(&w);
	home = w.root;
	w.root = es_xasprintf("%s/home", w.tmp);
	assert_int_equal(mkdir(w.root, 0755), 0);
	put(&w, "notes.txt", "my notes\n");
	put(&w, "Documents/letter.md", "---\ntitle: Letter\n---\nhello\n");
	snap1 = snapshot(&w);
	d1 = dump(&w);
	assert_int_equal(syncd(&w, NULL), 2);
	assert_true(contains(w.err.buf, "not an execution-system folder"));
	assert_true(contains(w.err.buf, "--init"));
	assert_false(exists(&w, ".execsync"));
	snap2 = snapshot(&w);
	d2 = dump(&w);
	assert_string_equal(snap1, snap2);
	assert_string_equal(d1, d2);
	free(snap2);
	free(d2);
	/* A dry run is refused the same way. */
	assert_int_equal(syncd1(&w, "--dry-run"), 2);
	assert_true(contains(w.err.buf, "not an execution-system folder"));
	/* --init asks for it: the folder is filled, nothing else changes. */
	assert_int_equal(syncd1(&w, "--init"), 0);
	assert_file_has(&w, ALPHA, "alpha body");
	assert_file_has(&w, GOAL, "keep going");
	assert_file_has(&w, "notes.txt", "my notes");
	d2 = dump(&w);
	assert_string_equal(d1, d2);
	/* From then on it is a synced folder: no --init needed. */
	assert_int_equal(syncd(&w, NULL), 0);
	free(w.root);
	w.root = home;
	free(snap1);
	free(d1);
	free(d2);
	w_end(&w);
}

/* An unmounted mount point: empty, the baseline gone with the folder. */
static void
test_empty_mount_point_refused(void **state)
{
	struct world w;
	char *d1, *d2, *mnt;

	(void)state;
	w_begin(&w, "f_mount");
	seed(&w);
	mnt = w.root;
	w.root = es_xasprintf("%s/mnt", w.tmp);
	assert_int_equal(mkdir(w.root, 0755), 0);
	d1 = dump(&w);
	assert_int_equal(syncd(&w, NULL), 2);
	assert_true(contains(w.err.buf, "not an execution-system folder"));
	d2 = dump(&w);
	assert_string_equal(d1, d2);
	assert_false(exists(&w, "10k-projects"));
	assert_false(exists(&w, ".execsync"));
	free(w.root);
	w.root = mnt;
	free(d1);
	free(d2);
	w_end(&w);
}

/* A fresh clone has the top folders: its first pass needs no --init,
 * creates nothing and deletes nothing (SPEC 4.17). */
static void
test_fresh_clone_first_pass(void **state)
{
	struct world w;
	char *a, *d1, *d2, *snap1, *snap2, *ch;

	(void)state;
	w_begin(&w, "f_clone");
	seed(&w);
	a = w.root;
	w.root = clone_root(&w, "clone");
	d1 = dump(&w);
	snap1 = snapshot_below(&w);
	assert_int_equal(syncd1(&w, "--json"), 0);
	ch = changes_of(w.out.buf);
	assert_string_equal(ch, "");
	d2 = dump(&w);
	snap2 = snapshot_below(&w);
	assert_string_equal(d1, d2);
	assert_string_equal(snap1, snap2);
	free(ch);
	free(d1);
	free(d2);
	free(snap1);
	free(snap2);
	free(w.root);
	w.root = a;
	w_end(&w);
}

/* ---- SPEC 4.18: a baseline for another identity stops the pass ---- */

static void
test_other_user_refused_resync_adopts(void **state)
{
	struct world w;
	const char *ana;
	char *d1, *d2, *snap1, *snap2;
	const char *typo[] = { "--user-id", "anna", NULL };
	const char *db_typo[] = { "--database", "execution_sytem", NULL };
	const char *adopt[] = { "--user-id", "anna", "--resync", NULL };

	(void)state;
	w_begin(&w, "f_ident");
	seed(&w);
	d1 = dump(&w);
	snap1 = snapshot(&w);
	assert_int_equal(syncd(&w, typo), 2);
	assert_true(contains(w.err.buf, "user_id=ana'"));
	assert_true(contains(w.err.buf, "user_id=anna'"));
	assert_true(contains(w.err.buf, "--resync"));
	ana = w.t.user;
	w.t.user = "anna";
	assert_int_equal(count_docs(&w, "projects"), 0);
	assert_int_equal(count_docs(&w, "goals"), 0);
	w.t.user = ana;
	assert_int_equal(syncd(&w, db_typo), 2);
	assert_true(contains(w.err.buf, "/execution_sytem user_id=ana'"));
	d2 = dump(&w);
	snap2 = snapshot(&w);
	assert_string_equal(d1, d2);
	assert_string_equal(snap1, snap2);
	free(d2);
	free(snap2);
	/* The baseline still works for its own identity. */
	assert_int_equal(syncd(&w, NULL), 0);
	/* --resync adopts the new user on purpose: the folder goes to anna,
	 * ana's documents are untouched. */
	assert_int_equal(syncd(&w, adopt), 0);
	w.t.user = "anna";
	assert_int_equal(count_docs(&w, "projects"), 2);
	assert_int_equal(count_docs(&w, "goals"), 1);
	w.t.user = ana;
	assert_int_equal(count_docs(&w, "projects"), 2);
	assert_int_equal(syncd(&w, typo), 0);
	assert_int_equal(syncd(&w, NULL), 2);	/* now ana is the other one */
	free(d1);
	free(snap1);
	w_end(&w);
}

/* ---- SPEC §2: a slug clash renames the file; a clone pairs 1:1 ---- */

#define READ_A	"10k-projects/active/learning/reading.md"
#define READ_B	"10k-projects/incubator/home/reading.md"
#define READ_B2	"10k-projects/incubator/home/reading-2.md"

static void
test_slug_clash_file_renamed_clone_clean(void **state)
{
	struct world w;
	char *first, *d1, *d2, *snap1, *snap2, *ch;

	(void)state;
	w_begin(&w, "f_clash");
	put(&w, READ_A, "---\narea: Learning\ntitle: Reading\n---\nbooks\n");
	put(&w, READ_B, "---\narea: Home\ntitle: Reading\n---\nlamp\n");
	{
		char *argv[] = { (char *)ES_MIGRATE_BIN, (char *)"--source",
		    w.root, (char *)"--mongodb-uri", w.t.uri,
		    (char *)"--user-id", (char *)w.t.user,
		    (char *)"--database", w.t.db, NULL };

		assert_int_equal(es_itest_run(argv, NULL, NULL, 60), 0);
	}
	/* migrate changes no file; the first pass names it by its slug. */
	assert_true(exists(&w, READ_B));
	assert_int_equal(syncd1(&w, "--json"), 0);
	ch = changes_of(w.out.buf);
	assert_string_equal(ch, "move " READ_B2 "\n");
	free(ch);
	assert_true(contains(w.err.buf, "follows the slug 'reading-2'"));
	assert_false(exists(&w, READ_B));
	assert_file_has(&w, READ_B2, "lamp");
	assert_file_has(&w, READ_A, "books");
	assert_int_equal(count_docs(&w, "projects"), 2);
	assert_int_equal(syncd(&w, NULL), 0);
	/* A second machine: a clone of the folder, no baseline. */
	first = w.root;
	w.root = clone_root(&w, "clone");
	d1 = dump(&w);
	snap1 = snapshot_below(&w);
	assert_int_equal(syncd1(&w, "--json"), 0);
	ch = changes_of(w.out.buf);
	assert_string_equal(ch, "");
	d2 = dump(&w);
	snap2 = snapshot_below(&w);
	assert_string_equal(d1, d2);
	assert_string_equal(snap1, snap2);
	assert_int_equal(count_docs(&w, "projects"), 2);
	free(ch);
	free(d1);
	free(d2);
	free(snap1);
	free(snap2);
	free(w.root);
	w.root = first;
	w_end(&w);
}

/*
 * Issue 19 item 10: a clone whose file names arrived decomposed (NFD)
 * pairs them with their composed slugs (SPEC 4.17): no second document,
 * and the file is renamed to its document's slug.
 */
#define CAFE_NFC	"10k-projects/active/food/caf\xc3\xa9.md"
#define CAFE_NFD	"10k-projects/active/food/cafe\xcc\x81.md"

static void
test_clone_with_nfd_names_pairs(void **state)
{
	struct world w;
	char *first, *a, *b;

	(void)state;
	w_begin(&w, "f_nfd");
	put(&w, CAFE_NFC, "---\narea: Food\ntitle: Caf\xc3\xa9\n---\nbeans\n");
	assert_int_equal(syncd(&w, NULL), 0);
	first = w.root;
	w.root = clone_root(&w, "clone");
	a = path_of(&w, CAFE_NFC);
	b = path_of(&w, CAFE_NFD);
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_int_equal(count_docs(&w, "projects"), 1);
	assert_true(exists(&w, CAFE_NFC));
	assert_false(exists(&w, CAFE_NFD));
	assert_int_equal(syncd1(&w, "--json"), 0);
	assert_true(contains(w.out.buf, "\"plan\":[]"));
	free(a);
	free(b);
	free(w.root);
	w.root = first;
	w_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_clone_with_nfd_names_pairs),
	cmocka_unit_test(test_wrong_folder_refused_init_fills),
	cmocka_unit_test(test_empty_mount_point_refused),
	cmocka_unit_test(test_fresh_clone_first_pass),
	cmocka_unit_test(test_other_user_refused_resync_adopts),
	cmocka_unit_test(test_slug_clash_file_renamed_clone_clean),
};

ES_ITEST_MAIN(tests)
