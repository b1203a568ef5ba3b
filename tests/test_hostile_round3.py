"""Hostile input, round 3 (issue 15): new members of each class, tried through the CLI and the Python API.

Each table row is a probe that was tried by hand first; the rows that
failed before this round name the class they belong to in a comment.  The
independent values are: the count of the unscaled network (positive
rescaling never changes a count), the count of the same weights read from
another format, the exact parameter count of a sweep cell, and the files'
bytes before and after a refused run.
"""

from __future__ import annotations

import importlib
import json
import os
import stat
from pathlib import Path
import warnings

import click
import numpy as np
import pytest
from click.testing import CliRunner

import regions
from regions.cli.main import COMMANDS, main
from regions.core import io as core_io
from regions.core.verify import scaled_measures
from regions.errors import RegionsError

torch = pytest.importorskip("torch")


def run(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a leaked warning is a failure, not noise
        return CliRunner().invoke(main, [str(a) for a in args])


def assert_refused(r, needle=None):
    """Exit 2, exactly one line on stderr starting 'Error: ', no traceback, no warning text."""
    assert r.exit_code == 2, (r.exit_code, r.output, r.exception)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in r.output, r.stderr
    assert "Warning" not in r.stderr and "warning:" not in r.stderr, r.stderr
    if needle is not None:
        assert needle in lines[0], lines[0]


def count_json(*args) -> dict:
    r = run("count", *args, "--json")
    assert r.exit_code == 0, (r.output, r.exception)
    return json.loads(r.stdout)


# ===================================================================== 1. scale
def _input_scaled(net: regions.Network, s: float) -> regions.Network:
    """``x -> net(x / s)``: on the box scaled by ``s`` it has exactly the regions of ``net`` on the box."""
    (W0, b0), *rest = net.layers
    return regions.Network([(W0 / s, b0), *rest], negative_slope=net.negative_slope)


SCALES = [1e-300, 1e-200, 1e-150, 1e-110, 1e110, 1e150, 1e200, 1e300]  # 1e+-150 up failed before (verify)


@pytest.mark.parametrize("arch", ["1-8-8-1", "2-6-6-1", "3-5-5-1"])
@pytest.mark.parametrize("s", SCALES)
def test_verify_at_every_scale(arch, s):
    """verify() passes on boxes of half-width 1e-300 .. 1e300 (failed before: areas/volumes under- or
    overflowed, witnesses at ring corners); the count is the unscaled network's on [-1, 1]^d."""
    net = regions.Network.from_arch(arch, seed=0)
    d = net.input_dim
    want = regions.count(net, regions.box([-1.0] * d, [1.0] * d)).regions
    scaled = _input_scaled(net, s)
    dom = regions.box([-s] * d, [s] * d)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        part = regions.partition(scaled, dom)
        out = part.verify()
    assert part.count().regions == want
    assert out["measure_log10"] == pytest.approx(d * np.log10(2 * s), abs=1e-9)
    m, full, unit = scaled_measures(part)
    assert np.all(m > 0) and np.sum(m) == pytest.approx(full, rel=1e-9)


@pytest.mark.parametrize("s", [1e-300, 1e300])
def test_verify_plane_at_every_scale(s):
    """A plane through three points 1e-300 (or 1e300) apart in R^3: verified, measure in log form."""
    net = regions.Network.from_arch("3-5-5-1", seed=0)
    want = regions.count(net, regions.plane_through([0, 0, 0], [1, 0, 0], [0, 1, 0])).regions
    scaled = _input_scaled(net, s)
    pl = regions.plane_through([0, 0, 0], [s, 0, 0], [0, s, 0])
    try:
        part = regions.partition(scaled, pl)
    except regions.errors.NumericalError:  # refused in one sentence where float64 cannot place it
        return
    assert part.count().regions == want
    part.verify()


def test_ring_geometry_keeps_witnesses_inside_tiny_and_huge_rings():
    from regions.engines.planar.rings import ring_geometry

    sq = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    for s in (1e-300, 1e-160, 1.0, 1e160, 1e300):
        area, cen = ring_geometry(sq * s, np.array([[0, 1, 2, 3]]), np.array([4]))
        np.testing.assert_allclose(cen[0] / s, [0.5, 0.5], rtol=1e-12)
        if 1e-150 < s < 1e150:
            assert area[0] == pytest.approx(s * s)


# ================================================================ 2. magnitude
@pytest.fixture(scope="module")
def d(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _make_files(tmp_path_factory.mktemp("round3"))


W0 = np.array([[1.0, -2.0], [0.5, 1.5], [-1.0, -0.25], [2.0, 0.75]])
B0 = np.array([0.1, -0.3, 0.2, 0.05])
W1 = np.array([[1.0, -1.0, 0.5, 2.0]])
B1 = np.array([0.0])


def _npz(path, **arrays):
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _make_files(p):
    base = dict(W0=W0, b0=B0, W1=W1, b1=B1)
    _npz(p / "net.npz", **base)
    _npz(p / "net_1e300.npz", **{**base, "W0": W0 * 1e300, "b0": B0 * 1e300})
    _npz(p / "net_1e-300.npz", **{**base, "W0": W0 * 1e-300, "b0": B0 * 1e-300})
    _npz(p / "net_int_big.npz", **{**base, "W0": np.full((4, 2), 2**62 + 1, np.int64)})
    _npz(p / "net_u64.npz", **{**base, "W0": np.full((4, 2), 2**64 - 1, np.uint64)})
    _npz(p / "net_int.npz", **{**base, "W0": np.array([[1, -2], [3, 1], [-1, 0], [2, 1]], np.int16)})
    _npz(p / "net_ld.npz", **{**base, "W0": np.full((4, 2), np.longdouble("1e400"))})
    _npz(p / "net_ld_fine.npz", **{**base, "W0": (W0 * 3).astype(np.longdouble) / 3})
    for name, slope in [("vec", np.array([0.1, 0.2])), ("str", np.array("abc")), ("cplx", np.array(0.1 + 1j)),
                        ("empty", np.array([]))]:
        _npz(p / f"net_slope_{name}.npz", **base, negative_slope=slope)
    t = {"0.weight": torch.tensor(W0), "0.bias": torch.tensor(B0), "2.weight": torch.tensor(W1),
         "2.bias": torch.tensor(B1)}
    torch.save(t, p / "sd.pt")
    torch.save({k: v.half() for k, v in t.items()}, p / "sd_f16.pt")
    torch.save({k: v.bfloat16() for k, v in t.items()}, p / "sd_bf16.pt")
    torch.save({**t, "0.weight": torch.full((4, 2), 2**62 + 1, dtype=torch.int64)}, p / "sd_int_big.pt")
    big = {"0.weight": torch.tensor(W0 * 1e300), "0.bias": torch.tensor(B0 * 1e300)}
    torch.save({**t, **big}, p / "sd_1e300.pt")
    torch.save({**t, "0.weight": torch.tensor([[7e4, 1.0]] * 4).half()}, p / "sd_f16_inf.pt")
    # state dicts: nested, out of order, bias-free, and ones that are not plain Sequentials
    torch.save({f"0.{k}": v for k, v in t.items()}, p / "sd_nested.pt")
    torch.save(dict(reversed(list(t.items()))), p / "sd_reversed.pt")
    torch.save({"0.weight": t["0.weight"], "2.weight": t["2.weight"]}, p / "sd_nobias.pt")
    torch.save({**t, "1.weight": torch.ones(4), "1.bias": torch.zeros(4)}, p / "sd_norm_affine.pt")
    torch.save({"0.weight": t["0.weight"], "2.weight": torch.ones(4), "2.bias": torch.zeros(4),
                "4.weight": t["2.weight"]}, p / "sd_norm_between.pt")
    torch.save({**t, "1.num_batches_tracked": torch.tensor(0)}, p / "sd_bn_buffer.pt")
    torch.save({**t, "2.mask": torch.ones(4)}, p / "sd_extra_buffer.pt")
    torch.save({"0.0.weight": t["0.weight"], "1.0.weight": t["2.weight"]}, p / "sd_two_seqs.pt")
    torch.save({**t, "0.weight": torch.zeros(4, 2, 1)}, p / "sd_w3d.pt")
    torch.save({**t, "0.bias": torch.tensor(1.0)}, p / "sd_scalar_bias.pt")
    torch.save({**t, "2.weight": torch.ones(1, 3)}, p / "sd_nochain.pt")
    torch.save({0: t["0.weight"]}, p / "sd_int_keys.pt")
    torch.save({"state_dict": {"a": 1}}, p / "sd_nested_junk.pt")
    # points
    np.save(p / "pts.npy", np.array([[-1.0, -0.5], [1.0, 0.5]]))
    np.save(p / "pts_bool.npy", np.array([[False, False], [True, True]]))
    np.save(p / "pts_int_big.npy", np.array([[0, 0], [2**62 + 1, 1]], np.int64))
    np.save(p / "pts_u64.npy", np.array([[0, 0], [2**64 - 1, 1]], np.uint64))
    np.save(p / "pts_ld.npy", np.array([[0, 0], [1, np.longdouble("1e400")]], np.longdouble))
    np.save(p / "pts_dt.npy", np.zeros((2, 2), "datetime64[s]"))
    np.save(p / "pts_td.npy", np.zeros((2, 2), "timedelta64[s]"))
    np.save(p / "pts_struct.npy", np.zeros((2, 2), dtype=[("a", "f8")]))
    np.save(p / "pts_scalar.npy", np.array(3.0))
    np.save(p / "pts_3d.npy", np.zeros((2, 2, 1)))
    _npz(p / "pts_extra.npz", x0=np.zeros(2), x1=np.ones(2), x9=np.zeros(2))
    _npz(p / "pts_dt.npz", x0=np.zeros(2, "datetime64[s]"), x1=np.zeros(2, "datetime64[s]"))
    _npz(p / "pts_struct.npz", x0=np.zeros(2, dtype=[("a", "f8")]), x1=np.zeros(2))
    _npz(p / "pts_int_big.npz", x0=np.zeros(2, np.int64), x1=np.array([2**60 + 1, 0], np.int64))
    (p / "pts.csv").write_text("-1,-0.5\n1,0.5\n")
    (p / "pts.json").write_text("[[-1, -0.5], [1, 0.5]]")
    (p / "pts_pickle.npy").write_bytes(b"\x80\x04K\x01.")
    return p


def _count(net) -> int:
    return regions.count(net, regions.box([-1.0, -1.0], [1.0, 1.0])).regions


# (weights file, expected count: a function of the reference network) -- positive rescaling of a layer
# and its bias never changes a count; float16/bfloat16 weights count as their exact float64 values
ACCEPTED_WEIGHTS = [
    ("net_1e300.npz", lambda: _count(regions.Network([(W0, B0), (W1, B1)]))),
    ("net_1e-300.npz", lambda: _count(regions.Network([(W0, B0), (W1, B1)]))),
    ("net_int.npz", lambda: _count(regions.Network([(np.array([[1, -2], [3, 1], [-1, 0], [2, 1]], float), B0),
                                                    (W1, B1)]))),
    ("sd_1e300.pt", lambda: _count(regions.Network([(W0, B0), (W1, B1)]))),
    ("sd_f16.pt", lambda: _count(regions.Network([(W0.astype(np.float16).astype(float),
                                                   B0.astype(np.float16).astype(float)),
                                                  (W1.astype(np.float16).astype(float), B1)]))),
    ("sd_bf16.pt", lambda: _count(regions.Network([
        (torch.tensor(W0).bfloat16().double().numpy(), torch.tensor(B0).bfloat16().double().numpy()),
        (torch.tensor(W1).bfloat16().double().numpy(), B1)]))),
    ("sd_nested.pt", lambda: _count(regions.Network([(W0, B0), (W1, B1)]))),
    ("sd_reversed.pt", lambda: _count(regions.Network([(W0, B0), (W1, B1)]))),
    ("sd_nobias.pt", lambda: _count(regions.Network([(W0, np.zeros(4)), (W1, B1)]))),
    ("net_ld_fine.npz", lambda: _count(regions.Network([
        (((W0 * 3).astype(np.longdouble) / 3).astype(float), B0), (W1, B1)]))),
]


@pytest.mark.parametrize("name,want", ACCEPTED_WEIGHTS, ids=[n for n, _ in ACCEPTED_WEIGHTS])
def test_weights_read_exactly(d, monkeypatch, name, want):
    monkeypatch.chdir(d)
    extra = ["--activation", "relu"] if name.endswith(".pt") else []
    assert count_json("--weights", name, *extra)["regions"] == want()


# (weights file, needle) -- each refused in one sentence, through the CLI and load_network
REFUSED_WEIGHTS = [
    ("net_int_big.npz", "2^53"),  # failed before: rounded silently to float64
    ("net_u64.npz", "2^53"),  # failed before
    ("sd_int_big.pt", "2^53"),  # failed before (refused only later, as a geometric failure)
    ("net_ld.npz", "float64 holds exactly"),  # failed before: 1e400 became inf on the way
    ("net_slope_vec.npz", "negative_slope"),  # failed before: TypeError traceback
    ("net_slope_str.npz", "negative_slope"),  # failed before: ValueError traceback
    ("net_slope_cplx.npz", "negative_slope"),  # failed before: TypeError traceback
    ("net_slope_empty.npz", "negative_slope"),  # failed before: TypeError traceback
    ("sd_f16_inf.pt", "finite"),
    ("sd_norm_affine.pt", "activation between consecutive"),
    ("sd_norm_between.pt", "2-D weight"),
    ("sd_bn_buffer.pt", "only Linear weights and biases"),
    ("sd_extra_buffer.pt", "only Linear weights and biases"),
    ("sd_two_seqs.pt", "one nn.Sequential"),
    ("sd_w3d.pt", "2-D weight"),
    ("sd_scalar_bias.pt", "bias of 4 entries"),
    ("sd_nochain.pt", "outputs of the layer before"),
    ("sd_int_keys.pt", "state dict"),
    ("sd_nested_junk.pt", "state dict"),
]


@pytest.mark.parametrize("name,needle", REFUSED_WEIGHTS, ids=[n for n, _ in REFUSED_WEIGHTS])
def test_weights_refused(d, monkeypatch, name, needle):
    monkeypatch.chdir(d)
    extra = ["--activation", "relu"] if name.endswith(".pt") else []
    assert_refused(run("count", "--weights", name, *extra), needle)
    from regions.experiments.workflows import load_network

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RegionsError, match="expected"):
            load_network(d / name, activation="relu" if name.endswith(".pt") else None)


# ====================================================================== 4. point files
REFUSED_POINTS = [
    ("pts.csv", "neither"),  # failed before: said 'pickled objects'
    ("pts.json", "neither"),  # failed before: said 'pickled objects'
    ("pts_pickle.npy", "neither"),
    ("pts_extra.npz", "only arrays x0, x1"),  # failed before: x9 ignored silently
    ("pts_int_big.npy", "2^53"),  # failed before: rounded silently
    ("pts_u64.npy", "2^53"),  # failed before: rounded silently
    ("pts_int_big.npz", "2^53"),  # failed before: rounded silently
    ("pts_ld.npy", "float64 holds exactly"),
    ("pts_dt.npy", "datetime"),
    ("pts_td.npy", "timedelta"),
    ("pts_struct.npy", "structured"),
    ("pts_dt.npz", "datetime"),
    ("pts_struct.npz", "structured"),
    ("pts_scalar.npy", "shape ()"),
    ("pts_3d.npy", "shape (2, 2, 1)"),
]


@pytest.mark.parametrize("name,needle", REFUSED_POINTS, ids=[n for n, _ in REFUSED_POINTS])
@pytest.mark.parametrize("cmd", [["count", "--arch", "2-4-1", "--segment"], ["slice", "--weights", "net.npz",
                                                                           "--segment"],
                                 ["local", "--arch", "2-4-1", "--radius", "0.1", "--points"]],
                         ids=["count", "slice", "local"])
def test_point_files_refused(d, monkeypatch, cmd, name, needle):
    monkeypatch.chdir(d)
    assert_refused(run(*cmd, name), needle)


@pytest.mark.parametrize("name,needle", REFUSED_POINTS, ids=[n for n, _ in REFUSED_POINTS])
def test_point_reader_refuses_the_same(d, name, needle):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RegionsError, match="expected"):
            core_io.read_points(d / name)


