#!/usr/bin/env bash
# The main job on an embedded default: builds `ledger`, then runs a demo ledger end to end on the sample
# communications in examples/ — init, import (JSONL and CSV), list, checkpoint, verify (keyless, pinned,
# against a trusted checkpoint, deep), a verified hot backup, a redacted export bundle checked offline by
# both verifiers, the compliance report, and roles (a reader, an append-only ingest service, a sign-only nightly
# job) with the access log, retention (a legal hold, what is due, a matter destroyed), an insurer's witness
# on loopback cosigning the checkpoint, a receipt checked against the witness policy, and the log published as tiles. Everything goes to ./demo-ledger (or $DEMO_DIR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash tools/install-deps.sh
# The release binary as deployed (docs/OPERATIONS.md): Swift runtime and Foundation linked in, so it starts in ~7 ms.
swift build -c release --static-swift-stdlib --product ledger
L=.build/release/ledger
DEMO="${DEMO_DIR:-demo-ledger}"
rm -rf "$DEMO"
mkdir -p "$DEMO/offsite"
chmod 700 "$DEMO"
export LEDGER_DIR="$DEMO/ledger" LEDGER_KEY_FILE="$DEMO/master.key"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step ledger init --origin demo.example-firm.com/client-ledger
$L init --origin demo.example-firm.com/client-ledger
cp "$LEDGER_DIR/verifier.key" "$DEMO/offsite/verifier.key"   # pin a copy of the verifier key off the ledger

step ledger import examples/sample-communications.jsonl
$L import examples/sample-communications.jsonl
step ledger import examples/sample-communications.jsonl   "(again: idempotent on sourceId)"
$L import examples/sample-communications.jsonl
step ledger import examples/sample-communications.csv
$L import examples/sample-communications.csv

step ledger list --matter 2026-0142
$L list --matter 2026-0142
step ledger show 5
$L show 5

step ledger checkpoint   "(kept off the box as the trusted checkpoint)"
$L checkpoint | tee "$DEMO/offsite/trusted-checkpoint.txt"
cp -r "$LEDGER_DIR" "$DEMO/yesterdays-copy"   # an old copy, for the rollback demonstration below

step 'echo {...} | ledger append -'
echo '{"matter":"2026-0177","author":"b.lindqvist","channel":"email","direction":"outbound","kind":"update","occurredAt":"2026-03-03T09:00:00+01:00","subject":"Written offer received","summary":"Forwarded the written settlement offer with our advice to follow by Friday.","sourceSystem":"pms","sourceId":"pms-2006"}' | $L append -
$L checkpoint > /dev/null

step ledger verify --verifier-key offsite/verifier.key --trusted offsite/trusted-checkpoint.txt --update-trusted --metrics ledger.prom
$L verify --verifier-key "$DEMO/offsite/verifier.key" --trusted "$DEMO/offsite/trusted-checkpoint.txt" --update-trusted --metrics "$DEMO/ledger.prom"
step ledger verify --deep --json
$L verify --deep --json --verifier-key "$DEMO/offsite/verifier.key"

step ledger backup --to backup
$L backup --to "$DEMO/backup"

step ledger export --matter 2026-0142 -o bundle-2026-0142.zip   "(insurer profile: content withheld with reasons)"
$L export --matter 2026-0142 -o "$DEMO/bundle-2026-0142.zip"
step 'the insurer checks it offline: ledger verify-bundle, and the independent Python verifier'
$L verify-bundle "$DEMO/bundle-2026-0142.zip" --verifier-key "$DEMO/offsite/verifier.key"
python3 tools/verify_bundle.py "$DEMO/bundle-2026-0142.zip" --verifier-key "$DEMO/offsite/verifier.key"
unzip -p "$DEMO/bundle-2026-0142.zip" privilege-log.csv 2>/dev/null | head -4 || true

step ledger report --matter 2026-0142 --as-of 2026-03-10T12:00:00Z   "(were clients kept informed, were questions answered in time?)"
$L report --matter 2026-0142 --as-of 2026-03-10T12:00:00Z

step 'roles: a paralegal reads one matter, the ingest service only writes, the nightly job only signs'
$L grant p.jones --role reader --matter 2026-0142 -o "$DEMO/p.jones.cred"
$L grant pms-ingest --role appender -o "$DEMO/pms-ingest.cred"
$L grant nightly --role signer -o "$DEMO/nightly.cred"
step 'echo {...} | LEDGER_CREDENTIAL_FILE=pms-ingest.cred ledger append -   "(the ingest service writes…)"'
other=$(echo '{"matter":"2026-0177","author":"b.lindqvist","channel":"phone","direction":"inbound","kind":"inquiry","occurredAt":"2026-03-04T10:00:00+01:00","subject":"Client asks about the deadline","summary":"Client asked whether Friday is still the deadline for the response.","sourceSystem":"pms","sourceId":"pms-2007"}' \
    | LEDGER_CREDENTIAL_FILE="$DEMO/pms-ingest.cred" $L append -)
