#!/usr/bin/env bash
# Measures `ledger witness serve` on loopback (README, Performance): a fresh witness (new key, new state) following
# LOGS load logs, then `ledger witness load` with REQUESTS add-checkpoint requests over LOGS keep-alive
# connections, stopped after 120 s at most. Usage: tools/witness-load.sh [BINARY] [LOGS] [REQUESTS]
set -euo pipefail
bin="${1:-.build/release/ledger}"
logs="${2:-32}"
requests="${3:-40000}"
dir="$(mktemp -d)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
"$bin" witness keygen --name load.witness.example --key-file "$dir/witness.key" >/dev/null
"$bin" witness load --print-log-keys --logs "$logs" >"$dir/logs.txt"
"$bin" witness serve --listen 127.0.0.1:0 --state "$dir/state" --key-file "$dir/witness.key" \
  --log-file "$dir/logs.txt" >"$dir/serve.out" 2>"$dir/serve.err" &
server=$!
for _ in $(seq 1 600); do
  grep -q '^listening on ' "$dir/serve.out" 2>/dev/null && break
  sleep 0.05
done
address="$(sed -n 's/^listening on //p' "$dir/serve.out")"
[ -n "$address" ] || { cat "$dir/serve.err" >&2; exit 1; }
"$bin" witness load --target "$address" --logs "$logs" --requests "$requests" --time-limit 120
echo "state file: $(wc -l <"$dir/state/state.log") lines"
