"""The n-D walk for op networks: regions as H-polytopes decided by Chebyshev LPs.

Works on a :class:`regions.model.ops.Lowered` chain (affine layers, then
:class:`~regions.model.ops.Units`: elementwise units with per-unit slopes,
linear carries, max groups) on a box (bounded or not, any dimension) or a
convex polygon.

Definition
----------
An activation region is a maximal set on which every bending elementwise
unit keeps one side (pre-activation ``> 0`` or ``<= 0``) and every max
group keeps one selected candidate; candidates that compute the same
affine function on a region are one candidate (the lowest index wins), so
they split nothing.  Every region is convex: on a region every value is an
affine function of the input, so every split function is affine.

Walk
----
Layer by layer (breadth first, so ``layer_counts`` are the regions after
each lowered layer).  On a region, a layer's pre-activations are affine
maps ``G u + H`` of the normalised coordinates ``u = (t - centre) / scale``.

* A bending elementwise unit with a non-zero gradient cuts along its
  hyperplane; each side with an interior is a child.
* A max group: candidates with the same map (to ``ZERO_RTOL`` of their
  magnitudes) are merged, the lowest index kept; the cell of a kept
  candidate ``j`` is ``{c_j >= c_i for every other kept i}``; each cell with
  an interior is a child.
* A unit or candidate difference whose gradient is zero (to ``ZERO_RTOL``)
  is constant on the region and decides by its sign (zero is inactive).

Interior test: as in :mod:`regions.engines.lp.kernel`, the Chebyshev
radius over the region's rows (unit norm, the box as variable bounds),
capped at 1 (one domain scale), certified in float64 at the returned
point; a side has an interior iff that radius exceeds ``CHEB_RTOL``.  A
witness ball that lies on one side certifies that side without an LP.
The LP leaves the radius free below (see :func:`_cheb_free`: with
``r >= 0`` HiGHS can stall on unbounded domains), so it is always
feasible and bounded.

All of R^d (no finite side): the unit of length is the farthest
first-layer feature from the origin (:func:`_whole_scale`), so counts do
not change under positive rescaling of the input.  Each region is
classified bounded or unbounded by its recession cone
(:func:`_bounded_flags`), reported as ``CountResult.bounded`` /
``unbounded`` on unbounded domains, as the polytope engine does (the LPs
besides the splits live in :mod:`.ops_lp`).

Bounded 2-D domains also keep each region's polygon (clipped from the
domain's, Sutherland-Hodgman): its vertices screen units and max candidates
that cannot split a region (no LP), and give the affine pieces: regions
that share an edge longer than ``EDGE_TOL`` and whose output Jacobians agree
to ``PIECE_RTOL`` (as in the other engines) are merged.  Elsewhere (any
dimension, bounded or not) regions with equal Jacobians are merged when
they share a facet, decided by a Chebyshev LP inside the hyperplane of
the first split between them (:func:`_pieces_lp`).  Partial partitions
have no pieces (None).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.pieces import merge_pieces
from ...core.result import CountResult
from ...core.tolerances import CHEB_RTOL, PIECE_RTOL, ZERO_RTOL
from ...domains import Domain
from ...errors import RegionsError, VerificationError
from ...model.ops import Lowered, lower
from .ops_lp import _bounded_flags, _cheb_free, _norm, _pieces_lp, _whole_scale
from .result import hrep_volumes

__all__ = ["OpLPPartition", "partition_lp_ops"]


@dataclass
class _Region:
    A: np.ndarray   # (m, k) unit-norm rows, u coordinates
    b: np.ndarray   # (m,)
    w: np.ndarray   # (k,) interior point
    r: float        # certified radius at w
    M: np.ndarray   # (n, k) carrier map: value = M u + c
    c: np.ndarray   # (n,)
    bits: list = field(default_factory=list)
    V: np.ndarray | None = None  # (p, 2) polygon vertices (bounded 2-D domains only): a screen
    Mabs: np.ndarray | None = None  # (n, k) the carrier's Jacobian computed with absolute values


def _clip(V: np.ndarray | None, A: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """The convex polygon ``V`` cut to ``A u <= b`` (Sutherland-Hodgman, one row at a time)."""
    if V is None:
        return None
    for a, beta in zip(np.atleast_2d(A), np.atleast_1d(b)):
        if V.shape[0] == 0:
            break
        f = V @ a - beta
        inside = f <= 0
        if inside.all():
            continue
        nxt = []
        n = V.shape[0]
        for i in range(n):
            j = (i + 1) % n
            if inside[i]:
                nxt.append(V[i])
            if inside[i] != inside[j]:
                t = f[i] / (f[i] - f[j])
                nxt.append(V[i] + t * (V[j] - V[i]))
        V = np.array(nxt).reshape(-1, 2)
    return V


class _Geometry:
    """Normalised coordinates, the LP and the polygon rows of one domain."""

    def __init__(self, domain: Domain, scale: float | None = None):
        lo, hi = domain.lo, domain.hi
        self.k = domain.dim
        self.s = float(domain.scale) if scale is None else float(scale)
        with np.errstate(invalid="ignore"):
            centre = np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2,
                              np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi, 0.0)))
        self.centre = np.where(np.isfinite(centre), centre, 0.0)
        self.lo = (lo - self.centre) / self.s
        self.hi = (hi - self.centre) / self.s
        self.n_lps = 0  # Chebyshev LPs solved
        A0, b0 = np.zeros((0, self.k)), np.zeros(0)
        if domain.vertices is not None:  # counter-clockwise polygon: outward normals (e_y, -e_x)
            P = (domain.vertices - self.centre) / self.s
            E = np.roll(P, -1, axis=0) - P
            N = np.stack([E[:, 1], -E[:, 0]], axis=1)
            n = np.linalg.norm(N, axis=1)
            keep = n > 0
            A0 = N[keep] / n[keep, None]
            b0 = np.einsum("ij,ij->i", A0, P[keep])
        self.A0, self.b0 = A0, b0
        self.bounded = bool(np.isfinite(self.lo).all() and np.isfinite(self.hi).all())

    def cheb(self, A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray | None, float]:
        """An interior point and its certified radius (None, -inf when empty)."""
        # the radius free below: always feasible and bounded (see _cheb_free)
        self.n_lps += 1
        u, _ = _cheb_free(A, b, self.lo, self.hi)
        if u is None:
            return None, -np.inf
        u = np.clip(u, self.lo, self.hi)
        r = 1.0 if A.shape[0] == 0 else float(min(1.0, np.min(b - A @ u)))
        return u, r

    def box_range(self, g: np.ndarray, h: float) -> tuple[float, float]:
        """Range of ``g u + h`` over the box (infinite sides allowed)."""
        with np.errstate(invalid="ignore"):
            lo = h + np.sum(np.where(g > 0, g * self.lo, g * self.hi))
            hi = h + np.sum(np.where(g > 0, g * self.hi, g * self.lo))
        return (float(lo) if np.isfinite(lo) else -np.inf), (float(hi) if np.isfinite(hi) else np.inf)


def _cut(geo: _Geometry, R: _Region, a: np.ndarray, beta: float):
    """The part of ``R`` where ``a u + beta <= 0`` (``a`` unit norm): a child region or None."""
    d = -(a @ R.w + beta)
    if d >= R.r:  # the witness ball lies on this side
        return _Region(np.vstack([R.A, a]), np.append(R.b, -beta), R.w, R.r, R.M, R.c, R.bits,
                       _clip(R.V, a, -beta))
    if geo.bounded:
        lo, _ = geo.box_range(a, beta)
        if lo >= -CHEB_RTOL:  # a u + beta >= -tol over the whole box: no interior
            return None
    A, b = np.vstack([R.A, a]), np.append(R.b, -beta)
    u, r = geo.cheb(A, b)
    if u is None or r <= CHEB_RTOL:
        return None
    return _Region(A, b, u, r, R.M, R.c, R.bits, _clip(R.V, a, -beta))


def _split_sign(geo, R, g, h, gmag, hmag):
    """Children ``[(side, region)]`` of ``R`` cut by the sign of ``g u + h``."""
    n = float(_norm(g))
    if n <= ZERO_RTOL * gmag:  # constant on the region
        return [(bool(h > ZERO_RTOL * hmag), R)]
    a, beta = g / n, h / n
    if R.V is not None and R.V.shape[0]:
        # affine on a polygon: its extremes are at the vertices; a side within CHEB_RTOL / 2 of
        # the line has a Chebyshev radius below CHEB_RTOL, so it has no interior (as the LP decides)
        vals = R.V @ a + beta
        if vals.min() >= -CHEB_RTOL / 2:
            return [(True, R)]
        if vals.max() <= CHEB_RTOL / 2:
            return [(False, R)]
    out = []
    pos = _cut(geo, R, -a, -beta)   # -(a u + beta) <= 0
    if pos is not None:
        out.append((True, pos))
    neg = _cut(geo, R, a, beta)
    if neg is not None:
        out.append((False, neg))
    if not out:  # both sides thinner than the tolerance: keep the witness's side
        out.append((bool(a @ R.w + beta > 0), R))
    if len(out) == 1:  # no cut: the row is redundant
        return [(out[0][0], R)]
    return out


def _split_max(geo, R, G, H, gmag, hmag):
    """Children ``[(selected, region)]`` of ``R`` for one max group with candidates ``G u + H``."""
    m = G.shape[0]
    # candidates with one map (to ZERO_RTOL of their magnitudes) are one: the lowest index stays
    ng = _norm(G[:, None, :] - G[None, :, :], axis=2)
    same = (ng <= ZERO_RTOL * (gmag[:, None] + gmag[None, :])) & \
           (np.abs(H[:, None] - H[None, :]) <= ZERO_RTOL * (hmag[:, None] + hmag[None, :]))
    keep = np.nonzero(np.argmax(same, axis=1) == np.arange(m))[0]
    if R.V is not None and R.V.shape[0] and keep.size > 1:
        # candidate i has no cell when another candidate j stays above it (by CHEB_RTOL / 2 of
        # their tie line) at every vertex of the polygon: affine differences peak at vertices
        C = R.V @ G[keep].T + H[keep]
        D = np.min(C[:, None, :] - C[:, :, None], axis=0)  # D[i, j] = min over vertices of c_j - c_i
        N = ng[np.ix_(keep, keep)]
        flat = N <= ZERO_RTOL * (gmag[keep][:, None] + gmag[keep][None, :])
        with np.errstate(divide="ignore", invalid="ignore"):
            dom = ~flat & (D >= CHEB_RTOL / 2 * N)
        keep = keep[~dom.any(axis=1)]
    if keep.size == 1:
        return [(int(keep[0]), R)]
    vals = G[keep] @ R.w + H[keep]
    order = [int(i) for i in np.argsort(-vals, kind="stable")]  # the witness's winner first
    out = []
    for pos_j in order:
        j = int(keep[pos_j])
        rows, rhs, empty = [], [], False
        for i in keep:
            if i == j:
                continue
            dg, dh = G[i] - G[j], H[i] - H[j]
            n = float(_norm(dg))
            if n <= ZERO_RTOL * (gmag[i] + gmag[j]):  # parallel: the difference is constant
                if dh > 0:
                    empty = True
                    break
                continue
            rows.append(dg / n), rhs.append(-dh / n)
        if empty:
            continue
        child = R
        ok = True
        if rows:
            A, b = np.array(rows), np.array(rhs)
            d = float(np.min(b - A @ R.w))
            if d >= R.r:
                child = _Region(np.vstack([R.A, A]), np.concatenate([R.b, b]), R.w, R.r, R.M, R.c, R.bits,
                                _clip(R.V, A, b))
            else:
                A2, b2 = np.vstack([R.A, A]), np.concatenate([R.b, b])
                u, r = geo.cheb(A2, b2)
                ok = u is not None and r > CHEB_RTOL
                if ok:
                    child = _Region(A2, b2, u, r, R.M, R.c, R.bits, _clip(R.V, A, b))
        if ok:
            out.append((j, child))
    if not out:  # every cell thinner than the tolerance: keep the witness's winner
        out.append((int(keep[order[0]]), R))
    if len(out) == 1:  # no cut: the rows are redundant
        return [(out[0][0], R)]
    return out


def _layer(geo: _Geometry, R: _Region, W: np.ndarray, bvec: np.ndarray, u) -> list[_Region]:
    """The children of ``R`` after one lowered layer, with their carriers and pattern bits."""
    G, H = W @ R.M, W @ R.c + bvec
    absW = np.abs(W)
    Gabs = absW @ R.Mabs
    gmag = _norm(absW @ np.abs(R.M), axis=1)
    hmag = absW @ np.abs(R.c) + np.abs(bvec)
    has_v = R.V is not None and R.V.shape[0] > 0
    if u.groups is None:
        units = np.nonzero(u.splitting)[0]
        fixed = {}
        if has_v and units.size:  # units that keep one side on R keep it on every child (one screen)
            n = _norm(G[units], axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                vals = (R.V @ G[units].T + H[units]) / n
            flat = n <= ZERO_RTOL * gmag[units]
            up = ~flat & (vals.min(axis=0) >= -CHEB_RTOL / 2)
            down = ~flat & (vals.max(axis=0) <= CHEB_RTOL / 2)
            fixed = {int(i): True for i in units[up]} | {int(i): False for i in units[down]}
        pieces = [(R, [])]
        for i in units:
            if int(i) in fixed:
                pieces = [(P, sides + [fixed[int(i)]]) for P, sides in pieces]
                continue
            nxt = []
            for P, sides in pieces:
                for side, C in _split_sign(geo, P, G[i], H[i], gmag[i], hmag[i]):
                    nxt.append((C, sides + [side]))
            pieces = nxt
        out = []
        for P, sides in pieces:
            act = np.zeros(G.shape[0], dtype=bool)
            act[units] = sides
            slope = np.where(act, u.positive, u.negative)
            # linear units: equal slopes, side irrelevant
            out.append(_Region(P.A, P.b, P.w, P.r, slope[:, None] * G, slope * H, [*R.bits, act[units]], P.V,
                               np.abs(slope)[:, None] * Gabs))
        return out
    fixed = {}
    if has_v:  # groups whose candidate on top at every vertex beats the others there decide once
        C = R.V @ G.T + H
        for gi, g in enumerate(u.groups):
            if g.size < 2:
                continue
            Cg = C[:, g]
            top = Cg.argmax(axis=1)
            if (top != top[0]).any():
                continue
            w = int(top[0])
            n = _norm(G[g] - G[g[w]], axis=1)
            gap = np.min(Cg[:, [w]] - Cg, axis=0)
            others = np.arange(g.size) != w
            tol = ZERO_RTOL * (gmag[g] + gmag[g[w]])
            if np.all((n[others] > tol[others]) & (gap[others] >= CHEB_RTOL / 2 * n[others])):
                fixed[gi] = w
    pieces = [(R, [])]
    for gi, g in enumerate(u.groups):
        if g.size < 2:
            continue
        if gi in fixed:
            pieces = [(P, sel + [(gi, fixed[gi])]) for P, sel in pieces]
            continue
        nxt = []
        for P, sel in pieces:
            for j, C in _split_max(geo, P, G[g], H[g], gmag[g], hmag[g]):
                nxt.append((C, sel + [(gi, j)]))
        pieces = nxt
    out = []
    for P, sel in pieces:
        pick = np.array([int(g[0]) for g in u.groups])
        bits = []
        chosen = dict(sel)
        for gi, g in enumerate(u.groups):
            if g.size < 2:
                continue
            j = chosen[gi]
            pick[gi] = int(g[j])
            bits.append(np.arange(g.size) == j)
        bits = np.concatenate(bits) if bits else np.zeros(0, dtype=bool)
        out.append(_Region(P.A, P.b, P.w, P.r, G[pick], H[pick], [*R.bits, bits], P.V, Gabs[pick]))
    return out


#: Edges shorter than this (normalised coordinates, domain scale 1) carry no adjacency; two edges
#: are on one line when their end points are within it of each other's line.
EDGE_TOL = 1e-9


def _shares_edge(P: np.ndarray, Q: np.ndarray) -> bool:
    """Whether the convex counter-clockwise polygons ``P`` and ``Q`` share an edge of positive length."""
    dP, dQ = np.roll(P, -1, 0) - P, np.roll(Q, -1, 0) - Q
    lP, lQ = np.linalg.norm(dP, axis=1), np.linalg.norm(dQ, axis=1)
    okP, okQ = lP > EDGE_TOL, lQ > EDGE_TOL
    P0, dP, lP = P[okP], dP[okP] / lP[okP, None], lP[okP]
    Q0, Q1 = Q[okQ], np.roll(Q, -1, 0)[okQ]
    dQ = dQ[okQ] / lQ[okQ, None]
    nP = np.stack([dP[:, 1], -dP[:, 0]], 1)
    opposite = (dP @ dQ.T) <= -1 + 1e-9                                   # (eP, eQ)
    on0 = np.abs(np.einsum("ik,jk->ij", nP, Q0) - np.sum(nP * P0, 1)[:, None]) <= EDGE_TOL
    on1 = np.abs(np.einsum("ik,jk->ij", nP, Q1) - np.sum(nP * P0, 1)[:, None]) <= EDGE_TOL
    t0 = np.einsum("ik,jk->ij", dP, Q0) - np.sum(dP * P0, 1)[:, None]      # along P's edge
    t1 = np.einsum("ik,jk->ij", dP, Q1) - np.sum(dP * P0, 1)[:, None]
    lo = np.maximum(np.minimum(t0, t1), 0.0)
    hi = np.minimum(np.maximum(t0, t1), lP[:, None])
    return bool(np.any(opposite & on0 & on1 & (hi - lo > EDGE_TOL)))


def _pieces_2d(polys: list, J: np.ndarray, Jabs: np.ndarray) -> np.ndarray:
    """Piece labels: connected components of regions that share an edge and have one output map.

    Maps are equal when ``|J_r - J_s| <= PIECE_RTOL (|J|_r + |J|_s)`` entrywise, as in the
    other engines; only pairs with equal maps are tested for a shared edge.
    """
    R = J.shape[0]
    Jf, Af = J.reshape(R, -1), Jabs.reshape(R, -1)
    r1, r2 = [], []
    step = max(1, (1 << 22) // max(1, R * Jf.shape[1]))
    for i0 in range(0, R, step):
        i = np.arange(i0, min(R, i0 + step))
        eq = np.all(np.abs(Jf[i, None, :] - Jf[None, :, :]) <= PIECE_RTOL * (Af[i, None, :] + Af[None, :, :]), axis=2)
        a, b = np.nonzero(eq)
        a = i[a]
        keep = a < b
        for x, y in zip(a[keep], b[keep]):
            if _shares_edge(polys[x], polys[y]):
                r1.append(x), r2.append(y)
    labels, _ = merge_pieces(R, np.array(r1, dtype=np.intp), np.array(r2, dtype=np.intp))
    return np.asarray(labels)


def _centre(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The Chebyshev centre of the bounded polytope ``A t <= b`` (scipy's HiGHS)."""
    from scipy.optimize import linprog  # noqa: PLC0415

    n = np.linalg.norm(A, axis=1)
    k = A.shape[1]
    res = linprog(np.append(np.zeros(k), -1.0), A_ub=np.hstack([A, n[:, None]]), b_ub=b,
                  bounds=[(None, None)] * k + [(0, None)], method="highs")
    if res.status != 0:
        raise RegionsError(f"expected a bounded region with an interior, got LP status {res.status}")
    return res.x[:k]


