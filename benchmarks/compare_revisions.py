"""Before/after timings of the three engines: a git revision against the working tree, side by side.

Every measurement runs in a fresh process with one BLAS thread: ``before``
(the revision, exported with ``git archive`` into
``benchmarks/_scratch/rev-<sha>/``, git-ignored), ``after`` (this working tree)
and, for the 1-D and 2-D cases, regioncam, one after the other for each case,
``--rounds`` times; each cell keeps the best time of its rounds (best of
``repeat`` runs inside a process, one run when it takes over 2 s).  Columns:
regions (counts beside times), wall time, system time and peak resident
memory above the size before the count (after imports and a warm-up count).
On a virtual machine first-touched memory costs system time, so peak memory
shows up in the times.

Usage::

    python benchmarks/compare_revisions.py --before main --out benchmarks/revisions.md
    python benchmarks/compare_revisions.py --before HEAD~3 --only planar --rounds 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: (engine, network, domain or bias, repeats inside a process)
CASES = {
    "line": [("line", "sawtooth:6", "[-1,1]", 3), ("line", "sawtooth:7", "[-1,1]", 1),
             ("line", "1-64-64-64-64-1", "[-1,1]", 5)],
    "planar": [("planar", "2-32-32-1", "same", 20), ("planar", "2-32-32-1", "zero", 20),
               ("planar", "2-64-64-64-1", "same", 10), ("planar", "2-256-256-256-1", "same", 3)],
    "polytope": [("polytope", a, "box", 3) for a in
                 ("3-16-16-1", "3-32-32-1", "3-64-64-1", "3-32-32-32-1", "4-16-16-1", "4-32-32-1",
                  "4-16-16-16-1", "5-16-16-1", "5-16-16-16-1", "6-8-8-8-1", "6-16-16-1")]
    + [("polytope", a, "whole", 3) for a in ("3-16-16-1", "3-32-32-1", "4-16-16-1", "4-16-16-16-1")],
}

WORKER = r"""
import json, resource, sys, time
import numpy as np
engine, arch, extra, repeat, tool = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
import regions
from regions.domains import box, interval, whole

def rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20

if arch.startswith("sawtooth:"):
    net = regions.constructions.sawtooth(depth=int(arch.split(":")[1]), width=10)
else:
    net = regions.Network.from_arch(arch, init="he", seed=0, bias=extra if engine == "planar" else "same")
if tool == "regioncam":
    import regioncam
    layers = [(np.ascontiguousarray(W.T, dtype=np.float32), b.astype(np.float32)) for W, b in net.layers]
    def f():
        rc = regioncam.Regioncam1D((-1.0, 1.0)) if engine == "line" else regioncam.Regioncam(1.0)
        for i, (W, b) in enumerate(layers):
            rc.linear(W, b)
            if i < len(layers) - 1:
                rc.relu()
        return rc.num_edges if engine == "line" else rc.num_faces
elif engine == "line":
    from regions.engines.line import count_line
    f = lambda: count_line(net, interval(-1.0, 1.0)).regions
    count_line(regions.Network.from_arch("1-4-1", seed=0), interval(-1.0, 1.0))
elif engine == "planar":
    from regions.engines.planar import count_plane
    f = lambda: count_plane(net).regions
    count_plane(regions.Network.from_arch("2-4-1", seed=0))
else:
    from regions.engines.polytope import count_polytope
    dom = box(-1.0, 1.0, dim=net.input_dim) if extra == "box" else whole(net.input_dim)
    f = lambda: count_polytope(net, dom).regions
    count_polytope(regions.Network.from_arch("3-4-1", seed=0), box(-1.0, 1.0, dim=3))
    count_polytope(regions.Network.from_arch("3-4-1", seed=0), whole(3))
base = rss_mb()
r0 = resource.getrusage(resource.RUSAGE_SELF)
best = float("inf")
for _ in range(repeat):
    t = time.perf_counter()
    n = f()
    best = min(best, time.perf_counter() - t)
    if best > 2.0:
        break
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"regions": int(n), "seconds": best, "sys": r1.ru_stime - r0.ru_stime,
                  "peak_mb": max(r1.ru_maxrss / 1024 - base, 0.0)}))
