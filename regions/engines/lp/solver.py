"""The HiGHS instance of an LP walk: Chebyshev LPs kept in step with the walk (:class:`_LP`).

``highspy`` is imported when the first LP is built, so importing the
package does not load it.  See :mod:`.kernel` for the walk that uses it.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from ...errors import NumericalError, RegionsError

__all__: list[str] = []


def _quiet_highs(highspy):
    """A ``highspy.Highs()`` without the banner its constructor prints on the C-level stdout, on one thread.

    Every instance is made here and set to one thread before its first
    run: HiGHS starts one thread scheduler per process, sized by the first
    instance that runs, and refuses (``kError``, no solution) every later
    instance asking for another size, so an instance left at the default
    would make every later warm one-thread solve fail over to a cold solve.
    """
    try:
        sys.stdout.flush()
        fd = os.dup(1)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - no real stdout
        h = highspy.Highs()
    else:
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(fd, 1)
            os.close(fd)
    h.setOptionValue("threads", 1)
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
              new_id: int, basis: tuple | None = None) -> tuple[np.ndarray | None, float]:
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
        if basis is not None:
            self._warm(basis, ids)
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

    def basis(self) -> tuple | None:
        """The optimal basis of the last LP, ``(row ids, basis, row statuses)``, for :meth:`_warm`.

        The column statuses stay inside the HiGHS basis object (read into
        Python they cost more than the pivots they save in high dimension).
        """
        hb = self.h.getBasis()
        if not hb.valid:
            return None
        return tuple(self.ids), hb, hb.row_status

    def _warm(self, basis: tuple, ids: list) -> None:
        """Start from a basis saved on an ancestor region (its rows a prefix of ``ids``; later rows basic).

        Adding rows with basic slacks keeps a dual feasible basis dual
        feasible, so the dual simplex needs only the pivots the new rows
        cause.  A basis whose rows are not a prefix is ignored.
        """
        bids, hb, rst = basis
        n = len(bids)
        if n > len(ids) or tuple(ids[:n]) != bids:
            return
        hb.row_status = list(rst) + [self.hs.HighsBasisStatus.kBasic] * (len(ids) + 1 - n)
        hb.valid = True
        self.h.setBasis(hb)

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
