#!/bin/sh
# The dependency rule of ARCHITECTURE.md, checked on the built archives:
# the pure core (libexecsync-core.a) may not use libmongoc, SQLite, libuv,
# libinotifytools, libmicrohttpd or libsystemd, nor anything the edge
# library (libexecsync.a) defines. Prints each offending symbol with the
# object that needs it; exit 1 if there is one.
#
# usage: check-core-links.sh NM CORE.a EDGE.a
set -eu
nm=$1 core=$2 edge=$3

# Symbols the edge library defines.
defined=$(mktemp)
trap 'rm -f "$defined"' EXIT
"$nm" --defined-only -g "$edge" | awk 'NF == 3 { print $3 }' | sort -u >"$defined"

"$nm" -u -A "$core" | awk -v defs="$defined" '
	BEGIN { while ((getline s < defs) > 0) edge[s] = 1 }
	{
		sym = $NF; obj = $1; sub(/:$/, "", obj)
		if (sym ~ /^(mongoc_|_mongoc|sqlite3_|uv_|inotifytools_|inotify_|MHD_|sd_)/)
			bad = "a library the core may not link"
		else if (sym in edge)
			bad = "the edge library (io/, sync/)"
		else
			next
		printf "%s needs %s from %s\n", obj, sym, bad
		n++
	}
	END {
		if (n) { printf "%d symbol(s) break the core'"'"'s link rule\n", n; exit 1 }
		print "core link rule: ok"
	}'
