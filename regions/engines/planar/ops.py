"""The 2-D mesh engine for op networks: residual, concat, max pooling, maxout, per-unit slopes, clamps.

Works on a :class:`regions.model.ops.Lowered` chain (hidden layers
``z = W s + b`` followed by :class:`~regions.model.ops.Units`, then an
output map) on a bounded convex 2-D domain: a box of a 2-input network, a
convex polygon, or a plane slice of any input space (the slice's affine map
from ``R^2`` is composed into the first layer).  The lowering keeps every
tensor that later operations need (skip connections, concatenated inputs)
as linear carries in the state vector, so the state at a vertex is the
value of every live tensor there.

Definition
----------
As in :mod:`regions.model.ops`: an activation region is a maximal set on
which every bending elementwise unit keeps one side (pre-activation ``> 0``
or ``<= 0``) and every max group keeps one selected candidate; candidates
computing the same affine function on a region do not split it (the
lowest index wins).  Regions are convex polygons.

Algorithm
---------
The subdivision is the planar kernel's (:mod:`regions.engines.planar.kernel`):
shared vertices carrying the current layer's pre-activations ``Z`` and
their magnitudes (``|W| |s| + |b|``, carried along interpolations), and
convex counter-clockwise rings of vertex ids.  Every operation on the state
is continuous, so a vertex's value does not depend on the region it is
seen from.  Each cut is one *split function* ``f``, continuous and affine
on every current region, decided at every vertex with the kernel's rule
(``+`` if ``f > ZERO_RTOL * mag``, ``-`` if ``f < -ZERO_RTOL * mag``, else
on the line), cut over all regions at once with one shared vertex per
crossed edge (no T-junction, no zero-area sliver):

* a bending elementwise unit ``j`` (ReLU, LeakyReLU, PReLU with its own
  slope, each of a clamp's two breakpoints): ``f = z_j``;
* a max group with candidates ``c_0 .. c_{k-1}``: a tournament.  Every
  vertex carries the running maximum ``m_i = max(c_0 .. c_{i-1})``
  (continuous; affine on every region, whose winner among the first ``i``
  is fixed), and candidate ``i`` cuts by ``f = c_i - m_i``: where ``f > 0``
  it wins (strictly: ties keep the lower index), elsewhere the winner
  stays.  A candidate equal to the running winner on a region (duplicate
  candidates, equal affine functions) is on the line at every vertex and
  cuts nothing.  The tournament splits the cell of a late winner across
  the cells of earlier ones; after the layer, the regions of one parent
  (region at the start of the layer) with one selection in every group are
  the pieces of one convex cell and are merged: their shared edges
  (vertex pairs met twice) are dropped and the remaining directed edges
  chained into one ring (vertices where a dropped edge met the boundary
  stay, collinear).  A boundary that does not close into one cycle
  (possible only through a rounding anomaly) raises
  :class:`~regions.errors.NumericalError`; :mod:`regions.engines.opgraph`
  then falls back to the LP op walk.

After a layer, every vertex gets the layer's output (per-unit slopes, the
max of each group) with its magnitude, and the next layer's
pre-activations follow.  As in the kernel, a unit is looked at only in the
regions whose parent it crosses (first layer: whose bounding box meets its
line), and a max candidate only in the regions with a vertex where it beats
the running maximum.

Scale
-----
The first layer's signs that float64 cannot decide at the domain's size
are refused as in the kernel, and so is a domain wider than
``PARTITION_WIDE`` times the farthest first features (unit lines and
candidate ties): vertices interpolated along edges that long lose the
features without an undecided sign (:func:`_refuse_wide`).  Both raise
:class:`~regions.errors.NumericalError`.

Output maps and pieces
----------------------
The output map of each region is computed exactly from its selections
(over the lowered layers, vectorised over regions), not fitted to vertex
values; neighbouring regions (sharing an edge) whose output Jacobians
agree to ``PIECE_RTOL`` of their absolute-value magnitudes are one affine
piece (the output is continuous).  See :mod:`.ops_result`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ...core.patterns import pack
from ...core.tolerances import ZERO_RTOL
from ...domains import Domain
from ...errors import NumericalError, RegionsError
from ...model.ops import Lowered
from .kernel import _BOX_MIN, _Grow, _Mesh, _split_rings, _start_mesh, _undecided, _unique_inverse
from .ops_result import OpPlanarPartition, _ancestry, _output_maps, _patterns, _pieces
from .rings import EDGE_KEY, ring_geometry

__all__ = ["OpPlanarPartition", "partition_planar_ops"]


# ------------------------------------------------------------------ the cut
def _cut(mesh: _Mesh, G: _Grow, cand: np.ndarray, f: np.ndarray, pos_v: np.ndarray, neg_v: np.ndarray):
    """Cut the regions ``cand`` by the sign of a split function, as the planar kernel cuts by a neuron.

    ``f`` is the function at every vertex, ``pos_v`` / ``neg_v`` its signs
    there (``f > tol``, ``f < -tol`` with ``tol`` ``ZERO_RTOL`` times its
    magnitude; otherwise on the line).  Returns ``haspos``
    (per ``cand``): some vertex of the region (after the cut: of its ``+``
    part) has ``f > tol``; ``cp``: the regions cut, whose ``-`` parts are the
    new regions ``R0 .. R0 + len(cp) - 1`` (the ``+`` parts keep the slots);
    ``new``: the ids of the new vertices (on the line: the caller sets ``f``
    to exactly 0 there).
    """
    R0 = mesh.R
    ring = mesh.ring
    K = ring.shape[1]
    rvx = np.empty((cand.shape[0], K + 1), dtype=ring.dtype)  # closed rings: slot K = slot 0
    rvx[:, :K] = ring[cand]
    rvx[:, K] = rvx[:, 0]
    posx = pos_v[rvx]
    negx = neg_v[rvx]
    haspos = posx.any(axis=1)  # ring padding repeats the first vertex
    cut = haspos & negx.any(axis=1)
    none = np.zeros(0, dtype=np.intp), np.arange(G.n, G.n)
    if not cut.any():
        return (haspos, *none)
    cp = cand[cut]
    rvx, posx, negx = rvx[cut], posx[cut], negx[cut]
    pos, neg = posx[:, :K], negx[:, :K]
    pos_n, neg_n = posx[:, 1:], negx[:, 1:]
    valid = np.arange(K) < mesh.nv[cp][:, None]
    cross = (pos & neg_n) | (neg & pos_n)
    zero = valid & ~(pos | neg)
    ends = (pos & ~pos_n) | (neg & ~neg_n)
    runs = ends.sum(axis=1) + cross.sum(axis=1) + zero.sum(axis=1)
    ok = runs == 4  # one + run, one - run, two crossings or zeros: a convex ring cut once
    if not ok.all():  # rounding gave an impossible sign sequence: not cut, the mean's sign decides
        bad = ~ok
        mesh.stats["unsplit"] += int(bad.sum())
        where = np.flatnonzero(cut)[bad]
        haspos[where] = np.where(valid[bad], f[rvx[bad, :K]], 0.0).sum(axis=1) > 0
        cp, rvx, pos, neg, valid, cross = (x[ok] for x in (cp, rvx, pos, neg, valid, cross))
        if cp.size == 0:
            return (haspos, *none)
    c = cp.shape[0]
    rv = rvx[:, :K]
    ri, ci = cross.nonzero()
    ea = rvx[ri, ci].astype(np.int64)
    eb = rvx[ri, ci + 1].astype(np.int64)
    ukey, inv = _unique_inverse(np.minimum(ea, eb) * EDGE_KEY + np.maximum(ea, eb))
    ulo, uhi = np.divmod(ukey, EDGE_KEY)
    zl, zh = f[ulo], f[uhi]
    near_hi = np.abs(zh) < np.abs(zl)  # interpolate from the end nearer the crossing
    ulo, uhi = np.where(near_hi, uhi, ulo), np.where(near_hi, ulo, uhi)
    zl, zf = np.where(near_hi, zh, zl), np.where(near_hi, zl, zh)
    tt = zl / (zl - zf)
    nu = ukey.shape[0]
    G.reserve(nu)
    V = G.n
    lo_rows = G.a[ulo]
    G.a[V : V + nu] = lo_rows + tt[:, None] * (G.a[uhi] - lo_rows)
    G.n = V + nu
    xid = np.zeros((c, K), dtype=np.int32)
    xid[ri, ci] = V + inv
    _split_rings(mesh, cp, rv, xid, valid, pos, neg, cross)
    mesh.R = R0 + c
    return haspos, cp, np.arange(V, V + nu)


def _merge(mesh: _Mesh, lab: np.ndarray) -> np.ndarray:
    """Merge the regions with one label into one ring each; returns the kept regions (old ids, ascending).

    Regions with one label tile a convex cell; each is a convex ring whose
    shared edges with the others use the same vertex pairs (no T-junction).
    """
    R = mesh.R
    _, lab = np.unique(lab, axis=0, return_inverse=True)
    lab = lab.reshape(-1)
    size = np.bincount(lab)
    if size.max() == 1:
        return np.arange(R)
    rows = np.flatnonzero(size[lab] > 1)
    ring, nv = mesh.ring[rows], mesh.nv[rows]
    K = ring.shape[1]
    ar = np.arange(K)[None, :]
    valid = ar < nv[:, None]
    nxt = np.where(ar + 1 < nv[:, None], ar + 1, 0)
    a = ring[valid].astype(np.int64)
    b = np.take_along_axis(ring, nxt, axis=1)[valid].astype(np.int64)
    L = np.broadcast_to(lab[rows][:, None], ring.shape)[valid].astype(np.int64)
    key = np.minimum(a, b) * EDGE_KEY + np.maximum(a, b)
    order = np.lexsort((key, L))
    ks, Ls = key[order], L[order]
    dup = (ks[1:] == ks[:-1]) & (Ls[1:] == Ls[:-1])
    drop = np.zeros(ks.shape[0], dtype=bool)
    drop[1:] |= dup
    drop[:-1] |= dup
    e = order[~drop]
    a, b, L = a[e], b[e], L[e]
    Vn = np.int64(max(int(a.max()), int(b.max())) + 1)
    skey = L * Vn + a
    srt = np.argsort(skey, kind="stable")
    skey, a, b, L = skey[srt], a[srt], b[srt], L[srt]
    if (skey[1:] == skey[:-1]).any():
        raise NumericalError("expected the pieces of a max cell to bound one convex polygon, got a vertex "
                             "on its boundary twice (a rounding anomaly)")
    first = np.flatnonzero(np.r_[True, L[1:] != L[:-1]])
    n_e = np.diff(np.r_[first, L.shape[0]])
    groups = L[first]
    Kn = int(n_e.max())
    new = np.empty((first.shape[0], Kn), dtype=np.int64)
    cur = a[first]
    for k in range(Kn):  # one step round every merged ring at once
        new[:, k] = cur
        idx = np.searchsorted(skey, groups * Vn + cur)
        idx = np.minimum(idx, skey.shape[0] - 1)
        if not (skey[idx] == groups * Vn + cur).all():
            raise NumericalError("expected the pieces of a max cell to bound one convex polygon, got an "
                                 "open boundary (a rounding anomaly)")
        cur = np.where(k + 1 < n_e, b[idx], cur)
        if ((k + 1 < n_e) & (cur == new[:, 0])).any():
            raise NumericalError("expected the pieces of a max cell to bound one convex polygon, got a "
                                 "boundary of several cycles (a rounding anomaly)")
    closed = b[np.searchsorted(skey, groups * Vn + new[np.arange(new.shape[0]), n_e - 1])]
    if not (closed == new[:, 0]).all():
        raise NumericalError("expected the pieces of a max cell to bound one convex polygon, got a boundary "
                             "of several cycles (a rounding anomaly)")
    new = np.where(np.arange(Kn)[None, :] < n_e[:, None], new, new[:, :1])
    rep = np.full(size.shape[0], R, dtype=np.int64)
    np.minimum.at(rep, lab, np.arange(R))
    mesh.widen(Kn)
    slots = rep[groups]
    mesh.ring[slots, :Kn] = new
    mesh.ring[slots, Kn:] = new[:, :1]
    mesh.nv[slots] = n_e
    keep = np.sort(rep)
    n = keep.shape[0]
    mesh.ring[:n] = mesh.ring[keep]
    mesh.nv[:n] = mesh.nv[keep]
    mesh.R = n
    return keep


# ----------------------------------------------------------------- the walk
@dataclass
class _Walk:
    uv: np.ndarray
    ring: np.ndarray
    nv: np.ndarray
    parents: list   # per layer: (R_l,) region of layer l - 1
    states: list    # per layer: bool (R_l, n_split) sides, or int (R_l, n_groups) winners (unit ids)
    counts: list
    partial: bool
    stats: dict
    #: The mesh and the vertices' carrier values (and magnitudes) where the walk stopped (split runs).
    mesh: _Mesh | None = None
    H: np.ndarray | None = None
    Hm: np.ndarray | None = None


def _first_layer(low: Lowered, domain: Domain):
    """The first lowered layer on the parameter plane and its magnitudes ``(|W|, |b|)``."""
    W0, b0 = low.layers[0]
    if domain.basis is not None:
        if W0.shape[1] != domain.input_dim:
            raise RegionsError(f"expected a network with {domain.input_dim} inputs, got {W0.shape[1]}")
        aW0 = np.abs(W0)
        return (W0 @ domain.basis, b0 + W0 @ domain.origin), (aW0 @ np.abs(domain.basis),
                                                            np.abs(b0) + aW0 @ np.abs(domain.origin))
    if W0.shape[1] != 2:
        raise RegionsError(f"expected a network with 2 inputs for this {domain.kind}, got {W0.shape[1]}")
    return (W0, b0), (np.abs(W0), np.abs(b0))


# Widest domain, in radii of the farthest first features (see :func:`_refuse_wide`), that each op-graph
# engine is trusted with.  Measured, not proved: on the residual and maxout-with-ties graphs of
# tests/test_planar_ops.py the mesh was exact up to ~4e8 radii and lost regions at ~4e11, the LP op
# walk (absolute Chebyshev and HiGHS tolerances) was exact up to ~4e2 radii and lost regions at ~4e5;
# both limits keep a factor of at least 16 below the first loss.  Wider domains are refused for
# partitions; counts of boxes, slices and polygons wider than regions.engines.ops_wide.WIDE_TRIGGER
# (2^6) feature radii never reach these engines (the regions of the whole space that meet the box).
OPS_WIDE = {"planar": 2.0**26, "lp": 2.0**12}


def _plane_layers(low: Lowered, domain: Domain) -> list:
    """The lowered layers with the first one on the domain's own coordinates."""
    W0, b0 = low.layers[0]
    if domain.basis is not None:
        W0, b0 = W0 @ domain.basis, b0 + W0 @ domain.origin
    return [(W0, b0), *low.layers[1:]]


