"""The 1-D op walk at every scale, against independent values (issue 15, classes 1-2, op graphs).

Independent values:

* ``exact_line_count`` below: an exact rational walk along the line, written
  from the definition of the op graph (:mod:`regions.model.ops`), apart from
  the engine and from the lowering.  Every node is an affine function
  ``a + b t`` of the line's parameter on a region (Fractions); decisions are
  read just right of the current point (value, then slope, compared
  lexicographically), the region is the set where they all hold, and its
  right end is the next point;
* nesting and positive homogeneity: a bigger segment never holds fewer
  regions, and scaling a layer by ``c > 0`` (and every later bias and clamp
  bound) leaves the count unchanged;
* constructions with a known count (breakpoints ``k`` ulps apart: ``3``
  regions when a float64 number lies between them).
"""

import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

from regions import segment
from regions.domains import interval, line
from regions.engines.line.ops import partition_line_ops
from regions.errors import NumericalError
from regions.model.ops import Activation, Add, Affine, Clamp, Concat, Graph, MaxGroups, Node, lower
from op_reference import value_scaled  # noqa: E402


# ------------------------------------------------------------------ exact reference
def _F(x) -> Fraction:
    return Fraction(float(x))


def _at(f, where):
    """Sort key of the affine ``f = (a, b)`` just right of ``where`` (a Fraction, or None for -inf)."""
    a, b = f
    return (-b, a) if where is None else (a + b * where, b)


def _forward(graph, x0, v, where):
    """Affine forms of the output (per coordinate) and the decisions' constraints just right of ``where``.

    Returns ``(out, bits, cuts)``: ``cuts`` holds the affine functions whose sign (or difference)
    decided something, each as ``(a, b)`` with the decision ``a + b t > 0`` (or ``>= 0``) holding
    just right of ``where``.
    """
    vals = [[(_F(p), _F(q)) for p, q in zip(x0, v)]]
    bits, cuts = [], []
    zero = (Fraction(0), Fraction(0))

    def side(f):  # f > 0 just right of where; record the constraint with its sign
        pos = _at(f, where) > _at(zero, where)
        cuts.append(f if pos else (-f[0], -f[1]))
        return pos

    for node in graph.nodes:
        op, ins = node.op, [vals[j] for j in node.inputs]
        h = ins[0]
        if isinstance(op, Affine):
            out = []
            for row, bi in zip(op.W, op.b):
                a = sum((_F(w) * p for w, (p, _) in zip(row, h)), Fraction(0)) + _F(bi)
                b = sum((_F(w) * q for w, (_, q) in zip(row, h)), Fraction(0))
                out.append((a, b))
        elif isinstance(op, Add):
            out = [(sum(f[0] for f in col), sum(f[1] for f in col)) for col in zip(*ins)]
        elif isinstance(op, Concat):
            out = [f for part in ins for f in part]
        elif isinstance(op, Activation):
            neg, pos = op.slopes(len(h))
            out = []
            for f, n, p in zip(h, neg, pos):
                s = _F(p) if n == p else (_F(p) if side(f) else _F(n))
                if n != p:
                    bits.append(s == _F(p))
                out.append((s * f[0], s * f[1]))
        elif isinstance(op, Clamp):
            lo, hi = _F(op.lo), _F(op.hi)
            above_lo = [side((f[0] - lo, f[1])) for f in h]
            above_hi = [side((f[0] - hi, f[1])) for f in h]
            bits += above_lo + above_hi
            out = [((hi, Fraction(0)) if u else f) if l else (lo, Fraction(0))
                   for f, l, u in zip(h, above_lo, above_hi)]
        elif isinstance(op, MaxGroups):
            out = []
            for g in op.groups:
                cand = [h[int(i)] for i in g]
                keys = [_at(f, where) for f in cand]
                sel = keys.index(max(keys))  # lowest index among identical candidates
                for q, f in enumerate(cand):
                    if q != sel and f != cand[sel]:
                        cuts.append((cand[sel][0] - f[0], cand[sel][1] - f[1]))
                if len(cand) > 1:
                    bits += [q == sel for q in range(len(cand))]
                out.append(cand[sel])
        else:  # pragma: no cover
            raise TypeError(type(op).__name__)
        vals.append(out)
    return vals[-1], bits, cuts


def exact_line_count(graph, x0, v, lo=None, hi=None):
    """Regions and affine pieces of ``graph`` along ``x0 + t v``, ``lo < t < hi`` (None: unbounded)."""
    where, regions, pieces, last = (None if lo is None else _F(lo)), 0, 0, None
    end = None if hi is None else _F(hi)
    while True:
        out, _, cuts = _forward(graph, x0, v, where)
        regions += 1
        slopes = tuple(f[1] for f in out)
        pieces += slopes != last
        last = slopes
        # the region ends at the first crossing right of where of a constraint that decreases
        nxt = [-a / b for a, b in cuts if b < 0 and (where is None or -a / b > where)]
        r = min(nxt) if nxt else None
        if r is None or (end is not None and r >= end):
            return regions, pieces
        where = r


