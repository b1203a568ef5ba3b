"""The exact 1-D engine against independent values.

Independent values: (D+1)^K for the sawtooth (a theorem about the
construction), D+1 for one generic hidden layer on R, an exact
rational-arithmetic reference (tests/exact_reference.py) on small random
nets, dense sampling (a lower bound), and invariances.
"""

from fractions import Fraction

import numpy as np
import pytest

import regions
from regions import Network, constructions
from regions.engines.line import kernel as line_engine
from regions.domains import interval, segment, whole
from regions.core import tolerances
from regions.errors import NumericalError

from exact_reference import count_pieces, exact_partition, to_fractions

SEEDS = [0, 1, 2, 3, 4]


# ------------------------------------------------------------- constructions
@pytest.mark.parametrize("width", [3, 4, 5, 6, 7, 10])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_sawtooth_count_is_D_plus_1_to_the_K(width, depth):
    net = constructions.sawtooth(depth=depth, width=width)
    expected = (width + 1) ** depth
    for dom in (whole(1), interval(0.0, 1.0), interval(-1.0, 1.0)):
        part = regions.partition_line(net, dom)
        part.verify()
        assert part.n_regions == expected
        assert regions.count_line(net, dom).regions == expected
    assert part.layer_counts == tuple((width + 1) ** k for k in range(1, depth + 1))


@pytest.mark.parametrize("depth,expected", [(5, 161_051), (6, 1_771_561)])
def test_sawtooth_headline_counts(depth, expected):
    net = constructions.sawtooth(depth=depth, width=10)
    assert net.n_params == 20 + (depth - 1) * 110 + 11
    res = regions.count_line(net, whole(1))
    assert res.regions == expected == 11**depth
    assert res.layer_counts == [11**k for k in range(1, depth + 1)]


def test_sawtooth_depth7_count_only_path():
    res = regions.count_line(constructions.sawtooth(depth=7, width=10), whole(1))
    assert res.regions == 19_487_171 == 11**7
    assert not res.partial


def test_sawtooth_parameter_count_471():
    assert constructions.sawtooth(depth=5, width=10).n_params == 471


@pytest.mark.parametrize("width,depth", [(3, 2), (4, 2), (3, 3)])
def test_sawtooth_exact_rational_reference(width, depth):
    layers = constructions.sawtooth(depth=depth, width=width, exact=True)
    breaks, pats, _ = exact_partition(layers, -1, 2)
    assert len(pats) == (width + 1) ** depth
    part = regions.partition_line(constructions.sawtooth(depth=depth, width=width), interval(-1.0, 2.0))
    assert part.n_regions == len(pats)
    assert np.allclose(part.breaks, [float(x) for x in breaks], rtol=0, atol=1e-12)


# ------------------------------------------------------ random networks
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("D", [1, 5, 20])
def test_one_hidden_layer_has_D_plus_1_regions_on_R(seed, D):
    rng = np.random.default_rng(seed)
    W0 = rng.normal(size=(D, 1))
    b0 = rng.normal(size=D)
    W1 = rng.normal(size=(1, D))
    net = Network([(W0, b0), (W1, np.zeros(1))])
    part = regions.partition_line(net, whole(1))
    part.verify()
    assert part.n_regions == D + 1  # distinct breakpoints -b/w almost surely
    assert np.allclose(np.sort(-b0 / W0[:, 0]), part.breaks[1:-1])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("arch", ["1-4-1", "1-3-3-1", "1-4-3-2-1", "1-5-5-2"])
def test_random_nets_match_exact_rational_reference(seed, arch):
    net = Network.from_arch(arch, seed=seed)
    breaks, pats, slopes = exact_partition(to_fractions(net.layers), -3, 3)
    part = regions.partition_line(net, interval(-3.0, 3.0))
    part.verify()
    assert part.n_regions == len(pats)
    assert np.allclose(part.breaks, [float(x) for x in breaks], atol=1e-12)
    assert [tuple(p) for p in part.patterns.tolist()] == [tuple(p) for p in pats]
    assert part.n_pieces == count_pieces(slopes)
    assert regions.count_line(net, interval(-3.0, 3.0)).pieces == part.n_pieces


