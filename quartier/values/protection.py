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

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from quartier import db, units
from quartier import settings as _registry
from quartier.access import SYSTEM, Actor
from quartier.values import coverage, query, suppression
from quartier.values.suppression import _R_CASES, _R_DEN, _R_NONE, _R_SOURCE, _R_UNKNOWN, _REASONS, _Table

SETTING_MIN_CASES = _registry.MIN_CASES
SETTING_MIN_DENOMINATOR = _registry.MIN_DENOMINATOR
MIN_CASES_DEFAULT = _registry.spec(SETTING_MIN_CASES).default
MIN_DENOMINATOR_DEFAULT = _registry.spec(SETTING_MIN_DENOMINATOR).default

LEVEL_AREA, LEVEL_DISTRICT, LEVEL_CITY = "Sozialraum", "Stadtbezirk", "Stadt"

# Internal reasons (shown to users who may see raw values); viewers only see PUBLIC_REASON.
REASON_SOURCE = suppression.REASON_SOURCE
REASON_CASES = suppression.REASON_CASES
REASON_DENOMINATOR = suppression.REASON_DENOMINATOR
REASON_SECONDARY = suppression.REASON_SECONDARY
REASON_UNKNOWN = suppression.REASON_UNKNOWN
PUBLIC_REASON = suppression.PUBLIC_REASON
_small = suppression._small
# one table's suppression (quartier/values/suppression.py), kept under its old name
protect_table_cells = suppression.protect_table_cells


def settings(con: db.Con) -> tuple[int, int]:
    """(minimum case count, minimum denominator) from the settings registry (``settings.read_int`` of both, one read)."""
    keys = (SETTING_MIN_CASES, SETTING_MIN_DENOMINATOR)
    cur = con.cursor()
    try:
        stored = dict(cur.execute("SELECT schluessel, wert FROM einstellung WHERE list_contains(?, schluessel)",
                                  [list(keys)]).fetchall())
    finally:
        cur.close()
    low, den = (_registry.clamp(k, stored.get(k, str(_registry.spec(k).default))) for k in keys)
    return low, den


_factor = units.rate_factor
_is_count_unit = units.is_count


def _numerators(t: pd.DataFrame, unit: str | None) -> tuple[npt.NDArray[np.float64], bool]:
    """Numerator per row (NaN = unknown) and whether the table is a count table."""
    wert = pd.to_numeric(t["wert"], errors="coerce").to_numpy(dtype=float)
    zaehler = pd.to_numeric(t["zaehler"], errors="coerce").to_numpy(dtype=float)
    nenner = pd.to_numeric(t["nenner"], errors="coerce").to_numpy(dtype=float)
    src = t["gesperrt"].fillna(False).astype(bool).to_numpy()
    return _numerators_arr(wert, zaehler, nenner, src, unit)


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


_TOTAL_COLUMNS = ("tab", "pos", "indikator_id", "jahr", "stadtbezirk_id", "num", "den", "code", "is_count", "factor")


