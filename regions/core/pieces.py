"""Affine pieces: neighbouring regions with one output map, merged."""

from __future__ import annotations

import numpy as np

__all__ = ["merge_pieces"]


def merge_pieces(n_regions: int, r1: np.ndarray, r2: np.ndarray) -> tuple[np.ndarray, int]:
    """Affine pieces from the pairs of neighbouring regions with one output map.

    Parameters
    ----------
    n_regions : int
    r1, r2 : ndarray of int, shape (P,)
        Neighbouring regions whose output maps are equal.

    Returns
    -------
    labels : ndarray of int, shape (n_regions,)
        The piece of every region (connected components of the pairs).
    n_pieces : int
    """
    if r1.size == 0:
        return np.arange(n_regions), int(n_regions)
    from scipy.sparse import coo_matrix  # noqa: PLC0415 -- only when some regions merge
    from scipy.sparse.csgraph import connected_components  # noqa: PLC0415

    graph = coo_matrix((np.ones(r1.shape[0], dtype=np.int8), (r1, r2)), shape=(n_regions, n_regions))
    n, labels = connected_components(graph, directed=False)
    return labels, int(n)
