/*
 * The log (STYLE "Logging"). Levels map to sd-daemon priorities in one
 * place, level_prio(), as openrsync's log_priority() does; every message is
 * redacted and escaped (tmux's log_vwrite() passes messages through
 * stravis()) before it reaches a stream or the hook.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <mongoc/mongoc.h>

#include "execsync/buf.h"
#include "execsync/log.h"
#include "execsync/uri.h"
#include "execsync/xmalloc.h"

typedef void (*hook_fn)(enum es_log_level, const char *, const char *,
    void *);

/*
 * The level is read before taking the mutex, so that a debug call costs
 * nothing when debug is off: atomic. Everything else is read and written
 * under log_mtx.
 */
static atomic_int	 log_level = ES_LOG_INFO;
static pthread_mutex_t	 log_mtx = PTHREAD_MUTEX_INITIALIZER;
static FILE		*log_stream;		/* NULL: stderr */
static bool		 log_json;
static int		 log_journald = -1;	/* -1: detect */
static int		 log_journald_detected = -1; /* of log_stream */
static hook_fn		 log_hook;
static void		*log_hook_ud;
static char		*log_secret_uri;
/* Set while the hook runs on this thread: its own es_log() calls drop. */
static _Thread_local bool in_hook;

static const char *const level_names[] = {
	[ES_LOG_ERROR] = "error",
	[ES_LOG_WARN] = "warn",
	[ES_LOG_INFO] = "info",
	[ES_LOG_DEBUG] = "debug",
};

/* sd-daemon(3) priorities: err, warning, info, debug. */
static int
level_prio(enum es_log_level l)
{
	switch (l) {
	case ES_LOG_ERROR:	return 3;
	case ES_LOG_WARN:	return 4;
	case ES_LOG_INFO:	return 6;
	case ES_LOG_DEBUG:	return 7;
	}
	return 3;
}

static enum es_log_level
clamp_level(enum es_log_level l)
{
	if ((int)l < (int)ES_LOG_ERROR)
		return ES_LOG_ERROR;
	if ((int)l > (int)ES_LOG_DEBUG)
		return ES_LOG_DEBUG;
	return l;
}

void
es_log_set_level(enum es_log_level l)
{
	atomic_store(&log_level, (int)clamp_level(l));
}

enum es_log_level
es_log_get_level(void)
{
	return (enum es_log_level)atomic_load(&log_level);
}

const char *
es_log_level_name(enum es_log_level l)
{
	return level_names[clamp_level(l)];
}

bool
es_log_level_parse(const char *s, enum es_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	    i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum es_log_level)i;
			return true;
		}
	if (strcasecmp(s, "warning") == 0) {
		*out = ES_LOG_WARN;
		return true;
	}
	return false;
}

void
es_log_set_json(bool on)
{
	pthread_mutex_lock(&log_mtx);
	log_json = on;
	pthread_mutex_unlock(&log_mtx);
}

void
es_log_set_journald(bool on)
{
	pthread_mutex_lock(&log_mtx);
	log_journald = on;
	pthread_mutex_unlock(&log_mtx);
}

void
es_log_set_journald_auto(void)
{
	pthread_mutex_lock(&log_mtx);
	log_journald = -1;
	log_journald_detected = -1;
	pthread_mutex_unlock(&log_mtx);
}

void
es_log_set_stream(FILE *f)
{
	pthread_mutex_lock(&log_mtx);
	log_stream = f;
	log_journald_detected = -1;
	pthread_mutex_unlock(&log_mtx);
}

void
es_log_set_hook(hook_fn fn, void *ud)
{
	pthread_mutex_lock(&log_mtx);
	log_hook = fn;
	log_hook_ud = ud;
	pthread_mutex_unlock(&log_mtx);
}

void
es_log_set_secret_uri(const char *uri)
{
	char *copy = uri != NULL ? es_xstrdup(uri) : NULL;

	pthread_mutex_lock(&log_mtx);
	free(log_secret_uri);
	log_secret_uri = copy;
	pthread_mutex_unlock(&log_mtx);
}

/*
 * systemd sets JOURNAL_STREAM=<dev>:<inode> for a service whose stderr is
 * the journal (systemd.exec(5)); a child whose stderr was redirected
 * inherits the variable but not the file, hence the comparison.
 */
static bool
stream_is_journal(FILE *f)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int fd, n = 0;

	if (js == NULL || sscanf(js, "%llu:%llu%n", &dev, &ino, &n) != 2 ||
	    js[n] != '\0')
		return false;
	if ((fd = fileno(f)) < 0 || fstat(fd, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

bool
es_log_to_journal(void)
{
	bool on;

	pthread_mutex_lock(&log_mtx);
	on = log_journald >= 0 ? log_journald != 0 :
	    stream_is_journal(log_stream != NULL ? log_stream : stderr);
	pthread_mutex_unlock(&log_mtx);
	return on;
}

static void
put_escaped(struct es_buf *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";

	es_buf_addch(out, '\\');
	es_buf_addch(out, 'x');
	es_buf_addch(out, hex[c >> 4]);
	es_buf_addch(out, hex[c & 15]);
}

/*
 * Length of the valid UTF-8 sequence at s (n bytes left) with a lead byte
 * >= 0x80, or 0 when it is not one (Unicode 15 table 3-7).
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void
es_log_escape(struct es_buf *out, const void *data, size_t len)
{
	const unsigned char *s = data;
	size_t i = 0, n;

	es_buf_grow(out, len);
	while (i < len) {
		unsigned char c = s[i];

		if (c >= 0x80) {
			n = utf8_seq(s + i, len - i);
			if (n == 0) {
				put_escaped(out, c);
				i++;
			} else if (n == 2 && c == 0xc2 && s[i + 1] < 0xa0) {
				/* C1 controls: CSI (U+009B) drives a tty. */
				put_escaped(out, c);
				put_escaped(out, s[i + 1]);
				i += 2;
			} else {
				es_buf_add(out, s + i, n);
				i += n;
			}
			continue;
		}
		switch (c) {
		case '\n':
			es_buf_addstr(out, "\\n");
			break;
		case '\r':
			es_buf_addstr(out, "\\r");
			break;
		case '\t':
			es_buf_addstr(out, "\\t");
			break;
		case '\\':
			es_buf_addstr(out, "\\\\");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				put_escaped(out, c);
			else
				es_buf_addch(out, (char)c);
		}
		i++;
	}
}

