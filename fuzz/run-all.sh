#!/usr/bin/env bash
# Runs every harness one after the other for SECONDS_EACH and prints a summary table.
#   fuzz/run-all.sh SECONDS_EACH
set -uo pipefail
cd "$(dirname "$0")/.."
each="${1:-60}"
summary=()
for h in pickle torchzip torchpickle torchscript legacy safetensors safetensorsindex npyheader npz eqx msgpack skeleton profile; do
  line=$(fuzz/run.sh "$h" "$each" | tail -n +1 | grep "^$h:")
  echo "$line"
  summary+=("$line")
done
echo "== summary =="
printf '%s\n' "${summary[@]}"
