#!/usr/bin/env python3
"""PyTorch reference of the SAPS-PSGD rules (../shared/GOSSIPFL-ALGORITHM.md), for the faithfulness check.

    .venv/bin/python bench/reference_gossip.py [--algo saps,ring,central] [--partition iid|dirichlet:0.5]
                                               [--epochs 8] [--workers 8] [--rho 0.01] [--seed 0]

Fashion-MNIST, the mlp of Tests/interop/torch_models.py (784-200-200-10), cross-entropy, lr 0.05,
batch 50, momentum 0.9, weight decay 1e-4 (all parameters), lr x 0.992 per epoch, all workers start
from the same initial model (seed --seed). The n workers are vectorised: every parameter is one
tensor [n, ...] and a round is one batched forward/backward (torch.bmm), so 8 workers cost little
more than one.

  saps     one round per iteration: a random perfect matching (a fresh random permutation paired
           off; odd n: the last one rests), a random-k mask shared by everyone for the round (per
           tensor k = max(1, floor(numel * rho)) coordinates without replacement), x_i <- (x_i + x_j)/2
           at the masked coordinates with partner j, then one local SGD step on one local batch.
           Only parameters are exchanged (momentum buffers stay local).
  ring     dense D-PSGD on a ring: x_i <- (x_{i-1} + x_i + x_{i+1}) / 3, then one local SGD step.
  central  one worker with all the training data, batch 50.

An epoch is (mean local sample count) / batch iterations (150 for 8 workers iid); for central it is
60000 / 50 = 1200 steps, i.e. the same number of samples seen per epoch as all the workers together.
Each worker draws its batches from its own shuffled local data (reshuffled when used up). After each
epoch every worker's own model is evaluated on the full test set; the accuracy is the mean over the
workers weighted by their local sample counts (and the lowest worker is shown). "MB sent" counts the
float32 values each worker sends (saps: values only, no indices; ring: the full model to 2 neighbours).

Partitions: iid (a random split into equal parts) or dirichlet:ALPHA (per class, proportions drawn
from Dirichlet(ALPHA), FedML's rule: a worker already holding N/n samples gets no more, redrawn until
every worker has at least 10 samples).
"""

import argparse
import math
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "Tests", "interop"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import torch_models as tm  # noqa: E402

LR, BATCH, MOMENTUM, WEIGHT_DECAY, LR_DECAY = 0.05, 50, 0.9, 1e-4, 0.992


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# data


def partition(labels, n, spec, rng):
    """List of n index arrays into the training set."""
    N = len(labels)
    if spec == "iid":
        return np.array_split(rng.permutation(N), n)
    if spec.startswith("dirichlet:"):
        alpha = float(spec.split(":", 1)[1])
        classes = int(labels.max()) + 1
        while True:
            parts = [[] for _ in range(n)]
            for c in range(classes):
                idx = np.flatnonzero(labels == c)
                rng.shuffle(idx)
                p = rng.dirichlet(np.repeat(alpha, n))
                p = np.array([q * (len(part) < N / n) for q, part in zip(p, parts)])
                p = p / p.sum()
                cuts = (np.cumsum(p) * len(idx)).astype(int)[:-1]
                for part, chunk in zip(parts, np.split(idx, cuts)):
                    part.extend(chunk.tolist())
            if min(len(part) for part in parts) >= 10:
                return [rng.permutation(np.array(part, dtype=np.int64)) for part in parts]
    raise ValueError("unknown partition %r (iid or dirichlet:ALPHA)" % spec)


class LocalBatches:
    """Each worker's own shuffled pass over its local data, batch after batch."""

    def __init__(self, parts, rng):
        self.parts, self.rng = parts, rng
        self.queues = [np.empty(0, dtype=np.int64) for _ in parts]

    def next(self):
        rows = []
        for w, part in enumerate(self.parts):
            q = self.queues[w]
            while len(q) < BATCH:
                q = np.concatenate([q, self.rng.permutation(part)])
            rows.append(q[:BATCH])
            self.queues[w] = q[BATCH:]
        return np.stack(rows)  # [n, BATCH]


# --------------------------------------------------------------------------
# n mlps at once


SHAPES = [("fc1.weight", (200, 784)), ("fc1.bias", (200,)), ("fc2.weight", (200, 200)), ("fc2.bias", (200,)),
          ("fc3.weight", (10, 200)), ("fc3.bias", (10,))]


def stacked_params(n, seed):
    net = tm.make_model("mlp", seed=seed)
    sd = net.state_dict()
    return [sd[name].detach().clone().unsqueeze(0).repeat((n,) + (1,) * len(shape)).requires_grad_()
            for name, shape in SHAPES]


def forward(params, x):
    """x [n, B, 784] -> logits [n, B, 10]."""
    w1, b1, w2, b2, w3, b3 = params
    h = F.relu(torch.baddbmm(b1.unsqueeze(1), x, w1.transpose(1, 2)))
    h = F.relu(torch.baddbmm(b2.unsqueeze(1), h, w2.transpose(1, 2)))
    return torch.baddbmm(b3.unsqueeze(1), h, w3.transpose(1, 2))


