"""District view and report contents: headline figures, ranking by need, development, the table of all
Sozialräume and the Handlungsempfehlungen of a :class:`~quartier.reports.scope.Scope`.

The same functions feed the page "Mein Bezirk" and the PDF (:mod:`quartier.reports.pdf`), so both show the
same figures. Every function that returns values takes the ``actor`` who looks (keyword, required).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from quartier import format as fmt
from quartier import units
from quartier.access import Actor
from quartier.need import compute as index_compute
from quartier.need import method as index_method
from quartier.reports.scope import (
    AREA,
    CITY,
    DISTRICT,
    Scope,
    bezirk_scope,
    complete_rows,
    coverage_at,
    protected_values,
    rank_indicator,
    scope_key,
    scope_values,
    series,
    value_at,
    year_of,
)
from quartier.values import coverage, indicators, overview, query, uncertainty
from quartier.values.charts import UMR_MARK

CHART_COUNT = 4


def catalogue(con, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The indicator catalogue indexed by id: ``cat`` when the caller read it already (a summary reads it once
    and hands it to every part), else read now."""
    return indicators.catalogue(con).set_index("id") if cat is None else cat


def headline_ids(con, cat: pd.DataFrame | None = None) -> list[str]:
    """The report's headline indicators: the catalogue's ``leitindikator`` flags (else its first indicators).
    ``cat``: the catalogue indexed by id, if already read."""
    return indicators.headline_ids(con, cat=None if cat is None else cat.reset_index())


def chart_ids(con, cat: pd.DataFrame | None = None) -> list[str]:
    """The indicators charted over the years: the headline rates (counts are shown in the table), else the headlines."""
    cat = catalogue(con, cat)
    heads = headline_ids(con, cat)
    rates = [i for i in heads if i in cat.index and not units.is_count(cat.loc[i, "einheit"])]
    return (rates or heads)[:CHART_COUNT]


def trend_meaning(change: float | None, direction: str | None) -> tuple[str, str, str | None]:
    """(arrow, word, judgement) for a change; judgement 'günstig'/'ungünstig'/None (no direction)."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return "", "keine Veränderung bekannt", None
    if round(change, 1) == 0:
        return "→", "unverändert", None
    rising = change > 0
    arrow, word = ("↑", "steigt") if rising else ("↓", "sinkt")
    if direction not in ("higher", "lower"):
        return arrow, word, None
    bad = rising if direction == "higher" else not rising
    return arrow, word, "ungünstig" if bad else "günstig"


def headline(con, scope: Scope, year: int | None = None, ids: list[str] | None = None,
             values: pd.DataFrame | None = None, *, actor: Actor, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Headline figures of the scope against the city (and, for a Sozialraum, its district).

    One row per indicator: value in the latest year (or ``year``), change to the year before, the
    trend's arrow/word and its meaning by the indicator's direction, and the reference values, all
    also as formatted German text (``*_text``). ``cat``: the catalogue indexed by id, if already read.
    """
    cat = catalogue(con, cat)
    wanted = [i for i in (ids or headline_ids(con, cat)) if i in cat.index]
    vals = values if values is not None else protected_values(con, wanted, actor=actor)
    bez_ids = scope.kind == "sozialraum" and bool(scope.bezirk_id)
    rows = []
    for iid in wanted:
        v = vals[vals["indikator_id"] == iid]
        if v.empty:
            continue
        unit, direction = cat.loc[iid, "einheit"], cat.loc[iid, "richtung"]
        dec = decimals_of(cat, iid)
        direction = None if pd.isna(direction) else direction
        s = series(v, scope_key(scope))
        # a city or Stadtbezirk figure: the latest year every expected Sozialraum delivered
        y = year_of(complete_rows(s) if scope.kind != "sozialraum" else s, year)
        if y is None:
            continue
        w, prot = value_at(s, y)
        pw, pprot = value_at(s, y - 1)
        change = None if (w is None or pw is None) else w - pw
        arrow, word, judgement = trend_meaning(change, direction)
        city = series(v, (CITY, None))
        cw, cprot = value_at(city, y)
        row = {
            "indikator_id": iid, "name": cat.loc[iid, "name"], "kurzname": cat.loc[iid, "kurzname"] or cat.loc[iid, "name"],
            "einheit": unit, "dezimalstellen": dec, "richtung": direction, "jahr": y, "wert": w, "gesperrt": prot, "vorjahr": pw,
            "veraenderung": change, "pfeil": arrow, "trend": word, "bewertung": judgement,
            "stadt": cw, "stadt_gesperrt": cprot,
            "wert_text": fmt.value(w, unit, dec, suppressed=prot),
            "wert_ki_text": with_interval(s, y, unit, dec),
            "veraenderung_text": fmt.SUPPRESSED if (prot or pprot) else fmt.change(change, unit, dec),
            "trend_text": _trend_text(arrow, word, judgement, prot or pprot),
            "stadt_text": _ref_text(city, y, cw, unit, cprot, dec),
        }
        if bez_ids:
            bs = series(v, (DISTRICT, scope.bezirk_id))
            bw, bprot = value_at(bs, y)
            row.update({"bezirk": bw, "bezirk_gesperrt": bprot, "bezirk_text": _ref_text(bs, y, bw, unit, bprot, dec)})
        rows.append(row)
    return pd.DataFrame(rows)


