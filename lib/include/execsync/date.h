/*
 * Calendar dates without time ("YYYY-MM-DD"), as days since 1970-01-01 in the
 * proleptic Gregorian calendar. In the database a date is a BSON datetime at
 * 00:00 UTC. Pure: nothing here reads the clock.
 */
#ifndef EXECSYNC_DATE_H
#define EXECSYNC_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t es_date_t;
#define ES_DATE_NONE	INT32_MIN
#define ES_DATE_BUFSZ	11	/* "YYYY-MM-DD" and the NUL */
#define ES_MS_PER_DAY	86400000LL

/*
 * Strict: exactly 10 bytes "YYYY-MM-DD", year 0001-9999, a real day of that
 * month (leap years checked). Returns false on anything else, *out unchanged.
 */
bool	es_date_parse(const char *s, size_t len, es_date_t *out);
/* Writes "YYYY-MM-DD" and the NUL into out; d must not be ES_DATE_NONE. */
void	es_date_format(es_date_t d, char out[ES_DATE_BUFSZ]);
/* Returns ES_DATE_NONE when the fields do not name a real day. */
es_date_t es_date_from_ymd(int y, int m, int d);
void	es_date_to_ymd(es_date_t d, int *y, int *m, int *day);
/* Milliseconds since the epoch at 00:00 UTC of d. */
int64_t	es_date_to_ms(es_date_t d);
/* The UTC calendar day containing ms (floors negative values correctly). */
es_date_t es_date_from_ms(int64_t ms);

#endif
