/*
 * The simulated folder's insides (sim-fs.c: the engine's side;
 * sim-fs-user.c: the user's side). Private to those two files.
 */
#ifndef EXECSYNC_SIM_FS_H
#define EXECSYNC_SIM_FS_H

#include <sys/types.h>

#include "sim-internal.h"

enum node_type { N_FILE, N_DIR, N_LINK };

struct node {
	char		*rel;
	enum node_type	 type;
	char		*data;		/* files: bytes; links: the target */
	size_t		 len;
	uint32_t	 perm;
	uint64_t	 ino;
	int64_t		 mtime_ns, ctime_ns;
};

struct sim_fs {
	const int64_t		*clock_ms;
	struct sim_crash	*crash;
	struct sim_base		*base;
	struct node		*v;
	size_t			 n, cap;
	uint64_t		 next_ino, nalloc, tick, tmpseq;
	uint64_t		*freed;
	size_t			 nfreed, freecap;
	char			**ev;
	size_t			 nev, evcap;
	char			 violation[512];
};

ssize_t	 sim__fs_find(const struct sim_fs *fs, const char *rel);
/* A new node at rel (a new or reused inode, times now); v may move. */
struct node *sim__fs_add(struct sim_fs *fs, const char *rel,
	    enum node_type type);
/* Removes v[i], its inode freed; the last node takes index i. */
void	 sim__fs_del(struct sim_fs *fs, size_t i);
/* The file's bytes replaced, mtime and ctime now. */
void	 sim__fs_set_data(struct sim_fs *fs, struct node *nd,
	    const void *buf, size_t len);
/* v[from] renamed to to (a node there is replaced), ctime now. */
void	 sim__fs_rename(struct sim_fs *fs, size_t from, const char *to);
/* The folders to rel's parent: none a link (ES_EUNSAFE), made. */
int	 sim__fs_parent_ready(struct sim_fs *fs, const char *rel,
	    struct es_error *err);
const char *sim__fs_base_of(const char *rel);

#endif
