#!/usr/bin/env bash
# The hot-standby drill that is too heavy for CI: KILLS primary/standby pairs (default 20), each
# primary SIGKILLed at a random tick, and the promotion time (kill to the standby's /status saying
# "primary") reported as p50/p99/max; then the follow benchmarks (follower lag, score-to-ack
# latency with and without a standby). Usage: scripts/failover-drill.sh [KILLS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
kills=${1:-20}
echo "== failover drill: $kills kills" >&2
TAPWALL_DRILL_KILLS=$kills xvfb-run -a go test -count=1 -run '^TestFailoverDrill$' -timeout 60m -v ./cmd/tapwall-wall/ | grep -E 'promot|^(ok|FAIL|---)'
echo "== follow benchmarks" >&2
CGO_ENABLED=0 go test -run '^$' -bench 'FollowerLag|ScoreAckLatency' -benchtime 1000x ./cmd/internal/showrun/
