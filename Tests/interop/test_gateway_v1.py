"""gateway.v1.Gateway against the Swift gateway (`$GOSSIPFL_BIN gateway`).

Contract under test:
* Register on an empty registry with no known cluster => bootstrap=true, a new
  cluster_id, the node becomes the leader hint (term 0); later registrations
  => bootstrap=false, peers = the OTHER registered nodes, leader = the hint,
  same cluster_id.  N concurrent first registrations => exactly one bootstrap.
  A request with a cluster_id is never told to bootstrap (an empty gateway
  adopts its cluster).
* Heartbeat => known=true (+ lease refresh), known=false for unknown ids.
  Leases expire after --lease-seconds without heartbeat.
* Deregister => removed.
* ReportMembership is accepted iff (term, reported_at_unix, reporter_id) is
  greater than the last accepted report's; the leader hint follows it;
  unregistered members show up as stale=true; an older report =>
  accepted=false with a reason.
* Invalid requests (node_id, address, port, capabilities, unknown fields)
  => INVALID_ARGUMENT with a message, and the registry is left unchanged.
"""

import threading
import time

import grpc
import pytest

from gateway_fixtures import (  # noqa: F401  (fixtures)
    RPC_TIMEOUT, gateway, gateway_factory, gateway_protos, gateway_stubs, gossipfl_bin,
    list_peers, peers_by_id, register, registry_view, stubs_factory,
)
from interop_harness import LOOPBACK

V1 = "/gateway.v1.Gateway/"
ID_CHARS = "ABCXYZabcxyz0123456789._:-"


def _peer_ids(peers):
    return sorted(p.node_id for p in peers)


def _leader(stubs):
    return stubs.v1.GetLeader(stubs.pb.GetLeaderRequest(), timeout=RPC_TIMEOUT)


def _no_leader(resp):
    return not resp.HasField("leader") or resp.leader.node_id == ""


# --------------------------------------------------------------------------
# bootstrap, join


def test_bootstrap_then_join(gateway_stubs):
    s = gateway_stubs
    r1 = register(s, "n1", port=7001, caps=["train", "gpu"])
    assert r1.bootstrap is True, "first Register on an empty registry: expected bootstrap=true, got %s" % r1
    assert r1.cluster_id, "bootstrap response has an empty cluster_id"
    assert list(r1.peers) == [], "first node: peers must be the OTHER nodes (none), got %s" % _peer_ids(r1.peers)
    assert r1.leader.node_id == "n1" and r1.leader.term == 0, \
        "first node must become the leader hint at term 0, got leader=%s" % r1.leader
    assert r1.lease_seconds > 0, "lease_seconds must be > 0, got %d" % r1.lease_seconds

    r2 = register(s, "n2", port=7002)
    assert r2.bootstrap is False, "second Register must not bootstrap"
    assert r2.cluster_id == r1.cluster_id, "cluster_id changed: %r -> %r" % (r1.cluster_id, r2.cluster_id)
    assert _peer_ids(r2.peers) == ["n1"], "n2's peers: expected ['n1'], got %s" % _peer_ids(r2.peers)
    p = r2.peers[0]
    assert (p.address.host, p.address.port) == (LOOPBACK, 7001), "n1's address in n2's peers: %s" % p.address
    assert list(p.capabilities) == ["train", "gpu"], "n1's capabilities: %s" % list(p.capabilities)
    assert p.stale is False
    assert 0 <= p.age_seconds < 5, "n1 age_seconds: %r" % p.age_seconds
    assert r2.leader.node_id == "n1" and r2.leader.term == 0, "leader hint for n2: %s" % r2.leader
    assert (r2.leader.address.host, r2.leader.address.port) == (LOOPBACK, 7001), \
        "leader hint address: %s" % r2.leader.address
    assert r2.registry_version > r1.registry_version, \
        "registry_version must grow with a new member: %d -> %d" % (r1.registry_version, r2.registry_version)

    r3 = register(s, "n3", port=7003)
    assert r3.bootstrap is False and r3.cluster_id == r1.cluster_id
    assert _peer_ids(r3.peers) == ["n1", "n2"], "n3's peers: %s" % _peer_ids(r3.peers)
    assert r3.leader.node_id == "n1"

    # Registering again (same id) updates and never duplicates. The bootstrap
    # node is told to bootstrap again (its first answer may have been lost)
    # until a membership report shows its cluster formed; others never are.
    r1b = register(s, "n1", port=7011)
    assert r1b.bootstrap is True, "n1 re-registering before any report must be told to bootstrap again"
    assert r1b.cluster_id == r1.cluster_id
    assert _peer_ids(r1b.peers) == ["n2", "n3"], "n1's peers on re-registration: %s" % _peer_ids(r1b.peers)
    r2b = register(s, "n2", port=7002)
    assert r2b.bootstrap is False, "re-registration of a non-bootstrap node must not bootstrap"
    peers = peers_by_id(s)
    assert sorted(peers) == ["n1", "n2", "n3"], "ListPeers: %s" % sorted(peers)
    assert peers["n1"].address.port == 7011, "re-registration must update the address"
    assert all(not p.stale for p in peers.values())
    report = s.pb.ReportMembershipRequest(reporter_id="n1", leader_id="n1", term=1, reported_at_unix=time.time(),
                                        cluster_id=r1.cluster_id)
    assert s.v1.ReportMembership(report, timeout=RPC_TIMEOUT).accepted
    r1c = register(s, "n1", port=7011)
    assert r1c.bootstrap is False, "once the cluster reported, n1 must not be told to bootstrap again"


