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

import numpy as np
import pandas as pd

MIN_CASES_DEFAULT = 3
MIN_DENOMINATOR_DEFAULT = 10
SETTING_MIN_CASES = "min_fallzahl"
SETTING_MIN_DENOMINATOR = "min_nenner"

LEVEL_AREA, LEVEL_DISTRICT, LEVEL_CITY = "Sozialraum", "Stadtbezirk", "Stadt"

# Internal reasons (shown to users who may see raw values); viewers only see PUBLIC_REASON.
REASON_SOURCE = "an der Quelle gesperrt"
REASON_CASES = "Fallzahl zu klein"
REASON_DENOMINATOR = "Nenner zu klein"
REASON_SECONDARY = "sekundär (Schutz vor Rückrechnung)"
REASON_UNKNOWN = "nicht berechenbar (Teilwerte fehlen)"
PUBLIC_REASON = "geschützt"


def settings(con) -> tuple[int, int]:
    """(minimum case count, minimum denominator) from the settings table."""
    from quartier import db

    def read(key: str, default: int) -> int:
        try:
            return max(0, int(db.get_setting(con, key, str(default))))
        except (TypeError, ValueError):
            return default

    return read(SETTING_MIN_CASES, MIN_CASES_DEFAULT), read(SETTING_MIN_DENOMINATOR, MIN_DENOMINATOR_DEFAULT)


def _factor(unit: str | None) -> float:
    from quartier.indicators import rate_factor

    return rate_factor(unit)


def _is_count_unit(unit: str | None) -> bool:
    return (unit or "").strip().lower() in ("anzahl", "personen", "fälle", "faelle")


def _numerators(t: pd.DataFrame, unit: str | None) -> tuple[np.ndarray, bool]:
    """Numerator per row (NaN = unknown) and whether the table is a count table."""
    wert = pd.to_numeric(t["wert"], errors="coerce").to_numpy(dtype=float)
    zaehler = pd.to_numeric(t["zaehler"], errors="coerce").to_numpy(dtype=float)
    nenner = pd.to_numeric(t["nenner"], errors="coerce").to_numpy(dtype=float)
    is_count = _is_count_unit(unit) or (np.isnan(nenner).all() and np.isnan(zaehler).all() and unit is None)
    if is_count:
        num = np.where(np.isnan(zaehler), wert, zaehler)
    else:
        derived = np.round(wert * nenner / _factor(unit))
        num = np.where(np.isnan(zaehler), derived, zaehler)
    src = t["gesperrt"].fillna(False).astype(bool).to_numpy()
    num = np.where(src, np.nan, num)
    return num, is_count


def _small(x: float, limit: int) -> bool:
    return bool(np.isfinite(x) and 0 < x < limit)


