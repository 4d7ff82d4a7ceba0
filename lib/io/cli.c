/*
 * The command line of every program (cli.h): the config key table's flags,
 * the program's own options, --config, --help and --version, parsed the
 * same way everywhere. es_cli_parse() is pure; es_cli_main() and
 * es_cli_usage_error() print and exit.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "execsync/buf.h"
#include "execsync/cli.h"
#include "execsync/config.h"
#include "execsync/error.h"
#include "execsync/xmalloc.h"

/* The options every program has. */
static const struct es_cli_opt common[] = {
	{ "--config", "FILE", "YAML config (default "
	    "$XDG_CONFIG_HOME/execsync/config.yaml)" },
	{ "--help", NULL, "print this text and exit" },
	{ "--version", NULL, "print the version and exit" },
};
#define NCOMMON	(sizeof(common) / sizeof(common[0]))

/* The column where --help starts an option's meaning. */
#define HELP_COL	31

size_t
es_edit_distance(const char *a, size_t al, const char *b, size_t bl,
    size_t cap)
{
	size_t prev2[32], prev[32], cur[32];

	if (bl >= 32 || (al > bl ? al - bl : bl - al) > cap)
		return cap + 1;
	for (size_t j = 0; j <= bl; j++)
		prev[j] = j;
	memset(prev2, 0, sizeof(prev2));
	for (size_t i = 1; i <= al; i++) {
		size_t best = cur[0] = i;

		for (size_t j = 1; j <= bl; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t d = prev[j - 1] + cost;

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
			if (d < best)
				best = d;
		}
		if (best > cap)
			return cap + 1;
		memcpy(prev2, prev, sizeof(prev));
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[bl];
}

/* Whether the program takes config key k as a flag. */
static bool
takes_key(const struct es_cli_spec *spec, const struct es_config_key *k)
{
	if (spec->keys == NULL)
		return true;
	for (const char *const *p = spec->keys; *p != NULL; p++)
		if (strcmp(*p, k->name) == 0)
			return true;
	return false;
}

static bool
same(const char *name, size_t len, const char *flag)
{
	return strlen(flag) == len && memcmp(flag, name, len) == 0;
}

/*
 * The known option nearest to name[0..len) (leading dashes ignored), at
 * most 2 edits away, else NULL.
 */
static const char *
suggest(const struct es_cli_spec *spec, const char *name, size_t len)
{
	const struct es_config_key *k;
	const char *best = NULL, *cand;
	size_t bestd = 3, d, i, n = 0;

	while (n < len && name[n] == '-')
		n++;
	name += n;
	len -= n;
	for (i = 0; i < NCOMMON + spec->nopts + ES_CONFIG_NKEYS; i++) {
		if (i < NCOMMON)
			cand = common[i].name;
		else if (i < NCOMMON + spec->nopts)
			cand = spec->opts[i - NCOMMON].name;
		else {
			k = es_config_key_at(i - NCOMMON - spec->nopts);
			if (!takes_key(spec, k))
				continue;
			cand = k->flag;
		}
		cand += 2;
		d = es_edit_distance(name, len, cand, strlen(cand), 2);
		if (d < bestd) {
			bestd = d;
			best = cand - 2;
		}
	}
	return best;
}

static int
unknown(const struct es_cli_spec *spec, const char *arg, size_t len,
    struct es_error *err)
{
	const char *best = suggest(spec, arg, len);
	int show = len > 64 ? 64 : (int)len;

	if (best != NULL)
		return es_error_set(err, ES_EUSAGE, NULL, 0, "unknown option "
		    "'%.*s' (did you mean '%s'?)", show, arg, best);
	return es_error_set(err, ES_EUSAGE, NULL, 0, "unknown option '%.*s'",
	    show, arg);
}

/*
 * Finds option name[0..len) exactly: *opt for a common or own option (*own
 * its index in spec->opts, -1 for a common one), *key for a config key.
 * Returns false when unknown.
 */
static bool
lookup(const struct es_cli_spec *spec, const char *name, size_t len,
    const struct es_cli_opt **opt, ssize_t *own,
    const struct es_config_key **key)
{
	const struct es_config_key *k;

	*opt = NULL;
	*own = -1;
	*key = NULL;
	for (size_t i = 0; i < NCOMMON; i++)
		if (same(name, len, common[i].name)) {
			*opt = &common[i];
			return true;
		}
	for (size_t i = 0; i < spec->nopts; i++)
		if (same(name, len, spec->opts[i].name)) {
			*opt = &spec->opts[i];
			*own = (ssize_t)i;
			return true;
		}
	for (size_t i = 0; (k = es_config_key_at(i)) != NULL; i++)
		if (takes_key(spec, k) && same(name, len, k->flag)) {
			*key = k;
			return true;
		}
	return false;
}

static int
parse(const struct es_cli_spec *spec, int argc, char *const argv[],
    struct es_cli *out, struct es_error *err)
{
	const struct es_cli_opt *opt;
	const struct es_config_key *key;
	const char *arg, *eq, *val;
	ssize_t own;
	size_t len;
	bool dashdash = false;

	for (int i = 1; i < argc; i++) {
		arg = argv[i];
		if (dashdash || arg[0] != '-' || arg[1] == '\0') {
			if (out->nargs >= spec->max_args)
				return es_error_set(err, ES_EUSAGE, NULL, 0,
				    "unexpected argument '%.64s'", arg);
			out->args = es_xreallocarray(out->args,
			    out->nargs + 2, sizeof(*out->args));
			out->args[out->nargs++] = argv[i];
			out->args[out->nargs] = NULL;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0) {
			out->help = true;
			continue;
		}
		eq = strchr(arg, '=');
		len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		if (arg[1] != '-' || !lookup(spec, arg, len, &opt, &own, &key))
			return unknown(spec, arg, len, err);
		if (opt != NULL && opt->metavar == NULL) {
			if (eq != NULL)
				return es_error_set(err, ES_EUSAGE, NULL, 0,
				    "option '%.*s' takes no value", (int)len,
				    arg);
			val = "";
		} else if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return es_error_set(err, ES_EUSAGE, NULL, 0,
			    "option '%s' needs a value", arg);
		if (key != NULL) {
			out->sets = es_xreallocarray(out->sets, out->nsets + 1,
			    sizeof(*out->sets));
			out->sets[out->nsets].key = key->name;
			out->sets[out->nsets].flag = key->flag;
			out->sets[out->nsets++].value = val;
		} else if (own >= 0)
			out->opt[own] = val;
		else if (strcmp(opt->name, "--config") == 0)
			out->config = val;
		else if (strcmp(opt->name, "--help") == 0)
			out->help = true;
		else
			out->version = true;
	}
	if (!out->help && !out->version && out->nargs < spec->min_args)
		return es_error_set(err, ES_EUSAGE, NULL, 0, "missing %s",
		    spec->args != NULL ? spec->args : "argument");
	return 0;
}

int
es_cli_parse(const struct es_cli_spec *spec, int argc, char *const argv[],
    struct es_cli *out, struct es_error *err)
{
	memset(out, 0, sizeof(*out));
	out->opt = es_xcalloc(spec->nopts + 1, sizeof(*out->opt));
	if (parse(spec, argc, argv, out, err) != 0) {
		es_cli_release(out);
		return -1;
	}
	return 0;
}

void
es_cli_release(struct es_cli *c)
{
	free(c->opt);
	free(c->sets);
	free(c->args);
	memset(c, 0, sizeof(*c));
}

const char *
es_cli_opt(const struct es_cli_spec *spec, const struct es_cli *c,
    const char *name)
{
	for (size_t i = 0; i < spec->nopts; i++)
		if (strcmp(spec->opts[i].name, name) == 0)
			return c->opt[i];
	return NULL;
}

bool
es_cli_flag(const struct es_cli_spec *spec, const struct es_cli *c,
    const char *name)
{
	return es_cli_opt(spec, c, name) != NULL;
}

int
es_cli_apply(const struct es_cli *c, struct es_config *cfg,
    struct es_error *err)
{
	for (size_t i = 0; i < c->nsets; i++)
		if (es_config_set(cfg, c->sets[i].key, c->sets[i].value,
		    c->sets[i].flag, err) != 0)
			return -1;
	return 0;
}

/* Adds word[0..len) to a --help line at *col, wrapping before column 80. */
static void
help_word(struct es_buf *out, size_t *col, const char *word, size_t len,
    bool first)
{
	if (first || *col + 1 + len >= 80) {
		if (!first || *col + 1 > HELP_COL) {
			es_buf_addch(out, '\n');
			*col = 0;
		}
		es_buf_addf(out, "%*s", (int)(HELP_COL - *col), "");
		*col = HELP_COL;
	} else {
		es_buf_addch(out, ' ');
		(*col)++;
	}
	es_buf_add(out, word, len);
	*col += len;
}

/*
 * "  --name META       help (default D)": the meaning from column
 * HELP_COL, wrapped by words ("(default D)" kept whole).
 */
static void
help_line(struct es_buf *out, const char *name, const char *metavar,
    const char *help, const char *defval)
{
	const char *p, *sp;
	char *d;
	size_t col;

	es_buf_addf(out, "  %s%s%s", name, metavar ? " " : "",
	    metavar ? metavar : "");
	col = 2 + strlen(name) + (metavar ? 1 + strlen(metavar) : 0);
	for (p = help; *p != '\0'; p = *sp == ' ' ? sp + 1 : sp) {
		if ((sp = strchr(p, ' ')) == NULL)
			sp = p + strlen(p);
		help_word(out, &col, p, (size_t)(sp - p), p == help);
	}
	if (defval != NULL) {
		d = es_xasprintf("(default %s)", defval);
		help_word(out, &col, d, strlen(d), false);
		free(d);
	}
	es_buf_addch(out, '\n');
}

void
es_cli_help(const struct es_cli_spec *spec, struct es_buf *out)
{
	const struct es_config_key *k;

	es_buf_addf(out, "usage: %s %s\n", spec->prog, spec->usage);
	if (spec->about != NULL)
		es_buf_addf(out, "\n%s", spec->about);
	es_buf_addstr(out, "\nOptions:\n");
	for (size_t i = 0; i < spec->nopts; i++) {
		help_line(out, spec->opts[i].name, spec->opts[i].metavar,
		    spec->opts[i].help, NULL);
	}
	for (size_t i = 0; i < NCOMMON; i++) {
		help_line(out, common[i].name, common[i].metavar,
		    common[i].help, NULL);
	}
	es_buf_addstr(out, "\nConfiguration keys (in the config file, the "
	    "flag's name with '_' for '-';\na flag wins over the file):\n");
	for (size_t i = 0; (k = es_config_key_at(i)) != NULL; i++) {
		if (!takes_key(spec, k))
			continue;
		help_line(out, k->flag, k->metavar, k->help, k->defval);
	}
	if (spec->epilog != NULL)
		es_buf_addf(out, "\n%s", spec->epilog);
}

const char *
es_cli_version(void)
{
	return ES_VERSION;
}

json_t *
es_cli_problem_json(const struct es_error *e)
{
	char msg[PATH_MAX + 600];

	return json_pack("{s:s, s:I, s:s, s:s, s:s}", "path", e->path,
	    "line", (json_int_t)e->line, "code",
	    es_problem_name(es_problem_of(e)), "reason", e->msg, "message",
	    es_error_format(e, msg, sizeof(msg)));
}

/* Whether argv asks for --json: usage errors answer in JSON then too. */
static bool want_json;

void
es_cli_json_error(int status, const char *msg)
{
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:i, s:s}", "version", es_cli_version(),
	    "exit_status", status, "error", msg != NULL ? msg : "");
	s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;
	if (s != NULL)
		printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
}

void
es_cli_usage_error(const struct es_cli_spec *spec, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\nusage: %s %s\nTry '%s --help' for more "
	    "information.\n", spec->prog, msg, spec->prog, spec->usage,
	    spec->prog);
	if (want_json)
		es_cli_json_error(ES_EXIT_CONFIG, msg);
	exit(ES_EXIT_CONFIG);
}

void
es_cli_main(const struct es_cli_spec *spec, int argc, char **argv,
    struct es_cli *out)
{
	struct es_buf b = ES_BUF_INIT;
	struct es_error err;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			want_json = true;
	if (es_cli_parse(spec, argc, argv, out, &err) != 0)
		es_cli_usage_error(spec, "%s", err.msg);
	if (out->help) {
		es_cli_help(spec, &b);
		fputs(b.buf, stdout);
		es_buf_release(&b);
		es_cli_release(out);
		exit(0);
	}
	if (out->version) {
		printf("%s %s\n", spec->prog, es_cli_version());
		es_cli_release(out);
		exit(0);
	}
}
