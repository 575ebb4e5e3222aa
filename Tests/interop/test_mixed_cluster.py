"""Swift and Python peers in one training run: 2 Swift peers (`gossipfl peer --train`) and 2
Python nodes (`python -m gossipfl_py peer`: grpcio, protoc stubs of Protos/, PyTorch) train
Fashion-MNIST with SAPS under the cluster's mutual TLS, the Python nodes found through the
gateway and following the training log from a Raft member; a Python peer kill -9ed is skipped and
resumes from its checkpoint; a third Python peer joins mid-training and ends level; bad input
to a Python peer is refused with a clear status.

Bounded: the MLP for a few epochs, every process stopped."""

import os

import grpc
import pytest

from gateway_fixtures import gossipfl_bin, launch_gateway  # noqa: F401 (fixture)
from raft_fixtures import ClusterCerts
from training_fixtures import FASHION_MNIST, TrainingCluster, load_gossip_protos, parameter_spread
from test_training_cluster import RUN, rounds, train_args

pytestmark = pytest.mark.skipif(not os.path.isdir(FASHION_MNIST), reason="needs Debian's dataset-fashion-mnist")

ROUNDS_PER_EPOCH = 240  # 5 slots of 12,000 images, batch 50


def test_swift_and_python_peers_train_one_model(gossipfl_bin, tmp_path):
    certs = ClusterCerts(gossipfl_bin, str(tmp_path / "certs"))
    gateway = launch_gateway(gossipfl_bin, str(tmp_path / "gateway"), security=certs.args("gateway", "gateway"))
    epochs = 8
    total = epochs * ROUNDS_PER_EPOCH
    cluster = TrainingCluster(gossipfl_bin, str(tmp_path), train_args(epochs=epochs, slots=5, min_peers=4), certs=certs)
    try:
        for name in ("n1", "n2"):
            cluster.add(name, ["--gateway", gateway.address])
        for name in ("py1", "py2"):
            cluster.add_python(name, ["--gateway", gateway.address])
        early = cluster.wait(lambda s: all(v and v.training and v.round >= 60 for v in s.values()), 120, "all four past round 60")
        # Every peer exchanges (each round pairs all four).
        assert all(v.exchanges > 0 for v in early.values()), early

        # A Python peer kill -9ed: the others skip it and go on; restarted, it resumes.
        victim = cluster.peers["py2"]
        victim.kill9()
        before = rounds(cluster.statuses())
        cluster.wait(lambda s: all(v and v.round >= before[k] + 60 for k, v in s.items() if k != "py2"), 90, "training without py2")
        victim.start()
        # Meanwhile a third Python peer joins mid-training: it fetches the model and ends level.
        newcomer = cluster.add_python("py3", ["--gateway", gateway.address])
        assert max(rounds(cluster.statuses()).values(), key=lambda r: r or 0) < total - 400, "the run is nearly over"
        cluster.wait(lambda s: s["py2"] is not None and s["py2"].training, 90, "py2 training again")
        log = victim.log_text()
        assert "resumed from the checkpoint of round" in log, log
        final = cluster.wait(lambda s: all(v and v.round >= total and v.evaluated_round >= total for v in s.values()), 300,
                             "every peer at the last round")
        assert "fetched the model of round" in newcomer.log_text(), newcomer.log_text()
        accuracies = {k: v.test_accuracy for k, v in final.items()}
        assert min(accuracies.values()) >= 0.75, accuracies
        others = [a for k, a in accuracies.items() if k != "py3"]
        assert accuracies["py3"] >= sum(others) / len(others) - 0.05, accuracies
    finally:
        cluster.close()
        gateway.close()


