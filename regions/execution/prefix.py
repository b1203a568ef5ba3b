"""Split and merge by runs of prefix regions: what every engine's split shares.

Every final region lies in exactly one region of any earlier layer (the
layer-wise refinement is a tree), so the regions after the first ``p``
hidden layers (the *prefix*), in the engine's deterministic order, split a
count into independent subproblems whose counts add up exactly.  A
subproblem is a run ``[a, b)`` of consecutive prefix regions; its key
``<engine>:p<depth>:<a>-<b>`` alone determines the work: the worker
re-derives the prefix and finishes the run's regions.

:class:`PrefixSplit` holds everything that does not depend on the geometry:
choosing the prefix depth, cutting it into runs, parsing keys, remembering
the last prefix derived in a process (:class:`PrefixCache`), refusing a
re-derived prefix that differs from the one split (another machine whose
floating point differs: :func:`refuse_rederived`), and merging: runs sorted
and checked to cover the prefix once each, regions, per-layer counts and
bounded/unbounded regions added.  An engine subclasses it with its geometry
(:meth:`PrefixSplit.prefix_size`, :meth:`PrefixSplit.count_run`) and the
merge of what crosses run borders (:meth:`PrefixSplit.merge_pieces`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..core.result import CountResult
from ..domains import Domain
from ..engines.base import Subproblem
from ..errors import NumericalError, RegionsError
from ..model.network import Network
from .hashes import domain_sha256, network_sha256

__all__ = ["PrefixCache", "PrefixSplit", "Run", "refuse_rederived"]


def refuse_rederived(expected: str, got: str) -> None:
    """Raise :class:`NumericalError`: a worker re-derived a prefix other than the one split."""
    raise NumericalError(
        f"expected {expected}, got {got} when re-derived "
        f"(floating point differs between the splitting and the counting machine)"
    )


class PrefixCache:
    """The last prefix derived in this process (a worker runs many subproblems of one split).

    Keyed by the sha256 of the network and of the domain and the depth;
    holds one prefix at a time.  Callers copy what they change.
    """

    def __init__(self) -> None:
        self._last: dict = {}

    def get(self, net: Network, domain: Domain, depth: int, derive: Callable[[Network, Domain, int], Any],
            extend: Callable[[Any, Network, Domain, int, int], Any] | None = None):
        """``derive(net, domain, depth)``, remembered until another prefix is asked for.

        With ``extend``, a deeper prefix of the remembered one's network and
        domain is ``extend(prefix, net, domain, old_depth, depth)``: the
        layers already cut are not cut again (a split looking for its depth
        asks for depth 1, 2, ... in turn).  ``extend`` may consume
        ``prefix``, which is forgotten.
        """
        key = (network_sha256(net), domain_sha256(domain), depth)
        if key not in self._last:
            old = next(iter(self._last.items()), None)
            self._last.clear()
            if extend is not None and old is not None and old[0][:2] == key[:2] and 0 < old[0][2] < depth:
                self._last[key] = extend(old[1], net, domain, old[0][2], depth)
            else:
                self._last[key] = derive(net, domain, depth)
        return self._last[key]


@dataclass(frozen=True)
class Run:
    """One subproblem's result in a merge: its run ``[a, b)``, its ``_split`` record and its count."""

    a: int
    b: int
    info: dict
    result: CountResult


