"""The LP engine: activation regions in high-dimensional boxes, one region at a time.

Definition
----------
As for the other engines: an activation region is a maximal connected open
set on which every hidden unit keeps one state, active (pre-activation
``> 0``) or inactive (``<= 0``).  A unit splits a region only if *both*
open sides have an interior; a hyperplane that only touches a region, or a
unit identically zero on it, splits nothing.

Representation
--------------
A region is held by its H-representation: one row per hidden unit whose
sign was decided by a screen or an LP (the unit's local pre-activation,
normalised to unit norm, with the sign of the pattern), plus a small pool
of interior points with certified radii.  The domain box enters every LP
as variable bounds, never as rows.  Coordinates are normalised first:
``u = (x - x0) / s`` with ``s`` = :attr:`regions.domains.Domain.scale`, so
the box has sides at most 1.

Interior test
-------------
A side has an interior iff its *Chebyshev radius* exceeds
:data:`regions.core.tolerances.CHEB_RTOL` (relative to the domain scale):
the largest ``r`` such that some ``u`` in the box satisfies
``a_i . u + r <= b_i`` for every (unit-norm) row, ``r`` capped at 1 (one
domain scale; this also bounds the LP on unbounded domains).  The radius is
*certified*: it is recomputed in float64 from the point the LP returns, so
solver tolerances can only make it smaller.
``CHEB_RTOL`` only separates the comfortable cases from the doubtful ones:
every decision is certified or refused by :mod:`.certify` (a radius
above its rounding bound, or an interior point checked in rational
arithmetic; an empty side by a Farkas certificate checked with error
bounds or in rationals), so a feature thinner than the tolerance is
counted, never merged (:class:`~regions.errors.NumericalError` where
neither float64 nor the exact checks can decide).

Screens before any LP, in order:

* a unit whose local gradient is zero (to ``ZERO_RTOL`` of its magnitude)
  is constant on the region: its state is the sign of its constant;
* interval bounds of the unit over the box: if its maximum over the box
  is ``<= CHEB_RTOL`` (normalised) the positive side has no interior, and
  symmetrically;
* signs at the known interior points: a point with radius ``rp`` where the
  normalised value is ``s`` certifies a radius ``min(rp, s)`` on the
  positive side.

* a Farkas certificate recorded for the same unit under the same layer
  region (the rows of an earlier infeasible LP's dual ray, checked in
  float64 before it is kept: ``min over the domain of (y A) u > y b``)
  whose rows are all among this region's: the side is empty;
* pool points moved across the hyperplane (mirror images, and a point
  inside a pool point's certified ball when the hyperplane cuts it);
* from :data:`SEGMENT_DIM` dimensions on (bounded boxes), a few ascent
  steps of the radius along segments from pool points to box vertices
  (:meth:`_Walk._segment`; every point of such a segment is in the box,
  and the radius of the point kept is recomputed in float64).

Only the sides no screen decides get an LP (HiGHS through ``highspy``),
re-solved warm on one model kept in step with the depth-first walk (see
:class:`_LP`); a solve that does not end optimal or infeasible is repeated
on a fresh model in the original coordinates before it is refused.

Cross-polytopes
---------------
With ``cross=True`` the domain is the cross-polytope inscribed in the box,
``sum_i |u_i| / h_i <= 1`` (normalised coordinates, centre 0, half-sides
``h``), entered through ``k`` auxiliary columns ``w_i >= |u_i| / h_i`` and
one row ``sum w <= 1``; screens use ``c +- max_i |a_i| h_i``.

The walk is depth-first (memory bounded by the depth times the pool of
points), so counting never holds the regions.

This module holds the walk and the public functions; the HiGHS instance
the walk keeps in step lives in :mod:`.solver`, the result
(:class:`LPPartition`) in :mod:`.result`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.result import CountResult
from ...core.tolerances import CHEB_RTOL, EPS, ZERO_RTOL
from ...domains import Domain
from ...errors import NumericalError, RegionsError
from ...model.network import Network
from .certify import Certifier
from .result import LPPartition
from .solver import _LP  # noqa: F401 -- _LP re-exported for .ops and the tests

__all__ = ["LPPartition", "count_lp", "partition_lp"]

#: Interior points kept per region (most recent first).
POOL = 12

#: From this dimension on, :meth:`_Walk._segment` looks for interior points before an LP.  An LP
#: over many bounded columns takes tens of HiGHS iterations of ~0.1 ms (784-D: 2.6 ms), the ascent
#: a few dozen small products; measured (benchmarks/lp.md): it saves 43% of the LPs and 15-20% of
#: the CPU time in 784-D, and costs 10-20% at 10-D and on 64-D boxes around data points.
SEGMENT_DIM = 128


def _row_space(W: np.ndarray) -> np.ndarray | None:
    """Orthonormal rows spanning the first layer's row space when its rank is at most half the dimension."""
    k = W.shape[1]
    if W.shape[0] > k // 2:
        return None
    _, sv, Vt = np.linalg.svd(W, full_matrices=False)
    r = int(np.count_nonzero(sv > max(W.shape) * EPS * (sv[0] if sv.size else 0.0)))
    return Vt[:max(r, 1)] if r < k else None


