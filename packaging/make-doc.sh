#!/bin/sh
# The build steps of the man pages and the completion (CMakeLists.txt
# here), in a script so that a failing step fails the build:
#   make-doc.sh man GEN_DOCS SCDOC TEMPLATE OUT
#	OUT.scd (gen-docs page), OUT (scdoc), OUT.gz (gzip -9n, as Debian
#	wants man pages)
#   make-doc.sh completion GEN_DOCS PROGRAM NAME OUT
#	OUT.help (PROGRAM --help), OUT (gen-docs completion)
set -eu
case $1 in
man)
	gen=$2 scdoc=$3 template=$4 out=$5
	"$gen" page "$template" >"$out.scd"
	"$scdoc" <"$out.scd" >"$out"
	gzip -9n -c "$out" >"$out.gz"
	;;
completion)
	gen=$2 prog=$3 name=$4 out=$5
	ASAN_OPTIONS=detect_leaks=0 "$prog" --help >"$out.help"
	"$gen" completion "$name" "$out.help" >"$out"
	;;
*)
	echo "usage: make-doc.sh man|completion ..." >&2
	exit 2
	;;
esac
