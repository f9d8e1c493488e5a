"""The sheets of one file are read with what the sheets before them showed (quartier.ingest.headers.Detection):
the text cells where the sheet before had them, each text and each header read once per file. Every sheet must
get exactly the plan it gets when read on its own; a sheet that differs in one cell is read afresh."""

from __future__ import annotations

import random

import pytest

from quartier import ingest, uploads
from quartier.ingest import block
from quartier.ingest.headers import Detection, plan_from_block
from quartier.ingest.match import Matcher
from tests.unit.ingest_files import xlsx


def _catalogue(con):
    areas = [name for (name,) in con.execute("SELECT name FROM sozialraum ORDER BY id").fetchall()]
    inds = con.execute("SELECT name, coalesce(definition, name) FROM indikator ORDER BY sortierung NULLS LAST, id "
                       "LIMIT 4").fetchall()
    return areas, inds


def _yearbook_sheet(areas, inds, year, area_col=0):
    """Title, area header merged over three rows, group header with the year merged over the indicator columns,
    names, descriptions; one row per area and a total row (``area_col``: where the area names stand)."""
    n = len(inds)
    head = [["Tabelle: Kennzahlen nach Stadtteilen"] + [None] * n,
            ["Stadtteil", f"Kennzahlen am 31.12.{year}"] + [None] * (n - 1),
            [None] + [name for name, _d in inds],
            [None] + [d[:50] for _n, d in inds]]
    body = [[a] + [float((i * 7 + k * 3) % 90 + 1) for k in range(n)] for i, a in enumerate(areas[:12])]
    body.append(["Stadt insgesamt"] + [None] * n)
    rows = head + body
    if area_col:  # the title stays in column A
        rows = rows[:1] + [r[1:area_col + 1] + [r[0]] + r[area_col + 1:] for r in rows[1:]]
    return rows


def _variants(areas, inds):
    """In this order: each sheet is checked against the text cells of the last sheet read in full."""
    base = _yearbook_sheet(areas, inds, 2024)

    def changed(r, c, v):
        rows = [list(x) for x in base]
        rows[r][c] = v
        return rows

    shuffled = [list(r) for r in base]
    for r, a in zip(shuffled[4:16], reversed(areas[:12])):
        r[0] = a
    return {
        "T2024": base,
        "T2023": _yearbook_sheet(areas, inds, 2023),     # the group header's year
        "Kopf": changed(2, 2, inds[3][0]),                # one header cell: another indicator's name
        "Andere Gebiete": shuffled,                       # other areas at the same cells
        "Unbekannt": changed(4, 0, "Gebiet ohne Namen"),  # the first area unknown
        "Ohne Gebiete": [r if i < 4 else [f"Gebiet {i}"] + r[1:] for i, r in enumerate(base)],  # texts, no areas
        "Jahr als Zahl": changed(1, 1, 2022),             # the group header a number: a text cell less
        "Spalte D": _yearbook_sheet(areas, inds, 2024, area_col=3),  # the areas in another column
        "Punkt": changed(7, 2, "."),                      # a data cell a text (suppressed): a text cell more
        "Zahl": changed(9, 0, 17.0),                      # an area cell a number
    }


MERGED = ["A2:A4", "B2:E2"]
MERGED_D = ["D2:D4", "A2:C2"]


@pytest.fixture
def book(con, tmp_path):
    areas, inds = _catalogue(con)
    sheets = _variants(areas, inds)
    merged = {name: (MERGED_D if name == "Spalte D" else MERGED) for name in sheets}
    path = xlsx(tmp_path / "jahrbuch.xlsx", sheets, merged=merged)
    return path, sheets, merged


