#!/usr/bin/env python3
"""Gossip learning benchmark: accuracy, traffic and simulated communication time of `gossipfl simulate`.

    .venv/bin/python bench/gossip_bench.py [--gossipfl-bin .build/release/gossipfl] [--epochs 8]
                                           [--seeds 1 2 3] [--jobs 2] [--out out/bench-gossip] [--quick]

Every run is one `gossipfl simulate` process (`--threads 1`, `--jobs` of them side by side), writing its
evaluations to a CSV under --out; the tables below are computed from those CSVs and go to stdout, the
exact command line of every run and the progress go to stderr.

1. Time to accuracy / faithfulness (one table per partition, default iid and dirichlet:0.5):
   Fashion-MNIST, 8 workers, mlp (784-200-200-10), lr 0.05, batch 50, --epochs epochs, bandwidth
   `random` (the original's U(0,5) MB/s), --evaluations-per-epoch 4; algorithms saps (rho=0.01),
   random (random matching, rho=0.01), dpsgd (dense ring), fedavg, centralised (one worker, all data)
   and power (ours). Each configuration runs once per seed; the table gives medians over the seeds
   (and the min-max spread of the mean accuracy). "comm s to 80 %" is the simulated communication time
   at the first evaluation whose mean accuracy is >= --target (0.80). The reference numbers are the
   PyTorch re-implementation's (../shared/GOSSIPFL-ALGORITHM.md, 8 epochs), with ours - reference.
   Target lines: SAPS within 1 point of the reference; power within 1.5 points of dpsgd at <= 2 % of
   its bytes; power closes >= half of the saps -> dpsgd gap (the fraction closed is reported).
2. Heterogeneous bandwidth: saps against random matching on --hetero-bandwidth matrices (default
   clustered:2 and loguniform), iid, mlp, --hetero-epochs epochs (default 2). Simulated communication
   time of both and the ratio random/SAPS per seed. Target: SAPS communicates for less time than
   random matching (every seed).

One PNG per partition (scripts/plot_metrics.py over the CSVs of the first seed, one line per
algorithm) is written beside the CSVs. --quick: 2 epochs, 1 seed (the 8-epoch references are then
not comparable; the target lines say so). Exits non-zero if the binary is missing or any run fails
(the tables are printed regardless, failed runs shown as "failed").
"""

import argparse
import concurrent.futures
import csv
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, ".."))
DEFAULT_BIN = os.path.join(REPO_ROOT, ".build", "release", "gossipfl")
DEFAULT_OUT = os.path.join(REPO_ROOT, "out", "bench-gossip")
PLOT_SCRIPT = os.path.join(REPO_ROOT, "scripts", "plot_metrics.py")
VENV_PYTHON = os.path.join(REPO_ROOT, ".venv", "bin", "python")

WORKERS, MODEL, LR, BATCH, KEEP = 8, "mlp", 0.05, 50, 0.01
ALGORITHMS = ["saps", "random", "dpsgd", "fedavg", "centralised", "power"]
LABELS = {"saps": "saps (ρ=0.01)", "random": "random matching (ρ=0.01)", "dpsgd": "dpsgd (dense ring)",
          "fedavg": "fedavg", "centralised": "centralised", "power": "power (ours)"}
REFERENCE_EPOCHS = 8
# GOSSIPFL-ALGORITHM.md, PyTorch re-implementation, 8 epochs: (mean %, lowest worker % or None, MB per worker)
# Its "SAPS" row pairs workers by a random perfect matching (no bandwidth), i.e. the rule of our
# `random`, so that row is also shown against `random`.
REFERENCE = {
    "iid": {"centralised": (86.0, None, 0.0), "dpsgd": (86.9, None, 1912.0), "saps": (83.9, 82.0, 9.6),
            "random": (83.9, 82.0, 9.6)},
    "dirichlet:0.5": {"saps": (72.9, 63.0, 9.6), "random": (72.9, 63.0, 9.6)},
}

_print_lock = threading.Lock()


def log(msg):
    with _print_lock:
        print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# runs


