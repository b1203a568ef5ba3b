"""The n-D engine's partition: regions as polyhedra given by their generators.

Also the H-representation, volumes and Chebyshev centres of the regions
(:meth:`PolytopePartition.hrep`, :meth:`~PolytopePartition.volumes`,
:meth:`~PolytopePartition.chebyshev`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core import affine
from ...core.patterns import layer_masks
from ...core.result import CountResult
from ...core.tolerances import MAP_RTOL
from ...core.verify import verify_common
from ...domains import Domain
from ...errors import RegionsError, VerificationError
from ...model.network import Network

__all__ = ["PolytopePartition"]

_ONE = np.uint64(1)


@dataclass(eq=False)
class PolytopePartition:
    """The activation regions of a network on a box-shaped domain of any dimension.

    Region ``i`` is described by the generators ``starts[i]:starts[i+1]`` in
    the flat arrays: vertices (``t = 1``), extreme rays (``t = 0``, not
    ``lineality``) and lineality vectors, in the domain's parameter
    coordinates.

    Attributes
    ----------
    network : Network
    domain : Domain
    patterns : ndarray of bool, shape (R, n_hidden)
        Activation pattern of each region, layers concatenated.
    witnesses : ndarray, shape (R, k)
        One interior point per region (parameter coordinates).
    bounded : ndarray of bool, shape (R,)
        Whether the region is bounded (no ray, no line).
    generators : ndarray, shape (N, k + 1)
        Homogeneous generators ``(x, 1)`` (vertices) and ``(r, 0)`` (rays).
    lineality : ndarray of bool, shape (N,)
    incidence : ndarray of uint64, shape (N, nw)
        Bit ``0``: ``t >= 0``; bits ``1 .. 2k``: box faces (lo_0, hi_0, lo_1, ...
        for the finite ones, in that order); then one bit per hidden unit.
    starts : ndarray, shape (R + 1,)
    layer_counts : tuple of int
    piece_labels : ndarray of int, shape (R,), or None
        Affine piece of each region (``0 .. n_pieces - 1``): connected
        components of the neighbours (regions sharing a facet) with one
        output map.  None for a partial partition.
    """

    network: Network
    domain: Domain
    patterns: np.ndarray
    witnesses: np.ndarray
    bounded: np.ndarray
    generators: np.ndarray
    lineality: np.ndarray
    incidence: np.ndarray
    starts: np.ndarray
    layer_counts: tuple
    partial: bool = False
    engine: str = "polytope"
    piece_labels: np.ndarray | None = field(default=None, repr=False)
    _maps: tuple | None = field(default=None, repr=False)

    # ------------------------------------------------------------ counts
    @property
    def n_regions(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def n_bounded(self) -> int:
        return int(np.count_nonzero(self.bounded))

    @property
    def n_unbounded(self) -> int:
        return self.n_regions - self.n_bounded

    @property
    def n_pieces(self) -> int | None:
        """Affine pieces: neighbouring regions with one output map merged (None if partial)."""
        if self.piece_labels is None:
            return None
        return int(self.piece_labels.max(initial=-1)) + 1

    def count(self) -> CountResult:
        b = None if self.domain.bounded else self.n_bounded
        u = None if self.domain.bounded else self.n_unbounded
        return CountResult(self.n_regions, self.n_pieces, list(self.layer_counts), self.engine,
                           partial=self.partial, bounded=b, unbounded=u)

    # ----------------------------------------------------------- regions
    def vertices(self, i: int) -> np.ndarray:
        """Vertices of region ``i`` in parameter coordinates, shape (m, k)."""
        g = self.generators[self.starts[i]:self.starts[i + 1]]
        lin = self.lineality[self.starts[i]:self.starts[i + 1]]
        k = self.domain.dim
        return g[(g[:, k] > 0) & ~lin, :k]

    def rays(self, i: int) -> np.ndarray:
        """Extreme rays of region ``i`` (unit max-norm), shape (m, k); lines give two rays."""
        g = self.generators[self.starts[i]:self.starts[i + 1]]
        lin = self.lineality[self.starts[i]:self.starts[i + 1]]
        k = self.domain.dim
        rays = g[(g[:, k] == 0) & ~lin, :k]
        lines = g[lin, :k]
        return np.concatenate([rays, lines, -lines]) if lines.size else rays

    def points(self) -> np.ndarray:
        """Witness points in the network's input space, shape (R, input_dim)."""
        return self.domain.to_input(self.witnesses)

    def local_maps(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Pre-activation maps of every layer on every region, in parameter coordinates.

        Returns
        -------
        list of (A, c)
            For each layer (hidden layers, then the output), ``A`` shaped
            (R, n_l, k) and ``c`` shaped (R, n_l): on region ``i`` the layer's
            pre-activation is ``A[i] @ u + c[i]``.
        """
        if self._maps is not None:
            return self._maps
        pulled = self.domain.pullback(self.network)
        masks = layer_masks(self.patterns, pulled.widths)
        self._maps = affine.forward_maps(pulled.layers, masks, pulled.negative_slope, k=self.domain.dim)
        return self._maps

    def output_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """Output map on each region: ``J`` (R, n_out, k) and ``c`` (R, n_out), ``y = J u + c``."""
        if self.partial:
            raise RegionsError("expected a complete partition for the output maps, got a partial one "
                               "(stopped at max_regions)")
        pulled = self.domain.pullback(self.network)
        masks = layer_masks(self.patterns, pulled.widths)
        return affine.output_maps(pulled.layers, masks, pulled.negative_slope)

    @property
    def measures(self) -> np.ndarray:
        """Volume (length, area) of each region in parameter space; inf if unbounded, shape (R,)."""
        return self.volumes()

    def hrep(self, i: int, *, irredundant: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """H-representation ``A u <= c`` of region ``i`` (parameter coordinates).

        Rows: the finite box faces, then one row per hidden unit (its local
        pre-activation with the sign of the pattern).  With
        ``irredundant=True`` only facets are kept (rows whose tight
        generators span a face of dimension ``k - 1``; one row per facet).

        Returns
        -------
        A : ndarray, shape (m, k)
        c : ndarray, shape (m,)
        """
        k = self.domain.dim
        rows, rhs, bitpos = [], [], []
        for j in range(k):
            if np.isfinite(self.domain.lo[j]):
                e = np.zeros(k); e[j] = -1.0
                rows.append(e); rhs.append(-self.domain.lo[j])
            if np.isfinite(self.domain.hi[j]):
                e = np.zeros(k); e[j] = 1.0
                rows.append(e); rhs.append(self.domain.hi[j])
        bitpos = list(range(1, 1 + len(rows)))
        base = 1 + 2 * k
        maps = self.local_maps()[:-1]
        pat = self.patterns[i]
        col = 0
        for A, c in maps:
            n = A.shape[1]
            sg = np.where(pat[col:col + n], -1.0, 1.0)  # active: z > 0 -> -z <= 0
            rows.extend(sg[:, None] * A[i])
            rhs.extend(-sg * c[i])
            bitpos.extend(range(base + col, base + col + n))
            col += n
        A = np.array(rows).reshape(-1, k)
        c = np.array(rhs)
        if not irredundant:
            return A, c
        a, b_ = self.starts[i], self.starts[i + 1]
        g = self.generators[a:b_]
        lin = self.lineality[a:b_]
        bits = self.incidence[a:b_]
        L = g[lin]
        keep, seen = [], set()
        for row, pos in enumerate(bitpos):
            word, off = divmod(pos, 64)
            tight = ((bits[:, word] >> np.uint64(off)) & _ONE).astype(bool) & ~lin
            key = tuple(np.nonzero(tight)[0])
            if key in seen or np.count_nonzero(tight) == 0:
                continue
            T = np.concatenate([g[tight], L])
            if np.linalg.matrix_rank(T, tol=1e-9 * max(1.0, np.abs(T).max())) == k:
                keep.append(row)
                seen.add(key)
        return A[keep], c[keep]

    def volumes(self) -> np.ndarray:
        """Volume (length, area) of each region in parameter space; inf if unbounded, shape (R,)."""
        k = self.domain.dim
        out = np.full(self.n_regions, np.inf)
        if k >= 2:
            from scipy.spatial import ConvexHull
        # qhull in units of a power of two near the domain's scale (exact): it fails on tiny coordinates
        unit = 2.0 ** float(np.round(np.log2(self.domain.scale))) if self.domain.scale > 0 else 1.0
        for i in np.nonzero(self.bounded)[0]:
            V = self.vertices(i)
            if k == 1:
                out[i] = float(V.max() - V.min())
            else:
                with np.errstate(over="ignore", under="ignore"):
                    out[i] = ConvexHull(V / unit).volume * np.float64(unit) ** k
        return out

    def chebyshev(self, i: int) -> tuple[np.ndarray, float]:
        """Centre and radius of the largest ball in region ``i`` (one HiGHS LP; radius capped at the domain scale).

        A radius > 0 certifies that the region has an interior.
        """
        from scipy.optimize import linprog

        A, c = self.hrep(i)
        k = self.domain.dim
        # A scaled LP (any scale float64 holds): rows to max-norm 1 (then unit 2-norms, without overflow),
        # the centre as w + s y around the region's witness w, s the domain's scale, the radius as s r
        amax = np.max(np.abs(A), axis=1)
        ok = amax > 0
        A, c = A[ok] / amax[ok, None], c[ok] / amax[ok]
        nrm = np.linalg.norm(A, axis=1)
        A, c = A / nrm[:, None], c / nrm
        w = np.asarray(self.witnesses[i], dtype=np.float64)
        s = float(self.domain.scale)
        rhs = (c - A @ w) / s
        obj = np.zeros(k + 1); obj[-1] = -1.0
        res = linprog(obj, A_ub=np.hstack([A, np.ones((A.shape[0], 1))]), b_ub=rhs,
                      bounds=[(None, None)] * k + [(0, 1.0)], method="highs")
        if res.status != 0:
            raise RegionsError(f"expected the Chebyshev LP of region {i} to solve, got status {res.status} ({res.message})")
        return w + s * res.x[:k], s * float(res.x[k])

    # ------------------------------------------------------------ checks
    def verify(self, *, lp: bool = False) -> dict:
        """Check the partition's invariants; raise :class:`~regions.errors.VerificationError` if one fails.

        The shared checks (:func:`regions.core.verify.verify_common`):
        witness patterns, unique patterns, output maps at the witnesses and,
        on bounded domains of dimension <= 6, volumes summing to the
        domain's; and here: every vertex satisfies its region's
        inequalities within ``MAP_RTOL`` of their magnitude; with
        ``lp=True`` every region's Chebyshev radius is positive (one LP per
        region, slow).
        """
        k = self.domain.dim
        out = verify_common(self, measures=self.domain.bounded and k <= 6)
        maps = self.local_maps()[:-1]
        starts = self.starts
        rid = np.repeat(np.arange(self.n_regions), np.diff(starts))
        pts = (self.generators[:, k] > 0) & ~self.lineality
        U = self.generators[pts, :k]
        r = rid[pts]
        col = 0
        worst = 0.0
        for A, c in maps:
            n = A.shape[1]
            Z = np.einsum("nok,nk->no", A[r], U) + c[r]
            # magnitudes at the domain's scale (a vertex at the origin has no magnitude of its own)
            mag = np.einsum("nok,nk->no", np.abs(A[r]), np.abs(U) + self.domain.scale) + np.abs(c[r])
            act = self.patterns[r, col:col + n]
            viol = np.where(act, -Z, Z) / np.maximum(mag, 1e-300)
            worst = max(worst, float(viol.max(initial=0.0)))
            col += n
        if not worst <= MAP_RTOL:
            raise VerificationError(f"expected every vertex inside its region, got one that violates its "
                                    f"region's inequalities by {worst:.3g} (relative)")
        out["vertex_violation"] = worst
        if "measure" in out:
            out["volume"] = out["measure"]
        if lp:
            radii = np.array([self.chebyshev(i)[1] for i in range(self.n_regions)])
            bad = np.flatnonzero(~(radii > 0))
            if bad.size:
                raise VerificationError(f"expected every region to have an interior, got {bad.size} without "
                                        f"(first regions: {bad[:5].tolist()})")
            out["min_radius"] = float(radii.min(initial=np.inf))
        return out
