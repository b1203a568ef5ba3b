"""The 1-D walk of op networks against independent values.

Independent values: the plain-network 1-D engine (a second engine) on
graphs that are plain ReLU nets, closed forms (maxout in R), exact
Fraction patterns at the witnesses (tests/op_reference.py), and dense-grid
lower bounds (distinct consecutive patterns on a fine grid).
"""

import numpy as np
import pytest

from op_reference import forward_exact
from regions import Network, count_line, interval, segment
from regions.engines.line.ops import partition_line_ops
from regions.model.ops import Activation, Add, Affine, Clamp, Graph, MaxGroups, Node, lower
from test_ops import GRAPHS, residual


def _plain_graph(net):
    nodes = []
    for W, b in net.layers[:-1]:
        nodes += [Affine(W, b), Activation.relu()]
    nodes.append(Affine(*net.layers[-1]))
    return Graph(nodes, net.input_dim)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plain_nets_match_the_line_engine(seed):
    net = Network.from_arch("1-8-8-8-1", seed=seed)
    dom = interval(-3.0, 3.0)
    got = partition_line_ops(lower(_plain_graph(net)), dom).count()
    ref = count_line(net, dom)
    assert (got.regions, got.pieces, got.layer_counts) == (ref.regions, ref.pieces, ref.layer_counts)


def test_zero_inner_residual_counts_as_the_plain_net():
    g = residual(zero_inner=True)
    plain = Graph([g.nodes[0].op, Activation.relu(), g.nodes[-1].op], 3)
    dom = segment(np.full(3, -2.0), np.full(3, 2.5))
    a = partition_line_ops(lower(g), dom)
    b = partition_line_ops(lower(plain), dom)
    assert (a.n_regions, a.n_pieces) == (b.n_regions, b.n_pieces) and a.n_regions >= 2


@pytest.mark.parametrize("k", [2, 3, 5])
def test_one_maxout_unit_on_the_line(k):
    # tangents of x^2 at k points: the max has exactly k pieces on a wide interval
    c = np.linspace(-1, 1, k)
    g = Graph([Affine((2 * c)[:, None], -c**2), MaxGroups([list(range(k))]), Affine([[1.0]])], 1)
    part = partition_line_ops(lower(g), interval(-5.0, 5.0))
    assert part.n_regions == k
    # duplicate candidates tie and split nothing
    g2 = Graph([Affine(np.repeat(2 * c, 2)[:, None], np.repeat(-c**2, 2)), MaxGroups([list(range(2 * k))]),
                Affine([[1.0]])], 1)
    assert partition_line_ops(lower(g2), interval(-5.0, 5.0)).n_regions == k


def test_relu6_has_three_pieces():
    g = Graph([Affine([[10.0]]), Clamp(0.0, 6.0), Affine([[1.0]])], 1)
    part = partition_line_ops(lower(g), interval(-1.0, 1.0))
    assert part.n_regions == 3 and part.n_pieces == 3
    assert np.allclose(part.breaks, [-1.0, 0.0, 0.6, 1.0])


def _segment_for(g):
    r = np.random.default_rng(11)
    a, b = r.normal(size=g.input_dim), r.normal(size=g.input_dim)
    return segment(a * 2, b * 2), a * 2, b * 2


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_witness_patterns_are_exact_and_grid_is_a_lower_bound(name):
    g = GRAPHS[name]()
    low = lower(g)
    dom, a, b = _segment_for(g)
    part = partition_line_ops(low, dom)
    pats = part.patterns
    assert len({p.tobytes() for p in pats}) == part.n_regions  # convex: one interval per pattern
    for t, p in zip(part.witnesses, pats):
        _, bits = forward_exact(g, a + t * (b - a))
        assert p.tolist() == bits
    # output slopes against central differences of the graph's own forward (exact inside a region)
    w, h = part.witnesses, 1e-6 * np.diff(part.breaks).min()
    fd = (g.forward(a + (w + h)[:, None] * (b - a)) - g.forward(a + (w - h)[:, None] * (b - a))) / (2 * h)
    assert np.allclose(fd, part.slopes, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(part.slopes).max()))
    t = np.linspace(0, 1, 20001)
    grid = low.patterns(a + t[:, None] * (b - a))
    runs = 1 + int(np.count_nonzero(np.any(grid[1:] != grid[:-1], axis=1)))
    assert runs <= part.n_regions
    assert part.n_regions >= 2
