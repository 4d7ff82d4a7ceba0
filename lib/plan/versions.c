/* SPEC 4.12: the versions of document writes (see rules.h). */
#include <string.h>

#include "execsync/rules.h"

int64_t
es_version_next(int64_t read_ms, int64_t now_ms)
{
	if (now_ms > read_ms)
		return now_ms;
	return read_ms < INT64_MAX ? read_ms + 1 : read_ms;
}

void
es_version_write(enum es_write_kind k, int64_t read_ms, int64_t now_ms,
    struct es_write_version *out)
{
	memset(out, 0, sizeof(*out));
	if (k == ES_WRITE_INSERT) {
		out->created_at = out->updated_at = now_ms;
		return;
	}
	out->cas = true;
	out->expect = read_ms;
	out->updated_at = es_version_next(read_ms, now_ms);
	if (k == ES_WRITE_DELETE) {
		out->deleted = true;
		out->deleted_at = now_ms;
	}
}

int64_t
es_version_baseline(bool written, int64_t written_ms, int64_t read_ms)
{
	return written ? written_ms : read_ms;
}
