"""The network model: an ordered list of affine layers with ReLU between them.

A :class:`Network` with layers ``(W_0, b_0), ..., (W_L, b_L)`` computes

.. math::

    h_0 = x, \\qquad h_{l+1} = a(W_l h_l + b_l) \\ (l < L), \\qquad
    y = W_L h_L + b_L,

with ``a`` the ReLU (or a leaky ReLU with slope ``negative_slope`` below 0).
``W_l`` is shaped ``(out, in)`` exactly as ``torch.nn.Linear.weight``.
A unit is *active* where its pre-activation is strictly positive: ReLU(0)
counts as inactive.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..core.parsing import parse_int_list
from ..errors import RegionsError
from ..core.io import write_atomic

__all__ = ["Network", "compose", "parse_arch", "INIT_SCHEMES"]

#: Initialisation schemes understood by :meth:`Network.from_arch`.
INIT_SCHEMES = ("he", "glorot", "torch")


def parse_arch(arch: str | Sequence[int]) -> tuple[int, ...]:
    """Parse an architecture such as ``"1-10-10-1"`` into layer sizes.

    Parameters
    ----------
    arch : str or sequence of int
        Sizes from input to output, joined by ``-``.

    Returns
    -------
    tuple of int
        ``(d_in, n_1, ..., n_K, d_out)``, at least two entries, all >= 1.
    """
    if isinstance(arch, str):  # the project's one integer-list parser
        sizes = tuple(parse_int_list(arch, name="an architecture", sep="-", minimum=0, example="'1-10-10-1'"))
    else:
        try:
            sizes = tuple(int(s) for s in arch)
        except (TypeError, ValueError):
            raise RegionsError(
                f"expected a sequence of positive layer sizes, got {arch!r}"
            ) from None
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise RegionsError(
            f"expected at least an input and an output size, all >= 1 "
            f"(such as '1-10-10-1'), got {arch!r}"
        )
    return sizes


def _check_layers(layers: Iterable) -> list[tuple[np.ndarray, np.ndarray]]:
    out: list[tuple[np.ndarray, np.ndarray]] = []
    for i, layer in enumerate(layers):
        try:
            W, b = layer
        except (TypeError, ValueError):
            raise RegionsError(
                f"expected layer {i} to be a pair (W, b), got {type(layer).__name__}"
            ) from None
        from ..core.parsing import real_array  # noqa: PLC0415 -- complex, text, ints > 2^53: refused

        W = np.array(real_array(W, name=f"W{i}"), dtype=np.float64, copy=True)
        b = np.array(real_array(b, name=f"b{i}"), dtype=np.float64, copy=True)
        if W.ndim != 2:
            raise RegionsError(
                f"expected W{i} to be a 2-D array shaped (out, in), got shape {W.shape}"
            )
        if b.ndim != 1 or b.shape[0] != W.shape[0]:
            raise RegionsError(
                f"expected b{i} to be a 1-D array of length {W.shape[0]} "
                f"(the rows of W{i}), got shape {b.shape}"
            )
        if W.size == 0:
            raise RegionsError(f"expected W{i} to have at least one row and column, got shape {W.shape}")
        if out and W.shape[1] != out[-1][0].shape[0]:
            raise RegionsError(
                f"expected W{i} to take {out[-1][0].shape[0]} inputs (the outputs "
                f"of layer {i - 1}), got shape {W.shape}"
            )
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise RegionsError(f"expected finite weights, got NaN or inf in layer {i}")
        W.setflags(write=False)
        b.setflags(write=False)
        out.append((W, b))
    if not out:
        raise RegionsError("expected at least one layer (W, b), got none")
    return out


class Network:
    """A fully connected ReLU network.

    Parameters
    ----------
    layers : sequence of (W, b)
        ``W`` shaped ``(out, in)``, ``b`` shaped ``(out,)``; a ReLU follows
        every layer but the last.
    negative_slope : float, optional
        Slope of the activation below zero: 0 for ReLU (default), in (0, 1)
        for a leaky ReLU.  The first layer's hyperplanes are the same as with
        ReLU; deeper layers bend differently, so regions and maps differ.

    Examples
    --------
    >>> net = Network.from_arch("1-10-10-1", seed=0)
    >>> net.input_dim, net.widths, net.n_params
    (1, (10, 10), 141)
    """

    def __init__(self, layers: Sequence, *, negative_slope: float = 0.0):
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
            raise RegionsError(f"expected layers as a sequence of pairs (W, b), got {type(layers).__name__}")
        self.layers = tuple(_check_layers(layers))
        if isinstance(negative_slope, (bool, np.bool_)) or np.ndim(negative_slope) != 0 or \
                np.asarray(negative_slope).dtype.kind not in "iuf":
            raise RegionsError(f"expected negative_slope as one real number in [0, 1), got {negative_slope!r}")
        negative_slope = float(negative_slope)
        if not (0.0 <= negative_slope < 1.0):
            raise RegionsError(
                f"expected negative_slope in [0, 1), got {negative_slope!r}"
            )
        self.negative_slope = negative_slope

    # ------------------------------------------------------------------ build
    @classmethod
    def from_arch(
        cls,
        arch: str | Sequence[int],
        *,
        init: str = "he",
        bias: str | float = "same",
        seed: int | None = 0,
        negative_slope: float = 0.0,
    ) -> "Network":
        """A random network of the given architecture.

        Parameters
        ----------
        arch : str or sequence of int
            Layer sizes, e.g. ``"1-10-10-10-10-10-1"``.
        init : {"he", "glorot", "torch"}
            ``"he"``: He-normal, ``W ~ N(0, 2/fan_in)``;
            ``"glorot"``: Glorot-uniform, ``W ~ U(-a, a)`` with
            ``a = sqrt(6/(fan_in + fan_out))``; ``"torch"``: PyTorch's default
            for ``nn.Linear``, ``W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
        bias : {"same", "zero"} or float
            ``"same"`` draws biases from the weights' distribution (as PyTorch
            does); ``"zero"`` sets them to 0 (every first-layer hyperplane
            then passes through the origin); a float sets them all to it.
        seed : int or None
            Seed of ``np.random.default_rng``.
        """
        sizes = parse_arch(arch)
        if init not in INIT_SCHEMES:
            raise RegionsError(f"expected init to be one of {INIT_SCHEMES}, got {init!r}")
        if not (bias in ("same", "zero") or isinstance(bias, (int, float))):
            raise RegionsError(f"expected bias to be 'same', 'zero' or a number, got {bias!r}")
        if isinstance(bias, (int, float)) and not np.isfinite(bias):
            raise RegionsError(f"expected a finite constant bias, got {bias!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise RegionsError(f"expected seed as an integer >= 0 (or None), got {seed!r}")
        n_params = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        if n_params > 10**8:  # 800 MB of float64: refused before NumPy fails to allocate it
            raise RegionsError(f"expected a network of at most 100,000,000 parameters, got {n_params:,} from "
                               f"{arch!r}")
        rng = np.random.default_rng(seed)
        layers = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            if init == "he":
                std = np.sqrt(2.0 / fan_in)
                draw = lambda shape, std=std: rng.normal(0.0, std, size=shape)  # noqa: E731
            elif init == "glorot":
                a = np.sqrt(6.0 / (fan_in + fan_out))
                draw = lambda shape, a=a: rng.uniform(-a, a, size=shape)  # noqa: E731
            else:
                a = 1.0 / np.sqrt(fan_in)
                draw = lambda shape, a=a: rng.uniform(-a, a, size=shape)  # noqa: E731
            W = draw((fan_out, fan_in))
            if bias == "same":
                b = draw((fan_out,))
            elif bias == "zero":
                b = np.zeros(fan_out)
            else:
                b = np.full(fan_out, float(bias))
            layers.append((W, b))
        return cls(layers, negative_slope=negative_slope)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Network":
        """Read a network from an ``.npz`` file holding ``W0, b0, W1, b1, ...``.

        The file is read with ``allow_pickle=False``: object arrays are refused.
        An optional scalar ``negative_slope`` entry is honoured.
        """
        path = Path(path)
        if not path.is_file():
            raise RegionsError(f"expected an existing .npz weights file, got {str(path)!r}")
        with open(path, "rb") as fh:
            magic = fh.read(6)
        if magic[:2] != b"PK":
            what = "a single .npy array" if magic == b"\x93NUMPY" else "an unreadable file"
            raise RegionsError(
                f"expected a .npz archive of arrays W0, b0, W1, b1, ..., got {what} {str(path)!r}"
            )
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except ValueError as exc:
            if "pickle" in str(exc):
                raise RegionsError(
                    f"expected plain numeric arrays in {str(path)!r}, got pickled "
                    f"objects, which are never loaded"
                ) from None
            raise RegionsError(f"expected a readable .npz file, got {str(path)!r} ({exc})") from None
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise RegionsError(
                f"expected a .npz archive of arrays W0, b0, W1, b1, ..., "
                f"got an unreadable file {str(path)!r} ({type(exc).__name__})"
            ) from None
        raw = arrays.pop("negative_slope", np.float64(0.0))
        if np.ndim(raw) != 0 or np.asarray(raw).dtype.kind not in "biuf":
            raise RegionsError(f"expected negative_slope in {str(path)!r} to be one real number, got an array "
                               f"of dtype {np.asarray(raw).dtype} and shape {np.shape(raw)}")
        slope = float(raw)
        n = 0
        while f"W{n}" in arrays:
            n += 1
        if n == 0:
            raise RegionsError(
                f"expected arrays named W0, b0, W1, b1, ... in {str(path)!r}, "
                f"got {sorted(arrays)}"
            )
        layers = []
        for i in range(n):
            if f"b{i}" not in arrays:
                raise RegionsError(f"expected an array b{i} beside W{i} in {str(path)!r}, got none")
            for key in (f"W{i}", f"b{i}"):
                if arrays[key].dtype.kind not in "biuf":
                    raise RegionsError(
                        f"expected numeric {key} in {str(path)!r}, got dtype {arrays[key].dtype}"
                    )
            from ..core.io import exact_float64  # noqa: PLC0415 -- never round an integer or a longdouble

            layers.append(tuple(exact_float64(arrays[k], f"{k} of {str(path)!r}") for k in (f"W{i}", f"b{i}")))
        extra = sorted(set(arrays) - {f"W{i}" for i in range(n)} - {f"b{i}" for i in range(n)})
        if extra:
            raise RegionsError(
                f"expected only W0..W{n - 1}, b0..b{n - 1} in {str(path)!r}, got also {extra}"
            )
        return cls(layers, negative_slope=slope)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the network to ``path`` as ``.npz`` (atomically: temp file + rename)."""
        path = Path(path)
        arrays = {}
        for i, (W, b) in enumerate(self.layers):
            arrays[f"W{i}"] = W
            arrays[f"b{i}"] = b
        if self.negative_slope:
            arrays["negative_slope"] = np.float64(self.negative_slope)
        write_atomic(path, lambda fh: np.savez(fh, **arrays), binary=True)
        return path

    # ------------------------------------------------------------- properties
    @property
    def input_dim(self) -> int:
        """Dimension of the input."""
        return self.layers[0][0].shape[1]

    @property
    def output_dim(self) -> int:
        """Dimension of the output."""
        return self.layers[-1][0].shape[0]

    @property
    def widths(self) -> tuple[int, ...]:
        """Widths of the hidden layers (those followed by a ReLU)."""
        return tuple(W.shape[0] for W, _ in self.layers[:-1])

    @property
    def depth(self) -> int:
        """Number of hidden layers."""
        return len(self.layers) - 1

    @property
    def n_hidden(self) -> int:
        """Total number of hidden units, the length of an activation pattern."""
        return sum(self.widths)

    @property
    def n_params(self) -> int:
        """Number of parameters, sum over layers of ``out * in + out``."""
        return sum(W.size + b.size for W, b in self.layers)

    @property
    def arch(self) -> str:
        """The architecture as a string, e.g. ``"1-10-10-1"``."""
        return "-".join(str(s) for s in (self.input_dim, *self.widths, self.output_dim))

    def __repr__(self) -> str:
        extra = f", negative_slope={self.negative_slope}" if self.negative_slope else ""
        return f"Network({self.arch!r}, params={self.n_params}{extra})"

    # ---------------------------------------------------------------- compute
    def _as_points(self, X) -> tuple[np.ndarray, bool]:
        X = np.asarray(X, dtype=np.float64)
        single = X.ndim == 1
        if single:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.input_dim:
            raise RegionsError(
                f"expected points shaped (n, {self.input_dim}), got shape {np.shape(X)}"
            )
        return X, single

    def preactivations(self, X) -> list[np.ndarray]:
        """Pre-activations of every hidden layer at the points ``X``.

        Parameters
        ----------
        X : array_like, shape (n, input_dim)

        Returns
        -------
        list of ndarray
            One array shaped ``(n, n_l)`` per hidden layer.
        """
        H, _ = self._as_points(X)
        out = []
        for W, b in self.layers[:-1]:
            Z = H @ W.T + b  # (n, n_l)
            out.append(Z)
            H = np.where(Z > 0, Z, self.negative_slope * Z)
        return out

    def __call__(self, X) -> np.ndarray:
        """Output of the network at ``X``, shape ``(n, output_dim)`` (or ``(output_dim,)``)."""
        H, single = self._as_points(X)
        for W, b in self.layers[:-1]:
            Z = H @ W.T + b
            H = np.where(Z > 0, Z, self.negative_slope * Z)
        W, b = self.layers[-1]
        Y = H @ W.T + b
        return Y[0] if single else Y

    forward = __call__

    def patterns(self, X) -> np.ndarray:
        """Activation patterns at ``X``: bool array ``(n, n_hidden)``, True where active (> 0)."""
        Zs = self.preactivations(X)
        if not Zs:
            return np.zeros((len(np.atleast_2d(X)), 0), dtype=bool)
        return np.concatenate([Z > 0 for Z in Zs], axis=1)


