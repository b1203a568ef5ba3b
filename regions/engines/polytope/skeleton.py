"""Fast path of the n-D count on a bounded box: the vertex-edge skeleton of a generic partition.

The double-description walk of :mod:`.kernel` keeps every region as its own
list of generators, so a vertex of a ``k``-dimensional partition is stored
once per region around it (``2^k`` times where ``k`` hyperplanes meet).  When
the partition is *generic* -- no vertex on a hyperplane it was not built on --
the same decisions can be taken on the shared skeleton instead, each vertex
and each edge held once (the data structure of edge subdivision, Berzins
2023, here with the values carried as linear combinations and with the
tolerance of the kernel):

* every vertex carries the values ``S`` of the current layer's units, their
  magnitudes ``M`` (the sums taken with absolute values) and two bit sets
  over the constraints (box faces, hidden units so far): *positive* and
  *zero* (tight);
* a unit whose value is within ``VERTEX_RTOL * M`` of zero at some vertex
  makes the partition non-generic: the fast path gives up (:class:`Degenerate`)
  and the caller runs the exact double-description walk instead;
* otherwise each edge with ends of opposite signs gets a new vertex (values
  interpolated, the unit's own value exactly 0), and new edges join the new
  vertices of the split edges that bound one 2-face.  A split edge is tight on
  exactly ``k - 1`` constraints; dropping one of them and choosing its sign
  names a 2-face (its full sign vector).  In a generic partition the new
  hyperplane crosses the boundary of every 2-face it cuts exactly twice, so
  every such name must occur exactly twice; any other multiplicity (a
  rounding inconsistency) also gives up;
* at the end a vertex is tight on exactly ``k`` constraints and, generic, touches
  the ``2^h`` regions obtained by giving its ``h`` tight hidden units either
  state (box faces: inside only).  Each region has a vertex (it is a bounded
  polytope), so the distinct completed patterns are the regions; their
  prefixes are the regions after each layer.

The decisions are those of the kernel (same tolerance, values combined the
same way along edges), the consistency checks are exact integer tests, and
anything the skeleton cannot represent falls back to the kernel, so the
count is the kernel's.  Affine pieces: where no unit is inert on any region
(:func:`.kernel._inert`), pieces are regions; otherwise neighbours across a
facet on one inert unit are read off the vertices' completions (two
completions of one vertex differing in one tight unit share a facet there).
"""

from __future__ import annotations

import numpy as np

from ...core.pieces import merge_pieces
from ...core.progress import Progress
from ...domains import Domain
from ...model.network import Network

__all__ = ["Degenerate", "skeleton_count"]

#: Vertices per block of values (:class:`_Values`).
_BLOCK = 1 << 15
#: Completed patterns held at once while counting (rows x words), before a unique pass.
_KEYS_CHUNK = 1 << 19


class Degenerate(Exception):
    """The partition is not generic (or rounding is inconsistent): use the exact kernel walk."""


def _bits_of(rows: np.ndarray, nbits: int) -> tuple[np.ndarray, np.ndarray]:
    """Set bits of uint64 rows (m, nw): (row, bit) pairs sorted by row then bit."""
    u8 = np.ascontiguousarray(rows, dtype="<u8").view(np.uint8)
    B = np.unpackbits(u8, axis=1, count=nbits, bitorder="little")
    return np.nonzero(B)


def _unique_rows(K: np.ndarray) -> np.ndarray:
    """Distinct rows of a uint64 array (m, w), sorted."""
    if K.shape[0] == 0:
        return K
    if K.shape[1] == 1:  # sort + compare: numpy's hash-based np.unique is far slower on many distinct keys
        s = np.sort(K[:, 0])
        keep = np.ones(s.size, dtype=bool)
        keep[1:] = s[1:] != s[:-1]
        return s[keep][:, None]
    order = np.lexsort(K.T[::-1])
    K = K[order]
    keep = np.ones(K.shape[0], dtype=bool)
    keep[1:] = np.any(K[1:] != K[:-1], axis=1)
    return K[keep]


