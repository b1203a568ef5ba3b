"""The cells of a sweep and the computation of one cell's row.

A *cell* is one architecture of a sweep (:class:`Cell`); :func:`cell_events`
computes its bounds and counts as events and :func:`assemble_row` makes its
row.  Runners, file I/O and the sweep itself: :mod:`.sweep` (which
re-exports every public name here) and :mod:`.rows`.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import asdict, dataclass, fields
from typing import Iterable, Iterator, Sequence

import numpy as np

from .. import domains
from ..analysis import constructions, theory
from ..core.parsing import parse_int_list
from ..domains import box
from ..engines.registry import count
from ..errors import RegionsError
from ..model.network import INIT_SCHEMES, Network

__all__ = [
    "COLUMNS",
    "Cell",
    "DOMAINS",
    "MAX_CELLS",
    "MAX_SWEEP_BITS",
    "MODES",
    "SETTINGS",
    "assemble_row",
    "cell_events",
    "cell_seed",
    "check_size",
    "default_name",
    "make_cells",
    "parse_range",
    "run_cell",
    "settings_of",
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


#: Most hidden layers of one sweep cell (as ``regions bound --depth``).
MAX_DEPTH = 100_000


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
    if max(depths) > MAX_DEPTH:  # before the layers are listed: a depth such as 10^23 is never built
        raise RegionsError(f"expected depths of at most {MAX_DEPTH:,} hidden layers, got {max(depths):,}")
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


def settings_of(cell: Cell) -> dict:
    """Every setting that changes a row of ``cell`` (:data:`SETTINGS`), stored in each row."""
    return {k: getattr(cell, k) for k in SETTINGS}
