"""regions.sweep and ``regions sweep``: rows, budgets, writers, CLI, the folding construction."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

import regions
from regions import constructions, sweep as S, theory
from regions.cli.main import main

BIG = 179562019186562049740867382427559978336256  # lower bound, 10 inputs, depth 5, width 50


def strip(rows):
    """Rows without the wall time, for equality across runners."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


# ------------------------------------------------------------------ ranges
@pytest.mark.parametrize("text, expected", [
    ("1:5", [1, 2, 3, 4, 5]),
    ("2:50:2", list(range(2, 51, 2))),
    ("3,10,50", [3, 10, 50]),
    ("10:50:10", [10, 20, 30, 40, 50]),
    ("7", [7]),
    ("1:3,10,2", [1, 2, 3, 10]),
    ([4, 2, 4], [2, 4]),
])
def test_parse_range(text, expected):
    assert S.parse_range(text) == expected


@pytest.mark.parametrize("text", ["", "1:x", "5:3", "0:3", "1:5:0", "1:2:3:4", "a", "3,,4", "-2"])
def test_parse_range_refuses(text):
    with pytest.raises(regions.RegionsError, match="expected"):
        S.parse_range(text, name="--depths")


@pytest.mark.parametrize("kwargs", [
    {"mode": "fast"}, {"seeds": 0}, {"init": "kaiming"}, {"domain": "disk"}, {"lo": 1.0, "hi": -1.0},
    {"max_regions": 0}, {"input_dim": 0},
])
def test_make_cells_refuses(kwargs):
    args = {"input_dim": 1, "depths": "1:2", "widths": "3"}
    args.update(kwargs)
    with pytest.raises(regions.RegionsError, match="expected"):
        S.make_cells(args.pop("input_dim"), args.pop("depths"), args.pop("widths"), **args)


def test_cell_seeds_are_deterministic_and_distinct():
    seeds = {S.cell_seed(0, 1, k, w, i) for k in (1, 2) for w in (3, 4) for i in range(5)}
    assert len(seeds) == 20
    assert S.cell_seed(0, 1, 2, 3, 4) == S.cell_seed(0, 1, 2, 3, 4)
    assert S.cell_seed(1, 1, 2, 3, 4) != S.cell_seed(0, 1, 2, 3, 4)


# -------------------------------------------------------------------- rows
def test_default_main_row_is_figure_4_7a():
    (cell,) = S.make_cells(1, [5], [10], seeds=3)
    row = S.run_cell(cell)
    assert row["params"] == 471
    assert row["lower"] == row["upper"] == 161_051
    assert row["construction"] == "sawtooth" and row["construction_count"] == 161_051
    assert row["construction_per_param"] == pytest.approx(161_051 / 471)
    assert len(row["random_counts"]) == 3 and row["init"] == "he"
    assert row["random_min"] <= row["random_mean"] <= row["random_max"] < 161_051  # far below the bound
    assert row["note"] is None


def test_depth_one_has_zaslavsky_and_random_counts_match_count():
    (cell,) = S.make_cells(1, [1], [6], seeds=4, base_seed=7)
    row = S.run_cell(cell)
    assert row["zaslavsky"] == row["lower"] == 7
    counts = []
    for i in range(4):
        seed = S.cell_seed(7, 1, 1, 6, i)
        net = regions.Network.from_arch("1-6-1", init="he", seed=seed)
        counts.append(regions.count(net, regions.box(-1, 1, dim=1)).regions)
    assert row["random_counts"] == counts
    assert row["random_mean"] == pytest.approx(np.mean(counts))
    assert row["random_std"] == pytest.approx(np.std(counts, ddof=1))


def test_bound_mode_exact_big_integers():
    rows = S.sweep(10, "1:5", "10:50:10", mode="bound", jobs=0)
    last = rows[-1]
    assert (last["depth"], last["width"], last["params"]) == (5, 50, 10_801)
    assert last["lower"] == BIG and isinstance(last["lower"], int)
    assert last["upper"] == theory.serra_upper_bound(10, [50] * 5)
    assert last["construction_count"] is None and last["random_mean"] is None
    assert "10,801" in S.format_table(rows)
    assert "179,562,019,186,562,049,740,867,382,427,559,978,336,256" in S.format_table(rows, wide=True)


def test_lower_formula_out_of_regime_is_noted():
    (row,) = S.sweep(10, [5], [10], mode="bound", jobs=0)
    assert row["lower"] is None  # the formula is not a bound below width 3d (it would exceed the upper one)
    assert "3 * input_dim" in row["note"]


