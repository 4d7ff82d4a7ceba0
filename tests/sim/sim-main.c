/*
 * execsync-sim: the deterministic simulation's program (issue 17 item 5).
 * Everything is in the es-sim library (sim-drive.c and below), so the
 * test programs reach the same code.
 */
#include "sim-drive.h"

int
main(int argc, char **argv)
{
	return sim_drive_main(argc, argv);
}
