"""The figure style shared by the library, the CLI and the notebooks.

:data:`STYLE` is a dict of matplotlib rc settings; :func:`figure_style`
applies it inside a ``with`` block only (:func:`matplotlib.rc_context`),
so importing or calling :mod:`regions.plot` never changes a user's global
settings and never switches the backend.  Notebooks opt in for a whole
session with ``matplotlib.rcParams.update(regions.plot.STYLE)``.

:func:`log_ticks` gives a log axis readable tick labels: plain numbers at
1, 2 and 5 times the powers of ten when the axis spans a few decades,
powers of ten otherwise, and no labels on the minor ticks (which would
otherwise overlap: ``3×10¹4×10¹``).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator

from ..errors import RegionsError

__all__ = ["STYLE", "figure_style", "log_ticks"]

#: rc settings of every figure the project draws.
STYLE: dict = {
    "figure.figsize": (6.4, 4.8),
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "legend.fontsize": 8.0,
    "legend.framealpha": 0.9,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "grid.alpha": 0.3,
    "image.cmap": "viridis",
}


@contextmanager
def figure_style(**overrides) -> Iterator[None]:
    """Apply :data:`STYLE` (and ``overrides``, rc names with ``.`` written as ``_``) inside a ``with`` block.

    Examples
    --------
    >>> import matplotlib
    >>> with figure_style(font_size=12):
    ...     matplotlib.rcParams["font.size"]
    12.0
    """
    import matplotlib

    rc = dict(STYLE)
    for key, value in overrides.items():
        name = key.replace("_", ".", 1) if key.replace("_", ".", 1) in matplotlib.rcParams else key
        if name not in matplotlib.rcParams:
            raise RegionsError(f"expected a matplotlib rc setting, got {key!r}")
        rc[name] = value
    with matplotlib.rc_context(rc):
        yield


def log_ticks(axis, lo: float, hi: float) -> None:
    """Readable ticks on a log-scaled ``axis`` (``ax.xaxis`` or ``ax.yaxis``) showing ``lo``..``hi``.

    Up to three decades: majors at 1, 2, 5 x 10^k labelled as plain numbers
    (``20``, ``50``, ``1,000``); wider: powers of ten only, every 1, 2, 5, 10, 20, ...
    decades, at most about eight of them.  Minor ticks are never labelled.
    """
    from matplotlib import ticker

    lo, hi = float(lo), float(hi)
    decades = math.log10(hi / lo) if lo > 0 and hi > lo and math.isfinite(hi) else 0.0
    if decades <= 3:
        axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    else:
        stride = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 10**9) if decades / s <= 8)
        axis.set_major_locator(ticker.LogLocator(base=10.0**stride, subs=(1.0,), numticks=12))
        axis.set_major_formatter(ticker.LogFormatterSciNotation(base=10))
    axis.set_minor_formatter(ticker.NullFormatter())
