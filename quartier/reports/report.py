"""District view and printable reports (Bezirksbericht) for the city, a Stadtbezirk or one Sozialraum.

The same functions feed the page "Mein Bezirk" and the PDF, so both show the same figures. Values
always come from :func:`quartier.indicators.current_values` with the caller's actor: for users who
may not see raw values, protected values are never shown ("•"), and an aggregate (district, city)
that contains a protected Sozialraum is protected too (so that the protected value cannot be
recovered as the difference of the total and the other Sozialräume).

No Streamlit here. The PDF uses fpdf2 with the embedded DejaVu Sans font; maps are drawn as SVG and
charts with Altair, both rendered to PNG by vl-convert.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from quartier import db
from quartier import format as fmt
from quartier.errors import QuartierError
from quartier.names import normalize
from quartier.values import indicators, overview

HEADLINE_IDS = ["sgb2_u18", "sgb2_u15", "seu_sprache", "hze_quote", "ohne_abschluss", "ew_u18"]
CHART_IDS = ["sgb2_u18", "sgb2_u15", "seu_sprache", "hze_quote"]
RANK_INDICATOR = "sgb2_u18"
FONT_DIR = Path(os.environ.get("QUARTIER_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
# Okabe-Ito (colour-blind safe): favourable = blue, unfavourable = vermillion, neutral = grey.
COLOR_GOOD, COLOR_BAD, COLOR_NEUTRAL = "#0072B2", "#B34700", "#555555"  # contrast >= 4.5:1 on white
# Need classes on the map, from least to most need (sequential, colour-blind safe, print-friendly).
MAP_CLASS_COLORS = ["#fef0d9", "#fdcc8a", "#fc8d59", "#d7301f"]
INTERNAL_NOTE = "Interner Bericht: enthält Werte aus kleinen Fallzahlen – nicht veröffentlichen"
KIND_LABEL = {"stadt": "Gesamtstadt", "bezirk": "Stadtbezirk", "sozialraum": "Sozialraum"}


class ReportError(QuartierError):
    """A report cannot be made; the message says why and what to do (German)."""


class ScopeError(ReportError):
    """Unknown district or Sozialraum; ``valid`` lists the accepted choices."""

    def __init__(self, message: str, valid: list[str]):
        super().__init__(message)
        self.valid = valid


@dataclass(frozen=True)
class Scope:
    kind: str                      # 'stadt' | 'bezirk' | 'sozialraum'
    id: str | None
    name: str
    area_ids: tuple[str, ...]
    bezirk_id: str | None = None   # the district of a Sozialraum (or the district itself)
    bezirk_name: str | None = None

    @property
    def title(self) -> str:
        return {"stadt": "Stadtbericht", "bezirk": "Bezirksbericht", "sozialraum": "Sozialraumbericht"}[self.kind]

    @property
    def label(self) -> str:
        return self.name if self.kind != "stadt" else "Gesamtstadt"


# --------------------------------------------------------------------------------------------- scope

def city_scope(con) -> Scope:
    areas = indicators.areas(con)
    return Scope("stadt", None, db.get_setting(con, "stadt", "Stadt") or "Stadt", tuple(areas["id"]))


def bezirk_scope(con, key: str) -> Scope:
    """A Stadtbezirk by id (``haspe``), number or name (``Haspe``, ``eilpe dahl``), tolerant."""
    bz = indicators.bezirke(con)
    want = normalize(key)
    for r in bz.to_dict("records"):
        if want and want in (normalize(r["id"]), normalize(r["name"]), normalize(r["nr"])):
            areas = indicators.areas(con)
            ids = tuple(areas.loc[areas["bezirk_id"] == r["id"], "id"])
            return Scope("bezirk", r["id"], r["name"], ids, r["id"], r["name"])
    valid = [f"{r['id']} ({r['name']})" for r in bz.to_dict("records")]
    raise ScopeError(f"Stadtbezirk „{key}“ ist unbekannt. Möglich sind: {', '.join(valid) or 'keine (noch keine Gebiete eingerichtet)'}.", valid)


def sozialraum_scope(con, key: str) -> Scope:
    areas = indicators.areas(con)
    want = normalize(key)
    for r in areas.to_dict("records"):
        if want and want in (normalize(r["id"]), normalize(r["name"])):
            return Scope("sozialraum", r["id"], r["name"], (r["id"],), r["bezirk_id"], r["bezirk"])
    valid = [f"{r['id']} ({r['name']})" for r in areas.to_dict("records")]
    raise ScopeError(f"Sozialraum „{key}“ ist unbekannt. Möglich sind: {', '.join(valid) or 'keine'}.", valid)


def resolve_scope(con, kind: str, key: str | None = None) -> Scope:
    if kind == "stadt":
        return city_scope(con)
    if kind == "bezirk":
        return bezirk_scope(con, key or "")
    if kind == "sozialraum":
        return sozialraum_scope(con, key or "")
    raise ValueError(kind)


# -------------------------------------------------------------------------------------------- values

def _values(con, actor, ids: list[str] | None = None) -> pd.DataFrame:
    """Sozialraum values plus Stadtbezirk and city totals, protected for ``actor``
    (:func:`quartier.protection.protected_table`: primary and secondary suppression, so that the
    totals shown next to a protected Sozialraum never reveal it). ``actor=None`` is the public view."""
    from quartier.values import protection

    return protection.protected_table(con, ids, actor=actor)


AREA, DISTRICT, CITY = "Sozialraum", "Stadtbezirk", "Stadt"


def scope_values(con, actor, ids: list[str], scope: Scope) -> pd.DataFrame:
    """:func:`_values` for a district or Sozialraum view: one indicator at a time, keeping the
    Sozialraum rows of the scope's areas only (all areas of ``RANK_INDICATOR``, which ranks against
    the city), and every Stadtbezirk and city row.

    The protection is computed per indicator and year anyway, so the kept cells are the same as in
    the whole table; at 10,000 Sozialräume the district view then holds a few MB instead of 170 MB,
    and the peak while loading is a seventh.
    """
    keep = set(scope.area_ids)
    parts = []
    for iid in ids:
        t = _values(con, actor, [iid])
        if iid != RANK_INDICATOR:
            t = t[(t["ebene"] != AREA) | t["sozialraum_id"].isin(keep)]
        parts.append(t)
    if not parts:
        return _values(con, actor, [])
    return pd.concat(parts, ignore_index=True)


def _key(scope: Scope) -> tuple[str, str | None]:
    return {"stadt": (CITY, None), "bezirk": (DISTRICT, scope.id), "sozialraum": (AREA, scope.id)}[scope.kind]


def _series(values: pd.DataFrame, key: tuple[str, str | None]) -> pd.DataFrame:
    """Yearly values of one cell of the protected table: (level, Sozialraum/Stadtbezirk id or None)."""
    level, ident = key
    mask = values["ebene"].to_numpy() == level
    if level == AREA:
        mask &= values["sozialraum_id"].to_numpy() == ident
    elif level == DISTRICT:
        mask &= values["stadtbezirk_id"].to_numpy() == ident
    out = values.loc[mask, ["jahr", "wert", "zaehler", "nenner", "gesperrt"]].copy()
    out["gesperrt"] = out["gesperrt"].fillna(False).astype(bool)
    return out.sort_values("jahr").reset_index(drop=True)


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


def _year_of(series: pd.DataFrame, year: int | None) -> int | None:
    if series.empty:
        return None
    yrs = sorted(int(y) for y in series["jahr"].unique())
    if year is None:
        return yrs[-1]
    cand = [y for y in yrs if y <= int(year)]
    return cand[-1] if cand else None


def _at(series: pd.DataFrame, year: int | None):
    if year is None or series.empty:
        return None, False
    row = series[series["jahr"] == year]
    if row.empty:
        return None, False
    r = row.iloc[0]
    w = r["wert"]
    return (None if pd.isna(w) else float(w)), bool(r["gesperrt"])


def headline(con, scope: Scope, actor, year: int | None = None, ids: list[str] | None = None,
             values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Headline figures of the scope against the city (and, for a Sozialraum, its district).

    One row per indicator: value in the latest year (or ``year``), change to the year before, the
    trend's arrow/word and its meaning by the indicator's direction, and the reference values, all
    also as formatted German text (``*_text``).
    """
    cat = indicators.catalogue(con).set_index("id")
    wanted = [i for i in (ids or HEADLINE_IDS) if i in cat.index]
    vals = values if values is not None else _values(con, actor, wanted)
    bez_ids = scope.kind == "sozialraum" and bool(scope.bezirk_id)
    rows = []
    for iid in wanted:
        v = vals[vals["indikator_id"] == iid]
        if v.empty:
            continue
        unit, direction = cat.loc[iid, "einheit"], cat.loc[iid, "richtung"]
        direction = None if pd.isna(direction) else direction
        s = _series(v, _key(scope))
        y = _year_of(s, year)
        if y is None:
            continue
        w, prot = _at(s, y)
        pw, pprot = _at(s, y - 1)
        change = None if (w is None or pw is None) else w - pw
        arrow, word, judgement = trend_meaning(change, direction)
        city = _series(v, (CITY, None))
        cw, cprot = _at(city, y)
        row = {
            "indikator_id": iid, "name": cat.loc[iid, "name"], "kurzname": cat.loc[iid, "kurzname"] or cat.loc[iid, "name"],
            "einheit": unit, "richtung": direction, "jahr": y, "wert": w, "gesperrt": prot, "vorjahr": pw,
            "veraenderung": change, "pfeil": arrow, "trend": word, "bewertung": judgement,
            "stadt": cw, "stadt_gesperrt": cprot,
            "wert_text": fmt.value(w, unit, suppressed=prot),
            "veraenderung_text": fmt.SUPPRESSED if (prot or pprot) else fmt.change(change, unit),
            "trend_text": _trend_text(arrow, word, judgement, prot or pprot),
            "stadt_text": fmt.value(cw, unit, suppressed=cprot),
        }
        if bez_ids:
            bw, bprot = _at(_series(v, (DISTRICT, scope.bezirk_id)), y)
            row.update({"bezirk": bw, "bezirk_gesperrt": bprot, "bezirk_text": fmt.value(bw, unit, suppressed=bprot)})
        rows.append(row)
    return pd.DataFrame(rows)


