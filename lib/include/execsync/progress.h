/*
 * A progress bar for people (issue 4: files scanned, documents written,
 * rate, ETA), drawn on a terminal's stderr with "\r" and never anywhere
 * else: Debian has no C library for one (NOTES-deps §7).
 *
 * Two layers, so the layout is tested without a terminal:
 *  - es_progress_format(): pure, one line of at most width - 1 columns
 *    (the last column would make some terminals wrap);
 *  - struct es_progress: the I/O wrapper. It draws only when enabled and
 *    its descriptor is a terminal, at most 10 times a second, reads the
 *    width with TIOCGWINSZ on each draw (so a resized window is followed)
 *    and measures the rate from the first update of a phase that has
 *    documents to count (each phase has its own rate).
 *
 * Not thread-safe: one owner.
 */
#ifndef EXECSYNC_PROGRESS_H
#define EXECSYNC_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "execsync/buf.h"

/* Width used when the terminal does not say (and the narrowest drawn). */
#define ES_PROGRESS_WIDTH_DEFAULT	80
#define ES_PROGRESS_WIDTH_MIN		20
/* Redraws at most this often. */
#define ES_PROGRESS_INTERVAL_MS		100

struct es_progress_info {
	const char	*phase;		/* "scanning", ...; NULL = "" */
	uint64_t	 files_done, files_total;
	uint64_t	 docs_done, docs_total;	/* docs_total 0: no docs part */
	double		 docs_elapsed_s;	/* spent on docs_done */
};

/*
 * Replaces out's content with the line for p, for a terminal width columns
 * wide (clamped to at least ES_PROGRESS_WIDTH_MIN), at most width - 1
 * bytes, ASCII only, no "\r" or newline:
 *
 *	writing   files 2350/2350  docs 12000/22200 [#####     ] 54%
 *	    5400/s ETA 2s
 *
 * (one line). The bar takes what room is left; on a narrow terminal the
 * bar goes first, then rate and ETA, and what still does not fit is cut.
 * Rate is docs_done / docs_elapsed_s; ETA is "--" until a rate is known.
 * Counts over their totals are shown as they are (the percentage stops at
 * 100). Never fails.
 */
void	es_progress_format(const struct es_progress_info *p, unsigned width,
	    struct es_buf *out);

/*
 * "2s", "59s", "1m05s", "59m59s", "1h00m", ..., "99h59m" and past that
 * "99h+", into out (at least 8 bytes). Negative or not finite: "--".
 */
void	es_progress_format_eta(double seconds, char *out, unsigned long size);

struct es_progress;

/*
 * A bar on fd (borrowed; normally 2). enabled false, or fd not a terminal:
 * every call below does nothing (the caller passes !json). Never NULL.
 */
struct es_progress *es_progress_new(int fd, bool enabled);
/* Accepts NULL; erases the bar first. */
void	es_progress_free(struct es_progress *p);
/* Whether anything will be drawn. */
bool	es_progress_enabled(const struct es_progress *p);

/*
 * Shows the counts; the rate counts from the first update of this phase
 * with docs_total > 0. Draws when ES_PROGRESS_INTERVAL_MS have passed since
 * the last draw, when the phase changed, or when force is true (the end).
 */
void	es_progress_update(struct es_progress *p, const char *phase,
	    uint64_t files_done, uint64_t files_total, uint64_t docs_done,
	    uint64_t docs_total, bool force);
/* Erases the line, so other output starts at column 0. */
void	es_progress_clear(struct es_progress *p);

#endif