def compose(f: Network, g: Network) -> Network:
    """The single network computing ``g(f(x))``.

    As on the lecture's "Combine two networks into one" slides, the output
    layer ``y = phi_0 + Phi h`` of ``f`` folds into the first layer
    ``h' = a[theta'_0 + Theta' y]`` of ``g``:

    .. math:: \\Psi = \\Theta' \\Phi, \\qquad \\psi_0 = \\theta'_0 + \\Theta' \\phi_0 .

    The result has ``f.depth + g.depth`` hidden layers.

    Examples
    --------
    >>> f = Network.from_arch("1-3-1", seed=1); g = Network.from_arch("1-3-1", seed=2)
    >>> h = compose(f, g); h.arch
    '1-3-3-1'

    Op graphs (:class:`regions.model.ops.Graph`) compose with
    :func:`regions.compose` (:mod:`regions.model.compose`), which also takes
    a graph and a network together.
    """
    if not isinstance(f, Network) or not isinstance(g, Network):
        raise RegionsError(
            f"expected two Networks, got {type(f).__name__} and {type(g).__name__} "
            f"(regions.compose composes op graphs too)"
        )
    if f.output_dim != g.input_dim:
        raise RegionsError(
            f"expected f's output dimension to equal g's input dimension, "
            f"got {f.output_dim} and {g.input_dim}"
        )
    if f.negative_slope != g.negative_slope:
        raise RegionsError(
            f"expected both networks to use the same activation, got negative slopes "
            f"{f.negative_slope} and {g.negative_slope}"
        )
    Phi, phi0 = f.layers[-1]
    Theta, theta0 = g.layers[0]
    merged = (Theta @ Phi, theta0 + Theta @ phi0)
    return Network([*f.layers[:-1], merged, *g.layers[1:]], negative_slope=f.negative_slope)
