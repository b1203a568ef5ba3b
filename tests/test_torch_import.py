"""PyTorch import: round trips for every supported layer, refusals, files.

A round trip compares the imported Network with the module itself run in
float64 and eval mode on seeded random inputs (``max_deviation``).
"""

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import regions  # noqa: E402
from regions import Network, RegionsError  # noqa: E402
from regions.interop.pytorch import from_torch, load_torch, max_deviation, parse_activation  # noqa: E402

TOL = 1e-12


def _seeded(seed=0):
    torch.manual_seed(seed)


def _randomize_bn(bn, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        bn.running_mean.copy_(torch.rand(bn.num_features, generator=g) * 2 - 1)
        bn.running_var.copy_(torch.rand(bn.num_features, generator=g) * 1.5 + 0.5)
        if bn.weight is not None:
            bn.weight.copy_(torch.rand(bn.num_features, generator=g) * 1.5 + 0.5)
            bn.bias.copy_(torch.rand(bn.num_features, generator=g) * 2 - 1)
    return bn


def _round_trip(module, input_shape=None, **kw):
    net = from_torch(module, input_shape, **kw)
    assert isinstance(net, Network)
    for seed in (0, 1):
        assert max_deviation(module, net, input_shape, n=32, seed=seed) <= TOL
    return net


# ------------------------------------------------------------- round trips
def test_linear_relu():
    _seeded(0)
    net = _round_trip(nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 6), nn.ReLU(), nn.Linear(6, 2)))
    assert net.arch == "5-7-6-2" and net.negative_slope == 0.0


def test_linear_without_bias_and_single_layer():
    _seeded(1)
    net = _round_trip(nn.Sequential(nn.Linear(4, 3, bias=False), nn.ReLU(), nn.Linear(3, 1, bias=False)))
    assert np.all(net.layers[0][1] == 0)
    assert _round_trip(nn.Linear(3, 2)).arch == "3-2"


def test_leaky_relu_slope_is_kept():
    _seeded(2)
    net = _round_trip(nn.Sequential(nn.Linear(3, 8), nn.LeakyReLU(0.2), nn.Linear(8, 8), nn.LeakyReLU(0.2),
                                    nn.Linear(8, 1)))
    assert net.negative_slope == 0.2
    part = regions.partition(net, regions.segment(-np.ones(3), np.ones(3)))
    part.verify()


@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm1d_folded(affine):
    _seeded(3)
    m = nn.Sequential(nn.Linear(4, 6), _randomize_bn(nn.BatchNorm1d(6, affine=affine), 3), nn.ReLU(),
                      nn.Linear(6, 2), _randomize_bn(nn.BatchNorm1d(2), 4))
    net = _round_trip(m)
    assert net.arch == "4-6-2"  # each BatchNorm merged into the Linear before it


def test_batchnorm1d_first_and_on_channels_by_length():
    _seeded(4)
    _round_trip(nn.Sequential(_randomize_bn(nn.BatchNorm1d(5), 5), nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 1)))
    # (C, L) input: BatchNorm1d per channel, Linear on the last dimension
    m = nn.Sequential(_randomize_bn(nn.BatchNorm1d(3), 6), nn.Linear(4, 5), nn.ReLU(), nn.Flatten(),
                      nn.Linear(15, 2))
    assert _round_trip(m, (3, 4)).arch == "12-15-2"


