"""The 1-D walk for lowered op networks: per-unit slopes, linear units, max groups.

Works on a :class:`regions.model.ops.Lowered` chain along a 1-D domain.
Layer by layer every region (an interval) carries the value ``V`` and the
derivative ``A`` of the carrier at an interior representative point.  A
layer proposes breakpoints: where a bending elementwise unit crosses zero,
and where two candidates of one max group cross.  The region is cut at all
of them, each child's pattern is read at its representative point, and
consecutive children of one parent with the same pattern are joined again
(crossings of candidates that are not on the group's upper envelope change
nothing).  Candidates that compute the same affine function on a region
tie; the lowest index wins, so they split nothing.

Exactness at every scale
------------------------
No decision uses a tolerance.  Every value the walk computes carries a
rigorous bound of its rounding, propagated from the inputs (which are
exact): a dot product of length ``n`` adds ``gamma_n`` times the same sum
computed with absolute values (``gamma_n = n u / (1 - n u)``, ``u`` the unit
roundoff, any summation order), every other operation its own rounding,
and underflow its absolute error.  From these the walk bounds every
crossing ``t* = rep - Z / S`` and certifies in float64

* that a unit's slope is not zero (``|S| >`` its bound), or else that its
  sign is constant over the whole region;
* that every crossing is inside the region beyond both bounds, or outside
  it beyond them (a breakpoint on the domain's end is neither);
* that the crossings inside are separated beyond their bounds;
* that every child's representative point lies inside the child beyond the
  bounds of its ends, and that every sign and every max selection read
  there exceeds its bound (two max candidates whose values cannot be told
  apart may compute one affine function: a tie).

Signs known on a whole region also certify: a unit that copies one carrier
value (a max-pool candidate reading a ReLU output) is ``> 0`` where that
ReLU is active and ``== 0`` where it is inactive, so the crossing of an
active candidate with an inactive one, which lies exactly on the region's
end, is never a breakpoint (``_Layer.codes``).  Neighbouring output slopes
computed by the same formula from equal inputs are equal without rounding
(``_same_by_structure``).

A region where any of these fails is decided again in exact rational
arithmetic by :class:`~regions.engines.line.ops_exact.OpExactLine` (counted
in ``CountResult.extra["exact_decisions"]``); so are neighbouring regions
whose output slopes float64 cannot tell equal or different (for
``n_pieces``).  Nothing is merged or dropped by a tolerance: a bigger
domain never holds fewer regions, and positive rescaling never changes a
count.  A child with no float64 number inside it (see :mod:`.ops_exact`)
and overflow of float64 are refused with
:class:`~regions.errors.NumericalError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.result import CountResult
from ...core.tolerances import EPS
from ...domains import Domain
from ...errors import NumericalError, RegionsError, VerificationError
from ...model.ops import Lowered, Units
from .kernel import _check_finite, _reps
from .ops_exact import OpExactLine

__all__ = ["OpLinePartition", "partition_line_ops"]

#: Unit roundoff of float64 (half of ``EPS``).
_U = EPS / 2
#: The smallest subnormal: the absolute error of a product that underflows.
_ETA = 2.0 ** -1074
#: Below this, products and sums of float64 may lose relative precision (subnormal range).
_TINY = 2.0 ** -1020
#: Sign code of a value whose sign on the region is not known (see :meth:`_Layer.codes`).
_UNKNOWN = 9
#: Relative slack on every computed bound (the rounding of the bound's own arithmetic).
_UP = 1.0 + 16 * EPS


def _gamma(n: int) -> float:
    return n * _U / (1.0 - n * _U)


@dataclass(eq=False)
class OpLinePartition:
    """Regions of a lowered op network along a 1-D domain: ``(breaks[i], breaks[i+1])``."""

    breaks: np.ndarray
    patterns: np.ndarray
    slopes: np.ndarray
    witnesses: np.ndarray
    layer_counts: tuple
    n_pieces: int
    engine: str = "line"
    network: object = None
    domain: Domain | None = None
    partial: bool = False
    _low: Lowered | None = None
    extra: dict = field(default_factory=dict)
    _exact: OpExactLine | None = None

    @property
    def n_regions(self) -> int:
        return int(self.witnesses.shape[0])

    @property
    def measures(self) -> np.ndarray:
        """Lengths of the intervals (parameter coordinates; inf for unbounded ends)."""
        return np.diff(self.breaks)

    def points(self) -> np.ndarray:
        return self.domain.to_input(self.witnesses[:, None])

    def output_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """``(J, c)``: output ``= J[i] @ t + c[i]`` on interval ``i``, shapes (R, n_out, 1), (R, n_out)."""
        y = self._low(self.points())
        return self.slopes[:, :, None], y - self.slopes * self.witnesses[:, None]

    def count(self) -> CountResult:
        return CountResult(self.n_regions, self.n_pieces, list(self.layer_counts), self.engine,
                           extra=dict(self.extra))

    def verify(self) -> dict:
        """Checks: consecutive intervals differ in pattern (convex regions: patterns unique); every
        witness reproduces its pattern in the lowered network; lengths sum to the domain's.

        The lowered network reads max ties with a tolerance (:meth:`regions.model.ops.Units.bits`);
        a witness whose pattern differs there is read again exactly, on the pulled network."""
        pats = self._low.patterns(self.points())
        diff = np.nonzero(np.any(pats != self.patterns, axis=1))[0]
        if diff.size and self._exact is not None:
            diff = [i for i in diff if not np.array_equal(self._exact.pattern(float(self.witnesses[i])),
                                                          self.patterns[i])]
        bad = len(diff)
        unique = len({p.tobytes() for p in self.patterns}) == self.n_regions
        out = {"witness_mismatches": bad, "unique_patterns": unique}
        if np.isfinite(self.breaks).all():
            total = float(self.breaks[-1] - self.breaks[0])
            out["measure_rel_error"] = abs(float(self.measures.sum()) - total) / total
        if bad or not unique or out.get("measure_rel_error", 0.0) > 1e-9:
            raise VerificationError(f"expected a consistent partition, got {out}")
        return out


def _first_of_equal_rows(key: np.ndarray) -> np.ndarray:
    """For each row of ``key``, the index of the first row equal to it (rows with equal hashes are
    compared entry by entry; a row equal to none maps to itself)."""
    m = key.shape[0]
    first = np.arange(m)
    with np.errstate(all="ignore"):
        h = key @ np.cos(np.arange(1, key.shape[1] + 1) * 0.7390851)  # a fixed projection
    order = np.argsort(h, kind="stable")
    for i in np.nonzero(h[order][1:] == h[order][:-1])[0]:
        a, b = order[i], order[i + 1]
        if np.array_equal(key[a], key[b]):
            first[b] = first[a]
    return first


class _Layer:
    """What the walk needs of one hidden layer, computed once: rows, bounds, candidates, bit layout."""

    def __init__(self, W: np.ndarray, b: np.ndarray, u: Units):
        self.W, self.b, self.u = W, b, u
        self.Wt = W.T.copy()
        self.absWt = np.abs(self.Wt)
        self.absb = np.abs(b)
        self.g = _gamma(W.shape[1] + 2)
        nzW = self.absWt[self.absWt > 0]
        self.wmin = float(nzW.min()) if nzW.size else np.inf
        self.n_bits = u.n_bits
        # sparse layers (pooling selections, convolutions) multiply as sparse matrices
        self._sp = None
        if W.size > 4096 and np.count_nonzero(W) < 0.2 * W.size:
            from scipy import sparse  # noqa: PLC0415

            self._sp = (sparse.csr_matrix(W), sparse.csr_matrix(np.abs(W)), sparse.csr_matrix((W != 0) * 1.0))
        # rows that copy one carrier value (one non-zero weight, no bias) or are constant: their sign
        # on a region follows from the carrier's sign codes (see _codes)
        nnz = np.count_nonzero(W, axis=1)
        self.oh = np.nonzero((nnz == 1) & (b == 0))[0]
        self.oh_k = np.abs(W[self.oh]).argmax(axis=1)
        self.oh_s = np.sign(W[self.oh, self.oh_k]).astype(np.int8)
        self.cst = np.nonzero(nnz == 0)[0]
        self.cst_code = (2 * np.sign(b[self.cst])).astype(np.int8)
        # rows equal to an earlier row compute the same function everywhere: one crossing, one tie
        first = _first_of_equal_rows(np.concatenate([W, b[:, None]], axis=1))
        if u.groups is None:
            self.split = np.nonzero(u.splitting)[0]
            fs = first[self.split]  # crossings, one per distinct row among the bending units
            _, one = np.unique(fs, return_index=True)
            self.cols = self.split[np.sort(one)]
            self.pi = self.pj = np.zeros(0, dtype=np.intp)
            self.neg, self.pos = u.negative, u.positive
            return
        G = len(u.groups)
        canon = [[int(i) for q, i in enumerate(g) if first[i] not in first[g[:q]]] for g in u.groups]
        # canon[g]: members with no equal earlier member (the later ones never win a tie)
        pos_in = [{int(i): q for q, i in enumerate(g)} for g in u.groups]
        k = max(len(c) for c in canon)
        self.gi = np.array([c + [c[0]] * (k - len(c)) for c in canon], dtype=np.intp)  # (G, k) padded
        self.gpad = np.array([[q >= len(c) for q in range(k)] for c in canon], dtype=bool)
        self.gpos = np.array([[pos_in[h][i] for i in row] for h, row in enumerate(self.gi.tolist())],
                             dtype=np.intp)  # position of each canon member within its group
        sizes = np.array([g.size for g in u.groups])
        self.boff = np.where(sizes > 1, np.cumsum(np.where(sizes > 1, sizes, 0)) - sizes, -1)
        self.single = np.array([int(g[0]) for g in u.groups])  # the member of a group of one
        self.multi = np.nonzero(sizes > 1)[0]
        self.bit_member = np.concatenate([u.groups[h] for h in self.multi]).astype(np.intp) \
            if self.multi.size else np.zeros(0, dtype=np.intp)
        self.bit_group = np.repeat(self.multi, sizes[self.multi])
        pairs = [(c[a], c[q]) for c in canon for a in range(len(c)) for q in range(a + 1, len(c))]
        self.pi = np.array([p[0] for p in pairs], dtype=np.intp)
        self.pj = np.array([p[1] for p in pairs], dtype=np.intp)
        self.cols = np.zeros(0, dtype=np.intp)
        self.G = G

    def mm(self, X, which: int = 0):
        """``X @ W.T`` (``which`` 0), ``X @ |W|.T`` (1) or ``X @ (W != 0).T`` (2), dense or sparse."""
        if self._sp is not None:
            return np.asarray((self._sp[which] @ X.T).T)
        if which == 2 and not hasattr(self, "_nz"):
            self._nz = (self.Wt != 0) * 1.0
        return X @ (self.Wt, self.absWt, getattr(self, "_nz", None))[which]

    def pre(self, V, A, eV, eA):
        """Pre-activations ``Z``, slopes ``S`` at the reps and their rounding bounds."""
        with np.errstate(over="ignore", invalid="ignore"):
            Z = self.mm(V)
            Z += self.b
            S = self.mm(A)
            eZ = self.mm(eV + self.g * np.abs(V), 1)
            eZ += self.g * self.absb
            eS = self.mm(eA + self.g * np.abs(A), 1)
        n = self.Wt.shape[0] + 2
        # underflow: n products, each off by at most _ETA, in the rows where a product of non-zero
        # factors (or a term of the bound) may fall below float64's normal range
        eZ += (n * _ETA) * self._tiny(V, eV)[:, None]
        eS += (n * _ETA) * self._tiny(A, eA)[:, None]
        eZ *= _UP
        eS *= _UP
        _check_finite(Z, S, eZ, eS)
        return Z, S, eZ, eS

    def codes(self, sg):
        """Sign codes of the layer's pre-activations on each region from the carrier's, (R, m) int8.

        A code says what holds on the whole region: 2 ``> 0``, 1 ``>= 0``, 0 ``== 0``, -1 ``<= 0``,
        -2 ``< 0``; :data:`_UNKNOWN` nothing.
        """
        R, m = sg.shape[0], self.Wt.shape[1]
        c = np.full((R, m), _UNKNOWN, dtype=np.int8)
        if self.oh.size:
            src = sg[:, self.oh_k]
            c[:, self.oh] = np.where(src == _UNKNOWN, _UNKNOWN, src * self.oh_s)
        if self.cst.size:
            c[:, self.cst] = self.cst_code
        return c

    def out_codes(self, c, bits):
        """Sign codes of the layer's outputs on regions with pattern ``bits``, from those of ``codes``."""
        if self.u.groups is not None:
            return np.take_along_axis(c, self.select(bits), 1)
        known = c != _UNKNOWN
        sp = np.sign(self.pos).astype(np.int8)
        sn = np.sign(self.neg).astype(np.int8)
        out = np.where(known, c * sp, _UNKNOWN).astype(np.int8)  # linear units: a positive multiple
        z = c[:, self.split]
        act = bits
        on = 2 * sp[self.split]
        # inactive: z <= 0 (or < 0 where known strictly), times the negative slope
        off = np.where(z == -2, -2, -1) * sn[self.split]
        out[:, self.split] = np.where(act, on[None, :], off)
        return out.astype(np.int8)

    def _tiny(self, V, eV):
        """Rows where a product ``w v`` or ``w e`` of non-zero factors may underflow, bool (R,)."""
        with np.errstate(invalid="ignore"):
            vmin = np.where(V != 0, np.abs(V), np.inf).min(axis=1, initial=np.inf) * self.g
            vmin = np.minimum(vmin, np.where(eV != 0, eV, np.inf).min(axis=1, initial=np.inf))
        return vmin * min(self.wmin, self.g) < _TINY

    def crossings(self, Z, S, eZ, eS, rc):
        """Numerators ``N``, slopes ``D`` of the candidate crossings ``rep - N / D``, their bounds, and
        ``sure``: where the function that crosses has one strict sign on the whole region (no crossing)."""
        if self.u.groups is None:
            c = self.cols
            return Z[:, c], S[:, c], eZ[:, c], eS[:, c], np.abs(rc[:, c]) == 2
        i, j = self.pi, self.pj
        N, D = Z[:, i] - Z[:, j], S[:, i] - S[:, j]
        eN = (eZ[:, i] + eZ[:, j] + _U * np.abs(N)) * _UP
        eD = (eS[:, i] + eS[:, j] + _U * np.abs(D)) * _UP
        ci, cj = rc[:, i], rc[:, j]
        return N, D, eN, eD, _above(ci, cj) | _above(cj, ci)

    def read(self, Zc, eZc, Sc, eSc, rc):
        """Pattern bits at points with values ``Zc`` (bounds ``eZc``) and whether each row is certain.

        ``Sc``, ``eSc`` are the slopes and their bounds, ``rc`` the sign codes (:meth:`codes`).  For an
        elementwise layer the arrays hold the bending units' columns only.

        Returns ``bits`` (R, n_bits), ``ok`` (R,) and the selected member of every group (R, G) (None
        for elementwise layers).
        """
        R = Zc.shape[0]
        if self.u.groups is None:
            z, e, c = Zc, eZc, rc  # the bending units only (see ``need``)
            ok = np.all((np.abs(z) > e) | ((z == 0) & (e == 0)) | ((np.abs(c) == 2) & ((z > 0) == (c > 0))),
                        axis=1)
            return z > 0, ok, None
        v = np.where(self.gpad[None], -np.inf, Zc[:, self.gi])  # (R, G, k)
        e = eZc[:, self.gi]
        top = v.argmax(axis=2)  # (R, G): the first largest canon member
        tv = np.take_along_axis(v, top[:, :, None], 2)
        te = np.take_along_axis(e, top[:, :, None], 2)
        with np.errstate(invalid="ignore"):
            gap = (tv - v) * (1 - 2 * _U) > (te + e) * _UP
        gap |= self.gpad[None]
        c = rc[:, self.gi]
        tc = np.take_along_axis(c, top[:, :, None], 2)
        gap |= _above(tc, c)  # known from the signs on the whole region
        s, es = Sc[:, self.gi], eSc[:, self.gi]
        ts, tes = np.take_along_axis(s, top[:, :, None], 2), np.take_along_axis(es, top[:, :, None], 2)
        gap |= ((tc == 0) & (c == 0)) | ((tv == v) & (te == 0) & (e == 0) & (ts == s) & (tes == 0) & (es == 0))
        gap[np.arange(R)[:, None], np.arange(self.G)[None, :], top] = True
        ok = gap.all(axis=(1, 2))
        sel = np.take_along_axis(np.broadcast_to(self.gi, (R,) + self.gi.shape), top[:, :, None], 2)[:, :, 0]
        bits = np.zeros((R, self.n_bits), dtype=bool)
        if self.multi.size:
            pos = np.take_along_axis(np.broadcast_to(self.gpos, (R,) + self.gpos.shape),
                                     top[:, :, None], 2)[:, :, 0]  # (R, G)
            cols = self.boff[self.multi][None, :] + pos[:, self.multi]
            bits[np.arange(R)[:, None], cols] = True
        return bits, ok, sel

    def select(self, bits):
        """The selected member of every group (R, G) from pattern bits."""
        R = bits.shape[0]
        sel = np.broadcast_to(self.single, (R, self.G)).copy()
        rows, cols = np.nonzero(bits)
        sel[rows, self.bit_group[cols]] = self.bit_member[cols]
        return sel

    def apply(self, Z, S, eZ, eS, bits):
        """The layer's outputs ``V``, ``A`` and their bounds on regions with pattern ``bits``."""
        if self.u.groups is None:
            act = np.ones(Z.shape, dtype=bool)
            act[:, self.split] = bits
            k = np.where(act, self.pos, self.neg)
            V, A = k * Z, k * S
            ak = np.abs(k)
            eV = ak * eZ + _U * np.abs(V) + _ETA * ((np.abs(V) < _TINY) & (Z != 0) & (k != 0))
            eA = ak * eS + _U * np.abs(A) + _ETA * ((np.abs(A) < _TINY) & (S != 0) & (k != 0))
            return V, A, eV * _UP, eA * _UP
        sel = self.select(bits)
        pick = lambda X: np.take_along_axis(X, sel, 1)  # noqa: E731
        return pick(Z), pick(S), pick(eZ), pick(eS)


