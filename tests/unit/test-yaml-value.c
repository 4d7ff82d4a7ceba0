/*
 * YAML values of the frontmatter (SPEC §2 "Project and goal files": keys
 * the tool does not know are kept under `extra`): typing of scalars, the
 * BSON they become, and rendering back, checked by round trips through
 * libyaml (via the frontmatter parser).
 */
#include "es-test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/frontmatter.h"
#include "execsync/yaml-value.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* YAML 1.2 core schema, narrowed (yaml-value.h). */
static void
test_yaml_typing_table(void **state)
{
	static const struct {
		const char		*in;
		bool			 plain;
		enum es_yaml_type	 type;
		int64_t			 i;
		double			 d;
	} cases[] = {
		{ "null", true, ES_YAML_NULL, 0, 0 },
		{ "Null", true, ES_YAML_NULL, 0, 0 },
		{ "NULL", true, ES_YAML_NULL, 0, 0 },
		{ "~", true, ES_YAML_NULL, 0, 0 },
		{ "", true, ES_YAML_NULL, 0, 0 },
		{ "nULL", true, ES_YAML_STRING, 0, 0 },
		{ "true", true, ES_YAML_BOOL, 1, 0 },
		{ "True", true, ES_YAML_BOOL, 1, 0 },
		{ "TRUE", true, ES_YAML_BOOL, 1, 0 },
		{ "false", true, ES_YAML_BOOL, 0, 0 },
		{ "False", true, ES_YAML_BOOL, 0, 0 },
		{ "FALSE", true, ES_YAML_BOOL, 0, 0 },
		{ "tRUE", true, ES_YAML_STRING, 0, 0 },
		{ "yes", true, ES_YAML_STRING, 0, 0 },
		{ "on", true, ES_YAML_STRING, 0, 0 },
		{ "0", true, ES_YAML_INT32, 0, 0 },
		{ "-0", true, ES_YAML_INT32, 0, 0 },
		{ "+12", true, ES_YAML_INT32, 12, 0 },
		{ "007", true, ES_YAML_INT32, 7, 0 },
		{ "2147483647", true, ES_YAML_INT32, INT32_MAX, 0 },
		{ "-2147483648", true, ES_YAML_INT32, INT32_MIN, 0 },
		{ "2147483648", true, ES_YAML_INT64, 2147483648LL, 0 },
		{ "-2147483649", true, ES_YAML_INT64, -2147483649LL, 0 },
		{ "9223372036854775807", true, ES_YAML_INT64, INT64_MAX, 0 },
		{ "-9223372036854775808", true, ES_YAML_INT64, INT64_MIN, 0 },
		{ "9223372036854775808", true, ES_YAML_STRING, 0, 0 },
		{ "-9223372036854775809", true, ES_YAML_STRING, 0, 0 },
		{ "1.5", true, ES_YAML_DOUBLE, 0, 1.5 },
		{ ".5", true, ES_YAML_DOUBLE, 0, 0.5 },
		{ "1.", true, ES_YAML_DOUBLE, 0, 1.0 },
		{ "-1e3", true, ES_YAML_DOUBLE, 0, -1000.0 },
		{ "1E+2", true, ES_YAML_DOUBLE, 0, 100.0 },
		{ "+.5e-1", true, ES_YAML_DOUBLE, 0, 0.05 },
		{ "1e999", true, ES_YAML_DOUBLE, 0, INFINITY },
		{ ".", true, ES_YAML_STRING, 0, 0 },
		{ "1e", true, ES_YAML_STRING, 0, 0 },
		{ "e3", true, ES_YAML_STRING, 0, 0 },
		{ "1.2.3", true, ES_YAML_STRING, 0, 0 },
		{ "0x1F", true, ES_YAML_STRING, 0, 0 },
		{ "0o17", true, ES_YAML_STRING, 0, 0 },
		{ ".inf", true, ES_YAML_STRING, 0, 0 },
		{ "-.inf", true, ES_YAML_STRING, 0, 0 },
		{ ".nan", true, ES_YAML_STRING, 0, 0 },
		{ "2025-11-09", true, ES_YAML_STRING, 0, 0 },
		{ "1_000", true, ES_YAML_STRING, 0, 0 },
		{ "+", true, ES_YAML_STRING, 0, 0 },
		{ "-", true, ES_YAML_STRING, 0, 0 },
		{ "12 ", true, ES_YAML_STRING, 0, 0 },
		/* Quoted, block and !!str scalars are strings. */
		{ "true", false, ES_YAML_STRING, 0, 0 },
		{ "12", false, ES_YAML_STRING, 0, 0 },
		{ "", false, ES_YAML_STRING, 0, 0 },
		{ "null", false, ES_YAML_STRING, 0, 0 },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_yaml_scalar sc;
		enum es_yaml_type t;

		t = es_yaml_value_type(cases[i].in, strlen(cases[i].in),
		    cases[i].plain, &sc);
		if (t != cases[i].type || sc.type != t)
			fail_msg("'%s' plain=%d: type %d, want %d", cases[i].in,
			    cases[i].plain, t, cases[i].type);
		if (t == ES_YAML_BOOL)
			assert_int_equal(sc.b, cases[i].i);
		if (t == ES_YAML_INT32 || t == ES_YAML_INT64)
			assert_true(sc.i == cases[i].i);
		if (t == ES_YAML_DOUBLE && !(sc.d == cases[i].d))
			fail_msg("'%s': %g, want %g", cases[i].in, sc.d,
			    cases[i].d);
	}
}

