"""The exact engine for any input dimension: activation regions as polyhedra.

(Over 700 lines on purpose: the batch, its work state ``_Work`` and the
depth-first walk share their invariants and are edited together; results,
affine pieces and bit sets live in :mod:`.result`, :mod:`.pieces`,
:mod:`.bitsets`.)

Definition
----------
For a network ``f`` on a domain ``P`` of dimension ``k`` (a box, possibly
with infinite bounds, so all of ``R^k`` is allowed; or an affine slice of the
input space), an *activation region* is a maximal connected open set on which
every hidden unit keeps one state, active (pre-activation > 0) or inactive
(<= 0).  Fixing a pattern makes every pre-activation affine, so each region
is the interior of a convex polyhedron and each pattern occurs in at most one
region.

Representation
--------------
Every region is a polyhedron, stored by its *generators* in homogeneous
coordinates ``g = (x t, t)`` in ``R^(k+1)``: vertices (``t = 1``),
extreme rays (``t = 0``, unit length) and, while the region still contains
whole lines, a basis of its lineality space.  The homogenised region is the
cone ``{(x, t): t >= 0, a_i . x <= c_i t}``, whose generators are exactly
these; no bounding box is ever introduced, so unbounded regions of ``R^k``
are represented exactly.  Each generator carries

* its *incidence*: a bit set of the constraints (``t >= 0``, the box faces,
  every hidden unit so far) that vanish on it;
* the values ``S`` of the current layer's pre-activations on it
  (homogeneous: at a ray, the slope along the ray), and their *magnitudes*
  ``M``: the same sums taken with absolute values.

Algorithm (double description, vectorised over regions)
-------------------------------------------------------
Start from ``R^k`` (one vertex at the origin and ``k`` lineality vectors),
clip it by the finite box faces, then take the hidden units one at a time,
layer by layer.  Within a region the unit's pre-activation ``z`` is affine,
so its values at the generators decide everything:

* values of both signs beyond tolerance: ``z = 0`` cuts the region's
  interior; the two children are the generators on each side (those with
  ``z = 0`` go to both) plus one new generator ``r = s_u w - s_w u`` on every
  *edge* ``(u, w)`` with ``s_u > 0 > s_w``;
* otherwise the unit is active on the whole region iff some value is > 0.

Edges are found with the combinatorial test of the double description
method (Motzkin et al. 1953; Fukuda and Prodon 1996): ``u`` and ``w`` are
adjacent iff their common incidence set has at least ``k - 1`` members
(``k - 1 - dim lineality``) and no third generator vanishes on all of it.
The test is exact for any (degenerate, non-simple) polyhedron given the
incidences, so hyperplanes through existing vertices, duplicate units and
dead units need no special case.  A cut by a unit that is not constant
along the lineality space turns one lineality vector into a pair of rays
(the cdd rule).

All values are carried as linear combinations: a new generator's values are
the same combination of its parents' values, and the next layer's values
are ``W (D S) + b t`` with ``D`` the region's pattern.  Coordinates are never
re-evaluated through the network, so the sign tests are consistent with the
combinatorics even where vertices are computed with rounding.  Everything is
vectorised over the regions of a batch; regions are processed depth-first in
batches of at most :data:`CHUNK` generators, and a batch that grows past
``_LAYER_VALUES`` values partway through a layer (a wide first layer on all
of ``R^k``) is split there too, so memory stays bounded.

Tolerance and certification
---------------------------
A value is zero when ``|z| <= VERTEX_RTOL * M``; the error of the
combinations above is a few ``eps * M`` per step, far below
``VERTEX_RTOL``.  A region is split only by values of both signs beyond
that tolerance at its own generators; both children then contain an open
ball around a point of the cut, so every counted region has an interior
point (:meth:`PolytopePartition.chebyshev` computes a certified one with
one LP per region, on request).  Real regions thinner than ``VERTEX_RTOL``
relative to the magnitudes of the pre-activations are below the resolution
of float64 and are merged with a neighbour.

On a bounded box, ``M`` of a vertex made on an edge is inherited from
the edge's ends, so on a box ~1e9 times wider than the network's features
the tolerance near the origin exceeds the features and regions there merge
with no sign in doubt.  :func:`count_polytope` therefore counts boxes wider
than :data:`~regions.engines.shells.SHELL_TRIGGER` feature radii on a cover
by geometric shells, each resolved at its own scale (or takes the count of
``R^k`` where the box holds every vertex), and :func:`partition_polytope`
refuses boxes wider than :data:`PARTITION_WIDE` feature radii (see
:mod:`regions.engines.shells`).

For unbounded domains the count is exact by construction: regions are
homogenised cones, extreme rays are generators like vertices, and a unit
cuts an unbounded region "at infinity" exactly when its slopes along two
rays differ in sign.  ``bounded``/``unbounded`` are read off the generators.

Fast path for counts on bounded boxes
-------------------------------------
Above, a vertex is stored once per region around it (``2^k`` times where
``k`` hyperplanes meet).  :func:`count_polytope` on a bounded box first
tries :mod:`.skeleton`: the same unit-by-unit subdivision on the shared
vertex-edge skeleton (each vertex and edge once, values carried as the same
linear combinations, the same tolerance doubled), regions read off the
vertices' sign vectors.  It holds only while the partition is generic (no
vertex within tolerance of a later hyperplane, every 2-face cut exactly
twice); anything else -- zero biases, duplicate units, hyperplanes through
vertices, unbounded domains, ``max_regions`` -- runs the walk above.

Affine pieces
-------------
Pieces are the connected components of the graph whose edges join regions
sharing a facet (a ``(k-1)``-dimensional face) and having one output map.
Facets are read off the final incidences (:func:`_facets`, exact for
degenerate regions too); facets on the domain's boundary have no
neighbour.  Across a facet on which a single unit ``j`` vanishes, the
neighbour's pattern is the region's with ``j`` flipped and the output
Jacobians differ by ``(1 - slope) g_j a_j^T`` (``g_j = dy/dh_j``, the same
on both sides; ``a_j`` the unit's gradient, non-zero on a facet), so the
map is unchanged iff ``g_j`` is zero, to ``PIECE_RTOL`` of its magnitude
(:func:`_inert`).  Where several units vanish on a facet (copies of a unit,
units that are zero on a whole region) the neighbour's pattern is found
layer by layer from the signs of the derivatives along the facet's normal
and the two Jacobians are compared (:func:`_cross`).  Only regions with an
inert unit or a degenerate generator can merge with a neighbour, so a
generic network costs one backward pass per region (a few per cent of the
count).  Only merging facets are kept, as pairs of packed patterns, each
confirmed from both of its regions; memory grows with the number of merges
(zero in a generic network), not with the number of regions.

References
----------
.. [1] A. Berzins, "Polyhedral complex extraction from ReLU networks using
   edge subdivision", ICML 2023.
.. [2] T. Serra, C. Tjandraatmadja, S. Ramalingam, "Bounding and counting
   linear regions of deep neural networks", ICML 2018.
.. [3] J. E. Masden, "Algorithmic determination of the combinatorial
   structure of the linear regions of ReLU neural networks", 2022.
.. [4] K. Fukuda, A. Prodon, "Double description method revisited",
   Combinatorics and Computer Science, LNCS 1120, 1996.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...analysis.theory import format_int, serra_upper_bound
from ...core.patterns import pack_words
from ...core.pieces import merge_pieces
from ...core.progress import Progress
from ...core.result import CountResult
from ...core.tolerances import PIECE_RTOL, ZERO_RTOL  # noqa: F401 -- PIECE_RTOL re-exported (__all__)
from ...errors import NumericalError, RegionsError
from ...domains import Domain, box
from ...model.network import Network
from .bitsets import mask_upto as _mask_upto
from .bitsets import popcount as _popcount
from .pieces import _inert, _Pieces
from .result import PolytopePartition
from ..base import check_options
from ..shells import count_by_shells, refuse_wide, shell_boxes, whole_if_inside

__all__ = [
    "PolytopePartition",
    "partition_polytope",
    "count_polytope",
    "preflight",
    "VERTEX_RTOL",
    "PIECE_RTOL",
    "CHUNK",
]

#: Relative size under which a value at a generator is zero (see module docstring).
VERTEX_RTOL = 2.0**-36  # ~1.5e-11
#: Half-width of a box, in feature radii (:func:`..shells.feature_radius`), above which
#: :func:`partition_polytope` refuses (:class:`~regions.errors.NumericalError`): vertex values
#: interpolated along edges that long carry magnitudes (and so tolerances) of the box's corners, and
#: regions near the origin merge without notice (measured from ~1e9 on); :func:`count_polytope`
#: covers such boxes by shells instead.
PARTITION_WIDE = 2.0**20
#: Generators per batch in the depth-first walk, for a next layer of 16 units
#: (scaled inversely with the width: values take 16 bytes per unit and generator).
CHUNK = 1 << 14
# PIECE_RTOL (one output map across a facet): see regions.core.tolerances.
#: Values (generators x columns of the current layer) a batch may hold partway
#: through a layer before it is split into groups of regions finished one by one
#: (16 times what a batch holds when it enters a layer; 64 MB of values).
_LAYER_VALUES = 1 << 22
#: Expanded (pair, generator) entries per adjacency sub-batch (bounds memory).
_PAIR_CHUNK = 1 << 22

_ONE = np.uint64(1)


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
            self.S[:, a:b], self.M[:, a:b], self.pat[lo:hi],
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


class _Work:
    """Append-only state of one batch while the columns of one layer are applied.

    Children of a cut region: the *plus* child keeps the region's id, the
    *minus* child gets a new id; generators are never deleted, only
    re-labelled (strictly negative ones), duplicated (zero ones) or appended
    (new ones), so one step costs ``O(N)`` on one column plus the work on the
    cut regions.  Values are stored transposed, ``S`` (n, cap), so that a
    column is contiguous.
    """

    def __init__(self, b: _Batch, k: int, n_patcols: int):
        N, R = b.N, b.R
        cap = max(64, 4 * N)  # batches typically grow several-fold within a layer
        rcap = max(16, 2 * R)
        n = b.S.shape[0]
        self.k = k
        self.N, self.R = N, R
        self.G = np.empty((cap, k + 1)); self.G[:N] = b.G
        self.S = np.empty((n, cap)); self.S[:, :N] = b.S
        self.M = np.empty((n, cap)); self.M[:, :N] = b.M
        self.lin = np.empty(cap, dtype=bool); self.lin[:N] = b.lin
        self.rid = np.empty(cap, dtype=np.intp); self.rid[:N] = b.rid
        self.bits = np.empty((cap, b.bits.shape[1]), dtype=np.uint64); self.bits[:N] = b.bits
        self.origin = np.empty(cap, dtype=np.intp); self.origin[:N] = b.rid  # starting region
        self.cutr = None
        p = b.pat.shape[1]
        self.pat = np.zeros((rcap, p + n_patcols), dtype=bool); self.pat[:R, :p] = b.pat
        self.dropped = np.zeros(rcap, dtype=bool)

    # ---------------------------------------------------------- storage
    def _reserve(self, extra: int) -> None:
        need = self.N + extra
        cap = self.G.shape[0]
        if need <= cap:
            return
        cap = max(need, 2 * cap)
        N = self.N
        for name in ("G", "lin", "rid", "bits", "origin"):
            old = getattr(self, name)
            arr = np.empty((cap,) + old.shape[1:], dtype=old.dtype)
            arr[:N] = old[:N]
            setattr(self, name, arr)
        for name in ("S", "M"):
            old = getattr(self, name)
            arr = np.empty((old.shape[0], cap))
            arr[:, :N] = old[:, :N]
            setattr(self, name, arr)

    def _reserve_regions(self, extra: int) -> None:
        need = self.R + extra
        if need <= self.pat.shape[0]:
            return
        cap = max(need, 2 * self.pat.shape[0])
        pat = np.zeros((cap, self.pat.shape[1]), dtype=bool)
        pat[: self.R] = self.pat[: self.R]
        dropped = np.zeros(cap, dtype=bool)
        dropped[: self.R] = self.dropped[: self.R]
        self.pat, self.dropped = pat, dropped

    def _append(self, G, S, M, lin, rid, bits, origin) -> None:
        m = G.shape[0]
        if m == 0:
            return
        self._reserve(m)
        a, b = self.N, self.N + m
        self.G[a:b] = G
        self.S[:, a:b] = S
        self.M[:, a:b] = M
        self.lin[a:b] = lin
        self.rid[a:b] = rid
        self.bits[a:b] = bits
        self.origin[a:b] = origin
        self.N = b

    # ------------------------------------------------------------- step
    def _lineality(self, col: int, hit: np.ndarray, done_mask: np.ndarray) -> None:
        """Turn one lineality vector of each hit region into the rays ``+l`` (kept) and ``-l`` (appended).

        In every hit region the column is not zero on some lineality vector
        ``l``: every other generator is moved along ``l`` onto the
        hyperplane (the cone is unchanged, ``l`` being a line of it).
        """
        k = self.k
        N = self.N
        G, S, M, lin, bits, rid = self.G, self.S, self.M, self.lin, self.bits, self.rid
        conv = []
        for r in np.nonzero(hit)[0]:  # rare: only while regions contain lines
            idx = np.nonzero(rid[:N] == r)[0]
            L = idx[lin[idx]]
            rel = np.abs(S[col, L]) / np.maximum(M[col, L], np.finfo(float).tiny)
            ls = L[int(np.argmax(rel))]
            if S[col, ls] < 0:
                G[ls] *= -1.0
                S[:, ls] *= -1.0
            sstar = S[col, ls]
            others = idx[idx != ls]
            coef = S[col, others] / sstar  # (m,)
            G[others] -= coef[:, None] * G[ls]
            S[:, others] -= S[:, ls][:, None] * coef[None, :]
            M[:, others] += M[:, ls][:, None] * np.abs(coef)[None, :]
            S[col, others] = 0.0
            rays = others[~lin[others] & (G[others, k] == 0)]
            if rays.size:  # keep rays at unit max-norm
                nrm = np.max(np.abs(G[rays, :k]), axis=1)
                if np.any(~(nrm > 0)):
                    raise RegionsError(
                        "expected independent lineality vectors, got a degenerate cone (numerical failure)"
                    )
                G[rays] /= nrm[:, None]
                S[:, rays] /= nrm[None, :]
                M[:, rays] /= nrm[None, :]
            lin[ls] = False
            bits[ls] = done_mask
            conv.append(ls)
        conv = np.array(conv, dtype=np.intp)
        self._append(-self.G[conv], -self.S[:, conv], self.M[:, conv].copy(),
                     np.zeros(conv.size, dtype=bool), self.rid[conv].copy(), self.bits[conv].copy(),
                     self.origin[conv].copy())

    def prescreen(self, cols: np.ndarray, bits: np.ndarray, patcols: np.ndarray) -> None:
        """Decide, once per layer, which units can cut which of the layer's starting regions.

        A unit that does not cut a region cuts none of its sub-regions: its
        pattern bit is set here for the whole region (the children copy it)
        and so are the incidences of the generators on its hyperplane (a new
        generator is on it only if both its parents are, as the unit keeps
        one sign on the region).  :meth:`step` then only visits the
        generators of the regions that the unit cuts.
        """
        N, R = self.N, self.R
        rid = self.rid[:N]
        starts = np.searchsorted(rid, np.arange(R))
        S = self.S[cols, :N]  # (n, N)
        tol = VERTEX_RTOL * self.M[cols, :N]
        lin = self.lin[:N]
        pos = S > tol
        neg = S < -tol
        anypos = np.logical_or.reduceat(pos & ~lin, starts, axis=1)  # (n, R)
        anyneg = np.logical_or.reduceat(neg & ~lin, starts, axis=1)
        cutr = anypos & anyneg
        if lin.any():
            cutr |= np.logical_or.reduceat((pos | neg) & lin, starts, axis=1)
        self.pat[:R, patcols] = (anypos & ~cutr).T
        zero = ~(pos | neg) & ~lin & ~cutr[:, rid]
        for j, bit in enumerate(bits):
            word, off = divmod(int(bit), 64)
            self.bits[np.nonzero(zero[j])[0], word] |= _ONE << np.uint64(off)
        self.cutr = cutr  # (n, R) over the starting regions

    def step(self, col: int, bit: int, done_mask: np.ndarray, *, clip: bool, patcol: int = -1,
             screen: int | None = None) -> None:
        """Apply one column: split the regions it cuts (unit) or clip them (box face, ``clip``).

        Parameters
        ----------
        col : row of ``S`` holding the constraint's values.
        bit : its position in the incidence bit sets.
        done_mask : (nw,) bits of the constraints processed before this one.
        clip : keep only the side ``value >= 0`` (the other side is marked dropped).
        patcol : pattern column of a hidden unit (not ``clip``).
        screen : row of the :meth:`prescreen` table for this unit; only the
            generators of the regions it cuts are visited.
        """
        k = self.k
        R = self.R
        if screen is None:
            sub = np.arange(self.N)
        else:
            sub = np.nonzero(self.cutr[screen][self.origin[: self.N]])[0]
            if sub.size == 0:
                return
        s = self.S[col, sub]
        tol = VERTEX_RTOL * self.M[col, sub]
        pos = s > tol
        neg = s < -tol
        lin = self.lin[sub]
        hit = None
        if lin.any():
            hg = lin & (pos | neg)
            if hg.any():
                hit = np.zeros(R, dtype=bool)
                hit[self.rid[sub[hg]]] = True
                n_before = self.N
                self._lineality(col, hit, done_mask)
                sub = np.concatenate([sub, np.arange(n_before, self.N)])
                s = self.S[col, sub]
                tol = VERTEX_RTOL * self.M[col, sub]
                pos = s > tol
                neg = s < -tol
                lin = self.lin[sub]
        rid = self.rid[sub]
        zero = ~(pos | neg)
        word, off = divmod(bit, 64)
        onebit = _ONE << np.uint64(off)
        self.bits[sub[zero & ~lin], word] |= onebit
        pl = pos & ~lin
        nl = neg & ~lin
        npos = np.bincount(rid[pl], minlength=R)
        nneg = np.bincount(rid[nl], minlength=R)
        cut = (npos > 0) & (nneg > 0)
        if clip:
            self.dropped[:R] |= (npos == 0) & (nneg > 0)
        else:
            seen = np.zeros(R, dtype=bool)
            seen[rid] = True
            self.pat[:R, patcol][seen] = (npos > 0)[seen]
        C = np.nonzero(cut)[0]
        if C.size == 0:
            return
        minus = np.full(R, -1, dtype=np.intp)
        minus[C] = R + np.arange(C.size)
        self._reserve_regions(C.size)
        self.pat[R:R + C.size] = self.pat[C]
        if clip:
            self.dropped[R:R + C.size] = True
        else:
            self.pat[R:R + C.size, patcol] = False

        # ---- new generators on the edges that cross the hyperplane
        pc = cut if hit is None else cut & ~hit  # hit regions: +l / -l only
        new = None
        if pc.any():
            loc = np.nonzero(pc[rid])[0]
            loc = loc[np.argsort(rid[loc], kind="stable")]  # positions in sub, grouped by region
            idx = sub[loc]
            lr = rid[loc]
            regs = np.arange(R)
            first = np.searchsorted(lr, regs)
            last = np.searchsorted(lr, regs, side="right")
            P_idx = idx[pl[loc]]
            N_idx = idx[nl[loc]]
            nstart = np.searchsorted(self.rid[N_idx], regs)
            cnt = nneg[self.rid[P_idx]]
            u = np.repeat(P_idx, cnt)
            o = np.arange(u.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
            w = N_idx[nstart[self.rid[u]] + o]
            nlin = np.bincount(rid[lin], minlength=R)
            need = (k - 1) - nlin[self.rid[u]]
            adj = self._adjacent(idx, first, last, u, w, need)
            u, w = u[adj], w[adj]
            su = self.S[col, u]
            sw = self.S[col, w]
            # scale each pair by a power of two (exact, positive) so that |su|, |sw| <= 1 and the larger
            # is >= 1/2: products with tiny or huge values neither underflow nor overflow
            e = np.frexp(np.maximum(np.abs(su), np.abs(sw)))[1]
            su = np.ldexp(su, -e)
            sw = np.ldexp(sw, -e)
            nG = su[:, None] * self.G[w] - sw[:, None] * self.G[u]
            nS = su[None, :] * self.S[:, w] - sw[None, :] * self.S[:, u]
            nM = su[None, :] * self.M[:, w] - sw[None, :] * self.M[:, u]
            nS[col] = 0.0
            _normalise(nG, nS, nM, k)
            if not np.all(np.isfinite(nS)):
                raise NumericalError(
                    "expected finite values at new vertices, got an overflow (inf or nan): the weights, "
                    "biases or domain are so large that their products exceed float64's 1.8e308")
            nbits = self.bits[u] & self.bits[w]
            nbits[:, word] |= onebit
            new = (nG, nS, nM, self.rid[u], u)
        # ---- zero generators of cut regions go to both children
        zc = sub[zero & cut[rid]]
        dup = (self.G[zc], self.S[:, zc], self.M[:, zc], self.lin[zc], minus[self.rid[zc]], self.bits[zc],
               self.origin[zc])
        # ---- strictly negative generators move to the minus child
        mv = sub[nl & cut[rid]]
        self.rid[mv] = minus[self.rid[mv]]
        self._append(*dup)
        if new is not None:
            nG, nS, nM, nr, nu = new
            nolin = np.zeros(nr.size, dtype=bool)
            no = self.origin[nu]
            self._append(nG, nS, nM, nolin, nr, nbits, no)
            self._append(nG, nS, nM, nolin, minus[nr], nbits, no)
        self.R = R + C.size

    def _adjacent(self, idx, first, last, u, w, need) -> np.ndarray:
        """Combinatorial adjacency test of generator pairs ``(u, w)``.

        ``idx[first[r]:last[r]]`` are the generators of region ``r``;
        ``need`` (per pair) is the least number of common tight constraints
        an edge can have.  ``u`` and ``w`` are adjacent iff no third
        non-lineality generator of the region is tight on all their common
        constraints.  Returns a bool mask over the pairs.
        """
        bits, lin, rid = self.bits, self.lin, self.rid
        common = bits[u] & bits[w]  # (P, nw)
        ok = _popcount(common) >= need
        keep = np.zeros(ok.shape[0], dtype=bool)
        sel = np.nonzero(ok)[0]
        if sel.size == 0:
            return keep
        # A *simple* generator is tight on exactly need + 1 constraints (the fewest an extreme
        # generator can have): they are independent, and any need of them define a 2-face holding
        # it and exactly one other generator.  A pair with a simple end and >= need common tight
        # constraints is therefore an edge, with no third generator to look for.
        u, w, common = u[sel], w[sel], common[sel]
        needp = need[sel] + 1
        simple = (_popcount(bits[u]) == needp) | (_popcount(bits[w]) == needp)
        keep[sel[simple]] = True
        rest = ~simple
        if not rest.any():
            return keep
        sel, u, w, common = sel[rest], u[rest], w[rest], common[rest]
        r = rid[u]
        f = first[r]
        size = last[r] - f  # (P,)
        adj = np.ones(u.size, dtype=bool)
        cs = np.cumsum(size)
        lo = 0
        while lo < u.size:  # sub-batches bound the memory of the expansion
            base = cs[lo - 1] if lo else 0
            hi = max(int(np.searchsorted(cs, base + _PAIR_CHUNK, side="right")), lo + 1)
            sz = size[lo:hi]
            pair = np.repeat(np.arange(lo, hi), sz)  # (E,)
            o = np.arange(pair.size) - np.repeat(np.cumsum(sz) - sz, sz)
            x = idx[f[pair] + o]  # every generator of the pair's region
            cm = common[pair]
            contains = np.all((bits[x] & cm) == cm, axis=1)
            contains &= ~lin[x] & (x != u[pair]) & (x != w[pair])
            adj[lo:hi] = np.bincount(pair[contains] - lo, minlength=hi - lo) == 0
            lo = hi
        keep[sel] = adj
        return keep

    def finish(self, *, values: bool = True) -> _Batch:
        """The batch, generators grouped by region, dropped (clipped-away) regions removed.

        ``values=False`` leaves the values out (after the last hidden layer).
        """
        N, R = self.N, self.R
        rid = self.rid[:N]
        alive = ~self.dropped[:R]
        newid = np.cumsum(alive) - 1
        g = np.nonzero(alive[rid])[0]
        g = g[np.argsort(rid[g], kind="stable")]
        return _Batch(
            self.G[g], self.lin[g], newid[rid[g]], self.bits[g],
            self.S[:, g] if values else np.empty((0, g.size)),
            self.M[:, g] if values else np.empty((0, g.size)), self.pat[:R][alive],
        )


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


def _initial(pulled: Network, domain: Domain, nw: int) -> tuple[_Batch, int]:
    """All of ``R^k`` (not yet clipped), with the values of the box faces and the first layer.

    Returns the batch, whose first ``nf`` columns are the finite box faces
    (``value >= 0`` inside) and the others the first layer's units, and ``nf``.
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
    Wall = np.concatenate([F, W0]) if faces else W0
    ball = np.concatenate([c, b0]) if faces else b0
    S, M = _first_values(G, Wall, ball, k)
    bits = np.zeros((k + 1, nw), dtype=np.uint64)  # the origin is tight nowhere; lines carry no bits
    return _Batch(G, lin, np.zeros(k + 1, dtype=np.intp), bits, S, M, np.zeros((1, 0), dtype=bool)), len(faces)