def _certified(A: np.ndarray, b: np.ndarray, u: np.ndarray) -> float:
    """The radius certified at ``u``: ``min(1, min_i b_i - A_i u)`` (rows of unit norm)."""
    if A.shape[0] == 0:
        return 1.0
    return float(min(1.0, np.min(b - A @ u)))


@dataclass
class _Frame:
    A: np.ndarray          # (m, k) unit-norm rows
    b: np.ndarray          # (m,)
    P: np.ndarray          # (p, k) interior points
    rp: np.ndarray         # (p,) certified radii
    layer: int
    unit: int              # next unit of the layer to decide
    maps: tuple            # (A_l, c_l, MA_l, Mc_l) of the current layer
    pat: list              # bool arrays of the finished layers + the current one
    weight: float
    ids: list = field(default_factory=list)  # row ids (shared prefixes: the LP re-solves warm)
    basis: tuple | None = None  # the optimal basis of the last LP on this region's path (see _LP._warm)


class _Walk:
    def __init__(self, net: Network, domain: Domain, cross: bool = False):
        k = domain.dim
        self.k = k
        lo, hi = domain.lo, domain.hi
        s = domain.scale
        with np.errstate(invalid="ignore"):  # -inf + inf where unbounded: replaced below
            x0 = np.where(np.isfinite(lo) & np.isfinite(hi), 0.5 * (lo + hi),
                          np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi, 0.0)))
        x0 = np.where(np.isfinite(x0), x0, 0.0)
        self.x0, self.s = x0, s
        self.lo = (lo - x0) / s
        self.hi = (hi - x0) / s
        pulled = domain.pullback(net)
        W0, b0 = pulled.layers[0]
        self.layers = [(W0 * s, b0 + W0 @ x0)] + list(pulled.layers[1:])
        self.slope = pulled.negative_slope
        self.depth = len(self.layers) - 1
        # the inscribed cross-polytope sum |u_i| / half_i <= 1 (the centre is 0 after normalising)
        self.half = 0.5 * (self.hi - self.lo) if cross else None
        self.lp = _LP(k, self.lo, self.hi, _row_space(self.layers[0][0]), self.half)
        self.stride = 2 * max(W.shape[0] for W, _ in self.layers)  # row ids: see _rid
        self.certs: dict = {}  # (layer region key, unit, side) -> row-id sets of Farkas certificates
        self.reused = 0
        self.next_key = 0
        self.near = 0
        self.mirrors = 0
        self.finite = bool(np.all(np.isfinite(self.lo)) and np.all(np.isfinite(self.hi)))
        self.segments = 0
        # segments pay where an LP is dear (many columns); bounded boxes only
        self.seg_steps = 4 if k >= SEGMENT_DIM and cross is False and self.finite else 0
        self.weights = np.array([0.0, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0])
        self.alphas = np.unique(np.concatenate([np.geomspace(1e-4, 1.0, 24), np.linspace(0.0, 1.0, 33)[1:]]))
        self.finite = bool(np.all(np.isfinite(self.lo)) and np.all(np.isfinite(self.hi)))
        self.tol = CHEB_RTOL
        self.cert = Certifier(self, net, domain, cross)  # certified decisions (see .certify)

    def _rid(self, fr: _Frame, j: int, side: float) -> int:
        """The id of the row keeping side ``side`` of unit ``j`` under ``fr``'s layer region.

        A function of (layer region, unit, side) only: equal ids are equal
        rows, so the LP model keeps every row two regions share (whatever
        path reached them) and a Farkas certificate transfers to every
        region of the same layer region that holds its rows.
        """
        return fr.key * self.stride + 2 * j + (side > 0)

    # ------------------------------------------------------------- maps
    def _first(self):
        W, b = self.layers[0]
        return W, b, np.abs(W), np.abs(b)

    def _next(self, l: int, maps, act: np.ndarray):
        A, c, MA, Mc = maps
        f = np.where(act, 1.0, self.slope)
        W, b = self.layers[l]
        aW = np.abs(W)
        return (W @ (f[:, None] * A), W @ (f * c) + b, aW @ (np.abs(f)[:, None] * MA),
                aW @ (np.abs(f) * Mc) + np.abs(b))

    # ------------------------------------------------------------- screen
    def _screen(self, maps, bounds=None):
        """States decided for the whole box: +1 active, -1 inactive, 0 undecided; and a row flag.

        ``bounds`` (from :meth:`_bounds`) tighten the box's interval where
        the region's earlier unit states make it narrower.
        """
        A, c, MA, Mc = maps
        norm = np.linalg.norm(A, axis=1)
        zero = norm <= ZERO_RTOL * np.linalg.norm(MA, axis=1)
        state = np.zeros(A.shape[0], dtype=np.int8)
        state[zero] = np.where(c[zero] > ZERO_RTOL * Mc[zero], 1, -1)
        if self.half is not None:  # over the cross-polytope: c +- max_i |A_i| half_i
            ext = np.max(np.abs(A) * self.half, axis=1)
            up, dn = c + ext, c - ext
        else:
            with np.errstate(invalid="ignore"):
                up = np.where(A > 0, A * self.hi, np.where(A < 0, A * self.lo, 0.0)).sum(axis=1) + c
                dn = np.where(A > 0, A * self.lo, np.where(A < 0, A * self.hi, 0.0)).sum(axis=1) + c
        if bounds is not None:
            with np.errstate(invalid="ignore"):
                up = np.where(np.isnan(bounds[1]), up, np.minimum(up, bounds[1]))
                dn = np.where(np.isnan(bounds[0]), dn, np.maximum(dn, bounds[0]))
        nz = ~zero
        safe = np.where(nz, norm, 1.0)
        inact = nz & (up / safe <= self.tol)
        act = nz & (dn / safe >= -self.tol)
        state[inact] = -1
        state[act & ~inact] = 1
        self._updn = (up, dn, zero)  # for Certifier.enter
        # a row is needed where the decided side is not strictly the whole box
        row = (inact & (up > 0)) | (act & ~inact & (dn <= 0))
        return state, row, norm

    # --------------------------------------------------------------- run
    def run(self, emit, max_regions, progress):
        k = self.k
        tqdm = None
        if progress:
            try:
                from tqdm.auto import tqdm  # noqa: PLC0415
            except ImportError:  # pragma: no cover
                tqdm = None
        bar = tqdm(total=100.0, unit="%", desc="lp engine (share of the search tree)",
                   bar_format="{l_bar}{bar}| {n:.1f}/{total:.0f}% {postfix}") if tqdm else None
        counts = [0] * self.depth
        p0 = np.clip(np.zeros(k), self.lo, self.hi)[None, :]
        root = _Frame(np.zeros((0, k)), np.zeros(0), p0, np.ones(1), 0, 0, self._first(), [], 1.0)
        stack = [root]
        found = 0
        stopped = False
        self._enter(root)
        while stack:
            if max_regions is not None and found > max_regions:
                stopped = True
                break
            fr = stack.pop()
            while True:
                W = fr.maps[0]
                if fr.unit == W.shape[0]:
                    counts[fr.layer] += 1
                    if fr.layer == self.depth - 1:
                        found += 1
                        emit(fr)
                        if bar is not None:
                            bar.update(100.0 * fr.weight)
                            bar.set_postfix_str(f"{found} regions, {self.lp.n} LPs", refresh=False)
                        break
                    act = fr.pat[-1] > 0
                    fr.maps = self._next(fr.layer + 1, fr.maps, act)
                    fr.layer += 1
                    fr.unit = 0
                    self._enter(fr)
                    continue
                other = self._decide(fr)
                if other is not None:
                    stack.append(other)
        if bar is not None:
            bar.close()
        return counts, stopped, found, len(stack)

    def _bounds(self, fr: _Frame):
        """Interval bounds of the current layer's pre-activations over the box and the finished layers' signs.

        Interval arithmetic layer by layer (centre and radius; the first
        layer exactly over the box or cross-polytope), each finished layer's
        interval clipped to its unit states (active: ``>= 0``, inactive:
        ``<= 0``) before the activation: every point of the closure of the
        region (in the domain) lies within the bounds.  Returns ``(low,
        high)`` or None on the first layer (the box screen is exact there).
        """
        if fr.layer == 0:
            return None
        W, b = self.layers[0]
        if self.half is not None:
            rad = np.max(np.abs(W) * self.half, axis=1)
            mid = b
        else:
            with np.errstate(invalid="ignore"):
                mid = b + W @ np.where(np.isfinite(self.lo + self.hi), 0.5 * (self.lo + self.hi), 0.0)
                half = 0.5 * (self.hi - self.lo)
                rad = np.where(W != 0, np.abs(W) * half, 0.0).sum(axis=1)
        lo, hi = mid - rad, mid + rad
        slope = self.slope
        with np.errstate(invalid="ignore"):  # 0 * inf on unbounded domains: nan, ignored by _screen
            return self._propagate(fr, lo, hi, slope)

    def _propagate(self, fr: _Frame, lo: np.ndarray, hi: np.ndarray, slope: float):
        """The interval arithmetic of :meth:`_bounds` through the finished layers."""
        for l in range(fr.layer):
            act = fr.pat[l] > 0
            # clip to the unit's state (widened where tolerance slivers invert an interval), then activate
            lo_a = np.maximum(lo, 0.0)
            hi_a = np.maximum(hi, lo_a)
            hi_i = np.minimum(hi, 0.0)
            lo_i = np.minimum(lo, hi_i)
            lo = np.where(act, lo_a, np.minimum(slope * lo_i, slope * hi_i))
            hi = np.where(act, hi_a, np.maximum(slope * lo_i, slope * hi_i))
            W, b = self.layers[l + 1]
            m, r = 0.5 * (lo + hi), 0.5 * (hi - lo)
            mid = W @ np.where(np.isfinite(m), m, 0.0) + b
            rad = np.where(W != 0, np.abs(W) * r, 0.0).sum(axis=1)
            lo, hi = mid - rad, mid + rad
        return lo, hi

    def _enter(self, fr: _Frame) -> None:
        """Start a layer: screen all its units over the box, values at the pool points."""
        state, row, norm = self._screen(fr.maps, self._bounds(fr))
        self.cert.enter(fr, state, row, norm, self._updn)
        fr.key = self.next_key  # the units' maps are shared by the frames below this layer region
        self.next_key += 1
        if len(self.certs) > 200_000:  # bounded memory: forget old certificates
            self.certs.clear()
        fr.pat.append(state.astype(np.int8))
        fr.norm = norm
        fr.row = row
        A, c = fr.maps[0], fr.maps[1]
        fr.S = (fr.P @ A.T + c) / np.where(norm > 0, norm, 1.0)  # (p, n)

    def _decide(self, fr: _Frame):
        """Decide unit ``fr.unit``; on a split return the second child (fr becomes the first)."""
        j = fr.unit
        fr.unit += 1
        st = fr.pat[-1][j]
        A, c = fr.maps[0], fr.maps[1]
        tol = self.tol
        if st != 0:
            if fr.row[j]:
                a = A[j] / fr.norm[j]
                sg = -1.0 if st > 0 else 1.0
                self._add_row(fr, sg * a, -sg * c[j] / fr.norm[j], self._rid(fr, j, -sg))
            return None
        a = A[j] / fr.norm[j]
        cj = c[j] / fr.norm[j]
        s = fr.S[:, j]
        pos = float(np.max(np.minimum(fr.rp, s), initial=-np.inf))
        neg = float(np.max(np.minimum(fr.rp, -s), initial=-np.inf))
        newp = {}
        for side, known in ((1.0, pos), (-1.0, neg)):
            if known > tol:
                continue
            # side +1: z > 0, row -a.u <= cj ; side -1: z < 0, row a.u <= -cj
            if self._empty_known(fr, j, side):  # a set lookup: before the mirrors' products
                rc = -np.inf
                if side > 0:
                    pos = rc
                else:
                    neg = rc
                continue
            found = self._mirror_ball(fr, a, cj, s, side)
            if found is None:
                found = self._mirror_rows(fr, a, cj, s, side)
            if found is None:
                found = self._segment(fr, a, cj, s, side)
            if found is not None:
                newp[side] = found
                if side > 0:
                    pos = found[1]
                else:
                    neg = found[1]
                continue
            lp_id = self._rid(fr, j, side)
            u, rstar = self.lp.solve(fr.ids, fr.A, fr.b, -side * a, side * cj, lp_id, fr.basis)
            if u is None:
                u, rc = self.cert.infeasible(fr, j, side, a, cj)  # certified empty, or an exact interior point
                if u is not None:
                    newp[side] = (u, rc)
            else:
                u = self._into(u)
                rc = min(_certified(fr.A, fr.b, u), float(side * cj + side * (a @ u)))
                if rc > 0.25 * tol and rc < 4 * tol or (rstar > tol) != (rc > tol):
                    self.near += 1
                if rc <= tol:
                    u, rc = self.cert.thin(fr, j, side, a, cj, u, rc)
                if rc > 0:
                    newp[side] = (u, rc, lp_id, self.lp.basis())
            if side > 0:
                pos = rc
            else:
                neg = rc
        pos, neg = self.cert.settle(fr, j, a, cj, s, pos, neg, newp)  # > 0: certified interior
        if pos > 0 and neg > 0:
            other = _Frame(fr.A, fr.b, fr.P, fr.rp, fr.layer, fr.unit, fr.maps,
                           [p.copy() for p in fr.pat], fr.weight / 2)
            other.norm, other.row, other.S, other.ids = fr.norm, fr.row, fr.S, list(fr.ids)
            other.key, other.basis = fr.key, fr.basis
            other.mcx, other.cerr, other.cerr_ab = fr.mcx, fr.cerr, getattr(fr, "cerr_ab", None)
            fr.weight /= 2
            self._restrict(fr, a, cj, j, 1.0, newp.get(1.0))
            self._restrict(other, a, cj, j, -1.0, newp.get(-1.0))
            return other
        if pos <= 0 and neg <= 0:
            raise NumericalError(
                f"expected a region with an interior to keep one on some side of unit {j} of layer "
                f"{fr.layer + 1}, got Chebyshev radii {pos:.3g} and {neg:.3g} on both (tolerance {tol:.3g})"
            )
        self._restrict(fr, a, cj, j, 1.0 if pos > 0 else -1.0, newp.get(1.0 if pos > 0 else -1.0))
        return None

    def _into(self, u: np.ndarray) -> np.ndarray:
        """An LP point moved into the domain (clipped to the box; scaled into the cross-polytope)."""
        u = np.clip(u, self.lo, self.hi)
        if self.half is not None:
            l1 = float(np.sum(np.abs(u) / self.half))
            if l1 > 1.0:
                u = u / l1
        return u

    def _low(self, g: np.ndarray) -> float:
        """The minimum of ``g . u`` over the domain (box or cross-polytope)."""
        if self.half is not None:
            return -float(np.max(np.abs(g) * self.half))
        with np.errstate(invalid="ignore"):  # 0 * inf: a zero coefficient on an unbounded side adds 0
            low = np.where(g > 0, g * self.lo, np.where(g < 0, g * self.hi, 0.0))
        return float(np.sum(low))

    def _empty_known(self, fr: _Frame, j: int, side: float) -> bool:
        """Whether a recorded Farkas certificate (rows all among the region's) empties this side."""
        certs = self.certs.get((fr.key, j, side))
        if not certs:
            return False
        have = set(fr.ids)
        for need in certs:
            if need <= have:
                self.reused += 1
                return True
        return False

    def _mirror_rows(self, fr: _Frame, a, cj, s, side):
        """A point on side ``side`` without an LP: pool points moved across the hyperplane.

        For a pool point at normalised value ``s_p`` on the other side, try
        ``p - (s_p - side t) a`` (its value becomes ``side * t``) for ``t`` in
        ``|s_p|`` (the mirror image), ``min(r_p, |s_p|)`` and, where the
        hyperplane cuts the point's certified ball (``|s_p| < r_p``),
        ``(r_p - |s_p|) / 2`` (then the candidate keeps a radius of at least
        ``t``).  Candidates are clipped to the box and their radius is
        recomputed in float64 (rows, the new row, the cap 1); the best one
        above the tolerance is used.  Returns ``(u, radius)`` or None.
        """
        other = -side * s > self.tol
        if not other.any():
            return None
        P, sv, rp = fr.P[other], s[other], fr.rp[other]
        asv = np.abs(sv)
        t = np.concatenate([asv, np.minimum(rp, asv), np.maximum(0.5 * (rp - asv), 0.0)])
        base = np.concatenate([P, P, P])
        sv3 = np.concatenate([sv, sv, sv])
        Q = np.clip(base - (sv3 - side * t)[:, None] * a[None, :], self.lo, self.hi)
        rad = np.minimum(side * (Q @ a + cj), 1.0)
        if self.half is not None:
            rad = np.where(np.sum(np.abs(Q) / self.half, axis=1) <= 1.0, rad, -np.inf)
        if fr.A.shape[0]:
            rad = np.minimum(rad, np.min(fr.b[None, :] - Q @ fr.A.T, axis=1))
        i = int(np.argmax(rad))
        if rad[i] > self.tol:
            self.mirrors += 1
            return Q[i], float(rad[i])
        return None

    def _segment(self, fr: _Frame, a, cj, s, side):
        """A point on side ``side`` without an LP: ascent along segments from pool points to box vertices.

        The radius ``phi(x) = min(1, side * (a x + cj), min_i b_i - A_i x)``
        is concave; from the best pool points, a few steps each move to the
        best point (on a grid of step lengths) of the segments towards the
        box vertices maximising ``side * a`` minus the mean of the rows
        tight at the current point (and of all rows).  Every point of such a
        segment lies in the box; the radius of the result is recomputed in
        float64.  Returns ``(u, radius)`` or None.
        """
        if not self.seg_steps:
            return None
        A, b = fr.A, fr.b
        m = A.shape[0]
        g = side * a
        al = self.alphas
        # values at x: x @ B + c0 = (side * (a x + cj), slacks b - A x)
        B = np.concatenate([g[:, None], -A.T], axis=1)
        c0 = np.append(side * cj, b)
        X = fr.P[np.argsort(-fr.rp)[:2]]
        VX = X @ B + c0
        wts = self.weights[:, None, None]
        extra = (g - A.mean(axis=0))[None, :] if m else np.zeros((0, g.size))
        best, bx = -np.inf, None
        for _ in range(self.seg_steps):
            if m:
                lim = VX.min(axis=1)
                tight = VX[:, 1:] <= np.maximum(2 * lim, 0.0)[:, None] + self.tol
                T = (tight @ A) / np.maximum(tight.sum(axis=1), 1)[:, None]
                D = np.concatenate([(g - wts * T[None]).reshape(-1, g.size), extra])
            else:
                D = g[None, :]
            Q = np.where(D > 0, self.hi, self.lo)  # the box vertices maximising each direction
            rep = np.arange(D.shape[0]) % X.shape[0] if m else np.zeros(1, dtype=int)
            V0 = VX[rep]
            dV = Q @ B + c0 - V0
            val = np.minimum((V0[:, None, :] + dV[:, None, :] * al[None, :, None]).min(axis=2), 1.0)
            i, j = np.unravel_index(int(np.argmax(val)), val.shape)
            if val[i, j] <= best:
                break
            best, bx = val[i, j], X[rep[i]] + al[j] * (Q[i] - X[rep[i]])
            if best > self.tol:
                break
            X = bx[None, :]
            VX = X @ B + c0
        if bx is None or best <= self.tol:
            return None
        rad = min(_certified(A, b, bx), float(side * (a @ bx + cj)))
        if rad > self.tol:
            self.segments += 1
            return bx, rad
        return None

    def _mirror_ball(self, fr: _Frame, a, cj, s, side):
        """A point on side ``side`` without an LP, from a pool point whose certified ball the hyperplane cuts.

        A pool point ``p`` with radius ``r_p`` at normalised value ``s_p`` on
        the other side, ``|s_p| < r_p``, moved to ``q = p - (s_p - side t) a``
        with ``t = (r_p - |s_p|) / 2`` has moved by ``(r_p + |s_p|) / 2 < r_p``,
        so every row keeps a margin of at least ``t`` and the new row's value
        is ``side * t``: ``q`` has certified radius ``t`` (no product with
        the rows needed).  ``q`` must lie in the domain (box; cross-polytope).
        Returns ``(u, radius)`` or None.
        """
        sv = -side * s
        ok = (sv > self.tol) & (sv < fr.rp)
        if not ok.any():
            return None
        t = np.where(ok, 0.5 * (fr.rp - sv), -np.inf)
        for i in np.argsort(-t)[:3]:
            if t[i] <= self.tol:
                break
            q = fr.P[i] - (s[i] - side * t[i]) * a
            if np.all(q >= self.lo) and np.all(q <= self.hi) and (
                    self.half is None or float(np.sum(np.abs(q) / self.half)) <= 1.0):
                self.mirrors += 1
                return q, float(min(t[i], 1.0))
        return None

    def _add_row(self, fr, a, b, rid):
        fr.A = np.vstack([fr.A, a])
        fr.b = np.append(fr.b, b)
        fr.ids = fr.ids + [rid]

    def _restrict(self, fr: _Frame, a, cj, j, side, new):
        """Keep the side ``side`` of unit j: row, pattern bit, pool of points."""
        fr.A = np.vstack([fr.A, -side * a])
        fr.b = np.append(fr.b, side * cj)
        fr.ids = fr.ids + [self._rid(fr, j, side)]
        fr.pat[-1] = fr.pat[-1].copy()
        fr.pat[-1][j] = 1 if side > 0 else -1
        s = side * fr.S[:, j]
        rp = np.minimum(fr.rp, s)
        keep = rp > self.tol
        P, rp, S = fr.P[keep], rp[keep], fr.S[keep]
        if new is not None and len(new) > 3 and new[3] is not None:
            fr.basis = new[3]
        if new is not None:
            u, r = new[0], new[1]
            Ai, ci = fr.maps[0], fr.maps[1]
            srow = (u @ Ai.T + ci) / np.where(fr.norm > 0, fr.norm, 1.0)
            P, rp, S = np.vstack([u[None, :], P]), np.append(r, rp), np.vstack([srow[None, :], S])
        fr.P, fr.rp, fr.S = P[:POOL], rp[:POOL], S[:POOL]

    def witness(self, fr: _Frame) -> np.ndarray:
        i = int(np.argmax(fr.rp))
        return fr.P[i]


