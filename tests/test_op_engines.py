"""Op networks through regions.count / regions.partition in 2-D and 3-D, against independent values.

Independent values: the polytope (vertex) engine on plain nets written as
op graphs (a second engine); a brute-force LP over patterns written from
the definition apart from the engines and the lowering
(tests/op_reference.py ``count_exact_lp``, scipy's linprog); exact Fraction
patterns at the witnesses (``forward_exact``); dense-grid patterns (every
pattern seen on a grid is a region: a lower bound); the 1-D op walk along
segments (every interval it finds is a region of the n-D partition);
closed forms (max of k tangent planes of a paraboloid: k regions; k
identical pieces: 1 region; a residual block that cancels itself).
"""

import numpy as np
import pytest

from op_reference import count_exact_lp, forward_exact
from regions import Network, RegionsError, box, count, partition, plane, segment, whole
from regions.model.ops import (Activation, Add, Affine, Clamp, Concat, Graph, MaxGroups, Node,
                               graph_from_network, lower)
from test_ops import residual


def _r(seed):
    return np.random.default_rng(seed)


def maxout(seed=3, d=2):
    r = _r(seed)
    return Graph([Affine(r.normal(size=(6, d)), r.normal(size=6)), MaxGroups.maxout(6, 3),
                  Affine(r.normal(size=(4, 2)), r.normal(size=4)), Activation.relu(),
                  Affine(r.normal(size=(1, 4)))], d)


def pool(seed=4):
    r = _r(seed)
    mp, shape = MaxGroups.pool((2, 4), 2)
    return Graph([Affine(r.normal(size=(8, 2)), r.normal(size=8)), Activation.relu(), mp,
                  Affine(r.normal(size=(1, 4)))], 2)


def clamp_prelu(seed=5):
    r = _r(seed)
    return Graph([Affine(r.normal(size=(3, 2)), 0.3 * r.normal(size=3)), Clamp(-0.3, 0.4),
                  Affine(r.normal(size=(3, 3)), 0.3 * r.normal(size=3)), Activation.prelu([0.2, -0.5, 1.0]),
                  Affine(r.normal(size=(1, 3)))], 2)


def concat_leaky(seed=6):
    r = _r(seed)
    return Graph([Affine(r.normal(size=(3, 2)), r.normal(size=3)), Activation.leaky_relu(0.1),
                  Node(Concat(), (0, 2)), Affine(r.normal(size=(3, 5)), r.normal(size=3)),
                  Activation.relu(), Affine(r.normal(size=(1, 3)))], 2)


def ties(seed=7):
    """Duplicate units, a dead unit (both slopes 0), a max over duplicated candidates."""
    r = _r(seed)
    W, b = r.normal(size=(3, 2)), r.normal(size=3)
    W = np.vstack([W, W[:1], np.zeros((1, 2))])
    b = np.append(b, [b[0], 0.5])
    return Graph([Affine(W, b), Activation(np.array([0, 0, 0, 0, 0.0]), np.array([1, 1, 1, 1, 0.0])),
                  Affine(np.repeat(r.normal(size=(2, 5)), 2, axis=0)), MaxGroups([[0, 1, 2, 3]]),
                  Affine([[1.0]])], 2)


SMALL = {"residual": lambda: residual(d=2), "maxout": maxout, "pool": pool, "clamp_prelu": clamp_prelu,
         "concat_leaky": concat_leaky, "ties": ties}


@pytest.mark.parametrize("arch,slope,dom", [
    ("2-8-8-1", 0.0, box(-1.0, 1.0, dim=2)),
    ("2-6-6-1", 0.1, box(-2.0, 1.0, dim=2)),
    ("3-6-6-1", 0.0, box(-1.0, 1.0, dim=3)),
    ("2-5-5-1", 0.0, whole(2)),
])
def test_plain_nets_match_the_polytope_engine(arch, slope, dom):
    net = Network.from_arch(arch, seed=1, negative_slope=slope)
    got = count(graph_from_network(net), dom)
    ref = count(net, dom, engine="polytope")
    assert (got.regions, got.layer_counts) == (ref.regions, list(ref.layer_counts))


