"""The 1-D walk for lowered op networks: per-unit slopes, linear units, max groups.

Works on a :class:`regions.model.ops.Lowered` chain along a 1-D domain.
Layer by layer every region (an interval) carries the value ``V`` and the
derivative ``A`` of the carrier at an interior representative point.  A
layer proposes breakpoints: where a bending elementwise unit crosses zero,
and where two candidates of one max group cross.  The region is cut at all
of them, each child's pattern is read at its representative point, and
consecutive children of one parent with the same pattern are merged again
(crossings of candidates that are not on the group's upper envelope change
nothing).  Candidates that compute the same affine function on a region
tie; the lowest index wins, so they split nothing.

Tolerances are those of :mod:`regions.core.tolerances`: slopes and values
that are zero up to ``ZERO_RTOL`` of their magnitudes are zero; breakpoints
closer than ``BREAK_RTOL`` of the domain's scale are one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.result import CountResult
from ...core.tolerances import BREAK_RTOL, ZERO_RTOL
from ...domains import Domain
from ...errors import RegionsError, VerificationError
from ...model.ops import Lowered, Units
from .kernel import _reps

__all__ = ["OpLinePartition", "partition_line_ops"]


@dataclass(eq=False)
class OpLinePartition:
    """Regions of a lowered op network along a 1-D domain: ``(breaks[i], breaks[i+1])``."""

    breaks: np.ndarray
    patterns: np.ndarray
    slopes: np.ndarray
    witnesses: np.ndarray
    layer_counts: tuple
    n_pieces: int
    engine: str = "line"
    network: object = None
    domain: Domain | None = None
    partial: bool = False
    _low: Lowered | None = None

    @property
    def n_regions(self) -> int:
        return int(self.witnesses.shape[0])

    @property
    def measures(self) -> np.ndarray:
        """Lengths of the intervals (parameter coordinates; inf for unbounded ends)."""
        return np.diff(self.breaks)

    def points(self) -> np.ndarray:
        return self.domain.to_input(self.witnesses[:, None])

    def output_maps(self) -> tuple[np.ndarray, np.ndarray]:
        """``(J, c)``: output ``= J[i] @ t + c[i]`` on interval ``i``, shapes (R, n_out, 1), (R, n_out)."""
        y = self._low(self.points())
        return self.slopes[:, :, None], y - self.slopes * self.witnesses[:, None]

    def count(self) -> CountResult:
        return CountResult(self.n_regions, self.n_pieces, list(self.layer_counts), self.engine)

    def verify(self) -> dict:
        """Checks: consecutive intervals differ in pattern (convex regions: patterns unique); every
        witness reproduces its pattern in the lowered network; lengths sum to the domain's."""
        pats = self._low.patterns(self.points())
        bad = int(np.count_nonzero(np.any(pats != self.patterns, axis=1)))
        unique = len({p.tobytes() for p in self.patterns}) == self.n_regions
        out = {"witness_mismatches": bad, "unique_patterns": unique}
        if np.isfinite(self.breaks).all():
            total = float(self.breaks[-1] - self.breaks[0])
            out["measure_rel_error"] = abs(float(self.measures.sum()) - total) / total
        if bad or not unique or out.get("measure_rel_error", 0.0) > 1e-9:
            raise VerificationError(f"expected a consistent partition, got {out}")
        return out


def _layer_state(Z, S, mag, smag, u: Units):
    """Pattern bits, next values and next slopes of one layer at the regions' reps."""
    S = np.where(np.abs(S) <= ZERO_RTOL * smag, 0.0, S)
    Z = np.where((S == 0.0) & (np.abs(Z) <= ZERO_RTOL * mag), 0.0, Z)
    if u.groups is None:
        act = Z > 0
        V = np.where(act, u.positive * Z, u.negative * Z)
        A = np.where(act, u.positive * S, u.negative * S)
        return act[:, u.splitting], V, A
    bits, Vs, As = [], [], []
    for g in u.groups:
        v, s = Z[:, g], S[:, g]
        m, sm = mag[:, g], smag[:, g]
        top = v.argmax(axis=1)
        pick = lambda X: np.take_along_axis(X, top[:, None], 1)  # noqa: E731
        same = (np.abs(v - pick(v)) <= ZERO_RTOL * (m + pick(m))) & \
               (np.abs(s - pick(s)) <= ZERO_RTOL * (sm + pick(sm)))
        sel = same.argmax(axis=1)
        if g.size > 1:
            bits.append(np.arange(g.size)[None, :] == sel[:, None])
        Vs.append(np.take_along_axis(v, sel[:, None], 1))
        As.append(np.take_along_axis(s, sel[:, None], 1))
    R = Z.shape[0]
    bits = np.concatenate(bits, axis=1) if bits else np.zeros((R, 0), dtype=bool)
    return bits, np.concatenate(Vs, axis=1), np.concatenate(As, axis=1)


