"""The exact n-D engine: boxes and all of R^d, regions as polyhedra."""

from .api import count_polytope, partition_polytope, preflight
from .result import PolytopePartition

__all__ = ["PolytopePartition", "count_polytope", "partition_polytope", "preflight"]
