"""Mutual TLS between `gossipfl peer` processes, with certificates made by
`gossipfl certs`, probed with grpcio clients as an attacker on loopback would.

Before (993c3de) anyone who reached a peer's port could Propose, Join a rogue
learner, Leave a member, forge AppendEntries as leader "evil" (committed in
every WAL) and force elections with TimeoutNow. Now:
  * without a certificate every mutating RPC is UNAUTHENTICATED (Status stays open);
  * a certificate for node A cannot act as node B (PERMISSION_DENIED);
  * a peer whose certificate comes from another cluster's CA cannot join;
  * none of it changes the cluster: same members, same term, commits continue.
"""

import os

import grpc
import pytest

from gateway_fixtures import gossipfl_bin  # noqa: F401 (fixture)
from interop_harness import pick_free_port
from raft_fixtures import ClusterCerts, Peer, PeerCluster, load_raft_protos


@pytest.fixture
def secure_cluster(gossipfl_bin, tmp_path):
    certs = ClusterCerts(gossipfl_bin, str(tmp_path / "certs"))
    cluster = PeerCluster(gossipfl_bin, str(tmp_path / "peers"), certs=certs)
    try:
        cluster.start_static(3)
        leader = cluster.wait_voters(3)
        assert leader is not None, "no leader with 3 voters over mutual TLS:\n" + "\n".join(
            p.describe() for p in cluster.peers.values())
        yield cluster, certs
    finally:
        cluster.close()


def stubs(peer, client):
    protos = load_raft_protos()
    channel = peer.open_channel(client)
    return channel, protos.grpc.RaftStub(channel), protos.grpc.ClusterStub(channel)


def mutating_calls(pb, term, as_node):
    """(name, callable on (raft, cluster)) for every RPC that changes something, claiming to be `as_node`."""
    return [
        ("Propose", lambda r, c: c.Propose(pb.ProposeRequest(data=b"rogue"), timeout=5)),
        ("Join", lambda r, c: c.Join(pb.JoinRequest(node_id="rogue", address="127.0.0.1:1"), timeout=5)),
        ("Leave", lambda r, c: c.Leave(pb.LeaveRequest(node_id="n3"), timeout=5)),
        ("AppendEntries", lambda r, c: r.AppendEntries(pb.AppendEntriesRequest(
            term=term + 1, leader_id=as_node, prev_log_index=0, entries=[pb.Entry(term=term + 1, index=1, data=b"x")]),
            timeout=5)),
        ("RequestVote", lambda r, c: r.RequestVote(pb.RequestVoteRequest(term=term + 1, candidate_id=as_node), timeout=5)),
        ("TimeoutNow", lambda r, c: r.TimeoutNow(pb.TimeoutNowRequest(term=term, leader_id=as_node), timeout=5)),
        ("InstallSnapshot", lambda r, c: r.InstallSnapshot(iter([pb.InstallSnapshotRequest(
            term=term + 1, leader_id=as_node, last_included_index=100, last_included_term=term + 1, done=True,
            config=pb.ClusterConfig(members=[pb.Member(node_id=as_node, address="127.0.0.1:1", voter=True)]))]),
            timeout=5)),
    ]


def assert_cluster_unchanged(cluster, before):
    leader = cluster.leader(timeout=10)
    assert leader is not None
    after = leader.status()
    assert after.term == before.term, "the probing forced an election (term %d -> %d)" % (before.term, after.term)
    assert sorted(m.node_id for m in after.members) == sorted(m.node_id for m in before.members)
    assert cluster.propose(b"still ours").committed


def test_without_a_certificate_every_mutating_rpc_is_refused(secure_cluster):
    cluster, _ = secure_cluster
    pb = load_raft_protos().pb
    leader = cluster.current_leader()
    before = leader.status()
    for target in cluster.alive():
        channel, raft, clusterstub = stubs(target, None)  # trusts the CA, presents no certificate
        with channel:
            for name, call in mutating_calls(pb, before.term, "evil"):
                with pytest.raises(grpc.RpcError) as e:
                    call(raft, clusterstub)
                assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED, (target.node_id, name, e.value)
                assert "client certificate" in e.value.details()
            # Reads stay open.
            assert clusterstub.Status(pb.StatusRequest(), timeout=5).leader_id == leader.node_id
    assert_cluster_unchanged(cluster, before)


def test_a_node_certificate_cannot_act_as_another_node(secure_cluster):
    cluster, _ = secure_cluster
    pb = load_raft_protos().pb
    leader = cluster.current_leader()
    before = leader.status()
    follower = next(p for p in cluster.alive() if p is not leader)
    channel, raft, clusterstub = stubs(follower, ("node", "n1" if follower.node_id != "n1" else "n2"))
    holder = "n1" if follower.node_id != "n1" else "n2"
    with channel:
        for name, call in mutating_calls(pb, before.term, "evil"):
            if name == "Propose":
                continue  # any member may propose
            with pytest.raises(grpc.RpcError) as e:
                call(raft, clusterstub)
            assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED, (name, e.value)
            assert "node %s may not" % holder in e.value.details(), e.value.details()
    assert_cluster_unchanged(cluster, before)


