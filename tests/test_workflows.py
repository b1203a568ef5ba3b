"""Workflows: data slices, checkpoint series, plots, the digits training run and the CLI.

Independent checks: the distinct activation patterns of densely sampled
points are a lower bound on an exact count; the regions along a segment
inside a plane are regions of the plane; the segment's length is |x1 - x0|.
"""

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

import regions
from regions import Network, RegionsError
from regions.experiments import workflows
from regions.cli.main import main

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def digits_data():
    return workflows.load_digits()


@pytest.fixture(scope="module")
def net64():
    return Network.from_arch("64-16-16-10", init="torch", seed=5)


def _sampled_patterns(net, domain, n):
    if domain.dim == 1:
        U = np.linspace(domain.lo[0], domain.hi[0], n)[:, None]
    else:
        g = [np.linspace(domain.lo[k], domain.hi[k], n) for k in range(2)]
        U = np.stack(np.meshgrid(*g), axis=-1).reshape(-1, 2)
    P = net.patterns(domain.to_input(U))
    return {row.tobytes() for row in np.packbits(P, axis=1)}


# -------------------------------------------------------------------- data
def test_bundled_digits_offline(digits_data):
    X, y = digits_data
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0.0 and X.max() == 1.0 and set(np.unique(y)) == set(range(10))


def test_pick_points(digits_data):
    X, y = digits_data
    P = workflows.pick_points(X, y, digits="0,1,2")
    assert P.shape == (3, 64)
    for p, lab in zip(P, (0, 1, 2)):
        assert np.array_equal(p, X[np.nonzero(y == lab)[0][0]])
    a, b = workflows.pick_points(X, y, digits=(3, 3))
    threes = np.nonzero(y == 3)[0]
    assert np.array_equal(a, X[threes[0]]) and np.array_equal(b, X[threes[1]])
    assert np.array_equal(workflows.pick_points(X, samples=[5, 7]), X[[5, 7]])
    with pytest.raises(RegionsError, match="exactly one of digits"):
        workflows.pick_points(X, y, digits="1", samples="2")
    with pytest.raises(RegionsError, match=r"sample indices in 0..1796, got \[5000\]"):
        workflows.pick_points(X, samples="5000")
    with pytest.raises(RegionsError, match="label 11"):
        workflows.pick_points(X, y, digits="11")
    with pytest.raises(RegionsError, match="such as 0,1,2"):
        workflows.pick_points(X, y, digits="a,b")


def test_data_domain_and_measure_in_input_space(digits_data):
    X, y = digits_data
    a, b, c = workflows.pick_points(X, y, digits="0,1,2")
    seg = workflows.data_domain([a, b])
    assert seg.kind == "segment"
    assert workflows.input_measure(seg) == pytest.approx(np.linalg.norm(b - a), rel=1e-12)
    tri = workflows.data_domain([a, b, c], triangle=True)
    heron = 0.5 * np.sqrt(np.linalg.det(np.stack([b - a, c - a]) @ np.stack([b - a, c - a]).T))
    assert workflows.input_measure(tri) == pytest.approx(heron, rel=1e-10)
    assert workflows.data_domain([a, b, c]).kind == "plane"
    with pytest.raises(RegionsError, match=r"2 points .* or 3 points .* got shape \(4, 64\)"):
        workflows.data_domain(X[:4])
    with pytest.raises(RegionsError, match="triangle=True only with three points"):
        workflows.data_domain([a, b], triangle=True)


def test_read_points(tmp_path):
    pts = np.arange(6.0).reshape(2, 3)
    np.save(tmp_path / "p.npy", pts)
    np.savez(tmp_path / "p.npz", x0=pts[0], x1=pts[1])
    assert np.array_equal(workflows.read_points(tmp_path / "p.npy"), pts)
    assert np.array_equal(workflows.read_points(tmp_path / "p.npz"), pts)
    np.savez(tmp_path / "q.npz", a=pts[0])
    with pytest.raises(RegionsError, match="arrays x0, x1"):
        workflows.read_points(tmp_path / "q.npz")
    with pytest.raises(RegionsError, match="existing .npy/.npz"):
        workflows.read_points(tmp_path / "missing.npy")


