"""Hostile input to `gossipfl peer` processes, sent with grpcio stubs of raft.v1:

  * forged terms and indexes near 2^64 (defect: a follower adopted term 2^64-1,
    the next election's `term + 1` trapped every peer, on every restart): each is
    refused with INVALID_ARGUMENT, and the cluster keeps electing and committing;
  * proposals over --max-request-bytes (1.5 MiB) get RESOURCE_EXHAUSTED, and a burst
    of proposals just under it commits without an election.
"""

import grpc
import pytest

from gateway_fixtures import gossipfl_bin  # noqa: F401 (fixture)
from raft_fixtures import PeerCluster, load_raft_protos

HUGE = 2**64 - 1


@pytest.fixture
def cluster(gossipfl_bin, tmp_path):
    made = PeerCluster(gossipfl_bin, str(tmp_path))
    made.start_static(3)
    leader = made.wait_voters(3)
    assert leader is not None, "no leader with 3 voters:\n" + "\n".join(p.describe() for p in made.peers.values())
    yield made
    made.close()


def describe(cluster):
    return "\n".join(p.describe() for p in cluster.peers.values())


def forged_requests(pb, term):
    """Each (method name, request or request iterator) carries one value no correct peer sends."""
    return [
        ("AppendEntries", pb.AppendEntriesRequest(term=HUGE, leader_id="evil")),
        ("AppendEntries", pb.AppendEntriesRequest(term=term, leader_id="evil", prev_log_index=HUGE - 1,
                                                  entries=[pb.Entry(term=term, index=HUGE)])),
        ("AppendEntries", pb.AppendEntriesRequest(term=term, leader_id="evil", leader_commit=HUGE)),
        ("RequestVote", pb.RequestVoteRequest(term=HUGE, candidate_id="evil", last_log_index=HUGE, last_log_term=HUGE,
                                              leadership_transfer=True)),
        ("TimeoutNow", pb.TimeoutNowRequest(term=HUGE, leader_id="evil")),
        ("InstallSnapshot", iter([pb.InstallSnapshotRequest(
            term=HUGE, leader_id="evil", last_included_index=HUGE, last_included_term=HUGE, done=True,
            config=pb.ClusterConfig(members=[pb.Member(node_id="evil", address="127.0.0.1:1", voter=True)]))])),
    ]


def test_forged_huge_terms_are_refused_and_elections_still_work(cluster):
    pb = load_raft_protos().pb
    leader = cluster.current_leader()
    follower = next(p for p in cluster.alive() if p is not leader)
    term = follower.status().term
    for method, request in forged_requests(pb, term):
        with pytest.raises(grpc.RpcError) as e:
            getattr(follower.raft, method)(request, timeout=5)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, e.value)
        assert "exceeds" in e.value.details(), (method, e.value.details())
        assert follower.is_alive(), method
    assert follower.status().term == term

    # The next elections run normally: kill the leader, twice, restarting it each time.
    for _ in range(2):
        old = cluster.current_leader() or cluster.leader()
        assert old is not None
        old.kill9()
        assert cluster.propose(b"after forged terms", timeout=10).committed
        old.start()
        assert cluster.leader(timeout=10) is not None
    assert all(p.is_alive() for p in cluster.peers.values())
    assert max(p.status().term for p in cluster.alive()) < 1000


def test_oversized_proposals_are_refused_and_large_ones_do_not_cost_leadership(cluster):
    """16-32 MiB proposals used to stall the leader past the election timeout (8 of 8
    aborted, 9 elections). Now: over 1.5 MiB is RESOURCE_EXHAUSTED, and a burst just
    under it commits with AppendEntries of at most 1 MiB of entries, in one term."""
    pb = load_raft_protos().pb
    leader = cluster.current_leader()
    before = leader.status()
    for size in (16 << 20, 2 << 20, (3 << 19) + 1):
        with pytest.raises(grpc.RpcError) as e:
            leader.cluster.Propose(pb.ProposeRequest(data=b"x" * size), timeout=10)
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, (size, e.value)
        # Within the transport's receive limit the answer names the proposal limit.
        if size < (2 << 20):
            assert "exceeds the limit of 1572864 bytes" in e.value.details(), e.value.details()

    futures = [leader.cluster.Propose.future(pb.ProposeRequest(data=bytes([i]) * ((3 << 19) - 100)), timeout=30)
               for i in range(12)]
    try:
        replies = [f.result() for f in futures]
    except grpc.RpcError as e:
        raise AssertionError("a large proposal failed: %s\n%s" % (e, describe(cluster))) from e
    assert all(r.committed for r in replies)
    after = leader.status()
    assert after.role == "leader" and after.term == before.term, \
        "a burst of large proposals cost leadership:\n" + describe(cluster)
    for peer in cluster.alive():
        peer.wait_applied(max(r.index for r in replies), timeout=20)
    assert cluster.propose(b"small after large").committed
