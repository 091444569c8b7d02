#!/usr/bin/env bash
# `make release-verify`: the release as users will meet it on day one, offline.
#
#  1. A throwaway RSA 4096 signing key (the type both registries accept), made
#     with gpg in a temporary GNUPGHOME and deleted at the end. Never commit it.
#  2. A signed release: GoReleaser with .goreleaser.yml, as the Release
#     workflow runs it (`release --clean`, publishing skipped), on a tag
#     v$RELEASE_VERIFY_VERSION in a clone of this checkout: every archive,
#     SHA256SUMS with the registry manifest, and its detached signature.
#  3. Reproducible: a second clone in another directory, with an empty Go
#     build cache, builds $RELEASE_VERIFY_REPRO_TARGETS the same way; their
#     lines of SHA256SUMS must be byte-identical to the first build's.
#  4. The registry protocol, served on loopback by tools/testregistry
#     (test-only): a CLI-configuration `host` block for registry.opentofu.org
#     and registry.terraform.io points provider discovery at it, so that
#     `source = "faceki/faceki"` resolves unchanged.
#  5. On the pinned OpenTofu (with OPENTOFU_ENFORCE_GPG_VALIDATION=true) and
#     on the machine's terraform, each in a fresh directory: `init` installs
#     faceki from that registry and names the signing key; examples/demo
#     applies against the emulator; `providers lock` for every released
#     platform; the lock file's hashes are the release's, one h1: and one zh:
#     per platform (tools/testregistry lockcheck).
#  6. Broken releases each fail `init` with the CLI's own error: a zip
#     changed after signing, SHA256SUMS signed by another key, no signature,
#     and (showing that OpenTofu's check is enforced) no key published.
#
# RELEASE_VERIFY_VERSION (default 0.1.0), RELEASE_VERIFY_TERRAFORM (default:
# terraform on PATH; none skips that leg, saying so), RELEASE_VERIFY_REPRO_TARGETS
# (GoReleaser targets, default "linux_amd64_v1 darwin_arm64_v8.0").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
version=${RELEASE_VERIFY_VERSION:-0.1.0}
repro_targets=${RELEASE_VERIFY_REPRO_TARGETS:-linux_amd64_v1 darwin_arm64_v8.0}
terraform=${RELEASE_VERIFY_TERRAFORM-$(command -v terraform || true)}
project=terraform-provider-faceki
for tool in "$bin/goreleaser" "$bin/tofu" "$bin/faceki-emulator" "$bin/testregistry"; do
  [ -x "$tool" ] || { echo "release-verify: $tool is missing: run it through 'make release-verify'" >&2; exit 1; }
done
for cmd in gpg gpgconf git curl; do
  command -v "$cmd" >/dev/null || { echo "release-verify: needs $cmd (apt-get install gpg gpg-agent git curl)" >&2; exit 1; }
done

started=$SECONDS
phase_start=$SECONDS
phase() {
  printf '\n=== release-verify: %s (%ss so far)\n' "$1" "$((SECONDS - started))"
  phase_start=$SECONDS
}
took() { echo "    ($((SECONDS - phase_start)) s)"; }
fail() {
  echo "release-verify: FAIL: $*" >&2
  exit 1
}
# listening_on FILE PREFIX: the address a server started in the background
# writes to FILE after PREFIX, once it has (10 s at the most).
listening_on() {
  for _ in $(seq 100); do
    sed -n "s/^$2//p" "$1" | grep . && return
    sleep 0.1
  done
  return 1
}

