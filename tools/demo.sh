#!/usr/bin/env bash
# `make demo`: starts the FACEKI emulator on a free loopback port, runs a real
# `tofu init` and `tofu apply` of examples/demo with the provider built into
# bin/, and shows what happened: never the token, nor the secret.
#
# DEMO_TOKEN_CACHE=file runs it with token_cache = "file": the token file
# lives in bin/demo-token-cache and the emulator on a fixed port
# (DEMO_PORT, default 18808), since the file belongs to one base URL; a
# second run within the token's hour makes no token request at all.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
cli=${TF_ACC_TERRAFORM_PATH:-$bin/tofu}
command -v curl >/dev/null || { echo "the demo's provisioner needs curl: apt-get install -y curl" >&2; exit 1; }
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
for _ in $(seq 100); do
  FACEKI_BASE_URL=$(sed -n 's/^FACEKI emulator listening on //p' "$work/emulator.log")
  [ -n "$FACEKI_BASE_URL" ] && break
  sleep 0.1
done
[ -n "$FACEKI_BASE_URL" ] || { cat "$work/emulator.log" >&2; exit 1; }
export FACEKI_BASE_URL

# A local filesystem mirror: `init` installs the provider built into bin/ as
# version 0.0.1, with no registry and no network, as it would a release.
target=$(go env GOOS)_$(go env GOARCH)
for host in registry.opentofu.org registry.terraform.io; do
  mkdir -p "$work/mirror/$host/faceki/faceki/0.0.1/$target"
  ln -s "$bin/terraform-provider-faceki" "$work/mirror/$host/faceki/faceki/0.0.1/$target/terraform-provider-faceki_v0.0.1"
done
cat >"$work/cli.tfrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.opentofu.org/faceki/faceki", "registry.terraform.io/faceki/faceki"]
  }
}
RC
export TF_CLI_CONFIG_FILE=$work/cli.tfrc
cp "$root/examples/demo/main.tf" "$work/"
cd "$work"

quiet() { grep -v '^ *$' || true; }
echo "==> $("$cli" version | head -n1): init and apply against the FACEKI emulator at $FACEKI_BASE_URL"
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
