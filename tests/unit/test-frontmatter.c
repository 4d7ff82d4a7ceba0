/*
 * Frontmatter (SPEC §2 "Project and goal files"): splitting, key spans,
 * errors with file line numbers, and minimal line edits that keep every
 * other byte.
 */
#include "es-test.h"

#include <stdio.h>
#include <stdlib.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/frontmatter.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct es_frontmatter *
parse_ok(const char *s, size_t len)
{
	struct es_frontmatter *fm;
	struct es_error err;

	es_error_clear(&err);
	fm = es_frontmatter_parse(s, len, "f.md", &err);
	if (fm == NULL)
		fail_msg("does not parse (%u: %s):\n%s", err.line, err.msg, s);
	return fm;
}

static void
assert_render(const struct es_frontmatter *fm, const char *want)
{
	struct es_buf b = ES_BUF_INIT;

	es_frontmatter_render(fm, &b);
	assert_bytes_equal(b.buf, b.len, want, strlen(want));
	es_buf_release(&b);
}

/* The frontmatter/body split: BOM, CRLF, "...", where the body starts. */
static void
test_fm_split_table(void **state)
{
	static const struct {
		const char			*in;
		enum es_frontmatter_shape	 shape;
		bool				 bom, crlf;
		size_t				 nkeys;
		const char			*body;
	} cases[] = {
		{ "---\ntitle: x\n---\nbody\n", ES_FM_CLOSED, false, false, 1,
		    "body\n" },
		{ "---\r\ntitle: x\r\n---\r\nbody\r\n", ES_FM_CLOSED, false,
		    true, 1, "body\r\n" },
		{ "\xef\xbb\xbf---\ntitle: x\n---\n", ES_FM_CLOSED, true, false,
		    1, "" },
		{ "---\ntitle: x\n...\nbody", ES_FM_CLOSED, false, false, 1,
		    "body" },
		{ "---\ntitle: x\n...\r\nbody", ES_FM_CLOSED, false, false, 1,
		    "body" },
		{ "---\ntitle: x\n---", ES_FM_CLOSED, false, false, 1, "" },
		{ "---\n---\n", ES_FM_CLOSED, false, false, 0, "" },
		{ "---\n---\n---\n", ES_FM_CLOSED, false, false, 0, "---\n" },
		{ "---\n# a comment\n\n---\nb", ES_FM_CLOSED, false, false, 0,
		    "b" },
		{ "---\ntitle: x\n  ----\n---\n\n", ES_FM_CLOSED, false, false,
		    1, "\n" },
		{ "no frontmatter\n---\n", ES_FM_NONE, false, false, 0,
		    "no frontmatter\n---\n" },
		{ "--- \ntitle: x\n---\n", ES_FM_NONE, false, false, 0,
		    "--- \ntitle: x\n---\n" },
		{ "\xef\xbb\xbfno fm\r\n", ES_FM_NONE, true, true, 0,
		    "no fm\r\n" },
		{ "", ES_FM_NONE, false, false, 0, "" },
		{ "---\ntitle: x\n", ES_FM_UNCLOSED, false, false, 0, NULL },
		{ "---", ES_FM_UNCLOSED, false, false, 0, NULL },
		{ "---\ntitle: x\n--- \n", ES_FM_UNCLOSED, false, false, 0,
		    NULL },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *in = cases[i].in;
		size_t len = strlen(in), blen;
		struct es_frontmatter *fm;
		const char *body;

		if (es_frontmatter_shape(in, len) != cases[i].shape)
			fail_msg("'%s': shape %d", in,
			    es_frontmatter_shape(in, len));
		if (cases[i].body == NULL)
			continue;
		fm = parse_ok(in, len);
		assert_int_equal(es_frontmatter_present(fm),
		    cases[i].shape == ES_FM_CLOSED);
		assert_int_equal(es_frontmatter_has_bom(fm), cases[i].bom);
		assert_int_equal(es_frontmatter_is_crlf(fm), cases[i].crlf);
		assert_int_equal(es_frontmatter_nkeys(fm), cases[i].nkeys);
		body = es_frontmatter_body(fm, &blen);
		assert_bytes_equal(body, blen, cases[i].body,
		    strlen(cases[i].body));
		/* Without edits, render is the input exactly. */
		assert_render(fm, in);
		es_frontmatter_free(fm);
	}
}