def with_interval(series_: pd.DataFrame, year: int | None, unit: str | None, dec: int | None = None) -> str:
    """The value of ``year`` with its 95 % interval ("12,4 % (9,8–15,5)", :mod:`quartier.values.uncertainty`),
    computed from the numerator and denominator of the (protected) series; only the value where no interval
    applies, "•" where protected. ``dec``: the indicator's decimals."""
    w, prot = value_at(series_, year)
    if prot or w is None:
        return fmt.value(w, unit, dec, suppressed=prot)
    row = series_[series_["jahr"] == year].iloc[0]
    lo, hi = uncertainty.interval([w], [row["zaehler"]], [row["nenner"]], unit)
    return uncertainty.text(w, lo[0], hi[0], unit, dec)


def _ref_text(ref: pd.DataFrame, year: int | None, w: float | None, unit: str | None, prot: bool,
              dec: int | None = None) -> str:
    """A city/Stadtbezirk value as text, or "unvollständig: 5 von 23 Sozialräumen geliefert"."""
    cov = coverage_at(ref, year)
    return coverage.text(*cov) if cov else fmt.value(w, unit, dec, suppressed=prot)


def decimals_of(cat: pd.DataFrame, iid: str) -> int:
    """The decimals of indicator ``iid`` (``cat`` indexed by id): catalogue ``dezimalstellen``, else by unit."""
    return fmt.decimals_for(cat.loc[iid, "einheit"], cat.loc[iid, "dezimalstellen"] if "dezimalstellen" in cat.columns else None)


def _trend_text(arrow: str, word: str, judgement: str | None, protected: bool) -> str:
    if protected:
        return "gesperrt"
    if not arrow:
        return word
    return f"{arrow} {word}" + (f" ({judgement})" if judgement else "")


