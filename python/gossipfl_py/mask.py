"""The shared random-k mask: both partners compute it from (seed, round, tensor) alone.

Mirrors Sources/Gossip/MaskLayout.swift and Sources/Gossip/RandomKMask.swift.
"""

import math
from typing import Iterable, List, Sequence, Tuple, Union

import numpy as np

from .seeded import SeedDerivation, SplitMix64, as_u64

INT32_MAX = 2**31 - 1
# Swift's Int is 64-bit; `addingReportingOverflow` trips past this.
_INT64_MAX = 2**63 - 1

DEFAULT_KEEP_FRACTION = 0.01

SegmentLike = Union[range, Tuple[int, int]]


class MaskLayoutError(ValueError):
    """Mirrors `MaskLayoutError` (its description is the message)."""


def _describe(segment: range) -> str:
    """A Swift Range's description, so messages read as the Swift ones do."""
    return f"{segment.start}..<{segment.stop}"


class MaskLayout:
    """Where the exchanged tensors sit in the flat parameter vector (MaskLayout.swift).

    `MaskLayout(tensor_sizes)` stores the tensors back to back, like `init(tensorSizes:)`;
    `MaskLayout.with_segments(parameter_count, segments)` allows gaps, like
    `init(parameterCount:segments:)`.
    """

    __slots__ = ("parameter_count", "segments")

    def __init__(self, tensor_sizes: Iterable[int]) -> None:
        segments: List[range] = []
        start = 0
        for t, size in enumerate(tensor_sizes):
            size = int(size)
            if size < 0:
                raise MaskLayoutError(f"tensor {t} has negative size {size}")
            end = start + size
            if end > _INT64_MAX:
                raise MaskLayoutError("tensor sizes overflow")
            segments.append(range(start, end))
            start = end
        self._validate_and_set(start, segments)

    @classmethod
    def with_segments(cls, parameter_count: int, segments: Iterable[SegmentLike]) -> "MaskLayout":
        """`init(parameterCount:segments:)`: segments as `range(a, b)` or `(a, b)`, a <= b."""
        ranges: List[range] = []
        for segment in segments:
            if isinstance(segment, range):
                if segment.step != 1:
                    raise MaskLayoutError(f"segment {segment} must have step 1")
                lower, upper = segment.start, segment.stop
            else:
                lower, upper = (int(v) for v in segment)
            # Swift cannot even build a Range with upper < lower.
            if upper < lower:
                raise MaskLayoutError(f"segment {lower}..<{upper} ends before it starts")
            ranges.append(range(lower, upper))
        layout = cls.__new__(cls)
        layout._validate_and_set(int(parameter_count), ranges)
        return layout

    def _validate_and_set(self, parameter_count: int, segments: List[range]) -> None:
        # Indices travel as Int32 and the wire's total_length is a uint32.
        if not 0 <= parameter_count <= INT32_MAX:
            raise MaskLayoutError(f"parameter count {parameter_count} is outside 0...{INT32_MAX}")
        previous_end = 0
        for t, segment in enumerate(segments):
            if segment.start < previous_end:
                raise MaskLayoutError(
                    f"tensor {t} at {_describe(segment)} overlaps or precedes the tensor before it")
            if segment.stop > parameter_count:
                raise MaskLayoutError(
                    f"tensor {t} at {_describe(segment)} runs past the {parameter_count} parameters")
            previous_end = segment.stop
        self.parameter_count = parameter_count
        self.segments = tuple(segments)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, MaskLayout) and self.parameter_count == other.parameter_count
                and self.segments == other.segments)

    def __hash__(self) -> int:
        return hash((self.parameter_count, self.segments))

    def __repr__(self) -> str:
        return f"MaskLayout(parameter_count={self.parameter_count}, segments={list(self.segments)})"


def kept_for(count: int, keep_fraction: float) -> int:
    """k = min(n, max(1, floor(n * rho))), the product in float64 as Swift computes it; 0 if n = 0."""
    if count == 0:
        return 0
    return min(count, max(1, int(math.floor(float(count) * keep_fraction))))


class RandomKMask:
    """Mirrors `RandomKMask` in Sources/Gossip/RandomKMask.swift."""

    __slots__ = ("layout", "keep_fraction", "kept_per_tensor")

    def __init__(self, layout: MaskLayout, keep_fraction: float = DEFAULT_KEEP_FRACTION) -> None:
        keep_fraction = float(keep_fraction)
        # Written so that NaN fails too, as the Swift guard does.
        if not (keep_fraction > 0 and keep_fraction <= 1):
            raise MaskLayoutError(f"keep fraction must be in (0, 1], got {keep_fraction}")
        self.layout = layout
        self.keep_fraction = keep_fraction
        self.kept_per_tensor = [kept_for(len(segment), keep_fraction) for segment in layout.segments]

    @property
    def kept_count(self) -> int:
        """Values exchanged per round."""
        return sum(self.kept_per_tensor)

    def indices(self, seed: int, round: int) -> np.ndarray:
        """`indices(seed:round:)`: the sorted global indices of the whole mask, as int32."""
        picks: List[int] = []
        for t in range(len(self.layout.segments)):
            picks.extend(self._tensor_picks(seed, round, t))
        return np.array(picks, dtype=np.int32)

    def tensor_indices(self, seed: int, round: int, tensor: int) -> np.ndarray:
        """`indices(seed:round:tensor:)`: one tensor's part of the mask."""
        return np.array(self._tensor_picks(seed, round, tensor), dtype=np.int32)

    def _tensor_picks(self, seed: int, round: int, t: int) -> Sequence[int]:
        """Floyd's algorithm, exactly as `appendIndices`: for j in n-k ..< n, x = next() % (j+1);
        take x unless already taken, else j. Sorted, then shifted to the segment's start."""
        segment = self.layout.segments[t]
        n, k = len(segment), self.kept_per_tensor[t]
        if k == 0:
            return []
        rng = SplitMix64(SeedDerivation.derive(as_u64(seed, "seed"), as_u64(round, "round"), t))
        taken = set()
        picks = []
        for j in range(n - k, n):
            x = rng.next_below(j + 1)
            pick = j if x in taken else x
            taken.add(pick)
            picks.append(pick)
        picks.sort()
        return [segment.start + p for p in picks]

    def __repr__(self) -> str:
        return f"RandomKMask({self.layout!r}, keep_fraction={self.keep_fraction})"