def _trend_text(arrow: str, word: str, judgement: str | None, protected: bool) -> str:
    if protected:
        return "gesperrt"
    if not arrow:
        return word
    return f"{arrow} {word}" + (f" ({judgement})" if judgement else "")


def need_ranking(con, scope: Scope, actor, year: int | None = None,
                 values: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str]:
    """The Sozialräume of the scope ranked by need (rank 1 = most need) and a sentence on the method.

    Uses the saved Handlungsbedarf method of :mod:`quartier.index` when one is saved; otherwise ranks
    by the indicator ``RANK_INDICATOR`` (oriented by its direction; protected values are not ranked).
    For a Sozialraum the ranking is its district's.
    """
    ids = scope.area_ids
    if scope.kind == "sozialraum" and scope.bezirk_id:
        a = indicators.areas(con)
        ids = tuple(a.loc[a["bezirk_id"] == scope.bezirk_id, "id"])
    by_index = _index_ranking(con, ids, year)
    if by_index is not None:
        return by_index
    cat = indicators.catalogue(con).set_index("id")
    iid = RANK_INDICATOR if RANK_INDICATOR in cat.index else next(
        (i for i in cat.index if not pd.isna(cat.loc[i, "richtung"])), None)
    if iid is None:
        return pd.DataFrame(columns=["rang", "sozialraum_id", "sozialraum", "wert", "wert_text", "rang_stadt"]), \
            "Keine Rangfolge möglich: kein Indikator mit Richtung vorhanden."
    vals = values if values is not None else _values(con, actor, [iid])
    v = vals[(vals["indikator_id"] == iid) & (vals["ebene"] == AREA)]
    y = _year_of(v, year)
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
    mine["wert_text"] = [fmt.value(w, unit, suppressed=g) for w, g in zip(mine["wert"], mine["gesperrt"])]
    mine["rang_stadt_text"] = [f"{int(r)} von {n_city}" if not pd.isna(r) else "nicht gereiht" for r in mine["rang_stadt"]]
    mine["jahr"] = y
    note = (f"Rangfolge nach „{cat.loc[iid, 'name']}“ {y} ({indicators.DIRECTION_LABEL.get(direction)}); "
            "ein gespeichertes Index-Verfahren für den Handlungsbedarf ist noch nicht eingerichtet. "
            "Gesperrte Werte werden nicht gereiht.")
    mine["klasse"] = None
    cols = ["rang", "sozialraum_id", "sozialraum", "wert", "gesperrt", "wert_text", "rang_stadt", "rang_stadt_text", "jahr", "klasse"]
    return mine[cols], note


