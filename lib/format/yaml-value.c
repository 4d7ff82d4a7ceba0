/*
 * YAML values: typing, conversion to BSON, rendering back (see
 * yaml-value.h). Every rendering rule here is checked by a round trip
 * through libyaml in tests/unit/test-yaml-value.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/buf.h"
#include "execsync/date.h"
#include "execsync/error.h"
#include "execsync/xmalloc.h"
#include "execsync/yaml-value.h"

#define DEPTH_MAX	ES_YAML_DEPTH_MAX

void
es_yaml_value_release(struct es_yaml_value *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->nitems; i++)
		es_yaml_value_release(&v->items[i]);
	free(v->items);
	free(v->str);
	free(v->key);
	memset(v, 0, sizeof(*v));
}

/*
 * Numbers are read and written in the "C" locale whatever the program set:
 * a file written on a machine with a ',' decimal point must read the same
 * everywhere. The locale object is made once and kept for the process.
 */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void
c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t
get_c_locale(void)
{
	pthread_once(&c_locale_once, c_locale_init);
	return c_locale;
}

static bool
eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool
is_null_word(const char *s, size_t len)
{
	return len == 0 || eq(s, len, "~") || eq(s, len, "null") ||
	    eq(s, len, "Null") || eq(s, len, "NULL");
}

static bool
is_bool_word(const char *s, size_t len, bool *b)
{
	if (eq(s, len, "true") || eq(s, len, "True") || eq(s, len, "TRUE")) {
		*b = true;
		return true;
	}
	if (eq(s, len, "false") || eq(s, len, "False") ||
	    eq(s, len, "FALSE")) {
		*b = false;
		return true;
	}
	return false;
}

/* [-+]?[0-9]+ */
static bool
match_int(const char *s, size_t len)
{
	size_t i = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i == len)
		return false;
	for (; i < len; i++)
		if (!is_digit((unsigned char)s[i]))
			return false;
	return true;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool
match_float(const char *s, size_t len)
{
	size_t i = 0, n;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i < len && s[i] == '.') {
		i++;
		for (n = 0; i < len && is_digit((unsigned char)s[i]); i++)
			n++;
		if (n == 0)
			return false;
	} else {
		for (n = 0; i < len && is_digit((unsigned char)s[i]); i++)
			n++;
		if (n == 0)
			return false;
		if (i < len && s[i] == '.')
			for (i++; i < len && is_digit((unsigned char)s[i]); i++)
				;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (n = 0; i < len && is_digit((unsigned char)s[i]); i++)
			n++;
		if (n == 0)
			return false;
	}
	return i == len;
}

/* A NUL-terminated copy for strtoll/strtod: in buf when short enough. */
static char *
cstr(const char *s, size_t len, char *buf, size_t bufsz)
{
	if (len < bufsz) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		return buf;
	}
	return es_xmemdup(s, len);
}

enum es_yaml_type
es_yaml_value_type(const char *s, size_t len, bool plain,
    struct es_yaml_scalar *out)
{
	struct es_yaml_scalar sc;
	char small[64], *p, *end;

	memset(&sc, 0, sizeof(sc));
	sc.type = ES_YAML_STRING;
	if (!plain)
		goto out;
	if (is_null_word(s, len)) {
		sc.type = ES_YAML_NULL;
		goto out;
	}
	if (is_bool_word(s, len, &sc.b)) {
		sc.type = ES_YAML_BOOL;
		goto out;
	}
	if (match_int(s, len)) {
		long long v;

		p = cstr(s, len, small, sizeof(small));
		errno = 0;
		v = strtoll(p, &end, 10);
		/* Out of int64 range: kept as the string it is. */
		if (errno == 0 && *end == '\0') {
			sc.i = v;
			sc.type = v >= INT32_MIN && v <= INT32_MAX ?
			    ES_YAML_INT32 : ES_YAML_INT64;
		}
		if (p != small)
			free(p);
		goto out;
	}
	if (match_float(s, len)) {
		locale_t loc = get_c_locale();

		p = cstr(s, len, small, sizeof(small));
		/* Overflow gives +-HUGE_VAL (refused by the BSON conversion),
		 * underflow a value near zero: both are what the text says. */
		sc.d = loc ? strtod_l(p, &end, loc) : strtod(p, &end);
		sc.type = ES_YAML_DOUBLE;
		if (p != small)
			free(p);
	}
out:
	if (out)
		*out = sc;
	return sc.type;
}