def _above(ci, cj):
    """Whether values with sign codes ``ci`` are certainly above those with ``cj`` on the whole region."""
    known = (ci != _UNKNOWN) & (cj != _UNKNOWN)
    return known & (ci >= 0) & (cj <= 0) & ((ci == 2) | (cj == -2))


def _shift(Z, S, eZ, eS, dt):
    """Values at ``rep + dt`` from those at ``rep``: ``Z + S dt`` and its bound (``dt`` rounded once)."""
    with np.errstate(over="ignore", invalid="ignore"):
        Zc = Z + S * dt[:, None]
        adt = np.abs(dt)[:, None]
        Sdt = np.abs(S) * adt
        eZc = eZ + adt * (eS + 3 * _U * np.abs(S)) + _U * np.abs(Zc) + 2 * _ETA * ((Sdt < _TINY) & (Sdt != 0))
    eZc *= _UP
    _check_finite(Zc, eZc)
    return Zc, eZc


def _inside(rep, left, ltol, right, rtol):
    """Whether each ``rep`` is certainly inside its region ``(left, right)`` (ends off by ``ltol``, ``rtol``)."""
    with np.errstate(invalid="ignore"):
        return ((rep - left) * (1 - 2 * _U) > ltol) & ((right - rep) * (1 - 2 * _U) > rtol)