class Run:
    """One `gossipfl simulate` process and what its CSV says."""

    def __init__(self, table, group, algorithm, seed, epochs, bandwidth, partition, args, out_dir):
        self.table, self.group, self.algorithm, self.seed = table, group, algorithm, seed
        self.epochs = epochs
        tag = "".join(c if c.isalnum() or c in "-." else "" for c in group.replace(":", "")) or "x"
        self.csv = os.path.join(out_dir, "%s-%s-%s-seed%d.csv" % (table, tag, algorithm, seed))
        self.cmd = [args.gossipfl_bin, "simulate", "--workers", str(WORKERS), "--model", MODEL,
                    "--partition", partition, "--algorithm", algorithm, "--keep", str(KEEP),
                    "--epochs", "%g" % epochs, "--lr", str(LR), "--batch", str(BATCH),
                    "--bandwidth", bandwidth, "--seed", str(seed), "--threads", str(args.threads),
                    "--evaluations-per-epoch", str(args.evaluations_per_epoch if table == "tta" else 1),
                    "--data-dir", args.data_dir, "--metrics", self.csv, "--plot", os.devnull]
        if args.eval_samples:
            self.cmd += ["--eval-samples", str(args.eval_samples)]
        self.timeout = args.timeout if args.timeout else 180 + 120 * epochs
        self.rows = None
        self.error = None
        self.wall = None
        self.reused = False

    def reuse(self):
        """Takes the CSV a previous run left if it covers the configured epochs (--reuse)."""
        try:
            rows = read_csv(self.csv)
        except (OSError, ValueError, KeyError):
            return False
        if len(rows) < 2 or abs(rows[-1]["epoch"] - self.epochs) > 1e-9:
            return False
        self.rows, self.wall, self.reused = rows, 0.0, True
        return True

    def execute(self, env, reuse=False):
        if reuse and self.reuse():
            log("reusing %s" % self.csv)
            return self
        log("$ GOSSIPFL_PYTHON=%s %s" % (shlex.quote(env["GOSSIPFL_PYTHON"]), shlex.join(self.cmd)))
        start = time.monotonic()
        try:
            p = subprocess.run(self.cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=self.timeout, env=env, cwd=REPO_ROOT)
        except subprocess.TimeoutExpired:
            self.error = "killed after the %.0f s timeout" % self.timeout
            return self
        except OSError as e:
            self.error = "cannot run: %s" % e
            return self
        finally:
            self.wall = time.monotonic() - start
        if p.returncode != 0:
            self.error = "exit %d: %s" % (p.returncode, (p.stderr.strip() or p.stdout.strip())[-800:])
            return self
        try:
            self.rows = read_csv(self.csv)
        except (OSError, ValueError, KeyError) as e:
            self.error = "unreadable metrics %s: %s" % (self.csv, e)
            return self
        if len(self.rows) < 2:
            self.error = "only %d evaluation(s) in %s" % (len(self.rows), self.csv)
            self.rows = None
        return self

    # --- summaries (None when the run failed)
    @property
    def final(self):
        return self.rows[-1] if self.rows else None

    def time_to(self, target):
        """(comm seconds, epoch) at the first evaluation with mean accuracy >= target, or (inf, None)."""
        for r in self.rows:
            if r["mean_accuracy"] >= target:
                return r["comm_seconds"], r["epoch"]
        return math.inf, None

    @property
    def name(self):
        return "%s %s seed %d" % (self.group, self.algorithm, self.seed)


def read_csv(path):
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows.append({k: (row[k] if k == "run" else float(row[k])) for k in row})
    return rows


def run_all(runs, jobs, reuse):
    env = dict(os.environ)
    # Each simulate run would draw its own one-run plot through $GOSSIPFL_PYTHON; we draw one per
    # partition from all the CSVs instead, so make the per-run plot a no-op.
    env["GOSSIPFL_PYTHON"] = shutil.which("true") or "/bin/true"
    done = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(r.execute, env, reuse) for r in runs]
        for fut in concurrent.futures.as_completed(futures):
            r = fut.result()
            done += 1
            if r.error:
                log("[%d/%d] %s: FAILED after %.0f s: %s" % (done, len(runs), r.name, r.wall or 0, r.error))
            else:
                f = r.final
                log("[%d/%d] %s: %.2f %% (lowest %.2f %%), %.2f MB/worker, comm %.1f s  [%.0f s wall]" % (
                    done, len(runs), r.name, 100 * f["mean_accuracy"], 100 * f["min_accuracy"],
                    f["mb_per_worker"], f["comm_seconds"], r.wall))


