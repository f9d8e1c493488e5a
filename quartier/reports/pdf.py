"""The printable report (PDF, A4, German) of a city, Stadtbezirk or Sozialraum: one function per section.

fpdf2 with the embedded DejaVu Sans font; the map is drawn as SVG (:mod:`quartier.reports.svgmap`) and the
charts with Altair (:mod:`quartier.reports.charts`), both rendered to PNG by vl-convert. No Streamlit here.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from quartier import format as fmt
from quartier.access import Actor
from quartier.areas import versions
from quartier.reports.charts import chart_png, chart_spec
from quartier.reports.render import embed, remembered
from quartier.reports.scope import ReportError, Scope
from quartier.reports.summary import Summary, decimals_of, definitions, summary
from quartier.reports.svgmap import map_data, map_png, map_text
from quartier.values import indicators
from quartier.values.charts import UMR_MARK

FONT_DIR = Path(os.environ.get("QUARTIER_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
# Okabe-Ito (colour-blind safe): favourable = blue, unfavourable = vermillion, neutral = grey.
COLOR_GOOD, COLOR_BAD, COLOR_NEUTRAL = "#0072B2", "#B34700", "#555555"  # contrast >= 4.5:1 on white
INTERVAL_NOTE = ("95-%-Konfidenzintervall (Wilson-Score für Anteile und Quoten, exakt nach Poisson für Anzahlen "
                 "ohne Nenner); ohne Klammer: kein Intervall bestimmbar")
INTERNAL_NOTE = "Interner Bericht: enthält Werte aus kleinen Fallzahlen – nicht veröffentlichen"


def _font_paths() -> tuple[Path, Path]:
    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if not regular.exists() or not bold.exists():
        raise ReportError(
            f"Die Schriftart DejaVu Sans fehlt ({regular}). Bitte das Paket fonts-dejavu-core installieren "
            "(apt-get install fonts-dejavu-core) oder QUARTIER_FONT_DIR auf einen Ordner mit DejaVuSans.ttf "
            "und DejaVuSans-Bold.ttf setzen."
        )
    return regular, bold


@functools.lru_cache(maxsize=4)
def _glyphs(font_path: Path) -> frozenset[int]:
    """The characters the font has (read once per font file and process)."""
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(str(font_path), lazy=True).getBestCmap())


ZWSP = "\u200b"   # zero width space: fpdf2 may break a line there (and drops it at the break)
_AFTER_HYPHEN = re.compile(r"([-/\u2010\u2013])(?=[^\s\-/])")


def break_points(text: str, fits) -> str:
    """``text`` with a break opportunity after every hyphen (and slash) of a word that does not fit its cell
    (``fits(word)`` False): fpdf2 breaks lines only at spaces and would cut such a word anywhere
    ("Eckesey-S|üd"); with the opportunity it breaks after the hyphen ("Eckesey-|Süd"). Words that fit
    stay untouched, so copied text and searches see no extra character."""
    if not text or ("-" not in text and "/" not in text and "\u2010" not in text and "\u2013" not in text):
        return text
    out = []
    for line in text.split("\n"):
        out.append(" ".join(w if fits(w) else _AFTER_HYPHEN.sub(lambda m: m.group(1) + ZWSP, w) for w in line.split(" ")))
    return "\n".join(out)


def _status_text(df: pd.DataFrame) -> list[str]:
    out = []
    for r in df.to_dict("records"):
        when = pd.Timestamp(r["importiert_am"]).strftime("%d.%m.%Y") if not pd.isna(r["importiert_am"]) else "–"
        year = fmt.NOTHING if pd.isna(r["letztes_jahr"]) else str(int(r["letztes_jahr"]))
        out.append(f"{r['lieferant']}: letzte Lieferung „{r['dateiname']}“ vom {when}, Berichtsjahr bis {year}")
    return out


@dataclass
class _Doc:
    """The PDF being written and what every section needs."""

    pdf: Any
    con: Any
    scope: Scope
    sm: Summary
    cat: pd.DataFrame
    actor: Actor
    glyphs: frozenset[int]
    title: str
    today: str
    year: int | None = None
    since: dt.date | None = None
    heading: Any = None

    @property
    def epw(self) -> float:
        return self.pdf.w - self.pdf.l_margin - self.pdf.r_margin

    def h1(self, text: str) -> None:
        self.pdf.start_section(text, level=0)
        self.pdf.set_font("DejaVu", "B", 15)
        self.pdf.multi_cell(0, 8, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def para(self, text: str, size: float = 9.5, style: str = "") -> None:
        self.pdf.set_font("DejaVu", style, size)
        self.pdf.multi_cell(0, 4.8, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def need_space(self, mm: float) -> None:
        if self.pdf.get_y() + mm > self.pdf.h - self.pdf.b_margin:
            self.pdf.add_page()


def _new_pdf(sm: Summary, title: str, footer_left: str, internal: bool, regular: Path, bold: Path):
    """An A4 fpdf2 document with the demo/internal banners in the header, page numbers and metadata."""
    from fpdf import FPDF

    class Report(FPDF):
        def multi_cell(self, w, h=None, text="", *args, **kwargs):
            """Table cells and paragraphs wrap at spaces and hyphens, never inside a word (:func:`break_points`)."""
            room = (w or (self.w - self.r_margin - self.x)) - 2 * self.c_margin - 1.0
            text = break_points(str(text), lambda word: self.get_string_width(word) <= room)
            return super().multi_cell(w, h, text, *args, **kwargs)

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
    return pdf


def _title_section(d: _Doc) -> None:
    """Title page: title, scope, date, the map and its text alternative."""
    pdf, sm, scope = d.pdf, d.sm, d.scope
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 20)
    pdf.multi_cell(0, 10, d.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    sub = {"stadt": f"Stadt {sm.city} – alle Stadtbezirke und Sozialräume",
           "bezirk": f"Stadt {sm.city} – Stadtbezirk {scope.name} mit {len(scope.area_ids)} Sozialräumen",
           "sozialraum": f"Stadt {sm.city} – Sozialraum {scope.id} {scope.name}, Stadtbezirk {scope.bezirk_name}"}[scope.kind]
    pdf.multi_cell(0, 6, f"{sub}\nErstellt am {d.today} für die Jugendhilfeplanung"
                   + (f"; Änderungen seit {d.since.strftime('%d.%m.%Y')}" if d.since else ""), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    md = map_data(d.con, scope, values=sm.values, year=d.year, actor=d.actor, cat=d.cat)
    png = map_png(md, height=860, label="id" if scope.kind == "stadt" else "name")
    alt_map = map_text(md, scope)
    embed(pdf, png, x=pdf.l_margin, w=d.epw, alt_text=alt_map, title=f"Karte {scope.label}")
    pdf.ln(1)
    d.para(alt_map, size=8.5)


def _short(text: str, what: str, notes: list[str]) -> str:
    """A reference cell: 'unvollständig: 5 von 23 Sozialräumen geliefert' becomes '¹ unvollständig (5/23)'
    with the whole sentence as a note below the table (the column is narrow)."""
    m = re.match(r"unvollständig: (\d+) von (\d+) ", text)
    if not m:
        return text
    notes.append(f"{len(notes) + 1}) {what}: {text}; kein Vergleichswert.")
    return f"unvollständig ({m.group(1)}/{m.group(2)}) {len(notes)})"


def _headline_section(d: _Doc) -> None:
    """Headline figures against the city (and the district)."""
    from fpdf.fonts import FontFace

    pdf, sm, scope = d.pdf, d.sm, d.scope
    pdf.add_page()
    ref_label = "Stadt"
    d.h1("Kennzahlen im Überblick")
    head = sm.headline
    if head.empty:
        d.para("Für dieses Gebiet liegen noch keine Kennzahlen vor.")
    else:
        d.para(f"Werte von {scope.label} im Berichtsjahr (Spalte „Jahr“), Veränderung gegenüber dem Vorjahr und Vergleich "
             "mit der Gesamtstadt. Die Bewertung des Trends folgt der Richtung des Indikators "
             "(sinkt ein Wert, bei dem ein höherer Wert mehr Bedarf bedeutet, ist das günstig). Quoten größerer Gebiete aus der Summe der Zähler und Nenner. "
             f"In Klammern: {INTERVAL_NOTE}.")
        has_bez = "bezirk_text" in head.columns
        notes: list[str] = []
        widths = ((62, 14, 38, 28, 38) if scope.kind == "stadt" else   # the value column holds "12,4 % (9,8–15,5)"
                  (48, 12, 34, 24, 38, 24) if not has_bez else (41, 10, 32, 20, 29, 25, 23))
        with pdf.table(col_widths=widths, text_align=("LEFT", "CENTER", "RIGHT", "RIGHT", "LEFT", "RIGHT", "RIGHT")[:len(widths)],
                       headings_style=d.heading, line_height=5, padding=1.2) as t:
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
                row.cell(r.get("wert_ki_text") or r["wert_text"])
                row.cell(r["veraenderung_text"])
                color = {"günstig": COLOR_GOOD, "ungünstig": COLOR_BAD}.get(r["bewertung"], COLOR_NEUTRAL)
                row.cell(r["trend_text"], style=FontFace(color=color, emphasis="BOLD" if r["bewertung"] else None))
                if has_bez:
                    row.cell(_short(r["bezirk_text"], f"Stadtbezirk, {r['name']} {r['jahr']}", notes))
                if scope.kind != "stadt":
                    row.cell(_short(r["stadt_text"], f"Stadt, {r['name']} {r['jahr']}", notes))
        pdf.ln(3)
        for note in notes:  # an incomplete delivery: the full sentence below the table
            d.para(note, size=8.5)


def _ranking_section(d: _Doc) -> None:
    """The Sozialräume ranked by need (or the note why there is no ranking)."""
    from fpdf.fonts import FontFace

    pdf, sm, scope = d.pdf, d.sm, d.scope
    if not len(sm.ranking):
        d.para(sm.ranking_note, size=8.5)
    else:
        d.need_space(40)
        d.h1("Sozialräume nach Handlungsbedarf" + (f" im Stadtbezirk {scope.bezirk_name}" if scope.kind == "sozialraum" else ""))
        d.para(sm.ranking_note, size=8.5)
        with pdf.table(col_widths=(14, 16, 76, 36, 38), text_align=("CENTER", "LEFT", "LEFT", "RIGHT", "RIGHT"),
                       headings_style=d.heading, line_height=5, padding=1.2) as t:
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


def _development_section(d: _Doc) -> None:
    """Development charts and the same values as a table."""
    pdf, sm, scope, cat = d.pdf, d.sm, d.scope, d.cat
    dev = sm.development
    if len(dev):
        pdf.add_page()
        d.h1("Entwicklung über die Jahre")
        d.para("Linien: " + ("der Sozialraum, sein Stadtbezirk" if scope.kind == "sozialraum" else
                           "der Stadtbezirk (kräftig), seine Sozialräume (dünn)" if scope.kind == "bezirk" else
                           "die Stadtbezirke") + " und die Gesamtstadt (gestrichelt). Gesperrte Jahre fehlen. "
             "Die Werte stehen in der Tabelle unter den Grafiken.", size=8.5)
        ids = list(dict.fromkeys(dev["indikator_id"]))
        if ids:
            img = _charts_png(dev, [(iid, str(cat.loc[iid, "name"]), cat.loc[iid, "einheit"], decimals_of(cat, iid))
                                    for iid in ids])
            names = ", ".join(str(cat.loc[i, "name"]) for i in ids)
            embed(pdf, img, x=pdf.l_margin, w=d.epw,
                  alt_text=f"Liniendiagramme: {names}; die Werte stehen in der Tabelle „Entwicklung als Tabelle“.")
            pdf.ln(3)
        # table alternative: focus series and city, last 6 years
        focus_art = {"stadt": "Gesamtstadt", "bezirk": "Stadtbezirk", "sozialraum": "Sozialraum"}[scope.kind]
        yrs = sorted(dev["jahr"].unique())[-6:]
        d.need_space(60)
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(0, 6, "Entwicklung als Tabelle", new_x="LMARGIN", new_y="NEXT")
        with pdf.table(col_widths=(52, 44) + (14,) * len(yrs), text_align=("LEFT", "LEFT") + ("RIGHT",) * len(yrs),
                       headings_style=d.heading, line_height=4.6, padding=1) as t:
            pdf.set_font("DejaVu", "", 7.5)
            row = t.row()
            for h in ["Indikator", "Gebiet", *[str(y) for y in yrs]]:
                row.cell(h)
            for iid in ids:
                di = dev[dev["indikator_id"] == iid]
                arts = [focus_art] + (["Stadtbezirk"] if scope.kind == "sozialraum" else []) + \
                    (["Gesamtstadt"] if scope.kind != "stadt" else ["Stadtbezirk", "Gesamtstadt"])
                seen = []
                for art in dict.fromkeys(arts):
                    for g in dict.fromkeys(di.loc[di["art"] == art, "gebiet"]):
                        if g in seen:
                            continue
                        seen.append(g)
                        row = t.row()
                        row.cell(f"{cat.loc[iid, 'kurzname'] or cat.loc[iid, 'name']} ({cat.loc[iid, 'einheit']})")
                        row.cell(g)
                        gd = di[di["gebiet"] == g].set_index("jahr")
                        for y in yrs:  # the value as formatted once (indicator decimals; "–" when incomplete)
                            row.cell(str(gd.loc[y, "wert_text"]) if y in gd.index else fmt.NOTHING)
        shown = dev.loc[dev["jahr"].isin(yrs), "umgerechnet"] if "umgerechnet" in dev else pd.Series(dtype=str)
        _realloc_note(d, sorted({m for m in shown.fillna("") if m}))
        incomplete = dev[dev["unvollstaendig"].astype(bool) & dev["jahr"].isin(yrs)] if "unvollstaendig" in dev else dev.iloc[:0]
        if len(incomplete):
            d.para(f"„{fmt.NOTHING}“ bei Stadtbezirk oder Gesamtstadt in "
                   + ", ".join(str(y) for y in sorted(incomplete["jahr"].unique()))
                   + ": unvollständig – nicht alle erwarteten Sozialräume geliefert, daher kein Wert.", size=8)


def _charts_png(dev: pd.DataFrame, charts: list[tuple]) -> bytes:
    """The development charts (``charts``: indicator id, title, unit, decimals) side by side as one PNG; the same
    data and titles again give the PNG remembered by :func:`quartier.reports.render.remembered` (no spec built)."""
    def draw() -> bytes:
        import altair as alt

        specs = [chart_spec(dev, iid, title, unit, decimals=dec) for iid, title, unit, dec in charts]
        return chart_png(alt.concat(*specs, columns=2).resolve_scale(color="shared"))

    data = pd.util.hash_pandas_object(dev, index=False).to_numpy().tobytes().hex()
    return remembered(("report-charts", repr(charts), repr(list(dev.columns)), repr(list(map(str, dev.dtypes))), data), draw)


def _realloc_note(d: _Doc, methods: list[str], size: float = 8) -> None:
    """The note at a table whose values carry the "*" of a re-allocation (Issue 19): "Werte vor JJJJ auf heutige
    Sozialräume umgerechnet" and the methods."""
    if methods:
        notice = versions.change_notice(d.con)
        d.para((f"{notice}. " if notice else "")
               + f"„{UMR_MARK}“ = aus einem früheren Gebietsstand auf die heutigen Sozialräume umgerechnet: "
               + "; ".join(methods) + ".", size=size)


