"""Benchmark of the exact polytope engine (any input dimension) against an LP-per-region search.

Runs He-normal networks (seed 0) over ``[-1, 1]^d`` and over all of ``R^d``
with :func:`regions.polytope.count_polytope`, and the slow reference
:func:`regions._polytope_reference.lp_bfs` (breadth-first search over
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
import tracemalloc
from pathlib import Path

import numpy as np

import regions
from regions import Network, theory
from regions._polytope_reference import lp_bfs
from regions.domains import box, whole
from regions.polytope import count_polytope

ARCHS = ["3-16-16-1", "3-32-32-1", "3-64-64-1", "3-32-32-32-1", "4-16-16-1", "4-32-32-1", "4-16-16-16-1"]
QUICK = ["3-16-16-1", "3-32-32-1", "4-16-16-1", "4-16-16-16-1"]
HERE = Path(__file__).resolve().parent


def run_engine(net: Network, dom) -> dict:
    tracemalloc.start()
    t0 = time.perf_counter()
    res = count_polytope(net, dom)
    sec = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"regions": res.regions, "layer_counts": res.layer_counts, "bounded": res.bounded,
            "unbounded": res.unbounded, "seconds": sec, "peak_mb": peak / 2**20}


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


def relucent_status() -> str:
    try:
        import relucent  # noqa: F401
    except ImportError:
        return ("not run: relucent (PyPI, AGPL) needs gurobipy, whose licence-free mode caps model size; "
                "it is not installed in this environment")
    return "installed (not timed by this script)"


def fmt_s(x: float) -> str:
    return f"{x:.3g}" if x < 100 else f"{x:,.0f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="only the smaller networks")
    ap.add_argument("--ref-seconds", type=float, default=6.0, help="time limit of each reference run")
    ap.add_argument("--full-ref", default="3-16-16-1:box",
                    help="arch:domain pairs (comma separated) whose reference runs to the end")
    ap.add_argument("--out", default=str(HERE / "polytope.md"))
    ap.add_argument("--json", dest="json_out", default=None)
    args = ap.parse_args(argv)
    archs = QUICK if args.quick else ARCHS
    full = {tuple(x.split(":")) for x in args.full_ref.split(",") if x}
    rows = []
    t_start = time.perf_counter()
    for arch in archs:
        net = Network.from_arch(arch, init="he", seed=0)
        d = net.input_dim
        for kind, dom in (("box", box(-1.0, 1.0, dim=d)), ("whole", whole(d))):
            eng = run_engine(net, dom)
            limit = None if (arch, kind) in full else args.ref_seconds
            ref = run_reference(net, dom, limit, eng["regions"])
            row = {"arch": arch, "domain": kind, **eng,
                   "serra_upper": theory.serra_upper_bound(d, list(net.widths)), "reference": ref,
                   "speedup": ref["estimate"] / eng["seconds"],
                   "speedup_one_lp": ref["one_lp_per_region"] / eng["seconds"]}
            rows.append(row)
            print(f"{arch:>14} {kind:>5} {eng['regions']:>8} regions {eng['seconds']:8.2f} s "
                  f"{eng['regions'] / eng['seconds']:9.0f} reg/s {eng['peak_mb']:7.1f} MB | ref "
                  f"{'' if ref['complete'] else '~'}{ref['estimate']:9.1f} s ({ref['found']} found, "
                  f"{ref['ms_per_lp']:.2f} ms/LP) x{row['speedup']:.0f}", flush=True)
    total = time.perf_counter() - t_start
    # growth of time with regions: least-squares slope of log(seconds) on log(regions)
    big = [r for r in rows if r["seconds"] > 0.05]
    slope = float(np.polyfit(np.log([r["regions"] for r in big]), np.log([r["seconds"] for r in big]), 1)[0]) \
        if len(big) >= 2 else float("nan")
    write_table(rows, total, slope, args, Path(args.out))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"rows": rows, "total_seconds": total, "slope": slope},
                                                  indent=1, default=str))
    return 0


def write_table(rows, total, slope, args, path: Path) -> None:
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
    checked = [r for r in rows if r["reference"]["complete"]]
    lines += [
        "",
        "Columns: *LP search* is `regions._polytope_reference.lp_bfs`, a breadth-first search over regions "
        "that flips one unit at a time and certifies each new pattern with one HiGHS Chebyshev LP "
        f"(scipy); it ran for at most {args.ref_seconds:g} s per row. `~` marks an **extrapolated** time: "
        "the measured time scaled linearly to the exact number of regions (the search costs the same per "
        "region throughout). *one LP/region* is the exact number of regions times the measured time of one "
        "LP: what an ideal search with a single LP per region would need. *peak MB*: tracemalloc peak of "
        "the count (numpy buffers included).",
        "",
        f"Reference runs that finished: {', '.join(r['arch'] + ' ' + r['domain'] for r in checked) or 'none'}; "
        f"their counts {'all agree' if all(r['reference']['agrees'] for r in checked) else 'DO NOT all agree'} "
        "with the engine.",
        "",
        f"Time grows with the number of regions as regions^{slope:.2f} (least-squares slope of log time on "
        "log regions over the rows above 0.05 s); the cost per region grows with the input dimension "
        "(vertices per region) and with the width of the layer being split.",
        "",
        f"relucent: {relucent_status()}.",
        "",
        f"Total wall time of the benchmark: {total:.0f} s.",
        "",
    ]
    path.write_text("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
