"""Training clusters for the multi-process tests (test_training_*.py) and `make demo`.

Processes under test:
  gossipfl peer --id ID --listen 127.0.0.1:PORT --data-dir DIR [--gateway G | --bootstrap | --join A]
                --train [run options]
      serves raft.v1 and gossip.v1 on one port; trains the run committed in the Raft log.

The gossip.v1 stubs are generated from Protos/gossip/v1/gossip.proto with grpc_tools.protoc, so every
status and model read here is a Python grpcio client talking to our server. Every process started
through TrainingCluster is stopped by close() (SIGTERM, then SIGKILL); every wait is bounded.
"""

import os
import struct
import sys
import time

import grpc

INTEROP_DIR = os.path.dirname(os.path.abspath(__file__))
if INTEROP_DIR not in sys.path:
    sys.path.insert(0, INTEROP_DIR)

from interop_harness import REPO_ROOT, ServerProcess, pick_free_port  # noqa: E402
from raft_fixtures import Peer, PeerCluster, compile_protos  # noqa: E402

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
_loaded = None


def load_gossip_protos():
    """Namespace with pb (gossip.v1 messages) and grpc (GossipStub)."""
    global _loaded
    if _loaded is None:
        _loaded = compile_protos("gossip/v1/gossip.proto", ("gossip.v1.gossip_pb2", "gossip.v1.gossip_pb2_grpc"))
    return _loaded


class TrainingPeer(Peer):
    """A `gossipfl peer --train` process, with a gossip.v1 stub beside the raft.v1 ones."""

    def __init__(self, binary, node_id, port, data_dir, mode_args, train_args, certs=None, **kw):
        self.train_args = list(train_args)
        client = ("node", "observer") if certs else None
        super().__init__(binary, node_id, port, data_dir, list(mode_args), certs=certs, client=client, **kw)

    def command(self, mode_args=None):
        return super().command(mode_args) + ["--train"] + self.train_args

    def start(self, start_timeout=30.0, mode_args=None):
        super().start(start_timeout, mode_args)
        self.gossip = load_gossip_protos().grpc.GossipStub(self.channel)

    def training_status(self, timeout=1.0):
        """gossip.v1 Status, or None when the peer does not answer."""
        if self.channel is None:
            return None
        try:
            return self.gossip.Status(load_gossip_protos().pb.StatusRequest(), timeout=timeout)
        except grpc.RpcError:
            return None

    def fetch_model(self, run_id, timeout=30.0):
        """(round, list of float32 values) of this peer's current model, through FetchModel."""
        pb = load_gossip_protos().pb
        values, round_ = bytearray(), None
        for chunk in self.gossip.FetchModel(pb.FetchModelRequest(run_id=run_id, requester_id="observer"), timeout=timeout):
            round_ = chunk.round
            values += chunk.values
        return round_, struct.unpack("<%df" % (len(values) // 4), bytes(values))

    def log_text(self, limit=20000):
        return self.proc.stderr_text(limit)


class PythonTrainingPeer(TrainingPeer):
    """A `python -m gossipfl_py peer` process: a Python node that follows the log from a Raft
    member and trains with PyTorch. The same stubs and helpers as a Swift training peer."""

    def command(self, mode_args=None):
        security = self.certs.args("node", self.node_id) if self.certs else ["--insecure"]
        return ([sys.executable, "-m", "gossipfl_py", "peer", "--id", self.node_id, "--listen", self.address, "--data-dir", self.data_dir]
                + security + list(self.mode_args if mode_args is None else mode_args) + self.train_args)

    def start(self, start_timeout=60.0, mode_args=None):
        env = dict(os.environ, PYTHONPATH=os.path.join(REPO_ROOT, "python"))
        self.proc = ServerProcess(self.command(mode_args), name="python peer " + self.node_id, start_timeout=start_timeout, env=env)
        self.channel = self.open_channel(self.client)
        self.gossip = load_gossip_protos().grpc.GossipStub(self.channel)

    @property
    def how_started(self):
        return "started (a Python node following the log)"

    def try_status(self, timeout=0.5):
        """No Raft status: a Python node is not a Raft member."""
        return None


class TrainingCluster(PeerCluster):
    """Training peers on loopback, each on a fixed port (a restart keeps its Raft address)."""

    def __init__(self, binary, root, train_args=(), certs=None, tick_ms=20):
        super().__init__(binary, root, tick_ms=tick_ms, certs=certs)
        self.train_args = list(train_args)

    def add(self, node_id, mode_args, extra_train_args=()):
        peer = TrainingPeer(self.binary, node_id, pick_free_port(), os.path.join(self.root, node_id), mode_args,
                            self.train_args + list(extra_train_args), certs=self.certs, tick_ms=self.tick_ms)
        self.peers[node_id] = peer
        return peer

    def add_python(self, node_id, mode_args, extra_train_args=()):
        peer = PythonTrainingPeer(self.binary, node_id, pick_free_port(), os.path.join(self.root, node_id), mode_args,
                                  self.train_args + list(extra_train_args), certs=self.certs, tick_ms=self.tick_ms)
        self.peers[node_id] = peer
        return peer

    def start_static(self, count, first_args=()):
        """n1 bootstraps (with `first_args`, e.g. the run's options), the rest join through it."""
        first = self.add("n1", ["--bootstrap"], first_args)
        for i in range(2, count + 1):
            self.add("n%d" % i, ["--join", first.address])
        return self

    def leader(self, timeout=10.0):
        """The live peer whose Raft status says it leads; None on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for peer in self.alive():
                s = peer.try_status()
                if s is not None and s.role == "leader":
                    return peer
            time.sleep(0.05)
        return None

    def statuses(self):
        return {p.node_id: p.training_status() for p in self.alive()}

    def wait(self, predicate, timeout, desc, interval=0.2):
        """predicate(statuses) until true; AssertionError with every peer's log tail on timeout."""
        deadline = time.monotonic() + timeout
        last = {}
        while time.monotonic() < deadline:
            last = self.statuses()
            if predicate(last):
                return last
            time.sleep(interval)
        raise AssertionError("%s: not within %.0f s; last statuses %s\n%s" % (
            desc, timeout, {k: (v.round, v.training, round(v.test_accuracy, 4)) if v else None for k, v in last.items()},
            self.describe()))

    def describe(self):
        return "\n".join("--- %s (%s)\n%s" % (p.node_id, p.proc.state(), p.log_text(3000)) for p in self.peers.values())


def parameter_spread(models):
    """Mean distance of each model from their average, relative to the average's norm."""
    import numpy as np

    stacked = np.array(models, dtype=np.float64)
    mean = stacked.mean(axis=0)
    return float(np.linalg.norm(stacked - mean, axis=1).mean() / np.linalg.norm(mean))
