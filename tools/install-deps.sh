#!/usr/bin/env bash
# Installs the Debian packages the ledger needs to build, test and interoperate.
# Idempotent; run as root (CI and the dev machines are root).
set -euo pipefail
# age: the interop tests of sealed bundles (Tests/LedgerCLITests/AgeInteropTests.swift) run Debian's age and age-keygen.
# libcurl4-openssl-dev: the `checkpoint --witness` HTTP(S) client (Sources/CCurl: curl.h to build, libcurl.so.4
# loaded at run time only by commands that ask a witness).
PKGS=(libsodium-dev liblmdb-dev pkg-config golang-go golang-golang-x-mod-dev age libcurl4-openssl-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# tools/verify_bundle.py (the independent bundle verifier) needs Python's `cryptography` for Ed25519.
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import cryptography" >/dev/null 2>&1; then
  python3 -m pip install --quiet cryptography
fi
