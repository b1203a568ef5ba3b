"""Research workflows: regions through data, and regions during training.

* :func:`load_network` -- a :class:`~regions.network.Network` from a
  Network, a PyTorch module, an ``.npz`` file or a ``torch.save`` file.
* :func:`load_digits`, :func:`pick_points`, :func:`read_points` -- data
  points: scikit-learn's bundled 8x8 digits (no download) or your own.
* :func:`data_domain` -- the segment between two data points or the plane
  through three (:func:`~regions.domains.segment`,
  :func:`~regions.domains.plane_through`).
* :func:`slice_through` -- the exact partition of such a slice, verified,
  with a summary record (counts, per-layer counts, mean region
  length/area in input space).
* :func:`checkpoint_series` -- the same domain counted for each checkpoint
  in order, one CSV row per checkpoint; :func:`plot_series` and
  :func:`save_series_plot` -- counts against training step.

Typical use (the training is in :mod:`regions.digits`)::

    from regions import digits, workflows
    run = digits.train_digits("runs/digits", epochs=5)
    X, y = workflows.load_digits()
    domain = workflows.data_domain(workflows.pick_points(X, y, digits=(0, 1, 2)))
    rows = workflows.checkpoint_series("runs/digits", domain, out="series.csv")
    workflows.save_series_plot(rows, "series.png")

or from the shell::

    regions train-digits --out-dir runs/digits --epochs 5
    regions checkpoints runs/digits --digits 0,1,2 --out series.csv --plot series.png

References: Hanin & Rolnick, "Complexity of linear regions in deep
networks", ICML 2019; Novak et al., "Sensitivity and generalization in
neural networks", ICLR 2018; Gamba et al., "Are all linear regions created
equal?", AISTATS 2022.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..errors import RegionsError
from ..core.io import read_points as _read
from ..core.io import write_output, write_text_atomic
from ..core.parsing import parse_int_list
from ..core.result import CountResult, count_record
from ..domains import Domain, plane_through, segment
from ..engines.registry import count, partition
from ..interop.fx import from_torch_any, load_program  # torch itself is imported only when they run
from ..interop.pytorch import load_torch
from ..model.network import Network
from ..model.ops import Graph

__all__ = [
    "load_network",
    "load_digits",
    "pick_points",
    "read_points",
    "data_domain",
    "input_measure",
    "SliceResult",
    "slice_through",
    "find_checkpoints",
    "run_activation",
    "checkpoint_series",
    "read_series",
    "series_csv",
    "plot_series",
    "save_series_plot",
    "TORCH_SUFFIXES",
]

#: File suffixes read with :func:`regions.torch_import.load_torch`.
TORCH_SUFFIXES = (".pt", ".pth", ".ckpt", ".bin")
_CHECKPOINT_SUFFIXES = (".npz", ".pt2", *TORCH_SUFFIXES)


# ---------------------------------------------------------------- networks
def load_network(
    source,
    *,
    module=None,
    input_shape: Sequence[int] | int | None = None,
    activation: str | float | None = None,
) -> Network:
    """A :class:`~regions.network.Network` from whatever holds one.

    Parameters
    ----------
    source : Network, torch.nn.Module, state dict, str or path-like
        A Network or an op graph (returned as is); a PyTorch module or
        state dict (:func:`regions.from_torch`: residual, max-pool and other
        traceable modules give op graphs); a ``.pt2`` program
        (``torch.export.save``, read with ``torch.export.load``: any
        architecture, e.g. the checkpoints of a residual net); a ``.pt``,
        ``.pth``, ``.ckpt`` or ``.bin`` file, read with
        :func:`regions.torch_import.load_torch` (``weights_only=True``; plain
        chains); any other file is an ``.npz`` archive (:meth:`Network.load`).
    module, input_shape, activation
        Passed to the torch import (see :func:`regions.from_torch`); for a
        torch file the activation defaults to the one recorded in a
        ``config.json`` beside it (:func:`run_activation`); a plain state
        dict without either is refused.

    Returns
    -------
    Network
    """
    if isinstance(source, (Network, Graph)):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix.lower() == ".pt2":  # a torch.export program: an op graph (torch.export.load)
            if activation is not None:  # the program records its own (a run's config.json may say it too)
                from ..interop.pytorch import parse_activation  # noqa: PLC0415

                parse_activation(activation)  # malformed text is refused, never ignored
            return load_program(str(path))
        if path.suffix.lower() not in TORCH_SUFFIXES:
            net = Network.load(path)
            if activation is not None:  # never ignored: it must say what the file records
                from ..interop.pytorch import parse_activation  # noqa: PLC0415

                if parse_activation(activation) != net.negative_slope:
                    raise RegionsError(f"expected an activation agreeing with {str(path)!r}, which records a "
                                       f"negative slope of {net.negative_slope:g}, got {activation!r}; drop it")
            if input_shape is not None:  # never ignored: it must fit the file's inputs
                shape = (input_shape,) if isinstance(input_shape, (int, np.integer)) else tuple(input_shape)
                if math.prod(int(n) for n in shape) != net.input_dim:
                    raise RegionsError(f"expected an input shape of {net.input_dim} entries for {str(path)!r}, "
                                       f"got {shape}")
            return net
        if activation is None and module is None:
            activation = run_activation(path.parent)  # as recorded by the run, never guessed
        return load_torch(path, module=module, input_shape=input_shape, activation=activation)
    if module is not None:
        return from_torch_any(module, input_shape, state_dict=source)
    return from_torch_any(source, input_shape, activation=activation)


# -------------------------------------------------------------------- data
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits, pixels scaled to ``[0, 1]``.

    The data ship with scikit-learn (no download).

    Returns
    -------
    X : ndarray, shape (1797, 64)
        Pixel intensities divided by 16, row-major 8x8 images.
    y : ndarray of int, shape (1797,)
        Labels 0..9.
    """
    try:
        from sklearn.datasets import load_digits as _load  # noqa: PLC0415
    except ImportError as exc:
        raise RegionsError(
            f"expected scikit-learn to be installed for the digits data (pip install scikit-learn), "
            f"got ImportError: {exc}"
        ) from None
    data = _load()
    return np.asarray(data.data, dtype=np.float64) / 16.0, np.asarray(data.target, dtype=np.int64)


