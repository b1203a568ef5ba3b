"""The count record shared by every engine, and the record every count-like output starts with.

:func:`count_record` builds the keys that ``regions count --json``, the
records of :func:`regions.workflows.slice_through` and the rows of
:func:`regions.workflows.checkpoint_series` share (:data:`RECORD_KEYS`; the
schema is documented in ``docs/records.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CountResult", "RECORD_KEYS", "count_record"]


@dataclass
class CountResult:
    """Counts of a partition, without the regions themselves.

    Attributes
    ----------
    regions : int
        Activation regions: maximal connected sets with one activation pattern.
    pieces : int or None
        Affine pieces: neighbouring regions with the same output map merged.
    layer_counts : list of int
        Regions after the first l hidden layers, l = 1..depth.
    engine : str
        Which engine counted (``"line"``, ``"planar"``, ``"polytope"``).
    partial : bool
        True when the count stopped early (``max_regions``); then the numbers
        are lower bounds for the layer being processed.
    bounded, unbounded : int or None
        Split of ``regions`` for unbounded domains, where the engine reports it.
    """

    regions: int
    pieces: int | None
    layer_counts: list[int]
    engine: str
    partial: bool = False
    bounded: int | None = None
    unbounded: int | None = None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out = {
            "regions": int(self.regions),
            "pieces": None if self.pieces is None else int(self.pieces),
            "layer_counts": [int(c) for c in self.layer_counts],
            "engine": self.engine,
            "partial": bool(self.partial),
        }
        if self.bounded is not None:
            out["bounded"] = int(self.bounded)
            out["unbounded"] = int(self.unbounded)
        out.update(self.extra)
        return out


#: Keys every count-like record carries, in this order (``bounded``/``unbounded`` and then the
#: engine's extra keys follow ``partial`` where present).
RECORD_KEYS = ("regions", "pieces", "layer_counts", "engine", "partial", "arch", "params", "input_dim", "domain",
               "seconds", "verified")


def count_record(result: CountResult, net, domain, *, seconds: float, verified: bool) -> dict:
    """The common part of a count-like record: the counts of ``result``, then the job and its cost.

    Parameters
    ----------
    result : CountResult
    net : Network or Graph
        Gives ``arch``, ``params`` (its parameter count) and ``input_dim``.
    domain : Domain
        Recorded as :meth:`~regions.domains.Domain.describe` (``kind``, ``dim``, bounds, ...).
    seconds : float, keyword-only
        Wall time of the count, rounded to microseconds.
    verified : bool, keyword-only
        Whether the partition passed its ``verify()`` checks.

    Returns
    -------
    dict
        :data:`RECORD_KEYS` (plus ``bounded``/``unbounded`` and the engine's extra keys).
    """
    counts = result.as_dict()
    base = {k: counts.pop(k) for k in ("regions", "pieces", "layer_counts", "engine", "partial")}
    for k in ("bounded", "unbounded"):
        if k in counts:
            base[k] = counts.pop(k)
    return {
        **base,
        **counts,  # the engine's extra keys (lps, method, message, ...)
        "arch": net.arch,
        "params": int(net.n_params),
        "input_dim": int(net.input_dim),
        "domain": domain.describe(),
        "seconds": round(float(seconds), 6),
        "verified": bool(verified),
    }
