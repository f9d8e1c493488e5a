"""read -> detect -> map -> parse -> validate -> diff. Nothing here writes to the database.

:func:`analyse` turns one delivered file into a :class:`FileAnalysis`: the values it would write,
the findings (errors block, warnings need a confirmation, infos only inform) and the comparison
with the current values. :mod:`quartier.ingest.store` writes it.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from quartier import db
from quartier.ingest import planfile
from quartier.ingest import values as V
from quartier.ingest.analysis import ERROR, INFO, MAX_PER_RULE, VALUE_COLUMNS, WARNING, FileAnalysis, Finding
from quartier.ingest.block import Block
from quartier.ingest.compare import compare, delivery_state
from quartier.ingest.detect import SheetPlan, finish_plan, plan_sheet, sheet_key
from quartier.ingest.extract import concat, extract
from quartier.ingest.headers import Detection, plan_at, plan_from_block
from quartier.ingest.match import Matcher, normalize
from quartier.ingest.template import template_help_sheets
from quartier.ingest.validate import validate
from quartier.uploads import MAX_UPLOAD_BYTES, FileRejected, RawBook, read_book


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def known_lieferanten(con: db.Con) -> list[str]:
    rows = con.cursor().execute(
        "SELECT DISTINCT lieferant FROM indikator WHERE lieferant IS NOT NULL "
        "UNION SELECT DISTINCT lieferant FROM lieferung WHERE lieferant IS NOT NULL").fetchall()
    return sorted(r[0] for r in rows)


def remembered_mapping(con: db.Con, lieferant: str | None) -> dict[str, dict[str, Any]]:
    if not lieferant:
        return {}
    rows = con.cursor().execute(
        "SELECT kopf_norm, rolle, indikator_id, jahr, kopf FROM import_spaltenzuordnung WHERE lieferant = ?", [lieferant]).fetchall()
    out = {r[0]: {"rolle": r[1], "indikator_id": r[2], "jahr": r[3], "kopf": r[4]} for r in rows}
    # a column that moved (next year's table lost or gained columns before it) is found by its header alone, if unique
    heads = Counter(k.split(":", 1)[1] for k in out if not k.startswith("@"))
    out.update({"*:" + h: out[k] for k in list(out) if not k.startswith("@") and (h := k.split(":", 1)[1]) and heads[h] == 1})
    return out


def analyse(con: db.Con, data: bytes, filename: str, *, lieferant: str | None = None, plans: dict[str, SheetPlan] | None = None,
            accepted: dict[tuple[str, str], str] | None = None, max_bytes: int = MAX_UPLOAD_BYTES,
            book: RawBook | None = None, remember: set[tuple[str, str]] | None = None,
            plan_json: dict[str, Any] | None = None, gebietsstand: int | None = None) -> FileAnalysis:
    """Analyse one delivered file without writing anything (``gebietsstand``: on that Gebietsstand's areas, Issue 19).

    ``accepted`` suggestions apply to this file; those also in ``remember`` become aliases on commit.
    ``plan_json`` is a plan as printed by ``import --show-mapping --json`` (see :mod:`quartier.ingest.planfile`).
    """
    fa = FileAnalysis(filename=filename, sha256=sha256_of(data), size=len(data), accepted=dict(accepted or {}),
                      user_plans=bool(plans) or bool(plan_json), remember=set(remember or ()) & set(accepted or {}),
                      gebietsstand=gebietsstand)
    _same_file_before(fa, con)
    try:
        book = book or read_book(data, filename, max_bytes)
    except FileRejected as exc:
        fa.readable = False
        fa.findings.append(Finding(ERROR, exc.kind, str(exc)))
        return fa
    matcher = Matcher(con, fa.accepted, gebietsstand)
    if not lieferant:
        fname = normalize(filename)
        lieferant = next((lf for lf in known_lieferanten(con) if normalize(lf) and normalize(lf) in fname), None)
    remembered = remembered_mapping(con, lieferant)
    help_sheets = _book_infos(fa, book)
    frames: list[dict[str, np.ndarray]] = []
    given = planfile.check(plan_json) if plan_json is not None else None
    detection = Detection(matcher)  # what the sheets share is worked out once for the file
    if given is not None:
        missing = sorted(set(given) - {sh.name for sh in book.sheets})
        if missing:
            raise planfile.PlanError(f"Plan: Blatt „{missing[0]}“ gibt es in der Datei nicht.")
    for sheet in book.sheets:
        if sheet.name in help_sheets:
            continue
        if given is not None and sheet.name not in given:
            fa.findings.append(Finding(INFO, "nicht_im_plan", f"Blatt „{sheet.name}“ steht nicht im Plan und wird nicht gelesen.",
                                       sheet.name))
            continue
        plan = _plan_for(sheet.name, sheet.rows, sheet.merged, detection, remembered,
                         (plans or {}).get(sheet.name), (given or {}).get(sheet.name))
        if plan is None:
            if any(V.cell_text(v).strip() for r in sheet.rows for v in r):
                fa.findings.append(Finding(INFO, "keine_tabelle", f"Blatt „{sheet.name}“ enthält keine erkennbare Tabelle "
                                           "(keine Spalten wie Sozialraum, Jahr, Kennzahl) und wird nicht gelesen.", sheet.name))
            continue
        fa.plans.append(plan)
        for p in plan.problems:
            fa.findings.append(Finding(ERROR, "zuordnung", p, sheet.name, V.cell_address(plan.header_row, 0)))
        if plan.problems:
            continue
        blocks = extract(plan, sheet.rows, matcher, fa)
        if blocks is not None:
            frames.extend(blocks)
    recs = concat(frames) if frames else None
    if recs is None or len(recs["row0"]) == 0 or fa.errors or _empty_where_expected(recs):
        _formula_findings(fa, book)
    if not fa.plans and not fa.errors:
        fa.findings.append(Finding(ERROR, "keine_tabelle", "In der Datei wurde keine Tabelle mit Kennzahlen gefunden. Erwartet "
                                   "werden Spalten wie Sozialraum, Jahr, Kennzahl und Wert (siehe Vorlage)."))
    if recs is None or len(recs["row0"]) == 0:
        if fa.plans and not fa.errors:
            fa.findings.append(Finding(ERROR, "keine_daten", "Die Tabelle enthält nur Überschriften und keine Werte. "
                                       "Bitte die Datei mit Daten erneut liefern."))
        _finish(fa, con, matcher, lieferant)
        return fa
    fa.matcher = matcher
    validate(fa, recs, matcher)
    matcher.forget()
    _finish(fa, con, matcher, lieferant)
    return fa


def _same_file_before(fa: FileAnalysis, con: db.Con) -> None:
    """The same bytes delivered before: an active delivery makes this one a duplicate; a withdrawn one is noted."""
    rows = con.cursor().execute(
        "SELECT id, importiert_am, importiert_von, dateiname FROM lieferung WHERE sha256 = ? AND status = 'aktiv' "
        "ORDER BY id LIMIT 1", [fa.sha256]).fetchall()
    row = rows[0] if rows else None
    if row:
        fa.duplicate = {"lieferung_id": row[0], "importiert_am": str(row[1])[:19], "importiert_von": row[2], "dateiname": row[3]}
        return
    gone = con.cursor().execute("SELECT id, importiert_am, zurueckgezogen_am FROM lieferung WHERE sha256 = ? "
                                "AND status = 'zurueckgezogen' ORDER BY id DESC LIMIT 1", [fa.sha256]).fetchall()
    if gone:
        fa.findings.append(Finding(INFO, "frueher_zurueckgezogen", f"Dieselbe Datei war schon Lieferung #{gone[0][0]} "
                                   f"(importiert {str(gone[0][1])[:16]}, zurückgezogen {str(gone[0][2])[:16]}); sie kann "
                                   "erneut übernommen werden."))


def _book_infos(fa: FileAnalysis, book: RawBook) -> set[str]:
    """Notes on sheets not read (hidden, charts); the template's own help sheets (Anleitung, Listen) are returned to be
    skipped without any message."""
    help_sheets = template_help_sheets(book)
    for msg in book.infos:
        if not any(f"„{name}“" in msg for name in help_sheets):
            fa.findings.append(Finding(INFO, "ausgeblendet", msg))
    return help_sheets


def _plan_for(name: str, rows: list[list[Any]], merged: list[tuple[int, int, int, int]], detection: Detection,
              remembered: dict[str, dict[str, Any]], plan: SheetPlan | None, given: dict[str, Any] | None) -> SheetPlan | None:
    """The plan of one sheet: set on the page, from a plan file, remembered for the Lieferant, or detected."""
    matcher = detection.matcher
    if plan is not None:
        finish_plan(plan, matcher)
        return plan
    if given is not None:
        return planfile.apply(name, rows, merged, matcher, given)
    layout = remembered.get(sheet_key(name))
    if layout is not None:
        try:
            lay = json.loads(layout["kopf"])
            top, first = int(lay["header_row"]), int(lay["data_row"] if lay.get("data_row") is not None
                                                     else lay["header_row"] + lay["header_rows"])
            area = lay.get("area_col")
        except (ValueError, KeyError, TypeError):
            lay = None
        if lay is not None and first < len(rows):
            title = " ".join(V.cell_text(v).strip() for r in rows[:top] for v in r if V.cell_text(v).strip())
            plan = plan_at(name, rows, merged, matcher, Block(area if area is not None else -1, first, top, title), remembered,
                           detection)
            finish_plan(plan, matcher)
            return plan
    plan = plan_from_block(name, rows, merged, matcher, remembered, detection)
    if plan is not None:
        finish_plan(plan, matcher)
        return plan
    return plan_sheet(name, rows, merged, matcher, remembered)


def _empty_where_expected(recs: dict[str, np.ndarray]) -> bool:
    """Cells read as empty although a value belongs there (a formula without cached value reads as empty)."""
    w_empty = (recs["wert_col"] >= 0) & (recs["wert_kind"] == V.K_EMPTY)
    zn_empty = ((recs["zaehler_col"] >= 0) & (recs["zaehler_kind"] == V.K_EMPTY)
                & (recs["nenner_col"] >= 0) & (recs["nenner_kind"] != V.K_EMPTY))
    return bool((w_empty | zn_empty).any())


def _formula_findings(fa: FileAnalysis, book: RawBook) -> None:
    used = {p.sheet: ({c.col for c in p.columns if c.role != "ignorieren"}, p.first_data_row) for p in fa.plans}
    missing = [(s, c) for s, c in book.formulas_without_value() if s in used and _in_table(c, *used[s])]
    for sheet_name, cell in missing[:MAX_PER_RULE]:
        fa.findings.append(Finding(ERROR, "formel_ohne_wert", "Die Zelle enthält eine Formel ohne berechneten Wert. Bitte die "
                                   "Datei in Excel öffnen, neu berechnen lassen (F9), speichern und erneut liefern.", sheet_name, cell))


def _in_table(cell: str, cols: set[int], first_row: int) -> bool:
    letters = "".join(ch for ch in cell if ch.isalpha())
    row = int("".join(ch for ch in cell if ch.isdigit()) or 0) - 1
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return row >= first_row and (col - 1) in cols


def _finish(fa: FileAnalysis, con: db.Con, matcher: Matcher, lieferant: str | None) -> None:
    v = fa.values
    if lieferant is None and not v.empty:
        lf = pd.Series([matcher.indicators.get(i, {}).get("lieferant") for i in v["indikator_id"].unique()]).dropna()
        lieferant = lf.mode().iloc[0] if not lf.empty else None
    fa.lieferant = lieferant
    fa.berichtsjahr = int(v["jahr"].max()) if not v.empty else None


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a sheet's hundred thousand small row lists are alive.

    They hold no reference cycles, but every collection of the oldest generation walks all of them again
    (about 15 % of a 100,000-row import). Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # glibc mallopt parameters
_allocator_set = False


def _allocator_steady_state() -> None:
    """Set glibc's allocator once per process to the state it reaches by itself once it has freed a block of 32 MB:
    blocks up to 32 MB from the heap, up to 64 MB kept free at its top (malloc's dynamic mmap threshold rises to the
    largest freed block, at most 32 MB, the trim threshold to twice that). An import allocates and frees many arrays of a few MB; from a fresh process each
    was a new mapping whose pages fault in again (long file: 38,000 -> 25,000 page faults, ~0.04 s less system time).
    Process-wide, like glibc's own adjustment; no-op without glibc."""
    global _allocator_set
    if _allocator_set:
        return
    _allocator_set = True
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (macOS, Windows): leave the allocator alone
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    mallopt(_M_TRIM_THRESHOLD, 64 << 20)


def analyse_and_compare(con: db.Con, data: bytes, filename: str, **kw: Any) -> FileAnalysis:
    _allocator_steady_state()
    with _gc_paused():
        fa = analyse(con, data, filename, **kw)
        compare(con, fa)
    return fa


__all__ = ["ERROR", "INFO", "MAX_PER_RULE", "VALUE_COLUMNS", "WARNING", "FileAnalysis", "Finding", "analyse", "analyse_and_compare",
           "compare", "delivery_state", "known_lieferanten", "remembered_mapping", "sha256_of"]
