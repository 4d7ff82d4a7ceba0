/*
 * One command line for every program (issue 15): the config key table
 * (config.h) gives one flag per key ("poll_ms" is --poll-ms, --ignore is
 * repeatable), a program adds its own options in a small table, and every
 * program has --config FILE, --help (-h) and --version.
 *
 *	static const struct es_cli_opt opts[] = {
 *		{ "--once", NULL, "run one pass and exit" },
 *		{ "--log-level", "L", "error, warn, info or debug" },
 *	};
 *	es_cli_main(&spec, argc, argv, &cli);	exits on --help, errors
 *	...load the config file, the environment...
 *	es_cli_apply(&cli, &cfg, &err);		the key flags, in order
 *
 * Rules, the same in every program: a switch (metavar NULL) refuses a
 * value ("--json=yes": option '--json' takes no value); a valued option
 * takes "--opt value" or "--opt=value"; names are matched exactly, never
 * as abbreviations, and an unknown name is an error with the nearest
 * known one by edit distance ("unknown option '--jsn' (did you mean
 * '--json'?)"). "--" ends the options; the rest are arguments.
 *
 * A program may restrict the config keys it takes (spec.keys): a key left
 * out is an unknown option, so a flag that would do nothing is refused
 * rather than ignored. Key values are only checked when applied, by
 * es_config_set(), so flag and file errors have the same wording.
 *
 * es_cli_parse() is pure (no I/O); es_cli_main() prints and exits.
 */
#ifndef EXECSYNC_CLI_H
#define EXECSYNC_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "execsync/buf.h"
#include "execsync/config.h"
#include "execsync/error.h"

/* One of a program's own options. */
struct es_cli_opt {
	const char	*name;		/* "--once" */
	const char	*metavar;	/* "L"; NULL: a switch, no value */
	const char	*help;		/* one line for --help */
};

struct es_cli_spec {
	const char	*prog;		/* "execsyncd" */
	const char	*usage;		/* usage line after the name */
	const char	*about;		/* --help after usage, or NULL */
	const char	*epilog;	/* --help at the end, or NULL */
	const struct es_cli_opt *opts;
	size_t		 nopts;
	/* The config keys taken as flags, NULL-terminated; NULL: all. */
	const char *const *keys;
	const char	*args;		/* the arguments' metavar: "DIR" */
	size_t		 min_args, max_args;
};

/* A config key given on the command line, in argv order. */
struct es_cli_set {
	const char	*key;		/* "poll_ms" */
	const char	*flag;		/* "--poll-ms" */
	const char	*value;		/* points into argv */
};

struct es_cli {
	const char	*config;	/* --config FILE, or NULL */
	bool		 help, version;
	/* By spec.opts index: the value, "" for a switch, or NULL. */
	const char	**opt;
	struct es_cli_set *sets;
	size_t		 nsets;
	char		**args;		/* the arguments, into argv */
	size_t		 nargs;
};

/*
 * Parses argv[1..argc). Returns 0 (out filled; release it) or -1 with err
 * (code ES_EUSAGE) saying what is wrong and out empty. With --help or
 * --version the rest is still parsed, but the arguments' count is not
 * checked.
 */
int	es_cli_parse(const struct es_cli_spec *spec, int argc,
	    char *const argv[], struct es_cli *out, struct es_error *err);
void	es_cli_release(struct es_cli *c);

/* The value of own option name ("--log-level"): NULL when not given. */
const char *es_cli_opt(const struct es_cli_spec *spec,
	    const struct es_cli *c, const char *name);
/* Whether switch name ("--json") was given. */
bool	es_cli_flag(const struct es_cli_spec *spec, const struct es_cli *c,
	    const char *name);

/*
 * es_config_set() for each key flag in argv order (origin: the flag), so
 * they go over the file and the environment. Returns 0 or -1 with err.
 */
int	es_cli_apply(const struct es_cli *c, struct es_config *cfg,
	    struct es_error *err);

/*
 * Appends the --help text: usage line, about, the program's options, the
 * common ones, every config key it takes (flag, metavar, meaning,
 * default), the epilog.
 */
void	es_cli_help(const struct es_cli_spec *spec, struct es_buf *out);

/* The project version ("0.1.0"), as --version prints it. */
const char *es_cli_version(void);

/*
 * es_cli_parse(), then: --help prints the help to stdout and exits 0;
 * --version prints "<prog> <version>" and exits 0; an error exits 2
 * through es_cli_usage_error().
 */
void	es_cli_main(const struct es_cli_spec *spec, int argc, char **argv,
	    struct es_cli *out);

/*
 * "<prog>: <message>", the usage line, "Try '<prog> --help'."; exit 2.
 * When argv (given to es_cli_main()) holds --json, also the JSON line of
 * es_cli_json_error() on stdout.
 */
void	es_cli_usage_error(const struct es_cli_spec *spec, const char *fmt,
	    ...) __attribute__((noreturn, format(printf, 2, 3)));

/*
 * The one JSON line on stdout of a run that stopped before its work (a
 * usage or configuration error): {"version", "exit_status", "error"}.
 */
void	es_cli_json_error(int status, const char *msg);

/*
 * One problem (a skipped item) as every program's --json shows it:
 * {"path", "line", "code" (es_problem_name()), "reason", "message" (the
 * whole "path:line: reason")}.
 */
json_t	*es_cli_problem_json(const struct es_error *e);

/*
 * Optimal string alignment distance of a[0..al) and b[0..bl), for "did
 * you mean" suggestions; anything above cap is returned as cap + 1.
 */
size_t	es_edit_distance(const char *a, size_t al, const char *b,
	    size_t bl, size_t cap);

#endif