# --------------------------------------------------------------------------
# formatting


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def pct(v):
    return "-" if v is None else "%.1f" % (100 * v)


def fmt_mb(v):
    if v is None:
        return "-"
    if v >= 100:
        return "{:,.0f}".format(v)
    return "%.2f" % v if v < 10 else "%.1f" % v


def fmt_s(v):
    if v is None:
        return "-"
    if math.isinf(v):
        return "not reached"
    if v >= 1000:
        return "{:,.0f}".format(v)
    return "%.1f" % v


def spread(values):
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return "-"
    return "%.1f–%.1f" % (100 * min(values), 100 * max(values))


def verdict(ok):
    return "n/a" if ok is None else ("**PASS**" if ok else "**FAIL**")


# --------------------------------------------------------------------------
# table 1


def summarise(runs, target):
    """Medians over the seeds of one (partition, algorithm); None fields when every run failed."""
    ok = [r for r in runs if not r.error]
    s = {"seeds": len(runs), "ok": len(ok)}
    if not ok:
        return s
    s["acc"] = median([r.final["mean_accuracy"] for r in ok])
    s["accs"] = [r.final["mean_accuracy"] for r in ok]
    s["low"] = median([r.final["min_accuracy"] for r in ok])
    s["mb"] = median([r.final["mb_per_worker"] for r in ok])
    s["comm"] = median([r.final["comm_seconds"] for r in ok])
    reach = [r.time_to(target) for r in ok]
    s["t_target"] = statistics.median([t for t, _ in reach])  # inf counts as not reached
    s["reached"] = sum(1 for t, _ in reach if not math.isinf(t))
    s["ep_target"] = statistics.median([math.inf if e is None else e for _, e in reach])
    return s


