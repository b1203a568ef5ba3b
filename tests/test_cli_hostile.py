"""Hostile input for every subcommand: one sentence, exit code 2, no traceback, nothing clobbered.

Issue 15 (classes 3-12) and issue 16 (section 3): each class is tried with
several members across the subcommands; refused runs leave every file as it
was; outputs go into pipes and devices straight, never replace an existing
file without ``--force``.  Everything runs in-process with click's runner.
"""

from __future__ import annotations

import json
import math
import os
import stat
import threading
import warnings
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

import regions
from regions import theory
from regions.cli.main import main

torch = pytest.importorskip("torch")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_refused(r, needle=None):
    """Exit 2, exactly one line on stderr starting 'Error: ', no traceback."""
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("Error: ") and "warning" not in r.stderr.lower(), r.stderr
    if needle is not None:
        assert needle in lines[0], lines[0]


# ------------------------------------------------------------------ files
@pytest.fixture(scope="module")
def d(tmp_path_factory):
    """A folder of good and hostile input files."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's beta/deprecation notes about the hostile tensors made here
        return _make_files(tmp_path_factory.mktemp("hostile"))


def _make_files(p):
    g = torch.Generator().manual_seed(0)

    def sd():
        return {"0.weight": torch.randn(4, 2, generator=g), "0.bias": torch.randn(4, generator=g),
                "2.weight": torch.randn(1, 4, generator=g), "2.bias": torch.randn(1, generator=g)}

    regions.Network.from_arch("2-4-1", seed=1).save(p / "net.npz")
    regions.Network.from_arch("2-4-4-1", seed=1).save(p / "net_deep.npz")
    torch.save(sd(), p / "plain.pt")
    torch.save({"fc1.weight": torch.randn(4, 2), "fc1.bias": torch.randn(4), "fc2.weight": torch.randn(1, 4),
                "fc2.bias": torch.randn(1)}, p / "named.pt")
    torch.save({"block.0.lin.weight": torch.randn(2, 2), "block.0.lin.bias": torch.randn(2),
                "head.weight": torch.randn(1, 2)}, p / "residual.pt")
    torch.save({"0.weight": torch.randn(4, 2), "1.weight": torch.randn(1, 4)}, p / "consecutive.pt")
    torch.save({"0.weight": torch.randn(4, 2), "2.weight": torch.randn(1, 5)}, p / "mismatch.pt")
    torch.save({"0.weight": torch.randn(4, 2), "0.running_mean": torch.randn(4)}, p / "norm.pt")
    s = sd()
    s["0.weight"] = s["0.weight"].to(torch.complex64)
    torch.save(s, p / "complex.pt")
    s = sd()
    s["2.bias"] = s["2.bias"].to(torch.complex128)
    torch.save(s, p / "complex_bias.pt")
    s = sd()
    s["0.weight"] = s["0.weight"].to_sparse()
    torch.save(s, p / "sparse.pt")
    s = sd()
    s["0.weight"] = s["0.weight"].to_sparse_csr()
    torch.save(s, p / "sparse_csr.pt")
    s = sd()
    s["0.weight"] = torch.empty(4, 2, device="meta")
    torch.save(s, p / "meta.pt")
    s = sd()
    s["0.weight"] = torch.quantize_per_tensor(s["0.weight"], 0.1, 0, torch.qint8)
    torch.save(s, p / "quant.pt")
    m = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.LeakyReLU(), torch.nn.Linear(4, 1))
    m[1].negative_slope = "abc"
    torch.save(m, p / "slope_text.pt")
    m[1].negative_slope = None
    torch.save(m, p / "slope_none.pt")
    mc = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1)).to(torch.complex64)
    torch.save(mc, p / "complex_module.pt")
    # points
    x = np.array([[0, 0], [1, 1j]])
    np.save(p / "complex.npy", x)
    np.savez(p / "complex.npz", x0=x[0], x1=x[1])
    np.savez(p / "complex_x1.npz", x0=np.zeros(2), x1=np.array([1, 1j]))
    np.save(p / "object.npy", np.array([[0, 1], [1, 0]], dtype=object), allow_pickle=True)
    np.savez(p / "object.npz", x0=np.array([0, 1], dtype=object), x1=np.zeros(2))
    np.save(p / "string.npy", np.array([["a", "b"], ["c", "d"]]))
    np.save(p / "bytes.npy", np.array([[b"a", b"b"], [b"c", b"d"]]))
    np.savez(p / "ragged.npz", x0=np.zeros(2), x1=np.ones(3))
    np.savez(p / "ragged3.npz", x0=np.zeros(2), x1=np.ones(2), x2=np.ones(4))
    with zipfile.ZipFile(p / "member.npz", "w") as z:
        z.writestr("x0.npy", b"hello")
        z.writestr("x1.npy", b"world")
    with zipfile.ZipFile(p / "member_names.npz", "w") as z:
        z.writestr("x0.txt", b"hello")
        z.writestr("x1", b"world")
    np.save(p / "nan.npy", np.array([[0, np.nan], [1, 1]]))
    np.save(p / "inf.npy", np.array([[0, np.inf], [1, 1]]))
    np.save(p / "one_d.npy", np.zeros(4))
    np.save(p / "four.npy", np.zeros((4, 2)))
    np.save(p / "pts2.npy", np.array([[-1.0, -0.5], [1.0, 0.5]]))
    np.save(p / "pts64.npy", np.random.default_rng(0).uniform(size=(2, 64)))
    (p / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    (p / "junk.pt").write_bytes(b"not a torch file")
    (p / "folder").mkdir()
    return p


# ------------------------------------------------------------- options
NET = ["--arch", "2-4-1"]
PLOT = ["plot", *NET, "--out", "never.png"]

OPTIONS = [
    # integers out of range or not integers
    (["count", *NET, "--seed", "-1"], "--seed >= 0"),
    (["count", *NET, "--seed", "1.5"], "--seed"),
    (["count", *NET, "--seed", "1e3"], "--seed"),
    (["count", *NET, "--seed", ""], "--seed"),
    (["count", *NET, "--max-regions", "0"], "--max-regions >= 1"),
    (["count", *NET, "--max-regions", "-3"], "--max-regions >= 1"),
    (["count", *NET, "--jobs", "-1"], "--jobs >= 0"),
    (["count", "--construction", "sawtooth", "--depth", "0", "--width", "3"], "--depth >= 1"),
    (["count", "--construction", "sawtooth", "--depth", "2", "--width", "-1"], "--width >= 1"),
    (["plot", *NET, "--out", "x.png", "--dpi", "0"], "--dpi >= 10"),
    (["plot", *NET, "--out", "x.png", "--output-index", "-1"], "--output-index >= 0"),
    (["plot", *NET, "--out", "x.png", "--output-index", "3"], "--output-index in 0..0"),
    (["bound", "--input-dim", "0", "--width", "3", "--depth", "2"], "--input-dim >= 1"),
    (["bound", "--input-dim", "-2", "--width", "3", "--depth", "2"], "--input-dim >= 1"),
    (["bound", "--input-dim", "2", "--width", "0", "--depth", "2"], "--width >= 1"),
    (["bound", "--input-dim", "2", "--width", "3", "--depth", "-1"], "--depth >= 1"),
    (["bound", "--input-dim", "2", "--width", "3", "--depth", "2", "--output-dim", "0"], "--output-dim"),
    (["bound", "--input-dim", "2", "--width", "3", "--depth", "2", "--maxout-rank", "1"], "--maxout-rank >= 2"),
    (["local", *NET, "--points", "pts2.npy", "--radius", "0.1", "--dim", "0"], "--dim >= 1"),
    (["local", *NET, "--points", "pts2.npy", "--radius", "0.1", "--frame-seed", "-1"], "--frame-seed >= 0"),
    (["train-digits", "--out-dir", "run", "--epochs", "0"], "--epochs >= 1"),
    (["train-digits", "--out-dir", "run", "--batch-size", "-1"], "--batch-size >= 1"),
    (["train-digits", "--out-dir", "run", "--seed", "-1"], "--seed >= 0"),
    (["train-digits", "--out-dir", "run", "--max-steps", "0"], "--max-steps >= 1"),
    (["train-digits", "--out-dir", "run", "--save-every", "0"], "--save-every >= 1"),
    # NaN, infinities, signs of floats
    (["plot", *NET, "--out", "x.png", "--size", "nan"], "--size to be a finite number"),
    (["plot", *NET, "--out", "x.png", "--size", "inf"], "--size to be a finite number"),
    (["plot", *NET, "--out", "x.png", "--size", "0"], "--size > 0"),
    (["plot", *NET, "--out", "x.png", "--size", "-2"], "--size > 0"),
    (["plot", *NET, "--out", "x.png", "--size", "1e9"], "--size of at most 100"),
    (["plot", *NET, "--out", "x.png", "--size", "100", "--dpi", "2400"], "pixels"),
    (["plot", "--arch", "2-3-3-3-3-3-3-1", "--out", "x.png", "--kind", "layers", "--size", "30"], "panels"),
    (["plot", *NET, "--out", "x.png", "--level", "nan"], "--level to be a finite number"),
    (["plot", *NET, "--out", "x.png", "--level", "-inf"], "--level to be a finite number"),
    (["count", *NET, "--plane", "pts2.npy", "--margin", "nan"], "--margin to be a finite number"),
    (["count", *NET, "--bias", "nan"], "--bias"),
    (["count", *NET, "--bias", "inf"], "--bias"),
    (["local", *NET, "--points", "pts2.npy", "--radius", "nan"], "--radius"),
    (["local", *NET, "--points", "pts2.npy", "--radius", "0"], "--radius > 0"),
    (["local", *NET, "--points", "pts2.npy", "--radius", "-1"], "--radius > 0"),
    (["train-digits", "--out-dir", "run", "--lr", "nan"], "--lr"),
    (["train-digits", "--out-dir", "run", "--lr", "0"], "--lr > 0"),
    (["slice", "--weights", "net.npz", "--samples", "0,1", "--margin", "inf"], "--margin"),
    # empty options
    (["count", *NET, "--box", ""], "--box"),
    (["count", *NET, "--box", ","], "--box"),
    (["count", *NET, "--box", "-1:1,"], "--box"),
    (["count", *NET, "--out", ""], "--out"),
    (["count", *NET, "--engine", ""], "--engine"),
    (["count", "--arch", ""], "arch"),
    (["count", "--weights", ""], "--weights"),
    (["count", *NET, "--segment", ""], "points"),
    (["plot", *NET, "--out", ""], "--out"),
    (["bound", "--input-dim", "2", "--hidden", ""], "--hidden"),
    (["bound", "--input-dim", "2", "--hidden", ","], "--hidden"),
    (["bound", "--input-dim", "2", "--width", "3", "--depth", "2", "--out", ""], "--out"),
    (["slice", "--weights", "net.npz", "--digits", ""], "--digits"),
    (["slice", "--weights", "net.npz", "--samples", ""], "--samples"),
    (["slice", "--weights", "net.npz", "--samples", "0,1", "--input-shape", ""], "--input-shape"),
    (["slice", "--weights", "net.npz", "--samples", "0,1", "--out", ""], "--out"),
    (["local", *NET, "--points", "pts2.npy", "--radius", "0.1", "--out", ""], "--out"),
    (["train-digits", "--out-dir", ""], "--out-dir"),
    (["train-digits", "--out-dir", "run", "--hidden", ""], "--hidden"),
    # malformed text
    (["count", *NET, "--box", "nan:1"], "NaN"),
    (["count", *NET, "--box", "1:0"], "LO < HI"),
    (["count", *NET, "--box", "-inf:1"], "box"),
    (["count", *NET, "--box", "-1e400:1"], "finite --box"),
    (["count", *NET, "--box", "a:b"], "box"),
    (["count", "--arch", "2-0-1"], "1-10-10-1"),
    (["count", "--arch", "a-b"], "arch"),
    (["bound", "--input-dim", "2", "--hidden", "a"], "--hidden"),
    (["bound", "--input-dim", "2", "--hidden", "1.5,2"], "--hidden"),
    (["bound", "--input-dim", "2", "--hidden", "3,-1"], "--hidden"),
    (["slice", "--weights", "net.npz", "--digits", "3,x"], "--digits"),
    (["slice", "--weights", "net.npz", "--digits", "3,12"], "--digits labels in 0..9"),
    (["slice", "--weights", "net.npz", "--samples", "0,-1"], "--samples"),
    (["slice", "--weights", "net.npz", "--samples", "0,1", "--input-shape", "1,a"], "--input-shape"),
    (["train-digits", "--out-dir", "run", "--hidden", "3,x"], "--hidden"),
    (["train-digits", "--out-dir", "run", "--hidden", "0"], "--hidden"),
    (["train-digits", "--out-dir", "run", "--activation", "tanh"], "activation"),
    (["train-digits", "--out-dir", "run", "--activation", "leaky_relu:abc"], "numeric slope"),
    (["train-digits", "--out-dir", "run", "--activation", "leaky_relu:nan"], "slope"),
    # sizes that cannot be held
    (["count", "--construction", "sawtooth", "--depth", "100000", "--width", "100000"], "parameters"),
    (["count", "--arch", "100000-100000-1"], "parameters"),
    (["count", "--arch", "3-20000-20000-1", "--whole"], "parameters"),
    (["count", "--arch", "3-300-300-1"], "--max-regions N to count up to a budget"),
    # budgets
    (["count", "--arch", "2-8-8-1", "--verify", "--max-regions", "3"], "--max-regions 3 regions to verify"),
    (["count", "--arch", "1-8-8-1", "--verify", "--max-regions", "2"], "--max-regions 2 regions to verify"),
    (["plot", "--arch", "2-8-8-1", "--out", "x.png", "--kind", "layers", "--max-regions", "3"], "partial"),
    (["plot", "--arch", "2-8-8-1", "--out", "x.png", "--kind", "output", "--max-regions", "3"], "partial"),
]


@pytest.mark.parametrize("args,needle", OPTIONS, ids=[" ".join(a)[:60] for a, _ in OPTIONS])
def test_bad_options_one_sentence(d, monkeypatch, args, needle):
    monkeypatch.chdir(d)
    before = sorted(os.listdir(d))
    r = run(*args)
    assert_refused(r, needle)
    assert sorted(os.listdir(d)) == before  # nothing written, not even a lock or a run folder


# ---------------------------------------------------------------- loaders
WEIGHTS = [
    ("named.pt", "named layer 'fc1'"),
    ("residual.pt", "named layer"),
    ("consecutive.pt", "activation between consecutive Linear layers"),
    ("mismatch.pt", "outputs of the layer before"),
    ("norm.pt", "only Linear weights and biases"),
    ("complex.pt", "complex tensor"),
    ("complex_bias.pt", "complex tensor"),
    ("complex_module.pt", "complex tensor"),
    ("sparse.pt", "dense tensors"),
    ("sparse_csr.pt", "dense tensors"),
    ("meta.pt", "meta device"),
    ("quant.pt", "quantized tensor"),
    ("slope_text.pt", "numeric LeakyReLU negative_slope"),
    ("slope_none.pt", "numeric LeakyReLU negative_slope"),
    ("junk.pt", "unreadable"),
]


@pytest.mark.parametrize("name,needle", WEIGHTS)
@pytest.mark.parametrize("cmd", [["count", "--activation", "relu"], ["plot", "--out", "never.png",
                                                                        "--activation", "relu"]])
def test_bad_weight_files(d, monkeypatch, cmd, name, needle):
    monkeypatch.chdir(d)
    r = run(cmd[0], "--weights", name, *cmd[1:])
    assert_refused(r, needle)
    assert not (d / "never.png").exists()


def test_state_dict_needs_a_stated_activation(d, monkeypatch):
    monkeypatch.chdir(d)
    assert_refused(run("count", "--weights", "plain.pt"), "activation")
    assert_refused(run("slice", "--weights", "plain.pt", "--segment", "pts2.npy"), "activation")
    r = run("count", "--weights", "plain.pt", "--activation", "relu", "--json")
    assert r.exit_code == 0, r.output
    sd = torch.load(d / "plain.pt", weights_only=True)
    net = regions.Network([(sd["0.weight"].double().numpy(), sd["0.bias"].double().numpy()),
                           (sd["2.weight"].double().numpy(), sd["2.bias"].double().numpy())])
    assert json.loads(r.stdout)["regions"] == regions.count(net).regions
    assert_refused(run("count", "--arch", "2-4-1", "--activation", "relu"), "--activation only with --weights")


POINTS = [
    ("complex.npy", "complex"),
    ("complex.npz", "complex"),
    ("complex_x1.npz", "complex"),
    ("object.npy", "pickled"),
    ("object.npz", "pickled"),
    ("string.npy", "string"),
    ("bytes.npy", "bytes"),
    ("ragged.npz", "equal length"),
    ("member.npz", "not a .npy array"),
    ("member_names.npz", "arrays x0, x1"),
    ("nan.npy", "finite"),
    ("inf.npy", "finite"),
    ("one_d.npy", "shape (4,)"),
    ("four.npy", "got 4"),
    ("junk.npy", "unreadable"),
    ("missing.npy", "existing"),
    ("folder", None),
]


@pytest.mark.parametrize("name,needle", POINTS)
@pytest.mark.parametrize("cmd", [
    ["count", "--arch", "2-4-1", "--segment"],
    ["count", "--arch", "2-4-1", "--line"],
    ["slice", "--weights", "net.npz", "--segment"],
    ["local", "--arch", "2-4-1", "--radius", "0.1", "--points"],
])
def test_bad_point_files(d, monkeypatch, cmd, name, needle):
    if cmd[0] == "local" and name in ("four.npy", "ragged.npz"):
        pytest.skip("local takes any number of points")
    monkeypatch.chdir(d)
    assert_refused(run(*cmd, name), needle)


def test_plane_refuses_ragged_third_point(d, monkeypatch):
    monkeypatch.chdir(d)
    assert_refused(run("count", "--arch", "2-4-1", "--plane", "ragged3.npz"), "equal length")
    assert_refused(run("slice", "--weights", "net.npz", "--plane", "ragged3.npz"), "equal length")


# ------------------------------------------------------------------ outputs
def _stamp(path):
    st = os.stat(path)
    return st.st_mtime_ns, st.st_ino, path.read_bytes()


# (command, its output option, the file name of that output)
WRITERS = [
    (["count", *NET, "--json"], "--out", "c.json"),
    (["bound", "--input-dim", "3", "--width", "4", "--depth", "2"], "--out", "b.json"),
    (["plot", *NET], "--out", "p.png"),
    (["slice", "--weights", "net.npz", "--segment", "pts2.npy"], "--out", "s.json"),
    (["local", *NET, "--points", "pts2.npy", "--radius", "0.1"], "--out", "l.csv"),
    (["checkpoints", "net.npz", "net_deep.npz", "--segment", "pts2.npy"], "--out", "k.csv"),
    (["checkpoints", "net.npz", "--segment", "pts2.npy"], "--plot", "k.png"),
    (["sweep", "--depths", "1", "--widths", "2", "--mode", "bound", "-j", "0", "--no-plot"], "--out", "w.csv"),
    (["sweep", "--depths", "1", "--widths", "2", "--mode", "bound", "-j", "0", "--no-out"], "--plot", "w.png"),
]
IDS = [f"{c[0]} {o}" for c, o, _ in WRITERS]


@pytest.mark.parametrize("cmd,opt,name", WRITERS, ids=IDS)
def test_existing_output_kept_without_force(tmp_path, d, monkeypatch, cmd, opt, name):
    monkeypatch.chdir(d)
    out = tmp_path / name
    out.write_bytes(b"precious\n")
    os.utime(out, ns=(1_000_000_000, 1_000_000_000))
    before = _stamp(out)
    r = run(*cmd, opt, out)
    assert_refused(r, "--force")
    assert _stamp(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temp file, no lock left beside it
    r = run(*cmd, opt, out, "--force")
    assert r.exit_code == 0, r.output
    assert out.read_bytes() != b"precious\n" and stat.S_ISREG(os.stat(out).st_mode)


@pytest.mark.parametrize("cmd,opt,name", WRITERS, ids=IDS)
def test_output_folder_and_missing_parent_refused(tmp_path, d, monkeypatch, cmd, opt, name):
    monkeypatch.chdir(d)
    assert_refused(run(*cmd, opt, tmp_path))
    assert_refused(run(*cmd, opt, tmp_path / "nowhere" / name, "--force"), "existing folder")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [["--seed", "-1"], ["--box", "nan:1"], ["--box", ""], ["--max-regions", "0"],
                                 ["--segment", "complex.npy"]])
def test_refused_run_leaves_forced_output_untouched(tmp_path, d, monkeypatch, bad):
    monkeypatch.chdir(d)
    out = tmp_path / "c.json"
    out.write_text("precious\n")
    before = _stamp(out)
    assert_refused(run("count", *NET, "--out", out, "--force", *bad))
    assert _stamp(out) == before


def _read_fifo(path, sink):
    with open(path, "rb") as fh:
        sink.append(fh.read())


# writers into a named pipe: the pipe gets the data and stays a pipe
FIFO_WRITERS = [
    (["count", *NET, "--json"], "--out", lambda b: json.loads(b)["regions"] >= 1),
    (["bound", "--input-dim", "3", "--width", "4", "--depth", "2", "--json"], "--out",
     lambda b: json.loads(b)["params"] == 4 * 3 + 4 + 4 * 4 + 4 + 4 + 1),
    (["plot", *NET, "--format", "png"], "--out", lambda b: b.startswith(b"\x89PNG")),
    (["slice", "--weights", "net.npz", "--segment", "pts2.npy"], "--out", lambda b: "regions" in json.loads(b)),
    (["local", *NET, "--points", "pts2.npy", "--radius", "0.1"], "--out",
     lambda b: b.startswith(b"point,regions")),
    (["sweep", "--depths", "1", "--widths", "2", "--mode", "bound", "-j", "0", "--no-out"], "--plot",
     lambda b: b.startswith(b"\x89PNG")),
    (["checkpoints", "net.npz", "net_deep.npz", "--segment", "pts2.npy"], "--out",
     lambda b: b.decode().splitlines()[0].startswith("checkpoint,step,regions") and len(b.splitlines()) == 3),
]


@pytest.mark.parametrize("cmd,opt,check", FIFO_WRITERS, ids=[f"{c[0]} {o}" for c, o, _ in FIFO_WRITERS])
def test_fifo_written_straight(tmp_path, d, monkeypatch, cmd, opt, check):
    monkeypatch.chdir(d)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list = []
    reader = threading.Thread(target=_read_fifo, args=(fifo, got), daemon=True)
    reader.start()
    r = run(*cmd, opt, fifo)
    if r.exit_code != 0:  # unblock the reader before failing
        with open(fifo, "wb"):
            pass
    reader.join(10)
    assert r.exit_code == 0, r.output
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and got and check(got[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_dev_null_and_stdout(d, monkeypatch):
    monkeypatch.chdir(d)
    r = run("count", *NET, "--out", os.devnull, "--json")
    assert r.exit_code == 0 and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    r = run("count", *NET, "--out", "-", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["regions"] >= 1  # one JSON document, not two
    r = run("bound", "--input-dim", "2", "--width", "3", "--depth", "2", "--out", "-")
    assert r.exit_code == 0 and json.loads(r.stdout[: r.stdout.index("}") + 1])["params"] == 25


def test_train_digits_keeps_an_existing_run(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "history.csv").write_text("precious\n")
    (run_dir / "step_000000.pt").write_bytes(b"weights")
    before = [_stamp(run_dir / n) for n in ("history.csv", "step_000000.pt")]
    assert_refused(run("train-digits", "--out-dir", run_dir), "--force")
    assert [_stamp(run_dir / n) for n in ("history.csv", "step_000000.pt")] == before
    (tmp_path / "file").write_text("x")
    assert_refused(run("train-digits", "--out-dir", tmp_path / "file"), "folder")


# ----------------------------------------------------------- bound, help
def test_bound_mnist_size_is_exact_and_formatted_from_its_digits():
    r = run("bound", "--input-dim", "784", "--width", "1000", "--depth", "3", "--json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    # Montufar 2017: prod over layers of sum_{j <= min(n_0..n_l)} C(n_l, j), computed here directly
    layer = sum(math.comb(1000, j) for j in range(785))
    assert rec["montufar2017_upper"] == layer ** 3
    assert rec["params"] == 784 * 1000 + 1000 + 2 * (1000 * 1000 + 1000) + 1000 + 1
    r = run("bound", "--input-dim", "784", "--width", "1000", "--depth", "3")
    assert r.exit_code == 0 and max(len(line) for line in r.stdout.splitlines()) <= 100
    digits = str(layer ** 3)
    assert f"{digits[0]}.{digits[1:3]}e{len(digits) - 1}" in r.stdout  # no float: mantissa from the digits


@pytest.mark.parametrize("value", [7, 10**7, 999_499_999, 11**1000, 2**4000 - 1])
def test_format_int_reads_the_digits(value):
    text = theory.format_int(value)
    digits = str(value)
    if value < 10**7:
        assert text == f"{value:,}"
    else:
        mantissa, exponent = text.split("e")
        assert int(exponent) in (len(digits) - 1, len(digits))
        assert abs(float(mantissa) * 10 ** (int(exponent) - len(digits) + 1) - int(digits[:4]) / 1000) < 0.006


def _serra_by_enumeration(d0, ws):
    """Serra et al. 2018, Theorem 1, summed over every (j_1..j_L) directly."""
    import itertools

    total = 0
    for js in itertools.product(*[range(n + 1) for n in ws]):
        cap, ok = d0, True
        for j, n in zip(js, ws):
            if j > min(cap, n):
                ok = False
                break
            cap = min(cap, n - j)
        if ok:
            total += math.prod(math.comb(n, j) for j, n in zip(js, ws))
    return total


@pytest.mark.parametrize("input_dim", ["7", "99999999999999999999"])
def test_bound_any_input_dimension(input_dim):
    r = run("bound", "--input-dim", input_dim, "--widths", "3,4,2", "--json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    assert rec["serra_upper"] == _serra_by_enumeration(int(input_dim), [3, 4, 2])
    assert rec["params"] == int(input_dim) * 3 + 3 + 3 * 4 + 4 + 4 * 2 + 2 + 2 + 1


def test_bound_refuses_what_cannot_be_held():
    r = run("bound", "--input-dim", "784", "--width", "100000", "--depth", "1000")
    assert_refused(r, "hidden layers")


def test_no_arguments_prints_help_and_every_help_exits_0():
    r = run()
    assert r.exit_code == 0 and "Commands:" in r.stdout
    for name in ("count", "bound", "plot", "sweep", "slice", "train-digits", "checkpoints", "local"):
        r = run(name, "--help")
        assert r.exit_code == 0 and "Usage" in r.stdout, name


def test_unknown_command_and_option_one_line():
    assert_refused(run("nosuch"), "No such command")
    assert_refused(run("count", "--nosuch"), "No such option")


def test_plot_cli_leaves_the_backend_alone(d, monkeypatch, tmp_path):
    import matplotlib

    monkeypatch.chdir(d)
    before = matplotlib.get_backend()
    r = run("plot", *NET, "--out", tmp_path / "x.svg")
    assert r.exit_code == 0, r.output
    assert matplotlib.get_backend() == before


def test_plot_layers_titles_say_partial():
    from matplotlib.figure import Figure

    from regions import plotting

    net = regions.Network.from_arch("2-8-8-1", seed=0)
    axes = Figure().subplots(1, 2)
    plotting.plot_layers(net, regions.box([-1, -1], [1, 1]), axes, max_regions=3)
    titles = [ax.get_title() for ax in axes if ax.get_title()]
    assert titles and all("partial" in t and "exact" not in t for t in titles)
    axes = Figure().subplots(1, 2)
    plotting.plot_layers(net, regions.box([-1, -1], [1, 1]), axes)
    assert all("(exact)" in ax.get_title() for ax in axes)


@pytest.mark.parametrize("arch", ["1-8-8-1", "2-4-1", "2-6-6-1", "3-4-4-1"])
@pytest.mark.parametrize("half", ["1e300", "1e250"])
def test_huge_box_is_exact_or_refused(arch, half):
    """A box far larger than every breakpoint holds every region of the whole space: the CLI prints
    that count or refuses in one sentence; it never prints another number."""
    whole = run("count", "--arch", arch, "--whole", "--json")
    assert whole.exit_code == 0, whole.output
    r = run("count", "--arch", arch, "--box", f"-{half}:{half}", "--json")
    if r.exit_code == 0:
        assert json.loads(r.stdout)["regions"] == json.loads(whole.stdout)["regions"]
    else:
        assert_refused(r, "float64")


@pytest.mark.parametrize("name,needle", [p for p in POINTS if p[0] not in ("four.npy", "folder")])
def test_library_point_reader_refuses_the_same(d, name, needle):
    from regions.errors import RegionsError
    from regions.experiments import workflows

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before any cast: no ComplexWarning
        with pytest.raises(RegionsError, match=needle.replace("(", r"\(").replace(")", r"\)")):
            workflows.read_points(d / name)
