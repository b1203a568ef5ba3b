"""Split and merge of n-D counts: runs of the regions of the first layers.

The shared part (prefix depth, runs, keys, merge of regions, layers and
bounded/unbounded regions) is :class:`~regions.execution.prefix.PrefixSplit`;
this module holds the n-D geometry.  Prefix regions are numbered in the
engine's deterministic depth-first order; the worker re-derives the prefix
(the engine's own walk, which does not descend past layer ``p`` outside
the run) and finishes the run's regions.

Affine pieces cross subproblem borders.  The engine records a merge as a
pair of packed activation patterns, found from each of the two regions
(:class:`~regions.engines.polytope.kernel._Pieces`); each subproblem
reports the pairs it saw (none in a generic network) and
the merge confirms them across all subproblems exactly as a
single process does.  A subproblem that sees more than :data:`MAX_PAIRS`
pairs reports none and the split count's ``pieces`` is None (activation
regions only), with the reason in ``extra["pieces_note"]``.
"""

from __future__ import annotations

import numpy as np

from ...core.result import CountResult
from ...execution.prefix import PrefixSplit, Run
from ..shells import SHELL_TRIGGER, refuse_wide
from .kernel import VERTEX_RTOL, _Batch, _check, _Pieces, _walk

__all__ = ["MAX_PAIRS", "PolytopeSplit"]

#: Merge pairs a subproblem reports at most (beyond: pieces are not counted).
MAX_PAIRS = 1 << 18


class PolytopeSplit(PrefixSplit):
    """Split/merge of the n-D engine (see the module docstring)."""

    engine = "polytope"
    max_prefix = 1 << 14

    def check_domain(self, net, domain):
        domain = _check(net, domain)
        refuse_wide(net, domain, "split polytope", SHELL_TRIGGER,
                    hint="a count without jobs or a scheduler covers such boxes by shells")
        return domain

    def prefix_size(self, net, domain, depth):
        """Regions after the first ``depth`` hidden layers (the walk stops there)."""
        def stop(l, b):
            return None if l == depth - 1 else b

        counts, _, _ = _walk(net, domain, lambda b: None, False, None, select=stop)
        return int(counts[depth - 1])

    def count_run(self, net, domain, depth, a, b, payload):
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
        P = np.concatenate(pieces.P) if pieces.P else np.zeros((0, 0), np.uint64)
        Q = np.concatenate(pieces.Q) if pieces.Q else np.zeros((0, 0), np.uint64)
        pairs = None if P.shape[0] > MAX_PAIRS else [P.tolist(), Q.tolist()]
        unb = None if domain.bounded else tally["unb"]
        res = CountResult(
            regions=tally["n"], pieces=None, layer_counts=[int(c) for c in counts], engine="polytope",
            bounded=None if unb is None else tally["n"] - unb, unbounded=unb,
        )
        return res, n, {"pairs": pairs, "widths": [int(W.shape[0]) for W, _ in net.layers[:-1]]}

    def merge_pieces(self, runs: list[Run], regions: int):
        """Pieces from the merge pairs of every run, confirmed as in one process."""
        extra = {}
        pairs = [t.info["pairs"] for t in runs]
        if any(p is None for p in pairs):
            extra["pieces_note"] = (f"affine pieces not counted: a subproblem saw more than {MAX_PAIRS} merging "
                                    f"facets (the split count reports activation regions only)")
            return None, extra
        P = [np.asarray(p[0], dtype=np.uint64) for p in pairs if len(p[0])]
        Q = [np.asarray(p[1], dtype=np.uint64) for p in pairs if len(p[1])]
        tally = object.__new__(_Pieces)  # only the recorded pairs are needed to confirm them
        tally.P, tally.Q, tally.widths = P, Q, runs[0].info["widths"]
        pieces, one_sided = tally.count(regions)
        if one_sided:
            extra["one_sided_merges"] = one_sided
        return pieces, extra
