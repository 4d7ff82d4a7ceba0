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
#include <unistr.h>

#include "execsync/buf.h"
#include "execsync/error.h"
#include "execsync/slug.h"
#include "execsync/xmalloc.h"

#define CAPITAL_SIGMA	"\xce\xa3"	/* U+03A3 */
#define SMALL_SIGMA	"\xcf\x83"	/* U+03C3 */
#define FINAL_SIGMA	"\xcf\x82"	/* U+03C2 */

/*
 * Python's str.isspace(), which is what "\s" matches in the API's regular
 * expressions (and what str.strip() strips): bidirectional class WS, B or
 * S, or category Zs. So U+001C..U+001F and U+0085 are whitespace to Python,
 * U+200B and U+FEFF are not. libunistring 1.0 and Python 3.11 both have
 * Unicode 14.0.0; tests/unit/slug-table checks every code point.
 */
static bool
is_py_space(ucs4_t c)
{
	int bidi;

	if (c < 0x80)
		return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
	bidi = uc_bidi_category(c);
	return bidi == UC_BIDI_WS || bidi == UC_BIDI_B || bidi == UC_BIDI_S ||
	    uc_is_general_category(c, UC_CATEGORY_Zs);
}

/*
 * Python's "\w" on str, less '_' (a separator here): str.isalnum(), that is
 * a letter (Lu Ll Lt Lm Lo) or a character with a numeric type. Under
 * Unicode 14.0.0 the characters with a numeric type that are not letters
 * are exactly N* (Nd, Nl, No: ², ①, Ⅻ, ½ ...); the CJK numerals with a
 * value (一, 兆) are Lo. Marks (M*), so a decomposed accent, are not word
 * characters.
 */
