"""The offers template (Excel with dropdowns) and the export of the stored offers (.xlsx/.csv)."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from quartier import db
from quartier.access import Actor
from quartier.offers import catalogue
from quartier.offers.store import offers
from quartier.tables import neutralise, write_table

COLUMNS = ["Id", "Name", "Kategorie", "Träger", "Adresse", "Plätze", "Zielgruppe", "Beginn", "Ende",
           "Breitengrad", "Längengrad", "Sozialraum"]
HELP = [
    "Eine Zeile je Angebot. Pflicht: Name, Kategorie und ein Ort.",
    "Ort: Breitengrad/Längengrad (WGS84, z. B. 51,36 / 7,47) ODER Rechtswert/Hochwert (ETRS89/UTM, Spalten statt "
    "Breitengrad/Längengrad) ODER nur der Sozialraum – dann zählt das Angebot im Gebiet, aber nicht in der Erreichbarkeit.",
    "Adressen werden nicht automatisch verortet: bitte Koordinaten eintragen.",
    "Beginn/Ende: Datum (TT.MM.JJJJ) oder Jahr; ein Angebot zählt in den Jahren, in denen es geöffnet war.",
    "Die Datei ist die vollständige Liste: Angebote, die fehlen, werden beim Import als geschlossen markiert.",
    "Id: frei wählbar und gleichbleibend; ohne Id wird sie aus Name, Kategorie und Adresse gebildet.",
]


def write_template(con: db.Con, path: str | Path | None = None) -> bytes | Path:
    """An .xlsx with the columns, dropdowns for Kategorie and Sozialraum, and instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "Angebote"
    ws.append(COLUMNS)
    for c in ws[1]:
        c.font = Font(bold=True)
    lists = wb.create_sheet("Listen")
    cats = list(catalogue.categories(con)["name"])
    areas = [f"{r[0]}" for r in con.cursor().execute("SELECT id FROM sozialraum ORDER BY id").fetchall()]
    for i, name in enumerate(cats, start=1):
        lists.cell(i, 1, neutralise(name))
    for i, aid in enumerate(areas, start=1):
        lists.cell(i, 2, neutralise(aid))
    lists.sheet_state = "hidden"
    if cats:
        dv = DataValidation(type="list", formula1=f"=Listen!$A$1:$A${len(cats)}", allow_blank=False,
                            showErrorMessage=True, errorTitle="Kategorie", error="Bitte eine Kategorie aus der Liste wählen.")
        ws.add_data_validation(dv)
        dv.add("C2:C2000")
    if areas:
        dv = DataValidation(type="list", formula1=f"=Listen!$B$1:$B${len(areas)}", allow_blank=True,
                            showErrorMessage=True, errorTitle="Sozialraum", error="Bitte einen Sozialraum aus der Liste wählen.")
        ws.add_data_validation(dv)
        dv.add("L2:L2000")
    dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                        showErrorMessage=True, errorTitle="Plätze", error="Plätze: eine Zahl ab 0.")
    ws.add_data_validation(dv)
    dv.add("F2:F2000")
    info = wb.create_sheet("Anleitung")
    for i, line in enumerate(HELP, start=1):
        info.cell(i, 1, line)
    for col, width in zip("ABCDEFGHIJKL", (10, 32, 18, 22, 30, 8, 16, 12, 12, 12, 12, 12)):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    if path is None:
        return buf.getvalue()
    Path(path).write_bytes(buf.getvalue())
    return Path(path)


def export_frame(con: db.Con, *, actor: Actor) -> pd.DataFrame:
    """The stored open offers in the import format (an export re-imports without changes)."""
    df = offers(con, actor=actor)
    out = pd.DataFrame({"Id": df["id"], "Name": df["name"], "Kategorie": df["kategorie"], "Träger": df["traeger"],
                        "Adresse": df["adresse"], "Plätze": df["plaetze"], "Zielgruppe": df["zielgruppe"],
                        "Beginn": pd.to_datetime(df["beginn"]).dt.strftime("%Y-%m-%d"),
                        "Ende": pd.to_datetime(df["ende"]).dt.strftime("%Y-%m-%d"),
                        "Breitengrad": df["lat"], "Längengrad": df["lon"], "Sozialraum": df["sozialraum_id"]})
    return out.astype(object).where(out.notna(), None)


def export(con: db.Con, path: str | Path, *, actor: Actor) -> Path:
    return write_table(export_frame(con, actor=actor), path, sheet="Angebote")
