/*
 * gen-docs: the parts of the documentation made from the config key table
 * (lib/io/config.c, read through config.h) and the programs' --help (made
 * by cli.c from the same table and each program's own options), so that
 * the man pages and the bash completion cannot drift from the flags
 * (issue 18). The build runs it (packaging/CMakeLists.txt):
 *
 *	gen-docs page TEMPLATE
 *		TEMPLATE (scdoc) on stdout, with a line "%%keys%%" replaced
 *		by every key of config.yaml, "%%problems%%" by the table of
 *		problem codes and "%%include FILE%%" by FILE, a path
 *		relative to TEMPLATE's folder
 *	gen-docs completion PROG HELP
 *		the bash completion of PROG, from HELP, a file holding the
 *		output of `PROG --help`
 *	gen-docs check-config FILE
 *		loads FILE as a config file (the example the package
 *		installs): exit 0, or 1 with the error
 *
 * The values of an enumerated key (conflict: newest, file, database) are
 * found by asking es_config_set() itself: a key that refuses an arbitrary
 * word is enumerated, and its values are the words of its help text and
 * default that it accepts. A program's own option lists its values in its
 * help as "a, b (default) or c".
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/buf.h"
#include "execsync/config.h"
#include "execsync/error.h"
#include "execsync/xmalloc.h"

#define MAXWORDS	16
#define WORDLEN		32

struct words {
	char	w[MAXWORDS][WORDLEN];
	size_t	n;
};

static void
words_add(struct words *ws, const char *w, size_t len)
{
	if (len == 0 || len >= WORDLEN || ws->n == MAXWORDS)
		return;
	for (size_t i = 0; i < ws->n; i++)
		if (strlen(ws->w[i]) == len && memcmp(ws->w[i], w, len) == 0)
			return;
	memcpy(ws->w[ws->n], w, len);
	ws->w[ws->n++][len] = '\0';
}

static bool
key_accepts(const struct es_config_key *k, const char *v)
{
	struct es_config c;
	struct es_error err;
	int rc;

	es_config_init(&c);
	rc = es_config_set(&c, k->name, v, "gen-docs", &err);
	es_config_release(&c);
	return rc == 0;
}

/* The values of an enumerated key; none (n 0) for any other key. */
static void
key_values(const struct es_config_key *k, struct words *out)
{
	const char *texts[2] = { k->help, k->defval };
	char w[WORDLEN];
	size_t len;

	out->n = 0;
	if (key_accepts(k, "zz-not-a-value"))
		return;
	for (size_t t = 0; t < 2; t++) {
		const char *p = texts[t];

		while (p != NULL && *p != '\0') {
			len = strspn(p, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
			if (len > 0 && len < WORDLEN) {
				memcpy(w, p, len);
				w[len] = '\0';
				if (key_accepts(k, w) && strspn(w,
				    "0123456789") != len)
					words_add(out, w, len);
			}
			p += len > 0 ? len : 1;
		}
	}
}

/* s with scdoc's markup characters escaped. */
static void
scd_text(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '*' || *s == '_' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
}

/* The keys of config.yaml, as an execsync-config(5) section's body. */
static void
print_keys(void)
{
	const struct es_config_key *k;
	struct words vals;

	for (size_t i = 0; (k = es_config_key_at(i)) != NULL; i++) {
		key_values(k, &vals);
		putchar('*');
		scd_text(k->name);
		printf("*: _");
		scd_text(k->metavar);
		printf("_\n\t");
		putchar(toupper((unsigned char)k->help[0]));
		scd_text(k->help + 1);
		printf(".\n\n\tFlag: *");
		scd_text(k->flag);
		printf("*. ");
		if (k->defval != NULL) {
			printf("Default: ");
			scd_text(k->defval);
			printf(".");
		} else
			printf("No default.");
		if (vals.n > 0) {
			printf(" One of:");
			for (size_t j = 0; j < vals.n; j++) {
				printf(" *");
				scd_text(vals.w[j]);
				printf("*%s", j + 1 < vals.n ? "," : ".");
			}
		}
		printf("\n\n");
	}
}


static void
print_problem(const char *name, const char *meaning)
{
	putchar('*');
	scd_text(name);
	printf("*\n\t");
	putchar(toupper((unsigned char)meaning[0]));
	scd_text(meaning + 1);
	printf(".\n\n");
}

/* The problem codes of error.c's table, each with its meaning. */
static void
print_problems(void)
{
	for (int i = ES_PROB_NONE + 1; i < ES_PROB_COUNT; i++)
		print_problem(es_problem_name((enum es_problem)i),
		    es_problem_meaning((enum es_problem)i));
}

static char *
slurp(const char *path)
{
	struct es_buf b = ES_BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		exit(1);
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		es_buf_add(&b, chunk, n);
	if (ferror(f)) {
		perror(path);
		exit(1);
	}
	fclose(f);
	es_buf_addstr(&b, "");
	return es_buf_detach(&b, NULL);
}

static int
page(const char *template)
{
	char *text = slurp(template), *line, *next, *inc, *dir, *body;
	const char *slash = strrchr(template, '/');
	size_t dirlen = slash != NULL ? (size_t)(slash - template) + 1 : 0;

	dir = es_xstrndup(template, dirlen);
	for (line = text; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (strcmp(line, "%%keys%%") == 0)
			print_keys();
		else if (strcmp(line, "%%problems%%") == 0)
			print_problems();
		else if (strncmp(line, "%%include ", 10) == 0 &&
		    strlen(line) > 12 &&
		    strcmp(line + strlen(line) - 2, "%%") == 0) {
			line[strlen(line) - 2] = '\0';
			inc = es_xasprintf("%s%s", dir, line + 10);
			body = slurp(inc);
			fputs(body, stdout);
			free(body);
			free(inc);
		} else
			printf("%s\n", line);
	}
	free(dir);
	free(text);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* --- bash completion ------------------------------------------------- */

struct opt {
	char		 name[WORDLEN];
	char		 metavar[WORDLEN];	/* "" for a switch */
	struct words	 vals;
};

/*
 * "error, warn, info (default) or debug" -> error warn info debug; a help
 * text of another shape gives none.
 */
static void
help_values(const char *help, struct words *out)
{
	const char *p = help;
	size_t len;

	out->n = 0;
	for (;;) {
		len = strspn(p, "abcdefghijklmnopqrstuvwxyz-");
		if (len == 0) {
			out->n = 0;
			return;
		}
		words_add(out, p, len);
		p += len;
		if (strncmp(p, " (default)", 10) == 0)
			p += 10;
		if (strncmp(p, ", ", 2) == 0)
			p += 2;
		else if (strncmp(p, " or ", 4) == 0)
			p += 4;
		else
			break;
	}
	if (*p != '\0' || out->n < 2)
		out->n = 0;
}

/*
 * The options of a --help text (cli.c's layout): "  --name META   help",
 * the help starting in a later column, continued on lines indented
 * further.
 */
static size_t
parse_help(char *text, struct opt *opts, size_t max, char *usage_last,
    size_t ulsize)
{
	char *line, *next, *p, *q;
	const struct es_config_key *k;
	size_t n = 0, len;

	usage_last[0] = '\0';
	for (line = text; *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		/* The usage's last word: "DIR" when it takes a folder. */
		if (n == 0 && (strncmp(line, "usage: ", 7) == 0 ||
		    strncmp(line, "           ", 11) == 0)) {
			if ((p = strrchr(line, ' ')) != NULL)
				snprintf(usage_last, ulsize, "%s", p + 1);
			continue;
		}
		if (strncmp(line, "  --", 4) != 0 || n == max)
			continue;
		p = line + 2;
		len = strcspn(p, " ");
		if (len >= WORDLEN)
			continue;
		memset(&opts[n], 0, sizeof(opts[n]));
		memcpy(opts[n].name, p, len);
		p += len;
		if (p[0] == ' ' && isupper((unsigned char)p[1])) {
			len = strcspn(p + 1, " ");
			if (len < WORDLEN)
				memcpy(opts[n].metavar, p + 1, len);
			p += 1 + len;
		}
		p += strspn(p, " ");
		/* The help, joined with its continuation lines. */
		{
			struct es_buf h = ES_BUF_INIT;

			es_buf_addstr(&h, p);
			while (strncmp(next, "      ", 6) == 0) {
				q = strchr(next, '\n');
				if (q != NULL)
					*q = '\0';
				es_buf_addch(&h, ' ');
				es_buf_addstr(&h, next + strspn(next, " "));
				next = q != NULL ? q + 1 : next + strlen(next);
			}
			if ((k = es_config_key_find(opts[n].name)) != NULL)
				key_values(k, &opts[n].vals);
			else if (opts[n].metavar[0] != '\0')
				help_values(h.buf != NULL ? h.buf : "",
				    &opts[n].vals);
			es_buf_release(&h);
		}
		n++;
	}
	return n;
}

/* The compgen arguments for a value named metavar. */
static const char *
metavar_compgen(const char *metavar)
{
	if (strcmp(metavar, "FILE") == 0)
		return "-f";
	if (strcmp(metavar, "DIR") == 0)
		return "-d";
	return NULL;
}

static int
completion(const char *prog, const char *helpfile)
{
	char *text = slurp(helpfile), fn[64], last[WORDLEN];
	struct opt opts[64];
	size_t n, i, j;
	const char *cg;

	n = parse_help(text, opts, 64, last, sizeof(last));
	if (n == 0) {
		fprintf(stderr, "gen-docs: %s: no options found\n", helpfile);
		return 1;
	}
	snprintf(fn, sizeof(fn), "_%s", prog);
	for (char *p = fn; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
	printf("# bash completion for %s -*- shell-script -*-\n"
	    "# Made by gen-docs (packaging/gen-docs.c) from the config key "
	    "table and\n# `%s --help`: do not edit.\n\n", prog, prog);
	printf("%s()\n{\n\tlocal cur=${COMP_WORDS[COMP_CWORD]}\n"
	    "\tlocal prev=${COMP_WORDS[COMP_CWORD-1]}\n\n"
	    "\tCOMPREPLY=()\n\tcase $prev in\n", fn);
	for (i = 0; i < n; i++) {
		if (opts[i].metavar[0] == '\0')
			continue;
		printf("\t%s)\n", opts[i].name);
		if (opts[i].vals.n > 0) {
			printf("\t\tCOMPREPLY=($(compgen -W '");
			for (j = 0; j < opts[i].vals.n; j++)
				printf("%s%s", j > 0 ? " " : "",
				    opts[i].vals.w[j]);
			printf("' -- \"$cur\"))\n");
		} else if ((cg = metavar_compgen(opts[i].metavar)) != NULL) {
			printf("\t\tcompopt -o filenames 2>/dev/null\n"
			    "\t\tCOMPREPLY=($(compgen %s -- \"$cur\"))\n", cg);
		}
		printf("\t\treturn\n\t\t;;\n");
	}
	printf("\tesac\n");
	cg = metavar_compgen(last);
	if (cg != NULL)
		printf("\tif [[ $cur != -* ]]; then\n"
		    "\t\tcompopt -o filenames 2>/dev/null\n"
		    "\t\tCOMPREPLY=($(compgen %s -- \"$cur\"))\n"
		    "\t\treturn\n\tfi\n", cg);
	printf("\tCOMPREPLY=($(compgen -W '");
	for (i = 0; i < n; i++)
		printf("%s%s", i > 0 ? " " : "", opts[i].name);
	printf("' -- \"$cur\"))\n}\ncomplete -F %s %s\n", fn, prog);
	free(text);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
check_config(const char *path)
{
	struct es_config c;
	struct es_error err;
	char msg[1024];
	int rc;

	es_config_init(&c);
	if ((rc = es_config_load_file(&c, path, true, &err)) != 0) {
		es_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "gen-docs: %s\n", msg);
	}
	es_config_release(&c);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "check-config") == 0)
		return check_config(argv[2]);
	if (argc == 3 && strcmp(argv[1], "page") == 0)
		return page(argv[2]);
	if (argc == 4 && strcmp(argv[1], "completion") == 0)
		return completion(argv[2], argv[3]);
	fprintf(stderr, "usage: gen-docs page TEMPLATE\n"
	    "       gen-docs completion PROG HELP\n"
	    "       gen-docs check-config FILE\n");
	return 2;
}
