r"""Local complexity: the exact number of regions meeting a neighbourhood of each data point.

Hanin and Rolnick (2019, "Complexity of linear regions in deep networks",
ICML) measure the density of linear regions around data; Humayun,
Balestriero and Baraniuk (2024, "Deep networks always grok and here is
why", ICML) approximate it by the *local complexity*, the number of units
whose zero set meets a neighbourhood of the point.  For a point ``x``, a
neighbourhood ``N(x)`` and the hidden units ``z_1 .. z_n`` of the network,
:func:`local_complexity` returns both, exactly:

.. math::

    \mathrm{regions}(x) = \#\{R : R \cap \operatorname{int} N(x) \neq \emptyset\},
    \qquad
    \mathrm{units\_cut}(x) = \#\{i : z_i \text{ takes both states on } \operatorname{int} N(x)\},

where ``R`` ranges over the activation regions (the engines' definition:
a unit whose zero set only touches ``N(x)`` cuts nothing).  The
neighbourhood is

* ``kind="box"``: the l-infinity ball ``{x + u : |u_i| <= radius}``;
* ``kind="cross"``: the l1 ball (cross-polytope)
  ``{x + u : sum_i |u_i| <= radius}``;

in the full input space (``dim=None``) or in a random P-dimensional frame
through the point (``dim=P``: orthonormal directions ``Q`` drawn from
``seed``, ``x + Q u`` with ``u`` in the P-dimensional ball).  Full boxes
and all cross-polytopes go to the LP engine; frames of boxes to the engine
chosen for P dimensions.  ``units_cut`` is read off the exact partition
(the units taking both states among the regions found), not linearised;
the patterns differ only in the cut units, so ``regions <= 2^units_cut``.
"""

from __future__ import annotations

import time
from typing import Iterator

import numpy as np

from ..domains import affine_slice, box
from ..engines.lp.kernel import partition_lp
from ..engines.registry import partition
from ..errors import RegionsError
from ..model.network import Network

__all__ = ["local_complexity"]


def local_complexity(net: Network, points, radius: float, *, kind: str = "box", dim: int | None = None,
                     seed: int = 0, max_regions: int | None = None, jobs: int | None = 0,
                     progress: bool = False) -> dict:
    """Exact regions meeting each point's neighbourhood, with the unit-count proxy beside them.

    Parameters
    ----------
    net : Network
    points : array_like, shape (n, input_dim)
    radius : float
        Half-side of the box, or l1 radius of the cross-polytope (> 0).
    kind : {"box", "cross"}, keyword-only
        Shape of the neighbourhood (see the module docstring).
    dim : int or None, keyword-only
        None: the full-dimensional box; P: a random P-dimensional frame.
    seed : int, keyword-only
        Seed of the random frames (drawn in the order of the points, so the
        frames do not depend on ``jobs``).
    max_regions : int, optional, keyword-only
        Per point; a stopped count is flagged in ``partial`` (it is then a
        lower bound: the regions found plus those still pending).
    jobs : int or None, keyword-only
        Worker processes, one point per task (:class:`regions.execution.runners.LocalRunner`);
        0 (default) counts in this process, None uses every CPU.  The counts
        do not depend on it.
    progress : bool, keyword-only
        A progress bar over the points (total: the number of points).

    Returns
    -------
    dict
        ``regions`` (int array (n,)), ``units_cut`` (the proxy, int array
        (n,)), ``partial`` (bool array (n,)), ``seconds`` (float array (n,),
        per point), ``engine`` (str), and the settings.
    """
    from ..execution.runners import check_jobs  # noqa: PLC0415

    if not isinstance(net, Network):
        raise RegionsError(f"expected a regions.Network, got {type(net).__name__}")
    X = np.asarray(points, dtype=np.float64)
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != net.input_dim or not np.isfinite(X).all():
        raise RegionsError(f"expected finite points shaped (n, {net.input_dim}), got shape {np.shape(points)}")
    if not (isinstance(radius, (int, float, np.floating)) and np.isfinite(radius) and radius > 0):
        raise RegionsError(f"expected a radius > 0, got {radius!r}")
    if kind not in ("box", "cross"):
        raise RegionsError(f"expected kind 'box' or 'cross', got {kind!r}")
    d = net.input_dim
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or not 1 <= dim <= d):
        raise RegionsError(f"expected dim None or an integer in 1..{d}, got {dim!r}")
    if max_regions is not None and (isinstance(max_regions, bool) or not isinstance(max_regions, (int, np.integer))
                                    or max_regions < 1):
        raise RegionsError(f"expected max_regions None or an integer >= 1, got {max_regions!r}")
    n_jobs = check_jobs(jobs)
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    doms = []
    for i in range(n):  # the frames first, in order: the same frames whatever the number of jobs
        if dim is None:
            doms.append(box(X[i] - radius, X[i] + radius, dim=d))
        else:
            Q, _ = np.linalg.qr(rng.normal(size=(d, dim)))
            doms.append(affine_slice(X[i], Q, -radius, radius))
    counts = np.zeros(n, dtype=np.int64)
    cut = np.zeros(n, dtype=np.int64)
    partial = np.zeros(n, dtype=bool)
    seconds = np.zeros(n)
    engine = ""
    # in one dimension the l1 and l-infinity balls agree; full boxes go straight to the LP engine
    # (no cost estimate per small neighbourhood); frames of boxes to the engine chosen for P dimensions
    route = "cross" if kind == "cross" and (dim or d) >= 2 else "lp" if dim is None and d >= 2 else "auto"
    bar = _bar(progress, n)
    try:
        for i, r in _run(net, doms, route, max_regions, n_jobs):
            counts[i], cut[i], partial[i], seconds[i], engine = (r["regions"], r["units_cut"], r["partial"],
                                                                 r["seconds"], r["engine"])
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(f"last: {r['regions']} regions", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    return {"regions": counts, "units_cut": cut, "partial": partial, "seconds": seconds, "engine": engine,
            "radius": float(radius), "kind": kind, "dim": dim, "seed": seed}


def _bar(progress: bool, total: int):
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm  # noqa: PLC0415
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, unit="point", desc="local complexity")


