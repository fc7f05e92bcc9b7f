#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet, the pure packages with CGO_ENABLED=0, the
# race detector on the concurrent ones, the window under Xvfb, bounded fuzzing (10 s a target;
# TAPWALL_FUZZTIME changes it) and one pass of every benchmark. The ordinary tests also replay every
# fuzz seed and the committed testdata/fuzz inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== gofmt and go vet"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt needed on: $bad" >&2; exit 1; fi
go vet ./...

# Every package must be in one of these lists (checked below): the pure ones build without cgo, the
# window needs X.
pure="./assets/... ./game/... ./input/... ./netsync/... ./internal/... ./cmd/internal/... ./cmd/tapwall/... ./cmd/scorehub/..."
window="./render/... ./cmd/tapwall-wall/..."
missing=$(comm -23 <(go list ./... | sort) <(go list $pure $window | sort))
if [ -n "$missing" ]; then echo "packages in no test list of scripts/test.sh: $missing" >&2; exit 1; fi

echo "== pure packages and the headless CLI (CGO_ENABLED=0)"
CGO_ENABLED=0 go test -count=1 $pure

echo "== the race detector on the concurrent packages (needs cgo)"
go test -race -count=1 ./game/... ./input/... ./netsync/... ./cmd/internal/...

echo "== window and render tests (Xvfb)"
xvfb-run -a go test -count=1 $window

echo "== fuzz targets, bounded"
scripts/fuzz.sh "${TAPWALL_FUZZTIME:-10s}"

echo "== benchmarks, one pass each (figures: go test -bench . -benchmem ./game/ ./input/ ./netsync/ ./cmd/internal/showrun/)"
CGO_ENABLED=0 go test -run '^$' -bench . -benchtime 1x ./game/... ./input/... ./netsync/... ./cmd/internal/showrun/...
