"""The compat GatewayService (/GatewayService/<Method>) the existing Python
GossipFL nodes call, against the Swift gateway.

Every call goes through a channel built with the options the Python nodes use
(1000 MiB message limits, keepalive 1 s here, keepalive without calls) and a
5 s deadline.  The compat service shares the registry with gateway.v1.
"""

import struct
import time

import grpc
import pytest

import h2raw
from gateway_fixtures import (  # noqa: F401  (fixtures)
    PY_NODE_CHANNEL_OPTIONS, RPC_TIMEOUT, gateway, gateway_factory, gateway_protos, gateway_stubs,
    gossipfl_bin, list_peers, peers_by_id, register, stubs_factory,
)
from interop_harness import LOOPBACK, pick_free_port

NOW_SLACK = 5.0


def _reg(s, node_id, port=None, ip=LOOPBACK, caps=("train",), metadata=None):
    c = s.cpb
    return s.compat.RegisterNode(c.RegisterNodeRequest(
        node_id=node_id, ip_address=ip, port=port if port is not None else 6000 + node_id,
        capabilities=list(caps), metadata=metadata or {"role": "worker"}), timeout=RPC_TIMEOUT)


def _ids(nodes):
    return sorted(n.node_id for n in nodes)


def _nodes(s, requesting=0):
    return s.compat.GetNodes(s.cpb.GetNodesRequest(requesting_node_id=requesting), timeout=RPC_TIMEOUT)


def _stats(s):
    return s.compat.GetStats(s.cpb.GetStatsRequest(), timeout=RPC_TIMEOUT)


def _check_node_info(n, node_id, ip, port, what):
    now = time.time()
    assert (n.node_id, n.ip_address, n.port) == (node_id, ip, port), "%s: NodeInfo %s" % (what, n)
    assert n.status == "active", "%s: NodeInfo.status %r, expected 'active'" % (what, n.status)
    assert abs(n.last_seen - now) < NOW_SLACK, \
        "%s: last_seen %.3f is not unix seconds near now (%.3f)" % (what, n.last_seen, now)
    assert abs(n.join_timestamp - now) < 60, \
        "%s: join_timestamp %.3f is not unix seconds near now (%.3f)" % (what, n.join_timestamp, now)
    assert n.join_timestamp <= n.last_seen + 0.001, \
        "%s: join_timestamp %.3f after last_seen %.3f" % (what, n.join_timestamp, n.last_seen)


def _expect_invalid(call, what):
    try:
        resp = call()
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT, \
            "%s: expected INVALID_ARGUMENT, got %s %r" % (what, e.code(), e.details())
        assert e.details(), "%s: INVALID_ARGUMENT without a message" % what
    else:
        pytest.fail("%s: expected INVALID_ARGUMENT, got OK: %s" % (what, str(resp).strip()[:500]),
                    pytrace=False)


# --------------------------------------------------------------------------
# RegisterNode


def test_register_node(gateway_stubs):
    s = gateway_stubs
    r1 = _reg(s, 1, caps=("train", "aggregate"))
    assert (r1.status, r1.node_id, r1.is_bootstrap) == ("registered", 1, True), \
        "first RegisterNode: expected status 'registered', is_bootstrap true; got %s" % r1
    assert r1.message == "Registration successful", "message: %r" % r1.message
    assert list(r1.nodes) == [], "first node: nodes must be the OTHER active nodes, got %s" % _ids(r1.nodes)

    r2 = _reg(s, 2)
    assert (r2.status, r2.is_bootstrap) == ("registered", False), "second RegisterNode: %s" % r2
    assert r2.message == "Registration successful"
    assert _ids(r2.nodes) == [1], "node 2's nodes: %s" % _ids(r2.nodes)
    _check_node_info(r2.nodes[0], 1, LOOPBACK, 6001, "node 1 in RegisterNode(2).nodes")
    assert list(r2.nodes[0].capabilities) == ["train", "aggregate"]
    assert r2.HasField("leader") and r2.leader.node_id == 1, \
        "the bootstrap node is the leader; RegisterNode(2).leader: %s" % (r2.leader if r2.HasField("leader") else None)
    _check_node_info(r2.leader, 1, LOOPBACK, 6001, "RegisterNode(2).leader")
    assert r2.registry_version > r1.registry_version, \
        "registry_version %d -> %d" % (r1.registry_version, r2.registry_version)

    r3 = _reg(s, 3)
    assert _ids(r3.nodes) == [1, 2] and r3.is_bootstrap is False

    # Known node => "updated", not bootstrap, still no duplicate.
    u = _reg(s, 2, port=6202, ip="10.0.0.2")
    assert (u.status, u.node_id, u.is_bootstrap) == ("updated", 2, False), "re-registration: %s" % u
    assert _ids(u.nodes) == [1, 3]
    allnodes = {n.node_id: n for n in _nodes(s).nodes}
    assert sorted(allnodes) == [1, 2, 3]
    assert (allnodes[2].ip_address, allnodes[2].port) == ("10.0.0.2", 6202), "update must change the address"
    u1 = _reg(s, 1)
    assert (u1.status, u1.is_bootstrap) == ("updated", False), \
        "re-registration of the first node must not bootstrap again: %s" % u1


