#!/usr/bin/env bash
# `make demo`: starts the FACEKI emulator, runs a real `tofu apply` of
# examples/demo with the provider built into bin/, and shows what happened.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
cli=${TF_ACC_TERRAFORM_PATH:-$bin/tofu}
port=${FACEKI_DEMO_PORT:-18808}
work=$(mktemp -d)
trap 'kill "${emu_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

export FACEKI_CLIENT_ID=demo-client-id
export FACEKI_CLIENT_SECRET='demo-secret/+&= with spaces%'
export FACEKI_BASE_URL=http://127.0.0.1:$port
export CHECKPOINT_DISABLE=1

"$bin/faceki-emulator" -listen "127.0.0.1:$port" -client-id "$FACEKI_CLIENT_ID" \
  -client-secret "$FACEKI_CLIENT_SECRET" >"$work/emulator.log" 2>&1 &
emu_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "$FACEKI_BASE_URL/" && break; sleep 0.1; done

# dev_overrides: the CLI uses the provider in bin/ and downloads nothing.
cat >"$work/cli.tfrc" <<RC
provider_installation {
  dev_overrides {
    "registry.opentofu.org/faceki/faceki"   = "$bin"
    "registry.terraform.io/faceki/faceki" = "$bin"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE=$work/cli.tfrc
cp "$root/examples/demo/main.tf" "$work/"
cd "$work"

echo "==> $("$cli" version | head -n1) apply against the FACEKI emulator at $FACEKI_BASE_URL"
# The dev_overrides warning is expected here: drop it from the transcript.
"$cli" apply -auto-approve -no-color 2>&1 |
  awk '/Warning: Provider development overrides/ {skip=1} skip && /releases\./ {skip=0; next} !skip && NF'
test -f terraform.tfstate

echo
echo "==> FACEKI emulator saw:"
grep -v 'GET / ' "$work/emulator.log" | sed 's/^[0-9\/: ]*/  /'
tokens=$(grep -c 'access-token -> 200' "$work/emulator.log" || true)
echo "==> token requests: $tokens (one for plan, one for apply)"
echo "==> KYC rules fetched with the ephemeral token:"
grep -o '"livenessCheckType":"[A-Z]*"\|"status":"[A-Z]*"\|"allowedKycDocuments":\[[^]]*\]' kyc-rules.json | sed 's/^/  /'
if grep -q -e 'eyJ' -e 'demo-secret' terraform.tfstate; then
  echo "LEAK: a token or the secret is in terraform.tfstate" >&2
  exit 1
fi
echo "==> terraform.tfstate holds neither the token nor the secret."