/* The frontmatter "---\n<text>---\n"; fails the test if it does not parse. */
static struct es_frontmatter *
fm_of(const char *text)
{
	struct es_frontmatter *fm;
	struct es_error err;
	struct es_buf b = ES_BUF_INIT;

	es_buf_addstr(&b, "---\n");
	es_buf_addstr(&b, text);
	es_buf_addstr(&b, "---\n");
	fm = es_frontmatter_parse(b.buf, b.len, "t.md", &err);
	if (fm == NULL)
		fail_msg("'%s' does not parse: %s", b.buf, err.msg);
	es_buf_release(&b);
	return fm;
}

static void
assert_scalar_is(const struct es_yaml_value *v, const char *s, size_t len,
    const char *where, const char *text)
{
	if (v->kind != ES_YAML_SCALAR || v->len != len ||
	    memcmp(v->str, s, len) != 0 ||
	    es_yaml_value_type(v->str, v->len, v->plain, NULL) !=
	    ES_YAML_STRING)
		fail_msg("%s: %s does not read back as the string", where,
		    text);
}

/*
 * s rendered in every place a string goes reads back as s: after "key: ",
 * as a key, inside [], as key and value inside {}.
 */
static void
round_trip_string(const char *s, size_t len)
{
	struct es_buf r = ES_BUF_INIT, f = ES_BUF_INIT, t = ES_BUF_INIT;
	struct es_frontmatter *fm;
	const struct es_frontmatter_key *k;

	es_yaml_value_render_string(s, len, ES_YAML_BLOCK, &r);
	es_yaml_value_render_string(s, len, ES_YAML_FLOW, &f);
	assert_null(memchr(r.buf, '\n', r.len));

	es_buf_addf(&t, "k: %s\n%s: v\nseq: [%s, x]\nmap: {%s: %s}\n",
	    r.buf, r.buf, f.buf, f.buf, f.buf);
	fm = fm_of(t.buf);
	assert_int_equal(es_frontmatter_nkeys(fm), 4);
	k = es_frontmatter_key(fm, 0);
	assert_scalar_is(&k->value, s, len, "block value", t.buf);
	k = es_frontmatter_key(fm, 1);
	if (k->name_len != len || memcmp(k->name, s, len) != 0)
		fail_msg("block key: %s", t.buf);
	k = es_frontmatter_key(fm, 2);
	assert_int_equal(k->value.nitems, 2);
	assert_scalar_is(&k->value.items[0], s, len, "flow item", t.buf);
	k = es_frontmatter_key(fm, 3);
	assert_int_equal(k->value.nitems, 1);
	if (k->value.items[0].key_len != len ||
	    memcmp(k->value.items[0].key, s, len) != 0)
		fail_msg("flow key: %s", t.buf);
	assert_scalar_is(&k->value.items[0], s, len, "flow value", t.buf);
	es_frontmatter_free(fm);
	es_buf_release(&r);
	es_buf_release(&f);
	es_buf_release(&t);
}

