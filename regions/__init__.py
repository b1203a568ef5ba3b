"""regions: exact enumeration of the linear regions of ReLU networks.

The public surface, re-exported here:

* :class:`Network`, :func:`compose` -- the network model (:mod:`regions.network`);
* domains -- :func:`box`, :func:`whole`, :func:`interval`, :func:`segment`,
  :func:`line`, :func:`plane`, :func:`plane_through`, :func:`polygon`
  (:mod:`regions.domains`);
* :func:`partition`, :func:`count` -- exact partitions, any dimension
  (:mod:`regions.partition`); :func:`partition_line`, :func:`count_line`
  (:mod:`regions.line`); :func:`partition_plane`, :func:`count_plane`
  (:mod:`regions.planar`, with :mod:`regions.plotting` and :mod:`regions.geo`);
* :mod:`regions.theory` -- published bounds as exact integers;
* :mod:`regions.constructions` -- networks with known counts;
* :mod:`regions.sweep` -- regions per parameter across depth and width;
* :func:`from_torch` -- PyTorch models (:mod:`regions.torch_import`, torch
  imported lazily); :mod:`regions.workflows` -- slices through data and
  checkpoint series;
* :class:`RegionsError` -- the one exception class (a ``ValueError``).
"""

from . import constructions, geo, plotting, sweep, theory
from ._common import CountResult
from ._errors import RegionsError
from .domains import box, interval, line, plane, plane_through, polygon, segment, whole
from .line import LinePartition, count_line, partition_line
from .network import Network, compose
from .planar import PlanarPartition, count_plane, partition_plane
from .polytope import PolytopePartition, count_polytope, partition_polytope
from .partition import count, partition

__version__ = "0.1.0"


def from_torch(
    module,
    input_shape: "tuple[int, ...] | int | None" = None,
    *,
    state_dict: "dict | None" = None,
    activation: "str | float" = "relu",
) -> Network:
    """The exact :class:`Network` of a PyTorch model (see :func:`regions.torch_import.from_torch`).

    PyTorch is imported only when this is called (``pip install 'regions[torch]'``).
    """
    from .torch_import import from_torch as _from_torch  # noqa: PLC0415 -- torch is optional

    return _from_torch(module, input_shape, state_dict=state_dict, activation=activation)


__all__ = [
    "Network",
    "compose",
    "from_torch",
    "RegionsError",
    "CountResult",
    "box",
    "whole",
    "interval",
    "segment",
    "line",
    "plane",
    "plane_through",
    "polygon",
    "partition",
    "count",
    "partition_line",
    "count_line",
    "LinePartition",
    "partition_plane",
    "count_plane",
    "PlanarPartition",
    "partition_polytope",
    "count_polytope",
    "PolytopePartition",
    "plotting",
    "geo",
    "theory",
    "constructions",
    "sweep",
]