def test_register_with_cluster_id_never_bootstraps(gateway_stubs):
    s = gateway_stubs
    r1 = register(s, "old-member", cluster_id="cluster-from-raft-state")
    assert r1.bootstrap is False, \
        "a node that sends a cluster_id must never be told to bootstrap (empty gateway)"
    assert r1.cluster_id == "cluster-from-raft-state", \
        "an empty gateway adopts the cluster of a node with Raft state; got %r" % r1.cluster_id
    r2 = register(s, "newcomer")
    assert r2.bootstrap is False, "the cluster is known: a newcomer must not bootstrap"
    assert r2.cluster_id == "cluster-from-raft-state"
    assert _peer_ids(r2.peers) == ["old-member"]


@pytest.mark.parametrize("round_", range(3))
def test_exactly_one_bootstrap_under_concurrency(gateway, gateway_protos, round_):
    n = 16
    channels = [grpc.insecure_channel(gateway.address) for _ in range(n)]
    try:
        for ch in channels:
            grpc.channel_ready_future(ch).result(timeout=10)
        stubs = [gateway_protos.v1_grpc.GatewayStub(ch) for ch in channels]
        pb = gateway_protos.v1
        barrier = threading.Barrier(n)
        results = [None] * n

        def worker(i):
            req = pb.RegisterRequest(node_id="c%02d" % i,
                                     address=pb.NodeAddress(host=LOOPBACK, port=8000 + i))
            try:
                barrier.wait(10)
                results[i] = stubs[i].Register(req, timeout=RPC_TIMEOUT)
            except Exception as e:  # noqa: BLE001 -- reported below
                results[i] = e

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        errors = [(i, r) for i, r in enumerate(results) if not isinstance(r, pb.RegisterResponse)]
        assert not errors, "concurrent Register failed: %s" % errors
        boots = ["c%02d" % i for i, r in enumerate(results) if r.bootstrap]
        assert len(boots) == 1, "exactly one of %d concurrent first registrations must bootstrap, got %s" % (
            n, boots)
        cluster_ids = {r.cluster_id for r in results}
        assert len(cluster_ids) == 1 and "" not in cluster_ids, "cluster ids: %s" % cluster_ids
        for i, r in enumerate(results):
            me = "c%02d" % i
            assert me not in _peer_ids(r.peers), "%s is in its own peer list" % me
            assert r.leader.node_id == boots[0], \
                "%s: leader hint %r, expected the bootstrap node %r" % (me, r.leader.node_id, boots[0])
        s = types_ns(gateway_protos, stubs[0])
        ids = _peer_ids(list_peers(s).peers)
        assert ids == ["c%02d" % i for i in range(n)], "ListPeers after concurrent registration: %s" % ids
    finally:
        for ch in channels:
            ch.close()


