"""Thin features in ordinary domains (issue 15): counted exactly or refused, never merged silently.

A strip between two parallel first-layer hyperplanes of relative width ``w``
(``1e-6 .. 1e-15``), crossed by one hyperplane per other axis, has
``3 * 2^(d-1)`` regions on the box ``[-2, 2]^d`` and on all of ``R^d`` (a
construction with a known count; the 1-D engine across the strip, with its
exact breakpoint checks, and the Fraction reference of ``tests/exact_reference.py``
give the factor 3).  Every engine must give that count or refuse with
:class:`~regions.errors.NumericalError`; strips that float64's tolerances
resolve comfortably (``w >= 1e-10``) must be counted.  Exact copies of units
(duplicates, power-of-two multiples, negations, zero biases) are exact
degeneracies and are still counted; rescaled copies whose float64 rounding
differs (x3, x0.1) are counted no lower than without them, or refused.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from regions import Network
from regions.domains import box, segment, whole
from regions.engines.line.kernel import count_line
from regions.engines.planar.kernel import count_plane, partition_plane
from regions.engines.polytope.api import count_polytope, partition_polytope
from regions.errors import NumericalError

from exact_reference import exact_partition, to_fractions

A = 0.5  # the strip is a <= x0 <= a + w


def _strip(d: int, w: float) -> Network:
    W1 = np.zeros((d + 1, d))
    b1 = np.zeros(d + 1)
    W1[0, 0], b1[0] = 1.0, -A
    W1[1, 0], b1[1] = 1.0, -(A + w)
    for i in range(1, d):
        W1[1 + i, i], b1[1 + i] = 1.0, -0.3
    return Network([(W1, b1), (np.ones((1, d + 1)), np.zeros(1))])


def _count(fn, net, dom):
    res = fn(net, dom)
    return res.regions if hasattr(res, "regions") else res.n_regions


ENGINES = {
    "count_polytope": (count_polytope, (2, 3), True),
    "partition_polytope": (partition_polytope, (2, 3), True),
    "count_plane": (count_plane, (2,), False),
    "partition_plane": (partition_plane, (2,), False),
}
WIDTHS = [10.0**-e for e in range(6, 16)]


CASES = [(e, d, u) for e, (_, dims, whole_ok) in sorted(ENGINES.items()) for d in dims
         for u in ([False, True] if whole_ok else [False])]


@pytest.mark.parametrize("engine,d,unbounded", CASES)
@pytest.mark.parametrize("w", WIDTHS)
def test_strip_counted_or_refused(engine, d, w, unbounded):
    fn = ENGINES[engine][0]
    net = _strip(d, w)
    dom = whole(d) if unbounded else box(-2.0, 2.0, dim=d)
    expected = 3 * 2 ** (d - 1)
    try:
        n = _count(fn, net, dom)
    except NumericalError:
        if w >= 1e-10:
            raise  # resolved comfortably by float64: must be counted
        return
    assert n == expected, f"strip of width {w:g}: {n} regions, expected {expected}"


@pytest.mark.parametrize("w", WIDTHS)
def test_strip_across_is_three_regions_exactly(w):
    """The factor 3: the 1-D engine across the strip and the Fraction reference agree."""
    net = _strip(2, w)
    seg = segment([0.0, 0.1], [1.0, 0.1])
    layers = to_fractions([(W @ np.array([[1.0], [0.0]]), W @ np.array([0.0, 0.1]) + b) if i == 0 else (W, b)
                           for i, (W, b) in enumerate(net.layers)])
    breaks, patterns, _ = exact_partition(layers, Fraction(0), Fraction(1))
    assert len(patterns) == 3
    try:
        assert count_line(net, seg).regions == 3
    except NumericalError:
        assert w < 1e-10


def _copies(d: int, factors, zero_bias: bool) -> tuple[Network, Network]:
    """A generic first layer of d + 1 units and the same with a copy of each unit times each factor."""
    rng = np.random.default_rng(3)
    W = rng.normal(size=(d + 1, d))
    b = np.zeros(d + 1) if zero_bias else rng.normal(size=d + 1) * 0.3
    Ws, bs = [W], [b]
    for f in factors:
        Ws.append(f * W)
        bs.append(f * b)
    W2, b2 = np.vstack(Ws), np.concatenate(bs)
    base = Network([(W, b), (np.ones((1, d + 1)), np.zeros(1))])
    full = Network([(W2, b2), (np.ones((1, W2.shape[0])), np.zeros(1))])
    return base, full


EXACT_FACTORS = [(1.0,), (2.0,), (-1.0,), (0.5, -4.0), (1.0, 2.0, -0.25)]


@pytest.mark.parametrize("factors", EXACT_FACTORS)
@pytest.mark.parametrize("zero_bias", [False, True])
@pytest.mark.parametrize("d", [2, 3])
def test_exact_copies_still_counted(factors, zero_bias, d):
    base, full = _copies(d, factors, zero_bias)
    # the copies add no hyperplane: generic arrangement of d + 1 hyperplanes (all through 0 when zero_bias)
    n_whole = (2 * sum(_binom(d, j) for j in range(d)) if zero_bias
               else sum(_binom(d + 1, j) for j in range(d + 1)))
    assert count_polytope(full, whole(d)).regions == n_whole
    assert count_polytope(base, whole(d)).regions == n_whole
    dom = box(-2.0, 2.0, dim=d)
    n_box = count_polytope(base, dom).regions
    assert count_polytope(full, dom).regions == n_box
    assert partition_polytope(full, dom).n_regions == n_box
    if d == 2:
        assert count_plane(full, dom).regions == n_box
        assert partition_plane(full, dom).n_regions == n_box


@pytest.mark.parametrize("factor", [3.0, 0.1, 1.0 / 3.0, 7.0])
@pytest.mark.parametrize("d", [2, 3])
def test_rescaled_copies_never_fewer(factor, d):
    """Copies that differ from their unit by float64 rounding: never fewer regions, or refused."""
    base, full = _copies(d, (factor,), False)
    for dom in (box(-2.0, 2.0, dim=d), whole(d)):
        engines = [count_polytope] + ([count_plane] if d == 2 and dom.bounded else [])
        n0 = count_polytope(base, dom).regions
        for fn in engines:
            try:
                n = fn(full, dom).regions
            except NumericalError as err:
                assert "copies" in str(err)
                continue
            assert n >= n0


def _binom(n: int, k: int) -> int:
    from math import comb
    return comb(n, k)


@pytest.mark.parametrize("n", [2, 3, 5])
def test_concurrent_lines_exact_or_refused(n):
    """2n lines through one point: 4n sectors when the point is exact; rounded biases never give fewer."""
    ang = np.linspace(0, np.pi, 2 * n, endpoint=False)
    Wf = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    Wg = np.round(Wf * 2.0**20) / 2.0**20  # on a grid: W @ p exact for the dyadic p below
    for W, p, exact in ((Wg, np.array([-0.375, 0.25]), True), (Wf, np.array([-0.3, 0.2]), False)):
        net = Network([(W, -(W @ p)), (np.ones((1, 2 * n)), np.zeros(1))])
        for fn in (count_polytope, count_plane):
            for dom in (box(-1.0, 1.0, dim=2), whole(2)):
                if fn is count_plane and not dom.bounded:
                    continue
                try:
                    got = fn(net, dom).regions
                except NumericalError:
                    assert not exact, "exactly concurrent lines must be counted"
                    continue
                assert got == 4 * n if exact else got >= 4 * n