bool
es_yaml_value_key_ok(const char *key, size_t len, const char **why)
{
	const char *r = NULL;

	if (len == 0)
		r = "is empty";
	else if (len > ES_YAML_KEY_MAX)
		r = "is too long";
	else if (memchr(key, '\0', len) != NULL)
		r = "contains a NUL byte";
	else if (memchr(key, '.', len) != NULL)
		r = "contains '.'";
	else if (key[0] == '$')
		r = "starts with '$'";
	if (r && why)
		*why = r;
	return r == NULL;
}

static int
to_bson(const struct es_yaml_value *v, bson_t *doc, const char *key,
    size_t klen, bool check_key, bool in_seq, int depth, const char *rel,
    struct es_error *err)
{
	struct es_yaml_scalar sc;
	bson_t child;
	char shown[80];
	const char *why;
	bool ok = true;
	int rc = -1;

	if (check_key && !es_yaml_value_key_ok(key, klen, &why)) {
		es_error_shown(key, klen, shown, sizeof(shown));
		return es_problem_set(err, ES_PROB_BAD_VALUE, rel,
		    v->key_line ? v->key_line : v->line,
		    "key '%s' %s (MongoDB cannot store it)", shown, why);
	}
	if (depth > DEPTH_MAX)
		return es_problem_set(err, ES_PROB_BAD_YAML, rel, v->line,
		    "values nested too deep");
	switch (v->kind) {
	case ES_YAML_SCALAR:
		switch (es_yaml_value_type(v->str, v->len, v->plain, &sc)) {
		case ES_YAML_NULL:
			ok = bson_append_null(doc, key, (int)klen);
			break;
		case ES_YAML_BOOL:
			ok = bson_append_bool(doc, key, (int)klen, sc.b);
			break;
		case ES_YAML_INT32:
			ok = bson_append_int32(doc, key, (int)klen,
			    (int32_t)sc.i);
			break;
		case ES_YAML_INT64:
			ok = bson_append_int64(doc, key, (int)klen, sc.i);
			break;
		case ES_YAML_DOUBLE:
			if (!isfinite(sc.d)) {
				es_error_shown(v->str, v->len, shown,
				    sizeof(shown));
				return es_problem_set(err, ES_PROB_BAD_VALUE, rel,
				    v->line, "number out of range '%s'",
				    shown);
			}
			ok = bson_append_double(doc, key, (int)klen, sc.d);
			break;
		case ES_YAML_STRING:
			ok = bson_append_utf8(doc, key, (int)klen, v->str,
			    (int)v->len);
			break;
		}
		break;
	case ES_YAML_SEQUENCE:
		/* FerretDB cannot store arrays of arrays (NOTES-deps §2). */
		if (in_seq)
			return es_problem_set(err, ES_PROB_BAD_YAML, rel, v->line,
			    "nested lists are not supported");
		if (!bson_append_array_begin(doc, key, (int)klen, &child))
			break;
		for (size_t i = 0; i < v->nitems; i++) {
			char ibuf[16];
			const char *ik;
			size_t iklen;

			iklen = bson_uint32_to_string((uint32_t)i, &ik, ibuf,
			    sizeof(ibuf));
			if (to_bson(&v->items[i], &child, ik, iklen, false,
			    true, depth + 1, rel, err) == -1) {
				bson_append_array_end(doc, &child);
				return -1;
			}
		}
		ok = bson_append_array_end(doc, &child);
		break;
	case ES_YAML_MAPPING:
		if (!bson_append_document_begin(doc, key, (int)klen, &child))
			break;
		for (size_t i = 0; i < v->nitems; i++) {
			const struct es_yaml_value *it = &v->items[i];

			if (to_bson(it, &child, it->key, it->key_len, true,
			    false, depth + 1, rel, err) == -1) {
				bson_append_document_end(doc, &child);
				return -1;
			}
		}
		ok = bson_append_document_end(doc, &child);
		break;
	default:
		return es_problem_set(err, ES_PROB_BAD_YAML, rel, v->line,
		    "unknown YAML node");
	}
	if (!ok) {
		es_problem_set(err, ES_PROB_TOO_LARGE, rel, v->line, "value too large");
		goto out;
	}
	rc = 0;
out:
	return rc;
}