def _protect_all(values: pd.DataFrame, min_cases: int, min_den: int, units: Mapping[str, str | None] | None
                 ) -> _Protected:
    """Primary and secondary suppression on every indicator/year table of ``values``.

    Numerators, Stadtbezirk and city sums and primary suppression are computed for all tables at once
    (the same numbers as :class:`_Table` computes for one table: sums in row order); the iterative
    secondary suppression runs table by table, only on tables that have a hidden cell after primary
    suppression (a few of them).
    """
    units = units or {}
    n = len(values)
    tab = values.groupby(["indikator_id", "jahr"], sort=False).ngroup().to_numpy(dtype=float)
    tab = np.where(np.isnan(tab), -1, tab).astype(np.int64)
    area_code = np.zeros(n, dtype=np.int8)
    n_tab = int(tab.max()) + 1 if n else 0
    if n_tab == 0:
        return _Protected(tab, area_code, {c: np.array([], dtype=object) for c in _TOTAL_COLUMNS})
    wert = pd.to_numeric(values["wert"], errors="coerce").to_numpy(dtype=float)
    zaehler = pd.to_numeric(values["zaehler"], errors="coerce").to_numpy(dtype=float)
    nenner = pd.to_numeric(values["nenner"], errors="coerce").to_numpy(dtype=float)
    src = values["gesperrt"].fillna(False).astype(bool).to_numpy()
    gcode, names = _district_codes(values)
    order = np.argsort(tab, kind="stable")
    bounds = np.searchsorted(tab[order], np.arange(n_tab + 1))
    rows = order[bounds[0]:]  # the rows of every table, table after table, each in its original order
    bounds = bounds - bounds[0]
    T = tab[rows]
    first = rows[bounds[:-1]]
    t_iid = values["indikator_id"].to_numpy(dtype=object)[first]
    t_year = values["jahr"].to_numpy()[first]
    t_unit = [units.get(i) for i in t_iid]
    w, z, d, s = wert[rows], zaehler[rows], nenner[rows], src[rows]
    no_den = np.bincount(T[~np.isnan(d)], minlength=n_tab) == 0
    no_z = np.bincount(T[~np.isnan(z)], minlength=n_tab) == 0
    kind = {u: (_is_count_unit(u), _factor(u)) for u in set(t_unit)}
    t_count = np.array([bool(kind[u][0] or (nd and nz and u is None)) for u, nd, nz in zip(t_unit, no_den, no_z)],
                       dtype=bool)
    t_factor = np.array([kind[u][1] for u in t_unit], dtype=float)
    cnt = t_count[T]
    with np.errstate(all="ignore"):
        derived = np.round(w * d / t_factor[T])
    num = np.where(s, np.nan, np.where(np.isnan(z), np.where(cnt, w, derived), z))
    den = np.where(cnt, np.nan, d)
    g = gcode[rows]
    tot = _sums(T, g, len(names), num, den, n_tab)
    acode = _primary(num, den, s, np.zeros(len(num), dtype=bool), min_cases, min_den)
    tcode = _primary(tot["num"], tot["den"], np.zeros(len(tot["num"]), dtype=bool), np.isnan(tot["num"]), min_cases,
                     min_den)
    starts = tot["starts"]
    need = (np.bincount(T[acode != 0], minlength=n_tab) > 0) | (np.bincount(tot["tab"][tcode != 0], minlength=n_tab) > 0)
    for k in np.flatnonzero(need).tolist():  # secondary suppression, as before table by table
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        gk = g[lo:hi]
        present = np.unique(gk[gk >= 0])
        local = np.where(gk >= 0, np.searchsorted(present, gk), -1)
        t = _Table(num[lo:hi], den[lo:hi], None, min_cases, min_den, grp=local, districts=[names[j] for j in present])
        t.primary(s[lo:hi])
        t.secondary()
        acode[lo:hi] = t.code[: t.S]
        tcode[starts[k]:starts[k] + t.B + 1] = t.code[t.S:]
    area_code[rows] = acode
    m = tot["m"]
    names_arr = np.empty(len(names), dtype=object)
    names_arr[:] = names
    dist = np.full(len(tcode), None, dtype=object)
    dist[~tot["is_city"]] = names_arr[tot["g"]]
    totals = {"tab": tot["tab"], "pos": tot["pos"], "indikator_id": np.repeat(t_iid, m),
              "jahr": np.repeat(np.concatenate([np.full(1, y) for y in t_year]), m), "stadtbezirk_id": dist,
              "num": tot["num"], "den": tot["den"], "code": tcode, "is_count": np.repeat(t_count, m),
              "factor": np.repeat(t_factor, m)}
    return _Protected(tab, area_code, totals)


def _district_codes(values: pd.DataFrame) -> tuple[npt.NDArray[np.int64], list[object]]:
    """Stadtbezirk code per row (-1: none) and the Stadtbezirke, code order = sorted by their text."""
    if "bezirk_id" not in values:
        return np.full(len(values), -1, dtype=np.int64), []
    b = values["bezirk_id"].astype(object)
    codes, uniq = pd.factorize(b.where(b.notna(), None))
    uniq = list(uniq)
    perm = np.empty(len(uniq), dtype=np.int64)
    srt = sorted(range(len(uniq)), key=lambda i: str(uniq[i]))
    perm[srt] = np.arange(len(uniq))
    gcode = np.where(codes >= 0, perm[np.maximum(codes, 0)] if len(uniq) else -1, -1)
    return gcode, [uniq[i] for i in srt]


def _primary(num: npt.NDArray[np.float64], den: npt.NDArray[np.float64], src: npt.NDArray[np.bool_],
             unknown: npt.NDArray[np.bool_], min_cases: int, min_den: int) -> npt.NDArray[np.int8]:
    """Primary reason code per cell (the rule of ``_Table.primary`` on cells of many tables)."""
    fin = np.isfinite(num)
    small = fin & (num > 0) & (num < min_cases)
    small_den = fin & np.isfinite(den) & (den > 0) & (den < min_den)
    code = np.select([src, unknown, small, small_den], [_R_SOURCE, _R_UNKNOWN, _R_CASES, _R_DEN], _R_NONE)
    return code.astype(np.int8)


