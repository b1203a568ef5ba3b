"""Published bounds on the number of linear regions, as exact integers.

Notation: ``n_0`` (``input_dim``) inputs, hidden widths ``n_1, ..., n_L``
(``widths``), one output unless told otherwise.  Every function returns a
Python ``int`` (arbitrary precision), never a float.

Summary
-------
==============================  =============================================
``n_params``                    sum over layers of ``out * in + out``
``zaslavsky``                   ``sum_{j<=d} C(n, j)``: n hyperplanes in R^d
``serra_lower_bound``           ``prod_{l<L} (floor(n_l/d)+1)^d * sum_{j<=d} C(n_L, j)``
``montufar2014_lower_bound``    ``prod_{l<L} floor(n_l/d)^d * sum_{j<=d} C(n_L, j)``
``serra_upper_bound``           Serra et al. 2018, Theorem 1
``montufar2017_upper_bound``    ``prod_l sum_{j<=d_l} C(n_l, j)``, ``d_l = min(n_0..n_l)``
``one_dim_maximum``             ``prod_l (n_l + 1)`` (d = 1)
==============================  =============================================

References
----------
.. [1] T. Zaslavsky, "Facing up to arrangements: face-count formulas for
   partitions of space by hyperplanes", Mem. AMS 154, 1975.
.. [2] G. Montufar, R. Pascanu, K. Cho, Y. Bengio, "On the number of linear
   regions of deep neural networks", NeurIPS 2014.
.. [3] G. Montufar, "Notes on the number of linear regions of deep neural
   networks", SampTA 2017.
.. [4] T. Serra, C. Tjandraatmadja, S. Ramalingam, "Bounding and counting
   linear regions of deep neural networks", ICML 2018.
.. [5] S. J. D. Prince, *Understanding Deep Learning*, MIT Press 2023,
   chapter 4 (eq. 4.17).
"""

from __future__ import annotations

from itertools import accumulate
from math import comb, log2, prod
from typing import Sequence

from ..errors import RegionsError

__all__ = [
    "bound_bits",
    "bounds",
    "format_int",
    "lower_bound_applies",
    "maxout_bounds",
    "montufar2014_lower_bound",
    "montufar2014_maxout_lower_bound",
    "montufar2017_upper_bound",
    "n_params",
    "one_dim_maximum",
    "serra_lower_bound",
    "serra_maxout_upper_bound",
    "serra_upper_bound",
    "uniform_widths",
    "zaslavsky",
]


#: Largest bound (in bits) computed: beyond it the integer alone would take
#: megabytes and its products minutes.
MAX_BITS = 1 << 24

#: Largest work of :func:`serra_upper_bound`: sum over layers of the states
#: times the bits of the partial sums times the words of one binomial
#: (measured at 5e9 to 2e10 per second), about a minute at most.
MAX_WORK = 5 * 10**11


def _binomial_row(n: int, top: int) -> list[int]:
    """``[C(n, 0), ..., C(n, top)]`` by the multiplicative recurrence (exact)."""
    row = [1]
    c = 1
    for j in range(1, top + 1):
        c = c * (n - j + 1) // j
        row.append(c)
    return row


def _log2_zaslavsky(n: int, d: int) -> float:
    """An upper estimate of ``log2(sum_{j<=d} C(n, j))`` without computing it."""
    if d >= n:
        return float(n)
    # sum_{j<=d} C(n, j) <= (e n / d)^d
    return min(float(n), d * (log2(n / d) + 1.4427)) + 1.0


def bound_bits(input_dim: int, widths: Sequence[int]) -> float:
    """An upper estimate of the number of bits of the largest bound of :func:`bounds`.

    Each layer multiplies the count by at most Zaslavsky's
    ``sum_{j<=d} C(n_l, j)``, so the bits add up over the layers.
    """
    d = _dim(input_dim)
    total = 0.0
    for n in _widths(widths):
        total += _log2_zaslavsky(n, d)
        d = min(d, n)
    return total


def _check_size(d0: int, ws: tuple[int, ...]) -> None:
    bits = 0.0
    work = 0.0
    d = d0
    for n in ws:
        row_bits = _log2_zaslavsky(n, d)
        bits += row_bits
        d = min(d, n)
        work += (d + 1) * bits * (1.0 + row_bits / 64.0)
    if work > MAX_WORK and bits <= MAX_BITS:
        raise RegionsError(
            f"expected bounds computable in about a minute, got an estimated {work:.1e} bit operations "
            f"(limit {MAX_WORK:.0e}) for input dimension {d0} and {len(ws)} hidden layers "
            f"(widths up to {max(ws)}); choose fewer or narrower layers"
        )
    if bits > MAX_BITS:
        raise RegionsError(
            f"expected bounds of at most {MAX_BITS:,} bits ({int(MAX_BITS * 0.30103):,} decimal digits), "
            f"got an estimated {bits:,.0f} bits for input dimension {d0} and {len(ws)} hidden layers "
            f"(widths up to {max(ws)}); choose fewer or narrower layers"
        )