/* Which strings may stay plain, and the round trip of each. */
static void
test_yaml_quoting_table(void **state)
{
	static const struct {
		const char	*s;
		bool		 block_plain, flow_plain;
	} cases[] = {
		{ "Learn Rust", true, true },
		{ "Learn: Rust", false, false },
		{ "#1 goal", false, false },
		{ "goal #1", false, false },
		{ "goal#1", true, true },
		{ "yes", false, false },
		{ "No", false, false },
		{ "off", false, false },
		{ "y", true, true },
		{ "123", false, false },
		{ "1.5", false, false },
		{ "1e3", false, false },
		{ "0x1F", false, false },
		{ ".inf", false, false },
		{ "-.inf", false, false },
		{ "1_000", false, false },
		{ "1:20", false, false },
		{ "null", false, false },
		{ "~", false, false },
		{ "true", false, false },
		{ "", false, false },
		{ " x", false, false },
		{ "x ", false, false },
		{ "a:b", true, false },
		{ "a:", false, false },
		{ "C:\\path", true, false },
		{ "-x", true, true },
		{ "- x", false, false },
		{ "-", false, false },
		{ "?x", true, false },
		{ ":x", true, false },
		{ "? x", false, false },
		{ "a,b", true, false },
		{ "a]", true, false },
		{ "[a", false, false },
		{ "{a", false, false },
		{ "a\nb", false, false },
		{ "tab\there", false, false },
		{ "'q'", false, false },
		{ "\"q\"", false, false },
		{ "it's", true, true },
		{ "%x", false, false },
		{ "@x", false, false },
		{ "`x", false, false },
		{ "!x", false, false },
		{ "&x", false, false },
		{ "*x", false, false },
		{ "|x", false, false },
		{ ">x", false, false },
		{ "---", false, false },
		{ "--- a", false, false },
		{ "...", false, false },
		{ "a---", true, true },
		{ "2025-11-09", true, true },
		{ "2025-11-09T10:20:30Z", true, false },
		{ "Ünïcödé ✓ 日本", true, true },
		{ "a\\b", true, true },
		{ "\xc2\x85", false, false },		/* NEL */
		{ "a\xe2\x80\xa8" "b", false, false },	/* LS */
		{ "\xef\xbb\xbfx", false, false },	/* BOM */
		{ "\x7f", false, false },
		{ "\x01", false, false },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const char *s = cases[i].s;
		size_t len = strlen(s);

		if (es_yaml_value_plain_ok(s, len, ES_YAML_BLOCK) !=
		    cases[i].block_plain)
			fail_msg("'%s': block plain should be %d", s,
			    cases[i].block_plain);
		if (es_yaml_value_plain_ok(s, len, ES_YAML_FLOW) !=
		    cases[i].flow_plain)
			fail_msg("'%s': flow plain should be %d", s,
			    cases[i].flow_plain);
		round_trip_string(s, len);
	}
}

