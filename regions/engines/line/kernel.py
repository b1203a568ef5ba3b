"""The exact 1-D engine: activation regions along an interval, segment or line.

Definition
----------
For a network ``f`` and a 1-D domain ``x(t) = x0 + t v``, ``lo <= t <= hi``
(for a 1-input network simply ``x = t``), an *activation region* is a
maximal open interval of ``t`` on which every hidden unit keeps one state,
active (pre-activation > 0) or inactive (<= 0).  Activation regions are
convex (fixing the pattern makes every pre-activation affine), so along a
line each pattern occurs on one interval only.  An *affine piece* is a
maximal interval on which the output is one affine function of ``t``:
neighbouring regions with equal output slopes merged (the output is
continuous, so equal slopes mean equal maps).

Algorithm
---------
Layer by layer, every region carries the value ``V`` and the derivative
``A = dh/dt`` of the layer's input at one interior *representative* point.
A unit's pre-activation on the region is ``z(t) = Z + S (t - rep)`` with
``Z = W V + b`` and ``S = W A``; where ``S != 0`` it changes sign at
``t* = rep - Z / S``.  Crossings strictly inside a region split it; the
pieces inherit ``V`` and ``A`` moved to their own representative points and
masked by their new activation pattern.  All of this is vectorised over the
regions of a layer; no Python loop runs per region.

Working at a representative point rather than at ``t = 0`` keeps the sums
well conditioned: ``Z`` is of the size of the unit's values in the region,
not of ``|S| |t|``.

Exactness: see :mod:`regions._common` for the two named tolerances.  For
``ReLU(0)`` the unit counts as inactive; a unit whose pre-activation is zero
on a whole region is inactive there and splits nothing; crossings that
coincide (duplicate neurons, hyperplanes through an existing breakpoint) are
one breakpoint.

References
----------
.. [1] B. Hanin and D. Rolnick, "Complexity of linear regions in deep
   networks", ICML 2019 (regions along lines through input space).
.. [2] R. Novak et al., "Sensitivity and generalization in neural networks",
   ICLR 2018 (transitions along trajectories).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ...core.result import CountResult

from ...core.tolerances import BREAK_RTOL, ZERO_RTOL
from ...errors import RegionsError
from ...domains import Domain, interval
from ...model.network import Network

__all__ = ["LinePartition", "partition_line", "count_line"]

#: Regions per chunk in the count-only walk (bounds its memory).  A chunk's arrays grow ~``width``
#: fold in a layer; at 2^14 regions they stay below glibc's 32 MB mmap ceiling, so they are reused
#: from the heap instead of being mapped and faulted in afresh for every chunk (system time).
CHUNK = 1 << 14


# ----------------------------------------------------------------- kernels
def _reps(left: np.ndarray, right: np.ndarray, scale: float) -> np.ndarray:
    """Representative (interior) points of the intervals ``(left, right)``."""
    with np.errstate(invalid="ignore"):
        rep = 0.5 * (left + right)
    if np.isinf(left[0]) or np.isinf(right[-1]):  # only the two ends can be unbounded
        with np.errstate(invalid="ignore"):
            for i in {0, rep.shape[0] - 1}:
                lo, hi = left[i], right[i]
                if np.isinf(lo) and np.isinf(hi):
                    rep[i] = 0.0
                elif np.isinf(lo):
                    rep[i] = hi - max(scale, abs(hi))
                elif np.isinf(hi):
                    rep[i] = lo + max(scale, abs(lo))
    return rep


def _near_zero(X: np.ndarray, H: np.ndarray, Wt: np.ndarray, absb: np.ndarray | float) -> np.ndarray:
    """Entries of ``X = H @ Wt (+ b)`` that are zero up to rounding, bool like ``X``.

    An entry is zero when ``|X| <= ZERO_RTOL * (|H| @ |Wt| + |b|)``.  The
    magnitude is computed only for the rows that fail the cheap test against
    its upper bound ``max|H_i| * sum|W_j| + |b_j|``.
    """
    absWt = np.abs(Wt)
    bound = np.abs(H).max(axis=1, initial=0.0)[:, None] * absWt.sum(axis=0) + absb  # (R, m) >= magnitude
    cand = np.abs(X) <= ZERO_RTOL * bound
    rows = np.nonzero(cand.any(axis=1))[0]
    if rows.size:
        mag = np.abs(H[rows]) @ absWt + absb  # (r, m)
        cand[rows] &= np.abs(X[rows]) <= ZERO_RTOL * mag
    return cand


def _zero_small_slopes(S: np.ndarray, A: np.ndarray, Wt: np.ndarray, amax: np.ndarray) -> None:
    """Set to 0, in place, the slopes ``S = A @ Wt`` that are zero up to rounding.

    Same test as :func:`_near_zero` (``|S| <= ZERO_RTOL * |A| @ |Wt|``), but
    rows are screened first against the upper bound ``amax_i * sum_j |W_kj|``
    of the magnitude (``amax >= max_j |A_ij|``), so that the magnitude is
    computed only for the few rows that may hold such a slope.
    """
    absWt = np.abs(Wt)  # (n, m)
    l1 = absWt.sum(axis=0)  # (m,)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(S)
        ratio /= l1  # (R, m); nan where a unit has no weights (its slope is exactly 0)
    # for i in range(R): cand[i] = any(|S_ij| <= ZERO_RTOL * amax_i * l1_j)
    rows = np.nonzero(np.fmin.reduce(ratio, axis=1) <= ZERO_RTOL * amax)[0]
    if rows.size:
        Sr = S[rows]
        Sr[np.abs(Sr) <= ZERO_RTOL * (np.abs(A[rows]) @ absWt)] = 0.0
        S[rows] = Sr


def _split_layer(left, end, rep, V, A, amax, W, b, slope, scale, *, values=True):
    """Split the regions by one hidden layer.

    Parameters
    ----------
    left : (R,) left endpoints, increasing; ``end`` is the right end of the last.
    rep : (R,) representative points.
    V, A : (R, n) value and derivative of the layer's input at ``rep``.
    amax : (R,) an upper bound of ``max_j |A_ij|``.
    W, b : (m, n), (m,) the layer.
    values : bool
        Compute ``V'`` (not needed after the last hidden layer when counting).

    Returns
    -------
    left', rep', V', A', amax' for the R' >= R new regions, ``counts`` (R,)
    the number of pieces of each old region (its children are consecutive),
    and ``active`` (R', m) bool.
    """
    R = left.shape[0]
    m = W.shape[0]
    Wt = W.T
    Z = V @ Wt + b  # (R, m) pre-activation at rep
    S = A @ Wt  # (R, m) slope dz/dt
    _zero_small_slopes(S, A, Wt, amax)
    smax = np.abs(S).max(axis=1, initial=0.0)  # (R,) bounds max |A'| of the children
    flat = S == 0.0  # (R, m) units constant on their region
    if flat.any():
        # constant units: exactly zero (hence inactive) when zero up to rounding
        rows = np.nonzero(flat.any(axis=1))[0]
        Zr = Z[rows]
        Zr[flat[rows] & _near_zero(Zr, V[rows], Wt, np.abs(b))] = 0.0
        Z[rows] = Zr
    right = np.empty_like(left)
    right[:-1] = left[1:]
    right[-1] = end
    # crossings t* = rep - Z / S, strictly inside (left, right)
    with np.errstate(divide="ignore", invalid="ignore"):
        T = rep[:, None] - Z / S  # (R, m); inf/nan where S == 0
        tol = BREAK_RTOL * np.maximum(scale, np.abs(T))
        inside = (T > left[:, None] + tol) & (T < right[:, None] - tol)
    counts = np.ones(R, dtype=np.intp)
    if inside.any():
        T = np.where(inside, T, np.inf)
        T.sort(axis=1)
        k = inside.sum(axis=1)  # (R,) crossings per region
        keep = np.arange(m)[None, :] < k[:, None]  # (R, m)
        # coincident crossings (within tol of the previous one) are one breakpoint
        with np.errstate(invalid="ignore"):
            keep[:, 1:] &= ~(T[:, 1:] - T[:, :-1] <= BREAK_RTOL * np.maximum(scale, np.abs(T[:, 1:])))
        E = np.concatenate([left[:, None], T], axis=1)  # (R, m+1) left ends of the pieces
        mask = np.concatenate([np.ones((R, 1), dtype=bool), keep], axis=1)
        # for r in range(R): for j in range(m+1): if mask[r, j]: emit piece (r, E[r, j])
        counts += keep.sum(axis=1)
        new_left = E[mask]  # (R',) row-major: children of a region stay consecutive
        new_right = np.empty_like(new_left)
        new_right[:-1] = new_left[1:]
        new_right[-1] = end
        new_rep = _reps(new_left, new_right, scale)
        dt = new_rep - np.repeat(rep, counts)  # (R',)
        Sc = np.repeat(S, counts, axis=0)  # (R', m) slopes of the children
        Zc = np.repeat(Z, counts, axis=0)  # (R', m)
        Zc += Sc * dt[:, None]  # pre-activation at the children's reps
        smax = np.repeat(smax, counts)
    else:
        new_left, new_rep, Sc, Zc = left, rep, S, Z
    # Signs are reliable here: a child's rep is at least half its width (>= the
    # breakpoint tolerance) away from every crossing, and constant units that are
    # zero up to rounding were set to exactly 0.
    active = Zc > 0  # (R', m)
    if slope == 0.0:
        Vn = np.maximum(Zc, 0.0, out=Zc) if values else None
        An = np.multiply(Sc, active, out=Sc)
    else:
        Vn = np.where(active, Zc, slope * Zc) if values else None
        An = np.where(active, Sc, slope * Sc)
    return new_left, new_rep, Vn, An, smax, counts, active


def _same_map(S1, S2, A1, A2, ub1, ub2, absWt) -> np.ndarray:
    """Whether neighbouring regions 1 and 2 have one output map, bool (P,).

    The output is continuous, so equal slopes mean equal maps.  Slopes are
    equal when ``|S1 - S2| <= ZERO_RTOL * (|A1| @ |Wt| + |A2| @ |Wt|)`` for
    every output; the magnitudes are computed only for the pairs that pass
    the screen against their upper bounds ``ub`` (``amax * max_k sum_j |W_kj|``).

    Parameters
    ----------
    S1, S2 : (P, n_out) output slopes; A1, A2 : (P, n) the last layer's input
    slopes; ub1, ub2 : (P,); absWt : (n, n_out) ``|W_out|.T``.
    """
    diff = np.abs(S1 - S2)  # (P, n_out)
    same = diff.max(axis=1, initial=0.0) <= ZERO_RTOL * (ub1 + ub2)
    idx = np.nonzero(same)[0]
    if idx.size:
        mag = np.abs(A1[idx]) @ absWt + np.abs(A2[idx]) @ absWt  # (p, n_out)
        same[idx] = np.all(diff[idx] <= ZERO_RTOL * mag, axis=1)
    return same


def _start(net: Network, domain: Domain):
    if domain.dim != 1:
        raise RegionsError(f"expected a 1-D domain (interval, segment or line), got a {domain.dim}-D {domain.kind}")
    pulled = domain.pullback(net)  # network on t
    lo, hi = float(domain.lo[0]), float(domain.hi[0])
    left = np.array([lo])
    rep = _reps(left, np.array([hi]), domain.scale)
    V = rep[:, None].copy()  # (1, 1): the input t itself
    A = np.ones((1, 1))
    amax = np.ones(1)
    return pulled, left, hi, rep, V, A, amax


def _default_domain(net: Network, domain: Domain | None) -> Domain:
    if domain is None:
        if net.input_dim != 1:
            raise RegionsError(
                f"expected a 1-input network or a segment/line domain, got a network with "
                f"{net.input_dim} inputs and no domain"
            )
        return interval(-1.0, 1.0)
    if not isinstance(domain, Domain):
        raise RegionsError(f"expected a regions.domains.Domain, got {type(domain).__name__}")
    return domain


# ------------------------------------------------------------------ results
@dataclass(eq=False)
class LinePartition:
    """The activation regions of a network along a 1-D domain.

    Regions are ordered along ``t``; region ``i`` is the open interval
    ``(breaks[i], breaks[i+1])``.

    Attributes
    ----------
    network : Network
    domain : Domain
    breaks : ndarray, shape (R + 1,)
        Endpoints in the domain's parameter ``t`` (first ``lo``, last ``hi``,
        possibly infinite).
    patterns : ndarray of bool, shape (R, n_hidden)
        Activation pattern of each region, layers concatenated.
    slopes, intercepts : ndarray, shape (R, n_out)
        The output on region ``i`` is ``slopes[i] * t + intercepts[i]``.
    witnesses : ndarray, shape (R,)
        One interior ``t`` per region.
    layer_counts : tuple of int
        Regions after the first l hidden layers.
    piece_starts : ndarray, shape (P,)
        Index of the first region of each affine piece; see
        :attr:`piece_breaks`, :attr:`piece_slopes`, :attr:`piece_intercepts`.
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
    engine: str = "line"

    @property
    def n_regions(self) -> int:
        return int(self.patterns.shape[0])

    @property
    def n_pieces(self) -> int:
        return int(self.piece_starts.shape[0])

    @property
    def lengths(self) -> np.ndarray:
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
        return self.domain.to_input(self.witnesses[:, None])

    def count(self) -> CountResult:
        return CountResult(self.n_regions, self.n_pieces, list(self.layer_counts), self.engine)

    def verify(self) -> dict:
        """Check the partition's invariants; raise ``AssertionError`` on failure.

        Lengths sum to the domain's length (bounded domains), breakpoints
        increase, each witness lies in its interval and its forward-pass
        pattern is the region's pattern, patterns are unique, the output
        maps agree with the network at the witnesses.
        """
        L = self.lengths
        assert np.all(L > 0), "breakpoints must increase"
        if self.domain.bounded:
            total = float(np.sum(L))
            assert np.isclose(total, self.domain.measure, rtol=1e-12, atol=0), (
                f"lengths sum to {total}, expected {self.domain.measure}"
            )
        w = self.witnesses
        assert np.all((w > self.breaks[:-1]) & (w < self.breaks[1:])), "witness outside its region"
        X = self.points()
        got = self.network.patterns(X)
        bad = np.nonzero(np.any(got != self.patterns, axis=1))[0]
        assert bad.size == 0, f"{bad.size} witness patterns differ from the recorded ones (first: region {bad[:5]})"
        uniq = np.unique(np.packbits(self.patterns, axis=1), axis=0).shape[0] if self.patterns.size else 1
        assert uniq == self.n_regions, f"{self.n_regions - uniq} repeated patterns"
        y = self.network(X)
        pred = self.slopes * w[:, None] + self.intercepts
        assert np.allclose(pred, y, rtol=1e-9, atol=1e-9 * (1 + np.abs(y).max())), "output maps disagree"
        return {"regions": self.n_regions, "pieces": self.n_pieces, "ok": True}


