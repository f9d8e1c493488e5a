"""The one SQL read of the current values (newest active Lieferung per indicator, area and year).

Below both ``indicators`` (which protects for viewers) and ``protection`` (which needs the raw values to
decide what to hide), so neither imports the other. Only actors allowed raw values may call it.
"""

from __future__ import annotations

import pandas as pd

from quartier import db
from quartier.access import Actor, PermissionDenied


def current_raw(con: db.Con, indicator_ids: list[str] | None, years: list[int] | None, *, actor: Actor) -> pd.DataFrame:
    """Raw current values with area and Lieferung columns; raises PermissionDenied for viewers."""
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
    sql = (
        "SELECT v.indikator_id, v.sozialraum_id, s.name AS sozialraum, s.bezirk_id, b.name AS bezirk, v.jahr,"
        " v.wert, v.zaehler, v.nenner, v.gesperrt, v.lieferung_id, l.dateiname AS lieferung,"
        " l.lieferant, l.importiert_am"
        " FROM messwert_aktuell v JOIN sozialraum s ON s.id = v.sozialraum_id"
        " LEFT JOIN stadtbezirk b ON b.id = s.bezirk_id JOIN lieferung l ON l.id = v.lieferung_id"
    )
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY v.indikator_id, s.bezirk_id, v.sozialraum_id, v.jahr"
    return db.query_arrow_df(con, sql, params)
