"""The exact 2-D engine against independent values.

Independent values: 1 + D + C(D, 2) regions for one generic layer over a
box holding every intersection (Zaslavsky); an exact rational-arithmetic
reference (per-polygon half-plane clipping with Fractions, written here,
sharing no code with ``regions.planar``) on small deep nets; the product
of two 1-D sawtooths (each coordinate folded separately); zero-bias
networks against a sweep around the domain's boundary with the 1-D
engine; invariance under permuting neurons and under positive rescaling.
"""

from fractions import Fraction
from math import comb

import numpy as np
import pytest

import regions
from regions import Network, RegionsError, constructions
from regions.domains import box, plane, plane_through, polygon, segment
from regions.engines.planar import count_plane, partition_plane

SEEDS = [0, 1, 2]


# ------------------------------------------------------- exact reference
def _exact_layers(net, domain):
    """Pulled-back layers on (u, v) as Fractions (exact images of the floats)."""
    pulled = domain.pullback(net)
    return [([[Fraction(float(w)) for w in row] for row in W], [Fraction(float(x)) for x in b])
            for W, b in pulled.layers]


def _clip(poly, g, h):
    """Split a convex polygon (list of Fraction pairs) by g.u + h: (plus part, minus part)."""
    vals = [g[0] * x + g[1] * y + h for x, y in poly]
    plus, minus = [], []
    n = len(poly)
    for i in range(n):
        p, q = poly[i], poly[(i + 1) % n]
        a, b = vals[i], vals[(i + 1) % n]
        if a >= 0:
            plus.append(p)
        if a <= 0:
            minus.append(p)
        if (a > 0 > b) or (a < 0 < b):
            t = a / (a - b)
            x = (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))
            plus.append(x)
            minus.append(x)
    return plus, minus, any(v > 0 for v in vals), any(v < 0 for v in vals)


def _area(poly):
    s = Fraction(0)
    for i in range(len(poly)):
        (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % len(poly)]
        s += x0 * y1 - x1 * y0
    return s / 2


def exact_regions(net, domain):
    """{pattern (tuple of bool): area (Fraction)} by exact clipping, layer by layer."""
    layers = _exact_layers(net, domain)
    corners = domain.vertices if domain.vertices is not None else np.array(
        [[domain.lo[0], domain.lo[1]], [domain.hi[0], domain.lo[1]], [domain.hi[0], domain.hi[1]],
         [domain.lo[0], domain.hi[1]]])
    poly = [(Fraction(float(x)), Fraction(float(y))) for x, y in corners]
    # a region: (polygon, A rows (list of (a_u, a_v)), c list, pattern tuple)
    regs = [(poly, [(Fraction(1), Fraction(0)), (Fraction(0), Fraction(1))], [Fraction(0), Fraction(0)], ())]
    slope = Fraction(net.negative_slope)
    for W, b in layers[:-1]:
        out = []
        for poly, A, c, pat in regs:
            # pre-activation maps of this layer on the region
            G = [(sum(w * a[0] for w, a in zip(row, A)), sum(w * a[1] for w, a in zip(row, A))) for row in W]
            H = [sum(w * ci for w, ci in zip(row, c)) + bj for row, bj in zip(W, b)]
            pieces = [(poly, ())]
            for j in range(len(W)):
                nxt = []
                for pp, bits in pieces:
                    plus, minus, hp, hn = _clip(pp, G[j], H[j])
                    if hp and hn:
                        nxt.append((plus, bits + (True,)))
                        nxt.append((minus, bits + (False,)))
                    else:
                        nxt.append((pp, bits + (hp,)))
                pieces = nxt
            for pp, bits in pieces:
                A2 = [(g[0], g[1]) if on else (slope * g[0], slope * g[1]) for g, on in zip(G, bits)]
                c2 = [hh if on else slope * hh for hh, on in zip(H, bits)]
                out.append((pp, A2, c2, pat + bits))
        regs = out
    return {pat: _area(poly) for poly, _, _, pat in regs}


def _check_against_exact(net, domain):
    part = partition_plane(net, domain)
    part.verify()
    ref = exact_regions(net, domain)
    got = {tuple(bool(x) for x in p): a for p, a in zip(part.patterns, part.measures)}
    assert part.n_regions == len(ref), f"engine {part.n_regions} regions, exact {len(ref)}"
    assert set(got) == set(ref)
    for pat, area in ref.items():
        assert got[pat] == pytest.approx(float(area), rel=1e-9, abs=1e-12 * domain.measure)
    return part


