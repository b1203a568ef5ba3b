"""The exact 2-D engine: activation regions on a convex polygon of a plane.

Why one module: the mesh, its shared vertex buffer and the per-layer cut
(`_Mesh`, `_cut_layer`, `_walk`) work on one set of private arrays; the
partition result, rings, pieces and split already live beside it
(``result.py``, ``rings.py``, ``pieces.py``, ``split.py``).

Definition
----------
For a network ``f`` and a convex 2-D domain ``P`` -- a box of a 2-input
network, a convex polygon, or the plane slice ``x = x0 + u a + v b`` of any
input space (``u, v`` in a box or polygon) -- an *activation region* is a
maximal connected open set of ``P`` on which every hidden unit keeps one
state, active (pre-activation > 0) or inactive (<= 0).  Fixing the pattern
makes every pre-activation affine, so activation regions are convex
polygons.  An *affine piece* is a maximal connected union of regions on
which the output is one affine map: neighbouring regions (sharing an edge)
with equal output Jacobians merged (the output is continuous, so equal
Jacobians mean equal maps).

Algorithm
---------
The partition is a planar subdivision held in flat arrays: vertices ``(V, 2)``
in the domain's parameter coordinates, and every region as a convex ring of
vertex ids, counter-clockwise, in one padded array ``(R, K)`` with counts
``(R,)``.  Vertices are *shared*: a vertex belongs to every region around it.

Every vertex carries the pre-activations ``Z`` of the current layer (the
network's own forward values there: the layer's input is continuous, so the
value at a vertex does not depend on the region it is seen from) and their
*magnitude* ``M``, the same sums taken with absolute values, ``|W| |h| + |b|``.
Inside a region of the previous layers every pre-activation of the current
layer is affine, and so it is along every edge.  For each neuron ``j`` of the
layer in turn, over all regions at once:

1. each vertex gets a sign: ``+`` if ``Z_j > tol``, ``-`` if ``Z_j < -tol``,
   else ``0`` (on the line), with ``tol = ZERO_RTOL * M_j`` at that vertex;
2. a region with a ``+`` and a ``-`` vertex is cut: an edge whose ends have
   strictly opposite signs gets a new vertex at ``t = Z_a / (Z_a - Z_b)``
   (computed once per edge, from its lower to its higher vertex id, and
   shared by the two regions of the edge); the ``+`` part (vertices ``>= 0``
   plus the new ones) keeps the slot, the ``-`` part is appended;
3. the values ``Z`` and ``M`` of a new vertex are interpolated along its
   edge (exact in exact arithmetic, since they are affine there), and its
   own ``Z_j`` is set to exactly 0.

Only the regions whose *parent* (region at the start of the layer) has
vertices of both signs for neuron ``j`` are looked at.  At the end of the
layer ``h = relu(Z)`` at every vertex, and the next layer starts with
``Z' = W' h + b'``.  A Python loop runs over the neurons; none runs per
region, per edge or per vertex.

On small networks that loop's fixed cost per neuron dominates, so a layer
whose units cross few regions each is first cut by all its lines in one
pass (:mod:`.arrange`: boundary points on the edges, crossings of chords
found by their interleaving ends, faces named by their sign vectors), with
the same vertex signs and interpolations; any check it fails sends the layer
to the per-neuron cut, which stays the reference.

Exactness
---------
* **No region twice, no T-junction.**  The signs are a property of the
  vertex, not of the region looking at it, and a crossing is a property of
  the edge; every region sees the same decisions as its neighbours, so the
  subdivision stays a proper planar graph (Euler's relation holds and is
  checked by :meth:`PlanarPartition.verify`).
* **No zero-area sliver.**  A vertex within ``tol`` of a line is *on* the
  line: it is never split off, so a line through an existing vertex (zero
  biases, concurrent or duplicate neurons, a neuron constant on a region)
  passes through it.  Each part of a cut region keeps a vertex with
  ``|Z_j| > tol`` strictly on its side, so it has positive area.
* **No real thin cell lost.**  A cell is lost only if every one of its
  vertices lies within ``tol = ZERO_RTOL * M`` of the cutting line, i.e.
  within a few hundred units in the last place of the sums that define it:
  below the resolution at which float64 can tell the cell exists at all.
  Such a cell is nevertheless never merged silently: wherever a non-zero
  value was snapped onto a line, the count is confirmed by the n-D walk,
  whose zero decisions are checked in exact arithmetic, or refused
  (:func:`_confirm`; boxes and plane slices, not polygons).
  ``M`` is carried along interpolations (never recomputed from a cancelling
  sum), so a value that is zero in exact arithmetic -- the pre-activation of
  a zero-bias neuron at the common point of all first-layer lines, say --
  is compared with the size of the numbers it was computed from, not with
  its own rounding noise.
* **Scale.**  The walk starts at the domain's corners with magnitude
  ``|x|`` per coordinate (each vertex's own size, never the domain's), new
  vertices are interpolated from the end of their edge nearer the crossing,
  and a sign that rounding at the domain's size cannot decide is refused
  (:class:`~regions.errors.NumericalError`, see ``MESH_RTOL``); for a plane slice the first layer's magnitudes are those of the
  original sums, ``|W0| |basis|`` and ``|b0| + |W0| |x0|`` (784 inputs
  cancel in ``W0 x0``).  ``M`` is float64 (float32 would overflow past 3.4e38).
  Interpolation along domain-long edges still loses features near the
  origin without an undecided sign once the box is ~1e15 times wider than
  they are: :func:`count_plane` counts boxes wider than
  :data:`~regions.engines.shells.SHELL_TRIGGER` feature radii on a cover by
  geometric shells (or takes the count of ``R^2`` where the box holds every
  vertex), and :func:`partition_plane` refuses boxes wider than
  :data:`PARTITION_WIDE` feature radii (see :mod:`regions.engines.shells`).
* **Patterns.**  A neuron is active on a region iff some vertex of the
  region has ``Z_j > tol`` (read off the parent's vertices when the neuron
  does not cross the parent); a neuron that is zero on a whole region is
  inactive there (``ReLU(0)`` counts as inactive), as in :mod:`regions.line`.

Output maps and pieces
----------------------
The output map of every region is computed exactly from its activation
pattern, not fitted to vertex values (thin regions would make a fit
ill-conditioned): pre-activation maps pushed forward over the few regions
of an early layer meet the output's gradient pulled backward from the final
regions, at the layer that minimises the work (:func:`_output_maps`).
Pieces join neighbours whose Jacobians agree to ``PIECE_RTOL`` of their
absolute-value magnitude.  :func:`count_plane` skips the per-region maps:
it proves that neighbours differ from the output values at four vertices,
and decides the remaining pairs (none in a generic network) exactly.

Counts only
-----------
:func:`count_plane` builds less where it can, and falls back to the full
mesh wherever a shortcut cannot decide:

* a network without hidden biases on a box whose interior holds the origin
  has only cones for regions: they are counted by a walk round the box's
  boundary (:mod:`.cones`);
* a last layer that the one-pass cut takes is counted by Euler's relation for
  chords in a convex polygon, not built (:class:`.arrange.LayerCount`), and
  its pieces come from a certificate that no two neighbours share an output
  map (:mod:`.lastlayer`); where the certificate does not go through, the
  walk runs again with the faces built.

In the rare case where rounding gives a region an impossible sign sequence
(more than one ``+`` run), the region is not cut and the neuron's state is
the sign of the mean of its vertex values; such events are counted in
``PlanarPartition.stats["unsplit"]`` (zero on every network we tested).

References
----------
.. [1] B. Hanin and D. Rolnick, "Deep ReLU networks have surprisingly few
   activation patterns", NeurIPS 2019 (regions on 2-D slices).
.. [2] T. Humayun et al., "SplineCam: exact visualization and characterization
   of deep network geometry and decision boundaries", CVPR 2023.
.. [3] T. van Laarhoven, regioncam (2024), https://github.com/twanvl/regioncam.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ...core import affine
from ...core.patterns import from_ancestry, pack
from ...core.progress import Progress
from ...core.result import CountResult
from ...core.tolerances import MESH_RTOL, PIECE_RTOL, ZERO_RTOL  # noqa: F401 -- PIECE_RTOL re-exported
from ...errors import NumericalError, RegionsError
from ...domains import Domain, box
from ...model.network import Network
from ..base import check_options
from ..polytope.api import shell_partition, whole_if_inside  # the n-D walk: R^2 without far faces; shells
from ..shells import count_by_shells, refuse_wide, shell_boxes
from .arrange import LayerCount, arrange_layer
from .cones import count_cones
from .lastlayer import no_merges
from .pieces import pieces_from_maps, pieces_from_vertices
from .result import PlanarPartition
from .rings import EDGE_KEY as _KEY  # vertex-pair keys: lo * _KEY + hi
from .rings import domain_ring, ring_geometry

__all__ = ["PlanarPartition", "partition_plane", "count_plane", "planar_layers"]

#: Half-width of a box, in feature radii (:func:`..shells.feature_radius`), above which
#: :func:`partition_plane` refuses (:class:`~regions.errors.NumericalError`): vertices interpolated
#: along edges that long may lose the features near the origin without any sign being undecided
#: (measured from ~1e15 on); :func:`count_plane` covers such boxes by shells instead.
PARTITION_WIDE = 2.0**40


# ----------------------------------------------------------------- helpers
def _default_domain(net: Network, domain: Domain | None) -> Domain:
    if domain is None:
        if net.input_dim != 2:
            raise RegionsError(
                f"expected a 2-input network or a plane/polygon domain, got a network with "
                f"{net.input_dim} inputs and no domain"
            )
        return box(-1.0, 1.0, dim=2)
    if not isinstance(domain, Domain):
        raise RegionsError(f"expected a regions.domains.Domain, got {type(domain).__name__}")
    if domain.dim != 2:
        raise RegionsError(f"expected a 2-D domain (box, plane or polygon), got a {domain.dim}-D {domain.kind}")
    if not domain.bounded:
        d = domain.describe()
        raise RegionsError(
            f"expected a bounded 2-D domain (a box or convex polygon), got an unbounded {domain.kind} "
            f"with bounds {d.get('lo')} to {d.get('hi')} (None: infinite)"
        )
    return domain


def planar_layers(net: Network, domain: Domain) -> tuple[list, list]:
    """The pulled-back layers on the parameter plane and their magnitudes.

    Returns
    -------
    layers : list of (W, b)
        ``W`` shaped (out, in); the first layer acts on ``(u, v)``.
    mags : list of (|W|, |b|)
        Absolute values; for a plane slice the first layer's are
        ``(|W0| |basis|, |b0| + |W0| |origin|)``, the sizes of the sums the
        pulled-back weights were computed from.
    """
    pulled = domain.pullback(net)
    layers = [(np.asarray(W), np.asarray(b)) for W, b in pulled.layers]
    mags = [(np.abs(W), np.abs(b)) for W, b in layers]
    if domain.basis is not None:
        W0, b0 = net.layers[0]
        aW0 = np.abs(W0)
        mags[0] = (aW0 @ np.abs(domain.basis), np.abs(b0) + aW0 @ np.abs(domain.origin))
    return layers, mags


#: Regions above which the first layer looks only at the regions whose bounding box meets a line
#: (:func:`_cut_layer`); below it every region's vertices are tested, in fewer numpy calls.
_BOX_MIN = 256


#: The one-pass cut (:mod:`.arrange`) runs on a layer whose crossing units cross at most this many
#: regions each on average (every first layer: 1); above it the per-neuron cut, whose work per unit
#: is proportional to the regions it looks at, is faster (measured on He-normal nets of widths
#: 32-128: break-even near 30-60 regions per unit).
_ARRANGE_PER_UNIT = 32
#: ... and has at least this many crossing units (the one-pass cut costs about as much as six
#: passes of the per-neuron cut on a small mesh).
_ARRANGE_MIN_UNITS = 6
#: ... and at most this many pairs of chords in one region, summed over regions (each pair that
#: crosses is a full vertex row, held twice while the pass runs; 2-256-256-256-1's first layer has
#: ~22,000 and gains nothing there).
_ARRANGE_MAX_PAIRS = 16384
#: Whether :func:`_cut_layer` tries the one-pass cut at all (False: the per-neuron cut only; the
#: tests and ``benchmarks/bench_planar.py`` compare the two paths with it).
_DIRECT = True


class _Grow:
    """A row-growable 2-D array (capacity doubling)."""

    __slots__ = ("a", "n")

    def __init__(self, init: np.ndarray, capacity: int):
        cap = max(capacity, init.shape[0], 16)
        self.a = np.empty((cap,) + init.shape[1:], dtype=init.dtype)
        self.a[: init.shape[0]] = init
        self.n = init.shape[0]

    def reserve(self, extra: int) -> None:
        need = self.n + extra
        if need > self.a.shape[0]:
            cap = max(need, int(self.a.shape[0] * 1.6) + 16)
            b = np.empty((cap,) + self.a.shape[1:], dtype=self.a.dtype)
            b[: self.n] = self.a[: self.n]
            self.a = b


# ------------------------------------------------------------------ kernels
class _Mesh:
    """The current subdivision: shared vertices and padded convex rings."""

    def __init__(self, corners: np.ndarray):
        m = corners.shape[0]
        self.uv = _Grow(corners.copy(), 4 * m)
        K = max(8, m + 2)
        self.ring = np.zeros((16, K), dtype=np.int32)  # (Rcap, K) vertex ids
        self.ring[0, :m] = np.arange(m)
        self.nv = np.zeros(16, dtype=np.int32)  # (Rcap,) ring lengths
        self.nv[0] = m
        self.R = 1
        self.stats = {"unsplit": 0, "snapped": 0}

    @property
    def V(self) -> int:
        return self.uv.n

    def reserve_regions(self, extra: int) -> None:
        need = self.R + extra
        if need > self.ring.shape[0]:
            cap = max(need, int(self.ring.shape[0] * 1.6) + 16)
            r = np.zeros((cap, self.ring.shape[1]), dtype=np.int32)
            r[: self.R] = self.ring[: self.R]
            n = np.zeros(cap, dtype=np.int32)
            n[: self.R] = self.nv[: self.R]
            self.ring, self.nv = r, n

    def widen(self, K: int) -> None:
        if K > self.ring.shape[1]:
            r = np.empty((self.ring.shape[0], max(K, self.ring.shape[1] + 8)), dtype=np.int32)
            r[:, : self.ring.shape[1]] = self.ring
            r[:, self.ring.shape[1] :] = self.ring[:, :1]  # padding repeats the first vertex
            self.ring = r


def _split_rings(mesh: _Mesh, cp: np.ndarray, rv: np.ndarray, xid: np.ndarray, valid: np.ndarray,
                 pos: np.ndarray, neg: np.ndarray, cross: np.ndarray) -> tuple[np.ndarray, int]:
    """Write the two rings of each cut region ``cp`` (c,) into the mesh; returns ``(rings, R)``.

    ``rv`` (c, K) are the ring's vertex ids, ``xid`` (c, K) the new vertex on
    the edge after each slot where ``cross``; ``pos``/``neg``/``valid`` (c, K)
    the vertices' sides.  The ``+`` part keeps the region's slot, the ``-``
    part becomes region ``R + i`` (``R = mesh.R``, not advanced here);
    ``rings`` (2c, K2) are the ``+`` rings then the ``-`` rings, padded with
    their first vertex.  Used by the plain cut and the op-graph cut alike.
    """
    c, K = rv.shape
    # slot pairs (vertex i, crossing after vertex i), both rings built together:
    # rows 0..c-1 the + part, rows c..2c-1 the - part
    vals = np.empty((c, 2 * K), dtype=rv.dtype)
    vals[:, 0::2], vals[:, 1::2] = rv, xid
    keep = np.empty((2 * c, 2 * K), dtype=bool)
    keep[:c, 0::2] = valid & ~neg
    keep[c:, 0::2] = valid & ~pos
    keep[:c, 1::2] = cross
    keep[c:, 1::2] = cross
    counts = np.add.reduce(keep, axis=1, dtype=np.intp)
    Kn = int(counts.max())
    if Kn > K:
        mesh.widen(Kn)
    K2 = mesh.ring.shape[1]
    mesh.reserve_regions(c)
    R = mesh.R
    # kept slots first, in ring order (stable), then padding with the ring's first vertex
    order = (~keep).argsort(axis=1, kind="stable")
    if order.shape[1] < K2:  # a ring narrower than 8 slots widened by 8
        order = np.pad(order, ((0, 0), (0, K2 - order.shape[1])), mode="edge")
    order = order[:, :K2]
    order += (np.arange(2 * c) % c * (2 * K))[:, None]  # flat index into vals (both halves read it)
    out = vals.ravel()[order]
    out = np.where(np.arange(K2) < counts[:, None], out, out[:, :1])
    mesh.ring[cp] = out[:c]
    mesh.ring[R : R + c] = out[c:]
    mesh.nv[cp] = counts[:c]
    mesh.nv[R : R + c] = counts[c:]
    return out, R


def _unique_inverse(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, return_inverse=True)`` by one sort (numpy's own is several times slower here)."""
    order = keys.argsort(kind="stable")
    sk = keys[order]
    first = np.empty(sk.shape[0], dtype=bool)
    first[:1] = True
    np.not_equal(sk[1:], sk[:-1], out=first[1:])
    inv = np.empty(keys.shape[0], dtype=np.intp)
    inv[order] = first.cumsum() - 1
    return sk[first], inv