/* Each key's lines: values over several lines, comments between keys. */
static void
test_fm_key_spans(void **state)
{
	static const char in[] =
	    "---\n"			/* 1 */
	    "# leading comment\n"	/* 2 */
	    "title: One\n"		/* 3 */
	    "multi: first\n"		/* 4 */
	    "  continued\n"		/* 5 */
	    "# between\n"		/* 6 */
	    "block: |\n"		/* 7 */
	    "  a\n"			/* 8 */
	    "\n"			/* 9 */
	    "  b\n"			/* 10 */
	    "\n"			/* 11 */
	    "list:\n"			/* 12 */
	    "  - x\n"			/* 13 */
	    "  # inside\n"		/* 14 */
	    "  - y\n"			/* 15 */
	    "# after list\n"		/* 16 */
	    "? explicit\n"		/* 17 */
	    ": value\n"			/* 18 */
	    "flow: [1,\n"		/* 19 */
	    "  2]   # trailing\n"	/* 20 */
	    "ünï: é\n"			/* 21 */
	    "last: \"quoted\n"		/* 22 */
	    "  on two lines\"\n"	/* 23 */
	    "---\n"
	    "body\n";
	static const struct {
		const char	*key;
		unsigned	 line, first, last;
	} want[] = {
		{ "title", 3, 3, 3 },
		{ "multi", 4, 4, 5 },
		{ "block", 7, 7, 11 },
		{ "list", 12, 12, 15 },
		{ "explicit", 17, 17, 18 },
		{ "flow", 19, 19, 20 },
		{ "ünï", 21, 21, 21 },
		{ "last", 22, 22, 23 },
	};
	struct es_frontmatter *fm;

	(void)state;
	fm = parse_ok(in, sizeof(in) - 1);
	assert_int_equal(es_frontmatter_nkeys(fm), NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		const struct es_frontmatter_key *k = es_frontmatter_key(fm, i);

		assert_string_equal(k->name, want[i].key);
		if (k->line != want[i].line || k->first != want[i].first ||
		    k->last != want[i].last)
			fail_msg("%s: line %u lines %u-%u, want %u %u-%u",
			    k->name, k->line, k->first, k->last, want[i].line,
			    want[i].first, want[i].last);
	}
	assert_string_equal(es_frontmatter_key(fm, 2)->value.str,
	    "a\n\nb\n");
	assert_int_equal(es_frontmatter_key(fm, 3)->value.kind,
	    ES_YAML_SEQUENCE);
	assert_int_equal(es_frontmatter_key(fm, 3)->value.items[1].line, 15);
	assert_string_equal(es_frontmatter_key(fm, 7)->value.str,
	    "quoted on two lines");
	assert_render(fm, in);
	es_frontmatter_free(fm);
}

