"""Split and merge of 1-D op-graph counts: independent runs of consecutive intervals.

The op walk (:mod:`.ops`) cuts every interval on its own, layer by layer
of the lowered chain (:func:`regions.model.ops.lower`), so the intervals
after a prefix of lowered layers, in order along the domain, split a count
into independent runs whose counts add up exactly.  The shared part
(prefix depth, runs, keys, cache, merge of regions and layers) is
:class:`~regions.execution.prefix.PrefixSplit`; a worker re-derives the
prefix (every decision certified or exact, so on any machine the same
intervals) and walks its run's intervals through the remaining layers.
The payload also carries the run's two end points as computed when
splitting; a worker that re-derives different ones refuses.

Affine pieces cross run borders: every run reports the output slopes of
its first and last intervals, their rounding bounds and their exact
rational values (:meth:`~.ops_exact.OpExactLine.output_slopes`); the merge
joins neighbouring runs whose slopes are not certainly different in
float64 and are equal exactly, the single-process test, so split and
single-process piece counts agree.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ...core.result import CountResult
from ...execution.prefix import PrefixSplit, Run, refuse_rederived
from ...model.ops import lower
from .ops import _PER_REGION, _U, _UP, _line_layers, _output_slopes, _same_neighbours, _walk_layers, _walk_start
from .ops_exact import OpExactLine

__all__ = ["OpLineSplit"]


def _derive(graph, domain, depth: int):
    """The lowered chain, its layers on the domain's parameter, the walk's state after ``depth`` layers
    and the prefix's exact decider (its counters: the prefix's decisions)."""
    low = lower(graph)
    layers = _line_layers(low, domain)
    exact = OpExactLine(layers, low.units, float(domain.lo[0]), float(domain.hi[0]))
    st = _walk_start(float(domain.lo[0]), float(domain.hi[0]))
    return _extend((low, layers, st, exact), graph, domain, 0, depth)


def _extend(prefix, graph, domain, old: int, depth: int):
    """The prefix after ``old`` layers walked on to ``depth`` (its state changed)."""
    low, layers, st, exact = prefix
    _walk_layers(layers, low.units, exact, st, old, depth)
    return low, layers, st, exact


def _run_ends(st: dict, a: int, b: int) -> list[float]:
    return [float(st["left"][a]), float(st["right"][b - 1])]


def _side(S: np.ndarray, eS: np.ndarray, exact_slopes: tuple) -> list:
    return [[float(x) for x in S], [float(x) for x in eS], [str(q) for q in exact_slopes]]


def _same_side(left: list, right: list) -> bool:
    """The single-process test between two neighbouring intervals: certainly different slopes in
    float64, else equal exact slopes."""
    S0, e0 = np.asarray(left[0]), np.asarray(left[1])
    S1, e1 = np.asarray(right[0]), np.asarray(right[1])
    if np.any(np.abs(S1 - S0) * (1 - 2 * _U) > (e0 + e1) * _UP):
        return False
    return [Fraction(q) for q in left[2]] == [Fraction(q) for q in right[2]]


class OpLineSplit(PrefixSplit):
    """Split/merge of the 1-D op walk (see the module docstring); ``net`` is an op :class:`Graph`."""

    engine = "line"
    summed_extras = ("below_resolution", "exact_decisions")

    def n_hidden(self, net) -> int:
        return len(lower(net).units)

    def prefix_size(self, net, domain, depth):
        return int(self.cache.get(net, domain, depth, _derive, _extend)[2]["left"].shape[0])

    def run_payload(self, net, domain, depth, a, b, n):
        return {"ends": _run_ends(self.cache.get(net, domain, depth, _derive, _extend)[2], a, b)}

    def count_run(self, net, domain, depth, a, b, payload):
        low, layers, st, prefix_exact = self.cache.get(net, domain, depth, _derive, _extend)
        prefix_decisions = {"exact_decisions": prefix_exact.decisions,
                            "below_resolution": prefix_exact.below_resolution}
        n = 1 if depth == 0 else int(st["left"].shape[0])
        if not (0 <= a < b <= n):
            refuse_rederived(f"{payload.get('n')} prefix regions with run {a}-{b}", f"{n}")
        ends = payload.get("ends")
        if ends is not None and _run_ends(st, a, b) != [float(e) for e in ends]:
            refuse_rederived(f"the run {a}-{b} to span {ends}", f"{_run_ends(st, a, b)}")
        run = {k: st[k][a:b].copy() for k in _PER_REGION}
        run["counts"], run["lays"] = list(st["counts"]), list(st["lays"])
        exact = OpExactLine(layers, low.units, float(domain.lo[0]), float(domain.hi[0]))
        _walk_layers(layers, low.units, exact, run, depth, len(low.units))
        Sout, eSout = _output_slopes(layers, run["A"], run["eA"])
        same = _same_neighbours(run["lays"], layers, exact, Sout, eSout, run["pats"])
        extra = {"exact_decisions": exact.decisions, "below_resolution": exact.below_resolution}
        if a == 0 and depth:  # the prefix's own decisions, counted once: in the first run
            extra = {k: v + prefix_decisions[k] for k, v in extra.items()}
        R = int(run["left"].shape[0])
        counts = list(run["counts"])
        res = CountResult(regions=R, pieces=R - int(np.count_nonzero(same)), layer_counts=counts,
                          engine="line", extra=extra)
        sides = {"first": _side(Sout[0], eSout[0], exact.output_slopes(run["pats"][0])),
                 "last": _side(Sout[-1], eSout[-1], exact.output_slopes(run["pats"][-1]))}
        return res, n, {"ends": sides}

    def merge_pieces(self, runs: list[Run], regions: int):
        """Pieces add, less one per border whose two sides have one output map."""
        pieces = sum(t.result.pieces for t in runs)
        for t0, t1 in zip(runs[:-1], runs[1:]):
            pieces -= _same_side(t0.info["ends"]["last"], t1.info["ends"]["first"])
        return pieces, {}
