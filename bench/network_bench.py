#!/usr/bin/env python3
"""Training peers on the network against the in-process simulation, and on shaped links.

    python bench/network_bench.py --gossipfl-bin .build/release/gossipfl [--repeats 3] [--quick]

1. The cost of the network (loopback): 4 peer processes train the MLP for --epochs with SAPS;
   wall-clock per round and per epoch against `gossipfl simulate` of the same configuration (4
   workers on both cores, same data split, batch, rho), run side by side in this run. Medians of
   --repeats.
2. Bytes on the wire per round (4 peers in network namespaces, probes off): what each peer's link
   carried (Ethernet frames, and the TCP payload: frames less 66 bytes of Ethernet/IP/TCP headers
   a packet), against the ideal, the values sent (k values x 4 bytes a peer a round). This
   counts everything: TLS-free HTTP/2 and gRPC framing, Raft heartbeats and log entries, status
   calls of this script.
3. Shaped links (two sites of two peers, 100 Mbit/s within a site, 5 Mbit/s between): SAPS,
   random matching, dense pairwise gossip (random matching, rho = 1: whole models) and dense
   D-PSGD (the ring in slot order, whole models to both neighbours every round; half its links
   cross the slow ones): seconds until every peer's test accuracy reaches 80 % and 84 %, the
   mean round time, and the lowest peer's accuracy when the run ended. Every run waits up to
   5 s for a partner, time enough for a whole model over 5 Mbit/s.

Parts 2 and 3 need root and network namespaces; they are skipped with the reason otherwise.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "interop"))

from netns import ShapedNetwork, unavailable  # noqa: E402
from netns_training import clustered_rates, start_cluster  # noqa: E402
from training_fixtures import TrainingCluster  # noqa: E402

PEERS = 4
ROUNDS_PER_EPOCH = 300  # 60,000 images in 4 slots of 15,000, batch 50


def table(title, header, rows):
    print("\n" + title)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    print("  " + "  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def simulate_seconds(binary, epochs):
    cmd = [binary, "simulate", "--model", "mlp", "--workers", str(PEERS), "--epochs", str(epochs), "--threads", "2",
           "--eval-samples", "2000", "--no-output"]
    start = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise SystemExit("simulate failed: %s" % p.stderr)
    return time.monotonic() - start


def network_seconds(binary, epochs):
    """Seconds from every peer training to every peer done, and the rounds."""
    root = tempfile.mkdtemp(prefix="gossipfl-netbench-")
    total = int(epochs * ROUNDS_PER_EPOCH)
    args = ["--slots", str(PEERS), "--min-peers", str(PEERS), "--epochs", str(epochs), "--eval-samples", "2000",
            "--checkpoint-every", "100000", "--probe-interval-ms", "0"]
    cluster = TrainingCluster(binary, root, args)
    try:
        cluster.start_static(PEERS)
        cluster.wait(lambda s: all(v and v.round > 0 for v in s.values()), 60, "training", interval=0.02)
        start = time.monotonic()
        cluster.wait(lambda s: all(v and v.round >= total for v in s.values()), 600, "done", interval=0.02)
        return time.monotonic() - start, total
    finally:
        cluster.close()


def part_loopback(binary, repeats, epochs):
    sims, nets = [], []
    for _ in range(repeats):
        sims.append(simulate_seconds(binary, epochs))
        seconds, total = network_seconds(binary, epochs)
        nets.append(seconds)
    sim, net = statistics.median(sims), statistics.median(nets)
    total = int(epochs * ROUNDS_PER_EPOCH)
    rows = [
        ["gossipfl simulate (1 process, 4 workers)", "%.2f" % (sim / total * 1e3), "%.2f" % (sim / epochs), "1.00"],
        ["4 peer processes, loopback", "%.2f" % (net / total * 1e3), "%.2f" % (net / epochs), "%.2f" % (net / sim)],
    ]
    table("loopback, MLP, SAPS rho 0.01, %g epochs, median of %d (simulate includes its data load)" % (epochs, repeats),
          ["run", "ms/round", "s/epoch", "vs simulate"], rows)


def part_bytes(binary, extra=()):
    root = tempfile.mkdtemp(prefix="gossipfl-netbytes-")
    with ShapedNetwork(clustered_rates(fast=1000, slow=1000), hosts=PEERS, delay_ms=0) as net:
        args = ["--slots", str(PEERS), "--min-peers", str(PEERS), "--epochs", "0", "--eval-samples", "500",
                "--checkpoint-every", "100000", "--probe-interval-ms", "0", "--evals-per-epoch", "1"] + list(extra)
        cluster = start_cluster(binary, root, net, args)
        try:
            cluster.wait(lambda s: all(v and v.training and v.round > 20 for v in s.values()), 60, "training")
            before = {k: v for k, v in cluster.statuses().items()}
            tx0 = [net.tx_bytes(i) for i in range(PEERS)]
            packets0 = [_packets(net, i) for i in range(PEERS)]
            time.sleep(8)
            after = {k: v for k, v in cluster.statuses().items()}
            tx1 = [net.tx_bytes(i) for i in range(PEERS)]
            packets1 = [_packets(net, i) for i in range(PEERS)]
        finally:
            cluster.close()
    rounds = min(after[k].round - before[k].round for k in before)
    values_bytes = sum(after[k].megabytes_sent - before[k].megabytes_sent for k in before) * 1e6 / PEERS / rounds
    frames = sum(b - a for a, b in zip(tx0, tx1)) / PEERS / rounds
    packets = sum(b - a for a, b in zip(packets0, packets1)) / PEERS / rounds
    return values_bytes, frames - 66 * packets, frames, rounds


def part_bytes_table(binary, repeats):
    """Medians over `repeats` runs (the overhead depends on rounds a second: Raft's heartbeats
    go by the clock), with the range."""
    runs = [part_bytes(binary) for _ in range(repeats)]
    values = statistics.median(r[0] for r in runs)

    def cell(i):
        overheads = sorted((r[i] / r[0] - 1) * 100 for r in runs)
        return "%.0f" % statistics.median(r[i] for r in runs), "%+.1f %% (%+.1f..%+.1f)" % (
            statistics.median(overheads), overheads[0], overheads[-1])

    rows = [["values sent (ideal)", "%.0f" % values, "-"],
            ["TCP payload (HTTP/2, gRPC, Raft, status)", *cell(1)],
            ["Ethernet frames", *cell(2)]]
    table("bytes a peer sends a round, 4 peers in namespaces, MLP rho 0.01, probes off, median of %d runs of 8 s "
          "(%d-%d rounds)" % (repeats, min(r[3] for r in runs), max(r[3] for r in runs)),
          ["what", "bytes/round", "overhead (range)"], rows)


def _packets(net, i):
    p = subprocess.run(["ip", "netns", "exec", net.namespaces[i], "cat", "/sys/class/net/eth0/statistics/tx_packets"],
                       capture_output=True, text=True, timeout=10)
    return int(p.stdout.strip())


TARGETS = (0.80, 0.84)


def time_to_accuracy(binary, algorithm, keep, timeout):
    """Seconds until every peer's latest evaluation reaches each of TARGETS (None: not within
    `timeout`), the mean round time over the run, whether links had delay, and the lowest
    peer's latest accuracy."""
    root = tempfile.mkdtemp(prefix="gossipfl-shaped-")
    with ShapedNetwork(clustered_rates(fast=100, slow=5), hosts=PEERS, delay_ms=2) as net:
        args = ["--algorithm", algorithm, "--keep", str(keep), "--slots", str(PEERS), "--min-peers", str(PEERS), "--epochs", "0",
                "--eval-samples", "2000", "--evals-per-epoch", "10", "--probe-interval-ms", "300", "--checkpoint-every", "100000",
                "--exchange-timeout-ms", "5000"]
        cluster = start_cluster(binary, root, net, args)
        try:
            cluster.wait(lambda s: all(v and v.training and v.round > 0 for v in s.values()), 60, "training", interval=0.05)
            start = time.monotonic()
            start_rounds = min(v.round for v in cluster.statuses().values())
            reached = {}
            rounds, lowest = 0, 0.0
            while time.monotonic() - start < timeout and len(reached) < len(TARGETS):
                statuses = cluster.statuses()
                live = [v for v in statuses.values() if v]
                if len(live) == PEERS:
                    rounds = min(v.round for v in live) - start_rounds
                    lowest = min(v.test_accuracy for v in live)
                    for target in TARGETS:
                        if target not in reached and all(v.evaluated_round and v.test_accuracy >= target for v in live):
                            reached[target] = time.monotonic() - start
                time.sleep(0.1)
            elapsed = time.monotonic() - start
            return reached, elapsed / max(1, rounds), net.delay_supported, lowest
        finally:
            cluster.close()


