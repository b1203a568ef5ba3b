"""Benchmark: op networks (residual blocks, max pooling) on [-1, 1]^2: mesh, LP op walk, regioncam.

Networks (seeded, ``numpy.random.default_rng(seed)``, weights N(0, 1),
residual branches scaled by 0.5):

* ``res-W-B``: ``x -> relu(W1 x + b1)``, then ``B`` residual blocks
  ``h -> h + relu(W h + b)`` of width ``W``, then a linear output;
* ``pool-W-K``: ``relu(W1 x + b1)`` of width ``W``, a linear map to ``K``
  units, the max of the ``K`` (regioncam's ``max_pool``), a linear output;
* ``cnn-C``: a CNN on 8x8 images (3x3 'same' convolution to ``C`` channels,
  ReLU, 2x2 max pooling, a linear map to 10 outputs) on the plane through
  three of scikit-learn's bundled digits (no download), scaled to [0, 1]
  (regioncam: not run, ``n/a``).

Columns, measured side by side in one process and one run, each time the
best of ``--repeat`` runs (the LP walk: one run):

* ``mesh``: ``regions.count`` with its default engine for bounded 2-D
  domains, the planar mesh for op networks (:mod:`regions.engines.planar.ops`,
  float64, exact output maps and pieces);
* ``lp``: the LP op walk (``engine="lp"``: H-polytopes, polygon screens,
  Chebyshev LPs; float64), skipped (``-``) above ``--lp-max`` regions;
* ``regioncam``: regioncam's float32 planar mesh (faces), where installed.

Ratios: ``mesh / rc`` (time of the mesh over regioncam's) and ``lp / mesh``.
BLAS runs on one thread (``threadpoolctl``), as in the other benchmarks: on a
shared machine, threaded BLAS makes the small products of the mesh slower.
Where counts differ, the patterns are compared on a 601 x 601 grid (a lower
bound every exact count must reach): a count below the grid's is wrong.

Usage::

    python benchmarks/bench_ops.py              # table on stdout + benchmarks/ops.md
    python benchmarks/bench_ops.py --quick      # the small networks only
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import regions
from regions.model.ops import Activation, Add, Affine, Graph, MaxGroups, Node, lower

CASES = [("res", 8, 1, 0), ("res", 16, 2, 1), ("res", 32, 2, 2), ("res", 64, 2, 5), ("res", 64, 3, 6),
         ("pool", 16, 4, 3), ("pool", 32, 8, 4), ("pool", 64, 16, 7), ("pool", 128, 32, 8)]
CASES += [("cnn", 2, 0, 9), ("cnn", 4, 0, 9)]
QUICK = [CASES[0], CASES[1], CASES[5]]


def _cnn(channels, seed):
    """The CNN graph and the plane through three digits (see the module docstring)."""
    from sklearn.datasets import load_digits  # noqa: PLC0415 -- bundled with scikit-learn

    r = np.random.default_rng(seed)
    K, kb = r.normal(size=(channels, 3, 3)) / 3, 0.1 * r.normal(size=channels)
    M = np.zeros((channels * 64, 64))
    for o in range(channels):
        for y in range(8):
            for x in range(8):
                for dy in range(3):
                    for dx in range(3):
                        yy, xx = y + dy - 1, x + dx - 1
                        if 0 <= yy < 8 and 0 <= xx < 8:
                            M[(o * 8 + y) * 8 + x, yy * 8 + xx] = K[o, dy, dx]
    mp, shape = MaxGroups.pool((channels, 8, 8), 2)
    g = Graph([Affine(M, np.repeat(kb, 64)), Activation.relu(), mp,
               Affine(r.normal(size=(10, int(np.prod(shape)))) / 4, r.normal(size=10))], 64)
    X = load_digits().data / 16.0
    return g, regions.plane_through(X[0], X[1], X[2])


def _draw(kind, width, depth, seed):
    r = np.random.default_rng(seed)
    W1, b1 = r.normal(size=(width, 2)), r.normal(size=width)
    if kind == "res":
        blocks = [(0.5 * r.normal(size=(width, width)), 0.5 * r.normal(size=width)) for _ in range(depth)]
        return W1, b1, blocks, r.normal(size=(1, width))
    return W1, b1, (r.normal(size=(depth, width)), r.normal(size=depth)), None


def _graph(kind, W1, b1, rest, Wo):
    nodes = [Affine(W1, b1), Activation.relu()]
    if kind == "res":
        for W, b in rest:
            h = len(nodes)
            nodes += [Node(Affine(W, b), (h,)), Activation.relu(), Node(Add(), (h, h + 2))]
        nodes.append(Affine(Wo))
    else:
        W2, b2 = rest
        nodes += [Affine(W2, b2), MaxGroups([list(range(W2.shape[0]))]), Affine([[1.0]])]
    return Graph(nodes, 2)


def _regioncam(kind, W1, b1, rest, Wo):
    import regioncam as rc  # noqa: PLC0415 -- optional

    f32 = lambda a: np.ascontiguousarray(a, dtype=np.float32)  # noqa: E731
    cam = rc.Regioncam(1.0)
    cam.linear(f32(W1.T), f32(b1))
    cam.relu()
    if kind == "res":
        for W, b in rest:
            cam.add(rc.nn.Residual(rc.nn.Sequential(rc.nn.Linear(f32(W.T), f32(b)), rc.nn.ReLU())))
        cam.linear(f32(Wo.T), f32(np.zeros(1)))
    else:
        W2, b2 = rest
        cam.linear(f32(W2.T), f32(b2))
        cam.max_pool()
    return cam.num_faces


def _best(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return out, best


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lp-max", type=int, default=4500, help="skip the LP walk above this many regions")
    ap.add_argument("--out", default=str(Path(__file__).with_name("ops.md")))
    args = ap.parse_args(argv)
    try:
        import regioncam  # noqa: F401, PLC0415
        have_rc = True
    except ImportError:
        have_rc = False
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 -- optional
        threadpool_limits(1)
    except ImportError:
        pass
    square = regions.box(-1.0, 1.0, dim=2)
    rows = ["| network | regions | pieces | s (mesh) | s (lp) | regions (rc) | s (rc) | mesh / rc | lp / mesh |"
            " grid |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, width, depth, seed in (QUICK if args.quick else CASES):
        if kind == "cnn":
            g, dom = _cnn(width, seed)
        else:
            parts = _draw(kind, width, depth, seed)
            g = _graph(kind, *parts)
            dom = square
        ours, t_ours = _best(lambda: regions.count(g, dom), 1 if kind == "cnn" else args.repeat)
        lp_cell, ratio_lp = "-", "-"
        if ours.regions <= args.lp_max:
            lp, t_lp = _best(lambda: regions.count(g, dom, engine="lp"), 1)
            if (lp.regions, lp.pieces) != (ours.regions, ours.pieces):
                raise SystemExit(f"mesh and LP walk disagree on {kind}-{width}-{depth}: {ours} vs {lp}")
            lp_cell, ratio_lp = f"{t_lp:.3f}", f"{t_lp / t_ours:.0f}"
        theirs, t_rc = (None, None)
        if have_rc and kind != "cnn":
            theirs, t_rc = _best(lambda: _regioncam(kind, *parts), args.repeat)
        grid = ""
        if theirs is not None and theirs != ours.regions:
            t = np.linspace(-1, 1, 601)
            X = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2)
            grid = str(len({p.tobytes() for p in lower(g).patterns(X)}))
        name = f"cnn-{width} (seed {seed})" if kind == "cnn" else f"{kind}-{width}-{depth} (seed {seed})"
        rc_cells = "n/a | n/a | n/a" if theirs is None else f"{theirs} | {t_rc:.4f} | {t_ours / t_rc:.1f}"
        rows.append(f"| {name} | {ours.regions} | {ours.pieces} | {t_ours:.4f} | {lp_cell} | {rc_cells} | "
                    f"{ratio_lp} | {grid} |")
        print(rows[-1], flush=True)
    text = "\n".join(["# Op networks on [-1, 1]^2: planar mesh, LP op walk and regioncam side by side", "",
                      "Regions and pieces are exact (mesh; the LP walk agrees wherever it ran, checked in the",
                      "run); regioncam's are its faces. Times in seconds, best of the runs (LP: one run), one",
                      "process; `-`: LP walk skipped above --lp-max regions. A grid lower bound is given",
                      "where counts differ. Ratios are times: mesh over regioncam, LP walk over mesh.",
                      "One BLAS thread; 2 shared cores (timings vary with the machine's load).",
                      "", *rows, ""])
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
