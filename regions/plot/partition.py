"""Pictures of 2-D partitions (matplotlib, imported lazily).

Every function takes ``ax=None`` (then the current axes, ``plt.gca()``)
and returns the artists it added, so that callers can restyle them.
Coordinates are the domain's parameter coordinates ``(u, v)``.

* :func:`plot_partition` -- the regions, one colour each (or per piece,
  per pattern of one layer, or by output);
* :func:`plot_edges` -- the region boundaries;
* :func:`plot_output` -- the output as a heat map, drawn exactly (each
  region is triangulated and shaded linearly: the output is affine there);
* :func:`plot_decision_boundary` -- the level set ``output = level``, exact
  (one segment per region it crosses);
* :func:`plot_layers` -- one panel per hidden layer: the regions after the
  first ``l`` layers, each previous region in its own hue, subdivided into
  shades by the new layer's (bent) lines -- "composing networks in 2-D";
  the new layer's lines are drawn on top of the previous ones.

Partitions of op networks (residual, max-pool, CNN: :func:`regions.partition`
of a :class:`~regions.model.ops.Graph` on a bounded 2-D domain) are drawn
from their region polygons (``part.polygons()``), by the same functions;
:func:`plot_layers` then has one panel per non-linear operation (a ReLU, a
pooling, a residual block's ReLU), its pattern bits taken from the lowered
chain (:func:`regions.model.ops.lower`).

Each function labels the axes it draws into (the inputs ``x1``, ``x2`` and
their ranges for a 2-input network, the plane coordinates ``u``, ``v``
otherwise) and gives them a title saying what is counted, unless the
axes already have a label or title of their own.
"""

from __future__ import annotations

import numpy as np

from ..engines.planar.kernel import partition_plane
from ..engines.planar.result import PlanarPartition
from ..errors import RegionsError
from ..model.network import Network
from ..model.ops import Graph, lower

__all__ = [
    "decision_segments",
    "domain_text",
    "plot_decision_boundary",
    "plot_edges",
    "plot_layers",
    "plot_output",
    "plot_partition",
    "region_colors",
]


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    return ax


def _check(part):
    """A planar partition, or another 2-D partition with region polygons (an op network's)."""
    if isinstance(part, PlanarPartition):
        return
    dom = getattr(part, "domain", None)
    if not callable(getattr(part, "polygons", None)) or dom is None or dom.dim != 2:
        raise RegionsError(f"expected a 2-D partition with region polygons (regions.partition of a network on "
                           f"a plane, a 2-input box or a polygon), got {type(part).__name__}"
                           + (f" of a {dom.dim}-D {dom.kind}" if dom is not None else ""))
    part.polygons()  # refuses in one sentence where the engine kept none (unbounded domains)