def need_ranking(con, scope: Scope, year: int | None = None, values: pd.DataFrame | None = None, *, actor: Actor,
                 cat: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str]:
    """The Sozialräume of the scope ranked by need (rank 1 = most need) and a sentence on the method.

    Uses the saved Handlungsbedarf method (:mod:`quartier.need`) when one is saved; otherwise ranks
    by the catalogue's default indicator (:func:`rank_indicator`, oriented by its direction; protected values are not ranked).
    For a Sozialraum the ranking is its district's.
    """
    ids = scope.area_ids
    if scope.kind == "sozialraum" and scope.bezirk_id:
        a = indicators.areas(con)
        ids = tuple(a.loc[a["bezirk_id"] == scope.bezirk_id, "id"])
    by_index = _index_ranking(con, ids, year, actor=actor)
    if by_index is not None:
        return by_index
    cat = catalogue(con, cat)
    iid = rank_indicator(con, cat)
    if iid is not None and pd.isna(cat.loc[iid, "richtung"]):
        iid = None
    if iid is None:
        return pd.DataFrame(columns=["rang", "sozialraum_id", "sozialraum", "wert", "wert_text", "rang_stadt"]), \
            "Keine Rangfolge möglich: kein Indikator mit Richtung vorhanden."
    vals = values if values is not None else protected_values(con, [iid], actor=actor)
    v = vals[(vals["indikator_id"] == iid) & (vals["ebene"] == AREA)]
    y = year_of(v, year)
    if y is None:
        return pd.DataFrame(columns=["rang", "sozialraum_id", "sozialraum", "wert", "gesperrt", "wert_text", "rang_stadt",
                                     "rang_stadt_text", "jahr", "klasse"]), \
            "Noch keine Werte für eine Rangfolge nach Handlungsbedarf vorhanden."
    v = v[v["jahr"] == y].copy()
    unit, direction = cat.loc[iid, "einheit"], cat.loc[iid, "richtung"]
    asc = direction == "lower"
    v["gesperrt"] = v["gesperrt"].fillna(False).astype(bool)
    ranked = v[v["wert"].notna() & ~v["gesperrt"]].sort_values("wert", ascending=asc)
    ranked["rang_stadt"] = range(1, len(ranked) + 1)
    if ranked.empty:
        ranked["rang_stadt"] = pd.Series(dtype=float)
    n_city = len(ranked)
    mine = v[v["sozialraum_id"].isin(ids)].merge(ranked[["sozialraum_id", "rang_stadt"]], on="sozialraum_id", how="left")
    mine = mine.sort_values(["rang_stadt", "sozialraum_id"], na_position="last").reset_index(drop=True)
    mine["rang"] = [i + 1 if not pd.isna(r) else None for i, r in enumerate(mine["rang_stadt"])]
    mine["wert_text"] = [fmt.value(w, unit, decimals_of(cat, iid), suppressed=g) for w, g in zip(mine["wert"], mine["gesperrt"])]
    mine["rang_stadt_text"] = [f"{int(r)} von {n_city}" if not pd.isna(r) else "nicht gereiht" for r in mine["rang_stadt"]]
    mine["jahr"] = y
    note = (f"Rangfolge nach „{cat.loc[iid, 'name']}“ {y} ({indicators.DIRECTION_LABEL.get(direction)}); "
            "es ist keine Index-Methode für den Handlungsbedarf gespeichert (einrichten auf der Seite Handlungsbedarf). "
            "Gesperrte Werte werden nicht gereiht.")
    mine["klasse"] = None
    cols = ["rang", "sozialraum_id", "sozialraum", "wert", "gesperrt", "wert_text", "rang_stadt", "rang_stadt_text", "jahr", "klasse"]
    return _mark_ranking(con, mine[cols], [iid], y, actor=actor), note


def _mark_ranking(con, frame: pd.DataFrame, indicator_ids: list[str], year, *, actor: Actor) -> pd.DataFrame:
    """``umgerechnet``: the methods by which values of ``indicator_ids`` in ``year`` behind a row were re-allocated
    from an earlier Gebietsstand (Issue 19), and a "*" after ``wert_text`` for such rows."""
    out = frame.copy()
    marks = query.reallocated(con, list(indicator_ids), actor=actor)
    if year is not None and len(marks):
        marks = marks[marks["jahr"].astype(int) == int(year)]
    per = marks.groupby("sozialraum_id")["umgerechnet"].agg(lambda m: "; ".join(sorted(set(m)))) if len(marks) else {}
    out["umgerechnet"] = [per.get(sid, "") if year is not None else "" for sid in out["sozialraum_id"]]
    hit = (out["umgerechnet"] != "").to_numpy()
    out.loc[hit, "wert_text"] = out.loc[hit, "wert_text"].astype(str) + f" {UMR_MARK}"
    return out