int
es_yaml_value_to_bson(const struct es_yaml_value *v, bson_t *doc,
    const char *key, size_t klen, const char *rel, struct es_error *err)
{
	return to_bson(v, doc, key, klen, true, false, 0, rel, err);
}

/*
 * One UTF-8 sequence at s (n bytes left): its code point and length, or -1
 * for anything that is not well-formed (overlong forms, surrogates, beyond
 * U+10FFFF, cut short).
 */
static int
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	int len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return -1;
	if (n < (size_t)len)
		return -1;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return len;
}

/*
 * Code points that may appear as themselves in a scalar: what libyaml's
 * reader accepts, minus what it treats as a line break (NEL, LS, PS) and
 * the byte order mark, which it drops at the start of a line.
 */
static bool
cp_literal_ok(uint32_t c)
{
	if (c < 0x80)
		return c >= 0x20 && c != 0x7f;
	if (c < 0xa0)
		return false;
	if (c == 0x2028 || c == 0x2029 || c == 0xfeff)
		return false;
	if (c >= 0xd800 && c <= 0xdfff)
		return false;
	if (c == 0xfffe || c == 0xffff)
		return false;
	return true;
}

static bool
is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/*
 * Plain scalars other YAML readers (YAML 1.1, such as PyYAML) would not
 * read as the same string: yes/no/on/off, .inf/.nan, 0x1F, 0o17, 0b101,
 * 1_000, 1:20. (y and n, booleans in the 1.1 spec, are left plain, as
 * PyYAML reads them: keys such as x and y stay readable.) Our reader takes them as strings, but a file is also read
 * by people's tools; quoting costs nothing.
 */
static bool
yaml11_special(const char *s, size_t len)
{
	static const char *const words[] = {
		"yes", "Yes", "YES", "no", "No", "NO",
		"on", "On", "ON", "off", "Off", "OFF", "=", "<<",
		".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN",
	};
	size_t i = 0;
	bool sep = false;

	for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
		if (eq(s, len, words[w]))
			return true;
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		i = 1;
		if (eq(s + 1, len - 1, ".inf") || eq(s + 1, len - 1, ".Inf") ||
		    eq(s + 1, len - 1, ".INF"))
			return true;
	}
	if (len - i >= 2 && s[i] == '0' &&
	    (s[i + 1] == 'x' || s[i + 1] == 'o' || s[i + 1] == 'b'))
		return true;
	if (i >= len || !is_digit((unsigned char)s[i]))
		return false;
	for (; i < len; i++) {
		if (s[i] == '_' || s[i] == ':')
			sep = true;
		else if (!is_digit((unsigned char)s[i]) && s[i] != '.')
			return false;
	}
	return sep;
}

bool
es_yaml_value_plain_ok(const char *s, size_t len, enum es_yaml_ctx ctx)
{
	const unsigned char *u = (const unsigned char *)s;
	bool flow = ctx == ES_YAML_FLOW;

	if (len == 0 || is_blank(u[0]) || is_blank(u[len - 1]))
		return false;
	if (es_yaml_value_type(s, len, true, NULL) != ES_YAML_STRING ||
	    yaml11_special(s, len))
		return false;
	/* Document markers, for a key at the start of a line. */
	if (len >= 3 && (memcmp(s, "---", 3) == 0 || memcmp(s, "...", 3) == 0))
		return false;
	switch (u[0]) {
	case '-':
		/* "-x" is a plain scalar; "-" or "- x" a list entry. */
		if (len == 1 || is_blank(u[1]))
			return false;
		break;
	case '?':
	case ':':
		/* libyaml takes "?x" and ":x" as plain in block context
		 * only. */
		if (flow || len == 1 || is_blank(u[1]))
			return false;
		break;
	case ',': case '[': case ']': case '{': case '}': case '#':
	case '&': case '*': case '!': case '|': case '>': case '\'':
	case '"': case '%': case '@': case '`':
		return false;
	default:
		break;
	}
	for (size_t i = 0; i < len; ) {
		uint32_t c;
		int n = utf8_decode(u + i, len - i, &c);

		if (n < 0 || !cp_literal_ok(c))
			return false;
		if (c == ':' && (flow || i + 1 == len || is_blank(u[i + 1])))
			return false;
		if (c == '#' && i > 0 && is_blank(u[i - 1]))
			return false;
		if (flow && (c == ',' || c == '[' || c == ']' || c == '{' ||
		    c == '}'))
			return false;
		i += (size_t)n;
	}
	return true;
}

