"""The one reader for every uploaded or given spreadsheet/CSV: deliveries, recommendations, catalogues.

Size and type checks, regular files only, zip-bomb guard, password check, declared and real sheet
dimensions checked before a sheet is loaded, one CSV decoding, calamine. Nothing here touches the
database. Every problem becomes a :class:`FileRejected` with a German message that says what to do.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import posixpath
import re
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from quartier import biff
from quartier.errors import QuartierError

ALLOWED_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024          # upload limit per file
# The browser widget's own limit (st.file_uploader max_upload_size, server.maxUploadSize) lies above the app's, so
# that a file between the two reaches check_upload and is refused with a German message instead of Streamlit's
# English "File must be 50.0MB or smaller" (issue 20). Above it the widget still refuses on its own.
UPLOAD_WIDGET_MB = 60
UPLOAD_LIMIT_HELP = f"Höchstens {MAX_UPLOAD_BYTES // (1024 * 1024)} MB je Datei; größere Lieferungen bitte aufteilen (z. B. ein Jahr je Datei)."
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
    rows: list[list[Any]]               # absolute positions: rows[r][c] is cell (r+1, c+1)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 (0-based)


@dataclass
class RawBook:
    sheets: list[RawSheet]
    infos: list[str] = field(default_factory=list)
    kind: str = "xlsx"
    zip_file: zipfile.ZipFile | None = field(default=None, repr=False)
    _formulas: list[tuple[str, str]] | None = field(default=None, repr=False)

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
        raise FileRejected(_too_large_text(len(data), max_bytes), "zu_gross")
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
        nul = data.find(b"\x00")
        if 0 <= nul < 4096:
            raise FileRejected("Die CSV-Datei enthält Binärdaten und ist keine Textdatei. Bitte als „CSV (Trennzeichen-getrennt)“ speichern.", "dateityp")
        if nul >= 0:
            line = data.count(b"\n", 0, nul) + 1
            raise FileRejected(f"Die CSV-Datei enthält in Zeile {line} Binärdaten (ein NUL-Zeichen) und "
                               "ist keine saubere Textdatei. Bitte die Zeile prüfen und als „CSV (Trennzeichen-getrennt)“ speichern.",
                               "dateityp")
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


def _mb(n: float) -> str:
    return f"{n / 1024 / 1024:.1f}".replace(".", ",")


def read_path(path: str | Path, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """The bytes of a file given on the command line: regular files only, at most ``max_bytes``.

    A FIFO, a device (``/dev/zero``) or a directory is refused before anything is read, so the
    call never blocks and never reads without end. Messages do not repeat the path: callers add it.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise FileRejected(os_error_text(exc), "unlesbar") from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRejected(os_error_text(IsADirectoryError()), "unlesbar")
        if not stat.S_ISREG(info.st_mode):
            raise FileRejected("Das ist keine gewöhnliche Datei (sondern z. B. eine Pipe oder ein Gerät) und wird "
                               "nicht gelesen. Bitte eine gespeicherte Tabellendatei angeben.", "keine_datei")
        if info.st_size > max_bytes:
            raise FileRejected(_too_large_text(info.st_size, max_bytes), "zu_gross")
        chunks = []
        got = 0
        while got <= max_bytes:
            block = os.read(fd, min(1 << 20, max_bytes + 1 - got))
            if not block:
                break
            chunks.append(block)
            got += len(block)
    except OSError as exc:
        raise FileRejected(os_error_text(exc), "unlesbar") from exc
    finally:
        os.close(fd)
    if got > max_bytes:
        raise FileRejected(_too_large_text(got, max_bytes), "zu_gross")
    return b"".join(chunks)


