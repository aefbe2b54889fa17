#!/bin/sh
# Nightly integrity check of the client-communication ledger (run by ledger-verify.service).
#
#  1. `ledger checkpoint`  signs the current tree head and stores it in the ledger (a signer credential, which
#                          reads nothing, or the master key).
#  2. `ledger verify`      re-hashes every stored byte, checks checkpoints with the PINNED verifier key and
#                          the TRUSTED checkpoint (last night's, kept outside the ledger), writes the
#                          Prometheus textfile and a JSON report, and, only if intact, advances the trusted
#                          checkpoint to tonight's.
#
# Exit code: verify's (0 intact, 1 integrity violation, other = usage/key/I-O error, see `ledger --help`);
# if verify passed but the checkpoint could not be signed, the checkpoint's code. 78 = configuration missing.
#
# Configuration (environment, normally from /etc/ledger/verify.env):
#   LEDGER_DIR               ledger directory                                  (required)
#   LEDGER_CREDENTIAL_FILE   signer credential, mode 0600      } one of them (for `ledger checkpoint`);
#   LEDGER_KEY_FILE          master key file, mode 0600        } prefer the signer credential
#   LEDGER_PASSPHRASE_FILE   passphrase file, mode 0600        }  (`ledger grant nightly --role signer`)
#   LEDGER_VERIFIER_KEY      pinned copy of the verifier key                   (required)
#   LEDGER_TRUSTED           trusted checkpoint file (seeded at set-up)        (required)
#   LEDGER_TEXTFILE_DIR      node_exporter textfile collector directory        (required)
#   LEDGER_REPORT            JSON report path     (default: /var/lib/ledger-verify/last-report.json)
#   LEDGER_BIN               the ledger binary    (default: ledger on PATH)
#   LEDGER_WITNESS_POLICY    optional: a pinned copy of witnesses.policy; then step 1 is `checkpoint --witness`
#                            (witnesses cosign tonight's checkpoint) and verify requires its quorum (`--policy`)
set -u

LEDGER_BIN=${LEDGER_BIN:-ledger}
LEDGER_REPORT=${LEDGER_REPORT:-/var/lib/ledger-verify/last-report.json}

log() { printf 'ledger-nightly: %s\n' "$*" >&2; }

missing=0
for name in LEDGER_DIR LEDGER_VERIFIER_KEY LEDGER_TRUSTED LEDGER_TEXTFILE_DIR; do
    eval "value=\${$name:-}"
    if [ -z "$value" ]; then log "$name is not set (see /etc/ledger/verify.env)"; missing=1; fi
done
if [ -z "${LEDGER_CREDENTIAL_FILE:-}" ] && [ -z "${LEDGER_KEY_FILE:-}" ] && [ -z "${LEDGER_PASSPHRASE_FILE:-}" ]; then
    log "none of LEDGER_CREDENTIAL_FILE, LEDGER_KEY_FILE, LEDGER_PASSPHRASE_FILE is set: cannot sign tonight's checkpoint"
    missing=1
fi
[ "$missing" -eq 0 ] || exit 78
export LEDGER_DIR
[ -n "${LEDGER_CREDENTIAL_FILE:-}" ] && export LEDGER_CREDENTIAL_FILE
[ -n "${LEDGER_KEY_FILE:-}" ] && export LEDGER_KEY_FILE
[ -n "${LEDGER_PASSPHRASE_FILE:-}" ] && export LEDGER_PASSPHRASE_FILE
if [ ! -s "$LEDGER_TRUSTED" ]; then
    # Never trust on first use silently: seeding is a set-up step (docs/OPERATIONS.md).
    log "trusted checkpoint $LEDGER_TRUSTED is missing or empty; seed it at set-up (see docs/OPERATIONS.md)"
    exit 78
fi

# 1. Sign the current head. A failure here is reported, but verify still runs (and writes the metrics).
if [ -n "${LEDGER_WITNESS_POLICY:-}" ]; then
    "$LEDGER_BIN" checkpoint --witness --policy "$LEDGER_WITNESS_POLICY" >/dev/null
else
    "$LEDGER_BIN" checkpoint >/dev/null
fi
checkpoint_status=$?
[ "$checkpoint_status" -eq 0 ] || log "ledger checkpoint failed with exit code $checkpoint_status"

# 2. Verify. The report is written next to its final name and renamed, so readers never see half a file.
report_tmp="$LEDGER_REPORT.tmp.$$"
"$LEDGER_BIN" verify \
    --verifier-key "$LEDGER_VERIFIER_KEY" \
    --trusted "$LEDGER_TRUSTED" --update-trusted \
    --metrics "$LEDGER_TEXTFILE_DIR/ledger.prom" \
    ${LEDGER_WITNESS_POLICY:+--policy "$LEDGER_WITNESS_POLICY"} \
    --json >"$report_tmp"
verify_status=$?
if [ -s "$report_tmp" ]; then
    mv -f "$report_tmp" "$LEDGER_REPORT"
else
    rm -f "$report_tmp"
fi

case "$verify_status" in
    0) log "ledger intact" ;;
    1) log "INTEGRITY VIOLATION: see $LEDGER_REPORT; do not write to the ledger (docs/OPERATIONS.md)" ;;
    *) log "ledger verify could not run (exit code $verify_status)" ;;
esac
[ "$verify_status" -ne 0 ] && exit "$verify_status"
exit "$checkpoint_status"
