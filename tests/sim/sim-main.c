/* execsync-sim: placeholder until the driver lands (issue 17). */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "execsync-sim: not built yet\n");
	return 2;
}