def os_error_text(exc: OSError) -> str:
    """A German sentence for a file that cannot be opened."""
    if isinstance(exc, FileNotFoundError):
        return "Datei nicht gefunden. Bitte Pfad und Dateinamen prüfen."
    if isinstance(exc, IsADirectoryError):
        return "Das ist ein Ordner, keine Datei. Bitte die Lieferdatei selbst angeben."
    if isinstance(exc, PermissionError):
        return "Keine Leseberechtigung für die Datei. Bitte die Rechte prüfen."
    return f"Datei kann nicht gelesen werden ({exc})."


def _too_large_text(size: int, max_bytes: int) -> str:
    return (f"Die Datei ist {_mb(size)} MB groß und überschreitet das Upload-Limit von {max_bytes / 1024 / 1024:.0f} MB. "
            "Bitte die Lieferung aufteilen (z. B. ein Jahr je Datei).")


SheetPick = Callable[[list[str]], list[str]]


def read_book(data: bytes, filename: str, max_bytes: int = MAX_UPLOAD_BYTES, pick: SheetPick | None = None) -> RawBook:
    """All checks, then the sheets as rows. ``pick`` chooses sheets by name from all names (default: every
    visible worksheet); a picked sheet is read even when hidden."""
    kind = check_upload(data, filename, max_bytes)
    if kind == "csv":
        return RawBook([RawSheet(_csv_sheet_name(filename), read_csv_rows(data))], kind="csv")
    zf = check_zip(data) if kind == "zip" else None
    sizes = (sheet_sizes(zf) | ods_sizes(zf)) if zf is not None else biff.sheet_extents(data)
    if (far := next(((s, r, c) for s, (r, c) in sizes.items() if r * c > MAX_CELLS), None)) is not None:
        raise _too_many_cells(*far)  # before calamine opens the file at all
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
    try:
        _read_sheets(wb, book, sizes, pick(list(wb.sheet_names)) if pick else None)
    except FileRejected:
        raise
    except Exception as exc:  # noqa: BLE001
        raise FileRejected(f"Die Datei ist beschädigt ({exc}). Bitte in Excel öffnen, neu speichern und erneut liefern.",
                           "beschaedigt") from exc
    finally:
        wb.close()
    return book


def _read_sheets(wb: Any, book: RawBook, sizes: dict[str, tuple[int, int]], picked: list[str] | None) -> None:
    cells = 0
    for meta in wb.sheets_metadata:
        visible = str(meta.visible).rsplit(".", 1)[-1].lower() == "visible"
        is_work = str(meta.typ).rsplit(".", 1)[-1].lower() == "worksheet"
        if picked is not None:
            if meta.name not in picked or not is_work:
                continue
        elif not visible:
            book.infos.append(f"Ausgeblendetes Blatt „{meta.name}“ wird nicht gelesen.")
            continue
        elif not is_work:
            book.infos.append(f"Blatt „{meta.name}“ ist kein Tabellenblatt (z. B. Diagramm) und wird nicht gelesen.")
            continue
        rows_n, cols_n = sizes.get(meta.name, (0, 0))
        cells += rows_n * cols_n          # known from the sheet XML before calamine allocates anything
        if cells > MAX_CELLS:
            raise _too_many_cells(meta.name, rows_n, cols_n)
        sh = wb.get_sheet_by_name(meta.name)
        cells += (sh.total_height or 0) * (sh.total_width or 0) - rows_n * cols_n
        if cells > MAX_CELLS:
            raise FileRejected(f"Die Datei hat mehr als {MAX_CELLS:,} Zellen und ist zu groß für einen Import. "
                               "Bitte aufteilen.".replace(",", "."), "zu_gross")
        rows = sh.to_python(skip_empty_area=False)
        merged = [(a[0], a[1], b[0], b[1]) for a, b in (sh.merged_cell_ranges or [])]
        book.sheets.append(RawSheet(meta.name, rows, merged))


