/* SPEC 4.1: full read or since-query, and the watermark (see rules.h). */
#include "execsync/rules.h"

int64_t
es_read_since(int64_t watermark_ms)
{
	int64_t since = watermark_ms - ES_LOOKBACK_MS;

	return since < 0 ? 0 : since;
}

void
es_read_mode(const struct es_read_input *in, struct es_read_mode *out)
{
	bool full;

	full = in->base_empty || in->ignore_base || in->force || in->full ||
	    in->last_full_ms < 0 || (!in->quiet && in->full_pass_s > 0 &&
	    in->now_ms - in->last_full_ms >= (int64_t)in->full_pass_s * 1000);
	if (in->watermark_ms[ES_READ_PROJECTS] < 0 ||
	    in->watermark_ms[ES_READ_GOALS] < 0)
		full = true;
	out->full = full;
	out->full_actions = full || in->watermark_ms[ES_READ_ACTIONS] < 0;
	for (int k = 0; k < ES_READ_NCOLL; k++) {
		bool all = k == ES_READ_ACTIONS ? out->full_actions : full;

		out->since[k] = all ? -1 : es_read_since(in->watermark_ms[k]);
		out->by_id[k] = in->quiet && !all;
	}
}

int64_t
es_watermark_next(int64_t maxseen_ms, int64_t now_ms)
{
	int64_t wm = maxseen_ms > now_ms ? maxseen_ms : now_ms;

	if (wm > now_ms + ES_WATERMARK_AHEAD_MS)
		wm = now_ms + ES_WATERMARK_AHEAD_MS;
	return wm < 0 ? 0 : wm;
}

bool
es_read_last_full(bool full, bool full_next, int64_t now_ms, int64_t *value)
{
	if (full_next) {
		*value = -1;
		return true;
	}
	*value = now_ms;
	return full;
}

bool
es_read_unseen_is_base(bool full, bool has_base, bool db_seen)
{
	return has_base && !db_seen && !full;
}
