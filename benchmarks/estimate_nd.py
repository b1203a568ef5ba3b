"""Estimate an n-D count before running it: bounds, a sampled estimate, and the time at a measured rate.

Usage::

    python benchmarks/estimate_nd.py --arch 4-64-64-1 --fraction 0.02 --points 2000000

For a He-initialised net (seed 0) on all of R^d, with two hidden layers:

* the first layer's regions exactly (Zaslavsky's count of the arrangement in
  general position, also counted by the n-D engine's walk: the split's
  prefix);
* an exact upper bound: Serra et al.'s bound, and the product of the first
  layer's regions with the most regions a second layer of ``n2`` hyperplanes
  can cut one of them into (Zaslavsky's count of ``n2`` hyperplanes in R^d);
* a lower bound: the distinct activation patterns of points sampled at
  log-uniform radii in uniform directions (every pattern seen is a region);
* an estimate (not a bound): the n-D engine's own walk finishing a seeded
  random window of a ``fraction`` of the regions of every batch of first-layer
  regions (as the walk produces them); the total is the prefix times the mean final
  regions per prefix region of the batches kept, and the rate of that work
  (final regions per second) gives the time of the whole count.
  Also a rigorous lower bound: the kept batches' regions plus one per prefix
  region not kept.

Writes nothing; prints a JSON record (quoted in benchmarks/split_nd.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

import regions
from regions.analysis import theory
from regions.engines.polytope.kernel import _walk


def point_patterns(net, n: int, seed: int, radii=(-3.0, 4.0)) -> int:
    """Distinct activation patterns of ``n`` points at log-uniform radii in uniform directions."""
    rng = np.random.default_rng(seed)
    seen = set()
    d = net.input_dim
    for s in range(0, n, 200_000):
        m = min(200_000, n - s)
        u = rng.normal(size=(m, d))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        X = u * 10.0 ** rng.uniform(*radii, size=(m, 1))
        bits = []
        H = X
        for W, b in net.layers[:-1]:
            Z = H @ W.T + b
            bits.append(Z > 0)
            H = np.maximum(Z, 0.0)
        P = np.packbits(np.concatenate(bits, axis=1), axis=1)
        seen.update(P.view(np.dtype((np.void, P.shape[1]))).ravel().tolist())
    return len(seen)


def sampled_walk(net, domain, fraction: float, seed: int) -> dict:
    """The walk finishing a random ``fraction`` of the first layer's batches (see the module docstring)."""
    rng = np.random.default_rng(seed)
    tally = {"prefix": 0, "kept_prefix": 0, "final": 0}
    t0, c0 = time.perf_counter(), time.process_time()

    def select(l, batch):
        if l != 0:
            return batch
        tally["prefix"] += batch.R
        m = int(round(fraction * batch.R))
        if m == 0:
            return None
        s = int(rng.integers(0, batch.R - m + 1))  # a random window of every batch: a systematic sample
        tally["kept_prefix"] += m
        return batch if m == batch.R else batch.take_regions(s, s + m)

    def emit(batch):
        tally["final"] += batch.R

    _walk(net, domain, emit, False, None, select=select)
    tally["seconds"] = time.perf_counter() - t0
    tally["cpu_seconds"] = time.process_time() - c0  # CPU time: what a shared, loaded machine does not inflate
    return tally


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="4-64-64-1")
    ap.add_argument("--seed", type=int, default=0, help="the net's seed (He init)")
    ap.add_argument("--fraction", type=float, default=0.02, help="share of first-layer regions finished")
    ap.add_argument("--points", type=int, default=2_000_000, help="points sampled for the lower bound")
    args = ap.parse_args(argv)
    net = regions.Network.from_arch(args.arch, init="he", seed=args.seed)
    d, widths = net.input_dim, list(net.widths)
    if len(widths) != 2:
        raise SystemExit(f"expected a net with two hidden layers, got {args.arch}")
    dom = regions.whole(d)
    out = {"arch": args.arch, "seed": args.seed, "domain": f"R^{d}",
           "first_layer_zaslavsky": theory.zaslavsky(widths[0], d),
           "serra_upper": theory.serra_upper_bound(d, widths),
           "product_upper": theory.zaslavsky(widths[0], d) * theory.zaslavsky(widths[1], d)}
    t = time.perf_counter()
    out["point_patterns_lower"] = point_patterns(net, args.points, 1) if args.points else None
    out["points"], out["points_seconds"] = args.points, round(time.perf_counter() - t, 1)
    print(json.dumps(out), flush=True)
    base = sampled_walk(net, dom, 0.0, 2)  # the first layer alone: every split subproblem pays it
    out["prefix_walk"], out["prefix_seconds"] = base["prefix"], round(base["seconds"], 1)
    out["prefix_cpu_seconds"] = round(base["cpu_seconds"], 1)
    s = sampled_walk(net, dom, args.fraction, 2)
    # the rate of the work past the prefix, in CPU seconds (wall times on a shared machine vary with its load)
    out["rate_regions_per_cpu_s"] = round(s["final"] / max(1e-9, s["cpu_seconds"] - base["cpu_seconds"]), 1)
    out.update({f"walk_{k}": round(v, 1) if isinstance(v, float) else v for k, v in s.items()})
    per = s["final"] / max(1, s["kept_prefix"])
    out["estimate"] = int(round(s["prefix"] * per))
    out["walk_lower"] = s["final"] + (s["prefix"] - s["kept_prefix"])
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
