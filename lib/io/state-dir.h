/*
 * Lib-internal: the baseline's folder (state-dir.c) for baseline.c.
 */
#ifndef EXECSYNC_IO_STATE_DIR_H
#define EXECSYNC_IO_STATE_DIR_H

#include "execsync/error.h"

/*
 * Prepares <root>/.execsync for the baseline (see state-dir.c) and returns
 * the path SQLite is to open (free() it), or NULL with err filled.
 */
char	*es__state_dir_prepare(const char *root, struct es_error *err);

#endif
