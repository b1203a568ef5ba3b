"""Every example of the README runs as written, in a fresh folder.

The fenced ``python`` blocks run as scripts and the fenced ``bash`` blocks
line by line, in order, in one temporary folder (so that files made by one
example, such as ``net.npz``, serve the next).  ``regions ...`` runs the
command line's entry point with those arguments and ``python ...`` runs
with this interpreter, the repository importable; lines that set up an
environment (``&&`` chains, ``.venv/...``) or run the test suite itself are
skipped.  Examples that need the torch extra are skipped without it.
Blocks fenced as ``sh`` are shown, not run: minutes-long counts (the
11^8 and 11^9 split runs, checked at a smaller size in ``test_split.py``)
and cluster set-up that needs other machines.
"""

from __future__ import annotations

import importlib.util
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
    """The runnable command lines of a bash block, as argument lists (``regions`` or ``python`` first)."""
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        args = shlex.split(line, comments=True)
        if not args or "&&" in args or "|" in args or args[0].startswith(".") or "pytest" in args:
            continue
        if args[0] in ("regions", "python", "python3"):
            out.append(args)
    return out


def test_readme_has_examples():
    found = blocks(README.read_text())
    kinds = [k for k, _ in found]
    assert kinds.count("python") >= 1 and kinds.count("bash") >= 3
    assert any("net.npz" in c for _, c in found if "save(" in c)  # made before it is used


def test_readme_examples_run(tmp_path, monkeypatch):
    """All examples in one folder, in order: python blocks and ``regions`` in this process (one import of
    torch and numpy for all), ``python -c`` lines as this interpreter with the repository importable."""
    import matplotlib

    matplotlib.use("Agg")  # a test may choose the backend; the library never does
    import matplotlib.pyplot as plt
    from click.testing import CliRunner

    from regions.cli.main import main

    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    has_torch = importlib.util.find_spec("torch") is not None
    ran = 0
    for lang, code in blocks(README.read_text()):
        if lang == "python":
            exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})  # noqa: S102
            plt.close("all")
            ran += 1
        elif lang == "bash":
            for args in commands(code):
                text = " ".join(args)
                if not has_torch and any(w in text for w in ("train-digits", "checkpoints", ".pt")):
                    continue
                if args[0] == "regions":
                    res = CliRunner().invoke(main, args[1:], catch_exceptions=False)
                    assert res.exit_code == 0, f"README example failed: {text}\n{res.output}"
                else:
                    res = subprocess.run([sys.executable, *args[1:]], env=env, capture_output=True, text=True,
                                         timeout=120)
                    assert res.returncode == 0, f"README example failed: {text}\n{res.stdout}\n{res.stderr}"
                ran += 1
    assert ran >= 10
