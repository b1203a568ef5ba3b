"""The count record shared by every engine."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CountResult"]


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
