/*
 * Functions that are easy to misuse, banned from lib/ at compile time (after
 * git's banned.h). Included first in every lib/ translation unit by the build.
 * Use snprintf (checking truncation), es_buf, gmtime_r/localtime_r, mkstemp.
 */
#ifndef ES_BANNED_H
#define ES_BANNED_H

#include <string.h>
#include <stdio.h>
#include <time.h>

#define ES_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) ES_BANNED(strcpy)
#undef strcat
#define strcat(x, y) ES_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) ES_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) ES_BANNED(strncat)
#undef sprintf
#define sprintf(...) ES_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) ES_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) ES_BANNED(strtok)
#undef gmtime
#define gmtime(t) ES_BANNED(gmtime)
#undef localtime
#define localtime(t) ES_BANNED(localtime)
#undef mktemp
#define mktemp(t) ES_BANNED(mktemp)

#endif