def format_int(value: int, *, digits: int = 3, plain: int = 10**7) -> str:
    """An exact integer for reading: ``1,234,567`` below ``plain``, else ``1.23e4567``.

    The mantissa and exponent are taken from the decimal digits of the
    integer itself (no float conversion), so integers of any size format.

    Examples
    --------
    >>> format_int(12345)
    '12,345'
    >>> format_int(11 ** 1000)
    '2.47e1041'
    """
    value = int(value)
    if abs(value) < plain:
        return f"{value:,}"
    sign = "-" if value < 0 else ""
    text = _decimal(abs(value))
    exponent = len(text) - 1
    head = int(text[: digits + 1])  # one guard digit, rounded half up
    head = (head + 5) // 10
    if head >= 10 ** digits:  # 9.995 -> 10.0
        head //= 10
        exponent += 1
    mantissa = str(head)
    mantissa = mantissa[0] + ("." + mantissa[1:] if digits > 1 else "")
    return f"{sign}{mantissa}e{exponent}"


def _decimal(value: int) -> str:
    """The decimal digits of a non-negative integer of any size."""
    try:
        return str(value)
    except ValueError:  # Python's limit on int -> str conversion
        import sys  # noqa: PLC0415

        old = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)
        try:
            return str(value)
        finally:
            sys.set_int_max_str_digits(old)


def _dim(d) -> int:
    if isinstance(d, bool) or int(d) != d or int(d) < 1:
        raise RegionsError(f"expected an input dimension >= 1, got {d!r}")
    return int(d)


def _widths(widths) -> tuple[int, ...]:
    try:
        ws = tuple(int(w) for w in widths)
    except (TypeError, ValueError):
        raise RegionsError(f"expected a sequence of hidden widths, got {widths!r}") from None
    if not ws or any(w < 1 for w in ws) or any(int(w) != w for w in widths):
        raise RegionsError(f"expected at least one hidden width, all integers >= 1, got {widths!r}")
    return ws


def uniform_widths(width: int, depth: int) -> tuple[int, ...]:
    """``(width,) * depth``, checked."""
    if int(depth) < 1 or int(width) < 1:
        raise RegionsError(f"expected width >= 1 and depth >= 1, got width={width!r}, depth={depth!r}")
    return (int(width),) * int(depth)


def n_params(input_dim: int, widths: Sequence[int], output_dim: int = 1) -> int:
    """Number of parameters, ``sum_l (n_{l-1} n_l + n_l)`` including the output layer.

    Examples
    --------
    >>> n_params(1, [10] * 5)
    471
    >>> n_params(10, [50] * 5)
    10801
    """
    sizes = (_dim(input_dim), *_widths(widths), _dim(output_dim))
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def zaslavsky(n: int, d: int) -> int:
    """Regions of ``n`` hyperplanes in general position in ``R^d``: ``sum_{j=0}^{d} C(n, j)``.

    This is the maximum over all arrangements of ``n`` hyperplanes, hence the
    maximum number of regions of a one-hidden-layer network with ``n`` units
    on ``d`` inputs [1]_.

    Examples
    --------
    >>> zaslavsky(3, 2)  # three lines in general position
    7
    """
    if int(n) < 0:
        raise RegionsError(f"expected a number of hyperplanes >= 0, got {n!r}")
    return sum(_binomial_row(int(n), min(int(n), _dim(d))))


def lower_bound_applies(input_dim: int, widths: Sequence[int]) -> bool:
    """Whether :func:`serra_lower_bound` is proved: ``n_l >= 3 d`` for every layer but the last."""
    d = _dim(input_dim)
    return all(w >= 3 * d for w in _widths(widths)[:-1])


