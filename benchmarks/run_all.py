"""Run every benchmark and write ``benchmarks/REPORT.md`` with its tables and figures.

Run from the repository root::

    python benchmarks/run_all.py                 # full run, ~8 minutes on 2 cores
    python benchmarks/run_all.py --quick         # smoke test, ~1.5 minutes
    python benchmarks/run_all.py --only line,planar --out-dir /tmp/bench

The five benchmarks (``bench_line.py``, ``bench_planar.py``, ``bench_polytope.py``, ``bench_split.py``,
``bench_lp.py``)
run one after the other, each as its own subprocess writing into a fresh
temporary folder.  When one finishes, its Markdown table and its JSON rows are
copied into ``--out-dir`` (default ``benchmarks/``) as ``<name>.md`` and
``<name>.json``; the JSON is wrapped in an envelope that records this run's
id (its start time), the command and its duration::

    {"benchmark": "line", "run": {"id": "...", "run_started": "...", "seconds": ..., ...},
     "markdown": "<the table>", "data": <what the benchmark wrote>}

``REPORT.md`` and the figures ``figures/time_vs_regions_<name>.png`` (log-log
time against number of regions, one series per engine, with the fitted slope
``k`` of ``time ∝ regions^k`` for our engines) are then built from those
envelopes only, after checking that every one carries this run's id: a table
or a figure can never come from an older file.  ``--report-only`` rebuilds the
report from the envelopes already in ``--out-dir`` (they must all share one
run id).

Peers are optional: regioncam (``pip install regioncam``) for the 1-D and 2-D
benchmarks, relucent (in its own interpreter, ``RELUCENT_PYTHON`` or
``--relucent-python``) and edge subdivision (a checkout named by
``--edge-subdivision`` or ``EDGE_SUBDIVISION``) for the polytope benchmark; the LP-per-region search
(``tests/polytope_reference.lp_bfs``) always runs.  ``bench_lp_peers.py`` (the LP engine vs relucent
and a one-LP-per-candidate search, tens of minutes) runs only when named: ``--only lp_peers``.
``--skip-peers`` hides regioncam from the benchmarks (a module on ``PYTHONPATH`` that fails to
import) and runs no relucent.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import importlib.metadata
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from regions.core.io import write_atomic, write_text_atomic  # noqa: E402

NAMES = ("line", "planar", "polytope", "split", "lp")
#: run only when named in ``--only`` (long: relucent costs seconds per region in high dimension)
OPTIONAL = ("lp_peers",)
TITLES = {"line": "1-D engine (`regions.engines.line`) vs regioncam's Regioncam1D",
          "planar": "2-D engine (`regions.engines.planar`) vs regioncam",
          "polytope": "nD engine (`regions.engines.polytope`) vs edge subdivision, the LP-per-region search "
                      "and relucent",
          "split": "one count split into subproblems, over local worker processes (`regions.count(..., jobs=N)`)",
          "lp": "LP engine (`regions.engines.lp`) vs the vertex engine in growing dimension, R^784 by reduction, "
                "local complexity around digits points",
          "lp_peers": "LP engine vs relucent and a one-LP-per-candidate search (10- to 1000-D boxes, around data)"}
#: points below this time are dominated by fixed costs (process start, set-up) and left out of the fits
MIN_FIT_SECONDS = 0.05


class StaleResultError(RuntimeError):
    """A benchmark's JSON does not belong to the run being reported."""


# ------------------------------------------------------------------ running
@dataclass
class RunInfo:
    """What identifies one run of this script (recorded in every envelope)."""

    id: str
    started: str
    quick: bool
    skip_peers: bool
    command: list[str]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).astimezone()


def _loadavg() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def relucent_python(option: str | None) -> str | None:
    """An interpreter that imports relucent: ``option``, ``$RELUCENT_PYTHON`` or this one (as bench_polytope).

    Parameters
    ----------
    option : str or None
        Interpreter given on the command line.

    Returns
    -------
    str or None
        The first candidate that can ``import relucent``; None when none can.
    """
    for cand in (option, os.environ.get("RELUCENT_PYTHON"), sys.executable):
        if cand and Path(cand).exists() and subprocess.run(
                [cand, "-c", "import relucent"], capture_output=True).returncode == 0:
            return cand
    return None


