"""Benchmark: op networks on boxes from 1 to 1e15 half-widths: what the engines lost, what counts now.

Networks (seeded): ``res-8-1`` and ``res-16-2`` (residual blocks) and
``pool-16-4`` (a max over 4 units) from ``bench_ops.py``; ``mixed-2`` (PReLU
with per-unit slopes, a clamp of a branch, a Concat, maxout of rank 3,
ReLU6); ``cnn-2`` (3x3 convolution to 2 channels, ReLU, 2x2 max pooling,
a linear map; on the plane through three of scikit-learn's bundled digits,
its parameter box scaled about the point nearest the origin).

Table 1, one row per network and column kind, counts at half-width ``s``:

* ``mesh*`` / ``lp*``: the 2-D op mesh and the LP op walk run directly on
  the box, without the width guard (``OPS_WIDE``): what they count;
* ``main``: ``partition(...).count()``, the count path before this change
  (the mesh, the LP walk where the mesh refuses; ``ref`` where the measured
  width guard refuses);
* ``now``: ``regions.count``: the same path below ``WIDE_TRIGGER`` feature
  radii, above it the regions of the whole space that meet the box
  (:mod:`regions.engines.ops_wide`);
* ``R^k``: the LP op walk on the unbounded domain (all of R^2, the
  unbounded plane).

Table 2, cost (process CPU time, best of ``--repeat`` runs) of
``regions.count`` against the path before it on ordinary boxes (``[-1, 1]^2``
and the digits plane as given) -- the ratio should be about 1 -- and, on the
box of half-width 1e15, of the new count against the walk on R^k alone.

Usage::

    python benchmarks/bench_ops_wide.py            # tables on stdout + benchmarks/ops_wide.md
    python benchmarks/bench_ops_wide.py --quick    # res-8-1 and mixed-2 only
    python benchmarks/bench_ops_wide.py --only cnn-2 --out benchmarks/ops_wide_cnn.md
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import regions  # noqa: E402
from bench_ops import _cnn, _draw, _graph  # noqa: E402
from regions.domains import Domain  # noqa: E402
from regions.engines.lp.ops import partition_lp_ops  # noqa: E402
from regions.engines.planar import ops as planar_ops  # noqa: E402
from regions.errors import NumericalError  # noqa: E402
from regions.model.ops import Activation, Affine, Clamp, Concat, Graph, MaxGroups, Node, lower  # noqa: E402

SCALES = [1e0, 1e3, 1e6, 1e9, 1e12, 1e15]


def _mixed(seed=2):
    r = np.random.default_rng(seed)
    return Graph([Affine(r.normal(size=(6, 2)), r.normal(size=6)), Activation.prelu(r.uniform(-0.5, 1.5, size=6)),
                  Node(Clamp(-0.5, 0.7), (1,)), Node(Concat(), (2, 3)), MaxGroups.maxout(12, 3),
                  Clamp(0.0, 6.0), Affine(r.normal(size=(2, 4)))], 2)


def _networks(quick: bool):
    out = [("res-8-1", _graph("res", *_draw("res", 8, 1, 0)), None)]
    if not quick:
        out.append(("res-16-2", _graph("res", *_draw("res", 16, 2, 1)), None))
        out.append(("pool-16-4", _graph("pool", *_draw("pool", 16, 4, 3)), None))
    out.append(("mixed-2", _mixed(), None))
    if not quick:
        g, dom = _cnn(2, 9)
        out.append(("cnn-2", g, dom))
    return out


def _domain(plane, s: float):
    if plane is None:
        return regions.box(-s, s, dim=2)
    c = np.clip(0.0, plane.lo, plane.hi)
    half = (plane.hi - plane.lo) / 2
    return Domain(c - s * half, c + s * half, origin=plane.origin, basis=plane.basis, kind=plane.kind)


def _try(f) -> str:
    try:
        return str(f())
    except NumericalError:
        return "ref"


def _unguarded_mesh(low, dom) -> int:
    keep = dict(planar_ops.OPS_WIDE)
    planar_ops.OPS_WIDE.update(planar=np.inf)
    try:
        return planar_ops.partition_planar_ops(low, dom).n_regions
    finally:
        planar_ops.OPS_WIDE.update(keep)


def _best(f, repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t = time.process_time()
        f()
        best = min(best, time.process_time() - t)
    return best


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=30, help="runs on ordinary boxes (best of)")
    ap.add_argument("--only", default=None, help="one network by name (e.g. cnn-2)")
    ap.add_argument("--out", default=str(HERE / "ops_wide.md"))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore", RuntimeWarning)
    lines = ["# Op networks on wide boxes (`bench_ops_wide.py`)", "",
             "Counts of activation regions (not bounds) at half-width s; `ref`: refused (NumericalError).",
             "", "| network | kind | " + " | ".join(f"s={s:.0e}" for s in SCALES) + " | R^k |",
             "|---|---|" + "---:|" * (len(SCALES) + 1)]
    cost = ["", "## Cost (process CPU seconds, best of runs)", "",
            "| network | box | before | now | now/before | R^k walk | now/R^k |", "|---|---|---:|---:|---:|---:|---:|"]
    for name, g, plane in _networks(args.quick):
        if args.only is not None and name != args.only:
            continue
        low = lower(g)
        unb = (regions.whole(2) if plane is None else
               Domain(np.full(2, -np.inf), np.full(2, np.inf), origin=plane.origin, basis=plane.basis,
                      kind=plane.kind))
        rk = partition_lp_ops(low, unb).n_regions
        rows = {"mesh*": [], "lp*": [], "main": [], "now": []}
        for s in SCALES:
            dom = _domain(plane, s)
            rows["mesh*"].append(_try(lambda: _unguarded_mesh(low, dom)))
            rows["lp*"].append(_try(lambda: partition_lp_ops(low, dom).n_regions))
            rows["main"].append(_try(lambda: regions.partition(g, dom).count().regions))
            rows["now"].append(_try(lambda: regions.count(g, dom).regions))
        for kind, vals in rows.items():
            lines.append(f"| {name} | {kind} | " + " | ".join(vals) + f" | {rk} |")
            print(lines[-1], flush=True)
        small = _domain(plane, 1.0)
        before = _best(lambda: regions.partition(g, small).count(), args.repeat)
        now = _best(lambda: regions.count(g, small), args.repeat)
        big = _domain(plane, 1e15)
        walk = _best(lambda: partition_lp_ops(low, unb), 1)
        wide = _best(lambda: regions.count(g, big), 1)
        cost.append(f"| {name} | s=1 | {before:.4f} | {now:.4f} | {now / before:.2f} | | |")
        cost.append(f"| {name} | s=1e15 | ref | {wide:.3f} | | {walk:.3f} | {wide / walk:.2f} |")
        print(cost[-2], cost[-1], sep="\n", flush=True)
        Path(args.out).write_text("\n".join(lines + cost) + "\n")  # after every network: a slow run keeps rows
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
