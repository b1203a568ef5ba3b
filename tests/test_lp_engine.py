"""The LP engine and the reduction of R^d, against independent values."""

from __future__ import annotations

import itertools
import os
from math import comb
from pathlib import Path

import numpy as np
import pytest

import regions
from regions import Network, box, whole
from regions.domains import plane
from regions.engines.lp import count_lp, partition_lp
from regions.engines.lp.reduce import count_whole, reduce_whole
from regions.errors import RegionsError

from polytope_reference import lp_tree


def _one_layer(d: int, D: int, seed: int, *, zero_bias: bool = False) -> Network:
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(D, d))
    b = np.zeros(D) if zero_bias else rng.normal(size=D)
    return Network([(W, b), (rng.normal(size=(1, D)), np.zeros(1))])


def _vertex_box(net: Network) -> regions.domains.Domain:
    """A box holding every vertex of the first layer's arrangement (d hyperplanes meet in one point)."""
    W, b = net.layers[0]
    d = W.shape[1]
    m = 1.0
    for S in itertools.combinations(range(W.shape[0]), d):
        S = list(S)
        m = max(m, float(np.abs(np.linalg.solve(W[S], -b[S])).max()))
    return box(-1.5 * m, 1.5 * m, dim=d)


@pytest.mark.parametrize("d,D", [(3, 6), (4, 7), (5, 7), (6, 8), (8, 10)])
def test_zaslavsky_generic_layer(d, D):
    net = _one_layer(d, D, seed=d)
    expected = sum(comb(D, j) for j in range(d + 1))
    assert count_lp(net, _vertex_box(net)).regions == expected
    if d <= 6:
        assert regions.count(net, whole(d)).regions == expected


@pytest.mark.parametrize("d,D", [(8, 5), (16, 6), (64, 7)])
def test_all_patterns_when_units_at_most_dim(d, D):
    """D <= d hyperplanes through the origin, independent normals: 2^D regions in any box around 0."""
    net = _one_layer(d, D, seed=D, zero_bias=True)
    assert count_lp(net, box(-1, 1, dim=d)).regions == 2 ** D
    res = regions.count(net, whole(d))
    assert (res.regions, res.extra["reduced_dim"], res.bounded) == (2 ** D, D, 0)


def _degenerate(kind: str, d: int, seed: int) -> Network:
    net = Network.from_arch(f"{d}-6-5-1", seed=seed, bias="zero" if kind == "zero_bias" else "same")
    if kind == "duplicate":
        (W0, b0), (W1, b1), last = net.layers
        W0 = np.vstack([W0, W0[:2]]); b0 = np.append(b0, b0[:2])
        W1 = np.hstack([W1, np.zeros((W1.shape[0], 2))])
        W1 = np.vstack([W1, W1[:1]]); b1 = np.append(b1, b1[:1])
        last = (np.hstack([last[0], last[0][:, :1]]), last[1])
        net = Network([(W0, b0), (W1, b1), last])
    return net


@pytest.mark.parametrize("kind", ["random", "zero_bias", "duplicate"])
@pytest.mark.parametrize("d", [3, 4, 5, 7])
def test_agrees_with_vertex_engine(kind, d):
    net = _degenerate(kind, d, seed=10 + d)
    dom = box(-1, 1, dim=d)
    ref = regions.count(net, dom, engine="polytope")
    got = regions.count(net, dom, engine="lp")
    assert (got.regions, got.layer_counts) == (ref.regions, ref.layer_counts)


@pytest.mark.parametrize("seed", [0, 1])
def test_agrees_with_1d_and_2d_engines_on_slices(seed):
    net = Network.from_arch("6-8-8-1", seed=seed)
    rng = np.random.default_rng(seed)
    x0, a, b = rng.normal(size=(3, 6))
    pl = plane(x0, a, b, u=(-1, 1), v=(-1.5, 1))
    assert regions.count(net, pl, engine="lp").regions == regions.count(net, pl, engine="planar").regions


