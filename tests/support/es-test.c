/* Shared by the cmocka test programs: see es-test.h. */
#include "es-test.h"

#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		chmod(path, 0755);
	return remove(path) == -1 && errno != ENOENT ? -1 : 0;
}

int
es_test_rm_tree(const char *path)
{
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) == -1 &&
	    errno != ENOENT)
		return -1;
	return 0;
}

es_date_t
es_test_day(const char *ymd)
{
	es_date_t d = ES_DATE_NONE;

	if (!es_date_parse(ymd, strlen(ymd), &d))
		fail_msg("bad test date '%s'", ymd);
	return d;
}
