/*
 * Who wins a conflict (SPEC 4.2): the config key `conflict` holds one, the
 * planners apply it, --force is ES_POLICY_FILE. One enum for both, so the
 * value read from the configuration is the value the planner decides by.
 */
#ifndef EXECSYNC_POLICY_H
#define EXECSYNC_POLICY_H

enum es_policy {
	ES_POLICY_NEWEST,	/* the later write; a tie: the database */
	ES_POLICY_FILE,
	ES_POLICY_DATABASE,
};

#endif
