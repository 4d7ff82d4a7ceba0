/*
 * The harness of execsyncd's end-to-end tests (test-daemon.c, label
 * daemon): the real daemon binary in the background on real temporary
 * folders, against a database of its own on the fixture's FerretDB (or a
 * private server a case starts itself); documents changed through the API
 * peer. Built on sync-world.h (the world: folder, database, peer) and
 * es-proc.h (a program in the background).
 *
 * A case is a "dt": one world (root 0 and its database) and up to
 * DT_MAXROOTS roots, each with its config file and its daemon. The status
 * endpoint is reached over the daemon's Unix socket (es_http_unix_request()),
 * under an XDG_RUNTIME_DIR of the case's own, so parallel cases never
 * share one; TCP listens on 127.0.0.1, a free port (the log names it).
 *
 * Every wait has a deadline and polls its condition (dt_wait()); every
 * helper fails the running test on an unexpected error. The teardown kills
 * what runs and prints the tail of each daemon's log.
 */
#ifndef ES_DAEMON_HARNESS_H
#define ES_DAEMON_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bson/bson.h>
#include <jansson.h>
#include <mongoc/mongoc.h>

#include "es-proc.h"
#include "sync-world.h"
#include "execsync/buf.h"

#ifndef ES_SYNCD_BIN
#error "ES_SYNCD_BIN (the path of execsyncd) is not defined"
#endif

#define DT_MAXROOTS	2

/* The seed of every root (dt_layout()): one project, one goal, one list. */
#define SEED_PROJECT	"10k-projects/active/home/base-camp.md"
#define SEED_PROJECTS	1

/* The metric of operations applied, by direction (/metrics). */
#define OPS_METRIC	"execsync_operations_total"

struct dt {
	struct world	 w;		/* root 0, the database, the peer */
	bool		 begun;
	char		*run;		/* XDG_RUNTIME_DIR of the case */
	int		 nroots;
	char		*root[DT_MAXROOTS];
	char		*cfg[DT_MAXROOTS];
	char		*sock[DT_MAXROOTS];
	char		*log[DT_MAXROOTS];
	struct es_proc	 d[DT_MAXROOTS];
	struct es_proc	 other;		/* another process a case starts */
	mongoc_client_t	*mc;
	/* A private server (dt_server_start()), or none. */
	char		*server_dir;
	int		 server_port;
	bool		 server_up;
	/* fs.inotify.max_queued_events to restore, or -1. */
	long		 inotify_saved;
};

int	dt_setup(void **state);
int	dt_teardown(void **state);

/*
 * The world for tag, root 0 with the seed layout and its config file
 * (extra: more YAML lines, or NULL).
 */
void	dt_begin(struct dt *t, const char *tag, const char *extra);
/* Another root on the same database, seeded and configured: its index. */
int	dt_add_root(struct dt *t, const char *extra);
/* (Re)writes root i's config file with extra YAML lines (may be NULL). */
void	dt_config(struct dt *t, int i, const char *extra);

/* Starts root i's daemon (its output appended to t->log[i]). */
void	d_start(struct dt *t, int i);
/* Waits until it is healthy and its start-up pass is done (d_settle). */
void	d_ready(struct dt *t, int i);
/*
 * Waits until /status says: a pass has finished, none runs, no file or
 * database change pending.
 */
void	d_settle(struct dt *t, int i, int64_t timeout_ms);
/* d_start() and d_ready(). */
void	d_up(struct dt *t, int i);
/* The TCP port it logged ("(port N)"), waiting for the line. */
int	d_tcp_port(struct dt *t, int i);

/*
 * One request over root i's socket: the HTTP status, or -1 when nothing
 * answers (why in ans). ans may be NULL.
 */
int	d_http(struct dt *t, int i, const char *method, const char *path,
	    const char *body, struct es_buf *ans);
/* GET /status, parsed (fails the test unless 200 and a JSON object). */
json_t	*d_status(struct dt *t, int i);
/* GET /metrics (fails the test unless 200). malloc'd. */
char	*d_metrics(struct dt *t, int i);
/*
 * The sum of the samples of name whose labels hold every needle of the
 * NULL-terminated list ("direction=\"to_db\""): -1 when there is none.
 */
double	metric_sum(const char *text, const char *name,
	    const char *const *labels);
/* Root i's operations applied toward the database (OPS_METRIC). */
double	d_ops_to_db(struct dt *t, int i);
/*
 * Waits until /healthz answers want (200 or 503) and, when check is not
 * NULL, its "checks" hold a string containing check.
 */
void	d_wait_health(struct dt *t, int i, int want, const char *check,
	    int64_t timeout_ms);

/* Runs execsyncd --config <root i's> with extra (NULL-terminated). */
int	d_run(struct dt *t, int i, const char *const *extra,
	    struct es_buf *out, struct es_buf *err);

/* Root i seen as a world (its root swapped in), for put() and get(). */
struct world dt_at(const struct dt *t, int i);
void	put_at(const struct dt *t, int i, const char *rel, const char *s);
char	*get_at(const struct dt *t, int i, const char *rel);

/* A project file's text and path (malloc'd). */
char	*project_text(const char *title, const char *area, const char *body);
char	*project_path(const char *slug, const char *area_dir);

/* The live document of slug in coll (else the newest deleted one). */
bool	db_doc(struct dt *t, const char *coll, const char *slug, bson_t *out);
/* Documents of the user in coll, not deleted. */
size_t	live_count(struct dt *t, const char *coll);

/*
 * A condition polled by dt_wait(): true when it holds; else why (may be
 * left empty) says what it saw.
 */
typedef bool (*dt_cond)(struct dt *t, void *ud, char *why, size_t whysz);
/*
 * Polls c every every_ms until it holds; fails the test naming what and
 * the last why after timeout_ms. Returns the milliseconds it took.
 */
int64_t	dt_wait(struct dt *t, const char *what, int64_t timeout_ms,
	    int every_ms, dt_cond c, void *ud);

/* Waits until the document's field (text of it) contains want. */
int64_t	wait_doc(struct dt *t, const char *coll, const char *slug,
	    const char *field, const char *want, int64_t timeout_ms);
/* Waits until live_count(coll) == n. */
void	wait_live_count(struct dt *t, const char *coll, size_t n,
	    int64_t timeout_ms);
/* Waits until root i's file rel contains want. */
int64_t	wait_file(struct dt *t, int i, const char *rel, const char *want,
	    int64_t timeout_ms);
/* Waits until root i's rel is gone. */
void	wait_gone(struct dt *t, int i, const char *rel, int64_t timeout_ms);

/* The text of a field (string as is, bool, number, date ms, null). */
char	*field_text(const bson_t *doc, const char *field);

/*
 * A private FerretDB with its OpLog (contrib/ferretdb-local) on a free
 * port of its own, for a case that stops the server: started, its URI put
 * in EXECSYNC_TEST_MONGODB_URI for the world begun after it; restarted on
 * the same port and data; stopped in the teardown.
 */
void	dt_server_start(struct dt *t);
void	dt_server_stop(struct dt *t);

/*
 * Lowers fs.inotify.max_queued_events to n (restored by
 * dt_inotify_restore() or the teardown; the old value is also kept in
 * $ES_BINARY_DIR/daemon-inotify-saved for the CTest cleanup step): false
 * when it cannot (not root).
 */
bool	dt_inotify_lower(struct dt *t, long n);
void	dt_inotify_restore(struct dt *t);

/* Files under root i whose name matches the glob (fnmatch), counted. */
size_t	count_matching(const struct dt *t, int i, const char *glob);

#endif