def types_ns(protos, v1_stub):
    """A minimal stubs-like object for helpers that need .v1/.pb."""
    class _S:
        pass
    s = _S()
    s.v1, s.pb = v1_stub, protos.v1
    return s


# --------------------------------------------------------------------------
# heartbeat, lease, deregister


def test_heartbeat_known_and_unknown(gateway_stubs):
    s = gateway_stubs
    register(s, "hb-1")
    r = s.v1.Heartbeat(s.pb.HeartbeatRequest(node_id="hb-1"), timeout=RPC_TIMEOUT)
    assert r.known is True, "Heartbeat of a registered node: expected known=true"
    assert r.lease_seconds > 0
    r = s.v1.Heartbeat(s.pb.HeartbeatRequest(node_id="never-registered"), timeout=RPC_TIMEOUT)
    assert r.known is False, "Heartbeat of an unknown node: expected known=false"
    assert _peer_ids(list_peers(s).peers) == ["hb-1"], "Heartbeat of an unknown id must not register it"


def test_lease_expiry(gateway_factory, stubs_factory):
    srv = gateway_factory(lease_seconds=1)
    s = stubs_factory(srv)
    r = register(s, "alive")
    assert r.lease_seconds == 1, "--lease-seconds 1: RegisterResponse.lease_seconds=%d" % r.lease_seconds
    register(s, "silent")
    t0 = time.monotonic()
    assert _peer_ids(list_peers(s).peers) == ["alive", "silent"]

    gone_after = None
    last_ids = None
    while time.monotonic() - t0 < 6.0:
        hb = s.v1.Heartbeat(s.pb.HeartbeatRequest(node_id="alive"), timeout=RPC_TIMEOUT)
        assert hb.known is True, "'alive' heartbeats every 0.25 s but became unknown after %.2f s" % (
            time.monotonic() - t0)
        assert hb.lease_seconds == 1
        peers = peers_by_id(s)
        last_ids = sorted(peers)
        assert "alive" in peers, "'alive' vanished from ListPeers despite heartbeats (%.2f s)" % (
            time.monotonic() - t0)
        if "silent" not in peers:
            gone_after = time.monotonic() - t0
            break
        assert peers["silent"].age_seconds < 3.5, \
            "'silent' still listed with age_seconds=%.2f (lease 1 s)" % peers["silent"].age_seconds
        time.sleep(0.25)
    assert gone_after is not None, "'silent' (no heartbeat, lease 1 s) still in ListPeers after 6 s: %s" % last_ids
    assert gone_after >= 0.8, "'silent' expired after only %.2f s (lease is 1 s)" % gone_after
    hb = s.v1.Heartbeat(s.pb.HeartbeatRequest(node_id="silent"), timeout=RPC_TIMEOUT)
    assert hb.known is False, "heartbeat after lease expiry must answer known=false (register again)"


def test_deregister(gateway_stubs):
    s = gateway_stubs
    register(s, "d1")
    register(s, "d2")
    r = s.v1.Deregister(s.pb.DeregisterRequest(node_id="d2"), timeout=RPC_TIMEOUT)
    assert r.removed is True
    assert _peer_ids(list_peers(s).peers) == ["d1"]
    r = s.v1.Deregister(s.pb.DeregisterRequest(node_id="d2"), timeout=RPC_TIMEOUT)
    assert r.removed is False, "second Deregister of the same node: expected removed=false"
    r = s.v1.Deregister(s.pb.DeregisterRequest(node_id="never-registered"), timeout=RPC_TIMEOUT)
    assert r.removed is False
    hb = s.v1.Heartbeat(s.pb.HeartbeatRequest(node_id="d2"), timeout=RPC_TIMEOUT)
    assert hb.known is False, "heartbeat of a deregistered node: expected known=false"
    r3 = register(s, "d3")
    assert r3.bootstrap is False and _peer_ids(r3.peers) == ["d1"]


# --------------------------------------------------------------------------
# list / leader


