"""Counting and partitioning op networks (:class:`regions.model.ops.Graph`): which engine runs.

An op network (residual connections, max pooling, maxout, per-layer
activations: what :func:`regions.from_torch` returns for any traceable
module) is lowered once (:func:`regions.model.ops.lower`) and walked by

* ``"line"``: the 1-D walk (:mod:`regions.engines.line.ops`), for 1-D
  domains (intervals, segments, lines);
* ``"planar"``: the 2-D mesh (:mod:`regions.engines.planar.ops`), for
  bounded 2-D domains (boxes of 2-input networks, convex polygons, plane
  slices through any input space); the default there;
* ``"lp"``: the H-polytope walk with Chebyshev LPs
  (:mod:`regions.engines.lp.ops`), for boxes of any dimension (bounded or
  not: on all of R^d it also splits the count into bounded and unbounded
  regions, and it merges affine pieces in every dimension), planes and
  polygons; the default elsewhere, and the fallback when
  the mesh refuses a domain whose signs float64 cannot decide at its size
  (:class:`~regions.errors.NumericalError`) and no engine was named.

Counts of a box (or slice over a box) wider than
:data:`regions.engines.ops_wide.WIDE_TRIGGER` feature radii are the regions
of the whole space that meet it, each confirmed at a point inside it
(:mod:`regions.engines.ops_wide`): exact at any width, or refused with the
reason.  Partitions of bounded domains wider than a measured number of
feature radii (:data:`regions.engines.planar.ops.OPS_WIDE`) are refused by
both the mesh and the LP walk (:class:`~regions.errors.NumericalError`),
never returned with lost regions.

The polytope vertex engine does not take op networks yet; naming it
refuses in one sentence.  Split runs (``jobs``, ``scheduler``, ``state``)
use the 1-D walk and the 2-D mesh (:mod:`regions.engines.opgraph_split`);
on a domain that only the LP walk takes they are refused.
"""

from __future__ import annotations

from ..core.result import CountResult
from ..domains import Domain, box
from ..errors import NumericalError, RegionsError
from ..model.ops import Graph, lower
from .line.ops import partition_line_ops
from .lp.ops import partition_lp_ops
from .ops_wide import count_wide, wide_ratio
from .planar.ops import partition_planar_ops, refuse_wide

__all__ = ["count_graph", "partition_graph"]

#: Engines that take op networks.
OP_ENGINES = ("line", "lp", "planar")


def _check(graph: Graph, domain) -> Domain:
    if domain is None:
        domain = box(-1.0, 1.0, dim=graph.input_dim)
    if not isinstance(domain, Domain):
        raise RegionsError(f"expected a regions.domains.Domain, got {type(domain).__name__}")
    want = domain.input_dim if domain.input_dim is not None else domain.dim
    if want != graph.input_dim:
        raise RegionsError(f"expected a domain for a network with {graph.input_dim} inputs, "
                           f"got a {domain.kind} for {want} inputs")
    return domain


def _engine(domain: Domain, engine) -> str:
    if engine is None:
        return "line" if domain.dim == 1 else "planar" if domain.dim == 2 and domain.bounded else "lp"
    name = getattr(engine, "name", engine)
    if name not in OP_ENGINES:
        raise RegionsError(f"expected engine 'line' (1-D), 'planar' (bounded 2-D) or 'lp' for a network "
                           f"with residual, max or per-layer operations, got {name!r}, which does not take "
                           f"op networks yet")
    if name == "line" and domain.dim != 1:
        raise RegionsError(f"expected a 1-D domain for the line engine, got a {domain.dim}-D {domain.kind}")
    if name == "planar" and (domain.dim != 2 or not domain.bounded):
        raise RegionsError(f"expected a bounded 2-D domain for the planar engine, got a {domain.dim}-D "
                           f"{'bounded' if domain.bounded else 'unbounded'} {domain.kind}")
    return name