def peer_versions(relucent_py: str | None) -> dict[str, str | None]:
    """Installed versions of the peers (None: not available to the benchmarks).

    Parameters
    ----------
    relucent_py : str or None
        Interpreter with relucent, from :func:`relucent_python`.

    Returns
    -------
    dict
        ``{"regioncam": version or None, "relucent": version or None}``.
    """
    try:
        rc = importlib.metadata.version("regioncam")
    except importlib.metadata.PackageNotFoundError:
        rc = None
    rel = None
    if relucent_py:
        out = subprocess.run([relucent_py, "-c", "import importlib.metadata as m; print(m.version('relucent'))"],
                             capture_output=True, text=True)
        rel = (out.stdout.strip() if out.returncode == 0 else "") or "installed"
    return {"regioncam": rc, "relucent": rel}


def bench_command(name: str, raw: Path, quick: bool, skip_peers: bool, relucent_py: str | None,
                  edge_subdivision: str | None = None) -> list[str]:
    """The command line that runs benchmark ``name`` with its outputs in folder ``raw``.

    Parameters
    ----------
    name : {"line", "planar", "polytope"}
        Benchmark.
    raw : Path
        Folder for the benchmark's own ``<name>.md`` and ``<name>.json``.
    quick : bool
        Pass ``--quick`` (and, for the polytope benchmark, shorter reference runs).
    skip_peers : bool
        Run no relucent (regioncam is hidden through the environment, see :func:`bench_env`).
    relucent_py : str or None
        Interpreter with relucent, passed to the polytope benchmark.
    edge_subdivision : str or None
        Checkout (or git directory) of relu_edge_subdivision, passed to the polytope benchmark
        (not with ``skip_peers``).

    Returns
    -------
    list of str
    """
    py = sys.executable
    script = str(HERE / f"bench_{name}.py")
    if name == "line":
        cmd = [py, script, "--out", str(raw / "line")]
    elif name == "planar":
        cmd = [py, script, "--out", str(raw / "planar.md"), "--json", str(raw / "planar.json")]
    elif name == "polytope":
        cmd = [py, script, "--out", str(raw / "polytope.md"), "--json", str(raw / "polytope.json")]
        if quick:  # the full reference run and relucent on R^3 alone take ~2 minutes
            cmd += ["--ref-seconds", "1", "--full-ref", "", "--relucent-seconds", "60"]
        if skip_peers:
            cmd += ["--relucent", ""]
        elif quick:
            cmd += ["--relucent", "3-16-16-1:box"]
        if relucent_py and not skip_peers:
            cmd += ["--relucent-python", relucent_py]
        if edge_subdivision and not skip_peers:
            cmd += ["--edge-subdivision", edge_subdivision]
    elif name == "split":
        cmd = [py, script, "--out-dir", str(raw)]
    elif name == "lp":
        cmd = [py, script, "--out", str(raw / "lp.md"), "--json", str(raw / "lp.json")]
    elif name == "lp_peers":
        cmd = [py, script, "--out", str(raw / "lp_peers.md"), "--json", str(raw / "lp_peers.json")]
        cmd += ["--skip-peers"] if skip_peers else (["--relucent-python", relucent_py] if relucent_py else [])
    else:
        raise ValueError(f"unknown benchmark {name!r}; expected one of {', '.join(NAMES)}")
    if quick:
        cmd.append("--quick")
    return cmd


def bench_env(skip_peers: bool, shim_dir: Path) -> dict[str, str]:
    """Environment of a benchmark process; with ``skip_peers``, ``import regioncam`` fails in it.

    Parameters
    ----------
    skip_peers : bool
        Hide regioncam.
    shim_dir : Path
        Folder in which the hiding ``regioncam.py`` is written.

    Returns
    -------
    dict
    """
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    if skip_peers:
        write_text_atomic(shim_dir / "regioncam.py",
                          'raise ImportError("regioncam hidden by run_all.py --skip-peers")\n')
        env["PYTHONPATH"] = os.pathsep.join([str(shim_dir)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def run_benchmark(name: str, cmd: Sequence[str], env: dict[str, str], raw: Path) -> dict[str, Any]:
    """Run one benchmark, echoing its output; return its markdown, data and timings.

    Parameters
    ----------
    name : str
        Benchmark name (the files it writes are ``raw/<name>.md`` and ``raw/<name>.json``).
    cmd : sequence of str
        Command line, from :func:`bench_command`.
    env : dict
        Environment.
    raw : Path
        Empty folder the benchmark writes into.

    Returns
    -------
    dict
        ``started``, ``finished``, ``seconds``, ``returncode``, ``command``, and ``markdown``
        and ``data`` when the run succeeded, else ``error`` (the tail of its output).
    """
    started = _now()
    t0 = time.perf_counter()
    tail: collections.deque[str] = collections.deque(maxlen=40)
    with subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                          cwd=ROOT) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line.rstrip("\n"))
            print(f"[{name}] {line}", end="", flush=True)
        rc = proc.wait()
    out: dict[str, Any] = {"started": started.isoformat(timespec="seconds"),
                           "finished": _now().isoformat(timespec="seconds"),
                           "seconds": round(time.perf_counter() - t0, 1), "returncode": rc,
                           "command": [Path(c).name if c == sys.executable else _rel(c, raw.parent) for c in cmd]}
    md, js = raw / f"{name}.md", raw / f"{name}.json"
    if rc != 0 or not md.exists() or not js.exists():
        out["error"] = (f"exit status {rc}" if rc else "no output files") + ": " + "\n".join(list(tail)[-15:])
        return out
    out["markdown"] = md.read_text()
    out["data"] = json.loads(js.read_text())
    return out


