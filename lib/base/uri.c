/*
 * Textual redaction of MongoDB URIs (SPEC §4.11). libmongoc is not used:
 * it rejects the malformed URIs we most need to redact in error messages,
 * logs warnings while parsing, and its mongoc_uri_get_string() keeps the
 * password (NOTES-deps §1e).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "execsync/buf.h"
#include "execsync/uri.h"
#include "execsync/xmalloc.h"

#define NONE	SIZE_MAX
#define MASK	"***"

struct span {
	size_t	off;
	size_t	len;
};

/* Secret spans of one URI, in increasing order, never overlapping. */
struct spans {
	struct span	*v;
	size_t		 n;
	size_t		 alloc;
};

/* ASCII classes by hand: the C locale's ctype must not matter here. */
static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int
hexval(char c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
spans_add(struct spans *sp, size_t off, size_t len)
{
	if (sp->n == sp->alloc) {
		sp->alloc = sp->alloc ? sp->alloc * 2 : 4;
		sp->v = es_xreallocarray(sp->v, sp->alloc, sizeof(*sp->v));
	}
	sp->v[sp->n].off = off;
	sp->v[sp->n].len = len;
	sp->n++;
}

/* Index of the first byte of s[from..to) in set, else to. */
static size_t
find_first_of(const char *s, size_t from, size_t to, const char *set)
{
	for (size_t i = from; i < to; i++)
		if (strchr(set, s[i]) != NULL)
			return i;
	return to;
}

static size_t
find_last(const char *s, size_t from, size_t to, char c)
{
	for (size_t i = to; i > from; i--)
		if (s[i - 1] == c)
			return i - 1;
	return NONE;
}

/* Where the part after "scheme://" starts; 0 when there is no scheme. */
static size_t
after_scheme(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !is_alpha(s[0]))
		return 0;
	for (i = 1; i < len; i++)
		if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '+' &&
		    s[i] != '-' && s[i] != '.')
			break;
	if (len - i >= 3 && memcmp(s + i, "://", 3) == 0)
		return i + 3;
	return 0;
}

/*
 * s[from..to) is a host list as a well-formed URI has it: host[:port],
 * comma separated; a host is a name, an IPv4 address, "[v6]" or a
 * percent-encoded socket path.
 */
static bool
hosts_valid(const char *s, size_t from, size_t to)
{
	size_t i = from;

	if (from >= to)
		return false;
	for (;;) {
		size_t start = i;

		if (s[i] == '[') {
			for (i++; i < to && s[i] != ']'; i++)
				if (hexval(s[i]) < 0 && s[i] != ':' &&
				    s[i] != '.' && s[i] != '%' &&
				    !is_alpha(s[i]))
					return false;
			if (i == to)
				return false;
			i++;
		} else {
			for (; i < to && s[i] != ':' && s[i] != ','; i++)
				if (!is_alpha(s[i]) && !is_digit(s[i]) &&
				    s[i] != '.' && s[i] != '-' && s[i] != '_' &&
				    s[i] != '%')
					return false;
			if (i == start)
				return false;
		}
		if (i < to && s[i] == ':') {
			size_t p = ++i;

			while (i < to && is_digit(s[i]))
				i++;
			if (i == p || i - p > 5)
				return false;
		}
		if (i == to)
			return true;
		if (s[i] != ',')
			return false;
		i++;
	}
}

/*
 * What follows the host list of a well-formed URI: "[/db][?k=v&...]", an
 * '@' appearing only inside an option's value. False when an '@' there
 * cannot be data, so the '@' must have ended the user info.
 */
static bool
tail_plausible(const char *s, size_t from, size_t len)
{
	size_t i = from, q;

	if (i < len && s[i] == '/') {
		q = find_first_of(s, i, len, "?");
		if (memchr(s + i, '@', q - i) != NULL)
			return false;
		i = q;
	}
	if (i == len)
		return true;
	if (s[i] != '?')
		return false;
	for (i++; i <= len;) {
		size_t end = find_first_of(s, i, len, "&;");
		size_t eq = find_first_of(s, i, end, "=");
		size_t at = find_first_of(s, i, end, "@");

		if (at < eq)
			return false;
		i = end + 1;
	}
	return true;
}

/* Case-insensitive: does s[0..n) contain the lower-case word w? */
static bool
contains_word(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; i + wl <= n; i++) {
		size_t j;

		for (j = 0; j < wl && lower(s[i + j]) == w[j]; j++)
			;
		if (j == wl)
			return true;
	}
	return false;
}

static bool
option_is_secret(const char *k, size_t n)
{
	static const char amp[] = "authmechanismproperties";

	if (n == sizeof(amp) - 1 && contains_word(k, n, amp))
		return true;
	return contains_word(k, n, "password") ||
	    contains_word(k, n, "secret") || contains_word(k, n, "token");
}

/* Fills sp with the secrets of s[0..len) (see uri.h for the rules). */
static void
uri_scan(const char *s, size_t len, struct spans *sp)
{
	size_t rest, strict_end, strict_at, greedy_at, ui_end, after, q;

	rest = after_scheme(s, len);
	strict_end = find_first_of(s, rest, len, "/?");
	strict_at = find_last(s, rest, strict_end, '@');
	greedy_at = find_last(s, rest, len, '@');
	if (greedy_at == NONE || greedy_at == strict_at)
		ui_end = greedy_at;
	else if (hosts_valid(s, strict_at == NONE ? rest : strict_at + 1,
	    strict_end) && tail_plausible(s, strict_end, len))
		/* A well-formed URI with an '@' in an option value. */
		ui_end = strict_at;
	else
		/* Garbage: take the widest user info, hide more. */
		ui_end = greedy_at;

	after = rest;
	if (ui_end != NONE) {
		const char *colon = memchr(s + rest, ':', ui_end - rest);

		if (colon != NULL) {
			size_t p = (size_t)(colon - s) + 1;

			spans_add(sp, p, ui_end - p);
		}
		after = ui_end + 1;
	}
	q = find_first_of(s, after, len, "?");
	for (size_t i = q + 1; i <= len && q < len;) {
		size_t end = find_first_of(s, i, len, "&;");
		size_t eq = find_first_of(s, i, end, "=");

		if (eq < end && option_is_secret(s + i, eq - i))
			spans_add(sp, eq + 1, end - eq - 1);
		i = end + 1;
	}
}