def _split(lay: _Layer, left, ltol, right, rtol, rep, Z, S, eZ, eS, rc):
    """Certified children of every region; returns children arrays and the rows float64 cannot decide.

    Only the candidate crossings that may fall inside (slope not certainly zero, sign not known
    from the sign codes) are computed, as one flat vector over all regions.
    """
    R = left.shape[0]
    N, D, eN, eD, sure = lay.crossings(Z, S, eZ, eS, rc)
    flag = np.zeros(R, dtype=bool)
    absD = np.abs(D)
    nz = absD > eD  # slope certainly not zero
    open_ = ~sure
    rr, cc = np.nonzero(nz & open_)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        n_, d_, en, ed_ = N[rr, cc], D[rr, cc], eN[rr, cc], eD[rr, cc]
        d = -n_ / d_
        ad = np.abs(d)
        ed = (en + ad * ed_) / (np.abs(d_) - ed_) * _UP + _U * ad + _ETA
        T = rep[rr] + d
        eT = (ed + _U * np.abs(T) + _ETA) * _UP
        L, Lt, Rr, Rt = left[rr], ltol[rr], right[rr], rtol[rr]
        inside = ((T - L) * (1 - 2 * _U) - eT > Lt) & ((Rr - T) * (1 - 2 * _U) - eT > Rt)
        outside = (((L - T) * (1 - 2 * _U) - eT > Lt) | ((T - Rr) * (1 - 2 * _U) - eT > Rt)) & np.isfinite(T)
    flag[rr[~inside & ~outside]] = True
    # a slope that may be zero: fine only if the sign is constant over the whole region
    ur, uc = np.nonzero(~nz & open_ & ((absD + eD) > 0))
    if ur.size:
        hw = np.maximum(rep - left, right - rep)[ur]
        aD = absD[ur, uc] + eD[ur, uc]
        with np.errstate(invalid="ignore", over="ignore"):
            const = (np.abs(N[ur, uc]) - eN[ur, uc]) * (1 - 2 * _U) > aD * hw * _UP
        flag[ur[~const]] = True
    # crossings inside, by region then position; neighbours must be separated beyond their bounds
    ri, Ti, eTi = rr[inside], T[inside], eT[inside]
    order = np.lexsort((Ti, ri))
    ri, Ti, eTi = ri[order], Ti[order], eTi[order]
    with np.errstate(invalid="ignore"):
        close = (ri[1:] == ri[:-1]) & ((Ti[1:] - Ti[:-1]) * (1 - 2 * _U) <= eTi[1:] + eTi[:-1])
    flag[ri[1:][close]] = True
    keep = ~flag[ri]
    ri, Ti, eTi = ri[keep], Ti[keep], eTi[keep]
    counts = 1 + np.bincount(ri, minlength=R)
    first = np.cumsum(counts) - counts
    last = first + counts - 1
    total = int(counts.sum())
    is_first = np.zeros(total, dtype=bool)
    is_first[first] = True
    cl = np.empty(total)
    clt = np.empty(total)
    cl[first], clt[first] = left, ltol
    cl[~is_first], clt[~is_first] = Ti, eTi
    cr = np.empty_like(cl)
    cr[:-1] = cl[1:]
    cr[last] = right
    crt = np.empty_like(clt)
    crt[:-1] = clt[1:]
    crt[last] = rtol
    parent = np.repeat(np.arange(R), counts)
    return cl, clt, cr, crt, parent, flag


