"""Bounds against hand-computed values and brute-force evaluations of their formulas."""

import itertools
from math import comb, prod

import pytest

from regions import RegionsError, theory


def test_headline_integers():
    assert theory.n_params(1, [10] * 5) == 471
    assert theory.serra_lower_bound(1, [10] * 5) == 161_051 == 11**5
    assert theory.n_params(10, [50] * 5) == 10_801
    big = theory.serra_lower_bound(10, [50] * 5)
    assert big == 179_562_019_186_562_049_740_867_382_427_559_978_336_256
    assert big == 6**40 * sum(comb(50, j) for j in range(11))  # Prince eq. 4.17 by hand
    assert big > 10**40


@pytest.mark.parametrize("n,d,expected", [(3, 2, 7), (4, 2, 11), (5, 1, 6), (10, 3, 176), (2, 5, 4), (0, 3, 1)])
def test_zaslavsky_hand_values(n, d, expected):
    assert theory.zaslavsky(n, d) == expected


def _serra_upper_brute(d0, ws):
    total = 0
    for js in itertools.product(*[range(n + 1) for n in ws]):
        ok = True
        for l, j in enumerate(js):
            cap = min([d0] + [ws[i] - js[i] for i in range(l)] + [ws[l]])
            if j > cap:
                ok = False
                break
        if ok:
            total += prod(comb(n, j) for n, j in zip(ws, js))
    return total


@pytest.mark.parametrize("d0,ws", [(1, [3, 3]), (2, [3, 4]), (2, [5, 2, 4]), (3, [4, 4, 4]), (2, [1, 6]), (4, [3, 5, 2])])
def test_serra_upper_bound_equals_its_sum_over_J(d0, ws):
    assert theory.serra_upper_bound(d0, ws) == _serra_upper_brute(d0, ws)


@pytest.mark.parametrize("ws", [[3], [3, 4], [10] * 5, [7, 2, 9]])
def test_one_input_upper_bound_is_product(ws):
    if min(ws) >= 2:
        assert theory.serra_upper_bound(1, ws) == prod(n + 1 for n in ws) == theory.one_dim_maximum(ws)


def test_per_layer_widths_and_named_bounds():
    b = theory.bounds(2, [6, 9, 3])
    assert b["params"] == (2 * 6 + 6) + (6 * 9 + 9) + (9 * 3 + 3) + (3 + 1)
    assert b["serra_lower"] == 4**2 * 5**2 * theory.zaslavsky(3, 2)
    assert b["montufar2014_lower"] == 3**2 * 4**2 * theory.zaslavsky(3, 2)
    assert b["montufar2017_upper"] == theory.zaslavsky(6, 2) * theory.zaslavsky(9, 2) * theory.zaslavsky(3, 2)
    assert b["serra_lower"] <= b["serra_upper"] <= b["montufar2017_upper"]
    assert theory.bounds(3, [5])["zaslavsky"] == 1 + 5 + 10 + 10


@pytest.mark.parametrize("bad", [[], [0], [3, -1], "x"])
def test_bad_widths(bad):
    with pytest.raises(RegionsError, match="expected"):
        theory.serra_upper_bound(2, bad)
    with pytest.raises(RegionsError, match="input dimension"):
        theory.zaslavsky(3, 0)


def test_lower_bound_refused_outside_its_regime():
    # d = 10, width 10: the formula would exceed the upper bound
    assert theory.serra_lower_bound(10, [10] * 5, check=False) > theory.serra_upper_bound(10, [10] * 5)
    with pytest.raises(RegionsError, match="3 \\* input_dim = 30"):
        theory.serra_lower_bound(10, [10] * 5)
    assert theory.bounds(10, [10] * 5)["serra_lower"] is None
    assert theory.serra_lower_bound(10, [30, 30, 2]) <= theory.serra_upper_bound(10, [30, 30, 2])
    assert theory.serra_lower_bound(3, [2]) == theory.zaslavsky(2, 3)  # one layer: no regime needed
