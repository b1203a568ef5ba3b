"""Affine pieces of the exact engine for any input dimension (regions.polytope), against independent values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from regions import Network, theory
from regions.domains import box, interval, whole
from regions.engines.line import partition_line
from regions.engines.planar import partition_plane
from regions.engines.polytope import count_polytope, partition_polytope


def pieces_both(net: Network, dom) -> int:
    """Pieces from the partition and from the count-only path (which must agree)."""
    part = partition_polytope(net, dom)
    res = count_polytope(net, dom)
    assert res.pieces == part.n_pieces == part.count().pieces
    assert res.regions == part.n_regions and "one_sided_merges" not in res.extra
    assert part.piece_labels.shape == (part.n_regions,)
    # regions of one piece have one output map
    J, c = part.output_maps()
    for p in np.unique(part.piece_labels):
        rows = np.nonzero(part.piece_labels == p)[0]
        assert np.allclose(J[rows], J[rows[0]], atol=1e-10) and np.allclose(c[rows], c[rows[0]], atol=1e-10)
    return res.pieces


def without_unit(net: Network, j: int) -> Network:
    """The network with first-layer unit ``j`` removed."""
    (W0, b0), (W1, b1), *rest = net.layers
    keep = np.arange(W0.shape[0]) != j
    return Network([(W0[keep], b0[keep]), (W1[:, keep], b1), *rest], negative_slope=net.negative_slope)


# ----------------------------------------------------------- one hidden layer
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("d, D", [(3, 7), (4, 6)])
@pytest.mark.parametrize("slope", [0.0, 0.2])
def test_generic_one_layer_pieces_equal_regions(seed, d, D, slope):
    net = Network.from_arch(f"{d}-{D}-1", seed=seed, negative_slope=slope)
    for dom in (whole(d), box(-1.0, 1.0, dim=d)):
        assert pieces_both(net, dom) == count_polytope(net, dom).regions


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("slope", [0.0, 0.1])
def test_unit_with_zero_output_weight_one_layer(seed, slope):
    # toggling unit 0 never changes the map: the pieces are the regions of the other D - 1 units
    d, D = 3, 8
    net = Network.from_arch(f"{d}-{D}-1", seed=seed, negative_slope=slope)
    (W0, b0), (W1, b1) = net.layers
    W1 = W1.copy()
    W1[:, 0] = 0.0
    dead = Network([(W0, b0), (W1, b1)], negative_slope=slope)
    assert count_polytope(dead, whole(d)).regions == theory.zaslavsky(D, d)
    assert pieces_both(dead, whole(d)) == theory.zaslavsky(D - 1, d)
    dom = box(-1.0, 1.0, dim=d)
    assert pieces_both(dead, dom) == count_polytope(without_unit(net, 0), dom).regions


@pytest.mark.parametrize("seed", [0, 1])
def test_first_layer_unit_not_read_by_the_next_layer(seed):
    # a first-layer unit that no later unit reads bends nothing: pieces of the net without it
    net = Network.from_arch("3-7-6-1", seed=seed)
    (W0, b0), (W1, b1), (W2, b2) = net.layers
    W1 = W1.copy()
    W1[:, 2] = 0.0
    dead = Network([(W0, b0), (W1, b1), (W2, b2)])
    for dom in (whole(3), box(-1.0, 1.0, dim=3)):
        assert count_polytope(dead, dom).regions > count_polytope(without_unit(dead, 2), dom).regions
        assert pieces_both(dead, dom) == pieces_both(without_unit(dead, 2), dom)


# ------------------------------------------------------ degenerate constructions
def with_copies(net: Network) -> Network:
    """Every first- and second-layer unit duplicated: exact copy, positive multiple, negation.

    The copies are read by nothing, so the function (and its pieces) are unchanged;
    every hyperplane is now shared by several units.
    """
    (W0, b0), (W1, b1), (W2, b2) = net.layers
    n = W0.shape[0]
    W0n = np.concatenate([W0, W0, 4.0 * W0, -W0])
    b0n = np.concatenate([b0, b0, 4.0 * b0, -b0])
    W1n = np.concatenate([W1, np.zeros((W1.shape[0], 3 * n))], axis=1)
    W1n = np.concatenate([W1n, W1n])
    b1n = np.concatenate([b1, b1])
    W2n = np.concatenate([W2, np.zeros_like(W2)], axis=1)
    return Network([(W0n, b0n), (W1n, b1n), (W2n, b2)])


@pytest.mark.parametrize("seed", [0, 1])
def test_duplicated_units_keep_the_pieces(seed):
    net = Network.from_arch("3-6-6-1", seed=seed)
    dup = with_copies(net)
    for dom in (whole(3), box(-1.0, 1.0, dim=3)):
        assert pieces_both(dup, dom) == pieces_both(net, dom)


@pytest.mark.parametrize("seed", [0, 1])
def test_cancelling_copies_merge_across_their_hyperplane(seed):
    # unit 0 and its exact copy with opposite output weights: their hyperplane bends nothing
    d, D = 3, 7
    rng = np.random.default_rng(seed)
    W0, b0, w = rng.normal(size=(D, d)), rng.normal(size=D), rng.normal(size=(1, D))
    net = Network([(np.concatenate([W0, W0[:1]]), np.concatenate([b0, b0[:1]])),
                   (np.concatenate([w, -w[:, :1]], axis=1), np.zeros(1))])
    assert count_polytope(net, whole(d)).regions == theory.zaslavsky(D, d)
    assert pieces_both(net, whole(d)) == theory.zaslavsky(D - 1, d)


def test_linear_and_shallow_edge_cases():
    # no hidden layer: one piece; every unit always active: one region, one piece
    lin = Network([(np.array([[1.0, 2.0, 3.0]]), np.zeros(1))])
    assert pieces_both(lin, whole(3)) == 1
    on = Network([(np.eye(3), np.full(3, 10.0)), (np.ones((1, 3)), np.zeros(1))])
    assert pieces_both(on, box(-1.0, 1.0, dim=3)) == 1
    # |x| + |y| + |z| - |x|: the hyperplane x = 0 bends nothing
    W = np.concatenate([np.eye(3), -np.eye(3)])
    net = Network([(W, np.zeros(6)), (np.array([[0.0, 1, 1, 0, 1, 1]]), np.zeros(1))])
    assert count_polytope(net, whole(3)).regions == 8
    assert pieces_both(net, whole(3)) == 4


def test_max_regions_gives_no_pieces():
    net = Network.from_arch("3-16-16-1", seed=0)
    res = count_polytope(net, box(-1.0, 1.0, dim=3), max_regions=100)
    assert res.partial and res.pieces is None
    part = partition_polytope(net, box(-1.0, 1.0, dim=3), max_regions=100)
    assert part.n_pieces is None and part.piece_labels is None


# ------------------------------------------------------------ other engines
def cancelling_2d(seed: int) -> Network:
    """Two layers with duplicated units whose output weights cancel."""
    rng = np.random.default_rng(seed)
    net = Network.from_arch("2-6-6-1", seed=seed)
    (W0, b0), (W1, b1), (W2, b2) = net.layers
    W0n, b0n = np.concatenate([W0, W0[:2]]), np.concatenate([b0, b0[:2]])
    W1n = np.concatenate([W1, rng.normal(size=(6, 2))], axis=1)
    W1n, b1n = np.concatenate([W1n, W1n[:2]]), np.concatenate([b1, b1[:2]])
    W2n = np.concatenate([W2, -W2[:, :2]], axis=1)
    return Network([(W0n, b0n), (W1n, b1n), (W2n, b2)])


@pytest.mark.parametrize("seed", range(4))
def test_agrees_with_planar_engine_pieces(seed):
    dom = box(-1.0, 1.0, dim=2)
    nets = [
        Network.from_arch("2-10-10-1", seed=seed),
        Network.from_arch("2-6-6-6-2", seed=seed),
        Network.from_arch("2-8-8-1", seed=seed, bias="zero"),
        Network.from_arch("2-8-8-1", seed=seed, negative_slope=0.1),
        cancelling_2d(seed),
        with_copies(Network.from_arch("2-5-5-1", seed=seed)),
    ]
    for net in nets:
        ref = partition_plane(net, dom)
        assert partition_polytope(net, dom).n_regions == ref.n_regions
        assert pieces_both(net, dom) == ref.n_pieces


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("lohi", [(-1.0, 1.0), (-np.inf, np.inf)])
def test_agrees_with_line_engine_pieces(seed, lohi):
    dom = interval(*lohi)
    for net in (Network.from_arch("1-8-8-8-1", seed=seed), Network.from_arch("1-6-6-1", seed=seed, bias="zero"),
                Network.from_arch("1-8-8-1", seed=seed, negative_slope=0.2)):
        ref = partition_line(net, dom)
        assert pieces_both(net, dom) == ref.n_pieces


def test_cli_prints_pieces():
    from click.testing import CliRunner

    from regions.cli.main import main

    out = CliRunner().invoke(main, ["count", "--arch", "3-16-16-1", "--json"])
    assert out.exit_code == 0, out.output
    rec = json.loads(out.output)
    assert isinstance(rec["pieces"], int) and 1 <= rec["pieces"] <= rec["regions"] == 650
