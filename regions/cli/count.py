"""``regions count`` and ``regions bound``."""

from __future__ import annotations

import sys
import time

import click

import regions
from regions import theory
from regions.core.parsing import parse_int_list
from regions.core.result import count_record

from ._common import (
    IntAtLeast,
    build_domain,
    build_network,
    domain_options,
    echo_json,
    emit,
    fail,
    force_option,
    guard,
    hidden_alias,
    network_options,
    output_target,
    to_json,
)


@click.command()
@network_options
@domain_options
@click.option("--max-regions", type=IntAtLeast(1), default=None,
              help="Stop after this many regions; the count is then reported as partial "
                   "(with --verify: refused, a partial partition cannot be verified).")
@click.option("--engine", default=None,
              help="Force an engine: line, planar, polytope (vertices) or lp [default: chosen by cost].")
@click.option("--verify", is_flag=True, help="Build the full partition and check its invariants.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar per layer (n-D engine) [default: on when stderr is a terminal].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--out", help="Also write the JSON object here: a new file (atomically), a pipe or device, "
                             "or - for standard output.")
@force_option
@click.option("-j", "--jobs", type=IntAtLeast(0), default=None,
              help="Split the count into subproblems and run them in this many local processes.")
@click.option("--scheduler", default=None, help="Split the count and run it on a Dask cluster (tcp://host:8786).")
@click.option("--state", "state_dir", type=click.Path(file_okay=False), default=None,
              help="Record finished subproblems in this folder; rerunning the same command resumes.")
@guard
def count(arch, init, bias_init, seed, weights, activation, construction, depth, width, whole, box_text,
          segment_file, line_file, plane_file, triangle, margin, max_regions, engine, verify, progress, as_json,
          out, force, jobs, scheduler, state_dir, input_dim=None):
    """Count the activation regions and affine pieces of a network, exactly.

    \b
    Examples:
      regions count --construction sawtooth --depth 5 --width 10 --whole --json
      regions count --arch 1-10-10-1 --seed 3 --box -2:2
      regions count --weights net.npz --plane points.npy
      regions count --construction sawtooth --depth 8 --width 10 --whole --jobs 2 --state run8
    """
    split = {k: v for k, v in (("jobs", jobs), ("scheduler", scheduler), ("state", state_dir)) if v is not None}
    if jobs is not None and jobs < 0:
        fail(f"expected --jobs >= 0, got {jobs}")
    if jobs is not None and scheduler is not None:
        fail(f"expected either --jobs or --scheduler, got both (--jobs {jobs}, --scheduler {scheduler})")
    if split and (verify or max_regions is not None):
        fail("expected --jobs/--scheduler/--state without --verify and --max-regions, got both kinds")
    if engine is not None and not engine.strip():
        fail(f"expected --engine to name an engine such as line, planar, polytope or lp, got {engine!r}")
    if scheduler is not None and not scheduler.strip():
        fail(f"expected --scheduler as an address such as tcp://host:8786, got {scheduler!r}")
    if state_dir is not None and not state_dir.strip():
        fail(f"expected --state to name a folder, got {state_dir!r}")
    target = output_target(out, force)
    net = build_network(arch, init, bias_init, seed, weights, construction, depth, width, input_dim, activation)
    domain = build_domain(net, whole, box_text, segment_file, line_file, plane_file, triangle, margin)
    if progress is None:
        progress = sys.stderr.isatty()
    t0 = time.perf_counter()
    if verify:
        part = regions.partition(net, domain, engine=engine, max_regions=max_regions)
        result = part.count()
        if result.partial:
            fail(f"expected at most --max-regions {max_regions} regions to verify, got more (the partition "
                 f"stopped there and a partial one cannot be verified); raise --max-regions or drop --verify")
        checks = part.verify()
    else:
        result = regions.count(net, domain, engine=engine, max_regions=max_regions, progress=progress, **split)
        checks = None
    seconds = time.perf_counter() - t0
    record = count_record(result, net, domain, seconds=seconds, verified=checks is not None)
    emit(target, to_json(record) + "\n")
    if as_json:
        if target is None or target.kind != "stdout":
            echo_json(record)
        return
    partial = " (partial: stopped at --max-regions)" if result.partial else ""
    click.echo(f"network      {net.arch}  ({net.n_params} parameters)")
    click.echo(f"domain       {_domain_text(domain)}")
    click.echo(f"regions      {result.regions}{partial}")
    if result.pieces is not None:
        click.echo(f"pieces       {result.pieces}  (affine pieces: neighbours with one output map merged)")
    if result.bounded is not None:
        click.echo(f"bounded      {result.bounded}   unbounded {result.unbounded}")
    click.echo(f"per layer    {', '.join(str(c) for c in result.layer_counts)}")
    click.echo(f"engine       {result.engine}   {seconds:.3f} s" + ("   verified" if checks else ""))
    if "subproblems" in result.extra:
        resumed = f", {result.extra['resumed']} read from --state" if result.extra.get("resumed") else ""
        click.echo(f"split        {result.extra['subproblems']} subproblems{resumed}")
    if "pieces_note" in result.extra:
        click.echo(f"note         {result.extra['pieces_note']}")


