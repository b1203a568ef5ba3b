"""Affine pieces when the last layer was counted, not built: a certificate that no neighbours merge.

Why a module of its own: :func:`.kernel.count_plane` may count the network's
last hidden layer without building its faces (:class:`.arrange.LayerCount`,
Euler's relation for chords in a convex polygon), which on small networks
saves about half of that layer's work; the pieces then need an argument that
does not look at the faces.  Where the argument does not go through, the
count is made again with the faces built (:func:`.pieces.pieces_from_vertices`).

The argument
------------
Let ``P`` be a region before the last layer ``L``.  On ``P`` the layer's
pre-activations are affine with exact gradients ``G_P`` (``m x 2``, from the
activation pattern of ``P``, as in :func:`regions.core.affine.output_maps`),
and the output on a face ``r`` of ``P`` has the Jacobian
``J_r = W_out D_r G_P``, ``D_r`` the gates of the layer's states on ``r``.
Two neighbouring faces are one affine piece iff their Jacobians agree
(within ``PIECE_RTOL`` of their absolute-value magnitudes ``JM``, the test
of :func:`.pieces.same_jacobians`).  Neighbours come in two kinds:

* **Across a chord of unit j inside P.**  Only unit ``j``'s state differs
  (one line per chord: the one-pass cut refuses two units with one line in
  a region), so ``J_r - J_s = +-(1 - slope) W_out[:, j] G_P[j]``.  With
  ``JM_r + JM_s <= 2 |W_out| GM_P`` (gates at most 1), an entry above
  ``2 PIECE_RTOL`` times that bound proves the maps differ.
* **Across a piece of an edge between P and Q.**  The faces' states are read
  on the edge piece: a unit with a non-zero sign at one of its ends has that
  state on both sides (no chord ends inside the piece); a unit zero at both
  ends keeps its state on each parent if it does not cross that parent (and
  a crossing unit zero along a piece of the parent's boundary is impossible:
  the certificate fails).  Then ``J_r``, ``J_s``, ``JM_r``, ``JM_s`` follow,
  and an entry of ``|J_r - J_s|`` above ``PIECE_RTOL (JM_r + JM_s)`` times
  :data:`MARGIN` proves the maps differ.

If every neighbouring pair is proved different, the pieces are the regions.
"""

from __future__ import annotations

import numpy as np

from ...core import affine
from ...core.patterns import from_ancestry
from ...core.tolerances import PIECE_RTOL
from .arrange import LayerCount
from .rings import adjacent_pairs

__all__ = ["MARGIN", "no_merges"]

#: Factor above the pieces' tolerance by which a Jacobian difference must exceed it to be taken as
#: proved here (room for the rounding of two computations of one Jacobian).
MARGIN = 4.0


