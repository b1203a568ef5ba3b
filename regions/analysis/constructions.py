"""Networks with known region counts.

``sawtooth(depth=K, width=D)``
    1 input, K hidden layers of D >= 3 units, exactly ``(D+1)^K`` activation
    regions on all of R (and on any interval containing [0, 1]): the
    1-D maximum ``prod (n_l + 1)``.
``lecture_pair()``
    The lecture's shallow-vs-deep comparison: two composed 1-3-1 networks
    (20 parameters, 9 regions on [0, 1]) against a 1-6-1 network
    (19 parameters, at most 7 regions anywhere; the one built here has 7).

Construction of the sawtooth
----------------------------
One layer computes the zigzag ``y(x) = sum_i c_i h_i + d`` with breakpoints
``p_i = (2i - 1) / (2D)``, i = 1..D, where ``y(p_i)`` alternates between
``-a`` and ``1 + a`` (``a = 1/4``).  Unit ``i`` is ``relu(x - p_i)``
except one unit ``j`` facing left, ``relu(p_j - x)``, so that the outer
pieces ``x < p_1`` and ``x > p_D`` are sloped as well (``j = D`` for odd D,
``j = 3`` for even D).  Slopes and offsets are chosen so that

* each of the D - 1 inner pieces maps onto ``[-a, 1 + a]``,
* each outer piece maps its part of [0, 1] onto a superset of ``[0, 1]``
  and its half-line onto a half-line containing ``[0, 1]``.

Hence every piece maps onto a set containing all the next layer's
breakpoints ``p_i`` strictly inside, and each region of layer l splits into
exactly D + 1 regions at layer l + 1: ``(D+1)^K`` on R, and the same on
[0, 1].  Layer l + 1 reads ``y`` through its first-layer weights, so the
hidden-to-hidden matrix is the rank-one ``w c^T`` (the composition of the
lecture, Psi = Theta' Phi).  All weights are rationals with small
denominators, so the count can be checked in exact arithmetic.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..errors import RegionsError
from ..model.network import Network, compose

__all__ = ["sawtooth", "sawtooth_layer", "lecture_pair", "CONSTRUCTIONS"]

#: Names accepted by the CLI's ``--construction``: :func:`sawtooth` (one input)
#: and :func:`folding` (any number of inputs; the construction of ``regions sweep``).
CONSTRUCTIONS = ("sawtooth", "folding")

OVERSHOOT = Fraction(1, 4)


def sawtooth_layer(width: int) -> tuple[list, list, list, Fraction]:
    """The exact rational zigzag of one sawtooth layer.

    Returns
    -------
    w, p, c, d
        Unit ``i`` computes ``relu(w[i] * (x - p[i]))``; the layer's
        output is ``y = sum_i c[i] h_i + d``.  Lists of :class:`Fraction`.
    """
    D = int(width)
    if D != width or D < 3:
        raise RegionsError(f"expected a sawtooth width D >= 3, got {width!r}")
    a = OVERSHOOT
    p = [Fraction(2 * i - 1, 2 * D) for i in range(1, D + 1)]
    vals = [(-a if i % 2 == 1 else 1 + a) for i in range(1, D + 1)]  # y(p_i)
    inner = [(vals[i + 1] - vals[i]) / (p[i + 1] - p[i]) for i in range(D - 1)]  # s_1..s_{D-1}
    j = D if D % 2 == 1 else 3  # 1-based index of the left-facing unit
    slope_right = 3 * D * (1 + 2 * a) * (1 if vals[-1] < 0 else -1)  # s_D
    s = [None] + inner + [slope_right]  # s[1..D]
    # c_i = s_i - s_{i-1} for every i, and s_0 = -c_j
    if j == D:
        s0 = s[D - 1] - s[D]
    else:
        s0 = -(s[j] - s[j - 1])
    s[0] = s0
    c = [s[i] - s[i - 1] for i in range(1, D + 1)]
    w = [Fraction(-1) if i == j else Fraction(1) for i in range(1, D + 1)]
    # y(p_1) = c_j (p_j - p_1) + d  (only the left-facing unit is active at p_1)
    d = vals[0] - c[j - 1] * (p[j - 1] - p[0])
    return w, p, c, d


def sawtooth(depth: int, width: int, *, exact: bool = False):
    """The 1-D sawtooth with ``(width + 1) ** depth`` regions on all of R.

    Parameters
    ----------
    depth : int
        Number of hidden layers K >= 1.
    width : int
        Units per hidden layer D >= 3.
    exact : bool, keyword-only
        Return the layers as lists of :class:`fractions.Fraction` matrices
        ``[(W, b), ...]`` instead of a float64 :class:`Network`.

    Returns
    -------
    Network
        ``1-D-...-D-1``; ``1 + K (D + 1) + (K - 1) D^2 + ...`` parameters,
        471 for D = 10, K = 5.

    Examples
    --------
    >>> net = sawtooth(depth=5, width=10)
    >>> net.n_params
    471
    """
    K = int(depth)
    if K != depth or K < 1:
        raise RegionsError(f"expected a sawtooth depth K >= 1, got {depth!r}")
    w, p, c, d = sawtooth_layer(width)
    first = ([[wi] for wi in w], [-wi * pi for wi, pi in zip(w, p)])
    hidden = ([[wi * cj for cj in c] for wi in w], [wi * (d - pi) for wi, pi in zip(w, p)])
    out = ([list(c)], [d])
    layers = [first] + [hidden] * (K - 1) + [out]
    if exact:
        return layers
    return Network([(np.array(W, dtype=float), np.array(b, dtype=float)) for W, b in layers])


def _one_three_one() -> Network:
    # y = 3 relu(x) - 6 relu(x - 1/3) + 6 relu(x - 2/3): three pieces on [0, 1],
    # each mapping onto [0, 1] (up, down, up), as in the lecture's figure.
    W0 = np.array([[1.0], [1.0], [1.0]])
    b0 = np.array([0.0, -1.0 / 3.0, -2.0 / 3.0])
    W1 = np.array([[3.0, -6.0, 6.0]])
    b1 = np.array([0.0])
    return Network([(W0, b0), (W1, b1)])


def lecture_pair() -> dict:
    """The lecture's shallow-vs-deep comparison, built explicitly.

    Returns
    -------
    dict
        ``f``, ``g``: two 1-3-1 networks (10 parameters each, 20 together);
        ``deep``: ``compose(f, g)``, one 1-3-3-1 network (22 parameters once
        combined) with 9 regions on ``[0, 1]`` (3 pieces of ``f``, each
        mapped onto ``[0, 1]`` and cut in 3 by ``g``);
        ``shallow``: a 1-6-1 network (19 parameters) with 7 regions, the
        most any 1-6-1 network can have (6 breakpoints cut a line into 7);
        ``domain``: ``(0.0, 1.0)``.
    """
    f = _one_three_one()
    g = _one_three_one()
    deep = compose(f, g)
    # 1-6-1 zigzag: breakpoints at i/7, alternating slopes
    W0 = np.ones((6, 1))
    b0 = -np.arange(1, 7) / 7.0
    slopes = np.array([7.0 * (-1) ** k for k in range(7)])  # slope on each of the 7 pieces
    W1 = np.diff(slopes)[None, :]
    shallow = Network([(W0, b0), (W1, np.zeros(1))])
    return {"f": f, "g": g, "deep": deep, "shallow": shallow, "domain": (0.0, 1.0)}


# ---------------------------------------------------------------------------
# Folding construction for d inputs (Serra et al. 2018's lower bound)
# ---------------------------------------------------------------------------
#: Half-width of the box around the cube's centre holding every vertex of
#: the last layer's arrangement (see :func:`folding`).
_VERTEX_BOX = 0.4


def _fold_units(k: int) -> tuple[list, list, list, Fraction, int]:
    """One coordinate's fold with ``k`` units: ``(w, p, c, d, pieces)``.

    ``k >= 3``: the sawtooth zigzag (``k + 1`` pieces); ``k == 2``: the
    tent ``|2x - 1|`` (2 pieces, both units break at 1/2).
    """
    if k >= 3:
        w, p, c, d = sawtooth_layer(k)
        return w, p, c, d, k + 1
    if k == 2:
        half = Fraction(1, 2)
        return [Fraction(1), Fraction(-1)], [half, half], [Fraction(2), Fraction(2)], Fraction(0), 2
    raise RegionsError(f"expected at least 2 units per input coordinate in a fold layer, got {k}")


def _moment_nodes(n: int, seed: int) -> np.ndarray:
    """``n`` distinct nodes in [-1, 1]: Chebyshev nodes for seed 0, else random."""
    if seed == 0:
        return np.cos((2 * np.arange(1, n + 1) - 1) * np.pi / (2 * n))
    rng = np.random.default_rng(seed)
    while True:
        t = np.sort(rng.uniform(-1.0, 1.0, size=n))
        if n == 1 or np.min(np.diff(t)) > 1e-3 / n:
            return t


def folding_count(input_dim: int, widths) -> int:
    """The exact number of regions on ``R^d`` of ``folding(input_dim, widths)``.

    ``prod_{l<L} f(k_l)^d * sum_{j<=d} C(n_L, j)`` with ``k_l = floor(n_l / d)``,
    ``f(k) = k + 1`` for ``k >= 3`` and ``f(2) = 2``; equal to
    :func:`regions.theory.serra_lower_bound` exactly when every
    ``k_l >= 3`` (l < L), or when there is one hidden layer.
    """
    from .theory import _dim, _widths, zaslavsky

    d = _dim(input_dim)
    ws = _widths(widths)
    out = zaslavsky(ws[-1], d)
    for n in ws[:-1]:
        k = n // d
        if k < 2:
            raise RegionsError(
                f"expected every hidden layer but the last to have at least 2 * input_dim = {2 * d} "
                f"units for a folding construction, got widths {list(ws)}"
            )
        out *= (k + 1 if k >= 3 else 2) ** d
    return out


def folding_attains_bound(input_dim: int, widths) -> bool:
    """Whether :func:`folding` attains Serra et al.'s lower bound: every ``floor(n_l/d) >= 3``, l < L."""
    from .theory import _dim, _widths

    d = _dim(input_dim)
    ws = _widths(widths)
    return all(n // d >= 3 for n in ws[:-1])


def folding(input_dim: int, widths, *, seed: int = 0) -> Network:
    """A d-input network attaining Serra et al. 2018's lower bound on ``R^d``.

    Parameters
    ----------
    input_dim : int
        Number of inputs ``d >= 1``.
    widths : sequence of int
        Hidden widths ``n_1, ..., n_L``; the layers before the last need
        ``floor(n_l / d) >= 2`` (``>= 3`` to attain the bound).
    seed : int, keyword-only
        0 (default): the last layer's nodes are Chebyshev nodes; otherwise
        they are drawn with ``np.random.default_rng(seed)`` (any distinct
        nodes give the same count).

    Returns
    -------
    Network
        ``d - n_1 - ... - n_L - 1`` with exactly :func:`folding_count`
        activation regions on ``R^d`` (and on the cube ``[0, 1]^d`` when
        every fold is a sawtooth).

    Notes
    -----
    **Fold layers** (l < L).  Let ``k = floor(n_l / d)``.  Coordinate ``i``
    of the running point ``y`` (at first ``y = x``) is read by ``k`` units
    forming the exact zigzag of :func:`sawtooth_layer` (``k >= 3``): the
    units split the line of ``y_i`` into ``k + 1`` intervals, and each
    interval is mapped affinely (non-zero slope) onto a set containing
    ``[0, 1]`` -- ``[-1/4, 5/4]`` for the inner ones, half-lines for the
    outer ones.  The next layer reads ``y_i' = sum_m c_m h_{i,m} + d``
    through its weights (a block-diagonal, per-coordinate rank-one matrix).
    The ``n_l - k d`` spare units have zero weights and bias -1: they are
    inactive everywhere and split nothing.  The regions of a fold layer are
    products of intervals, so after the fold layers ``R^d`` is cut into
    ``prod_{l<L} (k_l + 1)^d`` boxes, each with its own activation pattern,
    each mapped by an invertible affine map onto a box containing the cube
    ``[0, 1]^d``.

    **Last layer.**  Its ``n_L`` units are the hyperplanes
    ``H_j: sum_{r<d} t_j^r z_{r+1} + t_j^d = 0`` in the coordinates
    ``z = (y - 1/2) B / 0.4`` (``B = C(d, floor(d/2))``) with distinct nodes
    ``t_j`` in [-1, 1] (points of the moment curve).  A point on ``d`` of
    them is the coefficient vector of the monic polynomial with those ``d``
    roots, so (i) no ``d + 1`` of them meet (a degree-d polynomial has at
    most d roots) and any ``d`` normals form a Vandermonde matrix: the
    arrangement is in general position and has ``sum_{j<=d} C(n_L, j)``
    regions (Zaslavsky); (ii) every vertex has coordinates
    ``|e_r(t)| <= B``, i.e. lies in ``y in (1/2 +- 0.4)^d``, inside the
    open cube.  For ``n_L >= d`` every region of the arrangement is pointed
    and has a vertex, so it meets every box containing the cube; for
    ``n_L < d`` the hyperplanes all pass through the cube's centre, same
    conclusion.  Hence every box of the fold layers is cut into exactly
    ``sum_{j<=d} C(n_L, j)`` regions, with patterns distinct across boxes:

    .. math:: \\prod_{l<L} (\\lfloor n_l/d \\rfloor + 1)^d
              \\sum_{j=0}^{d} \\binom{n_L}{j}

    regions on ``R^d`` -- :func:`regions.theory.serra_lower_bound` exactly.

    **Regimes.**  The count equals the bound when ``L = 1`` (any widths:
    a shallow network in general position, Zaslavsky's maximum) or when
    every ``floor(n_l/d) >= 3`` for ``l < L``.  For ``floor(n_l/d) = 2``
    a two-unit zigzag with three full pieces does not exist (its middle
    piece cannot change slope sign); that layer is folded by the tent
    ``|2 y_i - 1|`` instead, two pieces per coordinate, and the count
    (:func:`folding_count`) is below the bound.  ``floor(n_l/d) < 2``
    is refused.  For ``d = 1`` and ``n_l = D >= 3`` the count is the
    sawtooth's ``(D + 1)^L``.

    The last layer is built in float64; its vertices have coordinates as
    small as ``prod |t_j|``, so large ``d`` with wide last layers become
    hard for float engines -- but such counts are astronomically large and
    never enumerated anyway.

    Examples
    --------
    >>> net = folding(2, [6, 6, 4])
    >>> net.arch, folding_count(2, [6, 6, 4])
    ('2-6-6-4-1', 2816)
    """
    from math import comb

    from .theory import _dim, _widths

    d = _dim(input_dim)
    ws = _widths(widths)
    folding_count(d, ws)  # validates the fold widths
    layers = []
    prev = d  # width of the previous layer
    prev_out = None  # per coordinate: (list of unit indices, c, dconst) of the previous fold
    for n in ws[:-1]:
        k = n // d
        w, p, c, dc, _ = _fold_units(k)
        W = np.zeros((n, prev))
        b = np.full(n, -1.0)  # spare units: inactive everywhere
        outs = []
        for i in range(d):
            rows = list(range(i * k, (i + 1) * k))
            for m, r in enumerate(rows):
                if prev_out is None:  # reads x_i
                    W[r, i] = float(w[m])
                    b[r] = float(-w[m] * p[m])
                else:  # reads y_i = sum c h + dconst
                    cols, cprev, dprev = prev_out[i]
                    for col, cv in zip(cols, cprev):
                        W[r, col] = float(w[m] * cv)
                    b[r] = float(w[m] * (dprev - p[m]))
            outs.append((rows, c, dc))
        layers.append((W, b))
        prev_out = outs
        prev = n
    # last hidden layer: moment-curve hyperplanes around the cube's centre
    nL = ws[-1]
    t = _moment_nodes(nL, int(seed))
    B = comb(d, d // 2)
    s = B / _VERTEX_BOX
    powers = t[:, None] ** np.arange(d)[None, :]  # (nL, d): t_j^r
    A = powers * s  # coefficients on y (z = (y - 1/2) s)
    a0 = t**d - 0.5 * s * powers.sum(axis=1)
    norm = np.linalg.norm(A, axis=1)
    A, a0 = A / norm[:, None], a0 / norm
    if prev_out is None:  # one hidden layer: y = x
        W, b = A, a0
    else:
        W = np.zeros((nL, prev))
        b = a0.copy()
        for i, (cols, cprev, dprev) in enumerate(prev_out):
            for col, cv in zip(cols, cprev):
                W[:, col] = A[:, i] * float(cv)
            b += A[:, i] * float(dprev)
    layers.append((W, b))
    layers.append((np.ones((1, nL)), np.zeros(1)))
    return Network(layers)
