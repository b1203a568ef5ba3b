"""The result of the LP engine: :class:`LPPartition` (regions, witnesses, certified radii)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.result import CountResult
from ...core.tolerances import CHEB_RTOL
from ...domains import Domain
from ...errors import RegionsError, VerificationError
from ...model.network import Network

__all__ = ["LPPartition"]


def hrep_volumes(hrep, n: int, k: int, interior) -> np.ndarray:
    """Volumes (qhull, ``k <= 6``) of ``n`` bounded regions given as ``A x <= c``.

    ``hrep(i)`` gives region ``i``'s ``(A, c)``; ``interior(i, A, c)`` a point
    strictly inside it.  An interval (``k == 1``) is measured from its two
    tightest bounds, without qhull.
    """
    if k > 6:
        raise RegionsError(f"expected a domain of dimension <= 6 for region volumes, got {k}")
    from scipy.spatial import ConvexHull, HalfspaceIntersection  # noqa: PLC0415 -- scipy.spatial on demand

    out = np.empty(n)  # (n,)
    for i in range(n):  # one qhull call per region: qhull has no batched form
        A, c = hrep(i)
        if k == 1:  # an interval: the tightest bounds of a x <= c on each side
            a = A[:, 0]
            out[i] = float(np.min((c / a)[a > 0]) - np.max((c / a)[a < 0]))
            continue
        V = HalfspaceIntersection(np.hstack([A, -c[:, None]]), interior(i, A, c)).intersections
        out[i] = ConvexHull(V).volume
    return out


@dataclass(eq=False)
class LPPartition:
    """Activation regions found by the LP engine.

    Attributes
    ----------
    network, domain, engine
    patterns : ndarray of bool, shape (R, n_hidden)
    witnesses : ndarray, shape (R, k)
        An interior point of each region (parameter coordinates).
    radii : ndarray, shape (R,)
        Certified radius of a ball around the witness inside the region's
        unit-state inequalities (in units of the domain scale, capped at 1).
    layer_counts : tuple of int
    partial : bool
    lps : int
        Chebyshev LPs solved.
    """

    network: Network
    domain: Domain
    patterns: np.ndarray
    witnesses: np.ndarray
    radii: np.ndarray
    layer_counts: tuple
    partial: bool = False
    lps: int = 0
    cross: bool = False
    engine: str = "lp"
    _maps: tuple | None = field(default=None, repr=False)

    @property
    def n_regions(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def n_pieces(self) -> None:
        """Affine pieces are not computed by the LP engine (None)."""
        return None

    @property
    def measures(self) -> np.ndarray:
        """Volumes; inf where the domain is unbounded; computed (qhull) only for ``k <= 6``."""
        k = self.domain.dim
        self._no_cross("volumes")
        if not self.domain.bounded:
            return np.full(self.n_regions, np.inf)
        return hrep_volumes(self.hrep, self.n_regions, k, lambda i, A, c: self.witnesses[i])

    def _no_cross(self, what: str) -> None:
        if self.cross:
            raise RegionsError(f"expected a partition of a box for {what}, got one of the cross-polytope "
                               f"inscribed in it (its 2^{self.domain.dim} facets are not listed)")

    def points(self) -> np.ndarray:
        return self.domain.to_input(self.witnesses)

    def local_maps(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per layer ``(A, c)`` shaped (R, n_l, k), (R, n_l): pre-activations in parameter coordinates."""
        if self._maps is not None:
            return self._maps
        pulled = self.domain.pullback(self.network)
        R, k = self.n_regions, self.domain.dim
        H = np.broadcast_to(np.eye(k), (R, k, k))
        h = np.zeros((R, k))
        out, col = [], 0
        slope = pulled.negative_slope
        for l, (W, b) in enumerate(pulled.layers):
            A = np.einsum("oi,rik->rok", W, H)
            c = h @ W.T + b
            out.append((A, c))
            if l < len(pulled.layers) - 1:
                f = np.where(self.patterns[:, col:col + W.shape[0]], 1.0, slope)
                col += W.shape[0]
                H = A * f[:, :, None]
                h = c * f
        self._maps = out
        return out

    def output_maps(self) -> tuple[np.ndarray, np.ndarray]:
        return self.local_maps()[-1]

    def hrep(self, i: int, *, irredundant: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``A u <= c`` of region ``i``: finite box faces, then one row per non-constant hidden unit.

        With ``irredundant=True`` only rows that are facets are kept: a row is
        dropped when maximising it over the other rows and the box stays
        below its bound (one LP per row; duplicates kept once).
        """
        self._no_cross("an H-representation")
        k = self.domain.dim
        rows, rhs = [], []
        for j in range(k):
            for bound, sg in ((self.domain.lo[j], -1.0), (self.domain.hi[j], 1.0)):
                if np.isfinite(bound):
                    e = np.zeros(k)
                    e[j] = sg
                    rows.append(e)
                    rhs.append(sg * bound)
        col = 0
        for A, c in self.local_maps()[:-1]:
            n = A.shape[1]
            sg = np.where(self.patterns[i, col:col + n], -1.0, 1.0)
            rows.extend(sg[:, None] * A[i])
            rhs.extend(-sg * c[i])
            col += n
        A = np.array(rows).reshape(-1, k)
        c = np.array(rhs)
        nrm = np.linalg.norm(A, axis=1)
        keep = nrm > 0
        A, c = A[keep], c[keep]
        if not irredundant:
            return A, c
        from scipy.optimize import linprog  # noqa: PLC0415

        An = A / np.linalg.norm(A, axis=1)[:, None]
        cn = c / np.linalg.norm(A, axis=1)
        scale = self.domain.scale
        kept = []
        seen = []
        for r in range(A.shape[0]):
            if any(np.allclose(An[r], An[q]) and np.isclose(cn[r], cn[q], atol=1e-12 * scale) for q in seen):
                continue
            others = [q for q in range(A.shape[0]) if q != r]
            # facet iff relaxing it lets a_r.u exceed its bound
            res = linprog(-An[r], A_ub=An[others], b_ub=cn[others], bounds=[(None, None)] * k,
                          method="highs")
            if res.status == 3 or (res.status == 0 and -res.fun > cn[r] + CHEB_RTOL * scale):
                kept.append(r)
                seen.append(r)
        return A[kept], c[kept]

    def count(self) -> CountResult:
        return CountResult(self.n_regions, None, list(self.layer_counts), "lp", partial=self.partial,
                           extra={"lps": int(self.lps)})

    def verify(self) -> dict:
        """Witness patterns equal the recorded ones, patterns are unique, radii are positive.

        Raises
        ------
        VerificationError
        """
        got = self.network.patterns(self.points())
        bad = np.nonzero(np.any(got != self.patterns, axis=1))[0]
        if bad.size:
            raise VerificationError(f"expected witness patterns equal to the recorded ones, got {bad.size} that differ")
        uniq = np.unique(np.packbits(self.patterns, axis=1), axis=0).shape[0] if self.n_regions else 0
        if uniq != self.n_regions:
            raise VerificationError(f"expected unique patterns, got {self.n_regions - uniq} repeated")
        if np.any(self.radii <= CHEB_RTOL):
            raise VerificationError("expected every region's certified radius above CHEB_RTOL, got smaller ones")
        return {"regions": self.n_regions, "ok": True, "min_radius": float(self.radii.min(initial=np.inf))}