# A short path: gpg-agent's socket lives in GNUPGHOME.
work=$(mktemp -d /tmp/release-verify.XXXXXX)
export GNUPGHOME=$work/gnupg
registry_pid='' emulator_pid=''
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
  [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null
  gpgconf --kill gpg-agent 2>/dev/null || true
  if [ -n "${RELEASE_VERIFY_KEEP:-}" ]; then echo "release-verify: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
export CHECKPOINT_DISABLE=1
# Every CLI command below names its own configuration; this one (empty) is
# for the rest, so that a TF_CLI_CONFIG_FILE naming a missing file adds no
# warning.
export TF_CLI_CONFIG_FILE=$root/tools/cli.tfrc
unset TF_LOG TF_LOG_PATH TF_LOG_PROVIDER TF_PLUGIN_CACHE_DIR TF_CLI_ARGS TF_DATA_DIR
# OpenTofu skips the signature check for its default registry host when the
# registry publishes no key, unless this is set: the check here overrides
# that host, so it enforces it. Terraform always checks and ignores it.
export OPENTOFU_ENFORCE_GPG_VALIDATION=true

# --- 1. Keys ---------------------------------------------------------------
phase "a throwaway RSA 4096 signing key in $GNUPGHOME, and another key that the registry does not publish"
mkdir -m 700 "$GNUPGHOME"
genkey() { # NAME EMAIL
  gpg --batch --quiet --gen-key 2>/dev/null <<EOF
Key-Type: RSA
Key-Length: 4096
Key-Usage: sign
Name-Real: $1
Name-Email: $2
Expire-Date: 1d
%no-protection
%commit
EOF
  gpg --batch --with-colons --list-keys "$2" 2>/dev/null | awk -F: '$1 == "fpr" { print $10; exit }'
}
fpr=$(genkey "faceki release-verify (throwaway, never published)" release-verify@faceki.invalid)
other_fpr=$(genkey "another key (release-verify)" other-key@faceki.invalid)
key_id=${fpr: -16}
[ ${#fpr} -eq 40 ] && [ ${#other_fpr} -eq 40 ] || fail "gpg made no key"
gpg --batch --armor --export "$fpr" >"$work/release-key.asc"
echo "    signing key $fpr (key ID $key_id), RSA 4096, expires in a day; other key ${other_fpr: -16}"
took

# --- 2. The signed release ---------------------------------------------------
phase "GoReleaser release (signed, publishing skipped) of v$version in a clone, from .goreleaser.yml"
# The checkout as a commit: HEAD plus uncommitted changes to tracked files.
rev=$(git -C "$root" stash create)
rev=${rev:-$(git -C "$root" rev-parse HEAD)}
git init -q --bare "$work/repo.git"
git -C "$root" push -q "$work/repo.git" "$rev:refs/heads/main"
clone() { # DIR
  git clone -q --branch main "$work/repo.git" "$1"
  git -C "$1" -c user.name=release-verify -c user.email=release-verify@faceki.invalid tag -a "v$version" -m "release-verify"
}
src_a=$work/a/$project
clone "$src_a"
(cd "$src_a" && GPG_FINGERPRINT=$fpr nice "$bin/goreleaser" release --clean --skip=publish >"$work/goreleaser-a.log" 2>&1) ||
  { tail -n 40 "$work/goreleaser-a.log"; fail "goreleaser release"; }
dist=$src_a/dist
sums=$dist/${project}_${version}_SHA256SUMS
[ -s "$sums" ] && [ -s "$sums.sig" ] || fail "no SHA256SUMS or no signature in dist/"
gpg --batch --verify "$sums.sig" "$sums" 2>"$work/gpg-verify.log" || { cat "$work/gpg-verify.log"; fail "gpg --verify"; }
head -c 1 "$sums.sig" | od -An -tx1 | grep -qv 2d || fail "the signature is ASCII-armored; the registries need a binary one"
mapfile -t platforms < <(sed -n "s/^[0-9a-f]\{64\}  ${project}_${version}_\([a-z0-9]*_[a-z0-9]*\)\.zip$/\1/p" "$sums" | sort)
[ ${#platforms[@]} -ge 10 ] || fail "SHA256SUMS lists ${#platforms[@]} platforms"
grep -q "  ${project}_${version}_manifest.json$" "$sums" || fail "SHA256SUMS does not list the registry manifest"
echo "    ${#platforms[@]} platforms: ${platforms[*]}"
echo "    SHA256SUMS signed by key ID $key_id (gpg --verify: good signature; binary, detached)"
took

# --- 3. Reproducible -------------------------------------------------------
phase "reproducible: a second clone in another directory, empty Go build cache, targets $repro_targets"
src_b=$work/b/elsewhere/$project
clone "$src_b"
targets=$(printf '"%s", ' $repro_targets)
# The same configuration with `targets` (which GoReleaser uses in place of
# goos/goarch/ignore) limiting the platforms; nothing else differs.
sed "s/^  - main: \.$/&\n    targets: [${targets%, }]/" "$src_b/.goreleaser.yml" >"$work/goreleaser-subset.yml"
grep -q '^    targets: \[' "$work/goreleaser-subset.yml" || fail "could not limit .goreleaser.yml to $repro_targets"
(cd "$src_b" && GOCACHE=$work/gocache-b nice "$bin/goreleaser" release --clean --skip=publish,sign \
  --config "$work/goreleaser-subset.yml" >"$work/goreleaser-b.log" 2>&1) ||
  { tail -n 40 "$work/goreleaser-b.log"; fail "goreleaser release (second build)"; }
sums_b=$src_b/dist/${project}_${version}_SHA256SUMS
n_b=$(grep -c '\.zip$' "$sums_b" || true)
[ "$n_b" -eq "$(wc -w <<<"$repro_targets")" ] || fail "the second build made $n_b zips, want one per target ($repro_targets)"
# Its SHA256SUMS, every line, must be the first build's lines for the same files.
grep -F -f <(awk '{ print "  " $2 }' "$sums_b") "$sums" >"$work/sums-a-subset"
cmp "$work/sums-a-subset" "$sums_b" || { diff "$work/sums-a-subset" "$sums_b" || true; fail "the builds differ"; }
echo "    byte-identical SHA256SUMS lines for $(awk '{ print $2 }' "$sums_b" | sed "s/^${project}_${version}_//" | paste -sd' ' -)"
took

# --- 4. The registry ---------------------------------------------------------
phase "the registry protocol on loopback (tools/testregistry, test-only): one good registry, four broken ones"
sites=$work/registry
for scenario in good tampered wrong-key no-signature no-key; do
  "$bin/testregistry" generate -dist "$dist" -manifest "$src_a/terraform-registry-manifest.json" \
    -out "$sites/$scenario" -key "$work/release-key.asc" -key-id "$key_id" \
    -prefix "/$scenario" $([ "$scenario" = no-key ] && echo -no-key) >"$work/generate-$scenario.log"
done
cat "$work/generate-good.log"
host_target=$(go env GOOS)_$(go env GOARCH)
"$bin/testregistry" tamper "$sites/tampered/files/$version/${project}_${version}_${host_target}.zip"
gpg --batch --yes --local-user "$other_fpr" --output "$sites/wrong-key/files/$version/${project}_${version}_SHA256SUMS.sig" \
  --detach-sign "$sites/wrong-key/files/$version/${project}_${version}_SHA256SUMS" 2>/dev/null
rm "$sites/no-signature/files/$version/${project}_${version}_SHA256SUMS.sig"
"$bin/testregistry" serve -dir "$sites" >"$work/registry.out" 2>"$work/registry.log" &
registry_pid=$!
registry=$(listening_on "$work/registry.out" 'testregistry listening on ') ||
  { cat "$work/registry.log"; fail "the registry did not start"; }
curl -fsS "$registry/good/v1/providers/faceki/faceki/versions" >/dev/null || fail "the versions endpoint does not answer"
echo "    $registry: /good/, /tampered/ (${host_target} zip changed), /wrong-key/ (SHA256SUMS signed by ${other_fpr: -16}),"
echo "    /no-signature/ (SHA256SUMS.sig missing), /no-key/ (no signing key published)"
for scenario in good tampered wrong-key no-signature no-key; do
  cat >"$work/$scenario.tfrc" <<EOF
# Provider discovery for both default registry hosts answers from the local
# registry; everything else is the CLI's default (direct installation).
host "registry.opentofu.org" {
  services = {
    "providers.v1" = "$registry/$scenario/v1/providers/"
  }
}
host "registry.terraform.io" {
  services = {
    "providers.v1" = "$registry/$scenario/v1/providers/"
  }
}
EOF
done
took

# The emulator for the demo's apply, with a secret that needs escaping.
export FACEKI_CLIENT_ID=release-verify-client FACEKI_CLIENT_SECRET='rv secret/+&=%"'
"$bin/faceki-emulator" -listen 127.0.0.1:0 >"$work/emulator.out" 2>"$work/emulator.log" &
emulator_pid=$!
FACEKI_BASE_URL=$(listening_on "$work/emulator.out" 'FACEKI emulator listening on ') ||
  { cat "$work/emulator.log"; fail "the emulator did not start"; }
export FACEKI_BASE_URL

# --- 5 and 6. Each CLI -------------------------------------------------------
lock_platforms=()
for p in "${platforms[@]}"; do lock_platforms+=("-platform=$p"); done
summary=()
verify_cli() { # NAME CLI HOST SIGNED_WORD
  local name=$1 cli=$2 host=$3 signed=$4 dir out line scenario want rc
  phase "$name: init from the registry, apply examples/demo, providers lock for ${#platforms[@]} platforms"
  dir=$work/use-$name
  mkdir -p "$dir"
  cp "$root/examples/demo/main.tf" "$dir/"
  (cd "$dir" && TF_CLI_CONFIG_FILE=$work/good.tfrc "$cli" init -input=false -no-color >init.log 2>&1) ||
    { cat "$dir/init.log"; fail "$name: init"; }
  line=$(grep -F -- "- Installed faceki/faceki v$version" "$dir/init.log" || true)
  [ "$line" = "- Installed faceki/faceki v$version ($signed, key ID $key_id)" ] ||
    { cat "$dir/init.log"; fail "$name: init did not report faceki v$version $signed with key ID $key_id"; }
  grep -q "GET /good/files/$version/${project}_${version}_${host_target}.zip -> 200" "$work/registry.log" ||
    fail "$name: the zip did not come from the registry"
  echo "    init: $line"
  (cd "$dir" && TF_CLI_CONFIG_FILE=$work/good.tfrc "$cli" apply -auto-approve -input=false -no-color >apply.log 2>&1) ||
    { cat "$dir/apply.log"; fail "$name: apply"; }
  grep -q '"livenessCheckType":"MODERATE"' "$dir/kyc-rules.json" || fail "$name: the demo's provisioner did not get the KYC rules"
  if grep -q -e 'eyJ' -e 'rv secret' "$dir/terraform.tfstate" "$dir/apply.log"; then fail "$name: a token or the secret in state or output"; fi
  echo "    apply: $(grep -o 'Apply complete! Resources: [0-9]* added' "$dir/apply.log"), the KYC rules read with the ephemeral token"
  (cd "$dir" && TF_CLI_CONFIG_FILE=$work/good.tfrc "$cli" providers lock -no-color "${lock_platforms[@]}" >lock.log 2>&1) ||
    { cat "$dir/lock.log"; fail "$name: providers lock"; }
  [ "$(grep -c -F -- "- Obtained faceki/faceki checksums for " "$dir/lock.log")" -eq ${#platforms[@]} ] ||
    { cat "$dir/lock.log"; fail "$name: providers lock did not obtain checksums for ${#platforms[@]} platforms"; }
  out=$("$bin/testregistry" lockcheck -dist "$dist" -lock "$dir/.terraform.lock.hcl" -provider "$host/faceki/faceki") ||
    { cat "$dir/.terraform.lock.hcl"; fail "$name: the lock file"; }
  echo "    $out"
  summary+=("$name: $line; $out")
  took

  phase "$name: broken releases, each refused by init"
  for scenario in tampered wrong-key no-signature no-key; do
    case $scenario in
    tampered) want="archive has incorrect checksum" ;;
    wrong-key) want="authentication signature from unknown issuer" ;;
    no-signature) want="failed to retrieve cryptographic signature for provider" ;;
    # A registry that publishes no key: Terraform always refuses; OpenTofu
    # refuses for its default host only with OPENTOFU_ENFORCE_GPG_VALIDATION.
    no-key) want="authentication signature from unknown issuer" ;;
    esac
    dir=$work/use-$name-$scenario
    mkdir -p "$dir"
    cp "$root/examples/demo/main.tf" "$dir/"
    rc=0
    (cd "$dir" && TF_CLI_CONFIG_FILE=$work/$scenario.tfrc "$cli" init -input=false -no-color >init.log 2>&1) || rc=$?
    [ "$rc" -ne 0 ] || { cat "$dir/init.log"; fail "$name: init accepted the $scenario release"; }
    # The CLI wraps its error at 80 columns: read it as one line.
    error=$(tr -s ' \n' '  ' <"$dir/init.log" | grep -o "Error while installing faceki/faceki v$version: [^│╵]*" | sed 's/ *$//' | cut -c1-300 || true)
    [[ $error == *"$want"* ]] || { cat "$dir/init.log"; fail "$name, $scenario: no \"$want\" in init's error"; }
    if [ -d "$dir/.terraform" ] && find "$dir/.terraform" -name "terraform-provider-faceki*" | grep -q .; then
      fail "$name, $scenario: the provider was installed anyway"
    fi
    echo "    $scenario: init exit $rc, \"$error\""
    summary+=("$name, $scenario: init exit $rc, \"$error\"")
  done
  took
}

verify_cli opentofu "$bin/tofu" registry.opentofu.org signed
if [ -n "$terraform" ]; then
  verify_cli terraform "$terraform" registry.terraform.io self-signed
else
  echo "release-verify: no terraform on PATH: the HashiCorp Terraform leg is skipped"
  summary+=("terraform: skipped (none on PATH)")
fi

printf '\n=== release-verify: passed in %s s\n' "$((SECONDS - started))"
echo "    $("$bin/tofu" version | sed -n 1p)${terraform:+, $("$terraform" version | sed -n 1p)}"
printf '    %s\n' "${summary[@]}"
