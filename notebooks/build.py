"""Build the notebooks from their cell sources and execute them, storing outputs.

    python notebooks/build.py            # all notebooks
    python notebooks/build.py 01         # those whose name starts with 01

Run it with the Python that has the project's dependencies (a venv with
``pip install -e ".[notebooks]"``): the notebooks execute in a kernel of
*this* interpreter (``sys.executable``), with the repository on its
``PYTHONPATH``, whatever kernels Jupyter has registered elsewhere.

The result is reproducible: cell ids are derived from the notebook's name
and the cell's position (``01-c003``), no execution timestamps are stored,
the kernel metadata is fixed, consecutive prints are stored as one output
(how the kernel splits them depends on timing), and a notebook whose content did not change
is not rewritten.  The notebooks are committed with their outputs so they
read well on the web; ``tests/test_notebooks.py`` executes them again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: What the notebooks record as their kernel (the usual one, so that they open anywhere).
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def load_cells(src: Path) -> list:
    """The ``CELLS`` list of a ``_src_*.py`` file: ``("md" | "code", text)`` pairs."""
    spec = importlib.util.spec_from_file_location(src.stem, src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.CELLS


def _kernel_dir(tmp: Path) -> Path:
    """A kernel spec running this interpreter with the repository importable."""
    kdir = tmp / "kernels" / "regions-build"
    kdir.mkdir(parents=True)
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "regions build", "language": "python",
            "env": {"PYTHONPATH": path}}
    (kdir / "kernel.json").write_text(json.dumps(spec))
    return kdir.parent


def notebook(src: Path) -> nbformat.NotebookNode:
    """The unexecuted notebook of ``src``, with stable cell ids."""
    stem = src.stem.removeprefix("_src_")
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC),
                   "language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    for i, (kind, text) in enumerate(load_cells(src)):
        text = text.strip("\n")
        cell = nbformat.v4.new_markdown_cell(text) if kind == "md" else nbformat.v4.new_code_cell(text)
        cell.id = f"{stem.split('_')[0]}-c{i:03d}"
        nb.cells.append(cell)
    return nb


def _coalesce_streams(nb: nbformat.NotebookNode) -> None:
    """Join consecutive stdout (stderr) outputs of a cell: how a print is split depends on timing."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for out in cell.outputs:
            if (out.output_type == "stream" and merged and merged[-1].output_type == "stream"
                    and merged[-1].name == out.name):
                merged[-1].text += out.text
            else:
                merged.append(out)
        cell.outputs = merged


def build(src: Path, kernels: Path) -> tuple[Path, bool]:
    """Execute the notebook of ``src`` and write it if its content changed; returns (path, written)."""
    nb = notebook(src)
    km = KernelManager(kernel_name="regions-build", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    client = NotebookClient(nb, km=km, timeout=300, record_timing=False, resources={"metadata": {"path": str(HERE)}})
    try:
        client.execute()
    finally:
        if km.has_kernel:
            km.shutdown_kernel(now=True)
    nb.metadata = {"kernelspec": dict(KERNELSPEC),
                   "language_info": {"name": "python", "pygments_lexer": "ipython3"}}
    _coalesce_streams(nb)
    nbformat.validate(nb)
    text = nbformat.writes(nb) + "\n"
    out = HERE / (src.stem.removeprefix("_src_") + ".ipynb")
    if out.exists() and out.read_text() == text:
        return out, False
    tmp = out.with_suffix(".ipynb.tmp")
    tmp.write_text(text)
    tmp.replace(out)
    return out, True


def main(argv: list[str]) -> None:
    prefix = argv[0] if argv else ""
    sources = [s for s in sorted(HERE.glob("_src_*.py")) if s.stem.removeprefix("_src_").startswith(prefix)]
    if not sources:
        sys.exit(f"expected a notebook name prefix among "
                 f"{', '.join(s.stem.removeprefix('_src_') for s in sorted(HERE.glob('_src_*.py')))}, "
                 f"got {prefix!r}")
    with tempfile.TemporaryDirectory(prefix="regions-kernel-") as tmp:
        kernels = _kernel_dir(Path(tmp))
        for src in sources:
            out, written = build(src, kernels)
            print("built" if written else "unchanged", out.relative_to(ROOT))


if __name__ == "__main__":
    main(sys.argv[1:])
