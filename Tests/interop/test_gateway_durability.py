"""An OK answer means stored: kill -9 the gateway under concurrent load, at a
random moment, restart it on the same data dir, and every change that was
acknowledged before the kill is there (registrations present, removals gone).

Loopback only, every wait bounded, every process stopped at teardown.
"""

import random
import threading
import time

import grpc

from gateway_fixtures import (  # noqa: F401  (fixtures)
    gateway_factory, gateway_protos, gossipfl_bin, kill9, list_peers, stubs_factory,
)
from interop_harness import LOOPBACK

ROUNDS = 4
V1_WRITERS = 6
CALL_TIMEOUT = 5.0
ROUND_DEADLINE = 30.0  # writers must be done this long after the kill


class Writer(threading.Thread):
    """Registers distinct nodes in a loop (and removes every fifth one again),
    keeping what the gateway acknowledged."""

    def __init__(self, protos, address, name, compat):
        super().__init__(daemon=True, name=name)
        self.pb, self.cpb = protos.v1, protos.compat
        self.channel = grpc.insecure_channel(address)
        self.v1 = protos.v1_grpc.GatewayStub(self.channel)
        self.compat_stub = protos.compat_grpc.GatewayServiceStub(self.channel)
        self.prefix, self.compat = name, compat
        self.registered, self.removed = set(), set()
        # A removal sent but unanswered may or may not have happened.
        self.uncertain = set()
        self.refused = 0
        self.stop = threading.Event()

    def _register(self, k):
        if self.compat:
            nid = self.compat_id(k)
            r = self.compat_stub.RegisterNode(self.cpb.RegisterNodeRequest(
                node_id=nid, ip_address=LOOPBACK, port=10000 + k % 50000), timeout=CALL_TIMEOUT)
            assert r.status in ("registered", "updated"), r
            return str(nid)
        nid = "%s-%d" % (self.prefix, k)
        self.v1.Register(self.pb.RegisterRequest(
            node_id=nid, address=self.pb.NodeAddress(host=LOOPBACK, port=10000 + k % 50000)), timeout=CALL_TIMEOUT)
        return nid

    def _remove(self, nid):
        if self.compat:
            r = self.compat_stub.RemoveNode(self.cpb.RemoveNodeRequest(node_id=int(nid)), timeout=CALL_TIMEOUT)
            assert r.status == "removed", r
        else:
            assert self.v1.Deregister(self.pb.DeregisterRequest(node_id=nid), timeout=CALL_TIMEOUT).removed

    def compat_id(self, k):
        return 1_000_000 + self.round * 100_000 + k

    def run(self):
        k = 0
        while not self.stop.is_set():
            k += 1
            try:
                nid = self._register(k)
                self.registered.add(nid)
                if k % 5 == 0:
                    self.uncertain.add(nid)
                    self._remove(nid)
                    self.uncertain.discard(nid)
                    self.removed.add(nid)
            except grpc.RpcError:
                # The gateway is being killed: nothing unanswered counts.
                self.refused += 1
                if self.refused > 200:
                    return
                time.sleep(0.01)


def test_acknowledged_changes_survive_kill9(gateway_factory, stubs_factory, gateway_protos, tmp_path):
    data_dir = str(tmp_path / "durable-data")
    rng = random.Random()
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    present, absent = set(), set()
    srv = gateway_factory(data_dir=data_dir, lease_seconds=600, name="gateway round 0")
    for rnd in range(ROUNDS):
        writers = []
        for i in range(V1_WRITERS + 1):
            w = Writer(gateway_protos, srv.address, "r%d-w%d" % (rnd, i), compat=(i == V1_WRITERS))
            w.round = rnd
            writers.append(w)
        for w in writers:
            w.start()
        # Wait until load is flowing, then kill at a random moment (the delay is
        # the experiment, not an assertion).
        deadline = time.monotonic() + 20
        while sum(len(w.registered) for w in writers) < 50:
            assert time.monotonic() < deadline, "no registrations acknowledged within 20 s"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 1.0))
        kill9(srv)
        for w in writers:
            w.stop.set()
        for w in writers:
            w.join(ROUND_DEADLINE)
            assert not w.is_alive(), "writer %s still running %.0f s after the kill" % (w.name, ROUND_DEADLINE)
            w.channel.close()
            present |= w.registered - w.removed - w.uncertain
            absent |= w.removed
        acked = sum(len(w.registered) + len(w.removed) for w in writers)

        srv = gateway_factory(data_dir=data_dir, lease_seconds=600, name="gateway round %d" % (rnd + 1))
        s = stubs_factory(srv)
        listed = {p.node_id for p in list_peers(s).peers}
        lost = present - listed
        resurrected = absent & listed
        assert not lost and not resurrected, (
            "round %d (seed %d): %d acknowledged changes this round; after kill -9 and restart %d acknowledged "
            "registrations are missing (e.g. %s) and %d acknowledged removals are back (e.g. %s)\n"
            "  gateway stderr:\n%s" % (
                rnd, seed, acked, len(lost), sorted(lost)[:5], len(resurrected), sorted(resurrected)[:5],
                srv.stderr_text(3000)))
        assert "corrupt" not in srv.stderr_text(20000), srv.stderr_text(3000)
    srv.stop()
    assert srv.returncode == 0, srv.stderr_text(3000)
