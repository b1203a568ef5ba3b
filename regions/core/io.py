"""Small file helpers shared by the package (atomic writes)."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import IO, Callable

import numpy as np

from ..errors import RegionsError

__all__ = ["write_atomic", "write_text_atomic", "jsonable"]

# the process's umask, read once at import (os.umask can only be read by setting it)
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def write_atomic(path: str | os.PathLike, write: Callable[[IO], None], *, binary: bool = False) -> None:
    """Write a file atomically: ``write(fh)`` into a temp file, then rename over ``path``."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise RegionsError(f"expected an existing folder for the output, got {str(directory)!r}")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual mode
        with os.fdopen(fd, "wb" if binary else "w") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    write_atomic(path, lambda fh: fh.write(text))


def jsonable(x):
    """``x`` with numpy scalars and arrays made plain Python, for :mod:`json`.

    Integers stay exact (Python ints of any size); non-finite floats become
    None (JSON has no NaN or infinity).
    """
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    return x