def test_bool_points_are_read_as_zero_one(d):
    np.testing.assert_array_equal(core_io.read_points(d / "pts_bool.npy"), [[0.0, 0.0], [1.0, 1.0]])


# ========================================================================= 5. outputs
OUT_CMDS = {
    "count": ["count", "--arch", "2-4-1", "--json", "--out"],
    "bound": ["bound", "--input-dim", "2", "--width", "3", "--depth", "2", "--out"],
    "plot": ["plot", "--arch", "2-4-1", "--format", "png", "--out"],
    "slice": ["slice", "--weights", "net.npz", "--segment", "pts.npy", "--out"],
    "local": ["local", "--arch", "2-4-1", "--points", "pts.npy", "--radius", "0.1", "--out"],
    "checkpoints": ["checkpoints", "net.npz", "--segment", "pts.npy", "--out"],
    "checkpoints-plot": ["checkpoints", "net.npz", "--segment", "pts.npy", "--plot"],
    "sweep": ["sweep", "--depths", "1", "--widths", "2", "--mode", "bound", "-j", "0", "--no-plot", "--out"],
    "sweep-plot": ["sweep", "--depths", "1", "--widths", "2", "--mode", "bound", "-j", "0", "--no-out", "--plot"],
}
# (target, needle): NUL failed before everywhere (ValueError traceback); 'name/' created a file 'name' or
# replaced the existing file 'old.json' (with --force)
BAD_TARGETS = [
    ("a\0b.json", "NUL"),
    ("newdir/", None),
    ("old.json/", None),
    ("loop.json", "writable path"),
    ("nodir/x.json", None),  # "existing folder" (plot-like commands name their suffixes first)
    ("link_dir", "folder"),
]