class PrefixSplit:
    """Split/merge of one engine by runs of prefix regions (see the module docstring).

    Subclasses set :attr:`engine` and implement :meth:`prefix_size` and
    :meth:`count_run`; they may refine :meth:`check_domain`,
    :meth:`run_payload` and :meth:`merge_pieces`.
    """

    #: Engine name: the keys' prefix and ``CountResult.engine``.
    engine: str = ""
    #: Prefix regions per subproblem wanted at least (finer runs balance better).
    oversplit: int = 4
    #: Largest prefix (regions) worth deepening further.
    max_prefix: int = 1 << 16
    #: Prefix regions per subproblem at least when the split is sized by work (``sized``): an engine
    #: whose subproblems each pay a fixed cost (the 2-D kernel's loop over every later unit) sets it.
    min_run: int = 1
    #: Entries of ``CountResult.extra`` that count events (integers): the merge adds them up.
    summed_extras: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.cache = PrefixCache()

    # ------------------------------------------------------------ engine hooks
    def n_hidden(self, net) -> int:
        """Hidden layers of ``net`` (op-graph splits count its lowered layers)."""
        return len(net.layers) - 1

    def check_domain(self, net: Network, domain: Domain | None) -> Domain:
        """The domain, validated (engines supply their default)."""
        return domain

    def prefix_size(self, net: Network, domain: Domain, depth: int) -> int:
        """Regions after the first ``depth`` hidden layers."""
        raise NotImplementedError

    def run_payload(self, net: Network, domain: Domain, depth: int, a: int, b: int, n: int) -> dict:
        """What a subproblem carries beyond its key (checked by the worker); none by default."""
        return {}

    def count_run(self, net: Network, domain: Domain, depth: int, a: int, b: int,
                  payload: dict) -> tuple[CountResult, int, dict]:
        """The count of the final regions in prefix regions ``a..b-1``.

        Returns the count, the number of prefix regions re-derived (checked
        against the split's) and what :meth:`merge_pieces` needs (JSON-able).
        """
        raise NotImplementedError

    def merge_pieces(self, runs: list[Run], regions: int) -> tuple[int | None, dict]:
        """Affine pieces of the merged count and extra entries; by default pieces add up."""
        pieces = [r.result.pieces for r in runs]
        return (None if any(p is None for p in pieces) else sum(pieces)), {}

    # ---------------------------------------------------------------- shared
    def split(self, net: Network, domain: Domain | None, *, parts: int, sized: bool = False) -> list[Subproblem]:
        """About ``parts`` subproblems of consecutive prefix regions (fewer when there are fewer).

        The prefix is the smallest number of hidden layers with at least
        ``oversplit * parts`` regions (all but the last hidden layer at most;
        no deeper once it has ``max_prefix``); runs hold equal numbers of
        prefix regions, ``work`` is that number.  With ``sized`` (``parts``
        is only a default) runs hold at least :attr:`min_run` prefix regions,
        and a job too small for two is one subproblem: one run of every
        prefix region, which goes on from the prefix derived to size it.
        """
        domain = self.check_domain(net, domain)
        n_hidden = self.n_hidden(net)
        if n_hidden <= 1 or parts <= 1:  # one hidden layer: the prefix would be the whole job
            return [Subproblem(f"{self.engine}:p0:0-1", {"depth": 0, "a": 0, "b": 1, "n": 1}, 1.0)]
        for depth in range(1, n_hidden):  # the last hidden layer is never prefix: workers re-derive it
            n = self.prefix_size(net, domain, depth)
            if n >= self.oversplit * parts or n >= self.max_prefix:
                break
        k = min(parts, n)
        if sized:
            k = max(1, min(k, n // self.min_run))  # one run of the whole prefix: this process goes on from
            # the prefix it derived here to size the split (cached), never deriving it twice
        cuts = [round(i * n / k) for i in range(k + 1)]
        return [Subproblem(f"{self.engine}:p{depth}:{a}-{b}",
                           {"depth": depth, "a": a, "b": b, "n": n, **self.run_payload(net, domain, depth, a, b, n)},
                           float(b - a))
                for a, b in zip(cuts[:-1], cuts[1:])]

    def parse(self, key: str) -> tuple[int, int, int]:
        """``(depth, a, b)`` of a subproblem key."""
        try:
            kind, p, ab = key.split(":")
            a, b = ab.split("-")
            if kind != self.engine or not p.startswith("p"):
                raise ValueError
            return int(p[1:]), int(a), int(b)
        except ValueError:
            raise RegionsError(
                f"expected a subproblem key of the {self.engine} engine such as '{self.engine}:p1:0-10', "
                f"got {key!r}"
            ) from None

    def count(self, net: Network, domain: Domain | None, sub: Subproblem) -> CountResult:
        """The count of one subproblem, with the ``_split`` record :meth:`merge` reads."""
        domain = self.check_domain(net, domain)
        depth, a, b = self.parse(sub.key)
        payload = sub.payload or {}
        res, n, info = self.count_run(net, domain, depth, a, b, payload)
        want = payload.get("n", n)
        if n != want or not (0 <= a < b <= n):
            refuse_rederived(f"{want} prefix regions with run {a}-{b}", f"{n}")
        extra = {k: v for k, v in res.extra.items()} if isinstance(res.extra, dict) else {}
        extra["_split"] = {"key": sub.key, "a": a, "b": b, "n": n, "depth": depth, **info}
        res.extra = extra
        return res

    def runs(self, results: list[CountResult]) -> list[Run]:
        """The results as runs, sorted, checked to come from one split and to cover it once each."""
        runs = []
        for r in results:
            sp = r.extra.get("_split") if isinstance(r.extra, dict) else None
            if r.engine != self.engine or sp is None:
                raise RegionsError(f"expected results of {self.engine}-engine subproblems, got {r!r}")
            runs.append(Run(sp["a"], sp["b"], sp, r))
        runs.sort(key=lambda t: t.a)
        n, depth = runs[0].info["n"], runs[0].info["depth"]
        covered = [0] + [t.b for t in runs]
        if any(t.info["n"] != n or t.info["depth"] != depth for t in runs) or \
                [t.a for t in runs] != covered[:-1] or covered[-1] != n:
            raise RegionsError(
                f"expected the results of one split covering prefix regions 0-{n} once each, got runs "
                f"{[(t.a, t.b) for t in runs]}"
            )
        return runs

    def merge(self, results: list[CountResult]) -> CountResult:
        """One count from the subproblems of one :meth:`split` (any order).

        Regions add; layers at or below the prefix come from the prefix;
        bounded and unbounded regions add; pieces by :meth:`merge_pieces`;
        the event counters named in :attr:`summed_extras` add (a counter
        absent from a subproblem's result counts 0 there; one absent from
        all stays absent).
        """
        runs = self.runs(results)
        rs = [t.result for t in runs]
        depth = runs[0].info["depth"]
        regions = sum(r.regions for r in rs)
        first = rs[0].layer_counts
        layer_counts = list(first[:depth]) + [sum(r.layer_counts[i] for r in rs) for i in range(depth, len(first))]
        bounded = None if rs[0].bounded is None else sum(r.bounded for r in rs)
        unbounded = None if rs[0].unbounded is None else sum(r.unbounded for r in rs)
        pieces, extra = self.merge_pieces(runs, regions)
        for key in self.summed_extras:
            vals = [r.extra.get(key) for r in rs if isinstance(r.extra, dict)]
            if any(v is not None for v in vals):
                extra[key] = sum(int(v) for v in vals if v is not None)
        return CountResult(regions, pieces, layer_counts, self.engine, bounded=bounded, unbounded=unbounded,
                           extra=extra)