/* How quoted strings are spelt: escapes for what cannot stand as is. */
static void
test_yaml_quoted_spelling(void **state)
{
	static const struct {
		const char	*s;
		size_t		 len;
		const char	*want;
	} cases[] = {
		{ "a\nb", 3, "\"a\\nb\"" },
		{ "say \"hi\"", 8, "say \"hi\"" },
		{ "\"hi\" said", 9, "\"\\\"hi\\\" said\"" },
		{ "back\\: x", 8, "\"back\\\\: x\"" },
		{ "\t", 1, "\"\\t\"" },
		{ "\x01\x1f\x7f", 3, "\"\\x01\\x1F\\x7F\"" },
		{ "\xc2\x85", 2, "\"\\N\"" },
		{ "\xe2\x80\xa8\xe2\x80\xa9", 6, "\"\\L\\P\"" },
		{ "\xef\xbb\xbf", 3, "\"\\uFEFF\"" },
		{ "\xc2\x80", 2, "\"\\x80\"" },
		{ "", 0, "\"\"" },
		{ "yes", 3, "\"yes\"" },
		{ "Learn: Rust", 11, "\"Learn: Rust\"" },
		{ "é: x", 5, "\"é: x\"" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_buf b = ES_BUF_INIT;

		es_yaml_value_render_string(cases[i].s, cases[i].len,
		    ES_YAML_BLOCK, &b);
		assert_string_equal(b.buf, cases[i].want);
		round_trip_string(cases[i].s, cases[i].len);
		es_buf_release(&b);
	}
}

/*
 * Every string of up to three characters from an alphabet of YAML
 * indicators, blanks, breaks and a few letters round-trips in every
 * context: the plain/quoted decision is checked against libyaml itself.
 */
static void
test_yaml_quoting_exhaustive_round_trip(void **state)
{
	static const char *const alpha[] = {
		"a", " ", "-", "?", ":", ",", "[", "]", "{", "}", "#", "&",
		"*", "!", "|", ">", "'", "\"", "%", "@", "`", "\\", "\t", "\n",
		"1", ".", "e", "~", "\xc3\xa9", "\xc2\x85", "\r",
	};
	size_t n = NELEM(alpha), count = 0;

	(void)state;
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b <= n; b++)
			for (size_t c = 0; c <= (b == n ? 0 : n); c++) {
				char s[16];

				snprintf(s, sizeof(s), "%s%s%s", alpha[a],
				    b < n ? alpha[b] : "",
				    b < n && c < n ? alpha[c] : "");
				round_trip_string(s, strlen(s));
				count++;
			}
	assert_true(count > 30000);
}

/* Unknown keys become extra (SPEC §2): scalars typed, lists, maps. */
static void
test_yaml_to_bson_extra(void **state)
{
	struct es_frontmatter *fm;
	struct es_error err;
	bson_t doc = BSON_INITIALIZER;
	char *json;

	(void)state;
	fm = fm_of("s: text\nq: \"12\"\ni: 12\nbig: 5000000000\n"
	    "f: 2.5\nb: true\nn:\nt: ~\nd: 2025-11-09\n"
	    "l: [a, 1, {x: y}]\nm:\n  k: v\n  l:\n    - 1\n    - 2\n"
	    "lit: |\n  one\n  two\nstr: !!str 3\nempty: []\n");
	for (size_t i = 0; i < es_frontmatter_nkeys(fm); i++) {
		const struct es_frontmatter_key *k = es_frontmatter_key(fm, i);

		assert_int_equal(es_yaml_value_to_bson(&k->value, &doc,
		    k->name, k->name_len, "t.md", &err), 0);
	}
	json = bson_as_canonical_extended_json(&doc, NULL);
	assert_string_equal(json,
	    "{ \"s\" : \"text\", \"q\" : \"12\", "
	    "\"i\" : { \"$numberInt\" : \"12\" }, "
	    "\"big\" : { \"$numberLong\" : \"5000000000\" }, "
	    "\"f\" : { \"$numberDouble\" : \"2.5\" }, \"b\" : true, "
	    "\"n\" : null, \"t\" : null, \"d\" : \"2025-11-09\", "
	    "\"l\" : [ \"a\", { \"$numberInt\" : \"1\" }, { \"x\" : \"y\" } ], "
	    "\"m\" : { \"k\" : \"v\", \"l\" : [ { \"$numberInt\" : \"1\" }, "
	    "{ \"$numberInt\" : \"2\" } ] }, "
	    "\"lit\" : \"one\\ntwo\\n\", \"str\" : \"3\", \"empty\" : [  ] }");
	bson_free(json);
	bson_destroy(&doc);
	es_frontmatter_free(fm);
}