def test_training_mode_module_is_imported_as_eval_and_left_unchanged():
    _seeded(5)
    m = nn.Sequential(nn.Linear(4, 6), _randomize_bn(nn.BatchNorm1d(6), 7), nn.ReLU(), nn.Dropout(0.5),
                      nn.Linear(6, 2))
    m.train()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    _round_trip(m)
    assert m.training and all(mod.training for mod in m.modules())
    after = m.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_conv_batchnorm2d_flatten_linear_merge_into_one_layer():
    _seeded(6)
    m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), _randomize_bn(nn.BatchNorm2d(3), 8), nn.Flatten(),
                      nn.Linear(3 * 8 * 8, 10), nn.ReLU(), nn.Linear(10, 4))
    net = _round_trip(m, (1, 8, 8))
    assert net.arch == "64-10-4"


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=3),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=2, dilation=2, bias=False),
    dict(kernel_size=3, padding="same", padding_mode="reflect"),
    dict(kernel_size=3, padding=1, padding_mode="circular"),
    dict(kernel_size=1, groups=2),
])
def test_conv2d_exact_linear_map(kwargs):
    _seeded(7)
    m = nn.Sequential(nn.Conv2d(2, 4, **kwargs), nn.ReLU(), nn.Conv2d(4, 2, 3), nn.ReLU(), nn.Flatten(),
                      nn.Identity())
    net = _round_trip(m, (2, 7, 7))
    assert net.input_dim == 98


@pytest.mark.parametrize("kwargs", [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=2, divisor_override=3),
])
def test_avgpool2d_exact_linear_map(kwargs):
    _seeded(8)
    m = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.AvgPool2d(**kwargs), nn.Flatten())
    m = nn.Sequential(*m, nn.Linear(int(np.prod(m(torch.zeros(1, 1, 8, 8)).shape[1:])), 3))
    _round_trip(m, (1, 8, 8))


def test_flatten_unflatten_dropouts_identity_and_nesting():
    _seeded(9)
    m = nn.Sequential(
        nn.Unflatten(1, (2, 3, 3)),
        nn.Sequential(nn.Conv2d(2, 2, 2), nn.Dropout2d(0.3), nn.Identity()),
        nn.ReLU(),
        nn.Sequential(nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.AlphaDropout(0.1)), nn.Dropout1d(0.1)),
        nn.Linear(8, 3),
    )
    net = _round_trip(m, (18,))
    assert net.arch == "18-8-3"


def test_activation_first_repeated_and_last_are_exact():
    _seeded(10)
    m = nn.Sequential(nn.ReLU(), nn.Linear(3, 4), nn.ReLU(), nn.ReLU(), nn.Linear(4, 2), nn.ReLU())
    net = _round_trip(m, 3)
    assert net.arch == "3-3-4-4-2-2"


def test_linear_on_last_dimension_of_a_matrix_input():
    _seeded(11)
    _round_trip(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(6, 1)), (2, 4))


def test_float32_and_float64_modules():
    _seeded(12)
    m = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1)).double()
    _round_trip(m)


# ----------------------------------------------------------------- refusals
@pytest.mark.parametrize("layer,words", [
    (nn.GELU(), "GELU at position 2"),
    (nn.MaxPool1d(2), "MaxPool1d at position 2"),
    (nn.Tanh(), "Tanh at position 2"),
    (nn.Softmax(dim=1), "Softmax"),
    (nn.LayerNorm(4), "LayerNorm at position 2"),
])
def test_unsupported_layers_are_named_with_their_position(layer, words):
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), layer, nn.Linear(4 if not isinstance(layer, nn.MaxPool1d) else 2, 1))
    with pytest.raises(RegionsError, match=words):
        from_torch(m)


def test_nested_position_is_the_dotted_name():
    m = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.MaxPool2d(2)))
    with pytest.raises(RegionsError, match=r"MaxPool2d at position 2 \('1.1'\): max pooling"):
        from_torch(m)


