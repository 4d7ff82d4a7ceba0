/*
 * What the benchmark's subcommands share (bench.h): clocks, medians, the
 * generated sample trees, the private server.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include <mongoc/mongoc.h>
#include "execsync/action-line.h"
#include "execsync/action-list.h"
#include "execsync/baseline.h"
#include "execsync/buf.h"
#include "execsync/content.h"
#include "execsync/engine.h"
#include "execsync/entity-file.h"
#include "execsync/entity.h"
#include "execsync/error.h"
#include "execsync/fingerprint.h"
#include "execsync/log.h"
#include "execsync/migrate.h"
#include "execsync/scan.h"
#include "execsync/store.h"

#include "bench.h"

double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

/*
 * Generates a sample tree in a new temporary folder: the default one, or,
 * with scale > 1, one scale times larger (projects, actions and goals).
 */
char *
make_tree_scaled(int scale)
{
	char tmpl[] = "/tmp/execsync-bench-XXXXXX";
	char *dir, *tree;
	pid_t pid;
	int status;

	if ((dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	if (asprintf(&tree, "%s/tree", dir) < 0)
		exit(2);
	fprintf(stderr, "generating the %s sample tree in %s\n",
	    scale > 1 ? "larger" : "default", tree);
	if ((pid = fork()) == 0) {
		int devnull = open("/dev/null", O_WRONLY);

		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		if (scale > 1) {
			char p[32], a[32], g[32];

			snprintf(p, sizeof(p), "%d", 2000 * scale);
			snprintf(a, sizeof(a), "%d", 20000 * scale);
			snprintf(g, sizeof(g), "%d", 200 * scale);
			execlp("node", "node", ES_SOURCE_DIR
			    "/contrib/make-sample-tree", tree, "--projects", p,
			    "--actions", a, "--goals", g, (char *)NULL);
		} else
			execlp("node", "node", ES_SOURCE_DIR
			    "/contrib/make-sample-tree", tree, (char *)NULL);
		perror("node");
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "execsync-bench: make-sample-tree failed\n");
		exit(2);
	}
	return tree;
}

/* Generates the default sample tree in a new temporary folder. */
char *
make_tree(void)
{
	return make_tree_scaled(1);
}

void
remove_tree(char *tree)
{
	char *slash = strrchr(tree, '/');

	*slash = '\0';	/* the mkdtemp folder holding the tree */
	nftw(tree, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(tree);
}

void
report(const char *what, const struct es_error *err)
{
	char msg[PATH_MAX + 600];

	fprintf(stderr, "%s: %s\n", what, es_error_format(err, msg, sizeof(msg)));
}

/* ---- migrate: the one-time import (issue 4) ---- */

/* User + system CPU time of this process so far. */
double
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	    ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

/* Runs argv, output to stderr; its exit status, or -1. */
int
run_quiet(char *const argv[])
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execvp(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* The first line of path, malloc'd, or NULL. */
char *
first_line(const char *path)
{
	char line[4096];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return NULL;
	if (fgets(line, sizeof(line), f) == NULL) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	return strdup(line);
}

void
drop_db(const char *uri, const char *db)
{
	mongoc_client_t *c = mongoc_client_new(uri);
	mongoc_database_t *d;
	bson_error_t be;

	if (c == NULL)
		return;
	d = mongoc_client_get_database(c, db);
	if (!mongoc_database_drop_with_opts(d, NULL, &be))
		fprintf(stderr, "execsync-bench: drop %s: %s\n", db,
		    be.message);
	mongoc_database_destroy(d);
	mongoc_client_destroy(c);
}

void
remove_file_tree(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct es_store *
open_store(const char *uri, const char *db)
{
	return open_store_timeout(uri, db, 30000);
}

/*
 * The 10x tree's passes read 222,000 documents, and FerretDB scans each
 * collection for every batch: on a loaded machine one batch takes longer
 * than 30 s, so they get libmongoc's default socket timeout.
 */
struct es_store *
open_store_timeout(const char *uri, const char *db, unsigned timeout_ms)
{
	struct es_error err;
	struct es_store *s = es_store_open(uri, db, timeout_ms, &err);

	if (s == NULL) {
		report("store", &err);
		exit(2);
	}
	return s;
}

/*
 * The server: uri_arg, else EXECSYNC_TEST_MONGODB_URI, else a private
 * FerretDB started with tests/ferretdb-fixture in a new folder (*fdb,
 * malloc'd; server_stop() it). *uri malloc'd, NULL when the fixture gave
 * none. -1 (said on stderr) when the fixture cannot start.
 */
int
server_start(const char *uri_arg, char **fdb, char **uri)
{
	const char *env = getenv("EXECSYNC_TEST_MONGODB_URI");
	char tmpl[] = "/tmp/execsync-bench-db-XXXXXX";
	char *start[] = { (char *)FIXTURE, (char *)"start", NULL, NULL };
	char *ufile;

	*fdb = *uri = NULL;
	if (uri_arg != NULL) {
		*uri = strdup(uri_arg);
		return 0;
	}
	if (env != NULL && env[0] != '\0') {
		*uri = strdup(env);
		return 0;
	}
	if (mkdtemp(tmpl) == NULL) {
		perror("mkdtemp");
		return -1;
	}
	*fdb = strdup(tmpl);
	start[2] = *fdb;
	if (run_quiet(start) != 0) {
		fprintf(stderr, "execsync-bench: cannot start FerretDB "
		    "(tests/ferretdb-fixture)\n");
		free(*fdb);
		*fdb = NULL;
		return -1;
	}
	if (asprintf(&ufile, "%s/uri", *fdb) < 0)
		exit(2);
	*uri = first_line(ufile);
	free(ufile);
	return 0;
}

/* Stops the FerretDB of server_start() and frees fdb; NULL: none. */
void
server_stop(char *fdb)
{
	char *stop[] = { (char *)FIXTURE, (char *)"stop", fdb, NULL };

	if (fdb == NULL)
		return;
	run_quiet(stop);
	free(fdb);
}

/* A copy of dir in a new temporary folder ("<tmp>/tree"), for migrate,
 * which writes its baseline into the folder it imports. */
char *
copy_tree(const char *dir)
{
	char tmpl[] = "/tmp/execsync-bench-XXXXXX";
	char *tmp, *tree;

	if ((tmp = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	if (asprintf(&tree, "%s/tree", tmp) < 0)
		exit(2);
	char *argv[] = { (char *)"cp", (char *)"-a", (char *)dir, tree, NULL };

	if (run_quiet(argv) != 0) {
		fprintf(stderr, "execsync-bench: cannot copy %s\n", dir);
		exit(2);
	}
	return tree;
}
