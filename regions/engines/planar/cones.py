"""Counts of networks without hidden biases on a box around the origin: a walk round the box's boundary.

Why a module of its own: without hidden biases every hidden pre-activation
is positively homogeneous, ``z(t x) = t z(x)`` for ``t > 0``, so every
activation region is a cone from the origin and the partition of a box whose
interior holds the origin is fixed by the partition of its boundary.  The
2-D mesh (:mod:`.kernel`) spends its fixed cost per layer on polygons that
are all triangles and wedges at one vertex here; this walk does the work of
the 1-D engine on the closed boundary instead, a few dozen numpy calls per
layer, and hands every case it cannot decide to the mesh.

Method
------
Every ray from the origin meets the boundary of the box once (the origin is
strictly inside), so regions are the arcs of the boundary between
*breakpoints*, points where some unit changes sign, and their number is the
number of breakpoints (1 if there are none).  The boundary is held as a
cyclic list of points (the four corners, then the breakpoints) with the
layer's pre-activations ``Z`` and their magnitudes ``M`` (``|W| |h|``, the
sums with absolute values, as in the mesh) at each.  Inside a region every
pre-activation of the next layer is linear, so it is affine along every
boundary segment of the region, and for each unit:

1. a vertex has sign ``+`` if ``Z > ZERO_RTOL M``, ``-`` if ``Z < -ZERO_RTOL M``,
   ``0`` if ``Z`` is exactly zero (the vertex made by this unit, or an input
   that is zero there); any other value (snapped by the tolerance, or within
   :data:`GUARD` tolerances of it) hands the count to the mesh;
2. a segment with strictly opposite signs at its ends gets a breakpoint, interpolated
   from the end nearer the crossing (as in the mesh); a zero vertex that is
   not a breakpoint, between strictly opposite signs, becomes one;
3. every region of the previous layers is a convex cone (at most a half-plane:
   the first line through the origin cuts the plane into two), on which a
   linear function changes sign at most once; a unit that changes sign more
   often in a region (or in the whole plane other than twice), a zero vertex
   beside another zero but not among zeros only, or two new points at one
   place are rounding artefacts: the count is handed to the mesh.

Affine pieces: on the sector between breakpoints ``p_i`` and ``p_(i+1)`` the
output is ``J x + b_out``; the next sector has the same map iff the output at
``p_(i+2)`` equals ``J p_(i+2)``, extrapolated from the values at ``p_i`` and
``p_(i+1)`` (``p_(i+2) = alpha p_i + beta p_(i+1)``).  A mismatch above
``8 ZERO_RTOL`` times the output's magnitude times ``1 + |alpha| + |beta|``
(the test of :func:`.pieces.vertex_test_differs`) proves the maps differ;
if any pair is not proved different the count is handed to the mesh, which
decides such pairs exactly.  So every count this module returns is one the
mesh would return, without its per-layer face construction.
"""

from __future__ import annotations

import math

import numpy as np

from ...core.result import CountResult
from ...core.tolerances import ZERO_RTOL
from ...domains import Domain
from ...model.network import Network

__all__ = ["GUARD", "count_cones"]

#: Tolerances (``ZERO_RTOL`` times the magnitude) within which a non-zero pre-activation hands the count to
#: the mesh: the mesh snaps such values onto the line and confirms its count by the exactly checked n-D
#: walk; the walk round the boundary does not decide them at all.
GUARD = 4.0


def _corners(net: Network, domain: Domain) -> np.ndarray | None:
    """The corners (4, 2), counter-clockwise, of a box of a 2-input network without hidden biases
    whose interior holds the origin; None for anything else."""
    if domain.basis is not None or domain.vertices is not None or len(net.layers) < 2:
        return None
    (u0, v0), (u1, v1) = domain.lo.tolist(), domain.hi.tolist()
    if not (-math.inf < u0 < 0.0 < u1 < math.inf and -math.inf < v0 < 0.0 < v1 < math.inf):
        return None
    for _, b in net.layers[:-1]:
        if b.any():
            return None
    return np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]])


