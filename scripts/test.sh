#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet, the pure packages with CGO_ENABLED=0, the
# window under Xvfb, bounded fuzzing and one pass of every benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== gofmt and go vet"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt needed on: $bad" >&2; exit 1; fi
go vet ./...

echo "== pure packages and the headless CLI (CGO_ENABLED=0)"
CGO_ENABLED=0 go test -count=1 ./game/... ./input/... ./netsync/... ./cmd/tapwall/... ./cmd/scorehub/...

echo "== window and render tests (Xvfb)"
xvfb-run -a go test -count=1 ./render/... ./cmd/tapwall-wall/...

echo "== fuzz targets, bounded"
for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' -r --include='*_test.go' . | sed 's/func //' | sort -u); do
  pkg=$(dirname "$(grep -rl --include='*_test.go' "^func $target(" . | head -1)")
  CGO_ENABLED=0 go test -run '^$' -fuzz "^$target\$" -fuzztime 10s "$pkg"
done

echo "== benchmarks, one pass each (figures: go test -bench . -benchmem ./game/ ./input/ ./netsync/)"
CGO_ENABLED=0 go test -run '^$' -bench . -benchtime 1x ./game/... ./input/... ./netsync/...
