"""The exact 1-D engine: intervals, segments and lines through any input space."""

from .kernel import LinePartition, count_line, partition_line

__all__ = ["LinePartition", "count_line", "partition_line"]