def _int_list(values, name: str) -> list[int]:
    if isinstance(values, str):  # commas or blanks between the integers
        values = ",".join(p for p in re.split(r"[,\s]+", values.strip()) if p)
    return parse_int_list(values, name=name, minimum=0, example="0,1,2")


def pick_points(
    X,
    y=None,
    *,
    digits: Sequence[int] | str | None = None,
    samples: Sequence[int] | str | None = None,
) -> np.ndarray:
    """Data points by label or by index.

    Parameters
    ----------
    X : array_like, shape (n, d)
        The data.
    y : array_like, shape (n,), optional
        Labels, needed with ``digits``.
    digits : sequence of int or str, optional
        Labels such as ``(0, 1, 2)`` or ``"0,1,2"``: the first sample of
        each label in data order; a repeated label takes its next sample
        (``"3,3"``: the first two 3s).
    samples : sequence of int or str, optional
        Row indices into ``X`` instead.

    Returns
    -------
    ndarray, shape (k, d)
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise RegionsError(f"expected data X shaped (n, d), got shape {X.shape}")
    if (digits is None) == (samples is None):
        raise RegionsError("expected exactly one of digits=... (labels) or samples=... (row indices), got "
                           + ("both" if digits is not None else "neither"))
    if samples is not None:
        idx = _int_list(samples, "samples")
        bad = [i for i in idx if not 0 <= i < X.shape[0]]
        if bad:
            raise RegionsError(f"expected sample indices in 0..{X.shape[0] - 1}, got {bad}")
        return X[idx].copy()
    if y is None:
        raise RegionsError("expected labels y with digits=..., got none")
    y = np.asarray(y).reshape(-1)
    labels = _int_list(digits, "digits")
    used: dict[int, int] = {}
    rows = []
    for lab in labels:
        where = np.nonzero(y == lab)[0]
        k = used.get(lab, 0)
        if k >= where.size:
            raise RegionsError(f"expected {k + 1} sample(s) with label {lab} in the data, got {where.size}")
        used[lab] = k + 1
        rows.append(int(where[k]))
    return X[rows].copy()


def read_points(path: str | os.PathLike) -> np.ndarray:
    """Points from an ``.npy`` array ``(k, d)`` or an ``.npz`` with arrays ``x0, x1[, x2]``.

    Read with ``allow_pickle=False`` by :func:`regions.core.io.read_points`:
    complex, string, object and ragged arrays and NaN/inf are refused, never cast.
    """
    return _read(path)


def data_domain(points, *, margin: float = 0.5, triangle: bool = False) -> Domain:
    """The segment between two points, or the plane through three.

    Parameters
    ----------
    points : array_like, shape (2, d) or (3, d)
    margin : float
        Plane only: extent beyond the triangle's bounding box, in units of
        its size (see :func:`~regions.domains.plane_through`).
    triangle : bool
        Plane only: the triangle itself instead of the box around it.

    Returns
    -------
    Domain
        :func:`~regions.domains.segment` (``t`` from 0 to 1) or
        :func:`~regions.domains.plane_through` (orthonormal coordinates).
    """
    P = np.asarray(points, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] not in (2, 3):
        raise RegionsError(f"expected 2 points (a segment) or 3 points (a plane) shaped (k, d), got shape {P.shape}")
    if P.shape[0] == 2:
        if triangle:
            raise RegionsError("expected triangle=True only with three points, got two")
        return segment(P[0], P[1])
    return plane_through(P[0], P[1], P[2], margin=margin, triangle=triangle)


def input_measure(domain: Domain) -> float:
    """Length / area of a bounded domain measured in the input space.

    The domain's parameter-space measure times ``sqrt(det(B^T B))`` for its
    basis ``B`` (1 for :func:`~regions.domains.plane_through`, ``|x1 - x0|``
    for a segment).
    """
    m = domain.measure
    if domain.basis is None:
        return m
    B = domain.basis
    return float(m * math.sqrt(max(float(np.linalg.det(B.T @ B)), 0.0)))


# ------------------------------------------------------------------ slices
@dataclass(eq=False)
class SliceResult:
    """The exact partition of a data slice and its summary.

    Attributes
    ----------
    partition
        The engine's partition (``LinePartition`` or ``PlanarPartition``).
    domain : Domain
    record : dict
        ``regions``, ``pieces``, ``layer_counts``, ``engine``, ``kind``
        (segment / plane / polygon), ``measure`` (length or area in input
        space), ``mean_measure`` (``measure / regions``), ``verified``,
        ``seconds``, ``arch``, ``negative_slope``.
    """

    partition: Any
    domain: Domain
    record: dict = field(default_factory=dict)

    @property
    def n_regions(self) -> int:
        return int(self.partition.n_regions)


def _counts_of(part) -> CountResult:
    """The counts of a partition (of any engine, or of an op graph) as a :class:`CountResult`."""
    return CountResult(int(part.n_regions), part.n_pieces, list(part.layer_counts), getattr(part, "engine", None),
                       partial=bool(getattr(part, "partial", False)))


def _summary(net: Network, domain: Domain, part, seconds: float, verified: bool) -> dict:
    measure = input_measure(domain)
    n = int(part.n_regions)
    return {
        **count_record(_counts_of(part), net, domain, seconds=seconds, verified=verified),
        "kind": domain.kind,  # also domain["kind"]; kept for the records written before the shared schema
        "measure": measure,
        "mean_measure": measure / n if n else float("nan"),
        "negative_slope": getattr(net, "negative_slope", None),  # None for op graphs (slopes per op)
    }


def slice_through(
    net,
    points=None,
    *,
    domain: Domain | None = None,
    margin: float = 0.5,
    triangle: bool = False,
    verify: bool = True,
    **load_options,
) -> SliceResult:
    """The exact partition along the segment between two points, or in the plane through three.

    Parameters
    ----------
    net : Network, torch.nn.Module or path
        Anything :func:`load_network` reads (``load_options`` go to it).
    points : array_like, shape (2, d) or (3, d), optional
        Data points in the network's (flattened) input space; or give ``domain``.
    domain : Domain, optional
        A ready domain instead of ``points``.
    margin, triangle
        See :func:`data_domain`.
    verify : bool
        Check the partition (lengths/areas sum to the domain's, each
        witness point's forward pattern is its region's); an
        ``AssertionError`` is raised if a check fails.

    Returns
    -------
    SliceResult

    Examples
    --------
    >>> X, y = load_digits()                                     # doctest: +SKIP
    >>> res = slice_through(model, pick_points(X, y, digits=(3, 8)))  # doctest: +SKIP
    >>> res.record["regions"], res.record["mean_measure"]         # doctest: +SKIP
    """
    net = load_network(net, **load_options)
    if (points is None) == (domain is None):
        raise RegionsError("expected exactly one of points=... or domain=..., got "
                           + ("both" if domain is not None else "neither"))
    if domain is None:
        domain = data_domain(points, margin=margin, triangle=triangle)
    t0 = time.perf_counter()
    part = partition(net, domain)
    if verify:
        part.verify()
    seconds = time.perf_counter() - t0
    return SliceResult(part, domain, _summary(net, domain, part, seconds, verify))


# ------------------------------------------------------------- checkpoints
def _step_of(path: Path) -> int | None:
    nums = re.findall(r"\d+", path.stem)
    return int(nums[-1]) if nums else None


def find_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """The checkpoint files (``.pt``, ``.pth``, ``.ckpt``, ``.bin``, ``.npz``) of a folder, by step.

    The step is the last integer in the file name (``step_000120.pt`` ->
    120); files without one come last, by name.
    """
    d = Path(directory)
    if not d.is_dir():
        raise RegionsError(f"expected a folder of checkpoint files, got {str(directory)!r}")
    files = [p for p in d.iterdir() if p.is_file() and p.suffix.lower() in _CHECKPOINT_SUFFIXES
             and not p.name.startswith(".")]
    if not files:
        raise RegionsError(f"expected checkpoint files ({', '.join(_CHECKPOINT_SUFFIXES)}) in {str(d)!r}, got none")

    def key(p: Path):
        s = _step_of(p)
        return (s is None, s if s is not None else 0, p.name)

    return sorted(files, key=key)


def _num(v: str):
    """A CSV cell as int, float, bool or None where it reads as one, else the text."""
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return {"True": True, "False": False, "": None}.get(v, v)


def _history(directory: Path) -> dict[str, dict]:
    """Rows of ``history.csv`` (written by :func:`regions.digits.train_digits`) by checkpoint name, numbers parsed."""
    path = directory / "history.csv"
    if not path.is_file():
        return {}
    with open(path, newline="") as fh:
        return {row["checkpoint"]: {k: (v if k == "checkpoint" else _num(v)) for k, v in row.items()}
                for row in csv.DictReader(fh) if row.get("checkpoint")}


def run_activation(directory: str | os.PathLike) -> str | None:
    """The ``activation`` recorded in a run folder's ``config.json`` (see :mod:`regions.digits`), else None."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text()).get("activation")
    except (OSError, ValueError, AttributeError):
        return None


