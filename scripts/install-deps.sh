#!/usr/bin/env bash
# Installs what the build and tests need and is missing: Debian packages
# (apt-get) and a Python venv with grpcio for the interop suite.
# Usage: install-deps.sh [--bench]   (--bench adds h2load, nghttpd and etcd)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pkg-config libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
          libssl-dev openssl libevent-dev zlib1g-dev dataset-fashion-mnist python3 python3-venv)
if [[ "${1:-}" == "--bench" ]]; then packages+=(nghttp2-client nghttp2-server etcd-server); fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "installing Debian packages: ${missing[*]}"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "error: the Swift toolchain (6.0 or newer) is not on PATH; Debian does not package it." >&2
    echo "       Install it from swift.org and put its usr/bin on PATH." >&2
    exit 1
fi

venv=.venv
requirements=Tests/interop/requirements.txt
stamp=$venv/.installed
if [[ ! -f $stamp || $requirements -nt $stamp ]]; then
    echo "preparing Python venv in $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q -r "$requirements"
    touch "$stamp"
fi