def test_list_peers_and_get_leader(gateway_stubs):
    s = gateway_stubs
    resp = list_peers(s)
    assert list(resp.peers) == [], "fresh gateway: ListPeers should be empty, got %s" % _peer_ids(resp.peers)
    assert _no_leader(_leader(s)), "fresh gateway: expected no leader, got %s" % _leader(s)

    register(s, "L1", host="10.0.0.1", port=9001, caps=["a"])
    register(s, "L2", host="node-2.example.org", port=9002, caps=["b", "c"])
    resp = list_peers(s)
    got = sorted((p.node_id, p.address.host, p.address.port, tuple(p.capabilities), p.stale)
                 for p in resp.peers)
    assert got == [("L1", "10.0.0.1", 9001, ("a",), False),
                   ("L2", "node-2.example.org", 9002, ("b", "c"), False)], "ListPeers: %s" % got
    for p in resp.peers:
        assert 0 <= p.age_seconds < 5, "%s age_seconds=%r" % (p.node_id, p.age_seconds)
    assert resp.registry_version > 0

    time.sleep(1.2)
    aged = peers_by_id(s)
    assert aged["L1"].age_seconds >= 1.0, \
        "age_seconds must be the time since the gateway last heard from the node: %.3f after 1.2 s" % (
            aged["L1"].age_seconds)
    s.v1.Heartbeat(s.pb.HeartbeatRequest(node_id="L1"), timeout=RPC_TIMEOUT)
    assert peers_by_id(s)["L1"].age_seconds < 1.0, "a heartbeat must reset age_seconds"

    lead = _leader(s).leader
    assert (lead.node_id, lead.term) == ("L1", 0), "GetLeader: %s" % lead
    assert (lead.address.host, lead.address.port) == ("10.0.0.1", 9001)
    assert lead.stale is False, "the leader hint is a registered node: stale must be false"
    assert lead.age_seconds >= 0


# --------------------------------------------------------------------------
# ReportMembership


def _member(pb, node_id, port, host=LOOPBACK):
    return pb.NodeEntry(node_id=node_id, address=pb.NodeAddress(host=host, port=port))


def _report(s, reporter, leader, term, at, members=(), cluster_id=""):
    pb = s.pb
    return s.v1.ReportMembership(pb.ReportMembershipRequest(
        reporter_id=reporter, leader_id=leader, term=term, members=list(members),
        reported_at_unix=at, cluster_id=cluster_id), timeout=RPC_TIMEOUT)


@pytest.fixture
def three_nodes(gateway_stubs):
    s = gateway_stubs
    r = register(s, "m1", port=7101)
    register(s, "m2", port=7102)
    register(s, "m3", port=7103)
    s.cluster_id = r.cluster_id
    s.members = [_member(s.pb, "m1", 7101), _member(s.pb, "m2", 7102), _member(s.pb, "m3", 7103)]
    return s


def test_report_membership_ordering(three_nodes):
    s = three_nodes
    t = float(int(time.time()))
    extra = _member(s.pb, "m4", 7104, host="10.9.8.7")
    r = _report(s, "m2", "m2", 2, t, s.members + [extra], s.cluster_id)
    assert r.accepted is True, "first report (term 2): expected accepted, got %s" % r
    lead = _leader(s).leader
    assert (lead.node_id, lead.term) == ("m2", 2), "leader hint after an accepted report: %s" % lead
    assert (lead.address.host, lead.address.port) == (LOOPBACK, 7102)
    assert lead.stale is False, "m2 is registered: leader stale must be false"
    peers = peers_by_id(s)
    assert sorted(peers) == ["m1", "m2", "m3", "m4"], "ListPeers after the report: %s" % sorted(peers)
    assert peers["m4"].stale is True, "an unregistered reported member must be stale=true"
    assert (peers["m4"].address.host, peers["m4"].address.port) == ("10.9.8.7", 7104)
    assert not any(peers[n].stale for n in ("m1", "m2", "m3")), \
        "registered members must stay stale=false: %s" % {n: p.stale for n, p in peers.items()}

    def rejected(reporter, leader, term, at, why):
        before = registry_view(s)
        r = _report(s, reporter, leader, term, at, s.members, s.cluster_id)
        assert r.accepted is False, "%s: expected accepted=false, got %s" % (why, r)
        assert r.reason, "%s: a rejected report must carry a reason" % why
        assert registry_view(s) == before, "%s: a rejected report changed the registry" % why

    rejected("m3", "m3", 1, t + 100, "lower term (1 < 2), even with a later timestamp")
    rejected("m3", "m3", 2, t - 5, "same term, older reported_at_unix")
    rejected("m1", "m1", 2, t, "same term and time, smaller reporter_id ('m1' < 'm2')")

    r = _report(s, "m3", "m3", 2, t, s.members, s.cluster_id)
    assert r.accepted is True, "same term and time, greater reporter_id ('m3' > 'm2'): %s" % r
    assert (_leader(s).leader.node_id, _leader(s).leader.term) == ("m3", 2)

    r = _report(s, "m1", "m1", 2, t + 1, s.members, s.cluster_id)
    assert r.accepted is True, "same term, newer reported_at_unix: %s" % r
    assert _leader(s).leader.node_id == "m1"

    r = _report(s, "a", "m2", 3, t - 1000, s.members, s.cluster_id)
    assert r.accepted is True, "higher term wins regardless of time/reporter: %s" % r
    lead = _leader(s).leader
    assert (lead.node_id, lead.term) == ("m2", 3), "leader hint: %s" % lead


