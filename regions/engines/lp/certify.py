"""Certified decisions of the LP engine: a split shown by interior points, an empty side by a Farkas certificate.

The walk of :mod:`.kernel` decides, for each unit and region, whether each
open side of the unit's hyperplane meets the region's interior.  In float64
those decisions carry two errors: the rows of a region are composed maps
rounded layer by layer, and HiGHS solves to a feasibility tolerance.  This
module makes every decision either certified or refused
(:class:`~regions.errors.NumericalError`); nothing is merged by a tolerance.

Error bounds
------------
The normalised row of unit ``j`` (value ``(A_j u + c_j) / |A_j|``) differs
from the exact one by at most ``alpha_j |u|_inf + beta_j`` with
``alpha_j = g (sum_k MA_jk / |A_j| + sqrt(k))`` and
``beta_j = g (Mc_j + |c_j|) / |A_j|``: ``MA``, ``Mc`` the same compositions
with absolute values (the first layer's bias magnitude including the shift
of the box centre, ``|b| + |W| |x0|``) and ``g = 16 eps (k + sum n_i + 4 L)``
the rounding of the compositions, of the interval bounds and of a row's
evaluation (several times the classical ``gamma_n`` bound).  A region keeps
``cerr``, the largest bound over its rows and its layer's undecided units
on the (normalised) domain.

Decisions
---------
* **Screens** (whole-region states): a state is kept when the interval bound
  clears ``0`` by more than its bound; a first-layer unit in doubt is
  decided by its exact extremum over the domain (rationals); a unit with a
  (numerically) zero gradient by its exact gradient and constant under the
  region's pattern; anything else is left to the LP path.
* **A side with an interior**: a point whose certified radius exceeds
  ``cerr``; else one whose pattern is confirmed in exact rational
  arithmetic (every unit of the region strictly of its sign, the unit
  strictly of the side's, the point in the closed domain: an open ball then
  lies in both).
* **An empty side**: the walk LP's dual ray checked in float64 with the
  bound above (``min over the domain of (y A) u - y b > (sum y) cerr``);
  else a fresh Chebyshev LP on the region's rows rebuilt exactly from its
  pattern, whose dual ``y >= 0`` (refined on its support so that the
  coefficients of coordinates away from the domain's bounds vanish exactly)
  gives ``min over the domain of sum_i y_i r_i(x) >= 0`` in rationals: no
  point of the domain has every row ``r_i < 0``.

Only the second halves (exact points, fresh LPs, Farkas certificates) cost
more than a comparison, and only for decisions float64 cannot make.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations
from math import comb

import numpy as np

from ...core.tolerances import EPS
from ...errors import NumericalError

__all__: list[str] = []

_F0 = Fraction(0)
_F1 = Fraction(1)
_TINY = float(np.finfo(np.float64).tiny)


def _frac(X: np.ndarray) -> np.ndarray:
    """A float array as an object array of exact Fractions."""
    X = np.asarray(X, dtype=np.float64)
    out = np.empty(X.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(X.reshape(-1)):
        flat[i] = Fraction(float(v))
    return out


def exact_rank(W: np.ndarray) -> int:
    """The rank of a float matrix in exact rational arithmetic (Gaussian elimination on Fractions)."""
    M = [[Fraction(float(v)) for v in row] for row in np.asarray(W, dtype=np.float64)]
    return _rank(M)


def _rank(M: list) -> int:
    rank = 0
    ncol = len(M[0]) if M else 0
    for c in range(ncol):
        p = next((i for i in range(rank, len(M)) if M[i][c] != 0), None)
        if p is None:
            continue
        M[rank], M[p] = M[p], M[rank]
        piv = M[rank]
        for i in range(rank + 1, len(M)):
            if M[i][c] != 0:
                f = M[i][c] / piv[c]
                M[i] = [a - f * b for a, b in zip(M[i], piv)]
        rank += 1
    return rank


def _solve_affine(E: list, rhs: list, guess: list) -> list | None:
    """A rational solution of ``E w = rhs`` (free unknowns set to ``guess``), or None when inconsistent."""
    n = len(guess)
    M = [list(row) + [r] for row, r in zip(E, rhs)]
    piv_cols = []
    rank = 0
    for c in range(n):
        p = next((i for i in range(rank, len(M)) if M[i][c] != 0), None)
        if p is None:
            continue
        M[rank], M[p] = M[p], M[rank]
        pr = M[rank]
        inv = 1 / pr[c]
        pr = [v * inv for v in pr]
        M[rank] = pr
        for i in range(len(M)):
            if i != rank and M[i][c] != 0:
                f = M[i][c]
                M[i] = [a - f * b for a, b in zip(M[i], pr)]
        piv_cols.append(c)
        rank += 1
    for i in range(rank, len(M)):
        if M[i][n] != 0:
            return None
    w = list(guess)
    free = [c for c in range(n) if c not in piv_cols]
    for i, c in enumerate(piv_cols):
        w[c] = M[i][n] - sum((M[i][f] * w[f] for f in free), _F0)
    return w


class _Rows:
    """Exact row coefficients ``-sg_i A_i`` (and ``-sg_i c_i`` appended when ``homog``), built on first use."""

    def __init__(self, rows: list, homog: bool):
        self.rows, self.homog, self.cache = rows, homog, {}

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> list:
        g = self.cache.get(i)
        if g is None:
            A, c, sg = self.rows[i]
            g = [-sg * v for v in A] + ([-sg * c] if self.homog else [])
            self.cache[i] = g
        return g


class Certifier:
    """The certification of one LP walk (see the module docstring)."""

    def __init__(self, walk, net, domain, cross: bool):
        pulled = domain.pullback(net)
        self.walk = walk
        self.layers = [(np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64))
                       for W, b in pulled.layers[:-1]]
        self.slope = float(pulled.negative_slope)
        self.k = domain.dim
        self.plo = np.asarray(domain.lo, dtype=np.float64)
        self.phi = np.asarray(domain.hi, dtype=np.float64)
        self.cross = bool(cross)
        self.bounded = bool(np.all(np.isfinite(walk.lo)) and np.all(np.isfinite(walk.hi)))
        self.U = float(np.max(np.maximum(np.abs(walk.lo), np.abs(walk.hi)))) if self.bounded else np.inf
        sizes = [W.shape[0] for W, _ in self.layers]
        self.gam = [16 * EPS * (self.k + sum(sizes[:l + 1]) + 4 * (l + 1)) for l in range(len(sizes))]
        self._exact = None  # Fraction layers, built on first need
        self._maps: dict = {}
        self.exact_points = 0
        self.certificates = 0
        self.fresh = 0

    # ------------------------------------------------------------ exact model
    def _fl(self):
        if self._exact is None:
            self._exact = [(_frac(W), _frac(b)) for W, b in self.layers]
            self.Fslope = Fraction(self.slope)
            self.Flo = [None if not np.isfinite(v) else Fraction(float(v)) for v in self.plo]
            self.Fhi = [None if not np.isfinite(v) else Fraction(float(v)) for v in self.phi]
        return self._exact

    def _exact_maps(self, pats: list, l: int):
        """Exact ``(A, c)`` (object arrays) of layer ``l``'s units in parameter space under ``pats[:l]``."""
        key = (l, b"".join(np.asarray(p, dtype=np.int8).tobytes() for p in pats[:l]))
        hit = self._maps.get(key)
        if hit is not None:
            return hit
        FL = self._fl()
        if l == 0:
            A, c = FL[0]
        else:
            Ap, cp = self._exact_maps(pats, l - 1)
            f = np.array([_F1 if s > 0 else self.Fslope for s in pats[l - 1]], dtype=object)
            W, b = FL[l]
            A = W.dot(f[:, None] * Ap)
            c = W.dot(f * cp) + b
        if len(self._maps) > 256:
            self._maps.clear()
        self._maps[key] = (A, c)
        return A, c

    def _to_p(self, u: np.ndarray) -> np.ndarray:
        """A normalised point in parameter space (float; clipped to the domain's box)."""
        w = self.walk
        return np.clip(w.x0 + w.s * np.asarray(u, dtype=np.float64), self.plo, self.phi)

    def _in_domain(self, x: list) -> bool:
        self._fl()
        for v, lo, hi in zip(x, self.Flo, self.Fhi):
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                return False
        if self.cross:
            tot = _F0
            for v, lo, hi in zip(x, self.Flo, self.Fhi):
                tot += abs(v - (lo + hi) / 2) / ((hi - lo) / 2)
            return tot <= 1
        return True

    def _point_ok(self, fr, j: int, side: float, u: np.ndarray) -> bool:
        """Whether ``u`` lies, in exact arithmetic, inside the region with unit ``j`` strictly on ``side``."""
        self.exact_points += 1
        FL = self._fl()
        x = np.array([Fraction(float(v)) for v in self._to_p(u)], dtype=object)
        if not self._in_domain(list(x)):
            return False
        pats = fr.pat
        cur = fr.layer
        h = x
        for l in range(cur + 1):
            W, b = FL[l]
            z = W.dot(h) + b
            if l < cur:
                st = pats[l]
                idx = range(len(z))
            else:
                st = list(pats[-1][:j]) + [1 if side > 0 else -1]
                idx = range(j + 1)
            for i in idx:
                want, zi = st[i], z[i]
                if (want > 0 and zi > 0) or (want < 0 and zi < 0):
                    continue
                if zi == 0 and want < 0 and not (l == cur and i == j):
                    A, _ = self._exact_maps(pats, l)
                    if all(v == 0 for v in A[i]):  # constant zero on the region: inactive, no boundary
                        continue
                return False
            if l < cur:
                f = np.array([_F1 if s > 0 else self.Fslope for s in pats[l]], dtype=object)
                h = f * z
        return True

    # ------------------------------------------------------------------ screens
    def enter(self, fr, state: np.ndarray, row: np.ndarray, norm: np.ndarray, updn) -> None:
        """Certify the screen's whole-region states of a new layer (in place); set ``fr.cerr``."""
        A, c, MA, _ = fr.maps
        l = fr.layer
        W, b = self.layers[l]
        if l == 0:
            mcx = np.abs(b) + np.abs(W) @ np.abs(self.walk.x0)
        else:
            f = np.where(np.asarray(fr.pat[-1]) > 0, 1.0, abs(self.slope))
            mcx = np.abs(W) @ (f * fr.mcx) + np.abs(b)
        fr.mcx = mcx
        g = self.gam[l]
        rs = MA.sum(axis=1)
        safe = np.where(norm > 0, norm, 1.0)
        E = g * (rs * self.U + mcx + np.abs(c)) if self.bounded else None
        up, dn, zero = updn
        dec = np.nonzero(state)[0]
        for jj in dec:
            jj = int(jj)
            if zero[jj]:
                if rs[jj] == 0 and mcx[jj] == 0:  # identically zero: inactive
                    state[jj] = -1
                    continue
                if self.bounded and abs(c[jj]) > E[jj] + float(np.abs(A[jj]).sum()) * self.U * (1 + g):
                    state[jj] = 1 if c[jj] > 0 else -1
                    continue
                Ae, ce = self._exact_maps(fr.pat, l)
                if all(v == 0 for v in Ae[jj]):
                    state[jj] = 1 if ce[jj] > 0 else -1
                    continue
                if norm[jj] <= 0:
                    raise NumericalError(
                        f"expected unit {jj} of layer {l + 1} to be constant on a region or to have a gradient "
                        f"float64 can represent, got a gradient that is exactly non-zero but rounds to zero")
                state[jj] = 0
                continue
            if self.bounded:
                if state[jj] < 0 and up[jj] + E[jj] <= 0:
                    continue
                if state[jj] > 0 and dn[jj] - E[jj] >= 0:
                    continue
            if l == 0:
                ext = self._extreme0(jj, state[jj] < 0)
                if (state[jj] < 0 and ext <= 0) or (state[jj] > 0 and ext >= 0):
                    continue
            state[jj] = 0
        row[:] = False  # every certified state holds on the whole region: no row needed
        und = state == 0
        alpha = g * (rs / safe + np.sqrt(self.k))
        beta = g * (mcx + np.abs(c)) / safe
        if self.bounded:
            lay = float(np.max((alpha * self.U + beta)[und], initial=0.0))
            fr.cerr = max(getattr(fr, "cerr", 0.0), lay)
        else:
            pa, pb = getattr(fr, "cerr_ab", (0.0, 0.0))
            fr.cerr_ab = (max(pa, float(np.max(alpha[und], initial=0.0))),
                          max(pb, float(np.max(beta[und], initial=0.0))))
            fr.cerr = np.inf

    def _extreme0(self, j: int, upper: bool) -> Fraction:
        """The exact maximum (``upper``) or minimum over the domain of first-layer unit ``j``."""
        FL = self._fl()
        W, b = FL[0]
        tot = b[j]
        if self.cross:
            centre = [(lo + hi) / 2 for lo, hi in zip(self.Flo, self.Fhi)]
            tot += sum((w * x for w, x in zip(W[j], centre)), _F0)
            ext = max(abs(w) * (hi - lo) / 2 for w, lo, hi in zip(W[j], self.Flo, self.Fhi))
            return tot + ext if upper else tot - ext
        for w, lo, hi in zip(W[j], self.Flo, self.Fhi):
            if w == 0:
                continue
            pick = hi if (w > 0) == upper else lo
            if pick is None:
                return Fraction(10**400) * (1 if upper else -1)  # unbounded on that side
            tot += w * pick
        return tot

    # -------------------------------------------------------------- decisions
    def settle(self, fr, j: int, a, cj, s, pos: float, neg: float, newp: dict) -> tuple[float, float]:
        """Certify the sides found with an interior (radius > 0); re-decide those float64 cannot confirm."""
        e = fr.cerr
        if (pos <= 0 or pos > e) and (neg <= 0 or neg > e):
            return pos, neg
        out = {1.0: pos, -1.0: neg}
        for side in (1.0, -1.0):
            v = out[side]
            if v <= 0 or v > e:
                continue
            if side in newp:
                u = newp[side][0]
            else:
                i = int(np.argmax(np.minimum(fr.rp, side * s)))
                u = fr.P[i]
            if not self.bounded and v > fr.cerr_ab[0] * float(np.max(np.abs(u))) + fr.cerr_ab[1]:
                continue
            if self._point_ok(fr, j, side, u):
                continue
            uu, rr = self.resolve(fr, j, side, a, cj)
            out[side] = rr
            if uu is not None:
                newp[side] = (uu, rr)
            else:
                newp.pop(side, None)
        return out[1.0], out[-1.0]

    def infeasible(self, fr, j: int, side: float, a, cj):
        """The walk LP found side ``side`` infeasible: certify (``(None, -inf)``) or re-decide it."""
        w = self.walk
        if self.bounded:
            ray = w.lp.ray()
            m = fr.A.shape[0]
            if ray is not None and ray.shape[0] == m + 1:
                Ar = np.vstack([fr.A, -side * a])
                br = np.append(fr.b, side * cj)
                for y in (ray, -ray):
                    sc = float(np.max(np.abs(y)))
                    if sc <= 0 or np.min(y) < -1e-12 * sc:
                        continue
                    y = np.maximum(y, 0.0) / sc
                    low = w._low(y @ Ar) - float(y @ br)
                    if np.isfinite(low) and low > 2.0 * float(np.sum(y)) * fr.cerr + 1e-300:
                        need = frozenset(fr.ids[i] for i in np.nonzero(y[:m] > 0)[0])
                        lst = w.certs.setdefault((fr.key, j, side), [])
                        if len(lst) < 64:
                            lst.append(need)
                        return None, -np.inf
        return self.resolve(fr, j, side, a, cj)

    def thin(self, fr, j: int, side: float, a, cj, u, rc: float):
        """The walk LP's point on side ``side`` has a radius under the tolerance: certify it or re-decide."""
        if rc > 0 and rc > fr.cerr:
            return u, rc
        if rc > 0 and self._point_ok(fr, j, side, u):
            return u, rc
        return self.resolve(fr, j, side, a, cj)

    # --------------------------------------------------------- exact re-decision
    def _rows(self, fr, j: int, side: float):
        """The region's rows rebuilt exactly from its pattern: (A exact, c exact, sign) per non-constant unit."""
        rows = []
        cur = fr.layer
        for l in range(cur + 1):
            A, c = self._exact_maps(fr.pat, l)
            if l < cur:
                st = list(fr.pat[l])
                idx = range(A.shape[0])
            else:
                st = list(fr.pat[-1][:j]) + [1 if side > 0 else -1]
                idx = range(j + 1)
            for i in idx:
                if all(v == 0 for v in A[i]):
                    continue
                rows.append((A[i], c[i], 1 if st[i] > 0 else -1))
        return rows

    def resolve(self, fr, j: int, side: float, a, cj):
        """Decide side ``side`` of unit ``j`` exactly: ``(u, radius)`` with an exact interior point, or
        ``(None, -inf)`` with an exact Farkas certificate, else :class:`NumericalError`.

        On a bounded domain the Chebyshev LP runs in the normalised box; on all of ``R^k`` (every
        bound infinite) in homogeneous coordinates ``(v, lam)`` with ``x = v / lam``,
        ``|v|_inf <= 1``, ``0 <= lam <= 1``, rows ``A v + c lam``, ``t <= lam``: thin features far
        out (near-parallel hyperplanes meet at ``1 / delta``) then sit at ordinary magnitudes.
        """
        self.fresh += 1
        w = self.walk
        Aj, cjx = self._exact_maps(fr.pat, fr.layer)
        if all(v == 0 for v in Aj[j]):  # constant on the region: the side is all of it or nothing
            if side * cjx[j] > 0:
                return fr.P[0], float(fr.rp[0])
            return None, -np.inf
        rows = self._rows(fr, j, side)
        k, s = self.k, w.s
        x0 = w.x0
        Af = np.array([[float(v) for v in r[0]] for r in rows]).reshape(-1, k)
        cf = np.array([float(r[1]) for r in rows])
        sg = np.array([r[2] for r in rows], dtype=float)
        # region rows r_i(x) = -sg_i (A_i x + c_i) < 0; exact coefficients G_i (of x), C_i (built on use)
        G = _Rows(rows, homog=False)
        C = [-r[2] * r[1] for r in rows]
        homog = not np.any(np.isfinite(self.plo)) and not np.any(np.isfinite(self.phi))
        self._fl()
        if homog:
            Ah = np.hstack([Af, cf[:, None]])
            nrm = np.linalg.norm(Ah, axis=1)
            nrm = np.where(nrm > 0, nrm, 1.0)
            M = -(sg / nrm)[:, None] * Ah
            lo, hi = np.append(-np.ones(k), 0.0), np.ones(k + 1)
            z, t, y = self._cheb(M, np.zeros(M.shape[0]), lo, hi, tcap=k)
            if z is not None and t > 0 and z[k] > 0:
                uu = z[:k] / z[k]
                if self._point_ok(fr, j, side, uu):
                    return uu, self._radius(fr, side, a, cj, uu)
            Gh = _Rows(rows, homog=True)
            Flo, Fhi = [Fraction(-1)] * k + [_F0], [_F1] * (k + 1)
            ok = y is not None and self._certify(Gh, [_F0] * len(rows), y, nrm, z, lo, hi, Flo, Fhi, False)
        else:
            Au = Af * s
            nrm = np.linalg.norm(Au, axis=1)
            nrm = np.where(nrm > 0, nrm, 1.0)
            M = -(sg / nrm)[:, None] * Au
            rhs = sg * (Af @ x0 + cf) / nrm
            z, t, y = self._cheb(M, rhs, w.lo, w.hi, tcap=None)
            if z is not None and t > 0:
                uu = w._into(z)
                if self._point_ok(fr, j, side, uu):
                    return uu, self._radius(fr, side, a, cj, uu)
            # multipliers of the rows in x: y_i / (nrm_i / s)
            ok = y is not None and self._certify(G, C, y, nrm / s, z, w.lo, w.hi, self.Flo, self.Fhi, self.cross)
        if ok:
            self.certificates += 1
            return None, -np.inf
        raise NumericalError(
            f"expected float64 or exact arithmetic to decide whether unit {j} of layer {fr.layer + 1} splits a "
            f"region, got a Chebyshev radius of {t:.3g} (relative to the domain's scale) that neither an exact "
            f"interior point nor an exact Farkas certificate confirms")

    @staticmethod
    def _radius(fr, side, a, cj, u) -> float:
        rc = min(float(np.min(fr.b - fr.A @ u, initial=1.0)), float(side * (a @ u + cj)), 1.0)
        return max(rc, _TINY)

    def _cheb(self, M: np.ndarray, rhs: np.ndarray, lo: np.ndarray, hi: np.ndarray, tcap):
        """Max ``t`` s.t. ``M z + t <= rhs``, ``lo <= z <= hi``, ``t <= 1`` (free below; ``t <= z[tcap]``
        when ``tcap`` is given), on a new HiGHS instance.  Returns ``(z, t, row duals)``."""
        from .solver import _cross_rows, _quiet_highs  # noqa: PLC0415

        w = self.walk
        hs = w.lp.hs
        inf = hs.kHighsInf
        n = M.shape[1]
        m = M.shape[0]
        kc = n if (self.cross and tcap is None) else 0
        h = _quiet_highs(hs)
        for name, value in (("output_flag", False), ("presolve", "off"),
                            ("primal_feasibility_tolerance", 1e-10), ("dual_feasibility_tolerance", 1e-10)):
            h.setOptionValue(name, value)
        clo = np.concatenate([np.where(np.isfinite(lo), lo, -inf), np.zeros(kc), [-inf]])
        chi = np.concatenate([np.where(np.isfinite(hi), hi, inf), np.full(kc, inf), [1.0]])
        h.addVars(n + kc + 1, clo, chi)
        tc = n + kc
        h.changeColsCost(1, np.array([tc], dtype=np.int32), np.array([-1.0]))
        if m:
            B = np.hstack([M, np.ones((m, 1))])
            cols = np.append(np.arange(n, dtype=np.int32), tc).astype(np.int32)
            h.addRows(m, np.full(m, -inf), rhs, m * (n + 1), np.arange(0, m * (n + 1), n + 1, dtype=np.int32),
                      np.tile(cols, m), B.ravel())
        if tcap is not None:  # t - lam <= 0
            h.addRows(1, np.array([-inf]), np.array([0.0]), 2, np.array([0], dtype=np.int32),
                      np.array([tc, tcap], dtype=np.int32), np.array([1.0, -1.0]))
        if kc:
            _cross_rows(h, n, n, w.half, inf)
        h.run()
        if h.getModelStatus() != hs.HighsModelStatus.kOptimal:
            return None, -np.inf, None
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        y = np.asarray(sol.row_dual)[:m]
        return x[:n], float(x[tc]), y

    def _low(self, G: list, C: Fraction, Flo: list, Fhi: list, cross: bool) -> Fraction | None:
        """Exact ``min over the box (or its inscribed cross-polytope) of G x + C`` (None: unbounded below)."""
        tot = C
        if cross:
            for g, lo, hi in zip(G, Flo, Fhi):
                tot += g * (lo + hi) / 2
            return tot - max((abs(g) * (hi - lo) / 2 for g, lo, hi in zip(G, Flo, Fhi)), default=_F0)
        for g, lo, hi in zip(G, Flo, Fhi):
            if g == 0:
                continue
            pick = lo if g > 0 else hi
            if pick is None:
                return None
            tot += g * pick
        return tot

    def _certify(self, G: list, C: list, y: np.ndarray, scale: np.ndarray, z, lo, hi, Flo, Fhi,
                 cross: bool) -> bool:
        """An exact Farkas certificate from the LP dual ``y``: ``w >= 0``, ``min over D of sum w_i (G_i x + C_i)
        >= 0`` (``w_i = y_i / scale_i``, refined on its support so that coordinates of ``z`` away from the
        bounds get exactly zero coefficients)."""
        n = len(Flo)
        for yy in (-y, y):
            sc = float(np.max(np.abs(yy), initial=0.0))
            if sc <= 0 or np.min(yy) < -1e-7 * sc:
                continue
            yy = np.maximum(yy, 0.0) / sc
            supp = [i for i in range(len(G)) if yy[i] > 1e-12]
            if not supp:
                continue
            sf = [Fraction(float(scale[i])) for i in supp]
            wf = [Fraction(float(yy[i])) / f for i, f in zip(supp, sf)]
            zsets = [None]
            if z is not None and not cross:
                zsets.append([kk for kk in range(n) if not (np.isfinite(lo[kk]) and z[kk] <= lo[kk] + 1e-9)
                              and not (np.isfinite(hi[kk]) and z[kk] >= hi[kk] - 1e-9)])
            # coordinates whose exact coefficient vanishes at an optimal certificate: a vertex of the
            # certificates' polytope zeroes |supp| - 1 of them; the smallest first, then all where few
            gf = np.array([[float(G[i][kk]) for kk in range(n)] for i in supp])
            Gw = np.abs(np.array([float(v) for v in yy[supp] / scale[supp]]) @ gf)
            width = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
            order = [int(v) for v in np.argsort(Gw * width, kind="stable")]
            q = min(len(supp) - 1, n)
            zsets.append(sorted(order[:q]))
            if comb(n, q) <= 64:
                zsets.extend(list(c) for c in combinations(range(n), q))
            seen = set()
            for Z in zsets:
                if Z is None:
                    wv = wf
                else:
                    if tuple(Z) in seen:
                        continue
                    seen.add(tuple(Z))
                    E = [[G[i][kk] for i in supp] for kk in Z]
                    E.append(sf)
                    wv = _solve_affine(E, [_F0] * len(Z) + [_F1], wf)
                    if wv is None:
                        continue
                if any(v < 0 for v in wv) or not any(v > 0 for v in wv):
                    continue
                Gs = [sum((wv[a] * G[i][kk] for a, i in enumerate(supp)), _F0) for kk in range(n)]
                Cs = sum((wv[a] * C[i] for a, i in enumerate(supp)), _F0)
                low = self._low(Gs, Cs, Flo, Fhi, cross)
                if low is not None and low >= 0:
                    return True
        return False