@pytest.mark.parametrize("d,r", [(4, 2), (5, 3), (6, 6)])
def test_reduction_vs_direct_count(d, r):
    rng = np.random.default_rng(d)
    # integer factors: W1 has rank r exactly (a rounded product of normals is full rank in exact
    # arithmetic, with features at infinity the direct count rightly refuses to guess)
    W1 = (rng.integers(-4, 5, size=(7, r)) @ rng.integers(-4, 5, size=(r, d))).astype(float)
    net = Network([(W1, rng.normal(size=7)), (rng.normal(size=(5, 7)), rng.normal(size=5)),
                   (rng.normal(size=(1, 5)), np.zeros(1))])
    red, C = reduce_whole(net)
    assert C.shape == (r, d)
    direct = regions.count(net, whole(d), engine="polytope")
    via = count_whole(net)
    assert via.regions == direct.regions
    assert (via.bounded, via.unbounded) == (direct.bounded, direct.unbounded)


@pytest.mark.parametrize("arch,seed", [("3-5-4-1", 0), ("4-5-3-1", 1), ("3-4-4-1", 2)])
def test_lp_tree_reference(arch, seed):
    net = Network.from_arch(arch, seed=seed)
    dom = box(-1, 1, dim=net.input_dim)
    assert count_lp(net, dom).regions == lp_tree(net, dom)["regions"]


def test_partition_invariants_and_maps():
    net = Network.from_arch("5-6-6-2", seed=3)
    dom = box(-1, 1, dim=5)
    part = partition_lp(net, dom)
    out = part.verify()
    assert out["ok"] and part.n_regions == regions.count(net, dom, engine="polytope").regions
    J, c = part.output_maps()
    X = part.points()
    assert np.allclose(np.einsum("rok,rk->ro", J, part.witnesses) + c, net(X))
    A, rhs = part.hrep(0, irredundant=True)
    assert np.all(A @ part.witnesses[0] < rhs)
    vol = part.measures.sum()
    assert np.isclose(vol, dom.measure, rtol=1e-8)


def test_invariance_rescaling_permutation_and_partial():
    net = Network.from_arch("6-7-5-1", seed=4)
    dom = box(-1, 1, dim=6)
    n = count_lp(net, dom).regions
    (W0, b0), (W1, b1), last = net.layers
    p = np.random.default_rng(0).permutation(7)
    s = np.linspace(0.5, 3.0, 7)
    net2 = Network([((W0 * s[:, None])[p], (b0 * s)[p]), ((W1 / s)[:, p], b1), last])
    assert count_lp(net2, dom).regions == n
    part = count_lp(net, dom, max_regions=5)
    assert part.partial and 5 < part.regions <= n
    with pytest.raises(RegionsError):
        count_lp(net, regions.polygon([[0, 0], [1, 0], [0, 1]]))


@pytest.mark.parametrize("dim", [None, 2, 3])
def test_local_complexity_against_other_engines(dim):
    from regions.domains import affine_slice
    from regions.experiments.local import local_complexity

    net = Network.from_arch("4-6-5-1", seed=5)
    X = np.random.default_rng(1).normal(size=(2, 4)) * 0.3
    out = local_complexity(net, X, 0.4, dim=dim, seed=2)
    rng = np.random.default_rng(2)
    for i in range(2):
        if dim is None:
            dom = box(X[i] - 0.4, X[i] + 0.4, dim=4)
            ref = regions.partition(net, dom, engine="polytope")
        else:
            Q, _ = np.linalg.qr(rng.normal(size=(4, dim)))
            ref = regions.partition(net, affine_slice(X[i], Q, -0.4, 0.4),
                                    engine="planar" if dim == 2 else "polytope")
        assert out["regions"][i] == ref.n_regions
        P = ref.patterns
        assert out["units_cut"][i] == np.count_nonzero(P.any(0) & ~P.all(0))
    with pytest.raises(RegionsError):
        local_complexity(net, X, -1.0)


def test_cli_local_and_engine(tmp_path):
    from click.testing import CliRunner

    from regions.cli.main import main

    pts = tmp_path / "pts.npy"
    np.save(pts, np.random.default_rng(0).normal(size=(2, 5)) * 0.2)
    out = tmp_path / "local.csv"
    r = CliRunner().invoke(main, ["local", "--arch", "5-6-4-1", "--points", str(pts), "--radius", "0.3",
                                  "--out", str(out)])
    assert r.exit_code == 0, r.output
    net = Network.from_arch("5-6-4-1", seed=0)
    X = np.load(pts)
    lines = out.read_text().splitlines()
    assert lines[0] == "point,regions,units_cut,partial"
    for i, line in enumerate(lines[1:]):
        ref = regions.count(net, box(X[i] - 0.3, X[i] + 0.3, dim=5), engine="polytope").regions
        assert int(line.split(",")[1]) == ref
    r = CliRunner().invoke(main, ["local", "--arch", "5-6-4-1", "--points", str(pts), "--radius", "0.3",
                                  "--out", str(out)])
    assert r.exit_code == 2 and "--force" in r.output
    r = CliRunner().invoke(main, ["count", "--arch", "4-6-1", "--engine", "lp", "--json"])
    assert r.exit_code == 0 and '"engine": "lp"' in r.output


