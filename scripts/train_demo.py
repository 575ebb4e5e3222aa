#!/usr/bin/env python3
"""`make demo`: a gateway and peer processes train Fashion-MNIST with SAPS on this machine.

    python scripts/train_demo.py --gossipfl-bin .build/debug/gossipfl [--model mlp] [--epochs 6] [--mixed]

Everything runs with mutual TLS (certificates from `gossipfl certs`) on loopback. Four peers find
each other through the gateway and train; mid-training a fifth peer joins through the gateway, the
gateway is stopped, and a peer is kill -9ed and restarted. The screen shows each peer's round,
epoch, test accuracy, MB sent and partner (the current matching). At the end: a table of accuracy
per peer and a PNG of accuracy over time per peer. Exits non-zero if a peer ends below --target.
With --mixed (`make demo-mixed`), p4 is a Python node (`python -m gossipfl_py peer`: grpcio and
PyTorch) training in the same run; the plot draws Python peers dashed.
"""

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO_ROOT, "Tests", "interop"))

from gateway_fixtures import launch_gateway  # noqa: E402
from raft_fixtures import ClusterCerts  # noqa: E402
from training_fixtures import FASHION_MNIST, TrainingCluster  # noqa: E402

SLOTS = 5
BATCH = 50


class Screen:
    """Redraws a block in place on a terminal; prints a line now and then otherwise."""

    def __init__(self):
        self.tty = sys.stdout.isatty()
        self.lines = 0
        self.last_plain = 0.0

    def show(self, text):
        if self.tty:
            if self.lines:
                sys.stdout.write("\x1b[%dA\x1b[J" % self.lines)
            sys.stdout.write(text + "\n")
            self.lines = text.count("\n") + 1
        elif time.monotonic() - self.last_plain >= 3:
            self.last_plain = time.monotonic()
            sys.stdout.write(text + "\n\n")
        sys.stdout.flush()

    def event(self, text):
        """A line that stays above the live block."""
        if self.tty and self.lines:
            sys.stdout.write("\x1b[%dA\x1b[J" % self.lines)
            self.lines = 0
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def matching(statuses):
    """Pairs whose partners name each other (the statuses are read one after another)."""
    pairs = set()
    for name, s in statuses.items():
        other = statuses.get(s.partner_id) if s and s.partner_id else None
        if other is not None and other.partner_id == name:
            pairs.add(tuple(sorted((name, s.partner_id))))
    return "  ".join("%s<->%s" % p for p in sorted(pairs)) or "-"


def render(elapsed, total, statuses, roles, gateway_up):
    rounds = [s.round for s in statuses.values() if s]
    lines = ["t=%5.1fs  rounds %d..%d of %d  gateway %s" % (
        elapsed, min(rounds or [0]), max(rounds or [0]), total, "up" if gateway_up else "DOWN")]
    lines.append("  %-4s %-8s %6s %6s %8s %8s %-7s %-9s %s" % ("peer", "raft", "round", "epoch", "accuracy", "MB sent", "partner",
                                                            "exch/miss", "measured MB/s to"))
    for name in sorted(statuses):
        s = statuses[name]
        if s is None:
            lines.append("  %-4s %-8s %s" % (name, roles.get(name, "?"), "(down)"))
            continue
        links = " ".join("%s:%.0f" % (p, v) for p, v in zip(s.link_peers, s.link_mbps)) or "-"
        lines.append("  %-4s %-8s %6d %6.2f %8s %8.2f %-7s %-9s %s" % (
            name, roles.get(name, "?"), s.round, s.epoch, "%.4f" % s.test_accuracy if s.evaluated_round else "-",
            s.megabytes_sent, s.partner_id or "-", "%d/%d" % (s.exchanges, s.missed_exchanges), links))
    lines.append("  matching: " + matching(statuses))
    return "\n".join(lines)


