"""Split and merge of 2-D counts: runs of the regions of the first layers.

The shared part (prefix depth, runs, keys, cache, merge of regions and
layers) is :class:`~regions.execution.prefix.PrefixSplit`; this module
holds the 2-D geometry.  A worker re-derives the prefix with the engine's
walk, keeps its run's regions and their vertices (renumbered in the same
order, so every edge is cut exactly as in one process) and cuts them by
the remaining layers.

Affine pieces cross subproblem borders.  Each subproblem counts the pieces
inside its run (the single-process test, :func:`.pieces.pieces_from_vertices`)
and reports the edges on the boundary of its run's union: their end points,
the output values there, and for the regions along them their piece,
vertex mean, output there and exact output Jacobian (and its magnitude).
Both sides of a border cut it at the same points (a border edge is cut by
the later layers from the values at its own vertices, which both sides
share), equal up to the rounding of matrix products done in other
batches.  The merge pairs the edges of different runs whose ends agree
within :data:`BOUNDARY_RTOL` of the domain's diameter, decides each pair
with the single-process tests (vertex test, then Jacobians), then joins the
pieces they connect.  Unpaired edges must lie on the domain's boundary;
where one does not, where an edge has two candidate partners, or where a
subproblem has more than :data:`MAX_BORDER` border edges, ``pieces`` is
None and ``extra["pieces_note"]`` says why (activation regions stay exact).
"""

from __future__ import annotations

import numpy as np

from ...core import affine
from ...core.patterns import unpack
from ...core.pieces import merge_pieces
from ...core.result import CountResult
from ...execution.prefix import PrefixSplit, Run, refuse_rederived
from ..shells import SHELL_TRIGGER, refuse_wide
from .kernel import _cut_layer, _default_domain, _Grow, _Mesh, _start_mesh, count_plane, planar_layers
from .pieces import pieces_from_vertices, same_jacobians, vertex_means, vertex_outputs, vertex_test_differs
from .rings import boundary_edges, domain_ring

__all__ = ["MAX_BORDER", "PlanarSplit"]

#: Border edges a subproblem reports at most (beyond: the split count's pieces are None).
MAX_BORDER = 1 << 18
#: Distance, relative to the domain's diameter, under which two border edges' ends are one point and an
#: unpaired edge lies on the domain's boundary (vertex rounding is ~1e-14 of it; edges are far longer).
BOUNDARY_RTOL = 1e-9


def _derive_prefix(net, domain, depth):
    """Layers, magnitudes, the mesh after ``depth`` hidden layers, its vertex values, counts and ancestry."""
    layers, mags = planar_layers(net, domain)
    mesh, H, Hm, _ = _start_mesh(domain, mags)
    return _extend_prefix((layers, mags, mesh, H, Hm, [], [], []), net, domain, 0, depth)


def _extend_prefix(prefix, net, domain, old: int, depth: int):
    """The prefix after ``old`` hidden layers cut on by layers ``old .. depth - 1`` (its mesh changed)."""
    layers, mags, mesh, H, Hm, counts, parents, actives = prefix
    errs = _start_mesh(domain, mags)[3]
    for l in range(old, depth):
        (W, b), (aW, ab) = layers[l], mags[l]
        H, Hm, parent, active, _ = _cut_layer(mesh, H, Hm, W, b, aW, ab, net.negative_slope, None,
                                              first=l == 0, err=errs[l])
        counts.append(int(mesh.R))
        parents.append(parent)
        actives.append(active)
    return layers, mags, mesh, H, Hm, counts, parents, actives


def _restrict(mesh: _Mesh, H, Hm, a: int, b: int):
    """The mesh of regions ``a..b-1`` only, vertices renumbered in their old order."""
    ring = mesh.ring[a:b]
    used = np.unique(ring)  # padding repeats a ring's first vertex: no extra ids
    uv = mesh.uv.a[: mesh.V][used]
    sub = _Mesh(uv[:3])
    sub.uv = _Grow(uv, 4 * uv.shape[0])
    sub.ring = np.searchsorted(used, ring).astype(np.int32)
    sub.nv = mesh.nv[a:b].copy()
    sub.R = b - a
    return sub, H[used], Hm[used]


