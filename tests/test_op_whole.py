"""Op graphs on all of R^d (the LP op walk, regions.engines.lp.ops) against independent values.

Independent values: the brute-force LP count over patterns written apart
from the engines (tests/op_reference.py ``count_exact_lp`` with
``lo=-inf, hi=inf``); the 2-D op mesh (regions.engines.planar.ops) on boxes
grown until the count stops changing (a box that holds every vertex of the
partition meets every region of R^2 in one piece; regions whose polygons
stay off the box's sides are the bounded ones); closed forms (the max of
``k`` tangent planes of ``|x|^2`` at points on a circle: ``k`` Voronoi
cells, each its own map, all unbounded; with the centre added in R^2 one
bounded cell); the plain engines on R^d (a ReLU net written as a Graph; a
residual block whose skip cancels, which computes a plain two-layer net),
including bounded/unbounded splits and affine pieces, and the polytope
engine's pieces on 3-D and 4-D boxes; a rank-2 first layer in R^8 (the
count of its image on R^2); invariance under positive rescaling of the input.
"""

import numpy as np
import pytest

from op_reference import count_exact_lp, forward_exact
from regions import Network, box, count, partition, whole
from regions.model.ops import Activation, Add, Affine, Graph, MaxGroups, Node, graph_from_network
from test_ops import mixed
from test_ops import residual as residual_nd
from test_planar_ops import leaky_layers, maxout_ties, relu6, residual, zero_bias_pool


def _r(seed):
    return np.random.default_rng(seed)


def maxout_3d(seed=6):
    """A maxout layer of rank 3 in R^3, ReLU, a pool over pairs."""
    r = _r(seed)
    return Graph([Affine(r.normal(size=(6, 3)), r.normal(size=6)), MaxGroups.maxout(6, 3),
                  Affine(r.normal(size=(4, 2)), r.normal(size=4)), Activation.relu(),
                  MaxGroups([[0, 1], [2, 3]]), Affine(r.normal(size=(1, 2)))], 3)


def low_rank_8d(seed=7):
    """The 2-D residual net seen from R^8 through a rank-2 first layer: every region unbounded."""
    g = residual(seed)
    P = _r(seed).normal(size=(2, 8))
    W, b = g.nodes[0].op.W, g.nodes[0].op.b
    return Graph([Affine(W @ P, b), *[n for n in g.nodes[1:]]], 8)


def maxout_6d(seed=11):
    """Maxout of rank 2 in R^6, a ReLU layer."""
    r = _r(seed)
    return Graph([Affine(r.normal(size=(8, 6)), r.normal(size=8)), MaxGroups.maxout(8, 2),
                  Affine(r.normal(size=(3, 4)), r.normal(size=3)), Activation.relu(),
                  Affine(r.normal(size=(1, 3)))], 6)


GRAPHS = {"residual": residual, "maxout_ties": maxout_ties, "leaky_layers": leaky_layers, "relu6": relu6,
          "zero_bias_pool": zero_bias_pool, "mixed": mixed, "residual_3d": lambda: residual_nd(d=3),
          "maxout_3d": maxout_3d, "maxout_6d": maxout_6d}
PLANAR = ["residual", "maxout_ties", "leaky_layers", "relu6", "zero_bias_pool", "mixed"]
SMALL = sorted(set(GRAPHS) - {"mixed"})  # the brute force takes about a minute on mixed (290 regions)


@pytest.mark.parametrize("name", SMALL)
def test_counts_on_whole_space_match_the_brute_force_reference(name):
    g = GRAPHS[name]()
    got = count(g, whole(g.input_dim), engine="lp")
    assert not got.partial and got.engine == "lp"
    assert got.regions == count_exact_lp(g, -np.inf, np.inf)
    assert got.bounded + got.unbounded == got.regions
    assert got.regions >= got.pieces >= 1


@pytest.mark.parametrize("name", PLANAR)
def test_whole_plane_matches_the_mesh_on_growing_boxes(name):
    g = GRAPHS[name]()
    part = partition(g, whole(2))
    seen = []
    for half in (1e2, 1e3, 1e4):  # far below the mesh's width guard OPS_WIDE for these nets
        mesh = partition(g, box(-half, half, dim=2), engine="planar")
        inner = sum(1 for P in mesh.polygons() if np.max(np.abs(P)) < half * (1 - 1e-9))
        seen.append((mesh.n_regions, mesh.n_pieces, inner))
    assert seen[-1] == seen[-2]  # stable: the box holds every vertex
    res = part.count()
    assert (res.regions, res.pieces, res.bounded) == seen[-1]
    # every region of the largest box is a region of R^2 (same patterns)
    assert {p.tobytes() for p in mesh.patterns} == {p.tobytes() for p in part.patterns}


