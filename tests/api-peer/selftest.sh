#!/usr/bin/env bash
# Self-test of the API peer against a real server: every command, its output
# types and its exit statuses. Starts a private FerretDB with
# tests/ferretdb-fixture unless EXECSYNC_TEST_MONGODB_URI names a server.
# Needs `npm ci` in this folder first. Prints "selftest: N checks passed".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

state=$(mktemp -d "${TMPDIR:-/tmp}/peer-selftest.XXXXXX")
cleanup() { "$root/tests/ferretdb-fixture" stop "$state" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$root/tests/ferretdb-fixture" start "$state" >/dev/null
uri=$(cat "$state/uri")
db="peer_selftest_$$"
checks=0

peer() { node "$here/peer.js" --uri "$uri" --db "$db" --user ana "$@"; }

fail() { echo "selftest: FAIL: $*" >&2; exit 1; }

# jq-free field access: js EXPR evaluated with `d` = the parsed JSON.
js() { node -e 'const d = JSON.parse(process.argv[1]); console.log(eval(process.argv[2]))' "$1" "$2"; }

# expect JSON EXPR WANT: the canonical-EJSON value of EXPR is WANT.
expect() {
	local got
	got=$(js "$1" "JSON.stringify($2)")
	[ "$got" = "$3" ] || fail "$2: got $got, want $3"
	checks=$((checks + 1))
}

# status WANT_RC WANT_STDERR_SUBSTRING COMMAND ARGS: a failing command.
status() {
	local want=$1 msg=$2 rc=0 err
	shift 2
	err=$(peer "$@" 2>&1 >/dev/null) || rc=$?
	[ "$rc" = "$want" ] || fail "$*: exit $rc, want $want ($err)"
	case $err in *"$msg"*) ;; *) fail "$*: stderr '$err' lacks '$msg'" ;; esac
	[ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "$*: stderr not one line"
	checks=$((checks + 1))
}

day() { node -e 'console.log(JSON.stringify({$date: {$numberLong: String(Date.parse(process.argv[1] + "T00:00:00Z"))}}))' "$1"; }

o=$(peer ping '{}')
expect "$o" 'd' '{"ok":1}'

# create-project: defaults, typed dates, slug clashes (SPEC §2, §3).
o=$(peer create-project '{"title":"Learn Rust","area":"Learning","due":"2025-12-31"}')
expect "$o" 'd.slug' '"learn-rust"'
expect "$o" 'd.folder' '"active"'
expect "$o" 'd.type' '"standard"'
expect "$o" 'd.content' '""'
expect "$o" 'd.extra' '{}'
expect "$o" 'd.deleted' 'false'
expect "$o" 'd.deleted_at' 'null'
expect "$o" 'd.started' 'null'
expect "$o" 'd.user_id' '"ana"'
expect "$o" 'd.due' "$(day 2025-12-31)"
expect "$o" 'typeof d._id.$oid' '"string"'
expect "$o" 'd.created_at.$date.$numberLong === d.updated_at.$date.$numberLong' 'true'
o=$(peer create-project '{"title":"Learn: Rust!","area":"Learning","folder":"incubator","type":"habit","extra":{"priority":3}}')
expect "$o" 'd.slug' '"learn-rust-2"'
expect "$o" 'd.extra' '{"priority":{"$numberInt":"3"}}'
o=$(peer create-project '{"title":"  Café Münster -- 2025 ","area":"Café & Kultur"}')
expect "$o" 'd.slug' '"café-münster-2025"'

# The API's clock: --clock-offset-ms moves created_at/updated_at.
now=$(node -e 'console.log(Date.now())')
o=$(peer --clock-offset-ms 86400000000 create-goal '{"title":"Far Future"}')
expect "$o" 'Number(d.updated_at.$date.$numberLong) - '"$now"' > 86390000000' 'true'

o=$(peer retitle-project '{"slug":"learn-rust","title":"Learn Go"}')
expect "$o" '[d.title, d.slug]' '["Learn Go","learn-go"]'
o=$(peer update-project '{"slug":"learn-go","set":{"due":null,"started":"2024-02-29","area":"Code"}}')
expect "$o" '[d.due, d.started, d.area]' "[null,$(day 2024-02-29),\"Code\"]"
o=$(peer complete-project '{"slug":"learn-go","date":"2025-03-01"}')
expect "$o" '[d.folder, d.completed]' "[\"completed\",$(day 2025-03-01)]"
o=$(peer descope-project '{"slug":"learn-go","date":"2025-03-02"}')
expect "$o" '[d.folder, d.descoped]' "[\"descoped\",$(day 2025-03-02)]"
o=$(peer activate-project '{"slug":"learn-go","date":"2025-03-03"}')
expect "$o" '[d.folder, d.started]' "[\"active\",$(day 2024-02-29)]"

