"""One layer of the 2-D engine at once: every region cut by all of the layer's lines in one pass.

The per-neuron cut of :func:`.kernel._cut_layer` costs a fixed number of numpy
calls per neuron, which dominates on small networks.  Here a layer costs a
fixed number of calls whatever its width:

1. **Chords.**  Inside a region ``P`` of the previous layers every line of the
   layer is straight; a neuron *crosses* ``P`` when ``P`` has vertices of both
   signs (the vertex signs of :mod:`.kernel`: ``|z| <= ZERO_RTOL * M`` is zero).
2. **Boundary points.**  Every edge whose ends have strictly opposite signs for
   a crossing neuron gets one new vertex (interpolated as in the per-neuron cut,
   from the end nearer the crossing, shared by the edge's two regions), and the
   points are inserted into the rings in order along their edges.  Each chord
   must then meet its region's new ring in exactly two zero vertices, with one
   ``+`` run and one ``-`` run and no strict sign change between neighbours.
3. **Interior points.**  Two chords of ``P`` cross inside ``P`` iff their end
   positions interleave around the ring -- a combinatorial test, no tolerance.
   The crossing is interpolated along the first chord; a crossing that is
   "zero" for further chords (concurrent lines) is one vertex for the whole
   group, which must hold all ``C(k, 2)`` crossings of its ``k`` chords.
4. **Faces.**  Around every vertex the rays of the chords through it, ordered
   by where they end on the ring, bound wedges; each wedge is one face, named
   by its parent and its signs on the parent's chords (a chord through the
   vertex gives the wedge the sign of the ring arc the wedge opens on).
   Faces are rings of their vertices ordered by angle around their vertex mean.

Every step that float64 might get wrong is checked, and any failed check
returns ``None``: the caller then runs the per-neuron cut, whose decisions are
the reference.  Checks: two zero vertices per chord and consistent signs on
every new ring, no duplicate chord (two neurons with one line in ``P``),
concurrent groups complete, the number of faces of every parent equal to
``1 + chords + sum over interior vertices of (lines through it - 1)``
(Euler's relation for chords in a convex polygon), at least three vertices
and distinct angles in every face, and the faces' areas summing to their
parent's within ``AREA_RTOL``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...core.tolerances import ZERO_RTOL
from .rings import EDGE_KEY as _KEY

__all__ = ["LayerCount", "arrange_layer"]

#: Relative mismatch of a parent's area and its faces' total above which the one-pass layer is
#: rejected (the per-neuron cut runs instead); far above rounding, far below any misbuilt face.
AREA_RTOL = 1e-9


class LayerCount(NamedTuple):
    """What :func:`arrange_layer` leaves with ``count_only``: the faces counted, not built.

    ``V``: vertices in use; ``regions``: the count after the layer; ``Pc`` (nP,) the crossed
    parents, ``NR`` (nP, K1) / ``nv1`` (nP,) their rings with the layer's boundary points inserted
    (padding repeats the first vertex); ``cP``, ``cj`` (Nc,) each chord's parent and unit; ``Sv``
    (>= vertices of ``NR``, m) int8 vertex signs of the layer's units; ``Pbits`` (R0, ceil(m / 8))
    packed: some vertex of the parent has ``z > tol``.
    """

    V: int
    regions: int
    Pc: np.ndarray
    NR: np.ndarray
    nv1: np.ndarray
    cP: np.ndarray
    cj: np.ndarray
    Sv: np.ndarray
    Pbits: np.ndarray


def _signs(rows: np.ndarray, m: int) -> np.ndarray:
    """Vertex signs (+1, 0, -1) of every unit at vertex rows ``[Z | M | ...]``, int8, as in the kernel."""
    z = rows[:, :m]
    t = rows[:, m : 2 * m] * ZERO_RTOL
    out = (z > t).view(np.int8)
    out -= (z < -t).view(np.int8)
    return out


def _at(Sv: np.ndarray, rows, cols) -> np.ndarray:
    """``Sv[rows, cols]`` (broadcast) through the flat array: faster than 2-D fancy indexing."""
    return Sv.ravel()[rows * Sv.shape[1] + cols]


def _interp(G: np.ndarray, a: np.ndarray, b: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Rows where unit ``k`` (strictly opposite signs at ``a`` and ``b``) is zero on segment ``a b``.

    Interpolated from the end nearer the crossing with that end's own fraction, as in the kernel.
    """
    za, zb = G[a, k], G[b, k]
    near_b = np.abs(zb) < np.abs(za)
    lo = np.where(near_b, b, a)
    hi = np.where(near_b, a, b)
    zl = np.where(near_b, zb, za)
    zh = np.where(near_b, za, zb)
    tt = zl / (zl - zh)
    lo_rows = G[lo]
    out = G[hi] - lo_rows
    out *= tt[:, None]
    out += lo_rows
    out[np.arange(out.shape[0]), k] = 0.0
    return out, np.where(near_b, 1.0 - tt, tt)  # rows, and the fraction from a


