#!/usr/bin/env bash
# The outcomes a .tftest.hcl file cannot assert: a provider error fails the
# whole run, and expect_failures takes only the module's own conditions. For
# each file in tests/failures/ this runs `terraform test -filter=…` (or
# `tofu test`) against the FACEKI emulator the other tests use, started with
#
#   faceki-emulator -listen 127.0.0.1:0 -expires-in 15m -client flaky=503 -client 'down=503*'
#
# and checks the exit status (1), the error summary, and that the consumer
# (the pipeline step) was never called: it wrote no result file, and FACEKI
# saw no KYC rules request with a missing or refused token.
#
# Usage: tests/failures.sh [CLI]   CLI: terraform (default) or tofu, or a path.
# FACEKI_EMULATOR_LOG names the emulator's request log (default emulator.log).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${1:-terraform}
log=${FACEKI_EMULATOR_LOG:-emulator.log}
[ -f "$log" ] || { echo "failures.sh: no emulator request log at $log: set FACEKI_EMULATOR_LOG" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

passed=0 failed=0
# test file in tests/failures | the error it must fail with | the file its pipeline step would write
while IFS='|' read -r name summary result; do
  rm -f "$result"
  before=$(wc -l <"$log")
  rc=0
  "$cli" test -no-color -test-directory=tests/failures -filter="tests/failures/$name.tftest.hcl" >"$out/$name" 2>&1 || rc=$?
  problems=()
  [ "$rc" -eq 1 ] || problems+=("exit status $rc, want 1")
  grep -qx "Error: $summary" "$out/$name" || problems+=("no \"Error: $summary\"")
  [ ! -e "$result" ] || problems+=("the pipeline step ran: it wrote $result")
  # Not `tail | grep -q`: with pipefail, tail's SIGPIPE when grep stops at the
  # first match would read as no match.
  if grep -q 'GET /kycrules/api/kycrules -> 401' < <(tail -n "+$((before + 1))" "$log"); then
    problems+=("FACEKI saw a KYC rules request with a missing or refused token")
  fi
  if [ ${#problems[@]} -eq 0 ]; then
    echo "ok   $name: exit 1, \"Error: $summary\", the pipeline step never called"
    passed=$((passed + 1))
  else
    echo "FAIL $name: $(IFS=';'; echo "${problems[*]}"); output:"
    sed 's/^/    /' "$out/$name"
    failed=$((failed + 1))
  fi
done <<'CASES'
down|FACEKI is unavailable|down-result.json
wrong_secret|FACEKI rejected the client credentials|wrong-secret-result.json
too_short|FACEKI access token lives shorter than min_validity|too-short-result.json
CASES
echo "failures.sh ($("$cli" version | sed -n 1p)): $passed passed, $failed failed"
[ "$failed" -eq 0 ]
