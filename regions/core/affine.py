"""Affine-map bookkeeping: the exact affine maps of a network on its regions.

On a region with activation pattern ``P`` every hidden unit's output is a
fixed multiple of its pre-activation: its *gate* ``g`` (1 where active,
the negative slope where inactive; :func:`gates`).  So every layer's
pre-activation, and the output, is one affine map of the domain's
coordinates ``u`` (``k`` of them):

``A_{l+1} = W_l diag(g_l) A_l``, ``c_{l+1} = W_l (g_l * c_l) + b_l``,

starting from the identity.  This module computes those maps from the
regions' masks, with no Python loop per region:

* :func:`forward_maps` -- every layer's pre-activation maps;
* :func:`output_maps` -- the output maps by a backward pass (one GEMM per
  layer and chunk of regions), or their absolute-value magnitudes;
* :func:`tree_output_maps` -- the output maps of the final regions of a
  layer-by-layer subdivision, meeting in the middle of the tree of regions.

All of them take the network as a list of layers ``(W, b)`` (``W`` shaped
(out, in); the first acting on ``u``) and per-layer masks.  The activation
enters only through :func:`gates`; other piecewise-linear activations (a
slope per unit) and skip connections change that function and the
recurrence above, not the engines.
"""

from __future__ import annotations

import numpy as np

__all__ = ["forward_maps", "gates", "output_maps", "tree_output_maps"]


def gates(mask: np.ndarray, slope: float) -> np.ndarray:
    """The derivative of every unit's activation given its state, float like ``mask``.

    ``mask`` is bool ``(..., n)`` (True: active); the result is 1 where
    active and ``slope`` (the leaky ReLU's negative slope, 0 for the ReLU)
    where inactive.
    """
    if slope == 0.0:
        return mask.astype(np.float64)
    return np.where(mask, 1.0, slope)


def forward_maps(layers, masks, slope: float, *, k: int | None = None) -> list:
    """Pre-activation maps of every layer on every region.

    Parameters
    ----------
    layers : list of (W, b)
    masks : list of ndarray of bool
        ``masks[l]`` shaped ``(R, n_l)``: the states of hidden layer ``l``.
    slope : float
    k : int, optional
        Input dimension (default: the first layer's).

    Returns
    -------
    list of (A, c)
        For each layer (hidden layers, then the output), ``A`` shaped
        ``(R, n_l, k)`` and ``c`` shaped ``(R, n_l)``: on region ``i`` the
        layer's pre-activation is ``A[i] @ u + c[i]``.
    """
    k = layers[0][0].shape[1] if k is None else k
    R = masks[0].shape[0] if masks else 1
    H = np.broadcast_to(np.eye(k), (R, k, k))  # (R, n_in, k)
    h = np.zeros((R, k))
    out = []
    for l, (W, b) in enumerate(layers):
        A = np.einsum("oi,rik->rok", W, H)
        c = h @ W.T + b
        out.append((A, c))
        if l < len(layers) - 1:
            g = gates(masks[l], slope)
            H = A * g[:, :, None]
            h = c * g
    return out


def output_maps(layers, masks, slope: float, *, mags=None, rows=None, chunk: int = 4096):
    """Output maps ``y = J u + c`` on regions, from their activation masks (backward pass).

    ``J = W_L D_L W_{L-1} ... D_1 W_0`` with ``D_l = diag(gates)``; the
    offset collects ``c = b_L + sum_l (W_L D_L ... D_{l+1}) b_l`` on the
    way.  With ``mags`` (absolute weights and biases, ``[(|W|, |b|), ...]``)
    the same pass gives the magnitude ``|J|`` instead: sums of absolute
    values, the size of the rounding of ``J``.  Chunked over regions.

    Parameters
    ----------
    layers : list of (W, b)
    masks : list of ndarray of bool, ``(R, n_l)`` per hidden layer
    slope : float
    mags : list of (|W|, |b|), optional, keyword-only
    rows : ndarray of int, optional, keyword-only
        Only these regions.

    Returns
    -------
    J : ndarray, shape (n, n_out, k)
    c : ndarray, shape (n, n_out)
    """
    use = layers if mags is None else mags
    Wout, bout = use[-1]
    n_out = Wout.shape[0]
    k = use[0][0].shape[1]
    if rows is None:
        rows = np.arange(masks[0].shape[0] if masks else 1)
    n = rows.shape[0]
    J = np.empty((n, n_out, k))
    C = np.empty((n, n_out))
    for s in range(0, n, chunk):
        r = rows[s : s + chunk]
        m = r.shape[0]
        G = np.broadcast_to(Wout, (m,) + Wout.shape)  # (m, n_out, n_L)
        c = np.broadcast_to(bout, (m, n_out)).copy()
        for l in range(len(masks) - 1, -1, -1):
            D = masks[l][r]  # (m, n_l) bool
            G = G * (D[:, None, :] if slope == 0.0 else gates(D, slope)[:, None, :])
            W, b = use[l]
            c += G @ b  # (m, n_out)
            G = (G.reshape(m * n_out, -1) @ W).reshape(m, n_out, -1)
        J[s : s + chunk] = G
        C[s : s + chunk] = c
    return J, C


