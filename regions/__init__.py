"""regions: exact enumeration of the linear regions of ReLU networks.

The public surface, re-exported here:

* :class:`Network`, :func:`compose` -- the network model (:mod:`regions.network`);
* domains -- :func:`box`, :func:`whole`, :func:`interval`, :func:`segment`,
  :func:`line`, :func:`plane`, :func:`plane_through`, :func:`polygon`
  (:mod:`regions.domains`);
* :func:`partition`, :func:`count` -- exact partitions, any dimension
  (:mod:`regions.partition`); :func:`partition_line`, :func:`count_line`
  (:mod:`regions.line`);
* :mod:`regions.theory` -- published bounds as exact integers;
* :mod:`regions.constructions` -- networks with known counts;
* :class:`RegionsError` -- the one exception class (a ``ValueError``).
"""

from . import constructions, theory
from ._common import CountResult
from ._errors import RegionsError
from .domains import box, interval, line, plane, plane_through, polygon, segment, whole
from .line import LinePartition, count_line, partition_line
from .network import Network, compose
from .partition import count, partition

__version__ = "0.1.0"

__all__ = [
    "Network",
    "compose",
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
    "theory",
    "constructions",
]