def _too_many_cells(sheet: str, rows_n: int, cols_n: int) -> FileRejected:
    def n(x: int) -> str:
        return f"{x:,}".replace(",", ".")

    return FileRejected(
        f"Das Blatt „{sheet}“ ist zu groß: {n(rows_n)} Zeilen × {n(cols_n)} Spalten ({n(rows_n * cols_n)} Zellen); "
        f"erlaubt sind höchstens {n(MAX_CELLS)} Zellen. Die Datei wird aus Sicherheitsgründen nicht geöffnet. Bitte nur "
        "den Bereich mit Daten in eine neue Arbeitsmappe kopieren und erneut liefern.", "zu_gross")


_DIM_RE = re.compile(rb'<dimension[^>]*?ref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"')
_LAST_ROW_RE = re.compile(rb'<row r="([0-9]+)"')
_LAST_CELL_RE = re.compile(rb'<c r="([A-Z]+)')
_DIGITS = b"0123456789"
_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# every cell and row start tag, in any prefix, attribute order, quoting or spacing (the exact scan)
_TAG_RE = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?(c|row)(?=[\s/>])(?:((?:[^>"\']|"[^"]*"|\'[^\']*\')*)>)?')
_R_ATTR_RE = re.compile(rb'(?<![\w:.-])r\s*=\s*(?:"([A-Za-z]*)([0-9]+)"|\'([A-Za-z]*)([0-9]+)\')')  # else calamine fails
_REF_RE = re.compile(rb'([A-Za-z]*)([0-9]+)')
_PREFIXED_RE = re.compile(rb':(?:c|row)[\s/>]')
_MAX_TAG = 4 << 20
_MAX_UPDATES = 8  # more references beyond the extent known so far in one chunk: the exact scan reads the chunk


def _at_most(text: bytes, alphabet: bytes, first: bytes) -> bytes:
    """A pattern for a number in ``alphabet`` (first digit from ``first``) at most ``text``, digit by digit."""
    def span(lo: int, hi: int) -> bytes:  # digits alphabet[lo..hi] as a character class
        return b"[" + alphabet[lo:lo + 1] + b"-" + alphabet[hi:hi + 1] + b"]"

    k = len(text)
    alts = [text]
    for i in range(k):
        hi = alphabet.index(text[i]) - 1
        lo = alphabet.index(first[0]) if i == 0 else 0
        if hi >= lo:
            alts.append(text[:i] + span(lo, hi) + (span(0, len(alphabet) - 1) + b"{%d}" % (k - i - 1) if k - i > 1 else b""))
    if k > 1:
        alts.append(span(alphabet.index(first[0]), len(alphabet) - 1) + span(0, len(alphabet) - 1) + b"{0,%d}" % (k - 2))
    return b"(?:" + b"|".join(alts) + b")"


@functools.lru_cache(maxsize=64)
def _odd_re(max_row: int, max_col: int) -> re.Pattern[bytes]:
    """A cell tag the fast scan cannot vouch for: anything but ``<c r="B7" …>`` (reference first, double quotes, upper
    case, no leading zero, inside ``max_row`` × ``max_col``; no other attribute ending in ``r``, no single quotes)."""
    row = _at_most(str(max_row).encode(), _DIGITS, b"1") if max_row else b"(?!)"
    col = b"[A-" + _col_letters(max_col) + b"]" if 0 < max_col <= 26 else _at_most(_col_letters(max_col), _LETTERS, b"A") if max_col else b"(?!)"
    return re.compile(rb'<c(?! r="' + col + row + rb'"[^>"\'r]*+(?:"[^"]*+"[^>"\'r]*+)*+>)[\s/>]')


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _col_letters(n: int) -> bytes:
    out = b""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = _LETTERS[rest:rest + 1] + out
    return out


def sheet_sizes(zf: zipfile.ZipFile) -> dict[str, tuple[int, int]]:
    """(rows, columns) per worksheet of an xlsx/xlsm, from the sheet XML, streamed in bounded memory.

    The larger of the declared ``<dimension ref=…>`` and the extent of every cell and row reference calamine would
    honour is used; a sheet beyond :data:`MAX_CELLS` is refused here, before calamine allocates its grid.
    """
    out: dict[str, tuple[int, int]] = {}
    for name, path in _sheet_paths(zf).items():
        try:
            rows_n, cols_n = _scan_extent(zf, path)
        except (KeyError, zipfile.BadZipFile, OSError, EOFError):
            continue
        if rows_n * cols_n > MAX_CELLS:
            raise _too_many_cells(_unescape(name), rows_n, cols_n)
        out[_unescape(name)] = (rows_n, cols_n)
    return out


class _Extent:
    """Rows and columns seen so far, and where the next cell without a reference would land (row, column)."""

    def __init__(self) -> None:
        self.rows = self.cols = self.row = self.col = 0
        self.carry: int | None = None

    def fast(self, buf: bytes, end: int) -> bool:
        """Measure ``buf[:end]`` when every cell is written the usual way; False when it is not.

        Row elements only place cells without ``r`` (which are not usual): the tags after the last usual cell are
        read one by one, so that the next chunk starts from the right row."""
        last = _LAST_ROW_RE.search(buf, max(buf.rfind(b'<row r="', 0, end), 0), end)
        if last:  # a first guess for the row threshold; cells beyond it are found below
            self.rows = max(self.rows, int(last.group(1)))
        cell_at = buf.rfind(b'<c r="', 0, end)
        cell = _LAST_CELL_RE.search(buf, max(cell_at, 0), end)
        if cell:
            self.cols = max(self.cols, _col_number(cell.group(1)))
        pos = 0
        for _ in range(_MAX_UPDATES):
            odd = _odd_re(self.rows, self.cols).search(buf, pos, end)
            if odd is None:
                if b":" in buf and _PREFIXED_RE.search(buf, 0, end):  # <x:c …>, <x:row …>
                    return False
                self.row, self.col = self.rows, self.cols
                self.exact(buf, end, max(cell_at, 0))
                return True
            close = buf.find(b'"', odd.start() + 6, end)
            ref = _REF_RE.fullmatch(buf, odd.start() + 6, close) if buf.startswith(b'<c r="', odd.start()) else None
            if ref is None or not ref.group(1).isupper() or ref.group(2).startswith(b"0"):
                return False
            self.rows = max(self.rows, int(ref.group(2)))
            self.cols = max(self.cols, _col_number(ref.group(1)))
            pos = odd.start()
        return False

    def exact(self, buf: bytes, end: int, start: int = 0) -> None:
        """Every cell and row tag of ``buf[start:end]`` placed as calamine does: by its own ``r``, else next to the previous
        cell / after the largest row. A tag not ending before ``end`` (chunk border, or a "<" in a quoted value, which
        calamine accepts) is left for the next chunk: ``carry`` is where it starts."""
        self.carry = None
        for tag in _TAG_RE.finditer(buf, start, end):
            if tag.group(2) is None:  # the tag does not end before ``end``
                self.carry = tag.start()
                return
            row = col = 0
            for letters, digits, letters2, digits2 in _R_ATTR_RE.findall(tag.group(2)):
                # with a second r calamine takes one of them: count the largest row and column of all
                row, col = max(row, int(digits or digits2)), max(col, _col_number(letters or letters2))
            if tag.group(1) == b"row":
                self.row, self.col = row or self.rows + 1, 0
            elif row:
                self.row, self.col = row, max(col, 1)
            else:
                self.col += 1
            self.rows, self.cols = max(self.rows, self.row), max(self.cols, self.col)


def _scan_extent(zf: zipfile.ZipFile, path: str, chunk: int = 1 << 20) -> tuple[int, int]:
    """(rows, columns) of one sheet XML: declared dimension and every cell and row reference, streamed.
    Usual files (``<c r="B7" …>`` first in double quotes) take one search per chunk for a tag that is written
    otherwise or reaches beyond the extent known so far; a chunk with such a tag is read tag by tag."""
    ext = _Extent()
    tail = b""
    first = True
    with zf.open(path) as fh:
        # The extent is all this scan needs: no CRC here (calamine checks it when it reads the sheet), so that a
        # member with a wrong checksum is measured to its end like any other instead of being left unmeasured.
        cast(Any, fh)._expected_crc = None  # zipfile then skips computing the CRC (ZipExtFile._update_crc)
        while True:
            block = fh.read(chunk)
            if not block:
                break
            buf = tail + block if tail else block
            if first:
                dim = _DIM_RE.search(buf)
                if dim:
                    last_col, last_row = (dim.group(3), dim.group(4)) if dim.group(3) else (dim.group(1), dim.group(2))
                    ext.rows, ext.cols = int(last_row), _col_number(last_col)
                first = False
            cut = buf.rfind(b"<")  # the last tag is scanned with the next chunk, and so is a cell or row tag cut in two
            end = cut if cut >= 0 else len(buf)
            ext.carry = None
            if end and not ext.fast(buf, end):
                ext.exact(buf, end)
            keep = end if ext.carry is None else ext.carry
            if len(buf) - keep > max(4 * chunk, _MAX_TAG):
                raise FileRejected("Ein Tabellenblatt enthält einen Zelleintrag, der länger als 4 MB ist; die Datei ist "
                                   "vermutlich beschädigt. Bitte in Excel öffnen, neu speichern und erneut liefern.", "beschaedigt")
            tail = buf[keep:]
        if tail:
            ext.exact(tail, len(tail))  # a tag never closed at the end is not a cell for calamine either
    return ext.rows, ext.cols


_ODS_TAG_RE = re.compile(rb'<(/?)(?:[\w.-]+:)?(table|table-row|table-cell|covered-table-cell)(?=[\s/>])((?:[^>"\']|"[^"]*"|\'[^\']*\')*)>')
_ODS_START_RE = re.compile(rb'</?(?:[\w.-]+:)?(?:table|table-row|table-cell|covered-table-cell)(?=[\s/>])')
_ODS_REPEAT_RE = re.compile(rb'(?<![\w.-])(?:[\w.-]+:)?number-(rows|columns)-repeated\s*=\s*["\']\s*([0-9]+)')
_ODS_NAME_RE = re.compile(rb'(?<![\w.-])(?:[\w.-]+:)?name\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')


def ods_sizes(zf: zipfile.ZipFile, chunk: int = 1 << 20) -> dict[str, tuple[int, int]]:
    """(rows, columns) per table of an OpenDocument spreadsheet, from ``content.xml`` with repetitions expanded:
    calamine expands ``number-rows-repeated`` × ``number-columns-repeated`` of cells with content into its grid, so
    a few bytes can ask for billions of cells; a table beyond :data:`MAX_CELLS` is refused here. Counted up to the
    last cell with content or a value type (empty repeated cells, as LibreOffice writes them, do not count)."""
    if "content.xml" not in zf.namelist():
        return {}
    out: dict[str, tuple[int, int]] = {}
    name, rows_n, cols_n, row, col, rep = "", 0, 0, 0, 0, 1
    tail = b""
    with zf.open("content.xml") as fh:
        while True:
            block = fh.read(chunk)
            buf = tail + block
            end = max(buf.rfind(b"<"), 0) if block else len(buf)
            cut, pos = end, 0
            while (start := _ODS_START_RE.search(buf, pos, end)) is not None:
                tag = _ODS_TAG_RE.match(buf, start.start(), end)
                if tag is None:  # cut in two (by the chunk border or a "<" in a value): read with the next chunk
                    cut = start.start()
                    break
                pos = tag.end()
                closing, kind, attrs = tag.group(1), tag.group(2), tag.group(3)
                if closing:
                    continue
                reps = {k: int(v) for k, v in _ODS_REPEAT_RE.findall(attrs)}
                if kind == b"table":
                    named = _ODS_NAME_RE.search(attrs)
                    name, rows_n, cols_n, row = _unescape((named.group(1) or named.group(2) or b"").decode("utf-8", "replace")) if named else "", 0, 0, 0
                elif kind == b"table-row":
                    rep, col = max(reps.get(b"rows", 1), 1), 0
                    row += rep
                else:
                    width = max(reps.get(b"columns", 1), 1)
                    col += width
                    if kind == b"table-cell" and (not attrs.endswith(b"/") or b"value-type" in attrs):
                        rows_n, cols_n = max(rows_n, row), max(cols_n, col)
                        if rows_n * cols_n > MAX_CELLS:
                            raise _too_many_cells(name, rows_n, cols_n)
                out[name] = (rows_n, cols_n)
            if not block:
                return out
            if len(buf) - cut > _MAX_TAG:
                raise FileRejected("Die Tabelle enthält einen Eintrag, der länger als 4 MB ist; die Datei ist vermutlich "
                                   "beschädigt. Bitte neu speichern und erneut liefern.", "beschaedigt")
            tail = buf[cut:]


def _sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name (XML-escaped) -> path of its XML in the zip (xlsx/xlsm only)."""
    try:
        wbxml = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except (KeyError, zipfile.BadZipFile, OSError):
        return {}
    target = {}
    for rel in map(_attrs, _REL_RE.findall(rels)):  # attributes in any order, either quote, any prefix
        t = rel.get(b"target", b"").decode("utf-8", "replace").lstrip("/")
        target[rel.get(b"id")] = posixpath.normpath(t if t.startswith("xl/") else "xl/" + t)
    out = {}
    for sheet in map(_attrs, _SHEET_RE.findall(wbxml)):
        path = target.get(sheet.get(b"id"))
        if path:
            out[sheet.get(b"name", b"").decode("utf-8", "replace")] = path
    return out


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    """A start tag's attributes by lower-case local name (``r:id`` -> ``id``)."""
    return {k.rsplit(b":", 1)[-1].lower(): a or b for k, a, b in _ATTR_RE.findall(tag)}


def _csv_sheet_name(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0][:31] or "CSV"


def decode_text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def decode_csv(data: bytes) -> tuple[str, str]:
    """The one CSV decoding: UTF-8 (with or without BOM), else Windows-1252; separator ``;``, ``,`` or tab,
    whichever occurs most in the first 50 non-empty lines (``;`` when none does)."""
    text = decode_text(data)
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    sample = "\n".join(lines)
    counts = {sep: sample.count(sep) for sep in (";", ",", "\t")}
    sep = max(counts, key=lambda k: counts[k]) if any(counts.values()) else ";"
    return text, sep


def read_csv_rows(data: bytes) -> list[list[Any]]:
    text, sep = decode_csv(data)
    rows: list[list[Any]] = list(csv.reader(io.StringIO(text), delimiter=sep))
    width = max((len(r) for r in rows), default=0)
    return [r + [""] * (width - len(r)) for r in rows]


_SHEET_RE = re.compile(rb'<(?:[\w.-]+:)?sheet(?=[\s/>])((?:[^>"\']|"[^"]*"|\'[^\']*\')*)>')
_REL_RE = re.compile(rb'<(?:[\w.-]+:)?Relationship(?=[\s/>])((?:[^>"\']|"[^"]*"|\'[^\']*\')*)>')
_ATTR_RE = re.compile(rb'([\w.:-]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_VALUE_RE = re.compile(rb"<v(?: [^>]*)?>[^<]+</v>")
_CELL_F_RE = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*>((?:(?!</c>).)*?<f[ >/](?:(?!</c>).)*?)</c>', re.S)


def _formulas_without_value(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """Formula cells with no cached value (the file was never calculated); only xlsx/xlsm."""
    try:
        names = zf.namelist()
        sheet_files = [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        candidates: dict[str, bytes] = {}
        for n in sheet_files:
            if _contains(zf, n, (b"<f>", b"<f ")):
                candidates[n] = zf.read(n)
        if not candidates:
            return []
        out = []
        for sheet_name, path in _sheet_paths(zf).items():
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
