"""Op graphs on wide boxes (regions.engines.ops_wide) at every scale, against independent values.

Issue 15 ("exact at every scale") for residual, max pool, maxout, LeakyReLU /
PReLU, concat, clamp and CNN graphs.  Independent values:

* the brute-force LP count over patterns on all of ``R^d``, written from the
  definition apart from the engines and the lowering
  (tests/op_reference.py ``count_exact_lp``): a box far wider than the
  features holds every region of ``R^d``;
* the 2-D op mesh (regions.engines.planar.ops, a second engine: no LPs, no
  exact witnesses) on boxes of moderate width, where it was always exact:
  the whole-space route, forced on those boxes, must give its regions,
  pieces and per-layer counts (also on boxes that do not hold every region,
  so regions are dropped there);
* nesting: a bigger box never holds fewer regions;
* positive rescaling (of the input's unit, and of every hidden value: the
  first layer times ``c`` with every later bias and clamp bound) never
  changes a count, from ``1e-300`` to ``1e300``; a refusal is a one-sentence
  NumericalError, never a different number;
* ``forward_exact`` (Fractions through the graph itself, not the lowering)
  for the exact patterns the certificate uses.
"""

import numpy as np
import pytest

from op_reference import count_exact_lp, forward_exact, value_scaled
from regions import box, count, partition, plane_through, polygon, whole
from regions.domains import Domain
from regions.engines.ops_wide import LP_SPAN, WIDE_TRIGGER, count_wide, exact_patterns
from regions.engines.planar.ops import partition_planar_ops
from regions.errors import NumericalError
from regions.model.ops import Affine, Graph, compose_graphs, lower
from test_op_whole import maxout_3d
from test_ops import residual as residual_nd
from test_planar_ops import cnn_slice, leaky_layers, maxout_ties, relu6, residual, zero_bias_pool

# every op kind: residual Add (+ LeakyReLU), maxout with tied candidates and a max pool, per-layer
# LeakyReLU / PReLU slopes with a Concat, ReLU6 and Hardtanh clamps, a CNN (conv, ReLU, overlapping
# MaxPool2d) on a plane through three images, zero biases (cones), and two 3-D graphs
GRAPHS = {"residual": residual, "maxout_ties": maxout_ties, "leaky_concat": leaky_layers, "clamp": relu6,
          "cnn_slice": lambda: cnn_slice()[0], "zero_bias_pool": zero_bias_pool,
          "residual_3d": lambda: residual_nd(d=3), "maxout_3d": maxout_3d}
PLANAR = ["residual", "maxout_ties", "leaky_concat", "clamp", "cnn_slice"]


def _whole_count(g):
    """The LP op walk on all of R^d, which tests/test_op_whole.py checks against the brute-force reference
    (``count_exact_lp``) on these very graphs; re-run here for the zero-bias cone and the CNN only."""
    return count(g, whole(g.input_dim), engine="lp").regions


def _input_scaled(g, a):
    """``x -> g(x / a)``: the same network with the input's unit divided by ``a`` (boxes times ``a``)."""
    d = g.input_dim
    return compose_graphs(Graph([Affine(np.eye(d) / a)], d), g)




@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_nested_boxes_up_to_1e15_never_lose_regions_and_reach_the_whole_space(name):
    g = GRAPHS[name]()
    d = g.input_dim
    got = [count(g, box(-s, s, dim=d)).regions for s in (1.0, 1e2, 1e5, 1e15)]
    assert got == sorted(got), got
    assert got[-1] == got[-2] == _whole_count(g)
    if name in ("zero_bias_pool", "cnn_slice"):  # not among test_op_whole's brute-force graphs
        assert got[-1] == count_exact_lp(g, -np.inf, np.inf)
    if name in ("residual", "maxout_ties"):  # named engines agree (the mesh and the LP walk: one count)
        for engine in ("planar", "lp"):
            assert count(g, box(-1e9, 1e9, dim=2), engine=engine).regions == got[-1]


