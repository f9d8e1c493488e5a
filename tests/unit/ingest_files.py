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


# ------------------------------------------------------------------------------------------------
# bad files for every upload path (tests/unit/test_upload_badfiles.py); each returns the path written


def too_large(path: Path, size: int = 50 * 1024 * 1024 + 1) -> Path:
    """A sparse file just over the 50 MB upload limit that starts like an .xlsx (costs no disk space)."""
    with path.open("wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.truncate(size)
    return path


def zip_bomb(path: Path) -> Path:
    path.write_bytes(zip_bomb_claim())
    return path


def encrypted(path: Path) -> Path:
    """A password-protected workbook: real OOXML encryption when msoffcrypto is installed, else its container."""
    plain = xlsx(path.with_name("plain_" + path.name), {"Daten": [["Jahr", "Wert"], [2025, 1]]})
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:  # the same container shape: CFB magic plus the EncryptionInfo stream name
        path.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 512 + "EncryptionInfo".encode("utf-16-le") + b"\x00" * 512)
        return path
    with plain.open("rb") as src, path.open("wb") as dst:
        OOXMLFile(src).encrypt("geheim", dst)
    return path


def huge_dimension(path: Path) -> Path:
    """Two cells, A1 and XFD1048576: a few KB that would make a reader allocate 17 billion cells."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Daten"
    ws["A1"] = "Jahr"
    ws["XFD1048576"] = 1
    wb.save(path)
    return path


def not_a_spreadsheet(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n")
    return path


def nul_after_4k(path: Path) -> Path:
    """A CSV whose first 4 KB are clean text and which then contains a NUL byte."""
    head = "Jahr;Sozialraum;Kennzahl;Wert\n" + "2025;M01;Kennzahl;1\n" * 300
    path.write_bytes(head.encode() + b"2025;M0\x001;Kennzahl;1\n")
    return path


def fifo(path: Path) -> Path:
    """A named pipe nobody writes to: reading it would block for ever."""
    import os

    os.mkfifo(path)
    return path