def _candidates(Z, S, u: Units):
    """Proposed breakpoints as offsets from the reps, (R, c), nan where none."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if u.groups is None:
            cols = np.nonzero(u.splitting)[0]
            return -Z[:, cols] / S[:, cols]
        out = []
        for g in u.groups:
            for a in range(g.size):
                for b in range(a + 1, g.size):
                    i, j = g[a], g[b]
                    out.append(-(Z[:, i] - Z[:, j]) / (S[:, i] - S[:, j]))
        return np.stack(out, axis=1) if out else np.zeros((Z.shape[0], 0))


def partition_line_ops(low: Lowered, domain: Domain, *, network=None) -> OpLinePartition:
    """The activation regions of a lowered op network along a 1-D domain, exactly.

    Parameters
    ----------
    low : Lowered
        From :func:`regions.model.ops.lower`.
    domain : Domain
        A 1-D domain (interval for 1-input networks, segment or line).
    """
    if domain.dim != 1:
        raise RegionsError(f"expected a 1-D domain, got a {domain.dim}-D {domain.kind}")
    W0, b0 = low.layers[0]
    if domain.basis is not None:
        if W0.shape[1] != domain.input_dim:
            raise RegionsError(f"expected a network with {domain.input_dim} inputs, got {W0.shape[1]}")
        W0, b0 = W0 @ domain.basis, b0 + W0 @ domain.origin
    elif W0.shape[1] != 1:
        raise RegionsError(f"expected a 1-input network for an interval, got {W0.shape[1]} inputs")
    layers = [(W0, b0), *low.layers[1:]]
    scale = domain.scale
    lo, hi = float(domain.lo[0]), float(domain.hi[0])
    left, right = np.array([lo]), np.array([hi])
    rep = _reps(left, right)
    V, A = rep[:, None].copy(), np.ones((1, 1))
    pats = np.zeros((1, 0), dtype=bool)
    counts = []
    for (W, b), u in zip(layers[:-1], low.units):
        absW = np.abs(W)
        Z, S = V @ W.T + b, A @ W.T
        T = _candidates(Z, S, u)  # offsets from rep
        with np.errstate(invalid="ignore"):
            T = rep[:, None] + T
            tol = BREAK_RTOL * np.maximum(scale, np.abs(T))
            inside = (T > left[:, None] + tol) & (T < right[:, None] - tol)
        T = np.where(inside, T, np.inf)
        T.sort(axis=1)
        k = inside.sum(axis=1)
        keep = np.arange(T.shape[1])[None, :] < k[:, None]
        with np.errstate(invalid="ignore"):
            keep[:, 1:] &= ~(T[:, 1:] - T[:, :-1] <= BREAK_RTOL * np.maximum(scale, np.abs(T[:, 1:])))
        R = left.shape[0]
        E = np.concatenate([left[:, None], T], axis=1)
        mask = np.concatenate([np.ones((R, 1), dtype=bool), keep], axis=1)
        n_child = mask.sum(axis=1)
        cl = E[mask]
        cr = np.empty_like(cl)
        cr[:-1] = cl[1:]
        ends = np.cumsum(n_child) - 1
        cr[ends] = right
        parent = np.repeat(np.arange(R), n_child)
        crep = _reps(cl, cr)
        dt = crep - rep[parent]
        Vp, Ap = V[parent], A[parent]
        Zc = Z[parent] + S[parent] * dt[:, None]
        Sc = S[parent]
        mag = np.abs(Vp + Ap * dt[:, None]) @ absW.T + np.abs(b)
        smag = np.abs(Ap) @ absW.T
        bits, Vn, An = _layer_state(Zc, Sc, mag, smag, u)
        # merge consecutive children of one parent with one pattern
        first = np.ones(cl.shape[0], dtype=bool)
        same_parent = parent[1:] == parent[:-1]
        same_bits = np.all(bits[1:] == bits[:-1], axis=1)
        first[1:] = ~(same_parent & same_bits)
        starts = np.nonzero(first)[0]
        stops = np.append(starts[1:], cl.shape[0]) - 1
        left, right = cl[starts], cr[stops]
        rep = _reps(left, right)
        # values at the merged reps: the children of a merged run share one map
        dt2 = rep - crep[starts]
        V = Vn[starts] + An[starts] * dt2[:, None]
        A = An[starts]
        pats = np.concatenate([pats[parent[starts]], bits[starts]], axis=1)
        counts.append(int(left.shape[0]))
    W, b = layers[-1]
    Sout = A @ W.T
    smag = np.abs(A) @ np.abs(W).T
    same = np.all(np.abs(Sout[1:] - Sout[:-1]) <= ZERO_RTOL * (smag[1:] + smag[:-1]), axis=1)
    return OpLinePartition(
        breaks=np.append(left, right[-1]),
        patterns=pats,
        slopes=Sout,
        witnesses=rep,
        layer_counts=tuple(counts),
        n_pieces=int(left.shape[0] - np.count_nonzero(same)),
        network=network,
        domain=domain,
        _low=low,
    )
