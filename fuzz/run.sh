#!/usr/bin/env bash
# Builds (if needed) and runs one libFuzzer harness for SECONDS, in-process, niced; prints the
# executions and exec/s libFuzzer reports at the end. Crashes are saved in
# build-fuzz/artifacts/HARNESS/.
#   fuzz/run.sh HARNESS SECONDS [extra libFuzzer flags]
#   fuzz/run.sh eqx 10800 -runs=3000000     # stop after a number of executions instead
# Environment: JOBS (build parallelism, default 1), FUZZ_BUILD_DIR (default build-fuzz),
# FUZZ_LOG_NAME (default HARNESS: the log is build-fuzz/logs/FUZZ_LOG_NAME.log; give two
# processes of one harness different names to run them at once on the shared corpus).
# Harnesses: pickle torchzip torchpickle torchscript legacy safetensors safetensorsindex npyheader npz
#            eqx msgpack skeleton profile
set -euo pipefail
cd "$(dirname "$0")/.."
harness="$1"; seconds="$2"; shift 2
build="${FUZZ_BUILD_DIR:-build-fuzz}"
if [ ! -f "$build/CMakeCache.txt" ]; then
  generator=(); command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
  CXX=clang++-14 cmake -S fuzz -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
# One build at a time in the build folder: another run.sh may be starting in the other lane.
flock "$build/.build-lock" cmake --build "$build" -j"${JOBS:-1}" --target "fuzz_$harness"
[ -d "$build/corpus/$harness" ] || fuzz/make-corpora.sh "$build/corpus"
mkdir -p "$build/artifacts/$harness" "$build/logs"
log="$build/logs/${FUZZ_LOG_NAME:-$harness}.log"
# Scratch folders of harness processes that are gone (each run makes /dev/shm/graft-fuzz-PID).
for d in /dev/shm/graft-fuzz-*; do [ -d "$d" ] && ! kill -0 "${d##*-}" 2>/dev/null && rm -rf "$d"; done
set +e
started=$SECONDS
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}" \
UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}" \
nice -n 10 "$build/fuzz_$harness" "$build/corpus/$harness" \
  -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$build/artifacts/$harness/" "$@" > "$log" 2>&1
status=$?
elapsed=$((SECONDS - started))
set -e
for d in /dev/shm/graft-fuzz-*; do [ -d "$d" ] && ! kill -0 "${d##*-}" 2>/dev/null && rm -rf "$d"; done
execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
rate=$(grep -m1 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
echo "$harness: ${execs:-?} executions in ${elapsed}s (${rate:-?} exec/s), exit $status, log $log"
grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 || true
ls "$build/artifacts/$harness" | sed 's/^/  artifact: /' || true
exit $status
