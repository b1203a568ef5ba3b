"""Issue 15, class 1, LP engine: near-degenerate arrangements counted exactly or refused, never merged.

The probes of :mod:`tests.test_exact_rays` (hyperplanes parallel, or meeting along a ray, to within a
relative ``delta``) on the LP engine: all of ``R^d`` directly, all of ``R^d`` through the reduction to
the first layer's rank, and boxes.  Independent values: Whitney's formula in exact rationals
(``_whitney`` of test_exact_rays, for ``R^d`` and for boxes around the origin of bias-free nets, whose
regions are all cones), the polytope engine on the same box (a second engine, itself exact or
refusing), and the bound that a box never holds more regions than ``R^d``.

Before (LP engine at the integrate branch, relative gap 1e-9): "lines 2-D" 3 (truth 4), "origin" 4 (6),
"ray 2-D" 10 (11) on ``R^2``; bias-free 3-D random probes on boxes short by up to 8.
"""

import numpy as np

import regions
import pytest

from regions import Network
from regions.domains import box, whole
from regions.engines.lp.reduce import count_whole
from regions.engines.registry import count, get_engine
from regions.errors import NumericalError
from test_exact_rays import PROBES, _net, _random_probe, _whitney

DELTAS = [1e-6, 1e-9, 1e-12, 1e-15]


def _lp(net, dom):
    try:
        return count(net, dom, engine="lp").regions
    except NumericalError:
        return None


def _poly(net, dom):
    try:
        return count(net, dom, engine="polytope").regions
    except NumericalError:
        return None


@pytest.mark.parametrize("delta", DELTAS)
@pytest.mark.parametrize("name", sorted(PROBES))
def test_whole_space_lp_exact_or_refused(name, delta):
    W, b = PROBES[name](delta)
    truth = _whitney(W, b)
    got = _lp(_net(W, b), whole(len(W[0])))
    assert got in (None, truth), (got, truth)
    if delta >= 1e-9:
        assert got == truth


@pytest.mark.parametrize("delta", DELTAS)
@pytest.mark.parametrize("name", sorted(PROBES))
def test_whole_space_by_reduction_lp_exact_or_refused(name, delta):
    # the reduction refuses singular values near its rank tolerance (1e-9, 1e-12 for the parallel pairs);
    # at 1e-15 the pairs' second singular value is below it, but the rank is confirmed in exact
    # arithmetic first (full: no reduction), so the count is never the rank-1 one (before: 3 for 4)
    W, b = PROBES[name](delta)
    truth = _whitney(W, b)
    try:
        got = count_whole(_net(W, b), engine=get_engine("lp")).regions
    except NumericalError:
        got = None
    assert got in (None, truth), (got, truth)
    if delta >= 1e-6:
        assert got == truth
    try:  # the default path (the polytope engine on the reduced space)
        got = regions.count(_net(W, b), whole(len(W[0]))).regions
    except NumericalError:
        got = None
    assert got in (None, truth), (got, truth)


@pytest.mark.parametrize("delta", DELTAS)
@pytest.mark.parametrize("name", sorted(PROBES))
def test_boxes_lp_agree_with_polytope_engine(name, delta):
    W, b = PROBES[name](delta)
    truth = _whitney(W, b)
    net = _net(W, b)
    d = len(W[0])
    for R in (1.0, 1e3, 1e6):
        dom = box([-R] * d, [R] * d)
        got, ref = _lp(net, dom), _poly(net, dom)
        assert got is None or got <= truth, (R, got, truth)
        if got is not None and ref is not None:
            assert got == ref, (R, got, ref)
        if delta >= 1e-9 and ref is not None:
            assert got == ref, (R, got, ref)


@pytest.mark.parametrize("delta", DELTAS)
def test_bias_free_boxes_hold_every_cone(delta):
    # "origin": three lines through 0, two of them parallel to within delta: 6 cones, every box around 0
    W, b = PROBES["origin"](delta)
    net = _net(W, b)
    for R in (1.0, 1e3):
        got = _lp(net, box([-R, -R], [R, R]))
        assert got in (None, 6)
        if delta >= 1e-9:
            assert got == 6


@pytest.mark.parametrize("seed", range(16))
def test_random_near_degenerate_lp_exact_or_refused(seed):
    W, b, delta = _random_probe(seed)
    truth = _whitney(W, b)
    net = _net(W, b)
    d = W.shape[1]
    got = _lp(net, whole(d))
    assert got in (None, truth), (got, truth)
    for R in (1.0, 1e3):
        dom = box([-R] * d, [R] * d)
        n = _lp(net, dom)
        assert n is None or n <= truth, (R, n, truth)
        if not np.any(b):  # no biases: every region a cone, every box around the origin holds them all
            assert n in (None, truth), (R, n, truth)
        ref = _poly(net, dom)
        if n is not None and ref is not None:
            assert n == ref, (R, n, ref)


def test_bias_free_3d_probe_counted():
    # before: 14 of the 22 cones on [-1, 1]^3 (seed 10 of _random_probe: a pair parallel to within 1e-9)
    W, b, delta = _random_probe(10)
    assert not np.any(b) and W.shape[1] == 3 and delta == 1e-9
    truth = _whitney(W, b)
    assert truth == 22
    assert count(_net(W, b), box([-1.0] * 3, [1.0] * 3), engine="lp").regions == truth


@pytest.mark.parametrize("seed", [0, 1])
def test_degenerate_units_certified_exactly(seed):
    # zero biases, a duplicate and a doubled copy, a dead unit (zero weights and bias), a unit through
    # a box face: every state the screens decide is certified (exactly where float64 is in doubt); the
    # count equals the polytope engine's on the same 3-D box
    rng = np.random.default_rng(seed)
    W1, b1 = rng.normal(size=(6, 3)), rng.normal(size=6)
    b1[:2] = 0.0
    W1[2], b1[2] = W1[0], 0.0
    W1[3], b1[3] = 2.0 * W1[1], 0.0
    W1[4], b1[4] = 0.0, 0.0
    W1[5], b1[5] = [1.0, 0.0, 0.0], 1.0  # x = -1: the box's face
    W2, b2 = rng.normal(size=(5, 6)), rng.normal(size=5)
    W2[0] = 0.0
    W2[1, 0], W2[1, 2], W2[1, 1:] = 1.0, -1.0, 0.0  # unit 0 minus its copy: zero on the whole box
    W2[1, 2] = -1.0
    b2[1] = 0.0
    net = Network([(W1, b1), (W2, b2), (rng.normal(size=(1, 5)), np.zeros(1))])
    dom = box([-1.0] * 3, [1.0] * 3)
    assert count(net, dom, engine="lp").regions == count(net, dom, engine="polytope").regions
