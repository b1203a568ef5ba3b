"""Tests of the exact engine for any input dimension (regions.polytope)."""

from __future__ import annotations

import itertools
import json
from math import comb

import numpy as np
import pytest

import regions
from regions import Network, RegionsError, theory
from regions.domains import box, interval, line, plane, polygon, segment, whole
from polytope_reference import lp_bfs, lp_tree
from regions.analysis.constructions import sawtooth_layer
from regions.engines.line import partition_line
from regions.engines.polytope import PolytopePartition, count_polytope, partition_polytope, preflight

try:  # the 2-D engine is written in parallel; its cross-check waits for it
    from regions.engines.planar import partition_plane
except ImportError:  # pragma: no cover - depends on the colleague's progress
    partition_plane = None


def packed(patterns: np.ndarray) -> set:
    return {np.packbits(p).tobytes() for p in np.asarray(patterns, dtype=bool)}


def random_net(arch: str, seed: int, **kw) -> Network:
    return Network.from_arch(arch, seed=seed, **kw)


# ------------------------------------------------------------- Zaslavsky
@pytest.mark.parametrize("d, D", [(3, 6), (3, 20), (4, 9), (4, 16), (5, 10), (5, 14), (6, 8), (6, 12)])
@pytest.mark.parametrize("seed", [0, 1])
def test_one_layer_whole_space_is_zaslavsky(d, D, seed):
    net = random_net(f"{d}-{D}-1", seed)
    res = count_polytope(net, whole(d))
    assert res.regions == theory.zaslavsky(D, d) == sum(comb(D, j) for j in range(d + 1))
    # bounded regions of a generic arrangement: C(D - 1, d)
    assert res.bounded == comb(D - 1, d)
    assert res.unbounded == res.regions - res.bounded
    assert res.layer_counts == [res.regions] and not res.partial and res.engine == "polytope"


@pytest.mark.parametrize("d, D", [(3, 5), (4, 6), (5, 7)])
def test_one_layer_fewer_units_than_dimension_keeps_lines(d, D):
    # D < d hyperplanes in general position: 2^D regions, every one containing lines
    net = random_net(f"{d}-{min(D, d - 1)}-1", 3)
    part = partition_polytope(net, whole(d))
    assert part.n_regions == 2 ** min(D, d - 1)
    assert part.n_bounded == 0 and part.lineality.any()
    part.verify()


def test_central_arrangement_zero_bias():
    # D hyperplanes through the origin in general position in R^d: 2 sum_{j<d} C(D-1, j)
    for d, D in [(3, 6), (4, 7)]:
        net = random_net(f"{d}-{D}-1", 5, bias="zero")
        res = count_polytope(net, whole(d))
        assert res.regions == 2 * sum(comb(D - 1, j) for j in range(d))
        assert res.bounded == 0


# ------------------------------------------------------- cross-checks 1-D/2-D
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("lohi", [(-1.0, 1.0), (-np.inf, np.inf), (-np.inf, 0.5)])
def test_agrees_with_line_engine(seed, lohi):
    net = random_net("1-8-8-8-1", seed)
    dom = interval(*lohi)
    ref = partition_line(net, dom)
    got = partition_polytope(net, dom)
    assert got.n_regions == ref.n_regions
    assert packed(got.patterns) == packed(ref.patterns)
    assert got.layer_counts == ref.layer_counts
    got.verify()


@pytest.mark.parametrize("seed", range(3))
def test_agrees_with_line_engine_on_segments(seed):
    net = random_net("3-10-10-1", seed)
    rng = np.random.default_rng(seed)
    x0, x1 = rng.normal(size=3), rng.normal(size=3)
    for dom in (segment(x0, x1, lo=-2.0, hi=2.0), line(x0, x1)):
        ref = partition_line(net, dom)
        got = partition_polytope(net, dom)
        assert got.n_regions == ref.n_regions
        assert packed(got.patterns) == packed(ref.patterns)