@pytest.mark.parametrize("name", PLANAR)
@pytest.mark.parametrize("half", [3.0, 30.0, 1e3])
def test_whole_space_route_matches_the_mesh_on_moderate_boxes(name, half):
    # forced on boxes the mesh resolves: regions dropped or kept, pieces joined within the box
    g = GRAPHS[name]()
    low, dom = lower(g), box(-half, half, dim=2)
    mesh = partition_planar_ops(low, dom, network=g).count()
    got = count_wide(low, dom, engine=None, network=g, trigger=0.0)
    assert (got.regions, got.pieces, got.layer_counts) == (mesh.regions, mesh.pieces, list(mesh.layer_counts))


@pytest.mark.parametrize("name", ["residual", "maxout_ties", "clamp", "maxout_3d"])
@pytest.mark.parametrize("how", ["input", "values"])
def test_positive_rescaling_from_1e_minus_300_to_1e300_never_changes_a_count(name, how):
    g = GRAPHS[name]()
    d = g.input_dim
    for half in (1.0, 1e12):
        base = count(g, box(-half, half, dim=d))
        for a in (1e-300, 1e-100, 1e300):
            try:
                if how == "input":
                    got = count(_input_scaled(g, a), box(-a * half, a * half, dim=d))
                else:
                    got = count(value_scaled(g, a), box(-half, half, dim=d))
            except NumericalError as e:  # float64 overflows: one sentence, never a different number
                assert "\n" not in str(e) and str(e).startswith("expected")
                continue
            assert (got.regions, got.pieces) == (base.regions, base.pieces), (half, a)


def test_whole_space_counts_are_invariant_under_extreme_input_units():
    # the LP walk on R^d itself (its unit of length, its norms) at 1e+-300: was 1 region of 11
    g = maxout_ties()
    want = count(g, whole(2))
    for a in (1e-300, 1e300):
        got = count(_input_scaled(g, a), whole(2))
        assert (got.regions, got.pieces, got.bounded) == (want.regions, want.pieces, want.bounded) == (11, 8, 3)
    cone = zero_bias_pool()  # every feature through the origin: no unit of length at all
    for c in (1e-300, 1e300):
        assert count(value_scaled(cone, c), whole(2)).regions == count(cone, whole(2)).regions == 19


def test_a_wide_plane_slice_of_a_3_input_net_is_the_unbounded_slice():
    g = residual_nd(d=3)
    X = np.random.default_rng(4).normal(size=(3, 3))
    base = plane_through(*X)
    unb = Domain(np.full(2, -np.inf), np.full(2, np.inf), origin=base.origin, basis=base.basis, kind="plane")
    want = count(g, unb, engine="lp")
    got = [count(g, Domain(np.full(2, -s), np.full(2, s), origin=base.origin, basis=base.basis, kind="plane"))
           for s in (1.0, 1e2, 1e6, 1e15)]
    assert [r.regions for r in got] == sorted(r.regions for r in got)
    assert (got[-1].regions, got[-1].pieces) == (want.regions, want.pieces)
    # the mesh on a moderate slice (the route forced there)
    dom = Domain(np.full(2, -40.0), np.full(2, 40.0), origin=base.origin, basis=base.basis, kind="plane")
    mesh = partition_planar_ops(lower(g), dom, network=g).count()
    forced = count_wide(lower(g), dom, engine=None, network=g, trigger=0.0)
    assert (forced.regions, forced.pieces) == (mesh.regions, mesh.pieces)


@pytest.mark.parametrize("name", ["residual", "maxout_ties"])
def test_polygons_grow_to_the_whole_plane_and_match_the_mesh(name):
    g = GRAPHS[name]()
    tri = np.array([[-1.0, -0.8], [1.2, -0.5], [0.1, 1.0]])
    got = [count(g, polygon(tri * s)).regions for s in (1.0, 1e3, 1e15)]
    assert got == sorted(got) and got[-1] == _whole_count(g)
    low = lower(g)
    for s in (2.0, 20.0):  # the route forced on moderate triangles: regions and pieces cut by its sides
        mesh = partition_planar_ops(low, polygon(tri * s), network=g).count()
        forced = count_wide(low, polygon(tri * s), engine=None, network=g, trigger=0.0)
        assert (forced.regions, forced.pieces, forced.layer_counts) == (mesh.regions, mesh.pieces,
                                                                         list(mesh.layer_counts))


