/*
 * The user's side of the simulated folder (sim-internal.h): an editor's
 * saves (enum sim_save), a shell's removes and renames, the file events
 * a watcher would see. Not subject to crashes; never a violation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/layout.h"
#include "execsync/xmalloc.h"

#include "sim-fs.h"

/* ---- the user's side ---- */

static void
event(struct sim_fs *fs, const char *rel)
{
	if (fs->nev == fs->evcap) {
		fs->evcap = fs->evcap ? fs->evcap * 2 : 16;
		fs->ev = es_xreallocarray(fs->ev, fs->evcap, sizeof(*fs->ev));
	}
	fs->ev[fs->nev++] = es_xstrdup(rel);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
sim_fs_events(struct sim_fs *fs, char ***paths, size_t *n)
{
	size_t k = 0;

	if (fs->nev > 1)
		qsort(fs->ev, fs->nev, sizeof(*fs->ev), cmp_str);
	for (size_t i = 0; i < fs->nev; i++) {
		if (k > 0 && strcmp(fs->ev[k - 1], fs->ev[i]) == 0)
			free(fs->ev[i]);
		else
			fs->ev[k++] = fs->ev[i];
	}
	*paths = fs->ev;
	*n = k;
	fs->ev = NULL;
	fs->nev = fs->evcap = 0;
	return 0;
}

static int
user_path(struct sim_fs *fs, const char *rel, struct es_error *err)
{
	if (!es_rel_is_plain(rel))
		return es_error_set(err, ES_EUNSAFE, rel ? rel : "", 0,
		    "unsafe path");
	return sim__fs_parent_ready(fs, rel, err);
}

/* A user's file at rel: -1 (err) when something else is there. */
static ssize_t
user_file(struct sim_fs *fs, const char *rel, struct es_error *err)
{
	ssize_t i = sim__fs_find(fs, rel);

	if (i >= 0 && fs->v[i].type != N_FILE) {
		es_error_set(err, ES_EIO, rel, 0, "not a regular file");
		return -2;
	}
	return i;
}

/* open(O_CREAT | O_TRUNC), write. */
static void
put_in_place(struct sim_fs *fs, const char *rel, const void *buf,
    size_t len)
{
	ssize_t i = sim__fs_find(fs, rel);
	struct node *nd = i >= 0 ? &fs->v[i] : sim__fs_add(fs, rel, N_FILE);

	sim__fs_set_data(fs, nd, buf, len);
	event(fs, rel);
}

int
sim_fs_user_write(struct sim_fs *fs, const char *rel, const void *buf,
    size_t len, enum sim_save how, struct es_error *err)
{
	const char *b;
	ssize_t i;
	uint32_t perm;
	char *side;

	if (user_path(fs, rel, err) < 0 ||
	    (i = user_file(fs, rel, err)) == -2)
		return -1;
	perm = i >= 0 ? fs->v[i].perm : 0644;
	switch (how) {
	case SIM_SAVE_RENAME_OVER:
		b = sim__fs_base_of(rel);
		side = es_xasprintf("%.*s.%s.swp", (int)(b - rel), rel, b);
		if (user_file(fs, side, err) == -2) {
			free(side);
			return -1;
		}
		put_in_place(fs, side, buf, len);
		i = sim__fs_find(fs, side);
		fs->v[i].perm = perm;
		sim__fs_rename(fs, (size_t)i, rel);
		event(fs, rel);
		free(side);
		return 0;
	case SIM_SAVE_VIM_BACKUP:
		if (i < 0)
			break;
		side = es_xasprintf("%s~", rel);
		if (user_file(fs, side, err) == -2) {
			free(side);
			return -1;
		}
		sim__fs_rename(fs, (size_t)i, side);
		event(fs, side);
		put_in_place(fs, rel, buf, len);
		fs->v[sim__fs_find(fs, rel)].perm = perm;
		sim__fs_del(fs, (size_t)sim__fs_find(fs, side));
		free(side);
		return 0;
	case SIM_SAVE_DELETE_CREATE:
		if (i >= 0)
			sim__fs_del(fs, (size_t)i);
		put_in_place(fs, rel, buf, len);
		fs->v[sim__fs_find(fs, rel)].perm = perm;
		return 0;
	default:
		break;
	}
	put_in_place(fs, rel, buf, len);
	return 0;
}

int
sim_fs_user_read(struct sim_fs *fs, const char *rel, struct es_buf *out,
    struct es_error *err)
{
	ssize_t i;

	es_buf_reset(out);
	if (!es_rel_is_plain(rel))
		return es_error_set(err, ES_EUNSAFE, rel ? rel : "", 0,
		    "unsafe path");
	if ((i = user_file(fs, rel, err)) == -2)
		return -1;
	if (i < 0)
		return 0;
	es_buf_add(out, fs->v[i].data, fs->v[i].len);
	return 1;
}

int
sim_fs_user_remove(struct sim_fs *fs, const char *rel, struct es_error *err)
{
	ssize_t i;

	if (!es_rel_is_plain(rel))
		return es_error_set(err, ES_EUNSAFE, rel ? rel : "", 0,
		    "unsafe path");
	if ((i = sim__fs_find(fs, rel)) < 0)
		return es_error_set_sys(err, ENOENT, rel, "cannot remove");
	if (fs->v[i].type == N_DIR)
		return es_error_set_sys(err, EISDIR, rel, "cannot remove");
	sim__fs_del(fs, (size_t)i);
	event(fs, rel);
	return 0;
}

int
sim_fs_user_rename(struct sim_fs *fs, const char *from, const char *to,
    struct es_error *err)
{
	ssize_t i, j;

	if (!es_rel_is_plain(from))
		return es_error_set(err, ES_EUNSAFE, from ? from : "", 0,
		    "unsafe path");
	if (user_path(fs, to, err) < 0)
		return -1;
	if ((i = sim__fs_find(fs, from)) < 0)
		return es_error_set_sys(err, ENOENT, from, "cannot rename");
	if (fs->v[i].type == N_DIR ||
	    ((j = sim__fs_find(fs, to)) >= 0 && fs->v[j].type == N_DIR))
		return es_error_set_sys(err, EISDIR, to, "cannot rename");
	if (strcmp(from, to) == 0)
		return 0;
	sim__fs_rename(fs, (size_t)i, to);
	event(fs, from);
	event(fs, to);
	return 0;
}

int
sim_fs_user_symlink(struct sim_fs *fs, const char *rel, const char *target,
    struct es_error *err)
{
	struct node *nd;

	if (user_path(fs, rel, err) < 0)
		return -1;
	if (sim__fs_find(fs, rel) >= 0)
		return es_error_set_sys(err, EEXIST, rel, "cannot link");
	nd = sim__fs_add(fs, rel, N_LINK);
	nd->data = es_xstrdup(target);
	nd->len = strlen(target);
	event(fs, rel);
	return 0;
}

static int
cmp_node_ptr(const void *a, const void *b)
{
	return strcmp((*(const struct node *const *)a)->rel,
	    (*(const struct node *const *)b)->rel);
}

int
sim_fs_each(struct sim_fs *fs, sim_file_cb cb, void *ud,
    struct es_error *err)
{
	const struct node **v;
	size_t n = 0;
	int rc = 0;

	(void)err;
	v = es_xcalloc(fs->n + 1, sizeof(*v));
	for (size_t i = 0; i < fs->n; i++)
		if (fs->v[i].type == N_FILE)
			v[n++] = &fs->v[i];
	qsort(v, n, sizeof(*v), cmp_node_ptr);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = cb(v[i]->rel, v[i]->data ? v[i]->data : "", v[i]->len,
		    ud);
	free(v);
	return rc;
}
