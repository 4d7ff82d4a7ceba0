/*
 * The progress bar: a pure line formatter and a small terminal writer
 * around it (see progress.h).
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "execsync/progress.h"
#include "execsync/xmalloc.h"

/* The bar's inner width: at least this much or no bar, at most that much. */
#define BAR_MIN		8
#define BAR_MAX		40

void
es_progress_format_eta(double seconds, char *out, unsigned long size)
{
	unsigned long long s;

	if (!isfinite(seconds) || seconds < 0) {
		snprintf(out, size, "--");
		return;
	}
	/* Round up: "1s" left is shown until it is really over. */
	if (seconds >= 360000.0)
		s = 360000;
	else {
		s = (unsigned long long)seconds;
		if ((double)s < seconds)
			s++;
	}
	if (s < 60)
		snprintf(out, size, "%llus", s);
	else if (s < 3600)
		snprintf(out, size, "%llum%02llus", s / 60, s % 60);
	else if (s < 360000)
		snprintf(out, size, "%lluh%02llum", s / 3600, s % 3600 / 60);
	else
		snprintf(out, size, "99h+");
}

/* Appends s unless that would pass limit bytes; true when appended. */
static bool
add_fit(struct es_buf *out, const char *s, size_t limit)
{
	size_t n = strlen(s);

	if (out->len + n > limit)
		return false;
	es_buf_add(out, s, n);
	return true;
}

void
es_progress_format(const struct es_progress_info *p, unsigned width,
    struct es_buf *out)
{
	char head[160], pct[16], rate[32], eta[40], etabuf[16];
	unsigned long long done, total;
	double frac = -1, r = 0;
	size_t limit, fixed, inner;

	es_buf_reset(out);
	if (width < ES_PROGRESS_WIDTH_MIN)
		width = ES_PROGRESS_WIDTH_MIN;
	limit = width - 1;

	/* Phase names are short; cut a long one so the counts still show. */
	if (p->docs_total > 0)
		snprintf(head, sizeof(head), "%-9.20s files %llu/%llu  "
		    "docs %llu/%llu", p->phase ? p->phase : "",
		    (unsigned long long)p->files_done,
		    (unsigned long long)p->files_total,
		    (unsigned long long)p->docs_done,
		    (unsigned long long)p->docs_total);
	else
		snprintf(head, sizeof(head), "%-9.20s files %llu/%llu",
		    p->phase ? p->phase : "",
		    (unsigned long long)p->files_done,
		    (unsigned long long)p->files_total);

	/* The fraction follows the documents once there are any. */
	done = p->docs_total > 0 ? p->docs_done : p->files_done;
	total = p->docs_total > 0 ? p->docs_total : p->files_total;
	pct[0] = rate[0] = eta[0] = '\0';
	if (total > 0) {
		frac = done >= total ? 1.0 : (double)done / (double)total;
		snprintf(pct, sizeof(pct), " %3u%%", (unsigned)(frac * 100));
	}
	if (p->docs_total > 0) {
		if (p->docs_done > 0 && p->docs_elapsed_s > 0)
			r = (double)p->docs_done / p->docs_elapsed_s;
		if (r > 0) {
			snprintf(rate, sizeof(rate), "  %.0f/s", r);
			es_progress_format_eta(p->docs_done >= p->docs_total ?
			    0 : (double)(p->docs_total - p->docs_done) / r,
			    etabuf, sizeof(etabuf));
		} else
			snprintf(etabuf, sizeof(etabuf), "--");
		snprintf(eta, sizeof(eta), " ETA %s", etabuf);
	}

	/* Whole head, or as much of it as fits: the counts matter most. */
	if (!add_fit(out, head, limit)) {
		es_buf_add(out, head, limit);
		return;
	}
	fixed = out->len + strlen(pct) + strlen(rate) + strlen(eta);
	if (frac >= 0 && fixed + 3 + BAR_MIN <= limit) {
		size_t fill;

		inner = limit - fixed - 3;
		if (inner > BAR_MAX)
			inner = BAR_MAX;
		fill = (size_t)(frac * (double)inner);
		es_buf_add(out, " [", 2);
		for (size_t i = 0; i < inner; i++)
			es_buf_addch(out, i < fill ? '#' : ' ');
		es_buf_addch(out, ']');
	}
	/* Then percentage, rate and ETA, each only if it fits whole. */
	if (add_fit(out, pct, limit) && add_fit(out, rate, limit))
		add_fit(out, eta, limit);
}

/* ---- the terminal writer ---- */

struct es_progress {
	int		 fd;
	bool		 on;
	bool		 drawn;
	int64_t		 last_ms;
	int64_t		 docs_t0_ms;	/* -1 until there are docs to count */
	char		*phase;		/* of the last update: a new one
					 * restarts the rate */
	struct es_buf	 line;
	struct es_buf	 out;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct es_progress *
es_progress_new(int fd, bool enabled)
{
	struct es_progress *p = es_xcalloc(1, sizeof(*p));

	p->fd = fd;
	p->on = enabled && fd >= 0 && isatty(fd);
	p->docs_t0_ms = -1;
	es_buf_init(&p->line, 0);
	es_buf_init(&p->out, 0);
	return p;
}

bool
es_progress_enabled(const struct es_progress *p)
{
	return p != NULL && p->on;
}

void
es_progress_clear(struct es_progress *p)
{
	if (p == NULL || !p->on || !p->drawn)
		return;
	/* Carriage return, then erase to the end of the line (ECMA-48 EL). */
	(void)es_write_all(p->fd, "\r\033[K", 4);	/* best effort */
	p->drawn = false;
}

void
es_progress_free(struct es_progress *p)
{
	if (p == NULL)
		return;
	es_progress_clear(p);
	es_buf_release(&p->line);
	es_buf_release(&p->out);
	free(p->phase);
	free(p);
}

void
es_progress_update(struct es_progress *p, const char *phase,
    uint64_t files_done, uint64_t files_total, uint64_t docs_done,
    uint64_t docs_total, bool force)
{
	struct es_progress_info info;
	struct winsize ws;
	unsigned width = ES_PROGRESS_WIDTH_DEFAULT;
	int64_t now;

	if (p == NULL || !p->on)
		return;
	now = mono_ms();
	if (phase == NULL)
		phase = "";
	if (p->phase == NULL || strcmp(p->phase, phase) != 0) {
		free(p->phase);
		p->phase = es_xstrdup(phase);
		p->docs_t0_ms = -1;
		force = true;
	}
	if (docs_total > 0 && p->docs_t0_ms < 0)
		p->docs_t0_ms = now;
	if (!force && p->drawn && now - p->last_ms < ES_PROGRESS_INTERVAL_MS)
		return;
	if (ioctl(p->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		width = ws.ws_col;
	info.phase = phase;
	info.files_done = files_done;
	info.files_total = files_total;
	info.docs_done = docs_done;
	info.docs_total = docs_total;
	info.docs_elapsed_s = p->docs_t0_ms < 0 ? 0 :
	    (double)(now - p->docs_t0_ms) / 1000.0;
	es_progress_format(&info, width, &p->line);
	/* One write per draw: "\r", the line, then erase what an older,
	 * longer line left behind. */
	es_buf_reset(&p->out);
	es_buf_addch(&p->out, '\r');
	es_buf_add(&p->out, p->line.buf, p->line.len);
	es_buf_add(&p->out, "\033[K", 3);
	(void)es_write_all(p->fd, p->out.buf, p->out.len);
	p->drawn = true;
	p->last_ms = now;
}
