/*
 * The simulated folder of one machine (issue 17, sim-internal.h): regular
 * files, folders and symbolic links in memory, with the stat data a kernel
 * gives them, behind the es_world_fs table (world.h) the engine calls and
 * the user's side the history drives. It keeps the promises of scan.h and
 * fsio.h with the real pure functions (es_layout_classify(),
 * es_layout_descend(), es_content_check(), es_tree_file_parse()), and
 * records the first call of the engine that breaks one of world.h's
 * (sim_fs_violation()).
 *
 * n is small (a few dozen nodes): arrays and linear scans.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "execsync/content.h"
#include "execsync/fsio.h"
#include "execsync/layout.h"
#include "execsync/xmalloc.h"

#include "sim-fs.h"

#define SIM_DEV		42
#define SIM_UMASK	022
#define SYMLINK_REASON	"symbolic link, not followed"
#define CHANGED_MSG	"changed on disk while syncing"
#define EXISTS_MSG	"already exists"
#define TMP_TAG		".execsync-"	/* fsio.c's temporary names */
#define COPY_MAX	9999
#define APPEND_MAX	((size_t)64 << 20)

bool sim_plant_inplace_write;

/* ---- crash points ---- */

bool
sim_crash_tick(struct sim_crash *c)
{
	if (c == NULL)
		return false;
	if (c->crashed)
		return true;
	c->count++;
	if (c->at != 0 && c->count >= c->at) {
		c->crashed = true;
		return true;
	}
	return false;
}

static int
crashed(struct sim_fs *fs, const char *rel, struct es_error *err)
{
	if (!sim_crash_tick(fs->crash))
		return 0;
	return es_error_set(err, ES_EIO, rel, 0, "simulated crash");
}

/* ---- nodes ---- */

ssize_t
sim__fs_find(const struct sim_fs *fs, const char *rel)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strcmp(fs->v[i].rel, rel) == 0)
			return (ssize_t)i;
	return -1;
}

static ssize_t
findn(const struct sim_fs *fs, const char *rel, size_t len)
{
	for (size_t i = 0; i < fs->n; i++)
		if (strncmp(fs->v[i].rel, rel, len) == 0 &&
		    fs->v[i].rel[len] == '\0')
			return (ssize_t)i;
	return -1;
}

/*
 * A new mtime/ctime from the workstation's clock: the ns part counts
 * writes, so two writes within one ms still differ (world.h: every write
 * changes the stat data), while the ms part follows the clock, jumps too.
 */
static int64_t
now_ns(struct sim_fs *fs)
{
	fs->tick++;
	return *fs->clock_ms * 1000000 + (int64_t)(fs->tick % 1000000);
}

/*
 * The kernel's inodes: a new file gets a new one, except every other new
 * file takes the last one freed (ext4 reuses quickly; SPEC 4.6 takes an
 * inode only as a hint). Deterministic.
 */
static uint64_t
alloc_ino(struct sim_fs *fs)
{
	fs->nalloc++;
	if (fs->nfreed > 0 && fs->nalloc % 2 == 0)
		return fs->freed[--fs->nfreed];
	return ++fs->next_ino;
}

static void
free_ino(struct sim_fs *fs, uint64_t ino)
{
	if (fs->nfreed == fs->freecap) {
		fs->freecap = fs->freecap ? fs->freecap * 2 : 16;
		fs->freed = es_xreallocarray(fs->freed, fs->freecap,
		    sizeof(*fs->freed));
	}
	fs->freed[fs->nfreed++] = ino;
}

struct node *
sim__fs_add(struct sim_fs *fs, const char *rel, enum node_type type)
{
	struct node *nd;

	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? fs->cap * 2 : 32;
		fs->v = es_xreallocarray(fs->v, fs->cap, sizeof(*fs->v));
	}
	nd = &fs->v[fs->n++];
	memset(nd, 0, sizeof(*nd));
	nd->rel = es_xstrdup(rel);
	nd->type = type;
	nd->ino = alloc_ino(fs);
	nd->perm = type == N_DIR ? 0755 : type == N_LINK ? 0777 : 0644;
	nd->mtime_ns = nd->ctime_ns = now_ns(fs);
	return nd;
}

