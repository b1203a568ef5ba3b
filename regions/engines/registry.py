"""One entry point for every engine: :func:`partition` and :func:`count`.

Engines register themselves here as :class:`~regions.engines.base.Engine`
objects.  :func:`select` picks one for a job: the one the caller names, or
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
from .base import Engine, check_options
from .line.engine import LineEngine
from .lp.engine import LPEngine
from .opgraph import count_graph, partition_graph
from .planar.engine import PlanarEngine
from .polytope.engine import PolytopeEngine

__all__ = ["count", "default_domain", "engines", "get_engine", "partition", "register", "select"]

_REGISTRY: dict[str, Engine] = {}


def register(engine: Engine, *, replace: bool = False) -> Engine:
    """Add ``engine`` to the registry under ``engine.name``; returns it."""
    if not isinstance(engine, Engine) or not engine.name:
        raise RegionsError(f"expected an Engine instance with a name, got {engine!r}")
    if engine.name in _REGISTRY and not replace:
        raise RegionsError(f"expected a new engine name, got {engine.name!r}, which is registered already")
    _REGISTRY[engine.name] = engine
    return engine


def engines() -> dict[str, Engine]:
    """The registered engines by name (a copy)."""
    return dict(_REGISTRY)


def get_engine(name: str) -> Engine:
    """The engine registered under ``name``."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise RegionsError(
            f"expected an engine name among {', '.join(sorted(_REGISTRY))}, got {name!r}"
        ) from None


for _engine in (LineEngine(), PlanarEngine(), PolytopeEngine(), LPEngine()):
    register(_engine)


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
    """The cost estimate of a job without a named engine or max_regions (n-D boxes), refused above the budget."""
    if engine is not None or max_regions is not None or domain.vertices is not None or domain.dim <= 2:
        return None
    from .cost import check_budget, estimate_cost  # noqa: PLC0415

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
    from .cost import choose_engine  # noqa: PLC0415

    eng = _REGISTRY[choose_engine(net, domain, cost)]
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
        from ..execution.split import count_split  # noqa: PLC0415 -- execution imports the registry

        return count_split(net, domain, select(net, domain, engine), jobs=jobs, scheduler=scheduler,
                           state=state, progress=progress)
    cost = _budget(net, domain, engine, max_regions)
    if engine is None and domain.kind == "whole" and domain.basis is None and domain.dim > 2:
        from .lp.reduce import count_whole  # noqa: PLC0415 -- all of R^d: reduce to the first layer's rank

        return count_whole(net, max_regions=max_regions, progress=progress)
    return select(net, domain, engine, cost=cost).count(net, domain, max_regions=max_regions, progress=progress)
