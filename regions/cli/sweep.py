"""``regions sweep``: regions per parameter across depth and width."""

from __future__ import annotations

import contextlib
import sys

import click

from regions.core.io import check_output_path, lock_output, write_output
from regions.domains import parse_box
from regions.experiments import sweep as sweeplib
from regions.model.network import INIT_SCHEMES

from ._common import fail, guard, parse_bias, to_json


@click.command()
@click.option("--input-dim", "input_dim", type=int, default=1, show_default=True, help="Number of inputs d.")
@click.option("--depths", default="1:5", show_default=True,
              help="Hidden layers: a range START:STOP[:STEP] (inclusive), a list 1,3,5, or a mix.")
@click.option("--widths", default="3:10", show_default=True, help="Units per hidden layer, same syntax as --depths.")
@click.option("--mode", default="all", show_default=True,
              help="bound (bounds only, instant), construct (+ the bound-attaining construction counted "
                   "exactly), random (+ exact counts of random networks), all (everything).")
@click.option("--seeds", type=int, default=10, show_default=True, help="Random networks per cell.")
@click.option("--init", type=click.Choice(list(INIT_SCHEMES)), default="he", show_default=True,
              help="Initialisation of the random networks (he: He-normal).")
@click.option("--bias", "bias_init", default="same", show_default=True,
              help="Biases of the random networks: 'same' (drawn like the weights), 'zero', or a number.")
@click.option("--box", "box_text", default=None,
              help="Domain of the random counts: the box LO:HI on every input [default: -1:1]; also where "
                   "the random points of --domain segment/line/plane are drawn.")
@click.option("--whole", is_flag=True, help="Count the random networks on all of R^d (same as --domain whole).")
@click.option("--domain", "domain_kind", default=None,
              help="box (default), whole, or segment/line/plane through random points of the box "
                   "(one per seed; for high input dimensions).")
@click.option("--max-regions", type=int, default=10_000_000, show_default=True,
              help="Budget of one exact count: larger constructions are refused up front, random counts stop there.")
@click.option("--max-seconds-per-cell", "max_seconds", type=float, default=None,
              help="Stop a cell after this many seconds (its worker is killed); the row keeps what finished "
                   "and says so in its note.")
@click.option("-j", "--jobs", type=int, default=None, help="Local worker processes [default: CPU count].")
@click.option("--scheduler", default=None,
              help="Run the cells on this Dask distributed scheduler, e.g. tcp://host:8786 "
                   "(pip install 'regions[dask]').")
@click.option("--base-seed", type=int, default=0, show_default=True, help="Mixed into every cell's seeds.")
@click.option("--out", default=None,
              help="Rows file: .csv, .jsonl (one line per row, written as each cell finishes) or .json "
                   "[default: a .csv named after the settings, e.g. sweep_d1_depths1-5_widths3-10_all.csv].")
@click.option("--no-out", is_flag=True, help="Write no rows file.")
@click.option("--plot", "plot_file", default=None,
              help="Figure: regions vs parameters, one curve per depth (.png, .svg or .pdf) "
                   "[default: the rows file's name with .png].")
@click.option("--no-plot", is_flag=True, help="Draw no figure.")
@click.option("--resume", is_flag=True,
              help="Keep the rows already in --out and compute only the missing cells and those cut short "
                   "by --max-seconds-per-cell (refused when the file's rows were made with other settings).")
@click.option("--force", is_flag=True, help="Replace an existing rows file or figure (never done without it).")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON (exact integers) instead of the table.")
@click.option("--wide", is_flag=True,
              help="Table with every column and exact integers, however wide (default: at most 100 columns).")
