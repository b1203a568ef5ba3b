"""Op graphs: the lowered chain against the graph itself (float64) and the exact reference (Fractions)."""

import numpy as np
import pytest

from op_reference import forward_exact
from regions import RegionsError
from regions.model.ops import Activation, Add, Affine, Clamp, Concat, Graph, MaxGroups, Node, lower


def _rng(seed):
    return np.random.default_rng(seed)


def residual(seed=0, d=3, zero_inner=False):
    r = _rng(seed)
    W1, W2 = r.normal(size=(5, d)), r.normal(size=(d, 5))
    if zero_inner:  # inner map zero: its units are constant and split nothing
        W1, W2 = np.zeros_like(W1), np.zeros_like(W2)
    return Graph([Affine(r.normal(size=(d, d)), r.normal(size=d)), Activation.relu(),
                  Affine(W1, r.normal(size=5)), Activation.relu(), Affine(W2),
                  Node(Add(), (2, 5)), Activation.leaky_relu(0.1), Affine(r.normal(size=(2, d)))], d)


def pooled(seed=1):
    r = _rng(seed)
    mp, shape = MaxGroups.pool((2, 4, 4), 2, stride=1, padding=1, dilation=1)
    n = int(np.prod(shape))
    return Graph([Affine(r.normal(size=(32, 2)), r.normal(size=32)), Activation.relu(), mp,
                  Affine(r.normal(size=(1, n)))], 2)


def mixed(seed=2):
    r = _rng(seed)
    return Graph([Affine(r.normal(size=(6, 2)), r.normal(size=6)),
                  Activation.prelu(r.uniform(-0.5, 1.5, size=6)),
                  Node(Clamp(-0.5, 0.7), (1,)), Node(Concat(), (2, 3)), MaxGroups.maxout(12, 3),
                  Clamp(0.0, 6.0), Affine(r.normal(size=(2, 4)))], 2)


GRAPHS = {"residual": residual, "pooled": pooled, "mixed": mixed}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_lowered_chain_computes_the_graph(name):
    g = GRAPHS[name]()
    low = lower(g)
    X = _rng(5).normal(size=(200, g.input_dim)) * 2
    ref = g.forward(X)
    assert np.max(np.abs(low(X) - ref)) <= 1e-12 * max(1.0, np.abs(ref).max())


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_lowered_chain_against_exact_reference(name):
    g = GRAPHS[name]()
    low = lower(g)
    X = _rng(6).normal(size=(20, g.input_dim))
    pats = low.patterns(X)
    for x, y, p in zip(X, low(X), pats):
        exact, bits = forward_exact(g, x)
        assert np.allclose(y, [float(v) for v in exact], rtol=1e-12, atol=1e-12)
        assert p.tolist() == bits


def test_zero_inner_residual_is_the_plain_net():
    g = residual(zero_inner=True)
    plain = Graph([g.nodes[0].op, Activation.relu(), g.nodes[-1].op], 3)
    X = _rng(7).normal(size=(50, 3)) * 3
    assert np.max(np.abs(lower(g)(X) - lower(plain)(X))) <= 1e-12 * np.abs(lower(plain)(X)).max()


def test_maxpool_groups_match_torch():
    torch = pytest.importorskip("torch")
    for shape, kw in [((2, 5, 6), dict(kernel=3, stride=2, padding=1)),
                      ((1, 7, 7), dict(kernel=2, stride=2, ceil_mode=True)),
                      ((3, 6, 5), dict(kernel=(2, 3), stride=(1, 2), dilation=(2, 1))),
                      ((2, 9), dict(kernel=3, stride=2, padding=1))]:
        op, out = MaxGroups.pool(shape, **kw)
        x = torch.from_numpy(_rng(3).normal(size=(4, *shape)))
        pool = torch.nn.functional.max_pool2d if len(shape) == 3 else torch.nn.functional.max_pool1d
        ref = pool(x, kw["kernel"], kw.get("stride"), kw.get("padding", 0), kw.get("dilation", 1),
                   ceil_mode=kw.get("ceil_mode", False))
        assert tuple(ref.shape[1:]) == out
        assert np.array_equal(op.forward(x.reshape(4, -1).numpy()), ref.reshape(4, -1).numpy())


def test_ties_lowest_index_wins():
    g = Graph([Affine([[1.0], [1.0], [-1.0]]), MaxGroups([[0, 1, 2]])], 1)
    p = lower(g).patterns(np.array([[0.5], [-0.5]]))
    assert p.tolist() == [[True, False, False], [False, False, True]]


def test_n_params_is_the_modules():
    g = mixed()
    assert lower(g).n_params == 6 * 2 + 6 + 6 + 2 * 4 + 2


@pytest.mark.parametrize("make", [
    lambda: Graph([Affine(np.ones((2, 3)))], 2),
    lambda: Graph([Node(Add(), (0, 1))], 2),
    lambda: Graph([], 2),
    lambda: MaxGroups.maxout(5, 2),
    lambda: Clamp(1.0, 1.0),
])
def test_refusals(make):
    with pytest.raises(RegionsError):
        make()
