#!/usr/bin/env bash
# Fails when the committed protobuf-c output differs from what Protos/ generates.
set -euo pipefail
cd "$(dirname "$0")/.."
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
scripts/gen-protos.sh "$fresh" >/dev/null
if ! diff -r "$fresh" Sources/CProtos >/dev/null; then
    echo "Sources/CProtos is stale: run 'make protos' and commit the result." >&2
    diff -r "$fresh" Sources/CProtos | head -20 >&2
    exit 1
fi
echo "protobuf-c output is up to date"
