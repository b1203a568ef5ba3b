"""torch.fx import of hand-written modules: forward agreement (< 1e-12, float64) per supported op, refusals."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from regions import RegionsError  # noqa: E402
from regions.interop.fx import graph_from_torch  # noqa: E402
from regions.model.ops import lower  # noqa: E402


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp, self.f1, self.f2, self.out = nn.Linear(3, 6), nn.Linear(6, 5), nn.Linear(5, 6), nn.Linear(6, 2)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        h = torch.relu(self.inp(x))
        h = h + self.f2(F.relu(self.f1(self.drop(h))))
        return self.out(F.leaky_relu(h, 0.2))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.bn = nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3)
        self.pool = nn.MaxPool2d(2, stride=2, padding=1)
        self.c2 = nn.Conv1d(3, 2, 2)
        self.fc = nn.Linear(2 * 8, 2)

    def forward(self, x):
        h = self.pool(F.relu(self.bn(self.c1(x))))  # (3, 4, 4)
        h = F.max_pool2d(h, 2, 1)  # (3, 3, 3)
        h = h.view(-1, 3, 9)
        h = nn.functional.relu6(self.c2(h))  # (2, 8)
        return self.fc(torch.flatten(h, 1))


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 6), nn.Linear(4, 2)
        self.p, self.h = nn.PReLU(), nn.Hardtanh(-0.5, 0.8)
        self.avg, self.ada = nn.AvgPool1d(2), nn.AdaptiveAvgPool1d(2)
        self.mp, self.id, self.r6 = nn.MaxPool1d(3, stride=2, padding=1), nn.Identity(), nn.ReLU6()
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        u = torch.cat([self.p(self.a(x)), self.h(self.b(x))], dim=1)  # (8,)
        v = u.view(-1, 2, 4)
        w = torch.cat([self.avg(v), self.ada(self.mp(v))], 1)  # (4, 2)
        return self.out(torch.cat([w.flatten(1), self.id(self.r6(v)).flatten(1)], 1))


CASES = {"residual": (Residual, (3,)), "cnn": (CNN, (1, 6, 6)), "mixed": (Mixed, (4,))}


def _randomize(m, seed):
    torch.manual_seed(seed)
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            with torch.no_grad():
                mod.running_mean.uniform_(-1, 1)
                mod.running_var.uniform_(0.5, 2)
                mod.weight.uniform_(0.5, 2)
                mod.bias.uniform_(-1, 1)
        if isinstance(mod, nn.PReLU):
            with torch.no_grad():
                mod.weight.fill_(0.37)
    return m


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_agreement(name):
    make, shape = CASES[name]
    torch.manual_seed(0)
    m = _randomize(make(), 1)
    g = graph_from_torch(m, shape)
    low = lower(g)
    X = np.random.default_rng(0).normal(size=(64, int(np.prod(shape)))) * 3
    with torch.no_grad():
        ref = m.double().eval()(torch.from_numpy(X.reshape(64, *shape))).reshape(64, -1).numpy()
    scale = max(1.0, np.abs(ref).max())
    assert np.max(np.abs(g.forward(X) - ref)) / scale < 1e-12
    assert np.max(np.abs(low(X) - ref)) / scale < 1e-12
    assert low.n_params == sum(p.numel() for p in m.parameters())


class Bad(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return torch.tanh(self.fc(x))


class BadModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc, self.act = nn.Linear(2, 2), nn.GELU()

    def forward(self, x):
        return self.act(self.fc(x))


@pytest.mark.parametrize("make, needle", [(Bad, "tanh"), (BadModule, "GELU")])
def test_refusals_name_the_node(make, needle):
    with pytest.raises(RegionsError, match=needle) as err:
        graph_from_torch(make(), (2,))
    assert "node" in str(err.value)


def test_traced_cnn_counted_along_a_segment():
    from regions import segment
    from regions.engines.line.ops import partition_line_ops

    torch.manual_seed(3)
    m = _randomize(CNN(), 2)
    low = lower(graph_from_torch(m, (1, 6, 6)))
    r = np.random.default_rng(4)
    a, b = r.normal(size=36), r.normal(size=36)
    part = partition_line_ops(low, segment(a, b))
    t = np.linspace(0, 1, 20001)
    grid = low.patterns(a + t[:, None] * (b - a))
    runs = 1 + int(np.count_nonzero(np.any(grid[1:] != grid[:-1], axis=1)))
    assert 2 <= runs <= part.n_regions
    assert np.array_equal(low.patterns(a + part.witnesses[:, None] * (b - a)), part.patterns)
