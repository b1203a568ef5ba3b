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
  inside a pool point's certified ball when the hyperplane cuts it).

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
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.result import CountResult
from ...core.tolerances import CHEB_RTOL, EPS, ZERO_RTOL
from ...domains import Domain
from ...errors import NumericalError, RegionsError
from ...model.network import Network

__all__ = ["LPPartition", "count_lp", "partition_lp"]

#: Interior points kept per region (most recent first).
POOL = 12


def _quiet_highs(highspy):
    """A ``highspy.Highs()`` without the banner its constructor prints on the C-level stdout."""
    import os  # noqa: PLC0415
    import sys  # noqa: PLC0415

    try:
        sys.stdout.flush()
        fd = os.dup(1)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real stdout
        return highspy.Highs()
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
    finally:
        os.dup2(fd, 1)
        os.close(fd)
    return h


class _LP:
    """One HiGHS instance reused for every Chebyshev LP of a walk, kept in step with the walk.

    The model holds the rows of the region last asked about; the next LP
    deletes the rows past the common prefix of the two regions (rows carry
    ids, and regions of a depth-first walk share prefixes) and adds the
    missing ones, so HiGHS re-solves from the previous basis (dual simplex,
    a few pivots) instead of from scratch.

    When the rows span a subspace of dimension ``r < k`` (every row is a
    combination of the first layer's rows), they are written in
    ``y = C u`` (``C`` orthonormal rows, fixed rows ``C u - y = 0``): each
    row then has ``r + 1`` non-zeros instead of ``k + 1``.
    """

    def __init__(self, k: int, lo: np.ndarray, hi: np.ndarray, C: np.ndarray | None = None,
                 cross: np.ndarray | None = None):
        try:
            import highspy  # noqa: PLC0415 -- only when the LP engine runs
        except ImportError:  # pragma: no cover - a core dependency
            raise RegionsError("expected the highspy package for the LP engine (pip install highspy), "
                               "got an environment without it") from None

        self.hs = highspy
        self.k = k
        self.inf = highspy.kHighsInf
        self.C = C
        r = 0 if C is None else C.shape[0]
        self.r = r
        self.cross = cross
        kc = 0 if cross is None else k
        ncol = k + r + kc + 1
        self.t = k + r + kc  # the radius column
        self.nfix = r + (2 * k + 1 if kc else 0)  # fixed rows before the region's
        col_lo = np.concatenate([np.where(np.isfinite(lo), lo, -self.inf), np.full(r, -self.inf),
                                 np.zeros(kc), [0.0]])
        col_hi = np.concatenate([np.where(np.isfinite(hi), hi, self.inf), np.full(r, self.inf),
                                 np.full(kc, self.inf), [1.0]])
        h = _quiet_highs(highspy)
        for name, value in (("output_flag", False), ("presolve", "off"), ("threads", 1),
                            ("primal_feasibility_tolerance", 1e-10), ("dual_feasibility_tolerance", 1e-10)):
            h.setOptionValue(name, value)
        h.addVars(ncol, col_lo, col_hi)
        h.changeColsCost(1, np.array([self.t], dtype=np.int32), np.array([-1.0]))
        if r:
            # C u - y = 0: r rows of k + 1 non-zeros
            idx = np.concatenate([np.tile(np.arange(k, dtype=np.int32), (r, 1)),
                                  (k + np.arange(r, dtype=np.int32))[:, None]], axis=1)
            val = np.concatenate([C, -np.ones((r, 1))], axis=1)
            h.addRows(r, np.zeros(r), np.zeros(r), r * (k + 1),
                      np.arange(0, r * (k + 1), k + 1, dtype=np.int32), idx.ravel(), val.ravel())
            self.cols = np.append(k + np.arange(r, dtype=np.int32), self.t).astype(np.int32)
        else:
            self.cols = np.arange(k + 1, dtype=np.int32)
            self.cols[k] = self.t
        if kc:
            _cross_rows(h, k, k + r, cross, self.inf)
        self.h = h
        self.ids: list[int] = []  # ids of the rows after the fixed ones
        self.n = 0

    def _coef(self, A: np.ndarray) -> np.ndarray:
        """Row coefficients in the model's columns (u or y, then the radius)."""
        if self.r:
            A = A @ self.C.T
        return np.concatenate([A, np.ones((A.shape[0], 1))], axis=1)

    def _add(self, A: np.ndarray, b: np.ndarray) -> None:
        m = A.shape[0]
        if not m:
            return
        M = self._coef(A)
        w = M.shape[1]
        self.h.addRows(m, np.full(m, -self.inf), b, m * w, np.arange(0, m * w, w, dtype=np.int32),
                       np.tile(self.cols, m), M.ravel())

    def solve(self, ids: list, A: np.ndarray, b: np.ndarray, a: np.ndarray, beta: float,
              new_id: int) -> tuple[np.ndarray | None, float]:
        """Max ``t`` s.t. ``A u + t <= b``, ``a u + t <= beta``, u in the box, ``0 <= t <= 1``.

        ``ids`` name the rows of ``A`` (the region's), ``new_id`` the row ``a``.
        Returns ``(u, t*)`` or ``(None, -inf)`` when infeasible.
        """
        hs = self.hs
        p = 0
        cur = self.ids
        n = min(len(cur), len(ids))
        while p < n and cur[p] == ids[p]:
            p += 1
        if p < len(cur):
            self.h.deleteRows(len(cur) - p, np.arange(self.nfix + p, self.nfix + len(cur), dtype=np.int32))
        # one call: the missing rows and the new one
        self._add(np.concatenate([A[p:], a[None, :]]), np.append(b[p:], beta))
        self.ids = list(ids) + [new_id]
        self.h.run()
        self.n += 1
        self.last_ray = True
        st = self.h.getModelStatus()
        if st == hs.HighsModelStatus.kInfeasible:
            return None, -np.inf
        if st != hs.HighsModelStatus.kOptimal:
            # a stale basis or the row-space rows can stall HiGHS: solve this one LP afresh in u
            return self._fresh(np.vstack([A, a]), np.append(b, beta), st)
        x = np.asarray(self.h.getSolution().col_value)
        return x[:self.k], float(x[self.t])

    def solve_cold(self, A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray | None, float]:
        """Max ``r`` s.t. ``A u + r <= b``, u in the box, ``0 <= r <= 1``, on a new model (no warm state).

        ``(u, r*)``, or ``(None, -inf)`` when infeasible; for callers that do
        not walk one region tree (the op-graph walk of :mod:`regions.engines.lp.ops`).
        """
        self.n += 1
        return self._fresh(A, b, None)

    def _fresh(self, A: np.ndarray, b: np.ndarray, st) -> tuple[np.ndarray | None, float]:
        """The LP in the original coordinates on a new HiGHS instance (presolve off, then on)."""
        hs, k = self.hs, self.k
        self.h.clearSolver()
        m = A.shape[0]
        for presolve in ("off", "on"):
            h = _quiet_highs(hs)
            h.setOptionValue("output_flag", False)
            h.setOptionValue("presolve", presolve)
            lo = self.h.getLp().col_lower_[:k]
            hi = self.h.getLp().col_upper_[:k]
            kc = 0 if self.cross is None else k
            h.addVars(k + kc + 1, np.concatenate([lo, np.zeros(kc), [0.0]]),
                      np.concatenate([hi, np.full(kc, self.inf), [1.0]]))
            h.changeColsCost(1, np.array([k + kc], dtype=np.int32), np.array([-1.0]))
            if kc:
                _cross_rows(h, k, k, self.cross, self.inf)
            M = np.hstack([A, np.ones((m, 1))])
            cols = np.append(np.arange(k, dtype=np.int32), k + kc).astype(np.int32)
            h.addRows(m, np.full(m, -self.inf), b, m * (k + 1), np.arange(0, m * (k + 1), k + 1, dtype=np.int32),
                      np.tile(cols, m), M.ravel())
            h.run()
            st = h.getModelStatus()
            if st == hs.HighsModelStatus.kInfeasible:
                self.last_ray = False
                return None, -np.inf
            if st == hs.HighsModelStatus.kOptimal:
                x = np.asarray(h.getSolution().col_value)
                return x[:k], float(x[k + kc])
        raise NumericalError(
            f"expected HiGHS to solve a Chebyshev LP of {m} rows in {k} dimensions, "
            f"got status {self.h.modelStatusToString(st)}"
        )

    def ray(self) -> np.ndarray | None:
        """The dual ray of the last (infeasible) LP over the region rows and the new row, or None."""
        try:
            _, has, vals = self.h.getDualRay()
        except (AttributeError, TypeError, ValueError):  # pragma: no cover - older highspy
            return None
        if not has or not self.last_ray:
            return None
        return np.asarray(vals, dtype=np.float64)[self.nfix:]


