#!/usr/bin/env python3
"""Checks the module graph against the layering in docs/ARCHITECTURE.md (run by tools/test.sh).

Reads `swift package describe --type json` and fails (exit 1) when a target can reach, directly or through its
dependencies, a target its layer must not reach: the offline bundle verifier and the report never reach LMDB,
keys or the engine; nothing below the CLI reaches the benchmark. The compiler enforces the imports themselves
(`swift build --explicit-target-dependency-import-check error`); this script enforces the declared graph.
"""
import json
import subprocess
import sys

FORBIDDEN = {
    "LedgerSupport": {"LMDB", "CLMDB", "Sodium", "LedgerFormat", "LedgerBundle", "LedgerReport", "Ledger", "LedgerBench"},
    "LedgerFormat": {"LMDB", "CLMDB", "LedgerBundle", "LedgerReport", "Ledger", "LedgerBench"},
    "LedgerBundle": {"LMDB", "CLMDB", "LedgerReport", "Ledger", "LedgerBench"},
    "LedgerReport": {"LMDB", "CLMDB", "LedgerBundle", "Ledger", "LedgerBench"},
    "Ledger": {"LedgerBench", "LedgerCLI"},
    "LedgerBench": {"LedgerCLI"},
}


def main() -> int:
    described = subprocess.run(["swift", "package", "describe", "--type", "json"], check=True,
                               capture_output=True, text=True).stdout
    graph = {t["name"]: t.get("target_dependencies") or [] for t in json.loads(described)["targets"]}

    def reach(name: str) -> set:
        seen, stack = set(), list(graph.get(name, []))
        while stack:
            target = stack.pop()
            if target not in seen:
                seen.add(target)
                stack.extend(graph.get(target, []))
        return seen

    failures = []
    for target, forbidden in FORBIDDEN.items():
        if target not in graph:
            failures.append(f"{target}: no such target")
            continue
        for bad in sorted(reach(target) & forbidden):
            failures.append(f"{target} reaches {bad}")
    for line in failures:
        print(f"layers: {line}", file=sys.stderr)
    if not failures:
        print("layers: LedgerBundle and LedgerReport reach neither LMDB nor the engine; the graph points down")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
