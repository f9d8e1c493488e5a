"""Time series per Sozialraum and indicator: references, changes, ranks, trends, profiles.

Everything here is plain pandas/DuckDB (no Streamlit). Every loader takes the ``actor`` so that
small-number protection applies to users who may not see raw values: their values come from
``indicators.current_values(..., actor=actor)`` and their city/district references from
``protection.protected_table`` (primary and secondary suppression on the totals) when it is available.

Conventions of the frames returned:

* ``status`` is ``"wert"`` (a value), ``"gesperrt"`` (suppressed: small numbers or at source; the
  value is NaN) or ``"fehlt"`` (no value delivered for that year: also NaN, but not suppressed).
* References (city and Stadtbezirk) are computed from summed numerators and denominators
  (:func:`quartier.indicators.aggregate`), never as means of the Sozialraum rates; the sums are taken in SQL.
* ``rang`` 1 is the Sozialraum with the most need in that year, following the indicator's
  direction (``higher``: highest value first, ``lower``: lowest first); ties share the best rank
  (1, 2, 2, 4); suppressed and missing values get no rank and do not count in ``n_rang``;
  indicators without a direction are not ranked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quartier import db, settings
from quartier import format as fmt
from quartier.access import Actor
from quartier.values import coverage, indicators, query, uncertainty

STATUS_OK, STATUS_SUPPRESSED, STATUS_MISSING = "wert", "gesperrt", "fehlt"
STATUS_INCOMPLETE = "unvollständig"  # a reference over an incomplete delivery (values/coverage.py): no value
LEVEL_CITY, LEVEL_DISTRICT = "Stadt", "Stadtbezirk"
CHANGE_SPANS = (1, 5)

VALUE_COLUMNS = ["indikator_id", "sozialraum_id", "sozialraum", "bezirk_id", "bezirk", "jahr", "wert", "zaehler",
                 "nenner", "gesperrt", "status", "lieferung", "lieferant", "importiert_am", "umgerechnet"]
REF_COLUMNS = ["indikator_id", "ebene", "bezirk_id", "name", "jahr", "wert", "zaehler", "nenner", "n", "gesperrt",
               "status", "gebiete_geliefert", "gebiete_gesamt"]


# --------------------------------------------------------------------------------------------
# selection (query parameters -> ids)


@dataclass
class Selection:
    sozialraeume: list[str]
    indikatoren: list[str]
    bezirk: str | None
    unbekannt: list[str]  # ids from the URL that do not exist (shown as a hint)


def split_param(value) -> list[str]:
    """``"M04,S01"`` or ``["M04", "S01,S02"]`` -> ``["M04", "S01", "S02"]`` (order kept, no duplicates)."""
    if value is None:
        return []
    parts = value if isinstance(value, (list, tuple)) else [value]
    out: list[str] = []
    for p in parts:
        for item in str(p).split(","):
            item = item.strip()
            if item and item not in out:
                out.append(item)
    return out


def resolve_selection(con, sr=None, ind=None, bezirk=None, default_indicators: list[str] | None = None) -> Selection:
    """Turn query parameters into valid ids. ``bezirk`` (id or name, case-insensitive) selects all its
    Sozialräume; unknown ids are dropped and reported in ``unbekannt``."""
    areas = indicators.areas(con)
    cat = indicators.catalogue(con)
    unknown: list[str] = []
    by_upper = {str(i).upper(): i for i in areas["id"]}
    chosen_bezirk = None
    b_raw = (split_param(bezirk) or [None])[0]
    if b_raw:
        bz = indicators.bezirke(con)
        lookup = {str(r["id"]).lower(): r["id"] for r in bz.to_dict("records")}
        lookup.update({str(r["name"]).lower(): r["id"] for r in bz.to_dict("records")})
        chosen_bezirk = lookup.get(b_raw.lower())
        if chosen_bezirk is None:
            unknown.append(b_raw)
    srs: list[str] = []
    if chosen_bezirk is not None:
        srs = list(areas.loc[areas["bezirk_id"] == chosen_bezirk, "id"])
    else:
        for s in split_param(sr):
            hit = by_upper.get(s.upper())
            if hit is None:
                unknown.append(s)
            elif hit not in srs:
                srs.append(hit)
    ids = list(cat["id"])
    inds = []
    for i in split_param(ind):
        if i in ids:
            inds.append(i)
        else:
            unknown.append(i)
    if not inds:
        inds = [i for i in (default_indicators or []) if i in ids] or ids[:1]
    return Selection(srs, inds, chosen_bezirk, unknown)


# --------------------------------------------------------------------------------------------
# loading


def _raw_view(actor: Actor) -> bool:
    return actor.can_see_raw


def indicator_years(con, indicator_ids: list[str]) -> dict[str, list[int]]:
    """Every year from the first to the last delivered year of each indicator (gaps included)."""
    return {i: list(range(a, b + 1)) for i, (a, b) in query.year_span(con, list(indicator_ids)).items()}


def _status(df: pd.DataFrame) -> pd.Series:
    g = df["gesperrt"].fillna(False).astype(bool)
    return pd.Series(np.where(g, STATUS_SUPPRESSED, np.where(df["wert"].notna(), STATUS_OK, STATUS_MISSING)),
                     index=df.index)


def all_values(con, indicator_ids: list[str], years: list[int] | None = None, *, actor: Actor) -> pd.DataFrame:
    """Current values of every Sozialraum (protected for ``actor``) with a ``status`` column."""
    v = indicators.current_values(con, list(indicator_ids), years, actor=actor)
    v["gesperrt"] = v["gesperrt"].fillna(False).astype(bool)
    # a suppressed value never carries a number, whoever looks
    v.loc[v["gesperrt"], "wert"] = np.nan
    v["status"] = _status(v)
    return v


def _references_raw(con, indicator_ids: list[str], years: list[int] | None) -> pd.DataFrame:
    """City and district references from numerators/denominators summed in SQL, then ``aggregate``."""
    params: list = [list(indicator_ids), [int(y) for y in years] if years else None]
    # Per indicator/district/year: sums only where every contributing row has its part; a district
    # with an unknown numerator or denominator gets NULL and so makes the city value NULL too.
    sums = db.query_df(
        con,
        "SELECT v.indikator_id, s.bezirk_id, v.jahr, count(*) AS n,"  # noqa: S608 - current_source is a fixed name
        " CASE WHEN count(v.zaehler) = count(*) THEN sum(v.zaehler) END AS zaehler,"
        " CASE WHEN count(v.zaehler) = count(*) AND count(v.nenner) = count(*) THEN sum(v.nenner) END AS nenner,"
        " sum(v.wert) AS wert, count(v.nenner) AS n_nenner"
        f" FROM {query.current_source(con)} v JOIN sozialraum s ON s.id = v.sozialraum_id"
        " WHERE list_contains($1, v.indikator_id) AND ($2 IS NULL OR list_contains($2, v.jahr)) GROUP BY ALL",
        params,
    )
    cat = indicators.catalogue(con).set_index("id")
    bez_names = dict(indicators.bezirke(con)[["id", "name"]].itertuples(index=False, name=None))
    sums = sums.rename(columns={"n": "n_sr"})
    sums["bezirk_key"] = sums["bezirk_id"].fillna("")
    has_den = sums.groupby("indikator_id")["n_nenner"].transform("sum") > 0
    sums["klasse"] = np.where(has_den, "rate:" + sums["indikator_id"].map(cat["einheit"]).fillna("").astype(str), "count")
    # The district sums twice: once per district, once all together for the city (group "").
    stacked = pd.concat([
        sums.assign(ebene=LEVEL_DISTRICT, gruppe=sums["bezirk_key"]),
        sums.assign(ebene=LEVEL_CITY, gruppe=""),
    ], ignore_index=True)
    stacked = stacked[(stacked["ebene"] == LEVEL_CITY) | (stacked["gruppe"] != "")]
    by = ["indikator_id", "ebene", "gruppe", "jahr"]
    frames = []
    # One aggregate() call per kind (counts, or rates of one unit): the factor and the count/rate rule
    # of aggregate() hold for the whole call.
    for klasse, part in stacked.groupby("klasse", sort=False):
        is_count = klasse == "count"
        unit = None if is_count else klasse.split(":", 1)[1]
        part = part.copy()
        if is_count:
            part["zaehler"] = np.nan
            part["nenner"] = np.nan
        counts = part.groupby(by)["n_sr"].sum().rename("n").reset_index()
        if not is_count and not part["nenner"].notna().any():
            agg = counts.copy()
            agg["wert"] = agg["zaehler"] = agg["nenner"] = np.nan
        else:
            agg = indicators.aggregate(part, unit, by).drop(columns="n").merge(counts, on=by, how="left")
        frames.append(agg)
    if not frames:
        return pd.DataFrame(columns=REF_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    district = out["ebene"] == LEVEL_DISTRICT
    out["bezirk_id"] = out["gruppe"].where(district, None)
    out["name"] = out["bezirk_id"].map(bez_names).where(district, None)
    out.loc[district & out["name"].isna(), "name"] = out["bezirk_id"]
    out["gesperrt"] = False
    out["jahr"] = out["jahr"].astype(int)
    out = coverage.attach(out, coverage.coverage(con, indicator_ids, years), level_col="ebene", city_level=LEVEL_CITY,
                          district_level=LEVEL_DISTRICT, district_col="bezirk_id", value_cols=["wert", "zaehler", "nenner"])
    out["status"] = np.where(out["wert"].notna(), STATUS_OK, STATUS_MISSING)
    return _mark_incomplete(out)[REF_COLUMNS]


def _mark_incomplete(refs: pd.DataFrame) -> pd.DataFrame:
    bad = (refs["gebiete_geliefert"] < refs["gebiete_gesamt"]).fillna(False).to_numpy(dtype=bool)
    refs.loc[bad, "status"] = STATUS_INCOMPLETE
    return refs


def _protected(con, indicator_ids: list[str], years: list[int] | None, actor) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For viewers: one pass of ``protection.protected_table`` (primary and secondary suppression on
    whole tables) gives both the Sozialraum values (``VALUE_COLUMNS`` without Lieferung details) and the
    city/district references (``REF_COLUMNS``)."""
    from quartier.values import protection

    t = protection.protected_table(con, list(indicator_ids), years, actor=actor)
    t["jahr"] = t["jahr"].astype(int)
    t["gesperrt"] = t["gesperrt"].astype(bool)
    sr = t[t["ebene"] == protection.LEVEL_AREA]
    vals = pd.DataFrame({
        "indikator_id": sr["indikator_id"], "sozialraum_id": sr["sozialraum_id"], "sozialraum": sr["sozialraum"],
        "bezirk_id": sr["stadtbezirk_id"], "bezirk": sr["stadtbezirk"], "jahr": sr["jahr"], "wert": sr["wert"],
        "zaehler": sr["zaehler"], "nenner": sr["nenner"], "gesperrt": sr["gesperrt"],
    })
    vals.loc[vals["gesperrt"], "wert"] = np.nan
    vals["status"] = _status(vals)
    tot = t[t["ebene"] != protection.LEVEL_AREA]
    refs = pd.DataFrame({
        "indikator_id": tot["indikator_id"], "ebene": tot["ebene"], "bezirk_id": tot["stadtbezirk_id"],
        "name": tot["stadtbezirk"], "jahr": tot["jahr"], "wert": tot["wert"], "zaehler": tot["zaehler"],
        "nenner": tot["nenner"], "n": np.nan, "gesperrt": tot["gesperrt"],
        "gebiete_geliefert": tot["gebiete_geliefert"], "gebiete_gesamt": tot["gebiete_gesamt"],
    })
    refs["status"] = _status(refs)
    refs = _mark_incomplete(refs)
    return vals.reset_index(drop=True), refs[REF_COLUMNS].reset_index(drop=True)