@pytest.mark.parametrize("target,needle", BAD_TARGETS, ids=[repr(t) for t, _ in BAD_TARGETS])
@pytest.mark.parametrize("cmd", list(OUT_CMDS), ids=list(OUT_CMDS))
def test_bad_output_targets(d, tmp_path, monkeypatch, cmd, target, needle):
    monkeypatch.chdir(d)
    work = tmp_path / "w"
    work.mkdir()
    (work / "old.json").write_text("precious\n")
    (work / "dir").mkdir()
    os.symlink(work / "dir", work / "link_dir")
    os.symlink(work / "loop.json", work / "loop.json")
    before = sorted(os.listdir(work))
    path = target if target.startswith("a\0") else str(work / target) + ("/" if target.endswith("/") else "")
    assert_refused(run(*OUT_CMDS[cmd], path, "--force"), needle)
    assert sorted(os.listdir(work)) == before
    assert (work / "old.json").read_text() == "precious\n"


def test_new_output_never_clobbers_a_file_created_meanwhile(tmp_path):
    """The check passes on a new path; another process creates the file before the result is written:
    the write is refused and the other file kept (it was replaced before)."""
    path = tmp_path / "out.json"
    target = core_io.check_output_path(path, what="--out")
    path.write_text("theirs\n")
    with pytest.raises(RegionsError, match="created meanwhile"):
        core_io.write_output(target, "ours\n")
    assert path.read_text() == "theirs\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]  # no temp file left
    forced = core_io.check_output_path(tmp_path / "f.json", force=True)
    (tmp_path / "f.json").write_text("theirs\n")
    core_io.write_output(forced, "ours\n")  # --force: replacing is what was asked
    assert (tmp_path / "f.json").read_text() == "ours\n"


