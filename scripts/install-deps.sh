#!/usr/bin/env bash
# Installs what the build and tests need and is missing: Debian packages
# (apt-get) and a Python venv with grpcio for the interop suite.
# Usage: install-deps.sh [--bench]   (--bench adds h2load, nghttpd, etcd and C++ gRPC)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pkg-config libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler
          libssl-dev openssl libevent-dev zlib1g-dev libopenblas-dev dataset-fashion-mnist python3 python3-venv
          iproute2)
if [[ "${1:-}" == "--bench" ]]; then packages+=(nghttp2-client nghttp2-server etcd-server libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev); fi

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
    # torch is pinned to a CPU build (see requirements.txt) that PyPI does not host: it must come from
    # pip's find-links. Check that first, so a missing wheel gives this message rather than a resolver error.
    torch_req=$(grep -Eo '^torch==[^[:space:]#]+' "$requirements" || true)
    if [[ -n $torch_req ]] && ! "$venv/bin/pip" install -q --dry-run --no-deps --no-index "$torch_req" >/dev/null 2>&1; then
        echo "error: no wheel for $torch_req in pip's find-links." >&2
        echo "       The PyTorch reference (Tests/interop/test_torch_parity.py, bench/train_bench.py) needs the CPU" >&2
        echo "       wheel, e.g. torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl, in a directory that pip" >&2
        echo "       knows as find-links (here: /opt/wheels, set in /etc/pip.conf: [global] find-links = /opt/wheels)." >&2
        echo "       pip's find-links now: $("$venv/bin/pip" config get global.find-links 2>/dev/null || echo none)" >&2
        echo "       PyPI has no +cpu builds and its default torch is a multi-GB CUDA build, so there is no fallback." >&2
        exit 1
    fi
    "$venv/bin/pip" install -q -r "$requirements"
    touch "$stamp"
fi