@pytest.mark.parametrize("name", sorted(SMALL))
def test_counts_match_the_brute_force_reference(name):
    g = SMALL[name]()
    assert count(g, box(-1.0, 1.0, dim=2)).regions == count_exact_lp(g, -1.0, 1.0)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_partition_invariants_and_independent_bounds(name):
    g = SMALL[name]()
    dom = box(-1.0, 1.0, dim=2)
    part = partition(g, dom)
    rep = part.verify()  # unique patterns, witnesses reproduce them, areas sum to the box's
    assert rep["witness_mismatches"] == 0 and rep["measure_rel_error"] < 1e-9
    pats = {p.tobytes() for p in part.patterns}
    for w, p in zip(part.witnesses, part.patterns):  # exact patterns (Fractions, no lowering)
        assert p.tolist() == forward_exact(g, w)[1]
    t = np.linspace(-1, 1, 301)
    X = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2)
    grid = {p.tobytes() for p in lower(g).patterns(X)}
    assert grid <= pats  # every pattern on the grid is a region: a lower bound
    # output maps reproduce the graph at the witnesses
    J, c = part.output_maps()
    y = np.einsum("rok,rk->ro", J, part.witnesses) + c
    assert np.allclose(y, g.forward(part.witnesses), rtol=1e-9, atol=1e-9)
    # every interval of the 1-D walk along a segment is a region of the 2-D partition
    for s in range(3):
        a, b = _r(s).uniform(-1, 1, size=(2, 2))
        line = partition(g, segment(a, b))
        assert line.engine == "line"
        assert {p.tobytes() for p in line.patterns} <= pats


@pytest.mark.parametrize("k", [2, 3, 5])
def test_max_of_tangent_planes_has_k_regions(k):
    # tangents of |x|^2 at k points inside the box: the max selects the nearest point (Voronoi cells)
    P = np.stack([0.6 * np.cos(2 * np.pi * np.arange(k) / k), 0.6 * np.sin(2 * np.pi * np.arange(k) / k)], 1)
    g = Graph([Affine(2 * P, -np.sum(P**2, 1)), MaxGroups([list(range(k))]), Affine([[1.0]])], 2)
    assert count(g, box(-1.0, 1.0, dim=2)).regions == k
    assert count(g, whole(2)).regions == k
    # k identical pieces: one region
    same = Graph([Affine(np.repeat(P[:1], k, 0), np.zeros(k)), MaxGroups([list(range(k))]), Affine([[1.0]])], 2)
    assert count(same, box(-1.0, 1.0, dim=2)).regions == 1


def test_maxout_layer_on_a_3d_box():
    g = maxout(d=3)
    part = partition(g, box(-1.0, 1.0, dim=3))
    part.verify()
    t = np.linspace(-1, 1, 41)
    X = np.stack(np.meshgrid(t, t, t), -1).reshape(-1, 3)
    assert {p.tobytes() for p in lower(g).patterns(X)} <= {p.tobytes() for p in part.patterns}


def test_residual_block_that_cancels_is_the_first_layer():
    r = _r(8)
    W, b = r.normal(size=(5, 2)), r.normal(size=5)
    g = Graph([Affine(W, b), Activation.relu(), Affine(-np.eye(5)), Node(Add(), (2, 3)),  # h + (-h) = 0
               Affine(r.normal(size=(4, 5)), r.normal(size=4)), Activation.relu(), Affine(r.normal(size=(1, 4)))], 2)
    one = Network([(W, b), (np.ones((1, 5)), np.zeros(1))])
    dom = box(-1.0, 1.0, dim=2)
    got = count(g, dom)
    assert got.regions == count(one, dom, engine="polytope").regions == got.layer_counts[0]


def test_zero_inner_residual_counts_as_the_plain_net():
    g = residual(d=2, zero_inner=True)
    plain = Graph([g.nodes[0].op, Activation.relu(), g.nodes[-1].op], 2)
    dom = box(-1.5, 1.5, dim=2)
    assert count(g, dom).regions == count(plain, dom).regions >= 2


def test_positive_rescaling_and_a_bigger_domain():
    g = SMALL["pool"]()
    small, big = count(g, box(-1.0, 1.0, dim=2)).regions, count(g, box(-2.0, 2.0, dim=2)).regions
    assert big >= small
    s = 1e3  # the same graph on inputs scaled by 1/s over a domain scaled by s
    g2 = Graph([Affine(g.nodes[0].op.W / s, g.nodes[0].op.b), *[n.op for n in g.nodes[1:]]], 2)
    assert count(g2, box(-s, s, dim=2)).regions == small


