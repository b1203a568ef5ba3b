"""Pictures of partitions (matplotlib; every function takes ``ax=None`` and returns artists)."""

from .partition import (
    plot_decision_boundary,
    plot_edges,
    plot_layers,
    plot_output,
    plot_partition,
    region_colors,
)

__all__ = [
    "plot_decision_boundary",
    "plot_edges",
    "plot_layers",
    "plot_output",
    "plot_partition",
    "region_colors",
]
