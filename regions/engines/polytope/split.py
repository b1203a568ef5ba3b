"""Split and merge of n-D counts: runs of the regions of the first layers.

Every final region lies in exactly one region of any earlier layer, so the
regions after the first ``p`` hidden layers (the *prefix*), numbered in the
engine's deterministic depth-first order, split the job into independent
subproblems whose counts add up exactly.  A subproblem is a run ``[a, b)``
of prefix regions; its key names the prefix depth and the run, so the key
alone determines the work: the worker re-derives the prefix (the engine's
own walk, which does not descend past layer ``p`` outside the run) and
finishes the run's regions.  A worker that re-derives a different number
of prefix regions (another machine whose floating point differs) refuses.

Affine pieces cross subproblem borders.  The engine records a merge as a
pair of packed activation patterns, found from each of the two regions
(:class:`~regions.engines.polytope.kernel._Pieces`); each subproblem
reports the pairs it saw (none in a generic network) and
:func:`merge_polytope` confirms them across all subproblems exactly as a
single process does.  A subproblem that sees more than :data:`MAX_PAIRS`
pairs reports none and the split count's ``pieces`` is None (activation
regions only), with the reason in ``extra["pieces_note"]``.
"""

from __future__ import annotations

import numpy as np

from ...core.result import CountResult
from ...domains import Domain
from ...errors import NumericalError, RegionsError
from ...model.network import Network
from ..base import Subproblem
from ..shells import SHELL_TRIGGER, refuse_wide
from .kernel import VERTEX_RTOL, _Batch, _check, _Pieces, _walk

__all__ = ["count_polytope_subproblem", "merge_polytope", "split_polytope"]

#: Prefix regions per subproblem wanted at least (finer runs balance better).
OVERSPLIT = 4
#: Largest prefix (regions) worth deepening further.
MAX_PREFIX = 1 << 14
#: Merge pairs a subproblem reports at most (beyond: pieces are not counted).
MAX_PAIRS = 1 << 18


def _prefix_size(net: Network, domain: Domain, depth: int) -> int:
    """Regions after the first ``depth`` hidden layers (the walk stops there)."""
    def stop(l, b):
        return None if l == depth - 1 else b

    counts, _, _ = _walk(net, domain, lambda b: None, False, None, select=stop)
    return int(counts[depth - 1])


def split_polytope(net: Network, domain: Domain | None, *, parts: int) -> list[Subproblem]:
    """About ``parts`` subproblems of consecutive prefix regions (fewer when there are fewer).

    The prefix is the smallest number of hidden layers with at least
    ``OVERSPLIT * parts`` regions (all but the last hidden layer at most; no deeper once
    it has :data:`MAX_PREFIX`); runs hold equal numbers of prefix regions.
    """
    domain = _check(net, domain)
    refuse_wide(net, domain, "split polytope", SHELL_TRIGGER,
                hint="a count without jobs or a scheduler covers such boxes by shells")
    n_hidden = len(net.layers) - 1
    if n_hidden <= 1 or parts <= 1:  # one hidden layer: the prefix would be the whole job
        return [Subproblem("polytope:p0:0-1", {"depth": 0, "a": 0, "b": 1, "n": 1}, 1.0)]
    for depth in range(1, n_hidden):  # the last hidden layer is never prefix: workers re-derive it
        n = _prefix_size(net, domain, depth)
        if n >= OVERSPLIT * parts or n >= MAX_PREFIX:
            break
    k = min(parts, n)
    cuts = [round(i * n / k) for i in range(k + 1)]
    return [Subproblem(f"polytope:p{depth}:{a}-{b}", {"depth": depth, "a": a, "b": b, "n": n}, float(b - a))
            for a, b in zip(cuts[:-1], cuts[1:])]


def _parse(key: str) -> tuple[int, int, int]:
    try:
        kind, p, ab = key.split(":")
        a, b = ab.split("-")
        if kind != "polytope" or not p.startswith("p"):
            raise ValueError
        return int(p[1:]), int(a), int(b)
    except ValueError:
        raise RegionsError(
            f"expected a subproblem key of the polytope engine such as 'polytope:p1:0-10', got {key!r}"
        ) from None


