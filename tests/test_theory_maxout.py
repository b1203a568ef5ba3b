"""Maxout bounds against closed forms and each other (independent values)."""

import json
from itertools import product
from math import comb

import numpy as np
import pytest
from click.testing import CliRunner

from regions import RegionsError, theory
from regions.cli.main import main


@pytest.mark.parametrize("d, n", [(1, 1), (1, 5), (2, 3), (3, 7), (4, 4)])
def test_rank_two_is_one_hyperplane_per_unit(d, n):
    # max(a, b) bends on one hyperplane: n rank-2 units are n hyperplanes (Zaslavsky)
    assert theory.serra_maxout_upper_bound(d, [n], 2) == sum(comb(n, j) for j in range(d + 1))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_one_unit_on_the_line(k):
    # one rank-k unit in R: its k(k-1)/2 tie points give at most k(k-1)/2 + 1 intervals
    assert theory.serra_maxout_upper_bound(1, [1], k) == k * (k - 1) // 2 + 1


@pytest.mark.parametrize("d, k", [(1, 2), (2, 3), (3, 2), (2, 4)])
def test_one_layer_grid_lower_bound(d, k):
    # d units, unit i a k-piece convex function of x_i: a k^d grid of regions
    assert theory.montufar2014_maxout_lower_bound(d, [d], k) == k ** d


def test_one_layer_grid_counted_by_sampling():
    # the construction of the lower bound, counted on a dense grid (a sampled lower bound)
    k, d = 3, 2
    t = np.linspace(-1, 1, 301)
    X = np.stack(np.meshgrid(t, t), axis=-1).reshape(-1, 2)
    slopes = np.arange(k) - (k - 1) / 2  # k lines of distinct slopes: max bends k - 1 times
    sel = [np.argmax(X[:, [i]] * slopes - 0.5 * slopes**2, axis=1) for i in range(d)]
    found = len(set(zip(*sel)))
    assert found == k ** d == theory.montufar2014_maxout_lower_bound(d, [d], k)


@pytest.mark.parametrize("d, ws, k", [(d, ws, k) for d, ws, k in product([1, 2, 3], [[3], [3, 3], [4, 5, 6]], [2, 3, 4])])
def test_lower_below_upper(d, ws, k):
    assert theory.montufar2014_maxout_lower_bound(d, ws, k) <= theory.serra_maxout_upper_bound(d, ws, k)


@pytest.mark.parametrize("call", [
    lambda: theory.serra_maxout_upper_bound(2, [3], 1),
    lambda: theory.serra_maxout_upper_bound(2, [3], 2.5),
    lambda: theory.montufar2014_maxout_lower_bound(3, [2, 4], 2),
])
def test_refusals(call):
    with pytest.raises(RegionsError):
        call()


def test_cli_bound_maxout_rank():
    r = CliRunner().invoke(main, ["bound", "--input-dim", "2", "--width", "3", "--depth", "2",
                                  "--maxout-rank", "3", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["maxout_serra_upper"] == theory.serra_maxout_upper_bound(2, [3, 3], 3)
    assert rec["maxout_montufar2014_lower"] == 3 ** 3
    r = CliRunner().invoke(main, ["bound", "--input-dim", "2", "--width", "3", "--depth", "2",
                                  "--maxout-rank", "1"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    r = CliRunner().invoke(main, ["bound", "--input-dim", "4", "--width", "3", "--depth", "2",
                                  "--maxout-rank", "2"])
    assert r.exit_code == 0 and "maxout upper" in r.output
