"""The gossip merges on float32 values, bit for bit as the Swift peers compute them.

Mirrors Sources/Gossip/MaskedExchange.swift, MaskedWireValues.swift and DenseMixing.swift.
Every function returns a new array and checks everything before computing, so bad input
from a partner leaves the caller's arrays as they were.
"""

from typing import Sequence

import numpy as np

_HALF = np.float32(0.5)
_WIRE_DTYPE = np.dtype("<f4")  # gossip.v1 FLOAT32_LE


# Messages: the descriptions of `MaskedExchangeError` in MaskedExchange.swift.

def value_count_mismatch(expected: int, received: int) -> ValueError:
    return ValueError(f"partner sent {received} values for a mask of {expected}")


def non_finite_value(position: int, index: int) -> ValueError:
    return ValueError(f"partner value {position} (parameter {index}) is not finite")


def index_out_of_range(position: int, index: int, parameter_count: int) -> ValueError:
    return ValueError(f"mask index {position} is {index}, outside the {parameter_count} parameters")


def indices_not_increasing(position: int) -> ValueError:
    return ValueError(f"mask index {position} does not increase: a mask is sorted and has no repeats")


def byte_count_not_a_multiple_of_four(count: int) -> ValueError:
    return ValueError(f"partner sent {count} bytes of float32 values, not a multiple of 4")


def _float32_vector(values, name: str) -> np.ndarray:
    """A 1-D float32 array; other dtypes are refused, since casting would change the bits."""
    array = np.asarray(values)
    if array.dtype.kind != "f" or array.dtype.itemsize != 4:
        raise TypeError(f"{name} must be float32, got {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _index_vector(indices) -> np.ndarray:
    array = np.asarray(indices)
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu" or array.ndim != 1:
        raise TypeError(f"indices must be a 1-D integer array, got {array.dtype} shape {array.shape}")
    return array.astype(np.int64)


def validate_indices(indices, parameter_count: int) -> np.ndarray:
    """`MaskedExchange.validate`: in range and strictly increasing (a repeat would average
    twice). The first bad position is reported; there the range test comes first."""
    idx = _index_vector(indices)
    out_of_range = (idx < 0) | (idx >= parameter_count)
    previous = np.concatenate(([-1], idx[:-1]))
    not_increasing = idx <= previous
    bad = np.flatnonzero(out_of_range | not_increasing)
    if bad.size:
        position = int(bad[0])
        if out_of_range[position]:
            raise index_out_of_range(position, int(idx[position]), parameter_count)
        raise indices_not_increasing(position)
    return idx


def _first_non_finite(values: np.ndarray) -> int:
    bad = np.flatnonzero(~np.isfinite(values))
    return int(bad[0]) if bad.size else -1


def gather(params, indices) -> np.ndarray:
    """`MaskedExchange.gather`: our values at `indices`, in mask order, to send to the partner."""
    params = _float32_vector(params, "params")
    idx = validate_indices(indices, len(params))
    return params[idx].astype(np.float32)


def masked_merge_average(params, indices, partner_values) -> np.ndarray:
    """`MaskedExchange.mergeAverage(params:indices:partnerValues:)`: x <- x*0.5 + y*0.5 at
    `indices`, every operation in float32 (halving first cannot overflow where x + y would).

    Checks in the Swift order: value count, then indices, then finiteness. Returns a new array.
    """
    params = _float32_vector(params, "params")
    partner = _float32_vector(partner_values, "partner_values")
    idx = _index_vector(indices)
    if len(partner) != len(idx):
        raise value_count_mismatch(len(idx), len(partner))
    idx = validate_indices(idx, len(params))
    bad = _first_non_finite(partner)
    if bad >= 0:
        raise non_finite_value(bad, int(idx[bad]))
    merged = params.astype(np.float32, copy=True)
    # Two float32 products, then a float32 sum: no fused multiply-add, as in Swift.
    merged[idx] = merged[idx] * _HALF + partner.astype(np.float32) * _HALF
    return merged


def masked_merge_average_bytes(params, indices, partner_bytes: bytes) -> np.ndarray:
    """`MaskedExchange.mergeAverage(params:indices:partnerBytes:)`: the partner's values as
    little-endian float32 wire bytes; byte count, then indices, then values are checked."""
    idx = _index_vector(indices)
    count = len(partner_bytes)
    if count != len(idx) * 4:
        if count % 4 == 0:
            raise value_count_mismatch(len(idx), count // 4)
        raise byte_count_not_a_multiple_of_four(count)
    return masked_merge_average(params, idx, bytes_to_values(partner_bytes))


def dense_mix(params, neighbours: Sequence) -> np.ndarray:
    """`DenseMixing.mix(params:neighbours:)`: sum = x; sum += each neighbour in order; result
    = sum * (1 / (n + 1)), every step in float32. No neighbours: unchanged (a copy)."""
    params = _float32_vector(params, "params")
    models = [_float32_vector(m, "neighbour") for m in neighbours]
    if any(len(m) != len(params) for m in models):
        raise ValueError("neighbours' models differ in size")
    return _accumulate(params, models)


def check_dense_bytes(data: bytes, parameter_count: int) -> np.ndarray:
    """`DenseMixing.check`: exactly `parameter_count` finite float32 values; returns them."""
    count = len(data)
    if count != parameter_count * 4:
        if count % 4 == 0:
            raise value_count_mismatch(parameter_count, count // 4)
        raise byte_count_not_a_multiple_of_four(count)
    values = bytes_to_values(data)
    bad = _first_non_finite(values)
    if bad >= 0:
        # Swift reports the position as the parameter too (Int32(clamping:)).
        raise non_finite_value(bad, min(bad, 2**31 - 1))
    return values


def dense_mix_bytes(params, neighbour_bytes: Sequence[bytes]) -> np.ndarray:
    """`DenseMixing.mix(params:neighbourBytes:)`: every neighbour checked before mixing."""
    params = _float32_vector(params, "params")
    models = [check_dense_bytes(data, len(params)) for data in neighbour_bytes]
    return _accumulate(params, models)


def _accumulate(params: np.ndarray, models: Sequence[np.ndarray]) -> np.ndarray:
    """The formula both dense entry points share (`accumulate`): elementwise float32 adds in
    neighbour order, then one float32 multiply by the float32 weight."""
    total = params.astype(np.float32, copy=True)
    if not models:
        return total
    weight = np.float32(1) / np.float32(len(models) + 1)
    for model in models:
        np.add(total, model.astype(np.float32, copy=False), out=total)
    np.multiply(total, weight, out=total)
    return total


def values_to_bytes(values) -> bytes:
    """`DenseMixing.bytes(of:)` / `gatherBytes`: float32 values as little-endian wire bytes."""
    return _float32_vector(values, "values").astype(_WIRE_DTYPE, copy=False).tobytes()


def bytes_to_values(data: bytes) -> np.ndarray:
    """Little-endian float32 wire bytes as a native float32 array (a writable copy)."""
    if len(data) % 4 != 0:
        raise byte_count_not_a_multiple_of_four(len(data))
    return np.frombuffer(bytes(data), dtype=_WIRE_DTYPE).astype(np.float32)
