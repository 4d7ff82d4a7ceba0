/*
 * es_slugify() against the API's slugify as Python 3.11 (Unicode 14.0.0)
 * runs it (SPEC §2 "character for character"): the table that
 * tests/unit/slug-table/gen.py made with python3, committed beside it. Its
 * "t" records are seeded titles of every kind and their slugs; its "r"
 * records cover every code point, one at a time between "a" and "b". The
 * CTest test slug_table.regenerate checks that the committed table is what
 * python3 gives today.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <unistr.h>

#include "es-test.h"

#include "execsync/buf.h"
#include "execsync/slug.h"

#define TABLE		"tests/unit/slug-table/slug-table.txt"
#define SHOW_MAX	10	/* mismatches printed in full */

struct table {
	FILE		*f;
	char		 path[PATH_MAX];
	char		*line;
	size_t		 cap;
	unsigned	 lineno;
	unsigned	 checked, bad;
};

static void
table_open(struct table *t)
{
	const char *src = getenv("ES_SOURCE_DIR");

	memset(t, 0, sizeof(*t));
	if (src == NULL)
		fail_msg("ES_SOURCE_DIR is not set (run through ctest)");
	snprintf(t->path, sizeof(t->path), "%s/%s", src, TABLE);
	if ((t->f = fopen(t->path, "r")) == NULL)
		fail_msg("%s: %s", t->path, strerror(errno));
}

/* The next record of kind ('t' or 'r') without its newline, or NULL. */
static const char *
table_next(struct table *t, char kind)
{
	ssize_t n;

	while ((n = getline(&t->line, &t->cap, t->f)) != -1) {
		t->lineno++;
		if (n > 0 && t->line[n - 1] == '\n')
			t->line[--n] = '\0';
		if (t->line[0] == '#')
			continue;
		if ((t->line[0] != 't' && t->line[0] != 'r') ||
		    t->line[1] != ' ')
			fail_msg("%s:%u: bad record", t->path, t->lineno);
		if (t->line[0] == kind)
			return t->line + 2;
	}
	return NULL;
}

static void
table_close(struct table *t)
{
	if (ferror(t->f))
		fail_msg("%s: read error", t->path);
	fclose(t->f);
	free(t->line);
	if (t->bad != 0)
		fail_msg("%s: %u of %u checks differ from python3", t->path,
		    t->bad, t->checked);
	print_message("%s: %u checks match python3\n", t->path, t->checked);
}

static unsigned
hexval(const char *p, int n, const struct table *t)
{
	unsigned v = 0;

	for (int i = 0; i < n; i++) {
		int c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			fail_msg("%s:%u: bad escape", t->path, t->lineno);
	}
	return v;
}

static void
add_uc(struct es_buf *b, ucs4_t c)
{
	uint8_t u[6];
	int n = u8_uctomb(u, c, sizeof(u));

	if (n <= 0)
		fail_msg("U+%04X cannot be UTF-8", (unsigned)c);
	es_buf_add(b, u, (size_t)n);
}

/* The quoted field at *pp (gen.py's quote()) into out; *pp moves past it. */
static void
unquote(const char **pp, struct es_buf *out, const struct table *t)
{
	const char *p = *pp;

	es_buf_reset(out);
	if (*p++ != '"')
		fail_msg("%s:%u: want '\"'", t->path, t->lineno);
	for (; *p != '"'; p++) {
		if (*p == '\0')
			fail_msg("%s:%u: unterminated", t->path, t->lineno);
		if (*p != '\\') {
			es_buf_addch(out, *p);
			continue;
		}
		switch (*++p) {
		case '"':
		case '\\':
			es_buf_addch(out, *p);
			break;
		case 'x':
			es_buf_addch(out, (int)hexval(p + 1, 2, t));
			p += 2;
			break;
		case 'u':
			add_uc(out, hexval(p + 1, 4, t));
			p += 4;
			break;
		case 'U':
			add_uc(out, hexval(p + 1, 8, t));
			p += 8;
			break;
		default:
			fail_msg("%s:%u: bad escape", t->path, t->lineno);
		}
	}
	*pp = p + 1;
}

/* s as gen.py quotes it, so a mismatch can be read and searched for. */
static void
quote(const char *s, size_t n, struct es_buf *out)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	es_buf_reset(out);
	es_buf_addch(out, '"');
	while (i < n) {
		ucs4_t c;
		int k = u8_mbtoucr(&c, p + i, n - i);

		if (k < 0) {
			es_buf_addf(out, "\\x%02X", p[i++]);
			continue;
		}
		if (c == '"' || c == '\\')
			es_buf_addf(out, "\\%c", (int)c);
		else if (c >= 0x20 && c < 0x7f)
			es_buf_addch(out, (int)c);
		else if (c <= 0xffff)
			es_buf_addf(out, "\\u%04X", (unsigned)c);
		else
			es_buf_addf(out, "\\U%08X", (unsigned)c);
		i += (size_t)k;
	}
	es_buf_addch(out, '"');
}