def _or_over_rings(bits: np.ndarray, ring: np.ndarray, nv: np.ndarray) -> np.ndarray:
    """Bitwise OR of per-vertex packed rows over each ring: (R, nbytes)."""
    R, K = ring.shape
    if R * K * bits.shape[1] <= 1 << 20:  # small: one gather (padding repeats the first vertex)
        return np.bitwise_or.reduce(bits[ring], axis=1)
    out = np.zeros((R, bits.shape[1]), dtype=np.uint8)
    for k in range(K):  # loop over ring slots (K ~ 10), not over regions
        rows = np.flatnonzero(nv > k)
        if rows.size == 0:
            break
        if rows.size == R:
            out |= bits[ring[:, k]]
        else:
            out[rows] |= bits[ring[rows, k]]
    return out


def _undecided(z: np.ndarray, tol: np.ndarray, err: np.ndarray, Hv: np.ndarray | None,
               aWj: np.ndarray, abj) -> None:
    """Refuse sign decisions that float64 cannot make at this domain's size.

    ``z`` (vertices x units) is undecided when it is "zero" (within its carried
    rounding ``tol``) only because its carried magnitude was inherited from far
    vertices, yet farther from zero than the error that interpolation along
    edges as long as the domain may have put into it (``err``, see
    :data:`~regions.core.tolerances.MESH_RTOL`): ``|z| <= tol`` but
    ``|z| > ZERO_RTOL * (|W| |h| + |b|) + err`` with ``h`` the vertex's own
    input (``Hv``, rows of ``z``; the local magnitude).  Exact zeros made by
    cancellation of huge values are not caught (see the report of issue 15).
    """
    az = np.abs(z)
    small = (az <= tol) & (az > err)
    bad = np.zeros_like(small)
    if Hv is not None and small.any():
        rows = np.flatnonzero(small.reshape(small.shape[0], -1).any(axis=1))
        loc = (np.abs(Hv[rows]) @ aWj.T + abj).reshape(az[rows].shape)
        bad[rows] |= small[rows] & (az[rows] > ZERO_RTOL * loc + err)
    if bad.any():
        raise NumericalError(
            f"expected every vertex to be resolved by float64, got a pre-activation of "
            f"{float(az[bad].max()):.3g} that rounding at this domain's size (vertex values "
            f"interpolated along edges as long as the domain) cannot tell from zero: use a smaller "
            f"domain, or whole(2) (the n-D engine) for all of R^2"
        )


