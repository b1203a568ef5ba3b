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
the Chao1 estimate capped by the upper bound, unless the sample is
*saturated*.

A sample is saturated when more than half its points see a pattern no
other point sees (``f1 > samples / 2``: Good and Turing's coverage
estimate ``1 - f1 / samples`` is below one half).  The distinct patterns
are then only a lower bound, and Chao1 (which grows like ``f1^2 / f2``)
falls far short: 4,096 points on a 3-300-300-1 net give 4,081 patterns
and a Chao1 of ~520,000 for a count in the tens of millions.  A saturated
sample is therefore not used for the expectation.  Instead
(:func:`_density`), on a bounded box of at most :data:`DENSITY_MAX_DIM`
dimensions, sub-boxes of ``1/2, 1/4, ...`` the side (down to ``1/1024``)
around seeded centres are sampled until fewer than ``1 /`` :data:`DENSITY_F1`
of each sub-box's points are singletons, and the mean Chao1 estimate per
sub-box is scaled up by the volume ratio (the region density of the
sub-boxes times the box's volume).  It is an estimate, not a bound:
measured at 0.92, 0.49 and 0.81 times the exact counts of He-initialised
3-64-64-1, 4-50-50-1 and 3-100-100-1 nets on ``[-1, 1]^d`` (seed 0;
63,787, 564,169 and 396,162 regions, where the saturated Chao1 said 9,440,
27,238 and 31,319).  Where no sub-box
desaturates, or the domain is unbounded or of higher dimension, the
expectation is the upper bound itself: nothing smaller is supported by
the sample.  :attr:`Cost.method` names which of the three was used, and
the refusal sentence says so.

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
:data:`MAX_ESTIMATED_REGIONS` when no ``max_regions`` was given, whatever
the engine (named or chosen): the engines take about a millisecond per
region and the vertex engine's memory grows with the regions, so such a
job would run for hours or exhaust memory without a word.  A split count
(``jobs``/``state``) is not refused: it records and resumes its
subproblems.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.theory import serra_upper_bound
from ..domains import Domain
from ..errors import RegionsError
from ..model.network import Network

__all__ = ["DENSITY_CENTRES", "DENSITY_F1", "DENSITY_MAX_DIM", "LP_TIE", "LP_UNIT", "MAX_ESTIMATED_REGIONS",
           "POLYTOPE_UNIT", "SAMPLES", "Cost", "check_budget", "choose_engine", "estimate_cost"]

#: Seeded random points whose activation patterns give the sampled estimates.
SAMPLES = 4096
#: Highest dimension in which a saturated sample is extrapolated from sub-box densities.
DENSITY_MAX_DIM = 8
#: Sub-box centres (each with ``SAMPLES / DENSITY_CENTRES`` points) of the density extrapolation.
DENSITY_CENTRES = 4
#: A sub-box's sample is used once at most ``1 / DENSITY_F1`` of its points are singletons.
DENSITY_F1 = 8
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
        Chao1 estimate capped by the upper bound; for a saturated sample the
        sub-box density extrapolation or the upper bound (see ``method``).
    regions_upper : int or None
        Serra et al. 2018.
    seconds : dict
        Engine name -> modelled seconds (``polytope``, ``lp``).
    saturated : bool
        More than half the sampled points saw a pattern no other point saw.
    method : str
        How ``regions_expected`` was obtained: ``"chao1"``, ``"density"`` or ``"upper bound"``.
    """

    dim: int
    box_vertices: int | None
    regions_lower: int
    regions_expected: int
    regions_upper: int | None
    seconds: dict
    saturated: bool = False
    method: str = "chao1"

    def describe(self) -> str:
        up = "unknown" if self.regions_upper is None else f"{_short(self.regions_upper)}"
        if not self.saturated:
            return (f"~{_short(self.regions_expected)} regions (distinct patterns at {SAMPLES:,} sampled points: "
                    f"{self.regions_lower:,}; upper bound {up})")
        how = ("extrapolated from the pattern density in sub-boxes" if self.method == "density"
               else "taken as the upper bound, as no smaller estimate is supported")
        return (f"~{_short(self.regions_expected)} regions ({how}: the {SAMPLES:,} sampled points are saturated, "
                f"their {self.regions_lower:,} distinct patterns only a lower bound; upper bound {up})")


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
    with np.errstate(over="ignore", invalid="ignore"):  # boxes near float64's range: an estimate, no warning
        return pulled.patterns(X)


def _richness(P: np.ndarray, n: int) -> tuple[int, int, int]:
    """Distinct patterns, the Chao1 estimate, and the singletons ``f1`` of ``n`` sampled patterns."""
    if P.shape[1]:
        _, freq = np.unique(np.packbits(P, axis=1), axis=0, return_counts=True)
    else:
        freq = np.array([n])
    seen = int(freq.size)
    f1 = int(np.count_nonzero(freq == 1))
    f2 = int(np.count_nonzero(freq == 2))
    return seen, seen + (f1 * (f1 - 1)) // (2 * (f2 + 1)), f1


def _density(net: Network, domain: Domain, samples: int, seed: int, chao: int) -> int | None:
    """Regions of a bounded box extrapolated from sub-box densities (module docstring); None if none desaturates.

    The first sub-box tried is the one that would hold ``samples / (DENSITY_CENTRES * DENSITY_F1)``
    regions if the whole box held ``chao`` (an underestimate when saturated, so smaller sub-boxes follow).
    """
    pulled = domain.pullback(net)
    lo, hi = domain.lo, domain.hi
    k = domain.dim
    rng = np.random.default_rng(seed + 1)
    per = max(samples // DENSITY_CENTRES, 64)
    centres = lo + rng.uniform(0.0, 1.0, size=(DENSITY_CENTRES, k)) * (hi - lo)
    first = int(np.log2(max(chao * DENSITY_F1 / per, 2.0)) // k) if k else 1
    for level in range(max(first, 1), 11):
        f = 0.5 ** level
        side = f * (hi - lo)
        est = []
        for c in centres:  # a handful of sub-boxes, not a loop per region
            a = np.clip(c - side / 2, lo, hi - side)
            X = a + rng.uniform(0.0, 1.0, size=(per, k)) * side
            with np.errstate(over="ignore", invalid="ignore"):
                P = pulled.patterns(X)
            seen, chao, f1 = _richness(P, per)
            if DENSITY_F1 * f1 > per:
                break
            est.append(chao)
        else:
            return int(np.ceil(float(np.mean(est)) / f ** k))
    return None


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
    seen, chao, f1 = _richness(P, samples)
    widths = [w for w in domain.pullback(net).widths]
    try:
        upper = int(serra_upper_bound(k, widths)) if widths else 1
    except (RegionsError, OverflowError, ValueError):
        upper = None
    saturated = 2 * f1 > samples
    method = "chao1"
    if saturated:
        dens = _density(net, domain, samples, seed, chao) if domain.bounded and k <= DENSITY_MAX_DIM else None
        if dens is not None:
            chao, method = max(chao, dens), "density"
        elif upper is not None:
            chao, method = upper, "upper bound"
    expected = chao if upper is None else min(chao, upper)
    expected = max(expected, seen)
    nh = max(int(net.n_hidden), 1)
    verts = 2 ** k if domain.bounded else None
    seconds = {"polytope": float(expected) * nh * POLYTOPE_UNIT * 3.0 ** min(k, 200),
               "lp": float(expected) * nh * LP_UNIT * (1.0 + k / 256.0)}
    return Cost(k, verts, seen, int(expected), upper, seconds, saturated, method)


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
        f"(--max-regions N to count up to a budget: a partial count and lower bound), count a slice "
        f"(--segment, --line, --plane), count all of R^d by reduction (--whole), or split the count into "
        f"resumable subproblems (jobs/state; --jobs/--state)"
    )
