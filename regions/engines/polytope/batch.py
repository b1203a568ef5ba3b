"""The batch of regions the n-D walk carries, and the values of each layer on its generators.

See :mod:`.kernel` for the representation (homogeneous generators, incidence
bit sets, values ``S`` and magnitudes ``M``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...domains import Domain, box
from ...errors import NumericalError, RegionsError
from ...model.network import Network

__all__: list[str] = []


# ------------------------------------------------------------------- batch
@dataclass
class _Batch:
    """Regions with their generators, flat and grouped by region.

    Shapes: ``N`` generators, ``R`` regions, ``D = k + 1``, ``n`` columns
    (values of the current layer's units), ``nw`` bit-set words, ``p`` pattern
    bits so far.
    """

    G: np.ndarray  # (N, D) homogeneous generators
    lin: np.ndarray  # (N,) bool: lineality vector
    rid: np.ndarray  # (N,) region of each generator, non-decreasing
    bits: np.ndarray  # (N, nw) uint64 incidence
    S: np.ndarray  # (n, N) values of the current columns (one row per column)
    M: np.ndarray  # (n, N) their magnitudes
    pat: np.ndarray  # (R, p) bool patterns so far
    kap: np.ndarray | None = None  # (N,) extra tolerance of ill-conditioned generators (None: all zero)

    @property
    def R(self) -> int:
        return int(self.pat.shape[0])

    @property
    def N(self) -> int:
        return int(self.G.shape[0])

    def starts(self) -> np.ndarray:
        """First generator of each region and one past the last, shape (R + 1,)."""
        return np.searchsorted(self.rid, np.arange(self.R + 1))

    def take_regions(self, lo: int, hi: int) -> "_Batch":
        st = self.starts()
        a, b = st[lo], st[hi]
        return _Batch(
            self.G[a:b], self.lin[a:b], self.rid[a:b] - lo, self.bits[a:b],
            self.S[:, a:b], self.M[:, a:b], self.pat[lo:hi], None if self.kap is None else self.kap[a:b],
        )


def _normalise(G: np.ndarray, S: np.ndarray, M: np.ndarray, k: int) -> None:
    """Scale generators in place: ``t = 1`` for points, unit max-norm for rays.

    ``G`` is (m, D); ``S`` and ``M`` are (n, m) (one column per generator).
    """
    t = G[:, k]
    scale = np.where(t > 0, t, np.max(np.abs(G[:, :k]), axis=1, initial=0.0))
    if np.any(~(scale > 0)) or not np.all(np.isfinite(scale)):
        raise NumericalError(
            "expected finite non-zero generators, got a degenerate one: the network's "
            "weights are too large or too ill-conditioned for float64 (numerical failure)"
        )
    inv = 1.0 / scale
    G *= inv[:, None]
    S *= inv[None, :]
    M *= inv[None, :]


# ------------------------------------------------------------------ layers
def _first_values(G: np.ndarray, W: np.ndarray, b: np.ndarray, k: int):
    X, t = G[:, :k], G[:, k]
    S = W @ X.T + b[:, None] * t[None, :]  # (n, N)
    M = np.abs(W) @ np.abs(X).T + np.abs(b)[:, None] * np.abs(t)[None, :]
    return S, M


def _next_values(batch: _Batch, ncols_prev: int, W: np.ndarray, bvec: np.ndarray, slope: float, k: int):
    """Values of the next layer's units from the last ``ncols_prev`` columns and patterns."""
    Sp = batch.S[-ncols_prev:]  # (n_prev, N)
    Mp = batch.M[-ncols_prev:]
    act = batch.pat[:, -ncols_prev:][batch.rid].T  # (n_prev, N)
    if slope == 0.0:
        H = np.where(act, Sp, 0.0)
        Hm = np.where(act, Mp, 0.0)
    else:
        H = np.where(act, Sp, slope * Sp)
        Hm = np.where(act, Mp, slope * Mp)
    t = batch.G[:, k]
    with np.errstate(over="ignore", invalid="ignore"):
        S = W @ H + bvec[:, None] * t[None, :]  # (n_next, N)
        M = np.abs(W) @ Hm + np.abs(bvec)[:, None] * t[None, :]
    if not np.isfinite(M).all():  # M >= |S| entrywise: one check covers both
        raise NumericalError(
            "expected pre-activations within float64's range, got an overflow (inf or nan): the weights, "
            "biases or domain are so large that their products exceed 1.8e308")
    return S, M


def _initial(pulled: Network, domain: Domain, nw: int, polygon: tuple | None = None) -> tuple[_Batch, int]:
    """All of ``R^k`` (not yet clipped), with the values of the box faces and the first layer.

    Returns the batch, whose first ``nf`` columns are the finite box faces
    (``value >= 0`` inside) and the others the first layer's units, and ``nf``.
    ``polygon`` ``(F, c)``, when given, replaces the box faces by the rows ``F x + c >= 0`` (a polygon).
    """
    k = domain.dim
    G = np.zeros((k + 1, k + 1))
    G[0, k] = 1.0  # the origin
    G[1:, :k] = np.eye(k)  # lineality e_1..e_k
    lin = np.zeros(k + 1, dtype=bool)
    lin[1:] = True
    W0, b0 = pulled.layers[0]
    faces = []  # rows (a, c): value a.x - c t >= 0
    for i in range(k):
        if np.isfinite(domain.lo[i]):
            faces.append((i, 1.0, -domain.lo[i]))
        if np.isfinite(domain.hi[i]):
            faces.append((i, -1.0, domain.hi[i]))
    F = np.zeros((len(faces), k))
    c = np.zeros(len(faces))
    for j, (i, sg, cc) in enumerate(faces):
        F[j, i] = sg
        c[j] = cc
    if polygon is not None:
        F, c = polygon
        faces = list(c)
    Wall = np.concatenate([F, W0]) if faces else W0
    ball = np.concatenate([c, b0]) if faces else b0
    S, M = _first_values(G, Wall, ball, k)
    bits = np.zeros((k + 1, nw), dtype=np.uint64)  # the origin is tight nowhere; lines carry no bits
    return _Batch(G, lin, np.zeros(k + 1, dtype=np.intp), bits, S, M, np.zeros((1, 0), dtype=bool)), len(faces)


def _check(net: Network, domain: Domain | None) -> Domain:
    if not isinstance(net, Network):
        raise RegionsError(f"expected a regions.Network, got {type(net).__name__}")
    if domain is None:
        domain = box(-1.0, 1.0, dim=net.input_dim)
    if not isinstance(domain, Domain):
        raise RegionsError(f"expected a regions.domains.Domain, got {type(domain).__name__}")
    if domain.vertices is not None:
        raise RegionsError(
            f"expected a box-shaped domain (possibly unbounded) for the polytope engine, got a {domain.kind}"
        )
    return domain
