"""The exact 2-D engine: activation regions on a convex polygon of a plane.

Definition
----------
For a network ``f`` and a convex 2-D domain ``P`` -- a box of a 2-input
network, a convex polygon, or the plane slice ``x = x0 + u a + v b`` of any
input space (``u, v`` in a box or polygon) -- an *activation region* is a
maximal connected open set of ``P`` on which every hidden unit keeps one
state, active (pre-activation > 0) or inactive (<= 0).  Fixing the pattern
makes every pre-activation affine, so activation regions are convex
polygons.  An *affine piece* is a maximal connected union of regions on
which the output is one affine map: neighbouring regions (sharing an edge)
with equal output Jacobians merged (the output is continuous, so equal
Jacobians mean equal maps).

Algorithm
---------
The partition is a planar subdivision held in flat arrays: vertices ``(V, 2)``
in the domain's parameter coordinates, and every region as a convex ring of
vertex ids, counter-clockwise, in one padded array ``(R, K)`` with counts
``(R,)``.  Vertices are *shared*: a vertex belongs to every region around it.

Every vertex carries the pre-activations ``Z`` of the current layer (the
network's own forward values there: the layer's input is continuous, so the
value at a vertex does not depend on the region it is seen from) and their
*magnitude* ``M``, the same sums taken with absolute values, ``|W| |h| + |b|``.
Inside a region of the previous layers every pre-activation of the current
layer is affine, and so it is along every edge.  For each neuron ``j`` of the
layer in turn, over all regions at once:

1. each vertex gets a sign: ``+`` if ``Z_j > tol``, ``-`` if ``Z_j < -tol``,
   else ``0`` (on the line), with ``tol = ZERO_RTOL * M_j`` at that vertex;
2. a region with a ``+`` and a ``-`` vertex is cut: an edge whose ends have
   strictly opposite signs gets a new vertex at ``t = Z_a / (Z_a - Z_b)``
   (computed once per edge, from its lower to its higher vertex id, and
   shared by the two regions of the edge); the ``+`` part (vertices ``>= 0``
   plus the new ones) keeps the slot, the ``-`` part is appended;
3. the values ``Z`` and ``M`` of a new vertex are interpolated along its
   edge (exact in exact arithmetic, since they are affine there), and its
   own ``Z_j`` is set to exactly 0.

Only the regions whose *parent* (region at the start of the layer) has
vertices of both signs for neuron ``j`` are looked at.  At the end of the
layer ``h = relu(Z)`` at every vertex, and the next layer starts with
``Z' = W' h + b'``.  A Python loop runs over the neurons; none runs per
region, per edge or per vertex.

Exactness
---------
* **No region twice, no T-junction.**  The signs are a property of the
  vertex, not of the region looking at it, and a crossing is a property of
  the edge; every region sees the same decisions as its neighbours, so the
  subdivision stays a proper planar graph (Euler's relation holds and is
  checked by :meth:`PlanarPartition.verify`).
* **No zero-area sliver.**  A vertex within ``tol`` of a line is *on* the
  line: it is never split off, so a line through an existing vertex (zero
  biases, concurrent or duplicate neurons, a neuron constant on a region)
  passes through it.  Each part of a cut region keeps a vertex with
  ``|Z_j| > tol`` strictly on its side, so it has positive area.
* **No real thin cell lost.**  A cell is lost only if every one of its
  vertices lies within ``tol = ZERO_RTOL * M`` of the cutting line, i.e.
  within a few hundred units in the last place of the sums that define it:
  below the resolution at which float64 can tell the cell exists at all.
  ``M`` is carried along interpolations (never recomputed from a cancelling
  sum), so a value that is zero in exact arithmetic -- the pre-activation of
  a zero-bias neuron at the common point of all first-layer lines, say --
  is compared with the size of the numbers it was computed from, not with
  its own rounding noise.
* **Scale.**  The walk starts at the domain's corners with magnitude
  ``|x| + scale`` per coordinate (:attr:`~regions.domains.Domain.scale`), so
  every tolerance is relative to the domain's size as well as to the
  weights; for a plane slice the first layer's magnitudes are those of the
  original sums, ``|W0| |basis|`` and ``|b0| + |W0| |x0|`` (784 inputs
  cancel in ``W0 x0``).  ``M`` is stored in float32: it only sets a
  tolerance.
* **Patterns.**  A neuron is active on a region iff some vertex of the
  region has ``Z_j > tol`` (read off the parent's vertices when the neuron
  does not cross the parent); a neuron that is zero on a whole region is
  inactive there (``ReLU(0)`` counts as inactive), as in :mod:`regions.line`.

Output maps and pieces
----------------------
The output map of every region is computed exactly from its activation
pattern, not fitted to vertex values (thin regions would make a fit
ill-conditioned): pre-activation maps pushed forward over the few regions
of an early layer meet the output's gradient pulled backward from the final
regions, at the layer that minimises the work (:func:`_output_maps`).
Pieces join neighbours whose Jacobians agree to ``PIECE_RTOL`` of their
absolute-value magnitude.  :func:`count_plane` skips the per-region maps:
it proves that neighbours differ from the output values at four vertices,
and decides the remaining pairs (none in a generic network) exactly.

In the rare case where rounding gives a region an impossible sign sequence
(more than one ``+`` run), the region is not cut and the neuron's state is
the sign of the mean of its vertex values; such events are counted in
``PlanarPartition.stats["unsplit"]`` (zero on every network we tested).

References
----------
.. [1] B. Hanin and D. Rolnick, "Deep ReLU networks have surprisingly few
   activation patterns", NeurIPS 2019 (regions on 2-D slices).
.. [2] T. Humayun et al., "SplineCam: exact visualization and characterization
   of deep network geometry and decision boundaries", CVPR 2023.
.. [3] T. van Laarhoven, regioncam (2024), https://github.com/twanvl/regioncam.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.pieces import merge_pieces

from ...core.result import CountResult

from ...core.tolerances import ZERO_RTOL
from ...errors import RegionsError
from ...domains import Domain, box
from ...model.network import Network

__all__ = ["PlanarPartition", "partition_plane", "count_plane", "planar_layers"]

#: Relative tolerance under which two neighbouring regions' output
#: Jacobians are equal (the regions then belong to one affine piece):
#: ``|J_r - J_s| <= PIECE_RTOL * (|J|_r + |J|_s)`` with ``|J|`` the Jacobian
#: computed with absolute values of weights.
PIECE_RTOL = 4 * ZERO_RTOL

_KEY = np.int64(1) << 31  # vertex-pair keys: lo * _KEY + hi


# ----------------------------------------------------------------- helpers
def _default_domain(net: Network, domain: Domain | None) -> Domain:
    if domain is None:
        if net.input_dim != 2:
            raise RegionsError(
                f"expected a 2-input network or a plane/polygon domain, got a network with "
                f"{net.input_dim} inputs and no domain"
            )
        return box(-1.0, 1.0, dim=2)
    if not isinstance(domain, Domain):
        raise RegionsError(f"expected a regions.domains.Domain, got {type(domain).__name__}")
    if domain.dim != 2:
        raise RegionsError(f"expected a 2-D domain (box, plane or polygon), got a {domain.dim}-D {domain.kind}")
    if not domain.bounded:
        d = domain.describe()
        raise RegionsError(
            f"expected a bounded 2-D domain (a box or convex polygon), got an unbounded {domain.kind} "
            f"with bounds {d.get('lo')} to {d.get('hi')} (None: infinite)"
        )
    return domain


def _domain_ring(domain: Domain) -> np.ndarray:
    """Corners of the domain in parameter space, counter-clockwise, (m, 2)."""
    if domain.vertices is not None:
        return np.asarray(domain.vertices, dtype=np.float64)
    (u0, v0), (u1, v1) = domain.lo, domain.hi
    return np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]], dtype=np.float64)


def planar_layers(net: Network, domain: Domain) -> tuple[list, list]:
    """The pulled-back layers on the parameter plane and their magnitudes.

    Returns
    -------
    layers : list of (W, b)
        ``W`` shaped (out, in); the first layer acts on ``(u, v)``.
    mags : list of (|W|, |b|)
        Absolute values; for a plane slice the first layer's are
        ``(|W0| |basis|, |b0| + |W0| |origin|)``, the sizes of the sums the
        pulled-back weights were computed from.
    """
    pulled = domain.pullback(net)
    layers = [(np.asarray(W), np.asarray(b)) for W, b in pulled.layers]
    mags = [(np.abs(W), np.abs(b)) for W, b in layers]
    if domain.basis is not None:
        W0, b0 = net.layers[0]
        aW0 = np.abs(W0)
        mags[0] = (aW0 @ np.abs(domain.basis), np.abs(b0) + aW0 @ np.abs(domain.origin))
    return layers, mags


class _Grow:
    """A row-growable 2-D array (capacity doubling)."""

    __slots__ = ("a", "n")

    def __init__(self, init: np.ndarray, capacity: int):
        cap = max(capacity, init.shape[0], 16)
        self.a = np.empty((cap,) + init.shape[1:], dtype=init.dtype)
        self.a[: init.shape[0]] = init
        self.n = init.shape[0]

    def reserve(self, extra: int) -> None:
        need = self.n + extra
        if need > self.a.shape[0]:
            cap = max(need, int(self.a.shape[0] * 1.6) + 16)
            b = np.empty((cap,) + self.a.shape[1:], dtype=self.a.dtype)
            b[: self.n] = self.a[: self.n]
            self.a = b


# ------------------------------------------------------------------ kernels
class _Mesh:
    """The current subdivision: shared vertices and padded convex rings."""

    def __init__(self, corners: np.ndarray):
        m = corners.shape[0]
        self.uv = _Grow(corners.copy(), 4 * m)
        K = max(8, m + 2)
        self.ring = np.zeros((16, K), dtype=np.int32)  # (Rcap, K) vertex ids
        self.ring[0, :m] = np.arange(m)
        self.nv = np.zeros(16, dtype=np.int32)  # (Rcap,) ring lengths
        self.nv[0] = m
        self.R = 1
        self.stats = {"unsplit": 0}

    @property
    def V(self) -> int:
        return self.uv.n

    def reserve_regions(self, extra: int) -> None:
        need = self.R + extra
        if need > self.ring.shape[0]:
            cap = max(need, int(self.ring.shape[0] * 1.6) + 16)
            r = np.zeros((cap, self.ring.shape[1]), dtype=np.int32)
            r[: self.R] = self.ring[: self.R]
            n = np.zeros(cap, dtype=np.int32)
            n[: self.R] = self.nv[: self.R]
            self.ring, self.nv = r, n

    def widen(self, K: int) -> None:
        if K > self.ring.shape[1]:
            r = np.empty((self.ring.shape[0], max(K, self.ring.shape[1] + 8)), dtype=np.int32)
            r[:, : self.ring.shape[1]] = self.ring
            r[:, self.ring.shape[1] :] = self.ring[:, :1]  # padding repeats the first vertex
            self.ring = r


def _unique_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` by one sort (numpy's own is several times slower here)."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    first = np.empty(sk.shape[0], dtype=bool)
    first[:1] = True
    np.not_equal(sk[1:], sk[:-1], out=first[1:])
    inv = np.empty(keys.shape[0], dtype=np.intp)
    inv[order] = np.cumsum(first) - 1
    return sk[first], inv


def _or_over_rings(bits: np.ndarray, ring: np.ndarray, nv: np.ndarray) -> np.ndarray:
    """Bitwise OR of per-vertex packed rows over each ring: (R, nbytes)."""
    R, K = ring.shape
    out = np.zeros((R, bits.shape[1]), dtype=np.uint8)
    for k in range(K):  # loop over ring slots (K ~ 10), not over regions
        rows = np.flatnonzero(nv > k)
        if rows.size == 0:
            break
        if rows.size == R:
            out |= bits[ring[:, k]]
        else:
            out[rows] |= bits[ring[rows, k]]
    return out


def _cut_layer(mesh: _Mesh, H: np.ndarray, Hm: np.ndarray, W, b, aW, ab, slope: float,
               max_regions: int | None, *, first: bool = False):
    """Cut every region by the lines of one layer.

    Parameters
    ----------
    H : (V, n) float64, the layer's input at every vertex.
    Hm : (V, n) float32, its magnitude (carried, see the module docstring).
    W, b, aW, ab : the layer and the absolute values of its weights.

    Returns
    -------
    H', Hm' : (V', m) the next layer's input and magnitude at every vertex;
    parent : (R',) region at the start of the layer; active : (R', ceil(m/8)) packed states;
    partial : bool (stopped at ``max_regions``).

    Ring slots past a region's length hold a copy of its first vertex, so
    "some vertex is positive" needs no mask.

    In the first layer (``first``: the input is ``(u, v)`` itself) every
    line is straight, and only regions whose bounding box meets it (within
    a margin of 1e-9 of its magnitude, far above the vertex tolerance) are
    looked at; the others lie strictly on one side.
    """
    V0 = mesh.V
    m = W.shape[0]
    R0 = mesh.R
    # values and magnitudes of the pre-activations at the vertices
    cap = max(2 * V0 + 64, V0 + 4 * R0)
    Zg = _Grow(np.empty((0, m)), cap)
    Zg.n = V0
    np.matmul(H, W.T, out=Zg.a[:V0])
    Zg.a[:V0] += b  # (V0, m)
    Mg = _Grow(np.empty((0, m), dtype=np.float32), cap)
    Mg.n = V0
    np.matmul(Hm, aW.T.astype(np.float32), out=Mg.a[:V0])  # (V0, m) float32: a tolerance
    Mg.a[:V0] += ab.astype(np.float32)
    mesh.uv.reserve(cap - V0)
    del H, Hm
    # which parents have both signs for which neuron (packed bits, OR over rings)
    ring0, nv0 = mesh.ring[:R0], mesh.nv[:R0]
    nbytes = (m + 7) // 8
    vpos = np.empty((V0, nbytes), dtype=np.uint8)  # (V0, nbytes) packed z > tol
    vneg = np.empty_like(vpos)  # packed z < -tol
    step = max(1, (1 << 16) // max(m, 1))
    for s in range(0, V0, step):  # chunks of vertices stay in cache
        e = min(V0, s + step)
        z = Zg.a[s:e]
        t = Mg.a[s:e] * np.float32(ZERO_RTOL)
        vpos[s:e] = np.packbits(z > t, axis=1)
        vneg[s:e] = np.packbits(z < -t, axis=1)
    P = _or_over_rings(vpos, ring0, nv0)  # (R0, nbytes) some vertex positive
    N = _or_over_rings(vneg, ring0, nv0)  # some vertex negative
    del vpos, vneg
    crossedT = np.unpackbits(P & N, axis=1, count=m).view(bool).T.copy()  # (m, R0)
    ncross = crossedT.sum(axis=1)  # (m,) parents crossed by each neuron
    act = _Grow(P, R0 + int(ncross.sum()) + 16)  # (R, nbytes) packed states, inherited from the parent
    del N
    parent = _Grow(np.arange(R0, dtype=np.int64), act.a.shape[0])
    partial = False
    f32tol = np.float32(ZERO_RTOL)
    if first:  # bounding boxes (R, 4): u_lo, u_hi, v_lo, v_hi
        C = mesh.uv.a[:V0]
        bb = _Grow(np.array([[C[:, 0].min(), C[:, 0].max(), C[:, 1].min(), C[:, 1].max()]]), R0 + int(ncross.sum()) + 16)
        reach = np.abs(C).max(axis=0) + float(np.ptp(C, axis=0).max())  # (2,)
        margin = 1e-9 * (np.abs(W) @ reach + np.abs(b))  # (m,)
    for j in np.flatnonzero(ncross):
        R = mesh.R
        jb, bit = j >> 3, np.uint8(128 >> (j & 7))
        if first:
            B = bb.a[:R]
            w0, w1 = W[j]
            lo0, hi0 = np.minimum(w0 * B[:, 0], w0 * B[:, 1]), np.maximum(w0 * B[:, 0], w0 * B[:, 1])
            lo1, hi1 = np.minimum(w1 * B[:, 2], w1 * B[:, 3]), np.maximum(w1 * B[:, 2], w1 * B[:, 3])
            zmin, zmax = lo0 + lo1 + b[j], hi0 + hi1 + b[j]
            col = act.a[:R, jb]
            act.a[:R, jb] = np.where(zmin >= margin[j], col | bit, col & ~bit)  # strictly on one side
            cand = np.flatnonzero((zmin < margin[j]) & (zmax > -margin[j]))
            if cand.size == 0:
                continue
        elif ncross[j] == R0:  # every parent
            cand = np.arange(R)
        else:
            mark = crossedT[j]
            cand = np.flatnonzero(mark)
            if R > R0:
                cand = np.concatenate([cand, R0 + np.flatnonzero(mark[parent.a[R0:R]])])
        rv = mesh.ring[cand]  # (c, K) vertex ids, padded with the first vertex
        z = Zg.a[rv, j]  # (c, K)
        tol = Mg.a[rv, j] * f32tol
        pos = z > tol
        neg = z < -tol
        haspos = pos.any(axis=1)
        col = act.a[cand, jb]
        act.a[cand, jb] = np.where(haspos, col | bit, col & ~bit)
        cut = haspos & neg.any(axis=1)
        if not cut.any():
            continue
        cp = cand[cut]
        rv, pos, neg, z = rv[cut], pos[cut], neg[cut], z[cut]
        cnt = mesh.nv[cp]
        c, K = rv.shape
        ar = np.arange(K)
        valid = ar < cnt[:, None]  # (c, K)
        nxt = np.where(ar + 1 < cnt[:, None], ar + 1, 0)  # (c, K) next slot in the ring
        rows_c = np.arange(c)[:, None]
        pos_n = pos[rows_c, nxt]
        neg_n = neg[rows_c, nxt]
        cross = ((pos & neg_n) | (neg & pos_n)) & valid  # (c, K) edge slot -> next crosses
        zero = valid & ~pos & ~neg
        ends_p = (pos & ~pos_n & valid).sum(axis=1)
        ends_n = (neg & ~neg_n & valid).sum(axis=1)
        ok = (ends_p == 1) & (ends_n == 1) & (cross.sum(axis=1) + zero.sum(axis=1) == 2)
        if not ok.all():
            bad = ~ok
            mesh.stats["unsplit"] += int(bad.sum())
            on = np.where(valid[bad], z[bad], 0.0).sum(axis=1) > 0
            col = act.a[cp[bad], jb]
            act.a[cp[bad], jb] = np.where(on, col | bit, col & ~bit)
            cp, rv, pos, neg, valid, cross, zero, nxt = (
                x[ok] for x in (cp, rv, pos, neg, valid, cross, zero, nxt))
            c = cp.shape[0]
            if c == 0:
                continue
        # one new vertex per crossing edge, shared by the edge's two regions
        ri, ci = np.nonzero(cross)
        ea = rv[ri, ci].astype(np.int64)
        eb = rv[ri, nxt[ri, ci]].astype(np.int64)
        ukey, inv = _unique_inverse(np.minimum(ea, eb) * _KEY + np.maximum(ea, eb))
        ulo, uhi = ukey // _KEY, ukey % _KEY
        zl = Zg.a[ulo, j]
        tt = zl / (zl - Zg.a[uhi, j])  # (u,) in (0, 1): the ends have strictly opposite signs
        nu = ukey.shape[0]
        Zg.reserve(nu)
        Mg.reserve(nu)
        mesh.uv.reserve(nu)
        V = Zg.n
        t2 = tt[:, None]
        for g, tv in ((Zg, t2), (Mg, t2.astype(np.float32)), (mesh.uv, t2)):
            out = g.a[V : V + nu]
            lo_rows = g.a[ulo]
            np.subtract(g.a[uhi], lo_rows, out=out)
            out *= tv
            out += lo_rows
        Zg.a[V : V + nu, j] = 0.0
        Zg.n = Mg.n = mesh.uv.n = V + nu
        xid = np.zeros((c, K), dtype=np.int32)
        xid[ri, ci] = V + inv
        # the two rings, as slot pairs (vertex i, crossing after vertex i)
        vals = np.empty((c, 2 * K), dtype=rv.dtype)
        vals[:, 0::2], vals[:, 1::2] = rv, xid
        keep_p = np.empty((c, 2 * K), dtype=bool)
        keep_p[:, 0::2], keep_p[:, 1::2] = valid & ~neg, cross
        keep_n = np.empty((c, 2 * K), dtype=bool)
        keep_n[:, 0::2], keep_n[:, 1::2] = valid & ~pos, cross
        cnt_p = keep_p.sum(axis=1)
        cnt_n = keep_n.sum(axis=1)
        Kn = int(max(cnt_p.max(), cnt_n.max()))
        if Kn > K:
            mesh.widen(Kn)
        K2 = mesh.ring.shape[1]
        mesh.reserve_regions(c)
        R = mesh.R
        newr = np.arange(R, R + c)
        if first:
            bb.n = R
            bb.reserve(c)
        for keep, rows, counts in ((keep_p, cp, cnt_p), (keep_n, newr, cnt_n)):
            rr, cc = np.nonzero(keep)
            slot = (np.cumsum(keep, axis=1, dtype=np.int32) - 1)[rr, cc]
            head = vals[rr[slot == 0], cc[slot == 0]]  # (c,) first vertex of each ring
            out = np.repeat(head[:, None], K2, axis=1).astype(np.int32)
            out[rr, slot] = vals[rr, cc]
            mesh.ring[rows] = out
            mesh.nv[rows] = counts
            if first:
                P2 = mesh.uv.a[out]  # (c, K2, 2); padding repeats a vertex
                lo2, hi2 = P2.min(axis=1), P2.max(axis=1)  # (c, 2)
                bb.a[rows, 0::2], bb.a[rows, 1::2] = lo2, hi2
        mesh.R = R + c
        if first:
            bb.n = R + c
        act.reserve(c)
        parent.reserve(c)
        act.a[R : R + c] = act.a[cp]
        act.a[R : R + c, jb] &= ~bit
        act.a[cp, jb] |= bit
        parent.a[R : R + c] = parent.a[cp]
        act.n = parent.n = R + c
        if max_regions is not None and mesh.R > max_regions:
            partial = True
            break
    # next layer's input at every vertex: h = relu(z), magnitude carried
    V = Zg.n
    Z = Zg.a[:V]
    M = Mg.a[:V]
    for s in range(0, V, step):  # chunks stay in cache
        e = min(V, s + step)
        z, mg = Z[s:e], M[s:e]
        neg = z < -(mg * f32tol)
        if slope == 0.0:
            mg[neg] = 0.0
            np.maximum(z, 0.0, out=z)
        else:
            mg[neg] *= np.float32(slope)
            np.multiply(z, slope, out=z, where=z <= 0)
    R = mesh.R
    return Z, M, parent.a[:R].copy(), act.a[:R].copy(), partial


def _ring_geometry(uv: np.ndarray, ring: np.ndarray, nv: np.ndarray):
    """Areas (R,) and area centroids (R, 2) of the convex rings."""
    R, K = ring.shape
    P = uv[ring]  # (R, K, 2)
    base = P[:, :1, :]
    Q = P - base  # coordinates relative to the first vertex (well conditioned)
    ar = np.arange(K)[None, :]
    nxt = np.where(ar + 1 < nv[:, None], ar + 1, 0)
    Qn = np.take_along_axis(Q, nxt[:, :, None], axis=1)
    valid = ar < nv[:, None]
    cr = np.where(valid, Q[..., 0] * Qn[..., 1] - Q[..., 1] * Qn[..., 0], 0.0)  # (R, K)
    area2 = cr.sum(axis=1)
    cx = (cr * (Q[..., 0] + Qn[..., 0])).sum(axis=1)
    cy = (cr * (Q[..., 1] + Qn[..., 1])).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cen = np.stack([cx, cy], axis=1) / (3.0 * area2[:, None])
    mean = np.where(valid[..., None], Q, 0.0).sum(axis=1) / nv[:, None]
    bad = ~np.isfinite(cen).all(axis=1) | (area2 <= 0)
    cen[bad] = mean[bad]
    return 0.5 * area2, cen + base[:, 0, :]


def _patterns_with_certainty(net: Network, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward patterns at ``X`` and where they are certain, both bool (n, n_hidden).

    A unit's state is uncertain where ``|z| <= ZERO_RTOL * (|W| |h| + |b|)``
    (magnitudes carried through the layers): there the computed sign is
    rounding noise of a value that is zero in exact arithmetic (a unit
    vanishing on a whole region), and either state is consistent.
    """
    H = np.asarray(X, dtype=np.float64)
    Hm = np.abs(H)
    pats, sure = [], []
    for W, b in net.layers[:-1]:
        Z = H @ W.T + b
        M = Hm @ np.abs(W).T + np.abs(b)
        pats.append(Z > 0)
        sure.append(np.abs(Z) > ZERO_RTOL * M)
        H = np.where(Z > 0, Z, net.negative_slope * Z)
        Hm = M
    if not pats:
        n = H.shape[0]
        return np.zeros((n, 0), dtype=bool), np.zeros((n, 0), dtype=bool)
    return np.concatenate(pats, axis=1), np.concatenate(sure, axis=1)


# ------------------------------------------------------------------ results
@dataclass(eq=False)
class PlanarPartition:
    """The activation regions of a network on a convex 2-D domain.

    Coordinates are the domain's parameter coordinates ``(u, v)`` (for a
    2-input network on a box or polygon, the inputs themselves);
    :meth:`points` maps them to the input space.

    Attributes
    ----------
    network : Network
    domain : Domain
    vertices : ndarray, shape (V, 2)
        All vertices of the subdivision (shared between regions).
    ring_offsets : ndarray, shape (R + 1,)
    ring_vertices : ndarray, shape (sum of ring lengths,)
        Region ``i`` is the convex polygon
        ``vertices[ring_vertices[ring_offsets[i]:ring_offsets[i+1]]]``,
        counter-clockwise.
    packed_patterns : ndarray of uint8, shape (R, ceil(n_hidden / 8))
        Activation patterns, bits packed big-endian (:func:`numpy.packbits`);
        see :attr:`patterns` for the bool array.
    jacobians : ndarray, shape (R, n_out, 2)
    offsets : ndarray, shape (R, n_out)
        On region ``i`` the output is ``jacobians[i] @ (u, v) + offsets[i]``.
    areas : ndarray, shape (R,)
    witnesses : ndarray, shape (R, 2)
        One interior point per region (its area centroid).
    layer_counts : tuple of int
        Regions after the first l hidden layers.
    piece_labels : ndarray of int, shape (R,)
        Affine piece of each region (0 .. n_pieces - 1).
    stats : dict
        Diagnostics (``unsplit``: rounding anomalies left uncut, see the
        module docstring; ``seconds``).
    """

    network: Network
    domain: Domain
    vertices: np.ndarray
    ring_offsets: np.ndarray
    ring_vertices: np.ndarray
    packed_patterns: np.ndarray
    jacobians: np.ndarray
    offsets: np.ndarray
    areas: np.ndarray
    witnesses: np.ndarray
    layer_counts: tuple
    piece_labels: np.ndarray
    n_pieces: int
    partial: bool = False
    stats: dict = field(default_factory=dict)
    engine: str = "planar"

    # ------------------------------------------------------------ basics
    @property
    def n_regions(self) -> int:
        return int(self.ring_offsets.shape[0] - 1)

    @property
    def n_hidden(self) -> int:
        return self.network.n_hidden

    @property
    def patterns(self) -> np.ndarray:
        """Activation patterns, bool ``(R, n_hidden)``, layers concatenated."""
        return np.unpackbits(self.packed_patterns, axis=1, count=self.n_hidden).view(bool)

    @property
    def ring_lengths(self) -> np.ndarray:
        return np.diff(self.ring_offsets)

    def polygon(self, i: int) -> np.ndarray:
        """Vertices of region ``i``, counter-clockwise, shape (k, 2)."""
        i = int(i)
        if not (-self.n_regions <= i < self.n_regions):
            raise RegionsError(f"expected a region index in [0, {self.n_regions}), got {i}")
        i %= self.n_regions
        return self.vertices[self.ring_vertices[self.ring_offsets[i] : self.ring_offsets[i + 1]]]

    def polygons(self) -> list[np.ndarray]:
        """All regions as a list of ``(k, 2)`` vertex arrays."""
        return np.split(self.vertices[self.ring_vertices], self.ring_offsets[1:-1])

    def points(self) -> np.ndarray:
        """Witness points in the network's input space, shape (R, input_dim)."""
        return self.domain.to_input(self.witnesses)

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Undirected edges of the subdivision.

        Returns
        -------
        edges : ndarray, shape (E, 2)
            Vertex ids ``(a, b)``.
        faces : ndarray, shape (E, 2)
            The region on the left of ``a -> b`` and the one on its right
            (``-1`` outside the domain).
        """
        off, rv = self.ring_offsets, self.ring_vertices
        region = np.repeat(np.arange(self.n_regions), np.diff(off))
        idx = np.arange(rv.shape[0])
        nxt = idx + 1
        last = off[1:] - 1
        nxt[last] = off[:-1]
        a, b = rv.astype(np.int64), rv[nxt].astype(np.int64)  # directed, region on the left
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        key = lo * _KEY + hi
        order = np.argsort(key, kind="stable")
        key, a, b, region = key[order], a[order], b[order], region[order]
        first = np.concatenate([[True], key[1:] != key[:-1]])
        starts = np.flatnonzero(first)
        E = starts.shape[0]
        edges = np.stack([a[starts], b[starts]], axis=1)
        faces = np.full((E, 2), -1, dtype=np.int64)
        faces[:, 0] = region[starts]
        second = np.flatnonzero(~first)
        eid = np.cumsum(first) - 1
        faces[eid[second], 1] = region[second]
        return edges, faces

    def region_of(self, U) -> np.ndarray:
        """Region index of parameter points ``U`` (n, 2) by their activation pattern; -1 if none."""
        U = np.atleast_2d(np.asarray(U, dtype=np.float64))
        pat = np.packbits(self.network.patterns(self.domain.to_input(U)), axis=1)
        keys = self.packed_patterns
        if keys.shape[1] == 0:
            return np.zeros(U.shape[0], dtype=np.int64)
        kv = keys.view(np.dtype((np.void, keys.shape[1])))[:, 0]
        pv = np.ascontiguousarray(pat).view(np.dtype((np.void, pat.shape[1])))[:, 0]
        order = np.argsort(kv)
        pos = np.searchsorted(kv[order], pv)
        pos = np.minimum(pos, kv.shape[0] - 1)
        hit = kv[order][pos] == pv
        return np.where(hit, order[pos], -1)

    def outputs(self, U) -> np.ndarray:
        """The network's output at parameter points ``U`` (n, 2) through the per-region maps."""
        U = np.atleast_2d(np.asarray(U, dtype=np.float64))
        r = self.region_of(U)
        return np.einsum("nij,nj->ni", self.jacobians[r], U) + self.offsets[r]

    def count(self) -> CountResult:
        return CountResult(self.n_regions, self.n_pieces, list(self.layer_counts), self.engine,
                           partial=self.partial)

    # -------------------------------------------------------------- checks
    def verify(self) -> dict:
        """Check the partition's invariants; raise ``AssertionError`` on failure.

        * areas are positive and sum to the domain's area;
        * each witness lies inside its ring and its forward-pass pattern is
          the region's pattern; patterns are unique;
        * Euler's relation ``V - E + F = 1`` for the planar graph (every
          interior edge shared by exactly two regions, no T-junction);
        * the output maps agree with the network at every region's vertices.

        Returns
        -------
        dict
            ``regions``, ``pieces``, ``vertices``, ``edges``, ``ok``.
        """
        A = self.areas
        assert np.all(A > 0), f"{int(np.sum(A <= 0))} regions without positive area"
        if not self.partial:
            total = float(np.sum(A))
            assert np.isclose(total, self.domain.measure, rtol=1e-9, atol=0), (
                f"areas sum to {total!r}, expected {self.domain.measure!r}"
            )
        # witnesses strictly inside their (convex, CCW) rings
        off, rv = self.ring_offsets, self.ring_vertices
        region = np.repeat(np.arange(self.n_regions), np.diff(off))
        nxt = np.arange(rv.shape[0]) + 1
        nxt[off[1:] - 1] = off[:-1]
        Pa, Pb = self.vertices[rv], self.vertices[rv[nxt]]
        w = self.witnesses[region]
        cross = (Pb[:, 0] - Pa[:, 0]) * (w[:, 1] - Pa[:, 1]) - (Pb[:, 1] - Pa[:, 1]) * (w[:, 0] - Pa[:, 0])
        assert np.all(cross > 0), f"{int(np.sum(cross <= 0))} ring edges do not see their witness on the left"
        X = self.points()
        if not self.partial:
            got, sure = _patterns_with_certainty(self.network, X)
            wrong = (got != self.patterns) & sure
            bad = np.nonzero(np.any(wrong, axis=1))[0]
            assert bad.size == 0, f"{bad.size} witness patterns differ from the recorded ones (first: {bad[:5]})"
        P = self.packed_patterns
        uniq = np.unique(P, axis=0).shape[0] if P.shape[1] else 1
        assert uniq == self.n_regions, f"{self.n_regions - uniq} repeated patterns"
        edges, faces = self.edges()
        used = np.unique(self.ring_vertices).shape[0]
        E = edges.shape[0]
        euler = used - E + self.n_regions
        assert euler == 1, f"Euler's relation fails: V - E + F = {used} - {E} + {self.n_regions} = {euler}, expected 1"
        # boundary edges (one region) lie on the domain's boundary
        outer = faces[:, 1] < 0
        corners = _domain_ring(self.domain)
        Ce = np.roll(corners, -1, axis=0) - corners
        mid = 0.5 * (self.vertices[edges[outer, 0]] + self.vertices[edges[outer, 1]])
        rel = mid[:, None, :] - corners[None]
        dist = np.abs(Ce[None, :, 0] * rel[..., 1] - Ce[None, :, 1] * rel[..., 0]) / np.linalg.norm(Ce, axis=1)
        assert np.all(dist.min(axis=1) <= 1e-9 * self.domain.scale), "an edge with one region lies inside the domain"
        # output maps against the network at all ring vertices
        Vx = self.vertices[rv]
        y = self.network(self.domain.to_input(Vx))
        pred = np.einsum("nij,nj->ni", self.jacobians[region], Vx) + self.offsets[region]
        scale = 1.0 + np.abs(y).max()
        assert np.allclose(pred, y, rtol=1e-7, atol=1e-7 * scale), "output maps disagree with the network"
        return {"regions": self.n_regions, "pieces": self.n_pieces, "vertices": used, "edges": E,
                "unsplit": int(self.stats.get("unsplit", 0)), "ok": True}

    # ---------------------------------------------------------------- interop
    def to_shapely(self):
        """Regions as a numpy array of :class:`shapely.Polygon` (see :mod:`regions.geo`)."""
        from ...interop.geo import to_shapely

        return to_shapely(self)

    def to_geojson(self, path=None, **kwargs):
        """GeoJSON FeatureCollection of the regions (see :func:`regions.geo.to_geojson`)."""
        from ...interop.geo import to_geojson

        return to_geojson(self, path, **kwargs)


# ---------------------------------------------------------------- the walk
def _walk(net: Network, domain: Domain, max_regions: int | None):
    layers, mags = planar_layers(net, domain)
    slope = net.negative_slope
    corners = _domain_ring(domain)
    mesh = _Mesh(corners)
    H = corners.copy()  # (V, 2) input of the first layer
    Hm = (np.abs(corners) + domain.scale).astype(np.float32)  # relative to the domain's scale
    parents, actives, counts = [], [], []
    partial = False
    for (W, b), (aW, ab) in zip(layers[:-1], mags[:-1]):
        H, Hm, parent, active, partial = _cut_layer(mesh, H, Hm, W, b, aW, ab, slope, max_regions,
                                                    first=not parents)
        parents.append(parent)
        actives.append(active)
        counts.append(mesh.R)
        if partial:
            break
    return layers, mags, mesh, (H, Hm), parents, actives, counts, partial


def _patterns(parents, actives, widths, R) -> tuple[np.ndarray, list]:
    """Concatenated packed patterns (R, nbytes) and per-layer bool masks (ancestor order)."""
    blocks = []
    anc = np.arange(R)
    for parent, active, m in zip(reversed(parents), reversed(actives), reversed(widths)):
        blocks.append(np.unpackbits(active[anc], axis=1, count=m))
        anc = parent[anc]
    blocks = blocks[::-1]
    if not blocks:
        return np.zeros((R, 0), dtype=np.uint8), []
    full = np.concatenate(blocks, axis=1)
    return np.packbits(full, axis=1), [bl.view(bool) for bl in blocks]


def _affine_maps(layers, masks, slope, *, mags=None, rows=None, chunk: int = 4096):
    """Output maps ``y = J (u, v) + c`` on regions, from their activation masks.

    Backward pass ``J = W_L D_L W_{L-1} ... D_1 W_0`` with ``D_l`` the
    region's activation mask (``slope`` where inactive); the offset collects
    ``c = b_L + sum_l (W_L D_L ... D_{l+1}) b_l`` on the way.  With ``mags``
    (absolute weights and biases) the same pass gives the magnitude ``|J|``
    instead (sums of absolute values, the size of the rounding of ``J``).
    Chunked over regions; one GEMM per layer and chunk.

    Returns
    -------
    J : (n, n_out, 2), c : (n, n_out)
    """
    use = layers if mags is None else mags
    Wout, bout = use[-1]
    n_out = Wout.shape[0]
    if rows is None:
        rows = np.arange(masks[0].shape[0] if masks else 1)
    n = rows.shape[0]
    J = np.empty((n, n_out, 2))
    C = np.empty((n, n_out))
    for s in range(0, n, chunk):
        r = rows[s : s + chunk]
        k = r.shape[0]
        G = np.broadcast_to(Wout, (k,) + Wout.shape)  # (k, n_out, n_L)
        c = np.broadcast_to(bout, (k, n_out)).copy()
        for l in range(len(masks) - 1, -1, -1):
            D = masks[l][r]  # (k, n_l) bool
            if slope == 0.0:
                G = G * D[:, None, :]
            else:
                G = G * np.where(D, 1.0, slope)[:, None, :]
            W, b = use[l]
            c += G @ b  # (k, n_out)
            G = (G.reshape(k * n_out, -1) @ W).reshape(k, n_out, -1)
        J[s : s + chunk] = G
        C[s : s + chunk] = c
    return J, C


def _output_maps(layers, parents, actives, masks, slope, *, chunk: int = 4096):
    """Exact output maps ``y = J (u, v) + c`` of the final regions: (R, n_out, 2), (R, n_out).

    Meet in the middle: the pre-activation maps of hidden layer ``k`` are
    pushed *forward* on the (few) regions of layer ``k - 1``,
    ``A_{l+1} = W_l D_l A_l + b_l``, and the output's gradient is pulled
    *backward* from the final regions down to layer ``k``; ``k`` is chosen
    to minimise the multiply-adds.  Chunked over the final regions.
    """
    L = len(masks)
    n_out = layers[-1][0].shape[0]
    R = masks[0].shape[0] if L else 1
    sizes = [W.shape[1] for W, _ in layers] + [n_out]  # n_0 = 2, n_1, ..., n_L, n_out
    counts = [1] + [p.shape[0] for p in parents]  # regions after l layers
    best, k = None, 1
    for kk in range(1, L + 1):
        fwd = 3 * sum(counts[l] * sizes[l] * sizes[l + 1] for l in range(1, kk))
        bwd = n_out * R * sum(sizes[l] * sizes[l + 1] for l in range(kk, L))
        if best is None or fwd + bwd < best:
            best, k = fwd + bwd, kk
    # forward: A (R_{k-1}, 3, n_k): rows d/du, d/dv, value at 0 of hidden layer k's pre-activations
    W0, b0 = layers[0]
    A = np.stack([W0[:, 0], W0[:, 1], b0])[None]  # (1, 3, n_1) on the domain
    for l in range(1, k):
        D = np.unpackbits(actives[l - 1], axis=1, count=sizes[l]).view(bool)  # (R_l, n_l)
        Al = A[parents[l - 1]]  # (R_l, 3, n_l)
        Al *= D[:, None, :] if slope == 0.0 else np.where(D, 1.0, slope)[:, None, :]
        W, b = layers[l]
        A = (Al.reshape(-1, sizes[l]) @ W.T).reshape(Al.shape[0], 3, -1)  # one GEMM
        A[:, 2, :] += b
    if L == 0:
        return A[:, :2, :].transpose(0, 2, 1).copy(), A[:, 2, :].copy()
    # ancestors of the final regions at layer k - 1
    anc = np.arange(R)
    for l in range(L - 1, k - 2, -1):
        anc = parents[l][anc]
    J = np.empty((R, n_out, 2))
    C = np.empty((R, n_out))
    Wout, bout = layers[-1]
    for s in range(0, R, chunk):
        r = np.arange(s, min(R, s + chunk))
        n = r.shape[0]
        G = np.broadcast_to(Wout, (n,) + Wout.shape)  # (n, n_out, n_L)
        c = np.broadcast_to(bout, (n, n_out)).copy()
        for l in range(L, k - 1, -1):  # hidden layers L .. k
            D = masks[l - 1][r]
            G = G * (D[:, None, :] if slope == 0.0 else np.where(D, 1.0, slope)[:, None, :])
            if l > k:
                W, b = layers[l - 1]
                c += G @ b
                G = (G.reshape(n * n_out, -1) @ W).reshape(n, n_out, -1)  # one GEMM
        Ak = A[anc[r]]  # (n, 3, n_k)
        for o in range(n_out):  # contraction over n_k, vectorised over regions
            M = np.einsum("rk,rck->rc", G[:, o, :], Ak)
            J[r, o] = M[:, :2]
            C[r, o] = M[:, 2] + c[:, o]
    return J, C


def _build(net: Network, domain: Domain, max_regions: int | None, *, patterns: bool = True):
    layers, mags, mesh, HHm, parents, actives, counts, partial = _walk(net, domain, max_regions)
    R = mesh.R
    K = int(mesh.nv[:R].max())
    ring, nv = mesh.ring[:R, :K], mesh.nv[:R]
    uv = mesh.uv.a[: mesh.V]
    widths = [W.shape[0] for W, _ in layers[:-1]]
    if partial:  # the layer being processed is incomplete: report what exists
        widths = widths[: len(parents)]
    packed, masks = _patterns(parents, actives, widths, R) if patterns else (None, None)
    return layers, mags, mesh, uv, ring, nv, packed, masks, counts, partial, parents, actives, HHm


def _adjacent_pairs(ring: np.ndarray, nv: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pairs of regions sharing an edge and that edge's end vertices, four arrays (P,)."""
    R, K = ring.shape
    ar = np.arange(K)[None, :]
    valid = ar < nv[:, None]
    nxt = np.where(ar + 1 < nv[:, None], ar + 1, 0)
    a = ring[valid].astype(np.int64)
    b = np.take_along_axis(ring, nxt, axis=1)[valid].astype(np.int64)
    region = np.broadcast_to(np.arange(R)[:, None], ring.shape)[valid]
    key = np.minimum(a, b) * _KEY + np.maximum(a, b)
    order = np.argsort(key)
    key, region, a, b = key[order], region[order], a[order], b[order]
    same = np.flatnonzero(key[1:] == key[:-1])
    return region[same], region[same + 1], a[same], b[same]


def _pieces(ring, nv, J, layers, mags, masks, slope) -> tuple[np.ndarray, int]:
    """Connected components of neighbouring regions with equal output Jacobians.

    Two neighbours are one piece when ``|J_r - J_s| <= PIECE_RTOL (|J|_r + |J|_s)``
    entrywise, ``|J|`` the Jacobian computed with absolute values.  The
    magnitudes are computed only for pairs that already agree to 1e-6.
    """
    R = ring.shape[0]
    r1, r2, _, _ = _adjacent_pairs(ring, nv)
    d = np.abs(J[r1] - J[r2])
    loose = np.all(d <= 1e-6 * (np.abs(J[r1]) + np.abs(J[r2])).max(axis=(1, 2), keepdims=True), axis=(1, 2))
    r1, r2, d = r1[loose], r2[loose], d[loose]
    if r1.size:
        need = np.unique(np.concatenate([r1, r2]))
        JM, _ = _affine_maps(layers, masks, slope, mags=mags, rows=need)
        where = np.searchsorted(need, r1), np.searchsorted(need, r2)
        eq = np.all(d <= PIECE_RTOL * (JM[where[0]] + JM[where[1]]), axis=(1, 2))
        r1, r2 = r1[eq], r2[eq]
    return merge_pieces(R, r1, r2)


def _pieces_from_vertices(ring, nv, uv, HHm, layers, mags, masks, slope) -> tuple[np.ndarray, int]:
    # masks: a callable returning the per-layer masks of the final regions (built only if needed)
    """Affine pieces without every region's Jacobian (the count-only path).

    Two neighbours ``r``, ``s`` across the edge ``a b`` have one output map
    iff the output is affine on their union, i.e. iff its value at the
    vertex mean ``c_s`` of ``s`` is the affine extrapolation of its values
    at ``a``, ``b`` and the vertex mean ``c_r`` of ``r``:
    ``c_s = a + alpha (b - a) + beta (c_r - a)``.  The output at a vertex
    mean is the mean of the outputs at the vertices (the output is affine on
    the region), and those come from the walk.  Where the mismatch exceeds
    ``8 ZERO_RTOL`` times their magnitude times ``1 + |alpha| + |beta|``
    (the rounding of the extrapolation), the maps certainly differ.  The
    other pairs (none in a generic network) are decided exactly by their
    Jacobians, as in :func:`_pieces`.
    """
    R, K = ring.shape
    H, Hm = HHm
    Wout, bout = layers[-1]
    aWout, about = mags[-1]
    y = H @ Wout.T + bout  # (V, n_out) output at every vertex
    ym = (Hm.astype(np.float64) @ aWout.T + about).max(axis=1)  # (V,) its magnitude
    ar = np.arange(K)[None, :]
    valid = ar < nv[:, None]
    w = valid / nv[:, None]  # (R, K) weights of the vertex mean
    cen = np.einsum("rk,rkd->rd", w, uv[ring])  # (R, 2) vertex means
    ycen = np.einsum("rk,rkd->rd", w, y[ring])  # (R, n_out) output there
    ymag = ym[ring].max(axis=1)  # (R,) padding repeats a vertex: harmless
    r1, r2, ea, eb = _adjacent_pairs(ring, nv)
    A = uv[ea]  # (P, 2)
    d = uv[eb] - A
    e1, e2 = cen[r1] - A, cen[r2] - A
    det = d[:, 0] * e1[:, 1] - d[:, 1] * e1[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = (e2[:, 0] * e1[:, 1] - e2[:, 1] * e1[:, 0]) / det
        beta = (d[:, 0] * e2[:, 1] - d[:, 1] * e2[:, 0]) / det
        ya = y[ea]
        pred = ya + alpha[:, None] * (y[eb] - ya) + beta[:, None] * (ycen[r1] - ya)
        mis = np.abs(ycen[r2] - pred).max(axis=1)
        mag = np.maximum(np.maximum(ym[ea], ym[eb]), np.maximum(ymag[r1], ymag[r2]))
        bound = 8 * ZERO_RTOL * mag * (1 + np.abs(alpha) + np.abs(beta))
    differ = np.isfinite(bound) & (mis > bound)
    r1, r2 = r1[~differ], r2[~differ]
    if r1.size:
        need = np.unique(np.concatenate([r1, r2]))
        mk = masks()
        J, _ = _affine_maps(layers, mk, slope, rows=need)
        JM, _ = _affine_maps(layers, mk, slope, mags=mags, rows=need)
        i1, i2 = np.searchsorted(need, r1), np.searchsorted(need, r2)
        eq = np.all(np.abs(J[i1] - J[i2]) <= PIECE_RTOL * (JM[i1] + JM[i2]), axis=(1, 2))
        r1, r2 = r1[eq], r2[eq]
    return merge_pieces(R, r1, r2)


# ---------------------------------------------------------------- public API
def partition_plane(net: Network, domain: Domain | None = None, *,
                    max_regions: int | None = None) -> PlanarPartition:
    """Partition a convex 2-D domain into the network's activation regions, exactly.

    Parameters
    ----------
    net : Network
    domain : Domain, optional
        A :func:`~regions.domains.box` of a 2-input network (default
        ``[-1, 1]^2``), a convex :func:`~regions.domains.polygon`, or a
        plane slice through any input space (:func:`~regions.domains.plane`,
        :func:`~regions.domains.plane_through`).  Must be bounded.
    max_regions : int, optional, keyword-only
        Stop once more regions than this exist; the partition is then
        flagged ``partial`` (its regions are those of the first layers and
        part of the layer being processed).

    Returns
    -------
    PlanarPartition

    Examples
    --------
    >>> net = Network.from_arch("2-8-1", seed=0)
    >>> part = partition_plane(net)
    >>> part.verify()["ok"]
    True
    """
    import time

    t0 = time.perf_counter()
    domain = _default_domain(net, domain)
    if max_regions is not None and int(max_regions) < 1:
        raise RegionsError(f"expected max_regions >= 1, got {max_regions!r}")
    layers, mags, mesh, uv, ring, nv, packed, masks, counts, partial, parents, actives, HHm = _build(
        net, domain, max_regions)
    areas, wit = _ring_geometry(uv, ring, nv)
    if partial:
        n_out = layers[-1][0].shape[0]
        J = np.full((ring.shape[0], n_out, 2), np.nan)
        off = np.full((ring.shape[0], n_out), np.nan)
        labels, n_pieces = np.arange(ring.shape[0]), ring.shape[0]
    else:
        J, off = _output_maps(layers, parents, actives, masks, net.negative_slope)
        labels, n_pieces = _pieces(ring, nv, J, layers, mags, masks, net.negative_slope)
    lengths = nv.astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    flat = ring[np.arange(ring.shape[1])[None, :] < nv[:, None]]
    return PlanarPartition(
        network=net,
        domain=domain,
        vertices=uv.copy(),
        ring_offsets=offsets,
        ring_vertices=flat.astype(np.int64),
        packed_patterns=packed,
        jacobians=J,
        offsets=off,
        areas=areas,
        witnesses=wit,
        layer_counts=tuple(counts),
        piece_labels=labels,
        n_pieces=n_pieces,
        partial=partial,
        stats={"unsplit": mesh.stats["unsplit"], "seconds": time.perf_counter() - t0},
    )


def count_plane(net: Network, domain: Domain | None = None, *,
                max_regions: int | None = None) -> CountResult:
    """Count the activation regions and affine pieces on a convex 2-D domain.

    Same numbers as ``partition_plane(net, domain).count()``, without
    keeping the geometry: patterns are never assembled (only the last
    layer's masks and the ancestry are kept) and the Jacobians are computed
    in chunks.

    Parameters
    ----------
    max_regions : int, optional, keyword-only
        Stop once more regions than this exist; the result is flagged
        ``partial`` and its numbers are lower bounds; ``pieces`` is None.
    """
    domain = _default_domain(net, domain)
    if max_regions is not None and int(max_regions) < 1:
        raise RegionsError(f"expected max_regions >= 1, got {max_regions!r}")
    layers, mags, mesh, uv, ring, nv, _, _, counts, partial, parents, actives, HHm = _build(
        net, domain, max_regions, patterns=False)
    if partial:
        return CountResult(int(ring.shape[0]), None, counts, "planar", partial=True)
    widths = [W.shape[0] for W, _ in layers[:-1]]

    def masks():
        return _patterns(parents, actives, widths, ring.shape[0])[1]

    _, n_pieces = _pieces_from_vertices(ring, nv, uv, HHm, layers, mags, masks, net.negative_slope)
    return CountResult(int(ring.shape[0]), n_pieces, counts, "planar",
                       extra={"unsplit": mesh.stats["unsplit"]} if mesh.stats["unsplit"] else {})
