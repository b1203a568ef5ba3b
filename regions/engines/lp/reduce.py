"""All of R^d by exact reduction to the image of the first layer.

The network sees ``x`` only through ``z = W_1 x + b_1``.  Write
``W_1 = B C`` with ``C`` (r x d) orthonormal rows spanning the row space of
``W_1`` and ``B = W_1 C^T`` (n_1 x r) of full column rank, ``r = rank W_1``.
``x -> y = C x`` maps ``R^d`` onto ``R^r``, and every activation region of
``R^d`` is the preimage ``C^{-1}(Q)`` of exactly one region ``Q`` of the
network with first layer ``(B, b_1)`` on ``R^r`` (preimages of disjoint open
connected sets under a linear surjection are disjoint, open and connected).
So the counts agree, and a region of ``R^d`` is bounded iff ``r = d`` and
its image is bounded.

Rank
----
``r`` is the number of singular values above ``RANK_RTOL`` (``d * eps``
times the largest, numpy's convention).  The split is verified: no singular
value may lie in the ambiguous band up to ``1e6 * RANK_RTOL`` (else
:class:`~regions.errors.NumericalError`), and the factorisation must
reproduce ``W_1`` to ``ZERO_RTOL`` of its entries' magnitude.  A rank below
``min(n_1, d)`` is a claim that the small singular values are exact zeros, so it
is confirmed in exact rational arithmetic (:func:`~.certify.exact_rank`, for
first layers up to :data:`EXACT_RANK_MAX` entries): a product of float
matrices rounded to float64 is usually of full rank exactly, its hyperplanes
meeting far out ("features at infinity"), and is then not reduced -- it is
counted on ``R^d`` itself, whose walk counts those features exactly or refuses.
"""

from __future__ import annotations

import numpy as np

from ...core.result import CountResult
from ...core.tolerances import EPS, ZERO_RTOL
from ...domains import whole
from ...errors import NumericalError, RegionsError
from ...model.network import Network
from ..base import Engine
from ..polytope.engine import PolytopeEngine
from .certify import exact_rank

__all__ = ["EXACT_RANK_MAX", "count_whole", "reduce_whole"]

#: Most first-layer entries whose rank is confirmed in rational arithmetic before a reduction.
EXACT_RANK_MAX = 200_000


def reduce_whole(net: Network) -> tuple[Network, np.ndarray]:
    """The network on ``R^r`` whose regions are the images of ``net``'s regions of ``R^d``.

    Returns
    -------
    reduced : Network
        First layer ``(B, b_1)``, ``B`` shaped (n_1, r); other layers unchanged.
    C : ndarray, shape (r, d)
        Orthonormal rows; ``y = C x`` maps ``R^d`` onto ``R^r`` and
        ``C.T @ y`` lifts a point back (same pattern).
    """
    if not isinstance(net, Network):
        raise RegionsError(f"expected a regions.Network, got {type(net).__name__}")
    W, b = net.layers[0]
    d = W.shape[1]
    _, s, Vt = np.linalg.svd(W, full_matrices=False)
    smax = float(s[0]) if s.size else 0.0
    tol = max(W.shape) * EPS * smax
    band = (s > tol) & (s <= 1e6 * tol)
    if band.any():
        raise NumericalError(
            f"expected the first layer's singular values to separate clearly into zero and non-zero, "
            f"got {s[band].tolist()} within a factor 1e6 of the rank tolerance {tol:.3g}"
        )
    r = int(np.count_nonzero(s > tol))
    if r == 0:
        r = 1  # a constant first layer: one region; keep one coordinate
    if r < min(W.shape):  # the dropped singular values are claimed to be exact zeros: confirm it
        if W.size > EXACT_RANK_MAX:
            raise NumericalError(
                f"expected a first layer of at most {EXACT_RANK_MAX} entries to confirm its rank {r} "
                f"exactly before reducing R^{d}, got {W.size}: count a bounded box instead")
        if exact_rank(W) > r:  # full rank in exact arithmetic: features at infinity, no reduction
            return net, np.eye(d)
    C = Vt[:r]
    B = W @ C.T
    err = np.abs(B @ C - W)
    if np.any(err > ZERO_RTOL * 64 * (np.abs(B) @ np.abs(C) + smax * EPS * d)):
        raise NumericalError("expected W1 = B C to reproduce the first layer, got a residual above tolerance")
    if r == d:
        return net, np.eye(d)
    return Network([(B, b), *net.layers[1:]], negative_slope=net.negative_slope), C


def count_whole(net: Network, *, engine: Engine | None = None, max_regions: int | None = None,
                progress: bool = False) -> CountResult:
    """Count the regions of all of ``R^d`` through the reduction to ``R^r`` (see module docstring).

    The reduced network is counted on ``whole(r)`` by ``engine``, an
    :class:`~regions.engines.base.Engine` (default: the polytope engine, which
    certifies bounded and unbounded regions; another registered one:
    ``regions.engines.registry.get_engine(name)``).
    ``extra["reduced_dim"]`` records ``r``.
    """
    red, C = reduce_whole(net)
    r = C.shape[0]
    if engine is not None and not isinstance(engine, Engine):
        raise RegionsError(f"expected an Engine (regions.engines.registry.get_engine(name)) or None, got {engine!r}")
    eng = PolytopeEngine() if engine is None else engine
    res = eng.count(red, whole(r), max_regions=max_regions, progress=progress)
    d = net.input_dim
    extra = dict(res.extra)
    extra["reduced_dim"] = r
    if r < d and res.bounded is not None:
        return CountResult(res.regions, res.pieces, res.layer_counts, res.engine, partial=res.partial,
                           bounded=0, unbounded=res.regions, extra=extra)
    return CountResult(res.regions, res.pieces, res.layer_counts, res.engine, partial=res.partial,
                       bounded=res.bounded, unbounded=res.unbounded, extra=extra)