def _check(net, domain, cross: bool = False) -> Domain:
    if not isinstance(net, Network):
        raise RegionsError(f"expected a regions.Network, got {type(net).__name__}")
    if not isinstance(domain, Domain):
        raise RegionsError(f"expected a regions.domains.Domain, got {type(domain).__name__}")
    if domain.vertices is not None:
        raise RegionsError(f"expected a box-shaped domain for the LP engine, got a {domain.kind}")
    if net.depth < 1:
        raise RegionsError(f"expected a network with at least one hidden layer, got {net.arch}")
    if cross is not False and (cross is not True or not domain.bounded):
        raise RegionsError(f"expected cross=True on a bounded box or cross=False, got cross={cross!r} on a "
                           f"{'bounded' if domain.bounded else 'unbounded'} {domain.kind}")
    return domain


def _pattern(fr: _Frame) -> np.ndarray:
    return np.concatenate([p > 0 for p in fr.pat])


def partition_lp(net: Network, domain: Domain, *, max_regions: int | None = None,
                 progress: bool = False, cross: bool = False) -> LPPartition:
    """The activation regions of ``net`` on a box (any dimension) by the LP engine.

    Parameters
    ----------
    net : Network
    domain : Domain
        A box (bounded or not) or a segment/plane slice with box parameters.
    max_regions : int, keyword-only, optional
        Stop once more regions than this have been found (``partial``).
    progress : bool, keyword-only
        A progress bar over the share of the search tree explored.
    cross : bool, keyword-only
        Partition the cross-polytope inscribed in the (bounded) box instead,
        ``sum_i |u_i - c_i| / h_i <= 1`` (centre ``c``, half-sides ``h``):
        for a cube of half-side ``r`` the l1 ball of radius ``r``.  Its
        ``2k`` facets enter the LPs through ``k`` auxiliary columns; the
        partition then has no box H-representation or volumes.

    Returns
    -------
    LPPartition
    """
    domain = _check(net, domain, cross)
    walk = _Walk(net, domain, cross)
    k = domain.dim
    pats, wits, radii = [], [], []

    def emit(fr: _Frame) -> None:
        pats.append(_pattern(fr))
        i = int(np.argmax(fr.rp))
        # LP points sit on the box's faces: move inside the box by at most rp / 2
        if cross:  # towards the centre by at most rp / 2: strictly inside the cross-polytope
            p = fr.P[i]
            nrm = float(np.linalg.norm(p))
            u = p * (1.0 - min(0.25, fr.rp[i] / (2 * nrm))) if nrm > 0 else p
        else:
            delta = np.minimum(fr.rp[i] / (2 * np.sqrt(k)), 0.25 * (walk.hi - walk.lo))
            u = np.clip(fr.P[i], walk.lo + delta, walk.hi - delta)
        wits.append(walk.x0 / walk.s + u)
        radii.append(fr.rp[i] / 2)

    counts, stopped, _, _ = walk.run(emit, max_regions, progress)
    W = np.array(wits).reshape(-1, k) * walk.s
    return LPPartition(net, domain, np.array(pats, dtype=bool).reshape(-1, net.n_hidden), W,
                       np.array(radii), tuple(counts), stopped, walk.lp.n, cross=cross)


