"""Slow, independent references for the polytope engine (one HiGHS LP per candidate pattern).

Nothing here shares code with :mod:`regions.polytope`: the local affine maps
of a pattern are rebuilt from the weights, and a pattern is a region when
the Chebyshev LP of its polyhedron has a positive radius.

``lp_tree``
    Unit by unit, extend every feasible prefix pattern by both states of
    the next unit and keep the extensions whose polyhedron has an interior:
    ``~2 x (regions at each stage)`` LPs.  Correct for any network,
    degenerate ones included (no adjacency argument).
``lp_bfs``
    Breadth-first search over regions: from a region, flip one unit at a
    time (crossing a facet of a generic network changes exactly one unit)
    and test the candidate with one LP.  The "LP-per-region search" of the
    literature (relucent, Serra et al.); ``~n_hidden`` LPs per region.

A radius is positive when it exceeds ``RADIUS_RTOL * domain.scale``; the
LPs are capped at radius ``domain.scale`` so unbounded regions are fine.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
from scipy.optimize import linprog

from regions.domains import Domain
from regions import Network

#: Radius (relative to the domain's scale) above which a polyhedron has an interior.
RADIUS_RTOL = 1e-7
#: A local gradient smaller than this (relative to its magnitude) is zero.
FLAT_RTOL = 1e-12


def _local_rows(pulled: Network, pattern: np.ndarray, n_units: int):
    """Rows ``(a, c, mag)`` of the first ``n_units`` pre-activations under ``pattern``."""
    k = pulled.input_dim
    H = np.eye(k)  # layer input = H u + h
    Hm = np.eye(k)
    h = np.zeros(k)
    hm = np.zeros(k)
    rows, rhs, mags = [], [], []
    col = 0
    for W, b in pulled.layers[:-1]:
        A = W @ H
        c = W @ h + b
        Am = np.abs(W) @ Hm
        cm = np.abs(W) @ hm + np.abs(b)
        n = W.shape[0]
        take = min(n, n_units - col)
        rows.append(A[:take]); rhs.append(c[:take]); mags.append(Am[:take].sum(1) + cm[:take])
        col += take
        if col >= n_units:
            break
        act = pattern[col - n:col]
        f = np.where(act, 1.0, pulled.negative_slope)
        H, h, Hm, hm = A * f[:, None], c * f, Am * np.abs(f)[:, None], cm * np.abs(f)
    return np.concatenate(rows), np.concatenate(rhs), np.concatenate(mags)


def radius(pulled: Network, domain: Domain, pattern: np.ndarray) -> float:
    """Chebyshev radius of ``{u in domain: unit j > 0 if pattern[j] else unit j <= 0}`` (0 if empty)."""
    n = pattern.shape[0]
    A, c, mag = _local_rows(pulled, pattern, n)
    sg = np.where(pattern, -1.0, 1.0)  # active: -(a u + c) <= 0
    A = sg[:, None] * A
    c = -sg * c
    nrm = np.linalg.norm(A, axis=1)
    flat = nrm <= FLAT_RTOL * np.maximum(mag, 1e-300)
    # constant units: active needs c0 > 0, inactive c0 <= 0, i.e. 0 <= c here (strict when active)
    if np.any(flat & ((c < 0) | ((c <= FLAT_RTOL * mag) & pattern))):
        return 0.0
    A, c, nrm = A[~flat], c[~flat], nrm[~flat]
    k = domain.dim
    bounds = [(None if not np.isfinite(lo) else lo, None if not np.isfinite(hi) else hi)
              for lo, hi in zip(domain.lo, domain.hi)]
    # box faces enter the LP as rows too, so the ball stays inside the box
    rows, rhs = [A], [c]
    for i in range(k):
        e = np.zeros(k)
        if np.isfinite(domain.lo[i]):
            e2 = e.copy(); e2[i] = -1.0; rows.append(e2[None]); rhs.append([-domain.lo[i]])
        if np.isfinite(domain.hi[i]):
            e2 = e.copy(); e2[i] = 1.0; rows.append(e2[None]); rhs.append([domain.hi[i]])
    A = np.concatenate(rows)
    c = np.concatenate([np.asarray(r, dtype=float) for r in rhs])
    nrm = np.linalg.norm(A, axis=1)
    obj = np.zeros(k + 1)
    obj[-1] = -1.0
    for method in ("highs", "highs-ipm", "highs-ds"):  # retry: HiGHS occasionally ends "unknown"
        res = linprog(obj, A_ub=np.hstack([A, nrm[:, None]]), b_ub=c,
                      bounds=bounds + [(0.0, domain.scale)], method=method)
        if res.status == 2:  # infeasible
            return 0.0
        if res.status == 0:
            return float(res.x[-1])
    raise RuntimeError(f"LP failed: {res.message}")


def lp_tree(net: Network, domain: Domain) -> dict:
    """All patterns with an interior, unit by unit (any network).  Returns ``patterns`` (set of bytes) and ``lps``."""
    pulled = domain.pullback(net)
    n = pulled.n_hidden
    tol = RADIUS_RTOL * domain.scale
    level = [np.zeros(0, dtype=bool)]
    lps = 0
    for j in range(n):
        nxt = []
        for p in level:
            for v in (False, True):
                q = np.append(p, v)
                lps += 1
                if radius(pulled, domain, q) > tol:
                    nxt.append(q)
        level = nxt
    return {"patterns": {np.packbits(p).tobytes() for p in level}, "regions": len(level), "lps": lps}


def lp_bfs(net: Network, domain: Domain, *, time_limit: float | None = None, seed: int = 0) -> dict:
    """Regions by breadth-first search with one Chebyshev LP per candidate (generic networks).

    Returns
    -------
    dict
        ``regions`` (found), ``lps``, ``seconds``, ``complete`` (False when
        ``time_limit`` stopped it), ``patterns`` (set of packed bytes).
    """
    pulled = domain.pullback(net)
    tol = RADIUS_RTOL * domain.scale
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    lps = 0
    start = None
    for _ in range(100):
        lo = np.where(np.isfinite(domain.lo), domain.lo, -domain.scale)
        hi = np.where(np.isfinite(domain.hi), domain.hi, domain.scale)
        x = rng.uniform(lo, hi)
        p = pulled.patterns(x[None])[0]
        lps += 1
        if radius(pulled, domain, p) > tol:
            start = p
            break
    if start is None:  # pragma: no cover
        raise RuntimeError("no interior start point found")
    seen = {np.packbits(start).tobytes()}
    queue = deque([start])
    complete = True
    while queue:
        p = queue.popleft()
        for j in range(p.shape[0]):
            q = p.copy()
            q[j] = ~q[j]
            key = np.packbits(q).tobytes()
            if key in seen:
                continue
            lps += 1
            if radius(pulled, domain, q) > tol:
                seen.add(key)
                queue.append(q)
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            complete = not queue
            break
    return {"regions": len(seen), "lps": lps, "seconds": time.perf_counter() - t0,
            "complete": complete, "patterns": seen}