/* "2025-11-09T12:34:56.789Z" */
static void
format_time(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL ||
	    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(out, size, "-");
		return;
	}
	snprintf(out, size, "%s.%03dZ", base,
	    (int)(ts.tv_nsec / 1000000L % 1000));
}

/* One finished line into line (without the newline). Under log_mtx. */
static void
render(struct es_buf *line, enum es_log_level l, const char *sub,
    const char *msg, bool journald)
{
	char ts[64];
	json_t *obj;
	char *js;

	format_time(ts, sizeof(ts));
	if (journald)
		es_buf_addf(line, "<%d>", level_prio(l));
	if (log_json) {
		/* sub and msg are escaped: valid UTF-8, as jansson needs. */
		obj = json_pack("{s:s, s:s, s:s, s:s}", "ts", ts, "level",
		    level_names[l], "sub", sub, "msg", msg);
		js = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
		json_decref(obj);
		if (js != NULL) {
			es_buf_addstr(line, js);
			free(js);
			return;
		}
	}
	if (!journald)
		es_buf_addf(line, "%s ", ts);
	es_buf_addf(line, "%s %s %s", level_names[l], sub, msg);
}

static void
emit(enum es_log_level l, const char *sub, const char *raw)
{
	struct es_buf esub = ES_BUF_INIT, emsg = ES_BUF_INIT;
	struct es_buf line = ES_BUF_INIT;
	bool write, journald;
	char *safe;
	FILE *f;
	size_t n;

	pthread_mutex_lock(&log_mtx);
	write = (int)l <= atomic_load(&log_level);
	if (!write && (log_hook == NULL || l > ES_LOG_WARN))
		goto out;

	safe = es_uri_redact_message(raw, log_secret_uri);
	n = strlen(safe);
	es_log_escape(&emsg, safe, n > ES_LOG_MSG_MAX ? ES_LOG_MSG_MAX : n);
	if (n > ES_LOG_MSG_MAX)
		es_buf_addstr(&emsg, " [truncated]");
	free(safe);
	es_log_escape(&esub, sub, strlen(sub));

	if (write) {
		f = log_stream != NULL ? log_stream : stderr;
		if (log_journald >= 0)
			journald = log_journald;
		else {
			if (log_journald_detected < 0)
				log_journald_detected = stream_is_journal(f);
			journald = log_journald_detected;
		}
		render(&line, l, esub.buf, emsg.buf, journald);
		es_buf_addch(&line, '\n');
		/* Nothing to report a failed log write to: drop it. */
		(void)fwrite(line.buf, 1, line.len, f);
		(void)fflush(f);
	}
	if (log_hook != NULL) {
		in_hook = true;
		log_hook(l, esub.buf, emsg.buf, log_hook_ud);
		in_hook = false;
	}
out:
	pthread_mutex_unlock(&log_mtx);
	es_buf_release(&esub);
	es_buf_release(&emsg);
	es_buf_release(&line);
}

void
es_log(enum es_log_level l, const char *sub, const char *fmt, ...)
{
	struct es_buf msg = ES_BUF_INIT;
	va_list ap;

	l = clamp_level(l);
	/* Errors and warnings may still be wanted by the hook. */
	if ((int)l > atomic_load(&log_level) && l > ES_LOG_WARN)
		return;
	if (in_hook)
		return;
	va_start(ap, fmt);
	es_buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	emit(l, sub != NULL ? sub : "-", msg.buf);
	es_buf_release(&msg);
}

void
es_log_error(const struct es_error *err, enum es_log_level l, const char *sub)
{
	char buf[PATH_MAX + 600];

	es_log(l, sub, "%s", es_error_format(err, buf, sizeof(buf)));
}

static void
mongoc_handler(mongoc_log_level_t ml, const char *domain, const char *msg,
    void *ud)
{
	enum es_log_level l;

	(void)ud;
	/*
	 * FerretDB 1.24 has no endSessions command, and libmongoc warns about
	 * it when a client closes, after the work is done: nothing a person
	 * can act on.
	 */
	if (msg != NULL && strstr(msg, "endSessions") != NULL)
		return;
	switch (ml) {
	case MONGOC_LOG_LEVEL_ERROR:
	case MONGOC_LOG_LEVEL_CRITICAL:
		l = ES_LOG_ERROR;
		break;
	case MONGOC_LOG_LEVEL_WARNING:
		l = ES_LOG_WARN;
		break;
	case MONGOC_LOG_LEVEL_MESSAGE:
	case MONGOC_LOG_LEVEL_INFO:
		l = ES_LOG_INFO;
		break;
	default:
		l = ES_LOG_DEBUG;
		break;
	}
	/* es_log() redacts URIs (and the configured URI's secrets). */
	es_log(l, "mongoc", "%s: %s", domain != NULL ? domain : "?",
	    msg != NULL ? msg : "");
}

void
es_log_mongoc_handler_install(void)
{
	mongoc_log_set_handler(mongoc_handler, NULL);
}