/* What MongoDB and FerretDB cannot store is refused, naming the line. */
static void
test_yaml_to_bson_errors(void **state)
{
	static const struct {
		const char	*text;
		unsigned	 line;
		const char	*msg;
	} cases[] = {
		{ "ok: 1\nk: [[1]]\n", 3, "nested lists are not supported" },
		{ "k:\n  -\n    - 1\n", 4, "nested lists are not supported" },
		{ "k: [1, [2]]\n", 2, "nested lists are not supported" },
		{ "a.b: 1\n", 2,
		    "key 'a.b' contains '.' (MongoDB cannot store it)" },
		{ "$set: 1\n", 2,
		    "key '$set' starts with '$' (MongoDB cannot store it)" },
		{ "k:\n  x: 1\n  $y: 2\n", 4,
		    "key '$y' starts with '$' (MongoDB cannot store it)" },
		{ "k: [1, {a.b: 2}]\n", 2,
		    "key 'a.b' contains '.' (MongoDB cannot store it)" },
		{ "\"\": 1\n", 2, "key '' is empty (MongoDB cannot store it)" },
		{ "k: 1e999\n", 2, "number out of range '1e999'" },
		{ "k:\n  - -1e400\n", 3, "number out of range '-1e400'" },
	};
	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct es_frontmatter *fm = fm_of(cases[i].text);
		struct es_error err;
		bson_t doc = BSON_INITIALIZER;
		int rc = 0;

		es_error_clear(&err);
		for (size_t j = 0; j < es_frontmatter_nkeys(fm) && rc == 0;
		    j++) {
			const struct es_frontmatter_key *k =
			    es_frontmatter_key(fm, j);

			rc = es_yaml_value_to_bson(&k->value, &doc, k->name,
			    k->name_len, "t.md", &err);
		}
		if (rc != -1)
			fail_msg("'%s' should fail", cases[i].text);
		assert_string_equal(err.msg, cases[i].msg);
		assert_string_equal(err.path, "t.md");
		if (err.line != cases[i].line)
			fail_msg("'%s': line %u, want %u", cases[i].text,
			    err.line, cases[i].line);
		bson_destroy(&doc);
		es_frontmatter_free(fm);
	}
}

static void
assert_renders(const bson_t *doc, const char *key, enum es_yaml_ctx ctx,
    const char *want)
{
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;
	bson_iter_t it;

	assert_true(bson_iter_init_find(&it, doc, key));
	if (es_yaml_value_render_bson(&it, ctx, "extra", &b, &err) != 0)
		fail_msg("%s: %s", key, err.msg);
	if (strcmp(b.buf, want) != 0)
		fail_msg("%s: got '%s', want '%s'", key, b.buf, want);
	es_buf_release(&b);
}