@pytest.mark.skipif(partition_plane is None, reason="regions.planar (the 2-D engine) is not importable yet")
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("arch", ["2-8-1", "2-12-12-1", "2-6-6-6-1"])
def test_agrees_with_planar_engine(seed, arch):
    net = random_net(arch, seed)
    dom = box(-1.0, 1.0, dim=2)
    ref = partition_plane(net, dom)
    got = partition_polytope(net, dom)
    assert got.n_regions == ref.n_regions
    assert packed(got.patterns) == packed(ref.patterns)


@pytest.mark.skipif(partition_plane is None, reason="regions.planar (the 2-D engine) is not importable yet")
@pytest.mark.parametrize("seed", range(3))
def test_agrees_with_planar_engine_on_plane_slices_and_degenerate_nets(seed):
    rng = np.random.default_rng(seed)
    net = random_net("4-10-10-1", seed)
    dom = plane(rng.normal(size=4), rng.normal(size=4), rng.normal(size=4), u=(-2, 2), v=(-1, 3))
    assert partition_polytope(net, dom).n_regions == partition_plane(net, dom).n_regions
    zero = random_net("2-10-10-1", seed, bias="zero")
    dom2 = box(-1.0, 1.0, dim=2)
    assert packed(partition_polytope(zero, dom2).patterns) == packed(partition_plane(zero, dom2).patterns)


# ------------------------------------------------------ slow LP references
@pytest.mark.parametrize("arch, seed", [("3-5-5-1", 0), ("3-5-5-1", 1), ("4-4-4-1", 2), ("3-4-3-3-1", 3), ("5-5-3-1", 4)])
@pytest.mark.parametrize("kind", ["box", "whole"])
def test_agrees_with_lp_tree_reference(arch, seed, kind):
    net = random_net(arch, seed)
    d = net.input_dim
    dom = box(-1.0, 1.0, dim=d) if kind == "box" else whole(d)
    ref = lp_tree(net, dom)
    got = partition_polytope(net, dom)
    assert got.n_regions == ref["regions"]
    assert packed(got.patterns) == ref["patterns"]


def test_agrees_with_lp_bfs_reference():
    net = random_net("3-6-6-1", 7)
    dom = box(-1.0, 1.0, dim=3)
    ref = lp_bfs(net, dom)
    got = partition_polytope(net, dom)
    assert ref["complete"] and got.n_regions == ref["regions"]
    assert packed(got.patterns) == ref["patterns"]


# ------------------------------------------------------------- degenerate nets
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("kind", ["box", "whole"])
def test_zero_biases_against_reference(seed, kind):
    net = random_net("3-5-4-1", seed, bias="zero")
    dom = box(-1.0, 1.0, dim=3) if kind == "box" else whole(3)
    ref = lp_tree(net, dom)
    got = partition_polytope(net, dom)
    assert packed(got.patterns) == ref["patterns"]
    got.verify()


def _with_copies(net: Network) -> Network:
    """Every first- and second-layer unit duplicated: exact copy, power-of-two multiple, negation.

    (Other multiples differ from the unit by float64 rounding: refused or counted, tests/test_thin.py.)
    """
    (W0, b0), (W1, b1), *rest = net.layers
    W0n = np.concatenate([W0, W0, 4.0 * W0, -W0])
    b0n = np.concatenate([b0, b0, 4.0 * b0, -b0])
    n = W0.shape[0]
    # the next layer reads only the original copies, so the function is unchanged
    W1n = np.concatenate([W1, np.zeros((W1.shape[0], 3 * n))], axis=1)
    W1n = np.concatenate([W1n, W1n])
    b1n = np.concatenate([b1, b1])
    W2, b2 = rest[0]
    W2n = np.concatenate([W2, np.zeros_like(W2)], axis=1)
    return Network([(W0n, b0n), (W1n, b1n), (W2n, b2)])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", ["box", "whole"])
def test_duplicate_units_change_nothing(seed, kind):
    net = random_net("3-6-6-1", seed)
    dup = _with_copies(net)
    dom = box(-1.0, 1.0, dim=3) if kind == "box" else whole(3)
    a = partition_polytope(net, dom)
    b = partition_polytope(dup, dom)
    assert a.n_regions == b.n_regions
    # the patterns of the copies follow from the originals
    n = 6
    proj = np.concatenate([b.patterns[:, :n], b.patterns[:, 4 * n:5 * n]], axis=1)
    assert packed(proj) == packed(a.patterns)
    b.verify()