def references(con, indicator_ids: list[str], years: list[int] | None = None, *, actor: Actor) -> pd.DataFrame:
    """City and Stadtbezirk values per indicator and year (``REF_COLUMNS``)."""
    if not indicator_ids:
        return pd.DataFrame(columns=REF_COLUMNS)
    if _raw_view(actor):
        return _references_raw(con, indicator_ids, years)
    return _protected(con, indicator_ids, years, actor)[1]


# --------------------------------------------------------------------------------------------
# ranks, changes, trends


def rank_values(values: pd.DataFrame, directions: dict[str, str | None]) -> pd.DataFrame:
    """Add ``rang`` and ``n_rang`` per indicator and year (see module doc)."""
    out = values.copy()
    out["rang"] = np.nan
    out["n_rang"] = np.nan
    direction = out["indikator_id"].map(directions)
    ok = out["wert"].notna() & ~out["gesperrt"].astype(bool) & direction.isin(["higher", "lower"])
    if ok.any():
        key = out.loc[ok, "wert"].round(9) * np.where(direction[ok] == "higher", -1.0, 1.0)
        grp = [out.loc[ok, "indikator_id"], out.loc[ok, "jahr"]]
        out.loc[ok, "rang"] = key.groupby(grp).rank(method="min")
        out.loc[ok, "n_rang"] = key.groupby(grp).transform("size")
    return out