def no_merges(last: LayerCount, ring0: np.ndarray, nv0: np.ndarray, layers: list, mags: list,
              parents: list, actives: list, slope: float) -> bool:
    """Whether every two neighbouring final regions are proved to have different output maps.

    True only when every pair of neighbours is proved to have different output maps
    (so the pieces are the regions); False when some pair is not (the caller then builds the
    faces and decides those pairs exactly).

    Parameters
    ----------
    last : the last layer's count (:class:`.arrange.LayerCount`).
    ring0, nv0 : (R0, K), (R0,) the rings of the regions before the last layer.
    layers, mags : the pulled-back layers ``(W, b)`` and ``(|W|, |b|)``, output layer last.
    parents, actives : per processed layer (all but the last hidden one), as in :func:`.kernel._walk`.
    """
    R0 = ring0.shape[0]
    G, GM = _gradients(layers, mags, parents, actives, slope, R0)  # (2, m, R0) gradients of layer L
    m = G.shape[1]
    Wout, aWout = layers[-1][0], mags[-1][0]  # (q, m)
    tol = PIECE_RTOL * MARGIN
    cP, cj = last.cP, last.cj  # chords, sorted by parent
    gC, gmC = G[:, cj, cP].T, GM[:, cj, cP].T  # (Nc, 2) each chord's unit on its parent
    own = affine.gates(np.unpackbits(last.Pbits, axis=1, count=m).view(bool), slope).T  # (m, R0)
    # the Jacobian on each parent with the parent's own states (every crossing unit active), per output
    base = [_contract(own * Wout[o][:, None], G) for o in range(Wout.shape[0])]  # (R0, 2) each
    baseM = [_contract(own * aWout[o][:, None], GM) for o in range(Wout.shape[0])]
    # chords: (1 - slope) |W_out[:, j]| |G_P[j]| against 2 |W_out| GM_P >= JM_r + JM_s
    proved = np.zeros(cP.shape[0], dtype=bool)
    for o in range(Wout.shape[0]):
        bound = (2.0 * tol) * _contract(aWout[o][:, None], GM)[cP]
        proved |= ((1.0 - slope) * abs(Wout[o, cj])[:, None] * np.abs(gC) > bound).any(axis=1)
    if not proved.all():
        return False
    # edge pieces between parents: the parents' rings with the layer's boundary points
    K = max(ring0.shape[1], last.NR.shape[1])
    ring = np.empty((R0, K), dtype=np.int64)
    ring[:, : ring0.shape[1]] = ring0
    ring[:, ring0.shape[1] :] = ring0[:, :1]
    ring[last.Pc, : last.NR.shape[1]] = last.NR
    ring[last.Pc, last.NR.shape[1] :] = last.NR[:, :1]
    nv = nv0.astype(np.int64)
    nv[last.Pc] = last.nv1
    p1, p2, a, b = adjacent_pairs(ring, nv)
    E = p1.shape[0]
    if E == 0:
        return True
    # a unit's state on a face next to the edge piece: the parent's own, except for the units crossing
    # the parent, whose sign on the piece (its ends are never of opposite signs) decides
    s = last.Sv[a].astype(np.int16) + last.Sv[b]  # (E, m)
    nch = np.bincount(cP, minlength=R0)
    cstart = np.cumsum(nch) - nch
    pp = np.concatenate([p1, p2])  # both sides at once: rows 0..E-1 the first, E..2E-1 the second
    cnt = nch[pp]
    tot = int(cnt.sum())
    e_i = np.repeat(np.arange(2 * E), cnt)
    ch = np.repeat(cstart[pp] - (np.cumsum(cnt) - cnt), cnt) + np.arange(tot)  # the parent's chords
    se = s[e_i % E, cj[ch]]
    if (se == 0).any():
        return False  # a crossing unit zero along a parent's boundary: in doubt
    off = (se < 0) * (1.0 - slope)  # inactive there: the gate drops from 1 to slope
    g0, g1, m0, m1 = gC[ch, 0], gC[ch, 1], gmC[ch, 0], gmC[ch, 1]
    proved = np.zeros(E, dtype=bool)
    for o in range(Wout.shape[0]):
        w = off * Wout[o, cj[ch]]
        aw = off * aWout[o, cj[ch]]
        J = base[o][pp] - np.stack([np.bincount(e_i, weights=w * g0, minlength=2 * E),
                                    np.bincount(e_i, weights=w * g1, minlength=2 * E)], axis=1)
        JM = baseM[o][pp] - np.stack([np.bincount(e_i, weights=aw * m0, minlength=2 * E),
                                      np.bincount(e_i, weights=aw * m1, minlength=2 * E)], axis=1)
        proved |= (np.abs(J[:E] - J[E:]) > tol * (JM[:E] + JM[E:])).any(axis=1)
    return bool(proved.all())


def _contract(w: np.ndarray, G: np.ndarray) -> np.ndarray:
    """``sum_m w[m, r] G[c, m, r]`` as (R, 2); ``w`` (m, R) or (m, 1)."""
    return (w * G).sum(axis=1).T


def _gradients(layers, mags, parents, actives, slope, R0):
    """Gradients (2, m, R0) of the last hidden layer's pre-activations on the regions before it, and
    their absolute-value magnitudes: forward through the states of the earlier layers (regions last,
    so that every elementwise step runs along them)."""
    L = len(parents)
    J, JM = layers[0][0].T[:, :, None], mags[0][0].T[:, :, None]  # (2, n_0, 1): the same on every region
    if L == 0:
        return np.broadcast_to(J, J.shape[:2] + (R0,)), np.broadcast_to(JM, JM.shape[:2] + (R0,))
    masks = from_ancestry(parents, actives, [W.shape[0] for W, _ in layers[:L]])
    J = [J[0], J[1], JM[0], JM[1]]  # the x and y columns of J, then of JM: (n_l, 1 or R0) each
    for l in range(L):
        g = affine.gates(masks[l], slope).T  # (n_l, R0)
        W, aW = layers[l + 1][0], mags[l + 1][0]
        J = [W @ (g * J[0]), W @ (g * J[1]), aW @ (g * J[2]), aW @ (g * J[3])]  # (n_l+1, R0) each
    return np.stack(J[:2]), np.stack(J[2:])