# ------------------------------------------------------------------ Zaslavsky
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("D", [1, 3, 8, 20])
def test_one_layer_general_position_is_zaslavsky(seed, D):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(D, 2))
    b = rng.normal(size=D)
    net = Network([(W, b), (rng.normal(size=(1, D)), np.zeros(1))])
    pts = [-b[i] * W[i] / (W[i] @ W[i]) for i in range(D)]  # a point of every line
    for i in range(D):
        for k in range(i + 1, D):
            pts.append(np.linalg.solve(W[[i, k]], -b[[i, k]]))
    r = 1.5 * np.abs(np.array(pts)).max() + 1.0
    part = partition_plane(net, box(-r, r, dim=2))
    part.verify()
    assert part.n_regions == 1 + D + comb(D, 2)
    assert part.layer_counts == (1 + D + comb(D, 2),)
    assert part.n_pieces == part.n_regions


# ---------------------------------------------------------- exact reference
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("arch", ["2-6-1", "2-5-5-1", "2-4-3-4-2"])
def test_small_deep_nets_match_exact_clipping(seed, arch):
    net = Network.from_arch(arch, seed=seed)
    _check_against_exact(net, box(-1.5, 1.5, dim=2))


@pytest.mark.parametrize("seed", SEEDS)
def test_zero_bias_matches_exact_clipping(seed):
    net = Network.from_arch("2-6-6-1", seed=seed, bias="zero")
    _check_against_exact(net, box(-1.0, 1.0, dim=2))


@pytest.mark.parametrize("seed", SEEDS)
def test_leaky_relu_right_regions_and_maps(seed):
    # one hidden layer: the same regions as the ReLU net; deeper: the exact reference
    # (a deeper unit's line no longer stops at the previous inactive regions)
    net = Network.from_arch("2-7-1", seed=seed)
    leaky = Network(net.layers, negative_slope=0.1)
    p0, p1 = partition_plane(net), partition_plane(leaky)
    p1.verify()  # checks the maps against the network at every vertex
    assert set(map(bytes, p0.packed_patterns)) == set(map(bytes, p1.packed_patterns))
    deep = Network(Network.from_arch("2-5-5-1", seed=seed).layers, negative_slope=0.1)
    _check_against_exact(deep, box(-1.0, 1.0, dim=2))


def test_polygon_and_triangle_domains_match_exact_clipping():
    net = Network.from_arch("2-5-5-1", seed=7)
    hexagon = polygon([[np.cos(a), np.sin(a)] for a in np.linspace(0, 2 * np.pi, 7)[:-1]])
    _check_against_exact(net, hexagon)
    tri = polygon([[-1, -1], [1, -0.5], [0, 1]])
    _check_against_exact(net, tri)


# ------------------------------------------------------------- constructions
def _block_diag_sawtooth(depth, width):
    """Two inputs, each folded by its own 1-D sawtooth; output the sum."""
    one = constructions.sawtooth(depth=depth, width=width)
    layers = []
    for i, (W, b) in enumerate(one.layers):
        if i == len(one.layers) - 1:
            layers.append((np.hstack([W, W]), b))
        else:
            Z = np.zeros_like(W)
            layers.append((np.block([[W, Z], [Z, W]]), np.concatenate([b, b])))
    return Network(layers)


@pytest.mark.parametrize("depth,width", [(1, 3), (2, 3), (2, 4), (3, 3)])
def test_product_of_sawtooths(depth, width):
    net = _block_diag_sawtooth(depth, width)
    part = partition_plane(net, box(0.0, 1.0, dim=2))
    part.verify()
    per_axis = [(width + 1) ** k for k in range(1, depth + 1)]
    assert part.n_regions == per_axis[-1] ** 2
    assert list(part.layer_counts) == [c * c for c in per_axis]
    # a bigger box holds the same regions (the outer pieces extend)
    assert count_plane(net, box(-0.5, 1.5, dim=2)).regions == per_axis[-1] ** 2


# --------------------------------------------------------- zero-bias sweep
def _boundary_sweep(net, lo=-1.0, hi=1.0):
    """Regions of a positively homogeneous net = pattern runs around the box's boundary (1-D engine)."""
    c = [np.array([lo, lo]), np.array([hi, lo]), np.array([hi, hi]), np.array([lo, hi])]
    pats = []
    for a, b in zip(c, c[1:] + c[:1]):
        lp = regions.partition_line(net, segment(a, b))
        pats.extend(map(bytes, np.packbits(lp.patterns, axis=1)))
    runs = [p for i, p in enumerate(pats) if p != pats[i - 1]] if len(set(pats)) > 1 else pats[:1]
    return len(runs)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("arch", ["2-16-1", "2-32-32-1", "2-12-12-12-1"])
def test_zero_bias_against_boundary_sweep(seed, arch):
    net = Network.from_arch(arch, seed=seed, bias="zero")
    part = partition_plane(net)
    part.verify()
    assert part.n_regions == _boundary_sweep(net)


