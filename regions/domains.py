"""Domains: where the regions are counted.

Every domain is a convex set ``P`` in a *parameter space* ``R^k`` (k = 1 for
lines and segments, 2 for planes, d for boxes) together with an affine
embedding ``u -> x = origin + basis @ u`` into the network's input space.
An engine partitions ``P`` for the *pulled-back* network
``u -> net(origin + basis @ u)``, whose first layer is
``(W_0 basis, b_0 + W_0 origin)``.

``P`` is a box ``lo <= u <= hi`` whose bounds may be infinite (all infinite:
the whole space), or, in 2-D, a convex polygon.

Scale and tolerances
--------------------
:attr:`Domain.scale` is the largest side of the bounding box for a bounded
domain, else the largest finite bound in absolute value, else 1.  It sizes
witnesses and plots; engine tolerances are relative to the quantities each
decision compares (see :mod:`regions.core.tolerances`), not to the domain's
size, so a bigger domain never holds fewer regions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import RegionsError
from .model.network import Network

__all__ = [
    "Domain",
    "affine_slice",
    "box",
    "whole",
    "interval",
    "segment",
    "line",
    "plane",
    "plane_through",
    "polygon",
    "parse_box",
]


def _vec(x, name: str, n: int | None = None) -> np.ndarray:
    from .core.parsing import real_array  # noqa: PLC0415 -- complex, text, ints > 2^53: refused

    v = real_array(x, name=name).reshape(-1)
    if n is not None and v.shape[0] != n:
        raise RegionsError(f"expected {name} to have {n} coordinates, got {v.shape[0]}")
    if not np.isfinite(v).all():
        raise RegionsError(f"expected finite coordinates in {name}, got {v.tolist()}")
    return v


@dataclass(frozen=True, eq=False)
class Domain:
    """A convex domain in a k-dimensional parameter space, embedded affinely.

    Use the constructors :func:`box`, :func:`whole`, :func:`interval`,
    :func:`segment`, :func:`line`, :func:`plane`, :func:`plane_through` and
    :func:`polygon` rather than this class directly.

    Attributes
    ----------
    lo, hi : ndarray, shape (k,)
        Bounds of the parameter box (``-inf``/``inf`` allowed).
    origin : ndarray, shape (d,) or None
        Image of ``u = 0``; None for the identity embedding (k = d).
    basis : ndarray, shape (d, k) or None
        Directions of the parameter axes in input space; None for identity.
    vertices : ndarray, shape (m, 2) or None
        A convex polygon (counter-clockwise) in parameter space, for 2-D
        polygon domains; then ``lo``/``hi`` are its bounding box.
    kind : str
        ``"box"``, ``"whole"``, ``"segment"``, ``"line"``, ``"plane"``,
        ``"polygon"``.
    """

    lo: np.ndarray
    hi: np.ndarray
    origin: np.ndarray | None = None
    basis: np.ndarray | None = None
    vertices: np.ndarray | None = None
    kind: str = "box"
    info: dict = field(default_factory=dict)

    # ---------------------------------------------------------------- basics
    @property
    def dim(self) -> int:
        """Dimension ``k`` of the parameter space (1: line, 2: plane, ...)."""
        return int(self.lo.shape[0])

    @property
    def input_dim(self) -> int | None:
        """Dimension of the input space, or None when the embedding is the identity."""
        return None if self.basis is None else int(self.basis.shape[0])

    @property
    def bounded(self) -> bool:
        return bool(np.isfinite(self.lo).all() and np.isfinite(self.hi).all())

    @property
    def scale(self) -> float:
        """Length scale for tolerances (see the module docstring)."""
        if self.bounded:
            return float(np.max(self.hi - self.lo))
        finite = np.concatenate([self.lo[np.isfinite(self.lo)], self.hi[np.isfinite(self.hi)]])
        return float(max(1.0, np.max(np.abs(finite)))) if finite.size else 1.0

    @property
    def measure(self) -> float:
        """Length / area / volume of the domain in parameter space (inf if unbounded)."""
        if not self.bounded:
            return float("inf")
        if self.vertices is not None:
            x, y = self.vertices[:, 0], self.vertices[:, 1]
            return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
        return float(np.prod(self.hi - self.lo))

    def to_input(self, U) -> np.ndarray:
        """Map parameter points ``U`` (n, k) to input points (n, d)."""
        U = np.asarray(U, dtype=np.float64)
        if self.basis is None:
            return U
        return self.origin + U @ self.basis.T

    def pullback(self, net: Network) -> Network:
        """The network ``u -> net(origin + basis @ u)`` on the parameter space."""
        if self.basis is None:
            if net.input_dim != self.dim:
                raise RegionsError(
                    f"expected a network with {self.dim} input(s) for this "
                    f"{self.dim}-D {self.kind} domain, got one with {net.input_dim}"
                )
            return net
        if net.input_dim != self.input_dim:
            raise RegionsError(
                f"expected a network with {self.input_dim} inputs for this {self.kind} "
                f"domain, got one with {net.input_dim}"
            )
        W0, b0 = net.layers[0]
        first = (W0 @ self.basis, b0 + W0 @ self.origin)
        return Network([first, *net.layers[1:]], negative_slope=net.negative_slope)

    def contains(self, U, *, atol: float = 0.0) -> np.ndarray:
        """Whether parameter points ``U`` (n, k) lie in the domain (bool (n,))."""
        U = np.atleast_2d(np.asarray(U, dtype=np.float64))
        inside = np.all((U >= self.lo - atol) & (U <= self.hi + atol), axis=1)
        if self.vertices is not None:
            P = self.vertices
            E = np.roll(P, -1, axis=0) - P  # (m, 2) edge vectors
            rel = U[:, None, :] - P[None, :, :]  # (n, m, 2)
            cross = E[None, :, 0] * rel[..., 1] - E[None, :, 1] * rel[..., 0]
            inside &= np.all(cross >= -atol * np.linalg.norm(E, axis=1), axis=1)
        return inside

    def describe(self) -> dict:
        """A JSON-friendly description (infinite bounds as None)."""

        def fin(a):
            return [None if not np.isfinite(v) else float(v) for v in a]

        out = {"kind": self.kind, "dim": self.dim, "lo": fin(self.lo), "hi": fin(self.hi)}
        if self.input_dim is not None:
            out["input_dim"] = self.input_dim
        if self.vertices is not None:
            out["vertices"] = self.vertices.tolist()
        out.update(self.info)
        return out

    def __repr__(self) -> str:
        return f"Domain({self.describe()})"


# ------------------------------------------------------------------ builders
def _bounds(lo, hi, dim: int | None) -> tuple[np.ndarray, np.ndarray]:
    from .core.parsing import real_array  # noqa: PLC0415

    lo = np.atleast_1d(real_array(lo, name="lower bounds"))
    hi = np.atleast_1d(real_array(hi, name="upper bounds"))
    if dim is not None:
        lo = np.broadcast_to(lo, (dim,)).copy() if lo.size == 1 else lo
        hi = np.broadcast_to(hi, (dim,)).copy() if hi.size == 1 else hi
    if lo.ndim != 1 or lo.shape != hi.shape:
        raise RegionsError(
            f"expected lower and upper bounds of the same length, got {lo.tolist()} and {hi.tolist()}"
        )
    if dim is not None and lo.shape[0] != dim:
        raise RegionsError(f"expected bounds for {dim} coordinates, got {lo.shape[0]}")
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise RegionsError(f"expected numeric bounds, got NaN in {lo.tolist()} / {hi.tolist()}")
    if np.isposinf(lo).any() or np.isneginf(hi).any():
        raise RegionsError(
            f"expected lower bounds below +inf and upper bounds above -inf, got {lo.tolist()} / {hi.tolist()}"
        )
    bad = ~(lo < hi)
    if bad.any():
        i = int(np.nonzero(bad)[0][0])
        raise RegionsError(
            f"expected LO < HI on every coordinate, got {lo[i]:g}:{hi[i]:g} on coordinate {i}"
        )
    return lo, hi


def box(lo=-1.0, hi=1.0, *, dim: int | None = None) -> Domain:
    """The box ``lo <= x <= hi`` (scalars are broadcast to ``dim`` coordinates)."""
    lo, hi = _bounds(lo, hi, dim)
    kind = "whole" if (np.isinf(lo).all() and np.isinf(hi).all()) else "box"
    return Domain(lo, hi, kind=kind)


def whole(dim: int) -> Domain:
    """All of ``R^dim``."""
    if int(dim) < 1:
        raise RegionsError(f"expected a dimension >= 1, got {dim!r}")
    return box(-np.inf, np.inf, dim=int(dim))


def interval(lo: float = -1.0, hi: float = 1.0) -> Domain:
    """The interval ``[lo, hi]`` of a 1-input network (infinite ends allowed)."""
    return box(lo, hi, dim=1)


def segment(x0, x1, *, lo: float = 0.0, hi: float = 1.0) -> Domain:
    """The segment ``x(t) = x0 + t (x1 - x0)``, ``lo <= t <= hi``, in any input dimension."""
    x0 = _vec(x0, "x0")
    x1 = _vec(x1, "x1", x0.shape[0])
    v = x1 - x0
    if not np.any(v):
        raise RegionsError("expected two distinct points for a segment, got the same point twice")
    lo_, hi_ = _bounds(lo, hi, 1)
    kind = "segment" if np.isfinite(lo_).all() and np.isfinite(hi_).all() else "line"
    return Domain(lo_, hi_, origin=x0, basis=v[:, None], kind=kind)


def line(x0, x1) -> Domain:
    """The whole line through ``x0`` and ``x1`` (t in R, ``x(t) = x0 + t (x1 - x0)``)."""
    return segment(x0, x1, lo=-np.inf, hi=np.inf)


def plane(x0, a, b, *, u=(-1.0, 1.0), v=(-1.0, 1.0)) -> Domain:
    """The affine slice ``x = x0 + u a + v b`` over a box of ``(u, v)``."""
    x0 = _vec(x0, "x0")
    a = _vec(a, "a", x0.shape[0])
    b = _vec(b, "b", x0.shape[0])
    basis = np.stack([a, b], axis=1)
    if np.linalg.matrix_rank(basis) < 2:
        raise RegionsError("expected two linearly independent directions a and b, got parallel ones")
    lo, hi = _bounds([u[0], v[0]], [u[1], v[1]], 2)
    return Domain(lo, hi, origin=x0, basis=basis, kind="plane")


def plane_through(x0, x1, x2, *, margin: float = 0.5, triangle: bool = False) -> Domain:
    """The plane through three input points.

    The parameter axes are orthonormal (Gram-Schmidt on ``x1 - x0`` and
    ``x2 - x0``), so areas in parameter space are true areas in input space;
    ``u = 0`` is the triangle's centroid, except where the centroid is more
    than twice the size (max-norm) of the smallest of the three points
    (points of very different sizes): then ``u = 0`` is that point, so the
    plane near it keeps the point's own precision (the centroid's rounding
    would shift it by ``eps`` times the largest point).  The default extent is the
    triangle's bounding box in ``(u, v)`` enlarged by ``margin`` times its
    size on every side; ``triangle=True`` takes the triangle itself.
    The three points map to :attr:`Domain.info` ``["points_uv"]``.
    """
    x0 = _vec(x0, "x0")
    x1 = _vec(x1, "x1", x0.shape[0])
    x2 = _vec(x2, "x2", x0.shape[0])
    if x0.shape[0] < 2:
        raise RegionsError(f"expected points in at least 2 dimensions for a plane, got {x0.shape[0]}")
    e1 = x1 - x0
    e2 = x2 - x0
    if not (np.isfinite(e1).all() and np.isfinite(e2).all()):
        raise RegionsError("expected three points whose differences are finite in float64, got an overflow")
    if not np.any(e1):
        raise RegionsError("expected three points in general position, got x0 == x1")
    if not np.any(e2):
        raise RegionsError("expected three points not on one line, got collinear points")
    # Gram-Schmidt on directions scaled to max-norm 1: no overflow or underflow at any size
    e1 = e1 / np.max(np.abs(e1))
    e1 = e1 / np.linalg.norm(e1)
    e2 = e2 / np.max(np.abs(e2))
    e2 = e2 - e1 * (e1 @ e2)
    n2 = np.linalg.norm(e2)
    if n2 <= 1e-12:
        raise RegionsError("expected three points not on one line, got collinear points")
    e2 = e2 / n2
    basis = np.stack([e1, e2], axis=1)  # (d, 2)
    centroid = x0 / 3.0 + x1 / 3.0 + x2 / 3.0  # no overflow near float64's largest numbers
    sizes = [float(np.max(np.abs(x))) for x in (x0, x1, x2)]
    if float(np.max(np.abs(centroid))) > 2.0 * min(sizes):
        centroid = (x0, x1, x2)[int(np.argmin(sizes))]
    pts = np.stack([x0, x1, x2]) - centroid
    uv = pts @ basis  # (3, 2)
    info = {"points_uv": uv.tolist()}
    if not np.isfinite(uv).all():
        raise RegionsError("expected three points whose plane coordinates are finite in float64, got an overflow")
    if triangle:
        q = uv / np.max(np.abs(uv))  # the orientation's sign, without overflow
        area2 = (q[1, 0] - q[0, 0]) * (q[2, 1] - q[0, 1]) - (q[1, 1] - q[0, 1]) * (q[2, 0] - q[0, 0])
        verts = uv if area2 > 0 else uv[::-1]
        return Domain(verts.min(0), verts.max(0), origin=centroid, basis=basis,
                      vertices=np.ascontiguousarray(verts), kind="polygon", info=info)
    if not (np.isfinite(margin) and margin >= 0):
        raise RegionsError(f"expected a margin >= 0, got {margin!r}")
    lo, hi = uv.min(0), uv.max(0)
    with np.errstate(over="ignore"):
        pad = margin * (hi - lo)
        lo, hi = lo - pad, hi + pad
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise RegionsError(f"expected a margin that keeps the plane's extent finite in float64, got {margin!r} "
                           f"around points of size {max(sizes):.3g}")
    return Domain(lo, hi, origin=centroid, basis=basis, kind="plane", info=info)


def affine_slice(origin, basis, lo=-1.0, hi=1.0) -> Domain:
    """The k-dimensional slice ``x = origin + basis @ u`` over the box ``lo <= u <= hi``.

    ``basis`` is shaped (d, k) with linearly independent columns; scalar
    bounds are broadcast to the k parameters.
    """
    origin = _vec(origin, "origin")
    try:
        B = np.array(basis, dtype=np.float64)
    except (TypeError, ValueError):
        raise RegionsError(f"expected basis as a (d, k) array of numbers, got {basis!r}") from None
    if B.ndim != 2 or B.shape[0] != origin.shape[0] or B.shape[1] < 1:
        raise RegionsError(f"expected basis shaped ({origin.shape[0]}, k), got shape {B.shape}")
    if not np.isfinite(B).all() or np.linalg.matrix_rank(B) < B.shape[1]:
        raise RegionsError(f"expected {B.shape[1]} finite, linearly independent directions, got a rank-deficient basis")
    lo_, hi_ = _bounds(lo, hi, B.shape[1])
    return Domain(lo_, hi_, origin=origin, basis=B, kind="slice")


def polygon(vertices, *, origin=None, basis=None) -> Domain:
    """A convex polygon in the plane (of a 2-input network, or of a plane slice).

    ``vertices`` (m, 2), m >= 3, in either orientation; stored counter-clockwise.
    """
    try:
        P = np.array(vertices, dtype=np.float64)
    except (TypeError, ValueError):
        raise RegionsError(f"expected polygon vertices as an (m, 2) array, got {vertices!r}") from None
    if P.ndim != 2 or P.shape[1] != 2 or P.shape[0] < 3:
        raise RegionsError(f"expected polygon vertices shaped (m, 2) with m >= 3, got shape {P.shape}")
    if not np.isfinite(P).all():
        raise RegionsError("expected finite polygon vertices, got NaN or inf")
    Q = P - P[0]
    if not np.isfinite(Q).all():
        raise RegionsError("expected polygon vertices whose differences are finite in float64, got an overflow")
    top = float(np.max(np.abs(Q)))
    Q = Q / (top if top > 0 else 1.0)  # the checks below are scale-free: no overflow or underflow
    x, y = Q[:, 0], Q[:, 1]
    area2 = np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))
    if area2 < 0:
        P = P[::-1].copy()
        Q = Q[::-1]
    E = np.roll(Q, -1, axis=0) - Q
    cross = E[:, 0] * np.roll(E, -1, axis=0)[:, 1] - E[:, 1] * np.roll(E, -1, axis=0)[:, 0]
    scale = float(np.max(np.ptp(Q, axis=0)))
    if abs(area2) <= 1e-12 * scale**2 or (cross < -1e-12 * scale**2).any():
        raise RegionsError("expected a convex polygon with positive area, got a non-convex or flat one")
    if basis is not None:
        origin = _vec(origin if origin is not None else np.zeros(np.shape(basis)[0]), "origin")
        basis = np.asarray(basis, dtype=np.float64)
        if basis.shape != (origin.shape[0], 2):
            raise RegionsError(f"expected basis shaped ({origin.shape[0]}, 2), got {basis.shape}")
    return Domain(P.min(0), P.max(0), origin=origin, basis=basis, vertices=P, kind="polygon")


def parse_box(text: str, dim: int, *, name: str = "box") -> Domain:
    """Parse ``"LO:HI"`` (every coordinate) or ``"LO1:HI1,LO2:HI2,..."``.

    Every bound must be a finite float64: ``inf``, ``nan`` and numbers
    beyond float64's range (``-1e400``, which would read as ``-inf``) are
    refused with :class:`~regions.errors.RegionsError` (non-finite bounds
    are not a box; :func:`whole` is all of ``R^d``); ``name`` names the
    box in that sentence (the CLI's option).
    """
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    pairs = []
    for p in parts:
        bits = p.split(":")
        if len(bits) != 2:
            raise RegionsError(f"expected a box as LO:HI or LO1:HI1,LO2:HI2,..., got {text!r}")
        try:
            pair = (float(bits[0]), float(bits[1]))
        except ValueError:
            raise RegionsError(f"expected numbers in the box LO:HI, got {p!r}") from None
        if np.isnan(pair[0]) or np.isnan(pair[1]):
            raise RegionsError(f"expected finite {name} bounds, got NaN in {p!r}")
        if not (np.isfinite(pair[0]) and np.isfinite(pair[1])):
            raise RegionsError(f"expected finite {name} bounds within float64's range (non-finite bounds are not "
                               f"a box; all of R^d is whole(d), --whole in the CLI), got {p!r}")
        pairs.append(pair)
    if not pairs:
        raise RegionsError(f"expected a box as LO:HI, got {text!r}")
    if len(pairs) == 1:
        pairs = pairs * dim
    if len(pairs) != dim:
        raise RegionsError(
            f"expected {dim} LO:HI ranges (one per input) or a single one, got {len(pairs)} in {text!r}"
        )
    lo, hi = zip(*pairs)
    return box(lo, hi, dim=dim)
