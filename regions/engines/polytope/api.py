"""The n-D engine's public functions: check the input, then run the walk of :mod:`.kernel`.

:func:`partition_polytope` keeps every region; :func:`count_polytope` counts
(on a generic bounded box via :mod:`.skeleton`, on boxes far wider than the
features via :mod:`..shells`, else by the walk); :func:`preflight` gives
bounds before a long run.  See :mod:`.kernel` for the algorithm.
"""

from __future__ import annotations

import numpy as np

from ...analysis.theory import serra_upper_bound
from ...core.result import CountResult
from ...core.tolerances import PIECE_RTOL  # noqa: F401 -- re-exported (__all__)
from ...domains import Domain, box
from ...errors import NumericalError
from ...model.network import Network
from ..base import check_options
from ..shells import SHELL_TRIGGER, _axis_box, _domain_radius, count_by_shells, refuse_wide, shell_boxes
from .batch import _Batch, _first_values  # noqa: F401 -- _first_values re-exported for the skeleton tests
from .kernel import CHUNK, PARTITION_WIDE, VERTEX_RTOL, _check, _walk  # noqa: F401 -- CHUNK re-exported
from .pieces import _inert, _Pieces
from .result import PolytopePartition
from .skeleton import Degenerate, skeleton_count

__all__ = [
    "CHUNK",
    "PIECE_RTOL",
    "PolytopePartition",
    "VERTEX_RTOL",
    "count_polytope",
    "partition_polytope",
    "preflight",
]


# ----------------------------------------------------------------- results
def _witnesses(G: np.ndarray, lin: np.ndarray, starts: np.ndarray, k: int, scale: float) -> np.ndarray:
    """Interior points: a strictly positive combination of every generator, (R, k)."""
    R = starts.shape[0] - 1
    rid = np.repeat(np.arange(R), np.diff(starts))
    t = G[:, k]
    point = (t > 0) & ~lin
    ray = (t == 0) & ~lin
    nv = np.bincount(rid[point], minlength=R)
    nr = np.bincount(rid[ray], minlength=R)
    if np.any(nv == 0):
        raise NumericalError("expected every region to have a vertex, got one without (numerical failure)")
    X = np.zeros((R, k))
    np.add.at(X, rid[point], G[point, :k])
    X /= nv[:, None]
    if ray.any():
        Y = np.zeros((R, k))
        np.add.at(Y, rid[ray], G[ray, :k])
        X += scale * Y / np.maximum(nr, 1)[:, None]
    return X


# ---------------------------------------------------------------- public API
def preflight(net: Network, domain: Domain | None = None, *, samples: int = 20000, seed: int = 0) -> dict:
    """A quick look before a long run: Serra's upper bound and a sampled lower bound.

    Parameters
    ----------
    samples : int, keyword-only
        Random points in the domain (for unbounded coordinates: Gaussian of
        the domain's scale); distinct patterns among them are a lower bound.

    Returns
    -------
    dict
        ``upper_bound`` (Serra et al. 2018, Theorem 1, for all of R^k) and
        ``sampled_lower_bound``.
    """
    domain = _check(net, domain)
    pulled = domain.pullback(net)
    rng = np.random.default_rng(seed)
    k = domain.dim
    lo = np.where(np.isfinite(domain.lo), domain.lo, np.nan)
    hi = np.where(np.isfinite(domain.hi), domain.hi, np.nan)
    U = rng.uniform(0.0, 1.0, size=(samples, k))
    both = np.isfinite(lo) & np.isfinite(hi)
    X = np.where(both, np.nan_to_num(lo) + U * np.nan_to_num(hi - lo), 0.0)
    G = np.abs(rng.normal(0.0, domain.scale, size=(samples, k)))
    X = np.where(np.isfinite(lo) & ~np.isfinite(hi), np.nan_to_num(lo) + G, X)
    X = np.where(~np.isfinite(lo) & np.isfinite(hi), np.nan_to_num(hi) - G, X)
    X = np.where(~np.isfinite(lo) & ~np.isfinite(hi), rng.normal(0.0, domain.scale, size=(samples, k)), X)
    P = pulled.patterns(X)
    seen = np.unique(np.packbits(P, axis=1), axis=0).shape[0] if P.shape[1] else 1
    widths = list(pulled.widths)
    return {"upper_bound": serra_upper_bound(k, widths) if widths else 1, "sampled_lower_bound": int(seen)}


