#!/usr/bin/env bash
# `make examples-validate`: runs `init` and `validate` on every example
# configuration under examples/ with this provider built from source (a
# filesystem mirror, so faceki/faceki need not be published).
#
#   tools/docs/validate-examples.sh         offline: only the examples that
#                                           need no other provider than faceki
#   tools/docs/validate-examples.sh --all   every example; the third-party
#                                           providers come from the registry
#
# The CLI is $EXAMPLES_CLI, default bin/tofu (built by `make tofu`).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cli=${EXAMPLES_CLI:-$root/bin/tofu}
all=false
[ "${1:-}" = "--all" ] && all=true
[ -x "$cli" ] || cli=$(command -v "$cli" || true)
[ -n "$cli" ] || { echo "no CLI: run 'make tofu' or set EXAMPLES_CLI" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A filesystem mirror rather than dev_overrides: `init` (needed for modules
# and third-party providers) then installs faceki/faceki from it instead of
# looking for it in a registry.
platform=$(go env GOOS)_$(go env GOARCH)
for host in registry.terraform.io registry.opentofu.org; do
  dir=$work/mirror/$host/faceki/faceki/0.0.1/$platform
  mkdir -p "$dir"
  if [ "$host" = registry.terraform.io ]; then
    (cd "$root" && go build -o "$dir/terraform-provider-faceki_v0.0.1" .)
  else
    cp "$work/mirror/registry.terraform.io/faceki/faceki/0.0.1/$platform/terraform-provider-faceki_v0.0.1" "$dir/"
  fi
done
cat >"$work/cli.tfrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$work/mirror"
    include = ["registry.terraform.io/faceki/faceki", "registry.opentofu.org/faceki/faceki"]
  }
  direct {
    exclude = ["registry.terraform.io/faceki/faceki", "registry.opentofu.org/faceki/faceki"]
  }
}
RC
export TF_CLI_CONFIG_FILE=$work/cli.tfrc CHECKPOINT_DISABLE=1
unset TF_LOG TF_LOG_PROVIDER TF_LOG_PATH

# Example roots: directories with .tf files, except child modules (under a
# modules/ directory) and examples/demo (run by `make demo`).
mapfile -t dirs < <(cd "$root" && find examples -name '*.tf' -not -path '*/modules/*' -not -path 'examples/demo/*' \
  -exec dirname {} \; | sort -u)
echo "==> $("$cli" version | sed -n 1p)"
failed=0 checked=0 skipped=0
for dir in "${dirs[@]}"; do
  # Providers other than faceki and the built-in terraform_data need a registry.
  others=$(grep -rhoE 'source *= *"[A-Za-z0-9_-]+/[A-Za-z0-9_-]+"' "$root/$dir" | grep -v '"faceki/faceki"' || true)
  if [ -n "$others" ] && ! $all; then
    echo "--- $dir: skipped offline (needs $(echo "$others" | sed -E 's/.*"(.*)"/\1/' | sort -u | paste -sd, -))"
    skipped=$((skipped + 1))
    continue
  fi
  copy=$work/cfg/$dir
  mkdir -p "$copy"
  cp -R "$root/$dir/." "$copy/"
  # Snippets written for the docs (examples/provider, examples/ephemeral-
  # resources) may leave out the terraform block; without it the CLI would
  # look for hashicorp/faceki.
  if ! grep -rqE 'source *= *"faceki/faceki"' "$copy"; then
    printf 'terraform {\n  required_providers {\n    faceki = {\n      source = "faceki/faceki"\n    }\n  }\n}\n' >"$copy/zz_faceki_source.tf"
  fi
  if (cd "$copy" && "$cli" init -backend=false -input=false -no-color >"$work/init.log" 2>&1 &&
    "$cli" validate -no-color >"$work/validate.log" 2>&1); then
    echo "--- $dir: valid"
    checked=$((checked + 1))
  else
    echo "--- $dir: INVALID"
    cat "$work/init.log" "$work/validate.log" 2>/dev/null | grep -v -e '^ *$' | tail -n 40
    failed=$((failed + 1))
  fi
  rm -f "$work/init.log" "$work/validate.log"
done
echo "==> examples: $checked valid, $failed invalid, $skipped skipped"
[ "$failed" -eq 0 ]
