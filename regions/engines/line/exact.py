"""Exact rational decisions for the 1-D engine, where float64 cannot decide.

The float64 kernel (:mod:`regions.engines.line.kernel`) bounds the rounding
of every crossing ``t* = -Z / S``.  When two crossings of one region are
closer than their bounds, or a crossing is within its bound of one of the
region's ends, float64 cannot tell whether they are one breakpoint or two.
Those few regions are handed to :class:`ExactLine`, which decides them in
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
nearest float64; two different ones that round to the same float64 leave a
region with no float64 witness, which the kernel refuses
(:class:`~regions.errors.NumericalError`).
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
        while len(self._layers) <= l:  # converted on first use (most runs never need them)
            W, b = self._float_layers[len(self._layers)]
            self._layers.append((_fractions(W), [Fraction(float(x)) for x in np.ravel(b).tolist()]))
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
        C, A = [Fraction(0)], [Fraction(1)]  # the input is t itself
        for l in range(layer + 1):
            W, b = self._layer(l)
            Z = [sum((w * c for w, c in zip(row, C)), bj) for row, bj in zip(W, b)]
            S = [sum((w * a for w, a in zip(row, A)), Fraction(0)) for row in W]
            if l == layer:
                break
            C, A = [], []
            for z, s in zip(Z, S):
                v = z + s * t
                if s != 0:
                    c = -z / s
                    if c < t:
                        L = c if L is None or c > L else L
                    elif c > t:
                        R = c if R is None or c < R else R
                    else:
                        raise NumericalError(
                            f"expected a representative point strictly inside its region, got t = {float(rep)!r} "
                            f"on a breakpoint of layer {l + 1}"
                        )
                if v > 0:
                    C.append(z)
                    A.append(s)
                else:
                    C.append(slope * z)
                    A.append(slope * s)
        breaks = sorted({-z / s for z, s in zip(Z, S)
                         if s != 0 and (L is None or -z / s > L) and (R is None or -z / s < R)})
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
            actives.append([z + s * p > 0 for z, s in zip(Z, S)])
        # A child with no float64 number strictly inside it (its two ends round to the same or to
        # neighbouring float64 values) cannot be represented: float64 weights that mean one hyperplane
        # (a neuron and its rescaled copy, 0.3 and 3 * 0.3) differ by such a rounding.  It is removed
        # and counted in ``below_resolution``, the only place where this path joins two events.
        up = np.inf
        out_b, out_a = [], [actives[0]]
        left = None if L is None else float(L)  # float64 left end of the last child kept
        for i, x in enumerate(breaks):
            xf = float(x)
            if left is not None and np.nextafter(left, up) >= xf:  # the last child kept has no witness
                out_a[-1] = actives[i + 1]  # the next child takes its place
                self.below_resolution += 1
                continue
            out_b.append(x)
            out_a.append(actives[i + 1])
            left = xf
        if out_b and R is not None and np.nextafter(left, up) >= float(R):  # the last child has no witness
            out_b.pop()
            out_a.pop()
            self.below_resolution += 1
        return out_b, out_a