@pytest.mark.parametrize("case,kw", [
    ("node_id 0", dict(node_id=0, ip_address=LOOPBACK, port=6000)),
    ("node_id -1", dict(node_id=-1, ip_address=LOOPBACK, port=6000)),
    ("empty ip_address", dict(node_id=5, ip_address="", port=6000)),
    ("port 0", dict(node_id=5, ip_address=LOOPBACK, port=0)),
    ("port -1", dict(node_id=5, ip_address=LOOPBACK, port=-1)),
    ("port 65536", dict(node_id=5, ip_address=LOOPBACK, port=65536)),
])
def test_register_node_validation(gateway_stubs, case, kw):
    s = gateway_stubs
    _reg(s, 5, port=6005)
    before = ([(n.node_id, n.ip_address, n.port) for n in _nodes(s).nodes], _stats(s).total_nodes,
              _stats(s).registry_version)
    _expect_invalid(lambda: s.compat.RegisterNode(s.cpb.RegisterNodeRequest(**kw), timeout=RPC_TIMEOUT),
                    "RegisterNode with %s" % case)
    after = ([(n.node_id, n.ip_address, n.port) for n in _nodes(s).nodes], _stats(s).total_nodes,
             _stats(s).registry_version)
    assert after == before, "RegisterNode with %s changed the registry: %s -> %s" % (case, before, after)


def test_register_node_port_boundaries(gateway_stubs):
    s = gateway_stubs
    assert _reg(s, 11, port=1).status == "registered"
    assert _reg(s, 12, port=65535).status == "registered"
    assert _reg(s, 2147483647, port=6000).status == "registered"


# --------------------------------------------------------------------------
# GetNodes, GetLeader, UpdateLeader


def test_get_nodes(gateway_stubs):
    s = gateway_stubs
    empty = _nodes(s)
    assert list(empty.nodes) == []
    for i in (1, 2, 3):
        _reg(s, i)
    assert _ids(_nodes(s).nodes) == [1, 2, 3]
    assert _ids(_nodes(s, requesting=2).nodes) == [1, 3], "GetNodes must exclude requesting_node_id"
    assert _ids(_nodes(s, requesting=99).nodes) == [1, 2, 3]
    resp = _nodes(s)
    assert resp.registry_version > 0
    for n in resp.nodes:
        _check_node_info(n, n.node_id, LOOPBACK, 6000 + n.node_id, "GetNodes")


def test_get_leader_none(gateway_stubs):
    s = gateway_stubs
    r = s.compat.GetLeader(s.cpb.GetLeaderRequest(), timeout=RPC_TIMEOUT)
    assert r.message == "No leader registered", "GetLeader on an empty gateway: message %r" % r.message
    assert not r.HasField("leader") or r.leader.node_id == 0, "unexpected leader %s" % r.leader


