/*
 * A spy on a pass's database and clock (world.h): it counts every database
 * call of the engine, can fail the next single inserts, and can set the
 * pass's clock; the real table's functions do the work (each wrapper
 * passes its ctx, the real one, on). One pass at a time: the wrappers find
 * the spy in a global set by db_spy_wrap() and cleared by db_spy_done().
 */
#ifndef ES_DB_SPY_H
#define ES_DB_SPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execsync/world.h"

struct db_spy {
	struct es_world_db	 real_db;
	struct es_world_clock	 real_clock;
	size_t			 find, find_ids, find_fields, find_one;
	size_t			 update_cas, update_cas_many, inserts;
	size_t			 clock_reads;
	unsigned		 fail_inserts;	/* the next n inserts fail */
	bool			 fixed_clock;	/* the clock reads now */
	int64_t			 now;
};

/* Wraps ew's database and clock tables with s's (ew's are kept in s). */
void	db_spy_wrap(struct es_world *ew, struct db_spy *s);
/* The pass is over: no spy is current. */
void	db_spy_done(void);
/* Every read, every compare-and-swap. */
size_t	db_spy_finds(const struct db_spy *s);
size_t	db_spy_updates(const struct db_spy *s);

#endif