def _rows_masks(parents: list, actives: list, widths: list, rows: np.ndarray) -> list:
    """Per-layer bool states of the regions ``rows`` of the last layer of ``parents``."""
    blocks, anc = [], rows
    for l in range(len(parents) - 1, -1, -1):
        blocks.append(unpack(actives[l][anc], widths[l]))
        anc = parents[l][anc]
    return blocks[::-1]


def _on_boundary(P: np.ndarray, Q: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Edges ``P Q`` (E, 2) lying on one edge of the convex polygon ``corners`` (within BOUNDARY_RTOL)."""
    C0, C1 = corners, np.roll(corners, -1, axis=0)  # (m, 2) the domain's edges
    d = C1 - C0
    length = np.hypot(d[:, 0], d[:, 1])
    tol = BOUNDARY_RTOL * float(np.abs(corners).max() + np.ptp(corners, axis=0).max())

    def dist(X):  # (E, m) distance of each point to each edge's line
        return np.abs(d[None, :, 0] * (X[:, None, 1] - C0[None, :, 1])
                      - d[None, :, 1] * (X[:, None, 0] - C0[None, :, 0])) / length

    return ((dist(P) <= tol) & (dist(Q) <= tol)).any(axis=1)


class PlanarSplit(PrefixSplit):
    """Split/merge of the 2-D engine (see the module docstring)."""

    engine = "planar"
    #: Every subproblem loops over each later unit that crosses one of its regions and joins its
    #: pieces across its border: measured on a He 2-256-256-1 (11,446 prefix regions), 11 runs cost
    #: 2.9x one process's time in one process.  Runs of at least 8,192 prefix regions: nets up to
    #: 2-256-256-1 are one subproblem (counted in the calling process), 2-512-512-512-1 (40,818)
    #: four.
    min_run = 8192

    def check_domain(self, net, domain):
        domain = _default_domain(net, domain)
        refuse_wide(net, domain, "split planar", SHELL_TRIGGER,
                    hint="a count without jobs or a scheduler covers such boxes by shells")
        return domain

    def prefix_size(self, net, domain, depth):
        return int(self.cache.get(net, domain, depth, _derive_prefix, _extend_prefix)[2].R)

    def count_run(self, net, domain, depth, a, b, payload):
        if depth == 0:  # one subproblem: the whole count, pieces included
            res = count_plane(net, domain)
            return res, 1, {"prefix_unsplit": 0, "unsplit": int(res.extra.get("unsplit", 0)), "border": None}
        layers, mags, mesh, H, Hm, counts, parents, actives = self.cache.get(net, domain, depth, _derive_prefix,
                                                                             _extend_prefix)
        n = mesh.R
        if not (0 <= a < b <= n):
            refuse_rederived(f"{payload.get('n')} prefix regions with run {a}-{b}", f"{n}")
        slope = net.negative_slope
        errs = _start_mesh(domain, mags)[3]
        widths = [W.shape[0] for W, _ in layers[:-1]]
        prefix_masks = _rows_masks(parents, actives, widths, np.arange(a, b))
        prefix_unsplit = mesh.stats["unsplit"]
        mesh, H, Hm = _restrict(mesh, H, Hm, a, b)
        counts = list(counts)
        sub_parents, sub_actives = [], []
        for l in range(depth, len(layers) - 1):
            (W, bias), (aW, ab) = layers[l], mags[l]
            H, Hm, parent, active, _ = _cut_layer(mesh, H, Hm, W, bias, aW, ab, slope, None, first=l == 0,
                                                  err=errs[l])
            counts.append(int(mesh.R))
            sub_parents.append(parent)
            sub_actives.append(active)
        R = mesh.R
        K = int(mesh.nv[:R].max())
        uv, ring, nv = mesh.uv.a[: mesh.V], mesh.ring[:R, :K], mesh.nv[:R]

        def masks(rows=None):
            rows = np.arange(R) if rows is None else rows
            own = _rows_masks(sub_parents, sub_actives, widths[depth:], rows)
            anc = rows
            for p in sub_parents[::-1]:
                anc = p[anc]
            return [m[anc] for m in prefix_masks] + own

        labels, n_pieces = pieces_from_vertices(ring, nv, uv, (H, Hm), layers, mags, masks, slope)
        info = {"prefix_unsplit": int(prefix_unsplit), "unsplit": int(mesh.stats["unsplit"]),
                "corners": domain_ring(domain).tolist(), "border": None}
        reg, ea, eb = boundary_edges(ring, nv)
        if (a, b) == (0, n):  # every prefix region: no border to join (the job too small to split)
            info["whole"] = True
        elif reg.shape[0] <= MAX_BORDER:
            info["border"] = self._border(uv, ring, nv, (H, Hm), layers, mags, masks, slope, labels, reg, ea, eb)
        res = CountResult(regions=int(R), pieces=int(n_pieces), layer_counts=counts, engine="planar")
        return res, n, info

    @staticmethod
    def _border(uv, ring, nv, HHm, layers, mags, masks, slope, labels, reg, ea, eb) -> dict:
        """What the merge needs of the run's border: edges, outputs at their ends, the regions along them."""
        y, ym = vertex_outputs(HHm, layers, mags)
        rows, inv = np.unique(reg, return_inverse=True)
        cen, ycen, ymag = vertex_means(ring[rows], nv[rows], uv, y, ym)
        mk = masks(rows)
        J, _ = affine.output_maps(layers, mk, slope)
        JM, _ = affine.output_maps(layers, mk, slope, mags=mags)
        return {
            "edges": np.concatenate([uv[ea], uv[eb]], axis=1).tolist(),  # (E, 4): ax, ay, bx, by
            "y": np.concatenate([y[ea], y[eb]], axis=1).tolist(),
            "ym": np.stack([ym[ea], ym[eb]], axis=1).tolist(),
            "region": inv.tolist(),
            "label": labels[rows].tolist(),
            "cen": cen.tolist(), "ycen": ycen.tolist(), "ymag": ymag.tolist(),
            "J": J.tolist(), "JM": JM.tolist(),
        }

    def merge_pieces(self, runs: list[Run], regions: int):
        """Pieces of the runs, joined across the borders (see the module docstring)."""
        one = runs[0].info["depth"] == 0 or bool(runs[0].info.get("whole"))
        return merge_border_pieces(runs, _join_borders, one=one)


def merge_border_pieces(runs: list[Run], join, *, one: bool):
    """``(pieces, extra)`` of 2-D runs: the only run's pieces (``one``), else ``join(runs, unsplit)``.

    Shared by the plain and the op-graph 2-D merges.  Events of the prefix are seen by every worker, so
    they are counted once, then those of each run; a run with too many border edges (``border`` None)
    leaves the pieces uncounted, with a note.
    """
    unsplit = runs[0].info["prefix_unsplit"] + sum(t.info["unsplit"] for t in runs)
    extra = {"unsplit": unsplit} if unsplit else {}
    if one:
        return runs[0].result.pieces, extra
    if any(t.info["border"] is None for t in runs):
        extra["pieces_note"] = (f"affine pieces not counted: a subproblem has more than {MAX_BORDER} border "
                                f"edges (the split count reports activation regions only)")
        return None, extra
    pieces, why = join(runs, unsplit)
    if pieces is None:
        extra["pieces_note"] = why
    return pieces, extra


def _pair_edges(E: np.ndarray, run: np.ndarray, tol: float):
    """Pairs of edges of different runs whose ends agree within ``tol`` (either way round).

    The two sides of a border compute its vertices from the same values, but
    a matrix product may round a row differently in another batch, so ends
    agree to rounding, not bit for bit.  Returns ``(i1, i2, flipped)``, or
    None when an edge has more than one partner (ambiguous: edges shorter
    than ``tol``).
    """
    from scipy.spatial import cKDTree  # noqa: PLC0415 -- only split 2-D merges need it

    A, B = E[:, :2], E[:, 2:]
    mid = 0.5 * (A + B)
    cand = cKDTree(mid).query_pairs(2.0 * tol, output_type="ndarray")
    if cand.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, bool)
    i, j = cand[:, 0], cand[:, 1]
    keep = run[i] != run[j]
    i, j = i[keep], j[keep]
    straight = (np.abs(A[i] - A[j]).max(axis=1) <= tol) & (np.abs(B[i] - B[j]).max(axis=1) <= tol)
    flipped = (np.abs(A[i] - B[j]).max(axis=1) <= tol) & (np.abs(B[i] - A[j]).max(axis=1) <= tol)
    ok = straight | flipped
    i, j, flipped = i[ok], j[ok], flipped[ok] & ~straight[ok]
    if np.bincount(np.concatenate([i, j]), minlength=E.shape[0]).max(initial=0) > 1:
        return None
    return i, j, flipped


