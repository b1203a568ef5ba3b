"""regions.from_torch on residual, max-pool and maxout modules and on torch.export programs (.pt2).

Independent values: the module's own forward in float64 (< 1e-12); the
brute-force pattern LP of tests/op_reference.py on the imported graph's
regions; the same count from the module and from its exported program.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

import regions  # noqa: E402
from op_reference import count_exact_lp  # noqa: E402
from regions import RegionsError  # noqa: E402
from regions.interop.fx import load_program  # noqa: E402
from regions.model.ops import Graph  # noqa: E402


class ResMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.f, self.out = nn.Linear(2, 4), nn.Linear(4, 4), nn.Linear(4, 1)

    def forward(self, x):
        h = F.relu(self.inp(x))
        return self.out(F.leaky_relu(h + F.relu(self.f(h)), 0.1))


class Maxout(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.out = nn.Linear(2, 6), nn.Linear(3, 4), nn.Linear(2, 1)

    def forward(self, x):
        h = self.a(x).view(-1, 3, 2).max(dim=2).values
        return self.out(torch.amax(self.b(h).view(-1, 2, 2), dim=-1))


def pool_net():
    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Unflatten(1, (2, 4)), nn.MaxPool1d(2),
                         nn.Flatten(), nn.Linear(4, 1))


MODELS = {"residual": ResMLP, "maxout": Maxout, "maxpool": pool_net}


def _model(name):
    torch.manual_seed(0)
    return MODELS[name]().double().eval()


def _dev(g, m):
    X = np.random.default_rng(1).normal(size=(100, 2)) * 2
    ref = m(torch.from_numpy(X)).detach().numpy().reshape(100, -1)
    return float(np.abs(g.forward(X) - ref).max())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_module_counts_against_the_reference(name):
    m = _model(name)
    g = regions.from_torch(m)
    assert isinstance(g, Graph)
    assert _dev(g, m) < 1e-12
    got = regions.count(g, regions.box(-1.0, 1.0, dim=2))
    assert got.regions == count_exact_lp(g, -1.0, 1.0) >= 2


@pytest.mark.parametrize("name", sorted(MODELS))
def test_exported_program_round_trip(name, tmp_path):
    m = _model(name)
    ep = torch.export.export(m, (torch.zeros(3, 2, dtype=torch.float64),))
    path = tmp_path / "model.pt2"
    torch.export.save(ep, str(path))
    g = load_program(str(path))
    assert _dev(g, m) < 1e-12
    assert g.n_params == sum(p.numel() for p in m.parameters())
    dom = regions.segment(np.array([-1.0, -0.5]), np.array([1.0, 0.7]))
    assert regions.count(g, dom).regions == regions.count(regions.from_torch(m), dom).regions
    assert regions.count(regions.from_torch(ep)).regions == regions.count(g).regions


def test_plain_chain_stays_a_network():
    net = regions.from_torch(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)))
    assert isinstance(net, regions.Network)


class Smooth(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(2, 3)

    def forward(self, x):
        return torch.tanh(self.a(x))


class NoLinear(nn.Module):
    def forward(self, x):
        return F.relu(x)


@pytest.mark.parametrize("make,match", [
    (Smooth, "node 'tanh'"),
    (NoLinear, "expected input_shape"),
])
def test_refusals_name_what_is_wrong(make, match):
    with pytest.raises(RegionsError, match=match):
        regions.from_torch(make())


def test_unreadable_program_is_refused(tmp_path):
    path = tmp_path / "bad.pt2"
    path.write_bytes(b"not a program")
    with pytest.raises(RegionsError, match="torch.export.save"):
        load_program(str(path))


def test_cli_counts_an_exported_residual_net(tmp_path):
    import json

    from click.testing import CliRunner

    from regions.cli.main import main

    m = _model("residual")
    path = tmp_path / "resnet.pt2"
    torch.export.save(torch.export.export(m, (torch.zeros(3, 2, dtype=torch.float64),)), str(path))
    r = CliRunner().invoke(main, ["count", "--weights", str(path), "--box", "-1:1", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    g = regions.from_torch(m)
    assert rec["regions"] == count_exact_lp(g, -1.0, 1.0) and rec["arch"] == g.arch
    bad = CliRunner().invoke(main, ["count", "--weights", str(path), "--engine", "polytope"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_slices_and_checkpoint_series_of_a_residual_net(tmp_path):
    from regions.experiments.workflows import checkpoint_series, data_domain, slice_through
    from regions.model.ops import lower

    class Res8(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.o = nn.Linear(8, 6), nn.Linear(6, 6), nn.Linear(6, 3)

        def forward(self, x):
            h = torch.relu(self.a(x))
            return self.o(h + torch.relu(self.b(h)))

    torch.manual_seed(1)
    m = Res8()
    P = np.random.default_rng(0).normal(size=(3, 8))
    seg, pl = slice_through(m, P[:2]), slice_through(m, P)  # verified partitions
    assert pl.record["arch"] == "8-relu6-relu6-add6-3" and seg.record["regions"] >= 2
    # every pattern on a grid of the plane is a region (a lower bound)
    dom = pl.domain
    t = np.linspace(0, 1, 151)
    U = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2) * (dom.hi - dom.lo) + dom.lo
    grid = {p.tobytes() for p in lower(regions.from_torch(m)).patterns(dom.to_input(U))}
    assert grid <= {p.tobytes() for p in pl.partition.patterns}
    for step in (0, 5):  # checkpoints of a residual net: torch.export programs
        torch.export.save(torch.export.export(m, (torch.zeros(2, 8),)), str(tmp_path / f"step_{step:06d}.pt2"))
        with torch.no_grad():
            m.b.weight.mul_(2.0)
    rows = checkpoint_series(tmp_path, data_domain(P), verify=True)
    assert [r["step"] for r in rows] == [0, 5] and rows[0]["regions"] == pl.record["regions"]


def test_residual_digits_run_and_its_checkpoints(tmp_path):
    from regions.experiments import digits
    from regions.experiments.workflows import checkpoint_series, load_digits
    from regions.interop.fx import load_program

    run = digits.train_digits(tmp_path / "res", hidden=(8,), residual_blocks=1, epochs=1, max_steps=4,
                              save_every=2, seed=0)
    assert [r["checkpoint"] for r in run.history] == ["step_000000.pt2", "step_000002.pt2", "step_000004.pt2"]
    X, _ = load_digits()
    last = load_program(str(run.checkpoints[-1]))
    ref = run.model.double()(torch.from_numpy(X[:20])).detach().numpy()
    assert np.abs(last.forward(X[:20]) - ref).max() < 1e-12  # the program is the trained module
    dom = regions.segment(X[0], X[1])
    rows = checkpoint_series(tmp_path / "res", dom)
    assert rows[-1]["regions"] == regions.count(run.network(), dom).regions >= 1