def add_changes(values: pd.DataFrame, spans=CHANGE_SPANS) -> pd.DataFrame:
    """Add ``aenderung_<k>`` = value(year) − value(year−k) per indicator and Sozialraum; NaN when either
    year is suppressed or missing."""
    out = values.copy()
    base = out[["indikator_id", "sozialraum_id", "jahr", "wert"]]
    for k in spans:
        prev = base.assign(jahr=base["jahr"] + k).rename(columns={"wert": "_prev"})
        merged = out[["indikator_id", "sozialraum_id", "jahr"]].merge(prev, on=["indikator_id", "sozialraum_id", "jahr"],
                                                                       how="left")
        out[f"aenderung_{k}"] = out["wert"].to_numpy() - merged["_prev"].to_numpy()
    return out


@dataclass(frozen=True)
class Trend:
    symbol: str          # ↑ ↓ →, "" without a change
    richtung: str        # "steigend", "fallend", "unverändert", "" (unknown)
    bewertung: str | None  # "verbessert", "verschlechtert", "unverändert", None (no direction / unknown)

    @property
    def text(self) -> str:
        if not self.richtung:
            return "keine Angabe"
        if self.bewertung and self.bewertung != "unverändert":
            return f"{self.richtung}, {self.bewertung}"
        return self.richtung


