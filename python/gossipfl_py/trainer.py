"""A Python peer's local learning, on the same data slot and batches as a Swift peer's.

Mirrors Sources/TrainingNode/LocalTrainer.swift: the run's split (seed derive(seed, 2)), the
shared initial model (derive(seed, 3)), the slot's batch sampler (derive(seed, 4, slot)), one
SGD step per round at the learning rate lr * decay^(round / rounds_per_epoch), evaluation on
the first test samples, and the checkpoint state. The learning itself is PyTorch's:
gossipfl_py.models' nn modules, F.cross_entropy (mean) and torch.optim.SGD.

torch.optim.SGD(lr, momentum, weight_decay) is the rule Sources/Learning/SGD.swift implements
(d = g + wd*w; v = mu*v + d; w -= lr*v; the buffer is torch's momentum_buffer, the Swift
velocity), but not bit for bit: PyTorch's vectorised CPU `add(alpha=)` is a fused multiply-add
(g + wd*w and w - lr*v rounded once), where Swift rounds the product and the sum separately;
and gradients differ in the last bits anyway (other GEMM and convolution summation orders). So
a Python peer's model tracks a Swift peer's to float32 rounding (Tests/interop/
test_torch_parity.py: within 1e-4 over 20 steps), it is not identical.
"""

import ctypes
import ctypes.util
from dataclasses import dataclass
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

from .data import FASHION_MNIST, BatchSampler, DatasetDirectory, Partitioner
from .models import MODELS, flatten, initial_parameters, layout, load_flat, make_model
from .seeded import SeedDerivation

# SeedDerivation.derive(run seed, PURPOSE, ...): the purposes LocalTrainer uses.
SPLIT_SEED, INITIAL_MODEL_SEED, BATCH_SEED = 2, 3, 4


def _libm_powf():
    """glibc's powf, the function Swift's pow(Float, Float) calls on Linux (numpy's float32
    power may take a SIMD path of its own); None where there is no libm to load."""
    name = ctypes.util.find_library("m")
    if name is None:
        return None
    function = ctypes.CDLL(name).powf
    function.argtypes = (ctypes.c_float, ctypes.c_float)
    function.restype = ctypes.c_float
    return function


_POWF = _libm_powf()


def powf(x: float, y: float) -> np.float32:
    x, y = np.float32(x), np.float32(y)
    if _POWF is not None:
        return np.float32(_POWF(float(x), float(y)))
    return np.float32(float(x) ** float(y))  # the double result rounded: at most rarely 1 ulp off


@dataclass(frozen=True)
class Evaluation:
    """`Evaluation` in Network.swift: how a model did on (the first samples of) the test set."""

    samples: int
    correct: int
    loss: float  # mean cross-entropy

    @property
    def accuracy(self) -> float:
        return self.correct / self.samples if self.samples else 0.0


@dataclass(frozen=True)
class TrainerState:
    """`TrainingState`: what a checkpoint holds (flat float32 vectors in the Swift layout)."""

    round: int
    parameters: np.ndarray
    velocity: np.ndarray
    learning_rate: np.float32
    run: Optional[str]