def _pair_borders(runs: list[Run], E: np.ndarray, edges: list, unsplit: int):
    """Border edges of the runs paired across subproblems: ``(i1, i2, "")``, or ``(None, None, why)``.

    Shared by the plain and the op-graph 2-D merge.  An edge with no partner must lie on the domain's
    boundary (unless the job was not split); an ambiguous match or a lone inner edge gives ``why``.
    """
    corners = np.asarray(runs[0].info["corners"], dtype=np.float64)
    tol = BOUNDARY_RTOL * float(np.abs(corners).max() + np.ptp(corners, axis=0).max())
    pairs = _pair_edges(E, np.concatenate([np.full(len(e), i) for i, e in enumerate(edges)]), tol)
    if pairs is None:
        return None, None, ("affine pieces not counted: a border edge is within the matching tolerance of "
                            "more than one edge of another subproblem")
    i1, i2, _ = pairs
    paired = np.zeros(E.shape[0], dtype=bool)
    paired[i1] = paired[i2] = True
    lone = ~paired
    if lone.any() and not unsplit:
        off = ~_on_boundary(E[lone, :2], E[lone, 2:], corners)
        if off.any():
            return None, None, (f"affine pieces not counted: {int(off.sum())} border edges of a subproblem "
                                f"have no partner in another (floating point differs between machines)")
    return i1, i2, ""


