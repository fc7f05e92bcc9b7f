#!/usr/bin/env bash
# Fuzzes every Fuzz target for DURATION each (default 60s), one after the other; the test suite runs
# it for 10s. An input that fails is written to testdata/fuzz: fix the bug and commit the input, and
# `go test` replays it on every run from then on.
# Usage: scripts/fuzz.sh [DURATION]    e.g. scripts/fuzz.sh 10m
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-60s}
for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' -r --include='*_test.go' . | sed 's/func //' | sort -u); do
  pkg=$(dirname "$(grep -rl --include='*_test.go' "^func $target(" . | head -1)")
  echo "== $target in $pkg for $duration"
  CGO_ENABLED=0 go test -run '^$' -fuzz "^$target\$" -fuzztime "$duration" "$pkg"
done
