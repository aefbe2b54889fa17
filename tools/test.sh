#!/usr/bin/env bash
# The project's test command: system dependencies, build, then the whole test suite.
# Extra arguments go to `swift test` (e.g. --filter LedgerCLITests, --parallel).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/install-deps.sh
swift build
swift test "$@"