def count_lp(net: Network, domain: Domain, *, max_regions: int | None = None,
             progress: bool = False, cross: bool = False) -> CountResult:
    """Count the activation regions on a box by the LP engine, depth-first (bounded memory).

    ``extra`` holds ``lps`` (Chebyshev LPs solved) and, when non-zero,
    ``near_threshold`` (LP decisions whose certified radius was within a
    factor 4 of :data:`~regions.core.tolerances.CHEB_RTOL`).  Affine pieces
    are not computed (``pieces`` is None).  With ``max_regions`` the count
    stops early, is flagged ``partial`` and is a lower bound (regions found
    plus regions still pending, each holding at least one).  ``cross=True``
    counts the inscribed cross-polytope instead (see :func:`partition_lp`).
    """
    domain = _check(net, domain, cross)
    walk = _Walk(net, domain, cross)
    counts, stopped, found, pending = walk.run(lambda fr: None, max_regions, progress)
    extra = {"lps": int(walk.lp.n), "mirrored": int(walk.mirrors), "segments": int(walk.segments), "certificates_reused": int(walk.reused)}
    if walk.near:
        extra["near_threshold"] = int(walk.near)
    if stopped:
        extra["message"] = (f"stopped at max_regions={max_regions} with {found + pending} regions found "
                            f"(partial count: the numbers are lower bounds)")
    return CountResult(found + pending, None, counts, "lp", partial=stopped, extra=extra)