def _csv_cell(v):
    """A list as its items separated by spaces (nested lists: by ``;``), None as empty; else ``v``."""
    if isinstance(v, (list, tuple)):
        sep = ";" if any(isinstance(x, (list, tuple)) for x in v) else " "
        return sep.join(str(_csv_cell(x)) for x in v)
    return "" if v is None else v


def _csv_flat(row: dict) -> dict:
    """A row with dict values spread into ``key.sub`` columns (``domain.kind``, ``domain.lo``, ...)."""
    out = {}
    for k, v in row.items():
        if isinstance(v, dict):
            out.update({f"{k}.{kk}": vv for kk, vv in _csv_flat(v).items()})
        else:
            out[k] = _csv_cell(v.tolist() if isinstance(v, np.ndarray) else v)
    return out


def series_csv(rows: list[dict]) -> str:
    """CSV text of series rows (columns in order of first appearance).

    Lists are written as their items separated by spaces (``layer_counts``), dicts as one column per
    key (``domain.kind``, ``domain.lo``, ...), so that no cell holds a comma.
    """
    flat = [_csv_flat(row) for row in rows]
    fields: list[str] = []
    for row in flat:
        for k in row:
            if k not in fields:
                fields.append(k)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for row in flat:
        w.writerow(row)
    return buf.getvalue()


