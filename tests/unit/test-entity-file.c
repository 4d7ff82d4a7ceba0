/*
 * Projects and goals as files (SPEC §2 "Project and goal files"): parse,
 * canonical render, minimal update, goal classification, fingerprints of
 * reformatted files (SPEC 4.8).
 */
#include "es-test.h"

#include <stdio.h>
#include <stdlib.h>

#include "execsync/buf.h"
#include "execsync/date.h"
#include "execsync/entity-file.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/yaml-value.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define REL_P	"10k-projects/active/learning/learn-rust.md"
#define REL_G	"30k-goals/active/run.md"

static int
parse_kind(const char *s, size_t len, enum es_kind kind, struct es_entity *e,
    struct es_error *err)
{
	es_entity_init(e, kind);
	es_error_clear(err);
	return es_entity_file_parse(s, len,
	    kind == ES_KIND_PROJECT ? REL_P : REL_G, kind, ES_FOLDER_ACTIVE,
	    kind == ES_KIND_PROJECT ? "learn-rust" : "run",
	    kind == ES_KIND_PROJECT ? "learning" : NULL, e, err);
}

static void
parse_ok(const char *s, enum es_kind kind, struct es_entity *e)
{
	struct es_error err;
	int rc = parse_kind(s, strlen(s), kind, e, &err);

	if (rc != 0)
		fail_msg("rc %d (%u: %s) for:\n%s", rc, err.line, err.msg, s);
}

static void
assert_extra_json(const struct es_entity *e, const char *want)
{
	char *json = bson_as_relaxed_extended_json(e->extra, NULL);

	assert_string_equal(json, want);
	bson_free(json);
}

/* Update old with e and compare with want; returns nothing. */
static void
assert_update(const char *old, const struct es_entity *e, const char *want)
{
	struct es_buf out = ES_BUF_INIT;
	struct es_error err;

	es_error_clear(&err);
	if (es_entity_file_update(old, strlen(old),
	    e->kind == ES_KIND_PROJECT ? REL_P : REL_G, e, &out, &err) != 0)
		fail_msg("update failed: %s", err.msg);
	assert_bytes_equal(out.buf, out.len, want, strlen(want));
	es_buf_release(&out);
}

static const char spec_example[] =
    "---\n"
    "area: Learning\n"
    "title: Learn Rust\n"
    "type: standard\n"
    "created: 2025-11-01\n"
    "started: 2025-11-01\n"
    "last_reviewed: 2025-11-09\n"
    "due: 2025-12-31\n"
    "---\n"
    "# Learn Rust\n"
    "...\n";

/* The file of SPEC §2, field by field. */
static void
test_ef_parse_spec_example(void **state)
{
	struct es_entity e;

	(void)state;
	parse_ok(spec_example, ES_KIND_PROJECT, &e);
	assert_int_equal(e.kind, ES_KIND_PROJECT);
	assert_string_equal(e.area, "Learning");
	assert_string_equal(e.title, "Learn Rust");
	assert_string_equal(e.slug, "learn-rust");
	assert_int_equal(e.folder, ES_FOLDER_ACTIVE);
	assert_int_equal(e.type, ES_PTYPE_STANDARD);
	assert_int_equal(e.created, es_test_day("2025-11-01"));
	assert_int_equal(e.started, es_test_day("2025-11-01"));
	assert_int_equal(e.last_reviewed, es_test_day("2025-11-09"));
	assert_int_equal(e.due, es_test_day("2025-12-31"));
	assert_int_equal(e.completed, ES_DATE_NONE);
	assert_int_equal(e.descoped, ES_DATE_NONE);
	assert_bytes_equal(e.content, e.content_len, "# Learn Rust\n...\n", 17);
	assert_int_equal(e.extra->len, 5);	/* empty document */
	es_entity_release(&e);
}

/* SPEC 4.8: file -> entity -> file gives the same bytes for a canonical
 * file; these are canonical (render's own output). */