def test_a_peer_of_another_clusters_ca_cannot_join(secure_cluster, gossipfl_bin, tmp_path):
    cluster, _ = secure_cluster
    pb = load_raft_protos().pb
    leader = cluster.current_leader()
    before = leader.status()
    foreign = ClusterCerts(gossipfl_bin, str(tmp_path / "foreign"))
    # A rogue node with a certificate for the right-looking ID n4, from another CA.
    with pytest.raises(RuntimeError) as e:
        Peer(gossipfl_bin, "n4", pick_free_port(), str(tmp_path / "n4"),
             ["--join", leader.address, "--join-timeout-s", "3"], certs=foreign, start_timeout=20)
    assert "exited with" in str(e.value), e.value
    # grpcio with the foreign admin certificate does not get past the handshake either.
    channel = grpc.secure_channel(leader.address, foreign.credentials("admin", "intruder"))
    with channel:
        with pytest.raises(grpc.RpcError) as e:
            load_raft_protos().grpc.ClusterStub(channel).Propose(pb.ProposeRequest(data=b"x"), timeout=5)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE, e.value
    assert_cluster_unchanged(cluster, before)


def test_plain_text_clients_cannot_talk_to_a_secure_peer(secure_cluster):
    cluster, _ = secure_cluster
    pb = load_raft_protos().pb
    leader = cluster.current_leader()
    with grpc.insecure_channel(leader.address) as channel:
        with pytest.raises(grpc.RpcError) as e:
            load_raft_protos().grpc.ClusterStub(channel).Status(pb.StatusRequest(), timeout=5)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE


def test_admin_and_member_certificates_may_operate(secure_cluster, gossipfl_bin, tmp_path):
    cluster, certs = secure_cluster
    pb = load_raft_protos().pb
    leader = cluster.current_leader()
    # The admin removes n3 (the stubs present the admin certificate)...
    victim = "n3" if leader.node_id != "n3" else "n2"
    assert leader.cluster.Leave(pb.LeaveRequest(node_id=victim), timeout=10).accepted
    cluster.peers[victim].stop()
    # ... a member proposes with its own certificate ...
    channel, _, clusterstub = stubs(leader, ("node", leader.node_id))
    with channel:
        assert clusterstub.Propose(pb.ProposeRequest(data=b"by a member"), timeout=10).committed
    # ... and a new node with a certificate from our CA joins over mutual TLS.
    newcomer = cluster.add("n5", ["--join", leader.address])
    assert newcomer.how_started == "joined"
    assert cluster.wait_voters(3, timeout=20) is not None
    assert cluster.propose(b"after the newcomer").committed


def test_gossipfl_certs_writes_private_keys_only_for_the_owner(gossipfl_bin, tmp_path):
    certs = ClusterCerts(gossipfl_bin, str(tmp_path / "c"))
    cert, key = certs.issue("node", "n1")
    assert os.stat(key).st_mode & 0o077 == 0, oct(os.stat(key).st_mode)
    assert os.stat(os.path.join(certs.dir, "ca-key.pem")).st_mode & 0o077 == 0
    from cryptography import x509
    with open(cert, "rb") as f:
        parsed = x509.load_pem_x509_certificate(f.read())
    san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "gossipfl:node/n1" in san.get_values_for_type(x509.UniformResourceIdentifier)


def test_committed_entries_are_read_in_pages_by_members_only(secure_cluster):
    cluster, _ = secure_cluster
    pb = load_raft_protos().pb
    proposed = [b"decision %d" % i for i in range(10)]
    last = None
    for data in proposed:
        last = cluster.propose(data)
    follower = next(p for p in cluster.alive() if p is not cluster.current_leader())
    follower.wait_applied(last.index)
    first = follower.cluster.ReadEntries(pb.ReadEntriesRequest(from_index=0, max_entries=1), timeout=5)
    assert first.entries and first.entries[0].index == first.first_index
    with pytest.raises(grpc.RpcError) as e:  # the bootstrap snapshot covers index 1
        follower.cluster.ReadEntries(pb.ReadEntriesRequest(from_index=first.first_index - 1), timeout=5)
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "compacted" in e.value.details()
    seen, index, pages = [], first.first_index, 0
    while True:
        page = follower.cluster.ReadEntries(pb.ReadEntriesRequest(from_index=index, max_entries=3), timeout=5)
        assert len(page.entries) <= 3
        if not page.entries:
            assert page.next_index == index and page.commit_index >= last.index
            break
        assert [e.index for e in page.entries] == list(range(index, index + len(page.entries)))
        seen += [e.data for e in page.entries if e.type == pb.ENTRY_NORMAL]
        index, pages = page.next_index, pages + 1
    assert seen[-len(proposed):] == proposed and pages >= 4
    channel, _, anonymous = stubs(follower, None)
    with channel:
        with pytest.raises(grpc.RpcError) as e:
            anonymous.ReadEntries(pb.ReadEntriesRequest(from_index=1), timeout=5)
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