def refuse_wide(low: Lowered, domain: Domain, engine: str) -> None:
    """Refuse a bounded domain too wide for the op-graph ``engine`` (``"planar"`` or ``"lp"``).

    See :data:`OPS_WIDE`; unbounded domains pass (the LP walk decides them
    by rays).
    """
    if domain.bounded:
        _refuse_wide(low, _plane_layers(low, domain), domain, factor=OPS_WIDE[engine], engine=engine)


def _refuse_wide(low: Lowered, layers: list, domain: Domain, *, factor: float = OPS_WIDE["planar"],
                 engine: str = "planar") -> None:
    """Refuse a domain wider than ``factor`` times the network's farthest first features (:func:`feature_reach`).

    On a domain wider than ``factor`` times that, vertices interpolated
    along edges as long as the domain lose the features without any sign
    being undecided (the planar kernel refuses such boxes too; features
    nearer the origin than float64's resolution at the domain's size are
    below what any float64 engine can tell).
    """
    lo, hi = np.asarray(domain.lo, dtype=np.float64), np.asarray(domain.hi, dtype=np.float64)
    c = np.clip(0.0, lo, hi)
    ext = float(np.max(np.maximum(np.abs(lo - c), np.abs(hi - c))))
    rho = feature_reach(low, layers)
    if rho is not None and ext > factor * rho:
        raise NumericalError(
            f"expected a domain within {factor:.3g} feature radii for the op-graph engine "
            f"{engine!r}, got a half-width of {ext:.3g} around features at most {rho:.3g} from "
            f"the origin (at that size float64 loses the features): use a smaller domain")


