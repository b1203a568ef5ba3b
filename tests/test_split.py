"""Split counts: subproblems merged equal one process, on every engine, anywhere, resumable.

Independent values: the sawtooth's (D+1)^K (1-D), Zaslavsky's count of one
hidden layer in general position on R^d, the folding construction's count
on R^d (n-D), and a second engine (planar split against the n-D engine).
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
from regions import Network, box, constructions, interval, polygon, theory, whole
from regions.cli.main import main
from regions.engines.registry import get_engine
from regions.execution.split import SplitState, count_split
from regions.engines.base import Subproblem
from regions.errors import NumericalError, RegionsError

ROOT = Path(__file__).resolve().parents[1]


def _degenerate(dim: int, seed: int, *, out_zero: bool = False) -> Network:
    """Zero biases, every first-layer unit duplicated, a dead unit."""
    rng = np.random.default_rng(seed)
    W0 = rng.normal(size=(4, dim))
    W0 = np.concatenate([W0, W0, np.zeros((1, dim))])  # duplicates and a dead unit
    W1 = rng.normal(size=(5, 9))
    W2 = np.zeros((1, 5)) if out_zero else rng.normal(size=(1, 5))
    return Network([(W0, np.zeros(9)), (W1, np.zeros(5)), (W2, np.zeros(1))])


CASES = {
    "line-sawtooth-whole": ("line", constructions.sawtooth(depth=4, width=3), whole(1)),
    "line-sawtooth-interval": ("line", constructions.sawtooth(depth=3, width=5), interval(0.0, 1.0)),
    "line-random": ("line", Network.from_arch("1-8-8-8-1", seed=0), interval(-3.0, 3.0)),
    "line-degenerate": ("line", _degenerate(1, 1), whole(1)),
    "line-segment": ("line", Network.from_arch("3-10-10-1", seed=2), regions.segment([0, 0, 0], [1, 2, -1])),
    "planar-random": ("planar", Network.from_arch("2-16-16-16-1", seed=3), box(-2.0, 2.0, dim=2)),
    "planar-degenerate": ("planar", _degenerate(2, 2), box(-1.0, 1.0, dim=2)),
    "planar-polygon": ("planar", Network.from_arch("2-12-8-1", seed=4), polygon([[0, 0], [1, 0], [0, 1]])),
    "polytope-whole": ("polytope", Network.from_arch("3-8-8-1", seed=2), whole(3)),
    "polytope-box": ("polytope", Network.from_arch("2-8-8-1", seed=1), box(-1.0, 1.0, dim=2)),
    "polytope-degenerate": ("polytope", _degenerate(2, 3), whole(2)),
    "polytope-one-piece": ("polytope", _degenerate(2, 3, out_zero=True), whole(2)),
}


def _numbers(r, *, pieces: bool = True):
    return (r.regions, r.pieces if pieces else None, list(r.layer_counts), r.bounded, r.unbounded, r.engine)


@pytest.mark.parametrize("parts", [1, 24])
@pytest.mark.parametrize("case", sorted(CASES))
def test_split_equals_one_process(case, parts):
    name, net, dom = CASES[case]
    eng = get_engine(name)
    one = eng.count(net, dom)
    split = count_split(net, dom, eng, parts=parts)
    assert _numbers(split) == _numbers(one)
    assert split.extra["subproblems"] <= parts


@pytest.mark.parametrize("case", ["line-random", "polytope-degenerate", "planar-random"])
def test_merge_ignores_order(case):
    name, net, dom = CASES[case]
    eng = get_engine(name)
    subs = eng.split(net, dom, parts=16)
    results = [eng.count_subproblem(net, dom, s) for s in subs]
    want = eng.merge(list(results))
    random.Random(0).shuffle(results)
    assert _numbers(eng.merge(results)) == _numbers(want)
    with pytest.raises(RegionsError, match="once each"):
        eng.merge(results[1:])


@pytest.mark.parametrize("case", ["line-random", "planar-random", "polytope-box"])
def test_bad_keys_and_other_prefixes_are_refused(case):
    name, net, dom = CASES[case]
    eng = get_engine(name)
    sub = eng.split(net, dom, parts=8)[1]
    with pytest.raises(RegionsError, match=f"subproblem key of the {name} engine"):
        eng.count_subproblem(net, dom, Subproblem("other:p1:0-1", sub.payload))
    with pytest.raises(NumericalError, match="when re-derived"):  # as if split on another machine
        eng.count_subproblem(net, dom, Subproblem(sub.key, {**sub.payload, "n": sub.payload["n"] + 1}))
    with pytest.raises(RegionsError, match="once each"):
        eng.merge([eng.count_subproblem(net, dom, s) for s in eng.split(net, dom, parts=8)[:-1]])


@pytest.mark.parametrize("depth,width,dom", [(4, 3, whole(1)), (3, 6, whole(1)), (5, 4, interval(-1e6, 1e6))])
def test_sawtooth_split_attains_d_plus_one_to_the_k(depth, width, dom):
    net = constructions.sawtooth(depth=depth, width=width)
    r = count_split(net, dom, get_engine("line"), parts=7)
    assert r.regions == r.pieces == (width + 1) ** depth


@pytest.mark.parametrize("tier", ["extended", "exact"])
@pytest.mark.parametrize("parts", [1, 3, 8])
def test_line_split_adds_up_the_deciders_counters(tier, parts, monkeypatch):
    # every crossing left undecided by float64 (and, for "exact", by longdouble): the split's counters of
    # decisions equal one process's, which makes one per region split by each layer: 1 + 4 + 4^2 + 4^3
    from regions.core import tolerances
    from regions.engines.line import kernel as line_kernel

    monkeypatch.setattr(line_kernel, "BREAK_RTOL", 1e6)
    monkeypatch.setattr(line_kernel, "_fine_tol", lambda T, *a: np.full(T.shape, np.inf))
    if tier == "exact":
        monkeypatch.setattr(tolerances, "BREAK_RTOL", 1e6)
    net = constructions.sawtooth(depth=4, width=3)
    one = regions.count_line(net, whole(1))
    split = count_split(net, whole(1), get_engine("line"), parts=parts)
    assert one.regions == split.regions == 4**4
    key = f"{tier}_decisions"
    assert one.extra[key] == 1 + 4 + 4**2 + 4**3
    for k in ("below_resolution", "exact_decisions", "extended_decisions"):
        assert split.extra[k] == one.extra[k], k


@pytest.mark.parametrize("arch,d", [("3-6-1", 3), ("4-8-1", 4), ("2-20-1", 2)])
def test_one_layer_split_attains_zaslavsky(arch, d):
    net = Network.from_arch(arch, seed=0)
    r = count_split(net, whole(d), get_engine("polytope"), parts=5)
    n = int(arch.split("-")[1])
    assert r.regions == theory.zaslavsky(n, d)


def test_folding_split_attains_its_count():
    net = constructions.folding(2, [6, 6])
    r = count_split(net, whole(2), get_engine("polytope"), parts=8)
    assert r.regions == constructions.folding_count(2, [6, 6]) == 352


def test_planar_split_agrees_with_the_nd_engine():
    net = Network.from_arch("2-12-12-12-1", seed=5)
    dom = box(-1.5, 1.5, dim=2)
    r = count_split(net, dom, get_engine("planar"), parts=9)
    assert r.regions == get_engine("polytope").count(net, dom).regions


def test_local_processes_equal_one_process():
    # 1-D over local processes: test_cli_jobs_two (the sawtooth's 11^5)
    net, dom = Network.from_arch("2-10-10-1", seed=6), box(-1.0, 1.0, dim=2)
    r = count_split(net, dom, get_engine("planar"), jobs=2, parts=8)
    assert _numbers(r) == _numbers(regions.count(net, dom)) and r.extra["subproblems"] > 1


@pytest.mark.parametrize("min_run", [8192, 4])
def test_planar_default_split_is_sized_by_work(min_run, monkeypatch):
    # each 2-D subproblem loops over every later unit: by default a run holds at least min_run prefix
    # regions (a job too small for two is one subproblem); an explicit number of parts is kept
    from regions.engines.planar.split import PlanarSplit

    monkeypatch.setattr(PlanarSplit, "min_run", min_run)
    net, dom = Network.from_arch("2-10-10-1", seed=6), box(-1.0, 1.0, dim=2)
    eng = get_engine("planar")
    n = eng.splitter.prefix_size(net, dom, 1)
    assert 8 <= n < 1024  # the prefix: the first layer's 27 regions
    r = count_split(net, dom, eng)
    assert _numbers(r) == _numbers(regions.count(net, dom))
    assert r.extra["subproblems"] == max(1, n // min_run)
    if n < min_run:  # one subproblem, counted in this process even with jobs
        assert _numbers(regions.count(net, dom, jobs=2)) == _numbers(r)
    assert count_split(net, dom, eng, parts=3).extra["subproblems"] == 3


def test_cli_jobs_two():
    r = CliRunner().invoke(main, ["count", "--construction", "sawtooth", "--depth", "5", "--width", "10",
                                  "--whole", "--jobs", "2", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["regions"] == rec["pieces"] == 161_051
    assert rec["layer_counts"] == [11**k for k in range(1, 6)]


@pytest.mark.parametrize("args,text", [
    (["--jobs", "-1"], "--jobs >= 0"),
    (["--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"], "either --jobs or --scheduler"),
    (["--jobs", "2", "--max-regions", "5"], "without --verify and --max-regions"),
])
def test_cli_bad_split_options(args, text):
    r = CliRunner().invoke(main, ["count", "--arch", "1-4-1", *args])
    assert r.exit_code == 2 and text in r.output and "Traceback" not in r.output


def test_state_resumes_and_refuses_another_network(tmp_path):
    net = constructions.sawtooth(depth=4, width=3)
    state = tmp_path / "state"
    first = regions.count(net, whole(1), state=state)
    assert first.regions == 4**4 and first.extra["resumed"] == 0
    again = regions.count(net, whole(1), state=state, jobs=2)
    assert again.regions == 4**4 and again.extra["resumed"] == again.extra["subproblems"]
    other = constructions.sawtooth(depth=4, width=4)
    with pytest.raises(RegionsError, match="another network"):
        regions.count(other, whole(1), state=state)
    with pytest.raises(RegionsError, match="another domain"):
        regions.count(net, interval(-1, 1), state=state)
    with pytest.raises(RegionsError, match="another engine"):
        regions.count(net, whole(1), state=state, engine="polytope")
    r = CliRunner().invoke(main, ["count", "--construction", "sawtooth", "--depth", "4", "--width", "4",
                                  "--whole", "--state", str(state)])
    assert r.exit_code == 2 and "another network" in r.output


def test_state_is_locked_against_a_second_writer(tmp_path):
    net = constructions.sawtooth(depth=2, width=3)
    regions.count(net, whole(1), state=tmp_path / "s")
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    held = SplitState(tmp_path / "s", manifest)
    try:
        with pytest.raises(RegionsError, match="locked by another process"):
            regions.count(net, whole(1), state=tmp_path / "s")
    finally:
        held.close()
    assert regions.count(net, whole(1), state=tmp_path / "s").regions == 16


def test_state_refuses_a_folder_of_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n")
    with pytest.raises(RegionsError, match="no manifest.json"):
        regions.count(constructions.sawtooth(depth=2, width=3), whole(1), state=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock", "notes.txt"]


def test_sigkill_mid_run_then_resume_is_exact(tmp_path):
    state = tmp_path / "state"
    cmd = [sys.executable, "-m", "regions.cli.main", "count", "--construction", "sawtooth", "--depth", "6",
           "--width", "10", "--whole", "--state", str(state), "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd + ["--jobs", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((state / "done").glob("*.json"))) >= 3 if (state / "done").is_dir() else False:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the count finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(list((state / "done").glob("*.json")))
    assert 3 <= before < 64
    out = subprocess.run(cmd + ["--jobs", "2"], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    assert rec["regions"] == rec["pieces"] == 11**6
    assert rec["layer_counts"] == [11**k for k in range(1, 7)]
    assert rec["resumed"] >= before


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as c:
        yield c


class TestDask:

    def test_line_on_a_local_cluster(self, cluster):
        net = constructions.sawtooth(depth=5, width=5)
        r = regions.count(net, whole(1), scheduler=cluster.scheduler_address)
        assert r.regions == r.pieces == 6**5
        assert (r.layer_counts, r.pieces) == (regions.count(net, whole(1)).layer_counts, 6**5)

    @pytest.mark.parametrize("arch,dom", [("3-8-8-1", box(-1.0, 1.0, dim=3)), ("2-8-8-1", whole(2))])
    def test_nd_box_on_a_local_cluster(self, cluster, arch, dom):
        net = Network.from_arch(arch, seed=7)
        r = regions.count(net, dom, engine="polytope", scheduler=cluster.scheduler_address)
        one = regions.count(net, dom, engine="polytope")
        assert _numbers(r) == _numbers(one)

    def test_cluster_with_state_then_local_resume(self, cluster, tmp_path):
        net = constructions.folding(2, [6, 6])
        first = regions.count(net, whole(2), scheduler=cluster.scheduler_address, state=tmp_path / "s")
        again = regions.count(net, whole(2), jobs=2, state=tmp_path / "s")
        assert first.regions == again.regions == 352 and again.extra["resumed"] == again.extra["subproblems"]

    def test_worker_killed_mid_run_is_retried_and_exact(self, cluster, tmp_path):
        distributed = pytest.importorskip("distributed")
        import threading

        state = tmp_path / "s"
        killed = []

        def killer():
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                done = state / "done"
                if done.is_dir() and len(list(done.glob("*.json"))) >= 1:
                    pids = client.run(os.getpid)
                    pid = sorted(pids.values())[0]
                    os.kill(pid, signal.SIGKILL)  # a worker process dies mid-run; its nanny restarts it
                    killed.append(pid)
                    return
                time.sleep(0.02)

        with distributed.Client(cluster) as client:
            t = threading.Thread(target=killer)
            t.start()
            r = regions.count(constructions.sawtooth(depth=6, width=11), whole(1), scheduler=client, state=state)
            t.join()
        assert killed, "no worker was killed"
        assert r.regions == r.pieces == 12**6
        assert len(list((state / "done").glob("*.json"))) == r.extra["subproblems"]


def _silent_units(seed: int) -> Network:
    """Units whose outgoing weights are zero: their lines split regions but not affine pieces."""
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(8, 8))
    W1[:, :3] = 0.0  # three first-layer units feed nothing
    W2 = rng.normal(size=(1, 8))
    W2[:, :2] = 0.0  # two second-layer units feed nothing
    return Network([(rng.normal(size=(8, 2)), 0.5 * rng.normal(size=8)), (W1, 0.5 * rng.normal(size=8)),
                    (W2, np.zeros(1))])


@pytest.mark.parametrize("seed,parts", [(0, 3), (1, 24)])
def test_planar_split_pieces_cross_borders_as_the_nd_engine_says(seed, parts):
    net, dom = _silent_units(seed), box(-1.5, 1.5, dim=2)
    r = count_split(net, dom, get_engine("planar"), parts=parts)
    nd = get_engine("polytope").count(net, dom)  # a second engine: its own pieces (facet merges)
    assert r.extra["subproblems"] > 1 and r.pieces < r.regions
    assert (r.regions, r.pieces) == (nd.regions, nd.pieces)


def test_planar_split_pieces_refused_when_borders_do_not_meet():
    net, dom = _silent_units(0), box(-1.5, 1.5, dim=2)
    eng = get_engine("planar")
    results = [eng.count_subproblem(net, dom, s) for s in eng.split(net, dom, parts=4)]
    border = results[1].extra["_split"]["border"]
    border["edges"] = [[x + 1e-3 for x in e] for e in border["edges"]]  # as if computed elsewhere
    merged = eng.merge(results)
    assert merged.pieces is None and "no partner" in merged.extra["pieces_note"]
    assert merged.regions == eng.count(net, dom).regions


def test_planar_sized_split_derives_the_first_layer_once(monkeypatch):
    # a job too small to split is one run of the whole prefix: this process goes on from the prefix it
    # derived to size the split, so the first layer is cut once (it was cut again by a whole count)
    from regions.engines.planar import kernel, split

    firsts = []
    cut = split._cut_layer

    def spy(*a, first=False, **k):
        firsts.append(first)
        return cut(*a, first=first, **k)

    monkeypatch.setattr(split, "_cut_layer", spy)
    monkeypatch.setattr(split, "count_plane", None)  # the whole count is not called
    net, dom = Network.from_arch("2-10-10-10-1", seed=6), box(-1.0, 1.0, dim=2)
    eng = get_engine("planar")
    eng.splitter.cache = type(eng.splitter.cache)()
    r = count_split(net, dom, eng)
    assert r.extra["subproblems"] == 1 and firsts.count(True) == 1 and len(firsts) == 3
    assert _numbers(r) == _numbers(kernel.count_plane(net, dom))
