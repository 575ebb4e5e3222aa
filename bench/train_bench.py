#!/usr/bin/env python3
"""Training throughput benchmark: our Swift engine vs PyTorch CPU, side by side in the same run.

    .venv/bin/python bench/train_bench.py [--gossipfl-bin .build/release/gossipfl] [--repeats 5]
                                          [--seconds 3] [--models mlp,cnn] [--threads 1,2]

Measures samples/s of forward + backward + SGD update (momentum 0.9, weight decay 1e-4, lr 0.05,
cross-entropy, batch 50) on real Fashion-MNIST batches (consecutive training samples, normalised
with the training set's mean and std), for every (model, threads) configuration:

  ours     `<gossipfl-bin> train-bench --model M --threads T --seconds S --batch 50`, which prints
           one JSON line {"model", "threads", "samples_per_second"} (it warms up for one second
           before its S-second window)
  PyTorch  the same models (Tests/interop/torch_models.py) in this process, torch.set_num_threads(T),
           one warm-up second, then as many whole steps as fit in S seconds

The configurations are interleaved (repeat 1 of every configuration, then repeat 2, ...) and each
repeat runs ours and PyTorch back to back, so drift of the machine hits both columns alike; the
table gives medians (and min-max) over the repeats and the ratio ours/PyTorch (> 1: ours faster).
Without a gossipfl binary, or one without `train-bench`, only the PyTorch column is printed.
The table goes to stdout, progress to stderr.
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "Tests", "interop"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import torch_models as tm  # noqa: E402

DEFAULT_BIN = os.path.join(REPO_ROOT, ".build", "release", "gossipfl")
BATCH, LR, MOMENTUM, WEIGHT_DECAY = 50, 0.05, 0.9, 1e-4
WARM_UP = 1.0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# PyTorch


class TorchBench:
    def __init__(self, data_dir):
        train = tm.load_split(data_dir, "train")
        mean, std = tm.statistics(train.images)
        self.x = torch.from_numpy(np.ascontiguousarray(tm.normalise(train.images, mean, std)[:, None]))
        self.y = torch.from_numpy(train.labels)
        self.n = (len(self.y) // BATCH) * BATCH

    def run(self, model, threads, seconds):
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        net = tm.make_model(model)
        opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
        loss_fn = torch.nn.CrossEntropyLoss()
        pos = 0

        def step():
            nonlocal pos
            x, y = self.x[pos:pos + BATCH], self.y[pos:pos + BATCH]
            pos = (pos + BATCH) % self.n
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            return loss

        end = time.perf_counter() + WARM_UP
        while time.perf_counter() < end:
            step()
        steps, start = 0, time.perf_counter()
        while True:
            loss = step()
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        if not torch.isfinite(loss):
            raise RuntimeError("PyTorch %s diverged (loss %s)" % (model, loss.item()))
        return steps * BATCH / elapsed


# --------------------------------------------------------------------------
# ours


def swift_has_train_bench(binary):
    if not binary:
        return False, "no --gossipfl-bin"
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        return False, "%s is not an executable file" % binary
    try:
        out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return False, "%s --help timed out" % binary
    if not re.search(r"^\s+train-bench\b", out.stdout + out.stderr, re.M):
        return False, "%s has no train-bench subcommand" % binary
    return True, ""


def swift_run(binary, model, threads, seconds, data_dir):
    cmd = [binary, "train-bench", "--model", model, "--threads", str(threads), "--seconds", str(seconds),
           "--batch", str(BATCH), "--data-dir", data_dir]
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=seconds + WARM_UP + 120)
    lines = p.stdout.strip().splitlines()
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        raise RuntimeError("%s printed no JSON (rc=%s): %s %s" % (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    if p.returncode != 0:
        raise RuntimeError("%s failed (rc=%s): %s" % (" ".join(cmd), p.returncode, p.stderr))
    if result.get("model") != model or int(result.get("threads", -1)) != threads:
        raise RuntimeError("%s answered for another configuration: %s" % (" ".join(cmd), lines[-1]))
    return float(result["samples_per_second"])


# --------------------------------------------------------------------------


class OtherLoad:
    """CPUs used by other processes over an interval: busy time in /proc/stat minus this process's
    and its waited-for children's CPU time, divided by the wall time."""

    def __init__(self):
        self.hz = os.sysconf("SC_CLK_TCK")
        self.start = self._sample()

    def _sample(self):
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        busy = sum(fields[:8]) - fields[3] - fields[4]  # all but idle and iowait
        t = os.times()
        return time.monotonic(), busy / self.hz, t.user + t.system + t.children_user + t.children_system

    def cpus(self):
        end = self._sample()
        if end is None or self.start is None:
            return float("nan")
        wall = end[0] - self.start[0]
        return max(0.0, ((end[1] - self.start[1]) - (end[2] - self.start[2])) / wall) if wall > 0 else 0.0


