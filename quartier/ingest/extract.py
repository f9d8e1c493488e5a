"""Extraction: one record per (row, indicator, year) group with its source cells, as numpy columns.

Also the total rows ("Stadt insgesamt", "Summe"): skipped, and compared with the sum above them.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd

from quartier.ingest import values as V
from quartier.ingest.analysis import ERROR, INFO, WARNING, FileAnalysis, Finding, fmt_number
from quartier.ingest.detect import MEASURES, ROLE_LABELS, ColumnSpec, SheetPlan
from quartier.ingest.match import Matcher, normalize
from quartier.ingest.totals import find_totals, label_flags

_TRUE = {"1", "ja", "j", "x", "true", "wahr", "gesperrt", "yes"}


Group = tuple[object, object, dict[str, ColumnSpec]]  # (indicator, year, {measure: spec})


class _Grid:
    """The data rows of one sheet as an object matrix; each column's (raw values, kinds) computed once."""

    def __init__(self, data: list[list[Any]]):
        self.n = len(data)
        widths = set(map(len, data))
        self.width = max(widths)
        if len(widths) > 1:
            data = [list(r) + [None] * (self.width - len(r)) for r in data]
        # one pass over all cells in C (``grid[:] = data`` first works out the shape of the nested lists: 1.6x slower)
        self.grid = np.fromiter(chain.from_iterable(data), dtype=object, count=self.n * self.width).reshape(self.n, self.width)
        self.kinds: dict[int, np.ndarray] = {}
        self.raws: dict[int, np.ndarray] = {}
        self.block_pos: dict[int, int] = {}                  # column -> its place in block_kinds (see classify)
        self.block_kinds = np.zeros((self.n, 0), dtype=np.int8)
        self.block_floats: np.ndarray = np.zeros((self.n, 0))   # the same columns as numbers (NaN: empty)

    def classify(self, cols: list[int]) -> None:
        """Kinds of several columns at once when together they hold only numbers and empty cells (None, NaN, "": the
        value columns of a yearbook sheet): one type inference instead of one per column. Every path of
        :func:`values.classify` gives such a column number/empty cell by cell, so the kinds are the same; with any
        other cell (text, a date, " ") nothing is done here and :meth:`col` classifies column by column as before."""
        todo = [c for c in dict.fromkeys(cols) if c < self.width and c not in self.kinds]
        if len(todo) < 2 or self.n * len(todo) > 20_000:  # long columns: one inference per column costs no more
            return
        block = self.grid[:, todo]
        blank = pd.isna(block)
        maybe = ~block.astype(bool) & ~blank   # only a falsy cell ("", 0, False) can be "": compared one by one
        blank[maybe] = block[maybe] == ""
        rest = block[~blank]
        if len(rest) and pd.api.types.infer_dtype(rest, skipna=False) not in V.NUMERIC_TYPES:
            return
        kinds = np.where(blank, V.K_EMPTY, V.K_NUM).astype(np.int8)
        self.block_pos, self.block_kinds = {c: k for k, c in enumerate(todo)}, kinds
        floats = np.full(block.shape, np.nan)
        floats[~blank] = rest.astype(float)   # numbers only (checked above); int cells give the same text as floats
        self.block_floats = floats
        for k, c in enumerate(todo):
            self.kinds[c] = kinds[:, k]

    def raw(self, c: int) -> np.ndarray:
        """The raw values of a column, taken out once (kinds only when asked for: :meth:`col`)."""
        if c not in self.raws:
            self.raws[c] = np.ascontiguousarray(self.grid[:, c]) if c < self.width else np.full(self.n, None, dtype=object)
        return self.raws[c]

    def col(self, c: int) -> tuple[np.ndarray, np.ndarray]:
        """(raw values, kinds) of a column, computed once."""
        if c not in self.kinds:
            self.kinds[c] = V.classify(self.raw(c))
        return self.raw(c), self.kinds[c]

    def any_filled(self, cols: list[int]) -> np.ndarray:
        """Per row: some of ``cols`` is not empty (one test of the classified block when it holds them all)."""
        inside = [c for c in cols if c < self.width]   # a column beyond the last is empty
        if inside and all(c in self.block_pos for c in inside):
            pos = sorted({self.block_pos[c] for c in inside})
            out: np.ndarray = (self.block_kinds[:, pos] != V.K_EMPTY).any(axis=1)
            return out
        filled = np.zeros(self.n, dtype=bool)
        for c in cols:
            filled |= self.col(c)[1] != V.K_EMPTY
        return filled