def tree_output_maps(layers, parents, states, masks, slope: float, *, widths=None, chunk: int = 4096):
    """Exact output maps ``y = J u + c`` of the final regions of a layer-by-layer subdivision.

    Meet in the middle: the pre-activation maps of hidden layer ``k`` are
    pushed *forward* on the (few) regions after layer ``k - 1``,
    ``A_{l+1} = W_l D_l A_l + b_l``, and the output's gradient is pulled
    *backward* from the final regions down to layer ``k``; ``k`` is chosen
    to minimise the multiply-adds.  Chunked over the final regions.

    Parameters
    ----------
    layers : list of (W, b)
    parents : list of ndarray of int
        ``parents[l][i]``: region after layer ``l - 1`` holding region ``i``
        after layer ``l``.
    states : list of ndarray
        ``states[l]``: the states of layer ``l``'s units on the regions
        after layer ``l``, bool ``(R_l, n_l)`` or packed bytes (``widths``).
    masks : list of ndarray of bool
        The final regions' per-layer states, ``(R, n_l)``.
    widths : list of int, optional
        Units per layer, when ``states`` are packed.

    Returns
    -------
    J : ndarray, shape (R, n_out, k)
    c : ndarray, shape (R, n_out)
    """
    L = len(masks)
    n_out = layers[-1][0].shape[0]
    kdim = layers[0][0].shape[1]
    R = masks[0].shape[0] if L else 1
    sizes = [W.shape[1] for W, _ in layers] + [n_out]  # n_0 = k, n_1, ..., n_L, n_out
    counts = [1] + [p.shape[0] for p in parents]  # regions after l layers
    best, k = None, 1
    for kk in range(1, L + 1):
        fwd = (kdim + 1) * sum(counts[l] * sizes[l] * sizes[l + 1] for l in range(1, kk))
        bwd = n_out * R * sum(sizes[l] * sizes[l + 1] for l in range(kk, L))
        if best is None or fwd + bwd < best:
            best, k = fwd + bwd, kk
    # forward: A (R_{k-1}, kdim + 1, n_k): rows d/du_i, then the value at u = 0
    W0, b0 = layers[0]
    A = np.concatenate([W0.T, b0[None, :]])[None]  # (1, kdim + 1, n_1) on the domain
    for l in range(1, k):
        st = states[l - 1]
        D = st if widths is None else np.unpackbits(st, axis=1, count=sizes[l]).view(bool)  # (R_l, n_l)
        Al = A[parents[l - 1]]  # (R_l, kdim + 1, n_l)
        Al *= D[:, None, :] if slope == 0.0 else gates(D, slope)[:, None, :]
        W, b = layers[l]
        A = (Al.reshape(-1, sizes[l]) @ W.T).reshape(Al.shape[0], kdim + 1, -1)  # one GEMM
        A[:, kdim, :] += b
    if L == 0:
        return A[:, :kdim, :].transpose(0, 2, 1).copy(), A[:, kdim, :].copy()
    # ancestors of the final regions at layer k - 1
    anc = np.arange(R)
    for l in range(L - 1, k - 2, -1):
        anc = parents[l][anc]
    J = np.empty((R, n_out, kdim))
    C = np.empty((R, n_out))
    Wout, bout = layers[-1]
    for s in range(0, R, chunk):
        r = np.arange(s, min(R, s + chunk))
        n = r.shape[0]
        G = np.broadcast_to(Wout, (n,) + Wout.shape)  # (n, n_out, n_L)
        c = np.broadcast_to(bout, (n, n_out)).copy()
        for l in range(L, k - 1, -1):  # hidden layers L .. k
            D = masks[l - 1][r]
            G = G * (D[:, None, :] if slope == 0.0 else gates(D, slope)[:, None, :])
            if l > k:
                W, b = layers[l - 1]
                c += G @ b
                G = (G.reshape(n * n_out, -1) @ W).reshape(n, n_out, -1)  # one GEMM
        Ak = A[anc[r]]  # (n, kdim + 1, n_k)
        for o in range(n_out):  # contraction over n_k, vectorised over regions
            M = np.einsum("rk,rck->rc", G[:, o, :], Ak)
            J[r, o] = M[:, :kdim]
            C[r, o] = M[:, kdim] + c[:, o]
    return J, C