@guard
def sweep(input_dim, depths, widths, mode, seeds, init, bias_init, box_text, whole, domain_kind, max_regions,
          max_seconds, jobs, scheduler, base_seed, out, no_out, plot_file, no_plot, resume, force, as_json, wide):
    """Regions per parameter across depth and width: bounds, constructions, exact counts.

    One row per depth x width: parameters; the bounds (Zaslavsky at depth 1,
    Serra et al.'s deep lower bound, Serra et al.'s upper bound); the exact
    count of a network attaining the lower bound (sawtooth for one input,
    folding otherwise); exact counts of random networks (mean, std, min,
    max over --seeds); regions per parameter; seconds per cell.

    With no options: Prince's figure 4.7a (1 input, depths 1-5, widths
    3-10), written to sweep_d1_depths1-5_widths3-10_all.csv and .png.
    Default file names carry the settings, so two different sweeps never
    share one; an existing file is replaced only with --force (or extended
    with --resume).

    \b
    Examples:
      regions sweep
      regions sweep --input-dim 10 --depths 1:5 --widths 10:50:10 --mode bound
      regions sweep --input-dim 10 --domain line --seeds 20 --out sweep10.jsonl
      regions sweep --depths 1:8 --widths 3,10,50 -j 8 --max-seconds-per-cell 60
      regions sweep --scheduler tcp://scheduler:8786 --out big.jsonl --resume
    """
    if mode not in sweeplib.MODES:
        fail(f"expected --mode to be one of {', '.join(sweeplib.MODES)}, got {mode!r}")
    if whole and domain_kind not in (None, "whole"):
        fail(f"expected either --whole or --domain, got --whole and --domain {domain_kind}")
    kind = "whole" if whole else (domain_kind or "box")
    if kind not in sweeplib.DOMAINS:
        fail(f"expected --domain to be one of {', '.join(sweeplib.DOMAINS)}, got {domain_kind!r}")
    if whole and box_text:
        fail("expected either --whole or --box, got both")
    lo, hi = -1.0, 1.0
    if box_text is not None:
        dom = parse_box(box_text, 1)
        lo, hi = float(dom.lo[0]), float(dom.hi[0])
    bias = parse_bias(bias_init)
    if scheduler is not None and jobs is not None:
        fail(f"expected either -j/--jobs (local processes) or --scheduler (Dask), got -j {jobs} and --scheduler {scheduler}")
    if resume and force:
        fail("expected either --resume (keep the rows) or --force (replace the files), got both")
    if no_out and resume:
        fail("expected --out FILE to resume from, got --no-out")
    if max_seconds is not None and not (0 < max_seconds < float("inf")):
        fail(f"expected --max-seconds-per-cell to be a finite number > 0, got {max_seconds}")
    if jobs is not None and jobs < 0:
        fail(f"expected -j/--jobs >= 0, got {jobs}")
    if base_seed < 0:
        fail(f"expected --base-seed >= 0, got {base_seed}")
    for name, value in (("--input-dim", input_dim), ("--seeds", seeds), ("--max-regions", max_regions)):
        if value < 1:
            fail(f"expected {name} >= 1, got {value}")
    # check everything (ranges, sizes, options) before any file is named or touched
    settings = dict(mode=mode, seeds=seeds, init=init, bias=bias, domain=kind, lo=lo, hi=hi,
                    max_regions=max_regions, base_seed=base_seed)
    cells = sweeplib.make_cells(input_dim, depths, widths, **settings)
    stem = sweeplib.default_name(input_dim, depths, widths, **settings)
    if no_out:
        out = None
    elif out is None:
        out = f"{stem}.csv"
    if no_plot:
        plot_file = None
    elif plot_file is None:
        plot_file = f"{stem if out is None else str(out).rsplit('.', 1)[0]}.png"
    if out is not None:
        sweeplib.check_output(out, resume=resume, force=force, settings=sweeplib.settings_of(cells[0]))
    if plot_file is not None:
        if out is not None and plot_file == out:
            fail(f"expected --plot and --out to be two files, got {out!r} for both")
        # the figure is redrawn from all the rows on --resume
        plot_target = check_output_path(plot_file, force=force or resume, what="--plot",
                                        suffixes=(".png", ".svg", ".pdf"))

    with contextlib.ExitStack() as stack:
        if plot_file is not None and plot_target.is_file:  # a second sweep drawing it is refused now
            stack.enter_context(lock_output(plot_file, what="the figure"))
        _run(cells, input_dim, depths, widths, settings, jobs, scheduler, max_seconds, out, resume, force,
             plot_file, plot_target if plot_file is not None else None, as_json, wide)


def _figure_bytes(rows, name: str) -> bytes:
    """The figure as bytes, for a pipe or a device (format from the name, else PNG)."""
    import io  # noqa: PLC0415

    from matplotlib.figure import Figure  # noqa: PLC0415 -- no pyplot, no backend switch

    from regions.plot.style import figure_style  # noqa: PLC0415

    fmt = name.lower().rsplit(".", 1)[-1] if "." in name else "png"
    buf = io.BytesIO()
    with figure_style():
        fig = Figure(figsize=(7.2, 5.2), layout="constrained")
        sweeplib.plot(rows, ax=fig.add_subplot())
        fig.savefig(buf, format=fmt if fmt in ("png", "svg", "pdf") else "png", dpi=150)
    return buf.getvalue()


def _run(cells, input_dim, depths, widths, settings, jobs, scheduler, max_seconds, out, resume, force,
         plot_file, plot_target, as_json, wide):
    state = {"bar": None}

    def on_start(todo, done):
        if done:
            click.echo(f"resuming: {done} of {todo + done} cells already in {out}", err=True)
        if sys.stderr.isatty():
            state["bar"] = click.progressbar(length=todo, label="cells", file=sys.stderr, show_pos=True)
            state["bar"].__enter__()

    def on_row(row):
        if state["bar"] is not None:
            state["bar"].update(1)

    try:
        rows = sweeplib.sweep(input_dim, depths, widths, **settings, jobs=jobs, scheduler=scheduler,
                              max_seconds=max_seconds, out=out, resume=resume, force=force,
                              on_row=on_row, on_start=on_start)
    except KeyboardInterrupt:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)
            state["bar"] = None
        where = f"; the finished rows are in {out}, run again with --resume to complete it" if out else ""
        click.echo(f"\ninterrupted{where}", err=True)
        sys.exit(130)
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)
    if len(rows) != len(cells):
        fail(f"expected {len(cells)} rows, got {len(rows)}; run again with --resume to complete {out}")
    if as_json:
        click.echo(to_json(rows))
    else:
        click.echo(sweeplib.format_table(rows, wide=wide))
    written = [str(out)] if out else []
    if plot_file:
        if plot_target.is_file:
            sweeplib.save_plot(rows, plot_file)
        else:  # a pipe or a device: written straight into, never replaced
            write_output(plot_target, _figure_bytes(rows, str(plot_file)))
        written.append(str(plot_file))
    if written:
        click.echo(f"wrote {' and '.join(written)}", err=as_json)


__all__ = ["sweep"]
