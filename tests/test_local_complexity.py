"""``regions.local_complexity`` at data scale, against values computed independently of the LP engine.

References: the one-LP-per-candidate breadth-first search of
``benchmarks/bench_lp_peers.py`` (scipy/HiGHS, written separately from the
engine), the vertex engine in low dimension, and seeded sampling (a lower
bound on regions and on cut units).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import regions
from regions import Network, box
from regions.errors import RegionsError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_lp_peers import lp_per_candidate  # noqa: E402


def _digits(n: int) -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().data[:n] / 16.0


@pytest.mark.parametrize("arch,radius,points,rows", [
    ("64-6-5-3", 0.05, "digits", [0, 2]),        # 64-D neighbourhoods of data points (10 and 8 regions)
    ("10-6-6-1", 0.15, "gauss", [0, 2]),         # 47 and 14 regions
    ("7-8-4-2", 0.2, "gauss", [0, 1]),           # 10 and 31 regions
])
def test_box_against_one_lp_per_candidate(arch, radius, points, rows):
    net = Network.from_arch(arch, seed=4)
    X = _digits(3) if points == "digits" else np.random.default_rng(2).normal(size=(3, net.input_dim)) * 0.3
    X = X[rows]
    out = regions.local_complexity(net, X, radius)
    for i in range(X.shape[0]):
        ref = lp_per_candidate(net, X[i], radius)
        assert ref["complete"]
        assert out["regions"][i] == ref["regions"]
        P = np.unpackbits(np.frombuffer(b"".join(ref["patterns"]), dtype=np.uint8).reshape(len(ref["patterns"]), -1),
                          axis=1)[:, :net.n_hidden].astype(bool)
        assert out["units_cut"][i] == np.count_nonzero(P.any(0) & ~P.all(0))
    assert not out["partial"].any() and np.all(out["seconds"] >= 0)


def test_sampling_lower_bounds_in_64_dimensions():
    """Distinct patterns of seeded samples in each box: at most the regions; sign changes: at most the cut units."""
    net = Network.from_arch("64-12-8-10", seed=1)
    X = _digits(4)
    r = 0.05
    out = regions.local_complexity(net, X, r)
    rng = np.random.default_rng(0)
    for i in range(X.shape[0]):
        S = X[i] + rng.uniform(-r, r, size=(4000, 64))
        P = net.patterns(S)
        assert len({p.tobytes() for p in P}) <= out["regions"][i]
        assert np.count_nonzero(P.any(0) & ~P.all(0)) <= out["units_cut"][i]
        assert out["regions"][i] <= 2 ** out["units_cut"][i]


def test_vertex_engine_and_nested_radii():
    net = Network.from_arch("5-8-6-1", seed=7)
    X = np.random.default_rng(5).normal(size=(3, 5)) * 0.4
    small = regions.local_complexity(net, X, 0.2)
    big = regions.local_complexity(net, X, 0.6)
    assert np.all(small["regions"] <= big["regions"])  # a bigger box never holds fewer regions
    for i in range(3):
        ref = regions.count(net, box(X[i] - 0.6, X[i] + 0.6, dim=5), engine="polytope").regions
        assert big["regions"][i] == ref


def test_jobs_give_the_counts_of_one_process():
    net = Network.from_arch("16-8-8-2", seed=3)
    X = np.random.default_rng(1).uniform(size=(4, 16))
    for kind, dim in (("cross", None), ("box", 3)):  # full boxes with --jobs 2: test_cli_local_jobs
        one = regions.local_complexity(net, X, 0.2, kind=kind, dim=dim, seed=4)
        two = regions.local_complexity(net, X, 0.2, kind=kind, dim=dim, seed=4, jobs=2)
        for key in ("regions", "units_cut", "partial"):
            assert np.array_equal(one[key], two[key]), (kind, dim, key)


def test_budget_is_flagged_never_silent():
    net = Network.from_arch("64-12-8-10", seed=1)
    X = _digits(2)
    full = regions.local_complexity(net, X, 0.05)
    i = int(np.argmax(full["regions"]))
    cap = int(full["regions"][i]) // 2
    part = regions.local_complexity(net, X, 0.05, max_regions=cap)
    assert part["partial"][i] and part["regions"][i] <= full["regions"][i]
    assert np.array_equal(part["regions"][~part["partial"]], full["regions"][~part["partial"]])
    for bad in (0, -1, 1.5, True):
        with pytest.raises(RegionsError, match="max_regions"):
            regions.local_complexity(net, X, 0.05, max_regions=bad)
    with pytest.raises(RegionsError, match="jobs"):
        regions.local_complexity(net, X, 0.05, jobs=-1)


def test_cli_local_jobs(tmp_path):
    """``regions local --jobs 2`` writes the rows of the in-process count (checked against the vertex engine)."""
    from click.testing import CliRunner

    from regions.cli.main import main

    pts = tmp_path / "pts.npy"
    np.save(pts, np.random.default_rng(3).normal(size=(3, 5)) * 0.2)
    outs = {}
    for jobs in ("0", "2"):
        out = tmp_path / f"local{jobs}.csv"
        r = CliRunner().invoke(main, ["local", "--arch", "5-6-4-1", "--points", str(pts), "--radius", "0.3",
                                      "--jobs", jobs, "--out", str(out)])
        assert r.exit_code == 0, r.output
        outs[jobs] = out.read_text()
    assert outs["0"] == outs["2"]
    net, X = Network.from_arch("5-6-4-1", seed=0), np.load(pts)
    for i, line in enumerate(outs["2"].splitlines()[1:]):
        assert int(line.split(",")[1]) == regions.count(net, box(X[i] - 0.3, X[i] + 0.3, dim=5),
                                                        engine="polytope").regions
    r = CliRunner().invoke(main, ["local", "--arch", "5-6-4-1", "--points", str(pts), "--radius", "0.3",
                                  "--jobs", "-1"])
    assert r.exit_code == 2 and "Traceback" not in r.output
