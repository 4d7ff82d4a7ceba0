/*
 * The simulated folder and baseline store (issue 17, sim-fs.c,
 * sim-base.c) keep the promises of world.h, scan.h and fsio.h: a
 * compare-and-swap write refuses a changed file, a write is atomic and a
 * crash in the middle leaves only a temporary file, inodes are reused,
 * the editors' save patterns give the stat data and events a kernel and
 * a watcher would, a symbolic link is never followed, the store's
 * transactions land whole or not at all. And one pass of the real engine
 * runs through the simulated env (sim-env.c).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es-test.h"

#include "execsync/buf.h"
#include "execsync/engine.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/fsio.h"
#include "execsync/log.h"

#include "sim-internal.h"

#define ALPHA	"10k-projects/active/work/alpha.md"
#define START	1765000000000LL
#define PROJ_FMT	"10k-projects/active/work/p%02d.md"
#define TEXT_FMT	"---\narea: Work\ntitle: P%02d\ntype: standard\n---\n" \
    "# P%02d\n\nline %d\n"
#define LIST	"00k-next-actions/contexts/@home.md"
#define TMP_PREFIX	"10k-projects/active/work/.alpha.md.execsync-"

static const char alpha_text[] =
    "---\narea: Work\ntitle: Alpha\ntype: standard\ncreated: 2025-01-02\n"
    "---\n# Alpha\n\nline one\n";

struct box {
	int64_t			 clock;
	struct sim_crash	 crash;
	struct sim_fs		*fs;
	struct es_world_fs	 w;
};

static void
box_init(struct box *b)
{
	memset(b, 0, sizeof(*b));
	b->clock = START;
	b->fs = sim_fs_new(&b->clock, &b->crash);
	sim_fs_world(b->fs, &b->w);
}

static void
box_free(struct box *b)
{
	sim_fs_free(b->fs);
}

static void
put(struct box *b, const char *rel, const char *text, enum sim_save how)
{
	struct es_error err;

	assert_int_equal(sim_fs_user_write(b->fs, rel, text, strlen(text),
	    how, &err), 0);
}

/* rel's bytes, as the user sees them ("" with *found false: absent). */
static char *
get(struct box *b, const char *rel)
{
	struct es_buf out = ES_BUF_INIT;
	struct es_error err;
	int r;

	r = sim_fs_user_read(b->fs, rel, &out, &err);
	assert_true(r >= 0);
	if (r == 0) {
		es_buf_release(&out);
		return NULL;
	}
	es_buf_addch(&out, '\0');
	return es_buf_detach(&out, NULL);
}