def test_get_and_update_leader(gateway_stubs):
    s = gateway_stubs
    _reg(s, 1)
    _reg(s, 2, port=6102)
    r = s.compat.GetLeader(s.cpb.GetLeaderRequest(), timeout=RPC_TIMEOUT)
    assert r.message == "Leader found", "message: %r" % r.message
    assert r.leader.node_id == 1, "the bootstrap node is the leader, got %s" % r.leader
    _check_node_info(r.leader, 1, LOOPBACK, 6001, "GetLeader")

    u = s.compat.UpdateLeader(s.cpb.UpdateLeaderRequest(leader_id=2), timeout=RPC_TIMEOUT)
    assert (u.status, u.leader_id) == ("updated", 2), "UpdateLeader(2): %s" % u
    r = s.compat.GetLeader(s.cpb.GetLeaderRequest(), timeout=RPC_TIMEOUT)
    assert (r.message, r.leader.node_id, r.leader.port) == ("Leader found", 2, 6102), "after UpdateLeader: %s" % r
    assert _stats(s).leader_id == 2

    f = s.compat.UpdateLeader(s.cpb.UpdateLeaderRequest(leader_id=99), timeout=RPC_TIMEOUT)
    assert f.status == "failed", "UpdateLeader of an unregistered node: expected 'failed', got %s" % f
    assert s.compat.GetLeader(s.cpb.GetLeaderRequest(), timeout=RPC_TIMEOUT).leader.node_id == 2, \
        "a failed UpdateLeader changed the leader"


# --------------------------------------------------------------------------
# Heartbeat, HealthCheck, RemoveNode, GetStats


def test_heartbeat(gateway_stubs):
    s = gateway_stubs
    reg = _reg(s, 4)
    time.sleep(1.1)
    h = s.compat.Heartbeat(s.cpb.HeartbeatRequest(node_id=4), timeout=RPC_TIMEOUT)
    assert h.status == "acknowledged", "Heartbeat(4): %s" % h
    assert h.registry_version >= reg.registry_version
    seen = {n.node_id: n for n in _nodes(s).nodes}[4]
    assert time.time() - seen.last_seen < 1.0, "Heartbeat must refresh last_seen (%.3f s old)" % (
        time.time() - seen.last_seen)
    assert seen.join_timestamp < seen.last_seen - 0.5, "join_timestamp must not move on heartbeat"
    h = s.compat.Heartbeat(s.cpb.HeartbeatRequest(node_id=404), timeout=RPC_TIMEOUT)
    assert h.status == "not_found", "Heartbeat of an unknown node: %s" % h


def test_health_check(gateway_stubs):
    s = gateway_stubs
    h = s.compat.HealthCheck(s.cpb.HealthCheckRequest(), timeout=RPC_TIMEOUT)
    assert (h.status, h.version) == ("healthy", "1.0.0"), "HealthCheck: %s" % h
    assert abs(h.timestamp - time.time()) < NOW_SLACK, "timestamp %.3f vs now %.3f" % (h.timestamp, time.time())


def test_remove_node(gateway_stubs):
    s = gateway_stubs
    for i in (1, 2, 3):
        _reg(s, i)
    r = s.compat.RemoveNode(s.cpb.RemoveNodeRequest(node_id=3), timeout=RPC_TIMEOUT)
    assert (r.status, r.node_id) == ("removed", 3), "RemoveNode(3): %s" % r
    assert r.message
    assert _ids(_nodes(s).nodes) == [1, 2]
    r = s.compat.RemoveNode(s.cpb.RemoveNodeRequest(node_id=3), timeout=RPC_TIMEOUT)
    assert r.status == "not_found", "second RemoveNode(3): %s" % r
    assert s.compat.Heartbeat(s.cpb.HeartbeatRequest(node_id=3), timeout=RPC_TIMEOUT).status == "not_found"