def feature_reach(low: Lowered, layers: list) -> float | None:
    """Max-norm distance from the origin of the network's farthest first features, or None (none).

    Features are every bending unit's line and every tie of two candidates
    of a max group (their difference rows; an offset within ``ZERO_RTOL`` of
    the offsets it is the difference of is rounding, no offset).  In the
    first layer (``layers``: on the parameter plane) with a non-zero offset,
    the farthest of them lies at ``max_i |b_i| / (||W_i||_1 L)`` from the
    origin (max norm; ``L`` the Lipschitz constants of the layers before).
    None where no layer has an offset (every feature through the origin:
    a cone arrangement, the same at every scale) or the bound overflows.
    Positive rescaling of the input rescales it.
    """
    lip = 1.0
    for (W, b), u in zip(layers[:-1], low.units):
        if u.groups is not None:
            i, j = [], []
            for g in u.groups:
                a, k = np.triu_indices(g.size, 1)
                i.append(g[a]), j.append(g[k])
            i, j = np.concatenate(i), np.concatenate(j)
            F, f, fmag = W[i] - W[j], b[i] - b[j], np.abs(b[i]) + np.abs(b[j])
        else:
            F, f = W[u.splitting], b[u.splitting]
            fmag = np.abs(f)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            rows = np.abs(F).sum(axis=1) * lip
            nz = (np.abs(f) > ZERO_RTOL * fmag) & (rows > 0) & np.isfinite(rows)  # rounding is no offset
            if nz.any():
                rho = float(np.max(np.abs(f[nz]) / rows[nz]))
                return rho if np.isfinite(rho) and rho > 0 else None
            lip *= float(np.abs(W).sum(axis=1).max(initial=0.0))
        if not (np.isfinite(lip) and lip > 0):
            return None
    return None