def _index_ranking(con, ids, year: int | None, *, actor: Actor) -> tuple[pd.DataFrame, str] | None:
    """Ranking by the saved Handlungsbedarf method (the standard one, else the first saved one); None when
    there is no saved method or it cannot be computed."""
    try:
        saved = index_method.methods(con)
        if saved is None or saved.empty:
            return None
        names = list(saved["name"])
        name = index_method.STANDARD_METHOD_NAME if index_method.STANDARD_METHOD_NAME in names else names[0]
        method = index_method.get_method(con, name)
        all_yrs = [y for y in index_compute.years_available(con, method) if year is None or y <= int(year)]
        if not all_yrs:
            return None
        # an incompletely delivered year is not ranked (as on the page Handlungsbedarf): the latest complete one
        # (the latest year alone is asked first: usually it is complete and the earlier years do not matter)
        gaps = index_compute.incomplete_years(con, method.indicator_ids, all_yrs[-1:])
        if gaps:
            gaps = index_compute.incomplete_years(con, method.indicator_ids, all_yrs)
        yrs = [y for y in all_yrs if y not in gaps] or all_yrs
        skipped = [y for y in all_yrs if y > yrs[-1]]
        result = index_compute.compute(con, method, yrs[-1], with_robustness=False, actor=actor)
        res, protection_note = result.to_json(), index_compute.protection_note(result)
    except Exception:  # noqa: BLE001 - a broken method must not break the report; fall back to one indicator
        return None
    rows = res["sozialraeume"]
    n_rated = sum(1 for r in rows if r["rank"] is not None)
    mine = [r for r in rows if r["id"] in set(ids)]
    mine.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["id"]))
    out = pd.DataFrame({
        "rang": [i + 1 if r["rank"] is not None else None for i, r in enumerate(mine)],
        "sozialraum_id": [r["id"] for r in mine],
        "sozialraum": [r["name"] for r in mine],
        "wert": [r["value"] for r in mine],
        "gesperrt": [False] * len(mine),
        "wert_text": [(f"{fmt.number(r['value'], 2)} ({r['class']})" if r["value"] is not None
                       else (", ".join(r["flags"]) or fmt.NOTHING)) for r in mine],
        "rang_stadt": [r["rank"] for r in mine],
        "rang_stadt_text": [f"{r['rank']} von {n_rated}" if r["rank"] is not None else "nicht gereiht" for r in mine],
        "jahr": res["year"],
        "klasse": [r["class"] for r in mine],
    })
    m = res["method"]
    note = (f"Rangfolge nach dem gespeicherten Verfahren „{m['name']}“ (Version {m.get('version')}, "
            f"{'z-Werte' if m['kind'] == 'zscore' else 'Punkte'}, {len(m['indicators'])} Indikatoren) für {res['year']}: "
            "Wert = Handlungsbedarfsindex (höher = mehr Bedarf) mit Klasse. Die Herleitung zeigt die Seite „Handlungsbedarf“.")
    if skipped:
        note += (f" {', '.join(map(str, skipped))} {'ist' if len(skipped) == 1 else 'sind'} unvollständig geliefert "
                 "und wird nicht gereiht.")
    if protection_note:
        note += " " + protection_note
    return _mark_ranking(con, out, list(method.indicator_ids), res["year"], actor=actor), note


DEVELOPMENT_COLUMNS = ["indikator_id", "jahr", "gebiet", "art", "wert", "gesperrt", "wert_text", "unvollstaendig", "umgerechnet"]


