"""The checks of every partition's ``verify()``, the same in every engine.

Each check raises :class:`~regions.errors.VerificationError` naming the
invariant and the first offending regions; none uses ``assert``, so they
hold under ``python -O``.  Tolerances come from
:mod:`regions.core.tolerances` (``MEASURE_RTOL``, ``MAP_RTOL``,
``ZERO_RTOL``), relative to the quantities compared.

* :func:`check_measures` -- positive measures, summing to the domain's;
* :func:`check_witnesses` -- a forward pass at each witness gives the
  region's pattern (where the pass can tell: a unit whose pre-activation
  is zero up to rounding may take either state);
* :func:`check_unique` -- no pattern twice;
* :func:`check_maps` -- the per-region output maps give the network's
  output at the witnesses;
* :func:`verify_common` -- all of them for a :class:`~regions.engines.base.Partition`.
"""

from __future__ import annotations

import numpy as np

from ..errors import VerificationError
from .patterns import keys, pack
from .tolerances import MAP_RTOL, MEASURE_RTOL, ZERO_RTOL

__all__ = ["check_maps", "check_measures", "check_unique", "check_witnesses", "forward_certain",
           "verify_common"]


def _first(idx: np.ndarray) -> str:
    return ", ".join(str(int(i)) for i in idx[:5]) + (", ..." if idx.size > 5 else "")


def check_measures(measures: np.ndarray, domain, *, partial: bool = False) -> float | None:
    """Every measure is positive; on a bounded domain (complete partition) they sum to its measure.

    Returns the sum (None when not checked).
    """
    m = np.asarray(measures, dtype=np.float64)
    bad = np.flatnonzero(~(m > 0))
    if bad.size:
        raise VerificationError(f"expected every region to have a positive measure, got {bad.size} "
                                f"without (first regions: {_first(bad)})")
    if partial or not domain.bounded:
        return None
    total = float(np.sum(m))
    want = float(domain.measure)
    if not abs(total - want) <= MEASURE_RTOL * abs(want):
        raise VerificationError(f"expected the measures to sum to the domain's {want!r} "
                                f"(within {MEASURE_RTOL:g} of it), got {total!r}")
    return total


def forward_certain(net, X: np.ndarray, scale: float = 0.0):
    """Forward pass at ``X`` with magnitudes: ``(patterns, certain, y, ymag)``.

    Magnitudes start from ``|X| + scale`` (the domain's scale, so that a
    point at the origin is judged at the size of the domain, as the
    engines judge it).

    ``patterns`` and ``certain`` are bool ``(n, n_hidden)``; a unit's state
    is certain where ``|z| > ZERO_RTOL * (|W| |h| + |b|)`` (magnitudes carried
    through the layers).  ``y`` is the output ``(n, n_out)`` and ``ymag``
    its magnitude, the same sums with absolute values.
    """
    H = np.asarray(X, dtype=np.float64)
    Hm = np.abs(H) + scale
    pats, sure = [], []
    for W, b in net.layers[:-1]:
        Z = H @ W.T + b
        M = Hm @ np.abs(W).T + np.abs(b)
        pats.append(Z > 0)
        sure.append(np.abs(Z) > ZERO_RTOL * M)
        H = np.where(Z > 0, Z, net.negative_slope * Z)
        Hm = M
    W, b = net.layers[-1]
    y = H @ W.T + b
    ymag = Hm @ np.abs(W).T + np.abs(b)
    n = H.shape[0]
    if not pats:
        return np.zeros((n, 0), bool), np.zeros((n, 0), bool), y, ymag
    return np.concatenate(pats, axis=1), np.concatenate(sure, axis=1), y, ymag


def check_witnesses(patterns: np.ndarray, got: np.ndarray, certain: np.ndarray) -> None:
    """The forward-pass patterns ``got`` at the witnesses equal ``patterns`` wherever ``certain``."""
    p = patterns.shape[1]
    wrong = (got[:, :p] != patterns) & certain[:, :p]
    bad = np.flatnonzero(np.any(wrong, axis=1))
    if bad.size:
        raise VerificationError(f"expected every witness to reproduce its region's pattern, got {bad.size} "
                                f"that do not (first regions: {_first(bad)})")


def check_unique(patterns: np.ndarray) -> None:
    """No activation pattern occurs twice."""
    R = patterns.shape[0]
    if R <= 1:
        return
    if patterns.shape[1] == 0:
        raise VerificationError(f"expected unique patterns, got {R} regions of a network without hidden units")
    k = keys(pack(patterns))
    order = np.argsort(k)
    dup = np.flatnonzero(k[order][1:] == k[order][:-1])
    if dup.size:
        regs = np.unique(np.concatenate([order[dup], order[dup + 1]]))
        raise VerificationError(f"expected unique patterns, got {dup.size} repeated "
                                f"(first regions: {_first(regs)})")


def check_maps(J: np.ndarray, c: np.ndarray, U: np.ndarray, y: np.ndarray, ymag: np.ndarray) -> None:
    """``J[i] @ U[i] + c[i]`` is the network's output ``y[i]`` within ``MAP_RTOL * ymag[i]``."""
    pred = np.einsum("rok,rk->ro", J, U) + c
    err = np.abs(pred - y)
    bad = np.flatnonzero(np.any(~(err <= MAP_RTOL * np.maximum(ymag, np.abs(y))), axis=1))
    if bad.size:
        raise VerificationError(f"expected the output maps to agree with the network at the witnesses, got "
                                f"{bad.size} regions that do not (first regions: {_first(bad)})")


def verify_common(part, *, maps: bool = True, measures: bool = True) -> dict:
    """The shared checks for a partition following :class:`~regions.engines.base.Partition`.

    Measures (positive; summing to the domain's when complete and bounded),
    witness patterns (complete partitions), unique patterns and, with
    ``maps``, the output maps at the witnesses (complete partitions).
    ``measures=False`` skips the measures (an engine that cannot compute them).

    Returns
    -------
    dict
        ``regions``, ``pieces``, ``measure`` (the sum, when checked).
    """
    total = check_measures(part.measures, part.domain, partial=part.partial) if measures else None
    U = np.asarray(part.witnesses, dtype=np.float64).reshape(part.n_regions, -1)
    X = part.domain.to_input(U)
    got, certain, y, ymag = forward_certain(part.network, X, part.domain.scale)
    if not part.partial:
        check_witnesses(part.patterns, got, certain)
    check_unique(part.patterns)
    if maps and not part.partial:
        J, c = part.output_maps()
        check_maps(J, c, U, y, ymag)
    out = {"regions": part.n_regions, "pieces": part.n_pieces, "ok": True}
    if total is not None:
        out["measure"] = total
    return out
