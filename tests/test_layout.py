"""The package's layout: every module imports on its own, long modules say why, optional dependencies stay lazy.

Independent values: the import system itself (each module is imported first, in a fresh
interpreter state, so an import cycle that only works in one order fails here), ``wc -l``'s line
count of every file, and ``sys.modules`` after ``import regions``.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "regions"
#: Lines above which a module states at the top of its docstring why it stays one module.
MAX_LINES = 700
#: What such a module's docstring says (a line starting with this).
REASON = "Why one module:"
#: Optional, heavy dependencies that ``import regions`` must not load.
LAZY = ("torch", "dask", "distributed", "highspy", "matplotlib", "tqdm")


def _modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _run(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    if out.returncode != 0:
        raise AssertionError(out.stderr[-4000:])
    return out.stdout


def test_every_module_imports_first():
    # each module imported first, with no regions.* module loaded before it: an import cycle hidden
    # by the usual order (regions/__init__ first) fails here
    code = f"""
import importlib, json, sys, traceback
failed = {{}}
for name in {_modules()!r}:
    for m in [m for m in sys.modules if m == "regions" or m.startswith("regions.")]:
        del sys.modules[m]
    try:
        importlib.import_module(name)
    except Exception:
        failed[name] = traceback.format_exc(limit=3)
print(json.dumps(failed))
"""
    failed = json.loads(_run(code))
    assert failed == {}, "\n".join(f"{k}:\n{v}" for k, v in failed.items())


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_long_modules_say_why(path):
    n_lines = len(path.read_text().splitlines())
    if n_lines <= MAX_LINES:
        return
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert any(line.strip().startswith(REASON) for line in doc.splitlines()), (
        f"expected {path.relative_to(ROOT)} ({n_lines} lines, over {MAX_LINES}) to be split along its concerns "
        f"or to say why not in a docstring line starting with {REASON!r}, got neither")


def test_import_regions_loads_no_optional_dependency():
    code = f"""
import sys
import regions
import regions.cli.main
print(" ".join(m for m in {LAZY!r} if m in sys.modules))
"""
    assert _run(code).split() == []