def _domain_text(domain) -> str:
    """A short human description of a domain: 'all of R^3', '[-1, 1] x [0, 2]', ..."""
    if domain.kind == "whole":
        return f"all of R^{domain.dim}" if domain.dim > 1 else "all of R"
    sides = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in zip(domain.lo, domain.hi))
    where = f" (parameters of a {domain.kind} in R^{domain.input_dim})" if domain.input_dim is not None else ""
    if domain.vertices is not None:
        return f"convex polygon with {len(domain.vertices)} vertices{where}"
    return sides + where


def _parse_widths(text: str) -> list[int]:
    return parse_int_list(text, name="--hidden", example="10,10,10", limit=100_000)


@click.command()
@click.option("--input-dim", "input_dim", type=IntAtLeast(1), required=True, help="Number of inputs d.")
@click.option("--width", type=IntAtLeast(1), help="Units per hidden layer (with --depth).")
@click.option("--depth", type=IntAtLeast(1), help="Number of hidden layers (with --width).")
@click.option("--hidden", "widths", callback=hidden_alias("--widths", "widths"),
              help="Hidden widths, e.g. 10,20,10 (instead of --width/--depth; as in train-digits).")
@click.option("--widths", "old_widths", hidden=True, expose_value=False, callback=hidden_alias("--hidden", "widths"))
@click.option("--output-dim", type=IntAtLeast(1), default=1, show_default=True, help="Number of outputs.")
@click.option("--maxout-rank", "maxout_rank", type=IntAtLeast(2), default=None,
              help="Also the maxout bounds for rank-k maxout units (k >= 2 candidates per unit).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (integers exact).")
@click.option("--out", help="Also write the JSON object here: a new file (atomically), a pipe or device, "
                             "or - for standard output.")
@force_option
@guard
def bound(input_dim, width, depth, widths, output_dim, maxout_rank, as_json, out, force):
    """Parameters and the published bounds on the number of regions, as exact integers.

    Large bounds are shown as 1.23e4567, read from the exact integer's
    digits (the JSON output keeps every digit).

    \b
    Example:
      regions bound --input-dim 10 --width 50 --depth 5
      regions bound --input-dim 784 --width 1000 --depth 3
    """
    if widths is not None:
        if width is not None or depth is not None:
            fail("expected either --hidden or --width with --depth, got both")
        ws = _parse_widths(widths)
    else:
        if width is None or depth is None:
            fail("expected --width and --depth (or --hidden), got "
                 f"width={width}, depth={depth}")
        if depth > 100_000:
            fail(f"expected --depth of at most 100,000 hidden layers, got {depth:,}")
        ws = list(theory.uniform_widths(width, depth))
    target = output_target(out, force)
    values = theory.bounds(input_dim, ws, output_dim)
    if maxout_rank is not None:
        values.update(theory.maxout_bounds(input_dim, ws, maxout_rank))
    record = {"input_dim": input_dim, "widths": ws, "output_dim": output_dim, **values}
    if target is not None:
        emit(target, to_json(record) + "\n")
    if as_json:
        if target is None or target.kind != "stdout":
            echo_json(record)
        return
    arch = "-".join(map(str, [input_dim, *ws, output_dim]))
    if len(arch) > 60:
        arch = f"{input_dim}-[{len(ws)} hidden layers, widths {min(ws)}..{max(ws)}]-{output_dim}"
    click.echo(f"architecture           {arch}")
    labels = {
        "params": "parameters",
        "zaslavsky": "zaslavsky (1 layer)",
        "one_dim_maximum": "1-D maximum",
        "serra_lower": "lower (Serra 2018)",
        "montufar2014_lower": "lower (Montufar 2014)",
        "serra_upper": "upper (Serra 2018)",
        "montufar2017_upper": "upper (Montufar 2017)",
        "rank": "maxout rank",
        "maxout_montufar2014_lower": "maxout lower (M. 2014)",
        "maxout_serra_upper": "maxout upper (S. 2018)",
    }
    for key, label in labels.items():
        if key in values:
            v = values[key]
            if v is None:
                need = "input_dim" if key.startswith("maxout") else "3 * input_dim"
                mult = 1 if key.startswith("maxout") else 3
                click.echo(f"{label:<23}-   (proved only for widths >= {need} = {mult * input_dim})")
                continue
            exact = f"{v:,}" if v < 10**60 else ""
            if exact and len(exact) + 23 <= 100:
                approx = f"   (~{theory.format_int(v)})" if v >= 10**7 else ""
                line = f"{label:<23}{exact}"
                click.echo(line + (approx if len(line) + len(approx) <= 100 else ""))
            else:
                click.echo(f"{label:<23}{theory.format_int(v)}   (exact integer of {len(_digits(v)):,} "
                           f"digits: --json)")


def _digits(v: int) -> str:
    return theory._decimal(abs(int(v)))  # noqa: SLF001 -- digits of any size, without str()'s limit