def test_device_write_error_is_one_sentence(d, monkeypatch):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    monkeypatch.chdir(d)
    r = run("count", "--arch", "2-4-1", "--json", "--out", "/dev/full")
    assert_refused(r, "No space left on device")
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_dangling_symlink_output_creates_its_target(d, tmp_path, monkeypatch):
    monkeypatch.chdir(d)
    os.symlink(tmp_path / "target.json", tmp_path / "link.json")
    r = run("count", "--arch", "2-4-1", "--json", "--out", tmp_path / "link.json")
    assert r.exit_code == 0, r.output
    assert os.path.islink(tmp_path / "link.json")
    assert json.loads((tmp_path / "target.json").read_text())["regions"] == json.loads(r.stdout)["regions"]


# ======================================================================= options fuzz
BASE = {
    "count": ["--arch", "2-4-1"],
    "bound": ["--input-dim", "2", "--width", "3", "--depth", "2"],
    "plot": ["--arch", "2-4-1", "--out", "never.png"],
    "sweep": ["--depths", "1", "--widths", "2", "--mode", "bound", "-j", "0", "--no-out", "--no-plot"],
    "slice": ["--weights", "net.npz", "--segment", "pts.npy"],
    "train-digits": ["--out-dir", "never_run", "--max-steps", "1"],
    "checkpoints": ["net.npz", "--segment", "pts.npy"],
    "local": ["--arch", "2-4-1", "--points", "pts.npy", "--radius", "0.1"],
}
#: Text that no numeric option accepts.
BAD_NUMBERS = ["", " ", "abc", "nan", "inf", "-inf", "1e400", "0x10", "--"]
#: Text that no integer option accepts.
BAD_INTEGERS = ["1.5", "1e3", "2.0"]