def test_planes_through_inputs():
    g = residual(d=3)
    dom = plane(np.zeros(3), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
    part = partition(g, dom)
    part.verify()
    assert part.n_regions >= 2


@pytest.mark.parametrize("kw,match", [
    (dict(engine="polytope"), "does not take op networks"),
    (dict(engine="line"), "1-D domain"),
    (dict(jobs=2, engine="lp"), "the LP walk does not split yet"),
])
def test_refusals(kw, match):
    with pytest.raises(RegionsError, match=match):
        count(SMALL["maxout"](), box(-1.0, 1.0, dim=2), **kw)


def test_wrong_domain_dimension_is_refused():
    with pytest.raises(RegionsError, match="2 inputs"):
        count(SMALL["maxout"](), box(-1.0, 1.0, dim=3))


@pytest.mark.parametrize("k", [2, 3])
def test_montufar_maxout_construction_meets_the_lower_bound(k):
    # unit i: max_j (s_j x_i - s_j^2 / 2), a k-piece convex function of x_i; d units: a k^d grid
    from regions import theory

    s = np.arange(k) - (k - 1) / 2
    W = np.zeros((2 * k, 2))
    W[:k, 0], W[k:, 1] = s, s
    g = Graph([Affine(W, np.tile(-s**2 / 2, 2)), MaxGroups.maxout(2 * k, k), Affine([[1.0, 1.0]])], 2)
    assert count(g, box(-1.0, 1.0, dim=2)).regions == k**2 == theory.montufar2014_maxout_lower_bound(2, [2], k)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_maxout_nets_stay_below_serra(seed):
    from regions import theory

    r = _r(seed)
    g = Graph([Affine(r.normal(size=(6, 2)), r.normal(size=6)), MaxGroups.maxout(6, 3),
               Affine(r.normal(size=(6, 2)), r.normal(size=6)), MaxGroups.maxout(6, 2), Affine(r.normal(size=(1, 3)))], 2)
    got = count(g, whole(2))
    assert 2 <= got.layer_counts[0] <= theory.serra_maxout_upper_bound(2, [2], 3)
    # mixed ranks: Serra's product, layer by layer (3 ties per rank-3 unit, 1 per rank-2 unit)
    assert got.regions <= theory.serra_maxout_upper_bound(2, [2], 3) * theory.serra_maxout_upper_bound(2, [3], 2)


def test_compose_with_op_graphs():
    from regions import compose

    f, g = SMALL["residual"](), Network.from_arch("2-4-2", seed=2)
    h = compose(f, g)
    X = _r(9).normal(size=(30, 2))
    assert np.allclose(h.forward(X), g(f.forward(X)), rtol=1e-12, atol=1e-12)
    assert h.n_params == f.n_params + g.n_params
    # plain nets composed as graphs count as the composed Network (polytope engine)
    a, b = Network.from_arch("2-5-2", seed=3), Network.from_arch("2-5-1", seed=4)
    dom = box(-1.0, 1.0, dim=2)
    assert count(compose(graph_from_network(a), b), dom).regions == count(compose(a, b), dom,
                                                                           engine="polytope").regions


def test_polygon_domains_partial_runs_and_all_of_r3():
    from regions import plane_through

    g = residual(d=3)
    tri = plane_through(np.zeros(3), np.array([2.0, 0, 0]), np.array([0, 2.0, 0]), triangle=True)
    part = partition(g, tri)
    part.verify()  # areas sum to the triangle's
    t = np.linspace(0, 1, 201)
    U = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2) * (tri.hi - tri.lo) + tri.lo
    U = U[tri.contains(U)]
    assert {p.tobytes() for p in lower(g).patterns(tri.to_input(U))} <= {p.tobytes() for p in part.patterns}
    stopped = count(SMALL["pool"](), box(-1.0, 1.0, dim=2), max_regions=5)
    assert stopped.partial and stopped.regions > 5
    # all of R^3 holds at least the regions of any box in it
    assert count(g, whole(3)).regions >= count(g, box(-3.0, 3.0, dim=3)).regions >= 2