def _cross_rows(h, k: int, w0: int, half: np.ndarray, inf: float) -> None:
    """The cross-polytope ``sum_i |u_i| / half_i <= 1``: ``+-u_i / half_i - w_i <= 0``, ``sum w <= 1``."""
    i = np.arange(k, dtype=np.int32)
    idx = np.concatenate([np.stack([i, w0 + i], axis=1), np.stack([i, w0 + i], axis=1)]).ravel()
    val = np.concatenate([np.stack([1.0 / half, -np.ones(k)], axis=1),
                          np.stack([-1.0 / half, -np.ones(k)], axis=1)]).ravel()
    h.addRows(2 * k, np.full(2 * k, -inf), np.zeros(2 * k), 4 * k, np.arange(0, 4 * k, 2, dtype=np.int32),
              idx.astype(np.int32), val)
    h.addRows(1, np.array([-inf]), np.array([1.0]), k, np.array([0], dtype=np.int32),
              (w0 + i).astype(np.int32), np.ones(k))


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
        self.next_id = 0
        self.certs: dict = {}  # (layer region key, unit, side) -> row-id sets of Farkas certificates
        self.reused = 0
        self.next_key = 0
        self.near = 0
        self.mirrors = 0
        self.tol = CHEB_RTOL

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
    def _screen(self, maps):
        """States decided for the whole box: +1 active, -1 inactive, 0 undecided; and a row flag."""
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
        nz = ~zero
        safe = np.where(nz, norm, 1.0)
        inact = nz & (up / safe <= self.tol)
        act = nz & (dn / safe >= -self.tol)
        state[inact] = -1
        state[act & ~inact] = 1
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

    def _enter(self, fr: _Frame) -> None:
        """Start a layer: screen all its units over the box, values at the pool points."""
        state, row, norm = self._screen(fr.maps)
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
                self._add_row(fr, sg * a, -sg * c[j] / fr.norm[j], j, sg)
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
            found = self._mirror_ball(fr, a, cj, s, side)
            if found is None:
                found = self._mirror_rows(fr, a, cj, s, side)
            if found is not None:
                newp[side] = found
                if side > 0:
                    pos = found[1]
                else:
                    neg = found[1]
                continue
            # side +1: z > 0, row -a.u <= cj ; side -1: z < 0, row a.u <= -cj
            if self._empty_known(fr, j, side):
                rc = -np.inf
                if side > 0:
                    pos = rc
                else:
                    neg = rc
                continue
            lp_id = self.next_id
            u, rstar = self.lp.solve(fr.ids, fr.A, fr.b, -side * a, side * cj, lp_id)
            self.next_id += 1
            if u is None:
                rc = -np.inf
                self._record_empty(fr, j, side, -side * a, side * cj)
            else:
                u = self._into(u)
                rc = min(_certified(fr.A, fr.b, u), float(side * cj + side * (a @ u)))
                if rc > 0.25 * tol and rc < 4 * tol or (rstar > tol) != (rc > tol):
                    self.near += 1
                if rc > tol:
                    newp[side] = (u, rc, lp_id)
            if side > 0:
                pos = rc
            else:
                neg = rc
        if pos > tol and neg > tol:
            other = _Frame(fr.A, fr.b, fr.P, fr.rp, fr.layer, fr.unit, fr.maps,
                           [p.copy() for p in fr.pat], fr.weight / 2)
            other.norm, other.row, other.S, other.ids = fr.norm, fr.row, fr.S, list(fr.ids)
            other.key = fr.key
            fr.weight /= 2
            self._restrict(fr, a, cj, j, 1.0, newp.get(1.0))
            self._restrict(other, a, cj, j, -1.0, newp.get(-1.0))
            return other
        if pos <= tol and neg <= tol:
            raise NumericalError(
                f"expected a region with an interior to keep one on some side of unit {j} of layer "
                f"{fr.layer + 1}, got Chebyshev radii {pos:.3g} and {neg:.3g} on both (tolerance {tol:.3g})"
            )
        self._restrict(fr, a, cj, j, 1.0 if pos > tol else -1.0, newp.get(1.0 if pos > tol else -1.0))
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

    def _record_empty(self, fr: _Frame, j: int, side: float, a: np.ndarray, beta: float) -> None:
        """Keep the rows of the infeasible LP's dual ray, once the certificate is checked in float64.

        A ray ``y >= 0`` over the rows ``A u <= b`` (region rows and the new
        row) certifies that no point of the box satisfies them when
        ``min over the box of (y A) u > y b``; that inequality is checked
        here with a margin, so a certificate is only ever reused (on a
        region holding the same rows, for the same unit) when it is sound.
        """
        ray = self.lp.ray()
        m = fr.A.shape[0]
        if ray is None or ray.shape[0] != m + 1:
            return
        A = np.vstack([fr.A, a])
        b = np.append(fr.b, beta)
        for y in (ray, -ray):
            scale = float(np.max(np.abs(y)))
            if scale <= 0 or np.min(y) < -1e-12 * scale:
                continue
            y = np.maximum(y, 0.0) / scale
            g = y @ A
            low = self._low(g) - float(y @ b)
            if np.isfinite(low) and low > 1e-9 * (1.0 + float(np.abs(y) @ np.abs(b))):
                need = frozenset(fr.ids[i] for i in np.nonzero(y[:m] > 0)[0])
                lst = self.certs.setdefault((fr.key, j, side), [])
                if len(lst) < 64:
                    lst.append(need)
                return

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

    def _add_row(self, fr, a, b, j, sg):
        fr.A = np.vstack([fr.A, a])
        fr.b = np.append(fr.b, b)
        fr.ids = fr.ids + [self.next_id]
        self.next_id += 1

    def _restrict(self, fr: _Frame, a, cj, j, side, new):
        """Keep the side ``side`` of unit j: row, pattern bit, pool of points."""
        fr.A = np.vstack([fr.A, -side * a])
        fr.b = np.append(fr.b, side * cj)
        fr.ids = fr.ids + [self.next_id if new is None or len(new) < 3 else new[2]]
        if new is None or len(new) < 3:
            self.next_id += 1
        fr.pat[-1] = fr.pat[-1].copy()
        fr.pat[-1][j] = 1 if side > 0 else -1
        s = side * fr.S[:, j]
        rp = np.minimum(fr.rp, s)
        keep = rp > self.tol
        P, rp, S = fr.P[keep], rp[keep], fr.S[keep]
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


