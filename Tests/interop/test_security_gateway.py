"""A gateway with mutual TLS (`gossipfl gateway --tls-*`, certificates from
`gossipfl certs`), probed with grpcio clients.

Before (993c3de) anyone could Deregister or RemoveNode any node, re-Register
an existing ID with a new address (newcomers were then sent to the attacker as
"leader"), UpdateLeader to a rogue node, and ReportMembership with a huge term
so the real leader's reports were refused. Now:
  * a node ID is registered, renewed, removed or reported for only with that
    node's certificate; without one, UNAUTHENTICATED; reads stay open;
  * ReportMembership only from a node the gateway knows, about itself;
  * the plain-text compat GatewayService is served only on --compat-listen,
    over its own registry: it cannot see or touch secure registrations;
  * peers with node certificates bootstrap and join through the secure gateway.
"""

import time

import grpc
import pytest

from gateway_fixtures import gossipfl_bin, launch_gateway, load_gateway_protos  # noqa: F401 (fixture)
from interop_harness import pick_free_port
from raft_fixtures import ClusterCerts, PeerCluster


@pytest.fixture
def secure_gateway(gossipfl_bin, tmp_path):
    certs = ClusterCerts(gossipfl_bin, str(tmp_path / "certs"))
    compat_port = pick_free_port()
    gw = launch_gateway(gossipfl_bin, str(tmp_path / "gw"), compat_listen="127.0.0.1:%d" % compat_port,
                        security=certs.args("gateway", "gateway"))
    try:
        yield gw, certs, "127.0.0.1:%d" % compat_port
    finally:
        gw.close()


def v1_stub(gw, certs, client):
    protos = load_gateway_protos()
    role, name = client if client else (None, None)
    channel = grpc.secure_channel(gw.address, certs.credentials(role, name))
    return channel, protos.v1_grpc.GatewayStub(channel), protos.v1


def register(stub, pb, node_id, port):
    return stub.Register(pb.RegisterRequest(node_id=node_id, address=pb.NodeAddress(host="127.0.0.1", port=port)),
                         timeout=5)


def peers(stub, pb):
    return {p.node_id: p.address.port for p in stub.ListPeers(pb.ListPeersRequest(), timeout=5).peers}


def test_only_a_nodes_certificate_acts_for_it(secure_gateway):
    gw, certs, _ = secure_gateway
    with grpc.secure_channel(gw.address, certs.credentials("node", "n1")) as c1:
        pb = load_gateway_protos().v1
        n1 = load_gateway_protos().v1_grpc.GatewayStub(c1)
        assert register(n1, pb, "n1", 7101).bootstrap
        channel, n2, _ = v1_stub(gw, certs, ("node", "n2"))
        anonymous_channel, anonymous, _ = v1_stub(gw, certs, None)
        with channel, anonymous_channel:
            attacks = [
                ("Register", lambda s: register(s, pb, "n1", 6666)),
                ("Heartbeat", lambda s: s.Heartbeat(pb.HeartbeatRequest(node_id="n1"), timeout=5)),
                ("Deregister", lambda s: s.Deregister(pb.DeregisterRequest(node_id="n1"), timeout=5)),
                ("ReportMembership", lambda s: s.ReportMembership(pb.ReportMembershipRequest(
                    reporter_id="n1", leader_id="n1", term=2**62, members=[]), timeout=5)),
            ]
            for name, attack in attacks:
                for stub, code in ((n2, grpc.StatusCode.PERMISSION_DENIED), (anonymous, grpc.StatusCode.UNAUTHENTICATED)):
                    with pytest.raises(grpc.RpcError) as e:
                        attack(stub)
                    assert e.value.code() == code, (name, e.value)
            # A registered node that is not (yet) a member cannot speak for the cluster.
            assert not register(n2, pb, "n2", 7102).bootstrap
            n2_report = pb.ReportMembershipRequest(reporter_id="n2", leader_id="n2", term=2**62, members=[
                pb.NodeEntry(node_id="n2", address=pb.NodeAddress(host="127.0.0.1", port=7102))])
            with pytest.raises(grpc.RpcError) as e:
                n2.ReportMembership(n2_report, timeout=5)
            assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "not a current member" in e.value.details()
            # Reads are open, and nothing changed: n1 is still at its own address and leads.
            assert peers(anonymous, pb) == {"n1": 7101, "n2": 7102}
            assert anonymous.GetLeader(pb.GetLeaderRequest(), timeout=5).leader.node_id == "n1"
        # A report must list its reporter among the members.
        with pytest.raises(grpc.RpcError) as e:
            n1.ReportMembership(pb.ReportMembershipRequest(reporter_id="n1", leader_id="n1", term=3, members=[]), timeout=5)
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
        # n1 (told to bootstrap) may report; once its report lists n2, n2 is a member and may report too.
        both = [pb.NodeEntry(node_id=n, address=pb.NodeAddress(host="127.0.0.1", port=p)) for n, p in (("n1", 7101), ("n2", 7102))]
        assert n1.ReportMembership(pb.ReportMembershipRequest(
            reporter_id="n1", leader_id="n1", term=2, members=both), timeout=5).accepted
        channel, n2, _ = v1_stub(gw, certs, ("node", "n2"))
        with channel:
            assert n2.ReportMembership(pb.ReportMembershipRequest(
                reporter_id="n2", leader_id="n2", term=3, members=both), timeout=5).accepted
        assert n1.Deregister(pb.DeregisterRequest(node_id="n1"), timeout=5).removed


