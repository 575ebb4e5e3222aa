"""`python -m gossipfl_py peer`: a Python training peer in a GossipFL cluster.

    python -m gossipfl_py peer --id py1 --listen 127.0.0.1:7300 --gateway 127.0.0.1:7000 \\
        --tls-cert py1.pem --tls-key py1-key.pem --tls-ca ca.pem --data-dir py1

It registers at the gateway (or takes --join HOST:PORT,...), follows the committed training
entries from a Raft member, asks to be admitted, and trains its data slot with PyTorch, meeting
its partners over gossip.v1. Prints "listening on HOST:PORT" when it serves, then a progress line
a second on stderr; exits 0 on SIGTERM/SIGINT after a last checkpoint.
"""

import argparse
import os
import signal
import sys
import threading
import time
from concurrent import futures

import grpc

from . import service
from .checkpoint import CheckpointError
from .cluster import Channels, Follower, NoCluster, Proposer, register
from .codec import ARCHITECTURES, Algorithm, PartitionScheme, RunConfiguration
from .peer import PeerOptions, PythonPeer
from .tls import ClusterTLS

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
TRAINING_IMAGES = 60_000


def log(message: str) -> None:
    sys.stderr.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), message))
    sys.stderr.flush()


def host_port(text: str):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError("%r is not HOST:PORT" % text)
    return host, int(port)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gossipfl_py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    peer = sub.add_parser("peer", help="train as a peer of a GossipFL cluster")
    peer.add_argument("--id", required=True, help="this node's ID (1-128 of [A-Za-z0-9._:-]); its certificate must name it")
    peer.add_argument("--listen", required=True, type=host_port, help="where to serve gossip.v1 (HOST:PORT; port 0 picks one)")
    peer.add_argument("--advertise-host", help="host the other peers dial (default: the listen host)")
    peer.add_argument("--gateway", type=host_port, help="the discovery gateway (HOST:PORT)")
    peer.add_argument("--join", help="Raft members to follow, comma-separated HOST:PORT (no gateway)")
    peer.add_argument("--data-dir", required=True, help="directory for checkpoints")
    peer.add_argument("--dataset-dir", default=FASHION_MNIST, help="the data set's IDX files")
    peer.add_argument("--insecure", action="store_true", help="plaintext, every caller trusted (local tries only)")
    peer.add_argument("--tls-cert")
    peer.add_argument("--tls-key")
    peer.add_argument("--tls-ca")
    # The run to propose when the cluster has none yet (the same options as `gossipfl peer`).
    peer.add_argument("--run-id", default="fashion-mnist")
    peer.add_argument("--model", default="mlp", choices=ARCHITECTURES)
    peer.add_argument("--partition", default="iid")
    peer.add_argument("--slots", type=int, default=4)
    peer.add_argument("--min-peers", type=int, default=1)
    peer.add_argument("--algorithm", default="saps", choices=Algorithm.ON_THE_NETWORK)
    peer.add_argument("--keep", type=float, default=0.01)
    peer.add_argument("--epochs", type=float, default=5.0)
    peer.add_argument("--batch", type=int, default=50)
    peer.add_argument("--lr", type=float)
    peer.add_argument("--lr-decay", type=float, default=0.992)
    peer.add_argument("--seed", type=int, default=1)
    peer.add_argument("--horizon-rounds", type=int, default=16)
    # How this peer trains.
    peer.add_argument("--exchange-timeout-ms", type=int, default=1000)
    peer.add_argument("--retire-after", type=int, default=3)
    peer.add_argument("--checkpoint-every", type=int, default=100)
    peer.add_argument("--eval-samples", type=int)
    peer.add_argument("--evals-per-epoch", type=int, default=1)
    peer.add_argument("--train-threads", type=int, default=1)
    peer.add_argument("--probe-interval-ms", type=int, default=1000, help="probe one other peer's throughput this often (0: never)")
    return p


