"""regions: exact enumeration of the linear regions of ReLU networks.

The pipeline, one package each: network -> domain -> engine -> partition ->
reports.

* :mod:`regions.model` -- :class:`Network`, :func:`compose`;
* :mod:`regions.domains` -- :func:`box`, :func:`whole`, :func:`interval`,
  :func:`segment`, :func:`line`, :func:`plane`, :func:`plane_through`,
  :func:`polygon`;
* :mod:`regions.engines` -- :func:`partition`, :func:`count` (any
  dimension, the engine chosen from the registry); the 1-D, 2-D and n-D
  engines in :mod:`regions.engines.line`, :mod:`~regions.engines.planar`,
  :mod:`~regions.engines.polytope`;
* :mod:`regions.core` -- what the engines share (tolerances, results,
  affine pieces, atomic files);
* :mod:`regions.analysis` -- :mod:`~regions.analysis.theory` (published
  bounds as exact integers) and :mod:`~regions.analysis.constructions`
  (networks with known counts);
* :mod:`regions.interop` -- :func:`from_torch` (PyTorch, imported lazily),
  shapely and GeoJSON (:mod:`regions.geo`);
* :mod:`regions.plot` -- pictures (also reachable as ``regions.plotting``);
* :mod:`regions.experiments` -- :mod:`~regions.experiments.sweep` (regions
  per parameter across depth and width), slices through data and
  checkpoint series (:mod:`~regions.experiments.workflows`), and
  :func:`local_complexity` (exact regions around data points);
* :mod:`regions.cli` -- the ``regions`` command line;
* :class:`RegionsError` -- the project's exception (a ``ValueError``).
"""

from . import plot
from . import plot as plotting
from .analysis import constructions, theory
from .core.result import CountResult
from .domains import box, interval, line, plane, plane_through, polygon, segment, whole
from .engines.line import LinePartition, count_line, partition_line
from .engines.planar import PlanarPartition, count_plane, partition_plane
from .engines.polytope import PolytopePartition, count_polytope, partition_polytope
from .engines.registry import count, partition
from .errors import RegionsError
from .experiments import sweep
from .experiments.local import local_complexity
from .interop import geo
from .model import Network, compose

__version__ = "0.2.0.dev0"


def from_torch(
    module,
    input_shape: "tuple[int, ...] | int | None" = None,
    *,
    state_dict: "dict | None" = None,
    activation: "str | float | None" = None,
):
    """The exact network of a PyTorch model, ready for :func:`count` and :func:`partition`.

    A plain ``nn.Sequential`` chain with one activation gives a
    :class:`Network` (:func:`regions.interop.pytorch.from_torch`); any other
    module traceable with ``torch.fx`` (hand-written ``forward``, residual
    blocks, max pooling, maxout, per-layer slopes) or a
    ``torch.export.ExportedProgram`` gives an op graph
    (:class:`regions.model.ops.Graph`, see :func:`regions.interop.fx.from_torch_any`).
    State dicts are read only as plain ``Linear`` chains with the stated
    ``activation``.  PyTorch is imported only when this is called
    (``pip install 'regions[torch]'``).
    """
    from .interop.fx import from_torch_any  # noqa: PLC0415 -- torch is optional

    return from_torch_any(module, input_shape, state_dict=state_dict, activation=activation)


__all__ = [
    "CountResult",
    "LinePartition",
    "Network",
    "PlanarPartition",
    "PolytopePartition",
    "RegionsError",
    "box",
    "compose",
    "constructions",
    "count",
    "count_line",
    "count_plane",
    "count_polytope",
    "from_torch",
    "geo",
    "interval",
    "line",
    "local_complexity",
    "partition",
    "partition_line",
    "partition_plane",
    "partition_polytope",
    "plane",
    "plane_through",
    "plot",
    "plotting",
    "polygon",
    "segment",
    "sweep",
    "theory",
    "whole",
]
