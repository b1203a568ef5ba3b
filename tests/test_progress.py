"""Progress bars are honest: a known total never grows or is passed, otherwise an open count with a rate.

A stand-in for ``tqdm`` records every bar the engines open (through
:class:`regions.core.progress.Progress` or directly) and every update; the
checks compare what the bars showed with the engines' own results
(regions per layer, hidden units, subproblems), which are counted apart from
the bars.
"""

from __future__ import annotations

import pytest

import regions


class FakeBar:
    """Records what a tqdm bar would show."""

    opened: list["FakeBar"] = []

    def __init__(self, iterable=None, *, total=None, initial=0, desc="", unit="it", unit_scale=False, **_):
        self.total, self.n, self.desc, self.unit, self.unit_scale = total, initial, desc, unit, unit_scale
        self.totals = [total]
        self.steps: list[int] = []
        self.closed = False
        FakeBar.opened.append(self)

    def update(self, n=1):
        self.steps.append(n)
        self.n += n
        self.totals.append(self.total)

    def refresh(self):
        self.totals.append(self.total)

    def set_postfix(self, *args, **kwargs):
        pass

    def set_postfix_str(self, *args, **kwargs):
        pass

    def close(self):
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture
def bars(monkeypatch):
    import tqdm.auto

    FakeBar.opened = []
    monkeypatch.setattr(tqdm.auto, "tqdm", FakeBar)
    return FakeBar.opened


def honest(bar: FakeBar) -> None:
    assert bar.closed, bar.desc
    assert all(n >= 0 for n in bar.steps), f"{bar.desc}: a step backwards {bar.steps}"
    assert len(set(bar.totals)) == 1, f"{bar.desc}: the total changed {bar.totals}"
    if bar.total is None:
        assert bar.unit_scale, f"{bar.desc}: an open count shows a rate with scaled units"
    else:
        assert 0 <= bar.n <= bar.total, f"{bar.desc}: {bar.n} of {bar.total}"


def test_line_engine_open_counts_per_layer(bars):
    net = regions.constructions.sawtooth(depth=3, width=4)
    res = regions.count(net, regions.whole(1), progress=True, engine="line")
    assert res.regions == 5 ** 3
    assert bars and all(b.total is None for b in bars)
    for bar in bars:
        honest(bar)


def test_planar_engine_layers_known_up_front(bars):
    net = regions.Network.from_arch("2-8-8-8-1", seed=2)
    res = regions.count(net, regions.box(-1, 1, dim=2), progress=True, engine="planar")
    (bar,) = bars
    honest(bar)
    assert bar.total == len(res.layer_counts) == 3 and bar.n == 3  # finished: every layer done


def test_planar_partial_stays_below_its_total(bars):
    net = regions.Network.from_arch("2-8-8-8-1", seed=2)
    res = regions.count(net, regions.box(-1, 1, dim=2), progress=True, engine="planar", max_regions=5)
    assert res.partial
    for bar in bars:
        honest(bar)


@pytest.mark.parametrize("domain", [regions.box(-1, 1, dim=3), regions.whole(3)], ids=["box", "whole"])
def test_polytope_engine_never_a_growing_total(bars, domain):
    net = regions.Network.from_arch("3-6-5-1", seed=1)
    res = regions.count(net, domain, progress=True, engine="polytope")
    assert bars
    for bar in bars:
        honest(bar)
    units = [b for b in bars if b.total is not None]
    for bar in units:  # the skeleton's fast path: hidden units, known up front
        assert bar.total == 11 and bar.n == 11
    layers = [b for b in bars if b.total is None]
    if layers:  # the walk: regions entering each layer, open counts
        assert len(layers) == 2 and layers[0].n >= 1
        assert "bound" in layers[-1].desc
    assert res.regions >= 1


def test_polytope_bound_label_of_a_huge_bound(bars, monkeypatch):
    """The last layer's label names Serra's bound however large: no float conversion (was an OverflowError)."""
    from regions.engines.polytope import kernel

    monkeypatch.setattr(kernel, "serra_upper_bound", lambda k, widths: 11 ** 400)
    net = regions.Network.from_arch("3-6-5-1", seed=1)
    regions.count(net, regions.whole(3), progress=True, engine="polytope")
    assert any("bound 3.61e416" in b.desc for b in bars)


def test_progress_object_keeps_its_totals():
    from regions.core.progress import Progress

    import tqdm.auto  # noqa: F401 -- the real one: the object state is what is read

    with Progress(True, [("a", 3), ("b", None)], unit="units") as p:
        p.update(0)
        p.update(0, 2)
        p.update(1, 10)
        assert p.totals == [3, None] and p.counts == [3, 10]
    with Progress(False, [("a", 3)]) as q:
        q.update(0, 99)
        assert q.totals == [] and q.counts == []


def test_split_count_subproblems_known_up_front(bars, tmp_path):
    """A count split into subproblems: a bar over the subproblems, resumed ones shown as done."""
    net = regions.constructions.sawtooth(depth=4, width=3)
    first = regions.count(net, regions.whole(1), jobs=0, state=tmp_path / "st", progress=True)
    again = regions.count(net, regions.whole(1), jobs=0, state=tmp_path / "st", progress=True)
    assert first.regions == again.regions == 4 ** 4
    split = [b for b in bars if b.unit == "subproblem"]
    assert len(split) == 2
    for bar in bars:
        honest(bar)
    assert split[0].n == split[0].total and split[1].n == split[1].total == split[0].total
    assert split[1].steps == [] or sum(split[1].steps) == 0  # all read back from the state: nothing to run
