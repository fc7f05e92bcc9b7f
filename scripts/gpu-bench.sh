#!/usr/bin/env bash
# GPU benchmark of the wall (issue "Frames on time", GPU part): a dense autoplayed round drawn at
# 7680x3840 on an NVIDIA GPU for 60 s; prints frames per second, the frame time's p99 and ticks per
# second, measured from the show's own /status and /metrics (--control).
#
#   scripts/gpu-bench.sh [SECONDS] [WxH]        (defaults: 60 7680x3840)
#
# Needs: an NVIDIA GPU with its driver (nvidia-smi), glxinfo (mesa-utils), curl, and either Xorg
# with nvidia-xconfig (a real X server on the GPU: preferred) or Xvfb with the NVIDIA GLX vendor
# library (__GLX_VENDOR_LIBRARY_NAME=nvidia, for containers without Xorg). It checks that OpenGL
# really runs on the NVIDIA renderer before it measures: a number from llvmpipe (software) would
# mean nothing, so it stops with exit 2 instead. Set TAPWALL_GPU_DISPLAY=xorg or xvfb to force one.
# It writes its logs to ${TMPDIR:-/tmp}/tapwall-gpu-bench.*/ and keeps them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
size=${2:-7680x3840}
warmup=5
work=$(mktemp -d "${TMPDIR:-/tmp}/tapwall-gpu-bench.XXXXXX")
say() { echo "gpu-bench: $*" >&2; }
die() { say "$*"; say "logs in $work"; exit 2; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

command -v nvidia-smi >/dev/null || die "nvidia-smi not found: this script measures the wall on an NVIDIA GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$work/gpu.txt" 2>&1 ||
  die "nvidia-smi cannot talk to the driver: $(cat "$work/gpu.txt")"
say "GPU: $(head -1 "$work/gpu.txt")"
for tool in glxinfo curl; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian: apt-get install mesa-utils curl)"
done
[ -x bin/tapwall ] && [ -x bin/tapwall-wall ] || scripts/build.sh

# wait_x DISPLAY: until the X server answers (at most 20 s).
wait_x() {
  for _ in $(seq 1 100); do
    DISPLAY=$1 glxinfo -B >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# A display whose OpenGL is the NVIDIA driver's.
disp=:77
mode=${TAPWALL_GPU_DISPLAY:-}
start_xorg() {
  command -v Xorg >/dev/null && command -v nvidia-xconfig >/dev/null || return 1
  nvidia-xconfig --allow-empty-initial-configuration --use-display-device=None --virtual=7680x4320 \
    --output-xconfig="$work/xorg.conf" >"$work/nvidia-xconfig.log" 2>&1 || return 1
  Xorg "$disp" -config "$work/xorg.conf" -noreset -nolisten tcp -logfile "$work/Xorg.log" >"$work/Xorg.out" 2>&1 &
  pids+=($!)
  wait_x "$disp"
}
start_xvfb() {
  command -v Xvfb >/dev/null || return 1
  export __GLX_VENDOR_LIBRARY_NAME=nvidia
  Xvfb "$disp" -screen 0 7680x4320x24 -nolisten tcp >"$work/Xvfb.log" 2>&1 &
  pids+=($!)
  wait_x "$disp"
}
case "$mode" in
  xorg) start_xorg || die "Xorg on the NVIDIA driver did not start: see $work/Xorg.log" ;;
  xvfb) start_xvfb || die "Xvfb did not start: see $work/Xvfb.log" ;;
  "")
    if start_xorg; then mode=xorg
    else
      say "no Xorg on the NVIDIA driver (see $work); trying Xvfb with the NVIDIA GLX vendor library"
      cleanup; pids=()
      start_xvfb || die "neither Xorg (nvidia-xconfig) nor Xvfb gave a display"
      mode=xvfb
    fi ;;
  *) die "TAPWALL_GPU_DISPLAY=$mode: use xorg or xvfb" ;;
esac
export DISPLAY=$disp
DISPLAY=$disp glxinfo -B >"$work/glxinfo.txt" 2>&1 || die "glxinfo failed on $disp: $(cat "$work/glxinfo.txt")"
renderer=$(grep -i "OpenGL renderer string" "$work/glxinfo.txt" | cut -d: -f2- | sed 's/^ *//')
vendor=$(grep -i "OpenGL vendor string" "$work/glxinfo.txt" | cut -d: -f2- | sed 's/^ *//')
say "display $disp ($mode): OpenGL $vendor, $renderer"
if echo "$renderer $vendor" | grep -qi "llvmpipe\|softpipe\|swrast"; then
  die "OpenGL runs in software ($renderer), not on the GPU: nothing to measure. Check the NVIDIA driver's GLX library (libGLX_nvidia) and, for Xvfb, __GLX_VENDOR_LIBRARY_NAME=nvidia"
fi
echo "$renderer $vendor" | grep -qi nvidia || die "the OpenGL renderer is \"$renderer\" by \"$vendor\", not NVIDIA"