def _numeric_options():
    """(command, option, kind) for every numeric option of every subcommand, read from the click objects."""
    out = []
    for name, (mod, attr) in sorted(COMMANDS.items()):
        cmd = getattr(importlib.import_module(mod), attr)
        for p in cmd.params:
            if not isinstance(p, click.Option) or p.is_flag or p.hidden:
                continue
            t = p.type
            kind = None
            if isinstance(t, click.types.IntParamType) or type(t).__name__ == "IntAtLeast":
                kind = "int"
            elif isinstance(t, click.types.FloatParamType) or type(t).__name__ == "FiniteFloat":
                kind = "float"
            if kind:
                out.append((name, [o for o in p.opts if o.startswith("--")][0], kind))
    return out


NUMERIC = _numeric_options()


def test_fuzz_covers_every_subcommand():
    assert {c for c, _, _ in NUMERIC} == set(COMMANDS)
    assert len(NUMERIC) >= 30


@pytest.mark.parametrize("cmd,opt,kind", NUMERIC, ids=[f"{c} {o}" for c, o, _ in NUMERIC])
def test_every_numeric_option_refuses_bad_numbers(d, monkeypatch, cmd, opt, kind):
    """Every value of the table, for every numeric option found on the click commands."""
    monkeypatch.chdir(d)
    before = sorted(os.listdir(d))
    for value in BAD_NUMBERS + (BAD_INTEGERS if kind == "int" else []):
        assert_refused(run(cmd, *BASE[cmd], opt, value))
        assert sorted(os.listdir(d)) == before, value


