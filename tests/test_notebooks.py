"""Every committed notebook executes from a fresh clone without error.

Equivalent to ``pytest --nbmake notebooks/``, kept inside the one test
command of the README. Needs the ``notebooks`` extra (nbclient, ipykernel).
"""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

# notebooks that need an optional extra: skipped cleanly without it
REQUIRES = {"04_regions_during_training": ("torch", "sklearn"), "05_residual_and_maxpool": ("torch", "sklearn")}

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    for module in REQUIRES.get(path.stem, ()):
        pytest.importorskip(module)
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
