"""Split counts of op networks (residual, max pooling, maxout, LeakyReLU): subproblems merged equal one
process and an independent value, on 1-D and 2-D, anywhere, resumable.

Independent values: the brute-force pattern LP of tests/op_reference.py (``count_exact_lp``, written
from the definition apart from the engines and the lowering) for the regions on intervals and boxes;
the LP op walk (a second engine: H-polytopes and Chebyshev LPs) for regions and affine pieces on boxes;
a construction with a known count (k tangents of a parabola as one maxout unit: k regions, k pieces,
also after a residual copy of the input that leaves the count unchanged).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import regions
from op_reference import count_exact_lp
from regions import box, interval, segment
from regions.cli.main import main
from regions.engines.base import Subproblem
from regions.engines.lp.ops import partition_lp_ops
from regions.engines.opgraph_split import op_split_engine
from regions.errors import NumericalError, RegionsError
from regions.execution.hashes import network_sha256
from regions.execution.split import count_split
from regions.model.ops import Activation, Add, Affine, Clamp, Graph, MaxGroups, Node, lower

ROOT = Path(__file__).resolve().parents[1]


def _r(seed):
    return np.random.default_rng(seed)


def residual(d: int, seed: int = 0, width: int = 5) -> Graph:
    """ReLU, a residual block, LeakyReLU."""
    r = _r(seed)
    return Graph([Affine(r.normal(size=(width, d)), r.normal(size=width)), Activation.relu(),
                  Affine(0.7 * r.normal(size=(width, width)), 0.5 * r.normal(size=width)), Activation.relu(),
                  Node(Add(), (2, 4)), Affine(r.normal(size=(3, width)), r.normal(size=3)),
                  Activation.leaky_relu(0.2), Affine(r.normal(size=(1, 3)))], d)


def maxout(d: int, seed: int = 1) -> Graph:
    """Maxout with a duplicated candidate and a parallel one, then a max over duplicated ReLU units: ties."""
    r = _r(seed)
    W, b = r.normal(size=(6, d)), r.normal(size=6)
    W[1], b[1] = W[0], b[0]
    W[5], b[5] = W[3], b[3] - 0.3
    return Graph([Affine(W, b), MaxGroups.maxout(6, 3),
                  Affine(np.repeat(r.normal(size=(2, 2)), 2, axis=0), np.zeros(4)), Activation.relu(),
                  MaxGroups([[0, 1], [2, 3]]), Affine(r.normal(size=(1, 2)))], d)


def pool(d: int, seed: int = 2) -> Graph:
    """ReLU, overlapping 1-D max pooling (a unit in two windows), a clamp, PReLU."""
    r = _r(seed)
    mp, shape = MaxGroups.pool((2, 4), 2, stride=1)
    n = int(np.prod(shape))
    return Graph([Affine(r.normal(size=(8, d)), r.normal(size=8)), Activation.relu(), mp,
                  Affine(r.normal(size=(4, n)), r.normal(size=4)), Clamp(-0.5, 0.5),
                  Affine(r.normal(size=(3, 4)), r.normal(size=3)), Activation.prelu([0.1, -0.3, 0.5]),
                  Affine(r.normal(size=(1, 3)))], d)


def leaky(d: int, seed: int = 3) -> Graph:
    """Three LeakyReLU layers."""
    r = _r(seed)
    return Graph([Affine(r.normal(size=(6, d)), r.normal(size=6)), Activation.leaky_relu(0.1),
                  Affine(r.normal(size=(6, 6)), r.normal(size=6)), Activation.leaky_relu(0.3),
                  Affine(r.normal(size=(4, 6)), r.normal(size=4)), Activation.leaky_relu(0.05),
                  Affine(r.normal(size=(1, 4)))], d)


GRAPHS = {"residual": residual, "maxout": maxout, "pool": pool, "leaky": leaky}
#: (domain of dimension d, engine, the box's bounds for count_exact_lp)
DOMAINS = {1: (interval(-3.0, 3.0), "line", (-3.0, 3.0)), 2: (box(-2.0, 2.0, dim=2), "planar", (-2.0, 2.0))}


def _numbers(r):
    return r.regions, r.pieces, list(r.layer_counts), r.engine


@pytest.fixture(scope="module")
def reference():
    """count_exact_lp of every graph and dimension, computed once."""
    memo = {}

    def get(name, d):
        if (name, d) not in memo:
            lo, hi = DOMAINS[d][2]
            memo[name, d] = count_exact_lp(GRAPHS[name](d), lo, hi)
        return memo[name, d]

    return get


@pytest.mark.parametrize("parts", [2, 7, 24])
@pytest.mark.parametrize("d", [1, 2])
@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_split_equals_one_process_and_the_reference(name, d, parts, reference):
    g = GRAPHS[name](d)
    dom, engine, _ = DOMAINS[d]
    one = regions.count(g, dom)
    split = count_split(g, dom, op_split_engine(engine), parts=parts)
    assert _numbers(split) == _numbers(one)
    assert split.regions == reference(name, d)
    assert 1 < split.extra["subproblems"] <= parts


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_2d_split_pieces_equal_the_lp_walk(name):
    # the LP walk (a second engine) merges affine pieces by its own facet test
    g, dom = GRAPHS[name](2), box(-2.0, 2.0, dim=2)
    split = count_split(g, dom, op_split_engine("planar"), parts=24)
    lp = partition_lp_ops(lower(g), dom, network=g).count()
    assert (split.regions, split.pieces) == (lp.regions, lp.pieces)


@pytest.mark.parametrize("k", [5, 9])
@pytest.mark.parametrize("residual_copy", [False, True])
def test_tangents_of_a_parabola_split_into_k_regions(k, residual_copy):
    # max_i (2 c_i t - c_i^2): k tangents of t^2, each on the envelope over one interval: k regions and
    # k pieces.  Adding relu(t) - relu(-t) = t (a residual copy of the input) splits the region holding
    # t = 0 (no envelope break there: 0 is a tangent point), one more region, but bends nothing: k pieces
    c = np.linspace(-2, 2, k)
    nodes = [Affine((2 * c)[:, None], -c**2), MaxGroups([list(range(k))])]
    if residual_copy:
        nodes += [Node(Affine([[1.0], [-1.0]]), (0,)), Activation.relu(), Node(Affine([[1.0, -1.0]]), (4,)),
                  Node(Add(), (2, 5))]
    g = Graph(nodes + [Affine([[1.0]])], 1)
    dom = interval(-3.0, 3.0)
    split = count_split(g, dom, op_split_engine("line"), parts=8)
    assert split.regions == k + residual_copy
    assert split.pieces == k
    assert _numbers(split) == _numbers(regions.count(g, dom))


@pytest.mark.parametrize("d", [1, 2])
def test_merge_ignores_order_and_refuses_missing_runs(d):
    g = maxout(d)
    dom, engine, _ = DOMAINS[d]
    eng = op_split_engine(engine)
    subs = eng.split(g, dom, parts=16)
    results = [eng.count_subproblem(g, dom, s) for s in subs]
    want = eng.merge(list(results))
    random.Random(0).shuffle(results)
    assert _numbers(eng.merge(results)) == _numbers(want) == _numbers(regions.count(g, dom))
    with pytest.raises(RegionsError, match="once each"):
        eng.merge(results[1:])


@pytest.mark.parametrize("d", [1, 2])
def test_bad_keys_and_other_prefixes_are_refused(d):
    g = residual(d)
    dom, engine, _ = DOMAINS[d]
    eng = op_split_engine(engine)
    sub = eng.split(g, dom, parts=8)[1]
    with pytest.raises(RegionsError, match=f"subproblem key of the {engine} engine"):
        eng.count_subproblem(g, dom, Subproblem("other:p1:0-1", sub.payload))
    with pytest.raises(NumericalError, match="when re-derived"):  # as if split on another machine
        eng.count_subproblem(g, dom, Subproblem(sub.key, {**sub.payload, "n": sub.payload["n"] + 1}))


def test_segment_of_a_2_input_graph_splits():
    g, dom = pool(2), segment([-2.0, -1.0], [2.0, 1.5])
    assert _numbers(regions.count(g, dom, jobs=0)) == _numbers(regions.count(g, dom))


def test_local_processes_equal_one_process():
    g, dom = residual(2, width=8), box(-2.0, 2.0, dim=2)
    r = count_split(g, dom, op_split_engine("planar"), jobs=2, parts=6)
    assert _numbers(r) == _numbers(regions.count(g, dom)) and r.extra["subproblems"] > 1


def test_lp_only_domains_are_refused():
    with pytest.raises(RegionsError, match="the LP walk does not split yet.*the lp engine for a 3-D"):
        regions.count(residual(3), box(-1.0, 1.0, dim=3), jobs=2)
    with pytest.raises(RegionsError, match="the LP walk does not split yet.*the lp engine for a 2-D"):
        regions.count(residual(2), box(-1.0, 1.0, dim=2), engine="lp", state="unused")
    with pytest.raises(RegionsError, match="max_regions=None"):
        regions.count(residual(2), box(-1.0, 1.0, dim=2), jobs=2, max_regions=5)


def test_identity_is_the_lowered_chain():
    # the same weights with another max group or another leaky slope are other networks
    g = maxout(2)
    other = Graph([*[n.op for n in g.nodes[:1]], MaxGroups.maxout(6, 2), Affine(np.ones((4, 3))),
                   *[n.op for n in g.nodes[3:]]], 2)
    assert network_sha256(g) == network_sha256(maxout(2)) != network_sha256(other)
    assert network_sha256(leaky(2)) != network_sha256(Graph(
        [n.op if not isinstance(n.op, Activation) else Activation.leaky_relu(0.11) for n in leaky(2).nodes], 2))


def test_state_resumes_and_refuses_another_graph_domain_or_engine(tmp_path):
    g, dom = residual(2, width=8), box(-2.0, 2.0, dim=2)
    state = tmp_path / "state"
    first = regions.count(g, dom, state=state)
    assert _numbers(first) == _numbers(regions.count(g, dom)) and first.extra["resumed"] == 0
    again = regions.count(g, dom, state=state, jobs=2)
    assert _numbers(again) == _numbers(first) and again.extra["resumed"] == again.extra["subproblems"]
    with pytest.raises(RegionsError, match="another network"):
        regions.count(residual(2, seed=1, width=8), dom, state=state)
    with pytest.raises(RegionsError, match="another domain"):
        regions.count(g, box(-1.0, 1.0, dim=2), state=state)
    manifest = json.loads((state / "manifest.json").read_text())
    assert manifest["engine"] == "ops:planar"
    manifest["engine"] = "ops:line"
    (state / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RegionsError, match="another engine"):
        regions.count(g, dom, state=state)


_KILLED_RUN = """
import sys, time
sys.path.insert(0, {tests!r})
from test_split_ops import residual
import regions
from regions.engines.line import ops_split
slow = ops_split.OpLineSplit.count_run
def count_run(self, *a, **k):
    time.sleep(0.25)
    return slow(self, *a, **k)
