"""The suppression of one table (primary and secondary), for :mod:`quartier.values.protection`.

One *table* is one indicator in one year: its Sozialraum cells, one total per Stadtbezirk and the city total.
The rules are described in :mod:`quartier.values.protection`; here is the cell-level machinery (:class:`_Table`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

# Internal reasons (shown to users who may see raw values); viewers only see PUBLIC_REASON.
REASON_SOURCE = "an der Quelle gesperrt"
REASON_CASES = "Fallzahl zu klein"
REASON_DENOMINATOR = "Nenner zu klein"
REASON_SECONDARY = "sekundär (Schutz vor Rückrechnung)"
REASON_UNKNOWN = "nicht berechenbar (Teilwerte fehlen)"
PUBLIC_REASON = "geschützt"


def _small(x: float, limit: int) -> bool:
    return bool(np.isfinite(x) and 0 < x < limit)


# reason codes (index into _REASONS); 0 = visible
_R_NONE, _R_SOURCE, _R_UNKNOWN, _R_CASES, _R_DEN, _R_SECONDARY = range(6)
_REASONS = np.array([None, REASON_SOURCE, REASON_UNKNOWN, REASON_CASES, REASON_DENOMINATOR, REASON_SECONDARY],
                    dtype=object)

_Cells = npt.NDArray[np.intp]  # cell indices (int64 arrays fit as well)
# hidden mask, hidden areas per district, hidden areas without district, city hidden, hidden districts with hidden areas
_State = tuple[npt.NDArray[np.bool_], _Cells, int, bool, int]


class _Table:
    """Cells of one table: areas 0..S-1, districts S..S+B-1, city S+B.

    The sum relations form a two-level tree (areas -> Stadtbezirk -> city; areas without a
    Stadtbezirk hang directly below the city). For such a tree the linear recoverability test
    ("the unit vector of a hidden cell lies in the row space of the relations restricted to the
    hidden cells") reduces to counts, which is what makes secondary suppression cheap:

    * an area of district d is recoverable iff it is the only hidden area of d and either d is
      visible or the city relation is "closed" (city visible, no other hidden part of the city whose
      own parts are hidden as well);
    * an area without a district is recoverable iff it is the only hidden such area, the city is
      visible and no hidden district has hidden areas;
    * a district is recoverable iff none of its areas is hidden or the city relation is closed
      apart from it;
    * the city is recoverable iff no area without a district is hidden and no hidden district has
      hidden areas.

    ``tests/unit/test_protection_equivalence.py`` checks this against the matrix-rank version.
    """

    # set by _prepare()
    _order: _Cells
    _rank: npt.NDArray[np.int64]
    _kids_of_d: list[_Cells]
    _kids_of_city: _Cells

    def __init__(self, num: npt.ArrayLike, den: npt.ArrayLike, district_of: Iterable[object] | None,
                 min_cases: int, min_den: int, *, grp: npt.ArrayLike | None = None,
                 districts: Iterable[object] | None = None) -> None:
        """``district_of`` (district per area, None = none) is needed unless ``grp`` and ``districts`` are given."""
        num = np.asarray(num, dtype=float)
        den = np.asarray(den, dtype=float)
        self.S = S = len(num)
        if grp is None:
            dist = pd.Series(list(cast(Iterable[object], district_of)), dtype=object)
            districts = sorted({d for d in dist.tolist() if d is not None and d == d}, key=str)
            pos = {d: j for j, d in enumerate(districts)}
            grp = dist.map(pos).fillna(-1).to_numpy(dtype=np.int64)
        self.districts: list[object] = list(cast(Iterable[object], districts))
        self.grp = np.asarray(grp, dtype=np.int64)  # district index per area, -1 = directly below the city
        self.B = B = len(self.districts)
        self.city = city = S + B
        n = S + B + 1
        self.parent: npt.NDArray[np.int64] = np.full(n, -1, dtype=np.int64)
        self.parent[:S] = np.where(self.grp >= 0, S + self.grp, city)
        self.parent[S:city] = city
        self.num: npt.NDArray[np.float64] = np.full(n, np.nan)
        self.den: npt.NDArray[np.float64] = np.full(n, np.nan)
        self.num[:S] = num
        self.den[:S] = den
        in_d = self.grp >= 0
        g = self.grp[in_d]
        for arr in (self.num, self.den):
            vals = arr[:S][in_d]
            fin = np.isfinite(vals)
            sums = np.bincount(g[fin], weights=vals[fin], minlength=B)
            bad = np.bincount(g[~fin], minlength=B) > 0
            arr[S:city] = np.where(bad, np.nan, sums)
            kids = np.concatenate([arr[:S][~in_d], arr[S:city]])
            arr[city] = kids.sum() if len(kids) and np.isfinite(kids).all() else np.nan
        self.code: npt.NDArray[np.int8] = np.zeros(n, dtype=np.int8)
        self.min_cases, self.min_den = min_cases, min_den
        self._cand: bool | None = None

    def _prepare(self) -> None:
        """Candidate order (smallest positive numerator first, then the others, then index) and the
        children of every total; only needed when a table has hidden cells."""
        if self._cand is not None:
            return
        n, S, B, city = len(self.num), self.S, self.B, self.city
        v = self.num
        pos_v = np.isfinite(v) & (v > 0)
        self._order = np.lexsort((np.arange(n), np.where(np.isfinite(v), v, np.inf), np.where(pos_v, 0, 1)))
        self._rank = np.empty(n, dtype=np.int64)
        self._rank[self._order] = np.arange(n)
        in_d = self.grp >= 0
        by = np.argsort(np.where(in_d, self.grp, B), kind="stable")
        bounds = np.concatenate([[0], np.cumsum(np.bincount(self.grp[in_d], minlength=B))])
        self._kids_of_d = [by[bounds[j]:bounds[j + 1]] for j in range(B)]
        self._kids_of_city = np.concatenate([np.flatnonzero(~in_d), np.arange(S, city)]).astype(np.int64)
        self._cand = True

    # ------------------------------------------------------------------ compatibility views
    @property
    def reason(self) -> list[str | None]:
        return cast(list[str | None], _REASONS[self.code].tolist())

    @property
    def hidden(self) -> list[int]:
        return cast(list[int], np.flatnonzero(self.code).tolist())

    @property
    def children(self) -> dict[int, list[int]]:
        self._prepare()
        out: dict[int, list[int]] = {a: [] for a in range(self.S, self.city + 1)}
        for j, kids in enumerate(self._kids_of_d):
            out[self.S + j] = kids.tolist()
        out[self.city] = self._kids_of_city.tolist()
        return out

    def _kids(self, a: int) -> _Cells:
        self._prepare()
        if a == self.city:
            return self._kids_of_city
        if self.S <= a < self.city:
            return self._kids_of_d[a - self.S]
        return np.zeros(0, dtype=np.int64)

    # ------------------------------------------------------------------ primary
    def primary(self, source_flags: npt.ArrayLike) -> None:
        src = np.zeros(len(self.num), dtype=bool)
        src[: self.S] = np.asarray(source_flags, dtype=bool)
        unknown = np.isnan(self.num)
        unknown[: self.S] = False
        small = np.isfinite(self.num) & (self.num > 0) & (self.num < self.min_cases)
        small_den = np.isfinite(self.num) & np.isfinite(self.den) & (self.den > 0) & (self.den < self.min_den)
        code = np.select([src, unknown, small, small_den], [_R_SOURCE, _R_UNKNOWN, _R_CASES, _R_DEN], _R_NONE)
        self.code = code.astype(np.int8)

    # ------------------------------------------------------------------ recoverability by counts
    def _state(self) -> _State:
        hid = self.code != 0
        S, B = self.S, self.B
        ha = hid[:S]
        in_d = self.grp >= 0
        h_area = np.bincount(self.grp[ha & in_d], minlength=B) if B else np.zeros(0, dtype=np.int64)
        U = int((ha & ~in_d).sum())
        Ch = bool(hid[self.city])
        K = int((hid[S:self.city] & (h_area > 0)).sum())
        return hid, h_area, U, Ch, K

    def _rec_cell(self, x: int, hid: npt.NDArray[np.bool_], h_area: _Cells, U: int, Ch: bool, K: int) -> bool:
        S, city = self.S, self.city
        if x < S:
            j = int(self.grp[x])
            if j < 0:
                return U == 1 and not Ch and K == 0
            return bool(h_area[j] == 1 and (not hid[S + j] or (not Ch and U == 0 and K == 1)))
        if x < city:
            return bool(h_area[x - S] == 0 or (not Ch and U == 0 and K == 1))
        return U == 0 and K == 0

    def _rec_after(self, x: int, c: int, hid: npt.NDArray[np.bool_], h_area: _Cells, U: int, Ch: bool,
                   K: int) -> bool:
        """Whether ``x`` is recoverable once ``c`` is hidden as well."""
        S, city = self.S, self.city
        hid = hid.copy()
        hid[c] = True
        if c < S:
            j = int(self.grp[c])
            if j < 0:
                U += 1
            else:
                h_area = h_area.copy()
                h_area[j] += 1
                if hid[S + j] and h_area[j] == 1:
                    K += 1
        elif c < city:
            if h_area[c - S] > 0:
                K += 1
        else:
            Ch = True
        return self._rec_cell(x, hid, h_area, U, Ch, K)

    def recoverable(self, hidden: list[int] | None = None) -> list[int]:
        """Hidden cells whose value follows from the visible cells and the sum relations."""
        if hidden is not None:
            saved = self.code
            code = np.zeros_like(saved)
            code[np.asarray(hidden, dtype=np.int64)] = 1
            self.code = code
            try:
                return self.recoverable()
            finally:
                self.code = saved
        return cast(list[int], np.flatnonzero(self._rec_mask(*self._state())).tolist())

    def _rec_mask(self, hid: npt.NDArray[np.bool_], h_area: _Cells, U: int, Ch: bool, K: int) -> npt.NDArray[np.bool_]:
        S, city = self.S, self.city
        closed1 = (not Ch) and U == 0 and K == 1
        out = np.zeros(len(hid), dtype=bool)
        g = self.grp
        in_d = g >= 0
        gi = np.where(in_d, g, 0)
        if self.B:
            ok_d = (h_area[gi] == 1) & (~hid[S + gi] | closed1)
        else:
            ok_d = np.zeros(S, dtype=bool)
        ok_u = U == 1 and not Ch and K == 0
        out[:S] = hid[:S] & np.where(in_d, ok_d, ok_u)
        out[S:city] = hid[S:city] & ((h_area == 0) | closed1)
        out[city] = hid[city] and U == 0 and K == 0
        return out

    # ------------------------------------------------------------------ secondary
    def _candidates(self, cell: int, rest: bool = False) -> list[int]:
        """Visible cells that could protect ``cell``: siblings (smallest positive first) and the parent;
        with ``rest`` all other visible cells (only needed when those do not help)."""
        self._prepare()
        hid = self.code != 0
        p = int(self.parent[cell])
        kids = self._kids(p) if p >= 0 else np.zeros(0, dtype=np.int64)
        if rest:
            excl = hid.copy()
            excl[kids] = True
            excl[cell] = True
            if p >= 0:
                excl[p] = True
            order = self._order
            return cast(list[int], order[~excl[order]].tolist())
        sib = kids[(kids != cell) & ~hid[kids]]
        ordered = cast(list[int], sib[np.argsort(self._rank[sib], kind="stable")].tolist())
        return ordered + ([p] if p >= 0 and not hid[p] else [])

    def secondary(self) -> None:
        if not self.code.any():
            return
        self._prepare()
        for _ in range(len(self.num) + 1):
            state = self._state()
            rec = np.flatnonzero(self._rec_mask(*state))
            target: int | None = None
            if len(rec):
                cell = int(rec[0])
                near = self._candidates(cell)
                target = next((c for c in near if not self._rec_after(cell, c, *state)), None)
                if target is None:
                    far = self._candidates(cell, rest=True)
                    target = next((c for c in far[:200] if not self._rec_after(cell, c, *state)), None)
                    if target is None:
                        target = near[0] if near else far[0] if far else None
            else:
                target = self._small_residual(state)
            if target is None:
                return
            self.code[target] = _R_SECONDARY

    def _small_residual(self, state: _State | None = None) -> int | None:
        """A visible total whose hidden parts sum to a small number: return a part to hide as well."""
        hid = (state or self._state())[0]
        self._prepare()
        S, B, city = self.S, self.B, self.city
        num0 = np.where(np.isfinite(self.num), self.num, 0.0)
        in_d = self.grp >= 0
        res_d = np.full(B, np.nan)
        ok_d = np.zeros(B, dtype=bool)
        if B:
            g = self.grp[in_d]
            h = hid[:S][in_d]
            n_hid = np.bincount(g[h], minlength=B)
            n_vis = np.bincount(g[~h], minlength=B)
            vis_sum = np.bincount(g[~h], weights=num0[:S][in_d][~h], minlength=B)
            res_d = self.num[S:city] - vis_sum
            ok_d = ~hid[S:city] & (n_hid > 0) & (n_vis > 0) & np.isfinite(res_d) & (res_d > 0) & (res_d < self.min_cases)
        for j in np.flatnonzero(ok_d).tolist():
            kids = self._kids_of_d[j]
            vis = kids[~hid[kids]]
            return int(vis[np.argmin(self._rank[vis])])
        if not hid[city]:
            kids = self._kids_of_city
            h = hid[kids]
            if h.any() and (~h).any():
                residual = self.num[city] - num0[kids[~h]].sum()
                if _small(residual, self.min_cases):
                    vis = kids[~h]
                    return int(vis[np.argmin(self._rank[vis])])
        return None


def protect_table_cells(num: npt.ArrayLike, den: npt.ArrayLike, district_of: Iterable[object],
                        source_flags: Iterable[bool], min_cases: int, min_den: int) -> _Table:
    """Run primary and secondary suppression on one table; return the table with reasons."""
    t = _Table(np.asarray(num, dtype=float), np.asarray(den, dtype=float), list(district_of), min_cases, min_den)
    t.primary(list(source_flags))
    t.secondary()
    return t
