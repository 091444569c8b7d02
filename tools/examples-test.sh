#!/usr/bin/env bash
# `make examples-test`: runs the tests of examples/testing against one FACEKI
# emulator, as a module's CI would before the provider is published
# (docs/guides/testing-modules.md, "Before the provider is published"):
#
#   - the emulator, started once with the scenarios the tests pick by client
#     ID: -expires-in 15m -client flaky=503 -client 'down=503*';
#   - the provider built into bin/, through dev_overrides, with no `init`;
#   - for each CLI: `test` (tests/*.tftest.hcl), then tests/failures.sh (the
#     outcomes a test file cannot assert), and a check of the emulator's
#     request log: client flaky got its 503 and then a token (the retry).
#
# Runs bin/tofu, then the machine's `terraform` when it is 1.10 or later, or
# the CLIs given as arguments. Before each CLI after the first, SIGHUP starts
# the emulator's scenarios over. Prints "N passed, M failed" per CLI; exits
# non-zero when any test or check fails, or when the client secret or a
# token appears in any output.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
# shellcheck source=tools/lib.sh
. "$root/tools/lib.sh"
for f in "$bin/terraform-provider-faceki" "$bin/faceki-emulator"; do
  [ -x "$f" ] || { echo "missing $f: run 'make examples-test'" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "the example's provisioner needs curl: apt-get install -y curl" >&2; exit 1; }
work=$(mktemp -d)
trap '[ -n "${emu_pid:-}" ] && kill "$emu_pid" 2>/dev/null; rm -rf "$work"' EXIT
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
unset TF_LOG TF_LOG_PROVIDER TF_LOG_PATH TF_LOG_SDK_PROTO_DATA_DIR TF_DATA_DIR FACEKI_TOKEN_CACHE FACEKI_TOKEN_CACHE_DIR \
  FACEKI_MAX_RETRIES FACEKI_REQUEST_TIMEOUT FACEKI_TOKEN_ENDPOINT

clis=()
for c in "$@"; do # absolute: the tests run in another directory
  p=$(command -v "$c") || { echo "examples-test: no CLI $c" >&2; exit 1; }
  clis+=("$(cd "$(dirname "$p")" && pwd)/$(basename "$p")")
done
if [ ${#clis[@]} -eq 0 ]; then
  clis=("$bin/tofu")
  if machine=$(command -v terraform); then
    ver=$(TF_CLI_CONFIG_FILE=$root/tools/cli.tfrc "$machine" version -json 2>/dev/null |
      sed -n 's/.*"terraform_version": *"\([0-9][0-9.]*\)".*/\1/p')
    if [ -n "$ver" ] && [ "$(printf '1.10.0\n%s\n' "$ver" | sort -V | sed -n 1p)" = 1.10.0 ]; then
      clis+=("$machine")
    else
      echo "examples-test: $machine is Terraform ${ver:-of unknown version}, older than 1.10 (no ephemeral resources): skipped"
    fi
  else
    echo "examples-test: no terraform on PATH: only OpenTofu runs"
  fi
fi

# Any credentials do: the emulator accepts those it is started with (and the
# scenarios' client IDs with the same secret). The secret is random and never
# printed.
export FACEKI_CLIENT_ID=examples-test-client
FACEKI_CLIENT_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '\n')
export FACEKI_CLIENT_SECRET
export FACEKI_EMULATOR_LOG=$work/emulator.log
"$bin/faceki-emulator" -listen 127.0.0.1:0 -expires-in 15m -client flaky=503 -client 'down=503*' \
  >"$work/emulator.out" 2>"$FACEKI_EMULATOR_LOG" &
emu_pid=$!
FACEKI_BASE_URL=$(emulator_url "$work/emulator.out")
[ -n "$FACEKI_BASE_URL" ] || { cat "$work/emulator.out" "$FACEKI_EMULATOR_LOG" >&2; exit 1; }
export FACEKI_BASE_URL

# dev_overrides and no `init`, as the guide's pre-release route.
cat >"$work/cli.tfrc" <<RC
provider_installation {
  dev_overrides {
    "registry.opentofu.org/faceki/faceki" = "$bin"
    "registry.terraform.io/faceki/faceki" = "$bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE=$work/cli.tfrc

status=0 summary="" hups=0
for cli in "${clis[@]}"; do
  # sed reads all of it: head would leave the CLI writing into a closed pipe,
  # and pipefail would end the script with its SIGPIPE (exit 141).
  name=$("$cli" version | sed -n 1p)
  if [ "$cli" != "${clis[0]}" ]; then
    kill -HUP "$emu_pid"
    hups=$((hups + 1))
    for _ in $(seq 50); do
      [ "$(grep -c 'SIGHUP: .* start over' "$FACEKI_EMULATOR_LOG")" -ge $hups ] && break
      sleep 0.1
    done
  fi
  dir=$work/run-$(basename "$cli")
  cp -R "$root/examples/testing" "$dir"
  log=$dir/test.log failures=$dir/failures.log
  from=$(($(wc -l <"$FACEKI_EMULATOR_LOG") + 1))
  echo "==> $name: test and tests/failures.sh in examples/testing against the emulator at $FACEKI_BASE_URL"
  rc=0 frc=0 problems=""
  (cd "$dir" && "$cli" test -no-color >"$log" 2>&1) || rc=$?
  grep -E '^\s*(tests/|run ")|^(Success|Failure)!' "$log" || true
  (cd "$dir" && tests/failures.sh "$cli" >"$failures" 2>&1) || frc=$?
  cat "$failures"
  counts=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$log" 2>/dev/null | tail -n1 || true)
  fcounts=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$failures" 2>/dev/null | tail -n1 || true)
  # The 503 of client flaky was answered, and retried: a token followed it.
  seen=$(tail -n "+$from" "$FACEKI_EMULATOR_LOG" | sed -n 's|.* /auth/api/access-token -> \([0-9]*\) client "flaky" .*|\1|p' | paste -sd, -)
  case $seen in
  503,200*) ;;
  *) problems+="client flaky: the emulator answered ${seen:-nothing}, want 503 then 200 (a retry); " ;;
  esac
  # The secret and the tokens (JWTs: eyJ…) must appear in no output.
  if grep -qF -e "$FACEKI_CLIENT_SECRET" -e 'eyJ' "$log" "$failures"; then
    problems+="the client secret or a token is in the output; "
  fi
  if [ $rc -ne 0 ] || [ -z "$counts" ] || [ "${counts#* passed, }" != "0 failed" ]; then
    cat "$log"
    problems+="test exit $rc; "
  fi
  [ $frc -eq 0 ] || problems+="tests/failures.sh exit $frc; "
  [ -z "$problems" ] || { echo "FAIL ($name): $problems" >&2; status=1; }
  summary+=$(printf '%-20s test: %s; failures.sh: %s; flaky: %s%s' "$name" "${counts:-no test summary}" \
    "${fcounts:-no summary}" "${seen:-none}" "${problems:+  FAIL: $problems}")$'\n'
done
printf '\n=== examples/testing against one FACEKI emulator\n%s' "$summary"
exit $status
