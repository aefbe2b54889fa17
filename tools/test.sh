#!/usr/bin/env bash
# The project's test command: system dependencies, build, then the whole test suite (XCTest).
# Extra arguments go to `swift test` (e.g. --filter LedgerCLITests).
# `--sanitize address|thread` (first argument) builds and tests under that sanitizer instead, in its own
# scratch path (.build-san-KIND); the CLI tests then run the sanitized `ledger` binary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
sanitize=""
if [ "${1:-}" = "--sanitize" ]; then
  sanitize="${2:-}"
  case "$sanitize" in
    address|thread) ;;
    *) echo "usage: tools/test.sh [--sanitize address|thread] [swift test arguments...]" >&2; exit 2 ;;
  esac
  shift 2
fi
bash tools/install-deps.sh
if [ -n "$sanitize" ]; then
  scratch=(--scratch-path ".build-san-$sanitize")
  swift build "${scratch[@]}" --build-tests --sanitize="$sanitize"
  # LedgerCLITests run this binary: the sanitized one, not a plain build in .build/.
  export LEDGER_BINARY="${LEDGER_BINARY:-$(swift build "${scratch[@]}" --sanitize="$sanitize" --show-bin-path)/ledger}"
  # LeakSanitizer is part of ASan; leaks outside this package are listed in tools/lsan.supp (tsan.supp: races).
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
  export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan.supp}"
  export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=0 suppressions=$PWD/tools/tsan.supp}"
  test_cmd=(swift test "${scratch[@]}" --sanitize="$sanitize")
else
  # Every target imports only what it declares, and the declared graph keeps its layers (docs/ARCHITECTURE.md).
  swift build --explicit-target-dependency-import-check error
  python3 tools/check-layers.py
  test_cmd=(swift test)
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
# All tests are XCTest; Swift Testing would only append an empty "0 tests" run after them.
"${test_cmd[@]}" --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# A plain closing line with the totals of the whole run.
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with" "$log" | tail -1)
if [ -n "$summary" ]; then
  executed=$(grep -oE "Executed [0-9]+" <<<"$summary" | grep -oE "[0-9]+")
  failed=$(grep -oE "[0-9]+ failures?" <<<"$summary" | head -1 | grep -oE "[0-9]+")
  skipped=$(grep -oE "[0-9]+ tests? skipped" <<<"$summary" | grep -oE "^[0-9]+" || true)
  failed=${failed:-0}
  skipped=${skipped:-0}
  echo "tests: $((executed - failed - skipped)) passed, $failed failed, $skipped skipped"
fi
# A sanitizer report aborts the test process mid-run: the totals above are then only those of the last suite.
[ "$status" -eq 0 ] || echo "swift test exited with status $status"
exit "$status"