def _areas_section(d: _Doc) -> None:
    """Values of every Sozialraum, five indicators per table."""
    from fpdf.fonts import FontFace

    pdf, sm, cat = d.pdf, d.sm, d.cat
    pdf.add_page()
    d.h1("Kennzahlen der Sozialräume")
    at = sm.areas
    ids_all = [c for c in at.columns if c in cat.index and not pd.isna(at[f"jahr_{c}"].iloc[0])]
    if not ids_all:
        d.para("Noch keine Kennzahlen geliefert.")
    else:
        d.para("Jeweils das letzte Berichtsjahr des Indikators (in der Kopfzeile). "
             f"„{fmt.SUPPRESSED}“ = gesperrt (kleine Fallzahl), „{fmt.NOTHING}“ = kein Wert. In Klammern: {INTERVAL_NOTE}.",
               size=8.5)
        _realloc_note(d, at.attrs.get("umgerechnet") or [], size=8.5)  # re-allocated values (Issue 19)
    per = 4
    for start in range(0, len(ids_all), per):
        chunk = ids_all[start:start + per]
        d.need_space(8 + 5 * (len(at) + 2))
        with pdf.table(col_widths=(52,) + (32,) * len(chunk), text_align=("LEFT",) + ("RIGHT",) * len(chunk),
                       headings_style=d.heading, line_height=4.4, padding=1) as t:
            pdf.set_font("DejaVu", "", 7.5)
            row = t.row()
            row.cell("Gebiet")
            for iid in chunk:
                row.cell(f"{cat.loc[iid, 'kurzname'] or cat.loc[iid, 'name']} ({at[f'jahr_{iid}'].iloc[0]})")
            for r in at.to_dict("records"):
                row = t.row(style=FontFace(emphasis="BOLD") if not r["sozialraum_id"] else None)
                row.cell(f"{r['sozialraum_id']} {r['gebiet']}".strip())
                for iid in chunk:
                    row.cell(r.get(f"ki_{iid}") or r[iid])
        pdf.ln(3)


