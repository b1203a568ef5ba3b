"""One entry point for every engine: :func:`partition` and :func:`count`.

The engine is chosen by the dimension of the domain's parameter space:
1 (interval, segment, line) -> :mod:`regions.line`; 2 (box of a 2-input
network, plane slice, polygon) -> :mod:`regions.planar`; 3 and more, and
unbounded 2-D domains (all of R^2, half-planes), which the planar engine
does not take -> :mod:`regions.polytope`.
"""

from __future__ import annotations

import importlib
import inspect

from ._common import CountResult
from ._errors import RegionsError
from .domains import Domain, box
from .network import Network

__all__ = ["partition", "count", "default_domain", "engine_for"]

# dimension -> (module, partition function, count function)
_ENGINES = {
    1: ("regions.line", "partition_line", "count_line"),
    2: ("regions.planar", "partition_plane", "count_plane"),
    3: ("regions.polytope", "partition_polytope", "count_polytope"),
}


def default_domain(net: Network) -> Domain:
    """The box ``[-1, 1]^d`` of the network's input space."""
    return box(-1.0, 1.0, dim=net.input_dim)


def engine_for(domain: Domain) -> tuple:
    """``(module, partition, count)`` for the domain; raises if not available."""
    key = min(domain.dim, 3)
    if key == 2 and not domain.bounded:
        key = 3  # the polytope engine certifies unbounded regions
    name, part, cnt = _ENGINES[key]
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise RegionsError(
            f"expected a 1-D domain: the engine for {domain.dim}-D domains is not "
            f"available in this version, got a {domain.dim}-D {domain.kind}"
        ) from None
    return mod, getattr(mod, part), getattr(mod, cnt)


def _check(net, domain):
    if not isinstance(net, Network):
        raise RegionsError(f"expected a regions.Network, got {type(net).__name__}")
    if domain is None:
        domain = default_domain(net)
    if not isinstance(domain, Domain):
        raise RegionsError(f"expected a regions.domains.Domain, got {type(domain).__name__}")
    return domain


def partition(net: Network, domain: Domain | None = None, **options):
    """The activation regions of ``net`` on ``domain`` (default ``[-1, 1]^d``), exactly.

    Returns the engine's partition object (``LinePartition`` in 1-D,
    ``PlanarPartition`` in 2-D, ``PolytopePartition`` beyond); all have
    ``n_regions``, ``n_pieces``, ``patterns``, ``layer_counts``,
    ``count()`` and ``verify()``.
    """
    domain = _check(net, domain)
    _, part, _ = engine_for(domain)
    return part(net, domain, **options)


def count(net: Network, domain: Domain | None = None, *, max_regions: int | None = None,
          progress: bool = False) -> CountResult:
    """Count the activation regions (and affine pieces) of ``net`` on ``domain``.

    Uses each engine's count-only path where it has one (bounded memory).

    Parameters
    ----------
    max_regions : int, optional
        Stop once more regions than this are found; the result is then
        flagged ``partial`` and its numbers are lower bounds.
    progress : bool
        Show a progress bar per layer, for the engines that report progress
        (the n-D engine; the 1-D and 2-D engines are fast enough without).
    """
    domain = _check(net, domain)
    _, _, cnt = engine_for(domain)
    options = {} if max_regions is None else {"max_regions": max_regions}
    if progress and "progress" in inspect.signature(cnt).parameters:
        options["progress"] = True
    return cnt(net, domain, **options)
