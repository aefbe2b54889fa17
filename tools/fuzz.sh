#!/usr/bin/env bash
# Builds the libFuzzer driver of every parser of hostile input and runs each target (Fuzz/README.md):
#   tools/fuzz.sh [SECONDS] [TARGET...]     default: every target, 10 seconds each
#   FUZZ_RUNS=N tools/fuzz.sh 3600 ...      stop a target after N executions (the long run uses 1000000)
#   FUZZ_SEED=N                             a fixed random seed: with FUZZ_RUNS, the same inputs every time (CI)
# Each target starts from its committed seed corpus, Fuzz/corpus/TARGET (read only), and keeps what it finds in a
# scratch corpus. A crash, leak or hang is written to Fuzz/crashes/TARGET/ and fails the run: replay it with
#   LEDGER_FUZZ_TARGET=TARGET .build/debug/LedgerFuzz Fuzz/crashes/TARGET/FILE
# and turn it into a regression test (copy it to Fuzz/regressions/TARGET/; FuzzRegressionTests replays those).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECONDS_EACH="${1:-10}"
shift || true
# -sanitize=fuzzer instruments the Swift code for coverage and links libFuzzer; address adds ASan and
# LeakSanitizer; the C modules (SHA-256, BLAKE2b, base64) get the same instrumentation through -Xcc.
swift build -c release --product LedgerFuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xcc -fsanitize=fuzzer-no-link,address 2>&1 | tail -1
BIN=.build-fuzz/release/LedgerFuzz
if [ "$#" -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(LEDGER_FUZZ_TARGET=list "$BIN"); fi
# Known leaks in dependencies (each explained there) are not findings.
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/ledger-fuzz-XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
failed=0
printf '%-16s %12s %8s %8s %s\n' target executions cov ft result
for t in "${targets[@]}"; do
  mkdir -p "$SCRATCH/$t" "Fuzz/corpus/$t" "Fuzz/crashes/$t"
  log="$SCRATCH/$t.log"
  status=0
  LEDGER_FUZZ_TARGET="$t" "$BIN" "$SCRATCH/$t" "Fuzz/corpus/$t" -max_total_time="$SECONDS_EACH" \
    ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="Fuzz/crashes/$t/" > "$log" 2>&1 || status=$?
  runs=$(grep -oE "stat::number_of_executed_units: *[0-9]+" "$log" | grep -oE "[0-9]+$" || echo 0)
  cov=$(grep -oE "cov: [0-9]+" "$log" | tail -1 | grep -oE "[0-9]+" || echo 0)
  ft=$(grep -oE "ft: [0-9]+" "$log" | tail -1 | grep -oE "[0-9]+" || echo 0)
  if [ "$status" -eq 0 ]; then result=ok; else result="FAILED (exit $status, see Fuzz/crashes/$t)"; failed=1
    grep -E "ERROR|==[0-9]+==|Fatal|precondition|disagree" "$log" | head -5 || true; fi
  printf '%-16s %12s %8s %8s %s\n' "$t" "$runs" "$cov" "$ft" "$result"
  rmdir "Fuzz/crashes/$t" 2>/dev/null || true
done
exit "$failed"