def _recommendations_section(d: _Doc) -> None:
    """The Handlungsempfehlungen with status and changes since ``since``."""
    pdf, sm = d.pdf, d.sm
    pdf.add_page()
    d.h1("Handlungsempfehlungen")
    recs = sm.recommendations
    if sm.recommendations_note:
        d.para(sm.recommendations_note)
    elif recs.empty:
        d.para("Für dieses Gebiet sind keine Handlungsempfehlungen erfasst.")
    else:
        n_changed = int(recs["geaendert_seit"].sum())
        d.para(f"{len(recs)} Handlungsempfehlungen; " + (
            f"{n_changed} seit dem {d.since.strftime('%d.%m.%Y')} geändert (Spalte „Geändert“)." if d.since else
            "ohne Stichtag für Änderungen.") + " „überfällig“: geplantes Ende überschritten, Status noch offen, in "
            "Planung oder in Umsetzung.",
            size=8.5)
        with pdf.table(col_widths=(13, 49, 26, 32, 25, 35), text_align="LEFT", headings_style=d.heading,
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
                sym = "".join(ch for ch in str(r["status_symbol"] or "") if ord(ch) in d.glyphs)
                status = f"{sym} {r['status']}".strip() + (
                    f" ({int(r['fortschritt'])} %)" if not pd.isna(r["fortschritt"]) else "")
                row.cell(status + ("\nüberfällig" if r["ueberfaellig"] else "")
                         + ("\nohne Aktualisierung" if r["ohne_aktualisierung"] else ""))
                row.cell(("ja: " + r["aenderungen"]) if r["geaendert_seit"] else "nein")


def _sources_section(d: _Doc) -> None:
    """Data status, sources, small-number protection, demo note."""
    pdf, sm = d.pdf, d.sm
    pdf.ln(4)
    d.need_space(40)
    d.h1("Datenstand und Quellen")
    lines = _status_text(sm.status)
    d.para("Letzte Lieferung je Lieferant:\n" + ("\n".join(f"• {x}" for x in lines) if lines else "noch keine Lieferungen"), size=8.5)
    d.para("Die Kennzahlen liefern die Fachämter und das Jobcenter jährlich als Excel-Dateien. Werte aus weniger als "
         f"{indicators.min_cases(d.con)} Fällen sind zum Schutz der Betroffenen gesperrt ({fmt.SUPPRESSED}); eine Summe "
         "mit einem gesperrten Sozialraum wird ebenfalls gesperrt.", size=8.5)
    if sm.attribution:
        d.para(f"Quellen und Lizenzen: {sm.attribution}", size=8.5)
    if sm.demo:
        d.para("Beispieldaten: Alle Zahlen und Gebiete dieser Demo sind erfunden bzw. angenähert und keine amtlichen "
             f"Angaben der Stadt {sm.city}.", size=8.5, style="B")


def _definitions_section(d: _Doc) -> None:
    """Annex: indicator definitions."""
    pdf = d.pdf
    pdf.add_page()
    d.h1("Anhang: Indikatoren und Definitionen")
    for r in definitions(d.con, cat=d.cat).to_dict("records"):
        d.need_space(22)
        pdf.set_font("DejaVu", "B", 9)
        pdf.multi_cell(0, 5, f"{r['name']} ({r['einheit'] or 'ohne Einheit'})", new_x="LMARGIN", new_y="NEXT")
        bits = [f"Lieferant: {r['lieferant'] or '–'}", f"Richtung: {indicators.DIRECTION_LABEL.get(r['richtung'] if isinstance(r['richtung'], str) else None)}"]
        if isinstance(r["handlungsfeld"], str):
            bits.append(f"Handlungsfeld: {r['handlungsfeld']}")
        text = " · ".join(bits)
        for label, key in (("Definition", "definition"), ("Zähler", "zaehler_def"), ("Nenner", "nenner_def")):
            if isinstance(r[key], str) and r[key]:
                text += f"\n{label}: {r[key]}"
        d.para(text, size=8)


def build_pdf(con, scope: Scope, out_path: str | Path | None = None, year: int | None = None,
              since: dt.date | None = None, summ: Summary | None = None, *, actor: Actor) -> bytes:
    """The report of ``scope`` (city, Stadtbezirk or Sozialraum) as PDF bytes; written to ``out_path`` if given.

    Built for ``actor``: for users who may see raw values every page says "Interner Bericht" (small
    numbers are not protected); for everyone else protected values are "•"."""
    from fpdf.fonts import FontFace

    regular, bold = _font_paths()
    if not scope.area_ids:
        raise ReportError("Es sind noch keine Sozialräume eingerichtet: erst `python -m quartier demo` oder "
                          "`python -m quartier init` ausführen.")
    glyphs = _glyphs(regular)
    sm = summ or summary(con, scope, year, since, actor=actor)
    today = dt.date.today().strftime("%d.%m.%Y")
    title = f"{scope.title} {scope.label}" if scope.kind != "stadt" else f"Stadtbericht {sm.city}"
    pdf = _new_pdf(sm, title, f"{sm.city} · {title} · Stand {today}", actor.can_see_raw, regular, bold)
    d = _Doc(pdf=pdf, con=con, scope=scope, sm=sm, cat=indicators.catalogue(con).set_index("id"), actor=actor,
             glyphs=glyphs, title=title, today=today, year=year, since=since,
             heading=FontFace(emphasis="BOLD", fill_color=(225, 230, 240)))
    for section in (_title_section, _headline_section, _ranking_section, _development_section, _areas_section,
                    _recommendations_section, _sources_section, _definitions_section):
        section(d)
    data = bytes(pdf.output())
    if out_path is not None:
        Path(out_path).write_bytes(data)
    return data
