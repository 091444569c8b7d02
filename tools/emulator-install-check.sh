#!/usr/bin/env bash
# `make emulator-install-check`: tries the documented install line of the
# FACEKI emulator as a new user would, from a directory outside the
# repository, with a fresh module cache and GOBIN:
#
#   go install github.com/faceki/terraform-provider-faceki/internal/emulator/cmd/faceki-emulator@VERSION
#
# VERSION is a pseudo-version of this checkout (HEAD plus any uncommitted
# changes to tracked files; new files count once added), served from a
# module proxy directory (GOPROXY=file://…) that tools/modproxy writes as the
# Go module proxy would. Dependencies come from the Go module proxy. Then the
# installed command must show -help, hand out a token and stop on SIGTERM.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module=github.com/faceki/terraform-provider-faceki
command -v curl >/dev/null || { echo "this check needs curl: apt-get install -y curl" >&2; exit 1; }
work=$(mktemp -d)
cleanup() {
  [ -n "${emu_pid:-}" ] && kill "$emu_pid" 2>/dev/null
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# `git stash create` makes a commit of the work tree without touching it;
# it prints nothing when there is nothing uncommitted. (A fixed identity:
# a CI clone may have none configured.)
rev=$(GIT_AUTHOR_NAME=install-check GIT_AUTHOR_EMAIL=install-check@invalid \
  GIT_COMMITTER_NAME=install-check GIT_COMMITTER_EMAIL=install-check@invalid git -C "$root" stash create)
what="the work tree (uncommitted changes to tracked files included)"
[ -n "$rev" ] || { rev=HEAD; what="HEAD ($(git -C "$root" rev-parse --short HEAD))"; }
version=$(cd "$root/tools/modproxy" && go run . -repo "$root" -rev "$rev" -out "$work/proxy")
echo "==> module proxy in $work/proxy: $module@$version, from $what"

mkdir -p "$work/elsewhere"
cd "$work/elsewhere"
# The module cache's download directory is itself a module proxy: reading
# it first saves downloading dependencies this machine already has; the Go
# module proxy serves the rest. The module is not in the checksum database
# until it is published; its dependencies are checked against its go.sum.
export GOPROXY="file://$work/proxy,file://$(go env GOMODCACHE)/cache/download,https://proxy.golang.org"
export GONOSUMDB=$module GOMODCACHE=$work/modcache GOBIN=$work/gobin GOWORK=off
export GOFLAGS="${GOFLAGS:-} -modcacherw"
unset GOPATH GO111MODULE
for at in "$version" latest; do
  line="go install $module/internal/emulator/cmd/faceki-emulator@$at"
  echo "==> in $PWD (outside the repository): $line"
  rm -rf "$GOBIN"
  $line
  [ -x "$GOBIN/faceki-emulator" ] || { echo "FAIL: $line installed nothing in GOBIN" >&2; exit 1; }
done
emu=$GOBIN/faceki-emulator
echo "==> installed $emu"

"$emu" -help >help.txt 2>&1 || { cat help.txt; echo "FAIL: faceki-emulator -help exited non-zero" >&2; exit 1; }
for want in "-listen address" "-fault NAME" "-rules FILE" "-expires-in" "-latency" "Faults (-fault NAME):" "  hang "; do
  grep -qF -- "$want" help.txt || { cat help.txt; echo "FAIL: -help does not mention '$want'" >&2; exit 1; }
done
echo "==> faceki-emulator -help lists the flags and $(sed -n '/^Faults/,$p' help.txt | grep -c '^  ') faults"

# Credentials from the environment, as the provider reads them.
export FACEKI_CLIENT_ID=install-check-id FACEKI_CLIENT_SECRET=install-check-secret
"$emu" -listen 127.0.0.1:0 -fault 503 >emu.out 2>emu.log &
emu_pid=$!
url=
for _ in $(seq 100); do
  url=$(sed -n 's/^FACEKI emulator listening on //p' emu.out)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat emu.out emu.log; echo "FAIL: no 'FACEKI emulator listening on' line" >&2; exit 1; }
token_status() {
  curl -sS -o token.json -w '%{http_code}' --get "$url/auth/api/access-token" \
    --data-urlencode "clientId=$FACEKI_CLIENT_ID" --data-urlencode "clientSecret=$FACEKI_CLIENT_SECRET"
}
first=$(token_status)
second=$(token_status)
grep -q '"access_token":"ey' token.json || second="$second without a token"
[ "$first $second" = "503 200" ] || { echo "FAIL: token requests answered $first, then $second; want 503 (-fault 503), then 200" >&2; exit 1; }
kill -TERM "$emu_pid"
rc=0
wait "$emu_pid" || rc=$?
emu_pid=
[ "$rc" -eq 0 ] || { echo "FAIL: faceki-emulator exited $rc on SIGTERM, want 0" >&2; exit 1; }
grep -q 'stopped by terminated after 2 token requests' < <(tail -n1 emu.log) || { cat emu.log; echo "FAIL: no last log line" >&2; exit 1; }
echo "==> it listened on $url, answered 503 then a token, and stopped on SIGTERM with exit code 0:"
sed 's/^/    /' emu.log
echo "emulator install check: ok"
