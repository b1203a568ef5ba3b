"""``regions train-digits --residual-blocks N`` and ``regions checkpoints`` on its ``.pt2`` programs.

Independent values: each checkpoint's count along the digits segment (the
1-D op walk, as ``regions checkpoints`` runs it) against the LP walk on the
same segment (a second engine) and against the distinct activation patterns
at 20,001 points along it (a sampling lower bound); the program read back
against the trained model's own forward pass.
"""

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

import regions
from regions.cli.main import main

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")  # the bundled digits


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_residual_run_and_its_checkpoint_series(tmp_path):
    from regions.experiments import workflows
    from regions.interop.fx import load_program
    from regions.model.ops import lower

    run = tmp_path / "res"
    res = _cli("train-digits", "--out-dir", run, "--residual-blocks", 1, "--hidden", 6, "--epochs", 1,
               "--max-steps", 2, "--seed", 1)
    assert res.exit_code == 0, res.output
    assert "64-6x1 residual blocks-10" in res.output
    names = sorted(p.name for p in run.glob("step_*"))
    assert names == ["step_000000.pt2", "step_000002.pt2"]
    config = json.loads((run / "config.json").read_text())
    assert config["residual_blocks"] == 1 and config["hidden"] == [6]

    out = tmp_path / "series.csv"
    res = _cli("checkpoints", run, "--digits", "3,8", "--out", out)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(out.open()))
    assert [r["checkpoint"] for r in rows] == names
    assert all(r["verified"] == "True" for r in rows)

    X, y = workflows.load_digits()
    dom = workflows.data_domain(workflows.pick_points(X, y, digits="3,8"))
    t = np.linspace(dom.lo[0], dom.hi[0], 20001)[:, None]
    pts = dom.to_input(t)
    for row in rows:
        g = load_program(str(run / row["checkpoint"]))
        lp = regions.count(g, dom, engine="lp").regions
        seen = np.unique(np.packbits(lower(g).patterns(pts), axis=1), axis=0).shape[0]
        assert int(row["regions"]) == lp >= seen >= 1
    # the last program is the trained model: the run's own forward pass in float64
    model = torch.export.load(str(run / names[-1])).module()  # exported with a batch of 2
    ref = np.vstack([model(torch.from_numpy(X[i:i + 2]).float()).detach().double().numpy() for i in (0, 2, 4)])
    assert np.abs(g.forward(X[:6]) - ref).max() < 1e-4  # the program runs in float32


def test_force_replaces_a_residual_run(tmp_path):
    run = tmp_path / "res"
    args = ("train-digits", "--out-dir", run, "--residual-blocks", 0, "--hidden", 4, "--epochs", 1,
            "--max-steps", 1)
    assert _cli(*args).exit_code == 0
    again = _cli(*args)
    assert again.exit_code == 2 and "step_000000.pt2" in again.output and "--force" in again.output
    assert _cli(*args, "--force").exit_code == 0
    assert sorted(p.name for p in run.glob("step_*")) == ["step_000000.pt2", "step_000001.pt2"]


@pytest.mark.parametrize("args,message", [
    (["--residual-blocks", "2", "--hidden", "8,8"], "one width in --hidden with --residual-blocks"),
    (["--residual-blocks", "-1"], "--residual-blocks"),
    (["--residual-blocks", "x"], "--residual-blocks"),
])
def test_bad_residual_options_touch_nothing(tmp_path, args, message):
    run = tmp_path / "run"
    res = _cli("train-digits", "--out-dir", run, *args)
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    assert not run.exists()