def _index_ranking(con, ids, year: int | None) -> tuple[pd.DataFrame, str] | None:
    """Ranking by the saved Handlungsbedarf method of :mod:`quartier.index` (the demo's, else the first
    saved one); None when there is no saved method or it cannot be computed."""
    if importlib.util.find_spec("quartier.need.index") is None:
        return None
    from quartier.need import index as index_mod

    try:
        saved = index_mod.methods(con)
        if saved is None or saved.empty:
            return None
        names = list(saved["name"])
        name = index_mod.DEMO_METHOD_NAME if index_mod.DEMO_METHOD_NAME in names else names[0]
        method = index_mod.get_method(con, name)
        yrs = [y for y in index_mod.years_available(con, method) if year is None or y <= int(year)]
        if not yrs:
            return None
        res = index_mod.compute(con, method, yrs[-1], with_robustness=False).to_json()
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
    return out, note


def development(con, scope: Scope, actor, ids: list[str] | None = None, with_areas: bool = True,
                values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Yearly values for charts: the scope, the city, the district (for a Sozialraum), the areas.

    Columns: indikator_id, jahr, gebiet, art ('Sozialraum'|'Stadtbezirk'|'Gesamtstadt'), wert,
    gesperrt, wert_text.
    """
    cat = indicators.catalogue(con).set_index("id")
    wanted = [i for i in (ids or CHART_IDS) if i in cat.index]
    vals = values if values is not None else _values(con, actor, wanted)
    areas = indicators.areas(con)
    frames = []
    for iid in wanted:
        v = vals[vals["indikator_id"] == iid]
        if v.empty:
            continue
        unit = cat.loc[iid, "einheit"]

        def add(s, name, art, iid=iid, unit=unit):
            if s.empty:
                return
            f = s[["jahr", "wert", "gesperrt"]].copy()
            f["indikator_id"], f["gebiet"], f["art"] = iid, name, art
            f["wert_text"] = [fmt.value(w, unit, suppressed=g) for w, g in zip(f["wert"], f["gesperrt"])]
            frames.append(f)

        if scope.kind == "sozialraum":
            add(_series(v, (AREA, scope.id)), scope.name, "Sozialraum")
            add(_series(v, (DISTRICT, scope.bezirk_id)), f"Bezirk {scope.bezirk_name}", "Stadtbezirk")
        elif scope.kind == "bezirk":
            add(_series(v, (DISTRICT, scope.id)), f"Bezirk {scope.name}", "Stadtbezirk")
            if with_areas:
                # all Sozialräume of the district at once, in the order of ``areas`` and by year (what
                # ``_series`` per area gave; filtering all rows once per area took seconds at 500 areas)
                own = areas[areas["bezirk_id"] == scope.id]
                order = {a: k for k, a in enumerate(own["id"])}
                ar = v[(v["ebene"].to_numpy() == AREA) & v["sozialraum_id"].isin(list(order)).to_numpy()]
                if len(ar):
                    ar = ar.assign(_pos=ar["sozialraum_id"].map(order)).sort_values(["_pos", "jahr"], kind="stable")
                    s_all = ar[["jahr", "wert", "gesperrt"]].copy()
                    s_all["gesperrt"] = s_all["gesperrt"].fillna(False).astype(bool)
                    add(s_all, ar["sozialraum_id"].map(dict(zip(own["id"], own["name"]))).to_numpy(), "Sozialraum")
        else:
            for b in indicators.bezirke(con).to_dict("records"):
                add(_series(v, (DISTRICT, b["id"])), f"Bezirk {b['name']}", "Stadtbezirk")
        add(_series(v, (CITY, None)), "Gesamtstadt", "Gesamtstadt")
    if not frames:
        return pd.DataFrame(columns=["indikator_id", "jahr", "gebiet", "art", "wert", "gesperrt", "wert_text"])
    out = pd.concat(frames, ignore_index=True)
    out["jahr"] = out["jahr"].astype(int)
    return out[["indikator_id", "jahr", "gebiet", "art", "wert", "gesperrt", "wert_text"]]


def area_table(con, scope: Scope, actor, year: int | None = None, ids: list[str] | None = None,
               values: pd.DataFrame | None = None) -> pd.DataFrame:
    """Formatted values of every Sozialraum in the scope (rows) per indicator (columns by id),
    followed by the district and city rows. Column ``jahr_<id>`` holds each indicator's year."""
    cat = indicators.catalogue(con).set_index("id")
    wanted = [i for i in (ids or list(cat.index)) if i in cat.index]
    vals = values if values is not None else _values(con, actor, wanted)
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
    for iid in wanted:
        v = vals[vals["indikator_id"] == iid]
        unit = cat.loc[iid, "einheit"]
        y = _year_of(v, year)
        texts = []
        for _sid, _name, members in groups:
            w, prot = _at(_series(v, members), y)
            texts.append(fmt.value(w, unit, suppressed=prot))
        out[iid] = texts
        out[f"jahr_{iid}"] = y
    return out


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


def recommendations(con, scope: Scope, actor=None, since: dt.date | None = None) -> tuple[pd.DataFrame, str | None]:
    """Handlungsempfehlungen for the scope's Sozialräume (and the city-wide ones) with status, the
    derived "überfällig" flag and the changes since ``since`` (e.g. the last meeting); a note instead
    when the catalogue is not available.

    Built on :mod:`quartier.catalogue` (visibility: internal recommendations only for staff).
    """
    cols = ["id", "titel", "handlungsfeld", "ebene", "status", "status_symbol", "fortschritt", "federfuehrung",
            "ende_geplant", "sozialraeume", "ueberfaellig", "ohne_aktualisierung", "geaendert_seit", "aenderungen"]
    if importlib.util.find_spec("quartier.actions.catalogue") is None or not _table_exists(con, "empfehlung"):
        return pd.DataFrame(columns=cols), "Der Katalog der Handlungsempfehlungen ist noch nicht eingerichtet."
    from quartier.actions import catalogue

    df = catalogue.listing(con, actor)
    if df.empty:
        return pd.DataFrame(columns=cols), "Noch keine Handlungsempfehlungen erfasst."
    if scope.kind != "stadt":
        mine = set(scope.area_ids)
        df = df[(df["ebene"] == "stadtweit") | df["sozialraeume"].map(lambda ids: bool(mine & set(ids)))]
    df = df.copy()
    df["sozialraeume"] = [("stadtweit" if e == "stadtweit" else (", ".join(n) or fmt.NOTHING))
                          for e, n in zip(df["ebene"], df["sozialraum_namen"])]
    df["status_symbol"] = df["status"].map(lambda st: catalogue.STATUS_BY_NAME[st].symbol if st in catalogue.STATUS_BY_NAME else "")
    changes: dict[str, list[str]] = {}
    if since is not None and len(df):
        ch = catalogue.changed_since(con, since, actor)
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


def definitions(con, ids: list[str] | None = None) -> pd.DataFrame:
    cat = indicators.catalogue(con)
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


def summary(con, scope: Scope, actor, year: int | None = None, since: dt.date | None = None,
            with_table: bool = True) -> Summary:
    """Everything a view or report of ``scope`` shows. ``with_table=False`` skips the table of all
    indicators per Sozialraum (the PDF needs it, the page does not) and loads only the indicators
    shown on the page."""
    from quartier.demo import hagen as demo

    cat_ids = list(indicators.catalogue(con)["id"])
    wanted = None if with_table else [i for i in dict.fromkeys(HEADLINE_IDS + CHART_IDS + [RANK_INDICATOR]) if i in cat_ids]
    vals = _values(con, actor, wanted) if with_table or scope.kind == "stadt" else \
        scope_values(con, actor, wanted, scope)
    head = headline(con, scope, actor, year, values=vals)
    rank, note = need_ranking(con, scope, actor, year, values=vals)
    dev = development(con, scope, actor, values=vals)
    table = area_table(con, scope, actor, year, ids=cat_ids, values=vals) if with_table else pd.DataFrame()
    recs, rec_note = recommendations(con, scope, actor, since)
    return Summary(
        scope=scope, city=db.get_setting(con, "stadt", "Stadt") or "Stadt", demo=demo.is_demo(con),
        attribution=db.get_setting(con, "attribution"), headline=head, ranking=rank, ranking_note=note,
        development=dev, areas=table, recommendations=recs, recommendations_note=rec_note,
        status=overview.delivery_status(con), since=since, year=year, values=vals,
    )


def district_summary(con, bezirk_id: str, actor, year: int | None = None, since: dt.date | None = None,
                     with_table: bool = True) -> Summary:
    """Everything the district view shows, for one Stadtbezirk (id or tolerant name)."""
    return summary(con, bezirk_scope(con, bezirk_id), actor, year, since, with_table)


# ---------------------------------------------------------------------------------------------- map

@dataclass
class MapData:
    areas: pd.DataFrame        # id, name, bezirk_id, geom (metric), in_scope, klasse, wert_text
    axes: list                 # (name, metric line)
    bounds: tuple[float, float, float, float]
    classes: list[str]         # legend texts, least to most need
    indicator_name: str


def map_data(con, scope: Scope, actor, values: pd.DataFrame | None = None, year: int | None = None) -> MapData:
    """Geometry (ETRS89/UTM 32N) of the scope's surroundings, need classes of the scope's areas
    (quartiles of the ranking indicator over the whole city), and the axes (B 7)."""
    from quartier.areas import geometry as geo

    geo_df = db.query_df(con, "SELECT id, name, bezirk_id, geometry FROM sozialraum ORDER BY id")
    import shapely

    from quartier.areas.corridor import to_metric_many

    geo_df["geom"] = list(to_metric_many(shapely.from_geojson(geo_df["geometry"].tolist())))
    geo_df = geo_df.drop(columns="geometry")
    geo_df["in_scope"] = geo_df["id"].isin(scope.area_ids)
    cat = indicators.catalogue(con).set_index("id")
    iid = RANK_INDICATOR if RANK_INDICATOR in cat.index else None
    classes: list[str] = []
    geo_df["klasse"] = None
    geo_df["wert_text"] = ""
    name = ""
    if iid:
        name = cat.loc[iid, "name"]
        unit = cat.loc[iid, "einheit"]
        v = values if values is not None else _values(con, actor, [iid])
        v = v[(v["ebene"] == AREA) & (v["indikator_id"] == iid)]
        y = _year_of(v, year)
        v = v[v["jahr"] == y]
        ok = v[v["wert"].notna() & ~v["gesperrt"].fillna(False).astype(bool)]
        if len(ok) >= 4:
            q = np.quantile(ok["wert"], [0.25, 0.5, 0.75])
            edges = [ok["wert"].min(), *q, ok["wert"].max()]
            classes = [f"{fmt.number(edges[i])} bis {fmt.number(edges[i + 1])}" for i in range(4)]
            if cat.loc[iid, "richtung"] == "lower":
                classes = classes[::-1]
            lower = cat.loc[iid, "richtung"] == "lower"
            by_id = {sid: (w, bool(g) if not pd.isna(g) else False)
                     for sid, w, g in zip(v["sozialraum_id"], v["wert"], v["gesperrt"])}
            kl, txt = [], []
            for sid in geo_df["id"]:
                if sid not in by_id:
                    kl.append(None)
                    txt.append(fmt.NOTHING)
                    continue
                w, locked = by_id[sid]
                if locked or pd.isna(w):
                    kl.append(None)
                else:
                    k = int(np.searchsorted(q, w, side="right"))
                    kl.append(3 - k if lower else k)
                txt.append(fmt.value(w, unit, suppressed=locked))
            geo_df["klasse"], geo_df["wert_text"] = kl, txt
            name = f"{name} {y}"
    axes = [(r["name"], geo.to_metric(geo.geom_from_text(r["geometry"])))
            for r in db.query_df(con, "SELECT name, geometry FROM achse ORDER BY name").to_dict("records")]
    focus = geo_df[geo_df["in_scope"]] if geo_df["in_scope"].any() else geo_df
    minx, miny, maxx, maxy = shapely.union_all(list(focus["geom"])).bounds
    pad = max(maxx - minx, maxy - miny) * 0.06 + 200
    return MapData(geo_df, axes, (minx - pad, miny - pad, maxx + pad, maxy + pad), classes, name)


def _svg_path(geom, tx) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for p in polys:
        if not hasattr(p, "exterior"):
            continue
        for ring in [p.exterior, *p.interiors]:
            pts = [tx(x, y) for x, y in ring.coords]
            parts.append("M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + " Z")
    return " ".join(parts)


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def map_svg(md: MapData, width: int = 900, height: int = 620, label: str = "name") -> str:
    """The map as SVG text: areas of the scope filled by need class, neighbours pale, labels, axes."""
    import shapely

    minx, miny, maxx, maxy = md.bounds
    legend_h = 70
    sx = width / (maxx - minx)
    sy = (height - legend_h) / (maxy - miny)
    s = min(sx, sy)
    ox = (width - (maxx - minx) * s) / 2
    oy = (height - legend_h - (maxy - miny) * s) / 2

    def tx(x, y):
        return ox + (x - minx) * s, oy + (maxy - y) * s

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
           '<defs><pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
           '<rect width="8" height="8" fill="#eeeeee"/><line x1="0" y1="0" x2="0" y2="8" stroke="#888" stroke-width="2"/>'
           f'</pattern><clipPath id="frame"><rect x="0" y="0" width="{width}" height="{height - legend_h}"/></clipPath></defs>',
           f'<rect width="{width}" height="{height}" fill="white"/>', '<g clip-path="url(#frame)">']
    for r in md.areas.to_dict("records"):
        if r["in_scope"]:
            fill = MAP_CLASS_COLORS[r["klasse"]] if r["klasse"] is not None else "url(#hatch)"
            out.append(f'<path d="{_svg_path(r["geom"], tx)}" fill="{fill}" stroke="#222" stroke-width="1.6"/>')
        else:
            out.append(f'<path d="{_svg_path(r["geom"], tx)}" fill="#f4f4f4" stroke="#aaa" stroke-width="0.8"/>')
    for name, line in md.axes:
        lines = getattr(line, "geoms", [line])
        for ln in lines:
            pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (tx(a, b) for a, b in ln.coords))
            out.append(f'<polyline points="{pts}" fill="none" stroke="white" stroke-width="9"/>')
            out.append(f'<polyline points="{pts}" fill="none" stroke="#000000" stroke-width="5"/>')
        # Label the axis where it is inside the frame.
        frame = shapely.box(minx, miny, maxx, maxy)
        inside = line.intersection(frame.buffer(-(maxx - minx) * 0.05))
        if not inside.is_empty:
            # put the label where it is farthest from the area labels
            labels = [r["geom"].representative_point() for r in md.areas[md.areas["in_scope"]].to_dict("records")]
            cands = [inside.interpolate(f, normalized=True) for f in np.linspace(0.05, 0.95, 19)]
            p = max(cands, key=lambda c: min((c.distance(q) for q in labels), default=0))
            x, y = tx(p.x, p.y)
            out.append(f'<rect x="{x - 24:.1f}" y="{y - 32:.1f}" width="48" height="24" rx="4" fill="#000"/>'
                       f'<text x="{x:.1f}" y="{y - 14:.1f}" font-family="DejaVu Sans" font-size="16" font-weight="bold" '
                       f'fill="#fff" text-anchor="middle">{_esc(name)}</text>')
    for r in md.areas[md.areas["in_scope"]].to_dict("records"):
        c = r["geom"].representative_point()
        x, y = tx(c.x, c.y)
        text = r["id"] if label == "id" else r["name"]
        fs = 15 if label == "id" else 13
        lines = [text] + ([r["wert_text"]] if r["wert_text"] else [])
        for i, t in enumerate(lines):
            out.append(f'<text x="{x:.1f}" y="{y + i * (fs + 3):.1f}" font-family="DejaVu Sans" font-size="{fs}" '
                       f'font-weight="{"bold" if i == 0 else "normal"}" text-anchor="middle" fill="#000" stroke="#fff" '
                       f'stroke-width="3" paint-order="stroke">{_esc(t)}</text>')
    out.append("</g>")
    ly = height - legend_h + 12
    out.append(f'<text x="8" y="{ly + 8}" font-family="DejaVu Sans" font-size="14" font-weight="bold">{_esc(md.indicator_name)}'
               ' – Klassen (Quartile der Stadt), von wenig zu viel Bedarf:</text>')
    x = 8
    for i, c in enumerate(md.classes):
        out.append(f'<rect x="{x}" y="{ly + 20}" width="26" height="18" fill="{MAP_CLASS_COLORS[i]}" stroke="#222"/>'
                   f'<text x="{x + 32}" y="{ly + 34}" font-family="DejaVu Sans" font-size="13">{_esc(c)}</text>')
        x += 175
    out.append(f'<rect x="{x}" y="{ly + 20}" width="26" height="18" fill="url(#hatch)" stroke="#222"/>'
               f'<text x="{x + 32}" y="{ly + 34}" font-family="DejaVu Sans" font-size="13">gesperrt/keine Daten</text>')
    out.append("</svg>")
    return "\n".join(out)


