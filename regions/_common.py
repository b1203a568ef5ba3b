"""Named tolerances and the count record shared by every engine.

Tolerances
----------
``ZERO_RTOL``
    A pre-activation (or its slope along a region) is taken to be exactly
    zero when its absolute value is at most ``ZERO_RTOL`` times its
    *magnitude*: the same sum computed with absolute values,
    ``|W| |h| + |b|``.  This absorbs the rounding of cancelling sums
    (duplicate neurons, a neuron minus its copy, dead units) and nothing
    else: a real value that small is below the resolution of float64 sums.
``BREAK_RTOL``
    Two breakpoints on a line closer than ``BREAK_RTOL * max(scale, |t|)``
    are one breakpoint (coincident hyperplanes computed by different
    roundings); ``scale`` is :attr:`regions.domains.Domain.scale`.  Real
    regions narrower than that are below float64's resolution of the
    domain and cannot be certified by any float64 engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ZERO_RTOL", "BREAK_RTOL", "CountResult", "merge_pieces"]

EPS = float(np.finfo(np.float64).eps)
#: Relative size under which a sum is zero (see module docstring).
ZERO_RTOL = 256 * EPS  # ~5.7e-14
#: Relative distance under which two breakpoints coincide (see module docstring).
BREAK_RTOL = 64 * EPS  # ~1.4e-14


def merge_pieces(n_regions: int, r1: np.ndarray, r2: np.ndarray) -> tuple[np.ndarray, int]:
    """Affine pieces from the pairs of neighbouring regions with one output map.

    Parameters
    ----------
    n_regions : int
    r1, r2 : ndarray of int, shape (P,)
        Neighbouring regions whose output maps are equal.

    Returns
    -------
    labels : ndarray of int, shape (n_regions,)
        The piece of every region (connected components of the pairs).
    n_pieces : int
    """
    if r1.size == 0:
        return np.arange(n_regions), int(n_regions)
    from scipy.sparse import coo_matrix  # noqa: PLC0415 -- only when some regions merge
    from scipy.sparse.csgraph import connected_components  # noqa: PLC0415

    graph = coo_matrix((np.ones(r1.shape[0], dtype=np.int8), (r1, r2)), shape=(n_regions, n_regions))
    n, labels = connected_components(graph, directed=False)
    return labels, int(n)


@dataclass
class CountResult:
    """Counts of a partition, without the regions themselves.

    Attributes
    ----------
    regions : int
        Activation regions: maximal connected sets with one activation pattern.
    pieces : int or None
        Affine pieces: neighbouring regions with the same output map merged.
    layer_counts : list of int
        Regions after the first l hidden layers, l = 1..depth.
    engine : str
        Which engine counted (``"line"``, ``"planar"``, ``"polytope"``).
    partial : bool
        True when the count stopped early (``max_regions``); then the numbers
        are lower bounds for the layer being processed.
    bounded, unbounded : int or None
        Split of ``regions`` for unbounded domains, where the engine reports it.
    """

    regions: int
    pieces: int | None
    layer_counts: list[int]
    engine: str
    partial: bool = False
    bounded: int | None = None
    unbounded: int | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = {
            "regions": int(self.regions),
            "pieces": None if self.pieces is None else int(self.pieces),
            "layer_counts": [int(c) for c in self.layer_counts],
            "engine": self.engine,
            "partial": bool(self.partial),
        }
        if self.bounded is not None:
            out["bounded"] = int(self.bounded)
            out["unbounded"] = int(self.unbounded)
        out.update(self.extra)
        return out
