#!/bin/bash
# Instruction counts per imported record, by stage, for `ledger import` and the raw-C baseline
# (valgrind --tool=callgrind: repeatable on noisy machines, unlike wall-clock time). docs/PERFORMANCE.md.
#
#   tools/callgrind-import.sh INPUT.jsonl [LEDGER_BINARY] [WORKDIR]
#
# Use a small input (10,000 records: callgrind runs ~50x slower).
set -euo pipefail
input=$1 work=${3:-/tmp/perf-callgrind}
here=$(cd "$(dirname "$0")" && pwd)
records=$(grep -c . "$input")
rm -rf "$work" && mkdir -p "$work" && chmod 700 "$work"
# valgrind cannot read the DWARF Swift 6 writes ("possibly corrupted debuginfo"): a copy without it keeps the symbols.
objcopy --strip-debug "$(realpath "${2:-.build/release/ledger}")" "$work/ledger-bin"
ledger=$work/ledger-bin
"$here/baseline/build.sh" "$work/raw_c"
"$ledger" init --ledger "$work/ledger" --origin bench.invalid/callgrind --key-file "$work/key" > /dev/null 2>&1
valgrind --tool=callgrind --callgrind-out-file="$work/ledger.cg" \
  "$ledger" import --ledger "$work/ledger" --key-file "$work/key" "$input" > /dev/null 2> "$work/ledger.log"
valgrind --tool=callgrind --callgrind-out-file="$work/raw.cg" "$work/raw_c" "$input" "$work/raw" \
  > /dev/null 2> "$work/raw.log"
# Inclusive instructions of the functions whose names contain each pattern (the largest match), per record.
stage() {  # file label pattern
  local ir
  ir=$(callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null \
       | grep -F -- "$3" | sed 's/,//g' | awk '{print $1}' | sort -g | tail -n 1 || true)
  printf '  %-44s %10.0f instructions/record\n' "$2" "$(echo "${ir:-0} / $records" | bc -l)"
}
total() { sed -n 's/^summary: //p;s/^totals: //p' "$1" | head -n 1 | awk '{print $1}' || true; }
echo "records: $records"
echo "ledger import (all threads):"
printf '  %-44s %10.0f instructions/record\n' "whole process" "$(echo "$(total "$work/ledger.cg") / $records" | bc -l)"
stage "$work/ledger.cg" "read + split the file (JSONLines.split)" "JSONLines5split"
stage "$work/ledger.cg" "parse + validate (JSONLines.validate)" "JSONLines8validate"
stage "$work/ledger.cg" "  of which JSON parse (JSONParser.parse)" "JSONParser5parse"
stage "$work/ledger.cg" "  of which schema + canonical (RecordSchema.validate)" "RecordSchemaO8validate"
stage "$work/ledger.cg" "source tags (BLAKE2b, sourceTags)" "sourceTags"
stage "$work/ledger.cg" "seal (salts, disclosures, AEAD, leaf; sealAll)" "sealAll_4plan"
stage "$work/ledger.cg" "  of which disclosures + digests (EntryPayload.seal)" "EntryPayloadV4seal"
stage "$work/ledger.cg" "  of which AEAD (crypto_aead_xchacha20poly1305)" "crypto_aead_xchacha20poly1305_ietf_encrypt"
stage "$work/ledger.cg" "link (chain, tree, index rows; Ledger.link)" "LedgerAAC4link_4into"
stage "$work/ledger.cg" "LMDB commit (mdb_txn_commit)" "mdb_txn_commit"
stage "$work/ledger.cg" "SHA-256 (blocks_sha_extensions)" "blocks_sha_extensions"
stage "$work/ledger.cg" "malloc + free" "malloc"
echo "raw C (one thread):"
printf '  %-44s %10.0f instructions/record\n' "whole process" "$(echo "$(total "$work/raw.cg") / $records" | bc -l)"
stage "$work/raw.cg" "parse + validate (parse_record)" "parse_record"
stage "$work/raw.cg" "append_record (crypto, leaf, puts)" "append_record"
stage "$work/raw.cg" "SHA-256 (crypto_hash_sha256)" "crypto_hash_sha256"
stage "$work/raw.cg" "AEAD (crypto_aead_xchacha20poly1305)" "crypto_aead_xchacha20poly1305_ietf_encrypt"
stage "$work/raw.cg" "LMDB commit (mdb_txn_commit)" "mdb_txn_commit"
echo "callgrind outputs: $work/ledger.cg $work/raw.cg"
