"""Counts on boxes far larger than the network's features: a cover by geometric shells.

Why
---
The 2-D mesh and the n-D walk compute a new vertex as a combination of the
two ends of the edge it splits, and carry each vertex's values with a
magnitude inherited from those ends.  An edge as long as the domain puts an
absolute error of ``eps`` times the domain's size into the vertices made on
it, and the tolerance under which a value is zero grows with the inherited
magnitude.  On a box of half-width ``s`` around features of size ``rho``
(measured: ``3-5-5-1`` from ``s / rho ~ 1e9`` on, ``2-8-1`` in 2-D from
``~1e15`` on) the vertices near the origin are then resolved to less than
the features' own size, and regions merge without any sign being undecided.

What
----
Activation regions are convex (one pattern, one region), so the regions of
a box ``B`` are the distinct activation patterns found in any family of
sub-boxes covering ``B``; affine pieces join two regions whenever some
sub-box holds both as neighbours with one output map.  :func:`shell_boxes`
covers ``B`` by boxes whose size is at most ``SHELL_RATIO`` times (plus a
margin) their distance from the centre ``c`` (the point of ``B`` nearest
the origin), and by one inner box of half-width ``SHELL_INNER * rho``: in
each, every vertex is computed from edges no longer than a fixed multiple of
its own distance from ``c``, so every sign is decided to the same relative
precision as on a box of moderate size.  The sub-boxes overlap (each is
widened by a quarter of its inner radius), so every facet between two
regions lies in the interior of some sub-box: hyperplanes that coincide
with a sub-box face (degenerate input) are still seen from both sides.

Two guards.  Drop the box's faces farther than ``SHELL_TRIGGER`` feature
radii from the origin: where every dropped face lies beyond twice the
max-norm radius of every vertex of the remaining unbounded box's partition
(and no region there holds a line), the box's numbers are that unbounded
box's (:func:`whole_if_inside`: every region and facet has a vertex, and the
two boxes agree around it), taken from the n-D engine's homogeneous walk,
which has rays instead of domain-long edges; shells run only where this fails.  And far from the origin a sub-box can still meet strips of constant
width (a deeper unit's transitions along an earlier unit's hyperplane) far
narrower than the walk's tolerance there; its decisions may then make a
pattern that no point has.  Every pattern is therefore checked at its
region's witness by a forward pass (a definite sign contradicting it,
:data:`WITNESS_EPS`), counted only where some sub-box confirms it, and a
pattern never confirmed is refused (:class:`~regions.errors.NumericalError`).
Under-counts are caught too: every sub-box (and the far-face shortcut's
unbounded walk) runs on the n-D walk with its zero decisions checked in
exact rational arithmetic where a region is left uncut
(:mod:`regions.engines.polytope.exact`): a real feature thinner than the
walk's tolerance there (relative width below ``VERTEX_RTOL`` of the numbers
around it) is refused, never merged.  The check is conservative: a strip of
constant width is refused in a far sub-box that cannot resolve it even
where a nearer one holds its pattern.  2-D counts use the same walk for
their shells (polygons: the 2-D mesh, whose thin features are not checked).

Slices and polygons.  A plane, a k-D affine slice or a segment is a box of
its own parameters: the shells are sub-boxes of those parameters, each the
same slice over a smaller box (:func:`sub_domain`), with the radius read
off the network pulled back to the slice; a 2-D polygon is covered by the
sub-boxes of its bounding box, each cut to the polygon in exact rational
arithmetic (a cut point of an edge between far vertices keeps its own
precision).  The far-face shortcut applies to slices over boxes as to boxes.

The feature radius ``rho`` (:func:`feature_radius`) is the max-norm distance
from the origin (of the parameters) within which no unit that is non-zero
there changes sign: the least, over every unit of every hidden layer, of the
distance to the zero set of its affine map on the origin's region.  It is
invariant under positive rescaling of layers and scales with the domain.  A
network without biases is positively homogeneous (its regions are cones)
and needs no shells.

Tolerances
----------
``SHELL_TRIGGER``
    A box whose half-width around ``c`` exceeds ``SHELL_TRIGGER * rho`` is
    counted on shells (below it the engines are exact as they are: tested at
    ratios up to ``1e6``).
``SHELL_INNER``, ``SHELL_RATIO``
    The inner box's half-width in units of ``rho``, and the ratio of the
    outer to the inner radius of one shell.
``WITNESS_EPS``
    A unit's sign at a witness is definite beyond this many ``eps`` of its
    magnitude (the forward pass's sums with absolute values).
``SHELL_MAX``
    At most this many shells (``2 * dim`` boxes each); beyond, the box spans
    more than ``SHELL_RATIO ** SHELL_MAX`` feature radii and is refused with
    :class:`~regions.errors.NumericalError` rather than counted for minutes.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

import numpy as np

from ..core.pieces import merge_pieces
from ..core.result import CountResult
from ..domains import Domain, box
from ..errors import NumericalError
from ..model.network import Network

__all__ = [
    "SHELL_INNER",
    "SHELL_MAX",
    "SHELL_RATIO",
    "SHELL_TRIGGER",
    "WITNESS_EPS",
    "count_by_shells",
    "feature_radius",
    "refuse_wide",
    "shell_boxes",
    "sub_domain",
]

#: Half-width of a box, in feature radii, above which it is counted on shells.
SHELL_TRIGGER = 2.0**20
#: Half-width of the inner box, in feature radii.
SHELL_INNER = 2.0**10
#: Outer over inner radius of one shell.
SHELL_RATIO = 2.0**10
#: Most shells (of ``2 * dim`` boxes each) before the box is refused.
SHELL_MAX = 256


def feature_radius(layers: list, *, negative_slope: float = 0.0) -> float | None:
    """Max-norm distance from the origin at which the network's features start, or None (no biases).

    Every hidden layer counts, not only the first with biases: each unit
    ``i`` of layer ``l`` gives the max-norm distance from the origin to the
    zero set of its pre-activation's affine map on the origin's region,
    ``|z_i(0)| / ||g_i||_1`` (``g_i`` its gradient there), over the units with
    ``z_i(0) != 0``; the radius is the least of these.  For the first layer
    this is ``|b_i| / ||W_i||_1``; deeper, it sees features near the origin
    behind a first layer whose own hyperplanes are far (large biases that
    cancel in a later layer).  Where a unit is exactly zero at the origin
    (zero biases: hyperplanes through it) the gradients after it are bounded
    by the same products with absolute values, every such unit taken as
    active (any pattern around the origin).  A smaller radius only adds
    shells, never a wrong count.  Invariant under positive rescaling of a
    layer (and the next layer's weights); gradients are kept at max-norm 1
    per row of the running product (a power of two), so it neither
    overflows nor underflows where the weights are within float64's range.
    """
    slope = float(negative_slope)
    best = np.inf
    h = None  # the hidden values at the origin (None: all zero so far)
    J = None  # the Jacobian of the layer's input at the origin (None: the identity)
    unit = 1.0  # J holds the true Jacobian divided by unit (a power of two)
    signed = True  # False once a unit is exactly zero at the origin: |J| bounds every adjacent pattern
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        for W, b in layers[:-1]:
            W = np.asarray(W, dtype=np.float64)
            b = np.asarray(b, dtype=np.float64)
            z = b.copy() if h is None else W @ h + b
            if J is None:
                G = W if signed else np.abs(W)
            else:
                G = W @ J if signed else np.abs(W) @ J
            g = np.abs(G).sum(axis=1)
            live = (z != 0) & np.isfinite(z) & (g > 0) & np.isfinite(g)
            if live.any():
                d = np.abs(z[live]) / g[live] / unit
                d = d[np.isfinite(d) & (d > 0)]
                if d.size:
                    best = min(best, float(d.min()))
            if np.any(z == 0):
                signed = False
            if signed:
                D = np.where(z > 0, 1.0, slope)
            else:
                D = np.where(z >= 0, 1.0, slope)
                G = np.abs(G)
            J = G * D[:, None]
            top = float(np.max(np.abs(J), initial=0.0))
            if not (np.isfinite(top) and top > 0):
                break
            p2 = 2.0 ** np.floor(np.log2(top))
            J = J / p2
            unit *= p2
            h = np.where(z > 0, z, slope * z) if np.any(z != 0) else None
    if best == np.inf:
        return None
    if not (np.isfinite(best) and best > 0):
        return float(np.finfo(np.float64).tiny)
    return best


def _centre_extent(domain: Domain) -> tuple[np.ndarray, float]:
    lo, hi = np.asarray(domain.lo, dtype=np.float64), np.asarray(domain.hi, dtype=np.float64)
    c = np.clip(0.0, lo, hi)
    return c, float(np.max(np.maximum(np.abs(lo - c), np.abs(hi - c))))


def _axis_box(domain: Domain) -> bool:
    """Bounded domains the shells cover: boxes, box slices (plane, k-D slice, segment), 2-D polygons."""
    return bool(domain.bounded and (domain.vertices is None or domain.dim == 2))


def _domain_radius(net: Network, domain: Domain) -> float | None:
    """:func:`feature_radius` of the network read on the domain's parameters (a slice: pulled back)."""
    layers = net.layers if domain.basis is None else domain.pullback(net).layers
    return feature_radius(layers, negative_slope=net.negative_slope)


def _whole_hint(domain: Domain) -> str:
    """What to count instead of a too-wide domain: all of R^k, or the unbounded slice."""
    if domain.basis is None and domain.vertices is None:
        return f"whole({domain.dim}) for all of R^{domain.dim}"
    return f"the unbounded {domain.dim}-D slice (infinite bounds, the polytope engine)"


def _clip_polygon(P: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray | None:
    """The convex polygon ``P`` (counter-clockwise) cut to the box ``lo .. hi``, or None (no area).

    In exact rational arithmetic, rounded once at the end: a cut point of an
    edge between far vertices is then as precise as its own size allows
    (float64 interpolation would carry the far vertices' rounding into the
    near sub-boxes).
    """
    pts = [(Fraction(float(x)), Fraction(float(y))) for x, y in P]
    for axis, bound, keep_above in ((0, lo[0], True), (0, hi[0], False), (1, lo[1], True), (1, hi[1], False)):
        bound = Fraction(float(bound))
        out = []
        for i, a in enumerate(pts):
            b = pts[(i + 1) % len(pts)]
            ina = (a[axis] >= bound) if keep_above else (a[axis] <= bound)
            inb = (b[axis] >= bound) if keep_above else (b[axis] <= bound)
            if ina:
                out.append(a)
            if ina != inb:
                t = (bound - a[axis]) / (b[axis] - a[axis])
                q = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]
                q[axis] = bound
                out.append((q[0], q[1]))
        pts = out
        if len(pts) < 3:
            return None
    Q = np.array([[float(x), float(y)] for x, y in pts])
    keep = np.ones(len(Q), dtype=bool)
    keep[1:] = np.any(Q[1:] != Q[:-1], axis=1)
    keep[0] = np.any(Q[0] != Q[-1]) or len(Q) == 1
    Q = Q[keep]
    if len(Q) < 3:
        return None
    R = Q - Q[0]
    R = R / np.max(np.abs(R))  # the area's sign, without overflow
    x, y = R[:, 0], R[:, 1]
    if not np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)) > 0:
        return None
    return Q


