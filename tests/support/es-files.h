/*
 * Files under a folder, for the unit tests that build trees in /tmp
 * (test-fsio*.c through fsio-tree.h, test-scan.c, test-gitstate.c): base is
 * a folder, rel a path beneath it. Every helper fails the running cmocka
 * test on an unexpected error.
 *
 * path_of() and put() are the unit tests' own: the sync tests have helpers
 * of the same names on a world (sync-world.h), so a program includes one of
 * the two headers, never both.
 */
#ifndef ES_FILES_H
#define ES_FILES_H

#include <sys/types.h>

#include <stddef.h>

/* base/rel into out (size bytes); fails the test when it does not fit. */
void	path_of(char *out, size_t size, const char *base, const char *rel);
/* The folders leading to rel. */
void	mkdirs(const char *base, const char *rel);
/* Writes rel in place (same inode when it exists) with mode. */
void	put(const char *base, const char *rel, const void *data, size_t len,
	    mode_t mode);
/* put() of a string, mode 0644. */
void	put_str(const char *base, const char *rel, const char *s);
/* A symbolic link rel -> target (the folders leading to rel made). */
void	link_to(const char *base, const char *rel, const char *target);
/* The bytes of base/rel (malloc'd, NUL added), or NULL when absent. */
char	*slurp(const char *base, const char *rel, size_t *len);
void	assert_file(const char *base, const char *rel, const void *want,
	    size_t n);
void	assert_absent(const char *base, const char *rel);
mode_t	mode_of(const char *base, const char *rel);
ino_t	ino_of(const char *base, const char *rel);
/* The entries of dir but "." and "..". */
int	count_entries(const char *dir);

#endif