def _rings(part) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(vertices, ring_offsets, ring_vertices)``: every region's boundary ring, in order.

    A planar partition's own arrays (shared vertex ids); for other partitions the
    polygons one after another (each ring's own vertices).
    """
    if isinstance(part, PlanarPartition):
        return part.vertices, part.ring_offsets, part.ring_vertices
    polys = [np.asarray(P, dtype=float).reshape(-1, 2) for P in part.polygons()]
    sizes = np.array([P.shape[0] for P in polys], dtype=np.intp)
    V = np.vstack(polys) if polys else np.zeros((0, 2))
    return V, np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp), np.arange(V.shape[0], dtype=np.intp)


def _layer_bits(part_or_net) -> list[int]:
    """Pattern bits of each hidden layer (plain networks) or lowered non-linear layer (op networks)."""
    net = getattr(part_or_net, "network", part_or_net)
    if isinstance(net, Graph):
        return [int(u.n_bits) for u in lower(net).units]
    return [int(w) for w in net.widths]


def _frame(ax, part):
    lo, hi = part.domain.lo, part.domain.hi
    pad = 0.01 * (hi - lo)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_aspect("equal")


def _range(lo: float, hi: float) -> str:
    return f"[{lo:.3g}, {hi:.3g}]"


def domain_text(domain) -> str:
    """Where a 2-D partition lives, in words: ``"[-1, 1]^2"`` or ``"a plane through 3 points"``."""
    lo, hi = domain.lo, domain.hi
    if domain.basis is None and domain.vertices is None:
        if lo[0] == lo[1] and hi[0] == hi[1]:
            return f"{_range(lo[0], hi[0])}$^2$"
        return f"{_range(lo[0], hi[0])} × {_range(lo[1], hi[1])}"
    if domain.info.get("points_uv") is not None:
        return f"the plane through {len(domain.info['points_uv'])} points"
    return "a plane of input space"


def _label(ax, part, title: str | None = None) -> None:
    """Axis labels (inputs or plane coordinates, with their ranges) and a title, where none are set."""
    dom = part.domain
    lo, hi = dom.lo, dom.hi
    if dom.basis is None and dom.vertices is None:
        names = [f"input $x_1$ on {_range(lo[0], hi[0])}", f"input $x_2$ on {_range(lo[1], hi[1])}"]
    else:
        names = [f"$u$ (plane coordinate, input units) on {_range(lo[0], hi[0])}",
                 f"$v$ (plane coordinate, input units) on {_range(lo[1], hi[1])}"]
    if not ax.get_xlabel():
        ax.set_xlabel(names[0])
    if not ax.get_ylabel():
        ax.set_ylabel(names[1])
    if title and not ax.get_title():
        ax.set_title(title)


def _arch(part) -> str:
    net = getattr(part, "network", None)
    return getattr(net, "arch", "network")


def _hues(n: int, seed: int) -> np.ndarray:
    """n well-spread random colours (RGB, (n, 3))."""
    import matplotlib.colors as mcolors

    rng = np.random.default_rng(seed)
    h = (np.arange(n) * 0.6180339887 + rng.random()) % 1.0
    hsv = np.stack([h, rng.uniform(0.35, 0.75, n), rng.uniform(0.75, 0.98, n)], axis=1)
    return mcolors.hsv_to_rgb(hsv)


def region_colors(part, by: str = "region", *, seed: int = 0, layer: int | None = None) -> np.ndarray:
    """Colours (R, 3) for the regions.

    Parameters
    ----------
    by : {"region", "piece", "pattern"}
        A random colour per region, per affine piece, or per activation
        pattern of the first ``layer`` hidden layers (regions sharing it
        share the colour).
    """
    _check(part)
    if by == "region":
        return _hues(part.n_regions, seed)[np.random.default_rng(seed).permutation(part.n_regions)]
    if by == "piece":
        return _hues(part.n_pieces, seed)[part.piece_labels]
    if by == "pattern":
        widths = _layer_bits(part)
        k = len(widths) if layer is None else int(layer)
        if not (1 <= k <= len(widths)):
            raise RegionsError(f"expected layer in 1..{len(widths)}, got {layer!r}")
        bits = part.patterns[:, : sum(widths[:k])]
        _, inv = np.unique(np.packbits(bits, axis=1), axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        return _hues(int(inv.max()) + 1, seed)[inv]
    raise RegionsError(f"expected by to be 'region', 'piece' or 'pattern', got {by!r}")


def plot_partition(part, ax=None, *, color: str = "region", facecolors=None, edgecolor="k",
                   linewidth: float = 0.3, alpha: float = 1.0, seed: int = 0, **kwargs):
    """Fill every region with a colour.

    Parameters
    ----------
    part : PlanarPartition
    ax : matplotlib Axes, optional
    color : {"region", "piece", "pattern"}, keyword-only
        See :func:`region_colors`.
    facecolors : array_like, optional
        Explicit colours (R, 3|4) instead.
    edgecolor, linewidth, alpha : region boundaries and transparency.
    **kwargs
        Passed to :class:`matplotlib.collections.PolyCollection`.

    Returns
    -------
    PolyCollection
    """
    from matplotlib.collections import PolyCollection

    _check(part)
    ax = _ax(ax)
    fc = region_colors(part, color, seed=seed) if facecolors is None else facecolors
    coll = PolyCollection(part.polygons(), facecolors=fc, edgecolors=edgecolor, linewidths=linewidth,
                          alpha=alpha, **kwargs)
    ax.add_collection(coll)
    _frame(ax, part)
    what = f"{part.n_pieces} affine pieces" if (facecolors is None and color == "piece") else \
        f"{part.n_regions} linear regions"
    partial = ", stopped at max_regions" if part.partial else ""
    _label(ax, part, f"{_arch(part)} on {domain_text(part.domain)}:\n{what} (exact{partial})")
    return coll


def plot_edges(part, ax=None, *, color="k", linewidth: float = 0.4, boundary: bool = True, **kwargs):
    """Draw the region boundaries; returns a :class:`~matplotlib.collections.LineCollection`."""
    from matplotlib.collections import LineCollection

    _check(part)
    ax = _ax(ax)
    if isinstance(part, PlanarPartition):
        edges, faces = part.edges()
        if not boundary:
            edges = edges[faces[:, 1] >= 0]
        segs = part.vertices[edges]  # (E, 2, 2)
    else:  # every ring's edges (an inner edge once from each side)
        segs = _ring_segments(part)
        if not boundary:
            segs = segs[~_on_domain_boundary(part.domain, segs.mean(axis=1))]
    coll = LineCollection(segs, colors=color, linewidths=linewidth, **kwargs)
    ax.add_collection(coll)
    _frame(ax, part)
    _label(ax, part, f"{_arch(part)} on {domain_text(part.domain)}:\nedges of {part.n_regions} regions (exact)")
    return coll


def _ring_segments(part) -> np.ndarray:
    """Every ring edge as a segment ``(E, 2, 2)``."""
    V, off, rv = _rings(part)
    nxt = np.arange(rv.shape[0]) + 1
    nxt[off[1:] - 1] = off[:-1]
    return np.stack([V[rv], V[rv[nxt]]], axis=1)


def _on_domain_boundary(domain, pts: np.ndarray) -> np.ndarray:
    """Whether points lie on the domain's boundary (box sides or polygon edges), to 1e-9 of its scale."""
    tol = 1e-9 * float(domain.scale)
    if domain.vertices is None:
        lo, hi = domain.lo, domain.hi
        return np.any((np.abs(pts - lo) <= tol) | (np.abs(pts - hi) <= tol), axis=1)
    P = np.asarray(domain.vertices, dtype=float)
    E = np.roll(P, -1, axis=0) - P
    D = pts[:, None, :] - P[None, :, :]  # (n, e, 2)
    t = np.clip(np.einsum("nek,ek->ne", D, E) / np.maximum(np.einsum("ek,ek->e", E, E), 1e-300), 0.0, 1.0)
    return np.min(np.linalg.norm(D - t[..., None] * E[None], axis=2), axis=1) <= tol


def _fan(part):
    """Triangulate every convex ring as a fan: (T, 3) vertex ids, (T,) region ids."""
    _, off, rv = _rings(part)
    k = np.diff(off)
    ntri = np.maximum(k - 2, 0)
    region = np.repeat(np.arange(part.n_regions), ntri)
    first = np.repeat(off[:-1], ntri)
    step = np.arange(ntri.sum()) - np.repeat(np.cumsum(ntri) - ntri, ntri)  # 0..k-3 within region
    tri = np.stack([rv[first], rv[first + step + 1], rv[first + step + 2]], axis=1)
    return tri, region


def plot_output(part, ax=None, *, output: int = 0, cmap: str = "viridis", edges: bool = True,
                edgecolor="w", linewidth: float = 0.25, colorbar: bool = False, **kwargs):
    """The output as a heat map, with region edges.

    Each region is cut into triangles whose corners carry the region's own
    affine map, and shaded with Gouraud (linear) interpolation, so the
    picture is the exact piecewise-linear function, at any zoom.

    Returns
    -------
    list of artists
        The :class:`~matplotlib.collections.TriMesh` (``tripcolor``), then
        the edges' LineCollection if ``edges``, then the colour bar if asked.
    """
    import matplotlib.tri as mtri

    _check(part)
    if part.partial:
        raise RegionsError("expected a complete partition for the output map, got a partial one (max_regions)")
    ax = _ax(ax)
    Jall, call = part.output_maps()
    n_out = Jall.shape[1]
    if not (0 <= output < n_out):
        raise RegionsError(f"expected output in 0..{n_out - 1}, got {output!r}")
    _label(ax, part, f"{_arch(part)} on {domain_text(part.domain)}:\noutput {output}, exact on each of "
                     f"{part.n_regions} regions")
    tri, region = _fan(part)
    P = _rings(part)[0][tri]  # (T, 3, 2) corners, region-specific values below
    vals = np.einsum("tj,tkj->tk", Jall[region, output], P) + call[region, output][:, None]
    pts = P.reshape(-1, 2)
    tr = mtri.Triangulation(pts[:, 0], pts[:, 1], np.arange(pts.shape[0]).reshape(-1, 3))
    art = [ax.tripcolor(tr, vals.reshape(-1), shading="gouraud", cmap=cmap, **kwargs)]
    if edges:
        art.append(plot_edges(part, ax, color=edgecolor, linewidth=linewidth))
    if colorbar:
        cb = ax.figure.colorbar(art[0], ax=ax)
        cb.set_label(f"network output {output}")
        art.append(cb)
    _frame(ax, part)
    return art


def decision_segments(part, *, output: int = 0, level: float = 0.0) -> np.ndarray:
    """Segments (S, 2, 2) of the exact level set ``output = level``, one per region it crosses.

    In each region the output is affine, so its level set there is the
    segment between the two boundary points where the affine function
    changes sign (regions where it is constant at ``level`` are skipped).
    """
    _check(part)
    V, off, rv = _rings(part)
    region = np.repeat(np.arange(part.n_regions), np.diff(off))
    nxt = np.arange(rv.shape[0]) + 1
    nxt[off[1:] - 1] = off[:-1]
    A, B = V[rv], V[rv[nxt]]
    Jall, call = part.output_maps()
    J, c = Jall[region, output], call[region, output]
    fa = np.einsum("ij,ij->i", J, A) + c - level
    fb = np.einsum("ij,ij->i", J, B) + c - level
    scale = np.abs(J).sum(axis=1) * part.domain.scale + np.abs(c) + abs(level)
    tol = 1e-12 * scale
    sa = np.where(fa > tol, 1, np.where(fa < -tol, -1, 0))
    sb = np.where(fb > tol, 1, np.where(fb < -tol, -1, 0))
    # a point per ring position: vertex a if zero, or the crossing on edge a->b
    on_vertex = sa == 0
    crossing = sa * sb < 0
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(crossing, fa / (fa - fb), 0.0)
    pts = A + t[:, None] * (B - A)
    take = on_vertex | crossing
    # keep regions with exactly two such points (not a region lying in the level set)
    cnt = np.bincount(region[take], minlength=part.n_regions)
    ok = take & (cnt[region] == 2)
    P = pts[ok].reshape(-1, 2, 2)
    # a level set along an edge is reported by both regions of the edge: keep one
    swap = (P[:, 0, 0] > P[:, 1, 0]) | ((P[:, 0, 0] == P[:, 1, 0]) & (P[:, 0, 1] > P[:, 1, 1]))
    P[swap] = P[swap, ::-1]
    key = np.round(P.reshape(-1, 4) / (1e-9 * part.domain.scale))
    _, first = np.unique(key, axis=0, return_index=True)
    return P[np.sort(first)]


def plot_decision_boundary(part, ax=None, *, output: int = 0, level: float = 0.0, color="r",
                           linewidth: float = 1.5, **kwargs):
    """Draw the exact level set ``output = level`` (the decision boundary of a sign classifier).

    The collection is labelled ``"decision boundary: output k = level"``
    for a legend (``label=`` overrides it).

    Returns
    -------
    LineCollection
    """
    from matplotlib.collections import LineCollection

    _check(part)
    if part.partial:
        raise RegionsError("expected a complete partition for the decision boundary, got a partial one")
    ax = _ax(ax)
    segs = decision_segments(part, output=output, level=level)
    kwargs.setdefault("label", f"decision boundary: output {output} = {level:g}")
    coll = LineCollection(segs, colors=color, linewidths=linewidth, **kwargs)
    ax.add_collection(coll)
    _frame(ax, part)
    _label(ax, part, f"{_arch(part)} on {domain_text(part.domain)}:\nexact decision boundary "
                     f"(output {output} = {level:g}), {len(segs)} segments")
    return coll


def plot_layers(net: Network | Graph, domain=None, axes=None, *, seed: int = 0, linewidth: float = 0.4,
                max_regions: int | None = None, partition=None):
    """One panel per hidden layer: how each layer subdivides the previous regions.

    Panel ``l`` shows the regions after the first ``l`` hidden layers.
    Every region of layer ``l - 1`` keeps one hue; its children from layer
    ``l`` are shades of that hue; the lines of the earlier layers are black,
    the new (bent) lines of layer ``l`` white.

    For an op network (:class:`~regions.model.ops.Graph`: residual, max-pool,
    CNN) panel ``l`` shows the regions after the ``l``-th non-linear
    operation of the lowered chain (a ReLU, a pooling).

    Parameters
    ----------
    net : Network or Graph
    domain : Domain, optional
        As for :func:`regions.planar.partition_plane`.
    axes : sequence of Axes, optional
        One per hidden layer; default: a new figure with a row of panels.
    partition : optional
        For an op network: its partition of ``domain`` already computed
        (:func:`regions.partition`), drawn instead of computing it again.

    Returns
    -------
    list of list of artists
        Per panel: the PolyCollection, the earlier edges, the new edges.
    """
    import matplotlib.colors as mcolors

    if isinstance(net, Graph):
        return _plot_op_layers(net, domain, axes, seed=seed, linewidth=linewidth, max_regions=max_regions,
                               part=partition)
    if partition is not None:
        raise RegionsError(f"expected partition=None for a plain network (its panels come from the planar "
                           f"engine's ancestry), got {type(partition).__name__}")
    L = net.depth
    if L < 1:
        raise RegionsError(f"expected a network with hidden layers, got {net.arch}")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, L, figsize=(3.2 * L, 3.4), squeeze=False)
        axes = axes[0]
    axes = list(np.ravel(axes))
    if len(axes) < L:
        raise RegionsError(f"expected {L} axes (one per hidden layer), got {len(axes)}")
    # one partition; the regions after each layer come from the engine's ancestry links
    part = partition_plane(net, domain, max_regions=max_regions)
    done = len(part.layer_parents)
    edges, faces = part.edges()
    out = []
    fc_prev = None
    anc_prev = None
    for k in range(1, done + 1):
        ax = axes[k - 1]
        n_k = int(part.layer_counts[k - 1])
        if fc_prev is None:
            fc = _hues(n_k, seed)
        else:
            base = fc_prev[part.layer_parents[k - 1]]
            hsv = mcolors.rgb_to_hsv(base)
            rng = np.random.default_rng(seed + k)
            hsv[:, 2] = np.clip(hsv[:, 2] * rng.uniform(0.55, 1.0, n_k), 0, 1)
            hsv[:, 1] = np.clip(hsv[:, 1] * rng.uniform(0.6, 1.2, n_k), 0, 1)
            fc = mcolors.hsv_to_rgb(hsv)
        anc = part.ancestors(k)
        arts = [plot_partition(part, ax, facecolors=fc[anc], edgecolor="none", linewidth=0)]
        inner = faces[:, 1] >= 0
        split = np.ones(edges.shape[0], dtype=bool)  # boundary edges, and edges between regions of layer k
        split[inner] = anc[faces[inner, 0]] != anc[faces[inner, 1]]
        if anc_prev is not None:
            old = np.ones(edges.shape[0], dtype=bool)
            old[inner] = anc_prev[faces[inner, 0]] != anc_prev[faces[inner, 1]]
            arts.append(_segments(part, ax, edges[old], "k", linewidth))
            arts.append(_segments(part, ax, edges[split & ~old], "w", linewidth * 0.8))
        else:
            arts.append(_segments(part, ax, edges[split], "k", linewidth * 0.8))
        what = "(exact)" if not part.partial else f"(partial: stopped at max_regions={max_regions})"
        ax.set_title(f"after hidden layer {k} of {net.arch}:\n{n_k} regions {what}", fontsize=9)
        _label(ax, part)
        out.append(arts)
        fc_prev, anc_prev = fc, anc
    return out