def test_report_membership_identical_report_is_not_newer(three_nodes):
    """Accepted only if strictly greater than the last accepted one."""
    s = three_nodes
    t = float(int(time.time()))
    assert _report(s, "m2", "m2", 5, t, s.members, s.cluster_id).accepted is True
    r = _report(s, "m2", "m2", 5, t, s.members, s.cluster_id)
    assert r.accepted is False and r.reason, \
        "a report equal to the last accepted (term, time, reporter) is not greater: got %s" % r


def test_report_membership_unknown_leader_is_stale(three_nodes):
    s = three_nodes
    t = float(int(time.time()))
    ghost = _member(s.pb, "ghost", 7199, host="10.1.2.3")
    r = _report(s, "m1", "ghost", 4, t, s.members + [ghost], s.cluster_id)
    assert r.accepted is True, r
    lead = _leader(s).leader
    assert (lead.node_id, lead.term) == ("ghost", 4), "leader hint: %s" % lead
    assert (lead.address.host, lead.address.port) == ("10.1.2.3", 7199), \
        "the leader's address comes from the reported members: %s" % lead.address
    assert lead.stale is True, "a leader the gateway never heard from directly must be stale=true"
    assert peers_by_id(s)["ghost"].stale is True
    # Once ghost registers itself it is no longer stale.
    register(s, "ghost", host="10.1.2.3", port=7199)
    assert peers_by_id(s)["ghost"].stale is False
    assert _leader(s).leader.stale is False, "the leader registered: leader hint stale must be false"


# --------------------------------------------------------------------------
# validation


def _addr(pb, host=LOOPBACK, port=7500):
    return pb.NodeAddress(host=host, port=port)


# (case id, builder(pb) -> RegisterRequest).  "vx-known" is registered, so the
# address/capability cases would be an *update* of an existing node if accepted.
INVALID_REGISTERS = [
    ("empty node_id", lambda pb: pb.RegisterRequest(node_id="", address=_addr(pb))),
    ("node_id 129 bytes", lambda pb: pb.RegisterRequest(node_id="a" * 129, address=_addr(pb))),
    ("node_id with space", lambda pb: pb.RegisterRequest(node_id="bad id", address=_addr(pb))),
    ("node_id with slash", lambda pb: pb.RegisterRequest(node_id="bad/id", address=_addr(pb))),
    ("node_id with star", lambda pb: pb.RegisterRequest(node_id="a*b", address=_addr(pb))),
    ("node_id non-ASCII", lambda pb: pb.RegisterRequest(node_id="n\u00f6de", address=_addr(pb))),
    ("node_id with newline", lambda pb: pb.RegisterRequest(node_id="vx-known\n", address=_addr(pb))),
    ("missing address", lambda pb: pb.RegisterRequest(node_id="vx-known")),
    ("empty host", lambda pb: pb.RegisterRequest(node_id="vx-known", address=_addr(pb, host=""))),
    ("host with spaces", lambda pb: pb.RegisterRequest(node_id="vx-known",
                                                       address=_addr(pb, host="not a host"))),
    ("host with slash", lambda pb: pb.RegisterRequest(node_id="vx-known",
                                                      address=_addr(pb, host="bad/host"))),
    ("port 0", lambda pb: pb.RegisterRequest(node_id="vx-known", address=_addr(pb, port=0))),
    ("port 65536", lambda pb: pb.RegisterRequest(node_id="vx-known", address=_addr(pb, port=65536))),
    ("port 4294967295", lambda pb: pb.RegisterRequest(node_id="vx-known",
                                                      address=_addr(pb, port=4294967295))),
    ("65 capabilities", lambda pb: pb.RegisterRequest(node_id="vx-known", address=_addr(pb),
                                                      capabilities=["c%d" % i for i in range(65)])),
]


