#!/usr/bin/env bash
# Runs a command with the environment the acceptance tests need:
#   TF_ACC_TERRAFORM_PATH  the CLI (default: bin/tofu, built by `make tofu`)
#   TF_CLI_CONFIG_FILE     an existing, empty CLI config
#   TF_ACC_PROVIDER_HOST / TF_ACC_PROVIDER_NAMESPACE  only when the CLI is OpenTofu
# Usage: tools/with-cli.sh go test ./...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export TF_ACC_TERRAFORM_PATH=${TF_ACC_TERRAFORM_PATH:-$root/bin/tofu}
export TF_CLI_CONFIG_FILE=$root/tools/cli.tfrc
export TF_ACC=1
export CHECKPOINT_DISABLE=1
if [ ! -x "$TF_ACC_TERRAFORM_PATH" ]; then
  echo "no CLI at $TF_ACC_TERRAFORM_PATH: run 'make tofu' or set TF_ACC_TERRAFORM_PATH" >&2
  exit 1
fi
# Read the whole output first: with pipefail, `version | head -n1 | grep -q`
# fails whenever the CLI is still writing when head exits (SIGPIPE).
cli_version=$("$TF_ACC_TERRAFORM_PATH" version 2>/dev/null || true)
if [[ $cli_version == *OpenTofu* ]]; then
  export TF_ACC_PROVIDER_HOST=registry.opentofu.org
  export TF_ACC_PROVIDER_NAMESPACE=hashicorp
else
  unset TF_ACC_PROVIDER_HOST TF_ACC_PROVIDER_NAMESPACE
fi
exec "$@"
