"""Progress of long counts, with an honest total.

A :class:`Progress` shows one line per stage (a hidden layer, say).  A
stage's total is either known up front -- then it shows a fraction and
an estimated time left -- or it is not, and the stage shows an *open
count* with a rate (``layer 3/4: 120,512 regions [2,310 regions/s]``),
never a percentage of a total that keeps growing.  Lines go through
:mod:`tqdm` when installed, else nothing is shown.  A disabled reporter
costs one attribute test per call.
"""

from __future__ import annotations

__all__ = ["Progress"]


class Progress:
    """Progress lines for the stages of one run.

    Parameters
    ----------
    enabled : bool
    stages : list of (str, int or None)
        Description of every stage and its total when known up front
        (None: an open count with a rate).
    unit : str, keyword-only
        What is counted (``"regions"``, ``"units"``).
    """

    def __init__(self, enabled: bool, stages: list, *, unit: str = "regions"):
        self.bars = []
        #: Total of every stage (None: open count) and what was counted so far,
        #: kept while shown (the tests read them: a count never passes its total).
        self.totals = [total for _, total in stages] if enabled else []
        self.counts = [0] * len(self.totals)
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm  # noqa: PLC0415 -- optional dependency, only when shown
        except ImportError:  # pragma: no cover - optional
            return
        for i, (desc, total) in enumerate(stages):
            self.bars.append(tqdm(total=total, desc=desc, unit=f" {unit}", position=i, leave=True,
                                  dynamic_ncols=True, unit_scale=total is None))

    def update(self, stage: int, n: int = 1) -> None:
        """``n`` more done in ``stage``."""
        if self.bars:
            self.counts[stage] += n
            self.bars[stage].update(n)

    def close(self) -> None:
        """Finish every line."""
        for bar in self.bars:
            bar.close()
        self.bars = []

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
