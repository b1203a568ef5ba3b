"""Counts of op networks on boxes far wider than their features: the regions of ``R^k`` that meet the box.

Why
---
The 2-D op mesh (:mod:`.planar.ops`) interpolates vertices along edges as
long as the domain, and the LP op walk (:mod:`.lp.ops`) measures its
Chebyshev radii in units of the domain's size.  On a box of half-width
``S`` around features at distance ``rho`` from the origin both resolve the
features to about ``S / rho`` times their own tolerance, and from some
ratio on they lose regions without any sign being undecided (measured
before this module: the LP walk from ``~4e5`` feature radii, the mesh from
``~4e11``: a residual net at ``+-1e12`` gave 79 of 90 regions, ``+-1e15``
gave 28).

What
----
Activation regions are convex, so the regions of a box ``B`` are the
regions ``R`` of the whole parameter space ``R^k`` that meet the interior of
``B``, one each, with ``R``'s pattern (a slice over a box: of the unbounded
slice; a convex polygon likewise, its sides added to every LP and its
interior tested with exact rational cross products).  The LP op walk
counts ``R^k`` with rays instead of domain-long edges, in units of the network's own features
(:func:`~.lp.ops_lp._whole_scale`: the count does not depend on the input's
unit).  For a wide box (:func:`count_wide`) every region of that partition
is then

* **kept** when some point ``x`` strictly inside ``B`` has exactly the
  region's pattern (the lowered chain evaluated in float64 with a rounding
  bound, :data:`WITNESS_ULPS`, and in exact rational arithmetic wherever that
  bound does not decide a sign or a maximum).  A region is a convex set
  with an interior, so it lies in the closure of its interior, and ``x`` in
  it and in the open box shows that its interior meets the box's.  ``x`` is
  the walk's own witness, or else the Chebyshev centre of the region within
  ``B`` (one LP, :func:`~.lp.ops_lp._cheb_free`; any positive radius, the
  exact check decides);
* **dropped** when that LP finds no interior (radius at most ``CHEB_RTOL``
  in feature units, the resolution of the walk on ``R^k`` itself).  Where
  ``B`` reaches beyond :data:`LP_SPAN` feature units the LPs run in ``B``'s
  own frame (centre and half-width: the rows' offsets there keep their
  precision relative to ``B``), and a region is dropped only with a margin
  of ``CHEB_RTOL`` of ``B``'s size; a sliver within that margin is refused
  (:class:`~regions.errors.NumericalError`).

The regions of ``B`` are the kept ones, exactly; ``layer_counts`` are the
distinct prefixes of their patterns (every region after layer ``l`` that
meets ``B`` holds a final region that does).  Affine pieces join kept
regions with one output map across a facet that meets ``B``: the walk's
facet LPs (:func:`~.lp.ops_lp._pieces_lp`) with ``B``'s sides as bounds.
The facet LPs on ``R^k`` run first: where every join they make has its
facet's centre inside ``B``, those joins hold in ``B`` and the pieces are
``R^k``'s (a lower bound for ``B``'s in any case: fewer facets join less).

So the count of a wide box is as exact as the walk on ``R^k`` (whose every
decision is at ``CHEB_RTOL`` of the features' own size, whatever the box),
at any width float64 represents: a bigger box never holds fewer regions
(a kept region's point lies in every larger box), positive rescaling of the
input changes nothing (every threshold is in feature units), or the box is
refused with the reason.

Tolerances
----------
``WIDE_TRIGGER``
    A box whose half-width around its point nearest the origin exceeds
    this many feature radii (:func:`~.planar.ops.feature_reach`: the
    farthest features of the first layer with offsets) is counted here.
    Below it the mesh and the LP walk resolve features to within this
    factor of the walk on ``R^k`` (their tolerances are relative to the
    box's size), and are used as they are: ordinary boxes cost what they did.
``LP_SPAN``
    Coordinates, in feature units, up to which the LPs run in the walk's
    units: their rounding (``eps`` times the coordinates) stays below
    ``CHEB_RTOL / 100``; farther boxes use their own frame.
``WITNESS_ULPS``
    A float64 sign (or maximum) at a witness is decided when it exceeds this
    many ``eps``, times the number of terms summed through the layers, of
    the magnitude of its value (the same sums with absolute values): the
    standard bound on the rounding of those sums; the rest is exact.
"""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np

from ..core.result import CountResult
from ..core.tolerances import CHEB_RTOL, EPS
from ..domains import Domain
from ..errors import NumericalError
from ..model.ops import Lowered
from .lp.ops import partition_lp_ops
from .lp.ops_lp import _cheb_free, _pieces_lp
from .planar.ops import _plane_layers, feature_reach

__all__ = ["LP_SPAN", "WIDE_TRIGGER", "WITNESS_ULPS", "count_wide", "exact_patterns", "wide_ratio"]

