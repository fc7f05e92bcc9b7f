#!/usr/bin/env bash
# The demo show: four lanes of the targets game played by the built-in players (--autoplay), the
# mouse standing in for one more touch (touch frames are not read: --touch=false). The wall opens on
# the attract screen; SPACE starts a round (3-2-1-GO, hits, bursts, the last ten seconds, results),
# G picks the next game (rain: red envelopes and golden ones), P pauses, F1 shows the operator HUD
# and the keys, Q then Y quits; 1..4 then T puts a lane in keyboard mode. Extra arguments go to
# `tapwall run`. With no display (a server, a container) it plays a round under Xvfb and writes
# demo.png instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
if [ -n "${DISPLAY:-}" ]; then
  exec bin/tapwall run --log-format console --touch=false --autoplay "$@"
fi
echo "demo: no DISPLAY; playing an autoplayed round under xvfb-run and writing demo.png" >&2
xvfb-run -a -s "-screen 0 1920x1080x24" bin/tapwall run --log-format console --touch=false --autoplay \
  --inputs scripts/demo-inputs.jsonl --exit-after-ticks 900 --screenshot demo.png --window 1280x640 "$@"
echo "demo: wrote $(pwd)/demo.png" >&2
