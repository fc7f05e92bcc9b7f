#!/usr/bin/env bash
# Writes screenshots of scorehub's broadcast overlay (overlay.png, transparent background) and
# director's page (director.png) into OUTDIR: starts a scorehub on a free loopback port with an
# empty store, feeds it two walls (cmd/scorehub/internal/pageshots) and shoots the pages in headless
# Chromium. scripts/screenshots.sh calls it.
# Usage: scripts/screenshots-pages.sh OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/screenshots-pages.sh OUTDIR}
mkdir -p "$out"
tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$tmp/scorehub" ./cmd/scorehub
"$tmp/scorehub" --listen 127.0.0.1:0 --db "$tmp/scores.db" 2>"$tmp/log" &
pid=$!
addr=
for _ in $(seq 100); do
  addr=$(grep -o '"listen":"[^"]*"' "$tmp/log" | head -1 | cut -d'"' -f4 || true)
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$addr" ] || { echo "scorehub did not start:" >&2; cat "$tmp/log" >&2; exit 1; }
CGO_ENABLED=0 go run ./cmd/scorehub/internal/pageshots --server "http://$addr" --out "$out"
