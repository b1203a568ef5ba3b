"""Benchmark of split counts: one count in many processes (``regions.count(..., jobs=N)``).

Run from the repository root::

    python benchmarks/bench_split.py             # 11^8 on R: writes benchmarks/split.md and split.json
    python benchmarks/bench_split.py --quick     # 11^6, for a smoke test
    python benchmarks/bench_split.py --planar --nd   # also the 2-D and 4-D nets (long)
    python benchmarks/bench_split.py --check-depth 9 --check-runs 0,32,58,63   # runs of 11^9, each exact?

Measured side by side in one run, every measurement in a fresh process:

* the sawtooth of depth K and width 10 on R (exactly 11^K regions): one
  process (``count_line``), then split over 1 and 2 local worker processes;
  time, speed-up against one process, and the peak resident memory of the
  client and of the largest worker (``getrusage``: the workers are joined
  before the measurement ends);
* the per-subproblem overhead: the same count split into 1, 16, 64 and 256
  subproblems, run in the measuring process (no worker start-up), as
  ``(time - time of 1 subproblem) / subproblems``;
* with ``--planar``: a He-initialised 2-512-512-512-1 on [-1, 1]^2 (or the
  nets of ``--planar-archs``), one process against 2 workers with the
  default split (sized by work) and with 64 parts; with ``--nd``: a
  4-64-64-1 on R^4 (or ``--nd-archs``), one process against 2 workers.
  ``--out-name`` names the .md/.json written.

* with ``--check-depth K --check-runs i,j,...``: single subproblems of the
  split of the depth-K sawtooth (64 parts), counted in this process and
  compared with their exact count: every prefix region of the sawtooth
  holds exactly ``11^(K - p)`` final regions (``p`` the prefix depth), by
  construction.  This measures 11^9 run by run where the whole count is
  too long for the machine (tens of CPU minutes).

Counts are shown beside the times; a time is comparable only where the
counts agree (they must: the split is exact).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import regions  # noqa: E402
from regions.core.io import write_text_atomic  # noqa: E402


def _job(spec: dict):
    if spec["kind"] == "sawtooth":
        return regions.constructions.sawtooth(depth=spec["depth"], width=spec["width"]), regions.whole(1)
    net = regions.Network.from_arch(spec["arch"], init="he", seed=spec["seed"])
    d = net.input_dim
    return net, (regions.whole(d) if spec["domain"] == "R" else regions.box(-1.0, 1.0, dim=d))


def _measure(spec: dict, how: dict, queue) -> None:  # runs in a fresh process
    net, dom = _job(spec)
    t0 = time.perf_counter()
    if how["mode"] == "one":
        r = regions.count(net, dom)
    elif how["mode"] == "engine":  # one process without the size check (a 4-D box past 10^6 regions)
        from regions.engines.registry import select

        r = select(net, dom).count(net, dom)
    elif how["mode"] == "inproc":
        from regions.engines.registry import select
        from regions.execution.split import count_split

        r = count_split(net, dom, select(net, dom), parts=how["parts"])
    elif how.get("parts"):
        from regions.engines.registry import select
        from regions.execution.split import count_split

        r = count_split(net, dom, select(net, dom), jobs=how["jobs"], parts=how["parts"])
    else:
        r = regions.count(net, dom, jobs=how["jobs"])
    seconds = time.perf_counter() - t0
    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    queue.put({"regions": r.regions, "pieces": r.pieces, "seconds": seconds, "client_rss": mine, "worker_rss": workers or None,
               "subproblems": r.extra.get("subproblems")})


def measure(spec: dict, how: dict) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_measure, args=(spec, how, q))
    p.start()
    out = q.get()
    p.join()
    return {**how, **out}


def check_runs(depth: int, runs: list[int]) -> list[dict]:
    """Subproblems ``runs`` of the 64-part split of the depth-``depth`` sawtooth against their exact count."""
    from regions.engines.registry import get_engine

    net, dom = regions.constructions.sawtooth(depth=depth, width=10), regions.whole(1)
    eng = get_engine("line")
    subs = eng.split(net, dom, parts=64)
    out = []
    for i in runs:
        t0 = time.perf_counter()
        r = eng.count_subproblem(net, dom, subs[i])
        sp = r.extra["_split"]
        want = (sp["b"] - sp["a"]) * 11 ** (depth - sp["depth"])
        out.append({"depth": depth, "index": i, "of": len(subs), "key": subs[i].key, "regions": r.regions,
                    "exact": want, "difference": r.regions - want, "pieces": r.pieces,
                    "seconds": time.perf_counter() - t0})
        print(out[-1], flush=True)
    return out


def _mb(x) -> str:
    return "-" if x is None else f"{x / 2**20:,.0f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="11^6 instead of 11^8")
    ap.add_argument("--depth", type=int, default=None, help="sawtooth depth (default 8, 6 with --quick)")
    ap.add_argument("--planar", action="store_true", help="also 2-512-512-512-1 on [-1, 1]^2 (long)")
    ap.add_argument("--planar-archs", default="2-512-512-512-1",
                    help="comma-separated 2-D nets for --planar (each also split into 64 parts, the old default)")
    ap.add_argument("--nd", action="store_true", help="also 4-64-64-1 on R^4 (long)")
    ap.add_argument("--nd-archs", default="4-64-64-1", help="comma-separated nets on R^d for --nd")
    ap.add_argument("--nd-domain", choices=("R", "box"), default="R",
                    help="--nd nets on all of R^d (default) or on [-1, 1]^d (then also --jobs 1)")
    ap.add_argument("--out-name", default="split", help="stem of the .md/.json written (split: split.md)")
    ap.add_argument("--no-sawtooth", action="store_true", help="only the --planar/--nd rows")
    ap.add_argument("--check-depth", type=int, default=None, help="sawtooth depth whose runs --check-runs counts")
    ap.add_argument("--check-runs", default="", help="comma-separated subproblem indices (of 64) to count alone")
    ap.add_argument("--out-dir", default=str(HERE), help="where split.md and split.json go")
    args = ap.parse_args(argv)
    if args.check_depth is not None:
        checks = check_runs(args.check_depth, [int(x) for x in args.check_runs.split(",") if x.strip()])
        lines = [f"Single subproblems of the {checks[0]['of'] if checks else 64}-part split of the sawtooth "
                 f"{args.check_depth}x10 on R, against their exact count (11^(K - p) per prefix region):", "",
                 "| subproblem | key | regions | exact | difference | seconds |", "|---:|---|---:|---:|---:|---:|"]
        lines += [f"| {c['index']} | {c['key']} | {c['regions']:,} | {c['exact']:,} | {c['difference']:+,} | "
                  f"{c['seconds']:.1f} |" for c in checks]
        text = "\n".join(lines) + "\n"
        print(text)
        out = Path(args.out_dir)
        write_text_atomic(out / "split_check.md", text)
        write_text_atomic(out / "split_check.json", json.dumps({"checks": checks}, indent=1) + "\n")
        return 0
    depth = args.depth or (6 if args.quick else 8)
    rows, over = [], []
    if not args.no_sawtooth:
        saw = {"kind": "sawtooth", "depth": depth, "width": 10, "name": f"sawtooth {depth}x10 on R"}
        base = measure(saw, {"mode": "one"})
        rows.append({"job": saw["name"], "how": "1 process", **base})
        for jobs in (1, 2):
            rows.append({"job": saw["name"], "how": f"--jobs {jobs}",
                         **measure(saw, {"mode": "jobs", "jobs": jobs})})
        small = {"kind": "sawtooth", "depth": 6, "width": 10, "name": "sawtooth 6x10 on R"}
        for parts in (1, 16, 64, 256):
            over.append({"job": small["name"], **measure(small, {"mode": "inproc", "parts": parts})})
    extra = []
    if args.planar:
        for arch in args.planar_archs.split(","):
            extra.append({"kind": "he", "arch": arch, "seed": 0, "domain": "box", "name": f"{arch} on [-1,1]^2"})
    if args.nd:
        for arch in args.nd_archs.split(","):
            d = arch.split("-")[0]
            where = f"R^{d}" if args.nd_domain == "R" else f"[-1,1]^{d}"
            extra.append({"kind": "he", "arch": arch, "seed": 0, "domain": args.nd_domain,
                          "name": f"{arch} on {where}", "nd": True})
    for spec in extra:
        one = measure(spec, {"mode": "engine" if spec.get("nd") else "one"})
        rows.append({"job": spec["name"], "how": "1 process", **one})
        if spec.get("nd") and spec["domain"] == "box":
            rows.append({"job": spec["name"], "how": "--jobs 1", **measure(spec, {"mode": "jobs", "jobs": 1})})
        rows.append({"job": spec["name"], "how": "--jobs 2", **measure(spec, {"mode": "jobs", "jobs": 2})})
        if spec["domain"] == "box" and not spec.get("nd"):  # the 2-D split before it was sized by work
            rows.append({"job": spec["name"], "how": "--jobs 2, 64 parts",
                         **measure(spec, {"mode": "jobs", "jobs": 2, "parts": 64})})

    lines = [f"Split counts, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
             f"times in seconds, memory = peak resident MB per process.", "",
             "| job | run | regions | pieces | subproblems | seconds | speed-up | client MB | largest worker MB |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    ref = {}
    for r in rows:
        if r["how"] == "1 process":
            ref[r["job"]] = r["seconds"]
        pieces = "-" if r.get("pieces") is None else f"{r['pieces']:,}"
        lines.append(f"| {r['job']} | {r['how']} | {r['regions']:,} | {pieces} | {r.get('subproblems') or '-'} | "
                     f"{r['seconds']:.2f} | {ref[r['job']] / r['seconds']:.2f} | {_mb(r['client_rss'])} | "
                     f"{_mb(r['worker_rss']) if r['how'] != '1 process' else '-'} |")
    if over:
        lines += ["", "Per-subproblem overhead (split run in the measuring process, no worker start-up):", "",
                  "| job | subproblems | regions | seconds | overhead per subproblem (ms) |", "|---|---:|---:|---:|---:|"]
    t1 = over[0]["seconds"] if over else 0.0
    for r in over:
        per = "-" if r["parts"] == 1 else f"{1000 * (r['seconds'] - t1) / r['subproblems']:.1f}"
        lines.append(f"| {r['job']} | {r['subproblems']} | {r['regions']:,} | {r['seconds']:.2f} | {per} |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out_dir)
    write_text_atomic(out / f"{args.out_name}.md", text)
    write_text_atomic(out / f"{args.out_name}.json", json.dumps({"rows": rows, "overhead": over}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
