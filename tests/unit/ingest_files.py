"""Helpers that write real delivery files for the importer tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook

EDITOR_NAME = "pruefer"


def xlsx(path: Path, sheets: dict[str, list[list]], merged: dict[str, list[str]] | None = None,
         hidden: tuple[str, ...] = ()) -> Path:
    """Write sheets (name -> rows) to ``path``; merged ranges like "C4:E4"; hidden sheet names."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
        for rng in (merged or {}).get(name, []):
            ws.merge_cells(rng)
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


def long_rows(values: list[tuple], title: bool = True) -> list[list]:
    """A long table: (Jahr, Sozialraum, Kennzahl, Zähler, Nenner, Wert) rows under a title block."""
    rows = []
    if title:
        rows += [["LOGO", None, None, "Stadt Hagen"], ["Kennzahlen nach Sozialräumen"], ["Stand 31.12."], [],
                 ["Hinweis: vorläufige Zahlen"], []]
    rows.append(["Jahr", "Sozialraum", "Kennzahl", "Zähler", "Nenner", "Wert"])
    rows += [list(v) for v in values]
    return rows


def zip_bomb_claim(size: int = 2 * 1024 ** 3) -> bytes:
    """A tiny zip whose directory claims ``size`` bytes uncompressed for a member."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>" * 10)
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * 1000)
    data = bytearray(buf.getvalue())
    pos = data.rfind(b"PK\x01\x02")  # central directory entry of the sheet: uncompressed size at offset 24
    data[pos + 24:pos + 28] = (size & 0xFFFFFFFF).to_bytes(4, "little")
    return bytes(data)