def _rel(arg: str, tmp: Path) -> str:
    """An argument with the repository root and the run's temporary folder ``tmp`` left out (for the record)."""
    for base, prefix in ((tmp, "TMP/"), (ROOT, "")):
        try:
            return prefix + str(Path(arg).relative_to(base))
        except ValueError:
            pass
    return arg


def envelope(name: str, run: RunInfo, result: dict[str, Any]) -> dict[str, Any]:
    """The JSON written to ``<out-dir>/<name>.json``: the benchmark's data stamped with the run.

    Parameters
    ----------
    name : str
        Benchmark.
    run : RunInfo
        This run.
    result : dict
        From :func:`run_benchmark`.

    Returns
    -------
    dict
    """
    meta = {k: v for k, v in result.items() if k not in ("markdown", "data")}
    return {"benchmark": name, "run": {"id": run.id, "run_started": run.started, "quick": run.quick,
                                       "skip_peers": run.skip_peers, "runner": run.command, **meta},
            "markdown": result.get("markdown", ""), "data": result.get("data")}


def load_envelope(path: Path, name: str, run_id: str | None) -> dict[str, Any]:
    """Read ``<name>.json`` and check that it comes from run ``run_id``.

    Parameters
    ----------
    path : Path
        The envelope's file.
    name : str
        Benchmark expected in it.
    run_id : str or None
        The run it must come from; None accepts any run (the caller compares the ids).

    Returns
    -------
    dict

    Raises
    ------
    StaleResultError
        When the file is not an envelope of ``name`` or belongs to another run.
    """
    try:
        env = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise StaleResultError(f"{path}: missing; run python benchmarks/run_all.py") from None
    if not isinstance(env, dict) or env.get("benchmark") != name or "run" not in env or "data" not in env:
        raise StaleResultError(f"{path}: not written by run_all.py (a stand-alone run of bench_{name}.py?)")
    got = env["run"].get("id")
    if run_id is not None and got != run_id:
        raise StaleResultError(f"{path}: from run {got}, not from this run {run_id}")
    return env


# ------------------------------------------------------------------ series
@dataclass
class Series:
    """One engine's points (number of regions, seconds) in one benchmark."""

    label: str
    ours: bool
    regions: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    hollow: list[bool] = field(default_factory=list)  # extrapolated (not measured) points
    fit: bool = True
    style: dict[str, Any] = field(default_factory=dict)

    def add(self, n: Any, sec: Any, hollow: bool = False) -> None:
        """Add a point when both values are positive numbers."""
        if isinstance(n, (int, float)) and isinstance(sec, (int, float)) and n > 0 and sec > 0:
            self.regions.append(float(n))
            self.seconds.append(float(sec))
            self.hollow.append(hollow)


def fit_slope(regions: Sequence[float], seconds: Sequence[float]) -> tuple[float, float, int, float, float] | None:
    """Least-squares fit of ``log t = k log n + c`` over the points that took at least :data:`MIN_FIT_SECONDS`.

    Faster points measure fixed costs (process start, set-up), not growth, and are left out.

    Parameters
    ----------
    regions, seconds : sequence of float
        Points.

    Returns
    -------
    (k, c, points, lowest, highest) or None
        Slope, intercept, number of points fitted and their range of region counts;
        None when fewer than two distinct region counts are that slow.
    """
    n, t = np.asarray(regions, float), np.asarray(seconds, float)
    keep = t >= MIN_FIT_SECONDS
    n, t = n[keep], t[keep]
    if len(np.unique(n)) < 2:
        return None
    k, c = np.polyfit(np.log(n), np.log(t), 1)
    return float(k), float(c), int(n.size), float(n.min()), float(n.max())


