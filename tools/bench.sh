#!/usr/bin/env bash
# Measures every figure in the README's performance table with one `ledger` binary, as the user runs it
# (each figure is a whole command, process start to exit, except bench's in-process rates, which it prints):
#   tools/bench.sh [LEDGER_BINARY] [RUNS]
# 1. `ledger bench --entries 100000 --appends 2000`, RUNS times (import, appends, size, verify rates, verify RSS);
# 2. export of a 10,000-entry matter from a 100,000-entry ledger, and verify-bundle of that bundle, timed;
# 3. `ledger verify` and `ledger verify --deep` as separate processes on that ledger, timed;
# 4. `ledger import` of the same 100,000 records with the master key and with an appender credential, alternating,
#    and `ledger show` (which records its access entry first) as a process.
# Run it on a quiet machine: the machines are shared, and a busy neighbour costs 5-10%.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
L="$(realpath "${1:-.build/release/ledger}")"
RUNS="${2:-3}"
S="$(mktemp -d "${TMPDIR:-/tmp}/ledger-bench-XXXXXX")"
trap 'rm -rf "$S"' EXIT
seconds() { python3 -c "import sys, time; print(time.time() - float(sys.argv[1]))" "$1"; }
rate() { python3 -c "import sys; print(float(sys.argv[1]) / float(sys.argv[2]))" "$1" "$2"; }

echo "binary: $L"
for run in $(seq 1 "$RUNS"); do
  echo "--- ledger bench --entries 100000 --appends 2000 (run $run)"
  "$L" bench --entries 100000 --appends 2000
done

echo "--- export and verify-bundle (10,000 of 100,000 entries in matter M-BIG)"
"$L" bench --entries 100000 --appends 10 --scratch "$S/bench" --keep-scratch > /dev/null 2>&1
python3 - "$S/bench/records.jsonl" "$S/big.jsonl" <<'PY'
import json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    for i, line in enumerate(src):
        record = json.loads(line)
        if i < 10000:
            record["matter"] = "M-BIG"
        out.write(json.dumps(record, separators=(",", ":")) + "\n")
PY
"$L" init --ledger "$S/l" --origin bench.invalid/export --key-file "$S/k" > /dev/null 2>&1
"$L" import --ledger "$S/l" --key-file "$S/k" "$S/big.jsonl" > /dev/null
for run in $(seq 1 "$RUNS"); do
  rm -f "$S/big.zip"
  t=$(date +%s.%N); "$L" export --ledger "$S/l" --key-file "$S/k" --matter M-BIG -o "$S/big.zip" 2> /dev/null
  printf 'export:          %.2f s (%s bytes)\n' "$(seconds "$t")" "$(stat -c %s "$S/big.zip")"
  t=$(date +%s.%N); "$L" verify-bundle "$S/big.zip" --verifier-key "$S/l/verifier.key" > /dev/null
  printf 'verify-bundle:   %.0f entries/s\n' "$(rate 10000 "$(seconds "$t")")"
  t=$(date +%s.%N); "$L" verify --ledger "$S/l" --verifier-key "$S/l/verifier.key" > /dev/null
  printf 'verify (process):        %.0f entries/s\n' "$(rate 100000 "$(seconds "$t")")"
  t=$(date +%s.%N); "$L" verify --deep --ledger "$S/l" --key-file "$S/k" --verifier-key "$S/l/verifier.key" > /dev/null
  printf 'verify --deep (process): %.0f entries/s\n' "$(rate 100000 "$(seconds "$t")")"
done

echo "--- ledger import as a process: master key and appender credential, alternating (same 100,000 records)"
for run in $(seq 1 "$RUNS"); do
  for who in master appender; do
    rm -rf "$S/i-$who" "$S/i-$who.key" "$S/i-$who.cred"
    "$L" init --ledger "$S/i-$who" --origin bench.invalid/import --key-file "$S/i-$who.key" > /dev/null 2>&1
    unlock=(--key-file "$S/i-$who.key")
    if [ "$who" = appender ]; then
      "$L" grant ingest --role appender -o "$S/i-$who.cred" --ledger "$S/i-$who" --key-file "$S/i-$who.key" \
        > /dev/null 2>&1
      unlock=(--credential "$S/i-$who.cred")
    fi
    t=$(date +%s.%N); "$L" import --ledger "$S/i-$who" "${unlock[@]}" "$S/bench/records.jsonl" > /dev/null
    printf 'import (%s, process): %.0f records/s\n' "$who" "$(rate 100000 "$(seconds "$t")")"
  done
done
t=$(date +%s.%N)
for seq in $(seq 1000 1019); do "$L" show "$seq" --ledger "$S/i-master" --key-file "$S/i-master.key" > /dev/null; done
printf 'show with its access entry (process, start to exit): %.1f ms\n' "$(python3 -c "import sys; print(float(sys.argv[1]) * 50)" "$(seconds "$t")")"
