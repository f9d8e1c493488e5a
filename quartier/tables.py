"""Reading and writing plain tables (CSV/XLSX) for catalogue files and exports.

Exports follow the command line conventions: CSV in UTF-8 with BOM, ``;``-separated by default;
``.xlsx`` by the file ending. Every text cell that a spreadsheet would run as a formula is
neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd

from quartier import uploads
from quartier.errors import QuartierError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# control characters an .xlsx cannot hold (openpyxl raises IllegalCharacterError): shown as U+FFFD instead
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
REPLACEMENT = "\ufffd"


def clean_text(value: Any) -> Any:
    """Text with control characters (NUL, …) replaced by U+FFFD so that it can be written to .xlsx."""
    if isinstance(value, str) and _ILLEGAL_XML.search(value):
        return _ILLEGAL_XML.sub(REPLACEMENT, value)
    return value


class TableError(QuartierError):
    """Unreadable table; German message."""


_AFTER_BREAK = re.compile(r"([\r\n][ ]*)(?=[=+\-@\t])")
CSV_LINE_END = "\r\n"  # with it, the csv writer quotes every field that holds a CR or an LF


def neutralise(value: Any) -> Any:
    """Make text safe for spreadsheets: an apostrophe before a formula start (=, +, -, @, tab, CR), also after
    leading spaces and after every line break inside the text (software that treats CR as a line end would
    otherwise see a new row starting with ``=cmd…``)."""
    if not isinstance(value, str):
        return value
    if value.lstrip(" ").startswith(FORMULA_START):
        value = "'" + value
    return _AFTER_BREAK.sub(r"\1'", value)


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def write_table(df: pd.DataFrame, path: str | Path, sep: str = ";", sheet: str = "Daten") -> Path:
    """Write ``df`` as .csv (UTF-8 BOM) or .xlsx by the file ending."""
    p = Path(path)
    safe = neutralise_frame(df)
    suffix = p.suffix.lower()
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        safe.to_csv(p, sep=sep, index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL, lineterminator=CSV_LINE_END)
    elif suffix == ".xlsx":
        to_xlsx_bytes({sheet: safe}, p)
    else:
        raise TableError(f"Unbekannte Dateiendung {p.suffix!r}: bitte .csv oder .xlsx verwenden.")
    return p


def to_csv_bytes(df: pd.DataFrame, sep: str = ";") -> bytes:
    return neutralise_frame(df).to_csv(sep=sep, index=False, quoting=csv.QUOTE_MINIMAL,
                                       lineterminator=CSV_LINE_END).encode("utf-8-sig")


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame], path: str | Path | None = None) -> bytes:
    """Write one or more frames to an .xlsx (formula-neutralised); return the bytes.

    Written row by row (openpyxl's write-only mode: no cell objects kept), so the column widths and the frozen
    header are set before the first row.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, df in sheets.items():
        ws = wb.create_sheet(title=str(name)[:31])
        safe = neutralise_frame(df)
        for i, col in enumerate(safe.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in safe[col].head(200).tolist()])
            ws.column_dimensions[get_column_letter(i)].width = min(60, max(8, width + 2))
        ws.freeze_panes = "A2"
        header = []
        for c in safe.columns:
            cell = WriteOnlyCell(ws, value=clean_text(str(c)))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in safe.itertuples(index=False):
            ws.append([None if (v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA) else clean_text(_plain(v)) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _plain(v):
    if hasattr(v, "item"):
        try:
            return v.item()
        except (ValueError, AttributeError):
            return v
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def decode_csv(raw: bytes) -> tuple[str, str]:
    """CSV bytes as departments send them -> (text, separator); the one decoding in :mod:`quartier.uploads`."""
    return uploads.decode_csv(raw)


def read_table(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    """Read a simple header-first table from .csv (``;``, ``,`` or tab; UTF-8 or Windows-1252) or .xlsx.

    The file goes through :mod:`quartier.uploads` (regular file, size limit, zip bomb, password,
    sheet dimensions); every refusal is a :class:`TableError` naming the file.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm", ".xls", ".ods"):
        if not p.exists():
            raise TableError(f"Datei {p} nicht gefunden.")
        raise TableError(f"{p}: Dateiendung {p.suffix!r} nicht unterstützt (erlaubt: .csv, .xlsx).")
    try:
        data = uploads.read_path(p)
        if suffix == ".csv":
            uploads.check_upload(data, p.name)
            text, sep = uploads.decode_csv(data)
            return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
        book = uploads.read_book(data, p.name, pick=lambda names: [_pick_sheet(names, sheet)])
    except uploads.FileRejected as exc:
        if exc.kind == "unlesbar" and not p.exists():
            raise TableError(f"Datei {p} nicht gefunden.") from exc
        raise TableError(f"{p}: {exc}") from exc
    except (pd.errors.ParserError, csv.Error) as exc:
        raise TableError(f"{p}: Datei kann nicht als Tabelle gelesen werden ({exc}).") from exc
    rows = book.sheets[0].rows if book.sheets else []
    rows = _trim(rows)
    if not rows:
        return pd.DataFrame()
    header = [str(h).strip() for h in rows[0]]
    body = [["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in r] for r in rows[1:]]
    return pd.DataFrame(body, columns=header)


def _pick_sheet(names: list[str], sheet: str | int) -> str:
    if isinstance(sheet, int):
        if not -len(names) <= sheet < len(names):
            raise uploads.FileRejected(f"Die Datei hat kein Blatt Nummer {sheet + 1}.", "blatt")
        return names[sheet]
    if sheet not in names:
        raise uploads.FileRejected(f"Die Datei hat kein Blatt „{sheet}“.", "blatt")
    return sheet


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Drop the empty rows and columns around the data, as calamine's default read does."""
    def empty(v: Any) -> bool:
        return v is None or v == ""

    top = next((i for i, r in enumerate(rows) if not all(empty(v) for v in r)), len(rows))
    bottom = next((i for i in range(len(rows), top, -1) if not all(empty(v) for v in rows[i - 1])), top)
    rows = rows[top:bottom]
    used = [c for c in range(max((len(r) for r in rows), default=0)) if any(c < len(r) and not empty(r[c]) for r in rows)]
    if not used:
        return []
    left, right = used[0], used[-1] + 1
    return [list(r[left:right]) + [""] * max(0, right - len(r)) for r in rows]