/* Every error names the file's line (SPEC 4.10: "path:line: reason"). */
static void
test_fm_errors_table(void **state)
{
	static char longkey[300], deep[400];
	static const struct {
		const char	*in;
		size_t		 len;	/* 0: strlen */
		unsigned	 line;
		const char	*msg;
	} cases[] = {
		{ "---\ntitle: x\n", 0, 1, "frontmatter is not closed" },
		{ "---\na: 1\nb: 2\na: 3\n---\n", 0, 4, "duplicate key 'a'" },
		{ "---\na:\n  x: 1\n  x: 2\n---\n", 0, 4, "duplicate key 'x'" },
		{ "---\na: [{k: 1, k: 2}]\n---\n", 0, 2, "duplicate key 'k'" },
		/* The first key, in file order, that repeats an earlier one,
		 * before any error after it, after any error before it. */
		{ "---\nb: 1\na: 1\nb: 2\na: 2\n---\n", 0, 4,
		    "duplicate key 'b'" },
		{ "---\na: 1\nb: 1\na: 2\nb: 2\na: 3\n---\n", 0, 4,
		    "duplicate key 'a'" },
		{ "---\na: 1\na: *x\n---\n", 0, 3, "duplicate key 'a'" },
		{ "---\na: 1\na: 2\nb: *x\n---\n", 0, 3,
		    "duplicate key 'a'" },
		{ "---\na: *x\nb: 1\nb: 2\n---\n", 0, 2,
		    "YAML aliases are not supported" },
		{ "---\na: 1\na: 2\nbad: : y\n---\n", 0, 3,
		    "duplicate key 'a'" },
		{ "---\na: 1\na: [1,\n---\n", 0, 3, "duplicate key 'a'" },
		{ "---\na: 1\n*x : 2\na: 3\n---\n", 0, 3,
		    "YAML aliases are not supported" },
		{ "---\na: 1\nb:\n  x: 1\n  x: 2\na: 3\n---\n", 0, 5,
		    "duplicate key 'x'" },
		{ "---\na: 1\na:\n  x: 1\n  x: 2\n---\n", 0, 3,
		    "duplicate key 'a'" },
		{ "---\na:\n  x: 1\n  y: *z\n  x: 2\n---\n", 0, 4,
		    "YAML aliases are not supported" },
		{ "---\na: {x: 1, x: 2, y: *z}\n---\n", 0, 2,
		    "duplicate key 'x'" },
		{ "---\na: 1\n\"a\": 2\n---\n", 0, 3, "duplicate key 'a'" },
		{ "---\na: &x 1\nb: *x\n---\n", 0, 2,
		    "YAML aliases are not supported" },
		{ "---\na: 1\nb: *x\n---\n", 0, 3,
		    "YAML aliases are not supported" },
		{ "---\na: 1\nb: &anchor [1]\n---\n", 0, 3,
		    "YAML aliases are not supported" },
		{ "---\na: !!int 3\n---\n", 0, 2,
		    "unsupported tag '!!int' (only !!str)" },
		{ "---\na: !foo 3\n---\n", 0, 2,
		    "unsupported tag '!foo' (only !!str)" },
		{ "---\na: !!str [1]\n---\n", 0, 2,
		    "unsupported tag '!!str' (only !!str)" },
		{ "---\n!!map\na: 1\n---\n", 0, 2,
		    "unsupported tag '!!map' (only !!str)" },
		{ "---\n[a]: 1\n---\n", 0, 2,
		    "a key must be text, not a list or a mapping" },
		{ "---\nm:\n  {a: 1}: 2\n---\n", 0, 3,
		    "a key must be text, not a list or a mapping" },
		{ "---\n- a\n- b\n---\n", 0, 2,
		    "frontmatter is not a block mapping of keys" },
		{ "---\n# c\njust text\n---\n", 0, 3,
		    "frontmatter is not a block mapping of keys" },
		{ "---\n{a: 1}\n---\n", 0, 2,
		    "frontmatter is not a block mapping of keys" },
		{ "---\ntitle: x\n  bad: : y\n---\n", 0, 3,
		    "bad YAML: mapping values are not allowed in this context" },
		{ "---\ntitle: ünï ✓\narea: é\nbad: : y\n---\n", 0, 4,
		    "bad YAML: mapping values are not allowed in this context" },
		{ "---\na: \"x\\0y\"\n---\n", 0, 2, "NUL byte in value" },
		{ "---\n\"k\\0\": 1\n---\n", 0, 2, "NUL byte in key" },
		{ "---\na: 1\nb: x\0y\n---\n", 20, 3,
		    "bad YAML: control characters are not allowed" },
		{ "---\na: 1\nb: \xff\n---\n", 0, 3,
		    "bad YAML: invalid leading UTF-8 octet" },
		{ "---\na: 1\n--- \nb: 2\n---\n", 0, 3,
		    "frontmatter holds more than one YAML document" },
		{ "---\na: 1\n\xef\xbb\xbf" "b: 2\n---\n", 0, 3,
		    "byte order mark at the start of a line" },
		{ "---\na: \"x\"b: 2\n---\n", 0, 2,
		    "bad YAML: while parsing a block mapping did not find "
		    "expected key" },
		{ "---\na: \"x\"\rb: 2\n---\n", 0, 2,
		    "line break other than LF or CRLF (a lone CR, NEL, LS or "
		    "PS)" },
		{ "---\na: 1\nb: x\ry\n---\n", 0, 3,
		    "line break other than LF or CRLF (a lone CR, NEL, LS or "
		    "PS)" },
		{ "---\na: x\xe2\x80\xa8y\n---\n", 0, 2,
		    "line break other than LF or CRLF (a lone CR, NEL, LS or "
		    "PS)" },
		{ "---\na: 1\nb: x\xc2\x85\n---\n", 0, 3,
		    "line break other than LF or CRLF (a lone CR, NEL, LS or "
		    "PS)" },
		{ "---\na: [1,\n---\n", 0, 2,
		    "bad YAML: while parsing a flow node did not find "
		    "expected node content" },
		{ longkey, 0, 2, NULL },	/* key too long */
		{ deep, 0, 2, "values nested too deep" },
	};
	size_t n;

	(void)state;
	n = (size_t)snprintf(longkey, sizeof(longkey), "---\n");
	for (int i = 0; i < 201; i++)
		longkey[n++] = 'k';
	snprintf(longkey + n, sizeof(longkey) - n, ": 1\n---\n");
	n = (size_t)snprintf(deep, sizeof(deep), "---\nk: ");
	for (int i = 0; i < 70; i++)
		deep[n++] = '[';
	for (int i = 0; i < 70; i++)
		deep[n++] = ']';
	snprintf(deep + n, sizeof(deep) - n, "\n---\n");

	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *in = cases[i].in;
		size_t len = cases[i].len ? cases[i].len : strlen(in);
		struct es_frontmatter *fm;
		struct es_error err;
		char line[1024];

		es_error_clear(&err);
		fm = es_frontmatter_parse(in, len, "10k-projects/x.md", &err);
		if (fm != NULL)
			fail_msg("case %zu should fail:\n%s", i, in);
		assert_int_equal(err.code, ES_EPARSE);
		assert_string_equal(err.path, "10k-projects/x.md");
		if (err.line != cases[i].line)
			fail_msg("case %zu: line %u, want %u (%s)", i, err.line,
			    cases[i].line, err.msg);
		if (cases[i].msg)
			assert_string_equal(err.msg, cases[i].msg);
		else
			assert_non_null(strstr(err.msg, "key too long 'kkk"));
		es_error_format(&err, line, sizeof(line));
		assert_true(strncmp(line, "10k-projects/x.md:", 18) == 0);
	}
}

