"""The 2-D mesh engine for op networks (regions.engines.planar.ops) against independent values.

Independent values: the brute-force LP count over patterns written from the
definition apart from the engines and the lowering (tests/op_reference.py
``count_exact_lp``); the LP op walk (regions.engines.lp.ops, a second
engine: H-polytopes and Chebyshev LPs, no mesh); exact Fraction patterns at
the witnesses (``forward_exact``); dense-grid patterns (every pattern seen
on a grid is a region: a lower bound); the planar kernel on plain networks;
the graph's own forward pass for the output maps; closed forms (k tangent
planes of a paraboloid: k regions); invariances (unit and candidate
permutations, positive rescaling) that any exact count keeps.
"""

import numpy as np
import pytest

from op_reference import count_exact_lp, forward_exact
from regions import Network, RegionsError, box, count, partition, plane, plane_through, polygon, whole
from regions.engines.lp.ops import partition_lp_ops
from regions.engines.planar.ops import OpPlanarPartition, partition_planar_ops
from regions.model.ops import (Activation, Add, Affine, Clamp, Concat, Graph, MaxGroups, Node, compose_graphs,
                               graph_from_network, lower)

SQUARE = box(-1.0, 1.0, dim=2)


def _r(seed):
    return np.random.default_rng(seed)


def residual(seed=0, width=5):
    r = _r(seed)
    return Graph([Affine(r.normal(size=(width, 2)), r.normal(size=width)), Activation.relu(),
                  Affine(0.7 * r.normal(size=(width, width)), 0.5 * r.normal(size=width)), Activation.relu(),
                  Node(Add(), (2, 4)), Affine(r.normal(size=(3, width)), r.normal(size=3)),
                  Activation.leaky_relu(0.2), Affine(r.normal(size=(1, 3)))], 2)


def maxout_ties(seed=1):
    """Maxout with a duplicated candidate, a candidate equal to another up to a constant, and a max over
    duplicates of a ReLU layer."""
    r = _r(seed)
    W, b = r.normal(size=(6, 2)), r.normal(size=6)
    W[1], b[1] = W[0], b[0]          # group 0: candidates 0 and 1 identical
    W[5], b[5] = W[3], b[3] - 0.3    # group 1: candidate 5 parallel to 3, always below it
    return Graph([Affine(W, b), MaxGroups.maxout(6, 3), Affine(np.repeat(r.normal(size=(2, 2)), 2, axis=0),
                                                                np.zeros(4)),
                  Activation.relu(), MaxGroups([[0, 1], [2, 3]]), Affine(r.normal(size=(1, 2)))], 2)


def conv_matrix(r, c_in, h, w, c_out, k):
    """The matrix of a stride-1 'valid' convolution with random kernels and biases (rows: channel, y, x)."""
    ho, wo = h - k + 1, w - k + 1
    K = r.normal(size=(c_out, c_in, k, k))
    M = np.zeros((c_out * ho * wo, c_in * h * w))
    for o in range(c_out):
        for y in range(ho):
            for x in range(wo):
                for i in range(c_in):
                    for dy in range(k):
                        for dx in range(k):
                            M[(o * ho + y) * wo + x, (i * h + y + dy) * w + x + dx] = K[o, i, dy, dx]
    return M, np.repeat(r.normal(size=c_out), ho * wo)


def cnn(seed=2):
    """conv(1 -> 2, 2x2) on 3x3 images, ReLU, MaxPool2d(2, stride 1) with overlapping windows, Linear."""
    r = _r(seed)
    M, b = conv_matrix(r, 1, 3, 3, 2, 2)
    mp, shape = MaxGroups.pool((2, 2, 2), 2, stride=1)
    return Graph([Affine(M, b), Activation.relu(), mp, Affine(r.normal(size=(1, int(np.prod(shape)))))], 9)


def cnn_slice(seed=3):
    """The CNN on the plane through three images, as a 2-input graph on [-1, 1]^2 and as a plane domain."""
    g = cnn(seed)
    X = _r(seed + 10).uniform(0, 1, size=(3, 9))
    dom = plane_through(*X)
    centre, half = (dom.lo + dom.hi) / 2, (dom.hi - dom.lo) / 2
    A = Graph([Affine(dom.basis * half, dom.origin + dom.basis @ centre)], 2)  # [-1, 1]^2 -> the slice
    return compose_graphs(A, g), g, dom


