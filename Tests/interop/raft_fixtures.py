"""Helpers for the multi-process Raft tests (test_raft_*.py) and bench/raft_bench.py.

Processes under test:
  gossipfl peer --id ID --listen 127.0.0.1:PORT --data-dir DIR
                [--bootstrap | --join A,B | --gateway HOST:PORT] [--tick-ms MS]
      stdout: `raft peer ID bootstrapped|joined|resumed`, then `listening on HOST:PORT`
      (a joiner prints it once a leader accepted it).

Stubs for raft.v1 are generated from Protos/raft/v1/raft.proto with grpc_tools.protoc.
Every process listens on loopback only, every wait is bounded, and every process
started through PeerCluster is stopped at teardown (SIGTERM, then SIGKILL).
"""

import atexit
import importlib
import os
import shutil
import signal
import sys
import tempfile
import time
import types

import grpc

INTEROP_DIR = os.path.dirname(os.path.abspath(__file__))
if INTEROP_DIR not in sys.path:
    sys.path.insert(0, INTEROP_DIR)

from interop_harness import LOOPBACK, REPO_ROOT, ServerProcess, pick_free_port  # noqa: E402

PROTO_ROOT = os.path.join(REPO_ROOT, "Protos")
RPC_TIMEOUT = 5.0
_loaded = None


def compile_protos(relative, modules):
    """Python stubs of Protos/`relative` (grpc_tools.protoc into a temporary directory, removed at
    exit): a namespace with pb and grpc, the modules named in `modules` = (pb, grpc)."""
    from grpc_tools import protoc

    out = tempfile.mkdtemp(prefix="gossipfl-protos-")
    atexit.register(shutil.rmtree, out, True)
    rc = protoc.main(["grpc_tools.protoc", "-I", PROTO_ROOT, "--python_out", out, "--grpc_python_out", out,
                      os.path.join(PROTO_ROOT, relative)])
    if rc != 0:
        raise RuntimeError("grpc_tools.protoc failed for %s (rc=%d)" % (relative, rc))
    parts = os.path.dirname(relative).split("/")
    for depth in range(1, len(parts) + 1):
        open(os.path.join(out, *parts[:depth], "__init__.py"), "a").close()
    sys.path.insert(0, out)
    importlib.invalidate_caches()
    return types.SimpleNamespace(pb=importlib.import_module(modules[0]), grpc=importlib.import_module(modules[1]))


def load_raft_protos():
    """Namespace with pb (raft.v1 messages) and grpc (RaftStub, ClusterStub)."""
    global _loaded
    if _loaded is None:
        _loaded = compile_protos("raft/v1/raft.proto", ("raft.v1.raft_pb2", "raft.v1.raft_pb2_grpc"))
    return _loaded


class ClusterCerts:
    """A cluster CA and certificates made by `gossipfl certs` in `directory`."""

    def __init__(self, binary, directory):
        self.binary, self.dir = binary, directory
        self._run("init")

    def _run(self, *args):
        import subprocess
        p = subprocess.run([self.binary, "certs"] + list(args) + ["--dir", self.dir], capture_output=True, text=True,
                           timeout=30)
        if p.returncode != 0:
            raise RuntimeError("gossipfl certs %s failed: %s" % (" ".join(args), p.stderr))

    def issue(self, role, name):
        """Paths (cert, key) of a node/admin/gateway certificate, made on first use."""
        cert, key = os.path.join(self.dir, name + ".pem"), os.path.join(self.dir, name + "-key.pem")
        if not os.path.exists(cert):
            self._run(role, "--id" if role == "node" else "--name", name)
        return cert, key

    @property
    def ca(self):
        return os.path.join(self.dir, "ca.pem")

    def args(self, role, name):
        cert, key = self.issue(role, name)
        return ["--tls-cert", cert, "--tls-key", key, "--tls-ca", self.ca]

    def credentials(self, role=None, name=None):
        """grpcio channel credentials: trusting the CA, presenting NAME's certificate if given."""
        with open(self.ca, "rb") as f:
            root = f.read()
        if role is None:
            return grpc.ssl_channel_credentials(root_certificates=root)
        cert, key = self.issue(role, name)
        with open(cert, "rb") as c, open(key, "rb") as k:
            return grpc.ssl_channel_credentials(root_certificates=root, private_key=k.read(), certificate_chain=c.read())


