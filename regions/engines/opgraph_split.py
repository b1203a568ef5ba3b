"""Split counts of op networks: the engines' split/merge for :class:`regions.model.ops.Graph`.

An op network's layer-wise refinement is a tree over the prefixes of its
lowered layers (:func:`regions.model.ops.lower`): every final region lies
in exactly one region after any prefix, so runs of prefix regions are
independent subproblems whose counts add up exactly, as for plain
networks (:mod:`regions.execution.prefix`).  Two op engines split:

* ``"line"``: the 1-D op walk, runs of intervals (:mod:`.line.ops_split`);
* ``"planar"``: the 2-D op mesh, runs of polygons (:mod:`.planar.ops_split`).

Both merge regions, per-layer counts and affine pieces (across run
borders, with the single-process tests).  The LP op walk does not split
yet: a split run on a domain only it takes is refused.

Workers find the splitter by :attr:`OpSplitEngine.ref` (``"ops:line"``,
``"ops:planar"``): one instance per process, whose prefix cache serves
every subproblem of one count that the process runs.
"""

from __future__ import annotations

from ..core.result import CountResult
from ..domains import Domain
from ..errors import RegionsError
from .base import Subproblem

__all__ = ["OP_SPLIT_ENGINES", "OpSplitEngine", "op_split_engine"]

#: Op engines that split a count.
OP_SPLIT_ENGINES = ("line", "planar")
_INSTANCES: dict = {}


class OpSplitEngine:
    """What :func:`regions.execution.split.count_split` needs of an engine, for op graphs.

    ``split``, ``count_subproblem`` and ``merge`` as in
    :class:`~regions.engines.base.Engine`; ``net`` is an op :class:`Graph`.
    """

    def __init__(self, name: str):
        if name == "line":
            from .line.ops_split import OpLineSplit  # noqa: PLC0415 -- loaded on first use

            self.splitter = OpLineSplit()
        elif name == "planar":
            from .planar.ops_split import OpPlanarSplit  # noqa: PLC0415

            self.splitter = OpPlanarSplit()
        else:
            raise RegionsError(f"expected an op engine that splits ({', '.join(OP_SPLIT_ENGINES)}), got {name!r}")
        self.name = name
        #: How workers find this engine (``regions.execution.split._count_one``).
        self.ref = f"ops:{name}"

    def split(self, net, domain: Domain, *, parts: int, sized: bool = False) -> list[Subproblem]:
        return self.splitter.split(net, domain, parts=parts, sized=sized)

    def count_subproblem(self, net, domain: Domain, sub: Subproblem) -> CountResult:
        return self.splitter.count(net, domain, sub)

    def merge(self, results: list[CountResult]) -> CountResult:
        return self.splitter.merge(results)

    def __repr__(self) -> str:
        return f"<OpSplitEngine {self.name!r}>"


def op_split_engine(name: str) -> OpSplitEngine:
    """The split engine of the op engine ``name`` (``"line"``, ``"planar"``; or a ref ``"ops:line"``),
    one per process."""
    name = name[4:] if name.startswith("ops:") else name
    if name not in _INSTANCES:
        _INSTANCES[name] = OpSplitEngine(name)
    return _INSTANCES[name]
