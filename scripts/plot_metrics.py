#!/usr/bin/env python3
"""Plot `gossipfl simulate` metrics: mean test accuracy against epochs and against MB sent per
worker, one line per run (the CSV's `run` column). Usage: plot_metrics.py --out FILE.png CSV..."""
import argparse
import csv
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(paths):
    runs = OrderedDict()
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                runs.setdefault(row["run"], []).append(row)
    return runs


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--title", default="Fashion-MNIST")
    parser.add_argument("csv", nargs="+")
    args = parser.parse_args()
    runs = load(args.csv)
    if not runs:
        sys.exit(f"no evaluations in {', '.join(args.csv)}")
    fig, (by_epoch, by_bytes) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, rows in runs.items():
        epochs = [float(r["epoch"]) for r in rows]
        accuracy = [100 * float(r["mean_accuracy"]) for r in rows]
        megabytes = [float(r["mb_per_worker"]) for r in rows]
        (line,) = by_epoch.plot(epochs, accuracy, marker=".", label=name)
        if max(megabytes) > 0:  # a run that sends nothing has no place on a log scale of bytes
            by_bytes.plot(megabytes, accuracy, marker=".", label=name, color=line.get_color())
    by_epoch.set(xlabel="epoch", ylabel="mean test accuracy of the workers (%)", title=args.title)
    by_bytes.set(xlabel="MB sent per worker", ylabel="mean test accuracy of the workers (%)", xscale="log",
                 title="accuracy against traffic")
    for axes in (by_epoch, by_bytes):
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)


if __name__ == "__main__":
    main()
