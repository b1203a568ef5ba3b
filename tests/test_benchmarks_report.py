"""benchmarks/run_all.py: the report is assembled from one run's JSON (fabricated here; no benchmark runs)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import numpy as np
import pytest

pytest.importorskip("matplotlib")

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run_all.py"
RUN_ID = "20260101T000000+0000"
MACHINE = {"platform": "Linux-test", "cpu_count": 2, "python": "3.x", "numpy": np.__version__,
           "regions": "0.0", "commit": "abc1234", "regioncam": "0.5.2", "relucent": None,
           "loadavg_start": (1.0, 1.0, 1.0), "loadavg_end": (2.0, 1.5, 1.0), "note": "fabricated inputs"}


@pytest.fixture(scope="module")
def run_all() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("run_all_under_test", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop(spec.name, None)


def _line_data() -> list[dict[str, Any]]:
    rows = []
    for n in (100, 1_000, 10_000, 100_000):
        t = 1e-5 * n
        rows.append({"case": f"net {n}", "exact": None,
                     "regions_count": {"regions": n, "seconds": t, "peak_bytes": 10 * n, "note": ""},
                     "regions_partition": {"regions": n, "seconds": 2 * t, "peak_bytes": 20 * n, "note": ""},
                     "regioncam_partition": {"regions": n, "seconds": 3 * t, "peak_bytes": 30 * n, "note": ""}})
    return rows


def _planar_data() -> dict[str, Any]:
    rows = []
    for n in (500, 5_000, 50_000):
        t = 1e-4 * n**1.1
        rows.append({"name": f"2-{n}-1", "ours": {"regions": n, "pieces": n, "layer_counts": [n], "seconds": t,
                                                  "peak_mb": 1.0},
                     "count": {"regions": n, "pieces": n, "layer_counts": [n], "seconds": 0.8 * t, "peak_mb": 1.0},
                     "regioncam": {"regions": n, "seconds": 1.5 * t, "peak_mb": 2.0}})
    return {"generated": "2026-01-01T00:00:00", "quick": False, "rows": rows, "notes": []}


def _polytope_data() -> dict[str, Any]:
    rows = []
    for i, n in enumerate((650, 4_000, 40_000, 300_000)):
        t = 3e-5 * n
        rows.append({"arch": f"3-{i}-1", "domain": "box" if i % 2 == 0 else "whole", "regions": n, "seconds": t,
                     "reference": {"complete": i == 0, "seconds": 5.0, "estimate": 1e3 * t},
                     **({"relucent": {"status": "ok", "regions": n, "seconds": 900 * t}} if i < 2 else {})})
    return {"rows": rows, "total_seconds": 1.0, "slope": 1.0}


def _split_data() -> dict[str, Any]:
    rows = []
    for n in (1_771_561, 214_358_881):
        t = 1e-6 * n
        rows += [{"job": f"sawtooth {n}", "how": how, "regions": n, "seconds": t / sp, "subproblems": 64,
                  "client_rss": 1e8, "worker_rss": 1e8} for how, sp in (("1 process", 1), ("--jobs 1", 0.9),
                                                                         ("--jobs 2", 1.8))]
    return {"rows": rows, "overhead": []}


def _lp_data() -> dict[str, Any]:
    rows = []
    for d, n in ((5, 300), (7, 5_000), (10, 9_500)):
        t = 1e-3 * n
        rows.append({"arch": f"{d}-8-8-1", "domain": "[-1,1]^d",
                     "polytope": {"regions": n, "seconds": 0.5 * t * 2 ** (d - 7)},
                     "lp": {"regions": n, "seconds": t, "lps": n}, "lp_before": {"regions": n, "seconds": 2 * t},
                     "auto": {"regions": n, "seconds": t, "engine": "lp"}})
    return {"rows": rows, "local": [], "quick": False, "before": "abc1234"}


DATA = {"line": _line_data, "planar": _planar_data, "polytope": _polytope_data, "split": _split_data,
        "lp": _lp_data}


def _write_envelopes(folder: Path, run_id: str = RUN_ID, names=("line", "planar", "polytope", "split", "lp")) -> None:
    for name in names:
        env = {"benchmark": name,
               "run": {"id": run_id, "started": "2026-01-01T00:00:00+00:00", "quick": False, "skip_peers": False,
                       "seconds": 12.0, "returncode": 0, "command": ["python", f"benchmarks/bench_{name}.py"],
                       "machine": MACHINE},
               "markdown": f"# {name} table\n\n| a | b |\n|---|---|\n| {name}-cell | 1 |\n",
               "data": DATA[name]()}
        (folder / f"{name}.json").write_text(json.dumps(env))


def test_report_and_figures_from_fabricated_run(run_all, tmp_path):
    _write_envelopes(tmp_path)
    path = run_all.write_report(tmp_path, run_all.NAMES, RUN_ID, MACHINE)
    text = path.read_text()
    assert path == tmp_path / "REPORT.md"
    assert f"`{RUN_ID}`" in text and "`os.cpu_count()` = 2" in text and "regioncam 0.5.2" in text
    assert "Note: fabricated inputs" in text
    for name in run_all.NAMES:
        png = tmp_path / "figures" / f"time_vs_regions_{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
        assert f"](figures/time_vs_regions_{name}.png)" in text
        assert f"### {name} table" in text and f"| {name}-cell | 1 |" in text  # embedded, heading demoted
    # fitted slopes of our engines: exactly 1 (line, polytope) and 1.1 (planar) on these power laws, over the
    # points that took at least 0.05 s
    assert "| line | ours: count_line (count only) | 2 of 4 | 10,000–100,000 | 1.00 |" in text
    assert "| planar | ours: partition_plane (full partition) | 3 of 3 | 500–50,000 | 1.10 |" in text
    assert "| polytope | ours: count_polytope, both domains | 3 of 4 | 4,000–300,000 | 1.00 |" in text
    # ratios peer / ours
    assert "| line | regioncam / ours (count path), counts equal | 3× (median of 4 networks; range 3–3) |" in text
    assert "| polytope | relucent / ours | 900× (median of 2 networks; range 900–900) |" in text
    assert "| polytope | LP search / ours, measured to the end | 256× (one network) |" in text
    assert "| split | one process / --jobs 2 (speed-up), counts equal | 1.8× (median of 2 networks; range 1.8–1.8) |" in text
    assert "| lp | ours: LP engine (count_lp) | 3 of 3 | 300–9,500 | 1.00 |" in text
    assert "| lp | LP engine before / after (`--before`), counts equal | 2× (median of 3 networks; range 2–2) |" in text


def test_report_refuses_another_runs_json(run_all, tmp_path):
    _write_envelopes(tmp_path)
    _write_envelopes(tmp_path, run_id="20250101T000000+0000", names=("planar",))
    with pytest.raises(run_all.StaleResultError, match="not from this run"):
        run_all.write_report(tmp_path, run_all.NAMES, RUN_ID, MACHINE)
    assert not (tmp_path / "REPORT.md").exists()
    # a stand-alone benchmark's JSON (no envelope) is refused too
    (tmp_path / "planar.json").write_text(json.dumps(_planar_data()))
    with pytest.raises(run_all.StaleResultError, match="not written by run_all.py"):
        run_all.write_report(tmp_path, ["planar"], RUN_ID, MACHINE)
    # --report-only: the envelopes must agree with each other
    _write_envelopes(tmp_path, run_id="20250101T000000+0000", names=("planar",))
    assert run_all.main(["--report-only", "--out-dir", str(tmp_path)]) == 2
    assert run_all.main(["--report-only", "--only", "planar", "--out-dir", str(tmp_path)]) == 0
    assert "20250101T000000+0000" in (tmp_path / "REPORT.md").read_text()


def test_failed_benchmark_is_reported(run_all, tmp_path):
    _write_envelopes(tmp_path, names=("line",))
    env = json.loads((tmp_path / "line.json").read_text())
    env["run"]["error"], env["data"], env["markdown"] = "exit status 1: Traceback ... boom", None, ""
    (tmp_path / "line.json").write_text(json.dumps(env))
    text = run_all.write_report(tmp_path, ["line"], RUN_ID, MACHINE).read_text()
    assert "**failed**" in text and "boom" in text


def test_fit_slope(run_all):
    n = np.array([1e2, 1e3, 1e4, 1e5])
    k, c, pts, lo, hi = run_all.fit_slope(n, 1e-3 * n**1.3)  # all slower than 0.05 s: all fitted
    assert k == pytest.approx(1.3) and c == pytest.approx(np.log(1e-3)) and (pts, lo, hi) == (4, 1e2, 1e5)
    t = 1e-5 * n**1.3
    t[:2] = 1e-3  # fixed costs at the small end are left out
    k, c, pts, lo, hi = run_all.fit_slope(n, t)
    assert k == pytest.approx(1.3) and (pts, lo, hi) == (2, 1e4, 1e5)
    assert run_all.fit_slope([10, 100, 1000], [0.01, 0.02, 1.0]) is None  # one point slower than 0.05 s


def test_bench_commands(run_all, tmp_path):
    cmd = run_all.bench_command("planar", tmp_path, True, False, None)
    assert cmd[1].endswith("bench_planar.py") and "--quick" in cmd and cmd[cmd.index("--json") + 1].endswith(
        "planar.json")
    cmd = run_all.bench_command("lp", tmp_path, True, False, None)
    assert cmd[1].endswith("bench_lp.py") and "--quick" in cmd and cmd[cmd.index("--json") + 1].endswith("lp.json")
    cmd = run_all.bench_command("polytope", tmp_path, False, True, "/x/python")
    assert cmd[cmd.index("--relucent") + 1] == "" and "--relucent-python" not in cmd
    env = run_all.bench_env(True, tmp_path)
    out = subprocess.run([sys.executable, "-c", "import regioncam"], env=env, capture_output=True, text=True)
    assert out.returncode != 0 and "hidden by run_all.py" in out.stderr


def test_help():
    out = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "python benchmarks/run_all.py" in out.stdout and "--quick" in out.stdout and "--only" in out.stdout
