"""An independent, slow reference for 1-D partitions in exact rational arithmetic.

Every pre-activation is a continuous piecewise-linear function of ``t``,
stored by its exact values at a sorted list of knots.  A layer first adds
the zero crossings of every unit as knots (exact linear interpolation),
then applies the ReLU and the next affine map at the knots.  Activation
regions are the maximal runs of elementary intervals with one pattern.
Shares no code with ``regions.line``.
"""

from fractions import Fraction


def to_fractions(layers):
    return [([[Fraction(float(w)) for w in row] for row in W], [Fraction(float(x)) for x in b]) for W, b in layers]


def _refine(knots, values):
    """Add the zero crossings of every unit; values: list per unit of values at knots."""
    new_knots = list(knots)
    for vals in values:
        for i in range(len(knots) - 1):
            a, b = vals[i], vals[i + 1]
            if (a < 0 < b) or (b < 0 < a):
                t = knots[i] + (knots[i + 1] - knots[i]) * a / (a - b)
                new_knots.append(t)
    return sorted(set(new_knots))


def _interp(knots, vals, t):
    lo, hi = 0, len(knots) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if knots[mid] <= t:
            lo = mid
        else:
            hi = mid
    k0, k1 = knots[lo], knots[hi]
    return vals[lo] + (vals[hi] - vals[lo]) * (t - k0) / (k1 - k0)


def exact_partition(layers, lo, hi, slope=Fraction(0)):
    """Exact breakpoints and patterns of a 1-input network (Fraction layers) on [lo, hi].

    Returns (breaks, patterns, out_slopes): breaks as Fractions, patterns as
    tuples of bools, and the output's slope on each region.
    """
    lo, hi = Fraction(lo), Fraction(hi)
    knots = [lo, hi]
    h = [[lo, hi]]  # the input t at the knots, one list per input unit
    pre_all = []  # per hidden layer: function (knots) -> values per unit
    for W, b in layers[:-1]:
        z = [[sum(W[j][i] * h[i][k] for i in range(len(h))) + b[j] for k in range(len(knots))] for j in range(len(W))]
        new_knots = _refine(knots, z)
        z = [[_interp(knots, zj, t) for t in new_knots] for zj in z]
        # the earlier layers' pre-activations, re-sampled
        pre_all = [[[_interp(knots, u, t) for t in new_knots] for u in layer] for layer in pre_all]
        pre_all.append(z)
        knots = new_knots
        h = [[v if v > 0 else slope * v for v in zj] for zj in z]
    W, b = layers[-1]
    y = [[sum(W[j][i] * h[i][k] for i in range(len(h))) + b[j] for k in range(len(knots))] for j in range(len(W))]
    # elementary intervals -> patterns at midpoints (exact)
    pats, slopes = [], []
    for k in range(len(knots) - 1):
        t = (knots[k] + knots[k + 1]) / 2
        pat = []
        for layer in pre_all:
            for u in layer:
                pat.append(_interp(knots, u, t) > 0)
        pats.append(tuple(pat))
        slopes.append(tuple((yj[k + 1] - yj[k]) / (knots[k + 1] - knots[k]) for yj in y))
    breaks, patterns, out_slopes = [knots[0]], [pats[0]], [slopes[0]]
    for k in range(1, len(pats)):
        if pats[k] != patterns[-1]:
            breaks.append(knots[k])
            patterns.append(pats[k])
            out_slopes.append(slopes[k])
    breaks.append(knots[-1])
    return breaks, patterns, out_slopes


def count_pieces(out_slopes):
    return 1 + sum(1 for a, b in zip(out_slopes[:-1], out_slopes[1:]) if a != b)
