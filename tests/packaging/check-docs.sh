#!/bin/sh
# The generated documentation (issue 18 item 4): each man page renders
# without a warning from man/groff (lintian's check), execsync-config(5)
# names every key flag the programs' --help lists, each program's page
# every option of its --help, execsyncd(1) the problem codes, and the
# bash completion
# parses and completes options and the values of enumerated keys.
# usage: check-docs.sh DOCS_DIR EXECSYNCD EXECSYNC_SCAN EXECSYNC_MIGRATE
set -eu
docs=$1 syncd=$2 scan=$3 migrate=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "check-docs: $*"; exit 1; }

if command -v man >/dev/null 2>&1; then
	for page in "$docs"/man/*.gz; do
		LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 \
			-l -Tutf8 -Z "$page" >/dev/null 2>"$tmp/warn" || true
		[ ! -s "$tmp/warn" ] || { cat "$tmp/warn"; fail "$page: warnings"; }
	done
	MANWIDTH=200 man -l "$docs/man/execsync-config.5.gz" 2>/dev/null \
		>"$tmp/config.5"
	ASAN_OPTIONS=detect_leaks=0 "$syncd" --help |
		sed -n '/^Configuration keys/,$s/^  \(--[a-z-]*\).*/\1/p' >"$tmp/flags"
	[ -s "$tmp/flags" ] || fail "no key flags in execsyncd --help"
	while read -r flag; do
		grep -q -- "Flag: $flag\." "$tmp/config.5" ||
			fail "execsync-config(5) does not name $flag"
	done <"$tmp/flags"
	# Every option a program's --help lists is in its page's OPTIONS.
	for prog in "$syncd" "$migrate" "$scan"; do
		name=$(basename "$prog")
		ASAN_OPTIONS=detect_leaks=0 "$prog" --help |
			sed -n '/^Options:/,/^[A-Z]/s/^  \(--[a-z-]*\).*/\1/p' \
			>"$tmp/opts"
		[ -s "$tmp/opts" ] || fail "no options in $name --help"
		MANWIDTH=200 man -l "$docs/man/$name.1.gz" 2>/dev/null |
			sed -n '/^OPTIONS/,/^[A-Z]/s/^ *\(--[a-z-]*\).*/\1/p' \
			>"$tmp/man-opts"
		while read -r opt; do
			grep -qx -- "$opt" "$tmp/man-opts" ||
				fail "$name(1) OPTIONS does not describe $opt"
		done <"$tmp/opts"
	done
	# The problem codes the issue names, in execsyncd(1).
	man -l "$docs/man/execsyncd.1.gz" 2>/dev/null >"$tmp/execsyncd.1"
	for code in bad-yaml bad-date unknown-value bad-utf8 nul-byte too-large \
	    conflict-markers bad-document unsafe-path; do
		sed -n '/^PROBLEM CODES/,/^[A-Z]/p' "$tmp/execsyncd.1" |
			grep -qx "       $code" || fail "execsyncd(1) lacks $code"
	done
else
	echo "check-docs: no man: the pages are not rendered"
fi

# complete PROG WORD... : COMPREPLY for the last word, one a line.
complete_words() {
	prog=$1; shift
	bash -c '
		. "$1/completions/$2"
		shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		fn=_${COMP_WORDS[0]//-/_}
		$fn
		printf "%s\n" "${COMPREPLY[@]}"' sh "$docs" "$prog" "$prog" "$@"
}
for f in "$docs"/completions/execsyncd "$docs"/completions/execsync-migrate \
    "$docs"/completions/execsync-scan; do
	bash -n "$f" || fail "$f: bash syntax"
done
[ "$(complete_words execsyncd --conflict '' | tr '\n' ' ')" = \
    "newest file database " ] || fail "execsyncd --conflict completes to" \
	"'$(complete_words execsyncd --conflict '' | tr '\n' ' ')'"
[ "$(complete_words execsyncd --log-level d)" = debug ] ||
	fail "execsyncd --log-level d does not complete to debug"
complete_words execsyncd --max-d | grep -qx -- --max-delete ||
	fail "execsyncd --max-d does not complete to --max-delete"
complete_words execsync-scan -- >"$tmp/scan"
grep -qx -- --ignore "$tmp/scan" || fail "execsync-scan offers no --ignore"
! grep -qx -- --mongodb-uri "$tmp/scan" ||
	fail "execsync-scan offers --mongodb-uri, which it refuses"
ASAN_OPTIONS=detect_leaks=0 "$scan" --help >/dev/null
echo "check-docs: man pages, keys and completion: fine"
