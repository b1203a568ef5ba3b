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
Layer by layer, every region carries the affine map of the layer's input
on it, ``h(t) = C + A t`` (intercept at ``t = 0`` and slope).  A unit's
pre-activation on the region is ``z(t) = Z + S t`` with ``Z = W C + b`` and
``S = W A``; where ``S != 0`` it changes sign at ``t* = -Z / S``.  Crossings
strictly inside a region split it; the pieces inherit ``Z`` and ``S`` masked
by their new activation pattern (read at an interior representative point).
All of this is vectorised over the regions of a layer; no Python loop runs
per region.

Scale: nothing depends on the domain's size.  ``t*`` is computed from the
map's own coefficients, so its rounding is relative to ``|t*|`` and to the
magnitudes of ``Z`` and ``S``; every comparison of crossings uses a
bound of that rounding from those magnitudes (``BREAK_RTOL``, see
:func:`_split_layer`), and a layer whose values overflow float64 is refused
with :class:`~regions.errors.NumericalError`.  Where the bounds overlap (two
crossings, or a crossing and a region's end, closer than their rounding)
float64 cannot decide, and the region is decided again, in extended
precision anchored at the region's representative point where that
separates every crossing beyond its rounding, else in exact rational
arithmetic (:mod:`regions.engines.line.exact`; counted in
``CountResult.extra["extended_decisions"]`` and ``["exact_decisions"]``):
nothing is merged or dropped by a tolerance.  A real region with no float64 number inside it (a neuron and
its rescaled copy whose weights round differently) cannot be held by a float64 partition and is refused
(:class:`~regions.errors.NumericalError`; ``extra["below_resolution"]`` stays 0).  Counts are the same on
``[-1e9, 1e9]``, ``[-1e300, 1e300]`` and ``R`` once every breakpoint is
inside, and unchanged by positive rescaling of any layer.

Exactness: see :mod:`regions.core.tolerances` for the named tolerances.  For
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

import numpy as np

from ...core.patterns import from_ancestry
from ...core.progress import Progress
from ...core.result import CountResult
from ...core.tolerances import BREAK_RTOL, ZERO_RTOL
from ...errors import NumericalError, RegionsError
from ...domains import Domain, interval
from ...model.network import Network
from ..base import check_options
from .exact import ExtendedLine
from .result import LinePartition

__all__ = ["LinePartition", "partition_line", "count_line"]

#: Regions per chunk in the count-only walk (bounds its memory).  A chunk's arrays grow ~``width``
#: fold in a layer; at 2^14 regions they stay below glibc's 32 MB mmap ceiling, so they are reused
#: from the heap instead of being mapped and faulted in afresh for every chunk (system time).
CHUNK = 1 << 14
_FMAX = float(np.finfo(np.float64).max)


# ----------------------------------------------------------------- kernels
def _reps(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Representative (interior) points of the intervals ``(left, right)``.

    Midpoints, computed as ``left/2 + right/2`` (no overflow near the ends
    of float64's range); an unbounded end region gets a point at its own
    bounded end's distance from it (``hi - max(|hi|, 1)``), never a point
    chosen from the domain's size.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        rep = 0.5 * left + 0.5 * right
    if np.isinf(left[0]) or np.isinf(right[-1]):  # only the two ends can be unbounded
        with np.errstate(invalid="ignore", over="ignore"):
            for i in {0, rep.shape[0] - 1}:
                lo, hi = left[i], right[i]
                if np.isinf(lo) and np.isinf(hi):
                    rep[i] = 0.0
                elif np.isinf(lo):
                    rep[i] = hi - max(abs(hi), 1.0)
                    if not np.isfinite(rep[i]):
                        rep[i] = -_FMAX
                elif np.isinf(hi):
                    rep[i] = lo + max(abs(lo), 1.0)
                    if not np.isfinite(rep[i]):
                        rep[i] = _FMAX
    if not np.all((rep > left) & (rep < right)):
        bad = int(np.flatnonzero(~((rep > left) & (rep < right)))[0])
        raise NumericalError(
            f"two breakpoints at t = {left[bad]!r} and {right[bad]!r} are distinct but have no float64 "
            f"number between them, so their region has no representable witness"
        )
    return rep


def _check_finite(*arrays: np.ndarray) -> None:
    """Raise :class:`NumericalError` where float64 overflowed (inf or nan from finite inputs)."""
    for X in arrays:
        if not np.isfinite(X).all():
            raise NumericalError(
                "expected pre-activations within float64's range, got an overflow (inf or nan): "
                f"the weights, biases or domain reach {np.nanmax(np.abs(X[np.isfinite(X)]), initial=0.0):.3g} "
                "and their products exceed 1.8e308"
            )


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


def _placed(T, tol, S, left, ltol, right, rtol):
    """Crossings ``T`` (with bounds ``tol``) clearly inside their regions, and those near an end.

    A crossing is inside when it is farther than its own and the end's
    bound from both ends; it is *near* (float64 cannot place it) when it is
    within those bounds of an end.  Both ``(R, m)`` bool.
    """
    with np.errstate(invalid="ignore"):
        inside = T - tol > (left + ltol)[:, None]
        inside &= T + tol < (right - rtol)[:, None]
        near = np.abs(T - left[:, None]) <= tol + ltol[:, None]
        near |= np.abs(T - right[:, None]) <= tol + rtol[:, None]
    near &= S != 0.0
    return inside, near


def _sorted_inside(T, tol, inside):
    """The crossings inside, sorted (``inf`` past them), their mask, the region's bound, and the close pairs.

    Two crossings of a region closer than twice the largest bound among the
    region's crossings (``rowtol``) cannot be told apart by float64.
    """
    m = T.shape[1]
    rowtol = np.where(inside, tol, 0.0).max(axis=1)  # (R,) one bound per region: its crossings' largest
    Ts = np.where(inside, T, np.inf)
    Ts.sort(axis=1)
    keep = np.arange(m)[None, :] < inside.sum(axis=1)[:, None]  # (R, m)
    with np.errstate(invalid="ignore"):
        close = keep[:, 1:] & (Ts[:, 1:] - Ts[:, :-1] <= 2.0 * rowtol[:, None])
    return Ts, keep, rowtol, close


def _fine_tol(T, S, C, A, Wt, absb):
    """The bounds of the crossings ``T = -Z / S`` from the magnitudes of their own sums.

    ``BREAK_RTOL * (|T| (|A| @ |Wt|) + |C| @ |Wt| + |b|) / |S|``: the same
    bound as the screen of :func:`_split_layer`, whose magnitudes
    ``amax * l1`` and ``cmax * l1 + |b|`` are upper bounds of these.
    """
    absWt = np.abs(Wt)
    tol = np.abs(T)
    tol *= np.abs(A) @ absWt
    tol += np.abs(C) @ absWt
    tol += absb
    tol *= BREAK_RTOL
    tol /= np.abs(S)
    return tol


def _split_layer(left, ltol, end, rep, C, A, cmax, amax, W, b, slope, *, values=True, exact=None, layer=0):
    """Split the regions by one hidden layer.

    On a region the layer's input is affine in ``t``: ``h(t) = C + A t``
    (intercept at ``t = 0`` and slope), so a unit's pre-activation is
    ``z(t) = Z + S t`` with ``Z = C W^T + b``, ``S = A W^T`` and its crossing
    is ``t* = -Z / S``, whatever the domain's size.

    Parameters
    ----------
    left : (R,) left endpoints, increasing; ``end`` is the right end of the last.
    ltol : (R,) the absolute uncertainty of each left endpoint (0 at the domain's end).
    rep : (R,) representative points.
    C, A : (R, n) intercept and slope of the layer's input on each region.
    cmax, amax : (R,) upper bounds of the magnitudes of ``C`` and ``A`` (see
        :data:`~regions.core.tolerances.BREAK_RTOL`).
    W, b : (m, n), (m,) the layer.
    values : bool
        Compute ``C'`` (not needed after the last hidden layer when counting).
    exact : ExtendedLine, optional
        Decides exactly the regions that float64 cannot (see below); without
        it such a region is refused with :class:`~regions.errors.NumericalError`.
    layer : int
        This layer's index among the hidden layers (for ``exact``).

    Returns
    -------
    left', ltol', rep', C', A', cmax', amax' for the R' >= R new regions,
    ``counts`` (R,) the number of pieces of each old region (its children are
    consecutive), and ``active`` (R', m) bool.

    Tolerances are those of each crossing: ``BREAK_RTOL * (|Z|_abs + |t*| |S|_abs) / |S|``
    with the magnitudes bounded by ``cmax l1 + |b|`` and ``amax l1`` (``l1``
    the unit's absolute row sum); a crossing is inside its region when it
    is farther from both ends than its own and the end's tolerance, and
    outside when it is that far beyond an end.  Two crossings of a region
    farther apart than twice the largest tolerance among the region's
    crossings are two breakpoints.  None of this depends on the domain's
    size.  The regions this screen leaves undecided are looked at again with
    the magnitudes of their own sums, ``|C| |W|^T + |b|`` and ``|A| |W|^T``
    (:func:`_fine_tol`; the screen's ``cmax l1`` and ``amax l1`` exceed them
    by up to the layer's fan-in: 4x fewer regions of the depth-9 sawtooth
    near ``t = 1`` stay undecided).  Everything else (two crossings within
    those tolerances of each other, a crossing within them of an end)
    float64 cannot decide: such a region is decided by ``exact`` (extended precision, else exact rational
    arithmetic: :class:`~regions.engines.line.exact.ExtendedLine`), which also reads its
    children's patterns; no crossing is merged or dropped by a tolerance.
    """
    R = left.shape[0]
    m = W.shape[0]
    Wt = W.T
    with np.errstate(over="ignore", invalid="ignore"):
        Z = C @ Wt + b  # (R, m) pre-activation at t = 0
        S = A @ Wt  # (R, m) slope dz/dt
    _check_finite(Z, S)
    _zero_small_slopes(S, A, Wt, amax)
    l1 = np.abs(W).sum(axis=1)  # (m,)
    absb = np.abs(b)
    smax = np.abs(S).max(axis=1, initial=0.0)  # (R,) bounds max |A'| of the children
    zmax = np.abs(Z).max(axis=1, initial=0.0)  # (R,) bounds max |C'| of the children
    flat = S == 0.0  # (R, m) units constant on their region
    if flat.any():
        # constant units: exactly zero (hence inactive) when zero up to rounding
        rows = np.nonzero(flat.any(axis=1))[0]
        Zr = Z[rows]
        Zr[flat[rows] & _near_zero(Zr, C[rows], Wt, absb)] = 0.0
        Z[rows] = Zr
    right = np.empty_like(left)
    right[:-1] = left[1:]
    right[-1] = end
    rtol = np.empty_like(ltol)
    rtol[:-1] = ltol[1:]
    rtol[-1] = 0.0
    # crossings t* = -Z / S, strictly inside (left, right) beyond their tolerances
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        T = -Z / S  # (R, m); inf/nan where S == 0
        # tol = BREAK_RTOL * ((|T| amax + cmax) l1 + |b|) / |S|, in place
        tol = np.abs(T)
        tol *= amax[:, None]
        tol += cmax[:, None]
        tol *= BREAK_RTOL * l1
        tol += BREAK_RTOL * absb
        tol /= S
        np.abs(tol, out=tol)
        inside, near = _placed(T, tol, S, left, ltol, right, rtol)
    undecided = near.any(axis=1)  # (R,)
    counts = np.ones(R, dtype=np.intp)
    if inside.any() or undecided.any():
        # one tolerance per region: the largest of its crossings' own (all of the region's scale)
        T0 = T
        T, keep, rowtol, close = _sorted_inside(T0, tol, inside)
        undecided |= close.any(axis=1)
        # the regions the screen leaves undecided, again with the magnitudes of their own sums
        cand = np.nonzero(undecided)[0]
        if cand.size:
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                ftol = _fine_tol(T0[cand], S[cand], C[cand], A[cand], Wt, absb)
                fin, fnear = _placed(T0[cand], ftol, S[cand], left[cand], ltol[cand], right[cand], rtol[cand])
            T[cand], keep[cand], rowtol[cand], fclose = _sorted_inside(T0[cand], ftol, fin)
            undecided[cand] = fnear.any(axis=1) | fclose.any(axis=1)
        rows = np.nonzero(undecided)[0]
        if rows.size:
            if exact is None:
                raise NumericalError(
                    f"expected breakpoints that float64 can separate, got crossings within rounding of each "
                    f"other or of a region's end near t = {rep[rows[0]]!r} (no exact fallback here)"
                )
            # the few regions float64 cannot decide: extended precision, else one exact pass each
            dcnt, T[rows], dacts = exact.children_many(layer, rep[rows], left[rows], right[rows])
            keep[rows] = np.arange(m)[None, :] < dcnt[:, None]
        E = np.concatenate([left[:, None], T], axis=1)  # (R, m+1) left ends of the pieces
        mask = np.concatenate([np.ones((R, 1), dtype=bool), keep], axis=1)
        # for r in range(R): for j in range(m+1): if mask[r, j]: emit piece (r, E[r, j])
        counts += keep.sum(axis=1)
        new_left = E[mask]  # (R',) row-major: children of a region stay consecutive
        first = np.cumsum(counts) - counts  # (R,) index of each region's first child
        new_ltol = np.repeat(rowtol, counts)
        if rows.size:
            # breakpoints decided exactly carry only their rounding to float64
            kids = (first[rows][:, None] + 1 + np.arange(m)[None, :])[keep[rows]]
            new_ltol[kids] = np.spacing(np.abs(new_left[kids]))
        new_ltol[first] = ltol  # first child keeps its parent's left end
        new_right = np.empty_like(new_left)
        new_right[:-1] = new_left[1:]
        new_right[-1] = end
        new_rep = _reps(new_left, new_right)
        Sc = np.repeat(S, counts, axis=0)  # (R', m) slopes of the children
        Zc = np.repeat(Z, counts, axis=0)  # (R', m) intercepts of the children
        smax = np.repeat(smax, counts)
        zmax = np.repeat(zmax, counts)
    else:
        rows = np.zeros(0, dtype=np.intp)
        new_left, new_ltol, new_rep, Sc, Zc = left, ltol, rep, S, Z
    # Signs at the children's reps: a rep is half its region's width (more
    # than the tolerances of both ends) away from every kept breakpoint, and
    # constant units that are zero up to rounding were set to exactly 0.
    with np.errstate(over="ignore", invalid="ignore"):
        Zr = Sc * new_rep[:, None]
        Zr += Zc
    active = Zr > 0  # (R', m)
    if rows.size:  # read exactly where float64 could not
        sel = np.arange(m + 1)[None, :] <= dcnt[:, None]  # (r, m+1) the children of each row
        active[(first[rows][:, None] + np.arange(m + 1)[None, :])[sel]] = dacts[sel]
    if slope == 0.0:
        Cn = np.multiply(Zc, active, out=Zc) if values else None
        An = np.multiply(Sc, active, out=Sc)
    else:
        Cn = np.where(active, Zc, slope * Zc) if values else None
        An = np.where(active, Sc, slope * Sc)
    return new_left, new_ltol, new_rep, Cn, An, zmax, smax, counts, active


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
    ltol = np.zeros(1)
    rep = _reps(left, np.array([hi]))
    C = np.zeros((1, 1))  # (1, 1): the input is t itself, intercept 0 ...
    A = np.ones((1, 1))  # ... and slope 1
    cmax = np.zeros(1)
    amax = np.ones(1)
    return pulled, left, ltol, hi, rep, C, A, cmax, amax


def _exact(pulled: Network, domain: Domain) -> ExtendedLine:
    """The decider of the regions float64 cannot decide (see :mod:`.exact`)."""
    return ExtendedLine(pulled.layers[:-1], pulled.negative_slope, float(domain.lo[0]), float(domain.hi[0]))


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


def _count_walk(pulled: Network, start: int, arrays: tuple, counts: list, *, bar=None,
                max_regions: int | None = None, chunk: int = CHUNK, exact: ExtendedLine | None = None) -> dict:
    """Depth-first count of the final regions under ``arrays``, from hidden layer ``start`` on.

    Shared by :func:`count_line` (``start = 0``) and the split counts
    (:mod:`.split`, ``start`` = the prefix depth).  ``arrays`` are the regions
    before layer ``start``, ``(left, ltol, end, rep, C, A, cmax, amax)``;
    ``counts[l]`` grows by the regions found after hidden layer ``l``; each
    layer's regions are walked in chunks of ``chunk`` (bounded memory);
    ``exact`` decides the regions float64 cannot (see :func:`_split_layer`).

    Returns
    -------
    dict
        ``regions``, ``merges`` (neighbouring final regions with one output
        map), ``partial`` (more than ``max_regions``), ``first`` (output
        slopes of the first final region and their magnitudes) and ``last``
        (``(S, A, ub)`` of the last final region, rows of one).
    """
    hidden = pulled.layers[:-1]
    Wout, _ = pulled.layers[-1]
    absWt_out = np.abs(Wout.T)
    l1_out = float(np.abs(Wout).sum(axis=1).max())
    state = {"regions": 0, "merges": 0, "first": None, "last": None, "partial": False}

    def walk(layer, left, ltol, end, rep, C, A, cmax, amax):
        if state["partial"]:
            return
        if layer == len(hidden):
            with np.errstate(over="ignore", invalid="ignore"):
                S = A @ Wout.T  # (R, n_out) output slopes
            _check_finite(S)
            ub = amax * l1_out
            merges = int(np.count_nonzero(_same_map(S[:-1], S[1:], A[:-1], A[1:], ub[:-1], ub[1:], absWt_out)))
            if state["last"] is not None:
                S0, A0, ub0 = state["last"]
                merges += int(_same_map(S0, S[:1], A0, A[:1], ub0, ub[:1], absWt_out)[0])
            else:
                state["first"] = (S[0], np.abs(A[0]) @ absWt_out)
            state["last"] = (S[-1:], A[-1:], ub[-1:])
            state["regions"] += S.shape[0]
            state["merges"] += merges
            if max_regions is not None and state["regions"] > max_regions:
                state["partial"] = True
            return
        W, b = hidden[layer]
        last = layer == len(hidden) - 1  # the output needs slopes only
        nl, nlt, nrep, nC, nA, ncmax, namax, _, _ = _split_layer(
            left, ltol, end, rep, C, A, cmax, amax, W, b, pulled.negative_slope, values=not last,
            exact=exact, layer=layer)
        counts[layer] += nl.shape[0]
        if bar is not None:
            bar.update(layer, nl.shape[0])
        if last:
            nC = np.empty((nl.shape[0], 0))  # unused
        n = nl.shape[0]
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            walk(layer + 1, nl[s:e], nlt[s:e], (nl[e] if e < n else end), nrep[s:e], nC[s:e], nA[s:e],
                 ncmax[s:e], namax[s:e])

    walk(start, *arrays)
    return state


# ---------------------------------------------------------------- public API
def partition_line(net: Network, domain: Domain | None = None, *, max_regions: int | None = None,
                   progress: bool = False) -> LinePartition:
    """Partition a 1-D domain into the network's activation regions, exactly.

    Parameters
    ----------
    net : Network
    domain : Domain, optional
        An :func:`~regions.domains.interval` (1-input networks; default
        ``[-1, 1]``), or a :func:`~regions.domains.segment` /
        :func:`~regions.domains.line` through the input space of any network.
    max_regions : int, optional, keyword-only
        Stop after the first layer at which more regions than this exist;
        the partition is then flagged ``partial`` (its regions are those of
        the layers processed; the counts are lower bounds).
    progress : bool, keyword-only
        One line per hidden layer (needs tqdm).

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
    max_regions, progress = check_options(max_regions=max_regions, progress=progress)
    domain = _default_domain(net, domain)
    pulled, left, ltol, end, rep, C, A, cmax, amax = _start(net, domain)
    exact = _exact(pulled, domain)
    parents, actives, counts = [], [], []
    partial = False
    hidden = pulled.layers[:-1]
    with Progress(progress, [(f"layer {l + 1}/{len(hidden)}", None) for l in range(len(hidden))]) as bar:
        for l, (W, b) in enumerate(hidden):
            left, ltol, rep, C, A, cmax, amax, counts_l, active = _split_layer(
                left, ltol, end, rep, C, A, cmax, amax, W, b, pulled.negative_slope, exact=exact, layer=l)
            parents.append(np.repeat(np.arange(counts_l.shape[0]), counts_l))
            actives.append(active)
            counts.append(int(left.shape[0]))
            bar.update(l, int(left.shape[0]))
            if max_regions is not None and left.shape[0] > max_regions:
                partial = True  # as in every engine: more than max_regions regions exist
                break
    R = left.shape[0]
    blocks = from_ancestry(parents, actives)
    patterns = np.concatenate(blocks, axis=1) if blocks else np.zeros((R, 0), dtype=bool)
    W, b = pulled.layers[-1]
    if partial and len(counts) < len(hidden):  # the output maps need every layer
        S = np.full((R, W.shape[0]), np.nan)
        intercepts = S.copy()
        piece_starts = np.arange(R)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            S = A @ W.T  # (R, n_out) output slopes
            intercepts = C @ W.T + b  # (R, n_out) output intercepts (at t = 0)
        _check_finite(S, intercepts)
        ub = amax * np.abs(W).sum(axis=1).max()
        same = _same_map(S[:-1], S[1:], A[:-1], A[1:], ub[:-1], ub[1:], np.abs(W.T))
        piece_starts = np.concatenate([[0], np.nonzero(~same)[0] + 1])
    return LinePartition(
        network=net,
        domain=domain,
        breaks=np.append(left, end),
        patterns=patterns,
        slopes=S,
        intercepts=intercepts,
        witnesses=rep[:, None],
        layer_counts=tuple(counts),
        piece_starts=piece_starts,
        partial=partial,
    )


def count_line(net: Network, domain: Domain | None = None, *, max_regions: int | None = None,
               progress: bool = False) -> CountResult:
    """Count the activation regions and affine pieces along a 1-D domain.

    Same result as ``partition_line(net, domain).count()``, computed
    depth-first in chunks of :data:`CHUNK` regions so that memory stays
    bounded whatever the count (19,487,171 regions of the depth-7 sawtooth
    need about 140 MB).

    Parameters
    ----------
    max_regions : int, optional
        Stop once more final regions than this have been found; the result
        is then flagged ``partial`` and its numbers are lower bounds
        (``pieces`` is None).
    progress : bool, keyword-only
        One line per hidden layer: the regions found so far and the rate
        (the walk is depth-first, so no layer's total is known before the
        end; needs tqdm).
    """
    max_regions, progress = check_options(max_regions=max_regions, progress=progress)
    domain = _default_domain(net, domain)
    pulled, left, ltol, end, rep, C, A, cmax, amax = _start(net, domain)
    exact = _exact(pulled, domain)
    hidden = pulled.layers[:-1]
    counts = [0] * len(hidden)
    with Progress(progress, [(f"layer {l + 1}/{len(hidden)}", None) for l in range(len(hidden))]) as bar:
        state = _count_walk(pulled, 0, (left, ltol, end, rep, C, A, cmax, amax), counts, bar=bar,
                            max_regions=max_regions, exact=exact)
    regions = state["regions"]
    return CountResult(
        regions=regions,
        pieces=None if state["partial"] else regions - state["merges"],
        layer_counts=counts,
        engine="line",
        partial=state["partial"],
        extra={"exact_decisions": exact.decisions, "extended_decisions": exact.extended,
               "below_resolution": exact.below_resolution},
    )
