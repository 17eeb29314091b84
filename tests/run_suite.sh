#!/usr/bin/env bash
# The whole suite, as `make test` runs it: the fault suite (real processes, mostly waiting on the clock; part of it
# on PostgreSQL too) runs beside the SQLite pass (browser tests included) and then the PostgreSQL pass (everything
# but the browser), each spread over pytest-xdist workers. The fault suite's output is shown when it ends; the exit
# status is the first failure's.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
log=$(mktemp)
pg_log=$(mktemp)
trap 'rm -f "$log" "$pg_log"' EXIT
status=0
# With arguments (PYTEST_ARGS="-k config" make test) a pass may select no test (exit 5): that is not a failure then.
keep_first_failure() {
  if [ "$1" -eq 5 ] && [ "$ARGS_GIVEN" = 1 ]; then return; fi
  [ "$status" -ne 0 ] || status=$1
}
ARGS_GIVEN=$([ $# -gt 0 ] && echo 1 || echo 0)

pg_url=$(bash tests/services.sh postgres) || pg_url=""

# The fault suite mostly waits on the clock: it runs beside the SQLite pass, each stack on a database of its own
# (tests/stack.py), and its tests marked postgresql_too run again with PostgreSQL.
env -u WDTPANEL_TEST_DATABASE_URL $PY -m pytest -q tests/faults -n 6 "$@" >"$log" 2>&1 &
faults=$!
if [ -n "$pg_url" ]; then
  WDTPANEL_TEST_DATABASE_URL=$pg_url $PY -m pytest -q tests/faults -m postgresql_too -n 3 "$@" >"$pg_log" 2>&1 &
  pg_faults=$!
fi

echo "== SQLite pass (browser tests included)"
$PY -m pytest -q -m "not faults" -n 3 "$@" || keep_first_failure $?

echo "== PostgreSQL pass (all but the browser tests)"
if [ -n "$pg_url" ]; then
  WDTPANEL_TEST_DATABASE_URL=$pg_url $PY -m pytest -q -m "not browser and not faults" -n 3 "$@" || keep_first_failure $?
else
  keep_first_failure 1
fi

wait $faults || keep_first_failure $?
echo "== fault suite on SQLite (the system as real processes)"
cat "$log"
if [ -n "$pg_url" ]; then
  wait $pg_faults || keep_first_failure $?
  echo "== fault suite on PostgreSQL"
  cat "$pg_log"
fi
exit "$status"
