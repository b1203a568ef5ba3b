"""Local complexity: the exact number of regions meeting a neighbourhood of each data point.

Hanin and Rolnick (2019) measure the density of regions around data;
Humayun, Balestriero and Baraniuk (2024) approximate it by the number of
units whose zero set meets a neighbourhood.  :func:`local_complexity`
computes both, exactly, for every point:

* ``dim=None``: the neighbourhood is the l-infinity box of half-side
  ``radius`` around the point in the full input space (LP engine);
* ``dim=P``: a random P-dimensional box frame through the point
  (orthonormal directions drawn from ``seed``, parameters in
  ``[-radius, radius]^P``), partitioned by the engine chosen for P
  dimensions.

The proxy counts the hidden units whose zero set cuts the neighbourhood's
interior: the units that take both states among the regions found (exact,
read off the partition, not linearised).
"""

from __future__ import annotations

import numpy as np

from ..domains import affine_slice, box
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
        Half-side of the box (> 0).
    kind : {"box"}, keyword-only
        Shape of the neighbourhood.
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
    if kind != "box":
        raise RegionsError(f"expected kind 'box', got {kind!r}")
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
            part = partition(net, dom, engine="lp", max_regions=max_regions)
        else:
            Q, _ = np.linalg.qr(rng.normal(size=(d, dim)))
            dom = affine_slice(X[i], Q, -radius, radius)
            part = partition(net, dom, max_regions=max_regions)
        engine = part.engine
        P = np.asarray(part.patterns, dtype=bool)
        counts[i] = part.n_regions
        cut[i] = int(np.count_nonzero(P.any(axis=0) & ~P.all(axis=0))) if P.shape[0] else 0
        partial[i] = bool(part.partial)
    return {"regions": counts, "units_cut": cut, "partial": partial, "engine": engine,
            "radius": float(radius), "kind": kind, "dim": dim, "seed": seed}
