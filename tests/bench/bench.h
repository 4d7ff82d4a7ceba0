/*
 * What the benchmark's subcommands share (bench.c, bench-daemon.c).
 */
#ifndef ES_BENCH_H
#define ES_BENCH_H

#include <stdbool.h>

#include "execsync/content.h"
#include "execsync/error.h"
#include "execsync/store.h"

#define FIXTURE		ES_SOURCE_DIR "/tests/ferretdb-fixture"
#define MAX_FILE	ES_CONTENT_MAX_DEFAULT

double	now_ms(void);			/* CLOCK_MONOTONIC */
double	cpu_ms(void);			/* user + system of this process */
int	cmp_double(const void *a, const void *b);
double	median(double *v, int n);	/* sorts v */
char	*make_tree_scaled(int scale);	/* a generated tree, malloc'd */
char	*make_tree(void);		/* the default one */
char	*copy_tree(const char *dir);	/* a copy in a new folder */
void	remove_tree(char *tree);	/* and frees it */
void	report(const char *what, const struct es_error *err);
char	*first_line(const char *path);
int	run_quiet(char *const argv[]);	/* output to stderr: its status */
void	remove_file_tree(const char *path);
struct es_store *open_store(const char *uri, const char *db);
struct es_store *open_store_timeout(const char *uri, const char *db,
	    unsigned timeout_ms);
void	drop_db(const char *uri, const char *db);
int	server_start(const char *uri_arg, char **fdb, char **uri);
void	server_stop(char *fdb);

int	cmd_reconcile(const char *uri_arg);
int	bench_latency(const char *uri_arg);
int	bench_idle(const char *uri_arg);

#endif
