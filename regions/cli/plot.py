"""``regions plot``: pictures of the exact 2-D partition."""

from __future__ import annotations

import io
from pathlib import Path

import click

import regions
from regions.core.io import write_atomic

from ._common import build_domain, build_network, domain_options, fail, guard, network_options

KINDS = ("partition", "output", "layers", "boundary", "pieces")
FORMATS = (".png", ".svg", ".pdf")


@click.command()
@network_options
@domain_options(hide=("--whole", "--segment", "--line"))
@click.option("--kind", type=click.Choice(KINDS), default="partition", show_default=True,
              help="partition: regions in random colours; output: the output as a heat map with "
                   "edges; layers: one panel per hidden layer; boundary: regions and the exact "
                   "decision boundary (output = --level); pieces: one colour per affine piece.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Picture file: .png, .svg or .pdf (written atomically).")
@click.option("--output-index", type=int, default=0, show_default=True, help="Which output to draw.")
@click.option("--level", type=float, default=0.0, show_default=True, help="Level of the decision boundary.")
@click.option("--dpi", type=int, default=150, show_default=True, help="Resolution of .png files.")
@click.option("--size", type=float, default=5.0, show_default=True, help="Panel size in inches.")
@click.option("--max-regions", type=int, default=None, help="Refuse partitions with more regions than this.")
@guard
def plot(arch, init, bias_init, seed, weights, construction, depth, width, whole, box_text, segment_file,
         line_file, plane_file, triangle, margin, kind, out, output_index, level, dpi, size, max_regions, input_dim=None):
    """Draw the exact partition of a 2-input network or of a plane through three points.

    \b
    Examples:
      regions plot --arch 2-16-16-1 --out partition.png
      regions plot --arch 2-32-32-1 --kind output --out output.svg
      regions plot --weights net.npz --plane points.npy --kind boundary --out b.pdf
    """
    suffix = Path(out).suffix.lower()
    if suffix not in FORMATS:
        fail(f"expected --out to end in .png, .svg or .pdf, got {out!r}")
    if dpi < 10 or size <= 0:
        fail(f"expected --dpi >= 10 and --size > 0, got {dpi} and {size}")
    net = build_network(arch, init, bias_init, seed, weights, construction, depth, width, input_dim)
    domain = build_domain(net, whole, box_text, segment_file, line_file, plane_file, triangle, margin)
    if domain.dim != 2:
        fail(f"expected a 2-D domain (a 2-input network, or --plane), got a {domain.dim}-D {domain.kind}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from regions import plotting
    from regions.engines.planar import partition_plane

    if kind == "layers":
        L = net.depth
        fig, axes = plt.subplots(1, max(L, 1), figsize=(size * max(L, 1), size), squeeze=False)
        plotting.plot_layers(net, domain, axes[0], max_regions=max_regions)
    else:
        part = partition_plane(net, domain, max_regions=max_regions)
        if part.partial:
            fail(f"expected at most --max-regions {max_regions} regions, got more")
        if not (0 <= output_index < net.output_dim):
            fail(f"expected --output-index in 0..{net.output_dim - 1}, got {output_index}")
        fig, ax = plt.subplots(figsize=(size * (1.25 if kind == "output" else 1.0), size))
        if kind == "output":
            plotting.plot_output(part, ax, output=output_index, colorbar=True)
        else:
            plotting.plot_partition(part, ax, color="piece" if kind == "pieces" else "region",
                                    linewidth=0.2 if part.n_regions > 2000 else 0.4)
        if kind in ("boundary", "output"):
            plotting.plot_decision_boundary(part, ax, output=output_index, level=level)
    buf = io.BytesIO()
    fig.savefig(buf, format=suffix[1:], dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    write_atomic(out, lambda fh: fh.write(buf.getvalue()), binary=True)
    click.echo(f"wrote {out}")


__all__ = ["plot", "regions"]
