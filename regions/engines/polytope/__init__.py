"""The exact n-D engine: boxes and all of R^d, regions as polyhedra."""

from .kernel import PolytopePartition, count_polytope, partition_polytope, preflight

__all__ = ["PolytopePartition", "count_polytope", "partition_polytope", "preflight"]
