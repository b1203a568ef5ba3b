"""The 2-D engine's one-pass layer cut (regions/engines/planar/arrange.py).

Independent values: Zaslavsky's count ``1 + D + C(D, 2)`` (one layer in
general position, every crossing inside the box); the exact rational
clipping reference of tests/test_planar.py; the per-neuron cut (the second
path, ``direct=False``) on many random nets, degenerate ones included;
Euler's relation and the other invariants of ``PlanarPartition.verify``.
Each test also records whether the one-pass cut ran or fell back, so that
the cases meant for it do exercise it.
"""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from regions import Network
from regions.domains import box
from regions.engines.planar import arrange, kernel
from test_planar import _check_against_exact


@pytest.fixture
def tally(monkeypatch):
    """Counts of one-pass layers built and refused (fallen back to the per-neuron cut); every layer tried."""
    got = {"built": 0, "refused": 0}
    real = arrange.arrange_layer

    def spy(*a, **kw):
        out = real(*a, **kw)
        got["built" if out is not None else "refused"] += 1
        return out

    monkeypatch.setattr(kernel, "arrange_layer", spy)
    monkeypatch.setattr(kernel, "_ARRANGE_MIN_UNITS", 1)  # small layers too (the exact references are slow)
    return got


def _both(net, domain=None):
    """The partition by the one-pass cut and by the per-neuron cut, both verified."""
    old = kernel._DIRECT
    try:
        kernel._DIRECT = True
        a = kernel.partition_plane(net, domain)
        kernel._DIRECT = False
        b = kernel.partition_plane(net, domain)
    finally:
        kernel._DIRECT = old
    a.verify()
    b.verify()
    return a, b


def _same(a, b):
    assert a.layer_counts == b.layer_counts
    assert a.n_pieces == b.n_pieces
    pa = {bytes(p): i for i, p in enumerate(a.packed_patterns)}
    pb = {bytes(p): i for i, p in enumerate(b.packed_patterns)}
    assert set(pa) == set(pb)
    keys = list(pa)
    ia, ib = [pa[k] for k in keys], [pb[k] for k in keys]
    np.testing.assert_allclose(a.measures[ia], b.measures[ib], rtol=1e-9, atol=1e-13 * a.domain.measure)
    np.testing.assert_array_equal(a.piece_labels[ia] == a.piece_labels[ia][0],
                                  b.piece_labels[ib] == b.piece_labels[ib][0])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("D", [2, 7, 24])
def test_one_layer_is_zaslavsky(tally, seed, D):
    rng = np.random.default_rng(seed)
    W, b = rng.normal(size=(D, 2)), rng.normal(size=D)
    net = Network([(W, b), (rng.normal(size=(1, D)), np.zeros(1))])
    cross = [np.linalg.solve(W[[i, k]], -b[[i, k]]) for i in range(D) for k in range(i + 1, D)]
    r = 1.5 * np.abs(np.array(cross + [[1.0, 1.0]])).max() + 1.0
    a, b2 = _both(net, box(-r, r, dim=2))
    assert a.n_regions == b2.n_regions == 1 + D + comb(D, 2)
    assert tally == {"built": 1, "refused": 0}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("arch,bias", [("2-5-5-1", "same"), ("2-6-6-1", "zero"), ("2-4-3-4-2", "same")])
def test_small_deep_nets_match_exact_clipping(tally, seed, arch, bias):
    net = Network.from_arch(arch, seed=seed, bias=bias)
    _check_against_exact(net, box(-1.5, 1.5, dim=2))
    assert tally["built"] >= 1


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("arch,bias", [("2-16-16-1", "same"), ("2-12-12-12-1", "zero"), ("2-32-32-1", "same"),
                                        ("2-8-8-8-8-2", "same")])
def test_random_nets_match_the_per_neuron_cut(tally, seed, arch, bias):
    net = Network.from_arch(arch, init="he", bias=bias, seed=seed)
    _same(*_both(net))
    assert tally["built"] >= 1


def test_concurrent_lines_zero_bias_2_32_32_1(tally):
    # every first-layer line through the origin, every second-layer line through it too
    net = Network.from_arch("2-32-32-1", init="he", bias="zero", seed=0)
    a, b = _both(net)
    _same(a, b)
    assert a.n_regions == 134  # tests/test_planar.py: boundary sweep and exact clipping agree on 134
    assert tally == {"built": 2, "refused": 0}