def leaky_layers(seed=3):
    """A different LeakyReLU slope per layer, a PReLU with per-unit slopes (one unit linear), a concat."""
    r = _r(seed)
    return Graph([Affine(r.normal(size=(4, 2)), r.normal(size=4)), Activation.leaky_relu(0.1),
                  Affine(r.normal(size=(4, 4)), r.normal(size=4)), Activation.leaky_relu(-0.5),
                  Affine(r.normal(size=(3, 4)), r.normal(size=3)), Activation.prelu([0.3, 1.0, 2.0]),
                  Node(Concat(), (0, 6)), Affine(r.normal(size=(1, 5)))], 2)


def relu6(seed=4):
    """ReLU6 (Clamp(0, 6)) on large pre-activations (both breakpoints in the box), Hardtanh, 4 outputs."""
    r = _r(seed)
    return Graph([Affine(8 * r.normal(size=(4, 2)), 3 + 2 * r.normal(size=4)), Clamp(0.0, 6.0),
                  Affine(0.4 * r.normal(size=(3, 4)), r.normal(size=3)), Clamp(-1.0, 1.0),
                  Affine(r.normal(size=(4, 3)))], 2)  # four outputs: maps pushed forward


def zero_bias_pool(seed=5):
    """Zero biases (every first-layer line through the origin) and a max pool over the ReLU outputs."""
    r = _r(seed)
    return Graph([Affine(r.normal(size=(6, 2))), Activation.relu(), MaxGroups([[0, 1, 2], [3, 4, 5], [0, 5]]),
                  Affine(r.normal(size=(1, 3)))], 2)