/* BSON of `extra` rendered as YAML (for new files and changed lines). */
static void
test_yaml_render_bson_table(void **state)
{
	bson_t doc = BSON_INITIALIZER, child;

	(void)state;
	BSON_APPEND_NULL(&doc, "null");
	BSON_APPEND_BOOL(&doc, "t", true);
	BSON_APPEND_BOOL(&doc, "f", false);
	BSON_APPEND_INT32(&doc, "i32", -5);
	BSON_APPEND_INT64(&doc, "i64", 5000000000LL);
	BSON_APPEND_DOUBLE(&doc, "d1", 1.5);
	BSON_APPEND_DOUBLE(&doc, "d2", 1.0);
	BSON_APPEND_DOUBLE(&doc, "d3", 0.1);
	BSON_APPEND_DOUBLE(&doc, "d4", 1e300);
	BSON_APPEND_DOUBLE(&doc, "d5", -0.0);
	BSON_APPEND_DOUBLE(&doc, "d6", 1e-7);
	BSON_APPEND_UTF8(&doc, "s1", "a b");
	BSON_APPEND_UTF8(&doc, "s2", "yes");
	BSON_APPEND_UTF8(&doc, "s3", "x, y");
	BSON_APPEND_ARRAY_BEGIN(&doc, "arr", &child);
	BSON_APPEND_INT32(&child, "0", 1);
	BSON_APPEND_UTF8(&child, "1", "a");
	BSON_APPEND_UTF8(&child, "2", "x, y");
	bson_append_array_end(&doc, &child);
	BSON_APPEND_DOCUMENT_BEGIN(&doc, "doc", &child);
	BSON_APPEND_INT32(&child, "a", 1);
	BSON_APPEND_UTF8(&child, "b c", "{");
	bson_append_document_end(&doc, &child);
	BSON_APPEND_ARRAY_BEGIN(&doc, "ea", &child);
	bson_append_array_end(&doc, &child);
	BSON_APPEND_DOCUMENT_BEGIN(&doc, "ed", &child);
	bson_append_document_end(&doc, &child);
	BSON_APPEND_DATE_TIME(&doc, "day", 1762646400000LL);
	BSON_APPEND_DATE_TIME(&doc, "ts", 1762646400000LL + 37230123);

	assert_renders(&doc, "null", ES_YAML_BLOCK, "null");
	assert_renders(&doc, "t", ES_YAML_BLOCK, "true");
	assert_renders(&doc, "f", ES_YAML_BLOCK, "false");
	assert_renders(&doc, "i32", ES_YAML_BLOCK, "-5");
	assert_renders(&doc, "i64", ES_YAML_BLOCK, "5000000000");
	assert_renders(&doc, "d1", ES_YAML_BLOCK, "1.5");
	assert_renders(&doc, "d2", ES_YAML_BLOCK, "1.0");
	assert_renders(&doc, "d3", ES_YAML_BLOCK, "0.1");
	assert_renders(&doc, "d4", ES_YAML_BLOCK, "1e+300");
	assert_renders(&doc, "d5", ES_YAML_BLOCK, "-0.0");
	assert_renders(&doc, "d6", ES_YAML_BLOCK, "1e-07");
	assert_renders(&doc, "s1", ES_YAML_BLOCK, "a b");
	assert_renders(&doc, "s2", ES_YAML_BLOCK, "\"yes\"");
	assert_renders(&doc, "s3", ES_YAML_BLOCK, "x, y");
	assert_renders(&doc, "s3", ES_YAML_FLOW, "\"x, y\"");
	assert_renders(&doc, "arr", ES_YAML_BLOCK, "[1, a, \"x, y\"]");
	assert_renders(&doc, "doc", ES_YAML_BLOCK, "{a: 1, b c: \"{\"}");
	assert_renders(&doc, "ea", ES_YAML_BLOCK, "[]");
	assert_renders(&doc, "ed", ES_YAML_BLOCK, "{}");
	assert_renders(&doc, "day", ES_YAML_BLOCK, "2025-11-09");
	assert_renders(&doc, "ts", ES_YAML_BLOCK, "2025-11-09T10:20:30.123Z");
	assert_renders(&doc, "ts", ES_YAML_FLOW,
	    "\"2025-11-09T10:20:30.123Z\"");
	bson_destroy(&doc);
}

