"""Benchmark of the LP engine: vs the vertex engine, before/after a revision, R^d, boxes around data.

Every measurement runs in a fresh subprocess (peak memory = its maximum
resident set size; seconds = wall clock and CPU of the count alone) under
a time limit.  Cases:

* crossover: ``d-8-8-1`` He networks (seed 0) on ``[-1, 1]^d`` for growing
  d, the vertex engine, the LP engine and the engine ``regions.count``
  picks by cost, side by side (counts beside times; the vertex engine
  carries the box's 2^d vertices); ``10-8-8-1`` is the issue's target
  (< 5 s);
* ``784-8-6-10`` on ``[0, 1]^784`` (LP engine; target < 10 s);
* ``784-8-8-10`` on all of ``R^784`` (reduction to ``R^8``, then the vertex
  engine; target < 5 s);
* local complexity (``regions.local_complexity``) around the first points
  of the bundled 8x8 digits (scaled to ``[0, 1]``) for a He-initialised
  ``64-16-16-10`` net (seed 0): boxes and cross-polytopes of a few radii,
  regions and the unit-count proxy beside the times.

With ``--before REV`` the LP-engine cases also run on the package as it
was at git revision ``REV`` (``git archive`` into a temporary folder), in
the same run, so the before/after columns are measured side by side.

Writes a Markdown table to ``--out`` (default ``benchmarks/lp.md``) and the
rows as JSON with ``--json PATH`` (``{"rows": [...], "local": [...]}``);
``benchmarks/run_all.py`` runs it as the ``lp`` benchmark.

Usage::

    python benchmarks/bench_lp.py --before d8a8ee2   # full table, before/after
    python benchmarks/bench_lp.py --quick            # seconds: small cases only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from regions.core.io import write_text_atomic  # noqa: E402

_CHILD = r"""
import json, resource, sys, time
import numpy as np
import regions
from regions import Network, box, whole
job = json.loads(sys.argv[1])
net = Network.from_arch(job["arch"], seed=0)
d = net.input_dim
if job["kind"] == "count":
    lo, hi = job["lo"], job["hi"]
    dom = whole(d) if lo is None else box(lo, hi, dim=d)
    t, c = time.perf_counter(), time.process_time()
    res = regions.count(net, dom, engine=None if job["engine"] == "auto" else job["engine"])
    out = {"regions": res.regions, "engine": res.engine, "lps": res.extra.get("lps"),
           "reduced_dim": res.extra.get("reduced_dim")}
else:
    from sklearn.datasets import load_digits
    X = load_digits().data[:job["points"]] / 16.0
    t, c = time.perf_counter(), time.process_time()
    res = regions.local_complexity(net, X, job["radius"], kind=job["shape"])
    out = {"regions": [int(v) for v in res["regions"]], "units_cut": [int(v) for v in res["units_cut"]],
           "engine": res["engine"]}
out.update(seconds=time.perf_counter() - t, cpu=time.process_time() - c,
           peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(out))
