"""Counts of networks without hidden biases by the walk round the box (regions/engines/planar/cones.py).

Independent values: ``2 D`` regions for ``D`` distinct lines through the
origin (one layer); the 2-D mesh (``partition_plane``, which never takes the
walk, verified by Euler's relation); the n-D engine; regioncam (float32, a
separately written tool) on random nets.  Degenerate nets (duplicate and
rescaled units, dead units, zero output weights) must either be counted
right by the walk or handed to the mesh; each test says which.
"""

from __future__ import annotations

import numpy as np
import pytest

import regions
from regions import Network
from regions.domains import box
from regions.engines.planar import cones, kernel


def _zero_bias(arch, seed, out_dim=None):
    net = Network.from_arch(arch, init="he", bias="zero", seed=seed)
    if out_dim is not None:  # several outputs
        W, b = net.layers[-1]
        rng = np.random.default_rng(seed)
        layers = list(net.layers[:-1]) + [(rng.normal(size=(out_dim, W.shape[1])), np.zeros(out_dim))]
        net = Network(layers, negative_slope=net.negative_slope)
    return net


def _mesh(net, dom):
    part = kernel.partition_plane(net, dom)
    part.verify()
    return part


@pytest.mark.parametrize("arch,seed,out_dim", [
    ("2-8-1", 0, None), ("2-32-32-1", 0, None), ("2-32-32-1", 3, None), ("2-16-16-16-1", 1, None),
    ("2-24-24-1", 2, 3),
])
def test_walk_matches_mesh_and_nd_engine(arch, seed, out_dim):
    net = _zero_bias(arch, seed, out_dim)
    dom = box(-1.0, 1.0, dim=2)
    got = cones.count_cones(net, dom)
    assert got is not None  # generic: the walk decides
    part = _mesh(net, dom)
    assert (got.regions, got.pieces, list(got.layer_counts)) == (part.n_regions, part.n_pieces,
                                                                 list(part.layer_counts))
    assert got.regions == regions.count(net, dom, engine="polytope").regions
    assert regions.count(net, dom).as_dict() == got.as_dict()  # the public path takes the walk


@pytest.mark.parametrize("slopes", [[1.0, -2.0, 0.5, 3.0, -0.25], [0.0, 1.0, 1e-3, -7.0]])
def test_lines_through_origin_give_twice_as_many_regions(slopes):
    # one layer, unit k zero on the line y = s_k x (or x = 0 for the infinite slope): 2 D regions
    W = np.array([[s, -1.0] for s in slopes] + [[1.0, 0.0]])
    net = Network([(W, np.zeros(W.shape[0])), (np.ones((1, W.shape[0])), np.zeros(1))])
    dom = box([-1.0, -0.5], [2.0, 1.0])
    got = cones.count_cones(net, dom)
    assert got is not None and got.regions == 2 * W.shape[0] == got.pieces


@pytest.mark.parametrize("lo,hi", [(-1e150, 1e150), (-1e-150, 1e-150), ([-3.0, -1e-3], [1e-2, 5.0])])
def test_any_box_around_the_origin_holds_the_same_cones(lo, hi):
    net = _zero_bias("2-16-16-1", 4)
    ref = cones.count_cones(net, box(-1.0, 1.0, dim=2))
    got = regions.count(net, box(lo, hi, dim=2))
    assert ref is not None and (got.regions, got.pieces) == (ref.regions, ref.pieces)


def _edit(net, fn):
    layers = [(W.copy(), b.copy()) for W, b in net.layers]
    fn(layers)
    return Network(layers, negative_slope=net.negative_slope)


def _dup(layers):  # unit 1 of the second layer a copy of unit 0, unit 2 twice unit 3
    W, b = layers[1]
    W[1] = W[0]
    W[2] = 2.0 * W[3]


def _dead(layers):  # a dead first-layer unit and a second-layer unit reading nothing
    layers[0][0][0] = 0.0
    layers[1][0][5] = 0.0


def _zero_out(layers):  # output weights of four second-layer units zero: neighbours share maps
    layers[2][0][:, :4] = 0.0


@pytest.mark.parametrize("name,fn", [("duplicate", _dup), ("dead", _dead), ("zero output", _zero_out)])
def test_degenerate_nets_are_counted_right_or_handed_to_the_mesh(name, fn):
    net = _edit(_zero_bias("2-12-12-1", 5), fn)
    dom = box(-1.0, 1.0, dim=2)
    part = _mesh(net, dom)
    got = regions.count(net, dom)
    assert (got.regions, got.pieces) == (part.n_regions, part.n_pieces)
    assert got.regions == regions.count(net, dom, engine="polytope").regions
    walk = cones.count_cones(net, dom)
    if name == "zero output":
        assert walk is None  # neighbours with one map: decided by the mesh
    if walk is not None:
        assert (walk.regions, walk.pieces) == (part.n_regions, part.n_pieces)


@pytest.mark.parametrize("case", ["bias", "slice", "origin on the boundary", "origin outside"])
def test_walk_declines_what_it_does_not_cover(case):
    net = _zero_bias("2-8-8-1", 6)
    dom = box(-1.0, 1.0, dim=2)
    if case == "bias":
        net = _edit(net, lambda L: L[1][1].__setitem__(0, 0.1))
    elif case == "slice":
        dom = regions.domains.plane(np.zeros(2), np.eye(2)[0], np.eye(2)[1])
    elif case == "origin on the boundary":
        dom = box([0.0, -1.0], [1.0, 1.0])
    else:
        dom = box([0.5, -1.0], [1.0, 1.0])
    assert cones.count_cones(net, dom) is None
    got = regions.count(net, dom)
    part = _mesh(net, dom)
    assert (got.regions, got.pieces) == (part.n_regions, part.n_pieces)


def test_leaky_relu():
    base = _zero_bias("2-16-16-1", 7)
    net = Network(base.layers, negative_slope=0.1)
    dom = box(-1.0, 1.0, dim=2)
    got = cones.count_cones(net, dom)
    part = _mesh(net, dom)
    assert got is not None and (got.regions, got.pieces) == (part.n_regions, part.n_pieces)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_regioncam(seed):
    rc = pytest.importorskip("regioncam")
    net = _zero_bias("2-32-32-1", seed)
    cam = rc.Regioncam(1.0)
    for i, (W, b) in enumerate(net.layers):
        cam.linear(np.ascontiguousarray(W.T, dtype=np.float32), b.astype(np.float32))
        if i < len(net.layers) - 1:
            cam.relu()
    got = cones.count_cones(net, box(-1.0, 1.0, dim=2))
    assert got is not None and got.regions == cam.num_faces
