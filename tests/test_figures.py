"""Every figure explains itself: labelled axes, titles that say what is counted, legends of what is drawn.

The sweep figure and table are checked on sweeps whose values are known
independently: 11^5 = 161,051 regions for the 1-D depth-5 width-10 cell
(the sawtooth, counted), and Serra et al.'s lower bound for 10 inputs,
depth 5, width 50 (a 42-digit integer, also in test_theory).
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest
from matplotlib.figure import Figure

import regions
from regions import plotting, sweep as S
from regions.experiments.report import MAX_COLUMNS, format_table
from regions.plot.style import figure_style
from regions.plot.sweep import plot_sweep, save_sweep_plot

BIG = 179562019186562049740867382427559978336256  # Serra lower bound, 10 inputs, depth 5, width 50


def _ax():
    return Figure(figsize=(6, 4.5)).add_subplot()


@pytest.fixture(scope="module")
def part2():
    return regions.partition(regions.Network.from_arch("2-8-8-1", seed=0))


@pytest.fixture(scope="module")
def part_plane():
    x = np.random.default_rng(0).normal(size=(3, 10))
    return regions.partition(regions.Network.from_arch("10-8-8-1", seed=1), regions.plane_through(*x))


def _draw(kind, part):
    ax = _ax()
    if kind == "partition":
        plotting.plot_partition(part, ax)
    elif kind == "pieces":
        plotting.plot_partition(part, ax, color="piece")
    elif kind == "edges":
        plotting.plot_edges(part, ax)
    elif kind == "output":
        plotting.plot_output(part, ax, colorbar=True)
    elif kind == "boundary":
        plotting.plot_decision_boundary(part, ax)
    return ax


# what the title must say is counted, per function
TITLE_WORDS = {"partition": "regions", "pieces": "affine pieces", "edges": "regions", "output": "regions",
               "boundary": "decision boundary"}


@pytest.mark.parametrize("where", ["part2", "part_plane"])
@pytest.mark.parametrize("kind", sorted(TITLE_WORDS))
def test_partition_figures_are_labelled(kind, where, request):
    part = request.getfixturevalue(where)
    ax = _draw(kind, part)
    xl, yl = ax.get_xlabel(), ax.get_ylabel()
    assert xl and yl
    if where == "part2":  # the inputs and their range
        assert "x_1" in xl and "[-1, 1]" in xl and "x_2" in yl
    else:  # plane coordinates
        assert xl.startswith("$u$") and yl.startswith("$v$")
    title = ax.get_title()
    assert TITLE_WORDS[kind] in title and part.network.arch in title
    assert ("[-1, 1]" in title) if where == "part2" else ("plane through 3 points" in title)
    if kind in ("partition", "edges", "output"):
        assert f"{part.n_regions} " in title
    if kind == "pieces":
        assert f"{part.n_pieces} affine pieces" in title


def test_user_labels_are_kept(part2):
    ax = _ax()
    ax.set_xlabel("mine")
    ax.set_title("my title")
    plotting.plot_partition(part2, ax)
    assert ax.get_xlabel() == "mine" and ax.get_title() == "my title" and ax.get_ylabel()


def test_output_colorbar_and_boundary_legend(part2):
    ax = _ax()
    arts = plotting.plot_output(part2, ax, colorbar=True)
    assert arts[-1].ax.get_ylabel() == "network output 0"
    coll = plotting.plot_decision_boundary(part2, ax, level=0.5)
    ax.legend()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["decision boundary: output 0 = 0.5"]
    assert coll.get_label() == "decision boundary: output 0 = 0.5"


def test_layers_panels_labelled():
    net = regions.Network.from_arch("2-6-6-6-1", seed=2)
    fig = Figure(figsize=(9, 3))
    axes = fig.subplots(1, 3)
    plotting.plot_layers(net, axes=axes)
    counts = regions.partition(net).layer_counts
    for k, ax in enumerate(axes, 1):
        assert ax.get_xlabel() and ax.get_ylabel()
        assert f"after hidden layer {k} of 2-6-6-6-1" in ax.get_title()
        assert f"{counts[k - 1]} regions" in ax.get_title()


# -------------------------------------------------------------- sweep figure
@pytest.fixture(scope="module")
def sweeps():
    return {
        "all-1d": S.sweep(1, "1:5", "3,10", seeds=2, jobs=0),
        "bound-10d": S.sweep(10, "1:5", "10:50:10", mode="bound", jobs=0),
        "random-2d": S.sweep(2, "1:2", "4,6", mode="random", seeds=2, jobs=0),
        "construct-2d": S.sweep(2, "1:2", "6", mode="construct", jobs=0),
    }


# name -> kinds of things the legend must list (and nothing else but the depths)
EXPECTED = {
    "all-1d": {"maximum on", "bound-attaining", "random networks"},
    "bound-10d": {"lower bound on", "upper bound on"},
    "random-2d": {"lower bound on", "upper bound on", "random networks"},
    "construct-2d": {"lower bound on", "upper bound on", "bound-attaining"},
}


def _tick_boxes_overlap(fig, axis) -> bool:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = sorted((t.get_window_extent(renderer) for t in axis.get_ticklabels(which="both")
                    if t.get_visible() and t.get_text()), key=lambda b: b.x0)
    return any(a.x1 > b.x0 + 0.5 for a, b in zip(boxes, boxes[1:])) if axis.axis_name == "x" else \
        any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sweep_figure_legend_lists_what_is_drawn(name, sweeps):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rows = sweeps[name]
    fig = Figure(figsize=(7.2, 5.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    with figure_style():
        out = plot_sweep(rows, ax=ax)
    labels = [t.get_text() for t in out["legend"].get_texts()]
    depths = sorted({r["depth"] for r in rows})
    assert labels[:len(depths)] == [f"{k} hidden layer" + ("s" if k > 1 else "") for k in depths]
    kinds = labels[len(depths):]
    assert kinds == out["kinds"]
    found = {w for w in ("maximum on", "lower bound on", "upper bound on", "bound-attaining", "random networks")
             if any(k.startswith(w) for k in kinds)}
    assert found == EXPECTED[name]
    # each listed kind is drawn, and each drawn kind is listed
    assert bool(out["constructions"]) == ("bound-attaining" in found)
    assert bool(out["random"]) == ("random networks" in found)
    assert bool(out["upper"]) == ("upper bound on" in found)
    assert ax.get_xlabel().startswith("parameters") and "regions" in ax.get_ylabel()
    title = ax.get_title()
    assert "regions" in title and f"({rows[0]['input_dim']} input" in title
    assert ("nothing counted" in title) == (name == "bound-10d")
    if out["random"]:
        assert "counted on [-1, 1]" in " ".join(kinds)  # the random counts' domain is stated
    # bounds annotated as bounds, counts as counts
    note = out["annotation"].get_text()
    assert ("counted" in note) == bool(out["constructions"])
    assert ("bound" in note) == (not out["constructions"])
    # readable log ticks: no minor labels, no overlapping labels
    for axis in (ax.xaxis, ax.yaxis):
        assert not any(t.get_text() for t in axis.get_ticklabels(which="minor"))
        assert not _tick_boxes_overlap(fig, axis)


def test_sweep_figure_numbers_are_the_known_values(sweeps):
    out = plot_sweep(sweeps["all-1d"], ax=_ax())
    assert out["annotation"].get_text() == "471 params\n161,051 regions, counted"  # 11^5, the sawtooth
    out = plot_sweep(sweeps["bound-10d"], ax=_ax())
    assert out["annotation"].get_text() == f"10,801 params\nlower bound: {float(BIG):.2g} regions"


def test_save_sweep_plot_leaves_global_state_alone(sweeps, tmp_path):
    import matplotlib

    before = (matplotlib.get_backend(), dict(matplotlib.rcParams))
    save_sweep_plot(sweeps["bound-10d"], tmp_path / "f.svg")
    assert (tmp_path / "f.svg").stat().st_size > 1000
    assert (matplotlib.get_backend(), dict(matplotlib.rcParams)) == before
    with figure_style(font_size=13.0):
        assert matplotlib.rcParams["font.size"] == 13.0
    assert matplotlib.rcParams["font.size"] == before[1]["font.size"]


# -------------------------------------------------------------------- table
TABLE_CASES = {
    "default": dict(input_dim=1, depths="1:5", widths="3:10", seeds=2),
    "input-dim-2": dict(input_dim=2, depths="1:4", widths="2:8:2", seeds=2),
    "bound-10d": dict(input_dim=10, depths="1:5", widths="10:50:10", mode="bound"),
    "random-plane-10d": dict(input_dim=10, depths="1:2", widths="10,30", mode="random", domain="plane", seeds=2),
}


@pytest.fixture(scope="module")
def tables():
    return {k: S.sweep(v.pop("input_dim"), v.pop("depths"), v.pop("widths"), jobs=0, **v)
            for k, v in {k: dict(v) for k, v in TABLE_CASES.items()}.items()}


@pytest.mark.parametrize("name", sorted(TABLE_CASES))
def test_table_fits_and_explains_itself(name, tables):
    rows = tables[name]
    text = format_table(rows)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= MAX_COLUMNS
    header = next(line for line in lines if line.startswith("depth  width"))
    shown = header.split()
    # every column shown is explained once in the legend (lines "name  meaning" after the table)
    legend = [line.split()[0] for line in lines[lines.index(header) + 1:] if line and line[0].isalpha()]
    for head in shown:
        for key in head.replace("(", "").replace(")/param", "/param").split("="):
            key = key if key in legend else key + "/param"  # (lower=constr)/param
            assert legend.count(key) == 1, (key, text)
    assert f"mode {rows[0]['mode']}:" in lines[0]
    # notes numbered once each, every reference resolved
    notes = [line for line in lines if line.startswith("[")]
    assert len(notes) == len(set(n.split("] ", 1)[1] for n in notes))
    refs = {int(i) for line in lines if re.fullmatch(r" *\d.*\[[\d,]+\]", line)
            for i in line.rsplit("[", 1)[1].rstrip("]").split(",")}
    assert refs == set(range(1, len(notes) + 1))


def test_table_collapses_equal_columns_and_keeps_exact_values(tables):
    text = format_table(tables["default"])
    assert "lower=upper=constructed" in text and "161,051" in text
    assert "columns equal in every row, shown once: lower=upper=constructed" in text
    narrow = format_table(tables["bound-10d"])
    assert "1.796e+41" in narrow and f"{BIG:,}" not in narrow and "--wide" in narrow
    wide = format_table(tables["bound-10d"], wide=True)
    assert f"{BIG:,}" in wide and "lower/param" in wide and max(map(len, wide.splitlines())) > MAX_COLUMNS


def test_table_does_not_change_the_rows_file(tables, tmp_path):
    rows = S.sweep(10, "5", "50", mode="bound", jobs=0, out=tmp_path / "rows.csv")
    format_table(rows)
    with open(tmp_path / "rows.csv", newline="") as fh:
        data = list(csv.DictReader(fh))
    assert list(data[0]) == list(S.COLUMNS)
    assert int(data[0]["lower"]) == BIG


@pytest.mark.parametrize("args", [[], ["--input-dim", "2", "--depths", "1:3", "--widths", "2:6:2"],
                                  ["--mode", "bound", "--input-dim", "10", "--depths", "1:5",
                                   "--widths", "10:50:10"]])
def test_cli_sweep_table_fits(args, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from regions.cli.main import main

    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["sweep", "--seeds", "2", "-j", "0", "--no-out", "--no-plot", *args])
    assert res.exit_code == 0, res.output
    assert max(len(line) for line in res.output.splitlines()) <= MAX_COLUMNS
    wide = CliRunner().invoke(main, ["sweep", "--seeds", "2", "-j", "0", "--no-out", "--no-plot", "--wide", *args])
    assert wide.exit_code == 0, wide.output
    if "--mode" in args:
        assert f"{BIG:,}" in wide.output
