"""PyTorch reference models and Fashion-MNIST loading for the Swift learning engine (Sources/Learning).

The models are defined once, in python/gossipfl_py/models.py (its docstring gives the layouts the
Swift engine mirrors), and re-exported here. The loss is nn.CrossEntropyLoss() (mean over the
batch). No torchvision: IDX files are read with numpy + gzip.

    import torch_models as tm
    model = tm.make_model("cnn")
    train = tm.load_split("/usr/share/datasets/fashion-mnist", "train")   # images uint8 [N,28,28], labels
    mean, std = tm.statistics(train.images)
    x = tm.normalise(train.images[:50], mean, std)                          # float32 [50,28,28]
"""

import gzip
import os
import struct
import sys
from collections import namedtuple

import numpy as np
import torch

# The models are python/gossipfl_py/models.py's, the one definition the Python training node uses too.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python")))

from gossipfl_py.models import (  # noqa: E402,F401  (re-exported: this module's users import them from here)
    CNN, MLP, MODELS, PARAM_COUNTS, LogReg, default_init_bounds, make_model, param_count,
)

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


# --------------------------------------------------------------------------
# data


Split = namedtuple("Split", "images labels")  # images uint8 [N,rows,cols], labels int64 [N]

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """An IDX file (gzip-compressed or plain) as a numpy array of its declared shape."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError("%s: not an IDX file" % path)
    dtype, ndim = raw[2], raw[3]
    if dtype not in _IDX_TYPES:
        raise ValueError("%s: unknown IDX element type 0x%02x" % (path, dtype))
    dims = struct.unpack(">%dI" % ndim, raw[4:4 + 4 * ndim])
    body = np.frombuffer(raw, dtype=_IDX_TYPES[dtype], offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError("%s: %d elements for dimensions %s" % (path, body.size, dims))
    return body.reshape(dims).astype(_IDX_TYPES[dtype][1:], copy=False)


def _find(directory, name):
    for candidate in (os.path.join(directory, name + ".gz"), os.path.join(directory, name)):
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError(os.path.join(directory, name) + "[.gz]")


def load_split(directory=FASHION_MNIST, split="train"):
    """split 'train' or 't10k' of an MNIST-format directory."""
    images = read_idx(_find(directory, "%s-images-idx3-ubyte" % split))
    labels = read_idx(_find(directory, "%s-labels-idx1-ubyte" % split))
    if images.ndim != 3 or labels.shape != (images.shape[0],):
        raise ValueError("%s: %s images, %s labels" % (directory, images.shape, labels.shape))
    return Split(images, labels.astype(np.int64))


def statistics(images):
    """Mean and std of the pixels scaled to [0,1] (population std), as float32 -- what the Swift
    Dataset computes from the training images when no normalisation is given."""
    hist = np.bincount(np.asarray(images, dtype=np.uint8).ravel(), minlength=256).astype(np.float64)
    x = np.arange(256, dtype=np.float64) / 255
    n = hist.sum()
    mean = (x * hist).sum() / n
    var = (x * x * hist).sum() / n - mean * mean
    return float(np.float32(mean)), float(np.float32(np.sqrt(var)))


def normalise(images, mean, std):
    """(x/255 - mean)/std as float32, computed the way the Swift Dataset does it
    (x * (1/(255 std)) - mean/std, constants rounded to float32) so both sides see the same bits."""
    mean, std = np.float32(mean), np.float32(std)
    scale = np.float32(1) / (np.float32(255) * std)
    shift = mean / std
    return np.asarray(images, dtype=np.float32) * scale - shift


def batch_tensors(split, indices, mean, std, shape=(1, 28, 28)):
    """(inputs float32 [B,*shape], labels int64 [B]) for the given sample indices."""
    idx = np.asarray(indices, dtype=np.int64)
    x = normalise(split.images[idx], mean, std).reshape((len(idx),) + tuple(shape))
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(split.labels[idx])