def count_polytope_subproblem(net: Network, domain: Domain | None, sub: Subproblem) -> CountResult:
    """The count of the final regions inside prefix regions ``a..b-1`` (see the module docstring)."""
    domain = _check(net, domain)
    depth, a, b = _parse(sub.key)
    k = domain.dim
    pieces = _Pieces(domain.pullback(net), k, VERTEX_RTOL)
    tally = {"n": 0, "unb": 0, "seen": 0}

    def select(l, batch: _Batch):
        if depth == 0 or l != depth - 1:
            return batch
        lo, hi = tally["seen"], tally["seen"] + batch.R
        tally["seen"] = hi
        s, e = max(a, lo) - lo, min(b, hi) - lo
        if s >= e:
            return None
        return batch.take_regions(s, e) if (s, e) != (0, batch.R) else batch

    def emit(batch: _Batch) -> None:
        pieces.add(batch)
        tally["n"] += batch.R
        if not domain.bounded:
            unb = np.bincount(batch.rid[batch.lin | (batch.G[:, k] == 0)], minlength=batch.R) > 0
            tally["unb"] += int(np.count_nonzero(unb))

    counts, _, _ = _walk(net, domain, emit, False, None, select=select)
    n = tally["seen"] if depth else 1
    want = (sub.payload or {}).get("n", n)
    if depth and (n != want or not (0 <= a < b <= n)):
        raise NumericalError(
            f"expected {want} prefix regions with run {a}-{b}, got {n} when re-derived "
            f"(floating point differs between the splitting and the counting machine)"
        )
    P = np.concatenate(pieces.P) if pieces.P else np.zeros((0, 0), np.uint64)
    Q = np.concatenate(pieces.Q) if pieces.Q else np.zeros((0, 0), np.uint64)
    pairs = None if P.shape[0] > MAX_PAIRS else [P.tolist(), Q.tolist()]
    unb = None if domain.bounded else tally["unb"]
    return CountResult(
        regions=tally["n"],
        pieces=None,
        layer_counts=[int(c) for c in counts],
        engine="polytope",
        bounded=None if unb is None else tally["n"] - unb,
        unbounded=unb,
        extra={"_split": {"key": sub.key, "a": a, "b": b, "n": n, "depth": depth, "pairs": pairs,
                          "widths": [int(W.shape[0]) for W, _ in net.layers[:-1]]}},
    )


def merge_polytope(results: list[CountResult]) -> CountResult:
    """One count from the subproblems of one :func:`split_polytope` (any order)."""
    info = []
    for r in results:
        sp = r.extra.get("_split") if isinstance(r.extra, dict) else None
        if r.engine != "polytope" or sp is None:
            raise RegionsError(f"expected results of polytope-engine subproblems, got {r!r}")
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
    regions = sum(r.regions for r in rs)
    first = rs[0].layer_counts
    layer_counts = list(first[:depth]) + [sum(r.layer_counts[i] for r in rs) for i in range(depth, len(first))]
    bounded = None if rs[0].bounded is None else sum(r.bounded for r in rs)
    unbounded = None if rs[0].unbounded is None else sum(r.unbounded for r in rs)
    extra = {}
    pairs = [sp["pairs"] for _, _, sp, _ in info]
    if any(p is None for p in pairs):
        pieces = None
        extra["pieces_note"] = (f"affine pieces not counted: a subproblem saw more than {MAX_PAIRS} merging "
                                f"facets (the split count reports activation regions only)")
    else:
        P = [np.asarray(p[0], dtype=np.uint64) for p in pairs if len(p[0])]
        Q = [np.asarray(p[1], dtype=np.uint64) for p in pairs if len(p[1])]
        tally = object.__new__(_Pieces)  # only the recorded pairs are needed to confirm them
        tally.P, tally.Q, tally.widths = P, Q, info[0][2]["widths"]
        pieces, one_sided = tally.count(regions)
        if one_sided:
            extra["one_sided_merges"] = one_sided
    return CountResult(regions, pieces, layer_counts, "polytope", bounded=bounded, unbounded=unbounded,
                       extra=extra)