def partition_polytope(
    net: Network,
    domain: Domain | None = None,
    *,
    max_regions: int | None = None,
    progress: bool = False,
) -> PolytopePartition:
    """Partition a box (bounded or not) of any dimension into the network's activation regions, exactly.

    Parameters
    ----------
    net : Network
    domain : Domain, optional
        A :func:`~regions.domains.box` (default ``[-1, 1]^d``), all of space
        (:func:`~regions.domains.whole`), or a 1-D/2-D slice (segment, line,
        plane) of the input space; polygon domains are not supported.
    max_regions : int, keyword-only, optional
        Stop once more final regions than this have been found; the result
        is flagged ``partial`` (and holds the regions found so far, without
        ``piece_labels``).
    progress : bool, keyword-only
        Show one progress bar per hidden layer (needs tqdm).

    Returns
    -------
    PolytopePartition

    Examples
    --------
    >>> from regions import Network, whole
    >>> net = Network.from_arch("3-6-1", seed=0)
    >>> part = partition_polytope(net, whole(3))
    >>> part.n_regions, part.n_pieces  # sum_{j<=3} C(6, j); every unit bends the output
    (42, 42)
    """
    domain = _check(net, domain)
    max_regions, progress = check_options(max_regions=max_regions, progress=progress)
    refuse_wide(net, domain, "polytope", PARTITION_WIDE)
    return _partition_polytope(net, domain, max_regions=max_regions, progress=progress)


def _partition_polytope(net: Network, domain: Domain, *, max_regions: int | None = None,
                        progress: bool = False, exact: bool = True) -> PolytopePartition:
    """:func:`partition_polytope` on a checked domain (also each sub-box of :mod:`..shells`).

    ``exact`` checks the walk's zero decisions in exact arithmetic (:mod:`.exact`; every walk).
    """
    k = domain.dim
    store = {"G": [], "lin": [], "bits": [], "pat": [], "sizes": [], "n": 0}
    tally = _Pieces(domain.pullback(net), k, VERTEX_RTOL)

    def emit(b: _Batch) -> None:
        tally.add(b)
        st = b.starts()
        store["G"].append(b.G)
        store["lin"].append(b.lin)
        store["bits"].append(b.bits)
        store["pat"].append(b.pat)
        store["sizes"].append(np.diff(st))
        store["n"] += b.R

    counts, stopped, _ = _walk(net, domain, emit, progress, max_regions, exact=exact)
    n_hidden = net.n_hidden
    if store["n"]:
        G = np.concatenate(store["G"])
        lin = np.concatenate(store["lin"])
        bits = np.concatenate(store["bits"])
        pat = np.concatenate(store["pat"])
        sizes = np.concatenate(store["sizes"])
    else:  # pragma: no cover
        G = np.zeros((0, k + 1)); lin = np.zeros(0, bool); bits = np.zeros((0, 1), np.uint64)
        pat = np.zeros((0, n_hidden), bool); sizes = np.zeros(0, np.intp)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    rid = np.repeat(np.arange(pat.shape[0]), sizes)
    unb = np.bincount(rid[lin | (G[:, k] == 0)], minlength=pat.shape[0]) > 0
    W = _witnesses(G, lin, starts, k, domain.scale)
    labels = None if stopped else tally.labels(pat)[0]
    return PolytopePartition(
        network=net, domain=domain, patterns=pat, witnesses=W, bounded=~unb,
        generators=G, lineality=lin, incidence=bits, starts=starts,
        layer_counts=tuple(counts), partial=stopped, piece_labels=labels,
    )


def shell_partition(net: Network, domain: Domain, *, max_regions: int | None = None) -> PolytopePartition:
    """The partition of one sub-box of :mod:`..shells`, every zero decision checked exactly (:mod:`.exact`)."""
    return _partition_polytope(net, domain, max_regions=max_regions, exact=True)


