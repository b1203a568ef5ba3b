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

Edge subdivision (Berzins 2023, public repository
``arturs-berzins/relu_edge_subdivision``) runs side by side on the box rows
when ``--edge-subdivision PATH`` (or ``$EDGE_SUBDIVISION``) names a checkout
or a git directory of it.  Its code is never part of this repository: it is
copied at run time into ``benchmarks/_scratch/edge_subdivision/`` (git-ignored)
with its ``.float()`` casts patched to ``.double()`` and torch's default
dtype set to float64, and run on the CPU with one thread, on the same
He-initialised weights (hidden layers only: it subdivides by every neuron of
the network it is given).  Its regions are counted from its vertex sign
vectors: every vertex's zero signs (hyperplanes through it) completed by
both signs, unique patterns over the hidden neurons; its time includes that
count.  Without the option the column is skipped.

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
#: higher input dimensions: run on the box only (the cost per region grows with the dimension)
BOX_ONLY = ["5-16-16-1", "5-16-16-16-1", "6-8-8-8-1", "6-16-16-1"]
BOX_ONLY_QUICK = ["5-16-16-1", "6-8-8-8-1"]
HERE = Path(__file__).resolve().parent
SCRATCH = HERE / "_scratch" / "edge_subdivision"
#: files of relu_edge_subdivision the benchmark needs (read from the given checkout, never committed)
ES_FILES = ("edge_subdivision.py", "utils.py", "NN.py")


def make_domain(kind: str, d: int):
    return box(-1.0, 1.0, dim=d) if kind == "box" else whole(d)


def engine_worker(arch: str, kind: str, repeat: int = 1) -> None:
    """Child process: best of ``repeat`` timed counts (one run when the first takes over 2 s), peak memory
    from getrusage (prints JSON)."""
    import resource

    net = Network.from_arch(arch, init="he", seed=0)
    dom = make_domain(kind, net.input_dim)
    count_polytope(Network.from_arch("3-4-1", seed=0), whole(3))  # warm up imports and caches
    before = _rss_kb()
    best = math.inf
    for i in range(max(repeat, 1)):
        t0 = time.perf_counter()
        res = count_polytope(net, dom)
        best = min(best, time.perf_counter() - t0)
        if best > 2.0:
            break
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"regions": res.regions, "layer_counts": res.layer_counts, "bounded": res.bounded,
                      "unbounded": res.unbounded, "seconds": best, "peak_mb": max(after - before, 0) / 1024}))


def _rss_kb() -> float:
    """Current resident size of this process in KiB (the baseline of the peak-memory columns)."""
    import resource

    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1024


def run_engine(arch: str, kind: str, repeat: int = 1) -> dict:
    out = subprocess.run([sys.executable, __file__, "--engine-worker", arch, kind, "--repeat", str(repeat)],
                         check=True, capture_output=True, text=True, env=_one_thread_env())
    return json.loads(out.stdout.strip().splitlines()[-1])


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


# ------------------------------------------------------------------ edge subdivision (Berzins 2023)
def _read_peer_file(src: Path, name: str) -> str:
    """One file of relu_edge_subdivision from a checkout (``src/name``) or a git directory (``HEAD:name``)."""
    if (src / name).is_file():
        return (src / name).read_text()
    out = subprocess.run(["git", "--git-dir", str(src), "show", f"HEAD:{name}"], capture_output=True, text=True)
    if out.returncode != 0:
        raise FileNotFoundError(f"{name} neither in {src} nor in its git HEAD")
    return out.stdout