def serra_lower_bound(input_dim: int, widths: Sequence[int], *, check: bool = True) -> int:
    """Deep lower bound of Serra et al. 2018 (Prince eq. 4.17).

    .. math:: \\prod_{l=1}^{L-1} (\\lfloor n_l / d \\rfloor + 1)^{d}
              \\sum_{j=0}^{d} \\binom{n_L}{j}

    achieved by networks that fold each input coordinate with zigzags [4]_,
    improving the ``floor(n_l/d)^d`` of Montufar et al. 2014 [2]_.  For
    uniform width D, depth K, d inputs this is Prince's
    ``(D/d + 1)^{d (K-1)} sum_{j<=d} C(D, j)`` [5]_.

    The construction needs ``n_l >= 3 d`` for every layer but the last
    (each coordinate is folded by a zigzag of at least three units); outside
    that regime the formula is not a proved bound (for d = 10 and width 10
    it even exceeds the upper bound), so it is refused unless
    ``check=False``.

    Examples
    --------
    >>> serra_lower_bound(1, [10] * 5)
    161051
    >>> serra_lower_bound(10, [50] * 5)
    179562019186562049740867382427559978336256
    """
    d = _dim(input_dim)
    ws = _widths(widths)
    if check and not lower_bound_applies(d, ws):
        raise RegionsError(
            f"expected every hidden width but the last to be >= 3 * input_dim = {3 * d} for "
            f"the deep lower bound, got widths {list(ws)}"
        )
    return prod((w // d + 1) ** d for w in ws[:-1]) * zaslavsky(ws[-1], d)


def montufar2014_lower_bound(input_dim: int, widths: Sequence[int]) -> int:
    """Lower bound of Montufar, Pascanu, Cho and Bengio 2014, Theorem 4.

    .. math:: \\prod_{l=1}^{L-1} \\lfloor n_l / d \\rfloor^{d}
              \\sum_{j=0}^{d} \\binom{n_L}{j}

    valid when every ``n_l >= d`` (0 otherwise, the construction needs it) [2]_.
    """
    d = _dim(input_dim)
    ws = _widths(widths)
    return prod((w // d) ** d for w in ws[:-1]) * zaslavsky(ws[-1], d)


def serra_upper_bound(input_dim: int, widths: Sequence[int]) -> int:
    """Upper bound of Serra, Tjandraatmadja and Ramalingam 2018, Theorem 1.

    .. math:: \\sum_{(j_1,\\dots,j_L) \\in J} \\prod_{l=1}^{L} \\binom{n_l}{j_l},
              \\quad J = \\{ 0 \\le j_l \\le \\min(n_0, n_1 - j_1, \\dots,
              n_{l-1} - j_{l-1}, n_l) \\}

    The minimum is the dimension the image can still have after the earlier
    layers.  The sum over ``J`` is evaluated exactly by dynamic programming
    over that dimension: per layer, prefix sums of one row of binomials and
    suffix sums of the states, so the cost is ``O(L * min(n_0, n_l))``
    big-integer additions and products (polynomial in depth and width) [4]_.

    Examples
    --------
    >>> serra_upper_bound(1, [10] * 5) == 11 ** 5
    True
    >>> serra_upper_bound(2, [3]) == zaslavsky(3, 2)
    True
    """
    d0 = _dim(input_dim)
    ws = _widths(widths)
    _check_size(d0, ws)
    # an input dimension above the first width adds no state: min(d0, n_1 - j_1) = n_1 - j_1 there
    d0 = min(d0, ws[0])
    # ways[d]: sum of products over the prefixes (j_1..j_l) whose running min is d
    ways = [0] * d0 + [1]
    for n in ws:
        top = min(len(ways) - 1, n)  # j never exceeds min(d, n)
        row = _binomial_row(n, top)  # C(n, 0..top)
        prefix = list(accumulate(row))
        size = len(ways)
        suffix = [0] * (size + 1)  # suffix[k] = sum of ways[d] for d >= k
        for d in range(size - 1, -1, -1):
            suffix[d] = suffix[d + 1] + ways[d]
        nxt = [0] * (min(size - 1, n) + 1)
        for d, w in enumerate(ways):
            # j <= n - d keeps the dimension d (key min(d, n - j) = d)
            if w and n - d >= 0:
                nxt[d] += w * prefix[min(d, n - d)]
        for k in range(len(nxt)):
            # j = n - k > n - d lowers the dimension to k: every d >= max(k + 1, n - k)
            j = n - k
            if j <= top:
                lo = max(k + 1, j)
                if lo < size:
                    nxt[k] += row[j] * suffix[lo]
        ways = nxt
    return sum(ways)


def montufar2017_upper_bound(input_dim: int, widths: Sequence[int]) -> int:
    """Upper bound of Montufar 2017, Proposition 3.

    .. math:: \\prod_{l=1}^{L} \\sum_{j=0}^{d_l} \\binom{n_l}{j},
              \\quad d_l = \\min(n_0, n_1, \\dots, n_l)

    [3]_.
    """
    d = _dim(input_dim)
    _check_size(d, _widths(widths))
    out = 1
    for n in _widths(widths):
        d = min(d, n)
        out *= zaslavsky(n, d)
    return out


def one_dim_maximum(widths: Sequence[int]) -> int:
    """The maximum for one input, ``prod_l (n_l + 1)``.

    An upper bound for every 1-input network (each of the ``n_l`` units of
    layer l adds at most one breakpoint per earlier region) and attained when
    every ``n_l >= 3`` (Serra et al. 2018 [4]_; see
    :func:`regions.constructions.sawtooth`).
    """
    return prod(n + 1 for n in _widths(widths))


def bounds(input_dim: int, widths: Sequence[int], output_dim: int = 1) -> dict:
    """Every quantity above for one architecture, named, as exact integers.

    Returns
    -------
    dict
        ``params``, ``serra_lower`` (None outside its regime ``n_l >= 3 d``),
        ``montufar2014_lower``, ``serra_upper``, ``montufar2017_upper``;
        ``zaslavsky`` for one hidden layer and ``one_dim_maximum`` for one input.
    """
    d = _dim(input_dim)
    ws = _widths(widths)
    _check_size(d, ws)
    out = {
        "params": n_params(d, ws, output_dim),
        "serra_lower": serra_lower_bound(d, ws) if lower_bound_applies(d, ws) else None,
        "montufar2014_lower": montufar2014_lower_bound(d, ws),
        "serra_upper": serra_upper_bound(d, ws),
        "montufar2017_upper": montufar2017_upper_bound(d, ws),
    }
    if len(ws) == 1:
        out["zaslavsky"] = zaslavsky(ws[0], d)
    if d == 1:
        out["one_dim_maximum"] = one_dim_maximum(ws)
    return out


# ------------------------------------------------------------------ maxout
def _rank(k) -> int:
    if isinstance(k, bool) or int(k) != k or int(k) < 2:
        raise RegionsError(f"expected a maxout rank k >= 2 (candidates per unit), got {k!r}")
    return int(k)


def serra_maxout_upper_bound(input_dim: int, widths: Sequence[int], rank: int) -> int:
    """Upper bound of Serra, Tjandraatmadja and Ramalingam 2018 for maxout networks.

    .. math:: \\prod_{l=1}^{L} \\sum_{j=0}^{d_l} \\binom{\\tfrac{k(k-1)}{2} n_l}{j},
              \\quad d_l = \\min(n_0, n_1, \\dots, n_l)

    for ``n_l`` rank-``k`` maxout units in layer ``l`` (Serra et al. 2018 [4]_,
    their upper bound for maxout networks): within a region, each unit's
    boundaries lie on the ``k (k - 1) / 2`` hyperplanes where two of its
    candidates tie, and the image of a region after layer ``l`` has
    dimension at most ``d_l``; rank 2 gives the ReLU-like per-layer
    Zaslavsky factor (checked in tests/test_theory_maxout.py, and against
    exact counts in tests/test_op_engines.py).

    Examples
    --------
    >>> serra_maxout_upper_bound(2, [3], 2) == zaslavsky(3, 2)  # rank 2: one hyperplane per unit
    True
    """
    d = _dim(input_dim)
    k = _rank(rank)
    out = 1
    for n in _widths(widths):
        d = min(d, n)
        out *= zaslavsky(k * (k - 1) // 2 * n, d)
    return out


def montufar2014_maxout_lower_bound(input_dim: int, widths: Sequence[int], rank: int) -> int:
    """Lower bound of Montufar, Pascanu, Cho and Bengio 2014 for maxout networks.

    .. math:: k^{L - 1} \\, k^{n_0}

    regions are attained by a rank-``k`` maxout network with ``L`` layers of
    width ``n_0`` (Montufar et al. 2014 [2]_, their lower bound for deep
    maxout networks: the first layer makes a ``k^{n_0}`` grid, each further
    layer folds it ``k`` times); wider layers contain that network, so the
    bound holds whenever every ``n_l >= n_0`` (refused otherwise).  The
    one-layer construction is counted exactly in tests/test_op_engines.py.

    Examples
    --------
    >>> montufar2014_maxout_lower_bound(2, [2, 2, 2], 3)  # 3^(3 - 1) * 3^2
    81
    """
    d = _dim(input_dim)
    k = _rank(rank)
    ws = _widths(widths)
    if min(ws) < d:
        raise RegionsError(
            f"expected every maxout layer to have at least input_dim = {d} units for the "
            f"Montufar 2014 maxout lower bound, got widths {list(ws)}"
        )
    return k ** (len(ws) - 1 + d)


def maxout_bounds(input_dim: int, widths: Sequence[int], rank: int) -> dict:
    """The maxout bounds above for one architecture, as exact integers.

    Returns
    -------
    dict
        ``rank``, ``maxout_serra_upper`` and ``maxout_montufar2014_lower``
        (None when some width is below ``input_dim``).
    """
    d = _dim(input_dim)
    ws = _widths(widths)
    k = _rank(rank)
    return {
        "rank": k,
        "maxout_montufar2014_lower": montufar2014_maxout_lower_bound(d, ws, k) if min(ws) >= d else None,
        "maxout_serra_upper": serra_maxout_upper_bound(d, ws, k),
    }
