"""A sheet plan from the header block above the area column: role, indicator and year per column, with their source.

Indicator: the column's own header texts (name row first, then the description row), then its group header.
Year, most specific first: the column's own header ("(Dez 2017)", "Juni 2017", "2017"), its group header
("31.12.2017"), then the sheet name, then the title (the last two are set on the plan by ``finish_plan``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from quartier.ingest.block import Block, HeaderText, TextCells, column_texts, find_block
from quartier.ingest.detect import (
    ColumnSpec,
    SheetPlan,
    key_role,
    measure_of,
    moved_key,
    remember_key,
    strip_years,
    year_in_text,
    year_of,
)
from quartier.ingest.match import Matcher
from quartier.ingest.values import cell_text
from quartier.units import is_count

SHORT = 24           # a sub-header naming the measure ("Anzahl", "%", "Basis") is short
DATA_SCAN = 60       # data rows looked at to decide whether a header-less column holds anything
_PERCENT = re.compile(r"\s*(?:\((?:in\s*)?%\)|in\s*%|in\s+prozent)$", re.IGNORECASE)  # "Anteil … in %"


class Detection:
    """What the sheets of one file share, worked out once for the file: the area each cell text names
    (:func:`quartier.ingest.block.find_block`) and what a column's own header texts and its group header texts say
    (the same indicator names stand over every sheet of a yearbook; its group header differs only by the year).

    One per analysed file and matcher, dropped with the analysis; every entry is keyed by the whole input it was
    worked out from, so a sheet whose headers differ in one cell gets that cell read on its own."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.cells = TextCells()
        self.header_cells: dict[tuple[int, str], HeaderText] = {}
        self._own: dict[tuple[Any, ...], _Own] = {}
        self._group: dict[tuple[Any, ...], _Group] = {}

    def classify(self, spec: ColumnSpec, here: list[HeaderText], data: list[list[Any]]) -> None:
        """Role, year and indicator of a column: a key word in its own header decides; else the year and the indicator
        from its own header texts, then from its group header; the measure from a short own text.

        What the own texts say and what the group texts say is worked out once per file each, keyed by text and
        cell: a cell matters only by the year it is (:func:`year_of`), a text cell as itself."""
        if not here:  # no header at all: a column of area names is a label
            if _names_areas(data, spec.col, self.matcher):
                spec.role, spec.rolle_quelle = "bezeichnung", "inhalt"
            return
        own = tuple([(t.text, t.raw if type(t.raw) is str else (year_of(t.raw),)) for t in here if not t.group])
        mine = self._own.get(own)
        if mine is None:
            mine = self._own[own] = _read_own([t for t in here if not t.group], self.matcher)
        if mine.role is not None:
            spec.role, spec.rolle_quelle = mine.role, "spaltenkopf"
            return
        theirs = _NO_GROUP
        if mine.jahr is None or mine.indicator is None:  # else the group header has nothing left to say
            group = tuple([(t.text, t.raw if type(t.raw) is str else (year_of(t.raw),)) for t in here if t.group])
            read = self._group.get(group) if group else _NO_GROUP
            if read is None:
                texts = [t for t in here if t.group]
                read = self._group[group] = _Group(_year_in(texts), _group_indicator(texts, self.matcher))
            theirs = read
        if mine.jahr is not None:
            spec.jahr, spec.jahr_quelle = mine.jahr, "spaltenkopf"
        elif theirs.jahr is not None:
            spec.jahr, spec.jahr_quelle = theirs.jahr, "gruppenkopf"
        indicator = mine.indicator or theirs.indicator
        if indicator is not None:
            spec.indikator_id, spec.indikator_quelle = indicator
        measure = mine.measure
        if spec.indikator_id or spec.jahr is not None:
            if measure == "zaehler" and spec.indikator_id and is_count(self.matcher.units.get(spec.indikator_id)):
                measure = "wert"  # "Anzahl der …" over a count indicator is its value
            spec.role, spec.rolle_quelle = measure or "wert", "spaltenkopf"
        elif measure:
            spec.role, spec.rolle_quelle = measure, "spaltenkopf"


@dataclass(frozen=True)
class _Own:
    """What a column's own header texts say: a key role (final), else a year, an indicator (id, source), a measure."""
    role: str | None = None
    jahr: int | None = None
    indicator: tuple[str, str] | None = None
    measure: str | None = None


@dataclass(frozen=True)
class _Group:
    jahr: int | None
    indicator: tuple[str, str] | None


_NO_GROUP = _Group(None, None)