def sub_domain(domain: Domain, lo: np.ndarray, hi: np.ndarray) -> Domain | None:
    """The part of ``domain`` in the parameter box ``lo .. hi`` (the same slice, or polygon cut), or None."""
    lo, hi = np.array(lo, dtype=np.float64), np.array(hi, dtype=np.float64)
    if domain.vertices is None:
        if domain.basis is None:
            return box(lo, hi)
        return Domain(lo, hi, origin=domain.origin, basis=domain.basis, kind=domain.kind)
    P = _clip_polygon(np.asarray(domain.vertices), lo, hi)
    if P is None:
        return None
    return Domain(P.min(0), P.max(0), origin=domain.origin, basis=domain.basis, vertices=P, kind="polygon")


def shell_boxes(net: Network, domain: Domain, *,
                trigger: float = SHELL_TRIGGER) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The sub-boxes covering a wide box (see the module docstring), or None where one box is exact.

    Boxes are in the domain's parameter coordinates: a plane or k-D slice
    is covered by the same slice over sub-boxes of its parameters, a 2-D
    polygon by its bounding box's sub-boxes cut to the polygon
    (:func:`sub_domain`).  Returns None for unbounded domains, for networks
    without biases, and for domains within ``trigger`` feature radii (tests
    lower it to compare shells with one box where one box is exact).

    Raises
    ------
    NumericalError
        The box spans more than ``SHELL_MAX`` shells.
    """
    if not _axis_box(domain):
        return None
    rho = _domain_radius(net, domain)
    if rho is None:
        return None
    c, ext = _centre_extent(domain)
    if not ext > trigger * rho:
        return None
    lo, hi = np.asarray(domain.lo, dtype=np.float64), np.asarray(domain.hi, dtype=np.float64)
    radii = [min(SHELL_INNER, trigger) * rho]
    while radii[-1] < ext:
        radii.append(radii[-1] * SHELL_RATIO)
        if len(radii) > SHELL_MAX + 1:
            raise NumericalError(
                f"expected a box within {SHELL_RATIO:.3g}^{SHELL_MAX} feature radii of the network, got a "
                f"half-width of {ext:.3g} around features at {rho:.3g} from the origin: use a smaller box, "
                f"or {_whole_hint(domain)}")
    radii[-1] = ext
    k = lo.size

    def clipped(a: np.ndarray, b: np.ndarray):
        a, b = np.maximum(a, lo), np.minimum(b, hi)
        return (a, b) if np.all(a < b) else None

    out = [clipped(c - radii[0], c + radii[0])]
    for r_in, r_out in zip(radii[:-1], radii[1:]):
        olo, ohi = np.maximum(c - r_out, lo), np.minimum(c + r_out, hi)
        hlo, hhi = c - r_in / 2, c + r_in / 2
        margin = r_in / 4
        cur_lo, cur_hi = olo.copy(), ohi.copy()
        for a in range(k):
            if cur_lo[a] < hlo[a]:
                plo, phi = cur_lo.copy(), cur_hi.copy()
                phi[a] = hlo[a]
                out.append(clipped(plo - margin, phi + margin))
            if cur_hi[a] > hhi[a]:
                plo, phi = cur_lo.copy(), cur_hi.copy()
                plo[a] = hhi[a]
                out.append(clipped(plo - margin, phi + margin))
            cur_lo[a], cur_hi[a] = max(cur_lo[a], hlo[a]), min(cur_hi[a], hhi[a])
            if cur_lo[a] >= cur_hi[a]:
                break
    return [b for b in out if b is not None]


def refuse_wide(net: Network, domain: Domain, engine: str, limit: float, *,
                hint: str = "count() covers such boxes by shells; for a partition use a smaller box") -> None:
    """Refuse a partition of a box wider than ``limit`` feature radii (counts use shells instead).

    ``net`` is the network on the input space; slices and polygons are
    measured in their parameters (:func:`shell_boxes`).

    ``hint`` is the advice of the sentence (default: for partitions).

    Raises
    ------
    NumericalError
        Naming the box's half-width and the feature radius.
    """
    if not _axis_box(domain):
        return
    rho = _domain_radius(net, domain)
    if rho is None:
        return
    _, ext = _centre_extent(domain)
    if ext > limit * rho:
        raise NumericalError(
            f"expected a {domain.kind} within {limit:.3g} feature radii for a {engine} partition, got a half-width of "
            f"{ext:.3g} around features at {rho:.3g} from the origin (vertices interpolated along edges "
            f"that long lose the features): {hint}, or {_whole_hint(domain)}")


#: A unit's sign at a witness is definite when its pre-activation exceeds this many ``eps`` times its
#: magnitude (the same sum with absolute values): far above the rounding of a forward pass.
WITNESS_EPS = 2.0**10


def _witnesses(p) -> np.ndarray:
    """An interior point of every region of a partition: vertex means (ring means in 2-D), without overflow."""
    if hasattr(p, "ring_offsets"):
        off = np.asarray(p.ring_offsets)
        cnt = np.diff(off)
        V = np.asarray(p.vertices)[np.asarray(p.ring_vertices)]
        rid = np.repeat(np.arange(cnt.size), cnt)
        X = np.zeros((cnt.size, V.shape[1]))
        np.add.at(X, rid, V / cnt[rid, None])
        return X
    return np.asarray(p.witnesses)


def _unsure(net: Network, X: np.ndarray, claimed: np.ndarray, domain: Domain | None = None) -> np.ndarray:
    """Regions whose pattern a definite sign contradicts at their witness (forward pass, float64).

    Within one sub-box, a feature far narrower than the engine's tolerance there (``VERTEX_RTOL``
    of the magnitudes, which grow with the coordinates: a strip of constant width far from the
    origin) can make its decisions inconsistent, or its witness fall outside it.  Such a region's
    pattern counts only where another sub-box confirms it (:func:`count_by_shells`).

    ``X`` is in the parameters of ``domain`` (a slice: the pulled-back first layer, with the magnitudes
    of the original sums, ``|W0| |basis|`` and ``|b0| + |W0| |origin|``).
    """
    h, hm = X.T, np.abs(X.T)
    slope = net.negative_slope
    bad = np.zeros(X.shape[0], dtype=bool)
    at = 0
    layers = list(net.layers)
    mags = [(np.abs(W), np.abs(b)) for W, b in layers]
    if domain is not None and domain.basis is not None:
        W0, b0 = layers[0]
        layers[0] = domain.pullback(net).layers[0]
        mags[0] = (np.abs(W0) @ np.abs(domain.basis), np.abs(b0) + np.abs(W0) @ np.abs(domain.origin))
    with np.errstate(over="ignore", invalid="ignore"):
        for (W, b), (aW, ab) in zip(layers[:-1], mags[:-1]):
            z = W @ h + b[:, None]
            m = aW @ hm + ab[:, None]
            sure = np.abs(z) > WITNESS_EPS * np.finfo(np.float64).eps * m
            c = claimed[:, at:at + W.shape[0]].T
            bad |= (sure & ((z > 0) != c)).any(axis=0) | ~np.isfinite(z).all(axis=0)
            at += W.shape[0]
            h = np.where(z > 0, z, slope * z)
            hm = np.where(z > 0, m, abs(slope) * m)
    return bad


def count_by_shells(net: Network, boxes: list, partition: Callable, engine: str,
                    max_regions: int | None, *, domain: Domain | None = None) -> CountResult:
    """Regions, pieces and per-layer counts of the union of ``boxes``, from one partition of each.

    Callers first try :func:`whole_if_inside` (without ``max_regions``).

    ``partition(net, domain, max_regions=...)`` returns an object with
    ``partial``, ``piece_labels`` and either ``packed_patterns`` (uint8 rows)
    or ``patterns`` (bool rows).  Regions are the distinct patterns; two
    regions are in one piece when some box puts them in one piece.
    ``domain`` (default: the boxes are boxes of the input space) is the
    slice or polygon the boxes cover, in its parameters (:func:`sub_domain`).
    """
    widths = [W.shape[0] for W, _ in net.layers[:-1]]
    n_bits = int(sum(widths))
    packs, labels, unsure, where, partial = [], [], [], [], False
    for lo, hi in boxes:
        sub = box(lo, hi) if domain is None else sub_domain(domain, lo, hi)
        if sub is None:  # a sub-box outside the polygon
            continue
        with np.errstate(over="ignore", invalid="ignore"):  # areas/volumes of far boxes (unused) may be inf
            p = partition(net, sub, max_regions=max_regions)
        if p.partial:  # stopped at max_regions: a lower bound, the most regions seen at once
            seen = len(np.unique(np.concatenate(packs), axis=0)) if packs else 0
            n = max(seen, int(len(p.layer_counts) and p.layer_counts[-1]), int(p.n_regions))
            return CountResult(n, None, [], engine, partial=True, extra={
                "message": f"stopped at max_regions={max_regions} with {n} regions found (partial count: "
                           f"the numbers are lower bounds)", "shells": len(boxes)})
        if hasattr(p, "packed_patterns"):
            pk = np.asarray(p.packed_patterns, dtype=np.uint8)
        else:
            pk = np.packbits(np.asarray(p.patterns, dtype=bool), axis=1)
        unsure.append(_unsure(net, _witnesses(p), np.unpackbits(pk, axis=1, count=n_bits).astype(bool), sub))
        where.append((lo, hi))
        packs.append(pk)
        labels.append(None if p.partial or p.piece_labels is None else np.asarray(p.piece_labels))
        partial |= bool(p.partial)
    P = np.concatenate(packs) if packs else np.zeros((0, (n_bits + 7) // 8), dtype=np.uint8)
    uniq, gid = np.unique(P, axis=0, return_inverse=True)
    gid = gid.reshape(-1)
    n = int(uniq.shape[0])
    flagged = np.concatenate(unsure) if unsure else np.zeros(0, dtype=bool)
    sure = np.zeros(n, dtype=bool)
    sure[gid[~flagged]] = True
    if not sure.all():  # a pattern seen only where its own witness contradicts it: refuse, never guess
        i = int(np.flatnonzero(flagged & ~sure[gid])[0])
        b = int(np.searchsorted(np.cumsum([q.shape[0] for q in packs]), i, side="right"))
        lo, hi = where[b]
        raise NumericalError(
            f"expected every region to hold its activation pattern at an interior point, got "
            f"{int((~sure).sum())} that do not, in the sub-box {np.asarray(lo).tolist()} .. "
            f"{np.asarray(hi).tolist()}: features there are narrower than float64 sums of that size "
            f"resolve (strips of constant width far from the origin); use a smaller box, or "
            f"{_whole_hint(domain) if domain is not None else f'whole({np.asarray(lo).size})'}")
    if max_regions is not None and n > max_regions:
        partial = True
    bits = np.unpackbits(uniq, axis=1, count=n_bits).astype(bool)
    counts, at = [], 0
    for w in widths:
        at += w
        counts.append(int(np.unique(np.packbits(bits[:, :at], axis=1), axis=0).shape[0]) if n else 0)
    if partial:
        return CountResult(n, None, counts, engine, partial=True, extra={
            "message": f"stopped at max_regions={max_regions} with {n} regions found (partial count: "
                       f"the numbers are lower bounds)", "shells": len(boxes)})
    r1, r2, off = [], [], 0
    for pk, lab in zip(packs, labels):
        g = gid[off:off + pk.shape[0]]
        ok = ~flagged[off:off + pk.shape[0]]  # joins only between regions confirmed at their witnesses
        off += pk.shape[0]
        g, lab = g[ok], lab[ok]
        order = np.argsort(lab, kind="stable")
        ls, gs = lab[order], g[order]
        first = np.ones(ls.size, dtype=bool)
        first[1:] = ls[1:] != ls[:-1]
        head = gs[np.maximum.accumulate(np.where(first, np.arange(ls.size), 0))]
        sel = head != gs
        r1.append(head[sel])
        r2.append(gs[sel])
    _, n_pieces = merge_pieces(n, np.concatenate(r1) if r1 else np.zeros(0, np.intp),
                               np.concatenate(r2) if r2 else np.zeros(0, np.intp))
    return CountResult(n, n_pieces, counts, engine, extra={"shells": len(boxes)})
