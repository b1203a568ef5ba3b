"""Benchmark of the exact polytope engine (any input dimension) against an LP-per-region search.

Runs He-normal networks (seed 0) over ``[-1, 1]^d`` and over all of ``R^d``
with :func:`regions.polytope.count_polytope`, and the slow reference
:func:`tests/polytope_reference.lp_bfs` (breadth-first search over
regions, one HiGHS Chebyshev LP per candidate pattern) under a time limit.
Writes a Markdown table to ``benchmarks/polytope.md`` (and JSON with
``--json``).

The reference runs to completion where it fits in ``--ref-seconds``;
otherwise its time is **extrapolated** linearly in the number of regions
(its cost per region is constant: ~n_hidden LPs) and marked with ``~``.
"one LP/region" is the time an ideal search with a single LP per region
would need at the measured LP speed (a lower bound for relucent-style
methods).

Usage::

    python benchmarks/bench_polytope.py            # full table, a few minutes on 2 cores
    python benchmarks/bench_polytope.py --quick    # smaller nets only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import subprocess
import tempfile
from pathlib import Path

import numpy as np

import regions
from regions import Network, theory
from regions.domains import box, whole
from regions.engines.polytope import count_polytope

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from polytope_reference import lp_bfs  # noqa: E402 -- the slow reference lives with the tests

ARCHS = ["3-16-16-1", "3-32-32-1", "3-64-64-1", "3-32-32-32-1", "4-16-16-1", "4-32-32-1", "4-16-16-16-1"]
QUICK = ["3-16-16-1", "3-32-32-1", "4-16-16-1", "4-16-16-16-1"]
HERE = Path(__file__).resolve().parent


def make_domain(kind: str, d: int):
    return box(-1.0, 1.0, dim=d) if kind == "box" else whole(d)


def engine_worker(arch: str, kind: str) -> None:
    """Child process: one timed count, peak memory from getrusage (prints JSON)."""
    import resource

    net = Network.from_arch(arch, init="he", seed=0)
    dom = make_domain(kind, net.input_dim)
    count_polytope(Network.from_arch("3-4-1", seed=0), whole(3))  # warm up imports and caches
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    res = count_polytope(net, dom)
    sec = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"regions": res.regions, "layer_counts": res.layer_counts, "bounded": res.bounded,
                      "unbounded": res.unbounded, "seconds": sec, "peak_mb": max(after - before, 0) / 1024}))


def run_engine(arch: str, kind: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--engine-worker", arch, kind], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


RELUCENT_WORKER = r"""
import json, sys, time
import numpy as np
import relucent
from relucent.model import model
path, kind = sys.argv[1], sys.argv[2]
with np.load(path) as z:
    n = sum(1 for k in z.files if k.startswith("W"))
    layers = []
    for i in range(n):
        layers.append(model.LinearLayer(z[f"W{i}"], z[f"b{i}"]))
        if i < n - 1:
            layers.append(model.ReLULayer())
C = relucent.Complex(model.ReLUNetwork(layers))
kw = dict(nworkers=1, verbose=0)
if kind == "box":
    kw.update(cube_radius=1.0, cube_mode="clipped")
t = time.perf_counter()
res = C.bfs(**kw)
print(json.dumps({"regions": len(C), "seconds": time.perf_counter() - t,
                  "complete": bool(getattr(res, "complete", False))}))
