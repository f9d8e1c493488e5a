"""The delivery template (.xlsx) and the error report (.xlsx with the faulty cells marked, and CSV)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from quartier import db
from quartier.ingest.analysis import ERROR, WARNING, FileAnalysis, Finding
from quartier.tables import REPLACEMENT, clean_text, neutralise, to_csv_bytes
from quartier.uploads import FileRejected, RawBook, read_book

TEMPLATE_COLUMNS = ["Jahr", "Sozialraum-Nr.", "Sozialraum", "Kennzahl", "Zähler", "Nenner", "Wert"]
TEMPLATE_ROWS = 5000

INSTRUCTIONS = [
    "Vorlage für die jährliche Lieferung von Kennzahlen",
    "",
    "So füllen Sie die Vorlage aus:",
    "1. Tragen Sie im Blatt „Daten“ je Sozialraum, Kennzahl und Jahr eine Zeile ein.",
    "2. Sozialraum-Nr. und Kennzahl wählen Sie aus der Auswahlliste (Pfeil rechts neben der Zelle). "
    "Der Sozialraum-Name ist nur zur Orientierung und kann leer bleiben.",
    "3. Bei Quoten bitte Zähler (z. B. Anzahl der Kinder im Leistungsbezug) und Nenner (z. B. alle Kinder) "
    "angeben; der Wert (Quote) wird dann geprüft oder, wenn leer, berechnet.",
    "4. Bei reinen Anzahlen (z. B. Einwohner) nur die Spalte „Wert“ ausfüllen.",
    "5. Zahlen wie in Excel üblich: 12,5 oder 1.234. Prozentzeichen sind erlaubt (12,5 %).",
    "6. Gesperrte Werte (Datenschutz, weniger als 3 Fälle): * oder • eintragen – niemals 0.",
    "   Nichts vorhanden: –   ·   Aussage nicht sinnvoll: x",
    "7. Keine Summenzeilen nötig; Zeilen wie „Stadt gesamt“ oder „Summe“ werden beim Import übersprungen.",
    "8. Speichern Sie die Datei als .xlsx und laden Sie sie auf der Seite „Daten-Import“ hoch.",
    "",
    "Beim Import wird jede Datei vollständig geprüft. Fehler werden mit Blatt und Zelle (z. B. C17) gemeldet;",
    "übernommen wird erst nach Ihrer Bestätigung und nur die ganze Datei.",
]


HELP_SHEETS = ("Anleitung", "Listen")   # the template's own sheets besides "Daten": instructions and the choice lists


def template_help_sheets(book: RawBook) -> set[str]:
    """The help sheets of a filled-in Quartier template (its "Anleitung" begins with the template's title): they are
    part of the template, not a delivery, so the importer skips them without a message."""
    for sh in book.sheets:
        if sh.name == HELP_SHEETS[0] and sh.rows and sh.rows[0] and str(sh.rows[0][0] or "").strip() == INSTRUCTIONS[0]:
            return set(HELP_SHEETS)
    return set()


def write_template(con: db.Con, path: str | Path | None = None, lieferant: str | None = None) -> bytes | Path:
    """Write the template to ``path`` (returns the path) or return its bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    cur = con.cursor()
    areas = cur.execute("SELECT id, name FROM sozialraum ORDER BY id").fetchall()
    sql = "SELECT id, name, einheit, coalesce(lieferant, '') FROM indikator"
    params: list[Any] = []
    if lieferant:
        sql += " WHERE lieferant = ?"
        params.append(lieferant)
    inds = cur.execute(sql + " ORDER BY sortierung NULLS LAST, id", params).fetchall()
    city = db.get_setting(con, "stadt", "") or ""

    wb = Workbook()
    ws = wb.active
    ws.title = HELP_SHEETS[0]
    for i, line in enumerate(INSTRUCTIONS, start=1):
        ws.cell(row=i, column=1, value=line)
    ws["A1"].font = Font(bold=True, size=14)
    ws.cell(row=len(INSTRUCTIONS) + 2, column=1, value=neutralise(f"{city} – Vorlage erstellt am {dt.date.today():%d.%m.%Y}"
            + (f" für {lieferant}" if lieferant else "")))
    ws.column_dimensions["A"].width = 120

    data = wb.create_sheet("Daten")
    data.append(TEMPLATE_COLUMNS)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    for c in data[1]:
        c.font = Font(bold=True)
        c.fill = head_fill
        c.alignment = Alignment(wrap_text=True)
    for letter, width in zip("ABCDEFG", (8, 14, 32, 48, 12, 12, 10)):
        data.column_dimensions[letter].width = width
    data.freeze_panes = "A2"

    lists = wb.create_sheet(HELP_SHEETS[1])
    lists.append(["Sozialraum-Nr.", "Sozialraum", "", "Kennzahl", "Indikator-Id", "Einheit", "Lieferant"])
    for i in range(max(len(areas), len(inds))):
        a = areas[i] if i < len(areas) else ("", "")
        ind = inds[i] if i < len(inds) else ("", "", "", "")
        lists.append([neutralise(v) for v in (a[0], a[1], "", ind[1], ind[0], ind[2], ind[3])])
    lists.sheet_state = "hidden"

    last = TEMPLATE_ROWS + 1
    next_year = dt.date.today().year + 1
    dv_year = DataValidation(type="whole", operator="between", formula1="1990", formula2=str(next_year), allow_blank=True,
                             showErrorMessage=True, errorTitle="Jahr", error=f"Bitte ein Jahr zwischen 1990 und {next_year} eintragen.")
    dv_area = DataValidation(type="list", formula1=f"=Listen!$A$2:$A${len(areas) + 1}", allow_blank=True, showErrorMessage=True,
                             errorTitle="Sozialraum", error="Bitte einen Sozialraum aus der Liste wählen.")
    dv_ind = DataValidation(type="list", formula1=f"=Listen!$D$2:$D${len(inds) + 1}", allow_blank=True, showErrorMessage=True,
                            errorTitle="Kennzahl", error="Bitte eine Kennzahl aus der Liste wählen.")
    for dv, col in ((dv_year, "A"), (dv_area, "B"), (dv_ind, "D")):
        dv.add(f"{col}2:{col}{last}")
        data.add_data_validation(dv)
    wb.active = 1
    buf = io.BytesIO()
    wb.save(buf)
    out = buf.getvalue()
    if path is None:
        return out
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(out)
    return p


def findings_csv(fa: FileAnalysis, sep: str = ";") -> bytes:
    return to_csv_bytes(fa.findings_frame(), sep=sep)


# Bounds of the Prüfbericht (issue 20, item 7): a 1,000,000-row faulty file made the report copy the whole workbook
# with a style per cell (1.9 GB, 4 minutes). Beyond these sizes the report lists findings only, and says so.
MAX_REPORT_FINDINGS = 50_000   # rows of the findings table
MAX_REPORT_CELLS = 1_000_000   # cells of the delivered sheets copied back with marks


def error_report_xlsx(fa: FileAnalysis, data: bytes | None = None) -> bytes:
    """The findings as a table plus every affected sheet with its faulty cells marked (fill, bold, comment).

    Bounded: at most ``MAX_REPORT_FINDINGS`` findings are listed and the sheets are copied back only up to
    ``MAX_REPORT_CELLS`` cells in all; the first line says what was left out."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    fills = {ERROR: PatternFill("solid", fgColor="FFC7CE"), WARNING: PatternFill("solid", fgColor="FFEB9C")}
    wb = Workbook()
    ws = wb.active
    ws.title = "Fehlerbericht"
    ff = fa.findings_frame()
    listed = ff.head(MAX_REPORT_FINDINGS)
    book = None
    if data is not None:
        try:
            book = read_book(data, fa.filename)
        except FileRejected:
            book = None
    n_cells = sum(len(r) for sh in (book.sheets if book else []) for r in sh.rows)
    copy_sheets = book is not None and n_cells <= MAX_REPORT_CELLS
    ws.append([clean_text(f"Prüfbericht für {fa.filename}: {len(fa.errors)} Fehler, {len(fa.warnings)} Warnungen, "
                          f"{len(fa.infos)} Hinweise")])
    ws["A1"].font = Font(bold=True, size=13)
    notes = ["Fehler blockieren die Übernahme; Warnungen müssen bestätigt werden."]
    if copy_sheets:
        notes.append("In den folgenden Blättern sind die betroffenen Zellen markiert (rot = Fehler, gelb = Warnung) und "
                     "mit einem Kommentar versehen.")
    elif book is not None:
        notes.append(f"Die Datei ist mit {n_cells:,} Zellen zu groß, um sie markiert zurückzugeben: die Zellen stehen in der "
                     "Liste unten.".replace(",", "."))
    if len(ff) > len(listed):
        notes.append(f"Aufgeführt sind die ersten {len(listed):,} von {len(ff):,} Befunden; nach dem Beheben die Datei erneut "
                     "prüfen lassen.".replace(",", "."))
    ws.append([" ".join(notes)])
    ws.append([])
    ws.append(list(ff.columns))
    for c in ws[4]:
        c.font = Font(bold=True)
    for rec in listed.itertuples(index=False):
        ws.append([clean_text(neutralise(v)) for v in rec])
    for letter, width in zip("ABCDEFGH", (10, 28, 18, 8, 24, 14, 24, 100)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A5"
    if copy_sheets and book is not None:
        marked: dict[str, list[Finding]] = {}
        for f in fa.findings:
            if f.sheet and f.cell and f.cell[0].isalpha() and f.level in fills:
                marked.setdefault(f.sheet, []).append(f)
        for sheet in book.sheets:
            if sheet.name not in marked:
                continue
            out = wb.create_sheet(_sheet_title(sheet.name, wb.sheetnames))
            for r in sheet.rows:
                out.append([clean_text(neutralise(v)) if isinstance(v, str) else
                            (v if isinstance(v, (int, float)) or v is None else clean_text(str(v))) for v in r])
            _mark_control_characters(out, sheet.rows)
            for f in marked[sheet.name]:
                cell = out[f.cell]
                if cell.fill != fills[ERROR]:
                    cell.fill = fills[f.level]
                cell.font = Font(bold=True)
                text = clean_text(("Fehler: " if f.level == ERROR else "Warnung: ") + f.message)
                cell.comment = Comment(text if cell.comment is None else cell.comment.text + "\n" + text, "Quartier")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _mark_control_characters(ws: Any, rows: list[list[Any]]) -> None:
    """A comment on every copied cell whose control characters were replaced (at most 200 per sheet)."""
    from openpyxl.comments import Comment

    n = 0
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row, start=1):
            if isinstance(v, str) and clean_text(v) != v:
                ws.cell(row=r, column=c).comment = Comment(
                    f"Die Zelle enthält Steuerzeichen (z. B. NUL), die hier als {REPLACEMENT} gezeigt werden. "
                    "Bitte die Zelle in der Originaldatei prüfen.", "Quartier")
                n += 1
                if n >= 200:
                    return


def _sheet_title(name: str, existing: list[str]) -> str:
    base = "".join(ch for ch in name if ch not in "[]:*?/\\" and ch >= " ")[:28] or "Blatt"
    title, k = base, 2
    while title in existing:
        title, k = f"{base[:26]}_{k}", k + 1
    return title
