"""SplitMix64 and seed derivation, as the Swift peers compute them.

Mirrors Sources/Seeded/SplitMix64.swift and Sources/Gossip/SeedDerivation.swift. Python ints
do not wrap, so every UInt64 operation is masked to 64 bits by hand.
"""

from typing import Iterable, List, TypeVar

U64_MASK = 0xFFFF_FFFF_FFFF_FFFF
_GOLDEN_GAMMA = 0x9E37_79B9_7F4A_7C15
_MIX1 = 0xBF58_476D_1CE4_E5B9
_MIX2 = 0x94D0_49BB_1331_11EB

T = TypeVar("T")


def as_u64(value: int, name: str = "value") -> int:
    """value checked to be a UInt64 (Swift would not compile or would trap otherwise)."""
    value = int(value)
    if not 0 <= value <= U64_MASK:
        raise ValueError(f"{name} {value} is outside the UInt64 range 0...{U64_MASK}")
    return value


class SplitMix64:
    """Mirrors `SplitMix64` in Sources/Seeded/SplitMix64.swift."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = as_u64(seed, "seed")

    def next(self) -> int:
        """`next()`: state &+= golden gamma, then the two xor-shift-multiply rounds."""
        self._state = (self._state + _GOLDEN_GAMMA) & U64_MASK
        z = self._state
        z = ((z ^ (z >> 30)) * _MIX1) & U64_MASK
        z = ((z ^ (z >> 27)) * _MIX2) & U64_MASK
        return z ^ (z >> 31)

    def next_below(self, bound: int) -> int:
        """`next(below:)`: next() % bound, bias and all (the Swift side does exactly this)."""
        bound = as_u64(bound, "bound")
        if bound == 0:
            raise ValueError("bound must be positive")
        return self.next() % bound

    def unit_double(self) -> float:
        """`unitDouble()`: the top 53 bits scaled into [0, 1); both steps are exact in float64."""
        return float(self.next() >> 11) * 2.0 ** -53

    def shuffle(self, values: List[T]) -> None:
        """`shuffle(_:)`: Fisher-Yates in place, from the last position down to 1."""
        for i in range(len(values) - 1, 0, -1):
            j = self.next_below(i + 1)
            values[i], values[j] = values[j], values[i]


class SeedDerivation:
    """Mirrors `SeedDerivation` in Sources/Gossip/SeedDerivation.swift.

    h = SplitMix64(seed).next(), then for each part p, h = SplitMix64(h ^ p).next().
    """

    @staticmethod
    def derive(seed: int, *parts: int) -> int:
        return SeedDerivation.derive_parts(seed, parts)

    @staticmethod
    def derive_parts(seed: int, parts: Iterable[int]) -> int:
        """The array overload `derive(_:_: [UInt64])`."""
        h = _first_output(as_u64(seed, "seed"))
        for part in parts:
            h = _first_output(h ^ as_u64(part, "part"))
        return h


def _first_output(x: int) -> int:
    """The first output of SplitMix64 seeded with x: a bijection that spreads every bit."""
    return SplitMix64(x).next()
