#!/bin/sh
# The systemd user unit (issue 18 item 2): systemd-analyze verify --user
# finds nothing to say about it (an unknown key is only a warning, so any
# output fails), and it holds what the service relies on. Skipped (77)
# without systemd-analyze. The unit's ExecStart names the installed
# program, which need not exist yet: the check runs on a copy naming the
# built one, and on nothing else changed.
# usage: check-unit.sh UNIT EXECSYNCD
set -eu
unit=$1 prog=$2
for line in Type=notify NotifyAccess=main 'ExecReload=/bin/kill -HUP $MAINPID' \
    Restart=on-failure 'RestartPreventExitStatus=2 3' \
    Environment=MONGOC_DISABLE_SHM=1 NoNewPrivileges=yes \
    WantedBy=default.target; do
	grep -qxF "$line" "$unit" ||
		{ echo "check-unit: no '$line' in $unit"; exit 1; }
done
grep -q '^WatchdogSec=[1-9]' "$unit" ||
	{ echo "check-unit: no WatchdogSec"; exit 1; }
command -v systemd-analyze >/dev/null 2>&1 || {
	echo "check-unit: no systemd-analyze: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -m 700 "$tmp/run"
sed "s|^ExecStart=[^ ]*|ExecStart=$prog|" "$unit" >"$tmp/execsyncd.service"
XDG_RUNTIME_DIR="$tmp/run" systemd-analyze verify --user --man=no \
	"$tmp/execsyncd.service" >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
if [ -s "$tmp/out" ]; then
	cat "$tmp/out"; echo "check-unit: systemd-analyze verify complained"; exit 1
fi
echo "check-unit: systemd-analyze verify --user: clean"