/* Accepted oddities render back byte for byte when nothing is edited. */
static void
test_fm_render_identity(void **state)
{
	static const char *const cases[] = {
		"---\ntitle: x\n---\n",
		"---\r\ntitle: x\r\n# c\r\n---\r\nbody\r\nmore",
		"\xef\xbb\xbf---\ntitle: x\n...\n",
		"---\n%YAML 1.1\n--- \ntitle: x\n... # end\n---\nb",
		"---\n  title: indented\n  area: A\n---\n",
		"---\nt: |+\n  keep\n\n\n---\n",
		"---\n\"quoted key\": 'single ''q'''\n---\n",
		"---\nempty:\nnull: ~\n---\n\n\n",
		"no frontmatter at all",
		"---\ntitle: x\n---",
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_frontmatter *fm = parse_ok(cases[i],
		    strlen(cases[i]));

		assert_false(es_frontmatter_edited(fm));
		assert_render(fm, cases[i]);
		es_frontmatter_free(fm);
	}
}

static const char odd[] =
    "---\n"
    "# Project notes: keep me\n"
    "title:   'Learn: Rust'    # odd spacing\n"
    "\"due\": 2025-12-31\n"
    "tags:\n"
    "  - a   # first\n"
    "  - b\n"
    "\n"
    "# trailing comment\n"
    "---\n"
    "body\n";

/* A replaced key's lines become one line; nothing else moves (SPEC §2). */
static void
test_fm_replace(void **state)
{
	struct es_frontmatter *fm;
	size_t i;

	(void)state;
	fm = parse_ok(odd, sizeof(odd) - 1);
	assert_true(es_frontmatter_find(fm, "due", 3, &i));
	es_frontmatter_replace(fm, i, "2026-01-15", 10);
	assert_true(es_frontmatter_find(fm, "tags", 4, &i));
	es_frontmatter_replace(fm, i, "[a, b, c]", 9);
	assert_true(es_frontmatter_edited(fm));
	assert_render(fm,
	    "---\n"
	    "# Project notes: keep me\n"
	    "title:   'Learn: Rust'    # odd spacing\n"
	    "due: 2026-01-15\n"
	    "tags: [a, b, c]\n"
	    "\n"
	    "# trailing comment\n"
	    "---\n"
	    "body\n");
	/* Spans follow the edit. */
	assert_int_equal(es_frontmatter_key(fm, 2)->first, 5);
	assert_int_equal(es_frontmatter_key(fm, 2)->last, 5);
	assert_int_equal(es_frontmatter_key(fm, 2)->value.kind, 0);
	es_frontmatter_free(fm);
}

static void
test_fm_remove(void **state)
{
	struct es_frontmatter *fm;
	size_t i;

	(void)state;
	fm = parse_ok(odd, sizeof(odd) - 1);
	assert_true(es_frontmatter_find(fm, "tags", 4, &i));
	es_frontmatter_remove(fm, i);
	assert_true(es_frontmatter_find(fm, "title", 5, &i));
	es_frontmatter_remove(fm, i);
	assert_int_equal(es_frontmatter_nkeys(fm), 1);
	assert_false(es_frontmatter_find(fm, "title", 5, &i));
	assert_render(fm,
	    "---\n"
	    "# Project notes: keep me\n"
	    "\"due\": 2025-12-31\n"
	    "\n"
	    "# trailing comment\n"
	    "---\n"
	    "body\n");
	assert_int_equal(es_frontmatter_key(fm, 0)->first, 3);
	es_frontmatter_free(fm);
}

