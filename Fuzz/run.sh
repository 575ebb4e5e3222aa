#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/Package.swift and runs each for a bounded time.
#   Fuzz/run.sh SECONDS [TARGET...]     (make fuzz / make fuzz-smoke call this)
# Build products and the growing working corpus live in .build-fuzz (git-ignored);
# crashes, leaks and timeouts are written to .build-fuzz/artifacts/TARGET/ (FuzzServer also
# saves there, as linger-*, inputs after which the server kept a half-closed connection 2 s).
# Each target first replays Fuzz/regressions/TARGET (past findings), then fuzzes
# from .build-fuzz/corpus/TARGET plus the committed seeds in Fuzz/corpus/TARGET.
# Exits non-zero if any target found something.
set -uo pipefail

seconds=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
scratch="$root/.build-fuzz"
swift=${SWIFT:-swift}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzWire FuzzDeframer FuzzServer)

# The Swift runtime's own crash backtracer is slow under ASan; libFuzzer and ASan print the stack.
export SWIFT_BACKTRACE=enable=no

# Per target: libFuzzer flags. FUZZ_SERVER_LEAKS=0 turns FuzzServer's leak check off (its
# findings are real, see Fuzz/regressions/FuzzServer/README.md, but it slows the target down).
flags_for() {
    case $1 in
        FuzzWire) echo "-max_len=4096" ;;
        FuzzDeframer) echo "-max_len=2048" ;;
        FuzzServer) echo "-max_len=4096 -rss_limit_mb=4096 -detect_leaks=${FUZZ_SERVER_LEAKS:-1}" ;;
    esac
}
asan_for() {
    case $1 in
        FuzzServer) echo "detect_leaks=${FUZZ_SERVER_LEAKS:-1}" ;;
        *) echo "detect_leaks=1" ;;
    esac
}

for target in "${targets[@]}"; do
    echo "== building $target"
    "$swift" build -c release --package-path "$root/Fuzz" --scratch-path "$scratch" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library --product "$target" 2>&1 \
        | grep -v "Cannot export local symbol" || true
    [ -x "$scratch/release/$target" ] || { echo "build of $target failed"; exit 1; }
done

failed=()
for target in "${targets[@]}"; do
    bin="$scratch/release/$target"
    corpus="$scratch/corpus/$target"
    artifacts="$scratch/artifacts/$target"
    log="$scratch/logs/$target.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    export ASAN_OPTIONS=$(asan_for "$target")
    export FUZZ_SERVER_LINGER_DIR="$artifacts"
    # shellcheck disable=SC2046
    set -- $(flags_for "$target")
    regressions="$root/Fuzz/regressions/$target"
    if [ -d "$regressions" ] && ls "$regressions"/* >/dev/null 2>&1; then
        echo "== $target: replaying $regressions"
        for input in "$regressions"/*; do
            case $input in *.md) continue ;; esac
            if ! "$bin" "$@" -artifact_prefix="$artifacts/" "$input" >"$log" 2>&1; then
                echo "!! $target: regression $(basename "$input") fails again:"; tail -40 "$log"
                failed+=("$target (regression $(basename "$input"))")
            fi
        done
    fi
    echo "== $target: fuzzing for ${seconds}s ($*)"
    "$bin" "$@" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" "$root/Fuzz/corpus/$target" >"$log" 2>&1
    rc=$?
    summary=$(grep -E "^#[0-9]+.*(DONE|pulse)" "$log" | tail -1)
    echo "   $summary"
    grep -E "^stat::(number_of_executed_units|average_exec_per_sec)|^FuzzServer:" "$log" | sed 's/^/   /'
    if [ $rc -ne 0 ]; then
        echo "!! $target failed (exit $rc); log: $log; artifacts:"
        ls -1 "$artifacts" | sed 's/^/   /'
        grep -E -m1 -A40 "ERROR: |Fatal error|deadly signal" "$log"
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]}"
    exit 1
fi
echo "fuzzing: no findings (${seconds}s per target)"
