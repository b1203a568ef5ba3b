"""The network model: construction, files, composition, patterns."""

import numpy as np
import pytest

import regions
from regions import Network, RegionsError, compose

SEEDS = [0, 1, 2]


@pytest.mark.parametrize("arch,params", [("1-10-10-10-10-10-1", 471), ("10-50-50-50-50-50-1", 10_801), ("2-3-1", 13)])
def test_parameter_count(arch, params):
    net = Network.from_arch(arch, seed=0)
    assert net.n_params == params == regions.theory.n_params(net.input_dim, net.widths, net.output_dim)
    assert net.arch == arch


@pytest.mark.parametrize("init,std", [("he", np.sqrt(2 / 200)), ("glorot", np.sqrt(2 / 600)), ("torch", np.sqrt(1 / 600))])
def test_init_scales(init, std):
    net = Network.from_arch("200-400-1", init=init, seed=1)
    W, b = net.layers[0]
    assert W.std() == pytest.approx(std, rel=0.05)
    assert Network.from_arch("200-400-1", init=init, bias="zero", seed=1).layers[0][1].max() == 0.0
    assert np.all(Network.from_arch("2-3-1", init=init, bias=0.5).layers[0][1] == 0.5)


def test_seeded_and_reproducible():
    a = Network.from_arch("3-5-1", seed=4)
    b = Network.from_arch("3-5-1", seed=4)
    c = Network.from_arch("3-5-1", seed=5)
    assert np.array_equal(a.layers[0][0], b.layers[0][0])
    assert not np.array_equal(a.layers[0][0], c.layers[0][0])


@pytest.mark.parametrize("seed", SEEDS)
def test_npz_round_trip(tmp_path, seed):
    net = Network.from_arch("3-7-5-2", seed=seed, negative_slope=0.0)
    path = net.save(tmp_path / "net.npz")
    back = Network.load(path)
    X = np.random.default_rng(seed).normal(size=(20, 3))
    assert np.array_equal(back(X), net(X))
    leaky = Network(net.layers, negative_slope=0.2)
    assert Network.load(leaky.save(tmp_path / "leaky.npz")).negative_slope == 0.2
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files


def test_load_refuses_bad_files(tmp_path):
    np.savez(tmp_path / "obj.npz", W0=np.array([{"a": 1}], dtype=object), b0=np.zeros(1))
    with pytest.raises(RegionsError, match="pickled"):
        Network.load(tmp_path / "obj.npz")
    np.savez(tmp_path / "shape.npz", W0=np.ones((3, 1)), b0=np.ones(2))
    with pytest.raises(RegionsError, match="b0"):
        Network.load(tmp_path / "shape.npz")
    np.savez(tmp_path / "chain.npz", W0=np.ones((3, 1)), b0=np.ones(3), W1=np.ones((1, 2)), b1=np.ones(1))
    with pytest.raises(RegionsError, match="take 3 inputs"):
        Network.load(tmp_path / "chain.npz")
    np.savez(tmp_path / "nan.npz", W0=np.array([[np.nan]]), b0=np.ones(1))
    with pytest.raises(RegionsError, match="finite"):
        Network.load(tmp_path / "nan.npz")
    np.savez(tmp_path / "names.npz", weight=np.ones((1, 1)))
    with pytest.raises(RegionsError, match="W0, b0"):
        Network.load(tmp_path / "names.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(RegionsError, match="unreadable"):
        Network.load(tmp_path / "junk.npz")
    with pytest.raises(RegionsError, match="existing"):
        Network.load(tmp_path / "missing.npz")


@pytest.mark.parametrize("bad", ["", "1", "1-0-1", "a-b", "1--"])
def test_bad_architectures(bad):
    with pytest.raises(RegionsError, match="expected"):
        Network.from_arch(bad)


@pytest.mark.parametrize("seed", SEEDS)
def test_compose_equals_composition(seed):
    rng = np.random.default_rng(seed)
    f = Network.from_arch("3-4-5-2", seed=seed)
    g = Network.from_arch("2-6-3-1", seed=seed + 100)
    h = compose(f, g)
    X = rng.normal(size=(100, 3))
    assert np.allclose(h(X), g(f(X)))
    assert h.widths == f.widths + g.widths
    # f's output layer folds into g's first: the parameters of both minus those two layers plus the merged one
    assert h.n_params == f.n_params + g.n_params - (2 * 5 + 2) - (2 * 6 + 6) + (5 * 6 + 6)
    with pytest.raises(RegionsError, match="output dimension"):
        compose(g, f)


def test_lecture_pair_parameters_and_regions():
    pair = regions.constructions.lecture_pair()
    assert pair["f"].n_params + pair["g"].n_params == 20
    assert pair["shallow"].n_params == 19
    dom = regions.interval(*pair["domain"])
    assert regions.partition_line(pair["deep"], dom).n_regions == 9
    assert regions.partition_line(pair["shallow"], dom).n_regions == 7
    X = np.linspace(0, 1, 101)[:, None]
    assert np.allclose(pair["deep"](X), pair["g"](pair["f"](X)))


@pytest.mark.parametrize("seed", range(10))
def test_any_one_six_one_has_at_most_seven_regions(seed):
    net = Network.from_arch("1-6-1", seed=seed)
    assert regions.count_line(net, regions.whole(1)).regions <= 7


def test_patterns_relu_zero_is_inactive_and_shapes():
    net = Network([(np.array([[1.0], [-1.0]]), np.array([0.0, 1.0])), (np.ones((1, 2)), np.zeros(1))])
    assert net.patterns(np.array([[0.0]])).tolist() == [[False, True]]
    with pytest.raises(RegionsError, match=r"shaped \(n, 1\)"):
        net.patterns(np.zeros((2, 3)))
    with pytest.raises(RegionsError, match="negative_slope"):
        Network(net.layers, negative_slope=1.5)
