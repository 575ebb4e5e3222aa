"""Peers discovered through the gateway: the first is told to bootstrap, the
others join through the leader hint; the leader reports membership back; with
the gateway killed, the cluster keeps committing and a restarted peer rejoins
without it."""

import os
import time

import pytest

from gateway_fixtures import gossipfl_bin, kill9, launch_gateway, load_gateway_protos  # noqa: F401 (fixture)
from raft_fixtures import PeerCluster

import grpc


def test_gateway_bootstraps_first_peer_others_join_and_cluster_outlives_the_gateway(gossipfl_bin, tmp_path):
    gw = launch_gateway(gossipfl_bin, str(tmp_path / "gateway"))
    cluster = PeerCluster(gossipfl_bin, str(tmp_path))
    try:
        gateway_arg = ["--gateway", gw.address]
        first = cluster.add("p1", gateway_arg)
        assert first.how_started == "bootstrapped"
        second = cluster.add("p2", gateway_arg)
        third = cluster.add("p3", gateway_arg)
        assert second.how_started == "joined" and third.how_started == "joined"
        leader = cluster.wait_voters(3)
        assert leader is not None

        # The leader reports membership: the gateway's leader hint names it.
        protos = load_gateway_protos()
        stub = protos.v1_grpc.GatewayStub(grpc.insecure_channel(gw.address))
        deadline = time.monotonic() + 15
        hint = None
        while time.monotonic() < deadline:
            hint = stub.GetLeader(protos.v1.GetLeaderRequest(), timeout=5)
            if hint.HasField("leader") and hint.leader.node_id == leader.node_id and hint.leader.term >= 2:
                break
            time.sleep(0.2)
        assert hint is not None and hint.leader.node_id == leader.node_id, hint

        kill9(gw)
        assert cluster.propose(b"gateway is down").committed
        # A member restarting while the gateway is down resumes from its own state.
        member = next(p for p in cluster.alive() if p is not leader)
        member.stop()
        member.start()
        assert member.how_started == "resumed"
        reply = cluster.propose(b"still down")
        assert member.wait_applied(reply.index).applied_index >= reply.index
    finally:
        cluster.close()
        gw.close()