static bool
is_py_word(ucs4_t c)
{
	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
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
 * A copy of the n bytes at s with each byte that is not part of valid
 * UTF-8 replaced by U+FFFD, as Python's s.decode("utf-8", "replace") does
 * (it gives one U+FFFD per maximal bad sequence, we one per byte: the same
 * slug, as U+FFFD is dropped and is neither cased nor case-ignorable).
 */
static uint8_t *
utf8_replace(const uint8_t *s, size_t n, size_t *outlen)
{
	static const uint8_t fffd[] = { 0xef, 0xbf, 0xbd };
	uint8_t *out = es_xmalloc(3 * n + 1);
	size_t i = 0, o = 0;

	while (i < n) {
		ucs4_t c;
		int k = u8_mbtoucr(&c, s + i, n - i);

		if (k < 0) {
			memcpy(out + o, fffd, sizeof(fffd));
			o += sizeof(fffd);
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

/*
 * Whether the capital sigma at byte at of the n bytes at s lower-cases to
 * the final form, as Python's str.lower() decides it (handle_capital_sigma()
 * in Objects/unicodeobject.c): skipping case-ignorable characters, a cased
 * character comes before it and none comes after. A character both cased
 * and case-ignorable (U+0345, U+02B0) is skipped. u8_tolower()'s own
 * Final_Sigma decides these, and an apostrophe, otherwise (its casing
 * context has a case-ignorable set of its own), so it never sees a capital
 * sigma; the Case_Ignorable and Cased properties of unictype are Python's.
 */
static bool
sigma_is_final(const uint8_t *s, size_t n, size_t at)
{
	const uint8_t *p = s + at;
	ucs4_t c = 0;
	size_t i;

	while ((p = u8_prev(&c, p, s)) != NULL &&
	    uc_is_property_case_ignorable(c))
		;
	if (p == NULL || !uc_is_property_cased(c))
		return false;
	for (i = at + sizeof(CAPITAL_SIGMA) - 1; i < n;) {
		int k = u8_mbtouc_unsafe(&c, s + i, n - i);

		if (!uc_is_property_case_ignorable(c))
			return !uc_is_property_cased(c);
		i += (size_t)k;
	}
	return true;
}

/*
 * str.lower() of the n bytes at s (valid UTF-8) into out: libunistring's
 * full lower-casing (the unconditional special casings, 'İ' -> "i̇"; no
 * language, no normalisation) between capital sigmas, and each capital
 * sigma as sigma_is_final() says.
 */
static void
py_lower(const uint8_t *s, size_t n, struct es_buf *out)
{
	size_t i = 0;

	/* In valid UTF-8, CE A3 is always U+03A3 (CE never continues). */
	while (i < n) {
		const uint8_t *sig = memmem(s + i, n - i, CAPITAL_SIGMA,
		    sizeof(CAPITAL_SIGMA) - 1);
		size_t end = sig != NULL ? (size_t)(sig - s) : n;

		if (end > i) {
			size_t llen = 0;
			uint8_t *low = u8_tolower(s + i, end - i, NULL, NULL,
			    NULL, &llen);

			if (low == NULL)
				oom();
			es_buf_add(out, low, llen);
			free(low);
		}
		if (sig == NULL)
			break;
		es_buf_addstr(out, sigma_is_final(s, n, end) ? FINAL_SIGMA :
		    SMALL_SIGMA);
		i = end + sizeof(CAPITAL_SIGMA) - 1;
	}
}

/*
 * The API's four steps in one pass over text.lower(): strip(), drop what is
 * not \w, \s or '-', turn runs of [\s_-] into '-', strip '-'. A separator is
 * written only when a word character follows it, which strips both ends;
 * a dropped character does not end a run ("a - ! - b" is "a-b").
 */
char *
es_slugify(const char *s, size_t len)
{
	const uint8_t *in = (const uint8_t *)s;
	uint8_t *fixed = NULL;
	size_t n = len, i;
	struct es_buf low = ES_BUF_INIT, b = ES_BUF_INIT;
	bool sep = false;

	if (len == 0)
		return es_xstrdup("");
	if (u8_check(in, n) != NULL) {
		fixed = utf8_replace(in, n, &n);
		in = fixed;
	}
	py_lower(in, n, &low);
	es_buf_grow(&b, low.len);
	for (i = 0; i < low.len;) {
		ucs4_t c;
		int k = u8_mbtouc_unsafe(&c, (const uint8_t *)low.buf + i,
		    low.len - i);

		if (c == '-' || c == '_' || is_py_space(c))
			sep = true;
		else if (is_py_word(c)) {
			if (sep && b.len > 0)
				es_buf_addch(&b, '-');
			sep = false;
			es_buf_add(&b, low.buf + i, (size_t)k);
		}
		i += (size_t)k;
	}
	es_buf_release(&low);
	free(fixed);
	return es_buf_detach(&b, NULL);
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

/*
 * One path component of at most max bytes: not empty, valid UTF-8, no '/',
 * '\\' or control characters, not starting with '.' (which also rules out
 * "." and "..": no hidden files, no way up).
 */
static bool
name_is_safe(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > max || s[0] == '.')
		return false;
	if (strchr(s, '/') != NULL || strchr(s, '\\') != NULL)
		return false;
	return utf8_no_controls(s, n);
}

bool
es_slug_is_safe(const char *s)
{
	return name_is_safe(s, ES_SLUG_MAX);
}

char *
es_area_dirname(const char *area, struct es_error *err)
{
	char *slug = NULL;
	size_t n;

	if (area == NULL)
		area = "";
	n = strlen(area);
	/*
	 * SPEC 4.11: a value that looks like a path is reported, not quietly
	 * turned into a harmless slug ("/etc" would slugify to "etc"). Bytes
	 * that are not UTF-8 are not an area the API could hold: reported
	 * too, rather than a folder named from a guess. Whitespace and
	 * control characters are the slug's business ("a\tb" is "a-b").
	 */
	if (strchr(area, '/') == NULL && strchr(area, '\\') == NULL &&
	    u8_check((const uint8_t *)area, n) == NULL) {
		slug = es_slugify(area, n);
		if (!name_is_safe(slug, ES_NAME_MAX)) {
			free(slug);
			slug = NULL;
		}
	}
	if (slug == NULL)
		es_problem_set(err, ES_PROB_UNSAFE_PATH, NULL, 0, "unsafe area '%s'",
		    area);
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

char *
es_slug_nfc(const char *s)
{
	const uint8_t *in = (const uint8_t *)s;
	size_t n = strlen(s), len = 0;
	uint8_t *nfc;
	char *out;

	if (u8_check(in, n) != NULL)
		return NULL;
	if ((nfc = u8_normalize(UNINORM_NFC, in, n, NULL, &len)) == NULL)
		return NULL;
	if (len == n && memcmp(nfc, in, n) == 0) {
		free(nfc);
		return NULL;
	}
	out = es_xmemdup(nfc, len);
	free(nfc);
	return out;
}