def _areas(P: np.ndarray) -> np.ndarray:
    """Areas of rings (R, K, 2), padded with their first vertex (shoelace relative to that vertex)."""
    Q = P[:, 1:, :] - P[:, :1, :]  # vertex 0 (and the padding) is the origin: its terms vanish
    return 0.5 * (Q[:, :-1, 0] * Q[:, 1:, 1] - Q[:, :-1, 1] * Q[:, 1:, 0]).sum(axis=1)


def _pairs_within(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs ``i < j`` with ``groups[i] == groups[j]`` (``groups`` sorted)."""
    n = groups.shape[0]
    end = np.searchsorted(groups, groups, side="right")
    after = end - np.arange(n) - 1
    tot = int(after.sum())
    i = np.repeat(np.arange(n), after)
    first = np.cumsum(after) - after
    j = i + 1 + (np.arange(tot) - np.repeat(first, after))
    return i, j


def _row_unique(cols: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique rows of integer key columns (most significant first): first index, inverse, counts.

    One lexsort; numpy's ``unique`` on rows of bytes (void) compares byte strings, several times slower.
    """
    order = np.lexsort(cols[::-1])
    n = order.shape[0]
    new = np.zeros(n, dtype=bool)
    new[:1] = True
    for c in cols:
        sc = c[order]
        new[1:] |= sc[1:] != sc[:-1]
    gid = np.cumsum(new) - 1
    inv = np.empty(n, dtype=np.intp)
    inv[order] = gid
    starts = new.nonzero()[0]
    counts = np.empty(starts.shape[0], dtype=np.intp)
    counts[:-1] = starts[1:] - starts[:-1]
    counts[-1:] = n - starts[-1:]
    return order[starts], inv, counts


def _words(bits: np.ndarray) -> list:
    """Bool rows (n, k) as a list of uint64 columns, 64 bits each (keys for :func:`_row_unique`)."""
    n = bits.shape[0]
    packed = np.packbits(bits, axis=1)
    nw = max(1, -(-packed.shape[1] // 8))
    buf = np.zeros((n, 8 * nw), dtype=np.uint8)
    buf[:, : packed.shape[1]] = packed
    words = buf.view(">u8")
    return [words[:, i] for i in range(nw)]


def arrange_layer(Gg, V0: int, m: int, ring0: np.ndarray, nv0: np.ndarray,
                  Pbits: np.ndarray, crossed: np.ndarray, *, count_only: bool = False):
    """Cut every region by all the layer's lines at once; None where a check fails.

    With ``count_only`` (the network's last layer, when only the count is asked) the faces are
    counted, not built: see :class:`LayerCount`.

    Parameters
    ----------
    Gg : the kernel's growable block (``.a``, ``.n``, ``.reserve``) of rows ``[Z | M | u, v]``,
        ``V0`` of them; the new vertices' rows are appended (``Gg.n`` counts them; the caller
        resets it to ``V0`` when None is returned).
    ring0, nv0 : (R0, K), (R0,) the regions' padded rings and lengths.
    Pbits : (R0, ceil(m / 8)) packed: some vertex of the region has ``z > tol``.
    crossed : (R0, m) bool, the region has vertices of both signs.

    Returns
    -------
    None, or ``(V, ring, nv, parent, act)``: the vertices in use (rows ``V0 .. V`` are new),
    the regions' padded rings, lengths, parents and packed states.
    """
    G = Gg.a
    R0, K = ring0.shape
    cP, cj = np.nonzero(crossed)  # chords, sorted by parent then unit
    Nc = cP.shape[0]
    if Nc == 0:
        return V0, ring0.copy(), nv0.copy(), np.arange(R0, dtype=np.int64), Pbits.copy()
    arK = np.arange(K)
    # ---- boundary points
    nvc = nv0[cP]
    rc = ring0[cP]  # (Nc, K)
    rn = np.concatenate([rc[:, 1:], rc[:, :1]], axis=1)  # the next vertex: padding repeats the first
    valid = arK < nvc[:, None]
    Sv = _signs(G[:V0], m)  # (V0, m)
    sa = _at(Sv, rc, cj[:, None])
    sb = _at(Sv, rn, cj[:, None])
    crs = valid & (sa * sb < 0)
    if ((crs.sum(axis=1) + (valid & (sa == 0)).sum(axis=1)) != 2).any():
        return None
    ci, ki = crs.nonzero()
    a = rc[ci, ki].astype(np.int64)
    b = rn[ci, ki].astype(np.int64)
    j = cj[ci]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = (lo * _KEY + hi) * m + j
    order = key.argsort(kind="stable")
    sk = key[order]
    first = np.empty(sk.shape[0], dtype=bool)
    first[:1] = True
    np.not_equal(sk[1:], sk[:-1], out=first[1:])
    inv = np.empty(key.shape[0], dtype=np.intp)
    inv[order] = first.cumsum() - 1
    uo = order[first]  # one entry per point
    brows, tlo = _interp(G, lo[uo], hi[uo], j[uo])
    nb = brows.shape[0]
    nch = np.bincount(cP)
    # room for the interior points too (one growth, not two), within a bound on the memory it may waste
    Gg.reserve(nb + min(int((nch * (nch - 1)).sum()) // 2, 4 * Nc + 256))
    G = Gb = Gg.a
    G[V0 : V0 + nb] = brows
    Gg.n = V0 + nb
    # position of each point along its ring edge, in the ring's direction
    pos = np.where(a == lo, tlo[inv], 1.0 - tlo[inv])
    # ---- new rings of the crossed parents: old vertices (pos -1) and points, in order along edges
    newp = np.empty(Nc, dtype=bool)
    newp[:1] = True
    np.not_equal(cP[1:], cP[:-1], out=newp[1:])
    Pc = cP[newp]  # crossed parents; pl: each chord's among them
    pl = np.cumsum(newp) - 1
    nP = Pc.shape[0]
    nvP = nv0[Pc]
    vmask = arK < nvP[:, None]
    o_par, o_slot = vmask.nonzero()
    e_par = np.concatenate([o_par, pl[ci]])
    e_slot = np.concatenate([o_slot, ki])
    e_pos = np.concatenate([np.full(o_par.shape[0], -1.0), pos])
    e_vid = np.concatenate([ring0[Pc][o_par, o_slot].astype(np.int64), V0 + inv])
    srt = np.lexsort((e_pos, e_slot, e_par))
    e_par, e_vid = e_par[srt], e_vid[srt]
    e_pos, e_slot = e_pos[srt], e_slot[srt]
    if ((e_par[1:] == e_par[:-1]) & (e_slot[1:] == e_slot[:-1]) & (e_pos[1:] == e_pos[:-1])).any():
        return None  # two points at one place on an edge
    nv1 = np.bincount(e_par, minlength=nP)
    start = np.cumsum(nv1) - nv1
    K1 = int(nv1.max())
    posn = np.arange(e_par.shape[0]) - start[e_par]
    NR = np.empty((nP, K1), dtype=np.int64)
    NR[:] = e_vid[start][:, None]  # padding repeats the first vertex
    NR[e_par, posn] = e_vid
    # ---- every chord on its new ring: two zeros, one + run, one - run
    ar1 = np.arange(K1)
    nvc1 = nv1[pl]
    valid1 = ar1 < nvc1[:, None]
    R1 = NR[pl]  # (Nc, K1)
    Sv = np.concatenate([Sv, _signs(brows, m)]) if nb else Sv
    s1 = _at(Sv, R1, cj[:, None])
    s1n = np.concatenate([s1[:, 1:], s1[:, :1]], axis=1)  # the next vertex: padding repeats the first
    zero = valid1 & (s1 == 0)
    if (zero.sum(axis=1) != 2).any() or (valid1 & (s1 * s1n < 0)).any():
        return None
    i1 = zero.argmax(axis=1)
    i2 = K1 - 1 - zero[:, ::-1].argmax(axis=1)
    rows_c = np.arange(Nc)
    sig = s1[rows_c, i1 + 1]  # sign on the arc (i1, i2); the other arc has -sig
    if (sig == 0).any() or (s1[rows_c, (i2 + 1) % nvc1] != -sig).any():
        return None
    # ---- interior points: chords of one parent whose ends interleave around the ring
    c1, c2 = _pairs_within(cP)
    a1, a2, b1, b2 = i1[c1], i2[c1], i1[c2], i2[c2]
    if ((a1 == b1) & (a2 == b2)).any():
        return None  # two units with one line in the region
    inter = ((a1 < b1) & (b1 < a2) & (a2 < b2)) | ((b1 < a1) & (a1 < b2) & (b2 < a2))
    c1, c2 = c1[inter], c2[inter]
    q1 = R1[c1, i1[c1]]
    q2 = R1[c1, i2[c1]]
    xrows, _ = _interp(Gb, q1, q2, cj[c2])
    xrows[np.arange(c1.shape[0]), cj[c1]] = 0.0
    nx = c1.shape[0]
    # zeros of each crossing on its parent's chords: 2 unless lines are concurrent
    chordsP = np.zeros((nP, m), dtype=bool)
    chordsP[pl, cj] = True
    zx = (np.abs(xrows[:, :m]) <= xrows[:, m : 2 * m] * ZERO_RTOL) & chordsP[pl[c1]]
    nz = zx.sum(axis=1)
    if nx and nz.min() < 2:
        return None
    if nx and nz.max() > 2:  # concurrent lines: one vertex per group of crossings
        _, ginv, gcnt = _row_unique([pl[c1]] + _words(zx))
        if (gcnt[ginv] != nz * (nz - 1) // 2).any():
            return None
        rep = np.zeros(nx, dtype=bool)
        rep[_row_unique([ginv])[0]] = True
    else:
        rep = np.ones(nx, dtype=bool)
    xr = rep.nonzero()[0]
    ni = xr.shape[0]
    xid = V0 + nb + np.arange(ni)
    Gg.reserve(nb + ni)
    Gall = Gg.a
    Gall[V0 + nb : V0 + nb + ni] = xrows[xr]
    Gg.n = V0 + nb + ni
    xpar = pl[c1[xr]]
    xz = zx[xr]  # (ni, m) the chords through each interior vertex
    if count_only:  # Euler's relation for chords in a convex polygon (the check of the faces below)
        faces = 1 + np.bincount(pl, minlength=nP) + np.bincount(xpar, weights=xz.sum(axis=1) - 1,
                                                                minlength=nP).astype(np.int64)
        return LayerCount(V0 + nb + ni, R0 - nP + int(faces.sum()), Pc, NR, nv1, cP, cj, Sv, Pbits)
    # ---- wedges.  Local chord index of (parent, unit): chords are sorted by parent then unit.
    cstart = np.searchsorted(cP, Pc)  # first chord of each crossed parent
    nchords = np.bincount(pl, minlength=nP)
    nmax = int(nchords.max())
    lcol = rows_c - cstart[pl]  # local index of each chord
    cunit = np.zeros((nP, nmax), dtype=np.intp)
    cunit[pl, lcol] = cj
    cval = np.arange(nmax) < nchords[:, None]
    # boundary instances: every ring position of every crossed parent
    b_par, b_pos, b_vid = e_par, posn, e_vid  # sorted by parent, then position
    nbI = b_par.shape[0]
    bstart = start  # instance id of (parent, position) = bstart[parent] + position
    # rays at boundary instances: each chord end, towards its other end (shifted so the instance is 0)
    r_inst = np.concatenate([bstart[pl] + i1, bstart[pl] + i2])
    r_chord = np.concatenate([rows_c, rows_c])
    r_tgt = np.concatenate([(i2 - i1) % nvc1, (i1 - i2) % nvc1])
    # interior instances: rays to both ends of each chord through the vertex (unshifted)
    xc_par, xc_unit = xz.nonzero()
    xc_chord = np.searchsorted(pl * m + cj, xpar[xc_par] * m + xc_unit)  # chords sorted by (parent, unit)
    x_inst = nbI + xc_par
    r_inst = np.concatenate([r_inst, x_inst, x_inst])
    r_chord = np.concatenate([r_chord, xc_chord, xc_chord])
    r_tgt = np.concatenate([r_tgt, i1[xc_chord], i2[xc_chord]])
    nI = nbI + ni
    is_bnd = r_inst < nbI
    # wedges of an instance start at 0 (boundary only) and at each ray's target
    w_inst = np.concatenate([np.arange(nbI), r_inst])
    w_start = np.concatenate([np.zeros(nbI, dtype=np.intp), r_tgt])
    wo = np.lexsort((w_start, w_inst))
    w_inst, w_start = w_inst[wo], w_start[wo]
    nW = w_inst.shape[0]
    i_par = np.concatenate([b_par, xpar])  # parent (local) of each instance
    i_vid = np.concatenate([b_vid, xid])
    # base signs: the instance's vertex on its parent's chords, for every wedge of the instance
    Sv = np.concatenate([Sv, _signs(xrows[xr], m)]) if ni else Sv
    Si = _at(Sv, i_vid[:, None], cunit[i_par])  # (nI, nmax)
    Si[~cval[i_par]] = 0
    wp = i_par[w_inst]
    S = Si[w_inst]
    # overrides: each ray's chord, in every wedge of the ray's instance
    wcnt = np.bincount(w_inst, minlength=nI)
    wfirst = np.cumsum(wcnt) - wcnt
    ov_ray = np.repeat(np.arange(r_inst.shape[0]), wcnt[r_inst])
    ov_w = wfirst[r_inst[ov_ray]] + (np.arange(ov_ray.shape[0]) - np.repeat(np.cumsum(wcnt[r_inst]) - wcnt[r_inst],
                                                                             wcnt[r_inst]))
    q = w_start[ov_w]
    rc_ = r_chord[ov_ray]
    bnd = is_bnd[ov_ray]
    # boundary: sign of the arc just after the instance (position 1 after it) before the chord's end
    p_inst = np.where(bnd, b_pos[np.minimum(r_inst[ov_ray], nbI - 1)], 0)
    after = s1[rc_, (p_inst + 1) % nvc1[rc_]]
    inside = np.where(bnd, q < r_tgt[ov_ray], (i1[rc_] <= q) & (q < i2[rc_]))
    val = np.where(bnd, np.where(inside, after, -after), np.where(inside, sig[rc_], -sig[rc_]))
    S[ov_w, lcol[rc_]] = val
    if (S[cval[wp]] == 0).any():
        return None
    # ---- faces: (parent, signs) unique
    f_first, f_of_w, _ = _row_unique([wp] + _words(S > 0))
    F = f_first.shape[0]
    f_par = wp[f_first]
    want = 1 + nchords + np.bincount(xpar, weights=xz.sum(axis=1) - 1, minlength=nP).astype(np.int64)
    if (np.bincount(f_par, minlength=nP) != want).any():
        return None
    # ---- rings by angle around the vertex mean; coordinates scaled by a power of two (exact) into
    # [-1, 1], so that sums and products of coordinates near float64's largest do not overflow
    f_vid = i_vid[w_inst]
    UV = Gall[: Gg.n, 2 * m :]
    UV = np.ldexp(UV, -int(np.frexp(float(np.abs(UV).max(initial=1.0)))[1]))
    uvw = UV[f_vid]
    cnt = np.bincount(f_of_w, minlength=F)
    if cnt.min() < 3:
        return None
    cu = np.bincount(f_of_w, weights=uvw[:, 0], minlength=F) / cnt
    cv = np.bincount(f_of_w, weights=uvw[:, 1], minlength=F) / cnt
    ang = np.arctan2(uvw[:, 1] - cv[f_of_w], uvw[:, 0] - cu[f_of_w])
    ro = np.lexsort((ang, f_of_w))
    fo, ango, vo = f_of_w[ro], ang[ro], f_vid[ro]
    if ((fo[1:] == fo[:-1]) & (ango[1:] == ango[:-1])).any():
        return None
    Kf = int(cnt.max())
    fstart = np.cumsum(cnt) - cnt
    fring = np.empty((F, Kf), dtype=np.int64)
    fring[:] = vo[fstart][:, None]
    fring[fo, np.arange(nW) - fstart[fo]] = vo
    # areas: each parent's faces sum to the parent's area
    P3 = UV[fring]
    area = _areas(P3)
    pa = _areas(UV[NR])
    fa = np.bincount(f_par, weights=area, minlength=nP)
    if not ((area > 0).all() and (np.abs(fa - pa) <= AREA_RTOL * np.abs(pa)).all()):
        return None  # (nan-safe: a nan fails)
    # ---- states: the parent's, with the chords' signs
    S_f = S[f_first]
    dense = np.unpackbits(Pbits[Pc[f_par]], axis=1, count=m).view(bool)
    fr, fc = cval[f_par].nonzero()
    dense.reshape(-1)[fr * m + cunit[f_par[fr], fc]] = S_f[fr, fc] > 0
    fact = np.packbits(dense, axis=1)
    # ---- all regions: untouched parents, then faces, ordered by parent
    keep = np.ones(R0, dtype=bool)
    keep[Pc] = False
    kp = keep.nonzero()[0]
    Kn = max(K, Kf)
    ring = np.empty((kp.shape[0] + F, Kn), dtype=ring0.dtype)
    ring[: kp.shape[0], :K] = ring0[kp]
    ring[: kp.shape[0], K:] = ring0[kp, :1]
    ring[kp.shape[0] :, :Kf] = fring
    ring[kp.shape[0] :, Kf:] = fring[:, :1]
    nv = np.concatenate([nv0[kp], cnt]).astype(nv0.dtype)
    parent = np.concatenate([kp, Pc[f_par]])
    act = np.concatenate([Pbits[kp], fact])
    po = parent.argsort(kind="stable")
    return V0 + nb + ni, ring[po], nv[po], parent[po].astype(np.int64), act[po]
