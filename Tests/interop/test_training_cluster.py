"""Training peers as separate processes on loopback: Fashion-MNIST trained with SAPS over gossip.v1,
coordinated through the Raft log, through a dead gateway, crashed peers, a killed leader and a
newcomer. Every status and model is read by a grpcio client (Python stubs of gossip.proto).

Bounded: each test trains an MLP for a few epochs (about 2 s an epoch on loopback) and stops every
process it starts."""

import os
import shutil
import time

import pytest

from gateway_fixtures import gossipfl_bin, launch_gateway  # noqa: F401 (fixture)
from training_fixtures import FASHION_MNIST, TrainingCluster, parameter_spread

pytestmark = pytest.mark.skipif(not os.path.isdir(FASHION_MNIST), reason="needs Debian's dataset-fashion-mnist")

RUN = "fashion-mnist"
# 4 data slots of 15,000 images: 300 rounds an epoch at batch 50.
ROUNDS_PER_EPOCH = 300


def train_args(epochs, slots=4, min_peers=4):
    return ["--slots", str(slots), "--min-peers", str(min_peers), "--epochs", str(epochs), "--eval-samples", "2000",
            "--checkpoint-every", "50", "--exchange-timeout-ms", "1000"]


def rounds(statuses):
    return {k: (v.round if v else None) for k, v in statuses.items()}


def test_four_peers_train_converge_and_outlive_the_gateway(gossipfl_bin, tmp_path):
    gateway = launch_gateway(gossipfl_bin, str(tmp_path / "gateway"))
    cluster = TrainingCluster(gossipfl_bin, str(tmp_path), train_args(epochs=3))
    try:
        for i in range(1, 5):
            cluster.add("p%d" % i, ["--gateway", gateway.address])
        assert cluster.peers["p1"].how_started == "bootstrapped"
        cluster.wait(lambda s: all(v and v.training and v.round > 0 for v in s.values()), 60, "all four peers training")
        # The gateway goes away once everyone joined: nothing changes for the peers.
        gateway.close()
        cluster.wait(lambda s: all(v and v.round >= ROUNDS_PER_EPOCH for v in s.values()), 90, "one epoch on every peer")
        early = parameter_spread([p.fetch_model(RUN)[1] for p in cluster.peers.values()])
        total = 3 * ROUNDS_PER_EPOCH
        final = cluster.wait(lambda s: all(v and v.round >= total and v.evaluated_round >= total for v in s.values()), 180,
                             "three epochs on every peer")
        late = parameter_spread([p.fetch_model(RUN)[1] for p in cluster.peers.values()])
        accuracies = {k: v.test_accuracy for k, v in final.items()}
        assert all(a >= 0.78 for a in accuracies.values()), accuracies
        # Gossip keeps the models together: their spread shrinks while the learning rate barely does.
        assert late < early, (early, late)
        # Rounds went with a partner almost always (nobody died), and values flowed both ways.
        for name, v in final.items():
            assert v.exchanges >= total * 0.8 and v.megabytes_sent > 0, (name, v)
            # Probes measured the links to the others (one a second, each peer in turn).
            assert len(v.link_peers) >= 2 and all(m > 0 for m in v.link_mbps), (name, v)
    finally:
        cluster.close()
        gateway.close()


def test_crashes_a_dead_leader_and_a_newcomer(gossipfl_bin, tmp_path):
    # Long enough that the newcomer still arrives mid-training after slow restarts on a busy machine.
    cluster = TrainingCluster(gossipfl_bin, str(tmp_path), train_args(epochs=8, slots=5))
    try:
        cluster.start_static(4)
        total = 8 * 240
        cluster.wait(lambda s: all(v and v.round >= 60 for v in s.values()), 60, "four peers past round 60")

        # A partner kill -9ed mid-training: the others skip it and go on; restarted, it resumes.
        leader = cluster.leader()
        assert leader is not None
        victim = next(p for p in cluster.peers.values() if p is not leader)
        victim.kill9()
        before = rounds(cluster.statuses())
        cluster.wait(lambda s: all(v and v.round >= before[k] + 60 for k, v in s.items()), 60, "training without the victim")
        victim.start()
        assert victim.how_started == "resumed"
        cluster.wait(lambda s: s[victim.node_id] is not None and s[victim.node_id].training, 60, "the victim training again")
        log = victim.log_text()
        assert "resumed from the checkpoint of round" in log, log

        # The Raft leader kill -9ed: a new one is elected and training does not stop.
        leader.kill9()
        before = rounds(cluster.statuses())
        cluster.wait(lambda s: all(v and v.round >= before[k] + 60 for k, v in s.items()), 60, "training after the leader died")
        assert cluster.leader(timeout=20) is not None

        # A fifth peer joins mid-training, fetches the model and ends level with the others.
        alive = cluster.alive()
        newcomer = cluster.add("n5", ["--join", ",".join(p.address for p in alive)])
        # It must arrive mid-training (a newcomer after the end only takes the final model).
        assert max(rounds(cluster.statuses()).values(), key=lambda r: r or 0) < total - 300, "the run is nearly over"
        final = cluster.wait(lambda s: all(v and v.round >= total and v.evaluated_round >= total for v in s.values()), 240,
                             "every live peer at the last round")
        log = newcomer.log_text()
        assert "fetched the model of round" in log, log
        accuracies = {k: v.test_accuracy for k, v in final.items()}
        others = [a for k, a in accuracies.items() if k != "n5"]
        assert min(accuracies.values()) >= 0.75, accuracies
        assert accuracies["n5"] >= sum(others) / len(others) - 0.05, accuracies
    finally:
        cluster.close()


def test_a_corrupt_checkpoint_is_passed_over_and_a_directory_of_them_refused(gossipfl_bin, tmp_path):
    # One peer alone on the whole training set: 1,200 rounds an epoch, 120 rounds in all.
    args = ["--slots", "1", "--min-peers", "1", "--epochs", "0.1", "--eval-samples", "500", "--checkpoint-every", "40"]
    cluster = TrainingCluster(gossipfl_bin, str(tmp_path), args)
    try:
        peer = cluster.add("solo", ["--bootstrap"])
        cluster.wait(lambda s: s["solo"] and s["solo"].round >= 120, 60, "the solo run finished")
        peer.stop()
        checkpoints = os.path.join(peer.data_dir, "checkpoints")
        folders = sorted(os.listdir(checkpoints))
        assert folders == ["round-000000080", "round-000000120"], folders
        with open(os.path.join(checkpoints, folders[-1], "model.safetensors"), "r+b") as f:
            f.seek(200)
            f.write(b"\xff\xff\xff\xff")
        peer.start()
        cluster.wait(lambda s: s["solo"] and s["solo"].round >= 120, 60, "the run resumed and finished again")
        log = peer.log_text()
        assert "round-000000120/model.safetensors does not match its checksum" in log, log
        assert "resumed from the checkpoint of round 80" in log, log
        peer.stop()

        for folder in os.listdir(checkpoints):
            with open(os.path.join(checkpoints, folder, "manifest.json"), "w") as f:
                f.write("{not json")
        # Raft starts (the log is fine), then training refuses: EX_CONFIG, and what to do.
        peer.start()
        peer.proc.proc.wait(30)
        log = peer.proc.stderr_text()
        assert peer.proc.proc.returncode == 78, log
        assert "no usable checkpoint" in log and "Move the folder aside" in log, log
    finally:
        cluster.close()