class Peer:
    """One `gossipfl peer` process and grpcio stubs to it. With `certs`, the peer runs mutual TLS
    with its node certificate and the stubs present `client` (default: an admin certificate);
    without, it runs --insecure."""

    def __init__(self, binary, node_id, port, data_dir, mode_args, tick_ms=20, start_timeout=30.0, certs=None,
                 client=("admin", "operator")):
        self.binary, self.node_id, self.port, self.data_dir = binary, node_id, port, data_dir
        self.mode_args, self.tick_ms = list(mode_args), tick_ms
        self.certs, self.client = certs, client
        self.proc = None
        self.channel = None
        self.start(start_timeout)

    @property
    def address(self):
        return "%s:%d" % (LOOPBACK, self.port)

    def command(self, mode_args=None):
        security = self.certs.args("node", self.node_id) if self.certs else ["--insecure"]
        return [self.binary, "peer", "--id", self.node_id, "--listen", self.address, "--data-dir", self.data_dir,
                "--tick-ms", str(self.tick_ms)] + security + list(self.mode_args if mode_args is None else mode_args)

    def open_channel(self, client=None):
        """A grpcio channel to this peer; with certs, presenting `client` = (role, name) or nothing (None)."""
        if self.certs is None:
            return grpc.insecure_channel(self.address)
        role, name = client if client else (None, None)
        return grpc.secure_channel(self.address, self.certs.credentials(role, name))

    def start(self, start_timeout=30.0, mode_args=None):
        self.proc = ServerProcess(self.command(mode_args), name="peer " + self.node_id, start_timeout=start_timeout)
        protos = load_raft_protos()
        self.channel = self.open_channel(self.client)
        self.cluster = protos.grpc.ClusterStub(self.channel)
        self.raft = protos.grpc.RaftStub(self.channel)

    @property
    def how_started(self):
        for line in self.proc.stdout_text().splitlines():
            if line.startswith("raft peer "):
                return line.split()[-1]
        return None

    def status(self, linearizable=False, timeout=1.0):
        return self.cluster.Status(load_raft_protos().pb.StatusRequest(linearizable=linearizable), timeout=timeout)

    def try_status(self, timeout=0.5):
        try:
            return self.status(timeout=timeout)
        except grpc.RpcError:
            return None

    def wait_applied(self, index, timeout=10.0):
        """Status once this peer applied `index`; AssertionError after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.try_status()
            if s is not None and s.applied_index >= index:
                return s
            time.sleep(0.05)
        raise AssertionError("%s did not apply index %d within %.0f s:\n%s" % (
            self.node_id, index, timeout, self.describe()))

    def kill9(self):
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        p = self.proc.proc
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait(5)

    def stop(self):
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self.proc is not None:
            self.proc.close()

    def is_alive(self):
        return self.proc is not None and self.proc.is_alive()

    def describe(self):
        return self.proc._describe("peer %s (%s)" % (self.node_id, self.proc.state()))


class PeerCluster:
    """Peers on loopback: the first bootstraps, the rest join through it."""

    def __init__(self, binary, root, tick_ms=20, certs=None):
        self.binary, self.root, self.tick_ms, self.certs = binary, root, tick_ms, certs
        self.peers = {}

    def add(self, node_id, mode_args, port=None):
        port = port or pick_free_port()
        data_dir = os.path.join(self.root, node_id)
        peer = Peer(self.binary, node_id, port, data_dir, mode_args, tick_ms=self.tick_ms, certs=self.certs)
        self.peers[node_id] = peer
        return peer

    def start_static(self, count):
        first = self.add("n1", ["--bootstrap"])
        for i in range(2, count + 1):
            self.add("n%d" % i, ["--join", first.address])
        return self

    def alive(self):
        return [p for p in self.peers.values() if p.is_alive()]

    def leader(self, among=None, timeout=10.0):
        """The peer that every live peer agrees leads, with all voters known; None on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.current_leader(among)
            if found is not None:
                return found
            time.sleep(0.02)
        return None

    def current_leader(self, among=None):
        peers = among if among is not None else self.alive()
        statuses = {p.node_id: p.try_status() for p in peers}
        leaders = [nid for nid, s in statuses.items() if s is not None and s.role == "leader"]
        if len(leaders) != 1:
            return None
        leader = statuses[leaders[0]]
        if all(s is not None and s.leader_id == leaders[0] and s.term == leader.term for s in statuses.values()):
            return self.peers[leaders[0]]
        return None

    def wait_voters(self, count, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            leader = self.current_leader()
            if leader is not None:
                s = leader.try_status()
                if s is not None and sum(1 for m in s.members if m.voter) == count:
                    return leader
            time.sleep(0.05)
        return None

    def propose(self, data, timeout=RPC_TIMEOUT):
        """Through whichever peer leads (following redirects); returns the ProposeResponse."""
        pb = load_raft_protos().pb
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            for peer in self.alive():
                try:
                    reply = peer.cluster.Propose(pb.ProposeRequest(data=data), timeout=2.0)
                except grpc.RpcError as e:
                    last = e
                    continue
                if reply.committed:
                    return reply
            time.sleep(0.05)
        raise AssertionError("no leader committed %r within %.1f s (last error: %s)" % (data, timeout, last))

    def close(self):
        for peer in self.peers.values():
            try:
                peer.stop()
            except Exception:  # noqa: BLE001 - teardown keeps going
                pass
