/*
 * The folder layout (SPEC §2: what is synced, what is ignored, where a
 * database entity's file goes) and path safety (SPEC 4.11).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "es-test.h"

#include "execsync/buf.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/layout.h"
#include "execsync/xmalloc.h"

enum { P = ES_KIND_PROJECT, G = ES_KIND_GOAL, A = ES_KIND_ACTION };

static void
test_spec2_classify_synced_table(void **state)
{
	static const struct {
		const char	*rel;
		int		 kind;
		enum es_folder	 folder;
		enum es_list_kind list;
		const char	*area_dir, *slug, *context;
	} cases[] = {
		{ "10k-projects/active/learning/learn-rust.md", P,
		    ES_FOLDER_ACTIVE, 0, "learning", "learn-rust", "" },
		{ "10k-projects/incubator/personal-growth-systems/x.md", P,
		    ES_FOLDER_INCUBATOR, 0, "personal-growth-systems", "x", "" },
		{ "10k-projects/completed/work/de-shaw-tpm-role.md", P,
		    ES_FOLDER_COMPLETED, 0, "work", "de-shaw-tpm-role", "" },
		{ "10k-projects/descoped/work/café-münster.md", P,
		    ES_FOLDER_DESCOPED, 0, "work", "café-münster", "" },
		{ "30k-goals/active/run-a-marathon.md", G, ES_FOLDER_ACTIVE,
		    0, "", "run-a-marathon", "" },
		{ "30k-goals/incubator/learn-japanese.md", G,
		    ES_FOLDER_INCUBATOR, 0, "", "learn-japanese", "" },
		{ "30k-goals/active/health/2026/run.md", G, ES_FOLDER_ACTIVE,
		    0, "", "run", "" },
		{ "00k-next-actions/contexts/@macbook.md", A, 0,
		    ES_LIST_CONTEXT, "", "", "@macbook" },
		{ "00k-next-actions/contexts/@inbox.md", A, 0,
		    ES_LIST_CONTEXT, "", "", "@inbox" },
		{ "00k-next-actions/@waiting.md", A, 0, ES_LIST_WAITING,
		    "", "", "" },
		{ "00k-next-actions/@deferred.md", A, 0, ES_LIST_DEFERRED,
		    "", "", "" },
		{ "00k-next-actions/@incubating.md", A, 0,
		    ES_LIST_INCUBATING, "", "", "" },
		{ "00k-next-actions/completed.md", A, 0, ES_LIST_COMPLETED,
		    "", "", "" },
	};
	struct es_path_info info;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&info, 0x5a, sizeof(info));
		if (es_layout_classify(cases[i].rel, NULL, &info) != 1)
			fail_msg("'%s' not synced", cases[i].rel);
		assert_int_equal(info.kind, cases[i].kind);
		assert_int_equal(info.folder, cases[i].folder);
		assert_int_equal(info.list, cases[i].list);
		assert_string_equal(info.area_dir, cases[i].area_dir);
		assert_string_equal(info.slug, cases[i].slug);
		assert_string_equal(info.context, cases[i].context);
	}
}

static void
test_spec2_classify_not_synced_table(void **state)
{
	static const char *const cases[] = {
		/* other files and horizons */
		"README.md",
		"20k-areas/x.md",
		"10k-projects/README.md",
		"10k-projects/active/README.md",
		"00k-next-actions/README.md",
		"00k-next-actions/contexts/macbook.md",
		"00k-next-actions/contexts/@.md",
		"00k-next-actions/contexts/@two words.md",
		"00k-next-actions/contexts/sub/@x.md",
		"00k-next-actions/@waiting.txt",
		"00k-next-actions/@Waiting.md",
		"00k-next-actions/contexts",
		"10k-projects/active/learning/image.png",
		"10k-projects/active/learning/notes.MD",
		/* wrong depth or folder */
		"10k-projects/active/learn-rust.md",
		"10k-projects/active/learning/sub/learn-rust.md",
		"10k-projects/archived/learning/learn-rust.md",
		"10k-projects/Active/learning/learn-rust.md",
		"30k-goals/run.md",
		"30k-goals/completed/run.md",
		"30k-goals/active",
		/* supporting material */
		"30k-goals/active/_goals-summary.md",
		"30k-goals/active/health/_notes.md",
		/* empty slug */
		"10k-projects/active/learning/.md",
		"30k-goals/active/.md",
		/* hidden, tool and git folders at any level */
		".git/HEAD",
		".execsync/trash/10k-projects/active/learning/x.md",
		".execsync/conflicts/x.md",
		"10k-projects/active/.learning/x.md",
		"10k-projects/.active/learning/x.md",
		".10k-projects/active/learning/x.md",
		"30k-goals/active/.drafts/run.md",
		"10k-projects/active/learning/.hidden.md",
		/* editor swap and backup files */
		"10k-projects/active/learning/.learn-rust.md.swp",
		"10k-projects/active/learning/learn-rust.md~",
		"10k-projects/active/learning/4913",
		"10k-projects/active/learning/.#learn-rust.md",
		"00k-next-actions/.@waiting.md.swx",
		"00k-next-actions/@waiting.md~",
		/* malformed paths */
		"",
		"/10k-projects/active/learning/x.md",
		"10k-projects//active/learning/x.md",
		"10k-projects/active/learning/x.md/",
		"10k-projects/active/../active/learning/x.md",
		"./10k-projects/active/learning/x.md",
		"10k-projects/active/learn\ning/x.md",
		"10k-projects/active/learning/bad\xff.md",
	};
	struct es_path_info info;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&info, 0x5a, sizeof(info));
		if (es_layout_classify(cases[i], NULL, &info) != 0)
			fail_msg("'%s' classified as synced", cases[i]);
		/* out is zeroed, never left half-filled */
		assert_int_equal(info.slug[0], 0);
		assert_int_equal(info.list, 0);
	}
	assert_int_equal(es_layout_classify(NULL, NULL, NULL), 0);
}

