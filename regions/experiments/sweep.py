"""Regions per parameter across depth and width: bounds, constructions, exact counts.

One *cell* is one architecture ``d - D - ... - D - 1`` (``input_dim`` d,
``depth`` K hidden layers of ``width`` D).  Its *row* holds

* ``params`` and the bounds as exact integers: ``zaslavsky`` (depth 1 only,
  the shallow maximum), ``lower`` (Serra et al. 2018's deep lower bound,
  Prince eq. 4.17) and ``upper`` (Serra et al. 2018, Theorem 1);
* ``construction_count``: the regions of a network that attains ``lower``,
  *counted by enumeration* with :func:`regions.count` on the cube
  ``[0, 1]^d`` (the sawtooth for one input,
  :func:`regions.constructions.folding` otherwise; both have all their
  regions of ``R^d`` in the cube, and a count on the cube that reaches the
  bound shows the bound attained), where such a network is known and the
  count is within the ``max_regions`` budget;
* ``random_mean``, ``random_std``, ``random_min``, ``random_max``: exact
  counts of ``seeds`` random initialisations (``init``) on the chosen
  domain, and the counts themselves (``random_counts``);
* regions per parameter for each, ``seconds`` (wall time of the cell) and a
  ``note`` saying what was skipped and why.

Modes
-----
``"bound"``      bounds only (instant, any size);
``"construct"``  bounds and the construction's exact count;
``"random"``     bounds and the random counts;
``"all"``        everything (default).

Determinism
-----------
Cells are independent.  Seed ``i`` of a cell is
``cell_seed(base_seed, input_dim, depth, width, i)`` (a
:class:`numpy.random.SeedSequence` of those five integers), the network is
``Network.from_arch(arch, init=init, bias=bias, seed=that seed)`` and the
random points of a line / segment / plane domain are drawn with
``np.random.default_rng([that seed, 1])``.  A row therefore never depends
on where or in which order it ran; only ``seconds`` varies.

Budgets
-------
``max_regions``: a construction whose count (known in advance: the bound it
attains, itself at most ``upper``) exceeds the budget is refused up front
with a note.  A random count is cheap whatever the architecture's upper
bound, so it is attempted, but when the upper bound on its domain exceeds
the budget the engine is told to stop at ``max_regions`` (cooperative
stop); a stopped count makes the random statistics empty, with a note.

``max_seconds`` (per cell): with local processes (:class:`LocalRunner`)
each cell runs in a worker process that is killed at the deadline and
replaced; the row keeps what finished (the bounds always, the construction
if counted) and says so in its note.  On Dask the task runs the cell in a
child Python process with a timeout, same result.

Outputs
-------
:class:`RowWriter` appends each finished row at once: ``.csv`` and
``.jsonl`` get one complete line per row (one ``write`` of the whole line on
a file opened for appending, then ``fsync``), ``.json`` is rewritten
atomically after each row.  :func:`read_rows` ignores an unterminated last
line, so a killed sweep never leaves a corrupt row, and ``resume=True``
skips the cells already present.  Big integers stay exact: integer text in
CSV, Python ints in JSON.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

from ..analysis import theory
from ..errors import RegionsError
from ..core.io import check_output_path, jsonable, lock_output, write_text_atomic
from ..core.parsing import parse_int_list
from ..execution import runners as _runners
from ..model.network import INIT_SCHEMES, Network

__all__ = [
    "COLUMNS",
    "Cell",
    "DOMAINS",
    "DaskRunner",
    "LocalRunner",
    "MAX_CELLS",
    "MAX_SWEEP_BITS",
    "MODES",
    "RowWriter",
    "SETTINGS",
    "assemble_row",
    "cell_events",
    "cell_seed",
    "check_output",
    "check_size",
    "default_name",
    "format_table",
    "make_cells",
    "parse_range",
    "plot",
    "read_rows",
    "run_cell",
    "run_cells",
    "save_plot",
    "settings_of",
    "sweep",
]

#: What a sweep computes (see the module docstring).
MODES = ("bound", "construct", "random", "all")
#: Domains of the random counts: the box (default), all of R^d, or a segment /
#: line / plane through random points of the box.
DOMAINS = ("box", "whole", "segment", "line", "plane")

#: Columns of the CSV, in order (``random_counts`` joined by spaces).
COLUMNS = (
    "input_dim", "depth", "width", "params",
    "zaslavsky", "lower", "upper",
    "construction", "construction_count",
    "init", "domain", "seeds",
    "random_mean", "random_std", "random_min", "random_max",
    "lower_per_param", "upper_per_param", "construction_per_param", "random_mean_per_param",
    "seconds", "mode", "note", "random_counts", "settings",
)
_INT_COLUMNS = {"input_dim", "depth", "width", "params", "zaslavsky", "lower", "upper",
                "construction_count", "seeds", "random_min", "random_max"}
_FLOAT_COLUMNS = {"random_mean", "random_std", "lower_per_param", "upper_per_param",
                  "construction_per_param", "random_mean_per_param", "seconds"}
#: Settings that make a row: stored in every row (``settings``) and compared on resume.
SETTINGS = ("input_dim", "mode", "seeds", "init", "bias", "domain", "lo", "hi", "max_regions", "base_seed")
#: Most cells of one sweep (and values of one range), checked before anything is built.
MAX_CELLS = 100_000
#: Most bits of all the bounds of one sweep together (estimated up front by
#: :func:`check_size`): about 20 million decimal digits per bound column.
MAX_SWEEP_BITS = 1 << 26


# ---------------------------------------------------------------- the cells
def parse_range(text: str | int | Sequence[int], *, name: str = "range") -> list[int]:
    """Parse ``"1:5"`` (inclusive), ``"2:50:2"`` (step), ``"3,10,50"`` or a mix.

    At most :data:`MAX_CELLS` values (counted before ranges are expanded).

    Parameters
    ----------
    text : str, int or sequence of int
        Comma-separated items, each an integer or ``START:STOP[:STEP]`` with
        ``STOP`` included when reached.
    name : str
        What is parsed, for the error message (e.g. ``"--depths"``).

    Returns
    -------
    list of int
        Sorted, without duplicates, all >= 1.

    Examples
    --------
    >>> parse_range("1:5")
    [1, 2, 3, 4, 5]
    >>> parse_range("10:50:10")
    [10, 20, 30, 40, 50]
    >>> parse_range("3,10,50")
    [3, 10, 50]
    """
    return parse_int_list(text, name=name, ranges=True, sort=True, limit=MAX_CELLS,
                          example="1:5, 2:50:2 or 3,10,50")


@dataclass(frozen=True)
class Cell:
    """One architecture of a sweep and everything needed to compute its row.

    Plain data (ints, floats, strings), so it pickles and serialises to JSON.
    """

    input_dim: int
    depth: int
    width: int
    mode: str = "all"
    seeds: int = 10
    init: str = "he"
    bias: str | float = "same"
    domain: str = "box"
    lo: float = -1.0
    hi: float = 1.0
    max_regions: int = 10_000_000
    base_seed: int = 0

    @property
    def key(self) -> tuple[int, int, int]:
        """``(input_dim, depth, width)``: the identity of the row."""
        return (self.input_dim, self.depth, self.width)

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.width,) * self.depth

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Cell":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def make_cells(
    input_dim: int,
    depths: str | Sequence[int],
    widths: str | Sequence[int],
    *,
    mode: str = "all",
    seeds: int = 10,
    init: str = "he",
    bias: str | float = "same",
    domain: str = "box",
    lo: float = -1.0,
    hi: float = 1.0,
    max_regions: int = 10_000_000,
    base_seed: int = 0,
) -> list[Cell]:
    """The cells of a sweep, one per depth x width, checked.

    Parameters are those of :func:`sweep`; ``depths`` and ``widths`` may be
    strings for :func:`parse_range`.
    """
    depths = parse_range(depths, name="depths")
    widths = parse_range(widths, name="widths")
    if len(depths) * len(widths) > MAX_CELLS:
        raise RegionsError(
            f"expected at most {MAX_CELLS:,} cells in one sweep, got {len(depths) * len(widths):,} "
            f"({len(depths):,} depths x {len(widths):,} widths); take a slice of the depths or widths"
        )
    if isinstance(input_dim, bool) or not isinstance(input_dim, (int, np.integer)) or input_dim < 1:
        raise RegionsError(f"expected an input dimension >= 1, got {input_dim!r}")
    if mode not in MODES:
        raise RegionsError(f"expected a mode among {', '.join(MODES)}, got {mode!r}")
    if isinstance(seeds, bool) or not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise RegionsError(f"expected a number of seeds >= 1, got {seeds!r}")
    if init not in INIT_SCHEMES:
        raise RegionsError(f"expected an init among {', '.join(INIT_SCHEMES)}, got {init!r}")
    if not (bias in ("same", "zero") or (isinstance(bias, (int, float)) and math.isfinite(bias))):
        raise RegionsError(f"expected bias 'same', 'zero' or a finite number, got {bias!r}")
    if domain not in DOMAINS:
        raise RegionsError(f"expected a domain among {', '.join(DOMAINS)}, got {domain!r}")
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise RegionsError(f"expected a box LO:HI with finite LO < HI, got {lo!r}:{hi!r}")
    if domain == "plane" and input_dim < 2:
        raise RegionsError(f"expected an input dimension >= 2 for planes through random points, got {input_dim}")
    if isinstance(max_regions, bool) or not isinstance(max_regions, (int, np.integer)) or max_regions < 1:
        raise RegionsError(f"expected max_regions >= 1, got {max_regions!r}")
    if isinstance(base_seed, bool) or not isinstance(base_seed, (int, np.integer)) or base_seed < 0:
        raise RegionsError(f"expected a base seed >= 0, got {base_seed!r}")
    check_size(int(input_dim), depths, widths)
    return [
        Cell(int(input_dim), int(k), int(w), mode, int(seeds), init, bias, domain, float(lo), float(hi),
             int(max_regions), int(base_seed))
        for k in depths for w in widths
    ]


def check_size(input_dim: int, depths: Sequence[int], widths: Sequence[int]) -> float:
    """Refuse, before anything runs, a sweep whose bounds cannot be held or computed.

    The largest cell (deepest and widest: every bound grows with both) must
    pass the checks of :mod:`regions.analysis.theory` (at most
    ``theory.MAX_BITS`` bits, computable in about a minute), and all the
    cells together at most :data:`MAX_SWEEP_BITS` bits, estimated with
    :func:`regions.analysis.theory.bound_bits` in closed form per width (no
    loop over the layers).

    Returns
    -------
    float
        The estimated bits of all the bounds together.

    Raises
    ------
    RegionsError
        Naming the estimate.
    """
    theory._check_size(input_dim, (max(widths),) * max(depths))  # noqa: SLF001 -- the same guard as bounds()
    total = 0.0
    n_depths, sum_depths = len(depths), sum(depths)
    for w in widths:
        first = theory.bound_bits(input_dim, [w])
        step = theory.bound_bits(input_dim, [w, w]) - first  # each further layer adds the same
        total += n_depths * first + (sum_depths - n_depths) * step
    if total > MAX_SWEEP_BITS:
        cells = len(depths) * len(widths)
        raise RegionsError(
            f"expected the bounds of one sweep to fit in {MAX_SWEEP_BITS:,} bits in all, got an estimated "
            f"{total:,.0f} bits (about {total * 0.30103:,.0f} decimal digits) over {cells:,} cells; "
            f"take fewer or smaller depths and widths"
        )
    return total


def default_name(
    input_dim: int,
    depths: str | Sequence[int],
    widths: str | Sequence[int],
    *,
    mode: str = "all",
    seeds: int = 10,
    init: str = "he",
    bias: str | float = "same",
    domain: str = "box",
    lo: float = -1.0,
    hi: float = 1.0,
    max_regions: int = 10_000_000,
    base_seed: int = 0,
) -> str:
    """A file stem naming a sweep's settings, so two different sweeps never share a default file.

    The input dimension, depths, widths and mode always; every other
    setting only where it differs from its default.  Only letters, digits,
    ``.``, ``_`` and ``-``.

    Examples
    --------
    >>> default_name(1, "1:5", "3:10")
    'sweep_d1_depths1-5_widths3-10_all'
    >>> default_name(10, "1:5", "10:50:10", mode="bound")
    'sweep_d10_depths1-5_widths10-50-10_bound'
    """

    def span(values: list[int]) -> str:
        if len(values) == 1:
            return str(values[0])
        steps = {b - a for a, b in zip(values, values[1:])}
        if len(steps) == 1:
            step = steps.pop()
            return f"{values[0]}-{values[-1]}" + (f"-{step}" if step != 1 else "")
        text = ".".join(map(str, values))
        if len(text) > 40:  # a long irregular list: its ends, its size and a digest
            digest = hashlib.sha1(text.encode()).hexdigest()[:8]
            text = f"{values[0]}-{values[-1]}.n{len(values)}.{digest}"
        return text

    parts = [f"sweep_d{input_dim}", f"depths{span(parse_range(depths, name='depths'))}",
             f"widths{span(parse_range(widths, name='widths'))}", mode]
    extra = [("seeds", seeds, 10), ("init", init, "he"), ("bias", bias, "same"), ("domain", domain, "box"),
             ("box", f"{lo:g}:{hi:g}", "-1:1"), ("max", max_regions, 10_000_000), ("base", base_seed, 0)]
    for label, value, default in extra:
        if value != default:
            text = f"{value:g}" if isinstance(value, float) else str(value)
            parts.append(f"{label}{text.replace(':', '_')}")
    return re.sub(r"[^A-Za-z0-9._-]", "", "_".join(parts))


def cell_seed(base_seed: int, input_dim: int, depth: int, width: int, index: int) -> int:
    """The seed of random network ``index`` of a cell (a 63-bit integer).

    Derived with :class:`numpy.random.SeedSequence` from the five integers,
    so it is the same on every machine and independent of the sweep's order.
    """
    ss = np.random.SeedSequence([int(base_seed), int(input_dim), int(depth), int(width), int(index)])
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


# ------------------------------------------------------------- computation
def _construction(cell: Cell):
    """``(name, count, network builder)`` of the bound-attaining construction, or a reason."""
    from ..analysis import constructions

    d, ws = cell.input_dim, cell.widths
    if d == 1 and cell.width >= 3:
        return "sawtooth", (cell.width + 1) ** cell.depth, \
            lambda: constructions.sawtooth(depth=cell.depth, width=cell.width)
    if cell.depth == 1 or constructions.folding_attains_bound(d, ws):
        return "folding", constructions.folding_count(d, ws), lambda: constructions.folding(d, ws)
    return None, (
        f"no construction attaining the lower bound is known for width < 3 * input_dim = {3 * d} "
        f"at depth > 1"
    ), None


def _random_domain(cell: Cell, seed: int):
    from .. import domains

    d = cell.input_dim
    if cell.domain == "box":
        return domains.box(cell.lo, cell.hi, dim=d)
    if cell.domain == "whole":
        return domains.whole(d)
    rng = np.random.default_rng([seed, 1])
    pts = rng.uniform(cell.lo, cell.hi, size=(3, d))
    if cell.domain == "segment":
        return domains.segment(pts[0], pts[1])
    if cell.domain == "line":
        return domains.line(pts[0], pts[1])
    return domains.plane_through(pts[0], pts[1], pts[2])


def _domain_dim(cell: Cell) -> int:
    return {"segment": 1, "line": 1, "plane": 2}.get(cell.domain, cell.input_dim)


def _count(net: Network, domain, budget: int | None):
    """``regions.count`` with an engine check first; returns (result, note)."""
    from ..engines.registry import count

    try:
        return count(net, domain, max_regions=None if budget is None else int(budget)), None
    except RegionsError as exc:  # e.g. an engine that takes bounded domains only
        return None, str(exc)


def cell_events(cell: Cell) -> Iterator[dict]:
    """Compute a cell's exact counts, yielding one event per finished part.

    Events are JSON-friendly dicts: ``{"part": "construction", ...}``, then
    ``{"part": "random", "index": i, "seed": s, "regions": n, ...}`` per
    seed, then ``{"part": "end", "seconds": t}``.  :func:`assemble_row`
    turns them into the row; a runner that kills a cell at its deadline
    assembles whatever events arrived.
    """
    from ..domains import box

    t0 = time.perf_counter()
    if cell.mode in ("construct", "all"):
        t1 = time.perf_counter()
        name, value, build = _construction(cell)
        ev = {"part": "construction", "name": name}
        if build is None:
            ev["note"] = value
        elif value > cell.max_regions:
            ev["note"] = f"{name} not counted: its {value:,} regions exceed max_regions {cell.max_regions:,}"
        else:
            result, note = _count(build(), box(0.0, 1.0, dim=cell.input_dim), None)
            if result is None:
                ev["note"] = f"{name} not counted: {note}"
            else:
                ev["regions"] = int(result.regions)
                if result.regions != value:
                    ev["note"] = f"{name} counted {result.regions:,} regions, expected {value:,}"
        ev["seconds"] = time.perf_counter() - t1
        yield ev
    if cell.mode in ("random", "all"):
        k = _domain_dim(cell)
        upper = theory.serra_upper_bound(min(k, cell.input_dim), cell.widths)
        budget = cell.max_regions if upper > cell.max_regions else None
        arch = [cell.input_dim, *cell.widths, 1]
        for i in range(cell.seeds):
            seed = cell_seed(cell.base_seed, cell.input_dim, cell.depth, cell.width, i)
            net = Network.from_arch(arch, init=cell.init, bias=cell.bias, seed=seed)
            result, note = _count(net, _random_domain(cell, seed), budget)
            ev = {"part": "random", "index": i, "seed": seed}
            if result is None:
                ev["note"] = note
                yield ev
                break  # every seed would fail the same way
            ev["regions"] = int(result.regions)
            ev["partial"] = bool(result.partial)
            yield ev
    yield {"part": "end", "seconds": time.perf_counter() - t0}


def _per_param(value, params: int):
    if value is None:
        return None
    try:
        return value / params
    except OverflowError:
        return math.inf


def assemble_row(cell: Cell, events: Iterable[dict], *, seconds: float | None = None,
                 interrupted: str | None = None) -> dict:
    """The row of a cell from its bounds and the events that arrived.

    Parameters
    ----------
    cell : Cell
    events : iterable of dict
        From :func:`cell_events`, possibly cut short.
    seconds : float, optional
        Wall time of the cell; default: the ``end`` event's.
    interrupted : str, optional
        Why the events stopped early (a timeout, a dead worker); goes to the note.
    """
    d, ws = cell.input_dim, cell.widths
    params = theory.n_params(d, ws)
    lower = theory.serra_lower_bound(d, ws) if theory.lower_bound_applies(d, ws) else None
    upper = theory.serra_upper_bound(d, ws)
    row = {
        "input_dim": d, "depth": cell.depth, "width": cell.width, "params": params,
        "zaslavsky": theory.zaslavsky(cell.width, d) if cell.depth == 1 else None,
        "lower": lower, "upper": upper,
        "construction": None, "construction_count": None,
        "init": None, "domain": None, "seeds": cell.seeds,
        "random_mean": None, "random_std": None, "random_min": None, "random_max": None,
        "lower_per_param": _per_param(lower, params), "upper_per_param": _per_param(upper, params),
        "construction_per_param": None, "random_mean_per_param": None,
        "seconds": None, "mode": cell.mode, "note": None, "random_counts": None,
    }
    notes = []
    if cell.depth > 1 and cell.width < 3 * d:
        notes.append(f"no lower bound: the deep lower bound is proved for width >= 3 * input_dim = {3 * d} "
                     f"(Serra et al. 2018)")
    counts, partial, random_note, got_construction, end_seconds = [], 0, None, False, None
    for ev in events:
        part = ev.get("part")
        if part == "construction":
            got_construction = True
            row["construction"] = ev.get("name")
            if "regions" in ev:
                row["construction_count"] = ev["regions"]
                row["construction_per_param"] = _per_param(ev["regions"], params)
            if ev.get("note"):
                notes.append(ev["note"])
        elif part == "random":
            if "regions" in ev:
                counts.append(int(ev["regions"]))
                partial += bool(ev.get("partial"))
            if ev.get("note"):
                random_note = ev["note"]
        elif part == "error":
            notes.append(f"error: {ev.get('message')}")
        elif part == "end":
            end_seconds = ev.get("seconds")
    if cell.mode in ("random", "all"):
        row["init"] = cell.init
        row["domain"] = cell.domain if cell.domain != "box" else f"box {cell.lo:g}:{cell.hi:g}"
        row["random_counts"] = counts
        if random_note:
            notes.append(f"random not counted: {random_note}")
        elif partial:
            notes.append(f"random: {partial} of {cell.seeds} counts stopped at max_regions "
                         f"{cell.max_regions:,} (no statistics)")
        elif len(counts) == cell.seeds:
            arr = np.array(counts, dtype=float)
            row["random_mean"] = float(arr.mean())
            row["random_std"] = float(arr.std(ddof=1)) if len(counts) > 1 else 0.0
            row["random_min"] = int(min(counts))
            row["random_max"] = int(max(counts))
            row["random_mean_per_param"] = row["random_mean"] / params
        elif interrupted:
            notes.append(f"random: {len(counts)} of {cell.seeds} seeds counted (no statistics)")
    if interrupted:
        if cell.mode in ("construct", "all") and not got_construction:
            notes.append("construction not counted")
        notes.insert(0, interrupted)
    row["seconds"] = seconds if seconds is not None else end_seconds
    if row["seconds"] is not None:
        row["seconds"] = round(float(row["seconds"]), 4)
    row["note"] = "; ".join(notes) if notes else None
    return row


def _safe_events(cell: Cell) -> Iterator[dict]:
    try:
        yield from cell_events(cell)
    except Exception as exc:  # noqa: BLE001 -- one failed cell must not stop the sweep
        yield {"part": "error", "message": f"{type(exc).__name__}: {exc}"}


def run_cell(cell: Cell) -> dict:
    """Compute one cell in this process and return its row (no time limit)."""
    t0 = time.perf_counter()
    events = list(_safe_events(cell))
    return assemble_row(cell, events, seconds=time.perf_counter() - t0)


# ----------------------------------------------------------------- runners
def _timeout_note(seconds: float) -> str:
    return f"stopped after {seconds:g} s (max_seconds per cell)"


def _cell_task(data: dict) -> Iterator[dict]:  # runs in the worker processes
    """Task function of the shared runners: the events of one cell (given as a dict)."""
    return _safe_events(Cell.from_dict(data))


def _finish_cell(cell: Cell, events: list, seconds: float, interrupted: str | None) -> dict:
    if interrupted is None:
        return assemble_row(cell, events, seconds=None if events and events[-1].get("part") == "end" else seconds)
    return assemble_row(cell, events, seconds=seconds, interrupted=interrupted)


class LocalRunner(_runners.LocalRunner):
    """Runs cells in ``jobs`` local worker processes, killing a cell at its deadline.

    The shared :class:`regions.execution.LocalRunner`: workers are started
    with the ``spawn`` method (safe beside threads) and reused; a worker
    whose cell passes ``max_seconds`` is killed and replaced.  ``jobs=0``
    runs the cells in this process (no time limit).
    """

    def __init__(self, jobs: int | None = None, *, max_seconds: float | None = None):
        super().__init__(jobs, max_seconds=max_seconds, timeout_note=_timeout_note)

    def run(self, cells: Sequence[Cell]) -> Iterator[dict]:
        """Yield the rows of ``cells`` as they finish (completion order)."""
        if self.jobs == 0:
            for cell in cells:
                yield run_cell(cell)
            return
        yield from self.stream(_cell_task, [(cell, cell.to_dict()) for cell in cells], _finish_cell)


def _cell_in_child(data: dict, max_seconds: float | None) -> dict:
    """Dask task: the row of one cell, in a child process when there is a time limit."""
    cell = Cell.from_dict(data)
    if max_seconds is None:
        return run_cell(cell)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", "from regions.experiments.sweep import _child_main; _child_main()"], input=json.dumps(data),
                              capture_output=True, text=True, timeout=max_seconds)
        out, interrupted = proc.stdout, None
        if proc.returncode != 0:
            interrupted = f"worker process died (exit code {proc.returncode})"
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or ""
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
        interrupted = _timeout_note(max_seconds)
    events = []
    for line in out.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut by the kill
    return assemble_row(cell, events, seconds=time.perf_counter() - t0, interrupted=interrupted)


class DaskRunner(_runners.DaskRunner):
    """Runs cells as tasks on a Dask distributed cluster.

    Parameters
    ----------
    scheduler : str or distributed.Client
        The scheduler's address (``tcp://host:8786``) or a connected client.
    max_seconds : float, optional
        Per-cell limit; the task then runs the cell in a child Python
        process (:func:`_child_main`) that is killed at the deadline.
    """

    def run(self, cells: Sequence[Cell]) -> Iterator[dict]:
        """Yield the rows of ``cells`` as they finish (completion order)."""
        items = [(f"regions-sweep-{c.input_dim}-{c.depth}-{c.width}-{os.getpid()}-{id(cells)}",
                  (c.to_dict(), self.max_seconds)) for c in cells]
        for _, row in self.results(_cell_in_child, items, pure=False):
            yield row


def run_cells(cells: Sequence[Cell], *, jobs: int | None = None, scheduler=None,
              max_seconds: float | None = None) -> Iterator[dict]:
    """Yield the rows of ``cells`` as they finish, locally or on Dask."""
    if scheduler is not None:
        return DaskRunner(scheduler, max_seconds=max_seconds).run(cells)
    return LocalRunner(jobs, max_seconds=max_seconds).run(cells)


# ----------------------------------------------------------------- outputs
def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, dict):
        return json.dumps(jsonable(v), sort_keys=True)
    if isinstance(v, list):
        return " ".join(str(int(x)) for x in v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _from_csv(rec: dict, where: str) -> dict:
    row = {}
    for k in COLUMNS:
        v = rec.get(k, "")
        if v == "" or v is None:
            row[k] = [] if k == "random_counts" and rec.get("mode") in ("random", "all") else None
            continue
        try:
            if k in _INT_COLUMNS:
                row[k] = int(v)
            elif k in _FLOAT_COLUMNS:
                row[k] = float(v)
            elif k == "random_counts":
                row[k] = [int(x) for x in v.split()]
            elif k == "settings":
                row[k] = json.loads(v)
            else:
                row[k] = v
        except (ValueError, TypeError):
            raise RegionsError(f"expected a valid {k} in {where}, got {v[:40]!r}") from None
    return row


def _check_row(row, where: str) -> dict:
    """A row read back from a file: an object with integer input_dim, depth and width."""
    if not isinstance(row, dict):
        raise RegionsError(f"expected a JSON object per row in {where}, got {type(row).__name__}")
    for k in ("input_dim", "depth", "width"):
        v = row.get(k)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise RegionsError(f"expected an integer {k} >= 1 in {where}, got {v!r}")
    if row.get("settings") is not None and not isinstance(row["settings"], dict):
        raise RegionsError(f"expected the settings of {where} as an object, got {row['settings']!r}")
    for k in _INT_COLUMNS:  # every column the table and the figure read, checked now, not after the run
        v = row.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise RegionsError(f"expected an integer {k} in {where}, got {v!r}"[:200])
    for k in _FLOAT_COLUMNS:
        v = row.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise RegionsError(f"expected a number {k} in {where}, got {v!r}"[:200])
    counts = row.get("random_counts")
    if counts is not None and (not isinstance(counts, list)
                               or any(isinstance(c, bool) or not isinstance(c, int) for c in counts)):
        raise RegionsError(f"expected random_counts as a list of integers in {where}, got {counts!r}"[:200])
    for k in ("construction", "init", "domain", "mode", "note"):
        v = row.get(k)
        if v is not None and not isinstance(v, str):
            raise RegionsError(f"expected {k} as text in {where}, got {v!r}"[:200])
    return row


def _format(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in (".csv", ".json", ".jsonl"):
        raise RegionsError(f"expected an output file ending in .csv, .json or .jsonl, got {str(path)!r}")
    return ext[1:]


def check_output(path: str | os.PathLike, *, resume: bool = False, force: bool = False,
                 settings: dict | None = None) -> Path:
    """Check an output path before a sweep, touching nothing.

    Its suffix and folder; a regular file or a new path (never a pipe or a
    device: rows are appended and rewritten); an existing file only with
    ``resume`` or ``force``.  With ``resume`` its rows are read and checked
    now (a bad integer, binary bytes, a row that is not an object are
    refused before anything is computed) and, given ``settings``, every row
    must carry exactly these settings (:data:`SETTINGS`).
    """
    if resume and force:
        raise RegionsError("expected either resume (keep the rows) or force (replace the file), got both")
    target = check_output_path(path, force=True, what="the rows file", suffixes=(".csv", ".json", ".jsonl"))
    if target.is_file and target.exists and not (force or resume):
        raise RegionsError(f"expected the rows file to name a new file, got the existing {str(path)!r}; "
                           f"pass --resume to complete it or --force to replace it")
    if not target.is_file:
        raise RegionsError(f"expected the rows file to be a regular file or a new path (rows are appended "
                           f"and rewritten), got {str(path)!r}")
    if resume:
        rows = read_rows(path)
        if settings is not None:
            _check_settings(path, rows, settings)
    return Path(path)


def _cut_short(row: dict) -> bool:
    """Whether a row was cut short by its deadline or a dead worker (``--resume`` computes it again)."""
    note = row.get("note") or ""
    return note.startswith(("stopped after", "worker process died"))


def _check_settings(path, rows: list[dict], want: dict) -> None:
    for row in rows:
        if row.get("settings") != want:
            raise _mismatch(path, row.get("settings"), want)


def read_rows(path: str | os.PathLike) -> list[dict]:
    """Rows of a sweep file (``.csv``, ``.jsonl`` or ``.json``); an unterminated last line is ignored.

    Returns
    -------
    list of dict
        With exact Python ints for the integer columns.
    """
    path = Path(path)
    fmt = _format(path)
    if not path.exists():
        return []
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RegionsError(f"expected a text file of sweep rows in {str(path)!r}, got binary bytes at "
                           f"offset {exc.start}") from None
    except OSError as exc:
        raise RegionsError(f"expected a readable sweep file, got {str(path)!r} ({exc.strerror})") from None
    if "\x00" in text:
        raise RegionsError(f"expected a text file of sweep rows in {str(path)!r}, got NUL bytes")
    if fmt == "json":
        if not text.strip():
            return []
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise RegionsError(f"expected a sweep JSON document in {str(path)!r}, got invalid JSON ({exc})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise RegionsError(f"expected a sweep JSON document with a 'rows' list in {str(path)!r}, got {type(doc).__name__}")
        return [_check_row(r, f"row {n} of {str(path)!r}") for n, r in enumerate(doc["rows"], 1)]
    complete = text[: text.rfind("\n") + 1] if "\n" in text else ""
    if fmt == "jsonl":
        rows = []
        for n, line in enumerate(complete.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                raise RegionsError(f"expected one JSON row per line in {str(path)!r}, got a bad line {n}") from None
            rows.append(_check_row(row, f"line {n} of {str(path)!r}"))
        return rows
    try:
        reader = csv.DictReader(io.StringIO(complete))
        if complete and reader.fieldnames and "depth" not in reader.fieldnames:
            raise RegionsError(f"expected a sweep CSV with a header row in {str(path)!r}, "
                               f"got {reader.fieldnames[:4]}")
        return [_check_row(_from_csv(rec, f"line {n} of {str(path)!r}"), f"line {n} of {str(path)!r}")
                for n, rec in enumerate(reader, 2)]
    except csv.Error as exc:
        raise RegionsError(f"expected a sweep CSV in {str(path)!r}, got a malformed line ({exc})") from None


class RowWriter:
    """Append rows to a ``.csv`` / ``.jsonl`` file (one complete line each) or keep a ``.json`` document.

    Parameters
    ----------
    path : str or PathLike
        The output file; its suffix picks the format.
    resume : bool, keyword-only
        Keep the rows already in the file (a half-written last line is cut
        away); otherwise the file is started afresh.
    meta : dict, keyword-only
        Settings stored in the ``.json`` document beside the rows.
    """

    def __init__(self, path: str | os.PathLike, *, resume: bool = False, meta: dict | None = None):
        self.path = Path(path)
        self.format = _format(self.path)
        directory = self.path.parent if str(self.path.parent) else Path(".")
        if not directory.is_dir():
            raise RegionsError(f"expected an existing folder for the output, got {str(directory)!r}")
        self.meta = dict(meta or {})
        self.rows: list[dict] = read_rows(self.path) if resume else []
        if self.format == "json":
            self._rewrite()
            return
        if resume and self.path.exists():
            data = self.path.read_bytes()
            cut = data.rfind(b"\n") + 1
            if cut != len(data):  # a line cut short by a kill: drop it
                with open(self.path, "r+b") as fh:
                    fh.truncate(cut)
                    fh.flush()
                    os.fsync(fh.fileno())
        if not (resume and self.path.exists() and self.path.stat().st_size):
            header = ",".join(COLUMNS) + "\n" if self.format == "csv" else ""
            write_text_atomic(self.path, header)

    def _line(self, row: dict) -> str:
        if self.format == "jsonl":
            return json.dumps(jsonable(row)) + "\n"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([_csv_value(row.get(k)) for k in COLUMNS])
        return buf.getvalue()

    def _rewrite(self) -> None:
        if self.format == "json":
            write_text_atomic(self.path, json.dumps(jsonable({"sweep": self.meta, "rows": self.rows}), indent=1) + "\n")
        else:
            header = ",".join(COLUMNS) + "\n" if self.format == "csv" else ""
            write_text_atomic(self.path, header + "".join(self._line(r) for r in self.rows))

    def append(self, row: dict) -> None:
        """Write one row now: one whole line, flushed and fsynced (``.json``: atomic rewrite)."""
        self.rows.append(row)
        if self.format == "json":
            self._rewrite()
            return
        data = self._line(row).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)

    def finish(self) -> None:
        """Rewrite the file with the rows sorted by (input_dim, depth, width), atomically."""
        self.rows.sort(key=lambda r: (r["input_dim"], r["depth"], r["width"]))
        self._rewrite()




# ------------------------------------------------------------------- sweep
def settings_of(cell: Cell) -> dict:
    """Every setting that changes a row of ``cell`` (:data:`SETTINGS`), stored in each row."""
    return {k: getattr(cell, k) for k in SETTINGS}


def _mismatch(path, have: dict | None, want: dict) -> RegionsError:
    if have is None:
        got = "rows without stored settings (written by an older version)"
    else:
        diff = [k for k in SETTINGS if have.get(k) != want[k]]
        got = ", ".join(f"{k} {have.get(k)!r} (this run: {want[k]!r})" for k in diff)
    return RegionsError(f"expected the rows of {str(path)!r} to have this sweep's settings to resume, "
                        f"got {got}; write to another file or run with the file's settings")


def _probe_scheduler(address: str) -> None:
    """Refuse at once a ``tcp://host:port`` scheduler that nothing listens on (Dask itself retries for 20 s)."""
    import socket  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise RegionsError(f"expected a Dask scheduler address such as tcp://host:8786, got {address!r}") from None
    if parts.scheme not in ("tcp", "tls") or not host or port is None:
        if parts.scheme in ("tcp", "tls"):
            raise RegionsError(f"expected a Dask scheduler address such as tcp://host:8786, got {address!r}")
        return  # other protocols (inproc, ucx): left to Dask
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError as exc:
        raise RegionsError(f"expected a reachable Dask scheduler, got {address!r} "
                           f"({exc.strerror or type(exc).__name__})") from None


