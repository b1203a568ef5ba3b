"""Options and helpers shared by the commands: network sources, domains, errors, output."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click
import numpy as np

import regions
from regions import RegionsError
from regions.core.io import jsonable, write_text_atomic
from regions.domains import parse_box

__all__ = [
    "fail",
    "guard",
    "network_options",
    "build_network",
    "parse_bias",
    "domain_options",
    "build_domain",
    "to_json",
    "write_output",
]


class UsageFailure(click.ClickException):
    """A one-sentence error, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None):
        click.echo(f"Error: {self.format_message()}", err=True)


def fail(message: str):
    raise UsageFailure(message)


def guard(fn):
    """Turn the library's RegionsError (and file errors) into exit 2 with one sentence."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RegionsError as exc:
            fail(str(exc))
        except (OSError, MemoryError) as exc:
            fail(f"{type(exc).__name__}: {exc}")

    return wrapper


# ------------------------------------------------------------------ networks
def network_options(fn):
    """--arch/--init/--bias/--seed, --weights, --construction/--depth/--width."""
    decorators = [
        click.option("--arch", help="Random network of this architecture, e.g. 1-10-10-1."),
        click.option("--init", type=click.Choice(list(regions.model.INIT_SCHEMES)), default="he",
                     show_default=True, help="Initialisation of --arch."),
        click.option("--bias", "bias_init", default="same", show_default=True,
                     help="Biases of --arch: 'same' (drawn like the weights), 'zero', or a number."),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed of --arch."),
        click.option("--weights", type=click.Path(dir_okay=False),
                     help="Network from an .npz file with arrays W0, b0, W1, b1, ... (W shaped (out, in)), "
                     "or a torch file (.pt/.pth: state dict of an nn.Sequential of Linear+ReLU, or a "
                     "saved module of supported layers; read with weights_only=True)."),
        click.option("--construction", metavar="[" + "|".join(regions.constructions.CONSTRUCTIONS) + "]",
                     help="A network with a known count: sawtooth (1 input, (width+1)^depth regions) or "
                          "folding (--input-dim inputs, Serra et al.'s lower bound; the network of `sweep`)."),
        click.option("--depth", type=int, help="Hidden layers of --construction."),
        click.option("--width", type=int, help="Units per hidden layer of --construction."),
        click.option("--input-dim", "input_dim", type=int, default=None,
                     help="Number of inputs d of --construction folding [default: 1]."),
    ]
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def parse_bias(text: str) -> str | float:
    """The --bias option: 'same', 'zero' or a number."""
    if text in ("same", "zero"):
        return text
    try:
        return float(text)
    except ValueError:
        fail(f"expected --bias to be 'same', 'zero' or a number, got {text!r}")


def build_network(arch, init, bias_init, seed, weights, construction, depth, width,
                  input_dim: int | None = None) -> regions.Network:
    given = [x for x in (arch, weights, construction) if x is not None]
    if len(given) != 1:
        fail(f"expected exactly one of --arch, --weights or --construction, got {len(given)}")
    if input_dim is not None and construction is None:
        fail(f"expected --input-dim only with --construction (--arch and --weights say it), got {input_dim}")
    input_dim = 1 if input_dim is None else input_dim
    if arch is not None:
        return regions.Network.from_arch(arch, init=init, bias=parse_bias(bias_init), seed=seed)
    if weights is not None:
        from regions.experiments.workflows import load_network  # torch only for .pt/.pth files

        return load_network(weights)
    if construction not in regions.constructions.CONSTRUCTIONS:
        fail(f"expected --construction to be one of {', '.join(regions.constructions.CONSTRUCTIONS)}, "
             f"got {construction!r}")
    if depth is None or width is None:
        fail(f"expected --depth K and --width D with --construction {construction}, got "
             f"depth={depth}, width={width}")
    if construction == "folding":
        if depth < 1 or width < 1 or input_dim < 1:
            fail(f"expected --depth, --width and --input-dim >= 1 with --construction folding, got "
                 f"{depth}, {width} and {input_dim}")
        return regions.constructions.folding(input_dim, [width] * depth)
    if input_dim != 1:
        fail(f"expected --input-dim 1 with --construction sawtooth (a one-input network), got {input_dim}")
    return regions.constructions.sawtooth(depth=depth, width=width)


def hidden_alias(other: str, target: str):
    """Callback for an option and for its old spelling, kept hidden; both fill the parameter ``target``.

    Whichever is processed second keeps the value the first one set;
    giving both is refused in one sentence.
    """

    def callback(ctx, param, value):
        have = ctx.params.get(target)
        if value is not None and have is not None:
            fail(f"expected either {param.opts[0]} or its other spelling {other}, got both")
        if not param.expose_value:  # the hidden spelling: store into the visible option's parameter
            if value is not None:
                ctx.params[target] = value
            return None
        return value if value is not None else have

    return callback


# ------------------------------------------------------------------- domains
def domain_options(fn=None, *, hide: tuple[str, ...] = ()):
    """--whole, --box, --segment, --line, --plane, --triangle.

    ``hide``: options a command always refuses (``plot`` draws 2-D domains
    only); still parsed, so the command refuses them in one sentence, but
    not listed by ``--help``.
    """
    if fn is None:
        return lambda f: domain_options(f, hide=hide)
    options = [
        (("--whole",), dict(is_flag=True, help="All of R^d (R for one input).")),
        (("--box", "box_text"), dict(help="Box LO:HI (every coordinate) or LO1:HI1,LO2:HI2,... [default: -1:1].")),
        (("--segment", "segment_file"), dict(type=click.Path(dir_okay=False),
         help="Segment between two points: an .npy (2, d) or .npz with arrays x0, x1.")),
        (("--line", "line_file"), dict(type=click.Path(dir_okay=False),
         help="Whole line through two points (same file format as --segment).")),
        (("--plane", "plane_file"), dict(type=click.Path(dir_okay=False),
         help="Plane through three points: an .npy (3, d) or .npz with arrays x0, x1, x2.")),
        (("--triangle",), dict(is_flag=True, help="With --plane: the triangle itself, not the default extent.")),
        (("--margin",), dict(type=float, default=0.5, show_default=True,
         help="With --plane: margin around the triangle's bounding box, in units of its size.")),
    ]
    for names, kwargs in reversed(options):
        fn = click.option(*names, hidden=names[0] in hide, **kwargs)(fn)
    return fn


def _read_points(path: str, names: tuple[str, ...]) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        fail(f"expected an existing .npy/.npz file of points, got {path!r}")
    try:
        data = np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            fail(f"expected plain numeric arrays in {path!r}, got pickled objects, which are never loaded")
        fail(f"expected a .npy/.npz file of points, got an unreadable {path!r}")
    except Exception as exc:  # noqa: BLE001 -- any unreadable file is one sentence
        fail(f"expected a .npy/.npz file of points, got an unreadable {path!r} ({type(exc).__name__})")
    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            missing = [n for n in names if n not in data.files]
            if missing:
                fail(f"expected arrays {', '.join(names)} in {path!r}, got {sorted(data.files)}")
            pts = np.stack([np.asarray(data[n], dtype=float).reshape(-1) for n in names])
    else:
        pts = np.asarray(data)
        if pts.dtype.kind not in "biuf":
            fail(f"expected numeric points in {path!r}, got dtype {pts.dtype}")
        pts = pts.astype(float)
        if pts.ndim != 2 or pts.shape[0] != len(names):
            fail(f"expected {len(names)} points shaped ({len(names)}, d) in {path!r}, got shape {pts.shape}")
    if not np.isfinite(pts).all():
        fail(f"expected finite point coordinates in {path!r}, got NaN or inf")
    return pts


def build_domain(net: regions.Network, whole, box_text, segment_file, line_file, plane_file, triangle,
                 margin) -> regions.domains.Domain:
    chosen = [n for n, v in (("--whole", whole), ("--box", box_text), ("--segment", segment_file),
                             ("--line", line_file), ("--plane", plane_file)) if v]
    if len(chosen) > 1:
        fail(f"expected at most one domain option, got {' and '.join(chosen)}")
    if triangle and not plane_file:
        fail("expected --triangle only together with --plane, got it alone")
    d = net.input_dim
    if whole:
        return regions.whole(d)
    if segment_file or line_file:
        x0, x1 = _read_points(segment_file or line_file, ("x0", "x1"))
        return regions.segment(x0, x1) if segment_file else regions.line(x0, x1)
    if plane_file:
        x0, x1, x2 = _read_points(plane_file, ("x0", "x1", "x2"))
        return regions.plane_through(x0, x1, x2, margin=margin, triangle=triangle)
    return parse_box(box_text or "-1:1", d)


# -------------------------------------------------------------------- output


def to_json(obj) -> str:
    """JSON text; Python ints stay exact integers however large."""
    return json.dumps(jsonable(obj), indent=2)


def write_output(path: str, text: str) -> None:
    """Write a result file atomically."""
    write_text_atomic(path, text)


def echo_json(obj) -> None:
    click.echo(to_json(obj))
    sys.stdout.flush()
