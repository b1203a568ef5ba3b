"""Benchmark of the LP engine against the vertex (polytope) engine, and of the reduction of R^d.

Every measurement runs in a fresh subprocess (peak memory = its maximum
resident set size) under a time limit.  Cases:

* crossover: ``N-8-1`` He networks (seed 0) on ``[-1, 1]^N`` for growing N,
  both engines side by side (counts beside times; the vertex engine carries
  the box's 2^N vertices);
* ``10-8-8-1`` on ``[-1, 1]^10`` (LP engine; target < 5 s);
* ``784-8-6-10`` on ``[0, 1]^784`` (LP engine; target < 10 s);
* ``784-8-8-10`` on all of ``R^784`` (reduction to ``R^8``, then the vertex
  engine; target < 5 s).

Writes a Markdown table to ``benchmarks/lp.md`` (and the rows as JSON with
``--json PATH``).

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
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row.update(arch=arch, domain="R^d" if lo == float("-inf") else f"[{lo:g},{hi:g}]^d", asked=engine)
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--limit", type=float, default=120.0, help="seconds per measurement")
    ap.add_argument("--json", help="also write the rows as JSON here")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "lp.md"))
    args = ap.parse_args(argv)
    rows = []
    dims = range(4, 9) if args.quick else range(4, 12)
    for n in dims:
        for eng in ("polytope", "lp"):
            rows.append(measure(f"{n}-8-1", -1, 1, eng, args.limit))
            print(rows[-1], flush=True)
    big = [("10-8-8-1", -1.0, 1.0, "lp"), ("784-8-8-10", float("-inf"), float("inf"), "auto")]
    if not args.quick:
        big.append(("784-8-6-10", 0.0, 1.0, "lp"))
    for arch, lo, hi, eng in big:
        rows.append(measure(arch, lo, hi, eng, args.limit * 5))
        print(rows[-1], flush=True)
    lines = ["| network | domain | engine | regions | seconds | regions/s | LPs/region | peak MB |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        if "timeout" in r:
            lines.append(f"| {r['arch']} | | {r['engine']} | - | > {r['timeout']:.0f} | | | |")
            continue
        lpr = f"{r['lps'] / r['regions']:.2f}" if r.get("lps") else ""
        eng = r["engine"] + (f" (reduced to R^{r['reduced_dim']})" if r.get("reduced_dim") else "")
        lines.append(f"| {r['arch']} | {r['domain']} | {eng} | {r['regions']} | {r['seconds']:.2f} | "
                     f"{r['regions'] / max(r['seconds'], 1e-9):.0f} | {lpr} | {r['peak_mb']:.0f} |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print(text)


if __name__ == "__main__":
    main()
