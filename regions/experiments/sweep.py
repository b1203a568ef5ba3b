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

Layout
------
Cells and their computation live in :mod:`.cells`, rows on disk in
:mod:`.rows`, the table in :mod:`.report` and the figure in
:mod:`regions.plot.sweep`; this module runs the cells and re-exports all of
their public names.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import time
from typing import Callable, Iterator, Sequence
from urllib.parse import urlsplit

from ..errors import RegionsError
from ..core.io import check_output_path, lock_output
from ..execution import runners as _runners
from ..plot.sweep import plot_sweep as plot, save_sweep_plot as save_plot
from .cells import (  # noqa: F401 -- re-exported (__all__)
    COLUMNS, DOMAINS, MAX_CELLS, MAX_SWEEP_BITS, MODES, SETTINGS, Cell, _safe_events, assemble_row, cell_events,
    cell_seed, check_size, default_name, make_cells, parse_range, run_cell, settings_of,
)
from .report import format_table
from .rows import RowWriter, _check_settings, _cut_short, check_output, read_rows  # noqa: F401 -- re-exported (__all__)

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


def _probe_scheduler(address: str) -> None:
    """Refuse at once a ``tcp://host:port`` scheduler that nothing listens on (Dask itself retries for 20 s)."""
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


# ------------------------------------------------------ child-process entry
def _child_main() -> None:  # pragma: no cover -- runs in a child process
    """Child-process entry: read a cell as JSON on stdin, print one event per line (flushed)."""
    cell = Cell.from_dict(json.loads(sys.stdin.read()))
    for ev in _safe_events(cell):
        sys.stdout.write(json.dumps(ev) + "\n")
        sys.stdout.flush()