def decimals_for(unit: str | None, places=None) -> int:
    """The indicator's decimals (catalogue ``dezimalstellen``, else by unit): :func:`quartier.format.decimals_for`."""
    return fmt.decimals_for(unit, places)


def trend(delta, richtung: str | None, unit: str | None = None) -> Trend:
    """Meaning of a change: a falling value is an improvement when higher values mean more need."""
    if delta is None or (isinstance(delta, float) and np.isnan(delta)) or pd.isna(delta):
        return Trend("", "", None)
    if round(abs(float(delta)), decimals_for(unit)) == 0:
        return Trend("→", "unverändert", "unverändert" if richtung else None)
    up = delta > 0
    word = "steigend" if up else "fallend"
    if richtung not in ("higher", "lower"):
        return Trend("↑" if up else "↓", word, None)
    worse = up if richtung == "higher" else not up
    return Trend("↑" if up else "↓", word, "verschlechtert" if worse else "verbessert")


# --------------------------------------------------------------------------------------------
# series, profile, comparison


def _meta(con, indicator_ids: list[str] | None = None) -> pd.DataFrame:
    cat = indicators.catalogue(con)
    if indicator_ids is not None:
        cat = cat[cat["id"].isin(indicator_ids)]
    return cat.set_index("id")


def complete_grid(values: pd.DataFrame, sozialraum_ids: list[str], years_by_ind: dict[str, list[int]],
                  areas: pd.DataFrame) -> pd.DataFrame:
    """One row per indicator, Sozialraum and year; rows nobody delivered get status ``fehlt``."""
    grid = [(i, s, y) for i, ys in years_by_ind.items() for s in sozialraum_ids for y in ys]
    g = pd.DataFrame(grid, columns=["indikator_id", "sozialraum_id", "jahr"])
    if g.empty:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    g["jahr"] = g["jahr"].astype(int)
    v = values.copy()
    v["jahr"] = v["jahr"].astype(int)
    cols = [c for c in v.columns if c not in ("sozialraum", "bezirk_id", "bezirk")]
    out = g.merge(v[cols], on=["indikator_id", "sozialraum_id", "jahr"], how="left")
    a = areas.set_index("id")
    out["sozialraum"] = out["sozialraum_id"].map(a["name"])
    out["bezirk_id"] = out["sozialraum_id"].map(a["bezirk_id"])
    out["bezirk"] = out["sozialraum_id"].map(a["bezirk"])
    out["gesperrt"] = out["gesperrt"].astype("boolean").fillna(False).astype(bool)
    out["status"] = out["status"].fillna(STATUS_MISSING)
    for c in VALUE_COLUMNS:
        if c not in out.columns:
            out[c] = None
    return out[VALUE_COLUMNS + [c for c in out.columns if c not in VALUE_COLUMNS]]


