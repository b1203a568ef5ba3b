"""The engine contract: what every partition engine provides.

An engine is an object with a ``name``, a ``supports`` test, a cost
``estimate``, ``partition`` and ``count``, and ``split``/``merge`` of
independent subproblems.  Engines are found through the registry
(:mod:`regions.engines.registry`), never by module name.

Options are validated once, here (:func:`check_options`), before any
engine runs: ``max_regions`` is a positive int or None, ``progress`` a
bool.

Every partition an engine returns follows :class:`Partition`: the same
names in every dimension.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..analysis.theory import serra_upper_bound
from ..core.result import CountResult
from ..domains import Domain
from ..errors import RegionsError
from ..model.network import Network

__all__ = ["Engine", "Estimate", "Partition", "Subproblem", "check_options"]


def check_options(*, max_regions: Any = None, progress: Any = False) -> tuple[int | None, bool]:
    """``(max_regions, progress)`` validated: a positive int or None, and a bool.

    Raises
    ------
    RegionsError
        For any other value (``0``, ``-3``, ``2.5``, ``True``, ``"10"``).
    """
    if max_regions is not None:
        if isinstance(max_regions, (bool, np.bool_)) or not isinstance(max_regions, numbers.Integral) \
                or int(max_regions) < 1:
            raise RegionsError(f"expected max_regions to be a positive integer or None, got {max_regions!r}")
        max_regions = int(max_regions)
    if not isinstance(progress, (bool, np.bool_)):
        raise RegionsError(f"expected progress to be True or False, got {progress!r}")
    return max_regions, bool(progress)


@dataclass(frozen=True)
class Estimate:
    """What an engine expects a job to cost, before running it.

    Attributes
    ----------
    regions_lower, regions_upper : int or None
        Bounds on the number of regions (a sampled lower bound; a
        theorem's upper bound), when known.
    seconds, bytes : float or None
        Rough time and peak memory, when the engine can say.
    notes : str
        How the estimate was made.
    """

    regions_lower: int | None = None
    regions_upper: int | None = None
    seconds: float | None = None
    bytes: float | None = None
    notes: str = ""


@dataclass(frozen=True)
class Subproblem:
    """One independent piece of a count: its key and what the engine needs to run it.

    The keys of a split are unique and deterministic; the final regions of
    the subproblems of one split are disjoint and cover the job's, so
    their counts add up exactly.
    """

    key: str
    payload: Any = field(repr=False, default=None)
    work: float = 1.0


@runtime_checkable
class Partition(Protocol):
    """What every engine's partition provides, with the same names everywhere.

    Attributes
    ----------
    network, domain, engine
    n_regions, n_pieces : int
    patterns : ndarray of bool, shape (R, n_hidden)
        Activation pattern of each region, layers concatenated.
    layer_counts : tuple of int
        Regions after the first l hidden layers.
    witnesses : ndarray, shape (R, k)
        One interior point per region in the domain's coordinates.
    measures : ndarray, shape (R,)
        Length, area or volume of each region (inf where unbounded).
    partial : bool
        True when ``max_regions`` stopped the partition early.
    """

    network: Network
    domain: Domain
    engine: str

    @property
    def n_regions(self) -> int: ...

    @property
    def n_pieces(self) -> int | None: ...

    @property
    def patterns(self) -> np.ndarray: ...

    @property
    def layer_counts(self) -> tuple: ...

    @property
    def witnesses(self) -> np.ndarray: ...

    @property
    def measures(self) -> np.ndarray: ...

    @property
    def partial(self) -> bool: ...

    def output_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """``(J, c)``: output ``= J[i] @ u + c[i]`` on region ``i``, shapes (R, n_out, k), (R, n_out)."""

    def count(self) -> CountResult: ...

    def verify(self) -> dict: ...


class Engine:
    """Base class of the partition engines.

    Subclasses set :attr:`name` and :attr:`description` and implement
    :meth:`supports`, :meth:`_partition` and :meth:`_count`; options reach
    them validated.  :meth:`estimate` has a generic default that engines
    refine; :meth:`split`, :meth:`count_subproblem` and :meth:`merge` use
    :attr:`splitter` when the engine sets one, else one subproblem.
    """

    #: Registry key, also ``CountResult.engine``.
    name: str = ""
    #: One line for ``--help`` and error messages.
    description: str = ""

    def supports(self, net: Network, domain: Domain) -> str | None:
        """None when this engine takes ``(net, domain)``, else the reason it does not."""
        raise NotImplementedError

    def estimate(self, net: Network, domain: Domain) -> Estimate:
        """A cost estimate before running; by default the theorem's upper bound only."""
        try:
            upper = int(serra_upper_bound(domain.dim, list(net.widths)))
        except RegionsError:
            upper = None
        return Estimate(regions_upper=upper, notes="upper bound of Serra et al. 2018")

    def partition(self, net: Network, domain: Domain, *, max_regions: int | None = None,
                  progress: bool = False):
        """The partition of ``domain`` into the activation regions of ``net``."""
        max_regions, progress = check_options(max_regions=max_regions, progress=progress)
        self._check_supported(net, domain)
        return self._partition(net, domain, max_regions=max_regions, progress=progress)

    def count(self, net: Network, domain: Domain, *, max_regions: int | None = None,
              progress: bool = False) -> CountResult:
        """Counts only (each engine's bounded-memory path)."""
        max_regions, progress = check_options(max_regions=max_regions, progress=progress)
        self._check_supported(net, domain)
        return self._count(net, domain, max_regions=max_regions, progress=progress)

    #: How the engine splits a count: an object with ``split(net, domain, parts=)``,
    #: ``count(net, domain, sub)`` and ``merge(results)`` (engines that split by runs of prefix
    #: regions use a :class:`regions.execution.prefix.PrefixSplit`); None: one subproblem.
    splitter: Any = None

    def split(self, net: Network, domain: Domain, *, parts: int, sized: bool = False) -> list[Subproblem]:
        """Independent subproblems whose counts add up to the job's; by default one.

        ``sized``: ``parts`` is a default, not a request; the engine may make
        fewer where each subproblem's fixed cost would outweigh its work.
        """
        if self.splitter is not None:
            return self.splitter.split(net, domain, parts=parts, sized=sized)
        return [Subproblem(key="all", payload=None, work=1.0)]

    def count_subproblem(self, net: Network, domain: Domain, sub: Subproblem) -> CountResult:
        """The count of one subproblem of :meth:`split`."""
        if self.splitter is not None:
            return self.splitter.count(net, domain, sub)
        if sub.key != "all":
            raise RegionsError(f"expected a subproblem of the {self.name} engine's split, got key {sub.key!r}")
        return self.count(net, domain)

    def merge(self, results: list[CountResult]) -> CountResult:
        """One count from the counts of a split's subproblems (activation regions add up)."""
        if self.splitter is not None:
            return self.splitter.merge(results)
        if len(results) == 1:
            return results[0]
        raise NotImplementedError(f"the {self.name} engine does not merge split counts")

    # ---------------------------------------------------------------- hooks
    def _check_supported(self, net: Network, domain: Domain) -> None:
        why = self.supports(net, domain)
        if why is not None:
            raise RegionsError(f"expected a job the {self.name} engine takes, got one it does not: {why}")

    def _partition(self, net, domain, *, max_regions, progress):
        raise NotImplementedError

    def _count(self, net, domain, *, max_regions, progress) -> CountResult:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