# values beyond what can be held: one sentence (each failed before with a traceback)
HUGE = [
    (["sweep", *BASE["sweep"][4:], "--depths", "99999999999999999999999", "--widths", "2", "--mode", "bound"],
     "at most 100,000"),
    (["train-digits", "--out-dir", "never_run", "--seed", str(2**63)], "--seed <="),
    (["train-digits", "--out-dir", "never_run", "--hidden", "99999999999999999999999"], "--hidden widths"),
    (["train-digits", "--out-dir", "never_run", "--residual-blocks", "99999999999999999999999"],
     "--residual-blocks <="),
    (["train-digits", "--out-dir", "never_run", "--hidden", "30000,30000"], "parameters"),
    (["train-digits", "--out-dir", "never_run", "--conv-channels", "99999999999999999999999"],
     "--conv-channels <="),
]


@pytest.mark.parametrize("args,needle", HUGE, ids=[" ".join(a)[:50] for a, _ in HUGE])
def test_huge_values_refused(d, monkeypatch, args, needle):
    monkeypatch.chdir(d)
    before = sorted(os.listdir(d))
    assert_refused(run(*args), needle)
    assert sorted(os.listdir(d)) == before


# ====================================================================== 7. resume files
def _rows_file(tmp_path, ext):
    out = tmp_path / f"rows.{ext}"
    r = run("sweep", "--depths", "1:2", "--widths", "2", "--mode", "bound", "-j", "0", "--no-plot", "--out", out)
    assert r.exit_code == 0, r.output
    return out


def _edit_jsonl(text, fn):
    lines = text.splitlines()
    return "\n".join([json.dumps(fn(json.loads(lines[0])))] + lines[1:]) + "\n"


# (format, edit of the file's text, needle or None when the resume must succeed)
RESUMES = [
    ("csv", lambda t: "\ufeff" + t, None),  # failed before: BOM read as part of the first column name
    ("jsonl", lambda t: "\ufeff" + t, None),  # failed before
    ("json", lambda t: "\ufeff" + t, None),  # failed before
    ("csv", lambda t: t.replace("\n", "\r\n"), None),
    ("jsonl", lambda t: t.replace("\n", "\r\n"), None),
    ("jsonl", lambda t: t[:-10], None),  # truncated mid-line: that row is computed again
    ("csv", lambda t: t[:-10], None),
    ("json", lambda t: t[:-10], "invalid JSON"),
    ("csv", lambda t: "".join(line.rstrip("\n") + ",9\n" if i else line.rstrip("\n") + ",depth\n"
                              for i, line in enumerate(t.splitlines(keepends=True))), "each column once"),
    ("jsonl", lambda t: t.splitlines()[0][:-1] + ', "depth": 7}\n' + "\n".join(t.splitlines()[1:]) + "\n",
     "each key once"),  # failed before: the row became a depth-7 row
    ("jsonl", lambda t: t + json.dumps({**json.loads(t.splitlines()[0]), "depth": 10**30}) + "\n",
     "at most 100,000"),  # failed before: kept
    ("jsonl", lambda t: t + json.dumps({**json.loads(t.splitlines()[0]), "params": 12345}) + "\n",
     "expected params 7"),  # failed before: the wrong row replaced the right one
    ("jsonl", lambda t: t + json.dumps({**json.loads(t.splitlines()[0]), "serra_lower": 999}) + "\n",
     "one result per cell"),  # failed before: the later row won
    ("jsonl", lambda t: _edit_jsonl(t, lambda r: {**r, "settings": {**r["settings"], "extra": 1}}),
     "other keys"),  # failed before: a sentence with nothing after 'got'
    ("jsonl", lambda t: _edit_jsonl(t, lambda r: {**r, "params": float("nan")}), "params"),
]


