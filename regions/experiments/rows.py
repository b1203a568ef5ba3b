"""Sweep rows on disk: checking the output path, writing rows as they finish, reading them back.

See :mod:`.sweep` ("Outputs") for the guarantees; :mod:`.sweep` re-exports
every public name here.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from ..errors import RegionsError
from ..core.io import check_output_path, jsonable, write_text_atomic
from .cells import _FLOAT_COLUMNS, _INT_COLUMNS, COLUMNS, SETTINGS

__all__ = [
    "RowWriter",
    "check_output",
    "read_rows",
]


# ----------------------------------------------------------------- outputs
def _csv_value(v):
    if v is None:
        return ""
    if isinstance(v, dict):
        return json.dumps(jsonable(v), sort_keys=True)
    if isinstance(v, list):
        return " ".join(str(int(x)) for x in v)
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _from_csv(rec: dict, where: str) -> dict:
    row = {}
    for k in COLUMNS:
        v = rec.get(k, "")
        if v == "" or v is None:
            row[k] = [] if k == "random_counts" and rec.get("mode") in ("random", "all") else None
            continue
        try:
            if k in _INT_COLUMNS:
                row[k] = int(v)
            elif k in _FLOAT_COLUMNS:
                row[k] = float(v)
            elif k == "random_counts":
                row[k] = [int(x) for x in v.split()]
            elif k == "settings":
                row[k] = json.loads(v)
            else:
                row[k] = v
        except (ValueError, TypeError):
            raise RegionsError(f"expected a valid {k} in {where}, got {v[:40]!r}") from None
    return row


def _check_row(row, where: str) -> dict:
    """A row read back from a file: an object with integer input_dim, depth and width."""
    if not isinstance(row, dict):
        raise RegionsError(f"expected a JSON object per row in {where}, got {type(row).__name__}")
    for k in ("input_dim", "depth", "width"):
        v = row.get(k)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise RegionsError(f"expected an integer {k} >= 1 in {where}, got {v!r}")
    if row["depth"] > 100_000:  # as make_cells: no sweep computes deeper cells
        raise RegionsError(f"expected a depth of at most 100,000 in {where}, got {row['depth']:,}")
    d, k, w = row["input_dim"], row["depth"], row["width"]
    params = d * w + w + (k - 1) * (w * w + w) + w + 1  # one output, as every sweep cell
    if row.get("params") is not None and row["params"] != params:
        raise RegionsError(f"expected params {params} for input_dim {d}, depth {k} and width {w} in {where}, "
                           f"got {row['params']!r}; the row was not written by a sweep")
    if row.get("settings") is not None and not isinstance(row["settings"], dict):
        raise RegionsError(f"expected the settings of {where} as an object, got {row['settings']!r}")
    for k in _INT_COLUMNS:  # every column the table and the figure read, checked now, not after the run
        v = row.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise RegionsError(f"expected an integer {k} in {where}, got {v!r}"[:200])
    for k in _FLOAT_COLUMNS:
        v = row.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise RegionsError(f"expected a number {k} in {where}, got {v!r}"[:200])
    counts = row.get("random_counts")
    if counts is not None and (not isinstance(counts, list)
                               or any(isinstance(c, bool) or not isinstance(c, int) for c in counts)):
        raise RegionsError(f"expected random_counts as a list of integers in {where}, got {counts!r}"[:200])
    for k in ("construction", "init", "domain", "mode", "note"):
        v = row.get(k)
        if v is not None and not isinstance(v, str):
            raise RegionsError(f"expected {k} as text in {where}, got {v!r}"[:200])
    return row


def _format(path: Path) -> str:
    ext = path.suffix.lower()
    if ext not in (".csv", ".json", ".jsonl"):
        raise RegionsError(f"expected an output file ending in .csv, .json or .jsonl, got {str(path)!r}")
    return ext[1:]


def check_output(path: str | os.PathLike, *, resume: bool = False, force: bool = False,
                 settings: dict | None = None) -> Path:
    """Check an output path before a sweep, touching nothing.

    Its suffix and folder; a regular file or a new path (never a pipe or a
    device: rows are appended and rewritten); an existing file only with
    ``resume`` or ``force``.  With ``resume`` its rows are read and checked
    now (a bad integer, binary bytes, a row that is not an object are
    refused before anything is computed) and, given ``settings``, every row
    must carry exactly these settings (:data:`SETTINGS`).
    """
    if resume and force:
        raise RegionsError("expected either resume (keep the rows) or force (replace the file), got both")
    target = check_output_path(path, force=True, what="the rows file", suffixes=(".csv", ".json", ".jsonl"))
    if target.is_file and target.exists and not (force or resume):
        raise RegionsError(f"expected the rows file to name a new file, got the existing {str(path)!r}; "
                           f"pass --resume to complete it or --force to replace it")
    if not target.is_file:
        raise RegionsError(f"expected the rows file to be a regular file or a new path (rows are appended "
                           f"and rewritten), got {str(path)!r}")
    if resume:
        rows = read_rows(path)
        if settings is not None:
            _check_settings(path, rows, settings)
    return Path(path)


def _cut_short(row: dict) -> bool:
    """Whether a row was cut short by its deadline or a dead worker (``--resume`` computes it again)."""
    note = row.get("note") or ""
    return note.startswith(("stopped after", "worker process died"))


def _check_settings(path, rows: list[dict], want: dict) -> None:
    for row in rows:
        if row.get("settings") != want:
            raise _mismatch(path, row.get("settings"), want)


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs):
    """``object_pairs_hook`` for :func:`json.loads`: a key given twice is refused, not overwritten."""
    out = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _no_conflicts(path, rows: list[dict]) -> list[dict]:
    """Refuse two complete rows of one cell that disagree (apart from their seconds)."""
    seen: dict = {}
    for row in rows:
        if _cut_short(row):
            continue
        key = (row["input_dim"], row["depth"], row["width"])
        same = {k: v for k, v in row.items() if k != "seconds"}
        if key in seen and seen[key] != same:
            diff = sorted(k for k in set(same) | set(seen[key]) if same.get(k) != seen[key].get(k))
            raise RegionsError(f"expected one result per cell in {str(path)!r}, got two rows for input_dim "
                               f"{key[0]}, depth {key[1]}, width {key[2]} that differ in {diff[:4]}")
        seen[key] = same
    return rows


def read_rows(path: str | os.PathLike) -> list[dict]:
    """Rows of a sweep file (``.csv``, ``.jsonl`` or ``.json``); an unterminated last line is ignored.

    Returns
    -------
    list of dict
        With exact Python ints for the integer columns.
    """
    path = Path(path)
    fmt = _format(path)
    if not path.exists():
        return []
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark (spreadsheet programs) is dropped
    except UnicodeDecodeError as exc:
        raise RegionsError(f"expected a text file of sweep rows in {str(path)!r}, got binary bytes at "
                           f"offset {exc.start}") from None
    except OSError as exc:
        raise RegionsError(f"expected a readable sweep file, got {str(path)!r} ({exc.strerror})") from None
    if "\x00" in text:
        raise RegionsError(f"expected a text file of sweep rows in {str(path)!r}, got NUL bytes")
    if fmt == "json":
        if not text.strip():
            return []
        try:
            doc = json.loads(text, object_pairs_hook=_unique_keys)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise RegionsError(f"expected a sweep JSON document in {str(path)!r}, got invalid JSON ({exc})") from None
        except _DuplicateKey as exc:
            raise RegionsError(f"expected each key once per object in {str(path)!r}, got {exc.args[0]!r} "
                               f"twice") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise RegionsError(f"expected a sweep JSON document with a 'rows' list in {str(path)!r}, got {type(doc).__name__}")
        rows = [_check_row(r, f"row {n} of {str(path)!r}") for n, r in enumerate(doc["rows"], 1)]
        return _no_conflicts(path, rows)
    complete = text[: text.rfind("\n") + 1] if "\n" in text else ""
    if fmt == "jsonl":
        rows = []
        for n, line in enumerate(complete.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line, object_pairs_hook=_unique_keys)
            except (json.JSONDecodeError, RecursionError):
                raise RegionsError(f"expected one JSON row per line in {str(path)!r}, got a bad line {n}") from None
            except _DuplicateKey as exc:
                raise RegionsError(f"expected each key once per row in {str(path)!r}, got {exc.args[0]!r} "
                                   f"twice on line {n}") from None
            rows.append(_check_row(row, f"line {n} of {str(path)!r}"))
        return _no_conflicts(path, rows)
    try:
        reader = csv.DictReader(io.StringIO(complete))
        if complete and reader.fieldnames and "depth" not in reader.fieldnames:
            raise RegionsError(f"expected a sweep CSV with a header row in {str(path)!r}, "
                               f"got {reader.fieldnames[:4]}")
        twice = sorted({f for f in reader.fieldnames or [] if (reader.fieldnames or []).count(f) > 1})
        if twice:
            raise RegionsError(f"expected each column once in the header of {str(path)!r}, got {twice} twice")
        rows = [_check_row(_from_csv(rec, f"line {n} of {str(path)!r}"), f"line {n} of {str(path)!r}")
                for n, rec in enumerate(reader, 2)]
        return _no_conflicts(path, rows)
    except csv.Error as exc:
        raise RegionsError(f"expected a sweep CSV in {str(path)!r}, got a malformed line ({exc})") from None


class RowWriter:
    """Append rows to a ``.csv`` / ``.jsonl`` file (one complete line each) or keep a ``.json`` document.

    Parameters
    ----------
    path : str or PathLike
        The output file; its suffix picks the format.
    resume : bool, keyword-only
        Keep the rows already in the file (a half-written last line is cut
        away); otherwise the file is started afresh.
    meta : dict, keyword-only
        Settings stored in the ``.json`` document beside the rows.
    """

    def __init__(self, path: str | os.PathLike, *, resume: bool = False, meta: dict | None = None):
        self.path = Path(path)
        self.format = _format(self.path)
        directory = self.path.parent if str(self.path.parent) else Path(".")
        if not directory.is_dir():
            raise RegionsError(f"expected an existing folder for the output, got {str(directory)!r}")
        self.meta = dict(meta or {})
        self.rows: list[dict] = read_rows(self.path) if resume else []
        if self.format == "json":
            self._rewrite()
            return
        if resume and self.path.exists():
            data = self.path.read_bytes()
            cut = data.rfind(b"\n") + 1
            if cut != len(data):  # a line cut short by a kill: drop it
                with open(self.path, "r+b") as fh:
                    fh.truncate(cut)
                    fh.flush()
                    os.fsync(fh.fileno())
        if not (resume and self.path.exists() and self.path.stat().st_size):
            header = ",".join(COLUMNS) + "\n" if self.format == "csv" else ""
            write_text_atomic(self.path, header)

    def _line(self, row: dict) -> str:
        if self.format == "jsonl":
            return json.dumps(jsonable(row)) + "\n"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([_csv_value(row.get(k)) for k in COLUMNS])
        return buf.getvalue()

    def _rewrite(self) -> None:
        if self.format == "json":
            write_text_atomic(self.path, json.dumps(jsonable({"sweep": self.meta, "rows": self.rows}), indent=1) + "\n")
        else:
            header = ",".join(COLUMNS) + "\n" if self.format == "csv" else ""
            write_text_atomic(self.path, header + "".join(self._line(r) for r in self.rows))

    def append(self, row: dict) -> None:
        """Write one row now: one whole line, flushed and fsynced (``.json``: atomic rewrite)."""
        self.rows.append(row)
        if self.format == "json":
            self._rewrite()
            return
        data = self._line(row).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            os.close(fd)

    def finish(self) -> None:
        """Rewrite the file with the rows sorted by (input_dim, depth, width), atomically."""
        self.rows.sort(key=lambda r: (r["input_dim"], r["depth"], r["width"]))
        self._rewrite()


def _mismatch(path, have: dict | None, want: dict) -> RegionsError:
    if have is None:
        got = "rows without stored settings (written by an older version)"
    else:
        diff = [k for k in SETTINGS if have.get(k) != want[k]]
        got = ", ".join(f"{k} {have.get(k)!r} (this run: {want[k]!r})" for k in diff)
        if not diff:  # the same values, but other keys: written by another version
            other = sorted(set(have) ^ set(want))
            got = f"settings with other keys {other[:4]} (written by another version)"
    return RegionsError(f"expected the rows of {str(path)!r} to have this sweep's settings to resume, "
                        f"got {got}; write to another file or run with the file's settings")
