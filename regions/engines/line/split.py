"""Split and merge of 1-D counts: independent runs of consecutive intervals.

The shared part (prefix depth, runs, keys, cache, merge of regions and
layers) is :class:`~regions.execution.prefix.PrefixSplit`; this module
holds the 1-D geometry.  A worker re-derives the prefix (cheap: at most a
few thousand regions) and walks its run's regions depth-first with the
single-process walk (:func:`~regions.engines.line.kernel._count_walk`).
The payload also carries the run's two end points as computed when
splitting; a worker that re-derives different ones (another machine whose
floating point differs) refuses instead of counting something else.

Affine pieces cross subproblem borders: each subproblem reports the output
slopes of its first and last regions and their magnitudes, and the merge
merges neighbouring subproblems whose maps agree with the test of
:func:`~regions.engines.line.kernel.count_line`, so split and
single-process counts agree.
"""

from __future__ import annotations

import numpy as np

from ...core.result import CountResult
from ...core.tolerances import ZERO_RTOL
from ...domains import Domain
from ...execution.prefix import PrefixSplit, Run, refuse_rederived
from ...model.network import Network
from .kernel import _count_walk, _default_domain, _exact, _split_layer, _start

__all__ = ["LineSplit"]


def _decisions(exact) -> dict:
    """The event counters of a decider (``CountResult.extra`` of the 1-D engine)."""
    return {"exact_decisions": exact.decisions, "extended_decisions": exact.extended,
            "below_resolution": exact.below_resolution}


def _derive_prefix(net: Network, domain: Domain, depth: int):
    """The pulled-back network, the regions after ``depth`` hidden layers as arrays, the counts, and the
    prefix's own decisions of the extended and exact tiers (:func:`_decisions`)."""
    pulled, left, ltol, end, rep, C, A, cmax, amax = _start(net, domain)
    hidden = pulled.layers[:-1]
    counts = []
    exact = _exact(pulled, domain)
    for l in range(depth):
        W, b = hidden[l]
        left, ltol, rep, C, A, cmax, amax, _, _ = _split_layer(
            left, ltol, end, rep, C, A, cmax, amax, W, b, pulled.negative_slope, values=l != len(hidden) - 1,
            exact=exact, layer=l)
        counts.append(int(left.shape[0]))
    return pulled, (left, ltol, end, rep, C, A, cmax, amax), counts, _decisions(exact)


def _run_ends(arrays: tuple, a: int, b: int) -> list[float]:
    left, end, n = arrays[0], arrays[2], arrays[0].shape[0]
    return [float(left[a]), float(left[b]) if b < n else float(end)]


def _same(left: list, right: list) -> bool:
    """The map test of :func:`count_line` between the last region of one run and the first of the next."""
    S0, m0 = np.asarray(left[0]), np.asarray(left[1])
    S1, m1 = np.asarray(right[0]), np.asarray(right[1])
    return bool(np.all(np.abs(S0 - S1) <= ZERO_RTOL * (m0 + m1)))


class LineSplit(PrefixSplit):
    """Split/merge of the 1-D engine (see the module docstring)."""

    engine = "line"
    summed_extras = ("below_resolution", "exact_decisions", "extended_decisions")

    def check_domain(self, net, domain):
        return _default_domain(net, domain)

    def prefix_size(self, net, domain, depth):
        return int(self.cache.get(net, domain, depth, _derive_prefix)[1][0].shape[0])

    def run_payload(self, net, domain, depth, a, b, n):
        return {"ends": _run_ends(self.cache.get(net, domain, depth, _derive_prefix)[1], a, b)}

    def count_run(self, net, domain, depth, a, b, payload):
        pulled, arrays, prefix_counts, prefix_decisions = self.cache.get(net, domain, depth, _derive_prefix)
        left, ltol, end, rep, C, A, cmax, amax = arrays
        n = 1 if depth == 0 else left.shape[0]
        if not (0 <= a < b <= n):
            refuse_rederived(f"{payload.get('n')} prefix regions with run {a}-{b}", f"{n}")
        ends = payload.get("ends")
        if ends is not None and _run_ends(arrays, a, b) != [float(e) for e in ends]:
            refuse_rederived(f"the run {a}-{b} to span {ends}", f"{_run_ends(arrays, a, b)}")
        e = left[b] if b < left.shape[0] else end
        if C is None:  # the prefix holds every hidden layer: values are not needed
            C = np.empty((left.shape[0], 0))
        run = tuple(x[a:b].copy() for x in (left, ltol, rep, C, A, cmax, amax))
        counts = [0] * (len(pulled.layers) - 1)
        exact = _exact(pulled, domain)
        state = _count_walk(pulled, depth, (run[0], run[1], e, *run[2:]), counts, exact=exact)
        S_last, A_last, _ = state["last"]
        S_first, mag_first = state["first"]
        absWt_out = np.abs(pulled.layers[-1][0].T)
        sides = {
            "first": [[float(x) for x in S_first], [float(x) for x in mag_first]],
            "last": [[float(x) for x in S_last[0]], [float(x) for x in np.abs(A_last[0]) @ absWt_out]],
        }
        extra = _decisions(exact)
        if a == 0:  # the prefix's own decisions, counted once: in the first run
            extra = {k: v + prefix_decisions[k] for k, v in extra.items()}
        res = CountResult(regions=state["regions"], pieces=state["regions"] - state["merges"],
                          layer_counts=list(prefix_counts) + counts[depth:], engine="line", extra=extra)
        return res, n, {"ends": sides}

    def merge_pieces(self, runs: list[Run], regions: int):
        """Pieces add, less one per border whose two sides have one output map."""
        pieces = sum(t.result.pieces for t in runs)
        for t0, t1 in zip(runs[:-1], runs[1:]):
            pieces -= _same(t0.info["ends"]["last"], t1.info["ends"]["first"])
        return pieces, {}