def test_get_stats(gateway_stubs):
    s = gateway_stubs
    st = _stats(s)
    assert (st.total_nodes, st.active_nodes, st.leader_id, st.bootstrap_initiated) == (0, 0, 0, False), \
        "GetStats on an empty gateway: %s" % st
    assert st.uptime > 0, "uptime must be > 0, got %r" % st.uptime
    for i in (1, 2, 3):
        _reg(s, i)
    st2 = _stats(s)
    assert (st2.total_nodes, st2.active_nodes, st2.leader_id, st2.bootstrap_initiated) == (3, 3, 1, True), \
        "GetStats after 3 registrations: %s" % st2
    assert st2.uptime >= st.uptime
    assert st2.registry_version > st.registry_version
    s.compat.RemoveNode(s.cpb.RemoveNodeRequest(node_id=2), timeout=RPC_TIMEOUT)
    st3 = _stats(s)
    assert (st3.total_nodes, st3.active_nodes) == (2, 2), "after RemoveNode(2): %s" % st3


# --------------------------------------------------------------------------
# shared registry with gateway.v1, second listener


def test_shared_registry_with_v1(gateway_stubs):
    s = gateway_stubs
    r = _reg(s, 7, port=6007, caps=("train",))
    assert r.is_bootstrap is True
    peers = peers_by_id(s)
    assert "7" in peers, "compat node 7 must be visible in v1 ListPeers as '7', got %s" % sorted(peers)
    p = peers["7"]
    assert (p.address.host, p.address.port, list(p.capabilities), p.stale) == (LOOPBACK, 6007, ["train"], False), \
        "v1 view of compat node 7: %s" % p
    hb = s.v1.Heartbeat(s.pb.HeartbeatRequest(node_id="7"), timeout=RPC_TIMEOUT)
    assert hb.known is True, "v1 Heartbeat('7') of a compat-registered node: known=false"

    v = register(s, "v1-node")
    assert v.bootstrap is False, "compat node 7 bootstrapped the registry; a v1 node must not bootstrap"
    assert [x.node_id for x in v.peers] == ["7"]
    assert v.leader.node_id == "7", "leader hint after a compat bootstrap: %s" % v.leader

    _reg(s, 8, port=6008)
    u = s.compat.UpdateLeader(s.cpb.UpdateLeaderRequest(leader_id=8), timeout=RPC_TIMEOUT)
    assert u.status == "updated"
    lead = s.v1.GetLeader(s.pb.GetLeaderRequest(), timeout=RPC_TIMEOUT).leader
    assert (lead.node_id, lead.address.port) == ("8", 6008), "v1 GetLeader after compat UpdateLeader: %s" % lead

    s.compat.RemoveNode(s.cpb.RemoveNodeRequest(node_id=7), timeout=RPC_TIMEOUT)
    assert "7" not in peers_by_id(s), "compat RemoveNode(7) must remove '7' from v1 ListPeers"


def test_compat_listen_second_listener(gateway_factory, stubs_factory):
    port = pick_free_port()
    srv = gateway_factory(compat_listen="%s:%d" % (LOOPBACK, port))
    assert (srv.compat_host, srv.compat_port) == (LOOPBACK, port), \
        "compat listening line: %s:%s, expected %s:%d" % (srv.compat_host, srv.compat_port, LOOPBACK, port)
    s = stubs_factory(srv)  # compat stub on the compat listener
    r = _reg(s, 21)
    assert r.status == "registered" and r.is_bootstrap
    assert "21" in peers_by_id(s), "node registered on --compat-listen not visible via v1 on --listen"
    v = register(s, "v1-x")
    assert v.bootstrap is False
    # The main listener serves the compat service too.
    with grpc.insecure_channel(srv.address, options=PY_NODE_CHANNEL_OPTIONS) as ch:
        stub = s.protos.compat_grpc.GatewayServiceStub(ch)
        h = stub.HealthCheck(s.cpb.HealthCheckRequest(), timeout=RPC_TIMEOUT)
        assert h.status == "healthy"


# --------------------------------------------------------------------------
# keepalive: the Python nodes ping every keepalive_time_ms, also without calls


# grpcio's client sends at most grpc.http2.max_pings_without_data (default 2)
# pings between calls; many nodes set it to 0 (unlimited), so both are tested.
KEEPALIVE_VARIANTS = {
    "node-options": PY_NODE_CHANNEL_OPTIONS,
    "node-options+unlimited-pings": PY_NODE_CHANNEL_OPTIONS + [("grpc.http2.max_pings_without_data", 0)],
}


