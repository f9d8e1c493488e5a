"""Reading delivered files safely: size and type checks, zip-bomb guard, CSV sniffing, calamine.

Nothing here touches the database. Every problem becomes a :class:`FileRejected` with a German
message that says what to do.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from quartier.errors import QuartierError

ALLOWED_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024          # upload limit per file
MAX_UNCOMPRESSED_BYTES = 400 * 1024 * 1024   # what the zip directory may claim in total
MAX_RATIO = 200                              # compression ratio per member beyond which we refuse
MAX_CELLS = 20_000_000
ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_ENCRYPTION_MARK = "EncryptionInfo".encode("utf-16-le")


class FileRejected(QuartierError):
    """The file cannot be read at all; nothing is changed. ``kind`` names the reason."""

    def __init__(self, message: str, kind: str = "unlesbar"):
        super().__init__(message)
        self.kind = kind


@dataclass
class RawSheet:
    name: str
    rows: list[list]                    # absolute positions: rows[r][c] is cell (r+1, c+1)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 (0-based)


@dataclass
class RawBook:
    sheets: list[RawSheet]
    infos: list[str] = field(default_factory=list)
    kind: str = "xlsx"
    zip_file: zipfile.ZipFile | None = field(default=None, repr=False)
    _formulas: list | None = field(default=None, repr=False)

    def formulas_without_value(self) -> list[tuple[str, str]]:
        """(sheet, cell) of formula cells without a cached value (xlsx/xlsm only), scanned on first use.

        The scan decompresses the sheet XML again, so the pipeline only asks when a cell it needs was empty.
        """
        if self._formulas is None:
            self._formulas = _formulas_without_value(self.zip_file) if self.zip_file is not None and self.kind == "xlsx" else []
        return self._formulas


def suffix_of(filename: str) -> str:
    name = filename.lower()
    return name[name.rfind("."):] if "." in name else ""


def check_upload(data: bytes, filename: str, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """Checks before anything is parsed; return the container kind ('zip', 'cfb', 'csv')."""
    suffix = suffix_of(filename)
    if suffix not in ALLOWED_SUFFIXES:
        raise FileRejected(
            f"Dateityp „{suffix or 'ohne Endung'}“ wird nicht unterstützt. Bitte eine Excel-Datei (.xlsx, .xlsm, .xls), "
            "eine OpenDocument-Tabelle (.ods) oder eine CSV-Datei liefern.", "dateityp")
    if not data:
        raise FileRejected("Die Datei ist leer (0 Byte). Bitte die Datei erneut speichern und noch einmal hochladen.", "leer")
    if len(data) > max_bytes:
        raise FileRejected(
            f"Die Datei ist {len(data) / 1024 / 1024:.1f} MB groß und überschreitet das Upload-Limit von "
            f"{max_bytes / 1024 / 1024:.0f} MB. Bitte die Lieferung aufteilen (z. B. ein Jahr je Datei).".replace(".", ",", 1),
            "zu_gross")
    if data.startswith(ZIP_MAGIC) or data.startswith(b"PK\x05\x06"):
        if suffix not in (".xlsx", ".xlsm", ".ods"):
            raise FileRejected(f"Die Datei ist ein ZIP-Container, aber die Endung ist {suffix}. Bitte als .xlsx oder .ods speichern.", "dateityp")
        return "zip"
    if data.startswith(CFB_MAGIC):
        if _ENCRYPTION_MARK in data:
            raise FileRejected(
                "Die Arbeitsmappe ist mit einem Kennwort geschützt und kann nicht gelesen werden. Bitte den "
                "Kennwortschutz in Excel entfernen (Datei › Informationen › Arbeitsmappe schützen) und erneut liefern.",
                "kennwort")
        if suffix not in (".xls", ".xlsx", ".xlsm"):
            raise FileRejected(f"Die Datei ist eine alte Excel-Datei (.xls), hat aber die Endung {suffix}.", "dateityp")
        return "cfb"
    if suffix == ".csv":
        if b"\x00" in data[:4096]:
            raise FileRejected("Die CSV-Datei enthält Binärdaten und ist keine Textdatei. Bitte als „CSV (Trennzeichen-getrennt)“ speichern.", "dateityp")
        return "csv"
    raise FileRejected(
        f"Die Datei hat die Endung {suffix}, ist aber keine Tabellendatei (weder Excel noch OpenDocument). "
        "Wurde sie nur umbenannt? Bitte in Excel öffnen und als .xlsx speichern.", "keine_tabelle")


def check_zip(data: bytes) -> zipfile.ZipFile:
    """Open the zip directory and refuse bombs before any decompression happens."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise FileRejected(
            f"Die Datei ist beschädigt (ZIP-Struktur unlesbar: {exc}). Bitte in Excel öffnen, neu speichern und erneut liefern.",
            "beschaedigt") from exc
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise FileRejected(
            f"Die Datei gibt an, entpackt {total / 1024 ** 3:.1f} GB groß zu sein (erlaubt: "
            f"{MAX_UNCOMPRESSED_BYTES / 1024 ** 2:.0f} MB). Sie wird aus Sicherheitsgründen nicht geöffnet (mögliche ZIP-Bombe).".replace(".", ",", 1),
            "zip_bombe")
    for i in infos:
        if i.compress_size and i.file_size > 1024 * 1024 and i.file_size / i.compress_size > MAX_RATIO:
            raise FileRejected(
                f"Der Teil „{i.filename}“ der Datei ist ungewöhnlich stark komprimiert ({i.file_size // i.compress_size}:1). "
                "Die Datei wird aus Sicherheitsgründen nicht geöffnet (mögliche ZIP-Bombe).", "zip_bombe")
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names and "mimetype" not in names and "content.xml" not in names:
        raise FileRejected("Die ZIP-Datei ist keine Excel- oder OpenDocument-Tabelle. Bitte als .xlsx speichern.", "keine_tabelle")
    return zf