@pytest.mark.parametrize("kind", ["box", "whole"])
def test_dead_and_constant_units_change_nothing(kind):
    net = random_net("3-6-5-1", 11)
    (W0, b0), (W1, b1), (W2, b2) = net.layers
    # three extra units: always off (0 x - 1), always on (0 x + 1), off on the whole box (x.1 - 100)
    W0n = np.concatenate([W0, np.zeros((2, 3)), np.ones((1, 3))])
    b0n = np.concatenate([b0, [-1.0, 1.0, -100.0]])
    W1n = np.concatenate([W1, np.ones((W1.shape[0], 3))], axis=1)
    dead = Network([(W0n, b0n), (W1n, b1), (W2, b2)])
    dom = box(-1.0, 1.0, dim=3) if kind == "box" else whole(3)
    ref = lp_tree(dead, dom)
    got = partition_polytope(dead, dom)
    assert packed(got.patterns) == ref["patterns"]
    if kind == "box":
        assert not got.patterns[:, 6].any() and got.patterns[:, 7].all() and not got.patterns[:, 8].any()


def test_planes_through_a_common_point():
    # the coordinate planes and x + y + z = 0: 8 octants, 6 of them cut -> 14
    W = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 1.0]])
    net = Network([(W, np.zeros(4)), (np.ones((1, 4)), np.zeros(1))])
    assert count_polytope(net, whole(3)).regions == 14
    assert count_polytope(net, box(-1.0, 1.0, dim=3)).regions == 14
    # and a fifth plane x = y through the same line as z-axis... (x - y = 0 contains the z-axis)
    W5 = np.concatenate([W, [[1.0, -1.0, 0.0]]])
    net5 = Network([(W5, np.zeros(5)), (np.ones((1, 5)), np.zeros(1))])
    ref = lp_tree(net5, whole(3))
    assert count_polytope(net5, whole(3)).regions == ref["regions"]


def test_leaky_relu_against_reference():
    # deeper layers see the negative part, so the regions differ from the ReLU's
    net = random_net("3-5-5-1", 4, negative_slope=0.1)
    dom = box(-1.0, 1.0, dim=3)
    part = partition_polytope(net, dom)
    assert packed(part.patterns) == lp_tree(net, dom)["patterns"]
    part.verify()


# ------------------------------------------------------- folding constructions
def folding_net(d: int, D: int, m: int, seed: int) -> Network:
    """Fold every coordinate with the D-unit zigzag, then m hyperplanes in general position.

    Each of the ``(D+1)^d`` first-layer cells maps affinely onto a box
    containing ``[0, 1]^d`` (see :mod:`regions.constructions`); the last
    layer's hyperplanes have all their vertices in ``(0.1, 0.9)^d``, so each
    cell holds all ``sum_{j<=d} C(m, j)`` regions of their arrangement.
    """
    w, p, c, dd = (np.array([float(x) for x in v]) if isinstance(v, list) else float(v)
                   for v in sawtooth_layer(D))
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        V = rng.normal(size=(m, d))
        V /= np.linalg.norm(V, axis=1, keepdims=True)
        q = rng.uniform(0.4, 0.6, size=(m, d))
        beta = -np.einsum("ij,ij->i", V, q)
        ok = True
        for S in itertools.combinations(range(m), d):
            A = V[list(S)]
            if abs(np.linalg.det(A)) < 0.2:
                ok = False
                break
            y = np.linalg.solve(A, -beta[list(S)])
            if np.any(y < 0.1) or np.any(y > 0.9):
                ok = False
                break
            others = [j for j in range(m) if j not in S]
            if others and np.min(np.abs(V[others] @ y + beta[others])) < 1e-3:
                ok = False
                break
        if ok:
            break
    else:  # pragma: no cover
        raise AssertionError("no general-position arrangement found")
    W0 = np.zeros((d * D, d))
    b0 = np.zeros(d * D)
    for i in range(d):
        W0[i * D:(i + 1) * D, i] = w
        b0[i * D:(i + 1) * D] = -w * p
    # y_i = c . h_i + dd ; z = V y + beta
    W1 = np.concatenate([V[:, i:i + 1] * c[None, :] for i in range(d)], axis=1)  # (m, d*D)
    b1 = V @ np.full(d, dd) + beta
    W2 = rng.normal(size=(1, m))
    return Network([(W0, b0), (W1, b1), (W2, np.zeros(1))])