def plot(history, events, path, target):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lowest = min([a * 100 for points in history.values() for _, a in points] or [50])
    bottom = max(0, min(50, lowest - 5))
    fig, ax = plt.subplots(figsize=(9, 5))
    for name in sorted(history):
        points = history[name]
        if points:
            python = name.startswith("py")
            ax.plot([t for t, _ in points], [a * 100 for _, a in points], marker="o", markersize=3,
                    linestyle="--" if python else "-", label=name + (" (Python)" if python else " (Swift)"))
    for t, text in events:
        ax.axvline(t, color="grey", linestyle=":", linewidth=1)
        ax.text(t, bottom + 1, " " + text, rotation=90, fontsize=7, color="grey", va="bottom")
    ax.axhline(target * 100, color="red", linestyle="--", linewidth=0.8, label="target %.0f%%" % (target * 100))
    ax.set_xlabel("seconds since training started")
    ax.set_ylabel("test accuracy (%)")
    ax.set_ylim(bottom, 100)
    ax.set_title("GossipFL/SAPS on Fashion-MNIST: accuracy per peer")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gossipfl-bin", required=True)
    parser.add_argument("--model", default="mlp", choices=["logreg", "mlp", "cnn"])
    parser.add_argument("--epochs", type=float, default=6)
    parser.add_argument("--target", type=float, default=0.80, help="every peer must end at least this accurate")
    parser.add_argument("--eval-samples", type=int, default=10000)
    parser.add_argument("--plot", default=os.path.join(REPO_ROOT, "out", "demo-accuracy.png"))
    parser.add_argument("--timeout", type=float, default=280, help="give up after this many seconds")
    parser.add_argument("--mixed", action="store_true", help="p4 is a Python node (gossipfl_py) among the Swift peers")
    args = parser.parse_args()
    if not os.path.isdir(FASHION_MNIST):
        sys.exit("train_demo: %s is missing (Debian's dataset-fashion-mnist; `make deps` installs it)" % FASHION_MNIST)

    rounds_per_epoch = -(-60000 // SLOTS // BATCH)
    total = int(round(args.epochs * rounds_per_epoch))
    root = tempfile.mkdtemp(prefix="gossipfl-demo-")
    screen = Screen()
    train_args = ["--model", args.model, "--slots", str(SLOTS), "--min-peers", "4", "--epochs", str(args.epochs),
                  "--batch", str(BATCH), "--eval-samples", str(args.eval_samples), "--evals-per-epoch", "4",
                  "--checkpoint-every", "60"]
    gateway = cluster = None
    try:
        certs = ClusterCerts(args.gossipfl_bin, os.path.join(root, "certs"))
        gateway = launch_gateway(args.gossipfl_bin, os.path.join(root, "gateway"), security=certs.args("gateway", "gateway"))
        gateway_up = True
        screen.event("gateway listening on %s (mutual TLS)" % gateway.address)
        cluster = TrainingCluster(args.gossipfl_bin, root, train_args, certs=certs)
        for i in range(1, 5):
            if args.mixed and i == 4:
                peer = cluster.add_python("py4", ["--gateway", gateway.address])
            else:
                peer = cluster.add("p%d" % i, ["--gateway", gateway.address])
            screen.event("%s %s through the gateway, listening on %s" % (peer.node_id, peer.how_started, peer.address))
        screen.event("training %s on Fashion-MNIST: %d slots of %d images, %d rounds an epoch, %d rounds" % (
            args.model, SLOTS, 60000 // SLOTS, rounds_per_epoch, total))

        start = time.monotonic()
        history = {}
        events = []
        evaluated = {}
        stage = 0
        restart_at = None
        victim = None
        while True:
            now = time.monotonic() - start
            if now > args.timeout:
                raise SystemExit("train_demo: training did not finish within %.0f s" % args.timeout)
            peers = dict(cluster.peers)
            statuses = {name: (p.training_status(timeout=0.5) if p.is_alive() else None) for name, p in peers.items()}
            roles = {}
            for name, p in peers.items():
                s = p.try_status(timeout=0.3) if p.is_alive() else None
                roles[name] = s.role if s else ("python" if name.startswith("py") else "-")
            for name, s in statuses.items():
                if s and s.evaluated_round and evaluated.get(name) != s.evaluated_round:
                    evaluated[name] = s.evaluated_round
                    history.setdefault(name, []).append((now, s.test_accuracy))
            live = [s for s in statuses.values() if s]
            slowest = min((s.round for s in live), default=0) / rounds_per_epoch

            def note(text):
                events.append((now, text))
                screen.event("t=%5.1fs  %s" % (now, text))

            if stage == 0 and slowest >= 1.0:
                # The newcomer starts in the background: the display goes on while it joins.
                joiner = threading.Thread(target=cluster.add, args=("p5", ["--gateway", gateway.address]), daemon=True)
                joiner.start()
                note("p5 starts: registers at the gateway, joins Raft through the leader hint")
                stage = 1
            elif stage == 1 and not joiner.is_alive() and "p5" not in cluster.peers:
                raise SystemExit("train_demo: p5 did not start")
            elif stage == 1 and not joiner.is_alive() and slowest >= 2.0:
                gateway.close()
                gateway_up = False
                note("gateway stopped: the peers go on without it")
                stage = 2
            elif stage == 2 and slowest >= 3.0:
                victim = next(p for n, p in cluster.peers.items() if roles.get(n) != "leader" and n != "p5")
                victim.kill9()
                note("%s kill -9ed" % victim.node_id)
                restart_at = now + 3
                stage = 3
            elif stage == 3 and now >= restart_at:
                victim.start()
                note("%s restarted: %s from its own disk (the gateway is still down)" % (victim.node_id, victim.how_started))
                stage = 4
            screen.show(render(now, total, statuses, roles, gateway_up))
            if stage == 4 and live and all(s.round >= total and s.evaluated_round >= total for s in live) \
                    and len(live) == len(cluster.peers):
                break
            time.sleep(0.5)

        elapsed = time.monotonic() - start
        final = {name: p.training_status() for name, p in cluster.peers.items()}
        print("\ntrained %d rounds (%.1f epochs) in %.1f s" % (total, args.epochs, elapsed))
        print("  %-4s %9s %9s %8s" % ("peer", "accuracy", "MB sent", "missed"))
        for name in sorted(final):
            s = final[name]
            print("  %-4s %8.2f%% %9.2f %8d" % (name, s.test_accuracy * 100, s.megabytes_sent, s.missed_exchanges))
        plot(history, events, args.plot, args.target)
        print("accuracy over time per peer: %s" % os.path.relpath(args.plot))
        worst = min(s.test_accuracy for s in final.values())
        if worst < args.target:
            raise SystemExit("train_demo: a peer ended at %.2f%%, below the %.0f%% target" % (worst * 100, args.target * 100))
        print("every peer is above %.0f%%" % (args.target * 100))
    finally:
        if cluster is not None:
            cluster.close()
        if gateway is not None:
            gateway.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