static void
render_quoted(const char *s, size_t len, struct es_buf *out)
{
	const unsigned char *u = (const unsigned char *)s;

	es_buf_addch(out, '"');
	for (size_t i = 0; i < len; ) {
		uint32_t c;
		int n = utf8_decode(u + i, len - i, &c);

		if (n < 0) {
			es_buf_addf(out, "\\x%02X", u[i]);
			i++;
			continue;
		}
		switch (c) {
		case '"':	es_buf_addstr(out, "\\\""); break;
		case '\\':	es_buf_addstr(out, "\\\\"); break;
		case 0x00:	es_buf_addstr(out, "\\0"); break;
		case 0x07:	es_buf_addstr(out, "\\a"); break;
		case 0x08:	es_buf_addstr(out, "\\b"); break;
		case '\t':	es_buf_addstr(out, "\\t"); break;
		case '\n':	es_buf_addstr(out, "\\n"); break;
		case 0x0b:	es_buf_addstr(out, "\\v"); break;
		case 0x0c:	es_buf_addstr(out, "\\f"); break;
		case '\r':	es_buf_addstr(out, "\\r"); break;
		case 0x1b:	es_buf_addstr(out, "\\e"); break;
		case 0x85:	es_buf_addstr(out, "\\N"); break;
		case 0x2028:	es_buf_addstr(out, "\\L"); break;
		case 0x2029:	es_buf_addstr(out, "\\P"); break;
		default:
			if (cp_literal_ok(c))
				es_buf_add(out, u + i, (size_t)n);
			else if (c < 0x100)
				es_buf_addf(out, "\\x%02X", (unsigned)c);
			else
				es_buf_addf(out, "\\u%04X", (unsigned)c);
			break;
		}
		i += (size_t)n;
	}
	es_buf_addch(out, '"');
}

void
es_yaml_value_render_string(const char *s, size_t len, enum es_yaml_ctx ctx,
    struct es_buf *out)
{
	if (es_yaml_value_plain_ok(s, len, ctx))
		es_buf_add(out, s, len);
	else
		render_quoted(s, len, out);
}

/*
 * The shortest "%.Ng" that reads back as d, with '.' or 'e' so that it
 * reads as a float, not an integer.
 */
static void
render_double(double d, struct es_buf *out)
{
	locale_t loc = get_c_locale(), old = (locale_t)0;
	char buf[40];

	if (loc)
		old = uselocale(loc);
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if ((loc ? strtod_l(buf, NULL, loc) : strtod(buf, NULL)) == d)
			break;
	}
	if (loc)
		uselocale(old);
	es_buf_addstr(out, buf);
	if (strpbrk(buf, ".eE") == NULL)
		es_buf_addstr(out, ".0");
}

static int
render_datetime(int64_t ms, enum es_yaml_ctx ctx, const char *where,
    struct es_buf *out, struct es_error *err)
{
	int64_t lo = es_date_to_ms(es_date_from_ymd(1, 1, 1));
	int64_t hi = es_date_to_ms(es_date_from_ymd(9999, 12, 31)) +
	    ES_MS_PER_DAY;
	es_date_t day;
	int64_t rem;
	int y, m, d;
	char buf[40];

	if (ms < lo || ms >= hi)
		return es_problem_set(err, ES_PROB_BAD_DATE, NULL, 0,
		    "date out of range in %s", where);
	day = es_date_from_ms(ms);
	rem = ms - es_date_to_ms(day);
	es_date_to_ymd(day, &y, &m, &d);
	if (rem == 0) {
		/* A date without time (SPEC §3): plain, reads as a string
		 * "YYYY-MM-DD" in any context. */
		es_buf_addf(out, "%04d-%02d-%02d", y, m, d);
		return 0;
	}
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    y, m, d, (int)(rem / 3600000), (int)(rem / 60000 % 60),
	    (int)(rem / 1000 % 60), (int)(rem % 1000));
	es_yaml_value_render_string(buf, strlen(buf), ctx, out);
	return 0;
}