@dataclass
class SeriesData:
    values: pd.DataFrame      # selected Sozialräume, every year (gaps included), with rank and changes
    refs: pd.DataFrame        # city and district references (REF_COLUMNS)
    meta: pd.DataFrame        # catalogue rows of the indicators, index id
    n_areas: int              # number of Sozialräume in the city


def _on_today(con, sql: str) -> str:
    """``sql`` reading the values on today's areas (re-allocated across a change of Gebietsstand); ``{umr}`` becomes
    the method of a re-allocated value (empty otherwise)."""
    src = query.current_source(con)
    umr = "NULL::VARCHAR" if src == "messwert_aktuell" else "v.umgerechnet"
    return sql.replace("FROM messwert_aktuell ", f"FROM {src} ").replace("{umr}", umr)


_AREA_VALUES_SQL = (
    "SELECT v.indikator_id, v.sozialraum_id, v.jahr, v.wert, v.zaehler, v.nenner, v.gesperrt, v.lieferung_id,"
    " l.dateiname AS lieferung, l.lieferant, l.importiert_am, {umr} AS umgerechnet"
    " FROM messwert_aktuell v JOIN lieferung l ON l.id = v.lieferung_id"
    " WHERE list_contains($1, v.indikator_id) AND list_contains($2, v.sozialraum_id)"
    " AND ($3 IS NULL OR list_contains($3, v.jahr))"
)
# list_contains(?, col) instead of col IN (SELECT unnest(?)): the filter then reaches the scan below
# the messwert_aktuell window (about 15x faster on 840,000 values).
# Rank among all Sozialräume, computed in SQL for users who see raw values (the same rule as
# rank_values: no rank for suppressed or empty values or indicators without direction; ties share the
# best rank); only the rows of the chosen areas come back.
_RANKS_SQL = (
    "WITH v AS (SELECT m.indikator_id, m.sozialraum_id, m.jahr,"
    " CASE WHEN i.richtung = 'higher' THEN -round(m.wert, 9) ELSE round(m.wert, 9) END AS k"
    " FROM messwert_aktuell m JOIN indikator i ON i.id = m.indikator_id"
    " WHERE list_contains($1, m.indikator_id) AND ($3 IS NULL OR list_contains($3, m.jahr))"
    " AND m.wert IS NOT NULL AND NOT m.gesperrt AND i.richtung IN ('higher', 'lower')),"
    " r AS (SELECT *, rank() OVER (PARTITION BY indikator_id, jahr ORDER BY k) AS rang,"
    " count(*) OVER (PARTITION BY indikator_id, jahr) AS n_rang FROM v)"
    " SELECT indikator_id, sozialraum_id, jahr, rang::DOUBLE AS rang, n_rang::DOUBLE AS n_rang FROM r"
    " WHERE list_contains($2, sozialraum_id)"
)


