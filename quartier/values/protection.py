"""Small-number protection for users without the right to see raw values.

A *table* is one indicator in one year: the Sozialraum cells, one total per Stadtbezirk and the city
total. Published rates always come with their denominator, so a visible rate reveals its numerator;
all protection therefore works on numerators (for count indicators on the counts themselves).

Primary suppression
    a Sozialraum value is protected when the source suppressed it, when its numerator (or count) is
    below the minimum case count (setting ``min_fallzahl``, default 3; 0 is shown, as in the
    statistics of the Bundesagentur für Arbeit) or when its denominator is below the minimum
    denominator (setting ``min_nenner``, default 10: a rate on fewer than ten people describes
    individuals). The same rules apply to the district and city totals.

Secondary suppression
    a protected value must not be recoverable from the published totals. The cells of a table and
    their totals form a linear system (each total is the sum of its parts); a hidden cell is
    recoverable exactly when its unit vector lies in the row space of the system restricted to the
    hidden cells. While some hidden cell is recoverable, one more cell is hidden: the sibling with the
    smallest positive numerator (the "next-smallest" area of the same Stadtbezirk, or the
    next-smallest Stadtbezirk), else the total above it. Additionally the sum of the hidden parts of a
    visible total (total minus visible parts) must not itself be a small number, otherwise one more
    part is hidden. Totals whose parts are unknown (suppressed at source, missing numerator) are not
    computable and stay empty.

For viewers every hidden cell carries the same reason ("geschützt"): telling primary from secondary
suppression would reveal which cells are small.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from quartier import db, units
from quartier import settings as _registry
from quartier.access import SYSTEM, Actor
from quartier.values import coverage, query

SETTING_MIN_CASES = _registry.MIN_CASES
SETTING_MIN_DENOMINATOR = _registry.MIN_DENOMINATOR
MIN_CASES_DEFAULT = _registry.spec(SETTING_MIN_CASES).default
MIN_DENOMINATOR_DEFAULT = _registry.spec(SETTING_MIN_DENOMINATOR).default

LEVEL_AREA, LEVEL_DISTRICT, LEVEL_CITY = "Sozialraum", "Stadtbezirk", "Stadt"

# Internal reasons (shown to users who may see raw values); viewers only see PUBLIC_REASON.
REASON_SOURCE = "an der Quelle gesperrt"
REASON_CASES = "Fallzahl zu klein"
REASON_DENOMINATOR = "Nenner zu klein"
REASON_SECONDARY = "sekundär (Schutz vor Rückrechnung)"
REASON_UNKNOWN = "nicht berechenbar (Teilwerte fehlen)"
PUBLIC_REASON = "geschützt"


def settings(con: db.Con) -> tuple[int, int]:
    """(minimum case count, minimum denominator) from the settings registry."""
    from quartier import settings as registry

    return registry.read_int(con, SETTING_MIN_CASES), registry.read_int(con, SETTING_MIN_DENOMINATOR)


_factor = units.rate_factor
_is_count_unit = units.is_count


def _numerators(t: pd.DataFrame, unit: str | None) -> tuple[npt.NDArray[np.float64], bool]:
    """Numerator per row (NaN = unknown) and whether the table is a count table."""
    wert = pd.to_numeric(t["wert"], errors="coerce").to_numpy(dtype=float)
    zaehler = pd.to_numeric(t["zaehler"], errors="coerce").to_numpy(dtype=float)
    nenner = pd.to_numeric(t["nenner"], errors="coerce").to_numpy(dtype=float)
    src = t["gesperrt"].fillna(False).astype(bool).to_numpy()
    return _numerators_arr(wert, zaehler, nenner, src, unit)


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


def _numerators_arr(wert: npt.NDArray[np.float64], zaehler: npt.NDArray[np.float64], nenner: npt.NDArray[np.float64],
                    src: npt.NDArray[np.bool_], unit: str | None) -> tuple[npt.NDArray[np.float64], bool]:
    """``_numerators`` on plain arrays of one table."""
    is_count = bool(_is_count_unit(unit) or (np.isnan(nenner).all() and np.isnan(zaehler).all() and unit is None))
    if is_count:
        num = np.where(np.isnan(zaehler), wert, zaehler)
    else:
        derived = np.round(wert * nenner / _factor(unit))
        num = np.where(np.isnan(zaehler), derived, zaehler)
    return np.where(src, np.nan, num), is_count


class _Protected:
    """Result of protecting every indicator/year table of a frame of Sozialraum values.

    ``table``: table number per row of ``values`` (-1: no indicator/year), numbered in order of first
    appearance; ``area_code``: reason code per row; ``totals``: one row per Stadtbezirk total and city
    total of each table (columns ``tab, pos, indikator_id, jahr, stadtbezirk_id, num, den, code,
    is_count, factor``).
    """

    def __init__(self, table: npt.NDArray[np.int64], area_code: npt.NDArray[np.int8],
                 totals: dict[str, npt.NDArray[Any]]) -> None:
        self.table, self.area_code, self.totals = table, area_code, totals


def _protect_all(values: pd.DataFrame, min_cases: int, min_den: int, units: Mapping[str, str | None] | None
                 ) -> _Protected:
    """Primary and secondary suppression on every indicator/year table of ``values``.

    The numerators, district codes and the grouping are computed once for the whole frame; each table
    then costs a few numpy operations, and the iterative secondary suppression runs only on tables
    that have a hidden cell after primary suppression.
    """
    units = units or {}
    n = len(values)
    tab = values.groupby(["indikator_id", "jahr"], sort=False).ngroup().to_numpy(dtype=float)
    tab = np.where(np.isnan(tab), -1, tab).astype(np.int64)
    area_code = np.zeros(n, dtype=np.int8)
    n_tab = int(tab.max()) + 1 if n else 0
    wert = pd.to_numeric(values["wert"], errors="coerce").to_numpy(dtype=float)
    zaehler = pd.to_numeric(values["zaehler"], errors="coerce").to_numpy(dtype=float)
    nenner = pd.to_numeric(values["nenner"], errors="coerce").to_numpy(dtype=float)
    src = values["gesperrt"].fillna(False).astype(bool).to_numpy()
    if "bezirk_id" in values:
        b = values["bezirk_id"].astype(object)
        codes, uniq = pd.factorize(b.where(b.notna(), None))
        uniq = list(uniq)
        perm = np.empty(len(uniq), dtype=np.int64)
        srt = sorted(range(len(uniq)), key=lambda i: str(uniq[i]))
        perm[srt] = np.arange(len(uniq))
        gcode = np.where(codes >= 0, perm[np.maximum(codes, 0)] if len(uniq) else -1, -1)
        names = [uniq[i] for i in srt]
    else:
        gcode = np.full(n, -1, dtype=np.int64)
        names = []
    iids = values["indikator_id"].to_numpy(dtype=object)
    years = values["jahr"].to_numpy()
    order = np.argsort(tab, kind="stable")
    bounds = np.searchsorted(tab[order], np.arange(n_tab + 1))
    cols: dict[str, list[Any]] = {k: [] for k in ("tab", "pos", "indikator_id", "jahr", "stadtbezirk_id", "num", "den",
                                                  "code", "is_count", "factor")}
    for k in range(n_tab):
        rows = order[bounds[k]:bounds[k + 1]]
        iid, year = iids[rows[0]], years[rows[0]]
        unit = units.get(iid)
        num, is_count = _numerators_arr(wert[rows], zaehler[rows], nenner[rows], src[rows], unit)
        den = np.full(len(rows), np.nan) if is_count else nenner[rows]
        g = gcode[rows]
        present = np.unique(g[g >= 0])
        local = np.where(g >= 0, np.searchsorted(present, g), -1)
        t = _Table(num, den, None, min_cases, min_den, grp=local, districts=[names[j] for j in present])
        t.primary(src[rows])
        t.secondary()
        area_code[rows] = t.code[: t.S]
        m = t.B + 1
        cols["tab"].append(np.full(m, k))
        cols["pos"].append(np.arange(m))
        cols["indikator_id"] += [iid] * m
        cols["jahr"].append(np.full(m, year))
        cols["stadtbezirk_id"] += t.districts + [None]
        cols["num"].append(t.num[t.S:])
        cols["den"].append(t.den[t.S:])
        cols["code"].append(t.code[t.S:])
        cols["is_count"].append(np.full(m, is_count))
        cols["factor"].append(np.full(m, _factor(unit)))
    totals = {c: (np.concatenate(v) if v and isinstance(v[0], np.ndarray) else np.array(v, dtype=object))
              for c, v in cols.items()}
    return _Protected(tab, area_code, totals)


def primary_mask(values: pd.DataFrame, min_cases: int, min_denominator: int = MIN_DENOMINATOR_DEFAULT) -> pd.Series:
    """True where a Sozialraum value must be suppressed on its own (source, few cases, small denominator)."""
    num = pd.to_numeric(values["zaehler"], errors="coerce")
    den = pd.to_numeric(values["nenner"], errors="coerce")
    count_like = num.isna() & den.isna()
    num = num.where(~count_like, pd.to_numeric(values["wert"], errors="coerce"))
    small_num = num.notna() & (num < min_cases) & (num > 0)
    small_den = den.notna() & (den < min_denominator) & (den > 0)
    return values["gesperrt"].fillna(False).astype(bool) | small_num | small_den


def protect_values(values: pd.DataFrame, min_cases: int, min_denominator: int = MIN_DENOMINATOR_DEFAULT,
                   units: Mapping[str, str | None] | None = None) -> pd.DataFrame:
    """Sozialraum rows with primary and secondary suppression applied.

    Protected rows get ``gesperrt`` True, empty ``wert`` and ``zaehler`` and ``sperrgrund`` "geschützt".
    ``values`` must hold every Sozialraum of each indicator/year (as ``current_values`` returns them)
    and a ``bezirk_id`` column; otherwise secondary suppression works on the city level only.
    """
    out = values.copy()
    out["gesperrt"] = out["gesperrt"].fillna(False).astype(bool)
    out["sperrgrund"] = None
    if out.empty:
        return out
    res = _protect_all(out, min_cases, min_denominator, units)
    hide = (res.area_code != 0) & (res.table >= 0)
    out.loc[hide, "gesperrt"] = True
    out.loc[out["gesperrt"], ["wert", "zaehler"]] = np.nan
    out.loc[out["gesperrt"], "sperrgrund"] = PUBLIC_REASON
    return out


def protect(con: db.Con, values: pd.DataFrame) -> pd.DataFrame:
    """``protect_values`` with the database's settings and indicator units."""
    min_cases, min_den = settings(con)
    return protect_values(values, min_cases, min_den, units=_units(con))


