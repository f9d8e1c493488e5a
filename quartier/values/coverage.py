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

import pandas as pd

from quartier import db
from quartier.values import query

LOOKBACK = 3
COLUMNS = ["indikator_id", "jahr", "stadtbezirk_id", "gebiete_geliefert", "gebiete_gesamt"]


def coverage(con: db.Con, indicator_ids: list[str] | None = None, years: list[int] | None = None) -> pd.DataFrame:
    """Coverage per indicator, year and Stadtbezirk, plus one city row per indicator and year (``COLUMNS``).

    Counts of areas only (no values), so it needs no actor: the same for everybody who looks.
    """
    src = query.current_source(con)  # values on today's areas (re-allocated from earlier Gebietsstände)
    params = [list(indicator_ids) if indicator_ids else None, [int(y) for y in years] if years else None, LOOKBACK]
    df = db.query_df(
        con,
        f"WITH d AS (SELECT DISTINCT indikator_id, jahr, sozialraum_id FROM {src}"  # noqa: S608 - current_source is a fixed name
        "  WHERE ($1 IS NULL OR list_contains($1, indikator_id))),"
        " iy AS (SELECT DISTINCT indikator_id, jahr FROM d WHERE $2 IS NULL OR list_contains($2, jahr)),"
        " prev AS (SELECT DISTINCT iy.indikator_id, iy.jahr, d.sozialraum_id FROM iy JOIN d"
        "  ON d.indikator_id = iy.indikator_id AND d.jahr BETWEEN iy.jahr - $3 AND iy.jahr - 1),"
        " fresh AS (SELECT indikator_id, jahr FROM iy EXCEPT SELECT DISTINCT indikator_id, jahr FROM prev),"
        " u AS (SELECT indikator_id, jahr, sozialraum_id FROM prev"
        "  UNION SELECT f.indikator_id, f.jahr, s.id FROM fresh f CROSS JOIN sozialraum s"
        "  UNION SELECT d.indikator_id, d.jahr, d.sozialraum_id FROM d JOIN iy USING (indikator_id, jahr))"
        " SELECT u.indikator_id, u.jahr, s.bezirk_id AS stadtbezirk_id, grouping(s.bezirk_id) AS g,"
        "  count(*) AS gebiete_gesamt, count(d.sozialraum_id) AS gebiete_geliefert"
        " FROM u JOIN sozialraum s ON s.id = u.sozialraum_id"
        " LEFT JOIN d ON d.indikator_id = u.indikator_id AND d.jahr = u.jahr AND d.sozialraum_id = u.sozialraum_id"
        " GROUP BY GROUPING SETS ((u.indikator_id, u.jahr, s.bezirk_id), (u.indikator_id, u.jahr))"
        " ORDER BY 1, 2, 4 DESC, 3",
        params,
    )
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)
    district = df["g"] == 0
    df = df[~district | df["stadtbezirk_id"].notna()].copy()  # areas without a Stadtbezirk: only in the city row
    df["stadtbezirk_id"] = df["stadtbezirk_id"].astype(object).where(df["g"] == 0, None)
    df["jahr"] = df["jahr"].astype(int)
    for c in ("gebiete_geliefert", "gebiete_gesamt"):
        df[c] = df[c].astype(int)
    return df[COLUMNS].reset_index(drop=True)


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
    out = frame.copy()
    out["gebiete_geliefert"] = pd.array([pd.NA] * len(out), dtype="Int64")
    out["gebiete_gesamt"] = pd.array([pd.NA] * len(out), dtype="Int64")
    if out.empty or cov.empty:
        return out
    key = cov.assign(_b=_keys(cov["stadtbezirk_id"], cov["stadtbezirk_id"].isna().to_numpy()))
    key = key.set_index(["indikator_id", "jahr", "_b"])
    level = out[level_col].to_numpy()
    is_tot = (level == city_level) | (level == district_level)
    b = _keys(out[district_col], level == city_level)
    idx = pd.MultiIndex.from_arrays([out["indikator_id"].astype(object), out["jahr"].astype(int), b])
    got = key.reindex(idx)
    deliv = pd.array(got["gebiete_geliefert"].to_numpy(), dtype="Int64")
    total = pd.array(got["gebiete_gesamt"].to_numpy(), dtype="Int64")
    out.loc[is_tot, "gebiete_geliefert"] = deliv[is_tot]
    out.loc[is_tot, "gebiete_gesamt"] = total[is_tot]
    incomplete = is_tot & (out["gebiete_geliefert"] < out["gebiete_gesamt"]).fillna(False).to_numpy(dtype=bool)
    if incomplete.any():
        out.loc[incomplete, value_cols] = float("nan")
    return out


TABLE_EXTRA = ["gebiete_geliefert", "gebiete_gesamt"]


def apply_to_table(con: db.Con, table: pd.DataFrame, indicator_ids: list[str] | None, years: list[int] | None, *,
                   city_level: str, district_level: str) -> pd.DataFrame:
    """The protected table with coverage on its city and Stadtbezirk rows: an incomplete total keeps no
    value, numerator or denominator, is not marked protected and says why (:func:`text`) in ``sperrgrund``."""
    cov = coverage(con, indicator_ids, years)
    out = attach(table, cov, level_col="ebene", city_level=city_level, district_level=district_level,
                 district_col="stadtbezirk_id", value_cols=["wert", "zaehler", "nenner"])
    bad = (out["gebiete_geliefert"] < out["gebiete_gesamt"]).fillna(False).to_numpy(dtype=bool)
    if bad.any():
        out.loc[bad, "gesperrt"] = False
        out.loc[bad, "sperrgrund"] = [text(d, t) for d, t in
                                      zip(out.loc[bad, "gebiete_geliefert"], out.loc[bad, "gebiete_gesamt"])]
    return out
