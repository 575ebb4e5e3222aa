"""The Python training node's learning half (python/gossipfl_py: data, models, trainer) against
the Swift peers.

  * Tests/vectors/data.json (Sources/TrainingNode/DataVectors.swift): Partitioner.split gives
    exactly the recorded parts for every scheme, BatchSampler exactly the recorded batches;
  * models: flatten is the state_dict concatenated in row-major order, load_flat its inverse,
    and a wrong length, dtype or a non-finite value is refused with the model untouched;
  * Fashion-MNIST (skipped, saying why, without /usr/share/datasets/fashion-mnist or
    $FASHION_MNIST_DIR): the (iid, 4 slots, seed 1) split is 4 disjoint parts of 15,000;
    pixels are float32, normalised with Dataset.swift's statistics; the trainer's slot,
    batches, learning rate, checkpoint state and evaluation follow LocalTrainer.swift; 100
    logreg steps lower the loss and score sanely on 1,000 test images;
  * with the Swift binary ($GOSSIPFL_BIN, default <repo>/.build/debug/gossipfl; skipped when
    missing, as this file is about the Python side): `gossipfl train-trace` writes the same
    initial model bit for bit (every model), the same normalisation constants, and the
    trainer's SGD steps on the trace's batches stay within 1e-4 of the Swift steps. The trace
    runs on consecutive batches, not a sampler's, so the slot batches are checked by the
    vectors above instead.

PyTorch runs single-threaded here.
"""

import gzip
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "python"))

from gossipfl_py.data import (  # noqa: E402
    BatchSampler, DatasetDirectory, IDXError, IDXFile, Partitioner, PartitionError, PartitionScheme,
    normalise, statistics,
)
from gossipfl_py.models import (  # noqa: E402
    MODELS, PARAM_COUNTS, flatten, initial_parameters, layout, load_flat, make_model,
)
from gossipfl_py.seeded import SeedDerivation, SplitMix64  # noqa: E402
from gossipfl_py.trainer import LocalTrainer, powf  # noqa: E402

