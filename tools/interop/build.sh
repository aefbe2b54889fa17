#!/usr/bin/env bash
# Builds tools/interop/notecheck (Go, GOPATH mode, Debian's golang-golang-x-mod-dev; no network, no go.mod).
# Usage: tools/interop/build.sh OUTPUT_PATH
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 OUTPUT_PATH" >&2
  exit 64
fi
out=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
gopath=${NOTECHECK_GOPATH:-/usr/share/gocode}

if ! command -v go >/dev/null 2>&1; then
  echo "$0: 'go' not found on PATH; install golang-go (bash tools/install-deps.sh)" >&2
  exit 69
fi
if [ ! -f "$gopath/src/golang.org/x/mod/sumdb/note/note.go" ]; then
  echo "$0: golang.org/x/mod source not found under $gopath/src; install golang-golang-x-mod-dev (bash tools/install-deps.sh)" >&2
  exit 69
fi

# go needs a build cache; without HOME (some CI sandboxes) give it a private one.
if [ -z "${GOCACHE:-}" ] && [ -z "${HOME:-}" ] && [ -z "${XDG_CACHE_HOME:-}" ]; then
  export GOCACHE="${TMPDIR:-/tmp}/notecheck-gocache-$(id -u)"
fi

GO111MODULE=off GOPATH="$gopath" GOFLAGS= CGO_ENABLED=0 \
  go build -o "$out" "$here"/notecheck/*.go