/* Types YAML cannot hold are refused, naming the value. */
static void
test_yaml_render_bson_unsupported(void **state)
{
	bson_t doc = BSON_INITIALIZER, child;
	bson_oid_t oid;
	bson_decimal128_t dec;
	const char *keys[] = { "oid", "bin", "re", "dec", "ts", "min", "code",
	    "nan", "inf", "nested" };
	const char *msgs[] = {
		"unsupported value type in extra.oid",
		"unsupported value type in extra.bin",
		"unsupported value type in extra.re",
		"unsupported value type in extra.dec",
		"unsupported value type in extra.ts",
		"unsupported value type in extra.min",
		"unsupported value type in extra.code",
		"infinite or NaN number in extra.nan",
		"infinite or NaN number in extra.inf",
		"unsupported value type in extra.nested.x.1",
	};

	(void)state;
	bson_oid_init_from_string(&oid, "0123456789abcdef01234567");
	bson_decimal128_from_string("1.5", &dec);
	BSON_APPEND_OID(&doc, "oid", &oid);
	BSON_APPEND_BINARY(&doc, "bin", BSON_SUBTYPE_BINARY,
	    (const uint8_t *)"ab", 2);
	BSON_APPEND_REGEX(&doc, "re", "^a", "i");
	BSON_APPEND_DECIMAL128(&doc, "dec", &dec);
	BSON_APPEND_TIMESTAMP(&doc, "ts", 1, 2);
	BSON_APPEND_MINKEY(&doc, "min");
	BSON_APPEND_CODE(&doc, "code", "x()");
	BSON_APPEND_DOUBLE(&doc, "nan", NAN);
	BSON_APPEND_DOUBLE(&doc, "inf", -INFINITY);
	BSON_APPEND_DOCUMENT_BEGIN(&doc, "nested", &child);
	{
		bson_t arr;

		BSON_APPEND_ARRAY_BEGIN(&child, "x", &arr);
		BSON_APPEND_INT32(&arr, "0", 1);
		BSON_APPEND_OID(&arr, "1", &oid);
		bson_append_array_end(&child, &arr);
	}
	bson_append_document_end(&doc, &child);
	for (size_t i = 0; i < NELEM(keys); i++) {
		struct es_buf b = ES_BUF_INIT;
		struct es_error err;
		bson_iter_t it;
		char where[64];

		snprintf(where, sizeof(where), "extra.%s", keys[i]);
		assert_true(bson_iter_init_find(&it, &doc, keys[i]));
		es_error_clear(&err);
		assert_int_equal(es_yaml_value_render_bson(&it, ES_YAML_BLOCK,
		    where, &b, &err), -1);
		assert_string_equal(err.msg, msgs[i]);
		es_buf_release(&b);
	}
	bson_destroy(&doc);
}

/* Doubles: the shortest spelling that reads back equal and as a float. */
static void
test_yaml_double_round_trip(void **state)
{
	double fixed[] = { 0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1.0 / 3,
	    2.0 / 3, 1e21, 1e22, 123456789012345678.0, 5e-324, 2.2250738585072014e-308,
	    1.7976931348623157e308, 100.0, 1e15, 1e16, 1e17, 3.14159 };
	uint64_t x = 88172645463325252ULL;

	(void)state;
	for (size_t i = 0; i < NELEM(fixed) + 2000; i++) {
		struct es_buf b = ES_BUF_INIT;
		struct es_yaml_scalar sc;
		bson_t doc = BSON_INITIALIZER;
		bson_iter_t it;
		double d;

		if (i < NELEM(fixed))
			d = fixed[i];
		else {
			/* xorshift64: any bit pattern that is finite. */
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(&d, &x, sizeof(d));
			if (!isfinite(d))
				continue;
		}
		BSON_APPEND_DOUBLE(&doc, "d", d);
		assert_true(bson_iter_init_find(&it, &doc, "d"));
		assert_int_equal(es_yaml_value_render_bson(&it, ES_YAML_BLOCK,
		    "extra.d", &b, NULL), 0);
		if (es_yaml_value_type(b.buf, b.len, true, &sc) !=
		    ES_YAML_DOUBLE || memcmp(&sc.d, &d, sizeof(d)) != 0)
			fail_msg("%.17g rendered as '%s'", d, b.buf);
		es_buf_release(&b);
		bson_destroy(&doc);
	}
}