@pytest.mark.parametrize("seed", SEEDS)
def test_dense_sampling_is_a_lower_bound_and_finds_every_region(seed):
    net = Network.from_arch("1-8-8-1", seed=seed)
    part = regions.partition_line(net, interval(-2.0, 2.0))
    t = np.linspace(-2.0, 2.0, 400_001)[1:-1]
    sampled = np.unique(np.packbits(net.patterns(t[:, None]), axis=1), axis=0).shape[0]
    assert sampled <= part.n_regions
    # every region wider than the grid spacing is hit by the grid
    wide = int(np.sum(part.measures > 2 * (t[1] - t[0])))
    assert sampled >= wide


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("d", [2, 5, 64])
def test_segment_through_d_dimensional_input(seed, d):
    rng = np.random.default_rng(seed)
    net = Network.from_arch(f"{d}-12-12-3", seed=seed)
    x0, x1 = rng.normal(size=d), rng.normal(size=d)
    dom = segment(x0, x1)
    part = regions.partition_line(net, dom)
    part.verify()
    # independent: exact reference on the pulled-back first layer, in Fractions
    W0, b0 = net.layers[0]
    v = [Fraction(float(a)) - Fraction(float(b)) for a, b in zip(x1, x0)]
    first = ([[sum(Fraction(float(w)) * vi for w, vi in zip(row, v))] for row in W0],
             [Fraction(float(bb)) + sum(Fraction(float(w)) * Fraction(float(x)) for w, x in zip(row, x0))
              for row, bb in zip(W0, b0)])
    layers = [first, *to_fractions(net.layers[1:])]
    _, pats, _ = exact_partition(layers, 0, 1)
    assert part.n_regions == len(pats)
    assert np.isclose(part.measures.sum(), 1.0)


# ----------------------------------------------------------- degenerate input
def test_zero_biases_all_breakpoints_at_origin():
    rng = np.random.default_rng(7)
    W0 = rng.normal(size=(6, 1))
    net = Network([(W0, np.zeros(6)), (rng.normal(size=(1, 6)), np.zeros(1))])
    part = regions.partition_line(net, interval(-1.0, 1.0))
    part.verify()
    assert part.n_regions == 2  # one breakpoint, at 0


def test_dead_and_zero_weight_neurons_split_nothing():
    W0 = np.array([[1.0], [0.0], [0.0], [-1.0]])
    b0 = np.array([0.25, -1.0, 0.0, -5.0])  # unit 1 dead, unit 2 identically 0, unit 3 dead on [-1, 1]
    net = Network([(W0, b0), (np.ones((1, 4)), np.zeros(1))])
    part = regions.partition_line(net, interval(-1.0, 1.0))
    part.verify()
    assert part.n_regions == 2
    assert not part.patterns[:, 1:].any()


def _exact_or_refused(net, n_exact: int, breaks) -> None:
    """The partition holds the exact rational count, or refuses a real region with no float64 inside."""
    try:
        part = regions.partition_line(net, interval(-2.0, 2.0))
    except NumericalError as err:
        assert "float64 number" in str(err)
        f = [float(x) for x in breaks]
        assert any(np.nextafter(a, np.inf) >= b for a, b in zip(f[:-1], f[1:]))  # a sliver: refused
        return
    part.verify()
    assert part.n_regions == n_exact