def plan_from_block(name: str, rows: list[list[Any]], merged: list[tuple[int, int, int, int]], matcher: Matcher,
                    remembered: dict[str, dict[str, Any]] | None = None, detection: Detection | None = None) -> SheetPlan | None:
    memo = detection if detection is not None and detection.matcher is matcher else Detection(matcher)
    blk = find_block(rows, merged, matcher, memo.cells)
    if blk is None:
        return None
    return plan_at(name, rows, merged, matcher, blk, remembered, memo)


def plan_at(name: str, rows: list[list[Any]], merged: list[tuple[int, int, int, int]], matcher: Matcher, blk: Block,
            remembered: dict[str, dict[str, Any]] | None = None, detection: Detection | None = None) -> SheetPlan:
    """The plan for a given area column, header rows and first data row (detected, remembered or set by the user)."""
    memo = detection if detection is not None and detection.matcher is matcher else Detection(matcher)
    first, top = blk.first_data_row, blk.header_top
    width = max(map(len, rows[top:first + DATA_SCAN]), default=0)
    texts = column_texts(rows, merged, top, first, width, memo.header_cells)
    data = rows[first:first + DATA_SCAN]
    cols: list[ColumnSpec] = []
    for c in range(width):
        here = texts[c]
        if not here and not any(c < len(r) and cell_text(r[c]).strip() for r in data):
            continue
        spec = ColumnSpec(c, " | ".join([t.text for t in here]))
        if c == blk.area_col:
            spec.role, spec.rolle_quelle = "sozialraum", "inhalt"
        else:
            memo.classify(spec, here, data)
        rem = (remembered.get(remember_key(c, spec.header)) or remembered.get(moved_key(spec.header))) if remembered else None
        if rem is not None:
            spec.role, spec.rolle_quelle = rem["rolle"], "gemerkt"
            if rem.get("indikator_id"):
                spec.indikator_id, spec.indikator_quelle = rem["indikator_id"], "gemerkt"
        cols.append(spec)
    return SheetPlan(name, top, first - top, "lang", cols, title=blk.title, data_row=first, area_col=blk.area_col)


def _read_own(own: list[HeaderText], matcher: Matcher) -> _Own:
    for t in own:
        role = key_role(t.text)
        if role in ("jahr", "gesperrt", "indikator"):
            return _Own(role=role)
        if role in ("sozialraum", "bezeichnung"):  # a second key column (name next to the number): a label
            return _Own(role="bezeichnung")
    measure = next((m for t in reversed(own) if len(t.text) <= SHORT and (m := measure_of(t.text))), None)
    return _Own(None, _year_in(own), _own_indicator(own, matcher), measure)


def _year_in(texts: list[HeaderText]) -> int | None:
    for t in reversed(texts):  # the lowest (most specific) text first
        y = year_of(t.raw)
        if y is None:
            y = year_in_text(t.text)
        if y is not None:
            return y
    return None


def _own_indicator(own: list[HeaderText], matcher: Matcher) -> tuple[str, str] | None:
    named = [t for t in own if year_of(t.raw) is None and strip_years(t.text)]
    for i, t in enumerate(named):
        text = strip_years(t.text)
        hit = matcher.match("indikator", text) or matcher.match("indikator", t.text) or _percent_match(text, matcher)
        if hit is None and i > 0:
            hit = matcher.match_description(text)
        if hit:
            return hit, ("name" if i == 0 else "beschreibung")
    if named:  # the name row did not match: its description may
        hit = matcher.match_description(strip_years(named[0].text))
        if hit:
            return hit, "beschreibung"
    return None


def _group_indicator(group: list[HeaderText], matcher: Matcher) -> tuple[str, str] | None:
    for t in reversed(group):
        hit = matcher.match("indikator", strip_years(t.text)) or matcher.match("indikator", t.text)
        if hit:
            return hit, "gruppenkopf"
    return None


def _percent_match(text: str, matcher: Matcher) -> str | None:
    """"Anteil der unter 18-Jährigen in %" is the catalogue's "Anteil der unter 18-Jährigen" when that is kept in %
    (never a count: "Arbeitslose in %" is not the number of Arbeitslose)."""
    hit = matcher.match("indikator", _PERCENT.sub("", text)) if _PERCENT.search(text) else None
    return hit if hit and "%" in (matcher.units.get(hit) or "") else None


def _names_areas(data: list[list[Any]], c: int, matcher: Matcher) -> bool:
    vals = [r[c] for r in data if c < len(r) and cell_text(r[c]).strip()]
    return bool(vals) and sum(matcher.match("sozialraum", v) is not None for v in vals) * 2 >= len(vals)
