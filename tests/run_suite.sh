#!/usr/bin/env bash
# The whole suite, as `make test` runs it: the fault suite (real processes, mostly waiting on the clock) runs beside
# the SQLite pass (browser tests included) and then the PostgreSQL pass (everything but the browser), each spread
# over pytest-xdist workers. The fault suite's output is shown when it ends; the exit status is the first failure's.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# With arguments (PYTEST_ARGS="-k config" make test) a pass may select no test (exit 5): that is not a failure then.
keep_first_failure() {
  if [ "$1" -eq 5 ] && [ "$ARGS_GIVEN" = 1 ]; then return; fi
  [ "$status" -ne 0 ] || status=$1
}
ARGS_GIVEN=$([ $# -gt 0 ] && echo 1 || echo 0)

$PY -m pytest -q tests/faults -n 6 "$@" >"$log" 2>&1 &
faults=$!

echo "== SQLite pass (browser tests included)"
$PY -m pytest -q -m "not faults" -n 3 "$@" || keep_first_failure $?

echo "== PostgreSQL pass (all but the browser tests)"
if url=$(bash tests/services.sh postgres); then
  WDTPANEL_TEST_DATABASE_URL=$url $PY -m pytest -q -m "not browser and not faults" -n 3 "$@" || keep_first_failure $?
else
  keep_first_failure 1
fi

wait $faults || keep_first_failure $?
echo "== fault suite (the system as real processes)"
cat "$log"
exit "$status"