def spread_after(gossipfl_bin, root, kinds, rounds_):
    """Trains 4 peers of `kinds` ("swift" or "python") for `rounds_` rounds (2 epochs, probes off
    so SAPS sees equal links in both runs); the spread of their final models and their accuracies."""
    cluster = TrainingCluster(gossipfl_bin, root, train_args(epochs=2, slots=4, min_peers=4))
    try:
        first = cluster.add("n1", ["--bootstrap"], ["--probe-interval-ms", "0"])
        for i, kind in enumerate(kinds[1:], start=2):
            if kind == "swift":
                cluster.add("n%d" % i, ["--join", first.address], ["--probe-interval-ms", "0"])
            else:
                cluster.add_python("py%d" % i, ["--join", first.address])
        final = cluster.wait(lambda s: all(v and v.round >= rounds_ and v.evaluated_round >= rounds_ for v in s.values()), 180,
                             "%d rounds on every peer" % rounds_)
        return parameter_spread([p.fetch_model(RUN)[1] for p in cluster.peers.values()]), {k: v.test_accuracy for k, v in final.items()}
    finally:
        cluster.close()


def test_mixed_models_stay_as_close_as_all_swift_ones(gossipfl_bin, tmp_path):
    """The same run (4 peers, 2 epochs) all-Swift and with two Python peers: the models end as
    close together (the spread of the parameter vectors) and as accurate."""
    swift, swift_accuracy = spread_after(gossipfl_bin, str(tmp_path / "swift"), ["swift"] * 4, 600)
    mixed, mixed_accuracy = spread_after(gossipfl_bin, str(tmp_path / "mixed"), ["swift", "swift", "python", "python"], 600)
    assert mixed <= swift * 1.25 + 0.01, (swift, mixed)
    assert min(mixed_accuracy.values()) >= min(swift_accuracy.values()) - 0.03, (swift_accuracy, mixed_accuracy)
    assert min(mixed_accuracy.values()) >= 0.78, mixed_accuracy


def test_a_python_peer_refuses_bad_input(gossipfl_bin, tmp_path):
    certs = ClusterCerts(gossipfl_bin, str(tmp_path / "certs"))
    cluster = TrainingCluster(gossipfl_bin, str(tmp_path), train_args(epochs=0, slots=2, min_peers=2), certs=certs)
    try:
        first = cluster.add("n1", ["--bootstrap"])
        py = cluster.add_python("py1", ["--join", first.address])
        cluster.wait(lambda s: all(v and v.training and v.round > 0 for v in s.values()), 120, "both training")
        pb = load_gossip_protos().pb

        def code(request, client=("node", "observer")):
            channel = py.open_channel(client)
            try:
                load_gossip_protos().grpc.GossipStub(channel).Exchange(request, timeout=2)
            except grpc.RpcError as error:
                return error.code(), error.details()
            finally:
                channel.close()
            return None, ""

        values = bytes(4 * 1993)
        # Speaking as another node than the certificate names.
        assert code(pb.ModelValues(run_id=RUN, round=1, sender_id="n1", values=values))[0] == grpc.StatusCode.PERMISSION_DENIED
        status, details = code(pb.ModelValues(run_id="other", round=1, sender_id="observer", values=values))
        assert status == grpc.StatusCode.FAILED_PRECONDITION and "other" in details
        status, details = code(pb.ModelValues(run_id=RUN, round=1, sender_id="observer", encoding=pb.FLOAT32_LE, values=values[:-4]))
        assert status == grpc.StatusCode.INVALID_ARGUMENT and "float32" in details
        # A round this peer will not reach in time: given up on, nothing merged.
        nan = b"\x00\x00\xc0\x7f" * 1993
        status, _ = code(pb.ModelValues(run_id=RUN, round=10 ** 6, sender_id="observer", encoding=pb.FLOAT32_LE, values=nan))
        assert status == grpc.StatusCode.DEADLINE_EXCEEDED
        with pytest.raises(grpc.RpcError) as refused:
            load_gossip_protos().grpc.GossipStub(py.channel).Probe(pb.ProbeRequest(sender_id="observer", reply_bytes=1 << 30), timeout=2)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # It is still training with its partner afterwards.
        before = py.training_status().round
        cluster.wait(lambda s: s["py1"] is not None and s["py1"].round > before + 20, 60, "py1 training on")
    finally:
        cluster.close()
