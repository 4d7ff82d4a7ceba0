/*
 * The real world of a pass (world.h): thin adapters over scan, fsio, tree,
 * gitstate, baseline, store and the system clock. Each context is what
 * the real function takes: the root's descriptor (carried in the pointer
 * itself), the baseline, the store. And es_engine_once(), the pass in the
 * real world.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "execsync/engine.h"
#include "execsync/fsio.h"
#include "execsync/gitstate.h"
#include "execsync/layout.h"
#include "execsync/world.h"


/*
 * Documents per reply: a full read of 22,000 documents took 92 round trips
 * at the server's default batch (execsync-bench reconcile); 10,000 keeps it
 * to a few, well under the 16 MiB message limit for documents this size.
 */
#define ES_ENGINE_READ_BATCH	10000

#define FD(ctx)	((int)(intptr_t)(ctx))

/* ---- the folder ---- */

static int
fs_scan(void *ctx, const char *const *ignore, struct es_scan_result *out,
    struct es_error *err)
{
	struct es_scan_opts so;

	so.ignore = ignore;
	return es_scan(FD(ctx), &so, out, err);
}

static void
fs_scan_release(void *ctx, struct es_scan_result *r)
{
	(void)ctx;
	es_scan_result_release(r);
}

static int
fs_read(void *ctx, const char *rel, size_t max_size, struct es_buf *out,
    struct es_stat *st, struct es_error *err)
{
	return es_scan_read(FD(ctx), rel, max_size, out, st, err);
}

static int
fs_stat(void *ctx, const char *rel, struct es_stat *st, struct es_error *err)
{
	return es_scan_stat(FD(ctx), rel, st, err);
}

static void
fs_load_file(void *ctx, size_t max_size, struct es_tree_file *f,
    struct es_buf *scratch, struct es_tree *errs)
{
	struct es_tree_opts o;

	o.ignore = NULL;
	o.max_file_size = max_size;
	es_tree_load_file(FD(ctx), &o, f, scratch, errs);
}

static int
fs_write(void *ctx, const char *rel, const void *buf, size_t len,
    mode_t mode_if_new, const struct es_stat *expect, const es_fp_t *fp,
    struct es_stat *st_out, struct es_error *err)
{
	return es_fsio_write(FD(ctx), rel, buf, len, mode_if_new, expect, fp,
	    st_out, err);
}

static int
fs_move(void *ctx, const char *from, const char *to, struct es_error *err)
{
	return es_fsio_move(FD(ctx), from, to, err);
}

static int
fs_trash(void *ctx, const char *rel, struct es_buf *trash_rel,
    struct es_error *err)
{
	return es_fsio_trash(FD(ctx), rel, trash_rel, err);
}

static int
fs_conflict_copy(void *ctx, const char *rel, const char *side,
    int64_t now_ms, const void *buf, size_t len, struct es_buf *out_rel,
    struct es_error *err)
{
	return es_fsio_conflict_copy(FD(ctx), rel, side, now_ms, buf, len,
	    out_rel, err);
}

static int
fs_append(void *ctx, const char *rel, const void *buf, size_t len,
    struct es_error *err)
{
	return es_fsio_append(FD(ctx), rel, buf, len, err);
}

