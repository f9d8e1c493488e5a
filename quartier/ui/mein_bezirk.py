"""Streamlit glue for the page "Mein Bezirk": cached loaders, map, cards and the presentation mode.

All figures come from :mod:`quartier.report` (the same functions build the PDF).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from quartier import format as fmt
from quartier.areas import layers, versions
from quartier.reports import pdf as report_pdf
from quartier.reports import scope as report_scope
from quartier.reports import summary as report_summary
from quartier.reports import svgmap
from quartier.ui import vega
from quartier.ui.common import data_stamp, get_con, view_of
from quartier.ui.text import html_text
from quartier.values import indicators
from quartier.values.charts import UMR_MARK

QP_BEZIRK, QP_PRAES, QP_FOLIE, QP_SEIT = "bezirk", "praesentation", "folie", "seit"
SLIDES = ["Überblick und Karte", "Kennzahlen", "Sozialräume nach Handlungsbedarf", "Entwicklung", "Handlungsempfehlungen"]
# Tables do not scroll on a projector: longer ones continue on the next slide (rows per slide at 1280x720).
# "Entwicklung" has two parts: the chart, then its table.
ROWS_PER_SLIDE = {"Sozialräume nach Handlungsbedarf": 7, "Entwicklung": 1, "Handlungsempfehlungen": 4}


def slide_deck(n_rows: dict[str, int]) -> list[tuple[str, int, int]]:
    """The slides: (topic from ``SLIDES``, first row, end row) with a table topic split into pages of
    ``ROWS_PER_SLIDE`` rows (``n_rows``: the table length per topic)."""
    out: list[tuple[str, int, int]] = []
    for topic in SLIDES:
        per = ROWS_PER_SLIDE.get(topic)
        n = n_rows.get(topic, 0)
        if per is None or n <= per:
            out.append((topic, 0, n))
            continue
        out += [(topic, a, min(a + per, n)) for a in range(0, n, per)]
    return out


def slide_title(deck: list[tuple[str, int, int]], k: int) -> str:
    """'Handlungsempfehlungen (2/3)' for the second page of a split table."""
    topic = deck[k][0]
    pages = [i for i, d in enumerate(deck) if d[0] == topic]
    return topic if len(pages) == 1 else f"{topic} ({pages.index(k) + 1}/{len(pages)})"
TREND_COLOR = {"günstig": report_pdf.COLOR_GOOD, "ungünstig": report_pdf.COLOR_BAD}


@st.cache_data(show_spinner=False, max_entries=4)
def _bezirke(stamp: int) -> pd.DataFrame:
    return indicators.bezirke(get_con())


def bezirke() -> pd.DataFrame:
    return _bezirke(data_stamp())


def scope_from_param(value: str | None) -> str | None:
    """The Stadtbezirk id for a URL value (id or name, tolerant), else None."""
    if not value:
        return None
    try:
        return report_scope.bezirk_scope(get_con(), value).id
    except report_scope.ScopeError:
        return None


@st.cache_resource(show_spinner=False, max_entries=16)  # shared between sessions: read-only
def _summary(stamp: int, bezirk_id: str, actor, since: dt.date | None) -> report_summary.Summary:
    return report_summary.district_summary(get_con(), bezirk_id, since=since, with_table=False, actor=actor)


def summary(bezirk_id: str, actor, since: dt.date | None) -> report_summary.Summary:
    return _summary(data_stamp(), bezirk_id, view_of(actor), since)


@st.cache_data(show_spinner=False, max_entries=32)
def _development_spec(stamp: int, bezirk_id: str, actor, since: dt.date | None, indicator_id: str, big: bool) -> dict:
    from quartier.reports import charts as report_charts
    from quartier.ui.widgets import catalogue
    from quartier.values.charts import GERMAN_LOCALE

    dev = _summary(stamp, bezirk_id, actor, since).development
    cat = catalogue().set_index("id")
    chart = report_charts.chart_spec(dev, indicator_id, str(cat.loc[indicator_id, "name"]),
                                     cat.loc[indicator_id, "einheit"], width=900 if big else 620,
                                     height=270 if big else 300, legend_orient="right",
                                     decimals=report_summary.decimals_of(cat, indicator_id))
    chart = chart.configure(locale=GERMAN_LOCALE)
    if big:
        chart = chart.configure_axis(labelFontSize=20, titleFontSize=20).configure_legend(
            labelFontSize=20, symbolSize=250, labelColor="#000000").configure_title(fontSize=24)
    return vega.spec_of(chart)  # what st.altair_chart sends, data as Arrow bytes


def development_spec(bezirk_id: str, actor, since: dt.date | None, indicator_id: str, big: bool = False) -> dict:
    """The Vega-Lite spec of the development chart of one indicator (the summary's development), built once
    per data stamp instead of on every run (building and validating the Altair chart is most of a warm run)."""
    return _development_spec(data_stamp(), bezirk_id, view_of(actor), since, indicator_id, bool(big))


@st.cache_resource(show_spinner=False, max_entries=16)
def _map_data(stamp: int, bezirk_id: str, actor, _values: pd.DataFrame | None) -> svgmap.MapData:
    con = get_con()
    return svgmap.map_data(con, report_scope.bezirk_scope(con, bezirk_id), values=_values, actor=actor)


def map_data(bezirk_id: str, actor, values: pd.DataFrame | None = None) -> svgmap.MapData:
    """Map of the district; ``values``: the protected values the page's summary already loaded (for the
    same data stamp and actor), so they are not loaded twice."""
    return _map_data(data_stamp(), bezirk_id, view_of(actor), values)


def _rgb(hex_color: str, alpha: int = 235) -> list[int]:
    h = hex_color.lstrip("#")
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)] + [alpha]


def deck(md: svgmap.MapData, scope: report_scope.Scope, height_px: int = 520, label_size: int | None = None):
    """pydeck map zoomed to the district: its Sozialräume coloured by need class with labels, the
    other areas pale, district boundaries and the axes (if any) from :mod:`quartier.maps`."""
    from quartier.ui.karte import payload as shared_payload

    payload = shared_payload()  # one copy of the simplified geometry for all map pages
    klasse = dict(zip(md.areas["id"], md.areas["klasse"]))
    wert_text = dict(zip(md.areas["id"], md.areas["wert_text"]))
    with_ki = dict(zip(md.areas["id"], md.areas["wert_ki_text"])) if "wert_ki_text" in md.areas else wert_text
    in_scope = set(scope.area_ids)
    props = {}
    for i in payload.ids:
        inside = i in in_scope
        k = klasse.get(i)
        if inside:
            fill = _rgb(svgmap.MAP_CLASS_COLORS[int(k)]) if k is not None and not pd.isna(k) else [200, 200, 200, 235]
        else:
            fill = [240, 240, 240, 200]
        text = wert_text.get(i, fmt.NOTHING)
        props[i] = {"id": i, "name": payload.names[i], "fill": fill,
                    "label": f"{payload.names[i]}\n{text}" if inside else "",
                    "wert_text": with_ki.get(i) or text, "indikator": md.indicator_name}
    bounds = payload.bezirk_bounds.get(scope.id, payload.bounds)
    return layers.build_deck(payload, props, view=layers.view_for_bounds(bounds, 900, height_px), labels=True,
                             tooltip_html="<b>{name}</b><br/>{indikator}: <b>{wert_text}</b>"
                             "<br/><small>in Klammern: 95-%-Vertrauensbereich</small>", label_size=label_size)


@st.cache_resource(show_spinner=False, max_entries=16)
def _frozen_deck(stamp: int, bezirk_id: str, actor, height_px: int, label_size: int | None, _md, _scope):
    return deck(_md, _scope, height_px, label_size).freeze()


def map_deck(bezirk_id: str, actor, md: svgmap.MapData, scope: report_scope.Scope, height_px: int = 520,
             label_size: int | None = None):
    """:func:`deck` with its JSON built once per data stamp, district, actor and size (read-only)."""
    return _frozen_deck(data_stamp(), bezirk_id, view_of(actor), height_px, label_size, md, scope)


def legend_html(md: svgmap.MapData, big: bool = False) -> str:
    size = "clamp(13px, 2.1vh, 26px)" if big else "0.9em"
    items = "".join(
        f'<span style="display:inline-block;margin-right:1.2em"><span style="display:inline-block;width:1.4em;height:1em;'
        f'background:{c};border:1px solid #222;vertical-align:middle"></span> {html_text(t)}</span>'
        for c, t in zip(svgmap.MAP_CLASS_COLORS, md.classes))
    items += ('<span style="display:inline-block"><span style="display:inline-block;width:1.4em;height:1em;'
              'background:#c8c8c8;border:1px solid #222;vertical-align:middle"></span> gesperrt/keine Daten</span>')
    return (f'<div style="font-size:{size}"><b>{html_text(md.indicator_name)}</b> – Klassen (Quartile der Stadt), '
            'von wenig zu viel Bedarf. '
            + (f'Kräftige Linie mit Beschriftung: {", ".join(html_text(n) for n, _ in md.axes)}; ' if md.axes else "")
            + 'dicke dunkle Linien: Stadtbezirksgrenzen'
            f'<br/>{items}</div>')


def cards_html(head: pd.DataFrame, scope_label: str, big: bool = False) -> str:
    """Headline cards: value, change, trend arrow coloured by the indicator's direction AND the words."""
    cards = []
    for r in head.to_dict("records"):
        color = TREND_COLOR.get(r["bewertung"], report_pdf.COLOR_NEUTRAL)
        cards.append(
            '<div class="qb-card">'
            f'<div class="qb-card-title">{html_text(str(r["name"]))} ({r["jahr"]})</div>'
            f'<div class="qb-card-value">{html_text(r["wert_text"])}</div>'
            f'<div class="qb-card-trend" style="color:{color}">{html_text(r["trend_text"])}</div>'
            f'<div class="qb-card-ref">ggü. Vorjahr: {html_text(r["veraenderung_text"])} · '
            f'Stadt: {html_text(r["stadt_text"])}</div></div>'
        )
    cls = "qb-cards qb-big" if big else "qb-cards"
    return f'<div class="{cls}" role="list" aria-label="Kennzahlen {html_text(scope_label)}">' + \
        "".join(c.replace('<div class="qb-card">', '<div class="qb-card" role="listitem">', 1) for c in cards) + "</div>"