/* Removes v[i] (its inode freed); pointers into v are invalid after. */
void
sim__fs_del(struct sim_fs *fs, size_t i)
{
	free_ino(fs, fs->v[i].ino);
	free(fs->v[i].rel);
	free(fs->v[i].data);
	fs->v[i] = fs->v[--fs->n];
}

void
sim__fs_set_data(struct sim_fs *fs, struct node *nd, const void *buf,
    size_t len)
{
	free(nd->data);
	nd->data = es_xmemdup(buf, len);
	nd->len = len;
	nd->mtime_ns = nd->ctime_ns = now_ns(fs);
}

static void
fill_stat(const struct node *nd, struct es_stat *st)
{
	if (st == NULL)
		return;
	memset(st, 0, sizeof(*st));
	st->dev = SIM_DEV;
	st->ino = nd->ino;
	st->size = nd->type == N_FILE ? nd->len : 0;
	st->mtime_ns = nd->mtime_ns;
	st->ctime_ns = nd->ctime_ns;
	st->mode = nd->perm | (nd->type == N_FILE ? S_IFREG :
	    nd->type == N_DIR ? S_IFDIR : S_IFLNK);
}

/* ---- paths ---- */

/* Relative, '/'-separated plain names: no "", ".", ".." component. */

static bool
rel_in_git(const char *rel)
{
	return strncmp(rel, ".git", 4) == 0 &&
	    (rel[4] == '\0' || rel[4] == '/');
}

static void
violate(struct sim_fs *fs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
violate(struct sim_fs *fs, const char *fmt, ...)
{
	va_list ap;

	if (fs->violation[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(fs->violation, sizeof(fs->violation), fmt, ap);
	va_end(ap);
}

/*
 * An engine's path: plain and relative (else a violation, and
 * ES_EUNSAFE), and, for a mutation, not into .git/ (fsio refuses it).
 */
static int
engine_path(struct sim_fs *fs, const char *op, const char *rel, bool mut,
    struct es_error *err)
{
	if (!es_rel_is_plain(rel) || (mut && rel_in_git(rel))) {
		violate(fs, "engine %s with an unsafe path '%s'", op,
		    rel ? rel : "(null)");
		return es_error_set(err, ES_EUNSAFE, rel ? rel : "", 0,
		    "unsafe path");
	}
	return 0;
}

/*
 * The folders on the way to rel, never followed: a link is ES_EUNSAFE, a
 * file in the way ENOTDIR (1: the caller decides), all folders or absent
 * 0.
 */
static int
walk(struct sim_fs *fs, const char *rel, struct es_error *err)
{
	ssize_t i;

	for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		if ((i = findn(fs, rel, (size_t)(s - rel))) < 0)
			continue;
		if (fs->v[i].type == N_LINK) {
			es_error_set(err, ES_EUNSAFE, rel, 0,
			    "'%s' is a symbolic link, not followed",
			    fs->v[i].rel);
			return -1;
		}
		if (fs->v[i].type == N_FILE)
			return 1;
	}
	return 0;
}

/* The folders on the way to rel, made; walk() said 0. */
static void
mkdirs(struct sim_fs *fs, const char *rel)
{
	for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		if (findn(fs, rel, (size_t)(s - rel)) >= 0)
			continue;
		char *dir = es_xmemdup(rel, (size_t)(s - rel));

		sim__fs_add(fs, dir, N_DIR);
		free(dir);
	}
}

/* Walk, then make the folders: the parent of a file about to be made. */
int
sim__fs_parent_ready(struct sim_fs *fs, const char *rel,
    struct es_error *err)
{
	int r;

	if ((r = walk(fs, rel, err)) < 0)
		return -1;
	if (r == 1)
		return es_error_set_sys(err, ENOTDIR, rel,
		    "cannot open folder");
	mkdirs(fs, rel);
	return 0;
}

const char *
sim__fs_base_of(const char *rel)
{
	const char *s = strrchr(rel, '/');

	return s ? s + 1 : rel;
}

/* fsio's temporary name beside rel: ".<base>.execsync-XXXXXX". */
static char *
tmp_rel(struct sim_fs *fs, const char *rel)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	const char *b = sim__fs_base_of(rel);
	char tail[7];
	uint64_t v = ++fs->tmpseq * 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < 6; i++, v /= 62)
		tail[i] = set[v % 62];
	tail[6] = '\0';
	return es_xasprintf("%.*s.%s%s%s", (int)(b - rel), rel, b, TMP_TAG,
	    tail);
}

