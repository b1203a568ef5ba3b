"""Cost of the exact ray/line checks (issue 15) on generic and degenerate nets: this tree against a reference.

Each case runs in a fresh process per tree (``PYTHONPATH`` = the tree), best of ``--reps`` timings,
the two trees interleaved so that the load of the machine hits both alike.  The ratio is
``this / reference``; counts are printed beside the times (a refusal is shown as ``refused``).

Usage::

    python benchmarks/bench_exact_rays.py --ref /path/to/main [--reps 3] [--out benchmarks/exact_rays_check]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]

CASES = [
    # (name, engine, arch, seed, domain expression, network transform)
    ("R^3 3-16-16-1", "polytope", "3-16-16-1", 0, "whole(3)", ""),
    ("R^4 4-10-10-1", "polytope", "4-10-10-1", 0, "whole(4)", ""),
    ("R^2 2-24-24-24-1", "polytope", "2-24-24-24-1", 0, "whole(2)", ""),
    ("box 3-D 3-16-16-1 (walk: zero bias unit)", "polytope", "3-16-16-1", 1, "box(-1.0, 1.0, dim=3)", "zero1"),
    ("box 3-D 3-12-12-1 no biases", "polytope", "3-12-12-1", 2, "box(-1.0, 1.0, dim=3)", "nobias"),
    ("box 2-D 2-32-32-1 (mesh)", "planar", "2-32-32-1", 0, "box(-1.0, 1.0, dim=2)", ""),
    ("polygon 2-32-32-1 (mesh)", "planar", "2-32-32-1", 0,
     "polygon([[-1, -1], [1, -1], [1, 1], [0, 1.5], [-1, 1]])", ""),
    ("polygon 2-16-16-1 zero biases (mesh)", "planar", "2-16-16-1", 3,
     "polygon([[-1, -1], [1, -1], [1, 1], [0, 1.5], [-1, 1]])", "zero3"),
]

SNIPPET = r"""
import json, sys, time
import numpy as np
from regions import Network
from regions.domains import box, polygon, whole
from regions.engines.registry import count
from regions.errors import NumericalError
engine, arch, seed, dom, tf, reps = sys.argv[1:7]
net = Network.from_arch(arch, seed=int(seed))
if tf:
    lay = [(W.copy(), b.copy()) for W, b in net.layers]
    if tf == "nobias":
        lay = [(W, np.zeros_like(b)) if i < len(lay) - 1 else (W, b) for i, (W, b) in enumerate(lay)]
    elif tf.startswith("zero"):
        lay[0][1][: int(tf[4:])] = 0.0
    net = Network(lay)
d = eval(dom)
best, n = float("inf"), None
for _ in range(int(reps)):
    t = time.perf_counter()
    try:
        n = count(net, d, engine=engine).regions
    except NumericalError:
        n = "refused"
    best = min(best, time.perf_counter() - t)
print(json.dumps({"t": best, "n": n}))
"""


def _run(tree: Path, case: tuple, reps: int) -> dict:
    name, engine, arch, seed, dom, tf = case
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", SNIPPET, engine, arch, str(seed), dom, tf, str(reps)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", required=True, type=Path, help="the reference tree (e.g. a checkout of main)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "benchmarks" / "exact_rays_check")
    a = ap.parse_args()
    rows = []
    for case in CASES:
        ref = _run(a.ref, case, a.reps)
        new = _run(HERE, case, a.reps)
        rows.append({"case": case[0], "engine": case[1], "ref_s": ref["t"], "new_s": new["t"],
                     "ratio": new["t"] / ref["t"], "ref_regions": ref["n"], "new_regions": new["n"]})
        print(f"{case[0]:42s} {ref['t']:8.3f}s {new['t']:8.3f}s  x{new['t'] / ref['t']:5.2f}  "
              f"{ref['n']} / {new['n']}", flush=True)
    a.out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    lines = ["# Exact ray/line checks (issue 15): cost against the reference tree", "",
             f"Best of {a.reps}, each case in a fresh process per tree, trees interleaved; ratio = this / ref.",
             "", "| case | engine | ref s | this s | ratio | regions ref / this |",
             "|---|---|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['engine']} | {r['ref_s']:.3f} | {r['new_s']:.3f} | {r['ratio']:.2f} | "
                     f"{r['ref_regions']} / {r['new_regions']} |")
    a.out.with_suffix(".md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