class _Rows:
    """The kept rows (values, not totals) of a grid: ``take`` selects a column's raw values or kinds."""

    def __init__(self, g: _Grid, keep: np.ndarray, absolute: np.ndarray):
        self.g = g
        self.every = bool(keep.all())
        self.idx = None if self.every else np.flatnonzero(keep)
        self.rows_abs = absolute if self.every else absolute[self.idx]
        self.m = len(self.rows_abs)

    def joined(self, cols: list[int]) -> tuple[np.ndarray, np.ndarray] | None:
        """The raw values and kinds of several columns one after the other (each column's kept rows), taken from the
        grid at once; None when a column lies beyond the grid."""
        g = self.g
        if max(cols) >= g.width:
            return None
        rows = np.arange(g.n) if self.idx is None else self.idx
        if all(c in g.block_pos for c in cols):  # numbers and empty cells: as floats (parsed by a copy, no objects)
            pos = np.array([g.block_pos[c] for c in cols])
            flat = (pos[:, None] + rows[None, :] * g.block_kinds.shape[1]).ravel()
            return g.block_floats.ravel()[flat], g.block_kinds.ravel()[flat]
        # one gather per field: the flat positions of the cells, column after column
        raw = g.grid.ravel()[(np.asarray(cols)[:, None] + rows[None, :] * g.width).ravel()]
        return raw, np.concatenate([g.col(c)[1][rows] for c in cols])

    def take(self, spec: ColumnSpec | None, what: int = 0) -> np.ndarray:
        if spec is None:
            return np.full(self.m, None, dtype=object) if what == 0 else np.full(self.m, V.K_EMPTY, dtype=np.int8)
        a = self.g.raw(spec.col) if what == 0 else self.g.col(spec.col)[1]
        return a if self.every else a[self.idx]


def _no_data(plan: SheetPlan, fa: FileAnalysis) -> None:
    fa.findings.append(Finding(ERROR, "keine_daten", f"Das Blatt „{plan.sheet}“ enthält nur Überschriften und keine Werte.",
                               plan.sheet, V.cell_address(plan.header_row, 0)))


def extract(plan: SheetPlan, rows: list[list[Any]], matcher: Matcher, fa: FileAnalysis) -> list[dict[str, np.ndarray]] | None:
    """The record blocks of one sheet (one per indicator/year group); :func:`concat` joins all blocks of a file once."""
    data = rows[plan.first_data_row:]
    if not data:
        _no_data(plan, fa)
        return None
    g = _Grid(data)
    specs = [c for c in plan.columns if c.role != "ignorieren"]
    if not fa.user_plans:  # numbers under a header nobody recognised: never drop them silently
        _unmapped_numbers(plan, g, matcher, fa)
        _outside_catalogue(plan, g, fa)
    first: dict[str, ColumnSpec] = {}
    for c in specs:
        first.setdefault(c.role, c)
    fa.headers[plan.sheet] = {c.col: c.header for c in plan.columns}
    total, keep, absolute = _row_flags(plan, g, specs, first, fa, matcher)
    if not keep.any():
        _no_data(plan, fa)
        return None
    kept = _Rows(g, keep, absolute)
    groups = _groups(plan, [c for c in specs if c.role in MEASURES], fa)
    blocks = [_blocks(plan, kept, first, groups, matcher)] if groups else []
    fa.headers[plan.sheet] = {c.col: c.header for c in plan.columns}
    if total.any() and plan.layout == "lang":
        _check_totals(plan, fa, groups, g.col, total, keep, absolute, first)
    return blocks