/* ---- life ---- */

struct sim_fs *
sim_fs_new(const int64_t *fs_clock_ms, struct sim_crash *crash)
{
	struct sim_fs *fs = es_xcalloc(1, sizeof(*fs));

	fs->clock_ms = fs_clock_ms;
	fs->crash = crash;
	fs->base = sim_base_new(crash);
	fs->next_ino = 100;
	return fs;
}

void
sim_fs_free(struct sim_fs *fs)
{
	if (fs == NULL)
		return;
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->v[i].rel);
		free(fs->v[i].data);
	}
	for (size_t i = 0; i < fs->nev; i++)
		free(fs->ev[i]);
	free(fs->ev);
	free(fs->v);
	free(fs->freed);
	sim_base_free(fs->base);
	free(fs);
}

const char *
sim_fs_violation(struct sim_fs *fs)
{
	return fs->violation[0] ? fs->violation : NULL;
}

/* ---- the engine's side: reading ---- */

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct es_scan_entry *)a)->rel,
	    ((const struct es_scan_entry *)b)->rel);
}

static int
cmp_skip(const void *a, const void *b)
{
	return strcmp(((const struct es_scan_skip *)a)->rel,
	    ((const struct es_scan_skip *)b)->rel);
}

/* Every folder above rel is one the real scanner descends into. */
static bool
reachable(const char *rel, const char *const *ignore)
{
	char buf[1024];
	size_t n;

	for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		n = (size_t)(s - rel);
		if (n >= sizeof(buf))
			return false;
		memcpy(buf, rel, n);
		buf[n] = '\0';
		if (!es_layout_descend(buf, ignore))
			return false;
	}
	return true;
}

static int
fs_scan(void *ctx, const char *const *ignore, struct es_scan_result *out,
    struct es_error *err)
{
	struct sim_fs *fs = ctx;
	struct es_path_info info;
	size_t ne = 0, ns = 0;

	(void)err;
	memset(out, 0, sizeof(*out));
	out->entries = es_xcalloc(fs->n + 1, sizeof(*out->entries));
	out->skipped = es_xcalloc(fs->n + 1, sizeof(*out->skipped));
	for (size_t i = 0; i < fs->n; i++) {
		const struct node *nd = &fs->v[i];

		if (nd->type == N_DIR || !reachable(nd->rel, ignore))
			continue;
		if (nd->type == N_LINK) {
			if (es_layout_classify(nd->rel, ignore, NULL) == 1 ||
			    es_layout_descend(nd->rel, ignore)) {
				out->skipped[ns].rel = es_xstrdup(nd->rel);
				out->skipped[ns++].reason =
				    es_xstrdup(SYMLINK_REASON);
			}
			continue;
		}
		if (es_layout_classify(nd->rel, ignore, &info) != 1)
			continue;
		out->entries[ne].rel = es_xstrdup(nd->rel);
		out->entries[ne].info = info;
		fill_stat(nd, &out->entries[ne++].st);
	}
	qsort(out->entries, ne, sizeof(*out->entries), cmp_entry);
	qsort(out->skipped, ns, sizeof(*out->skipped), cmp_skip);
	out->n = ne;
	out->nskipped = ns;
	return 0;
}

static void
fs_scan_release(void *ctx, struct es_scan_result *r)
{
	(void)ctx;
	es_scan_result_release(r);
}

