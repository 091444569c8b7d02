#!/usr/bin/env bash
# `make docs`: renders docs/ from the provider's schema, templates/ and
# examples/, offline. tfplugindocs would download Terraform to read the
# schema; instead the provider is built here and bin/tofu reads its schema
# through a dev_overrides CLI config, so no registry is contacted.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/bin
cli=${DOCS_CLI:-$bin/tofu}
tfplugindocs=$bin/tfplugindocs
for tool in "$cli" "$tfplugindocs"; do
  [ -x "$tool" ] || { echo "missing $tool: run 'make tofu' and 'make $(basename "$tool")' (or 'make docs')" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/plugins" "$work/config"

echo "==> building the provider"
(cd "$root" && go build -o "$work/plugins/terraform-provider-faceki" .)

cat >"$work/cli.tfrc" <<RC
provider_installation {
  dev_overrides {
    "registry.opentofu.org/faceki/faceki" = "$work/plugins"
    "registry.terraform.io/faceki/faceki" = "$work/plugins"
  }
  direct {}
}
RC
cat >"$work/config/main.tf" <<'TF'
terraform {
  required_providers {
    faceki = {
      source = "faceki/faceki"
    }
  }
}
TF

export TF_CLI_CONFIG_FILE=$work/cli.tfrc CHECKPOINT_DISABLE=1
unset TF_LOG TF_LOG_PROVIDER TF_LOG_PATH TF_LOG_SDK_PROTO_DATA_DIR
echo "==> reading the schema with $("$cli" version | sed -n 1p)"
(cd "$work/config" && "$cli" providers schema -json >"$work/schema.cli.json")
# The CLI keys the schema by the provider's full address; tfplugindocs wants
# the short name.
(cd "$root/tools/docs" && go run ./schemakey -name faceki) <"$work/schema.cli.json" >"$work/schema.json"

cd "$root"
echo "==> tfplugindocs generate"
"$tfplugindocs" generate --provider-dir "$root" --providers-schema "$work/schema.json" \
  --provider-name faceki --rendered-provider-name FACEKI \
  --examples-dir examples --website-source-dir templates --rendered-website-dir docs
echo "==> tfplugindocs validate"
# validate logs every file it looks at at DEBUG level; keep the rest.
"$tfplugindocs" validate --provider-dir "$root" --providers-schema "$work/schema.json" --provider-name faceki 2>&1 |
  { grep -v '\[DEBUG\]' || true; }