@pytest.mark.parametrize("variant", sorted(KEEPALIVE_VARIANTS))
@pytest.mark.parametrize("listener", ["main", "compat"])
def test_keepalive_idle_channel_survives(gateway_factory, stubs_factory, listener, variant):
    srv = gateway_factory(compat_listen="%s:0" % LOOPBACK)
    s = stubs_factory(srv)
    target = srv.address if listener == "main" else "%s:%d" % (srv.compat_host, srv.compat_port)
    ch = grpc.insecure_channel(target, options=KEEPALIVE_VARIANTS[variant])
    states = []

    def on_state(st):
        states.append((time.monotonic(), st))

    ch.subscribe(on_state, try_to_connect=True)
    try:
        stub = s.protos.compat_grpc.GatewayServiceStub(ch)
        assert stub.HealthCheck(s.cpb.HealthCheckRequest(), timeout=RPC_TIMEOUT).status == "healthy"
        stub.RegisterNode(s.cpb.RegisterNodeRequest(node_id=1, ip_address=LOOPBACK, port=6001),
                          timeout=RPC_TIMEOUT)
        # Callbacks arrive in order on grpcio's thread: once READY has been
        # delivered, any later state is a real transition (not a late initial one).
        deadline = time.monotonic() + 5.0
        while not any(st == grpc.ChannelConnectivity.READY for _, st in states):
            assert time.monotonic() < deadline, "no READY notification within 5 s: %s" % states
            time.sleep(0.02)
        first_ready = [i for i, (_, st) in enumerate(states) if st == grpc.ChannelConnectivity.READY][0]
        time.sleep(3.5)  # >= 3 keepalive pings at 1 s, no calls
        r = stub.Heartbeat(s.cpb.HeartbeatRequest(node_id=1), timeout=RPC_TIMEOUT)
        assert r.status == "acknowledged"
        time.sleep(2.5)
        r = stub.GetNodes(s.cpb.GetNodesRequest(), timeout=RPC_TIMEOUT)
        assert [n.node_id for n in r.nodes] == [1]
        time.sleep(0.2)
        during = [st for _, st in states[first_ready + 1:]]
        assert not during, (
            "the channel left READY while idle with 1 s keepalive pings (the server closed or "
            "GOAWAYed the connection): state changes %s" % [st.name for st in during])
    finally:
        ch.unsubscribe(on_state)
        ch.close()
    srv.assert_alive("after keepalive pings")


def test_keepalive_pings_raw_no_goaway(gateway):
    """At the HTTP/2 level: a call, then PINGs every 1 s with no calls (like grpcio
    with keepalive_permit_without_calls), then another call on the same connection.
    Every PING must be ACKed, no GOAWAY, and the second call must succeed."""
    path = "/GatewayService/HealthCheck"
    authority = gateway.address
    with h2raw.H2Conn(gateway.host, gateway.port, timeout=5.0) as c:
        c.start()
        c.send(h2raw.headers_frame(1, h2raw.grpc_request_headers(authority, path)) +
               h2raw.data_frame(1, h2raw.grpc_message(b""), end_stream=True))
        res = c.collect(1, timeout=5.0)
        assert res.grpc_status == 0, "HealthCheck on stream 1: %s" % res.outcome()
        acks = 0
        for i in range(4):
            payload = struct.pack(">Q", 0x6B656570616C0000 + i)
            c.send(h2raw.frame(h2raw.PING, 0, 0, payload))
            deadline = time.monotonic() + 2.0
            while True:
                try:
                    f = c.next_frame(deadline)
                except TimeoutError:
                    pytest.fail("no PING ACK within 2 s for keepalive ping #%d" % (i + 1), pytrace=False)
                except (EOFError, ConnectionError) as e:
                    pytest.fail("server closed the connection after keepalive ping #%d: %s" % (i + 1, e),
                                pytrace=False)
                assert f.type != h2raw.GOAWAY, "server sent %r after keepalive ping #%d" % (f, i + 1)
                if f.type == h2raw.PING and f.flags & h2raw.FLAG_ACK and f.payload == payload:
                    acks += 1
                    break
            time.sleep(1.0)
        assert acks == 4
        c.send(h2raw.headers_frame(3, h2raw.grpc_request_headers(authority, path)) +
               h2raw.data_frame(3, h2raw.grpc_message(b""), end_stream=True))
        res = c.collect(3, timeout=5.0)
        assert res.goaway_code is None, "GOAWAY after idle keepalive pings: %s" % res.outcome()
        assert res.grpc_status == 0, "HealthCheck after idle keepalive pings: %s" % res.outcome()


