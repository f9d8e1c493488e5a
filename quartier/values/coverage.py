"""Coverage of a delivery: how many Sozialräume delivered an indicator in a year, of how many expected.

A Sozialraum *delivered* an indicator in a year when the current values hold a row for it (a value
suppressed at source counts as delivered). The *expected* areas are those that delivered the indicator
in any of the ``LOOKBACK`` previous years; when none did (a new indicator), every Sozialraum. Areas that
delivered without being expected count as expected too, so ``geliefert <= gesamt`` always holds.

Coverage is given for the city (``stadtbezirk_id`` None) and for each Stadtbezirk (its expected and
delivered areas). A city or Stadtbezirk value exists only where its coverage is complete; otherwise the
pages, the PDF and the exports say :func:`text` instead of a value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quartier import db
from quartier.values import query

LOOKBACK = 3
COLUMNS = ["indikator_id", "jahr", "stadtbezirk_id", "gebiete_geliefert", "gebiete_gesamt"]


def coverage(con: db.Con, indicator_ids: list[str] | None = None, years: list[int] | None = None, *,
             source: str | None = None) -> pd.DataFrame:
    """Coverage per indicator, year and Stadtbezirk, plus one city row per indicator and year (``COLUMNS``).

    Counts of areas only (no values), so it needs no actor: the same for everybody who looks. ``source``:
    :func:`query.current_source` when the caller has asked it already.
    """
    src = source or query.current_source(con)  # values on today's areas (re-allocated from earlier Gebietsstände)
    df = _counts(con, src, indicator_ids, years)
    return pd.DataFrame(columns=COLUMNS) if df is None else df


def _counts(con: db.Con, src: str, indicator_ids: list[str] | None, years: list[int] | None) -> pd.DataFrame | None:
    """The rows of :func:`coverage` from two plain reads (delivered areas, areas with their Stadtbezirk), counted
    with integer keys: (indicator, year) pair * areas + area. None when nothing is expected."""
    cur = con.cursor()
    try:
        cur.execute("BEGIN TRANSACTION")  # both reads from one snapshot: a write in between cannot split them
        d = cur.execute(f"SELECT DISTINCT indikator_id, jahr, sozialraum_id FROM {src}"  # noqa: S608 - fixed name
                        " WHERE $1 IS NULL OR list_contains($1, indikator_id)",
                        [list(indicator_ids) if indicator_ids else None]).fetchnumpy()
        soz = cur.execute("SELECT id, bezirk_id FROM sozialraum").fetchall()
        cur.execute("COMMIT")
    finally:
        cur.close()  # closing a cursor with its transaction still open rolls it back
    yr = np.asarray(d["jahr"], dtype=np.int64)
    if not len(yr) or not soz:
        return None
    ic, iids = pd.factorize(np.asarray(d["indikator_id"], dtype=object), sort=True)
    s_codes, _ = pd.factorize(np.concatenate([np.asarray(d["sozialraum_id"], dtype=object),
                                              np.array([r[0] for r in soz], dtype=object)]))
    n_s = int(s_codes.max()) + 1
    sc, soz_sc = s_codes[:len(yr)], s_codes[len(yr):]
    y0 = int(yr.min()) - LOOKBACK
    n_y = int(yr.max()) - y0 + LOOKBACK + 1
    pair = ic.astype(np.int64) * n_y + (yr - y0)
    key = pair * n_s + sc
    iy = np.unique(pair if not years else pair[np.isin(yr, [int(y) for y in years])])
    prev = np.concatenate([(pair + lag) * n_s + sc for lag in range(1, LOOKBACK + 1)])
    prev = prev[np.isin(prev // n_s, iy)]
    fresh = iy[~np.isin(iy, prev // n_s)]
    u = np.unique(np.concatenate([prev, (fresh[:, None] * n_s + soz_sc[None, :]).ravel(), key[np.isin(pair, iy)]]))
    b_codes, bez = pd.factorize(np.array([r[1] for r in soz], dtype=object), sort=True)
    b_of = np.full(n_s, -2, dtype=np.int64)  # -2: no Sozialraum (left out), -1: Sozialraum without Stadtbezirk
    b_of[soz_sc] = b_codes
    u = u[b_of[u % n_s] > -2]
    if not len(u):
        return None
    got = np.isin(u, key).astype(np.int64)
    pairs, p_idx = np.unique(u // n_s, return_inverse=True)
    b = b_of[u % n_s]
    n_b = max(len(bez), 1)
    dk = p_idx[b >= 0] * n_b + b[b >= 0]
    size = len(pairs) * n_b
    d_tot = np.bincount(dk, minlength=size)
    d_got = np.bincount(dk, weights=got[b >= 0], minlength=size).astype(np.int64)
    d_rows = np.flatnonzero(d_tot)
    p_all = np.concatenate([np.arange(len(pairs)), d_rows // n_b])
    b_all = np.concatenate([np.full(len(pairs), -1), d_rows % n_b])
    order = np.lexsort((b_all, p_all))
    bez_obj = np.array([None, *bez], dtype=object)
    return pd.DataFrame({
        "indikator_id": iids[(pairs // n_y)[p_all[order]]],
        "jahr": (pairs % n_y + y0)[p_all[order]].astype(int),
        "stadtbezirk_id": pd.Series(bez_obj[b_all[order] + 1], dtype=object),
        "gebiete_geliefert": np.concatenate([np.bincount(p_idx, weights=got, minlength=len(pairs)).astype(np.int64),
                                             d_got[d_rows]])[order].astype(int),
        "gebiete_gesamt": np.concatenate([np.bincount(p_idx, minlength=len(pairs)), d_tot[d_rows]])[order].astype(int),
    })


def is_complete(delivered, total) -> bool:
    """True when every expected area delivered (unknown coverage counts as complete)."""
    try:
        return int(delivered) >= int(total)
    except (TypeError, ValueError):
        return True


def text(delivered: int, total: int) -> str:
    """'unvollständig: 5 von 23 Sozialräumen geliefert'."""
    return f"unvollständig: {int(delivered)} von {int(total)} Sozialräumen geliefert"


def short(delivered: int, total: int) -> str:
    """'5/23' (for tooltips)."""
    return f"{int(delivered)}/{int(total)}"


def city(con: db.Con, indicator_id: str, year: int) -> tuple[int, int] | None:
    """(delivered, total) of the city for one indicator and year; None when nothing was delivered."""
    c = coverage(con, [indicator_id], [int(year)])
    c = c[c["stadtbezirk_id"].isna()]
    if c.empty:
        return None
    return int(c["gebiete_geliefert"].iloc[0]), int(c["gebiete_gesamt"].iloc[0])


_CITY_KEY = "\x00stadt"


def _keys(district: pd.Series, is_city) -> list[str]:
    return [_CITY_KEY if c or d is None or d != d else str(d) for d, c in zip(district.tolist(), is_city)]


def attach(frame: pd.DataFrame, cov: pd.DataFrame, *, level_col: str, city_level: str, district_level: str,
           district_col: str, value_cols: list[str]) -> pd.DataFrame:
    """Add ``gebiete_geliefert``/``gebiete_gesamt`` to the city and Stadtbezirk rows of ``frame`` and empty
    ``value_cols`` where coverage is incomplete (other rows keep NA coverage)."""
    return _attach(frame, cov, level_col, city_level, district_level, district_col, value_cols)[0]


def _attach(frame: pd.DataFrame, cov: pd.DataFrame, level_col: str, city_level: str, district_level: str,
            district_col: str, value_cols: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """:func:`attach` and the mask of its incomplete rows (looked up per total row, no index built)."""
    out = frame.copy()
    n = len(out)
    deliv = np.zeros(n, dtype=np.int64)
    total = np.zeros(n, dtype=np.int64)
    missing = np.ones(n, dtype=bool)
    if n and not cov.empty:
        found = dict(zip(zip(cov["indikator_id"].tolist(), cov["jahr"].tolist(),
                             _keys(cov["stadtbezirk_id"], cov["stadtbezirk_id"].isna().to_numpy())),
                         zip(cov["gebiete_geliefert"].tolist(), cov["gebiete_gesamt"].tolist())))
        level = out[level_col].to_numpy()
        is_city = level == city_level
        rows = np.flatnonzero(is_city | (level == district_level))
        b = _keys(out[district_col].iloc[rows], is_city[rows])
        iids = out["indikator_id"].iloc[rows].astype(object).tolist()
        years = out["jahr"].iloc[rows].astype(int).tolist()
        for r, key in zip(rows.tolist(), zip(iids, years, b)):
            hit = found.get(key)
            if hit is not None:
                deliv[r], total[r] = hit
                missing[r] = False
    out["gebiete_geliefert"] = pd.arrays.IntegerArray(deliv, missing.copy())
    out["gebiete_gesamt"] = pd.arrays.IntegerArray(total, missing.copy())
    incomplete = ~missing & (deliv < total)
    if incomplete.any():
        for c in value_cols:
            if out[c].dtype == np.float64:  # the common case, without pandas' indexer for a list of columns
                vals = out[c].to_numpy(copy=True)
                vals[incomplete] = np.nan
                out[c] = vals
            else:
                out.loc[incomplete, c] = float("nan")
    return out, incomplete


TABLE_EXTRA = ["gebiete_geliefert", "gebiete_gesamt"]


def apply_to_table(con: db.Con, table: pd.DataFrame, indicator_ids: list[str] | None, years: list[int] | None, *,
                   city_level: str, district_level: str, source: str | None = None) -> pd.DataFrame:
    """The protected table with coverage on its city and Stadtbezirk rows: an incomplete total keeps no
    value, numerator or denominator, is not marked protected and says why (:func:`text`) in ``sperrgrund``."""
    cov = coverage(con, indicator_ids, years, source=source)
    out, bad = _attach(table, cov, "ebene", city_level, district_level, "stadtbezirk_id", ["wert", "zaehler", "nenner"])
    if bad.any():
        out.loc[bad, "gesperrt"] = False
        out.loc[bad, "sperrgrund"] = [text(d, t) for d, t in
                                      zip(out.loc[bad, "gebiete_geliefert"], out.loc[bad, "gebiete_gesamt"])]
    return out