def test_zero_bias_2_32_32_1_seed0_is_134():
    net = Network.from_arch("2-32-32-1", seed=0, bias="zero")
    assert count_plane(net).regions == 134


# -------------------------------------------------------------- invariances
def _permuted(net, rng):
    layers = [(W.copy(), b.copy()) for W, b in net.layers]
    for l in range(len(layers) - 1):
        p = rng.permutation(layers[l][0].shape[0])
        layers[l] = (layers[l][0][p], layers[l][1][p])
        layers[l + 1] = (layers[l + 1][0][:, p], layers[l + 1][1])
    return Network(layers, negative_slope=net.negative_slope)


def _rescaled(net, rng):
    layers = [(W.copy(), b.copy()) for W, b in net.layers]
    for l in range(len(layers) - 1):
        s = rng.uniform(0.01, 100.0, size=layers[l][0].shape[0])
        layers[l] = (layers[l][0] * s[:, None], layers[l][1] * s)
        layers[l + 1] = (layers[l + 1][0] / s[None, :], layers[l + 1][1])
    return Network(layers)


@pytest.mark.parametrize("seed", SEEDS)
def test_invariant_under_permutation_and_positive_rescaling(seed):
    rng = np.random.default_rng(seed)
    net = Network.from_arch("2-24-24-24-1", seed=seed)
    base = partition_plane(net)
    base.verify()
    for other in (_permuted(net, rng), _rescaled(net, rng)):
        part = partition_plane(other)
        part.verify()
        assert part.n_regions == base.n_regions
        assert part.n_pieces == base.n_pieces
        assert np.sort(part.measures) == pytest.approx(np.sort(base.measures), rel=1e-7, abs=1e-13)


# ------------------------------------------------------------ degeneracies
@pytest.mark.parametrize("seed", SEEDS)
def test_duplicate_dead_and_constant_neurons_change_nothing(seed):
    rng = np.random.default_rng(seed)
    net = Network.from_arch("2-8-8-1", seed=seed)
    (W0, b0), (W1, b1), (W2, b2) = net.layers
    # duplicates (one scaled by a power of two: an exact copy in float64; x3 copies differ by rounding
    # and are refused, see tests/test_thin.py), a dead unit, a constant unit, in both layers
    W0x = np.vstack([W0, W0[:2], 4.0 * W0[2:3], np.zeros((1, 2)), rng.normal(size=(1, 2))])
    b0x = np.concatenate([b0, b0[:2], 4.0 * b0[2:3], [0.7], [-100.0]])
    k = W0x.shape[0] - W0.shape[0]
    W1x = np.hstack([W1, rng.normal(size=(W1.shape[0], k))])
    W1x[:, -k:] = 0.0  # the extra units feed nothing, so layer 2 is unchanged
    W1x = np.vstack([W1x, W1x[:1], np.zeros((1, W1x.shape[1]))])
    b1x = np.concatenate([b1, b1[:1], [-1.0]])
    W2x = np.hstack([W2, np.zeros((1, 2))])
    big = Network([(W0x, b0x), (W1x, b1x), (W2x, b2)])
    p, q = partition_plane(net), partition_plane(big)
    p.verify()
    q.verify()
    assert q.n_regions == p.n_regions
    assert q.n_pieces == p.n_pieces


@pytest.mark.parametrize("n", [2, 5])
def test_parallel_and_concurrent_lines(n):
    # n parallel vertical lines and n parallel horizontal ones: (n+1)^2 cells
    W = np.vstack([np.tile([1.0, 0.0], (n, 1)), np.tile([0.0, 1.0], (n, 1))])
    b = -np.concatenate([np.linspace(-0.5, 0.5, n)] * 2)
    net = Network([(W, b), (np.ones((1, 2 * n)), np.zeros(1))])
    part = partition_plane(net)
    part.verify()
    assert part.n_regions == (n + 1) ** 2
    # 2n lines through one point: 4n sectors.  The weights lie on a 2^-20 grid and the point is dyadic,
    # so the biases are exact and the lines meet in one point in exact arithmetic too (biases that
    # float64 rounds leave triangles ~1e-17 wide, which are refused: tests/test_thin.py)
    ang = np.linspace(0, np.pi, 2 * n, endpoint=False)
    W = np.round(np.stack([np.cos(ang), np.sin(ang)], axis=1) * 2.0**20) / 2.0**20
    net = Network([(W, W @ np.array([-0.375, 0.25])), (np.ones((1, 2 * n)), np.zeros(1))])
    part = partition_plane(net)
    part.verify()
    assert part.n_regions == 4 * n


