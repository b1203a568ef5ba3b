"""The exact engine for any input dimension: activation regions as polyhedra.

This module is the geometry kernel: the work state ``_Work`` of one batch
and the depth-first walk.  The batch and the values of each layer live in
:mod:`.batch`; the public functions (:func:`partition_polytope`,
:func:`count_polytope`, :func:`preflight`) in :mod:`.api`; results, affine
pieces and bit sets in :mod:`.result`, :mod:`.pieces`, :mod:`.bitsets`.

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
``VERTEX_RTOL``, except at a generator made by an ill-conditioned cut (the
cutting unit's values at both ends of the edge far below their magnitudes:
two nearly parallel hyperplanes, a hyperplane nearly parallel to a ray),
whose position carries the error of those values divided by their
difference; such a generator gets its own tolerance factor ``kap`` (see
:data:`_ILL_CUT`), not inherited by the generators made from it later.
A region is split only by values of both signs beyond
that tolerance at its own generators; both children then contain an open
ball around a point of the cut, so every counted region has an interior
point (:meth:`PolytopePartition.chebyshev` computes a certified one with
one LP per region, on request).  A value taken to be zero at a generator
of a region that the unit does not cut is confirmed in exact rational
arithmetic (:mod:`.exact`, on every walk): at a vertex its exact point, at
a ray its exact direction (the kernel of its tight constraints, oriented by
the region's other constraints), along a lineality vector the region's
exact lines (the unit's gradient must lie in the span of its
constraints').  Exact degeneracies pass, and a real region thinner than the
tolerance relative to the magnitudes of the pre-activations (a strip of
relative width ``1e-11``, a unit and its copy rescaled by 3, two
hyperplanes parallel to ``1e-13`` that meet at ``1e13``, or a unit nearly
parallel to a ray) is refused with :class:`~regions.errors.NumericalError`,
never merged with a neighbour.

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

from typing import Callable

import numpy as np

from ...analysis.theory import format_int, serra_upper_bound
from ...core.progress import Progress
from ...errors import NumericalError, RegionsError
from ...domains import Domain
from ...model.network import Network
from .batch import _Batch, _check, _first_values, _initial, _next_values, _normalise  # noqa: F401 -- _check, _first_values re-exported
from .adjacency import adjacent
from .bitsets import mask_upto as _mask_upto
from .exact import ExactZeros, polygon_faces
from .pieces import _inert, _Pieces  # noqa: F401 -- re-exported for .split and the skeleton's tests

__all__ = [
    "CHUNK",
    "PARTITION_WIDE",
    "VERTEX_RTOL",
]

#: Relative size under which a value at a generator is taken to be zero: it goes to both sides
#: of a cut, or is confirmed exactly where the unit does not cut the region (see module docstring).
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
#: Magnitude over value of a cut's two ends above which the cut is ill-conditioned.  The new
#: generator ``r`` then lies off by the errors of the cutting unit's values ``su``, ``sw`` (up to
#: ``VERTEX_RTOL / _ILL_CUT`` of their magnitudes, ``2^4 eps``) over ``su - sw``: a value ``g`` there
#: is off by ``err(su) |g(w) - g(r) t_w| + err(sw) |g(u) - g(r) t_u|`` (after the division by ``t``).
#: ``r`` keeps the largest ratio of that to ``VERTEX_RTOL`` times the magnitude as a factor ``kap``:
#: its tolerance is ``VERTEX_RTOL * M * (1 + kap)``.  ``kap`` is not inherited: a generator made
#: later on an edge from ``r`` is the edge's exact line cut by another unit.  Zero decisions it
#: causes are confirmed exactly like any other.  Below the threshold the term is left out.
_ILL_CUT = 2.0**12

_ONE = np.uint64(1)


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
        self.kap = np.zeros(cap)  # tolerance factor of ill-conditioned generators (see _ILL_CUT)
        if b.kap is not None:
            self.kap[:N] = b.kap
        self.cutr = None
        p = b.pat.shape[1]
        self.pat = np.zeros((rcap, p + n_patcols), dtype=bool); self.pat[:R, :p] = b.pat
        self.dropped = np.zeros(rcap, dtype=bool)
        self.exact = None  # an .exact.ExactZeros: zero decisions in uncut regions checked exactly

    # ---------------------------------------------------------- storage
    def _reserve(self, extra: int) -> None:
        need = self.N + extra
        cap = self.G.shape[0]
        if need <= cap:
            return
        cap = max(need, 2 * cap)
        N = self.N
        for name in ("G", "lin", "rid", "bits", "origin", "kap"):
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

    def _append(self, G, S, M, lin, rid, bits, origin, kap=0.0) -> None:
        m = G.shape[0]
        if m == 0:
            return
        self._reserve(m)
        a, b = self.N, self.N + m
        self.kap[a:b] = kap
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
            # coef carries (err(S[col, others]) + |coef| err(sstar)) / |sstar| (see _ILL_CUT)
            rho = (M[col, others] + np.abs(coef) * M[col, ls]) / abs(sstar)
            M[:, others] += M[:, ls][:, None] * np.abs(coef)[None, :]
            ill = rho > _ILL_CUT  # g at a moved generator is off by err(coef) |g(l)| (see _ILL_CUT)
            if ill.any():
                io = others[ill]
                with np.errstate(divide="ignore", invalid="ignore"):
                    r = np.where(M[:, io] > 0, M[:, ls][:, None] * rho[ill][None, :] / (_ILL_CUT * M[:, io]), 0.0)
                r[col] = 0.0
                self.kap[io] = np.maximum(self.kap[io], np.max(r, axis=0, initial=0.0))
            S[col, others] = 0.0
            rays = others[~lin[others] & (G[others, k] == 0)]
            if rays.size:  # keep rays at unit max-norm
                nrm = np.max(np.abs(G[rays, :k]), axis=1)
                if np.any(~(nrm > 0)):
                    raise NumericalError(
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
                     self.origin[conv].copy(), self.kap[conv].copy())

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
        if self.kap[:N].any():
            tol *= 1.0 + self.kap[:N]
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
        if self.exact is not None:
            ex = self.exact
            chk = zero | (~(pos | neg) & lin & ~cutr[:, rid]) if lin.any() else zero  # + lines of uncut regions
            for j in range(zero.shape[0]):
                idx = np.nonzero(chk[j])[0]
                if idx.size:
                    r = rid[idx]
                    side = np.where(anypos[j, r], 1, np.where(anyneg[j, r], -1, 0))
                    unit = int(bits[j]) - ex.base
                    ex.check(self.G[idx], self.bits[idx], self.pat[r], unit, side, lin=lin[idx],
                             limit=ex.offsets[ex._layer_of(unit)])  # the layer's own bits are not final yet
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
        tol = VERTEX_RTOL * self.M[col, sub] * (1.0 + self.kap[sub])
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
                tol = VERTEX_RTOL * self.M[col, sub] * (1.0 + self.kap[sub])
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
        if self.exact is not None and not clip:
            m = zero & ~cut[rid]  # vertices, rays and lines of the regions the unit does not cut
            if m.any():
                idx, r = sub[m], rid[m]
                side = np.where(npos[r] > 0, 1, np.where(nneg[r] > 0, -1, 0))
                self.exact.check(self.G[idx], self.bits[idx], self.pat[r], bit - self.exact.base, side,
                                 lin=lin[m])
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
            adj = adjacent(self.bits, self.lin, self.rid, idx, first, last, u, w, need)
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
            # an ill-conditioned cut (both ends' values far below their magnitudes) places the new
            # generator with the errors err(su), err(sw) of the ends' values relative to su - sw: a
            # value g there is off by err(su) |g(w) - g t_w| + err(sw) |g(u) - g t_u| (after the
            # division by t; see _ILL_CUT)
            nkap = np.zeros(u.size)
            fu = np.ldexp(self.M[col, u], -e)
            fw = np.ldexp(self.M[col, w], -e)
            ill = np.nonzero(fu + fw > _ILL_CUT * (su - sw))[0]
            if ill.size:
                iu, iw, tn = u[ill], w[ill], nG[ill, k]
                with np.errstate(divide="ignore", invalid="ignore"):
                    gh = np.where(tn > 0, nS[:, ill] / np.where(tn > 0, tn, 1.0), 0.0)
                err = (fu[ill] * np.abs(self.S[:, iw] - gh * self.G[iw, k])
                       + fw[ill] * np.abs(self.S[:, iu] - gh * self.G[iu, k]))
                err[col] = 0.0
                with np.errstate(divide="ignore", invalid="ignore"):
                    r = np.where(nM[:, ill] > 0, err / (_ILL_CUT * nM[:, ill]), 0.0)
                nkap[ill] = np.max(r, axis=0, initial=0.0)
            nS[col] = 0.0
            _normalise(nG, nS, nM, k)
            if not np.all(np.isfinite(nS)):
                raise NumericalError(
                    "expected finite values at new vertices, got an overflow (inf or nan): the weights, "
                    "biases or domain are so large that their products exceed float64's 1.8e308")
            nbits = self.bits[u] & self.bits[w]
            nbits[:, word] |= onebit
            new = (nG, nS, nM, self.rid[u], u, nkap)
        # ---- zero generators of cut regions go to both children
        zc = sub[zero & cut[rid]]
        dup = (self.G[zc], self.S[:, zc], self.M[:, zc], self.lin[zc], minus[self.rid[zc]], self.bits[zc],
               self.origin[zc], self.kap[zc])
        # ---- strictly negative generators move to the minus child
        mv = sub[nl & cut[rid]]
        self.rid[mv] = minus[self.rid[mv]]
        self._append(*dup)
        if new is not None:
            nG, nS, nM, nr, nu, nkap = new
            nolin = np.zeros(nr.size, dtype=bool)
            no = self.origin[nu]
            self._append(nG, nS, nM, nolin, nr, nbits, no, nkap)
            self._append(nG, nS, nM, nolin, minus[nr], nbits, no, nkap)
        self.R = R + C.size

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
        kap = self.kap[g]
        return _Batch(
            self.G[g], self.lin[g], newid[rid[g]], self.bits[g],
            self.S[:, g] if values else np.empty((0, g.size)),
            self.M[:, g] if values else np.empty((0, g.size)), self.pat[:R][alive],
            kap if kap.any() else None,
        )


# --------------------------------------------------------------------- run
def _walk(net: Network, domain: Domain, emit: Callable[[_Batch], None], progress: bool,
          max_regions: int | None, select: Callable | None = None, *, exact: bool = True) -> tuple[list, bool, int]:
    """Run the engine depth-first; ``emit`` receives the final batches.

    ``exact`` checks every zero decision in a region the unit does not cut in exact rational
    arithmetic (:mod:`.exact`; vertices, rays and lines): a real feature below ``VERTEX_RTOL`` is refused
    (:class:`~regions.errors.NumericalError`), never merged silently.

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
    # a polygon (the 2-D mesh's confirmation, :func:`..planar.kernel._confirm`): its edges as faces
    poly = polygon_faces(domain.vertices) if domain.vertices is not None else None
    n_faces_max = 2 * k if poly is None else len(poly[2])
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

    b0, nf = _initial(pulled, domain, nw, None if poly is None else poly[:2])
    checker = ExactZeros(pulled, domain.lo, domain.hi, 1 + n_faces_max,
                         faces=None if poly is None else poly[2]) if exact else None
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
        work.exact = checker
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
            part = _Batch(part.G, part.lin, part.rid, part.bits, S, M, part.pat, part.kap)
            run_layer(l + 1, part, 0, nxt_bit)

    try:
        work = _Work(b0, k, 0)
        for j in range(nf):  # box faces: bits 1..nf
            work.step(j, 1 + j, done(1 + j), clip=True)
        b = work.finish()
        if b.R != 1 or (b.lin.any() and domain.bounded):
            raise NumericalError(f"expected float64 to clip the {domain.kind} to one bounded region, got {b.R} "
                                 f"(a domain too narrow for its distance from the origin: its faces cancel "
                                 f"in float64 sums)")
        if not hidden:
            emit(b)
            return counts, False, 0
        run_layer(0, b, nf, 1 + n_faces_max)
    finally:
        bars.close()
    return counts, state["stop"], state["pending"]