static void
test_spec2_classify_ignore_globs(void **state)
{
	static const char *const ignore[] = {
		"10k-projects/active/archive-*",
		"*/*/scratch/*.md",
		"30k-goals/incubator/someday/",
		"/00k-next-actions/contexts/@old.md",
		NULL,
	};
	static const struct {
		const char	*rel;
		int		 want;
	} cases[] = {
		{ "10k-projects/active/archive-2024/x.md", 0 },
		{ "10k-projects/active/archived/x.md", 1 },
		{ "10k-projects/active/scratch/x.md", 0 },
		{ "10k-projects/incubator/scratch/x.md", 0 },
		{ "10k-projects/incubator/scratch-pad/x.md", 1 },
		/* FNM_PATHNAME: '*' does not cross '/' */
		{ "30k-goals/active/a/scratch/x.md", 1 },
		/* folder-only pattern, and everything below it */
		{ "30k-goals/incubator/someday/x.md", 0 },
		{ "30k-goals/incubator/someday/deep/x.md", 0 },
		{ "30k-goals/incubator/someday.md", 1 },
		{ "00k-next-actions/contexts/@old.md", 0 },
		{ "00k-next-actions/contexts/@new.md", 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (es_layout_classify(cases[i].rel, ignore, NULL) !=
		    cases[i].want)
			fail_msg("'%s': want %d", cases[i].rel, cases[i].want);
	assert_false(es_layout_descend("10k-projects/active/archive-x",
	    ignore));
	assert_false(es_layout_descend("30k-goals/incubator/someday",
	    ignore));
	assert_true(es_layout_descend("30k-goals/incubator/other", ignore));
}

static void
test_spec2_descend_table(void **state)
{
	static const struct {
		const char	*rel;
		bool		 want;
	} cases[] = {
		{ "", true },
		{ "00k-next-actions", true },
		{ "00k-next-actions/contexts", true },
		{ "00k-next-actions/archive", false },
		{ "00k-next-actions/contexts/deeper", false },
		{ "10k-projects", true },
		{ "10k-projects/active", true },
		{ "10k-projects/descoped", true },
		{ "10k-projects/active/learning", true },
		{ "10k-projects/active/learning/assets", false },
		{ "10k-projects/archive", false },
		{ "30k-goals", true },
		{ "30k-goals/active", true },
		{ "30k-goals/incubator/health", true },
		{ "30k-goals/active/a/b/c/d", true },
		{ "30k-goals/completed", false },
		{ "20k-areas", false },
		{ "docs", false },
		{ ".git", false },
		{ ".execsync", false },
		{ "10k-projects/active/.cache", false },
		{ "30k-goals/active/.obsidian", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (es_layout_descend(cases[i].rel, NULL) != cases[i].want)
			fail_msg("descend '%s': want %d", cases[i].rel,
			    cases[i].want);
}

static void
entity_make(struct es_entity *e, enum es_kind kind, const char *slug,
    const char *area, enum es_folder folder)
{
	es_entity_init(e, kind);
	e->slug = slug ? es_xstrdup(slug) : NULL;
	e->area = area ? es_xstrdup(area) : NULL;
	e->folder = folder;
}

static void
test_spec2_entity_path_table(void **state)
{
	static const struct {
		enum es_kind	 kind;
		const char	*slug, *area;
		enum es_folder	 folder;
		const char	*want;
	} cases[] = {
		{ ES_KIND_PROJECT, "learn-rust", "Learning", ES_FOLDER_ACTIVE,
		    "10k-projects/active/learning/learn-rust.md" },
		{ ES_KIND_PROJECT, "x", "Personal Growth Systems",
		    ES_FOLDER_INCUBATOR,
		    "10k-projects/incubator/personal-growth-systems/x.md" },
		{ ES_KIND_PROJECT, "de-shaw-tpm-role", "Work",
		    ES_FOLDER_COMPLETED,
		    "10k-projects/completed/work/de-shaw-tpm-role.md" },
		{ ES_KIND_PROJECT, "café", "Café Münster", ES_FOLDER_DESCOPED,
		    "10k-projects/descoped/café-münster/café.md" },
		{ ES_KIND_GOAL, "run-a-marathon", NULL, ES_FOLDER_ACTIVE,
		    "30k-goals/active/run-a-marathon.md" },
		{ ES_KIND_GOAL, "japanese", "Learning", ES_FOLDER_INCUBATOR,
		    "30k-goals/incubator/japanese.md" },
	};
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_entity e;
		struct es_path_info info;

		entity_make(&e, cases[i].kind, cases[i].slug, cases[i].area,
		    cases[i].folder);
		es_buf_addstr(&b, "old content");
		if (es_layout_entity_path(&e, &b, &err) != 0)
			fail_msg("%s: %s", cases[i].slug, err.msg);
		assert_string_equal(b.buf, cases[i].want);
		/* Round trip: the path classifies back to the entity. */
		assert_int_equal(es_layout_classify(b.buf, NULL, &info), 1);
		assert_int_equal(info.kind, cases[i].kind);
		assert_int_equal(info.folder, cases[i].folder);
		assert_string_equal(info.slug, cases[i].slug);
		es_entity_release(&e);
	}
	es_buf_release(&b);
}

static void
test_spec4_11_entity_path_rejects(void **state)
{
	static const struct {
		enum es_kind	 kind;
		const char	*slug, *area;
		enum es_folder	 folder;
		int		 code;
		const char	*msg;
	} cases[] = {
		{ ES_KIND_PROJECT, "../../.bashrc", "Learning",
		    ES_FOLDER_ACTIVE, ES_EUNSAFE,
		    "unsafe slug '../../.bashrc'" },
		{ ES_KIND_PROJECT, "/etc/passwd", "Learning", ES_FOLDER_ACTIVE,
		    ES_EUNSAFE, "unsafe slug '/etc/passwd'" },
		{ ES_KIND_PROJECT, "a/b", "Learning", ES_FOLDER_ACTIVE,
		    ES_EUNSAFE, "unsafe slug 'a/b'" },
		{ ES_KIND_PROJECT, ".hidden", "Learning", ES_FOLDER_ACTIVE,
		    ES_EUNSAFE, "unsafe slug '.hidden'" },
		{ ES_KIND_PROJECT, "..", "Learning", ES_FOLDER_ACTIVE,
		    ES_EUNSAFE, "unsafe slug '..'" },
		{ ES_KIND_PROJECT, "", "Learning", ES_FOLDER_ACTIVE,
		    ES_EUNSAFE, "unsafe slug ''" },
		{ ES_KIND_PROJECT, NULL, "Learning", ES_FOLDER_ACTIVE,
		    ES_EUNSAFE, "unsafe slug ''" },
		{ ES_KIND_PROJECT, "bell\a", "Learning", ES_FOLDER_ACTIVE,
		    ES_EUNSAFE, "unsafe slug 'bell\a'" },
		{ ES_KIND_PROJECT, "x", "/etc", ES_FOLDER_ACTIVE, ES_EUNSAFE,
		    "unsafe area '/etc'" },
		{ ES_KIND_PROJECT, "x", "../..", ES_FOLDER_ACTIVE, ES_EUNSAFE,
		    "unsafe area '../..'" },
		{ ES_KIND_PROJECT, "x", NULL, ES_FOLDER_ACTIVE, ES_EUNSAFE,
		    "unsafe area ''" },
		{ ES_KIND_PROJECT, "x", "Learning", ES_FOLDER_NONE, ES_EPARSE,
		    "no folder for project 'x'" },
		{ ES_KIND_GOAL, "run", NULL, ES_FOLDER_COMPLETED, ES_EPARSE,
		    "bad folder 'completed' for goal 'run'" },
		{ ES_KIND_GOAL, "../run", NULL, ES_FOLDER_ACTIVE, ES_EUNSAFE,
		    "unsafe slug '../run'" },
		{ ES_KIND_ACTION, "x", NULL, ES_FOLDER_ACTIVE, ES_EPARSE,
		    "'x' is not a project or goal" },
	};
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;

	(void)state;
	es_buf_addstr(&b, "untouched");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_entity e;

		entity_make(&e, cases[i].kind, cases[i].slug, cases[i].area,
		    cases[i].folder);
		es_error_clear(&err);
		if (es_layout_entity_path(&e, &b, &err) != -1)
			fail_msg("case %zu accepted as '%s'", i, b.buf);
		assert_int_equal(err.code, cases[i].code);
		assert_string_equal(err.msg, cases[i].msg);
		/* nothing built on error */
		assert_string_equal(b.buf, "untouched");
		es_entity_release(&e);
	}
	es_buf_release(&b);
}

static void
test_spec2_action_path_table(void **state)
{
	static const struct {
		enum es_state	 st;
		const char	*ctx;
		const char	*want;	/* NULL: rejected */
		int		 code;
	} cases[] = {
		{ ES_STATE_NEXT, "@macbook",
		    "00k-next-actions/contexts/@macbook.md", 0 },
		{ ES_STATE_NEXT, NULL,
		    "00k-next-actions/contexts/@inbox.md", 0 },
		{ ES_STATE_WAITING, "@phone", "00k-next-actions/@waiting.md",
		    0 },
		{ ES_STATE_DEFERRED, NULL, "00k-next-actions/@deferred.md",
		    0 },
		{ ES_STATE_INCUBATING, NULL,
		    "00k-next-actions/@incubating.md", 0 },
		{ ES_STATE_COMPLETED, "@macbook",
		    "00k-next-actions/completed.md", 0 },
		/* SPEC 4.11: a context with '/' is rejected */
		{ ES_STATE_NEXT, "@a/b", NULL, ES_EUNSAFE },
		{ ES_STATE_NEXT, "@../../x", NULL, ES_EUNSAFE },
		{ ES_STATE_NEXT, "@..", NULL, ES_EUNSAFE },
		{ ES_STATE_NEXT, "macbook", NULL, ES_EUNSAFE },
		{ ES_STATE_NEXT, "@", NULL, ES_EUNSAFE },
		{ ES_STATE_NONE, "@macbook", NULL, ES_EPARSE },
	};
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct es_action a;
		struct es_path_info info;

		es_action_init(&a);
		a.state = cases[i].st;
		a.context = cases[i].ctx ? es_xstrdup(cases[i].ctx) : NULL;
		es_buf_reset(&b);
		es_buf_addstr(&b, "untouched");
		es_error_clear(&err);
		if (cases[i].want == NULL) {
			assert_int_equal(es_layout_action_path(&a, &b, &err),
			    -1);
			assert_int_equal(err.code, cases[i].code);
			assert_string_equal(b.buf, "untouched");
		} else {
			assert_int_equal(es_layout_action_path(&a, &b, &err),
			    0);
			assert_string_equal(b.buf, cases[i].want);
			/* round trip: the list gives the state back */
			assert_int_equal(es_layout_classify(b.buf, NULL,
			    &info), 1);
			assert_int_equal(es_list_state(info.list),
			    cases[i].st);
		}
		es_action_release(&a);
	}
	es_error_clear(&err);
	{
		struct es_action a;

		es_action_init(&a);
		a.state = ES_STATE_NEXT;
		a.context = es_xstrdup("@a/b");
		assert_int_equal(es_layout_action_path(&a, &b, &err), -1);
		assert_string_equal(err.msg, "unsafe context '@a/b'");
		es_action_release(&a);
	}
	es_buf_release(&b);
}

/* es_rel_is_plain(): the paths the engine may name, and those it may not. */
static void
test_rel_is_plain(void **state)
{
	static const struct {
		const char	*rel;
		bool		 want;
	} t[] = {
		{ "10k-projects/active/work/a.md", true },
		{ "a", true },
		{ ".execsync/trash/a.md", true },
		{ "..a/b..", true },
		{ "", false },
		{ "/etc/passwd", false },
		{ "a//b", false },
		{ "a/./b", false },
		{ "a/../b", false },
		{ "..", false },
		{ "a/", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (es_rel_is_plain(t[i].rel) != t[i].want)
			fail_msg("'%s': want %d", t[i].rel, t[i].want);
	assert_false(es_rel_is_plain(NULL));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_spec2_classify_synced_table),
	cmocka_unit_test(test_spec2_classify_not_synced_table),
	cmocka_unit_test(test_spec2_classify_ignore_globs),
	cmocka_unit_test(test_spec2_descend_table),
	cmocka_unit_test(test_spec2_entity_path_table),
	cmocka_unit_test(test_spec4_11_entity_path_rejects),
	cmocka_unit_test(test_spec2_action_path_table),
	cmocka_unit_test(test_rel_is_plain),
};

ES_TEST_MAIN(tests)