/*
 * The file at rel for reading, as es_scan_read() finds it: -1 with err
 * (EUNSAFE link, EIO ENOENT absent, EIO not a regular file; st filled
 * when something is there), else its index.
 */
static ssize_t
open_read(struct sim_fs *fs, const char *rel, struct es_stat *st,
    struct es_error *err)
{
	ssize_t i;
	int r;

	if ((r = walk(fs, rel, err)) < 0)
		return -1;
	if (r == 1 || (i = sim__fs_find(fs, rel)) < 0) {
		es_error_set_sys(err, r == 1 ? ENOTDIR : ENOENT, rel,
		    "cannot open");
		return -1;
	}
	if (fs->v[i].type == N_LINK) {
		es_error_set(err, ES_EUNSAFE, rel, 0, SYMLINK_REASON);
		if (err)
			err->sys = ELOOP;
		return -1;
	}
	fill_stat(&fs->v[i], st);
	if (fs->v[i].type != N_FILE) {
		es_error_set(err, ES_EIO, rel, 0, "not a regular file");
		return -1;
	}
	return i;
}

static int
fs_read(void *ctx, const char *rel, size_t max_size, struct es_buf *out,
    struct es_stat *st, struct es_error *err)
{
	struct sim_fs *fs = ctx;
	const struct node *nd;
	ssize_t i;

	es_buf_reset(out);
	if (engine_path(fs, "read", rel, false, err) < 0)
		return -1;
	if ((i = open_read(fs, rel, st, err)) < 0)
		return -1;
	nd = &fs->v[i];
	if (nd->len > max_size)
		return es_error_set(err, ES_ELIMIT, rel, 0,
		    "file is %llu bytes, over the %zu-byte limit",
		    (unsigned long long)nd->len, max_size);
	if (es_content_check(nd->data, nd->len, max_size, rel, err) < 0)
		return -1;
	es_buf_add(out, nd->data, nd->len);
	return 0;
}

static int
fs_stat(void *ctx, const char *rel, struct es_stat *st, struct es_error *err)
{
	struct sim_fs *fs = ctx;
	ssize_t i;
	int r;

	if (engine_path(fs, "stat", rel, false, err) < 0)
		return -1;
	if ((r = walk(fs, rel, err)) < 0)
		return -1;
	if (r == 1 || (i = sim__fs_find(fs, rel)) < 0)
		return 0;
	fill_stat(&fs->v[i], st);
	if (fs->v[i].type == N_LINK)
		return es_error_set(err, ES_EUNSAFE, rel, 0, SYMLINK_REASON);
	if (fs->v[i].type != N_FILE)
		return es_error_set(err, ES_EIO, rel, 0, "not a regular file");
	return 1;
}

static void
add_tree_error(struct es_tree *t, const struct es_error *e)
{
	if (t == NULL)
		return;
	t->errors = es_xreallocarray(t->errors, t->nerrors + 1,
	    sizeof(*t->errors));
	t->errors[t->nerrors++] = *e;
}

/* es_tree_load_file() over fs_read(). */
static void
fs_load_file(void *ctx, size_t max_size, struct es_tree_file *f,
    struct es_buf *scratch, struct es_tree *errs)
{
	struct es_error err;

	f->status = ES_TREE_FAILED;
	f->list = NULL;
	es_entity_init(&f->entity, f->info.kind == ES_KIND_GOAL ?
	    ES_KIND_GOAL : ES_KIND_PROJECT);
	if (fs_read(ctx, f->rel, max_size, scratch, &f->st, &err) < 0) {
		add_tree_error(errs, &err);
		return;
	}
	es_tree_file_parse(f, scratch->buf, scratch->len, errs);
}

/* ---- the engine's side: writing ---- */

static bool
stat_matches(const struct node *nd, const struct es_stat *want)
{
	struct es_stat cur;

	fill_stat(nd, &cur);
	return cur.dev == want->dev && cur.ino == want->ino &&
	    cur.size == want->size && cur.mtime_ns == want->mtime_ns;
}

