"""`gossipfl simulate` end to end: progress, the metrics CSV, the PNG, and the saved model, which
PyTorch loads into the same torch.nn model and scores as the Swift side did; bad arguments are
clear errors. Fashion-MNIST from Debian's dataset-fashion-mnist (installed by `make deps`)."""

import csv
import os
import subprocess

import pytest
import torch
from safetensors.torch import load_file

import torch_models as tm

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BIN = os.environ.get("GOSSIPFL_BIN") or os.path.join(REPO_ROOT, ".build", "debug", "gossipfl")
TIMEOUT = 600


def simulate(*args, cwd=None):
    return subprocess.run([BIN, "simulate", *args], capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("simulate")
    paths = {name: str(out / name) for name in ("metrics.csv", "plot.png", "model.safetensors")}
    proc = simulate("--workers", "4", "--model", "mlp", "--partition", "dirichlet:0.5", "--algorithm", "saps",
                    "--epochs", "0.5", "--evaluations-per-epoch", "4", "--seed", "3", "--metrics", paths["metrics.csv"],
                    "--plot", paths["plot.png"], "--save-model", paths["model.safetensors"])
    assert proc.returncode == 0, proc.stderr
    with open(paths["metrics.csv"], newline="") as f:
        rows = list(csv.DictReader(f))
    return proc, rows, paths


def test_progress_and_metrics(run):
    proc, rows, _ = run
    assert "saps · mlp (199210 parameters) · 4 workers · dirichlet:0.5" in proc.stderr
    assert [float(r["epoch"]) for r in rows] == [0, 0.25, 0.5]
    assert rows[0]["round"] == "0" and float(rows[0]["mb_per_worker"]) == 0
    last = rows[-1]
    assert 0.5 < float(last["mean_accuracy"]) <= 1 and float(last["min_accuracy"]) <= float(last["mean_accuracy"])
    assert float(last["mb_per_worker"]) > 0 and float(last["comm_seconds"]) > 0
    assert "final: mean accuracy" in proc.stdout


def test_plot_is_a_png(run):
    with open(run[2]["plot.png"], "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_saved_model_loads_into_torch_and_scores_as_in_swift(run):
    _, rows, paths = run
    model = tm.make_model("mlp")
    model.load_state_dict(load_file(paths["model.safetensors"]))  # strict: names and shapes
    test = tm.load_split(tm.FASHION_MNIST, "t10k")
    train = tm.load_split(tm.FASHION_MNIST, "train")
    mean, std = tm.statistics(train.images)
    with torch.no_grad():
        logits = model(torch.from_numpy(tm.normalise(test.images, mean, std)))
    accuracy = (logits.argmax(1).numpy() == test.labels).mean()
    # Worker 0 is one of the workers the last evaluation averaged.
    last = rows[-1]
    assert float(last["min_accuracy"]) - 1e-9 <= accuracy <= 1
    assert accuracy <= float(last["mean_accuracy"]) * 4 - 3 * float(last["min_accuracy"]) + 1e-9


@pytest.mark.parametrize("args, message", [
    (["--partition", "zipf:2"], "--partition"),
    (["--algorithm", "telepathy"], "telepathy"),
    (["--keep", "0"], "--keep"),
    (["--bandwidth", "/nonexistent/matrix.txt"], "/nonexistent/matrix.txt"),
    (["--workers", "20000"], "20000 workers"),
    (["--data-dir", "/nonexistent"], "/nonexistent"),
    (["--batch", "1000000"], "--batch"),
    (["--momentum", "1.5"], "--momentum"),
    (["--eval-samples", "0"], "--eval-samples"),
    (["--lr", "nan"], "--lr"),
])
def test_bad_arguments_are_clear_errors(tmp_path, args, message):
    proc = simulate("--epochs", "0.01", "--no-output", *args)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr


def test_bandwidth_file_of_the_wrong_size(tmp_path):
    matrix = tmp_path / "bw.txt"
    matrix.write_text("# MB/s\n0 1\n1 0\n")
    proc = simulate("--workers", "4", "--bandwidth", str(matrix), "--epochs", "0.01", "--no-output")
    assert proc.returncode != 0 and "for 2 workers, not 4" in proc.stderr


def test_corrupt_init_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}      ")
    proc = subprocess.run([BIN, "train-trace", "--model", "mlp", "--steps", "1", "--init", str(bad), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode != 0 and str(bad) in proc.stderr
