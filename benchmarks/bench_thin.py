"""Cost of the exact zero-decision checks of the n-D walk (issue 15, thin features).

Every n-D walk now checks, in exact rational arithmetic, each vertex value that
the walk takes to be zero in a region the unit does not cut
(:mod:`regions.engines.polytope.exact`).  This script runs the walk with and
without those checks side by side, in one process, on He-normal networks
(seed 0): generic nets (no value is ever taken to be zero at such a vertex:
the checks cost one masked test per unit) and nets with exact copies of
units and zero biases (every copy is checked).  Counts are printed beside
the times; both runs must give the same count.  Writes ``benchmarks/thin_check.md``.

Usage::

    python benchmarks/bench_thin.py
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from regions import Network
from regions.domains import box, whole
from regions.engines.polytope import kernel as K
from regions.engines.polytope.api import _count_walk


def _copies(arch: str) -> Network:
    """The net of ``arch`` with the second half of each hidden layer an exact x2 copy of the first."""
    net = Network.from_arch(arch, seed=0)
    layers = []
    for i, (W, b) in enumerate(net.layers):
        W, b = np.array(W, dtype=float), np.array(b, dtype=float)
        if i < len(net.layers) - 1:
            h = W.shape[0] // 2
            W[h:2 * h], b[h:2 * h] = 2.0 * W[:h], 2.0 * b[:h]
            b[: h // 2] = 0.0
            b[h: h + h // 2] = 0.0
        layers.append((W, b))
    return Network(layers)


def _time(net, dom, exact: bool, reps: int = 3) -> tuple[int, float]:
    orig = K._walk.__kwdefaults__["exact"]
    K._walk.__kwdefaults__["exact"] = exact
    try:
        best = float("inf")
        for _ in range(reps):
            t0 = time.perf_counter()
            n = _count_walk(net, dom, None, False).regions
            best = min(best, time.perf_counter() - t0)
    finally:
        K._walk.__kwdefaults__["exact"] = orig
    return n, best


def main() -> None:
    rows = []
    for arch, kind in (("3-32-32-1", "generic"), ("4-16-16-16-1", "generic"), ("3-8-8-8-1", "generic"),
                       ("3-16-16-1", "x2 copies, zero biases"), ("4-8-8-8-1", "x2 copies, zero biases")):
        net = Network.from_arch(arch, seed=0) if kind == "generic" else _copies(arch)
        d = net.input_dim
        for name, dom in ((f"[-1,1]^{d}", box(-1.0, 1.0, dim=d)), (f"R^{d}", whole(d))):
            n0, t0 = _time(net, dom, False)
            n1, t1 = _time(net, dom, True)
            if n0 != n1:
                raise SystemExit(f"{arch} {name}: counts differ, {n0} without checks and {n1} with")
            rows.append((arch, kind, name, n1, t0, t1, t1 / t0))
            print(rows[-1], flush=True)
    # the 2-D mesh: a count with snapped vertices is confirmed by the checked n-D walk
    from regions.engines.planar import kernel as PK

    orig = PK._confirm
    for arch in ("2-16-16-1", "2-24-24-24-1", "2-64-64-1"):
        for kind in ("generic", "x2 copies, zero biases"):
            net = Network.from_arch(arch, seed=0) if kind == "generic" else _copies(arch)
            dom = box(-1.0, 1.0, dim=2)
            res = []
            for confirm in (lambda *a: None, orig):
                PK._confirm = confirm
                best = float("inf")
                for _ in range(5):
                    t0 = time.perf_counter()
                    n = PK.count_plane(net, dom).regions
                    best = min(best, time.perf_counter() - t0)
                res.append((n, best))
            PK._confirm = orig
            if res[0][0] != res[1][0]:
                raise SystemExit(f"{arch}: counts differ")
            rows.append((arch + " (2-D mesh)", kind, "[-1,1]^2", res[1][0], res[0][1], res[1][1],
                         res[1][1] / res[0][1]))
            print(rows[-1], flush=True)
    lines = ["# Exact zero-decision checks of the n-D walk: cost (issue 15)", "",
             "2-D mesh rows: `count_plane` without and with the confirmation by the checked n-D walk",
             "(it runs only where a vertex value was snapped onto a line), best of 5.",
             "On generic nets neither check runs (no value is taken to be zero at a vertex of an uncut",
             "region; no snapped vertex), so ratios there are timing noise of a shared machine.", "",
             "Walk count (`_count_walk`) without and with the checks, best of 3, one process, seed 0.", "",
             "| net | kind | domain | regions | no check s | check s | ratio |",
             "|---|---|---|---:|---:|---:|---:|"]
    for arch, kind, name, n, t0, t1, r in rows:
        lines.append(f"| {arch} | {kind} | {name} | {n} | {t0:.3f} | {t1:.3f} | {r:.2f} |")
    Path(__file__).with_name("thin_check.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
