"""Daten-Import: Lieferungen (Excel/CSV) hochladen, Zuordnung prüfen, Vorschau, Übernahme in einem Schritt."""

import streamlit as st

from quartier import uploads
from quartier.ui import imports as ui
from quartier.ui.guard import page_header

page_header(
    "Daten-Import",
    "Lieferdateien der Ämter und des Jobcenters hierher ziehen. Quartier erkennt Tabelle, Layout und Spalten, prüft jeden "
    "Wert und zeigt, was sich ändern würde. **Geschrieben wird erst nach Ihrer Bestätigung** – und nur die ganze Datei.",
)
files = st.file_uploader(
    "Lieferdateien (.xlsx, .xlsm, .xls, .ods, .csv)", type=ui.UPLOAD_TYPES, accept_multiple_files=True, key="import_upload",
    max_upload_size=uploads.UPLOAD_WIDGET_MB,
    help="Mehrere Dateien gleichzeitig möglich. CSV mit ; oder , getrennt, UTF-8 oder Windows-1252. Makros werden ignoriert. "
         + uploads.UPLOAD_LIMIT_HELP,
)
if not files:
    st.info("Noch keine Datei ausgewählt. Tipp: Die Excel-Vorlage enthält eine Anleitung und Auswahllisten für "
            "Sozialräume und Kennzahlen.", icon=":material/upload_file:")
    ui.template_button("tpl_import")
shown = ui.latest_per_name(files)  # a corrected file with the same name replaces the earlier card
ui.forget_removed(shown)  # a removed (or replaced) file's analysis is freed at once
for i, f in enumerate(shown):
    ui.render_file(f, i, replaced=sum(g.name == f.name for g in files or []) - 1)
