"""One parser for the integer lists of the package: architectures, ranges, widths, labels, shapes.

:func:`parse_int_list` reads ``"1-10-10-1"`` (``sep="-"``), ``"10,20,10"``,
``"1:5"`` / ``"2:50:2"`` ranges (``ranges=True``, STOP included when
reached) and sequences of integers, with one error sentence for all of
them.  Ranges are sized before they are expanded, so ``1:100000000`` is
refused by ``limit`` without building the list.
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

from ..errors import RegionsError

__all__ = ["parse_finite", "parse_int_list", "real_array"]


def _int(text: str) -> int:
    text = text.strip()
    if not text or not (text.lstrip("+-").isdigit()):
        raise ValueError(text)
    return int(text)


def parse_int_list(
    value: str | int | Sequence[int],
    *,
    name: str,
    sep: str = ",",
    ranges: bool = False,
    minimum: int = 1,
    sort: bool = False,
    limit: int | None = None,
    example: str = "10,20,10",
) -> list[int]:
    """Integers from text such as ``"10,20,10"``, ``"1-10-1"`` or ``"1:5,10"``, or from a sequence.

    Parameters
    ----------
    value : str, int or sequence of int
    name : str, keyword-only
        What is parsed, for the messages (e.g. ``"--widths"``).
    sep : str, keyword-only
        Separator of the items (``","`` or ``"-"``).
    ranges : bool, keyword-only
        Accept items ``START:STOP[:STEP]`` (STOP included when reached).
    minimum : int, keyword-only
        Smallest allowed value.
    sort : bool, keyword-only
        Return the values sorted without duplicates (else in the given order).
    limit : int, optional, keyword-only
        Most values allowed (counted before any range is expanded).
    example : str, keyword-only
        An example of the syntax for the messages.

    Returns
    -------
    list of int

    Raises
    ------
    RegionsError
        Quoting the value received.

    Examples
    --------
    >>> parse_int_list("1:5,10", name="depths", ranges=True)
    [1, 2, 3, 4, 5, 10]
    >>> parse_int_list("1-10-1", name="arch", sep="-")
    [1, 10, 1]
    """
    syntax = "integers, ranges START:STOP[:STEP]" if ranges else "integers"
    bad = f"expected {name} as {syntax} joined by {sep!r} such as {example}, got {value!r}"
    items: list = []  # ints and ranges
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        items = [int(value)]
    elif isinstance(value, str):
        parts = [p.strip() for p in value.strip().split(sep)]
        if not value.strip() or any(not p for p in parts):
            raise RegionsError(bad)
        for part in parts:
            bits = part.split(":") if ranges else [part]
            try:
                nums = [_int(b) for b in bits]
            except ValueError:
                raise RegionsError(bad) from None
            if len(nums) == 1:
                items.append(nums[0])
            elif len(nums) in (2, 3):
                start, stop = nums[0], nums[1]
                step = nums[2] if len(nums) == 3 else 1
                if step < 1 or stop < start:
                    raise RegionsError(f"expected {name} ranges START:STOP[:STEP] with START <= STOP and "
                                       f"STEP >= 1, got {part!r} in {value!r}")
                items.append(range(start, stop + 1, step))
            else:
                raise RegionsError(f"expected {name} ranges as START:STOP or START:STOP:STEP, got {part!r} "
                                   f"in {value!r}")
    else:
        try:
            seq = list(value)
        except TypeError:
            raise RegionsError(f"expected {name} as a sequence of integers, got {value!r}") from None
        for v in seq:
            if isinstance(v, bool) or not isinstance(v, (int, np.integer, float, np.floating)) or int(v) != v:
                raise RegionsError(f"expected {name} as a sequence of integers, got {value!r}")
            items.append(int(v))
    total = sum(len(i) if isinstance(i, range) else 1 for i in items)
    if total == 0:
        raise RegionsError(bad)
    if limit is not None and total > limit:
        raise RegionsError(f"expected at most {limit:,} values in {name}, got {total:,} from {value!r}; "
                           f"take a slice (fewer values or a larger STEP)")
    low = min((i.start if isinstance(i, range) else i) for i in items)
    if low < minimum:
        raise RegionsError(f"expected {name} of integers >= {minimum}, got {value!r}")
    out: list[int] = []
    for i in items:
        out.extend(i) if isinstance(i, range) else out.append(i)
    return sorted(set(out)) if sort else out


def parse_finite(value, *, name: str, positive: bool = False, minimum: float | None = None) -> float:
    """A finite float from text or a number; NaN, inf and empty text are refused.

    Examples
    --------
    >>> parse_finite("0.5", name="--level")
    0.5
    """
    try:
        x = float(value)
        if isinstance(value, str) and not value.strip():
            raise ValueError
    except (TypeError, ValueError):
        raise RegionsError(f"expected {name} to be a number, got {value!r}") from None
    if not math.isfinite(x):
        raise RegionsError(f"expected {name} to be a finite number, got {value!r}")
    if positive and x <= 0:
        raise RegionsError(f"expected {name} > 0, got {value!r}")
    if minimum is not None and x < minimum:
        raise RegionsError(f"expected {name} >= {minimum:g}, got {value!r}")
    return x


def real_array(value, *, name: str) -> np.ndarray:
    """``value`` as a float64 array holding exactly the numbers given, or one sentence why not.

    Complex numbers (never truncated to their real part), text, ``None``,
    ragged nesting and other objects are refused; integers beyond 2^53 and
    extended-precision floats that float64 cannot hold exactly are refused
    rather than rounded (:func:`regions.core.io.exact_float64`).  Python
    integers of any size and bools are fine where float64 holds them.

    Examples
    --------
    >>> real_array([1, 2.5], name="x").tolist()
    [1.0, 2.5]
    """
    from .io import exact_float64  # noqa: PLC0415

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a ragged list or a cast warning: refused below
            a = np.asarray(value)
    except (TypeError, ValueError, OverflowError, Warning):
        raise RegionsError(f"expected {name} as real numbers of one shape, got {_short(value)}") from None
    if a.dtype.kind == "O":  # Python ints beyond int64, mixed scalars: each one checked
        flat = a.reshape(-1).tolist()
        if any(isinstance(v, (complex, np.complexfloating)) for v in flat):
            raise RegionsError(f"expected real {name}, got complex values (the imaginary part is never "
                               f"dropped silently)")
        if not all(isinstance(v, (bool, int, float, np.bool_, np.integer, np.floating)) for v in flat):
            raise RegionsError(f"expected {name} as real numbers, got {_short(value)}")
        ints = (int, np.integer)
        big = [v for v in flat if isinstance(v, ints) and not isinstance(v, bool) and abs(int(v)) > 2**53]
        if big:
            raise RegionsError(f"expected integers of at most 2^53 in magnitude in {name} (float64 holds them "
                               f"exactly), got {int(big[0]):,}; give them as floats if rounding is intended")
        return np.array([float(v) for v in flat], dtype=np.float64).reshape(a.shape)
    if a.dtype.kind == "c":
        raise RegionsError(f"expected real {name}, got complex values (dtype {a.dtype}; the imaginary part is "
                           f"never dropped silently)")
    if a.dtype.kind not in "biuf":
        raise RegionsError(f"expected {name} as real numbers, got dtype {a.dtype}: {_short(value)}")
    return exact_float64(a, name)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
