#!/usr/bin/env python3
"""Checks the module graph against the layering in docs/ARCHITECTURE.md (run by tools/test.sh).

Reads `swift package describe --type json` and fails (exit 1) when a target can reach, directly or through its
dependencies, a target its layer must not reach: the offline bundle verifier and the report never reach LMDB,
keys or the engine; nothing below the CLI reaches the benchmark; the witness (`Witness`: server, HTTP client) never
reaches the engine or LMDB, and only the CLI (and the tests) reach it; the engine reaches no HTTP library. The compiler enforces the imports themselves
(`swift build --explicit-target-dependency-import-check error`); this script enforces the declared graph.
"""
import json
import pathlib
import re
import subprocess
import sys

FORBIDDEN = {
    "LedgerSupport": {"LMDB", "CLMDB", "Sodium", "LedgerFormat", "LedgerBundle", "LedgerReport", "Ledger", "LedgerBench"},
    "LedgerFormat": {"LMDB", "CLMDB", "LedgerBundle", "LedgerReport", "Ledger", "LedgerBench"},
    "LedgerBundle": {"LMDB", "CLMDB", "LedgerReport", "Ledger", "LedgerBench"},
    "LedgerReport": {"LMDB", "CLMDB", "LedgerBundle", "Ledger", "LedgerBench"},
    "Ledger": {"LedgerBench", "LedgerCLI", "CCurl"},
    "LedgerBench": {"LedgerCLI"},
    "Witness": {"LMDB", "CLMDB", "Ledger", "LedgerBench", "LedgerCLI", "LedgerBundle", "LedgerFormat", "LedgerReport"},
}
# Targets that may depend on Witness; no other target may reach it.
WITNESS_USERS = {"LedgerCLI", "WitnessTests", "LedgerCLITests"}
# Products the engine (and everything it reaches) must not use: the HTTP stack belongs to Witness.
HTTP_PRODUCTS = {"Hummingbird", "HummingbirdCore", "NIOCore", "NIOPosix", "NIOHTTP1", "FoundationNetworking"}


def main() -> int:
    described = subprocess.run(["swift", "package", "describe", "--type", "json"], check=True,
                               capture_output=True, text=True).stdout
    targets = json.loads(described)["targets"]
    graph = {t["name"]: t.get("target_dependencies") or [] for t in targets}
    products = {t["name"]: set(t.get("product_dependencies") or []) for t in targets}

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
    for target in graph:
        if target not in WITNESS_USERS and target != "Witness" and "Witness" in reach(target):
            failures.append(f"{target} reaches Witness (only the CLI may)")
    for target in {"Ledger"} | reach("Ledger"):
        for bad in sorted(products.get(target, set()) & HTTP_PRODUCTS):
            failures.append(f"{target} (the engine or below it) uses {bad}")
    # FoundationNetworking links libcurl, GnuTLS, Kerberos, LDAP and ~25 more libraries into every command's start
    # (~7 ms); the witness client loads libcurl itself, when it is used (Sources/CCurl).
    for path in sorted(pathlib.Path("Sources").rglob("*.swift")):
        if re.search(r"^\s*import\s+FoundationNetworking\b", path.read_text(encoding="utf-8"), re.MULTILINE):
            failures.append(f"{path} imports FoundationNetworking (use the Witness target's HTTPPost)")
    for line in failures:
        print(f"layers: {line}", file=sys.stderr)
    if not failures:
        print("layers: LedgerBundle and LedgerReport reach neither LMDB nor the engine; Witness reaches neither the "
              "engine nor LMDB and only the CLI reaches it; the graph points down")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
