"""Figures for the start page: areas with population, city headline figures, delivery status."""

from __future__ import annotations

import pandas as pd

from quartier import db, indicators

HEADLINE_IDS = ["ew_gesamt", "ew_u18", "sgb2_u18", "sgb2_u15", "seu_sprache", "hze_quote"]


def latest_population(con) -> pd.DataFrame:
    """Sozialräume with their Stadtbezirk and the latest delivered population (``ew_gesamt``)."""
    return db.query_df(
        con,
        "WITH pop AS (SELECT sozialraum_id, wert, jahr, row_number() OVER (PARTITION BY sozialraum_id ORDER BY jahr DESC) rn"
        " FROM messwert_aktuell WHERE indikator_id = 'ew_gesamt' AND wert IS NOT NULL)"
        " SELECT b.nr AS bezirk_nr, b.name AS stadtbezirk, s.id AS sozialraum_id, s.name AS sozialraum,"
        " pop.wert AS einwohner, pop.jahr, s.flaeche_km2"
        " FROM sozialraum s LEFT JOIN stadtbezirk b ON b.id = s.bezirk_id"
        " LEFT JOIN pop ON pop.sozialraum_id = s.id AND pop.rn = 1 ORDER BY b.nr, s.id",
    )


def headline(con, ids: list[str] | None = None) -> pd.DataFrame:
    """City values of headline indicators for the latest year with data and the change to the year before."""
    cat = indicators.catalogue(con).set_index("id")
    wanted = [i for i in (ids or HEADLINE_IDS) if i in cat.index]
    if not wanted:
        wanted = list(cat.index[:6])
    vals = indicators.current_values(con, wanted)
    rows = []
    for iid in wanted:
        v = vals[vals["indikator_id"] == iid]
        if v.empty:
            continue
        agg = indicators.aggregate(v, cat.loc[iid, "einheit"], ["jahr"]).sort_values("jahr")
        agg = agg[agg["wert"].notna()]
        if agg.empty:
            continue
        last = agg.iloc[-1]
        prev = agg[agg["jahr"] == last["jahr"] - 1]
        rows.append({
            "indikator_id": iid, "name": cat.loc[iid, "name"], "kurzname": cat.loc[iid, "kurzname"],
            "einheit": cat.loc[iid, "einheit"], "richtung": cat.loc[iid, "richtung"], "jahr": int(last["jahr"]),
            "wert": float(last["wert"]), "vorjahr": float(prev["wert"].iloc[0]) if len(prev) else None,
            "zaehler": last.get("zaehler"), "nenner": last.get("nenner"),
        })
    return pd.DataFrame(rows)


def delivery_status(con) -> pd.DataFrame:
    """Per Lieferant: the latest active delivery and the latest reporting year with values."""
    return db.query_df(
        con,
        "WITH last AS (SELECT *, row_number() OVER (PARTITION BY lieferant ORDER BY importiert_am DESC, id DESC) rn"
        " FROM lieferung WHERE status = 'aktiv'),"
        " yrs AS (SELECT l.lieferant, max(v.jahr) AS letztes_jahr, count(DISTINCT v.indikator_id) AS indikatoren"
        " FROM messwert_aktuell v JOIN lieferung l ON l.id = v.lieferung_id GROUP BY l.lieferant)"
        " SELECT last.lieferant, yrs.letztes_jahr, yrs.indikatoren, last.dateiname, last.importiert_am,"
        " last.importiert_von FROM last LEFT JOIN yrs USING (lieferant) WHERE rn = 1 ORDER BY last.lieferant",
    )