/* Insert after, before, at the end; new lines take the anchor's indent. */
static void
test_fm_insert(void **state)
{
	static const char in[] =
	    "---\n"
	    "  # indented mapping\n"
	    "  title: x\n"
	    "  due: 2025-01-01\n"
	    "  # tail comment\n"
	    "---\n";
	struct es_frontmatter *fm;
	size_t i;

	(void)state;
	fm = parse_ok(in, sizeof(in) - 1);
	es_frontmatter_insert(fm, ES_FM_AFTER, 0, "type", 4, "standard", 8);
	assert_true(es_frontmatter_find(fm, "title", 5, &i));
	assert_int_equal(i, 0);
	es_frontmatter_insert(fm, ES_FM_BEFORE, 0, "area", 4, "Learning", 8);
	es_frontmatter_insert(fm, ES_FM_END, 0, "tags", 4, "[a]", 3);
	es_frontmatter_insert(fm, ES_FM_AFTER, 4, "key: odd", 8, "\"v\"", 3);
	assert_render(fm,
	    "---\n"
	    "  # indented mapping\n"
	    "  area: Learning\n"
	    "  title: x\n"
	    "  type: standard\n"
	    "  due: 2025-01-01\n"
	    "  # tail comment\n"
	    "  tags: [a]\n"
	    "  \"key: odd\": \"v\"\n"
	    "---\n");
	static const char *const order[] = { "area", "title", "type", "due",
	    "tags", "key: odd" };
	for (size_t k = 0; k < NELEM(order); k++) {
		assert_string_equal(es_frontmatter_key(fm, k)->name, order[k]);
		assert_int_equal(es_frontmatter_key(fm, k)->first,
		    k < 4 ? k + 3 : k + 4);
	}
	es_frontmatter_free(fm);
}

/* A key moves with its lines verbatim, comments included. */
static void
test_fm_move(void **state)
{
	static const char in[] =
	    "---\n"
	    "a: 1\n"
	    "b:\n"
	    "  - x   # keep\n"
	    "# free comment\n"
	    "c: 3\n"
	    "---\n";
	struct es_frontmatter *fm;

	(void)state;
	fm = parse_ok(in, sizeof(in) - 1);
	es_frontmatter_move(fm, 1, ES_FM_AFTER, 2);
	assert_render(fm,
	    "---\n"
	    "a: 1\n"
	    "# free comment\n"
	    "c: 3\n"
	    "b:\n"
	    "  - x   # keep\n"
	    "---\n");
	es_frontmatter_move(fm, 0, ES_FM_END, 0);
	es_frontmatter_move(fm, 1, ES_FM_BEFORE, 0);
	assert_render(fm,
	    "---\n"
	    "# free comment\n"
	    "b:\n"
	    "  - x   # keep\n"
	    "c: 3\n"
	    "a: 1\n"
	    "---\n");
	assert_string_equal(es_frontmatter_key(fm, 0)->name, "b");
	assert_int_equal(es_frontmatter_key(fm, 0)->first, 3);
	assert_int_equal(es_frontmatter_key(fm, 0)->last, 4);
	assert_string_equal(es_frontmatter_key(fm, 2)->name, "a");
	es_frontmatter_free(fm);
}

/* SPEC §2: line endings and a byte order mark are kept as the file had
 * them; new lines use the file's EOL. */
static void
test_fm_crlf_bom_edits(void **state)
{
	static const char in[] =
	    "\xef\xbb\xbf---\r\n"
	    "title: x\r\n"
	    "due: 2025-01-01\r\n"
	    "---";
	struct es_frontmatter *fm;

	(void)state;
	fm = parse_ok(in, sizeof(in) - 1);
	es_frontmatter_replace(fm, 1, "2025-02-02", 10);
	es_frontmatter_insert(fm, ES_FM_END, 0, "x", 1, "", 0);
	es_frontmatter_set_body(fm, "Body\r\n", 6);
	assert_render(fm,
	    "\xef\xbb\xbf---\r\n"
	    "title: x\r\n"
	    "due: 2025-02-02\r\n"
	    "x:\r\n"
	    "---\r\n"
	    "Body\r\n");
	es_frontmatter_free(fm);
}

/* A file without frontmatter gets "---" lines once it has keys. */
static void
test_fm_no_frontmatter_insert(void **state)
{
	struct es_frontmatter *fm;

	(void)state;
	fm = parse_ok("\xef\xbb\xbf# Notes\r\ntext", 16);
	assert_false(es_frontmatter_present(fm));
	es_frontmatter_insert(fm, ES_FM_END, 0, "title", 5, "Notes", 5);
	assert_render(fm,
	    "\xef\xbb\xbf---\r\ntitle: Notes\r\n---\r\n# Notes\r\ntext");
	es_frontmatter_free(fm);
}

