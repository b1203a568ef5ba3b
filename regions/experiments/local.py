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

import numpy as np

from ..domains import affine_slice, box
from ..engines.lp.kernel import partition_lp
from ..engines.registry import partition
from ..errors import RegionsError
from ..model.network import Network

__all__ = ["local_complexity"]


def local_complexity(net: Network, points, radius: float, *, kind: str = "box", dim: int | None = None,
                     seed: int = 0, max_regions: int | None = None) -> dict:
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
        Seed of the random frames.
    max_regions : int, optional, keyword-only
        Per point; a stopped count is flagged in ``partial``.

    Returns
    -------
    dict
        ``regions`` (int array (n,)), ``units_cut`` (the proxy, int array
        (n,)), ``partial`` (bool array (n,)), ``engine`` (str), and the
        settings.
    """
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
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    counts = np.zeros(n, dtype=np.int64)
    cut = np.zeros(n, dtype=np.int64)
    partial = np.zeros(n, dtype=bool)
    engine = ""
    for i in range(n):  # one partition per point: the loop is over points, not regions
        if dim is None:
            dom = box(X[i] - radius, X[i] + radius, dim=d)
        else:
            Q, _ = np.linalg.qr(rng.normal(size=(d, dim)))
            dom = affine_slice(X[i], Q, -radius, radius)
        if kind == "cross" and dom.dim >= 2:  # in one dimension the l1 and l-infinity balls agree
            part = partition_lp(net, dom, max_regions=max_regions, cross=True)
        elif dim is None and d >= 2:  # straight to the LP engine: no cost estimate per small neighbourhood
            part = partition_lp(net, dom, max_regions=max_regions)
        else:
            part = partition(net, dom, max_regions=max_regions)
        engine = part.engine
        P = np.asarray(part.patterns, dtype=bool)
        counts[i] = part.n_regions
        cut[i] = int(np.count_nonzero(P.any(axis=0) & ~P.all(axis=0))) if P.shape[0] else 0
        partial[i] = bool(part.partial)
    return {"regions": counts, "units_cut": cut, "partial": partial, "engine": engine,
            "radius": float(radius), "kind": kind, "dim": dim, "seed": seed}
