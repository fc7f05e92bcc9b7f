#!/usr/bin/env bash
# Writes the wall's screenshots to docs/screenshots/ (or OUTDIR): every look of the show at
# 1920x960, each from a scripted run of `tapwall run --exit-after-ticks N --screenshot F`, so they
# are the same on every rerun. Then the scorehub pages (overlay.png, director.png) through
# scripts/screenshots-pages.sh when it exists. Needs an X display or xvfb-run (scripts/setup.sh).
# The show runs on its real clock, so it takes about a minute and a half; TAPWALL_NO_BUILD=1 uses
# the binaries already in bin/.
#
#   scripts/screenshots.sh [OUTDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
mkdir -p "$out"
[ -n "${TAPWALL_NO_BUILD:-}" ] || scripts/build.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

x=()
if [ -z "${DISPLAY:-}" ]; then
  x=(xvfb-run -a -s "-screen 0 1920x1080x24")
fi

# shot NAME CONFIG INPUTS TICKS [FLAGS...]: the frame after TICKS ticks of the show.
shot() {
  local name=$1 cfg=$2 inputs=$3 ticks=$4
  shift 4
  "${x[@]}" bin/tapwall run --config "$cfg" --inputs "$inputs" --exit-after-ticks "$ticks" \
    --screenshot "$out/$name.png" --window 1920x960 --journal-dir "" --touch=false --control "" \
    --log-level error "$@" 2>"$tmp/$name.log" || { cat "$tmp/$name.log" >&2; exit 1; }
  echo "screenshots: $out/$name.png"
}

cat >"$tmp/show.toml" <<'TOML'
[show]
title = "TAPWALL"
[[lanes]]
name = "ANNA"
x_mm = 0
y_mm = 0
width_mm = 2000
height_mm = 4000
[[lanes]]
name = "BEN"
x_mm = 2000
y_mm = 0
width_mm = 2000
height_mm = 4000
[[lanes]]
name = "CHLOÉ"
x_mm = 4000
y_mm = 0
width_mm = 2000
height_mm = 4000
[[lanes]]
name = "DMITRI"
x_mm = 6000
y_mm = 0
width_mm = 2000
height_mm = 4000
TOML
sed 's/^\[show\]/[round]\ngame = "rain"\n[show]/' "$tmp/show.toml" >"$tmp/rain.toml"
sed 's/^\[show\]/[round]\nseconds = 20\n[show]/' "$tmp/show.toml" >"$tmp/short.toml"
sed 's/^\[show\]/[round]\nseconds = 5\n[show]/' "$tmp/show.toml" >"$tmp/results.toml"

: >"$tmp/none.jsonl"
echo '{"tick":0,"action":"start"}' >"$tmp/start.jsonl"
# Results: a five-second round; the operator's adjustments leave ANNA and CHLOÉ tied for the win.
cat >"$tmp/results.jsonl" <<'JSONL'
{"tick":0,"action":"start"}
{"tick":200,"action":"adjust","lane":0,"delta":420}
{"tick":200,"action":"adjust","lane":1,"delta":275}
{"tick":200,"action":"adjust","lane":2,"delta":420}
{"tick":200,"action":"adjust","lane":3,"delta":310}
JSONL

shot attract "$tmp/show.toml" "$tmp/none.jsonl" 420
shot countdown "$tmp/show.toml" "$tmp/start.jsonl" 84
shot round "$tmp/show.toml" "$tmp/start.jsonl" 1111 --autoplay
shot rain "$tmp/rain.toml" "$tmp/start.jsonl" 1071 --autoplay
shot last10 "$tmp/short.toml" "$tmp/start.jsonl" 960 --autoplay
shot results "$tmp/results.toml" "$tmp/results.jsonl" 620

if [ -x scripts/screenshots-pages.sh ]; then
  scripts/screenshots-pages.sh "$out"
else
  echo "screenshots: scripts/screenshots-pages.sh not found: overlay.png and director.png skipped" >&2
fi