def _chosen_values(con, ids: list[str], sozialraum_ids: list[str], years: list[int] | None, actor,
                   meta: pd.DataFrame, rank_years: list[int] | None = None,
                   protected: pd.DataFrame | None = None) -> pd.DataFrame:
    """Values of the chosen areas with ``rang``/``n_rang`` among all areas.

    Users who may see raw values: filtered and ranked in SQL (only the chosen areas' rows leave the
    database). Others: every area is loaded because protection (primary and secondary suppression)
    works on whole tables; ranks then follow what the user sees."""
    yrs = [int(y) for y in years] if years else None
    if _raw_view(actor):
        params = [list(ids), list(sozialraum_ids), yrs]
        v = db.query_df(con, _on_today(con, _AREA_VALUES_SQL), params)
        v["gesperrt"] = v["gesperrt"].fillna(False).astype(bool)
        v.loc[v["gesperrt"], "wert"] = np.nan
        v["status"] = _status(v)
        r = db.query_df(con, _on_today(con, _RANKS_SQL), [list(ids), list(sozialraum_ids), rank_years or yrs])
        return v.merge(r, on=["indikator_id", "sozialraum_id", "jahr"], how="left")
    allv = protected if protected is not None else all_values(con, ids, years, actor=actor)
    ranked = rank_values(allv, meta["richtung"].to_dict())
    chosen = ranked[ranked["sozialraum_id"].isin(sozialraum_ids)].copy()
    if "lieferung" not in chosen.columns:  # where each value came from (not protected information)
        src = db.query_df(con, _on_today(con, _AREA_VALUES_SQL), [list(ids), list(sozialraum_ids), yrs])
        chosen = chosen.merge(src[["indikator_id", "sozialraum_id", "jahr", "lieferung_id", "lieferung", "lieferant",
                                   "importiert_am", "umgerechnet"]], on=["indikator_id", "sozialraum_id", "jahr"], how="left")
    return chosen


def load_series(con, indicator_ids: list[str], sozialraum_ids: list[str], *, actor: Actor,
                years: list[int] | None = None, rank_latest_only: bool = False) -> SeriesData:
    """Series of the chosen Sozialräume and indicators over all years (every year from an indicator's
    first to its last delivery, gaps included), with ranks among all Sozialräume (only in each
    indicator's latest year with ``rank_latest_only``), changes over 1 and 5 years and the
    city/district references."""
    meta = _meta(con, indicator_ids)
    ids = [i for i in indicator_ids if i in meta.index]
    areas = indicators.areas(con)
    if not ids:
        return SeriesData(pd.DataFrame(columns=VALUE_COLUMNS), pd.DataFrame(columns=REF_COLUMNS), meta, len(areas))
    protected = None
    if _raw_view(actor):
        refs = _references_raw(con, ids, years)
    else:
        protected, refs = _protected(con, ids, years, actor)
    # the years of each indicator follow from its references (one row per year with any value)
    span = refs.groupby("indikator_id")["jahr"].agg(["min", "max"]) if len(refs) else pd.DataFrame(columns=["min", "max"])
    yrs = {i: list(range(int(span.loc[i, "min"]), int(span.loc[i, "max"]) + 1)) for i in ids if i in span.index}
    if years:
        yrs = {k: [y for y in v if y in set(years)] for k, v in yrs.items()}
    rank_years = sorted({v[-1] for v in yrs.values() if v}) if rank_latest_only else None
    chosen = _chosen_values(con, ids, list(sozialraum_ids), years, actor, meta, rank_years, protected)
    if rank_latest_only:
        last = {k: v[-1] for k, v in yrs.items() if v}
        off = chosen["jahr"] != chosen["indikator_id"].map(last)
        chosen.loc[off, ["rang", "n_rang"]] = np.nan
    vals = complete_grid(chosen, list(sozialraum_ids), yrs, areas)
    vals = add_changes(vals)
    return SeriesData(vals.reset_index(drop=True), refs, meta, len(areas))


