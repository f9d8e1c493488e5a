"""Worksheet extents of an old Excel workbook (.xls, BIFF8 and BIFF5), read from its cell records.

calamine builds a dense grid per sheet, from the first to the last cell it finds: a few bytes naming a cell at
row 65,535 and column 65,535 would make it allocate four billion cells. :func:`sheet_extents` reads the extent
first, so that :mod:`quartier.uploads` can refuse such a sheet before calamine opens the file. A well-formed
BIFF8 sheet has at most 65,536 × 256 cells and never comes near the limit.
"""

from __future__ import annotations

import io
import struct

_BOF, _EOF, _BOUNDSHEET, _FILEPASS = 0x0809, 0x000A, 0x0085, 0x002F
# FORMULA, BLANK, NUMBER, LABEL, BOOLERR, RSTRING, LABELSST, RK: row and column in the first four bytes
_CELL = frozenset({0x0006, 0x0201, 0x0203, 0x0204, 0x0205, 0x00D6, 0x00FD, 0x027E})
_MULTI = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: row, first column, ..., last column in the last two bytes


def sheet_extents(data: bytes) -> dict[str, tuple[int, int]]:
    """Sheet name -> (rows, columns) from the first cell to the farthest one any cell record names.

    Empty when the file is no readable compound file or is encrypted (calamine then refuses it itself)."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            name = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
            if name is None:
                return {}
            stream = ole.openstream(name).read()
    except Exception:  # noqa: BLE001 - olefile raises several error types for damaged containers
        return {}
    return _extents(stream)


def _extents(stream: bytes) -> dict[str, tuple[int, int]]:
    names: dict[int, str] = {}  # stream offset of a sheet's BOF -> its name
    extents: dict[str, tuple[int, int]] = {}
    biff8, depth, current, pos, end = True, 0, None, 0, len(stream)
    while pos + 4 <= end:
        rtype, size = struct.unpack_from("<HH", stream, pos)
        body = pos + 4
        if rtype == _BOF:
            if pos == 0 and size >= 2:
                biff8 = struct.unpack_from("<H", stream, body)[0] >= 0x0600
            if depth == 0 and pos in names:
                current = names[pos]
                extents.setdefault(current, (0, 0))
            depth += 1
        elif rtype == _EOF:
            depth = max(0, depth - 1)
            if depth == 0:
                current = None
        elif current is None:
            if rtype == _FILEPASS:
                return {}
            if rtype == _BOUNDSHEET and size >= 8:
                offset = struct.unpack_from("<I", stream, body)[0]
                names[offset] = _sheet_name(stream[body + 6: body + size], biff8)
        elif size >= 4 and (rtype in _CELL or (rtype in _MULTI and size >= 6)):
            row, col = struct.unpack_from("<HH", stream, body)
            if rtype in _MULTI:
                col = struct.unpack_from("<H", stream, body + size - 2)[0]
            rows_n, cols_n = extents[current]
            if row >= rows_n or col >= cols_n:
                extents[current] = (max(rows_n, row + 1), max(cols_n, col + 1))
        pos = body + size
    return extents


def _sheet_name(raw: bytes, biff8: bool) -> str:
    """The name in a BOUNDSHEET record: a short string (BIFF8: with a flag byte for 16-bit characters)."""
    if not raw:
        return ""
    n = raw[0]
    if not biff8:
        return raw[1: 1 + n].decode("cp1252", errors="replace")
    if len(raw) > 1 and raw[1] & 1:
        return raw[2: 2 + 2 * n].decode("utf-16-le", errors="replace")
    return raw[2: 2 + n].decode("latin-1")
