#!/usr/bin/env python3
"""Swift, mixed and Python training clusters of the same size and run, side by side.

    python bench/mixed_bench.py --gossipfl-bin .build/release/gossipfl [--epochs 1] [--repeats 1]

Four peers train the MLP with SAPS (rho 0.01, 4 slots, batch 50, probes off so every run sees the
same links) on loopback: all Swift (`gossipfl peer --train`), 2 Swift + 2 Python (`python -m
gossipfl_py peer`), and all Python (with one more Swift peer, `--train --log-only`, holding the
training log: it does not train). Rounds per second from every peer training to every peer at the
last round, and the test accuracy (all 10,000 images) after --epochs, lowest and mean over the
peers. Medians of --repeats.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "interop"))
sys.path.insert(0, HERE)

from network_bench import table  # noqa: E402
from training_fixtures import TrainingCluster  # noqa: E402

SLOTS = 4
ROUNDS_PER_EPOCH = 300

CLUSTERS = [("4 Swift", ["swift"] * 4), ("2 Swift + 2 Python", ["swift", "swift", "python", "python"]), ("4 Python", ["python"] * 4)]


def run(binary, kinds, epochs):
    """(rounds a second, lowest accuracy, mean accuracy) of one cluster."""
    root = tempfile.mkdtemp(prefix="gossipfl-mixedbench-")
    total = int(epochs * ROUNDS_PER_EPOCH)
    args = ["--slots", str(SLOTS), "--min-peers", str(SLOTS), "--epochs", str(epochs), "--checkpoint-every", "100000"]
    cluster = TrainingCluster(binary, root, args)
    try:
        if kinds[0] == "swift":
            first = cluster.add("n1", ["--bootstrap"], ["--probe-interval-ms", "0"])
            rest = kinds[1:]
        else:
            first = cluster.add("log", ["--bootstrap"], ["--log-only"])
            rest = kinds
        for i, kind in enumerate(rest, start=2):
            if kind == "swift":
                cluster.add("n%d" % i, ["--join", first.address], ["--probe-interval-ms", "0"])
            else:
                cluster.add_python("py%d" % i, ["--join", first.address])
        trainers = [name for name in cluster.peers if name != "log"]

        def of(s):
            return {k: v for k, v in s.items() if k in trainers}
        cluster.wait(lambda s: all(v and v.training and v.round > 0 for v in of(s).values()), 120, "training", interval=0.02)
        start, first_rounds = time.monotonic(), min(v.round for v in of(cluster.statuses()).values())
        cluster.wait(lambda s: all(v and v.round >= total for v in of(s).values()), 900, "done", interval=0.02)
        seconds = time.monotonic() - start
        final = of(cluster.wait(lambda s: all(v and v.evaluated_round >= total for v in of(s).values()), 120, "evaluated"))
        accuracies = [v.test_accuracy for v in final.values()]
        return (total - first_rounds) / seconds, min(accuracies), sum(accuracies) / len(accuracies)
    finally:
        cluster.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gossipfl-bin", required=True)
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    results = {name: [] for name, _ in CLUSTERS}
    for _ in range(args.repeats):
        for name, kinds in CLUSTERS:
            results[name].append(run(args.gossipfl_bin, kinds, args.epochs))
    title = "4 peers on loopback, MLP, SAPS rho 0.01, %g epoch(s), median of %d (test accuracy on 10,000 images)" % (args.epochs, args.repeats)
    swift_rate = statistics.median(r[0] for r in results["4 Swift"])
    header = ["cluster", "rounds/s", "vs Swift", "lowest accuracy", "mean accuracy"]
    rows = []
    for name, _ in CLUSTERS:
        rate = statistics.median(r[0] for r in results[name])
        rows.append([name, "%.1f" % rate, "%.2f" % (rate / swift_rate), "%.2f %%" % (100 * statistics.median(r[1] for r in results[name])),
                     "%.2f %%" % (100 * statistics.median(r[2] for r in results[name]))])
    table(title, header, rows)


if __name__ == "__main__":
    main()
