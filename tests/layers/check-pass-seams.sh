#!/bin/sh
# The seams of the pass (lib/include/execsync/world.h, ARCHITECTURE.md):
# the pass's objects in the edge library reach the outside only through
# the world's tables, so none of them may reference the real folder,
# baseline, database or clock code (es_store_*, es_fsio_*, es_scan*,
# es_tree_*, es_baseline_*, es_git*), raw file calls, the clock, or
# libmongoc and SQLite. Prints each offending symbol with its object; exit
# 1 if there is one, or if no object matched (a rename must not make the
# check pass vacuously).
#
# usage: check-pass-seams.sh NM EDGE.a OBJECT-REGEX
#   OBJECT-REGEX: the objects checked, e.g. '^(pass|peer-.*)\.c\.o$'
set -eu
nm=$1 edge=$2 objs=$3

"$nm" -u -A "$edge" | awk -v objs="$objs" '
	{
		obj = $1; sub(/:$/, "", obj); sub(/^.*:/, "", obj)
		if (obj !~ objs)
			next
		seen[obj] = 1
		sym = $NF
		if (sym ~ /^(es_store_|es_fsio_|es_scan|es_tree_|es_baseline_|es_git|mongoc_|_mongoc|sqlite3_)/ ||
		    sym ~ /^(__)?(open|openat|openat2|open64|openat64|read|pread|pread64|write|pwrite|pwrite64|rename|renameat|renameat2|unlink|unlinkat|fstat|fstatat|fstatat64|stat|lstat|mkdir|mkdirat|clock_gettime|time|gettimeofday)(_chk|_2)?$/) {
			printf "%s needs %s: outside the world'"'"'s seams\n", obj, sym
			n++
		}
	}
	END {
		nobj = 0
		for (o in seen)
			nobj++
		if (nobj == 0) { print "no object matches " objs; exit 1 }
		if (n) { printf "%d symbol(s) go around the seams\n", n; exit 1 }
		printf "pass seams: ok (%d objects)\n", nobj
	}'
