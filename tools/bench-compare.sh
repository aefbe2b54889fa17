#!/bin/bash
# Compares `ledger import` (process start to exit) with the raw C work of one thread (tools/baseline/raw_c.c) and
# with pymerkle 7's SqliteTree batch append (tools/baseline/pymerkle_bench.py), on the same JSONL file, alternating
# the three N times in one run, and prints each one's median and the two ratios. This is the command the README cites.
#
#   tools/bench-compare.sh [-n RUNS] [-e ENTRIES] [-b LEDGER_BINARY] [-w WORKDIR] [-i INPUT.jsonl]
#
# Needs: a release build as deployed (swift build -c release --static-swift-stdlib --product ledger), cc, libsodium and lmdb headers, python3 with pymerkle>=7,<8.
set -euo pipefail
runs=5 entries=100000 ledger=.build/release/ledger work=/tmp/perf-compare input=
while getopts "n:e:b:w:i:" opt; do
  case $opt in
    n) runs=$OPTARG ;; e) entries=$OPTARG ;; b) ledger=$OPTARG ;; w) work=$OPTARG ;; i) input=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] [-e ENTRIES] [-b LEDGER] [-w WORKDIR] [-i INPUT.jsonl]" >&2; exit 64 ;;
  esac
done
here=$(cd "$(dirname "$0")" && pwd)
ledger=$(realpath "$ledger")
rm -rf "$work" && mkdir -p "$work" && chmod 700 "$work"
trap 'rm -rf "$work"' EXIT
"$here/baseline/build.sh" "$work/raw_c"
python3 -c 'import pymerkle, sys; v = pymerkle.__version__ if hasattr(pymerkle, "__version__") else ""' \
  || { echo "pymerkle is missing: pip install 'pymerkle>=7,<8'" >&2; exit 69; }
if [ -z "$input" ]; then
  # `ledger bench --keep-scratch` leaves the generated records in S/records.jsonl (flushed to disk).
  "$ledger" bench --entries "$entries" --appends 1 --scratch "$work/gen" --keep-scratch --json > /dev/null
  input=$work/gen/records.jsonl
fi
records=$(grep -c . "$input")
bytes=$(stat -c %s "$input")
echo "input: $input, $records records, $bytes bytes; $runs runs each, alternating; $(date -u +%FT%TZ)"

# Seconds (wall clock, process start to exit) of one command, printed on stdout.
timed() { local t0 t1; t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }

raw=() pym=() led=() disk=
for i in $(seq 1 "$runs"); do
  rm -rf "$work/raw" "$work/pm.sqlite" "$work/ledger" "$work/key"
  raw+=("$(timed "$work/raw_c" "$input" "$work/raw")")
  pym+=("$(timed python3 "$here/baseline/pymerkle_bench.py" "$input" "$work/pm.sqlite")")
  "$ledger" init --ledger "$work/ledger" --origin bench.invalid/compare --key-file "$work/key" > /dev/null
  led+=("$(timed "$ledger" import --ledger "$work/ledger" --key-file "$work/key" "$input")")
  disk=$(stat -c %s "$work/ledger/data.mdb")
  printf 'run %d: raw C %.2f s, pymerkle %.2f s, ledger import %.2f s\n' "$i" "${raw[-1]}" "${pym[-1]}" "${led[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
r=$(median "${raw[@]}") p=$(median "${pym[@]}") l=$(median "${led[@]}")
printf 'median raw C (one thread):  %.2f s, %.0f records/s\n' "$r" "$(echo "$records / $r" | bc -l)"
printf 'median pymerkle 7:          %.2f s, %.0f records/s\n' "$p" "$(echo "$records / $p" | bc -l)"
printf 'median ledger import:       %.2f s, %.0f records/s\n' "$l" "$(echo "$records / $l" | bc -l)"
printf 'ledger import / raw C:      %.2fx\n' "$(echo "$r / $l" | bc -l)"
printf 'ledger import / pymerkle:   %.2fx\n' "$(echo "$p / $l" | bc -l)"
printf 'ledger on disk:             %d bytes, %.2fx the JSONL input\n' "$disk" "$(echo "$disk / $bytes" | bc -l)"