def test_construction_refused_up_front_by_budget():
    (cell,) = S.make_cells(1, [5], [10], mode="construct", max_regions=1000)
    row = S.run_cell(cell)
    assert row["construction"] == "sawtooth" and row["construction_count"] is None
    assert "exceed max_regions" in row["note"]


def test_random_counts_stop_at_budget():
    (cell,) = S.make_cells(1, [5], [10], mode="random", seeds=2, max_regions=3)
    row = S.run_cell(cell)
    assert row["random_mean"] is None
    assert "stopped at max_regions" in row["note"]


def test_line_domain_for_high_input_dim():
    (cell,) = S.make_cells(10, [2], [20], mode="random", seeds=3, domain="line")
    row = S.run_cell(cell)
    assert row["domain"] == "line" and len(row["random_counts"]) == 3
    assert row["random_min"] >= 1


# ------------------------------------------------------------------ runners
def test_local_processes_equal_in_process():
    cells = S.make_cells(1, "1:3", "3,5", seeds=3)
    here = sorted(strip(S.LocalRunner(0).run(cells)), key=lambda r: (r["depth"], r["width"]))
    there = sorted(strip(S.LocalRunner(2).run(cells)), key=lambda r: (r["depth"], r["width"]))
    assert here == there


def test_max_seconds_kills_a_cell_and_keeps_going():
    # millions of random counts never finish; the construction (5^2 regions, milliseconds) does,
    # however loaded the machine, and is kept
    slow = S.make_cells(1, [2], [4], seeds=10**7)[0]
    quick = S.make_cells(1, [1], [3], seeds=2)[0]
    rows = {r["depth"]: r for r in S.LocalRunner(1, max_seconds=3).run([slow, quick])}
    assert rows[2]["note"].startswith("stopped after 3 s")
    assert rows[2]["construction_count"] == 25  # (D + 1)^K, finished before the deadline, kept
    assert rows[2]["random_mean"] is None
    assert rows[1]["note"] is None and rows[1]["random_mean"] is not None  # the replacement worker ran it


# ------------------------------------------------------------------ writers
@pytest.mark.parametrize("ext", ["csv", "jsonl", "json"])
def test_writers_round_trip_exact(tmp_path, ext):
    path = tmp_path / f"rows.{ext}"
    rows = S.sweep(10, "4:5", "40,50", mode="bound", jobs=0, out=path)
    back = S.read_rows(path)
    assert strip(back) == strip(rows)
    assert back[-1]["lower"] == BIG
    if ext == "json":
        assert str(BIG) in path.read_text()
    if ext == "csv":
        with open(path) as fh:
            recs = list(csv.DictReader(fh))
        assert int(recs[-1]["lower"]) == BIG


@pytest.mark.parametrize("ext", ["csv", "jsonl"])
def test_half_line_is_ignored_and_resume_completes(tmp_path, ext):
    path = tmp_path / f"rows.{ext}"
    full = S.sweep(1, "1:2", "3:4", seeds=2, jobs=0, out=path)
    text = path.read_text().splitlines(keepends=True)
    # keep the header (csv) and one row, then a line cut by a kill
    keep = text[:2] if ext == "csv" else text[:1]
    path.write_text("".join(keep) + text[-1][:17])
    assert len(S.read_rows(path)) == 1
    seen = []
    again = S.sweep(1, "1:2", "3:4", seeds=2, jobs=0, out=path, resume=True,
                    on_start=lambda todo, done: seen.append((todo, done)))
    assert seen == [(3, 1)]
    assert strip(again) == strip(full)
    assert strip(S.read_rows(path)) == strip(full)


def test_resume_refuses_other_settings(tmp_path):
    path = tmp_path / "rows.jsonl"
    S.sweep(1, "1", "3", seeds=2, jobs=0, out=path)
    with pytest.raises(regions.RegionsError, match="settings"):
        S.sweep(1, "1", "3", seeds=3, jobs=0, out=path, resume=True)


def test_output_suffix_checked(tmp_path):
    with pytest.raises(regions.RegionsError, match=r"\.csv, \.json or \.jsonl"):
        S.sweep(1, "1", "3", mode="bound", jobs=0, out=tmp_path / "rows.txt")