def _unmapped_numbers(plan: SheetPlan, g: _Grid, matcher: Matcher, fa: FileAnalysis) -> None:
    for c in plan.columns:
        if c.role == "ignorieren" and c.col < g.width and (g.col(c.col)[1] == V.K_NUM).any():
            label = c.header or f"Spalte {c.letter}"
            sug = matcher.suggest("indikator", c.header.split(" | ")[0]) if c.header else None
            hint = (f" Meinten Sie „{matcher.label('indikator', sug)}“ ({sug})?" if sug else "")
            if sug:
                fa.suggestions.append({"art": "indikator", "text": c.header.split(" | ")[0], "ziel_id": sug,
                                       "ziel": matcher.label("indikator", sug)})
            fa.findings.append(Finding(WARNING, "spalte_nicht_zugeordnet",
                                       f"Die Spalte „{label}“ enthält Zahlen, wurde aber keiner Kennzahl zugeordnet und "
                                       f"wird nicht übernommen.{hint} Bitte die Zuordnung prüfen.",
                                       plan.sheet, V.cell_address(plan.header_row, c.col), c.header))


def _row_flags(plan: SheetPlan, g: _Grid, specs: list[ColumnSpec], first: dict[str, ColumnSpec],
               fa: FileAnalysis, matcher: Matcher) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(total rows, rows to keep, absolute row numbers); total rows and note rows are reported as infos."""
    n = g.n
    measure_cols = [c.col for c in specs if c.role in MEASURES]
    g.classify(measure_cols)
    any_value = g.any_filled(measure_cols)
    if "gesperrt" in first and plan.layout == "lang":  # a row that only says "gesperrt" still delivers
        any_value |= _truthy(g.raw(first["gesperrt"].col))
    any_text = any_value.copy()
    for c in specs:
        if c.role not in MEASURES and not any_value.all():  # only rows without values can be notes
            any_text |= g.col(c.col)[1] != V.K_EMPTY
    # total rows ("Stadt … gesamt", "Summe", a Stadtbezirk, an area name repeated) by any label column
    total = np.zeros(n, dtype=bool)
    absolute = np.arange(n) + plan.first_data_row
    reasons: dict[int, str] = {}
    for c in specs:
        if c.role in ("sozialraum", "bezeichnung"):
            codes, uniq = matcher.factorize(g.raw(c.col))
            f = label_flags(uniq, matcher)
            total |= (f.word | ((f.city | f.district) & (f.sid < 0)))[codes]
    if plan.layout != "lang" and "sozialraum" in first:
        found = find_totals(g.raw(first["sozialraum"].col), _count_columns(plan, g, specs, matcher), matcher)
        total |= found.mask
        reasons = found.reasons
        unread = {c.col for c in specs if plan.layout == "breit_indikator" and not c.indikator_id}  # helps find totals only
        for i, col, stated, got in (m for m in found.mismatches if m[1] not in unread):
            fa.findings.append(Finding(
                WARNING, "summe_abweichend", f"Die Summenzeile {int(absolute[i]) + 1} nennt {fmt_number(stated)}, die "
                f"Sozialräume darüber ergeben zusammen {fmt_number(got)}. Bitte prüfen, ob Sozialräume fehlen oder doppelt sind.",
                plan.sheet, V.cell_address(int(absolute[i]), col), fa.headers.get(plan.sheet, {}).get(col, ""), fmt_number(stated)))
    excluded = np.isin(absolute, np.asarray(plan.exclude_rows, dtype=np.int64)) if plan.exclude_rows else np.zeros(n, dtype=bool)
    if total.any():
        rows_t = absolute[total]
        shown = ", ".join(f"{r + 1}" + (f" ({reasons[int(r) - plan.first_data_row]})" if int(r) - plan.first_data_row in reasons
                                        else "") for r in rows_t[:8]) + more(len(rows_t), 8)
        fa.findings.append(Finding(INFO, "summenzeile", f"Blatt „{plan.sheet}“: {int(total.sum())} Summenzeile(n) "
                                   f"(z. B. „Stadt … gesamt“, „Summe“, Stadtbezirk) nicht als Sozialraum gelesen (Zeile {shown}).",
                                   plan.sheet))
    if excluded.any():
        fa.findings.append(Finding(INFO, "ausgeschlossen", f"Blatt „{plan.sheet}“: {int(excluded.sum())} Zeile(n) auf Wunsch "
                                   "ausgeschlossen.", plan.sheet))
    notes = any_text & ~any_value & ~total & ~excluded
    if notes.any():
        shown = ", ".join(str(r + 1) for r in absolute[notes][:8]) + more(int(notes.sum()), 8)
        fa.findings.append(Finding(INFO, "anmerkung", f"Blatt „{plan.sheet}“: {int(notes.sum())} Zeile(n) ohne Werte "
                                   f"(Anmerkungen, Fußnoten oder leere Sozialräume) nicht gelesen (Zeile {shown}).", plan.sheet))
    return total, any_value & ~total & ~excluded, absolute


def _outside_catalogue(plan: SheetPlan, g: _Grid, fa: FileAnalysis) -> None:
    """A yearbook table has many more columns than a city's catalogue takes (the Stadtteil-Profile: 66, a catalogue
    perhaps 8). Columns whose header names a year or a measure but no indicator of the catalogue are not read; they
    are named in one note per sheet (not one warning each to confirm), so nothing is dropped without a word."""
    if plan.layout != "breit_indikator":
        return
    cols = [c for c in plan.columns if c.role in MEASURES and not c.indikator_id and c.col < g.width
            and (g.col(c.col)[1] == V.K_NUM).any()]
    if cols:
        shown = ", ".join(f"{c.letter} „{_name_part(c.header)}“" if c.header else c.letter for c in cols[:6])
        fa.findings.append(Finding(INFO, "spalte_ohne_kennzahl", f"Blatt „{plan.sheet}“: {len(cols)} Spalte(n) mit Zahlen "
                                   f"gehören zu keiner Kennzahl des Katalogs und werden nicht übernommen ({shown}"
                                   f"{more(len(cols), 6)}). Wenn eine davon gebraucht wird: die Kennzahl im Katalog anlegen "
                                   "oder in der Spaltenzuordnung wählen.", plan.sheet))


def _name_part(header: str) -> str:
    """The indicator-name row of a header block ("Gruppe | Name | lange Beschreibung" -> "Name")."""
    parts = header.split(" | ")
    return parts[1] if len(parts) >= 3 else parts[-1]


def more(n: int, shown: int) -> str:
    """The end of a shortened list: " … und 12 weitere"."""
    return f" … und {n - shown} weitere" if n > shown else ""


def _count_columns(plan: SheetPlan, g: _Grid, specs: list[ColumnSpec], matcher: Matcher) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(column, values, status) of the columns holding counts: Zähler/Nenner, or values of an indicator in "Anzahl"."""
    out = []
    for c in specs:
        ind = c.indikator_id or plan.indikator_id
        if c.role in ("zaehler", "nenner") or (c.role == "wert" and (matcher.units.get(ind or "") or "").strip().lower() == "anzahl"):
            vals, st = V.parse_numbers(*g.col(c.col))
            out.append((c.col, vals, st))
    return out