bool
es_engine_root_has_folders(int root_fd)
{
	static const char *const dirs[] = { ES_DIR_ACTIONS, ES_DIR_PROJECTS,
	    ES_DIR_GOALS };
	struct stat st;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (fstatat(root_fd, dirs[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			return true;
	return false;
}

static int
fs_root(void *ctx, bool *has_folders, struct es_error *err)
{
	struct stat st;

	*has_folders = false;
	if (fstat(FD(ctx), &st) < 0 || !S_ISDIR(st.st_mode))
		return es_error_set(err, ES_ECONFIG, ".", 0, "not a folder");
	*has_folders = es_engine_root_has_folders(FD(ctx));
	return 0;
}

static bool
fs_git_busy(void *ctx, const char **what)
{
	return es_git_busy(FD(ctx), what);
}

/* ---- the baseline store ---- */

static int
b_begin(void *ctx, struct es_error *err)
{
	return es_baseline_begin(ctx, err);
}

static int
b_commit(void *ctx, struct es_error *err)
{
	return es_baseline_commit(ctx, err);
}

static void
b_rollback(void *ctx)
{
	es_baseline_rollback(ctx);
}

static int
b_get_meta(void *ctx, const char *key, char **value, struct es_error *err)
{
	return es_baseline_get_meta(ctx, key, value, err);
}

static int
b_set_meta(void *ctx, const char *key, const char *value,
    struct es_error *err)
{
	return es_baseline_set_meta(ctx, key, value, err);
}

static int
b_get_file(void *ctx, const char *rel, struct es_base_file *out, bool *found,
    struct es_error *err)
{
	return es_baseline_get_file(ctx, rel, out, found, err);
}

static int
b_put_file(void *ctx, const struct es_base_file *f, struct es_error *err)
{
	return es_baseline_put_file(ctx, f, err);
}

static int
b_delete_file(void *ctx, const char *rel, struct es_error *err)
{
	return es_baseline_delete_file(ctx, rel, err);
}

static int
b_put_entity(void *ctx, const struct es_base_entity *e, struct es_error *err)
{
	return es_baseline_put_entity(ctx, e, err);
}

static int
b_delete_entity(void *ctx, const bson_oid_t *id, struct es_error *err)
{
	return es_baseline_delete_entity(ctx, id, err);
}

static int
b_each_entity(void *ctx, int (*cb)(const struct es_base_entity *, void *),
    void *ud, struct es_error *err)
{
	return es_baseline_each_entity(ctx, cb, ud, err);
}

static int
b_each_entity_nobase(void *ctx,
    int (*cb)(const struct es_base_entity *, void *), void *ud,
    struct es_error *err)
{
	return es_baseline_each_entity_nobase(ctx, cb, ud, err);
}

static int
b_get_base(void *ctx, const bson_oid_t *id, const uint8_t **base,
    size_t *base_len, bool *found, struct es_error *err)
{
	return es_baseline_get_base(ctx, id, base, base_len, found, err);
}

static int
b_count(void *ctx, size_t *files, size_t *entities, struct es_error *err)
{
	return es_baseline_count(ctx, files, entities, err);
}

static int
b_clear(void *ctx, struct es_error *err)
{
	return es_baseline_clear(ctx, err);
}

/* ---- the database ---- */

static int
db_find(void *ctx, enum es_kind kind, const char *user_id, int64_t since_ms,
    es_store_doc_cb cb, void *ud, struct es_error *err)
{
	return es_store_find(ctx, kind, user_id, since_ms, cb, ud, err);
}

static int
db_find_ids(void *ctx, enum es_kind kind, const char *user_id,
    const bson_oid_t *ids, size_t n, es_store_doc_cb cb, void *ud,
    struct es_error *err)
{
	return es_store_find_ids(ctx, kind, user_id, ids, n, cb, ud, err);
}

static int
db_find_fields(void *ctx, enum es_kind kind, const char *user_id,
    const char *const *fields, es_store_doc_cb cb, void *ud,
    struct es_error *err)
{
	return es_store_find_fields(ctx, kind, user_id, fields, cb, ud, err);
}

static int
db_find_one(void *ctx, enum es_kind kind, const bson_oid_t *id, bson_t *out,
    bool *found, struct es_error *err)
{
	return es_store_find_one(ctx, kind, id, out, found, err);
}

static int
db_insert(void *ctx, enum es_kind kind, const bson_t *doc,
    struct es_error *err)
{
	return es_store_insert(ctx, kind, doc, err);
}

static int
db_insert_conflict(void *ctx, const bson_t *doc, struct es_error *err)
{
	return es_store_insert_conflict(ctx, doc, err);
}

static int
db_insert_many(void *ctx, enum es_kind kind, const bson_t *const *docs,
    size_t n, size_t batch, int *status, struct es_error *err)
{
	return es_store_insert_many(ctx, kind, docs, n, batch, status, err);
}

static int
db_update_cas(void *ctx, enum es_kind kind, const char *user_id,
    const struct es_store_cas *op, bool *matched, struct es_error *err)
{
	return es_store_update_cas_op(ctx, kind, user_id, op, matched, err);
}

static int
db_update_cas_many(void *ctx, enum es_kind kind, const char *user_id,
    const struct es_store_cas *ops, size_t n,
    enum es_store_cas_status *status, struct es_error *err)
{
	return es_store_update_cas_many(ctx, kind, user_id, ops, n, status,
	    err);
}

static uint64_t
db_round_trips(void *ctx)
{
	return es_store_round_trips(ctx);
}

/* ---- the clock ---- */

static int64_t
clock_now_ms(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
clock_fixed(void *ctx)
{
	return *(const int64_t *)ctx;
}

void
es_world_clock_fixed(struct es_world *w, const int64_t *now_ms)
{
	w->clock.ctx = (void *)now_ms;
	w->clock.now_ms = clock_fixed;
}

void
es_world_real_init(struct es_world *w, int root_fd, struct es_baseline *b,
    struct es_store *s)
{
	static const struct es_world_fs fs = {
		.scan = fs_scan, .scan_release = fs_scan_release,
		.read = fs_read, .stat = fs_stat, .load_file = fs_load_file,
		.write = fs_write, .move = fs_move, .trash = fs_trash,
		.conflict_copy = fs_conflict_copy, .append = fs_append,
		.root = fs_root, .git_busy = fs_git_busy,
		.base = {
			.begin = b_begin, .commit = b_commit,
			.rollback = b_rollback, .get_meta = b_get_meta,
			.set_meta = b_set_meta, .get_file = b_get_file,
			.put_file = b_put_file, .delete_file = b_delete_file,
			.put_entity = b_put_entity,
			.delete_entity = b_delete_entity,
			.each_entity = b_each_entity,
			.each_entity_nobase = b_each_entity_nobase,
			.get_base = b_get_base, .count = b_count,
			.clear = b_clear,
		},
	};
	static const struct es_world_db db = {
		.find = db_find, .find_ids = db_find_ids,
		.find_fields = db_find_fields, .find_one = db_find_one,
		.insert = db_insert, .insert_conflict = db_insert_conflict,
		.insert_many = db_insert_many, .update_cas = db_update_cas,
		.update_cas_many = db_update_cas_many,
		.round_trips = db_round_trips,
	};

	w->fs = fs;
	w->fs.ctx = (void *)(intptr_t)root_fd;
	w->fs.base.ctx = b;
	w->db = db;
	w->db.ctx = s;
	w->clock.ctx = NULL;
	w->clock.now_ms = clock_now_ms;
	es_store_set_batch_size(s, ES_ENGINE_READ_BATCH);
}

int
es_engine_once(const struct es_engine_opts *o, struct es_store *store,
    struct es_baseline *b, struct es_engine_result *r,
    struct es_error *err)
{
	struct es_world w;
	struct es_trigger t;

	memset(&t, 0, sizeof(t));
	t.kind = o->full || o->force || o->resync ? ES_TRIGGER_FULL :
	    ES_TRIGGER_ORDINARY;
	es_world_real_init(&w, o->root_fd, b, store);
	return es_pass_run(o, &w, &t, r, err);
}
