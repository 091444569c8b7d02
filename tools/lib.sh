# Sourced by tools/demo.sh and tools/examples-test.sh: what both do to run a
# CLI against the emulator with the provider built into bin/.

# emulator_url LOG waits up to 10 s for the emulator's first line in LOG and
# prints the base URL it names ("FACEKI emulator listening on URL").
emulator_url() {
  local url=
  for _ in $(seq 100); do
    url=$(sed -n 's/^FACEKI emulator listening on //p' "$1")
    [ -n "$url" ] && break
    sleep 0.1
  done
  printf '%s' "$url"
}

# faceki_mirror WORK BIN makes WORK/mirror a filesystem mirror that installs
# BIN/terraform-provider-faceki as faceki/faceki 0.0.1 under both registry
# host names, with no registry and no network, and WORK/cli.tfrc a CLI
# configuration that uses it for faceki alone.
faceki_mirror() {
  local work=$1 bin=$2 target host
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
}