class _Values:
    """Values (float64) and magnitudes (float32) of the current layer's units, per vertex, in blocks.

    One ``(n, size)`` array per block, sizes doubling from 1024 up to :data:`_BLOCK` vertices: a unit's
    values are contiguous within a block, and growing never copies nor over-allocates much (fresh pages
    are costly on virtual machines, and huge pages make any touched part of a row resident).
    """

    def __init__(self, S: np.ndarray, M: np.ndarray):
        self.n = S.shape[0]
        self.S: list[np.ndarray] = []
        self.M: list[np.ndarray] = []
        self.starts = [0]  # first vertex of every block, and one past the last block's capacity
        self.V = 0
        self.append(S, M)

    def append(self, S: np.ndarray, M: np.ndarray) -> None:
        m, at = S.shape[1], 0
        while at < m:
            if self.V == self.starts[-1]:  # the last block is full
                size = min(_BLOCK, max(1024, 2 * (self.S[-1].shape[1] if self.S else 0), m - at))
                self.S.append(np.empty((self.n, size)))
                self.M.append(np.empty((self.n, size), dtype=np.float32))
                self.starts.append(self.starts[-1] + size)
            off = self.V - self.starts[-2]
            take = min(m - at, self.starts[-1] - self.V)
            self.S[-1][:, off:off + take] = S[:, at:at + take]
            self.M[-1][:, off:off + take] = M[:, at:at + take]
            at += take
            self.V += take

    def _used(self, i: int) -> int:
        return min(self.starts[i + 1], self.V) - self.starts[i]

    def column(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """Values and magnitudes of unit ``j`` at every vertex, (V,) each."""
        if len(self.S) == 1:
            last = self._used(0)
            return self.S[0][j, :last], self.M[0][j, :last]
        nb = len(self.S)
        return (np.concatenate([self.S[i][j, :self._used(i)] for i in range(nb)]),
                np.concatenate([self.M[i][j, :self._used(i)] for i in range(nb)]))

    def gather(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All units' values and magnitudes at the vertices ``ids``, (n, m) each."""
        if len(self.S) == 1:
            return self.S[0][:, ids], self.M[0][:, ids]
        blk = np.searchsorted(np.asarray(self.starts), ids, side="right") - 1
        off = ids - np.asarray(self.starts)[blk]
        S = np.empty((self.n, ids.size))
        M = np.empty((self.n, ids.size), dtype=np.float32)
        for b in np.flatnonzero(np.bincount(blk)):
            sel = np.flatnonzero(blk == b)
            S[:, sel] = self.S[b][:, off[sel]]
            M[:, sel] = self.M[b][:, off[sel]]
        return S, M

    def map_blocks(self, fn) -> None:
        """Replace every block ``(S, M)`` by ``fn(S, M)`` (the next layer's values), one block at a time."""
        for i in range(len(self.S)):
            used, size = self._used(i), self.S[i].shape[1]
            S2, M2 = fn(self.S[i][:, :used], self.M[i][:, :used])
            if S2.shape[0] != self.S[i].shape[0]:  # another width: new blocks (else reuse the touched pages)
                self.S[i] = np.empty((S2.shape[0], size))
                self.M[i] = np.empty((S2.shape[0], size), dtype=np.float32)
            self.S[i][:, :used] = S2
            self.M[i][:, :used] = M2
            _check_float32(M2)
        self.n = self.S[0].shape[0]


class _Skeleton:
    """Vertices (values, magnitudes, positive and zero bit sets) and edges, grown in place."""

    def __init__(self, S: np.ndarray, M: np.ndarray, P: np.ndarray, Z: np.ndarray, E: np.ndarray):
        V = P.shape[0]
        cap = max(1024, 4 * V)
        self.V = V
        self.vals = _Values(S, M)  # magnitudes in float32: they only set a tolerance
        self.P = np.empty((cap, P.shape[1]), dtype=np.uint64); self.P[:V] = P
        self.Z = np.empty((cap, Z.shape[1]), dtype=np.uint64); self.Z[:V] = Z
        self.nE = E.shape[0]
        self.E = np.empty((max(1024, 4 * self.nE), 2), dtype=np.int32); self.E[: self.nE] = E

    def _grow_vertices(self, extra: int) -> None:
        need = self.V + extra
        cap = self.P.shape[0]
        if need <= cap:
            return
        cap = max(need, 2 * cap)
        if cap >= 2**31:
            raise Degenerate("more than 2^31 vertices")
        V = self.V
        for name in ("P", "Z"):
            old = getattr(self, name)
            arr = np.empty((cap, old.shape[1]), dtype=old.dtype); arr[:V] = old[:V]
            setattr(self, name, arr)

    def _grow_edges(self, extra: int) -> None:
        need = self.nE + extra
        if need <= self.E.shape[0]:
            return
        arr = np.empty((max(need, 2 * self.E.shape[0]), 2), dtype=np.int32)
        arr[: self.nE] = self.E[: self.nE]
        self.E = arr

    def cut(self, col: int, bit: int, k: int, n_box: int, rtol: float) -> None:
        """Subdivide by the unit in row ``col`` of the values, incidence bit ``bit``."""
        V = self.V
        s, mag = self.vals.column(col)
        if np.any(np.abs(s) <= rtol * mag):
            raise Degenerate(f"a vertex lies on unit {bit - n_box}'s hyperplane")
        pos = s > 0.0
        word, onebit = bit >> 6, np.uint64(1) << np.uint64(bit & 63)
        self.P[:V, word][pos] |= onebit
        E = self.E[: self.nE]
        pe = pos[E]
        split = np.nonzero(pe[:, 0] != pe[:, 1])[0]
        ns = split.size
        if ns == 0:
            return
        a, c = E[split, 0], E[split, 1]
        first_pos = pe[split, 0]
        u = np.where(first_pos, a, c)  # positive end
        w = np.where(first_pos, c, a)  # negative end
        su, sw = s[u], s[w]
        den = su - sw
        alpha, beta = su / den, -sw / den  # new = alpha w + beta u: both in (0, 1)
        a32, b32 = alpha.astype(np.float32), beta.astype(np.float32)
        self._grow_vertices(ns)
        ids = np.arange(V, V + ns)
        Sw, Mw = self.vals.gather(w)
        Su, Mu = self.vals.gather(u)
        Sw *= alpha
        Su *= beta
        Sw += Su
        Sw[col] = 0.0
        # magnitudes in float32, rounded up so that they never shrink below the float64 combination
        Mw *= alpha.astype(np.float32)
        Mu *= beta.astype(np.float32)
        Mw += Mu
        Mw *= np.float32(1.0 + 2.0**-20)
        self.vals.append(Sw, Mw)
        del Sw, Su, Mw, Mu
        Pn = self.P[u] | self.P[w]
        Pn[:, word] &= ~onebit
        Ze = self.Z[u] & self.Z[w]  # the edge's tight constraints
        Zn = Ze.copy()
        Zn[:, word] |= onebit
        self.P[V:V + ns] = Pn
        self.Z[V:V + ns] = Zn
        self.V = V + ns
        # ---- 2-faces of the split edges: drop one tight constraint, give it a sign
        rows, cons = _bits_of(Ze, 64 * Ze.shape[1])
        if rows.size != ns * (k - 1):
            raise Degenerate("an edge is tight on more or fewer than k - 1 constraints")
        box = cons < n_box
        cw = cons >> 6
        cb = np.left_shift(np.uint64(1), (cons & 63).astype(np.uint64))
        KZ = Ze[rows]
        KZ[np.arange(rows.size), cw] &= ~cb
        KP = Pn[rows]
        KPp = KP.copy()
        KPp[np.arange(rows.size), cw] |= cb  # the dropped constraint positive (inside for a box face)
        side_minus = ~box  # a hidden unit's hyperplane has a 2-face on either side; a box face only inside
        KZ = np.concatenate([KZ, KZ[side_minus]])
        KP = np.concatenate([KPp, KP[side_minus]])
        owner = np.concatenate([ids[rows], ids[rows[side_minus]]])
        keys = np.concatenate([KZ, KP], axis=1)
        order = np.argsort(_hash_rows(keys), kind="stable")  # equal names are adjacent (a collision
        keys = keys[order]  # of two names only fails the test below, never pairs them wrongly)
        n = keys.shape[0]
        if n % 2:
            raise Degenerate("a 2-face is cut once (inconsistent rounding)")
        same = np.all(keys[0::2] == keys[1::2], axis=1)
        if not same.all() or (n > 2 and np.any(np.all(keys[2::2] == keys[1:-1:2], axis=1))):
            raise Degenerate("a 2-face is not cut exactly twice (inconsistent rounding)")
        o = owner[order]
        # ---- edges: split edges become (u, new) and (new, w); new vertices of one 2-face are joined
        self._grow_edges(ns + n // 2)
        self.E[split, 0] = u
        self.E[split, 1] = ids
        m = self.nE
        self.E[m:m + ns, 0] = ids
        self.E[m:m + ns, 1] = w
        self.E[m + ns:m + ns + n // 2, 0] = o[0::2]
        self.E[m + ns:m + ns + n // 2, 1] = o[1::2]
        self.nE = m + ns + n // 2

    def next_layer(self, W: np.ndarray, b: np.ndarray, slope: float, rtol: float) -> None:
        """Replace the values by the next layer's pre-activations (magnitudes conservative at zeros)."""
        with np.errstate(over="ignore"):  # beyond float32: inf, and _check_float32 hands over to the walk
            aW, ab = np.abs(W).astype(np.float32), np.abs(b).astype(np.float32)[:, None]

        def fn(S, M):
            # the layer's output and its magnitude, in place (a unit at zero may be active on a region
            # around the vertex, so its magnitude is kept)
            neg = S < -(rtol * M)
            if slope == 0.0:
                np.maximum(S, 0.0, out=S)
                M[neg] = 0.0
            else:
                np.multiply(S, slope, out=S, where=S < 0.0)
                M[neg] *= np.float32(slope)
            with np.errstate(over="ignore", invalid="ignore"):  # checked: _check_float32, and the walk's own
                S2 = W @ S
                S2 += b[:, None]
                M2 = aW @ M
                M2 += ab
                M2 *= np.float32(1.0 + 2.0**-16)  # float32 sums rounded up: never below the float64 ones
            return S2, M2

        self.vals.map_blocks(fn)


def _check_float32(M: np.ndarray) -> None:
    """Magnitudes far inside float32's normal range (else the float64 walk decides)."""
    pos = M[M > 0]
    if not np.isfinite(M).all() or (pos.size and (pos.min() < 1e-30 or pos.max() > 1e30)):
        raise Degenerate("magnitudes outside float32's range")


def _box_skeleton(domain: Domain, W0: np.ndarray, b0: np.ndarray, nw: int, first_values):
    """Corners and edges of the box with the first layer's values; box-face bits ``2i`` (lo), ``2i+1`` (hi)."""
    k = domain.dim
    code = np.arange(1 << k)
    hi = ((code[:, None] >> np.arange(k)[None, :]) & 1).astype(bool)  # (2^k, k) at the upper bound
    X = np.where(hi, domain.hi[None, :], domain.lo[None, :])
    G = np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)
    S, M = first_values(G, W0, b0, k)
    _check_float32(M)
    M = (M * (1.0 + 2.0**-20)).astype(np.float32)
    P = np.zeros((X.shape[0], nw), dtype=np.uint64)
    Z = np.zeros_like(P)
    for i in range(k):
        lo_bit, hi_bit = np.uint64(1) << np.uint64(2 * i), np.uint64(1) << np.uint64(2 * i + 1)
        Z[hi[:, i], 0] |= hi_bit
        P[hi[:, i], 0] |= lo_bit
        Z[~hi[:, i], 0] |= lo_bit
        P[~hi[:, i], 0] |= hi_bit
    a, bb = [], []
    for i in range(k):
        lo = code[~hi[:, i]]
        a.append(lo)
        bb.append(lo | (1 << i))
    E = np.stack([np.concatenate(a), np.concatenate(bb)], axis=1)
    return _Skeleton(S, M, P, Z, E)


def skeleton_count(pulled: Network, domain: Domain, *, rtol: float, first_values, inert,
                   progress: bool = False) -> tuple[int, list, int]:
    """Regions, regions per layer and affine pieces of a generic partition of a bounded box.

    Parameters
    ----------
    pulled : Network
        The network in the domain's parameter coordinates.
    domain : Domain
        A bounded box of dimension ``k`` (``k <= 30``).
    rtol : float
        The kernel's vertex tolerance.
    first_values, inert : callables
        The kernel's first-layer values and inert-unit test (shared, so the decisions are its own).
    progress : bool
        A progress bar over the hidden units (needs tqdm).

    Returns
    -------
    regions : int
    layer_counts : list of int
    pieces : int

    Raises
    ------
    Degenerate
        Where the partition is not generic; the caller then runs the kernel's walk.
    """
    k = domain.dim
    hidden = pulled.layers[:-1]
    widths = [W.shape[0] for W, _ in hidden]
    n_box = 2 * k
    nh_total = sum(widths)
    nbits = n_box + nh_total
    nw = (nbits + 63) // 64
    if n_box > 64:
        raise Degenerate("more than 32 input dimensions")
    W0, b0 = hidden[0]
    sk = _box_skeleton(domain, W0, b0, nw, first_values)
    slope = pulled.negative_slope
    bit = n_box
    # the units are known up front: a fraction and an ETA that mean something
    with Progress(progress, [("hidden units", nh_total)], unit="units") as bar:
        for l, (W, _) in enumerate(hidden):
            for j in range(W.shape[0]):
                sk.cut(j, bit + j, k, n_box, rtol)
                bar.update(0)
            bit += W.shape[0]
            if l + 1 < len(hidden):
                sk.next_layer(*hidden[l + 1], slope, rtol)
    V = sk.V
    P, Z = sk.P[:V], sk.Z[:V]
    del sk  # values and edges are not needed to count
    # hidden bits only, shifted to start at bit 0 of word 0
    nh = nbits - n_box
    hw = (nh + 63) // 64
    Ph, Zh = _shift_down(P, n_box, nh, hw), _shift_down(Z, n_box, nh, hw)
    kz = np.bitwise_count(Zh).sum(axis=1) if hasattr(np, "bitwise_count") else None
    if kz is None:  # pragma: no cover - numpy < 2
        kz = np.unpackbits(Zh.view(np.uint8), axis=1).sum(axis=1)
    uniq, chunks, held = [], [], 0
    comp = []  # per group: (vertex rows, tight bit positions) for the pieces
    for h in np.flatnonzero(np.bincount(kz)):
        rows = np.nonzero(kz == h)[0]
        h = int(h)
        if h == 0:
            chunks.append(Ph[rows]); held += rows.size
            comp.append((rows, np.zeros((rows.size, 0), np.int64)))
            continue
        r_, c_ = _bits_of(Zh[rows], 64 * hw)
        cols = c_.reshape(rows.size, h)
        comp.append((rows, cols))
        step = max(1, _KEYS_CHUNK // ((1 << h) * hw))
        for lo in range(0, rows.size, step):
            Q = _completions(Ph[rows[lo:lo + step]], cols[lo:lo + step], hw)
            chunks.append(Q.reshape(-1, hw)); held += Q.shape[0] * Q.shape[1]
            if held * hw > _KEYS_CHUNK:
                uniq.append(_unique_rows(np.concatenate(chunks))); chunks, held = [], 0
    if chunks:
        uniq.append(_unique_rows(np.concatenate(chunks)))
    keys = _unique_rows(np.concatenate(uniq)) if len(uniq) > 1 else uniq[0]
    R = keys.shape[0]
    counts = []
    off = 0
    for wl in widths[:-1]:
        off += wl
        counts.append(int(_unique_rows(keys & _low_mask(off, hw)[None, :]).shape[0]))
    counts.append(R)
    # whether a unit is inert depends only on the states of the later layers: evaluate it once per
    # distinct pattern with the first layer's states cleared
    suffix = keys & ~_low_mask(widths[0], hw)[None, :]
    usuf = _unique_rows(suffix)
    pat = np.unpackbits(np.ascontiguousarray(usuf, dtype="<u8").view(np.uint8), axis=1, count=nh,
                        bitorder="little").view(bool)
    ine_u = inert(pulled.layers, slope, pat, widths)
    if not ine_u.any():
        return R, counts, R
    ine = ine_u[_find_rows(usuf, suffix)]
    # neighbours across a facet on one inert unit, from the completions of each vertex
    a_all, b_all = [], []
    for rows, cols in comp:
        h = cols.shape[1]
        if h == 0:
            continue
        Q = _completions(Ph[rows], cols, hw)
        idx = _find_rows(keys, Q.reshape(-1, hw)).reshape(1 << h, rows.size)
        for sub in range(1 << h):
            for i in range(h):
                if sub >> i & 1:
                    continue
                r1, r2 = idx[sub], idx[sub | (1 << i)]
                m = ine[r1, cols[:, i]] & ine[r2, cols[:, i]]  # inert seen from both sides, as the walk
                a_all.append(r1[m]); b_all.append(r2[m])
    a = np.concatenate(a_all) if a_all else np.zeros(0, np.int64)
    b = np.concatenate(b_all) if b_all else np.zeros(0, np.int64)
    _, n_pieces = merge_pieces(R, a, b)
    return R, counts, n_pieces


_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                dtype=np.uint64)


def _hash_rows(K: np.ndarray) -> np.ndarray:
    """A 64-bit mix of every row of a uint64 array (m, w) (equal rows, equal hashes)."""
    h = np.zeros(K.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(K.shape[1]):
            x = K[:, i] * _MIX[i % _MIX.size] + np.uint64(i)
            x ^= x >> np.uint64(31)
            h = (h ^ x) * _MIX[(i + 3) % _MIX.size]
        h ^= h >> np.uint64(29)
    return h


def _low_mask(nbits: int, nw: int) -> np.ndarray:
    out = np.zeros(nw, dtype=np.uint64)
    full, rest = divmod(nbits, 64)
    out[:full] = np.uint64(0xFFFFFFFFFFFFFFFF)
    if rest:
        out[full] = (np.uint64(1) << np.uint64(rest)) - np.uint64(1)
    return out


def _completions(base: np.ndarray, cols: np.ndarray, hw: int):
    """The rows ``base`` (m, hw) with every subset of the bits ``cols`` (m, h) set, (2^h, m, hw):
    block ``s`` sets ``cols[:, i]`` for every bit ``i`` of ``s``."""
    m, h = cols.shape
    ar = np.arange(m)
    masks = np.zeros((h, m, hw), dtype=np.uint64)
    for i in range(h):
        masks[i, ar, cols[:, i] >> 6] = np.left_shift(np.uint64(1), (cols[:, i] & 63).astype(np.uint64))
    Q = base[None]
    for i in range(h):
        Q = np.concatenate([Q, Q | masks[i][None]])
    return Q


def _shift_down(A: np.ndarray, shift: int, nbits: int, nw_out: int) -> np.ndarray:
    """Bits ``shift .. shift + nbits - 1`` of each row of ``A`` (m, nw), moved to bit 0: (m, nw_out)."""
    q, r = divmod(shift, 64)
    out = np.zeros((A.shape[0], nw_out), dtype=np.uint64)
    for i in range(nw_out):
        src = q + i
        if src < A.shape[1]:
            out[:, i] = A[:, src] >> np.uint64(r)
        if r and src + 1 < A.shape[1]:
            out[:, i] |= A[:, src + 1] << np.uint64(64 - r)
    return out & _low_mask(nbits, nw_out)[None, :]


def _find_rows(keys: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Index of every row of ``Q`` in the sorted distinct rows ``keys`` (all present)."""
    if keys.shape[1] == 1:
        return np.searchsorted(keys[:, 0], Q[:, 0])
    dt = np.dtype([(f"f{i}", np.uint64) for i in range(keys.shape[1])])  # compared field by field
    return np.searchsorted(np.ascontiguousarray(keys).view(dt)[:, 0], np.ascontiguousarray(Q).view(dt)[:, 0])
