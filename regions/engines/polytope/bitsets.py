"""Incidence bit sets of the n-D engine: rows of uint64 words, one bit per constraint."""

from __future__ import annotations

import numpy as np

__all__ = ["mask_upto", "popcount"]

_ONE = np.uint64(1)

if hasattr(np, "bitwise_count"):

    def popcount(a: np.ndarray) -> np.ndarray:
        """Set bits per row of a uint64 array (n, w) -> (n,)."""
        return np.bitwise_count(a).sum(axis=1, dtype=np.int64)

else:  # pragma: no cover - numpy < 2
    _TABLE = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)

    def popcount(a: np.ndarray) -> np.ndarray:
        return _TABLE[np.ascontiguousarray(a).view(np.uint8)].reshape(a.shape[0], -1).sum(axis=1)


def mask_upto(nbits: int, nw: int) -> np.ndarray:
    """Bit set of constraints ``0 .. nbits-1``, shape (nw,)."""
    out = np.zeros(nw, dtype=np.uint64)
    full, rest = divmod(nbits, 64)
    out[:full] = np.uint64(0xFFFFFFFFFFFFFFFF)
    if rest:
        out[full] = (_ONE << np.uint64(rest)) - _ONE
    return out