@pytest.mark.parametrize("scale", [1.0, 3.0, 0.1, 7.0, 2.0, 0.25])
def test_duplicate_and_rescaled_neurons_coincide(scale):
    # unit 1 = scale * unit 0 with both rounded: where the two crossings agree exactly (scale 1, powers
    # of two) they are one breakpoint; where rounding separates them, the exact rational reference
    # counts the sliver between them, and the engine counts it too or (no float64 inside it) refuses
    W0 = np.array([[0.3], [0.3 * scale], [1.7]])
    b0 = np.array([-0.1, -0.1 * scale, 0.9])
    W1 = np.array([[1.0, -1.0 / scale, 0.5]])  # units 0 and 1 cancel in the output
    net = Network([(W0, b0), (W1, np.zeros(1))])
    breaks, _, _ = exact_partition(to_fractions(net.layers), -2, 2)
    if scale in (1.0, 2.0, 0.25):
        assert len(breaks) - 1 == 3
    _exact_or_refused(net, len(breaks) - 1, breaks)
    # the second layer reads the cancelling pair: its slope is 0 up to rounding
    net2 = Network([(W0, b0), (np.array([[3.0, -3.0 / scale, 0.0]]), np.array([0.2])), (np.ones((1, 1)), np.zeros(1))])
    breaks2, _, _ = exact_partition(to_fractions(net2.layers), -2, 2)
    _exact_or_refused(net2, len(breaks2) - 1, breaks2)


def test_coincident_breakpoints_of_different_layers():
    # layer 2's unit vanishes exactly where layer 1's unit does (at t = 1/3)
    W0 = np.array([[3.0]])
    b0 = np.array([-1.0])
    W1 = np.array([[1.0], [-1.0]])
    b1 = np.array([0.0, 0.0])
    net = Network([(W0, b0), (W1, b1), (np.ones((1, 2)), np.zeros(1))])
    part = regions.partition_line(net, interval(-1.0, 1.0))
    part.verify()
    assert part.n_regions == 2


def test_breakpoint_on_domain_end_and_relu_of_zero_is_inactive():
    net = Network([(np.array([[1.0]]), np.array([0.0])), (np.ones((1, 1)), np.zeros(1))])
    part = regions.partition_line(net, interval(0.0, 1.0))
    assert part.n_regions == 1 and part.patterns.tolist() == [[True]]
    part = regions.partition_line(net, interval(-1.0, 0.0))
    assert part.n_regions == 1 and part.patterns.tolist() == [[False]]
    assert not net.patterns(np.zeros((1, 1))).any()  # ReLU(0) counts as inactive


def test_lecture_pair_composition_touching_zero():
    pair = constructions.lecture_pair()
    deep = regions.partition_line(pair["deep"], interval(*pair["domain"]))
    deep.verify()
    assert deep.n_regions == 9  # g's first unit touches 0 at f's breakpoints without crossing


# ---------------------------------------------------------------- invariances
@pytest.mark.parametrize("seed", SEEDS)
def test_invariant_under_permutation_and_positive_rescaling(seed):
    rng = np.random.default_rng(seed)
    net = Network.from_arch("1-7-6-5-1", seed=seed)
    base = regions.partition_line(net, interval(-2.0, 2.0))
    layers = [list(map(np.array, l)) for l in net.layers]
    for l in range(len(layers) - 1):
        perm = rng.permutation(layers[l][0].shape[0])
        c = rng.uniform(0.1, 10.0, size=perm.size)
        W, b = layers[l]
        layers[l] = [W[perm] * c[:, None], b[perm] * c]
        Wn, bn = layers[l + 1]
        layers[l + 1] = [Wn[:, perm] / c[None, :], bn]
    other = Network([tuple(l) for l in layers])
    part = regions.partition_line(other, interval(-2.0, 2.0))
    assert part.n_regions == base.n_regions and part.n_pieces == base.n_pieces
    assert np.allclose(part.breaks, base.breaks, atol=1e-12)
    assert np.allclose(other(np.linspace(-2, 2, 50)[:, None]), net(np.linspace(-2, 2, 50)[:, None]))