def _groups(plan: SheetPlan, measure_specs: list[ColumnSpec], fa: FileAnalysis) -> list[Group]:
    """The measure columns grouped by the indicator or year they stand for (wide layouts) or one group (long)."""
    by: dict[Any, dict[str, ColumnSpec]] = {}
    if plan.layout == "breit_jahr":
        for c in measure_specs:
            if c.jahr is not None:
                by.setdefault(c.jahr, {}).setdefault(c.role, c)
        return [(None, y, ms) for y, ms in by.items()]
    if plan.layout == "breit_indikator":  # one group per indicator and year (the year of the column, else of the sheet)
        for c in measure_specs:
            if c.indikator_id:
                by.setdefault((c.indikator_id, c.jahr), {}).setdefault(c.role, c)
        return [(i, y, ms) for (i, y), ms in by.items()]
    ms: dict[str, ColumnSpec] = {}
    for c in measure_specs:
        if c.role in ms:
            fa.findings.append(Finding(WARNING, "spalte_doppelt", f"Mehrere Spalten sind als {ROLE_LABELS[c.role]} "
                                       f"zugeordnet; gelesen wird „{ms[c.role].header}“, „{c.header}“ nicht.", plan.sheet,
                                       V.cell_address(plan.header_row, c.col), c.header))
            continue
        ms[c.role] = c
    return [(None, None, ms)]


