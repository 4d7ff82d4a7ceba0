#!/bin/sh
# `cmake --install BUILD --prefix P` puts exactly the package's files in
# place (issue 18 item 1): the programs, the unit, the man pages, the
# completion, the docs, and nothing of the tests, benchmarks or API peer.
# usage: check-install.sh CMAKE BUILD UNITDIR
set -eu
cmake=$1 build=$2 unitdir=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cmake" --install "$build" --prefix "$tmp/p" >"$tmp/log" 2>&1 || {
	cat "$tmp/log"; exit 1; }
(cd "$tmp/p" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort) \
	>"$tmp/got"
sort >"$tmp/want" <<LIST
bin/execsync-migrate
bin/execsync-scan
bin/execsyncd
$unitdir/execsyncd.service
share/bash-completion/completions/execsync-migrate
share/bash-completion/completions/execsync-scan
share/bash-completion/completions/execsyncd
share/doc/execsync/changelog.Debian.gz
share/doc/execsync/copyright
share/doc/execsync/examples/config.yaml
share/lintian/overrides/execsync
share/man/man1/execsync-migrate.1.gz
share/man/man1/execsync-scan.1.gz
share/man/man1/execsyncd.1.gz
share/man/man5/execsync-config.5.gz
LIST
if ! diff -u "$tmp/want" "$tmp/got"; then
	echo "check-install: the installed files differ from the list (- want, + got)"
	exit 1
fi
# The unit runs the installed program.
grep -qx "ExecStart=$("$cmake" -L -N "$build" 2>/dev/null |
	sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p')/bin/execsyncd" \
	"$tmp/p/$unitdir/execsyncd.service" || {
	echo "check-install: ExecStart is not the installed execsyncd:"
	grep ExecStart "$tmp/p/$unitdir/execsyncd.service"; exit 1; }
# Every man page and changelog is gzip'd; the programs run.
for f in "$tmp"/p/share/man/man*/* "$tmp"/p/share/doc/execsync/*.gz; do
	gzip -t "$f"
done
"$tmp/p/bin/execsyncd" --version | grep -q '^execsyncd [0-9]'
echo "check-install: $(wc -l <"$tmp/got") files, as listed"
