"""Split and merge of 2-D counts: runs of the regions of the first layers.

Every final region lies in exactly one region of any earlier layer, so the
regions after the first ``p`` hidden layers (the *prefix*) split the job
into independent subproblems whose counts add up exactly.  A subproblem is
a run ``[a, b)`` of prefix regions in the engine's own order; its key names
the prefix depth and the run, so the key alone determines the work: the
worker re-derives the prefix with the engine's walk, keeps the run's
regions and their vertices (renumbered in the same order, so every edge is
cut exactly as in one process) and cuts them by the remaining layers.  A
worker that re-derives a different number of prefix regions (another
machine whose floating point differs) refuses.

Affine pieces are not counted by a split 2-D count (``pieces`` is None,
``extra["pieces_note"]`` says why): a piece may cross the border between
two subproblems, and neither side knows its neighbour's output map.  Split
counts report activation regions, per-layer counts included.
"""

from __future__ import annotations

import numpy as np

from ...core.result import CountResult
from ...domains import Domain
from ...errors import NumericalError, RegionsError
from ...model.network import Network
from ..base import Subproblem
from ..shells import SHELL_TRIGGER, refuse_wide
from .kernel import _cut_layer, _default_domain, _Grow, _Mesh, _start_mesh, count_plane, planar_layers

__all__ = ["count_plane_subproblem", "merge_plane", "split_plane"]

#: Prefix regions per subproblem wanted at least.
OVERSPLIT = 4
#: Largest prefix (regions) worth deepening further.
MAX_PREFIX = 1 << 16
PIECES_NOTE = ("affine pieces not counted by a split 2-D count: a piece may cross the border between "
               "two subproblems (activation regions are exact)")


#: The last prefix derived in this process (workers run many subproblems of one split).
_LAST: dict = {}


def _prefix(net: Network, domain: Domain, depth: int):
    """The mesh after the first ``depth`` hidden layers, remembered for the next subproblem.

    Keyed by the sha256 of the network and of the domain; :func:`_restrict`
    copies what the subproblem changes.
    """
    from ...execution.split import domain_sha256, network_sha256  # noqa: PLC0415 -- no import cycle

    key = (network_sha256(net), domain_sha256(domain), depth)
    if key not in _LAST:
        _LAST.clear()
        _LAST[key] = _derive_prefix(net, domain, depth)
    return _LAST[key]


def _derive_prefix(net: Network, domain: Domain, depth: int):
    layers, mags = planar_layers(net, domain)
    mesh, H, Hm, errs = _start_mesh(domain, mags)
    counts = []
    for l in range(depth):
        (W, b), (aW, ab) = layers[l], mags[l]
        H, Hm, _, _, _ = _cut_layer(mesh, H, Hm, W, b, aW, ab, net.negative_slope, None, first=l == 0,
                                    err=errs[l])
        counts.append(int(mesh.R))
    return layers, mags, mesh, H, Hm, counts


def split_plane(net: Network, domain: Domain | None, *, parts: int) -> list[Subproblem]:
    """About ``parts`` subproblems of consecutive prefix regions (fewer when there are fewer)."""
    domain = _default_domain(net, domain)
    refuse_wide(net, domain, "split planar", SHELL_TRIGGER,
                hint="a count without jobs or a scheduler covers such boxes by shells")
    n_hidden = len(net.layers) - 1
    if n_hidden <= 1 or parts <= 1:  # one hidden layer: the prefix would be the whole job
        return [Subproblem("planar:p0:0-1", {"depth": 0, "a": 0, "b": 1, "n": 1}, 1.0)]
    for depth in range(1, n_hidden):  # the last hidden layer is never prefix: workers re-derive it
        n = _derive_prefix(net, domain, depth)[2].R
        if n >= OVERSPLIT * parts or n >= MAX_PREFIX:
            break
    k = min(parts, n)
    cuts = [round(i * n / k) for i in range(k + 1)]
    return [Subproblem(f"planar:p{depth}:{a}-{b}", {"depth": depth, "a": a, "b": b, "n": n}, float(b - a))
            for a, b in zip(cuts[:-1], cuts[1:])]