def wait_quiet(limit, patience):
    """Wait (up to `patience` s) until other processes use less than `limit` CPUs over half a second."""
    if limit <= 0:
        return float("nan")
    deadline = time.monotonic() + patience
    while True:
        probe = OtherLoad()
        time.sleep(0.5)
        load = probe.cpus()
        if not load >= limit or time.monotonic() >= deadline:
            return load
        log("  machine busy (other processes use %.1f CPUs), waiting" % load)
        time.sleep(2)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def fmt_range(values):
    return "%.0f (%.0f-%.0f)" % (statistics.median(values), min(values), max(values))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gossipfl-bin", default=DEFAULT_BIN if os.path.exists(DEFAULT_BIN) else None,
                    help="gossipfl binary, release build (default %s if it exists)" % DEFAULT_BIN)
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats per configuration (default 5)")
    ap.add_argument("--seconds", type=float, default=3.0, help="measured seconds per run (default 3)")
    ap.add_argument("--models", default="mlp,cnn", help="comma-separated: logreg, mlp, cnn (default mlp,cnn)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--data-dir", default=tm.FASHION_MNIST)
    ap.add_argument("--max-other-load", type=float, default=0.25,
                    help="a T-thread run wants T CPUs to itself: before it, wait until other processes use fewer "
                         "than (CPUs - T) + this (default 0.25)")
    ap.add_argument("--patience", type=float, default=60,
                    help="seconds to wait for that before measuring anyway (default 60)")
    ap.add_argument("--attempts", type=int, default=4,
                    help="runs during which others used --max-other-load or more are measured again, up to "
                         "this many times in all (default 4); the last one counts")
    args = ap.parse_args(argv)

    models = [m for m in args.models.split(",") if m]
    threads = [int(t) for t in args.threads.split(",") if t]
    for m in models:
        if m not in tm.MODELS:
            ap.error("unknown model %r" % m)
    binary = os.path.abspath(args.gossipfl_bin) if args.gossipfl_bin else None
    ours, why_not = swift_has_train_bench(binary)
    if not ours:
        log("ours: not run (%s)" % why_not)

    bench = TorchBench(args.data_dir)
    configs = [(m, t) for m in models for t in threads]
    results = {c: {"ours": [], "torch": [], "other": []} for c in configs}
    for r in range(args.repeats):
        for model, t in configs:
            log("repeat %d/%d  %-6s threads %d" % (r + 1, args.repeats, model, t))
            # a run must have its t CPUs to itself: others may use the rest, plus --max-other-load
            limit = max(0, (os.cpu_count() or 1) - t) + args.max_other_load
            for column in (["ours"] if ours else []) + ["torch"]:
                for attempt in range(1, args.attempts + 1):
                    wait_quiet(limit, args.patience)
                    load = OtherLoad()
                    if column == "ours":
                        v = swift_run(binary, model, t, args.seconds, args.data_dir)
                    else:
                        v = bench.run(model, t, args.seconds)
                    other = load.cpus()
                    log("  %-8s %8.0f samples/s   (other processes: %.2f CPUs)" % (
                        "ours" if column == "ours" else "PyTorch", v, other))
                    if not other >= limit:
                        break
                    if attempt < args.attempts:
                        log("  spoiled by other processes, measuring again")
                results[(model, t)][column].append(v)
                results[(model, t)]["other"].append(other)

    print()
    print("## Training throughput, batch %d (forward + backward + SGD momentum %.1f, wd %g)" % (
        BATCH, MOMENTUM, WEIGHT_DECAY))
    print()
    print("%s, %d CPUs; PyTorch %s (%s), %d repeats x %.0f s (after %.0f s warm-up), interleaved." % (
        cpu_name(), os.cpu_count() or 0, torch.__version__,
        "MKL-DNN on" if torch.backends.mkldnn.is_available() else "MKL-DNN off",
        args.repeats, args.seconds, WARM_UP))
    print()
    print("| model | params | threads | ours samples/s | PyTorch samples/s | ours/PyTorch | other load |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for model, t in configs:
        res = results[(model, t)]
        tm_med = statistics.median(res["torch"])
        if res["ours"]:
            our = fmt_range(res["ours"])
            ratio = "%.2f" % (statistics.median(res["ours"]) / tm_med)
        else:
            our, ratio = "n/a", "n/a"
        print("| %s | %s | %d | %s | %s | %s | %.2f |" % (model, "{:,}".format(tm.PARAM_COUNTS[model]), t, our,
                                                        fmt_range(res["torch"]), ratio, max(res["other"])))
    print()
    print("Medians (min-max) over the repeats; ratio of the medians, > 1 means ours is faster. "
          "Other load: the most CPUs that other processes used during any counted run of that row "
          "(a T-thread run during which they used more than CPUs - T + %.2f is measured again, up to %d times "
          "in all; on %d CPUs others using ~1 spoil the 2-thread rows: PyTorch's OpenMP threads wait for each "
          "other at every barrier)." % (args.max_other_load, args.attempts, os.cpu_count() or 0))
    if not ours:
        print("(ours: not run -- %s)" % why_not)
    return 0


if __name__ == "__main__":
    sys.exit(main())
