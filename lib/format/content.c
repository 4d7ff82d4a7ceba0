/*
 * Per-file content checks (SPEC 4.10). This runs over every file the scanner
 * reads, so the common case (long ASCII runs) is checked a machine word at a
 * time and line numbers are only counted once a fault is found.
 */
#include <stdint.h>
#include <string.h>

#include "execsync/content.h"
#include "execsync/error.h"

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

enum fault {
	FAULT_NONE,
	FAULT_NUL,
	FAULT_UTF8,
};

/*
 * True when the 8 bytes in v are all ASCII and none is NUL: no high bit set,
 * and the classic "has a zero byte" test ((v - 0x01..) & ~v & 0x80..),
 * which is exact about whether some byte is zero.
 */
static inline int
word_is_plain(uint64_t v)
{
	return ((((v - ONES) & ~v) | v) & HIGHS) == 0;
}

/*
 * Length of the valid UTF-8 sequence starting with a byte >= 0x80 at p (n
 * bytes available), or 0 when it is invalid. Ranges from RFC 3629 §4, so
 * overlong forms (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * code points above U+10FFFF (F4 90.., F5..FF) are all rejected.
 */
static size_t
utf8_seq(const uint8_t *p, size_t n)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t k, i;

	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < k)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < k; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return k;
}

/*
 * Offset of the first NUL (when nul_is_fault) or invalid UTF-8 byte, or len
 * when there is none; *what says which.
 */
static size_t
text_fault(const uint8_t *p, size_t len, int nul_is_fault, enum fault *what)
{
	size_t i = 0, slow_end = 0, k;

	*what = FAULT_NONE;
	while (i < len) {
		if (i >= slow_end && len - i >= 16) {
			uint64_t a, b;

			memcpy(&a, p + i, 8);
			memcpy(&b, p + i + 8, 8);
			if (word_is_plain(a) && word_is_plain(b)) {
				i += 16;
				continue;
			}
			/*
			 * Take these 16 bytes one at a time rather than
			 * retrying the word test at every byte before the
			 * one that failed it.
			 */
			slow_end = i + 16;
		}
		if (p[i] < 0x80) {
			if (p[i] == 0 && nul_is_fault) {
				*what = FAULT_NUL;
				return i;
			}
			i++;
			continue;
		}
		if ((k = utf8_seq(p + i, len - i)) == 0) {
			*what = FAULT_UTF8;
			return i;
		}
		i += k;
	}
	return len;
}

bool
es_content_utf8_valid(const char *data, size_t len, size_t *bad)
{
	enum fault what;
	size_t off;

	if (len == 0)
		return true;
	off = text_fault((const uint8_t *)data, len, 0, &what);
	if (what == FAULT_NONE)
		return true;
	if (bad != NULL)
		*bad = off;
	return false;
}

/* The 1-based number of the line holding byte off. */
static unsigned
line_of(const char *data, size_t off)
{
	const char *p = data, *end = data + off, *nl;
	unsigned line = 1;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		line++;
		p = nl + 1;
	}
	return line;
}

/* Length of the line at p without its "\n" or "\r\n". */
static size_t
line_len(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n;

	if (nl == NULL) {
		n = (size_t)(end - p);
		*next = end;
	} else {
		n = (size_t)(nl - p);
		*next = nl + 1;
	}
	if (n > 0 && p[n - 1] == '\r' && nl != NULL)
		n--;
	return n;
}

/*
 * True when the line of n bytes at p is the 7-character marker m, or (when
 * may_label) m followed by a space and a label, as git writes
 * "<<<<<<< HEAD" and ">>>>>>> branch".
 */
static bool
is_marker(const char *p, size_t n, const char *m, bool may_label)
{
	if (n < 7 || memcmp(p, m, 7) != 0)
		return false;
	return n == 7 || (may_label && p[7] == ' ');
}

/*
 * Offset of the start of an unresolved conflict's "<<<<<<<" line, or -1.
 * Only the first opening marker needs a look: a later one has a subset of
 * the lines after it, so if the first is not closed, none is.
 */
static long long
conflict_at(const char *data, size_t len)
{
	const char *end = data + len, *p = data, *q, *next = NULL;
	size_t n;
	int stage;

	for (;;) {
		/* memchr for the rare '<' is several times cheaper than memmem's
		 * two-way search on text that holds none (measured: the walk of
		 * every file in execsync-bench parse). */
		q = memchr(p, '<', (size_t)(end - p));
		if (q == NULL)
			return -1;
		if (q == data || q[-1] == '\n') {
			n = line_len(q, end, &next);
			if (is_marker(q, n, "<<<<<<<", true))
				break;
		}
		p = q + 1;
	}
	stage = 0;
	for (p = next; p < end; p = next) {
		n = line_len(p, end, &next);
		if (stage == 0 && is_marker(p, n, "=======", false))
			stage = 1;
		else if (stage == 1 && is_marker(p, n, ">>>>>>>", true))
			return (long long)(q - data);
	}
	return -1;
}

int
es_content_check(const char *data, size_t len, size_t max_size,
    const char *rel, struct es_error *err)
{
	enum fault what;
	size_t off;
	long long c;

	if (len > max_size)
		return es_problem_set(err, ES_PROB_TOO_LARGE, rel, 0,
		    "file is %zu bytes, over the %zu-byte limit", len,
		    max_size);
	if (len == 0)
		return 0;
	off = text_fault((const uint8_t *)data, len, 1, &what);
	if (what == FAULT_NUL)
		return es_problem_set(err, ES_PROB_NUL_BYTE, rel, line_of(data, off),
		    "NUL byte");
	if (what == FAULT_UTF8)
		return es_problem_set(err, ES_PROB_BAD_UTF8, rel, line_of(data, off),
		    "invalid UTF-8");
	if ((c = conflict_at(data, len)) >= 0)
		return es_problem_set(err, ES_PROB_CONFLICT_MARKERS, rel,
		    line_of(data, (size_t)c),
		    "unresolved git conflict marker '<<<<<<<'");
	return 0;
}
