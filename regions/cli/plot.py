"""``regions plot``: pictures of the exact 2-D partition."""

from __future__ import annotations

import io
from pathlib import Path

import click

import regions

from ._common import (
    IntAtLeast,
    FINITE,
    POSITIVE,
    build_domain,
    build_network,
    domain_options,
    emit,
    fail,
    force_option,
    guard,
    network_options,
    output_target,
)

KINDS = ("partition", "output", "layers", "boundary", "pieces")
FORMATS = (".png", ".svg", ".pdf")
#: Largest side of a .png picture, in pixels.
MAX_PIXELS = 20_000


@click.command()
@network_options
@domain_options(hide=("--whole", "--segment", "--line"))
@click.option("--kind", type=click.Choice(KINDS), default="partition", show_default=True,
              help="partition: regions in random colours; output: the output as a heat map with "
                   "edges; layers: one panel per hidden layer; boundary: regions and the exact "
                   "decision boundary (output = --level); pieces: one colour per affine piece.")
@click.option("--out", required=True,
              help="Picture file: .png, .svg or .pdf (a new file, written atomically; a pipe or device is "
                   "written straight into); --format picks the format for a pipe or - (standard output).")
@force_option
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "pdf"]), default=None,
              help="Picture format [default: from the suffix of --out].")
@click.option("--output-index", type=IntAtLeast(0), default=0, show_default=True,
              help="Which output to draw.")
@click.option("--level", type=FINITE, default=0.0, show_default=True, help="Level of the decision boundary.")
@click.option("--dpi", type=IntAtLeast(10, 2400), default=150, show_default=True,
              help="Resolution of .png files.")
@click.option("--size", type=POSITIVE, default=5.0, show_default=True, help="Panel size in inches (at most 100).")
@click.option("--max-regions", type=IntAtLeast(1), default=None,
              help="Refuse partitions with more regions than this.")
@guard
def plot(arch, init, bias_init, seed, weights, activation, construction, depth, width, whole, box_text,
         segment_file, line_file, plane_file, triangle, margin, kind, out, force, fmt, output_index, level, dpi,
         size, max_regions, input_dim=None):
    """Draw the exact partition of a 2-input network or of a plane through three points.

    Networks with residual, max-pool or convolution layers (a .pt2 program)
    are partitioned by the op walk; --kind layers then draws one panel per
    non-linear operation (a ReLU, a pooling).

    \b
    Examples:
      regions plot --arch 2-16-16-1 --out partition.png
      regions plot --arch 2-32-32-1 --kind output --out output.svg
      regions plot --weights net.npz --plane points.npy --kind boundary --out b.pdf
    """
    if size > 100:
        fail(f"expected --size of at most 100 inches, got {size:g}")
    suffix = Path(out).suffix.lower()
    target = output_target(out, force, suffixes=None if fmt else FORMATS)
    if fmt is None:
        if suffix not in FORMATS:
            fail(f"expected --out to end in .png, .svg or .pdf (or --format), got {out!r}")
        fmt = suffix[1:]
    net = build_network(arch, init, bias_init, seed, weights, construction, depth, width, input_dim, activation)
    domain = build_domain(net, whole, box_text, segment_file, line_file, plane_file, triangle, margin)
    if domain.dim != 2:
        fail(f"expected a 2-D domain (a 2-input network, or --plane), got a {domain.dim}-D {domain.kind}")
    if output_index >= net.output_dim:
        fail(f"expected --output-index in 0..{net.output_dim - 1}, got {output_index}")
    from regions.model.ops import Graph, lower

    is_graph = isinstance(net, Graph)  # residual, max-pool, CNN: the op walk, panels per non-linear op
    depth = len(lower(net).units) if is_graph else net.depth
    if kind == "layers" and depth < 1:
        fail(f"expected a network with hidden layers for --kind layers, got {net.arch}")
    if is_graph and not domain.bounded:
        fail(f"expected a bounded 2-D domain for a network with residual or max operations, got {domain.kind}")
    panels = depth if kind == "layers" else 1
    pixels = (size * panels * dpi, size * dpi) if fmt == "png" else (0, 0)
    if max(pixels) > MAX_PIXELS:
        fail(f"expected a picture of at most {MAX_PIXELS:,} pixels a side, got {max(pixels):,.0f} from "
             f"--size {size:g} x --dpi {dpi}" + (f" x {panels} panels" if panels > 1 else "")
             + "; lower --size or --dpi")

    from matplotlib.figure import Figure  # no pyplot: the user's backend is never switched

    from regions import plotting
    from regions.engines.planar import partition_plane

    if is_graph:
        part = regions.partition(net, domain, max_regions=max_regions)
    else:
        part = partition_plane(net, domain, max_regions=max_regions)
    if part.partial:
        fail(f"expected at most --max-regions {max_regions} regions, got more (a partial picture is "
             f"not drawn); raise --max-regions")
    if kind == "layers":
        L = depth
        fig = Figure(figsize=(size * L, size))
        axes = fig.subplots(1, L, squeeze=False)
        plotting.plot_layers(net, domain, axes[0], max_regions=max_regions, partition=part if is_graph else None)
    else:
        fig = Figure(figsize=(size * (1.25 if kind == "output" else 1.0), size))
        ax = fig.add_subplot()
        if kind == "output":
            plotting.plot_output(part, ax, output=output_index, colorbar=True)
        else:
            plotting.plot_partition(part, ax, color="piece" if kind == "pieces" else "region",
                                    linewidth=0.2 if part.n_regions > 2000 else 0.4)
        if kind in ("boundary", "output"):
            plotting.plot_decision_boundary(part, ax, output=output_index, level=level)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    emit(target, buf.getvalue())
    if target.kind != "stdout":
        click.echo(f"wrote {out}")


__all__ = ["plot"]