@torch.no_grad()
def accuracies(params, x_test, y_test, chunk=2500):
    n = params[0].shape[0]
    correct = torch.zeros(n, dtype=torch.int64)
    for s in range(0, len(y_test), chunk):
        x = x_test[s:s + chunk].unsqueeze(0).expand(n, -1, -1)
        correct += (forward(params, x).argmax(-1) == y_test[s:s + chunk]).sum(1)
    return (correct.double() / len(y_test)).numpy()


# --------------------------------------------------------------------------
# gossip rules (in place, on the parameters only)


@torch.no_grad()
def saps_merge(params, rho, gen):
    """Random perfect matching + shared random-k mask; returns float32 values sent per worker."""
    n = params[0].shape[0]
    order = torch.randperm(n, generator=gen)
    partner = torch.arange(n)
    for a in range(0, n - 1, 2):
        i, j = order[a], order[a + 1]
        partner[i], partner[j] = j, i
    sent = 0
    for p in params:
        flat = p.view(n, -1)
        numel = flat.shape[1]
        k = max(1, int(math.floor(numel * rho)))
        idx = torch.randperm(numel, generator=gen)[:k]
        mine = flat[:, idx]
        flat[:, idx] = 0.5 * (mine + mine[partner])
        sent += k
    return sent


@torch.no_grad()
def ring_merge(params):
    sent = 0
    for p in params:
        p.copy_((p + p.roll(1, 0) + p.roll(-1, 0)) / 3)
        sent += 2 * p[0].numel()
    return sent


# --------------------------------------------------------------------------


def run(algo, partition_spec, workers, epochs, rho, seed, data):
    x_train, y_train, x_test, y_test = data
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    n = 1 if algo == "central" else workers
    parts = [np.arange(len(y_train))] if algo == "central" else partition(y_train.numpy(), n, partition_spec, rng)
    sizes = np.array([len(p) for p in parts], dtype=np.float64)
    iters = int(round(sizes.mean() / BATCH))
    batches = LocalBatches(parts, rng)
    params = stacked_params(n, seed)
    opt = torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    sent_values = 0
    history = []
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        for _ in range(iters):
            if algo == "saps":
                sent_values += saps_merge(params, rho, gen)
            elif algo == "ring":
                sent_values += ring_merge(params)
            idx = torch.from_numpy(batches.next())
            logits = forward(params, x_train[idx])
            loss = F.cross_entropy(logits.reshape(-1, 10), y_train[idx].reshape(-1), reduction="sum") / BATCH
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        for g in opt.param_groups:
            g["lr"] *= LR_DECAY
        acc = accuracies(params, x_test, y_test)
        mean = float((acc * sizes).sum() / sizes.sum())
        mb = sent_values * 4 / 1e6
        history.append((epoch, mean, float(acc.min()), mb))
        log("%-7s %-14s epoch %2d  accuracy %.2f %%  lowest worker %.2f %%  MB sent/worker %8.1f  (%.0f s)" % (
            algo, partition_spec if algo != "central" else "all data", epoch, 100 * mean, 100 * acc.min(), mb,
            time.perf_counter() - t0))
    return history


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--algo", default="saps,ring,central", help="comma-separated: saps, ring, central")
    ap.add_argument("--partition", default="iid", help="iid or dirichlet:ALPHA (saps and ring)")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--rho", type=float, default=0.01, help="random-k keep fraction (default 0.01)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--data-dir", default=tm.FASHION_MNIST)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    train, test = tm.load_split(args.data_dir, "train"), tm.load_split(args.data_dir, "t10k")
    mean, std = tm.statistics(train.images)
    data = (torch.from_numpy(tm.normalise(train.images, mean, std).reshape(-1, 784)), torch.from_numpy(train.labels),
            torch.from_numpy(tm.normalise(test.images, mean, std).reshape(-1, 784)), torch.from_numpy(test.labels))

    results = {}
    for algo in [a for a in args.algo.split(",") if a]:
        if algo not in ("saps", "ring", "central"):
            ap.error("unknown algorithm %r" % algo)
        results[algo] = run(algo, args.partition, args.workers, args.epochs, args.rho, args.seed, data)

    print()
    print("## Reference gossip (PyTorch): Fashion-MNIST, mlp, %d workers, %s, rho %g, seed %d" % (
        args.workers, args.partition, args.rho, args.seed))
    print()
    print("| algorithm | epoch | mean accuracy | lowest worker | MB sent per worker |")
    print("|---|---:|---:|---:|---:|")
    for algo, hist in results.items():
        for epoch, acc, low, mb in hist:
            print("| %s | %d | %.2f %% | %.2f %% | %.1f |" % (algo, epoch, 100 * acc, 100 * low, mb))
    return 0


if __name__ == "__main__":
    sys.exit(main())