/* Appends s[0..len) to out with the secrets masked. */
static void
redact_into(struct es_buf *out, const char *s, size_t len)
{
	struct spans sp = { NULL, 0, 0 };
	size_t pos = 0;

	uri_scan(s, len, &sp);
	for (size_t i = 0; i < sp.n; i++) {
		es_buf_add(out, s + pos, sp.v[i].off - pos);
		es_buf_addstr(out, MASK);
		pos = sp.v[i].off + sp.v[i].len;
	}
	es_buf_add(out, s + pos, len - pos);
	free(sp.v);
}

char *
es_uri_redact(const char *uri)
{
	struct es_buf out;

	if (uri == NULL)
		return NULL;
	es_buf_init(&out, strlen(uri) + 8);
	redact_into(&out, uri, strlen(uri));
	return es_buf_detach(&out, NULL);
}

/* Percent-decodes s[0..len); invalid escapes stay as they are. */
static char *
pct_decode(const char *s, size_t len, size_t *outlen)
{
	char *d = es_xmalloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			d[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			d[n++] = s[i];
	}
	d[n] = '\0';
	*outlen = n;
	return d;
}

struct secret {
	char	*s;
	size_t	 len;
};

static int
secret_cmp(const void *a, const void *b)
{
	const struct secret *x = a, *y = b;

	/* Longest first, so "p%40ss" is masked whole before "p". */
	return x->len < y->len ? 1 : x->len > y->len ? -1 : 0;
}

static bool
starts_uri(const char *s)
{
	return strncasecmp(s, "mongodb://", 10) == 0 ||
	    strncasecmp(s, "mongodb+srv://", 14) == 0;
}

char *
es_uri_redact_message(const char *msg, const char *uri)
{
	struct es_buf pass1, out;
	struct spans sp = { NULL, 0, 0 };
	struct secret *sec = NULL;
	size_t nsec = 0;
	const char *p;

	if (msg == NULL)
		return NULL;

	/* URIs quoted in the message, whoever's they are. */
	es_buf_init(&pass1, strlen(msg) + 8);
	for (p = msg; *p != '\0';) {
		if ((p == msg || !is_alpha(p[-1])) && starts_uri(p)) {
			size_t n = strcspn(p, " \t\r\n\"'`<>");

			redact_into(&pass1, p, n);
			p += n;
		} else
			es_buf_addch(&pass1, *p++);
	}

	/* The known URI's secrets, raw and decoded, anywhere in it. */
	if (uri != NULL) {
		uri_scan(uri, strlen(uri), &sp);
		sec = es_xreallocarray(NULL, sp.n * 2 + 1, sizeof(*sec));
		for (size_t i = 0; i < sp.n; i++) {
			const char *raw = uri + sp.v[i].off;
			size_t rl = sp.v[i].len, dl;
			char *dec;

			if (rl == 0)
				continue;
			sec[nsec].s = es_xmemdup(raw, rl);
			sec[nsec++].len = rl;
			dec = pct_decode(raw, rl, &dl);
			/* A decoded NUL cannot occur in a C string message. */
			if (dl > 0 && (dl != rl || memcmp(dec, raw, rl) != 0) &&
			    memchr(dec, '\0', dl) == NULL) {
				sec[nsec].s = dec;
				sec[nsec++].len = dl;
			} else
				free(dec);
		}
		qsort(sec, nsec, sizeof(*sec), secret_cmp);
	}
	es_buf_init(&out, pass1.len + 8);
	for (size_t i = 0; i < pass1.len;) {
		size_t k;

		for (k = 0; k < nsec; k++)
			if (sec[k].len <= pass1.len - i &&
			    memcmp(pass1.buf + i, sec[k].s, sec[k].len) == 0)
				break;
		if (k < nsec) {
			es_buf_addstr(&out, MASK);
			i += sec[k].len;
		} else
			es_buf_addch(&out, pass1.buf[i++]);
	}

	for (size_t k = 0; k < nsec; k++)
		free(sec[k].s);
	free(sec);
	free(sp.v);
	es_buf_release(&pass1);
	return es_buf_detach(&out, NULL);
}

/*
 * The user information of a mongodb:// or mongodb+srv:// URI: what comes
 * before the last '@' ahead of the options ('?'). Sets *len; NULL when
 * there is none.
 */
static const char *
userinfo(const char *uri, size_t *len)
{
	const char *s, *end, *at = NULL;

	if (uri == NULL || (s = strstr(uri, "://")) == NULL)
		return NULL;
	s += 3;
	end = s + strcspn(s, "?");
	for (const char *p = s; p < end; p++)
		if (*p == '@')
			at = p;
	if (at == NULL)
		return NULL;
	*len = (size_t)(at - s);
	return s;
}

bool
es_uri_has_password(const char *uri)
{
	size_t len;
	const char *u = userinfo(uri, &len);

	return u != NULL && memchr(u, ':', len) != NULL;
}

bool
es_uri_userinfo_has_at(const char *uri)
{
	size_t len;
	const char *u = userinfo(uri, &len);

	return u != NULL && memchr(u, '@', len) != NULL;
}