VECTORS = os.path.join(REPO_ROOT, "Tests", "vectors")
DATA_DIR = os.environ.get("FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"
GOSSIPFL_BIN = os.path.abspath(os.environ.get("GOSSIPFL_BIN") or os.path.join(REPO_ROOT, ".build", "debug", "gossipfl"))
TRACE_TIMEOUT = float(os.environ.get("GOSSIPFL_TRAIN_TIMEOUT") or 900)
LOSS_TOL = PARAM_TOL = 1e-4


@pytest.fixture(autouse=True)
def single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@dataclass(frozen=True)
class Run:
    """The RunConfiguration fields the trainer reads (ledger.RunConfiguration has them too)."""
    architecture: str = "logreg"
    partition: str = "iid"
    slots: int = 4
    seed: int = 1
    learning_rate: float = 0.05
    learning_rate_decay: float = 0.992
    momentum: float = 0.9
    weight_decay: float = 1e-4
    batch_size: int = 50
    rounds_per_epoch: int = 300
    run_id: str = "python-trainer-test"


# --------------------------------------------------------------------------
# Tests/vectors/data.json


@pytest.fixture(scope="module")
def data_vectors():
    path = os.path.join(VECTORS, "data.json")
    if not os.path.exists(path):
        pytest.skip("Tests/vectors/data.json does not exist (gossipfl test-vectors writes it)")
    with open(path) as f:
        return json.load(f)


def test_vectors_use_the_peers_seeds(data_vectors):
    assert all(s["seed"] == SeedDerivation.derive(1, 2) for s in data_vectors["splits"])
    assert [b["seed"] for b in data_vectors["batches"]] == [SeedDerivation.derive(1, 4, 1), SeedDerivation.derive(9, 4, 0)]
    assert data_vectors["labels"] == [(7 * i + i // 13) % 10 for i in range(len(data_vectors["labels"]))]


def test_splits_match_vectors(data_vectors):
    labels, classes = data_vectors["labels"], data_vectors["classes"]
    for case in data_vectors["splits"]:
        parts = Partitioner.split(labels, classes, case["workers"], case["scheme"], case["seed"])
        assert len(parts) == case["workers"]
        for w, (ours, theirs) in enumerate(zip(parts, case["parts"])):
            assert ours == theirs, "%s, %d workers: part %d differs (%d vs %d samples; first %s vs %s)" % (
                case["scheme"], case["workers"], w, len(ours), len(theirs), ours[:5], theirs[:5])


def test_batches_match_vectors(data_vectors):
    for case in data_vectors["batches"]:
        sampler = BatchSampler(case["samples"], case["batch_size"], case["seed"])
        for k, expected in enumerate(case["batches"]):
            assert sampler.next() == expected, "batch size %d: batch %d differs" % (case["batch_size"], k)
        # The recorded batches cross a pass boundary (where the sampler reshuffles).
        assert sum(map(len, case["batches"])) > len(case["samples"])


# --------------------------------------------------------------------------
# partitions and batches, without vectors


def test_partition_scheme_parsing():
    assert PartitionScheme.parse("iid") == PartitionScheme("iid")
    assert PartitionScheme.parse("dirichlet:0.5") == PartitionScheme("dirichlet", 0.5)
    assert PartitionScheme.parse("shards:2") == PartitionScheme("shards", 2)
    # Swift's split omits empty pieces: a trailing or doubled ':' is no separator of its own.
    assert PartitionScheme.parse("iid:") == PartitionScheme("iid")
    assert PartitionScheme.parse("dirichlet:0x1p-1") == PartitionScheme("dirichlet", 0.5)
    assert [str(PartitionScheme.parse(t)) for t in ("iid", "dirichlet:2", "shards:3")] == ["iid", "dirichlet:2.0", "shards:3"]
    for text, message in [("dirichlet:0", "dirichlet:ALPHA needs a positive number"),
                          ("dirichlet:inf", "dirichlet:ALPHA needs a positive number"),
                          ("dirichlet: 1", "dirichlet:ALPHA needs a positive number"),
                          ("shards:1.5", "shards:K needs a positive integer"),
                          ("shards:0", "shards:K needs a positive integer"),
                          ("shards:1_0", "shards:K needs a positive integer"),
                          ("iid:1", "unknown partition"), ("random", "unknown partition")]:
        with pytest.raises(PartitionError, match=message):
            PartitionScheme.parse(text)


def test_partition_refusals():
    labels = [i % 10 for i in range(100)]
    with pytest.raises(PartitionError, match="need at least one worker"):
        Partitioner.split(labels, 10, 0, "iid", 1)
    with pytest.raises(PartitionError, match="100 samples cannot give 11 workers 10 each"):
        Partitioner.split(labels, 10, 11, "iid", 1)
    with pytest.raises(PartitionError, match="shards:11: there are only 10 labels"):
        Partitioner.split(labels, 10, 2, "shards:11", 1)


def test_every_scheme_deals_each_sample_once():
    labels = [(7 * i + i // 13) % 10 for i in range(2000)]
    for scheme in ("iid", "dirichlet:0.3", "dirichlet:5", "shards:2"):
        parts = Partitioner.split(labels, 10, 5, scheme, 42)
        flat = [i for part in parts for i in part]
        assert sorted(flat) == list(range(2000)), scheme
        assert min(map(len, parts)) >= Partitioner.MINIMUM_PER_WORKER
    # shards:1 with 3 workers leaves labels 3..9 to nobody.
    parts = Partitioner.split(labels, 10, 3, "shards:1", 42)
    assert [sorted({labels[i] for i in part}) for part in parts] == [[0], [1], [2]]


def test_batch_sampler_passes():
    samples = list(range(100, 223))  # 123 samples: passes of 50, 50, 23
    sampler = BatchSampler(samples, 50, 7)
    for _ in range(3):
        batches = [sampler.next() for _ in range(3)]
        assert list(map(len, batches)) == [50, 50, 23]
        assert sorted(i for b in batches for i in b) == samples
    with pytest.raises(ValueError):
        BatchSampler([], 50, 1)
    with pytest.raises(ValueError):
        BatchSampler([1], 0, 1)


def test_idx_decoding_refusals(tmp_path):
    good = bytes([0, 0, 8, 1, 0, 0, 0, 3, 5, 6, 7])
    assert IDXFile.decode(good, "x").data.tolist() == [5, 6, 7]
    for data, reason in [(b"\0\0", "truncated: 2 bytes, no IDX header"),
                         (bytes([1, 0, 8, 1]), "wrong magic 0x01000801: not an IDX file"),
                         (bytes([0, 0, 0xD, 1]), "element type 0xd is not unsigned bytes (0x08)"),
                         (bytes([0, 0, 8, 5]), "5 dimensions (1 to 4 expected)"),
                         (good[:-1], "truncated: 2 of 3 data bytes"),
                         (good + b"\0", "1 bytes after the declared 3")]:
        with pytest.raises(IDXError, match=re.escape("x: " + reason)):
            IDXFile.decode(data, "x")
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(good))
    assert IDXFile.read(str(path)).data.tolist() == [5, 6, 7]
    path.write_bytes(gzip.compress(good)[:-12])
    with pytest.raises(IDXError, match="truncated gzip stream"):
        IDXFile.read(str(path))
    with pytest.raises(IDXError, match="no such file"):
        DatasetDirectory.load(str(tmp_path))


# --------------------------------------------------------------------------
# models: the flat vector


@pytest.mark.parametrize("name", MODELS)
def test_flatten_is_the_state_dict_in_order(name):
    model = make_model(name, seed=3)
    vector = flatten(model)
    assert vector.dtype == np.float32 and vector.shape == (PARAM_COUNTS[name],)
    expected = np.concatenate([t.detach().numpy().ravel(order="C") for t in model.state_dict().values()])
    assert np.array_equal(vector, expected)
    offsets = [(t.name, t.offset) for t in layout(model)]
    assert [n for n, _ in offsets] == list(model.state_dict())

    other = make_model(name, seed=4)
    load_flat(other, vector)
    for key, tensor in model.state_dict().items():
        assert torch.equal(other.state_dict()[key], tensor), key
    assert np.array_equal(flatten(other), vector)


def test_load_flat_writes_in_place():
    model = make_model("mlp", seed=1)
    tensors = [p for p in model.parameters()]
    load_flat(model, np.arange(PARAM_COUNTS["mlp"], dtype=np.float32) * np.float32(1e-6))
    assert all(a is b for a, b in zip(tensors, model.parameters()))
    assert float(model.fc1.weight.detach()[0, 1]) == np.float32(1e-6)
    assert float(model.fc1.bias.detach()[0]) == np.float32(784 * 200 * 1e-6)  # right after fc1.weight


def test_load_flat_refusals_leave_the_model_untouched():
    model = make_model("logreg", seed=1)
    before = flatten(model)
    n = PARAM_COUNTS["logreg"]
    bad_values = [np.zeros(n - 1, np.float32), np.zeros(n + 1, np.float32), np.zeros(n, np.float64),
                  np.zeros((1, n), np.float32)]
    for position, value in [(0, np.nan), (n - 1, np.inf), (4000, -np.inf)]:
        v = np.ones(n, np.float32)
        v[position] = value
        bad_values.append(v)
    for values in bad_values:
        with pytest.raises(ValueError):
            load_flat(model, values)
        assert np.array_equal(flatten(model), before)


def test_initial_parameters_are_network_initial_parameters():
    """The scalar formula of Network.initialParameters on the first and last values."""
    seed = SeedDerivation.derive(5, 3)
    values = initial_parameters("logreg", seed)
    rng = SplitMix64(seed)
    draws = [rng.unit_double() for _ in range(PARAM_COUNTS["logreg"])]
    bound = np.float32(1) / np.sqrt(np.float32(784))
    for i in list(range(20)) + list(range(7830, 7850)):
        assert values[i] == np.float32(draws[i] * 2 - 1) * bound, i
    assert np.abs(values).max() <= bound


# --------------------------------------------------------------------------
# Fashion-MNIST


@pytest.fixture(scope="module")
def dataset():
    if not os.path.isdir(DATA_DIR):
        pytest.skip("no Fashion-MNIST at %s (Debian's dataset-fashion-mnist package, or set FASHION_MNIST_DIR)" % DATA_DIR)
    return DatasetDirectory.load(DATA_DIR)


def test_iid_split_of_four_slots(dataset):
    parts = Partitioner.split(dataset.train.labels, dataset.train.classes, 4, "iid", SeedDerivation.derive(1, 2))
    assert [len(p) for p in parts] == [15000] * 4
    assert len(set().union(*map(set, parts))) == 60000
    assert sorted(i for p in parts for i in p) == list(range(60000))


def idx_path(name):
    for candidate in (os.path.join(DATA_DIR, name + ".gz"), os.path.join(DATA_DIR, name)):
        if os.path.exists(candidate):
            return candidate
    raise AssertionError("no %s[.gz] in %s" % (name, DATA_DIR))


def chunked_moments(array, rows=5000):
    """float64 mean and population std of a big array, without a float64 copy of all of it."""
    total = squares = 0.0
    for start in range(0, len(array), rows):
        chunk = np.asarray(array[start:start + rows], dtype=np.float64)
        total += chunk.sum()
        squares += (chunk * chunk).sum()
    mean = total / array.size
    return mean, math.sqrt(squares / array.size - mean * mean)


def test_normalisation_is_dataset_swift(dataset):
    train, test = dataset.train, dataset.test
    assert train.pixels.dtype == np.float32 and test.pixels.dtype == np.float32
    assert train.pixels.shape == (60000, 28, 28) and test.pixels.shape == (10000, 28, 28)
    assert train.classes == 10 and test.classes == 10
    raw = IDXFile.read(idx_path("train-images-idx3-ubyte")).data
    # The statistics: population mean and std of pixel/255 over the training images, in float64, as float32.
    mean, std = chunked_moments(raw)
    assert train.mean.dtype == np.float32 and train.std.dtype == np.float32
    assert abs(float(train.mean) - mean / 255) < 1e-7 and abs(float(train.std) - std / 255) < 1e-7
    assert (train.mean, train.std) == statistics(raw)
    # Fashion-MNIST's well-known constants.
    assert abs(float(train.mean) - 0.2860) < 1e-4 and abs(float(train.std) - 0.3530) < 1e-4
    # (x * (1/(255 std)) - mean/std), float32 constants: the test set with the training statistics.
    scale = np.float32(1) / (np.float32(255) * train.std)
    assert np.array_equal(train.pixels, raw.astype(np.float32) * scale - train.mean / train.std)
    assert (test.mean, test.std) == (train.mean, train.std)
    test_raw = IDXFile.read(idx_path("t10k-images-idx3-ubyte")).data
    assert np.array_equal(test.pixels, normalise(test_raw, train.mean, train.std))
    mean, std = chunked_moments(train.pixels)
    assert abs(mean) < 1e-5 and abs(std - 1) < 1e-5


@pytest.fixture(scope="module")
def trainer(dataset):
    return LocalTrainer(Run(), dataset, slot=2)


def test_trainer_trains_on_the_peers_slot(trainer, dataset):
    expected = Partitioner.split(dataset.train.labels, 10, 4, "iid", SeedDerivation.derive(1, 2))
    assert trainer.parts == expected and trainer.sample_count == 15000
    fresh = LocalTrainer(Run(), dataset, slot=2)
    sampler = BatchSampler(expected[2], 50, SeedDerivation.derive(1, 4, 2))
    seen = [sampler.next() for _ in range(3)]
    assert [fresh._sampler.next() for _ in range(3)] == seen
    fresh.move(3)
    assert fresh.slot == 3
    assert fresh._sampler.next() == BatchSampler(expected[3], 50, SeedDerivation.derive(1, 4, 3)).next()
    with pytest.raises(ValueError):
        fresh.move(4)
    # Every peer starts from the run's model.
    assert np.array_equal(fresh.parameters(), initial_parameters("logreg", SeedDerivation.derive(1, 3)))


def test_learning_rate_decays_per_epoch(trainer):
    lr, decay = np.float32(0.05), np.float32(0.992)
    assert trainer.learning_rate(0) == lr and trainer.learning_rate(299) == lr
    assert trainer.learning_rate(300) == lr * decay
    assert trainer.learning_rate(299 * 300 + 5) == lr * powf(decay, 299)
    assert trainer.learning_rate(3000).dtype == np.float32
    assert abs(float(trainer.learning_rate(3000)) - 0.05 * 0.992 ** 10) < 1e-8


def test_short_training_run_learns(dataset):
    run = Run(learning_rate=0.01, momentum=0.9, slots=1)
    trainer = LocalTrainer(run, dataset, slot=0, evaluation_samples=1000)
    before = trainer.evaluation()
    assert before.samples == 1000
    losses = [trainer.step(round) for round in range(100)]
    assert all(math.isfinite(x) for x in losses)
    first, last = losses[0], np.mean(losses[-10:])
    after = trainer.evaluation()
    print("\nlogreg, 100 steps: loss %.3f -> %.3f (mean of the last 10), accuracy on 1,000 test images %.3f -> %.3f" % (
        first, last, before.accuracy, after.accuracy))
    assert first > 1.8 and last < 0.5 * first
    assert after.accuracy > 0.65 and after.accuracy > before.accuracy
    assert after.loss < before.loss
    assert trainer.evaluate() == after.accuracy


def test_evaluation_takes_the_first_test_samples(trainer, dataset):
    result = trainer.evaluation(137)
    with torch.no_grad():
        logits = trainer.model(torch.from_numpy(dataset.test.pixels[:137]))
    correct = int((logits.argmax(1).numpy() == dataset.test.labels[:137]).sum())
    assert (result.samples, result.correct) == (137, correct)
    assert trainer.evaluation(10**6).samples == 10000
    assert trainer.evaluation(0).accuracy == 0


def test_state_adopt_and_merges(dataset):
    run = Run(slots=2)
    a = LocalTrainer(run, dataset, slot=1)
    for r in range(5):
        a.step(r)
    state = a.state(5)
    assert state.parameters.dtype == np.float32 and state.velocity.dtype == np.float32
    assert state.parameters.shape == state.velocity.shape == (PARAM_COUNTS["logreg"],)
    assert np.abs(state.velocity).max() > 0 and state.run == run.run_id
    assert state.learning_rate == a.learning_rate(5)

    # A checkpoint resumed elsewhere continues exactly as the original would (same batches too).
    b = LocalTrainer(run, dataset, slot=1)
    for r in range(5):
        b._sampler.next()
    b.adopt(state.parameters, state.velocity)
    assert np.array_equal(b.parameters(), state.parameters) and np.array_equal(b.velocity(), state.velocity)
    assert a.step(5) == b.step(5)
    assert np.array_equal(a.parameters(), b.parameters()) and np.array_equal(a.velocity(), b.velocity())

    # A fetched model: momentum afresh.
    b.adopt(a.parameters())
    assert not b.velocity().any()
    # A merge replaces the parameters and keeps the velocity.
    velocity = a.velocity()
    merged = (a.parameters() * np.float32(0.5)).astype(np.float32)
    a.set_parameters(merged)
    assert np.array_equal(a.parameters(), merged) and np.array_equal(a.velocity(), velocity)

    # Refusals change nothing.
    params, velocity = a.parameters(), a.velocity()
    bad = params.copy()
    bad[7] = np.nan
    for call in (lambda: a.set_parameters(bad), lambda: a.adopt(bad), lambda: a.adopt(params, velocity[:-1]),
                 lambda: a.adopt(params[:-1], velocity), lambda: a.adopt(params, velocity.astype(np.float64))):
        with pytest.raises(ValueError):
            call()
        assert np.array_equal(a.parameters(), params) and np.array_equal(a.velocity(), velocity)


def test_trainer_takes_a_ledger_run_configuration(dataset):
    try:
        from gossipfl_py.ledger import PartitionScheme as LedgerScheme, RunConfiguration
    except ImportError as error:
        pytest.skip("gossipfl_py.ledger not importable yet: %s" % error)
    config = RunConfiguration(run_id="r", architecture="logreg", partition=LedgerScheme.parse("dirichlet:0.5"),
                              slots=3, seed=9, rounds_per_epoch=100, rounds=None)
    ours = LocalTrainer(config, dataset, slot=1)
    expected = Partitioner.split(dataset.train.labels, 10, 3, "dirichlet:0.5", SeedDerivation.derive(9, 2))
    assert ours.parts == expected
    assert ours.learning_rate(100) == np.float32(0.05) * np.float32(0.992)
    assert ours.state(0).run == "r"


# --------------------------------------------------------------------------
# against the Swift binary


@pytest.fixture(scope="module")
def swift_bin(dataset):
    if not (os.path.isfile(GOSSIPFL_BIN) and os.access(GOSSIPFL_BIN, os.X_OK)):
        pytest.skip("no gossipfl binary at %s (set GOSSIPFL_BIN): the Swift parity checks need it" % GOSSIPFL_BIN)
    out = subprocess.run([GOSSIPFL_BIN, "--help"], capture_output=True, text=True, timeout=60)
    if not re.search(r"^\s+train-trace\b", out.stdout + out.stderr, re.M):
        pytest.skip("%s has no `train-trace` subcommand" % GOSSIPFL_BIN)
    return GOSSIPFL_BIN


def train_trace(binary, out, model, seed, steps, lr=0.05, momentum=0.9, weight_decay=1e-4, batch=50):
    cmd = [binary, "train-trace", "--model", model, "--seed", str(seed), "--steps", str(steps), "--batch", str(batch),
           "--lr", str(lr), "--momentum", str(momentum), "--weight-decay", str(weight_decay),
           "--data-dir", DATA_DIR, "--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TRACE_TIMEOUT)
    assert proc.returncode == 0, "%s\nexit %d\n%s" % (" ".join(cmd), proc.returncode, proc.stderr[-3000:])
    with open(os.path.join(str(out), "trace.json")) as f:
        return json.load(f)


def swift_vector(path, model_name):
    from safetensors.numpy import load_file
    tensors = load_file(path)
    model = make_model(model_name)
    assert list(sorted(tensors)) == sorted(model.state_dict())
    return np.concatenate([tensors[t.name].reshape(-1) for t in layout(model)]).astype(np.float32)


@pytest.mark.parametrize("name", MODELS)
def test_initial_model_is_the_swift_peers(name, swift_bin, tmp_path):
    seed = SeedDerivation.derive(1, 3)  # run seed 1's initial model
    trace = train_trace(swift_bin, tmp_path, name, seed, steps=0)
    swift = swift_vector(os.path.join(str(tmp_path), "init.safetensors"), name)
    ours = initial_parameters(name, seed)
    assert np.array_equal(ours.view(np.uint32), swift.view(np.uint32)), \
        "%s: %d of %d initial values differ" % (name, int((ours != swift).sum()), ours.size)
    # The same normalisation constants (the trace stores Double(Float)).
    mean, std = statistics(IDXFile.read(idx_path("train-images-idx3-ubyte")).data)
    assert (trace["mean"], trace["std"]) == (float(mean), float(std))


@pytest.mark.parametrize("name", ["logreg", "mlp"])
def test_trainer_steps_track_the_swift_steps(name, swift_bin, dataset, tmp_path):
    steps = 10
    trace = train_trace(swift_bin, tmp_path, name, seed=7, steps=steps)
    run = Run(architecture=name, slots=1, learning_rate=0.05, learning_rate_decay=1.0)
    trainer = LocalTrainer(run, dataset, slot=0)
    trainer.adopt(swift_vector(os.path.join(str(tmp_path), "init.safetensors"), name))
    worst_loss = worst_param = 0.0
    for k in range(1, steps + 1):
        loss = trainer.train_on(trace["batches"][k - 1], round=k - 1)
        swift = swift_vector(os.path.join(str(tmp_path), "step-%03d.safetensors" % k), name)
        d_loss = abs(loss - trace["losses"][k - 1])
        d_param = float(np.abs(trainer.parameters() - swift).max())
        assert d_loss <= LOSS_TOL and d_param <= PARAM_TOL, "%s step %d: |loss diff| %.2e, max |param diff| %.2e" % (
            name, k, d_loss, d_param)
        worst_loss, worst_param = max(worst_loss, d_loss), max(worst_param, d_param)
    print("\n%s, %d trainer steps against train-trace: worst |loss diff| %.1e, worst |param diff| %.1e" % (
        name, steps, worst_loss, worst_param))
