"""One vocabulary across subcommands: the README's table is checked against every command's options.

Also the renamed options themselves: `--segment`/`--plane` in slice and checkpoints
(against a direct count on the same segment), `--construction folding` (against
Serra et al.'s lower bound, which it attains), `bound --hidden` (against
`--width`/`--depth` and the old spelling), checkpoints verifying like slice.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

import regions
from regions import theory
from regions.cli.main import COMMANDS, main

README = Path(__file__).resolve().parent.parent / "README.md"


def _options() -> dict[str, set[str]]:
    """command -> its options as listed by --help (hidden ones left out)."""
    ctx = click.Context(main)
    out = {}
    for name in COMMANDS:
        cmd = main.get_command(ctx, name)
        out[name] = {o for p in cmd.params if isinstance(p, click.Option) and not p.hidden
                     for o in (*p.opts, *p.secondary_opts)}
    return out


def _table() -> list[tuple[str, list[str], list[str]]]:
    """(idea, options, commands) of the README's vocabulary table."""
    text = README.read_text()
    section = text[text.index("### One vocabulary"):]
    rows = []
    for line in section.splitlines()[3:]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in ("idea", "---"):
            continue
        opts = [o for o in re.findall(r"`([^`]+)`", cells[1]) for o in o.split("/")]
        cmds = [c.strip() for c in cells[2].split(",")]
        rows.append((cells[0], opts, cmds))
    return rows


OPTIONS = _options()
TABLE = _table()


def test_table_is_read():
    assert len(TABLE) >= 20 and all(opts and cmds for _, opts, cmds in TABLE)


@pytest.mark.parametrize("idea, opts, cmds", TABLE, ids=[r[0][:30] for r in TABLE])
def test_table_row_matches_the_commands(idea, opts, cmds):
    for cmd in cmds:
        assert cmd in OPTIONS, f"{cmd!r} is no subcommand"
        for opt in opts:
            assert opt in OPTIONS[cmd], f"{cmd} --help does not list {opt} ({idea})"
            assert f" {opt}" in CliRunner().invoke(main, [cmd, "--help"]).output


def test_every_shared_option_is_in_the_table():
    """An option used by two subcommands or more means one thing, written down once."""
    listed = {o for _, opts, _ in TABLE for o in opts}
    shared = {o for o in set().union(*OPTIONS.values()) if sum(o in v for v in OPTIONS.values()) >= 2}
    missing = shared - listed - {"--help", "--no-verify", "--no-progress", "--progress"}
    assert not missing, f"options shared by subcommands but missing from the README table: {sorted(missing)}"


@pytest.mark.parametrize("cmd, old", [
    ("slice", "--points"), ("checkpoints", "--points"),       # two or three points: --segment / --plane
    ("bound", "--widths"),                                      # per-layer widths: --hidden
    ("plot", "--whole"), ("plot", "--line"), ("plot", "--segment"),  # always refused: 2-D domains only
])
def test_old_or_refused_spellings_are_not_listed(cmd, old):
    assert old not in OPTIONS[cmd]


# ------------------------------------------------------- the renamed options
def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def net_and_points(tmp_path):
    net = regions.Network.from_arch("5-6-6-2", seed=3)
    net.save(tmp_path / "net.npz")
    pts = np.random.default_rng(1).normal(size=(3, 5))
    np.save(tmp_path / "two.npy", pts[:2])
    np.savez(tmp_path / "three.npz", x0=pts[0], x1=pts[1], x2=pts[2])
    return net, pts, tmp_path


def test_slice_segment_and_plane_files(net_and_points):
    net, pts, folder = net_and_points
    seg = run("slice", "--weights", folder / "net.npz", "--segment", folder / "two.npy", "--json")
    assert seg.exit_code == 0, seg.output
    direct = regions.count(net, regions.segment(pts[0], pts[1])).regions
    assert '"regions": %d' % direct in seg.output
    pl = run("slice", "--weights", folder / "net.npz", "--plane", folder / "three.npz", "--triangle", "--json")
    assert pl.exit_code == 0, pl.output
    direct = regions.count(net, regions.plane_through(*pts, triangle=True)).regions
    assert '"regions": %d' % direct in pl.output


