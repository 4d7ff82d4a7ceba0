#!/bin/sh
# CTest slug_table.regenerate: regenerate the slug table with python3 and
# compare it with the committed one. Exit 77 (skipped) without python3 or
# with a python3 whose Unicode data is not 14.0.0 (Python 3.11's).
if ! command -v python3 >/dev/null 2>&1; then
	echo "skipped: python3 not found"
	exit 77
fi
dir=$(dirname "$0")
exec python3 "$dir/gen.py" --check "$dir/slug-table.txt"