def print_tta_table(partition, summaries, args):
    comparable = abs(args.epochs - REFERENCE_EPOCHS) < 1e-9
    refs = REFERENCE.get(partition, {})
    print("### %s" % partition)
    print()
    print("| algorithm | mean acc. %% (median) | spread %% | lowest worker %% | MB sent / worker "
          "| comm s to %.0f %% (epoch) | comm s total | reference %% (%d ep.) | ours − ref. (pts) |"
          % (100 * args.target, REFERENCE_EPOCHS))
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for alg in ALGORITHMS:
        s = summaries[alg]
        label = LABELS[alg]
        if not s["seeds"]:
            continue  # not selected with --algorithms
        if "acc" not in s:
            print("| %s | failed | | | | | | | |" % label)
            continue
        if s["ok"] < s["seeds"]:
            label += " (%d/%d runs ok)" % (s["ok"], s["seeds"])
        t = fmt_s(s["t_target"])
        if not math.isinf(s["t_target"]) and not math.isinf(s["ep_target"]):
            t += " (%.2f)" % s["ep_target"]
        if 0 < s["reached"] < s["ok"]:
            t += ", %d of %d seeds reached it" % (s["reached"], s["ok"])
        ref_cell, diff = "-", "-"
        if alg in refs:
            ref_acc, ref_low, ref_mb = refs[alg]
            ref_cell = "%.1f" % ref_acc + (" (lowest %.1f)" % ref_low if ref_low is not None else "")
            ref_cell += ", %s MB" % fmt_mb(ref_mb) if ref_mb else ""
            diff = "%+.1f" % (100 * s["acc"] - ref_acc)
            if ref_low is not None:
                diff += " (lowest %+.1f)" % (100 * s["low"] - ref_low)
            if not comparable:
                diff += "*"
        print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, pct(s["acc"]), spread(s["accs"]), pct(s["low"]), fmt_mb(s["mb"]), t, fmt_s(s["comm"]),
            ref_cell, diff))
    print()
    lines = []
    note = "" if comparable else " (*reference is for %d epochs, this run has %g: not comparable)" % (
        REFERENCE_EPOCHS, args.epochs)
    saps, dpsgd, power = summaries["saps"], summaries["dpsgd"], summaries["power"]
    if "saps" in refs:
        ok = None
        text = "saps failed"
        if "acc" in saps:
            d = 100 * saps["acc"] - refs["saps"][0]
            ok = abs(d) <= 1.0 if comparable else None
            text = "%.1f %% vs %.1f %%, %+.1f points" % (100 * saps["acc"], refs["saps"][0], d)
        lines.append("SAPS within 1 point of the reference: %s — %s%s" % (verdict(ok), text, note))
    rnd = summaries["random"]
    if "random" in refs and "acc" in rnd:
        d = 100 * rnd["acc"] - refs["random"][0]
        lines.append("(info) random matching, the reference's own pairing rule, within 1 point of it: %s — "
                     "%.1f %% vs %.1f %%, %+.1f points%s" % (verdict(abs(d) <= 1.0 if comparable else None),
                                                            100 * rnd["acc"], refs["random"][0], d, note))
    if "acc" in power and "acc" in dpsgd:
        d = 100 * (dpsgd["acc"] - power["acc"])
        share = power["mb"] / dpsgd["mb"] if dpsgd["mb"] else None
        ok = d <= 1.5 and share is not None and share <= 0.02
        lines.append("power within 1.5 points of dpsgd at ≤ 2 %% of its bytes: %s — %.1f %% vs %.1f %% "
                     "(%.1f points %s), %s MB vs %s MB (%s)" % (
                         verdict(ok), 100 * power["acc"], 100 * dpsgd["acc"], abs(d), "below" if d > 0 else "above",
                         fmt_mb(power["mb"]),
                         fmt_mb(dpsgd["mb"]), "-" if share is None else "%.2f %%" % (100 * share)))
    else:
        lines.append("power within 1.5 points of dpsgd at ≤ 2 % of its bytes: n/a (a run failed or was not selected)")
    if "acc" in power and "acc" in dpsgd and "acc" in saps:
        gap = dpsgd["acc"] - saps["acc"]
        if gap > 0:
            frac = (power["acc"] - saps["acc"]) / gap
            lines.append("power closes ≥ half of the saps → dpsgd gap: %s — closes %.0f %% of %.1f points "
                         "(saps %.1f, power %.1f, dpsgd %.1f)" % (
                             verdict(frac >= 0.5), 100 * frac, 100 * gap, 100 * saps["acc"],
                             100 * power["acc"], 100 * dpsgd["acc"]))
        else:
            lines.append("power closes ≥ half of the saps → dpsgd gap: n/a — no gap (saps %.1f ≥ dpsgd %.1f)"
                         % (100 * saps["acc"], 100 * dpsgd["acc"]))
    else:
        lines.append("power closes ≥ half of the saps → dpsgd gap: n/a (a run failed or was not selected)")
    for line in lines:
        print("- " + line)
    print()


# --------------------------------------------------------------------------
# table 2


def print_hetero_table(bandwidths, runs, args):
    print("| bandwidth | saps acc. % | random acc. % | MB sent / worker | saps comm s | random comm s "
          "| random/saps (median, min–max) | target: saps faster |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    all_ok = True
    for bw in bandwidths:
        by_seed = {}
        for r in runs:
            if r.group == bw:
                by_seed.setdefault(r.seed, {})[r.algorithm] = r
        pairs = [(d["saps"], d["random"]) for d in by_seed.values()
                 if not d["saps"].error and not d["random"].error]
        sa = [s for s, _ in pairs]
        ra = [r for _, r in pairs]
        if not pairs:
            print("| %s | failed | | | | | | n/a |" % bw)
            all_ok = False
            continue
        ratios = [r.final["comm_seconds"] / s.final["comm_seconds"] if s.final["comm_seconds"] > 0 else math.inf
                  for s, r in pairs]
        ok = all(x > 1 for x in ratios)
        all_ok = all_ok and ok and len(pairs) == len(by_seed)
        ratio = "%.2fx" % statistics.median(ratios)
        if len(ratios) > 1:
            ratio += " (%.2f–%.2f)" % (min(ratios), max(ratios))
        mb = "%s / %s" % (fmt_mb(median([s.final["mb_per_worker"] for s in sa])),
                          fmt_mb(median([r.final["mb_per_worker"] for r in ra])))
        status = verdict(ok)
        if len(pairs) < len(by_seed):
            status += " (%d/%d seeds ok)" % (len(pairs), len(by_seed))
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            bw, pct(median([s.final["mean_accuracy"] for s in sa])),
            pct(median([r.final["mean_accuracy"] for r in ra])), mb,
            fmt_s(median([s.final["comm_seconds"] for s in sa])),
            fmt_s(median([r.final["comm_seconds"] for r in ra])), ratio, status))
    print()
    print("MB sent / worker: saps / random. The ratio is per seed (both algorithms on the same matrix, "
          "which the seed draws); target: > 1 for every seed.")
    print()
    return all_ok


