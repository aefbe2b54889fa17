#!/bin/sh
# Builds the raw-C baseline (tools/baseline/raw_c.c) next to itself, or to $1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-"$here/raw_c"}
cc -O2 -march=native -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$out" "$here/raw_c.c" $(pkg-config --cflags --libs libsodium lmdb)