CARD_CSS = """
<style>
.qb-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:0.8rem;margin-bottom:1rem}
.qb-card{border:1px solid #888;border-radius:0.5rem;padding:0.7rem 0.9rem;background:#fff;color:#111}
.qb-card-title{font-size:0.95rem;font-weight:600;min-height:2.6em}
.qb-card-value{font-size:2rem;font-weight:700;margin:0.2rem 0}
.qb-card-trend{font-weight:700}
.qb-card-ref{font-size:0.9rem;color:#333}
.qb-big{grid-template-columns:repeat(3,1fr);gap:1.4rem}
.qb-big .qb-card{border:3px solid #000;padding:1.2rem}
.qb-big .qb-card-title{font-size:30px;min-height:2.5em}
.qb-big .qb-card-value{font-size:64px}
.qb-big .qb-card-trend{font-size:32px}
.qb-big .qb-card-ref{font-size:28px;color:#000}
</style>
"""

PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stSidebarNav"],
[data-testid="stExpandSidebarButton"], header[data-testid="stHeader"] {display:none !important;}
.stApp, .stApp [data-testid="stMarkdownContainer"] p, .stApp li, .stApp td, .stApp th, .stApp label {
  font-size:clamp(16px, 2.6vh, 28px) !important; line-height:1.3; color:#000 !important;}
.stApp {background:#fff !important;}
.stApp h1 {font-size:clamp(24px, 4.45vh, 48px) !important; color:#000 !important; padding:0 0 0.2em 0 !important;}
.stApp h2 {font-size:clamp(22px, 3.7vh, 40px) !important; color:#000 !important; padding:0.1em 0 !important;}
.stApp h3 {font-size:clamp(20px, 3.2vh, 34px) !important; color:#000 !important;}
.block-container, [data-testid="stMainBlockContainer"] {padding:0.6rem 1.5rem 0.4rem 1.5rem !important;
  max-width:100% !important;}
[data-testid="stVerticalBlock"] {gap:0.45rem !important;}
.stApp button {font-size:clamp(16px, 2.6vh, 28px) !important; min-height:2.2em; border:3px solid #000 !important;}
.stApp button p {font-size:clamp(16px, 2.6vh, 28px) !important;}
.stApp button:focus-visible {outline:4px solid #0072B2 !important; outline-offset:3px;}
.qb-table {border-collapse:collapse; width:100%;}
.qb-table th, .qb-table td {border:2px solid #000; padding:0.2em 0.45em; text-align:left; vertical-align:top;}
.qb-table td.num, .qb-table th.num {text-align:right;}
.qb-table th {background:#e6e6e6;}
.qb-big .qb-card{padding:0.5em 0.8em !important}
.qb-big .qb-card-title{font-size:clamp(16px, 2.5vh, 30px) !important; min-height:2.4em !important}
.qb-big .qb-card-value{font-size:clamp(24px, 4.6vh, 64px) !important; margin:0 !important}
.qb-big .qb-card-trend{font-size:clamp(16px, 2.5vh, 32px) !important}
.qb-big .qb-card-ref{font-size:clamp(14px, 2.6vh, 28px) !important}
.qb-big{gap:0.8rem !important}
</style>
"""


def html_table(df: pd.DataFrame, numeric: tuple[str, ...] = (), caption: str | None = None) -> str:
    head = "".join(f'<th scope="col" class="{"num" if c in numeric else ""}">{html_text(str(c))}</th>' for c in df.columns)
    rows = []
    for r in df.itertuples(index=False):
        cells = "".join(f'<td class="{"num" if c in numeric else ""}">{html_text(str(v))}</td>' for c, v in zip(df.columns, r))
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption style='text-align:left'>{html_text(caption)}</caption>" if caption else ""
    return f'<table class="qb-table">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def ranking_table(rank: pd.DataFrame) -> pd.DataFrame:
    by_index = rank["klasse"].notna().any() if "klasse" in rank else False
    out = pd.DataFrame({
        "Rang": [fmt.NOTHING if r is None or pd.isna(r) else str(int(r)) for r in rank["rang"]],
        "Nr.": rank["sozialraum_id"],
        "Sozialraum": rank["sozialraum"],
        "Index (Klasse)" if by_index else "Wert": rank["wert_text"],
        "Rang in der Stadt": rank["rang_stadt_text"],
    })
    if "umgerechnet" in rank and (rank["umgerechnet"].fillna("") != "").any():  # Issue 19: the method of the "*"
        out["Umrechnung"] = rank["umgerechnet"].fillna("").to_numpy()
    return out


def realloc_note(*frames: pd.DataFrame) -> str | None:
    """"Werte vor JJJJ auf heutige Sozialräume umgerechnet" and what the "*" in the tables means (Issue 19)."""
    methods = sorted({m for f in frames if "umgerechnet" in f for part in f["umgerechnet"].fillna("") if part
                      for m in str(part).split("; ")})
    if not methods:
        return None
    notice = versions.change_notice(get_con())
    return ((f"{notice}. " if notice else "") + f"„{UMR_MARK}“ = Wert aus einem früheren Gebietsstand auf die heutigen "
            "Sozialräume umgerechnet: " + "; ".join(methods) + ".")


def development_table(dev: pd.DataFrame, indicator_id: str, years: int | None = None) -> pd.DataFrame:
    d = dev[dev["indikator_id"] == indicator_id]
    t = d.pivot_table(index="gebiet", columns="jahr", values="wert_text", aggfunc="first", sort=False)
    t = t.reindex(list(dict.fromkeys(d["gebiet"])))
    if years:
        t = t[t.columns[-years:]]
    t.columns = [str(c) for c in t.columns]
    return t.reset_index().rename(columns={"gebiet": "Gebiet"}).fillna(fmt.NOTHING)


def recommendations_table(recs: pd.DataFrame, since: dt.date | None) -> pd.DataFrame:
    out = pd.DataFrame({
        "Nr.": recs["id"],
        "Titel": recs["titel"],
        "Handlungsfeld": recs["handlungsfeld"],
        "Sozialräume": recs["sozialraeume"],
        "Status": [f"{s} {t}".strip() + (f" ({int(p)} %)" if not pd.isna(p) else "")
                   for s, t, p in zip(recs["status_symbol"], recs["status"], recs["fortschritt"])],
        "Hinweis": [", ".join(x for x, on in (("überfällig", u), ("ohne Aktualisierung", o)) if on) or fmt.NOTHING
                    for u, o in zip(recs["ueberfaellig"], recs["ohne_aktualisierung"])],
    })
    if since is not None:
        out["Seit der letzten Sitzung geändert"] = [("ja: " + a) if g else "nein"
                                                    for g, a in zip(recs["geaendert_seit"], recs["aenderungen"])]
    return out


def pdf_bytes(bezirk_id: str, actor, since: dt.date | None) -> bytes:
    con = get_con()
    return report_pdf.build_pdf(con, report_scope.bezirk_scope(con, bezirk_id), None, since=since, actor=actor)


def offers_table(bezirk_id: str, actor) -> pd.DataFrame:
    """The open offers in the Sozialräume of the district (Angebote)."""
    from quartier.offers.store import offers_in_district

    df = offers_in_district(get_con(), bezirk_id, actor=actor)
    return df[["sozialraum", "kategorie", "name", "traeger", "plaetze"]].rename(columns={
        "sozialraum": "Sozialraum", "kategorie": "Kategorie", "name": "Angebot", "traeger": "Träger", "plaetze": "Plätze"})