def test_wide_partitions_are_still_refused_and_counts_say_how_they_were_made():
    g = residual()
    with pytest.raises(NumericalError, match="feature radii"):
        partition(g, box(-1e15, 1e15, dim=2))
    res = count(g, box(-1e15, 1e15, dim=2), engine="planar")
    assert res.engine == "lp" and res.extra["requested_engine"] == "planar" and "whole" in res.extra["method"]


@pytest.mark.parametrize("name", ["residual", "clamp", "leaky_concat"])
@pytest.mark.parametrize("unit", [0, 1])
def test_far_boxes_across_a_unit_line_match_the_mesh(name, unit):
    # boxes 1e5 wide, 1e8 from the origin on a first-layer line (no witness of R^2 inside: the LPs run
    # in the box's own frame, beyond LP_SPAN feature units)
    g = GRAPHS[name]()
    low = lower(g)
    W, b = low.layers[0]
    w = W[unit]
    x = -b[unit] * w / (w @ w) + 1e8 * np.array([-w[1], w[0]]) / np.linalg.norm(w)
    dom = box(x - 1e5, x + 1e5)
    mesh = partition_planar_ops(low, dom, network=g).count()
    got = count(g, dom)
    assert "whole" in got.extra["method"] and 1e8 / 3 > LP_SPAN > WIDE_TRIGGER
    assert (got.regions, got.pieces, got.layer_counts) == (mesh.regions, mesh.pieces, list(mesh.layer_counts))
    assert got.regions >= 2


def test_a_far_sliver_is_confirmed_or_refused_in_one_sentence():
    # ReLU6 across its clamp's line 1e12 from the origin, boxes 2e6 and 2e12 wide: a region meets the first
    # box in a wedge ~1e-8 of its size, confirmed in exact arithmetic (the mesh, within its width guard
    # here, loses it: 3); in the second box a region within that margin cannot be confirmed: refused
    g = relu6()
    low = lower(g)
    W, b = low.layers[0]
    w = W[1]
    at = lambda D: -b[1] * w / (w @ w) + D * np.array([-w[1], w[0]]) / np.linalg.norm(w)  # noqa: E731
    got = count(g, box(at(1e12) - 1e6, at(1e12) + 1e6))
    assert got.regions == 4 > partition_planar_ops(low, box(at(1e12) - 1e6, at(1e12) + 1e6)).n_regions
    with pytest.raises(NumericalError) as e:
        count(g, box(at(1e14) - 1e12, at(1e14) + 1e12))
    assert "\n" not in str(e.value) and "sliver" in str(e.value)


def test_max_regions_on_a_wide_box_gives_a_lower_bound():
    g = residual()
    res = count(g, box(-1e9, 1e9, dim=2), max_regions=20)
    assert res.partial and 20 < res.regions <= 90 and res.pieces is None


@pytest.mark.parametrize("name", ["maxout_ties", "zero_bias_pool", "clamp", "leaky_concat"])
def test_exact_patterns_match_the_graph_in_fractions(name):
    # random points, the origin, and points on unit lines and max ties (exact evaluation needed there)
    g = GRAPHS[name]()
    low = lower(g)
    r = np.random.default_rng(0)
    T = np.vstack([r.normal(size=(20, 2)) * 3, np.zeros((1, 2)), [[1.0, 0.0], [0.0, -2.0]]])
    got = exact_patterns(low, box(-1.0, 1.0, dim=2), T)
    for t, p in zip(T, got):
        assert p.tolist() == forward_exact(g, t)[1]


def test_a_wide_partition_that_loses_a_sliver_is_refused():
    # the far ReLU6 box above: the mesh alone holds 3 regions, the box 4 (confirmed exactly), so the
    # partition (within the mesh's width guard) is refused rather than returned with 3
    g = relu6()
    low = lower(g)
    W, b = low.layers[0]
    w = W[1]
    x = -b[1] * w / (w @ w) + 1e12 * np.array([-w[1], w[0]]) / np.linalg.norm(w)
    with pytest.raises(NumericalError) as e:
        partition(g, box(x - 1e6, x + 1e6))
    assert "\n" not in str(e.value)  # the mesh's disagreement, then the LP walk's width guard
    # moderate boxes: the partition is the mesh's, unchanged
    assert partition(g, box(-3.0, 3.0, dim=2)).n_regions == count(g, box(-3.0, 3.0, dim=2)).regions
