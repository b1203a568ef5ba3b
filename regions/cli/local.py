"""``regions local``: exact regions around data points, with the unit-count proxy."""

from __future__ import annotations

from pathlib import Path

import click

from regions.core.io import read_points

from ._common import (
    IntAtLeast,
    POSITIVE,
    SEED,
    build_network,
    echo_json,
    emit,
    fail,
    force_option,
    guard,
    network_options,
    output_target,
    to_json,
)


@click.command("local")
@network_options
@click.option("--points", "points_file", type=click.Path(dir_okay=False), required=True,
              help="Data points: a .npy array shaped (n, input_dim).")
@click.option("--radius", type=POSITIVE, required=True,
              help="Half-side of the box (l1 radius of the cross-polytope) around each point.")
@click.option("--neighbourhood", "kind", type=click.Choice(["box", "cross"]), default="box", show_default=True,
              help="Neighbourhood: l-infinity box or l1 cross-polytope.")
@click.option("--dim", type=IntAtLeast(1), default=None,
              help="Random DIM-dimensional frames through the points [default: the full input box].")
@click.option("--frame-seed", type=SEED, default=0, show_default=True, help="Seed of the random frames.")
@click.option("--max-regions", type=IntAtLeast(1), default=None,
              help="Stop each count after this many regions.")
@click.option("-j", "--jobs", type=IntAtLeast(0), default=0, show_default=True,
              help="Worker processes, one point per task (0: count in this process).")
@click.option("--out", help="Write the table here: .csv or .json (a new file, written atomically), a pipe or "
                            "device (CSV, or JSON with --json), or - for standard output.")
@force_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@guard
def local(arch, init, bias_init, seed, weights, activation, construction, depth, width, points_file, radius,
          kind, dim, frame_seed, max_regions, jobs, out, force, as_json, input_dim=None):
    """Exact number of regions meeting a box around each data point, and the units cutting it.

    \b
    Example:
      regions local --arch 64-16-16-10 --points digits.npy --radius 0.05 --out local.csv
    """
    target = output_target(out, force)
    as_csv = True
    if target is not None and target.is_file:
        suffix = Path(out).suffix.lower()
        if suffix not in (".csv", ".json"):
            fail(f"expected --out ending in .csv or .json, got {out!r}")
        as_csv = suffix == ".csv"
    elif target is not None:
        as_csv = not as_json
    net = build_network(arch, init, bias_init, seed, weights, construction, depth, width, input_dim, activation)
    X = read_points(points_file, what="--points")
    if X.shape[1] != net.input_dim:
        fail(f"expected points with {net.input_dim} coordinates (the network's inputs) in {points_file!r}, "
             f"got {X.shape[1]}")
    if dim is not None and dim > net.input_dim:
        fail(f"expected --dim of at most the input dimension {net.input_dim}, got {dim}")
    from regions.experiments.local import local_complexity  # noqa: PLC0415

    res = local_complexity(net, X, radius, kind=kind, dim=dim, seed=frame_seed, max_regions=max_regions, jobs=jobs)
    rows = [{"point": i, "regions": int(r), "units_cut": int(u), "partial": bool(q)}
            for i, (r, u, q) in enumerate(zip(res["regions"], res["units_cut"], res["partial"]))]
    record = {"arch": net.arch, "radius": radius, "kind": kind, "dim": dim, "frame_seed": frame_seed,
              "engine": res["engine"], "rows": rows}
    if target is not None:
        if not as_csv:
            emit(target, to_json(record) + "\n")
        else:
            emit(target, "point,regions,units_cut,partial\n" + "".join(
                f"{r['point']},{r['regions']},{r['units_cut']},{str(r['partial']).lower()}\n" for r in rows))
        if target.kind == "stdout":
            return
    if as_json:
        echo_json(record)
        return
    click.echo(f"network {net.arch}   radius {radius:g}   "
               f"{'full box' if dim is None else f'{dim}-D frames'}   engine {res['engine']}")
    click.echo("point  regions  units_cut")
    for r in rows:
        click.echo(f"{r['point']:>5}  {r['regions']:>7}  {r['units_cut']:>9}" + ("  partial" if r["partial"] else ""))