def series_line(data: Any) -> list[Series]:
    """Series of the 1-D benchmark (``bench_line.py`` JSON: a list of rows)."""
    cnt = Series("ours: count_line (count only)", True, style={"color": "C0", "marker": "o"})
    par = Series("ours: partition_line (full partition)", True, style={"color": "C2", "marker": "s"})
    rc = Series("regioncam Regioncam1D (float32)", False, style={"color": "C3", "marker": "^"})
    for r in data:
        for s, key in ((cnt, "regions_count"), (par, "regions_partition"), (rc, "regioncam_partition")):
            m = r.get(key) or {}
            s.add(m.get("regions"), m.get("seconds"))
    return [cnt, par, rc]


def series_planar(data: Any) -> list[Series]:
    """Series of the 2-D benchmark (``bench_planar.py --json``: ``{"rows": [...]}``)."""
    cnt = Series("ours: count_plane (count only)", True, style={"color": "C0", "marker": "o"})
    par = Series("ours: partition_plane (full partition)", True, style={"color": "C2", "marker": "s"})
    rc = Series("regioncam (float32)", False, style={"color": "C3", "marker": "^"})
    for r in data["rows"]:
        for s, key in ((cnt, "count"), (par, "ours"), (rc, "regioncam")):
            m = r.get(key) or {}
            s.add(m.get("regions"), m.get("seconds"))
    return [cnt, par, rc]


def series_polytope(data: Any) -> list[Series]:
    """Series of the polytope benchmark (``bench_polytope.py --json``: ``{"rows": [...]}``)."""
    box = Series("ours: count_polytope on [-1,1]^d", True, style={"color": "C0", "marker": "o"})
    whole = Series("ours: count_polytope on R^d", True, style={"color": "C0", "marker": "D"})
    ref = Series("LP-per-region search (HiGHS)", False, fit=False,
                 style={"color": "C1", "marker": "v"})
    rel = Series("relucent (Gurobi LPs)", False, fit=False, style={"color": "C3", "marker": "^"})
    es = Series("edge subdivision (Berzins 2023), box", False, style={"color": "C2", "marker": "s"})
    for r in data["rows"]:
        q = r.get("edge_subdivision") or {}
        if q.get("status") == "ok":
            es.add(q.get("regions"), q.get("seconds"))
        (box if r.get("domain") == "box" else whole).add(r.get("regions"), r.get("seconds"))
        q = r.get("reference") or {}
        ref.add(r.get("regions"), q.get("estimate"), hollow=not q.get("complete", False))
        q = r.get("relucent") or {}
        if q.get("status") == "ok":
            rel.add(q.get("regions"), q.get("seconds"))
    both = Series("ours: count_polytope, both domains", True, regions=box.regions + whole.regions,
                  seconds=box.seconds + whole.seconds, hollow=box.hollow + whole.hollow)
    box.fit = whole.fit = False  # one slope over both domains: the engine is the same
    both.fit, both.style = True, {"color": "C0", "marker": None}
    return [box, whole, both, ref, rel] + ([es] if es.regions else [])


def series_split(data: Any) -> list[Series]:
    """Series of the split benchmark (``bench_split.py``: ``{"rows": [...], "overhead": [...]}``)."""
    one = Series("ours: one process", True, fit=False, style={"color": "C0", "marker": "o"})
    j1 = Series("ours: --jobs 1", True, fit=False, style={"color": "C1", "marker": "s"})
    j2 = Series("ours: --jobs 2", True, fit=False, style={"color": "C2", "marker": "^"})
    for r in data["rows"]:
        s = {"1 process": one, "--jobs 1": j1, "--jobs 2": j2}.get(r.get("how"))
        if s is not None:
            s.add(r.get("regions"), r.get("seconds"))
    return [one, j1, j2]


def series_lp(data: Any) -> list[Series]:
    """Series of the LP benchmark (``bench_lp.py --json``: ``{"rows": [...], "local": [...]}``)."""
    lp = Series("ours: LP engine (count_lp)", True, style={"color": "C0", "marker": "o"})
    vx = Series("ours: vertex engine (count_polytope), same boxes", True, fit=False,
                style={"color": "C2", "marker": "s"})
    for r in data["rows"]:
        lp.add((r.get("lp") or {}).get("regions"), (r.get("lp") or {}).get("seconds"))
        vx.add((r.get("polytope") or {}).get("regions"), (r.get("polytope") or {}).get("seconds"))
    return [lp, vx]


