"""Affine pieces of an n-D partition: the facets of every region and which of them the output map crosses unchanged.

Split from :mod:`.kernel` (the vertex enumeration); it reads the kernel's
final batches (generators, incidence bit sets, patterns) and keeps, batch by
batch, only the pairs of neighbouring regions with one output map.
"""

from __future__ import annotations

import numpy as np

from ...core.patterns import pack_words
from ...core.pieces import merge_pieces
from ...core.tolerances import PIECE_RTOL
from ...model.network import Network
from .bitsets import mask_upto as _mask_upto
from .bitsets import popcount as _popcount

def _unpack(bits: np.ndarray, nb: int) -> np.ndarray:
    """Bit sets as booleans: (n, nw) uint64 -> (n, nb) bool, bit ``64 w + i`` in column ``64 w + i``."""
    u8 = np.ascontiguousarray(bits, dtype="<u8").view(np.uint8)  # (n, 8 nw)
    return np.unpackbits(u8, axis=1, count=nb, bitorder="little").view(bool)


def _facets(b: _Batch, k: int, nb: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The facets of every region of a final batch, from the incidences alone.

    A constraint ``c`` (a box face or a hidden unit) of region ``r`` defines
    the face ``F_c`` whose generators ``T_c`` are those tight on ``c``; let
    ``Z_c`` be the constraints tight on every generator of ``T_c``.  ``F_c``
    is a facet iff it holds a point (a generator with ``t > 0``), is not the
    whole region (``c`` is not identically zero on it) and is maximal: no
    ``c'`` in ``Z_c`` has a strictly larger ``T_c'``, other than constraints
    that are zero on the whole region (any ``c'`` with ``T_c ⊊ T_c'`` is in
    ``Z_c``).  Lineality vectors lie in every face and are left out.  The
    test is exact given the incidences, for degenerate regions too.

    Returns
    -------
    region : ndarray of int, shape (F,)
        Region (in the batch) of each facet, one row per facet.
    unit : ndarray of int, shape (F,)
        Bit of a constraint defining it that is not zero on the whole region.
    tight : ndarray of uint64, shape (F, nw)
        ``Z``: every constraint tight on the whole facet.
    """
    gi = np.nonzero(~b.lin)[0]
    B = _unpack(b.bits[gi], nb)  # (n, nb)
    B[:, 0] = False  # t >= 0: the face at infinity holds no point
    row, c = np.nonzero(B)  # (P,) one per (generator, tight constraint)
    key = b.rid[gi[row]].astype(np.int64) * nb + c
    order = np.argsort(key, kind="stable")
    key, g = key[order], gi[row[order]]
    st = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, np.intp)
    ukey = key[st]  # (K,) one per (region, constraint): T_c
    cnt = np.diff(np.r_[st, key.size])  # |T_c|
    gr, gc = ukey // nb, ukey % nb
    nv = np.bincount(b.rid[gi], minlength=b.R)  # generators per region (no lines)
    empty = np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros((0, b.bits.shape[1]), np.uint64)
    if st.size == 0:
        return empty
    Z = np.bitwise_and.reduceat(b.bits[g], st, axis=0)  # (K, nw)
    hasv = np.logical_or.reduceat(b.G[g, k] > 0, st)
    cand = np.nonzero(hasv & (cnt < nv[gr]))[0]
    if cand.size == 0:
        return empty
    zb = _unpack(Z[cand], nb)
    zb[:, 0] = False
    zi, zc = np.nonzero(zb)  # (Q,) every c' in Z_c, sorted by candidate then c'
    cc = cnt[np.searchsorted(ukey, gr[cand[zi]] * nb + zc)]  # |T_c'|
    proper = cc < nv[gr[cand[zi]]]  # c' is not zero on the whole region
    bad = proper & (cc > cnt[cand[zi]])
    ok = np.bincount(zi[bad], minlength=cand.size) == 0
    # one row per facet: the lowest proper constraint of Z defines it
    first = np.full(cand.size, -1, dtype=np.int64)
    pz = np.nonzero(proper)[0]
    u, at = np.unique(zi[pz], return_index=True)
    first[u] = zc[pz[at]]
    ok &= first == gc[cand]
    f = cand[ok]
    return gr[f], gc[f], Z[f]


def _inert(layers, slope: float, pat: np.ndarray, widths: list[int]) -> np.ndarray:
    """Units whose state does not change the output map on each region, (R, n_hidden) bool.

    Unit ``j`` is inert on a region when ``g_j = dy/dh_j`` is zero:
    ``|g_j| <= PIECE_RTOL |g_j|_abs`` for every output, from the backward
    pass ``dy/dh_{l-1} = (dy/dh_l D_l) W_l`` (and the same pass with
    ``|W|``), chunked over regions.  Across a facet where only ``j`` changes
    state the output Jacobians differ by ``(1 - slope) g_j a_j^T``, so the
    two regions have one map iff ``j`` is inert on them (on both: ``g_j``
    depends only on the later layers' states).
    """
    R = pat.shape[0]
    Wout = layers[-1][0]
    n_out = Wout.shape[0]
    offs = np.concatenate([[0], np.cumsum(widths)])
    out = np.empty((R, int(offs[-1])), dtype=bool)
    L = len(widths)
    out[:, offs[L - 1]:] = np.all(Wout == 0.0, axis=0)[None, :]  # g = W_out: exact zeros only
    if L == 1:
        return out
    chunk = max(16, (1 << 20) // (n_out * max(widths)))
    aW = [np.abs(W) for W, _ in layers]
    for s in range(0, R, chunk):
        P = pat[s:s + chunk]
        m = P.shape[0]
        G = GM = None
        for l in range(L - 1, 0, -1):  # G: dy/dh_l -> dy/dh_{l-1}
            act = P[:, offs[l]:offs[l + 1]]  # (m, n_l)
            D = act if slope == 0.0 else np.where(act, 1.0, slope)
            if G is None:
                G = (D[:, None, :] * Wout[None]).reshape(m * n_out, -1)  # (m n_out, n_l)
                GM = (D[:, None, :] * aW[-1][None]).reshape(m * n_out, -1)
            else:
                Dr = np.repeat(D, n_out, axis=0)
                G *= Dr
                GM *= Dr
            G = G @ layers[l][0]  # (m n_out, n_{l-1})
            GM = GM @ aW[l]
            zero = np.abs(G) <= PIECE_RTOL * GM
            out[s:s + m, offs[l - 1]:offs[l]] = zero.reshape(m, n_out, -1).all(axis=1)
    return out


def _cross(layers, slope: float, pat: np.ndarray, tight: np.ndarray, unit: np.ndarray, k: int,
           widths: list[int], vertex_rtol: float) -> tuple[np.ndarray, np.ndarray]:
    """Patterns across facets on which several units vanish, and whether the output map is unchanged.

    ``pat`` (m, n) are the regions' patterns, ``tight`` (m, n) the hidden
    units zero on the whole facet and ``unit`` (m,) one of them that is not
    zero on the whole region.  Across the facet only tight units can change
    state.  Its outward normal is ``n = -/+ a_unit`` (``a`` the unit's
    gradient on the region, sign of its state), and beyond it, layer by
    layer, a tight unit ``u`` is active iff ``a_u . n > vertex_rtol |a_u| . |n|`` (the kernel's ``VERTEX_RTOL``)
    with ``a_u`` its gradient under the neighbour's pattern of the earlier
    layers (``z_u`` is zero on the facet, so its sign beyond is that of its
    derivative along ``n``; a zero derivative means ``z_u = 0`` beyond).
    The maps are equal iff ``|J - J'| <= PIECE_RTOL (|J| + |J'|)`` for the
    output Jacobians, as in :mod:`regions.planar`.

    Returns
    -------
    across : ndarray of bool, shape (m, n)
    same : ndarray of bool, shape (m,)
    """
    m = pat.shape[0]
    offs = np.concatenate([[0], np.cumsum(widths)])

    def forward(P, cb=None):
        H = np.broadcast_to(np.eye(k), (m, k, k))  # (m, n_in, k) d h / d u
        HM = H
        for l, (W, _) in enumerate(layers):
            A = np.einsum("oi,mik->mok", W, H)  # (m, n_l, k)
            AM = np.einsum("oi,mik->mok", np.abs(W), HM)
            if l == len(layers) - 1:
                return A, AM
            if cb is not None:
                cb(l, A, AM, P)
            act = P[:, offs[l]:offs[l + 1]]
            D = np.where(act, 1.0, slope)[:, :, None]
            H, HM = A * D, AM * D

    normal = np.zeros((m, k))

    def grab(l, A, AM, P):
        at = np.nonzero((unit >= offs[l]) & (unit < offs[l + 1]))[0]
        sg = np.where(P[at, unit[at]], -1.0, 1.0)  # outward: z decreases out of an active region
        normal[at] = sg[:, None] * A[at, unit[at] - offs[l]]

    J, JM = forward(pat, grab)
    across = pat.copy()

    def decide(l, A, AM, P):
        dot = np.einsum("mok,mk->mo", A, normal)  # (m, n_l)
        mag = np.einsum("mok,mk->mo", AM, np.abs(normal))
        sl = slice(offs[l], offs[l + 1])
        P[:, sl] = np.where(tight[:, sl], dot > vertex_rtol * mag, P[:, sl])

    J2, JM2 = forward(across, decide)
    same = np.all(np.abs(J - J2) <= PIECE_RTOL * (JM + JM2), axis=(1, 2))
    return across, same


_pack = pack_words  # patterns as uint64 words


class _Pieces:
    """Neighbouring regions with one output map, gathered batch by batch.

    Only *merging* facets are kept (none in a generic network), as pairs of
    packed patterns, so memory grows with the merges, not with the regions.
    A pair is kept when it is found from both of its regions (every facet
    is seen from both sides); one seen from one side only (a neighbour lost
    to rounding) is dropped and counted in ``one_sided``.
    """

    def __init__(self, pulled: Network, k: int, vertex_rtol: float):
        self.vertex_rtol = vertex_rtol
        self.layers = pulled.layers
        self.slope = pulled.negative_slope
        self.widths = [W.shape[0] for W, _ in pulled.layers[:-1]]
        self.k = k
        self.base = 1 + 2 * k  # incidence bit of the first hidden unit
        self.nb = self.base + sum(self.widths)
        self.P: list[np.ndarray] = []
        self.Q: list[np.ndarray] = []

    def add(self, b: _Batch) -> None:
        """Record the merging facets of a final batch.

        Only regions that can have one map with a neighbour are examined:
        those with an inert unit (:func:`_inert`) or a degenerate generator
        (tight on more than ``k - l`` constraints, ``l`` the dimension of the
        region's lineality: where a facet lies on several units' hyperplanes
        or a unit vanishes on the whole region).  Elsewhere every facet lies
        on one unit's hyperplane, which is not inert, so the map changes
        across every facet.
        """
        if not self.widths or b.R == 0:
            return
        k, base = self.k, self.base
        inert = _inert(self.layers, self.slope, b.pat, self.widths)  # (R, n)
        nlin = np.bincount(b.rid[b.lin], minlength=b.R)
        deg = (_popcount(b.bits) > k - nlin[b.rid]) & ~b.lin  # (N,)
        look = inert.any(axis=1)
        look[b.rid[deg]] = True
        if not look.any():
            return
        sel = np.nonzero(look[b.rid])[0]
        ids = np.cumsum(look) - 1
        regs = np.nonzero(look)[0]
        sub = type(b)(b.G[sel], b.lin[sel], ids[b.rid[sel]], b.bits[sel], b.S[:, :0], b.M[:, :0], b.pat[regs])
        reg, con, Z = _facets(sub, k, self.nb)
        reg = regs[reg]
        inner = ~np.any(Z & _mask_upto(base, Z.shape[1]), axis=1)  # not on the domain's boundary
        reg, con, Z = reg[inner], con[inner] - base, Z[inner]
        single = _popcount(Z) == 1
        r, u = reg[single], con[single]
        merge = inert[r, u]
        r, u = r[merge], u[merge]
        if r.size:
            Qp = b.pat[r]
            Qp[np.arange(r.size), u] ^= True
            self.P.append(_pack(b.pat[r]))
            self.Q.append(_pack(Qp))
        multi = np.nonzero(~single)[0]
        step = max(64, (1 << 20) // (k * max(self.widths)))  # bounds the (m, n_l, k) gradients
        for s in range(0, multi.size, step):
            f = multi[s:s + step]
            r = reg[f]
            tight = _unpack(Z[f], self.nb)[:, base:]
            across, same = _cross(self.layers, self.slope, b.pat[r], tight, con[f], k, self.widths, self.vertex_rtol)
            same &= np.any(across != b.pat[r], axis=1)
            self.P.append(_pack(b.pat[r[same]]))
            self.Q.append(_pack(across[same]))

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Confirmed merges between distinct patterns.

        Returns
        -------
        verts : ndarray of uint64, shape (V, w)
            The packed patterns involved.
        a, b : ndarray of int, shape (E,)
            Merging pairs, indices into ``verts``.
        one_sided : int
            Merges found from one side only (dropped).
        """
        if not self.P:
            w = _pack(np.zeros((0, sum(self.widths)), bool)).shape[1]
            return np.zeros((0, w), np.uint64), np.zeros(0, np.intp), np.zeros(0, np.intp), 0
        P, Q = np.concatenate(self.P), np.concatenate(self.Q)
        E = P.shape[0]
        verts, inv = np.unique(np.concatenate([P, Q]), axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        a, b = np.minimum(inv[:E], inv[E:]), np.maximum(inv[:E], inv[E:])
        key, n = np.unique(a.astype(np.int64) * verts.shape[0] + b, return_counts=True)
        both = n >= 2
        key = key[both]
        return verts, key // verts.shape[0], key % verts.shape[0], int(np.count_nonzero(~both))

    def count(self, n_regions: int) -> tuple[int, int]:
        """Number of affine pieces among ``n_regions`` regions, and ``one_sided``."""
        verts, a, b, one = self.pairs()
        if a.size == 0:
            return n_regions, one
        _, n = merge_pieces(verts.shape[0], a, b)
        return n_regions - (verts.shape[0] - n), one

    def labels(self, patterns: np.ndarray) -> tuple[np.ndarray, int, int]:
        """Piece of every region (rows of ``patterns``), the number of pieces and ``one_sided``."""
        R = patterns.shape[0]
        verts, a, b, one = self.pairs()
        if a.size == 0:
            return np.arange(R), R, one
        rows = _pack(patterns)
        allrows, inv = np.unique(np.concatenate([rows, verts]), axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        where = np.full(allrows.shape[0], -1, dtype=np.intp)
        where[inv[:R]] = np.arange(R)
        va = where[inv[R:][a]]
        vb = where[inv[R:][b]]
        ok = (va >= 0) & (vb >= 0)  # both sides seen: both exist
        labels, n = merge_pieces(R, va[ok], vb[ok])
        return labels, n, one + int(np.count_nonzero(~ok))
