"""Exact rational decisions for the 1-D engine, where float64 cannot decide.

The float64 kernel (:mod:`regions.engines.line.kernel`) bounds the rounding
of every crossing ``t* = -Z / S``.  When two crossings of one region are
closer than their bounds, or a crossing is within its bound of one of the
region's ends, float64 cannot tell whether they are one breakpoint or two.
Those few regions are handed to :class:`ExtendedLine`, which redoes them in
extended precision (``np.longdouble``, vectorised) and passes the ones that
stay undecided to :class:`ExactLine`, which decides them in
exact rational arithmetic (every float64 number is a rational, so the pulled
network's weights and the region's representative point are exact
:class:`fractions.Fraction` values):

1. a forward pass at the region's representative point ``t`` gives the
   exact activation pattern of the layers above, hence the exact affine
   pre-activation ``z_u(s) = Z_u + S_u s`` of every unit on the region;
2. the region is the interval where that pattern holds: the intersection of
   the domain with the half-lines ``z_u > 0`` (active) or ``z_u <= 0``
   (inactive) of those units, whose ends are exact crossings;
3. the layer's own crossings strictly inside that interval, deduplicated
   exactly, are the region's breakpoints; each child's pattern is read
   exactly at an interior rational point.

Nothing is merged or dropped by a tolerance on this path: equal rationals
are one breakpoint, different ones are two.  A breakpoint is returned as the
nearest float64; two different ones with no float64 number between them
leave a real region (of positive length in exact arithmetic) with no float64
witness, which is refused (:class:`~regions.errors.NumericalError`), never
dropped.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ...errors import NumericalError

__all__ = ["ExactLine"]


def _fractions(X: np.ndarray) -> list:
    return [[Fraction(float(x)) for x in row] for row in np.atleast_2d(X).tolist()]


class ExactLine:
    """Exact children of single regions of the 1-D walk.

    Parameters
    ----------
    layers : list of (W, b)
        The hidden layers of the network pulled back to the line (float64).
    slope : float
        The negative slope of the activation (0 for ReLU).
    lo, hi : float
        The domain's ends (infinite for an unbounded end).

    Attributes
    ----------
    decisions : int
        The number of regions decided so far.
    """

    def __init__(self, layers, slope: float, lo: float, hi: float):
        self._float_layers = layers
        self._layers: list = []
        self._slope = Fraction(float(slope))
        self._lo = None if math.isinf(lo) else Fraction(float(lo))
        self._hi = None if math.isinf(hi) else Fraction(float(hi))
        self.decisions = 0
        self.below_resolution = 0

    def _layer(self, l: int):
        """Layer ``l`` as integers over one power of two: ``W = Wi / s``, ``b = bi / s``."""
        while len(self._layers) <= l:  # converted on first use (most runs never need them)
            W, b = self._float_layers[len(self._layers)]
            Wf, bf = _fractions(W), [Fraction(float(x)) for x in np.ravel(b).tolist()]
            s = max([x.denominator for row in Wf for x in row] + [x.denominator for x in bf] + [1])
            Wi = [[x.numerator * (s // x.denominator) for x in row] for row in Wf]
            bi = [x.numerator * (s // x.denominator) for x in bf]
            self._layers.append((Wi, bi, s))
        return self._layers[l]

    def children(self, layer: int, rep: float) -> tuple[list, list]:
        """Breakpoints and patterns of hidden layer ``layer`` inside the region holding ``rep``.

        Parameters
        ----------
        layer : int
            Index of the hidden layer that splits the region (its input is
            the output of layers ``0 .. layer - 1``).
        rep : float
            A point strictly inside the region (its pattern of layers
            ``0 .. layer - 1`` is the region's).

        Returns
        -------
        breaks : list of Fraction
            The distinct crossings strictly inside the region, increasing.
        actives : list of list of bool
            Layer ``layer``'s activation pattern on each of the
            ``len(breaks) + 1`` children, left to right.
        """
        self.decisions += 1
        t = Fraction(float(rep))
        L, R = self._lo, self._hi
        slope = self._slope
        # Everything before the crossings is a dyadic rational: integers over a common power of
        # two (C = Ci / sc, A = Ai / sa, t = tn / td), so no gcd is computed on the way.
        tn, td = t.numerator, t.denominator
        sn, sd = slope.numerator, slope.denominator
        Ci, sc, Ai, sa = [0], 1, [1], 1
        for l in range(layer + 1):
            Wi, bi, sw = self._layer(l)
            Zi = [sum(w * c for w, c in zip(row, Ci)) + bj * sc for row, bj in zip(Wi, bi)]  # Z = Zi / (sw sc)
            Si = [sum(w * a for w, a in zip(row, Ai)) for row in Wi]  # S = Si / (sw sa)
            sz, ss = sw * sc, sw * sa
            if l == layer:
                break
            newC, newA = [], []
            for z, s_ in zip(Zi, Si):
                v = z * ss * td + s_ * tn * sz  # sign of z(t) (positive denominators dropped)
                if s_ != 0:
                    if v == 0:
                        raise NumericalError(
                            f"expected a representative point strictly inside its region, got t = {float(rep)!r} "
                            f"on a breakpoint of layer {l + 1}"
                        )
                    c = Fraction(-z * ss, s_ * sz)
                    if (v > 0) == (s_ > 0):  # z increases through 0 before t, or decreases after: c < t
                        L = c if L is None or c > L else L
                    else:
                        R = c if R is None or c < R else R
                if v > 0:
                    newC.append(z * sd)
                    newA.append(s_ * sd)
                else:
                    newC.append(z * sn)
                    newA.append(s_ * sn)
            Ci, sc, Ai, sa = newC, sz * sd, newA, ss * sd
        cs = (Fraction(-z * ss, s_ * sz) for z, s_ in zip(Zi, Si) if s_ != 0)
        breaks = sorted({c for c in cs if (L is None or c > L) and (R is None or c < R)})
        ends = [L] + breaks + [R]
        actives = []
        for a, b in zip(ends[:-1], ends[1:]):
            if a is None and b is None:
                p = Fraction(0)
            elif a is None:
                p = b - 1
            elif b is None:
                p = a + 1
            else:
                p = (a + b) / 2
            pn, pd = p.numerator, p.denominator
            actives.append([z * ss * pd + s_ * sz * pn > 0 for z, s_ in zip(Zi, Si)])
        # A child with no float64 number strictly inside it (its two ends round to the same or to
        # neighbouring float64 values) is a real region of positive length (its ends differ exactly) that
        # no float64 partition can hold (float64 weights that mean one hyperplane, a neuron and its
        # rescaled copy, 0.3 and 3 * 0.3, differ by such a rounding): refused, never dropped.
        up = np.inf
        ends_f = [None if L is None else float(L)] + [float(x) for x in breaks] + [None if R is None else float(R)]
        for i, (a, b) in enumerate(zip(ends_f[:-1], ends_f[1:])):
            if a is not None and b is not None and np.nextafter(a, up) >= b:
                lo_x, hi_x = ends[i], ends[i + 1]
                self.below_resolution += 1
                raise NumericalError(
                    f"expected every region of layer {layer + 1} to hold a float64 number, got one of exact "
                    f"length {float(hi_x - lo_x):.3g} between {float(lo_x)!r} and {float(hi_x)!r} (two "
                    f"hyperplanes that differ by float64 rounding only, such as a neuron and its rescaled "
                    f"copy): make such copies exact (the same weights and bias up to a power of two) or "
                    f"remove them")
        return breaks, actives


class ExtendedLine(ExactLine):
    """:class:`ExactLine` behind a vectorised extended-precision tier.

    :meth:`children_many` first redoes the undecided regions in
    ``np.longdouble`` (64-bit significand on x86-64), anchored at each
    region's representative point: a forward pass at ``rep`` gives the
    pattern, the values ``V`` and slopes ``A`` of the layer's input there, and
    each crossing as ``rep + d`` with ``d = -(V W + b) / (A W)``.  Its
    rounding is bounded as in the float64 kernel (``BREAK_RTOL / EPS`` units
    of the precision, times ``(|V| |W| + |b| + |d| |A| |W|) / |A W| + |t|``),
    and a region is decided there only when every sign at ``rep``, every
    crossing against the region's ends and every pair of crossings is
    separated beyond those bounds.  The rest go to the exact rational pass.
    Where ``longdouble`` is no wider than float64 every region goes there.

    Attributes
    ----------
    extended : int
        The number of regions decided by the extended tier.
    """

    def __init__(self, layers, slope: float, lo: float, hi: float):
        super().__init__(layers, slope, lo, hi)
        self.extended = 0
        self._ld: list = []

    def _ld_layer(self, l: int):
        while len(self._ld) <= l:
            W, b = self._float_layers[len(self._ld)]
            W, b = np.asarray(W, dtype=np.longdouble), np.asarray(b, dtype=np.longdouble)
            self._ld.append((W.T.copy(), b, np.abs(W.T), np.abs(b)))
        return self._ld[l]

    def children_many(self, layer: int, reps: np.ndarray, left: np.ndarray, ltol: np.ndarray,
                      right: np.ndarray, rtol: np.ndarray) -> list:
        """:meth:`children` of many regions: ``[(breaks as float64 list, actives), ...]``.

        ``left``, ``right`` are the regions' float64 ends and ``ltol``,
        ``rtol`` the bounds of their rounding.
        """
        from ...core.tolerances import BREAK_RTOL, EPS  # noqa: PLC0415

        ld = np.longdouble
        eps = ld(np.finfo(ld).eps)
        n = reps.shape[0]
        if eps >= EPS or n == 0:
            return [self._exact_floats(layer, r) for r in reps]
        k = ld(BREAK_RTOL / EPS) * eps
        slope = ld(float(self._slope))
        t = reps.astype(ld)
        V = t[:, None].copy()
        A = np.ones((n, 1), dtype=ld)
        ok = np.ones(n, dtype=bool)
        with np.errstate(all="ignore"):
            for l in range(layer + 1):
                Wt, b, aWt, ab = self._ld_layer(l)
                Z = V @ Wt + b  # (n, m) pre-activations at rep
                S = A @ Wt
                Zm = np.abs(V) @ aWt + ab
                Sm = np.abs(A) @ aWt
                if l == layer:
                    break
                ok &= np.all((np.abs(Z) > k * Zm) | (Zm == 0), axis=1)  # every sign at rep decided
                act = Z > 0
                V = np.where(act, Z, slope * Z)
                A = np.where(act, S, slope * S)
            ok &= np.all((S != 0) | (np.abs(Z) > k * Zm) | (Zm == 0), axis=1)  # constant units decided
            d = -Z / S
            T = t[:, None] + d
            tol = k * (Zm + np.abs(d) * Sm) / np.abs(S) + k * np.abs(T)
            lo_in = (left.astype(ld) + ltol.astype(ld))[:, None]
            hi_in = (right.astype(ld) - rtol.astype(ld))[:, None]
            lo_out = (left.astype(ld) - ltol.astype(ld))[:, None]
            hi_out = (right.astype(ld) + rtol.astype(ld))[:, None]
            cross = (S != 0) & np.isfinite(T)
            inside = cross & (T - tol > lo_in) & (T + tol < hi_in)
            outside = (T + tol < lo_out) | (T - tol > hi_out)
            ok &= ~np.any(cross & ~inside & ~outside, axis=1)
            Ts = np.where(inside, T, ld(np.inf))
            order = np.argsort(Ts, axis=1)
            Ts = np.take_along_axis(Ts, order, axis=1)
            tols = np.take_along_axis(np.where(inside, tol, 0), order, axis=1)
            cnt = inside.sum(axis=1)
            both = np.arange(Ts.shape[1] - 1)[None, :] < (cnt - 1)[:, None]
            ok &= ~np.any(both & (Ts[:, 1:] - Ts[:, :-1] <= tols[:, 1:] + tols[:, :-1]), axis=1)
            # the children of every row at once: float64 breakpoints, witnesses, patterns at midpoints
            f = Ts.astype(np.float64)  # (n, m), inf past each row's crossings
            cols = np.arange(Ts.shape[1] + 2)[None, :]
            E = np.concatenate([left[:, None], f, np.full((n, 1), np.inf)], axis=1)
            E[np.arange(n), cnt + 1] = right
            pairs = cols[:, :-1] <= cnt[:, None]  # (n, m+1) the children of each row
            wit = np.nextafter(E[:, :-1], np.inf) < E[:, 1:]
            ok &= (cnt == 0) | np.all(wit | ~pairs, axis=1)  # else a child with no float64 witness
            e = np.concatenate([left.astype(ld)[:, None], Ts, np.full((n, 1), np.inf, dtype=ld)], axis=1)
            e[np.arange(n), cnt + 1] = right.astype(ld)
            lo_, hi_ = e[:, :-1], e[:, 1:]
            fin_lo, fin_hi = np.isfinite(lo_), np.isfinite(hi_)
            one = ld(1)
            mids = np.where(fin_lo & fin_hi, lo_ / 2 + hi_ / 2,
                            np.where(fin_hi, hi_ - np.maximum(np.abs(hi_), one),
                                     np.where(fin_lo, lo_ + np.maximum(np.abs(lo_), one), ld(0))))
            acts = (Z[:, None, :] + S[:, None, :] * (mids - t[:, None])[:, :, None]) > 0  # (n, m+1, m)
        out = []
        for i in range(n):
            if not ok[i]:
                out.append(self._exact_floats(layer, reps[i]))
                continue
            self.extended += 1
            out.append((f[i, :cnt[i]].tolist(), acts[i, :cnt[i] + 1].tolist()))
        return out

    def _exact_floats(self, layer: int, rep: float):
        brk, act = self.children(layer, rep)
        return [float(x) for x in brk], act