def materialise_edge_subdivision(option: str | None) -> tuple[Path, str] | None:
    """Copy relu_edge_subdivision into the scratch folder, float64-patched; None when not given or unreadable.

    The source is ``option`` or ``$EDGE_SUBDIVISION``: a checkout of the repository or its git
    directory.  Returns the scratch folder and a short description of the source (commit when known).
    """
    src = option or os.environ.get("EDGE_SUBDIVISION")
    if not src:
        return None
    src_path = Path(src).expanduser()
    try:
        texts = {name: _read_peer_file(src_path, name) for name in ES_FILES}
    except (FileNotFoundError, OSError) as exc:
        print(f"edge subdivision skipped: {exc}", file=sys.stderr)
        return None
    texts["edge_subdivision.py"] = texts["edge_subdivision.py"].replace(".float()", ".double()")
    SCRATCH.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (SCRATCH / name).write_text(text)
    rev = subprocess.run(["git", "--git-dir", str(src_path / ".git") if (src_path / ".git").exists()
                          else str(src_path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return SCRATCH, (rev.stdout.strip() if rev.returncode == 0 else "unknown commit")


ES_WORKER = r"""
import json, resource, sys, time
import numpy as np
import torch
torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)
sys.path.insert(0, sys.argv[1])
from NN import Net
from edge_subdivision import skeletal_subdivision


def rss_kb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 1024


def count_from_vertices(v_sv, n_box):
    # regions from vertex sign vectors: complete each vertex's zero signs over the hidden neurons by
    # both signs (a generic vertex lies on d hyperplanes and touches 2^d regions), unique patterns
    sv = v_sv[:, n_box:].numpy()
    n = sv.shape[1]
    words = -(-n // 64)
    bits = np.packbits(np.pad(sv > 0, ((0, 0), (0, 64 * words - n))), axis=1, bitorder="little")
    pos = bits.view(np.uint64).reshape(len(sv), words)
    zero = sv == 0
    k = zero.sum(axis=1)
    keys = []
    for kk in np.unique(k):
        rows = np.flatnonzero(k == kk)
        P = pos[rows]
        cols = np.nonzero(zero[rows])[1].reshape(len(rows), kk)
        word, mask = cols // 64, np.left_shift(np.uint64(1), (cols % 64).astype(np.uint64))
        r = np.arange(len(rows))
        for s in range(1 << int(kk)):
            Q = P.copy()
            for j in range(int(kk)):
                if s >> j & 1:
                    Q[r, word[:, j]] |= mask[:, j]
            keys.append(Q)
    K = np.concatenate(keys)
    if words == 1:
        return int(np.unique(K[:, 0]).size)
    K = K[np.lexsort(K.T[::-1])]
    return int(1 + np.count_nonzero(np.any(K[1:] != K[:-1], axis=1)))


def build(path):
    with np.load(path, allow_pickle=False) as z:
        n = sum(1 for key in z.files if key.startswith("W"))
        Ws = [z[f"W{i}"] for i in range(n - 1)]  # hidden layers only
        bs = [z[f"b{i}"] for i in range(n - 1)]
    f = Net(ks=[Ws[0].shape[1]] + [W.shape[0] for W in Ws])
    with torch.no_grad():
        for fc, W, b in zip(f.fcs, Ws, bs):
            fc.weight.copy_(torch.from_numpy(W))
            fc.bias.copy_(torch.from_numpy(b))
    return f


def run(f):
    t = time.perf_counter()
    with torch.no_grad():
        vs, edges, v_sv = skeletal_subdivision(f, bbox=(-1.0, 1.0), device="cpu", verbose=False)
    regions = count_from_vertices(v_sv, 2 * f.ks[0])
    return regions, time.perf_counter() - t, len(vs), len(edges)


path, repeat = sys.argv[2], int(sys.argv[3])
run(Net(ks=[3, 4]))  # warm up imports and caches
f = build(path)
best = None
before = rss_kb()
for _ in range(repeat):
    regions, sec, nv, ne = run(f)
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, 0) / 1024
    if best is None or sec < best["seconds"]:
        best = {"regions": regions, "seconds": sec, "vertices": nv, "edges": ne}
    best["peak_mb"] = max(best.get("peak_mb", 0.0), peak)
    if best["seconds"] > 2.0:
        break
print(json.dumps(best))
"""


def run_edge_subdivision(folder: Path, net: Network, repeat: int, limit: float) -> dict:
    """One fresh process: edge subdivision of ``net`` over [-1, 1]^d, best of ``repeat``, time-limited."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.npz"
        net.save(path)
        try:
            out = subprocess.run([sys.executable, "-c", ES_WORKER, str(folder), str(path), str(repeat)],
                                 capture_output=True, text=True, timeout=limit, env=_one_thread_env())
        except subprocess.TimeoutExpired:
            return {"status": f"over {limit:g} s"}
    if out.returncode != 0:
        return {"status": "failed: " + (out.stderr.strip().splitlines() or ["?"])[-1][:80]}
    return {"status": "ok", **json.loads(out.stdout.strip().splitlines()[-1])}


def _one_thread_env() -> dict:
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


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
    ap.add_argument("--edge-subdivision", default=None, metavar="PATH",
                    help="checkout (or git directory) of arturs-berzins/relu_edge_subdivision, run on the box "
                         "rows (default: $EDGE_SUBDIVISION; skipped when neither is given)")
    ap.add_argument("--es-seconds", type=float, default=300.0, help="time limit of each edge-subdivision run")
    ap.add_argument("--repeat", type=int, default=3,
                    help="best of this many runs per measurement (one run when the first takes over 2 s)")
    ap.add_argument("--archs", default=None,
                    help="comma-separated architectures to run instead of the default list (with 5 or more "
                         "inputs: box only)")
    ap.add_argument("--box-only", action="store_true", help="run the box rows only")
    ap.add_argument("--out", default=str(HERE / "polytope.md"))
    ap.add_argument("--json", dest="json_out", default=None)
    ap.add_argument("--engine-worker", nargs=2, metavar=("ARCH", "DOMAIN"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.engine_worker:
        engine_worker(*args.engine_worker, repeat=args.repeat)
        return 0
    rpy = relucent_python(args.relucent_python)
    es = materialise_edge_subdivision(args.edge_subdivision)
    rel_pairs = {tuple(x.split(":")) for x in args.relucent.split(",") if x}
    archs = QUICK if args.quick else ARCHS
    full = {tuple(x.split(":")) for x in args.full_ref.split(",") if x}
    rows = []
    t_start = time.perf_counter()
    plan = [(a, ("box", "whole")) for a in archs] + [(a, ("box",)) for a in
                                                     (BOX_ONLY_QUICK if args.quick else BOX_ONLY)]
    if args.archs:
        plan = [(a, ("box", "whole") if int(a.split("-")[0]) < 5 else ("box",)) for a in args.archs.split(",")]
    if args.box_only:
        plan = [(a, ("box",)) for a, _ in plan]
    for arch, kinds in plan:
        net = Network.from_arch(arch, init="he", seed=0)
        d = net.input_dim
        for kind in kinds:
            dom = make_domain(kind, d)
            eng = run_engine(arch, kind, args.repeat)
            es_row = run_edge_subdivision(es[0], net, args.repeat, args.es_seconds) \
                if es and kind == "box" else None
            limit = None if (arch, kind) in full else args.ref_seconds
            ref = run_reference(net, dom, limit, eng["regions"])
            row = {"arch": arch, "domain": kind, **eng,
                   "serra_upper": theory.serra_upper_bound(d, list(net.widths)), "reference": ref,
                   "speedup": ref["estimate"] / eng["seconds"],
                   "speedup_one_lp": ref["one_lp_per_region"] / eng["seconds"]}
            if rpy and (arch, kind) in rel_pairs:
                row["relucent"] = run_relucent(rpy, net, kind, args.relucent_seconds)
            if es_row is not None:
                row["edge_subdivision"] = es_row
            rows.append(row)
            print(f"{arch:>14} {kind:>5} {eng['regions']:>8} regions {eng['seconds']:8.2f} s "
                  f"{eng['regions'] / eng['seconds']:9.0f} reg/s {eng['peak_mb']:7.1f} MB | ref "
                  f"{'' if ref['complete'] else '~'}{ref['estimate']:9.1f} s ({ref['found']} found, "
                  f"{ref['ms_per_lp']:.2f} ms/LP) x{row['speedup']:.0f}"
                  + (f" | relucent {row['relucent']}" if "relucent" in row else "")
                  + (f" | edge subdivision {es_row}" if es_row else ""), flush=True)
    total = time.perf_counter() - t_start
    # growth of time with regions: least-squares slope of log(seconds) on log(regions)
    big = [r for r in rows if r["seconds"] > 0.05]
    slope = float(np.polyfit(np.log([r["regions"] for r in big]), np.log([r["seconds"] for r in big]), 1)[0]) \
        if len(big) >= 2 else float("nan")
    write_table(rows, total, slope, args, Path(args.out), rpy, es)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"rows": rows, "total_seconds": total, "slope": slope,
                                                   "edge_subdivision": es[1] if es else None},
                                                  indent=1, default=str))
    return 0


def write_table(rows, total, slope, args, path: Path, rpy, es=None) -> None:
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
    esr = [r for r in rows if "edge_subdivision" in r]
    if esr:
        lines += ["", f"Side by side with edge subdivision (Berzins 2023, `relu_edge_subdivision` at {es[1]}, "
                  "float64, CPU, one thread; subdivision by the hidden neurons plus counting the regions from "
                  "its vertex sign vectors), same weights, [-1,1]^d, best of "
                  f"{args.repeat} (one run above 2 s), each tool in a fresh process run one after the other:",
                  "",
                  "| network | regions (ours) | regions (edge subdivision) | ours (s) | edge subdivision (s) "
                  "| ours / theirs | ours peak MB | theirs peak MB | their vertices |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in esr:
            q = r["edge_subdivision"]
            if q["status"] == "ok":
                same = "" if q["regions"] == r["regions"] else " ≠"
                lines.append(f"| {r['arch']} | {r['regions']:,} | {q['regions']:,}{same} | {fmt_s(r['seconds'])} "
                             f"| {fmt_s(q['seconds'])} | {r['seconds'] / q['seconds']:.2f} | {r['peak_mb']:.0f} "
                             f"| {q['peak_mb']:.0f} | {q['vertices']:,} |")
            else:
                lines.append(f"| {r['arch']} | {r['regions']:,} | - | {fmt_s(r['seconds'])} | {q['status']} "
                             "| - | - | - | - |")
    checked = [r for r in rows if r["reference"]["complete"]]
    lines += [
        "",
        "Columns: *LP search* is `tests/polytope_reference.lp_bfs`, a breadth-first search over regions "
        "that flips one unit at a time and certifies each new pattern with one HiGHS Chebyshev LP "
        f"(scipy); it ran for at most {args.ref_seconds:g} s per row. `~` marks an **extrapolated** time: "
        "the measured time scaled linearly to the exact number of regions (the search costs the same per "
        "region throughout). *one LP/region* is the exact number of regions times the measured time of one "
        "LP: what an ideal search with a single LP per region would need. *peak MB*: peak resident memory "
        "(getrusage) of a child process minus its resident size just before the first count (after imports "
        "and a warm-up run), for both tools.",
        "",
        f"Reference runs that finished: {', '.join(r['arch'] + ' ' + r['domain'] for r in checked) or 'none'}; "
        f"their counts {'all agree' if all(r['reference']['agrees'] for r in checked) else 'DO NOT all agree'} "
        "with the engine.",
        "",
        f"Time grows with the number of regions as regions^{slope:.2f} (least-squares slope of log time on "
        "log regions over the rows above 0.05 s); the cost per region grows with the input dimension "
        "(vertices per region) and with the width of the layer being split.",
        "",
        "Edge subdivision: " + ("see the table above; `≠` marks a count that differs from ours." if esr else
                                "not run (pass --edge-subdivision PATH or set $EDGE_SUBDIVISION)."),
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
