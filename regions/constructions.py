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

from ._errors import RegionsError
from .network import Network, compose

__all__ = ["sawtooth", "sawtooth_layer", "lecture_pair", "CONSTRUCTIONS"]

#: Names accepted by the CLI's ``--construction``.
CONSTRUCTIONS = ("sawtooth",)

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
    D = len(w)
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
