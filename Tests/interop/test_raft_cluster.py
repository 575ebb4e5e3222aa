"""Multi-process Raft: 3-5 `gossipfl peer` processes on loopback, driven and
observed through grpcio stubs of raft.v1.Cluster (so this also checks that our
servers answer protoc-generated Python clients).

  * kill -9 of the leader: a new leader commits within 1 s, and the old one,
    restarted on its data directory, catches up;
  * a node with state never bootstraps again;
  * followers redirect proposals and answer linearizable status reads;
  * bad input gets INVALID_ARGUMENT and changes nothing.
"""

import os
import time

import grpc
import pytest

from gateway_fixtures import gossipfl_bin  # noqa: F401 (fixture)
from interop_harness import pick_free_port
from raft_fixtures import PeerCluster, load_raft_protos

FAILOVER_BOUND_S = 1.0


@pytest.fixture
def cluster_factory(gossipfl_bin, tmp_path):
    made = []

    def make(count):
        cluster = PeerCluster(gossipfl_bin, str(tmp_path))
        made.append(cluster)
        cluster.start_static(count)
        leader = cluster.wait_voters(count)
        assert leader is not None, "no leader with %d voters; peers:\n%s" % (
            count, "\n".join(p.describe() for p in cluster.peers.values()))
        return cluster, leader

    yield make
    for cluster in made:
        cluster.close()


def failover(cluster, old_leader):
    """kill -9 the leader; returns (new leader, seconds until it committed in its term)."""
    survivors = [p for p in cluster.alive() if p is not old_leader]
    before = max(p.status().commit_index for p in survivors)
    old_term = old_leader.status().term
    old_leader.kill9()
    start = time.monotonic()
    deadline = start + 10.0
    while time.monotonic() < deadline:
        for peer in survivors:
            s = peer.try_status(timeout=0.2)
            # A new leader's no-op commits an entry of its own term.
            if s is not None and s.role == "leader" and s.term > old_term and s.commit_index > before:
                return peer, time.monotonic() - start
        time.sleep(0.01)
    raise AssertionError("no new leader committed within 10 s:\n" + "\n".join(p.describe() for p in survivors))


@pytest.mark.parametrize("count", [3, 5])
def test_kill9_leader_new_leader_commits_within_a_second_and_old_one_catches_up(cluster_factory, count):
    cluster, leader = cluster_factory(count)
    for i in range(20):
        cluster.propose(b"before-%d" % i)
    new_leader, seconds = failover(cluster, leader)
    assert seconds < FAILOVER_BOUND_S, "failover took %.3f s" % seconds
    after = cluster.propose(b"after-failover")
    assert after.leader_id == new_leader.node_id

    leader.start()
    assert leader.how_started == "resumed"
    s = leader.wait_applied(new_leader.status().commit_index)
    assert s.role == "follower" and s.leader_id == new_leader.node_id
    assert s.applied_index >= after.index


def test_five_peers_survive_two_failures(cluster_factory):
    cluster, leader = cluster_factory(5)
    new_leader, _ = failover(cluster, leader)
    follower = next(p for p in cluster.alive() if p is not new_leader)
    follower.kill9()
    reply = cluster.propose(b"three of five")
    assert reply.committed


def test_node_with_state_never_bootstraps_again(cluster_factory):
    cluster, leader = cluster_factory(3)
    cluster.propose(b"x")
    first = cluster.peers["n1"]
    first.stop()
    # Same data directory, same --bootstrap flag: it must resume, not found a second cluster.
    first.start()
    assert first.how_started == "resumed"
    current = cluster.leader(timeout=10.0)
    assert current is not None
    s = first.wait_applied(current.status().commit_index)
    assert sum(1 for m in s.members if m.voter) == 3


