"""The exact 1-D engine: intervals, segments and lines through any input space."""

from .kernel import count_line, partition_line
from .result import LinePartition

__all__ = ["LinePartition", "count_line", "partition_line"]