/*
 * A blank line holding a tab is accepted by libyaml only after a plain
 * value: it goes with that key, so replacing or removing the key does not
 * leave it after a quoted value or at the top.
 */
static void
test_fm_tab_blank_lines(void **state)
{
	static const char in[] =
	    "---\n"
	    "a: plain\n"
	    " \t\n"
	    "\n"
	    "  \t # comment after a tab\n"
	    "\n"
	    "b: 1\n"
	    "---\n";
	struct es_frontmatter *fm, *back;
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;

	(void)state;
	fm = parse_ok(in, sizeof(in) - 1);
	assert_int_equal(es_frontmatter_key(fm, 0)->first, 2);
	assert_int_equal(es_frontmatter_key(fm, 0)->last, 5);
	es_frontmatter_replace(fm, 0, "\"quoted: now\"", 13);
	es_frontmatter_render(fm, &b);
	assert_string_equal(b.buf, "---\na: \"quoted: now\"\n\nb: 1\n---\n");
	back = es_frontmatter_parse(b.buf, b.len, "f.md", &err);
	assert_non_null(back);
	es_frontmatter_free(back);
	es_frontmatter_free(fm);

	fm = parse_ok(in, sizeof(in) - 1);
	es_frontmatter_remove(fm, 0);
	es_buf_reset(&b);
	es_frontmatter_render(fm, &b);
	assert_string_equal(b.buf, "---\n\nb: 1\n---\n");
	back = es_frontmatter_parse(b.buf, b.len, "f.md", &err);
	assert_non_null(back);
	es_frontmatter_free(back);
	es_frontmatter_free(fm);
	es_buf_release(&b);
}

/* Explicit keys with and without values: spans end where the key does,
 * not at the next key, where libyaml places an implied empty value. */
static void
test_fm_explicit_keys(void **state)
{
	static const char in[] =
	    "---\n"
	    "  ? a\n"
	    "  ? b\n"
	    "  :\n"
	    "  c:\n"
	    "  ? d\n"
	    "---\n";
	static const struct {
		const char	*key;
		unsigned	 first, last;
	} want[] = {
		{ "a", 2, 2 }, { "b", 3, 4 }, { "c", 5, 5 }, { "d", 6, 6 },
	};
	struct es_frontmatter *fm, *back;
	struct es_buf b = ES_BUF_INIT;

	(void)state;
	fm = parse_ok(in, sizeof(in) - 1);
	assert_int_equal(es_frontmatter_nkeys(fm), NELEM(want));
	for (size_t i = 0; i < NELEM(want); i++) {
		const struct es_frontmatter_key *k = es_frontmatter_key(fm, i);

		assert_string_equal(k->name, want[i].key);
		if (k->first != want[i].first || k->last != want[i].last)
			fail_msg("%s: lines %u-%u", k->name, k->first, k->last);
	}
	es_frontmatter_insert(fm, ES_FM_AFTER, 0, "x", 1, "1", 1);
	es_frontmatter_replace(fm, 2, "2", 1);
	es_frontmatter_insert(fm, ES_FM_AFTER, 4, "y", 1, "3", 1);
	es_frontmatter_render(fm, &b);
	assert_string_equal(b.buf,
	    "---\n  ? a\n  x: 1\n  b: 2\n  c:\n  ? d\n  y: 3\n---\n");
	back = parse_ok(b.buf, b.len);
	assert_int_equal(es_frontmatter_nkeys(back), 6);
	es_frontmatter_free(back);
	es_frontmatter_free(fm);
	es_buf_release(&b);
}

/* "... # end" closes the YAML document: keys appended go before it. */
static void
test_fm_insert_before_document_end(void **state)
{
	static const char in[] =
	    "---\n"
	    "--- # start\n"
	    "title: x\n"
	    "... # end\n"
	    "---\n";
	struct es_frontmatter *fm, *back;
	struct es_buf b = ES_BUF_INIT;

	(void)state;
	fm = parse_ok(in, sizeof(in) - 1);
	es_frontmatter_insert(fm, ES_FM_END, 0, "due", 3, "2025-01-01", 10);
	es_frontmatter_insert(fm, ES_FM_BEFORE, 0, "area", 4, "A", 1);
	es_frontmatter_render(fm, &b);
	assert_string_equal(b.buf,
	    "---\n"
	    "--- # start\n"
	    "area: A\n"
	    "title: x\n"
	    "due: 2025-01-01\n"
	    "... # end\n"
	    "---\n");
	back = parse_ok(b.buf, b.len);
	assert_int_equal(es_frontmatter_nkeys(back), 3);
	es_frontmatter_free(back);
	es_frontmatter_free(fm);
	es_buf_release(&b);
}