# ------------------------------------------------------------------ graphs (1 input)
def _r(seed):
    return np.random.default_rng(seed)


def residual1(seed=0, w=5):
    r = _r(seed)
    return Graph([Affine(r.normal(size=(3, 1)), r.normal(size=3)), Activation.relu(),
                  Affine(r.normal(size=(w, 3)), r.normal(size=w)), Activation.relu(), Affine(r.normal(size=(3, w))),
                  Node(Add(), (2, 5)), Activation.leaky_relu(0.1), Affine(r.normal(size=(2, 3)))], 1)


def maxout1(seed=1):
    r = _r(seed)
    W, b = r.normal(size=(6, 1)), r.normal(size=6)
    W, b = np.vstack([W, W[:2]]), np.append(b, b[:2])  # duplicate candidates tie
    return Graph([Affine(W, b), MaxGroups([[0, 1, 2, 6], [3, 4, 5, 7]]),
                  Affine(r.normal(size=(4, 2)), r.normal(size=4)), Activation.relu(), Affine(r.normal(size=(1, 4)))], 1)


def pool1(seed=2):
    r = _r(seed)
    mp, shape = MaxGroups.pool((2, 6), 3, stride=2, padding=1)
    n = int(np.prod(shape))
    return Graph([Affine(r.normal(size=(12, 1)), r.normal(size=12)), Activation.relu(), mp,
                  Affine(r.normal(size=(3, n)), r.normal(size=3)), Activation.relu(), Affine(r.normal(size=(1, 3)))], 1)


def leaky_layers1(seed=3):
    r = _r(seed)
    return Graph([Affine(r.normal(size=(5, 1)), r.normal(size=5)), Activation.leaky_relu(0.2),
                  Affine(r.normal(size=(5, 5)), r.normal(size=5)), Activation.prelu(r.uniform(-0.5, 1.5, size=5)),
                  Affine(r.normal(size=(4, 5)), r.normal(size=4)), Activation.leaky_relu(-0.3),
                  Affine(r.normal(size=(1, 4)))], 1)


def relu6_1(seed=4):
    r = _r(seed)
    return Graph([Affine(4 * r.normal(size=(4, 1)), r.normal(size=4)), Clamp(0.0, 6.0),
                  Affine(r.normal(size=(4, 4)), r.normal(size=4)), Clamp(-1.0, 1.0),
                  Node(Concat(), (2, 4)), Affine(r.normal(size=(1, 8)))], 1)


GRAPHS = {"residual": residual1, "maxout": maxout1, "pool": pool1, "leaky_layers": leaky_layers1,
          "relu6": relu6_1}
E1 = np.array([1.0])


def _count(g, dom):
    return partition_line_ops(lower(g), dom).count()


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("lo,hi", [(-3.0, 2.0), (None, None)])
def test_counts_match_the_exact_reference(name, lo, hi):
    g = GRAPHS[name]()
    dom = line([0.0], [1.0]) if lo is None else interval(lo, hi)
    got = _count(g, dom)
    regions, pieces = exact_line_count(g, [0.0], E1, lo, hi)
    assert (got.regions, got.pieces) == (regions, pieces)
    assert got.extra["below_resolution"] == 0


# ------------------------------------------------------------------ (b) nested segments
SCALES = [1e3, 1e6, 1e9, 1e15, 1e30, 1e100, 1e200, 1e300]


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_nested_segments_up_to_1e300_reach_the_whole_line(name):
    g = GRAPHS[name]()
    x0, v = np.zeros(1), np.ones(1)
    whole = exact_line_count(g, x0, v)[0]
    got = [_count(g, segment(x0, v, lo=-s, hi=s)).regions for s in SCALES]
    got.append(_count(g, line(x0, v)).regions)
    assert got == sorted(got) and got[-1] == whole and got[-2] == whole


def _multi_input(seed=5, d=3):
    r = _r(seed)
    return Graph([Affine(r.normal(size=(6, d)), r.normal(size=6)), Activation.relu(),
                  Affine(r.normal(size=(6, 6)), r.normal(size=6)), MaxGroups.maxout(6, 2),
                  Affine(r.normal(size=(3, 3))), Node(Add(), (5, 5)), Clamp(-0.5, 6.0),
                  Affine(r.normal(size=(1, 3)))], d)


