"""The one SQL read of the current values (newest active Lieferung per indicator, area and year).

Below both ``indicators`` (which protects for viewers) and ``protection`` (which needs the raw values to
decide what to hide), so neither imports the other. Only actors allowed raw values may call it.
"""

from __future__ import annotations

import pandas as pd

from quartier import db
from quartier.access import Actor, PermissionDenied
from quartier.values import realloc


def current_source(con: db.Con) -> str:
    """The relation holding the current values on today's areas (a name, or a parenthesised query).

    ``messwert_heute`` (migration 018): the values delivered in today's Gebietsstand plus those of earlier ones
    re-allocated to today's areas, stored by :mod:`quartier.values.realloc` and brought up to date here if
    anything changed. While no active Lieferung belongs to an earlier Gebietsstand it equals
    ``messwert_aktuell``, which is then read directly (no extra cost for cities that never changed their areas).
    """
    cur = con.cursor()
    try:
        if not realloc.needed(cur):
            return "messwert_aktuell"
    finally:
        cur.close()
    return "messwert_heute" if realloc.ensure(con) else realloc.COMPUTED


def _years_sql(con: db.Con, select: str, indicator_ids: list[str] | None, tail: str) -> tuple[str, list[object]]:
    src = current_source(con)
    sql = f"SELECT {select} FROM {src} v"  # noqa: S608 - fixed relation names and columns
    params: list[object] = []
    if indicator_ids is not None:
        sql += " WHERE list_contains(?, v.indikator_id)"
        params.append(list(indicator_ids))
    return sql + tail, params


def years(con: db.Con, indicator_ids: list[str] | None = None) -> list[int]:
    """The years with current values on today's areas (of ``indicator_ids``, else of any indicator), ascending.
    No figures: for year lists and defaults of every page."""
    sql, params = _years_sql(con, "DISTINCT v.jahr", indicator_ids, " ORDER BY 1")
    return [int(r[0]) for r in con.cursor().execute(sql, params).fetchall()]


def year_span(con: db.Con, indicator_ids: list[str] | None = None) -> dict[str, tuple[int, int]]:
    """First and last year with current values on today's areas per indicator."""
    sql, params = _years_sql(con, "v.indikator_id, min(v.jahr), max(v.jahr)", indicator_ids, " GROUP BY 1")
    return {str(r[0]): (int(r[1]), int(r[2])) for r in con.cursor().execute(sql, params).fetchall()}


def current_raw(con: db.Con, indicator_ids: list[str] | None, years: list[int] | None, *, actor: Actor,
                source: str | None = None) -> pd.DataFrame:
    """Raw current values on today's areas with area and Lieferung columns; raises PermissionDenied for viewers.

    ``umgerechnet`` names the method for values re-allocated from an earlier Gebietsstand (else empty);
    ``umrechnung_grund`` says why such a value stayed empty. ``source``: :func:`current_source` when the caller
    has asked it already (one fingerprint query instead of two)."""
    if not actor.can_see_raw:
        raise PermissionDenied(f"{actor.name} darf Rohwerte unterhalb der Mindestfallzahl nicht sehen.")
    where: list[str] = []
    params: list[object] = []
    if indicator_ids:
        # list_contains lets DuckDB push the filter through the window of messwert_aktuell
        # (IN (SELECT unnest(?)) does not: 15x slower at 10,000 areas, see bench/RESULTS.md).
        where.append("list_contains(?, v.indikator_id)")
        params.append(list(indicator_ids))
    if years:
        where.append("list_contains(?, v.jahr)")
        params.append([int(y) for y in years])
    source = source or current_source(con)
    extra = ("v.umgerechnet, v.umrechnung_grund" if source != "messwert_aktuell"
             else "NULL::VARCHAR AS umgerechnet, NULL::VARCHAR AS umrechnung_grund")
    sql = (
        "SELECT v.indikator_id, v.sozialraum_id, s.name AS sozialraum, s.bezirk_id, b.name AS bezirk, v.jahr,"  # noqa: S608 - fixed relation names
        " v.wert, v.zaehler, v.nenner, v.gesperrt, v.lieferung_id, l.dateiname AS lieferung,"
        " l.lieferant, l.importiert_am, " + extra +
        f" FROM {source} v JOIN sozialraum s ON s.id = v.sozialraum_id"
        " LEFT JOIN stadtbezirk b ON b.id = s.bezirk_id JOIN lieferung l ON l.id = v.lieferung_id"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY v.indikator_id, s.bezirk_id, v.sozialraum_id, v.jahr"
    return db.query_arrow_df(con, sql, params)


def reallocated(con: db.Con, indicator_ids: list[str] | None, *, actor: Actor) -> pd.DataFrame:
    """Which current values were re-allocated from an earlier Gebietsstand, with the method (``umgerechnet``):
    indikator_id, sozialraum_id, jahr, umgerechnet. No figures, so any ``actor`` may read it (marks in tables,
    tooltips and the PDF)."""
    cols = ["indikator_id", "sozialraum_id", "jahr", "umgerechnet"]
    source = current_source(con)
    if source == "messwert_aktuell":
        return pd.DataFrame(columns=cols)
    sql = f"SELECT {', '.join(cols)} FROM {source} v WHERE v.umgerechnet IS NOT NULL"  # noqa: S608 - fixed names
    params: list[object] = []
    if indicator_ids:
        sql += " AND list_contains(?, v.indikator_id)"
        params.append(list(indicator_ids))
    return db.query_arrow_df(con, sql, params)


def original_raw(con: db.Con, *, actor: Actor) -> pd.DataFrame:
    """The current values as delivered, each on the areas of the Gebietsstand it was delivered in
    (``gebietsstand``); nothing re-allocated. Raw values: PermissionDenied for viewers."""
    if not actor.can_see_raw:
        raise PermissionDenied(f"{actor.name} darf Rohwerte unterhalb der Mindestfallzahl nicht sehen.")
    return db.query_arrow_df(
        con,
        "SELECT v.indikator_id, v.sozialraum_id, v.jahr, v.wert, v.zaehler, v.nenner, v.gesperrt, v.lieferung_id,"
        " l.dateiname AS lieferung, coalesce(x.gebietsstand_id, (SELECT max(id) FROM gebietsstand)) AS gebietsstand,"
        " 0 AS umgerechnet"
        " FROM messwert_aktuell v JOIN lieferung l ON l.id = v.lieferung_id"
        " LEFT JOIN lieferung_gebietsstand x ON x.lieferung_id = v.lieferung_id"
        " ORDER BY v.indikator_id, v.sozialraum_id, v.jahr")