# The dense round: 8 lanes, a target every 100 ms living 3 s (30 on the wall), the built-in
# players in every lane, and a round longer than the measurement.
cat >"$work/dense.toml" <<EOF
[round]
game = "targets"
seconds = $((secs + warmup + 30))
countdown_seconds = 0
[targets]
spawn_every_ms = 100
lifetime_ms = 3000
radius_mm = 110
[autoplay]
reaction_ms = 200
miss_percent = 20
[render]
min_fps = 55
EOF
for i in 0 1 2 3 4 5 6 7; do
  printf '[[lanes]]\nname = "LANE %d"\nx_mm = %d\ny_mm = 0\nwidth_mm = 1000\nheight_mm = 4000\n' $((i + 1)) $((i * 1000)) >>"$work/dense.toml"
done
echo '{"tick":0,"action":"start"}' >"$work/start.jsonl"
bin/tapwall config --check "$work/dense.toml" >/dev/null

bin/tapwall run -h >"$work/run-help.txt" 2>&1 || true
grep -q -- "-control" "$work/run-help.txt" ||
  die "this tapwall run has no --control flag (the show's /status and /metrics): build a tapwall with the control server"
port=$((20000 + RANDOM % 20000))
ticks=$(((secs + warmup + 20) * 60))
bin/tapwall run --config "$work/dense.toml" --inputs "$work/start.jsonl" --autoplay --window "$size" \
  --touch=false --journal-dir "" --control "127.0.0.1:$port" --exit-after-ticks "$ticks" \
  --log-format json >"$work/wall.log" 2>&1 &
wall=$!
pids+=("$wall")
base="http://127.0.0.1:$port"
for _ in $(seq 1 150); do
  curl -fsS "$base/status" >/dev/null 2>&1 && break
  kill -0 "$wall" 2>/dev/null || die "the wall exited before its control server answered: $(tail -5 "$work/wall.log")"
  sleep 0.2
done
curl -fsS "$base/status" >/dev/null || die "no answer from $base/status"
say "wall running at $size; warming up ${warmup}s, then measuring ${secs}s"
sleep "$warmup"

# metric NAME FILE: the value of an unlabelled Prometheus metric.
metric() { awk -v n="$1" '$1 == n {print $2}' "$2"; }
curl -fsS "$base/metrics" >"$work/metrics.0"
t0=$(date +%s.%N)
: >"$work/status.jsonl"
for _ in $(seq 1 "$secs"); do
  sleep 1
  kill -0 "$wall" 2>/dev/null || die "the wall exited during the measurement: $(tail -5 "$work/wall.log")"
  curl -fsS "$base/status" >>"$work/status.jsonl" && echo >>"$work/status.jsonl"
done
curl -fsS "$base/metrics" >"$work/metrics.1"
t1=$(date +%s.%N)

read -r fps tps frames < <(awk -v t0="$t0" -v t1="$t1" '
  FNR == NR { if ($1 == "tapwall_frame_seconds_count") f0 = $2; if ($1 == "tapwall_ticks_total") k0 = $2; next }
  $1 == "tapwall_frame_seconds_count" { f1 = $2 }
  $1 == "tapwall_ticks_total" { k1 = $2 }
  END { dt = t1 - t0; printf "%.1f %.1f %d\n", (f1 - f0) / dt, (k1 - k0) / dt, f1 - f0 }' "$work/metrics.0" "$work/metrics.1")
# p99 of the frame time from the histogram's buckets over the window: the smallest bucket bound
# that 99 % of the frames stayed under (buckets 4, 8, 16.7, 25, 33, 50, 100, 200, 500 ms, 1 s, 2 s).
p99=$(awk -v total="$frames" '
  function le(line) { match(line, /le="[^"]*"/); return substr(line, RSTART + 4, RLENGTH - 5) }
  FNR == NR { if ($1 ~ /^tapwall_frame_seconds_bucket/) before[le($0)] = $2; next }
  $1 ~ /^tapwall_frame_seconds_bucket/ && best == "" { b = le($0); if ($2 - before[b] >= 0.99 * total) best = b }
  END { if (best == "" || best == "+Inf") print "over 2 s"; else printf "%.1f ms", best * 1000 }' "$work/metrics.0" "$work/metrics.1")
scales=$(grep -o '"render_scale":[0-9.]*' "$work/status.jsonl" | cut -d: -f2 | sort -u | tr '\n' ' ')
minfps=$(grep -o '"fps":[0-9.]*' "$work/status.jsonl" | cut -d: -f2 | sort -n | head -1)
lag=$(grep -o '"lag_ticks":[0-9-]*' "$work/status.jsonl" | cut -d: -f2 | sort -n | tail -1)

echo
echo "tapwall GPU bench: $size, 8 lanes, 30 targets a lane, autoplay, ${secs} s"
echo "  GPU            $(head -1 "$work/gpu.txt")"
echo "  OpenGL         $renderer ($mode)"
echo "  FPS            $fps over $frames frames (lowest 1-s reading ${minfps:-?})"
echo "  frame time p99 <= $p99"
echo "  TPS            $tps (tick rate 60; worst loop lag ${lag:-?} ticks)"
echo "  render scale   ${scales:-?}"
echo "  logs           $work"
