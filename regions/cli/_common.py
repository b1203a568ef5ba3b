"""Options and helpers shared by the commands: network sources, domains, errors, output.

Every option is checked here or in the library before any file is
touched; every output goes through :mod:`regions.core.io` (atomic replace
of regular files only, straight writes into pipes and devices, ``-`` for
standard output, an existing file kept unless ``--force``).
"""

from __future__ import annotations

import functools
import json
import math
import sys
import warnings

import click
import numpy as np

import regions
from regions import RegionsError
from regions.core import io as core_io
from regions.core.io import OutputTarget, jsonable
from regions.domains import parse_box

__all__ = [
    "FINITE",
    "IntAtLeast",
    "NONNEGATIVE",
    "POSITIVE",
    "SEED",
    "TORCH_SEED",
    "build_domain",
    "build_network",
    "domain_options",
    "emit",
    "fail",
    "force_option",
    "guard",
    "network_options",
    "output_target",
    "parse_bias",
    "parse_box_option",
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
            with warnings.catch_warnings():
                # a float64 overflow or NaN that no engine expected: refuse rather than print its result
                warnings.filterwarnings("error", category=RuntimeWarning,
                                        message=r"(overflow|invalid value) encountered")
                return fn(*args, **kwargs)
        except RegionsError as exc:
            fail(str(exc))
        except RuntimeWarning as exc:
            fail(f"expected a computation within float64's range, got {exc} on the way, so no result is "
                 f"reported; use a smaller domain or rescale the network")
        except (OSError, MemoryError) as exc:
            fail(f"{type(exc).__name__}: {exc}")

    return wrapper


# ------------------------------------------------------------ option types
def _option_name(param) -> str:
    if param is None:
        return "the value"
    longs = [o for o in getattr(param, "opts", []) if o.startswith("--")]
    return longs[0] if longs else (param.opts[0] if getattr(param, "opts", None) else param.name)


class FiniteFloat(click.ParamType):
    """A float option that refuses NaN, infinities and empty text (and, if asked, values <= 0 or < 0)."""

    name = "number"

    def __init__(self, *, positive: bool = False, nonnegative: bool = False):
        self.positive = positive
        self.nonnegative = nonnegative

    def convert(self, value, param, ctx):
        opt = _option_name(param)
        if isinstance(value, float) and math.isfinite(value):
            x = value
        else:
            try:
                if isinstance(value, str) and not value.strip():
                    raise ValueError
                x = float(value)
            except (TypeError, ValueError):
                self.fail(f"expected {opt} to be a number, got {value!r}", param, ctx)
            if not math.isfinite(x):
                self.fail(f"expected {opt} to be a finite number, got {value!r}", param, ctx)
        if self.positive and x <= 0:
            self.fail(f"expected {opt} > 0, got {value!r}", param, ctx)
        if self.nonnegative and x < 0:
            self.fail(f"expected {opt} >= 0, got {value!r}", param, ctx)
        return x


class IntAtLeast(click.ParamType):
    """An integer option of at least ``minimum`` (and at most ``maximum``); text such as '1e3' or '' refused."""

    name = "integer"

    def __init__(self, minimum: int, maximum: int | None = None):
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value, param, ctx):
        opt = _option_name(param)
        if isinstance(value, int) and not isinstance(value, bool):
            x = value
        else:
            text = str(value).strip()
            if not text.lstrip("+-").isdigit():
                self.fail(f"expected {opt} to be an integer >= {self.minimum}, got {value!r}", param, ctx)
            x = int(text)
        if x < self.minimum:
            self.fail(f"expected {opt} >= {self.minimum}, got {x}", param, ctx)
        if self.maximum is not None and x > self.maximum:
            self.fail(f"expected {opt} <= {self.maximum}, got {x}", param, ctx)
        return x


#: Finite floats; finite floats > 0; finite floats >= 0.
FINITE = FiniteFloat()
POSITIVE = FiniteFloat(positive=True)
NONNEGATIVE = FiniteFloat(nonnegative=True)
#: Seeds of NumPy's generators: integers >= 0.
SEED = IntAtLeast(0)
#: Seeds of torch's generators: 0 .. 2^63 - 1 (torch.manual_seed's range).
TORCH_SEED = IntAtLeast(0, 2**63 - 1)
#: Most units of one layer, and most layers, asked for by an option.
MAX_WIDTH = 1_000_000
MAX_LAYERS = 100_000


