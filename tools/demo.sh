#!/usr/bin/env bash
# `make demo`: starts the FACEKI emulator on a free loopback port, runs a real
# `init` and `apply` of examples/demo with the provider built into bin/, and
# shows what happened: never the token, nor the secret.
#
# The CLI: TF_ACC_TERRAFORM_PATH when set; else, with DEMO_CLI=auto (the
# default), a `tofu` (>= 1.11) or `terraform` (>= 1.10) on PATH, the first
# versions with ephemeral resources; else, or with DEMO_CLI=pinned, the
# pinned OpenTofu in bin/tofu, built from tools/tofu when missing (minutes).
#
# DEMO_TOKEN_CACHE=file runs it with token_cache = "file": the token file
# lives in bin/demo-token-cache and the emulator on a fixed port
# (DEMO_PORT, default 18808), since the file belongs to one base URL; a
# second run within the token's hour makes no token request at all.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
# shellcheck source=tools/lib.sh
. "$root/tools/lib.sh"
command -v curl >/dev/null || { echo "the demo's provisioner needs curl: apt-get install -y curl" >&2; exit 1; }

# cli_kind_version CLI prints "OpenTofu 1.12.6" or "Terraform 1.11.4", or
# nothing. The version comes from `version -json`; only the text output
# says which CLI it is (OpenTofu's JSON says "terraform_version" too). An
# existing, empty CLI config keeps a missing TF_CLI_CONFIG_FILE's warning
# out of the JSON.
cli_kind_version() {
  local json text v kind=Terraform
  json=$(TF_CLI_CONFIG_FILE=$root/tools/cli.tfrc CHECKPOINT_DISABLE=1 "$1" version -json 2>/dev/null) || return 0
  v=$(sed -n 's/.*"terraform_version": *"\([0-9][0-9.]*\)".*/\1/p' <<<"$json")
  [ -n "$v" ] || return 0
  text=$(TF_CLI_CONFIG_FILE=$root/tools/cli.tfrc CHECKPOINT_DISABLE=1 "$1" version 2>/dev/null) || true
  [[ $text == *OpenTofu* ]] && kind=OpenTofu
  echo "$kind $v"
}

# at_least MIN VERSION
at_least() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | sed -n 1p)" = "$1" ]; }

pinned() {
  if [ ! -x "$bin/tofu" ]; then
    echo "==> building the pinned OpenTofu (tools/tofu) into bin/tofu: a few minutes, once"
    "${MAKE:-make}" -C "$root" --no-print-directory tofu
  fi
  cli=$bin/tofu
}

case ${DEMO_CLI:-auto} in
auto | pinned) ;;
*) echo "DEMO_CLI must be auto or pinned (or set TF_ACC_TERRAFORM_PATH to a CLI)" >&2; exit 2 ;;
esac
cli='' why=''
if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ]; then
  cli=$TF_ACC_TERRAFORM_PATH why="named by TF_ACC_TERRAFORM_PATH"
elif [ "${DEMO_CLI:-auto}" = pinned ]; then
  pinned
  why="the pinned one, as DEMO_CLI=pinned asks"
else
  for name in tofu terraform; do
    path=$(command -v "$name" || true)
    [ -n "$path" ] || continue
    found=$(cli_kind_version "$path")
    case $found in
    "OpenTofu "*) min=1.11.0 ;;
    "Terraform "*) min=1.10.0 ;;
    *) echo "==> $path: no version in its 'version -json': not used"; continue ;;
    esac
    if at_least "$min" "${found#* }"; then
      cli=$path why="found on PATH, with ephemeral resources (Terraform >= 1.10, OpenTofu >= 1.11); DEMO_CLI=pinned takes the pinned OpenTofu instead"
      break
    fi
    echo "==> $path is $found, without ephemeral resources (Terraform >= 1.10, OpenTofu >= 1.11): not used"
  done
  if [ -z "$cli" ]; then
    had=$([ -x "$bin/tofu" ] && echo yes || true)
    pinned
    why="the pinned one: no tofu >= 1.11 or terraform >= 1.10 on PATH"
    [ -n "$had" ] && why="$why (bin/tofu was already built)"
  fi
