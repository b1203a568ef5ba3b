"""The count's last layer counted, not built, and its pieces certificate (planar/lastlayer.py).

Independent values: the partition (``partition_plane``: every face built,
pieces from every region's exact Jacobian, verified by Euler's relation), the
n-D engine's count, regioncam's count (float32, a separately written tool).
Nets whose neighbours share maps (zero output weights, units the output
ignores) must never be certified: the count then builds the faces.
"""

from __future__ import annotations

import numpy as np
import pytest

import regions
from regions import Network
from regions.domains import box
from regions.engines.planar import kernel


@pytest.fixture
def certified(monkeypatch):
    """Outcomes of the certificate in this test: [True, False, ...]."""
    got = []
    real = kernel.no_merges

    def spy(*a):
        out = real(*a)
        got.append(out)
        return out

    monkeypatch.setattr(kernel, "no_merges", spy)
    return got


def _partition(net, dom):
    part = kernel.partition_plane(net, dom)
    part.verify()
    return part


@pytest.mark.parametrize("arch,seed,slope,out_dim", [
    ("2-8-1", 0, 0.0, None), ("2-32-32-1", 0, 0.0, None), ("2-32-32-1", 4, 0.0, None),
    ("2-16-16-16-1", 1, 0.0, None), ("2-24-24-1", 2, 0.2, None), ("2-20-20-1", 3, 0.0, 3),
])
def test_count_matches_partition(certified, arch, seed, slope, out_dim):
    net = Network.from_arch(arch, init="he", bias="same", seed=seed)
    layers = list(net.layers)
    if out_dim is not None:
        rng = np.random.default_rng(seed)
        layers[-1] = (rng.normal(size=(out_dim, layers[-1][0].shape[1])), np.zeros(out_dim))
    net = Network(layers, negative_slope=slope)
    dom = box(-1.0, 1.0, dim=2)
    got = regions.count(net, dom)
    part = _partition(net, dom)
    assert certified == [True]  # generic: the last layer counted and certified
    assert (got.regions, got.pieces, list(got.layer_counts)) == (part.n_regions, part.n_pieces,
                                                                 list(part.layer_counts))
    assert got.regions == regions.count(net, dom, engine="polytope").regions


def _zero_out(layers):  # some last-layer units ignored by the output: their chords join one piece
    layers[-1][0][:, :3] = 0.0


def _ignored_earlier(layers):  # a first-layer unit no second-layer unit reads: its line joins pieces
    layers[1][0][:, 0] = 0.0


def _dup_last(layers):  # a last-layer unit copied (same line): the one-pass cut refuses, the per-neuron cut runs
    layers[1][0][1] = layers[1][0][0]
    layers[1][1][1] = layers[1][1][0]


@pytest.mark.parametrize("fn", [_zero_out, _ignored_earlier, _dup_last])
def test_degenerate_nets_are_never_certified_wrongly(certified, fn):
    net = Network.from_arch("2-16-16-1", init="he", bias="same", seed=5)
    layers = [(W.copy(), b.copy()) for W, b in net.layers]
    fn(layers)
    net = Network(layers)
    dom = box(-1.0, 1.0, dim=2)
    got = regions.count(net, dom)
    part = _partition(net, dom)
    assert (got.regions, got.pieces, list(got.layer_counts)) == (part.n_regions, part.n_pieces,
                                                                 list(part.layer_counts))
    if part.n_pieces < part.n_regions:
        assert True not in certified  # neighbours with one map: never certified


@pytest.mark.parametrize("seed", [0, 1])
def test_against_regioncam(certified, seed):
    rc = pytest.importorskip("regioncam")
    net = Network.from_arch("2-32-32-1", init="he", bias="same", seed=seed)
    cam = rc.Regioncam(1.0)
    for i, (W, b) in enumerate(net.layers):
        cam.linear(np.ascontiguousarray(W.T, dtype=np.float32), b.astype(np.float32))
        if i < len(net.layers) - 1:
            cam.relu()
    got = regions.count(net, box(-1.0, 1.0, dim=2))
    assert certified == [True] and got.regions == cam.num_faces


@pytest.mark.parametrize("seed", [0, 3])
def test_plane_slice_of_a_wider_net(certified, seed):
    # the certificate works on the pulled-back layers of a plane through 5-D input space
    rng = np.random.default_rng(seed)
    net = Network.from_arch("5-24-24-1", init="he", bias="same", seed=seed)
    dom = regions.domains.plane(0.1 * rng.normal(size=5), rng.normal(size=5), rng.normal(size=5))
    got = regions.count(net, dom, engine="planar")
    part = _partition(net, dom)
    assert certified == [True]
    assert (got.regions, got.pieces, list(got.layer_counts)) == (part.n_regions, part.n_pieces,
                                                                 list(part.layer_counts))
    assert got.regions == regions.count(net, dom, engine="polytope").regions