def _unknown_field_bytes(msg_bytes, variant):
    if variant == "varint field 99":
        return msg_bytes + bytes([0x98, 0x06, 0x01])          # tag (99<<3|0), value 1
    if variant == "bytes field 1000":
        return msg_bytes + bytes([0xC2, 0x3E, 0x03]) + b"xyz"  # tag (1000<<3|2), len 3
    raise ValueError(variant)


def _expect_invalid_argument(call, what):
    try:
        resp = call()
    except grpc.RpcError as err:
        e = err
    else:
        if isinstance(resp, bytes):
            resp = "%d response bytes %r" % (len(resp), resp[:80])
        pytest.fail("%s: expected INVALID_ARGUMENT, got OK: %s" % (what, str(resp).strip()[:500]),
                    pytrace=False)
    assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, \
        "%s: expected INVALID_ARGUMENT, got %s %r" % (what, e.code(), e.details())
    assert e.details() and len(e.details().strip()) >= 5, \
        "%s: INVALID_ARGUMENT needs a clear message, got %r" % (what, e.details())
    return e


@pytest.fixture
def populated(gateway_stubs):
    s = gateway_stubs
    register(s, "vx-known", port=7400, caps=["x"])
    register(s, "vx-other", port=7401)
    t = float(int(time.time()))
    _report(s, "vx-other", "vx-other", 1, t,
            [_member(s.pb, "vx-known", 7400), _member(s.pb, "vx-other", 7401),
             _member(s.pb, "vx-ghost", 7402)])
    return s


@pytest.mark.parametrize("case", [c for c, _ in INVALID_REGISTERS])
def test_register_validation(populated, case):
    s = populated
    build = dict(INVALID_REGISTERS)[case]
    before = registry_view(s)
    e = _expect_invalid_argument(lambda: s.v1.Register(build(s.pb), timeout=RPC_TIMEOUT),
                                 "Register with %s" % case)
    after = registry_view(s)
    assert after == before, "Register with %s (%s) changed the registry:\n before %s\n after  %s" % (
        case, e.details(), before, after)


@pytest.mark.parametrize("variant", ["varint field 99", "bytes field 1000"])
def test_register_unknown_field(populated, variant):
    s = populated
    good = s.pb.RegisterRequest(node_id="vx-known", address=_addr(s.pb, port=7777)).SerializeToString()
    before = registry_view(s)
    _expect_invalid_argument(lambda: s.raw_unary(V1 + "Register", _unknown_field_bytes(good, variant)),
                             "Register with an unknown %s" % variant)
    assert registry_view(s) == before, "Register with an unknown field changed the registry"
    # Control: the same bytes without the extra field are accepted.
    s.pb.RegisterResponse.FromString(s.raw_unary(V1 + "Register", good))
    assert peers_by_id(s)["vx-known"].address.port == 7777