def _parse(key: str) -> tuple[int, int, int]:
    try:
        kind, p, ab = key.split(":")
        a, b = ab.split("-")
        if kind != "planar" or not p.startswith("p"):
            raise ValueError
        return int(p[1:]), int(a), int(b)
    except ValueError:
        raise RegionsError(
            f"expected a subproblem key of the planar engine such as 'planar:p1:0-10', got {key!r}"
        ) from None


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


def count_plane_subproblem(net: Network, domain: Domain | None, sub: Subproblem) -> CountResult:
    """The count of the final regions inside prefix regions ``a..b-1`` (see the module docstring)."""
    domain = _default_domain(net, domain)
    depth, a, b = _parse(sub.key)
    if depth == 0:
        layers, mags, mesh, H, Hm, counts = _derive_prefix(net, domain, 0)
    else:
        layers, mags, mesh, H, Hm, counts = _prefix(net, domain, depth)
    counts = list(counts)
    errs = _start_mesh(domain, mags)[3]
    n = mesh.R
    want = (sub.payload or {}).get("n", n)
    if n != want or not (0 <= a < b <= n):
        raise NumericalError(
            f"expected {want} prefix regions with run {a}-{b}, got {n} when re-derived "
            f"(floating point differs between the splitting and the counting machine)"
        )
    info = {"key": sub.key, "a": a, "b": b, "n": n, "depth": depth}
    if depth == 0:  # one subproblem: the whole count, pieces included
        res = count_plane(net, domain)
        res.extra = {**res.extra, "_split": {**info, "prefix_unsplit": 0,
                                             "unsplit": int(res.extra.get("unsplit", 0))}}
        return res
    prefix_unsplit = mesh.stats["unsplit"]
    mesh, H, Hm = _restrict(mesh, H, Hm, a, b)
    for l in range(depth, len(layers) - 1):
        (W, bias), (aW, ab) = layers[l], mags[l]
        H, Hm, _, _, _ = _cut_layer(mesh, H, Hm, W, bias, aW, ab, net.negative_slope, None, first=l == 0,
                                    err=errs[l])
        counts.append(int(mesh.R))
    return CountResult(
        regions=int(mesh.R), pieces=None, layer_counts=counts, engine="planar",
        extra={"_split": {**info, "prefix_unsplit": int(prefix_unsplit), "unsplit": int(mesh.stats["unsplit"])}},
    )


def merge_plane(results: list[CountResult]) -> CountResult:
    """One count from the subproblems of one :func:`split_plane` (any order); ``pieces`` is None."""
    info = []
    for r in results:
        sp = r.extra.get("_split") if isinstance(r.extra, dict) else None
        if r.engine != "planar" or sp is None:
            raise RegionsError(f"expected results of planar-engine subproblems, got {r!r}")
        info.append((sp["a"], sp["b"], sp, r))
    info.sort(key=lambda t: t[0])
    n, depth = info[0][2]["n"], info[0][2]["depth"]
    covered = [0] + [b for _, b, _, _ in info]
    if any(sp["n"] != n or sp["depth"] != depth for _, _, sp, _ in info) or \
            [a for a, _, _, _ in info] != covered[:-1] or covered[-1] != n:
        raise RegionsError(
            f"expected the results of one split covering prefix regions 0-{n} once each, got runs "
            f"{[(a, b) for a, b, _, _ in info]}"
        )
    rs = [r for *_, r in info]
    first = rs[0].layer_counts
    layer_counts = list(first[:depth]) + [sum(r.layer_counts[i] for r in rs) for i in range(depth, len(first))]
    # events of the prefix are seen by every worker: count them once, then those of each run
    unsplit = info[0][2]["prefix_unsplit"] + sum(sp["unsplit"] for _, _, sp, _ in info)
    extra = {"unsplit": unsplit} if unsplit else {}
    if depth:
        extra["pieces_note"] = PIECES_NOTE
    return CountResult(sum(r.regions for r in rs), rs[0].pieces if depth == 0 else None, layer_counts,
                       "planar", extra=extra)
