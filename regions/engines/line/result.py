"""The 1-D engine's partition: regions as intervals of the domain's parameter."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core import affine
from ...core.patterns import layer_masks
from ...core.result import CountResult
from ...core.verify import check_maps, forward_certain, verify_common
from ...domains import Domain
from ...errors import RegionsError, VerificationError
from ...model.network import Network

__all__ = ["LinePartition"]


@dataclass(eq=False)
class LinePartition:
    """The activation regions of a network along a 1-D domain.

    Regions are ordered along ``t``; region ``i`` is the open interval
    ``(breaks[i], breaks[i+1])``.  Follows
    :class:`~regions.engines.base.Partition`.

    Attributes
    ----------
    network : Network
    domain : Domain
    breaks : ndarray, shape (R + 1,)
        Endpoints in the domain's parameter ``t`` (first ``lo``, last ``hi``,
        possibly infinite).
    patterns : ndarray of bool, shape (R, n_hidden)
        Activation pattern of each region, layers concatenated (of the
        layers processed, when ``partial``).
    slopes, intercepts : ndarray, shape (R, n_out)
        The output on region ``i`` is ``slopes[i] * t + intercepts[i]``
        (NaN when ``partial``).
    witnesses : ndarray, shape (R, 1)
        One interior ``t`` per region.
    layer_counts : tuple of int
        Regions after the first l hidden layers.
    piece_starts : ndarray, shape (P,)
        Index of the first region of each affine piece; see
        :attr:`piece_breaks`, :attr:`piece_slopes`, :attr:`piece_intercepts`.
    partial : bool
        True when ``max_regions`` stopped the partition after a layer.
    """

    network: Network
    domain: Domain
    breaks: np.ndarray
    patterns: np.ndarray
    slopes: np.ndarray
    intercepts: np.ndarray
    witnesses: np.ndarray
    layer_counts: tuple
    piece_starts: np.ndarray
    partial: bool = False
    engine: str = "line"

    @property
    def n_regions(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def n_pieces(self) -> int | None:
        """Affine pieces (None when ``partial``)."""
        return None if self.partial else int(self.piece_starts.shape[0])

    @property
    def measures(self) -> np.ndarray:
        """Lengths of the regions in ``t`` (inf for unbounded ones), shape (R,)."""
        return np.diff(self.breaks)

    @property
    def piece_breaks(self) -> np.ndarray:
        """Endpoints of the affine pieces, shape (P + 1,)."""
        return np.append(self.breaks[self.piece_starts], self.breaks[-1])

    @property
    def piece_slopes(self) -> np.ndarray:
        """Output slope on each affine piece, shape (P, n_out)."""
        return self.slopes[self.piece_starts]

    @property
    def piece_intercepts(self) -> np.ndarray:
        """Output intercept on each affine piece, shape (P, n_out)."""
        return self.intercepts[self.piece_starts]

    def points(self) -> np.ndarray:
        """Witness points in the network's input space, shape (R, input_dim)."""
        return self.domain.to_input(self.witnesses)

    def output_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """``(J, c)``: output ``= J[i] @ (t,) + c[i]`` on region ``i``, shapes (R, n_out, 1), (R, n_out).

        Computed from the patterns (:func:`regions.core.affine.output_maps`).
        """
        if self.partial:
            raise RegionsError("expected a complete partition for the output maps, got a partial one "
                               "(stopped at max_regions)")
        pulled = self.domain.pullback(self.network)
        masks = layer_masks(self.patterns, pulled.widths)
        return affine.output_maps(pulled.layers, masks, pulled.negative_slope)

    def count(self) -> CountResult:
        return CountResult(self.n_regions, self.n_pieces, list(self.layer_counts), self.engine,
                           partial=self.partial)

    def verify(self) -> dict:
        """Check the partition's invariants; raise :class:`~regions.errors.VerificationError` if one fails.

        The shared checks (:func:`regions.core.verify.verify_common`):
        lengths positive and summing to the domain's (bounded domains),
        witness patterns, unique patterns, output maps at the witnesses;
        and here: each witness lies inside its interval, and the stored
        slopes agree with the output maps.
        """
        w = self.witnesses[:, 0]
        out_side = np.flatnonzero(~((w > self.breaks[:-1]) & (w < self.breaks[1:])))
        if out_side.size:
            raise VerificationError(f"expected every witness inside its interval, got {out_side.size} "
                                    f"outside (first regions: {out_side[:5].tolist()})")
        out = verify_common(self)
        if not self.partial:  # the slopes carried by the kernel, against the network
            _, _, y, ymag = forward_certain(self.network, self.points(), self.domain.scale)
            check_maps(self.slopes[:, :, None], self.intercepts, self.witnesses, y, ymag)
        return out
