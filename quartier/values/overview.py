"""Figures for the start page: areas with population, city headline figures, delivery status."""

from __future__ import annotations

import pandas as pd

from quartier import db
from quartier.access import Actor
from quartier.values import coverage, indicators, protection, query


def latest_population(con, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sozialräume with their Stadtbezirk and the latest delivered population (the catalogue's population
    count, :func:`indicators.population_ids`; ``einwohner`` empty without one). ``cat``: the
    :func:`indicators.catalogue` already read, else read here."""
    total = indicators.population_ids(indicators.catalogue(con) if cat is None else cat)[0]
    return db.query_df(
        con,
        "WITH pop AS (SELECT sozialraum_id, wert, jahr, row_number() OVER (PARTITION BY sozialraum_id ORDER BY jahr DESC) rn"  # noqa: S608 - fixed relation name
        f" FROM {query.current_source(con)} WHERE indikator_id = ? AND wert IS NOT NULL)"
        " SELECT b.nr AS bezirk_nr, b.name AS stadtbezirk, s.id AS sozialraum_id, s.name AS sozialraum,"
        " pop.wert AS einwohner, pop.jahr, s.flaeche_km2"
        " FROM sozialraum s LEFT JOIN stadtbezirk b ON b.id = s.bezirk_id"
        " LEFT JOIN pop ON pop.sozialraum_id = s.id AND pop.rn = 1 ORDER BY b.nr, s.id",
        [total or ""],
    )


def headline(con, ids: list[str] | None = None, *, actor: Actor, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """City values of headline indicators for the latest complete year (every expected Sozialraum
    delivered) and the change to the year before; ``unvollstaendig`` names a later incomplete year
    ("unvollständig: 5 von 23 Sozialräumen geliefert" for 2026) when there is one. ``cat``: the
    :func:`indicators.catalogue` already read (read once here otherwise)."""
    full = indicators.catalogue(con) if cat is None else cat
    cat = full.set_index("id")
    wanted = [i for i in (ids or indicators.headline_ids(con, cat=full)) if i in cat.index]
    if not wanted:
        wanted = list(cat.index[:6])
    by_year = city_by_year(con, wanted, cat=full) if actor.can_see_raw else _public_city_by_year(con, wanted, actor=actor)
    places = indicators.decimals(cat.loc[wanted])
    rows = []
    for iid in wanted:
        agg = by_year[by_year["indikator_id"] == iid].sort_values("jahr")
        agg = agg[agg["wert"].notna()]
        if agg.empty:
            continue
        last = agg.iloc[-1]
        prev = agg[agg["jahr"] == last["jahr"] - 1]
        allrows = by_year[(by_year["indikator_id"] == iid) & (by_year["jahr"] > last["jahr"])]
        later = allrows[(allrows["gebiete_geliefert"] < allrows["gebiete_gesamt"]).fillna(False)]
        note = None if later.empty else (
            f"{int(later['jahr'].max())} {coverage.text(*later.sort_values('jahr').iloc[-1][['gebiete_geliefert', 'gebiete_gesamt']])}")
        rows.append({
            "indikator_id": iid, "name": cat.loc[iid, "name"], "kurzname": cat.loc[iid, "kurzname"],
            "einheit": cat.loc[iid, "einheit"], "richtung": cat.loc[iid, "richtung"],
            "dezimalstellen": places[iid], "jahr": int(last["jahr"]),
            "wert": float(last["wert"]), "vorjahr": float(prev["wert"].iloc[0]) if len(prev) else None,
            "zaehler": last.get("zaehler"), "nenner": last.get("nenner"), "unvollstaendig": note,
        })
    return pd.DataFrame(rows)


def city_by_year(con, ids: list[str], cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """City values per indicator and year, aggregated in SQL (same rules as :func:`indicators.aggregate`).

    Rates from summed numerators and denominators (NaN when any area lacks its denominator), counts
    summed. Aggregating in DuckDB instead of loading every area's values keeps the start page fast
    with thousands of Sozialräume (10,000 areas x 20 years: 4 s -> well under a second). ``cat``: the
    :func:`indicators.catalogue` already read, else read here.
    """
    df = db.query_df(
        con,
        f"WITH v AS (SELECT indikator_id, jahr, wert, zaehler, nenner FROM {query.current_source(con)}"  # noqa: S608
        " WHERE list_contains(?, indikator_id)),"
        " d AS (SELECT indikator_id, bool_or(nenner IS NOT NULL) AS has_den FROM v GROUP BY indikator_id)"
        " SELECT v.indikator_id, v.jahr, any_value(d.has_den) AS has_den, sum(v.zaehler) AS zaehler,"
        " sum(v.nenner) AS nenner, count(*) - count(v.nenner) AS fehlend, sum(v.wert) AS wert_sum, count(*) AS n"
        " FROM v JOIN d USING (indikator_id) GROUP BY v.indikator_id, v.jahr ORDER BY v.indikator_id, v.jahr",
        [list(ids)],
    )
    if df.empty:
        return df.assign(wert=pd.Series(dtype=float))
    units = (indicators.catalogue(con) if cat is None else cat).set_index("id")["einheit"]
    factor = df["indikator_id"].map(lambda i: indicators.rate_factor(units.get(i)))
    has_den = df["has_den"].astype(bool)
    rate = (df["zaehler"] / df["nenner"] * factor).where((df["fehlend"] == 0) & (df["nenner"] > 0))
    df["wert"] = rate.where(has_den, df["wert_sum"]).astype(float)
    df.loc[~has_den, ["zaehler", "nenner"]] = float("nan")
    df = df.drop(columns=["has_den", "fehlend", "wert_sum"]).assign(ebene="Stadt", stadtbezirk_id=None)
    df["jahr"] = df["jahr"].astype(int)
    df = coverage.attach(df, coverage.coverage(con, ids), level_col="ebene", city_level="Stadt",
                         district_level="Stadtbezirk", district_col="stadtbezirk_id", value_cols=["wert", "zaehler", "nenner"])
    return df.drop(columns=["ebene", "stadtbezirk_id"])


def _public_city_by_year(con, ids: list[str], *, actor: Actor) -> pd.DataFrame:
    """City values as a viewer may see them: the city rows of the protected table (a protected city
    value, or one computable only from protected cells, stays empty)."""
    t = protection.protected_table(con, ids, actor=actor)
    city = t[t["ebene"] == protection.LEVEL_CITY]
    return city[["indikator_id", "jahr", "wert", "zaehler", "nenner", "gebiete_geliefert", "gebiete_gesamt"]
                ].reset_index(drop=True)


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