@pytest.mark.parametrize("method,request_builder", [
    ("Heartbeat", lambda pb: pb.HeartbeatRequest(node_id="vx-known")),
    ("Deregister", lambda pb: pb.DeregisterRequest(node_id="vx-known")),
    ("ListPeers", lambda pb: pb.ListPeersRequest()),
    ("GetLeader", lambda pb: pb.GetLeaderRequest()),
    ("ReportMembership", lambda pb: pb.ReportMembershipRequest(
        reporter_id="vx-known", leader_id="vx-known", term=99, reported_at_unix=time.time())),
])
def test_other_methods_reject_unknown_fields(populated, method, request_builder):
    s = populated
    raw = _unknown_field_bytes(request_builder(s.pb).SerializeToString(), "varint field 99")
    before = registry_view(s)
    _expect_invalid_argument(lambda: s.raw_unary(V1 + method, raw), "%s with unknown field 99" % method)
    assert registry_view(s) == before, "%s with an unknown field changed the registry" % method


def test_invalid_registrations_do_not_consume_bootstrap(gateway_stubs):
    """On an empty gateway every invalid Register is refused and the first valid one still bootstraps."""
    s = gateway_stubs
    for case, build in INVALID_REGISTERS:
        _expect_invalid_argument(lambda: s.v1.Register(build(s.pb), timeout=RPC_TIMEOUT),
                                 "Register with %s" % case)
    good = s.pb.RegisterRequest(node_id="vx-known", address=_addr(s.pb)).SerializeToString()
    _expect_invalid_argument(lambda: s.raw_unary(V1 + "Register", _unknown_field_bytes(good, "varint field 99")),
                             "Register with unknown field 99")
    assert list(list_peers(s).peers) == [], "invalid registrations left entries behind"
    assert _no_leader(_leader(s)), "invalid registrations set a leader hint: %s" % _leader(s)
    r = register(s, "first-valid")
    assert r.bootstrap is True, "the first VALID registration must still bootstrap"


def test_valid_boundaries_accepted(gateway_stubs):
    s = gateway_stubs
    cases = [
        ("x" * 128, LOOPBACK, 1, []),
        (ID_CHARS, "localhost", 65535, []),
        ("caps-64", "10.0.0.1", 7600, ["c%d" % i for i in range(64)]),
        ("host-name", "node-7.example.org", 7601, []),
    ]
    for node_id, host, port, caps in cases:
        try:
            register(s, node_id, host=host, port=port, caps=caps)
        except grpc.RpcError as e:
            pytest.fail("valid Register(node_id=%r (%d bytes), host=%r, port=%d, %d caps) refused: %s %r" % (
                node_id[:20], len(node_id), host, port, len(caps), e.code(), e.details()), pytrace=False)
    peers = peers_by_id(s)
    assert sorted(peers) == sorted(c[0] for c in cases)
    assert len(peers["caps-64"].capabilities) == 64


def test_register_peers_beyond_sample_limit(gateway_stubs):
    """The brief says `peers` = the OTHER registered nodes. The Swift registry
    (Registry.peerSample, documented there) answers all of them up to 64 and a
    64-entry sample beyond that (leader always included); ListPeers has all.
    This test follows the documented rule; the full list is ListPeers' job."""
    s = gateway_stubs
    limit = 64
    for i in range(limit + 1):  # 65 nodes: a newcomer among them still sees all 64 others
        r = register(s, "s%03d" % i, port=7700 + i)
        assert len(r.peers) == i, "s%03d: %d peers, expected all %d others" % (i, len(r.peers), i)
    for i in range(limit + 1, limit + 16):
        me = "s%03d" % i
        r = register(s, me, port=7700 + i)
        ids = [p.node_id for p in r.peers]
        assert len(ids) == limit and len(set(ids)) == limit, "%s: %d peers (%d distinct)" % (me, len(ids), len(set(ids)))
        assert me not in ids, "%s is in its own peers" % me
        assert "s000" in ids, "%s: the leader s000 must always be in the sample" % me
        assert all(x.startswith("s") and int(x[1:]) < i for x in ids), "%s: unknown peers in %s" % (me, ids)
    assert len(list_peers(s).peers) == limit + 16, "ListPeers must return every node"


def _with_submessage(outer_bytes, field_number, sub_bytes):
    """outer + one length-delimited sub-message field (field_number < 16, len < 128)."""
    assert field_number < 16 and len(sub_bytes) < 128
    return outer_bytes + bytes([(field_number << 3) | 2, len(sub_bytes)]) + sub_bytes


