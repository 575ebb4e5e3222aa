"""The three models as torch.nn modules, laid out as the Swift engine's flat parameter vector.

Mirrors Sources/Learning/Architecture.swift (the layers) and Network.swift (`layout`, the
vector's order, and `initialParameters`). The Swift vector is the concatenation of these
modules' state_dict tensors, in state_dict order, each in row-major order:

  logreg  fc.weight [10,784], fc.bias [10]                                        7,850 params
  mlp     fc1 784-200, ReLU, fc2 200-200, ReLU, fc3 200-10                       199,210 params
  cnn     conv1 Conv2d(1,32,5,pad 2), ReLU, MaxPool2d(2),
          conv2 Conv2d(32,64,5,pad 2), ReLU, MaxPool2d(2), flatten,
          fc1 Linear(3136,512), ReLU, fc2 Linear(512,10)                        1,663,370 params
          (the FedAvg CNN, GossipFL's "mnistflnet", without its softmax/ReLU-on-logits defects)

Linear weights are [out, in] and convolution weights OIHW on both sides, so a `.safetensors`
file written by one side loads strictly on the other. All models return logits (the loss is
cross-entropy, mean over the batch) and accept [B,1,28,28] or [B,784] inputs.
"""

from typing import Dict, List, NamedTuple

import numpy as np
import torch
from torch import nn

from .seeded import as_u64

MODELS = ("logreg", "mlp", "cnn")
PARAM_COUNTS = {"logreg": 7850, "mlp": 199210, "cnn": 1663370}


def _flat(x):
    return x.reshape(x.shape[0], -1)


class LogReg(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(_flat(x))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 200)
        self.fc2 = nn.Linear(200, 200)
        self.fc3 = nn.Linear(200, 10)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.relu(self.fc1(_flat(x)))
        x = self.relu(self.fc2(x))
        return self.fc3(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()
        self.fc1 = nn.Linear(3136, 512)
        self.fc2 = nn.Linear(512, 10)

    def forward(self, x):
        x = x.reshape(x.shape[0], 1, 28, 28)
        x = self.pool(self.relu(self.conv1(x)))
        x = self.pool(self.relu(self.conv2(x)))
        x = self.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


_CLASSES = {"logreg": LogReg, "mlp": MLP, "cnn": CNN}


def make_model(name, seed=None):
    """A fresh model with PyTorch's default init (seeded with torch.manual_seed(seed) if given)."""
    if name not in _CLASSES:
        raise ValueError("unknown model %r (one of %s)" % (name, ", ".join(MODELS)))
    if seed is not None:
        torch.manual_seed(seed)
    return _CLASSES[name]()


def param_count(model):
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------
# the flat vector


class ParameterTensor(NamedTuple):
    """`ParameterTensor` in Network.swift: where one state_dict tensor lives in the vector."""
    name: str
    shape: tuple
    offset: int
    count: int


def layout(model) -> List[ParameterTensor]:
    """`Network.layout`: state_dict tensors in order, each right after the previous one."""
    tensors, offset = [], 0
    for name, tensor in model.state_dict().items():
        tensors.append(ParameterTensor(name, tuple(tensor.shape), offset, tensor.numel()))
        offset += tensor.numel()
    return tensors


def flatten(model) -> np.ndarray:
    """The model's parameters as the Swift engine's float32 vector (a copy)."""
    with torch.no_grad():
        parts = [t.detach().reshape(-1).to(torch.float32).cpu().numpy() for t in model.state_dict().values()]
    return np.concatenate(parts).astype(np.float32, copy=False)


def load_flat(model, vector) -> None:
    """Writes a Swift-layout float32 vector into the model's parameters, in place (optimiser
    state keeps pointing at the same tensors). A vector of the wrong length or dtype, or with a
    NaN or infinity, raises ValueError before anything is written (as `StateDict.values`
    refuses a non-finite checkpoint)."""
    values = np.asarray(vector)
    if values.dtype != np.float32:
        raise ValueError("parameters must be float32, got %s" % values.dtype)
    if values.ndim != 1:
        raise ValueError("parameters must be a one-dimensional vector, got shape %s" % (values.shape,))
    tensors = layout(model)
    expected = sum(t.count for t in tensors)
    if len(values) != expected:
        raise ValueError("%d parameters for a model of %d" % (len(values), expected))
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError("parameter %d is not finite (%r)" % (int(bad[0]), float(values[bad[0]])))
    state = model.state_dict()  # shares storage with the parameters
    with torch.no_grad():
        for t in tensors:
            chunk = torch.from_numpy(np.ascontiguousarray(values[t.offset:t.offset + t.count]))
            state[t.name].copy_(chunk.reshape(t.shape))


def state_dict_from_flat(model, vector) -> Dict[str, torch.Tensor]:
    """{name: tensor} of a Swift-layout vector for this model's layout (copies, float32)."""
    values = np.asarray(vector, dtype=np.float32)
    return {t.name: torch.from_numpy(values[t.offset:t.offset + t.count].copy()).reshape(t.shape)
            for t in layout(model)}


# --------------------------------------------------------------------------
# the Swift peers' initial model


def default_init_bounds(state_dict):
    """{tensor name: bound} of PyTorch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights
    (kaiming_uniform with a=sqrt(5)) and biases alike, fan_in = the layer weight's numel / out_features."""
    bounds = {}
    for key in state_dict:
        weight = state_dict[key.rsplit(".", 1)[0] + ".weight"]
        fan_in = int(np.prod(tuple(weight.shape)[1:]))
        bounds[key] = 1.0 / float(np.sqrt(fan_in))
    return bounds


_GOLDEN_GAMMA = np.uint64(0x9E37_79B9_7F4A_7C15)


def _splitmix64_outputs(seed: int, count: int) -> np.ndarray:
    """The first `count` outputs of seeded.SplitMix64(seed), vectorised: output k is the mix of
    seed + k * golden gamma (uint64 arrays wrap as Swift's &+ and &* do)."""
    with np.errstate(over="ignore"):
        z = np.arange(1, count + 1, dtype=np.uint64) * _GOLDEN_GAMMA + np.uint64(seed)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58_476D_1CE4_E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D0_49BB_1331_11EB)
    return z ^ (z >> np.uint64(31))


def initial_parameters(architecture: str, seed: int) -> np.ndarray:
    """`Network.initialParameters(seed:)`, bit for bit: one SplitMix64 stream over the whole
    vector; value i is Float(unitDouble * 2 - 1) * bound of its tensor, bound = 1 / sqrt(Float
    fan_in) of its layer's weight. (A peer starts from initial_parameters(arch, derive(seed, 3)).)"""
    model = make_model(architecture)
    tensors = layout(model)
    total = sum(t.count for t in tensors)
    # unitDouble() * 2 - 1 is exact in float64; the cast to float32 rounds to nearest, as Float(_:) does.
    signed = ((_splitmix64_outputs(as_u64(seed, "seed"), total) >> np.uint64(11)).astype(np.float64)
              * 2.0 ** -53 * 2 - 1).astype(np.float32)
    shapes = {t.name: t.shape for t in tensors}
    for t in tensors:
        weight_shape = shapes[t.name.rsplit(".", 1)[0] + ".weight"]
        bound = np.float32(1) / np.sqrt(np.float32(np.prod(weight_shape[1:])))
        signed[t.offset:t.offset + t.count] *= bound
    return signed
