#!/bin/bash
# Alternates single `ledger verify` runs of two builds on one ledger and prints, per build, the median and fastest
# CPU time (perf's task-clock) and wall clock: a ratio taken side by side, which is what counts on machines whose
# speed drifts within minutes (docs/PERFORMANCE.md).
#
#   tools/verify-ab.sh ROUNDS LEDGER KEY_FILE|- BUILD_A BUILD_B
#
# KEY_FILE: deep verify with that master key; `-`: keyless. Each deep run appends its access entry to the ledger,
# so both builds see the same ledger give or take the entries of the rounds before.
set -euo pipefail
rounds=$1 ledger=$2 key=$3 a=$4 b=$5
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
for _ in $(seq "$rounds"); do
  for build in "$a" "$b"; do
    args=(verify --ledger "$ledger")
    [ "$key" != "-" ] && args+=(--deep --key-file "$key")
    start=$(date +%s.%N)
    perf stat -x, -e task-clock "$build" "${args[@]}" > /dev/null 2> "$err" || true
    end=$(date +%s.%N)
    echo "$build $(grep task-clock "$err" | cut -d, -f1) $(echo "$end - $start" | bc)" >> "$out"
  done
done
python3 - "$out" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(lambda: ([], []))
for line in open(sys.argv[1]):
    build, cpu, wall = line.split()
    runs[build][0].append(float(cpu)); runs[build][1].append(float(wall) * 1000)
for build, (cpu, wall) in runs.items():
    print(f"{build}: {len(cpu)} runs, CPU median {statistics.median(cpu):.1f} ms (fastest {min(cpu):.1f}), "
          f"wall median {statistics.median(wall):.1f} ms (fastest {min(wall):.1f})")
PY