# ------------------------------------------------------------------ networks
def network_options(fn):
    """--arch/--init/--bias/--seed, --weights, --construction/--depth/--width."""
    decorators = [
        click.option("--arch", help="Random network of this architecture, e.g. 1-10-10-1."),
        click.option("--init", type=click.Choice(list(regions.model.INIT_SCHEMES)), default="he",
                     show_default=True, help="Initialisation of --arch."),
        click.option("--bias", "bias_init", default="same", show_default=True,
                     help="Biases of --arch: 'same' (drawn like the weights), 'zero', or a number."),
        click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of --arch (>= 0)."),
        click.option("--weights", type=click.Path(dir_okay=False),
                     help="Network from an .npz file with arrays W0, b0, W1, b1, ... (W shaped (out, in)), "
                     "or a torch file (.pt/.pth: state dict of an nn.Sequential of Linear+ReLU, or a "
                     "saved module of supported layers; read with weights_only=True)."),
        click.option("--activation", default=None,
                     help="For torch state dicts (--weights .pt/.pth): relu, leaky_relu or leaky_relu:SLOPE "
                     "[default: from a config.json beside the weights; otherwise required]."),
        click.option("--construction", metavar="[" + "|".join(regions.constructions.CONSTRUCTIONS) + "]",
                     help="A network with a known count: sawtooth (1 input, (width+1)^depth regions) or "
                          "folding (--input-dim inputs, Serra et al.'s lower bound; the network of `sweep`)."),
        click.option("--depth", type=IntAtLeast(1), help="Hidden layers of --construction."),
        click.option("--width", type=IntAtLeast(1), help="Units per hidden layer of --construction."),
        click.option("--input-dim", "input_dim", type=IntAtLeast(1), default=None,
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
        value = float(text)
    except ValueError:
        fail(f"expected --bias to be 'same', 'zero' or a number, got {text!r}")
    if not math.isfinite(value):
        fail(f"expected --bias to be 'same', 'zero' or a finite number, got {text!r}")
    return value


def build_network(arch, init, bias_init, seed, weights, construction, depth, width,
                  input_dim: int | None = None, activation=None) -> regions.Network:
    given = [x for x in (arch, weights, construction) if x is not None]
    if len(given) != 1:
        fail(f"expected exactly one of --arch, --weights or --construction, got {len(given)}")
    if construction is None and (depth is not None or width is not None):  # never ignored silently
        given = " and ".join(f"--{n} {v}" for n, v in (("depth", depth), ("width", width)) if v is not None)
        fail(f"expected --depth and --width only with --construction (--arch and --weights say them), got "
             f"{given}")
    if input_dim is not None and construction is None:
        fail(f"expected --input-dim only with --construction (--arch and --weights say it), got {input_dim}")
    if activation is not None and weights is None:
        fail(f"expected --activation only with --weights (a torch state dict), got --activation {activation}")
    input_dim = 1 if input_dim is None else input_dim
    if arch is not None:
        try:
            sizes = [int(x) for x in str(arch).split("-")]
        except ValueError:
            sizes = []  # malformed: the library says how
        _check_params(sum(a * b + b for a, b in zip(sizes, sizes[1:])), f"--arch {arch}")
        return regions.Network.from_arch(arch, init=init, bias=parse_bias(bias_init), seed=seed)
    if weights is not None:
        from pathlib import Path  # noqa: PLC0415

        from regions.experiments.workflows import load_network, run_activation  # torch only for .pt/.pth

        if not str(weights).strip():
            fail(f"expected --weights to be a file, got {weights!r}")
        if activation is None:
            activation = run_activation(Path(weights).parent)
        return load_network(weights, activation=activation)
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
        _check_params(input_dim * width + width + (depth - 1) * (width * width + width) + width + 1,
                      f"--construction folding --input-dim {input_dim} --depth {depth} --width {width}")
        return regions.constructions.folding(input_dim, [width] * depth)
    if input_dim != 1:
        fail(f"expected --input-dim 1 with --construction sawtooth (a one-input network), got {input_dim}")
    _check_params(2 * width + (depth - 1) * (width * width + width) + width + 1,
                  f"--construction sawtooth --depth {depth} --width {width}")
    return regions.constructions.sawtooth(depth=depth, width=width)


#: Most parameters of a network built from options (800 MB of float64 weights).
MAX_PARAMS = 10**8


def _check_params(n: int, what: str) -> None:
    if n > MAX_PARAMS:
        fail(f"expected a network of at most {MAX_PARAMS:,} parameters ({MAX_PARAMS * 8 // 10**6:,} MB of "
             f"float64), got {n:,} from {what}")


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
        (("--margin",), dict(type=NONNEGATIVE, default=0.5, show_default=True,
         help="With --plane: margin around the triangle's bounding box, in units of its size.")),
    ]
    for names, kwargs in reversed(options):
        fn = click.option(*names, hidden=names[0] in hide, **kwargs)(fn)
    return fn


def _read_points(path: str, names: tuple[str, ...]) -> np.ndarray:
    return core_io.read_points(path, count=len(names), what="points")


def parse_box_option(text: str, dim: int, *, name: str = "--box"):
    """A box from ``--box`` text: finite bounds, no empty item."""
    if text is None or not str(text).strip() or any(not part.strip() for part in str(text).split(",")):
        fail(f"expected {name} as LO:HI or LO1:HI1,LO2:HI2,... such as -1:1, got {text!r}")
    box = parse_box(text, dim, name=name)
    if not (np.isfinite(box.lo).all() and np.isfinite(box.hi).all()):
        fail(f"expected finite {name} bounds (use --whole for all of R^d), got {text!r}")
    return box


def build_domain(net: regions.Network, whole, box_text, segment_file, line_file, plane_file, triangle,
                 margin) -> regions.domains.Domain:
    chosen = [n for n, v in (("--whole", whole or None), ("--box", box_text), ("--segment", segment_file),
                             ("--line", line_file), ("--plane", plane_file)) if v is not None]
    if len(chosen) > 1:
        fail(f"expected at most one domain option, got {' and '.join(chosen)}")
    if triangle and not plane_file:
        fail("expected --triangle only together with --plane, got it alone")
    d = net.input_dim
    if whole:
        return regions.whole(d)
    if segment_file is not None or line_file is not None:
        x0, x1 = _read_points(segment_file if segment_file is not None else line_file, ("x0", "x1"))
        return regions.segment(x0, x1) if segment_file is not None else regions.line(x0, x1)
    if plane_file is not None:
        x0, x1, x2 = _read_points(plane_file, ("x0", "x1", "x2"))
        return regions.plane_through(x0, x1, x2, margin=margin, triangle=triangle)
    return parse_box_option("-1:1" if box_text is None else box_text, d)


# -------------------------------------------------------------------- output
def force_option(fn):
    """--force: allow replacing an existing output file."""
    return click.option("--force", is_flag=True,
                        help="Replace existing output files (otherwise an existing file is kept and the "
                             "run refused).")(fn)


def output_target(path, force: bool, *, what: str = "--out", suffixes: tuple[str, ...] | None = None,
                  append: bool = False) -> OutputTarget | None:
    """Check an output option before any work (None when not given); see :func:`check_output_path`."""
    if path is None:
        return None
    return core_io.check_output_path(path, force=force, append=append, what=what, suffixes=suffixes)


def to_json(obj) -> str:
    """JSON text; Python ints stay exact integers however large."""
    return json.dumps(jsonable(obj), indent=2)


def emit(target: OutputTarget | None, data: str | bytes) -> None:
    """Write to a checked output: stdout, straight into a pipe/device, or atomically to a file."""
    if target is not None:
        core_io.write_output(target, data)


def write_output(path, text: str, *, force: bool = False) -> None:
    """Write a result to ``path`` through :func:`regions.core.io.write_output`."""
    core_io.write_output(path, text, force=force)


def echo_json(obj) -> None:
    click.echo(to_json(obj))
    sys.stdout.flush()
