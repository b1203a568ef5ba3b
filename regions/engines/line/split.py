"""Split and merge of 1-D counts: independent runs of consecutive intervals.

Every final region lies in exactly one region of any earlier layer (the
refinement is a tree), so the regions after the first ``p`` hidden layers
(the *prefix*) split the job into independent subproblems whose counts add
up exactly.  A subproblem is a run ``[a, b)`` of consecutive prefix regions;
its key names the prefix depth and the run, so the key alone determines the
work: the worker re-derives the prefix (cheap: at most a few thousand
regions) and walks the run's regions depth-first, as :func:`count_line`
does.  The payload also carries the run's two end points as computed when
splitting; a worker that re-derives different ones (another machine whose
floating point differs) refuses instead of counting something else.

Affine pieces cross subproblem borders: each subproblem reports the output
slopes of its first and last regions and their magnitudes, and
:func:`merge_line` merges neighbouring subproblems whose maps agree with the
test of :func:`count_line`, so split and single-process counts agree.
"""

from __future__ import annotations

import numpy as np

from ...core.result import CountResult
from ...core.tolerances import ZERO_RTOL
from ...domains import Domain
from ...errors import NumericalError, RegionsError
from ...model.network import Network
from ..base import Subproblem
from .kernel import _check_finite, _default_domain, _exact, _same_map, _split_layer, _start

__all__ = ["count_line_subproblem", "merge_line", "split_line"]

#: Prefix regions per subproblem wanted at least (finer runs balance better).
OVERSPLIT = 4
#: Largest prefix re-derived by every worker.
MAX_PREFIX = 1 << 16
#: Regions per chunk of the depth-first walk (a quarter of the single-process chunk: workers share a machine).
CHUNK = 1 << 15


#: The last prefix derived in this process (workers run many subproblems of one split).
_LAST: dict = {}


def _prefix(net: Network, domain: Domain, depth: int):
    """The regions after the first ``depth`` hidden layers, as arrays, and the per-layer counts.

    Remembered for the next subproblem of the same split in this process
    (keyed by the sha256 of the network and of the domain); callers copy
    what they change.
    """
    from ...execution.split import domain_sha256, network_sha256  # noqa: PLC0415 -- no import cycle

    key = (network_sha256(net), domain_sha256(domain), depth)
    if key not in _LAST:
        _LAST.clear()
        _LAST[key] = _derive_prefix(net, domain, depth)
    return _LAST[key]


def _derive_prefix(net: Network, domain: Domain, depth: int):
    pulled, left, ltol, end, rep, C, A, cmax, amax = _start(net, domain)
    hidden = pulled.layers[:-1]
    counts = []
    for l in range(depth):
        W, b = hidden[l]
        left, ltol, rep, C, A, cmax, amax, _, _ = _split_layer(
            left, ltol, end, rep, C, A, cmax, amax, W, b, pulled.negative_slope, values=l != len(hidden) - 1,
            exact=_exact(pulled, domain), layer=l)
        counts.append(int(left.shape[0]))
    return pulled, (left, ltol, end, rep, C, A, cmax, amax), counts


def split_line(net: Network, domain: Domain | None, *, parts: int) -> list[Subproblem]:
    """About ``parts`` subproblems of consecutive prefix regions (fewer when there are fewer regions).

    The prefix is the smallest number of hidden layers with at least
    ``OVERSPLIT * parts`` regions (all but the last hidden layer at most, and no deeper
    once it has ``MAX_PREFIX`` regions); runs hold equal numbers of prefix
    regions, ``work`` is that number.
    """
    domain = _default_domain(net, domain)
    n_hidden = len(net.layers) - 1
    if n_hidden <= 1 or parts <= 1:  # one hidden layer: the prefix would be the whole job
        return [Subproblem("line:p0:0-1", {"depth": 0, "a": 0, "b": 1, "n": 1, "ends": None}, 1.0)]
    depth, arrays = 0, None
    for depth in range(1, n_hidden):  # the last hidden layer is never prefix: workers re-derive it
        _, arrays, _ = _derive_prefix(net, domain, depth)
        n = arrays[0].shape[0]
        if n >= OVERSPLIT * parts or n >= MAX_PREFIX:
            break
    left, end = arrays[0], arrays[2]
    n = left.shape[0]
    k = min(parts, n)
    cuts = [round(i * n / k) for i in range(k + 1)]
    subs = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        ends = [float(left[a]), float(left[b]) if b < n else float(end)]
        subs.append(Subproblem(f"line:p{depth}:{a}-{b}", {"depth": depth, "a": a, "b": b, "n": n, "ends": ends},
                               float(b - a)))
    return subs


def _parse(key: str) -> tuple[int, int, int]:
    try:
        kind, p, ab = key.split(":")
        a, b = ab.split("-")
        if kind != "line" or not p.startswith("p"):
            raise ValueError
        return int(p[1:]), int(a), int(b)
    except ValueError:
        raise RegionsError(f"expected a subproblem key of the line engine such as 'line:p2:0-10', got {key!r}") from None