@pytest.mark.parametrize("seed", SEEDS)
def test_leaky_relu_same_regions_right_maps(seed):
    # one hidden layer: the same breakpoints; deeper layers bend differently
    net = Network.from_arch("1-6-2", seed=seed)
    a = regions.partition_line(net, interval(-2.0, 2.0))
    b = regions.partition_line(Network(net.layers, negative_slope=0.1), interval(-2.0, 2.0))
    assert np.array_equal(a.breaks, b.breaks)
    leaky = Network(Network.from_arch("1-6-6-2", seed=seed).layers, negative_slope=0.1)
    b = regions.partition_line(leaky, interval(-2.0, 2.0))
    b.verify()  # maps checked against the leaky forward pass
    _, pats, slopes = exact_partition(to_fractions(leaky.layers), -2, 2, slope=Fraction(1, 10))
    assert len(pats) == b.n_regions and count_pieces(slopes) == b.n_pieces


# ----------------------------------------------------- pieces, chunks, limits
def test_pieces_merge_regions_with_one_map():
    # unit 1 toggles but its outgoing weight is 0: two regions, one affine piece there
    W0 = np.array([[1.0], [1.0]])
    b0 = np.array([0.5, -0.5])
    net = Network([(W0, b0), (np.array([[1.0, 0.0]]), np.zeros(1))])
    part = regions.partition_line(net, interval(-1.0, 1.0))
    assert part.n_regions == 3 and part.n_pieces == 2
    assert np.allclose(part.piece_breaks, [-1.0, -0.5, 1.0])


@pytest.mark.parametrize("seed", [0, 1])
def test_count_path_chunks_agree_with_full_partition(seed, monkeypatch):
    net = Network.from_arch("1-16-16-16-1", seed=seed)
    full = regions.partition_line(net, whole(1))
    monkeypatch.setattr(line_engine, "CHUNK", 7)
    res = regions.count_line(net, whole(1))
    assert (res.regions, res.pieces, tuple(res.layer_counts)) == (full.n_regions, full.n_pieces, full.layer_counts)


def test_max_regions_stops_with_partial_lower_bound():
    res = regions.count_line(constructions.sawtooth(depth=5, width=10), whole(1), max_regions=1000)
    assert res.partial and 1000 < res.regions < 161_051


def test_bad_domains_are_refused():
    net = Network.from_arch("2-3-1")
    with pytest.raises(regions.RegionsError, match="1-input network or a segment"):
        regions.partition_line(net)
    with pytest.raises(regions.RegionsError, match="LO < HI"):
        interval(1.0, 1.0)
    with pytest.raises(regions.RegionsError, match="got one with 2"):
        regions.partition_line(net, interval(0, 1))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pieces_across_chunk_boundaries_with_silent_units(seed, monkeypatch):
    # half the last layer's units have zero outgoing weight: their breakpoints split regions, not pieces
    rng = np.random.default_rng(seed)
    net = Network.from_arch("1-12-12-1", seed=seed)
    (W0, b0), (W1, b1), (W2, b2) = net.layers
    W2 = W2.copy()
    W2[:, rng.permutation(12)[:6]] = 0.0
    net = Network([(W0, b0), (W1, b1), (W2, b2)])
    full = regions.partition_line(net, whole(1))
    full.verify()
    assert full.n_pieces < full.n_regions
    _, pats, slopes = exact_partition(to_fractions(net.layers), -50, 50)
    assert count_pieces(slopes) == regions.partition_line(net, interval(-50.0, 50.0)).n_pieces
    monkeypatch.setattr(line_engine, "CHUNK", 5)
    res = regions.count_line(net, whole(1))
    assert (res.regions, res.pieces) == (full.n_regions, full.n_pieces)


