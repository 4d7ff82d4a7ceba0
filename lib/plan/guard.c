/* SPEC 4.15: the mass-deletion guard (see rules.h). */
#include "execsync/rules.h"

bool
es_guard_trips(const struct es_guard_count *c, unsigned max_delete)
{
	size_t n = c->deletes + c->trashes;

	if (c->total < ES_GUARD_MIN_ENTITIES)
		return false;
	return n * 100 > (size_t)max_delete * c->total;
}