def map_png(md: MapData, width: int = 900, height: int = 620, scale: float = 2.0, label: str = "name") -> bytes:
    import vl_convert as vlc

    return vlc.svg_to_png(map_svg(md, width, height, label), scale=scale)


def map_text(md: MapData, scope: Scope) -> str:
    """A text alternative of the map."""
    mine = md.areas[md.areas["in_scope"]]
    parts = [f"{r['name']} ({r['wert_text'] or fmt.NOTHING})" for r in mine.to_dict("records")]
    axes = ", ".join(n for n, _ in md.axes)
    crosses = []
    import shapely

    u = shapely.union_all(list(mine["geom"])) if len(mine) else None
    for n, line in md.axes:
        if u is not None and line.intersects(u):
            hit = [r["name"] for r in mine.to_dict("records") if line.intersects(r["geom"])]
            crosses.append(f"Die {n} verläuft durch {', '.join(hit)}.")
    text = f"Karte {scope.label}: {md.indicator_name} – " + "; ".join(parts) + "."
    if crosses:
        text += " " + " ".join(crosses)
    elif axes:
        text += f" Die Achse {axes} berührt dieses Gebiet nicht."
    return text


# ------------------------------------------------------------------------------------------- charts

def chart_spec(dev: pd.DataFrame, indicator_id: str, title: str, unit: str | None, width: int = 380, height: int = 210,
               legend_orient: str = "bottom"):
    """Altair line chart of one indicator over the years (scope bold, city dashed, areas thin)."""
    import altair as alt

    d = dev[(dev["indikator_id"] == indicator_id) & dev["wert"].notna()].copy()
    d["wert"] = d["wert"].astype(float)
    d["betont"] = d["art"].map({"Sozialraum": 1, "Stadtbezirk": 3, "Gesamtstadt": 3}).fillna(1)
    order = list(dict.fromkeys(d.sort_values("art", key=lambda s: s.map({"Gesamtstadt": 0, "Stadtbezirk": 1, "Sozialraum": 2}))["gebiet"]))
    palette = ["#000000", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]
    # the focus series first (black/blue), the city dashed grey
    focus = [g for g in order if g != "Gesamtstadt"]
    domain = focus + ["Gesamtstadt"]
    rng = palette[1:len(focus) + 1] + ["#555555"]
    if len(rng) < len(domain):
        rng = (rng + palette * 3)[: len(domain)]
    ytitle = unit or ""
    base = alt.Chart(d).encode(
        x=alt.X("jahr:O", title="Jahr", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("wert:Q", title=ytitle, axis=alt.Axis(format=",.0f" if (unit or "").lower() == "anzahl" else ",.1f")),
        color=alt.Color("gebiet:N", title=None, scale=alt.Scale(domain=domain, range=rng),
                        legend=alt.Legend(orient="bottom", columns=2, labelLimit=260) if legend_orient == "bottom"
                        else alt.Legend(orient=legend_orient, labelLimit=320)),
        strokeDash=alt.condition(alt.datum.gebiet == "Gesamtstadt", alt.value([6, 4]), alt.value([1, 0])),
        strokeWidth=alt.StrokeWidth("betont:Q", legend=None, scale=alt.Scale(domain=[1, 3], range=[1.2, 3.5])),
    )
    chart = (base.mark_line() + base.mark_point(filled=True, size=25)).properties(
        title=title, width=width, height=height)
    return chart


def chart_png(chart, scale: float = 2.0) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_dict(), scale=scale, format_locale="de-DE")