"""


def measure(job: dict, limit: float, path: Path) -> dict:
    """Run one job in a fresh interpreter with ``path`` first on ``PYTHONPATH``."""
    env = dict(os.environ, PYTHONPATH=str(path))
    try:
        out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(job)], capture_output=True, text=True,
                             timeout=limit, env=env, check=True, cwd=str(path))
    except subprocess.TimeoutExpired:
        return {"timeout": limit}
    except subprocess.CalledProcessError as exc:
        return {"error": (exc.stderr or "").strip().splitlines()[-1:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def checkout(rev: str, into: Path) -> Path:
    """The ``regions`` package as it was at ``rev`` (``git archive``), under ``into``."""
    tar = subprocess.run(["git", "archive", rev, "regions"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=tar, check=True)
    return into


def _load(v) -> str:
    return "-" if not v else ", ".join(f"{x:.2f}" for x in v)


def _cell(r: dict | None, key: str, fmt: str) -> str:
    if r is None:
        return ""
    if "timeout" in r:
        return f"> {r['timeout']:.0f} s" if key == "seconds" else "-"
    if "error" in r:
        return "error" if key == "seconds" else "-"
    v = r.get(key)
    return "" if v is None else format(v, fmt)


def _ratio(a: dict | None, b: dict | None, key: str = "seconds") -> str:
    """``a[key]`` / ``b[key]`` when both finished with equal counts (a lower bound when ``a`` timed out)."""
    if not a or not b or key not in b:
        return ""
    if "timeout" in a:
        return f"> {a['timeout'] / b[key]:.1f}"
    if key not in a or a.get("regions") != b.get("regions"):
        return "counts differ" if key in a else ""
    return f"{a[key] / b[key]:.2f}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="seconds: d = 4, 5, a 64-D box, R^64, 5 digits points")
    ap.add_argument("--limit", type=float, default=120.0, help="seconds per measurement")
    ap.add_argument("--before", default=None, metavar="REV",
                    help="also run the LP-engine cases on the package at git revision REV (side by side)")
    ap.add_argument("--json", help="also write the rows as JSON here")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "lp.md"))
    ap.add_argument("--from-json", metavar="PATH", help="run nothing: re-render --out from a finished run's JSON")
    args = ap.parse_args(argv)
    if args.from_json:
        text = render(json.loads(Path(args.from_json).read_text()))
        write_text_atomic(Path(args.out), text)
        print(text)
        return
    q = args.quick
    cases = []  # (arch, lo, hi, engines)
    for n in ((4, 5) if q else (4, 5, 6, 7, 8, 9, 10)):
        cases.append((f"{n}-8-8-1", -1.0, 1.0, ("polytope", "lp", "auto")))
    cases.append(("64-6-4-10" if q else "784-8-6-10", 0.0, 1.0, ("lp", "auto")))
    cases.append(("64-6-6-10" if q else "784-8-8-10", None, None, ("auto",)))
    local = ([(0.01, "box"), (0.2, "cross")] if q else
             [(0.005, "box"), (0.01, "box"), (0.02, "box"), (0.05, "cross"), (0.2, "cross"), (0.5, "cross")])
    points = 5 if q else 50
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows, lrows = [], []
    with tempfile.TemporaryDirectory(prefix="bench_lp-") as tmp:
        before = checkout(args.before, Path(tmp)) if args.before else None
        for arch, lo, hi, engines in cases:
            row = {"arch": arch, "domain": "R^d" if lo is None else f"[{lo:g},{hi:g}]^d"}
            limit = args.limit * (3 if arch.startswith("784") else 1)
            runs = [(e, e, ROOT) for e in engines]
            if before is not None and "lp" in engines:
                runs.append(("lp_before", "lp", before))
            for key, eng, path in runs:
                row[key] = measure({"kind": "count", "arch": arch, "lo": lo, "hi": hi, "engine": eng}, limit, path)
                print(arch, key, row[key], flush=True)
            rows.append(row)
        for radius, shape in local:
            row = {"arch": "64-16-16-10", "points": points, "radius": radius, "shape": shape}
            job = {"kind": "local", "arch": "64-16-16-10", "points": points, "radius": radius, "shape": shape}
            row["after"] = measure(job, args.limit * 3, ROOT)
            if before is not None:
                row["before"] = measure(job, args.limit * 3, before)
            print("local", radius, shape, {k: v for k, v in row["after"].items() if k not in ("regions", "units_cut")},
                  flush=True)
            lrows.append(row)
    load1 = os.getloadavg() if hasattr(os, "getloadavg") else None
    data = {"rows": rows, "local": lrows, "quick": q, "before": args.before, "points": points,
            "loadavg_start": load0, "loadavg_end": load1}
    text = render(data)
    write_text_atomic(Path(args.out), text)
    if args.json:
        write_text_atomic(Path(args.json), json.dumps(data, indent=1) + "\n")
    print(text)


def render(data: dict) -> str:
    """The Markdown tables of one run's JSON (``--from-json`` re-renders a finished run)."""
    rows, lrows, points = data["rows"], data["local"], data.get("points", 50)
    load0, load1, before = data.get("loadavg_start"), data.get("loadavg_end"), data.get("before")
    bef = f" before = revision `{before}`, after = this tree;" if before else ""
    cmd = "python benchmarks/bench_lp.py" + (" --quick" if data.get("quick") else "") + (
        f" --before {before}" if before else "")
    lines = ["# LP engine: boxes in growing dimension, R^784 by reduction, neighbourhoods of data points", "",
             f"Written by `{cmd}`; every number below comes from that one run.", "",
             "Counts beside times (one fresh process per measurement; wall-clock seconds, CPU seconds of the "
             "count in brackets). `auto` is the engine `regions.count` picks by its cost estimate; "
             f"vertex / LP = vertex-engine time / LP-engine time (above 1: the LP engine is faster);{bef} "
             "before / after is the ratio of CPU seconds (the machine is shared: wall times of the two runs "
             "see different loads), above 1: faster now.", "",
             f"Machine: `os.cpu_count()` = {os.cpu_count()}; load average (1, 5, 15 min) at the start "
             f"{_load(load0)}, at the end {_load(load1)} (a load above the core count inflates every wall time; "
             "the ratios are side by side).", "",
             "| network | domain | regions (vertex) | regions (LP) | vertex s | LP s (CPU) | vertex / LP "
             "| LPs/region | LP peak MB | LP before s (CPU) | before / after (CPU) | auto picks | auto s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for row in rows:
        v, lp, au, lb = row.get("polytope"), row.get("lp"), row.get("auto"), row.get("lp_before")
        lpr = f"{lp['lps'] / lp['regions']:.2f}" if lp and lp.get("lps") and lp.get("regions") else ""
        pick = ""
        if au and "seconds" in au:
            pick = au["engine"] + (f" (R^{au['reduced_dim']})" if au.get("reduced_dim") else "")
            if not (v or lp):
                pick += f", {au['regions']} regions"

        def secs(r):
            s = _cell(r, "seconds", ".2f")
            return s + (f" ({r['cpu']:.2f})" if r and "cpu" in r else "")
        lines.append(f"| {row['arch']} | {row['domain']} | {_cell(v, 'regions', 'd')} | {_cell(lp, 'regions', 'd')} "
                     f"| {_cell(v, 'seconds', '.2f')} | {secs(lp) if lp else ''} | {_ratio(v, lp)} | {lpr} "
                     f"| {_cell(lp, 'peak_mb', '.0f')} | {secs(lb) if lb else ''} | {_ratio(lb, lp, 'cpu')} "
                     f"| {pick} | {_cell(au, 'seconds', '.2f')} |")
    lines += ["", f"Local complexity around the first {points} digits points (`regions.local_complexity`, "
              "He-initialised 64-16-16-10, seed 0; box: l-infinity ball, cross: l1 ball of the radius): exact "
              "regions meeting each neighbourhood and the proxy (units whose zero set meets it).", "",
              "| shape | radius | regions: mean (max) | units cut: mean (max) | seconds (CPU) | s / point "
              "| before s (CPU) | before / after (CPU) |", "|---|---:|---|---|---:|---:|---:|---:|"]
    for row in lrows:
        a, b = row["after"], row.get("before")
        if "regions" not in a:
            lines.append(f"| {row['shape']} | {row['radius']:g} | {_cell(a, 'seconds', '.2f')} | | | | | |")
            continue
        rg, uc = a["regions"], a["units_cut"]
        bs = f"{b['seconds']:.2f} ({b['cpu']:.2f})" if b and "cpu" in b else ""
        if b is not None and b.get("regions") == rg:
            ba = f"{b['cpu'] / a['cpu']:.2f}"
        else:
            ba = "counts differ" if b and "regions" in b else ""
        lines.append(f"| {row['shape']} | {row['radius']:g} | {sum(rg) / len(rg):.1f} ({max(rg)}) "
                     f"| {sum(uc) / len(uc):.1f} ({max(uc)}) | {a['seconds']:.2f} ({a['cpu']:.2f}) "
                     f"| {a['seconds'] / len(rg):.3f} | {bs} "
                     f"| {ba} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