"""


def export(rev: str) -> tuple[Path, str]:
    """The tree of ``rev`` under ``benchmarks/_scratch/rev-<sha>`` (exported once) and its short sha."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    dest = HERE / "_scratch" / f"rev-{sha}"
    if not (dest / "regions").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest, sha


def measure(src: Path, case: tuple, tool: str, timeout: float) -> dict:
    engine, arch, extra, repeat = case
    env = dict(os.environ, PYTHONPATH=str(src), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    try:
        out = subprocess.run([sys.executable, "-c", WORKER, engine, arch, extra, str(repeat), tool], env=env,
                             capture_output=True, text=True, timeout=timeout, cwd=src)  # -c imports from cwd
    except subprocess.TimeoutExpired:
        return {"status": f"over {timeout:g} s"}
    if out.returncode != 0:
        return {"status": "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:80]}
    return {"status": "ok", **json.loads(out.stdout.strip().splitlines()[-1])}


def _cell(m: dict | None) -> str:
    if not m:
        return "– | – | – | –"
    if m["status"] != "ok":
        return f"{m['status']} | – | – | –"
    t = m["seconds"]
    ts = f"{1e3 * t:.1f} ms" if t < 1 else f"{t:.2f} s"
    return f"{m['regions']:,} | {ts} | {m['sys']:.2f} s | {m['peak_mb']:.0f} MB"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", default="main", help="git revision measured as 'before' (default: main)")
    ap.add_argument("--only", default=",".join(CASES), help="engines to compare (default: %(default)s)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds over all cases; each cell keeps its best")
    ap.add_argument("--timeout", type=float, default=600.0, help="time limit of one measuring process")
    ap.add_argument("--out", default=None, help="Markdown file to write (default: print only)")
    args = ap.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    bad = [n for n in names if n not in CASES]
    if bad:
        ap.error(f"--only: unknown engine(s) {', '.join(bad)}; choose from {', '.join(CASES)}")
    try:
        import regioncam  # noqa: F401
        peer = True
    except ImportError:
        peer = False
    before_src, sha = export(args.before)
    after_sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
    best: dict = {}
    t0 = time.perf_counter()
    for _ in range(args.rounds):
        for name in names:
            for case in CASES[name]:
                tools = [("before", before_src, "regions"), ("after", ROOT, "regions")]
                if peer and name in ("line", "planar"):
                    tools.append(("regioncam", ROOT, "regioncam"))
                for tag, src, tool in tools:
                    m = measure(src, case, tool, args.timeout)
                    old = best.setdefault(case, {}).get(tag)
                    if old is None or (m["status"] == "ok" and (old["status"] != "ok"
                                                                or m["seconds"] < old["seconds"])):
                        best[case][tag] = m
                print(case, json.dumps(best[case]), flush=True)
    lines = [f"# Before/after: `{args.before}` ({sha}) against the working tree (HEAD {after_sha})", "",
             f"Written by `python benchmarks/compare_revisions.py --before {args.before}` on "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.rounds} round(s), "
             f"{time.perf_counter() - t0:.0f} s; load average at the end "
             f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}. Each cell: regions | wall time | system time | "
             "peak memory (above the pre-count size), best of the rounds, every measurement in a fresh process "
             "with one BLAS thread. *after/before* and *after/regioncam*: ratios of wall times (below 1: "
             "the working tree is faster).", ""]
    for name in names:
        lines += [f"## {name}", "",
                  "| network | domain | before: regions | time | sys | peak | after: regions | time | sys | peak "
                  "| after / before" + (" | regioncam: regions | time | sys | peak | after / regioncam" if
                                        peer and name != "polytope" else "") + " |",
                  "|---|---|" + "---:|" * (9 + (5 if peer and name != "polytope" else 0))]
        for case in CASES[name]:
            c = best.get(case, {})
            b, a, p = c.get("before"), c.get("after"), c.get("regioncam")
            ok = b and a and b["status"] == a["status"] == "ok"
            row = (f"| {case[1]} | {case[2]} | {_cell(b)} | {_cell(a)} | "
                   + (f"{a['seconds'] / b['seconds']:.2f}" if ok else "–"))
            if peer and name != "polytope":
                okp = p and a and p["status"] == a["status"] == "ok"
                row += f" | {_cell(p)} | " + (f"{a['seconds'] / p['seconds']:.2f}" if okp else "–")
            lines.append(row + " |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
