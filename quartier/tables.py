"""Reading and writing plain tables (CSV/XLSX) for catalogue files and exports.

Exports follow the command line conventions: CSV in UTF-8 with BOM, ``;``-separated by default;
``.xlsx`` by the file ending. Every text cell that a spreadsheet would run as a formula is
neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import re
import io
from pathlib import Path

import pandas as pd

from quartier.errors import QuartierError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TableError(QuartierError):
    """Unreadable table; German message."""


_AFTER_BREAK = re.compile(r"([\r\n][ ]*)(?=[=+\-@\t])")
CSV_LINE_END = "\r\n"  # with it, the csv writer quotes every field that holds a CR or an LF


def neutralise(value):
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
    """Write one or more frames to an .xlsx (formula-neutralised); return the bytes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, df in sheets.items():
        ws = wb.create_sheet(title=str(name)[:31])
        safe = neutralise_frame(df)
        ws.append([str(c) for c in safe.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in safe.itertuples(index=False):
            ws.append([None if (v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA) else _plain(v) for v in row])
        for i, col in enumerate(safe.columns, start=1):
            width = max([len(str(col))] + [len(str(v)) for v in safe[col].head(200).tolist()])
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = min(60, max(8, width + 2))
        ws.freeze_panes = "A2"
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
    """CSV bytes as departments send them (UTF-8 with or without BOM, else Windows-1252) -> (text, separator)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    first = text.splitlines()[0] if text else ""
    return text, (";" if first.count(";") >= first.count(",") else ",")


def read_table(path: str | Path, sheet: str | int = 0) -> pd.DataFrame:
    """Read a simple header-first table from .csv (``;`` or ``,``, UTF-8 or Windows-1252) or .xlsx."""
    p = Path(path)
    if not p.exists():
        raise TableError(f"Datei {p} nicht gefunden.")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        text, sep = decode_csv(p.read_bytes())
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    if suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        from python_calamine import CalamineWorkbook

        try:
            wb = CalamineWorkbook.from_path(str(p))
            name = wb.sheet_names[sheet] if isinstance(sheet, int) else sheet
            rows = wb.get_sheet_by_name(name).to_python()
        except Exception as exc:  # noqa: BLE001 - calamine raises several error types
            raise TableError(f"{p}: Datei kann nicht als Tabelle gelesen werden ({exc}).") from exc
        if not rows:
            return pd.DataFrame()
        header = [str(h).strip() for h in rows[0]]
        body = [["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)) for v in r] for r in rows[1:]]
        return pd.DataFrame(body, columns=header)
    raise TableError(f"{p}: Dateiendung {p.suffix!r} nicht unterstützt (erlaubt: .csv, .xlsx).")
