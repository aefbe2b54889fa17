#!/usr/bin/env bash
# Measures `ledger shred` as the records manager runs it (process start to exit: the destruction transaction, the
# master key rotation, the checkpoint and the compaction that scrubs the data file, with its search for the
# destroyed bytes), on ledgers of growing size with 100 matters each, and `ledger hold` for comparison:
#   tools/bench-shred.sh [LEDGER_BINARY] [SIZES...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
L="$(realpath "${1:-.build/release/ledger}")"
shift || true
SIZES=("${@:-25000 50000 100000 200000}")
read -r -a SIZES <<< "${SIZES[*]}"
S="$(mktemp -d "${TMPDIR:-/tmp}/ledger-shred-bench-XXXXXX")"
trap 'rm -rf "$S"' EXIT
now() { python3 -c "import time; print(time.time())"; }
since() { python3 -c "import sys, time; print('%.2f' % (time.time() - float(sys.argv[1])))" "$1"; }
echo '{"closed":[{"matter":"M-007","closedAt":"2015-06-30"}]}' > "$S/policy.json"
echo "binary: $L"
printf "%-9s %-10s %-9s %-9s %s\n" entries "data.mdb" "hold s" "shred s" "shred output (compaction)"
for n in "${SIZES[@]}"; do
  d="$S/l$n"
  python3 - "$n" "$S/r$n.jsonl" <<'PY'
import json, sys
n = int(sys.argv[1])
with open(sys.argv[2], "w") as out:
    for i in range(n):
        out.write(json.dumps({"matter": "M-%03d" % (i % 100), "author": "a.okafor", "channel": "email",
                              "direction": "outbound", "kind": "update",
                              "occurredAt": "2026-%02d-%02dT10:00:00Z" % (1 + i % 12, 1 + i % 28),
                              "subject": "Update %d" % i, "summary": "Explained the offer; client decides Friday.",
                              "sourceSystem": "pms", "sourceId": "pms-%d" % i}, separators=(",", ":")) + "\n")
PY
  "$L" init --ledger "$d" --origin bench.invalid/shred --key-file "$S/k$n" > /dev/null 2>&1
  "$L" import --ledger "$d" --key-file "$S/k$n" "$S/r$n.jsonl" > /dev/null 2>&1
  size=$(stat -c %s "$d/data.mdb")
  t=$(now)
  "$L" hold --ledger "$d" --key-file "$S/k$n" --matter M-008 --reason bench --by bench > /dev/null 2>&1
  hold=$(since "$t")
  t=$(now)
  out=$("$L" shred --ledger "$d" --key-file "$S/k$n" --matter M-007 --reason bench --by bench \
        --policy "$S/policy.json" --new-key-file "$S/n$n" 2>/dev/null | tail -1)
  shred=$(since "$t")
  printf "%-9s %-10s %-9s %-9s %s\n" "$n" "$((size / 1000000)) MB" "$hold" "$shred" "$out"
  rm -rf "$d" "$S/r$n.jsonl"
done
