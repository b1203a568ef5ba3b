"""The LP engine: H-representations and Chebyshev LPs, for boxes in high dimension."""

from .kernel import LPPartition, count_lp, partition_lp

__all__ = ["LPPartition", "count_lp", "partition_lp"]
