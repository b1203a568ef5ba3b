"""The combinatorial adjacency test of the n-D walk (:mod:`.kernel`): which generator pairs are edges."""

from __future__ import annotations

import numpy as np

from .bitsets import popcount as _popcount

__all__ = ["adjacent"]

#: Expanded (pair, generator) entries per adjacency sub-batch (bounds memory).
_PAIR_CHUNK = 1 << 22


def adjacent(bits: np.ndarray, lin: np.ndarray, rid: np.ndarray, idx: np.ndarray, first: np.ndarray,
             last: np.ndarray, u: np.ndarray, w: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Combinatorial adjacency test of generator pairs ``(u, w)``.

    ``idx[first[r]:last[r]]`` are the generators of region ``r``;
    ``need`` (per pair) is the least number of common tight constraints
    an edge can have.  ``u`` and ``w`` are adjacent iff no third
    non-lineality generator of the region is tight on all their common
    constraints.  Returns a bool mask over the pairs.
    """
    common = bits[u] & bits[w]  # (P, nw)
    ok = _popcount(common) >= need
    keep = np.zeros(ok.shape[0], dtype=bool)
    sel = np.nonzero(ok)[0]
    if sel.size == 0:
        return keep
    # A *simple* generator is tight on exactly need + 1 constraints (the fewest an extreme
    # generator can have): they are independent, and any need of them define a 2-face holding
    # it and exactly one other generator.  A pair with a simple end and >= need common tight
    # constraints is therefore an edge, with no third generator to look for.
    u, w, common = u[sel], w[sel], common[sel]
    needp = need[sel] + 1
    simple = (_popcount(bits[u]) == needp) | (_popcount(bits[w]) == needp)
    keep[sel[simple]] = True
    rest = ~simple
    if not rest.any():
        return keep
    sel, u, w, common = sel[rest], u[rest], w[rest], common[rest]
    r = rid[u]
    f = first[r]
    size = last[r] - f  # (P,)
    adj = np.ones(u.size, dtype=bool)
    cs = np.cumsum(size)
    lo = 0
    while lo < u.size:  # sub-batches bound the memory of the expansion
        base = cs[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(cs, base + _PAIR_CHUNK, side="right")), lo + 1)
        sz = size[lo:hi]
        pair = np.repeat(np.arange(lo, hi), sz)  # (E,)
        o = np.arange(pair.size) - np.repeat(np.cumsum(sz) - sz, sz)
        x = idx[f[pair] + o]  # every generator of the pair's region
        cm = common[pair]
        contains = np.all((bits[x] & cm) == cm, axis=1)
        contains &= ~lin[x] & (x != u[pair]) & (x != w[pair])
        adj[lo:hi] = np.bincount(pair[contains] - lo, minlength=hi - lo) == 0
        lo = hi
    keep[sel] = adj
    return keep
