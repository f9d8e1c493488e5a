"""Tables as statistical offices publish them: the area column found by its content, the header block above it.

A yearbook table has a title, then a block of header rows (merged group headers such as
"Bevölkerung und Haushalte 31.12.2017", the indicator names, long descriptions), then one row per area,
often followed by district and city totals. :func:`find_block` finds the area column (the column in which
most cells name a known area), the first data row and the header rows; :func:`column_texts` gives each
column its header texts, each marked as the column's own cell or a group header spread from a merged cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import chain, compress
from typing import Any

import numpy as np
import pandas as pd

from quartier.ingest.detect import key_role, measure_of, year_of
from quartier.ingest.match import Matcher
from quartier.ingest.values import cell_text

SCAN_ROWS = 400          # rows looked at to find the area column (the table starts within them)
MAX_HEADER_ROWS = 8
_NUMBERS = ("floating", "integer", "mixed-integer-float", "decimal")
_TYPE = np.frompyfunc(type, 1, 1)
_FEW = 32               # columns with at most this many candidate cells are matched cell by cell
# not before "und"/"oder"/"bzw": "Lohn- und Einkommensteuerpflichtige" keeps its hyphen (a word left out, not broken)
_BREAK_RE = re.compile(r"(?<=[a-zäöüß])-(?![ \t]+(?:und|oder|bzw|sowie)\b)\s*(?=[a-zäöüß])")


def unbreak(text: str) -> str:
    """A header as one line, words broken for print joined again ("Migrations-\\nhintergrund", "Migrations-hintergrund")."""
    t = str(text)
    if "-" in t:  # most headers have no hyphen: no regular expression for them
        t = _BREAK_RE.sub("", t)
    return " ".join(t.split())  # whitespace runs as one space, as re.sub(r"\s+", " ", t).strip(): same whitespace set


@dataclass
class Block:
    area_col: int
    first_data_row: int
    header_top: int          # first header row (0-based); == first_data_row when there is no header
    title: str


def find_block(rows: list[list[Any]], merged: list[tuple[int, int, int, int]], matcher: Matcher,
               cells: TextCells | None = None) -> Block | None:
    """The area column (most distinct known areas), the first data row and the header rows above it.

    ``cells``: what the sheets of the file scanned so far tell about this one (:class:`TextCells`)."""
    limit = min(len(rows), SCAN_ROWS)
    if limit == 0:
        return None
    stats = _area_hits(rows[:limit], matcher, TextCells() if cells is None else cells)
    if not stats:
        return None
    best = max(stats, key=lambda c: (stats[c][0], -c))
    if stats[best][0] < 2:
        return None
    first_hit = stats[best][1]
    first = _unknown_areas_above(rows, best, first_hit)
    top = _header_top(rows, merged, first)
    title = " ".join([t for r in rows[:top] for t in _stripped(r) if t])
    return Block(best, first, top, title)


def _stripped(row: list[Any]) -> list[str]:
    """``cell_text(v).strip()`` per cell; text cells, nearly all cells of a header, without a call."""
    return [v.strip() if type(v) is str else cell_text(v).strip() for v in row]


class TextCells:
    """The text cells of the sheets of one file, for :func:`find_block` (one per analysed file, dropped with it).

    ``names``: the area each distinct text names (matched once per file: the same names stand on every sheet).
    The positions of the text cells of the last sheet scanned: a sheet of the same size whose other cells are all
    numbers has its text cells exactly there, which one sum in C shows (:meth:`at_same_cells`) without a type
    test per cell; and with the same areas at the same cells it has the same area columns as that sheet."""

    def __init__(self) -> None:
        self.names: dict[str, str | None] = {}
        self.shape: tuple[int, int] | None = None
        self.inside = b""                      # per cell of the last sheet scanned: 1 for a text cell (a byte a cell)
        self.outside = b""                     # 1 for any other cell
        self.at: np.ndarray = np.zeros(0, dtype=np.intp)   # the text cells' positions (row * width + column)
        self.hits: list[str | None] = []       # the area each of them names
        self.stats: dict[int, tuple[int, int]] = {}

    def at_same_cells(self, rows: list[list[Any]], width: int) -> list[str] | None:
        """The texts of the cells that were text cells of the last sheet, when exactly those are text cells here."""
        if self.shape != (len(rows), width):
            return None
        try:  # every other cell a number (or a boolean): adds up in C; a text, None or a date cannot be added to a float
            sum(compress(chain.from_iterable(rows), self.outside), 0.0)
        except (TypeError, ValueError, OverflowError):
            return None
        texts = list(compress(chain.from_iterable(rows), self.inside))
        return texts if set(map(type, texts)) <= {str} else None

    def remember(self, shape: tuple[int, int], is_text: np.ndarray, at: np.ndarray, hits: list[str | None],
                 stats: dict[int, tuple[int, int]]) -> None:
        self.shape, self.at, self.hits, self.stats = shape, at, hits, stats
        self.inside, self.outside = is_text.tobytes(), (~is_text).tobytes()  # bool arrays: one byte, 0 or 1, a cell

    def areas_of(self, texts: list[str], matcher: Matcher) -> list[str | None]:
        """The area each text names; texts not met before in the file are matched (``matcher``: the file's)."""
        new = set(texts).difference(self.names)
        if new:
            self.names.update(zip(new, matcher.match_many("sozialraum", list(new))))
        return list(map(self.names.__getitem__, texts))


def _area_hits(rows: list[list[Any]], matcher: Matcher, cells: TextCells) -> dict[int, tuple[int, int]]:
    """Per column that names known areas: (how many distinct areas, first row naming one).

    When no known id is a number only text cells can name an area: they are found for the whole grid at once
    (:func:`_text_hits`). Otherwise column by column (:func:`_column_hits`), numbers included.
    """
    if not matcher.numeric_keys("sozialraum"):
        return _text_hits(rows, matcher, cells)
    return _column_hits(rows, matcher)


def _text_hits(rows: list[list[Any]], matcher: Matcher, cells: TextCells) -> dict[int, tuple[int, int]]:
    """:func:`_column_hits` when only text cells can name an area (no known id is a number): a type test per cell
    in C instead of a type inference and a few array operations per column (a yearbook sheet has 16 columns of 300
    rows), none when the text cells are those of the sheet before (:meth:`TextCells.at_same_cells`). Cells of
    another type (None, NaN, numbers, booleans, dates) never name an area there either (:meth:`Matcher.match_many`)."""
    width = max(map(len, rows))
    rect = min(map(len, rows)) == width
    texts = cells.at_same_cells(rows, width) if rect else None
    if texts is not None:
        hits = cells.areas_of(texts, matcher)
        if hits != cells.hits:  # else: the same areas at the same cells as on the sheet before, the same columns
            cells.hits, cells.stats = hits, _columns_of(hits, cells.at, width)
        return dict(cells.stats)
    flat = list(chain.from_iterable(rows if rect else (r + [None] * (width - len(r)) for r in rows)))
    is_text = np.fromiter(map(type, flat), dtype=object, count=len(flat)) == str  # noqa: E721 - numpy, element-wise
    at = is_text.nonzero()[0]
    texts = [flat[i] for i in at.tolist()]
    hits = cells.areas_of(texts, matcher)
    stats = _columns_of(hits, at, width)
    if rect:
        cells.remember((len(rows), width), is_text, at, hits, stats)
    return dict(stats)


def _columns_of(hits: list[str | None], at: np.ndarray, width: int) -> dict[int, tuple[int, int]]:
    """(distinct areas, first row naming one) per column, from the area each text cell names (``at``: its position)."""
    named = [h is not None for h in hits]
    if not any(named):
        return {}
    at, ids = at[np.array(named)], list(compress(hits, named))
    cols = at % width
    out: dict[int, tuple[int, int]] = {}
    for c in sorted(set(cols.tolist())):
        here = cols == c
        # cells in row order: the first one of the column is its first row naming an area
        out[c] = (len(set(compress(ids, here.tolist()))), int(at[here.argmax()]) // width)
    return out


def _column_hits(rows: list[list[Any]], matcher: Matcher) -> dict[int, tuple[int, int]]:
    """:func:`_area_hits` column by column, when a number can name an area.

    Each distinct cell value is matched once per file (:meth:`Matcher.match_many`), not once per cell.
    """
    width = max(map(len, rows))
    if min(map(len, rows)) == width:  # every row as wide: one pass in C (``grid[:] = rows`` first works out the nested shape)
        grid = np.fromiter(chain.from_iterable(rows), dtype=object, count=len(rows) * width).reshape(len(rows), width)
    else:
        grid = np.empty((len(rows), width), dtype=object)
        for i, r in enumerate(rows):
            grid[i, : len(r)] = r
    out: dict[int, tuple[int, int]] = {}
    numeric = matcher.numeric_keys("sozialraum")
    can_name: np.ndarray | None = None   # per cell: text (or a number when some id is one), for the whole grid at once
    for c in range(width):
        col = grid[:, c]
        inferred = pd.api.types.infer_dtype(col, skipna=True)
        if inferred == "empty" or (inferred in _NUMBERS and not numeric):
            continue
        rows_of = None
        if inferred not in ("string", *_NUMBERS):
            # mixed (header texts above numbers): only text cells, and numbers when some id is a number, can name an
            # area; booleans never do (True == 1 when hashed)
            if can_name is None:
                types = _TYPE(grid)
                can_name = np.asarray(types == str, dtype=bool)  # noqa: E721 - numpy, element-wise per cell
                if numeric:
                    can_name |= np.asarray((types == int) | (types == float), dtype=bool)  # noqa: E721
            rows_of = np.flatnonzero(can_name[:, c])
            if not len(rows_of):
                continue
            col = col[rows_of]
        found = _hits_few(col, matcher) if len(col) <= _FEW else _hits_many(col, matcher)
        if found is not None:
            n, first = found
            out[c] = (n, int(rows_of[first]) if rows_of is not None else first)
    return out


def _hits_many(col: np.ndarray, matcher: Matcher) -> tuple[int, int] | None:
    """(distinct known areas, first cell naming one) of a column: each distinct value matched once."""
    codes, uniq = pd.factorize(col)
    hits = matcher.match_many("sozialraum", uniq)
    distinct = {h for h in hits if h is not None}
    if not distinct:
        return None
    hit_of = np.array([h is not None for h in hits] + [False])
    return len(distinct), int(np.argmax(hit_of[np.where(codes < 0, len(uniq), codes)]))


def _hits_few(col: np.ndarray, matcher: Matcher) -> tuple[int, int] | None:
    """:func:`_hits_many` for a handful of cells (the header texts above a column of numbers), cell by cell:
    cheaper than factorising; empty cells (None, NaN) name nothing, as there."""
    hits = matcher.match_many("sozialraum", [None if v is None or (type(v) is float and v != v) else v for v in col.tolist()])
    distinct = {h for h in hits if h is not None}
    if not distinct:
        return None
    return len(distinct), next(i for i, h in enumerate(hits) if h is not None)


def _numeric_cols(row: list[Any]) -> set[int]:
    out = set()
    for c, v in enumerate(row):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v:
            out.add(c)
        elif isinstance(v, str) and v.strip() and v.strip().replace(".", "").replace(",", "").replace("-", "").isdigit():
            out.add(c)
    return out


def _unknown_areas_above(rows: list[list[Any]], area_col: int, first: int) -> int:
    """Rows above the first known area that still look like data (an unknown or misspelt area with numbers)."""
    ref = _numeric_cols(rows[first]) - {area_col}
    r = first
    while r > 0 and ref:
        row = rows[r - 1]
        label = row[area_col] if area_col < len(row) else None
        if not cell_text(label).strip() or any(isinstance(v, str) and (key_role(v) or measure_of(v)) for v in row):
            break
        nums = _numeric_cols(row) - {area_col}
        # a row of years ("2023 2024 2025") heads the data; one count between 1980 and 2100 in a data row does not
        years = [c for c in nums if c < len(rows[first]) and year_of(row[c]) is not None and year_of(rows[first][c]) is None]
        if len(nums & ref) * 2 < len(ref) or len(years) * 2 > len(nums):
            break
        r -= 1
    return r


def _row_empty(rows: list[list[Any]], merged: list[tuple[int, int, int, int]], r: int) -> bool:
    if any(_stripped(rows[r])):
        return False
    return not any(r0 < r <= r1 for r0, _c0, r1, _c1 in merged)   # covered by a vertical merge from above


def _header_top(rows: list[list[Any]], merged: list[tuple[int, int, int, int]], first: int) -> int:
    """The first header row: going up from the data until an empty row; single-cell title rows at the top are dropped."""
    top = first
    while top > 0 and first - top < MAX_HEADER_ROWS and not _row_empty(rows, merged, top - 1):
        top -= 1
    while top < first and _is_title_row(rows[top], merged, top):
        top += 1
    return top


def _is_title_row(row: list[Any], merged: list[tuple[int, int, int, int]], r: int) -> bool:
    cells = [c for c, t in enumerate(_stripped(row)) if t]
    if len(cells) != 1 or cells[0] != 0:
        return False
    # a title stands alone in column A; the area column's header merged down over the header rows is no title
    return not any(r0 == r and c0 == 0 and r1 > r0 for r0, c0, r1, _c1 in merged)


@dataclass
class HeaderText:
    text: str
    group: bool              # spread from a merged cell over several columns (or carried right) = group header
    row: int
    raw: Any


def column_texts(rows: list[list[Any]], merged: list[tuple[int, int, int, int]], top: int, first: int,
                 width: int, made: dict[tuple[int, str], HeaderText] | None = None) -> list[list[HeaderText]]:
    """Per column: its header texts from top to bottom (merged cells spread; repeated vertical merges once).

    ``made``: the header texts of text cells met so far in the file by row and text (the same headers stand on
    every sheet; header texts are never changed)."""
    made = {} if made is None else made
    grid: list[list[HeaderText | None]] = []
    for r in range(top, first):
        row = rows[r]
        line: list[HeaderText | None] = [None] * width
        for c, v in enumerate(row[:width]):
            if type(v) is str:
                if v:
                    h = made.get((r, v))
                    if h is None and v.strip():
                        h = made[(r, v)] = HeaderText(unbreak(v), False, r, v)
                    line[c] = h
            elif (text := cell_text(v)).strip():
                line[c] = HeaderText(unbreak(text), False, r, v)
        grid.append(line)
    for r0, c0, r1, c1 in merged:
        for r in range(max(r0, top), min(r1, first - 1) + 1):
            src = grid[r0 - top][c0] if r0 >= top else None
            if src is None and r0 < top:
                raw = rows[r0][c0] if c0 < len(rows[r0]) else None
                src = HeaderText(unbreak(cell_text(raw)), c1 > c0, r0, raw) if cell_text(raw).strip() else None
            if src is None:
                continue
            spread = HeaderText(src.text, c1 > c0, r, src.raw)  # one for all its columns: header texts are never changed
            for c in range(c0, min(c1, width - 1) + 1):
                if grid[r - top][c] is None or (r, c) == (r0, c0):
                    grid[r - top][c] = spread
    _carry_right(grid, rows, first, width)
    out: list[list[HeaderText]] = []
    for c in range(width):
        texts: list[HeaderText] = []
        for line in grid:
            h = line[c]
            if h is not None and not (texts and texts[-1].text == h.text and texts[-1].group == h.group):
                texts.append(h)
        out.append(texts)
    return out


def _carry_right(grid: list[list[HeaderText | None]], rows: list[list[Any]], first: int, width: int) -> None:
    """Group labels written once over several columns without a merge (CSV): carried right while the row below goes on."""
    for i in range(len(grid) - 1):
        below = grid[i + 1]
        for c in range(1, width):
            left, here, sub = grid[i][c - 1], grid[i][c], below[c]
            if here is None and left is not None and sub is not None and below[c - 1] is not None \
                    and (measure_of(sub.text) or year_of(sub.raw) is not None):
                grid[i][c] = HeaderText(left.text, True, left.row, left.raw)