def latest_years(con, indicator_ids: list[str] | None = None) -> dict[str, int]:
    d = {i: b for i, (_a, b) in query.year_span(con).items()}  # on today's areas
    return {k: v for k, v in d.items() if indicator_ids is None or k in indicator_ids}


PROFILE_COLUMNS = ["indikator_id", "name", "kurzname", "einheit", "richtung", "handlungsfeld", "jahr", "wert",
                   "zaehler", "nenner", "status", "lieferung", "aenderung_1", "aenderung_5", "rang", "n_rang",
                   "wert_stadt", "wert_bezirk", "trend_1", "bewertung_1", "trend_5", "bewertung_5", "stadt_hinweis",
                   "bezirk_hinweis", "umgerechnet", "dezimalstellen", *uncertainty.PROFILE_EXTRA]


def profile(con, sozialraum_id: str, *, actor: Actor, indicator_ids: list[str] | None = None) -> tuple[pd.DataFrame, SeriesData]:
    """The Steckbrief of one Sozialraum: one row per indicator for its latest year (``PROFILE_COLUMNS``)
    and the full series (for small multiples)."""
    meta = _meta(con, indicator_ids)
    ids = list(meta.index)
    data = load_series(con, ids, [sozialraum_id], actor=actor, rank_latest_only=True)
    span = data.refs.groupby("indikator_id")["jahr"].max() if len(data.refs) else pd.Series(dtype=int)
    latest = {i: int(span[i]) for i in ids if i in span.index}
    v = data.values
    area = indicators.areas(con).set_index("id")
    bez = area.loc[sozialraum_id, "bezirk_id"] if sozialraum_id in area.index else None
    refs = data.refs
    # one row per indicator (catalogue order), its latest year, the area's row of that year, references
    base = meta.reset_index()[["id", "name", "kurzname", "einheit", "richtung", "handlungsfeld"]].rename(
        columns={"id": "indikator_id"})
    base["jahr"] = base["indikator_id"].map(latest).astype("Int64")
    dec = indicators.decimals(meta)
    base["dezimalstellen"] = base["indikator_id"].map(dec).astype(int)
    cols = ["wert", "zaehler", "nenner", "status", "lieferung", "aenderung_1", "aenderung_5", "rang", "n_rang", "umgerechnet"]
    own = v[["indikator_id", "jahr"] + [c for c in cols if c in v.columns]].copy()
    own["jahr"] = own["jahr"].astype("Int64")
    out = base.merge(own, on=["indikator_id", "jahr"], how="left")
    for c in cols:
        if c not in out.columns:
            out[c] = np.nan
    out["status"] = out["status"].fillna(STATUS_MISSING)
    r = refs[["indikator_id", "ebene", "bezirk_id", "jahr", "wert", "gebiete_geliefert", "gebiete_gesamt"]].copy()
    r["jahr"] = r["jahr"].astype("Int64")
    r["hinweis"] = [coverage.text(d, t) if pd.notna(t) and d < t else None
                    for d, t in zip(r["gebiete_geliefert"], r["gebiete_gesamt"])]
    city = r[r["ebene"] == LEVEL_CITY][["indikator_id", "jahr", "wert", "hinweis"]].rename(
        columns={"wert": "wert_stadt", "hinweis": "stadt_hinweis"})
    dist = r[(r["ebene"] == LEVEL_DISTRICT) & (r["bezirk_id"] == bez)][["indikator_id", "jahr", "wert", "hinweis"]].rename(
        columns={"wert": "wert_bezirk", "hinweis": "bezirk_hinweis"})
    out = out.merge(city, on=["indikator_id", "jahr"], how="left").merge(dist, on=["indikator_id", "jahr"], how="left")
    for k in CHANGE_SPANS:
        ts = [trend(d, rr, u) for d, rr, u in zip(out[f"aenderung_{k}"], out["richtung"], out["einheit"])]
        out[f"trend_{k}"] = [t.symbol for t in ts]
        out[f"bewertung_{k}"] = [t.bewertung for t in ts]
    out["jahr"] = [int(y) if pd.notna(y) else None for y in out["jahr"]]
    # 95 % intervals, small bases and the test of the changes (from the values as the actor sees them)
    out = uncertainty.annotate_profile(out, v, settings.read_int(con, settings.SMALL_BASE),
                                       dict(zip(meta.index, meta["nenner_def"])), CHANGE_SPANS)
    return out[PROFILE_COLUMNS], data