#: Half-width of a box, in feature radii, above which it is counted from the regions of R^k.
WIDE_TRIGGER = 2.0**6
#: Largest coordinate, in feature units, at which an LP's "does not meet the box" is trusted.
LP_SPAN = 2.0**16
#: Rounding bound of the witness check, in eps per term summed (see the module docstring).
WITNESS_ULPS = 4.0


def _unbounded(domain: Domain) -> Domain:
    """The domain's whole parameter space (a box: ``R^k``; a slice: the unbounded slice)."""
    inf = np.full(domain.dim, np.inf)
    return Domain(-inf, inf, origin=domain.origin, basis=domain.basis,
                  kind="whole" if domain.basis is None else "plane" if domain.kind == "polygon" else domain.kind)


def wide_ratio(low: Lowered, domain: Domain) -> float | None:
    """Half-width of a bounded box or slice around its point nearest the origin, in feature radii.

    A polygon is measured by its bounding box.  None for unbounded domains
    and networks whose features all pass through the origin (the same at
    every scale).
    """
    if not domain.bounded:
        return None
    rho = feature_reach(low, _plane_layers(low, domain))
    if rho is None:
        return None
    lo, hi = np.asarray(domain.lo, dtype=np.float64), np.asarray(domain.hi, dtype=np.float64)
    c = np.clip(0.0, lo, hi)
    with np.errstate(over="ignore"):
        return float(np.max(np.maximum(np.abs(lo - c), np.abs(hi - c)))) / rho


# ------------------------------------------------------------------ exact patterns
def _fr(x) -> Fraction:
    return Fraction(float(x))


def _exact_row(low: Lowered, t: np.ndarray, domain: Domain, tables: list) -> np.ndarray:
    """The pattern of the lowered chain at the parameter point ``t``, in exact rational arithmetic."""
    if domain.basis is None:
        h = [_fr(v) for v in t]
    else:
        tq = [_fr(v) for v in t]
        h = [_fr(o) + sum((_fr(a) * x for a, x in zip(row, tq)), Fraction(0))
             for o, row in zip(domain.origin, domain.basis)]
    bits = []
    for (rows, offs), u in zip(tables, low.units):
        z = [sum((w * h[j] for j, w in row), Fraction(0)) + c for row, c in zip(rows, offs)]
        if u.groups is None:
            split = u.splitting
            bits += [z[i] > 0 for i in np.flatnonzero(split)]
            h = [(_fr(u.positive[i]) if zi > 0 else _fr(u.negative[i])) * zi for i, zi in enumerate(z)]
        else:
            h = []
            for g in u.groups:
                cand = [z[int(i)] for i in g]
                top = max(cand)
                sel = cand.index(top)  # lowest index among exact ties
                h.append(top)
                if len(cand) > 1:
                    bits += [q == sel for q in range(len(cand))]
    return np.array(bits, dtype=bool)


def exact_patterns(low: Lowered, domain: Domain, T: np.ndarray) -> np.ndarray:
    """Patterns of the lowered chain at parameter points ``T`` (n, k) of ``domain``, exactly.

    Float64 first, with the magnitudes of every sum (absolute values)
    carried along; a point whose every sign and maximum clears
    :data:`WITNESS_ULPS` eps per summed term of its magnitude keeps the
    float64 pattern, the others are evaluated in Fractions (ties in max
    groups: the lowest index, as in :mod:`regions.model.ops`).
    """
    T = np.atleast_2d(np.asarray(T, dtype=np.float64))
    n = T.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        if domain.basis is None:
            H, Hm = T, np.abs(T)
            terms = T.shape[1]
        else:
            H = domain.origin + T @ domain.basis.T
            Hm = np.abs(domain.origin) + np.abs(T) @ np.abs(domain.basis).T
            terms = T.shape[1] + 1
        unsure = np.zeros(n, dtype=bool)
        bits = []
        for (W, b), u in zip(low.layers[:-1], low.units):
            terms += W.shape[1] + 1
            Z = H @ W.T + b
            M = Hm @ np.abs(W).T + np.abs(b)
            tol = WITNESS_ULPS * terms * EPS * M
            unsure |= ~np.isfinite(Z).all(axis=1) | ~np.isfinite(M).all(axis=1)
            if u.groups is None:
                sp = u.splitting
                unsure |= (np.abs(Z[:, sp]) <= tol[:, sp]).any(axis=1)
                bits.append(Z[:, sp] > 0)
                H = np.where(Z > 0, u.positive * Z, u.negative * Z)
                Hm = M * np.maximum(np.abs(u.positive), np.abs(u.negative))
            else:
                out_h, out_m = [], []
                for g in u.groups:
                    v, m = Z[:, g], M[:, g]
                    top = v.argmax(axis=1)
                    vt = np.take_along_axis(v, top[:, None], 1)
                    mt = np.take_along_axis(m, top[:, None], 1)
                    t2 = np.take_along_axis(tol[:, g], top[:, None], 1)
                    close = (vt - v <= t2 + tol[:, g])
                    close[np.arange(n), top] = False
                    unsure |= close.any(axis=1)
                    if g.size > 1:
                        bits.append(np.arange(g.size)[None, :] == top[:, None])
                    out_h.append(vt[:, 0]), out_m.append(mt[:, 0])
                H = np.stack(out_h, axis=1)
                Hm = np.stack(out_m, axis=1)
    P = np.concatenate(bits, axis=1) if bits else np.zeros((n, 0), dtype=bool)
    if unsure.any():
        tables = [([[(j, _fr(w)) for j, w in enumerate(row) if w != 0] for row in W], [_fr(c) for c in b])
                  for W, b in low.layers[:-1]]
        for i in np.flatnonzero(unsure):
            P[i] = _exact_row(low, T[i], domain, tables)
    return P