def series_lp_peers(data: Any) -> list[Series]:
    """Series of ``bench_lp_peers.py --json``: ours, the one-LP-per-candidate search, relucent (finished runs)."""
    out = [Series("ours: LP engine (regions.count, engine='lp')", True, style={"color": "C0", "marker": "o"}),
           Series("one LP per candidate (scipy HiGHS)", False, fit=False, style={"color": "C1", "marker": "s"}),
           Series("relucent (Gurobi LPs)", False, fit=False, style={"color": "C3", "marker": "^"})]
    for r in data["rows"]:
        for s, key in zip(out, ("ours", "naive", "relucent")):
            q = r.get(key) or {}
            if q.get("complete", False):
                s.add(q.get("regions"), q.get("seconds"))
    return out


SERIES: dict[str, Callable[[Any], list[Series]]] = {
    "line": series_line, "planar": series_planar, "polytope": series_polytope, "split": series_split,
    "lp": series_lp, "lp_peers": series_lp_peers}


# ------------------------------------------------------------------ ratios
def ratios(name: str, data: Any) -> list[tuple[str, list[float]]]:
    """Per-case ratios peer time / our time (above 1: ours is faster), per comparison.

    Parameters
    ----------
    name : str
        Benchmark.
    data : object
        Its JSON data.

    Returns
    -------
    list of (description, ratios)
    """
    def q(a: Any, b: Any) -> float | None:
        ok = all(isinstance(x, (int, float)) and x > 0 for x in (a, b))
        return a / b if ok else None

    out: list[tuple[str, list[float | None]]] = []
    if name == "line":
        out.append(("regioncam / ours (count path), counts equal",
                    [q(r["regioncam_partition"].get("seconds"), r["regions_count"].get("seconds"))
                     for r in data if r["regioncam_partition"].get("regions") == r["regions_count"].get("regions")]))
        out.append(("regioncam / ours (full partition), counts equal",
                    [q(r["regioncam_partition"].get("seconds"), r["regions_partition"].get("seconds"))
                     for r in data
                     if r["regioncam_partition"].get("regions") == r["regions_partition"].get("regions")]))
    elif name == "planar":
        rows = [r for r in data["rows"] if r.get("regioncam")]
        out.append(("regioncam / ours (count_plane)", [q(r["regioncam"]["seconds"], r["count"]["seconds"])
                                                       for r in rows]))
        out.append(("regioncam / ours (partition_plane)", [q(r["regioncam"]["seconds"], r["ours"]["seconds"])
                                                           for r in rows]))
    elif name == "polytope":
        rows = data["rows"]
        out.append(("LP search / ours, measured to the end",
                    [q(r["reference"]["seconds"], r["seconds"]) for r in rows if r["reference"]["complete"]]))
        out.append(("LP search / ours, incl. extrapolated", [q(r["reference"]["estimate"], r["seconds"])
                                                             for r in rows]))
        out.append(("relucent / ours", [q(r["relucent"]["seconds"], r["seconds"]) for r in rows
                                        if (r.get("relucent") or {}).get("status") == "ok"]))
        out.append(("edge subdivision / ours (box), counts equal",
                    [q(r["edge_subdivision"]["seconds"], r["seconds"]) for r in rows
                     if (r.get("edge_subdivision") or {}).get("status") == "ok"
                     and r["edge_subdivision"].get("regions") == r["regions"]]))
    elif name == "split":
        one = {r["job"]: r for r in data["rows"] if r["how"] == "1 process"}
        for how in ("--jobs 1", "--jobs 2"):
            out.append((f"one process / {how} (speed-up), counts equal",
                        [q(one[r["job"]]["seconds"], r["seconds"]) for r in data["rows"]
                         if r["how"] == how and r["job"] in one and r["regions"] == one[r["job"]]["regions"]]))
    elif name == "lp":
        rows = [r for r in data["rows"] if (r.get("lp") or {}).get("seconds")]
        out.append(("vertex engine / LP engine, counts equal",
                    [q(r["polytope"].get("seconds"), r["lp"]["seconds"]) for r in rows
                     if (r.get("polytope") or {}).get("regions") == r["lp"].get("regions")]))
        out.append(("LP engine before / after (`--before`), counts equal",
                    [q(r["lp_before"].get("seconds"), r["lp"]["seconds"]) for r in rows
                     if (r.get("lp_before") or {}).get("regions") == r["lp"].get("regions")]))
    elif name == "lp_peers":
        for key, desc in (("naive", "one LP per candidate / ours"), ("relucent", "relucent / ours")):
            out.append((desc + ", both finished, counts equal",
                        [q(r[key]["seconds"], r["ours"]["seconds"]) for r in data["rows"]
                         if (r.get(key) or {}).get("complete") and "seconds" in r[key]
                         and r[key].get("regions") == r["ours"].get("regions")]))
    return [(d, [x for x in v if x is not None]) for d, v in out]