ops_split.OpLineSplit.count_run = count_run
print(regions.count(residual(1, width=12), regions.interval(-4.0, 4.0), state={state!r}, jobs=0).regions)
"""


def test_sigkill_mid_run_then_resume_is_exact(tmp_path):
    state = tmp_path / "state"
    code = _KILLED_RUN.format(tests=str(ROOT / "tests"), state=str(state))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (state / "done").is_dir() and len(list((state / "done").glob("*.json"))) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(list((state / "done").glob("*.json")))
    g, dom = residual(1, width=12), interval(-4.0, 4.0)
    r = regions.count(g, dom, state=state, jobs=2)
    assert 2 <= before < r.extra["subproblems"]
    assert r.extra["resumed"] >= before
    assert _numbers(r) == _numbers(regions.count(g, dom))
    assert r.regions == count_exact_lp(g, -4.0, 4.0)


def test_cli_weights_pt2_jobs_two(tmp_path):
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional

    class ResPool(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp, self.f, self.out = nn.Linear(2, 6), nn.Linear(6, 6), nn.Linear(3, 1)

        def forward(self, x):
            h = F.relu(self.inp(x))
            h = F.leaky_relu(h + F.relu(self.f(h)), 0.1)
            return self.out(h.view(-1, 3, 2).max(dim=2).values)

    torch.manual_seed(0)
    m = ResPool().double().eval()
    path = tmp_path / "net.pt2"
    torch.export.save(torch.export.export(m, (torch.zeros(3, 2, dtype=torch.float64),)), str(path))
    g = regions.from_torch(m)
    np.savez(tmp_path / "seg.npz", x0=[-3.0, -2.0], x1=[3.0, 2.5])
    # the box: one subproblem (2-D runs are sized by work), counted in this process; the segment: runs in
    # two worker processes
    for extra, dom in ((["--box", "-2:2"], box(-2.0, 2.0, dim=2)),
                       (["--segment", str(tmp_path / "seg.npz")], segment([-3.0, -2.0], [3.0, 2.5]))):
        r = CliRunner().invoke(main, ["count", "--weights", str(path), *extra, "--jobs", "2", "--json"])
        assert r.exit_code == 0, r.output
        rec = json.loads(r.output)
        one = regions.count(g, dom)
        assert (rec["regions"], rec["pieces"], rec["layer_counts"]) == (one.regions, one.pieces,
                                                                        list(one.layer_counts))
        if dom.dim == 2:
            assert rec["regions"] == count_exact_lp(g, -2.0, 2.0)
        else:
            assert rec["subproblems"] > 1


def test_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster:
        for d in (1, 2):
            g = pool(d)
            dom, _, _ = DOMAINS[d]
            r = regions.count(g, dom, scheduler=cluster.scheduler_address)
            assert _numbers(r) == _numbers(regions.count(g, dom))