def _same_by_structure(lays: list, Wout: np.ndarray, pats: np.ndarray) -> np.ndarray:
    """Neighbouring regions whose output slopes are equal because they are computed alike, bool (R-1,).

    A region's slopes depend on its pattern only.  Coordinate ``u`` of the slopes of two regions
    is certainly equal when it is the same formula of equal inputs: an elementwise unit with the
    same side (or a slope that is exactly zero on both: every input it reads is exactly zero), a
    max group with the same selection, reading only coordinates equal in both.  Exact, no rounding.
    """
    R = pats.shape[0]
    zero = np.zeros((R, 1), dtype=bool)  # the slope dt/dt = 1
    eq = np.ones((R - 1, 1), dtype=bool)
    off = 0
    for lay in lays:
        szero = lay.mm((~zero).astype(np.float64), 2) == 0  # every input read is exactly zero
        seq = lay.mm((~eq).astype(np.float64), 2) == 0  # every input read is equal on both sides
        bits = pats[:, off:off + lay.n_bits]
        off += lay.n_bits
        if lay.u.groups is None:
            k0 = np.ones(lay.Wt.shape[1], dtype=bool)
            same_side = np.broadcast_to(k0, (R - 1, k0.size)).copy()
            same_side[:, lay.split] = bits[1:] == bits[:-1]
            act = np.ones((R, k0.size), dtype=bool)
            act[:, lay.split] = bits
            kz = np.where(act, lay.pos, lay.neg) == 0
            zero = szero | kz
            eq = (seq & same_side) | (zero[1:] & zero[:-1])
        else:
            sel = lay.select(bits)
            zero = np.take_along_axis(szero, sel, 1)
            eq = ((sel[1:] == sel[:-1]) & np.take_along_axis(seq, sel[:-1], 1)) | (zero[1:] & zero[:-1])
    seq = ((~eq).astype(np.float64) @ (Wout.T != 0).astype(np.float64)) == 0
    return seq.all(axis=1)


