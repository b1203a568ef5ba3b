"""The sweep's table for a terminal: fits 100 columns, explains itself.

:func:`format_table` turns the rows of :func:`regions.sweep.sweep` into a
fixed-width table with

* a heading line saying what the sweep computed (the mode in words, the
  random networks and the domain they are counted on);
* by default (``wide=False``) at most :data:`MAX_COLUMNS` characters per
  line: integers above :data:`EXACT_DIGITS` digits are rounded to four
  significant digits (``1.796e+41``), and the least important columns
  (seconds, the spread and the per-parameter ratios) are left out, in
  that order, until the table fits; the legend says which were left out.
  ``wide=True`` shows every column and every integer exactly;
* columns equal in every row shown once, under a joined header
  (``lower=upper=constructed`` in 1-D, where the bounds meet and the
  sawtooth attains them), with a line saying so;
* a legend of the columns shown, once, under the table;
* notes numbered once each: a row refers to its notes as ``[1]`` or
  ``[1,3]``, and a note shared by many rows is printed once.

The rows themselves are not changed: the CSV and JSON outputs keep every
column and exact integers.
"""

from __future__ import annotations

import textwrap
from typing import Callable, Sequence

__all__ = ["EXACT_DIGITS", "MAX_COLUMNS", "MODE_TEXT", "format_table"]

#: Default line length of the table, legend and notes.
MAX_COLUMNS = 100
#: Integers with more digits are rounded in the default (narrow) table.
EXACT_DIGITS = 12

#: What each sweep mode computes, in words.
MODE_TEXT = {
    "bound": "bounds only",
    "construct": "bounds and the bound-attaining construction, counted exactly",
    "random": "bounds and exact counts of random networks",
    "all": "bounds, the bound-attaining construction and random networks, all counted exactly",
}


def _int_text(v, exact: bool) -> str:
    if v is None:
        return ""
    v = int(v)
    if exact or len(str(abs(v))) <= EXACT_DIGITS:
        return f"{v:,}"
    return f"{float(v):.4g}" if abs(v) < 1e300 else f"{str(v)[0]}.{str(v)[1:4]}e+{len(str(v)) - 1}"


def _float_text(v, digits: int = 3) -> str:
    if v is None:
        return ""
    v = float(v)
    if v == 0:
        return "0"
    if abs(v) >= 1e6 or abs(v) < 1e-2:
        return f"{v:.{digits}g}"
    return f"{v:,.{digits - 1}f}" if abs(v) < 1000 else f"{v:,.0f}"


def _domain_words(row: dict) -> str:
    d = row.get("input_dim", 1)
    dom = row.get("domain") or ""
    if dom.startswith("box "):
        lo, hi = dom[4:].split(":")
        return f"[{lo}, {hi}]" + (f"^{d}" if d > 1 else "")
    return {"whole": f"all of R^{d}", "segment": "a random segment of the box",
            "line": "a random line through the box", "plane": "a random plane through the box"}.get(dom, dom)


# key, header, legend text (None: not in the legend), formatter(value, exact), drop priority (higher: dropped first)
def _columns(rows: Sequence[dict]) -> list[tuple[str, str, str | None, Callable, int]]:
    r0 = rows[0]
    d = r0.get("input_dim", 1)
    cube = "[0, 1]" + (f"^{d}" if d > 1 else "")
    init, seeds = r0.get("init"), r0.get("seeds")
    rnd = f"{seeds} random networks (init {init}) per cell, counted exactly on {_domain_words(r0)}"
    return [
        ("depth", "depth", "hidden layers K", _int_text, 0),
        ("width", "width", "units per hidden layer D", _int_text, 0),
        ("params", "params", "weights and biases of the network", _int_text, 0),
        ("zaslavsky", "zaslavsky", "maximum regions of one hidden layer (Zaslavsky 1975; depth 1 only)",
         _int_text, 0),
        ("lower", "lower", "lower bound on the maximum number of regions (Serra et al. 2018; Prince eq. 4.17)",
         _int_text, 0),
        ("upper", "upper", "upper bound on the maximum number of regions (Serra et al. 2018, Thm 1)",
         _int_text, 0),
        ("construction_count", "constructed",
         f"regions of a network built to attain the lower bound (sawtooth / folding), counted exactly "
         f"on {cube}", _int_text, 0),
        ("random_mean", "random", f"mean regions of {rnd}", lambda v, e: _float_text(v, 4), 0),
        ("random_std", "std", "standard deviation of those counts", lambda v, e: _float_text(v), 5),
        ("random_min", "min", "smallest of those counts", _int_text, 0),
        ("random_max", "max", "largest of those counts", _int_text, 0),
        ("lower_per_param", "lower/param", "regions per parameter: lower bound / params",
         lambda v, e: _float_text(v), 3),
        ("construction_per_param", "constr/param", "constructed / params", lambda v, e: _float_text(v), 4),
        ("random_mean_per_param", "random/param", "random (mean) / params", lambda v, e: _float_text(v), 2),
        ("seconds", "s", "seconds of wall time for the cell", lambda v, e: "" if v is None else f"{v:.2f}", 6),
    ]