# ---------------------------------------------------------------- engine choice by cost, budget


@pytest.mark.parametrize("arch,lo,hi,expected", [
    ("4-6-5-1", -1.0, 1.0, "polytope"),    # 2^4 box vertices: the vertex engine is cheaper
    ("784-8-8-10", -1.0, 1.0, "lp"),       # 2^784 box vertices
    ("12-6-1", 0.0, 1.0, "lp"),
    ("12-6-1", -np.inf, np.inf, "polytope"),  # unbounded: the vertex engine certifies unboundedness
])
def test_engine_choice_by_cost(arch, lo, hi, expected):
    from regions.engines.cost import choose_engine, estimate_cost
    from regions.engines.registry import select

    net = Network.from_arch(arch, seed=0)
    d = net.input_dim
    dom = whole(d) if lo == -np.inf else box(lo, hi, dim=d)
    assert select(net, dom).name == expected
    if dom.bounded:
        cost = estimate_cost(net, dom)
        assert choose_engine(net, dom, cost) == expected
        assert cost.regions_lower <= cost.regions_expected <= cost.regions_upper


def test_budget_refuses_up_front_in_one_sentence():
    from click.testing import CliRunner

    from regions.cli.main import main
    from regions.engines.cost import estimate_cost

    net = Network.from_arch("3-512-512-512-1", seed=0)
    with pytest.raises(RegionsError, match="--max-regions") as err:
        regions.count(net)
    msg = str(err.value)
    assert "\n" not in msg and "--whole" in msg and "slice" in msg and "estimate" in msg
    cost = estimate_cost(net, box(-1, 1, dim=3))
    assert f"{cost.regions_lower:,}" in msg  # the sampled lower bound is named
    # a partial count is not refused; a named engine is (the estimate guards every engine)
    part = regions.count(net, max_regions=50)
    assert part.partial and part.regions > 50
    with pytest.raises(RegionsError, match="saturated"):
        regions.count(net, engine="polytope")
    r = CliRunner().invoke(main, ["count", "--arch", "3-512-512-512-1"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) == 1 and "--max-regions" in r.output


def test_cli_picks_lp_for_784_inputs_and_finishes():
    """Zero biases: 7 hyperplanes through the box's centre, independent normals: all 2^7 patterns."""
    import json

    from click.testing import CliRunner

    from regions.cli.main import main

    r = CliRunner().invoke(main, ["count", "--arch", "784-7-1", "--bias", "zero", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert (rec["engine"], rec["regions"]) == ("lp", 2 ** 7)


# ---------------------------------------------------------------- cross-polytope neighbourhoods


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_polytope_against_planar_engine(seed):
    net = Network.from_arch("2-8-8-1", seed=seed)
    r = 0.7
    diamond = regions.polygon([[r, 0], [0, r], [-r, 0], [0, -r]])
    assert count_lp(net, box(-r, r, dim=2), cross=True).regions == regions.count(net, diamond).regions
    part = partition_lp(net, box(-r, r, dim=2), cross=True)
    assert part.verify()["ok"] and np.all(np.abs(part.points()).sum(axis=1) < r)
    with pytest.raises(RegionsError):
        part.hrep(0)


@pytest.mark.parametrize("d,D", [(5, 4), (12, 6)])
def test_cross_polytope_all_patterns_through_centre(d, D):
    """D <= d hyperplanes through the centre with independent normals: 2^D regions meet any ball."""
    net = _one_layer(d, D, seed=d, zero_bias=True)
    assert count_lp(net, box(-0.1, 0.1, dim=d), cross=True).regions == 2 ** D


def test_cross_is_between_inner_and_outer_boxes():
    net = Network.from_arch("4-6-5-1", seed=7)
    r = 0.8
    inner = count_lp(net, box(-r / 4, r / 4, dim=4)).regions    # the box inscribed in the l1 ball
    cross = count_lp(net, box(-r, r, dim=4), cross=True).regions
    outer = regions.count(net, box(-r, r, dim=4), engine="polytope").regions
    assert inner <= cross <= outer


def test_local_complexity_cross_against_planar_and_top_level():
    net = Network.from_arch("5-8-6-1", seed=3)
    X = np.random.default_rng(4).normal(size=(2, 5)) * 0.3
    out = regions.local_complexity(net, X, 0.5, kind="cross", dim=2, seed=1)
    rng = np.random.default_rng(1)
    for i in range(2):
        Q, _ = np.linalg.qr(rng.normal(size=(5, 2)))
        ref = regions.partition(net, regions.polygon([[0.5, 0], [0, 0.5], [-0.5, 0], [0, -0.5]],
                                                     origin=X[i], basis=Q))
        assert out["regions"][i] == ref.n_regions
        P = ref.patterns
        assert out["units_cut"][i] == np.count_nonzero(P.any(0) & ~P.all(0))
    full = regions.local_complexity(net, X, 0.5, kind="cross")
    boxed = regions.local_complexity(net, X, 0.5, kind="box")
    assert np.all(full["regions"] <= boxed["regions"]) and np.all(full["regions"] <= 2 ** full["units_cut"])
    with pytest.raises(RegionsError, match="'box' or 'cross'"):
        regions.local_complexity(net, X, 0.5, kind="ball")


def test_fresh_lp_agrees_with_warm_lp():
    from regions.engines.lp.kernel import _LP

    rng = np.random.default_rng(0)
    k = 6
    lp = _LP(k, -np.ones(k), np.ones(k))
    A = rng.normal(size=(5, k))
    A /= np.linalg.norm(A, axis=1)[:, None]
    b = rng.uniform(0.1, 0.5, size=5)
    u, t = lp.solve(list(range(4)), A[:4], b[:4], A[4], b[4], 4)
    u2, t2 = lp._fresh(A, b, None)
    assert np.isclose(t, t2, atol=1e-9) and np.all(A @ u2 + t2 <= b + 1e-9)
    assert lp.solve(list(range(4)), A[:4], b[:4], -A[0], -b[0] - 0.5, 5)[0] is None  # infeasible side


def test_cli_local_cross(tmp_path):
    """``regions local --kind cross`` against the planar engine on the diamond of each 2-D frame."""
    import json

    from click.testing import CliRunner

    from regions.cli.main import main

    pts = tmp_path / "pts.npy"
    X = np.random.default_rng(5).normal(size=(2, 4)) * 0.2
    np.save(pts, X)
    r = CliRunner().invoke(main, ["local", "--arch", "4-6-5-1", "--points", str(pts), "--radius", "0.4",
                                  "--neighbourhood", "cross", "--dim", "2", "--frame-seed", "3", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["kind"] == "cross"
    net = Network.from_arch("4-6-5-1", seed=0)
    rng = np.random.default_rng(3)
    for i, row in enumerate(rec["rows"]):
        Q, _ = np.linalg.qr(rng.normal(size=(4, 2)))
        ref = regions.partition(net, regions.polygon([[0.4, 0], [0, 0.4], [-0.4, 0], [0, -0.4]],
                                                     origin=X[i], basis=Q))
        assert row["regions"] == ref.n_regions
    r = CliRunner().invoke(main, ["local", "--arch", "4-6-5-1", "--points", str(pts), "--radius", "0.4",
                                  "--neighbourhood", "ball"])
    assert r.exit_code == 2 and "Traceback" not in r.output


# ---------------------------------------------------------------- screens and warm starts (issue 12 speed work)


def _deep(kind: str, d: int, seed: int, widths=(6, 5, 4)) -> Network:
    """Three hidden layers (the interval screen crosses two finished layers); degenerate variants."""
    rng = np.random.default_rng(seed)
    sizes = [d, *widths, 1]
    layers = [(rng.normal(size=(o, i)) * np.sqrt(2 / i), rng.normal(size=o) * 0.3)
              for i, o in zip(sizes[:-1], sizes[1:])]
    if kind == "zero_bias":
        layers = [(W, np.zeros_like(b)) for W, b in layers]
    elif kind == "duplicate":  # a duplicated unit in every hidden layer (its copy feeds nothing)
        out = []
        for i, (W, b) in enumerate(layers[:-1]):
            W, b = np.vstack([W, W[:1]]), np.append(b, b[:1])
            if i:
                W = np.hstack([W, np.zeros((W.shape[0], 1))])
            out.append((W, b))
        W, b = layers[-1]
        layers = out + [(np.hstack([W, np.zeros((W.shape[0], 1))]), b)]
    elif kind == "vertex_planes":  # first-layer hyperplanes through box vertices (one only touches a corner)
        W, b = layers[0]
        W[0], b[0] = 0.0, 0.0
        W[0, :2], b[0] = (1.0, 1.0), -2.0     # x1 + x2 = 2: touches the corner (1, 1) only
        W[1], b[1] = 0.0, 0.0
        W[1, :2] = (1.0, 1.0)                 # x1 + x2 = 0: through the vertices (1, -1) and (-1, 1)
        layers[0] = (W, b)
    elif kind == "dead":  # a unit inactive on the whole box, and one identically zero
        W, b = layers[1]
        W[0], b[0] = 0.0, -1.0
        W[1], b[1] = 0.0, 0.0
        layers[1] = (W, b)
    return Network(layers)


@pytest.mark.parametrize("kind", ["random", "zero_bias", "duplicate", "vertex_planes", "dead"])
@pytest.mark.parametrize("d", [3, 4, 5])
def test_deep_nets_against_vertex_engine_and_lp_tree(kind, d):
    """Three hidden layers, degenerate variants: the LP engine (interval screen, certificates, warm bases)
    against the vertex engine and, for d = 3 on narrower layers, the slow separate LP tree."""
    net = _deep(kind, d, seed=20 + d)
    dom = box(-1, 1, dim=d)
    got = count_lp(net, dom)
    ref = regions.count(net, dom, engine="polytope")
    assert (got.regions, got.layer_counts) == (ref.regions, ref.layer_counts)
    if d == 3:
        small = _deep(kind, d, seed=20 + d, widths=(4, 3, 3))
        assert count_lp(small, dom).regions == lp_tree(small, dom)["regions"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_interval_bounds_hold_at_sampled_points(seed):
    """The pattern-aware interval bounds of a layer contain the forward-pass values at every sampled point
    sharing the finished layers' states (independent: the network evaluated directly)."""
    from regions.engines.lp.kernel import _Frame, _Walk

    d = 5
    net = Network.from_arch(f"{d}-7-6-5-1", seed=seed)
    dom = box(-1, 1, dim=d)
    walk = _Walk(net, dom)
    X = np.random.default_rng(seed).uniform(-1, 1, size=(20000, d))
    P = net.patterns(X)
    Z, h = [], X  # the forward pass by hand
    for W, b in net.layers[:-1]:
        z = h @ W.T + b
        Z.append(z)
        h = np.maximum(z, 0.0)
    Z = np.hstack(Z)
    cuts = np.cumsum([0] + list(net.widths))
    for layer in (1, 2):
        key = P[:, :cuts[layer]]
        _, first, inv = np.unique(np.packbits(key, axis=1), axis=0, return_index=True, return_inverse=True)
        for g in range(min(len(first), 12)):
            rows = inv.ravel() == g
            pat = [np.where(P[first[g], cuts[l]:cuts[l + 1]], 1, -1).astype(np.int8) for l in range(layer)]
            fr = _Frame(np.zeros((0, d)), np.zeros(0), np.zeros((1, d)), np.ones(1), layer, 0, None, pat, 1.0)
            lo, hi = walk._bounds(fr)
            vals = Z[rows][:, cuts[layer]:cuts[layer + 1]]
            assert np.all(vals >= lo - 1e-9) and np.all(vals <= hi + 1e-9)


def test_warm_basis_from_an_ancestor_agrees_with_a_fresh_solve():
    """A Chebyshev LP started from a basis saved on an ancestor region (rows a prefix) has the optimum of a
    fresh HiGHS instance in the original coordinates; a basis whose rows are not a prefix is ignored."""
    from regions.engines.lp.solver import _LP

    rng = np.random.default_rng(1)
    k = 7
    lp = _LP(k, -np.ones(k), np.ones(k))
    A = rng.normal(size=(9, k))
    A /= np.linalg.norm(A, axis=1)[:, None]
    b = rng.uniform(0.05, 0.6, size=9)
    lp.solve(list(range(3)), A[:3], b[:3], A[3], b[3], 3)
    basis = lp.basis()
    assert basis is not None and basis[0] == (0, 1, 2, 3)
    lp.solve([0, 1, 2, 10], np.vstack([A[:3], -A[3]]), np.append(b[:3], 0.0), A[4], b[4], 11)  # elsewhere
    for use in (basis, (tuple(range(20)),) + basis[1:]):  # a prefix, and not a prefix (ignored)
        u, t = lp.solve(list(range(8)), A[:8], b[:8], A[8], b[8], 8, use)
        _, t2 = lp._fresh(A, b, None)
        assert np.isclose(t, t2, atol=1e-9) and np.all(A @ u + t <= b + 1e-9)


def test_saturated_sample_is_a_lower_bound_and_extrapolated():
    """4,096 points on 3-64-64-1 are saturated: the distinct patterns are named a lower bound and the
    expectation comes from sub-box densities, within a factor 2 of the exact count (63,787, the vertex engine;
    the saturated Chao1 said 9,440); unsaturated samples keep Chao1; unbounded saturated ones the upper bound."""
    from regions.engines.cost import estimate_cost

    net = Network.from_arch("3-64-64-1", seed=0)
    cost = estimate_cost(net, box(-1, 1, dim=3))
    assert cost.saturated and cost.method == "density"
    assert cost.regions_lower < 63_787 / 2 < cost.regions_expected < 2 * 63_787
    assert "saturated" in cost.describe() and "lower bound" in cost.describe()
    small = estimate_cost(Network.from_arch("3-8-8-1", seed=0), box(-1, 1, dim=3))
    assert not small.saturated and small.method == "chao1"
    far = estimate_cost(net, whole(3))
    if far.saturated:
        assert far.method == "upper bound" and far.regions_expected == far.regions_upper


def test_one_thread_scheduler_for_every_highs_instance():
    """HiGHS sizes one thread scheduler per process by the first instance that runs and refuses later
    instances asking for another size; a cold instance made first must not turn every warm solve into a
    failure (and a cold re-solve).  Run in a fresh process, where the scheduler is not yet started."""
    import subprocess
    import sys

    code = (
        "import numpy as np, highspy\n"
        "from regions.engines.lp.solver import _LP, _quiet_highs\n"
        "h = _quiet_highs(highspy); h.setOptionValue('output_flag', False)\n"
        "h.addVars(1, np.array([0.0]), np.array([1.0])); h.run()\n"
        "rng = np.random.default_rng(1); k = 7\n"
        "lp = _LP(k, -np.ones(k), np.ones(k))\n"
        "A = rng.normal(size=(9, k)); A /= np.linalg.norm(A, axis=1)[:, None]\n"
        "b = rng.uniform(0.05, 0.6, size=9)\n"
        "lp.solve(list(range(3)), A[:3], b[:3], A[3], b[3], 3)\n"
        "print(lp.h.getModelStatus() == highspy.HighsModelStatus.kOptimal, lp.basis() is not None)\n")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                         env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"], out.stdout


@pytest.mark.parametrize("kind", ["random", "zero_bias", "duplicate", "vertex_planes", "dead"])
@pytest.mark.parametrize("d", [4, 5])
def test_segment_search_against_vertex_engine(kind, d, monkeypatch):
    """Interior points found by the segment ascent (forced on in low dimension, where the LP is cheaper):
    counts and layer counts as the vertex engine's, every witness reproduces its pattern (the network
    evaluated directly), and the ascent replaced some LPs."""
    from regions.engines.lp import kernel

    monkeypatch.setattr(kernel, "SEGMENT_DIM", 2)
    net = _deep(kind, d, seed=40 + d, widths=(5, 4, 3))
    dom = box(-1, 1, dim=d)
    got = count_lp(net, dom)
    ref = regions.count(net, dom, engine="polytope")
    assert (got.regions, got.layer_counts) == (ref.regions, ref.layer_counts)
    assert got.extra["segments"] > 0
    part = partition_lp(net, dom)
    assert part.n_regions == ref.regions
    assert np.array_equal(net.patterns(part.witnesses), part.patterns)