def count_polytope(
    net: Network,
    domain: Domain | None = None,
    *,
    max_regions: int | None = None,
    progress: bool = False,
) -> CountResult:
    """Count the activation regions on a box (bounded or not) of any dimension, exactly.

    Same numbers as ``partition_polytope(net, domain).count()`` without
    keeping the regions (memory bounded by :data:`CHUNK`, plus two packed
    patterns per facet across which the output map does not change; none
    in a generic network).  On a bounded box a generic partition is counted
    on its shared vertex-edge skeleton instead (see the module docstring;
    memory: one copy of every vertex and edge).  On unbounded domains the result splits the
    count into ``bounded`` and ``unbounded`` regions.  ``pieces`` counts the
    affine pieces (see the module docstring); None when stopped early.
    ``extra["one_sided_merges"]`` (only when non-zero) counts merging facets
    seen from one of their regions only (a neighbour lost to rounding),
    which are not merged.

    Parameters
    ----------
    max_regions : int, keyword-only, optional
        Stop once more final regions than this have been found; the result
        is flagged ``partial`` and its numbers are lower bounds.
    progress : bool, keyword-only
        One progress bar per hidden layer (needs tqdm).

    Examples
    --------
    >>> from regions import Network, whole
    >>> count_polytope(Network.from_arch("4-8-1", seed=0), whole(4)).regions  # sum_{j<=4} C(8, j)
    163
    """
    domain = _check(net, domain)
    max_regions, progress = check_options(max_regions=max_regions, progress=progress)
    boxes = shell_boxes(net, domain)
    if boxes is not None:  # a box far wider than the features: one partition per shell (see ..shells)
        res = None if max_regions is not None else whole_if_inside(net, domain, "polytope")
        return res if res is not None else count_by_shells(net, boxes, shell_partition, "polytope",
                                                                     max_regions, domain=domain)
    cone = _homogeneous(net, domain) if max_regions is None else None
    if cone is not None:
        return cone
    fast = _count_skeleton(net, domain, max_regions, progress)
    if fast is not None:
        return fast
    return _count_walk(net, domain, max_regions, progress)


def _homogeneous(net: Network, domain: Domain) -> CountResult | None:
    """The count of all of ``R^k`` for a network without hidden biases on a box around the origin, or None.

    Such a network is positively homogeneous on the domain's parameters (the pulled-back biases are
    zero), so every region is an open cone with its apex at the origin; a box with the origin inside
    meets each cone in one convex piece, and its regions, pieces and per-layer counts are those of
    ``R^k``.  The walk on ``R^k`` has no domain-long edges (rays instead) and no vertex but the
    origin, so near-parallel hyperplanes through the origin, which the walk on the box resolves
    only to the error of vertices interpolated along its faces, are resolved there, or refused
    (:class:`~regions.errors.NumericalError`, raised: the box holds the same cones).  None where a
    hidden bias is non-zero or the origin is not strictly inside.
    """
    if not domain.bounded or domain.vertices is not None:
        return None
    lo, hi = np.asarray(domain.lo, dtype=np.float64), np.asarray(domain.hi, dtype=np.float64)
    if not (np.all(lo < 0) and np.all(hi > 0)):
        return None
    pulled = domain.pullback(net)
    if any(np.any(b != 0) for _, b in pulled.layers[:-1]) or not pulled.layers[:-1]:
        return None
    inf = np.full(domain.dim, np.inf)
    dom = box(-inf, inf) if domain.basis is None else Domain(-inf, inf, origin=domain.origin, basis=domain.basis,
                                                            kind=domain.kind)
    res, _ = _count_whole_radius(net, dom)
    res.bounded = res.unbounded = None
    res.extra = dict(res.extra, method="no hidden biases: every region a cone from the origin, inside the box: "
                     "the count of all of R^k")
    return res


def _count_skeleton(net: Network, domain: Domain, max_regions: int | None, progress: bool) -> CountResult | None:
    """The count from the shared vertex-edge skeleton (:mod:`.skeleton`) where it applies, else None.

    It applies to bounded boxes of dimension 2 or more without ``max_regions``, and holds only while the
    partition stays generic (no vertex on a later hyperplane); otherwise the walk runs instead.
    """
    if max_regions is not None or not domain.bounded or domain.dim < 2 or net.depth < 1:
        return None
    try:
        n, counts, n_pieces = skeleton_count(domain.pullback(net), domain, rtol=2 * VERTEX_RTOL,
                                             first_values=_first_values, inert=_inert, progress=progress)
    except Degenerate:
        return None
    return CountResult(n, n_pieces, counts, "polytope")


