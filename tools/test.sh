#!/usr/bin/env bash
# The project's test command: system dependencies, build, then the whole test suite (XCTest).
# Extra arguments go to `swift test` (e.g. --filter LedgerCLITests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/install-deps.sh
# Every target imports only what it declares, and the declared graph keeps its layers (docs/ARCHITECTURE.md).
swift build --explicit-target-dependency-import-check error
python3 tools/check-layers.py
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
# All tests are XCTest; Swift Testing would only append an empty "0 tests" run after them.
swift test --disable-swift-testing "$@" 2>&1 | tee "$log"
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
exit "$status"
