"""The import plan as JSON: printed by ``import FILE --show-mapping --json``, applied by ``import FILE --mapping PLAN.json``.

Rows are 1-based and columns are letters, as in Excel. Printing a plan and applying it unchanged gives the
same result. Unknown keys, sheets, columns, roles or indicators are a :class:`PlanError` (exit 2 on the CLI).
"""

from __future__ import annotations

from typing import Any

from quartier.errors import QuartierError
from quartier.ingest.block import Block
from quartier.ingest.detect import ROLES, ColumnSpec, SheetPlan, finish_plan
from quartier.ingest.headers import plan_at
from quartier.ingest.match import Matcher
from quartier.ingest.values import cell_text, col_letter

TOP_KEYS = {"file", "sheets"}
SHEET_KEYS = {"sheet", "layout", "header_rows", "first_data_row", "area_column", "exclude_rows", "indicator",
              "indicator_source", "year", "year_source", "columns"}
COLUMN_KEYS = {"column", "header", "role", "role_source", "indicator", "indicator_source", "year", "year_source"}


class PlanError(QuartierError):
    """A plan file that cannot be applied (unknown key, sheet, column, role or indicator)."""


def column_json(c: ColumnSpec) -> dict[str, Any]:
    return {"column": c.letter, "header": c.header, "role": c.role, "role_source": c.rolle_quelle,
            "indicator": c.indikator_id, "indicator_source": c.indikator_quelle, "year": c.jahr, "year_source": c.jahr_quelle}


def sheet_json(p: SheetPlan) -> dict[str, Any]:
    return {"sheet": p.sheet, "layout": p.layout,
            "header_rows": list(range(p.header_row + 1, p.header_row + p.header_rows + 1)),
            "first_data_row": p.first_data_row + 1,
            "area_column": col_letter(p.area_col) if p.area_col is not None else _area_letter(p),
            "exclude_rows": [r + 1 for r in p.exclude_rows],
            "indicator": p.indikator_id, "indicator_source": p.indikator_quelle, "year": p.jahr, "year_source": p.jahr_quelle,
            "columns": [column_json(c) for c in p.columns]}


def _area_letter(p: SheetPlan) -> str | None:
    c = next((c for c in p.columns if c.role == "sozialraum"), None)
    return c.letter if c else None


def plan_json(filename: str, plans: list[SheetPlan]) -> dict[str, Any]:
    return {"file": filename, "sheets": [sheet_json(p) for p in plans]}


def letter_index(letter: Any, where: str) -> int:
    t = str(letter or "").strip().upper()
    if not t.isalpha() or not t.isascii():
        raise PlanError(f"{where}: „{letter}“ ist keine Spalte (erwartet: Buchstaben wie A, B, AA).")
    n = 0
    for ch in t:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _unknown_keys(obj: Any, allowed: set[str], where: str) -> None:
    if not isinstance(obj, dict):
        raise PlanError(f"{where}: erwartet wird ein JSON-Objekt.")
    extra = sorted(set(obj) - allowed)
    if extra:
        raise PlanError(f"{where}: unbekannte Angabe(n) {', '.join(repr(k) for k in extra)}. Erlaubt sind: "
                        f"{', '.join(sorted(allowed))}.")


def check(obj: Any) -> dict[str, dict[str, Any]]:
    """The sheets of a plan file by name, after checking every key."""
    _unknown_keys(obj, TOP_KEYS, "Plan")
    sheets = obj.get("sheets")
    if not isinstance(sheets, list):
        raise PlanError("Plan: „sheets“ muss eine Liste der Tabellenblätter sein.")
    out = {}
    for s in sheets:
        _unknown_keys(s, SHEET_KEYS, "Plan, Blatt")
        if "sheet" not in s:
            raise PlanError("Plan: jedes Blatt braucht den Namen („sheet“).")
        for col in s.get("columns") or []:
            _unknown_keys(col, COLUMN_KEYS, f"Plan, Blatt „{s['sheet']}“, Spalte")
            if col.get("role") not in ROLES:
                raise PlanError(f"Plan, Blatt „{s['sheet']}“, Spalte {col.get('column')}: Rolle „{col.get('role')}“ gibt es nicht "
                                f"(erlaubt: {', '.join(ROLES)}).")
        out[str(s["sheet"])] = s
    return out


def apply(name: str, rows: list[list[Any]], merged: list[tuple[int, int, int, int]], matcher: Matcher,
          s: dict[str, Any]) -> SheetPlan:
    """Build the sheet plan a plan file describes: its header rows, first data row, area column and column mapping."""
    where = f"Plan, Blatt „{name}“"
    try:
        hrows = [int(r) for r in s.get("header_rows") or []]
        first = int(s["first_data_row"]) - 1
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanError(f"{where}: „header_rows“ (Liste von Zeilennummern) und „first_data_row“ (Zeilennummer) angeben.") from exc
    if first < 0 or first >= len(rows) or any(r < 1 or r > first for r in hrows):
        raise PlanError(f"{where}: Kopfzeilen {hrows} und erste Datenzeile {first + 1} passen nicht zum Blatt "
                        f"({len(rows)} Zeilen; die Kopfzeilen stehen über der ersten Datenzeile).")
    area = letter_index(s.get("area_column"), where) if s.get("area_column") else None
    top = min(hrows) - 1 if hrows else first
    title = " ".join(cell_text(v).strip() for r in rows[:top] for v in r if cell_text(v).strip())
    plan = plan_at(name, rows, merged, matcher, Block(area if area is not None else -1, first, top, title))
    plan.area_col = area
    by_col = {c.col: c for c in plan.columns}
    for col in s.get("columns") or []:
        c = letter_index(col.get("column"), where)
        spec = by_col.get(c)
        if spec is None:
            raise PlanError(f"{where}: Spalte {col.get('column')} gibt es im Blatt nicht (Spalten: "
                            f"{', '.join(x.letter for x in plan.columns)}).")
        ind = col.get("indicator")
        if ind and ind not in matcher.indicators:
            raise PlanError(f"{where}, Spalte {spec.letter}: Indikator „{ind}“ gibt es im Katalog nicht.")
        if (col.get("role"), ind, col.get("year")) != (spec.role, spec.indikator_id, spec.jahr):
            spec.role, spec.indikator_id, spec.jahr = col["role"], ind, _year(col.get("year"), where)
            spec.rolle_quelle = spec.indikator_quelle = spec.jahr_quelle = "plan"
    if s.get("indicator") and s["indicator"] not in matcher.indicators:
        raise PlanError(f"{where}: Indikator „{s['indicator']}“ gibt es im Katalog nicht.")
    plan.indikator_id = s.get("indicator") or None
    plan.jahr = _year(s.get("year"), where)
    plan.indikator_quelle, plan.jahr_quelle = s.get("indicator_source"), s.get("year_source")
    plan.exclude_rows = [int(r) - 1 for r in s.get("exclude_rows") or []]
    finish_plan(plan, matcher)
    return plan


def _year(v: Any, where: str) -> int | None:
    if v in (None, ""):
        return None
    try:
        return int(v)
    except (TypeError, ValueError) as exc:
        raise PlanError(f"{where}: Jahr „{v}“ ist keine Jahreszahl.") from exc
