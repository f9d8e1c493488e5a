"""Old Excel files (.xls): a cell record naming a far cell is refused before calamine builds its grid.

The files are real compound documents (CFB, the container of .xls) with a BIFF8 "Workbook" stream, written
here byte by byte: a workbook-globals substream naming one sheet, and the sheet's substream with its cells.
"""

from __future__ import annotations

import struct

import pytest

from quartier import biff, uploads

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def _record(rtype: int, body: bytes) -> bytes:
    return struct.pack("<HH", rtype, len(body)) + body


def _bof(dt: int) -> bytes:
    return _record(0x0809, struct.pack("<HHHHII", 0x0600, dt, 0x0DBB, 0x07CC, 0, 0x0006))


def _number(row: int, col: int, value: float) -> bytes:
    return _record(0x0203, struct.pack("<HHHd", row, col, 15, value))


def biff_stream(cells: list[bytes], sheet: str = "Daten", globals_extra: bytes = b"") -> bytes:
    """Globals (BOF, extra records, BOUNDSHEET, EOF), then the sheet (BOF, cells, EOF); the sheet's offset
    filled in."""
    name = sheet.encode("latin-1")
    boundsheet_len = 4 + 8 + len(name)
    globals_len = len(_bof(5)) + len(globals_extra) + boundsheet_len + 4
    boundsheet = _record(0x0085, struct.pack("<IBBBB", globals_len, 0, 0, len(name), 0) + name)
    return (_bof(5) + globals_extra + boundsheet + _record(0x000A, b"")
            + _bof(0x10) + b"".join(cells) + _record(0x000A, b""))


def cfb(stream: bytes, name: str = "Workbook") -> bytes:
    """A version-3 compound file (512-byte sectors) holding one regular stream (at least 4,096 bytes)."""
    assert len(stream) >= 4096
    n = -(-len(stream) // 512)
    fat = [FATSECT, ENDOFCHAIN] + [3 + i if i < n - 1 else ENDOFCHAIN for i in range(n)]
    fat += [FREESECT] * (128 - len(fat))
    header = (bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
              + struct.pack("<I", 0) + struct.pack("<I", FREESECT) * 108)

    def entry(label: str, kind: int, child: int, start: int, size: int) -> bytes:
        raw = (label + "\0").encode("utf-16-le") if label else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBB", len(raw), kind, 1 if label else 0)
                + struct.pack("<III", NOSTREAM, NOSTREAM, child) + b"\0" * 36 + struct.pack("<IQ", start, size))

    directory = (entry("Root Entry", 5, 1, ENDOFCHAIN, 0) + entry(name, 2, NOSTREAM, 2, len(stream))
                 + entry("", 0, NOSTREAM, 0, 0) * 2)
    return header + struct.pack("<128I", *fat) + directory + stream.ljust(n * 512, b"\0")


def _filler(rows: int = 300) -> list[bytes]:
    return [_number(r, 0, float(r)) for r in range(rows)]  # 300 ordinary cells: the stream is a regular one


def test_extent_of_an_ordinary_sheet():
    assert biff.sheet_extents(cfb(biff_stream(_filler()))) == {"Daten": (300, 1)}


@pytest.mark.parametrize("far", [
    _number(65535, 255, 1.0),                                              # NUMBER at the format's last cell ...
    _number(65535, 65535, 1.0),                                            # ... and a column BIFF8 never has
    _record(0x00BD, struct.pack("<HH", 65535, 0) + b"\0" * 6 * 2 + struct.pack("<H", 65535)),  # MULRK
    _record(0x00BE, struct.pack("<HH", 65535, 0) + b"\0" * 2 * 3 + struct.pack("<H", 65535)),  # MULBLANK
    _record(0x00FD, struct.pack("<HHHI", 65535, 65535, 15, 0)),            # LABELSST
])
def test_a_far_cell_is_refused_before_calamine(far, no_calamine):
    data = cfb(biff_stream([*_filler(), far]))
    rows, cols = biff.sheet_extents(data)["Daten"]
    if rows * cols <= uploads.MAX_CELLS:  # 65,536 × 256 = 16.8 million: the format's own limit is allowed
        assert (rows, cols) == (65536, 256)
        return
    with pytest.raises(uploads.FileRejected) as err:
        uploads.read_book(data, "alt.xls")
    assert err.value.kind == "zu_gross" and "Blatt „Daten“" in str(err.value)


def test_an_ordinary_xls_is_read_by_calamine():
    book = uploads.read_book(cfb(biff_stream(_filler())), "alt.xls")
    assert book.kind == "xls" and [s.name for s in book.sheets] == ["Daten"]
    assert [r[0] for r in book.sheets[0].rows] == [float(r) for r in range(300)]


def test_calamine_builds_a_dense_grid_up_to_the_farthest_cell():
    """Why the guard is needed: 301 cells, one of them at row 2,000 and column 200, give a 2,001 × 201 grid."""
    import io

    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_filelike(io.BytesIO(cfb(biff_stream([*_filler(), _number(2000, 200, 1.0)]))))
    rows = wb.get_sheet_by_name("Daten").to_python()
    assert (len(rows), len(rows[0])) == (2001, 201)


def test_no_compound_file_or_an_encrypted_one_is_left_to_calamine():
    assert biff.sheet_extents(b"\xd0\xcf\x11\xe0" + b"\0" * 100) == {}
    # an encrypted workbook (FILEPASS in the globals): its cell records are ciphertext, calamine refuses it itself
    encrypted = biff_stream([*_filler(), _number(65535, 65535, 1.0)], globals_extra=_record(0x002F, b"\0" * 6))
    assert biff.sheet_extents(cfb(encrypted)) == {}


def test_sheet_names_in_16_bit_characters():
    stream = biff_stream(_filler())
    name = "Übersicht".encode("utf-16-le")
    start = len(_bof(5)) + 4 + 8 + len(name)
    record = _record(0x0085, struct.pack("<IBBBB", start + 4, 0, 0, len("Übersicht"), 1) + name)
    stream = _bof(5) + record + _record(0x000A, b"") + stream[stream.index(_bof(0x10)):]
    assert biff.sheet_extents(cfb(stream)) == {"Übersicht": (300, 1)}
