"""The package's layout: every module imports on its own, long modules say why, optional dependencies stay lazy.

Independent values: the import system itself, the import graph read from the source with
:mod:`ast` (function-level imports included: an import moved into a function still closes a cycle),
the line count of every file, and ``sys.modules`` after ``import regions``.
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


def test_every_module_imports():
    code = f"""
import importlib, json, traceback
failed = {{}}
for name in {_modules()!r}:
    try:
        importlib.import_module(name)
    except Exception:
        failed[name] = traceback.format_exc(limit=3)
print(json.dumps(failed))
"""
    failed = json.loads(_run(code))
    assert failed == {}, "\n".join(f"{k}:\n{v}" for k, v in failed.items())


def _import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports, at module level or inside functions (read from the source)."""
    mods = {name: path for name, path in zip(_modules(), _files())}
    graph = {}
    for name, path in mods.items():
        base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        out = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                pkg = base[: len(base) - node.level + 1] if node.level else []
                target = ".".join(pkg + ([node.module] if node.module else []))
                for a in node.names:  # ``from .pkg import module`` names the module itself
                    out.add(f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target)
        graph[name] = {t for t in out if t in mods and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on, comps = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(tuple(sorted(comp)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(comps)


#: Import cycles tolerated (function-level imports included), each with the direction that would remove
#: it; none is left. The test fails on a new one and on one that is gone (remove it here then).
KNOWN_CYCLES: set[tuple[str, ...]] = set()


def test_import_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [("a", "b", "c")]  # the finder itself
    got = set(_cycles(_import_graph()))
    assert not got - KNOWN_CYCLES, f"expected no new import cycle, got {sorted(got - KNOWN_CYCLES)}"
    assert not KNOWN_CYCLES - got, f"expected these known cycles, got them gone (remove them): {KNOWN_CYCLES - got}"


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