def test_pieces_merge_regions_with_equal_maps():
    rng = np.random.default_rng(0)
    W0 = rng.normal(size=(6, 2))
    b0 = rng.normal(size=6) * 0.3
    W1 = rng.normal(size=(1, 6))
    W1[0, :3] = 0.0  # three lines do not change the output
    net = Network([(W0, b0), (W1, np.zeros(1))])
    part = partition_plane(net)
    part.verify()
    visible = partition_plane(Network([(W0[3:], b0[3:]), (W1[:, 3:], np.zeros(1))]))
    assert part.n_pieces == visible.n_regions
    assert count_plane(net).pieces == visible.n_regions
    # a one-neuron output of zero: one piece
    flat = Network([(W0, b0), (np.zeros((1, 6)), np.zeros(1))])
    assert partition_plane(flat).n_pieces == 1


# ---------------------------------------------------------------- planes
@pytest.mark.parametrize("seed", SEEDS)
def test_plane_through_three_points_in_784_dimensions(seed):
    rng = np.random.default_rng(seed)
    net = Network.from_arch("784-16-16-1", seed=seed)
    x0, x1, x2 = rng.normal(size=(3, 784))
    for dom in (plane_through(x0, x1, x2), plane_through(x0, x1, x2, triangle=True)):
        part = partition_plane(net, dom)
        part.verify()
        # the same count from the explicit 2-input network on the plane
        pulled = dom.pullback(net)
        flat = polygon(dom.vertices) if dom.vertices is not None else box(dom.lo, dom.hi, dim=2)
        assert count_plane(pulled, flat).regions == part.n_regions
        assert part.points().shape == (part.n_regions, 784)


def test_plane_slice_matches_exact_clipping():
    rng = np.random.default_rng(5)
    net = Network.from_arch("10-5-4-1", seed=5)
    dom = plane(rng.normal(size=10), rng.normal(size=10), rng.normal(size=10), u=(-2, 2), v=(-1, 3))
    _check_against_exact(net, dom)


# ------------------------------------------------------------------ API
def test_dispatcher_and_count_agree():
    net = Network.from_arch("2-16-16-1", seed=3)
    part = regions.partition(net)
    res = regions.count(net)
    assert res.regions == part.n_regions and res.pieces == part.n_pieces
    assert res.layer_counts == list(part.layer_counts) and res.engine == "planar"
    d = res.as_dict()
    assert {"regions", "pieces", "layer_counts", "engine", "partial"} <= set(d)


def test_partition_accessors():
    net = Network.from_arch("2-8-8-2", seed=1)
    part = partition_plane(net)
    polys = part.polygons()
    assert len(polys) == part.n_regions
    assert np.allclose(polys[3], part.polygon(3))
    edges, faces = part.edges()
    assert edges.shape[1] == 2 and faces.shape == edges.shape
    r = part.region_of(part.witnesses)
    assert np.array_equal(r, np.arange(part.n_regions))
    U = np.random.default_rng(0).uniform(-1, 1, size=(50, 2))
    assert np.allclose(part.outputs(U), net(U), atol=1e-9)
    assert part.output_maps()[0].shape == (part.n_regions, 2, 2)


def test_max_regions_partial():
    net = Network.from_arch("2-32-32-1", seed=0)
    res = count_plane(net, max_regions=50)
    assert res.partial and res.regions > 50
    part = partition_plane(net, max_regions=50)
    assert part.partial and part.count().partial


def test_errors_are_one_sentence():
    net = Network.from_arch("3-4-1", seed=0)
    with pytest.raises(RegionsError, match="2-input"):
        partition_plane(net)
    with pytest.raises(RegionsError, match="bounded"):
        partition_plane(Network.from_arch("2-4-1"), box(-np.inf, np.inf, dim=2))
    with pytest.raises(RegionsError, match="2-D"):
        partition_plane(Network.from_arch("2-4-1"), regions.interval())
    with pytest.raises(RegionsError, match="max_regions"):
        count_plane(Network.from_arch("2-4-1"), max_regions=0)


@pytest.mark.parametrize("seed", range(8))
def test_integer_weights_many_coincidences_match_exact(seed):
    # small integer / half-integer weights: concurrent lines, lines through
    # vertices, duplicate and constant units, all exact in float64
    rng = np.random.default_rng(100 + seed)
    sizes = [2, 5, 6, 4, 1]
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        W = rng.integers(-2, 3, size=(b, a)).astype(float)
        bias = rng.integers(-2, 3, size=b) * (0.5 if seed % 2 else 0.0)
        layers.append((W, bias))
    net = Network(layers, negative_slope=0.25 if seed % 4 == 3 else 0.0)
    _check_against_exact(net, box(-1.0, 1.0, dim=2))
