/*
 * Shared by the fsio test programs (test-fsio*.c): a fresh folder tree in
 * /tmp per case, files put and read back byte for byte, and a concurrent
 * editor played through the es__fsio_hook seam. Every helper fails the
 * running cmocka test on an unexpected error.
 */
#ifndef ES_FSIO_TREE_H
#define ES_FSIO_TREE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "../../lib/io/fsio-internal.h"

#define RUST	"10k-projects/active/learning/learn-rust.md"

struct tree {
	char	 root[64];
	char	 outside[64];	/* a folder next to the root */
	int	 fd;
};

/* A fresh root and a folder beside it; the seams reset, umask 022. */
void	tree_init(struct tree *t);
void	tree_release(struct tree *t);
void	path_of(char *out, size_t size, const char *base, const char *rel);
/* The folders leading to rel. */
void	mkdirs(const char *base, const char *rel);
/* Writes rel in place (same inode when it exists) with mode. */
void	put(const char *base, const char *rel, const void *data, size_t len,
	    mode_t mode);
void	put_str(const char *base, const char *rel, const char *s);
void	link_to(const char *base, const char *rel, const char *target);
/* The bytes of base/rel (malloc'd, NUL added), or NULL when absent. */
char	*slurp(const char *base, const char *rel, size_t *len);
void	assert_file(const char *base, const char *rel, const void *want,
	    size_t n);
void	assert_absent(const char *base, const char *rel);
mode_t	mode_of(const char *base, const char *rel);
ino_t	ino_of(const char *base, const char *rel);
/* No ".<name>.execsync-XXXXXX" anywhere under base. */
void	assert_no_temp(const char *base);
int	count_entries(const char *dir);
/* Deterministic bytes with plenty of NULs and CRs. */
char	*make_bytes(size_t n, unsigned seed);

struct edit {
	const char	*root;
	const char	*rel;
	const char	*text;	/* appended (the file created if need be) */
	int		 max;	/* edits on the first max calls only */
	int		 calls;
	enum es_fsio_point at;	/* where (0: ES_FSIO_AT_COMMIT) */
};

/* es__fsio_hook: appends e->text to e->rel at e->at, on e->max calls. */
void	edit_now(enum es_fsio_point at, void *arg);

#endif