def _units(con: db.Con) -> dict[str, str | None]:
    return dict(db.query_df(con, "SELECT id, einheit FROM indikator").itertuples(index=False, name=None))


TABLE_COLUMNS = ["ebene", "indikator_id", "jahr", "stadtbezirk_id", "stadtbezirk", "sozialraum_id", "sozialraum",
                 "wert", "zaehler", "nenner", "gesperrt", "sperrgrund", "gebiete_geliefert", "gebiete_gesamt"]


def protected_table(con: db.Con, indicator_ids: list[str] | None = None, years: list[int] | None = None, *,
                    actor: Actor) -> pd.DataFrame:
    """Sozialraum rows plus, as their own rows, Stadtbezirk and city totals, protected for ``actor``.

    Columns: ``TABLE_COLUMNS``. Totals come from summed numerators and denominators of all areas
    (rates) or summed counts. For an actor without the right to raw values (``access.PUBLIC``: the
    public view) every protected cell has ``gesperrt`` True, empty ``wert``/``zaehler`` and the reason
    "geschützt". City and Stadtbezirk rows carry ``gebiete_geliefert``/``gebiete_gesamt``
    (:mod:`quartier.values.coverage`) and stay empty when coverage is incomplete. Users who may see raw
    values get every value; ``gesperrt`` then marks only values
    suppressed at source or not computable, and ``sperrgrund`` says why viewers see a cell protected.
    """
    raw = query.current_raw(con, indicator_ids, years, actor=SYSTEM)
    raw_view = actor.can_see_raw
    min_cases, min_den = settings(con)
    units = _units(con)
    bez_names = dict(db.query_df(con, "SELECT id, name FROM stadtbezirk").itertuples(index=False, name=None))
    res = _protect_all(raw, min_cases, min_den, units)
    keep = res.table >= 0
    r = raw[keep].reset_index(drop=True)

    def col(name: str) -> pd.Series:
        return r[name] if name in r else pd.Series([None] * len(r), dtype=object)

    areas = pd.DataFrame({
        "ebene": LEVEL_AREA, "indikator_id": r["indikator_id"], "jahr": r["jahr"].astype(np.int64),
        "stadtbezirk_id": col("bezirk_id"), "stadtbezirk": col("bezirk"), "sozialraum_id": r["sozialraum_id"],
        "sozialraum": col("sozialraum"), "wert": pd.to_numeric(r["wert"], errors="coerce").astype(float),
        "zaehler": pd.to_numeric(r["zaehler"], errors="coerce").astype(float),
        "nenner": pd.to_numeric(r["nenner"], errors="coerce").astype(float),
    }, index=r.index)
    tt = res.totals
    m = len(tt["tab"])
    agg, den, is_count = tt["num"].astype(float), tt["den"].astype(float), tt["is_count"].astype(bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(np.isfinite(agg) & np.isfinite(den) & (den > 0), np.round(agg / den * tt["factor"].astype(float), 2), np.nan)
    dist = tt["stadtbezirk_id"].tolist()
    is_city = np.array([d is None for d in dist], dtype=bool)
    totals = pd.DataFrame({
        "ebene": np.where(is_city, LEVEL_CITY, LEVEL_DISTRICT).tolist(), "indikator_id": tt["indikator_id"].tolist(),
        "jahr": tt["jahr"].astype(np.int64), "stadtbezirk_id": dist,
        "stadtbezirk": [bez_names.get(d) if d is not None else None for d in dist],
        "sozialraum_id": [None] * m, "sozialraum": [None] * m,
        "wert": np.where(is_count, agg, rate), "zaehler": np.where(is_count, np.nan, agg),
        "nenner": np.where(is_count, np.nan, den),
    })
    for c in ("ebene", "indikator_id", "stadtbezirk_id", "stadtbezirk", "sozialraum_id", "sozialraum"):
        if isinstance(areas[c].dtype, pd.StringDtype) and totals[c].dtype != areas[c].dtype:
            totals[c] = totals[c].astype(areas[c].dtype)
    # the order of the former record loop: per table its Sozialräume, then Stadtbezirke, then the city
    tab = np.concatenate([res.table[keep], tt["tab"].astype(np.int64)])
    part = np.concatenate([np.zeros(len(r), dtype=np.int64), np.ones(m, dtype=np.int64)])
    pos = np.concatenate([np.arange(len(r)), tt["pos"].astype(np.int64)])
    order = np.lexsort((pos, part, tab))
    code = np.concatenate([res.area_code[keep], tt["code"].astype(np.int8)])[order]
    out = pd.concat([areas, totals], ignore_index=True).take(order).reset_index(drop=True)
    blank = np.isin(code, [_R_SOURCE, _R_UNKNOWN]) if raw_view else code != _R_NONE
    if raw_view:
        gesperrt = code == _R_SOURCE
        reason = _REASONS[code]
    else:
        gesperrt = (code != _R_NONE) & (code != _R_UNKNOWN)
        reason = np.full(len(code), None, dtype=object)
        reason[code == _R_UNKNOWN] = REASON_UNKNOWN
        reason[gesperrt] = PUBLIC_REASON
    out.loc[blank, ["wert", "zaehler"]] = np.nan
    out["gesperrt"] = gesperrt
    out["sperrgrund"] = reason.tolist()
    # coverage: a total over an incomplete delivery is no total (values/coverage.py)
    out = coverage.apply_to_table(con, out, indicator_ids, years, city_level=LEVEL_CITY, district_level=LEVEL_DISTRICT)
    return out[TABLE_COLUMNS]
