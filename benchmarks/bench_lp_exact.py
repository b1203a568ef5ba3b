"""Cost of the LP engine's certified decisions (:mod:`regions.engines.lp.certify`): before/after, side by side.

Runs the LP engine on the rows of ``bench_lp.py`` (``d-8-8-1`` He nets, seed 0, on ``[-1, 1]^d`` for
d = 8, 9, 10, and ``784-8-6-10`` on ``[0, 1]^784``) for the package at a git revision (``--before``,
``git archive`` into a temporary folder) and for this tree, alternating in fresh subprocesses, best of
``--repeat``; counts beside times.  Writes ``benchmarks/lp_exact_check.md``.

Usage::

    python benchmarks/bench_lp_exact.py --before integrate --repeat 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json, sys, time
from regions import Network, box
from regions.engines.registry import count
arch, lo, hi = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
net = Network.from_arch(arch, seed=0)
d = net.input_dim
t = time.perf_counter()
r = count(net, box([lo] * d, [hi] * d), engine="lp")
print(json.dumps({"regions": r.regions, "seconds": time.perf_counter() - t, "lps": r.extra.get("lps")}))
"""

CASES = [("8-8-8-1", -1.0, 1.0), ("9-8-8-1", -1.0, 1.0), ("10-8-8-1", -1.0, 1.0), ("784-8-6-10", 0.0, 1.0)]


def run(path: Path, arch: str, lo: float, hi: float) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, arch, str(lo), str(hi)], capture_output=True, text=True,
                         env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"}, timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="integrate")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "lp_exact_check.md"))
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp)
        arc = subprocess.run(["git", "-C", str(ROOT), "archive", a.before], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=arc, check=True)
        lines = [f"# LP engine: certified decisions, cost vs `{a.before}` (best of {a.repeat}, side by side)", "",
                 "| net | box | regions before | regions after | s before | s after | after/before |",
                 "|---|---|---:|---:|---:|---:|---:|"]
        for arch, lo, hi in CASES:
            best = {}
            for _ in range(a.repeat):
                for name, path in (("before", old), ("after", ROOT)):
                    r = run(path, arch, lo, hi)
                    if name not in best or r["seconds"] < best[name]["seconds"]:
                        best[name] = r
            b, f = best["before"], best["after"]
            lines.append(f"| {arch} | [{lo:g}, {hi:g}]^d | {b['regions']} | {f['regions']} | {b['seconds']:.2f} | "
                         f"{f['seconds']:.2f} | {f['seconds'] / b['seconds']:.2f} |")
            print(lines[-1], flush=True)
    Path(a.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