@pytest.mark.parametrize("d, D, m", [(2, 3, 4), (2, 5, 5), (3, 3, 3), (3, 4, 4)])
@pytest.mark.parametrize("kind", ["box", "whole"])
def test_folding_construction_closed_form(d, D, m, kind):
    net = folding_net(d, D, m, seed=d * 100 + D * 10 + m)
    dom = box(-1.0, 1.0, dim=d) if kind == "box" else whole(d)
    res = count_polytope(net, dom)
    assert res.layer_counts[0] == (D + 1) ** d
    assert res.regions == (D + 1) ** d * theory.zaslavsky(m, d)
    # Serra's lower bound for these widths is the same closed form (floor(dD/d) + 1)^d * Zaslavsky
    assert res.regions == theory.serra_lower_bound(d, [d * D, m])


# ------------------------------------------------------------- the partition
@pytest.mark.parametrize("d", [2, 3, 4])
@pytest.mark.parametrize("seed", [0, 1])
def test_partition_invariants(d, seed):
    net = random_net(f"{d}-8-8-1", seed)
    part = partition_polytope(net, box(-1.0, 1.0, dim=d))
    out = part.verify()
    assert out["ok"] and np.isclose(out["volume"], 2.0**d)
    assert part.bounded.all()
    assert isinstance(part, PolytopePartition)
    assert part.count().regions == count_polytope(net, box(-1.0, 1.0, dim=d)).regions
    J, c = part.output_maps()
    X = part.points()
    y = np.einsum("rok,rk->ro", J, part.witnesses) + c
    assert np.allclose(y, net(X), atol=1e-9)


def test_hrep_and_chebyshev_certificate():
    net = random_net("3-6-6-1", 2)
    part = partition_polytope(net, whole(3))
    part.verify(lp=True)
    for i in range(0, part.n_regions, 7):
        A, c = part.hrep(i)
        Af, cf = part.hrep(i, irredundant=True)
        assert Af.shape[0] <= A.shape[0] and Af.shape[0] >= 1
        V = part.vertices(i)
        assert np.all(V @ A.T <= c + 1e-9)
        # every facet is tight on at least one vertex or is a facet at infinity
        x, r = part.chebyshev(i)
        assert r > 0
        assert np.all(A @ x <= c + 1e-9)
        # the facets alone give the same Chebyshev radius (they define the region)
        from scipy.optimize import linprog

        nrm = np.linalg.norm(Af, axis=1)
        res = linprog(np.r_[np.zeros(3), -1.0], A_ub=np.hstack([Af, nrm[:, None]]), b_ub=cf,
                      bounds=[(None, None)] * 3 + [(0, 1.0)], method="highs")
        assert res.status == 0 and np.isclose(res.x[-1], r, rtol=1e-6, atol=1e-9)


def test_unbounded_generators():
    net = random_net("3-5-1", 0)
    part = partition_polytope(net, whole(3))
    assert part.n_bounded == comb(4, 3)
    for i in range(part.n_regions):
        if not part.bounded[i]:
            R = part.rays(i)
            assert R.shape[0] >= 1
            # the witness moved along a ray stays in the region
            x = part.witnesses[i] + 1e3 * R.mean(axis=0)
            assert (net.patterns(x[None])[0] == part.patterns[i]).all()


def test_volumes_whole_box_of_one_unit():
    W = np.array([[1.0, 1.0, 1.0]])
    net = Network([(W, np.zeros(1)), (np.ones((1, 1)), np.zeros(1))])
    part = partition_polytope(net, box(-1.0, 1.0, dim=3))
    assert part.n_regions == 2
    assert np.allclose(sorted(part.measures), [4.0, 4.0])