# --------------------------------------------------------------------- run
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


def _walk(net: Network, domain: Domain, emit: Callable[[_Batch], None], progress: bool,
          max_regions: int | None, select: Callable | None = None) -> tuple[list, bool, int]:
    """Run the engine depth-first; ``emit`` receives the final batches.

    ``select(l, batch)``, when given, sees every finished batch of hidden
    layer ``l`` and returns the regions to go on with (None: none); split
    counts use it to keep one run of a prefix layer's regions.

    Returns the per-layer counts, whether it stopped early (``max_regions``)
    and, when it did, the regions of the last layer still being split (each
    holds at least one final region: the count is a lower bound).
    """
    pulled = domain.pullback(net)
    k = domain.dim
    hidden = pulled.layers[:-1]
    slope = pulled.negative_slope
    n_faces_max = 2 * k
    nbits = 1 + n_faces_max + sum(W.shape[0] for W, _ in hidden)
    nw = (nbits + 63) // 64
    counts = [0] * len(hidden)
    try:
        bound = serra_upper_bound(k, [W.shape[0] for W, _ in hidden]) if hidden else 1
    except RegionsError:  # pragma: no cover
        bound = None
    # regions entering each layer, as an open count with a rate (depth-first: no total until the end)
    stages = [(f"layer {l + 1}/{len(hidden)}" + (f" (bound {format_int(bound)})" if l == len(hidden) - 1 and bound
               is not None else ""), None) for l in range(len(hidden))]
    bars = Progress(progress, stages)
    state = {"stop": False, "found": 0, "pending": 0}
    chunk = CHUNK if max_regions is None else min(CHUNK, 1 << 10)  # small steps when a limit is set
    layer_values = _LAYER_VALUES * chunk // CHUNK
    last = len(hidden) - 1

    b0, nf = _initial(pulled, domain, nw)
    # bit layout: 0 -> t >= 0, 1..nf -> finite box faces, 1 + 2k.. -> the hidden units in order
    unused = _mask_upto(1 + n_faces_max, nw) & ~_mask_upto(1 + nf, nw)

    def done(bit: int) -> np.ndarray:
        """Bits of the constraints processed before ``bit``."""
        return _mask_upto(bit, nw) & ~unused

    def pieces_of(b: _Batch, size: int):
        """Consecutive groups of regions of about ``size`` generators (at least one region each)."""
        st = b.starts()
        lo = 0
        while lo < b.R:
            if max_regions is not None and state["found"] > max_regions:
                state["stop"] = True
            if state["stop"]:
                return
            hi = int(np.searchsorted(st, st[lo] + size, side="right")) - 1
            hi = min(max(hi, lo + 1), b.R)
            yield b.take_regions(lo, hi)
            lo = hi

    def run_layer(l: int, b: _Batch, col0: int, bit0: int, start: int | None = None) -> None:
        """Apply hidden layer ``l`` (columns ``col0..`` of ``b.S``, bits ``bit0..``) to ``b``, then go deeper.

        ``start`` resumes a layer whose columns before ``start`` are done
        (``b.pat`` already holds the layer's pattern columns): a batch that
        grows past :data:`_LAYER_VALUES` values partway through a layer is
        split into groups of regions, each finished on its own (depth-first),
        which bounds the memory of wide first layers on all of ``R^k``.
        """
        if state["stop"]:
            return
        W = hidden[l][0]
        ncols = b.S.shape[0]
        width = ncols - col0
        fresh = start is None
        if fresh:
            start, p0 = col0, b.pat.shape[1]
            work = _Work(b, k, width)
        else:
            p0 = b.pat.shape[1] - width
            work = _Work(b, k, 0)
        n_in = b.R
        rest = np.arange(start, ncols) - col0
        work.prescreen(col0 + rest, bit0 + rest, p0 + rest)
        for j in range(start, ncols):
            jj = j - col0
            if l == last and max_regions is not None and state["found"] + work.R > max_regions:
                state["stop"] = True  # mid-layer: these regions are not final yet
                state["pending"] = work.R
                counts[l] += work.R
                return
            work.step(j, bit0 + jj, done(bit0 + jj), clip=False, patcol=p0 + jj, screen=j - start)
            if j + 1 < ncols and work.N * ncols > layer_values:  # split mid-layer
                b = work.finish()
                del work
                size = max(256, chunk * 16 // max(16, width))
                for part in pieces_of(b, size):
                    run_layer(l, part, col0, bit0, start=j + 1)
                if fresh:
                    bars.update(l, n_in)
                return
        b = work.finish(values=l != last)
        counts[l] += b.R
        if fresh:
            bars.update(l, n_in)
        if select is not None and (b := select(l, b)) is None:
            return
        if l == last:
            emit(b)
            state["found"] += b.R
            return
        Wn, bn = hidden[l + 1]
        nxt_bit = bit0 + width
        chunk_l = max(256, chunk * 16 // max(16, Wn.shape[0]))  # same memory whatever the width
        for part in pieces_of(b, chunk_l):
            S, M = _next_values(part, W.shape[0], Wn, bn, slope, k)
            part = _Batch(part.G, part.lin, part.rid, part.bits, S, M, part.pat)
            run_layer(l + 1, part, 0, nxt_bit)

    try:
        work = _Work(b0, k, 0)
        for j in range(nf):  # box faces: bits 1..nf
            work.step(j, 1 + j, done(1 + j), clip=True)
        b = work.finish()
        if b.R != 1 or (b.lin.any() and domain.bounded):
            raise RegionsError(f"expected the box to clip to one bounded region, got {b.R} (numerical failure)")
        if not hidden:
            emit(b)
            return counts, False, 0
        run_layer(0, b, nf, 1 + n_faces_max)
    finally:
        bars.close()
    return counts, state["stop"], state["pending"]


# ----------------------------------------------------------------- results
def _witnesses(G: np.ndarray, lin: np.ndarray, starts: np.ndarray, k: int, scale: float) -> np.ndarray:
    """Interior points: a strictly positive combination of every generator, (R, k)."""
    R = starts.shape[0] - 1
    rid = np.repeat(np.arange(R), np.diff(starts))
    t = G[:, k]
    point = (t > 0) & ~lin
    ray = (t == 0) & ~lin
    nv = np.bincount(rid[point], minlength=R)
    nr = np.bincount(rid[ray], minlength=R)
    if np.any(nv == 0):
        raise RegionsError("expected every region to have a vertex, got one without (numerical failure)")
    X = np.zeros((R, k))
    np.add.at(X, rid[point], G[point, :k])
    X /= nv[:, None]
    if ray.any():
        Y = np.zeros((R, k))
        np.add.at(Y, rid[ray], G[ray, :k])
        X += scale * Y / np.maximum(nr, 1)[:, None]
    return X


# ---------------------------------------------------------------- public API
def preflight(net: Network, domain: Domain | None = None, *, samples: int = 20000, seed: int = 0) -> dict:
    """A quick look before a long run: Serra's upper bound and a sampled lower bound.

    Parameters
    ----------
    samples : int, keyword-only
        Random points in the domain (for unbounded coordinates: Gaussian of
        the domain's scale); distinct patterns among them are a lower bound.

    Returns
    -------
    dict
        ``upper_bound`` (Serra et al. 2018, Theorem 1, for all of R^k) and
        ``sampled_lower_bound``.
    """
    domain = _check(net, domain)
    pulled = domain.pullback(net)
    rng = np.random.default_rng(seed)
    k = domain.dim
    lo = np.where(np.isfinite(domain.lo), domain.lo, np.nan)
    hi = np.where(np.isfinite(domain.hi), domain.hi, np.nan)
    U = rng.uniform(0.0, 1.0, size=(samples, k))
    both = np.isfinite(lo) & np.isfinite(hi)
    X = np.where(both, np.nan_to_num(lo) + U * np.nan_to_num(hi - lo), 0.0)
    G = np.abs(rng.normal(0.0, domain.scale, size=(samples, k)))
    X = np.where(np.isfinite(lo) & ~np.isfinite(hi), np.nan_to_num(lo) + G, X)
    X = np.where(~np.isfinite(lo) & np.isfinite(hi), np.nan_to_num(hi) - G, X)
    X = np.where(~np.isfinite(lo) & ~np.isfinite(hi), rng.normal(0.0, domain.scale, size=(samples, k)), X)
    P = pulled.patterns(X)
    seen = np.unique(np.packbits(P, axis=1), axis=0).shape[0] if P.shape[1] else 1
    widths = list(pulled.widths)
    return {"upper_bound": serra_upper_bound(k, widths) if widths else 1, "sampled_lower_bound": int(seen)}


def partition_polytope(
    net: Network,
    domain: Domain | None = None,
    *,
    max_regions: int | None = None,
    progress: bool = False,
) -> PolytopePartition:
    """Partition a box (bounded or not) of any dimension into the network's activation regions, exactly.

    Parameters
    ----------
    net : Network
    domain : Domain, optional
        A :func:`~regions.domains.box` (default ``[-1, 1]^d``), all of space
        (:func:`~regions.domains.whole`), or a 1-D/2-D slice (segment, line,
        plane) of the input space; polygon domains are not supported.
    max_regions : int, keyword-only, optional
        Stop once more final regions than this have been found; the result
        is flagged ``partial`` (and holds the regions found so far, without
        ``piece_labels``).
    progress : bool, keyword-only
        Show one progress bar per hidden layer (needs tqdm).

    Returns
    -------
    PolytopePartition

    Examples
    --------
    >>> from regions import Network, whole
    >>> net = Network.from_arch("3-6-1", seed=0)
    >>> part = partition_polytope(net, whole(3))
    >>> part.n_regions, part.n_pieces  # sum_{j<=3} C(6, j); every unit bends the output
    (42, 42)
    """
    domain = _check(net, domain)
    max_regions, progress = check_options(max_regions=max_regions, progress=progress)
    refuse_wide(domain.pullback(net), domain, "polytope", PARTITION_WIDE)
    return _partition_polytope(net, domain, max_regions=max_regions, progress=progress)


def _partition_polytope(net: Network, domain: Domain, *, max_regions: int | None = None,
                        progress: bool = False) -> PolytopePartition:
    """:func:`partition_polytope` on a checked domain (also each sub-box of :mod:`..shells`)."""
    k = domain.dim
    store = {"G": [], "lin": [], "bits": [], "pat": [], "sizes": [], "n": 0}
    tally = _Pieces(domain.pullback(net), k, VERTEX_RTOL)

    def emit(b: _Batch) -> None:
        tally.add(b)
        st = b.starts()
        store["G"].append(b.G)
        store["lin"].append(b.lin)
        store["bits"].append(b.bits)
        store["pat"].append(b.pat)
        store["sizes"].append(np.diff(st))
        store["n"] += b.R

    counts, stopped, _ = _walk(net, domain, emit, progress, max_regions)
    n_hidden = net.n_hidden
    if store["n"]:
        G = np.concatenate(store["G"])
        lin = np.concatenate(store["lin"])
        bits = np.concatenate(store["bits"])
        pat = np.concatenate(store["pat"])
        sizes = np.concatenate(store["sizes"])
    else:  # pragma: no cover
        G = np.zeros((0, k + 1)); lin = np.zeros(0, bool); bits = np.zeros((0, 1), np.uint64)
        pat = np.zeros((0, n_hidden), bool); sizes = np.zeros(0, np.intp)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    rid = np.repeat(np.arange(pat.shape[0]), sizes)
    unb = np.bincount(rid[lin | (G[:, k] == 0)], minlength=pat.shape[0]) > 0
    W = _witnesses(G, lin, starts, k, domain.scale)
    labels = None if stopped else tally.labels(pat)[0]
    return PolytopePartition(
        network=net, domain=domain, patterns=pat, witnesses=W, bounded=~unb,
        generators=G, lineality=lin, incidence=bits, starts=starts,
        layer_counts=tuple(counts), partial=stopped, piece_labels=labels,
    )


def count_polytope(
    net: Network,
    domain: Domain | None = None,
    *,
    max_regions: int | None = None,
    progress: bool = False,
) -> CountResult:
    """Count the activation regions on a box (bounded or not) of any dimension, exactly.

    Same numbers as ``partition_polytope(net, domain).count()`` without
    keeping the regions (memory bounded by :data:`CHUNK`, plus two packed
    patterns per facet across which the output map does not change; none
    in a generic network).  On a bounded box a generic partition is counted
    on its shared vertex-edge skeleton instead (see the module docstring;
    memory: one copy of every vertex and edge).  On unbounded domains the result splits the
    count into ``bounded`` and ``unbounded`` regions.  ``pieces`` counts the
    affine pieces (see the module docstring); None when stopped early.
    ``extra["one_sided_merges"]`` (only when non-zero) counts merging facets
    seen from one of their regions only (a neighbour lost to rounding),
    which are not merged.

    Parameters
    ----------
    max_regions : int, keyword-only, optional
        Stop once more final regions than this have been found; the result
        is flagged ``partial`` and its numbers are lower bounds.
    progress : bool, keyword-only
        One progress bar per hidden layer (needs tqdm).

    Examples
    --------
    >>> from regions import Network, whole
    >>> count_polytope(Network.from_arch("4-8-1", seed=0), whole(4)).regions  # sum_{j<=4} C(8, j)
    163
    """
    domain = _check(net, domain)
    max_regions, progress = check_options(max_regions=max_regions, progress=progress)
    boxes = shell_boxes(net, domain)
    if boxes is not None:  # a box far wider than the features: one partition per shell (see ..shells)
        res = None if max_regions is not None else whole_if_inside(net, domain, "polytope")
        return res if res is not None else count_by_shells(net, boxes, _partition_polytope, "polytope", max_regions)
    fast = _count_skeleton(net, domain, max_regions, progress)
    if fast is not None:
        return fast
    return _count_walk(net, domain, max_regions, progress)


def _count_skeleton(net: Network, domain: Domain, max_regions: int | None, progress: bool) -> CountResult | None:
    """The count from the shared vertex-edge skeleton (:mod:`.skeleton`) where it applies, else None.

    It applies to bounded boxes of dimension 2 or more without ``max_regions``, and holds only while the
    partition stays generic (no vertex on a later hyperplane); otherwise the walk runs instead.
    """
    from .skeleton import Degenerate, skeleton_count  # noqa: PLC0415 -- the fast path's own module

    if max_regions is not None or not domain.bounded or domain.dim < 2 or net.depth < 1:
        return None
    try:
        n, counts, n_pieces = skeleton_count(domain.pullback(net), domain, rtol=2 * VERTEX_RTOL,
                                             first_values=_first_values, inert=_inert, progress=progress)
    except Degenerate:
        return None
    return CountResult(n, n_pieces, counts, "polytope")


def _count_whole_radius(net: Network, dom: Domain | None = None,
                        progress: bool = False) -> tuple[CountResult, float | None]:
    """The count on an unbounded box (default all of ``R^k``) and the max-norm radius of its vertices.

    The radius is None where some region holds a line.  Used by :mod:`..shells`: a box that agrees
    with ``dom`` within the cube of twice that radius (every vertex strictly inside) holds exactly
    these regions, pieces and per-layer counts, since every region and every facet of a partition
    without lines has a vertex.
    """
    k = net.input_dim
    if dom is None:
        dom = box(np.full(k, -np.inf), np.full(k, np.inf))
    tally = {"n": 0, "rad": 0.0, "lines": False}
    pieces = _Pieces(net, k, VERTEX_RTOL)

    def emit(b: _Batch) -> None:
        pieces.add(b)
        tally["n"] += b.R
        if b.lin.any():
            tally["lines"] = True
        t = b.G[:, k]
        pts = (t > 0) & ~b.lin
        if pts.any():
            tally["rad"] = max(tally["rad"], float(np.max(np.abs(b.G[pts, :k]) / t[pts, None])))

    counts, stopped, pending = _walk(net, dom, emit, progress, None)
    n_pieces, one_sided = pieces.count(tally["n"])
    extra = {"one_sided_merges": one_sided} if one_sided else {}
    res = CountResult(tally["n"], n_pieces, counts, "polytope", extra=extra)
    return res, (None if tally["lines"] or stopped or one_sided else tally["rad"])


def _count_walk(net: Network, domain: Domain, max_regions: int | None, progress: bool) -> CountResult:
    """The count by the depth-first walk over regions (any box, degenerate input, ``max_regions``)."""
    k = domain.dim
    tally = {"n": 0, "unb": 0}
    pieces = _Pieces(domain.pullback(net), k, VERTEX_RTOL)

    def emit(b: _Batch) -> None:
        pieces.add(b)
        tally["n"] += b.R
        if not domain.bounded:
            unb = np.bincount(b.rid[b.lin | (b.G[:, k] == 0)], minlength=b.R) > 0
            tally["unb"] += int(np.count_nonzero(unb))

    counts, stopped, pending = _walk(net, domain, emit, progress, max_regions)
    n = tally["n"] + pending
    bounded = None if (domain.bounded or stopped) else n - tally["unb"]
    unbounded = None if (domain.bounded or stopped) else tally["unb"]
    extra = {}
    n_pieces = None
    if stopped:
        extra["message"] = (
            f"stopped at max_regions={max_regions} with {n} regions found (partial count: "
            f"the numbers are lower bounds)"
        )
    else:
        n_pieces, one_sided = pieces.count(n)
        if one_sided:
            extra["one_sided_merges"] = one_sided
    return CountResult(n, n_pieces, counts, "polytope", partial=stopped, bounded=bounded,
                       unbounded=unbounded, extra=extra)
