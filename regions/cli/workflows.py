"""``regions slice``, ``regions train-digits`` and ``regions checkpoints``: regions through data and during training."""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import click

from regions.core.io import lock_output, read_points
from regions.core.parsing import parse_int_list
from regions.experiments import workflows

from ._common import (
    MAX_LAYERS,
    MAX_WIDTH,
    TORCH_SEED,
    IntAtLeast,
    _check_params,
    NONNEGATIVE,
    POSITIVE,
    SEED,
    echo_json,
    emit,
    fail,
    force_option,
    guard,
    output_target,
    to_json,
)


# ------------------------------------------------------------------ options
def _data_options(fn):
    """--digits / --samples / --segment / --plane, --triangle, --margin (the names of ``regions count``)."""
    decorators = [
        click.option("--digits", "digit_labels", metavar="LABELS",
                     help="Labels of the bundled 8x8 digits, e.g. 3,8 (segment) or 0,1,2 (plane): the first "
                          "sample of each label (a repeated label takes the next one)."),
        click.option("--samples", metavar="INDICES",
                     help="Row indices into the bundled digits instead, e.g. 0,10,20 (two: segment, three: plane)."),
        click.option("--segment", "segment_file", type=click.Path(dir_okay=False),
                     help="Segment between two points of your own: an .npy (2, d) or .npz with arrays x0, x1."),
        click.option("--plane", "plane_file", type=click.Path(dir_okay=False),
                     help="Plane through three points of your own: an .npy (3, d) or .npz with arrays x0, x1, x2."),
        click.option("--triangle", is_flag=True, help="With a plane: the triangle itself, not the default extent."),
        click.option("--margin", type=NONNEGATIVE, default=0.5, show_default=True,
                     help="With a plane: margin around the triangle's bounding box, in units of its size."),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def _load_options(fn):
    """--activation, --input-shape (for torch files)."""
    decorators = [
        click.option("--activation", default=None,
                     help="For plain state dicts of Linear layers: relu, leaky_relu or leaky_relu:SLOPE "
                          "[default: from the run's config.json beside the weights; otherwise required]."),
        click.option("--input-shape", "input_shape", metavar="SHAPE",
                     help="Shape of one input without the batch dimension, e.g. 1,8,8 (models starting "
                          "with Conv2d/Flatten)."),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def _shape(text):
    if text is None:
        return None
    return tuple(parse_int_list(text.replace("x", ","), name="--input-shape", example="1,8,8"))


def _points(digit_labels, samples, segment_file, plane_file):
    """(points, description) from the data options."""
    given = [n for n, v in (("--digits", digit_labels), ("--samples", samples), ("--segment", segment_file),
                            ("--plane", plane_file)) if v is not None]
    if len(given) != 1:
        fail(f"expected exactly one of --digits, --samples, --segment or --plane, got "
             f"{' and '.join(given) or 'none'}")
    if segment_file or plane_file:
        path = segment_file or plane_file
        pts = read_points(path, count=2 if segment_file else 3, what="--segment" if segment_file else "--plane")
        return pts, f"points of {path}"
    labels = digit_labels if digit_labels is not None else samples
    name = "--digits" if digit_labels is not None else "--samples"
    values = parse_int_list(labels, name=name, minimum=0, example="0,1,2")
    if len(values) not in (2, 3):
        fail(f"expected 2 points (a segment) or 3 points (a plane) from {name}, got {len(values)} from {labels!r}")
    if digit_labels is not None and max(values) > 9:
        fail(f"expected --digits labels in 0..9, got {labels!r}")
    X, y = workflows.load_digits()
    if digit_labels is not None:
        return workflows.pick_points(X, y, digits=digit_labels), f"digits {digit_labels}"
    return workflows.pick_points(X, samples=samples), f"digit samples {samples}"


def _domain(points, triangle, margin):
    if len(points) == 2 and triangle:
        fail("expected --triangle only with three points (a plane), got two")
    return workflows.data_domain(points, margin=margin, triangle=triangle)


def _unit(kind: str) -> str:
    return "length" if kind in ("segment", "line") else "area"


# ------------------------------------------------------------------- slice
@click.command("slice")
@click.option("--weights", required=True, type=click.Path(dir_okay=False),
              help="The network: .npz (W0, b0, ...) or a torch file (.pt/.pth: state dict or saved module).")
@_data_options
@_load_options
@click.option("--verify/--no-verify", default=True, show_default=True,
              help="Check the partition: measures sum to the domain's, witness patterns match.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--out", help="Also write the JSON object here: a new file (atomically), a pipe or device, "
                            "or - for standard output.")
@force_option
@guard
def slice_cmd(weights, digit_labels, samples, segment_file, plane_file, triangle, margin, activation, input_shape,
              verify, as_json, out, force):
    """Exact regions along the segment between two data points, or in the plane through three.

    \b
    Examples:
      regions slice --weights runs/digits/step_000215.pt --digits 3,8
      regions slice --weights runs/digits/step_000215.pt --digits 0,1,2 --json
      regions slice --weights model.pt --plane pts.npy --triangle
    """
    target = output_target(out, force)
    shape = _shape(input_shape)
    points, what = _points(digit_labels, samples, segment_file, plane_file)
    if activation is None:
        activation = workflows.run_activation(Path(weights).parent)
    net = workflows.load_network(weights, input_shape=shape, activation=activation)
    if points.shape[1] != net.input_dim:
        fail(f"expected points with {net.input_dim} coordinates (the network's inputs), got {points.shape[1]}")
    domain = _domain(points, triangle, margin)
    res = workflows.slice_through(net, domain=domain, verify=verify)
    record = {**res.record, "points": what, "weights": weights, "domain": domain.describe()}
    emit(target, to_json(record) + "\n")
    if as_json:
        if target is None or target.kind != "stdout":
            echo_json(record)
        return
    unit = _unit(domain.kind)
    click.echo(f"network      {net.arch}  ({net.n_params} parameters)")
    where = "between" if domain.kind == "segment" else "through"
    click.echo(f"domain       {domain.kind} {where} {what}, {unit} {record['measure']:.6g}")
    click.echo(f"regions      {record['regions']}")
    click.echo(f"pieces       {record['pieces']}")
    click.echo(f"per layer    {', '.join(str(c) for c in record['layer_counts'])}")
    click.echo(f"mean {unit:<7} {record['mean_measure']:.6g}")
    click.echo(f"engine       {record['engine']}   {record['seconds']:.3f} s" + ("   verified" if verify else ""))


# ------------------------------------------------------------ train-digits


@click.command("train-digits")
@click.option("--out-dir", required=True,
              help="New (or empty) folder for the checkpoints, history.csv and config.json.")
@force_option
@click.option("--epochs", type=IntAtLeast(1), default=5, show_default=True,
              help="Passes over the training split.")
@click.option("--hidden", default=None,
              help="Hidden widths (the model is 64-HIDDEN-10) [default: 32,32]; with --residual-blocks one "
                   "width, shared by the blocks [default: 32]; with --conv-channels the dense layers after the "
                   "pooling [default: none].")
@click.option("--activation", default="relu", show_default=True, help="relu, leaky_relu or leaky_relu:SLOPE.")
@click.option("--lr", type=POSITIVE, default=1e-2, show_default=True, help="Adam learning rate.")
@click.option("--batch-size", type=IntAtLeast(1), default=32, show_default=True, help="Mini-batch size.")
@click.option("--save-every", type=IntAtLeast(1), default=None,
              help="Save every N optimizer steps [default: once per epoch]; step 0 and the last are always saved.")
@click.option("--max-steps", type=IntAtLeast(1), default=None, help="Stop after this many optimizer steps.")
@click.option("--seed", type=TORCH_SEED, default=0, show_default=True,
              help="Seed of the split, init and batch order (0 .. 2^63 - 1, torch's range).")
@click.option("--residual-blocks", type=IntAtLeast(0, MAX_LAYERS), default=None,
              help="Train a residual MLP instead: x -> h = a(W0 x + b0), then N blocks h -> h + a(W h + b), "
                   "then a linear output; its checkpoints are torch.export programs (.pt2).")
@click.option("--conv-channels", type=IntAtLeast(1, MAX_WIDTH), default=None,
              help="Train a small CNN instead: the 8x8 image -> Conv2d(1, N, 3x3, padding 1) -> activation -> "
                   "MaxPool2d(2) -> [--hidden dense layers] -> 10 outputs; its checkpoints are torch.export "
                   "programs (.pt2).")
@guard
def train_digits(out_dir, force, epochs, hidden, activation, lr, batch_size, save_every, max_steps, seed,
                 residual_blocks, conv_channels):
    """Train a small MLP on scikit-learn's bundled 8x8 digits (CPU, offline) and save checkpoints.

    Writes OUT_DIR/step_NNNNNN.pt (state dicts, atomically; with
    --residual-blocks or --conv-channels, step_NNNNNN.pt2 torch.export
    programs that take any batch size), history.csv
    (loss and accuracies per checkpoint) and config.json.  Then count the
    regions of every checkpoint with `regions checkpoints`.

    \b
    Example:
      regions train-digits --out-dir runs/digits --epochs 5
      regions checkpoints runs/digits --digits 0,1,2 --out series.csv --plot series.png
      regions train-digits --out-dir runs/res --residual-blocks 2 --hidden 16 --epochs 5
      regions train-digits --out-dir runs/cnn --conv-channels 1 --epochs 2
    """
    from regions.interop.pytorch import parse_activation  # noqa: PLC0415

    if residual_blocks is not None and conv_channels is not None:
        fail(f"expected one of --residual-blocks and --conv-channels, got both ({residual_blocks} and "
             f"{conv_channels})")
    default = "32,32" if residual_blocks is None else "32"
    if conv_channels is not None and hidden is None:
        widths = []
    else:
        widths = parse_int_list(default if hidden is None else hidden, name="--hidden", example=default, limit=64)
    if residual_blocks is not None and len(widths) != 1:
        fail(f"expected one width in --hidden with --residual-blocks (the blocks share it), got {hidden!r}")
    if widths and max(widths) > MAX_WIDTH:
        fail(f"expected --hidden widths of at most {MAX_WIDTH:,} units, got {max(widths):,}")
    if residual_blocks is not None:
        sizes = [64, widths[0]] + [widths[0]] * residual_blocks + [10]
    elif conv_channels is not None:
        sizes = [16 * conv_channels, *widths, 10]  # the dense part after the 2x2 pooling of 8x8 images
    else:
        sizes = [64, *widths, 10]
    _check_params(sum(a * b + b for a, b in zip(sizes, sizes[1:])), "--hidden and the layers asked for")
    parse_activation(activation)
    folder = _run_folder(out_dir, force)
    from regions.experiments import digits  # noqa: PLC0415 -- imports torch lazily

    def show(row):
        loss = "" if math.isnan(row["loss"]) else f"loss {row['loss']:.4f}  "
        click.echo(f"{row['checkpoint']}  epoch {row['epoch']:<6g} {loss}train {row['train_acc']:.3f}  "
                   f"test {row['test_acc']:.3f}")

    run = digits.train_digits(folder, hidden=widths, epochs=epochs, batch_size=batch_size, lr=lr,
                              seed=seed, save_every=save_every, activation=activation, max_steps=max_steps,
                              on_checkpoint=show, residual_blocks=residual_blocks, conv_channels=conv_channels)
    kind = "MLP" if residual_blocks is None and conv_channels is None else "net"
    click.echo(f"wrote {len(run.checkpoints)} checkpoints of a {run.config['arch']} {kind} to {out_dir}")
    click.echo(f"next: regions checkpoints {out_dir} --digits 0,1,2 --out series.csv --plot series.png")


def _run_folder(out_dir: str, force: bool) -> Path:
    """The run folder: new or empty, or with --force its old run files removed (nothing else)."""
    if not out_dir.strip():
        fail(f"expected --out-dir to name a folder, got {out_dir!r}")
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        fail(f"expected --out-dir to be a folder, got the existing file {out_dir!r}")
    if not folder.exists():
        return folder  # made with its parents by the trainer
    steps = sorted(p for p in folder.glob("step_*.pt*") if p.suffix in (".pt", ".pt2"))
    old = steps + [p for p in (folder / "history.csv", folder / "config.json") if p.exists()]
    if old and not force:
        fail(f"expected a new or empty --out-dir, got {len(old)} run file(s) in {out_dir!r} (first "
             f"{old[0].name!r}); pass --force to replace the run (or choose another folder)")
    for p in old:
        p.unlink()
    return folder


# ------------------------------------------------------------- checkpoints
@click.command("checkpoints")
@click.argument("checkpoints", nargs=-1, required=True, type=click.Path(exists=True))
@_data_options
@_load_options
@click.option("--out",
              help="CSV file, one row per checkpoint, rewritten atomically after each (a new file; a pipe or "
                   "device gets the table once at the end) [default: CSV on stdout].")
@click.option("--plot", help="Also draw regions against step (.png, .pdf, .svg; a new file, a pipe or a device).")
@force_option
@click.option("--verify/--no-verify", default=True, show_default=True,
              help="Check every checkpoint's partition: measures sum to the domain's, witness patterns match.")
@guard
def checkpoints(checkpoints, digit_labels, samples, segment_file, plane_file, triangle, margin, activation,
                input_shape, out, plot, force, verify):
    """Count the same data slice for every checkpoint of a training run, in order.

    CHECKPOINTS is a run folder (its .pt/.pth/.pt2/.npz files ordered by the step
    number in their names) or checkpoint files in the order given.  The
    domain is the segment between two data points or the plane through
    three (--digits, --samples, --segment or --plane).  Each CSV row holds the
    checkpoint, step, regions, pieces, layer_1..layer_L (regions after the
    first l hidden layers), measure and mean_measure (mean region
    length/area in input space), seconds, and the run's history.csv
    columns (loss, train_acc, test_acc) when present.

    \b
    Example:
      regions train-digits --out-dir runs/digits --epochs 5
      regions checkpoints runs/digits --digits 0,1,2 --out series.csv --plot series.png
      regions checkpoints runs/digits --digits 3,8 --out segment.csv
    """
    target = output_target(out, force)
    plot_target = output_target(plot, force, what="--plot", suffixes=(".png", ".pdf", ".svg"))
    if target is not None and plot_target is not None and target.path is not None and \
            target.path == plot_target.path:
        fail(f"expected --out and --plot to be different files, got {out!r} for both")
    shape = _shape(input_shape)
    points, what = _points(digit_labels, samples, segment_file, plane_file)
    domain = _domain(points, triangle, margin)
    source = checkpoints[0] if len(checkpoints) == 1 else list(checkpoints)

    def show(row):
        if target is not None and target.kind != "stdout":
            click.echo(f"{row['checkpoint']}  step {row['step']:<7} regions {row['regions']:<8} "
                       f"pieces {row['pieces']:<8} mean {_unit(domain.kind)} {row['mean_measure']:.4g}")

    with contextlib.ExitStack() as stack:
        if target is not None and target.is_file:  # rewritten after every row: one writer at a time
            stack.enter_context(lock_output(target.path, what="--out"))
        rows = workflows.checkpoint_series(
            source, domain, input_shape=shape, activation=activation,
            out=target.path if target is not None and target.is_file else None, verify=verify, on_row=show)
        if target is not None and not target.is_file:
            emit(target, workflows.series_csv(rows))
        if plot_target is not None:
            where = "between" if domain.kind == "segment" else "through"
            artists = workflows.plot_series(rows)
            fig = artists[0].figure
            fig.suptitle(f"regions in the {domain.kind} {where} {what}", fontsize="medium")
            fmt = Path(plot).suffix.lower().lstrip(".")
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt if fmt in ("png", "pdf", "svg") else "png", dpi=120)
            emit(plot_target, buf.getvalue())
    if target is not None and target.kind == "stdout":
        return
    if out:
        click.echo(f"wrote {len(rows)} rows to {out}" + (f" and the plot {plot}" if plot else ""))
    else:
        click.echo(workflows.series_csv(rows), nl=False)


__all__ = ["slice_cmd", "train_digits", "checkpoints"]
