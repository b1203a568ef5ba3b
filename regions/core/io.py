"""File helpers shared by the package: where outputs go, atomic writes, locks, point files.

Every writer of the package goes through :func:`write_output` (or
:func:`open_target` for its checks), which decides by what the path *is*:

* ``"-"``: standard output;
* an existing FIFO, character device or socket (``/dev/null``,
  ``/dev/stdout``, a named pipe, also behind a symlink): written straight
  into, never replaced;
* a new path, or an existing regular file (with ``force=True``): written
  to a temporary file in the same folder, fsynced, then renamed over the
  path (a symlink to a regular file is followed, the link kept);
* a folder, an empty path, or anything else: refused in one sentence.

:func:`lock_output` takes an exclusive :func:`fcntl.flock` lock on a
hidden lock file beside a result or state file, so a second writer is
refused instead of mixing its rows into the first one's.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator

import numpy as np

from ..errors import RegionsError

__all__ = [
    "OutputTarget",
    "check_output_path",
    "exact_float64",
    "jsonable",
    "lock_output",
    "read_points",
    "write_atomic",
    "write_output",
    "write_text_atomic",
]

# the process's umask, read once at import (os.umask can only be read by setting it)
_UMASK = os.umask(0o022)
os.umask(_UMASK)


class OutputTarget:
    """What an output path is: ``kind`` is ``"stdout"``, ``"stream"`` or ``"file"``.

    ``path`` is the path to write (symlinks to regular files resolved);
    ``exists`` says whether a regular file is already there; ``replace``
    whether one may be replaced (else a file that appears at ``path``
    while the result is computed is kept and the write refused).
    """

    def __init__(self, kind: str, path: Path | None, exists: bool = False, replace: bool = False):
        self.kind = kind
        self.path = path
        self.exists = exists
        self.replace = replace  # an existing file may be replaced (--force, --resume)

    @property
    def is_file(self) -> bool:
        return self.kind == "file"


def check_output_path(path, *, force: bool = False, append: bool = False, what: str = "output",
                      suffixes: tuple[str, ...] | None = None) -> OutputTarget:
    """Check where an output may go, before any work; nothing is touched.

    Parameters
    ----------
    path : str or path-like
        ``"-"`` for standard output, or a path.
    force : bool, keyword-only
        Allow replacing an existing regular file.
    append : bool, keyword-only
        The caller keeps and extends an existing file (``--resume``), so an
        existing regular file is fine.
    what : str, keyword-only
        Name of the option, for the messages (e.g. ``"--out"``).
    suffixes : tuple of str, optional, keyword-only
        Allowed suffixes (lower case, with the dot) of a file path.

    Returns
    -------
    OutputTarget

    Raises
    ------
    RegionsError
        For an empty path, a folder, a missing parent folder, a wrong
        suffix, or an existing regular file without ``force``/``append``.
    """
    text = os.fspath(path) if path is not None else ""
    if not isinstance(text, str) or not text.strip():
        raise RegionsError(f"expected {what} to be a file path or '-' for standard output, got {text!r}")
    if text == "-":
        return OutputTarget("stdout", None)
    if "\0" in text:
        raise RegionsError(f"expected {what} to be a file path, got {text!r} with a NUL character")
    p = Path(text)
    try:
        st = os.stat(p)  # follows symlinks: /dev/stdout, links to devices
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise RegionsError(f"expected {what} to be a writable path, got {text!r} ({exc.strerror})") from None
    if st is not None and (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode) or stat.S_ISSOCK(st.st_mode)):
        return OutputTarget("stream", p)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise RegionsError(f"expected {what} to be a file, got the folder {text!r}")
    if text.endswith(os.sep) or (os.altsep and text.endswith(os.altsep)):  # Path() would drop the slash
        raise RegionsError(f"expected {what} to name a file, got {text!r}, which ends in a path separator "
                           f"(a folder)")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise RegionsError(f"expected {what} to be a regular file, a new path, a pipe or a device, got {text!r}")
    if suffixes is not None and p.suffix.lower() not in suffixes:
        names = ", ".join(suffixes[:-1]) + (" or " if len(suffixes) > 1 else "") + suffixes[-1]
        raise RegionsError(f"expected {what} to end in {names}, got {text!r}")
    real = Path(os.path.realpath(p)) if p.is_symlink() else p
    directory = real.parent if str(real.parent) else Path(".")
    if not directory.is_dir():
        raise RegionsError(f"expected an existing folder for {what}, got {str(directory)!r}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise RegionsError(f"expected a folder this process may write into for {what}, got the read-only "
                           f"{str(directory)!r}")
    if st is not None and not (force or append):
        raise RegionsError(f"expected {what} to name a new file, got the existing {text!r}; "
                           f"pass --force to replace it (or choose another name)")
    return OutputTarget("file", real, exists=st is not None, replace=force or append)


def write_atomic(path: str | os.PathLike, write: Callable[[IO], None], *, binary: bool = False,
                 new: bool = False) -> None:
    """Write a regular file atomically: ``write(fh)`` into a temp file, then rename over ``path``.

    Only for regular files or new paths (see :func:`write_output` for the
    rest); a symlink to a regular file is followed.  With ``new=True`` the
    file must still not exist when it is published (a hard link, which
    fails on an existing name): a file another process created at that
    path meanwhile is kept and the write refused, never clobbered.
    """
    path = Path(path)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise RegionsError(f"expected a regular file or a new path to replace atomically, got {str(path)!r}")
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
        if new:
            _publish_new(tmp, path)
        else:
            os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _publish_new(tmp: str, path: Path) -> None:
    """Give the finished temp file the name ``path`` only if nothing holds that name yet."""
    try:
        os.link(tmp, path)  # atomic, and fails on an existing name
    except FileExistsError:
        raise RegionsError(f"expected {str(path)!r} to be still new when the result was written, got a file "
                           f"that another process created meanwhile (kept as it is); pass --force to "
                           f"replace it") from None
    except OSError:  # a file system without hard links: the next best check, then the rename
        if os.path.lexists(path):
            raise RegionsError(f"expected {str(path)!r} to be still new when the result was written, got a "
                               f"file that another process created meanwhile (kept as it is); pass --force "
                               f"to replace it") from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    write_atomic(path, lambda fh: fh.write(text))


def write_output(target: OutputTarget | str | os.PathLike, data: str | bytes, *, force: bool = False,
                 what: str = "output") -> None:
    """Write ``data`` to an output: stdout, straight into a pipe/device, or atomically to a file.

    Parameters
    ----------
    target : OutputTarget or path
        From :func:`check_output_path`, or a path checked here.
    data : str or bytes
    force : bool, keyword-only
        Allow replacing an existing regular file (when ``target`` is a path).
    """
    if not isinstance(target, OutputTarget):
        target = check_output_path(target, force=force, what=what)
    binary = isinstance(data, bytes)
    if target.kind == "stdout":
        if binary:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(data)
            sys.stdout.flush()
        return
    if target.kind == "stream":
        try:
            with open(target.path, "ab" if binary else "a") as fh:  # no truncation, no replacement
                fh.write(data)
        except OSError as exc:
            raise RegionsError(f"expected to write {what} into {str(target.path)!r}, got "
                               f"{exc.strerror or type(exc).__name__}") from None
        return
    write_atomic(target.path, lambda fh: fh.write(data), binary=binary,
                 new=not (target.exists or target.replace))


@contextlib.contextmanager
def lock_output(path: str | os.PathLike, *, what: str = "output") -> Iterator[None]:
    """Hold an exclusive lock for writing ``path`` (a hidden ``.NAME.lock`` beside it).

    The lock file is left in place (removing it would race with the next
    writer); the lock itself dies with the process.

    Raises
    ------
    RegionsError
        When another process holds the lock.
    """
    import fcntl  # noqa: PLC0415 -- POSIX only; imported where it is used

    p = Path(path)
    if p.is_symlink():
        p = Path(os.path.realpath(p))
    lock = p.parent / f".{p.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            except OSError:
                holder = ""
            who = f" (process {holder})" if holder.isdigit() else ""
            raise RegionsError(f"expected no other run writing {what} {str(path)!r}, got one holding its "
                               f"lock{who}; wait for it or choose another file") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def exact_float64(a: np.ndarray, where: str) -> np.ndarray:
    """``a`` (bool, integer or float) as float64, refused where the cast would change a value.

    Integers beyond 2^53 in magnitude and extended-precision floats
    (``longdouble``) that float64 does not hold exactly are refused in one
    sentence naming ``where``; float16/float32/float64 and small integers
    always convert exactly.  NaN and infinities pass (the callers refuse
    them with their own sentence).
    """
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise RegionsError(f"expected real numbers in {where}, got dtype {a.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        out = a.astype(np.float64)
    if a.dtype.kind in "iu" and a.size:
        big = max(abs(int(a.max())), abs(int(a.min())))  # Python ints: no overflow at -2^63
        if big > 2**53:
            raise RegionsError(f"expected integers of at most 2^53 in magnitude in {where} (float64 holds them "
                               f"exactly), got {int(big):,}; give them as floats if rounding is intended")
    elif a.dtype.kind == "f" and a.dtype.itemsize > 8 and a.size:
        finite = np.isfinite(a)
        lost = finite & ~(np.isfinite(out) & (out.astype(a.dtype) == a))
        if lost.any():
            raise RegionsError(f"expected values that float64 holds exactly in {where}, got {a.dtype} values "
                               f"such as {a[lost].flat[0]!r} that it does not (beyond its range or precision)")
    return out


def read_points(path: str | os.PathLike, *, count: int | tuple[int, ...] | None = None,
                what: str = "points") -> np.ndarray:
    """Points from an ``.npy`` array ``(k, d)`` or an ``.npz`` with arrays ``x0, x1[, x2]``.

    Read with ``allow_pickle=False``; only real numeric arrays (bool,
    integer, float) are accepted: complex, string and object arrays, members
    that are not ``.npy`` arrays, points of unequal length, and NaN or inf
    coordinates are refused, never truncated or cast.

    Parameters
    ----------
    path : str or path-like
    count : int or tuple of int, optional, keyword-only
        How many points are expected (e.g. ``2`` for a segment, ``(2, 3)``
        for a segment or a plane).
    what : str, keyword-only
        Name used in the messages (e.g. ``"--line"``).

    Returns
    -------
    ndarray, shape (k, d), float64
    """
    import zipfile  # noqa: PLC0415

    counts = None if count is None else ((count,) if isinstance(count, int) else tuple(count))
    name = str(path)
    p = Path(path)
    if not p.is_file():
        raise RegionsError(f"expected an existing .npy/.npz file of {what}, got {name!r}")
    try:
        with open(p, "rb") as fh:
            magic = fh.read(6)
    except OSError as exc:
        raise RegionsError(f"expected a readable .npy/.npz file of {what}, got {name!r} "
                           f"({exc.strerror})") from None
    if magic != b"\x93NUMPY" and magic[:2] != b"PK":  # text (CSV, JSON), a pickle, anything else
        raise RegionsError(f"expected a .npy/.npz file of {what} (numpy.save / numpy.savez), got {name!r}, "
                           f"which is neither; convert it with numpy.save")
    try:
        data = np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise RegionsError(f"expected plain numeric arrays in {name!r}, got pickled objects, "
                               f"which are never loaded") from None
        raise RegionsError(f"expected a .npy/.npz file of {what}, got an unreadable {name!r}") from None
    except Exception as exc:  # noqa: BLE001 -- any unreadable file is one sentence
        raise RegionsError(f"expected a .npy/.npz file of {what}, got an unreadable {name!r} "
                           f"({type(exc).__name__})") from None

    def check(a, label: str) -> np.ndarray:
        if a.dtype.kind not in "biuf":
            kind = {"c": "complex", "U": "string", "S": "bytes", "O": "object", "V": "structured",
                    "M": "datetime", "m": "timedelta"}.get(a.dtype.kind, str(a.dtype))
            raise RegionsError(f"expected real numeric {what} in {name!r}, got {kind} values "
                               f"(dtype {a.dtype}) in {label}")
        return a

    if isinstance(data, np.lib.npyio.NpzFile):
        with data:
            names = [n for n in ("x0", "x1", "x2") if n in data.files]
            if names[:2] != ["x0", "x1"]:
                raise RegionsError(f"expected arrays x0, x1 (and x2) in {name!r}, got {sorted(data.files)}")
            extra = sorted(set(data.files) - set(names))
            if extra:  # never ignored silently: the file may not hold what the caller thinks
                raise RegionsError(f"expected only arrays x0, x1 (and x2) in {name!r}, got also {extra}")
            arrays = []
            for n in names:
                try:
                    a = data[n]
                except ValueError as exc:
                    why = "pickled objects, which are never loaded" if "pickle" in str(exc) else "an unreadable array"
                    raise RegionsError(f"expected plain numeric arrays in {name!r}, got {why} in {n}") from None
                except (OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
                    raise RegionsError(f"expected .npy members in {name!r}, got an unreadable {n} "
                                       f"({type(exc).__name__})") from None
                if not isinstance(a, np.ndarray):  # numpy hands back the raw bytes of a non-.npy member
                    raise RegionsError(f"expected .npy members in {name!r}, got {n} that is not a .npy array")
                arrays.append(exact_float64(check(a, n), f"{n} of {name!r}").reshape(-1))
            lengths = {a.size for a in arrays}
            if len(lengths) != 1:
                raise RegionsError(f"expected points of equal length in {name!r}, got lengths "
                                   f"{[a.size for a in arrays]} for {', '.join(names)}")
            pts = np.stack(arrays)
    else:
        check(data, "the array")
        if data.ndim != 2:
            raise RegionsError(f"expected {what} shaped (k, d) in {name!r}, got shape {data.shape}")
        pts = exact_float64(data, repr(name))
    if counts is not None and pts.shape[0] not in counts:
        want = " or ".join(str(c) for c in counts)
        raise RegionsError(f"expected {want} points shaped (k, d) in {name!r}, got {pts.shape[0]} "
                           f"(shape {pts.shape})")
    if pts.shape[1] < 1:
        raise RegionsError(f"expected points with at least one coordinate in {name!r}, got shape {pts.shape}")
    if not np.isfinite(pts).all():
        raise RegionsError(f"expected finite point coordinates in {name!r}, got NaN or inf")
    return pts


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
