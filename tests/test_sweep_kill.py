"""A sweep killed with SIGKILL mid-run loses no finished row and leaves no corrupt line; --resume completes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from regions import sweep as S

ARGS = ["--depths", "1:5", "--widths", "3:10", "--seeds", "60", "-j", "2", "--no-plot"]


def strip(rows):
    return [{k: v for k, v in r.items() if k not in ("seconds", "settings")} for r in rows]


def complete_lines(path):
    data = path.read_bytes() if path.exists() else b""
    return data[: data.rfind(b"\n") + 1].decode().splitlines()


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
@pytest.mark.parametrize("ext", ["jsonl", "csv"])
def test_sigkill_then_resume(tmp_path, ext):
    out = tmp_path / f"sweep.{ext}"
    cmd = [sys.executable, "-m", "regions.cli.main", "sweep", *ARGS, "--out", str(out)]
    header = 1 if ext == "csv" else 0
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while len(complete_lines(out)) < header + 4 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the sweep finished before it could be killed: make it longer"
        os.killpg(proc.pid, signal.SIGKILL)  # the command and its worker processes
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # every line written is whole and parses; the file ends with a newline
    data = out.read_bytes()
    assert data.endswith(b"\n")
    lines = data.decode().splitlines()
    if ext == "jsonl":
        kept = [json.loads(line) for line in lines]
    else:
        assert lines[0].split(",") == list(S.COLUMNS)
        kept = S.read_rows(out)
    assert 4 <= len(kept) < 40
    keys = [(r["depth"], r["width"]) for r in kept]
    assert len(set(keys)) == len(keys)

    res = subprocess.run(cmd + ["--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert f"resuming: {len(kept)} of 40 cells already in" in res.stderr
    rows = S.read_rows(out)
    assert [(r["depth"], r["width"]) for r in rows] == [(k, w) for k in range(1, 6) for w in range(3, 11)]
    # the rows kept from before the kill are unchanged, and equal a fresh computation
    before = {(r["depth"], r["width"]): r for r in strip(kept)}
    after = {(r["depth"], r["width"]): r for r in strip(rows)}
    assert all(after[k] == v for k, v in before.items())
    fresh = strip(S.LocalRunner(0).run(S.make_cells(1, [5], [10], seeds=60)))
    assert after[(5, 10)] == fresh[0]


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_ctrl_c_stops_cleanly(tmp_path):
    out = tmp_path / "sweep.jsonl"
    cmd = [sys.executable, "-m", "regions.cli.main", "sweep", *ARGS, "--out", str(out)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while len(complete_lines(out)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the sweep finished before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal sends to the foreground group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    assert all(json.loads(line) for line in out.read_text().splitlines())


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
@pytest.mark.parametrize("second", [["--resume"], ["--force"], ["--out", "other.jsonl"]])
def test_two_sweeps_at_once_second_refused(tmp_path, second):
    """Two processes: while one sweep writes sweep.jsonl, a second one on the same rows (or figure) refuses."""
    out = tmp_path / "sweep.jsonl"
    first = [sys.executable, "-m", "regions.cli.main", "sweep", "--depths", "1:5", "--widths", "3:10",
             "--seeds", "200", "-j", "0", "--out", str(out), "--plot", "fig.png"]
    proc = subprocess.Popen(first, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not complete_lines(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the first sweep finished too early"
        before = out.read_bytes()
        # "--out other.jsonl" keeps the first run's figure fig.png: that is locked too
        args = [a for a in first if a not in ("--out", str(out))] if "--out" in second else first
        res = subprocess.run([*args, *second], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert proc.poll() is None, "the first sweep finished while the second ran: make it longer"
        assert res.returncode == 2, res.stderr
        assert "lock" in res.stderr and "Traceback" not in res.stderr
        assert out.read_bytes().startswith(before)  # the first run's rows untouched (it keeps appending)
        assert not (tmp_path / "other.jsonl").exists()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