def through_corners():
    """Lines through the box's corners and centre, a duplicated unit, max ties along lines through vertices."""
    W = np.array([[1.0, -1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
    M2 = np.array([[1.0, 0, 0, 0, 0], [0, 1.0, 0, 0, 0], [0, 0, 1.0, 1.0, 0], [0, 0, 0, 0, 1.0], [0, 0, 0, 0, 2.0]])
    return Graph([Affine(W, np.zeros(5)), Activation.relu(), Affine(M2, np.zeros(5)),
                  MaxGroups([[0, 1, 2], [3, 0], [4, 3]]), Affine([[1.0, -1.0, 0.5]])], 2)


CASES = {"residual": residual, "through_corners": through_corners, "maxout_ties": maxout_ties, "cnn_slice": lambda: cnn_slice()[0],
         "leaky_layers": leaky_layers, "relu6": relu6, "zero_bias_pool": zero_bias_pool}


def _mesh(g, dom=SQUARE):
    return partition_planar_ops(lower(g), dom, network=g)


@pytest.mark.parametrize("name", sorted(CASES))
def test_counts_match_the_brute_force_reference(name):
    g = CASES[name]()
    part = _mesh(g)
    assert part.n_regions == count_exact_lp(g, -1.0, 1.0)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_mesh_matches_the_lp_op_walk(name):
    g = CASES[name]()
    low = lower(g)
    a, b = partition_planar_ops(low, SQUARE, network=g), partition_lp_ops(low, SQUARE, network=g)
    assert (a.n_regions, a.layer_counts, a.n_pieces) == (b.n_regions, b.layer_counts, b.n_pieces)
    assert {p.tobytes() for p in a.patterns} == {p.tobytes() for p in b.patterns}


@pytest.mark.parametrize("name", sorted(CASES))
def test_partition_invariants(name):
    g = CASES[name]()
    part = _mesh(g)
    rep = part.verify()  # unique patterns, witnesses, areas, Euler, maps at every vertex
    assert rep["euler"] == 1 and rep["witness_mismatches"] == 0 and rep["measure_rel_error"] < 1e-12
    assert abs(part.areas.sum() - 4.0) < 1e-12 and (part.areas > 0).all()
    for w, p in zip(part.witnesses, part.patterns):  # exact patterns in Fractions, no lowering
        assert p.tolist() == forward_exact(g, w)[1]
    t = np.linspace(-0.9993, 0.9991, 241)  # off the origin, where zero-bias lines meet in a point
    X = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2)
    grid = {p.tobytes() for p in lower(g).patterns(X)}
    assert grid <= {p.tobytes() for p in part.patterns}  # a dense grid sees no pattern we miss
    J, c = part.output_maps()  # exact maps reproduce the graph at the witnesses
    y = np.einsum("rok,rk->ro", J, part.witnesses) + c
    assert np.allclose(y, g.forward(part.witnesses), rtol=1e-10, atol=1e-10)
    # region_of finds every witness's own region; each H-representation holds its witness strictly
    assert (part.region_of(part.witnesses) == np.arange(part.n_regions)).all()
    for i in range(part.n_regions):
        A, b = part.hrep(i)
        assert (A @ part.witnesses[i] < b).all()


def test_cnn_on_the_plane_through_three_images():
    flat, g, dom = cnn_slice()
    part = partition(g, dom)  # the plane slice composed into the first op by the engine
    assert isinstance(part, OpPlanarPartition) and part.engine == "planar"
    part.verify()
    assert part.n_regions == count_exact_lp(flat, -1.0, 1.0) == count(g, dom, engine="lp").regions
    assert abs(part.areas.sum() - dom.measure) < 1e-9 * dom.measure


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_max_of_tangent_planes_has_k_regions(k):
    # tangents of |x|^2 at k points inside the box: the max selects the nearest point (Voronoi cells)
    ang = 2 * np.pi * np.arange(k) / k
    P = 0.6 * np.stack([np.cos(ang), np.sin(ang)], 1)
    g = Graph([Affine(2 * P, -np.sum(P**2, 1)), MaxGroups([list(range(k))]), Affine([[1.0]])], 2)
    part = _mesh(g)
    part.verify()
    assert part.n_regions == part.n_pieces == k
    # the same candidates each twice (ties everywhere between copies): still k, the lower copy wins
    g2 = Graph([Affine(np.repeat(2 * P, 2, 0), np.repeat(-np.sum(P**2, 1), 2)), MaxGroups([list(range(2 * k))]),
                Affine([[1.0]])], 2)
    p2 = _mesh(g2)
    assert p2.n_regions == k
    assert not p2.patterns[:, 1::2].any()  # the higher index of a tie is never selected


def _chain(W1, b1, act, W2, b2, groups, Wo):
    """Affine -> elementwise activation -> Affine -> max over ``groups`` -> Affine."""
    return Graph([Affine(W1, b1), act, Affine(W2, b2), MaxGroups(groups), Affine(Wo)], 2)


@pytest.mark.parametrize("act", [Activation.relu(), Activation.leaky_relu(0.3), Activation.leaky_relu(-1.5)])
def test_permutations_and_positive_rescaling_keep_the_count(act):
    r = _r(11)
    W1, b1 = r.normal(size=(7, 2)), r.normal(size=7)
    W1[3], b1[3] = 0.0, 0.0  # a dead unit (constant zero) beside the others
    W2, b2 = r.normal(size=(6, 7)), r.normal(size=6)
    groups = [[0, 1, 2], [3, 4], [5]]
    Wo = r.normal(size=(1, 3))
    base = _mesh(_chain(W1, b1, act, W2, b2, groups, Wo))
    base.verify()
    p = r.permutation(7)  # hidden units permuted (rows of W1, columns of W2)
    q = r.permutation(6)  # max candidates permuted (rows of W2, group indices remapped)
    inv = np.argsort(q)
    perm = _chain(W1[p], b1[p], act, W2[q][:, p], b2[q], [sorted(inv[g]) for g in groups], Wo)
    assert _mesh(perm).n_regions == base.n_regions
    # positive rescaling: unit j of the first layer by c_j (undone by W2's column j), each max group's
    # candidates by one d_g (undone by the output weight of the group)
    c = r.uniform(0.01, 100.0, size=7)
    d = r.uniform(0.01, 100.0, size=3)
    dc = np.concatenate([np.full(len(g), x) for g, x in zip(groups, d)])
    scaled = _chain(W1 * c[:, None], b1 * c, act, W2 / c[None, :] * dc[:, None], b2 * dc, groups, Wo / d[None, :])
    sp = _mesh(scaled)
    assert (sp.n_regions, sp.n_pieces) == (base.n_regions, base.n_pieces)
    # inputs scaled by 1/s on a box s times wider
    s = 1e3
    assert _mesh(_chain(W1 / s, b1, act, W2, b2, groups, Wo), box(-s, s, dim=2)).n_regions == base.n_regions


def test_max_candidate_order_does_not_change_the_count():
    r = _r(12)
    W, b = r.normal(size=(5, 2)), r.normal(size=5)
    counts = set()
    for seed in range(4):
        p = _r(seed).permutation(5)
        g = Graph([Affine(W[p], b[p]), MaxGroups([list(range(5))]), Affine([[1.0]])], 2)
        counts.add(_mesh(g).n_regions)
    assert len(counts) == 1


@pytest.mark.parametrize("arch,slope", [("2-8-8-1", 0.0), ("2-12-12-12-1", 0.0), ("2-10-10-2", 0.15)])
def test_plain_nets_match_the_planar_kernel(arch, slope):
    net = Network.from_arch(arch, seed=7, negative_slope=slope)
    a = _mesh(graph_from_network(net))
    b = partition(net, SQUARE, engine="planar")
    assert (a.n_regions, list(a.layer_counts), a.n_pieces) == (b.n_regions, list(b.layer_counts), b.n_pieces)
    assert abs(np.sort(a.areas) - np.sort(b.areas)).max() < 1e-12


def test_polygons_planes_and_dispatch():
    g = residual()
    tri = polygon([[-1.0, -1.0], [1.0, -0.5], [0.0, 1.0]])
    part = partition(g, tri)
    assert part.engine == "planar"
    part.verify()
    assert abs(part.areas.sum() - tri.measure) < 1e-12
    lp = count(g, tri, engine="lp")
    assert (part.n_regions, part.n_pieces) == (lp.regions, lp.pieces)
    # a plane slice of a 3-input residual net (through the origin: zero offsets are normal input)
    r = _r(13)
    g3 = Graph([Affine(r.normal(size=(4, 3)), r.normal(size=4)), Activation.relu(), Affine(r.normal(size=(3, 4))),
                Node(Add(), (0, 3)), MaxGroups([[0, 1], [1, 2]]), Affine(r.normal(size=(1, 2)))], 3)
    dom = plane(np.zeros(3), np.array([1.0, 0.5, 0.0]), np.array([0.0, 1.0, -1.0]))
    got, ref = count(g3, dom), count(g3, dom, engine="lp")
    assert (got.engine, got.regions, got.layer_counts, got.pieces) == ("planar", ref.regions, ref.layer_counts,
                                                                         ref.pieces)
    # unbounded and 3-D domains stay with the LP walk; naming the mesh there is refused
    assert count(maxout_ties(), whole(2)).engine == "lp"
    with pytest.raises(RegionsError, match="bounded 2-D domain"):
        count(g, whole(2), engine="planar")
    with pytest.raises(RegionsError, match="bounded 2-D domain"):
        count(g3, box(-1.0, 1.0, dim=3), engine="planar")


def test_partial_runs_and_a_bigger_domain():
    g = zero_bias_pool()
    small, big = _mesh(g).n_regions, _mesh(g, box(-3.0, 3.0, dim=2)).n_regions
    assert big >= small
    stopped = count(residual(width=8), SQUARE, max_regions=5)
    assert stopped.partial and stopped.regions > 5


def test_wide_boxes_grow_or_are_refused():
    from regions.errors import NumericalError

    g = maxout_ties()
    counts = [_mesh(g, box(-s, s, dim=2)).n_regions for s in (1.0, 1e3, 1e7)]
    assert counts == sorted(counts) and counts[-1] == count(g, whole(2)).regions  # the LP walk on R^2
    with pytest.raises(NumericalError, match="feature radii"):
        partition(g, box(-1e15, 1e15, dim=2), engine="planar")  # edges that long lose the features
    assert count(g, box(-1e15, 1e15, dim=2), engine="planar").regions == counts[-1]  # R^2's regions in it


@pytest.mark.parametrize("make", [maxout_ties, residual], ids=["maxout_ties", "residual"])
def test_wide_boxes_never_lose_regions_in_any_op_engine(make):
    # every engine, named or chosen, either refuses a wide box or counts at least what a smaller box
    # holds (nested domains); both engines lost regions silently here before the width guard
    from regions.errors import NumericalError

    g = make()
    for engine in (None, "planar", "lp"):
        last = 0
        for s in (1.0, 1e3, 1e6, 1e9, 1e12, 1e15):
            try:
                got = count(g, box(-s, s, dim=2), engine=engine).regions
            except NumericalError as e:
                assert "feature radii" in str(e) or "HiGHS" in str(e)
                continue
            assert got >= last, (engine, s, got, last)
            last = got