def _fill(text: str, width: int, indent: str = "") -> list[str]:
    return textwrap.wrap(text, width=width, subsequent_indent=indent, break_on_hyphens=False) or [""]


def format_table(rows: Sequence[dict], *, notes: bool = True, wide: bool = False, legend: bool = True) -> str:
    """A fixed-width table of sweep rows, with a legend and numbered notes.

    Parameters
    ----------
    rows : sequence of dict
        Rows of :func:`regions.sweep.sweep` (or :func:`regions.sweep.read_rows`).
    notes : bool, keyword-only
        Print the rows' notes, each distinct note once, numbered.
    wide : bool, keyword-only
        Every column, every integer exact, whatever the line length.
        Default: lines of at most :data:`MAX_COLUMNS` characters.
    legend : bool, keyword-only
        Explain the columns shown, under the table.

    Returns
    -------
    str
        The table, without a trailing newline.

    Examples
    --------
    >>> from regions import sweep
    >>> rows = sweep.sweep(1, "1:2", "3", mode="bound", jobs=0)
    >>> rows = [{**r, "seconds": None} for r in rows]  # wall times vary
    >>> print(format_table(rows, legend=False))
    input_dim 1, mode bound: bounds only
    depth  width  params  zaslavsky  lower=upper  lower/param
    -----  -----  ------  ---------  -----------  -----------
        1      3      10          4            4         0.40
        2      3      22                      16         0.73
    columns equal in every row, shown once: lower=upper
    """
    if not rows:
        return "(no rows)"
    exact = bool(wide)
    cols = [c for c in _columns(rows) if any(r.get(c[0]) is not None for r in rows)]
    # columns equal in every row: shown once under a joined header
    merged: list[list] = []
    for key, head, text, fmt, prio in cols:
        for group in merged:
            if all(r.get(group[0][0]) == r.get(key) for r in rows) and key not in ("depth", "width", "params"):
                group.append((key, head, text, fmt, prio))
                break
        else:
            merged.append([(key, head, text, fmt, prio)])
    def joined(g):
        if len(g) > 1 and all(c[1].endswith("/param") for c in g):
            return "(" + "=".join(c[1][: -len("/param")] for c in g) + ")/param"
        return "=".join(c[1] for c in g)

    groups = [(g[0][0], joined(g), g, g[0][3], min(c[4] for c in g)) for g in merged]

    # notes: each distinct part once, numbered in order of first appearance
    note_ids: dict[str, int] = {}
    refs = []
    for r in rows:
        ids = []
        if notes and r.get("note"):
            for part in str(r["note"]).split("; "):
                part = part.strip()
                if part:
                    ids.append(note_ids.setdefault(part, len(note_ids) + 1))
        refs.append("[" + ",".join(str(i) for i in sorted(set(ids))) + "]" if ids else "")

    def render(groups):
        header = [g[1] for g in groups] + [""]
        body = [[g[3](r.get(g[0]), exact) for g in groups] + [ref] for r, ref in zip(rows, refs)]
        widths = [max(len(h), *(len(t[i]) for t in body)) for i, h in enumerate(header)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths)).rstrip(),
                 "  ".join("-" * w for w, h in zip(widths, header) if h)]
        lines += ["  ".join(c.rjust(w) for c, w in zip(t, widths)).rstrip() for t in body]
        return lines

    dropped = []
    table = render(groups)
    if not wide:
        # leave out the least important column, one at a time, until the table fits
        while max(map(len, table)) > MAX_COLUMNS and max(g[4] for g in groups) > 0:
            worst = max(range(len(groups)), key=lambda i: (groups[i][4], i))
            dropped.append(groups.pop(worst))
            table = render(groups)
    width = MAX_COLUMNS if not wide else max(MAX_COLUMNS, *map(len, table))

    r0 = rows[0]
    mode = r0.get("mode")
    head = f"input_dim {r0['input_dim']}, mode {mode}: {MODE_TEXT.get(mode, mode)}"
    if r0.get("init"):
        head += f"; random: {r0['seeds']} networks (init {r0['init']}) per cell on {_domain_words(r0)}"
    lines = _fill(head, width, "  ") + table
    joined = [g[1] for g in groups if len(g[2]) > 1]
    if joined:
        lines += _fill(f"columns equal in every row, shown once: {', '.join(joined)}", width, "  ")
    if legend:
        shown = [c for g in groups for c in g[2] if c[2]]
        name_w = max(len(c[1]) for c in shown)
        for _, name, text, _, _ in shown:
            lines += _fill(f"{name.ljust(name_w)}  {text}", width, " " * (name_w + 2))
        if not exact and any(len(str(abs(int(r[g[0]])))) > EXACT_DIGITS for r in rows for g in groups
                             if g[3] is _int_text and r.get(g[0]) is not None):
            lines += _fill(f"integers of more than {EXACT_DIGITS} digits are rounded here (1.796e+41); "
                           "--wide, --json and the rows file give them exactly", width, "  ")
        if dropped:
            lines += _fill("left out to fit 100 columns (--wide shows them): "
                           + ", ".join(c[1] for g in dropped for c in g[2]), width, "  ")
    for note, i in note_ids.items():
        lines += _fill(f"[{i}] {note}", width, "    ")
    return "\n".join(lines)