# ------------------------------------------------------------------ the count
def _inside(T: np.ndarray, domain: Domain) -> np.ndarray:
    """Whether parameter points lie strictly inside the domain (a polygon: exact rational cross products)."""
    T = np.atleast_2d(T)
    out = np.all((T > domain.lo) & (T < domain.hi), axis=1)
    if domain.vertices is not None:
        P = [(_fr(x), _fr(y)) for x, y in domain.vertices]
        for i in np.flatnonzero(out):
            x, y = _fr(T[i, 0]), _fr(T[i, 1])
            out[i] = all((bx - ax) * (y - ay) - (by - ay) * (x - ax) > 0
                         for (ax, ay), (bx, by) in zip(P, P[1:] + P[:1]))
    return out


def _polygon_rows(domain: Domain, centre: np.ndarray, s: float) -> tuple[np.ndarray, np.ndarray]:
    """A polygon's sides as unit rows ``A u <= b`` in the walk's units (none for a box)."""
    if domain.vertices is None:
        return np.zeros((0, domain.dim)), np.zeros(0)
    P = (np.asarray(domain.vertices, dtype=np.float64) - centre) / s
    E = np.roll(P, -1, axis=0) - P
    N = np.stack([E[:, 1], -E[:, 0]], axis=1)
    n = np.linalg.norm(N, axis=1)
    N = N[n > 0] / n[n > 0, None]
    return N, np.einsum("ij,ij->i", N, P[n > 0])


