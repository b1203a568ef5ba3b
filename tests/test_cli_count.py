"""`regions count` and `regions bound`: results, JSON keys, and one-sentence errors with exit 2."""

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from regions.cli.main import main


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result


def test_sawtooth_headline_json():
    r = run("count", "--construction", "sawtooth", "--depth", "5", "--width", "10", "--whole", "--json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["regions"] == 161_051 and rec["params"] == 471
    for key in ("regions", "pieces", "params", "input_dim", "domain", "engine", "seconds", "layer_counts"):
        assert key in rec
    assert rec["domain"]["kind"] == "whole" and rec["engine"] == "line"


def test_sawtooth_depth6_json():
    r = run("count", "--construction", "sawtooth", "--depth", "6", "--width", "10", "--whole", "--json")
    assert json.loads(r.output)["regions"] == 1_771_561


def test_count_random_box_and_verify_and_out(tmp_path):
    out = tmp_path / "c.json"
    r = run("count", "--arch", "1-8-8-1", "--seed", "3", "--box", "-2:2", "--verify", "--json", "--out", str(out))
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["verified"] is True and json.loads(out.read_text()) == rec
    assert rec["domain"]["lo"] == [-2.0]
    r = run("count", "--arch", "1-8-8-1", "--seed", "3")
    assert "regions" in r.output and r.exit_code == 0


def test_weights_file_and_segment(tmp_path):
    import regions

    net = regions.Network.from_arch("5-6-6-1", seed=2)
    net.save(tmp_path / "net.npz")
    np.save(tmp_path / "pts.npy", np.random.default_rng(0).normal(size=(2, 5)))
    r = run("count", "--weights", str(tmp_path / "net.npz"), "--segment", str(tmp_path / "pts.npy"), "--json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    x0, x1 = np.load(tmp_path / "pts.npy")
    assert rec["regions"] == regions.count_line(net, regions.segment(x0, x1)).regions


@pytest.mark.parametrize(
    "args,needle",
    [
        (["--construction", "sawtooth", "--depth", "2", "--width", "2"], "width D >= 3"),
        (["--construction", "zigzag", "--depth", "2", "--width", "4"], "one of sawtooth"),
        (["--arch", "1-5-1", "--box", "3:1"], "LO < HI"),
        (["--arch", "1-5-1", "--box", "a:b"], "numbers"),
        (["--arch", "1-x-1"], "architecture"),
        (["--arch", "1-5-1", "--weights", "x.npz"], "exactly one of"),
        (["--weights", "missing.npz"], "existing"),
        (["--arch", "1-5-1", "--whole", "--box", "0:1"], "at most one domain"),
        (["--construction", "sawtooth", "--depth", "2"], "--depth K and --width D"),
        (["--arch", "1-5-1", "--max-regions", "0"], "--max-regions >= 1"),
    ],
)
def test_bad_input_one_sentence_exit_2(args, needle):
    r = run("count", *args)
    assert r.exit_code == 2
    assert needle in r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("kind", ["pickled", "shape", "nan", "junk"])
def test_bad_weight_files(tmp_path, kind):
    p = tmp_path / "w.npz"
    if kind == "pickled":
        np.savez(p, W0=np.array([None, 1], dtype=object), b0=np.zeros(1))
    elif kind == "shape":
        np.savez(p, W0=np.ones((2, 1)), b0=np.ones(3))
    elif kind == "nan":
        np.savez(p, W0=np.array([[np.inf]]), b0=np.ones(1))
    else:
        p.write_text("hello")
    r = run("count", "--weights", str(p))
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.startswith("Error: expected")
    assert len(r.output.strip().splitlines()) == 1


def test_real_process_exit_code_and_no_traceback(tmp_path):
    bad = tmp_path / "w.npz"
    bad.write_bytes(b"\x00\x01")
    p = subprocess.run([sys.executable, "-m", "regions.cli.main", "count", "--weights", str(bad)],
                       capture_output=True, text=True)
    assert p.returncode == 2
    assert "Traceback" not in p.stderr and "expected" in p.stderr


def test_bound_exact_integers_json():
    r = run("bound", "--input-dim", "10", "--width", "50", "--depth", "5", "--json")
    assert r.exit_code == 0
    rec = json.loads(r.output)
    assert rec["params"] == 10_801
    assert rec["serra_lower"] == 179_562_019_186_562_049_740_867_382_427_559_978_336_256
    assert '"serra_lower": 179562019186562049740867382427559978336256' in r.output
    r = run("bound", "--input-dim", "1", "--widths", "10,10,10,10,10")
    assert "161,051" in r.output and "471" in r.output


@pytest.mark.parametrize("args", [["--input-dim", "2"], ["--input-dim", "2", "--widths", "3,x"],
                                  ["--input-dim", "0", "--width", "3", "--depth", "2"],
                                  ["--input-dim", "2", "--widths", "3", "--width", "3"]])
def test_bound_bad_input(args):
    r = run("bound", *args)
    assert r.exit_code == 2 and "Traceback" not in r.output and "expected" in r.output


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_whole_plane_goes_to_the_polytope_engine(seed):
    import regions
    from regions import theory

    rng = np.random.default_rng(seed)
    D = 7
    net = regions.Network([(rng.normal(size=(D, 2)), rng.normal(size=D)), (rng.normal(size=(1, D)), np.zeros(1))])
    res = regions.count(net, regions.whole(2))
    assert res.engine == "polytope"
    assert res.regions == theory.zaslavsky(D, 2) == 1 + D + D * (D - 1) // 2
    assert res.bounded == (D - 1) * (D - 2) // 2  # C(D-1, 2) bounded cells in general position
    r = run("count", "--arch", "2-8-8-1", "--seed", str(seed), "--whole", "--json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)
    assert rec["bounded"] + rec["unbounded"] == rec["regions"]
