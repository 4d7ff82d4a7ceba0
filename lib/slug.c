/*
 * Slugs the way the API makes them, and the checks that keep database values
 * from leaving the root (SPEC §2, SPEC 4.11).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/slug.h"
#include "execsync/xmalloc.h"

/*
 * Python's str.isspace(), which is what "\s" matches in the API's regular
 * expressions: bidirectional class WS, B or S, or category Zs. Note
 * U+001C..U+001F are whitespace to Python.
 */
static bool
is_py_space(ucs4_t c)
{
	if (c >= 0x09 && c <= 0x0d)
		return true;
	if (c >= 0x1c && c <= 0x20)
		return true;
	if (c < 0x80)
		return false;
	if (c == 0x85 || c == 0xa0 || c == 0x1680)
		return true;
	if (c >= 0x2000 && c <= 0x200a)
		return true;
	return c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

/*
 * Python's "\w" on str: str.isalnum() (letters L*, and the numeric
 * characters, which are N* plus CJK ideographs that are L* anyway) or '_'.
 * Combining marks (M*) are not word characters.
 */
static bool
is_py_word(ucs4_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_';
	return uc_is_general_category(c, UC_CATEGORY_L) ||
	    uc_is_general_category(c, UC_CATEGORY_N);
}

static bool
is_control(ucs4_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

static void
oom(void)
{
	fputs("execsync: out of memory\n", stderr);
	abort();
}

/*
 * A copy of s without its invalid UTF-8 bytes: a title the API could never
 * have stored (its strings are Unicode), so dropping them like punctuation
 * is the nearest meaning.
 */
static uint8_t *
utf8_clean(const uint8_t *s, size_t n, size_t *outlen)
{
	uint8_t *out = es_xmalloc(n + 1);
	size_t i = 0, o = 0;

	while (i < n) {
		ucs4_t c;
		int k = u8_mbtoucr(&c, s + i, n - i);

		if (k < 0) {
			i++;
			continue;
		}
		memcpy(out + o, s + i, (size_t)k);
		o += (size_t)k;
		i += (size_t)k;
	}
	*outlen = o;
	return out;
}

char *
es_slugify(const char *s, size_t len)
{
	const uint8_t *in = (const uint8_t *)s;
	uint8_t *clean = NULL, *norm = NULL, *low = NULL;
	size_t n = len, nlen = 0, llen = 0, i;
	struct es_buf b = ES_BUF_INIT;
	bool in_sep = false;
	size_t start, end;
	char *ret;

	if (len == 0)
		return es_xstrdup("");
	if (u8_check(in, n) != NULL) {
		clean = utf8_clean(in, n, &n);
		in = clean;
		if (n == 0) {
			free(clean);
			return es_xstrdup("");
		}
	}
	/* The API's order: NFKC first, then lower(), then the filters. */
	norm = u8_normalize(UNINORM_NFKC, in, n, NULL, &nlen);
	if (norm == NULL)
		oom();
	low = u8_tolower(norm, nlen, NULL, NULL, NULL, &llen);
	if (low == NULL)
		oom();

	es_buf_grow(&b, llen);
	for (i = 0; i < llen;) {
		ucs4_t c;
		int k = u8_mbtouc_unsafe(&c, low + i, llen - i);

		if (k <= 0)
			break;
		if (is_py_word(c)) {
			es_buf_add(&b, low + i, (size_t)k);
			in_sep = false;
		} else if (c == '-' || is_py_space(c)) {
			/*
			 * Dropped characters do not end a run: "a - ! - b"
			 * is "a -  - b" after the drop, so "a-b".
			 */
			if (!in_sep)
				es_buf_addch(&b, '-');
			in_sep = true;
		}
		i += (size_t)k;
	}

	/* strip("-_") */
	start = 0;
	end = b.len;
	while (start < end && (b.buf[start] == '-' || b.buf[start] == '_'))
		start++;
	while (end > start && (b.buf[end - 1] == '-' || b.buf[end - 1] == '_'))
		end--;
	ret = es_xmemdup(b.buf + start, end - start);

	es_buf_release(&b);
	free(low);
	free(norm);
	free(clean);
	return ret;
}

/* True when the n bytes at s are valid UTF-8 without control characters. */
static bool
utf8_no_controls(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i;

	if (u8_check(p, n) != NULL)
		return false;
	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
		/* C1 controls U+0080..U+009F are C2 80..C2 9F. */
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] <= 0x9f)
			return false;
	}
	return true;
}

bool
es_slug_is_safe(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > ES_SLUG_MAX)
		return false;
	/* Also rules out "." and "..": no hidden files, no way up. */
	if (s[0] == '.')
		return false;
	if (strchr(s, '/') != NULL || strchr(s, '\\') != NULL)
		return false;
	return utf8_no_controls(s, n);
}

char *
es_area_dirname(const char *area, struct es_error *err)
{
	char *slug = NULL;

	if (area == NULL || area[0] == '\0') {
		es_error_set(err, ES_EUNSAFE, NULL, 0, "unsafe area ''");
		goto out;
	}
	/*
	 * SPEC 4.11: a value that looks like a path is reported, not quietly
	 * turned into a harmless slug ("/etc" would slugify to "etc").
	 */
	if (area[0] == '.' || strchr(area, '/') != NULL ||
	    strchr(area, '\\') != NULL ||
	    !utf8_no_controls(area, strlen(area))) {
		es_error_set(err, ES_EUNSAFE, NULL, 0, "unsafe area '%s'",
		    area);
		goto out;
	}
	slug = es_slugify(area, strlen(area));
	if (!es_slug_is_safe(slug)) {
		es_error_set(err, ES_EUNSAFE, NULL, 0, "unsafe area '%s'",
		    area);
		free(slug);
		slug = NULL;
	}
out:
	return slug;
}

bool
es_context_is_valid(const char *ctx)
{
	const uint8_t *p = (const uint8_t *)ctx;
	size_t n, i;

	if (ctx == NULL || ctx[0] != '@')
		return false;
	n = strlen(ctx);
	if (n < 2 || n > ES_SLUG_MAX)
		return false;
	if (strcmp(ctx, "@.") == 0 || strcmp(ctx, "@..") == 0)
		return false;
	if (u8_check(p, n) != NULL)
		return false;
	for (i = 1; i < n;) {
		ucs4_t c;
		int k = u8_mbtouc_unsafe(&c, p + i, n - i);

		if (k <= 0)
			return false;
		if (c == '/' || c == '\\' || is_control(c) || is_py_space(c))
			return false;
		i += (size_t)k;
	}
	return true;
}

char *
es_slug_unique(const char *base, bool (*taken)(const char *slug, void *ud),
    void *ud)
{
	char *cand = es_xstrdup(base);
	unsigned long n;

	for (n = 2; taken(cand, ud); n++) {
		free(cand);
		cand = es_xasprintf("%s-%lu", base, n);
	}
	return cand;
}
