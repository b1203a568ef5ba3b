"""The exact 2-D engine: boxes of 2-input networks, plane slices, polygons."""

from .kernel import count_plane, partition_plane, planar_layers
from .result import PlanarPartition

__all__ = ["PlanarPartition", "count_plane", "partition_plane", "planar_layers"]
