"""The LPs of the op walk (:mod:`.ops`) besides its splits: Chebyshev LPs, recession cones, shared facets.

* :func:`_cheb_free`: the Chebyshev LP with the radius free below (always
  feasible and bounded, also on unbounded domains), optionally inside a
  hyperplane with projected row norms;
* :func:`_whole_scale`: the unit of length on all of ``R^d``;
* :func:`_bounded_flags`: bounded or unbounded, by recession cones;
* :func:`_pieces_lp`: affine pieces by shared facets, any dimension.

Every LP runs on one HiGHS model per process (:func:`_model`).
"""

from __future__ import annotations

import numpy as np

from ...core.tolerances import CHEB_RTOL, PIECE_RTOL
from ...errors import NumericalError

__all__: list[str] = []  # private helpers of .ops and ..ops_wide

_HIGHS: list = []


def _highspy():
    import highspy  # noqa: PLC0415 -- only when the LP walk runs

    return highspy


def _model(presolve: str = "off"):
    """The process's one HiGHS instance for the op walk's LPs, cleared (options kept).

    One instance spares building (and silencing the banner of) a new one per
    LP.  ``threads=1`` as in :class:`.solver._LP`: a highspy model run with
    another thread count first fixes the process's scheduler, and later
    models asking for one thread end "Not Set".
    """
    if not _HIGHS:
        from .solver import _quiet_highs  # noqa: PLC0415

        h = _quiet_highs(_highspy())
        for name, value in (("output_flag", False), ("threads", 1),
                            ("primal_feasibility_tolerance", 1e-10), ("dual_feasibility_tolerance", 1e-10)):
            h.setOptionValue(name, value)
        _HIGHS.append(h)
    h = _HIGHS[0]
    h.clearModel()
    h.setOptionValue("presolve", presolve)
    return h


def _cheb_free(A: np.ndarray, b: np.ndarray, lo: np.ndarray, hi: np.ndarray, *, rho: np.ndarray | None = None,
               eq: tuple | None = None) -> tuple[np.ndarray | None, float]:
    """Max ``r <= 1`` s.t. ``A u + rho r <= b`` (``rho`` 1 by default), ``a u = beta`` for ``eq = (a, beta)``,
    ``lo <= u <= hi``, with the radius *free below*.

    With ``r >= 0`` as a bound, HiGHS (1.16, presolve off or on) can end
    with status Unknown on unbounded domains (free centre columns, an
    optimal face that is a ray); with ``r`` free the LP is always feasible
    (unit rows, any ``u``) and bounded above by 1, and it ends optimal.
    Returns ``(u, r*)``, or ``(None, r*)`` when ``r* <= 0`` (no interior).
    """
    k, m = A.shape[1], A.shape[0]
    if m == 0 and eq is None:  # no rows: any point of the box, radius 1
        return np.clip(np.zeros(k), lo, hi), 1.0
    highspy = _highspy()
    inf = highspy.kHighsInf
    rho = np.ones(m) if rho is None else rho
    M = np.hstack([A, rho[:, None]])
    cols = np.arange(k + 1, dtype=np.int32)
    st = None
    for presolve in ("off", "on"):
        h = _model(presolve)
        h.addVars(k + 1, np.append(np.where(np.isfinite(lo), lo, -inf), -inf),
                  np.append(np.where(np.isfinite(hi), hi, inf), 1.0))
        h.changeColsCost(1, np.array([k], dtype=np.int32), np.array([-1.0]))
        if m:
            h.addRows(m, np.full(m, -inf), b, m * (k + 1), np.arange(0, m * (k + 1), k + 1, dtype=np.int32),
                      np.tile(cols, m), M.ravel())
        if eq is not None:
            a, beta = eq
            h.addRows(1, np.array([beta]), np.array([beta]), k, np.array([0], dtype=np.int32),
                      np.arange(k, dtype=np.int32), np.asarray(a, dtype=np.float64))
        h.run()
        st = h.getModelStatus()
        if st == highspy.HighsModelStatus.kOptimal:
            x = np.asarray(h.getSolution().col_value)
            return (x[:k], float(x[k])) if x[k] > 0 else (None, float(x[k]))
        if st == highspy.HighsModelStatus.kInfeasible and eq is not None:
            return None, -np.inf
    raise NumericalError(f"expected HiGHS to solve a Chebyshev LP of {m} rows in {k} dimensions "
                         f"(radius free below), got status {h.modelStatusToString(st)}")