# Actions, and delete-project's cascade.
o=$(peer create-action '{"text":"Read ch. 3","context":"@macbook","project_slug":"learn-go","due":"2025-11-15","priority":"A"}')
expect "$o" '[d.state, d.context, d.defer, d.completed]' '["next","@macbook",null,null]'
a1=$(js "$o" 'd._id.$oid')
o=$(peer create-action '{"text":"Write notes","project_slug":"learn-go"}')
a2=$(js "$o" 'd._id.$oid')
o=$(peer update-action "{\"id\":\"$a2\",\"set\":{\"state\":\"waiting\",\"defer\":\"2025-11-12\"}}")
expect "$o" '[d.state, d.defer]' "[\"waiting\",$(day 2025-11-12)]"
o=$(peer complete-action "{\"id\":\"$a2\",\"date\":\"2025-11-13\"}")
expect "$o" '[d.state, d.completed]' "[\"completed\",$(day 2025-11-13)]"
o=$(peer delete-action "{\"id\":\"$a2\"}")
expect "$o" '[d.deleted, typeof d.deleted_at.$date]' '[true,"object"]'
o=$(peer delete-project '{"slug":"learn-go"}')
expect "$o" 'd.actions_deleted' '1'
expect "$o" 'd.project.deleted' 'true'
o=$(peer get "{\"collection\":\"actions\",\"id\":\"$a1\"}")
expect "$o" 'd.deleted' 'true'
o=$(peer create-project '{"title":"Learn Go","area":"Code"}')
expect "$o" 'd.slug' '"learn-go-2"'

# Goals.
o=$(peer create-goal '{"title":"Be Healthy","area":"Health","folder":"incubator","created":"2024-01-01"}')
expect "$o" '[d.slug, d.folder, d.created, d.last_reviewed]' "[\"be-healthy\",\"incubator\",$(day 2024-01-01),null]"
o=$(peer update-goal '{"slug":"be-healthy","set":{"folder":"active"}}')
expect "$o" 'd.folder' '"active"'
o=$(peer delete-goal '{"slug":"be-healthy"}')
expect "$o" 'd.deleted' 'true'

# Raw documents keep their types.
o=$(peer insert-raw '{"collection":"projects","doc":{"slug":"../../.bashrc","due":"2025-13-45","n":{"$numberLong":"5"},"f":{"$numberDouble":"2.0"}}}')
expect "$o" '[d.user_id, d.due, d.n, d.f]' '["ana","2025-13-45",{"$numberLong":"5"},{"$numberDouble":"2.0"}]'
o=$(peer update-raw '{"collection":"projects","slug":"../../.bashrc","set":{"updated_at":{"$date":"2020-01-01T00:00:00Z"}},"unset":["f"]}')
expect "$o" '[d.updated_at, d.f]' '[{"$date":{"$numberLong":"1577836800000"}},null]'
o=$(peer get '{"collection":"projects","slug":"no-such"}')
expect "$o" 'd' 'null'

# Another user's documents stay out of this user's dump.
node "$here/peer.js" --uri "$uri" --db "$db" --user bob create-goal '{"title":"Bob"}' >/dev/null
o=$(peer dump '{}')
expect "$o" '[d.projects.length, d.goals.length, d.actions.length]' '[5,2,2]'
expect "$o" 'd.projects.every((p, i, a) => i === 0 || a[i - 1]._id.$oid < p._id.$oid)' 'true'
expect "$o" 'd.goals.every((g) => g.user_id === "ana")' 'true'

# Failures: exit 2 for usage, 1 for not found.
status 2 "unknown command 'frob'" frob '{}'
status 2 "bad JSON arguments" ping '{nope'
status 2 'missing argument "area"' create-project '{"title":"x"}'
status 2 'unknown argument "titel"' create-goal '{"titel":"x"}'
status 2 "bad date for due" create-action '{"text":"x","due":"2025-13-45"}'
status 2 "bad id" complete-action '{"id":"123"}'
status 1 "not found: projects slug 'x'" update-project '{"slug":"x","set":{}}'
status 1 "not found: actions id" delete-action '{"id":"000000000000000000000000"}'

echo "selftest: $checks checks passed"
