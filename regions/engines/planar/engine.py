"""The 2-D engine behind the engine contract."""

from __future__ import annotations

from ...domains import Domain
from ...model.network import Network
from ..base import Engine
from .kernel import count_plane, partition_plane
from .split import PlanarSplit

__all__ = ["PlanarEngine"]


class PlanarEngine(Engine):
    """Bounded convex 2-D domains: boxes of 2-input networks, plane slices, polygons."""

    name = "planar"
    description = "exact 2-D engine: bounded boxes, plane slices and convex polygons"
    splitter = PlanarSplit()

    def supports(self, net: Network, domain: Domain) -> str | None:
        if domain.dim != 2:
            return f"it takes 2-D domains, got a {domain.dim}-D {domain.kind}"
        if not domain.bounded:
            return f"it takes bounded domains, got an unbounded {domain.kind}"
        return None

    def _partition(self, net, domain, *, max_regions, progress):
        return partition_plane(net, domain, max_regions=max_regions, progress=progress)

    def _count(self, net, domain, *, max_regions, progress):
        return count_plane(net, domain, max_regions=max_regions, progress=progress)