# --------------------------------------------------------------------- plot
def test_plot_returns_artists_and_saves_atomically(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    rows = S.sweep(1, "1:3", "3:5", seeds=2, jobs=0)
    out = S.plot(rows)
    assert len(out["bounds"]) == 3 and len(out["constructions"]) == 3 and len(out["random"]) == 3
    assert "regions" in out["annotation"].get_text()
    for ext in ("png", "svg"):
        S.save_plot(rows, tmp_path / f"fig.{ext}")
        assert (tmp_path / f"fig.{ext}").stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png", "fig.svg"]  # no temp files left


# ---------------------------------------------------------------------- CLI
def test_cli_default_sweep(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["sweep", "--seeds", "2", "-j", "2"])
    assert res.exit_code == 0, res.output
    assert "161,051" in res.output and "471" in res.output
    assert "wrote sweep.csv and sweep.png" in res.output
    rows = S.read_rows(tmp_path / "sweep.csv")
    assert len(rows) == 40
    row = [r for r in rows if (r["depth"], r["width"]) == (5, 10)][0]
    assert (row["params"], row["construction_count"]) == (471, 161_051)


def test_cli_bound_json_exact(tmp_path):
    out = tmp_path / "b.json"
    res = CliRunner().invoke(main, ["sweep", "--input-dim", "10", "--depths", "1:5", "--widths", "10:50:10",
                                    "--mode", "bound", "--out", str(out), "--no-plot", "--wide"])
    assert res.exit_code == 0, res.output
    assert "10,801" in res.output
    assert "179,562,019,186,562,049,740,867,382,427,559,978,336,256" in res.output
    doc = json.loads(out.read_text())
    assert doc["rows"][-1]["lower"] == BIG and doc["sweep"]["mode"] == "bound"


@pytest.mark.parametrize("args, words", [
    (["--depths", "1:x"], "'1:x'"),
    (["--widths", "10:3"], "'10:3'"),
    (["--mode", "fast"], "'fast'"),
    (["--domain", "disk"], "'disk'"),
    (["--out", "rows.txt"], "rows.txt"),
    (["--plot", "fig.gif"], "fig.gif"),
    (["-j", "2", "--scheduler", "tcp://x:1"], "--scheduler"),
])
def test_cli_refuses_with_one_sentence(tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["sweep", "--mode", "bound", *args] if "--mode" not in args else ["sweep", *args])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: expected") and words in lines[0]
    assert not list(tmp_path.iterdir())  # nothing written


# ---------------------------------------------------------------- folding
@pytest.mark.parametrize("depth, width", [(1, 1), (1, 2), (2, 3), (3, 4), (2, 7), (3, 2)])
def test_folding_one_input_counts(depth, width):
    net = constructions.folding(1, [width] * depth)
    expected = constructions.folding_count(1, [width] * depth)
    assert regions.count(net, regions.whole(1)).regions == expected
    assert regions.count(net, regions.box(0, 1, dim=1)).regions == expected
    attains = constructions.folding_attains_bound(1, [width] * depth)
    assert attains == (depth == 1 or width >= 3)
    assert (expected == theory.serra_lower_bound(1, [width] * depth, check=False)) == attains


@pytest.mark.parametrize("widths", [[3], [5], [6, 3], [6, 4], [7, 7, 2], [4, 5], [6, 6, 4]])
def test_folding_two_inputs_counts(widths):
    """Exact count on the cube with the 2-D engine; distinct patterns on a grid where it is missing."""
    net = constructions.folding(2, widths)
    expected = constructions.folding_count(2, widths)
    assert (expected == theory.serra_lower_bound(2, widths, check=False)) == constructions.folding_attains_bound(2, widths)
    try:
        got = regions.count(net, regions.box(0, 1, dim=2)).regions
    except regions.RegionsError:  # 2-D engine not available
        if expected > 200:
            pytest.skip("2-D engine not available; grid check only for small counts")
        g = np.linspace(0.0, 1.0, 600)  # even: the tent's double breakpoint 1/2 is no grid point
        X = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
        got = np.unique(np.packbits(net.patterns(X), axis=1), axis=0).shape[0]
    assert got == expected


def test_folding_refuses_thin_layers():
    with pytest.raises(regions.RegionsError, match="at least 2"):
        constructions.folding(3, [5, 4])


@pytest.mark.parametrize("widths", [[9, 4], [7]])
def test_folding_three_inputs_exact_count(widths):
    net = constructions.folding(3, widths)
    try:
        got = regions.count(net, regions.box(0, 1, dim=3)).regions
    except regions.RegionsError as exc:  # nD engine not available
        pytest.skip(str(exc))
    assert got == constructions.folding_count(3, widths) == theory.serra_lower_bound(3, widths)
