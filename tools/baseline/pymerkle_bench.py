#!/usr/bin/env python3
"""Appends every line of a JSONL file to a pymerkle 7 SqliteTree (its documented batch append), as the
comparison for `ledger import` (tools/bench-compare.sh times this process from start to exit).

    python3 tools/baseline/pymerkle_bench.py FILE.jsonl DB.sqlite

pymerkle hashes each line as given (SHA-256 leaves, RFC 9162 tree) and stores it in SQLite; it encrypts nothing,
derives no salts and keeps no indexes.
"""
import sys

from pymerkle import SqliteTree


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: pymerkle_bench.py FILE.jsonl DB.sqlite")
    with open(sys.argv[1], "rb") as f:
        entries = [line.rstrip(b"\n") for line in f if line.strip()]
    with SqliteTree(sys.argv[2]) as tree:
        tree.append_entries(entries)
        size = tree.get_size()
    print(f"pymerkle: {size} entries")


if __name__ == "__main__":
    main()
