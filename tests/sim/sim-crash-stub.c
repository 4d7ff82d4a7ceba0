/*
 * Temporary (simdb): sim_crash_tick() until simworld's sim-fs.c lands with
 * the real one; weak, so theirs wins. Delete after merging simworld.
 */
#include "sim-internal.h"

__attribute__((weak)) bool
sim_crash_tick(struct sim_crash *c)
{
	if (c == NULL)
		return false;
	if (!c->crashed && c->at != 0 && ++c->count == c->at)
		c->crashed = true;
	return c->crashed;
}