# ---------------------------------------------------------------------------------------------- PDF

def _font_paths() -> tuple[Path, Path]:
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not regular.exists() or not bold.exists():
        raise ReportError(
            f"Die Schriftart DejaVu Sans fehlt ({regular}). Bitte das Paket fonts-dejavu-core installieren "
            "(apt-get install fonts-dejavu-core) oder QUARTIER_FONT_DIR auf einen Ordner mit DejaVuSans.ttf "
            "und DejaVuSans-Bold.ttf setzen."
        )
    return regular, bold


def _glyphs(font_path: Path) -> set[int]:
    from fontTools.ttLib import TTFont

    return set(TTFont(str(font_path), lazy=True).getBestCmap())


def _status_text(df: pd.DataFrame) -> list[str]:
    out = []
    for r in df.to_dict("records"):
        when = pd.Timestamp(r["importiert_am"]).strftime("%d.%m.%Y") if not pd.isna(r["importiert_am"]) else "–"
        year = fmt.NOTHING if pd.isna(r["letztes_jahr"]) else str(int(r["letztes_jahr"]))
        out.append(f"{r['lieferant']}: letzte Lieferung „{r['dateiname']}“ vom {when}, Berichtsjahr bis {year}")
    return out


def build_pdf(con, scope: Scope, actor, out_path: str | Path | None = None, year: int | None = None,
              since: dt.date | None = None, summ: Summary | None = None) -> bytes:
    """The report of ``scope`` (city, Stadtbezirk or Sozialraum) as PDF bytes; written to ``out_path`` if given.

    Built for ``actor``: for users who may see raw values every page says "Interner Bericht" (small
    numbers are not protected); for everyone else protected values are "•"."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    regular, bold = _font_paths()
    if not scope.area_ids:
        raise ReportError("Es sind noch keine Sozialräume eingerichtet: erst `python -m quartier demo` oder "
                          "`python -m quartier init` ausführen.")
    glyphs = _glyphs(regular)
    sm = summ or summary(con, scope, actor, year, since)
    internal = actor.can_see_raw
    cat = indicators.catalogue(con).set_index("id")
    today = dt.date.today().strftime("%d.%m.%Y")
    title = f"{scope.title} {scope.label}" if scope.kind != "stadt" else f"Stadtbericht {sm.city}"
    footer_left = f"{sm.city} · {title} · Stand {today}"

    class Report(FPDF):
        def header(self):
            if sm.demo:
                self.set_font("DejaVu", "B", 9)
                self.set_fill_color(255, 243, 205)
                self.set_text_color(90, 60, 0)
                self.cell(0, 6, "Beispieldaten – erfundene bzw. angenäherte Zahlen, keine amtlichen Angaben",
                          align="C", fill=True, new_x="LMARGIN", new_y="NEXT")
                self.set_text_color(0, 0, 0)
                self.ln(2)
            if internal:
                self.set_font("DejaVu", "B", 9)
                self.set_fill_color(255, 225, 225)
                self.set_text_color(140, 0, 0)
                self.cell(0, 6, INTERNAL_NOTE, align="C", fill=True, new_x="LMARGIN", new_y="NEXT")
                self.set_text_color(0, 0, 0)
                self.ln(2)

        def footer(self):
            self.set_y(-12)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(60, 60, 60)
            left = footer_left + (" · Beispieldaten" if sm.demo else "")
            self.cell(150, 5, left, align="L")
            self.cell(0, 5, f"Seite {self.page_no()} von {{nb}}", align="R")
            self.set_text_color(0, 0, 0)

    pdf = Report(orientation="P", unit="mm", format="A4")
    pdf.set_margins(15, 12, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("DejaVu", "", str(regular))
    pdf.add_font("DejaVu", "B", str(bold))
    pdf.set_lang("de-DE")
    pdf.set_title(title)
    pdf.set_author(f"Stadt {sm.city} – Jugendhilfeplanung (Quartier)")
    pdf.set_subject(f"{title}: Kennzahlen, Handlungsbedarf, Handlungsempfehlungen")
    pdf.set_creator("Quartier")
    pdf.set_display_mode("fullwidth")
    epw = pdf.w - pdf.l_margin - pdf.r_margin

    def h1(text):
        pdf.start_section(text, level=0)
        pdf.set_font("DejaVu", "B", 15)
        pdf.multi_cell(0, 8, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def para(text, size=9.5, style=""):
        pdf.set_font("DejaVu", style, size)
        pdf.multi_cell(0, 4.8, text, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def need_space(mm):
        if pdf.get_y() + mm > pdf.h - pdf.b_margin:
            pdf.add_page()

    heading_style = FontFace(emphasis="BOLD", fill_color=(225, 230, 240))

    # --- title page
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 20)
    pdf.multi_cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    sub = {"stadt": f"Stadt {sm.city} – alle Stadtbezirke und Sozialräume",
           "bezirk": f"Stadt {sm.city} – Stadtbezirk {scope.name} mit {len(scope.area_ids)} Sozialräumen",
           "sozialraum": f"Stadt {sm.city} – Sozialraum {scope.id} {scope.name}, Stadtbezirk {scope.bezirk_name}"}[scope.kind]
    pdf.multi_cell(0, 6, f"{sub}\nErstellt am {today} für die Jugendhilfeplanung"
                   + (f"; Änderungen seit {since.strftime('%d.%m.%Y')}" if since else ""), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    md = map_data(con, scope, actor, values=sm.values, year=year)
    png = map_png(md, height=860, label="id" if scope.kind == "stadt" else "name")
    alt_map = map_text(md, scope)
    pdf.image(io.BytesIO(png), x=pdf.l_margin, w=epw, alt_text=alt_map, title=f"Karte {scope.label}")
    pdf.ln(1)
    para(alt_map, size=8.5)

    # --- headline figures
    pdf.add_page()
    ref_label = "Stadt"
    h1("Kennzahlen im Überblick")
    head = sm.headline
    if head.empty:
        para("Für dieses Gebiet liegen noch keine Kennzahlen vor.")
    else:
        para(f"Werte von {scope.label} im Berichtsjahr (Spalte „Jahr“), Veränderung gegenüber dem Vorjahr und Vergleich "
             "mit der Gesamtstadt. Die Bewertung des Trends folgt der Richtung des Indikators "
             "(z. B. ist eine sinkende SGB-II-Quote günstig). Quoten größerer Gebiete aus der Summe der Zähler und Nenner.")
        has_bez = "bezirk_text" in head.columns
        widths = ((70, 14, 30, 28, 38) if scope.kind == "stadt" else
                  (58, 12, 24, 24, 38, 24) if not has_bez else (47, 10, 24, 22, 29, 25, 23))
        with pdf.table(col_widths=widths, text_align=("LEFT", "CENTER", "RIGHT", "RIGHT", "LEFT", "RIGHT", "RIGHT")[:len(widths)],
                       headings_style=heading_style, line_height=5, padding=1.2) as t:
            pdf.set_font("DejaVu", "", 8 if has_bez else 8.5)
            own = {"stadt": sm.city, "bezirk": scope.label, "sozialraum": "Sozialraum"}[scope.kind]
            hdr = ["Indikator", "Jahr", own, "ggü. Vorjahr", "Trend"]
            hdr += (["Stadtbezirk"] if has_bez else []) + ([ref_label] if scope.kind != "stadt" else [])
            row = t.row()
            for h in hdr:
                row.cell(h)
            for r in head.to_dict("records"):
                row = t.row()
                row.cell(r["name"])
                row.cell(str(r["jahr"]))
                row.cell(r["wert_text"])
                row.cell(r["veraenderung_text"])
                color = {"günstig": COLOR_GOOD, "ungünstig": COLOR_BAD}.get(r["bewertung"], COLOR_NEUTRAL)
                row.cell(r["trend_text"], style=FontFace(color=color, emphasis="BOLD" if r["bewertung"] else None))
                if has_bez:
                    row.cell(r["bezirk_text"])
                if scope.kind != "stadt":
                    row.cell(r["stadt_text"])
        pdf.ln(3)

    # --- ranking
    if not len(sm.ranking):
        para(sm.ranking_note, size=8.5)
    else:
        need_space(40)
        h1("Sozialräume nach Handlungsbedarf" + (f" im Stadtbezirk {scope.bezirk_name}" if scope.kind == "sozialraum" else ""))
        para(sm.ranking_note, size=8.5)
        with pdf.table(col_widths=(14, 16, 76, 36, 38), text_align=("CENTER", "LEFT", "LEFT", "RIGHT", "RIGHT"),
                       headings_style=heading_style, line_height=5, padding=1.2) as t:
            pdf.set_font("DejaVu", "", 8.5)
            row = t.row()
            by_index = sm.ranking["klasse"].notna().any()
            for h in ("Rang", "Nr.", "Sozialraum", "Index (Klasse)" if by_index else "Wert", "Rang in der Stadt"):
                row.cell(h)
            for r in sm.ranking.to_dict("records"):
                mark = FontFace(emphasis="BOLD") if scope.kind == "sozialraum" and r["sozialraum_id"] == scope.id else None
                row = t.row(style=mark)
                row.cell("–" if r["rang"] is None or pd.isna(r["rang"]) else str(int(r["rang"])))
                row.cell(r["sozialraum_id"])
                row.cell(r["sozialraum"])
                row.cell(r["wert_text"])
                row.cell(r["rang_stadt_text"])
        pdf.ln(3)

    # --- development charts
    dev = sm.development
    if len(dev):
        pdf.add_page()
        h1("Entwicklung über die Jahre")
        para("Linien: " + ("der Sozialraum, sein Stadtbezirk" if scope.kind == "sozialraum" else
                           "der Stadtbezirk (kräftig), seine Sozialräume (dünn)" if scope.kind == "bezirk" else
                           "die Stadtbezirke") + " und die Gesamtstadt (gestrichelt). Gesperrte Jahre fehlen. "
             "Die Werte stehen in der Tabelle unter den Grafiken.", size=8.5)
        ids = [i for i in CHART_IDS if i in set(dev["indikator_id"])]
        charts = [chart_spec(dev, iid, str(cat.loc[iid, "name"]), cat.loc[iid, "einheit"]) for iid in ids]
        if charts:
            import altair as alt

            grid = alt.concat(*charts, columns=2).resolve_scale(color="shared")
            img = chart_png(grid)
            names = ", ".join(str(cat.loc[i, "name"]) for i in ids)
            pdf.image(io.BytesIO(img), x=pdf.l_margin, w=epw,
                      alt_text=f"Liniendiagramme: {names}; die Werte stehen in der Tabelle „Entwicklung als Tabelle“.")
            pdf.ln(3)
        # table alternative: focus series and city, last 6 years
        focus_art = {"stadt": "Gesamtstadt", "bezirk": "Stadtbezirk", "sozialraum": "Sozialraum"}[scope.kind]
        yrs = sorted(dev["jahr"].unique())[-6:]
        need_space(60)
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(0, 6, "Entwicklung als Tabelle", new_x="LMARGIN", new_y="NEXT")
        with pdf.table(col_widths=(52, 44) + (14,) * len(yrs), text_align=("LEFT", "LEFT") + ("RIGHT",) * len(yrs),
                       headings_style=heading_style, line_height=4.6, padding=1) as t:
            pdf.set_font("DejaVu", "", 7.5)
            row = t.row()
            for h in ["Indikator", "Gebiet", *[str(y) for y in yrs]]:
                row.cell(h)
            for iid in ids:
                d = dev[dev["indikator_id"] == iid]
                arts = [focus_art] + (["Stadtbezirk"] if scope.kind == "sozialraum" else []) + \
                    (["Gesamtstadt"] if scope.kind != "stadt" else ["Stadtbezirk", "Gesamtstadt"])
                seen = []
                for art in dict.fromkeys(arts):
                    for g in dict.fromkeys(d.loc[d["art"] == art, "gebiet"]):
                        if g in seen:
                            continue
                        seen.append(g)
                        row = t.row()
                        row.cell(f"{cat.loc[iid, 'kurzname'] or cat.loc[iid, 'name']} ({cat.loc[iid, 'einheit']})")
                        row.cell(g)
                        gd = d[d["gebiet"] == g].set_index("jahr")
                        for y in yrs:
                            if y not in gd.index:
                                row.cell(fmt.NOTHING)
                            else:
                                row.cell(fmt.SUPPRESSED if gd.loc[y, "gesperrt"] else fmt.number(gd.loc[y, "wert"]))

    # --- values of all Sozialräume
    pdf.add_page()
    h1("Kennzahlen der Sozialräume")
    at = sm.areas
    ids_all = [c for c in at.columns if c in cat.index and not pd.isna(at[f"jahr_{c}"].iloc[0])]
    if not ids_all:
        para("Noch keine Kennzahlen geliefert.")
    else:
        para("Jeweils das letzte Berichtsjahr des Indikators (in der Kopfzeile). "
             f"„{fmt.SUPPRESSED}“ = gesperrt (kleine Fallzahl), „{fmt.NOTHING}“ = kein Wert.", size=8.5)
    per = 5
    for start in range(0, len(ids_all), per):
        chunk = ids_all[start:start + per]
        need_space(8 + 5 * (len(at) + 2))
        with pdf.table(col_widths=(60,) + (24,) * len(chunk), text_align=("LEFT",) + ("RIGHT",) * len(chunk),
                       headings_style=heading_style, line_height=4.4, padding=1) as t:
            pdf.set_font("DejaVu", "", 7.5)
            row = t.row()
            row.cell("Gebiet")
            for iid in chunk:
                row.cell(f"{cat.loc[iid, 'kurzname'] or cat.loc[iid, 'name']} ({at[f'jahr_{iid}'].iloc[0]})")
            for r in at.to_dict("records"):
                row = t.row(style=FontFace(emphasis="BOLD") if not r["sozialraum_id"] else None)
                row.cell(f"{r['sozialraum_id']} {r['gebiet']}".strip())
                for iid in chunk:
                    row.cell(r[iid])
        pdf.ln(3)

    # --- recommendations
    pdf.add_page()
    h1("Handlungsempfehlungen")
    recs = sm.recommendations
    if sm.recommendations_note:
        para(sm.recommendations_note)
    elif recs.empty:
        para("Für dieses Gebiet sind keine Handlungsempfehlungen erfasst.")
    else:
        n_changed = int(recs["geaendert_seit"].sum())
        para(f"{len(recs)} Handlungsempfehlungen; " + (
            f"{n_changed} seit dem {since.strftime('%d.%m.%Y')} geändert (Spalte „Geändert“)." if since else
            "ohne Stichtag für Änderungen.") + " „überfällig“: geplantes Ende überschritten, Status noch offen, in "
            "Planung oder in Umsetzung.",
            size=8.5)
        with pdf.table(col_widths=(13, 49, 26, 32, 25, 35), text_align="LEFT", headings_style=heading_style,
                       line_height=4.4, padding=1) as t:
            pdf.set_font("DejaVu", "", 7.5)
            row = t.row()
            for h in ("Nr.", "Titel", "Handlungsfeld", "Sozialräume", "Status", "Geändert"):
                row.cell(h)
            for r in recs.to_dict("records"):
                row = t.row()
                row.cell(str(r["id"]))
                row.cell(str(r["titel"]) + (f"\nFederführung: {r['federfuehrung']}" if r["federfuehrung"] else ""))
                row.cell(str(r["handlungsfeld"]))
                row.cell(str(r["sozialraeume"]))
                sym = "".join(ch for ch in str(r["status_symbol"] or "") if ord(ch) in glyphs)
                status = f"{sym} {r['status']}".strip() + (
                    f" ({int(r['fortschritt'])} %)" if not pd.isna(r["fortschritt"]) else "")
                row.cell(status + ("\nüberfällig" if r["ueberfaellig"] else "")
                         + ("\nohne Aktualisierung" if r["ohne_aktualisierung"] else ""))
                row.cell(("ja: " + r["aenderungen"]) if r["geaendert_seit"] else "nein")

    # --- data status and sources
    pdf.ln(4)
    need_space(40)
    h1("Datenstand und Quellen")
    lines = _status_text(sm.status)
    para("Letzte Lieferung je Lieferant:\n" + ("\n".join(f"• {x}" for x in lines) if lines else "noch keine Lieferungen"), size=8.5)
    para("Die Kennzahlen liefern die Fachämter und das Jobcenter jährlich als Excel-Dateien. Werte aus weniger als "
         f"{indicators.min_cases(con)} Fällen sind zum Schutz der Betroffenen gesperrt ({fmt.SUPPRESSED}); eine Summe "
         "mit einem gesperrten Sozialraum wird ebenfalls gesperrt.", size=8.5)
    if sm.attribution:
        para(f"Quellen und Lizenzen: {sm.attribution}", size=8.5)
    if sm.demo:
        para("Beispieldaten: Alle Zahlen und Gebiete dieser Demo sind erfunden bzw. angenähert und keine amtlichen "
             f"Angaben der Stadt {sm.city}.", size=8.5, style="B")

    # --- annex: definitions
    pdf.add_page()
    h1("Anhang: Indikatoren und Definitionen")
    for r in definitions(con).to_dict("records"):
        need_space(22)
        pdf.set_font("DejaVu", "B", 9)
        pdf.multi_cell(0, 5, f"{r['name']} ({r['einheit'] or 'ohne Einheit'})", new_x="LMARGIN", new_y="NEXT")
        bits = [f"Lieferant: {r['lieferant'] or '–'}", f"Richtung: {indicators.DIRECTION_LABEL.get(r['richtung'] if isinstance(r['richtung'], str) else None)}"]
        if isinstance(r["handlungsfeld"], str):
            bits.append(f"Handlungsfeld: {r['handlungsfeld']}")
        text = " · ".join(bits)
        for label, key in (("Definition", "definition"), ("Zähler", "zaehler_def"), ("Nenner", "nenner_def")):
            if isinstance(r[key], str) and r[key]:
                text += f"\n{label}: {r[key]}"
        para(text, size=8)

    data = bytes(pdf.output())
    if out_path is not None:
        Path(out_path).write_bytes(data)
    return data