static void
assert_text(struct box *b, const char *rel, const char *want)
{
	char *got = get(b, rel);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
stat_of(struct box *b, const char *rel, struct es_stat *st)
{
	struct es_error err;

	assert_int_equal(b->w.stat(b->w.ctx, rel, st, &err), 1);
}

static int
count_cb(const char *rel, const void *buf, size_t len, void *ud)
{
	(void)rel;
	(void)buf;
	(void)len;
	(*(size_t *)ud)++;
	return 0;
}

/* Every regular file, .execsync/ and temporary files included. */
static size_t
nfiles(struct box *b)
{
	struct es_error err;
	size_t n = 0;

	assert_int_equal(sim_fs_each(b->fs, count_cb, &n, &err), 0);
	return n;
}

struct find_tmp {
	char	 rel[256];
	size_t	 n;
};

static int
tmp_cb(const char *rel, const void *buf, size_t len, void *ud)
{
	struct find_tmp *f = ud;

	(void)buf;
	(void)len;
	if (strstr(rel, ".execsync-") != NULL) {
		snprintf(f->rel, sizeof(f->rel), "%s", rel);
		f->n++;
	}
	return 0;
}

/* The engine's CAS write: refused when the file changed since its read. */
static void
test_sim_fs_cas_refuses_changed(void **state)
{
	struct es_stat st, st2, out;
	struct es_buf buf = ES_BUF_INIT;
	struct es_error err;
	struct box b;
	es_fp_t fp;

	(void)state;
	box_init(&b);
	put(&b, ALPHA, alpha_text, SIM_SAVE_IN_PLACE);
	assert_int_equal(b.w.read(b.w.ctx, ALPHA, 1 << 20, &buf, &st, &err),
	    0);
	fp = es_fp_bytes(buf.buf, buf.len);
	/* The user saves the same size in place, at the same clock. */
	put(&b, ALPHA, "---\narea: Work\ntitle: Alphb\ntype: standard\n"
	    "created: 2025-01-02\n---\n# Alpha\n\nline one\n",
	    SIM_SAVE_IN_PLACE);
	stat_of(&b, ALPHA, &st2);
	assert_int_equal(st2.ino, st.ino);
	assert_true(st2.mtime_ns != st.mtime_ns);
	assert_int_equal(b.w.write(b.w.ctx, ALPHA, "new\n", 4,
	    ES_FSIO_MODE_NEW, &st, &fp, &out, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_string_equal(err.msg, "changed on disk while syncing");
	assert_text(&b, ALPHA, "---\narea: Work\ntitle: Alphb\ntype: standard\n"
	    "created: 2025-01-02\n---\n# Alpha\n\nline one\n");
	/* Stat data right, bytes not (a same-stat edit): the fp refuses. */
	fp = es_fp_bytes("other", 5);
	assert_int_equal(b.w.write(b.w.ctx, ALPHA, "new\n", 4,
	    ES_FSIO_MODE_NEW, &st2, &fp, &out, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	/* "Must not exist" refuses an existing file. */
	memset(&st, 0, sizeof(st));
	assert_int_equal(b.w.write(b.w.ctx, ALPHA, "new\n", 4,
	    ES_FSIO_MODE_NEW, &st, NULL, &out, &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_string_equal(err.msg, "already exists");
	assert_null(sim_fs_violation(b.fs));
	es_buf_release(&buf);
	box_free(&b);
}

/* A write that wins: new inode by rename, stat data as a stat sees them. */
static void
test_sim_fs_write_atomic(void **state)
{
	struct es_stat st, out, now;
	struct es_error err;
	struct box b;
	es_fp_t fp;
	struct find_tmp ft = { "", 0 };

	(void)state;
	box_init(&b);
	put(&b, ALPHA, alpha_text, SIM_SAVE_IN_PLACE);
	stat_of(&b, ALPHA, &st);
	fp = es_fp_bytes(alpha_text, strlen(alpha_text));
	assert_int_equal(b.w.write(b.w.ctx, ALPHA, "new\n", 4,
	    ES_FSIO_MODE_NEW, &st, &fp, &out, &err), 0);
	assert_text(&b, ALPHA, "new\n");
	stat_of(&b, ALPHA, &now);
	assert_memory_equal(&now, &out, sizeof(now));
	assert_true(out.ino != st.ino);
	assert_int_equal(out.size, 4);
	assert_int_equal(nfiles(&b), 1);
	assert_int_equal(sim_fs_each(b.fs, tmp_cb, &ft, &err), 0);
	assert_int_equal(ft.n, 0);
	box_free(&b);
}

/*
 * A crash at each crash point of a write: the target keeps the user's
 * bytes, at worst a hidden temporary file stays, which the scan ignores.
 */
static void
test_sim_fs_crash_mid_write(void **state)
{
	struct es_scan_result sr;
	struct es_stat st;
	struct es_error err;
	struct box b;
	es_fp_t fp;

	(void)state;
	for (unsigned at = 1; at <= 3; at++) {
		struct find_tmp ft = { "", 0 };

		box_init(&b);
		put(&b, ALPHA, alpha_text, SIM_SAVE_IN_PLACE);
		stat_of(&b, ALPHA, &st);
		fp = es_fp_bytes(alpha_text, strlen(alpha_text));
		b.crash.at = at;
		assert_int_equal(b.w.write(b.w.ctx, ALPHA, "new\n", 4,
		    ES_FSIO_MODE_NEW, &st, &fp, NULL, &err), at <= 2 ? -1 : 0);
		assert_int_equal(sim_fs_each(b.fs, tmp_cb, &ft, &err), 0);
		if (at == 1) {
			assert_string_equal(err.msg, "simulated crash");
			assert_text(&b, ALPHA, alpha_text);
			assert_int_equal(ft.n, 0);
		} else if (at == 2) {
			assert_text(&b, ALPHA, alpha_text);
			assert_int_equal(ft.n, 1);
			assert_int_equal(strncmp(ft.rel, TMP_PREFIX,
			    strlen(TMP_PREFIX)), 0);
			assert_int_equal(strlen(ft.rel),
			    strlen(TMP_PREFIX) + 6);
			assert_int_equal(b.w.scan(b.w.ctx, NULL, &sr, &err), 0);
			assert_int_equal(sr.n, 1);
			assert_string_equal(sr.entries[0].rel, ALPHA);
			b.w.scan_release(b.w.ctx, &sr);
			/* Every later call of the pass fails too. */
			assert_int_equal(b.w.append(b.w.ctx, "x/y.md", "a", 1,
			    &err), -1);
		} else {
			assert_text(&b, ALPHA, "new\n");
			assert_int_equal(ft.n, 0);
		}
		box_free(&b);
	}
}

/* The planted bug: a crash between the halves truncates the target. */
static void
test_sim_fs_plant_inplace(void **state)
{
	struct es_stat st;
	struct es_error err;
	struct box b;
	es_fp_t fp;

	(void)state;
	box_init(&b);
	put(&b, ALPHA, alpha_text, SIM_SAVE_IN_PLACE);
	stat_of(&b, ALPHA, &st);
	fp = es_fp_bytes(alpha_text, strlen(alpha_text));
	sim_plant_inplace_write = true;
	b.crash.at = 2;
	assert_int_equal(b.w.write(b.w.ctx, ALPHA, "new text\n", 9,
	    ES_FSIO_MODE_NEW, &st, &fp, NULL, &err), -1);
	sim_plant_inplace_write = false;
	assert_text(&b, ALPHA, "new ");
	box_free(&b);
}

/*
 * Inodes: a removed file's inode goes to a later new file; a rename
 * keeps it; a delete-then-create save may come back with the same one.
 */
static void
test_sim_fs_inode_reuse(void **state)
{
	struct es_stat a, c, d;
	struct es_error err;
	struct box b;
	bool reused = false;

	(void)state;
	box_init(&b);
	put(&b, ALPHA, alpha_text, SIM_SAVE_IN_PLACE);
	stat_of(&b, ALPHA, &a);
	assert_int_equal(sim_fs_user_rename(b.fs, ALPHA,
	    "10k-projects/active/work/beta.md", &err), 0);
	stat_of(&b, "10k-projects/active/work/beta.md", &c);
	assert_int_equal(c.ino, a.ino);
	assert_true(c.ctime_ns != a.ctime_ns);
	assert_int_equal(b.w.stat(b.w.ctx, ALPHA, &d, &err), 0);
	/* Remove, create: within a few, one new file takes the old inode. */
	for (int i = 0; i < 4 && !reused; i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "10k-projects/active/work/n%d.md",
		    i);
		assert_int_equal(sim_fs_user_remove(b.fs,
		    i ? "10k-projects/active/work/gone.md" :
		    "10k-projects/active/work/beta.md", &err), 0);
		put(&b, rel, "x\n", SIM_SAVE_IN_PLACE);
		stat_of(&b, rel, &d);
		reused = d.ino == (i ? c.ino : a.ino) || reused;
		c = d;
		assert_int_equal(sim_fs_user_rename(b.fs, rel,
		    "10k-projects/active/work/gone.md", &err), 0);
	}
	assert_true(reused);
	box_free(&b);
}

/* The save patterns: bytes, inodes and the events a watcher sees. */
static void
test_sim_fs_save_patterns(void **state)
{
	static const struct {
		enum sim_save	 how;
		bool		 same_ino;
		const char	*events;
	} cases[] = {
		{ SIM_SAVE_IN_PLACE, true, ALPHA },
		{ SIM_SAVE_RENAME_OVER, false, "10k-projects/active/work/"
		    ".alpha.md.swp " ALPHA },
		{ SIM_SAVE_VIM_BACKUP, false, ALPHA " " ALPHA "~" },
		{ SIM_SAVE_DELETE_CREATE, false, ALPHA },
	};
	struct es_stat a, c;
	struct es_error err;
	struct box b;
	char **ev;
	size_t n;

	(void)state;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct es_buf all = ES_BUF_INIT;

		box_init(&b);
		put(&b, ALPHA, alpha_text, SIM_SAVE_IN_PLACE);
		assert_int_equal(sim_fs_events(b.fs, &ev, &n), 0);
		assert_int_equal(n, 1);
		free(ev[0]);
		free(ev);
		stat_of(&b, ALPHA, &a);
		put(&b, ALPHA, "second\n", cases[k].how);
		stat_of(&b, ALPHA, &c);
		assert_text(&b, ALPHA, "second\n");
		assert_int_equal(nfiles(&b), 1);
		if (cases[k].same_ino)
			assert_int_equal(c.ino, a.ino);
		assert_true(c.mtime_ns != a.mtime_ns || c.ino != a.ino);
		assert_int_equal(sim_fs_events(b.fs, &ev, &n), 0);
		for (size_t i = 0; i < n; i++) {
			es_buf_addf(&all, "%s%s", i ? " " : "", ev[i]);
			free(ev[i]);
		}
		free(ev);
		assert_string_equal(all.buf ? all.buf : "", cases[k].events);
		es_buf_release(&all);
		assert_int_equal(sim_fs_events(b.fs, &ev, &n), 0);
		assert_int_equal(n, 0);
		free(ev);
		(void)err;
		box_free(&b);
	}
}

/* Symbolic links: skipped by the scan, never followed by a call. */
static void
test_sim_fs_symlink_refused(void **state)
{
	struct es_scan_result sr;
	struct es_buf buf = ES_BUF_INIT;
	struct es_stat st;
	struct es_error err;
	struct box b;

	(void)state;
	box_init(&b);
	put(&b, "elsewhere/x.md", alpha_text, SIM_SAVE_IN_PLACE);
	assert_int_equal(sim_fs_user_symlink(b.fs, "10k-projects/active/work",
	    "../../elsewhere", &err), 0);
	assert_int_equal(sim_fs_user_symlink(b.fs,
	    "10k-projects/active/home/l.md", "/etc/passwd", &err), 0);
	assert_int_equal(b.w.scan(b.w.ctx, NULL, &sr, &err), 0);
	assert_int_equal(sr.n, 0);
	assert_int_equal(sr.nskipped, 2);
	assert_string_equal(sr.skipped[0].rel, "10k-projects/active/home/l.md");
	assert_string_equal(sr.skipped[1].rel, "10k-projects/active/work");
	assert_string_equal(sr.skipped[1].reason,
	    "symbolic link, not followed");
	b.w.scan_release(b.w.ctx, &sr);
	assert_int_equal(b.w.read(b.w.ctx, "10k-projects/active/work/x.md",
	    1 << 20, &buf, &st, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_int_equal(b.w.read(b.w.ctx, "10k-projects/active/home/l.md",
	    1 << 20, &buf, &st, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	memset(&st, 0, sizeof(st));
	assert_int_equal(b.w.write(b.w.ctx, "10k-projects/active/work/y.md",
	    "y\n", 2, ES_FSIO_MODE_NEW, &st, NULL, NULL, &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_null(get(&b, "elsewhere/y.md"));
	/* Absolute and ".." paths: refused, and a broken promise. */
	assert_null(sim_fs_violation(b.fs));
	assert_int_equal(b.w.read(b.w.ctx, "/etc/passwd", 1 << 20, &buf, &st,
	    &err), -1);
	assert_int_equal(err.code, ES_EUNSAFE);
	assert_non_null(sim_fs_violation(b.fs));
	assert_non_null(strstr(sim_fs_violation(b.fs), "/etc/passwd"));
	assert_int_equal(b.w.move(b.w.ctx, "elsewhere/x.md", "a/../b.md",
	    &err), -1);
	es_buf_release(&buf);
	box_free(&b);
}

/* The checks of es_scan_read(), and the engine's trash and copies. */
static void
test_sim_fs_read_checks_and_keep(void **state)
{
	struct es_buf buf = ES_BUF_INIT, where = ES_BUF_INIT;
	struct es_stat st;
	struct es_error err;
	struct box b;

	(void)state;
	box_init(&b);
	assert_int_equal(b.w.read(b.w.ctx, ALPHA, 100, &buf, &st, &err), -1);
	assert_int_equal(err.code, ES_EIO);
	assert_int_equal(err.sys, ENOENT);
	put(&b, ALPHA, alpha_text, SIM_SAVE_IN_PLACE);
	assert_int_equal(b.w.read(b.w.ctx, ALPHA, 10, &buf, &st, &err), -1);
	assert_int_equal(err.code, ES_ELIMIT);
	assert_int_equal(sim_fs_user_write(b.fs, ALPHA, "a\0b", 3,
	    SIM_SAVE_IN_PLACE, &err), 0);
	assert_int_equal(b.w.read(b.w.ctx, ALPHA, 100, &buf, &st, &err), -1);
	assert_int_equal(err.code, ES_EPARSE);
	put(&b, ALPHA, "<<<<<<< HEAD\na\n=======\nb\n>>>>>>> x\n",
	    SIM_SAVE_IN_PLACE);
	assert_int_equal(b.w.read(b.w.ctx, ALPHA, 100, &buf, &st, &err), -1);
	assert_int_equal(err.code, ES_EPARSE);
	/* Trash twice: the second gets ".1"; a move never replaces. */
	assert_int_equal(b.w.trash(b.w.ctx, ALPHA, &where, &err), 0);
	assert_string_equal(where.buf, ".execsync/trash/" ALPHA);
	put(&b, ALPHA, alpha_text, SIM_SAVE_IN_PLACE);
	assert_int_equal(b.w.trash(b.w.ctx, ALPHA, &where, &err), 0);
	assert_string_equal(where.buf, ".execsync/trash/" ALPHA ".1");
	assert_null(sim_fs_violation(b.fs));
	assert_int_equal(b.w.conflict_copy(b.w.ctx, ALPHA, "file",
	    1765000000000LL, "c\n", 2, &where, &err), 0);
	assert_string_equal(where.buf, ".execsync/conflicts/" ALPHA
	    ".20251206T054640Z.file");
	assert_int_equal(b.w.conflict_copy(b.w.ctx, ALPHA, "file",
	    1765000000000LL, "c\n", 2, &where, &err), 0);
	assert_string_equal(where.buf, ".execsync/conflicts/" ALPHA
	    ".20251206T054640Z.file.1");
	assert_int_equal(b.w.append(b.w.ctx, ES_FSIO_TRASH_ACTIONS, "a\n", 2,
	    &err), 0);
	assert_int_equal(b.w.append(b.w.ctx, ES_FSIO_TRASH_ACTIONS, "b\n", 2,
	    &err), 0);
	assert_text(&b, ES_FSIO_TRASH_ACTIONS, "a\nb\n");
	put(&b, "x.md", "x", SIM_SAVE_IN_PLACE);
	assert_int_equal(b.w.move(b.w.ctx, "x.md", ES_FSIO_TRASH_ACTIONS,
	    &err), -1);
	assert_int_equal(err.code, ES_ECONFLICT);
	assert_null(sim_fs_violation(b.fs));	/* refused: nothing replaced */
	es_buf_release(&buf);
	es_buf_release(&where);
	box_free(&b);
}

static void
test_sim_fs_git_busy(void **state)
{
	struct es_error err;
	const char *what;
	struct box b;

	(void)state;
	box_init(&b);
	assert_false(b.w.git_busy(b.w.ctx, &what));
	put(&b, ".git/HEAD", "ref: refs/heads/main\n", SIM_SAVE_IN_PLACE);
	assert_false(b.w.git_busy(b.w.ctx, &what));
	put(&b, ".git/index.lock", "", SIM_SAVE_IN_PLACE);
	assert_true(b.w.git_busy(b.w.ctx, &what));
	assert_string_equal(what, "index.lock");
	assert_int_equal(sim_fs_user_remove(b.fs, ".git/index.lock", &err), 0);
	assert_false(b.w.git_busy(b.w.ctx, &what));
	box_free(&b);
}

/* ---- the baseline store ---- */

static int
order_cb(const struct es_base_entity *e, void *ud)
{
	struct es_buf *out = ud;

	es_buf_addf(out, "%d:%s:%u:%02x%s ", (int)e->kind, e->rel, e->pos,
	    e->id.bytes[11], e->base ? "+" : "");
	return 0;
}

static void
put_ent(const struct es_world_base *w, enum es_kind kind, const char *rel,
    uint32_t pos, uint8_t id, int rc)
{
	struct es_base_entity e;
	struct es_error err;

	memset(&e, 0, sizeof(e));
	e.id.bytes[11] = id;
	e.kind = kind;
	e.rel = rel;
	e.pos = pos;
	e.base = (const uint8_t *)"b";
	e.base_len = 1;
	assert_int_equal(w->put_entity(w->ctx, &e, &err), rc);
}

static void
test_sim_base_transactions(void **state)
{
	struct es_buf order = ES_BUF_INIT;
	struct es_base_file f, got;
	struct es_error err;
	struct box b;
	const struct es_world_base *w;
	size_t nf, ne;
	bool found;
	char *v;

	(void)state;
	box_init(&b);
	w = &b.w.base;
	/* Outside a transaction: lands at once. */
	assert_int_equal(w->set_meta(w->ctx, "k", "1", &err), 0);
	assert_int_equal(w->begin(w->ctx, &err), 0);
	assert_int_equal(w->begin(w->ctx, &err), -1);	/* no nesting */
	memset(&f, 0, sizeof(f));
	f.rel = ALPHA;
	f.st.ino = 7;
	assert_int_equal(w->put_file(w->ctx, &f, &err), 0);
	put_ent(w, ES_KIND_ACTION, "b", 0, 1, 0);
	put_ent(w, ES_KIND_PROJECT, "z", 0, 2, 0);
	put_ent(w, ES_KIND_ACTION, "a", 1, 3, 0);
	put_ent(w, ES_KIND_ACTION, "a", 0, 5, 0);
	put_ent(w, ES_KIND_ACTION, "a", 0, 4, 0);
	assert_int_equal(w->set_meta(w->ctx, "k", "2", &err), 0);
	/* Reads see the transaction's writes. */
	assert_int_equal(w->get_file(w->ctx, ALPHA, &got, &found, &err), 0);
	assert_true(found);
	assert_int_equal(got.st.ino, 7);
	assert_int_equal(w->each_entity(w->ctx, order_cb, &order, &err), 0);
	assert_string_equal(order.buf, "0:z:0:02+ 2:a:0:04+ 2:a:0:05+ "
	    "2:a:1:03+ 2:b:0:01+ ");
	es_buf_reset(&order);
	assert_int_equal(w->each_entity_nobase(w->ctx, order_cb, &order,
	    &err), 0);
	assert_null(strchr(order.buf, '+'));
	w->rollback(w->ctx);
	assert_int_equal(w->count(w->ctx, &nf, &ne, &err), 0);
	assert_int_equal(nf + ne, 0);
	assert_int_equal(w->get_meta(w->ctx, "k", &v, &err), 0);
	assert_string_equal(v, "1");
	free(v);
	/* Commit: lands; put replaces by key; clear keeps meta. */
	assert_int_equal(w->commit(w->ctx, &err), -1);	/* none open */
	assert_int_equal(w->begin(w->ctx, &err), 0);
	put_ent(w, ES_KIND_PROJECT, "z", 0, 2, 0);
	put_ent(w, ES_KIND_GOAL, "g", 0, 2, 0);
	assert_int_equal(w->commit(w->ctx, &err), 0);
	assert_int_equal(w->count(w->ctx, &nf, &ne, &err), 0);
	assert_int_equal(ne, 1);
	/* A crash at the third write: rolled back, later writes fail. */
	b.crash.count = 0;
	b.crash.at = 3;
	assert_int_equal(w->begin(w->ctx, &err), 0);
	assert_int_equal(w->clear(w->ctx, &err), 0);
	put_ent(w, ES_KIND_PROJECT, "p", 0, 9, 0);
	put_ent(w, ES_KIND_PROJECT, "q", 0, 8, -1);
	assert_int_equal(w->commit(w->ctx, &err), -1);
	assert_string_equal(err.msg, "simulated crash");
	w->rollback(w->ctx);
	assert_int_equal(w->count(w->ctx, &nf, &ne, &err), 0);
	assert_int_equal(ne, 1);
	es_buf_reset(&order);
	assert_int_equal(w->each_entity(w->ctx, order_cb, &order, &err), 0);
	assert_string_equal(order.buf, "1:g:0:02+ ");
	es_buf_release(&order);
	box_free(&b);
}

/* ---- the env: one pass of the real engine ---- */

struct doc_count {
	size_t		 n;
	bool		 alpha;
	bson_oid_t	 id;
};

static int
doc_cb(const bson_t *doc, void *ud)
{
	struct doc_count *c = ud;
	bson_iter_t it;

	c->n++;
	if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_OID(&it))
		bson_oid_copy(bson_iter_oid(&it), &c->id);
	if (bson_iter_init_find(&it, doc, "title") &&
	    BSON_ITER_HOLDS_UTF8(&it) &&
	    strcmp(bson_iter_utf8(&it, NULL), "Alpha") == 0)
		c->alpha = true;
	return 0;
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
test_sim_env_smoke_pass(void **state)
{
	struct sim_env_opts eo = { 1, START, false };
	struct es_engine_opts o;
	struct es_engine_result r;
	struct doc_count c;
	struct es_buf buf = ES_BUF_INIT;
	bson_t doc, edit;
	bson_iter_t it;
	struct timespec t0;
	struct es_error err;
	struct sim_env env;
	int rc;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(sim_env_new(&eo, &env, &err), 0);
	assert_int_equal(env.ops->write_file(env.ctx, 0, ALPHA, alpha_text,
	    strlen(alpha_text), SIM_SAVE_RENAME_OVER, &err), 0);
	memset(&o, 0, sizeof(o));
	o.policy = ES_POLICY_NEWEST;
	o.max_delete = 50;
	env.ops->advance(env.ctx, 1000);
	es_engine_result_init(&r);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	rc = env.ops->pass(env.ctx, 0, &o, NULL, &r, &err);
	printf("# first pass: %.3f ms\n", ms_since(&t0));
	if (rc != 0)
		fail_msg("pass: %s: %s", err.path, err.msg);
	assert_int_equal(r.nerrors, 0);
	es_engine_result_release(&r);
	assert_int_equal(env.ops->api_each(env.ctx, ES_KIND_PROJECT, doc_cb,
	    &c, &err), 0);
	assert_int_equal(c.n, 1);
	assert_true(c.alpha);
	/* A second pass: nothing to do. */
	env.ops->advance(env.ctx, 1000);
	es_engine_result_init(&r);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	assert_int_equal(env.ops->pass(env.ctx, 0, &o, NULL, &r, &err), 0);
	printf("# no-op pass: %.3f ms\n", ms_since(&t0));
	assert_int_equal(r.to_db + r.to_file, 0);
	es_engine_result_release(&r);
	/* The API edits the content: a pass writes the file. */
	assert_int_equal(env.ops->api_get(env.ctx, ES_KIND_PROJECT, &c.id,
	    &doc, &err), 1);
	bson_init(&edit);
	assert_true(bson_iter_init(&it, &doc));
	while (bson_iter_next(&it))
		if (strcmp(bson_iter_key(&it), "content") != 0 &&
		    strcmp(bson_iter_key(&it), "updated_at") != 0)
			assert_true(bson_append_iter(&edit, NULL, -1, &it));
	BSON_APPEND_UTF8(&edit, "content", "# Alpha\n\nline two\n");
	BSON_APPEND_DATE_TIME(&edit, "updated_at",
	    env.ops->db_now_ms(env.ctx));
	assert_int_equal(env.ops->api_replace(env.ctx, ES_KIND_PROJECT, &edit,
	    &err), 0);
	bson_destroy(&doc);
	bson_destroy(&edit);
	env.ops->advance(env.ctx, 1000);
	es_engine_result_init(&r);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	assert_int_equal(env.ops->pass(env.ctx, 0, &o, NULL, &r, &err), 0);
	printf("# pass writing a file: %.3f ms\n", ms_since(&t0));
	assert_int_equal(r.to_file, 1);
	assert_int_equal(r.nerrors, 0);
	es_engine_result_release(&r);
	assert_int_equal(env.ops->read_file(env.ctx, 0, ALPHA, &buf, &err), 1);
	es_buf_addch(&buf, '\0');
	assert_non_null(strstr(buf.buf, "line two"));
	assert_null(strstr(buf.buf, "line one"));
	es_buf_release(&buf);
	assert_null(env.ops->violation(env.ctx));
	sim_env_free(&env);
}

static int
tmp_count_cb(const char *rel, const void *buf, size_t len, void *ud)
{
	(void)buf;
	(void)len;
	if (strstr(rel, ".execsync-") != NULL)
		(*(size_t *)ud)++;
	return 0;
}

/*
 * A pass that crashes at its n-th mutating call, for every n up to past
 * the pass's last: the crash is reported, a later pass finishes the work
 * (one document, the file as the user wrote it), and the only trace is
 * at most a hidden temporary file.
 */
static void
test_sim_env_crash_then_recover(void **state)
{
	struct sim_env_opts eo = { 1, START, false };
	struct es_engine_opts o;
	struct es_engine_result r;
	struct es_buf buf = ES_BUF_INIT;
	struct es_error err;
	struct sim_env env;
	bool seen_clean = false;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.policy = ES_POLICY_NEWEST;
	o.max_delete = 50;
	for (unsigned n = 1; n <= 12 && !seen_clean; n++) {
		struct doc_count c;
		size_t tmps = 0;

		memset(&c, 0, sizeof(c));
		assert_int_equal(sim_env_new(&eo, &env, &err), 0);
		assert_int_equal(env.ops->write_file(env.ctx, 0, ALPHA,
		    alpha_text, strlen(alpha_text), SIM_SAVE_IN_PLACE, &err),
		    0);
		env.ops->advance(env.ctx, 1000);
		env.ops->faults->crash_at(env.ctx, 0, n);
		es_engine_result_init(&r);
		(void)env.ops->pass(env.ctx, 0, &o, NULL, &r, &err);
		es_engine_result_release(&r);
		seen_clean = !env.ops->faults->crashed(env.ctx, 0);
		env.ops->advance(env.ctx, 1000);
		es_engine_result_init(&r);
		assert_int_equal(env.ops->pass(env.ctx, 0, &o, NULL, &r, &err),
		    0);
		assert_false(env.ops->faults->crashed(env.ctx, 0));
		assert_int_equal(r.nerrors, 0);
		es_engine_result_release(&r);
		es_engine_result_init(&r);
		assert_int_equal(env.ops->pass(env.ctx, 0, &o, NULL, &r, &err),
		    0);
		assert_int_equal(r.to_db + r.to_file, 0);
		es_engine_result_release(&r);
		assert_int_equal(env.ops->api_each(env.ctx, ES_KIND_PROJECT,
		    doc_cb, &c, &err), 0);
		assert_int_equal(c.n, 1);
		assert_int_equal(env.ops->read_file(env.ctx, 0, ALPHA, &buf,
		    &err), 1);
		es_buf_addch(&buf, '\0');
		assert_string_equal(buf.buf, alpha_text);
		assert_int_equal(env.ops->each_file(env.ctx, 0, tmp_count_cb,
		    &tmps, &err), 0);
		assert_true(tmps <= 1);
		assert_null(env.ops->violation(env.ctx));
		sim_env_free(&env);
	}
	assert_true(seen_clean);	/* n went past the pass's last call */
	es_buf_release(&buf);
}

/*
 * Two machines, 21 files: every save pattern in turn on machine 0, each
 * edit carried to machine 1 by one pass each, nothing else written. The
 * CPU time of a pass is printed (issue 17's budget: histories of 50
 * steps at 200 a second).
 */
static void
test_sim_env_two_machines_edits(void **state)
{
	struct sim_env_opts eo = { 2, START, false };
	struct es_engine_opts o;
	struct es_engine_result r;
	struct es_buf buf = ES_BUF_INIT;
	struct es_error err;
	struct sim_env env;
	struct timespec t0;
	char rel[128], text[256];
	double first, noop, edit;
	int k;

	(void)state;
	assert_int_equal(sim_env_new(&eo, &env, &err), 0);
	for (int i = 0; i < 20; i++) {
		snprintf(rel, sizeof(rel), PROJ_FMT, i);
		snprintf(text, sizeof(text), TEXT_FMT, i, i, 0);
		assert_int_equal(env.ops->write_file(env.ctx, 0, rel, text,
		    strlen(text), SIM_SAVE_IN_PLACE, &err), 0);
	}
	assert_int_equal(env.ops->write_file(env.ctx, 0, LIST, "- [ ] a\n"
	    "- [ ] b\n", 16, SIM_SAVE_IN_PLACE, &err), 0);
	memset(&o, 0, sizeof(o));
	o.policy = ES_POLICY_NEWEST;
	o.max_delete = 50;
	es_log_set_level(ES_LOG_WARN);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	es_engine_result_init(&r);
	assert_int_equal(env.ops->pass(env.ctx, 0, &o, NULL, &r, &err), 0);
	assert_int_equal(r.nerrors, 0);
	es_engine_result_release(&r);
	first = ms_since(&t0);
	o.init = true;		/* machine 1's folder is bare */
	es_engine_result_init(&r);
	assert_int_equal(env.ops->pass(env.ctx, 1, &o, NULL, &r, &err), 0);
	assert_int_equal(r.nerrors, 0);
	es_engine_result_release(&r);
	o.init = false;
	assert_int_equal(env.ops->read_file(env.ctx, 1, LIST, &buf, &err), 1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (k = 0; k < 100; k++) {
		env.ops->advance(env.ctx, 1000);
		es_engine_result_init(&r);
		assert_int_equal(env.ops->pass(env.ctx, k & 1, &o, NULL, &r,
		    &err), 0);
		assert_int_equal(r.to_db + r.to_file, 0);
		es_engine_result_release(&r);
	}
	noop = ms_since(&t0) / k;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (k = 0; k < 100; k++) {
		snprintf(rel, sizeof(rel), PROJ_FMT, k % 20);
		snprintf(text, sizeof(text), TEXT_FMT, k % 20, k % 20, k + 1);
		assert_int_equal(env.ops->write_file(env.ctx, 0, rel, text,
		    strlen(text), (enum sim_save)(k % SIM_SAVE_N), &err), 0);
		env.ops->advance(env.ctx, 1000);
		es_engine_result_init(&r);
		assert_int_equal(env.ops->pass(env.ctx, 0, &o, NULL, &r, &err),
		    0);
		assert_int_equal(r.to_db, 1);
		assert_int_equal(r.to_file, 0);
		es_engine_result_release(&r);
		es_engine_result_init(&r);
		assert_int_equal(env.ops->pass(env.ctx, 1, &o, NULL, &r, &err),
		    0);
		assert_int_equal(r.to_file, 1);
		assert_int_equal(r.to_db, 0);
		es_engine_result_release(&r);
		assert_int_equal(env.ops->read_file(env.ctx, 1, rel, &buf,
		    &err), 1);
		assert_memory_equal(buf.buf, text, strlen(text));
	}
	edit = ms_since(&t0) / (2 * k);
	printf("# 21 files: first pass %.3f ms, no-op pass %.3f ms, "
	    "pass with one edit %.3f ms\n", first, noop, edit);
	assert_null(env.ops->violation(env.ctx));
	es_buf_release(&buf);
	sim_env_free(&env);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sim_fs_cas_refuses_changed),
	cmocka_unit_test(test_sim_fs_write_atomic),
	cmocka_unit_test(test_sim_fs_crash_mid_write),
	cmocka_unit_test(test_sim_fs_plant_inplace),
	cmocka_unit_test(test_sim_fs_inode_reuse),
	cmocka_unit_test(test_sim_fs_save_patterns),
	cmocka_unit_test(test_sim_fs_symlink_refused),
	cmocka_unit_test(test_sim_fs_read_checks_and_keep),
	cmocka_unit_test(test_sim_fs_git_busy),
	cmocka_unit_test(test_sim_base_transactions),
	cmocka_unit_test(test_sim_env_smoke_pass),
	cmocka_unit_test(test_sim_env_crash_then_recover),
	cmocka_unit_test(test_sim_env_two_machines_edits),
};

ES_TEST_MAIN(tests)
