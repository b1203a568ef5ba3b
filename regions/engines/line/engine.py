"""The 1-D engine behind the engine contract."""

from __future__ import annotations

from ...domains import Domain
from ...model.network import Network
from ..base import Engine
from .kernel import count_line, partition_line
from .split import LineSplit

__all__ = ["LineEngine"]


class LineEngine(Engine):
    """Intervals, segments and lines through the input space of any network."""

    name = "line"
    description = "exact 1-D engine: intervals, segments and lines (bounded or not)"
    splitter = LineSplit()

    def supports(self, net: Network, domain: Domain) -> str | None:
        if domain.dim != 1:
            return f"it takes 1-D domains, got a {domain.dim}-D {domain.kind}"
        return None

    def _partition(self, net, domain, *, max_regions, progress):
        return partition_line(net, domain, max_regions=max_regions, progress=progress)

    def _count(self, net, domain, *, max_regions, progress):
        return count_line(net, domain, max_regions=max_regions, progress=progress)