def _walk(low: Lowered, domain: Domain, max_regions: int | None, *, stop: int | None = None,
          start: tuple | None = None) -> tuple[_Walk, list, list]:
    """The walk over hidden layers ``0 .. stop - 1`` (all by default).

    ``start``: ``(layer, mesh, H, Hm)``, a mesh after ``layer`` hidden layers
    (a split run's prefix regions, :mod:`.ops_split`) and its vertices'
    carrier values: the walk goes on from there.  Every region is cut on its
    own by the values at its own vertices, so a run of regions walks on to
    the same final regions as in the whole walk.
    """
    first, first_mag = _first_layer(low, domain)
    layers = [first, *low.layers[1:]]
    _refuse_wide(low, layers, domain, factor=OPS_WIDE["planar"], engine="planar")
    mags = [first_mag, *[(np.abs(W), np.abs(b)) for W, b in low.layers[1:]]]
    if start is None:
        mesh, H, Hm, errs = _start_mesh(domain, mags[:1] * 2)  # errs[0]: the first layer's rounding bound
        li0 = 0
    else:
        li0, mesh, H, Hm = start
    parents, states, counts = [], [], []
    partial = False
    for li, ((W, b), (aW, ab), u) in enumerate(zip(layers[:-1], mags[:-1], low.units)):
        if li < li0:
            continue
        if stop is not None and li >= stop:
            break
        m = W.shape[0]
        R0, V0 = mesh.R, mesh.V
        multi = [g for g in u.groups if g.size > 1] if u.groups is not None else []
        ng = len(multi)
        # one block per vertex: [Z (m) | mag (m) | running max (ng) | its mag (ng) | u, v]
        width = 2 * m + 2 * ng + 2
        # vertices to expect: a few per region, or (first layer) about m^2 / 2 crossings of m lines
        G = _Grow(np.empty((0, width)), max(2 * V0 + 64, V0 + 4 * R0, min(m * m // 2, (1 << 24) // width)))
        G.n = V0
        nzW = W != 0
        with np.errstate(over="ignore", invalid="ignore"):
            if li and (nzW.sum(axis=1) == 1).all():  # a selection (lowering before max units): a gather
                idx = nzW.argmax(axis=1)
                w = W[np.arange(m), idx]
                G.a[:V0, :m] = H[:, idx] * w + b
                G.a[:V0, m : 2 * m] = Hm[:, idx] * np.abs(w) + ab
            else:
                G.a[:V0, :m] = H @ W.T + b
                G.a[:V0, m : 2 * m] = Hm @ aW.T + ab
        if not np.isfinite(G.a[:V0, : 2 * m]).all():
            raise NumericalError("expected pre-activations within float64's range, got an overflow "
                                 "(inf or nan): weights, biases or domain too large")
        if li == 0:
            _undecided(G.a[:V0, :m], ZERO_RTOL * G.a[:V0, m : 2 * m], errs[0], H, aW, ab)
        G.a[:V0, width - 2 :] = mesh.uv.a[:V0]
        parent = _Grow(np.arange(R0, dtype=np.int64), 2 * R0 + 16)
        if u.groups is None:
            split = np.flatnonzero(u.splitting)
            # which parents have both signs for which unit (their vertices at the layer's start)
            Zs, Ts = G.a[:V0, split], ZERO_RTOL * G.a[:V0, m + split]
            up, down = Zs > Ts, Zs < -Ts
            del Zs, Ts
            P = np.empty((R0, split.size), dtype=bool)  # some vertex positive
            crossed = np.empty((R0, split.size), dtype=bool)  # ... and some negative
            step = max(1, (1 << 22) // max(1, mesh.ring.shape[1] * split.size))
            for s0 in range(0, R0, step):  # chunks of regions bound the (regions, ring, units) gathers
                ring0 = mesh.ring[s0 : min(R0, s0 + step)]
                P[s0 : s0 + step] = up[ring0].any(axis=1)
                crossed[s0 : s0 + step] = P[s0 : s0 + step] & down[ring0].any(axis=1)
            del up, down
            state = _Grow(P, 2 * R0 + 16)  # a region not crossed keeps its parent's side
            bb = None  # first layer, past _BOX_MIN regions: bounding boxes (R, 4) screen the straight lines
            if li == 0:
                C = mesh.uv.a[:V0]
                reach = np.abs(C).max(axis=0) + float(np.ptp(C, axis=0).max())
                margin = 1e-9 * (np.abs(W) @ reach + np.abs(b))  # far above the vertex tolerance
            for q in np.flatnonzero(crossed.any(axis=0)):
                j = split[q]
                R = mesh.R
                if li == 0 and bb is None and R > _BOX_MIN:
                    P2 = G.a[mesh.ring[:R], width - 2 :]
                    bb = _Grow(np.empty((R, 4)), 2 * R)
                    bb.a[:R, 0::2], bb.a[:R, 1::2] = P2.min(axis=1), P2.max(axis=1)
                if bb is not None:  # as in the planar kernel: only boxes that meet the line are looked at
                    B = bb.a[:R]
                    w0, w1 = W[j]
                    zmin = np.minimum(w0 * B[:, 0], w0 * B[:, 1]) + np.minimum(w1 * B[:, 2], w1 * B[:, 3]) + b[j]
                    zmax = np.maximum(w0 * B[:, 0], w0 * B[:, 1]) + np.maximum(w1 * B[:, 2], w1 * B[:, 3]) + b[j]
                    state.a[:R, q] = zmin >= margin[j]
                    cand = np.flatnonzero((zmin < margin[j]) & (zmax > -margin[j]))
                else:
                    cand = np.flatnonzero(crossed[parent.a[:R], q])  # regions whose parent is crossed
                if cand.size == 0:
                    continue
                n = G.n
                f = G.a[:n, j]
                tol = G.a[:n, m + j] * ZERO_RTOL
                haspos, cp, new = _cut(mesh, G, cand, f, f > tol, f < -tol)
                G.a[new, j] = 0.0
                _grow_regions(mesh, cp, parent, state)
                state.a[cand, q] = haspos
                state.a[R : mesh.R, q] = False
                if bb is not None and cp.size:
                    bb.reserve(cp.size)
                    idx = np.concatenate([cp, np.arange(R, mesh.R)])
                    P2 = G.a[mesh.ring[idx], width - 2 :]
                    bb.a[idx, 0::2], bb.a[idx, 1::2] = P2.min(axis=1), P2.max(axis=1)
                    bb.n = mesh.R
            V = G.n
            Z, M = G.a[:V, :m], G.a[:V, m : 2 * m]
            pos, neg = u.positive, u.negative
            on = Z > ZERO_RTOL * M
            off = Z < -ZERO_RTOL * M
            H = np.where(Z > 0, pos * Z, neg * Z)
            Hm = M * np.where(on, np.abs(pos), np.where(off, np.abs(neg), np.maximum(np.abs(pos), np.abs(neg))))
            st = state.a[: mesh.R].copy()
        else:
            first_c = np.array([int(g[0]) for g in multi], dtype=np.intp)
            G.a[:V0, 2 * m : 2 * m + ng] = G.a[:V0, first_c]
            G.a[:V0, 2 * m + ng : 2 * m + 2 * ng] = G.a[:V0, m + first_c]
            state = _Grow(np.broadcast_to(first_c.astype(np.int64), (R0, ng)).copy(), 2 * R0 + 16)
            for q, g in enumerate(multi):
                rc, rm = 2 * m + q, 2 * m + ng + q
                for i in g[1:]:
                    n = G.n
                    f = G.a[:n, i] - G.a[:n, rc]
                    tol = (G.a[:n, m + i] + G.a[:n, rm]) * ZERO_RTOL
                    pos_v = f > tol
                    up = np.flatnonzero(pos_v)  # vertices where candidate i beats the running max
                    if up.size == 0:
                        continue
                    cand = np.flatnonzero(pos_v[mesh.ring[: mesh.R]].any(axis=1))  # where i may win
                    haspos, cp, new = _cut(mesh, G, cand, f, pos_v, f < -tol)
                    G.a[new, i] = G.a[new, rc]  # on the tie line: the candidate equals the running max
                    _grow_regions(mesh, cp, parent, state)
                    state.a[cand[haspos], q] = i
                    G.a[up, rc] = G.a[up, i]
                    G.a[up, rm] = G.a[up, m + i]
            V = G.n
            lab = np.concatenate([parent.a[: mesh.R, None], state.a[: mesh.R]], axis=1)
            keep = _merge(mesh, lab)
            st = state.a[: state.n][keep]
            pa = parent.a[: parent.n][keep]
            parent.a[: keep.size] = pa
            parent.n = keep.size
            # the layer's output: the running max of every multi group, the candidate of a singleton
            sel = np.array([int(g[0]) for g in u.groups], dtype=np.intp)
            H = G.a[:V, sel]
            Hm = G.a[:V, m + sel]
            mk = np.flatnonzero([g.size > 1 for g in u.groups])
            H[:, mk] = G.a[:V, 2 * m : 2 * m + ng]
            Hm[:, mk] = G.a[:V, 2 * m + ng : 2 * m + 2 * ng]
        mesh.uv.reserve(V - mesh.uv.n)
        mesh.uv.a[V0:V] = G.a[V0:V, width - 2 :]
        mesh.uv.n = V
        parents.append(parent.a[: mesh.R].copy())
        states.append(st)
        counts.append(mesh.R)
        if max_regions is not None and mesh.R > max_regions:
            partial = True
            break
    K = int(mesh.nv[: mesh.R].max())
    w = _Walk(mesh.uv.a[: mesh.V].copy(), mesh.ring[: mesh.R, :K].copy(), mesh.nv[: mesh.R].copy(),
              parents, states, counts, partial, mesh.stats, mesh, H, Hm)
    return w, layers, mags


def _grow_regions(mesh: _Mesh, cp: np.ndarray, parent: _Grow, state: _Grow) -> None:
    """The ``-`` parts of the regions ``cp`` (appended by :func:`_cut`) inherit their parent and states."""
    c = cp.shape[0]
    if c == 0:
        return
    n = parent.n
    parent.reserve(c)
    state.reserve(c)
    parent.a[n : n + c] = parent.a[cp]
    state.a[n : n + c] = state.a[cp]
    parent.n = state.n = n + c
    if parent.n != mesh.R:  # pragma: no cover -- bookkeeping invariant
        raise RuntimeError("region arrays out of step with the mesh")


def partition_planar_ops(low: Lowered, domain: Domain, *, network=None,
                         max_regions: int | None = None) -> OpPlanarPartition:
    """The activation regions of a lowered op network on a bounded convex 2-D domain, exactly.

    Parameters
    ----------
    low : Lowered
        From :func:`regions.model.ops.lower`.
    domain : Domain
        A box of a 2-input network, a convex polygon, or a plane slice
        (bounded).
    network : Graph, optional
        Recorded on the partition (for ``verify`` and ``region_of``).
    max_regions : int, optional
        Stop after the first layer with more regions than this (``partial``).

    Raises
    ------
    NumericalError
        Where float64 cannot decide a sign at this domain's size, or a
        rounding anomaly leaves a max cell's pieces without one boundary.
    """
    if domain.dim != 2 or not domain.bounded:
        raise RegionsError(f"expected a bounded 2-D domain for the planar mesh, got a {domain.dim}-D "
                           f"{'bounded' if domain.bounded else 'unbounded'} {domain.kind}")
    t0 = time.perf_counter()
    w, layers, mags = _walk(low, domain, max_regions)
    R = w.ring.shape[0]
    anc = _ancestry(w.parents) if w.parents else []
    pats = _patterns(low, w.states, anc) if anc else np.zeros((R, 0), dtype=bool)
    areas, wit = ring_geometry(w.uv, w.ring, w.nv)
    maps, labels, n_pieces = None, np.arange(R), None
    if not w.partial:
        if anc:
            J, c, Jabs = _output_maps(low, layers, mags, w.states, anc)
        else:
            (W, b), (aW, _) = layers[0], mags[0]
            J, c, Jabs = W[None].copy(), b[None].copy(), aW[None].copy()
        maps = (J, c)
        labels, n_pieces = _pieces(w.ring, w.nv, J, Jabs)
    offsets = np.concatenate([[0], np.cumsum(w.nv.astype(np.int64))])
    flat = w.ring[np.arange(w.ring.shape[1])[None, :] < w.nv[:, None]]
    return OpPlanarPartition(
        network=network, domain=domain, vertices=w.uv, ring_offsets=offsets,
        ring_vertices=flat.astype(np.int64), packed_patterns=pack(pats), measures=areas, witnesses=wit,
        layer_counts=tuple(w.counts), piece_labels=labels, n_pieces=n_pieces, partial=w.partial,
        layer_parents=tuple(w.parents), maps=maps,
        stats={"unsplit": w.stats["unsplit"], "seconds": time.perf_counter() - t0},
        n_bits=int(pats.shape[1]), _low=low,
    )
