"""Benchmark of the exact 1-D engine, side by side with regioncam's Regioncam1D.

Run from the repository root::

    python benchmarks/bench_line.py            # writes benchmarks/line.md and line.json
    python benchmarks/bench_line.py --quick    # smaller set, for a smoke test

Every measurement runs in a fresh process, so the peak memory (VmHWM minus the
resident size after imports and network construction) belongs to that
measurement alone.  regioncam (``pip install regioncam``) works in float32; it
is skipped cleanly when absent.  Counts are shown beside the times: a time is
only comparable where the counts agree, and where they differ the exact value
is known (the sawtooth has exactly 11**K regions; see tests/test_line.py).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import regions  # noqa: E402
from regions.core.io import write_text_atomic  # noqa: E402


def _rss(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def _network(spec: dict) -> regions.Network:
    if spec["kind"] == "sawtooth":
        return regions.constructions.sawtooth(depth=spec["depth"], width=spec["width"])
    return regions.Network.from_arch(spec["arch"], init="he", seed=spec["seed"])


def _domain(spec: dict):
    return regions.whole(1) if spec["domain"] == "R" else regions.interval(-1.0, 1.0)


def _run_ours(spec: dict, mode: str, repeat: int):
    net = _network(spec)
    dom = _domain(spec)
    base = _rss("VmRSS")
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        if mode == "count":
            n = regions.count_line(net, dom).regions
        else:
            n = regions.partition_line(net, dom).n_regions
        best = min(best, time.perf_counter() - t0)
    return n, best, _rss("VmHWM") - base


def _run_regioncam(spec: dict, mode: str, repeat: int):
    import regioncam

    net = _network(spec)
    lo, hi = (-1.0, 1.0) if spec["domain"] != "R" else (-1e6, 1e6)  # regioncam needs a bounded range
    layers = [(W.T.astype(np.float32).copy(), b.astype(np.float32)) for W, b in net.layers]
    base = _rss("VmRSS")
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        rc = regioncam.Regioncam1D((lo, hi))
        for i, (W, b) in enumerate(layers):
            rc.linear(W, b)
            if i < len(layers) - 1:
                rc.relu()
        n = rc.num_edges
        best = min(best, time.perf_counter() - t0)
        del rc
    return n, best, _rss("VmHWM") - base


def _worker(args, queue):
    tool, spec, mode, repeat = args
    try:
        fn = _run_ours if tool == "regions" else _run_regioncam
        queue.put(("ok", fn(spec, mode, repeat)))
    except Exception as exc:  # reported in the table, never hidden
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def measure(tool: str, spec: dict, mode: str, repeat: int, timeout: float):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_worker, args=((tool, spec, mode, repeat), queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.kill()
        proc.join()
        return None, None, None, f"over {timeout:.0f} s"
    if queue.empty():
        return None, None, None, f"died (exit {proc.exitcode})"
    status, payload = queue.get()
    if status != "ok":
        return None, None, None, payload
    return (*payload, "")


def exact_reference_count(spec: dict) -> tuple[int, str]:
    """Count with the exact rational-arithmetic reference of the tests (slow, independent)."""
    sys.path.insert(0, str(HERE.parent / "tests"))
    from exact_reference import exact_partition, to_fractions

    lo, hi = (-10**6, 10**6) if spec["domain"] == "R" else (-1, 1)
    _, pats, _ = exact_partition(to_fractions(_network(spec).layers), lo, hi)
    how = f"Fractions on [{lo:g}, {hi:g}]"
    if spec["domain"] == "R":
        part = regions.partition_line(_network(spec), _domain(spec))
        inside = lo < part.breaks[1] and part.breaks[-2] < hi
        how += ", which holds every breakpoint" if inside else ", NOT holding every breakpoint"
    return len(pats), how


def have_regioncam() -> bool:
    try:
        import regioncam  # noqa: F401
    except ImportError:
        return False
    return True


def cases(quick: bool) -> list[dict]:
    saw = [{"kind": "sawtooth", "depth": k, "width": 10, "domain": "box", "label": f"sawtooth D=10 K={k} on [-1,1]",
            "exact": 11**k} for k in ((5, 6) if quick else (5, 6, 7))]
    rnd = [{"kind": "random", "arch": a, "seed": 0, "domain": d, "label": f"He {a} on {'R' if d == 'R' else '[-1,1]'}",
            "exact": None}
           for a, d in [("1-10-10-10-10-10-1", "box"), ("1-64-64-64-64-1", "box"),
                        ("1-256-256-256-1", "box"), ("1-64-64-64-64-1", "R")]]
    return saw + (rnd[:2] if quick else rnd)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller set (smoke test)")
    ap.add_argument("--out", default=str(HERE / "line"), help="output stem (.md and .json are written)")
    ap.add_argument("--timeout", type=float, default=240.0, help="seconds per measurement")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS threads of every measuring process (regioncam is single-threaded); 0: leave as is")
    args = ap.parse_args(argv)
    if args.threads:  # inherited by the spawned measuring processes, read when they import numpy
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    rc_ok = have_regioncam()
    rows = []
    for spec in cases(args.quick):
        big = spec.get("exact") and spec["exact"] > 5_000_000
        repeat = 1 if big else 3
        row = {"case": spec["label"], "exact": spec["exact"]}
        for tool, mode in [("regions", "count"), ("regions", "partition"), ("regioncam", "partition")]:
            if tool == "regioncam" and not rc_ok:
                row[f"{tool}_{mode}"] = {"note": "regioncam not installed"}
                continue
            if tool == "regions" and mode == "partition" and big:
                row[f"{tool}_{mode}"] = {"note": "count-only path used for this size"}
                continue
            n, sec, mem, note = measure(tool, spec, mode, repeat, args.timeout)
            row[f"{tool}_{mode}"] = {"regions": n, "seconds": sec, "peak_bytes": mem, "note": note}
            print(f"{spec['label']:<34} {tool:<9} {mode:<9} regions={n} seconds={sec} peak={mem} {note}", flush=True)
        ours, theirs = row["regions_count"].get("regions"), row["regioncam_partition"].get("regions")
        if row["exact"] is None and theirs is not None and ours is not None and theirs != ours:
            row["exact"], row["exact_how"] = exact_reference_count(spec)
            print(f"{spec['label']:<34} exact rational reference: {row['exact']} ({row['exact_how']})", flush=True)
        rows.append(row)
    write_report(rows, args.out, rc_ok, args.threads)


def _fmt_t(x):
    return "–" if x is None else (f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s")


def _n(x):
    return "–" if x is None else (f"{x:,}" if isinstance(x, int) else str(x))


def _fmt_mb(x):
    return "–" if x is None else f"{x / 2**20:.0f} MB"


def write_report(rows, stem, rc_ok, threads):
    lines = [
        "# 1-D engine benchmark",
        "",
        f"Generated by `python benchmarks/bench_line.py` on {platform.machine()} / Python "
        f"{platform.python_version()} / numpy {np.__version__}; one run, each measurement in a fresh "
        "process (best of 3 for small cases). Peak memory: resident peak above the process's size after "
        "imports. BLAS threads per process: " + (str(threads) if threads else "as configured") + ". regioncam: "
        + ("installed (Regioncam1D, float32)." if rc_ok else "not installed, its columns are empty."),
        "",
        "| case | exact | regions: count | time | regions/s | peak | regions: full | time | bytes/region | "
        "regioncam | time | peak | regioncam time / ours |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        c, p, q = r["regions_count"], r["regions_partition"], r["regioncam_partition"]
        rate = f"{c['regions'] / c['seconds']:,.0f}" if c.get("seconds") else "–"
        bpr = f"{p['peak_bytes'] / p['regions']:.0f}" if p.get("peak_bytes") and p.get("regions") else "–"
        ratio = f"{q['seconds'] / c['seconds']:.1f}×" if q.get("seconds") and c.get("seconds") else "–"
        mark = ""
        if q.get("regions") is not None and c.get("regions") is not None and q["regions"] != c["regions"]:
            mark = " ≠"
        lines.append(
            f"| {r['case']} | {_n(r['exact'])} | {_n(c.get('regions'))} | {_fmt_t(c.get('seconds'))} | "
            f"{rate} | {_fmt_mb(c.get('peak_bytes'))} | "
            f"{_n(p['regions']) if p.get('regions') is not None else p.get('note', '–')} | "
            f"{_fmt_t(p.get('seconds'))} | {bpr} | "
            f"{(_n(q['regions']) + mark) if q.get('regions') is not None else q.get('note', '–')} | "
            f"{_fmt_t(q.get('seconds'))} | {_fmt_mb(q.get('peak_bytes'))} | {ratio} |"
        )
    lines += [
        "",
        "`exact`: the count known independently of any engine (11^K for the sawtooth, a theorem; where the "
        "two tools disagree on a random network, the exact rational-arithmetic reference of tests/exact_reference.py). "
        "`≠`: regioncam's count differs from ours; on the sawtooth rows the exact value shows which is right "
        "(regioncam's float32 arithmetic merges or drops breakpoints of the deep composition; the sawtooth "
        "has the same 11^K regions on [-1,1] as on R). "
        "On random networks the two agree when float32 resolves every breakpoint. "
        "regioncam has no count-only mode, so its column is compared with our count-only path, the one "
        "`regions count` uses. For all of R regioncam is given the range [-1e6, 1e6] (it needs a bounded range).",
        "",
    ]
    text = "\n".join(lines)
    write_text_atomic(f"{stem}.md", text)
    write_text_atomic(f"{stem}.json", json.dumps(rows, indent=2))
    print(text)


if __name__ == "__main__":
    main()