"""


def relucent_python(option: str | None) -> str | None:
    """An interpreter that can import relucent: the option, $RELUCENT_PYTHON, or this one."""
    for cand in (option, os.environ.get("RELUCENT_PYTHON"), sys.executable):
        if cand and subprocess.run([cand, "-c", "import relucent"], capture_output=True).returncode == 0:
            return cand
    return None


def run_relucent(py: str, net: Network, kind: str, limit: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.npz"
        net.save(path)
        try:
            out = subprocess.run([py, "-c", RELUCENT_WORKER, str(path), kind], capture_output=True,
                                 text=True, timeout=limit)
        except subprocess.TimeoutExpired:
            return {"status": f"over {limit:g} s"}
    if out.returncode != 0:
        return {"status": "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:80]}
    return {"status": "ok", **json.loads(out.stdout.strip().splitlines()[-1])}


def run_reference(net: Network, dom, limit: float, regions_exact: int) -> dict:
    ref = lp_bfs(net, dom, time_limit=limit)
    per_lp = ref["seconds"] / max(ref["lps"], 1)
    if ref["complete"]:
        est = ref["seconds"]
    else:
        est = ref["seconds"] * regions_exact / max(ref["regions"], 1)
    return {"found": ref["regions"], "complete": ref["complete"], "lps": ref["lps"], "seconds": ref["seconds"],
            "ms_per_lp": 1e3 * per_lp, "estimate": est, "one_lp_per_region": regions_exact * per_lp,
            "agrees": (ref["regions"] == regions_exact) if ref["complete"] else None}


def fmt_s(x: float) -> str:
    return f"{x:.3g}" if x < 100 else f"{x:,.0f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="only the smaller networks")
    ap.add_argument("--ref-seconds", type=float, default=5.0, help="time limit of each reference run")
    ap.add_argument("--full-ref", default="3-16-16-1:box",
                    help="arch:domain pairs (comma separated) whose reference runs to the end")
    ap.add_argument("--relucent-python", default=None,
                    help="interpreter with relucent installed (default: $RELUCENT_PYTHON or this one)")
    ap.add_argument("--relucent", default="3-16-16-1:box,3-16-16-1:whole",
                    help="arch:domain pairs run with relucent")
    ap.add_argument("--relucent-seconds", type=float, default=90.0, help="time limit of each relucent run")
    ap.add_argument("--out", default=str(HERE / "polytope.md"))
    ap.add_argument("--json", dest="json_out", default=None)
    ap.add_argument("--engine-worker", nargs=2, metavar=("ARCH", "DOMAIN"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.engine_worker:
        engine_worker(*args.engine_worker)
        return 0
    rpy = relucent_python(args.relucent_python)
    rel_pairs = {tuple(x.split(":")) for x in args.relucent.split(",") if x}
    archs = QUICK if args.quick else ARCHS
    full = {tuple(x.split(":")) for x in args.full_ref.split(",") if x}
    rows = []
    t_start = time.perf_counter()
    for arch in archs:
        net = Network.from_arch(arch, init="he", seed=0)
        d = net.input_dim
        for kind in ("box", "whole"):
            dom = make_domain(kind, d)
            eng = run_engine(arch, kind)
            limit = None if (arch, kind) in full else args.ref_seconds
            ref = run_reference(net, dom, limit, eng["regions"])
            row = {"arch": arch, "domain": kind, **eng,
                   "serra_upper": theory.serra_upper_bound(d, list(net.widths)), "reference": ref,
                   "speedup": ref["estimate"] / eng["seconds"],
                   "speedup_one_lp": ref["one_lp_per_region"] / eng["seconds"]}
            if rpy and (arch, kind) in rel_pairs:
                row["relucent"] = run_relucent(rpy, net, kind, args.relucent_seconds)
            rows.append(row)
            print(f"{arch:>14} {kind:>5} {eng['regions']:>8} regions {eng['seconds']:8.2f} s "
                  f"{eng['regions'] / eng['seconds']:9.0f} reg/s {eng['peak_mb']:7.1f} MB | ref "
                  f"{'' if ref['complete'] else '~'}{ref['estimate']:9.1f} s ({ref['found']} found, "
                  f"{ref['ms_per_lp']:.2f} ms/LP) x{row['speedup']:.0f}"
                  + (f" | relucent {row['relucent']}" if "relucent" in row else ""), flush=True)
    total = time.perf_counter() - t_start
    # growth of time with regions: least-squares slope of log(seconds) on log(regions)
    big = [r for r in rows if r["seconds"] > 0.05]
    slope = float(np.polyfit(np.log([r["regions"] for r in big]), np.log([r["seconds"] for r in big]), 1)[0]) \
        if len(big) >= 2 else float("nan")
    write_table(rows, total, slope, args, Path(args.out), rpy)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"rows": rows, "total_seconds": total, "slope": slope},
                                                  indent=1, default=str))
    return 0


def write_table(rows, total, slope, args, path: Path, rpy) -> None:
    lines = [
        "# Polytope engine benchmark",
        "",
        "Written by `benchmarks/bench_polytope.py`"
        + (" --quick" if args.quick else "") + f" (one run, {time.strftime('%Y-%m-%d')}).",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}, regions {regions.__version__}.",
        "He-normal networks (`Network.from_arch(arch, init='he', seed=0)`), exact counts with "
        "`count_polytope` (one process, one thread).",
        "",
        "| network | domain | regions | per layer | bounded / unbounded | Serra upper bound | time (s) "
        "| regions/s | µs/region | peak MB | LP search (s) | LPs/region | one LP/region (s) | speed-up | "
        "speed-up vs one LP/region |",
        "|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ref = r["reference"]
        bu = "-" if r["bounded"] is None else f"{r['bounded']:,} / {r['unbounded']:,}"
        mark = "" if ref["complete"] else "~"
        lpr = ref["lps"] / max(ref["found"], 1)
        lines.append(
            f"| {r['arch']} | {'[-1,1]^d' if r['domain'] == 'box' else 'R^d'} | {r['regions']:,} | "
            f"{', '.join(f'{c:,}' for c in r['layer_counts'])} | {bu} | {r['serra_upper']:.3g} | "
            f"{fmt_s(r['seconds'])} | {r['regions'] / r['seconds']:,.0f} | "
            f"{1e6 * r['seconds'] / r['regions']:.0f} | {r['peak_mb']:.0f} | {mark}{fmt_s(ref['estimate'])} | "
            f"{lpr:.1f} | {fmt_s(ref['one_lp_per_region'])} | {mark}{r['speedup']:,.0f}x | "
            f"{r['speedup_one_lp']:,.0f}x |"
        )
    rel = [r for r in rows if "relucent" in r]
    if rel:
        lines += ["", "Side by side with relucent 1.0.0 (PyPI; Gurobi LPs under gurobipy's size-limited "
                  "licence-free mode, `Complex.bfs(nworkers=1)`, with `cube_radius=1, cube_mode='clipped'` "
                  "for the box), same weights:", "",
                  "| network | domain | regions (engine) | regions (relucent) | engine (s) | relucent (s) | speed-up |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for r in rel:
            q = r["relucent"]
            if q["status"] == "ok":
                lines.append(f"| {r['arch']} | {r['domain']} | {r['regions']:,} | {q['regions']:,} | "
                             f"{fmt_s(r['seconds'])} | {fmt_s(q['seconds'])} | {q['seconds'] / r['seconds']:,.0f}x |")
            else:
                lines.append(f"| {r['arch']} | {r['domain']} | {r['regions']:,} | - | {fmt_s(r['seconds'])} | "
                             f"{q['status']} | - |")
    checked = [r for r in rows if r["reference"]["complete"]]
    lines += [
        "",
        "Columns: *LP search* is `tests/polytope_reference.lp_bfs`, a breadth-first search over regions "
        "that flips one unit at a time and certifies each new pattern with one HiGHS Chebyshev LP "
        f"(scipy); it ran for at most {args.ref_seconds:g} s per row. `~` marks an **extrapolated** time: "
        "the measured time scaled linearly to the exact number of regions (the search costs the same per "
        "region throughout). *one LP/region* is the exact number of regions times the measured time of one "
        "LP: what an ideal search with a single LP per region would need. *peak MB*: growth of the peak "
        "resident memory (getrusage) of a child process during the count alone.",
        "",
        f"Reference runs that finished: {', '.join(r['arch'] + ' ' + r['domain'] for r in checked) or 'none'}; "
        f"their counts {'all agree' if all(r['reference']['agrees'] for r in checked) else 'DO NOT all agree'} "
        "with the engine.",
        "",
        f"Time grows with the number of regions as regions^{slope:.2f} (least-squares slope of log time on "
        "log regions over the rows above 0.05 s); the cost per region grows with the input dimension "
        "(vertices per region) and with the width of the layer being split.",
        "",
        "relucent: " + ("see the table above." if rel else
                        "not run (no interpreter with relucent and gurobipy found; pass --relucent-python)."),
        "",
        f"Total wall time of the benchmark: {total:.0f} s.",
        "",
    ]
    path.write_text("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