@pytest.mark.parametrize("n", [2, 5, 9])
def test_lines_through_one_point_and_through_corners(tally, n):
    # integer normals, exact in float64: n lines through the origin (2n sectors on their own),
    # n more through the corner (1, 1), crossing the others on the way
    normals = np.array([[1, 0], [0, 1], [1, 1], [1, -1], [1, 2], [2, 1], [1, -2], [2, -1], [1, 3]], float)
    Wa, ba = normals[:n], np.zeros(n)
    Wc = normals[[3, 6, 7, 0, 1, 4, 2, 5, 8]][:n]
    bc = -Wc.sum(axis=1)
    origin_only = Network([(Wa, ba), (np.ones((1, n)), np.zeros(1))])
    a, b2 = _both(origin_only)
    _same(a, b2)
    assert a.n_regions == 2 * n
    assert tally == {"built": 1, "refused": 0}
    W, b = np.vstack([Wa, Wc]), np.concatenate([ba, bc])
    net = Network([(W, b), (np.ones((1, 2 * n)), np.zeros(1))])
    a, b2 = _both(net)
    _same(a, b2)
    _check_against_exact(net, box(-1.0, 1.0, dim=2))
    assert tally["built"] >= 1  # the combined net may refuse: two lines meeting on the boundary


def test_duplicate_units_fall_back_and_agree(tally):
    # a unit repeated (and one rescaled): one line twice in a region is refused, then cut per neuron
    net = Network.from_arch("2-8-8-1", seed=3)
    (W0, b0), (W1, b1), (W2, b2) = net.layers
    W0x, b0x = np.vstack([W0, W0[:1], 2.0 * W0[3:4]]), np.concatenate([b0, b0[:1], 2.0 * b0[3:4]])
    W1x = np.hstack([W1, np.zeros((W1.shape[0], 2))])
    big = Network([(W0x, b0x), (W1x, b1), (W2, b2)])
    a, b = _both(big)
    _same(a, b)
    assert a.n_regions == kernel.partition_plane(net).n_regions
    assert tally["refused"] >= 1


@pytest.mark.parametrize("seed", range(6))
def test_integer_weights_many_coincidences(tally, seed):
    # small integer weights: concurrent lines, lines through vertices, duplicates; exact in float64
    rng = np.random.default_rng(300 + seed)
    sizes = [2, 6, 6, 5, 1]
    layers = [(rng.integers(-2, 3, size=(o, i)).astype(float), rng.integers(-2, 3, size=o) * 0.5)
              for i, o in zip(sizes[:-1], sizes[1:])]
    net = Network(layers)
    a, b = _both(net)
    _same(a, b)
    _check_against_exact(net, box(-1.0, 1.0, dim=2))


def test_count_plane_agrees_with_partition(tally):
    net = Network.from_arch("2-24-24-24-1", init="he", seed=7)
    res = kernel.count_plane(net)
    part = kernel.partition_plane(net)
    assert (res.regions, res.pieces, tuple(res.layer_counts)) == (part.n_regions, part.n_pieces,
                                                                   part.layer_counts)


@pytest.mark.parametrize("seed", range(3))
def test_plane_slices_and_polygons(tally, seed):
    from regions.domains import plane_through, polygon

    net = Network.from_arch("10-16-16-1", init="he", seed=seed)
    rng = np.random.default_rng(seed)
    a, b = _both(net, plane_through(*rng.normal(size=(3, 10))))
    _same(a, b)
    net2 = Network.from_arch("2-16-16-1", init="he", seed=seed)
    ang = np.sort(rng.uniform(0, 2 * np.pi, 7))
    a, b = _both(net2, polygon(np.stack([np.cos(ang), np.sin(ang)], axis=1)))
    _same(a, b)
    assert tally["built"] >= 2


@pytest.mark.parametrize("seed", range(3))
def test_leaky_relu(tally, seed):
    base = Network.from_arch("2-12-12-12-1", init="he", seed=seed)
    net = Network(list(base.layers), negative_slope=0.1)
    _same(*_both(net))
    assert tally["built"] >= 1