def _float32_vector(values, count: int, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype != np.float32 or array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D float32 vector, got {array.dtype} shape {array.shape}")
    if len(array) != count:
        raise ValueError(f"{len(array)} {name} values for a model of {count}")
    return array


class LocalTrainer:
    """`LocalTrainer`. `configuration` is any object with the ledger.RunConfiguration fields
    architecture, partition (a scheme or its text), slots, seed, learning_rate,
    learning_rate_decay, momentum, weight_decay, batch_size and rounds_per_epoch (run_id if it
    has one). `data` is a directory of the four IDX files or a loaded DatasetDirectory (which
    several trainers may share: it is only read). `threads`, if given, is torch's thread count,
    which is process-wide."""

    def __init__(self, configuration, data: Union[str, DatasetDirectory] = FASHION_MNIST, slot: int = 0,
                 evaluation_samples: Optional[int] = None, threads: Optional[int] = None) -> None:
        self.configuration = configuration
        self.architecture = str(getattr(configuration.architecture, "value", configuration.architecture))
        if self.architecture not in MODELS:
            raise ValueError(f"unknown architecture {self.architecture!r} (one of {', '.join(MODELS)})")
        if threads is not None:
            torch.set_num_threads(threads)
        self.data = data if isinstance(data, DatasetDirectory) else DatasetDirectory.load(data)
        train = self.data.train
        if train.pixels.shape[1:] != (28, 28) or train.classes != 10:
            # The Swift network is sized from the data; these torch modules are 28x28, 10 classes.
            raise ValueError(f"the models take 28x28 images of 10 classes, the data has "
                             f"{train.pixels.shape[1:]} images of {train.classes}")
        self.evaluation_samples = evaluation_samples
        seed = int(configuration.seed)
        self._parts = Partitioner.split(train.labels, train.classes, int(configuration.slots),
                                        configuration.partition,
                                        SeedDerivation.derive(seed, SPLIT_SEED))
        # Every peer starts from the same model (one seed), the Swift peers' own draw.
        self.model = make_model(self.architecture)
        load_flat(self.model, initial_parameters(self.architecture, SeedDerivation.derive(seed, INITIAL_MODEL_SEED)))
        self._layout = layout(self.model)
        self.parameter_count = sum(t.count for t in self._layout)
        # The Swift scalars are Floats: torch gets their float32 values (it rounds them to float32 again).
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=float(self.learning_rate(0)),
                                         momentum=float(np.float32(configuration.momentum)),
                                         weight_decay=float(np.float32(configuration.weight_decay)))
        self.slot = -1
        self.move(slot)

    # -- data ---------------------------------------------------------------------------------

    @property
    def parts(self) -> List[List[int]]:
        """Every slot's training-sample indices (the run's split)."""
        return self._parts

    @property
    def sample_count(self) -> int:
        return len(self._sampler.samples)

    def move(self, to_slot: int) -> None:
        """`move(toSlot:)`: trains on that slot's data from now on, its batches from the start."""
        if not 0 <= to_slot < len(self._parts):
            raise ValueError(f"slot {to_slot} outside the run's {len(self._parts)} slots")
        self.slot = to_slot
        self._sampler = BatchSampler(self._parts[to_slot], int(self.configuration.batch_size),
                                     SeedDerivation.derive(int(self.configuration.seed), BATCH_SEED, to_slot))

    # -- learning -----------------------------------------------------------------------------

    def learning_rate(self, round: int) -> np.float32:
        """`learningRate(round:)`: lr * pow(decay, Float(round / roundsPerEpoch)) in float32."""
        c = self.configuration
        epochs = _truncating_division(int(round), int(c.rounds_per_epoch))
        return np.float32(np.float32(c.learning_rate) * powf(c.learning_rate_decay, np.float32(epochs)))

    def step(self, round: int) -> float:
        """`step(round:)`: one SGD step on the slot's next batch; returns that batch's mean loss
        before the update (not finite if the model diverged)."""
        return self.train_on(self._sampler.next(), round)

    def train_on(self, samples: Sequence[int], round: int) -> float:
        """One SGD step on these training samples at `round`'s learning rate."""
        index = np.asarray(samples, dtype=np.int64)
        inputs = torch.from_numpy(self.data.train.pixels[index])
        labels = torch.from_numpy(self.data.train.labels[index].astype(np.int64))
        for group in self.optimizer.param_groups:
            group["lr"] = float(self.learning_rate(round))
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(inputs), labels)
        loss.backward()
        self.optimizer.step()
        return float(loss.item())

    def evaluation(self, samples: Optional[int] = None) -> Evaluation:
        """`Network.evaluate(parameters:on:limit:)`: accuracy and mean loss on the first
        min(limit, count) test samples, limit = `samples`, else the trainer's
        evaluation_samples, else all of them. Ties go to the first class, as in Swift."""
        test = self.data.test
        limit = samples if samples is not None else self.evaluation_samples
        total = test.count if limit is None else min(max(int(limit), 0), test.count)
        correct, loss_sum = 0, 0.0
        with torch.no_grad():
            for start in range(0, total, 1000):
                end = min(start + 1000, total)
                logits = self.model(torch.from_numpy(test.pixels[start:end]))
                labels = torch.from_numpy(test.labels[start:end].astype(np.int64))
                correct += int((logits.argmax(dim=1) == labels).sum())
                # Per-sample losses in float32, summed in float64 as the Swift side does.
                loss_sum += float(F.cross_entropy(logits, labels, reduction="none").double().sum())
        return Evaluation(total, correct, loss_sum / total if total else 0.0)

    def evaluate(self, samples: Optional[int] = None) -> float:
        """The accuracy of `evaluation(samples)` (what a progress entry reports)."""
        return self.evaluation(samples).accuracy

    # -- the model and its state --------------------------------------------------------------

    def parameters(self) -> np.ndarray:
        """The model as the Swift engine's flat float32 vector (a copy)."""
        return flatten(self.model)

    def set_parameters(self, vector) -> None:
        """Replaces the parameters (a merge's result); the momentum buffer is kept, as the Swift
        merges only write `model.parameters`. Refuses a wrong length or non-finite values."""
        load_flat(self.model, vector)

    def velocity(self) -> np.ndarray:
        """The momentum buffer as a flat float32 vector (zeros where torch has none yet). With
        momentum 0 torch keeps no buffer and this is zeros, where the Swift velocity holds the
        last step's g + wd*w; both are multiplied by 0 before any use."""
        pieces = []
        momentum = self.optimizer.param_groups[0]["momentum"]
        for tensor, parameter in zip(self._layout, self.model.parameters()):
            buffer = self.optimizer.state.get(parameter, {}).get("momentum_buffer") if momentum else None
            pieces.append(np.zeros(tensor.count, dtype=np.float32) if buffer is None
                          else buffer.detach().reshape(-1).numpy().astype(np.float32, copy=True))
        return np.concatenate(pieces)

    def adopt(self, parameters, velocity=None) -> None:
        """`adopt(parameters:velocity:)`: a checkpoint's model with its velocity, or a fetched
        model (velocity None) whose momentum starts afresh. Both are checked before either is
        written."""
        if velocity is not None:
            velocity = _float32_vector(velocity, self.parameter_count, "velocity")
        load_flat(self.model, parameters)
        if self.optimizer.param_groups[0]["momentum"] == 0:
            return  # torch neither reads nor updates a buffer then
        fresh = np.zeros(self.parameter_count, dtype=np.float32) if velocity is None else velocity
        for tensor, parameter in zip(self._layout, self.model.parameters()):
            values = fresh[tensor.offset:tensor.offset + tensor.count].reshape(tensor.shape)
            self.optimizer.state[parameter]["momentum_buffer"] = torch.from_numpy(values.copy())

    def state(self, round: int) -> TrainerState:
        """`state(round:)`: what a checkpoint of this round holds."""
        return TrainerState(round, self.parameters(), self.velocity(), self.learning_rate(round),
                            getattr(self.configuration, "run_id", None))


def _truncating_division(a: int, b: int) -> int:
    """Swift's Int `/`: rounds toward zero (Python's // rounds down)."""
    if b == 0:
        raise ValueError("rounds_per_epoch must be positive")
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient
