"""Engine choice by cost, and the budget that refuses a job up front.

Before a count without a named engine, :func:`estimate_cost` looks at the
job for a fraction of a second: the domain's dimension, the ``2^d``
vertices of a bounded box (the vertex engine carries them), the distinct
activation patterns at :data:`SAMPLES` seeded random points (a lower bound
on the regions), the Chao1 estimate of the number of patterns from those
samples' frequencies (Chao 1984: ``D + f1 (f1 - 1) / (2 (f2 + 1))`` with
``f1``, ``f2`` the patterns seen once and twice; it is itself an estimate
of a lower bound of the richness, so it under- rather than over-states),
and Serra et al.'s (2018) upper bound.  The expected number of regions is
the Chao1 estimate capped by the upper bound.

:func:`choose_engine` compares two rough time models (seconds of one
core), fitted to He-initialised ``d-8-8-1`` and ``784-8-6-10`` boxes
(``benchmarks/bench_lp.py``):

* vertex engine (``polytope``): ``regions * n_hidden * POLYTOPE_UNIT * 3^d``
  (the regions of a box in ``d`` dimensions carry vertices by the ``2^d``;
  measured 60 us per region at d = 7, 1.9 ms at d = 10, 4.4 ms at d = 11
  for 16 units);
* LP engine (``lp``): ``regions * n_hidden * LP_UNIT * (1 + d / 256)``
  (about one small LP per region and unit; 1.5 ms per region at d = 7..10,
  6 ms at d = 784 for 14 units).

The two cross near ``d = 10``; the LP engine's memory is bounded (depth
first) and the vertex engine's is not, so within a factor
:data:`LP_TIE` the LP engine is taken.

:func:`check_budget` refuses a job whose expected number of regions exceeds
:data:`MAX_ESTIMATED_REGIONS` when no ``max_regions`` was given: the engines
take about a millisecond per region and the vertex engine's memory grows
with the regions, so such a job would run for hours or exhaust memory
without a word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.theory import serra_upper_bound
from ..domains import Domain
from ..errors import RegionsError
from ..model.network import Network

__all__ = ["LP_TIE", "LP_UNIT", "MAX_ESTIMATED_REGIONS", "POLYTOPE_UNIT", "SAMPLES", "Cost", "check_budget",
           "choose_engine", "estimate_cost"]

#: Seeded random points whose activation patterns give the sampled estimates.
SAMPLES = 4096
#: A job expected to hold more regions than this is refused unless ``max_regions`` is given.
MAX_ESTIMATED_REGIONS = 1_000_000
#: Seconds per region and hidden unit of the vertex engine, times 3^-d (see the module docstring).
POLYTOPE_UNIT = 1.7e-9
#: Seconds per region and hidden unit of the LP engine, at d << 256.
LP_UNIT = 1e-4
#: The LP engine is taken when its modelled time is within this factor of the vertex engine's.
LP_TIE = 1.25


@dataclass(frozen=True)
class Cost:
    """What a job is expected to cost (see the module docstring).

    Attributes
    ----------
    dim : int
    box_vertices : int or None
        ``2^d`` for a bounded box, else None.
    regions_lower : int
        Distinct patterns at the samples (a lower bound).
    regions_expected : int
        Chao1 estimate capped by the upper bound.
    regions_upper : int or None
        Serra et al. 2018.
    seconds : dict
        Engine name -> modelled seconds (``polytope``, ``lp``).
    """

    dim: int
    box_vertices: int | None
    regions_lower: int
    regions_expected: int
    regions_upper: int | None
    seconds: dict

    def describe(self) -> str:
        up = "unknown" if self.regions_upper is None else f"{_short(self.regions_upper)}"
        return (f"~{_short(self.regions_expected)} regions (distinct patterns at {SAMPLES:,} sampled points: "
                f"{self.regions_lower:,}; upper bound {up})")


def _short(n: int) -> str:
    return f"{n:,}" if n < 10**7 else f"{float(n):.2g}"


def _sample(net: Network, domain: Domain, samples: int, seed: int) -> np.ndarray:
    """Patterns at seeded points of a box-shaped domain (parameter coordinates; Gaussian where unbounded)."""
    pulled = domain.pullback(net)
    rng = np.random.default_rng(seed)
    k = domain.dim
    lo, hi = domain.lo, domain.hi
    both = np.isfinite(lo) & np.isfinite(hi)
    U = rng.uniform(0.0, 1.0, size=(samples, k))
    G = rng.normal(0.0, domain.scale, size=(samples, k))
    X = np.where(both, np.where(both, lo, 0.0) + U * np.where(both, hi - lo, 0.0), G)
    X = np.where(np.isfinite(lo) & ~np.isfinite(hi), np.where(np.isfinite(lo), lo, 0.0) + np.abs(G), X)
    X = np.where(~np.isfinite(lo) & np.isfinite(hi), np.where(np.isfinite(hi), hi, 0.0) - np.abs(G), X)
    return pulled.patterns(X)


def estimate_cost(net: Network, domain: Domain, *, samples: int = SAMPLES, seed: int = 0) -> Cost:
    """Sampled and theoretical region estimates and per-engine work for a box-shaped domain.

    Parameters
    ----------
    net : Network
    domain : Domain
        A box (bounded or not) or an affine slice with box parameters.
    samples, seed : int, keyword-only

    Returns
    -------
    Cost
    """
    if domain.vertices is not None:
        raise RegionsError(f"expected a box-shaped domain for a cost estimate, got a {domain.kind}")
    k = domain.dim
    P = _sample(net, domain, samples, seed)
    if P.shape[1]:
        _, freq = np.unique(np.packbits(P, axis=1), axis=0, return_counts=True)
    else:
        freq = np.array([samples])
    seen = int(freq.size)
    f1 = int(np.count_nonzero(freq == 1))
    f2 = int(np.count_nonzero(freq == 2))
    chao = seen + (f1 * (f1 - 1)) // (2 * (f2 + 1))
    widths = [w for w in domain.pullback(net).widths]
    try:
        upper = int(serra_upper_bound(k, widths)) if widths else 1
    except (RegionsError, OverflowError, ValueError):
        upper = None
    expected = chao if upper is None else min(chao, upper)
    expected = max(expected, seen)
    nh = max(int(net.n_hidden), 1)
    verts = 2 ** k if domain.bounded else None
    seconds = {"polytope": float(expected) * nh * POLYTOPE_UNIT * 3.0 ** min(k, 200),
               "lp": float(expected) * nh * LP_UNIT * (1.0 + k / 256.0)}
    return Cost(k, verts, seen, int(expected), upper, seconds)


def choose_engine(net: Network, domain: Domain, cost: Cost | None = None) -> str:
    """The engine for a job without a named one: line (1-D), planar (bounded 2-D), else the cheaper n-D one.

    Unbounded domains go to the vertex engine (it certifies bounded and
    unbounded regions); bounded boxes of 3 or more dimensions to whichever
    of ``polytope`` and ``lp`` has the smaller modelled time (ties within
    :data:`LP_TIE` to the LP engine, whose memory is bounded).
    """
    if domain.dim == 1:
        return "line"
    if domain.dim == 2 and (domain.bounded or domain.vertices is not None):
        return "planar"
    if domain.vertices is not None or not domain.bounded:
        return "polytope"
    if cost is None:
        cost = estimate_cost(net, domain)
    return "lp" if cost.seconds["lp"] <= LP_TIE * cost.seconds["polytope"] else "polytope"


def check_budget(net: Network, domain: Domain, cost: Cost, *, budget: int = MAX_ESTIMATED_REGIONS) -> None:
    """Refuse, in one sentence naming the estimate and the options, a job expected to exceed ``budget`` regions.

    Raises
    ------
    RegionsError
    """
    if cost.regions_expected <= budget:
        return
    raise RegionsError(
        f"expected a job of at most {budget:,} regions without max_regions, got an estimate of "
        f"{cost.describe()} for a {net.arch} network on a {domain.dim}-D {domain.kind}: pass max_regions "
        f"(--max-regions N, a partial count and lower bound), count a slice (--segment, --line, --plane), "
        f"count all of R^d by reduction (--whole), or name an engine (--engine) to run it regardless"
    )