/* extra -> YAML -> extra gives the same BSON bytes (SPEC 4.8). */
static void
test_yaml_bson_round_trip(void **state)
{
	const char *json = "{ \"s\" : \"Learn: Rust\", \"e\" : \"\", "
	    "\"q\" : \"123\", \"i\" : 7, \"l\" : { \"$numberLong\" : "
	    "\"-5000000000\" }, \"d\" : 2.5, \"b\" : false, \"n\" : null, "
	    "\"arr\" : [ \"a, b\", 1, { \"k\" : [ \"x\", null ] }, true ], "
	    "\"m\" : { \"x y\" : { \"z\" : \"#1\" }, \"w\" : [ ] }, "
	    "\"u\" : \"ünï\\ncode\\t\\u0001\" }";
	bson_error_t berr;
	bson_t *doc = bson_new_from_json((const uint8_t *)json, -1, &berr);
	bson_t back = BSON_INITIALIZER;
	struct es_buf text = ES_BUF_INIT;
	struct es_frontmatter *fm;
	struct es_error err;
	bson_iter_t it;

	(void)state;
	assert_non_null(doc);
	assert_true(bson_iter_init(&it, doc));
	while (bson_iter_next(&it)) {
		es_yaml_value_render_string(bson_iter_key(&it),
		    bson_iter_key_len(&it), ES_YAML_BLOCK, &text);
		es_buf_addstr(&text, ": ");
		assert_int_equal(es_yaml_value_render_bson(&it, ES_YAML_BLOCK,
		    "extra", &text, &err), 0);
		es_buf_addch(&text, '\n');
	}
	fm = fm_of(text.buf);
	for (size_t i = 0; i < es_frontmatter_nkeys(fm); i++) {
		const struct es_frontmatter_key *k = es_frontmatter_key(fm, i);

		assert_int_equal(es_yaml_value_to_bson(&k->value, &back,
		    k->name, k->name_len, "t.md", &err), 0);
	}
	if (back.len != doc->len ||
	    memcmp(bson_get_data(&back), bson_get_data(doc), doc->len) != 0)
		fail_msg("round trip changed the document:\n%s", text.buf);
	es_frontmatter_free(fm);
	es_buf_release(&text);
	bson_destroy(&back);
	bson_destroy(doc);
}

static void
test_yaml_bson_equal_and_keys(void **state)
{
	bson_t a = BSON_INITIALIZER, b = BSON_INITIALIZER;
	bson_iter_t ia, ib;
	static const struct {
		const char	*key;
		bool		 ok;
	} keys[] = {
		{ "title", true }, { "a b", true }, { "ünï", true },
		{ "", false }, { "a.b", false }, { "$x", false },
		{ "x$", true },
	};

	(void)state;
	BSON_APPEND_INT32(&a, "v", 1);
	BSON_APPEND_INT64(&a, "w", 1);
	BSON_APPEND_INT32(&b, "v", 1);
	BSON_APPEND_DOUBLE(&b, "w", 1.0);
	assert_true(bson_iter_init_find(&ia, &a, "v"));
	assert_true(bson_iter_init_find(&ib, &b, "v"));
	assert_true(es_yaml_value_bson_equal(&ia, &ib));
	assert_true(bson_iter_init_find(&ia, &a, "w"));
	assert_true(bson_iter_init_find(&ib, &b, "w"));
	assert_false(es_yaml_value_bson_equal(&ia, &ib));
	bson_destroy(&a);
	bson_destroy(&b);
	for (size_t i = 0; i < NELEM(keys); i++)
		assert_int_equal(es_yaml_value_key_ok(keys[i].key,
		    strlen(keys[i].key), NULL), keys[i].ok);
	assert_false(es_yaml_value_key_ok("a\0b", 3, NULL));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_yaml_typing_table),
	cmocka_unit_test(test_yaml_quoting_table),
	cmocka_unit_test(test_yaml_quoted_spelling),
	cmocka_unit_test(test_yaml_quoting_exhaustive_round_trip),
	cmocka_unit_test(test_yaml_to_bson_extra),
	cmocka_unit_test(test_yaml_to_bson_errors),
	cmocka_unit_test(test_yaml_render_bson_table),
	cmocka_unit_test(test_yaml_render_bson_unsupported),
	cmocka_unit_test(test_yaml_double_round_trip),
	cmocka_unit_test(test_yaml_bson_round_trip),
	cmocka_unit_test(test_yaml_bson_equal_and_keys),
};

ES_TEST_MAIN(tests)
