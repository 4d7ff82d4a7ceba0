/*
 * Shared by the unit test programs that need a folder tree (test-fsio*.c,
 * test-gitstate.c): a fresh tree in /tmp per case, files put and read back
 * byte for byte (es-files.h), and a concurrent editor played through the
 * es__fsio_hook seam. Every helper fails the running cmocka test on an
 * unexpected error.
 */
#ifndef ES_FSIO_TREE_H
#define ES_FSIO_TREE_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "../../lib/io/fsio-internal.h"
#include "es-files.h"

#define RUST	"10k-projects/active/learning/learn-rust.md"

struct tree {
	char	 root[64];
	char	 outside[64];	/* a folder next to the root */
	int	 fd;
};

/* A fresh root and a folder beside it; the seams reset, umask 022. */
void	tree_init(struct tree *t);
void	tree_release(struct tree *t);
/* No ".<name>.execsync-XXXXXX" anywhere under base. */
void	assert_no_temp(const char *base);
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
