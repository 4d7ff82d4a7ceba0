/* SPEC 4.10: what a pass leaves alone (see rules.h). */
#include <string.h>

#include "execsync/rules.h"

/* A binary search for each of rel's leading folders, then rel itself. */
bool
es_path_below_any(const char *rel, char *const *rels, size_t n)
{
	size_t len = strlen(rel);

	for (size_t k = 1; n > 0 && k <= len; k++) {
		size_t lo = 0, hi = n;

		if (k < len && rel[k] != '/')
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strncmp(rel, rels[mid], k);

			if (c == 0 && rels[mid][k] != '\0')
				c = -1;
			if (c == 0)
				return true;
			if (c < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
	}
	return false;
}

bool
es_alone_entity_unread(bool has_file, bool has_base, const char *base_rel,
    char *const *unread, size_t nunread)
{
	return !has_file && has_base && base_rel != NULL &&
	    es_path_below_any(base_rel, unread, nunread);
}

bool
es_alone_action(const struct es_alone_act *a)
{
	if (a->db_broken)
		return true;
	if (a->has_base && !a->has_line &&
	    (a->base_list == ES_LIST_NOT_READ ||
	    a->base_list == ES_LIST_BROKEN))
		return true;
	/* A line from a list that was not read cannot be; kept as a guard. */
	return a->has_line && a->line_list == ES_LIST_NOT_READ;
}

bool
es_action_list_must_read(bool ignore_base, bool on_disk, bool stat_same)
{
	return ignore_base || !on_disk || !stat_same;
}

bool
es_action_db_changed(const struct es_action *base,
    const struct es_action *db, bool full)
{
	if (base == NULL)
		return db != NULL && !db->meta.deleted;
	if (db == NULL)
		return full;
	return db->meta.deleted || es_action_diff(base, db) != 0;
}
