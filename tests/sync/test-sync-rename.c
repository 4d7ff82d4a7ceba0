/*
 * Renames against deletes (SPEC 4.6, issue 14 item 6), with the real
 * execsyncd --once and the fixture's FerretDB: "a file at a new path is the
 * same entity only when the evidence agrees (same slug, or content similar
 * enough to call it a rename); an inode number is a hint, never an
 * identity, since a deleted file's inode is often given to the next new
 * one."
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

#define ROUNDS	10

/* rel's (dev, ino); fails the test when it does not exist. */
static void
inode_of(const struct world *w, const char *rel, dev_t *dev, ino_t *ino)
{
	char *path = path_of(w, rel);
	struct stat st;

	if (lstat(path, &st) < 0)
		fail_msg("lstat %s: %s", path, strerror(errno));
	*dev = st.st_dev;
	*ino = st.st_ino;
	free(path);
}

/* A pass with --json plans nothing (SPEC 4.8). */
static void
assert_nothing_to_do(struct world *w)
{
	json_t *j;
	json_error_t je;

	assert_int_equal(syncd1(w, "--json"), 0);
	j = json_loads(w->out.buf, 0, &je);
	assert_non_null(j);
	if (json_array_size(json_object_get(j, "plan")) != 0)
		fail_msg("the second pass plans something:\n%s", w->out.buf);
	json_decref(j);
}

/*
 * The story, ROUNDS times: project-<k> synced, then deleted and an
 * unrelated plant-tree file created before one pass. Odd rounds unlink and
 * create as a user does, and count how often the file system gave the new
 * file the freed inode (ext4 often does, depending on timing; tmpfs never
 * reuses one). Even rounds make sure of it: the old file renamed to the
 * new name and rewritten in place keeps its (dev, ino), which is all the
 * pass sees of an inode reused. After each pass the old document is
 * soft-deleted with its title and content, the new file has a document of
 * its own, and a second pass has nothing to do.
 */
static void
test_delete_and_unrelated_create_on_freed_inode(void **state)
{
	struct world w;
	int natural = 0, natural_same = 0, forced = 0, forced_same = 0;

	(void)state;
	w_begin(&w, "r_inode");
	put(&w, "10k-projects/active/work/keep.md", "---\narea: Work\ntitle: "
	    "Keep\n---\nkeep me\n");
	assert_int_equal(syncd(&w, NULL), 0);
	for (int k = 1; k <= ROUNDS; k++) {
		char *old_rel, *new_rel, *old_slug, *new_slug, *text, *want;
		dev_t d0, d1;
		ino_t i0, i1;
		bson_oid_t id_old, id_del, id_new;
		bson_t doc;
		bool same;

		old_slug = es_xasprintf("project-%d", k);
		new_slug = k == 1 ? es_xstrdup("plant-tree") :
		    es_xasprintf("plant-tree-%d", k);
		old_rel = es_xasprintf("10k-projects/active/home/%s.md",
		    old_slug);
		new_rel = es_xasprintf("10k-projects/incubator/garden/%s.md",
		    new_slug);
		text = es_xasprintf("---\narea: Home\ntitle: Project %d\n"
		    "type: standard\ncreated: 2025-01-%02d\n---\n# Project %d"
		    "\n\n- call the plumber about sink %d\n- buy a washer\n",
		    k, k, k, k);
		put(&w, old_rel, text);
		assert_int_equal(syncd(&w, NULL), 0);
		assert_true(doc_get(&w, "projects", old_slug, &doc));
		es_itest_oid(&doc, "_id", &id_old);
		bson_destroy(&doc);
		inode_of(&w, old_rel, &d0, &i0);

		free(text);
		text = es_xasprintf("---\narea: Garden\ntitle: Plant Tree %d\n"
		    "type: habit\ncreated: 2026-03-%02d\n---\nPick a spot in "
		    "the back garden with afternoon sun (%d).\n", k, k, k);
		if (k % 2 == 1) {
			char *p = path_of(&w, old_rel);

			assert_int_equal(unlink(p), 0);
			free(p);
			put(&w, new_rel, text);
		} else {
			char *from = path_of(&w, old_rel);
			char *to = path_of(&w, new_rel);

			put(&w, "10k-projects/incubator/garden/.keep", "");
			assert_int_equal(rename(from, to), 0);
			put(&w, new_rel, text);	/* truncated in place */
			free(from);
			free(to);
		}
		inode_of(&w, new_rel, &d1, &i1);
		same = d0 == d1 && i0 == i1;
		if (k % 2 == 1) {
			natural++;
			natural_same += same;
		} else {
			forced++;
			forced_same += same;
		}

		assert_int_equal(syncd(&w, NULL), 0);
		/* The old project: soft-deleted, as it was, same _id. */
		if (!doc_get(&w, "projects", old_slug, &doc))
			fail_msg("round %d (%s inode): no document %s any "
			    "more: taken for a rename", k, same ? "same" :
			    "new", old_slug);
		es_itest_oid(&doc, "_id", &id_del);
		assert_true(bson_oid_equal(&id_old, &id_del));
		if (!doc_deleted(&doc))
			fail_msg("round %d (%s inode): %s is not soft-deleted",
			    k, same ? "same" : "new", old_slug);
		assert_int_equal(es_itest_type(&doc, "deleted_at"),
		    BSON_TYPE_DATE_TIME);
		want = es_xasprintf("Project %d", k);
		assert_string_equal(es_itest_str(&doc, "title"), want);
		free(want);
		assert_string_equal(es_itest_str(&doc, "area"), "Home");
		want = es_xasprintf("call the plumber about sink %d", k);
		assert_true(contains(es_itest_str(&doc, "content"), want));
		free(want);
		bson_destroy(&doc);
		/* The new file: a document of its own. */
		assert_true(doc_get(&w, "projects", new_slug, &doc));
		es_itest_oid(&doc, "_id", &id_new);
		assert_false(bson_oid_equal(&id_old, &id_new));
		assert_false(doc_deleted(&doc));
		want = es_xasprintf("Plant Tree %d", k);
		assert_string_equal(es_itest_str(&doc, "title"), want);
		free(want);
		assert_string_equal(es_itest_str(&doc, "folder"), "incubator");
		assert_string_equal(es_itest_str(&doc, "area"), "Garden");
		bson_destroy(&doc);
		assert_false(exists(&w, old_rel));
		assert_file_has(&w, new_rel, "afternoon sun");
		assert_int_equal(count_docs(&w, "projects"),
		    (size_t)(2 * k + 1));
		assert_nothing_to_do(&w);

		free(text);
		free(old_rel);
		free(new_rel);
		free(old_slug);
		free(new_slug);
	}
	print_message("inode reused by the file system in %d of %d "
	    "unlink+create rounds; kept in %d of %d rename+rewrite rounds\n",
	    natural_same, natural, forced_same, forced);
	/* The bug's condition happened, so the test tested it. */
	assert_int_equal(forced_same, forced);
	assert_true(natural_same + forced_same >= 1);
	w_end(&w);
}