/* rel's node renamed to to (rel's old node at to, if any, is replaced). */
void
sim__fs_rename(struct sim_fs *fs, size_t from, const char *to)
{
	ssize_t j = sim__fs_find(fs, to);

	free(fs->v[from].rel);
	fs->v[from].rel = es_xstrdup(to);
	fs->v[from].ctime_ns = now_ns(fs);
	if (j >= 0)
		sim__fs_del(fs, (size_t)j);
}

/*
 * es__fsio_write_at(): the checks, then a temporary file beside rel,
 * then a rename over rel; a crash point before each step. With
 * sim_plant_inplace_write, rel is rewritten in place in two halves.
 */
static int
write_at(struct sim_fs *fs, const char *rel, const void *buf, size_t len,
    mode_t mode_if_new, const struct es_stat *expect, const es_fp_t *fp,
    struct es_stat *st_out, struct es_error *err)
{
	bool absent = expect != NULL && expect->dev == 0 && expect->ino == 0;
	struct node *nd;
	uint32_t perm;
	ssize_t i, t;
	char *tmp;

	if (crashed(fs, rel, err))
		return -1;
	if (sim__fs_parent_ready(fs, rel, err) < 0)
		return -1;
	i = sim__fs_find(fs, rel);
	if (i >= 0 && fs->v[i].type == N_LINK)
		return es_error_set(err, ES_EUNSAFE, rel, 0,
		    "'%s' is a symbolic link, not followed", rel);
	if (i >= 0 && fs->v[i].type != N_FILE)
		return es_error_set(err, ES_EIO, rel, 0, "not a regular file");
	if (absent && i >= 0)
		return es_error_set(err, ES_ECONFLICT, rel, 0, EXISTS_MSG);
	if (expect == NULL && i >= 0)
		violate(fs, "engine write over '%s' without a "
		    "compare-and-swap", rel);
	if (expect != NULL && !absent && (i < 0 ||
	    !stat_matches(&fs->v[i], expect) || (fp != NULL &&
	    es_fp_bytes(fs->v[i].data, fs->v[i].len) != *fp)))
		return es_error_set(err, ES_ECONFLICT, rel, 0, CHANGED_MSG);
	perm = i >= 0 ? fs->v[i].perm : (uint32_t)(mode_if_new & 07777 &
	    ~SIM_UMASK);
	if (sim_plant_inplace_write) {
		size_t half = len / 2;

		nd = i >= 0 ? &fs->v[i] : sim__fs_add(fs, rel, N_FILE);
		nd->perm = perm;
		sim__fs_set_data(fs, nd, buf, half);
		if (crashed(fs, rel, err))
			return -1;
		sim__fs_set_data(fs, nd, buf, len);
		fill_stat(nd, st_out);
		return 0;
	}
	tmp = tmp_rel(fs, rel);
	nd = sim__fs_add(fs, tmp, N_FILE);
	nd->perm = perm;
	sim__fs_set_data(fs, nd, buf, len);
	t = (ssize_t)fs->n - 1;
	if (crashed(fs, rel, err)) {
		free(tmp);
		return -1;	/* the temporary file stays */
	}
	sim__fs_rename(fs, (size_t)t, rel);
	free(tmp);
	if ((i = sim__fs_find(fs, rel)) >= 0)
		fill_stat(&fs->v[i], st_out);
	return 0;
}

static int
fs_write(void *ctx, const char *rel, const void *buf, size_t len,
    mode_t mode_if_new, const struct es_stat *expect, const es_fp_t *fp,
    struct es_stat *st_out, struct es_error *err)
{
	struct sim_fs *fs = ctx;

	if (engine_path(fs, "write", rel, true, err) < 0)
		return -1;
	return write_at(fs, rel, buf, len, mode_if_new, expect, fp, st_out,
	    err);
}

/* The source of a move: a regular file, not through a link. */
static ssize_t
move_source(struct sim_fs *fs, const char *rel, struct es_error *err)
{
	return open_read(fs, rel, NULL, err);
}