def _count_whole_radius(net: Network, dom: Domain | None = None,
                        progress: bool = False) -> tuple[CountResult, float | None]:
    """The count on an unbounded box (default all of ``R^k``) and the max-norm radius of its vertices.

    The radius is None where some region holds a line.  Used by :mod:`..shells`: a box that agrees
    with ``dom`` within the cube of twice that radius (every vertex strictly inside) holds exactly
    these regions, pieces and per-layer counts, since every region and every facet of a partition
    without lines has a vertex.
    """
    if dom is None:
        dom = box(np.full(net.input_dim, -np.inf), np.full(net.input_dim, np.inf))
    k = dom.dim
    tally = {"n": 0, "rad": 0.0, "lines": False}
    pieces = _Pieces(dom.pullback(net), k, VERTEX_RTOL)

    def emit(b: _Batch) -> None:
        pieces.add(b)
        tally["n"] += b.R
        if b.lin.any():
            tally["lines"] = True
        t = b.G[:, k]
        pts = (t > 0) & ~b.lin
        if pts.any():
            tally["rad"] = max(tally["rad"], float(np.max(np.abs(b.G[pts, :k]) / t[pts, None])))

    counts, stopped, pending = _walk(net, dom, emit, progress, None, exact=True)
    n_pieces, one_sided = pieces.count(tally["n"])
    extra = {"one_sided_merges": one_sided} if one_sided else {}
    res = CountResult(tally["n"], n_pieces, counts, "polytope", extra=extra)
    return res, (None if tally["lines"] or stopped or one_sided else tally["rad"])


def _count_walk(net: Network, domain: Domain, max_regions: int | None, progress: bool) -> CountResult:
    """The count by the depth-first walk over regions (any box, degenerate input, ``max_regions``)."""
    k = domain.dim
    tally = {"n": 0, "unb": 0}
    pieces = _Pieces(domain.pullback(net), k, VERTEX_RTOL)

    def emit(b: _Batch) -> None:
        pieces.add(b)
        tally["n"] += b.R
        if not domain.bounded:
            unb = np.bincount(b.rid[b.lin | (b.G[:, k] == 0)], minlength=b.R) > 0
            tally["unb"] += int(np.count_nonzero(unb))

    counts, stopped, pending = _walk(net, domain, emit, progress, max_regions)
    n = tally["n"] + pending
    bounded = None if (domain.bounded or stopped) else n - tally["unb"]
    unbounded = None if (domain.bounded or stopped) else tally["unb"]
    extra = {}
    n_pieces = None
    if stopped:
        extra["message"] = (
            f"stopped at max_regions={max_regions} with {n} regions found (partial count: "
            f"the numbers are lower bounds)"
        )
    else:
        n_pieces, one_sided = pieces.count(n)
        if one_sided:
            extra["one_sided_merges"] = one_sided
    return CountResult(n, n_pieces, counts, "polytope", partial=stopped, bounded=bounded,
                       unbounded=unbounded, extra=extra)


def whole_if_inside(net: Network, domain: Domain, engine: str) -> CountResult | None:
    """The count on the box with its far faces removed, where that partition's vertices are all near.

    The faces farther than ``SHELL_TRIGGER`` feature radii from the origin
    are dropped, leaving an unbounded box ``U`` (all of ``R^k`` for a wide
    centred box).  Where no region of ``U``'s partition holds a line, every
    region and every facet has a vertex; if every dropped face lies beyond
    twice the vertices' max-norm radius, the box agrees with ``U`` on a
    neighbourhood of every vertex, so its regions, pieces and per-layer
    counts are ``U``'s (computed by the n-D engine's homogeneous walk, which
    has no domain-long edges: rays instead).  Else None (shells).
    """
    rho = _domain_radius(net, domain) if _axis_box(domain) and domain.vertices is None else None
    if rho is None:
        return None
    lo, hi = np.asarray(domain.lo, dtype=np.float64), np.asarray(domain.hi, dtype=np.float64)
    far = SHELL_TRIGGER * rho
    ulo, uhi = np.where(lo < -far, -np.inf, lo), np.where(hi > far, np.inf, hi)
    if np.all(np.isfinite(ulo)) and np.all(np.isfinite(uhi)):
        return None
    dom = box(ulo, uhi) if domain.basis is None else Domain(ulo, uhi, origin=domain.origin, basis=domain.basis,
                                                             kind=domain.kind)
    try:
        res, rad = _count_whole_radius(net, dom)
    except NumericalError:  # unbounded regions float64 cannot confirm (rays, lines): the shells decide
        return None
    if rad is None or np.any(np.isinf(ulo) & ~(lo < -2 * rad)) or np.any(np.isinf(uhi) & ~(hi > 2 * rad)):
        return None
    res.bounded = res.unbounded = None
    res.extra = dict(res.extra, method=f"every vertex within {rad:.3g} of the origin, far faces beyond twice "
                     f"that: the count on the box without them", requested_engine=engine)
    return res