def count_wide(low: Lowered, domain: Domain, *, engine: str, network=None,
               max_regions: int | None = None, trigger: float = WIDE_TRIGGER) -> CountResult | None:
    """The count of a box, slice or polygon wider than ``trigger`` feature radii, or None.

    See the module docstring.  None where the domain is not wide (or is
    unbounded, or the network's features all pass through the origin): the
    ordinary engines count it.  A polygon is a plane slice over
    its bounding box, cut by its sides.  ``engine`` is recorded as the
    engine asked for.

    Raises
    ------
    NumericalError
        A region's witness cannot be confirmed in the box, or a region meets
        a box beyond :data:`LP_SPAN` feature units only in a sliver.
    """
    ratio = wide_ratio(low, domain)
    if ratio is None or not ratio > trigger:
        return None
    whole = _unbounded(domain)
    p = partition_lp_ops(low, whole, network=network, max_regions=max_regions, pieces=False)
    lo, hi = np.asarray(domain.lo, dtype=np.float64), np.asarray(domain.hi, dtype=np.float64)
    n = p.n_regions
    nb = p.patterns.shape[1]
    T = np.array(p.witnesses, dtype=np.float64).reshape(n, -1)
    ok = _inside(T, domain)
    if ok.any():
        ok[ok] = np.all(exact_patterns(low, domain, T[ok])[:, :nb] == p.patterns[ok], axis=1)
    keep = ok.copy()
    _, _, centre, s = p._H[0] if n else (None, None, np.zeros(domain.dim), 1.0)
    ulo, uhi = (lo - centre) / s, (hi - centre) / s
    # the LPs' frame: the walk's units where the box lies within LP_SPAN of them, else the box's own
    far = bool(np.max(np.abs(np.r_[ulo, uhi])) > LP_SPAN)
    cu = (ulo + uhi) / 2 if far else np.zeros(domain.dim)
    H = float(np.max(uhi - ulo)) / 2 if far else 1.0
    flo, fhi = (ulo - cu) / H, (uhi - cu) / H
    Ap, bp = _polygon_rows(domain, centre + s * cu, s * H)
    E = np.eye(domain.dim)  # the box's sides as rows: the centre keeps its radius from them too
    for i in np.flatnonzero(~ok):
        A, b = p._H[i][0], (p._H[i][1] - p._H[i][0] @ cu) / H
        u, r = _cheb_free(np.vstack([A, Ap, -E, E]), np.concatenate([b, bp, -flo, fhi]), flo, fhi)
        if u is not None:  # a point with a positive radius: kept where exact arithmetic confirms it
            t = centre + s * (cu + H * np.clip(u, flo, fhi))
            if _inside(t[None], domain)[0] and np.array_equal(exact_patterns(low, domain, t)[0, :nb],
                                                              p.patterns[i]):
                keep[i], T[i] = True, t
                continue
        if u is not None and r > CHEB_RTOL:
            raise NumericalError(
                f"expected a point of region {int(i)} of the whole {domain.dim}-D space strictly inside the "
                f"{domain.kind} with its activation pattern, got none that float64 and exact arithmetic "
                f"confirm (the region meets the {domain.kind} only in a sliver): use a smaller or larger "
                f"{domain.kind}")
        if far and not r < -CHEB_RTOL:
            raise NumericalError(
                f"expected region {int(i)} of the whole {domain.dim}-D space to meet the {domain.kind} or to "
                f"stay clear of it, got a sliver within {CHEB_RTOL:.3g} of the {domain.kind}'s size (it lies "
                f"{float(np.max(np.abs(np.r_[ulo, uhi]))):.3g} feature units from the origin): use a "
                f"{domain.kind} nearer the origin or all of R^{domain.dim}")
    pats = p.patterns[keep]
    widths = [u.n_bits for u in low.units][: len(p.layer_counts)]
    counts, at = [], 0
    for w in widths:
        at += w
        counts.append(int(np.unique(np.packbits(pats[:, :at], axis=1), axis=0).shape[0]) if pats.size else
                      int(pats.shape[0] > 0))
    n_keep = int(keep.sum())
    extra = {"method": f"the regions of the whole {domain.dim}-D space that meet the {domain.kind} "
                       f"({ratio:.3g} feature radii wide), each confirmed at a point inside it",
             "requested_engine": engine}
    if p.partial:
        extra["message"] = (f"stopped at max_regions={max_regions} with {n_keep} regions found (partial "
                            f"count: the numbers are lower bounds)")
        return CountResult(n_keep, None, counts, "lp", partial=True, extra=extra)
    if max_regions is not None and n_keep > max_regions:
        extra["message"] = (f"stopped at max_regions={max_regions} with {n_keep} regions found (partial "
                            f"count: the numbers are lower bounds)")
        return CountResult(n_keep, None, counts, "lp", partial=True, extra=extra)
    inf = np.full(domain.dim, np.inf)
    none = (np.zeros((0, domain.dim)), np.zeros(0))
    n_pieces, at = _pieces(p, keep, -inf, inf, none)  # R^k's pieces of the kept regions: a lower bound
    if at.shape[0] and not _inside(centre + s * at, domain).all():  # a join outside the box: join within it
        bound, _ = _pieces(p, keep, flo, fhi, (Ap, bp), frame=(cu, H))  # facets that meet the box
        if bound < n_pieces:  # fewer facets than in all of R^k can never join more
            raise NumericalError(
                f"expected at least the {n_pieces} affine pieces the whole space has among the regions of "
                f"the {domain.kind}, got {bound} from the facets inside it (a rounding anomaly): use a "
                f"{domain.kind} nearer the origin or all of R^{domain.dim}")
        n_pieces = bound
    return CountResult(n_keep, n_pieces, counts, "lp", extra=extra)


def _pieces(p, keep: np.ndarray, lo: np.ndarray, hi: np.ndarray, rows: tuple, *,
            frame: tuple | None = None) -> tuple[int, np.ndarray]:
    """Affine pieces of the kept regions joined across facets that meet the box ``lo .. hi`` and the extra
    ``rows`` (a polygon's sides), and a point of the facet of every join made.

    Coordinates are the walk's units ``u``, or ``v`` with ``u = cu + H v`` for ``frame = (cu, H)``.
    """
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return 0, np.zeros((0, lo.size))
    Ap, bp = rows
    cu, H = frame if frame is not None else (np.zeros(lo.size), 1.0)
    regs = [SimpleNamespace(A=np.vstack([p._H[i][0], Ap]),
                            b=np.concatenate([(p._H[i][1] - p._H[i][0] @ cu) / H, bp])) for i in idx]
    geo = SimpleNamespace(lo=lo, hi=hi, k=lo.size)
    joins: list = []
    labels = _pieces_lp(geo, regs, p._J[idx], p._Jabs[idx], p.patterns[idx], joins=joins)
    return int(labels.max()) + 1, np.array(joins, dtype=np.float64).reshape(-1, lo.size)