static int
fs_move(void *ctx, const char *from, const char *to, struct es_error *err)
{
	struct sim_fs *fs = ctx;
	ssize_t i;

	if (engine_path(fs, "move", from, true, err) < 0 ||
	    engine_path(fs, "move", to, true, err) < 0)
		return -1;
	if (crashed(fs, to, err))
		return -1;
	if ((i = move_source(fs, from, err)) < 0) {
		if (err)
			snprintf(err->path, sizeof(err->path), "%s", to);
		return -1;
	}
	/*
	 * Never onto an existing path: refused, as the real move (renameat2
	 * RENAME_NOREPLACE) refuses it, and nothing is replaced, which is
	 * the promise; the engine reports it and the next pass decides
	 * again. A refused move is no violation (a crash between a pass's
	 * file writes and its baseline commit can leave the planner a
	 * target it cannot see taken: issue 17, seed 19406).
	 */
	if (strcmp(from, to) == 0 || sim__fs_find(fs, to) >= 0)
		return es_error_set(err, ES_ECONFLICT, to, 0, EXISTS_MSG);
	if (sim__fs_parent_ready(fs, to, err) < 0)
		return -1;
	sim__fs_rename(fs, (size_t)i, to);
	return 0;
}

/* The first free one of stem, stem.1, ... stem.9999; -1: none. */
static char *
numbered(struct sim_fs *fs, const char *stem, const char *rel,
    const char *where, struct es_error *err)
{
	for (unsigned n = 0; n <= COPY_MAX; n++) {
		char *p = n ? es_xasprintf("%s.%u", stem, n) : es_xstrdup(stem);

		if (sim__fs_find(fs, p) < 0)
			return p;
		free(p);
	}
	es_error_set(err, ES_ELIMIT, rel, 0, "more than %d copies in %s",
	    COPY_MAX, where);
	return NULL;
}

static int
fs_trash(void *ctx, const char *rel, struct es_buf *trash_rel,
    struct es_error *err)
{
	struct sim_fs *fs = ctx;
	char *stem, *dst;
	ssize_t i;

	if (engine_path(fs, "trash", rel, true, err) < 0)
		return -1;
	if (crashed(fs, rel, err))
		return -1;
	if ((i = move_source(fs, rel, err)) < 0)
		return -1;
	stem = es_xasprintf("%s/%s", ES_FSIO_TRASH_DIR, rel);
	if (sim__fs_parent_ready(fs, stem, err) < 0) {
		free(stem);
		return -1;
	}
	dst = numbered(fs, stem, rel, "the trash", err);
	free(stem);
	if (dst == NULL)
		return -1;
	i = sim__fs_find(fs, rel);
	sim__fs_rename(fs, (size_t)i, dst);
	if (trash_rel != NULL) {
		es_buf_reset(trash_rel);
		es_buf_addstr(trash_rel, dst);
	}
	free(dst);
	return 0;
}

static int
fs_conflict_copy(void *ctx, const char *rel, const char *side,
    int64_t now_ms, const void *buf, size_t len, struct es_buf *out_rel,
    struct es_error *err)
{
	struct sim_fs *fs = ctx;
	char stamp[32], *stem, *tmp, *dst;
	struct node *nd;

	if (engine_path(fs, "conflict copy", rel, true, err) < 0)
		return -1;
	if (es_fsio_conflict_stamp(rel, side, now_ms, stamp, sizeof(stamp),
	    err) < 0)
		return -1;
	if (crashed(fs, rel, err))
		return -1;
	stem = es_xasprintf("%s/%s.%s.%s", ES_FSIO_CONFLICT_DIR, rel, stamp,
	    side);
	if (sim__fs_parent_ready(fs, stem, err) < 0) {
		free(stem);
		return -1;
	}
	tmp = tmp_rel(fs, stem);
	nd = sim__fs_add(fs, tmp, N_FILE);
	nd->perm = ES_FSIO_MODE_NEW & ~SIM_UMASK;
	sim__fs_set_data(fs, nd, buf, len);
	if (crashed(fs, rel, err)) {
		free(stem);
		free(tmp);
		return -1;
	}
	dst = numbered(fs, stem, rel, ES_FSIO_CONFLICT_DIR, err);
	free(stem);
	if (dst != NULL)
		sim__fs_rename(fs, (size_t)sim__fs_find(fs, tmp), dst);
	else
		sim__fs_del(fs, (size_t)sim__fs_find(fs, tmp));
	free(tmp);
	if (dst == NULL)
		return -1;
	if (out_rel != NULL) {
		es_buf_reset(out_rel);
		es_buf_addstr(out_rel, dst);
	}
	free(dst);
	return 0;
}

