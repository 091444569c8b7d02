#!/usr/bin/env bash
# `make examples-test`: runs the tests of examples/testing (`tofu test`,
# `terraform test`) against the FACEKI emulator, as a module's CI would.
#
# Starts bin/faceki-emulator on a free loopback port with its defaults and
# exports FACEKI_BASE_URL, FACEKI_CLIENT_ID and FACEKI_CLIENT_SECRET for the
# provider. The CLIs install the provider built into bin/ with `init` from a
# filesystem mirror (dev_overrides would need no init, but `test` needs one
# here, for the module a run block loads, and `init` would then look the
# overridden provider up in a registry). Runs bin/tofu, then the machine's
# `terraform` when it is 1.10 or later, or the CLIs given as arguments.
# Prints "N passed, M failed" per CLI; exits non-zero when any test fails.
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
unset TF_LOG TF_LOG_PROVIDER TF_LOG_PATH TF_LOG_SDK_PROTO_DATA_DIR TF_DATA_DIR FACEKI_TOKEN_CACHE FACEKI_TOKEN_CACHE_DIR

clis=("$@")
if [ ${#clis[@]} -eq 0 ]; then
  clis=("$bin/tofu")
  if machine=$(command -v terraform); then
    ver=$(TF_CLI_CONFIG_FILE=$root/tools/cli.tfrc "$machine" version -json 2>/dev/null |
      sed -n 's/.*"terraform_version": *"\([0-9][0-9.]*\)".*/\1/p')
    if [ -n "$ver" ] && [ "$(printf '1.10.0\n%s\n' "$ver" | sort -V | head -n1)" = 1.10.0 ]; then
      clis+=("$machine")
    else
      echo "examples-test: $machine is Terraform ${ver:-of unknown version}, older than 1.10 (no ephemeral resources): skipped"
    fi
  else
    echo "examples-test: no terraform on PATH: only OpenTofu runs"
  fi
fi

# Any credentials do: the emulator accepts those it is started with. The
# secret is random and never printed.
export FACEKI_CLIENT_ID=examples-test-client
FACEKI_CLIENT_SECRET=$(head -c 24 /dev/urandom | base64 | tr -d '\n')
export FACEKI_CLIENT_SECRET
"$bin/faceki-emulator" -listen 127.0.0.1:0 >"$work/emulator.out" 2>"$work/emulator.log" &
emu_pid=$!
FACEKI_BASE_URL=$(emulator_url "$work/emulator.out")
[ -n "$FACEKI_BASE_URL" ] || { cat "$work/emulator.out" "$work/emulator.log" >&2; exit 1; }
export FACEKI_BASE_URL

faceki_mirror "$work" "$bin"
export TF_CLI_CONFIG_FILE=$work/cli.tfrc

status=0 summary=""
for cli in "${clis[@]}"; do
  name=$("$cli" version | head -n1)
  dir=$work/run-$(basename "$cli")
  cp -R "$root/examples/testing" "$dir"
  log=$dir/test.log
  before=$(grep -c 'access-token -> 200' "$work/emulator.log" || true)
  echo "==> $name: init and test examples/testing against the emulator at $FACEKI_BASE_URL"
  rc=0
  (cd "$dir" && "$cli" init -input=false -no-color >init.log 2>&1) || { cat "$dir/init.log"; rc=1; }
  if [ $rc -eq 0 ]; then
    (cd "$dir" && "$cli" test -no-color >"$log" 2>&1) || rc=$?
    grep -E '^\s*(tests/|run ")|^(Success|Failure)!' "$log" || true
  fi
  counts=$(grep -oE '[0-9]+ passed, [0-9]+ failed' "$log" 2>/dev/null | tail -n1 || true)
  tokens=$(($(grep -c 'access-token -> 200' "$work/emulator.log" || true) - before))
  # The secret and the tokens (JWTs: eyJ…) must appear in no output.
  if grep -qF -e "$FACEKI_CLIENT_SECRET" -e 'eyJ' "$log" "$dir/init.log" 2>/dev/null; then
    echo "LEAK: the client secret or a token is in the output of $name" >&2
    rc=1
  fi
  if [ $rc -ne 0 ] || [ -z "$counts" ] || [ "${counts#* passed, }" != "0 failed" ]; then
    [ -f "$log" ] && cat "$log"
    status=1
  fi
  summary+=$(printf '%-20s %s (test exit %d; %d token requests)' "$name" "${counts:-no test summary}" "$rc" "$tokens")$'\n'
done
printf '\n=== examples/testing against the FACEKI emulator\n%s' "$summary"
exit $status
