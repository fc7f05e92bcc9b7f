#!/usr/bin/env bash
# The demo show: four lanes of the targets game, the mouse standing in for a touch (touch frames are
# not read: --touch=false). SPACE starts a round, P pauses, F1 shows the operator HUD and the keys,
# Q then Y quits; 1..4 then T puts a lane in keyboard mode. Extra arguments go to `tapwall run`.
# With no display (a server, a container) it plays 10 s under Xvfb and writes demo.png instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
if [ -n "${DISPLAY:-}" ]; then
  exec bin/tapwall run --log-format console --touch=false "$@"
fi
echo "demo: no DISPLAY; playing a scripted round under xvfb-run and writing demo.png" >&2
xvfb-run -a bin/tapwall run --log-format console --touch=false --inputs scripts/demo-inputs.jsonl \
  --exit-after-ticks 600 --screenshot demo.png "$@"
echo "demo: wrote $(pwd)/demo.png" >&2
