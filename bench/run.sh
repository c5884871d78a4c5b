#!/usr/bin/env bash
# Graft's benchmarks, one command: builds graft-cli and the bench executables (-j2), generates
# the workloads (bench/make_workloads.py; ~2 GB on disk, a 5 GiB sparse file, ~1 min the first
# time) and runs Graft and the baselines side by side (bench/run.py), then writes
# docs/benchmarks.md. Needs what scripts/setup.sh installs (Debian's python3 with torch,
# torchvision and numpy), and GNU time (/usr/bin/time, Debian package `time`) for exact peak
# RSS figures: without it they come from wait4() and never read below the harness's own size.
#
#   bench/run.sh                 full run, 5 timed runs per command (~10 min)
#   bench/run.sh --smoke         tiny workloads, 1 run each, into build/bench/smoke (< 60 s)
#   bench/run.sh --reps 9 --work /big/disk/graft-bench --only W1,W2 [--cold] [--skip-python-diff]
#                                (--only updates just those workloads in docs/benchmarks.md)
#
# BUILD_DIR (default ./build) selects the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  echo "bench: no build in $build: run ./scripts/build.sh first (or set BUILD_DIR)" >&2
  exit 2
fi
if [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import torch, torchvision, numpy' 2>/dev/null; then
  echo "bench: /usr/bin/python3 with torch, torchvision and numpy is needed: run ./scripts/setup.sh" >&2
  exit 2
fi
if grep -q '^GRAFT_BUILD_BENCH:BOOL=OFF' "$build/CMakeCache.txt"; then
  cmake "$build" -DGRAFT_BUILD_BENCH=ON >/dev/null
fi
if [ ! -x /usr/bin/time ]; then
  echo "bench: warning: /usr/bin/time (Debian package 'time') is missing: peak RSS figures will be inflated" >&2
fi
cmake --build "$build" -j2 --target graft-cli bench_automatch bench_gui
exec /usr/bin/python3 bench/run.py --build "$build" "$@" "bench/run.sh $*"
