/*
 * What the daemon knows about itself (issue 16 item 5, SPEC §5), kept by
 * the loop thread, and its three renderings: /healthz, /status (JSON) and
 * /metrics (Prometheus text format 0.0.4). The renderings are pure
 * functions of the snapshot and the clock given: table-tested.
 *
 * Privacy (SPEC §5): a rendering for a request that is not privileged
 * (TCP without the token) carries counts only: no path, title, reason,
 * root or error text. /status itself is refused (403) there by the
 * caller; /healthz and /metrics render with privileged false.
 */
#ifndef EXECSYNCD_STATUS_H
#define EXECSYNCD_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "execsync/buf.h"

#define ES_STATUS_JSON_TYPE	"application/json"
#define ES_STATUS_METRICS_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* Why the daemon is not healthy; several may hold (a bit set). */
#define ES_UNHEALTHY_DATABASE	0x01u	/* the server unreachable */
#define ES_UNHEALTHY_WATCHER	0x02u	/* events lost, watch limit */
#define ES_UNHEALTHY_GUARD	0x04u	/* the deletion guard tripped */
#define ES_UNHEALTHY_ROOT	0x08u	/* root missing or not a folder */
#define ES_UNHEALTHY_GIT	0x10u	/* a git operation holds syncing */
#define ES_UNHEALTHY_IDENTITY	0x20u	/* wrong folder or identity */

/* One recent error or conflict (a ring of the last ES_STATUS_RECENT). */
#define ES_STATUS_RECENT	32
struct es_status_item {
	int64_t		 at_ms;
	char		 path[256];	/* relative path or _id */
	char		 reason[256];
	unsigned	 line;		/* 0: none */
	const char	*code;		/* es_problem_name(), or NULL */
};

/* Propagation latency histogram bucket bounds, in seconds. */
#define ES_LATENCY_NBUCKETS	10
extern const double es_latency_bounds[ES_LATENCY_NBUCKETS];

struct es_latency {
	uint64_t	 bucket[ES_LATENCY_NBUCKETS];	/* cumulative by le */
	uint64_t	 count;
	double		 sum_s;
};

enum es_side { ES_SIDE_TO_DB, ES_SIDE_TO_FILE, ES_SIDE_N };

struct es_status {
	const char	*version;
	const char	*root;			/* privileged only */
	const char	*database;		/* name; never the URI */
	int64_t		 started_ms;
	unsigned	 unhealthy;		/* ES_UNHEALTHY_* */
	char		 unhealthy_why[256];	/* privileged: details */
	bool		 db_connected;
	const char	*source;		/* "change_stream", "oplog",
						   "poll", "none" */
	uint64_t	 source_tick_ms;	/* 0, 500, the poll interval */
	double		 source_cost_ms;	/* last read of the source */
	int64_t		 last_full_pass_ms;	/* 0: none yet */
	int64_t		 last_pass_ms;
	double		 last_pass_s;		/* duration */
	int64_t		 last_event_ms;
	size_t		 pending_paths;		/* file events not yet synced */
	size_t		 pending_changes;	/* database events not yet */
	bool		 pass_running;
	size_t		 projects, goals, actions;	/* in the baseline */
	size_t		 watches;
	int		 tcp_port;		/* 0: none */
	uint64_t	 passes;
	uint64_t	 ops_ok[ES_SIDE_N];	/* operations applied */
	uint64_t	 ops_failed[ES_SIDE_N];
	uint64_t	 errors, conflicts;
	uint64_t	 overflows;
	uint64_t	 http_served;		/* es_http_served() */
	uint64_t	 http_dropped;		/* es_http_dropped() */
	struct es_latency latency[ES_SIDE_N];
	struct es_status_item errors_recent[ES_STATUS_RECENT];
	size_t		 nerrors_recent;	/* next slot: n % RECENT */
	struct es_status_item conflicts_recent[ES_STATUS_RECENT];
	size_t		 nconflicts_recent;
};

/* Adds one latency observation (seconds) to h. */
void	es_latency_observe(struct es_latency *h, double s);
/* Appends to a ring (errors_recent or conflicts_recent). */
void	es_status_remember(struct es_status_item *ring, size_t *n,
	    int64_t at_ms, const char *path, const char *reason);

/*
 * /healthz: 200 or 503; body {"status":"healthy"|"degraded","checks":[..],
 * "database_connected":bool,"change_source":"..."}, one line. checks names
 * each ES_UNHEALTHY_* bit set ("database", "watcher", "deletion guard",
 * "root missing", "git", "identity"), [] when healthy; privileged adds
 * "details" (unhealthy_why). Appends to body.
 */
int	es_status_healthz(const struct es_status *s, bool privileged,
	    struct es_buf *body);
/*
 * /status: the JSON object (one line, appended to body). Without privilege
 * root, the database name, unhealthy_why and the paths and reasons of the
 * recent items are left out (each item keeps its time).
 */
void	es_status_json(const struct es_status *s, int64_t now_ms,
	    bool privileged, struct es_buf *body);
/* /metrics: Prometheus text, counts only (never names); appended to body. */
void	es_status_metrics(const struct es_status *s, int64_t now_ms,
	    struct es_buf *body);

/*
 * The three paths with SPEC §5's rules, for the daemon's HTTP handler (so
 * the rules live here, table-tested, not in the handler): GET /healthz,
 * /status, /metrics render into body with *content_type set; another
 * method on them is 405; /status without privilege is 403 with a body
 * pointing to the socket. Returns the HTTP status, or 0 when path is none
 * of the three (the caller routes it or answers 404).
 */
int	es_status_answer(const struct es_status *s, int64_t now_ms,
	    const char *method, const char *path, bool privileged,
	    struct es_buf *body, const char **content_type);

#endif
