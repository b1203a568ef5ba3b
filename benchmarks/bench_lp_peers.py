"""Benchmark of the LP engine against its peers: relucent and a one-LP-per-candidate search.

Three tools count the activation regions meeting the same cube (a box
``[c - h, c + h]^d``) for the same He-initialised networks (``Network.from_arch``,
seed 0), each in a fresh process (peak memory = the maximum resident set size
of that process and its children):

* **ours**: ``regions.count(net, box, engine="lp")``, the LP engine (HiGHS
  through ``highspy``, depth-first split tree with screens);
* **LP per candidate**: :func:`lp_per_candidate`, written here as an
  independent reference: breadth-first search over the region adjacency graph
  from the region of the cube's centre; for every known region and every
  hidden unit, the pattern with that unit flipped is a candidate, and one
  Chebyshev LP (``scipy.optimize.linprog``, HiGHS; the cube as variable
  bounds) decides whether it has an interior in the cube.  Adjacent regions of
  a generic network differ in exactly one unit (a facet lies on one bent
  hyperplane), so the search is exact for generic weights; it is the naive
  method (about ``n_hidden`` LPs per region);
* **relucent** (PyPI ``relucent``, AGPL, run only here, in its own interpreter,
  never imported by the package): ``Complex(convert(layers)).bfs(start=0,
  cube_radius=h, cube_mode="clipped", nworkers=1)`` on the network shifted so
  that the cube is centred at the origin (relucent's cube is ``[-r, r]^d``;
  the first bias becomes ``b1 + W1 c``).  It walks the dual graph of the
  complex with Gurobi LPs (gurobipy's licence-free, size-limited mode).
  Because relucent costs seconds per region in high dimension, it is first run
  on ``--probe`` regions (``max_polys``); the full search runs only when that
  probe's rate (start-up included) predicts it ends within ``--relucent-seconds``
  or ours counts at most :data:`SMALL` regions (otherwise the table gives the measured rate and the projected time, marked ``~``).

The one-LP-per-candidate search stops after ``--cpu-limit`` CPU seconds (CPU,
not wall: the machine may be shared); a stopped search gives the regions found
and an extrapolated CPU ratio (``~``).  Every measurement is killed after
``--limit`` wall-clock seconds.

Cases: ``10-8-8-1`` and ``12-8-8-1`` on ``[-1, 1]^d``, ``64-8-8-10`` on the
digits box ``[0, 1]^64``, ``784-8-6-10`` on ``[0, 1]^784``, boxes of radius
0.02 around a digits point (``64-16-16-10``) and of radius 0.05 around a
28x28 upsampled digit (``784-8-6-10``), a small ``5-8-8-1`` where every tool
finishes, and ``1000-8-1`` to show where licence-free Gurobi stops.  The
regions columns must agree wherever two tools finish; the JSON records
whether they do.

Relucent is optional: without an interpreter that imports it (``--relucent-python``,
``$RELUCENT_PYTHON`` or this one) its columns say why they are empty.

Writes ``--out`` (default ``benchmarks/lp_peers.md``) and the rows as JSON with
``--json``; ``benchmarks/run_all.py --only lp_peers`` runs it.

Usage::

    python benchmarks/bench_lp_peers.py --json benchmarks/lp_peers.json
    python benchmarks/bench_lp_peers.py --quick     # a minute: small cases only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from regions.core.io import write_text_atomic  # noqa: E402

#: CPU seconds of the one-LP-per-candidate search per case (``--cpu-limit``; CPU, not wall: the machine may be shared).
CPU_LIMIT = 30.0
#: relucent's full search always runs where ours counts at most this many regions.
SMALL = 500
#: Chebyshev radius (in units of the cube's half-side) above which a candidate region has an interior.
RADIUS_TOL = 1e-9


# ---------------------------------------------------------------- the one-LP-per-candidate search
def _affine_maps(layers, pattern: np.ndarray):
    """Pre-activations of every hidden unit as affine maps of the input, under ``pattern``: ``(A, c)``."""
    rows, offs = [], []
    A, c = layers[0]
    i = 0
    for l in range(len(layers) - 1):
        rows.append(A)
        offs.append(c)
        n = A.shape[0]
        on = pattern[i:i + n]
        i += n
        W, b = layers[l + 1]
        A, c = W @ (on[:, None] * A), W @ (on * c) + b
    return np.vstack(rows), np.concatenate(offs)


def chebyshev(layers, pattern: np.ndarray) -> tuple[float, np.ndarray | None]:
    """Largest ``t <= 1`` with a ball of radius ``t`` in ``{u in [-1, 1]^d : every unit in its state}``.

    ``layers`` act on normalised coordinates ``u``; one ``scipy.optimize.linprog``
    (HiGHS) call.  Rows are normalised; a unit with a zero gradient is
    active iff its constant is > 0 (a pattern giving it the other state is empty).
    Returns ``(t, u)`` (``t = -inf`` and ``u = None`` when empty).
    """
    from scipy.optimize import linprog  # noqa: PLC0415

    A, c = _affine_maps(layers, pattern)
    d = A.shape[1]
    norm = np.linalg.norm(A, axis=1)
    scale = np.abs(A).sum(axis=1) + np.abs(c)
    flat = norm <= 1e-12 * np.where(scale > 0, scale, 1.0)
    if np.any(flat & ((c > 0) != pattern)):
        return -np.inf, None
    keep = ~flat
    s = np.where(pattern[keep], 1.0, -1.0)
    An, cn = A[keep] / norm[keep, None], c[keep] / norm[keep]
    # active: a.u + c >= t  ->  -a.u + t <= c ; inactive: a.u + c <= -t  ->  a.u + t <= -c
    A_ub = np.hstack([-s[:, None] * An, np.ones((An.shape[0], 1))])
    b_ub = s * cn
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, bounds=[(-1.0, 1.0)] * d + [(0.0, 1.0)], method="highs")
    if res.status == 2:
        return -np.inf, None
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    return float(-res.fun), res.x[:d]


def lp_per_candidate(net, centre: np.ndarray, half: float, *, time_limit: float | None = None,
                     clock=time.perf_counter) -> dict:
    """Regions meeting the cube ``[centre - half, centre + half]`` by one LP per candidate pattern.

    Breadth-first over the region adjacency graph (one unit flipped per
    step), starting from the region of the centre (or of a seeded random
    point of the cube if the centre's region is too thin).  Exact for generic
    networks (adjacent regions differ in one unit).

    Returns
    -------
    dict
        ``regions`` (found), ``lps``, ``seconds``, ``complete`` (False when
        ``time_limit`` stopped it; measured on ``clock``, e.g. ``time.process_time``
        for CPU seconds), ``patterns`` (list of packed bytes).
    """
    t0 = time.perf_counter()
    c0 = clock()
    centre = np.asarray(centre, dtype=np.float64)
    (W0, b0), rest = net.layers[0], list(net.layers[1:])
    layers = [(W0 * half, b0 + W0 @ centre)] + rest
    rng = np.random.default_rng(0)
    lps, start = 0, None
    for trial in range(100):
        u = np.zeros(centre.shape[0]) if trial == 0 else rng.uniform(-1.0, 1.0, centre.shape[0])
        p = net.patterns((centre + half * u)[None])[0]
        lps += 1
        if chebyshev(layers, p)[0] > RADIUS_TOL:
            start = p
            break
    if start is None:
        raise RuntimeError("no interior start point found")
    seen = {np.packbits(start).tobytes()}
    queue = deque([start])
    complete = True
    while queue:
        if time_limit is not None and clock() - c0 > time_limit:
            complete = False
            break
        p = queue.popleft()
        for j in range(p.shape[0]):
            q = p.copy()
            q[j] = ~q[j]
            key = np.packbits(q).tobytes()
            if key in seen:
                continue
            lps += 1
            if chebyshev(layers, q)[0] > RADIUS_TOL:
                seen.add(key)
                queue.append(q)
    return {"regions": len(seen), "lps": lps, "seconds": time.perf_counter() - t0, "complete": complete,
            "patterns": sorted(seen)}


# ---------------------------------------------------------------- cases and child processes
def _centre(case: dict) -> tuple[np.ndarray, float]:
    """Centre and half-side of a case's cube."""
    d = int(case["arch"].split("-")[0])
    if case["where"] == "box":
        return np.full(d, 0.5 * (case["lo"] + case["hi"])), 0.5 * (case["hi"] - case["lo"])
    from sklearn.datasets import load_digits  # noqa: PLC0415 -- bundled with scikit-learn, no download

    x = load_digits().data[case["point"]] / 16.0
    if d == 784:  # the 8x8 digit upsampled to 24x24 (3x3 blocks) and padded to 28x28, like an MNIST image
        x = np.pad(np.kron(x.reshape(8, 8), np.ones((3, 3))), 2).ravel()
    return x, float(case["radius"])


_CHILD = r"""
import json, resource, sys, time
job = json.loads(sys.argv[1])
sys.path.insert(0, job["root"])
sys.path.insert(0, job["root"] + "/benchmarks")
import numpy as np
from regions import Network, box
import bench_lp_peers as B
case = job["case"]
net = Network.from_arch(case["arch"], seed=0)
c, h = B._centre(case)
tool = job["tool"]
t, cpu = time.perf_counter(), time.process_time()
if tool == "ours":
    import regions
    res = regions.count(net, box(c - h, c + h, dim=net.input_dim), engine="lp")
    out = {"regions": int(res.regions), "lps": int(res.extra["lps"]), "complete": not res.partial}
elif tool == "naive":
    r = B.lp_per_candidate(net, c, h, time_limit=job["cpu_limit"], clock=time.process_time)
    out = {k: r[k] for k in ("regions", "lps", "complete")}
else:
    from relucent import Complex, convert
    layers = [(W.copy(), b.copy()) for W, b in net.layers]
    layers[0] = (layers[0][0], layers[0][1] + layers[0][0] @ c)
    cx = Complex(convert(layers))
    kw = {} if job["max_polys"] is None else {"max_polys": job["max_polys"]}
    r = cx.bfs(start=np.zeros(net.input_dim), cube_radius=h, cube_mode=job["mode"], nworkers=1, verbose=0, **kw)
    out = {"regions": len(cx), "complete": bool(r.complete)}
out.update(seconds=time.perf_counter() - t, cpu=time.process_time() - cpu,
           peak_mb=max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                       resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024)
print(json.dumps(out))
"""


def measure(tool: str, case: dict, limit: float, python: str = sys.executable, max_polys: int | None = None,
            mode: str = "clipped") -> dict:
    """One count in a fresh interpreter under a wall-clock limit (a little above ``limit`` for the search)."""
    job = {"tool": tool, "case": case, "limit": limit, "max_polys": max_polys, "root": str(ROOT), "mode": mode,
           "cpu_limit": CPU_LIMIT}
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        out = subprocess.run([python, "-c", _CHILD, json.dumps(job)], capture_output=True, text=True,
                             timeout=limit, env=env, cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        return {"timeout": limit}
    if out.returncode != 0:
        tail = (out.stderr or "").strip().splitlines()
        return {"error": tail[-1][:200] if tail else f"exit code {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def relucent_python(option: str | None) -> str | None:
    """An interpreter that imports relucent (and gurobipy): ``option``, ``$RELUCENT_PYTHON`` or this one."""
    for cand in (option, os.environ.get("RELUCENT_PYTHON"), sys.executable):
        if cand and subprocess.run([cand, "-c", "import relucent, gurobipy"], capture_output=True).returncode == 0:
            return cand
    return None


def run_relucent(py: str, case: dict, ours: dict, budget: float, probe: int, limit: float) -> dict:
    """A probe of ``probe`` regions, then the full search only if the probe's rate predicts it fits ``limit``.

    ``cube_mode="clipped"`` first; where relucent raises on it, the probe is
    repeated with ``cube_mode="intersect"`` (the error is kept as ``clipped_error``).
    """
    mode = "clipped"
    first = measure("relucent", case, limit, py, max_polys=probe, mode=mode)
    clipped_error = first.get("error")
    if clipped_error and "GurobiError" not in clipped_error:
        mode = "intersect"
        first = measure("relucent", case, limit, py, max_polys=probe, mode=mode)
    if "regions" not in first or first["complete"]:
        return {**first, "mode": mode, "clipped_error": clipped_error}
    rate = first["seconds"] / max(first["regions"], 1)
    target = ours.get("regions")
    projected = rate * target if target else None
    out = {"probe": first, "rate_s_per_region": rate, "projected_seconds": projected}
    # the probe's rate includes relucent's start-up (seconds): it overestimates small cases
    # the probe's rate includes relucent's start-up (tens of seconds on a loaded machine): small cases always run
    if projected is not None and (projected <= budget or target <= SMALL):
        full = measure("relucent", case, limit, py)
        out.update(full)
    return out


def cases(quick: bool) -> list[dict]:
    if quick:
        return [{"arch": "5-8-8-1", "where": "box", "lo": -1.0, "hi": 1.0},
                {"arch": "64-6-4-10", "where": "point", "point": 0, "radius": 0.05}]
    return [{"arch": "5-8-8-1", "where": "box", "lo": -1.0, "hi": 1.0},
            {"arch": "10-8-8-1", "where": "box", "lo": -1.0, "hi": 1.0},
            {"arch": "12-8-8-1", "where": "box", "lo": -1.0, "hi": 1.0},
            {"arch": "64-8-8-10", "where": "box", "lo": 0.0, "hi": 1.0},
            {"arch": "784-8-6-10", "where": "box", "lo": 0.0, "hi": 1.0},
            {"arch": "64-16-16-10", "where": "point", "point": 0, "radius": 0.02},
            {"arch": "784-8-6-10", "where": "point", "point": 0, "radius": 0.05},
            {"arch": "1000-8-1", "where": "box", "lo": -1.0, "hi": 1.0}]


def _domain(case: dict) -> str:
    d = case["arch"].split("-")[0]
    if case["where"] == "box":
        return f"[{case['lo']:g},{case['hi']:g}]^{d}"
    what = "digit" if d == "64" else "upsampled digit"
    return f"{what} {case['point']} ± {case['radius']:g}"


# ---------------------------------------------------------------- local complexity at the scale
_LOCAL_WORKER = r"""
import json, sys, time
import numpy as np
job = json.loads(sys.argv[1])
sys.path.insert(0, job["root"])
import regions
from regions import Network
from sklearn.datasets import load_digits
X = load_digits().data / 16.0
nets = {"he": Network.from_arch("64-16-16-10", seed=0), "trained": Network.load(job["trained"])}
with open(job["out"], "a") as fh:
    for i in job["points"]:
        for name, kind in (("he", "box"), ("trained", "box"), ("he", "cross"), ("trained", "cross")):
            t, c = time.perf_counter(), time.process_time()
            r = regions.local_complexity(nets[name], X[i:i + 1], job["radius"], kind=kind)
            fh.write(json.dumps({"point": i, "net": name, "kind": kind, "regions": int(r["regions"][0]),
                                 "units_cut": int(r["units_cut"][0]), "partial": bool(r["partial"][0]),
                                 "seconds": time.perf_counter() - t, "cpu": time.process_time() - c}) + "\n")
            fh.flush()
"""


def trained_digits_net(path: Path) -> Path:
    """The 64-16-16-10 MLP trained on the bundled digits (``regions.experiments.digits.train_digits``, seed 0)."""
    import tempfile  # noqa: PLC0415

    from regions.experiments.digits import train_digits  # noqa: PLC0415

    if not path.exists():
        with tempfile.TemporaryDirectory(prefix="lp_peers_train-") as tmp:
            run = train_digits(Path(tmp) / "run", hidden=(16, 16), epochs=20, seed=0)
            run.network().save(path)
    return path


def run_local(args) -> None:
    """Local complexity over ``--points`` digits points: He and trained 64-16-16-10, box and cross."""
    out = Path(args.local_rows)
    if out.exists() and not args.resume:
        raise SystemExit(f"{out} exists: pass --resume to add to it")
    trained = trained_digits_net(Path(args.trained))
    done = set()
    if out.exists():
        done = {json.loads(line)["point"] for line in out.read_text().splitlines() if line.strip()}
    # a seeded order: the points finished at any time are a uniform sample of the points
    order = [int(i) for i in np.random.default_rng(0).permutation(args.points) if int(i) not in done]
    procs = []
    for w in range(args.workers):
        job = {"root": str(ROOT), "trained": str(trained), "out": str(out) + f".w{w}", "radius": args.radius,
               "points": order[w::args.workers]}
        procs.append(subprocess.Popen([sys.executable, "-c", _LOCAL_WORKER, json.dumps(job)],
                                      env=dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")))
    for p in procs:
        p.wait()
    with open(out, "a") as fh:
        for w in range(args.workers):
            part = Path(str(out) + f".w{w}")
            if part.exists():
                fh.write(part.read_text())
                part.unlink()


def render_local(rows: list[dict], radius: float, n_points: int) -> str:
    """The Markdown of the local-complexity rows (one per point, network and shape)."""
    lines = ["# Local complexity at the issue's scale", "",
             f"`regions.local_complexity` on digits points (8x8, scaled to [0, 1]), radius {radius:g}, "
             "He-initialised (seed 0) and trained (`train_digits`, hidden 16-16, 20 epochs, seed 0) 64-16-16-10 "
             "nets; points taken in a seeded random order, so finished points are a uniform sample. Written by "
             "`python benchmarks/bench_lp_peers.py --local`. CPU seconds are the counting process's own "
             "(the machine is shared: wall seconds depend on its load).", "",
             "| net | shape | points done | regions: mean (max) | units cut: mean (max) | partial | CPU s total "
             "| CPU s / point | wall s total | projected CPU s for all |",
             "|---|---|---:|---|---|---:|---:|---:|---:|---:|"]
    for net in ("he", "trained"):
        for kind in ("box", "cross"):
            rs = [r for r in rows if r["net"] == net and r["kind"] == kind]
            if not rs:
                continue
            rg = [r["regions"] for r in rs]
            uc = [r["units_cut"] for r in rs]
            cpu = sum(r["cpu"] for r in rs)
            wall = sum(r["seconds"] for r in rs)
            lines.append(f"| {net} | {kind} | {len(rs)} / {n_points} | {np.mean(rg):.1f} ({max(rg)}) | "
                         f"{np.mean(uc):.1f} ({max(uc)}) | {sum(r['partial'] for r in rs)} | {cpu:.0f} | "
                         f"{cpu / len(rs):.2f} | {wall:.0f} | {cpu / len(rs) * n_points:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    global CPU_LIMIT
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small cases only (about a minute)")
    ap.add_argument("--limit", type=float, default=1800.0,
                    help="wall-clock seconds after which a measurement is killed (default 1800)")
    ap.add_argument("--cpu-limit", type=float, default=CPU_LIMIT,
                    help=f"CPU seconds of the one-LP-per-candidate search (default {CPU_LIMIT:g})")
    ap.add_argument("--relucent-seconds", type=float, default=300.0,
                    help="relucent's full search runs where its probe predicts at most this many seconds")
    ap.add_argument("--probe", type=int, default=5, help="regions of relucent's probe run (default 5)")
    ap.add_argument("--relucent-python", default=None, help="interpreter with relucent and gurobipy")
    ap.add_argument("--skip-peers", action="store_true", help="run no relucent")
    ap.add_argument("--only", default=None, help="comma-separated network names to run (default all)")
    ap.add_argument("--json", help="also write the rows as JSON here")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "lp_peers.md"))
    ap.add_argument("--from-json", metavar="PATH", help="run nothing: re-render --out from a finished run's JSON")
    ap.add_argument("--local", action="store_true",
                    help="instead: local complexity over --points digits points (box and cross, He and trained)")
    ap.add_argument("--points", type=int, default=200, help="with --local: digits points (default 200)")
    ap.add_argument("--radius", type=float, default=0.05, help="with --local: radius (default 0.05)")
    ap.add_argument("--workers", type=int, default=2, help="with --local: worker processes (default 2)")
    ap.add_argument("--trained", default=str(ROOT / "benchmarks" / "_scratch" / "digits_64-16-16-10.npz"),
                    help="with --local: the trained net (trained and saved here when missing)")
    ap.add_argument("--local-rows", default=str(ROOT / "benchmarks" / "lp_local_check.jsonl"),
                    help="with --local: one JSON line per point, network and shape")
    ap.add_argument("--resume", action="store_true", help="with --local: add the points not yet in --local-rows")
    args = ap.parse_args(argv)
    CPU_LIMIT = args.cpu_limit
    if args.local:
        run_local(args)
        rows = [json.loads(line) for line in Path(args.local_rows).read_text().splitlines() if line.strip()]
        text = render_local(rows, args.radius, args.points)
        write_text_atomic(ROOT / "benchmarks" / "lp_local_check.md", text)
        print(text)
        return
    if args.from_json:
        text = render(json.loads(Path(args.from_json).read_text()))
        write_text_atomic(Path(args.out), text)
        print(text)
        return
    py = None if args.skip_peers else relucent_python(args.relucent_python)
    why = ("--skip-peers" if args.skip_peers else
           "no interpreter imports relucent and gurobipy (pip install relucent; or --relucent-python)")
    version = None
    if py:
        version = subprocess.run([py, "-c", "import importlib.metadata as m; print(m.version('relucent'), "
                                  "m.version('gurobipy'))"], capture_output=True, text=True).stdout.strip()
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    rows = []
    for case in cases(args.quick):
        if args.only and case["arch"] not in args.only.split(","):
            continue
        row = {"case": case, "domain": _domain(case)}
        row["ours"] = measure("ours", case, args.limit)
        print(case["arch"], row["domain"], "ours", row["ours"], flush=True)
        row["naive"] = measure("naive", case, args.limit)
        print(case["arch"], row["domain"], "naive", row["naive"], flush=True)
        if py:
            row["relucent"] = run_relucent(py, case, row["ours"], args.relucent_seconds, args.probe, args.limit)
            print(case["arch"], row["domain"], "relucent", row["relucent"], flush=True)
        rows.append(row)
    data = {"rows": rows, "quick": args.quick, "only": args.only, "limit": args.limit, "probe": args.probe, "cpu_limit": args.cpu_limit,
            "relucent_seconds": args.relucent_seconds,
            "relucent": version if py else None, "relucent_missing": None if py else why,
            "loadavg_start": load0, "loadavg_end": os.getloadavg(), "seconds": time.perf_counter() - t0}
    text = render(data)
    write_text_atomic(Path(args.out), text)
    if args.json:
        write_text_atomic(Path(args.json), json.dumps(data, indent=1) + "\n")
    print(text)


def _n(r: dict | None) -> str:
    """A count cell: the number, ``>= n`` when stopped early, ``-`` when nothing came back."""
    if not r or "regions" not in r:
        return "-"
    return f"{r['regions']:,}" if r.get("complete", True) else f">= {r['regions']:,}"


def _s(r: dict | None) -> str:
    if not r:
        return ""
    if "timeout" in r:
        return f"> {r['timeout']:.0f}"
    if "error" in r:
        return "error"
    if "seconds" not in r:
        return f"~{r['projected_seconds']:,.0f}" if r.get("projected_seconds") else "-"
    return f"{r['seconds']:.2f}" + ("" if r.get("complete", True) else " (stopped)")


def _agree(row: dict) -> str:
    """Whether the tools that finished report the same number of regions."""
    done = {k: row[k]["regions"] for k in ("ours", "naive", "relucent")
            if isinstance(row.get(k), dict) and "regions" in row[k] and row[k].get("complete", True)}
    if len(done) < 2:
        return "-"
    return "yes" if len(set(done.values())) == 1 else "NO: " + ", ".join(f"{k} {v}" for k, v in done.items())


def _ratio(ours: dict, other: dict | None) -> str:
    """Their seconds / our seconds (above 1: ours faster); ``>`` from a stopped run, ``~`` projected."""
    if not other or "seconds" not in ours:
        return ""
    if "timeout" in other:
        return f"> {other['timeout'] / ours['seconds']:,.0f}"
    if "seconds" not in other:
        p = other.get("projected_seconds")
        return f"~{p / ours['seconds']:,.0f}" if p else ""
    if not other.get("complete", True):
        # stopped at the limit having found a share of the regions: a lower bound
        return f"> {other['seconds'] / ours['seconds']:,.0f}"
    return f"{other['seconds'] / ours['seconds']:,.1f}"


def render(data: dict) -> str:
    """The Markdown of one run's JSON (``--from-json`` re-renders a finished run)."""
    rows, limit = data["rows"], data["limit"]
    lines = ["# LP engine vs relucent and a one-LP-per-candidate search", "",
             f"Written by `python benchmarks/bench_lp_peers.py{' --quick' if data.get('quick') else ''}"
             f"{' --only ' + data['only'] if data.get('only') else ''}`; every "
             "number below comes from that one run "
             f"({data['seconds'] / 60:.0f} min; load average at the start "
             f"{', '.join(f'{v:.2f}' for v in data['loadavg_start'])}, at the end "
             f"{', '.join(f'{v:.2f}' for v in data['loadavg_end'])} on {os.cpu_count()} cores).", "",
             "Same He-initialised weights (seed 0) for all tools, regions meeting the same cube; one fresh process "
             f"per measurement, killed after {limit:.0f} s. *ours*: `regions.count(..., engine=\"lp\")`. "
             "*LP/cand.*: breadth-first search with one scipy/HiGHS Chebyshev LP per candidate pattern (one unit "
             "flipped), `lp_per_candidate` in the benchmark file, stopped after "
             f"{data.get('cpu_limit', limit):g} CPU seconds. *relucent*: "
             + (f"relucent {data['relucent'].split()[0]} (gurobipy {data['relucent'].split()[-1]}, licence-free "
                "size-limited mode), `Complex.bfs(cube_mode=\"clipped\", nworkers=1)` (`\"intersect\"` where "
                "clipped raises) on the net shifted so the cube is centred at 0; first "
                f"{data['probe']} regions as a probe, then the full search only where the probe's rate predicts "
                f"it ends within {data.get('relucent_seconds', 3 * limit):g} s (`~`: projected from the probe's "
                "rate)."
                if data.get("relucent") else f"not run: {data['relucent_missing']}."),
             "`>= n`: regions found when the search stopped at the limit; ratio = their seconds / ours (above 1: "
             "ours faster; `>` a lower bound from a stopped run). LPs/region: LPs solved / regions. Peak MB: "
             "maximum resident memory of the process (and its children).", "",
             "Regions (they must agree where two tools finished):", "",
             "| network | cube | ours | LP/cand. | relucent | agree |", "|---|---|---:|---:|---:|---|"]
    for row in rows:
        o, nv, rl = row["ours"], row["naive"], row.get("relucent")
        rel_n = "fails" if rl and "error" in rl else (_n(rl) if rl else "")
        lines.append(f"| {row['case']['arch']} | {row['domain']} | {_n(o)} | {_n(nv)} | {rel_n} | {_agree(row)} |")
    lines += ["", "Seconds (wall clock; CPU seconds of the counting process in brackets: the machine is shared, "
              "and relucent's LPs run in a child process whose CPU time is not in its bracket). `~` in the CPU "
              "ratio of a stopped LP-per-candidate search: its CPU seconds per region found times our number of "
              "regions (an extrapolation; its cost per region is about constant, one LP per unit):", "",
              "| network | cube | ours | LP/cand. | relucent | LP/cand. / ours (CPU) | relucent / ours |",
              "|---|---|---:|---:|---:|---:|---:|"]

    def secs(r):
        t = _s(r)
        return t + (f" ({r['cpu']:.1f})" if r and "cpu" in r and r.get("seconds") else "")

    for row in rows:
        o, nv, rl = row["ours"], row["naive"], row.get("relucent")
        cpu = ""
        if "cpu" in o and "cpu" in nv and o["cpu"] > 0 and nv.get("regions"):
            if nv.get("complete"):
                cpu = f" ({nv['cpu'] / o['cpu']:.1f})"
            elif o.get("regions"):  # extrapolated: its CPU per region found, times our number of regions
                cpu = f" (~{nv['cpu'] / nv['regions'] * o['regions'] / o['cpu']:,.0f})"
        lines.append(f"| {row['case']['arch']} | {row['domain']} | {secs(o)} | {secs(nv)} | {secs(rl)} "
                     f"| {_ratio(o, nv)}{cpu} | {_ratio(o, rl)} |")
    lines += ["", "LPs per region and peak memory:", "",
              "| network | cube | LPs/region ours | LP/cand. | peak MB ours | LP/cand. | relucent |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        o, nv, rl = row["ours"], row["naive"], row.get("relucent")
        lpr = (lambda r: f"{r['lps'] / r['regions']:.2f}" if r and r.get("lps") and r.get("regions") else "")
        mb = (lambda r: f"{r['peak_mb']:.0f}" if r and "peak_mb" in r else "")
        lines.append(f"| {row['case']['arch']} | {row['domain']} | {lpr(o)} | {lpr(nv)} | {mb(o)} | {mb(nv)} "
                     f"| {mb(rl)} |")
    notes = []
    for row in rows:
        rl = row.get("relucent")
        if rl and rl.get("clipped_error") and rl.get("mode") == "intersect":
            notes.append(f"* relucent on {row['case']['arch']} {row['domain']} with `cube_mode=\"clipped\"` stops "
                         f"with `{rl['clipped_error']}`; the row shows `cube_mode=\"intersect\"` (cells meeting "
                         "the cube, unclipped)")
        if rl and "error" in rl:
            notes.append(f"* relucent on {row['case']['arch']} {row['domain']} stops with: `{rl['error']}`")
        elif rl and "rate_s_per_region" in rl:
            notes.append(f"* relucent on {row['case']['arch']} {row['domain']}: {rl['rate_s_per_region']:.3f} s "
                         f"per region over its first {rl['probe']['regions']} regions (probe "
                         f"{rl['probe']['seconds']:.1f} s)" + ("; full search not run, projected "
                                                              f"{rl['projected_seconds']:,.0f} s"
                                                              if "seconds" not in rl else ""))
    if notes:
        lines += ["", "Relucent details:", ""] + notes
    if data.get("cut"):
        lines += ["", f"**Incomplete run**: {data['cut']}. The rows were rebuilt from the run's log "
                  "(`> s` for relucent: still running when the run was cut)."]
    lines += ["", "Where relucent stops: its Chebyshev LP for a cell has the d input columns plus a radius and one "
              "row per hidden unit plus the 2d rows of the cube (`Polyhedron._halfspaces_with_bounding_box_err`); "
              "gurobipy's licence-free mode refuses models above 2,000 rows or columns, so any cube of dimension "
              "d with 2d + (hidden units) > 2,000 fails (`1000-8-1`: 2,008 rows); 784-D cubes (1,582 rows for "
              "784-8-6-10) still run, at seconds per region.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
