"""read -> detect -> map -> parse -> validate -> diff. Nothing here writes to the database.

:func:`analyse` turns one delivered file into a :class:`FileAnalysis`: the values it would write,
the findings (errors block, warnings need a confirmation, infos only inform) and the comparison
with the current values. :mod:`quartier.ingest.store` writes it.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from quartier.ingest import values as V
from quartier.ingest.detect import MEASURES, ROLE_LABELS, SheetPlan, finish_plan, plan_sheet
from quartier.ingest.match import Matcher, normalize
from quartier.uploads import MAX_UPLOAD_BYTES, FileRejected, RawBook, read_book
from quartier.values.indicators import rate_factor

ERROR, WARNING, INFO = "fehler", "warnung", "info"
MAX_PER_RULE = 200
MIN_YEAR = 1990
CONTRADICTION_TOLERANCE = 0.51   # in the indicator's unit (rounding to whole percent still passes)
JUMP_SPREADS = 4.0               # a jump larger than 4 standard deviations of the usual year-on-year change
_TRUE = {"1", "ja", "j", "x", "true", "wahr", "gesperrt", "yes"}
_TOTAL_WORDS = ("summe", "gesamt", "insgesamt", "gesamtstadt", "total", "stadtgesamt")

VALUE_COLUMNS = ["indikator_id", "sozialraum_id", "jahr", "wert", "zaehler", "nenner", "gesperrt"]


@dataclass
class Finding:
    level: str
    rule: str
    message: str
    sheet: str = ""
    cell: str = ""
    column: str = ""
    value: str = ""

    def to_json(self) -> dict:
        return {"sheet": self.sheet, "cell": self.cell, "column": self.column, "value": self.value,
                "rule": self.rule, "message": self.message}


@dataclass
class FileAnalysis:
    filename: str
    sha256: str
    size: int
    lieferant: str | None = None
    berichtsjahr: int | None = None
    plans: list[SheetPlan] = field(default_factory=list)
    values: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=VALUE_COLUMNS))
    findings: list[Finding] = field(default_factory=list)
    readable: bool = True
    duplicate: dict | None = None
    accepted: dict = field(default_factory=dict)          # (art, text) -> id, to remember on commit
    user_plans: bool = False                              # mapping set by the user: remember it
    suggestions: list[dict] = field(default_factory=list)  # [{art, text, ziel_id, ziel}]
    headers: dict = field(default_factory=dict, repr=False)  # sheet -> {column index: header text}
    state: tuple | None = field(default=None, repr=False)     # deliveries when compared (commit reuses the diff)
    row_counts: dict | None = field(default=None, repr=False)
    matcher: Matcher | None = field(default=None, repr=False)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    @property
    def infos(self) -> list[Finding]:
        return [f for f in self.findings if f.level == INFO]

    def counts(self) -> dict:
        if self.row_counts is not None:
            return dict(self.row_counts)
        v = self.values
        if v.empty or "status" not in v:
            return {"new": 0, "changed": 0, "unchanged": 0, "suppressed": 0}
        st = v["status"].value_counts()
        return {"new": int(st.get("neu", 0)), "changed": int(st.get("geaendert", 0)),
                "unchanged": int(st.get("unveraendert", 0)), "suppressed": int(v["gesperrt"].sum())}

    def findings_frame(self) -> pd.DataFrame:
        labels = {ERROR: "Fehler", WARNING: "Warnung", INFO: "Hinweis"}
        return pd.DataFrame([{
            "Art": labels[f.level], "Datei": self.filename, "Blatt": f.sheet, "Zelle": f.cell, "Spalte": f.column,
            "Wert": f.value, "Regel": f.rule, "Meldung": f.message} for f in self.findings],
            columns=["Art", "Datei", "Blatt", "Zelle", "Spalte", "Wert", "Regel", "Meldung"])

    def changes(self) -> pd.DataFrame:
        v = self.values
        if v.empty or "status" not in v:
            return v
        return v[v["status"] == "geaendert"]

    def coverage(self) -> pd.DataFrame:
        """Indicator x year: number of Sozialräume delivered."""
        v = self.values
        if v.empty:
            return pd.DataFrame()
        return v.pivot_table(index="indikator_id", columns="jahr", values="sozialraum_id", aggfunc="count", fill_value=0)

    def report(self, status: str | None = None, lieferung_id: int | None = None) -> dict:
        """The JSON object of the command line (and the stored report)."""
        if status is None:
            status = "duplicate" if self.duplicate else ("rejected" if (self.errors or not self.readable) else "ok")
        return {
            "file": self.filename, "status": status, "lieferung_id": lieferung_id,
            "rows": self.counts(),
            "errors": [f.to_json() for f in self.errors],
            "warnings": [f.to_json() for f in self.warnings],
            "infos": [f.message for f in self.infos],
            "lieferant": self.lieferant, "berichtsjahr": self.berichtsjahr, "sha256": self.sha256,
            "sheets": [{"sheet": p.sheet, "layout": p.layout, "header_row": p.header_row + 1,
                        "indikator_id": p.indikator_id, "jahr": p.jahr} for p in self.plans],
            **({"duplicate_of": self.duplicate} if self.duplicate else {}),
        }


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def known_lieferanten(con) -> list[str]:
    rows = con.cursor().execute(
        "SELECT DISTINCT lieferant FROM indikator WHERE lieferant IS NOT NULL "
        "UNION SELECT DISTINCT lieferant FROM lieferung WHERE lieferant IS NOT NULL").fetchall()
    return sorted(r[0] for r in rows)


def remembered_mapping(con, lieferant: str | None) -> dict[str, dict]:
    if not lieferant:
        return {}
    rows = con.cursor().execute(
        "SELECT kopf_norm, rolle, indikator_id, jahr FROM import_spaltenzuordnung WHERE lieferant = ?", [lieferant]).fetchall()
    return {r[0]: {"rolle": r[1], "indikator_id": r[2], "jahr": r[3]} for r in rows}


def analyse(con, data: bytes, filename: str, *, lieferant: str | None = None, plans: dict[str, SheetPlan] | None = None,
            accepted: dict[tuple[str, str], str] | None = None, max_bytes: int = MAX_UPLOAD_BYTES,
            book: RawBook | None = None) -> FileAnalysis:
    """Analyse one delivered file without writing anything."""
    fa = FileAnalysis(filename=filename, sha256=sha256_of(data), size=len(data), accepted=dict(accepted or {}),
                      user_plans=bool(plans))
    row = con.cursor().execute(
        "SELECT id, importiert_am, importiert_von, dateiname FROM lieferung WHERE sha256 = ? AND status = 'aktiv' "
        "ORDER BY id LIMIT 1", [fa.sha256]).fetchall()
    row = row[0] if row else None
    if row:
        fa.duplicate = {"lieferung_id": row[0], "importiert_am": str(row[1])[:19], "importiert_von": row[2], "dateiname": row[3]}
    else:
        gone = con.cursor().execute("SELECT id, importiert_am, zurueckgezogen_am FROM lieferung WHERE sha256 = ? "
                                    "AND status = 'zurueckgezogen' ORDER BY id DESC LIMIT 1", [fa.sha256]).fetchall()
        if gone:
            fa.findings.append(Finding(INFO, "frueher_zurueckgezogen", f"Dieselbe Datei war schon Lieferung #{gone[0][0]} "
                                       f"(importiert {str(gone[0][1])[:16]}, zurückgezogen {str(gone[0][2])[:16]}); sie kann "
                                       "erneut übernommen werden."))
    try:
        book = book or read_book(data, filename, max_bytes)
    except FileRejected as exc:
        fa.readable = False
        fa.findings.append(Finding(ERROR, exc.kind, str(exc)))
        return fa
    matcher = Matcher(con, fa.accepted)
    if not lieferant:
        fname = normalize(filename)
        lieferant = next((lf for lf in known_lieferanten(con) if normalize(lf) and normalize(lf) in fname), None)
    remembered = remembered_mapping(con, lieferant)
    for msg in book.infos:
        fa.findings.append(Finding(INFO, "ausgeblendet", msg))
    frames = []
    for sheet in book.sheets:
        if plans and sheet.name in plans:
            plan = plans[sheet.name]
            finish_plan(plan, matcher)
        else:
            plan = plan_sheet(sheet.name, sheet.rows, sheet.merged, matcher, remembered)
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
        frame = _extract(plan, sheet.rows, matcher, fa)
        if frame is not None:
            frames.append(frame)
    recs = _concat(frames) if frames else None
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
    _validate(fa, recs, matcher)
    _finish(fa, con, matcher, lieferant)
    return fa


def _empty_where_expected(recs: dict) -> bool:
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


def _finish(fa: FileAnalysis, con, matcher: Matcher, lieferant: str | None) -> None:
    v = fa.values
    if lieferant is None and not v.empty:
        lf = pd.Series([matcher.indicators.get(i, {}).get("lieferant") for i in v["indikator_id"].unique()]).dropna()
        lieferant = lf.mode().iloc[0] if not lf.empty else None
    fa.lieferant = lieferant
    fa.berichtsjahr = int(v["jahr"].max()) if not v.empty else None


# ------------------------------------------------------------------------------------------------
# extraction: one record per (row, indicator, year) group with its source cells, as numpy columns


def _extract(plan: SheetPlan, rows: list[list], matcher: Matcher, fa: FileAnalysis) -> dict | None:
    data = rows[plan.first_data_row:]
    n = len(data)
    if n == 0:
        fa.findings.append(Finding(ERROR, "keine_daten", f"Das Blatt „{plan.sheet}“ enthält nur Überschriften und keine Werte.",
                                   plan.sheet, V.cell_address(plan.header_row, 0)))
        return None
    widths = set(map(len, data))
    width = max(widths)
    if len(widths) > 1:
        data = [list(r) + [None] * (width - len(r)) for r in data]
    grid = np.empty((n, width), dtype=object)
    grid[:] = data
    cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def col(c: int) -> tuple[np.ndarray, np.ndarray]:
        """(raw values, kinds) of a column, computed once."""
        if c not in cache:
            arr = np.ascontiguousarray(grid[:, c]) if c < width else np.full(n, None, dtype=object)
            cache[c] = (arr, V.classify(arr))
        return cache[c]

    specs = [c for c in plan.columns if c.role != "ignorieren"]
    if not fa.user_plans:  # numbers under a header nobody recognised: never drop them silently
        for c in plan.columns:
            if c.role == "ignorieren" and c.col < width and (col(c.col)[1] == V.K_NUM).any():
                sug = matcher.suggest("indikator", c.header.split(" | ")[0])
                hint = (f" Meinten Sie „{matcher.label('indikator', sug)}“ ({sug})?" if sug else "")
                if sug:
                    fa.suggestions.append({"art": "indikator", "text": c.header.split(" | ")[0], "ziel_id": sug,
                                           "ziel": matcher.label("indikator", sug)})
                fa.findings.append(Finding(WARNING, "spalte_nicht_zugeordnet",
                                           f"Die Spalte „{c.header}“ enthält Zahlen, wurde aber keiner Kennzahl zugeordnet und "
                                           f"wird nicht übernommen.{hint} Bitte die Zuordnung prüfen.",
                                           plan.sheet, V.cell_address(plan.header_row, c.col), c.header))
    first = {}
    for c in specs:
        first.setdefault(c.role, c)
    sr_spec = first.get("sozialraum")
    label_specs = [c for c in specs if c.role in ("sozialraum", "bezeichnung")]
    measure_specs = [c for c in specs if c.role in MEASURES]
    any_value = np.zeros(n, dtype=bool)
    for c in measure_specs:
        any_value |= col(c.col)[1] != V.K_EMPTY
    if "gesperrt" in first and plan.layout == "lang":  # a row that only says "gesperrt" still delivers
        any_value |= _truthy(col(first["gesperrt"].col)[0])
    any_text = any_value.copy()
    for c in specs:
        if c.role not in MEASURES:
            any_text |= col(c.col)[1] != V.K_EMPTY
    # total rows ("Stadt Hagen gesamt", "Summe") by any label column
    total = np.zeros(n, dtype=bool)
    for c in label_specs:
        codes, uniq = pd.factorize(col(c.col)[0])
        flags = np.array([_is_total(V.cell_text(u)) for u in uniq] + [False], dtype=bool)
        total |= flags[codes]
    absolute = np.arange(n) + plan.first_data_row
    if total.any():
        shown = ", ".join(str(r + 1) for r in absolute[total][:8]) + (" …" if total.sum() > 8 else "")
        fa.findings.append(Finding(INFO, "summenzeile", f"Blatt „{plan.sheet}“: {int(total.sum())} Summenzeile(n) "
                                   f"(z. B. „Stadt … gesamt“, „Summe“) übersprungen (Zeile {shown}).", plan.sheet))
    notes = any_text & ~any_value & ~total
    if notes.any():
        shown = ", ".join(str(r + 1) for r in absolute[notes][:8]) + (" …" if notes.sum() > 8 else "")
        fa.findings.append(Finding(INFO, "anmerkung", f"Blatt „{plan.sheet}“: {int(notes.sum())} Zeile(n) ohne Werte "
                                   f"(Anmerkungen, Fußnoten oder leere Sozialräume) nicht gelesen (Zeile {shown}).", plan.sheet))
    keep = any_value & ~total
    if not keep.any():
        fa.findings.append(Finding(ERROR, "keine_daten", f"Das Blatt „{plan.sheet}“ enthält nur Überschriften und keine Werte.",
                                   plan.sheet, V.cell_address(plan.header_row, 0)))
        return None
    every = bool(keep.all())
    idx = None if every else np.flatnonzero(keep)
    rows_abs = absolute if every else absolute[idx]
    m = len(rows_abs)

    def take(spec, what: int = 0) -> np.ndarray:
        if spec is None:
            return np.full(m, None, dtype=object) if what == 0 else np.full(m, V.K_EMPTY, dtype=np.int8)
        a = col(spec.col)[what]
        return a if every else a[idx]

    sr_raw = take(sr_spec)
    ind_col, year_col = first.get("indikator"), first.get("jahr")
    groups: list[tuple[object, object, dict]] = []  # (indicator, year, {measure: spec})
    if plan.layout == "breit_jahr":
        by: dict = {}
        for c in measure_specs:
            if c.jahr is not None:
                by.setdefault(c.jahr, {}).setdefault(c.role, c)
        groups = [(None, y, ms) for y, ms in by.items()]
    elif plan.layout == "breit_indikator":
        by = {}
        for c in measure_specs:
            if c.indikator_id:
                by.setdefault(c.indikator_id, {}).setdefault(c.role, c)
        groups = [(i, None, ms) for i, ms in by.items()]
    else:
        ms = {}
        for c in measure_specs:
            if c.role in ms:
                fa.findings.append(Finding(WARNING, "spalte_doppelt", f"Mehrere Spalten sind als {ROLE_LABELS[c.role]} "
                                           f"zugeordnet; gelesen wird „{ms[c.role].header}“, „{c.header}“ nicht.", plan.sheet,
                                           V.cell_address(plan.header_row, c.col), c.header))
                continue
            ms[c.role] = c
        groups = [(None, None, ms)]
    blocks = []
    for g_ind, g_year, ms in groups:
        blk = {"sheet": np.full(m, plan.sheet, dtype=object), "row0": rows_abs, "sr_raw": sr_raw,
               "sr_col": np.full(m, sr_spec.col if sr_spec else -1)}
        if g_ind is not None or ind_col is None:
            blk["ind_raw"] = np.full(m, g_ind if g_ind is not None else plan.indikator_id, dtype=object)
            blk["ind_col"] = np.full(m, -1)
        else:
            blk["ind_raw"] = take(ind_col)
            blk["ind_col"] = np.full(m, ind_col.col)
        if g_year is not None or year_col is None:
            y = g_year if g_year is not None else plan.jahr
            blk["jahr_raw"] = np.full(m, float(y) if y else None, dtype=object)
            blk["jahr_col"] = np.full(m, -1)
        else:
            blk["jahr_raw"] = take(year_col)
            blk["jahr_col"] = np.full(m, year_col.col)
        supp_spec = first.get("gesperrt") if plan.layout == "lang" else None
        blk["gesperrt_flag"] = _truthy(take(supp_spec)) if supp_spec else np.zeros(m, dtype=bool)
        has_any = blk["gesperrt_flag"].copy()
        for meas in MEASURES:
            spec = ms.get(meas)
            blk[meas + "_raw"] = take(spec)
            blk[meas + "_kind"] = take(spec, 1)
            blk[meas + "_col"] = np.full(m, spec.col if spec else -1)
            has_any |= blk[meas + "_kind"] != V.K_EMPTY
        if not has_any.all():  # e.g. an indicator column left empty for one area
            blk = {k: v[has_any] for k, v in blk.items()}
        blocks.append(blk)
    fa.headers[plan.sheet] = {c.col: c.header for c in plan.columns}
    if total.any():
        _check_totals(plan, fa, groups, col, total, keep, absolute, first)
    return _concat(blocks)


def _check_totals(plan: SheetPlan, fa: FileAnalysis, groups, col, total, keep, absolute, first) -> None:
    """A total row ("Stadt Hagen gesamt") is compared with the sum of the Sozialräume above it (counts only)."""
    ind_col, year_col = first.get("indikator"), first.get("jahr")
    t_idx, k_idx = np.flatnonzero(total), np.flatnonzero(keep)

    def key_of(idx):
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
                        f"Die Summenzeile nennt {_fmt(val)}, die Sozialräume darüber ergeben zusammen {_fmt(got)}. Bitte prüfen, "
                        "ob Sozialräume fehlen oder doppelt sind.", plan.sheet, V.cell_address(int(absolute[t_idx[i]]), spec.col),
                        spec.header, _fmt(val)))


def _truthy(raw: np.ndarray) -> np.ndarray:
    codes, uniq = pd.factorize(raw)
    flags = [normalize(V.cell_text(u)) in _TRUE or V.cell_text(u).strip() in ("*", "•") for u in uniq]
    return np.array(flags + [False], dtype=bool)[np.where(codes < 0, len(uniq), codes)]


def _concat(blocks: list[dict]) -> dict:
    if len(blocks) == 1:
        return blocks[0]
    return {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}


def _is_total(text: str) -> bool:
    k = normalize(text)
    if not k:
        return False
    return k in _TOTAL_WORDS or k.startswith("summe") or k.endswith("gesamt") or k.endswith("insgesamt") or k.startswith("gesamt")


# ------------------------------------------------------------------------------------------------
# validation


class _Emitter:
    """Turns masks over the records into findings with sheet, cell, column and value (capped per rule)."""

    def __init__(self, fa: FileAnalysis, recs: dict):
        self.fa = fa
        self.recs = recs
        self.headers = fa.headers

    def header(self, sheet: str, c: int) -> str:
        return self.headers.get(sheet, {}).get(int(c), "") if c >= 0 else ""

    def row(self, i: int) -> dict:
        return {k: v[i] for k, v in self.recs.items()}

    def emit(self, mask: np.ndarray, level: str, rule: str, col_field: str, raw_field: str | None, message) -> int:
        idx = np.flatnonzero(mask)
        for i in idx[:MAX_PER_RULE]:
            r = self.row(i)
            c = int(r[col_field]) if col_field else -1
            cell = V.cell_address(int(r["row0"]), c) if c >= 0 else f"Zeile {int(r['row0']) + 1}"
            raw = V.cell_text(r[raw_field]) if raw_field else ""
            self.fa.findings.append(Finding(level, rule, message(r, i), r["sheet"], cell, self.header(r["sheet"], c), raw))
        if len(idx) > MAX_PER_RULE:
            self.fa.findings.append(Finding(level, rule, f"… und {len(idx) - MAX_PER_RULE} weitere Fälle dieser Art "
                                            "(nicht einzeln aufgeführt; bitte die Ursache oben beheben)."))
        return len(idx)


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    from quartier import format as fmt

    return fmt.integer(x) if float(x).is_integer() else f"{x:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".").rstrip("0").rstrip(",")


def _match_codes(matcher: Matcher, art: str, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, list, list]:
    """Factorise raw names once; return (codes, ids per unique, uniques, ids per row)."""
    codes, uniq = pd.factorize(raw)
    ids_u = np.array([matcher.match(art, V.cell_text(u)) for u in uniq] + [None], dtype=object)
    return codes, ids_u, list(uniq), ids_u[codes]


def _validate(fa: FileAnalysis, recs: dict, matcher: Matcher) -> None:
    em = _Emitter(fa, recs)
    # --- matching (per distinct spelling: one finding with the first cell and the count)
    sr_codes, sr_ids_u, sr_uniq, sr_ids = _match_codes(matcher, "sozialraum", recs["sr_raw"])
    ind_codes, ind_ids_u, ind_uniq, ind_ids = _match_codes(matcher, "indikator", recs["ind_raw"])
    for art, codes, ids_u, uniq, col_field, label in (
            ("sozialraum", sr_codes, sr_ids_u, sr_uniq, "sr_col", "Sozialraum"),
            ("indikator", ind_codes, ind_ids_u, ind_uniq, "ind_col", "Indikator")):
        bad_u = [k for k in range(len(uniq) + 1) if ids_u[k] is None]
        if not bad_u:
            continue
        counts = np.bincount(np.where(codes < 0, len(uniq), codes), minlength=len(uniq) + 1)
        for k in bad_u:
            if counts[k] == 0:
                continue
            i = int(np.flatnonzero(np.where(codes < 0, len(uniq), codes) == k)[0])
            r = em.row(i)
            text = V.cell_text(uniq[k]) if k < len(uniq) else ""
            c = int(r[col_field])
            cell = V.cell_address(int(r["row0"]), c) if c >= 0 else ""
            sug = matcher.suggest(art, text) if text else None
            if not text:
                msg = f"{label} fehlt ({counts[k]} Zeile(n)). Bitte ausfüllen."
            elif sug:
                msg = (f"{label} „{text}“ ist unbekannt ({counts[k]} Zeile(n)). Meinten Sie „{matcher.label(art, sug)}“ ({sug})? "
                       "Vorschlag übernehmen oder den Namen in der Datei korrigieren.")
                fa.suggestions.append({"art": art, "text": text, "ziel_id": sug, "ziel": matcher.label(art, sug)})
            else:
                msg = (f"{label} „{text}“ ist unbekannt ({counts[k]} Zeile(n)). Bitte Nummer oder Namen wie in der Vorlage "
                       "verwenden oder den Namen im Katalog als Alias eintragen.")
            fa.findings.append(Finding(ERROR, f"unbekannt_{art}", msg, r["sheet"], cell, em.header(r["sheet"], c), text))
    # --- numbers
    w, w_st = V.parse_numbers(recs["wert_raw"], recs["wert_kind"])
    z, z_st = V.parse_numbers(recs["zaehler_raw"], recs["zaehler_kind"])
    d, d_st = V.parse_numbers(recs["nenner_raw"], recs["nenner_kind"])
    y, y_st = V.parse_numbers(recs["jahr_raw"])
    for st, name in ((w_st, "wert"), (z_st, "zaehler"), (d_st, "nenner")):
        em.emit(st == V.INVALID, ERROR, "keine_zahl", f"{name}_col", f"{name}_raw",
                lambda r, i, name=name: f"„{V.cell_text(r[name + '_raw'])}“ ist keine Zahl. Bitte eine Zahl (z. B. 12,5 oder "
                "1.234) oder ein Zeichen für gesperrte Werte (*, •, .) eintragen.")
    next_year = dt.date.today().year + 1
    with np.errstate(invalid="ignore"):
        bad_year = (y_st != V.OK) | (y != np.round(y)) | (y < MIN_YEAR) | (y > next_year)
    em.emit(bad_year, ERROR, "jahr", "jahr_col", "jahr_raw",
            lambda r, i: f"Jahr „{V.cell_text(r['jahr_raw'])}“ ist ungültig: erlaubt sind {MIN_YEAR} bis {next_year}. "
            "Bitte das Berichtsjahr prüfen.")
    gesperrt = (w_st == V.SUPPRESSED) | (z_st == V.SUPPRESSED) | ((w_st != V.OK) & (d_st == V.SUPPRESSED))
    gesperrt = gesperrt | recs["gesperrt_flag"]  # a Sperrvermerk column (1/ja/x/*), e.g. from `export values`
    # per-indicator attributes looked up once per distinct spelling, then spread by code
    codes = np.where(ind_codes < 0, len(ind_uniq), ind_codes)

    def attr(fn, dtype):
        return np.array([fn(i) for i in ind_ids_u], dtype=dtype)[codes]

    unit_u = [(matcher.units.get(i) or "") if isinstance(i, str) else "" for i in ind_ids_u]
    units = np.array(unit_u, dtype=object)[codes]
    factor = np.array([rate_factor(u) for u in unit_u], dtype=float)[codes]
    is_count = np.array([u.strip().lower() == "anzahl" for u in unit_u], dtype=bool)[codes]
    lo = attr(lambda i: _bound(matcher, i, "min_wert", -np.inf), float)
    hi = attr(lambda i: _bound(matcher, i, "max_wert", np.inf), float)
    # count indicators: a value given only as "Anzahl" is the value
    z_only = is_count & (w_st != V.OK) & (z_st == V.OK)
    if z_only.any():
        w = np.where(z_only, z, w)
        z = np.where(z_only, np.nan, z)
        w_st = np.where(z_only, V.OK, w_st)
        z_st = np.where(z_only, V.EMPTY, z_st)
    with np.errstate(invalid="ignore", divide="ignore"):
        # a value derived from numerator/denominator when only those were delivered
        derive = ~is_count & (w_st != V.OK) & ~gesperrt & (z_st == V.OK) & (d_st == V.OK) & (d > 0)
        if derive.any():
            w = np.where(derive, z / np.where(d > 0, d, 1) * factor, w)
            fa.findings.append(Finding(INFO, "wert_berechnet", f"{int(derive.sum())} Wert(e) aus Zähler und Nenner berechnet, "
                                       "weil die Wertespalte leer war."))
        # --- plausibility
        z_ok, d_ok, w_ok = z_st == V.OK, d_st == V.OK, w_st == V.OK
        em.emit(z_ok & d_ok & (z > d), ERROR, "zaehler_groesser_nenner", "zaehler_col", "zaehler_raw",
                lambda r, i: f"Der Zähler {_fmt(z[i])} ist größer als der Nenner {_fmt(d[i])}. Bitte Zähler und Nenner prüfen "
                "(vertauscht?).")
        em.emit(z_ok & (z < 0), ERROR, "negative_anzahl", "zaehler_col", "zaehler_raw",
                lambda r, i: f"Negative Anzahl {_fmt(z[i])}: Anzahlen können nicht negativ sein. Bitte korrigieren.")
        em.emit(d_ok & (d < 0), ERROR, "negative_anzahl", "nenner_col", "nenner_raw",
                lambda r, i: f"Negative Anzahl {_fmt(d[i])}: Anzahlen können nicht negativ sein. Bitte korrigieren.")
        em.emit(is_count & w_ok & (w < 0), ERROR, "negative_anzahl", "wert_col", "wert_raw",
                lambda r, i: f"Negative Anzahl {_fmt(w[i])}: Anzahlen können nicht negativ sein. Bitte korrigieren.")
        out_of_range = ~np.isnan(w) & ((w < lo) | (w > hi)) & ~(is_count & (w < 0))
        em.emit(out_of_range, ERROR, "unplausibel", "wert_col", "wert_raw",
                lambda r, i: f"Der Wert {_fmt(w[i])} liegt außerhalb des plausiblen Bereichs {_fmt(lo[i])} bis {_fmt(hi[i])} "
                f"({units[i]}) für „{matcher.label('indikator', ind_ids[i])}“. Bitte prüfen (Anteil 0,125 statt 12,5 %?).")
        both = ~is_count & w_ok & z_ok & d_ok & (d > 0)
        calc = np.where(both, z / np.where(d > 0, d, 1) * factor, np.nan)
        contra = both & (np.abs(calc - w) > CONTRADICTION_TOLERANCE)
    em.emit(contra, ERROR, "widerspruch_zaehler_nenner", "wert_col", "wert_raw",
            lambda r, i: f"Der Wert {_fmt(w[i])} passt nicht zu Zähler {_fmt(z[i])} und Nenner {_fmt(d[i])} "
            f"(ergibt {_fmt(round(calc[i], 2))}). Bitte Wert, Zähler und Nenner prüfen.")
    # --- the values as they would be stored
    wert = np.where(gesperrt & ~w_ok, np.nan, w)
    zaehler = np.where(z_ok, z, np.nan)
    nenner = np.where(d_ok, d, np.nan)
    invalid = (w_st == V.INVALID) | (z_st == V.INVALID) | (d_st == V.INVALID)
    nothing = ~gesperrt & np.isnan(wert) & np.isnan(zaehler) & np.isnan(nenner) & ~invalid
    if nothing.any():
        fa.findings.append(Finding(INFO, "ohne_wert", f"{int(nothing.sum())} Zelle(n) mit „–“ oder „x“ (nichts vorhanden / "
                                   "nicht sinnvoll): dafür wird kein Wert gespeichert."))
    valid = ~pd.isna(sr_ids) & ~pd.isna(ind_ids) & ~bad_year & ~nothing
    # duplicates on integer keys: (indicator, Sozialraum, year)
    sr_num = _id_numbers(sr_ids_u)[np.where(sr_codes < 0, len(sr_uniq), sr_codes)]
    ind_num = _id_numbers(ind_ids_u)[codes]
    year_i = np.where(bad_year, 0, np.nan_to_num(y, nan=0)).astype(np.int64)
    key = (ind_num * (len(sr_ids_u) + 1) + sr_num) * 4000 + year_i
    vidx = np.flatnonzero(valid)
    order = vidx[np.argsort(key[vidx], kind="stable")]
    ks = key[order]
    dup_later = order[1:][ks[1:] == ks[:-1]] if len(order) > 1 else np.zeros(0, dtype=np.int64)
    if len(dup_later):
        first_of = {}
        for a, b in zip(order[:-1][ks[1:] == ks[:-1]], dup_later):
            first_of.setdefault(int(b), first_of.get(int(a), int(a)))
        for n_found, i in enumerate(sorted(first_of)):
            if n_found >= MAX_PER_RULE:
                break
            r, f0 = em.row(i), em.row(first_of[i])
            c = int(r["wert_col"])
            cell = V.cell_address(int(r["row0"]), c) if c >= 0 else f"Zeile {int(r['row0']) + 1}"
            c0 = int(f0["wert_col"])
            cell0 = V.cell_address(int(f0["row0"]), c0) if c0 >= 0 else f"Zeile {int(f0['row0']) + 1}"
            fa.findings.append(Finding(ERROR, "doppelt", f"Sozialraum {sr_ids[i]}, Indikator „{matcher.label('indikator', ind_ids[i])}“, "
                                       f"Jahr {year_i[i]} kommt doppelt vor (zuerst in Blatt „{f0['sheet']}“, Zelle {cell0}). "
                                       "Bitte eine der Zeilen löschen.", r["sheet"], cell, em.header(r["sheet"], c), _fmt(wert[i])))
        valid[dup_later] = False
    keep = np.flatnonzero(valid)
    fa.values = pd.DataFrame({
        "indikator_id": pd.Series(ind_ids[keep], dtype=object), "sozialraum_id": pd.Series(sr_ids[keep], dtype=object),
        "jahr": year_i[keep],
        "wert": wert[keep], "zaehler": zaehler[keep], "nenner": nenner[keep], "gesperrt": gesperrt[keep],
        "sheet": pd.Series(recs["sheet"][keep], dtype=object), "row0": recs["row0"][keep], "wert_col": recs["wert_col"][keep],
    })


def _id_numbers(ids_u: np.ndarray) -> np.ndarray:
    """A small integer per distinct id (None -> -1), aligned with ``ids_u``."""
    num: dict = {}
    return np.array([num.setdefault(i, len(num)) if i is not None else -1 for i in ids_u], dtype=np.int64)


def _bound(matcher: Matcher, iid, key: str, default: float) -> float:
    rec = matcher.indicators.get(iid) if isinstance(iid, str) else None
    v = rec.get(key) if rec else None
    return default if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)


# ------------------------------------------------------------------------------------------------
# comparison with the current values and the warnings that need it (in DuckDB)

_OLD_SQL = (
    "SELECT a.wert, a.zaehler, a.nenner, a.gesperrt, a.lieferung_id FROM _imp_vals i LEFT JOIN messwert_aktuell a"
    " ON a.indikator_id = i.indikator_id AND a.sozialraum_id = i.sozialraum_id AND a.jahr = i.jahr ORDER BY i.pos"
)
_HIST_SQL = (
    "SELECT a.indikator_id, a.sozialraum_id, a.jahr, a.wert FROM messwert_aktuell a"
    " WHERE a.wert IS NOT NULL AND a.indikator_id IN (SELECT DISTINCT indikator_id FROM _imp_vals)"
)


def _jumps(v: pd.DataFrame, hist: dict, count_ids: set) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions in ``v`` whose change against the previous year exceeds the usual spread of the indicator.

    The usual spread is the standard deviation of year-on-year changes of that indicator over all
    Sozialräume in the values already stored (or, with fewer than 20 such changes, including this delivery);
    counts (unit "Anzahl") are compared as relative changes. Returns (positions, previous, limit, relative).
    """
    nv = len(v)
    ind = np.concatenate([v["indikator_id"].to_numpy(object), np.asarray(hist["indikator_id"], dtype=object)])
    sr = np.concatenate([v["sozialraum_id"].to_numpy(object), np.asarray(hist["sozialraum_id"], dtype=object)])
    year = np.concatenate([v["jahr"].to_numpy(np.int64), np.asarray(hist["jahr"], dtype=np.int64)])
    w = np.concatenate([v["wert"].to_numpy(float), np.asarray(hist["wert"], dtype=float)])
    pos = np.concatenate([np.arange(nv), np.full(len(year) - nv, -1)])
    ok = ~np.isnan(w)
    ind, sr, year, w, pos = ind[ok], sr[ok], year[ok], w[ok], pos[ok]
    if len(w) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)
    ic, iu = pd.factorize(ind)
    sc, _ = pd.factorize(sr)
    key = (ic.astype(np.int64) * (int(sc.max()) + 1) + sc) * 4000 + year
    order = np.lexsort((pos < 0, key))            # per key the delivered value first
    ks = key[order]
    sel = order[np.r_[True, ks[1:] != ks[:-1]]]   # sorted by indicator, Sozialraum, year
    pair, yr, w, pos, ic = key[sel] // 4000, key[sel] % 4000, w[sel], pos[sel], ic[sel]
    consecutive = np.r_[False, (pair[1:] == pair[:-1]) & (yr[1:] - yr[:-1] == 1)]
    prev = np.r_[np.nan, w[:-1]]
    rel = np.array([i in count_ids for i in iu], dtype=bool)[ic]
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.where(consecutive, np.where(rel, (w - prev) / np.abs(prev), w - prev), np.nan)
    diff[~np.isfinite(diff)] = np.nan
    k = len(iu)
    have = ~np.isnan(diff)

    def spread(mask):
        cnt = np.bincount(ic[mask], minlength=k).astype(float)
        s1 = np.bincount(ic[mask], weights=diff[mask], minlength=k)
        s2 = np.bincount(ic[mask], weights=diff[mask] ** 2, minlength=k)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = (s2 - s1 ** 2 / cnt) / (cnt - 1)
        return cnt, np.sqrt(np.clip(np.nan_to_num(var, nan=0.0), 0, None))

    old_cnt, old_sd = spread(have & (pos < 0) & np.r_[False, pos[:-1] < 0])
    _, all_sd = spread(have)
    sd = np.where(old_cnt >= 20, old_sd, all_sd)
    lim = JUMP_SPREADS * sd[ic]
    with np.errstate(invalid="ignore"):
        jump = (pos >= 0) & have & (lim > 0) & (np.abs(diff) > lim)
    return pos[jump], prev[jump], lim[jump], rel[jump]


