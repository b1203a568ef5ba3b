"""Every example of the README runs as written, in a fresh folder.

The fenced ``python`` blocks run as scripts and the fenced ``bash`` blocks
line by line, in order, in one temporary folder (so that files made by one
example, such as ``net.npz``, serve the next).  ``regions ...`` runs as
``python -m regions.cli.main ...`` and ``python ...`` with this
interpreter, both with the repository importable; lines that set up an
environment (``&&`` chains, ``.venv/...``) or run the test suite itself are
skipped.  Examples that need the torch extra are skipped without it.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def blocks(text: str) -> list[tuple[str, str]]:
    """``(language, code)`` of every fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)]


def commands(code: str) -> list[list[str]]:
    """The runnable command lines of a bash block, as argument lists."""
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        args = shlex.split(line, comments=True)
        if not args or "&&" in args or "|" in args or args[0].startswith(".") or "pytest" in args:
            continue
        if args[0] == "regions":
            out.append([sys.executable, "-m", "regions.cli.main", *args[1:]])
        elif args[0] in ("python", "python3"):
            out.append([sys.executable, *args[1:]])
    return out


def test_readme_has_examples():
    kinds = [k for k, _ in blocks(README.read_text())]
    assert kinds.count("python") >= 1 and kinds.count("bash") >= 3
    assert any("net.npz" in c for _, c in blocks(README.read_text()) if "save(" in c)  # made before use


def test_readme_examples_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg"}
    try:
        import torch  # noqa: F401
        has_torch = True
    except ImportError:
        has_torch = False
    ran = 0
    for lang, code in blocks(README.read_text()):
        if lang == "python":
            runs = [[sys.executable, "-c", code]]
        elif lang == "bash":
            runs = commands(code)
        else:
            continue
        for args in runs:
            if not has_torch and any(w in " ".join(args) for w in ("train-digits", "checkpoints", ".pt", "slice")):
                continue
            res = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
            assert res.returncode == 0, f"README example failed: {' '.join(args[1:])}\n{res.stdout}\n{res.stderr}"
            ran += 1
    assert ran >= 10