# ------------------------------------------------------------------ figures
def plot(name: str, series: list[Series], path: Path, subtitle: str) -> dict[str, tuple]:
    """Draw the log-log figure of time against regions for one benchmark; return the fits of our series.

    Parameters
    ----------
    name : str
        Benchmark.
    series : list of Series
        From ``SERIES[name]``.
    path : Path
        PNG to write (atomically).
    subtitle : str
        Second title line (the run).

    Returns
    -------
    dict
        ``label -> fit_slope(...)`` for every fitted series.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fits: dict[str, tuple] = {}
    fig, ax = plt.subplots(figsize=(7.5, 6.2), dpi=110)
    drawn = False
    for s in series:
        fit = fit_slope(s.regions, s.seconds) if s.fit and len(s.regions) >= 2 else None
        if fit:
            fits[s.label] = fit
        if s.style.get("marker") is None:  # a fit-only series: just its line
            if fit:
                _fit_line(ax, s, fit, s.label)
            continue
        if not s.regions:
            continue
        n, t, h = np.array(s.regions), np.array(s.seconds), np.array(s.hollow, bool)
        colour, marker = s.style["color"], s.style["marker"]
        label = s.label
        if fit and s.ours:
            label += f"  (k = {fit[0]:.2f})"
        if (~h).any():
            ax.scatter(n[~h], t[~h], color=colour, marker=marker, s=42, label=label, zorder=3)
        if h.any():
            ax.scatter(n[h], t[h], facecolors="none", edgecolors=colour, marker=marker, s=42,
                       label=label + ", extrapolated", zorder=3)
        if fit:
            _fit_line(ax, s, fit, None)
        drawn = True
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("number of linear regions (log scale)")
    ax.set_ylabel("wall time, seconds (log scale)")
    ax.set_title(f"{TITLES[name].replace('`', '')}\n{subtitle}", fontsize=9.5)
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    if drawn:  # below the axes: never over the points
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False,
                  title="dashed: least-squares fit, time ∝ regions^k"
                  + ("; hollow: extrapolated, not measured" if any(any(s.hollow) for s in series) else ""),
                  title_fontsize=7.5)
    fig.tight_layout()
    write_atomic(path, lambda fh: fig.savefig(fh, format="png"), binary=True)
    plt.close(fig)
    return fits


def _fit_line(ax: Any, s: Series, fit: tuple, label: str | None) -> None:
    k, c, _, lo, hi = fit  # drawn over the fitted points only
    x = np.geomspace(lo, hi, 20)
    lab = f"{label}: fit k = {k:.2f}" if label else None
    ax.plot(x, np.exp(c) * x**k, ls="--", lw=1.2, color=s.style.get("color", "0.3"), alpha=0.8, label=lab)


# ------------------------------------------------------------------ report
def _demote(md: str, levels: int = 2) -> str:
    """Markdown with every heading ``levels`` deeper (the embedded tables sit under the report's headings)."""
    out = []
    fence = False
    for line in md.splitlines():
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("#"):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out).strip() + "\n"


def _fmt_ratio(v: list[float]) -> str:
    if not v:
        return "–"
    def f(x: float) -> str:
        return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"

    if len(v) == 1:
        return f"{f(v[0])}× (one network)"
    return f"{f(float(np.median(v)))}× (median of {len(v)} networks; range {f(min(v))}–{f(max(v))})"