int
es_yaml_value_recurse(const bson_iter_t *it, int depth, const char *where,
    bson_iter_t *child, struct es_error *err)
{
	if (depth >= DEPTH_MAX)
		return es_problem_set(err, ES_PROB_BAD_YAML, NULL, 0,
		    "nesting too deep in %s", where);
	if (!bson_iter_recurse(it, child))
		return es_problem_set(err, ES_PROB_BAD_DOCUMENT, NULL, 0,
		    "corrupt document in %s", where);
	return 0;
}

static int
render_bson(const bson_iter_t *it, enum es_yaml_ctx ctx, struct es_buf *where,
    int depth, struct es_buf *out, struct es_error *err)
{
	bson_iter_t child;
	const char *s;
	uint32_t len;
	size_t wlen = where->len;
	bool first = true;
	double d;
	int rc = -1;

	switch (bson_iter_type(it)) {
	case BSON_TYPE_NULL:
		es_buf_addstr(out, "null");
		break;
	case BSON_TYPE_BOOL:
		es_buf_addstr(out, bson_iter_bool(it) ? "true" : "false");
		break;
	case BSON_TYPE_INT32:
		es_buf_addf(out, "%" PRId32, bson_iter_int32(it));
		break;
	case BSON_TYPE_INT64:
		es_buf_addf(out, "%" PRId64, bson_iter_int64(it));
		break;
	case BSON_TYPE_DOUBLE:
		d = bson_iter_double(it);
		if (!isfinite(d)) {
			es_problem_set(err, ES_PROB_BAD_VALUE, NULL, 0,
			    "infinite or NaN number in %s", where->buf);
			goto out;
		}
		render_double(d, out);
		break;
	case BSON_TYPE_UTF8:
		s = bson_iter_utf8(it, &len);
		es_yaml_value_render_string(s, len, ctx, out);
		break;
	case BSON_TYPE_DATE_TIME:
		if (render_datetime(bson_iter_date_time(it), ctx, where->buf,
		    out, err) == -1)
			goto out;
		break;
	case BSON_TYPE_ARRAY:
	case BSON_TYPE_DOCUMENT:
		if (es_yaml_value_recurse(it, depth, where->buf, &child,
		    err) == -1)
			goto out;
		es_buf_addch(out, BSON_ITER_HOLDS_ARRAY(it) ? '[' : '{');
		while (bson_iter_next(&child)) {
			const char *k = bson_iter_key(&child);

			if (!first)
				es_buf_addstr(out, ", ");
			first = false;
			es_buf_setlen(where, wlen);
			es_buf_addf(where, ".%s", k);
			if (BSON_ITER_HOLDS_DOCUMENT(it)) {
				es_yaml_value_render_string(k,
				    bson_iter_key_len(&child), ES_YAML_FLOW,
				    out);
				es_buf_addstr(out, ": ");
			}
			if (render_bson(&child, ES_YAML_FLOW, where, depth + 1,
			    out, err) == -1)
				goto out;
		}
		es_buf_setlen(where, wlen);
		es_buf_addch(out, BSON_ITER_HOLDS_ARRAY(it) ? ']' : '}');
		break;
	default:
		es_problem_set(err, ES_PROB_BAD_VALUE, NULL, 0,
		    "unsupported value type in %s", where->buf);
		goto out;
	}
	rc = 0;
out:
	es_buf_setlen(where, wlen);
	return rc;
}

int
es_yaml_value_render_bson(const bson_iter_t *it, enum es_yaml_ctx ctx,
    const char *where, struct es_buf *out, struct es_error *err)
{
	struct es_buf w;
	int rc;

	es_buf_init(&w, 64);
	es_buf_addstr(&w, where ? where : "value");
	rc = render_bson(it, ctx, &w, 0, out, err);
	es_buf_release(&w);
	return rc;
}

bool
es_yaml_value_bson_equal(const bson_iter_t *a, const bson_iter_t *b)
{
	uint32_t la, lb;

	if (bson_iter_type(a) != bson_iter_type(b))
		return false;
	/* The value's bytes run from d1 to next_off in both iterators. */
	la = a->next_off - a->d1;
	lb = b->next_off - b->d1;
	return la == lb && memcmp(a->raw + a->d1, b->raw + b->d1, la) == 0;
}
