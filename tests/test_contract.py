"""The engine contract: every registered engine x every domain kind it takes x every invariant.

A new engine registered in :mod:`regions.engines.registry` is picked up
here automatically and proves itself by passing.  Independent values: the
Zaslavsky count ``sum_{j<=d} C(D, j)`` of one generic layer of D units in
R^d (on a box holding every vertex of the arrangement), ``(D+1)^K`` of the
sawtooth, and a forward pass at every witness.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from math import comb

import numpy as np
import pytest

import regions
from regions import box, constructions, interval, line, plane, segment, whole
from regions.engines.registry import engines
from regions.errors import RegionsError, VerificationError
from regions.model.network import Network


def _jobs():
    """(engine, label, net, domain) for every engine and domain kind it supports."""
    n1 = Network.from_arch("1-6-5-1", seed=1)
    n2 = Network.from_arch("2-6-5-1", seed=2)
    n3 = Network.from_arch("3-6-4-1", seed=3)
    candidates = [
        ("interval", n1, interval(-2.0, 2.0)),
        ("segment", n3, segment(np.zeros(3), np.ones(3))),
        ("line", n3, line(np.zeros(3), np.array([1.0, -0.5, 0.3]))),
        ("box2", n2, box(-1.0, 1.0, dim=2)),
        ("plane", n3, plane(np.zeros(3), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))),
        ("polygon", n2, regions.polygon([[-1.0, -1.0], [1.0, -0.5], [0.0, 1.0]])),
        ("box3", n3, box(-1.0, 1.0, dim=3)),
        ("whole3", n3, whole(3)),
    ]
    out = []
    for name, eng in sorted(engines().items()):
        for label, net, dom in candidates:
            if eng.supports(net, dom) is None:
                out.append(pytest.param(eng, net, dom, id=f"{name}-{label}"))
    return out


JOBS = _jobs()


@pytest.mark.parametrize("eng, net, dom", JOBS)
def test_partition_invariants(eng, net, dom):
    part = eng.partition(net, dom)
    R = part.n_regions
    assert not part.partial and R == part.patterns.shape[0] == part.witnesses.shape[0] == part.measures.shape[0]
    assert part.witnesses.shape[1] == dom.dim and part.patterns.dtype == bool
    assert tuple(part.layer_counts)[-1] == R
    # witnesses reproduce the patterns: an independent forward pass
    assert np.array_equal(net.patterns(dom.to_input(part.witnesses)), part.patterns)
    assert np.unique(np.packbits(part.patterns, axis=1), axis=0).shape[0] == R
    if dom.bounded:
        assert float(np.sum(part.measures)) == pytest.approx(dom.measure, rel=1e-8)
    J, c = part.output_maps()
    y = net(dom.to_input(part.witnesses))
    assert np.allclose(np.einsum("rok,rk->ro", J, part.witnesses) + c, y, rtol=1e-7, atol=1e-9)
    assert part.verify()["ok"]
    res = eng.count(net, dom)
    assert (res.regions, res.pieces, list(res.layer_counts)) == (R, part.n_pieces, list(part.layer_counts))
    assert part.count().regions == res.regions


@pytest.mark.parametrize("eng, net, dom", JOBS)
def test_permutation_and_rescaling_keep_counts(eng, net, dom):
    rng = np.random.default_rng(0)
    base = eng.count(net, dom).regions
    layers = [(W.copy(), b.copy()) for W, b in net.layers]
    for l in range(len(layers) - 1):
        perm = rng.permutation(layers[l][0].shape[0])
        s = rng.uniform(0.1, 10.0, size=perm.size)  # positive rescaling commutes with ReLU
        W, b = layers[l]
        layers[l] = (W[perm] * s[:, None], b[perm] * s)
        Wn, bn = layers[l + 1]
        layers[l + 1] = (Wn[:, perm] / s[None, :], bn)
    assert eng.count(Network(layers), dom).regions == base


@pytest.mark.parametrize("eng, net, dom", JOBS)
def test_max_regions(eng, net, dom):
    full = eng.count(net, dom)
    for cap in (2, full.regions // 2):
        res = eng.count(net, dom, max_regions=cap)
        part = eng.partition(net, dom, max_regions=cap)
        for r in (res, part.count()):
            assert r.partial and r.pieces is None
            assert r.regions <= full.regions
            assert all(a <= b for a, b in zip(r.layer_counts, full.layer_counts))
    for cap in (full.regions, full.regions + 10):  # a budget at or above the count: the full result
        res = eng.count(net, dom, max_regions=cap)
        assert not res.partial and res.regions == full.regions and res.pieces == full.pieces


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10", np.bool_(True)])
@pytest.mark.parametrize("eng, net, dom", JOBS[:1] + [j for j in JOBS if "box" in j.id])
def test_bad_options_raise(eng, net, dom, bad):
    for call in (eng.partition, eng.count):
        with pytest.raises(RegionsError, match="max_regions"):
            call(net, dom, max_regions=bad)
    with pytest.raises(RegionsError, match="progress"):
        eng.count(net, dom, progress="yes")
    with pytest.raises(RegionsError, match="max_regions"):
        regions.partition(net, dom, engine=eng.name, max_regions=bad)


@pytest.mark.parametrize("name", sorted(engines()))
def test_progress_runs(name, capsys):
    eng = engines()[name]
    for label, net, dom in [("1", Network.from_arch("1-4-4-1", seed=0), interval()),
                            ("2", Network.from_arch("2-4-4-1", seed=0), box(dim=2)),
                            ("3", Network.from_arch("3-4-4-1", seed=0), box(dim=3))]:
        if eng.supports(net, dom) is None:
            assert eng.count(net, dom, progress=True).regions == eng.count(net, dom).regions


@pytest.mark.parametrize("d, D", [(1, 5), (2, 6), (3, 5)])
def test_one_generic_layer_zaslavsky(d, D):
    net = Network.from_arch(f"{d}-{D}-1", seed=7)
    W, b = net.layers[0]
    # a box holding every vertex of the arrangement (intersections of d hyperplanes)
    from itertools import combinations

    pts = [np.linalg.solve(W[list(c)], -b[list(c)]) for c in combinations(range(D), d)]
    r = 2.0 * max(1.0, float(np.abs(pts).max()))
    want = sum(comb(D, j) for j in range(d + 1))
    for name, eng in engines().items():
        for dom in (box(-r, r, dim=d), whole(d)):
            if eng.supports(net, dom) is None:
                assert eng.count(net, dom).regions == want, (name, dom)


@pytest.mark.parametrize("depth, width", [(2, 3), (3, 4)])
def test_sawtooth(depth, width):
    net = constructions.sawtooth(depth=depth, width=width)
    for name, eng in engines().items():
        for dom in (interval(-1.0, 2.0),):
            if eng.supports(net, dom) is None:
                assert eng.count(net, dom).regions == (width + 1) ** depth


@pytest.mark.parametrize("how", ["pattern", "witness"])
@pytest.mark.parametrize("eng, net, dom", [j for j in JOBS if j.id.split("-")[1] in ("interval", "box2", "box3")])
def test_corrupted_partition_fails_verify(eng, net, dom, how):
    part = eng.partition(net, dom)
    if how == "pattern":
        if hasattr(part, "packed_patterns"):
            part.packed_patterns[0, 0] ^= np.uint8(0x80)
        else:
            part.patterns[0, 0] = not part.patterns[0, 0]
    else:
        part.witnesses[0] = part.witnesses[-1]
    with pytest.raises(VerificationError):
        part.verify()


def test_corrupted_partition_fails_under_python_O():
    code = textwrap.dedent("""
        import numpy as np
        from regions import Network, box, interval
        from regions.engines.registry import engines
        from regions.errors import VerificationError
        jobs = [(Network.from_arch("1-6-1", seed=0), interval()), (Network.from_arch("2-6-1", seed=0), box(dim=2)),
                (Network.from_arch("3-5-1", seed=0), box(dim=3))]
        n = 0
        for eng in engines().values():
            for net, dom in jobs:
                if eng.supports(net, dom) is not None:
                    continue
                part = eng.partition(net, dom)
                part.witnesses[0] = part.witnesses[-1]
                try:
                    part.verify()
                except VerificationError:
                    n += 1
                else:
                    raise SystemExit(f"{eng.name} verified a corrupted partition")
        print(n)
    """)
    out = subprocess.run([sys.executable, "-O", "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr + out.stdout
    assert int(out.stdout.strip()) >= len(engines())


@pytest.mark.parametrize("name", sorted(engines()))
def test_estimate_brackets_count(name):
    eng = engines()[name]
    for net, dom in [(Network.from_arch("2-6-1", seed=0), box(dim=2)), (Network.from_arch("3-6-1", seed=0), whole(3))]:
        if eng.supports(net, dom) is None:
            est = eng.estimate(net, dom)
            n = eng.count(net, dom).regions
            assert est.regions_upper is None or n <= est.regions_upper
            assert est.regions_lower is None or est.regions_lower <= n
