"""Build the notebooks from their cell sources and execute them, storing outputs.

    python notebooks/build.py            # all notebooks
    python notebooks/build.py 01         # those whose name starts with 01

The notebooks are committed with their outputs so they read well on the
web; CI executes them again (pytest --nbmake) from a fresh clone.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def load_cells(src: Path) -> list:
    spec = importlib.util.spec_from_file_location(src.stem, src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.CELLS


def build(src: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for kind, text in load_cells(src):
        text = text.strip("\n")
        nb.cells.append(nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
    out = HERE / (src.stem.removeprefix("_src_") + ".ipynb")
    tmp = out.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(out)
    return out


def main(argv: list[str]) -> None:
    prefix = argv[0] if argv else ""
    for src in sorted(HERE.glob("_src_*.py")):
        if src.stem.removeprefix("_src_").startswith(prefix):
            print("built", build(src))


if __name__ == "__main__":
    main(sys.argv[1:])