def _join_borders(runs: list[Run], unsplit: int) -> tuple[int | None, str]:
    """Pieces of all runs after joining those across borders, or None and why."""
    offsets = np.cumsum([0] + [t.result.pieces for t in runs])
    edges, side, region = [], [], []
    regs = {name: [] for name in ("label", "cen", "ycen", "ymag", "J", "JM")}
    base = 0
    for i, t in enumerate(runs):
        bd = t.info["border"]
        E = np.asarray(bd["edges"], dtype=np.float64).reshape(-1, 4)
        edges.append(E)
        side.append(np.concatenate([np.asarray(bd["y"], dtype=np.float64).reshape(E.shape[0], -1),
                                    np.asarray(bd["ym"], dtype=np.float64).reshape(-1, 2)], axis=1))
        region.append(base + np.asarray(bd["region"], dtype=np.int64))
        regs["label"].append(offsets[i] + np.asarray(bd["label"], dtype=np.int64))
        for name in ("cen", "ycen", "ymag", "J", "JM"):
            regs[name].append(np.asarray(bd[name], dtype=np.float64))
        base += len(bd["label"])
    E, Y, G = np.concatenate(edges), np.concatenate(side), np.concatenate(region)
    if E.shape[0] == 0:
        return int(offsets[-1]), ""
    n_out = (Y.shape[1] - 2) // 2
    rg = {k: np.concatenate([v for v in vs if v.size]) for k, vs in regs.items()}
    i1, i2, why = _pair_borders(runs, E, edges, unsplit)
    if why:
        return None, why
    yA, yB = Y[:, :n_out], Y[:, n_out:2 * n_out]
    ymA, ymB = Y[:, -2], Y[:, -1]
    g1, g2 = G[i1], G[i2]
    A, B = E[i1, :2], E[i1, 2:]  # the edge as the first side sees it, with its values at both ends
    differ = vertex_test_differs(A, B, yA[i1], yB[i1], ymA[i1], ymB[i1], rg["cen"][g1], rg["cen"][g2],
                                 rg["ycen"][g1], rg["ycen"][g2], rg["ymag"][g1], rg["ymag"][g2])
    g1, g2 = g1[~differ], g2[~differ]
    eq = same_jacobians(rg["J"][g1], rg["J"][g2], rg["JM"][g1], rg["JM"][g2])
    g1, g2 = g1[eq], g2[eq]
    _, pieces = merge_pieces(int(offsets[-1]), rg["label"][g1], rg["label"][g2])
    return int(pieces), ""
