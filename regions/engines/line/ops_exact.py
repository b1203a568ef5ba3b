"""Exact decisions for the 1-D op walk (:mod:`regions.engines.line.ops`), where float64 cannot decide.

The op walk bounds the rounding of every value it computes; a region where
two events may coincide (two breakpoints, a breakpoint and the region's
end, two max candidates that may tie, a slope that may be zero) is handed
to :class:`OpExactLine`, which redoes it in exact arithmetic.  Every float64
number is a dyadic rational, so the pulled network's weights, the per-unit
slopes and the region's representative point ``t`` are exact; as in
:class:`~regions.engines.line.exact.ExactLine` (whose domain ends and
counters this class reuses) each layer is held as sparse integer rows over
one power of two and values as integers over one common denominator, so no
gcd is computed before the crossings:

1. a forward pass at ``t`` gives the exact selection of every unit of the
   layers above (elementwise side ``z > 0``; max candidate: the largest,
   lowest index among candidates that compute the same affine function),
   hence the exact affine pre-activations ``z_u(s) = Z_u + S_u (s - t)``;
2. the region is the interval where those selections hold: the domain cut
   by every crossing of a bending unit, and by every crossing of a group's
   selected candidate with another candidate (identical functions do not
   cut);
3. the layer's own crossings strictly inside (bending units; every pair of
   candidates of a group) are deduplicated exactly, each child's selection
   is read exactly at an interior rational point, and neighbouring children
   with one selection are joined (a crossing of two candidates below the
   group's maximum changes nothing).

Nothing is merged by a tolerance.  Breakpoints are returned as the nearest
float64; a child with no float64 number strictly inside (two breakpoints
that round to the same or to neighbouring float64 values) cannot be held
by a float64 partition: the run is refused with
:class:`~regions.errors.NumericalError` (never joined to its neighbour), as
in :class:`~regions.engines.line.exact.ExactLine`.  A breakpoint between the
region's exact end and the walk's float64 value of that end (certified
within its rounding bound, but not the nearest float64) is refused too.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ...errors import NumericalError
from .exact import ExactLine

__all__ = ["OpExactLine"]


def _dyadic_ints(x: np.ndarray) -> tuple[list, int]:
    """``x`` (float64, 1-D) as integers over one power of two: ``x = ints / s``."""
    fr = [Fraction(float(v)) for v in np.ravel(x).tolist()]
    s = max([f.denominator for f in fr] + [1])
    return [f.numerator * (s // f.denominator) for f in fr], s


class OpExactLine(ExactLine):
    """Exact children of single regions of the 1-D op walk.

    Parameters
    ----------
    layers : list of (W, b)
        Every layer of the lowered chain pulled back to the line (float64),
        the output layer last.
    units : sequence of :class:`regions.model.ops.Units`
        The units of the hidden layers.
    lo, hi : float
        The domain's ends (infinite for an unbounded end).

    Attributes
    ----------
    decisions : int
        The number of exact decisions made (regions split, output slopes compared).
    below_resolution : int
        Children joined to a neighbour because no float64 number lies inside them.
    """

    def __init__(self, layers, units, lo: float, hi: float):
        super().__init__(list(layers), 0.0, lo, hi)
        self._units = tuple(units)
        self._slopes: dict = {}
        self._sparse: list = []
        self._memo: dict = {}

    def _unit_slopes(self, l: int):
        if l not in self._slopes:
            u = self._units[l]
            neg, sn = _dyadic_ints(u.negative)
            pos, sp = _dyadic_ints(u.positive)
            s = max(sn, sp)  # both powers of two
            self._slopes[l] = ([v * (s // sn) for v in neg], [v * (s // sp) for v in pos], s)
        return self._slopes[l]

    def _rows(self, l: int):
        """Layer ``l`` as sparse integer rows ``[(indices, weights), ...]``, its biases and power of two.

        ``W = Wi / 2^k``, ``b = bi / 2^k`` with one ``k`` for the layer: each float64 is its 53-bit
        integer significand times a power of two (``np.frexp``), shifted onto the common exponent.
        """
        while len(self._sparse) <= l:
            W, b = self._float_layers[len(self._sparse)]
            W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64).ravel()
            rr, cc = np.nonzero(W)
            vals = np.concatenate([W[rr, cc], b])
            mant, ex = np.frexp(vals)
            mi = (mant * 2.0**53).astype(np.int64)  # exact: |mant| < 1
            ex = ex.astype(np.int64) - 53
            nz = mi != 0
            k = int(-ex[nz].min()) if nz.any() else 0
            k = max(k, 0)
            ints = [int(m) << int(e + k) if m else 0 for m, e in zip(mi.tolist(), ex.tolist())]
            wi, bi = ints[:rr.size], ints[rr.size:]
            rows = [([], []) for _ in range(W.shape[0])]
            for r_, c_, w in zip(rr.tolist(), cc.tolist(), wi):
                rows[r_][0].append(c_)
                rows[r_][1].append(w)
            self._sparse.append((rows, bi, 1 << k))
        return self._sparse[l]

    @staticmethod
    def _dot(rows, x) -> list:
        return [sum(w * x[k] for k, w in zip(ks, ws)) for ks, ws in rows]

    @staticmethod
    def _cross(t: Fraction, z: int, s: int, dv: int, da: int) -> Fraction:
        """Where ``Z + S (x - t)`` vanishes, ``Z = z / (w dv)``, ``S = s / (w da)``."""
        return t - Fraction(z * da, s * dv)

    def _forward(self, t: Fraction, upto: int, rep: float):
        """Exact pre-activations of layer ``upto`` at ``t`` and the region's exact ends.

        Returns ``(Zn, Sn, dv, da, L, R)``: layer ``upto``'s values
        ``Zn / (w dv)`` and slopes ``Sn / (w da)`` (``w`` its power of two;
        only ratios and signs are used), and the ends (None where unbounded).
        """
        L, R = self._lo, self._hi
        Vn, dv, An, da = [t.numerator], t.denominator, [1], 1

        def bound(z, s, side_pos):
            nonlocal L, R
            c = self._cross(t, z, s, dv, da)
            if side_pos == (s > 0):  # the selection holds to the right of c
                L = c if L is None or c > L else L
            else:
                R = c if R is None or c < R else R

        for l in range(upto + 1):
            rows, bi, sw = self._rows(l)
            Zn = [z + bj * dv for z, bj in zip(self._dot(rows, Vn), bi)]
            Sn = self._dot(rows, An)
            if l == upto:
                return Zn, Sn, dv, da, L, R
            u = self._units[l]
            if u.groups is None:
                neg, pos, sp = self._unit_slopes(l)
                newV, newA = [], []
                for i, (z, s) in enumerate(zip(Zn, Sn)):
                    if neg[i] != pos[i] and s != 0:
                        if z == 0:
                            raise NumericalError(
                                f"expected a representative point strictly inside its region, got t = {rep!r} "
                                f"on a breakpoint of hidden layer {l + 1}")
                        bound(z, s, z > 0)
                    k = pos[i] if z > 0 else neg[i]
                    newV.append(k * z)
                    newA.append(k * s)
                Vn, dv, An, da = newV, dv * sw * sp, newA, da * sw * sp
            else:
                newV, newA = [], []
                for g in u.groups:
                    g = [int(i) for i in g]
                    j = self._select(Zn, Sn, g, rep, l)
                    for i in g:
                        if i == j or (Zn[i] == Zn[j] and Sn[i] == Sn[j]):
                            continue  # identical functions never cut
                        ds = Sn[j] - Sn[i]
                        if ds != 0:
                            bound(Zn[j] - Zn[i], ds, True)
                    newV.append(Zn[j])
                    newA.append(Sn[j])
                Vn, dv, An, da = newV, dv * sw, newA, da * sw
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _select(Zn, Sn, g, rep, l) -> int:
        """The selected candidate of group ``g`` at the anchor: largest value, ties only if identical."""
        top = max(Zn[i] for i in g)
        tied = [i for i in g if Zn[i] == top]
        j = tied[0]
        if any(Sn[i] != Sn[j] for i in tied):
            raise NumericalError(
                f"expected a representative point strictly inside its region, got t = {rep!r} on a "
                f"crossing of two max candidates of hidden layer {l + 1}")
        return j

    def children(self, layer: int, rep: float, left: float, right: float) -> tuple[list, list, np.ndarray]:
        """Breakpoints and pattern bits of hidden layer ``layer`` inside the region holding ``rep``.

        Parameters
        ----------
        layer : int
            The hidden layer that splits the region.
        rep : float
            A point strictly inside the region.
        left, right : float
            The region's float64 ends in the walk (for the witness check).

        Returns
        -------
        breaks : list of float
            The breakpoints strictly inside, increasing (nearest float64).
        errors : list of float
            The rounding bound of each (half a unit in the last place).
        bits : (len(breaks) + 1, n_bits) bool
            The layer's pattern bits on each child, left to right.
        """
        self.decisions += 1
        t = Fraction(float(rep))
        Zn, Sn, dv, da, L, R = self._forward(t, layer, rep)
        u = self._units[layer]
        cands = set()
        if u.groups is None:
            neg, pos, _ = self._unit_slopes(layer)
            split = [i for i in range(len(Zn)) if neg[i] != pos[i]]
            for i in split:
                if Sn[i] != 0:
                    cands.add(self._cross(t, Zn[i], Sn[i], dv, da))
        else:
            split = []
            for g in u.groups:
                g = [int(i) for i in g]
                for a in range(len(g)):
                    for b in range(a + 1, len(g)):
                        i, j = g[a], g[b]
                        if Sn[i] != Sn[j]:
                            cands.add(self._cross(t, Zn[i] - Zn[j], Sn[i] - Sn[j], dv, da))
        breaks = sorted(c for c in cands if (L is None or c > L) and (R is None or c < R))
        ends = [L] + breaks + [R]
        bits = []
        for a, b in zip(ends[:-1], ends[1:]):
            if a is None and b is None:
                p = t
            elif a is None:
                p = b - 1
            elif b is None:
                p = a + 1
            else:
                p = (a + b) / 2
            d = p - t
            dn, dd = d.numerator, d.denominator
            val = [z * da * dd + s * dv * dn for z, s in zip(Zn, Sn)]  # positive multiples of z(p)
            if u.groups is None:
                bits.append([val[i] > 0 for i in split])
            else:
                row = []
                for g in u.groups:
                    if g.size < 2:
                        continue
                    vals = [val[int(i)] for i in g]
                    sel = vals.index(max(vals))  # lowest index among ties (identical functions)
                    row += [q == sel for q in range(g.size)]
                bits.append(row)
        # join neighbours with one selection (crossings below a group's maximum)
        out_b, out_bits = [], [bits[0]]
        for x, bt in zip(breaks, bits[1:]):
            if bt == out_bits[-1]:
                continue
            out_b.append(x)
            out_bits.append(bt)
        # children with no float64 number inside cannot be held (see the module docstring)
        fl, fb = [], [out_bits[0]]
        last = float(left)
        lo_exact = -np.inf if L is None else float(L)
        for x, bt in zip(out_b, out_bits[1:]):
            try:
                xf = float(x)
            except OverflowError:
                raise NumericalError(f"expected breakpoints within float64's range, got one beyond "
                                     f"{'-' if x < 0 else ''}1.8e308 in hidden layer {layer + 1}") from None
            if not np.nextafter(last, np.inf) < xf:
                if not fl and np.nextafter(lo_exact, np.inf) < xf:
                    raise self._off_end(x, layer)
                self.below_resolution += 1
                raise self._sliver(last, xf, layer)
            fl.append(xf)
            fb.append(bt)
            last = xf
        if fl and not np.nextafter(last, np.inf) < float(right):
            if np.nextafter(last, np.inf) < (np.inf if R is None else float(R)):
                raise self._off_end(fl[-1], layer)
            self.below_resolution += 1
            raise self._sliver(last, float(right), layer)
        errs = [0.5 * float(np.spacing(abs(x))) for x in fl]
        nb = u.n_bits
        return fl, errs, np.array(fb, dtype=bool).reshape(len(fb), nb)

    @staticmethod
    def _sliver(a: float, b: float, layer: int) -> NumericalError:
        """The refusal for a child with no float64 number strictly inside it."""
        return NumericalError(
            f"expected every region of op layer {layer + 1} to hold a float64 number, got one between "
            f"{a!r} and {b!r} with none inside (two events that differ by float64 rounding only, such as "
            f"a unit and its rescaled copy): make such copies exact (the same weights and bias up to a "
            f"power of two) or remove them")

    def pattern(self, rep: float) -> np.ndarray:
        """The exact activation pattern (every hidden layer's bits) at the point ``rep``."""
        t = Fraction(float(rep))
        out = []
        for l, u in enumerate(self._units):
            Zn, Sn, _, _, _, _ = self._forward(t, l, rep)
            if u.groups is None:
                neg, pos, _ = self._unit_slopes(l)
                out += [z > 0 for i, z in enumerate(Zn) if neg[i] != pos[i]]
            else:
                for g in u.groups:
                    if g.size > 1:
                        j = self._select(Zn, Sn, [int(i) for i in g], rep, l)
                        out += [int(i) == j for i in g]
        return np.array(out, dtype=bool)

    @staticmethod
    def _off_end(x, layer: int) -> NumericalError:
        # the region's float64 end (certified, but not the nearest float64 to the exact end) lies
        # beyond a breakpoint that has a float64 witness: the walk cannot hold it without moving
        # its neighbour's end
        return NumericalError(
            f"expected breakpoints of hidden layer {layer + 1} farther from the region's end than its "
            f"float64 rounding, got one at t = {float(x)!r} between the exact end and its float64 value")

    def output_slopes(self, pattern: np.ndarray) -> tuple:
        """The exact output slopes (d output / dt) on a region with activation ``pattern``, as Fractions.

        Slopes do not depend on the point, only on the pattern (the selection of every unit), so
        they are computed from it and remembered for every prefix of the pattern.
        """
        self.decisions += 1
        bits = np.asarray(pattern, dtype=bool)
        An, da, off = [1], 1, 0
        for l, u in enumerate(self._units):
            nb = u.n_bits
            key = (l, bits[:off + nb].tobytes())
            if key in self._memo:
                An, da = self._memo[key]
                off += nb
                continue
            rows, _, sw = self._rows(l)
            Sn = self._dot(rows, An)
            b = bits[off:off + nb].tolist()
            off += nb
            if u.groups is None:
                neg, pos, sp = self._unit_slopes(l)
                act = iter(b)
                An = [s * (pos[i] if neg[i] == pos[i] or next(act) else neg[i]) for i, s in enumerate(Sn)]
                da *= sw * sp
            else:
                new, q = [], 0
                for g in u.groups:
                    if g.size < 2:
                        new.append(Sn[int(g[0])])
                        continue
                    new.append(Sn[int(g[b[q:q + g.size].index(True)])])
                    q += g.size
                An, da = new, da * sw
            self._memo[key] = (An, da)
        rows, _, sw = self._rows(len(self._units))
        return tuple(Fraction(s, sw * da) for s in self._dot(rows, An))