def _sums(T: npt.NDArray[np.int64], g: npt.NDArray[np.int64], n_g: int, num: npt.NDArray[np.float64],
          den: npt.NDArray[np.float64], n_tab: int) -> dict[str, Any]:
    """The totals of every table (rows sorted by table ``T``; ``g`` Stadtbezirk code, -1 none): per table its
    Stadtbezirke present (in code order), then the city; a sum over a part without value is NaN. The same
    additions in the same order as ``_Table`` (bincount adds in row order; the city total per table by ``sum``)."""
    in_d = g >= 0
    key = T[in_d] * n_g + g[in_d]
    size = n_tab * n_g
    present = np.flatnonzero(np.bincount(key, minlength=size) > 0)
    d_tab = present // n_g if n_g else present  # table of each Stadtbezirk total
    n_dist = np.bincount(d_tab, minlength=n_tab)
    m = n_dist + 1
    starts = np.concatenate([[0], np.cumsum(m)[:-1]])
    tab_of = np.repeat(np.arange(n_tab), m)
    pos = np.arange(int(m.sum())) - np.repeat(starts, m)
    is_city = pos == n_dist[tab_of]
    out: dict[str, Any] = {"tab": tab_of, "pos": pos, "is_city": is_city, "m": m, "starts": starts,
                           "g": present % n_g if n_g else present}
    lone = np.bincount(T[~in_d], minlength=n_tab)  # areas directly below the city
    lone_end, d_end = np.cumsum(lone).tolist(), np.cumsum(n_dist).tolist()
    lone_n, d_n = lone.tolist(), n_dist.tolist()
    for name, arr in (("num", num), ("den", den)):
        vals = arr[in_d]
        fin = np.isfinite(vals)
        sums = np.bincount(key[fin], weights=vals[fin], minlength=size)
        bad = np.bincount(key[~fin], minlength=size) > 0
        dsum = np.where(bad, np.nan, sums)[present]
        lone_vals = arr[~in_d]
        unknown = (np.bincount(T[~in_d][~np.isfinite(lone_vals)], minlength=n_tab)
                   + np.bincount(d_tab[~np.isfinite(dsum)], minlength=n_tab))
        city = np.full(n_tab, np.nan)
        for k in np.flatnonzero((unknown == 0) & (lone + n_dist > 0)).tolist():
            kids = dsum[d_end[k] - d_n[k]:d_end[k]]
            if lone_n[k]:
                kids = np.concatenate([lone_vals[lone_end[k] - lone_n[k]:lone_end[k]], kids])
            city[k] = kids.sum()  # the parts in _Table's order, summed as there
        total = np.full(len(pos), np.nan)
        total[~is_city] = dsum
        total[is_city] = city
        out[name] = total
    return out


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
    hide = out["gesperrt"].to_numpy(dtype=bool) | ((res.area_code != 0) & (res.table >= 0))
    out["gesperrt"] = hide
    for c in ("wert", "zaehler"):
        if out[c].dtype == np.float64:  # numpy instead of pandas' indexer (same values)
            vals = out[c].to_numpy(copy=True)
            vals[hide] = np.nan
            out[c] = vals
        else:
            out.loc[hide, c] = np.nan
    reason = np.full(len(out), None, dtype=object)
    reason[hide] = PUBLIC_REASON
    out["sperrgrund"] = pd.Series(reason, index=out.index, dtype=object)
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
    source = query.current_source(con)  # asked once for the values and their coverage
    raw = query.current_raw(con, indicator_ids, years, actor=SYSTEM, source=source)
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
    for c in ("wert", "zaehler"):  # float columns (areas and totals alike)
        vals = out[c].to_numpy(dtype=float, copy=True)
        vals[blank] = np.nan
        out[c] = vals
    out["gesperrt"] = gesperrt
    out["sperrgrund"] = reason.tolist()
    # coverage: a total over an incomplete delivery is no total (values/coverage.py)
    out = coverage.apply_to_table(con, out, indicator_ids, years, city_level=LEVEL_CITY, district_level=LEVEL_DISTRICT,
                                  source=source)
    return out[TABLE_COLUMNS]