SHAPED_RUNS = [("saps", "saps", 0.01), ("random matching", "random", 0.01), ("dense pairwise (random, rho 1)", "random", 1.0),
               ("dense D-PSGD ring", "dpsgd", 1.0)]


def part_shaped(binary, timeout, only=None):
    runs = [r for r in SHAPED_RUNS if only is None or r[0] in only]
    results, delay = {}, True
    for name, algorithm, keep in runs:
        reached, per_round, delay, lowest = time_to_accuracy(binary, algorithm, keep, timeout)
        results[name] = (reached, per_round, lowest)
    rows = []
    saps_reached = results["saps"][0] if "saps" in results else {}
    for name, _, _ in runs:
        reached, per_round, lowest = results[name]
        row = [name]
        for target in TARGETS:
            t = reached.get(target)
            ratio = " (%.2fx)" % (t / saps_reached[target]) if t and saps_reached.get(target) else ""
            row.append("%.1f%s" % (t, ratio) if t else "not in %d s" % timeout)
        row.append("%.1f" % (per_round * 1e3))
        row.append("%.1f" % (lowest * 100))
        rows.append(row)
    table("shaped links: 2 sites x 2 peers, 100 Mbit/s within, 5 Mbit/s between%s; MLP; seconds until every peer "
          "reaches the accuracy (x saps)" % (", 2 ms delay" if delay else " (no delay: this kernel has no sch_netem)"),
          ["run"] + ["to %.0f %%" % (t * 100) for t in TARGETS] + ["ms/round", "lowest % at end"], rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gossipfl-bin", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--quick", action="store_true", help="one repeat, one epoch")
    parser.add_argument("--parts", default="loopback,bytes,shaped", help="comma-separated: loopback, bytes, shaped")
    parser.add_argument("--shaped-timeout", type=float, default=300, help="seconds each shaped run may take")
    parser.add_argument("--shaped-runs", help="comma-separated subset of: " + ", ".join(r[0] for r in SHAPED_RUNS))
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if args.quick:
        args.repeats, args.epochs, args.shaped_timeout = 1, 1, 60
    if "loopback" in parts:
        part_loopback(args.gossipfl_bin, args.repeats, args.epochs)
    if not parts & {"bytes", "shaped"}:
        return
    reason = unavailable()
    if reason:
        print("\nshaped-link and wire-byte parts skipped: %s" % reason)
        return
    if "bytes" in parts:
        part_bytes_table(args.gossipfl_bin, args.repeats)
    if "shaped" in parts:
        part_shaped(args.gossipfl_bin, args.shaped_timeout, args.shaped_runs.split(",") if args.shaped_runs else None)


if __name__ == "__main__":
    main()