def test_segments_through_the_origin_of_a_3_input_net():
    g = _multi_input()
    v = np.array([0.0, 2.0, 0.0])  # the pulled first layer W @ v is exact
    whole = exact_line_count(g, np.zeros(3), v)
    got = [_count(g, segment(np.zeros(3), v, lo=-s, hi=s)).regions for s in SCALES]
    assert got == sorted(got) and got[-1] == whole[0]
    full = _count(g, line(np.zeros(3), v))
    assert (full.regions, full.pieces) == whole


# ------------------------------------------------------------------ (c) positive rescaling


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("c", [1e-300, 1e-100, 1e-8, 1e8, 1e100, 1e300])
def test_positive_rescaling_never_changes_a_count(name, c):
    g = GRAPHS[name]()
    base = _count(g, interval(-3.0, 2.0))
    got = _count(value_scaled(g, c), interval(-3.0, 2.0))
    assert (got.regions, got.pieces) == (base.regions, base.pieces)


# ------------------------------------------------------------------ (d) near-coincident events
def _units(W, b, post=None):
    post = post or [Activation.relu()]
    W = np.asarray(W, dtype=float).reshape(-1, 1)
    return Graph([Affine(W, b), *post, Affine(np.ones((1, W.shape[0])))], 1)


@pytest.mark.parametrize("k,want", [(1, 2), (2, 3), (3, 3), (64, 3)])
def test_breakpoints_k_ulps_apart(k, want):
    x = 0.7
    y = x
    for _ in range(k):
        y = np.nextafter(y, 2.0)
    g = _units([1.0, 1.0], [-x, -y])
    ref = exact_line_count(g, [0.0], E1, 0.0, 1.0)[0]
    assert ref == 3
    if want < ref:
        # one ulp apart: no float64 number between them, so no float64 partition holds the sliver
        with pytest.raises(NumericalError, match="hold a float64 number"):
            _count(g, interval(0.0, 1.0))
        return
    got = _count(g, interval(0.0, 1.0))
    assert (got.regions, got.extra["below_resolution"]) == (want, 0)


@pytest.mark.parametrize("scale", [3.0, 0.1, 7.0, 1e-200, 1e200])
def test_rescaled_duplicate_units(scale):
    # a unit and a rescaled copy: one breakpoint in exact arithmetic where the rounding keeps it,
    # else two breakpoints with no float64 number between them, which the walk refuses
    w, b = 0.3, -0.1
    g = _units([w, w * scale], [b, b * scale])
    ref = exact_line_count(g, [0.0], E1, -1.0, 1.0)[0]
    if ref == 2:
        assert _count(g, interval(-1.0, 1.0)).regions == 2
        return
    # the rounding split the breakpoint in two with no float64 number between: refused, never joined
    with pytest.raises(NumericalError, match="hold a float64 number"):
        _count(g, interval(-1.0, 1.0))


def test_powers_of_two_copies_are_one_breakpoint():
    g = _units([0.3, 0.6, 1.2, -2.4], [-0.1, -0.2, -0.4, 0.8])
    assert _count(g, interval(-1.0, 1.0)).regions == exact_line_count(g, [0.0], E1, -1.0, 1.0)[0] == 2


@pytest.mark.parametrize("lo,hi", [(0.0, 1.0), (-1.0, 0.0), (0.25, 0.75)])
def test_breakpoints_on_the_domain_ends(lo, hi):
    g = _units([1.0, 1.0, 4.0, -2.0], [-lo, -hi, -4 * lo, 2 * hi])
    got = _count(g, interval(lo, hi))
    assert got.regions == exact_line_count(g, [0.0], E1, lo, hi)[0] == 1


def _tie_graph(seed):
    """Four copies of one ReLU unit; a max of candidates whose rows differ but whose coefficients sum
    to one value (multiples of 2^-30, so the sums are exact): equal where the units are active, in
    exact arithmetic, and rounded differently in float64."""
    r = _r(seed)
    a = r.integers(1, 2**30, size=4) / 2.0**30
    c = r.integers(1, 2**30, size=4) / 2.0**30
    c[3] = a.sum() - c[:3].sum()  # exact: every partial sum is a multiple of 2^-30 below 8
    return Graph([Affine(np.full((4, 1), 0.7), np.full(4, -0.2)), Activation.relu(),
                  Affine(np.stack([a, c, -a / 3]), [0.0, 0.0, 0.05]), MaxGroups([[0, 1, 2]]),
                  Affine([[1.0]])], 1)


def test_max_candidates_equal_in_exact_arithmetic():
    for g in [_tie_graph(s) for s in range(4)]:
        for lo, hi in [(-2.0, 3.0), (None, None)]:
            dom = line([0.0], [1.0]) if lo is None else interval(lo, hi)
            got = _count(g, dom)
            assert (got.regions, got.pieces) == exact_line_count(g, [0.0], E1, lo, hi)
            assert got.extra["exact_decisions"] >= 1  # float64 cannot tell the tie: decided exactly


