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
    # 8 s: a spawned worker's start-up (imports) counts against the deadline on a loaded machine
    rows = {r["depth"]: r for r in S.LocalRunner(1, max_seconds=8).run([slow, quick])}
    assert rows[2]["note"].startswith("stopped after 8 s")
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
    stem = "sweep_d1_depths1-5_widths3-10_all_seeds2"
    assert f"wrote {stem}.csv and {stem}.png" in res.output
    rows = S.read_rows(tmp_path / f"{stem}.csv")
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


# ------------------------------------------- options checked before any file
def _snapshot(folder):
    """Contents and mtimes of the visible files of a folder (lock files are hidden)."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())
            if not p.name.startswith(".")}


@pytest.fixture
def existing(tmp_path, monkeypatch):
    """A folder holding a finished bound sweep a.csv and a figure a.png."""
    monkeypatch.chdir(tmp_path)
    S.sweep(1, "1:2", "3", mode="bound", jobs=0, out=tmp_path / "a.csv")
    (tmp_path / "a.png").write_bytes(b"\x89PNG a figure")
    return tmp_path


BASE = ["sweep", "--mode", "bound", "--depths", "1:2", "--widths", "3", "--out", "a.csv", "--plot", "a.png"]


@pytest.mark.parametrize("resume", [False, True], ids=["force", "resume"])
@pytest.mark.parametrize("args, words", [
    (["-j", "-1"], "-j/--jobs >= 0"),
    (["-j", "-1", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler"),
    (["--max-seconds-per-cell", "0"], "--max-seconds-per-cell"),
    (["--max-seconds-per-cell", "nan"], "--max-seconds-per-cell"),
    (["--max-seconds-per-cell", "-inf"], "--max-seconds-per-cell"),
    (["--scheduler", "tcp://127.0.0.1:1"], "reachable Dask scheduler"),
    (["--scheduler", "tcp://127.0.0.1:x"], "tcp://host:8786"),
    (["--depths", "1:100000000"], "100,000,000"),
    (["--depths", "1:1000", "--widths", "1:100"], "estimated"),
    (["--depths", "100000", "--widths", "1000", "--input-dim", "784"], "estimated"),
    (["--depths", "0:3"], "'0:3'"),
    (["--widths", "5:3"], "'5:3'"),
    (["--seeds", "0"], "--seeds >= 1"),
    (["--input-dim", "0"], "--input-dim >= 1"),
    (["--base-seed", "-1"], "--base-seed"),
    (["--bias", "nan"], "nan"),
    (["--bias", "big"], "'big'"),
    (["--box", ""], "''"),
    (["--box", "1:-1"], "LO < HI"),
    (["--box", "-inf:1"], "finite"),
    (["--max-regions", "0"], "--max-regions >= 1"),
    (["--domain", "plane"], "plane"),
    (["--whole", "--box", "-2:2"], "--box"),
    (["--out", ""], "''"),
    (["--out", "rows.txt"], "rows.txt"),
    (["--plot", "a.gif"], "a.gif"),
    (["--plot", "a.csv"], "two files"),
    (["--resume", "--force"], "--force"),
    (["--no-out", "--resume"], "--no-out"),
])
def test_cli_bad_options_touch_no_file(existing, args, words, resume):
    before = _snapshot(existing)
    # --force or --resume: the options that would let a run replace or extend the files
    extra = [] if {"--resume", "--force"} & set(args) else (["--resume"] if resume else ["--force"])
    res = CliRunner().invoke(main, [*BASE, *args, *extra])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: expected") and words in lines[0], res.output
    assert _snapshot(existing) == before


@pytest.mark.parametrize("args, words", [
    ([], "--force"),                                   # the rows file exists
    (["--out", "b.csv"], "--force"),                  # the figure exists
    (["--out", "b.csv", "--no-plot", "--plot", "a.png"], None),  # --no-plot wins: b.csv written
])
def test_cli_existing_files_need_force_or_resume(existing, args, words):
    before = _snapshot(existing)
    res = CliRunner().invoke(main, [*BASE, *args, "-j", "0"])
    if words is None:
        assert res.exit_code == 0, res.output
        assert set(_snapshot(existing)) == {"a.csv", "a.png", "b.csv"}
        return
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output
    assert _snapshot(existing) == before
    forced = CliRunner().invoke(main, [*BASE, *args, "--force", "-j", "0"])
    assert forced.exit_code == 0, forced.output
    assert S.read_rows(existing / "a.csv") == S.read_rows(existing / "a.csv")  # readable after the replace


def test_cli_rows_to_a_pipe_refused_before_running(tmp_path, monkeypatch):
    """Rows are appended and rewritten: a pipe is refused up front (the figure may go into one)."""
    import os

    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "rows.csv")
    res = CliRunner().invoke(main, ["sweep", "--mode", "bound", "--depths", "1", "--widths", "3", "-j", "0",
                                    "--out", "rows.csv", "--no-plot"])
    assert res.exit_code == 2 and "regular file or a new path" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv"]


def test_cli_figure_into_a_device_is_not_replaced(tmp_path, monkeypatch):
    import os
    import stat

    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["sweep", "--mode", "bound", "--depths", "1", "--widths", "3", "-j", "0",
                                    "--no-out", "--plot", os.devnull])
    assert res.exit_code == 0, res.output
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode) and not list(tmp_path.iterdir())


def test_cli_default_names_keep_the_readme_sweeps_apart(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(main, ["sweep", "--mode", "bound", "-j", "0"])
    second = CliRunner().invoke(main, ["sweep", "--input-dim", "10", "--depths", "1:5", "--widths", "10:50:10",
                                       "--mode", "bound", "-j", "0"])
    assert first.exit_code == second.exit_code == 0
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert names == ["sweep_d10_depths1-5_widths10-50-10_bound.csv", "sweep_d10_depths1-5_widths10-50-10_bound.png",
                     "sweep_d1_depths1-5_widths3-10_bound.csv", "sweep_d1_depths1-5_widths3-10_bound.png"]
    assert len(S.read_rows(tmp_path / names[0])) == 25 and len(S.read_rows(tmp_path / names[2])) == 40
    again = CliRunner().invoke(main, ["sweep", "--mode", "bound"])
    assert again.exit_code == 2 and "--resume" in again.output and "--force" in again.output


@pytest.mark.parametrize("kwargs", [
    {}, {"mode": "random"}, {"seeds": 3}, {"init": "glorot"}, {"bias": "zero"}, {"bias": 0.5}, {"domain": "whole"},
    {"lo": -2.0}, {"hi": 3.0}, {"max_regions": 99}, {"base_seed": 4}, {"depths": "1:3,7"}, {"widths": [3, 9, 20]},
    {"input_dim": 2},
])
def test_default_name_differs_for_every_setting(kwargs):
    base = {"input_dim": 1, "depths": "1:5", "widths": "3:10"}
    args = {**base, **kwargs}
    name = S.default_name(args.pop("input_dim"), args.pop("depths"), args.pop("widths"), **args)
    assert (name == "sweep_d1_depths1-5_widths3-10_all") == (not kwargs)
    assert all(c.isalnum() or c in "._-" for c in name)


# ----------------------------------------------------------------- resume
@pytest.mark.parametrize("key, value", [
    ("input_dim", 2), ("mode", "construct"), ("seeds", 3), ("init", "glorot"), ("bias", "zero"), ("bias", 0.25),
    ("domain", "whole"), ("domain", "segment"), ("lo", -2.0), ("hi", 2.0), ("max_regions", 5), ("base_seed", 9),
])
def test_resume_refuses_every_other_setting(tmp_path, key, value):
    """Every setting of SETTINGS is stored and compared; the file stays as it was, nothing runs."""
    assert {key} <= set(S.SETTINGS)
    path = tmp_path / "rows.jsonl"
    S.sweep(1, "1:2", "3", mode="bound", jobs=0, out=path)
    before = _snapshot(tmp_path)
    args = {"input_dim": 1, "mode": "bound", key: value}
    started = []
    with pytest.raises(regions.RegionsError, match=f"settings to resume, got {key} ") as err:
        S.sweep(args.pop("input_dim"), "1:2", "3", jobs=0, out=path, resume=True, on_start=started.append, **args)
    assert "this run:" in str(err.value) and not started
    assert _snapshot(tmp_path) == before


def test_resume_with_the_same_settings_adds_cells(tmp_path):
    path = tmp_path / "rows.csv"
    S.sweep(1, "1:2", "3", mode="bound", jobs=0, out=path)
    rows = S.sweep(1, "1:3", "3", mode="bound", jobs=0, out=path, resume=True)
    assert [r["depth"] for r in rows] == [1, 2, 3] and [r["depth"] for r in S.read_rows(path)] == [1, 2, 3]
    assert rows[2]["upper"] == theory.serra_upper_bound(1, [3, 3, 3])  # 4^3 = 64


def test_resume_computes_again_the_cells_cut_short(tmp_path):
    """A cell stopped at its deadline is not 'done': --resume (with more time) computes it again."""
    path = tmp_path / "rows.jsonl"
    slow, quick = S.make_cells(1, [5], [10], seeds=3, mode="construct") + S.make_cells(1, [1], [3], mode="construct")
    rows = [S.assemble_row(slow, [], seconds=1.0, interrupted="stopped after 1 s (max_seconds per cell)"),
            S.run_cell(quick)]
    settings = S.settings_of(slow)
    path.write_text("".join(json.dumps({**r, "settings": settings}) + "\n" for r in rows))
    seen = []
    again = S.sweep(1, "1,5", "3,10", seeds=3, mode="construct", jobs=0, out=path, resume=True,
                    on_start=lambda todo, done: seen.append((todo, done)))
    assert seen == [(3, 1)]  # the stopped cell and the two never run; the finished one kept
    row = [r for r in again if (r["depth"], r["width"]) == (5, 10)][0]
    assert row["construction_count"] == 11 ** 5 and row["note"] is None
    assert len(S.read_rows(path)) == 4


GOOD = ('{"input_dim": 1, "depth": 1, "width": 3, "mode": "bound", '
        '"settings": {"input_dim": 1, "mode": "bound", "seeds": 10, "init": "he", "bias": "same", "domain": "box", '
        '"lo": -1.0, "hi": 1.0, "max_regions": 10000000, "base_seed": 0}')


@pytest.mark.parametrize("ext, data, words", [
    ("jsonl", b"not json\n", "bad line 1"),
    ("jsonl", b"\x00\x01\xff\xfe\n", "binary bytes"),
    ("jsonl", b"{\"a\": \"\x00\"}\n", "NUL"),
    ("jsonl", b"[1, 2]\n", "JSON object"),
    ("jsonl", b"7\n", "JSON object"),
    ("jsonl", b'{"input_dim": 1, "depth": "x", "width": 3}\n', "integer depth"),
    ("jsonl", b'{"input_dim": 1, "depth": 1.5, "width": 3}\n', "integer depth"),
    ("jsonl", (GOOD + ', "lower": "12x"}\n').encode(), "integer lower"),
    ("jsonl", (GOOD + ', "upper": true}\n').encode(), "integer upper"),
    ("jsonl", (GOOD + ', "random_counts": [1, "a"]}\n').encode(), "random_counts"),
    ("jsonl", (GOOD + ', "seconds": "slow"}\n').encode(), "number seconds"),
    ("jsonl", (GOOD + ', "note": 5}\n').encode(), "note as text"),
    ("jsonl", b'{"input_dim": 1, "depth": 1, "width": 3, "settings": [1]}\n', "settings"),
    ("csv", b"input_dim,depth,width,lower\n1,1,3,12x\n", "valid lower"),
    ("csv", b"input_dim,depth,width\n1,one,3\n", "valid depth"),
    ("csv", b"a,b\n1,2\n", "header row"),
    ("json", b'{"rows": [1]}', "JSON object"),
    ("json", b'{"rows": {}}', "'rows' list"),
    ("json", b"[", "invalid JSON"),
])
def test_resume_refuses_bad_files_before_computing(tmp_path, ext, data, words):
    path = tmp_path / f"rows.{ext}"
    path.write_bytes(data)
    before = _snapshot(tmp_path)
    started = []
    with pytest.raises(regions.RegionsError, match="expected") as err:
        S.sweep(1, "1:2", "3", jobs=0, seeds=1000, out=path, resume=True, on_start=started.append)
    assert words in str(err.value) and not started
    assert _snapshot(tmp_path) == before
    res = CliRunner().invoke(main, ["sweep", "--depths", "1:2", "--widths", "3", "--out", str(path), "--resume",
                                    "--no-plot", "-j", "0"])
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output
    assert _snapshot(tmp_path) == before


# ------------------------------------------------------------------- locks
@pytest.mark.parametrize("resume", [False, True])
def test_second_writer_is_refused(tmp_path, resume):
    """A sweep finds the rows file locked by another writer: refused, the file unchanged."""
    from regions.core.io import lock_output

    path = tmp_path / "rows.csv"
    S.sweep(1, "1", "3", mode="bound", jobs=0, out=path)
    before = _snapshot(tmp_path)
    with lock_output(path, what="the rows file"):
        with pytest.raises(regions.RegionsError, match="lock"):
            S.sweep(1, "1:2", "3", mode="bound", jobs=0, out=path, resume=resume, force=not resume)
        res = CliRunner().invoke(main, ["sweep", "--mode", "bound", "--depths", "1:2", "--widths", "3", "--out",
                                        str(path), "--no-plot", "--resume" if resume else "--force"])
        assert res.exit_code == 2 and "lock" in res.output
    assert _snapshot(tmp_path) == before
    S.sweep(1, "1:2", "3", mode="bound", jobs=0, out=path, resume=True)  # free again


def test_figure_is_locked_too(tmp_path, monkeypatch):
    from regions.core.io import lock_output

    monkeypatch.chdir(tmp_path)
    with lock_output(tmp_path / "f.png", what="the figure"):
        res = CliRunner().invoke(main, ["sweep", "--mode", "bound", "--depths", "1", "--widths", "3",
                                        "--no-out", "--plot", "f.png"])
    assert res.exit_code == 2 and "lock" in res.output
    assert not (tmp_path / "f.png").exists()


# ------------------------------------------------------------- size guard
@pytest.mark.parametrize("input_dim, depths, widths", [
    (1, "1:4", "3:6"), (3, "1:3", "1:9"), (10, "1:5", "10:50:10"), (2, "7", "2,5"),
])
def test_size_estimate_is_an_upper_estimate(input_dim, depths, widths):
    """The up-front estimate never falls below the bits of the bounds actually computed."""
    ds, ws = S.parse_range(depths), S.parse_range(widths)
    estimate = S.check_size(input_dim, ds, ws)
    actual = sum(theory.serra_upper_bound(input_dim, [w] * k).bit_length() for k in ds for w in ws)
    assert actual <= estimate <= 4 * actual + 8 * len(ds) * len(ws)


@pytest.mark.parametrize("input_dim, depths, widths, words", [
    (1, "1:100000000", "3", "100,000,000"),
    (1, "1:1000", "1:100", "decimal digits"),
    (784, "100000", "1000", "estimated 100,100,000 bits"),
    (784, "1:2000", "1000", "estimated"),
])
def test_size_guard_refuses_up_front(input_dim, depths, widths, words):
    with pytest.raises(regions.RegionsError, match="expected") as err:
        S.make_cells(input_dim, depths, widths, mode="bound")
    assert words in str(err.value)
