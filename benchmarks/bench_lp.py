"""Benchmark of the LP engine against the vertex (polytope) engine, and of the reduction of R^d.

Every measurement runs in a fresh subprocess (peak memory = its maximum
resident set size) under a time limit.  Cases:

* crossover: ``d-8-8-1`` He networks (seed 0) on ``[-1, 1]^d`` for growing
  d, the vertex engine, the LP engine and the engine ``regions.count``
  picks by cost, side by side (counts beside times; the vertex engine
  carries the box's 2^d vertices); ``10-8-8-1`` is the issue's target
  (< 5 s);
* ``784-8-6-10`` on ``[0, 1]^784`` (LP engine; target < 10 s);
* ``784-8-8-10`` on all of ``R^784`` (reduction to ``R^8``, then the vertex
  engine; target < 5 s).

Writes a Markdown table to ``benchmarks/lp.md`` (and the rows as JSON with
``--json PATH``).  Stand-alone (not yet in ``run_all.py``).

Usage::

    python benchmarks/bench_lp.py            # full table
    python benchmarks/bench_lp.py --quick    # small cases only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, resource, sys, time
import regions
from regions import Network, box, whole
arch, lo, hi, engine = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
net = Network.from_arch(arch, seed=0)
d = net.input_dim
dom = whole(d) if lo == float("-inf") else box(lo, hi, dim=d)
t = time.perf_counter()
res = regions.count(net, dom, engine=None if engine == "auto" else engine)
sec = time.perf_counter() - t
print(json.dumps({"regions": res.regions, "engine": res.engine, "seconds": sec,
                  "lps": res.extra.get("lps"), "reduced_dim": res.extra.get("reduced_dim"),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(arch: str, lo: float, hi: float, engine: str, limit: float) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        out = subprocess.run([sys.executable, "-c", _CHILD, arch, str(lo), str(hi), engine],
                             capture_output=True, text=True, timeout=limit, env=env, check=True)
    except subprocess.TimeoutExpired:
        return {"arch": arch, "engine": engine, "timeout": limit}
    except subprocess.CalledProcessError as exc:
        return {"arch": arch, "engine": engine, "error": (exc.stderr or "").strip().splitlines()[-1:]}
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row.update(arch=arch, domain="R^d" if lo == float("-inf") else f"[{lo:g},{hi:g}]^d", asked=engine)
    return row


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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller crossover sweep (d = 5, 7, 9, 10)")
    ap.add_argument("--limit", type=float, default=120.0, help="seconds per measurement")
    ap.add_argument("--json", help="also write the rows as JSON here ({'rows': [...]})")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "lp.md"))
    args = ap.parse_args(argv)
    cases = []  # (arch, lo, hi, engines)
    dims = (5, 7, 9, 10) if args.quick else (4, 5, 6, 7, 8, 9, 10, 11)
    for n in dims:
        cases.append((f"{n}-8-8-1", -1.0, 1.0, ("polytope", "lp", "auto")))
    cases.append(("784-8-6-10", 0.0, 1.0, ("lp", "auto")))
    cases.append(("784-8-8-10", float("-inf"), float("inf"), ("auto",)))
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows = []
    for arch, lo, hi, engines in cases:
        row = {"arch": arch, "domain": "R^d" if lo == float("-inf") else f"[{lo:g},{hi:g}]^d"}
        for eng in engines:
            row[eng] = measure(arch, lo, hi, eng, args.limit * (3 if arch.startswith("784") else 1))
            print(arch, eng, row[eng], flush=True)
        rows.append(row)
    lines = ["Counts beside times (one fresh process per measurement, wall-clock). `auto` is the engine "
             "`regions.count` picks by its cost estimate; ratio = vertex-engine time / LP-engine time "
             "(above 1: the LP engine is faster).", "",
             f"Machine: `os.cpu_count()` = {os.cpu_count()}; load average (1, 5, 15 min) at the start "
             f"{_load(load0)}, at the end {_load(os.getloadavg() if hasattr(os, 'getloadavg') else None)} "
             "(a load above the core count inflates every wall time; the ratios are side by side).", "",
             "| network | domain | regions (vertex) | regions (LP) | vertex s | LP s | ratio | LPs/region "
             "| LP peak MB | auto picks | auto s |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for row in rows:
        v, lp, au = row.get("polytope"), row.get("lp"), row.get("auto")
        ratio = ""
        if v and lp and "seconds" in lp and ("seconds" in v or "timeout" in v):
            if "timeout" in v:
                ratio = f"> {v['timeout'] / lp['seconds']:.1f}"
            else:
                ratio = f"{v['seconds'] / lp['seconds']:.2f}"
        lpr = f"{lp['lps'] / lp['regions']:.2f}" if lp and lp.get("lps") and lp.get("regions") else ""
        pick = ""
        if au and "seconds" in au:
            pick = au["engine"] + (f" (R^{au['reduced_dim']})" if au.get("reduced_dim") else "")
            if not (v or lp):
                pick += f", {au['regions']} regions"
        lines.append(f"| {row['arch']} | {row['domain']} | {_cell(v, 'regions', 'd')} | {_cell(lp, 'regions', 'd')} "
                     f"| {_cell(v, 'seconds', '.2f')} | {_cell(lp, 'seconds', '.2f')} | {ratio} | {lpr} "
                     f"| {_cell(lp, 'peak_mb', '.0f')} | {pick} | {_cell(au, 'seconds', '.2f')} |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "quick": args.quick}, indent=1))
    print(text)


if __name__ == "__main__":
    main()