# ------------------------------------------- crossings float64 cannot separate
@pytest.mark.parametrize("tiers", ["float64", "fallback"])
@pytest.mark.parametrize("prefix_region", [1210, 1220, 1330])
def test_sawtooth_depth8_regions_near_one_are_exact(prefix_region, tiers, monkeypatch):
    # The 8x10 sawtooth on R: each of the 1331 regions after 3 layers holds exactly 11^5 final
    # regions (the construction).  Near t = 1 these three hold crossings ~1e-12 apart at slopes
    # ~1e8, which a magnitude tolerance merged (-99, -396, -99 regions before the exact path).
    # "float64": the screen's second look (each sum's own magnitude) decides them; "fallback": without
    # it they go to the extended / exact tiers.
    from regions.engines.base import Subproblem
    from regions.engines.registry import get_engine

    if tiers == "fallback":
        monkeypatch.setattr(line_engine, "_fine_tol", lambda T, *a: np.full(T.shape, np.inf))
    net = constructions.sawtooth(depth=8, width=10)
    a = prefix_region
    sub = Subproblem(f"line:p3:{a}-{a + 1}", {"depth": 3, "a": a, "b": a + 1, "n": 1331}, 1.0)
    res = get_engine("line").count_subproblem(net, whole(1), sub)
    assert res.regions == 11**5
    if tiers == "fallback":
        assert res.extra["exact_decisions"] + res.extra["extended_decisions"] > 0  # float64 could not decide these


def _undecided(monkeypatch, tier):
    # a huge BREAK_RTOL leaves every crossing undecided by float64 (and by longdouble for "exact")
    monkeypatch.setattr(line_engine, "BREAK_RTOL", 1e6)
    if tier == "exact":
        monkeypatch.setattr(tolerances, "BREAK_RTOL", 1e6)


@pytest.mark.parametrize("tier", ["extended", "exact"])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("arch", ["1-4-1", "1-3-3-1", "1-4-3-2-1", "1-5-5-2"])
def test_exact_path_alone_matches_exact_rational_reference(seed, arch, tier, monkeypatch):
    net = Network.from_arch(arch, seed=seed)
    breaks, pats, _ = exact_partition(to_fractions(net.layers), -3, 3)
    _undecided(monkeypatch, tier)
    part = regions.partition_line(net, interval(-3.0, 3.0))
    part.verify()
    assert part.n_regions == len(pats)
    assert part.breaks.tolist() == [float(x) for x in breaks]  # the exact breakpoints, rounded once
    assert [tuple(p) for p in part.patterns.tolist()] == [tuple(p) for p in pats]
    res = regions.count_line(net, interval(-3.0, 3.0))
    assert res.regions == len(pats)


@pytest.mark.parametrize("tier", ["extended", "exact"])
@pytest.mark.parametrize("width,depth", [(3, 3), (4, 2), (10, 2)])
def test_exact_path_alone_on_the_sawtooth(width, depth, tier, monkeypatch):
    _undecided(monkeypatch, tier)
    res = regions.count_line(constructions.sawtooth(depth=depth, width=width), whole(1))
    assert res.regions == (width + 1) ** depth
    assert res.extra[f"{tier}_decisions"] > 0 and res.extra["below_resolution"] == 0


def test_undecided_crossings_without_exact_decider_are_refused(monkeypatch):
    net = Network.from_arch("1-4-1", seed=0)
    pulled, left, ltol, end, rep, C, A, cmax, amax = line_engine._start(net, interval(-3.0, 3.0))
    W, b = pulled.layers[0]
    monkeypatch.setattr(line_engine, "BREAK_RTOL", 1e6)
    with pytest.raises(NumericalError, match="float64 can separate"):
        line_engine._split_layer(left, ltol, end, rep, C, A, cmax, amax, W, b, 0.0)


def test_rescaled_duplicate_is_refused_not_dropped():
    # 3 * 0.3 rounds: the copy's crossing is one float64 step from the original's, no float64 between.
    # In exact arithmetic the two crossings differ, so the sliver between them is a real region (the
    # rational reference counts 4): no float64 partition holds it, so the run refuses, never drops it
    W0 = np.array([[0.3], [0.3 * 3.0], [1.7]])
    b0 = np.array([-0.1, -0.1 * 3.0, 0.9])
    net = Network([(W0, b0), (np.array([[1.0, -1.0 / 3.0, 0.5]]), np.zeros(1))])
    breaks, _, _ = exact_partition(to_fractions(net.layers), -2, 2)
    assert len(breaks) - 1 == 4
    for fn in (regions.count_line, regions.partition_line):
        with pytest.raises(NumericalError, match="float64 number"):
            fn(net, interval(-2.0, 2.0))
