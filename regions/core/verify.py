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
           "measure_unit", "scaled_measures", "verify_common"]


def _first(idx: np.ndarray) -> str:
    return ", ".join(str(int(i)) for i in idx[:5]) + (", ..." if idx.size > 5 else "")


def measure_unit(domain) -> float:
    """A power of two near the domain's scale: the length unit in which measures are compared.

    Dividing by a power of two is exact (short of the subnormal range), so
    measures taken in this unit neither overflow nor underflow for any
    domain float64 holds, ``1e-300`` or ``1e300`` wide alike.
    """
    s = float(domain.scale)
    if not (np.isfinite(s) and s > 0):
        return 1.0
    return float(2.0 ** np.round(np.log2(s)))


def _ring_areas(vertices: np.ndarray, offsets: np.ndarray, ring: np.ndarray, unit: float) -> np.ndarray:
    """Shoelace areas of rings, in units of ``unit**2``, each taken around its own first vertex."""
    P = vertices[ring]
    rid = np.repeat(np.arange(offsets.shape[0] - 1), np.diff(offsets))
    P = (P - P[offsets[:-1]][rid]) / unit  # around the ring's first vertex: no offset, no over/underflow
    nxt = np.arange(P.shape[0]) + 1
    nxt[offsets[1:] - 1] = offsets[:-1]
    cross = P[:, 0] * P[nxt, 1] - P[:, 1] * P[nxt, 0]
    return 0.5 * np.bincount(rid, weights=cross, minlength=offsets.shape[0] - 1)


def scaled_measures(part, unit: float | None = None) -> tuple[np.ndarray, float, float]:
    """Measures of a partition's regions and of its domain in units of ``unit**k``.

    Returns ``(measures, domain_measure, unit)``: the regions' lengths,
    areas or volumes divided by ``unit**k`` (``k`` the domain's dimension,
    ``unit`` from :func:`measure_unit` unless given), computed from the
    vertices in that unit where the partition has them (2-D rings, n-D
    vertex lists), so that no measure underflows to 0 or overflows to inf
    where the domain is tiny or huge.  Unbounded regions are ``inf``.
    """
    domain = part.domain
    k = domain.dim
    unit = measure_unit(domain) if unit is None else float(unit)
    if isinstance(getattr(part, "vertices", None), np.ndarray) and hasattr(part, "ring_offsets"):
        m = np.abs(_ring_areas(np.asarray(part.vertices, np.float64), np.asarray(part.ring_offsets),
                               np.asarray(part.ring_vertices), unit))
    elif callable(getattr(part, "vertices", None)) and hasattr(part, "bounded") and k >= 2:
        from scipy.spatial import ConvexHull  # noqa: PLC0415

        m = np.full(part.n_regions, np.inf)
        for i in np.flatnonzero(np.asarray(part.bounded)):
            V = np.asarray(part.vertices(i), dtype=np.float64)
            m[i] = ConvexHull((V - V[0]) / unit).volume
    else:
        with np.errstate(over="ignore", under="ignore"):
            m = np.asarray(part.measures, dtype=np.float64) / np.float64(unit) ** k
    if not domain.bounded:
        return m, float("inf"), unit
    if domain.vertices is not None:
        V = np.asarray(domain.vertices, dtype=np.float64)
        full = abs(float(_ring_areas(V, np.array([0, V.shape[0]]), np.arange(V.shape[0]), unit)[0]))
    else:
        full = float(np.prod((np.asarray(domain.hi, np.float64) - np.asarray(domain.lo, np.float64)) / unit))
    return m, full, unit


def check_measures(measures: np.ndarray, domain, *, partial: bool = False, unit: float = 1.0,
                   domain_measure: float | None = None) -> float | None:
    """Every measure is positive; on a bounded domain (complete partition) they sum to its measure.

    ``measures`` may be given in units of ``unit**k`` (see
    :func:`scaled_measures`) together with ``domain_measure`` in the same
    unit; the sum is compared there, so that domains of any size float64
    holds are checked alike.  Returns the sum in the caller's unit (None
    when not checked).
    """
    m = np.asarray(measures, dtype=np.float64)
    bad = np.flatnonzero(~(m > 0))
    if bad.size:
        raise VerificationError(f"expected every region to have a positive measure, got {bad.size} "
                                f"without (first regions: {_first(bad)})")
    if partial or not domain.bounded:
        return None
    total = float(np.sum(m))
    want = float(domain.measure) if domain_measure is None else float(domain_measure)
    if not abs(total - want) <= MEASURE_RTOL * abs(want):
        where = "" if unit == 1.0 else f" (in units of {unit:g}^{domain.dim})"
        raise VerificationError(f"expected the measures to sum to the domain's {want!r}{where} "
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
    total = None
    if measures:
        m, full, unit = scaled_measures(part)
        total = check_measures(m, part.domain, partial=part.partial, unit=unit, domain_measure=full)
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
        k = part.domain.dim
        with np.errstate(over="ignore", under="ignore"):
            out["measure"] = float(total * np.float64(unit) ** k)  # 0 or inf beyond float64: see the log
        out["measure_log10"] = float(np.log10(total) + k * np.log10(unit))
    return out