fi
[ -x "$cli" ] || { echo "no CLI at $cli" >&2; exit 1; }
found=$(cli_kind_version "$cli")
echo "==> CLI: $cli, ${found:-of unknown version}, $why"
work=$(mktemp -d)
# Only the emulator: an empty PID would make `kill` signal the whole process group.
trap '[ -n "${emu_pid:-}" ] && kill "$emu_pid" 2>/dev/null; rm -rf "$work"' EXIT

export FACEKI_CLIENT_ID=demo-client-id
export FACEKI_CLIENT_SECRET='demo-secret/+&= with spaces%'
export CHECKPOINT_DISABLE=1

listen=127.0.0.1:0
case ${DEMO_TOKEN_CACHE:-memory} in
memory) ;;
file)
  listen=127.0.0.1:${DEMO_PORT:-18808}
  export FACEKI_TOKEN_CACHE=file FACEKI_TOKEN_CACHE_DIR=$bin/demo-token-cache
  mkdir -p -m 700 "$FACEKI_TOKEN_CACHE_DIR"
  ;;
*) echo "DEMO_TOKEN_CACHE must be memory or file" >&2; exit 2 ;;
esac

# The emulator takes the credentials from the environment, not its command
# line, which every user of the machine can read (ps).
"$bin/faceki-emulator" -listen "$listen" >"$work/emulator.log" 2>&1 &
emu_pid=$!
FACEKI_BASE_URL=$(emulator_url "$work/emulator.log")
[ -n "$FACEKI_BASE_URL" ] || { cat "$work/emulator.log" >&2; exit 1; }
export FACEKI_BASE_URL

# A local filesystem mirror: `init` installs the provider built into bin/ as
# version 0.0.1, with no registry and no network, as it would a release.
faceki_mirror "$work" "$bin"
export TF_CLI_CONFIG_FILE=$work/cli.tfrc
cp "$root/examples/demo/main.tf" "$work/"
cd "$work"

quiet() { grep -v '^ *$' || true; }
echo "==> ${found:-$cli}: init and apply against the FACEKI emulator at $FACEKI_BASE_URL"
"$cli" init -no-color -input=false >init.log 2>&1 || { cat init.log; exit 1; }
grep -E 'Installing|Installed|successfully initialized' init.log
"$cli" apply -auto-approve -no-color -input=false 2>&1 | quiet
test -f terraform.tfstate

echo
echo "==> FACEKI emulator saw:"
sed 1d "$work/emulator.log" | sed 's/^[0-9\/: ]*/  /'
tokens=$(grep -c 'access-token -> 200' "$work/emulator.log" || true)
if [ "${FACEKI_TOKEN_CACHE:-}" = file ]; then
  echo "==> token requests: $tokens (token_cache = \"file\": the plan walk and the apply walk share the token in"
  echo "    $FACEKI_TOKEN_CACHE_DIR, sealed; a second run within its hour makes none)"
else
  echo "==> token requests: $tokens (one for the plan walk, one for the apply walk)"
fi
echo "==> the provisioner called the KYC rules endpoint with the ephemeral token:"
grep -o '"livenessCheckType":"[A-Z]*"\|"status":"[A-Z]*"\|"allowedKycDocuments":\[[^]]*\]' kyc-rules.json | sed 's/^/  /'
echo "==> the token it used expires at $(cat token-expiry.txt)"
if grep -q -e 'eyJ' -e 'demo-secret' terraform.tfstate; then
  echo "LEAK: a token or the secret is in terraform.tfstate" >&2
  exit 1
fi
echo "==> terraform.tfstate holds neither the token nor the secret."
