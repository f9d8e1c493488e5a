"""A sheet plan from the header block above the area column: role, indicator and year per column, with their source.

Indicator: the column's own header texts (name row first, then the description row), then its group header.
Year, most specific first: the column's own header ("(Dez 2017)", "Juni 2017", "2017"), its group header
("31.12.2017"), then the sheet name, then the title (the last two are set on the plan by ``finish_plan``).
"""

from __future__ import annotations

import re
from typing import Any

from quartier.ingest.block import Block, HeaderText, column_texts, find_block
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


def plan_from_block(name: str, rows: list[list[Any]], merged: list[tuple[int, int, int, int]], matcher: Matcher,
                    remembered: dict[str, dict[str, Any]] | None = None) -> SheetPlan | None:
    blk = find_block(rows, merged, matcher)
    if blk is None:
        return None
    return plan_at(name, rows, merged, matcher, blk, remembered)


def plan_at(name: str, rows: list[list[Any]], merged: list[tuple[int, int, int, int]], matcher: Matcher, blk: Block,
            remembered: dict[str, dict[str, Any]] | None = None) -> SheetPlan:
    """The plan for a given area column, header rows and first data row (detected, remembered or set by the user)."""
    first, top = blk.first_data_row, blk.header_top
    width = max((len(r) for r in rows[top:first + DATA_SCAN]), default=0)
    texts = column_texts(rows, merged, top, first, width)
    data = rows[first:first + DATA_SCAN]
    cols: list[ColumnSpec] = []
    for c in range(width):
        own = [t for t in texts[c] if not t.group]
        group = [t for t in texts[c] if t.group]
        if not texts[c] and not any(c < len(r) and cell_text(r[c]).strip() for r in data):
            continue
        spec = ColumnSpec(c, " | ".join(t.text for t in texts[c]))
        if c == blk.area_col:
            spec.role, spec.rolle_quelle = "sozialraum", "inhalt"
        else:
            _classify(spec, own, group, matcher, data)
        rem = (remembered.get(remember_key(c, spec.header)) or remembered.get(moved_key(spec.header))) if remembered else None
        if rem is not None:
            spec.role, spec.rolle_quelle = rem["rolle"], "gemerkt"
            if rem.get("indikator_id"):
                spec.indikator_id, spec.indikator_quelle = rem["indikator_id"], "gemerkt"
        cols.append(spec)
    return SheetPlan(name, top, first - top, "lang", cols, title=blk.title, data_row=first, area_col=blk.area_col)


def _classify(spec: ColumnSpec, own: list[HeaderText], group: list[HeaderText], matcher: Matcher,
              data: list[list[Any]]) -> None:
    c = spec.col
    for t in own:
        role = key_role(t.text)
        if role in ("jahr", "gesperrt", "indikator"):
            spec.role, spec.rolle_quelle = role, "spaltenkopf"
            return
        if role in ("sozialraum", "bezeichnung"):  # a second key column (name next to the number): a label
            spec.role, spec.rolle_quelle = "bezeichnung", "spaltenkopf"
            return
    if not own and not group and _names_areas(data, c, matcher):
        spec.role, spec.rolle_quelle = "bezeichnung", "inhalt"
        return
    _year(spec, own, group)
    _indicator(spec, own, group, matcher)
    measure = next((m for t in reversed(own) if len(t.text) <= SHORT and (m := measure_of(t.text))), None)
    if spec.indikator_id or spec.jahr is not None:
        if measure == "zaehler" and spec.indikator_id and is_count(matcher.units.get(spec.indikator_id)):  # "Anzahl der …"
            measure = "wert"
        spec.role, spec.rolle_quelle = measure or "wert", "spaltenkopf"
    elif measure:
        spec.role, spec.rolle_quelle = measure, "spaltenkopf"


def _year(spec: ColumnSpec, own: list[HeaderText], group: list[HeaderText]) -> None:
    for texts, source in ((own, "spaltenkopf"), (group, "gruppenkopf")):
        for t in reversed(texts):  # the lowest (most specific) text first
            y = year_of(t.raw) if year_of(t.raw) is not None else year_in_text(t.text)
            if y is not None:
                spec.jahr, spec.jahr_quelle = y, source
                return


def _indicator(spec: ColumnSpec, own: list[HeaderText], group: list[HeaderText], matcher: Matcher) -> None:
    named = [t for t in own if year_of(t.raw) is None and strip_years(t.text)]
    for i, t in enumerate(named):
        text = strip_years(t.text)
        hit = matcher.match("indikator", text) or matcher.match("indikator", t.text) or _percent_match(text, matcher)
        if hit is None and i > 0:
            hit = matcher.match_description(text)
        if hit:
            spec.indikator_id, spec.indikator_quelle = hit, ("name" if i == 0 else "beschreibung")
            return
    if named:  # the name row did not match: its description may
        hit = matcher.match_description(strip_years(named[0].text))
        if hit:
            spec.indikator_id, spec.indikator_quelle = hit, "beschreibung"
            return
    for t in reversed(group):
        hit = matcher.match("indikator", strip_years(t.text)) or matcher.match("indikator", t.text)
        if hit:
            spec.indikator_id, spec.indikator_quelle = hit, "gruppenkopf"
            return


def _percent_match(text: str, matcher: Matcher) -> str | None:
    """"Anteil der unter 18-Jährigen in %" is the catalogue's "Anteil der unter 18-Jährigen" when that is kept in %
    (never a count: "Arbeitslose in %" is not the number of Arbeitslose)."""
    hit = matcher.match("indikator", _PERCENT.sub("", text)) if _PERCENT.search(text) else None
    return hit if hit and "%" in (matcher.units.get(hit) or "") else None


def _names_areas(data: list[list[Any]], c: int, matcher: Matcher) -> bool:
    vals = [r[c] for r in data if c < len(r) and cell_text(r[c]).strip()]
    return bool(vals) and sum(matcher.match("sozialraum", v) is not None for v in vals) * 2 >= len(vals)
