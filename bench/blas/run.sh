#!/usr/bin/env bash
# Benchmark Debian's CBLAS candidates on the engine's SGEMM shapes.
#
#   bench/blas/run.sh                 # every library found, 1 and 2 threads
#   MIN_TIME=0.05 REPS=3 bench/blas/run.sh   # quick pass (~2 min)
#   CONFIGS="openblas-pthread blis-openmp" bench/blas/run.sh
#   bench/blas/run.sh --install      # apt-get the optional variants first
#
# Output: $OUT/results.csv, $OUT/table.md (default OUT=/tmp/blas-bench).
# Needs gcc and python3 (for the table).  Nothing is written to the repo.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/blas-bench}
MIN_TIME=${MIN_TIME:-0.2}
REPS=${REPS:-5}
THREADS=${THREADS:-"1 2"}
L=/usr/lib/x86_64-linux-gnu

if [[ "${1:-}" == "--install" ]]; then
  apt-get install -y libopenblas-dev libopenblas0-openmp libopenblas0-serial \
    libblis-dev libblis4-pthread libblis4-serial libatlas-base-dev
fi

mkdir -p "$OUT"
exec 2> >(tee -a "$OUT/log.txt" >&2)
gcc -O2 -Wall -o "$OUT/blasbench" "$HERE/blasbench.c" -ldl -lm

# name | library path | extra args
ALL_CONFIGS=(
  "openblas-pthread|$L/openblas-pthread/libopenblas.so.0|"
  "openblas-pthread:Haswell|$L/openblas-pthread/libopenblas.so.0|--coretype Haswell"
  "openblas-pthread:Zen|$L/openblas-pthread/libopenblas.so.0|--coretype Zen"
  "openblas-pthread:SkylakeX|$L/openblas-pthread/libopenblas.so.0|--coretype SkylakeX"
  "openblas-pthread:Cooperlake|$L/openblas-pthread/libopenblas.so.0|--coretype Cooperlake"
  "openblas-pthread:Sandybridge|$L/openblas-pthread/libopenblas.so.0|--coretype Sandybridge"
  "openblas-openmp|$L/openblas-openmp/libopenblas.so.0|"
  "openblas-serial|$L/openblas-serial/libopenblas.so.0|"
  "blis-pthread|$L/blis-pthread/libblis.so.4|"
  "blis-openmp|$L/blis-openmp/libblis.so.4|"
  "blis-serial|$L/blis-serial/libblis.so.4|"
  "atlas|$L/atlas/libblas.so.3|"
)

# Percentage of all CPUs busy over 1 s (other processes skew results badly,
# 2-thread runs most of all).  WAIT_QUIET=1 waits (up to 10 min) for < 15 %.
busy_pct() {
  local a b
  read -r -a a < <(grep '^cpu ' /proc/stat); sleep 1
  read -r -a b < <(grep '^cpu ' /proc/stat)
  local tot=0 i
  for i in 1 2 3 4 5 6 7 8; do tot=$((tot + b[i] - a[i])); done
  local idle=$(( (b[4] - a[4]) + (b[5] - a[5]) ))
  echo $(( tot > 0 ? 100 * (tot - idle) / tot : 0 ))
}
wait_quiet() {
  local p n=0
  p=$(busy_pct)
  while [[ ${WAIT_QUIET:-0} == 1 && $p -ge 15 && $n -lt 600 ]]; do sleep 4; n=$((n + 5)); p=$(busy_pct); done
  echo "$p"
}

CSV="$OUT/results.csv"
echo "config,threads,shape,M,N,K,op,gflops_med,gflops_min,gflops_max,iters,relerr" >"$CSV"
for entry in "${ALL_CONFIGS[@]}"; do
  IFS='|' read -r name lib extra <<<"$entry"
  if [[ -n "${CONFIGS:-}" ]] && ! grep -qw -- "${name%%:*}" <<<"$CONFIGS" \
       && ! grep -qw -- "$name" <<<"$CONFIGS"; then continue; fi
  [[ -e "$lib" ]] || { echo "skip $name: $lib not installed" >&2; continue; }
  for t in $THREADS; do
    # serial builds and Debian's ATLAS ignore thread requests: run them once
    if [[ $t != 1 && ( $name == *serial* || $name == atlas ) ]]; then continue; fi
    busy=$(wait_quiet)
    echo "== $name threads=$t (machine busy before run: ${busy}%)" >&2
    (( busy < 15 )) || echo "   WARNING: other processes are using the CPU; numbers will be low" >&2
    # shellcheck disable=SC2086
    env -u OPENBLAS_CORETYPE -u OPENBLAS_NUM_THREADS -u OMP_NUM_THREADS -u BLIS_NUM_THREADS \
      "$OUT/blasbench" --lib "$lib" --threads "$t" $extra \
      --min-time "$MIN_TIME" --reps "$REPS" --csv "$name,$t" >>"$CSV"
  done
done

python3 - "$CSV" >"$OUT/table.md" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cols, shapes = [], []
for r in rows:
    c = (r["config"], r["threads"])
    if c not in cols: cols.append(c)
    s = (r["shape"], r["M"], r["N"], r["K"], r["op"])
    if s not in shapes: shapes.append(s)
val = {((r["config"], r["threads"]), r["shape"]): float(r["gflops_med"]) for r in rows}
print("GFLOP/s (median). Columns: config/threads.\n")
print("| shape | M×N×K op | " + " | ".join(f"{c}/{t}" for c, t in cols) + " |")
print("|---|---|" + "---:|" * len(cols))
for s in shapes:
    cells = []
    best = max(val.get((c, s[0]), 0) for c in cols)
    for c in cols:
        v = val.get((c, s[0]))
        cells.append("" if v is None else (f"**{v:.1f}**" if v == best else f"{v:.1f}"))
    print(f"| {s[0]} | {s[1]}×{s[2]}×{s[3]} {s[4]} | " + " | ".join(cells) + " |")
EOF
cat "$OUT/table.md"
echo "results: $CSV  table: $OUT/table.md" >&2