/*
 * An editor's retitle: the file saved under the new slug (a new file, so
 * a new inode), the title changed, the body kept, the old file removed.
 * The same document, renamed; nothing deleted.
 */
static void
test_editor_retitle_is_a_rename(void **state)
{
	static const char body[] = "# Kitchen\n\n- call the plumber\n"
	    "- buy a washer for the tap\n- book the inspection\n";
	struct world w;
	bson_t doc;
	bson_oid_t a, b;
	char *p;

	(void)state;
	w_begin(&w, "r_retitle");
	put(&w, "10k-projects/active/home/project-1.md", "---\narea: Home\n"
	    "title: Project 1\ntype: standard\ncreated: 2025-01-02\n---\n"
	    "# Kitchen\n\n- call the plumber\n- buy a washer for the tap\n"
	    "- book the inspection\n");
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(doc_get(&w, "projects", "project-1", &doc));
	es_itest_oid(&doc, "_id", &a);
	bson_destroy(&doc);
	put(&w, "10k-projects/active/home/kitchen-repairs.md", "---\narea: "
	    "Home\ntitle: Kitchen Repairs\ntype: standard\ncreated: "
	    "2025-01-02\n---\n# Kitchen\n\n- call the plumber\n- buy a "
	    "washer for the tap\n- book the inspection\n");
	p = path_of(&w, "10k-projects/active/home/project-1.md");
	assert_int_equal(unlink(p), 0);
	free(p);
	assert_int_equal(syncd(&w, NULL), 0);
	assert_true(doc_get(&w, "projects", "kitchen-repairs", &doc));
	es_itest_oid(&doc, "_id", &b);
	assert_true(bson_oid_equal(&a, &b));
	assert_false(doc_deleted(&doc));
	assert_string_equal(es_itest_str(&doc, "title"), "Kitchen Repairs");
	assert_string_equal(es_itest_str(&doc, "content"), body);
	bson_destroy(&doc);
	assert_int_equal(count_docs(&w, "projects"), 1);
	assert_nothing_to_do(&w);
	w_end(&w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_delete_and_unrelated_create_on_freed_inode),
	cmocka_unit_test(test_editor_retitle_is_a_rename),
};

ES_TEST_MAIN(tests)