@pytest.mark.parametrize("ext,edit,needle", RESUMES, ids=[f"{e}-{i}" for i, (e, _, _) in enumerate(RESUMES)])
def test_resume_files(tmp_path, ext, edit, needle):
    out = _rows_file(tmp_path, ext)
    text = edit(out.read_text())
    out.write_text(text, newline="")
    before = out.read_bytes()
    r = run("sweep", "--depths", "1:2", "--widths", "2", "--mode", "bound", "-j", "0", "--no-plot", "--out", out,
            "--resume")
    if needle is None:
        assert r.exit_code == 0, r.output
        from regions.experiments.rows import read_rows

        got = sorted((x["depth"], x["width"], x["params"]) for x in read_rows(out))
        assert got == [(1, 2, 7), (2, 2, 13)]  # params = d w + w + (K - 1)(w^2 + w) + w + 1
    else:
        assert_refused(r, needle)
        assert out.read_bytes() == before


# ============================================================ options never ignored
# an --activation or --input-shape that does not fit a network file that records its own was ignored before
IGNORED = [
    (["count", "--weights", "net.npz", "--activation", "leaky_relu:0.5"], "records a negative slope of 0"),
    (["count", "--weights", "net.npz", "--activation", "abc"], "'abc'"),
    (["count", "--weights", "net.npz", "--activation", ""], "activation"),
    (["slice", "--weights", "net.npz", "--segment", "pts.npy", "--activation", "leaky_relu:0.2"], "records"),
    (["slice", "--weights", "net.npz", "--segment", "pts.npy", "--activation", "nan"], "activation"),
    (["slice", "--weights", "net.npz", "--segment", "pts.npy", "--input-shape", "3"], "input shape of 2"),
    (["checkpoints", "net.npz", "--segment", "pts.npy", "--activation", "leaky_relu:0.2"], "records"),
    (["checkpoints", "net.npz", "--segment", "pts.npy", "--input-shape", "99999999999999999999999"],
     "input shape of 2"),
    # --depth/--width say nothing to --arch or --weights (they were ignored)
    (["count", "--arch", "2-4-1", "--depth", "99999999999999999999999"], "only with --construction"),
    (["count", "--weights", "net.npz", "--width", "3"], "only with --construction"),
    (["plot", "--arch", "2-4-1", "--out", "never.png", "--depth", "2", "--width", "3"],
     "only with --construction"),
    (["local", "--arch", "2-4-1", "--points", "pts.npy", "--radius", "0.1", "--width", "4"],
     "only with --construction"),
]


@pytest.mark.parametrize("args,needle", IGNORED, ids=[" ".join(a)[:50] for a, _ in IGNORED])
def test_options_that_do_not_fit_are_refused(d, monkeypatch, args, needle):
    monkeypatch.chdir(d)
    assert_refused(run(*args), needle)


@pytest.mark.parametrize("args", [["--activation", "relu"], ["--input-shape", "1,2"]])
def test_options_that_fit_are_accepted(d, monkeypatch, args):
    monkeypatch.chdir(d)
    r = run("slice", "--weights", "net.npz", "--segment", "pts.npy", "--json", *args)
    assert r.exit_code == 0, r.output
    seg = regions.segment([-1.0, -0.5], [1.0, 0.5])
    assert json.loads(r.stdout)["regions"] == regions.count(regions.Network.load(d / "net.npz"), seg).regions