# ---------------------------------------------------------------- public API
def partition_line(net: Network, domain: Domain | None = None) -> LinePartition:
    """Partition a 1-D domain into the network's activation regions, exactly.

    Parameters
    ----------
    net : Network
    domain : Domain, optional
        An :func:`~regions.domains.interval` (1-input networks; default
        ``[-1, 1]``), or a :func:`~regions.domains.segment` /
        :func:`~regions.domains.line` through the input space of any network.

    Returns
    -------
    LinePartition

    Examples
    --------
    >>> from regions import constructions
    >>> net = constructions.sawtooth(depth=2, width=3)
    >>> partition_line(net, interval(-np.inf, np.inf)).n_regions
    16
    """
    domain = _default_domain(net, domain)
    pulled, left, end, rep, V, A, amax = _start(net, domain)
    scale = domain.scale
    parents, actives, counts = [], [], []
    for W, b in pulled.layers[:-1]:
        left, rep, V, A, amax, counts_l, active = _split_layer(left, end, rep, V, A, amax, W, b,
                                                               pulled.negative_slope, scale)
        parents.append(np.repeat(np.arange(counts_l.shape[0]), counts_l))
        actives.append(active)
        counts.append(int(left.shape[0]))
    W, b = pulled.layers[-1]
    S = A @ W.T  # (R, n_out) output slopes
    Z = V @ W.T + b  # (R, n_out) output at the reps
    # patterns: walk the parent links back from the last layer
    R = left.shape[0]
    blocks = []
    anc = np.arange(R)
    for parent, active in zip(reversed(parents), reversed(actives)):
        blocks.append(active[anc])
        anc = parent[anc]
    patterns = np.concatenate(blocks[::-1], axis=1) if blocks else np.zeros((R, 0), dtype=bool)
    ub = amax * np.abs(W).sum(axis=1).max()
    same = _same_map(S[:-1], S[1:], A[:-1], A[1:], ub[:-1], ub[1:], np.abs(W.T))
    piece_starts = np.concatenate([[0], np.nonzero(~same)[0] + 1])
    return LinePartition(
        network=net,
        domain=domain,
        breaks=np.append(left, end),
        patterns=patterns,
        slopes=S,
        intercepts=Z - S * rep[:, None],
        witnesses=rep,
        layer_counts=tuple(counts),
        piece_starts=piece_starts,
    )


