"""Exact rational checks of the n-D walk's zero decisions: no real feature merged silently.

The walk (:mod:`.kernel`) takes a unit's value at a vertex to be zero when it
is within ``VERTEX_RTOL`` of its magnitude.  That absorbs the rounding of
exact degeneracies (duplicate units, hyperplanes through a vertex, zero
biases), but it also takes a real value that small for zero: a strip or a
wedge thinner than ``VERTEX_RTOL`` of the size of the numbers around it
(two nearly parallel hyperplanes far from the origin, say) is then never cut
out, and its region is lost without any sign being in doubt.

:class:`ExactZeros` decides those values exactly where a loss is possible:
at every vertex taken to be zero in a region that the unit does *not* cut
(a cut there would have produced a region).  Every float64 number is a
rational, so the pulled-back network is exact; the vertex is the common
point of the constraints it is tight on (box faces, and units whose affine
maps on the vertex's region follow exactly from the region's activation
pattern), found by rational elimination; the unit's exact value there is
then zero (a real degeneracy: the decision stands), or of the sign the
region already has (harmless), or of the other sign, or the constraints do
not meet in one point (a real feature below float64's resolution at that
size): then the run is refused with :class:`~regions.errors.NumericalError`
rather than counted short.  Rays and lineality vectors (unbounded regions)
are checked too: a ray's exact direction is the kernel of its tight
constraints' linear parts, one direction modulo the region's lines and
oriented so that every other constraint of the region is >= 0 along it;
the unit's exact slope along it must be zero or of the region's sign.  Along
a lineality vector the unit must be exactly constant: its gradient must lie
in the span of the region's constraints' gradients.  A vertex of a region
that still holds lines is the flat of its tight constraints, on which the
unit must be constant.

Every walk turns these checks on (issue 15: a strip of relative width
``1e-11`` on ``[-2, 2]^2`` was merged silently before).  On generic networks no
value is ever taken to be zero at a vertex of an uncut region, so they cost one
masked test per unit (``benchmarks/thin_check.md``); exact degeneracies
(duplicates, power-of-two copies, negations, zero biases) pass, and copies
rescaled by other factors, whose float64 rounding makes them differ from the
unit by about one ulp, are refused, as the 1-D engine refuses them.  The 2-D
mesh confirms its counts with this walk wherever it snapped a vertex onto a
line (:func:`regions.engines.planar.kernel._confirm`).
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd

import numpy as np

from ...errors import NumericalError
from ...model.network import Network

__all__ = ["ExactZeros"]


def _fr(x) -> Fraction:
    return Fraction(float(x))


def _dyadic(values) -> tuple[list, int]:
    """Float64 numbers as integers times ``2^-e`` (one ``e`` for all): every float64 is a dyadic rational."""
    fr = [Fraction(float(x)) for x in values]
    e = max((f.denominator.bit_length() - 1 for f in fr), default=0)
    return [f.numerator << (e - (f.denominator.bit_length() - 1)) for f in fr], e


def _multiple(a: list, c, rows: list) -> bool:
    """Whether ``(a, c)`` is zero or an exact multiple of one of ``rows``: then it is zero wherever they are."""
    if not any(a) and c == 0:
        return True
    for ar, cr in rows:
        i = next((j for j, v in enumerate(ar) if v), None)
        if i is None:
            continue
        p, q = a[i], ar[i]  # (a, c) = (p / q) (ar, cr), by cross-multiplication (exact in integers)
        if c * q == p * cr and all(x * q == p * y for x, y in zip(a, ar)):
            return True
    return False


def _rref(rows: list, k: int) -> tuple[list, list]:
    """Reduced row echelon form of integer or rational rows of length ``k`` (Fractions), and its pivots."""
    R = [[Fraction(v) for v in r] for r in rows if any(r)]
    piv = []
    i = 0
    for c in range(k):
        p = next((j for j in range(i, len(R)) if R[j][c] != 0), None)
        if p is None:
            continue
        R[i], R[p] = R[p], R[i]
        inv = 1 / R[i][c]
        R[i] = [v * inv for v in R[i]]
        for j in range(len(R)):
            if j != i and R[j][c] != 0:
                f = R[j][c]
                R[j] = [a - f * b for a, b in zip(R[j], R[i])]
        piv.append(c)
        i += 1
        if i == len(R):
            break
    return R[:i], piv


def _in_span(a: list, rref: tuple) -> bool:
    """Whether the row ``a`` lies in the span of the rows whose :func:`_rref` is ``rref``."""
    R, piv = rref
    a = [Fraction(v) for v in a]
    for row, c in zip(R, piv):
        if a[c] != 0:
            f = a[c]
            a = [x - f * y for x, y in zip(a, row)]
    return not any(a)


def _null(rows: list, k: int) -> list:
    """An integer basis of ``{d : a . d = 0 for every row a}`` (rows of length ``k``)."""
    R, piv = _rref(rows, k)
    out = []
    for f in (c for c in range(k) if c not in piv):
        d = [Fraction(0)] * k
        d[f] = Fraction(1)
        for row, c in zip(R, piv):
            d[c] = -row[f]
        den = 1
        for v in d:
            den = den * v.denominator // gcd(den, v.denominator)
        out.append([int(v * den) for v in d])
    return out


def polygon_faces(vertices: np.ndarray) -> tuple[np.ndarray, np.ndarray, list]:
    """The faces ``a . x + c >= 0`` of a convex polygon (counter-clockwise vertices), float and exact.

    Each edge ``p -> q`` gives ``a = (p_y - q_y, q_x - p_x)``, ``c = -a . p`` in exact rationals (every
    float64 is one), scaled to integers by a positive factor; the float rows are those rounded to
    float64, for the walk's clipping.  Returns ``F`` (m, 2), ``c`` (m,) and the exact rows
    ``[(a, c)]`` (integers), edges of zero length left out.
    """
    P = [(_fr(x), _fr(y)) for x, y in np.asarray(vertices, dtype=np.float64).tolist()]
    F, cf, rows = [], [], []
    for (px, py), (qx, qy) in zip(P, P[1:] + P[:1]):
        a = [py - qy, qx - px]
        if not any(a):
            continue
        c = -(a[0] * px + a[1] * py)
        den = 1
        for v in a + [c]:
            den = den * v.denominator // gcd(den, v.denominator)
        rows.append(([int(v * den) for v in a], int(c * den)))
        F.append([float(v) for v in a])
        cf.append(float(c))
    return np.array(F, dtype=np.float64), np.array(cf, dtype=np.float64), rows


class ExactZeros:
    """Exact values of units at the walk's vertices (see the module docstring).

    Parameters
    ----------
    pulled : Network
        The network on the domain's parameters.
    lo, hi : ndarray
        The domain's bounds (finite ones are the box faces, in the walk's order).
    base : int
        The bit of the first hidden unit in the walk's incidence sets.
    faces : list, optional
        Exact face rows ``(a, c)`` (integers, ``a . x + c >= 0`` inside) in the walk's order, for a
        polygon domain (:func:`polygon_faces`); default the finite faces of the box ``lo, hi``.
    """

    def __init__(self, pulled: Network, lo: np.ndarray, hi: np.ndarray, base: int, *, faces: list | None = None):
        self.k = int(np.asarray(lo).size)
        k = self.k
        # every constraint is a row (a, c) of integers, a.x + c = 0 on its hyperplane, scaled by a
        # positive power of two (which changes neither the hyperplane nor the signs): exact and fast
        self.faces = [] if faces is None else list(faces)  # (a, c): a.x + c >= 0 inside, bits 1..nf
        for i in range(k if faces is None else 0):
            for bound, sg in ((lo[i], 1), (hi[i], -1)):
                if np.isfinite(bound):
                    f = _fr(bound)
                    a = [0] * k
                    a[i] = sg * f.denominator
                    self.faces.append((a, -sg * f.numerator))
        self.layers = []  # per hidden layer: W (object ints), b (object ints), eW, eb
        for W, b in pulled.layers[:-1]:
            W = np.asarray(W, dtype=np.float64)
            wi, ew = _dyadic(W.ravel().tolist())
            bi, eb = _dyadic(np.ravel(b).tolist())
            Wo = np.empty(W.shape, dtype=object)
            Wo.ravel()[:] = wi
            bo = np.empty(len(bi), dtype=object)
            bo[:] = bi
            self.layers.append((Wo, bo, ew, eb))
        (si,), self.es = _dyadic([pulled.negative_slope])
        self.slope = si  # the negative slope times 2^es
        widths = [len(b) for _, b, _, _ in self.layers]
        self.offsets = np.concatenate([[0], np.cumsum(widths)]).astype(int).tolist()
        self.base = int(base)
        self._maps: dict = {}
        self._points: dict = {}  # (tight constraints, pattern prefix) -> exact vertex (or None)
        self._mult: dict = {}  # (unit, constraint, pattern prefix) -> the unit's row is a multiple of it
        self.checked = 0

    def _layer_of(self, g: int) -> int:
        return int(np.searchsorted(self.offsets, g, side="right")) - 1

    def _maps_of(self, pat: np.ndarray, l: int) -> tuple:
        """Exact affine maps ``(A, c)`` of layer ``l``'s units on the region of pattern ``pat``."""
        key = (l, np.packbits(pat[: self.offsets[l]]).tobytes())
        hit = self._maps.get(key)
        if hit is not None:
            return hit
        W, b, ew, eb = self.layers[l]
        if l == 0:  # A 2^-e, c 2^-e with e = max(ew, eb)
            e = max(ew, eb)
            A, c = W * (1 << (e - ew)), b * (1 << (e - eb))
        else:
            Ap, cp, ep = self._maps_of(pat, l - 1)
            o = self.offsets[l - 1]
            one = 1 << self.es
            d = np.array([one if pat[o + i] else self.slope for i in range(cp.shape[0])], dtype=object)
            A = W.dot(d[:, None] * Ap)  # scale 2^-(ew + es + ep)
            c = W.dot(d * cp)
            e = ew + self.es + ep
            if e >= eb:
                c = c + b * (1 << (e - eb))
            else:
                A, c, e = A * (1 << (eb - e)), c * (1 << (eb - e)) + b, eb
        out = (A, c, e)
        self._maps[key] = out
        return out

    def _row(self, bit: int, pat: np.ndarray) -> tuple:
        if 1 <= bit <= len(self.faces):
            return self.faces[bit - 1]
        g = bit - self.base
        l = self._layer_of(g)
        A, c, _ = self._maps_of(pat, l)
        return A[g - self.offsets[l]].tolist(), c[g - self.offsets[l]]

    def _point(self, rows: list) -> list | None:
        """The one common point of ``a.x + c = 0`` over ``rows``, or None (no single point).

        Fraction-free (Bareiss) elimination in integers, then back-substitution in Fractions.
        """
        k = self.k
        M = [list(a) + [-c] for a, c in rows]
        m = len(M)
        prev = 1
        for r in range(k):
            p = next((i for i in range(r, m) if M[i][r] != 0), None)
            if p is None:
                return None
            M[r], M[p] = M[p], M[r]
            pr = M[r]
            piv = pr[r]
            for i in range(r + 1, m):
                row = M[i]
                f = row[r]
                M[i] = [0] * (r + 1) + [(piv * row[j] - f * pr[j]) // prev for j in range(r + 1, k + 1)]
            prev = piv
        if any(M[i][k] != 0 for i in range(k, m)):  # the rows do not meet in one point
            return None
        x = [Fraction(0)] * k
        for r in range(k - 1, -1, -1):
            acc = Fraction(M[r][k]) - sum((M[r][j] * x[j] for j in range(r + 1, k)), Fraction(0))
            x[r] = acc / M[r][r]
        return x

    def _tight(self, word_row, unit: int) -> list:
        """The constraint bits set in one incidence row, without ``t >= 0`` (bit 0) and ``unit``'s own."""
        tight = []
        for w, word in enumerate(word_row):
            word = int(word)
            while word:
                low = word & -word
                bit = 64 * w + low.bit_length() - 1
                word ^= low
                if bit != 0 and bit != self.base + unit:
                    tight.append(bit)
        return tight

    def _oriented(self, bit: int, pat: np.ndarray) -> list:
        """The linear part of constraint ``bit`` on the region of ``pat``, signed to be >= 0 inside it."""
        a, _ = self._row(bit, pat)
        if bit >= self.base and not pat[bit - self.base]:
            a = [-v for v in a]
        return a

    def _region_rows(self, pat: np.ndarray, limit: int, tight: list) -> list:
        """Oriented linear parts of the box faces and units ``< limit`` (and ``tight``) on ``pat``'s region."""
        bits = list(range(1, len(self.faces) + 1)) + [self.base + g for g in range(limit)]
        bits += [b for b in tight if b - self.base >= limit]
        return [self._oriented(b, pat) for b in bits]

    def check(self, G: np.ndarray, bits: np.ndarray, pats: np.ndarray, unit: int, side: np.ndarray, *,
              lin: np.ndarray | None = None, limit: int | None = None) -> None:
        """Refuse where a generator taken to be on ``unit``'s hyperplane is exactly on its other side.

        ``G`` (n, k+1) are the generators (homogeneous), ``bits`` (n, nw)
        their incidence sets, ``pats`` (n, p) their regions' patterns, ``side``
        (n,) the sign the region has for the unit (+1, -1, or 0 when every
        generator is taken to be on the hyperplane), ``lin`` (n,) which are
        lineality vectors, ``limit`` the units (global indices ``< limit``)
        whose pattern bits are final on the regions (default: those before
        ``unit``).  Vertices are checked by their exact point (the common
        point of their tight constraints), rays (``t = 0``) by their exact
        direction (see :meth:`_check_ray`), lineality vectors by whether the
        unit is exactly constant along every line of the region
        (:meth:`_check_line`).
        """
        k = self.k
        l = self._layer_of(unit)
        lin = np.zeros(G.shape[0], dtype=bool) if lin is None else np.asarray(lin, dtype=bool)
        limit = unit if limit is None else int(limit)
        unb = np.flatnonzero((G[:, k] == 0) | lin)
        if unb.size:
            self._check_unbounded(G, bits, pats, unit, side, lin, limit, unb)
        keep = np.flatnonzero((G[:, k] > 0) & ~lin)
        if keep.size == 0:
            return
        # one check per distinct (incidences, pattern prefix, side): a vertex recurs in its regions
        key = np.concatenate([np.ascontiguousarray(bits[keep]).view(np.uint8).reshape(keep.size, -1),
                              np.packbits(pats[keep, : self.offsets[l]], axis=1),
                              (np.asarray(side)[keep] + 1).astype(np.uint8)[:, None]], axis=1)
        _, first = np.unique(key, axis=0, return_index=True)
        for g in keep[np.sort(first)].tolist():
            self.checked += 1
            tight = self._tight(bits[g].tolist(), unit)
            prefix = np.packbits(pats[g][: self.offsets[l]]).tobytes()
            A, c, scale = self._maps_of(pats[g], l)
            a, cc = A[unit - self.offsets[l]].tolist(), c[unit - self.offsets[l]]
            copy = False
            for bit in [-1] + tight:  # -1: the unit's row is zero on the region
                mk = (unit, bit, prefix)
                m = self._mult.get(mk)
                if m is None:
                    m = self._mult[mk] = _multiple(a, cc, [self._row(bit, pats[g])] if bit >= 0 else [])
                if m:
                    copy = True
                    break
            if copy:  # zero (or a copy, negation or power-of-two multiple of a tight row): exactly zero
                continue
            key = (tuple(tight), prefix)
            x = self._points.get(key, False)
            if x is False:
                rows = [self._row(bit, pats[g]) for bit in tight]
                x = self._point(rows)
                if x is None:  # a flat (a region holding lines), or no single point: the unit must be
                    x = self._flat(rows)  # constant on the flat of the tight constraints
                self._points[key] = x
            if x is not None and not isinstance(x, list):  # a flat: rows in reduced echelon form
                x = x if _in_span(a, x[1]) else None
                x = None if x is None else x[0]
            if x is None:
                raise NumericalError(
                    f"expected the walk's vertices to be single points in exact arithmetic, got one on "
                    f"{len(tight)} constraints that do not meet in one point (a feature narrower than float64 "
                    f"resolves at that size): make copies of units exact (the same weights and bias up to a power "
                    f"of two) or remove them, or use a smaller domain or weights that keep features apart")
            v = sum((ai * xi for ai, xi in zip(a, x)), Fraction(0)) + cc
            s = (v > 0) - (v < 0)
            if s != 0 and s != int(side[g]):
                raise NumericalError(
                    f"expected unit {unit - self.offsets[l]} of layer {l + 1} to be exactly zero where float64 "
                    f"takes it to be, got {float(v / (1 << scale)):.3g} at a vertex of size "
                    f"{max(abs(float(t)) for t in x):.3g}: a feature thinner than float64 resolves there "
                    f"(relative to the numbers around it) would be lost; make copies of units exact (the same weights "
                    f"and bias up to a power of two) or remove them, or use a smaller domain")

    def _flat(self, rows: list):
        """A point of the flat ``a.x + c = 0`` over ``rows`` and the rows' echelon form, or None (empty)."""
        k = self.k
        R, piv = _rref([list(a) + [c] for a, c in rows], k + 1)
        if k in piv:  # 0 = c: the constraints have no common point
            return None
        x = [Fraction(0)] * k
        for row, c in zip(R, piv):
            x[c] = -row[k]
        return x, _rref([list(a) for a, _ in rows], k)

    def _check_unbounded(self, G, bits, pats, unit, side, lin, limit, idx) -> None:
        """The checks of rays and lineality vectors (see :meth:`check`)."""
        l = self._layer_of(unit)
        o = self.offsets[l]
        key = np.concatenate([np.ascontiguousarray(bits[idx]).view(np.uint8).reshape(idx.size, -1),
                              np.packbits(pats[idx], axis=1),
                              (np.asarray(side)[idx] + 1).astype(np.uint8)[:, None],
                              lin[idx].astype(np.uint8)[:, None]], axis=1)
        _, first = np.unique(key, axis=0, return_index=True)
        for g in idx[np.sort(first)].tolist():
            self.checked += 1
            pat = pats[g]
            A, _, _ = self._maps_of(pat, l)
            a = A[unit - o].tolist()
            if not any(a):  # constant on the region: its value at the vertices decides
                continue
            tight = self._tight(bits[g].tolist(), unit)
            rows = self._region_rows(pat, limit, tight)
            if lin[g]:
                ok = self._check_line(a, rows, pat, limit)
                what = "constant along a line of an unbounded region"
                s = 0 if ok else None
            else:
                s = self._check_ray(a, rows, [self._row(b, pat)[0] for b in tight])
                what = "zero along a ray of an unbounded region"
            if s is None:
                raise NumericalError(
                    f"expected unit {unit - o} of layer {l + 1} to be {what} where float64 takes it to be, got "
                    f"directions that exact arithmetic does not confirm (a feature at infinity, two hyperplanes "
                    f"parallel to within float64's resolution): make copies of units exact (the same weights and "
                    f"bias up to a power of two) or remove them, or count a bounded box")
            if s != 0 and s != int(side[g]):
                raise NumericalError(
                    f"expected unit {unit - o} of layer {l + 1} to be zero along a ray of an unbounded region "
                    f"where float64 takes it to be, got a slope of the other sign in exact arithmetic: a region "
                    f"at infinity thinner than float64 resolves (two hyperplanes parallel to within its "
                    f"resolution) would be lost; make copies of units exact (the same weights and bias up to a "
                    f"power of two) or remove them, or count a bounded box")

    def _check_line(self, a: list, rows: list, pat: np.ndarray, limit: int) -> bool:
        """Whether the unit's gradient ``a`` is exactly zero on every line of the region (in the rows' span)."""
        mk = ("line", limit, np.packbits(pat[:limit]).tobytes(), len(rows))
        rref = self._mult.get(mk)
        if rref is None:
            rref = self._mult[mk] = _rref(rows, self.k)
        return _in_span(a, rref)

    def _check_ray(self, a: list, rows: list, tight_rows: list) -> int | None:
        """The exact sign of the unit's slope ``a`` along a ray, or None where the ray is not one exactly.

        The ray's direction is the kernel ``N`` of its tight constraints'
        linear parts; modulo the region's lines (the kernel of all its
        constraints, ``rows``) it must be one direction, oriented so that
        every constraint is >= 0 along it, and ``a`` must vanish on the
        lines.
        """
        B = _null(tight_rows, self.k)
        if not B:
            return None
        V = [[sum(x * y for x, y in zip(r, b)) for b in B] for r in rows]
        V = [v for v in V if any(v)]
        if not V:  # the "ray" is a line of the region
            return None
        w = V[0]
        # rank one: every row a multiple of w (cross-multiplication), all of one sign along B w
        q = [sum(x * y for x, y in zip(a, b)) for b in B]
        for v in V[1:] + [q]:
            if any(v[i] * w[j] != v[j] * w[i] for i in range(len(w)) for j in range(i + 1, len(w))):
                return None
        # n = B w: every constraint is (row . w) |w|^2 / |w|^2 along it, w . w > 0 for the first; a row of
        # the other sign means no direction of the region has these tight constraints
        if any(sum(x * y for x, y in zip(v, w)) < 0 for v in V):
            return None
        qv = sum(x * y for x, y in zip(q, w))
        return (qv > 0) - (qv < 0)