# ------------------------------------------------------------------ (e) python -O
def test_no_assert_statements_in_the_op_walk():
    import regions.engines.line.ops as ops
    import regions.engines.line.ops_exact as ops_exact
    for mod in (ops, ops_exact):
        src = open(mod.__file__).read()
        assert "\nassert " not in src and " assert " not in src


def test_same_counts_under_python_O():
    code = ("import numpy as np, sys; sys.path.insert(0, 'tests');"
            "from test_scale_ops import GRAPHS, _count, _units; from regions.domains import interval;"
            "g = _units([1.0, 1.0], [-0.7, -float(np.nextafter(np.nextafter(0.7, 1), 1))]);"
            "print([_count(GRAPHS[n](), interval(-3.0, 2.0)).regions for n in sorted(GRAPHS)],"
            " _count(g, interval(0.0, 1.0)).regions)")
    runs = [subprocess.run([sys.executable, *flag, "-c", code], capture_output=True, text=True, check=True).stdout
            for flag in ([], ["-O"])]
    assert runs[0] == runs[1] and runs[0].strip().endswith("3")


@pytest.mark.parametrize("e", [45, 50, 52])
@pytest.mark.parametrize("s", [3.0, 1e300])
def test_max_candidates_that_differ_by_an_ulp_are_not_a_tie(e, s):
    # t and (1 + 2^-e) t - 2^-e cross at t = 1: two pieces of the max, however close the rows
    d = 2.0 ** -e
    g = Graph([Affine([[1.0], [1.0 + d]], [0.0, -d]), MaxGroups([[0, 1]]), Affine([[1.0]])], 1)
    got = _count(g, interval(-s, s))
    assert (got.regions, got.pieces) == exact_line_count(g, [0.0], E1, -s, s) == (2, 2)


def test_verify_reads_close_max_candidates_exactly():
    # the lowered network's own pattern reader ties candidates within a tolerance; verify() must
    # not report the exact partition as inconsistent there
    d = 2.0 ** -52
    g = Graph([Affine([[1.0], [1.0 + d]], [0.0, -d]), MaxGroups([[0, 1]]), Affine([[1.0]])], 1)
    part = partition_line_ops(lower(g), interval(-3.0, 3.0))
    assert part.verify()["witness_mismatches"] == 0 and part.n_regions == 2


def test_a_bending_unit_equal_to_a_linear_carry_still_cuts():
    # PReLU with per-unit slopes: unit 0 is linear (slopes 1, 1), unit 1 bends and has the same row
    g = Graph([Affine([[1.0], [1.0]], [-0.5, -0.5]), Activation.prelu([1.0, 0.0]), Affine([[1.0, 1.0]])], 1)
    got = _count(g, interval(-1.0, 1.0))
    assert (got.regions, got.pieces) == exact_line_count(g, [0.0], E1, -1.0, 1.0) == (2, 2)


def _degenerate(seed):
    """Small graphs with quarter-integer weights: coincident breakpoints, ties, dead units abound."""
    r = _r(100 + seed)
    q = lambda *s: np.round(r.normal(size=s) * 4) / 4  # noqa: E731
    return [
        lambda: Graph([Affine(q(4, 1), q(4)), Activation.relu(), Affine(q(4, 4), q(4)),
                       Activation.leaky_relu(0.25), Affine(q(1, 4))], 1),
        lambda: Graph([Affine(q(6, 1), q(6)), Activation.relu(), MaxGroups.maxout(6, 3), Affine(q(3, 2), q(3)),
                       Clamp(0.0, 1.0), Affine(q(1, 3))], 1),
        lambda: Graph([Affine(q(3, 1), q(3)), Activation.relu(), Affine(q(3, 3), q(3)), Activation.relu(),
                       Affine(q(3, 3)), Node(Add(), (2, 5)), MaxGroups([[0, 1, 2]]), Affine([[1.0]])], 1),
        lambda: Graph([Affine(q(4, 1), q(4)), Clamp(-0.5, 0.5), Node(Concat(), (0, 2)), Affine(q(4, 5), q(4)),
                       Activation.prelu([0.5, 0, -0.25, 1.0]), MaxGroups([[0, 1], [2, 3]]), Affine(q(1, 2))], 1),
    ][seed % 4]()


@pytest.mark.parametrize("seed", range(16))
def test_degenerate_graphs_match_the_exact_reference(seed):
    g = _degenerate(seed)
    for lo, hi in [(-2.0, 2.0), (None, None), (0.0, 1.0)]:
        dom = line([0.0], [1.0]) if lo is None else interval(lo, hi)
        got = _count(g, dom)
        assert (got.regions, got.pieces) == exact_line_count(g, [0.0], E1, lo, hi)