@dataclass(eq=False)
class LPPartition:
    """Activation regions found by the LP engine.

    Attributes
    ----------
    network, domain, engine
    patterns : ndarray of bool, shape (R, n_hidden)
    witnesses : ndarray, shape (R, k)
        An interior point of each region (parameter coordinates).
    radii : ndarray, shape (R,)
        Certified radius of a ball around the witness inside the region's
        unit-state inequalities (in units of the domain scale, capped at 1).
    layer_counts : tuple of int
    partial : bool
    lps : int
        Chebyshev LPs solved.
    """

    network: Network
    domain: Domain
    patterns: np.ndarray
    witnesses: np.ndarray
    radii: np.ndarray
    layer_counts: tuple
    partial: bool = False
    lps: int = 0
    cross: bool = False
    engine: str = "lp"
    _maps: tuple | None = field(default=None, repr=False)

    @property
    def n_regions(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def n_pieces(self) -> None:
        """Affine pieces are not computed by the LP engine (None)."""
        return None

    @property
    def measures(self) -> np.ndarray:
        """Volumes; inf where the domain is unbounded; computed (qhull) only for ``k <= 6``."""
        k = self.domain.dim
        self._no_cross("volumes")
        if not self.domain.bounded:
            return np.full(self.n_regions, np.inf)
        if k > 6:
            raise RegionsError(f"expected a domain of dimension <= 6 for region volumes, got {k}")
        from scipy.spatial import ConvexHull, HalfspaceIntersection  # noqa: PLC0415

        out = np.empty(self.n_regions)
        for i in range(self.n_regions):
            A, c = self.hrep(i)
            if k == 1:  # an interval: the tightest bounds of a x <= c on each side
                a = A[:, 0]
                out[i] = float(np.min((c / a)[a > 0]) - np.max((c / a)[a < 0]))
                continue
            hs = np.hstack([A, -c[:, None]])
            V = HalfspaceIntersection(hs, self.witnesses[i]).intersections
            out[i] = ConvexHull(V).volume
        return out

    def _no_cross(self, what: str) -> None:
        if self.cross:
            raise RegionsError(f"expected a partition of a box for {what}, got one of the cross-polytope "
                               f"inscribed in it (its 2^{self.domain.dim} facets are not listed)")

    def points(self) -> np.ndarray:
        return self.domain.to_input(self.witnesses)

    def local_maps(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per layer ``(A, c)`` shaped (R, n_l, k), (R, n_l): pre-activations in parameter coordinates."""
        if self._maps is not None:
            return self._maps
        pulled = self.domain.pullback(self.network)
        R, k = self.n_regions, self.domain.dim
        H = np.broadcast_to(np.eye(k), (R, k, k))
        h = np.zeros((R, k))
        out, col = [], 0
        slope = pulled.negative_slope
        for l, (W, b) in enumerate(pulled.layers):
            A = np.einsum("oi,rik->rok", W, H)
            c = h @ W.T + b
            out.append((A, c))
            if l < len(pulled.layers) - 1:
                f = np.where(self.patterns[:, col:col + W.shape[0]], 1.0, slope)
                col += W.shape[0]
                H = A * f[:, :, None]
                h = c * f
        self._maps = out
        return out

    def output_maps(self) -> tuple[np.ndarray, np.ndarray]:
        return self.local_maps()[-1]

    def hrep(self, i: int, *, irredundant: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``A u <= c`` of region ``i``: finite box faces, then one row per non-constant hidden unit.

        With ``irredundant=True`` only rows that are facets are kept: a row is
        dropped when maximising it over the other rows and the box stays
        below its bound (one LP per row; duplicates kept once).
        """
        self._no_cross("an H-representation")
        k = self.domain.dim
        rows, rhs = [], []
        for j in range(k):
            for bound, sg in ((self.domain.lo[j], -1.0), (self.domain.hi[j], 1.0)):
                if np.isfinite(bound):
                    e = np.zeros(k)
                    e[j] = sg
                    rows.append(e)
                    rhs.append(sg * bound)
        col = 0
        for A, c in self.local_maps()[:-1]:
            n = A.shape[1]
            sg = np.where(self.patterns[i, col:col + n], -1.0, 1.0)
            rows.extend(sg[:, None] * A[i])
            rhs.extend(-sg * c[i])
            col += n
        A = np.array(rows).reshape(-1, k)
        c = np.array(rhs)
        nrm = np.linalg.norm(A, axis=1)
        keep = nrm > 0
        A, c = A[keep], c[keep]
        if not irredundant:
            return A, c
        from scipy.optimize import linprog  # noqa: PLC0415

        An = A / np.linalg.norm(A, axis=1)[:, None]
        cn = c / np.linalg.norm(A, axis=1)
        scale = self.domain.scale
        kept = []
        seen = []
        for r in range(A.shape[0]):
            if any(np.allclose(An[r], An[q]) and np.isclose(cn[r], cn[q], atol=1e-12 * scale) for q in seen):
                continue
            others = [q for q in range(A.shape[0]) if q != r]
            # facet iff relaxing it lets a_r.u exceed its bound
            res = linprog(-An[r], A_ub=An[others], b_ub=cn[others], bounds=[(None, None)] * k,
                          method="highs")
            if res.status == 3 or (res.status == 0 and -res.fun > cn[r] + CHEB_RTOL * scale):
                kept.append(r)
                seen.append(r)
        return A[kept], c[kept]

    def count(self) -> CountResult:
        return CountResult(self.n_regions, None, list(self.layer_counts), "lp", partial=self.partial,
                           extra={"lps": int(self.lps)})

    def verify(self) -> dict:
        """Witness patterns equal the recorded ones, patterns are unique, radii are positive.

        Raises
        ------
        VerificationError
        """
        from ...errors import VerificationError  # noqa: PLC0415

        got = self.network.patterns(self.points())
        bad = np.nonzero(np.any(got != self.patterns, axis=1))[0]
        if bad.size:
            raise VerificationError(f"expected witness patterns equal to the recorded ones, got {bad.size} that differ")
        uniq = np.unique(np.packbits(self.patterns, axis=1), axis=0).shape[0] if self.n_regions else 0
        if uniq != self.n_regions:
            raise VerificationError(f"expected unique patterns, got {self.n_regions - uniq} repeated")
        if np.any(self.radii <= CHEB_RTOL):
            raise VerificationError("expected every region's certified radius above CHEB_RTOL, got smaller ones")
        return {"regions": self.n_regions, "ok": True, "min_radius": float(self.radii.min(initial=np.inf))}


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
    extra = {"lps": int(walk.lp.n), "mirrored": int(walk.mirrors), "certificates_reused": int(walk.reused)}
    if walk.near:
        extra["near_threshold"] = int(walk.near)
    if stopped:
        extra["message"] = (f"stopped at max_regions={max_regions} with {found + pending} regions found "
                            f"(partial count: the numbers are lower bounds)")
    return CountResult(found + pending, None, counts, "lp", partial=stopped, extra=extra)