def _line_layers(low: Lowered, domain: Domain) -> list:
    """The lowered layers with the first one on the 1-D domain's parameter."""
    W0, b0 = low.layers[0]
    if domain.basis is not None:
        if W0.shape[1] != domain.input_dim:
            raise RegionsError(f"expected a network with {domain.input_dim} inputs, got {W0.shape[1]}")
        W0, b0 = W0 @ domain.basis, b0 + W0 @ domain.origin
    elif W0.shape[1] != 1:
        raise RegionsError(f"expected a 1-input network for an interval, got {W0.shape[1]} inputs")
    return [(W0, b0), *low.layers[1:]]


def _output_slopes(layers: list, A: np.ndarray, eA: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Output slopes of every region from the carrier's slopes ``A`` and their rounding bounds."""
    W, _ = layers[-1]
    with np.errstate(over="ignore", invalid="ignore"):
        Sout = A @ W.T
        eSout = (eA + _gamma(W.shape[1] + 2) * np.abs(A)) @ np.abs(W).T * _UP
    _check_finite(Sout, eSout)
    return Sout, eSout


def _same_neighbours(lays: list, layers: list, exact: OpExactLine, Sout: np.ndarray, eSout: np.ndarray,
                     pats: np.ndarray) -> np.ndarray:
    """Whether consecutive regions have one output map (exactly: bounds, structure, then rationals), (R-1,)."""
    diff = np.abs(Sout[1:] - Sout[:-1])
    bound = eSout[1:] + eSout[:-1]
    differ = np.any(diff * (1 - 2 * _U) > bound * _UP, axis=1)
    equal = np.all((diff == 0) & (bound == 0), axis=1)
    same = equal.copy()
    if pats.shape[0] > 1:
        same |= ~differ & _same_by_structure(lays, np.asarray(layers[-1][0], dtype=np.float64), pats)
    for i in np.nonzero(~differ & ~same)[0]:  # float64 cannot tell: exact slopes
        same[i] = exact.output_slopes(pats[i]) == exact.output_slopes(pats[i + 1])
    return same


def _walk_start(lo: float, hi: float) -> dict:
    """The walk's state before the first layer: one region, the whole domain ``(lo, hi)``."""
    left, right = np.array([lo]), np.array([hi])
    rep = _reps(left, right)
    return {"left": left, "ltol": np.zeros(1), "right": right, "rtol": np.zeros(1), "rep": rep,
            "V": rep[:, None].copy(), "A": np.ones((1, 1)), "eV": np.zeros((1, 1)), "eA": np.zeros((1, 1)),
            "sg": np.full((1, 1), _UNKNOWN, dtype=np.int8),  # sign codes of the carrier on each region
            "pats": np.zeros((1, 0), dtype=bool), "counts": [], "lays": []}


#: Entries of the walk's state that hold one row per region (a split run keeps a slice of them).
_PER_REGION = ("left", "ltol", "right", "rtol", "rep", "V", "A", "eV", "eA", "sg", "pats")


def _walk_layers(layers: list, units, exact: OpExactLine, st: dict, start: int, stop: int) -> None:
    """Cut the regions of the state ``st`` by hidden layers ``start .. stop - 1`` (in place).

    Every region is cut on its own (its children depend on its own row of
    the state only), so a slice of the regions after a prefix of layers
    walks on to the same final regions as in the whole walk: what a split
    count's run does (:mod:`.ops_split`).
    """
    left, ltol, right, rtol, rep = st["left"], st["ltol"], st["right"], st["rtol"], st["rep"]
    V, A, eV, eA, sg, pats = st["V"], st["A"], st["eV"], st["eA"], st["sg"], st["pats"]
    counts, lays = st["counts"], st["lays"]
    for l, ((W, b), u) in enumerate(zip(layers[:-1], units)):
        if l < start:
            continue
        if l >= stop:
            break
        lay = _Layer(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64), u)
        lays.append(lay)
        Z, S, eZ, eS = lay.pre(V, A, eV, eA)
        rc = lay.codes(sg)
        cl, clt, cr, crt, parent, flag = _split(lay, left, ltol, right, rtol, rep, Z, S, eZ, eS, rc)
        crep = _reps(cl, cr)
        if u.groups is None:  # only the bending units' signs are read
            sp = lay.split
            Zc, eZc = _shift(Z[parent][:, sp], S[parent][:, sp], eZ[parent][:, sp], eS[parent][:, sp],
                             crep - rep[parent])
            bits, ok, _ = lay.read(Zc, eZc, None, None, rc[parent][:, sp])
        else:
            Zc, eZc = _shift(Z[parent], S[parent], eZ[parent], eS[parent], crep - rep[parent])
            bits, ok, _ = lay.read(Zc, eZc, S[parent], eS[parent], rc[parent])
        ok &= _inside(crep, cl, clt, cr, crt)
        flag[parent[~ok]] = True
        if flag.any():
            # the regions float64 cannot decide, in exact arithmetic
            keep = ~flag[parent]
            rows = np.nonzero(flag)[0]
            el, elt, eb, ep = [], [], [], []
            for r in rows:
                brk, err, bt = exact.children(l, float(rep[r]), float(left[r]), float(right[r]))
                el += [left[r], *brk]
                elt += [ltol[r], *err]
                eb.append(bt)
                ep += [r] * (len(brk) + 1)
            ep = np.array(ep, dtype=np.intp)
            order = np.argsort(np.concatenate([parent[keep], ep]), kind="stable")
            parent = np.concatenate([parent[keep], ep])[order]
            cl = np.concatenate([cl[keep], el])[order]
            clt = np.concatenate([clt[keep], elt])[order]
            bits = np.concatenate([bits[keep], *eb])[order]
            ends = np.append(np.nonzero(parent[1:] != parent[:-1])[0], parent.shape[0] - 1)
            cr = np.empty_like(cl)
            cr[:-1] = cl[1:]
            cr[ends] = right[parent[ends]]
            crt = np.empty_like(clt)
            crt[:-1] = clt[1:]
            crt[ends] = rtol[parent[ends]]
        # join consecutive children of one parent with one pattern
        first = np.ones(cl.shape[0], dtype=bool)
        first[1:] = ~((parent[1:] == parent[:-1]) & np.all(bits[1:] == bits[:-1], axis=1))
        starts = np.nonzero(first)[0]
        stops = np.append(starts[1:], cl.shape[0]) - 1
        left, ltol, right, rtol = cl[starts], clt[starts], cr[stops], crt[stops]
        par = parent[starts]
        new_rep = _reps(left, right)
        if not _inside(new_rep, left, ltol, right, rtol).all():
            bad = int(np.flatnonzero(~_inside(new_rep, left, ltol, right, rtol))[0])
            raise NumericalError(f"expected a float64 point certainly inside the region "
                                 f"({left[bad]!r}, {right[bad]!r}), got none")
        Zm, eZm = _shift(Z[par], S[par], eZ[par], eS[par], new_rep - rep[par])
        V, A, eV, eA = lay.apply(Zm, S[par], eZm, eS[par], bits[starts])
        sg = lay.out_codes(rc[par], bits[starts])
        rep = new_rep
        pats = np.concatenate([pats[par], bits[starts]], axis=1)
        counts.append(int(left.shape[0]))
    st.update(left=left, ltol=ltol, right=right, rtol=rtol, rep=rep, V=V, A=A, eV=eV, eA=eA, sg=sg, pats=pats)