def count_line_subproblem(net: Network, domain: Domain | None, sub: Subproblem) -> CountResult:
    """The count of the final regions inside prefix regions ``a..b-1`` (see the module docstring)."""
    domain = _default_domain(net, domain)
    depth, a, b = _parse(sub.key)
    payload = sub.payload or {}
    pulled, (left, ltol, end, rep, C, A, cmax, amax), prefix_counts = _prefix(net, domain, depth)
    prefix_counts = list(prefix_counts)
    n = left.shape[0]
    if depth == 0:
        n = 1
    if payload.get("n", n) != n or not (0 <= a < b <= n):
        raise NumericalError(
            f"expected {payload.get('n')} prefix regions with run {a}-{b}, got {n} when re-derived "
            f"(floating point differs between the splitting and the counting machine)"
        )
    ends = payload.get("ends")
    if ends is not None:
        got = [float(left[a]), float(left[b]) if b < n else float(end)]
        if got != [float(e) for e in ends]:
            raise NumericalError(
                f"expected the run {a}-{b} to span {ends}, got {got} when re-derived "
                f"(floating point differs between the splitting and the counting machine)"
            )
    e = left[b] if b < n else end
    if C is None:  # the prefix holds every hidden layer: values are not needed
        C = np.empty((n, 0))
    left, ltol, rep, C, A, cmax, amax = (x[a:b].copy() for x in (left, ltol, rep, C, A, cmax, amax))
    hidden = pulled.layers[:-1]
    Wout, _ = pulled.layers[-1]
    absWt_out = np.abs(Wout.T)
    l1_out = float(np.abs(Wout).sum(axis=1).max())
    counts = [0] * (len(hidden) - depth)
    exact = _exact(pulled, domain)
    state = {"regions": 0, "merges": 0, "last": None, "first": None}

    def walk(layer, left, ltol, end, rep, C, A, cmax, amax):
        if layer == len(hidden):
            with np.errstate(over="ignore", invalid="ignore"):
                S = A @ Wout.T  # (R, n_out) output slopes
            _check_finite(S)
            ub = amax * l1_out
            merges = int(np.count_nonzero(_same_map(S[:-1], S[1:], A[:-1], A[1:], ub[:-1], ub[1:], absWt_out)))
            if state["last"] is not None:
                S0, A0, ub0 = state["last"]
                merges += int(_same_map(S0, S[:1], A0, A[:1], ub0, ub[:1], absWt_out)[0])
            else:
                state["first"] = (S[0], np.abs(A[0]) @ absWt_out)
            state["last"] = (S[-1:], A[-1:], ub[-1:])
            state["regions"] += S.shape[0]
            state["merges"] += merges
            return
        W, b = hidden[layer]
        last = layer == len(hidden) - 1
        nl, nlt, nrep, nC, nA, ncmax, namax, _, _ = _split_layer(
            left, ltol, end, rep, C, A, cmax, amax, W, b, pulled.negative_slope, values=not last,
            exact=exact, layer=layer)
        counts[layer - depth] += nl.shape[0]
        if last:
            nC = np.empty((nl.shape[0], 0))
        m = nl.shape[0]
        for s in range(0, m, CHUNK):
            t = min(m, s + CHUNK)
            walk(layer + 1, nl[s:t], nlt[s:t], (nl[t] if t < m else end), nrep[s:t], nC[s:t], nA[s:t],
                 ncmax[s:t], namax[s:t])

    walk(depth, left, ltol, e, rep, C, A, cmax, amax)
    S_last, A_last, _ = state["last"]
    S_first, mag_first = state["first"]
    ends = {
        "first": [[float(x) for x in S_first], [float(x) for x in mag_first]],
        "last": [[float(x) for x in S_last[0]], [float(x) for x in np.abs(A_last[0]) @ absWt_out]],
    }
    return CountResult(
        regions=state["regions"],
        pieces=state["regions"] - state["merges"],
        layer_counts=prefix_counts + counts,
        engine="line",
        extra={"_split": {"key": sub.key, "a": a, "b": b, "n": n, "depth": depth, "ends": ends},
               "exact_decisions": exact.decisions, "extended_decisions": exact.extended,
               "below_resolution": exact.below_resolution},
    )


def _same(left: list, right: list) -> bool:
    """The map test of :func:`count_line` between the last region of one run and the first of the next."""
    S0, m0 = np.asarray(left[0]), np.asarray(left[1])
    S1, m1 = np.asarray(right[0]), np.asarray(right[1])
    return bool(np.all(np.abs(S0 - S1) <= ZERO_RTOL * (m0 + m1)))


def merge_line(results: list[CountResult]) -> CountResult:
    """One count from the subproblems of one :func:`split_line` (any order).

    Regions add; layers at or below the prefix come from the prefix;
    pieces add, less one per border whose two sides have one output map.
    """
    info = []
    for r in results:
        sp = r.extra.get("_split") if isinstance(r.extra, dict) else None
        if r.engine != "line" or sp is None:
            raise RegionsError(f"expected results of line-engine subproblems, got {r!r}")
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
    regions = sum(r.regions for *_, r in info)
    pieces = sum(r.pieces for *_, r in info)
    for (_, _, sp0, _), (_, _, sp1, _) in zip(info[:-1], info[1:]):
        pieces -= _same(sp0["ends"]["last"], sp1["ends"]["first"])
    first = info[0][3].layer_counts
    layer_counts = list(first[:depth]) + [sum(r.layer_counts[depth + i] for *_, r in info)
                                          for i in range(len(first) - depth)]
    return CountResult(regions, pieces, layer_counts, "line",
                       extra={"subproblems": len(info)})