class _Table:
    """Cells of one table: areas 0..S-1, districts S..S+B-1, city S+B."""

    def __init__(self, num, den, district_of, min_cases: int, min_den: int):
        self.S = len(num)
        self.districts = sorted({d for d in district_of if d is not None}, key=str)
        self.B = len(self.districts)
        self.city = self.S + self.B
        n = self.S + self.B + 1
        pos = {d: self.S + j for j, d in enumerate(self.districts)}
        self.parent = np.full(n, -1)
        self.parent[: self.S] = [pos[d] if d is not None else self.city for d in district_of]
        self.parent[self.S: self.city] = self.city
        self.children: dict[int, list[int]] = {a: [] for a in range(self.S, n)}
        for i, p in enumerate(self.parent[: self.city].tolist()):
            self.children[p].append(i)
        self.num = np.full(n, np.nan)
        self.den = np.full(n, np.nan)
        self.num[: self.S] = num
        self.den[: self.S] = den
        for a in list(range(self.S, self.S + self.B)) + [self.city]:  # districts before the city
            kids = self.children[a]
            vals = self.num[kids]
            self.num[a] = vals.sum() if len(kids) and np.isfinite(vals).all() else np.nan
            dens = self.den[kids]
            self.den[a] = dens.sum() if len(kids) and np.isfinite(dens).all() else np.nan
        self.reason: list[str | None] = [None] * n
        self.min_cases, self.min_den = min_cases, min_den

    def primary(self, source_flags) -> None:
        src = np.zeros(len(self.num), dtype=bool)
        src[: self.S] = np.asarray(source_flags, dtype=bool)
        unknown = np.isnan(self.num)
        unknown[: self.S] = False
        small = np.isfinite(self.num) & (self.num > 0) & (self.num < self.min_cases)
        small_den = np.isfinite(self.num) & np.isfinite(self.den) & (self.den > 0) & (self.den < self.min_den)
        for i in np.flatnonzero(src | unknown | small | small_den).tolist():
            if src[i]:
                self.reason[i] = REASON_SOURCE
            elif unknown[i]:
                self.reason[i] = REASON_UNKNOWN
            elif small[i]:
                self.reason[i] = REASON_CASES
            else:
                self.reason[i] = REASON_DENOMINATOR

    @property
    def hidden(self) -> list[int]:
        return [i for i, r in enumerate(self.reason) if r is not None]

    def _matrix(self, hidden: list[int]) -> np.ndarray:
        col = {c: k for k, c in enumerate(hidden)}
        rows = []
        for a, kids in self.children.items():
            if not kids:
                continue
            row = np.zeros(len(hidden))
            if a in col:
                row[col[a]] += 1
            for c in kids:
                if c in col:
                    row[col[c]] -= 1
            if row.any():
                rows.append(row)
        return np.array(rows) if rows else np.zeros((0, len(hidden)))

    def recoverable(self, hidden: list[int] | None = None) -> list[int]:
        """Hidden cells whose value follows from the visible cells and the sum relations."""
        hidden = self.hidden if hidden is None else hidden
        if not hidden:
            return []
        a = self._matrix(hidden)
        if a.shape[0] == 0:
            return []
        rank = np.linalg.matrix_rank(a)
        out = []
        for k, cell in enumerate(hidden):
            e = np.zeros(len(hidden))
            e[k] = 1
            if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
                out.append(cell)
        return out

    def _candidates(self, cell: int, rest: bool = False) -> list[int]:
        """Visible cells that could protect ``cell``: siblings (smallest positive first) and the parent;
        with ``rest`` all other visible cells (only needed when those do not help)."""
        hidden = set(self.hidden)
        p = int(self.parent[cell])

        def key(i):
            v = self.num[i]
            return (0 if (np.isfinite(v) and v > 0) else 1, v if np.isfinite(v) else np.inf, i)

        if rest:
            near = set(self.children.get(p, [])) | {p, cell}
            return sorted((i for i in range(len(self.num)) if i not in hidden and i not in near), key=key)
        sib = sorted((i for i in self.children.get(p, []) if i != cell and i not in hidden), key=key)
        return sib + ([p] if p >= 0 and p not in hidden else [])

    def secondary(self) -> None:
        for _ in range(len(self.num) + 1):
            rec = self.recoverable()
            target = None
            if rec:
                cell = rec[0]
                near = self._candidates(cell)
                target = next((c for c in near if cell not in self.recoverable(self.hidden + [c])), None)
                if target is None:
                    far = self._candidates(cell, rest=True)
                    target = next((c for c in far[:200] if cell not in self.recoverable(self.hidden + [c])), None)
                    if target is None:
                        target = (near or far or [None])[0]
            else:
                target = self._small_residual()
            if target is None:
                return
            self.reason[target] = REASON_SECONDARY

    def _small_residual(self) -> int | None:
        """A visible total whose hidden parts sum to a small number: return a part to hide as well."""
        hidden = set(self.hidden)
        for a, kids in self.children.items():
            if a in hidden or not kids:
                continue
            hid = [c for c in kids if c in hidden]
            if not hid:
                continue
            visible = [c for c in kids if c not in hidden]
            residual = self.num[a] - np.nansum(self.num[visible]) if visible else self.num[a]
            if _small(residual, self.min_cases):
                cands = [c for c in self._candidates(hid[0]) if c in visible]
                if cands:
                    return cands[0]
        return None


def protect_table_cells(num, den, district_of, source_flags, min_cases: int, min_den: int) -> _Table:
    """Run primary and secondary suppression on one table; return the table with reasons."""
    t = _Table(np.asarray(num, dtype=float), np.asarray(den, dtype=float), list(district_of), min_cases, min_den)
    t.primary(list(source_flags))
    t.secondary()
    return t


def _tables(values: pd.DataFrame, min_cases: int, min_den: int, units: dict | None):
    """Yield (indicator, year, row index, _Table, is_count) for every indicator/year in ``values``."""
    units = units or {}
    for (iid, year), t in values.groupby(["indikator_id", "jahr"], sort=False):
        num, is_count = _numerators(t, units.get(iid))
        den = np.full(len(t), np.nan) if is_count else pd.to_numeric(t["nenner"], errors="coerce").to_numpy(dtype=float)
        if "bezirk_id" in t:
            b = t["bezirk_id"].astype(object)
            districts = b.where(b.notna(), None).tolist()
        else:
            districts = [None] * len(t)
        src = t["gesperrt"].fillna(False).astype(bool).to_numpy()
        yield iid, year, t.index, protect_table_cells(num, den, districts, src, min_cases, min_den), is_count


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
                   units: dict | None = None) -> pd.DataFrame:
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
    for _iid, _year, idx, t, _is_count in _tables(out, min_cases, min_denominator, units):
        hide = [r is not None for r in t.reason[: t.S]]
        rows = idx[np.array(hide, dtype=bool)]
        out.loc[rows, "gesperrt"] = True
        out.loc[rows, "sperrgrund"] = PUBLIC_REASON
    out.loc[out["gesperrt"], ["wert", "zaehler"]] = np.nan
    out.loc[out["gesperrt"], "sperrgrund"] = PUBLIC_REASON
    return out