_I = np.int32   # rows, columns and numbers in the records: half the memory of int64 (fa.values gets int64 again)


def _blocks(plan: SheetPlan, kept: _Rows, first: dict[str, ColumnSpec], groups: list[Group], matcher: Matcher) -> dict[str, np.ndarray]:
    """The records of all groups of one sheet, group after group: raw values, kinds and source columns per field.

    Built once per sheet (the fields shared by all groups repeated, the measure columns of the groups joined) instead
    of once per group: a yearbook sheet has one group per indicator column."""
    n_g, m, take = len(groups), kept.m, kept.take

    def each(a: np.ndarray) -> np.ndarray:  # a field shared by all groups, repeated per group
        return a if n_g == 1 else np.tile(a, n_g)

    areas = _areas(kept, first.get("sozialraum"), first.get("bezeichnung"), matcher)
    blk = {"sheet": _const(m * n_g, plan.sheet), "row0": each(kept.rows_abs.astype(_I)),
           "sr_col": each(areas["sr_col"]), "sr_code": each(areas["sr_code"])}
    blk.update(_indicators(plan, kept, first.get("indikator"), groups, matcher))
    blk.update(_years(plan, kept, first.get("jahr"), groups))
    supp_spec = first.get("gesperrt") if plan.layout == "lang" else None
    blk["gesperrt_flag"] = each(_truthy(take(supp_spec))) if supp_spec else _const(m * n_g, False, bool)
    has_any = blk["gesperrt_flag"].copy()
    for meas in MEASURES:
        specs = [ms.get(meas) for _i, _y, ms in groups]
        if all(spec is None for spec in specs):  # e.g. no Zähler/Nenner columns: one filled array, not one per group
            blk[meas + "_raw"] = _const(m * n_g, None)
            blk[meas + "_kind"] = _const(m * n_g, V.K_EMPTY, np.int8)
            blk[meas + "_col"] = _const(m * n_g, -1, _I)
            continue
        both = kept.joined([spec.col for spec in specs]) if n_g > 1 and None not in specs else None  # type: ignore[union-attr]
        if both is not None:
            blk[meas + "_raw"], blk[meas + "_kind"] = both
        else:
            blk[meas + "_raw"] = _joined([take(spec) for spec in specs])
            blk[meas + "_kind"] = _joined([take(spec, 1) for spec in specs])
        blk[meas + "_col"] = _per_group([spec.col if spec else -1 for spec in specs], _I, m)
        has_any |= blk[meas + "_kind"] != V.K_EMPTY
    if not has_any.all():  # e.g. an indicator column left empty for one area
        n_kept = int(has_any.sum())
        blk = {k: _const(n_kept, v[0], v.dtype) if _is_const(v) else v[has_any] for k, v in blk.items()}
    return blk


def _per_group(values: list[Any], dtype: Any, m: int) -> np.ndarray:
    """One value per group, spread over the group's ``m`` rows."""
    return np.repeat(np.array(values, dtype=dtype), m)