@dataclass(eq=False)
class OpLPPartition:
    """Activation regions of an op network found by Chebyshev LPs.

    Attributes
    ----------
    network : Graph
    domain : Domain
    patterns : ndarray of bool, shape (R, n_bits)
    witnesses : ndarray, shape (R, k)
        An interior point of each region (parameter coordinates), off the
        box faces: the ball of its radius lies in the region and in the box.
    radii : ndarray, shape (R,)
        Certified radius around the witness (units of the domain scale, capped at 1), positive.
    layer_counts : tuple of int
        Regions after each lowered layer.
    partial : bool
    lps : int
    """

    network: object
    domain: Domain
    patterns: np.ndarray
    witnesses: np.ndarray
    radii: np.ndarray
    layer_counts: tuple
    partial: bool = False
    lps: int = 0
    engine: str = "lp"
    _J: np.ndarray = field(default=None, repr=False)
    _c: np.ndarray = field(default=None, repr=False)
    _H: list = field(default=None, repr=False)
    _n_pieces: int | None = None
    _V: list | None = field(default=None, repr=False)
    _labels: np.ndarray | None = field(default=None, repr=False)
    _bounded: np.ndarray | None = field(default=None, repr=False)
    _Jabs: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_regions(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def n_pieces(self) -> int | None:
        """Affine pieces (neighbours sharing an edge or facet with one output map merged); None for a
        partial partition."""
        return self._n_pieces

    @property
    def piece_labels(self) -> np.ndarray:
        """The affine piece of every region (complete partitions; see :attr:`n_pieces`)."""
        if self._labels is None:
            raise RegionsError(f"expected a complete partition for piece labels, got a partial one of a "
                               f"{self.domain.dim}-D {self.domain.kind}")
        return self._labels

    def polygons(self) -> list[np.ndarray]:
        """Every region as a convex counter-clockwise polygon ``(p, 2)`` in parameter coordinates.

        Kept by the walk in bounded 2-D domains (each region's polygon is the
        domain's clipped by the region's rows); refused elsewhere.
        """
        if self._V is None:
            raise RegionsError(f"expected a bounded 2-D domain for region polygons, got a "
                               f"{self.domain.dim}-D {self.domain.kind}"
                               + ("" if self.domain.bounded else " (unbounded)"))
        return list(self._V)

    def output_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """``(J, c)``: output ``= J[i] @ t + c[i]`` on region ``i`` (parameter coordinates)."""
        return self._J, self._c

    def hrep(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Region ``i`` as ``A t <= b`` in parameter coordinates (box sides included where finite)."""
        A, b, centre, s = self._H[i]
        k = A.shape[1]
        lo, hi = self.domain.lo, self.domain.hi
        E = np.eye(k)
        fl, fh = np.isfinite(lo), np.isfinite(hi)
        At = np.vstack([A / s, -E[fl], E[fh]])
        bt = np.concatenate([b + A @ centre / s, -lo[fl], hi[fh]])
        return At, bt

    @property
    def measures(self) -> np.ndarray:
        """Volumes (qhull), ``k <= 6``; inf where the domain is unbounded."""
        k = self.domain.dim
        if not self.domain.bounded:
            return np.full(self.n_regions, np.inf)
        return hrep_volumes(self.hrep, self.n_regions, k, lambda i, A, b: _centre(A, b))

    def points(self) -> np.ndarray:
        return self.domain.to_input(self.witnesses)

    @property
    def bounded(self) -> np.ndarray | None:
        """Whether each region is bounded (complete partitions of unbounded domains; None elsewhere)."""
        return self._bounded

    def count(self) -> CountResult:
        nb = None if self._bounded is None else int(np.count_nonzero(self._bounded))
        return CountResult(self.n_regions, self.n_pieces, list(self.layer_counts), self.engine, self.partial,
                           bounded=nb, unbounded=None if nb is None else self.n_regions - nb)

    def verify(self, low: Lowered | None = None) -> dict:
        """Checks: patterns unique; each witness reproduces its pattern; volumes sum to the domain's."""
        low = lower(self.network) if low is None else low
        pats = low.patterns(self.points())
        bad = int(np.count_nonzero(np.any(pats != self.patterns, axis=1)))
        unique = len({p.tobytes() for p in self.patterns}) == self.n_regions
        out = {"witness_mismatches": bad, "unique_patterns": unique}
        if self.domain.bounded and self.domain.dim <= 6 and not self.partial:
            total = float(self.measures.sum())
            out["measure_rel_error"] = abs(total - self.domain.measure) / self.domain.measure
        if bad or not unique or out.get("measure_rel_error", 0.0) > 1e-6:
            raise VerificationError(f"expected a consistent partition, got {out}")
        return out


def _interior_witnesses(geo: _Geometry, regions: list) -> tuple[np.ndarray, np.ndarray]:
    """Witnesses ``(R, k)`` strictly inside their regions *and* the box, with certified radii ``(R,)``.

    The walk's Chebyshev radius counts the box as variable bounds, so a
    witness may lie on a box face.  Where the witness's ball leaves the box
    (distance to a finite side below its radius), the region's Chebyshev
    centre is recomputed with the box sides as rows: a ball of positive
    radius inside the region and the box.
    """
    k = geo.k
    W = np.array([R.w for R in regions]).reshape(len(regions), k)
    r = np.array([R.r for R in regions], dtype=float)
    fl, fh = np.isfinite(geo.lo), np.isfinite(geo.hi)
    if not (fl.any() or fh.any()) or not regions:
        return W, r
    E = np.eye(k)
    Ab = np.vstack([-E[fl], E[fh]])
    bb = np.concatenate([-geo.lo[fl], geo.hi[fh]])
    d = np.min(bb[None, :] - W @ Ab.T, axis=1)  # distance to the nearest finite side
    for i in np.nonzero(d < r)[0]:
        R = regions[i]
        u, ri = geo.cheb(np.vstack([R.A, Ab]), np.concatenate([R.b, bb]))
        if u is None or not ri > 0:
            raise RegionsError(f"expected region {int(i)} to have an interior inside the box, got radius {ri!r}")
        W[i], r[i] = u, ri
    return W, np.minimum(r, np.min(bb[None, :] - W @ Ab.T, axis=1))


def partition_lp_ops(low: Lowered, domain: Domain, *, network=None,
                     max_regions: int | None = None, pieces: bool = True) -> OpLPPartition:
    """The activation regions of a lowered op network on ``domain``, exactly (see the module docstring).

    Parameters
    ----------
    low : Lowered
        From :func:`regions.model.ops.lower`.
    domain : Domain
        A box (bounded or not, any dimension), an affine slice, or a polygon.
    network : Graph, optional
        Recorded on the partition (for ``verify``).
    max_regions : int, optional
        Stop after the first layer with more regions than this (``partial``).
    pieces : bool, keyword-only
        False skips the affine pieces and the bounded/unbounded split (both
        None; :mod:`..ops_wide` joins pieces on a box of its own).
    """
    W0, b0 = low.layers[0]
    if domain.basis is not None:
        if W0.shape[1] != domain.input_dim:
            raise RegionsError(f"expected a network with {domain.input_dim} inputs, got {W0.shape[1]}")
        W0, b0 = W0 @ domain.basis, b0 + W0 @ domain.origin
    elif W0.shape[1] != domain.dim:
        raise RegionsError(f"expected a network with {domain.dim} inputs for this {domain.kind}, got {W0.shape[1]}")
    scale = None
    if not (np.isfinite(domain.lo).any() or np.isfinite(domain.hi).any()):  # all of R^k: the network's scale
        scale = _whole_scale(W0, b0, low.units[0]) if low.units else 1.0
    geo = _Geometry(domain, scale)
    k = geo.k
    # t = centre + s u: the first layer in u coordinates
    layers = [(W0 * geo.s, b0 + W0 @ geo.centre), *low.layers[1:]]
    u0, r0 = geo.cheb(geo.A0, geo.b0)
    if u0 is None or r0 <= CHEB_RTOL:
        raise RegionsError(f"expected a domain with an interior, got a degenerate {domain.kind}")
    V0 = None
    if k == 2 and geo.bounded:  # the box (or polygon) as a polygon: vertex screens spare most LPs
        V0 = _clip(np.array([[geo.lo[0], geo.lo[1]], [geo.hi[0], geo.lo[1]], [geo.hi[0], geo.hi[1]],
                             [geo.lo[0], geo.hi[1]]]), geo.A0, geo.b0)
    regions = [_Region(geo.A0, geo.b0, u0, r0, np.eye(k), np.zeros(k), [], V0, np.eye(k))]
    counts, partial = [], False
    for (W, bvec), u in zip(layers[:-1], low.units):
        nxt = []
        for R in regions:
            nxt.extend(_layer(geo, R, W, bvec, u))
        regions = nxt
        counts.append(len(regions))
        if max_regions is not None and len(regions) > max_regions:
            partial = True
            break
    n_pieces = labels = polys = Jabs = None
    if V0 is not None:
        polys = [geo.centre + geo.s * R.V for R in regions]
    if partial:
        J = c = None
    else:
        W, bvec = layers[-1]
        J = np.stack([W @ R.M for R in regions]) / geo.s
        c = np.stack([W @ R.c + bvec for R in regions]) - np.einsum("rok,k->ro", J, geo.centre)
        Jabs = np.stack([np.abs(W) @ R.Mabs for R in regions]) / geo.s
        if pieces and V0 is not None:
            labels = _pieces_2d([R.V for R in regions], J, Jabs)
        elif pieces:
            labels = _pieces_lp(geo, regions, J, Jabs,
                                np.array([np.concatenate(R.bits) if R.bits else np.zeros(0, dtype=bool)
                                          for R in regions], dtype=bool).reshape(len(regions), -1))
        n_pieces = None if labels is None else int(labels.max()) + 1 if labels.size else 0
    bounded = None if partial or domain.bounded or not pieces else _bounded_flags(geo, regions)
    W_, r_ = _interior_witnesses(geo, regions)
    pats = [np.concatenate(R.bits) if R.bits else np.zeros(0, dtype=bool) for R in regions]
    return OpLPPartition(
        network=network, domain=domain,
        patterns=np.array(pats, dtype=bool).reshape(len(regions), -1),
        witnesses=geo.centre + geo.s * W_,
        radii=r_,
        layer_counts=tuple(counts), partial=partial, lps=geo.n_lps, _n_pieces=n_pieces, _V=polys, _labels=labels,
        _J=J, _c=c, _H=[(R.A, R.b, geo.centre, geo.s) for R in regions], _bounded=bounded,
        _Jabs=Jabs,
    )