def _norm(X: np.ndarray, axis: int = -1) -> np.ndarray:
    """Euclidean norms along ``axis`` without overflow or underflow (each vector divided by its largest entry).

    ``np.linalg.norm`` squares the entries: rows of size ``1e-300`` (a
    network rescaled by ``1e300``) have norm 0 and rows of ``1e300`` norm inf,
    which would make every unit look constant.
    """
    X = np.asarray(X, dtype=np.float64)
    top = np.max(np.abs(X), axis=axis, keepdims=True, initial=0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        safe = np.where((top > 0) & np.isfinite(top), top, 1.0)
        n = np.linalg.norm(X / safe, axis=axis, keepdims=True) * safe
    return np.squeeze(np.where(np.isfinite(top), n, np.inf), axis=axis)


def _whole_scale(W: np.ndarray, b: np.ndarray, u) -> float:
    """A length scale for a domain without finite sides: the farthest first-layer feature from the origin.

    Features are the first layer's bending units and the ties of two
    candidates of a max group (``|b_i| / ||W_i||``).  Positive rescaling of
    the input rescales it, so counts on ``R^d`` do not depend on the input's
    unit (tolerances are relative to it).  1 when every feature passes
    through the origin.
    """
    if u.groups is not None:
        i, j = [], []
        for g in u.groups:
            a, c = np.triu_indices(g.size, 1)
            i.append(g[a]), j.append(g[c])
        if not i:
            return 1.0
        i, j = np.concatenate(i), np.concatenate(j)
        F, f = W[i] - W[j], b[i] - b[j]
    else:
        F, f = W[u.splitting], b[u.splitting]
    top = np.max(np.abs(F), axis=1, initial=0.0)  # norms without overflow or underflow (weights 1e+-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = top * np.linalg.norm(F / np.where(top > 0, top, 1.0)[:, None], axis=1)
        ok = (n > 0) & np.isfinite(n)
        if not ok.any():
            return 1.0
        dist = (np.abs(f[ok]) / top[ok]) / (n[ok] / top[ok])
    big = float(np.max(dist))
    return big if big > 0 and np.isfinite(big) else 1.0


def _box_rows(geo) -> tuple[np.ndarray, np.ndarray]:
    """The finite box sides as unit rows ``A u <= b`` (normalised coordinates)."""
    E = np.eye(geo.k)
    fl, fh = np.isfinite(geo.lo), np.isfinite(geo.hi)
    return np.vstack([-E[fl], E[fh]]), np.concatenate([-geo.lo[fl], geo.hi[fh]])


def _bounded_flags(geo, regions: list) -> np.ndarray:
    """Whether each region (its rows and the finite box sides) is bounded.

    ``{A u <= b}`` (non-empty) is bounded iff its recession cone
    ``{v : A v <= 0}`` is ``{0}``, iff the rows positively span ``R^k``: they
    have rank ``k`` (singular values above ``k * eps`` times the largest)
    and some ``y >= 1`` has ``A^T y = 0`` (an LP, scipy's HiGHS).
    """
    hs = _highspy()
    Ab, _ = _box_rows(geo)
    out = np.zeros(len(regions), dtype=bool)
    for i, R in enumerate(regions):
        A = np.vstack([R.A, Ab])
        if A.shape[0] <= geo.k:
            continue
        s = np.linalg.svd(A, compute_uv=False)
        if s.size < geo.k or s[geo.k - 1] <= geo.k * 1e3 * np.finfo(float).eps * s[0]:
            continue
        m, k = A.shape
        st = None
        for presolve in ("off", "on"):
            h = _model(presolve)
            h.addVars(m, np.ones(m), np.full(m, hs.kHighsInf))
            # A^T y = 0: k rows, column-major entries of A
            h.addRows(k, np.zeros(k), np.zeros(k), m * k, np.arange(0, m * k, m, dtype=np.int32),
                      np.tile(np.arange(m, dtype=np.int32), k), A.T.ravel())
            h.run()
            st = h.getModelStatus()
            if st in (hs.HighsModelStatus.kOptimal, hs.HighsModelStatus.kInfeasible):
                break
        else:
            raise NumericalError(f"expected HiGHS to decide a recession cone of {m} rows in {k} dimensions, "
                                 f"got status {h.modelStatusToString(st)}")
        out[i] = st == hs.HighsModelStatus.kOptimal
    return out


def _pieces_lp(geo, regions: list, J: np.ndarray, Jabs: np.ndarray, pats: np.ndarray, *,
               joins: list | None = None) -> np.ndarray:
    """Piece labels: connected components of regions that share a facet and have one output map.

    Maps are equal when ``|J_r - J_s| <= PIECE_RTOL (|J|_r + |J|_s)``
    entrywise (as in the other engines).  Two regions of the walk that share
    a facet are separated by the hyperplane of the first split between them,
    which each holds as a row, exactly negated in the other; so only row
    pairs ``(a, beta)``, ``(-a, -beta)`` are tried: the facet is shared iff
    the Chebyshev radius *within* that hyperplane (row norms projected onto
    it) over both regions' other rows and the finite box sides exceeds
    ``CHEB_RTOL``.  Pairs already in one piece are not tested; pairs are
    tried in order of the number of pattern bits they differ in (regions
    across a facet differ only in units that vanish on it: usually one), so
    pieces join early and most pairs inside a piece need no LP.  ``joins``
    (a list) receives the facet's Chebyshev centre ``u`` of every join made.
    """
    n = J.shape[0]
    parent = np.arange(n)

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    Ab, bb = _box_rows(geo)
    Jf, Af = J.reshape(n, -1), Jabs.reshape(n, -1)
    step = max(1, (1 << 22) // max(1, n * max(1, Jf.shape[1], pats.shape[1])))
    xs, ys, hs = [], [], []
    for i0 in range(0, n, step):
        ii = np.arange(i0, min(n, i0 + step))
        eq = np.all(np.abs(Jf[ii, None, :] - Jf[None, :, :]) <= PIECE_RTOL * (Af[ii, None, :] + Af[None, :, :]),
                    axis=2)
        a_, b_ = np.nonzero(eq)
        a_ = ii[a_]
        keep = a_ < b_
        a_, b_ = a_[keep], b_[keep]
        xs.append(a_), ys.append(b_), hs.append(np.count_nonzero(pats[a_] != pats[b_], axis=1))
    xs, ys, hs = (np.concatenate(v) if v else np.zeros(0, dtype=np.intp) for v in (xs, ys, hs))
    order = np.argsort(hs, kind="stable")
    for x, y in zip(xs[order], ys[order]):
        x, y = int(x), int(y)
        if find(x) == find(y):
            continue
        Rx, Ry = regions[x], regions[y]
        match = (np.abs(Rx.A @ Ry.A.T + 1.0) <= 1e-12) & (np.abs(Rx.b[:, None] + Ry.b[None, :])
                                                           <= 1e-12 * (1.0 + np.abs(Rx.b[:, None])))
        for p, q in zip(*np.nonzero(match)):
            a, beta = Rx.A[p], Rx.b[p]
            A = np.vstack([np.delete(Rx.A, p, 0), np.delete(Ry.A, q, 0), Ab])
            b = np.concatenate([np.delete(Rx.b, p), np.delete(Ry.b, q), bb])
            rho = np.linalg.norm(A - np.outer(A @ a, a), axis=1)
            par = rho <= 1e-12
            # rows parallel to the hyperplane are constant on it: beta or -beta against their bound
            if np.any(b[par] - (A[par] @ a) * beta < -1e-12 * (1.0 + np.abs(b[par]))):
                continue
            u, r = _cheb_free(A[~par], b[~par], geo.lo, geo.hi, rho=rho[~par], eq=(a, beta))
            if u is not None and r > CHEB_RTOL:
                parent[find(x)] = find(y)
                if joins is not None:
                    joins.append(u)
                break
    roots = np.array([find(x) for x in range(n)])
    _, labels = np.unique(roots, return_inverse=True)
    return labels