def test_overridden_forward_is_refused():
    class Scaled(nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    class Custom(nn.Sequential):
        def forward(self, x):
            return super().forward(x) + 1

    with pytest.raises(RegionsError, match="Scaled at position 0.*own forward"):
        from_torch(nn.Sequential(Scaled(3, 2)))
    with pytest.raises(RegionsError, match="Custom .*own forward"):
        from_torch(Custom(nn.Linear(3, 2)))

    class Net(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(RegionsError, match="Net at position 0"):
        from_torch(Net())


def test_mixed_slopes_are_refused():
    with pytest.raises(RegionsError, match=r"same negative slope, got 0.0 at position 1 .* 0.1 at position 3"):
        from_torch(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 4), nn.LeakyReLU(0.1), nn.Linear(4, 1)))
    with pytest.raises(RegionsError, match=r"slopes in \[0, 1\), got 1.5"):
        from_torch(nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(1.5), nn.Linear(4, 1)))


def test_shape_problems_are_one_sentence():
    with pytest.raises(RegionsError, match="expected input_shape .* Conv2d"):
        from_torch(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()))
    with pytest.raises(RegionsError, match=r"Conv2d at position 0 .*\(1, H, W\), got shape \(2, 5, 5\)"):
        from_torch(nn.Sequential(nn.Conv2d(1, 2, 3)), (2, 5, 5))
    with pytest.raises(RegionsError, match="last dimension 5 at the Linear layer position 2"):
        from_torch(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(5, 1)))
    with pytest.raises(RegionsError, match="track running statistics"):
        from_torch(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False)))
    with pytest.raises(RegionsError, match="input_shape as a tuple"):
        from_torch(nn.Linear(3, 1), (0, 3))
    with pytest.raises(RegionsError, match="got str"):
        from_torch("model.pt")
    with pytest.raises(RegionsError, match="empty nn.Sequential"):
        from_torch(nn.Sequential())


# -------------------------------------------------------------- state dicts
def test_state_dict_of_linear_sequential_with_activation_argument():
    _seeded(13)
    m = nn.Sequential(nn.Linear(4, 6), nn.LeakyReLU(0.05), nn.Linear(6, 6), nn.LeakyReLU(0.05), nn.Linear(6, 2))
    net = from_torch(m.state_dict(), activation="leaky_relu:0.05")
    assert net.negative_slope == 0.05 and net.arch == "4-6-6-2"
    assert max_deviation(m, net) <= TOL
    relu = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2, bias=False))
    assert max_deviation(relu, from_torch(relu.state_dict(), activation="relu")) <= TOL
    with pytest.raises(RegionsError, match="expected the activation of this state dict"):
        from_torch(relu.state_dict())


def test_state_dict_with_module_leaves_the_module_alone():
    _seeded(14)
    a = nn.Sequential(nn.Linear(3, 5), _randomize_bn(nn.BatchNorm1d(5), 1), nn.ReLU(), nn.Linear(5, 1))
    b = nn.Sequential(nn.Linear(3, 5), _randomize_bn(nn.BatchNorm1d(5), 2), nn.ReLU(), nn.Linear(5, 1))
    before = {k: v.clone() for k, v in b.state_dict().items()}
    net = from_torch(b, state_dict=a.state_dict())
    assert max_deviation(a, net) <= TOL
    assert all(torch.equal(before[k], v) for k, v in b.state_dict().items())
    with pytest.raises(RegionsError, match="expected only Linear weights .* got '1.running_mean'"):
        from_torch(a.state_dict())
    with pytest.raises(RegionsError, match="expected a state dict matching the module"):
        from_torch(nn.Sequential(nn.Linear(3, 4)), state_dict=a.state_dict())


@pytest.mark.parametrize("text,slope", [("relu", 0.0), ("ReLU", 0.0), ("leaky_relu", 0.01),
                                        ("leaky_relu:0.2", 0.2), ("LeakyReLU(0.3)", 0.3), (0.1, 0.1)])
def test_parse_activation(text, slope):
    assert parse_activation(text) == slope


@pytest.mark.parametrize("bad", ["gelu", "relu:0.1", "leaky_relu:x", "leaky_relu:1.5", -0.1])
def test_parse_activation_refuses(bad):
    with pytest.raises(RegionsError, match="expected"):
        parse_activation(bad)