def _shades(fc_prev, parents, n: int, seed: int, k: int):
    """Colours of ``n`` children: their parent's hue, shaded at random (as in the planar panels)."""
    import matplotlib.colors as mcolors

    if fc_prev is None:
        return _hues(n, seed)
    hsv = mcolors.rgb_to_hsv(fc_prev[parents])
    rng = np.random.default_rng(seed + k)
    hsv[:, 2] = np.clip(hsv[:, 2] * rng.uniform(0.55, 1.0, n), 0, 1)
    hsv[:, 1] = np.clip(hsv[:, 1] * rng.uniform(0.6, 1.2, n), 0, 1)
    return mcolors.hsv_to_rgb(hsv)


def _plot_op_layers(graph: Graph, domain, axes, *, seed: int, linewidth: float, max_regions, part=None):
    """:func:`plot_layers` for an op network: one panel per lowered non-linear layer.

    The regions after layer ``l`` are the sets of final regions sharing the
    pattern bits of the first ``l`` layers (each is convex).  Ring edges are
    classed by the pattern just across them (a point ``1e-7`` of the domain
    scale outside the edge's midpoint, through the lowered forward pass):
    an edge between two regions of layer ``l - 1`` is drawn black, one that
    only layer ``l`` adds white.
    """
    from ..engines.opgraph import partition_graph  # noqa: PLC0415

    low = lower(graph)
    bits = [int(u.n_bits) for u in low.units]
    L = len(bits)
    if L < 1:
        raise RegionsError(f"expected a network with non-linear operations, got {graph.arch}")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, L, figsize=(3.2 * L, 3.4), squeeze=False)
        axes = axes[0]
    axes = list(np.ravel(axes))
    if len(axes) < L:
        raise RegionsError(f"expected {L} axes (one per non-linear operation), got {len(axes)}")
    if part is None:
        part = partition_graph(graph, domain, max_regions=max_regions)
    elif getattr(part, "network", None) is not graph:
        raise RegionsError(f"expected a partition of this network, got one of "
                           f"{getattr(getattr(part, 'network', None), 'arch', type(part).__name__)}")
    _check(part)
    done = len(part.layer_counts)
    segs = _ring_segments(part)
    V, off, _ = _rings(part)
    owner = np.repeat(np.arange(part.n_regions), np.diff(off))
    # the pattern across each edge: a point just outside its midpoint (right of a ccw edge)
    d = segs[:, 1] - segs[:, 0]
    n = np.stack([d[:, 1], -d[:, 0]], axis=1)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-300)
    across = segs.mean(axis=1) + 1e-7 * float(part.domain.scale) * n
    outside = ~np.all((across >= part.domain.lo) & (across <= part.domain.hi), axis=1) | \
        _on_domain_boundary(part.domain, segs.mean(axis=1))
    pat_across = low.patterns(part.domain.to_input(across))
    ends = np.cumsum(bits)
    out, fc_prev, inv_prev = [], None, None
    differs_prev = None
    for k in range(1, done + 1):
        ax = axes[k - 1]
        cut = int(ends[k - 1])
        keys = np.packbits(part.patterns[:, :cut], axis=1) if cut else np.zeros((part.n_regions, 1), np.uint8)
        _, inv = np.unique(keys, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        n_k = int(inv.max()) + 1
        parents = None
        if inv_prev is not None:
            parents = np.zeros(n_k, dtype=np.intp)
            parents[inv] = inv_prev
        fc = _shades(fc_prev, parents, n_k, seed, k)
        arts = [plot_partition(part, ax, facecolors=fc[inv], edgecolor="none", linewidth=0)]
        differs = outside | np.any(pat_across[:, :cut] != part.patterns[owner, :cut], axis=1)
        if differs_prev is not None:
            arts.append(_lines(ax, part, segs[differs_prev], "k", linewidth))
            arts.append(_lines(ax, part, segs[differs & ~differs_prev], "w", linewidth * 0.8))
        else:
            arts.append(_lines(ax, part, segs[differs], "k", linewidth * 0.8))
        what = "(exact)" if not part.partial else f"(partial: stopped at max_regions={max_regions})"
        ax.set_title(f"after {low.units[k - 1].label} ({k} of {L}) of {graph.arch}:\n{n_k} regions {what}",
                     fontsize=9)
        _label(ax, part)
        out.append(arts)
        fc_prev, inv_prev, differs_prev = fc, inv, differs
    return out


def _lines(ax, part, segs, color, linewidth):
    from matplotlib.collections import LineCollection

    coll = LineCollection(segs, colors=color, linewidths=linewidth)
    ax.add_collection(coll)
    _frame(ax, part)
    return coll


def _segments(part, ax, edges, color, linewidth):
    from matplotlib.collections import LineCollection

    coll = LineCollection(part.vertices[edges], colors=color, linewidths=linewidth)
    ax.add_collection(coll)
    _frame(ax, part)
    return coll
