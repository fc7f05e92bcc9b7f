#!/usr/bin/env bash
# Builds bin/tapwall (headless, CGO_ENABLED=0) and bin/tapwall-wall (the window) side by side, and
# bin/scorehub (the reference scoring backend).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
CGO_ENABLED=0 go build -o bin/tapwall ./cmd/tapwall
go build -o bin/tapwall-wall ./cmd/tapwall-wall
CGO_ENABLED=0 go build -o bin/scorehub ./cmd/scorehub