def test_each_sheet_gets_the_plan_it_gets_alone(con, book, monkeypatch):
    path, _sheets, _merged = book
    raw = uploads.read_book(path.read_bytes(), path.name)
    matcher = Matcher(con)
    assert not matcher.numeric_keys("sozialraum")  # the text-cell path
    same_cells = []
    at_same = block.TextCells.at_same_cells

    def spy(self, rows, width):
        got = at_same(self, rows, width)
        same_cells.append(got is not None)
        return got

    monkeypatch.setattr(block.TextCells, "at_same_cells", spy)
    shared = Detection(matcher)
    plans = {}
    for sheet in raw.sheets:
        plan = plan_from_block(sheet.name, sheet.rows, sheet.merged, matcher, None, shared)
        alone = plan_from_block(sheet.name, sheet.rows, sheet.merged, Matcher(con))
        assert (plan and plan.to_dict()) == (alone and alone.to_dict()), sheet.name
        plans[sheet.name] = plan
    # the calls alternate: the shared detection's, then the fresh one's (which has no sheet before)
    assert not any(same_cells[1::2])
    assert dict(zip(plans, same_cells[0::2])) == {
        "T2024": False, "T2023": True, "Kopf": True, "Andere Gebiete": True, "Unbekannt": True, "Ohne Gebiete": True,
        "Jahr als Zahl": False, "Spalte D": False, "Punkt": False, "Zahl": False}
    assert plans["Ohne Gebiete"] is None  # no area column: the header words decide (detect.plan_sheet)
    by_col = {n: {c.col: c for c in p.columns} for n, p in plans.items() if p is not None}
    assert {(c.jahr, c.jahr_quelle) for c in plans["T2023"].columns if c.col} == {(2023, "gruppenkopf")}
    assert {(c.jahr, c.jahr_quelle) for c in plans["Jahr als Zahl"].columns if c.col} == {(2022, "gruppenkopf")}
    assert by_col["Kopf"][2].indikator_id == by_col["T2024"][4].indikator_id != by_col["T2024"][2].indikator_id
    assert plans["Spalte D"].area_col == 3 and by_col["Spalte D"][3].role == "sozialraum"
    assert plans["T2024"].area_col == 0 and plans["T2024"].first_data_row == 4


def test_the_whole_file_reads_as_its_sheets_one_by_one(con, book, tmp_path):
    """The analysis of the workbook plans every sheet as a workbook of that sheet alone is planned."""
    path, sheets, merged = book
    whole = ingest.analyse_file(con, path.read_bytes(), path.name)
    assert len(whole.plans) >= len(sheets) - 1
    for name, rows in sheets.items():
        one = xlsx(tmp_path / f"{name}.xlsx", {name: rows}, merged={name: merged[name]})
        alone = ingest.analyse_file(con, one.read_bytes(), one.name)
        assert [p.to_dict() for p in whole.plans if p.sheet == name] == [p.to_dict() for p in alone.plans], name


@pytest.mark.parametrize("seed", range(3))
def test_text_cells_of_changed_sheets_give_what_the_column_by_column_search_gives(con, seed):
    """Sheet after sheet, a few cells changed (a number for a text, a text for a number, another area, an empty
    cell): the areas per column are those of the search column by column, sheet by sheet."""
    matcher = Matcher(con)
    areas, _inds = _catalogue(con)
    rnd = random.Random(seed)
    pool = areas + ["Stadtteil", "", "Summe", "unbekannt", " ", "x"]
    rows = [[rnd.choice(areas)] + [float(rnd.randint(1, 99)) for _ in range(5)] for _ in range(20)]
    rows[0] = ["Titel", "", "", "", "", ""]
    cells = block.TextCells()
    same = 0
    for _ in range(80):
        rows = [list(r) for r in rows]
        for _k in range(rnd.choice([0, 0, 1, 2])):
            r, c = rnd.randrange(len(rows)), rnd.randrange(6)
            text = isinstance(rows[r][c], str)  # often a text for a text: the same text cells, other areas
            rows[r][c] = rnd.choice(pool) if text and rnd.random() < 0.7 else \
                rnd.choice([rnd.choice(pool), float(rnd.randint(1, 9)), 3, True])
        same += cells.at_same_cells(rows, 6) is not None  # before _area_hits: against the sheet before
        assert block._area_hits(rows, matcher, cells) == block._column_hits(rows, matcher), rows
    assert same > 25  # the shortcut is taken
    rows[5][3] = None  # an empty cell read as None (not calamine's ""): read in full
    assert cells.at_same_cells(rows, 6) is None
    assert block._area_hits(rows, matcher, cells) == block._column_hits(rows, matcher)
