"""The sweep's figure: regions against parameters, one colour per depth (Prince fig. 4.7).

What is drawn depends on what the rows hold, and the legend lists only
what is drawn:

* solid lines: the lower bound on the maximum number of regions (Serra et
  al. 2018; in 1-D it equals the upper bound, and the line is labelled as
  the maximum itself); dotted lines: the upper bound, where it differs;
* open circles: a network built to attain the lower bound, its regions
  counted exactly on the unit cube;
* filled squares, dashed: the mean exact count of the random networks on
  their domain, error bars from the smallest to the largest count.

Bounds are annotated as bounds ("lower bound: 1.8e+41 regions"), counts
as counts ("161,051 regions, counted").  Titles name the networks, the
domains and what is counted; log axes get readable ticks
(:func:`regions.plot.style.log_ticks`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import RegionsError
from .style import figure_style, log_ticks

__all__ = ["plot_sweep", "save_sweep_plot"]


def _num(v) -> str:
    v = int(v)
    return f"{v:,}" if v < 10**12 else f"{float(v):.2g}" if v < 10**300 else f"~10^{len(str(v)) - 1}"


def _span(values) -> str:
    values = sorted(set(values))
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}–{values[-1]}"
    return ", ".join(str(v) for v in values)


def _domain_text(row: dict) -> str:
    d = row["input_dim"]
    dom = row.get("domain") or ""
    if dom.startswith("box "):
        lo, hi = dom[4:].split(":")
        return f"[{lo}, {hi}]" + (f"$^{{{d}}}$" if d > 1 else "")
    return {"whole": f"all of $\\mathbb{{R}}^{{{d}}}$", "segment": "random segments", "line": "random lines",
            "plane": "random planes"}.get(dom, dom)


def plot_sweep(rows: Sequence[dict], ax=None, *, annotate: bool = True) -> dict:
    """Regions against parameters on log axes, one colour per depth.

    Parameters
    ----------
    rows : sequence of dict
        Rows of :func:`regions.sweep.sweep` (or :func:`regions.sweep.read_rows`),
        all of one input dimension.
    ax : matplotlib Axes, optional
        Drawn into; default: a new figure (pyplot).
    annotate : bool, keyword-only
        Label the deepest, widest cell with its parameters and its count or bound.

    Returns
    -------
    dict
        ``ax``; the artists ``bounds`` (lower-bound lines, one per depth),
        ``upper`` (upper-bound lines, where drawn), ``constructions``,
        ``random`` (lists), ``annotation`` and ``legend``; and ``kinds``,
        the legend's labels of what is drawn.
    """
    if not rows:
        raise RegionsError("expected at least one row to plot, got none")
    dims = {r["input_dim"] for r in rows}
    if len(dims) != 1:
        raise RegionsError(f"expected rows of one input dimension to plot, got {sorted(dims)}")
    import matplotlib
    from matplotlib.lines import Line2D

    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    d = rows[0]["input_dim"]
    depths = sorted({r["depth"] for r in rows})
    cmap = matplotlib.colormaps["viridis"]
    exact_max = all(r["lower"] is not None and r["lower"] == r["upper"] for r in rows)
    out = {"ax": ax, "bounds": [], "upper": [], "constructions": [], "random": [], "annotation": None,
           "legend": None, "kinds": []}
    depth_handles = []
    ys = []
    for i, k in enumerate(depths):
        color = cmap(i / max(1, len(depths) - 1) * 0.9)
        rs = sorted((r for r in rows if r["depth"] == k), key=lambda r: r["width"])
        x = np.array([r["params"] for r in rs], dtype=float)
        lower = [(p, float(r["lower"])) for p, r in zip(x, rs) if r["lower"] is not None]
        if lower:
            (line,) = ax.plot(*zip(*lower), "-", color=color, lw=1.6)
            out["bounds"].append(line)
            ys += [y for _, y in lower]
        if not exact_max:
            up = [(p, float(r["upper"])) for p, r in zip(x, rs) if r.get("upper") is not None]
            (uline,) = ax.plot(*zip(*up), ":", color=color, lw=1.2)
            out["upper"].append(uline)
            ys += [y for _, y in up]
        cx = [(p, float(r["construction_count"])) for p, r in zip(x, rs) if r.get("construction_count") is not None]
        if cx:
            (pts,) = ax.plot(*zip(*cx), "o", mfc="none", mec=color, ms=6)
            out["constructions"].append(pts)
        rx = [(p, r) for p, r in zip(x, rs) if r.get("random_mean") is not None]
        if rx:
            y = np.array([r["random_mean"] for _, r in rx])
            err = np.array([[r["random_mean"] - r["random_min"] for _, r in rx],
                            [r["random_max"] - r["random_mean"] for _, r in rx]])
            eb = ax.errorbar([p for p, _ in rx], y, yerr=err, fmt="s--", color=color, ms=3.5, lw=0.9,
                             capsize=2, alpha=0.85)
            out["random"].append(eb)
            ys += [float(r["random_min"]) for _, r in rx] + [float(r["random_max"]) for _, r in rx]
        depth_handles.append((Line2D([], [], color=color, lw=3), f"{k} hidden layer" + ("s" if k > 1 else "")))
    ax.set_xscale("log")
    ax.set_yscale("log")
    params = [r["params"] for r in rows]
    log_ticks(ax.xaxis, min(params), max(params))
    ys = [y for y in ys if y > 0]
    if ys:
        log_ticks(ax.yaxis, min(ys), max(ys))
    ax.set_xlabel("parameters of the network (weights and biases)")
    counted_any = bool(out["constructions"] or out["random"])
    ax.set_ylabel("linear regions (bounds and exact counts)" if counted_any else "linear regions (bounds)")

    r_rand = next((r for r in rows if r.get("random_mean") is not None), None)
    kinds = []
    if out["bounds"]:
        kinds.append((Line2D([], [], color="0.35", lw=1.6),
                      f"maximum on $\\mathbb{{R}}^{{{d}}}$ (lower = upper bound)" if exact_max
                      else f"lower bound on the maximum on $\\mathbb{{R}}^{{{d}}}$"))
    if out["upper"]:
        kinds.append((Line2D([], [], color="0.35", lw=1.2, ls=":"),
                      f"upper bound on the maximum on $\\mathbb{{R}}^{{{d}}}$"))
    if out["constructions"]:
        cube = "[0, 1]" + (f"$^{{{d}}}$" if d > 1 else "")
        kinds.append((Line2D([], [], marker="o", mfc="none", mec="0.35", ls=""),
                      f"bound-attaining network, counted on {cube}"))
    if out["random"]:
        kinds.append((Line2D([], [], marker="s", color="0.35", ls="--", ms=3.5),
                      f"random networks (init {r_rand['init']}), counted on {_domain_text(r_rand)}: mean (min–max)"))
    handles = [h for h, _ in depth_handles + kinds]
    labels = [t for _, t in depth_handles + kinds]
    out["kinds"] = [t for _, t in kinds]
    out["legend"] = ax.legend(handles, labels, loc="upper left", fontsize=7)

    widths = sorted({r["width"] for r in rows})
    counted = []
    if out["constructions"]:
        counted.append("constructions")
    if out["random"]:
        counted.append(f"{r_rand['seeds']} random networks per cell")
    what = ("bounds; exact counts of " + " and ".join(counted)) if counted else "bounds only (nothing counted)"
    ax.set_title(f"{d}-D-…-D-1 ReLU networks ({d} input{'s' if d > 1 else ''}), depths {_span(depths)}, "
                 f"widths D = {_span(widths)}:\nlinear regions vs parameters — {what}", fontsize=9)
    if annotate:
        top = max(rows, key=lambda r: (r["depth"], r["width"]))
        if top.get("construction_count") is not None:
            y, text = top["construction_count"], f"{_num(top['construction_count'])} regions, counted"
        elif top.get("lower") is not None:
            y, text = top["lower"], f"lower bound: {_num(top['lower'])} regions"
        else:
            y, text = top["upper"], f"upper bound: {_num(top['upper'])} regions"
        out["annotation"] = ax.annotate(f"{top['params']:,} params\n{text}", xy=(top["params"], float(y)),
                                        xytext=(-45, -12), textcoords="offset points", fontsize=8, ha="right",
                                        va="center", arrowprops={"arrowstyle": "->", "lw": 0.8})
    ax.grid(True, which="major", alpha=0.3)
    return out


def save_sweep_plot(rows: Sequence[dict], path: str | os.PathLike) -> Path:
    """Draw :func:`plot_sweep` in the shared style and write it to ``path`` (.png, .svg or .pdf).

    A regular file is replaced atomically (the library call is the request
    to replace it; the command line asks for ``--force``); a pipe or device
    is written straight into.

    Uses a :class:`matplotlib.figure.Figure` directly: no pyplot, no change of
    backend, nothing left open.
    """
    from matplotlib.figure import Figure

    import io  # noqa: PLC0415

    from ..core.io import write_output

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise RegionsError(f"expected a plot file ending in .png, .svg or .pdf, got {str(path)!r}")
    buf = io.BytesIO()
    with figure_style():
        fig = Figure(figsize=(7.2, 5.2), layout="constrained")
        plot_sweep(rows, ax=fig.add_subplot())
        fig.savefig(buf, format=fmt, dpi=150)
    # a regular file is replaced atomically; a pipe or device is written straight into
    write_output(path, buf.getvalue(), force=True, what="the plot file")
    return path