/*
 * A frontmatter of n keys "kNNNNN" after a title that is not ASCII, a
 * comment before every 100th key and a block scalar every 1000th. Key i's
 * file line goes in line[i], its last line in last[i].
 */
static void
many_keys(struct es_buf *b, size_t n, unsigned *line, unsigned *last)
{
	unsigned l = 3;

	es_buf_addstr(b, "---\ntitle: Café ✓\n");
	for (size_t i = 0; i < n; i++) {
		if (i % 100 == 0) {
			es_buf_addstr(b, "# every hundred\n");
			l++;
		}
		line[i] = l;
		if (i % 1000 == 999) {
			es_buf_addf(b, "k%05zu: |\n  é %zu\n  two\n", i, i);
			l += 3;
		} else {
			es_buf_addf(b, "k%05zu: é %zu\n", i, i);
			l++;
		}
		last[i] = l - 1;
	}
}

/* The keys of a mapping are checked at once, not each against all the
 * others: keys, lines, duplicates and edits of a large one (issue 19). */
static void
test_fm_many_keys(void **state)
{
	enum { N = 50000, NESTED = 20000 };
	static unsigned line[N], last[N];
	struct es_buf in = ES_BUF_INIT, want = ES_BUF_INIT, b = ES_BUF_INIT;
	struct es_frontmatter *fm;
	struct es_error err;
	const char *at, *eol;
	size_t mark;

	(void)state;
	many_keys(&in, N, line, last);
	mark = in.len;
	es_buf_addstr(&in, "---\nbody\n");
	fm = parse_ok(in.buf, in.len);
	assert_int_equal(es_frontmatter_nkeys(fm), N + 1);
	for (size_t i = 0; i < N; i++) {
		const struct es_frontmatter_key *k = es_frontmatter_key(fm,
		    i + 1);
		char name[16];

		snprintf(name, sizeof(name), "k%05zu", i);
		if (strcmp(k->name, name) != 0 || k->line != line[i] ||
		    k->first != line[i] || k->last != last[i])
			fail_msg("%s: line %u lines %u-%u, want %s %u %u-%u",
			    k->name, k->line, k->first, k->last, name, line[i],
			    line[i], last[i]);
	}
	assert_string_equal(es_frontmatter_key(fm, 1 + 31234)->value.str,
	    "é 31234");
	assert_string_equal(es_frontmatter_key(fm, 1 + 41999)->value.str,
	    "é 41999\ntwo\n");
	assert_int_equal(es_frontmatter_key(fm, 1 + 41999)->value.line,
	    line[41999]);

	/* An edit deep inside changes that line and no other. */
	at = strstr(in.buf, "\nk31234: ") + 1;
	eol = strchr(at, '\n') + 1;
	es_buf_add(&want, in.buf, (size_t)(at - in.buf));
	es_buf_addstr(&want, "k31234: new\n");
	es_buf_addstr(&want, eol);
	es_frontmatter_replace(fm, 1 + 31234, "new", 3);
	es_frontmatter_render(fm, &b);
	assert_bytes_equal(b.buf, b.len, want.buf, want.len);
	es_frontmatter_free(fm);

	/* A duplicate near the end is still found, at its line. */
	es_buf_setlen(&in, mark);
	es_buf_addstr(&in, "k49997: again\n---\n");
	es_error_clear(&err);
	assert_null(es_frontmatter_parse(in.buf, in.len, "f.md", &err));
	assert_int_equal(err.line, last[N - 1] + 1);
	assert_string_equal(err.msg, "duplicate key 'k49997'");

	/* And in a large mapping under one key, also before a later error. */
	es_buf_setlen(&in, mark);
	es_buf_addstr(&in, "nested:\n");
	for (size_t i = 0; i < NESTED; i++)
		es_buf_addf(&in, "  s%05zu: %zu\n", i, i);
	es_buf_addstr(&in, "  s19990: again\n  alias: *x\n---\n");
	es_error_clear(&err);
	assert_null(es_frontmatter_parse(in.buf, in.len, "f.md", &err));
	assert_int_equal(err.line, last[N - 1] + 1 + NESTED + 1);
	assert_string_equal(err.msg, "duplicate key 's19990'");

	es_buf_release(&in);
	es_buf_release(&want);
	es_buf_release(&b);
}

