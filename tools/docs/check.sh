#!/usr/bin/env bash
# `make docs-check`, after `make docs` has regenerated docs/: fails when the
# committed docs/ differs from the generated one, or when new files appeared.
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0
if ! git diff --exit-code --stat -- docs/; then
  git diff -- docs/ | sed -n 1,200p # all of it read: no SIGPIPE under pipefail
  status=1
fi
untracked=$(git ls-files --others --exclude-standard -- docs/)
if [ -n "$untracked" ]; then
  echo "untracked files in docs/:"
  echo "$untracked"
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "docs/ is stale: run 'make docs' and commit the result." >&2
  exit 1
fi
echo "docs/ is up to date."