def count_line(net: Network, domain: Domain | None = None, *, max_regions: int | None = None) -> CountResult:
    """Count the activation regions and affine pieces along a 1-D domain.

    Same result as ``partition_line(net, domain).count()``, computed
    depth-first in chunks of :data:`CHUNK` regions so that memory stays
    bounded whatever the count (19,487,171 regions of the depth-7 sawtooth
    need about 140 MB).

    Parameters
    ----------
    max_regions : int, optional
        Stop once more final regions than this have been found; the result
        is then flagged ``partial`` and its numbers are lower bounds.
    """
    domain = _default_domain(net, domain)
    pulled, left, end, rep, V, A, amax = _start(net, domain)
    scale = domain.scale
    hidden = pulled.layers[:-1]
    Wout, bout = pulled.layers[-1]
    absWt_out = np.abs(Wout.T)
    l1_out = float(np.abs(Wout).sum(axis=1).max())
    counts = [0] * len(hidden)
    state = {"regions": 0, "merges": 0, "last": None, "partial": False}

    def chunks(left, end, rep, V, A, amax) -> Iterator[tuple]:
        n = left.shape[0]
        for s in range(0, n, CHUNK):
            e = min(n, s + CHUNK)
            yield left[s:e], (left[e] if e < n else end), rep[s:e], V[s:e], A[s:e], amax[s:e]

    def walk(layer, left, end, rep, V, A, amax):
        if state["partial"]:
            return
        if layer == len(hidden):
            S = A @ Wout.T  # (R, n_out) output slopes
            ub = amax * l1_out
            merges = int(np.count_nonzero(_same_map(S[:-1], S[1:], A[:-1], A[1:], ub[:-1], ub[1:], absWt_out)))
            if state["last"] is not None:
                S0, A0, ub0 = state["last"]
                merges += int(_same_map(S0, S[:1], A0, A[:1], ub0, ub[:1], absWt_out)[0])
            state["last"] = (S[-1:], A[-1:], ub[-1:])
            state["regions"] += S.shape[0]
            state["merges"] += merges
            if max_regions is not None and state["regions"] > max_regions:
                state["partial"] = True
            return
        W, b = hidden[layer]
        last = layer == len(hidden) - 1  # the output needs slopes only
        nl, nrep, nV, nA, namax, _, _ = _split_layer(left, end, rep, V, A, amax, W, b, pulled.negative_slope,
                                                     scale, values=not last)
        counts[layer] += nl.shape[0]
        if last:
            nV = np.empty((nl.shape[0], 0))  # unused
        for chunk in chunks(nl, end, nrep, nV, nA, namax):
            walk(layer + 1, *chunk)

    walk(0, left, end, rep, V, A, amax)
    regions = state["regions"]
    return CountResult(
        regions=regions,
        pieces=regions - state["merges"],
        layer_counts=counts,
        engine="line",
        partial=state["partial"],
    )