def test_the_compat_service_has_its_own_port_and_registry(secure_gateway):
    gw, certs, compat_address = secure_gateway
    protos = load_gateway_protos()
    with grpc.secure_channel(gw.address, certs.credentials("node", "7")) as c:
        pb = protos.v1
        secure = protos.v1_grpc.GatewayStub(c)
        register(secure, pb, "7", 7107)
        # The main (TLS) port does not serve the package-less GatewayService.
        with pytest.raises(grpc.RpcError) as e:
            protos.compat_grpc.GatewayServiceStub(c).GetNodes(protos.compat.GetNodesRequest(), timeout=5)
        assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
        with grpc.insecure_channel(compat_address) as plain:
            compat = protos.compat_grpc.GatewayServiceStub(plain)
            cpb = protos.compat
            # A Python node registers with the same numeric ID, removes it, makes it leader: none of
            # it reaches the node registered through the secure API.
            compat.RegisterNode(cpb.RegisterNodeRequest(node_id=7, ip_address="10.6.6.6", port=6666), timeout=5)
            compat.UpdateLeader(cpb.UpdateLeaderRequest(leader_id=7), timeout=5)
            compat.RemoveNode(cpb.RemoveNodeRequest(node_id=7), timeout=5)
        assert peers(secure, pb) == {"7": 7107}
        assert secure.GetLeader(pb.GetLeaderRequest(), timeout=5).leader.node_id == "7"


def test_peers_bootstrap_and_join_through_a_secure_gateway(secure_gateway, gossipfl_bin, tmp_path):
    gw, certs, _ = secure_gateway
    cluster = PeerCluster(gossipfl_bin, str(tmp_path / "peers"), certs=certs)
    try:
        args = ["--gateway", gw.address]
        assert cluster.add("p1", args).how_started == "bootstrapped"
        assert cluster.add("p2", args).how_started == "joined"
        assert cluster.add("p3", args).how_started == "joined"
        leader = cluster.wait_voters(3)
        assert leader is not None
        assert cluster.propose(b"through a secure gateway").committed
        time.sleep(6)  # one heartbeat interval: the report that lists all three members goes out
        # After a failover the new leader, a member the last report listed, reports in its turn.
        protos = load_gateway_protos()
        with grpc.secure_channel(gw.address, certs.credentials(None)) as channel:
            stub = protos.v1_grpc.GatewayStub(channel)

            def hint():
                found = stub.GetLeader(protos.v1.GetLeaderRequest(), timeout=5).leader
                return found.node_id, found.term

            # Wait for the leader's own report (the bootstrap hint has term 0; reports ride on heartbeats).
            deadline = time.monotonic() + 20
            while hint() < (leader.node_id, 2) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert hint()[0] == leader.node_id and hint()[1] >= 2, hint()
            leader.kill9()
            new_leader = cluster.leader(among=[p for p in cluster.alive()], timeout=10)
            assert new_leader is not None and new_leader is not leader
            deadline = time.monotonic() + 20
            while hint()[0] != new_leader.node_id and time.monotonic() < deadline:
                time.sleep(0.1)
            assert hint()[0] == new_leader.node_id, "the new leader's membership report was not accepted"
    finally:
        cluster.close()