def _git() -> str:
    """Commit of the working tree (read-only git calls), with a mark when it has changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + (" with uncommitted changes" if dirty else "")


def write_report(out_dir: Path, names: Sequence[str], run_id: str | None = None,
                 machine: dict[str, Any] | None = None) -> Path:
    """Build ``REPORT.md`` and the figures from the envelopes ``<out_dir>/<name>.json`` of one run.

    Parameters
    ----------
    out_dir : Path
        Folder with the envelopes; ``REPORT.md`` and ``figures/`` are written there.
    names : sequence of str
        Benchmarks to report, in order.
    run_id : str or None
        Run the envelopes must come from; None: whichever run the first envelope names (all must agree).
    machine : dict or None
        Header facts recorded by the run (from :func:`machine_facts`); None: taken now.

    Returns
    -------
    Path
        The report.

    Raises
    ------
    StaleResultError
        When an envelope is missing or comes from another run.
    """
    out_dir = Path(out_dir)
    envs: dict[str, dict[str, Any]] = {}
    for name in names:
        env = load_envelope(out_dir / f"{name}.json", name, run_id)
        run_id = env["run"]["id"] if run_id is None else run_id
        envs[name] = env
    if not envs:
        raise ValueError("no benchmark to report")
    first = next(iter(envs.values()))["run"]
    facts = machine or first.get("machine") or machine_facts(None)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(exist_ok=True)
    quick = bool(first.get("quick"))
    lines = [
        "# Benchmark report",
        "",
        "Generated by `python benchmarks/run_all.py" + (" --quick" if quick else "")
        + (" --skip-peers" if first.get("skip_peers") else "") + "` — every table and figure below comes "
        f"from the run `{run_id}` (each benchmark's JSON carries that id; the report is refused otherwise).",
        "",
        "## Machine and run",
        "",
        f"* Date: {first.get('run_started') or first.get('started', run_id)} (run id `{run_id}`){' — **quick** smoke-test sizes' if quick else ''}",
        f"* Machine: {facts.get('platform')}, `os.cpu_count()` = {facts.get('cpu_count')}; Python "
        f"{facts.get('python')}, numpy {facts.get('numpy')}, regions {facts.get('regions')} (commit "
        f"{facts.get('commit')})",
        f"* Peers: regioncam {facts.get('regioncam') or 'not installed'}; relucent "
        f"{facts.get('relucent') or 'not available'}"
        + (" — both hidden from the benchmarks (`--skip-peers`)" if first.get("skip_peers") else ""),
        f"* Load average (1, 5, 15 min) at the start {_load(facts.get('loadavg_start'))}, at the end "
        f"{_load(facts.get('loadavg_end'))}; times are wall-clock, one process per measurement.",
    ]
    if facts.get("note"):
        lines.append(f"* Note: {facts['note']}")
    lines += ["", "| benchmark | wall time of the benchmark | status |", "|---|---:|---|"]
    for name, env in envs.items():
        r = env["run"]
        lines.append(f"| {name} | {r.get('seconds', 0):,.0f} s | "
                     + ("ok" if "error" not in r else "**failed** (see below)") + " |")
    if (out_dir / "revisions.md").exists():
        lines += ["", "Before/after comparisons of the engines against an earlier revision, side by side in their "
                  "own runs (not this one): [`revisions.md`](revisions.md), written by "
                  "`benchmarks/compare_revisions.py`."]
    lines += ["", "## Growth of time with the number of regions", "",
              f"Slope `k` of the least-squares line `log time = k log regions + c` over the points that took at "
              f"least {MIN_FIT_SECONDS:g} s (faster points measure fixed costs, not growth; a series with fewer "
              "than two such points gets no slope); `k = 1` is linear in the number of regions. Ratios are the peer's time divided by ours on the same network "
              "(above 1: ours is faster).", "",
              "| benchmark | series | points fitted | regions fitted (min–max) | k |", "|---|---|---:|---|---:|"]
    fits_all: dict[str, dict[str, tuple]] = {}
    series_all: dict[str, list[Series]] = {}
    for name, env in envs.items():
        if env["data"] is None:
            continue
        series_all[name] = SERIES[name](env["data"])
        sub = f"run {run_id}" + (" (quick)" if quick else "")
        fits_all[name] = plot(name, series_all[name], fig_dir / f"time_vs_regions_{name}.png", sub)
        for s in series_all[name]:
            if s.label in fits_all[name]:
                k, _, npts, lo, hi = fits_all[name][s.label]
                lines.append(f"| {name} | {s.label}{'' if s.ours else ' (peer)'} | {npts} of {len(s.regions)} | "
                             f"{lo:,.0f}–{hi:,.0f} | {k:.2f} |")
    lines += ["", "| benchmark | comparison | ratio |", "|---|---|---|"]
    for name, env in envs.items():
        if env["data"] is None:
            continue
        for desc, v in ratios(name, env["data"]):
            lines.append(f"| {name} | {desc} | {_fmt_ratio(v)} |")
    for name, env in envs.items():
        r = env["run"]
        lines += ["", f"## {name}: {TITLES[name]}", "",
                  f"Command: `{' '.join(r.get('command', []))}` ({r.get('seconds', 0):,.0f} s, "
                  f"started {r.get('started', '?')}).", ""]
        if "error" in r:
            lines += ["**The benchmark failed**; the end of its output:", "", "```", r["error"], "```", ""]
            continue
        lines += [f"![time vs regions, {name}](figures/time_vs_regions_{name}.png)", "",
                  _demote(env.get("markdown") or "(no table)")]
    text = "\n".join(lines).rstrip() + "\n"
    path = out_dir / "REPORT.md"
    write_text_atomic(path, text)
    return path


def _load(v: Any) -> str:
    return "–" if not v else ", ".join(f"{x:.2f}" for x in v)


def machine_facts(relucent_py: str | None, skip_peers: bool = False) -> dict[str, Any]:
    """Facts about the machine and the software, for the report's header.

    Parameters
    ----------
    relucent_py : str or None
        Interpreter with relucent.
    skip_peers : bool
        Peers hidden from the benchmarks (still reported as installed).

    Returns
    -------
    dict
    """
    import regions

    peers = peer_versions(relucent_py)
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "regions": getattr(regions, "__version__", "?"), "commit": _git(), **peers}


# ------------------------------------------------------------------ main
def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller sets (smoke test, ~2 minutes)")
    ap.add_argument("--only", default=",".join(NAMES),
                    help="comma-separated benchmarks to run and report (default: %(default)s)")
    ap.add_argument("--skip-peers", action="store_true",
                    help="hide regioncam and run no relucent (the LP-per-region search still runs)")
    ap.add_argument("--relucent-python", default=None,
                    help="interpreter with relucent (default: $RELUCENT_PYTHON, else this one if it has it)")
    ap.add_argument("--edge-subdivision", default=None, metavar="PATH",
                    help="checkout (or git directory) of arturs-berzins/relu_edge_subdivision for the polytope "
                         "benchmark (default: $EDGE_SUBDIVISION; skipped when neither is given)")
    ap.add_argument("--out-dir", default=str(HERE),
                    help="folder for REPORT.md, figures/ and each benchmark's .md and .json (default: benchmarks/)")
    ap.add_argument("--note", default="", help="a sentence added to the report's header (e.g. the machine was shared)")
    ap.add_argument("--report-only", action="store_true",
                    help="run nothing: rebuild REPORT.md and the figures from the JSON of the last run in --out-dir")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    bad = [n for n in names if n not in NAMES + OPTIONAL]
    if bad or not names:
        ap.error(f"--only: unknown benchmark(s) {', '.join(bad) or '(none given)'}; "
                 f"choose from {', '.join(NAMES + OPTIONAL)}")
    out_dir = Path(args.out_dir).resolve()
    if not out_dir.is_dir():
        ap.error(f"--out-dir: no folder {out_dir}")
    if args.report_only:
        try:
            path = write_report(out_dir, names)
        except StaleResultError as exc:
            print(f"run_all.py: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {path}")
        return 0

    t0 = time.perf_counter()
    start = _now()
    run = RunInfo(id=start.strftime("%Y%m%dT%H%M%S%z"), started=start.isoformat(timespec="seconds"),
                  quick=args.quick, skip_peers=args.skip_peers,
                  command=["benchmarks/run_all.py", *(sys.argv[1:] if argv is None else argv)])
    rpy = None if args.skip_peers else relucent_python(args.relucent_python)
    facts = machine_facts(rpy, args.skip_peers)
    facts.update(loadavg_start=_loadavg(), note=args.note)
    print(f"run {run.id}: {', '.join(names)}{' (quick)' if args.quick else ''}; regioncam "
          f"{facts['regioncam'] or 'absent'}{' (hidden)' if args.skip_peers else ''}, relucent "
          f"{facts['relucent'] or 'absent'}", flush=True)
    failed = []
    with tempfile.TemporaryDirectory(prefix="run_all-") as tmp:
        shim = Path(tmp) / "shim"
        shim.mkdir()
        env = bench_env(args.skip_peers, shim)
        results = {}
        for name in names:
            raw = Path(tmp) / name
            raw.mkdir()
            cmd = bench_command(name, raw, args.quick, args.skip_peers, rpy,
                                os.environ.get("EDGE_SUBDIVISION") if args.edge_subdivision is None
                                else args.edge_subdivision)
            print(f"== {name}: {' '.join(cmd)}", flush=True)
            results[name] = run_benchmark(name, cmd, env, raw)
            if "error" in results[name]:
                failed.append(name)
                print(f"== {name} FAILED: {results[name]['error'][-300:]}", file=sys.stderr, flush=True)
            else:
                print(f"== {name}: {results[name]['seconds']:.0f} s", flush=True)
    facts["loadavg_end"] = _loadavg()
    for name in names:
        res = results[name]
        env_ = envelope(name, run, res)
        env_["run"]["machine"] = facts
        if "markdown" in res:
            write_text_atomic(out_dir / f"{name}.md", res["markdown"])
        write_text_atomic(out_dir / f"{name}.json", json.dumps(env_, indent=1, default=str) + "\n")
    path = write_report(out_dir, names, run.id, facts)
    print(f"wrote {path} and {out_dir / 'figures'} in {time.perf_counter() - t0:.0f} s"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