def _cut(P: np.ndarray, H: np.ndarray, Hm: np.ndarray, bp: np.ndarray, W: np.ndarray, aW: np.ndarray,
         slope: float):
    """One layer: the boundary points cut by its units; None where a decision is in doubt.

    ``P`` (n, 2) boundary points in cyclic order, ``H``/``Hm`` (n, k) the layer's input and its
    magnitude there, ``bp`` (n,) bool breakpoints.  Returns the same four for the next layer.
    (Written for few numpy calls: on small networks their fixed cost is the time.)
    """
    n = P.shape[0]
    m = W.shape[0]
    Z = H @ W.T
    M = Hm @ aW.T
    if not math.isfinite(M.sum()):  # M >= |Z|: finite M, finite Z
        return None
    tol = M * (GUARD * ZERO_RTOL)
    s = (Z > tol).view(np.int8) - (Z < -tol).view(np.int8)  # (n, m): +1, 0, -1
    nzero = n * m - np.count_nonzero(s)  # entries decided zero ...
    if n * m - np.count_nonzero(Z) != nzero:  # ... must all be exact zeros, never snapped ones
        return None  # a value the tolerance would snap: the mesh decides (and confirms)
    nxt = np.concatenate([s[1:], s[:1]])
    cross = (s * nxt) < 0  # segment i -> i+1 crosses
    ci, cj = cross.nonzero()
    B = int(np.count_nonzero(bp))
    bp0 = bp
    if nzero:  # a zero vertex that is no breakpoint, between opposite signs, becomes one
        prv = np.concatenate([s[-1:], s[:-1]])
        zero = (s == 0) & ~bp[:, None]
        zcut = zero & ((prv * nxt) < 0)
        if (zero & ((prv == 0) | (nxt == 0)) & ((prv != 0) | (nxt != 0))).any():
            return None  # a zero beside a zero inside a region, not among zeros only: in doubt
        zi, zj = zcut.nonzero()
        if zi.size:
            ci_ev, cj_ev = np.concatenate([ci, zi]), np.concatenate([cj, zj])
            bp = bp.copy()
            bp[zi] = True
        else:
            ci_ev, cj_ev = ci, cj
    else:
        ci_ev, cj_ev = ci, cj
    # events per region and unit: at most one in a cone, none or two in the whole plane
    if B:
        ev = (np.cumsum(bp0, dtype=np.intp)[ci_ev] % B) * m + cj_ev  # region of vertex / segment i
        if ev.size and np.bincount(ev).max() > 1:
            return None
    elif ci_ev.size and ((np.bincount(cj_ev, minlength=m) | 2) != 2).any():
        return None
    # new points on crossing segments, interpolated from the end nearer the crossing
    b = (ci + 1) % n
    za, zb = Z[ci, cj], Z[b, cj]
    ta = za / (za - zb)  # fraction from the segment's start: the points' order along it
    near_b = ta > 0.5
    lo = np.where(near_b, b, ci)
    hi = np.where(near_b, ci, b)
    tt = np.where(near_b, zb / (zb - za), ta)
    rows = np.concatenate([Z, M, P], axis=1)
    lr = rows[lo]
    new = rows[hi]
    new -= lr
    new *= tt[:, None]
    new += lr
    k = ci.shape[0]
    new[np.arange(k), cj] = 0.0
    zn = new[:, :m]
    if np.count_nonzero(np.abs(zn) <= new[:, m : 2 * m] * (GUARD * ZERO_RTOL)) != k * m - np.count_nonzero(zn):
        return None  # another unit (almost) zero at the new point: concurrent or duplicate lines
    # order: old vertex i (key i), then the points on segment i by their fraction from i (key i + f)
    key = np.concatenate([np.arange(n, dtype=np.float64), ci + ta])
    order = key.argsort(kind="stable")
    ks = key[order]
    if (ks[1:] == ks[:-1]).any():
        return None  # two units crossing at one place (or too close to a vertex to order)
    allrows = np.concatenate([rows, new])[order]
    bp2 = np.concatenate([bp, np.ones(k, dtype=bool)])[order]
    Z2, M2 = allrows[:, :m], allrows[:, m : 2 * m]
    neg = Z2 < 0
    if slope == 0.0:
        np.maximum(Z2, 0.0, out=Z2)
        M2[neg] = 0.0
    else:
        Z2[neg] *= slope
        M2[neg] *= slope
    return allrows[:, 2 * m :], Z2, M2, bp2


def count_cones(net: Network, domain: Domain) -> CountResult | None:
    """Regions and pieces of a network without hidden biases on a box around the origin, or None.

    None where the walk round the boundary does not apply (hidden biases, a
    plane slice or polygon, the origin not strictly inside the box) or where
    one of its decisions is in doubt (see the module docstring): the caller
    then runs the mesh.
    """
    P = _corners(net, domain)
    if P is None:
        return None
    H, Hm = P, np.abs(P)
    # every boundary point lies within the corners' size; products of coordinates must not over- or
    # underflow in the pieces' test below: scale (exactly, by a power of two) where they might
    scale = not 2.0**-400 < float(Hm.min()) <= float(Hm.max()) < 2.0**400
    big = float(Hm.max())
    bp = np.zeros(4, dtype=bool)
    slope = net.negative_slope
    counts = []
    for W, _ in net.layers[:-1]:
        got = _cut(P, H, Hm, bp, W, np.abs(W), slope)
        if got is None:
            return None
        P, H, Hm, bp = got
        B = int(np.count_nonzero(bp))
        if B == 1:
            return None
        counts.append(max(B, 1))
    if B < 3:
        return None  # one region or two half-planes: the mesh is cheap there
    # pieces: per breakpoint i, the sector (p_i, p_i+1) extrapolated to p_i+2 (all cyclic), in one array
    Wout = net.layers[-1][0]
    q = Wout.shape[0]
    if scale:  # products of coordinates would over- or underflow: scale (exactly)
        P = np.ldexp(P, -math.frexp(big)[1])
    A = np.concatenate([P, H @ Wout.T, Hm @ np.abs(Wout).T], axis=1)[bp]  # the output less its bias: linear
    A = np.concatenate([A, A[:2]])
    A0, A1, A2 = A[:-2], A[1:-1], A[2:]
    # p2 det = an p0 + bn p1, det = p0 x p1 > 0 in a sector narrower than a half-plane
    det = A0[:, 0] * A1[:, 1] - A0[:, 1] * A1[:, 0]
    an = A2[:, 0] * A1[:, 1] - A2[:, 1] * A1[:, 0]
    bn = A0[:, 0] * A2[:, 1] - A0[:, 1] * A2[:, 0]
    Y0, Y1, Y2 = A0[:, 2 : 2 + q], A1[:, 2 : 2 + q], A2[:, 2 : 2 + q]
    mis = np.abs(Y2 * det[:, None] - an[:, None] * Y0 - bn[:, None] * Y1)
    mag = np.maximum(np.maximum(A0[:, 2 + q :], A1[:, 2 + q :]), A2[:, 2 + q :])
    bound = mag * ((8 * ZERO_RTOL) * (det + np.abs(an) + np.abs(bn)))[:, None]
    # (nan and inf compare False: such a pair is not proved different)
    if not ((det > 0).all() and (mis > bound).any(axis=1).all()):
        return None  # a pair of neighbours not proved different: the mesh decides it exactly
    return CountResult(B, B, counts, "planar")