def sweep(
    input_dim: int = 1,
    depths: str | Sequence[int] = "1:5",
    widths: str | Sequence[int] = "3:10",
    *,
    mode: str = "all",
    seeds: int = 10,
    init: str = "he",
    bias: str | float = "same",
    domain: str = "box",
    lo: float = -1.0,
    hi: float = 1.0,
    max_regions: int = 10_000_000,
    base_seed: int = 0,
    jobs: int | None = None,
    scheduler=None,
    max_seconds: float | None = None,
    out: str | os.PathLike | None = None,
    resume: bool = False,
    force: bool = False,
    on_row: Callable[[dict], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """Run a sweep over depths x widths and return its rows, sorted.

    Parameters
    ----------
    input_dim : int
        Number of inputs d (default 1: Prince's figure 4.7a).
    depths, widths : str or sequence of int
        Hidden layers and units per layer (:func:`parse_range` syntax);
        defaults ``1:5`` and ``3:10``.
    mode : {"bound", "construct", "random", "all"}
        See the module docstring.
    seeds : int
        Random networks per cell.
    init, bias : str
        Of :meth:`regions.Network.from_arch` (He-normal by default).
    domain : {"box", "whole", "segment", "line", "plane"}
        Where the random networks are counted: the box ``[lo, hi]^d``, all
        of ``R^d``, or a segment / line / plane through random points of the box.
    lo, hi : float
        The box.
    max_regions : int
        Budget of one exact count (see "Budgets").
    base_seed : int
        Mixed into every cell's seeds.
    jobs : int, optional
        Local worker processes (default: the CPU count; 0: this process).
    scheduler : str or distributed.Client, optional
        Run the cells on this Dask cluster instead.
    max_seconds : float, optional
        Per-cell time limit (see "Budgets").
    out : path, optional
        ``.csv``, ``.jsonl`` or ``.json`` file; each row is written as soon as
        it is finished, and the file is rewritten sorted at the end.
    resume : bool
        Keep the rows already in ``out`` and compute only the missing cells
        (and the cells cut short by ``max_seconds`` or a dead worker, which
        may get more time now); every row must carry this sweep's settings
        (:data:`SETTINGS`), else nothing runs.
    force : bool
        Replace an existing ``out`` (otherwise refused unless ``resume``).
    on_row : callable, optional
        Called with each new row as it finishes (progress).
    on_start : callable, optional
        Called once with ``(cells to run, cells already done)``.

    Returns
    -------
    list of dict
        One row per cell, sorted by depth then width.
    """
    cells = make_cells(input_dim, depths, widths, mode=mode, seeds=seeds, init=init, bias=bias, domain=domain,
                       lo=lo, hi=hi, max_regions=max_regions, base_seed=base_seed)
    if resume and out is None:
        raise RegionsError("expected an output file to resume, got resume without out")
    want = settings_of(cells[0])
    if max_seconds is not None and (isinstance(max_seconds, bool) or not isinstance(max_seconds, (int, float))
                                    or not math.isfinite(max_seconds) or max_seconds <= 0):
        raise RegionsError(f"expected max_seconds per cell to be a finite number > 0, got {max_seconds!r}")
    # every check before any file is touched: options, runner, output and its rows' settings
    if scheduler is not None:
        runner = DaskRunner(scheduler, max_seconds=max_seconds)
    else:
        runner = LocalRunner(jobs, max_seconds=max_seconds)
    if out is not None:
        check_output(out, resume=resume, force=force, settings=want)
    with contextlib.ExitStack() as stack:
        writer = None
        done: dict = {}
        if out is not None:
            # the lock first: a second sweep on the same file is refused before it connects or writes
            stack.enter_context(lock_output(out, what="the rows file"))
            if resume:  # read again under the lock: the file may have grown since the check
                rows_now = read_rows(out)
                _check_settings(out, rows_now, want)
                for row in rows_now:
                    key = (row["input_dim"], row["depth"], row["width"])
                    if _cut_short(row):  # stopped at its deadline or lost with its worker: computed again
                        done.pop(key, None)
                    else:
                        done[key] = row
            elif check_output_path(out, force=True, what="the rows file").exists and not force:
                raise RegionsError(f"expected the rows file to name a new file, got the existing {str(out)!r} "
                                   f"(written since the check); pass --force to replace it")
        if scheduler is not None and isinstance(scheduler, str):
            _probe_scheduler(scheduler)
            client, _ = _runners.connect(scheduler)  # one sentence when it cannot be reached
            stack.callback(client.close)
            runner.scheduler = client
        if out is not None:
            meta = {**want, "depths": parse_range(depths, name="depths"),
                    "widths": parse_range(widths, name="widths")}
            writer = RowWriter(out, resume=resume, meta=meta)
            if resume:  # keep only one row per cell
                writer.rows = list(done.values())
        todo = [c for c in cells if c.key not in done]
        if on_start is not None:
            on_start(len(todo), len(cells) - len(todo))
        rows = [done[c.key] for c in cells if c.key in done]
        for row in runner.run(todo):
            row = {**row, "settings": want}
            rows.append(row)
            if writer is not None:
                writer.append(row)
            if on_row is not None:
                on_row(row)
        if writer is not None:
            writer.finish()
    rows.sort(key=lambda r: (r["input_dim"], r["depth"], r["width"]))
    return rows


# ------------------------------------------------------- table and figure
# The presentation lives beside the other reports and pictures; these names stay here too.
from .report import format_table  # noqa: E402
from ..plot.sweep import plot_sweep as plot, save_sweep_plot as save_plot  # noqa: E402


# ------------------------------------------------------ child-process entry
def _child_main() -> None:  # pragma: no cover -- runs in a child process
    """Child-process entry: read a cell as JSON on stdin, print one event per line (flushed)."""
    cell = Cell.from_dict(json.loads(sys.stdin.read()))
    for ev in _safe_events(cell):
        sys.stdout.write(json.dumps(ev) + "\n")
        sys.stdout.flush()