static int
fs_append(void *ctx, const char *rel, const void *buf, size_t len,
    struct es_error *err)
{
	struct sim_fs *fs = ctx;
	struct es_buf data = ES_BUF_INIT;
	struct es_stat expect;
	es_fp_t fp;
	ssize_t i;
	int rc;

	if (engine_path(fs, "append", rel, true, err) < 0)
		return -1;
	if (walk(fs, rel, err) < 0)
		return -1;
	memset(&expect, 0, sizeof(expect));
	if ((i = sim__fs_find(fs, rel)) >= 0) {
		if (fs->v[i].type == N_LINK)
			return es_error_set(err, ES_EUNSAFE, rel, 0,
			    "'%s' is a symbolic link, not followed", rel);
		if (fs->v[i].type != N_FILE)
			return es_error_set(err, ES_EIO, rel, 0,
			    "not a regular file");
		if (fs->v[i].len > APPEND_MAX)
			return es_error_set(err, ES_ELIMIT, rel, 0, "file is "
			    "over the %zu-byte limit for appending",
			    APPEND_MAX);
		es_buf_add(&data, fs->v[i].data, fs->v[i].len);
		fill_stat(&fs->v[i], &expect);
	}
	fp = es_fp_bytes(data.buf, data.len);
	es_buf_add(&data, buf, len);
	rc = write_at(fs, rel, data.buf, data.len, ES_FSIO_MODE_NEW, &expect,
	    &fp, NULL, err);
	es_buf_release(&data);
	return rc;
}

static int
fs_root(void *ctx, bool *has_folders, struct es_error *err)
{
	static const char *const dirs[] = { ES_DIR_ACTIONS, ES_DIR_PROJECTS,
	    ES_DIR_GOALS };
	struct sim_fs *fs = ctx;
	ssize_t i;

	(void)err;
	*has_folders = false;
	for (size_t k = 0; k < sizeof(dirs) / sizeof(dirs[0]); k++)
		if ((i = sim__fs_find(fs, dirs[k])) >= 0 &&
		    fs->v[i].type == N_DIR)
			*has_folders = true;
	return 0;
}

static bool
fs_git_busy(void *ctx, const char **what)
{
	static const char *const markers[] = { "index.lock", "rebase-merge",
	    "rebase-apply", "MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD",
	    "sequencer", "BISECT_LOG" };
	struct sim_fs *fs = ctx;
	char path[64];
	ssize_t g;

	if (what)
		*what = NULL;
	if ((g = sim__fs_find(fs, ".git")) < 0 || fs->v[g].type != N_DIR)
		return false;
	for (size_t k = 0; k < sizeof(markers) / sizeof(markers[0]); k++) {
		snprintf(path, sizeof(path), ".git/%s", markers[k]);
		if (sim__fs_find(fs, path) >= 0) {
			if (what)
				*what = markers[k];
			return true;
		}
	}
	return false;
}

void
sim_fs_world(struct sim_fs *fs, struct es_world_fs *out)
{
	static const struct es_world_fs t = {
		.scan = fs_scan, .scan_release = fs_scan_release,
		.read = fs_read, .stat = fs_stat, .load_file = fs_load_file,
		.write = fs_write, .move = fs_move, .trash = fs_trash,
		.conflict_copy = fs_conflict_copy, .append = fs_append,
		.root = fs_root, .git_busy = fs_git_busy,
	};

	*out = t;
	out->ctx = fs;
	sim_base_table(fs->base, &out->base);
}