/* One check: es_slugify(title) against want. */
static void
check(struct table *t, const struct es_buf *title, const char *want,
    size_t wantlen)
{
	struct es_buf q1 = ES_BUF_INIT, q2 = ES_BUF_INIT, q3 = ES_BUF_INIT;
	char *got = es_slugify(title->buf, title->len);

	t->checked++;
	if (strlen(got) == wantlen && memcmp(got, want, wantlen) == 0) {
		free(got);
		return;
	}
	if (++t->bad <= SHOW_MAX) {
		quote(title->buf, title->len, &q1);
		quote(want, wantlen, &q2);
		quote(got, strlen(got), &q3);
		print_message("%s:%u: slugify(%s)\n\tpython3: %s\n\tours:    "
		    "%s\n", t->path, t->lineno, q1.buf, q2.buf, q3.buf);
	}
	es_buf_release(&q1);
	es_buf_release(&q2);
	es_buf_release(&q3);
	free(got);
}

static void
test_slugify_python_titles(void **state)
{
	struct es_buf title = ES_BUF_INIT, want = ES_BUF_INIT;
	struct table t;
	const char *p;

	(void)state;
	table_open(&t);
	while ((p = table_next(&t, 't')) != NULL) {
		unquote(&p, &title, &t);
		if (*p++ != ' ')
			fail_msg("%s:%u: want ' '", t.path, t.lineno);
		unquote(&p, &want, &t);
		if (*p != '\0')
			fail_msg("%s:%u: trailing text", t.path, t.lineno);
		check(&t, &title, want.buf, want.len);
	}
	/* gen.py writes at least 5,000 titles. */
	assert_true(t.checked >= 5000);
	es_buf_release(&title);
	es_buf_release(&want);
	table_close(&t);
}

/*
 * The lower case of a capital sigma in title, as es_slugify()'s result shows
 * it (Σ is a word character, so its lower case is kept): at 0 is the slug's
 * last letter, at 2 the letter after "α". final: want "ς", else "σ".
 */
static void
check_sigma(struct table *t, const struct es_buf *title, size_t at,
    bool final)
{
	static const char sigma[] = "\xcf\x83", final_sigma[] = "\xcf\x82";
	const char *want = final ? final_sigma : sigma;
	char *got = es_slugify(title->buf, title->len);
	size_t n = strlen(got);
	struct es_buf q = ES_BUF_INIT;

	t->checked++;
	if (at == 0 ? n >= 2 && memcmp(got + n - 2, want, 2) == 0 :
	    n >= 4 && memcmp(got + at, want, 2) == 0) {
		free(got);
		return;
	}
	if (++t->bad <= SHOW_MAX) {
		quote(title->buf, title->len, &q);
		print_message("%s:%u: slugify(%s) is \"%s\": want %s sigma\n",
		    t->path, t->lineno, q.buf, got, final ? "a final" :
		    "a non-final");
	}
	es_buf_release(&q);
	free(got);
}

static void
test_slugify_python_code_points(void **state)
{
	static const char alpha[] = "\xce\x91", sigma[] = "\xce\xa3";
	struct es_buf title = ES_BUF_INIT, want = ES_BUF_INIT;
	struct table t;
	const char *p;
	unsigned long covered = 0, next = 0;

	(void)state;
	table_open(&t);
	while ((p = table_next(&t, 'r')) != NULL) {
		unsigned long first, last;
		long delta = 0;
		char cls, kind;
		int n = -1;

		if (sscanf(p, "%lx %lx %c %c %n", &first, &last, &cls, &kind,
		    &n) < 4 || n < 0 || first > last || last > 0x10ffff ||
		    (kind == 'w' && sscanf(p + n, "%ld", &delta) != 1) ||
		    (kind != 'w' && kind != 's' && kind != 'd') ||
		    (cls != 'i' && cls != 'c' && cls != 'n'))
			fail_msg("%s:%u: bad range", t.path, t.lineno);
		/* In order, and every code point but the surrogates. */
		if (first != next && !(next == 0xd800 && first == 0xe000))
			fail_msg("%s:%u: want U+%04lX next", t.path, t.lineno,
			    next);
		next = last + 1;
		for (unsigned long c = first; c <= last; c++) {
			/* "a" c "b" */
			es_buf_reset(&title);
			es_buf_addch(&title, 'a');
			add_uc(&title, (ucs4_t)c);
			es_buf_addch(&title, 'b');
			es_buf_reset(&want);
			es_buf_addch(&want, 'a');
			if (kind == 'w')
				add_uc(&want, (ucs4_t)((long)c + delta));
			else if (kind == 's')
				es_buf_addch(&want, '-');
			es_buf_addch(&want, 'b');
			check(&t, &title, want.buf, want.len);
			/* "Α" c "Σ": final after a cased or skipped c */
			es_buf_reset(&title);
			es_buf_addstr(&title, alpha);
			add_uc(&title, (ucs4_t)c);
			es_buf_addstr(&title, sigma);
			check_sigma(&t, &title, 0, cls != 'n');
			/* c "Σ": final after a cased c only */
			es_buf_reset(&title);
			add_uc(&title, (ucs4_t)c);
			es_buf_addstr(&title, sigma);
			check_sigma(&t, &title, 0, cls == 'c');
			/* "ΑΣ" c: final unless a cased c follows */
			es_buf_reset(&title);
			es_buf_addstr(&title, alpha);
			es_buf_addstr(&title, sigma);
			add_uc(&title, (ucs4_t)c);
			check_sigma(&t, &title, 2, cls != 'c');
			covered++;
		}
	}
	assert_int_equal(next, 0x110000);
	assert_int_equal(covered, 0x110000 - 0x800);
	es_buf_release(&title);
	es_buf_release(&want);
	table_close(&t);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_slugify_python_titles),
	cmocka_unit_test(test_slugify_python_code_points),
};

ES_TEST_MAIN(tests)
