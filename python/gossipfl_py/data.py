"""Fashion-MNIST, its split into data slots and each slot's batches, as the Swift peers make them.

Mirrors Sources/Learning/IDXFile.swift (IDX files, plain or gzip), Dataset.swift (the
normalisation and the four files of a directory), Partition.swift (`PartitionScheme` and
`Partitioner.split`, bit-exact: the same SplitMix64 draws, Marsaglia-Tsang gamma and Box-Muller
with glibc's log, cos and pow, which Swift's Foundation calls on Linux and CPython's math
module calls too) and Batch.swift (`BatchSampler`). numpy only, no torchvision.
"""

import math
import os
import zlib
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .codec import PartitionError, PartitionScheme
from .seeded import SplitMix64, as_u64

# Debian's dataset-fashion-mnist package (`DatasetDirectory.fashionMNIST`).
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


# ---------------------------------------------------------------------------------------------
# IDXFile.swift


class IDXError(ValueError):
    """`IDXError`: why an IDX file could not be read; the message names the file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, eq=False)
class IDXFile:
    """`IDXFile`: an IDX file of unsigned bytes (type 0x08, 1 to 4 dimensions), the only kind
    the Swift reader accepts: images and labels."""

    dimensions: Tuple[int, ...]
    data: np.ndarray  # uint8, in file order

    @classmethod
    def read(cls, path: str) -> "IDXFile":
        """`init(path:)`: gunzips the file when it starts with the gzip magic."""
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            raise IDXError(path, "no such file") from None
        except OSError:
            raise IDXError(path, "cannot be read") from None
        if raw[:2] == b"\x1f\x8b":
            raw = _gunzip(raw, path)
        return cls.decode(raw, path)

    @classmethod
    def decode(cls, data: bytes, path: str) -> "IDXFile":
        """`init(decoding:path:)`, its checks in the Swift order and with its messages."""
        if len(data) < 4:
            raise IDXError(path, f"truncated: {len(data)} bytes, no IDX header")
        if data[0] != 0 or data[1] != 0:
            raise IDXError(path, f"wrong magic 0x{data[:4].hex()}: not an IDX file")
        if data[2] != 0x08:
            raise IDXError(path, f"element type 0x{data[2]:x} is not unsigned bytes (0x08)")
        rank = data[3]
        if not 1 <= rank <= 4:
            raise IDXError(path, f"{rank} dimensions (1 to 4 expected)")
        header = 4 + 4 * rank
        if len(data) < header:
            raise IDXError(path, "truncated inside the header")
        dimensions, elements = [], 1
        for d in range(rank):
            size = int.from_bytes(data[4 + 4 * d:8 + 4 * d], "big")
            if size == 0:
                raise IDXError(path, f"dimension {d} is 0")
            elements *= size
            if elements > 1 << 32:
                raise IDXError(path, "declared size overflows")
            dimensions.append(size)
        body = len(data) - header
        if body != elements:
            raise IDXError(path, f"truncated: {body} of {elements} data bytes" if body < elements
                           else f"{body - elements} bytes after the declared {elements}")
        return cls(tuple(dimensions), np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dimensions))


def _gunzip(raw: bytes, path: str) -> bytes:
    """`IDXFile.gunzip`: zlib with gzip framing; one member, as inflate stops at its end."""
    try:
        inflater = zlib.decompressobj(15 + 32)
        data = inflater.decompress(raw)
    except zlib.error as error:
        raise IDXError(path, f"corrupt gzip data ({error})") from None
    if not inflater.eof:
        raise IDXError(path, "truncated gzip stream")
    return data


# ---------------------------------------------------------------------------------------------
# Dataset.swift


def statistics(images) -> Tuple[np.float32, np.float32]:
    """`Dataset.statistics`: mean and population std of the pixels scaled to [0, 1], summed in
    float64 over the 256-bin histogram in pixel order (sequentially, as the Swift loop does:
    numpy's pairwise sum could differ in the last bit), then rounded to float32."""
    histogram = np.bincount(np.asarray(images, dtype=np.uint8).ravel(), minlength=256)
    n = float(histogram.sum())
    total = squares = 0.0
    for value in range(256):
        x = value / 255
        k = float(histogram[value])
        total += x * k
        squares += x * x * k
    mean = total / n
    return np.float32(mean), np.float32(math.sqrt(squares / n - mean * mean))


def normalise(images, mean, std) -> np.ndarray:
    """`Dataset.pixels`: Float(byte) * scale - shift with scale = 1 / (255 * std) and shift =
    mean / std, every constant and step in float32 (two roundings, no fused multiply-add)."""
    mean, std = np.float32(mean), np.float32(std)
    scale = np.float32(1) / (np.float32(255) * std)
    shift = mean / std
    pixels = np.asarray(images, dtype=np.uint8).astype(np.float32)
    np.multiply(pixels, scale, out=pixels)
    np.subtract(pixels, shift, out=pixels)
    return pixels


@dataclass(frozen=True, eq=False)
class Dataset:
    """`Dataset`: images normalised to float32 [count, rows, columns] and their labels."""

    pixels: np.ndarray  # float32 [count, rows, columns]
    labels: np.ndarray  # uint8 [count]
    classes: int
    mean: np.float32
    std: np.float32

    @property
    def count(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def feature_count(self) -> int:
        return int(self.pixels.shape[1] * self.pixels.shape[2])

    @classmethod
    def from_files(cls, images: IDXFile, labels: IDXFile, images_path: str, labels_path: str,
                   normalization: Optional[Tuple[float, float]] = None) -> "Dataset":
        """`init(images:labels:...)`; without `normalization` the statistics are these images'."""
        if len(images.dimensions) != 3:
            raise IDXError(images_path, f"images need 3 dimensions, found {list(images.dimensions)}")
        if len(labels.dimensions) != 1 or labels.dimensions[0] != images.dimensions[0]:
            raise IDXError(labels_path, f"{list(labels.dimensions)} labels for {images.dimensions[0]} images")
        classes = int(labels.data.max()) + 1
        mean, std = (np.float32(normalization[0]), np.float32(normalization[1])) if normalization \
            else statistics(images.data)
        if not std > 0:
            raise IDXError(images_path, "every pixel is the same: nothing to learn")
        return cls(normalise(images.data, mean, std), labels.data.copy(), classes, mean, std)


@dataclass(frozen=True, eq=False)
class DatasetDirectory:
    """`DatasetDirectory`: the train and t10k files of an MNIST-format directory; the test split
    is normalised with the training split's statistics."""

    train: Dataset
    test: Dataset

    @classmethod
    def load(cls, path: str = FASHION_MNIST) -> "DatasetDirectory":
        def split(name: str) -> Dataset:
            return Dataset.from_files(*_load_pair(path, name))

        train = split("train")
        test = Dataset.from_files(*_load_pair(path, "t10k"), normalization=(train.mean, train.std))
        return cls(train, test)


def _load_pair(directory: str, split: str):
    images = _find(directory, f"{split}-images-idx3-ubyte")
    labels = _find(directory, f"{split}-labels-idx1-ubyte")
    return IDXFile.read(images), IDXFile.read(labels), images, labels


def _find(directory: str, name: str) -> str:
    """`DatasetDirectory.find`: NAME.gz first, then NAME."""
    for candidate in (f"{directory}/{name}.gz", f"{directory}/{name}"):
        if os.path.exists(candidate):
            return candidate
    raise IDXError(f"{directory}/{name}[.gz]", "no such file")


# ---------------------------------------------------------------------------------------------
# Partition.swift


def _scheme(scheme) -> PartitionScheme:
    """A scheme from its text or any object with `kind` and `parameter`."""
    return PartitionScheme.parse(scheme) if isinstance(scheme, str) else PartitionScheme(str(scheme.kind), scheme.parameter)


# Double.leastNonzeroMagnitude: the smallest u Swift's draws clamp to (log(0) is avoided).
_LEAST_NONZERO = 5e-324


def _log(x: float) -> float:
    """Foundation's log: -inf at 0 where math.log raises (log(u) with u == 0 is possible)."""
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _round_half_away(x: float) -> int:
    """`Int(x.rounded())`: to nearest, ties away from zero (Python's round() ties to even).
    x - floor(x) is exact, so the tie test is too."""
    whole = math.floor(x)
    return whole + 1 if x - whole >= 0.5 else whole


def _normal(rng: SplitMix64) -> float:
    """`Partitioner.normal`: Box-Muller."""
    u1 = max(rng.unit_double(), _LEAST_NONZERO)
    u2 = rng.unit_double()
    return math.sqrt(-2.0 * _log(u1)) * math.cos(2.0 * math.pi * u2)


def _gamma(shape: float, rng: SplitMix64) -> float:
    """`Partitioner.gamma`: Marsaglia and Tsang; for shape < 1, Gamma(shape + 1) * U^(1/shape),
    U drawn first. The expressions keep Swift's left-to-right evaluation order."""
    if shape < 1:
        u = max(rng.unit_double(), _LEAST_NONZERO)
        return _gamma(shape + 1, rng) * math.pow(u, 1 / shape)
    d = shape - 1.0 / 3
    c = 1 / math.sqrt(9 * d)
    while True:
        while True:
            x = _normal(rng)
            v = 1 + c * x
            if not v <= 0:
                break
        v = v * v * v
        u = rng.unit_double()
        # `||` short-circuits: the second test's logs are only taken when the first fails.
        if u < 1 - 0.0331 * x * x * x * x or _log(u) < 0.5 * x * x + d * (1 - v + _log(v)):
            return d * v


def _dirichlet(alpha: float, count: int, rng: SplitMix64) -> List[float]:
    """`Partitioner.dirichlet`: normalised Gamma(alpha) draws, summed left to right."""
    draws = [_gamma(alpha, rng) for _ in range(count)]
    total = 0.0
    for draw in draws:
        total += draw
    return [draw / total for draw in draws] if total > 0 else [1 / count] * count


class Partitioner:
    """`Partitioner`: sample indices per worker, the same on every peer for the same
    (labels, scheme, seed)."""

    MINIMUM_PER_WORKER = 10

    @staticmethod
    def split(labels: Sequence[int], classes: int, workers: int, scheme, seed: int) -> List[List[int]]:
        """`split(labels:classes:workers:scheme:seed:)`; `scheme` is a PartitionScheme, a
        ledger.PartitionScheme or its text. Raises PartitionError with the Swift messages."""
        scheme = _scheme(scheme)
        labels = [int(label) for label in labels]
        minimum = Partitioner.MINIMUM_PER_WORKER
        if workers <= 0:
            raise PartitionError("need at least one worker")
        if len(labels) < workers * minimum:
            raise PartitionError(f"{len(labels)} samples cannot give {workers} workers {minimum} each")
        rng = SplitMix64(as_u64(seed, "seed"))
        by_class: List[List[int]] = [[] for _ in range(classes)]
        for index, label in enumerate(labels):
            if label < classes:
                by_class[label].append(index)
        # Drawn for every scheme (iid too), so the generator is where Swift's is afterwards.
        for members in by_class:
            rng.shuffle(members)

        if scheme.kind == "iid":
            everything = list(range(len(labels)))
            rng.shuffle(everything)
            return [everything[w::workers] for w in range(workers)]

        if scheme.kind == "shards":
            k = int(scheme.parameter)
            if k > classes:
                raise PartitionError(f"shards:{k}: there are only {classes} labels")
            # Worker w holds labels w*K ..< w*K+K (mod classes); each label's samples go round its holders.
            holders: List[List[int]] = [[] for _ in range(classes)]
            for w in range(workers):
                for j in range(k):
                    holders[(w * k + j) % classes].append(w)
            parts: List[List[int]] = [[] for _ in range(workers)]
            for c in range(classes):
                for i, index in enumerate(by_class[c] if holders[c] else ()):
                    parts[holders[c][i % len(holders[c])]].append(index)
            if not all(len(part) >= minimum for part in parts):
                raise PartitionError(f"shards:{k} leaves a worker fewer than {minimum} samples")
            return parts

        if scheme.kind == "dirichlet":
            alpha = float(scheme.parameter)
            for _ in range(1000):
                parts = [[] for _ in range(workers)]
                for members in by_class:
                    if not members:
                        continue
                    shares = _dirichlet(alpha, workers, rng)
                    start, cumulative = 0, 0.0
                    for w in range(workers):
                        cumulative += shares[w]
                        end = len(members) if w == workers - 1 else \
                            min(len(members), _round_half_away(cumulative * len(members)))
                        parts[w].extend(members[start:max(start, end)])
                        start = max(start, end)
                if all(len(part) >= minimum for part in parts):
                    return parts
            raise PartitionError(
                f"dirichlet:{alpha!r} did not give every worker {minimum} samples in 1000 draws")

        raise PartitionError(f"unknown partition scheme {scheme.kind!r}")


# ---------------------------------------------------------------------------------------------
# Batch.swift


class BatchSampler:
    """`BatchSampler`: a worker's endless batches over its own samples, reshuffled (seeded) at
    the start of every pass; the last batch of a pass is shorter (DataLoader(shuffle=True,
    drop_last=False))."""

    def __init__(self, samples: Sequence[int], batch_size: int, seed: int) -> None:
        if len(samples) == 0 or batch_size <= 0:
            raise ValueError("a batch sampler needs samples and a positive batch size")
        self.samples = [int(sample) for sample in samples]
        self.batch_size = int(batch_size)
        self._rng = SplitMix64(as_u64(seed, "seed"))
        self._order = list(self.samples)
        self._rng.shuffle(self._order)
        self._position = 0

    def next(self) -> List[int]:
        """The next batch's sample indices."""
        if self._position >= len(self._order):
            self._order = list(self.samples)
            self._rng.shuffle(self._order)
            self._position = 0
        end = min(self._position + self.batch_size, len(self._order))
        batch = self._order[self._position:end]
        self._position = end
        return batch