def protect(con, values: pd.DataFrame) -> pd.DataFrame:
    """``protect_values`` with the database's settings and indicator units."""
    min_cases, min_den = settings(con)
    return protect_values(values, min_cases, min_den, units=_units(con))


def _units(con) -> dict:
    from quartier import db

    return dict(db.query_df(con, "SELECT id, einheit FROM indikator").itertuples(index=False, name=None))


TABLE_COLUMNS = ["ebene", "indikator_id", "jahr", "stadtbezirk_id", "stadtbezirk", "sozialraum_id", "sozialraum",
                 "wert", "zaehler", "nenner", "gesperrt", "sperrgrund"]


def protected_table(con, indicator_ids: list[str] | None = None, years: list[int] | None = None,
                    actor=None) -> pd.DataFrame:
    """Sozialraum rows plus, as their own rows, Stadtbezirk and city totals, protected for ``actor``.

    Columns: ``TABLE_COLUMNS``. Totals come from summed numerators and denominators of all areas
    (rates) or summed counts. For an actor without the right to raw values (or ``actor=None``: the
    public view) every protected cell has ``gesperrt`` True, empty ``wert``/``zaehler`` and the reason
    "geschützt". Users who may see raw values get every value; ``gesperrt`` then marks only values
    suppressed at source or not computable, and ``sperrgrund`` says why viewers see a cell protected.
    """
    from quartier import indicators

    raw = indicators.current_values(con, indicator_ids, years)
    raw_view = actor is not None and getattr(actor, "can_see_raw", False)
    min_cases, min_den = settings(con)
    units = _units(con)
    bez_names = dict(indicators.bezirke(con)[["id", "name"]].itertuples(index=False, name=None))
    records = []
    for iid, year, idx, t, is_count in _tables(raw, min_cases, min_den, units):
        f = _factor(units.get(iid))
        rows = raw.loc[idx]
        for k, r in enumerate(rows.to_dict("records")):
            rec = {"ebene": LEVEL_AREA, "indikator_id": iid, "jahr": int(year), "stadtbezirk_id": r.get("bezirk_id"),
                   "stadtbezirk": r.get("bezirk"), "sozialraum_id": r["sozialraum_id"], "sozialraum": r.get("sozialraum"),
                   "wert": r["wert"], "zaehler": r["zaehler"], "nenner": r["nenner"]}
            records.append(_finish(rec, t.reason[k], raw_view))
        for j, d in enumerate(t.districts + [None]):
            cell = t.S + j
            agg = t.num[cell]
            if is_count:
                wert, zaehler, nenner = agg, np.nan, np.nan
            else:
                den = t.den[cell]
                wert = round(agg / den * f, 2) if np.isfinite(agg) and np.isfinite(den) and den > 0 else np.nan
                zaehler, nenner = agg, den
            level = LEVEL_CITY if d is None else LEVEL_DISTRICT
            rec = {"ebene": level, "indikator_id": iid, "jahr": int(year), "stadtbezirk_id": d,
                   "stadtbezirk": bez_names.get(d) if d is not None else None, "sozialraum_id": None,
                   "sozialraum": None, "wert": wert, "zaehler": zaehler, "nenner": nenner}
            records.append(_finish(rec, t.reason[cell], raw_view))
    out = pd.DataFrame.from_records(records, columns=TABLE_COLUMNS)
    out["gesperrt"] = out["gesperrt"].astype(bool)
    return out


def _finish(rec: dict, reason: str | None, raw_view: bool) -> dict:
    if raw_view:
        rec["gesperrt"] = reason == REASON_SOURCE
        rec["sperrgrund"] = reason
        if reason in (REASON_SOURCE, REASON_UNKNOWN):
            rec["wert"] = rec["zaehler"] = np.nan
        return rec
    if reason is None:
        rec["gesperrt"] = False
        rec["sperrgrund"] = None
    elif reason == REASON_UNKNOWN:
        rec["gesperrt"] = False
        rec["sperrgrund"] = REASON_UNKNOWN
        rec["wert"] = rec["zaehler"] = np.nan
    else:
        rec["gesperrt"] = True
        rec["sperrgrund"] = PUBLIC_REASON
        rec["wert"] = rec["zaehler"] = np.nan
    return rec