# ------------------------------------------------------------------ slices
def test_segment_between_two_digits_is_exact(digits_data, net64):
    X, y = digits_data
    pts = workflows.pick_points(X, y, digits="3,8")
    res = workflows.slice_through(net64, pts)
    rec = res.record
    assert rec["verified"] and rec["engine"] == "line" and rec["kind"] == "segment"
    assert rec["regions"] == res.partition.n_regions == res.n_regions >= 1
    assert rec["layer_counts"][-1] == rec["regions"]
    assert float(np.sum(res.partition.measures)) == pytest.approx(1.0, rel=1e-12)
    assert rec["mean_measure"] == pytest.approx(np.linalg.norm(pts[1] - pts[0]) / rec["regions"], rel=1e-12)
    assert len(_sampled_patterns(net64, res.domain, 20001)) <= rec["regions"]
    assert regions.count(net64, res.domain).regions == rec["regions"]


def test_plane_through_three_digits_is_exact(digits_data, net64):
    pytest.importorskip("regions.engines.planar")
    X, y = digits_data
    pts = workflows.pick_points(X, y, digits="0,1,2")
    res = workflows.slice_through(net64, pts)
    rec = res.record
    assert rec["verified"] and rec["kind"] == "plane" and rec["regions"] > 1
    assert float(np.sum(res.partition.areas)) == pytest.approx(res.domain.measure, rel=1e-9)
    assert rec["measure"] == pytest.approx(res.domain.measure, rel=1e-12)  # orthonormal plane coordinates
    assert len(_sampled_patterns(net64, res.domain, 300)) <= rec["regions"]
    # every region along the segment between two of the points is a region of the plane
    seg = workflows.slice_through(net64, pts[:2], verify=False).partition
    plane_pats = {r.tobytes() for r in np.packbits(res.partition.patterns, axis=1)}
    assert {r.tobytes() for r in np.packbits(seg.patterns, axis=1)} <= plane_pats
    tri = workflows.slice_through(net64, pts, triangle=True)
    assert tri.record["kind"] == "polygon" and 1 <= tri.record["regions"] <= rec["regions"]


def test_slice_through_arguments(net64):
    with pytest.raises(RegionsError, match="exactly one of points"):
        workflows.slice_through(net64)
    with pytest.raises(RegionsError, match="64 inputs"):
        workflows.slice_through(Network.from_arch("3-4-1"), np.zeros((2, 64)) + np.eye(2, 64))


# ------------------------------------------------------------- checkpoints
def _npz_run(tmp_path, steps=(0, 10, 2)):
    run = tmp_path / "run"
    run.mkdir()
    for i, s in enumerate(steps):
        Network.from_arch("64-12-12-10", init="torch", seed=i).save(run / f"step_{s}.npz")
    return run