def partition_graph(graph: Graph, domain: Domain | None = None, *, engine: str | None = None,
                    max_regions: int | None = None, progress: bool = False):
    """The activation regions of the op network ``graph`` on ``domain`` (default ``[-1, 1]^d``).

    Returns an ``OpLinePartition`` (1-D), an ``OpPlanarPartition`` (bounded
    2-D: also polygons, areas, edges) or an ``OpLPPartition``; all give
    ``n_regions``, ``patterns``, ``witnesses``, ``layer_counts``,
    ``measures``, ``output_maps()`` and ``count()``.  ``layer_counts`` are
    the regions after each non-linear operation (a residual block's ReLU,
    a pool, a maxout layer).
    """
    domain = _check(graph, domain)
    name = _engine(domain, engine)
    low = lower(graph)
    if name == "line":
        if max_regions is not None:
            raise RegionsError(f"expected max_regions=None for the 1-D op walk, got {max_regions!r}")
        return partition_line_ops(low, domain, network=graph)
    if name == "planar":
        refuse_wide(low, domain, "planar")
        try:
            return _confirm_wide(partition_planar_ops(low, domain, network=graph, max_regions=max_regions),
                                 low, domain, graph, name)
        except NumericalError:
            if engine is not None:
                raise
    refuse_wide(low, domain, "lp")
    return _confirm_wide(partition_lp_ops(low, domain, network=graph, max_regions=max_regions), low, domain,
                         graph, "lp")


def _confirm_wide(part, low, domain: Domain, graph: Graph, name: str):
    """``part`` where its domain is not wide, or where it agrees with the wide-box count; else refuse.

    A box wider than :data:`~.ops_wide.WIDE_TRIGGER` feature radii (but within the engine's width guard)
    is partitioned with tolerances of the box's size, which may lose a region a sliver wide; the count
    of :func:`~.ops_wide.count_wide` (the regions of ``R^k`` confirmed inside the box) decides every
    region at the features' own scale, so the partition is returned only where the two agree.
    """
    if getattr(part, "partial", False):
        return part
    ref = count_wide(low, domain, engine=name, network=graph)
    if ref is not None and ref.regions != part.n_regions:
        raise NumericalError(
            f"expected the {name} partition of a box {wide_ratio(low, domain):.3g} feature radii wide to "
            f"hold the {ref.regions} regions confirmed at the features' own scale, got "
            f"{part.n_regions}: a region there is thinner than the partition resolves; count it with "
            f"regions.count, or partition a smaller box"
        )
    return part


def count_graph(graph: Graph, domain: Domain | None = None, *, engine: str | None = None,
                max_regions: int | None = None, progress: bool = False, jobs=None, scheduler=None,
                state=None) -> CountResult:
    """Counts of :func:`partition_graph` (``pieces`` is None where the engine does not merge them)."""
    if jobs is not None or scheduler is not None or state is not None:
        return _count_split(graph, domain, engine=engine, max_regions=max_regions, progress=progress, jobs=jobs,
                            scheduler=scheduler, state=state)
    domain = _check(graph, domain)
    if _engine(domain, engine) != "line":  # a box far wider than the features: R^k's regions in it
        res = count_wide(lower(graph), domain, engine=engine, network=graph, max_regions=max_regions)
        if res is not None:
            return res
    return partition_graph(graph, domain, engine=engine, max_regions=max_regions, progress=progress).count()


def _count_split(graph: Graph, domain, *, engine, max_regions, progress, jobs, scheduler, state) -> CountResult:
    """:func:`count_graph` split into subproblems (:mod:`regions.engines.opgraph_split`)."""
    from ..execution.split import count_split  # noqa: PLC0415 -- avoids an import cycle
    from .opgraph_split import OP_SPLIT_ENGINES, op_split_engine  # noqa: PLC0415

    if max_regions is not None:
        raise RegionsError(f"expected max_regions=None with jobs, scheduler or state, got {max_regions!r}")
    domain = _check(graph, domain)
    name = _engine(domain, engine)
    if name not in OP_SPLIT_ENGINES:
        raise RegionsError(f"expected the line engine (1-D) or the planar engine (bounded 2-D) for a split count "
                           f"of an op network (the LP walk does not split yet), got the {name} engine for a "
                           f"{domain.dim}-D {'bounded' if domain.bounded else 'unbounded'} {domain.kind}: count it "
                           f"without jobs, scheduler or state")
    if name == "planar":
        refuse_wide(lower(graph), domain, "planar")
    return count_split(graph, domain, op_split_engine(name), jobs=jobs, scheduler=scheduler, state=state,
                       progress=progress)
