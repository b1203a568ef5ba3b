"""The LP engine behind the engine contract."""

from __future__ import annotations

from ...domains import Domain
from ...model.network import Network
from ..base import Engine, Estimate
from .kernel import count_lp, partition_lp

__all__ = ["LPEngine"]


class LPEngine(Engine):
    """Boxes of any dimension (high dimension: no vertices), regions as H-representations."""

    name = "lp"
    description = "exact LP engine: boxes in high dimension, regions as inequalities with Chebyshev LPs"

    def supports(self, net: Network, domain: Domain) -> str | None:
        if domain.vertices is not None:
            return f"it takes box-shaped domains, got a {domain.kind}"
        if domain.dim < 2:
            return f"it takes domains of 2 or more dimensions (the 1-D engine is exact and faster), got a {domain.dim}-D {domain.kind}"
        return None

    def estimate(self, net: Network, domain: Domain) -> Estimate:
        base = super().estimate(net, domain)
        upper = base.regions_upper
        # about one LP per region and hidden unit, ~1 ms per 100 dimensions each
        secs = None if upper is None else float(upper) * net.n_hidden * (2e-4 + 5e-6 * domain.dim)
        return Estimate(regions_upper=upper, seconds=secs, bytes=float(8 * domain.dim * net.n_hidden * 64),
                        notes="upper bound of Serra et al. 2018; one LP per region and unit")

    def _partition(self, net, domain, *, max_regions, progress):
        return partition_lp(net, domain, max_regions=max_regions, progress=progress)

    def _count(self, net, domain, *, max_regions, progress):
        return count_lp(net, domain, max_regions=max_regions, progress=progress)
