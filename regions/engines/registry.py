"""One entry point for every engine: :func:`partition` and :func:`count`.

Engines are :class:`~regions.engines.base.Engine` objects registered in
:mod:`regions.engines.catalog` (re-exported here).  :func:`select` picks one for a job: the one the caller names, or
by default the 1-D engine for 1-D domains, the 2-D engine for bounded 2-D
domains, the n-D vertex engine for unbounded ones (it certifies unbounded
regions) and, for bounded boxes of 3 or more dimensions, the vertex or the
LP engine by a cost estimate (:mod:`regions.engines.cost`), which also
refuses up front a job expected to exceed the regions budget.
"""

from __future__ import annotations

from ..core.result import CountResult
from ..domains import Domain, box
from ..errors import RegionsError
from ..model.network import Network
from ..model.ops import Graph
from ..execution.split import count_split
from .base import Engine, check_options
from .catalog import engines, get_engine, register
from .cost import check_budget, choose_engine, estimate_cost
from .lp.reduce import count_whole
from .opgraph import count_graph, partition_graph

__all__ = ["count", "default_domain", "engines", "get_engine", "partition", "register", "select"]

def default_domain(net: Network) -> Domain:
    """The box ``[-1, 1]^d`` of the network's input space."""
    return box(-1.0, 1.0, dim=net.input_dim)


def _check(net, domain) -> Domain:
    if not isinstance(net, Network):
        raise RegionsError(f"expected a regions.Network or an op graph (regions.from_torch), got {type(net).__name__}")
    if domain is None:
        domain = default_domain(net)
    if not isinstance(domain, Domain):
        raise RegionsError(f"expected a regions.domains.Domain, got {type(domain).__name__}")
    if domain.input_dim is not None and domain.input_dim != net.input_dim:
        raise RegionsError(
            f"expected a domain for a network with {net.input_dim} inputs, "
            f"got a {domain.kind} for {domain.input_dim} inputs"
        )
    return domain


def _budget(net, domain, engine, max_regions):
    """The cost estimate of a job without max_regions (n-D boxes, any engine), refused above the budget."""
    if max_regions is not None or domain.vertices is not None or domain.dim <= 2:
        return None
    cost = estimate_cost(net, domain)
    check_budget(net, domain, cost)  # refused up front, in one sentence, before any work
    return cost


def select(net: Network, domain: Domain, engine: str | Engine | None = None, *, cost=None) -> Engine:
    """The engine for ``(net, domain)``: the one named, or the cheapest (:func:`~regions.engines.cost.choose_engine`).

    ``cost``, a :class:`~regions.engines.cost.Cost` already estimated for the job, spares a second estimate.
    """
    if engine is not None:
        eng = engine if isinstance(engine, Engine) else get_engine(engine)
        eng._check_supported(net, domain)
        return eng
    eng = get_engine(choose_engine(net, domain, cost))
    eng._check_supported(net, domain)
    return eng


def partition(net: Network, domain: Domain | None = None, *, engine: str | None = None,
              max_regions: int | None = None, progress: bool = False):
    """The activation regions of ``net`` on ``domain`` (default ``[-1, 1]^d``), exactly.

    Parameters
    ----------
    net : Network
    domain : Domain, optional
    engine : str, optional, keyword-only
        A registered engine's name (:func:`engines`); by default chosen
        from the domain.
    max_regions : int, optional, keyword-only
        Stop once more regions than this are found; the partition is then
        flagged ``partial``.
    progress : bool, keyword-only
        Show progress where the engine reports it.

    Returns
    -------
    Partition
        The engine's partition (``LinePartition``, ``PlanarPartition``,
        ``PolytopePartition``); all follow :class:`~regions.engines.base.Partition`.
    """
    max_regions, progress = check_options(max_regions=max_regions, progress=progress)
    if isinstance(net, Graph):  # residual, max and per-layer operations: regions.engines.opgraph
        return partition_graph(net, domain, engine=engine, max_regions=max_regions, progress=progress)
    domain = _check(net, domain)
    cost = _budget(net, domain, engine, max_regions)
    return select(net, domain, engine, cost=cost).partition(net, domain, max_regions=max_regions, progress=progress)


def count(net: Network, domain: Domain | None = None, *, engine: str | None = None,
          max_regions: int | None = None, progress: bool = False, jobs: int | None = None,
          scheduler=None, state=None) -> CountResult:
    """Count the activation regions (and affine pieces) of ``net`` on ``domain``.

    Uses each engine's count-only path (bounded memory).  Options as in
    :func:`partition`; with ``max_regions`` the result may be flagged
    ``partial``, and its numbers are then lower bounds.

    ``jobs`` (local worker processes), ``scheduler`` (a Dask scheduler's
    address or client) and ``state`` (a folder recording finished
    subproblems, for resuming) split the count into independent subproblems
    and merge them: :func:`regions.execution.split.count_split`.
    """
    max_regions, progress = check_options(max_regions=max_regions, progress=progress)
    if isinstance(net, Graph):  # residual, max and per-layer operations: regions.engines.opgraph
        return count_graph(net, domain, engine=engine, max_regions=max_regions, progress=progress,
                           jobs=jobs, scheduler=scheduler, state=state)
    domain = _check(net, domain)
    if jobs is not None or scheduler is not None or state is not None:
        if max_regions is not None:
            raise RegionsError(f"expected max_regions=None with jobs, scheduler or state, got {max_regions!r}")
        return count_split(net, domain, select(net, domain, engine), jobs=jobs, scheduler=scheduler,
                           state=state, progress=progress)
    cost = _budget(net, domain, engine, max_regions)
    if engine is None and domain.kind == "whole" and domain.basis is None and domain.dim > 2:
        return count_whole(net, max_regions=max_regions, progress=progress)  # all of R^d: reduce to the rank
    return select(net, domain, engine, cost=cost).count(net, domain, max_regions=max_regions, progress=progress)