static void
test_ef_canonical_round_trip(void **state)
{
	static const struct {
		enum es_kind	 kind;
		const char	*file;
	} cases[] = {
		{ ES_KIND_PROJECT, spec_example },
		{ ES_KIND_PROJECT,
		    "---\narea: Personal Growth Systems\ntitle: \"Learn: Rust\"\n"
		    "type: coordination\ncompleted: 2025-01-02\n"
		    "descoped: 2025-01-03\n---\n" },
		{ ES_KIND_PROJECT,
		    "---\narea: learning\ntitle: \"#1 goal\"\ntype: habit\n"
		    "tags: [a, \"b, c\", {k: 1}]\nn: 3\nbig: 5000000000\n"
		    "f: 0.5\nok: false\nnone: null\ns: text\n"
		    "m: {x: [1, 2], y: {}}\n---\nno trailing newline" },
		{ ES_KIND_PROJECT,
		    "---\narea: Ünïcödé\ntitle: 日本語のタイトル ✓\ntype: goal\n"
		    "---\n" },
		{ ES_KIND_PROJECT, "---\narea: a\ntitle: \"yes\"\n---\n\n\n" },
		{ ES_KIND_PROJECT, "---\narea: a\ntitle: \"123\"\n---\nx\r\n" },
		{ ES_KIND_GOAL,
		    "---\ntitle: Run a marathon\ncreated: 2025-01-01\n"
		    "type: goal\ndue: 2026-04-01\n---\n# Goal\n" },
		{ ES_KIND_GOAL,
		    "---\narea: Health\ntitle: \"a\\nb\"\nlast_reviewed: "
		    "2025-06-01\n---\n" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_entity e;
		struct es_buf out = ES_BUF_INIT;

		parse_ok(cases[i].file, cases[i].kind, &e);
		es_entity_file_render(&e, &out);
		assert_bytes_equal(out.buf, out.len, cases[i].file,
		    strlen(cases[i].file));
		assert_int_equal(es_entity_file_check(&e, NULL), 0);
		/* And updating the file with what it means is a no-op. */
		assert_update(cases[i].file, &e, cases[i].file);
		es_buf_release(&out);
		es_entity_release(&e);
	}
}

/* Every error (SPEC 4.10): path, line, lower-case reason, value quoted. */
static void
test_ef_errors_table(void **state)
{
	static const struct {
		enum es_kind	 kind;
		const char	*file;
		const char	*want;
	} cases[] = {
		{ ES_KIND_PROJECT, "---\ntitle: x\ndue: 2025-13-01\n---\n",
		    REL_P ":3: bad date '2025-13-01' for 'due'" },
		{ ES_KIND_PROJECT, "---\ntitle: x\ncreated: 2025-1-1\n---\n",
		    REL_P ":3: bad date '2025-1-1' for 'created'" },
		{ ES_KIND_PROJECT,
		    "---\ntitle: x\nstarted: 2025-11-09T10:00:00\n---\n",
		    REL_P ":3: bad date '2025-11-09T10:00:00' for 'started'" },
		{ ES_KIND_PROJECT, "---\ntitle: x\nlast_reviewed: 5\n---\n",
		    REL_P ":3: bad date '5' for 'last_reviewed'" },
		{ ES_KIND_GOAL, "---\ntitle: x\n\nlast_reviewed: no\n---\n",
		    REL_G ":4: bad date 'no' for 'last_reviewed'" },
		{ ES_KIND_PROJECT, "---\ntitle: x\ntype: foo\n---\n",
		    REL_P ":3: unknown type 'foo' (want standard, coordination, "
		    "habit or goal)" },
		{ ES_KIND_PROJECT, "---\ntitle: x\ntype: Standard\n---\n",
		    REL_P ":3: unknown type 'Standard' (want standard, "
		    "coordination, habit or goal)" },
		{ ES_KIND_PROJECT, "---\narea: A\n---\nbody\n",
		    REL_P ": missing 'title'" },
		{ ES_KIND_PROJECT, "# no frontmatter\n",
		    REL_P ": missing 'title'" },
		{ ES_KIND_PROJECT, "---\narea: A\ntitle:\n---\n",
		    REL_P ":3: missing 'title'" },
		{ ES_KIND_PROJECT, "---\ntitle: [a, b]\n---\n",
		    REL_P ":2: 'title' must be a single value, not a list or "
		    "mapping" },
		{ ES_KIND_PROJECT, "---\ntitle: x\narea:\n  k: v\n---\n",
		    REL_P ":4: 'area' must be a single value, not a list or "
		    "mapping" },
		{ ES_KIND_PROJECT, "---\ntitle: x\n",
		    REL_P ":1: frontmatter is not closed" },
		{ ES_KIND_PROJECT, "---\ntitle: x\ntags: [[1]]\n---\n",
		    REL_P ":3: nested lists are not supported" },
		{ ES_KIND_PROJECT, "---\ntitle: x\nmeta.x: 1\n---\n",
		    REL_P ":3: key 'meta.x' contains '.' (MongoDB cannot store "
		    "it)" },
		{ ES_KIND_PROJECT, "---\ntitle: x\ntitle: y\n---\n",
		    REL_P ":3: duplicate key 'title'" },
		{ ES_KIND_PROJECT, "---\ntitle: &t x\n---\n",
		    REL_P ":2: YAML aliases are not supported" },
		{ ES_KIND_PROJECT, "---\ntitle: !!binary eA==\n---\n",
		    REL_P ":2: unsupported tag '!!binary' (only !!str)" },
		{ ES_KIND_PROJECT, "---\ntitle: x\n  bad: : y\n---\n",
		    REL_P ":3: bad YAML: mapping values are not allowed in this "
		    "context" },
		{ ES_KIND_GOAL, "---\ntitle: x\ncreated: yesterday\n---\n",
		    REL_G ":3: bad date 'yesterday' for 'created'" },
		{ ES_KIND_GOAL, "---\ntype: goal\n- x\n---\n",
		    REL_G ":3: bad YAML: while parsing a block mapping did not "
		    "find expected key" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_entity e;
		struct es_error err;
		char line[1024];
		int rc;

		rc = parse_kind(cases[i].file, strlen(cases[i].file),
		    cases[i].kind, &e, &err);
		if (rc != -1)
			fail_msg("rc %d for:\n%s", rc, cases[i].file);
		assert_int_equal(err.code, ES_EPARSE);
		es_error_format(&err, line, sizeof(line));
		assert_string_equal(line, cases[i].want);
		/* out is left as initialised. */
		assert_null(e.title);
		assert_int_equal(e.content_len, 0);
		es_entity_release(&e);
	}
}

/* SPEC §2: a goal opens with frontmatter whose `type`, where present, is
 * goal; anything else under 30k-goals/ is supporting material (1). */
static void
test_ef_goal_classification(void **state)
{
	static const struct {
		const char	*file;
		int		 rc;
	} cases[] = {
		{ "# Goals summary\n\n- run\n", 1 },
		{ "", 1 },
		{ "---\ntype: note\ntitle: Not a goal\n---\n", 1 },
		{ "---\ntype: [goal]\ntitle: x\n---\n", 1 },
		{ "---\ntype:\ntitle: x\n---\n", 1 },
		{ "---\ntype: Goal\ntitle: x\n---\n", 1 },
		{ "---\ntype: note\ncreated: not a date\n---\n", 1 },
		{ "---\n\nA thematic break, not frontmatter.\n", 1 },
		{ "---\ntype: goal\ntitle: Run\n---\n", 0 },
		{ "---\ntype: \"goal\"\ntitle: Run\n---\n", 0 },
		{ "---\ntitle: Run\n---\n", 0 },
		{ "---\ntitle: Run\ntype: 'goal'\n---\n", 0 },
		{ "---\ntype: goal\n---\n", -1 },		/* no title */
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_entity e;
		struct es_error err;
		int rc = parse_kind(cases[i].file, strlen(cases[i].file),
		    ES_KIND_GOAL, &e, &err);

		if (rc != cases[i].rc)
			fail_msg("rc %d, want %d (%s) for:\n%s", rc,
			    cases[i].rc, err.msg, cases[i].file);
		if (rc == 0) {
			assert_string_equal(e.title, "Run");
			assert_string_equal(e.slug, "run");
			assert_null(e.area);
		}
		es_entity_release(&e);
	}
}

/*
 * SPEC §2: unknown keys are kept, in the file and under extra in file
 * order; the goal's `type: goal` and `due` are extra too.
 */
static void
test_ef_extra_round_trip(void **state)
{
	static const char file[] =
	    "---\n"
	    "title: Extra\n"
	    "tags:\n"
	    "  - a\n"
	    "  - 2\n"
	    "meta:\n"
	    "  nested: {x: true}\n"
	    "  list: [1.5, null]\n"
	    "count: 12\n"
	    "flag: yes\n"
	    "empty:\n"
	    "text: |\n"
	    "  two\n"
	    "  lines\n"
	    "---\n"
	    "Body";
	struct es_entity e, back;
	struct es_buf out = ES_BUF_INIT;

	(void)state;
	parse_ok(file, ES_KIND_PROJECT, &e);
	assert_string_equal(e.area, "learning");	/* from the folder */
	assert_extra_json(&e, "{ \"tags\" : [ \"a\", 2 ], \"meta\" : { "
	    "\"nested\" : { \"x\" : true }, \"list\" : [ 1.5, null ] }, "
	    "\"count\" : 12, \"flag\" : \"yes\", \"empty\" : null, "
	    "\"text\" : \"two\\nlines\\n\" }");
	es_entity_file_render(&e, &out);
	assert_string_equal(out.buf,
	    "---\n"
	    "area: learning\n"
	    "title: Extra\n"
	    "tags: [a, 2]\n"
	    "meta: {nested: {x: true}, list: [1.5, null]}\n"
	    "count: 12\n"
	    "flag: \"yes\"\n"
	    "empty: null\n"
	    "text: \"two\\nlines\\n\"\n"
	    "---\n"
	    "Body");
	parse_ok(out.buf, ES_KIND_PROJECT, &back);
	assert_int_equal(es_entity_diff(&e, &back), 0);
	assert_true(es_entity_fingerprint(&e) == es_entity_fingerprint(&back));
	es_entity_release(&back);

	/* A goal keeps type and due under extra. */
	es_entity_release(&e);
	parse_ok("---\ntype: goal\ntitle: G\ndue: 2026-04-01\n---\n",
	    ES_KIND_GOAL, &e);
	assert_int_equal(e.due, ES_DATE_NONE);
	assert_extra_json(&e, "{ \"type\" : \"goal\", \"due\" : \"2026-04-01\" }");
	es_buf_release(&out);
	es_entity_release(&e);
}

/* Titles that need quotes stay the same string through render and parse. */
static void
test_ef_titles_needing_quotes(void **state)
{
	static const struct {
		const char	*title;
		const char	*line;
	} cases[] = {
		{ "Learn: Rust", "title: \"Learn: Rust\"\n" },
		{ "#1 goal", "title: \"#1 goal\"\n" },
		{ "yes", "title: \"yes\"\n" },
		{ "123", "title: \"123\"\n" },
		{ "2025", "title: \"2025\"\n" },
		{ "null", "title: \"null\"\n" },
		{ "", "title: \"\"\n" },
		{ "- dash", "title: \"- dash\"\n" },
		{ "[draft] plan", "title: \"[draft] plan\"\n" },
		{ "Ünïcödé ✓ 日本", "title: Ünïcödé ✓ 日本\n" },
		{ "it's fine", "title: it's fine\n" },
		{ "two\nlines", "title: \"two\\nlines\"\n" },
		{ " padded ", "title: \" padded \"\n" },
		{ "DE Shaw TPM Role", "title: DE Shaw TPM Role\n" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_entity e, back;
		struct es_buf out = ES_BUF_INIT;

		es_entity_init(&e, ES_KIND_PROJECT);
		e.title = strdup(cases[i].title);
		e.area = strdup("Learning");
		e.slug = strdup("learn-rust");
		e.folder = ES_FOLDER_ACTIVE;
		es_entity_file_render(&e, &out);
		if (strstr(out.buf, cases[i].line) == NULL)
			fail_msg("'%s' rendered as:\n%s", cases[i].title,
			    out.buf);
		parse_ok(out.buf, ES_KIND_PROJECT, &back);
		assert_string_equal(back.title, cases[i].title);
		assert_true(es_entity_fingerprint(&e) ==
		    es_entity_fingerprint(&back));
		es_entity_release(&back);
		es_entity_release(&e);
		es_buf_release(&out);
	}
	/* A plain 2025 in a file is the string "2025". */
	{
		struct es_entity e;

		parse_ok("---\ntitle: 2025\narea: 12\n---\n", ES_KIND_PROJECT,
		    &e);
		assert_string_equal(e.title, "2025");
		assert_string_equal(e.area, "12");
		es_entity_release(&e);
	}
}

static const char odd_file[] =
    "---\n"
    "# keep this comment\n"
    "title:   'Learn Rust'   # quoted on purpose\n"
    "custom: {b: 2, a: 1}\n"
    "due: \"2025-12-31\"\n"
    "area: Learning\n"
    "created: 2025-11-01\n"
    "\n"
    "# notes below\n"
    "---\n"
    "# Learn Rust\n";

/* SPEC §2 and 4.8: only the changed key's line is rewritten; comments,
 * quoting, unknown keys and key order stay. */
static void
test_ef_update_only_changed_lines(void **state)
{
	struct es_entity e;

	(void)state;
	parse_ok(odd_file, ES_KIND_PROJECT, &e);
	assert_update(odd_file, &e, odd_file);		/* same meaning */
	e.due = es_test_day("2026-01-31");
	assert_update(odd_file, &e,
	    "---\n"
	    "# keep this comment\n"
	    "title:   'Learn Rust'   # quoted on purpose\n"
	    "custom: {b: 2, a: 1}\n"
	    "due: 2026-01-31\n"
	    "area: Learning\n"
	    "created: 2025-11-01\n"
	    "\n"
	    "# notes below\n"
	    "---\n"
	    "# Learn Rust\n");
	free(e.title);
	e.title = strdup("Learn: Rust");
	es_entity_set_content(&e, "new\n", 4);
	assert_update(odd_file, &e,
	    "---\n"
	    "# keep this comment\n"
	    "title: \"Learn: Rust\"\n"
	    "custom: {b: 2, a: 1}\n"
	    "due: 2026-01-31\n"
	    "area: Learning\n"
	    "created: 2025-11-01\n"
	    "\n"
	    "# notes below\n"
	    "---\n"
	    "new\n");
	es_entity_release(&e);
}

/* A missing key goes to its place in the canonical order (SPEC §2). */
static void
test_ef_update_insert_canonical_place(void **state)
{
	struct es_entity e;
	bson_t *extra;

	(void)state;
	parse_ok(odd_file, ES_KIND_PROJECT, &e);
	e.type = ES_PTYPE_HABIT;		/* after title */
	e.started = es_test_day("2025-11-02");	/* after created */
	e.completed = es_test_day("2025-12-01");	/* after due */
	extra = bson_new();
	bson_concat(extra, e.extra);
	BSON_APPEND_UTF8(extra, "z_new", "v");	/* after custom */
	bson_destroy(e.extra);
	e.extra = extra;
	assert_update(odd_file, &e,
	    "---\n"
	    "# keep this comment\n"
	    "title:   'Learn Rust'   # quoted on purpose\n"
	    "type: habit\n"
	    "custom: {b: 2, a: 1}\n"
	    "z_new: v\n"
	    "due: \"2025-12-31\"\n"
	    "completed: 2025-12-01\n"
	    "area: Learning\n"
	    "created: 2025-11-01\n"
	    "started: 2025-11-02\n"
	    "\n"
	    "# notes below\n"
	    "---\n"
	    "# Learn Rust\n");
	es_entity_release(&e);

	/* Area first when nothing precedes it; into an empty frontmatter;
	 * into a file that had none. */
	parse_ok("---\ntitle: x\n---\n", ES_KIND_PROJECT, &e);
	free(e.area);
	e.area = strdup("Health");
	assert_update("---\ntitle: x\n---\n", &e,
	    "---\narea: Health\ntitle: x\n---\n");
	assert_update("---\n---\nbody\n", &e,
	    "---\narea: Health\ntitle: x\n---\n");
	es_entity_set_content(&e, "# Notes\n", 8);
	assert_update("# Notes\n", &e, "---\narea: Health\ntitle: x\n---\n# Notes\n");
	es_entity_release(&e);
}

/* A key that became empty loses its lines; unknown keys e lacks go. */
static void
test_ef_update_remove(void **state)
{
	static const char file[] =
	    "---\n"
	    "title: x\n"
	    "due: 2025-01-01   # deadline\n"
	    "tags:\n"
	    "  - a\n"
	    "  - b\n"
	    "keep: 1\n"
	    "---\n";
	struct es_entity e;
	bson_t *extra;

	(void)state;
	parse_ok(file, ES_KIND_PROJECT, &e);
	e.due = ES_DATE_NONE;
	extra = bson_new();
	BSON_APPEND_INT32(extra, "keep", 1);
	bson_destroy(e.extra);
	e.extra = extra;
	assert_update(file, &e, "---\ntitle: x\nkeep: 1\n---\n");
	es_entity_release(&e);
}

/* SPEC §2: BOM and CRLF are kept; new lines get CRLF; bodies are bytes. */
static void
test_ef_update_bom_crlf(void **state)
{
	static const char file[] =
	    "\xef\xbb\xbf---\r\n"
	    "title: Win\r\n"
	    "due: 2025-01-01\r\n"
	    "---\r\n"
	    "line one\r\n"
	    "line two";
	struct es_entity e;

	(void)state;
	parse_ok(file, ES_KIND_PROJECT, &e);
	assert_bytes_equal(e.content, e.content_len, "line one\r\nline two", 18);
	assert_update(file, &e, file);
	e.due = es_test_day("2025-02-01");
	e.created = es_test_day("2024-12-01");
	assert_update(file, &e,
	    "\xef\xbb\xbf---\r\n"
	    "title: Win\r\n"
	    "created: 2024-12-01\r\n"
	    "due: 2025-02-01\r\n"
	    "---\r\n"
	    "line one\r\n"
	    "line two");
	es_entity_release(&e);
}

/* Empty body, body without a final newline, "..." as the closing line. */
static void
test_ef_body_edge_cases(void **state)
{
	static const struct {
		const char	*file;
		const char	*body;
	} cases[] = {
		{ "---\ntitle: x\n---\n", "" },
		{ "---\ntitle: x\n---", "" },
		{ "---\ntitle: x\n---\nno newline", "no newline" },
		{ "---\ntitle: x\n...\nbody\n", "body\n" },
		{ "---\ntitle: x\n---\n---\nnot frontmatter\n---\n",
		    "---\nnot frontmatter\n---\n" },
		{ "---\ntitle: x\n---\n\0nul\n", "\0nul\n" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_entity e;
		struct es_error err;
		size_t flen = strlen(cases[i].file), blen = strlen(cases[i].body);
		struct es_buf out = ES_BUF_INIT;

		if (i == NELEM(cases) - 1) {
			flen += 5;
			blen = 5;
		}
		assert_int_equal(parse_kind(cases[i].file, flen,
		    ES_KIND_PROJECT, &e, &err), 0);
		assert_bytes_equal(e.content, e.content_len, cases[i].body,
		    blen);
		assert_int_equal(es_entity_file_update(cases[i].file, flen,
		    REL_P, &e, &out, &err), 0);
		assert_bytes_equal(out.buf, out.len, cases[i].file, flen);
		es_buf_reset(&out);
		/* A body added after a closing line at the end of file. */
		es_entity_set_content(&e, "added\n", 6);
		assert_int_equal(es_entity_file_update(cases[i].file, flen,
		    REL_P, &e, &out, &err), 0);
		assert_true(out.len > 6 &&
		    memcmp(out.buf + out.len - 7, "\nadded\n", 7) == 0);
		es_buf_release(&out);
		es_entity_release(&e);
	}
}

/* SPEC 4.8: a reformatted file that means the same has the same
 * fingerprint; canonical render -> parse -> fingerprint is stable. */
static void
test_ef_fingerprint_reformatted(void **state)
{
	static const char *const same[] = {
		"---\narea: Learning\ntitle: Learn Rust\ntype: standard\n"
		"due: 2025-12-31\ntags: [a, b]\n---\nBody\n",
		"---\n# comment\ndue: '2025-12-31'\ntitle: \"Learn Rust\"\n"
		"type: \"standard\"\narea: 'Learning'\ntags:\n  - a\n  - \"b\"\n"
		"---\nBody\n",
		"---\n\ntitle:    Learn Rust   # c\ntype: standard\n"
		"area: Learning\nstarted: ~\ntags: [\"a\", 'b']\n"
		"due: !!str 2025-12-31\ncompleted: \"\"\n...\nBody\n",
	};
	struct es_entity e;
	struct es_buf out = ES_BUF_INIT;
	es_fp_t fp = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(same); i++) {
		parse_ok(same[i], ES_KIND_PROJECT, &e);
		if (i == 0)
			fp = es_entity_fingerprint(&e);
		else if (es_entity_fingerprint(&e) != fp)
			fail_msg("different fingerprint for:\n%s", same[i]);
		es_entity_release(&e);
	}
	/* A different meaning: a different fingerprint. */
	parse_ok("---\narea: Learning\ntitle: Learn Rust\ntype: standard\n"
	    "due: 2025-12-31\ntags: [b, a]\n---\nBody\n", ES_KIND_PROJECT, &e);
	assert_true(es_entity_fingerprint(&e) != fp);
	es_entity_release(&e);

	parse_ok(same[1], ES_KIND_PROJECT, &e);
	es_entity_file_render(&e, &out);
	es_entity_release(&e);
	parse_ok(out.buf, ES_KIND_PROJECT, &e);
	assert_true(es_entity_fingerprint(&e) == fp);
	es_entity_release(&e);
	es_buf_release(&out);
}

/* Extra keys out of e's order move with their lines; values kept. */
static void
test_ef_update_extra_order(void **state)
{
	static const char file[] =
	    "---\n"
	    "title: x\n"
	    "b: 2   # bee\n"
	    "a:\n"
	    "  - 1\n"
	    "c: 3\n"
	    "---\n";
	struct es_entity e, back;
	struct es_buf out = ES_BUF_INIT;
	struct es_error err;
	bson_t *extra;

	(void)state;
	parse_ok(file, ES_KIND_PROJECT, &e);
	extra = bson_new_from_json((const uint8_t *)
	    "{\"a\": [1], \"b\": 2, \"c\": 4}", -1, NULL);
	bson_destroy(e.extra);
	e.extra = extra;
	assert_int_equal(es_entity_file_update(file, sizeof(file) - 1, REL_P,
	    &e, &out, &err), 0);
	assert_string_equal(out.buf,
	    "---\n"
	    "title: x\n"
	    "a:\n"
	    "  - 1\n"
	    "b: 2   # bee\n"
	    "c: 4\n"
	    "---\n");
	parse_ok(out.buf, ES_KIND_PROJECT, &back);
	assert_int_equal(es_entity_diff(&e, &back), 0);
	es_entity_release(&back);
	es_entity_release(&e);
	es_buf_release(&out);
}

/* A project without an area key takes its folder's name, and keeps it
 * absent on update; a changed area is written. */
static void
test_ef_project_area_from_folder(void **state)
{
	static const char file[] = "---\ntitle: x\n---\n";
	struct es_entity e;

	(void)state;
	parse_ok(file, ES_KIND_PROJECT, &e);
	assert_string_equal(e.area, "learning");
	assert_update(file, &e, file);
	free(e.area);
	e.area = strdup("Learning");
	assert_update(file, &e, "---\narea: Learning\ntitle: x\n---\n");
	es_entity_release(&e);
}

/* What a file cannot hold is reported by check, refused by update and
 * still written (as a string) by render: nothing vanishes. */
static void
test_ef_check_unsupported_extra(void **state)
{
	static const struct {
		const char	*json;
		const char	*msg;
	} cases[] = {
		{ "{\"oid\": {\"$oid\": \"0123456789abcdef01234567\"}}",
		    "unsupported value type in extra.oid" },
		{ "{\"a.b\": 1}", "key extra.a.b contains '.'" },
		{ "{\"$x\": 1}", "key extra.$x starts with '$'" },
		{ "{\"title\": \"dup\"}",
		    "key extra.title has the name of a field" },
		{ "{\"l\": [[1]]}",
		    "nested lists are not supported in extra.l.0" },
		{ "{\"m\": {\"k.x\": 1}}", "key extra.m.k.x contains '.'" },
		{ "{\"s\": \"a\\u0000b\"}", "NUL byte in extra.s" },
		{ "{\"d\": {\"$numberDouble\": \"NaN\"}}",
		    "infinite or NaN number in extra.d" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_entity e;
		struct es_buf out = ES_BUF_INIT;
		struct es_error err;
		bson_error_t berr;

		parse_ok("---\ntitle: x\n---\n", ES_KIND_PROJECT, &e);
		bson_destroy(e.extra);
		e.extra = bson_new_from_json((const uint8_t *)cases[i].json, -1,
		    &berr);
		if (e.extra == NULL)
			fail_msg("%s: %s", cases[i].json, berr.message);
		es_error_clear(&err);
		assert_int_equal(es_entity_file_check(&e, &err), -1);
		assert_string_equal(err.msg, cases[i].msg);
		es_error_clear(&err);
		assert_int_equal(es_entity_file_update("---\ntitle: x\n---\n",
		    17, REL_P, &e, &out, &err), -1);
		assert_string_equal(err.msg, cases[i].msg);
		assert_string_equal(err.path, REL_P);
		assert_int_equal(out.len, 0);
		es_entity_file_render(&e, &out);
		assert_true(out.len > 0);
		es_buf_release(&out);
		es_entity_release(&e);
	}
	/* The ObjectId is written as its extended JSON, not dropped. */
	{
		struct es_entity e;
		struct es_buf out = ES_BUF_INIT;

		parse_ok("---\ntitle: x\n---\n", ES_KIND_PROJECT, &e);
		bson_destroy(e.extra);
		e.extra = bson_new_from_json((const uint8_t *)cases[0].json,
		    -1, NULL);
		es_entity_file_render(&e, &out);
		assert_non_null(strstr(out.buf,
		    "oid: \"{ \\\"v\\\" : { \\\"$oid\\\" : "
		    "\\\"0123456789abcdef01234567\\\" } }\"\n"));
		es_buf_release(&out);
		es_entity_release(&e);
	}
	/* A title that is not UTF-8 could not be read back. */
	{
		struct es_entity e;
		struct es_error err;

		parse_ok("---\ntitle: x\n---\n", ES_KIND_PROJECT, &e);
		free(e.title);
		e.title = strdup("bad \xff");
		assert_int_equal(es_entity_file_check(&e, &err), -1);
		assert_string_equal(err.msg, "invalid UTF-8 in title");
		free(e.title);
		e.title = NULL;
		assert_int_equal(es_entity_file_check(&e, &err), -1);
		assert_string_equal(err.msg, "missing 'title'");
		es_entity_release(&e);
	}
}

/* The deepest nesting a file may hold passes every stage; one more level
 * is refused at parse, with its line. */
static void
test_ef_nesting_limit(void **state)
{
	struct es_buf f = ES_BUF_INIT, out = ES_BUF_INIT;
	struct es_entity e, back;
	struct es_error err;

	(void)state;
	for (int depth = ES_YAML_DEPTH_MAX - 1; depth <= ES_YAML_DEPTH_MAX;
	    depth++) {
		es_buf_reset(&f);
		es_buf_addstr(&f, "---\ntitle: x\n\nk: ");
		for (int i = 0; i < depth; i++)
			es_buf_addstr(&f, "{a: ");
		es_buf_addch(&f, '1');
		for (int i = 0; i < depth; i++)
			es_buf_addch(&f, '}');
		es_buf_addstr(&f, "\n---\n");
		if (depth == ES_YAML_DEPTH_MAX) {
			assert_int_equal(parse_kind(f.buf, f.len,
			    ES_KIND_PROJECT, &e, &err), -1);
			assert_string_equal(err.msg, "values nested too deep");
			assert_int_equal(err.line, 4);
			es_entity_release(&e);
			continue;
		}
		parse_ok(f.buf, ES_KIND_PROJECT, &e);
		assert_int_equal(es_entity_file_check(&e, &err), 0);
		es_buf_reset(&out);
		es_entity_file_render(&e, &out);
		parse_ok(out.buf, ES_KIND_PROJECT, &back);
		assert_int_equal(es_entity_diff(&e, &back), 0);
		es_entity_release(&back);
		es_entity_release(&e);
	}
	es_buf_release(&f);
	es_buf_release(&out);
}

/* DB -> file: a goal from the database gets the canonical goal keys. */
static void
test_ef_render_goal_from_db(void **state)
{
	struct es_entity e;
	struct es_buf out = ES_BUF_INIT;

	(void)state;
	es_entity_init(&e, ES_KIND_GOAL);
	e.title = strdup("Run a marathon");
	e.slug = strdup("run");
	e.folder = ES_FOLDER_INCUBATOR;
	e.created = es_test_day("2025-01-01");
	e.last_reviewed = es_test_day("2025-06-01");
	/* Not a goal field: not written. */
	e.due = es_test_day("2030-01-01");
	BSON_APPEND_UTF8(e.extra, "type", "goal");
	BSON_APPEND_DATE_TIME(e.extra, "target", 1762646400000LL);
	es_entity_set_content(&e, "# Why\n", 6);
	es_entity_file_render(&e, &out);
	assert_string_equal(out.buf,
	    "---\n"
	    "title: Run a marathon\n"
	    "created: 2025-01-01\n"
	    "last_reviewed: 2025-06-01\n"
	    "type: goal\n"
	    "target: 2025-11-09\n"
	    "---\n"
	    "# Why\n");
	es_buf_release(&out);
	es_entity_release(&e);
}

/* The keys of test_ef_many_keys(); edited: k12345 gone, k31234 changed,
 * "added" after k40000. */
static void
many_extra(struct es_buf *b, size_t n, bool edited)
{
	es_buf_addstr(b, "---\ntitle: Many\narea: Café\n");
	for (size_t i = 0; i < n; i++) {
		if (edited && i == 12345)
			continue;
		if (edited && i == 31234)
			es_buf_addstr(b, "k31234: new\n");
		else
			es_buf_addf(b, i % 2 ? "k%05zu: é %zu\n" :
			    "k%05zu: %zu\n", i, i);
		if (edited && i == 40000)
			es_buf_addstr(b, "added: 1\n");
	}
}

/* A project of 50,000 extra keys (issue 19): every key in extra, in file
 * order; written back with minimal edits; a duplicate near the end
 * reported at its line. */
static void
test_ef_many_keys(void **state)
{
	enum { N = 50000 };
	struct es_buf in = ES_BUF_INIT, want = ES_BUF_INIT;
	struct es_entity e;
	struct es_error err;
	bson_iter_t it;
	bson_t *extra;
	char msg[128];
	size_t mark;

	(void)state;
	many_extra(&in, N, false);
	mark = in.len;
	es_buf_addstr(&in, "---\nbody\n");
	if (parse_kind(in.buf, in.len, ES_KIND_PROJECT, &e, &err) != 0)
		fail_msg("%u: %s", err.line, err.msg);
	assert_string_equal(e.title, "Many");
	assert_string_equal(e.area, "Café");
	assert_int_equal(bson_count_keys(e.extra), N);
	assert_true(bson_iter_init(&it, e.extra) && bson_iter_next(&it));
	assert_string_equal(bson_iter_key(&it), "k00000");
	assert_true(bson_iter_init_find(&it, e.extra, "k31233"));
	assert_string_equal(bson_iter_utf8(&it, NULL), "é 31233");
	assert_true(bson_iter_next(&it));
	assert_string_equal(bson_iter_key(&it), "k31234");
	assert_int_equal(bson_iter_int32(&it), 31234);
	assert_string_equal(e.content, "body\n");

	/* Written back: as it was, then with the lines of one key gone, one
	 * changed and one new. */
	assert_update(in.buf, &e, in.buf);
	extra = bson_new();
	assert_true(bson_iter_init(&it, e.extra));
	while (bson_iter_next(&it)) {
		if (strcmp(bson_iter_key(&it), "k12345") == 0)
			continue;
		if (strcmp(bson_iter_key(&it), "k31234") == 0)
			BSON_APPEND_UTF8(extra, "k31234", "new");
		else
			bson_append_iter(extra, NULL, 0, &it);
		if (strcmp(bson_iter_key(&it), "k40000") == 0)
			BSON_APPEND_INT32(extra, "added", 1);
	}
	bson_destroy(e.extra);
	e.extra = extra;
	many_extra(&want, N, true);
	es_buf_addstr(&want, "---\nbody\n");
	assert_update(in.buf, &e, want.buf);
	es_entity_release(&e);

	es_buf_setlen(&in, mark);
	es_buf_addstr(&in, "k49997: again\n---\n");
	assert_int_equal(parse_kind(in.buf, in.len, ES_KIND_PROJECT, &e, &err),
	    -1);
	es_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, REL_P ":50004: duplicate key 'k49997'");
	es_entity_release(&e);
	es_buf_release(&in);
	es_buf_release(&want);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_ef_parse_spec_example),
	cmocka_unit_test(test_ef_canonical_round_trip),
	cmocka_unit_test(test_ef_errors_table),
	cmocka_unit_test(test_ef_goal_classification),
	cmocka_unit_test(test_ef_extra_round_trip),
	cmocka_unit_test(test_ef_titles_needing_quotes),
	cmocka_unit_test(test_ef_update_only_changed_lines),
	cmocka_unit_test(test_ef_update_insert_canonical_place),
	cmocka_unit_test(test_ef_update_remove),
	cmocka_unit_test(test_ef_update_bom_crlf),
	cmocka_unit_test(test_ef_body_edge_cases),
	cmocka_unit_test(test_ef_fingerprint_reformatted),
	cmocka_unit_test(test_ef_update_extra_order),
	cmocka_unit_test(test_ef_project_area_from_folder),
	cmocka_unit_test(test_ef_check_unsupported_extra),
	cmocka_unit_test(test_ef_render_goal_from_db),
	cmocka_unit_test(test_ef_nesting_limit),
	cmocka_unit_test(test_ef_many_keys),
};

ES_TEST_MAIN(tests)