def test_compat_views_skip_non_numeric_v1_ids(gateway_stubs):
    """Not spelled out in the contract: a v1 node whose id is not an int32 can't be a
    NodeInfo; the compat answers must still work (and must not invent node_id 0)."""
    s = gateway_stubs
    _reg(s, 31)
    register(s, "v1-not-numeric")
    ids = _ids(_nodes(s).nodes)
    assert 0 not in ids, "GetNodes returned node_id 0 for a non-numeric v1 id: %s" % ids
    assert 31 in ids, "GetNodes: %s" % ids
    r = _reg(s, 32)
    assert 0 not in _ids(r.nodes) and 31 in _ids(r.nodes), "RegisterNode(32).nodes: %s" % _ids(r.nodes)


def test_register_node_returns_all_other_nodes(gateway_stubs):
    """Like the Python reference gateway: RegisterNode.nodes lists every other
    active node, however many (the Python nodes build their peer table from it)."""
    s = gateway_stubs
    n = 80
    for i in range(1, n):
        _reg(s, i)
    r = _reg(s, n)
    assert _ids(r.nodes) == list(range(1, n)), \
        "RegisterNode(%d).nodes: %d entries, expected all %d other nodes" % (n, len(r.nodes), n - 1)
    assert _ids(_nodes(s, requesting=n).nodes) == list(range(1, n))


def test_unknown_fields_ignored_like_python_reference(gateway_stubs):
    """Python protobuf ignores unknown fields, so the Python reference gateway accepts
    requests from nodes with a newer .proto; the compat service must too (the
    INVALID_ARGUMENT-on-unknown-fields rule is gateway.v1's)."""
    s = gateway_stubs
    raw = s.cpb.RegisterNodeRequest(node_id=3, ip_address=LOOPBACK, port=6003).SerializeToString() + \
        bytes([0x98, 0x06, 0x01])
    call = s.compat_channel.unary_unary("/GatewayService/RegisterNode", request_serializer=None,
                                        response_deserializer=None)
    r = s.cpb.RegisterNodeResponse.FromString(call(raw, timeout=RPC_TIMEOUT))
    assert r.status == "registered", r


@pytest.mark.parametrize("field", ["ip_address", "capabilities", "metadata.key", "metadata.value"])
def test_nul_in_register_node_strings_is_invalid_argument(gateway_stubs, field):
    s = gateway_stubs
    _reg(s, 41, port=6041)
    before = sorted((n.node_id, n.ip_address, n.port, tuple(n.capabilities), tuple(sorted(n.metadata.items())))
                    for n in _nodes(s).nodes)
    kw = dict(node_id=41, ip_address=LOOPBACK, port=6041, capabilities=["train"], metadata={"role": "worker"})
    if field == "ip_address":
        kw["ip_address"] = "10.6.6.6\0evil"
    elif field == "capabilities":
        kw["capabilities"] = ["train\0evil"]
    elif field == "metadata.key":
        kw["metadata"] = {"role\0x": "worker"}
    else:
        kw["metadata"] = {"role": "worker\0evil"}
    with pytest.raises(grpc.RpcError) as info:
        s.compat.RegisterNode(s.cpb.RegisterNodeRequest(**kw), timeout=RPC_TIMEOUT)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value
    assert field in info.value.details() and "NUL" in info.value.details(), info.value.details()
    after = sorted((n.node_id, n.ip_address, n.port, tuple(n.capabilities), tuple(sorted(n.metadata.items())))
                   for n in _nodes(s).nodes)
    assert after == before, "a refused RegisterNode changed the registry: %s -> %s" % (before, after)
