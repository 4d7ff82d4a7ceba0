/*
 * es_config_load_buffer() on arbitrary bytes (config.h): it never crashes,
 * never reads past the input (no NUL is added: ASan sees any over-read),
 * leaks nothing on success or error, every error names the file and a line
 * within the input, and a loaded config keeps its invariants.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "execsync/config.h"
#include "execsync/error.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Lines as libyaml counts them: "\n", "\r\n", "\r", NEL, LS, PS. */
static unsigned
count_lines(const uint8_t *s, size_t n)
{
	unsigned lines = 0;
	bool open = false;

	for (size_t i = 0; i < n; i++) {
		open = true;
		if (s[i] == '\n')
			lines++, open = false;
		else if (s[i] == '\r') {
			lines++, open = false;
			if (i + 1 < n && s[i + 1] == '\n')
				i++;
		} else if (s[i] == 0xc2 && i + 1 < n && s[i + 1] == 0x85)
			lines++, open = false, i++;
		else if (s[i] == 0xe2 && i + 2 < n && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
			lines++, open = false, i += 2;
	}
	lines += open;
	return lines > 0 ? lines : 1;
}

static void
check(bool ok, const char *what, const struct es_error *err)
{
	char buf[PATH_MAX + 600];

	if (ok)
		return;
	fprintf(stderr, "fuzz-config: %s: %s (line %u)\n", what,
	    es_error_format(err, buf, sizeof(buf)), err->line);
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct es_config c;
	struct es_error err;
	unsigned lines = count_lines(data, size);

	es_config_init(&c);
	es_error_clear(&err);
	if (es_config_load_buffer(&c, (const char *)data, size, "fuzz.yaml",
	    &err) == 0) {
		check(c.ignore != NULL && c.ignore[c.nignore] == NULL,
		    "ignore not NULL-terminated", &err);
		check(c.max_delete <= 100 && c.poll_ms >= 50 &&
		    c.max_file_size >= 1 &&
		    c.max_file_size <= ES_CONFIG_MAX_FILE_SIZE_LIMIT &&
		    c.conflict <= ES_POLICY_DATABASE, "value out of range",
		    &err);
		check(c.database != NULL && c.status_listen != NULL,
		    "default lost", &err);
		/* Loading over loaded values frees the old ones. */
		check(es_config_load_buffer(&c, (const char *)data, size,
		    "fuzz.yaml", &err) == 0, "second load failed", &err);
		(void)es_config_finish(&c, 0, &err);
	} else {
		check(err.code == ES_ECONFIG, "error code", &err);
		check(strcmp(err.path, "fuzz.yaml") == 0, "error path", &err);
		check(err.line >= 1 && err.line <= lines, "error line outside "
		    "the input", &err);
		check(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL &&
		    strchr(err.msg, '\r') == NULL, "message not one line",
		    &err);
		/* A failed load changes nothing. */
		check(c.poll_ms == 2000 && c.nignore == 0 &&
		    strcmp(c.database, "execution_system") == 0,
		    "failed load changed the config", &err);
	}
	es_config_release(&c);
	return 0;
}