/* Keys that are prefixes of one another, or empty, are not duplicates. */
static void
test_fm_prefix_keys(void **state)
{
	static const char in[] =
	    "---\nab: 1\na: 2\n\"\": 3\nb: 4\na\"\": 5\nabc: 6\n"
	    "x: {a: 1, ab: 2, \"\": 3, b: 4, abc: 5, ba: 6}\n---\n";
	struct es_frontmatter *fm;

	(void)state;
	fm = parse_ok(in, sizeof(in) - 1);
	assert_int_equal(es_frontmatter_nkeys(fm), 7);
	assert_int_equal(es_frontmatter_key(fm, 6)->value.nitems, 6);
	es_frontmatter_free(fm);
}

/* es_frontmatter_find() as a walk of the keys would answer: the first
 * key of that name. */
static void
assert_find_all(const struct es_frontmatter *fm, const char *const *names,
    size_t n)
{
	for (size_t j = 0; j < n; j++) {
		size_t len = strlen(names[j]), got = 0, want = 0;
		bool found = false, has;

		for (size_t k = 0; k < es_frontmatter_nkeys(fm) && !found; k++)
			if (es_frontmatter_key(fm, k)->name_len == len &&
			    memcmp(es_frontmatter_key(fm, k)->name, names[j],
			    len) == 0) {
				found = true;
				want = k;
			}
		has = es_frontmatter_find(fm, names[j], len, &got);
		if (has != found || (found && got != want))
			fail_msg("find '%s': %d at %zu, want %d at %zu",
			    names[j], has, got, found, want);
	}
}

/* Finding keys by name through every kind of edit, the same name twice
 * included (the API allows it; the first in file order is found). */
static void
test_fm_find_after_edits(void **state)
{
	static const char in[] =
	    "---\nm: 1\nab: 2\na: 3\nb: 4\n\"\": 5\nz: 6\n---\n";
	static const char *const names[] = {
		"m", "ab", "a", "b", "", "z", "new", "x", "abc",
	};
	struct es_frontmatter *fm;

	(void)state;
	fm = parse_ok(in, sizeof(in) - 1);
	assert_find_all(fm, names, NELEM(names));
	es_frontmatter_insert(fm, ES_FM_BEFORE, 0, "new", 3, "1", 1);
	assert_find_all(fm, names, NELEM(names));
	es_frontmatter_insert(fm, ES_FM_END, 0, "a", 1, "2", 1);
	assert_find_all(fm, names, NELEM(names));
	es_frontmatter_move(fm, 7, ES_FM_BEFORE, 1);
	assert_find_all(fm, names, NELEM(names));
	es_frontmatter_move(fm, 1, ES_FM_END, 0);
	assert_find_all(fm, names, NELEM(names));
	es_frontmatter_remove(fm, 3);
	assert_find_all(fm, names, NELEM(names));
	es_frontmatter_move(fm, 0, ES_FM_AFTER, 4);
	assert_find_all(fm, names, NELEM(names));
	es_frontmatter_replace(fm, 2, "9", 1);
	es_frontmatter_insert(fm, ES_FM_AFTER, 2, "x", 1, "3", 1);
	assert_find_all(fm, names, NELEM(names));
	while (es_frontmatter_nkeys(fm) > 0) {
		es_frontmatter_remove(fm, es_frontmatter_nkeys(fm) / 2);
		assert_find_all(fm, names, NELEM(names));
	}
	es_frontmatter_insert(fm, ES_FM_END, 0, "z", 1, "1", 1);
	assert_find_all(fm, names, NELEM(names));
	es_frontmatter_free(fm);

	fm = parse_ok("no frontmatter\n", 15);
	assert_find_all(fm, names, NELEM(names));
	es_frontmatter_insert(fm, ES_FM_END, 0, "b", 1, "1", 1);
	es_frontmatter_insert(fm, ES_FM_BEFORE, 0, "a", 1, "1", 1);
	assert_find_all(fm, names, NELEM(names));
	es_frontmatter_free(fm);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_fm_split_table),
	cmocka_unit_test(test_fm_key_spans),
	cmocka_unit_test(test_fm_errors_table),
	cmocka_unit_test(test_fm_render_identity),
	cmocka_unit_test(test_fm_replace),
	cmocka_unit_test(test_fm_remove),
	cmocka_unit_test(test_fm_insert),
	cmocka_unit_test(test_fm_move),
	cmocka_unit_test(test_fm_crlf_bom_edits),
	cmocka_unit_test(test_fm_no_frontmatter_insert),
	cmocka_unit_test(test_fm_insert_before_document_end),
	cmocka_unit_test(test_fm_tab_blank_lines),
	cmocka_unit_test(test_fm_explicit_keys),
	cmocka_unit_test(test_fm_many_keys),
	cmocka_unit_test(test_fm_prefix_keys),
	cmocka_unit_test(test_fm_find_after_edits),
};

ES_TEST_MAIN(tests)