@pytest.mark.parametrize("name", sorted(SMALL))
def test_the_lp_walk_on_segments_matches_the_1d_walk(name):
    # two engines on the same 1-D domain: the exact interval walk and the H-polytope walk
    g = SMALL[name]()
    for s in range(2):
        a, b = _r(20 + s).uniform(-1.5, 1.5, size=(2, 2))
        dom = segment(a, b)
        one, lp = partition(g, dom), partition(g, dom, engine="lp")
        assert one.n_regions == lp.n_regions
        assert {p.tobytes() for p in one.patterns} == {p.tobytes() for p in lp.patterns}


@pytest.mark.parametrize("arch,slope,seed", [("2-6-6-6-1", 0.0, 1), ("2-8-8-2", 0.2, 2), ("2-10-10-1", 0.0, 5)])
def test_pieces_in_2d_match_the_planar_engine(arch, slope, seed):
    net = Network.from_arch(arch, seed=seed, negative_slope=slope)
    W, b = net.layers[-1]
    W = W.copy()
    W[:, ::2] = 0.0  # the output ignores half the last layer: neighbours merge into pieces
    net = Network([*net.layers[:-1], (W, b)], negative_slope=slope)
    dom = box(-1.0, 1.0, dim=2)
    got, ref = count(graph_from_network(net), dom), count(net, dom, engine="planar")
    assert (got.regions, got.pieces) == (ref.regions, ref.pieces)
    assert got.pieces < got.regions


def test_pieces_of_op_graphs():
    # max of tangent planes: every region its own map; a zero output: one piece
    P = np.array([[0.5, 0.0], [-0.5, 0.3], [0.0, -0.6]])
    g = Graph([Affine(2 * P, -np.sum(P**2, 1)), MaxGroups([[0, 1, 2]]), Affine([[1.0]])], 2)
    assert count(g, box(-1.0, 1.0, dim=2)).pieces == 3
    flat = Graph([*[n for n in SMALL["pool"]().nodes[:-1]], Node(Affine(np.zeros((1, 4))), (3,))], 2)
    got = count(flat, box(-1.0, 1.0, dim=2))
    assert got.pieces == 1 and got.regions > 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_residual_and_max_pool_against_regioncam(seed):
    # a separately written tool (regioncam, float32) on random nets with no ties
    rc = pytest.importorskip("regioncam")
    r = _r(seed)
    W1, b1 = r.normal(size=(8, 2)), r.normal(size=8)
    W3, b3, Wo = 0.5 * r.normal(size=(8, 8)), 0.5 * r.normal(size=8), r.normal(size=(1, 8))
    W2, b2 = r.normal(size=(5, 8)), r.normal(size=5)
    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    cam = rc.Regioncam(1.0)
    cam.linear(f32(W1.T), f32(b1))
    cam.relu()
    cam.add(rc.nn.Residual(rc.nn.Sequential(rc.nn.Linear(f32(W3.T), f32(b3)), rc.nn.ReLU())))
    cam.linear(f32(Wo.T), f32(np.zeros(1)))
    res = Graph([Affine(W1, b1), Activation.relu(), Affine(W3, b3), Activation.relu(), Node(Add(), (2, 4)),
                 Affine(Wo)], 2)
    pool_cam = rc.Regioncam(1.0)
    pool_cam.linear(f32(W1.T), f32(b1))
    pool_cam.relu()
    pool_cam.linear(f32(W2.T), f32(b2))
    pool_cam.max_pool()  # the max over all five units
    pool = Graph([Affine(W1, b1), Activation.relu(), Affine(W2, b2), MaxGroups([list(range(5))]), Affine([[1.0]])], 2)
    dom = box(-1.0, 1.0, dim=2)
    assert count(res, dom).regions == cam.num_faces
    assert count(pool, dom).regions == pool_cam.num_faces


@pytest.mark.parametrize("dom", [segment(np.array([-1.0, 0.2]), np.array([1.0, -0.4])), box(-1.0, 1.0, dim=2)])
def test_op_partitions_follow_the_partition_protocol(dom):
    from regions.engines.base import Partition

    g = SMALL["maxout"]()
    part = partition(g, dom)
    assert isinstance(part, Partition)
    rep = part.verify()
    assert rep["witness_mismatches"] == 0 and rep["unique_patterns"]
    assert part.count().regions == part.n_regions == len(part.layer_counts and part.patterns)
    J, c = part.output_maps()
    assert J.shape[0] == c.shape[0] == part.n_regions