# ================================================================ Python API, one sentence
_NET = regions.Network([(W0, B0), (W1, B1)])
# each raised a TypeError/ValueError, a ComplexWarning (the imaginary part dropped) or rounded silently before
API_REFUSED = [
    ("box complex", lambda: regions.box([1j, 0], [1, 1]), "complex"),
    ("box text", lambda: regions.box(["a", 0], [1, 1]), "real numbers"),
    ("box object", lambda: regions.box(np.array([0, None], object), [1, 1]), "real numbers"),
    ("segment complex", lambda: regions.segment([0, 1j], [1, 1]), "complex"),
    ("segment int 2^70", lambda: regions.segment([0, 2**70], [1, 1]), "2^53"),
    ("plane complex", lambda: regions.plane_through([0, 0, 1j], [1, 0, 0], [0, 1, 0]), "complex"),
    ("Network complex", lambda: regions.Network([(np.ones((2, 2)) * 1j, np.zeros(2))]), "complex"),
    ("Network object", lambda: regions.Network([(np.array([[1, None]], object), np.zeros(1))]), "real numbers"),
    ("Network int 2^70", lambda: regions.Network([(np.array([[2**70, 1]], object), np.zeros(1))]), "2^53"),
    ("Network int64 2^62+1", lambda: regions.Network([(np.array([[2**62 + 1, 1]]), np.zeros(1))]), "2^53"),
    ("Network ragged", lambda: regions.Network([([[1, 2], [3]], np.zeros(2))]), "one shape"),
    ("Network slope text", lambda: regions.Network([(np.ones((1, 2)), np.zeros(1))], negative_slope="a"),
     "negative_slope"),
    ("Network slope vector", lambda: regions.Network([(np.ones((1, 2)), np.zeros(1))], negative_slope=[0.1]),
     "negative_slope"),
    ("Network of an int", lambda: regions.Network(5), "sequence of pairs"),
    ("from_arch seed -1", lambda: regions.Network.from_arch("2-4-1", seed=-1), "seed"),
    ("from_arch seed 1.5", lambda: regions.Network.from_arch("2-4-1", seed=1.5), "seed"),
    ("from_arch 10^10 params", lambda: regions.Network.from_arch("100000-100000-1"), "parameters"),
    ("read_points NUL", lambda: core_io.read_points("a\0b"), "existing"),
    ("check_output_path NUL", lambda: core_io.check_output_path("a\0b"), "NUL"),
]


@pytest.mark.parametrize("name,fn,needle", API_REFUSED, ids=[n for n, _, _ in API_REFUSED])
def test_python_api_refuses_in_one_sentence(name, fn, needle):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RegionsError, match="expected") as info:
            fn()
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_python_api_accepts_exact_values():
    """Python ints up to 2^53, bools and float16 are exact in float64 and accepted."""
    net = regions.Network([(np.array([[2**53, 1]], object), np.zeros(1))])
    assert net.layers[0][0][0, 0] == 2.0**53
    assert regions.segment([False, 0], [True, np.float16(0.5)]).input_dim == 2


# ================================================================== scale: far and thin
def _dyadic(rng, shape):
    return rng.integers(-8, 9, size=shape) / 4.0  # products with powers of two are exact


@pytest.mark.parametrize("dim", [1, 2, 3])
@pytest.mark.parametrize("k", [20, 40, 50])
def test_far_from_the_origin_exact_or_refused(dim, k):
    """The net translated by c = 2^k (biases exact) on the box translated by c has the count of the
    original on [-1, 1]^d, or is refused as a NumericalError; never another number."""
    rng = np.random.default_rng(dim)
    layers, n = [], dim
    for w in (5, 5):
        layers.append((_dyadic(rng, (w, n)), _dyadic(rng, w) / 2))
        n = w
    layers.append((_dyadic(rng, (1, n)), np.zeros(1)))
    want = regions.count(regions.Network(layers), regions.box([-1.0] * dim, [1.0] * dim)).regions
    c = 2.0**k
    (A, a), *rest = layers
    shifted = regions.Network([(A, a - A @ np.full(dim, c)), *rest])
    try:
        got = regions.count(shifted, regions.box([c - 1.0] * dim, [c + 1.0] * dim)).regions
    except regions.errors.NumericalError:
        return
    assert got == want


@pytest.mark.parametrize("lo,hi", [([-1e-200, -1e200], [1e-200, 1e200]), ([-1e300, -1e-300], [1e300, 1e-300])])
def test_box_of_mixed_huge_and_tiny_sides(lo, hi):
    """A box 1e-200 thin and 1e200 long meets the regions of the line it surrounds (the line engine's count)."""
    net = regions.Network.from_arch("2-6-6-1", seed=0)
    thin = 0 if abs(lo[0]) < 1 else 1
    direction = [0.0, 1.0] if thin == 0 else [1.0, 0.0]
    want = regions.count(net, regions.line([0.0, 0.0], direction)).regions
    try:
        got = regions.count(net, regions.box(lo, hi)).regions
    except regions.errors.NumericalError:
        return
    assert got == want


def test_bad_program_file_leaks_no_torch_log(tmp_path):
    """torch logs a traceback for a bad .pt2 archive before raising (to the real stderr, so a
    subprocess): only the one sentence may reach the terminal."""
    import subprocess
    import sys
    import zipfile

    with zipfile.ZipFile(tmp_path / "bad.pt2", "w") as z:
        z.writestr("a.txt", "x")
    env = {**os.environ, "PYTHONPATH": str(Path(regions.__file__).parents[1])}
    cmd = [sys.executable, "-m", "regions.cli.main", "count", "--weights", str(tmp_path / "bad.pt2")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: expected a program"), r.stderr