# --------------------------------------------------------------------------
# plots


def plot(partition, runs, out_dir, first_seed, epochs):
    csvs = [r.csv for r in runs if r.seed == first_seed and not r.error]
    if not csvs:
        return None, "no successful runs"
    tag = "".join(c if c.isalnum() or c in "-." else "" for c in partition.replace(":", ""))
    png = os.path.join(out_dir, "tta-%s.png" % tag)
    python = VENV_PYTHON if os.path.exists(VENV_PYTHON) else sys.executable
    cmd = [python, PLOT_SCRIPT, "--out", png, "--title",
           "Fashion-MNIST, %d workers, %s, %s, %g epochs (seed %d)" % (WORKERS, MODEL, partition, epochs, first_seed)
           ] + csvs
    log("$ " + shlex.join(cmd))
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if p.returncode != 0:
        return None, "exit %d: %s" % (p.returncode, p.stderr.strip()[-500:])
    return png, None


# --------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gossipfl-bin", default=DEFAULT_BIN,
                    help="gossipfl binary (default .build/release/gossipfl; "
                         "build: swift build -c release --product gossipfl)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 2 epochs, 1 seed")
    ap.add_argument("--epochs", type=float, help="epochs of the time-to-accuracy runs (default 8, quick 2)")
    ap.add_argument("--seeds", type=int, nargs="+", help="seeds; every configuration runs once per seed "
                                                         "(default 1 2 3, quick 1)")
    ap.add_argument("--partitions", nargs="+", default=["iid", "dirichlet:0.5"])
    ap.add_argument("--algorithms", nargs="+", choices=ALGORITHMS, help="subset of the time-to-accuracy "
                    "algorithms to run (default all; the target lines need saps, dpsgd and power)")
    ap.add_argument("--bandwidth", default="random", help="bandwidth of the time-to-accuracy runs "
                    "(default random, the original's U(0,5) MB/s)")
    ap.add_argument("--hetero-bandwidth", nargs="*", default=["clustered:2", "loguniform"],
                    help="matrices of the saps-vs-random table (default clustered:2 loguniform; none: skip it)")
    ap.add_argument("--hetero-epochs", type=float, default=2.0, help="epochs of those runs (default 2)")
    ap.add_argument("--target", type=float, default=0.80, help="mean accuracy for time-to-accuracy (default 0.80)")
    ap.add_argument("--evaluations-per-epoch", type=int, default=4)
    ap.add_argument("--eval-samples", type=int, help="test samples per evaluation (default: all 10,000)")
    ap.add_argument("--jobs", type=int, default=2, help="simulations side by side (default 2)")
    ap.add_argument("--threads", type=int, default=1, help="--threads of each simulation (default 1)")
    ap.add_argument("--timeout", type=float, help="seconds per run before it is killed (default 180 + 120 x epochs)")
    ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default=DEFAULT_OUT, help="directory for the CSVs and PNGs (default out/bench-gossip)")
    ap.add_argument("--reuse", action="store_true", help="take the CSV of a configuration from --out when one "
                    "is there and reaches the configured epochs, instead of running it (e.g. to redo the tables); "
                    "the CSV must come from the same options")
    args = ap.parse_args(argv)

    if args.epochs is None:
        args.epochs = 2.0 if args.quick else float(REFERENCE_EPOCHS)
    if args.seeds is None:
        args.seeds = [1] if args.quick else [1, 2, 3]
    algorithms = args.algorithms or ALGORITHMS
    args.gossipfl_bin = os.path.abspath(args.gossipfl_bin)
    if not (os.path.isfile(args.gossipfl_bin) and os.access(args.gossipfl_bin, os.X_OK)):
        print("error: %s is not an executable file; build it with\n"
              "    swift build -c release --product gossipfl\nor pass --gossipfl-bin" % args.gossipfl_bin,
              file=sys.stderr)
        return 2
    if not os.path.isdir(args.data_dir):
        print("error: no Fashion-MNIST at %s (apt-get install dataset-fashion-mnist, or --data-dir)"
              % args.data_dir, file=sys.stderr)
        return 2
    out_dir = os.path.abspath(args.out)
    os.makedirs(out_dir, exist_ok=True)

    tta = [Run("tta", p, a, s, args.epochs, args.bandwidth, p, args, out_dir)
           for s in args.seeds for p in args.partitions for a in algorithms]
    hetero = [Run("hetero", bw, a, s, args.hetero_epochs, bw, "iid", args, out_dir)
              for s in args.seeds for bw in args.hetero_bandwidth for a in ("saps", "random")]
    log("gossip bench: %d runs, %d at a time, --threads %d, output in %s" % (
        len(tta) + len(hetero), args.jobs, args.threads, out_dir))
    start = time.monotonic()
    run_all(tta + hetero, args.jobs, args.reuse)
    elapsed = time.monotonic() - start

    plots = []
    for p in args.partitions:
        png, err = plot(p, [r for r in tta if r.group == p], out_dir, args.seeds[0], args.epochs)
        plots.append((p, png, err))

    # ---- report
    sys.stderr.flush()
    failed = [r for r in tta + hetero if r.error]
    n_reused = sum(1 for r in tta + hetero if r.reused)
    reused = " (%d of them reused from earlier CSVs, not run)" % n_reused if n_reused else ""
    print()
    print("## Gossip learning benchmark (gossipfl simulate, %s, %d CPUs%s)" % (
        platform.machine(), os.cpu_count() or 0, ", QUICK" if args.quick else ""))
    print()
    print("Fashion-MNIST, %d workers, %s, lr %g, batch %d, momentum 0.9, wd 1e-4, lr x 0.992 per epoch. "
          "Seeds %s; medians over the seeds, spread = min–max of the mean accuracy. %d runs, %d at a time with "
          "`--threads %d`: %.0f s wall%s." % (WORKERS, MODEL, LR, BATCH, " ".join(map(str, args.seeds)),
                                             len(tta) + len(hetero), args.jobs, args.threads, elapsed, reused))
    print()
    print("### Time to accuracy and faithfulness: %g epochs, `--bandwidth %s`, %d evaluations per epoch"
          % (args.epochs, args.bandwidth, args.evaluations_per_epoch))
    print()
    print("Accuracy = mean test accuracy of the workers' own models after the last round; lowest worker = the "
          "worst of them; comm s = simulated communication time (each round lasts as long as its slowest "
          "transfer); time to %.0f %% = comm s at the first evaluation with mean accuracy ≥ %.0f %% (its epoch in "
          "brackets; median over seeds, a seed that never gets there counts as not reached)."
          % (100 * args.target, 100 * args.target))
    print("The reference's SAPS row uses a random perfect matching (bandwidth plays no part), which is our "
          "`random`; so it is shown against both.")
    print()
    for p in args.partitions:
        runs = [r for r in tta if r.group == p]
        summaries = {a: summarise([r for r in runs if r.algorithm == a], args.target) for a in ALGORITHMS}
        print_tta_table(p, summaries, args)
    if hetero:
        print("### Heterogeneous bandwidth: saps vs random matching, iid, %g epochs, ρ = %g" % (
            args.hetero_epochs, KEEP))
        print()
        print_hetero_table(args.hetero_bandwidth, hetero, args)
    print("CSVs: %s/{tta,hetero}-*.csv" % out_dir)
    for p, png, err in plots:
        print("Plot %s: %s" % (p, png if png else "not drawn (%s)" % err))
    if failed:
        print()
        print("%d run(s) failed:" % len(failed))
        for r in failed:
            print("- %s: %s" % (r.name, r.error.replace("\n", " ")))
    return 1 if failed or any(png is None for _, png, _ in plots) else 0


if __name__ == "__main__":
    sys.exit(main())
