"""The skeleton fast path of the n-D count (``regions.engines.polytope.skeleton``).

Every count of the fast path is compared with independent values: the
double-description walk over regions (a different algorithm and data
structure: regions with their own generators, adjacency by the
combinatorial test), the LP tree of ``tests/polytope_reference.py`` (one
HiGHS LP per candidate pattern, no code shared) and sampled patterns (a
lower bound).  Degenerate input must make the fast path give up, and the
public count must then still equal the walk's.
"""

from __future__ import annotations

import numpy as np
import pytest

from polytope_reference import lp_tree
from regions import Network
from regions.domains import box
from regions.engines.polytope import count_polytope
from regions.engines.polytope import api as K
from regions.engines.polytope.skeleton import Degenerate, skeleton_count


def _skeleton(net, dom):
    return skeleton_count(dom.pullback(net), dom, rtol=2 * K.VERTEX_RTOL, first_values=K._first_values,
                          inert=K._inert)


def _walk(net, dom):
    return K._count_walk(net, dom, None, False)


def _leaky(arch, seed):
    net = Network.from_arch(arch, init="he", seed=seed)
    return Network(net.layers, negative_slope=0.1)


def _inert_net(seed):
    # one second-layer unit: where it is off, every first-layer unit is inert (regions merge into pieces)
    return Network.from_arch("3-7-1-1", init="he", seed=seed)


NETS = [
    ("2-12-12-1", lambda s: Network.from_arch("2-12-12-1", init="he", seed=s), box(-1.0, 1.0, dim=2)),
    ("3-10-10-1", lambda s: Network.from_arch("3-10-10-1", init="he", seed=s), box(-1.0, 1.0, dim=3)),
    ("3-6-6-6-1", lambda s: Network.from_arch("3-6-6-6-1", init="he", seed=s), box(-1.0, 1.0, dim=3)),
    ("4-8-8-1", lambda s: Network.from_arch("4-8-8-1", init="he", seed=s), box(-1.0, 1.0, dim=4)),
    ("5-6-6-1", lambda s: Network.from_arch("5-6-6-1", init="he", seed=s), box(-1.0, 1.0, dim=5)),
    ("3-10-10-1 leaky", lambda s: _leaky("3-10-10-1", s), box(-1.0, 1.0, dim=3)),
    ("3-8-8-1 skewed box", lambda s: Network.from_arch("3-8-8-1", init="he", seed=s),
     box([-2.0, 0.1, -0.5], [1.0, 0.7, 3.0])),
    ("3-7-1-1 inert units", _inert_net, box(-1.0, 1.0, dim=3)),
    ("3-8-8-2 two outputs", lambda s: Network.from_arch("3-8-8-2", init="he", seed=s), box(-1.0, 1.0, dim=3)),
]


@pytest.mark.parametrize("name, make, dom", NETS, ids=[n for n, _, _ in NETS])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_skeleton_equals_walk(name, make, dom, seed):
    """Regions, regions per layer and pieces equal the double-description walk's."""
    net = make(seed)
    n, counts, pieces = _skeleton(net, dom)
    ref = _walk(net, dom)
    assert (n, counts, pieces) == (ref.regions, ref.layer_counts, ref.pieces)


def test_inert_net_has_fewer_pieces():
    """The inert-unit case really exercises the pieces merge."""
    dom = box(-1.0, 1.0, dim=3)
    found = [_skeleton(_inert_net(s), dom) for s in range(3)]
    assert any(p < n for n, _, p in found)


@pytest.mark.parametrize("arch, seed", [("3-5-5-1", 0), ("3-4-4-4-1", 1), ("4-5-4-1", 2), ("2-6-6-1", 3)])
def test_skeleton_equals_lp_tree(arch, seed):
    """Small nets: the set of patterns with an interior (one LP per candidate) has the same size."""
    net = Network.from_arch(arch, init="he", seed=seed)
    dom = box(-1.0, 1.0, dim=net.input_dim)
    n, _, _ = _skeleton(net, dom)
    assert n == len(lp_tree(net, dom)["patterns"])


def test_skeleton_count_at_least_sampled_patterns():
    net = Network.from_arch("4-12-12-1", init="he", seed=4)
    dom = box(-1.0, 1.0, dim=4)
    X = np.random.default_rng(0).uniform(-1.0, 1.0, size=(20000, 4))
    seen = np.unique(np.packbits(net.patterns(X), axis=1), axis=0).shape[0]
    n, _, _ = _skeleton(net, dom)
    assert n >= seen


def _duplicate(seed):
    W0, b0 = Network.from_arch("3-6-6-1", init="he", seed=seed).layers[0]
    net = Network.from_arch("3-6-6-1", init="he", seed=seed)
    W0 = np.vstack([W0, W0[:1]])
    b0 = np.concatenate([b0, b0[:1]])
    W1 = np.hstack([net.layers[1][0], net.layers[1][0][:, :1]])
    return Network([(W0, b0), (W1, net.layers[1][1]), net.layers[2]])


def _through_corner(seed):
    # a first-layer hyperplane through the box corner (1, 1, 1)
    net = Network.from_arch("3-6-6-1", init="he", seed=seed)
    W0, b0 = (np.array(a, copy=True) for a in net.layers[0])
    b0[0] = -W0[0].sum()
    return Network([(W0, b0), *net.layers[1:]])


DEGENERATE = [
    ("zero biases", lambda s: Network.from_arch("3-8-8-1", init="he", bias="zero", seed=s)),
    ("duplicate unit", _duplicate),
    ("hyperplane through a corner", _through_corner),
    ("2-D zero biases", lambda s: Network.from_arch("2-8-8-1", init="he", bias="zero", seed=s)),
]


@pytest.mark.parametrize("name, make", DEGENERATE, ids=[n for n, _ in DEGENERATE])
def test_degenerate_input_falls_back(name, make):
    """The fast path refuses non-generic partitions; the public count is then the walk's."""
    net = make(0)
    dom = box(-1.0, 1.0, dim=net.input_dim)
    with pytest.raises(Degenerate):
        _skeleton(net, dom)
    got = count_polytope(net, dom)
    ref = _walk(net, dom)
    assert (got.regions, got.layer_counts, got.pieces) == (ref.regions, ref.layer_counts, ref.pieces)


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e6])
def test_skeleton_invariant_under_rescaling(scale):
    """Scaling the box and the first layer's weights together changes nothing."""
    net = Network.from_arch("3-10-10-1", init="he", seed=5)
    W0, b0 = net.layers[0]
    scaled = Network([(W0 / scale, b0), *net.layers[1:]])
    n0 = _skeleton(net, box(-1.0, 1.0, dim=3))
    n1 = _skeleton(scaled, box(-scale, scale, dim=3))
    assert n0 == n1
