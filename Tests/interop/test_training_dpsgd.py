"""Dense D-PSGD on the network: 4 peer processes on a fixed ring (slot order), each round sending
its whole model to both neighbours and mixing a third of each; a neighbour kill -9ed is skipped,
retired by a committed entry, and the ring closes over the three left.

Bounded: one epoch of the MLP (300 rounds), every process stopped."""

import os

import pytest

from gateway_fixtures import gossipfl_bin  # noqa: F401 (fixture)
from training_fixtures import FASHION_MNIST, TrainingCluster, parameter_spread
from test_training_cluster import ROUNDS_PER_EPOCH, RUN, rounds, train_args

pytestmark = pytest.mark.skipif(not os.path.isdir(FASHION_MNIST), reason="needs Debian's dataset-fashion-mnist")

MLP_PARAMETERS = 784 * 200 + 200 + 200 * 200 + 200 + 200 * 10 + 10


def test_a_dpsgd_ring_trains_and_closes_over_a_dead_peer(gossipfl_bin, tmp_path):
    cluster = TrainingCluster(gossipfl_bin, str(tmp_path), train_args(epochs=1) + ["--algorithm", "dpsgd", "--probe-interval-ms", "0"])
    try:
        cluster.start_static(4)
        # (A peer that starts late runs its first rounds alone until it is level with the others.)
        start = cluster.wait(lambda s: all(v and v.round >= 30 for v in s.values())
                             and max(v.round for v in s.values()) - min(v.round for v in s.values()) <= 2, 90, "four peers level")
        early = cluster.wait(lambda s: all(v and v.round >= start[k].round + 60 for k, v in s.items()), 60, "60 rounds more")
        ids = sorted(early)
        # Every peer meets its two ring neighbours each round, and sends them its whole model
        # (counted over rounds when all four train: a newcomer's first rounds miss it).
        for name, v in early.items():
            assert len(v.partner_id.split(",")) == 2 and name not in v.partner_id, (name, v.partner_id)
            done, before = v.round - start[name].round, start[name]
            assert v.exchanges - before.exchanges >= 2 * done * 0.9, (name, before, v)
            assert v.megabytes_sent - before.megabytes_sent >= 2 * done * MLP_PARAMETERS * 4 / 1e6 * 0.9, (name, before, v)
        neighbours = {name: set(v.partner_id.split(",")) for name, v in early.items()}
        assert all(len(n) == 2 for n in neighbours.values()) and sum(len(n) for n in neighbours.values()) == 8

        # A neighbour kill -9ed: the others train on, retire it, and the ring of three closes.
        victim = cluster.peers[ids[-1]]
        victim.kill9()
        before = rounds(cluster.statuses())
        survivors = cluster.wait(
            lambda s: all(v and v.round >= before[k] + 40 and victim.node_id not in v.partner_id
                          and len(v.partner_id.split(",")) == 2 for k, v in s.items() if k != victim.node_id),
            90, "the ring closed over the three left")
        assert all(v.missed_exchanges >= 1 for k, v in survivors.items() if victim.node_id in neighbours[k]), survivors

        final = cluster.wait(lambda s: all(v and v.round >= ROUNDS_PER_EPOCH and v.evaluated_round >= ROUNDS_PER_EPOCH
                                           for k, v in s.items() if k != victim.node_id), 120, "the epoch's end")
        final = {k: v for k, v in final.items() if k != victim.node_id}
        accuracies = {k: v.test_accuracy for k, v in final.items()}
        assert all(a >= 0.75 for a in accuracies.values()), accuracies
        # Dense mixing with both neighbours every round keeps the models close together.
        spread = parameter_spread([cluster.peers[k].fetch_model(RUN)[1] for k in final])
        assert spread < 0.05, spread
    finally:
        cluster.close()