def _one(net: Network, dom, kind: str, max_regions: int | None) -> dict:
    """Regions meeting one neighbourhood and the units cutting it (the partition's patterns).

    ``kind``: "cross" (the LP engine on the inscribed cross-polytope), "lp"
    (the LP engine on the box) or "auto" (the engine chosen for the domain).
    """
    t0 = time.perf_counter()
    if kind == "cross":
        part = partition_lp(net, dom, max_regions=max_regions, cross=True)
    elif kind == "lp":
        part = partition_lp(net, dom, max_regions=max_regions)
    else:
        part = partition(net, dom, max_regions=max_regions)
    P = np.asarray(part.patterns, dtype=bool)
    cut = int(np.count_nonzero(P.any(axis=0) & ~P.all(axis=0))) if P.shape[0] else 0
    return {"regions": int(part.n_regions), "units_cut": cut, "partial": bool(part.partial),
            "seconds": time.perf_counter() - t0, "engine": part.engine}


def _point_task(data: tuple) -> Iterator[dict]:  # runs in the worker processes
    net, dom, kind, max_regions = data
    yield {"part": "end", **_one(net, dom, kind, max_regions)}


def _run(net: Network, doms: list, kind: str, max_regions: int | None, jobs: int) -> Iterator[tuple[int, dict]]:
    """``(index, result)`` per point: in this process (``jobs == 0``) or in worker processes, as they end."""
    if jobs == 0 or len(doms) <= 1:
        for i, dom in enumerate(doms):
            yield i, _one(net, dom, kind, max_regions)
        return
    from ..execution.runners import LocalRunner  # noqa: PLC0415

    def finish(i, events, seconds, interrupted):
        last = events[-1] if events else {}
        if interrupted is not None or last.get("part") != "end":
            why = interrupted or last.get("error", "no result")
            raise RegionsError(f"expected a count for point {i}, got: {why}")
        return i, last

    items = [(i, (net, dom, kind, max_regions)) for i, dom in enumerate(doms)]
    yield from LocalRunner(jobs).stream(_point_task, items, finish)
