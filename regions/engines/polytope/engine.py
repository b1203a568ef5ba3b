"""The n-D (vertex) engine behind the engine contract."""

from __future__ import annotations

from ...domains import Domain
from ...model.network import Network
from ..base import Engine, Estimate
from .kernel import count_polytope, partition_polytope, preflight
from .split import PolytopeSplit

__all__ = ["PolytopeEngine"]


class PolytopeEngine(Engine):
    """Boxes of any dimension, bounded or not (all of R^d, half-spaces)."""

    name = "polytope"
    description = "exact n-D engine: boxes of any dimension, bounded or not, regions as polyhedra"
    splitter = PolytopeSplit()

    def supports(self, net: Network, domain: Domain) -> str | None:
        if domain.vertices is not None:
            return f"it takes box-shaped domains (possibly unbounded), got a {domain.kind}"
        return None

    def estimate(self, net: Network, domain: Domain) -> Estimate:
        """Sampled lower bound (distinct patterns at 20,000 seeded points) and Serra et al.'s upper bound."""
        info = preflight(net, domain)
        return Estimate(regions_lower=int(info["sampled_lower_bound"]), regions_upper=int(info["upper_bound"]),
                        notes="lower: distinct patterns at 20,000 seeded random points; "
                              "upper: Serra et al. 2018")

    def _partition(self, net, domain, *, max_regions, progress):
        return partition_polytope(net, domain, max_regions=max_regions, progress=progress)

    def _count(self, net, domain, *, max_regions, progress):
        return count_polytope(net, domain, max_regions=max_regions, progress=progress)
