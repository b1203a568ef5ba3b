"""Pictures (matplotlib; every function takes ``ax=None`` and returns artists).

Partitions of a plane (:mod:`regions.plot.partition`), the sweep's
regions-per-parameter figure (:mod:`regions.plot.sweep`), and the figure
style they share (:mod:`regions.plot.style`: :data:`STYLE`,
:func:`figure_style`).  Every figure labels its axes and says in its
title what is counted; nothing here changes matplotlib's global settings
or backend.
"""

from .partition import (
    domain_text,
    plot_decision_boundary,
    plot_edges,
    plot_layers,
    plot_output,
    plot_partition,
    region_colors,
)
from .style import STYLE, figure_style, log_ticks
from .sweep import plot_sweep, save_sweep_plot

__all__ = [
    "STYLE",
    "domain_text",
    "figure_style",
    "log_ticks",
    "plot_decision_boundary",
    "plot_edges",
    "plot_layers",
    "plot_output",
    "plot_partition",
    "plot_sweep",
    "region_colors",
    "save_sweep_plot",
]