@pytest.mark.parametrize("args, words", [
    (["--segment", "three.npz"], "expected 2 points"),
    (["--plane", "two.npy"], "expected 3 points"),
    (["--segment", "two.npy", "--digits", "3,8"], "exactly one of"),
    (["--points", "two.npy"], "No such option"),
])
def test_slice_point_files_refused(net_and_points, monkeypatch, args, words):
    _, _, folder = net_and_points
    monkeypatch.chdir(folder)
    res = run("slice", "--weights", "net.npz", *args)
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output


def test_checkpoints_verify_by_default_like_slice(net_and_points):
    _, _, folder = net_and_points
    res = run("checkpoints", folder / "net.npz", "--segment", folder / "two.npy")
    assert res.exit_code == 0, res.output
    header, row = res.output.splitlines()[:2]
    assert dict(zip(header.split(","), row.split(",")))["verified"] == "True"
    res = run("checkpoints", folder / "net.npz", "--segment", folder / "two.npy", "--no-verify")
    header, row = res.output.splitlines()[:2]
    assert dict(zip(header.split(","), row.split(",")))["verified"] == "False"


@pytest.mark.parametrize("input_dim, depth, width", [(1, 2, 4), (2, 1, 5), (2, 2, 6), (3, 1, 4)])
def test_count_construction_folding_attains_the_lower_bound(input_dim, depth, width):
    res = run("count", "--construction", "folding", "--input-dim", input_dim, "--depth", depth,
              "--width", width, "--whole", "--json")
    assert res.exit_code == 0, res.output
    assert '"regions": %d' % theory.serra_lower_bound(input_dim, [width] * depth) in res.output


@pytest.mark.parametrize("args, words", [
    (["--construction", "sawtooth", "--input-dim", "2", "--depth", "2", "--width", "3"], "--input-dim 1"),
    (["--arch", "2-3-1", "--input-dim", "2"], "--input-dim only with --construction"),
    (["--construction", "folding", "--input-dim", "0", "--depth", "2", "--width", "3"], ">= 1"),
    (["--construction", "zigzag", "--depth", "2", "--width", "3"], "sawtooth, folding"),
])
def test_count_construction_refusals(args, words):
    res = run("count", *args)
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("args", [["--hidden", "7,7,7"], ["--widths", "7,7,7"], ["--width", "7", "--depth", "3"]])
def test_bound_hidden_and_its_old_spelling(args):
    res = run("bound", "--input-dim", "2", *args, "--json")
    assert res.exit_code == 0, res.output
    assert '"serra_upper": %d' % theory.serra_upper_bound(2, [7, 7, 7]) in res.output


def test_bound_hidden_given_twice_refused():
    res = run("bound", "--input-dim", "2", "--hidden", "3", "--widths", "4")
    assert res.exit_code == 2 and "got both" in res.output


@pytest.mark.parametrize("opt, value", [("--whole", None), ("--line", "two.npy"), ("--segment", "two.npy")])
def test_plot_still_refuses_the_unlisted_domains(net_and_points, monkeypatch, opt, value):
    _, _, folder = net_and_points
    monkeypatch.chdir(folder)
    res = run("plot", "--arch", "2-4-1", opt, *([value] if value else []), "--out", "p.png")
    assert res.exit_code == 2 and res.output.startswith("Error: expected") and "Traceback" not in res.output
    assert not (folder / "p.png").exists()


def test_sweep_init_is_the_same_choice_as_count():
    sweep_init = [p for p in main.get_command(click.Context(main), "sweep").params if p.name == "init"][0]
    count_init = [p for p in main.get_command(click.Context(main), "count").params if p.name == "init"][0]
    assert list(sweep_init.type.choices) == list(count_init.type.choices) == list(regions.model.INIT_SCHEMES)