def population(data: SeriesData | None = None, con=None, sozialraum_id: str | None = None, *, actor: Actor) -> pd.DataFrame:
    """Population and age structure per year: Einwohner, unter 18, 18 und älter, Anteil unter 18 (%),
    and the city's share of under-18s (from summed counts). The two counts are the catalogue's
    (:func:`indicators.population_ids`); without them the frame is empty."""
    cols = ["jahr", "einwohner", "unter_18", "ab_18", "anteil_u18", "anteil_u18_stadt"]
    meta = data.meta if data is not None else indicators.catalogue(con)
    total, u18 = indicators.population_ids(meta)
    if total is None:
        return pd.DataFrame(columns=cols)
    ids = [total] + ([u18] if u18 else [])
    if data is None:
        data = load_series(con, ids, [sozialraum_id], actor=actor)
    v = data.values
    v = v[v["indikator_id"].isin(ids)]
    if v.empty:
        return pd.DataFrame(columns=cols)
    wide = v.pivot_table(index="jahr", columns="indikator_id", values="wert", aggfunc="first", dropna=False)
    wide = wide.reindex(columns=[total, u18 or "_keine_u18"])
    out = pd.DataFrame({"jahr": wide.index.astype(int), "einwohner": wide[total].to_numpy(dtype=float),
                        "unter_18": wide[u18 or "_keine_u18"].to_numpy(dtype=float)})
    out["ab_18"] = out["einwohner"] - out["unter_18"]
    out["anteil_u18"] = np.where(out["einwohner"] > 0, out["unter_18"] / out["einwohner"] * 100, np.nan)
    r = data.refs
    city = r[(r["ebene"] == LEVEL_CITY) & r["indikator_id"].isin(ids)]
    cw = city.pivot_table(index="jahr", columns="indikator_id", values="wert", aggfunc="first").reindex(
        columns=[total, u18 or "_keine_u18"])
    share = (cw[u18 or "_keine_u18"] / cw[total] * 100).where(cw[total] > 0)
    out["anteil_u18_stadt"] = out["jahr"].map(share).astype(float)
    return out.reset_index(drop=True)


def comparison(data: SeriesData, year: int | None = None) -> pd.DataFrame:
    """The chosen Sozialräume side by side: per indicator its latest year (or ``year``) with value,
    status, rank, and the city value of that year."""
    v = data.values
    if v.empty:
        return v.assign(wert_stadt=pd.Series(dtype=float))
    rows = []
    for iid, part in v.groupby("indikator_id", sort=False):
        y = year if year is not None else int(part["jahr"].max())
        sel = part[part["jahr"] == y].copy()
        r = data.refs
        city = r[(r["indikator_id"] == iid) & (r["ebene"] == LEVEL_CITY) & (r["jahr"] == y)]
        sel["wert_stadt"] = city["wert"].iloc[0] if len(city) else np.nan
        rows.append(sel)
    return pd.concat(rows, ignore_index=True)