def proposal(args) -> RunConfiguration:
    rounds_per_epoch = max(1, -(-TRAINING_IMAGES // args.slots // args.batch))
    rounds = None if args.epochs == 0 else max(1, round(args.epochs * rounds_per_epoch))
    return RunConfiguration(run_id=args.run_id, architecture=args.model, partition=PartitionScheme.parse(args.partition), slots=args.slots,
                            seed=args.seed, rounds_per_epoch=rounds_per_epoch, rounds=rounds, algorithm=args.algorithm,
                            keep_fraction=args.keep, learning_rate=args.lr if args.lr is not None else (0.01 if args.model == "logreg" else 0.05),
                            learning_rate_decay=args.lr_decay, batch_size=args.batch, min_participants=args.min_peers,
                            horizon_rounds=args.horizon_rounds)


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if not args.insecure and not (args.tls_cert and args.tls_key and args.tls_ca):
        log("error: give --tls-cert, --tls-key and --tls-ca (the cluster's), or --insecure")
        return 64
    if args.probe_interval_ms < 0:
        log("error: --probe-interval-ms must be 0 (never) or more")
        return 64
    if not (args.gateway or args.join):
        log("error: give --gateway HOST:PORT or --join HOST:PORT,... to find the cluster")
        return 64
    tls = None if args.insecure else ClusterTLS.load(args.tls_cert, args.tls_key, args.tls_ca)
    if tls is not None and tls.own_identity() != ("node", args.id):
        log("error: %s names %s, not node %s" % (args.tls_cert, tls.own_identity(), args.id))
        return 64
    host, port = args.listen
    channels = Channels(tls)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=service.SERVER_OPTIONS)
    follower = Follower(channels, args.id, [], log)
    proposer = Proposer(channels, follower)
    options = PeerOptions(node_id=args.id, address="", data_directory=args.dataset_dir, checkpoint_directory=os.path.join(args.data_dir, "checkpoints"),
                          exchange_timeout=args.exchange_timeout_ms / 1000, misses_to_retire=args.retire_after,
                          checkpoint_every=args.checkpoint_every, evaluations_per_epoch=args.evals_per_epoch,
                          evaluation_samples=args.eval_samples, threads=args.train_threads, proposal=proposal(args),
                          probe_interval=None if args.probe_interval_ms == 0 else args.probe_interval_ms / 1000)
    peer = PythonPeer(options, follower, proposer, channels, tls is not None, log)
    service.add_to_server(server, peer)
    bound = server.add_secure_port("%s:%d" % (host, port), tls.server_credentials()) if tls else server.add_insecure_port("%s:%d" % (host, port))
    server.start()
    options.address = "%s:%d" % (args.advertise_host or host, bound)
    print("listening on %s:%d" % (host, bound), flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: (peer.stopping.set(), stop.set()))
    try:
        members = [m for m in (args.join or "").split(",") if m]
        if args.gateway:
            members += register(channels, "%s:%d" % args.gateway, args.id, args.advertise_host or host, bound).values()
        follower.add_members(members)
        follower.start()
        threading.Thread(target=progress_lines, args=(peer, stop), daemon=True).start()
        peer.run()
        stop.wait()
        return 0
    except NoCluster as error:
        log("error: %s" % error)
        return 69
    except CheckpointError as error:
        log("error: %s" % error)
        return 78
    except RuntimeError as error:
        log("error: %s" % error)
        return 70
    finally:
        follower.stop()
        server.stop(0)
        channels.close()


def progress_lines(peer: PythonPeer, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        s = peer.training_status()
        log("round %d epoch %.2f %s partner %s accuracy %.4f sent %.1f MB exchanges %d missed %d"
            % (s.round, s.epoch, "training" if s.training else "waiting", s.partner_id or "-", s.test_accuracy,
               s.megabytes_sent, s.exchanges, s.missed_exchanges))


if __name__ == "__main__":
    sys.exit(main())
