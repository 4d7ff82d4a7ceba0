/*
 * The daemon's status snapshot and its renderings (status.h).
 */
#include <stdio.h>
#include <string.h>

#include "status.h"

/* Seconds: from a save's 100 ms debounce to a slow server's seconds. */
const double es_latency_bounds[ES_LATENCY_NBUCKETS] = {
	0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60
};

void
es_latency_observe(struct es_latency *h, double s)
{
	for (int i = 0; i < ES_LATENCY_NBUCKETS; i++)
		if (s <= es_latency_bounds[i])
			h->bucket[i]++;
	h->count++;
	h->sum_s += s;
}

void
es_status_remember(struct es_status_item *ring, size_t *n, int64_t at_ms,
    const char *path, const char *reason)
{
	struct es_status_item *it = &ring[*n % ES_STATUS_RECENT];

	it->at_ms = at_ms;
	snprintf(it->path, sizeof(it->path), "%s", path != NULL ? path : "");
	snprintf(it->reason, sizeof(it->reason), "%s",
	    reason != NULL ? reason : "");
	(*n)++;
}