def _indicators(plan: SheetPlan, kept: _Rows, ind_col: ColumnSpec | None, groups: list[Group],
                matcher: Matcher) -> dict[str, np.ndarray]:
    """The indicator fields of a sheet's records: the group's own indicator (a wide layout), else the indicator column."""
    m, n_g, inds = kept.m, len(groups), matcher.interned["indikator"]
    own = [g_ind is not None or ind_col is None for g_ind, _y, _ms in groups]
    if all(own):
        named = [g_ind if g_ind is not None else plan.indikator_id for g_ind, _y, _ms in groups]
        return {"ind_code": _per_group([inds.code(i) for i in named], _I, m),
                "ind_col": _const(m * n_g, -1, _I)}
    assert ind_col is not None
    col_codes = _codes(kept, ind_col, matcher, "indikator")
    return {"ind_code": np.concatenate([np.full(m, inds.code(g[0]), dtype=_I) if o else col_codes for g, o in zip(groups, own)]),
            "ind_col": _per_group([-1 if o else ind_col.col for o in own], _I, m)}


def _years(plan: SheetPlan, kept: _Rows, year_col: ColumnSpec | None, groups: list[Group]) -> dict[str, np.ndarray]:
    """The year fields of a sheet's records: the group's own year (column header, else the sheet's), else the year
    column. The kinds of the own years as the validation would find them, so it need not classify every record."""
    m, n_g = kept.m, len(groups)
    own = [g_year is not None or year_col is None for _i, g_year, _ms in groups]
    given: list[Any] = [(g_year if g_year is not None else plan.jahr) for _i, g_year, _ms in groups]
    years = [float(y) if y else None for y in given]
    kinds = np.array([V.kind_of(y) for y in years], dtype=np.int8)
    if all(own):
        # floats, not objects: parsed by a copy (cell_text of a float is the same as of the cell)
        return {"jahr_raw": _per_group([np.nan if y is None else y for y in years], float, m), "jahr_kind": np.repeat(kinds, m),
                "jahr_col": _const(m * n_g, -1, _I)}
    assert year_col is not None
    return {"jahr_raw": np.concatenate([_filled(m, y) if o else kept.take(year_col) for y, o in zip(years, own)]),
            "jahr_kind": np.concatenate([np.full(m, k, dtype=np.int8) if o else kept.take(year_col, 1) for k, o in zip(kinds, own)]),
            "jahr_col": _per_group([-1 if o else year_col.col for o in own], _I, m)}


def _const(n: int, value: Any, dtype: Any = object) -> np.ndarray:
    """``n`` times the same value as a read-only view of one element: a field that is the same in every record of a
    sheet (its name; the columns of a measure the sheet does not have) costs no memory per record. :func:`concat`
    keeps it so when it is the same in all sheets; readers of the records never write into them."""
    one = np.empty(1, dtype=dtype)
    one[0] = value
    return np.broadcast_to(one, (n,))


def _is_const(a: np.ndarray) -> bool:
    return a.strides == (0,) and len(a) > 0


def _filled(n: int, value: Any) -> np.ndarray:
    """``n`` times the same object (``np.full(n, "text", dtype=object)`` makes a new string per cell, 40x slower)."""
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _areas(kept: _Rows, sr_spec: ColumnSpec | None, name_spec: ColumnSpec | None, matcher: Matcher) -> dict[str, np.ndarray]:
    """The area of each row (its column and the number of its cell in :class:`~quartier.ingest.match.Interner`; the
    validation matches each distinct cell once): where the area column is empty, the name next to it counts (an area
    given by name with an empty id column is matched by its name)."""
    col = np.full(kept.m, sr_spec.col if sr_spec else -1, dtype=_I)
    code = _codes(kept, sr_spec, matcher, "sozialraum")
    if sr_spec is not None and name_spec is not None:
        empty = (kept.take(sr_spec, 1) == V.K_EMPTY) & (kept.take(name_spec, 1) != V.K_EMPTY)
        if empty.any():
            col = np.where(empty, name_spec.col, col)
            code = np.where(empty, _codes(kept, name_spec, matcher, "sozialraum"), code)
    return {"sr_col": col, "sr_code": code}