def development(con, scope: Scope, ids: list[str] | None = None, with_areas: bool = True,
                values: pd.DataFrame | None = None, *, actor: Actor, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Yearly values for charts: the scope, the city, the district (for a Sozialraum), the areas.

    Columns: indikator_id, jahr, gebiet, art ('Sozialraum'|'Stadtbezirk'|'Gesamtstadt'), wert,
    gesperrt, wert_text (with "*" when re-allocated from an earlier Gebietsstand), unvollstaendig, umgerechnet
    (the method of that re-allocation, else ""). ``cat``: the catalogue indexed by id, if already read.

    Rows per indicator (in the order of ``ids``), then per line (:func:`_development_lines`), then by year; all
    indicators and lines are cut out of ``values`` at once (a frame per indicator and line cost a tenth of a second).
    """
    cat = catalogue(con, cat)
    wanted = [i for i in (ids or chart_ids(con, cat)) if i in cat.index]
    vals = values if values is not None else protected_values(con, wanted, actor=actor)
    marks = query.reallocated(con, wanted, actor=actor)  # values re-allocated from an earlier Gebietsstand
    marked = {(r[0], r[1], int(r[2])): r[3] for r in marks.itertuples(index=False)}
    order = {iid: k for k, iid in enumerate(wanted)}
    vals = vals[vals["indikator_id"].isin(list(order)).to_numpy()]
    parts = []
    for k, (mask, name, art, sids, pos, coverage_applies) in enumerate(_development_lines(con, scope, with_areas, vals)):
        rows = vals[mask]
        if rows.empty:
            continue
        f = pd.DataFrame({"_i": rows["indikator_id"].map(order).to_numpy(), "_g": k,
                          "_p": 0 if pos is None else pos[mask], "jahr": rows["jahr"].to_numpy(),
                          "wert": rows["wert"].to_numpy(),
                          "gesperrt": rows["gesperrt"].fillna(False).astype(bool).to_numpy(),
                          "indikator_id": rows["indikator_id"].to_numpy(),
                          "gebiet": name if isinstance(name, str) else name[mask], "art": art,
                          "_sid": sids if sids is None or isinstance(sids, str) else sids[mask]})
        # an incomplete delivery year of a Stadtbezirk or the city: no value ("–"), marked
        f["unvollstaendig"] = ((rows["gebiete_geliefert"] < rows["gebiete_gesamt"]).fillna(False).to_numpy(dtype=bool)
                               if coverage_applies and "gebiete_gesamt" in rows.columns else False)
        parts.append(f)
    if not parts:
        return pd.DataFrame(columns=DEVELOPMENT_COLUMNS)
    out = pd.concat(parts, ignore_index=True).sort_values(["_i", "_g", "_p", "jahr"], kind="stable", ignore_index=True)
    out["umgerechnet"] = [marked.get((iid, a, int(y)), "") if a else ""
                          for iid, a, y in zip(out["indikator_id"], out["_sid"], out["jahr"])]
    units_ = {iid: (cat.loc[iid, "einheit"], decimals_of(cat, iid)) for iid in wanted}
    out["wert_text"] = [(fmt.NOTHING if inc else fmt.value(w, *units_[iid], suppressed=g)) + (f" {UMR_MARK}" if m else "")
                        for iid, w, g, inc, m in zip(out["indikator_id"], out["wert"], out["gesperrt"], out["unvollstaendig"],
                                                     out["umgerechnet"])]
    out["jahr"] = out["jahr"].astype(int)
    return out[DEVELOPMENT_COLUMNS]


def _development_lines(con, scope: Scope, with_areas: bool, vals: pd.DataFrame) -> list[tuple]:
    """The lines of :func:`development` in their order: (row mask of ``vals``, gebiet (text or per row), art, the
    Sozialraum id for re-allocation marks (None, text or per row), position within the line (None or per row),
    whether the coverage columns apply)."""
    level, sid, bid = (vals[c].to_numpy() for c in ("ebene", "sozialraum_id", "stadtbezirk_id"))
    lines: list[tuple] = []
    if scope.kind == "sozialraum":
        lines.append(((level == AREA) & (sid == scope.id), scope.name, "Sozialraum", scope.id, None, True))
        lines.append(((level == DISTRICT) & (bid == scope.bezirk_id), f"Bezirk {scope.bezirk_name}", "Stadtbezirk", None,
                      None, True))
    elif scope.kind == "bezirk":
        lines.append(((level == DISTRICT) & (bid == scope.id), f"Bezirk {scope.name}", "Stadtbezirk", None, None, True))
        if with_areas:
            # all Sozialräume of the district at once, in the order of ``areas`` and by year
            areas = indicators.areas(con)
            own = areas[areas["bezirk_id"] == scope.id]
            pos = pd.Series(sid).map({a: k for k, a in enumerate(own["id"])})
            names = pd.Series(sid).map(dict(zip(own["id"], own["name"]))).to_numpy()
            lines.append(((level == AREA) & pos.notna().to_numpy(), names, "Sozialraum", sid, pos.to_numpy(), False))
    else:
        for b in indicators.bezirke(con).to_dict("records"):
            lines.append(((level == DISTRICT) & (bid == b["id"]), f"Bezirk {b['name']}", "Stadtbezirk", None, None, True))
    lines.append((level == CITY, "Gesamtstadt", "Gesamtstadt", None, None, True))
    return lines


def area_table(con, scope: Scope, year: int | None = None, ids: list[str] | None = None,
               values: pd.DataFrame | None = None, *, actor: Actor, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """Formatted values of every Sozialraum in the scope (rows) per indicator (columns by id),
    followed by the district and city rows. Column ``jahr_<id>`` holds each indicator's year, ``ki_<id>``
    the value with its 95 % interval (:func:`with_interval`). ``cat``: the catalogue indexed by id, if already read."""
    cat = catalogue(con, cat)
    wanted = [i for i in (ids or list(cat.index)) if i in cat.index]
    vals = values if values is not None else protected_values(con, wanted, actor=actor)
    areas = indicators.areas(con)
    rows_ids = list(scope.area_ids)
    groups: list[tuple[str, str, tuple]] = [(a, areas.set_index("id").loc[a, "name"], (AREA, a)) for a in rows_ids]
    if scope.kind == "sozialraum" and scope.bezirk_id:
        groups.append(("", f"Bezirk {scope.bezirk_name}", (DISTRICT, scope.bezirk_id)))
    elif scope.kind == "bezirk":
        groups.append(("", f"Bezirk {scope.name}", (DISTRICT, scope.id)))
    elif scope.kind == "stadt":
        for bz in indicators.bezirke(con).to_dict("records"):
            groups.append(("", f"Bezirk {bz['name']}", (DISTRICT, bz["id"])))
    groups.append(("", "Gesamtstadt", (CITY, None)))
    out = pd.DataFrame({"sozialraum_id": [g[0] for g in groups], "gebiet": [g[1] for g in groups]})
    marks = query.reallocated(con, wanted, actor=actor)  # values re-allocated from an earlier Gebietsstand
    marked = {(r[0], r[1], int(r[2])): r[3] for r in marks.itertuples(index=False)}
    methods: set[str] = set()
    ind = vals["indikator_id"].to_numpy()
    for iid in wanted:
        v = vals[ind == iid]
        unit = cat.loc[iid, "einheit"]
        y = year_of(v, year)
        dec = decimals_of(cat, iid)
        cells = _cells_of_year(v, y, [g[2] for g in groups])
        with np.errstate(all="ignore"):  # the intervals of all cells at once (:func:`with_interval` per cell)
            lo, hi = uncertainty.interval([c[0] for c in cells], [c[2] for c in cells], [c[3] for c in cells], unit)
        texts, with_ki = [], []
        for (sid, _name, _members), (w, prot, _k, _n), a, b in zip(groups, cells, lo, hi):
            method = marked.get((iid, sid, int(y))) if sid and y is not None else None
            mark = f" {UMR_MARK}" if method else ""  # re-allocated from an earlier Gebietsstand (Issue 19)
            if method:
                methods.add(method)
            text = fmt.value(w, unit, dec, suppressed=prot)
            texts.append(text + mark)
            ki = text if prot or w is None else uncertainty.text(w, a, b, unit, dec)
            with_ki.append(ki + mark if ki else ki)
        out[iid] = texts
        out[f"jahr_{iid}"] = y
        out[f"ki_{iid}"] = with_ki
    out.attrs["umgerechnet"] = sorted(methods)  # the methods behind the marks, for the note under the table
    return out


def _cells_of_year(v: pd.DataFrame, year: int | None, keys: list[tuple]) -> list[tuple]:
    """(value or None, protected, numerator, denominator) of each cell ``keys`` ((level, id) as for
    :func:`series`) of one indicator's protected table ``v`` in ``year``, as :func:`value_at` reads it."""
    empty = (None, False, None, None)
    if year is None:
        return [empty] * len(keys)
    vy = v[v["jahr"].to_numpy() == year]
    found: dict[tuple, tuple] = {}
    for level, sid, bid, w, prot, k, n in zip(vy["ebene"], vy["sozialraum_id"], vy["stadtbezirk_id"], vy["wert"],
                                              vy["gesperrt"], vy["zaehler"], vy["nenner"]):
        key = (level, sid if level == AREA else bid if level == DISTRICT else None)
        if key not in found:
            found[key] = (None if pd.isna(w) else float(w), False if pd.isna(prot) else bool(prot), k, n)
    return [found.get(key, empty) for key in keys]


def _table_exists(con, name: str) -> bool:
    row = con.cursor().execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return bool(row and row[0])


def _readable(field: str, text) -> str:
    """A history value as German text (ISO dates -> TT.MM.JJJJ, lists with commas)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return fmt.NOTHING
    t = str(text)
    try:
        return dt.date.fromisoformat(t).strftime("%d.%m.%Y")
    except ValueError:
        return t.replace("|", ", ")


def recommendations(con, scope: Scope, since: dt.date | None = None, *, actor: Actor) -> tuple[pd.DataFrame, str | None]:
    """Handlungsempfehlungen for the scope's Sozialräume (and the city-wide ones) with status, the
    derived "überfällig" flag and the changes since ``since`` (e.g. the last meeting); a note instead
    when the catalogue is not available.

    Built on :mod:`quartier.actions.store` (visibility: internal recommendations only for staff).
    """
    cols = ["id", "titel", "handlungsfeld", "ebene", "status", "status_symbol", "fortschritt", "federfuehrung",
            "ende_geplant", "sozialraeume", "ueberfaellig", "ohne_aktualisierung", "geaendert_seit", "aenderungen"]
    if importlib.util.find_spec("quartier.actions.store") is None or not _table_exists(con, "empfehlung"):
        return pd.DataFrame(columns=cols), "Der Katalog der Handlungsempfehlungen ist noch nicht eingerichtet."
    from quartier.actions import model, store

    df = store.listing(con, actor=actor)
    if df.empty:
        return pd.DataFrame(columns=cols), "Noch keine Handlungsempfehlungen erfasst."
    if scope.kind == "bezirk":
        df = store.of_district(df, str(scope.id))  # the one definition (store.DISTRICT_RULE)
    elif scope.kind != "stadt":
        mine = set(scope.area_ids)
        df = df[(df["ebene"] == "stadtweit") | df["sozialraeume"].map(lambda ids: bool(mine & set(ids)))]
    df = df.copy()
    df["sozialraeume"] = [("stadtweit" if e == "stadtweit" else (", ".join(n) or fmt.NOTHING))
                          for e, n in zip(df["ebene"], df["sozialraum_namen"])]
    df["status_symbol"] = df["status"].map(lambda st: model.STATUS_BY_NAME[st].symbol if st in model.STATUS_BY_NAME else "")
    changes: dict[str, list[str]] = {}
    if since is not None and len(df):
        ch = store.changed_since(con, since, actor=actor)
        ch = ch[ch["empfehlung_id"].isin(set(df["id"]))].iloc[::-1]   # oldest first
        for r in ch.to_dict("records"):
            when = pd.Timestamp(r["zeitpunkt"]).strftime("%d.%m.%Y")
            label = r["feld_label"]
            if r["alt"] is None or (isinstance(r["alt"], float) and math.isnan(r["alt"])):
                text = f"{label}: {_readable(r['feld'], r['neu'])} ({when})"
            else:
                text = f"{label}: {_readable(r['feld'], r['alt'])} → {_readable(r['feld'], r['neu'])} ({when})"
            changes.setdefault(r["empfehlung_id"], []).append(text)
    df["geaendert_seit"] = [rid in changes for rid in df["id"]]
    df["aenderungen"] = ["; ".join(changes.get(rid, [])) for rid in df["id"]]
    return df[cols].sort_values("id").reset_index(drop=True), None


def definitions(con, ids: list[str] | None = None, cat: pd.DataFrame | None = None) -> pd.DataFrame:
    """The catalogue's definitions (of ``ids``, else all) in catalogue order; ``cat``: the catalogue indexed by
    id, if already read."""
    cat = indicators.catalogue(con) if cat is None else cat.reset_index()
    if ids:
        cat = cat[cat["id"].isin(ids)]
    return cat[["id", "name", "einheit", "lieferant", "richtung", "definition", "zaehler_def", "nenner_def", "handlungsfeld"]]


@dataclass
class Summary:
    scope: Scope
    city: str
    demo: bool
    attribution: str | None
    headline: pd.DataFrame
    ranking: pd.DataFrame
    ranking_note: str
    development: pd.DataFrame
    areas: pd.DataFrame
    recommendations: pd.DataFrame
    recommendations_note: str | None
    status: pd.DataFrame
    since: dt.date | None = None
    year: int | None = None
    created: dt.datetime = field(default_factory=dt.datetime.now)
    values: pd.DataFrame | None = None   # the protected table everything above was built from


def summary(con, scope: Scope, year: int | None = None, since: dt.date | None = None,
            with_table: bool = True, *, actor: Actor) -> Summary:
    """Everything a view or report of ``scope`` shows. ``with_table=False`` skips the table of all
    indicators per Sozialraum (the PDF needs it, the page does not) and loads only the indicators
    shown on the page. The catalogue and the settings are read once and handed to every part."""
    cat = catalogue(con)
    cat_ids = list(cat.index)
    rank = rank_indicator(con, cat)
    wanted = None if with_table else [i for i in dict.fromkeys(headline_ids(con, cat) + chart_ids(con, cat) + ([rank] if rank else []))
                                      if i in cat_ids]
    vals = protected_values(con, wanted, actor=actor) if with_table or scope.kind == "stadt" else \
        scope_values(con, wanted, scope, actor=actor, cat=cat)
    head = headline(con, scope, year, values=vals, actor=actor, cat=cat)
    rank, note = need_ranking(con, scope, year, values=vals, actor=actor, cat=cat)
    dev = development(con, scope, values=vals, actor=actor, cat=cat)
    table = area_table(con, scope, year, ids=cat_ids, values=vals, actor=actor, cat=cat) if with_table else pd.DataFrame()
    recs, rec_note = recommendations(con, scope, since, actor=actor)
    # "demo": the database holds the demo city (the setting ``python -m quartier demo`` writes; read here so that
    # a report does not depend on the demo package)
    setting = _settings(con, ("stadt", "attribution", "demo"))
    return Summary(
        scope=scope, city=setting.get("stadt", "Stadt") or "Stadt", demo=setting.get("demo", "0") == "1",
        attribution=setting.get("attribution"), headline=head, ranking=rank, ranking_note=note,
        development=dev, areas=table, recommendations=recs, recommendations_note=rec_note,
        status=overview.delivery_status(con), since=since, year=year, values=vals,
    )


def _settings(con, keys: tuple[str, ...]) -> dict[str, str | None]:
    """The stored settings among ``keys`` in one query (:func:`quartier.db.get_setting` for several keys; a key
    without a row is missing from the result)."""
    rows = con.cursor().execute("SELECT schluessel, wert FROM einstellung WHERE list_contains(?, schluessel)",
                                [list(keys)]).fetchall()
    return {str(k): v for k, v in rows}


def district_summary(con, bezirk_id: str, year: int | None = None, since: dt.date | None = None,
                     with_table: bool = True, *, actor: Actor) -> Summary:
    """Everything the district view shows, for one Stadtbezirk (id or tolerant name)."""
    return summary(con, bezirk_scope(con, bezirk_id), year, since, with_table, actor=actor)