# -------------------------------------------------------------------- files
def test_load_state_dict_checkpoint_dict_and_saved_module(tmp_path):
    _seeded(15)
    m = nn.Sequential(nn.Conv2d(1, 2, 3), _randomize_bn(nn.BatchNorm2d(2), 3), nn.ReLU(), nn.AvgPool2d(2),
                      nn.Flatten(), nn.Linear(18, 3))
    lin = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    torch.save(lin.state_dict(), tmp_path / "sd.pt")
    torch.save({"epoch": 3, "model_state_dict": lin.state_dict()}, tmp_path / "ckpt.pth")
    torch.save(m, tmp_path / "whole.pt")
    torch.save(m.state_dict(), tmp_path / "conv_sd.pt")
    for name in ("sd.pt", "ckpt.pth"):
        assert max_deviation(lin, load_torch(tmp_path / name, activation="relu")) <= TOL
    assert max_deviation(m, load_torch(tmp_path / "whole.pt", input_shape=(1, 8, 8)), (1, 8, 8)) <= TOL
    fresh = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
                          nn.Linear(18, 3))
    net = load_torch(tmp_path / "conv_sd.pt", module=fresh, input_shape=(1, 8, 8))
    assert max_deviation(m, net, (1, 8, 8)) <= TOL
    # the workflows loader dispatches on the suffix
    from regions.experiments import workflows

    assert workflows.load_network(tmp_path / "sd.pt", activation="relu").arch == "4-5-2"


def test_unsafe_or_bad_files_are_refused(tmp_path):
    torch.save(nn.Sequential(nn.Linear(3, 4), nn.GELU()), tmp_path / "gelu.pt")
    with pytest.raises(RegionsError, match=r"weights_only=True\) refuses.*GELU.*state_dict"):
        load_torch(tmp_path / "gelu.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(RegionsError, match="unreadable"):
        load_torch(tmp_path / "junk.pt")
    with pytest.raises(RegionsError, match="existing torch file"):
        load_torch(tmp_path / "missing.pt")
    torch.save({"epoch": 1, "optimizer": {"lr": 0.1}}, tmp_path / "nomodel.pt")
    with pytest.raises(RegionsError, match="'state_dict' or 'model_state_dict'"):
        load_torch(tmp_path / "nomodel.pt")


def test_missing_torch_is_one_clear_sentence(monkeypatch):
    from regions.interop import pytorch as torch_import

    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(RegionsError, match=r"PyTorch to be installed .*pip install torch==2.13.0"):
        torch_import.from_torch(object())


def test_import_regions_does_not_import_torch():
    code = ("import sys, regions, regions.experiments.workflows; assert 'torch' not in sys.modules; "
            "assert callable(regions.from_torch); print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_regions_from_torch_wrapper():
    _seeded(16)
    m = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    assert max_deviation(m, regions.from_torch(m)) <= TOL


def test_conv_on_a_larger_input_is_chunked_and_huge_maps_refused():
    _seeded(17)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4 * 7 * 7, 2))
    _round_trip(m, (3, 32, 32))
    with pytest.raises(RegionsError, match=r"at most 67108864 entries .* got 3276800 x 3072"):
        from_torch(nn.Sequential(nn.Conv2d(3, 3200, 1)), (3, 32, 32))


@pytest.mark.parametrize("attr", ["layers", "net", "body.mlp", "0.layers"])
def test_state_dict_under_a_named_attribute_is_refused(attr):
    # a ModuleList or Sequential attribute of a custom module: its forward (residual sums, other
    # activations) is not in the keys, so the dict is refused even with an activation given
    inner = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    sd = {f"{attr}.{k}": v for k, v in inner.state_dict().items()}
    with pytest.raises(RegionsError, match=f"named attribute '{attr}'"):
        from_torch(sd, activation="relu")
    assert from_torch(inner.state_dict(), activation="relu").layers[0][0].shape == (4, 2)  # plain: read