echo "$other"
set +e
LEDGER_CREDENTIAL_FILE="$DEMO/pms-ingest.cred" $L show "$other"
echo "(exit $?: the ingest service cannot read back even what it wrote)"
set -e
step ledger list --credential p.jones.cred --reason '"client called about the lease"'
$L list --credential "$DEMO/p.jones.cred" --reason "client called about the lease"
set +e
$L show "$other" --credential "$DEMO/p.jones.cred"
echo "(exit $?: matter 2026-0177 is not p.jones's; the message is the same for an entry that does not exist)"
set -e
step ledger checkpoint --credential nightly.cred   "(signs; reads nothing)"
$L checkpoint --credential "$DEMO/nightly.cred" | head -2
step ledger access log   "(every read, recorded before it was shown)"
$L access log
step ledger access grants --matter 2026-0142
$L access grants --matter 2026-0142

step 'retention: a legal hold blocks destruction; the policy says what is due; shred destroys the keys for good'
printf '%s\n' '{"defaultRetention":{"days":30},"closed":[{"matter":"2025-0931","closedAt":"2026-02-28"}]}' > "$DEMO/retention.json"
export LEDGER_RETENTION_POLICY="$DEMO/retention.json"
$L hold --matter 2025-0931 --reason "Smith v. Firm: preservation letter" --by "J. Doe, GC" > /dev/null
$L retention status
set +e
$L shred --matter 2025-0931 --reason "retention period over" --new-key-file "$DEMO/master-2.key"
echo "(exit $?: refused while the hold is in force)"
set -e
$L hold --release --matter 2025-0931 --reason "case settled" --by "J. Doe, GC" > /dev/null
step ledger shred --matter 2025-0931 --reason '"retention period over"' --new-key-file master-2.key
$L shred --matter 2025-0931 --reason "retention period over" --by "records manager" --new-key-file "$DEMO/master-2.key"
export LEDGER_KEY_FILE="$DEMO/master-2.key"
step 'ledger verify | grep shredded; ledger list --matter 2025-0931   "(the entries stay and verify; their contents are gone)"'
$L verify --verifier-key "$DEMO/offsite/verifier.key" | grep -E "shredded|result"
$L list --matter 2025-0931

step 'an insurer'"'"'s witness cosigns the checkpoint; a receipt proves one entry offline; the log is published as tiles'
$L witness keygen --name witness.insurer.example --key-file "$DEMO/witness.key" > "$DEMO/witness.vkey"
$L witness serve --listen 127.0.0.1:0 --state "$DEMO/witness-state" --key-file "$DEMO/witness.key" \
  --log "$(cat "$DEMO/offsite/verifier.key")" > "$DEMO/witness.out" 2> "$DEMO/witness.log" &
witness_pid=$!
trap 'kill "$witness_pid" 2> /dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q 'listening on' "$DEMO/witness.out" 2> /dev/null && break; sleep 0.1; done
witness_url="http://$(sed -n 's/^listening on //p' "$DEMO/witness.out" | head -1)/"
step ledger witness add witness.insurer.example VKEY "$witness_url"
$L witness add witness.insurer.example "$(cat "$DEMO/witness.vkey")" "$witness_url"
cp "$LEDGER_DIR/witnesses.policy" "$DEMO/offsite/witnesses.policy"   # the insurer pins its own copy
step ledger checkpoint --witness
$L checkpoint --witness
step ledger verify --policy offsite/witnesses.policy
$L verify --policy "$DEMO/offsite/witnesses.policy" --verifier-key "$DEMO/offsite/verifier.key" | grep -E "witness|result"
step ledger receipt 3 -o entry-3.tlog-proof '&&' ledger verify-receipt entry-3.tlog-proof --policy offsite/witnesses.policy
$L receipt 3 -o "$DEMO/entry-3.tlog-proof"
$L verify-receipt "$DEMO/entry-3.tlog-proof" --policy "$DEMO/offsite/witnesses.policy"
step ledger publish --tiles published   "(serve it from any static host or bucket)"
$L publish --tiles "$DEMO/published"
kill "$witness_pid" 2> /dev/null || true
wait "$witness_pid" 2> /dev/null || true
trap - EXIT

step 'a rollback: yesterday'"'"'s copy put back in place of the ledger, checked against the updated trusted checkpoint'
set +e
LEDGER_DIR="$DEMO/yesterdays-copy" $L verify --verifier-key "$DEMO/offsite/verifier.key" --trusted "$DEMO/offsite/trusted-checkpoint.txt"
echo "(exit $?: 1 means an integrity violation)"
set -e
printf '\nDemo ledger in %s; try: LEDGER_DIR=%s LEDGER_KEY_FILE=%s %s list\n' "$DEMO" "$LEDGER_DIR" "$LEDGER_KEY_FILE" "$L"
