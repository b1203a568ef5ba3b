"""Activation patterns: one encoding shared by every engine.

A pattern is a row of bools, one per hidden unit, layers concatenated
(``True``: active, pre-activation > 0).  Stored compactly, a pattern is a
row of bytes packed big-endian (:func:`numpy.packbits`); compared and
looked up as one opaque key per row (a ``void`` view of the bytes), which
sorts and hashes in one pass whatever the width.

Engines build patterns layer by layer: every layer records, for each of
its regions, its parent (region of the previous layer) and its units'
states; :func:`from_ancestry` walks the parent links back once to give the
final regions' patterns.
"""

from __future__ import annotations

import numpy as np

__all__ = ["from_ancestry", "keys", "layer_masks", "lookup", "n_unique", "pack", "pack_words", "unpack"]


def pack(patterns: np.ndarray) -> np.ndarray:
    """Bool patterns ``(R, n)`` as packed bytes ``(R, ceil(n / 8))``."""
    return np.packbits(np.asarray(patterns, dtype=bool), axis=1)


def unpack(packed: np.ndarray, n: int) -> np.ndarray:
    """Packed bytes ``(R, nbytes)`` back to bool patterns ``(R, n)``."""
    return np.unpackbits(packed, axis=1, count=n).view(bool)


def keys(packed: np.ndarray) -> np.ndarray:
    """One opaque, sortable key per row of packed bytes, shape (R,)."""
    packed = np.ascontiguousarray(packed)
    return packed.view(np.dtype((np.void, max(1, packed.shape[1]))))[:, 0] if packed.shape[1] \
        else np.zeros(packed.shape[0], dtype=np.dtype((np.void, 1)))


def pack_words(patterns: np.ndarray) -> np.ndarray:
    """Bool patterns as rows of uint64 words, order-preserving on bytes, ``(R, n)`` -> ``(R, w)``.

    For :func:`numpy.unique` over rows (``axis=0``) of patterns built from
    many batches.
    """
    p = pack(patterns)
    w = max(1, -(-p.shape[1] // 8))
    out = np.zeros((p.shape[0], 8 * w), dtype=np.uint8)
    out[:, : p.shape[1]] = p
    return out.view(">u8").astype(np.uint64)


def n_unique(patterns: np.ndarray) -> int:
    """Number of distinct rows of bool patterns ``(R, n)``."""
    R = patterns.shape[0]
    if R == 0:
        return 0
    if patterns.shape[1] == 0:
        return 1
    return int(np.unique(keys(pack(patterns))).shape[0])


def lookup(table: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Row of ``table`` equal to each row of ``query`` (both packed bytes), -1 where none, (Q,)."""
    if table.shape[0] == 0:
        return np.full(query.shape[0], -1, dtype=np.int64)
    if table.shape[1] == 0:
        return np.zeros(query.shape[0], dtype=np.int64)
    kt, kq = keys(table), keys(query)
    order = np.argsort(kt)
    pos = np.minimum(np.searchsorted(kt[order], kq), kt.shape[0] - 1)
    hit = kt[order][pos] == kq
    return np.where(hit, order[pos], -1)


def from_ancestry(parents: list, actives: list, widths: list | None = None) -> list:
    """Per-layer states of the final regions, from each layer's parents and states.

    Parameters
    ----------
    parents : list of ndarray of int
        ``parents[l][i]``: the region after layer ``l - 1`` that holds region
        ``i`` after layer ``l`` (layer ``0``'s parents are all 0).
    actives : list of ndarray
        ``actives[l]``: the states of layer ``l``'s units on its regions,
        bool ``(R_l, n_l)``, or packed bytes when ``widths`` is given.
    widths : list of int, optional
        Units per layer, when ``actives`` are packed.

    Returns
    -------
    list of ndarray of bool
        One ``(R, n_l)`` block per layer for the final regions; concatenate
        them for the patterns.
    """
    if not parents:
        return []
    R = parents[-1].shape[0]
    blocks = []
    anc = np.arange(R)
    for l in range(len(parents) - 1, -1, -1):
        a = actives[l][anc]
        blocks.append(a if widths is None else unpack(a, widths[l]))
        anc = parents[l][anc]
    return blocks[::-1]


def layer_masks(patterns: np.ndarray, widths) -> list:
    """Bool patterns ``(R, sum widths)`` split into per-layer blocks ``(R, n_l)``."""
    offs = np.cumsum([0] + list(widths))
    return [patterns[:, offs[l] : offs[l + 1]] for l in range(len(widths))]
