#!/usr/bin/env bash
# Builds the core, the apps and every test with AddressSanitizer + UndefinedBehaviorSanitizer
# into ./build-asan (g++, Debug-ish -O1) and runs ctest there. One command:
#   scripts/sanitize.sh [ctest args...]      e.g. scripts/sanitize.sh -R hostile
# Environment: JOBS (default 2), BUILD_DIR (default build-asan).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build-asan}"
jobs="${JOBS:-2}"
generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -O1 -g"
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Debug \
    -DGRAFT_BUILD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
    -DCMAKE_MODULE_LINKER_FLAGS="-fsanitize=address,undefined"
fi
cmake --build "$build_dir" -j"$jobs"
# LibTorch (uninstrumented, loaded by the graft_torch module) allocates and frees across the
# boundary and defines some globals twice: ODR and new/delete-mismatch checks would only report
# LibTorch itself. Leak checking stays on; Qt's own one-off allocations are suppressed.
supp="$PWD/scripts/lsan.supp"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0:alloc_dealloc_mismatch=0:detect_leaks=1:abort_on_error=0:strict_string_checks=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$supp:print_suppressions=0}"
ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" --timeout 1200 "$@"