# ------------------------------------------------------------ guard rails
def test_max_regions_partial():
    net = random_net("3-16-16-1", 0)
    full = count_polytope(net, box(-1.0, 1.0, dim=3))
    res = count_polytope(net, box(-1.0, 1.0, dim=3), max_regions=100)
    assert res.partial and 100 < res.regions < full.regions
    assert "max_regions=100" in res.extra["message"]
    part = partition_polytope(net, box(-1.0, 1.0, dim=3), max_regions=100)
    assert part.partial and part.n_regions < full.regions
    assert part.count().partial


def test_progress_bars_run(capsys):
    net = random_net("3-8-8-1", 0)
    res = count_polytope(net, whole(3), progress=True)
    assert res.regions == count_polytope(net, whole(3)).regions


def test_preflight_bounds():
    net = random_net("3-8-8-1", 0)
    info = preflight(net, box(-1.0, 1.0, dim=3))
    n = count_polytope(net, box(-1.0, 1.0, dim=3)).regions
    assert info["sampled_lower_bound"] <= n <= info["upper_bound"]
    assert info["upper_bound"] == theory.serra_upper_bound(3, [8, 8])


def test_errors():
    net = random_net("3-4-1", 0)
    with pytest.raises(RegionsError, match="max_regions"):
        count_polytope(net, whole(3), max_regions=0)
    with pytest.raises(RegionsError, match="3 input"):
        count_polytope(random_net("4-4-1", 0), whole(3))
    with pytest.raises(RegionsError, match="box-shaped"):
        partition_polytope(random_net("2-4-1", 0), polygon([[0, 0], [1, 0], [0, 1]]))
    with pytest.raises(RegionsError, match="Network"):
        count_polytope("net", whole(3))


def test_dispatcher_and_default_domain():
    net = random_net("4-8-1", 0)
    res = regions.count(net, whole(4))
    assert res.engine == "polytope" and res.regions == theory.zaslavsky(8, 4)
    assert res.as_dict()["bounded"] == comb(7, 4)
    assert partition_polytope(net).domain.bounded  # default [-1, 1]^4


def test_cli_whole_gives_zaslavsky(tmp_path):
    from click.testing import CliRunner

    from regions.cli.main import main

    runner = CliRunner()
    for d, D in [(3, 9), (4, 8), (5, 7), (6, 7)]:
        path = tmp_path / f"net{d}.npz"
        random_net(f"{d}-{D}-1", d).save(path)
        out = runner.invoke(main, ["count", "--weights", str(path), "--whole", "--json"])
        assert out.exit_code == 0, out.output
        rec = json.loads(out.output)
        assert rec["regions"] == theory.zaslavsky(D, d)
        assert rec["bounded"] == comb(D - 1, d) and rec["unbounded"] == rec["regions"] - rec["bounded"]
    out = runner.invoke(main, ["count", "--arch", "3-16-16-1", "--json"])
    assert out.exit_code == 0 and json.loads(out.output)["regions"] == 650


@pytest.mark.parametrize("arch, d", [("3-16-16-1", 3), ("4-12-12-1", 4), ("3-8-8-8-1", 3)])
def test_mid_layer_split_changes_nothing(monkeypatch, arch, d):
    # batches split partway through a layer (tiny value budget) give the same regions and pieces
    import regions.engines.polytope.kernel as P

    net = random_net(arch, 1)
    for dom in (whole(d), box(-1.0, 1.0, dim=d)):
        a = partition_polytope(net, dom)
        ca = count_polytope(net, dom)
        monkeypatch.setattr(P, "_LAYER_VALUES", 1 << 11)
        b = partition_polytope(net, dom)
        cb = count_polytope(net, dom)
        monkeypatch.undo()
        assert a.layer_counts == b.layer_counts and packed(a.patterns) == packed(b.patterns)
        assert a.n_pieces == b.n_pieces == ca.pieces == cb.pieces
        assert (ca.regions, ca.bounded, ca.layer_counts) == (cb.regions, cb.bounded, cb.layer_counts)
