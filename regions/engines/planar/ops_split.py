"""Split and merge of 2-D op-graph counts: runs of the regions after a prefix of lowered layers.

The op mesh (:mod:`.ops`) cuts every region on its own, by the values at
its own vertices, layer by layer of the lowered chain
(:func:`regions.model.ops.lower`); every final region lies in exactly one
region after any prefix of lowered layers (a max layer merges the pieces of
one cell only within one parent), so runs of consecutive prefix regions
split a count into independent subproblems whose counts add up exactly.
The shared part (prefix depth, runs, keys, cache, merge of regions and
layers) is :class:`~regions.execution.prefix.PrefixSplit`; a worker
re-derives the prefix, keeps its run's polygons and their vertices
(renumbered in the same order, :func:`.split._restrict`) and walks them on
(:func:`.ops._walk` from ``start``).

Affine pieces cross run borders.  Each run counts the pieces inside it
(the single-process test: neighbours whose exact output Jacobians agree to
``PIECE_RTOL``) and reports the edges on the boundary of its union, with
the piece, Jacobian and magnitude of the region along each.  Both sides of
a border cut it at the same points (from the values at the border's own
vertices); the merge pairs edges of different runs whose ends agree within
:data:`~.split.BOUNDARY_RTOL` of the domain's size (:func:`.split._pair_edges`),
applies the single-process test to each pair and joins the pieces.  Where
an unpaired edge does not lie on the domain's boundary, an edge has two
candidate partners, or a run has more than :data:`~.split.MAX_BORDER`
border edges, ``pieces`` is None and ``extra["pieces_note"]`` says why
(activation regions stay exact).
"""

from __future__ import annotations

import numpy as np

from ...core.pieces import merge_pieces
from ...core.result import CountResult
from ...core.tolerances import PIECE_RTOL
from ...execution.prefix import PrefixSplit, Run, refuse_rederived
from ...model.ops import lower
from .ops import _walk
from .ops_result import _ancestry, _output_maps, _pieces
from .rings import boundary_edges, domain_ring
from .split import MAX_BORDER, _pair_borders, _restrict, merge_border_pieces

__all__ = ["OpPlanarSplit"]


def _derive(graph, domain, depth: int):
    """The lowered chain and the walk stopped after ``depth`` hidden layers (its mesh kept)."""
    low = lower(graph)
    w, layers, mags = _walk(low, domain, None, stop=depth)
    return low, w, layers, mags


def _extend(prefix, graph, domain, old: int, depth: int):
    """The prefix after ``old`` hidden layers walked on to ``depth`` (its mesh changed)."""
    low, w, layers, mags = prefix
    r, _, _ = _walk(low, domain, None, stop=depth, start=(old, w.mesh, w.H, w.Hm))
    r.parents, r.states, r.counts = w.parents + r.parents, w.states + r.states, w.counts + r.counts
    return low, r, layers, mags


class OpPlanarSplit(PrefixSplit):
    """Split/merge of the 2-D op mesh (see the module docstring); ``net`` is an op :class:`Graph`.

    By default runs hold at least :attr:`min_run` prefix regions, as in the
    plain 2-D split: each run loops over every later unit that crosses it
    (a residual/maxout graph 2-48-48-24 on [-1, 1]^2, 795 prefix regions:
    four runs took ~1.5x one process's time in one process, on a loaded
    machine).
    """

    engine = "planar"
    min_run = 1024

    def n_hidden(self, net) -> int:
        return len(lower(net).units)

    def prefix_size(self, net, domain, depth):
        return int(self.cache.get(net, domain, depth, _derive, _extend)[1].mesh.R)

    def count_run(self, net, domain, depth, a, b, payload):
        low, w, layers, mags = self.cache.get(net, domain, depth, _derive, _extend)
        n = 1 if depth == 0 else int(w.mesh.R)
        if not (0 <= a < b <= n):
            refuse_rederived(f"{payload.get('n')} prefix regions with run {a}-{b}", f"{n}")
        if depth == 0:  # one subproblem: the whole walk
            r, prefix_unsplit = _walk(low, domain, None)[0], 0
            parents = list(r.parents)
        else:
            mesh, H, Hm = _restrict(w.mesh, w.H, w.Hm, a, b)
            prefix_unsplit = int(w.stats["unsplit"])
            r, _, _ = _walk(low, domain, None, start=(depth, mesh, H, Hm))
            parents = list(w.parents) + [r.parents[0] + a] + list(r.parents[1:])
        states = list(w.states) + list(r.states)
        R = int(r.ring.shape[0])
        counts = list(w.counts) + list(r.counts)
        if parents:
            anc = _ancestry(parents)
            anc[-1] = anc[-1][:R]
            J, _, Jabs = _output_maps(low, layers, mags, states, anc)
        else:  # no hidden layer  # pragma: no cover -- graphs have at least one non-linear op
            (W, _), (aW, _) = layers[0], mags[0]
            J, Jabs = W[None].copy(), aW[None].copy()
        labels, n_pieces = _pieces(r.ring, r.nv, J, Jabs)
        info = {"prefix_unsplit": prefix_unsplit, "unsplit": int(r.stats["unsplit"]),
                "corners": domain_ring(domain).tolist(), "border": None}
        reg, ea, eb = boundary_edges(r.ring, r.nv)
        if (a, b) == (0, n):  # every prefix region: no border to join
            pass
        elif reg.shape[0] <= MAX_BORDER:
            rows, inv = np.unique(reg, return_inverse=True)
            info["border"] = {
                "edges": np.concatenate([r.uv[ea], r.uv[eb]], axis=1).tolist(),  # (E, 4): ax, ay, bx, by
                "region": inv.tolist(), "label": labels[rows].tolist(),
                "J": J[rows].reshape(rows.size, -1).tolist(), "Jabs": Jabs[rows].reshape(rows.size, -1).tolist(),
            }
        res = CountResult(regions=R, pieces=int(n_pieces), layer_counts=counts, engine="planar")
        return res, n, info

    def merge_pieces(self, runs: list[Run], regions: int):
        """Pieces of the runs, joined across the borders (see the module docstring)."""
        return merge_border_pieces(runs, _join, one=len(runs) == 1)


def _join(runs: list[Run], unsplit: int) -> tuple[int | None, str]:
    """Pieces of all runs after joining those across borders, or None and why."""
    offsets = np.cumsum([0] + [t.result.pieces for t in runs])
    edges, region, label, J, Jabs = [], [], [], [], []
    base = 0
    for i, t in enumerate(runs):
        bd = t.info["border"]
        E = np.asarray(bd["edges"], dtype=np.float64).reshape(-1, 4)
        edges.append(E)
        region.append(base + np.asarray(bd["region"], dtype=np.int64))
        label.append(offsets[i] + np.asarray(bd["label"], dtype=np.int64))
        J += bd["J"]
        Jabs += bd["Jabs"]
        base += len(bd["label"])
    E, G = np.concatenate(edges), np.concatenate(region)
    if E.shape[0] == 0:
        return int(offsets[-1]), ""
    lab = np.concatenate(label)
    J, Jabs = np.asarray(J, dtype=np.float64), np.asarray(Jabs, dtype=np.float64)
    i1, i2, why = _pair_borders(runs, E, edges, unsplit)
    if why:
        return None, why
    g1, g2 = G[i1], G[i2]
    eq = np.all(np.abs(J[g1] - J[g2]) <= PIECE_RTOL * (Jabs[g1] + Jabs[g2]), axis=1)
    _, pieces = merge_pieces(int(offsets[-1]), lab[g1[eq]], lab[g2[eq]])
    return int(pieces), ""