def test_register_unknown_field_in_nested_address(populated):
    """An unknown field inside RegisterRequest.address is an unknown field of the request."""
    s = populated
    address = s.pb.NodeAddress(host=LOOPBACK, port=7778).SerializeToString()
    raw = _with_submessage(s.pb.RegisterRequest(node_id="vx-known").SerializeToString(), 2,
                           _unknown_field_bytes(address, "varint field 99"))
    before = registry_view(s)
    _expect_invalid_argument(lambda: s.raw_unary(V1 + "Register", raw),
                             "Register with unknown field 99 inside address")
    assert registry_view(s) == before, "Register with a nested unknown field changed the registry"


def test_report_unknown_field_in_nested_member(populated):
    s = populated
    member = s.pb.NodeEntry(node_id="vx-nested", address=s.pb.NodeAddress(host=LOOPBACK, port=7779))
    raw = _with_submessage(s.pb.ReportMembershipRequest(
        reporter_id="vx-known", leader_id="vx-known", term=50,
        reported_at_unix=float(int(time.time()))).SerializeToString(),
        4, _unknown_field_bytes(member.SerializeToString(), "varint field 99"))
    before = registry_view(s)
    _expect_invalid_argument(lambda: s.raw_unary(V1 + "ReportMembership", raw),
                             "ReportMembership with unknown field 99 inside members[0]")
    assert registry_view(s) == before, "ReportMembership with a nested unknown field changed the registry"


# --------------------------------------------------------------------------
# embedded NUL: protobuf-c hands strings over NUL-terminated, so "base-1\0evil"
# used to arrive as "base-1" (and overwrite base-1's address).


def _nul_cases(pb):
    a = lambda host=LOOPBACK: pb.NodeAddress(host=host, port=7999)  # noqa: E731
    member = lambda **kw: pb.NodeEntry(**dict(dict(node_id="base-1", address=a()), **kw))  # noqa: E731
    report = lambda **kw: pb.ReportMembershipRequest(**dict(dict(  # noqa: E731
        reporter_id="base-1", leader_id="base-1", term=5, members=[member()], reported_at_unix=time.time()), **kw))
    return [
        ("Register", "node_id", pb.RegisterRequest(node_id="base-1\0evil", address=a("10.6.6.6"))),
        ("Register", "address.host", pb.RegisterRequest(node_id="base-1", address=a("10.6.6.6\0evil"))),
        ("Register", "capabilities", pb.RegisterRequest(node_id="base-1", address=a(), capabilities=["gpu\0"])),
        ("Register", "cluster_id", pb.RegisterRequest(node_id="nul-c", address=a(), cluster_id="c\0d")),
        ("Heartbeat", "node_id", pb.HeartbeatRequest(node_id="base-1\0evil")),
        ("Deregister", "node_id", pb.DeregisterRequest(node_id="base-1\0evil")),
        ("ReportMembership", "reporter_id", report(reporter_id="base-1\0x")),
        ("ReportMembership", "leader_id", report(leader_id="base-1\0x")),
        ("ReportMembership", "cluster_id", report(cluster_id="c\0d")),
        ("ReportMembership", "members.node_id", report(members=[member(node_id="m-1\0x")])),
        ("ReportMembership", "members.address.host", report(members=[member(address=a("10.6.6.6\0"))])),
        ("ReportMembership", "members.capabilities", report(members=[member(capabilities=["x\0"])])),
    ]


def test_nul_in_any_string_field_is_invalid_argument(gateway_stubs):
    s = gateway_stubs
    register(s, "base-1", port=7001)
    before = registry_view(s)
    for method, field, request in _nul_cases(s.pb):
        try:
            resp = getattr(s.v1, method)(request, timeout=RPC_TIMEOUT)
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, "%s %s: %s %r" % (method, field, e.code(), e.details())
            assert field in e.details() and "NUL" in e.details(), "%s: message should name %s: %r" % (
                method, field, e.details())
        else:
            pytest.fail("%s with a NUL in %s: expected INVALID_ARGUMENT, got OK: %s" % (method, field, resp),
                        pytrace=False)
        assert registry_view(s) == before, "%s with a NUL in %s changed the registry" % (method, field)
    assert peers_by_id(s)["base-1"].address.host == LOOPBACK