def _codes(kept: _Rows, spec: ColumnSpec | None, matcher: Matcher, art: str) -> np.ndarray:
    """The :class:`~quartier.ingest.match.Interner` numbers of a column's kept cells (the column factorised once)."""
    if spec is None:
        return np.full(kept.m, -1, dtype=_I)
    codes, uniq = matcher.factorize(kept.g.raw(spec.col))
    out: np.ndarray = matcher.interned[art].codes(uniq, matcher.uniques_key(uniq))[codes]
    return out if kept.every else out[kept.idx]


def _check_totals(plan: SheetPlan, fa: FileAnalysis, groups: list[Group], col: Callable[[int], tuple[np.ndarray, np.ndarray]],
                  total: np.ndarray, keep: np.ndarray, absolute: np.ndarray, first: dict[str, ColumnSpec]) -> None:
    """A total row ("Stadt insgesamt") is compared with the sum of the Sozialräume above it (counts only)."""
    ind_col, year_col = first.get("indikator"), first.get("jahr")
    t_idx, k_idx = np.flatnonzero(total), np.flatnonzero(keep)

    def key_of(idx: np.ndarray) -> np.ndarray:
        parts = []
        for spec in (ind_col, year_col):
            parts.append(pd.Series(col(spec.col)[0][idx], dtype=object).map(V.cell_text).to_numpy() if spec else np.full(len(idx), ""))
        return np.array([f"{a}\x1f{b}" for a, b in zip(*parts)], dtype=object)

    t_key, k_key = key_of(t_idx), key_of(k_idx)
    for _g_ind, _g_year, ms in groups:
        for meas in ("zaehler", "nenner"):
            spec = ms.get(meas)
            if spec is None:
                continue
            tv, tst = V.parse_numbers(col(spec.col)[0][t_idx])
            kv, kst = V.parse_numbers(col(spec.col)[0][k_idx])
            for i, (val, st, key) in enumerate(zip(tv, tst, t_key)):
                if st != V.OK:
                    continue
                sel = k_key == key
                if not sel.any() or (kst[sel] != V.OK).any():
                    continue  # suppressed or missing parts: the sum cannot be checked
                got = float(kv[sel].sum())
                if abs(got - val) > 0.5:
                    fa.findings.append(Finding(
                        WARNING, "summe_abweichend",
                        f"Die Summenzeile nennt {fmt_number(val)}, die Sozialräume darüber ergeben zusammen {fmt_number(got)}. Bitte prüfen, "
                        "ob Sozialräume fehlen oder doppelt sind.", plan.sheet, V.cell_address(int(absolute[t_idx[i]]), spec.col),
                        spec.header, fmt_number(val)))


def _truthy(raw: np.ndarray) -> np.ndarray:
    codes, uniq = pd.factorize(raw)
    flags = [normalize(V.cell_text(u)) in _TRUE or V.cell_text(u).strip() in ("*", "•") for u in uniq]
    return np.array(flags + [False], dtype=bool)[np.where(codes < 0, len(uniq), codes)]


def concat(blocks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The records of all sheets, field by field. Empties ``blocks``: each field of the sheets is freed as soon as it
    is joined, so the memory is there again for the next field and the validation (a process that grows its heap
    pays a page fault per new 4 KB page: the yearbook's records are 25 MB)."""
    if len(blocks) == 1:
        return blocks.pop()
    out = {k: _join([b.pop(k) for b in blocks]) for k in list(blocks[0])}
    blocks.clear()
    return out


def _join(parts: list[np.ndarray]) -> np.ndarray:
    """One field of all sheets: a value the same in every sheet stays one value (:func:`_const`), one value per
    sheet (its name) is spread by ``np.repeat``, anything else concatenated."""
    if not all(map(_is_const, parts)):
        return np.concatenate(parts)
    firsts = [p[0] for p in parts]
    dtype = parts[0].dtype
    if all((f is firsts[0]) if dtype.hasobject else (f == firsts[0]) for f in firsts):
        return _const(sum(map(len, parts)), firsts[0], dtype)
    values = np.empty(len(firsts), dtype=dtype)
    values[:] = firsts
    return np.repeat(values, [len(p) for p in parts])