@pytest.mark.parametrize("name", SMALL)
def test_whole_space_witnesses_reproduce_their_patterns_exactly(name):
    g = GRAPHS[name]()
    part = partition(g, whole(g.input_dim))
    assert len({p.tobytes() for p in part.patterns}) == part.n_regions
    for w, p in zip(part.witnesses, part.patterns):  # Fractions, no lowering
        assert p.tolist() == forward_exact(g, w)[1]
    J, c = part.output_maps()
    y = np.einsum("rok,rk->ro", J, part.witnesses) + c
    assert np.allclose(y, g.forward(part.witnesses), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("d", [2, 3, 5, 8])
@pytest.mark.parametrize("k", [2, 3, 5])
def test_max_of_tangent_planes_has_k_regions_in_whole_space(d, k):
    # tangents of |x|^2 at k points on a circle: the max selects the nearest point (Voronoi cells)
    P = np.zeros((k, d))
    P[:, 0], P[:, 1] = np.cos(2 * np.pi * np.arange(k) / k), np.sin(2 * np.pi * np.arange(k) / k)
    g = Graph([Affine(2 * P, -np.sum(P**2, 1)), MaxGroups([list(range(k))]), Affine([[1.0]])], d)
    got = count(g, whole(d))
    assert (got.regions, got.pieces, got.bounded, got.unbounded) == (k, k, 0, k)
    # the centre added: its cell is bounded in R^2 only (elsewhere the points are coplanar)
    Q = np.vstack([P, np.zeros(d)])
    g = Graph([Affine(2 * Q, -np.sum(Q**2, 1)), MaxGroups([list(range(k + 1))]), Affine([[1.0]])], d)
    got = count(g, whole(d))
    assert (got.regions, got.pieces, got.bounded) == (k + 1, k + 1, int(d == 2 and k >= 3))


PLAIN = [("2-5-5-1", 0.0), ("3-5-4-1", 0.0), ("3-6-6-1", 0.1), ("4-6-5-1", 0.0), ("8-3-4-1", 0.0)]


@pytest.mark.parametrize("arch,slope", PLAIN)
def test_relu_graph_on_whole_space_is_the_plain_network(arch, slope):
    net = Network.from_arch(arch, seed=3, negative_slope=slope)
    d = net.input_dim
    got = count(graph_from_network(net), whole(d))
    ref = count(net, whole(d), engine="polytope")
    assert (got.regions, got.layer_counts) == (ref.regions, list(ref.layer_counts))
    assert (got.bounded, got.unbounded, got.pieces) == (ref.bounded, ref.unbounded, ref.pieces)
    assert ref.pieces is not None and ref.bounded is not None


@pytest.mark.parametrize("arch,seed", [("3-6-5-1", 3), ("4-6-5-1", 3), ("3-5-5-2", 4)])
def test_pieces_on_boxes_in_3d_and_up_match_the_polytope_engine(arch, seed):
    net = Network.from_arch(arch, seed=seed)
    dom = box(-1.0, 1.0, dim=net.input_dim)
    got = count(graph_from_network(net), dom)
    ref = count(net, dom, engine="polytope")
    assert (got.engine, got.regions, got.pieces) == ("lp", ref.regions, ref.pieces)
    assert ref.pieces is not None


@pytest.mark.parametrize("d", [2, 3, 4])
def test_residual_block_whose_skip_cancels_is_the_plain_net(d):
    r = _r(10 + d)
    W1, b1 = r.normal(size=(5, d)), r.normal(size=5)
    V, c = r.normal(size=(4, 5)), r.normal(size=4)
    Wo = r.normal(size=(1, 4))
    g = Graph([Affine(W1, b1), Activation.relu(),            # 2: h
               Affine(V, c), Activation.relu(),              # 4: z
               Node(Affine(-np.eye(5)), (2,)),               # 5: -h
               Node(Add(), (2, 5)), Node(Affine(np.zeros((4, 5))), (6,)),  # h + (-h) = 0 -> 0 in R^4
               Node(Add(), (4, 7)), Affine(Wo)], d)          # z + 0
    net = Network([(W1, b1), (V, c), (Wo, np.zeros(1))])
    got = count(g, whole(d))
    ref = count(net, whole(d), engine="polytope")
    assert (got.regions, got.bounded, got.unbounded, got.pieces) == (ref.regions, ref.bounded, ref.unbounded,
                                                                    ref.pieces)
    assert ref.pieces is not None


def test_low_rank_first_layer_in_r8_counts_as_its_image():
    g8, g2 = low_rank_8d(), residual(7)
    got = count(g8, whole(8))
    # the network sees x only through P x, a surjection onto R^2: regions are preimages of R^2's
    assert got.regions == count(g2, whole(2)).regions == count_exact_lp(g2, -np.inf, np.inf)
    assert (got.bounded, got.unbounded) == (0, got.regions)


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1e3, 1e6])
@pytest.mark.parametrize("name", ["residual", "maxout_ties", "residual_3d"])
def test_positive_rescaling_of_the_input_keeps_the_count(name, scale):
    g = GRAPHS[name]()
    W, b = g.nodes[0].op.W, g.nodes[0].op.b
    h = Graph([Affine(W / scale, b), *g.nodes[1:]], g.input_dim)  # h(x) = g(x / scale)
    a, b_ = count(g, whole(g.input_dim)), count(h, whole(g.input_dim))
    assert (a.regions, a.pieces, a.bounded) == (b_.regions, b_.pieces, b_.bounded)
