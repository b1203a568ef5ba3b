"""``regions local``: exact regions around data points, with the unit-count proxy."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from ._common import build_network, echo_json, fail, guard, network_options, to_json, write_output


@click.command("local")
@network_options
@click.option("--points", "points_file", type=click.Path(dir_okay=False), required=True,
              help="Data points: a .npy array shaped (n, input_dim).")
@click.option("--radius", type=float, required=True,
              help="Half-side of the box (l1 radius of the cross-polytope) around each point.")
@click.option("--kind", type=click.Choice(["box", "cross"]), default="box", show_default=True,
              help="Neighbourhood: l-infinity box or l1 cross-polytope.")
@click.option("--dim", type=int, default=None,
              help="Random DIM-dimensional frames through the points [default: the full input box].")
@click.option("--frame-seed", type=int, default=0, show_default=True, help="Seed of the random frames.")
@click.option("--max-regions", type=int, default=None, help="Stop each count after this many regions.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the table here (.csv or .json).")
@click.option("--force", is_flag=True, help="Overwrite an existing --out.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@guard
def local(arch, init, bias_init, seed, weights, construction, depth, width, points_file, radius, kind, dim,
          frame_seed, max_regions, out, force, as_json):
    """Exact number of regions meeting a box around each data point, and the units cutting it.

    \b
    Example:
      regions local --arch 64-16-16-10 --points digits.npy --radius 0.05 --out local.csv
    """
    if out is not None:
        if Path(out).suffix.lower() not in (".csv", ".json"):
            fail(f"expected --out ending in .csv or .json, got {out!r}")
        if Path(out).exists() and not force:
            fail(f"expected a new --out file or --force, got the existing {out!r}")
    if max_regions is not None and max_regions < 1:
        fail(f"expected --max-regions >= 1, got {max_regions}")
    net = build_network(arch, init, bias_init, seed, weights, construction, depth, width)
    p = Path(points_file)
    if not p.is_file():
        fail(f"expected an existing .npy file of points, got {points_file!r}")
    try:
        X = np.load(p, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 -- any unreadable file is one sentence
        fail(f"expected a .npy array of points, got an unreadable {points_file!r} ({type(exc).__name__})")
    if not isinstance(X, np.ndarray) or X.dtype.kind not in "biuf":
        fail(f"expected a numeric .npy array of points in {points_file!r}")
    from regions.experiments.local import local_complexity  # noqa: PLC0415

    res = local_complexity(net, X, radius, kind=kind, dim=dim, seed=frame_seed, max_regions=max_regions)
    rows = [{"point": i, "regions": int(r), "units_cut": int(u), "partial": bool(q)}
            for i, (r, u, q) in enumerate(zip(res["regions"], res["units_cut"], res["partial"]))]
    record = {"arch": net.arch, "radius": radius, "kind": kind, "dim": dim, "frame_seed": frame_seed,
              "engine": res["engine"], "rows": rows}
    if out is not None:
        if out.lower().endswith(".json"):
            write_output(out, to_json(record) + "\n")
        else:
            text = "point,regions,units_cut,partial\n" + "".join(
                f"{r['point']},{r['regions']},{r['units_cut']},{str(r['partial']).lower()}\n" for r in rows)
            write_output(out, text)
    if as_json:
        echo_json(record)
        return
    click.echo(f"network {net.arch}   radius {radius:g}   "
               f"{'full box' if dim is None else f'{dim}-D frames'}   engine {res['engine']}")
    click.echo("point  regions  units_cut")
    for r in rows:
        click.echo(f"{r['point']:>5}  {r['regions']:>7}  {r['units_cut']:>9}" + ("  partial" if r["partial"] else ""))