def read_book(data: bytes, filename: str, max_bytes: int = MAX_UPLOAD_BYTES) -> RawBook:
    kind = check_upload(data, filename, max_bytes)
    if kind == "csv":
        return RawBook([RawSheet(_csv_sheet_name(filename), read_csv_rows(data))], kind="csv")
    zf = check_zip(data) if kind == "zip" else None
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError as exc:
        raise FileRejected("Die Arbeitsmappe ist mit einem Kennwort geschützt. Bitte den Kennwortschutz entfernen und erneut liefern.", "kennwort") from exc
    except Exception as exc:  # noqa: BLE001 - calamine raises several error types
        raise FileRejected(f"Die Datei ist beschädigt oder kein lesbares Tabellenformat ({exc}). Bitte in Excel öffnen, "
                           "neu speichern und erneut liefern.", "beschaedigt") from exc
    book = RawBook([], kind="ods" if suffix_of(filename) == ".ods" else ("xls" if kind == "cfb" else "xlsx"))
    book.zip_file = zf
    cells = 0
    try:
        for meta in wb.sheets_metadata:
            visible = str(meta.visible).rsplit(".", 1)[-1].lower() == "visible"
            is_work = str(meta.typ).rsplit(".", 1)[-1].lower() == "worksheet"
            if not visible:
                book.infos.append(f"Ausgeblendetes Blatt „{meta.name}“ wird nicht gelesen.")
                continue
            if not is_work:
                book.infos.append(f"Blatt „{meta.name}“ ist kein Tabellenblatt (z. B. Diagramm) und wird nicht gelesen.")
                continue
            sh = wb.get_sheet_by_name(meta.name)
            cells += (sh.total_height or 0) * (sh.total_width or 0)
            if cells > MAX_CELLS:
                raise FileRejected(f"Die Datei hat mehr als {MAX_CELLS:,} Zellen und ist zu groß für einen Import. "
                                   "Bitte aufteilen.".replace(",", "."), "zu_gross")
            rows = sh.to_python(skip_empty_area=False)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sh.merged_cell_ranges or [])]
            book.sheets.append(RawSheet(meta.name, rows, merged))
    except FileRejected:
        raise
    except Exception as exc:  # noqa: BLE001
        raise FileRejected(f"Die Datei ist beschädigt ({exc}). Bitte in Excel öffnen, neu speichern und erneut liefern.",
                           "beschaedigt") from exc
    finally:
        wb.close()
    return book


def _csv_sheet_name(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0][:31] or "CSV"


def decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_csv_rows(data: bytes) -> list[list]:
    text = decode_text(data)
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    sample = "\n".join(lines)
    counts = {sep: sample.count(sep) for sep in (";", ",", "\t")}
    sep = max(counts, key=counts.get) if any(counts.values()) else ";"
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


_SHEET_RE = re.compile(rb'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]+)"')
_REL_RE = re.compile(rb'<Relationship [^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"|<Relationship [^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"')
_VALUE_RE = re.compile(rb"<v(?: [^>]*)?>[^<]+</v>")
_CELL_F_RE = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*>((?:(?!</c>).)*?<f[ >/](?:(?!</c>).)*?)</c>', re.S)


def _formulas_without_value(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """Formula cells with no cached value (the file was never calculated); only xlsx/xlsm."""
    try:
        names = zf.namelist()
        sheet_files = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        candidates = {}
        for n in sheet_files:
            if _contains(zf, n, (b"<f>", b"<f ")):
                candidates[n] = zf.read(n)
        if not candidates:
            return []
        wbxml = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
        target = {}
        for m in _REL_RE.finditer(rels):
            rid, tgt = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
            t = tgt.decode().lstrip("/")
            target[rid] = t if t.startswith("xl/") else "xl/" + t
        out = []
        for m in _SHEET_RE.finditer(wbxml):
            sheet_name = m.group(1).decode("utf-8")
            path = target.get(m.group(2))
            xml = candidates.get(path)
            if xml is None:
                continue
            for cm in _CELL_F_RE.finditer(xml):
                body = cm.group(2)
                if not _VALUE_RE.search(body):
                    out.append((_unescape(sheet_name), cm.group(1).decode()))
        return out
    except (KeyError, zipfile.BadZipFile, OSError):
        return []


def _contains(zf: zipfile.ZipFile, name: str, needles: tuple[bytes, ...], chunk: int = 1 << 20) -> bool:
    """Stream a member and stop at the first needle (no full copy of a large sheet in memory)."""
    tail = b""
    with zf.open(name) as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                return False
            buf = tail + block
            if any(nd in buf for nd in needles):
                return True
            tail = buf[-8:]


def _unescape(s: str) -> str:
    return s.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&apos;", "'")