def partition_line_ops(low: Lowered, domain: Domain, *, network=None) -> OpLinePartition:
    """The activation regions of a lowered op network along a 1-D domain, exactly.

    Parameters
    ----------
    low : Lowered
        From :func:`regions.model.ops.lower`.
    domain : Domain
        A 1-D domain (interval for 1-input networks, segment or line).

    Returns
    -------
    OpLinePartition
        Its ``count().extra`` reports ``exact_decisions`` (regions and slope
        comparisons decided in exact arithmetic) and ``below_resolution``
        (see the module docstring).
    """
    if domain.dim != 1:
        raise RegionsError(f"expected a 1-D domain, got a {domain.dim}-D {domain.kind}")
    layers = _line_layers(low, domain)
    lo, hi = float(domain.lo[0]), float(domain.hi[0])
    exact = OpExactLine(layers, low.units, lo, hi)
    st = _walk_start(lo, hi)
    _walk_layers(layers, low.units, exact, st, 0, len(low.units))
    left, right, rep, pats, counts = st["left"], st["right"], st["rep"], st["pats"], st["counts"]
    Sout, eSout = _output_slopes(layers, st["A"], st["eA"])
    same = _same_neighbours(st["lays"], layers, exact, Sout, eSout, pats)
    return OpLinePartition(
        breaks=np.append(left, right[-1]),
        patterns=pats,
        slopes=Sout,
        witnesses=rep,
        layer_counts=tuple(counts),
        n_pieces=int(left.shape[0] - np.count_nonzero(same)),
        network=network,
        domain=domain,
        _low=low,
        extra={"exact_decisions": exact.decisions, "below_resolution": exact.below_resolution},
        _exact=exact,
    )