def _twins(W: np.ndarray, b: np.ndarray) -> dict:
    """Units of a layer whose ``(w, b)`` are exact copies of each other up to a power of two and sign.

    Returns ``{j: units}`` for units with copies.  A copy's line is the unit's own line exactly, so a
    vertex made on it is on both (their values there are set to exactly zero, never snapped).
    """
    R = np.concatenate([W, np.asarray(b, dtype=np.float64)[:, None]], axis=1)
    nz = R != 0
    if not nz.any():
        return {}
    first = np.where(nz.any(axis=1), nz.argmax(axis=1), 0)
    lead = R[np.arange(R.shape[0]), first]
    e = np.frexp(lead)[1]
    with np.errstate(over="ignore", under="ignore"):
        N = np.ldexp(R * np.sign(lead)[:, None], -e[:, None])  # a power of two: exact unless subnormal
    N[~nz.any(axis=1)] = np.nan  # zero rows have no line
    _, inv, cnt = np.unique(N, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    out = {}
    for g in np.flatnonzero(cnt > 1):
        members = np.flatnonzero(inv == g)
        if np.isnan(N[members[0]]).any():
            continue
        back = np.ldexp(N[members], e[members, None]) * np.sign(lead)[members, None]
        if not np.array_equal(back, R[members]):  # the scaling was not exact (subnormal)
            continue
        for j in members.tolist():
            out[j] = members
    return out


def _cut_layer(mesh: _Mesh, H: np.ndarray, Hm: np.ndarray, W, b, aW, ab, slope: float,
               max_regions: int | None, *, first: bool = False, err: np.ndarray | None = None,
               direct: bool | None = None, count_only: bool = False):
    """Cut every region by the lines of one layer.

    Parameters
    ----------
    H : (V, n) float64, the layer's input at every vertex.
    Hm : (V, n) float64, its magnitude (carried, see the module docstring).
    W, b, aW, ab : the layer and the absolute values of its weights.

    Returns
    -------
    H', Hm' : (V', m) the next layer's input and magnitude at every vertex;
    parent : (R',) region at the start of the layer; active : (R', ceil(m/8)) packed states;
    partial : bool (stopped at ``max_regions``).

    Ring slots past a region's length hold a copy of its first vertex, so
    "some vertex is positive" needs no mask.

    In the first layer (``first``: the input is ``(u, v)`` itself) every
    line is straight, and once there are more than ``_BOX_MIN`` regions only
    those whose bounding box meets it (within a margin of 1e-9 of its
    magnitude, far above the vertex tolerance) are looked at; the others lie
    strictly on one side, and get the state their vertices would give them.

    With ``direct`` (default :data:`_DIRECT`) and no ``max_regions``, a layer whose
    units cross few regions each is first cut in one pass by
    :func:`.arrange.arrange_layer` (a fixed number of numpy calls per layer);
    where one of its checks fails, the per-neuron cut below runs instead.

    With ``count_only`` (the last layer of a count) a layer the one-pass cut takes is counted, not
    built: the result is then the :class:`~.arrange.LayerCount` alone (its vertices' snapped values
    added to ``mesh.stats``; the mesh itself is left as it was).
    """
    V0 = mesh.V
    m = W.shape[0]
    R0 = mesh.R
    # one growable block per vertex: [Z (m) | M (m) | u, v], so that a new vertex is one interpolation
    cap = max(2 * V0 + 64, V0 + 4 * R0)
    G = _Grow(np.empty((0, 2 * m + 2)), cap)
    G.n = V0
    Zv, Mv = G.a[:V0, :m], G.a[:V0, m : 2 * m]
    np.matmul(H, W.T, out=Zv)
    Zv += b  # (V0, m)
    with np.errstate(over="ignore", invalid="ignore"):
        np.matmul(Hm, aW.T, out=Mv)  # (V0, m) float64: float32 would overflow past 3.4e38
        Mv += ab
    G.a[:V0, 2 * m :] = mesh.uv.a[:V0]
    if not np.isfinite(G.a[:V0, : 2 * m]).all():
        raise NumericalError(
            "expected pre-activations within float64's range, got an overflow (inf or nan): "
            "the weights, biases or domain are so large that their products exceed 1.8e308"
        )
    del Hm, Zv, Mv
    # which parents have both signs for which neuron (packed bits, OR over rings)
    ring0, nv0 = mesh.ring[:R0], mesh.nv[:R0]
    nbytes = (m + 7) // 8
    vbits = np.empty((V0, 2 * nbytes), dtype=np.uint8)  # (V0, 2 nbytes) packed z > tol, then z < -tol
    step = max(1, (1 << 16) // max(m, 1))
    for s in range(0, V0, step):  # chunks of vertices stay in cache
        e = min(V0, s + step)
        z = G.a[s:e, :m]
        t = G.a[s:e, m : 2 * m] * ZERO_RTOL
        if err is not None:
            _undecided(z, t, err, H[s:e], aW, ab)
        vbits[s:e, :nbytes] = np.packbits(z > t, axis=1)
        vbits[s:e, nbytes:] = np.packbits(z < -t, axis=1)
    del H
    PN = _or_over_rings(vbits, ring0, nv0)  # (R0, 2 nbytes)
    P = PN[:, :nbytes]  # some vertex positive
    N = PN[:, nbytes:]  # some vertex negative
    del vbits
    crossedT = np.unpackbits(P & N, axis=1, count=m).view(bool).T.copy()  # (m, R0)
    ncross = crossedT.sum(axis=1)  # (m,) parents crossed by each neuron
    act = _Grow(P, R0 + int(ncross.sum()) + 16)  # (R, nbytes) packed states, inherited from the parent
    del N
    parent = _Grow(np.arange(R0, dtype=np.int64), act.a.shape[0])
    partial = False
    done = False
    units = int(np.count_nonzero(ncross))
    per_region = np.count_nonzero(crossedT, axis=0) if units else ncross[:0]  # chords of each region
    if ((_DIRECT if direct is None else direct) and max_regions is None and units >= _ARRANGE_MIN_UNITS
            and int(ncross.sum()) <= _ARRANGE_PER_UNIT * units
            and int((per_region * (per_region - 1)).sum()) <= 2 * _ARRANGE_MAX_PAIRS):
        got = arrange_layer(G, V0, m, ring0, nv0, P, crossedT.T, count_only=count_only)
        if got is not None and first and err is not None and got[0] > V0:
            rows = G.a[V0 : got[0]]
            try:
                _undecided(rows[:, :m], rows[:, m : 2 * m] * ZERO_RTOL, err, rows[:, 2 * m :], aW, ab)
            except NumericalError:
                got = None  # the per-neuron cut decides (or refuses) itself
        if got is None:
            G.n = V0  # rows the one-pass cut appended are dropped
        elif count_only:
            az, Mx = np.abs(G.a[: got.V, :m]), G.a[: got.V, m : 2 * m]
            near = az <= Mx * ZERO_RTOL
            # as at the end of a built layer: an exact 0.0 at a starting vertex with non-zero terms
            # cancelled in float64 and is confirmed too; at a new vertex only non-zero snaps count
            mesh.stats["snapped"] += int(np.count_nonzero(near[:V0] & (Mx[:V0] > 0)))
            mesh.stats["snapped"] += int(np.count_nonzero(near[V0:] & (az[V0:] > 0)))
            return got
        else:
            V, ring, nv, par, acts = got
            G.n = V
            mesh.ring, mesh.nv, mesh.R = ring, nv, ring.shape[0]
            parent = _Grow(par, par.shape[0])
            act = _Grow(acts, acts.shape[0])
            done = True
    f32tol = ZERO_RTOL
    # only the first layer's signs can be undecided inside the loop: ``_undecided`` needs the
    # vertex's own input (``u, v``) to find them, and decides nothing without it
    check = err is not None and first
    bb = None  # first layer, once it has more than _BOX_MIN regions: bounding boxes (R, 4)
    if first and not done:  # margins of the bounding-box test in the per-neuron loop below
        C = mesh.uv.a[:V0]
        reach = np.abs(C).max(axis=0) + float(np.ptp(C, axis=0).max())  # (2,)
        margin = 1e-9 * (np.abs(W) @ reach + np.abs(b))  # (m,)
    mj = m  # column of M for neuron j: mj + j
    twins = {} if done else _twins(W, b)  # exact copies of each unit (same line): zero wherever the unit is
    for j in (() if done else np.flatnonzero(ncross)):
        R = mesh.R
        jb, bit = j >> 3, np.uint8(128 >> (j & 7))
        if first and bb is None and R > _BOX_MIN:  # u_lo, u_hi, v_lo, v_hi of every ring so far
            P2 = G.a[mesh.ring[:R], 2 * m :]  # (R, K, 2); padding repeats a vertex
            bb = _Grow(np.empty((R, 4)), 2 * R)
            bb.a[:R, 0::2], bb.a[:R, 1::2] = P2.min(axis=1), P2.max(axis=1)
        if bb is not None:
            B = bb.a[:R]
            w0, w1 = W[j]
            lo0, hi0 = np.minimum(w0 * B[:, 0], w0 * B[:, 1]), np.maximum(w0 * B[:, 0], w0 * B[:, 1])
            lo1, hi1 = np.minimum(w1 * B[:, 2], w1 * B[:, 3]), np.maximum(w1 * B[:, 2], w1 * B[:, 3])
            zmin, zmax = lo0 + lo1 + b[j], hi0 + hi1 + b[j]
            col = act.a[:R, jb]
            act.a[:R, jb] = np.where(zmin >= margin[j], col | bit, col & ~bit)  # strictly on one side
            cand = np.flatnonzero((zmin < margin[j]) & (zmax > -margin[j]))
            if cand.size == 0:
                continue
        elif ncross[j] == R0:  # every parent
            cand = np.arange(R)
        else:
            cand = crossedT[j][parent.a[:R]].nonzero()[0]  # regions whose parent is crossed
        ring = mesh.ring
        K = ring.shape[1]
        rvx = np.empty((cand.shape[0], K + 1), dtype=ring.dtype)  # the ring, closed: slot K = slot 0
        rvx[:, :K] = ring[cand]
        rvx[:, K] = rvx[:, 0]
        z = G.a[rvx, j]  # (c, K + 1)
        tol = G.a[rvx, mj + j]
        tol *= f32tol
        posx = z > tol
        negx = z < -tol
        if check and (np.abs(z[~(posx | negx)]) > err[j]).any():  # some "zero" that may be undecided
            _undecided(z[:, :K], tol[:, :K], err[j], G.a[rvx[:, :K], 2 * m :], aW[j], ab[j])
        haspos = np.logical_or.reduce(posx, axis=1)  # (ufuncs called directly: these arrays are small)
        col = act.a[cand, jb]
        act.a[cand, jb] = np.where(haspos, col | bit, col & ~bit)
        cut = haspos & np.logical_or.reduce(negx, axis=1)
        cp = cand[cut]
        c = cp.shape[0]
        if c == 0:
            continue
        if c < cand.shape[0]:
            rvx, posx, negx, z = rvx[cut], posx[cut], negx[cut], z[cut]
        rv, pos, neg = rvx[:, :K], posx[:, :K], negx[:, :K]
        pos_n, neg_n = posx[:, 1:], negx[:, 1:]  # the next vertex round the ring
        cnt = mesh.nv[cp]
        valid = np.arange(K) < cnt[:, None]  # (c, K)
        # padding repeats the first vertex: its slots neither cross nor end a run
        cross = (pos & neg_n) | (neg & pos_n)  # (c, K) edge slot -> next crosses
        zero = valid & ~(pos | neg)
        ends = (pos & ~pos_n) | (neg & ~neg_n)  # last vertex of a + run or of a - run (disjoint)
        runs = np.add.reduce(ends.view(np.uint8) + cross.view(np.uint8) + zero.view(np.uint8), axis=1,
                             dtype=np.intp)
        # one + run, one - run and two crossings or zeros (each at least 1, 1, 2: a cut ring)
        ok = runs == 4
        if not ok.all():
            bad = ~ok
            mesh.stats["unsplit"] += int(bad.sum())
            on = np.where(valid[bad], z[bad, :K], 0.0).sum(axis=1) > 0
            col = act.a[cp[bad], jb]
            act.a[cp[bad], jb] = np.where(on, col | bit, col & ~bit)
            cp, rvx, pos, neg, valid, cross = (x[ok] for x in (cp, rvx, pos, neg, valid, cross))
            rv = rvx[:, :K]
            c = cp.shape[0]
            if c == 0:
                continue
        # one new vertex per crossing edge, shared by the edge's two regions
        ri, ci = cross.nonzero()
        ea = rvx[ri, ci].astype(np.int64)
        eb = rvx[ri, ci + 1].astype(np.int64)
        ukey, inv = _unique_inverse(np.minimum(ea, eb) * _KEY + np.maximum(ea, eb))
        ulo, uhi = np.divmod(ukey, _KEY)
        zc = G.a[:, j]
        zl = zc[ulo]
        zh = zc[uhi]
        # interpolate from the end nearer the crossing (|z| smaller there), with that end's own
        # fraction: the new vertex is then exact to rounding of its own size, however long the edge
        near_hi = np.abs(zh) < np.abs(zl)
        ulo, uhi = np.where(near_hi, uhi, ulo), np.where(near_hi, ulo, uhi)
        zl = np.where(near_hi, zh, zl)
        tt = zl / (zl - zc[uhi])  # (u,) in (0, 1/2]: the ends have strictly opposite signs
        nu = ukey.shape[0]
        G.reserve(nu)
        V = G.n
        out = G.a[V : V + nu]
        lo_rows = G.a[ulo]
        np.subtract(G.a[uhi], lo_rows, out=out)
        out *= tt[:, None]
        out += lo_rows
        out[:, twins.get(j, j)] = 0.0
        G.n = V + nu
        xid = np.zeros((c, K), dtype=np.int32)
        xid[ri, ci] = V + inv
        out, R = _split_rings(mesh, cp, rv, xid, valid, pos, neg, cross)
        if bb is not None:
            bb.n = R
            bb.reserve(c)
            P2 = G.a[out, 2 * m :]  # (2c, K2, 2); padding repeats a vertex
            lo2, hi2 = P2.min(axis=1), P2.max(axis=1)  # (2c, 2)
            bb.a[cp, 0::2], bb.a[cp, 1::2] = lo2[:c], hi2[:c]
            bb.a[R : R + c, 0::2], bb.a[R : R + c, 1::2] = lo2[c:], hi2[c:]
        mesh.R = R + c
        if bb is not None:
            bb.n = R + c
        act.reserve(c)
        parent.reserve(c)
        act.a[R : R + c] = act.a[cp]
        act.a[R : R + c, jb] &= ~bit  # the + part (slot cp) has its bit set already: it has a + vertex
        parent.a[R : R + c] = parent.a[cp]
        act.n = parent.n = R + c
        if max_regions is not None and mesh.R > max_regions:
            partial = True
            break
    V = G.n
    mesh.uv.reserve(V - mesh.uv.n)
    mesh.uv.a[V0:V] = G.a[V0:V, 2 * m :]
    mesh.uv.n = V
    # next layer's input at every vertex: h = relu(z), magnitude carried
    Z = G.a[:V, :m]
    M = G.a[:V, m : 2 * m]
    # values put on a line by the tolerance alone (non-zero, within ZERO_RTOL of their magnitude):
    # a line through a vertex in exact arithmetic, or a real feature thinner than that (see _confirm).
    # At the vertices the layer started with, a value W h + b that is exactly 0.0 while its terms are
    # not all zero (M > 0) cancelled in float64, and may be a real non-zero value rounded away: it is
    # confirmed too.  (A new vertex's 0.0 on its own line, or on an edge along another line, is
    # the mesh's construction, not a sum.)
    for s in range(0, V, step):
        e = min(V, s + step)
        az = np.abs(Z[s:e])
        near = az <= M[s:e] * f32tol
        if s < V0:
            old = min(e, V0) - s
            mesh.stats["snapped"] += int(np.count_nonzero(near[:old] & (M[s:s + old] > 0)))
            near = near[old:]
            az = az[old:]
        mesh.stats["snapped"] += int(np.count_nonzero(near & (az > 0)))
    for s in range(0, V, step):  # chunks stay in cache
        e = min(V, s + step)
        z, mg = Z[s:e], M[s:e]
        neg = z < -(mg * f32tol)
        if slope == 0.0:
            mg[neg] = 0.0
            np.maximum(z, 0.0, out=z)
        else:
            mg[neg] *= abs(slope)
            np.multiply(z, slope, out=z, where=z <= 0)
    R = mesh.R
    return Z, M, parent.a[:R].copy(), act.a[:R].copy(), partial


# ---------------------------------------------------------------- the walk
@dataclass
class _Walked:
    """What the walk leaves: the layers, the final mesh and the tree of regions."""

    layers: list  # (W, b) on the parameter plane
    mags: list  # (|W|, |b|)
    mesh: "_Mesh"
    HHm: tuple  # the last hidden layer's output and its magnitude at every vertex
    parents: list  # per layer: (R_l,) region of the previous layer
    actives: list  # per layer: (R_l, ceil(n_l / 8)) packed states
    counts: list  # regions after each layer
    partial: bool
    last: LayerCount | None = None  # the last layer counted, not built (``count_last``)

    @property
    def R(self) -> int:
        return self.mesh.R

    def rings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(uv, ring, nv)``: vertices, padded rings (R, K), ring lengths."""
        m = self.mesh
        K = int(m.nv[: m.R].max())
        return m.uv.a[: m.V], m.ring[: m.R, :K], m.nv[: m.R]

    def widths(self) -> list[int]:
        """Units of the layers processed."""
        return [W.shape[0] for W, _ in self.layers[: len(self.parents)]]

    def masks(self) -> list[np.ndarray]:
        """Per-layer bool states of the final regions."""
        return from_ancestry(self.parents, self.actives, self.widths())


def _start_mesh(domain: Domain, mags: list) -> tuple:
    """The domain as one region, its vertex values and magnitudes, and the per-layer vertex errors.

    Returns ``mesh, H (V, 2), Hm (V, 2), errs``: ``errs[l]`` (n_l,) bounds the
    error that interpolation along edges as long as the domain may put into
    layer ``l``'s pre-activations at a vertex (``MESH_RTOL`` times the
    diameter, times the absolute weights on the way; see the module docstring).
    """
    corners = domain_ring(domain)
    mesh = _Mesh(corners)
    H = corners.copy()  # (V, 2) input of the first layer
    Hm = np.abs(corners)  # each vertex's own magnitude, never the domain's size
    diam = float(np.abs(corners).max() + np.ptp(corners, axis=0).max())
    err = np.full(2, MESH_RTOL * diam)
    errs = []
    for aW, _ in mags[:-1]:
        with np.errstate(over="ignore"):
            err = aW @ err
        errs.append(err)
    return mesh, H, Hm, errs


def _walk(net: Network, domain: Domain, max_regions: int | None, progress: bool = False, *,
          count_last: bool = False) -> _Walked:
    """The mesh through every hidden layer.  With ``count_last`` the last layer, where the one-pass
    cut takes it, is counted and not built: ``_Walked.last`` holds its :class:`~.arrange.LayerCount`
    (the mesh, parents and states stop at the layer before)."""
    layers, mags = planar_layers(net, domain)
    slope = net.negative_slope
    mesh, H, Hm, errs = _start_mesh(domain, mags)
    parents, actives, counts = [], [], []
    partial = False
    last = None
    depth = len(layers) - 1
    with Progress(progress, [(f"{depth} hidden layers", depth)], unit="layers") as bar:
        for (W, b), (aW, ab), err in zip(layers[:-1], mags[:-1], errs):
            mesh.stats["snapped"] += _may_underflow(H, W)
            got = _cut_layer(mesh, H, Hm, W, b, aW, ab, slope, max_regions, first=not parents, err=err,
                             count_only=count_last and len(parents) == depth - 1)
            if isinstance(got, LayerCount):
                last = got
                counts.append(got.regions)
                bar.update(0)
                break
            H, Hm, parent, active, partial = got
            parents.append(parent)
            actives.append(active)
            counts.append(mesh.R)
            bar.update(0)
            if partial:
                break
    if mesh.stats["snapped"] and not partial:
        _confirm(net, domain, counts[-1] if counts else mesh.R)
    return _Walked(layers, mags, mesh, (H, Hm), parents, actives, counts, partial, last)


def _may_underflow(H: np.ndarray, W: np.ndarray) -> int:
    """1 where a product ``W_ij h_j`` of non-zero factors may fall below float64's normal range, else 0.

    Such a product loses bits (subnormal) or becomes 0.0, and its magnitude with it, so a non-zero
    value could be taken for an exact zero; the count is then confirmed (:func:`_confirm`).
    """
    aw = np.abs(W[W != 0])
    ah = np.abs(H[H != 0])
    if aw.size == 0 or ah.size == 0:
        return 0
    return int(float(aw.min()) * float(ah.min()) < np.finfo(np.float64).tiny * max(1, W.shape[1]))


def _confirm(net: Network, domain: Domain, n: int) -> None:
    """Confirm a count with vertices snapped onto lines, or refuse (issue 15: no silent merge).

    The mesh takes a value within ``ZERO_RTOL`` of its magnitude for zero.  That is right for
    lines through a vertex in exact arithmetic (zero biases, concurrent or duplicate units), but a
    real strip or wedge that thin (two lines ``1e-13`` apart, a unit and its rescaled copy whose
    float64 rounding differs) would be merged without any sign in doubt.  The mesh keeps no
    incidences to find the exact vertex, so where any value was snapped the count is confirmed by the
    n-D walk, whose every such zero decision is checked in exact rational arithmetic
    (:mod:`regions.engines.polytope.exact`): it refuses a real feature below its resolution
    (:class:`~regions.errors.NumericalError`), and a different count is refused here.  A polygon
    is walked as the intersection of its edges' half-planes, each face exact in rationals.
    """
    from ..polytope.api import _count_walk  # the walk with exact zero checks

    ref = _count_walk(net, domain, None, False).regions
    if ref != n:
        raise NumericalError(
            f"expected the 2-D mesh and the exactly checked n-D walk to agree where the mesh snapped "
            f"vertices onto lines, got {n} and {ref} regions: a feature thinner than float64 resolves at "
            f"this size; make copies of units exact (the same weights and bias up to a power of two) or "
            f"remove them, or use a smaller domain")


# ---------------------------------------------------------------- public API
def partition_plane(net: Network, domain: Domain | None = None, *,
                    max_regions: int | None = None, progress: bool = False) -> PlanarPartition:
    """Partition a convex 2-D domain into the network's activation regions, exactly.

    Parameters
    ----------
    net : Network
    domain : Domain, optional
        A :func:`~regions.domains.box` of a 2-input network (default
        ``[-1, 1]^2``), a convex :func:`~regions.domains.polygon`, or a
        plane slice through any input space (:func:`~regions.domains.plane`,
        :func:`~regions.domains.plane_through`).  Must be bounded.
    max_regions : int, optional, keyword-only
        Stop once more regions than this exist; the partition is then
        flagged ``partial`` (its regions are those of the first layers and
        part of the layer being processed).
    progress : bool, keyword-only
        Layers done out of the network's depth (needs tqdm).

    Returns
    -------
    PlanarPartition

    Examples
    --------
    >>> net = Network.from_arch("2-8-1", seed=0)
    >>> part = partition_plane(net)
    >>> part.verify()["ok"]
    True
    """
    max_regions, progress = check_options(max_regions=max_regions, progress=progress)
    domain = _default_domain(net, domain)
    refuse_wide(net, domain, "planar", PARTITION_WIDE)
    return _partition_plane(net, domain, max_regions=max_regions, progress=progress)


def _partition_plane(net: Network, domain: Domain, *, max_regions: int | None = None,
                     progress: bool = False) -> PlanarPartition:
    """:func:`partition_plane` on a checked domain (also each sub-box of :mod:`..shells`)."""
    t0 = time.perf_counter()
    w = _walk(net, domain, max_regions, progress)
    uv, ring, nv = w.rings()
    masks = w.masks()
    R = w.R
    packed = pack(np.concatenate(masks, axis=1)) if masks else np.zeros((R, 0), dtype=np.uint8)
    areas, wit = ring_geometry(uv, ring, nv)
    if w.partial:
        maps, labels, n_pieces = None, np.arange(R), None
    else:
        slope = net.negative_slope
        maps = affine.tree_output_maps(w.layers, w.parents, w.actives, masks, slope, widths=w.widths())
        labels, n_pieces = pieces_from_maps(ring, nv, maps[0], w.layers, w.mags, masks, slope)
    offsets = np.concatenate([[0], np.cumsum(nv.astype(np.int64))])
    flat = ring[np.arange(ring.shape[1])[None, :] < nv[:, None]]
    return PlanarPartition(
        network=net,
        domain=domain,
        vertices=uv.copy(),
        ring_offsets=offsets,
        ring_vertices=flat.astype(np.int64),
        packed_patterns=packed,
        measures=areas,
        witnesses=wit,
        layer_counts=tuple(w.counts),
        piece_labels=labels,
        n_pieces=n_pieces,
        partial=w.partial,
        layer_parents=tuple(w.parents),
        maps=maps,
        stats={"unsplit": w.mesh.stats["unsplit"], "seconds": time.perf_counter() - t0},
    )


def count_plane(net: Network, domain: Domain | None = None, *,
                max_regions: int | None = None, progress: bool = False) -> CountResult:
    """Count the activation regions and affine pieces on a convex 2-D domain.

    Same numbers as ``partition_plane(net, domain).count()``, without
    keeping the geometry: patterns are never assembled (only the last
    layer's masks and the ancestry are kept) and the Jacobians are computed
    in chunks.

    Parameters
    ----------
    max_regions : int, optional, keyword-only
        Stop once more regions than this exist; the result is flagged
        ``partial`` and its numbers are lower bounds; ``pieces`` is None.
    progress : bool, keyword-only
        Layers done out of the network's depth (needs tqdm).
    """
    max_regions, progress = check_options(max_regions=max_regions, progress=progress)
    domain = _default_domain(net, domain)
    if max_regions is None and not progress:  # no hidden biases, origin inside: a walk round the boundary
        res = count_cones(net, domain)
        if res is not None:
            return res
    boxes = shell_boxes(net, domain)
    if boxes is not None:  # a box far wider than the features: one partition per shell (see ..shells)
        res = None if max_regions is not None else whole_if_inside(net, domain, "planar")
        # shells: the n-D walk with exact zero checks (polygons: the mesh, without them)
        part = _partition_plane if domain.vertices is not None else shell_partition
        return res if res is not None else count_by_shells(net, boxes, part, "planar", max_regions,
                                                                     domain=domain)
    w = _walk(net, domain, max_regions, progress, count_last=max_regions is None)
    if w.partial:
        return CountResult(w.R, None, w.counts, "planar", partial=True)
    unsplit = w.mesh.stats["unsplit"]
    extra = {"unsplit": unsplit} if unsplit else {}
    if w.last is not None:  # the last layer counted, not built: pieces by a certificate, or built after all
        _, ring0, nv0 = w.rings()
        if no_merges(w.last, ring0, nv0, w.layers, w.mags, w.parents, w.actives, net.negative_slope):
            return CountResult(w.counts[-1], w.counts[-1], w.counts, "planar", extra=extra)
        w = _walk(net, domain, max_regions, progress)
    uv, ring, nv = w.rings()
    _, n_pieces = pieces_from_vertices(ring, nv, uv, w.HHm, w.layers, w.mags, w.masks, net.negative_slope)
    unsplit = w.mesh.stats["unsplit"]
    return CountResult(w.R, n_pieces, w.counts, "planar", extra={"unsplit": unsplit} if unsplit else {})