def _missing(v: pd.DataFrame, areas: list[str]) -> list[tuple[str, int, list[str]]]:
    """(indicator, year, missing Sozialräume) for every indicator and year with fewer areas than the city has."""
    if not areas or v.empty:
        return []
    ic, iu = pd.factorize(v["indikator_id"].to_numpy(object))
    key = ic.astype(np.int64) * 4000 + v["jahr"].to_numpy(np.int64)
    uk, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
    short = np.flatnonzero(cnt < len(areas))
    if not len(short):
        return []
    sr = v["sozialraum_id"].to_numpy(object)
    order = np.argsort(inv, kind="stable")
    starts = np.r_[0, np.cumsum(cnt)[:-1]]
    out = []
    for g in short[:MAX_PER_RULE + 1]:
        have = set(sr[order[starts[g]:starts[g] + cnt[g]]])
        out.append((iu[uk[g] // 4000], int(uk[g] % 4000), [a for a in areas if a not in have]))
    return out


def compare(con, fa: FileAnalysis) -> None:
    """Mark each value new / changed / unchanged against the current values; add the warnings."""
    v = fa.values
    if v.empty:
        return
    reg = v[VALUE_COLUMNS].assign(pos=np.arange(len(v), dtype=np.int64))
    cur = con.cursor()
    try:
        cur.register("_imp_vals", reg)
        old = cur.execute(_OLD_SQL).fetchnumpy()
        hist = cur.execute(_HIST_SQL).fetchnumpy()
        areas = [r[0] for r in cur.execute("SELECT id FROM sozialraum ORDER BY id").fetchall()]
        fa.state = delivery_state(cur)
        cur.unregister("_imp_vals")
    finally:
        cur.close()
    alt = {k: np.asarray(pd.array(old[c], dtype="Float64").to_numpy(dtype=float, na_value=np.nan))
           for k, c in (("alt_wert", "wert"), ("alt_zaehler", "zaehler"), ("alt_nenner", "nenner"), ("alt_lieferung", "lieferung_id"))}
    alt_g = np.asarray(pd.array(old["gesperrt"], dtype="boolean").fillna(False), dtype=bool)
    exists = ~np.isnan(alt["alt_lieferung"])
    same = (_same(v["wert"].to_numpy(float), alt["alt_wert"]) & _same(v["zaehler"].to_numpy(float), alt["alt_zaehler"])
            & _same(v["nenner"].to_numpy(float), alt["alt_nenner"]) & (v["gesperrt"].to_numpy(bool) == alt_g))
    for k, arr in alt.items():
        v[k] = arr
    v["alt_gesperrt"] = alt_g
    v["status"] = pd.Categorical.from_codes(np.where(~exists, 0, np.where(same, 2, 1)), categories=["neu", "geaendert", "unveraendert"])
    n_new, n_same = int((~exists).sum()), int((exists & same).sum())
    fa.row_counts = {"new": n_new, "changed": len(v) - n_new - n_same, "unchanged": n_same,
                     "suppressed": int(v["gesperrt"].to_numpy(bool).sum())}
    matcher = fa.matcher

    def label(i):
        return matcher.label("indikator", i) if matcher else str(i)

    recs = {k: v[k].to_numpy() for k in ("sheet", "row0", "wert_col", "indikator_id", "sozialraum_id", "jahr", "wert",
                                         "alt_wert", "alt_lieferung")}
    em = _Emitter(fa, recs)
    em.emit((v["status"] == "geaendert").to_numpy(), WARNING, "aenderung", "wert_col", None,
            lambda r, i: f"Ändert einen bereits gelieferten Wert ({label(r['indikator_id'])}, {r['sozialraum_id']}, {r['jahr']}): "
            f"{_fmt(r['alt_wert'])} → {_fmt(r['wert'])} (bisher aus Lieferung #{int(r['alt_lieferung'])}). Bitte bestätigen, "
            "dass die Korrektur gewollt ist.")
    count_ids = {i for i, u in (matcher.units.items() if matcher else []) if (u or "").strip().lower() == "anzahl"}
    pos, prev, lim, rel = _jumps(v, hist, count_ids)
    if len(pos):
        info = {int(p): (float(pv), float(li), bool(re)) for p, pv, li, re in zip(pos, prev, lim, rel)}
        mask = np.zeros(len(v), dtype=bool)
        mask[pos] = True
        em.emit(mask, WARNING, "sprung_vorjahr", "wert_col", None,
                lambda r, i: f"Großer Sprung ggü. dem Vorjahr ({label(r['indikator_id'])}, {r['sozialraum_id']}, {r['jahr']}): "
                f"{_fmt(info[i][0])} → {_fmt(r['wert'])}; üblich sind Änderungen bis etwa ±{_limit_text(info[i][1], info[i][2])}. "
                "Bitte prüfen.")
    n_areas = len(areas)
    missing = _missing(v, areas)
    for k, (iid, year, fehlend) in enumerate(missing):
        if k >= MAX_PER_RULE:
            fa.findings.append(Finding(WARNING, "sozialraeume_fehlen", "… und weitere "
                                       "Indikator-Jahr-Kombinationen mit fehlenden Sozialräumen."))
            break
        shown = ", ".join(fehlend[:8]) + (" …" if len(fehlend) > 8 else "")
        fa.findings.append(Finding(WARNING, "sozialraeume_fehlen", f"Für „{label(iid)}“ {year} fehlen {len(fehlend)} von "
                                   f"{n_areas} Sozialräumen: {shown}. Bitte prüfen, ob die Lieferung vollständig ist."))


def delivery_state(cur) -> tuple:
    """Changes whenever a delivery is added or withdrawn: a diff computed under the same state is still valid."""
    return tuple(cur.execute("SELECT count(*), coalesce(max(id), 0), count(*) FILTER (WHERE status = 'aktiv') "
                             "FROM lieferung").fetchall()[0])


def _limit_text(limit: float, relative: bool) -> str:
    return f"{limit * 100:.1f} %".replace(".", ",") if relative else _fmt(round(float(limit), 1))


def _same(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= 1e-9 * np.maximum(1, np.abs(x)))


@contextmanager
def _gc_paused():
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


def analyse_and_compare(con, data: bytes, filename: str, **kw) -> FileAnalysis:
    with _gc_paused():
        fa = analyse(con, data, filename, **kw)
        compare(con, fa)
    return fa


__all__ = ["ERROR", "INFO", "WARNING", "FileAnalysis", "Finding", "analyse", "analyse_and_compare", "compare"]