def test_checkpoint_series_from_a_folder(tmp_path, digits_data):
    X, y = digits_data
    run = _npz_run(tmp_path)
    with open(run / "history.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["checkpoint", "step", "test_acc"])
        for s, acc in ((0, 0.1), (2, 0.5), (10, 0.9)):
            w.writerow([f"step_{s}.npz", s, acc])
    domain = workflows.data_domain(workflows.pick_points(X, y, digits="3,8"))
    seen = []
    out = tmp_path / "series.csv"
    rows = workflows.checkpoint_series(run, domain, out=out, verify=True, on_row=seen.append)
    assert [r["step"] for r in rows] == [0, 2, 10] and seen == rows
    for r in rows:
        net = Network.load(run / r["checkpoint"])
        assert r["regions"] == regions.partition(net, domain).n_regions
        assert r["layer_2"] == r["regions"] and r["layer_1"] <= r["regions"]
        assert r["mean_measure"] == pytest.approx(r["measure"] / r["regions"])
        assert r["verified"] is True
    assert [r["test_acc"] for r in rows] == [0.1, 0.5, 0.9]  # parsed as numbers
    back = workflows.read_series(out)
    assert [r["regions"] for r in back] == [r["regions"] for r in rows]
    assert isinstance(back[0]["regions"], int) and back[2]["test_acc"] == 0.9
    assert not list(tmp_path.glob(".series.csv.*"))  # no temp file left behind
    # files in the order given
    given = workflows.checkpoint_series([run / "step_10.npz", run / "step_0.npz"], domain)
    assert [r["step"] for r in given] == [10, 0]


def test_checkpoint_series_errors(tmp_path, digits_data):
    X, y = digits_data
    domain = workflows.data_domain(X[:2])
    (tmp_path / "empty").mkdir()
    with pytest.raises(RegionsError, match="expected checkpoint files"):
        workflows.checkpoint_series(tmp_path / "empty", domain)
    with pytest.raises(RegionsError, match="a folder of checkpoint files"):
        workflows.find_checkpoints(tmp_path / "nope")
    with pytest.raises(RegionsError, match="at least one checkpoint"):
        workflows.checkpoint_series([], domain)


def test_plots_return_artists_and_files(tmp_path, digits_data):
    from matplotlib.figure import Figure

    rows = [{"step": s, "regions": r, "layer_1": r // 2, "layer_2": r, "test_acc": a}
            for s, r, a in ((0, 10, 0.1), (5, 14, 0.6), (9, 20, 0.9))]
    ax = Figure().add_subplot()
    artists = workflows.plot_series(rows, ax=ax, layers=True)
    assert artists[0].axes is ax and len(artists) == 3  # regions, after layer 1, test accuracy
    assert list(artists[0].get_ydata()) == [10.0, 14.0, 20.0]
    own = workflows.plot_series(rows, accuracy=False)
    assert len(own) == 1 and own[0].figure is not None
    path = workflows.save_series_plot(rows, tmp_path / "s.png", title="t")
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(RegionsError, match="column 'loss'"):
        workflows.plot_series(rows, y="loss")


# ---------------------------------------------------------- digits training
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    pytest.importorskip("torch")
    from regions.experiments import digits

    out = tmp_path_factory.mktemp("digits") / "run"
    run = digits.train_digits(out, hidden=(8, 8), epochs=2, save_every=2, max_steps=5, seed=3)
    return run


def test_training_writes_checkpoints_history_and_config(tiny_run):
    run = tiny_run
    names = [p.name for p in run.checkpoints]
    assert names == ["step_000000.pt", "step_000002.pt", "step_000004.pt", "step_000005.pt"]
    assert all(p.is_file() and p.stat().st_size < 50_000 for p in run.checkpoints)
    with open(run.out_dir / "history.csv", newline="") as fh:
        hist = list(csv.DictReader(fh))
    assert [h["checkpoint"] for h in hist] == names
    assert all(0.0 <= float(h["test_acc"]) <= 1.0 for h in hist)
    config = json.loads((run.out_dir / "config.json").read_text())
    assert config["arch"] == "64-8-8-10" and config["activation"] == "relu" and config["seed"] == 3
    from regions.interop.pytorch import max_deviation

    net = run.network()
    assert net.arch == "64-8-8-10" and max_deviation(run.model, net) <= 1e-12
    last = regions.experiments.workflows.load_network(run.checkpoints[-1])
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(last.layers, net.layers))


def test_training_is_seeded_and_refuses_a_used_folder(tiny_run, tmp_path):
    import torch

    from regions.experiments import digits

    state = torch.get_rng_state()
    again = digits.train_digits(tmp_path / "again", hidden=(8, 8), epochs=2, save_every=2, max_steps=5, seed=3)
    assert torch.equal(state, torch.get_rng_state())  # the caller's RNG is untouched
    for a, b in zip(again.history, tiny_run.history):
        assert a["test_acc"] == b["test_acc"]
    with pytest.raises(RegionsError, match="expected an empty run folder, got 4 checkpoint"):
        digits.train_digits(tmp_path / "again", epochs=1)


def test_series_of_a_training_run(tiny_run, digits_data):
    X, y = digits_data
    domain = workflows.data_domain(workflows.pick_points(X, y, digits="3,8"))
    rows = workflows.checkpoint_series(tiny_run.out_dir, domain, verify=True)
    assert [r["checkpoint"] for r in rows] == [p.name for p in tiny_run.checkpoints]
    assert rows[-1]["regions"] == workflows.slice_through(tiny_run.model, domain=domain).record["regions"]
    assert {"loss", "train_acc", "test_acc", "epoch"} <= set(rows[0])


def test_leaky_run_reads_its_activation_from_config(tmp_path, digits_data):
    pytest.importorskip("torch")
    from regions.experiments import digits

    run = digits.train_digits(tmp_path / "leaky", hidden=(6,), epochs=1, max_steps=2, activation="leaky_relu:0.1")
    assert json.loads((run.out_dir / "config.json").read_text())["activation"] == "leaky_relu:0.1"
    X, y = digits_data
    domain = workflows.data_domain(workflows.pick_points(X, y, digits="0,7"))
    row = workflows.checkpoint_series(run.checkpoints[-1], domain)[0]
    net = workflows.load_network(run.checkpoints[-1], activation="leaky_relu:0.1")
    assert net.negative_slope == 0.1
    assert row["regions"] == regions.partition(net, domain).n_regions
    r = _cli("slice", "--weights", run.checkpoints[-1], "--digits", "0,7", "--json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["negative_slope"] == 0.1 and rec["regions"] == row["regions"]


# ---------------------------------------------------------------------- CLI
def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_cli_train_then_checkpoints_then_slice(tmp_path):
    pytest.importorskip("torch")
    run = tmp_path / "run"
    r = _cli("train-digits", "--out-dir", run, "--epochs", "1", "--hidden", "8", "--max-steps", "3",
             "--save-every", "1")
    assert r.exit_code == 0, r.output
    assert "step_000003.pt" in r.output and "regions checkpoints" in r.output
    out, png = tmp_path / "series.csv", tmp_path / "series.png"
    r = _cli("checkpoints", run, "--digits", "3,8", "--out", out, "--plot", png, "--verify")
    assert r.exit_code == 0, r.output
    rows = workflows.read_series(out)
    assert [row["step"] for row in rows] == [0, 1, 2, 3]
    assert png.read_bytes()[:4] == b"\x89PNG"
    r = _cli("checkpoints", run, "--samples", "0,1")
    assert r.exit_code == 0 and r.output.startswith("checkpoint,step,regions")
    r = _cli("slice", "--weights", run / "step_000003.pt", "--digits", "3,8", "--json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["verified"] and rec["regions"] == rows[-1]["regions"] and rec["kind"] == "segment"
    r = _cli("slice", "--weights", run / "step_000003.pt", "--digits", "3,8")
    assert r.exit_code == 0 and "regions" in r.output and "mean length" in r.output


def test_cli_slice_plane_on_npz(tmp_path, net64):
    pytest.importorskip("regions.engines.planar")
    net64.save(tmp_path / "net.npz")
    r = _cli("slice", "--weights", tmp_path / "net.npz", "--digits", "0,1,2", "--json", "--out", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["verified"] and rec["kind"] == "plane" and json.loads((tmp_path / "r.json").read_text()) == rec


def test_cli_errors_are_one_sentence_exit_2(tmp_path, net64):
    net64.save(tmp_path / "net.npz")
    r = _cli("slice", "--weights", tmp_path / "net.npz", "--digits", "3,8", "--samples", "1,2")
    assert r.exit_code == 2 and "exactly one of --digits, --samples, --segment or --plane" in r.output
    assert "Traceback" not in r.output
    r = _cli("slice", "--weights", tmp_path / "net.npz", "--digits", "3,8", "--triangle")
    assert r.exit_code == 2 and "--triangle only with three points" in r.output
    r = _cli("checkpoints", tmp_path, "--digits", "3,8,1,2")
    assert r.exit_code == 2 and "2 points" in r.output
    r = _cli("slice", "--weights", tmp_path / "net.npz", "--samples", "1,2", "--input-shape", "a")
    assert r.exit_code == 2 and "--input-shape" in r.output
    r = _cli("train-digits", "--out-dir", tmp_path / "x", "--hidden", "0")
    assert r.exit_code == 2 and "--hidden" in r.output