def test_follower_redirects_proposals_and_serves_linearizable_status(cluster_factory):
    pb = load_raft_protos().pb
    cluster, leader = cluster_factory(3)
    follower = next(p for p in cluster.alive() if p is not leader)
    reply = follower.cluster.Propose(pb.ProposeRequest(data=b"to a follower"), timeout=5)
    assert not reply.committed
    assert reply.leader_id == leader.node_id and reply.leader_address == leader.address
    committed = leader.cluster.Propose(pb.ProposeRequest(data=b"to the leader"), timeout=5)
    assert committed.committed
    # A linearizable read on the follower reflects the write that committed before it.
    s = follower.status(linearizable=True, timeout=5)
    assert s.applied_index >= committed.index


def test_bad_input_is_rejected_and_changes_nothing(cluster_factory):
    pb = load_raft_protos().pb
    cluster, leader = cluster_factory(3)
    before = leader.status()

    with pytest.raises(grpc.RpcError) as e:
        leader.raft.AppendEntries(pb.AppendEntriesRequest(
            term=before.term + 5, leader_id="intruder", prev_log_index=1,
            entries=[pb.Entry(term=1, index=7)]), timeout=5)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "consecutive" in e.value.details()

    with pytest.raises(grpc.RpcError) as e:
        leader.raft.RequestVote(pb.RequestVoteRequest(term=before.term + 1), timeout=5)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    with pytest.raises(grpc.RpcError) as e:
        leader.raft.InstallSnapshot(iter([pb.InstallSnapshotRequest(term=before.term + 1, leader_id="x",
                                                                    data=b"abc", done=True)]), timeout=5)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    for bad in (pb.JoinRequest(node_id="", address="127.0.0.1:1"),
                pb.JoinRequest(node_id="a b", address="127.0.0.1:1"),
                pb.JoinRequest(node_id="n9", address="no-port")):
        with pytest.raises(grpc.RpcError) as e:
            leader.cluster.Join(bad, timeout=5)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    after = leader.status()
    assert after.role == "leader" and after.term == before.term
    assert [m.node_id for m in after.members] == [m.node_id for m in before.members]
    assert cluster.propose(b"still working").committed


def test_join_skips_a_dead_hint_and_removed_ids_cannot_rejoin(gossipfl_bin, tmp_path):
    pb = load_raft_protos().pb
    cluster = PeerCluster(gossipfl_bin, str(tmp_path))
    try:
        first = cluster.add("n1", ["--bootstrap"])
        dead = "127.0.0.1:%d" % pick_free_port()
        # The stale hint comes first; the joiner falls through to a live member.
        second = cluster.add("n2", ["--join", "%s,%s" % (dead, first.address)])
        third = cluster.add("n3", ["--join", "%s,%s" % (dead, second.address)])
        leader = cluster.wait_voters(3)
        assert leader is not None and second.how_started == "joined" and third.how_started == "joined"

        reply = leader.cluster.Leave(pb.LeaveRequest(node_id="n3"), timeout=5)
        assert reply.accepted
        s = leader.status()
        assert sorted(m.node_id for m in s.members) == ["n1", "n2"]
        with pytest.raises(grpc.RpcError) as e:
            leader.cluster.Join(pb.JoinRequest(node_id="n3", address=third.address), timeout=5)
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert cluster.propose(b"two voters left").committed
    finally:
        cluster.close()


def test_corrupt_wal_stops_the_node_with_a_clear_error_and_keeps_the_files(gossipfl_bin, tmp_path):
    cluster = PeerCluster(gossipfl_bin, str(tmp_path))
    try:
        first = cluster.add("n1", ["--bootstrap"])
        for i in range(30):
            cluster.propose(b"entry %d" % i)
        first.stop()
        wal = sorted(f for f in os.listdir(first.data_dir) if f.startswith("wal-"))[-1]
        path = os.path.join(first.data_dir, wal)
        size = os.path.getsize(path)
        with open(path, "r+b") as f:  # flip bytes in the middle: not a torn tail, real damage
            f.seek(size // 2)
            chunk = f.read(8)
            f.seek(size // 2)
            f.write(bytes(b ^ 0xFF for b in chunk))
        with pytest.raises(RuntimeError) as e:
            first.start(start_timeout=15)
        message = str(e.value)
        assert "exited with" in message and wal in message, message
        assert os.path.getsize(path) == size, "the damaged segment must be kept for inspection"
    finally:
        cluster.close()