def checkpoint_series(
    checkpoints: str | os.PathLike | Iterable[str | os.PathLike],
    domain: Domain,
    *,
    module=None,
    input_shape: Sequence[int] | int | None = None,
    activation: str | float | None = None,
    out: str | os.PathLike | None = None,
    verify: bool = True,
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Count the same domain for each checkpoint, in order.

    Parameters
    ----------
    checkpoints : folder or sequence of paths
        A folder (its checkpoint files ordered by step, see
        :func:`find_checkpoints`) or files in the order given.  Each is read
        by :func:`load_network`.
    domain : Domain
        Counted for every checkpoint (e.g. :func:`data_domain`).
    module, input_shape
        The architecture for state-dict checkpoints that are not plain
        ``nn.Sequential`` of ``Linear`` layers (see :func:`regions.from_torch`).
    activation : str or float, optional
        For plain state dicts; default: the ``activation`` of a
        ``config.json`` beside the checkpoints (as written by
        :func:`regions.digits.train_digits`); a plain state dict without
        either is refused (its activation is not recorded in it).
    out : path, optional
        CSV file, rewritten atomically after every checkpoint (a reader
        never sees a torn file; an interrupted run keeps its rows).
    verify : bool
        Build and verify the full partition for each checkpoint (default,
        as :func:`slice_through`); ``False`` only counts.
    on_row : callable, optional
        Called with each row as soon as it is computed (progress).

    Returns
    -------
    list of dict
        One row per checkpoint: ``checkpoint``, ``step``, ``regions``,
        ``pieces``, ``layer_1`` .. ``layer_L`` (regions after the first l
        hidden layers), ``measure`` (length/area in input space),
        ``mean_measure`` (``measure / regions``), ``seconds``, ``verified``;
        plus the columns of a ``history.csv`` beside the checkpoints
        (``epoch``, ``loss``, ``train_acc``, ``test_acc``).
    """
    if not isinstance(domain, Domain):
        raise RegionsError(f"expected a regions Domain, got {type(domain).__name__}")
    if isinstance(checkpoints, (str, os.PathLike)):
        folder = Path(checkpoints)
        if folder.is_file():
            paths = [folder]
            folder = folder.parent
        else:
            paths = find_checkpoints(folder)
    else:
        paths = [Path(p) for p in checkpoints]
        if not paths:
            raise RegionsError("expected at least one checkpoint file, got none")
        folder = paths[0].parent
    if activation is None:
        activation = run_activation(folder)  # a bare state dict without it is refused
    history = _history(folder)
    measure = input_measure(domain) if domain.bounded else float("inf")
    rows: list[dict] = []
    for i, path in enumerate(paths):
        net = load_network(path, module=module, input_shape=input_shape, activation=activation)
        t0 = time.perf_counter()
        if verify:
            part = partition(net, domain)
            part.verify()
            res = _counts_of(part)
        else:
            res = count(net, domain)
        seconds = time.perf_counter() - t0
        step = _step_of(path)
        regions = int(res.regions)
        row: dict[str, Any] = {"checkpoint": path.name, "step": i if step is None else step,
                               **count_record(res, net, domain, seconds=seconds, verified=verify)}
        for k, c in enumerate(res.layer_counts, start=1):  # one column per layer, for plots and spreadsheets
            row[f"layer_{k}"] = int(c)
        row["measure"] = measure
        row["mean_measure"] = measure / regions if regions else float("nan")
        for k, v in history.get(path.name, {}).items():
            if k not in row and k != "checkpoint":
                row[k] = v
        rows.append(row)
        if out is not None:
            write_text_atomic(out, series_csv(rows))
        if on_row is not None:
            on_row(row)
    return rows


def read_series(path: str | os.PathLike) -> list[dict]:
    """Rows of a checkpoint-series CSV, numbers parsed (ints stay ints)."""
    p = Path(path)
    if not p.is_file():
        raise RegionsError(f"expected an existing series CSV, got {str(path)!r}")

    with open(p, newline="") as fh:
        return [{k: _num(v) for k, v in row.items()} for row in csv.DictReader(fh)]


# -------------------------------------------------------------------- plots
def _series_rows(series) -> list[dict]:
    if isinstance(series, (str, os.PathLike)):
        return read_series(series)
    rows = list(series)
    if not rows:
        raise RegionsError("expected at least one row in the series, got none")
    return rows


def plot_series(series, *, ax=None, x: str = "step", y: str = "regions", layers: bool = False,
                accuracy: bool = True) -> list:
    """Counts against training step.

    Parameters
    ----------
    series : list of dict or path
        Rows of :func:`checkpoint_series`, or its CSV file.
    ax : matplotlib Axes, optional
        Where to draw; by default a new figure (no pyplot: reach it as
        ``artists[0].figure``).
    x, y : str
        Columns to plot (default ``step`` and ``regions``).
    layers : bool
        Also plot ``layer_1 .. layer_{L-1}`` (regions of the first layers).
    accuracy : bool
        Plot ``test_acc`` (if present) on a second axis, dashed.

    Returns
    -------
    list of matplotlib artists
        The lines drawn (the first is ``y``).
    """
    from matplotlib.figure import Figure  # noqa: PLC0415 -- lazy

    rows = _series_rows(series)
    for col in (x, y):
        if col not in rows[0]:
            raise RegionsError(f"expected a column {col!r} in the series, got {list(rows[0])}")
    if ax is None:
        ax = Figure(figsize=(6.0, 4.0), layout="constrained").add_subplot()
    xs = [float(r[x]) for r in rows]
    artists = ax.plot(xs, [float(r[y]) for r in rows], "o-", color="C0", label=y)
    if layers:
        cols = sorted((k for k in rows[0] if re.fullmatch(r"layer_\d+", k)), key=lambda k: int(k[6:]))
        for j, col in enumerate(cols[:-1]):
            artists += ax.plot(xs, [float(r[col]) for r in rows], ".-", color=f"C{j + 2}", alpha=0.7,
                               label=f"after {col.replace('_', ' ')}")
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (exact)")
    ax.grid(alpha=0.3)
    if accuracy and all(r.get("test_acc") not in (None, "") for r in rows):
        ax2 = ax.twinx()
        artists += ax2.plot(xs, [float(r["test_acc"]) for r in rows], "s--", color="C1", alpha=0.8,
                            label="test accuracy")
        ax2.set_ylabel("test accuracy")
        ax2.set_ylim(0.0, 1.0)
    ax.legend(artists, [a.get_label() for a in artists], loc="best", fontsize="small")
    return artists


def save_series_plot(series, path: str | os.PathLike, *, title: str | None = None, **options) -> Path:
    """Draw :func:`plot_series` on a new figure and write it atomically (format from the suffix)."""
    artists = plot_series(series, **options)
    fig = artists[0].figure
    if title:
        fig.suptitle(title, fontsize="medium")
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=120)
    write_output(path, buf.getvalue(), force=True, what="the plot file")  # straight into a pipe or device
    return path
